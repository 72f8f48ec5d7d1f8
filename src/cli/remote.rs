//! `equipmatch match` and `equipmatch shortlist`: clients of a running server. Human output is
//! a table grouped by chain stage; `--json` mirrors the proto messages with the proto field
//! names; `--csv` (shortlist) is one row per ranked supplier.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;

use crate::domain::Severity;
use crate::grpc::client::{self, MatchServiceClient};
use crate::grpc::convert::{holder_kind_to_pb, severity_to_pb, zone_tier_to_pb};
use crate::grpc::pb;

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Server URL.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    server: String,
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    #[command(flatten)]
    flags: MatchFlags,
    /// How much to ask for: full, no-score-parts (options without their score parts) or
    /// plan-only (quantities and plans, no options).
    #[arg(long, default_value = "full", value_parser = parse_view)]
    view: pb::MatchView,
    /// Print the response as JSON.
    #[arg(long)]
    json: bool,
}

/// The incident and constraints of a Match (shared by `match` and `edxl-rm request`).
#[derive(Debug, Args)]
pub struct MatchFlags {
    /// Scenario id (e.g. earthquake, flood, urban-waterlogging).
    #[arg(long)]
    scenario: String,
    /// Incident latitude (degrees north).
    #[arg(long, allow_negative_numbers = true)]
    lat: f64,
    /// Incident longitude (degrees east).
    #[arg(long, allow_negative_numbers = true)]
    lon: f64,
    /// National response level: I, II, III or IV.
    #[arg(long, value_parser = parse_severity)]
    severity: Severity,
    /// Affected population.
    #[arg(long)]
    population: u64,
    /// Affected area (km²).
    #[arg(long)]
    area_km2: Option<f64>,
    /// Ranked options per requirement (default 5, at most 50).
    #[arg(long, default_value_t = 0)]
    options: u32,
    /// Only options that arrive within this many hours.
    #[arg(long)]
    max_eta_hours: Option<f64>,
    /// Required certification id (repeatable).
    #[arg(long = "require-cert")]
    required_certifications: Vec<String>,
    /// Supplier id never to offer (repeatable).
    #[arg(long = "exclude")]
    excluded_supplier_ids: Vec<String>,
    /// Only this zone tier: core, key, support, metro, outside (repeatable).
    #[arg(long = "zone", value_parser = parse_zone)]
    zones: Vec<crate::domain::ZoneTier>,
    /// Only holders of this kind: manufacturer, reserve-depot, fire-rescue, professional-team
    /// (repeatable).
    #[arg(long = "holder-kind", value_parser = parse_holder_kind)]
    holder_kinds: Vec<crate::domain::HolderKind>,
    /// The sourcing plan draws on holders of this kind first (repeatable).
    #[arg(long = "prefer-kind", value_parser = parse_holder_kind)]
    prefer_kinds: Vec<crate::domain::HolderKind>,
}

impl MatchFlags {
    /// The MatchRequest these flags describe.
    pub fn request(&self) -> pb::MatchRequest {
        pb::MatchRequest {
            scenario_id: self.scenario.clone(),
            severity: severity_to_pb(self.severity) as i32,
            location: Some(pb::LatLng { latitude: self.lat, longitude: self.lon }),
            affected_population: self.population,
            affected_area_km2: self.area_km2,
            options_per_requirement: self.options,
            constraints: Some(pb::MatchConstraints {
                max_eta_hours: self.max_eta_hours,
                required_certifications: self.required_certifications.clone(),
                excluded_supplier_ids: self.excluded_supplier_ids.clone(),
                zone_tiers: self.zones.iter().map(|z| zone_tier_to_pb(*z) as i32).collect(),
                holder_kinds: kinds_to_pb(&self.holder_kinds),
                prefer_holder_kinds: kinds_to_pb(&self.prefer_kinds),
            }),
            weights: None,
            view: pb::MatchView::Unspecified as i32,
        }
    }
}

