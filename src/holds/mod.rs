//! Holds: dispatch reserves the stock it was offered. The value types of a hold, the commands a
//! store runs, the one narrow store interface (`HoldStore`) and the availability snapshot the
//! engine reads. No tonic here; no SQL here (that lives in `sqlite.rs` and `postgres.rs`).
//!
//! Semantics after TigerBeetle's pending transfers: a hold is PENDING until it is confirmed,
//! released or expired, and it resolves at most once. Per stock line, always:
//! confirmed + pending ≤ on hand.

mod postgres;
mod snapshot;
mod sqlite;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::catalog::Catalog;
use crate::domain::{Id, StockLineIdx};
use crate::error::Error;

pub use postgres::PostgresStore;
pub use snapshot::{HeldSnapshot, LineEntry};
pub use sqlite::SqliteStore;

/// The most lines one hold may have.
pub const LINES_PER_HOLD_MAX: usize = 64;
/// The most units one hold line may reserve.
pub const HOLD_LINE_UNITS_MAX: u64 = 1_000_000;
/// The largest on-hand quantity UpdateStock accepts.
pub const ON_HAND_UNITS_MAX: u64 = 1_000_000_000;
/// The most lines one UpdateStock may set.
pub const STOCK_UPDATE_LINES_MAX: usize = 1000;
/// The longest time to live of a hold: 7 days.
pub const TTL_SECONDS_MAX: u32 = 7 * 24 * 3600;
/// Commands waiting for the writer; past this the store answers RESOURCE_EXHAUSTED at once
/// instead of queueing (performance-facts: past ~64 in flight only the tail grows).
pub const WRITE_QUEUE_MAX: usize = 1024;
/// The most commands the writer commits in one transaction (group commit settles near 32).
pub const BATCH_COMMANDS_MAX: usize = 256;
/// How often the writer expires holds with nothing else to do. A PENDING hold past its expiry
/// is expired by the first operation that touches it, so this only bounds how long its units
/// stay out of Match and Shortlist.
pub const EXPIRY_SWEEP_INTERVAL: Duration = Duration::from_millis(500);
/// The most holds one sweep expires (the rest wait for the next sweep).
pub const EXPIRE_PER_SWEEP_MAX: usize = 1000;
/// Holds per ListHolds page: default and largest.
pub const LIST_PAGE_SIZE_DEFAULT: usize = 50;
pub const LIST_PAGE_SIZE_MAX: usize = 500;
/// The longest caller identity kept in the audit trail (bytes).
pub const CALLER_BYTES_MAX: usize = 128;
/// The most audit events GetHold returns (a hold changes state at most twice).
pub const HISTORY_EVENTS_MAX: usize = 16;

/// Milliseconds since the Unix epoch, from the server's clock (a test may drive its own).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    })
}

/// Who made a call, for the audit trail: printable ASCII, at most `CALLER_BYTES_MAX` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(String);

impl Caller {
    /// The identity used when a call names none.
    pub fn anonymous() -> Caller {
        Caller("anonymous".into())
    }

    /// The server itself (expiry).
    pub fn server() -> Caller {
        Caller("server".into())
    }

