//! The shared hold store for several replicas: PostgreSQL through tokio-postgres.
//!
//! Every command is one transaction on a pooled connection; the stock invariant is a
//! conditional update (`pending + confirmed + n <= on hand`), which PostgreSQL re-checks after
//! waiting for the row lock, so two replicas on the same rows never oversubscribe without
//! SERIALIZABLE (performance-facts). Rows are locked in (supplier, category) order within a
//! hold, and each expiry is its own transaction, so lock orders agree; a deadlock or
//! serialization failure is retried a bounded number of times.
//!
//! Cancellation: `execute` takes a permit (none left → RESOURCE_EXHAUSTED at once) and spawns
//! the transaction as its own task, so a caller dropped at its deadline does not cut it short.
//!
//! Availability: the replica that ran a command re-reads the lines it touched right after the
//! commit (Match and Shortlist see it at once). Every other replica learns of it through
//! LISTEN/NOTIFY: a trigger on `stock` sends each changed row (version, levels, ids) on
//! `STOCK_CHANNEL` when its transaction commits, and each replica keeps one connection
//! listening, applying each row to its snapshot in O(depth) — no work in proportion to the
//! number of lines. A per-row version keeps an older row from overwriting a newer one, whatever
//! the order in which the commit's own refresh, notifications and polls arrive.
//!
//! Safety net, for notifications lost while the listening connection was down: each
//! `SNAPSHOT_SAFETY_POLL_INTERVAL` (and after every reconnect) a replica re-reads the rows
//! changed since its last poll — the trigger stamps each row with the id of the transaction
//! that wrote it, and a transaction invisible to the last poll's snapshot has an id at least
//! that snapshot's xmin — so a poll costs the rows changed since, not every row. This needs
//! PostgreSQL 13 or later (`pg_current_xact_id`, `pg_snapshot_xmin`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio_postgres::error::SqlState;
use tokio_postgres::{AsyncMessage, Client, NoTls, Transaction};

use super::{
    hold_exists, hold_not_found, short_line, wrong_state, Caller, Clock, Command, HeldSnapshot,
    Hold, HoldEvent, HoldLine, HoldState, HoldStore, LineLevel, ListBy, ListQuery, NewHold,
    Outcome, SnapshotCell, StockRef, StoreFuture, EXPIRE_PER_SWEEP_MAX, EXPIRY_SWEEP_INTERVAL,
    HISTORY_EVENTS_MAX, WRITE_QUEUE_MAX,
};
use crate::catalog::Catalog;
use crate::domain::{Id, StockLineIdx};
use crate::error::{Error, PreconditionViolation};

/// Connections per replica.
pub const POOL_CONNECTIONS: usize = 8;
/// How often a replica re-reads the stock rows changed since its last poll: only a safety net
/// for notifications lost while its listening connection was down (it also polls after every
/// reconnect).
pub const SNAPSHOT_SAFETY_POLL_INTERVAL: Duration = Duration::from_secs(10);
/// The channel the stock trigger notifies (see migration 2).
pub const STOCK_CHANNEL: &str = "equipmatch_stock";
/// How long the listener waits before reconnecting after its connection failed.
const LISTEN_RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// The most notifications applied before the listener publishes a snapshot (it publishes
/// sooner whenever no more are waiting).
const NOTIFY_BATCH_MAX: usize = 256;
/// Attempts of one command on deadlock or serialization failure.
const ATTEMPTS_MAX: usize = 5;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a command waits for a free pooled connection before answering UNAVAILABLE.
const TAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A lock held by the replica that migrates, so two starting at once do not both migrate.
const MIGRATION_LOCK_KEY: i64 = 0x6571_6d68_6f6c_6473; // "eqmholds"

