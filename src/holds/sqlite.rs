//! The embedded hold store: one SQLite file (WAL, synchronous=FULL) owned by one writer thread
//! that commits what is queued in groups.
//!
//! Shape (performance-facts, "Durable writes"): `execute` only enqueues on a bounded queue
//! (full → RESOURCE_EXHAUSTED at once) and awaits a oneshot reply; the writer takes up to
//! `BATCH_COMMANDS_MAX` commands, runs each inside its own savepoint of one transaction (a
//! refused command rolls back alone), commits once, and only then replies. A caller dropped at
//! its deadline therefore never leaves half a hold: the writer finishes or rolls back the whole
//! command whatever happens to the caller, and a retry with the same hold_id finds it.
//!
//! Reads go through the writer too: every answer reflects every acknowledged write, and expiry
//! is decided at one place, by one clock.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::{
    hold_exists, hold_not_found, short_line, wrong_state, Caller, Clock, Command, HeldSnapshot,
    Hold, HoldEvent, HoldLine, HoldState, HoldStore, LineLevel, ListBy, ListQuery, NewHold,
    Outcome, SnapshotCell, StockRef, StoreFuture, BATCH_COMMANDS_MAX, EXPIRE_PER_SWEEP_MAX,
    EXPIRY_SWEEP_INTERVAL, HISTORY_EVENTS_MAX, WRITE_QUEUE_MAX,
};
use crate::catalog::Catalog;
use crate::domain::Id;
use crate::error::{Error, PreconditionViolation};

/// Schema migrations, applied in order once each; a version is never edited after release.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE stock (
        supplier_id TEXT NOT NULL,
        category_id TEXT NOT NULL,
        on_hand_override INTEGER,
        pending INTEGER NOT NULL CHECK (pending >= 0),
        confirmed INTEGER NOT NULL CHECK (confirmed >= 0),
        CHECK (on_hand_override IS NULL OR pending + confirmed <= on_hand_override),
        PRIMARY KEY (supplier_id, category_id)
    );
    CREATE TABLE holds (
        hold_id TEXT PRIMARY KEY,
        incident_ref TEXT NOT NULL,
        ttl_seconds INTEGER NOT NULL,
        state TEXT NOT NULL,
        placed_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        resolved_at_ms INTEGER,
        placed_by TEXT NOT NULL
    );
    CREATE INDEX holds_by_incident ON holds (incident_ref, hold_id);
    CREATE INDEX holds_by_state_expiry ON holds (state, expires_at_ms);
    CREATE TABLE hold_lines (
        hold_id TEXT NOT NULL REFERENCES holds (hold_id),
        line_no INTEGER NOT NULL,
        supplier_id TEXT NOT NULL,
        category_id TEXT NOT NULL,
        quantity_units INTEGER NOT NULL CHECK (quantity_units > 0),
        PRIMARY KEY (hold_id, line_no)
    );
    CREATE INDEX hold_lines_by_supplier ON hold_lines (supplier_id, hold_id);
    CREATE TABLE hold_audit (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        hold_id TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE INDEX hold_audit_by_hold ON hold_audit (hold_id, seq);
    CREATE TABLE stock_audit (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        supplier_id TEXT NOT NULL,
        category_id TEXT NOT NULL,
        on_hand_before INTEGER,
        on_hand_after INTEGER NOT NULL,
        actor TEXT NOT NULL
    );",
)];

/// How long opening waits for another process's lock before giving up (ms).
const BUSY_TIMEOUT_MS: i64 = 5000;
/// WAL pages between checkpoints. A checkpoint copies each page once however often it changed
/// since the last one, and runs on the writer thread: fewer, larger checkpoints write the hot
/// pages (stock rows, index roots) fewer times. 10000 pages of 4 KiB = 40 MiB of WAL at most.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;
/// Page cache of the writer's connection (KiB; negative means KiB to SQLite).
const CACHE_KIB: i64 = 64 * 1024;

struct Job {
    command: Command,
    reply: oneshot::Sender<Result<Outcome, Error>>,
}