    pub fn parse(text: &str) -> Option<Caller> {
        let ok = !text.is_empty()
            && text.len() <= CALLER_BYTES_MAX
            && text.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        ok.then(|| Caller(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a hold is in its life. Only `Pending` changes, and only once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldState {
    Pending,
    Confirmed,
    Released,
    Expired,
}

impl HoldState {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Pending => "pending",
            HoldState::Confirmed => "confirmed",
            HoldState::Released => "released",
            HoldState::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<HoldState> {
        match text {
            "pending" => Some(HoldState::Pending),
            "confirmed" => Some(HoldState::Confirmed),
            "released" => Some(HoldState::Released),
            "expired" => Some(HoldState::Expired),
            _ => None,
        }
    }
}

impl fmt::Display for HoldState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stock line of the catalog, named both ways: by index (for the engine's snapshot) and by
/// ids (what is stored, so a hold outlives a catalog reload).
#[derive(Debug, Clone, PartialEq)]
pub struct StockRef {
    pub line: StockLineIdx,
    pub supplier_id: Id,
    pub category_id: Id,
    /// The catalog's on-hand quantity in whole units: on hand until UpdateStock overrides it.
    pub catalog_on_hand_units: u64,
}

impl StockRef {
    /// The catalog's line `line`.
    pub fn from_catalog(catalog: &Catalog, line: StockLineIdx) -> StockRef {
        let stock_line = catalog.stock_line(line);
        StockRef {
            line,
            supplier_id: catalog.supplier(stock_line.supplier).id.clone(),
            category_id: catalog.category(catalog.line_category(line)).id.clone(),
            catalog_on_hand_units: whole_units(stock_line.quantity_on_hand),
        }
    }

    /// `supplier/category`, the subject of a precondition violation.
    pub fn subject(&self) -> String {
        format!("{}/{}", self.supplier_id, self.category_id)
    }
}

/// A catalog quantity in whole units (the catalog validates quantities as finite and ≥ 0).
pub fn whole_units(quantity: f64) -> u64 {
    if quantity.is_finite() && quantity > 0.0 {
        quantity.floor().min(ON_HAND_UNITS_MAX as f64) as u64
    } else {
        0
    }
}

/// The snapshot entry of catalog line `line` at stored level `level`.
pub(crate) fn line_entry(catalog: &Catalog, line: StockLineIdx, level: LineLevel) -> LineEntry {
    let quantity = catalog.stock_line(line).quantity_on_hand;
    LineEntry::from_level(quantity, whole_units(quantity), level)
}

/// Looks a (supplier, category) pair up in the catalog.
pub fn find_stock_line(
    catalog: &Catalog,
    supplier_id: &str,
    category_id: &str,
) -> Option<StockLineIdx> {
    let supplier = catalog.supplier_by_id(supplier_id)?;
    let category = catalog.category_by_id(category_id)?;
    let lines = catalog.category_lines(category);
    catalog.supplier_lines(supplier).find(|line| lines.contains(&(line.0 as usize)))
}

/// Units of one stock line in a new hold.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHoldLine {
    pub stock: StockRef,
    pub quantity_units: u64,
}

/// A validated PlaceHold: lines sorted by (supplier, category), each pair once.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHold {
    pub hold_id: Id,
    pub incident_ref: Id,
    pub lines: Vec<NewHoldLine>,
    pub ttl_seconds: u32,
}

impl NewHold {
    /// Whether a stored hold has this content (the idempotency check of a repeated hold_id).
    pub fn same_content(&self, hold: &Hold) -> bool {
        self.incident_ref == hold.incident_ref
            && self.ttl_seconds == hold.ttl_seconds
            && self.lines.len() == hold.lines.len()
            && self.lines.iter().zip(&hold.lines).all(|(new, stored)| {
                new.stock.supplier_id == stored.supplier_id
                    && new.stock.category_id == stored.category_id
                    && new.quantity_units == stored.quantity_units
            })
    }
}

/// A line of a stored hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldLine {
    pub supplier_id: Id,
    pub category_id: Id,
    pub quantity_units: u64,
}

/// One state change: when, what, who.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldEvent {
    pub at_ms: i64,
    /// `None` for the placement.
    pub from: Option<HoldState>,
    pub to: HoldState,
    pub actor: String,
}

/// A hold as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub hold_id: Id,
    pub incident_ref: Id,
    pub lines: Vec<HoldLine>,
    pub ttl_seconds: u32,
    pub state: HoldState,
    pub placed_at_ms: i64,
    pub expires_at_ms: i64,
    /// When it left PENDING.
    pub resolved_at_ms: Option<i64>,
    pub placed_by: String,
    /// Oldest first; filled by `Get` only.
    pub history: Vec<HoldEvent>,
}

impl Hold {
    /// The hold a store has just placed for `new`: PENDING, placed now by `caller`.
    pub fn placed(new: &NewHold, caller: &Caller, now_ms: i64, expires_at_ms: i64) -> Hold {
        Hold {
            hold_id: new.hold_id.clone(),
            incident_ref: new.incident_ref.clone(),
            lines: new
                .lines
                .iter()
                .map(|line| HoldLine {
                    supplier_id: line.stock.supplier_id.clone(),
                    category_id: line.stock.category_id.clone(),
                    quantity_units: line.quantity_units,
                })
                .collect(),
            ttl_seconds: new.ttl_seconds,
            state: HoldState::Pending,
            placed_at_ms: now_ms,
            expires_at_ms,
            resolved_at_ms: None,
            placed_by: caller.as_str().to_owned(),
            history: Vec::new(),
        }
    }
}

/// Where one stock line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineLevel {
    pub on_hand_units: u64,
    pub pending_units: u64,
    pub confirmed_units: u64,
}

impl LineLevel {
    pub fn available_units(&self) -> u64 {
        self.on_hand_units.saturating_sub(self.pending_units + self.confirmed_units)
    }
}

/// Which holds to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListBy {
    Incident(Id),
    Supplier(Id),
}

/// A ListHolds: holds with `hold_id > after`, in hold_id order, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub by: ListBy,
    pub after: Option<Id>,
    pub limit: usize,
}

/// What a store is asked to do.
#[derive(Debug, Clone)]
pub enum Command {
    Place {
        hold: NewHold,
        caller: Caller,
    },
    Confirm {
        hold_id: Id,
        caller: Caller,
    },
    Release {
        hold_id: Id,
        caller: Caller,
    },
    Get {
        hold_id: Id,
    },
    List(ListQuery),
    /// Sets on-hand quantities; lines are distinct.
    UpdateStock {
        lines: Vec<(StockRef, u64)>,
        caller: Caller,
    },
}

/// What a store answers.
#[derive(Debug, Clone)]
pub enum Outcome {
    Hold(Hold),
    /// A page of holds; `more` when holds follow the last one.
    Holds {
        holds: Vec<Hold>,
        more: bool,
    },
    /// One level per UpdateStock line, in its order.
    Stock(Vec<LineLevel>),
}

