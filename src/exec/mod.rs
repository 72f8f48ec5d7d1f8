//! Engine work off the async runtime: a bounded pool of OS threads reached through a bounded
//! admission queue that knows deadlines.
//!
//! Two lanes, each with its own threads and queue:
//!
//! - **dispatch** (Match, Shortlist): `threads` workers (the cores by default) behind a FIFO of
//!   at most `queue_max` jobs;
//! - **drill** (RunDrill): `drill_threads` workers and no queue (a drill takes seconds; the
//!   caller is told at once to come back rather than parked behind another drill).
//!
//! A drill is seconds of work that cannot be interrupted, so a priority *queue* alone would only
//! order starts: once drills hold every thread, Match waits for seconds. Lanes keep Match's
//! threads its own, and the operating system does the rest: dispatch threads run at a lower
//! priority than the async runtime (health checks and holds preempt them) and drill threads at
//! the lowest (Match preempts them).
//!
//! Admission (`submit`) decides at once, under one lock: a job is refused when its lane is full,
//! or when the expected wait (the estimated cost of the jobs ahead and the remainder of those
//! running, spread over the lane's threads) plus its own estimated cost would not fit in
//! `ADMISSION_BUDGET_SHARE` of the time left to its deadline. The estimates are per kind of work,
//! an exponentially weighted mean of recent run times. A refusal carries a retry delay.
//!
//! Before a job starts, a worker drops it if its deadline has passed, if less time is left than
//! its estimated run time (it would finish for nobody), or if its caller has gone away
//! (`Task::abandoned`, e.g. the reply channel is closed); each is counted. A job either runs
//! whole or not at all: engine work is a pure read of an immutable catalog and a held-stock
//! snapshot, so nothing is half-done. A panic inside a job is caught on its worker and reported
//! to that job's caller only; the worker goes on.
//!
//! **Invariants:** no tonic here, no async runtime needed (the reply is a `tokio::sync::oneshot`,
//! which works across threads without one); no job waits in a queue longer than its deadline
//! without being dropped at its turn; at most `threads + queue_max` jobs per lane exist at once.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::Error;

#[cfg(test)]
mod tests;

/// Dispatch jobs that may wait beyond the running ones, per server (before deadlines are
/// considered). A Match at national scale costs ~3 ms, so a full queue is about a second of
/// work on one core: more only adds waiting, never goodput.
pub const QUEUE_JOBS_DEFAULT: usize = 256;
/// The largest queue and pool an operator may configure.
pub const QUEUE_JOBS_MAX: usize = 65_536;
pub const THREADS_MAX: usize = 256;
/// Drills running at once per server: each keeps a core busy for seconds.
pub const DRILL_THREADS_DEFAULT: usize = 2;
/// Nice value of the dispatch threads: below the async runtime (0), so the runtime's threads —
/// health checks, holds, the decoding of requests and the shedding of excess calls — preempt
/// engine work at once, even when everything shares one core.
pub const DISPATCH_NICE_DEFAULT: i32 = 10;
/// Nice value of the drill threads: the lowest, so Match preempts a drill.
pub const DRILL_NICE_DEFAULT: i32 = 19;
/// A job is admitted only when its expected finish uses at most this share of the time left
/// to its deadline: the rest absorbs estimation error and the answer's way back.
pub const ADMISSION_BUDGET_SHARE: f64 = 0.8;
/// Bounds of the retry delay a refusal suggests.
pub const RETRY_AFTER_MIN: Duration = Duration::from_millis(10);
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(30);
/// Why an `Error::Overloaded` came (google.rpc.ErrorInfo's reason): refused at admission
/// because the lane is full or the deadline cannot be met, or admitted and dropped before it
/// started (its answer comes late, near the deadline).
pub const REASON_QUEUE_FULL: &str = "ENGINE_QUEUE_FULL";
pub const REASON_DEADLINE_UNREACHABLE: &str = "ENGINE_DEADLINE_UNREACHABLE";
pub const REASON_DROPPED: &str = "ENGINE_DROPPED_BEFORE_START";
/// Weight of a new run time in the running estimate of a kind of work.
const ESTIMATE_WEIGHT: f64 = 0.2;
/// Weight of one admission decision in the recent refused share (≈ the last 50 decisions).
const REFUSED_SHARE_WEIGHT: f64 = 0.02;
/// The most the refused share stretches a retry delay.
const RETRY_STRETCH_MAX: f64 = 20.0;

