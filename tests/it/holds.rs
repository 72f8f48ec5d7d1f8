//! Holds against the real server on 127.0.0.1:0 (SQLite store in a temporary folder), and a
//! seeded simulation against the store itself.
//!
//! Properties checked:
//! - every HoldService RPC answers, and every error code with its details: INVALID_ARGUMENT
//!   (a field violation per bad field), NOT_FOUND (unknown hold, unknown stock line),
//!   ALREADY_EXISTS (a reused hold_id with other content), FAILED_PRECONDITION (each short line
//!   with what is available; a hold in the wrong state), RESOURCE_EXHAUSTED (a full queue),
//!   UNAVAILABLE (a store that is down);
//! - idempotency: the same hold_id and content returns the stored hold with no second effect;
//!   confirm and release are safe to retry;
//! - Match and Shortlist see availability net of pending and confirmed holds as soon as the
//!   hold is acknowledged, and UpdateStock's on-hand;
//! - expiry is decided by the server's clock, exactly at placed_at + ttl;
//! - the audit trail records every state change with the caller from the metadata;
//! - a call dropped at its deadline leaves a whole hold or none;
//! - a seeded simulation (many dispatchers; place, confirm, release, expiry, retries,
//!   duplicates, reordering, concurrent bursts, dropped callers, a restart) agrees with a
//!   model after every step, and per stock line confirmed + pending ≤ on hand always;
//! - concurrent calls through gRPC on a few hot stock lines: every acknowledged outcome is in
//!   the final state, and no line is oversubscribed.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use equipmatch::catalog::Catalog;
use equipmatch::domain::Id;
use equipmatch::error::Error;
use equipmatch::grpc::pb;
use equipmatch::holds::{
    system_clock, Caller, Clock, Command, HeldSnapshot, HoldState, HoldStore, NewHold, NewHoldLine,
    Outcome, StockRef, StoreFuture,
};
use equipmatch::matching::HeldStock;
use tonic::{Code, Request};
use tonic_types::StatusExt;

use crate::support::{embedded_catalog, Backend, TestServer};

/// Stock lines with a small on-hand quantity (so holds run out), in catalog order.
pub fn small_lines(catalog: &Catalog, n: usize) -> Vec<StockRef> {
    (0..catalog.stock_lines.len())
        .map(|i| StockRef::from_catalog(catalog, equipmatch::domain::StockLineIdx(i as u32)))
        .filter(|stock| (5..=40).contains(&stock.catalog_on_hand_units))
        .take(n)
        .collect()
}

pub fn place_request(
    hold_id: &str,
    incident: &str,
    lines: &[(&StockRef, u64)],
) -> pb::PlaceHoldRequest {
    pb::PlaceHoldRequest {
        hold_id: hold_id.into(),
        incident_ref: incident.into(),
        lines: lines
            .iter()
            .map(|(stock, units)| pb::HoldLine {
                supplier_id: stock.supplier_id.to_string(),
                category_id: stock.category_id.to_string(),
                quantity_units: *units,
            })
            .collect(),
        ttl_seconds: 600,
    }
}

fn as_caller<T>(message: T, caller: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-equipmatch-caller", caller.parse().unwrap());
    request
}

/// A manual clock for the store (ms since the epoch).
fn manual_clock(start_ms: i64) -> (Clock, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(start_ms));
    let reader = now.clone();
    (Arc::new(move || reader.load(Ordering::SeqCst)), now)
}

async fn stock_available(server: &TestServer, stock: &StockRef) -> f64 {
    let response = server
        .matching()
        .shortlist(pb::ShortlistRequest {
            category_ids: vec![stock.category_id.to_string()],
            quantity: 1.0,
            count: 200,
            ..Default::default()
        })
        .await
        .expect("shortlist answers")
        .into_inner();
    response
        .entries
        .iter()
        .find(|entry| entry.supplier_id == stock.supplier_id.as_str())
        .map_or(0.0, |entry| entry.quantity_from_stock)
}

