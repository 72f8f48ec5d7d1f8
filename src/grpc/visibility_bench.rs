//! The load of `equipmatch bench visibility`: two running replicas on one store; PlaceHold on
//! A, then read B (a Shortlist narrowed to the held line's place) until the hold shows. It
//! lives here because it speaks tonic and the generated types; `cli::bench_holds` only parses
//! flags and prints the result (the same split as `load` and `bench grpc`).

use std::time::{Duration, Instant};

use super::client::{self, CatalogServiceClient, HoldServiceClient, MatchServiceClient};
use super::pb;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The most holds, lines and prefilled lines one run may ask for.
const HOLDS_MAX: usize = 100_000;
const LINES_MAX: usize = 1000;
const PREFILL_LINES_MAX: usize = 200_000;
/// Lines per prefill hold (the service's `LINES_PER_HOLD_MAX`).
const PREFILL_LINES_PER_HOLD: usize = crate::holds::LINES_PER_HOLD_MAX;
/// Suppliers per ListSuppliers page.
const SUPPLIERS_PAGE: u32 = 1000;
/// How long one hold may take to show on B before the run counts it as not seen.
pub const VISIBILITY_WAIT_MAX: Duration = Duration::from_secs(30);

/// What to run (`cli::bench_holds::VisibilityArgs` says what each means).
#[derive(Debug, Clone)]
pub struct VisibilityOptions {
    pub a: String,
    pub b: String,
    pub holds: usize,
    pub lines: usize,
    pub pause_ms_max: u64,
    pub prefill_lines: usize,
}

/// Runs one measurement on its own runtime.
pub fn run(options: &VisibilityOptions) -> Result<VisibilityResult, BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(measure(options))
}

/// A stock line the measured holds use, with what B's read needs to find it.
#[derive(Debug, Clone)]
struct Line {
    supplier_id: String,
    category_id: String,
    place_id: String,
    location: pb::LatLng,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN)
}

/// A pause in [0, max] ms that depends only on `i` (SplitMix64), so runs are comparable.
fn pause(i: usize, max_ms: u64) -> Duration {
    let mut z = (i as u64).wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    Duration::from_micros((z ^ (z >> 31)) % (max_ms * 1000 + 1))
}