#[derive(Debug, Args)]
pub struct ShortlistArgs {
    /// Server URL.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    server: String,
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    /// Category id (repeatable).
    #[arg(long = "category", required = true)]
    categories: Vec<String>,
    /// Units wanted.
    #[arg(long)]
    quantity: f64,
    /// Delivery latitude.
    #[arg(long, requires = "lon", allow_negative_numbers = true)]
    lat: Option<f64>,
    /// Delivery longitude.
    #[arg(long, requires = "lat", allow_negative_numbers = true)]
    lon: Option<f64>,
    /// Delivery window in hours (default 72).
    #[arg(long)]
    within_hours: Option<f64>,
    /// Entries wanted (default 20, at most 200).
    #[arg(long, default_value_t = 0)]
    count: u32,
    /// Only this zone tier (repeatable).
    #[arg(long = "zone", value_parser = parse_zone)]
    zones: Vec<crate::domain::ZoneTier>,
    /// Only holders of this kind: manufacturer, reserve-depot, fire-rescue, professional-team
    /// (repeatable).
    #[arg(long = "holder-kind", value_parser = parse_holder_kind)]
    holder_kinds: Vec<crate::domain::HolderKind>,
    /// List holders of this kind first, each group ranked as usual (repeatable).
    #[arg(long = "prefer-kind", value_parser = parse_holder_kind)]
    prefer_kinds: Vec<crate::domain::HolderKind>,
    /// Only suppliers at this place or base (repeatable).
    #[arg(long = "place")]
    places: Vec<String>,
    /// Required certification id (repeatable).
    #[arg(long = "require-cert")]
    required_certifications: Vec<String>,
    /// Maximum lead time (hours).
    #[arg(long)]
    max_lead_time_hours: Option<f64>,
    /// Minimum reliability in [0, 1].
    #[arg(long, default_value_t = 0.0)]
    min_reliability: f64,
    /// Print the response as JSON.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print the response as CSV.
    #[arg(long)]
    csv: bool,
}

pub(super) fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| format!("{text:?} is not a severity: use I, II, III or IV"))
}

fn parse_holder_kind(text: &str) -> Result<crate::domain::HolderKind, String> {
    crate::domain::HolderKind::parse(text).ok_or_else(|| {
        format!(
            "{text:?} is not a holder kind: use manufacturer, reserve-depot, fire-rescue or professional-team"
        )
    })
}

fn kinds_to_pb(kinds: &[crate::domain::HolderKind]) -> Vec<i32> {
    kinds.iter().map(|kind| holder_kind_to_pb(*kind) as i32).collect()
}

fn parse_view(text: &str) -> Result<pb::MatchView, String> {
    match text {
        "full" => Ok(pb::MatchView::Full),
        "no-score-parts" => Ok(pb::MatchView::NoScoreParts),
        "plan-only" => Ok(pb::MatchView::PlanOnly),
        _ => Err(format!("{text:?} is not a view: use full, no-score-parts or plan-only")),
    }
}

fn parse_zone(text: &str) -> Result<crate::domain::ZoneTier, String> {
    crate::domain::ZoneTier::parse(text).ok_or_else(|| {
        format!("{text:?} is not a zone tier: use core, key, support, metro or outside")
    })
}

pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub(super) fn block_on<T>(
    future: impl std::future::Future<Output = Result<T, BoxError>>,
) -> Result<T, BoxError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(future)
}

