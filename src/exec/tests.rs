//! The pool on its own, with jobs gated by channels so every order of events is forced, not
//! timed: admission bounds, deadline and cancellation drops (never run, counted), panics, the
//! lanes' independence, the threads' priority.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

fn engine(threads: usize, queue_max: usize, drill_threads: usize) -> Engine {
    Engine::start(EngineConfig { threads, queue_max, drill_threads, ..EngineConfig::default() })
        .expect("threads start")
}

/// A job that blocks until released and says when it started.
fn gated(started: mpsc::Sender<()>, release: mpsc::Receiver<()>) -> impl FnOnce() -> u32 + Send {
    move || {
        let _ = started.send(());
        let _ = release.recv();
        7
    }
}

/// Waits (bounded) until `condition` holds on the engine's snapshot.
fn wait_for(engine: &Engine, condition: impl Fn(&EngineSnapshot) -> bool) {
    let give_up = Instant::now() + Duration::from_secs(30);
    while !condition(&engine.snapshot()) {
        assert!(Instant::now() < give_up, "condition not reached: {:?}", engine.snapshot());
        std::thread::yield_now();
    }
}

#[test]
fn a_call_runs_on_a_pool_thread_and_reports_its_times() {
    let engine = engine(1, 4, 1);
    let done = runtime()
        .block_on(
            engine.call(Work::Match, None, || std::thread::current().name().map(String::from)),
        )
        .expect("runs");
    assert_eq!(done.value.as_deref(), Some("engine-dispatch-0"));
    let snapshot = engine.snapshot();
    assert_eq!(snapshot.work[0].completed, 1);
    assert!(snapshot.work[0].estimate > Duration::ZERO);
}

#[test]
fn admission_refuses_beyond_threads_plus_queue_with_a_retry_delay() {
    let engine = engine(1, 2, 1);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let runtime = runtime();
    let first = engine.call(Work::Match, None, gated(started_tx, release_rx));
    started_rx.recv().expect("the first job starts");
    let queued: Vec<_> = (0..2).map(|_| engine.call(Work::Shortlist, None, || 1)).collect();
    let refused = runtime.block_on(engine.call(Work::Match, None, || 2)).expect_err("full");
    match refused {
        Refused::QueueFull { capacity, retry_after, .. } => {
            assert_eq!(capacity, 3);
            assert!(retry_after >= RETRY_AFTER_MIN);
        }
        other => panic!("expected QueueFull, got {other:?}"),
    }
    release_tx.send(()).expect("release");
    assert_eq!(runtime.block_on(first).expect("runs").value, 7);
    for call in queued {
        assert_eq!(runtime.block_on(call).expect("runs").value, 1);
    }
    let snapshot = engine.snapshot();
    assert_eq!(snapshot.work[0].rejected_queue_full, 1);
    assert_eq!(snapshot.work[0].admitted + snapshot.work[1].admitted, 3);
}

#[test]
fn a_queued_job_whose_deadline_passes_never_runs() {
    let engine = engine(1, 4, 1);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let runtime = runtime();
    let first = engine.call(Work::Match, None, gated(started_tx, release_rx));
    started_rx.recv().expect("the first job starts");
    // No estimate yet (nothing has finished), so the short deadline is admitted.
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let deadline = Instant::now() + Duration::from_millis(1);
    let late =
        engine.call(Work::Match, Some(deadline), move || counter.fetch_add(1, Ordering::SeqCst));
    while Instant::now() < deadline {
        std::thread::yield_now();
    }
    release_tx.send(()).expect("release");
    runtime.block_on(first).expect("runs");
    let refused = runtime.block_on(late).expect_err("dropped");
    assert_eq!(refused, Refused::Dropped { work: Work::Match, why: Dropped::DeadlinePassed });
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(engine.snapshot().work[0].dropped[Dropped::DeadlinePassed.index()], 1);
}

#[test]
fn a_queued_job_whose_caller_went_away_never_runs() {
    let engine = engine(1, 4, 1);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let runtime = runtime();
    let first = engine.call(Work::Match, None, gated(started_tx, release_rx));
    started_rx.recv().expect("the first job starts");
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let gone = engine.call(Work::Shortlist, None, move || counter.fetch_add(1, Ordering::SeqCst));
    drop(gone); // the caller goes away while its job is queued
    release_tx.send(()).expect("release");
    runtime.block_on(first).expect("runs");
    wait_for(&engine, |s| s.work[1].dropped[Dropped::CallerGone.index()] == 1);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(engine.snapshot().work[1].completed, 0);
}