/// The SQLite hold store (see the module doc).
pub struct SqliteStore {
    queue: SyncSender<Job>,
    snapshot: Arc<SnapshotCell>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn unavailable(error: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("hold store: {error}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the file, migrates it, locks it for this process, loads the
    /// stock levels and starts the writer thread. The thread ends when the store is dropped.
    pub fn open(path: &Path, catalog: Arc<Catalog>, clock: Clock) -> Result<SqliteStore, Error> {
        let conn = Connection::open(path).map_err(unavailable)?;
        let catalog_lines = catalog.stock_lines.len();
        let mut writer = Writer {
            conn,
            catalog,
            current: HeldSnapshot::new(catalog_lines),
            clock,
            snapshot: Arc::new(SnapshotCell::default()),
        };
        writer.prepare().map_err(unavailable)?;
        writer.reload().map_err(unavailable)?;
        let snapshot = writer.snapshot.clone();
        let (queue, jobs) = mpsc::sync_channel(WRITE_QUEUE_MAX);
        std::thread::Builder::new()
            .name("holds-writer".into())
            .spawn(move || writer.run(&jobs))
            .map_err(unavailable)?;
        Ok(SqliteStore { queue, snapshot })
    }
}

impl HoldStore for SqliteStore {
    fn execute(&self, command: Command) -> StoreFuture {
        let (reply, answer) = oneshot::channel();
        let queued = self.queue.try_send(Job { command, reply });
        Box::pin(async move {
            match queued {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    return Err(Error::ResourceExhausted(format!(
                        "the hold store's write queue is full ({WRITE_QUEUE_MAX} waiting): retry \
                         later with the same hold_id"
                    )))
                }
                Err(TrySendError::Disconnected(_)) => {
                    return Err(unavailable("the writer has stopped"))
                }
            }
            answer.await.unwrap_or_else(|_| Err(unavailable("the writer has stopped")))
        })
    }

    fn held(&self) -> Arc<HeldSnapshot> {
        self.snapshot.load()
    }

    fn flush(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        // The queue is FIFO and the writer answers in order: once a read queued now is
        // answered, everything queued before it is committed or rolled back.
        let (reply, answer) = oneshot::channel();
        let get = Command::Get { hold_id: Id::parse("flush").expect("a valid id") };
        let queued = self.queue.send(Job { command: get, reply }).is_ok();
        Box::pin(async move {
            if queued {
                let _ = answer.await;
            }
        })
    }
}

use super::Touched;

type Failure = super::Failure<rusqlite::Error>;

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Failure {
        Failure::Storage(error)
    }
}

struct Writer {
    conn: Connection,
    catalog: Arc<Catalog>,
    clock: Clock,
    /// The last published snapshot: every catalog line with a stock row, as committed. A
    /// commit changes the lines it touched in a clone (sharing the rest) and publishes that.
    current: HeldSnapshot,
    snapshot: Arc<SnapshotCell>,
}

