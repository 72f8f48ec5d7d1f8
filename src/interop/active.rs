//! The live alerts a server keeps, their pre-computed answers, and the stock pre-positioned
//! for them. Ingesting an alert answers it; an Update or Cancel drops the answers of the alerts
//! it references and releases their pending pre-positioned holds; Exercise, Test, System and
//! Draft messages are answered but never hold stock.
//!
//! **What survives a restart.** The alerts themselves live in memory only: a restart rebuilds
//! them from `--cap-dir` (every file, in `sent` order), and alerts that came only over gRPC are
//! gone until sent again. Their holds are in the durable store, under ids derived from the alert
//! (sender, identifier, incident, chunk) and an incident reference derived from (sender,
//! identifier). So a Cancel after a restart still finds and releases them (ListHolds by that
//! reference), a re-ingested alert finds its holds and does not hold twice, and a hold nobody
//! cancels ends at its TTL, the alert's `expires`. That is enough: the holds are the only state
//! with a cost, and they are durable and bounded in time.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::catalog::Catalog;
use crate::domain::{Id, Severity, StockLineIdx};
use crate::error::Error;
use crate::holds::{
    self, Caller, Clock, Command, Hold, HoldState, HoldStore, ListBy, ListQuery, NewHold,
    NewHoldLine, Outcome, StockRef, HOLD_LINE_UNITS_MAX, LINES_PER_HOLD_MAX, LIST_PAGE_SIZE_MAX,
    TTL_SECONDS_MAX,
};
use crate::matching::HeldStock;

use super::cap::{self, Alert, MsgType, Urgency};
use super::xml::Refusal;
use super::{answer_alert, AlertReading, AnsweredAlert};

/// The most alerts kept active at once; past it a new alert is refused (RESOURCE_EXHAUSTED).
pub const ACTIVE_ALERTS_MAX: usize = 10_000;
/// A pre-positioned hold's time to live when its alert states no `expires` (MODEL: a day, then
/// dispatch confirms, or the stock goes back).
pub const PREPOSITION_TTL_WITHOUT_EXPIRES_SECONDS: u32 = 24 * 3600;
/// The most files `--cap-dir` reads (a larger folder is read up to this many, by name).
pub const CAP_DIR_FILES_MAX: usize = 10_000;
/// How often the `--cap-dir` folder is looked at for new or changed files.
pub const CAP_DIR_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// The most pages of holds read for one alert (× `LIST_PAGE_SIZE_MAX` holds).
const HOLD_PAGES_MAX: usize = 20;

/// The identity pre-positioned holds are placed and released under.
pub const PREPOSITION_CALLER: &str = "cap-alerts";

#[derive(Clone)]
pub struct AlertsOptions {
    /// Pre-position stock for live Immediate/Expected alerts at or above this level.
    pub preposition: Option<Severity>,
    pub clock: Clock,
}

impl std::fmt::Debug for AlertsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertsOptions").field("preposition", &self.preposition).finish()
    }
}

/// One alert of an ingested document and what the server did about it.
#[derive(Debug, Clone)]
pub struct AlertOutcome {
    pub reading: AlertReading,
    /// Kept among the active alerts (an Alert or Update, not yet expired).
    pub active: bool,
    /// Identifiers of active alerts whose answers this message dropped (Update, Cancel).
    pub dropped: Vec<String>,
    /// Pending pre-positioned holds this message released.
    pub released_hold_ids: Vec<String>,
    /// Per incident (in order), the ids of its pre-positioned holds.
    pub hold_ids: Vec<Vec<String>>,
    /// What went wrong on the way without refusing the alert (a hold the stock could not give…).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
struct ActiveAlert {
    answered: AnsweredAlert,
    hold_ids: Vec<Vec<String>>,
}

/// The active alerts of one server.
pub struct ActiveAlerts {
    catalog: Arc<Catalog>,
    store: Arc<dyn HoldStore>,
    options: AlertsOptions,
    /// By (sender, identifier): what CAP references name. A mutex, not a lock per alert:
    /// ingests are rare and each must see the previous one's holds.
    alerts: tokio::sync::Mutex<BTreeMap<(String, String), ActiveAlert>>,
}

impl std::fmt::Debug for ActiveAlerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveAlerts").field("options", &self.options).finish()
    }
}

