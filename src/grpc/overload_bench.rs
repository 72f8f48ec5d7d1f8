//! The load generator of `equipmatch bench overload`: N callers, each with a deadline, calling
//! Match (or Shortlist) in a closed loop against a running server, while a prober on its own
//! connection checks health at a fixed interval — as a load balancer would — and, given the
//! server's pid, a sampler reads its resident memory.
//!
//! A caller that is refused with RESOURCE_EXHAUSTED waits the RetryInfo delay (with ±50 %
//! jitter, as gRPC's retry policy does) before its next call, unless told to ignore it; any
//! other answer is followed at once by the next call. Every outcome is counted as the client
//! sees it: goodput (OK within the deadline), rejections and their latency, deadline misses
//! (CANCELLED or DEADLINE_EXCEEDED), UNAVAILABLE, UNKNOWN, INTERNAL, and failures that name an
//! HTTP/2 GOAWAY (a connection the server closed).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

use super::client::{self, MatchServiceClient};
use super::pb;

/// Bounds of a run, whatever the flags say.
pub const CALLERS_MAX: usize = 4096;
pub const CONNECTIONS_MAX: usize = 256;
/// The longest phase: the load generator's (`load::PHASE_SECONDS_MAX`).
pub use super::load::PHASE_SECONDS_MAX;
/// Callers per connection when `connections` is 0 (auto): below the server's 64 calls in
/// flight per connection, so excess callers meet admission, not HTTP/2 flow control.
pub const CALLERS_PER_CONNECTION: usize = 32;
/// Distinct failure messages kept per caller, and shown per phase.
const FAILURE_MESSAGES_KEPT: usize = 32;
const FAILURE_MESSAGES_SHOWN: usize = 5;
/// How often the RSS sampler reads `/proc/PID/status`.
const RSS_SAMPLE_INTERVAL: Duration = Duration::from_millis(100);
/// The pause after a call that failed for a reason other than a rejection or a deadline (a
/// closed connection), so a broken server does not turn the loop into a spin.
const FAILURE_PAUSE: Duration = Duration::from_millis(10);

/// What the callers call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Match,
    Shortlist,
}