/// Schema migrations, applied in order once each; a version is never edited after release. Ids
/// compare byte-wise (COLLATE "C"), as in SQLite and in `Id`'s order, so pages agree.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"CREATE TABLE stock (
        supplier_id TEXT COLLATE "C" NOT NULL,
        category_id TEXT COLLATE "C" NOT NULL,
        on_hand_override BIGINT,
        pending BIGINT NOT NULL CHECK (pending >= 0),
        confirmed BIGINT NOT NULL CHECK (confirmed >= 0),
        version BIGINT NOT NULL DEFAULT 0,
        CHECK (on_hand_override IS NULL OR pending + confirmed <= on_hand_override),
        PRIMARY KEY (supplier_id, category_id)
    );
    CREATE TABLE holds (
        hold_id TEXT COLLATE "C" PRIMARY KEY,
        incident_ref TEXT COLLATE "C" NOT NULL,
        ttl_seconds BIGINT NOT NULL,
        state TEXT NOT NULL,
        placed_at_ms BIGINT NOT NULL,
        expires_at_ms BIGINT NOT NULL,
        resolved_at_ms BIGINT,
        placed_by TEXT NOT NULL
    );
    CREATE INDEX holds_by_incident ON holds (incident_ref, hold_id);
    CREATE INDEX holds_by_state_expiry ON holds (state, expires_at_ms);
    CREATE TABLE hold_lines (
        hold_id TEXT COLLATE "C" NOT NULL REFERENCES holds (hold_id),
        line_no INTEGER NOT NULL,
        supplier_id TEXT COLLATE "C" NOT NULL,
        category_id TEXT COLLATE "C" NOT NULL,
        quantity_units BIGINT NOT NULL CHECK (quantity_units > 0),
        PRIMARY KEY (hold_id, line_no)
    );
    CREATE INDEX hold_lines_by_supplier ON hold_lines (supplier_id, hold_id);
    CREATE TABLE hold_audit (
        seq BIGSERIAL PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        hold_id TEXT COLLATE "C" NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE INDEX hold_audit_by_hold ON hold_audit (hold_id, seq);
    CREATE TABLE stock_audit (
        seq BIGSERIAL PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        supplier_id TEXT COLLATE "C" NOT NULL,
        category_id TEXT COLLATE "C" NOT NULL,
        on_hand_before BIGINT,
        on_hand_after BIGINT NOT NULL,
        actor TEXT NOT NULL
    );"#,
    ),
    (
        2,
        // Every change to a stock row, whoever makes it, stamps the row with its transaction
        // id (the safety-net poll reads rows by it) and notifies the replicas at commit.
        r#"ALTER TABLE stock ADD COLUMN last_xid BIGINT NOT NULL DEFAULT 0;
    CREATE FUNCTION equipmatch_stock_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.last_xid := pg_current_xact_id()::text::bigint;
        RETURN NEW;
    END $$;
    CREATE TRIGGER stock_stamp BEFORE INSERT OR UPDATE ON stock
        FOR EACH ROW EXECUTE FUNCTION equipmatch_stock_stamp();
    CREATE FUNCTION equipmatch_stock_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('equipmatch_stock', concat_ws(' ', NEW.version, NEW.pending,
            NEW.confirmed, COALESCE(NEW.on_hand_override::text, '-'), NEW.supplier_id,
            NEW.category_id));
        RETURN NULL;
    END $$;
    CREATE TRIGGER stock_notify AFTER INSERT OR UPDATE ON stock
        FOR EACH ROW EXECUTE FUNCTION equipmatch_stock_notify();"#,
    ),
];

fn unavailable(error: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("hold store: {error}"))
}

use super::Touched;

type Failure = super::Failure<tokio_postgres::Error>;

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Failure {
        Failure::Storage(error)
    }
}

struct Shared {
    url: String,
    catalog: Arc<Catalog>,
    clock: Clock,
    /// Idle connections; a task takes one and gives it back.
    idle: tokio::sync::Mutex<mpsc::Receiver<Client>>,
    give_back: mpsc::Sender<Client>,
    /// What this replica knows of the stock rows, changed under one lock.
    levels: Mutex<Levels>,
    snapshot: SnapshotCell,
    /// The xmin of the last completed safety-net poll's snapshot: every transaction below it
    /// had finished, and its rows were read. Held across a poll, so polls do not overlap.
    polled_below_xid: tokio::sync::Mutex<i64>,
}

/// The stock rows as this replica last read them.
struct Levels {
    /// The row version of every catalog line with a stock row.
    versions: HashMap<StockLineIdx, i64>,
    /// The last published snapshot; a change is made in a clone (sharing the rest) and
    /// published.
    current: HeldSnapshot,
}

/// One row of `stock`, from a query or from a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StockRow {
    supplier_id: String,
    category_id: String,
    on_hand_override: Option<i64>,
    pending: i64,
    confirmed: i64,
    version: i64,
}

/// The columns `StockRow::from_row` reads, in order.
const STOCK_ROW_COLUMNS: &str =
    "s.supplier_id, s.category_id, s.on_hand_override, s.pending, s.confirmed, s.version";

impl StockRow {
    fn from_row(row: &tokio_postgres::Row) -> StockRow {
        StockRow {
            supplier_id: row.get(0),
            category_id: row.get(1),
            on_hand_override: row.get(2),
            pending: row.get(3),
            confirmed: row.get(4),
            version: row.get(5),
        }
    }

    /// Parses the payload of the stock trigger:
    /// `version pending confirmed on_hand_override|- supplier_id category_id` (ids have no
    /// spaces: `Id` allows letters, digits, `-`, `_` and `.`).
    fn from_payload(payload: &str) -> Option<StockRow> {
        let mut fields = payload.split(' ');
        let version = fields.next()?.parse().ok()?;
        let pending = fields.next()?.parse().ok()?;
        let confirmed = fields.next()?.parse().ok()?;
        let on_hand_override = match fields.next()? {
            "-" => None,
            units => Some(units.parse().ok()?),
        };
        let supplier_id = fields.next()?.to_owned();
        let category_id = fields.next()?.to_owned();
        if fields.next().is_some() {
            return None;
        }
        Some(StockRow { supplier_id, category_id, on_hand_override, pending, confirmed, version })
    }
}

