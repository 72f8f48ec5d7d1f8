//! The gRPC load generator behind `equipmatch bench grpc`: N connections × M calls in flight,
//! a fixed warm-up and duration per phase, against a running server; the empty call (health
//! check), Shortlist, Match (the full answer) and Match with `MATCH_VIEW_PLAN_ONLY` (what a
//! dispatch system that only wants the plan pays), and with `holds` a PlaceHold phase (1 % of calls retry the
//! previous hold id) on a server with a throwaway store: it sets the on-hand of the lines it
//! uses to the maximum first, so stock never runs out. It lives here because it speaks tonic
//! and the generated types; `cli::bench` only parses flags and prints the report.

use std::time::{Duration, Instant};

use super::client::{self, HoldServiceClient, MatchServiceClient};
use super::pb;

/// The longest a measured phase may run, whatever the options say.
pub const PHASE_SECONDS_MAX: u64 = 600;
/// The most connections and calls in flight per connection.
pub const CONNECTIONS_MAX: usize = 64;
pub const IN_FLIGHT_MAX: usize = 1024;
/// One call in this many of the holds phase repeats the previous hold id (an idempotent retry).
const HOLD_RETRY_EVERY: usize = 100;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub server: String,
    /// TLS trust, client certificate and bearer token for every call (`client::connect_with`).
    pub credentials: client::Credentials,
    pub connections: usize,
    pub in_flight: usize,
    pub warmup_seconds: u64,
    pub seconds: u64,
    /// Also measure PlaceHold (changes the server's store).
    pub holds: bool,
}

/// The phases measured, in one run against one server.
#[derive(Debug, Clone, Copy)]
pub struct LoadReport {
    pub empty: PhaseResult,
    pub shortlist: PhaseResult,
    pub matched: PhaseResult,
    /// The same Match requests with `view = MATCH_VIEW_PLAN_ONLY`: no options ranked or sent.
    pub matched_plan_only: PhaseResult,
    pub place_hold: Option<PhaseResult>,
}

/// Runs every phase in turn on one multi-threaded runtime.
pub fn run(options: &LoadOptions) -> Result<LoadReport, BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut channels = Vec::new();
        for _ in 0..options.connections.clamp(1, CONNECTIONS_MAX) {
            channels.push(client::connect_with(&options.server, &options.credentials).await?);
        }
        let empty = phase(&channels, options, Call::Health, &[]).await?;
        let shortlist = phase(&channels, options, Call::Shortlist, &[]).await?;
        let matched = phase(&channels, options, Call::Match, &[]).await?;
        let matched_plan_only = phase(&channels, options, Call::MatchPlanOnly, &[]).await?;
        let place_hold = if options.holds {
            let lines = hold_lines(&channels[0]).await?;
            Some(phase(&channels, options, Call::PlaceHold, &lines).await?)
        } else {
            None
        };
        Ok(LoadReport { empty, shortlist, matched, matched_plan_only, place_hold })
    })
}

/// Requests spread over the cluster's places, every scenario and severity, deterministic.
pub fn match_requests() -> Vec<pb::MatchRequest> {
    const PLACES: [(f64, f64); 8] = [
        (39.6347, 118.1948),
        (38.0289, 114.4737),
        (39.0485, 115.9037),
        (38.8694, 115.4722),
        (40.8191, 114.8614),
        (39.9050, 116.4053),
        (39.1256, 117.1902),
        (36.6023, 114.5118),
    ];
    const SCENARIOS: [&str; 10] = [
        "earthquake",
        "flood",
        "urban-waterlogging",
        "ice-snow",
        "forest-fire",
        "medical-rescue",
        "urban-safety",
        "urban-fire",
        "hazchem",
        "mine-tunnel",
    ];
    let mut requests = Vec::new();
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        for (j, (latitude, longitude)) in PLACES.iter().enumerate() {
            requests.push(pb::MatchRequest {
                scenario_id: (*scenario).into(),
                severity: 1 + ((i + j) % 4) as i32,
                location: Some(pb::LatLng { latitude: *latitude, longitude: *longitude }),
                affected_population: 50_000 * (1 + (i * 7 + j) as u64 % 20),
                affected_area_km2: Some(10.0 * (1 + j) as f64),
                ..Default::default()
            });
        }
    }
    requests
}