/// A kind of engine work: it names the lane and keeps its own cost estimate and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    Match,
    Shortlist,
    Drill,
}

impl Work {
    pub const ALL: [Work; 3] = [Work::Match, Work::Shortlist, Work::Drill];

    pub fn name(self) -> &'static str {
        match self {
            Work::Match => "Match",
            Work::Shortlist => "Shortlist",
            Work::Drill => "RunDrill",
        }
    }

    pub fn lane(self) -> Lane {
        match self {
            Work::Match | Work::Shortlist => Lane::Dispatch,
            Work::Drill => Lane::Drill,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Each lane has its own threads and queue (see the module comment for why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    Dispatch,
    Drill,
}

impl Lane {
    pub const ALL: [Lane; 2] = [Lane::Dispatch, Lane::Drill];

    pub fn name(self) -> &'static str {
        match self {
            Lane::Dispatch => "dispatch",
            Lane::Drill => "drill",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Sizes and priorities of the pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    /// Dispatch threads; 0 = the cores this process may run on.
    pub threads: usize,
    /// Dispatch jobs waiting beyond those running.
    pub queue_max: usize,
    /// Drill threads (drills have no queue).
    pub drill_threads: usize,
    /// Nice values of the two lanes' threads (Linux; ignored elsewhere). Raising a thread's
    /// nice value needs no privilege.
    pub dispatch_nice: i32,
    pub drill_nice: i32,
    /// The share of the time left to a deadline that a job's expected finish may use
    /// (`ADMISSION_BUDGET_SHARE` by default).
    pub budget_share: f64,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            threads: 0,
            queue_max: QUEUE_JOBS_DEFAULT,
            drill_threads: DRILL_THREADS_DEFAULT,
            dispatch_nice: DISPATCH_NICE_DEFAULT,
            drill_nice: DRILL_NICE_DEFAULT,
            budget_share: ADMISSION_BUDGET_SHARE,
        }
    }
}

impl EngineConfig {
    /// The dispatch thread count this config resolves to.
    pub fn dispatch_threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get()).min(THREADS_MAX)
        } else {
            self.threads.min(THREADS_MAX)
        }
    }
}

/// Why a job was not admitted; the caller may retry after `retry_after`.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// The lane holds `capacity` jobs already.
    QueueFull { work: Work, capacity: usize, retry_after: Duration },
    /// The expected finish is beyond what the deadline allows.
    DeadlineUnreachable { work: Work, expected: Duration, budget: Duration, retry_after: Duration },
    /// The job was admitted but dropped before it started (its caller rarely sees this: it has
    /// gone or timed out).
    Dropped { work: Work, why: Dropped },
    /// The job panicked; the panic's message.
    Panicked { work: Work, message: String },
}

/// Why a queued job never started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    DeadlinePassed,
    /// Its deadline had not passed, but less time was left than the job's estimated run time:
    /// started, it would most likely have finished for nobody.
    DeadlineUnreachable,
    CallerGone,
    ShuttingDown,
}

