//! Stock already promised elsewhere, as the engine reads it: the one seam between the engine
//! and whoever keeps holds. It lives in `domain` so that `matching` (which reads it) and
//! `holds` (which implements it) both see it without either depending on the other.

use super::StockLineIdx;

/// A snapshot of holds and stock overrides, per stock line.
///
/// Contract (small on purpose; `holds::HeldSnapshot` implements it):
/// - `held(line)` is the catalog's on-hand quantity minus what the line can give now: units
///   held by pending or confirmed holds, or moved by a stock override. 0 for a line with no
///   hold and no override. It is negative when an override raised the line above the
///   catalog's on-hand.
/// - `raised()` lists every line whose `held` is negative, in increasing order, each once.
///   The engine's index bounds each category by the catalog's on-hand stock, which is too low
///   for exactly these lines, so the engine evaluates them on their own. A snapshot that left
///   one out would hide that line from searches whose bounds exclude it: a wrong answer, not a
///   slow one.
/// - Both describe the same moment: a reader takes one snapshot per call.
pub trait HeldStock: Sync {
    /// Catalog on-hand − available, in units (see the trait).
    fn held(&self, line: StockLineIdx) -> f64;

    /// The lines with a negative `held`, ascending.
    fn raised(&self) -> &[StockLineIdx];
}

/// No holds at all: availability is the registry's on-hand stock.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHolds;

impl HeldStock for NoHolds {
    fn held(&self, _line: StockLineIdx) -> f64 {
        0.0
    }

    fn raised(&self) -> &[StockLineIdx] {
        &[]
    }
}
