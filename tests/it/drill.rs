//! DrillService against the real server: RunDrill streams one progress event per category and
//! then exactly one report, the same report the engine builds in process; a broken drill file
//! is INVALID_ARGUMENT with one field violation per problem, located by line.

use equipmatch::drill;
use equipmatch::grpc::client::DrillServiceClient;
use equipmatch::grpc::{drill_convert, pb};
use tonic_types::StatusExt;

use crate::support::{embedded_catalog, TestServer};

const SAMPLE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/drills/baoding-xiongan-rainstorm.toml");

#[tokio::test]
async fn run_drill_streams_progress_then_the_in_process_report() {
    let server = TestServer::start().await;
    let text = std::fs::read_to_string(SAMPLE).expect("sample drill");
    let request = pb::RunDrillRequest {
        drill_toml: text.clone(),
        file_name: "baoding.toml".into(),
        policy: pb::DrillPolicy::Equity as i32,
    };
    let mut stream = DrillServiceClient::new(server.channel.clone())
        .run_drill(request)
        .await
        .expect("RunDrill starts")
        .into_inner();
    let mut progress = Vec::new();
    let mut reports = Vec::new();
    while let Some(event) = stream.message().await.expect("stream") {
        match event.event.expect("event set") {
            pb::run_drill_event::Event::Progress(p) => {
                assert!(reports.is_empty(), "progress after the report");
                progress.push(p);
            }
            pb::run_drill_event::Event::Report(r) => reports.push(r),
        }
    }
    assert_eq!(reports.len(), 1);
    let total = progress.last().expect("progress events").categories_total;
    assert_eq!(progress.len() as u32, total);
    assert!(progress.windows(2).all(|w| w[0].categories_done + 1 == w[1].categories_done));

    let catalog = embedded_catalog();
    let drill = drill::parse(&catalog, "baoding.toml", &text).expect("parses");
    let expected =
        drill::run_report(&catalog, &drill, drill::Policy::Equity, &mut |_| {}, &|| false)
            .expect("never stopped")
            .expect("within the limits");
    let got = drill_convert::drill_report_from_pb(reports.pop().unwrap());
    assert_eq!(got, expected);
    assert_eq!(got.policy, "equity");
    server.stop().await;
}

#[tokio::test]
async fn a_broken_drill_file_is_invalid_argument_with_located_violations() {
    let server = TestServer::start().await;
    let text = std::fs::read_to_string(SAMPLE)
        .expect("sample drill")
        .replace("scenario = \"flood\"", "scenario = \"volcano\"");
    let request = pb::RunDrillRequest { drill_toml: text, file_name: "bad.toml".into(), policy: 0 };
    let status = DrillServiceClient::new(server.channel.clone())
        .run_drill(request)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let violations =
        status.get_details_bad_request().expect("bad request details").field_violations;
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations
        .iter()
        .all(|v| v.field == "drill_toml" && v.description.starts_with("bad.toml:")));

    let request =
        pb::RunDrillRequest { drill_toml: String::new(), file_name: String::new(), policy: 7 };
    let status = DrillServiceClient::new(server.channel.clone())
        .run_drill(request)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    server.stop().await;
}
