//! Holds and stock: who is calling, hold and stock requests validated into store commands, the
//! store's answers into messages.

use super::*;

/// The request metadata key naming the caller for the audit trail.
pub const CALLER_METADATA_KEY: &str = "x-equipmatch-caller";

/// Who the audit trail names for this call. With auth on, the verified token's subject: the
/// auth layer has removed `x-equipmatch-caller`, and it would be ignored here anyway. With
/// auth off, what the caller wrote there; anonymous when absent, unreadable or too long (the
/// audit trail records what it can rather than refusing a dispatch).
pub fn caller<T>(request: &tonic::Request<T>) -> Caller {
    match request.extensions().get::<Principal>() {
        Some(Principal::Verified(identity)) => verified_caller(&identity.actor()),
        Some(Principal::Unverified) | None => request
            .metadata()
            .get(CALLER_METADATA_KEY)
            .and_then(|value| value.to_str().ok())
            .and_then(Caller::parse)
            .unwrap_or_else(Caller::anonymous),
    }
}

/// `caller` for a stock update: with auth on, the subject and the suppliers of the updated
/// lines it acted for (the supplier claim, where it applies).
pub fn stock_caller<T>(request: &tonic::Request<T>, lines: &[(StockRef, u64)]) -> Caller {
    match request.extensions().get::<Principal>() {
        Some(Principal::Verified(identity)) => verified_caller(&identity.stock_actor(
            lines.iter().map(|(stock, _)| stock.supplier_id.as_str()),
            holds::CALLER_BYTES_MAX,
        )),
        _ => caller(request),
    }
}

/// A verified actor always parses: `sub` is printable ASCII of at most `SUB_BYTES_MAX` bytes
/// (checked at verification), supplier ids are `Id`s, and the budget is `CALLER_BYTES_MAX`
/// (a unit test holds the longest case). The fallback is unreachable by construction.
fn verified_caller(actor: &str) -> Caller {
    Caller::parse(actor).unwrap_or_else(Caller::anonymous)
}

/// May the verified caller (if any) set the stock of the lines this request names? Checked on
/// the raw supplier ids, before validation, so a refused caller learns nothing of the catalog.
pub fn may_update_stock<T>(
    request: &tonic::Request<T>,
    supplier_ids: &[&str],
) -> Result<(), Error> {
    match request.extensions().get::<Principal>() {
        Some(Principal::Verified(identity)) => {
            identity.may_update_stock(supplier_ids.iter().copied())
        }
        Some(Principal::Unverified) | None => Ok(()),
    }
}