impl Writer {
    fn prepare(&mut self) -> rusqlite::Result<()> {
        let mode: String = self.conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "journal_mode is {mode}, not wal"
            )));
        }
        // FULL: an acknowledged hold survives an OS crash or power loss, not only kill -9.
        // EXCLUSIVE: one process owns the file, so the levels kept in memory are the truth.
        self.conn.execute_batch(&format!(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout={BUSY_TIMEOUT_MS};
             PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}; PRAGMA cache_size=-{CACHE_KIB};
             PRAGMA locking_mode=EXCLUSIVE; BEGIN IMMEDIATE; COMMIT;"
        ))?;
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
        )?;
        let applied: i64 = self.conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )?;
        let known = MIGRATIONS.last().map_or(0, |(version, _)| *version);
        if applied > known {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "the hold store has schema version {applied}, newer than this binary's {known}"
            )));
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > applied) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
                params![version, (self.clock)()],
            )?;
            tx.commit()?;
            tracing::info!(version, "hold store migrated");
        }
        Ok(())
    }

    /// Loads every stock row's level and publishes the snapshot (at start, and to recover
    /// from a failed refresh: the one O(rows) path).
    fn reload(&mut self) -> rusqlite::Result<()> {
        let mut current = HeldSnapshot::new(self.catalog.stock_lines.len());
        {
            let mut statement = self.conn.prepare(
                "SELECT supplier_id, category_id, on_hand_override, pending, confirmed FROM stock",
            )?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let supplier_id: String = row.get(0)?;
                let category_id: String = row.get(1)?;
                let Some(line) = super::find_stock_line(&self.catalog, &supplier_id, &category_id)
                else {
                    continue; // a line of an older catalog: its holds still resolve by id
                };
                let catalog_units =
                    StockRef::from_catalog(&self.catalog, line).catalog_on_hand_units;
                let on_hand: Option<i64> = row.get(2)?;
                let level = LineLevel {
                    on_hand_units: on_hand.map_or(catalog_units, |units| units as u64),
                    pending_units: row.get::<_, i64>(3)? as u64,
                    confirmed_units: row.get::<_, i64>(4)? as u64,
                };
                current.set(line, super::line_entry(&self.catalog, line, level));
            }
        }
        self.current = current;
        self.snapshot.store(self.current.clone());
        Ok(())
    }

    fn run(mut self, jobs: &mpsc::Receiver<Job>) {
        loop {
            let first = match jobs.recv_timeout(EXPIRY_SWEEP_INTERVAL) {
                Ok(job) => Some(job),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut batch: Vec<Job> = first.into_iter().collect();
            while batch.len() < BATCH_COMMANDS_MAX {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.commit_batch(batch);
        }
        tracing::info!("hold store writer stopped");
    }

    /// Expires what is due, applies every job in its own savepoint, commits once, refreshes the
    /// snapshot, then replies.
    fn commit_batch(&mut self, batch: Vec<Job>) {
        let began = std::time::Instant::now();
        let now = (self.clock)();
        let mut touched = Touched::new();
        let result = (|| -> rusqlite::Result<Vec<Result<Outcome, Error>>> {
            let mut tx = self.conn.transaction()?;
            match sweep(&tx, now, &mut touched) {
                Ok(()) => {}
                Err(Failure::Storage(error)) => return Err(error),
                Err(Failure::Refused(error) | Failure::Answer(error)) => {
                    tracing::error!(%error, "expiry sweep refused");
                }
            }
            let mut results = Vec::with_capacity(batch.len());
            for job in &batch {
                let savepoint = tx.savepoint()?;
                let mut local = Touched::new();
                match apply(&savepoint, &job.command, now, &mut local) {
                    Ok(outcome) => {
                        savepoint.commit()?;
                        touched.extend(local);
                        results.push(Ok(outcome));
                    }
                    Err(Failure::Refused(error)) => {
                        drop(savepoint); // rolls back this command only
                        results.push(Err(error));
                    }
                    Err(Failure::Answer(error)) => {
                        savepoint.commit()?;
                        touched.extend(local);
                        results.push(Err(error));
                    }
                    Err(Failure::Storage(error)) => return Err(error),
                }
            }
            tx.commit()?;
            crate::metrics::hold_commit(began.elapsed(), batch.len());
            Ok(results)
        })();
        match result {
            Ok(results) => {
                if !touched.is_empty() {
                    if let Err(error) = self.refresh(&touched) {
                        // The commit stands; only the snapshot is stale. Reload it whole.
                        tracing::error!(%error, "refreshing stock levels failed; reloading");
                        if let Err(error) = self.reload() {
                            tracing::error!(%error, "reloading stock levels failed");
                        }
                    }
                }
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result); // the caller may have gone: it will retry
                }
            }
            Err(error) => {
                tracing::error!(%error, commands = batch.len(), "hold batch rolled back");
                for job in batch {
                    let _ = job.reply.send(Err(unavailable(&error)));
                }
            }
        }
    }

    /// Re-reads the committed level of every touched line and publishes a new snapshot that
    /// shares everything else with the last one.
    fn refresh(&mut self, touched: &Touched) -> rusqlite::Result<()> {
        for (supplier_id, category_id) in touched {
            let Some(line) =
                super::find_stock_line(&self.catalog, supplier_id.as_str(), category_id.as_str())
            else {
                continue;
            };
            let stock = StockRef::from_catalog(&self.catalog, line);
            let level = read_level(&self.conn, &stock)?;
            self.current.set(line, super::line_entry(&self.catalog, line, level));
        }
        // O(touched × depth): the clone shares every node the commit did not change.
        self.snapshot.store(self.current.clone());
        Ok(())
    }
}

fn apply(
    conn: &Connection,
    command: &Command,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    match command {
        Command::Place { hold, caller } => place(conn, hold, caller, now, touched),
        Command::Confirm { hold_id, caller } => {
            resolve(conn, hold_id, HoldState::Confirmed, caller, now, touched)
        }
        Command::Release { hold_id, caller } => {
            resolve(conn, hold_id, HoldState::Released, caller, now, touched)
        }
        Command::Get { hold_id } => match load_hold(conn, hold_id, now, touched, true)? {
            Some(hold) => Ok(Outcome::Hold(hold)),
            None => Err(Failure::Refused(hold_not_found(hold_id))),
        },
        Command::List(query) => list(conn, query, now, touched),
        Command::UpdateStock { lines, caller } => update_stock(conn, lines, caller, now, touched),
    }
}