impl Dropped {
    pub const ALL: [Dropped; 4] = [
        Dropped::DeadlinePassed,
        Dropped::DeadlineUnreachable,
        Dropped::CallerGone,
        Dropped::ShuttingDown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dropped::DeadlinePassed => "deadline_passed",
            Dropped::DeadlineUnreachable => "deadline_unreachable",
            Dropped::CallerGone => "caller_gone",
            Dropped::ShuttingDown => "shutting_down",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl From<Refused> for Error {
    fn from(refused: Refused) -> Error {
        match refused {
            Refused::QueueFull { work, capacity, retry_after } => Error::Overloaded {
                message: format!(
                    "the engine is busy: {capacity} {} jobs are queued or running; retry later",
                    work.lane().name()
                ),
                reason: REASON_QUEUE_FULL,
                retry_after,
            },
            Refused::DeadlineUnreachable { work, expected, budget, retry_after } => {
                Error::Overloaded {
                    message: format!(
                        "{} would finish in about {} ms, after the deadline allows ({} ms); \
                         retry later or with a longer deadline",
                        work.name(),
                        expected.as_millis(),
                        budget.as_millis()
                    ),
                    reason: REASON_DEADLINE_UNREACHABLE,
                    retry_after,
                }
            }
            Refused::Dropped { work, why: Dropped::ShuttingDown } => {
                Error::Unavailable(format!("the server is shutting down; {} not run", work.name()))
            }
            Refused::Dropped { work, why } => Error::Overloaded {
                message: format!("{} was not run: {}", work.name(), why.name().replace('_', " ")),
                reason: REASON_DROPPED,
                retry_after: RETRY_AFTER_MIN,
            },
            Refused::Panicked { work, message } => Error::Internal(format!(
                "{} failed with a defect and was abandoned: {message}",
                work.name()
            )),
        }
    }
}

/// A job as a pool sees it.
pub trait Task: Send + 'static {
    /// True when nobody waits for the result any more (checked just before the job starts).
    fn abandoned(&self) -> bool;
    /// Does the work on a pool thread; catches its own panics to tell its caller, and calls
    /// `started.end` just before it answers (so the counters agree with what the caller saw).
    fn run(self: Box<Self>, started: &Started<'_>);
    /// Called instead of `run` when the job is dropped before it starts.
    fn dropped(self: Box<Self>, why: Dropped);
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    Completed,
    Panicked,
}

/// A job's start, as its task sees it: how long it waited, and the hook that records its end.
pub struct Started<'a> {
    queue_wait: Duration,
    started: Instant,
    ended: std::cell::Cell<bool>,
    record: &'a dyn Fn(Ran, Duration),
}

impl Started<'_> {
    pub fn queue_wait(&self) -> Duration {
        self.queue_wait
    }

    /// Records the end of the run (counters, busy time, the estimate); once.
    pub fn end(&self, ran: Ran) -> Duration {
        let run_time = self.started.elapsed();
        if !self.ended.replace(true) {
            (self.record)(ran, run_time);
        }
        run_time
    }
}

/// A finished call: its value and where its time went.
#[derive(Debug)]
pub struct Done<T> {
    pub value: T,
    pub queue_wait: Duration,
    pub run_time: Duration,
}

/// Counters of one kind of work.
#[derive(Debug, Default)]
struct WorkStats {
    admitted: AtomicU64,
    rejected_full: AtomicU64,
    rejected_deadline: AtomicU64,
    dropped: [AtomicU64; 4],
    completed: AtomicU64,
    panicked: AtomicU64,
    queue_wait_ns: AtomicU64,
    run_ns: AtomicU64,
    /// f64 bits of the estimated run time in nanoseconds; 0 until the first run.
    estimate_ns: AtomicU64,
}

/// A snapshot of one kind of work's counters, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WorkSnapshot {
    pub admitted: u64,
    pub rejected_queue_full: u64,
    pub rejected_deadline: u64,
    /// Indexed like `Dropped::ALL`.
    pub dropped: [u64; 4],
    pub completed: u64,
    pub panicked: u64,
    pub queue_wait: Duration,
    pub run_time: Duration,
    pub estimate: Duration,
}

/// A snapshot of one lane, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LaneSnapshot {
    pub threads: usize,
    pub capacity: usize,
    pub queued: usize,
    pub running: usize,
    pub busy: Duration,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineSnapshot {
    /// Indexed like `Work::ALL`.
    pub work: [WorkSnapshot; 3],
    /// Indexed like `Lane::ALL`.
    pub lanes: [LaneSnapshot; 2],
}

