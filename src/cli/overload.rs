//! `serve`'s engine and metrics flags, and `bench overload`: callers with a deadline against a
//! running server, printing goodput, rejections, deadline misses, health latency alongside and
//! the server's memory (the load generator itself is `grpc::overload_bench`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::exec::{EngineConfig, QUEUE_JOBS_MAX, THREADS_MAX};
use crate::grpc::overload_bench::{self, OverloadConfig, PhaseReport, Target};

/// `serve` flags of the engine pool and the metrics listener.
#[derive(Debug, Args, Clone)]
pub struct EngineArgs {
    /// Serve Prometheus metrics over HTTP at ADDR/metrics (off by default; no authentication,
    /// so keep it on loopback or a private interface).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Engine threads for Match and Shortlist (default: the cores this process may use).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=THREADS_MAX as i64))]
    pub engine_threads: Option<u16>,
    /// Match and Shortlist jobs that may wait beyond the running ones.
    #[arg(long, default_value_t = crate::exec::QUEUE_JOBS_DEFAULT as u32,
          value_parser = clap::value_parser!(u32).range(0..=QUEUE_JOBS_MAX as i64))]
    pub engine_queue: u32,
    /// Drills that may run at once (each on its own lowest-priority thread).
    #[arg(long, default_value_t = crate::exec::DRILL_THREADS_DEFAULT as u16,
          value_parser = clap::value_parser!(u16).range(0..=THREADS_MAX as i64))]
    pub drill_threads: u16,
    /// Nice value of the engine's Match/Shortlist threads (0–19; the runtime runs at 0, so
    /// health checks and holds preempt engine work).
    #[arg(long, default_value_t = crate::exec::DISPATCH_NICE_DEFAULT,
          value_parser = clap::value_parser!(i32).range(0..=19))]
    pub engine_nice: i32,
}

impl EngineArgs {
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            threads: self.engine_threads.map_or(0, usize::from),
            queue_max: self.engine_queue as usize,
            drill_threads: usize::from(self.drill_threads),
            dispatch_nice: self.engine_nice,
            ..EngineConfig::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct OverloadArgs {
    /// Server URL.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Callers per phase, comma-separated; one phase each, in order (the first is the
    /// baseline of the goodput ratio).
    #[arg(long, value_delimiter = ',', default_value = "8,256")]
    callers: Vec<usize>,
    /// Connections (0 = one per 32 callers).
    #[arg(long, default_value_t = 0)]
    connections: usize,
    /// Each call's deadline (ms), sent as grpc-timeout.
    #[arg(long, default_value_t = 500)]
    deadline_ms: u64,
    /// Warm-up seconds per phase.
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// What the callers call: match or shortlist.
    #[arg(long, default_value = "match")]
    call: String,
    /// Match options per requirement (0 = the server's default, 5; 50 = the heavy Match).
    #[arg(long, default_value_t = 0)]
    options: u32,
    /// Interval between health checks (ms), on their own connection.
    #[arg(long, default_value_t = 20)]
    health_interval_ms: u64,
    /// A health check slower than this counts as timed out (ms).
    #[arg(long, default_value_t = 2000)]
    health_timeout_ms: u64,
    /// The server's pid: report its resident memory idle and at peak (Linux).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Retry refused calls at once instead of after RetryInfo's delay (a misbehaving client).
    #[arg(long)]
    ignore_retry_info: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &OverloadArgs) -> ExitCode {
    let target = match args.call.as_str() {
        "match" => Target::Match,
        "shortlist" => Target::Shortlist,
        other => {
            eprintln!("error: --call {other:?}: expected match or shortlist");
            return ExitCode::FAILURE;
        }
    };
    let config = OverloadConfig {
        server: args.server.clone(),
        callers: args.callers.clone(),
        connections: args.connections,
        deadline: Duration::from_millis(args.deadline_ms.max(1)),
        warmup: Duration::from_secs(args.warmup_seconds),
        measure: Duration::from_secs(args.seconds.max(1)),
        target,
        options: args.options,
        health_interval: Duration::from_millis(args.health_interval_ms.max(1)),
        health_timeout: Duration::from_millis(args.health_timeout_ms.max(1)),
        server_pid: args.server_pid,
        honour_retry_info: !args.ignore_retry_info,
    };
    let Some(runtime) = super::runtime() else { return ExitCode::FAILURE };
    let reports = match runtime.block_on(overload_bench::run(&config)) {
        Ok(reports) => reports,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let baseline = reports.first().map_or(0.0, |r| r.goodput_per_s);
    let ratio = |r: &PhaseReport| if baseline > 0.0 { r.goodput_per_s / baseline } else { 0.0 };
    if args.json {
        let phases: Vec<_> = reports
            .iter()
            .map(|r| {
                let mut value = serde_json::to_value(r).unwrap_or_default();
                value["goodput_ratio"] = serde_json::json!(ratio(r));
                value
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "call": args.call, "deadline_ms": args.deadline_ms, "options": args.options,
                "honour_retry_info": !args.ignore_retry_info, "phases": phases,
            })
        );
    } else {
        println!(
            "{} with a {} ms deadline, {} s per phase{}",
            args.call,
            args.deadline_ms,
            args.seconds,
            if args.ignore_retry_info { ", RetryInfo ignored" } else { "" }
        );
        for r in &reports {
            print_phase(r, ratio(r));
        }
    }
    ExitCode::SUCCESS
}

fn print_phase(r: &PhaseReport, ratio: f64) {
    println!("  {} callers on {} connection(s):", r.callers, r.connections);
    println!(
        "    goodput     {:>8.1}/s  (×{ratio:.2} of the first phase)  ok p50 {:.1} ms  p99 {:.1} ms  late {}",
        r.goodput_per_s, r.ok.p50_ms, r.ok.p99_ms, r.ok_late
    );
    println!(
        "    rejected    {:>8.1}/s  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  with RetryInfo {}",
        r.rejections_per_s,
        r.rejected.p50_ms,
        r.rejected.p99_ms,
        r.rejected.max_ms,
        r.rejected_with_retry_info
    );
    println!(
        "    dropped     {} admitted but dropped before they started (answered RESOURCE_EXHAUSTED near the deadline)",
        r.dropped_before_start
    );
    println!(
        "    failures    deadline {}  UNAVAILABLE {}  UNKNOWN {}  INTERNAL {}  RESOURCE_EXHAUSTED without RetryInfo {}  other {}  GOAWAY {}",
        r.deadline_misses, r.unavailable, r.unknown, r.internal, r.exhausted_without_retry_info, r.other_errors, r.goaway
    );
    for (message, n) in &r.failure_messages {
        println!("      {n:>6} × {message}");
    }
    println!(
        "    health      p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} checks, {} timed out, {} failed)",
        r.health.p50_ms, r.health.p99_ms, r.health.max_ms, r.health.n, r.health_timeouts, r.health_errors
    );
    if let (Some(idle), Some(peak)) = (r.rss_idle_kb, r.rss_peak_kb) {
        println!(
            "    server RSS  idle {:.1} MB  peak {:.1} MB  (×{:.2})",
            idle as f64 / 1024.0,
            peak as f64 / 1024.0,
            peak as f64 / idle.max(1) as f64
        );
    }
}
