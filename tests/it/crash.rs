//! Crash safety of the real binary: `equipmatch serve` is killed with SIGKILL under load again
//! and again, restarted on the same store, and checked.
//!
//! Properties checked, after every kill:
//! - every hold whose PlaceHold was acknowledged is in the store, every acknowledged confirm is
//!   CONFIRMED and every acknowledged release is RELEASED (read from the store file directly,
//!   and through the restarted server);
//! - per stock line, the stored pending and confirmed units are exactly the sums over the
//!   holds in those states, and confirmed + pending ≤ on hand: nothing oversubscribed, no half
//!   hold.
//!
//! Cycles: `EQUIPMATCH_CRASH_CYCLES` (default 6).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use equipmatch::catalog::Catalog;
use equipmatch::grpc::client::HoldServiceClient;
use equipmatch::grpc::pb;
use equipmatch::holds::StockRef;
use tonic::Code;

use crate::holds::{place_request, small_lines, Rng};
use crate::support::{embedded_catalog, ServerProcess};

/// Default kill cycles; `EQUIPMATCH_CRASH_CYCLES` overrides (bounded by `CYCLES_MAX`).
const CYCLES_DEFAULT: usize = 6;
const CYCLES_MAX: usize = 1000;
/// Calls per worker per cycle at most (the kill normally comes first).
const CALLS_PER_WORKER_MAX: usize = 20_000;
const WORKERS: usize = 12;

/// An acknowledged call: what the store must show after any crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    Placed,
    Confirmed,
    Released,
}

