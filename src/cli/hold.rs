//! `equipmatch hold …`: a client of a running server's HoldService. Human output is one line
//! per hold (and its audit trail for `get`); `--json` mirrors the proto messages.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::remote::{block_on, fail, BoxError};
use crate::grpc::client::{self, HoldServiceClient};
use crate::grpc::convert::CALLER_METADATA_KEY;
use crate::grpc::pb;

#[derive(Debug, Args)]
pub struct HoldArgs {
    /// Server URL.
    #[arg(long, global = true, default_value = "http://127.0.0.1:50051")]
    server: String,
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    /// Who you are, for the audit trail (sent as x-equipmatch-caller; a server with
    /// authentication records your token's subject instead).
    #[arg(long, global = true)]
    caller: Option<String>,
    /// Print the response as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: HoldCommand,
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Reserve stock: every line or none. Repeating the same command is safe (same hold id).
    Place {
        /// Your id for the hold (the idempotency key).
        #[arg(long)]
        hold_id: String,
        /// The incident the hold is for.
        #[arg(long)]
        incident: String,
        /// SUPPLIER:CATEGORY:UNITS (repeatable), e.g. sup-00007:rescuer-ppe-kit:5.
        #[arg(long = "line", required = true, value_parser = parse_line)]
        lines: Vec<(String, String, u64)>,
        /// Seconds the hold stays pending without confirmation.
        #[arg(long, default_value_t = 900)]
        ttl_seconds: u32,
    },
    /// Confirm a pending hold.
    Confirm {
        /// The hold id.
        hold_id: String,
    },
    /// Release a pending hold.
    Release {
        /// The hold id.
        hold_id: String,
    },
    /// Show a hold with its audit trail.
    Get {
        /// The hold id.
        hold_id: String,
    },
    /// List the holds of an incident or of a supplier (every page unless --page-size).
    List {
        /// Holds of this incident.
        #[arg(long, conflicts_with = "supplier", required_unless_present = "supplier")]
        incident: Option<String>,
        /// Holds with a line of this supplier.
        #[arg(long)]
        supplier: Option<String>,
        /// One page of this size (at most 500) instead of every page.
        #[arg(long)]
        page_size: Option<u32>,
        /// Start from this page token.
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Set suppliers' on-hand quantities: SUPPLIER:CATEGORY:UNITS (repeatable).
    Stock {
        /// SUPPLIER:CATEGORY:UNITS (repeatable).
        #[arg(long = "set", required = true, value_parser = parse_line)]
        lines: Vec<(String, String, u64)>,
    },
}

/// The most pages `list` walks (500 holds each).
const LIST_PAGES_MAX: usize = 1000;

fn parse_line(text: &str) -> Result<(String, String, u64), String> {
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(supplier), Some(category), Some(units)) if !supplier.is_empty() => {
            let units = units.parse().map_err(|_| format!("{units:?} is not a whole number"))?;
            Ok((supplier.to_owned(), category.to_owned(), units))
        }
        _ => Err(format!("{text:?} is not SUPPLIER:CATEGORY:UNITS")),
    }
}

fn request<T>(message: T, caller: Option<&str>) -> Result<tonic::Request<T>, BoxError> {
    let mut request = tonic::Request::new(message);
    if let Some(caller) = caller {
        request.metadata_mut().insert(CALLER_METADATA_KEY, caller.parse()?);
    }
    Ok(request)
}

