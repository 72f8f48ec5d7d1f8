//! Holding up under overload, against the real server over real sockets, with work made heavy
//! by data (a SYNTHETIC 30,000-supplier registry generated here; a Match with 50 options per
//! requirement costs ~0.1 s in a debug build), never by sleeps in the server:
//!
//! - admission refuses beyond threads + queue with RESOURCE_EXHAUSTED, a RetryInfo detail and
//!   the gRPC pushback trailer, and counts the refusals;
//! - a queued call whose deadline passes is never run (`engine_dropped_total{reason=
//!   "deadline_passed"}`), and neither is one whose caller went away (`caller_gone`);
//! - health answers within a bound while the pool is saturated;
//! - a drill does not starve Match: Matches are answered while the drill is still running;
//! - `/metrics`, scraped over HTTP, is valid Prometheus text by an independent strict parser
//!   (the crate that writes it is not the one that reads it), with the counts the calls made.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use equipmatch::catalog::{Catalog, CatalogSources, SourceFile};
use equipmatch::exec::EngineConfig;
use equipmatch::grpc::client::{DrillServiceClient, MatchServiceClient};
use equipmatch::grpc::{pb, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic_types::StatusExt;

use crate::support::{temp_sqlite_store, TestServer};

/// Suppliers of the generated registry: enough that a 50-option Match is heavy in a debug
/// build, few enough that generating and loading it takes seconds, once per test binary.
const HEAVY_SUPPLIERS: usize = 30_000;
/// The longest any wait in these tests may take before the test fails.
const WAIT_MAX: Duration = Duration::from_secs(120);

/// The SYNTHETIC registry, generated once for the binary.
fn heavy_catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let base = Catalog::load(&CatalogSources {
                registry_files: equipmatch::catalog::empty_registry(),
                ..CatalogSources::embedded()
            })
            .expect("the embedded scenarios load");
            let params = equipmatch::generator::Params {
                suppliers: HEAVY_SUPPLIERS,
                seed: 9,
                lines_per_supplier: 10,
            };
            let (mut suppliers, mut stock) = (Vec::new(), Vec::new());
            equipmatch::generator::generate(&base, &params, &mut suppliers, &mut stock)
                .expect("generates");
            let mut sources = CatalogSources::embedded();
            sources.registry_files = vec![
                SourceFile {
                    name: equipmatch::catalog::SUPPLIERS_FILE.into(),
                    text: String::from_utf8(suppliers).expect("utf-8").into(),
                },
                SourceFile {
                    name: equipmatch::catalog::STOCK_LINES_FILE.into(),
                    text: String::from_utf8(stock).expect("utf-8").into(),
                },
            ];
            Arc::new(Catalog::load(&sources).expect("the generated registry loads"))
        })
        .clone()
}

/// A heavy Match: the earthquake scenario's 26 requirements at severity I, 50 options each.
fn heavy_match() -> pb::MatchRequest {
    pb::MatchRequest {
        scenario_id: "earthquake".into(),
        severity: pb::Severity::I as i32,
        location: Some(pb::LatLng { latitude: 39.63, longitude: 118.18 }),
        affected_population: 2_000_000,
        affected_area_km2: Some(2000.0),
        options_per_requirement: 50,
        ..Default::default()
    }
}

/// The heavy catalog on a server with one dispatch thread, the given queue, and metrics.
async fn heavy_server(queue_max: usize) -> TestServer {
    let catalog = heavy_catalog();
    let (store, dir) = temp_sqlite_store(catalog.clone(), equipmatch::holds::system_clock());
    let options = ServerOptions {
        engine: EngineConfig { threads: 1, queue_max, drill_threads: 1, ..EngineConfig::default() },
        metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
        ..ServerOptions::default()
    };
    TestServer::start_with_options(catalog, store, Some(dir), options).await
}

fn matching(server: &TestServer) -> MatchServiceClient<tonic::transport::Channel> {
    server.matching().max_decoding_message_size(64 * 1024 * 1024)
}

// ---- /metrics: an HTTP GET by hand, and a strict parser of the text format ----