fn ensure_stock_row(conn: &Connection, stock: &StockRef) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO stock (supplier_id, category_id, on_hand_override, pending, confirmed)
         VALUES (?1, ?2, NULL, 0, 0) ON CONFLICT DO NOTHING",
    )?
    .execute(params![stock.supplier_id.as_str(), stock.category_id.as_str()])?;
    Ok(())
}

fn read_level(conn: &Connection, stock: &StockRef) -> rusqlite::Result<LineLevel> {
    let row = conn
        .prepare_cached(
            "SELECT on_hand_override, pending, confirmed FROM stock
             WHERE supplier_id = ?1 AND category_id = ?2",
        )?
        .query_row(params![stock.supplier_id.as_str(), stock.category_id.as_str()], |row| {
            Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        })
        .optional()?;
    Ok(match row {
        Some((on_hand, pending, confirmed)) => LineLevel {
            on_hand_units: on_hand.map_or(stock.catalog_on_hand_units, |units| units as u64),
            pending_units: pending as u64,
            confirmed_units: confirmed as u64,
        },
        None => LineLevel { on_hand_units: stock.catalog_on_hand_units, ..LineLevel::default() },
    })
}

fn place(
    conn: &Connection,
    new: &NewHold,
    caller: &Caller,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    if let Some(stored) = load_hold(conn, &new.hold_id, now, touched, false)? {
        return if new.same_content(&stored) {
            Ok(Outcome::Hold(stored))
        } else {
            Err(Failure::Answer(hold_exists(&new.hold_id)))
        };
    }
    let mut short = Vec::new();
    for line in &new.lines {
        ensure_stock_row(conn, &line.stock)?;
        // The conditional update is the whole invariant: it never takes more than is left.
        let changed = conn
            .prepare_cached(
                "UPDATE stock SET pending = pending + ?3
                 WHERE supplier_id = ?1 AND category_id = ?2
                   AND pending + confirmed + ?3 <= COALESCE(on_hand_override, ?4)",
            )?
            .execute(params![
                line.stock.supplier_id.as_str(),
                line.stock.category_id.as_str(),
                line.quantity_units as i64,
                line.stock.catalog_on_hand_units as i64
            ])?;
        if changed == 0 {
            short.push(short_line(
                &line.stock,
                line.quantity_units,
                read_level(conn, &line.stock)?,
            ));
        }
        touched.insert((line.stock.supplier_id.clone(), line.stock.category_id.clone()));
    }
    if !short.is_empty() {
        return Err(Failure::Refused(Error::FailedPrecondition(short)));
    }
    let expires_at_ms = now + 1000 * i64::from(new.ttl_seconds);
    conn.prepare_cached(
        "INSERT INTO holds (hold_id, incident_ref, ttl_seconds, state, placed_at_ms,
                            expires_at_ms, resolved_at_ms, placed_by)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5, NULL, ?6)",
    )?
    .execute(params![
        new.hold_id.as_str(),
        new.incident_ref.as_str(),
        new.ttl_seconds,
        now,
        expires_at_ms,
        caller.as_str()
    ])?;
    for (line_no, line) in new.lines.iter().enumerate() {
        conn.prepare_cached(
            "INSERT INTO hold_lines (hold_id, line_no, supplier_id, category_id, quantity_units)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            new.hold_id.as_str(),
            line_no as i64,
            line.stock.supplier_id.as_str(),
            line.stock.category_id.as_str(),
            line.quantity_units as i64
        ])?;
    }
    audit(conn, &new.hold_id, None, HoldState::Pending, caller.as_str(), now)?;
    Ok(Outcome::Hold(Hold::placed(new, caller, now, expires_at_ms)))
}

fn audit(
    conn: &Connection,
    hold_id: &Id,
    from: Option<HoldState>,
    to: HoldState,
    actor: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO hold_audit (at_ms, hold_id, from_state, to_state, actor)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        now,
        hold_id.as_str(),
        from.map(HoldState::as_str),
        to.as_str(),
        actor
    ])?;
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