/// The PostgreSQL hold store (see the module doc).
pub struct PostgresStore {
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
    }
}

async fn connect_one(url: &str) -> Result<Client, Error> {
    let connecting = tokio_postgres::connect(url, NoTls);
    let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| unavailable("connecting to PostgreSQL timed out"))?
        .map_err(unavailable)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// A listening connection: the client (dropping it closes the connection) and the task that
/// drives the connection and applies its notifications (it ends when the connection does).
struct Listening {
    _client: Client,
    driver: tokio::task::JoinHandle<()>,
}

/// Opens a connection, LISTENs on `STOCK_CHANNEL`, then polls the rows changed since the last
/// poll (all of them the first time), so nothing changed while no connection listened is lost.
async fn listen(shared: &Arc<Shared>) -> Result<Listening, Error> {
    let connecting = tokio_postgres::connect(&shared.url, NoTls);
    let (client, mut connection) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| unavailable("connecting to PostgreSQL timed out"))?
        .map_err(unavailable)?;
    let driver = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                // Every notification already received, at most NOTIFY_BATCH_MAX: one snapshot
                // is published per batch, not per row.
                let batch = std::future::poll_fn(|cx| {
                    let mut batch = Vec::new();
                    loop {
                        match connection.poll_message(cx) {
                            Poll::Ready(Some(Ok(AsyncMessage::Notification(notification)))) => {
                                batch.push(notification);
                                if batch.len() >= NOTIFY_BATCH_MAX {
                                    return Poll::Ready(Some(Ok(batch)));
                                }
                            }
                            Poll::Ready(Some(Ok(_))) => {} // a notice
                            Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                            Poll::Ready(None) => return Poll::Ready(None),
                            Poll::Pending if batch.is_empty() => return Poll::Pending,
                            Poll::Pending => return Poll::Ready(Some(Ok(batch))),
                        }
                    }
                })
                .await;
                match batch {
                    Some(Ok(batch)) => shared.apply_rows(batch.iter().filter_map(|notification| {
                        let row = StockRow::from_payload(notification.payload());
                        if row.is_none() {
                            tracing::warn!(
                                payload = notification.payload(),
                                "unreadable stock notification; the safety-net poll will catch up"
                            );
                        }
                        row
                    })),
                    Some(Err(error)) => {
                        tracing::warn!(%error, "the listening PostgreSQL connection failed");
                        break;
                    }
                    None => break,
                }
            }
        })
    };
    client.batch_execute(&format!("LISTEN {STOCK_CHANNEL}")).await.map_err(unavailable)?;
    shared.poll_changed().await?;
    Ok(Listening { _client: client, driver })
}

/// Keeps one connection listening: when it ends, reconnects (after `LISTEN_RECONNECT_DELAY`,
/// for as long as the store lives) and catches up through `listen`'s poll.
async fn keep_listening(shared: Arc<Shared>, mut listening: Listening) {
    loop {
        let _ = (&mut listening.driver).await;
        loop {
            tokio::time::sleep(LISTEN_RECONNECT_DELAY).await;
            match listen(&shared).await {
                Ok(again) => {
                    tracing::info!("listening for stock changes again");
                    listening = again;
                    break;
                }
                Err(error) => tracing::warn!(%error, "cannot listen for stock changes yet"),
            }
        }
    }
}

impl PostgresStore {
    /// Connects the pool, migrates the schema (under an advisory lock), loads the stock levels
    /// and starts the expiry sweeper and the snapshot poller.
    pub async fn connect(
        url: &str,
        catalog: Arc<Catalog>,
        clock: Clock,
    ) -> Result<PostgresStore, Error> {
        let (give_back, idle) = mpsc::channel(POOL_CONNECTIONS);
        let mut first = connect_one(url).await?;
        migrate(&mut first, &clock).await.map_err(unavailable)?;
        give_back.send(first).await.map_err(unavailable)?;
        for _ in 1..POOL_CONNECTIONS {
            give_back.send(connect_one(url).await?).await.map_err(unavailable)?;
        }
        let shared = Arc::new(Shared {
            url: url.to_owned(),
            levels: Mutex::new(Levels {
                versions: HashMap::new(),
                current: HeldSnapshot::new(catalog.stock_lines.len()),
            }),
            catalog,
            clock,
            idle: tokio::sync::Mutex::new(idle),
            give_back,
            snapshot: SnapshotCell::default(),
            polled_below_xid: tokio::sync::Mutex::new(0),
        });
        shared.snapshot.store(HeldSnapshot::new(shared.catalog.stock_lines.len()));
        // Listening before the first (full) poll: no change falls between the two.
        let listening = listen(&shared).await?;
        let listener = tokio::spawn(keep_listening(shared.clone(), listening));
        let sweeper = {
            let shared = shared.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(EXPIRY_SWEEP_INTERVAL).await;
                    if let Err(error) = shared.sweep().await {
                        tracing::warn!(%error, "expiry sweep failed");
                    }
                }
            })
        };
        let poller = {
            let shared = shared.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(SNAPSHOT_SAFETY_POLL_INTERVAL).await;
                    if let Err(error) = shared.poll_changed().await {
                        tracing::warn!(%error, "stock snapshot poll failed");
                    }
                }
            })
        };
        Ok(PostgresStore {
            shared,
            permits: Arc::new(Semaphore::new(WRITE_QUEUE_MAX)),
            background: vec![listener, sweeper, poller],
        })
    }
}

