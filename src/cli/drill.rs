//! `equipmatch drill FILE`: runs a drill in process (or on a server with `--server`), shows
//! progress on stderr, prints a summary table or the report as JSON, and writes the HTML page.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::DataArgs;
use crate::catalog::{Catalog, Problems};
use crate::drill::geo::MapPlace;
use crate::drill::{self, DrillReport, Policy};

/// `drill FILE …` runs a drill; `drill sweep FILE …` runs it over a range.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DrillCommand {
    #[command(subcommand)]
    sub: Option<DrillSub>,
    #[command(flatten)]
    run: DrillArgs,
}

#[derive(Debug, Subcommand)]
enum DrillSub {
    /// Run the drill over a range of severity, population, area or stock: where each chain
    /// stage's on-time coverage falls below a threshold, and which model assumption moves the
    /// shortfall most (in process).
    Sweep(super::sweep::SweepArgs),
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// Drill file (TOML; see scenarios/drills/README.md).
    file: Option<PathBuf>,
    /// Run on this server (e.g. http://127.0.0.1:50051) instead of in process.
    #[arg(long)]
    server: Option<String>,
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    /// Override the drill's policy: efficiency or equity.
    #[arg(long, value_parser = parse_policy)]
    policy: Option<Policy>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Write the report as a self-contained HTML page to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// No progress line on stderr.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    data: DataArgs,
}

pub(super) fn parse_policy(text: &str) -> Result<Policy, String> {
    Policy::parse(text).ok_or_else(|| format!("{text:?} is not a policy: use efficiency or equity"))
}

pub fn run(command: DrillCommand) -> ExitCode {
    match command.sub {
        Some(DrillSub::Sweep(args)) => super::sweep::run(args),
        None => run_drill(command.run),
    }
}