/// The incident reference of an alert's holds: `cap-` and a digest of sender and identifier
/// (a valid `Id` whatever characters they use).
pub fn alert_ref(sender: &str, identifier: &str) -> Id {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in sender.bytes().chain([0]).chain(identifier.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Id::parse(&format!("cap-{hash:016x}")).expect("cap- and 16 hex digits is a valid id")
}

/// The id of chunk `chunk` of incident `incident`'s holds.
pub fn hold_id(alert_ref: &Id, incident: usize, chunk: usize) -> Id {
    Id::parse(&format!("{alert_ref}-i{incident}-{chunk}"))
        .expect("an alert ref and two numbers is a valid id")
}

/// Held stock as one alert sees it: its own holds count as available to it.
struct Excluding<'a> {
    base: &'a dyn HeldStock,
    own: HashMap<StockLineIdx, f64>,
    /// The lines with a negative `held` here, ascending: the base's, and any its own holds
    /// take below zero (the trait's contract).
    raised: Vec<StockLineIdx>,
}

impl<'a> Excluding<'a> {
    fn new(base: &'a dyn HeldStock, own: HashMap<StockLineIdx, f64>) -> Excluding<'a> {
        let mut excluding = Excluding { base, own, raised: Vec::new() };
        let mut raised: Vec<StockLineIdx> = base.raised().to_vec();
        raised.extend(excluding.own.keys().filter(|line| excluding.held(**line) < 0.0));
        raised.sort_unstable();
        raised.dedup();
        raised.retain(|line| excluding.held(*line) < 0.0);
        excluding.raised = raised;
        excluding
    }
}

impl HeldStock for Excluding<'_> {
    fn held(&self, line: StockLineIdx) -> f64 {
        self.base.held(line) - self.own.get(&line).copied().unwrap_or(0.0)
    }

    fn raised(&self) -> &[StockLineIdx] {
        &self.raised
    }
}

impl ActiveAlerts {
    pub fn new(
        catalog: Arc<Catalog>,
        store: Arc<dyn HoldStore>,
        options: AlertsOptions,
    ) -> ActiveAlerts {
        ActiveAlerts { catalog, store, options, alerts: tokio::sync::Mutex::new(BTreeMap::new()) }
    }