impl HoldStore for PostgresStore {
    fn execute(&self, command: Command) -> StoreFuture {
        let permit = self.permits.clone().try_acquire_owned();
        let shared = self.shared.clone();
        // Spawned now, not when first polled: a dropped caller does not stop the transaction.
        let task = match (permit, tokio::runtime::Handle::try_current()) {
            (Ok(permit), Ok(runtime)) => Ok(runtime.spawn(async move {
                let _permit = permit;
                shared.run(&command).await
            })),
            (Err(_), _) => Err(Error::ResourceExhausted(format!(
                "the hold store has {WRITE_QUEUE_MAX} commands in flight: retry later with the \
                 same hold_id"
            ))),
            (_, Err(_)) => Err(unavailable("no async runtime")),
        };
        Box::pin(async move {
            match task {
                Ok(handle) => handle.await.unwrap_or_else(|error| Err(unavailable(error))),
                Err(error) => Err(error),
            }
        })
    }

    fn held(&self) -> Arc<HeldSnapshot> {
        self.shared.snapshot.load()
    }

    fn flush(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        // Every command in flight holds a permit: having them all means none is running.
        let permits = self.permits.clone();
        Box::pin(async move {
            let _all = permits.acquire_many(WRITE_QUEUE_MAX as u32).await;
        })
    }
}

async fn migrate(client: &mut Client, clock: &Clock) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY]).await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, applied_at_ms BIGINT NOT NULL)",
    )
    .await?;
    let applied: i32 =
        tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await?.get(0);
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > applied) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
            &[version, &clock()],
        )
        .await?;
        tracing::info!(version, "hold store migrated");
    }
    tx.commit().await
}

fn retryable(error: &tokio_postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(code) if *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::UNIQUE_VIOLATION
    )
}

impl Shared {
    /// Takes an idle connection (waiting at most `TAKE_TIMEOUT`), reconnecting one that has
    /// closed. A failed reconnect puts the closed one back, so the pool never shrinks and the
    /// next taker tries again.
    async fn take(&self) -> Result<Client, Error> {
        let taking = async { self.idle.lock().await.recv().await };
        let client = tokio::time::timeout(TAKE_TIMEOUT, taking)
            .await
            .map_err(|_| unavailable("no PostgreSQL connection became free in time"))?
            .ok_or_else(|| unavailable("pool closed"))?;
        if client.is_closed() {
            return match connect_one(&self.url).await {
                Ok(fresh) => Ok(fresh),
                Err(error) => {
                    let _ = self.give_back.send(client).await;
                    Err(error)
                }
            };
        }
        Ok(client)
    }

    async fn run(&self, command: &Command) -> Result<Outcome, Error> {
        let mut client = self.take().await?;
        let mut result = Err(unavailable("not attempted"));
        let mut touched = Touched::new();
        for _attempt in 0..ATTEMPTS_MAX {
            touched.clear();
            let now = (self.clock)();
            match attempt(&mut client, command, now, &mut touched).await {
                Err(Failure::Storage(error)) if retryable(&error) => {
                    result = Err(unavailable(&error));
                    continue;
                }
                Err(Failure::Storage(error)) => {
                    result = Err(unavailable(&error));
                    break;
                }
                Err(Failure::Refused(error) | Failure::Answer(error)) => {
                    result = Err(error);
                    break;
                }
                Ok(outcome) => {
                    result = Ok(outcome);
                    break;
                }
            }
        }
        if !touched.is_empty() {
            if let Err(error) = self.refresh(&client, &touched).await {
                tracing::warn!(%error, "refreshing stock levels failed; the poll will catch up");
            }
        }
        let _ = self.give_back.send(client).await;
        result
    }