/// One HTTP/1.1 GET over a fresh TCP connection: (status, content type, body).
async fn http_get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("metrics port accepts");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request sent");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("response read");
    let raw = String::from_utf8(raw).expect("the response is UTF-8");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a header block");
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let mut content_type = String::new();
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header line");
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = value.trim().to_owned(),
            "content-length" => length = value.trim().parse::<usize>().ok(),
            _ => {}
        }
    }
    assert_eq!(Some(body.len()), length, "the body is as long as Content-Length says");
    (status, content_type, body.to_owned())
}

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the Prometheus text exposition format (version 0.0.4) strictly: every line is a
/// `# HELP`, a `# TYPE` or a sample; names and label names are valid; label values are quoted
/// with only `\\`, `\"` and `\n` escapes; every sample belongs to a family typed before it;
/// a family is typed once; histograms have increasing `le`, non-decreasing counts and a
/// `+Inf` bucket equal to `_count`. Panics with the offending line otherwise.
fn parse_exposition(text: &str) -> Vec<Sample> {
    fn valid_name(name: &str, colon: bool) -> bool {
        let mut chars = name.chars();
        let first_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
        chars.next().is_some_and(first_ok)
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
    }
    fn value(text: &str) -> Option<f64> {
        match text {
            "+Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            "NaN" => Some(f64::NAN),
            _ => text.parse().ok(),
        }
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (keyword, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            assert!(valid_name(name, true), "bad metric name in {line:?}");
            match keyword {
                "HELP" => {}
                "TYPE" => {
                    let kind = parts.next().unwrap_or("");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "bad type in {line:?}"
                    );
                    assert!(
                        types.insert(name.to_owned(), kind.to_owned()).is_none(),
                        "typed twice: {line:?}"
                    );
                }
                _ => panic!("unknown comment keyword in {line:?}"),
            }
            continue;
        }
        assert!(!line.is_empty() && !line.starts_with('#'), "stray line {line:?}");
        let name_end = line.find(['{', ' ']).expect("a sample has a value");
        let name = &line[..name_end];
        assert!(valid_name(name, true), "bad sample name in {line:?}");
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices().peekable();
            let end = loop {
                let (start, c) = *chars.peek().expect("unterminated label set");
                if c == '}' {
                    break start;
                }
                let eq = inner[start..].find('=').expect("label = value") + start;
                let label = &inner[start..eq];
                assert!(valid_name(label, false), "bad label name {label:?} in {line:?}");
                assert_eq!(inner.as_bytes().get(eq + 1), Some(&b'"'), "unquoted value in {line:?}");
                let mut value = String::new();
                let mut at = eq + 2;
                loop {
                    let c = inner[at..].chars().next().expect("unterminated label value");
                    at += c.len_utf8();
                    match c {
                        '"' => break,
                        '\\' => {
                            let escaped = inner[at..].chars().next().expect("escape");
                            at += escaped.len_utf8();
                            value.push(match escaped {
                                '\\' => '\\',
                                '"' => '"',
                                'n' => '\n',
                                other => panic!("bad escape \\{other} in {line:?}"),
                            });
                        }
                        '\n' => panic!("raw newline in a label value"),
                        c => value.push(c),
                    }
                }
                assert!(
                    labels.insert(label.to_owned(), value).is_none(),
                    "label twice in {line:?}"
                );
                while chars.peek().is_some_and(|(i, _)| *i < at) {
                    chars.next();
                }
                match chars.peek() {
                    Some((_, ',')) => {
                        chars.next();
                    }
                    Some((_, '}')) => {}
                    _ => panic!("expected , or }} in {line:?}"),
                }
            };
            rest = &inner[end + 1..];
        }
        let mut fields = rest.strip_prefix(' ').expect("a space before the value").split(' ');
        let value =
            value(fields.next().unwrap_or("")).unwrap_or_else(|| panic!("bad value in {line:?}"));
        if let Some(timestamp) = fields.next() {
            timestamp.parse::<i64>().unwrap_or_else(|_| panic!("bad timestamp in {line:?}"));
        }
        assert!(fields.next().is_none(), "trailing fields in {line:?}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample before its TYPE: {line:?}");
        samples.push(Sample { name: name.to_owned(), labels, value });
    }
    // Histogram consistency, per series (labels without `le`).
    for (family, kind) in &types {
        if kind != "histogram" {
            continue;
        }
        // (labels but `le`) → [(le, cumulative count)]
        type Buckets = Vec<(f64, f64)>;
        let mut series: BTreeMap<Vec<(String, String)>, Buckets> = BTreeMap::new();
        for sample in samples.iter().filter(|s| s.name == format!("{family}_bucket")) {
            let le =
                value(sample.labels.get("le").expect("a bucket has le")).expect("le is a number");
            let key: Vec<_> = sample
                .labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            series.entry(key).or_default().push((le, sample.value));
        }
        for (key, buckets) in series {
            assert!(
                buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{family} buckets {key:?}"
            );
            assert_eq!(buckets.last().map(|b| b.0), Some(f64::INFINITY), "{family} has +Inf");
            let count = samples
                .iter()
                .find(|s| {
                    s.name == format!("{family}_count")
                        && s.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>()
                            == key
                })
                .expect("a _count per series");
            assert_eq!(buckets.last().map(|b| b.1), Some(count.value), "{family} +Inf = _count");
        }
    }
    samples
}