/// Shortlist requests over eight categories and places (the same for `bench grpc`, `bench
/// overload` and `bench inproc --grpc-mix`), deterministic.
pub fn shortlist_requests() -> Vec<pb::ShortlistRequest> {
    const CATEGORIES: [&str; 8] = [
        "ambulance",
        "drainage-truck-large",
        "life-detector-radar-uwb",
        "rescuer-ppe-kit",
        "snow-plough-truck",
        "forest-fire-engine-4x4",
        "gas-sensor-manhole",
        "uav-air-base-station",
    ];
    CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, category)| pb::ShortlistRequest {
            category_ids: vec![(*category).into()],
            quantity: (2 + i * 3) as f64,
            location: Some(pb::LatLng {
                latitude: 39.0 + 0.2 * i as f64,
                longitude: 116.0 + 0.3 * i as f64,
            }),
            count: 20,
            ..Default::default()
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Call {
    Health,
    Shortlist,
    Match,
    MatchPlanOnly,
    PlaceHold,
}

/// The stock lines the holds phase uses: those the shortlist requests rank, with their
/// on-hand set to the maximum so the phase measures holds, not running out.
async fn hold_lines(channel: &client::AuthChannel) -> Result<Vec<(String, String)>, BoxError> {
    let mut matching = MatchServiceClient::new(channel.clone());
    let mut lines: Vec<(String, String)> = Vec::new();
    for request in shortlist_requests() {
        for entry in matching.shortlist(request).await?.into_inner().entries {
            let line = (entry.supplier_id, entry.category_id);
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    let update = pb::UpdateStockRequest {
        lines: lines
            .iter()
            .map(|(supplier_id, category_id)| pb::StockQuantity {
                supplier_id: supplier_id.clone(),
                category_id: category_id.clone(),
                on_hand_units: crate::holds::ON_HAND_UNITS_MAX,
            })
            .collect(),
    };
    HoldServiceClient::new(channel.clone()).update_stock(update).await?;
    Ok(lines)
}

/// One measured phase: calls completed per second, latency percentiles, failed calls.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct PhaseResult {
    pub qps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub errors: u64,
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn phase(
    channels: &[client::AuthChannel],
    args: &LoadOptions,
    call: Call,
    lines: &[(String, String)],
) -> Result<PhaseResult, BoxError> {
    // Hold ids unique to this run, so a second run on the same store places new holds.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let warmup = Duration::from_secs(args.warmup_seconds.min(PHASE_SECONDS_MAX));
    let measure = Duration::from_secs(args.seconds.clamp(1, PHASE_SECONDS_MAX));
    let start = Instant::now() + warmup;
    let end = start + measure;
    let mut tasks = Vec::new();
    for (c, channel) in channels.iter().enumerate() {
        for w in 0..args.in_flight.clamp(1, IN_FLIGHT_MAX) {
            let channel = channel.clone();
            let matches = match_requests();
            let shortlists = shortlist_requests();
            let lines = lines.to_vec();
            tasks.push(tokio::spawn(async move {
                let mut health =
                    tonic_health::pb::health_client::HealthClient::new(channel.clone());
                let mut holds = HoldServiceClient::new(channel.clone());
                let mut matching = MatchServiceClient::new(channel);
                let mut latencies: Vec<u32> = Vec::new();
                let mut errors = 0u64;
                let mut i = c * 131 + w * 17;
                loop {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    i += 1;
                    let ok = match call {
                        Call::Health => health
                            .check(tonic_health::pb::HealthCheckRequest::default())
                            .await
                            .is_ok(),
                        Call::Shortlist => matching
                            .shortlist(shortlists[i % shortlists.len()].clone())
                            .await
                            .is_ok(),
                        Call::Match => {
                            matching.r#match(matches[i % matches.len()].clone()).await.is_ok()
                        }
                        Call::MatchPlanOnly => {
                            let mut request = matches[i % matches.len()].clone();
                            request.view = pb::MatchView::PlanOnly as i32;
                            matching.r#match(request).await.is_ok()
                        }
                        Call::PlaceHold => {
                            let n = if i % HOLD_RETRY_EVERY == 0 { i - 1 } else { i };
                            let (supplier_id, category_id) = &lines[n % lines.len().max(1)];
                            let request = pb::PlaceHoldRequest {
                                hold_id: format!("bench-{run_id}-{c}-{w}-{n}"),
                                incident_ref: "bench".into(),
                                lines: vec![pb::HoldLine {
                                    supplier_id: supplier_id.clone(),
                                    category_id: category_id.clone(),
                                    quantity_units: 1,
                                }],
                                ttl_seconds: crate::holds::TTL_SECONDS_MAX,
                            };
                            holds.place_hold(request).await.is_ok()
                        }
                    };
                    let done = Instant::now();
                    if now >= start && done <= end {
                        latencies.push((done - now).as_micros().min(u128::from(u32::MAX)) as u32);
                        errors += u64::from(!ok);
                    }
                }
                (latencies, errors)
            }));
        }
    }
    collect_phase(tasks, measure).await
}

/// Joins a phase's callers — each returning its latencies (µs) inside the measured window and
/// its failed calls — into calls/s over `measure` and latency percentiles.
pub(super) async fn collect_phase(
    tasks: Vec<tokio::task::JoinHandle<(Vec<u32>, u64)>>,
    measure: Duration,
) -> Result<PhaseResult, BoxError> {
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (mut l, e) = task.await?;
        latencies.append(&mut l);
        errors += e;
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies.get(((latencies.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0) as f64
    };
    Ok(PhaseResult {
        qps: latencies.len() as f64 / measure.as_secs_f64(),
        p50_us: at(0.50),
        p99_us: at(0.99),
        errors,
    })
}