pub(super) fn fail(error: &BoxError) -> ExitCode {
    match error.downcast_ref::<tonic::Status>() {
        Some(status) => {
            eprintln!("error: {:?}: {}", status.code(), status.message());
            use tonic_types::StatusExt;
            if let Some(info) = status.get_details_error_info() {
                let mut metadata: Vec<_> = info.metadata.iter().collect();
                metadata.sort();
                let metadata: Vec<String> =
                    metadata.iter().map(|(k, v)| format!("{k}={v}")).collect();
                eprintln!("  reason {} {}", info.reason, metadata.join(" "));
            }
            if let Some(bad_request) = status.get_details_bad_request() {
                for violation in bad_request.field_violations {
                    eprintln!("  {}: {}", violation.field, violation.description);
                }
            }
            if let Some(failure) = status.get_details_precondition_failure() {
                for violation in failure.violations {
                    eprintln!(
                        "  {} {}: {}",
                        violation.r#type, violation.subject, violation.description
                    );
                }
            }
        }
        None => eprintln!("error: {error}"),
    }
    ExitCode::FAILURE
}

pub fn run_match(args: MatchArgs) -> ExitCode {
    let request = pb::MatchRequest { view: args.view as i32, ..args.flags.request() };
    let result = block_on(async {
        let channel = client::connect_with(&args.server, &args.connect.credentials()?).await?;
        let response = MatchServiceClient::new(channel).r#match(request).await?.into_inner();
        Ok(response)
    });
    match result {
        Ok(response) if args.json => {
            match client::to_json(&response, "equipmatch.v1.MatchResponse") {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error),
            }
        }
        Ok(response) => {
            print!("{}", match_table(&response, &args.flags));
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// A quantity for people: whole numbers as such, fractions (substitutes at an efficiency) to
/// two decimals, without float noise like 14.700000000000001.
fn qty(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 {
        format!("{}", x.round())
    } else {
        format!("{x:.2}")
    }
}

fn stage_title(stage: i32) -> &'static str {
    match pb::ChainStage::try_from(stage) {
        Ok(pb::ChainStage::MonitoringWarning) => "监测预警 monitoring & early warning",
        Ok(pb::ChainStage::SafetyProtection) => "安全防护 safety protection",
        Ok(pb::ChainStage::EmergencyRescue) => "应急救援 emergency rescue",
        _ => "unknown stage",
    }
}

fn priority_name(priority: i32) -> &'static str {
    match pb::Priority::try_from(priority) {
        Ok(pb::Priority::Critical) => "critical",
        Ok(pb::Priority::Important) => "important",
        Ok(pb::Priority::Supporting) => "supporting",
        _ => "?",
    }
}

fn zone_name(zone: i32) -> &'static str {
    match pb::ZoneTier::try_from(zone) {
        Ok(pb::ZoneTier::Core) => "core",
        Ok(pb::ZoneTier::Key) => "key",
        Ok(pb::ZoneTier::Support) => "support",
        Ok(pb::ZoneTier::Metro) => "metro",
        Ok(pb::ZoneTier::Outside) => "outside",
        _ => "?",
    }
}

fn match_table(response: &pb::MatchResponse, args: &MatchFlags) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} · severity {} ({}, {}) · {:.4},{:.4} · {} affected · coverage {:.0}% · catalog {}",
        response.scenario_id,
        args.severity,
        args.severity.name_zh(),
        args.severity.warning_colour(),
        args.lat,
        args.lon,
        args.population,
        100.0 * response.coverage,
        response.catalog_version
    );
    out.push_str(&stages_table(response));
    out
}