    /// Re-reads the touched lines (after the commit, in one query) and publishes a new
    /// snapshot.
    async fn refresh(
        &self,
        client: &Client,
        touched: &Touched,
    ) -> Result<(), tokio_postgres::Error> {
        let (suppliers, categories): (Vec<&str>, Vec<&str>) = touched
            .iter()
            .map(|(supplier, category)| (supplier.as_str(), category.as_str()))
            .unzip();
        let rows = client
            .query(
                &format!(
                    r#"SELECT {STOCK_ROW_COLUMNS}
                       FROM unnest($1::text[], $2::text[]) AS t(supplier_id, category_id)
                       JOIN stock s ON s.supplier_id = t.supplier_id COLLATE "C"
                                   AND s.category_id = t.category_id COLLATE "C""#
                ),
                &[&suppliers, &categories],
            )
            .await?;
        self.apply_rows(rows.iter().map(StockRow::from_row));
        Ok(())
    }

    /// Re-reads the rows changed since the last poll: those stamped by a transaction at or
    /// above the last poll's xmin (the first poll reads every row). See the module doc.
    async fn poll_changed(&self) -> Result<usize, Error> {
        let mut polled_below = self.polled_below_xid.lock().await;
        let mut client = self.take().await?;
        let read = async {
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            // The first statement takes the snapshot both statements read.
            let xmin: i64 = tx
                .query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", &[])
                .await?
                .get(0);
            let rows = tx
                .query(
                    &format!("SELECT {STOCK_ROW_COLUMNS} FROM stock s WHERE s.last_xid >= $1"),
                    &[&*polled_below],
                )
                .await?;
            tx.commit().await?;
            Ok::<_, tokio_postgres::Error>((xmin, rows))
        };
        let result = read.await;
        let _ = self.give_back.send(client).await;
        let (xmin, rows) = result.map_err(unavailable)?;
        self.apply_rows(rows.iter().map(StockRow::from_row));
        *polled_below = xmin;
        Ok(rows.len())
    }

    /// Applies rows newer than what this replica knows and publishes the snapshot if any was.
    /// O(rows × depth): the snapshot shares every line the rows do not change.
    fn apply_rows(&self, rows: impl Iterator<Item = StockRow>) {
        let mut levels = match self.levels.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Levels { versions, current } = &mut *levels;
        let mut changed = false;
        for row in rows {
            let Some(line) =
                super::find_stock_line(&self.catalog, &row.supplier_id, &row.category_id)
            else {
                continue; // a line of another catalog
            };
            if versions.get(&line).is_some_and(|known| *known >= row.version) {
                continue;
            }
            let catalog_units = StockRef::from_catalog(&self.catalog, line).catalog_on_hand_units;
            let level = LineLevel {
                on_hand_units: row.on_hand_override.map_or(catalog_units, |units| units as u64),
                pending_units: row.pending as u64,
                confirmed_units: row.confirmed as u64,
            };
            versions.insert(line, row.version);
            current.set(line, super::line_entry(&self.catalog, line, level));
            changed = true;
        }
        if changed {
            self.snapshot.store(current.clone());
        }
    }

    /// Expires up to `EXPIRE_PER_SWEEP_MAX` due holds, each in its own transaction.
    async fn sweep(&self) -> Result<(), Error> {
        let now = (self.clock)();
        let client = self.take().await?;
        let due = client
            .query(
                "SELECT hold_id FROM holds WHERE state = 'pending' AND expires_at_ms <= $1
                 ORDER BY expires_at_ms, hold_id LIMIT $2",
                &[&now, &(EXPIRE_PER_SWEEP_MAX as i64)],
            )
            .await;
        let _ = self.give_back.send(client).await;
        for row in due.map_err(unavailable)? {
            let hold_id: &str = row.get(0);
            if let Ok(hold_id) = Id::parse(hold_id) {
                // A Get expires a due hold on the way, exactly once across replicas.
                let _ = self.run(&Command::Get { hold_id }).await;
            }
        }
        Ok(())
    }
}

async fn attempt(
    client: &mut Client,
    command: &Command,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    let began = std::time::Instant::now();
    let tx = client.transaction().await?;
    let result = match command {
        Command::Place { hold, caller } => place(&tx, hold, caller, now, touched).await,
        Command::Confirm { hold_id, caller } => {
            resolve(&tx, hold_id, HoldState::Confirmed, caller, now, touched).await
        }
        Command::Release { hold_id, caller } => {
            resolve(&tx, hold_id, HoldState::Released, caller, now, touched).await
        }
        Command::Get { hold_id } => match load_hold(&tx, hold_id, now, touched, true).await {
            Ok(Some(hold)) => Ok(Outcome::Hold(hold)),
            Ok(None) => Err(Failure::Refused(hold_not_found(hold_id))),
            Err(failure) => Err(failure),
        },
        Command::List(query) => list(&tx, query, now, touched).await,
        Command::UpdateStock { lines, caller } => {
            update_stock(&tx, lines, caller, now, touched).await
        }
    };
    match result {
        Ok(outcome) => {
            tx.commit().await?;
            crate::metrics::hold_commit(began.elapsed(), 1);
            Ok(outcome)
        }
        Err(Failure::Answer(error)) => {
            tx.commit().await?;
            Err(Failure::Answer(error))
        }
        Err(failure) => {
            touched.clear();
            drop(tx); // rolls back
            Err(failure)
        }
    }
}

