//! Standing resources and the drill sweep, end to end.
//!
//! Properties checked:
//! - a registry written before the `kind` and `crew_per_unit` columns loads, every holder a
//!   manufacturer with no crew, and the catalog's notes say so; a file with the columns must
//!   fill them (an empty or unknown kind, a crew that is not a whole number in range: each a
//!   problem located by file, line and column); spreadsheet CRLF files load the same;
//! - the shipped sample lists every standing holder of the generator, each of its kind, and
//!   `check --json` counts them in `holders_by_kind`;
//! - `drill --json` carries the standing-resources section and units by holder kind;
//! - `drill sweep --json` prints `steps`, `break_points` and `sensitivity`, and bad sweep
//!   arguments are refused with a reason.

use std::borrow::Cow;
use std::process::Command;

use equipmatch::catalog::{self, CatalogSources, SourceFile};
use equipmatch::domain::HolderKind;
use equipmatch::generator::standing::STANDING_HOLDERS;

const OLD_SUPPLIERS: &str =
    "supplier_id,name,place_id,base_id,latitude,longitude,certifications,reliability";
const OLD_STOCK: &str = "supplier_id,category_id,quantity_on_hand,surge_per_day,lead_time_hours";
const NEW_SUPPLIERS: &str =
    "supplier_id,name,place_id,base_id,latitude,longitude,certifications,reliability,kind";
const NEW_STOCK: &str =
    "supplier_id,category_id,quantity_on_hand,surge_per_day,lead_time_hours,crew_per_unit";

/// The embedded scenarios with this registry.
fn load(suppliers: &str, stock_lines: &str) -> catalog::Loaded {
    let file = |name: &str, text: &str| SourceFile {
        name: name.to_owned(),
        text: Cow::Owned(text.to_owned()),
    };
    catalog::load(&CatalogSources {
        registry_files: vec![
            file("suppliers.csv", suppliers),
            file("stock_lines.csv", stock_lines),
        ],
        ..CatalogSources::embedded()
    })
}

#[test]
fn an_old_registry_reads_as_manufacturers_without_crews_and_says_so() {
    let loaded = load(
        &format!("{OLD_SUPPLIERS}\nsup-1,Old works,tangshan,,39.6,118.2,,0.9\n"),
        &format!("{OLD_STOCK}\nsup-1,life-jacket,10,0,4\n"),
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems.list);
    let catalog = loaded.catalog;
    assert_eq!(catalog.suppliers[0].kind, HolderKind::Manufacturer);
    assert_eq!(catalog.stock_lines[0].crew_per_unit, 0);
    assert_eq!(catalog.notes.len(), 2, "{:?}", catalog.notes);
    assert!(
        catalog.notes[0].contains("suppliers.csv") && catalog.notes[0].contains("manufacturer")
    );
    assert!(catalog.notes[1].contains("stock_lines.csv") && catalog.notes[1].contains("crew"));
}

#[test]
fn a_new_registry_must_fill_kind_and_crew_and_each_gap_is_located() {
    let suppliers = format!(
        "{NEW_SUPPLIERS}\n\
         fire-1,Fire detachment,tangshan,,39.6,118.2,,0.95,fire-rescue\n\
         sup-2,No kind,tangshan,,39.6,118.2,,0.9,\n\
         sup-3,Bad kind,tangshan,,39.6,118.2,,0.9,army\n"
    );
    let stock = format!(
        "{NEW_STOCK}\n\
         fire-1,urban-fire-engine-pumper,10,0,1,6\n\
         fire-1,scba,10,0,1,1.5\n\
         fire-1,life-jacket,10,0,1,9999\n\
         fire-1,assault-boat,10,0,1,\n"
    );
    let loaded = load(&suppliers, &stock);
    let found = |file: &str, line: u32, column: u32, text: &str| {
        loaded.problems.list.iter().any(|p| {
            p.file == file && p.line == line && p.column == Some(column) && p.message.contains(text)
        })
    };
    let listing = format!("{:#?}", loaded.problems.list);
    // The kind is the 9th column: after 8 fields and their commas.
    let kind_column =
        |row: &str| row.rsplit_once(',').map_or(0, |(head, _)| head.chars().count() as u32 + 2);
    let row3 = "sup-2,No kind,tangshan,,39.6,118.2,,0.9,";
    let row4 = "sup-3,Bad kind,tangshan,,39.6,118.2,,0.9,army";
    assert!(
        found("suppliers.csv", 3, kind_column(row3), "kind: \"\" is not a holder kind"),
        "{listing}"
    );
    assert!(
        found("suppliers.csv", 4, kind_column(row4), "kind: \"army\" is not a holder kind"),
        "{listing}"
    );
    for (line, row) in [
        (3, "fire-1,scba,10,0,1,1.5"),
        (4, "fire-1,life-jacket,10,0,1,9999"),
        (5, "fire-1,assault-boat,10,0,1,"),
    ] {
        assert!(
            found("stock_lines.csv", line, kind_column(row), "crew_per_unit"),
            "line {line}: {listing}"
        );
    }
    assert_eq!(loaded.problems.total(), 5, "{listing}");
    let catalog = loaded.catalog;
    let fire = catalog.supplier_by_id("fire-1").expect("the good row loads");
    assert_eq!(catalog.supplier(fire).kind, HolderKind::FireRescue);
    let pumper = catalog.category_by_id("urban-fire-engine-pumper").expect("category");
    let line = catalog.category_lines(pumper).next().expect("one line");
    assert_eq!(catalog.stock_lines[line].crew_per_unit, 6);
    assert!(catalog.notes.is_empty());
}

