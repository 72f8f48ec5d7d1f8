//! `equipmatch bench auth`: what TLS and token verification cost. The same cheap
//! authenticated call (GetSupplier) against two servers on the same data — one plaintext
//! without auth, one TLS + JWT — alternating A, B, A, B… so drift hits both sides alike; the
//! median of the per-round ratios is the answer.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::connect::ConnectArgs;
use crate::grpc::auth_load::{self, Load};
use crate::grpc::client;
use crate::grpc::load::PHASE_SECONDS_MAX;

/// The most rounds (a phase is at most `grpc::load::PHASE_SECONDS_MAX`).
const ROUNDS_MAX: usize = 20;

#[derive(Debug, Args)]
pub struct AuthBenchArgs {
    /// The plaintext server without auth.
    #[arg(long)]
    plain: String,
    /// The TLS + JWT server (https://…); --token and --ca apply to it only.
    #[arg(long)]
    secure: String,
    #[command(flatten)]
    connect: ConnectArgs,
    /// Connections to each server.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Calls in flight per connection.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Warm-up seconds per phase.
    #[arg(long, default_value_t = 1)]
    warmup_seconds: u64,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Rounds of (plain, secure).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

pub fn run(args: &AuthBenchArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let warmup = Duration::from_secs(args.warmup_seconds.min(PHASE_SECONDS_MAX));
    let measure = Duration::from_secs(args.seconds.clamp(1, PHASE_SECONDS_MAX));
    let result = runtime.block_on(async {
        let secure_credentials = args.connect.credentials()?;
        let mut plain = Vec::new();
        let mut secure = Vec::new();
        for _ in 0..args.connections.clamp(1, auth_load::CONNECTIONS_MAX) {
            plain.push(client::connect_with(&args.plain, &client::Credentials::default()).await?);
            secure.push(client::connect_with(&args.secure, &secure_credentials).await?);
        }
        let mut rounds: Vec<(Load, Load)> = Vec::new();
        for _ in 0..args.rounds.clamp(1, ROUNDS_MAX) {
            let p = auth_load::get_supplier_load(&plain, args.in_flight, warmup, measure).await?;
            let s = auth_load::get_supplier_load(&secure, args.in_flight, warmup, measure).await?;
            rounds.push((p, s));
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(rounds)
    });
    let rounds = match result {
        Ok(rounds) => rounds,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut plain_qps: Vec<f64> = rounds.iter().map(|(p, _)| p.qps).collect();
    let mut secure_qps: Vec<f64> = rounds.iter().map(|(_, s)| s.qps).collect();
    let (plain_median, secure_median) = (median(&mut plain_qps), median(&mut secure_qps));
    // Each round's two phases ran back to back under the same conditions: the median of the
    // per-round ratios is the paired answer, robust to the machine's drift between rounds.
    let mut ratios: Vec<f64> =
        rounds.iter().map(|(p, s)| if p.qps > 0.0 { s.qps / p.qps } else { 0.0 }).collect();
    let ratio = median(&mut ratios);
    let errors: u64 = rounds.iter().map(|(p, s)| p.errors + s.errors).sum();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "call": "CatalogService/GetSupplier", "connections": args.connections,
                "in_flight": args.in_flight, "seconds": args.seconds,
                "rounds": rounds.iter().map(|(p, s)| serde_json::json!({"plain": p, "secure": s})).collect::<Vec<_>>(),
                "plain_qps_median": plain_median, "secure_qps_median": secure_median,
                "ratio_of_medians": if plain_median > 0.0 { secure_median / plain_median } else { 0.0 },
                "ratio": ratio, "cost": 1.0 - ratio, "errors": errors,
            })
        );
    } else {
        println!(
            "GetSupplier, {} connection(s) × {} in flight, {} s per phase",
            args.connections, args.in_flight, args.seconds
        );
        for (i, (p, s)) in rounds.iter().enumerate() {
            println!(
                "  round {}: plain {:>8.0} calls/s (p50 {:>6.0} µs, p99 {:>6.0} µs)   TLS+JWT {:>8.0} calls/s (p50 {:>6.0} µs, p99 {:>6.0} µs)   ratio {:.3}",
                i + 1, p.qps, p.p50_us, p.p99_us, s.qps, s.p50_us, s.p99_us,
                if p.qps > 0.0 { s.qps / p.qps } else { 0.0 }
            );
        }
        println!(
            "  medians: plain {plain_median:.0} calls/s, TLS+JWT {secure_median:.0} calls/s; median of the round ratios {ratio:.3}: cost {:.1} %",
            (1.0 - ratio) * 100.0
        );
    }
    if errors > 0 {
        eprintln!("error: {errors} calls failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