pub fn cycles() -> usize {
    std::env::var("EQUIPMATCH_CRASH_CYCLES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(CYCLES_DEFAULT)
        .min(CYCLES_MAX)
}

/// Workers placing, confirming and releasing holds on `lines` until the server goes away;
/// every acknowledged call lands in `acked` (the latest acknowledged state per hold).
pub fn spawn_load(
    channel: tonic::transport::Channel,
    lines: Arc<Vec<StockRef>>,
    acked: Arc<Mutex<HashMap<String, Acked>>>,
    cycle: usize,
    tag: &str,
) -> Vec<tokio::task::JoinHandle<usize>> {
    (0..WORKERS)
        .map(|worker| {
            let mut client = HoldServiceClient::new(channel.clone());
            let lines = lines.clone();
            let acked = acked.clone();
            let tag = tag.to_owned();
            tokio::spawn(async move {
                let mut rng = Rng::new((cycle * 1000 + worker) as u64);
                let mut mine: Vec<String> = Vec::new();
                for call in 0..CALLS_PER_WORKER_MAX {
                    let roll = rng.below(8);
                    let (hold_id, result, ack) = if roll < 4 || mine.is_empty() {
                        let hold_id = format!("{tag}-c{cycle}-w{worker}-{call}");
                        let a = &lines[rng.below(lines.len())];
                        let b = &lines[rng.below(lines.len())];
                        let units = 1 + rng.below(3) as u64;
                        let pairs: Vec<(&StockRef, u64)> = if a.line == b.line {
                            vec![(a, units)]
                        } else {
                            vec![(a, units), (b, 1)]
                        };
                        // A short time to live: expiry frees stock across kills too.
                        let mut request = place_request(&hold_id, "crash", &pairs);
                        request.ttl_seconds = 3;
                        let result = client.place_hold(request).await.map(|_| ());
                        (hold_id, result, Acked::Placed)
                    } else {
                        let hold_id = mine.swap_remove(rng.below(mine.len()));
                        if roll == 4 {
                            let request = pb::ConfirmHoldRequest { hold_id: hold_id.clone() };
                            (
                                hold_id,
                                client.confirm_hold(request).await.map(|_| ()),
                                Acked::Confirmed,
                            )
                        } else {
                            let request = pb::ReleaseHoldRequest { hold_id: hold_id.clone() };
                            (
                                hold_id,
                                client.release_hold(request).await.map(|_| ()),
                                Acked::Released,
                            )
                        }
                    };
                    match result {
                        Ok(()) => {
                            if ack == Acked::Placed {
                                mine.push(hold_id.clone());
                            }
                            acked.lock().unwrap().insert(hold_id, ack);
                        }
                        Err(status) if status.code() == Code::FailedPrecondition => {}
                        Err(_) => return call, // the server is gone
                    }
                }
                CALLS_PER_WORKER_MAX
            })
        })
        .collect()
}

/// Checks every acknowledged call through a (restarted) server.
pub async fn check_acked_through_grpc(
    channel: tonic::transport::Channel,
    acked: &HashMap<String, Acked>,
) {
    let mut client = HoldServiceClient::new(channel);
    for (hold_id, ack) in acked {
        let hold = client
            .get_hold(pb::GetHoldRequest { hold_id: hold_id.clone() })
            .await
            .unwrap_or_else(|status| panic!("acknowledged hold {hold_id} lost: {status:?}"))
            .into_inner()
            .hold
            .unwrap();
        let state = pb::HoldState::try_from(hold.state).unwrap();
        let ok = match ack {
            Acked::Placed => state != pb::HoldState::Unspecified,
            Acked::Confirmed => state == pb::HoldState::Confirmed,
            Acked::Released => state == pb::HoldState::Released,
        };
        assert!(ok, "{hold_id}: acknowledged {ack:?}, stored {state:?}");
    }
}

/// One stock row as stored, with the sums over holds in each state.
#[derive(Debug)]
pub struct StoredLine {
    pub supplier_id: String,
    pub category_id: String,
    pub on_hand_override: Option<i64>,
    pub pending: i64,
    pub confirmed: i64,
    pub pending_sum: i64,
    pub confirmed_sum: i64,
}

/// The sums check both stores share.
pub const STORED_LINES_SQL: &str = "SELECT s.supplier_id, s.category_id, s.on_hand_override,
        s.pending, s.confirmed,
        (SELECT CAST(COALESCE(SUM(l.quantity_units), 0) AS BIGINT) FROM hold_lines l JOIN holds h ON h.hold_id = l.hold_id
          WHERE l.supplier_id = s.supplier_id AND l.category_id = s.category_id AND h.state = 'pending'),
        (SELECT CAST(COALESCE(SUM(l.quantity_units), 0) AS BIGINT) FROM hold_lines l JOIN holds h ON h.hold_id = l.hold_id
          WHERE l.supplier_id = s.supplier_id AND l.category_id = s.category_id AND h.state = 'confirmed')
     FROM stock s";

/// Per line: stored counters equal the sums over holds, and never exceed on hand; every
/// acknowledged call is there.
pub fn check_stored(
    catalog: &Catalog,
    lines: &[StoredLine],
    states: &HashMap<String, String>,
    acked: &HashMap<String, Acked>,
) {
    for line in lines {
        let index =
            equipmatch::holds::find_stock_line(catalog, &line.supplier_id, &line.category_id)
                .expect("a catalog line");
        let catalog_units = StockRef::from_catalog(catalog, index).catalog_on_hand_units as i64;
        let on_hand = line.on_hand_override.unwrap_or(catalog_units);
        assert_eq!(line.pending, line.pending_sum, "{line:?}");
        assert_eq!(line.confirmed, line.confirmed_sum, "{line:?}");
        assert!(line.pending + line.confirmed <= on_hand, "oversubscribed: {line:?}");
    }
    for (hold_id, ack) in acked {
        let state = states.get(hold_id).unwrap_or_else(|| panic!("acknowledged {hold_id} lost"));
        match ack {
            Acked::Placed => {}
            Acked::Confirmed => assert_eq!(state, "confirmed", "{hold_id}"),
            Acked::Released => assert_eq!(state, "released", "{hold_id}"),
        }
    }
}

fn check_sqlite_file(path: &std::path::Path, catalog: &Catalog, acked: &HashMap<String, Acked>) {
    let conn = rusqlite::Connection::open(path).expect("the store file opens");
    let mut statement = conn.prepare(STORED_LINES_SQL).unwrap();
    let lines: Vec<StoredLine> = statement
        .query_map([], |row| {
            Ok(StoredLine {
                supplier_id: row.get(0)?,
                category_id: row.get(1)?,
                on_hand_override: row.get(2)?,
                pending: row.get(3)?,
                confirmed: row.get(4)?,
                pending_sum: row.get(5)?,
                confirmed_sum: row.get(6)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut statement = conn.prepare("SELECT hold_id, state FROM holds").unwrap();
    let states: HashMap<String, String> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    check_stored(catalog, &lines, &states, acked);
}

/// Where the killed server keeps its holds, and how the test reads them behind its back.
pub enum CrashStore {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl CrashStore {
    fn url(&self) -> String {
        match self {
            CrashStore::Sqlite(path) => format!("sqlite:{}", path.display()),
            CrashStore::Postgres(url) => url.clone(),
        }
    }

    async fn check(&self, catalog: &Catalog, acked: &HashMap<String, Acked>) {
        match self {
            CrashStore::Sqlite(path) => check_sqlite_file(path, catalog, acked),
            CrashStore::Postgres(url) => check_postgres(url, catalog, acked).await,
        }
    }
}

/// Reads the stock rows and hold states of a PostgreSQL store and checks them.
pub async fn check_postgres(url: &str, catalog: &Catalog, acked: &HashMap<String, Acked>) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    let connection = tokio::spawn(connection);
    let lines: Vec<StoredLine> = client
        .query(STORED_LINES_SQL, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| StoredLine {
            supplier_id: row.get(0),
            category_id: row.get(1),
            on_hand_override: row.get(2),
            pending: row.get(3),
            confirmed: row.get(4),
            pending_sum: row.get(5),
            confirmed_sum: row.get(6),
        })
        .collect();
    let states: HashMap<String, String> = client
        .query("SELECT hold_id, state FROM holds", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    drop(client);
    let _ = connection.await;
    check_stored(catalog, &lines, &states, acked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_hold() {
    let dir = tempfile::tempdir().unwrap();
    let store = CrashStore::Sqlite(dir.path().join("holds.sqlite"));
    crash_cycles(&store, "sq").await;
}

/// Kill cycles against `store`; returns the cycles run.
pub async fn crash_cycles(crash_store: &CrashStore, tag: &str) -> usize {
    let catalog = embedded_catalog();
    let lines = Arc::new(small_lines(&catalog, 6));
    let store = crash_store.url();
    let acked: Arc<Mutex<HashMap<String, Acked>>> = Arc::default();
    let n_cycles = cycles();
    let mut total_calls = 0;
    for cycle in 0..n_cycles {
        let server = ServerProcess::start(&store);
        let workers = spawn_load(server.channel().await, lines.clone(), acked.clone(), cycle, tag);
        // Kill at a different moment each cycle, while the workers are busy.
        tokio::time::sleep(Duration::from_millis(500 + 137 * (cycle as u64 % 5))).await;
        server.kill();
        for worker in workers {
            total_calls += worker.await.unwrap();
        }
        let acked_now = acked.lock().unwrap().clone();
        crash_store.check(&catalog, &acked_now).await;
    }
    let server = ServerProcess::start(&store);
    let acked_now = acked.lock().unwrap().clone();
    check_acked_through_grpc(server.channel().await, &acked_now).await;
    eprintln!(
        "crash test ({tag}): {n_cycles} SIGKILL cycles, {total_calls} calls, {} holds acknowledged",
        acked_now.len()
    );
    assert!(acked_now.len() > n_cycles, "the load acknowledged almost nothing");
    n_cycles
}