pub fn run(args: HoldArgs) -> ExitCode {
    let caller = args.caller.as_deref();
    let result = block_on(async {
        let credentials = args.connect.credentials()?;
        let mut holds =
            HoldServiceClient::new(client::connect_with(&args.server, &credentials).await?);
        let hold = match &args.command {
            HoldCommand::Place { hold_id, incident, lines, ttl_seconds } => {
                let message = pb::PlaceHoldRequest {
                    hold_id: hold_id.clone(),
                    incident_ref: incident.clone(),
                    lines: lines
                        .iter()
                        .map(|(supplier, category, units)| pb::HoldLine {
                            supplier_id: supplier.clone(),
                            category_id: category.clone(),
                            quantity_units: *units,
                        })
                        .collect(),
                    ttl_seconds: *ttl_seconds,
                };
                holds.place_hold(request(message, caller)?).await?.into_inner().hold
            }
            HoldCommand::Confirm { hold_id } => {
                let message = pb::ConfirmHoldRequest { hold_id: hold_id.clone() };
                holds.confirm_hold(request(message, caller)?).await?.into_inner().hold
            }
            HoldCommand::Release { hold_id } => {
                let message = pb::ReleaseHoldRequest { hold_id: hold_id.clone() };
                holds.release_hold(request(message, caller)?).await?.into_inner().hold
            }
            HoldCommand::Get { hold_id } => {
                let message = pb::GetHoldRequest { hold_id: hold_id.clone() };
                holds.get_hold(request(message, caller)?).await?.into_inner().hold
            }
            HoldCommand::List { incident, supplier, page_size, page_token } => {
                return list(&mut holds, incident, supplier, *page_size, page_token, args.json)
                    .await;
            }
            HoldCommand::Stock { lines } => {
                let message = pb::UpdateStockRequest {
                    lines: lines
                        .iter()
                        .map(|(supplier, category, units)| pb::StockQuantity {
                            supplier_id: supplier.clone(),
                            category_id: category.clone(),
                            on_hand_units: *units,
                        })
                        .collect(),
                };
                let response = holds.update_stock(request(message, caller)?).await?.into_inner();
                return if args.json {
                    client::to_json(&response, "equipmatch.v1.UpdateStockResponse")
                } else {
                    Ok(response
                        .lines
                        .iter()
                        .map(|l| {
                            format!(
                                "{}/{}  on hand {}  pending {}  confirmed {}  available {}\n",
                                l.supplier_id,
                                l.category_id,
                                l.on_hand_units,
                                l.pending_units,
                                l.confirmed_units,
                                l.available_units
                            )
                        })
                        .collect())
                };
            }
        };
        let hold = hold.ok_or("the server answered without a hold")?;
        if args.json {
            client::to_json(&hold, "equipmatch.v1.Hold")
        } else {
            Ok(hold_text(&hold))
        }
    });
    match result {
        Ok(text) => {
            print!("{text}");
            if args.json {
                println!();
            }
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

async fn list(
    holds: &mut HoldServiceClient<client::AuthChannel>,
    incident: &Option<String>,
    supplier: &Option<String>,
    page_size: Option<u32>,
    page_token: &str,
    json: bool,
) -> Result<String, BoxError> {
    let mut out = String::new();
    let mut token = page_token.to_owned();
    for _page in 0..LIST_PAGES_MAX {
        let response = holds
            .list_holds(pb::ListHoldsRequest {
                incident_ref: incident.clone().unwrap_or_default(),
                supplier_id: supplier.clone().unwrap_or_default(),
                page_size: page_size.unwrap_or(500),
                page_token: token,
            })
            .await?
            .into_inner();
        if json {
            out.push_str(&client::to_json(&response, "equipmatch.v1.ListHoldsResponse")?);
            out.push('\n');
        } else {
            for hold in &response.holds {
                out.push_str(&hold_text(hold));
            }
        }
        token = response.next_page_token;
        if token.is_empty() || page_size.is_some() {
            if !token.is_empty() && !json {
                let _ = writeln!(out, "next page: --page-token {token}");
            }
            break;
        }
    }
    Ok(out)
}

fn state_name(state: i32) -> &'static str {
    match pb::HoldState::try_from(state) {
        Ok(pb::HoldState::Pending) => "PENDING",
        Ok(pb::HoldState::Confirmed) => "CONFIRMED",
        Ok(pb::HoldState::Released) => "RELEASED",
        Ok(pb::HoldState::Expired) => "EXPIRED",
        _ => "-",
    }
}

fn hold_text(hold: &pb::Hold) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}  incident {}  placed {} by {}  expires {}",
        hold.hold_id,
        state_name(hold.state),
        hold.incident_ref,
        utc(hold.placed_at_unix_ms),
        hold.placed_by,
        utc(hold.expires_at_unix_ms)
    );
    for line in &hold.lines {
        let _ = writeln!(
            out,
            "    {} × {}/{}",
            line.quantity_units, line.supplier_id, line.category_id
        );
    }
    for event in &hold.history {
        let _ = writeln!(
            out,
            "    {}  {} → {}  by {}",
            utc(event.at_unix_ms),
            state_name(event.from_state),
            state_name(event.to_state),
            event.actor
        );
    }
    out
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (civil-from-days, H. Hinnant).
fn utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
    }

    #[test]
    fn lines_parse() {
        assert_eq!(parse_line("sup-1:kit:5"), Ok(("sup-1".into(), "kit".into(), 5)));
        assert!(parse_line("sup-1:kit").is_err());
        assert!(parse_line("sup-1:kit:-1").is_err());
    }
}