#[test]
fn a_crlf_registry_with_the_new_columns_loads_the_same() {
    let suppliers = format!("{NEW_SUPPLIERS}\r\nteam-1,\"Team, with a comma\",tangshan,,39.6,118.2,,0.95,professional-team\r\n");
    let stock = format!("{NEW_STOCK}\r\nteam-1,mine-rescue-squad-kit,4,0,1,9\r\n");
    let loaded = load(&suppliers, &stock);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems.list);
    assert_eq!(loaded.catalog.suppliers[0].kind, HolderKind::ProfessionalTeam);
    assert_eq!(loaded.catalog.suppliers[0].name, "Team, with a comma");
    assert_eq!(loaded.catalog.stock_lines[0].crew_per_unit, 9);
}

fn equipmatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_equipmatch")).args(args).output().expect("runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let output = equipmatch(args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn the_sample_lists_every_standing_holder_and_check_counts_them() {
    let catalog = catalog::Catalog::embedded().expect("loads");
    for holder in STANDING_HOLDERS {
        let idx =
            catalog.supplier_by_id(holder.id).unwrap_or_else(|| panic!("{} missing", holder.id));
        let supplier = catalog.supplier(idx);
        assert_eq!(supplier.kind, holder.kind, "{}", holder.id);
        assert!(holder.kind.is_standing());
        assert!(
            ["SYNTHETIC", "counts sourced", "counts a floor"]
                .iter()
                .any(|s| supplier.name.contains(s)),
            "{}: a standing holder's row says what is synthetic or sourced",
            holder.id
        );
        // Every holding made it (no category the taxonomy lacks).
        assert_eq!(catalog.supplier_lines(idx).count(), holder.holdings.len(), "{}", holder.id);
    }
    let report = json(&["check", "--json"]);
    let count = |kind: HolderKind| STANDING_HOLDERS.iter().filter(|h| h.kind == kind).count();
    assert_eq!(report["holders_by_kind"]["manufacturer"], 300);
    for kind in [HolderKind::ReserveDepot, HolderKind::FireRescue, HolderKind::ProfessionalTeam] {
        assert_eq!(report["holders_by_kind"][kind.key()], count(kind), "{}", kind.key());
    }
    assert_eq!(report["notes"], serde_json::json!([]));
}

fn sample_drill() -> String {
    format!("{}/scenarios/drills/zhangjiakou-ice-fire.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_drill_report_says_what_standing_resources_cover() {
    let report = json(&["drill", &sample_drill(), "--json", "--quiet"]);
    let stages = report["standing"]["stages"].as_array().expect("standing section");
    assert_eq!(stages.len(), 3);
    for stage in stages {
        let standing = stage["on_time_coverage_standing"].as_f64().expect("a share");
        assert!((0.0..=1.0).contains(&standing));
    }
    let kinds: Vec<&str> = report["holder_kinds"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["manufacturer", "reserve-depot", "fire-rescue", "professional-team"]);
    assert!(
        report["totals"]["passes"].as_u64().expect("passes")
            >= report["totals"]["categories"].as_u64().expect("categories")
    );
}

/// Tangshan's drill: no substitute serves (its short categories have none, or theirs are
/// short themselves), and the summary says "0 by substitutes" — an empty float sum is −0.0,
/// which once printed as "-0".
#[test]
fn a_drill_without_substitutes_serving_says_zero_not_minus_zero() {
    let file =
        format!("{}/scenarios/drills/tangshan-m7-aftershock.toml", env!("CARGO_MANIFEST_DIR"));
    let output = equipmatch(&["drill", &file, "--quiet"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(" 0 by substitutes"), "{text}");
    assert!(!text.contains("-0 by substitutes"), "{text}");
}

#[test]
fn a_sweep_prints_steps_break_points_and_sensitivity() {
    let report = json(&["drill", "sweep", &sample_drill(), "--vary", "severity", "--json"]);
    let steps = report["steps"].as_array().expect("steps");
    let labels: Vec<&str> = steps.iter().map(|s| s["label"].as_str().expect("label")).collect();
    assert_eq!(labels, ["IV", "III", "II", "I"]);
    assert_eq!(report["break_points"].as_array().expect("break points").len(), 3);
    let sensitivity = report["sensitivity"].as_array().expect("sensitivity");
    assert!(!sensitivity.is_empty());
    assert!(sensitivity.iter().all(|row| row["grade"] == "MODEL"));
    for bad in [
        vec!["--vary", "weather"],
        vec!["--vary", "population", "--steps", "1"],
        vec!["--vary", "population", "--threshold", "1.5"],
        vec!["--vary", "stock", "--to", "0"],
    ] {
        let output = equipmatch(&[&["drill", "sweep", &sample_drill()], bad.as_slice()].concat());
        assert!(!output.status.success(), "{bad:?} was accepted");
        assert!(!output.stderr.is_empty(), "{bad:?}: no reason given");
    }
}

// -------------------------------------------------------------------------------------------
// Match and Shortlist restrict and prefer by holder kind, over gRPC
// -------------------------------------------------------------------------------------------

fn fire_request(
    constraints: equipmatch::grpc::pb::MatchConstraints,
) -> equipmatch::grpc::pb::MatchRequest {
    use equipmatch::grpc::pb;
    pb::MatchRequest {
        scenario_id: "urban-fire".into(),
        severity: pb::Severity::Ii as i32,
        location: Some(pb::LatLng { latitude: 39.6347, longitude: 118.1948 }),
        affected_population: 5_000,
        affected_area_km2: Some(14.0),
        options_per_requirement: 10,
        constraints: Some(constraints),
        weights: None,
        view: pb::MatchView::Unspecified as i32,
    }
}

#[tokio::test]
async fn match_restricts_and_prefers_by_holder_kind() {
    use equipmatch::grpc::pb;
    let server = crate::support::TestServer::start().await;
    let mut client = server.matching();
    let fire = pb::HolderKind::FireRescue as i32;
    let only_fire = client
        .r#match(fire_request(pb::MatchConstraints {
            holder_kinds: vec![fire],
            ..Default::default()
        }))
        .await
        .expect("answers")
        .into_inner();
    let options: Vec<&pb::SupplierOption> = only_fire
        .stages
        .iter()
        .flat_map(|s| s.requirements.iter())
        .flat_map(|r| r.options.iter())
        .collect();
    assert!(!options.is_empty(), "the fire and rescue detachments hold urban-fire equipment");
    assert!(options.iter().all(|o| o.holder_kind == fire), "only fire and rescue holders");
    let pumpers = |response: &pb::MatchResponse| -> Vec<pb::PlanEntry> {
        response
            .stages
            .iter()
            .flat_map(|s| s.requirements.iter())
            .find(|r| r.category_id == "urban-fire-engine-pumper")
            .map(|r| r.plan.clone())
            .expect("urban fire asks for pumpers")
    };
    // Preferring the fire and rescue corps: its lines open the plan, before any manufacturer.
    let preferring = client
        .r#match(fire_request(pb::MatchConstraints {
            prefer_holder_kinds: vec![fire],
            ..Default::default()
        }))
        .await
        .expect("answers")
        .into_inner();
    let plan = pumpers(&preferring);
    let kinds: Vec<&str> = plan
        .iter()
        .map(|entry| if entry.supplier_id.starts_with("fire-") { "fire" } else { "other" })
        .collect();
    assert!(kinds.first() == Some(&"fire"), "{plan:?}");
    assert!(kinds.windows(2).all(|w| !(w[0] == "other" && w[1] == "fire")), "{kinds:?}");
    // An unknown kind is refused with the field named.
    let status = client
        .r#match(fire_request(pb::MatchConstraints {
            holder_kinds: vec![99],
            ..Default::default()
        }))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("holder") || !status.message().is_empty());
}

