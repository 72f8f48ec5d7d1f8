//! `equipmatch bench`: measurements that belong in benchmarks, not tests.
//!
//! - `bench load`: a registry's full catalog load (validation, sorting, spatial indexes)
//!   against only parsing its CSV, side by side in one run.
//! - `bench grpc`: the load generator (`grpc::load`, N connections × M calls in flight, fixed
//!   warm-up and duration) measures the health check (the empty call), Shortlist, Match and
//!   Match with the plan-only view against the same server in one run; this prints the ratios. `--holds` adds a PlaceHold
//!   phase, for a server on a throwaway store.
//! - `bench drill`: a generated N-incident drill against N independent Match calls for the same
//!   incidents, in process, same catalog, same run.
//! - `bench overload`: callers with a deadline against a running server (`cli/overload.rs`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use crate::catalog::{self, CatalogSources, Problems};
use crate::grpc::load::{self, LoadOptions, LoadReport, PHASE_SECONDS_MAX};

/// Repetitions of each side of `bench load`.
const LOAD_REPEATS: usize = 3;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Full catalog load against CSV parsing alone, same run.
    Load {
        /// Registry folder (suppliers.csv, stock_lines.csv).
        #[arg(long)]
        registry: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Calls/s, p50 and p99 of the empty call, Shortlist and Match against a running server.
    Grpc(GrpcArgs),
    /// In-process Shortlist and Match calls/s on one thread (the PostGIS baseline's partner).
    Inproc {
        /// Registry folder (suppliers.csv, stock_lines.csv); default: the embedded sample.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Category of the shortlist.
        #[arg(long, default_value = "ambulance")]
        category: String,
        /// Measured seconds per phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Also time `bench grpc`'s Shortlist requests through the server's steps in process
        /// (validation and search, response, encoding): three more phases.
        #[arg(long)]
        grpc_mix: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// A generated N-incident drill against N independent Match calls, in process, same run.
    Drill(DrillBenchArgs),
    /// What TLS and bearer tokens cost: a cheap authenticated call (GetSupplier) against a
    /// plaintext server and a TLS + JWT one, alternating, same run.
    Auth(super::auth_bench::AuthBenchArgs),
    /// Hold visibility across two replicas: PlaceHold on A, read B until it shows (p50/p99).
    Visibility(super::bench_holds::VisibilityArgs),
    /// Publishing the held-stock snapshot after a commit: persistent against a full rebuild.
    Snapshot(super::bench_holds::SnapshotArgs),
    /// N callers with a deadline against a running server: goodput, rejections, deadline
    /// misses, health latency alongside, server memory.
    Overload(super::overload::OverloadArgs),
}

#[derive(Debug, Args)]
pub struct DrillBenchArgs {
    /// Registry folder (default: the embedded sample).
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Incidents in the generated drill.
    #[arg(long, default_value_t = 100)]
    incidents: usize,
    /// Seed of the generated drill.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Policy: efficiency or equity.
    #[arg(long, default_value = "efficiency")]
    policy: String,
    /// Also write the generated drill file here.
    #[arg(long)]
    write_drill: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GrpcArgs {
    /// Server URL.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    server: String,
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    /// Connections.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Calls in flight per connection.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Warm-up seconds per phase.
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Also measure PlaceHold (changes the server's store: use a throwaway one).
    #[arg(long)]
    holds: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(command: BenchCommand) -> ExitCode {
    match command {
        BenchCommand::Load { registry, json } => load(&registry, json),
        BenchCommand::Grpc(args) => grpc(&args),
        BenchCommand::Inproc { registry, category, seconds, grpc_mix, json } => {
            inproc(registry.as_deref(), &category, seconds, grpc_mix, json)
        }
        BenchCommand::Drill(args) => drill_bench(&args),
        BenchCommand::Auth(args) => super::auth_bench::run(&args),
        BenchCommand::Visibility(args) => super::bench_holds::visibility(&args),
        BenchCommand::Snapshot(args) => super::bench_holds::snapshot(&args),
        BenchCommand::Overload(args) => super::overload::run(&args),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Parses both CSV files to records and numbers, with no validation or indexing.
fn parse_only(sources: &CatalogSources) -> usize {
    let mut fields = 0usize;
    for file in &sources.registry_files {
        let mut reader =
            csv::ReaderBuilder::new().has_headers(true).from_reader(file.text.as_bytes());
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            for field in record.iter() {
                if let Ok(text) = std::str::from_utf8(field) {
                    fields += usize::from(text.parse::<f64>().is_ok());
                }
            }
        }
    }
    fields
}

fn load(registry: &std::path::Path, json: bool) -> ExitCode {
    let mut problems = Problems::default();
    let sources = CatalogSources::from_dirs(None, Some(registry), &mut problems);
    if !problems.is_empty() {
        return super::report_problems(&problems);
    }
    let bytes: usize = sources.registry_files.iter().map(|f| f.text.len()).sum();
    let (mut parse_s, mut load_s) = (Vec::new(), Vec::new());
    let mut counts = None;
    for _ in 0..LOAD_REPEATS {
        let started = Instant::now();
        std::hint::black_box(parse_only(&sources));
        parse_s.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let loaded = catalog::load(&sources);
        load_s.push(started.elapsed().as_secs_f64());
        if !loaded.problems.is_empty() {
            return super::report_problems(&loaded.problems);
        }
        counts = Some(loaded.catalog.counts());
        drop(std::hint::black_box(loaded));
    }
    let counts = counts.expect("LOAD_REPEATS > 0");
    let (parse, full) = (median(parse_s), median(load_s));
    if json {
        println!(
            "{}",
            serde_json::json!({
                "registry_bytes": bytes, "suppliers": counts.suppliers, "stock_lines": counts.stock_lines,
                "parse_seconds": parse, "load_seconds": full, "load_over_parse": full / parse,
            })
        );
    } else {
        println!(
            "{} suppliers, {} stock lines, {:.1} MB of CSV: parse only {:.3} s, full load {:.3} s (median of {LOAD_REPEATS}); load ÷ parse = {:.2}",
            counts.suppliers,
            counts.stock_lines,
            bytes as f64 / 1e6,
            parse,
            full,
            full / parse
        );
    }
    ExitCode::SUCCESS
}

fn grpc(args: &GrpcArgs) -> ExitCode {
    let credentials = match args.connect.credentials() {
        Ok(credentials) => credentials,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = LoadOptions {
        server: args.server.clone(),
        credentials,
        connections: args.connections,
        in_flight: args.in_flight,
        warmup_seconds: args.warmup_seconds,
        seconds: args.seconds,
        holds: args.holds,
    };
    let LoadReport { empty, shortlist, matched, matched_plan_only, place_hold: held } =
        match load::run(&options) {
            Ok(report) => report,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
    let ratio = |x: f64| if empty.qps > 0.0 { x / empty.qps } else { 0.0 };
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "connections": args.connections, "in_flight": args.in_flight, "seconds": args.seconds,
                "empty_qps": empty.qps, "match_qps": matched.qps, "shortlist_qps": shortlist.qps,
                "match_ratio": ratio(matched.qps), "shortlist_ratio": ratio(shortlist.qps),
                "empty": empty, "match": matched, "shortlist": shortlist,
                "match_plan_only_qps": matched_plan_only.qps,
                "match_plan_only_ratio": ratio(matched_plan_only.qps),
                "match_plan_only": matched_plan_only,
                "place_hold": held, "place_hold_ratio": held.map(|h| ratio(h.qps)),
            })
        );
    } else {
        println!(
            "{} connection(s) × {} in flight, {} s per phase",
            args.connections, args.in_flight, args.seconds
        );
        let phases = [
            ("health (empty)", Some(empty)),
            ("Shortlist", Some(shortlist)),
            ("Match", Some(matched)),
            ("Match, plan only", Some(matched_plan_only)),
            ("PlaceHold", held),
        ];
        for (name, r) in phases.into_iter().filter_map(|(name, r)| r.map(|r| (name, r))) {
            println!(
                "  {name:<16} {:>9.0} calls/s  p50 {:>7.0} µs  p99 {:>7.0} µs  errors {}  ratio {:.3}",
                r.qps,
                r.p50_us,
                r.p99_us,
                r.errors,
                ratio(r.qps)
            );
        }
    }
    let errors = empty.errors
        + shortlist.errors
        + matched.errors
        + matched_plan_only.errors
        + held.map_or(0, |h| h.errors);
    if errors > 0 {
        eprintln!("error: some calls failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Runs `call` for `seconds` (bounded by PHASE_SECONDS_MAX) and returns calls per second,
/// and the time this thread spent on a CPU per call (µs), when the kernel reports it: on a
/// shared machine the wall time also counts the time other processes held the core, the CPU
/// time does not.
fn calls_per_second_and_cpu(seconds: u64, mut call: impl FnMut(u64)) -> (f64, Option<f64>) {
    let duration = Duration::from_secs(seconds.clamp(1, PHASE_SECONDS_MAX));
    let cpu_started = thread_cpu_ns();
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        call(n);
        n += 1;
    }
    let qps = n as f64 / started.elapsed().as_secs_f64();
    let cpu_us = match (cpu_started, thread_cpu_ns()) {
        (Some(from), Some(to)) if n > 0 => Some(to.saturating_sub(from) as f64 / 1e3 / n as f64),
        _ => None,
    };
    (qps, cpu_us)
}

/// Nanoseconds this thread has run on a CPU (the first field of
/// `/proc/thread-self/schedstat`); `None` where the kernel does not provide it.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// `bench inproc`'s incident places: the same spread as the PostGIS script's pgbench file
/// (latitude 36.5–41, longitude 114–119.5), a fixed sequence.
fn inproc_location(n: u64) -> crate::domain::LatLon {
    let a = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
    let b = (n.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) >> 11) as f64 / (1u64 << 53) as f64;
    crate::domain::LatLon::new(36.5 + 4.5 * a, 114.0 + 5.5 * b).expect("in range")
}

/// `bench inproc`'s Shortlist number `n` (the timed loop and the profile ask the same).
fn inproc_shortlist_query(
    category: crate::domain::CategoryIdx,
    n: u64,
) -> crate::matching::ShortlistQuery {
    crate::matching::ShortlistQuery {
        categories: vec![category],
        quantity: 10.0,
        location: Some(inproc_location(n)),
        window_hours: 12.0,
        count: 20,
        filters: Default::default(),
        weights: Default::default(),
        prefer_kinds: Vec::new(),
    }
}

/// `bench inproc`'s Match number `n` of an earthquake at `severity`.
fn inproc_match_query(
    scenario: &crate::domain::Scenario,
    severity: crate::domain::Severity,
    n: u64,
) -> crate::matching::MatchQuery<'_> {
    crate::matching::MatchQuery {
        scenario,
        severity,
        location: inproc_location(n),
        affected_population: 500_000.0,
        affected_area_km2: 200.0,
        options_per_requirement: 5,
        max_eta_hours: None,
        filters: Default::default(),
        weights: Default::default(),
        prefer_kinds: Vec::new(),
    }
}

fn inproc(
    registry: Option<&std::path::Path>,
    category: &str,
    seconds: u64,
    grpc_mix: bool,
    json: bool,
) -> ExitCode {
    use crate::domain::Severity;
    use crate::matching::NoHolds;
    let mut problems = Problems::default();
    let sources = CatalogSources::from_dirs(None, registry, &mut problems);
    let catalog = match crate::catalog::Catalog::load(&sources) {
        Ok(catalog) if problems.is_empty() => catalog,
        Ok(_) => return super::report_problems(&problems),
        Err(error) => return super::report_problems(&error.problems),
    };
    let Some(category) = catalog.category_by_id(category) else {
        eprintln!("error: unknown category {category:?}");
        return ExitCode::FAILURE;
    };
    let shortlist_query = |n: u64| inproc_shortlist_query(category, n);
    let scenario = catalog.scenario_by_id("earthquake");

    let (shortlist_qps, shortlist_cpu_us) = calls_per_second_and_cpu(seconds, |n| {
        std::hint::black_box(crate::matching::shortlist(&catalog, &NoHolds, &shortlist_query(n)));
    });
    let (match_qps, match_cpu_us) = match scenario {
        Some(scenario) => calls_per_second_and_cpu(seconds, |n| {
            let query = inproc_match_query(scenario, Severity::ALL[(n % 4) as usize], n);
            std::hint::black_box(crate::matching::match_incident(&catalog, &NoHolds, &query));
        }),
        None => (0.0, None),
    };
    // What `view = MATCH_VIEW_PLAN_ONLY` asks of the engine: no options ranked, the plan only.
    let (match_plan_only_qps, match_plan_only_cpu_us) = match scenario {
        Some(scenario) => calls_per_second_and_cpu(seconds, |n| {
            let mut query = inproc_match_query(scenario, Severity::ALL[(n % 4) as usize], n);
            query.options_per_requirement = 0;
            std::hint::black_box(crate::matching::match_incident(&catalog, &NoHolds, &query));
        }),
        None => (0.0, None),
    };
    // What one call looks at: the profile of the work behind the rates above.
    let (requirements, examined) = scenario.map_or((0, 0), |scenario| {
        match_work(&catalog, &inproc_match_query(scenario, Severity::I, 0))
    });
    let shortlist_examined =
        crate::matching::shortlist(&catalog, &NoHolds, &shortlist_query(0)).lines_examined;
    let mix = if grpc_mix {
        crate::grpc::shortlist_bench::shortlist_mix(&catalog, seconds)
    } else {
        None
    };
    let rates = InprocRates {
        stock_lines: catalog.counts().stock_lines,
        category_lines: catalog.category_lines(category).len(),
        shortlist: (shortlist_qps, shortlist_cpu_us),
        matches: (match_qps, match_cpu_us),
        plan_only: (match_plan_only_qps, match_plan_only_cpu_us),
        requirements,
        examined,
        shortlist_examined,
        mix,
    };
    print_inproc(&rates, json);
    ExitCode::SUCCESS
}

/// A Match's requirements and the stock lines it examined for them.
fn match_work(
    catalog: &crate::catalog::Catalog,
    query: &crate::matching::MatchQuery,
) -> (usize, usize) {
    let result = crate::matching::match_incident(catalog, &crate::matching::NoHolds, query);
    let requirements = result.stages.iter().flat_map(|stage| stage.requirements.iter());
    requirements.fold((0, 0), |(n, examined), r| (n + 1, examined + r.lines_examined))
}

/// What `bench inproc` measured: calls per second and CPU µs per call of each phase (`None`
/// where the thread's CPU time cannot be read), and the work one call does.
struct InprocRates {
    stock_lines: usize,
    category_lines: usize,
    shortlist: (f64, Option<f64>),
    matches: (f64, Option<f64>),
    plan_only: (f64, Option<f64>),
    requirements: usize,
    examined: usize,
    shortlist_examined: usize,
    mix: Option<crate::grpc::shortlist_bench::ShortlistMix>,
}

/// Prints `bench inproc`'s results as one JSON object (keys only ever added) or a sentence.
fn print_inproc(r: &InprocRates, json: bool) {
    if json {
        let mut report = serde_json::json!({
            "stock_lines": r.stock_lines, "shortlist_qps": r.shortlist.0, "match_qps": r.matches.0,
            "shortlist_us": 1e6 / r.shortlist.0, "match_us": 1e6 / r.matches.0,
            "match_plan_only_qps": r.plan_only.0,
            "match_plan_only_us": 1e6 / r.plan_only.0,
            "match_requirements": r.requirements, "match_lines_examined": r.examined,
            "shortlist_lines_examined": r.shortlist_examined,
            "category_lines": r.category_lines,
            "shortlist_cpu_us": r.shortlist.1, "match_cpu_us": r.matches.1,
            "match_plan_only_cpu_us": r.plan_only.1,
        });
        if let Some(mix) = &r.mix {
            report["grpc_mix_search_us"] = mix.search_us.into();
            report["grpc_mix_response_us"] = mix.response_us.into();
            report["grpc_mix_encoded_us"] = mix.encoded_us.into();
            report["grpc_mix_lines_examined"] = mix.lines_examined.into();
            report["grpc_mix_response_bytes"] = mix.response_bytes.into();
        }
        println!("{report}");
    } else {
        println!(
            "{} stock lines, one thread: Shortlist {:.0} calls/s ({:.1} µs, {} of {} lines examined), Match {:.0} calls/s ({:.1} µs, {} requirements, {} lines examined), Match plan only {:.0} calls/s ({:.1} µs)",
            r.stock_lines,
            r.shortlist.0,
            1e6 / r.shortlist.0,
            r.shortlist_examined,
            r.category_lines,
            r.matches.0,
            1e6 / r.matches.0,
            r.requirements,
            r.examined,
            r.plan_only.0,
            1e6 / r.plan_only.0
        );
        if let Some(mix) = &r.mix {
            println!(
                "bench grpc's Shortlist requests, in process: validation and search {:.1} µs, with the response {:.1} µs, encoded {:.1} µs ({:.0} lines examined, {:.0} bytes)",
                mix.search_us, mix.response_us, mix.encoded_us, mix.lines_examined, mix.response_bytes
            );
        }
    }
}

/// The most incidents `bench drill` generates (the drill format's own limit).
const BENCH_INCIDENTS_MAX: usize = crate::drill::format::INCIDENTS_PER_DRILL_MAX;

/// A deterministic N-incident drill over the region's places (zone tiers other than outside):
/// scenarios in turn, positions jittered by up to ±0.25°, starts within 72 hours. Every number
/// is a benchmark assumption.
fn generated_drill(catalog: &catalog::Catalog, incidents: usize, seed: u64) -> String {
    use std::fmt::Write as _;
    let mut rng = crate::rng::SplitMix64::new(seed);
    let places: Vec<&crate::domain::Place> =
        catalog.places.iter().filter(|p| p.zone != crate::domain::ZoneTier::Outside).collect();
    let mut text = String::from(
        "id = \"generated\"\nname = \"Generated stress drill\"\nsummary = \"Benchmark: many incidents at once.\"\n\
         source = \"MODEL: generated by equipmatch bench drill\"\ngrade = \"MODEL\"\n",
    );
    for i in 0..incidents {
        let scenario = &catalog.scenarios[i % catalog.scenarios.len()];
        let place = places[rng.below(places.len() as u64) as usize];
        let severity = ["I", "II", "III", "IV"][rng.below(4) as usize];
        let _ = write!(
            text,
            "\n[[incident]]\nid = \"i{i:04}\"\nscenario = \"{}\"\nstart_hours = {}\nlatitude = {:.4}\nlongitude = {:.4}\n\
             severity = \"{severity}\"\naffected_population = {}\naffected_area_km2 = {}\nsource = \"MODEL: generated\"\ngrade = \"MODEL\"\n",
            scenario.id,
            rng.below(72),
            place.location.latitude() + (rng.next_f64() - 0.5) * 0.5,
            place.location.longitude() + (rng.next_f64() - 0.5) * 0.5,
            50_000 + rng.below(950_000),
            10 + rng.below(490),
        );
    }
    text
}

/// `bench drill`'s generated drill, written to `--write-drill` if asked and parsed; `None`
/// once the error is printed.
fn bench_drill_file(
    catalog: &catalog::Catalog,
    args: &DrillBenchArgs,
) -> Option<crate::drill::Drill> {
    let text = generated_drill(catalog, args.incidents, args.seed);
    if let Some(path) = &args.write_drill {
        if let Err(error) = std::fs::write(path, &text) {
            eprintln!("error: cannot write {}: {error}", path.display());
            return None;
        }
    }
    match crate::drill::parse(catalog, "generated", &text) {
        Ok(drill) => Some(drill),
        Err(problems) => {
            eprintln!("error: the generated drill does not parse: {:?}", problems.list.first());
            None
        }
    }
}

/// One Match per incident of the drill, as a dispatch system would ask: the requirements
/// they answered.
fn match_each_incident(catalog: &catalog::Catalog, drill: &crate::drill::Drill) -> usize {
    let mut requirements = 0usize;
    for incident in &drill.incidents {
        let Some(scenario) = catalog.scenario_by_id(incident.scenario.as_str()) else { continue };
        let query = crate::matching::MatchQuery {
            scenario,
            severity: incident.severity,
            location: incident.location,
            affected_population: incident.affected_population,
            affected_area_km2: incident.affected_area_km2,
            options_per_requirement: crate::matching::OPTIONS_PER_REQUIREMENT_DEFAULT,
            max_eta_hours: None,
            filters: Default::default(),
            weights: Default::default(),
            prefer_kinds: Vec::new(),
        };
        let result = crate::matching::match_incident(catalog, &crate::matching::NoHolds, &query);
        requirements += result.stages.iter().map(|s| s.requirements.len()).sum::<usize>();
    }
    requirements
}

fn drill_bench(args: &DrillBenchArgs) -> ExitCode {
    let Some(policy) = crate::drill::Policy::parse(&args.policy) else {
        eprintln!("error: --policy must be efficiency or equity");
        return ExitCode::FAILURE;
    };
    if args.incidents == 0 || args.incidents > BENCH_INCIDENTS_MAX {
        eprintln!("error: --incidents must be in 1..={BENCH_INCIDENTS_MAX}");
        return ExitCode::FAILURE;
    }
    let mut problems = Problems::default();
    let sources = CatalogSources::from_dirs(None, args.registry.as_deref(), &mut problems);
    let load_started = Instant::now();
    let catalog = match catalog::Catalog::load(&sources) {
        Ok(catalog) if problems.is_empty() => catalog,
        Ok(_) | Err(_) => {
            eprintln!("error: the catalog does not load; run `equipmatch check`");
            return ExitCode::FAILURE;
        }
    };
    let load_seconds = load_started.elapsed().as_secs_f64();
    let Some(drill) = bench_drill_file(&catalog, args) else {
        return ExitCode::FAILURE;
    };
    let drill_started = Instant::now();
    let run = crate::drill::run_report_outcome(&catalog, &drill, policy, &mut |_| {}, &|| false);
    let (report, outcome) = match run {
        Some(Ok(run)) => run,
        Some(Err(error)) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
        None => unreachable!("a run that is never stopped completes"),
    };
    let drill_seconds = drill_started.elapsed().as_secs_f64();

    let match_started = Instant::now();
    let match_requirements = match_each_incident(&catalog, &drill);
    let match_seconds = match_started.elapsed().as_secs_f64();
    println!(
        "catalog: {} suppliers, {} stock lines (load {load_seconds:.2} s)",
        catalog.suppliers.len(),
        catalog.stock_lines.len()
    );
    println!(
        "drill ({} policy): {} incidents, {} requirements, {} categories, {} candidate lines: {drill_seconds:.3} s (run + report)",
        policy.key(),
        drill.incidents.len(),
        report.totals.requirements,
        report.totals.categories,
        report.totals.candidate_lines
    );
    println!(
        "match: {} independent Match calls ({match_requirements} requirements): {match_seconds:.3} s",
        drill.incidents.len()
    );
    let rounds: Vec<usize> = outcome.categories.iter().map(|c| c.rounds).collect();
    println!(
        "pricing: {} solve-and-price rounds over {} passes (at most {} in one), {} passes cut at a limit",
        rounds.iter().sum::<usize>(),
        rounds.len(),
        rounds.iter().max().unwrap_or(&0),
        outcome.categories.iter().filter(|c| c.cut).count()
    );
    println!("ratio drill / matches: {:.1}×", drill_seconds / match_seconds.max(1e-9));
    ExitCode::SUCCESS
}