/// Reads a hold; a PENDING hold past its expiry is expired first, so every reader sees the same
/// answer for the same clock.
fn load_hold(
    conn: &Connection,
    hold_id: &Id,
    now: i64,
    touched: &mut Touched,
    with_history: bool,
) -> Result<Option<Hold>, Failure> {
    let row = conn
        .prepare_cached(
            "SELECT incident_ref, ttl_seconds, state, placed_at_ms, expires_at_ms,
                    resolved_at_ms, placed_by
             FROM holds WHERE hold_id = ?1",
        )?
        .query_row(params![hold_id.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, u32>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, Option<i64>>(5)?,
                row.get::<_, String>(6)?,
            ))
        })
        .optional()?;
    let Some((incident_ref, ttl_seconds, state, placed_at_ms, expires_at_ms, resolved, placed_by)) =
        row
    else {
        return Ok(None);
    };
    let mut lines = Vec::new();
    {
        let mut statement = conn.prepare_cached(
            "SELECT supplier_id, category_id, quantity_units FROM hold_lines
             WHERE hold_id = ?1 ORDER BY line_no",
        )?;
        let mut rows = statement.query(params![hold_id.as_str()])?;
        while let Some(row) = rows.next()? {
            lines.push(HoldLine {
                supplier_id: parse_id(&row.get::<_, String>(0)?)?,
                category_id: parse_id(&row.get::<_, String>(1)?)?,
                quantity_units: row.get::<_, i64>(2)? as u64,
            });
        }
    }
    let mut hold = Hold {
        hold_id: hold_id.clone(),
        incident_ref: parse_id(&incident_ref)?,
        lines,
        ttl_seconds,
        state: parse_state(&state)?,
        placed_at_ms,
        expires_at_ms,
        resolved_at_ms: resolved,
        placed_by,
        history: Vec::new(),
    };
    if hold.state == HoldState::Pending && now >= hold.expires_at_ms {
        transition(conn, &mut hold, HoldState::Expired, Caller::server().as_str(), now, touched)?;
    }
    if with_history {
        let mut statement = conn.prepare_cached(
            "SELECT at_ms, from_state, to_state, actor FROM hold_audit
             WHERE hold_id = ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mut rows = statement.query(params![hold_id.as_str(), HISTORY_EVENTS_MAX as i64])?;
        while let Some(row) = rows.next()? {
            let from: Option<String> = row.get(1)?;
            hold.history.push(HoldEvent {
                at_ms: row.get(0)?,
                from: from.as_deref().map(parse_state).transpose()?,
                to: parse_state(&row.get::<_, String>(2)?)?,
                actor: row.get(3)?,
            });
        }
    }
    Ok(Some(hold))
}

/// Moves a PENDING hold to `to` (confirmed, released or expired) with its stock and audit.
fn transition(
    conn: &Connection,
    hold: &mut Hold,
    to: HoldState,
    actor: &str,
    now: i64,
    touched: &mut Touched,
) -> Result<(), Failure> {
    let changed = conn
        .prepare_cached(
            "UPDATE holds SET state = ?2, resolved_at_ms = ?3
             WHERE hold_id = ?1 AND state = 'pending'",
        )?
        .execute(params![hold.hold_id.as_str(), to.as_str(), now])?;
    if changed != 1 {
        return Err(Failure::Refused(Error::Internal(format!(
            "hold {} was not pending when resolving it",
            hold.hold_id
        ))));
    }
    for line in &hold.lines {
        let sql = if to == HoldState::Confirmed {
            "UPDATE stock SET pending = pending - ?3, confirmed = confirmed + ?3
             WHERE supplier_id = ?1 AND category_id = ?2 AND pending >= ?3"
        } else {
            "UPDATE stock SET pending = pending - ?3
             WHERE supplier_id = ?1 AND category_id = ?2 AND pending >= ?3"
        };
        let changed = conn.prepare_cached(sql)?.execute(params![
            line.supplier_id.as_str(),
            line.category_id.as_str(),
            line.quantity_units as i64
        ])?;
        if changed != 1 {
            return Err(Failure::Refused(Error::Internal(format!(
                "stock line {}/{} holds fewer pending units than hold {}",
                line.supplier_id, line.category_id, hold.hold_id
            ))));
        }
        touched.insert((line.supplier_id.clone(), line.category_id.clone()));
    }
    audit(conn, &hold.hold_id, Some(HoldState::Pending), to, actor, now)?;
    hold.state = to;
    hold.resolved_at_ms = Some(now);
    Ok(())
}