impl Violations {
    fn id(&mut self, field: &str, text: &str) -> Option<Id> {
        match Id::parse(text) {
            Ok(id) => Some(id),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// A catalog stock line by ids; an unknown pair is NOT_FOUND (returned, not collected).
    fn stock_line(
        &mut self,
        catalog: &Catalog,
        field: &str,
        supplier_id: &str,
        category_id: &str,
    ) -> Result<Option<StockRef>, Error> {
        let supplier = self.id(&format!("{field}.supplier_id"), supplier_id);
        let category = self.id(&format!("{field}.category_id"), category_id);
        let (Some(supplier), Some(category)) = (supplier, category) else { return Ok(None) };
        match holds::find_stock_line(catalog, supplier.as_str(), category.as_str()) {
            Some(line) => Ok(Some(StockRef::from_catalog(catalog, line))),
            None => Err(Error::NotFound {
                kind: "stock line",
                id: format!("{supplier}/{category}"),
                field: format!("{field}.supplier_id"),
            }),
        }
    }
}

pub fn place_hold(catalog: &Catalog, request: &pb::PlaceHoldRequest) -> Result<NewHold, Error> {
    let mut v = Violations::default();
    let hold_id = v.id("hold_id", &request.hold_id);
    let incident_ref = v.id("incident_ref", &request.incident_ref);
    if request.ttl_seconds == 0 || request.ttl_seconds > holds::TTL_SECONDS_MAX {
        v.add("ttl_seconds", format!("must be in [1, {}]", holds::TTL_SECONDS_MAX));
    }
    if request.lines.is_empty() || request.lines.len() > holds::LINES_PER_HOLD_MAX {
        v.add("lines", format!("1 to {} lines", holds::LINES_PER_HOLD_MAX));
    }
    let mut lines: Vec<NewHoldLine> = Vec::new();
    let mut not_found = None;
    for (i, line) in request.lines.iter().take(holds::LINES_PER_HOLD_MAX).enumerate() {
        let field = format!("lines[{i}]");
        if line.quantity_units == 0 || line.quantity_units > holds::HOLD_LINE_UNITS_MAX {
            v.add(
                format!("{field}.quantity_units"),
                format!("must be in [1, {}]", holds::HOLD_LINE_UNITS_MAX),
            );
        }
        match v.stock_line(catalog, &field, &line.supplier_id, &line.category_id) {
            Ok(Some(stock)) => {
                if lines.iter().any(|l| l.stock.line == stock.line) {
                    v.add(field, "the same (supplier_id, category_id) appears twice");
                } else {
                    lines.push(NewHoldLine { stock, quantity_units: line.quantity_units });
                }
            }
            Ok(None) => {}
            Err(error) => not_found = not_found.or(Some(error)),
        }
    }
    v.finish()?;
    if let Some(error) = not_found {
        return Err(error);
    }
    lines.sort_by(|a, b| {
        (&a.stock.supplier_id, &a.stock.category_id)
            .cmp(&(&b.stock.supplier_id, &b.stock.category_id))
    });
    match (hold_id, incident_ref) {
        (Some(hold_id), Some(incident_ref)) => {
            Ok(NewHold { hold_id, incident_ref, lines, ttl_seconds: request.ttl_seconds })
        }
        _ => Err(Error::Internal("validated ids missing".into())),
    }
}

/// The hold id of Confirm, Release and Get.
pub fn hold_id(text: &str) -> Result<Id, Error> {
    let mut v = Violations::default();
    let id = v.id("hold_id", text);
    v.finish()?;
    id.ok_or_else(|| Error::Internal("validated id missing".into()))
}

pub fn list_holds(request: &pb::ListHoldsRequest) -> Result<ListQuery, Error> {
    let mut v = Violations::default();
    let by = match (request.incident_ref.is_empty(), request.supplier_id.is_empty()) {
        (false, true) => v.id("incident_ref", &request.incident_ref).map(ListBy::Incident),
        (true, false) => v.id("supplier_id", &request.supplier_id).map(ListBy::Supplier),
        _ => {
            v.add("incident_ref", "set exactly one of incident_ref and supplier_id");
            None
        }
    };
    let limit = match request.page_size as usize {
        0 => holds::LIST_PAGE_SIZE_DEFAULT,
        n if n > holds::LIST_PAGE_SIZE_MAX => {
            v.add("page_size", format!("at most {}", holds::LIST_PAGE_SIZE_MAX));
            0
        }
        n => n,
    };
    let after = if request.page_token.is_empty() {
        None
    } else {
        match Id::parse(&request.page_token) {
            Ok(id) => Some(id),
            Err(_) => {
                v.add("page_token", "malformed page token");
                None
            }
        }
    };
    v.finish()?;
    let by = by.ok_or_else(|| Error::Internal("validated list key missing".into()))?;
    Ok(ListQuery { by, after, limit })
}

pub fn update_stock(
    catalog: &Catalog,
    request: &pb::UpdateStockRequest,
) -> Result<Vec<(StockRef, u64)>, Error> {
    let mut v = Violations::default();
    if request.lines.is_empty() || request.lines.len() > holds::STOCK_UPDATE_LINES_MAX {
        v.add("lines", format!("1 to {} lines", holds::STOCK_UPDATE_LINES_MAX));
    }
    let mut lines: Vec<(StockRef, u64)> = Vec::new();
    let mut not_found = None;
    for (i, line) in request.lines.iter().take(holds::STOCK_UPDATE_LINES_MAX).enumerate() {
        let field = format!("lines[{i}]");
        if line.on_hand_units > holds::ON_HAND_UNITS_MAX {
            v.add(
                format!("{field}.on_hand_units"),
                format!("at most {}", holds::ON_HAND_UNITS_MAX),
            );
        }
        match v.stock_line(catalog, &field, &line.supplier_id, &line.category_id) {
            Ok(Some(stock)) => {
                if lines.iter().any(|(l, _)| l.line == stock.line) {
                    v.add(field, "the same (supplier_id, category_id) appears twice");
                } else {
                    lines.push((stock, line.on_hand_units));
                }
            }
            Ok(None) => {}
            Err(error) => not_found = not_found.or(Some(error)),
        }
    }
    v.finish()?;
    match not_found {
        Some(error) => Err(error),
        None => Ok(lines),
    }
}

fn hold_state_to_pb(state: HoldState) -> pb::HoldState {
    match state {
        HoldState::Pending => pb::HoldState::Pending,
        HoldState::Confirmed => pb::HoldState::Confirmed,
        HoldState::Released => pb::HoldState::Released,
        HoldState::Expired => pb::HoldState::Expired,
    }
}

pub fn hold_to_pb(hold: &Hold) -> pb::Hold {
    pb::Hold {
        hold_id: hold.hold_id.to_string(),
        incident_ref: hold.incident_ref.to_string(),
        lines: hold
            .lines
            .iter()
            .map(|line| pb::HoldLine {
                supplier_id: line.supplier_id.to_string(),
                category_id: line.category_id.to_string(),
                quantity_units: line.quantity_units,
            })
            .collect(),
        ttl_seconds: hold.ttl_seconds,
        state: hold_state_to_pb(hold.state) as i32,
        placed_at_unix_ms: hold.placed_at_ms,
        expires_at_unix_ms: hold.expires_at_ms,
        resolved_at_unix_ms: hold.resolved_at_ms.unwrap_or(0),
        placed_by: hold.placed_by.clone(),
        history: hold
            .history
            .iter()
            .map(|event| pb::HoldEvent {
                at_unix_ms: event.at_ms,
                from_state: event.from.map_or(pb::HoldState::Unspecified, hold_state_to_pb) as i32,
                to_state: hold_state_to_pb(event.to) as i32,
                actor: event.actor.clone(),
            })
            .collect(),
    }
}

/// The one hold a command answers with.
pub fn expect_hold(outcome: Outcome) -> Result<pb::Hold, Error> {
    match outcome {
        Outcome::Hold(hold) => Ok(hold_to_pb(&hold)),
        other => Err(Error::Internal(format!("expected a hold, got {other:?}"))),
    }
}

pub fn list_holds_response(outcome: Outcome) -> Result<pb::ListHoldsResponse, Error> {
    match outcome {
        Outcome::Holds { holds, more } => Ok(pb::ListHoldsResponse {
            next_page_token: match (more, holds.last()) {
                (true, Some(last)) => last.hold_id.to_string(),
                _ => String::new(),
            },
            holds: holds.iter().map(hold_to_pb).collect(),
        }),
        other => Err(Error::Internal(format!("expected holds, got {other:?}"))),
    }
}

pub fn update_stock_response(
    lines: &[(StockRef, u64)],
    outcome: Outcome,
) -> Result<pb::UpdateStockResponse, Error> {
    match outcome {
        Outcome::Stock(levels) if levels.len() == lines.len() => Ok(pb::UpdateStockResponse {
            lines: lines
                .iter()
                .zip(levels)
                .map(|((stock, _), level)| pb::StockLevel {
                    supplier_id: stock.supplier_id.to_string(),
                    category_id: stock.category_id.to_string(),
                    on_hand_units: level.on_hand_units,
                    pending_units: level.pending_units,
                    confirmed_units: level.confirmed_units,
                    available_units: level.available_units(),
                })
                .collect(),
        }),
        other => Err(Error::Internal(format!("expected stock levels, got {other:?}"))),
    }
}