    /// Reads a CAP document and acts on each alert in it, in document order.
    pub async fn ingest(&self, bytes: &[u8]) -> Result<Vec<AlertOutcome>, Error> {
        let found = cap::read_document(bytes).map_err(|refusal| refused(&refusal))?;
        let mut alerts = self.alerts.lock().await;
        let now = (self.options.clock)();
        alerts.retain(|_, active| !expired(&active.answered.alert, now));
        let mut outcomes = Vec::with_capacity(found.len());
        for found in found {
            let outcome = match found.alert {
                Err(refusal) => AlertOutcome {
                    reading: AlertReading { location: found.location, outcome: Err(refusal) },
                    active: false,
                    dropped: Vec::new(),
                    released_hold_ids: Vec::new(),
                    hold_ids: Vec::new(),
                    notes: Vec::new(),
                },
                Ok(alert) => self.ingest_alert(&mut alerts, found.location, alert, now).await?,
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn ingest_alert(
        &self,
        alerts: &mut BTreeMap<(String, String), ActiveAlert>,
        location: String,
        alert: Alert,
        now: i64,
    ) -> Result<AlertOutcome, Error> {
        let mut outcome = AlertOutcome {
            reading: AlertReading { location, outcome: Err(Refusal::whole("")) },
            active: false,
            dropped: Vec::new(),
            released_hold_ids: Vec::new(),
            hold_ids: Vec::new(),
            notes: alert.warnings.clone(),
        };
        if matches!(alert.msg_type, MsgType::Update | MsgType::Cancel) {
            for reference in &alert.references {
                let key = (reference.sender.clone(), reference.identifier.clone());
                if alerts.remove(&key).is_some() {
                    outcome.dropped.push(reference.identifier.clone());
                }
                // Even when the alert is not in memory (a restart): its holds are durable.
                let released = self
                    .release_holds(
                        &alert_ref(&reference.sender, &reference.identifier),
                        &mut outcome.notes,
                    )
                    .await?;
                outcome.released_hold_ids.extend(released);
            }
        }
        let key = (alert.sender.clone(), alert.identifier.clone());
        let makes_incidents = matches!(alert.msg_type, MsgType::Alert | MsgType::Update);
        let live = alert.is_live() && !expired(&alert, now);
        let own_ref = alert_ref(&alert.sender, &alert.identifier);
        let own_holds = if makes_incidents { self.holds_of(&own_ref).await? } else { Vec::new() };
        let mut own = HashMap::new();
        for hold in own_holds
            .iter()
            .filter(|h| matches!(h.state, HoldState::Pending | HoldState::Confirmed))
        {
            for line in &hold.lines {
                if let Some(idx) = holds::find_stock_line(
                    &self.catalog,
                    line.supplier_id.as_str(),
                    line.category_id.as_str(),
                ) {
                    *own.entry(idx).or_insert(0.0) += line.quantity_units as f64;
                }
            }
        }
        let snapshot = self.store.held();
        let held = Excluding::new(&*snapshot, own);
        let answered = answer_alert(&self.catalog, &held, alert);
        let mut hold_ids: Vec<Vec<String>> = vec![Vec::new(); answered.incidents.len()];
        for hold in &own_holds {
            if let Some(k) = incident_of(hold.hold_id.as_str()).filter(|k| *k < hold_ids.len()) {
                hold_ids[k].push(hold.hold_id.to_string());
            }
        }
        if live && own_holds.is_empty() {
            if let Some(threshold) = self.options.preposition {
                self.preposition(
                    &answered,
                    &own_ref,
                    threshold,
                    now,
                    &mut hold_ids,
                    &mut outcome.notes,
                )
                .await;
            }
        }
        if makes_incidents && !expired(&answered.alert, now) {
            if !alerts.contains_key(&key) && alerts.len() >= ACTIVE_ALERTS_MAX {
                return Err(Error::ResourceExhausted(format!(
                    "{ACTIVE_ALERTS_MAX} alerts are active: cancel some first"
                )));
            }
            alerts.insert(
                key,
                ActiveAlert { answered: answered.clone(), hold_ids: hold_ids.clone() },
            );
            outcome.active = true;
        } else if makes_incidents {
            outcome.notes.push("expired: answered, not kept active".into());
        }
        outcome.hold_ids = hold_ids;
        outcome.reading.outcome = Ok(answered);
        Ok(outcome)
    }

    /// PENDING holds for the plan of each live Immediate/Expected incident at or above the
    /// threshold, with a TTL until the alert expires (bounded by the store's maximum).
    async fn preposition(
        &self,
        answered: &AnsweredAlert,
        own_ref: &Id,
        threshold: Severity,
        now: i64,
        hold_ids: &mut [Vec<String>],
        notes: &mut Vec<String>,
    ) {
        let ttl_seconds = match answered.alert.expires_ms() {
            Some(expires) => ((expires - now) / 1000).clamp(0, i64::from(TTL_SECONDS_MAX)) as u32,
            None => PREPOSITION_TTL_WITHOUT_EXPIRES_SECONDS,
        };
        if ttl_seconds == 0 {
            return;
        }
        let caller = Caller::parse(PREPOSITION_CALLER).unwrap_or_else(Caller::anonymous);
        for (k, incident) in answered.incidents.iter().enumerate() {
            let info = &incident.incident;
            let urgent = matches!(info.urgency, Urgency::Immediate | Urgency::Expected);
            let Some(result) =
                incident.answer.as_ref().filter(|_| urgent && info.severity >= threshold)
            else {
                continue;
            };
            // What the plans take of each line, capped at what the line has on hand and free
            // now: a plan also counts surge production (not made yet, so not holdable), and
            // each requirement is planned on its own, so two may use the same line.
            let mut units: BTreeMap<StockLineIdx, u64> = BTreeMap::new();
            for requirement in result.stages.iter().flat_map(|s| &s.requirements) {
                for entry in &requirement.plan {
                    *units.entry(entry.line).or_insert(0) += holds::whole_units(entry.quantity);
                }
            }
            let snapshot = self.store.held();
            let mut lines: Vec<NewHoldLine> = units
                .into_iter()
                .map(|(line, units)| {
                    let free = self.catalog.stock_line(line).quantity_on_hand - snapshot.held(line);
                    (line, units.min(holds::whole_units(free)).min(HOLD_LINE_UNITS_MAX))
                })
                .filter(|(_, units)| *units > 0)
                .map(|(line, units)| NewHoldLine {
                    stock: StockRef::from_catalog(&self.catalog, line),
                    quantity_units: units,
                })
                .collect();
            lines.sort_by(|a, b| {
                (&a.stock.supplier_id, &a.stock.category_id)
                    .cmp(&(&b.stock.supplier_id, &b.stock.category_id))
            });
            for (chunk, lines) in lines.chunks(LINES_PER_HOLD_MAX).enumerate() {
                let hold = NewHold {
                    hold_id: hold_id(own_ref, k, chunk),
                    incident_ref: own_ref.clone(),
                    lines: lines.to_vec(),
                    ttl_seconds,
                };
                let id = hold.hold_id.to_string();
                match self.store.execute(Command::Place { hold, caller: caller.clone() }).await {
                    Ok(_) => hold_ids[k].push(id),
                    Err(error) => {
                        notes.push(format!("pre-positioning hold {id} not placed: {error}"))
                    }
                }
            }
        }
    }

    /// Every hold under an alert's incident reference (bounded pages).
    async fn holds_of(&self, incident_ref: &Id) -> Result<Vec<Hold>, Error> {
        let mut out = Vec::new();
        let mut after = None;
        for _ in 0..HOLD_PAGES_MAX {
            let query = ListQuery {
                by: ListBy::Incident(incident_ref.clone()),
                after,
                limit: LIST_PAGE_SIZE_MAX,
            };
            let Outcome::Holds { holds, more } = self.store.execute(Command::List(query)).await?
            else {
                return Err(Error::Internal(
                    "the store answered a list with something else".into(),
                ));
            };
            after = holds.last().map(|h| h.hold_id.clone());
            out.extend(holds);
            if !more {
                break;
            }
        }
        Ok(out)
    }

    /// Releases the pending holds under an alert's reference; confirmed ones are dispatch's and
    /// stay (a note says so).
    async fn release_holds(
        &self,
        incident_ref: &Id,
        notes: &mut Vec<String>,
    ) -> Result<Vec<String>, Error> {
        let caller = Caller::parse(PREPOSITION_CALLER).unwrap_or_else(Caller::anonymous);
        let mut released = Vec::new();
        for hold in self.holds_of(incident_ref).await? {
            match hold.state {
                HoldState::Pending => {
                    let command = Command::Release { hold_id: hold.hold_id.clone(), caller: caller.clone() };
                    match self.store.execute(command).await {
                        Ok(_) => released.push(hold.hold_id.to_string()),
                        Err(error) => notes.push(format!("hold {} not released: {error}", hold.hold_id)),
                    }
                }
                HoldState::Confirmed => notes.push(format!(
                    "hold {} was confirmed by dispatch: kept, release it by hand if it is no longer needed",
                    hold.hold_id
                )),
                HoldState::Released | HoldState::Expired => {}
            }
        }
        Ok(released)
    }

    /// The active alerts (exercises only when asked), oldest `sent` first, expired ones dropped.
    pub async fn list(&self, include_exercises: bool) -> Vec<AlertOutcome> {
        let mut alerts = self.alerts.lock().await;
        let now = (self.options.clock)();
        alerts.retain(|_, active| !expired(&active.answered.alert, now));
        let mut out: Vec<AlertOutcome> = alerts
            .values()
            .filter(|active| include_exercises || active.answered.alert.is_live())
            .map(|active| AlertOutcome {
                reading: AlertReading {
                    location: String::new(),
                    outcome: Ok(active.answered.clone()),
                },
                active: true,
                dropped: Vec::new(),
                released_hold_ids: Vec::new(),
                hold_ids: active.hold_ids.clone(),
                notes: Vec::new(),
            })
            .collect();
        out.sort_by_key(|o| o.reading.outcome.as_ref().map_or(0, |a| a.alert.sent_ms));
        out
    }

    /// Ingests the files of `dir` not seen before (by name, size and modification time), in
    /// `sent` order so that an Update or Cancel comes after what it references.
    pub async fn ingest_dir(
        &self,
        dir: &Path,
        seen: &mut HashMap<PathBuf, (u64, Option<std::time::SystemTime>)>,
    ) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "cannot read the CAP folder");
                return;
            }
        };
        let mut paths: Vec<PathBuf> =
            entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
        paths.sort();
        paths.truncate(CAP_DIR_FILES_MAX);
        let mut fresh = Vec::new();
        for path in paths {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let stamp = (meta.len(), meta.modified().ok());
            if seen.get(&path) == Some(&stamp) {
                continue;
            }
            seen.insert(path.clone(), stamp);
            match crate::interop::read_file_bounded(&path) {
                Ok(bytes) => {
                    let sent = cap::read_document(&bytes)
                        .ok()
                        .and_then(|found| {
                            found
                                .iter()
                                .filter_map(|f| f.alert.as_ref().ok().map(|a| a.sent_ms))
                                .min()
                        })
                        .unwrap_or(i64::MAX);
                    fresh.push((sent, path, bytes));
                }
                Err(refusal) => {
                    tracing::warn!(file = %path.display(), reason = %refusal, "CAP file refused")
                }
            }
        }
        fresh.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (_, path, bytes) in fresh {
            match self.ingest(&bytes).await {
                Ok(outcomes) => {
                    for outcome in outcomes {
                        match &outcome.reading.outcome {
                            Ok(answered) => tracing::info!(
                                file = %path.display(),
                                identifier = %answered.alert.identifier,
                                msg_type = answered.alert.msg_type.as_str(),
                                incidents = answered.incidents.len(),
                                active = outcome.active,
                                holds = outcome.hold_ids.iter().map(Vec::len).sum::<usize>(),
                                released = outcome.released_hold_ids.len(),
                                "CAP alert ingested"
                            ),
                            Err(refusal) => {
                                tracing::warn!(file = %path.display(), reason = %refusal, "CAP alert refused")
                            }
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "CAP file not ingested")
                }
            }
        }
    }