struct Queued {
    work: Work,
    task: Box<dyn Task>,
    enqueued: Instant,
    deadline: Option<Instant>,
    estimate_ns: u64,
    /// Starts this job had to wait for when admitted (the jobs ahead, plus one for a thread to
    /// come free); None when a thread was free.
    positions: Option<usize>,
}

struct Running {
    started: Instant,
    estimate_ns: u64,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Queued>,
    /// Σ estimate_ns of `jobs`.
    queued_ns: u64,
    /// One slot per worker of the lane.
    running: Vec<Option<Running>>,
    shutdown: bool,
    /// Learned wall time per start when the lane is backlogged (ns; 0 until measured): a
    /// queued job's wait divided by the starts it waited for. It covers what run-time
    /// estimates miss — preemption by the runtime and other processes, gaps between jobs, jobs
    /// dropped unrun.
    start_interval_ns: f64,
    /// Recent share of submissions refused (0–1), which stretches the retry delay.
    refused_share: f64,
}

impl QueueState {
    fn busy(&self) -> usize {
        self.running.iter().filter(|r| r.is_some()).count()
    }

    /// The expected wait before a job admitted now would start: the larger of the estimated
    /// costs ahead (spread over the threads) and the learned time per start.
    fn expected_wait(&self, now: Instant) -> Duration {
        let threads = self.running.len().max(1);
        if self.jobs.len() + self.busy() < threads {
            return Duration::ZERO;
        }
        let learned = self.start_interval_ns * (self.jobs.len() + 1) as f64;
        let running_ns: u64 = self
            .running
            .iter()
            .flatten()
            .map(|r| {
                r.estimate_ns.saturating_sub(
                    now.saturating_duration_since(r.started).as_nanos().min(u128::from(u64::MAX))
                        as u64,
                )
            })
            .sum();
        let costs = (self.queued_ns + running_ns) / threads as u64;
        Duration::from_nanos(costs.max(learned as u64))
    }

    /// The positions a job admitted now waits for (see `Queued::positions`).
    fn positions(&self) -> Option<usize> {
        (self.jobs.len() + self.busy() >= self.running.len()).then_some(self.jobs.len() + 1)
    }

    /// Learns from a job leaving the queue after `waited`.
    fn observe_start(&mut self, positions: Option<usize>, waited: Duration) {
        if let Some(positions) = positions {
            let sample = waited.as_nanos() as f64 / positions as f64;
            self.start_interval_ns = if self.start_interval_ns == 0.0 {
                sample
            } else {
                self.start_interval_ns + ESTIMATE_WEIGHT * (sample - self.start_interval_ns)
            };
        }
    }

    /// Notes one admission decision.
    fn observe_verdict(&mut self, refused: bool) {
        self.refused_share +=
            REFUSED_SHARE_WEIGHT * (f64::from(u8::from(refused)) - self.refused_share);
    }

    /// Takes out every queued job whose deadline has passed or whose caller has gone.
    fn purge(&mut self, now: Instant) -> Vec<(Queued, Dropped)> {
        let mut out = Vec::new();
        let mut kept = VecDeque::with_capacity(self.jobs.len());
        for job in self.jobs.drain(..) {
            let why = if job.deadline.is_some_and(|d| now >= d) {
                Some(Dropped::DeadlinePassed)
            } else if job.task.abandoned() {
                Some(Dropped::CallerGone)
            } else {
                None
            };
            match why {
                Some(why) => {
                    self.queued_ns -= job.estimate_ns;
                    out.push((job, why));
                }
                None => kept.push_back(job),
            }
        }
        self.jobs = kept;
        out
    }
}

struct LaneState {
    state: Mutex<QueueState>,
    ready: Condvar,
    threads: usize,
    queue_max: usize,
    nice: i32,
    budget_share: f64,
    busy_ns: AtomicU64,
}

impl LaneState {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A worker never panics while holding the lock (jobs run outside it), so a poisoned
        // lock still holds a consistent queue.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn capacity(&self) -> usize {
        self.threads + self.queue_max
    }
}

