//! Counters the service keeps about its own work, for operators: how often a search stopped
//! at its work bound (`matching::LINES_EXAMINED_MAX`) before it could prove its answer. Each
//! such answer also says so itself (`search_cut` in the response); the counter and a warning
//! in the log make it visible without reading responses.

use std::sync::atomic::{AtomicU64, Ordering};

static SEARCHES_CUT: AtomicU64 = AtomicU64::new(0);

/// Searches cut at their work bound since the process started (Match requirements and
/// Shortlists).
pub fn searches_cut() -> u64 {
    SEARCHES_CUT.load(Ordering::Relaxed)
}

/// Counts `cut` searches of one call (nothing when 0) and logs them.
pub(super) fn count_searches_cut(method: &'static str, cut: usize) {
    if cut == 0 {
        return;
    }
    let total = SEARCHES_CUT.fetch_add(cut as u64, Ordering::Relaxed) + cut as u64;
    tracing::warn!(method, cut, searches_cut_total = total, "search stopped at its work bound");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_counts_cut_searches_only() {
        let before = searches_cut();
        count_searches_cut("Match", 0);
        count_searches_cut("Match", 2);
        count_searches_cut("Shortlist", 1);
        // Other tests may count too: at least ours.
        assert!(searches_cut() >= before + 3);
    }
}