async fn ensure_stock_row(
    tx: &Transaction<'_>,
    stock: &StockRef,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "INSERT INTO stock (supplier_id, category_id, on_hand_override, pending, confirmed)
         VALUES ($1, $2, NULL, 0, 0) ON CONFLICT DO NOTHING",
        &[&stock.supplier_id.as_str(), &stock.category_id.as_str()],
    )
    .await?;
    Ok(())
}

async fn read_level(
    tx: &Transaction<'_>,
    stock: &StockRef,
) -> Result<LineLevel, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            "SELECT on_hand_override, pending, confirmed FROM stock
             WHERE supplier_id = $1 AND category_id = $2",
            &[&stock.supplier_id.as_str(), &stock.category_id.as_str()],
        )
        .await?;
    Ok(match row {
        Some(row) => LineLevel {
            on_hand_units: row
                .get::<_, Option<i64>>(0)
                .map_or(stock.catalog_on_hand_units, |units| units as u64),
            pending_units: row.get::<_, i64>(1) as u64,
            confirmed_units: row.get::<_, i64>(2) as u64,
        },
        None => LineLevel { on_hand_units: stock.catalog_on_hand_units, ..LineLevel::default() },
    })
}

async fn place(
    tx: &Transaction<'_>,
    new: &NewHold,
    caller: &Caller,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    let expires_at_ms = now + 1000 * i64::from(new.ttl_seconds);
    // The hold row first: a concurrent place of the same id (another replica) waits here for
    // the first to commit, then finds it.
    let inserted = tx
        .execute(
            "INSERT INTO holds (hold_id, incident_ref, ttl_seconds, state, placed_at_ms,
                                expires_at_ms, resolved_at_ms, placed_by)
             VALUES ($1, $2, $3, 'pending', $4, $5, NULL, $6) ON CONFLICT DO NOTHING",
            &[
                &new.hold_id.as_str(),
                &new.incident_ref.as_str(),
                &i64::from(new.ttl_seconds),
                &now,
                &expires_at_ms,
                &caller.as_str(),
            ],
        )
        .await?;
    if inserted == 0 {
        return match load_hold(tx, &new.hold_id, now, touched, false).await? {
            Some(stored) if new.same_content(&stored) => Ok(Outcome::Hold(stored)),
            Some(_) => Err(Failure::Answer(hold_exists(&new.hold_id))),
            None => Err(Failure::Refused(Error::Internal("a conflicting hold vanished".into()))),
        };
    }
    let mut short = Vec::new();
    for line in &new.lines {
        ensure_stock_row(tx, &line.stock).await?;
        // The conditional update is the whole invariant: it never takes more than is left.
        let changed = tx
            .execute(
                "UPDATE stock SET pending = pending + $3, version = version + 1
                 WHERE supplier_id = $1 AND category_id = $2
                   AND pending + confirmed + $3 <= COALESCE(on_hand_override, $4)",
                &[
                    &line.stock.supplier_id.as_str(),
                    &line.stock.category_id.as_str(),
                    &(line.quantity_units as i64),
                    &(line.stock.catalog_on_hand_units as i64),
                ],
            )
            .await?;
        if changed == 0 {
            short.push(short_line(
                &line.stock,
                line.quantity_units,
                read_level(tx, &line.stock).await?,
            ));
        }
        touched.insert((line.stock.supplier_id.clone(), line.stock.category_id.clone()));
    }
    if !short.is_empty() {
        return Err(Failure::Refused(Error::FailedPrecondition(short)));
    }
    for (line_no, line) in new.lines.iter().enumerate() {
        tx.execute(
            "INSERT INTO hold_lines (hold_id, line_no, supplier_id, category_id, quantity_units)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &new.hold_id.as_str(),
                &(line_no as i32),
                &line.stock.supplier_id.as_str(),
                &line.stock.category_id.as_str(),
                &(line.quantity_units as i64),
            ],
        )
        .await?;
    }
    audit(tx, &new.hold_id, None, HoldState::Pending, caller.as_str(), now).await?;
    Ok(Outcome::Hold(Hold::placed(new, caller, now, expires_at_ms)))
}

async fn audit(
    tx: &Transaction<'_>,
    hold_id: &Id,
    from: Option<HoldState>,
    to: HoldState,
    actor: &str,
    now: i64,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "INSERT INTO hold_audit (at_ms, hold_id, from_state, to_state, actor)
         VALUES ($1, $2, $3, $4, $5)",
        &[&now, &hold_id.as_str(), &from.map(HoldState::as_str), &to.as_str(), &actor],
    )
    .await?;
    Ok(())
}

