//! `equipmatch cap FILE…`: reads CAP alerts (bare, in a SOAP wrapper or in an EDXL-DE feed) in
//! process on the catalog, and prints for each what equipmatch made of it: refused and why, or
//! its incidents with scenario, level, place and the Match's coverage. A bad file is reported
//! in its entry and the others are still read. `--json` prints one object with an `alerts`
//! array, one entry per file (per alert, for a file that carries several: `FILE#location`).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::DataArgs;
use crate::catalog::{Catalog, Problems};
use crate::interop::incidents::Mapping;
use crate::interop::xml::Refusal;
use crate::interop::{self, AlertReading};
use crate::matching::NoHolds;

/// The most files one `cap` command reads.
pub const CAP_FILES_MAX: usize = 10_000;

#[derive(Debug, Args)]
pub struct CapArgs {
    /// CAP files (XML; .cap, .xml, .edxlde…).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print one JSON object with an `alerts` array.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

/// One entry of `cap --json`.
#[derive(Debug, Serialize)]
pub struct AlertEntry {
    pub file: String,
    pub accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub identifier: Option<String>,
    pub status: Option<&'static str>,
    pub msg_type: Option<&'static str>,
    /// Identifiers a Cancel or Update references.
    pub cancels: Vec<String>,
    pub incidents: Vec<IncidentEntry>,
}

#[derive(Debug, Serialize)]
pub struct IncidentEntry {
    pub event: String,
    pub scenario_id: Option<String>,
    pub severity: &'static str,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub affected_area_km2: Option<f64>,
    pub exercise: bool,
    /// The Match's overall coverage; `null` when there is no Match (unmapped, or no place).
    pub coverage: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Output {
    alerts: Vec<AlertEntry>,
}

pub fn run(args: CapArgs) -> ExitCode {
    let Some(catalog) = load_catalog(&args.data) else { return ExitCode::FAILURE };
    if args.files.len() > CAP_FILES_MAX {
        eprintln!("error: {} files; at most {CAP_FILES_MAX} per run", args.files.len());
        return ExitCode::FAILURE;
    }
    let mut entries = Vec::new();
    let mut text = String::new();
    for path in &args.files {
        let name = path.display().to_string();
        match interop::read_file_bounded(path)
            .and_then(|bytes| interop::read_and_answer(&catalog, &NoHolds, &bytes))
        {
            Err(refusal) => {
                let _ = writeln!(text, "{name}: REFUSED: {refusal}");
                entries.push(refused_entry(name, &refusal));
            }
            Ok(readings) => {
                for reading in readings {
                    let file = if reading.location.is_empty() {
                        name.clone()
                    } else {
                        format!("{name}#{}", reading.location)
                    };
                    describe(&mut text, &catalog, &file, &reading);
                    entries.push(entry(file, &reading));
                }
            }
        }
    }
    let all_accepted = entries.iter().all(|e| e.accepted);
    if args.json {
        match serde_json::to_string_pretty(&Output { alerts: entries }) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{text}");
    }
    // Scripts can tell a clean batch from one with a refused alert.
    if all_accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub(super) fn load_catalog(data: &DataArgs) -> Option<Catalog> {
    let mut problems = Problems::default();
    let sources = data.sources(&mut problems);
    match Catalog::load(&sources) {
        Ok(catalog) if problems.is_empty() => Some(catalog),
        Ok(_) => {
            super::report_problems(&problems);
            None
        }
        Err(error) => {
            super::report_problems(&error.problems);
            None
        }
    }
}

fn refused_entry(file: String, refusal: &Refusal) -> AlertEntry {
    AlertEntry {
        file,
        accepted: false,
        reason: Some(refusal.to_string()),
        identifier: None,
        status: None,
        msg_type: None,
        cancels: Vec::new(),
        incidents: Vec::new(),
    }
}

pub fn entry(file: String, reading: &AlertReading) -> AlertEntry {
    let answered = match &reading.outcome {
        Ok(answered) => answered,
        Err(refusal) => return refused_entry(file, refusal),
    };
    let alert = &answered.alert;
    AlertEntry {
        file,
        accepted: true,
        reason: None,
        identifier: Some(alert.identifier.clone()),
        status: Some(alert.status.as_str()),
        msg_type: Some(alert.msg_type.as_str()),
        cancels: answered.cancels(),
        incidents: answered
            .incidents
            .iter()
            .map(|answered| {
                let incident = &answered.incident;
                IncidentEntry {
                    event: incident.event.clone(),
                    scenario_id: incident.scenario_id().map(str::to_owned),
                    severity: incident.severity.roman(),
                    latitude: incident.location.map(|l| round(l.latitude(), 1e6)),
                    longitude: incident.location.map(|l| round(l.longitude(), 1e6)),
                    affected_area_km2: incident.affected_area_km2.map(|a| round(a, 1e3)),
                    exercise: incident.exercise,
                    coverage: answered.answer.as_ref().map(|m| round(m.coverage, 1e4)),
                }
            })
            .collect(),
    }
}

/// Rounded for people and stable JSON (no float noise in the last digits).
fn round(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

fn describe(out: &mut String, catalog: &Catalog, file: &str, reading: &AlertReading) {
    let answered = match &reading.outcome {
        Ok(answered) => answered,
        Err(refusal) => {
            let _ = writeln!(out, "{file}: REFUSED: {refusal}");
            return;
        }
    };
    let alert = &answered.alert;
    let _ = writeln!(
        out,
        "{file}: accepted · CAP {} · {} {} · {} from {}",
        alert.version.as_str(),
        alert.status.as_str(),
        alert.msg_type.as_str(),
        alert.identifier,
        alert.sender
    );
    let cancels = answered.cancels();
    if !cancels.is_empty() {
        let _ = writeln!(out, "  replaces or cancels: {}", cancels.join(", "));
    }
    for warning in &alert.warnings {
        let _ = writeln!(out, "  note: {warning}");
    }
    if answered.incidents.is_empty() {
        let _ = writeln!(out, "  no incident (the alert has no <info>)");
    }
    for (n, answered) in answered.incidents.iter().enumerate() {
        let incident = &answered.incident;
        let infos: Vec<String> = incident.info_indexes.iter().map(|i| i.to_string()).collect();
        let mapping = match &incident.mapping {
            Mapping::Mapped { scenario, origin, .. } => format!("{scenario} ({origin})"),
            Mapping::Unmapped { reason } => format!("UNMAPPED: {reason}"),
        };
        let _ = writeln!(
            out,
            "  incident {} (info {}; {}){}: {:?} → {mapping}",
            n + 1,
            infos.join(", "),
            incident.languages.join(", "),
            if incident.exercise { " [exercise: never live holds]" } else { "" },
            incident.event,
        );
        let _ = writeln!(
            out,
            "    severity {} ({}, {}) from {} · {} / {} / {}",
            incident.severity,
            incident.severity.name_zh(),
            incident.severity.warning_colour(),
            incident.severity_basis,
            incident.urgency.as_str(),
            incident.cap_severity.as_str(),
            incident.certainty.as_str()
        );
        let place = incident.place.map(|p| format!(" · place {}", catalog.place(p).id));
        let _ = writeln!(
            out,
            "    location {}{} · area {} · population {}",
            incident.location.map_or("unknown".to_owned(), |l| format!(
                "{:.4},{:.4}",
                l.latitude(),
                l.longitude()
            )),
            place.unwrap_or_default(),
            incident.affected_area_km2.map_or("unknown".to_owned(), |a| format!("{a:.1} km²")),
            incident.affected_population.map_or("not stated".to_owned(), |p| format!("{p}"))
        );
        let _ = writeln!(out, "    where: {}", incident.location_basis);
        match &answered.answer {
            Some(result) => {
                let short: Vec<String> = result
                    .stages
                    .iter()
                    .map(|s| format!("{} {:.0}%", s.stage.key(), 100.0 * s.coverage))
                    .collect();
                let _ = writeln!(
                    out,
                    "    match: coverage {:.0}% ({})",
                    100.0 * result.coverage,
                    short.join(", ")
                );
            }
            None => {
                let _ = writeln!(out, "    match: none (needs a scenario and a place)");
            }
        }
    }
}