/// Every stock line of the first suppliers, in supplier order, with on hand ≥ 1, up to `n`.
async fn stock_lines(
    catalog: &mut CatalogServiceClient<tonic::transport::Channel>,
    n: usize,
) -> Result<Vec<(Line, f64)>, BoxError> {
    let mut lines = Vec::new();
    let mut page_token = String::new();
    while lines.len() < n {
        let page = catalog
            .list_suppliers(pb::ListSuppliersRequest {
                page: Some(pb::PageRequest { page_size: SUPPLIERS_PAGE, page_token }),
                ..Default::default()
            })
            .await?
            .into_inner();
        for supplier in page.suppliers {
            let detail = catalog
                .get_supplier(pb::GetSupplierRequest { supplier_id: supplier.id.clone() })
                .await?
                .into_inner();
            let Some(location) = supplier.location else { continue };
            for stock in detail.stock_lines {
                if stock.quantity_on_hand >= 1.0 && lines.len() < n {
                    lines.push((
                        Line {
                            supplier_id: supplier.id.clone(),
                            category_id: stock.category_id,
                            place_id: supplier.place_id.clone(),
                            location,
                        },
                        stock.quantity_on_hand,
                    ));
                }
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(lines)
}

/// Units of `line` B offers from stock now (None when B's answer does not list it).
async fn offered(
    matching: &mut MatchServiceClient<tonic::transport::Channel>,
    line: &Line,
) -> Result<Option<f64>, BoxError> {
    let response = matching
        .shortlist(pb::ShortlistRequest {
            category_ids: vec![line.category_id.clone()],
            quantity: 1.0,
            location: Some(line.location),
            filters: Some(pb::ShortlistFilters {
                place_ids: vec![line.place_id.clone()],
                ..Default::default()
            }),
            count: 200,
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(response
        .entries
        .iter()
        .find(|entry| entry.supplier_id == line.supplier_id && !entry.substitute)
        .map(|entry| entry.quantity_from_stock))
}

fn same_line(a: &Line, b: &Line) -> bool {
    a.supplier_id == b.supplier_id && a.category_id == b.category_id
}

fn hold_line(line: &Line, units: u64) -> pb::HoldLine {
    pb::HoldLine {
        supplier_id: line.supplier_id.clone(),
        category_id: line.category_id.clone(),
        quantity_units: units,
    }
}

/// What one run measured (milliseconds).
#[derive(Debug, serde::Serialize)]
pub struct VisibilityResult {
    pub holds: usize,
    pub not_seen: usize,
    pub prefilled_lines: usize,
    pub visible_p50_ms: f64,
    pub visible_p90_ms: f64,
    pub visible_p99_ms: f64,
    pub visible_max_ms: f64,
    pub place_p50_ms: f64,
    pub place_p99_ms: f64,
    pub read_p50_ms: f64,
    pub reads_per_hold: f64,
}

async fn measure(args: &VisibilityOptions) -> Result<VisibilityResult, BoxError> {
    let (channel_a, channel_b) = (client::connect(&args.a).await?, client::connect(&args.b).await?);
    let mut holds_a = HoldServiceClient::new(channel_a.clone());
    let mut matching_b = MatchServiceClient::new(channel_b);
    let n_lines = args.lines.clamp(1, LINES_MAX);
    let prefill = args.prefill_lines.min(PREFILL_LINES_MAX);
    // Generously more than the measured lines need: some have too little stock for the run.
    let wanted = (n_lines * 20 + prefill).min(PREFILL_LINES_MAX + 20 * LINES_MAX);
    let all = stock_lines(&mut CatalogServiceClient::new(channel_a.clone()), wanted).await?;
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());

    // Measured lines: enough stock for every hold the run places on them, and listed by B's
    // read (checked once). Stock is not raised with UpdateStock: a line raised above the
    // catalog is what issue 11's defect (a) mis-bounds, and this measures holds, not that.
    let holds = args.holds.clamp(1, HOLDS_MAX);
    let uses = holds.div_ceil(n_lines) as f64;
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for (line, on_hand) in all.iter().filter(|(_, on_hand)| *on_hand >= uses + 1.0) {
        if lines.len() == n_lines {
            break;
        }
        if offered(&mut matching_b, line).await? == Some(*on_hand) {
            lines.push(line.clone());
            expected.push(*on_hand);
        }
    }
    if lines.len() < n_lines {
        return Err(format!(
            "only {} of the first {} stock lines have {uses} units and are listed by B's read",
            lines.len(),
            all.len()
        )
        .into());
    }
    // Prefill takes the last lines fetched; the measured ones come from the first.
    let prefill_from: Vec<&(Line, f64)> = all
        .iter()
        .rev()
        .filter(|(line, _)| !lines.iter().any(|l| same_line(l, line)))
        .take(prefill)
        .collect();

    // Prefill: one unit of each other line, LINES_PER_HOLD_MAX lines per hold.
    let mut prefilled = 0;
    for (i, chunk) in prefill_from.chunks(PREFILL_LINES_PER_HOLD).enumerate() {
        holds_a
            .place_hold(pb::PlaceHoldRequest {
                hold_id: format!("prefill-{run_id}-{i}"),
                incident_ref: "bench-visibility".into(),
                lines: chunk.iter().map(|(line, _)| hold_line(line, 1)).collect(),
                ttl_seconds: crate::holds::TTL_SECONDS_MAX,
            })
            .await?;
        prefilled += chunk.len();
    }

    let (mut visible, mut placed, mut reads) = (Vec::new(), Vec::new(), Vec::new());
    let mut not_seen = 0;
    for i in 0..holds {
        let which = i % lines.len();
        tokio::time::sleep(pause(i, args.pause_ms_max)).await;
        let sent = Instant::now();
        holds_a
            .place_hold(pb::PlaceHoldRequest {
                hold_id: format!("visibility-{run_id}-{i}"),
                incident_ref: "bench-visibility".into(),
                lines: vec![hold_line(&lines[which], 1)],
                ttl_seconds: crate::holds::TTL_SECONDS_MAX,
            })
            .await?;
        let acknowledged = Instant::now();
        placed.push((acknowledged - sent).as_secs_f64() * 1e3);
        expected[which] -= 1.0;
        loop {
            let read_started = Instant::now();
            let units = offered(&mut matching_b, &lines[which]).await?;
            reads.push(read_started.elapsed().as_secs_f64() * 1e3);
            if units == Some(expected[which]) {
                visible.push(acknowledged.elapsed().as_secs_f64() * 1e3);
                break;
            }
            if acknowledged.elapsed() > VISIBILITY_WAIT_MAX {
                not_seen += 1;
                expected[which] = units.unwrap_or(expected[which]);
                break;
            }
        }
    }
    let reads_per_hold = reads.len() as f64 / holds as f64;
    for values in [&mut visible, &mut placed, &mut reads] {
        values.sort_by(f64::total_cmp);
    }
    Ok(VisibilityResult {
        holds,
        not_seen,
        prefilled_lines: prefilled,
        visible_p50_ms: percentile(&visible, 0.50),
        visible_p90_ms: percentile(&visible, 0.90),
        visible_p99_ms: percentile(&visible, 0.99),
        visible_max_ms: visible.last().copied().unwrap_or(f64::NAN),
        place_p50_ms: percentile(&placed, 0.50),
        place_p99_ms: percentile(&placed, 0.99),
        read_p50_ms: percentile(&reads, 0.50),
        reads_per_hold,
    })
}
