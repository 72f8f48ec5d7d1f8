//! `equipmatch bench visibility` and `bench snapshot`: what holds cost the rest of the service.
//!
//! - `bench visibility`: two running replicas on one store. PlaceHold on A, then read B (a
//!   Shortlist narrowed to the held line's place) until the hold shows; p50/p99 over many holds,
//!   with a pseudo-random pause before each so the holds do not fall in step with any timer on
//!   the servers. `--prefill-lines N` first holds one unit of N other lines, so the store has
//!   thousands of held lines when it matters what a commit republishes. Also prints PlaceHold's
//!   own latency on A (what the acknowledging replica's republish adds to).
//! - `bench snapshot`: in process, the cost of publishing the held-stock snapshot after a
//!   commit, today's persistent snapshot against the full rebuild it replaced (reproduced here
//!   as the baseline), on a registry's line count with N held lines, side by side.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use crate::catalog::{Catalog, CatalogSources, Problems};
use crate::domain::StockLineIdx;
use crate::grpc::visibility_bench::{self, VisibilityOptions, VISIBILITY_WAIT_MAX};
use crate::holds::{HeldSnapshot, LineEntry, LineLevel};

/// Commits timed per side of `bench snapshot`.
const SNAPSHOT_COMMITS_MAX: usize = 1_000_000;

#[derive(Debug, Args)]
pub struct VisibilityArgs {
    /// The replica that places the holds.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    a: String,
    /// The replica that is read until each hold shows (may be A itself).
    #[arg(long, default_value = "http://127.0.0.1:50052")]
    b: String,
    /// Holds placed (one unit each, one at a time).
    #[arg(long, default_value_t = 500)]
    holds: usize,
    /// Distinct stock lines the measured holds cycle over.
    #[arg(long, default_value_t = 20)]
    lines: usize,
    /// Longest pause before a hold (ms); each pause is pseudo-random in [0, this].
    #[arg(long, default_value_t = 30)]
    pause_ms_max: u64,
    /// Hold one unit of this many other lines first.
    #[arg(long, default_value_t = 0)]
    prefill_lines: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Registry folder (default: the embedded sample).
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Lines with a hold before the timed commits.
    #[arg(long, default_value_t = 5000)]
    held_lines: usize,
    /// Commits timed per side.
    #[arg(long, default_value_t = 2000)]
    commits: usize,
    /// Lines each commit touches.
    #[arg(long, default_value_t = 1)]
    touched: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn visibility(args: &VisibilityArgs) -> ExitCode {
    let options = VisibilityOptions {
        a: args.a.clone(),
        b: args.b.clone(),
        holds: args.holds,
        lines: args.lines,
        pause_ms_max: args.pause_ms_max,
        prefill_lines: args.prefill_lines,
    };
    match visibility_bench::run(&options) {
        Ok(result) if args.json => {
            println!("{}", serde_json::to_string(&result).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(r) => {
            println!(
                "{} holds placed on A ({} lines held beforehand), seen on B after: p50 {:.2} ms, \
                 p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; not seen within {:?}: {}",
                r.holds,
                r.prefilled_lines,
                r.visible_p50_ms,
                r.visible_p90_ms,
                r.visible_p99_ms,
                r.visible_max_ms,
                VISIBILITY_WAIT_MAX,
                r.not_seen
            );
            println!(
                "PlaceHold on A: p50 {:.2} ms, p99 {:.2} ms; one read of B: p50 {:.2} ms, {:.1} \
                 reads per hold",
                r.place_p50_ms, r.place_p99_ms, r.read_p50_ms, r.reads_per_hold
            );
            if r.not_seen > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// How `main` at 732dc81 published after every commit: the map of every line with a stock
/// row, rebuilt whole (`HeldSnapshot::from_levels`). Kept here only as the baseline.
fn rebuild_baseline(
    levels: &HashMap<StockLineIdx, (u64, LineLevel)>,
) -> Arc<HashMap<StockLineIdx, f64>> {
    Arc::new(
        levels
            .iter()
            .map(|(line, (catalog_units, level))| {
                (*line, *catalog_units as f64 - level.available_units() as f64)
            })
            .collect(),
    )
}

pub fn snapshot(args: &SnapshotArgs) -> ExitCode {
    let mut problems = Problems::default();
    let sources = match &args.registry {
        Some(dir) => CatalogSources::from_dirs(None, Some(dir), &mut problems),
        None => CatalogSources::embedded(),
    };
    if !problems.is_empty() {
        return super::report_problems(&problems);
    }
    let catalog = match Catalog::load(&sources) {
        Ok(catalog) => catalog,
        Err(error) => return super::report_problems(&error.problems),
    };
    let n_lines = catalog.stock_lines.len();
    let held_lines = args.held_lines.min(n_lines);
    let commits = args.commits.clamp(1, SNAPSHOT_COMMITS_MAX);
    let touched = args.touched.clamp(1, crate::holds::LINES_PER_HOLD_MAX);
    // Held lines spread evenly over the registry; commits touch them in turn.
    let held: Vec<StockLineIdx> =
        (0..held_lines).map(|i| StockLineIdx((i * n_lines / held_lines.max(1)) as u32)).collect();
    let level = |pending: u64| LineLevel {
        on_hand_units: 1000,
        pending_units: pending,
        confirmed_units: 0,
    };

    let mut levels: HashMap<StockLineIdx, (u64, LineLevel)> =
        held.iter().map(|line| (*line, (1000, level(1)))).collect();
    let mut published = rebuild_baseline(&levels);
    let started = Instant::now();
    for commit in 0..commits {
        for k in 0..touched {
            let line = held[(commit * touched + k) % held.len().max(1)];
            levels.insert(line, (1000, level(2 + (commit % 7) as u64)));
        }
        published = rebuild_baseline(&levels);
    }
    let baseline_s = started.elapsed().as_secs_f64() / commits as f64;
    std::hint::black_box(&published);

    let mut current = HeldSnapshot::new(n_lines);
    for line in &held {
        current.set(*line, LineEntry::from_level(1000.0, 1000, level(1)));
    }
    let mut published = Arc::new(current.clone());
    let started = Instant::now();
    for commit in 0..commits {
        for k in 0..touched {
            let line = held[(commit * touched + k) % held.len().max(1)];
            current.set(line, LineEntry::from_level(1000.0, 1000, level(2 + (commit % 7) as u64)));
        }
        published = Arc::new(current.clone());
    }
    let persistent_s = started.elapsed().as_secs_f64() / commits as f64;
    std::hint::black_box(&published);

    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "stock_lines": n_lines, "held_lines": held_lines, "touched_per_commit": touched,
                "commits": commits, "rebuild_us": baseline_s * 1e6,
                "persistent_us": persistent_s * 1e6, "rebuild_over_persistent": baseline_s / persistent_s,
            })
        );
    } else {
        println!(
            "{n_lines} stock lines, {held_lines} held, {touched} touched per commit, {commits} \
             commits: publish by full rebuild {:.2} µs, persistent snapshot {:.2} µs per commit \
             (rebuild ÷ persistent = {:.0}×)",
            baseline_s * 1e6,
            persistent_s * 1e6,
            baseline_s / persistent_s
        );
    }
    ExitCode::SUCCESS
}