fn precondition_subjects(status: &tonic::Status) -> Vec<(String, String, String)> {
    status
        .get_details_precondition_failure()
        .map(|failure| {
            failure.violations.into_iter().map(|v| (v.r#type, v.subject, v.description)).collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn hold_lifecycle_and_every_error_code() {
    lifecycle(Backend::Sqlite).await;
}

pub async fn lifecycle(backend: Backend) {
    let catalog = embedded_catalog();
    let lines = small_lines(&catalog, 2);
    let (a, b) = (&lines[0], &lines[1]);
    let server = backend.server(catalog.clone(), system_clock()).await;
    let mut holds = server.holds();

    let placed = holds
        .place_hold(as_caller(place_request("h1", "quake-1", &[(a, 2)]), "dispatcher-a"))
        .await
        .expect("place")
        .into_inner()
        .hold
        .unwrap();
    assert_eq!(placed.state, pb::HoldState::Pending as i32);
    assert_eq!(placed.placed_by, "dispatcher-a");
    assert_eq!(placed.expires_at_unix_ms, placed.placed_at_unix_ms + 600_000);

    // The same id and content: the stored hold, no second effect.
    let again = holds.place_hold(place_request("h1", "quake-1", &[(a, 2)])).await.unwrap();
    assert_eq!(again.into_inner().hold.unwrap(), placed);
    assert_eq!(server.store.held().held(a.line), 2.0);

    // The same id, other content.
    let status = holds.place_hold(place_request("h1", "quake-1", &[(a, 3)])).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert_eq!(status.get_details_resource_info().unwrap().resource_name, "h1");

    // Not enough on one line: nothing is held on any line; the details say what is left.
    let too_many = a.catalog_on_hand_units - 1;
    let status = holds
        .place_hold(place_request("h2", "quake-1", &[(a, too_many), (b, 1)]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let violations = precondition_subjects(&status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].0, "STOCK");
    assert_eq!(violations[0].1, a.subject());
    let available = a.catalog_on_hand_units - 2;
    assert!(
        violations[0].2.starts_with(&format!("requested {too_many} units, available {available}")),
        "{violations:?}"
    );
    assert_eq!(server.store.held().held(b.line), 0.0);
    assert_eq!(
        holds.get_hold(pb::GetHoldRequest { hold_id: "h2".into() }).await.unwrap_err().code(),
        Code::NotFound
    );

    // Confirm, confirm again (a retry), then release is refused.
    let confirmed = holds
        .confirm_hold(as_caller(pb::ConfirmHoldRequest { hold_id: "h1".into() }, "dispatcher-b"))
        .await
        .unwrap()
        .into_inner()
        .hold
        .unwrap();
    assert_eq!(confirmed.state, pb::HoldState::Confirmed as i32);
    assert!(confirmed.resolved_at_unix_ms >= placed.placed_at_unix_ms);
    let retried =
        holds.confirm_hold(pb::ConfirmHoldRequest { hold_id: "h1".into() }).await.unwrap();
    assert_eq!(retried.into_inner().hold.unwrap(), confirmed);
    let status =
        holds.release_hold(pb::ReleaseHoldRequest { hold_id: "h1".into() }).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(precondition_subjects(&status)[0].0, "HOLD_STATE");
    assert_eq!(server.store.held().held(a.line), 2.0, "a confirmed hold still counts");

    // Release, release again, then confirm is refused; released units count no more.
    holds.place_hold(place_request("h3", "quake-1", &[(b, 1)])).await.unwrap();
    assert_eq!(server.store.held().held(b.line), 1.0);
    let released =
        holds.release_hold(pb::ReleaseHoldRequest { hold_id: "h3".into() }).await.unwrap();
    assert_eq!(released.into_inner().hold.unwrap().state, pb::HoldState::Released as i32);
    holds.release_hold(pb::ReleaseHoldRequest { hold_id: "h3".into() }).await.unwrap();
    let status =
        holds.confirm_hold(pb::ConfirmHoldRequest { hold_id: "h3".into() }).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(server.store.held().held(b.line), 0.0);

    // The audit trail: when, what, who.
    let h1 = holds
        .get_hold(pb::GetHoldRequest { hold_id: "h1".into() })
        .await
        .unwrap()
        .into_inner()
        .hold
        .unwrap();
    let trail: Vec<(i32, i32, &str)> =
        h1.history.iter().map(|e| (e.from_state, e.to_state, e.actor.as_str())).collect();
    assert_eq!(
        trail,
        vec![
            (pb::HoldState::Unspecified as i32, pb::HoldState::Pending as i32, "dispatcher-a"),
            (pb::HoldState::Pending as i32, pb::HoldState::Confirmed as i32, "dispatcher-b"),
        ]
    );
    assert!(h1.history[0].at_unix_ms <= h1.history[1].at_unix_ms);

    // NOT_FOUND: unknown holds and stock lines.
    for status in [
        holds.get_hold(pb::GetHoldRequest { hold_id: "nope".into() }).await.unwrap_err(),
        holds.confirm_hold(pb::ConfirmHoldRequest { hold_id: "nope".into() }).await.unwrap_err(),
        holds.release_hold(pb::ReleaseHoldRequest { hold_id: "nope".into() }).await.unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(status.get_details_resource_info().unwrap().resource_type, "hold");
    }
    let mut unknown = place_request("h4", "quake-1", &[(a, 1)]);
    unknown.lines[0].supplier_id = "sup-99999".into();
    let status = holds.place_hold(unknown).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    // INVALID_ARGUMENT: one violation per bad field.
    let mut bad = place_request("", "quake 1", &[(a, 0), (a, 1)]);
    bad.ttl_seconds = 0;
    let status = holds.place_hold(bad).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    for field in ["hold_id", "incident_ref", "ttl_seconds", "lines[0].quantity_units", "lines[1]"] {
        assert!(fields.iter().any(|f| f == field), "{field} missing from {fields:?}");
    }
    let many: Vec<(&StockRef, u64)> = (0..65).map(|_| (a, 1)).collect();
    let status = holds.place_hold(place_request("h5", "quake-1", &many)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = holds.place_hold(pb::PlaceHoldRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    for request in [
        pb::ListHoldsRequest::default(),
        pb::ListHoldsRequest {
            incident_ref: "a".into(),
            supplier_id: "b".into(),
            ..Default::default()
        },
        pb::ListHoldsRequest { incident_ref: "a".into(), page_size: 501, ..Default::default() },
        pb::ListHoldsRequest {
            incident_ref: "a".into(),
            page_token: "bad token".into(),
            ..Default::default()
        },
    ] {
        assert_eq!(holds.list_holds(request).await.unwrap_err().code(), Code::InvalidArgument);
    }
    let status = holds.get_hold(pb::GetHoldRequest { hold_id: "x".repeat(65) }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = holds.update_stock(pb::UpdateStockRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    server.stop().await;
}

#[tokio::test]
async fn match_and_shortlist_see_holds_and_stock_at_once() {
    availability(Backend::Sqlite).await;
}

pub async fn availability(backend: Backend) {
    let catalog = embedded_catalog();
    let lines = small_lines(&catalog, 1);
    let a = &lines[0];
    let on_hand = a.catalog_on_hand_units as f64;
    let server = backend.server(catalog.clone(), system_clock()).await;
    let mut holds = server.holds();
    assert_eq!(stock_available(&server, a).await, on_hand);

    holds.place_hold(place_request("p1", "flood-1", &[(a, 3)])).await.unwrap();
    assert_eq!(stock_available(&server, a).await, on_hand - 3.0, "pending counts at once");
    holds.confirm_hold(pb::ConfirmHoldRequest { hold_id: "p1".into() }).await.unwrap();
    holds.place_hold(place_request("p2", "flood-1", &[(a, 1)])).await.unwrap();
    assert_eq!(stock_available(&server, a).await, on_hand - 4.0, "confirmed counts too");
    holds.release_hold(pb::ReleaseHoldRequest { hold_id: "p2".into() }).await.unwrap();
    assert_eq!(stock_available(&server, a).await, on_hand - 3.0, "released counts no more");

    // UpdateStock: the new on-hand, net of holds; below what is held is refused.
    let update = |units: u64| pb::UpdateStockRequest {
        lines: vec![pb::StockQuantity {
            supplier_id: a.supplier_id.to_string(),
            category_id: a.category_id.to_string(),
            on_hand_units: units,
        }],
    };
    let levels = holds.update_stock(update(100)).await.unwrap().into_inner().lines;
    assert_eq!(
        (
            levels[0].on_hand_units,
            levels[0].pending_units,
            levels[0].confirmed_units,
            levels[0].available_units
        ),
        (100, 0, 3, 97)
    );
    assert_eq!(stock_available(&server, a).await, 97.0);
    let status = holds.update_stock(update(2)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(precondition_subjects(&status)[0].1, a.subject());
    assert_eq!(stock_available(&server, a).await, 97.0);
    holds.place_hold(place_request("p3", "flood-1", &[(a, 97)])).await.unwrap();
    assert_eq!(stock_available(&server, a).await, 0.0);
    let status = holds.place_hold(place_request("p4", "flood-1", &[(a, 1)])).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    server.stop().await;
}

#[tokio::test]
async fn expiry_is_decided_by_the_server_clock() {
    expiry(Backend::Sqlite).await;
}

pub async fn expiry(backend: Backend) {
    let catalog = embedded_catalog();
    let lines = small_lines(&catalog, 1);
    let a = &lines[0];
    let (clock, now) = manual_clock(1_000_000);
    let server = backend.server(catalog.clone(), clock).await;
    let mut holds = server.holds();
    let mut request = place_request("e1", "fire-1", &[(a, 2)]);
    request.ttl_seconds = 60;
    let placed = holds.place_hold(request).await.unwrap().into_inner().hold.unwrap();
    assert_eq!(placed.expires_at_unix_ms, 1_060_000);

    now.store(1_059_999, Ordering::SeqCst);
    let hold = holds.get_hold(pb::GetHoldRequest { hold_id: "e1".into() }).await.unwrap();
    assert_eq!(hold.into_inner().hold.unwrap().state, pb::HoldState::Pending as i32);

    now.store(1_060_000, Ordering::SeqCst);
    let status =
        holds.confirm_hold(pb::ConfirmHoldRequest { hold_id: "e1".into() }).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let hold = holds.get_hold(pb::GetHoldRequest { hold_id: "e1".into() }).await.unwrap();
    let hold = hold.into_inner().hold.unwrap();
    assert_eq!(hold.state, pb::HoldState::Expired as i32);
    assert_eq!(hold.resolved_at_unix_ms, 1_060_000);
    assert_eq!(hold.history.last().unwrap().actor, "server");
    assert_eq!(server.store.held().held(a.line), 0.0, "expired units are available again");
    server.stop().await;
}

#[tokio::test]
async fn list_holds_pages_by_incident_and_by_supplier() {
    paging(Backend::Sqlite).await;
}

pub async fn paging(backend: Backend) {
    let catalog = embedded_catalog();
    let lines = small_lines(&catalog, 2);
    let server = backend.server(catalog.clone(), system_clock()).await;
    let mut holds = server.holds();
    for i in 0..7 {
        let line = &lines[i % 2];
        holds.place_hold(place_request(&format!("l{i}"), "storm-9", &[(line, 1)])).await.unwrap();
    }
    holds.place_hold(place_request("other", "storm-10", &[(&lines[0], 1)])).await.unwrap();
    let mut seen = Vec::new();
    let mut token = String::new();
    for _page in 0..10 {
        let response = holds
            .list_holds(pb::ListHoldsRequest {
                incident_ref: "storm-9".into(),
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(response.holds.len() <= 3);
        seen.extend(response.holds.into_iter().map(|h| h.hold_id));
        token = response.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("l{i}")).collect::<Vec<_>>());
    let by_supplier = holds
        .list_holds(pb::ListHoldsRequest {
            supplier_id: lines[1].supplier_id.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<String> = by_supplier.holds.into_iter().map(|h| h.hold_id).collect();
    assert_eq!(ids, vec!["l1", "l3", "l5"]);
    server.stop().await;
}

#[tokio::test]
async fn a_call_dropped_at_its_deadline_leaves_a_whole_hold_or_none() {
    deadlines(Backend::Sqlite).await;
}

pub async fn deadlines(backend: Backend) {
    let catalog = embedded_catalog();
    let lines = small_lines(&catalog, 3);
    let server = backend.server(catalog.clone(), system_clock()).await;
    let mut holds = server.holds();
    let n_holds = 40;
    let content = |i: usize| {
        place_request(&format!("d{i}"), "quake-2", &[(&lines[i % 3], 1), (&lines[(i + 1) % 3], 1)])
    };
    for i in 0..n_holds {
        let mut request = Request::new(content(i));
        request.set_timeout(Duration::from_micros(1 + (i as u64 % 4) * 200));
        let _ = holds.place_hold(request).await; // may or may not have been acknowledged
    }
    // The retries: each finds the stored hold or places it; either way exactly once.
    for i in 0..n_holds {
        match holds.place_hold(content(i)).await {
            Ok(_) => {}
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    let mut expected: HashMap<u32, f64> = HashMap::new();
    for i in 0..n_holds {
        if holds.get_hold(pb::GetHoldRequest { hold_id: format!("d{i}") }).await.is_ok() {
            for line in [&lines[i % 3], &lines[(i + 1) % 3]] {
                *expected.entry(line.line.0).or_default() += 1.0;
            }
        }
    }
    let held = server.store.held();
    for line in &lines {
        let units = expected.get(&line.line.0).copied().unwrap_or(0.0);
        assert_eq!(held.held(line.line), units, "{}", line.subject());
        assert!(units <= line.catalog_on_hand_units as f64);
    }
    server.stop().await;
}

/// A store that answers every command with one error, to see RESOURCE_EXHAUSTED (a full
/// queue) and UNAVAILABLE (a store that is down) reach the caller with their codes. The queue
/// itself is tested in `holds::sqlite`'s unit tests.
#[derive(Debug)]
struct FailingStore(Error);

impl HoldStore for FailingStore {
    fn execute(&self, _command: Command) -> StoreFuture {
        let error = self.0.clone();
        Box::pin(async move { Err(error) })
    }

    fn held(&self) -> Arc<HeldSnapshot> {
        Arc::new(HeldSnapshot::default())
    }

    fn flush(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async {})
    }
}

#[tokio::test]
async fn a_full_queue_and_a_store_that_is_down_answer_their_codes() {
    let catalog = embedded_catalog();
    let lines = small_lines(&catalog, 1);
    for (error, code) in [
        (
            Error::ResourceExhausted("the hold store's write queue is full".into()),
            Code::ResourceExhausted,
        ),
        (Error::Unavailable("hold store: connection refused".into()), Code::Unavailable),
    ] {
        let store = Arc::new(FailingStore(error));
        let server = TestServer::start_with_store(catalog.clone(), store, None).await;
        let status = server
            .holds()
            .place_hold(place_request("r1", "quake-3", &[(&lines[0], 1)]))
            .await
            .unwrap_err();
        assert_eq!(status.code(), code);
        server.stop().await;
    }
}

// ---- The seeded simulation ----

/// SplitMix64: a tiny deterministic generator, so a seed replays the same run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Debug, Clone)]
struct ModelHold {
    content: NewHold,
    state: HoldState,
    expires_at_ms: i64,
}

/// What the store should hold: every hold and every line's on-hand.
struct Model {
    holds: BTreeMap<String, ModelHold>,
    on_hand: HashMap<u32, u64>,
    lines: Vec<StockRef>,
}

impl Model {
    fn committed(&self, line: &StockRef) -> u64 {
        self.holds
            .values()
            .filter(|h| matches!(h.state, HoldState::Pending | HoldState::Confirmed))
            .flat_map(|h| h.content.lines.iter())
            .filter(|l| l.stock.line == line.line)
            .map(|l| l.quantity_units)
            .sum()
    }

    fn expire(&mut self, now: i64) {
        for hold in self.holds.values_mut() {
            if hold.state == HoldState::Pending && now >= hold.expires_at_ms {
                hold.state = HoldState::Expired;
            }
        }
    }

    /// The invariant, and the store's snapshot against the model.
    fn check(&self, held: &HeldSnapshot, step: usize) {
        for line in &self.lines {
            let on_hand = self.on_hand[&line.line.0];
            let committed = self.committed(line);
            assert!(committed <= on_hand, "step {step}: {} oversubscribed", line.subject());
            let expected = line.catalog_on_hand_units as f64 - (on_hand - committed) as f64;
            assert_eq!(held.held(line.line), expected, "step {step}: {}", line.subject());
        }
    }
}

fn random_hold(rng: &mut Rng, lines: &[StockRef], hold_id: &str) -> NewHold {
    let incident = rng.below(4);
    let n_lines = 1 + rng.below(3);
    let mut chosen: Vec<NewHoldLine> = Vec::new();
    for _ in 0..n_lines {
        let stock = &lines[rng.below(lines.len())];
        if chosen.iter().all(|l| l.stock.line != stock.line) {
            chosen.push(NewHoldLine {
                stock: stock.clone(),
                quantity_units: 1 + rng.below(6) as u64,
            });
        }
    }
    chosen.sort_by(|a, b| {
        (&a.stock.supplier_id, &a.stock.category_id)
            .cmp(&(&b.stock.supplier_id, &b.stock.category_id))
    });
    NewHold {
        hold_id: Id::parse(hold_id).unwrap(),
        incident_ref: Id::parse(&format!("incident-{incident}")).unwrap(),
        lines: chosen,
        ttl_seconds: 1 + rng.below(120) as u32,
    }
}

fn code(result: &Result<Outcome, Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(Error::AlreadyExists { .. }) => "already_exists",
        Err(Error::FailedPrecondition(_)) => "failed_precondition",
        Err(Error::NotFound { .. }) => "not_found",
        Err(Error::InvalidArgument(_)) => "invalid_argument",
        Err(
            Error::ResourceExhausted(_) | Error::Overloaded { .. } | Error::LimitExceeded { .. },
        ) => "resource_exhausted",
        Err(Error::Unavailable(_)) => "unavailable",
        Err(Error::Internal(_)) => "internal",
        Err(Error::Unauthenticated { .. }) => "unauthenticated",
        Err(Error::PermissionDenied { .. }) => "permission_denied",
    }
}

fn hold_of(result: &Result<Outcome, Error>) -> Option<&equipmatch::holds::Hold> {
    match result {
        Ok(Outcome::Hold(hold)) => Some(hold),
        _ => None,
    }
}

/// Predicts one command's answer from the model and applies it there.
fn predict(model: &mut Model, command: &Command, now: i64) -> &'static str {
    match command {
        Command::Place { hold, .. } => match model.holds.get(hold.hold_id.as_str()) {
            Some(stored) if stored.content == *hold => "ok",
            Some(_) => "already_exists",
            None => {
                let short = hold.lines.iter().any(|l| {
                    let on_hand = model.on_hand[&l.stock.line.0];
                    model.committed(&l.stock) + l.quantity_units > on_hand
                });
                if short {
                    return "failed_precondition";
                }
                model.holds.insert(
                    hold.hold_id.to_string(),
                    ModelHold {
                        content: hold.clone(),
                        state: HoldState::Pending,
                        expires_at_ms: now + 1000 * i64::from(hold.ttl_seconds),
                    },
                );
                "ok"
            }
        },
        Command::Confirm { hold_id, .. } | Command::Release { hold_id, .. } => {
            let to = if matches!(command, Command::Confirm { .. }) {
                HoldState::Confirmed
            } else {
                HoldState::Released
            };
            match model.holds.get_mut(hold_id.as_str()) {
                None => "not_found",
                Some(hold) if hold.state == HoldState::Pending => {
                    hold.state = to;
                    "ok"
                }
                Some(hold) if hold.state == to => "ok",
                Some(_) => "failed_precondition",
            }
        }
        Command::Get { hold_id } => {
            if model.holds.contains_key(hold_id.as_str()) {
                "ok"
            } else {
                "not_found"
            }
        }
        Command::UpdateStock { lines, .. } => {
            let refused = lines.iter().any(|(stock, units)| *units < model.committed(stock));
            if refused {
                return "failed_precondition";
            }
            for (stock, units) in lines {
                model.on_hand.insert(stock.line.0, *units);
            }
            "ok"
        }
        Command::List(_) => "ok",
    }
}

/// Learns the state of `hold_id` from the store (after concurrent or dropped commands, whose
/// order the model cannot know), checking that the change is one the rules allow.
async fn resync(
    model: &mut Model,
    store: &dyn HoldStore,
    hold_id: &str,
    content: Option<&NewHold>,
) {
    let id = Id::parse(hold_id).unwrap();
    let result = store.execute(Command::Get { hold_id: id }).await;
    match (hold_of(&result), model.holds.get_mut(hold_id)) {
        (Some(stored), Some(known)) => {
            assert!(
                known.state == stored.state || known.state == HoldState::Pending,
                "{hold_id}: {:?} became {:?}",
                known.state,
                stored.state
            );
            known.state = stored.state;
        }
        (Some(stored), None) => {
            let content = content.expect("a hold the simulation never sent");
            model.holds.insert(
                hold_id.to_owned(),
                ModelHold {
                    content: content.clone(),
                    state: stored.state,
                    expires_at_ms: stored.expires_at_ms,
                },
            );
        }
        (None, Some(_)) => panic!("{hold_id}: an acknowledged hold disappeared"),
        (None, None) => assert_eq!(code(&result), "not_found"),
    }
}

#[tokio::test]
async fn seeded_simulation_agrees_with_the_model_after_every_step() {
    for seed in [1_u64, 2, 3] {
        simulate(&Backend::Sqlite, seed, 1500).await;
    }
}

pub async fn simulate(backend: &Backend, seed: u64, steps: usize) {
    let catalog = embedded_catalog();
    let lines = small_lines(&catalog, 5);
    let (clock, now) = manual_clock(1_700_000_000_000);
    let (mut store, place) = backend.store(catalog.clone(), clock.clone()).await;
    let mut model = Model {
        holds: BTreeMap::new(),
        on_hand: lines.iter().map(|l| (l.line.0, l.catalog_on_hand_units)).collect(),
        lines: lines.clone(),
    };
    let mut rng = Rng::new(seed);
    let n_dispatchers = 8;
    let mut next_hold = 0usize;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for step in 0..steps {
        let dispatcher = rng.below(n_dispatchers);
        let caller = Caller::parse(&format!("dispatcher-{dispatcher}")).unwrap();
        let known: Vec<String> = model.holds.keys().cloned().collect();
        let pick_known = |rng: &mut Rng| -> String {
            if known.is_empty() || rng.below(10) == 0 {
                format!("h-{seed}-unknown-{}", rng.below(5)) // reordered: before its place
            } else {
                known[rng.below(known.len())].clone()
            }
        };
        let roll = rng.below(100);
        if roll < 5 {
            // Time passes: holds expire exactly at their deadline.
            now.fetch_add(1000 * (1 + rng.below(40)) as i64, Ordering::SeqCst);
            counts.entry("clock").and_modify(|n| *n += 1).or_insert(1);
        } else if roll < 10 {
            // A concurrent burst: the model learns the outcomes from the store afterwards.
            let mut futures = Vec::new();
            let mut sent = Vec::new();
            for _ in 0..8 {
                let hold_id = if rng.below(2) == 0 {
                    next_hold += 1;
                    format!("h-{seed}-{next_hold}")
                } else {
                    pick_known(&mut rng)
                };
                let hold = random_hold(&mut rng, &lines, &hold_id);
                let command = match rng.below(3) {
                    0 => Command::Place { hold: hold.clone(), caller: caller.clone() },
                    1 => Command::Confirm { hold_id: hold.hold_id.clone(), caller: caller.clone() },
                    _ => Command::Release { hold_id: hold.hold_id.clone(), caller: caller.clone() },
                };
                futures.push(store.execute(command));
                sent.push((hold_id, hold));
            }
            for future in futures {
                let result = future.await;
                assert!(!matches!(code(&result), "internal" | "unavailable"), "{result:?}");
            }
            model.expire(now.load(Ordering::SeqCst));
            for (hold_id, hold) in &sent {
                let content =
                    model.holds.get(hold_id).map(|h| h.content.clone()).unwrap_or(hold.clone());
                resync(&mut model, &*store, hold_id, Some(&content)).await;
            }
            counts.entry("burst").and_modify(|n| *n += 1).or_insert(1);
        } else if roll < 13 {
            // A caller that gives up at once (its deadline): the command still runs whole.
            next_hold += 1;
            let hold_id = format!("h-{seed}-{next_hold}");
            let hold = random_hold(&mut rng, &lines, &hold_id);
            drop(store.execute(Command::Place { hold: hold.clone(), caller: caller.clone() }));
            store.flush().await;
            model.expire(now.load(Ordering::SeqCst));
            resync(&mut model, &*store, &hold_id, Some(&hold)).await;
            counts.entry("dropped").and_modify(|n| *n += 1).or_insert(1);
        } else if roll < 14 {
            // A restart: everything acknowledged is read back from the file.
            drop(store);
            store = backend.reopen(&place, catalog.clone(), clock.clone()).await;
            counts.entry("restart").and_modify(|n| *n += 1).or_insert(1);
        } else {
            let command = match roll {
                14..=44 => {
                    next_hold += 1;
                    let hold_id = format!("h-{seed}-{next_hold}");
                    Command::Place { hold: random_hold(&mut rng, &lines, &hold_id), caller }
                }
                45..=52 => {
                    // A retry of a known hold: the same content, or (a bug in a client) other.
                    let hold_id = pick_known(&mut rng);
                    let hold = match model.holds.get(&hold_id) {
                        Some(known) if rng.below(3) > 0 => known.content.clone(),
                        _ => random_hold(&mut rng, &lines, &hold_id),
                    };
                    Command::Place { hold, caller }
                }
                53..=70 => {
                    Command::Confirm { hold_id: Id::parse(&pick_known(&mut rng)).unwrap(), caller }
                }
                71..=88 => {
                    Command::Release { hold_id: Id::parse(&pick_known(&mut rng)).unwrap(), caller }
                }
                89..=95 => Command::Get { hold_id: Id::parse(&pick_known(&mut rng)).unwrap() },
                _ => {
                    let stock = &lines[rng.below(lines.len())];
                    let units = rng.below(2 * stock.catalog_on_hand_units as usize + 1) as u64;
                    Command::UpdateStock { lines: vec![(stock.clone(), units)], caller }
                }
            };
            let at = now.load(Ordering::SeqCst);
            model.expire(at);
            let expected = predict(&mut model, &command, at);
            let result = store.execute(command.clone()).await;
            assert_eq!(
                code(&result),
                expected,
                "seed {seed} step {step}: {command:?} → {result:?}"
            );
            if let (Some(hold), Some(id)) = (hold_of(&result), command_hold_id(&command)) {
                assert_eq!(Some(hold.state), model.holds.get(id).map(|h| h.state), "step {step}");
            }
            *counts.entry(expected).or_insert(0) += 1;
        }
        // Let the store's expiry and the model's agree before looking at the snapshot: a Get
        // expires a due hold (and runs the SQLite writer's sweep).
        let at = now.load(Ordering::SeqCst);
        let due: Vec<String> = model
            .holds
            .iter()
            .filter(|(_, h)| h.state == HoldState::Pending && at >= h.expires_at_ms)
            .map(|(id, _)| id.clone())
            .collect();
        let _ = store.execute(Command::Get { hold_id: Id::parse("sync").unwrap() }).await;
        for hold_id in due {
            let _ = store.execute(Command::Get { hold_id: Id::parse(&hold_id).unwrap() }).await;
        }
        model.expire(at);
        model.check(&store.held(), step);
    }
    eprintln!("simulation seed {seed}: {counts:?}");
    for outcome in ["ok", "failed_precondition", "already_exists", "not_found", "burst", "restart"]
    {
        assert!(counts.get(outcome).copied().unwrap_or(0) > 0, "seed {seed} never saw {outcome}");
    }
}

fn command_hold_id(command: &Command) -> Option<&str> {
    match command {
        Command::Place { hold, .. } => Some(hold.hold_id.as_str()),
        Command::Confirm { hold_id, .. }
        | Command::Release { hold_id, .. }
        | Command::Get { hold_id } => Some(hold_id.as_str()),
        _ => None,
    }
}

// ---- Concurrent calls through gRPC ----

#[tokio::test]
async fn concurrent_calls_on_hot_lines_never_oversubscribe() {
    hot_lines(Backend::Sqlite).await;
}

pub async fn hot_lines(backend: Backend) {
    let catalog = embedded_catalog();
    let lines = Arc::new(small_lines(&catalog, 2));
    let server = backend.server(catalog.clone(), system_clock()).await;
    let outcomes = history_run(&server.channel, &lines, 8, 60, 7).await;
    check_history(&mut server.holds(), Some(&server.store.held()), &lines, &outcomes).await;
    server.stop().await;
}

/// One acknowledged (or refused) call of a concurrent run.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub hold_id: String,
    pub kind: &'static str,
    pub code: Code,
}

/// `workers` tasks × `calls` random place/confirm/release calls on `lines`; returns every
/// answer.
pub async fn history_run(
    channel: &tonic::transport::Channel,
    lines: &Arc<Vec<StockRef>>,
    workers: usize,
    calls: usize,
    seed: u64,
) -> Vec<CallOutcome> {
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let mut client = equipmatch::grpc::client::HoldServiceClient::new(channel.clone());
        let lines = lines.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed * 1000 + worker as u64);
            let mut mine: Vec<String> = Vec::new();
            let mut out = Vec::new();
            for call in 0..calls {
                let roll = rng.below(10);
                if roll < 5 || mine.is_empty() {
                    let hold_id = format!("w{seed}-{worker}-{call}");
                    let a = &lines[rng.below(lines.len())];
                    let units = 1 + rng.below(4) as u64;
                    let result =
                        client.place_hold(place_request(&hold_id, "hot", &[(a, units)])).await;
                    let code = result.as_ref().map_or_else(|s| s.code(), |_| Code::Ok);
                    if code == Code::Ok {
                        mine.push(hold_id.clone());
                    }
                    out.push(CallOutcome { hold_id, kind: "place", code });
                } else {
                    let hold_id = mine[rng.below(mine.len())].clone();
                    let (kind, result) = if roll < 8 {
                        (
                            "confirm",
                            client
                                .confirm_hold(pb::ConfirmHoldRequest { hold_id: hold_id.clone() })
                                .await
                                .map(|_| ()),
                        )
                    } else {
                        (
                            "release",
                            client
                                .release_hold(pb::ReleaseHoldRequest { hold_id: hold_id.clone() })
                                .await
                                .map(|_| ()),
                        )
                    };
                    let code = result.map_or_else(|s| s.code(), |_| Code::Ok);
                    out.push(CallOutcome { hold_id, kind, code });
                }
            }
            out
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.expect("worker finishes"));
    }
    outcomes
}

/// Every acknowledged call is reflected in the final state; per line, the held units are the
/// sum of pending and confirmed holds and never exceed on-hand.
pub async fn check_history(
    holds: &mut equipmatch::grpc::client::HoldServiceClient<tonic::transport::Channel>,
    held: Option<&HeldSnapshot>,
    lines: &[StockRef],
    outcomes: &[CallOutcome],
) {
    let mut states: HashMap<String, pb::Hold> = HashMap::new();
    for outcome in outcomes {
        assert!(
            matches!(outcome.code, Code::Ok | Code::FailedPrecondition),
            "unexpected answer {outcome:?}"
        );
        if outcome.kind == "place"
            && outcome.code == Code::Ok
            && !states.contains_key(&outcome.hold_id)
        {
            let hold =
                holds.get_hold(pb::GetHoldRequest { hold_id: outcome.hold_id.clone() }).await;
            states.insert(
                outcome.hold_id.clone(),
                hold.expect("acknowledged hold exists").into_inner().hold.unwrap(),
            );
        }
    }
    for outcome in outcomes.iter().filter(|o| o.code == Code::Ok) {
        let state = states[&outcome.hold_id].state;
        match outcome.kind {
            "confirm" => assert_eq!(state, pb::HoldState::Confirmed as i32, "{outcome:?}"),
            "release" => assert_eq!(state, pb::HoldState::Released as i32, "{outcome:?}"),
            _ => {}
        }
    }
    for line in lines {
        let committed: u64 = states
            .values()
            .filter(|h| {
                h.state == pb::HoldState::Pending as i32
                    || h.state == pb::HoldState::Confirmed as i32
            })
            .flat_map(|h| h.lines.iter())
            .filter(|l| {
                l.supplier_id == line.supplier_id.as_str()
                    && l.category_id == line.category_id.as_str()
            })
            .map(|l| l.quantity_units)
            .sum();
        assert!(committed <= line.catalog_on_hand_units, "{} oversubscribed", line.subject());
        if let Some(held) = held {
            assert_eq!(held.held(line.line), committed as f64, "{}", line.subject());
        }
    }
}

// ---- The CLI ----

fn cli(args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_equipmatch"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_places_confirms_releases_gets_and_lists() {
    let catalog = embedded_catalog();
    let lines = small_lines(&catalog, 1);
    let line = format!("{}:{}:2", lines[0].supplier_id, lines[0].category_id);
    let server = TestServer::start_with(catalog.clone()).await;
    let url = server.url.clone();
    let run = |args: Vec<String>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let mut all: Vec<String> = vec!["hold".into(), "--server".into(), url];
            all.extend(args);
            cli(&all.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let args = |text: &str| text.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let mut place = args("place --hold-id c1 --incident quake-9 --caller ops-1 --line");
    place.push(line.clone());
    let (ok, out, err) = run(place.clone()).await.unwrap();
    assert!(ok, "{err}");
    assert!(out.starts_with("c1  PENDING  incident quake-9"), "{out}");
    let (ok, out, _) = run(place).await.unwrap();
    assert!(ok && out.contains("PENDING"), "a repeated place is the stored hold: {out}");
    let (ok, out, err) = run(args("confirm c1 --caller ops-2")).await.unwrap();
    assert!(ok && out.contains("CONFIRMED"), "{out}{err}");
    let (ok, _, err) = run(args("release c1")).await.unwrap();
    assert!(!ok && err.contains("FailedPrecondition") && err.contains("HOLD_STATE"), "{err}");
    let (ok, out, _) = run(args("get c1")).await.unwrap();
    assert!(ok && out.contains("PENDING → CONFIRMED  by ops-2"), "{out}");
    let (ok, out, _) = run(args("list --incident quake-9 --json")).await.unwrap();
    assert!(ok && out.contains("\"hold_id\": \"c1\""), "{out}");
    let (ok, _, err) = run(args("get nope")).await.unwrap();
    assert!(!ok && err.contains("NotFound"), "{err}");
    let mut stock = args("stock --set");
    stock.push(format!("{}:{}:50", lines[0].supplier_id, lines[0].category_id));
    let (ok, out, err) = run(stock).await.unwrap();
    assert!(ok && out.contains("on hand 50  pending 0  confirmed 2  available 48"), "{out}{err}");
    server.stop().await;
}