#[derive(Debug, Clone)]
pub struct OverloadConfig {
    pub server: String,
    /// One phase per entry, in order (e.g. 8 then 256).
    pub callers: Vec<usize>,
    /// 0 = one per `CALLERS_PER_CONNECTION` callers.
    pub connections: usize,
    pub deadline: Duration,
    pub warmup: Duration,
    pub measure: Duration,
    pub target: Target,
    /// Match: options per requirement (0 = the server's default of 5).
    pub options: u32,
    pub health_interval: Duration,
    pub health_timeout: Duration,
    pub server_pid: Option<u32>,
    pub honour_retry_info: bool,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Latency {
    pub n: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(mut micros: Vec<u32>) -> Latency {
        micros.sort_unstable();
        let at = |q: f64| {
            micros.get(((micros.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0)
                as f64
                / 1000.0
        };
        Latency {
            n: micros.len() as u64,
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: micros.last().copied().unwrap_or(0) as f64 / 1000.0,
        }
    }
}

/// One phase as the client saw it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PhaseReport {
    pub callers: usize,
    pub connections: usize,
    pub seconds: f64,
    /// OK answers within the deadline, per second.
    pub goodput_per_s: f64,
    pub ok: Latency,
    /// OK answers that arrived after the deadline (a client without its own timer would
    /// have used them late).
    pub ok_late: u64,
    /// Refused at admission (ErrorInfo reason ENGINE_QUEUE_FULL or ENGINE_DEADLINE_UNREACHABLE,
    /// or any RESOURCE_EXHAUSTED with RetryInfo from a server that names no reason).
    pub rejections_per_s: f64,
    pub rejected: Latency,
    /// Admitted, then dropped before they started (ENGINE_DROPPED_BEFORE_START): answered
    /// RESOURCE_EXHAUSTED late, near the deadline.
    pub dropped_before_start: u64,
    /// Rejections that carried a RetryInfo detail.
    pub rejected_with_retry_info: u64,
    pub deadline_misses: u64,
    pub unavailable: u64,
    pub unknown: u64,
    pub internal: u64,
    pub other_errors: u64,
    /// Failures whose error names an HTTP/2 GOAWAY or ENHANCE_YOUR_CALM (the server closed
    /// the connection).
    pub goaway: u64,
    /// RESOURCE_EXHAUSTED without RetryInfo (not a rejection by admission: e.g. h2's
    /// ENHANCE_YOUR_CALM maps to this code).
    pub exhausted_without_retry_info: u64,
    /// The most frequent failure messages (code: message), with counts.
    pub failure_messages: Vec<(String, u64)>,
    pub health: Latency,
    pub health_timeouts: u64,
    pub health_errors: u64,
    pub rss_idle_kb: Option<u64>,
    pub rss_peak_kb: Option<u64>,
}

#[derive(Debug, Default)]
struct Tally {
    ok: Vec<u32>,
    ok_late: u64,
    rejected: Vec<u32>,
    rejected_with_retry_info: u64,
    dropped_before_start: u64,
    deadline_misses: u64,
    unavailable: u64,
    unknown: u64,
    internal: u64,
    other_errors: u64,
    goaway: u64,
    exhausted_without_retry_info: u64,
    messages: std::collections::BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.ok.extend(other.ok);
        self.ok_late += other.ok_late;
        self.rejected.extend(other.rejected);
        self.rejected_with_retry_info += other.rejected_with_retry_info;
        self.dropped_before_start += other.dropped_before_start;
        self.deadline_misses += other.deadline_misses;
        self.unavailable += other.unavailable;
        self.unknown += other.unknown;
        self.internal += other.internal;
        self.other_errors += other.other_errors;
        self.goaway += other.goaway;
        self.exhausted_without_retry_info += other.exhausted_without_retry_info;
        for (message, n) in other.messages {
            *self.messages.entry(message).or_default() += n;
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs every phase against the server, one after the other.
pub async fn run(config: &OverloadConfig) -> Result<Vec<PhaseReport>, BoxError> {
    let mut reports = Vec::new();
    for &callers in &config.callers {
        reports.push(phase(config, callers.clamp(1, CALLERS_MAX)).await?);
    }
    Ok(reports)
}

async fn phase(config: &OverloadConfig, callers: usize) -> Result<PhaseReport, BoxError> {
    let connections = if config.connections == 0 {
        callers.div_ceil(CALLERS_PER_CONNECTION)
    } else {
        config.connections
    }
    .clamp(1, CONNECTIONS_MAX);
    let mut channels = Vec::with_capacity(connections);
    for _ in 0..connections {
        channels.push(client::connect(&config.server).await?);
    }
    let health_channel = client::connect(&config.server).await?;
    let rss_idle_kb = config.server_pid.and_then(rss_kb);
    let measure = config.measure.min(Duration::from_secs(PHASE_SECONDS_MAX));
    let start = Instant::now() + config.warmup.min(Duration::from_secs(PHASE_SECONDS_MAX));
    let end = start + measure;

    let prober = tokio::spawn(probe_health(
        health_channel,
        config.health_interval,
        config.health_timeout,
        start,
        end,
    ));
    let sampler = config.server_pid.map(|pid| tokio::spawn(sample_rss(pid, end)));
    let matches = Arc::new(match_requests(config.options));
    let shortlists = Arc::new(super::load::shortlist_requests());
    let mut tasks = Vec::with_capacity(callers);
    for caller in 0..callers {
        let channel = channels[caller % connections].clone();
        let (matches, shortlists) = (matches.clone(), shortlists.clone());
        let config = config.clone();
        tasks.push(tokio::spawn(async move {
            call_loop(&config, channel, caller, &matches, &shortlists, start, end).await
        }));
    }
    let mut tally = Tally::default();
    for task in tasks {
        tally.add(task.await?);
    }
    let (health, health_timeouts, health_errors) = prober.await?;
    let rss_peak_kb = match sampler {
        Some(sampler) => sampler.await?,
        None => None,
    };
    let seconds = measure.as_secs_f64();
    let mut failure_messages: Vec<(String, u64)> = tally.messages.into_iter().collect();
    failure_messages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    failure_messages.truncate(FAILURE_MESSAGES_SHOWN);
    Ok(PhaseReport {
        callers,
        connections,
        seconds,
        goodput_per_s: tally.ok.len() as f64 / seconds,
        ok: Latency::of(tally.ok),
        ok_late: tally.ok_late,
        rejections_per_s: tally.rejected.len() as f64 / seconds,
        rejected: Latency::of(tally.rejected),
        rejected_with_retry_info: tally.rejected_with_retry_info,
        dropped_before_start: tally.dropped_before_start,
        deadline_misses: tally.deadline_misses,
        unavailable: tally.unavailable,
        unknown: tally.unknown,
        internal: tally.internal,
        other_errors: tally.other_errors,
        goaway: tally.goaway,
        exhausted_without_retry_info: tally.exhausted_without_retry_info,
        failure_messages,
        health,
        health_timeouts,
        health_errors,
        rss_idle_kb,
        rss_peak_kb,
    })
}

async fn call_loop(
    config: &OverloadConfig,
    channel: Channel,
    caller: usize,
    matches: &[pb::MatchRequest],
    shortlists: &[pb::ShortlistRequest],
    start: Instant,
    end: Instant,
) -> Tally {
    let mut client = MatchServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
    let mut tally = Tally::default();
    // The jitter's generator: deterministic per caller.
    let mut rng = crate::rng::SplitMix64::new(0x9e37_79b9 ^ caller as u64);
    let mut i = caller * 7;
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        i += 1;
        let result = match config.target {
            Target::Match => {
                let mut request = tonic::Request::new(matches[i % matches.len()].clone());
                request.set_timeout(config.deadline);
                client.r#match(request).await.map(|_| ())
            }
            Target::Shortlist => {
                let mut request = tonic::Request::new(shortlists[i % shortlists.len()].clone());
                request.set_timeout(config.deadline);
                client.shortlist(request).await.map(|_| ())
            }
        };
        let done = Instant::now();
        let counted = sent >= start && done <= end;
        let micros = (done - sent).as_micros().min(u128::from(u32::MAX)) as u32;
        let mut pause = Duration::ZERO;
        match result {
            Ok(()) if done - sent <= config.deadline => {
                if counted {
                    tally.ok.push(micros);
                }
            }
            Ok(()) => tally.ok_late += u64::from(counted),
            Err(status)
                if status.code() == Code::ResourceExhausted
                    && status.get_details_retry_info().is_some() =>
            {
                let retry = status.get_details_retry_info().and_then(|info| info.retry_delay);
                let dropped = status
                    .get_details_error_info()
                    .is_some_and(|info| info.reason == crate::exec::REASON_DROPPED);
                if counted && dropped {
                    tally.dropped_before_start += 1;
                } else if counted {
                    tally.rejected.push(micros);
                    tally.rejected_with_retry_info += u64::from(retry.is_some());
                }
                if config.honour_retry_info {
                    if let Some(delay) = retry {
                        pause = delay.mul_f64(0.5 + rng.next_f64());
                    }
                }
            }
            Err(status) => {
                if counted {
                    count_failure(&mut tally, &status);
                }
                if !matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded) {
                    pause = FAILURE_PAUSE;
                }
            }
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause.min(end.saturating_duration_since(Instant::now()))).await;
        }
    }
    tally
}

fn count_failure(tally: &mut Tally, status: &tonic::Status) {
    if names_goaway(status) {
        tally.goaway += 1;
    }
    let message: String = status.message().chars().take(120).collect();
    let key = format!("{:?}: {message}", status.code());
    if let Some(n) = tally.messages.get_mut(&key) {
        *n += 1;
    } else if tally.messages.len() < FAILURE_MESSAGES_KEPT {
        tally.messages.insert(key, 1);
    }
    match status.code() {
        Code::Cancelled | Code::DeadlineExceeded => tally.deadline_misses += 1,
        Code::Unavailable => tally.unavailable += 1,
        Code::Unknown => tally.unknown += 1,
        Code::Internal => tally.internal += 1,
        Code::ResourceExhausted => tally.exhausted_without_retry_info += 1,
        _ => tally.other_errors += 1,
    }
}

/// Whether a failed call's message or error chain names an HTTP/2 GOAWAY.
fn names_goaway(status: &tonic::Status) -> bool {
    let mut texts = vec![status.message().to_owned()];
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(status);
    while let Some(error) = source {
        texts.push(format!("{error} {error:?}"));
        source = error.source();
    }
    texts.iter().any(|text| {
        let text = text.to_ascii_lowercase();
        text.contains("goaway")
            || text.contains("go away")
            || text.contains("enhance_your_calm")
            || text.contains("enhance your calm")
            || text.contains("too_many_resets")
    })
}

/// Health checks at a fixed interval on their own connection: latencies of those that started
/// and ended in the measured window, timeouts, other errors.
async fn probe_health(
    channel: Channel,
    interval: Duration,
    timeout: Duration,
    start: Instant,
    end: Instant,
) -> (Latency, u64, u64) {
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let mut micros = Vec::new();
    let (mut timeouts, mut errors) = (0u64, 0u64);
    let mut next = Instant::now();
    while next < end {
        tokio::time::sleep_until(next.into()).await;
        let sent = Instant::now();
        let mut request = tonic::Request::new(tonic_health::pb::HealthCheckRequest::default());
        request.set_timeout(timeout);
        let result = tokio::time::timeout(timeout, health.check(request)).await;
        let done = Instant::now();
        if sent >= start && sent < end {
            match result {
                Ok(Ok(_)) => {
                    micros.push((done - sent).as_micros().min(u128::from(u32::MAX)) as u32)
                }
                Ok(Err(status))
                    if matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded) =>
                {
                    timeouts += 1
                }
                Ok(Err(_)) => errors += 1,
                Err(_) => timeouts += 1,
            }
        }
        next = (sent + interval).max(done);
    }
    (Latency::of(micros), timeouts, errors)
}

/// Samples the server's resident memory until `end`; the peak (kB).
async fn sample_rss(pid: u32, end: Instant) -> Option<u64> {
    let mut peak = None;
    while Instant::now() < end {
        if let Some(kb) = rss_kb(pid) {
            peak = Some(peak.map_or(kb, |p: u64| p.max(kb)));
        }
        tokio::time::sleep(RSS_SAMPLE_INTERVAL).await;
    }
    peak
}

/// `VmRSS` of a process, in kB (Linux); None elsewhere or when the process is gone.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Match requests over the cluster's places and every scenario and severity (the same spread
/// as `bench grpc`), deterministic, with `options` options a requirement.
fn match_requests(options: u32) -> Vec<pb::MatchRequest> {
    let mut requests = super::load::match_requests();
    for request in &mut requests {
        request.options_per_requirement = options;
    }
    requests
}