/// The stages of a Match: each requirement, its ranked options and its plan.
pub(super) fn stages_table(response: &pb::MatchResponse) -> String {
    let mut out = String::new();
    for stage in &response.stages {
        let _ = writeln!(
            out,
            "\n== {} · coverage {:.0}%",
            stage_title(stage.stage),
            100.0 * stage.coverage
        );
        for requirement in &stage.requirements {
            let _ = writeln!(
                out,
                "  {} ({}) · need {} {} within {}h [{}] · planned {} ({:.0}%){}",
                requirement.category_id,
                requirement.category_name,
                qty(requirement.quantity_required),
                requirement.unit,
                requirement.needed_within_hours,
                priority_name(requirement.priority),
                qty(requirement.quantity_planned),
                100.0 * requirement.coverage,
                if requirement.shortfall > 0.0 {
                    format!(" · SHORTFALL {}", qty(requirement.shortfall))
                } else {
                    String::new()
                }
            );
            // The rule says how the quantity was reached, and "capped at N" when a cap bound.
            let _ = writeln!(
                out,
                "        rule: {} [{}]",
                requirement.quantity_rule, requirement.grade
            );
            for (rank, option) in requirement.options.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "    {:>2}. {:<12} {:<8} {:<7}{} stock {:>5} + prod {:>4} {:>7.1} km  eta {:>5.1}h  score {:.3}{}{}",
                    rank + 1,
                    option.supplier_id,
                    option.place_id,
                    zone_name(option.zone_tier),
                    if option.demonstration_base.is_empty() { "     " } else { " base" },
                    option.quantity_from_stock,
                    option.quantity_from_production,
                    option.distance_km.unwrap_or(0.0),
                    option.eta_hours,
                    option.score,
                    if option.on_time { "" } else { "  LATE" },
                    if option.substitute { format!("  substitute {} ×{}", option.category_id, option.substitute_efficiency) } else { String::new() },
                );
            }
            if !requirement.plan.is_empty() {
                let plan: Vec<String> = requirement
                    .plan
                    .iter()
                    .map(|entry| {
                        format!(
                            "{} ×{} @{:.1}h{}",
                            entry.supplier_id,
                            qty(entry.quantity),
                            entry.eta_hours,
                            if entry.substitute { " (substitute)" } else { "" }
                        )
                    })
                    .collect();
                let _ = writeln!(out, "        plan: {}", plan.join(", "));
            }
        }
    }
    out
}

pub fn run_shortlist(args: ShortlistArgs) -> ExitCode {
    let location =
        args.lat.zip(args.lon).map(|(latitude, longitude)| pb::LatLng { latitude, longitude });
    let request = pb::ShortlistRequest {
        category_ids: args.categories.clone(),
        quantity: args.quantity,
        location,
        filters: Some(pb::ShortlistFilters {
            zone_tiers: args.zones.iter().map(|z| zone_tier_to_pb(*z) as i32).collect(),
            place_ids: args.places.clone(),
            required_certifications: args.required_certifications.clone(),
            max_lead_time_hours: args.max_lead_time_hours,
            min_reliability: args.min_reliability,
            holder_kinds: kinds_to_pb(&args.holder_kinds),
        }),
        count: args.count,
        weights: None,
        needed_within_hours: args.within_hours,
        prefer_holder_kinds: kinds_to_pb(&args.prefer_kinds),
    };
    let result = block_on(async {
        let channel = client::connect_with(&args.server, &args.connect.credentials()?).await?;
        Ok(MatchServiceClient::new(channel).shortlist(request).await?.into_inner())
    });
    let response = match result {
        Ok(response) => response,
        Err(error) => return fail(&error),
    };
    if args.json {
        return match client::to_json(&response, "equipmatch.v1.ShortlistResponse") {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error),
        };
    }
    if args.csv {
        let mut writer = csv::Writer::from_writer(std::io::stdout());
        let header = [
            "rank",
            "supplier_id",
            "supplier_name",
            "place_id",
            "zone_tier",
            "demonstration_base",
            "category_id",
            "quantity_available",
            "quantity_from_stock",
            "quantity_from_production",
            "lead_time_hours",
            "distance_km",
            "eta_hours",
            "on_time",
            "score",
        ];
        let mut ok = writer.write_record(header).is_ok();
        for (rank, entry) in response.entries.iter().enumerate() {
            let row = [
                (rank + 1).to_string(),
                entry.supplier_id.clone(),
                entry.supplier_name.clone(),
                entry.place_id.clone(),
                zone_name(entry.zone_tier).to_owned(),
                entry.demonstration_base.clone(),
                entry.category_id.clone(),
                entry.quantity_available.to_string(),
                entry.quantity_from_stock.to_string(),
                entry.quantity_from_production.to_string(),
                entry.lead_time_hours.to_string(),
                entry.distance_km.map(|d| format!("{d:.1}")).unwrap_or_default(),
                format!("{:.2}", entry.eta_hours),
                entry.on_time.to_string(),
                format!("{:.4}", entry.score),
            ];
            ok &= writer.write_record(&row).is_ok();
        }
        ok &= writer.flush().is_ok();
        return if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    println!(
        "shortlist for {} × {} · catalog {}",
        args.quantity,
        args.categories.join(", "),
        response.catalog_version
    );
    for (rank, entry) in response.entries.iter().enumerate() {
        println!(
            "  {:>3}. {:<12} {:<34} {:<14} {:<7} {:<24} avail {:>5} lead {:>4}h {} eta {:>5.1}h score {:.3}{}",
            rank + 1,
            entry.supplier_id,
            entry.supplier_name,
            entry.place_id,
            zone_name(entry.zone_tier),
            entry.category_id,
            entry.quantity_available,
            entry.lead_time_hours,
            entry.distance_km.map(|d| format!("{d:>7.1} km")).unwrap_or_else(|| "         -".into()),
            entry.eta_hours,
            entry.score,
            if entry.on_time { "" } else { "  LATE" }
        );
    }
    ExitCode::SUCCESS
}