#[test]
fn a_deadline_the_queue_cannot_meet_is_refused_at_once() {
    let engine = engine(1, 8, 1);
    let runtime = runtime();
    // Learn an estimate: a job of about 20 ms.
    runtime
        .block_on(engine.call(Work::Match, None, || std::thread::sleep(Duration::from_millis(20))))
        .expect("runs");
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let blocker = engine.call(Work::Match, None, gated(started_tx, release_rx));
    started_rx.recv().expect("the blocker starts");
    let queued = engine.call(Work::Match, None, || 0);
    let refused = runtime
        .block_on(engine.call(Work::Match, Some(Instant::now() + Duration::from_millis(5)), || 0))
        .expect_err("refused");
    assert!(matches!(refused, Refused::DeadlineUnreachable { .. }), "{refused:?}");
    // A generous deadline is still admitted.
    let admitted = engine.call(Work::Match, Some(Instant::now() + Duration::from_secs(60)), || 3);
    release_tx.send(()).expect("release");
    runtime.block_on(blocker).expect("runs");
    runtime.block_on(queued).expect("runs");
    assert_eq!(runtime.block_on(admitted).expect("runs").value, 3);
    assert_eq!(engine.snapshot().work[0].rejected_deadline, 1);
}

#[test]
fn a_panic_fails_only_its_own_call() {
    let engine = engine(1, 4, 1);
    let runtime = runtime();
    let refused = runtime
        .block_on(engine.call(Work::Match, None, || -> u32 { panic!("limit broken") }))
        .expect_err("panicked");
    assert_eq!(refused, Refused::Panicked { work: Work::Match, message: "limit broken".into() });
    assert_eq!(runtime.block_on(engine.call(Work::Match, None, || 5)).expect("runs").value, 5);
    assert_eq!(engine.snapshot().work[0].panicked, 1);
    assert_eq!(
        Error::from(refused).to_string(),
        "internal error: Match failed with a defect and was abandoned: limit broken"
    );
}

#[test]
fn a_running_drill_does_not_hold_back_dispatch_work() {
    let engine = engine(1, 4, 1);
    let runtime = runtime();
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let drill = engine.call(Work::Drill, None, gated(started_tx, release_rx));
    started_rx.recv().expect("the drill starts");
    // The drill lane is full (no queue) ...
    let refused = runtime.block_on(engine.call(Work::Drill, None, || 0)).expect_err("full");
    assert!(matches!(refused, Refused::QueueFull { capacity: 1, .. }), "{refused:?}");
    // ... while Match runs at once.
    assert_eq!(runtime.block_on(engine.call(Work::Match, None, || 9)).expect("runs").value, 9);
    release_tx.send(()).expect("release");
    assert_eq!(runtime.block_on(drill).expect("runs").value, 7);
}

#[cfg(target_os = "linux")]
#[test]
fn engine_threads_run_below_the_callers_priority() {
    let engine = engine(1, 4, 1);
    let runtime = runtime();
    let nice = |work| {
        runtime
            .block_on(engine.call(work, None, || {
                rustix::process::getpriority_process(Some(rustix::thread::gettid()))
            }))
            .expect("runs")
            .value
            .expect("getpriority")
    };
    assert_eq!(nice(Work::Match), DISPATCH_NICE_DEFAULT);
    assert_eq!(nice(Work::Drill), DRILL_NICE_DEFAULT);
}

#[test]
fn shutdown_drops_what_is_queued_and_refuses_what_comes() {
    let engine = engine(1, 4, 1);
    let runtime = runtime();
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let running = engine.call(Work::Match, None, gated(started_tx, release_rx));
    started_rx.recv().expect("starts");
    let queued = engine.call(Work::Match, None, || 0);
    engine.shutdown();
    release_tx.send(()).expect("release");
    assert_eq!(runtime.block_on(running).expect("finishes").value, 7);
    assert_eq!(
        runtime.block_on(queued).expect_err("dropped"),
        Refused::Dropped { work: Work::Match, why: Dropped::ShuttingDown }
    );
    assert!(runtime.block_on(engine.call(Work::Match, None, || 0)).is_err());
}

#[test]
fn the_retry_delay_stretches_as_more_callers_are_refused() {
    let engine = engine(1, 0, 1);
    let runtime = runtime();
    // An estimate of about 200 ms, then a blocker that fills the lane.
    runtime
        .block_on(engine.call(Work::Match, None, || std::thread::sleep(Duration::from_millis(200))))
        .expect("runs");
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let blocker = engine.call(Work::Match, None, gated(started_tx, release_rx));
    started_rx.recv().expect("starts");
    let retry_after = |engine: &Engine| match runtime.block_on(engine.call(Work::Match, None, || 0))
    {
        Err(Refused::QueueFull { retry_after, .. }) => retry_after,
        other => panic!("expected QueueFull, got {other:?}"),
    };
    let first = retry_after(&engine);
    for _ in 0..60 {
        retry_after(&engine);
    }
    let later = retry_after(&engine);
    assert!(later > first.mul_f64(1.5), "{first:?} then {later:?}");
    release_tx.send(()).expect("release");
    runtime.block_on(blocker).expect("runs");
}
