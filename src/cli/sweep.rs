//! `equipmatch drill sweep FILE --vary severity|population|area|stock`: runs the drill over a
//! range, prints the steps, the break points and the sensitivity table (or the JSON object),
//! and writes the HTML page. `--timing` also times one plain drill run beside the sweep, in
//! the same process, and prints the ratio on stderr.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use super::DataArgs;
use crate::drill::sweep::{
    self, SweepReport, SweepSpec, Vary, SCALE_FROM_DEFAULT, SCALE_TO_DEFAULT, STOCK_FROM_DEFAULT,
    STOCK_TO_DEFAULT, SWEEP_AT_HOURS_DEFAULT, SWEEP_STEPS_DEFAULT, SWEEP_STEPS_MAX,
    SWEEP_THRESHOLD_DEFAULT,
};
use crate::drill::{self, Policy};

/// The largest factor a sweep may apply (the drill format's stock-factor bound).
const SWEEP_FACTOR_MAX: f64 = 10.0;
/// The most timing repetitions.
const TIMING_REPEATS_MAX: usize = 20;

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Drill file (TOML; see scenarios/drills/README.md).
    file: PathBuf,
    /// What to vary: severity (every incident at IV, III, II, I), population or area (every
    /// incident's, × a geometric range), stock (the stock factor, from more to less).
    #[arg(long, value_parser = parse_vary)]
    vary: Vary,
    /// Steps of the factor range, 2 to 50 (severity always runs its four levels).
    #[arg(long, default_value_t = SWEEP_STEPS_DEFAULT)]
    steps: usize,
    /// The factor of the least stress (default: 0.25 for population and area, 2 for stock).
    /// Steps are geometric from it to --to; with the defaults and an odd --steps the middle
    /// step is the drill as written.
    #[arg(long)]
    from: Option<f64>,
    /// The factor of the most stress (default: 4 for population and area, 0.5 for stock).
    #[arg(long)]
    to: Option<f64>,
    /// On-time coverage below this share is a break point, in [0, 1].
    #[arg(long, default_value_t = SWEEP_THRESHOLD_DEFAULT)]
    threshold: f64,
    /// Coverage of what is due within this many hours of each incident's start.
    #[arg(long, default_value_t = SWEEP_AT_HOURS_DEFAULT)]
    at_hours: f64,
    /// Override the drill's policy: efficiency or equity.
    #[arg(long, value_parser = super::drill::parse_policy)]
    policy: Option<Policy>,
    /// Print the sweep as one JSON object (steps, break_points, sensitivity, …).
    #[arg(long)]
    json: bool,
    /// Write the sweep as a self-contained HTML page to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Also time one plain run of the drill (`equipmatch drill FILE`) and the sweep, this many
    /// times alternately, and print the ratios on stderr.
    #[arg(long)]
    timing: Option<usize>,
    #[command(flatten)]
    data: DataArgs,
}

fn parse_vary(text: &str) -> Result<Vary, String> {
    Vary::parse(text)
        .ok_or_else(|| format!("{text:?} is not a sweep: use severity, population, area or stock"))
}

/// The validated spec, or the reason.
fn spec(args: &SweepArgs, policy: Policy) -> Result<SweepSpec, String> {
    if !(2..=SWEEP_STEPS_MAX).contains(&args.steps) {
        return Err(format!("--steps must be 2 to {SWEEP_STEPS_MAX}, not {}", args.steps));
    }
    if !(0.0..=1.0).contains(&args.threshold) {
        return Err(format!("--threshold must be in [0, 1], not {}", args.threshold));
    }
    if !(args.at_hours.is_finite() && args.at_hours > 0.0 && args.at_hours <= 720.0) {
        return Err(format!("--at-hours must be in (0, 720], not {}", args.at_hours));
    }
    let (from_default, to_default) = match args.vary {
        Vary::Stock => (STOCK_FROM_DEFAULT, STOCK_TO_DEFAULT),
        _ => (SCALE_FROM_DEFAULT, SCALE_TO_DEFAULT),
    };
    let from = args.from.unwrap_or(from_default);
    let to = args.to.unwrap_or(to_default);
    for (name, value) in [("--from", from), ("--to", to)] {
        if !(value.is_finite() && value > 0.0 && value <= SWEEP_FACTOR_MAX) {
            return Err(format!("{name} must be in (0, {SWEEP_FACTOR_MAX}], not {value}"));
        }
    }
    Ok(SweepSpec {
        vary: args.vary,
        steps: args.steps,
        from,
        to,
        threshold: args.threshold,
        at_hours: args.at_hours,
        policy,
    })
}

