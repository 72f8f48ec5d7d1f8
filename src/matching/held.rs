//! Stock already promised elsewhere: the engine sees availability net of it. The engine only
//! reads a snapshot; who keeps holds (and how durably) is not its business.

use std::collections::HashMap;

use crate::domain::StockLineIdx;

/// Units of each stock line that are held (pending or confirmed) and so not available.
pub trait HeldStock: Sync {
    /// Units of `line` held; 0 when none.
    fn held(&self, line: StockLineIdx) -> f64;
}

/// No holds at all: availability is the registry's on-hand stock.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHolds;

impl HeldStock for NoHolds {
    fn held(&self, _line: StockLineIdx) -> f64 {
        0.0
    }
}

impl HeldStock for HashMap<StockLineIdx, f64> {
    fn held(&self, line: StockLineIdx) -> f64 {
        self.get(&line).copied().unwrap_or(0.0)
    }
}