    /// Reads `dir` now, then again every `CAP_DIR_POLL_INTERVAL`, for ever (the server aborts
    /// the task at shutdown).
    pub async fn watch_dir(
        self: Arc<Self>,
        dir: PathBuf,
        mut seen: HashMap<PathBuf, (u64, Option<std::time::SystemTime>)>,
    ) {
        loop {
            tokio::time::sleep(CAP_DIR_POLL_INTERVAL).await;
            self.ingest_dir(&dir, &mut seen).await;
        }
    }
}

fn expired(alert: &Alert, now: i64) -> bool {
    alert.expires_ms().is_some_and(|expires| expires <= now)
}

/// The incident index in a hold id `cap-…-i{k}-{chunk}`.
fn incident_of(hold_id: &str) -> Option<usize> {
    let rest = hold_id.rsplit_once("-i")?.1;
    rest.split('-').next()?.parse().ok()
}

/// A refused document as a request error: the element path as the field.
pub fn refused(refusal: &Refusal) -> Error {
    let field = if refusal.path.is_empty() {
        "cap_xml".to_owned()
    } else {
        format!("cap_xml.{}", refusal.path)
    };
    Error::InvalidArgument(vec![crate::error::FieldViolation::new(field, refusal.reason.clone())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_ids_are_valid_and_carry_their_incident() {
        let reference = alert_ref("qxt.baoding@hebei.12379.example", "130600 雨, red");
        let id = hold_id(&reference, 3, 1);
        assert_eq!(incident_of(id.as_str()), Some(3));
        assert_eq!(alert_ref("a", "b"), alert_ref("a", "b"));
        assert_ne!(alert_ref("a", "b"), alert_ref("ab", ""));
    }
}