/// The value of the one sample with this name and these labels (0 when absent).
fn metric(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(found.len() <= 1, "{name}{labels:?} matches {} series", found.len());
    found.first().map_or(0.0, |s| s.value)
}

async fn scrape(server: &TestServer) -> Vec<Sample> {
    let addr = server.metrics_addr().expect("the server serves metrics");
    let (status, _, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, 200);
    parse_exposition(&body)
}

/// Scrapes until `condition` holds (bounded by `WAIT_MAX`).
async fn wait_for(
    server: &TestServer,
    what: &str,
    condition: impl Fn(&[Sample]) -> bool,
) -> Vec<Sample> {
    let give_up = Instant::now() + WAIT_MAX;
    loop {
        let samples = scrape(server).await;
        if condition(&samples) {
            return samples;
        }
        assert!(Instant::now() < give_up, "waited {WAIT_MAX:?} for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn dispatch(samples: &[Sample], name: &str) -> f64 {
    metric(samples, name, &[("lane", "dispatch")])
}

// ---- the properties ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_refuses_beyond_the_bound_with_resource_exhausted_and_retry_info() {
    let server = heavy_server(2).await;
    // Twelve heavy calls at once against one thread and a queue of two: at most three are
    // in the engine at any moment, the others are refused at once.
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let mut client = matching(&server);
            tokio::spawn(async move {
                let started = Instant::now();
                (client.r#match(heavy_match()).await, started.elapsed())
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for call in calls {
        let (result, _) = call.await.expect("the call task");
        match result {
            Ok(_) => ok += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert!(
                    status.message().contains("3 dispatch jobs are queued or running"),
                    "{}",
                    status.message()
                );
                let retry = status.get_details_retry_info().expect("a RetryInfo detail");
                assert!(
                    retry.retry_delay.is_some_and(|d| d >= Duration::from_millis(10)),
                    "{retry:?}"
                );
                let pushback =
                    status.metadata().get("grpc-retry-pushback-ms").expect("pushback trailer");
                assert!(pushback.to_str().unwrap().parse::<u64>().is_ok());
                refused += 1;
            }
        }
    }
    assert!(ok >= 3, "the engine's three places were used ({ok} answered)");
    assert!(refused >= 1, "twelve heavy calls against three places: some are refused");
    let samples = scrape(&server).await;
    let rejected = metric(
        &samples,
        "equipmatch_engine_rejected_total",
        &[("work", "Match"), ("reason", "queue_full")],
    );
    assert_eq!(rejected, f64::from(refused));
    let calls = |code| {
        metric(
            &samples,
            "equipmatch_grpc_calls_total",
            &[("service", "equipmatch.v1.MatchService"), ("method", "Match"), ("code", code)],
        )
    };
    assert_eq!(calls("RESOURCE_EXHAUSTED"), f64::from(refused));
    assert_eq!(calls("OK"), f64::from(ok));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_call_whose_deadline_passes_never_runs() {
    let server = heavy_server(8).await;
    // A fresh server has no estimate until its first call finishes, so a call with a short
    // deadline is admitted behind two heavy calls (one running, one queued) — and its deadline
    // passes while it waits. 40 ms: long enough for the server to see the call at all on a
    // loaded machine, far shorter than the heavy call queued ahead of it.
    let blockers: Vec<_> = (0..2)
        .map(|_| {
            let mut client = matching(&server);
            tokio::spawn(async move { client.r#match(heavy_match()).await })
        })
        .collect();
    wait_for(&server, "one blocker running, one queued", |s| {
        dispatch(s, "equipmatch_engine_running") == 1.0
            && dispatch(s, "equipmatch_engine_queue_depth") == 1.0
    })
    .await;
    let mut late = tonic::Request::new(heavy_match());
    late.set_timeout(Duration::from_millis(40));
    let status = matching(&server).r#match(late).await.expect_err("the deadline passes");
    assert!(matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded), "{status:?}");
    for blocker in blockers {
        blocker.await.expect("task").expect("the blocker is answered");
    }
    let dropped = |s: &[Sample]| {
        ["deadline_passed", "deadline_unreachable"]
            .iter()
            .map(|reason| {
                metric(
                    s,
                    "equipmatch_engine_dropped_total",
                    &[("work", "Match"), ("reason", reason)],
                )
            })
            .sum::<f64>()
    };
    let samples = wait_for(&server, "the late call to be dropped", |s| dropped(s) == 1.0).await;
    // Only the blockers ran; the late call was admitted and never started.
    assert_eq!(metric(&samples, "equipmatch_engine_completed_total", &[("work", "Match")]), 2.0);
    assert_eq!(metric(&samples, "equipmatch_engine_admitted_total", &[("work", "Match")]), 3.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_callers_queued_work_is_not_run() {
    let server = heavy_server(8).await;
    let mut client = matching(&server);
    let blocker = tokio::spawn(async move { client.r#match(heavy_match()).await });
    wait_for(&server, "the blocker to run", |s| dispatch(s, "equipmatch_engine_running") == 1.0)
        .await;
    // A call without a deadline queues behind it; then its caller gives up (the future is
    // dropped: the client resets the stream).
    let mut client = matching(&server);
    let queued = tokio::spawn(async move { client.r#match(heavy_match()).await });
    wait_for(&server, "the second call to queue", |s| {
        dispatch(s, "equipmatch_engine_queue_depth") == 1.0
    })
    .await;
    queued.abort();
    assert!(queued.await.expect_err("aborted").is_cancelled());
    blocker.await.expect("task").expect("the blocker is answered");
    let samples = wait_for(&server, "the abandoned call to be dropped", |s| {
        metric(
            s,
            "equipmatch_engine_dropped_total",
            &[("work", "Match"), ("reason", "caller_gone")],
        ) == 1.0
    })
    .await;
    assert_eq!(metric(&samples, "equipmatch_engine_completed_total", &[("work", "Match")]), 1.0);
    assert_eq!(dispatch(&samples, "equipmatch_engine_queue_depth"), 0.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_within_a_bound_while_the_pool_is_saturated() {
    /// Generous for a loaded 2-core machine in a debug build; with Match on the runtime's
    /// threads a check waited behind whole heavy Matches (~0.1 s each here, dozens queued).
    const HEALTH_P99_MAX: Duration = Duration::from_millis(250);
    let server = heavy_server(64).await;
    let stop_at = Instant::now() + Duration::from_secs(4);
    let callers: Vec<_> = (0..16)
        .map(|_| {
            let mut client = matching(&server);
            tokio::spawn(async move {
                let mut answered = 0u32;
                while Instant::now() < stop_at {
                    if client.r#match(heavy_match()).await.is_ok() {
                        answered += 1;
                    }
                }
                answered
            })
        })
        .collect();
    wait_for(&server, "the queue to fill", |s| dispatch(s, "equipmatch_engine_queue_depth") >= 8.0)
        .await;
    // The health checks run on their own connection, as a load balancer's would.
    let channel = equipmatch::grpc::client::connect(&server.url).await.expect("connects");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let mut latencies = Vec::new();
    while Instant::now() < stop_at {
        let started = Instant::now();
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .expect("health answers");
        latencies.push(started.elapsed());
        assert_eq!(answer.into_inner().status, 1, "SERVING");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let saturated = scrape(&server).await;
    let mut answered = 0;
    for caller in callers {
        answered += caller.await.expect("caller task");
    }
    latencies.sort();
    let p99 = latencies[(latencies.len() - 1) * 99 / 100];
    eprintln!("health under saturation: {} checks, p50 {:?}, p99 {p99:?}, max {:?}; {answered} Matches answered",
        latencies.len(), latencies[latencies.len() / 2], latencies.last().unwrap());
    assert!(latencies.len() >= 20, "health checks kept coming ({})", latencies.len());
    assert!(p99 <= HEALTH_P99_MAX, "health p99 {p99:?} under saturation");
    // Busy means a job running or one waiting: between two jobs `running` is 0 for an
    // instant, so it alone makes the check flaky (seen in CI on a loaded machine).
    let busy = dispatch(&saturated, "equipmatch_engine_running")
        + dispatch(&saturated, "equipmatch_engine_queue_depth");
    assert!(busy >= 1.0, "the pool was busy at the end of the health checks");
    assert!(answered >= 1);
    server.stop().await;
}

/// A generated drill: `incidents` earthquakes and floods over the cluster (MODEL data).
fn heavy_drill(incidents: usize) -> String {
    use std::fmt::Write as _;
    let mut text = String::from(
        "id = \"overload-test\"\nname = \"Overload test drill\"\nsummary = \"Test: keeps the drill lane busy.\"\n\
         source = \"MODEL: generated by the overload test\"\ngrade = \"MODEL\"\n",
    );
    let places =
        [(39.63, 118.18), (38.87, 115.47), (39.05, 115.90), (39.13, 117.19), (38.03, 114.47)];
    for i in 0..incidents {
        let (latitude, longitude) = places[i % places.len()];
        let scenario = ["earthquake", "flood", "urban-waterlogging"][i % 3];
        let _ = write!(
            text,
            "\n[[incident]]\nid = \"i{i:03}\"\nscenario = \"{scenario}\"\nstart_hours = {}\nlatitude = {latitude}\n\
             longitude = {longitude}\nseverity = \"I\"\naffected_population = 1000000\naffected_area_km2 = 500\n\
             source = \"MODEL: generated\"\ngrade = \"MODEL\"\n",
            (i * 5) % 48
        );
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_does_not_starve_match() {
    let server = heavy_server(8).await;
    let request = pb::RunDrillRequest {
        drill_toml: heavy_drill(6),
        file_name: "overload.toml".into(),
        policy: pb::DrillPolicy::Efficiency as i32,
    };
    let mut stream = DrillServiceClient::new(server.channel.clone())
        .run_drill(request)
        .await
        .expect("RunDrill starts")
        .into_inner();
    let first = stream.message().await.expect("stream").expect("a first event");
    assert!(matches!(first.event, Some(pb::run_drill_event::Event::Progress(_))), "progress first");
    // A second drill finds the drill lane (one thread) full: refused at once, with RetryInfo.
    let refused = DrillServiceClient::new(server.channel.clone())
        .run_drill(pb::RunDrillRequest {
            drill_toml: heavy_drill(2),
            file_name: "b.toml".into(),
            policy: 0,
        })
        .await
        .expect_err("the drill lane is full");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.get_details_retry_info().is_some());
    // Matches, one after another, while the drill runs on the lowest-priority lane.
    let mut client = matching(&server);
    for _ in 0..3 {
        client.r#match(heavy_match()).await.expect("Match is answered during the drill");
    }
    let matches_done = Instant::now();
    // The drill was still running: progress keeps coming after the last Match was answered.
    let mut progress_after = 0;
    let mut report = None;
    while let Some(event) = stream.message().await.expect("the drill stream ends cleanly") {
        match event.event.expect("event set") {
            pb::run_drill_event::Event::Progress(_) => progress_after += 1,
            pb::run_drill_event::Event::Report(r) => report = Some(r),
        }
    }
    let report = report.expect("the drill ends with its report");
    eprintln!(
        "drill: {progress_after} categories after the Matches, {:?} after them; {} categories",
        matches_done.elapsed(),
        report.totals.map_or(0, |t| t.categories)
    );
    assert!(progress_after >= 1, "the drill was still running when the Matches were answered");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_scraped_over_http_parse_as_prometheus_text() {
    let server = {
        let catalog = crate::support::embedded_catalog();
        let (store, dir) = temp_sqlite_store(catalog.clone(), equipmatch::holds::system_clock());
        let options = ServerOptions {
            metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
            ..ServerOptions::default()
        };
        TestServer::start_with_options(catalog, store, Some(dir), options).await
    };
    let mut client = server.matching();
    client.r#match(heavy_match()).await.expect("Match");
    let invalid = pb::MatchRequest { scenario_id: "earthquake".into(), ..Default::default() };
    assert_eq!(client.r#match(invalid).await.expect_err("invalid").code(), Code::InvalidArgument);
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel.clone());
    health.check(tonic_health::pb::HealthCheckRequest::default()).await.expect("health");
    // A hold, so the hold store commits.
    let catalog = crate::support::embedded_catalog();
    let line = catalog.stock_lines[0];
    server
        .holds()
        .place_hold(pb::PlaceHoldRequest {
            hold_id: "metrics-1".into(),
            incident_ref: "metrics".into(),
            lines: vec![pb::HoldLine {
                supplier_id: catalog.suppliers[line.supplier.0 as usize].id.to_string(),
                category_id: catalog
                    .category(catalog.line_category(equipmatch::domain::StockLineIdx(0)))
                    .id
                    .to_string(),
                quantity_units: 1,
            }],
            ttl_seconds: 60,
        })
        .await
        .expect("PlaceHold");

    let addr = server.metrics_addr().expect("metrics address");
    let (status, content_type, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let samples = parse_exposition(&body);
    let calls = |service, method, code| {
        metric(
            &samples,
            "equipmatch_grpc_calls_total",
            &[("service", service), ("method", method), ("code", code)],
        )
    };
    assert_eq!(calls("equipmatch.v1.MatchService", "Match", "OK"), 1.0);
    assert_eq!(calls("equipmatch.v1.MatchService", "Match", "INVALID_ARGUMENT"), 1.0);
    assert_eq!(calls("grpc.health.v1.Health", "Check", "OK"), 1.0);
    assert_eq!(calls("equipmatch.v1.HoldService", "PlaceHold", "OK"), 1.0);
    assert_eq!(
        metric(
            &samples,
            "equipmatch_grpc_call_duration_seconds_count",
            &[("service", "equipmatch.v1.MatchService"), ("method", "Match")]
        ),
        2.0
    );
    assert_eq!(metric(&samples, "equipmatch_engine_completed_total", &[("work", "Match")]), 1.0);
    assert!(
        metric(&samples, "equipmatch_engine_service_time_estimate_seconds", &[("work", "Match")])
            > 0.0
    );
    assert!(dispatch(&samples, "equipmatch_engine_busy_seconds_total") > 0.0);
    assert!(dispatch(&samples, "equipmatch_engine_threads") >= 1.0);
    assert!(metric(&samples, "equipmatch_hold_commit_duration_seconds_count", &[]) >= 1.0);
    assert!(metric(&samples, "equipmatch_hold_commit_batch_commands_count", &[]) >= 1.0);
    assert_eq!(
        metric(&samples, "equipmatch_catalog_info", &[("version", catalog.version.as_str())]),
        1.0
    );
    assert_eq!(
        metric(&samples, "equipmatch_catalog_items", &[("kind", "suppliers")]),
        catalog.counts().suppliers as f64
    );
    #[cfg(target_os = "linux")]
    assert!(metric(&samples, "process_resident_memory_bytes", &[]) > 0.0);
    // Made-up paths never become labels.
    assert!(samples
        .iter()
        .all(|s| s.labels.get("service").is_none_or(|v| v == "unknown" || v.contains('.'))));
    assert_eq!(http_get(addr, "/other").await.0, 404);
    server.stop().await;
}

#[test]
fn the_strict_parser_refuses_what_prometheus_would() {
    let good = "# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\"} 3\n";
    assert_eq!(parse_exposition(good)[0].labels["x"], "q\"\\");
    for bad in [
        "a_total 3\n",                        // no TYPE
        "# TYPE a counter\na{x=q} 1\n",       // unquoted
        "# TYPE a counter\na{x=\"1\"} one\n", // not a number
        "# TYPE a counter\na{1x=\"1\"} 1\n",  // bad label name
        "# TYPE a counter\na 1",              // no final newline
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n", // decreasing
    ] {
        assert!(std::panic::catch_unwind(|| parse_exposition(bad)).is_err(), "accepted {bad:?}");
    }
}