fn corrupt(what: impl std::fmt::Display) -> Failure {
    Failure::Refused(Error::Internal(format!("hold store row is corrupt: {what}")))
}

fn parse_id(text: &str) -> Result<Id, Failure> {
    Id::parse(text).map_err(corrupt)
}

fn parse_state(text: &str) -> Result<HoldState, Failure> {
    HoldState::parse(text).ok_or_else(|| corrupt(format!("state {text:?}")))
}

/// Reads a hold, locking its row; a PENDING hold past its expiry is expired first.
async fn load_hold(
    tx: &Transaction<'_>,
    hold_id: &Id,
    now: i64,
    touched: &mut Touched,
    with_history: bool,
) -> Result<Option<Hold>, Failure> {
    let Some(row) = tx
        .query_opt(
            "SELECT incident_ref, ttl_seconds, state, placed_at_ms, expires_at_ms,
                    resolved_at_ms, placed_by
             FROM holds WHERE hold_id = $1 FOR UPDATE",
            &[&hold_id.as_str()],
        )
        .await?
    else {
        return Ok(None);
    };
    let mut lines = Vec::new();
    for line in tx
        .query(
            "SELECT supplier_id, category_id, quantity_units FROM hold_lines
             WHERE hold_id = $1 ORDER BY line_no",
            &[&hold_id.as_str()],
        )
        .await?
    {
        lines.push(HoldLine {
            supplier_id: parse_id(line.get(0))?,
            category_id: parse_id(line.get(1))?,
            quantity_units: line.get::<_, i64>(2) as u64,
        });
    }
    let mut hold = Hold {
        hold_id: hold_id.clone(),
        incident_ref: parse_id(row.get(0))?,
        lines,
        ttl_seconds: row.get::<_, i64>(1) as u32,
        state: parse_state(row.get(2))?,
        placed_at_ms: row.get(3),
        expires_at_ms: row.get(4),
        resolved_at_ms: row.get(5),
        placed_by: row.get(6),
        history: Vec::new(),
    };
    if hold.state == HoldState::Pending && now >= hold.expires_at_ms {
        transition(tx, &mut hold, HoldState::Expired, Caller::server().as_str(), now, touched)
            .await?;
    }
    if with_history {
        for event in tx
            .query(
                "SELECT at_ms, from_state, to_state, actor FROM hold_audit
                 WHERE hold_id = $1 ORDER BY seq LIMIT $2",
                &[&hold_id.as_str(), &(HISTORY_EVENTS_MAX as i64)],
            )
            .await?
        {
            let from: Option<&str> = event.get(1);
            hold.history.push(HoldEvent {
                at_ms: event.get(0),
                from: from.map(parse_state).transpose()?,
                to: parse_state(event.get(2))?,
                actor: event.get(3),
            });
        }
    }
    Ok(Some(hold))
}

/// Moves a PENDING hold to `to` with its stock and audit.
async fn transition(
    tx: &Transaction<'_>,
    hold: &mut Hold,
    to: HoldState,
    actor: &str,
    now: i64,
    touched: &mut Touched,
) -> Result<(), Failure> {
    let changed = tx
        .execute(
            "UPDATE holds SET state = $2, resolved_at_ms = $3
             WHERE hold_id = $1 AND state = 'pending'",
            &[&hold.hold_id.as_str(), &to.as_str(), &now],
        )
        .await?;
    if changed != 1 {
        return Err(Failure::Refused(Error::Internal(format!(
            "hold {} was not pending when resolving it",
            hold.hold_id
        ))));
    }
    for line in &hold.lines {
        let sql = if to == HoldState::Confirmed {
            "UPDATE stock SET pending = pending - $3, confirmed = confirmed + $3,
                              version = version + 1
             WHERE supplier_id = $1 AND category_id = $2 AND pending >= $3"
        } else {
            "UPDATE stock SET pending = pending - $3, version = version + 1
             WHERE supplier_id = $1 AND category_id = $2 AND pending >= $3"
        };
        let changed = tx
            .execute(
                sql,
                &[
                    &line.supplier_id.as_str(),
                    &line.category_id.as_str(),
                    &(line.quantity_units as i64),
                ],
            )
            .await?;
        if changed != 1 {
            return Err(Failure::Refused(Error::Internal(format!(
                "stock line {}/{} holds fewer pending units than hold {}",
                line.supplier_id, line.category_id, hold.hold_id
            ))));
        }
        touched.insert((line.supplier_id.clone(), line.category_id.clone()));
    }
    audit(tx, &hold.hold_id, Some(HoldState::Pending), to, actor, now).await?;
    hold.state = to;
    hold.resolved_at_ms = Some(now);
    Ok(())
}