fn resolve(
    conn: &Connection,
    hold_id: &Id,
    to: HoldState,
    caller: &Caller,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    let Some(mut hold) = load_hold(conn, hold_id, now, touched, false)? else {
        return Err(Failure::Refused(hold_not_found(hold_id)));
    };
    if hold.state == HoldState::Pending {
        transition(conn, &mut hold, to, caller.as_str(), now, touched)?;
    } else if hold.state != to {
        let wanted = if to == HoldState::Confirmed { "confirmed" } else { "released" };
        return Err(Failure::Answer(wrong_state(hold_id, hold.state, wanted)));
    }
    Ok(Outcome::Hold(hold))
}

/// Expires up to `EXPIRE_PER_SWEEP_MAX` PENDING holds that are due.
fn sweep(conn: &Connection, now: i64, touched: &mut Touched) -> Result<(), Failure> {
    let mut due = Vec::new();
    {
        let mut statement = conn.prepare_cached(
            "SELECT hold_id FROM holds WHERE state = 'pending' AND expires_at_ms <= ?1
             ORDER BY expires_at_ms, hold_id LIMIT ?2",
        )?;
        let mut rows = statement.query(params![now, EXPIRE_PER_SWEEP_MAX as i64])?;
        while let Some(row) = rows.next()? {
            due.push(parse_id(&row.get::<_, String>(0)?)?);
        }
    }
    for hold_id in &due {
        load_hold(conn, hold_id, now, touched, false)?; // expires it
    }
    Ok(())
}

fn list(
    conn: &Connection,
    query: &ListQuery,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    let after = query.after.as_ref().map_or("", |id| id.as_str());
    let (sql, key) = match &query.by {
        ListBy::Incident(incident) => (
            "SELECT hold_id FROM holds WHERE incident_ref = ?1 AND hold_id > ?2
             ORDER BY hold_id LIMIT ?3",
            incident,
        ),
        ListBy::Supplier(supplier) => (
            "SELECT DISTINCT hold_id FROM hold_lines WHERE supplier_id = ?1 AND hold_id > ?2
             ORDER BY hold_id LIMIT ?3",
            supplier,
        ),
    };
    let mut ids = Vec::new();
    {
        let mut statement = conn.prepare_cached(sql)?;
        let mut rows = statement.query(params![key.as_str(), after, query.limit as i64 + 1])?;
        while let Some(row) = rows.next()? {
            ids.push(parse_id(&row.get::<_, String>(0)?)?);
        }
    }
    let more = ids.len() > query.limit;
    ids.truncate(query.limit);
    let mut holds = Vec::with_capacity(ids.len());
    for hold_id in &ids {
        if let Some(hold) = load_hold(conn, hold_id, now, touched, false)? {
            holds.push(hold);
        }
    }
    Ok(Outcome::Holds { holds, more })
}

fn update_stock(
    conn: &Connection,
    lines: &[(StockRef, u64)],
    caller: &Caller,
    now: i64,
    touched: &mut Touched,
) -> Result<Outcome, Failure> {
    let mut levels = Vec::with_capacity(lines.len());
    let mut refused: Vec<PreconditionViolation> = Vec::new();
    for (stock, on_hand_units) in lines {
        ensure_stock_row(conn, stock)?;
        let before = read_level(conn, stock)?;
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
        conn.prepare_cached(
            "UPDATE stock SET on_hand_override = ?3 WHERE supplier_id = ?1 AND category_id = ?2",
        )?
        .execute(params![
            stock.supplier_id.as_str(),
            stock.category_id.as_str(),
            *on_hand_units as i64
        ])?;
        conn.prepare_cached(
            "INSERT INTO stock_audit (at_ms, supplier_id, category_id, on_hand_before,
                                      on_hand_after, actor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            now,
            stock.supplier_id.as_str(),
            stock.category_id.as_str(),
            before.on_hand_units as i64,
            *on_hand_units as i64,
            caller.as_str()
        ])?;
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
    fn a_full_queue_answers_resource_exhausted_at_once() {
        // No writer drains this queue: the second command finds it full.
        let (queue, _jobs) = mpsc::sync_channel(1);
        let store = SqliteStore { queue, snapshot: Arc::new(SnapshotCell::default()) };
        let get = || Command::Get { hold_id: Id::parse("h").unwrap() };
        let _queued = store.execute(get());
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let result = runtime.block_on(store.execute(get()));
        assert!(matches!(result, Err(Error::ResourceExhausted(_))), "{result:?}");
    }
}