pub type StoreFuture = Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>;

/// The one narrow interface between the service and durable storage.
///
/// Contract of every implementation: a command's effect is committed durably before its future
/// answers `Ok`; once `execute` has returned, dropping the future (a deadline) does not stop the
/// command — it is carried out entirely or not at all, never half; a command that cannot be
/// queued answers `ResourceExhausted` at once; per stock line, confirmed + pending ≤ on hand
/// after every commit.
pub trait HoldStore: Send + Sync + fmt::Debug {
    fn execute(&self, command: Command) -> StoreFuture;

    /// Completes once every command accepted before the call has finished (whether or not its
    /// caller is still waiting): a drain for shutdown, and a barrier for tests.
    fn flush(&self) -> Pin<Box<dyn Future<Output = ()> + Send>>;

    /// Units held per stock line as the engine reads them (see `HeldSnapshot`): includes every
    /// hold this process has acknowledged.
    fn held(&self) -> Arc<HeldSnapshot>;
}

/// A snapshot readers take cheaply (one read lock, one `Arc` clone) and the writer swaps.
#[derive(Debug, Default)]
pub(crate) struct SnapshotCell(RwLock<Arc<HeldSnapshot>>);

impl SnapshotCell {
    pub(crate) fn load(&self) -> Arc<HeldSnapshot> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn store(&self, snapshot: HeldSnapshot) {
        let snapshot = Arc::new(snapshot);
        match self.0.write() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
    }
}

/// Where holds are kept: `sqlite:PATH` (one process) or `postgres://…` (several replicas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// The default store: an SQLite file in the working directory.
pub const STORE_DEFAULT: &str = "sqlite:equipmatch-holds.sqlite";

impl StoreUrl {
    pub fn parse(text: &str) -> Result<StoreUrl, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err("sqlite: needs a file path, e.g. sqlite:./holds.sqlite".into());
            }
            return Ok(StoreUrl::Sqlite(path.into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(text.to_owned()));
        }
        Err(format!("{text:?} is not a store: use sqlite:PATH or postgres://…"))
    }
}

/// Opens the store a URL names.
pub async fn open(
    url: &StoreUrl,
    catalog: Arc<Catalog>,
    clock: Clock,
) -> Result<Arc<dyn HoldStore>, Error> {
    match url {
        StoreUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path, catalog, clock)?)),
        StoreUrl::Postgres(url) => Ok(Arc::new(PostgresStore::connect(url, catalog, clock).await?)),
    }
}

/// The precondition violation of a short line.
pub(crate) fn short_line(
    stock: &StockRef,
    requested: u64,
    level: LineLevel,
) -> crate::error::PreconditionViolation {
    crate::error::PreconditionViolation {
        kind: "STOCK",
        subject: stock.subject(),
        description: format!(
            "requested {requested} units, available {} (on hand {}, pending {}, confirmed {})",
            level.available_units(),
            level.on_hand_units,
            level.pending_units,
            level.confirmed_units
        ),
        available_units: Some(level.available_units()),
    }
}

/// The precondition violation of a hold in the wrong state.
pub(crate) fn wrong_state(hold_id: &Id, state: HoldState, wanted: &str) -> Error {
    Error::FailedPrecondition(vec![crate::error::PreconditionViolation {
        kind: "HOLD_STATE",
        subject: hold_id.to_string(),
        description: format!("the hold is {state}: it cannot be {wanted}"),
        available_units: None,
    }])
}

pub(crate) fn hold_not_found(hold_id: &Id) -> Error {
    Error::NotFound { kind: "hold", id: hold_id.to_string(), field: "hold_id".into() }
}

pub(crate) fn hold_exists(hold_id: &Id) -> Error {
    Error::AlreadyExists {
        kind: "hold",
        id: hold_id.to_string(),
        description: "a hold with this id and different content exists".into(),
    }
}

/// Why a store command did not apply: `Refused` rolls back (its savepoint or transaction),
/// `Answer` commits what the command did on the way (expiring the hold it read) and answers
/// the error, `Storage` is a failure of the database itself (`E`: the store's driver error).
pub(crate) enum Failure<E> {
    Refused(Error),
    Answer(Error),
    Storage(E),
}

/// (supplier id, category id) of the stock lines a command changed.
pub(crate) type Touched = std::collections::HashSet<(Id, Id)>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_parse() {
        assert_eq!(StoreUrl::parse("sqlite:/tmp/x.db"), Ok(StoreUrl::Sqlite("/tmp/x.db".into())));
        assert!(matches!(StoreUrl::parse("postgres://u@127.0.0.1/db"), Ok(StoreUrl::Postgres(_))));
        assert!(StoreUrl::parse("sqlite:").is_err());
        assert!(StoreUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn callers_are_printable_and_bounded() {
        assert!(Caller::parse("dispatch-7 (Tangshan)").is_some());
        assert!(Caller::parse("").is_none());
        assert!(Caller::parse("a\nb").is_none());
        assert!(Caller::parse(&"x".repeat(CALLER_BYTES_MAX + 1)).is_none());
    }
}