struct Shared {
    lanes: [LaneState; 2],
    work: [WorkStats; 3],
}

impl Shared {
    fn stats(&self, work: Work) -> &WorkStats {
        &self.work[work.index()]
    }

    fn estimate_ns(&self, work: Work) -> u64 {
        f64::from_bits(self.stats(work).estimate_ns.load(Ordering::Relaxed)) as u64
    }

    fn observe(&self, work: Work, run_time: Duration) {
        let sample = run_time.as_nanos() as f64;
        let _ = self.stats(work).estimate_ns.fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            |bits| {
                let old = f64::from_bits(bits);
                let new = if old == 0.0 { sample } else { old + ESTIMATE_WEIGHT * (sample - old) };
                Some(new.to_bits())
            },
        );
    }

    fn count_dropped(&self, work: Work, why: Dropped) {
        self.stats(work).dropped[why.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// The pool. Cheap to share behind an `Arc`; `shutdown` (or drop) stops its threads once their
/// current job is done and drops what is queued.
pub struct Engine {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("dispatch_threads", &self.shared.lanes[0].threads)
            .field("queue_max", &self.shared.lanes[0].queue_max)
            .field("drill_threads", &self.shared.lanes[1].threads)
            .finish()
    }
}

impl Engine {
    /// Starts the threads.
    pub fn start(config: EngineConfig) -> std::io::Result<Engine> {
        let lane = |threads: usize, queue_max: usize, nice: i32| LaneState {
            state: Mutex::new(QueueState {
                running: (0..threads).map(|_| None).collect(),
                ..QueueState::default()
            }),
            ready: Condvar::new(),
            threads,
            queue_max: queue_max.min(QUEUE_JOBS_MAX),
            nice,
            budget_share: config.budget_share.clamp(0.05, 1.0),
            busy_ns: AtomicU64::new(0),
        };
        let shared = Arc::new(Shared {
            lanes: [
                lane(config.dispatch_threads().max(1), config.queue_max, config.dispatch_nice),
                lane(config.drill_threads.min(THREADS_MAX), 0, config.drill_nice),
            ],
            work: Default::default(),
        });
        for lane in Lane::ALL {
            for slot in 0..shared.lanes[lane.index()].threads {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("engine-{}-{slot}", lane.name()))
                    .spawn(move || worker(&shared, lane, slot))?;
            }
        }
        Ok(Engine { shared })
    }

    /// Admits `task` or refuses it at once. Never blocks beyond the queue's lock.
    pub fn submit(
        &self,
        work: Work,
        deadline: Option<Instant>,
        task: Box<dyn Task>,
    ) -> Result<(), Refused> {
        let lane = &self.shared.lanes[work.lane().index()];
        let stats = self.shared.stats(work);
        let estimate_ns = self.shared.estimate_ns(work);
        let now = Instant::now();
        let mut state = lane.lock();
        if state.shutdown {
            drop(state);
            return Err(Refused::Dropped { work, why: Dropped::ShuttingDown });
        }
        let mut verdict = assess(lane, &state, work, now, deadline, estimate_ns);
        let mut purged = Vec::new();
        if verdict.is_err() && !state.jobs.is_empty() {
            // Jobs whose callers left still count against the queue: clear them out first.
            purged = state.purge(now);
            if !purged.is_empty() {
                verdict = assess(lane, &state, work, now, deadline, estimate_ns);
            }
        }
        state.observe_verdict(verdict.is_err());
        if verdict.is_ok() {
            let positions = state.positions();
            state.jobs.push_back(Queued {
                work,
                task,
                enqueued: now,
                deadline,
                estimate_ns,
                positions,
            });
            state.queued_ns += estimate_ns;
            lane.ready.notify_one();
        }
        drop(state);
        for (job, why) in purged {
            self.shared.count_dropped(job.work, why);
            job.task.dropped(why);
        }
        match &verdict {
            Ok(()) => stats.admitted.fetch_add(1, Ordering::Relaxed),
            Err(Refused::QueueFull { .. }) => stats.rejected_full.fetch_add(1, Ordering::Relaxed),
            Err(_) => stats.rejected_deadline.fetch_add(1, Ordering::Relaxed),
        };
        verdict
    }

    /// Runs `f` on the pool and awaits its value. Admission happens when this is called, not
    /// when the future is first polled; dropping the future before the job starts means the
    /// job never runs.
    pub fn call<T, F>(
        &self,
        work: Work,
        deadline: Option<Instant>,
        f: F,
    ) -> impl std::future::Future<Output = Result<Done<T>, Refused>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, receiver) = oneshot::channel();
        let admitted = self.submit(work, deadline, Box::new(CallTask { work, f, reply }));
        async move {
            admitted?;
            receiver.await.unwrap_or(Err(Refused::Dropped { work, why: Dropped::ShuttingDown }))
        }
    }

    /// Counters, queue depths and estimates, for metrics.
    pub fn snapshot(&self) -> EngineSnapshot {
        let mut snapshot = EngineSnapshot::default();
        for work in Work::ALL {
            let stats = self.shared.stats(work);
            let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
            snapshot.work[work.index()] = WorkSnapshot {
                admitted: load(&stats.admitted),
                rejected_queue_full: load(&stats.rejected_full),
                rejected_deadline: load(&stats.rejected_deadline),
                dropped: std::array::from_fn(|d| load(&stats.dropped[d])),
                completed: load(&stats.completed),
                panicked: load(&stats.panicked),
                queue_wait: Duration::from_nanos(load(&stats.queue_wait_ns)),
                run_time: Duration::from_nanos(load(&stats.run_ns)),
                estimate: Duration::from_nanos(self.shared.estimate_ns(work)),
            };
        }
        for lane in Lane::ALL {
            let state = &self.shared.lanes[lane.index()];
            let (queued, running) = {
                let queue = state.lock();
                (queue.jobs.len(), queue.busy())
            };
            snapshot.lanes[lane.index()] = LaneSnapshot {
                threads: state.threads,
                capacity: state.capacity(),
                queued,
                running,
                busy: Duration::from_nanos(state.busy_ns.load(Ordering::Relaxed)),
            };
        }
        snapshot
    }

    /// Stops taking work: queued jobs are dropped (their callers get UNAVAILABLE), running ones
    /// finish, then the threads end. Idempotent.
    pub fn shutdown(&self) {
        for lane in &self.shared.lanes {
            lane.lock().shutdown = true;
            lane.ready.notify_all();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn assess(
    lane: &LaneState,
    state: &QueueState,
    work: Work,
    now: Instant,
    deadline: Option<Instant>,
    estimate_ns: u64,
) -> Result<(), Refused> {
    let wait = state.expected_wait(now);
    // Come back when the queue has drained, stretched by how many callers are being refused:
    // with nine in ten refused, ten times later, so retries do not crowd out the work.
    let stretch = 1.0 / (1.0 - state.refused_share).max(1.0 / RETRY_STRETCH_MAX);
    let retry_after = wait.mul_f64(stretch).clamp(RETRY_AFTER_MIN, RETRY_AFTER_MAX);
    if state.jobs.len() + state.busy() >= lane.capacity() {
        return Err(Refused::QueueFull { work, capacity: lane.capacity(), retry_after });
    }
    if let Some(deadline) = deadline {
        let budget = deadline.saturating_duration_since(now);
        let expected = wait + Duration::from_nanos(estimate_ns);
        if expected > budget.mul_f64(lane.budget_share) {
            return Err(Refused::DeadlineUnreachable { work, expected, budget, retry_after });
        }
    }
    Ok(())
}

fn worker(shared: &Shared, lane: Lane, slot: usize) {
    let state = &shared.lanes[lane.index()];
    lower_priority(state.nice, lane);
    loop {
        let job = {
            let mut queue = state.lock();
            loop {
                if queue.shutdown {
                    break None;
                }
                if let Some(job) = queue.jobs.pop_front() {
                    queue.queued_ns -= job.estimate_ns;
                    queue.observe_start(job.positions, job.enqueued.elapsed());
                    queue.running[slot] =
                        Some(Running { started: Instant::now(), estimate_ns: job.estimate_ns });
                    break Some(job);
                }
                queue = state.ready.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        let Some(job) = job else {
            let rest: Vec<Queued> = state.lock().jobs.drain(..).collect();
            for job in rest {
                shared.count_dropped(job.work, Dropped::ShuttingDown);
                job.task.dropped(Dropped::ShuttingDown);
            }
            return;
        };
        run_one(shared, state, slot, job);
        state.lock().running[slot] = None;
    }
}

fn run_one(shared: &Shared, state: &LaneState, slot: usize, job: Queued) {
    let now = Instant::now();
    let estimate = Duration::from_nanos(shared.estimate_ns(job.work));
    let why = if job.deadline.is_some_and(|d| now >= d) {
        Some(Dropped::DeadlinePassed)
    } else if job.deadline.is_some_and(|d| now + estimate > d) {
        Some(Dropped::DeadlineUnreachable)
    } else if job.task.abandoned() {
        Some(Dropped::CallerGone)
    } else {
        None
    };
    if let Some(why) = why {
        state.lock().running[slot] = None;
        shared.count_dropped(job.work, why);
        job.task.dropped(why);
        return;
    }
    let work = job.work;
    let stats = shared.stats(work);
    let queue_wait = now.saturating_duration_since(job.enqueued);
    let record = |ran: Ran, run_time: Duration| {
        // The thread counts as free before the caller hears, so a caller that comes straight
        // back finds the place its call just left.
        state.lock().running[slot] = None;
        state.busy_ns.fetch_add(run_time.as_nanos() as u64, Ordering::Relaxed);
        stats.queue_wait_ns.fetch_add(queue_wait.as_nanos() as u64, Ordering::Relaxed);
        stats.run_ns.fetch_add(run_time.as_nanos() as u64, Ordering::Relaxed);
        match ran {
            Ran::Completed => {
                stats.completed.fetch_add(1, Ordering::Relaxed);
                shared.observe(work, run_time);
            }
            Ran::Panicked => {
                stats.panicked.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    let started = Started {
        queue_wait,
        started: Instant::now(),
        ended: std::cell::Cell::new(false),
        record: &record,
    };
    let task = job.task;
    // Tasks catch their own panics to answer their caller; this is the backstop that keeps the
    // worker alive whatever a task does.
    if catch_unwind(AssertUnwindSafe(|| task.run(&started))).is_err() {
        started.end(Ran::Panicked);
    }
    started.end(Ran::Completed); // a no-op when the task recorded its end itself
}

/// Lowers the calling thread's scheduling priority (Linux: `setpriority` on the thread id,
/// which applies to that thread only).
fn lower_priority(nice: i32, lane: Lane) {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(tid), nice) {
            tracing::warn!(%error, lane = lane.name(), nice, "cannot lower the engine threads' priority");
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (nice, lane);
    }
}

/// `Engine::call`'s task: a closure and the channel its result goes back on.
struct CallTask<F, T> {
    work: Work,
    f: F,
    reply: oneshot::Sender<Result<Done<T>, Refused>>,
}

impl<F, T> Task for CallTask<F, T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn run(self: Box<Self>, started: &Started<'_>) {
        let CallTask { work, f, reply } = *self;
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(value) => {
                let run_time = started.end(Ran::Completed);
                let queue_wait = started.queue_wait();
                let _ = reply.send(Ok(Done { value, queue_wait, run_time }));
            }
            Err(payload) => {
                let message = panic_message(&*payload);
                tracing::error!(work = work.name(), panic = %message, "engine work panicked");
                started.end(Ran::Panicked);
                let _ = reply.send(Err(Refused::Panicked { work, message }));
            }
        }
    }

    fn dropped(self: Box<Self>, why: Dropped) {
        let _ = self.reply.send(Err(Refused::Dropped { work: self.work, why }));
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