#[tokio::test]
async fn a_shortlist_lists_preferred_holders_first() {
    use equipmatch::grpc::pb;
    let server = crate::support::TestServer::start().await;
    let mut client = server.matching();
    let depot = pb::HolderKind::ReserveDepot as i32;
    let response = client
        .shortlist(pb::ShortlistRequest {
            category_ids: vec!["relief-tent-family".into()],
            quantity: 1000.0,
            location: Some(pb::LatLng { latitude: 38.87, longitude: 115.47 }),
            count: 30,
            prefer_holder_kinds: vec![depot],
            ..Default::default()
        })
        .await
        .expect("answers")
        .into_inner();
    let kinds: Vec<i32> = response.entries.iter().map(|e| e.holder_kind).collect();
    assert!(kinds.contains(&depot) && kinds.iter().any(|k| *k != depot), "{kinds:?}");
    let first_other = kinds.iter().position(|k| *k != depot).expect("others follow");
    assert!(kinds[first_other..].iter().all(|k| *k != depot), "depots first: {kinds:?}");
    let only_makers = client
        .shortlist(pb::ShortlistRequest {
            category_ids: vec!["relief-tent-family".into()],
            quantity: 10.0,
            filters: Some(pb::ShortlistFilters {
                holder_kinds: vec![pb::HolderKind::Manufacturer as i32],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("answers")
        .into_inner();
    assert!(only_makers
        .entries
        .iter()
        .all(|e| e.holder_kind == pb::HolderKind::Manufacturer as i32));
}