async fn resolve(
    tx: &Transaction<'_>,
    hold_id: &Id,
    to: HoldState,
    caller: &Caller,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    let Some(mut hold) = load_hold(tx, hold_id, now, touched, false).await? else {
        return Err(Failure::Refused(hold_not_found(hold_id)));
    };
    if hold.state == HoldState::Pending {
        transition(tx, &mut hold, to, caller.as_str(), now, touched).await?;
    } else if hold.state != to {
        let wanted = if to == HoldState::Confirmed { "confirmed" } else { "released" };
        return Err(Failure::Answer(wrong_state(hold_id, hold.state, wanted)));
    }
    Ok(Outcome::Hold(hold))
}

async fn list(
    tx: &Transaction<'_>,
    query: &ListQuery,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    let after = query.after.as_ref().map_or("", |id| id.as_str());
    let (sql, key) = match &query.by {
        ListBy::Incident(incident) => (
            "SELECT hold_id FROM holds WHERE incident_ref = $1 AND hold_id > $2
             ORDER BY hold_id LIMIT $3",
            incident,
        ),
        ListBy::Supplier(supplier) => (
            "SELECT DISTINCT hold_id FROM hold_lines
             WHERE supplier_id = $1 AND hold_id > $2 ORDER BY hold_id LIMIT $3",
            supplier,
        ),
    };
    let mut ids = Vec::new();
    for row in tx.query(sql, &[&key.as_str(), &after, &(query.limit as i64 + 1)]).await? {
        ids.push(parse_id(row.get(0))?);
    }
    let more = ids.len() > query.limit;
    ids.truncate(query.limit);
    let mut holds = Vec::with_capacity(ids.len());
    for hold_id in &ids {
        if let Some(hold) = load_hold(tx, hold_id, now, touched, false).await? {
            holds.push(hold);
        }
    }
    Ok(Outcome::Holds { holds, more })
}

async fn update_stock(
    tx: &Transaction<'_>,
    lines: &[(StockRef, u64)],
    caller: &Caller,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    let mut levels = Vec::with_capacity(lines.len());
    let mut refused: Vec<PreconditionViolation> = Vec::new();
    for (stock, on_hand_units) in lines {
        ensure_stock_row(tx, stock).await?;
        // Locks the row, so no hold can slip in between the check and the update.
        tx.execute(
            "SELECT 1 FROM stock WHERE supplier_id = $1 AND category_id = $2 FOR UPDATE",
            &[&stock.supplier_id.as_str(), &stock.category_id.as_str()],
        )
        .await?;
        let before = read_level(tx, stock).await?;
        let committed = before.pending_units + before.confirmed_units;
        if *on_hand_units < committed {
            refused.push(PreconditionViolation {
                kind: "STOCK",
                subject: stock.subject(),
                description: format!(
                    "on hand {on_hand_units} would be below the {committed} units held \
                     (pending {}, confirmed {}): release holds first",
                    before.pending_units, before.confirmed_units
                ),
                available_units: Some(before.available_units()),
            });
            continue;
        }
        tx.execute(
            "UPDATE stock SET on_hand_override = $3, version = version + 1
             WHERE supplier_id = $1 AND category_id = $2",
            &[&stock.supplier_id.as_str(), &stock.category_id.as_str(), &(*on_hand_units as i64)],
        )
        .await?;
        tx.execute(
            "INSERT INTO stock_audit (at_ms, supplier_id, category_id, on_hand_before,
                                      on_hand_after, actor)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &now,
                &stock.supplier_id.as_str(),
                &stock.category_id.as_str(),
                &(before.on_hand_units as i64),
                &(*on_hand_units as i64),
                &caller.as_str(),
            ],
        )
        .await?;
        touched.insert((stock.supplier_id.clone(), stock.category_id.clone()));
        levels.push(LineLevel { on_hand_units: *on_hand_units, ..before });
    }
    if !refused.is_empty() {
        return Err(Failure::Refused(Error::FailedPrecondition(refused)));
    }
    Ok(Outcome::Stock(levels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_notifications_parse_and_junk_is_refused() {
        assert_eq!(
            StockRow::from_payload("7 3 2 40 sup-00007 rescuer-ppe-kit"),
            Some(StockRow {
                supplier_id: "sup-00007".into(),
                category_id: "rescuer-ppe-kit".into(),
                on_hand_override: Some(40),
                pending: 3,
                confirmed: 2,
                version: 7,
            })
        );
        let no_override = StockRow::from_payload("0 0 0 - sup-1 cat.a").unwrap();
        assert_eq!(no_override.on_hand_override, None);
        for junk in ["", "7 3 2 40 sup-1", "7 3 2 40 sup-1 cat extra", "x 3 2 - s c", "7 3 2 ? s c"]
        {
            assert_eq!(StockRow::from_payload(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn the_trigger_notifies_the_channel_the_replicas_listen_on() {
        let (_, trigger) = MIGRATIONS.last().unwrap();
        assert!(trigger.contains(&format!("pg_notify('{STOCK_CHANNEL}'")));
    }
}