/// `equipmatch drill FILE --server URL`: streams RunDrill, drawing progress on stderr (when
/// it is a terminal and not `quiet`), and returns the final report.
pub fn run_drill_remote(
    server: &str,
    connect: &super::connect::ConnectArgs,
    file: &std::path::Path,
    text: &str,
    policy: Option<crate::drill::Policy>,
    quiet: bool,
) -> Option<(crate::drill::DrillReport, Vec<crate::drill::geo::MapPlace>)> {
    use crate::grpc::client::{CatalogServiceClient, DrillServiceClient};
    use crate::grpc::drill_convert;
    let request = pb::RunDrillRequest {
        drill_toml: text.to_owned(),
        file_name: file.display().to_string(),
        policy: policy.map_or(pb::DrillPolicy::Unspecified, drill_convert::policy_to_pb) as i32,
    };
    let quiet = quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let result = block_on(async {
        let channel = client::connect_with(server, &connect.credentials()?).await?;
        let mut stream = DrillServiceClient::new(channel.clone())
            .max_decoding_message_size(64 * 1024 * 1024)
            .run_drill(request)
            .await?
            .into_inner();
        while let Some(event) = stream.message().await? {
            match event.event {
                Some(pb::run_drill_event::Event::Progress(progress)) if !quiet => {
                    super::drill::progress_line(
                        progress.categories_done as usize,
                        progress.categories_total as usize,
                        &progress.category_id,
                    );
                }
                Some(pb::run_drill_event::Event::Report(report)) => {
                    if !quiet {
                        eprintln!();
                    }
                    // The report map's places come from the same server's catalog.
                    let places = CatalogServiceClient::new(channel)
                        .list_places(pb::ListPlacesRequest {})
                        .await?
                        .into_inner()
                        .places
                        .into_iter()
                        .map(map_place)
                        .filter(crate::drill::geo::MapPlace::marked)
                        .collect();
                    return Ok((drill_convert::drill_report_from_pb(report), places));
                }
                _ => {}
            }
        }
        Err("the server ended the stream without a report".into())
    });
    match result {
        Ok(report) => Some(report),
        Err(error) => {
            fail(&error);
            None
        }
    }
}

fn map_place(place: pb::Place) -> crate::drill::geo::MapPlace {
    let location = place.location.unwrap_or_default();
    crate::drill::geo::MapPlace {
        zone: crate::grpc::convert::zone_tier_from_pb(place.zone_tier)
            .map_or("outside", |zone| zone.key())
            .to_owned(),
        id: place.id,
        name_en: place.name_en,
        kind: place.kind,
        latitude: location.latitude,
        longitude: location.longitude,
    }
}