pub fn run(args: SweepArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let Some((catalog, drill)) = super::drill::load_drill(&args.data, &args.file, &text) else {
        return ExitCode::FAILURE;
    };
    let policy = args.policy.unwrap_or(drill.policy);
    let spec = match spec(&args, policy) {
        Ok(spec) => spec,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(repeats) = args.timing {
        time(&catalog, &drill, &spec, repeats.clamp(1, TIMING_REPEATS_MAX));
    }
    let report = match sweep::sweep(&catalog, &drill, &spec) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.report {
        if let Err(error) = std::fs::write(path, drill::sweep_html::render(&report)) {
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

/// One plain run (what `equipmatch drill FILE` computes) and one sweep, alternately, in this
/// process: the ratio the goal is stated in.
fn time(catalog: &crate::catalog::Catalog, drill: &drill::Drill, spec: &SweepSpec, repeats: usize) {
    let mut ratios = Vec::new();
    for _ in 0..repeats {
        let started = Instant::now();
        let report = drill::run_report(catalog, drill, spec.policy, &mut |_| {}, &|| false);
        let run_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let swept = sweep::sweep(catalog, drill, spec);
        let sweep_seconds = started.elapsed().as_secs_f64();
        let runs = swept.as_ref().map_or(0, |swept| swept.runs);
        let _ = std::hint::black_box((report, swept));
        eprintln!(
            "timing: one drill run {run_seconds:.4} s, sweep ({runs} runs) {sweep_seconds:.4} s, ratio {:.2}",
            sweep_seconds / run_seconds
        );
        ratios.push(sweep_seconds / run_seconds);
    }
    ratios.sort_by(f64::total_cmp);
    eprintln!("timing: median ratio {:.2} over {} repeats", ratios[ratios.len() / 2], ratios.len());
}

fn pct(x: Option<f64>) -> String {
    x.map_or("   —".to_owned(), |x| format!("{:>3.0}%", x * 100.0))
}

fn summary(report: &SweepReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sweep of drill {} · vary {} · policy {} · on-time coverage of what is due within {} h · threshold {:.0}% · {} drill runs",
        report.drill_id,
        report.vary,
        report.policy,
        report.at_hours,
        report.threshold * 100.0,
        report.runs
    );
    let _ = writeln!(out, "\n== steps (monitoring / protection / rescue / all stages)");
    for step in std::iter::once(&report.baseline).chain(&report.steps) {
        let stages: Vec<String> = step.coverage_by_stage.iter().map(|c| pct(*c)).collect();
        let _ =
            writeln!(out, "  {:<12} {}   all {}", step.label, stages.join(" "), pct(step.coverage));
    }
    let _ = writeln!(out, "\n== break points (coverage below the threshold)");
    for point in &report.break_points {
        let detail = match point.status.as_str() {
            "falls_below" => format!(
                "between {} ({}) and {} ({})",
                point.last_above.as_deref().unwrap_or(""),
                pct(point.coverage_last_above).trim(),
                point.first_below.as_deref().unwrap_or(""),
                pct(point.coverage_first_below).trim()
            ),
            "below_at_every_step" => format!(
                "below already at {} ({})",
                point.first_below.as_deref().unwrap_or(""),
                pct(point.coverage_first_below).trim()
            ),
            "never_below" => "never below in this range".to_owned(),
            _ => "nothing due that early".to_owned(),
        };
        let _ = writeln!(out, "  {:<20} {detail}", point.stage);
    }
    let _ = writeln!(
        out,
        "\n== sensitivity: MODEL assumptions moved ±50% (shortfall {} as written; −50% / +50%)",
        pct(Some(report.baseline.shortfall)).trim()
    );
    for row in report.sensitivity.iter().take(10) {
        let _ = writeln!(
            out,
            "  {:<60} {} / {}  moves {:.1} pp",
            row.assumption,
            pct(Some(row.shortfall_down)),
            pct(Some(row.shortfall_up)),
            row.moves_shortfall_by * 100.0
        );
    }
    out
}