fn run_drill(args: DrillArgs) -> ExitCode {
    let Some(file) = args.file.clone() else {
        eprintln!("error: give a drill file: equipmatch drill FILE (or drill sweep FILE)");
        return ExitCode::FAILURE;
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    let report = match &args.server {
        Some(server) => super::remote::run_drill_remote(
            server,
            &args.connect,
            &file,
            &text,
            args.policy,
            args.quiet,
        ),
        None => run_local(&args, &file, &text),
    };
    let Some((report, places)) = report else { return ExitCode::FAILURE };
    if !args.quiet {
        eprintln!("drill {} done in {:.2} s", report.drill_id, started.elapsed().as_secs_f64());
    }
    if let Some(path) = &args.report {
        if let Err(error) = std::fs::write(path, drill::html::render(&report, &places)) {
            eprintln!("error: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", summary(&report));
    }
    ExitCode::SUCCESS
}

/// The catalog and the parsed drill, or the problems printed on stderr.
pub(super) fn load_drill(
    data: &DataArgs,
    file: &std::path::Path,
    text: &str,
) -> Option<(Catalog, drill::Drill)> {
    let mut problems = Problems::default();
    let sources = data.sources(&mut problems);
    let catalog = match Catalog::load(&sources) {
        Ok(catalog) if problems.is_empty() => catalog,
        Ok(_) => {
            print_problems(&problems);
            return None;
        }
        Err(error) => {
            print_problems(&error.problems);
            return None;
        }
    };
    match drill::parse(&catalog, &file.display().to_string(), text) {
        Ok(drill) => Some((catalog, drill)),
        Err(problems) => {
            print_problems(&problems);
            None
        }
    }
}

/// Runs the drill in process: its report, and the catalog's places for the report's map.
fn run_local(
    args: &DrillArgs,
    file: &std::path::Path,
    text: &str,
) -> Option<(DrillReport, Vec<MapPlace>)> {
    let (catalog, drill) = load_drill(&args.data, file, text)?;
    let policy = args.policy.unwrap_or(drill.policy);
    // A progress bar only where someone watches it: `\r` lines would clutter a log file.
    let quiet = args.quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = drill::run_report(
        &catalog,
        &drill,
        policy,
        &mut |progress| {
            if !quiet {
                let category_id = catalog.category(progress.category).id.as_str();
                progress_line(progress.categories_done, progress.categories_total, category_id);
            }
        },
        &|| false,
    );
    if !quiet {
        eprintln!();
    }
    match report {
        Some(Ok(report)) => Some((report, MapPlace::from_catalog(&catalog))),
        Some(Err(error)) => {
            eprintln!("error: {error}");
            None
        }
        None => unreachable!("a run that is never stopped completes"),
    }
}

fn print_problems(problems: &Problems) {
    for problem in &problems.list {
        eprintln!("{problem}");
    }
    if problems.dropped > 0 {
        eprintln!("… and {} more", problems.dropped);
    }
}

/// One `\r`-rewritten progress line: a bar, the count and the category just solved.
pub(super) fn progress_line(done: usize, total: usize, category_id: &str) {
    const WIDTH: usize = 30;
    let filled = WIDTH * done.min(total) / total.max(1);
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "\r[{}{}] {}/{} categories · {:<40}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        done,
        total,
        category_id
    );
    let _ = stderr.flush();
}

fn pct(x: f64) -> String {
    format!("{:>4.0}%", x * 100.0)
}

/// The human summary: totals, incidents, stages, the worst shortfalls and the supply map.
pub fn summary(report: &DrillReport) -> String {
    let mut out = String::new();
    let t = &report.totals;
    let _ = writeln!(
        out,
        "drill {} · {} · policy {} · catalog {}",
        report.drill_id, report.name, report.policy, report.catalog_version
    );
    let _ = writeln!(
        out,
        "{} incidents, {} requirements in {} categories: {} units required, {} on time, {} late, {:.0} by substitutes, {} unmet; {} suppliers offline",
        t.incidents, t.requirements, t.categories, t.units_required, t.units_on_time, t.units_late, t.units_substituted, t.units_unmet, report.what_if.suppliers_offline_total
    );
    let _ = writeln!(out, "\n== incidents (coverage on time / final; hours to full coverage)");
    for incident in &report.incidents {
        let stages: Vec<String> = incident
            .stages
            .iter()
            .map(|s| {
                format!(
                    "{} {}/{}",
                    &s.stage[..s.stage.find('_').unwrap_or(s.stage.len())],
                    pct(s.on_time_coverage).trim(),
                    pct(s.final_coverage).trim()
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  {:<26} {:<18} {:<3} t+{:>5.1}h  {} / {}  full {:>8}  [{}]",
            incident.id,
            incident.scenario_id,
            incident.severity,
            incident.start_hours,
            pct(incident.on_time_coverage),
            pct(incident.final_coverage),
            incident.hours_to_full_coverage.map_or("never".to_owned(), |h| format!("{h:.1}h")),
            stages.join(", ")
        );
    }
    let _ = writeln!(out, "\n== gaps by chain stage (units)");
    for stage in &report.stages {
        let _ = writeln!(
            out,
            "  {:<20} required {:>6}  on time {:>6}  late {:>6}  unmet {:>6}  categories short {}",
            stage.stage,
            stage.units_required,
            stage.units_on_time,
            stage.units_late,
            stage.units_unmet,
            stage.categories_short
        );
    }
    if let Some(standing) = &report.standing {
        let _ = writeln!(
            out,
            "\n== standing resources before manufacturers (on time: standing alone / every holder)"
        );
        for stage in &standing.stages {
            let _ = writeln!(
                out,
                "  {:<20} {} / {}   final {} / {}",
                stage.stage,
                pct(stage.on_time_coverage_standing),
                pct(stage.on_time_coverage_all),
                pct(stage.final_coverage_standing),
                pct(stage.final_coverage_all)
            );
        }
    }
    let kinds: Vec<String> = report
        .holder_kinds
        .iter()
        .map(|k| format!("{} {} ({} crewed)", k.kind, k.units_total, k.units_crewed))
        .collect();
    let _ = writeln!(out, "  units by holder kind: {}", kinds.join(", "));
    let _ =
        writeln!(out, "\n== worst shortfalls (unmet, late of required; covered by substitutes)");
    for row in report.shortfalls.iter().take(10) {
        let _ = writeln!(
            out,
            "  {:<40} {:<18} unmet {:>5} late {:>5} of {:>5} ({} incidents){}",
            row.category_id,
            row.stage,
            row.units_unmet,
            row.units_late,
            row.units_required,
            row.incidents,
            if row.units_substituted > 0.0 {
                format!("; substitutes {:.0}", row.units_substituted)
            } else {
                String::new()
            }
        );
    }
    let count =
        |kind: &str| report.single_points_of_failure.iter().filter(|s| s.kind == kind).count();
    let _ = writeln!(
        out,
        "\n== single points of failure: {} requirements one supplier alone can serve in time, {} one place alone, {} nobody",
        count("supplier"),
        count("place"),
        count("none")
    );
    let _ = writeln!(out, "\n== who supplied (place or base · zone · units by stage m/p/r)");
    for row in report.supply_map.iter().take(10) {
        let _ = writeln!(
            out,
            "  {:<20} {:<8} {:>6} = {}/{}/{}",
            row.place_id,
            row.zone,
            row.units_total,
            row.units_by_stage[0],
            row.units_by_stage[1],
            row.units_by_stage[2]
        );
    }
    let zones: Vec<String> =
        report.zones.iter().map(|z| format!("{} {}", z.zone, pct(z.share).trim())).collect();
    let _ = writeln!(out, "  zones: {}", zones.join(", "));
    out
}
