//! The sourcing plan through the indexes: the same plan `plan::plan` makes from every on-time
//! line, found by looking only at the lines that can be in it.
//!
//! The plan's objective (`plan::fewest_then_earliest`): the fewest lines n that cover the
//! quantity S (largest first), then the earliest deadline d* by which some n lines arriving
//! by d* cover it (the n largest among them). Two walks find it:
//!
//! 1. **How many lines** (largest first, by a bound on what a node's lines can offer in the
//!    window). Values at or above the walk's next key are final: no unseen line is larger.
//!    With c of them summing to C < S and the next key b, no set of fewer than
//!    c + ⌈(S − C) ÷ b⌉ lines can cover S; when that many of the lines seen do, that is n.
//! 2. **By when** (earliest first, by a bound on arrival). A line of a covering set of n has
//!    at least τ = S − (the n − 1 largest) — the others cannot give more — so lines below a
//!    lower bound of τ are skipped, and so are nodes whose bound is below it. Lines are taken
//!    in arrival order; at each arrival time d, once no unseen line can arrive by d, the n
//!    largest taken are tested; the first d where they cover S is d*. Walk 2 starts where
//!    walk 1 stopped: from the nodes walk 1 left unopened, keyed again by arrival (walk 1's
//!    lines it already has; the nodes walk 1 pruned — no line there passes the filters, is on
//!    time and has something to offer — hold no line walk 2 could keep), so it does not bound
//!    again, from the roots down, the nodes walk 1 opened.
//!
//! Then `fewest_then_earliest` runs on the lines the walks kept (those of at least τ, on
//! time). They include every line of the optimal plan, every line that arrives by d* and
//! could be in a covering set of n, and none that could make it choose differently, so it
//! returns the plan it returns on every line, entry for entry (the unit tests compare them
//! on random requests). When the lines cannot cover S, walk 1 ends having seen every on-time
//! line, which is the plan's own input.
//!
//! In a leaf both walks evaluate only the lines whose own row (lead time, stock, surge) and
//! the leaf's travel bound say they may be on time and offer enough (`worth_evaluating`):
//! the others are rejected before their supplier is read.
//!
//! Floating point: sums are taken in the plan's own order, and the certificate of n and the
//! bound on τ leave a relative margin of `MARGIN`, so rounding can only make the walks look
//! at more lines, never at fewer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ordered_float::OrderedFloat;

use super::plan::{entries, fewest_then_earliest, size_key, SizeKey};
use super::search::{evaluate, warm, Bounds, Found, Source, Spec, Walk};
use super::PlanEntry;
use crate::catalog::{Catalog, Node};
use crate::domain::StockLineIdx;

/// Relative margin on the certificates (see the module's last paragraph).
const MARGIN: f64 = 1e-9;

/// What the walks cost.
#[derive(Debug, Default)]
pub(super) struct Work {
    pub examined: usize,
    /// A walk stopped at its work bound (`Spec::lines_examined_max`): the plan is the best among the lines seen.
    pub cut: bool,
}

/// The plan of `plan::plan`: primary lines first, substitutes only for what they cannot
/// cover.
pub(super) fn plan(
    catalog: &Catalog,
    spec: &Spec<'_>,
    primary: Source,
    substitutes: &[Source],
    required: f64,
    work: &mut Work,
) -> Vec<PlanEntry> {
    let mut entries = cover(catalog, spec, &[primary], required, work);
    let covered: f64 = entries.iter().map(|entry| entry.quantity_equivalent).sum();
    if !super::plan::is_covered(covered, required) && !substitutes.is_empty() {
        entries.extend(cover(catalog, spec, substitutes, required - covered, work));
    }
    entries
}

/// `fewest_then_earliest` over every on-time line of `sources`, exactly, looking at few.
fn cover(
    catalog: &Catalog,
    spec: &Spec<'_>,
    sources: &[Source],
    required: f64,
    work: &mut Work,
) -> Vec<PlanEntry> {
    if required <= 0.0 {
        return Vec::new();
    }
    let bounds = Bounds { catalog, spec, sources };
    match how_many(&bounds, required, work) {
        HowMany::All(lines) => {
            let refs: Vec<_> = lines.iter().collect();
            fewest_then_earliest(catalog, &refs, required)
        }
        HowMany::Lines { n, threshold, seen, unopened } => {
            match by_when(&bounds, required, n, threshold, seen, unopened, work) {
                ByWhen::Chosen(kept, chosen) => {
                    entries(catalog, chosen.iter().map(|i| &kept[*i]).collect(), required)
                }
                ByWhen::Kept(kept) => {
                    let refs: Vec<_> = kept.iter().collect();
                    fewest_then_earliest(catalog, &refs, required)
                }
            }
        }
    }
}

enum HowMany {
    /// Every on-time line was seen (they cannot cover the quantity, or the walk was cut).
    All(Vec<super::Candidate>),
    /// n lines are needed; every line of a covering set of n has at least `threshold`;
    /// `seen` are the on-time lines the walk evaluated; `unopened`, the walk itself, holds
    /// the nodes it did not open (every other line is under one of them or was pruned).
    Lines {
        n: usize,
        threshold: f64,
        seen: Vec<super::Candidate>,
        unopened: Walk<OrderedFloat<f64>>,
    },
}

/// Walk 1: the fewest lines that cover `required`, largest first.
fn how_many(bounds: &Bounds<'_>, required: f64, work: &mut Work) -> HowMany {
    let (catalog, spec, sources) = (bounds.catalog, bounds.spec, bounds.sources);
    let mut seen: Vec<super::Candidate> = Vec::new();
    // Values not yet known to be final, largest on top; and the final ones, largest first,
    // with their running sum in that order.
    let mut pending: BinaryHeap<OrderedFloat<f64>> = BinaryHeap::new();
    let mut certain: Vec<f64> = Vec::new();
    let mut certain_sum = 0.0;
    // Pending values when the last check of `least` lines ran: the check (linear in the
    // pending values) is repeated only once `least` changed or they grew by a quarter.
    let mut checked_at: Option<(usize, usize)> = None;
    let mut scratch: Vec<f64> = Vec::new();
    let mut worth: Vec<StockLineIdx> = Vec::new();
    for (source, s) in sources.iter().enumerate() {
        for line in bounds.raised(source) {
            work.examined += 1;
            take(evaluate(catalog, *line, *s, spec), &mut seen, &mut pending);
        }
    }
    let bound = |source: usize, node: &Node| {
        let eta = bounds.eta_lower_bound(source, node)?;
        let available = bounds.available_upper_bound(source, node, eta);
        (eta <= spec.window_hours && available > 0.0).then_some(OrderedFloat(available))
    };
    let mut walk = Walk::new(bounds, &bound);
    loop {
        let next = walk.peek().map_or(0.0, |key| key.0);
        while let Some(value) = pending.peek().copied().filter(|value| value.0 >= next) {
            pending.pop();
            certain.push(value.0);
            certain_sum += value.0;
        }
        if certain_sum >= required {
            let (n, threshold) = covered_by_certain(&certain, required);
            return HowMany::Lines { n, threshold, seen, unopened: walk };
        }
        if next <= 0.0 {
            return HowMany::All(seen);
        }
        // Fewer than `least` lines cannot cover: the unseen are at most `next` each.
        let rest = required - certain_sum;
        let least = certain.len() + ((rest / next) * (1.0 - MARGIN)).ceil().max(1.0) as usize;
        let extra = least - certain.len();
        let worth_checking = checked_at.is_none_or(|(pending_then, least_then)| {
            least != least_then || pending.len() > pending_then + pending_then / 4
        });
        // Even `extra` copies of the largest pending value cannot reach it: no need to look.
        let reachable = pending
            .peek()
            .is_some_and(|largest| certain_sum + extra as f64 * largest.0 >= required);
        if pending.len() >= extra && worth_checking && reachable {
            checked_at = Some((pending.len(), least));
            if with_largest_pending(certain_sum, &pending, extra, &mut scratch) >= required {
                let largest_others = certain_sum + (extra - 1) as f64 * next;
                let threshold = required - largest_others - MARGIN * required;
                return HowMany::Lines { n: least, threshold, seen, unopened: walk };
            }
        }
        if work.examined >= spec.lines_examined_max {
            work.cut = true;
            return HowMany::All(seen);
        }
        let Some((source, lines, node)) = walk.next_leaf(bounds, &bound) else {
            return HowMany::All(seen);
        };
        // Walk 1 takes every on-time line with something to offer, and no other.
        worth_evaluating(bounds, source, lines, node, 0.0, &mut worth);
        for line in worth.iter().copied() {
            work.examined += 1;
            take(evaluate(catalog, line, sources[source], spec), &mut seen, &mut pending);
        }
    }
}

/// Keeps an on-time candidate: its value pending, the candidate seen.
fn take(
    candidate: Option<super::Candidate>,
    seen: &mut Vec<super::Candidate>,
    pending: &mut BinaryHeap<OrderedFloat<f64>>,
) {
    if let Some(candidate) = candidate.filter(|c| c.on_time) {
        pending.push(OrderedFloat(candidate.equivalent()));
        seen.push(candidate);
    }
}

/// When the certain values (the largest of all, in order) cover `required`: n, where they
/// cover, and the threshold every line of a covering set of n reaches.
fn covered_by_certain(certain: &[f64], required: f64) -> (usize, f64) {
    let mut sum = 0.0;
    let n = certain.iter().position(|v| {
        sum += v;
        sum >= required
    });
    let n = n.map_or(certain.len(), |at| at + 1);
    let largest_others: f64 = certain[..n - 1].iter().sum();
    (n, required - largest_others - MARGIN * required)
}

/// `certain_sum` plus the `extra` largest pending values, summed after the certain ones in
/// the plan's order (largest first), as the plan sums.
fn with_largest_pending(
    certain_sum: f64,
    pending: &BinaryHeap<OrderedFloat<f64>>,
    extra: usize,
    scratch: &mut Vec<f64>,
) -> f64 {
    scratch.clear();
    scratch.extend(pending.iter().map(|value| value.0));
    if extra < scratch.len() {
        scratch.select_nth_unstable_by(extra - 1, |a, b| b.total_cmp(a));
        scratch.truncate(extra);
    }
    scratch.sort_unstable_by(|a, b| b.total_cmp(a));
    scratch.iter().fold(certain_sum, |sum, v| sum + v)
}

/// What walk 2 found.
enum ByWhen {
    /// The lines kept, and (indexes into them) the n largest arriving by d*: the plan's
    /// `pick(d*)` exactly, since every line that can be in it was taken by d*.
    Chosen(Vec<super::Candidate>, Vec<usize>),
    /// The walk was cut (or, against the certificate, no d covered): the lines kept, for
    /// `fewest_then_earliest` to choose among.
    Kept(Vec<super::Candidate>),
}

/// Walk 2: the on-time lines of at least `threshold`, earliest first, until the `n` largest
/// of those arriving by some time d cover `required`: those of `seen`, then those under the
/// nodes walk 1 left `unopened`.
fn by_when(
    bounds: &Bounds<'_>,
    required: f64,
    n: usize,
    threshold: f64,
    seen: Vec<super::Candidate>,
    unopened: Walk<OrderedFloat<f64>>,
    work: &mut Work,
) -> ByWhen {
    let (catalog, spec, sources) = (bounds.catalog, bounds.spec, bounds.sources);
    let mut kept: Vec<super::Candidate> =
        seen.into_iter().filter(|c| c.equivalent() >= threshold).collect();
    // Lines kept but not yet taken, earliest first (by index into `kept`).
    let mut arriving: BinaryHeap<Reverse<(OrderedFloat<f64>, usize)>> =
        kept.iter().enumerate().map(|(i, c)| Reverse((OrderedFloat(c.eta_hours), i))).collect();
    // The n largest taken (worst on top), and their sum (approximate; checked exactly).
    let mut largest: BinaryHeap<(SizeKey, usize)> = BinaryHeap::new();
    let mut largest_sum = 0.0;
    let bound = |source: usize, node: &Node| {
        let eta = bounds.eta_lower_bound(source, node)?;
        let available = bounds.available_upper_bound(source, node, eta);
        (eta <= spec.window_hours && available >= threshold).then_some(Reverse(OrderedFloat(eta)))
    };
    // Walk 1's bound drops a node only when no line there passes the filters, arrives in the
    // window and offers more than nothing; walk 2 keeps none of those (`evaluate` gives no
    // candidate for a line with nothing to offer), so every line it wants is under `unopened`.
    let mut walk = unopened.rekey(bounds, &bound);
    let mut worth: Vec<StockLineIdx> = Vec::new();
    loop {
        let frontier = walk.peek().map_or(f64::INFINITY, |key| key.0 .0);
        while let Some(Reverse((eta, _))) = arriving.peek().copied() {
            if eta.0 >= frontier {
                break;
            }
            // Take every line arriving at `eta`: then nothing else arrives by it.
            while let Some(Reverse((_, i))) = arriving.peek().copied().filter(|r| r.0 .0 == eta) {
                arriving.pop();
                let key = size_key(catalog, &kept[i]);
                largest.push((key, i));
                largest_sum += kept[i].equivalent();
                if largest.len() > n {
                    if let Some((_, out)) = largest.pop() {
                        largest_sum -= kept[out].equivalent();
                    }
                }
            }
            if largest.len() == n && largest_sum >= required * (1.0 - MARGIN) {
                if let Some(chosen) = covering(&largest, &kept, required) {
                    return ByWhen::Chosen(kept, chosen);
                }
            }
        }
        if work.examined >= spec.lines_examined_max {
            work.cut = true;
            return ByWhen::Kept(kept);
        }
        let Some((source, lines, node)) = walk.next_leaf(bounds, &bound) else {
            return ByWhen::Kept(kept);
        };
        worth_evaluating(bounds, source, lines, node, threshold, &mut worth);
        for line in worth.iter().copied() {
            work.examined += 1;
            let Some(candidate) = evaluate(catalog, line, sources[source], spec) else {
                continue;
            };
            if candidate.on_time && candidate.equivalent() >= threshold {
                arriving.push(Reverse((OrderedFloat(candidate.eta_hours), kept.len())));
                kept.push(candidate);
            }
        }
    }
}

/// The lines of a leaf worth evaluating, into `worth` (their suppliers warmed): those whose
/// own row says they may arrive in the window and offer more than nothing and at least
/// `least` (`Bounds::line_available_upper_bound`) — a walk keeps no other, and rejecting one
/// reads no supplier, the first read of which is most of what evaluating a line costs at
/// national scale. A line `evaluate` takes has an available quantity above zero, so above
/// zero in the requested units too (efficiencies are in (0, 1]). Lines an override raised are
/// left out: the walks evaluate them apart.
fn worth_evaluating(
    bounds: &Bounds<'_>,
    source: usize,
    lines: std::ops::Range<u32>,
    leaf: u32,
    least: f64,
    worth: &mut Vec<StockLineIdx>,
) {
    worth.clear();
    let category = bounds.sources[source].category;
    let travel =
        bounds.travel_lower_bound(source, bounds.catalog.category_index(category).node(leaf));
    let raised = bounds.raised(source);
    for line in lines.map(StockLineIdx) {
        if !raised.is_empty() && raised.binary_search(&line).is_ok() {
            continue;
        }
        let offer = bounds.line_available_upper_bound(source, line, travel);
        if offer.is_some_and(|offer| offer > 0.0 && offer >= least) {
            worth.push(line);
        }
    }
    warm(bounds.catalog, worth.iter().map(|line| line.0));
}

/// The lines of `largest` (indexes into `kept`) in the plan's order, when they cover
/// `required` summed exactly as the plan sums: in that order.
fn covering(
    largest: &BinaryHeap<(SizeKey, usize)>,
    kept: &[super::Candidate],
    required: f64,
) -> Option<Vec<usize>> {
    let mut chosen: Vec<_> = largest.iter().copied().collect();
    chosen.sort_unstable();
    let sum = chosen.iter().fold(0.0, |sum, (_, i)| sum + kept[*i].equivalent());
    (sum >= required).then(|| chosen.into_iter().map(|(_, i)| i).collect())
}

impl Found {
    /// Adds a plan search's work to a found set's.
    pub(super) fn add_work(&mut self, work: &Work) {
        self.examined += work.examined;
        self.cut |= work.cut;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Children;
    use crate::domain::{CategoryIdx, LatLon, NoHolds};
    use crate::matching::tests::{big_catalog, Rng};
    use crate::matching::{Filters, Weights, LINES_EXAMINED_MAX};

    /// A line's row bound (`Bounds::line_available_upper_bound`, with its leaf's travel
    /// bound) is never below what `evaluate` finds the line offers on time, in every leaf of
    /// random categories, for random places (and none), windows, `max_eta_hours` and
    /// efficiencies; and it rejects lines, or `worth_evaluating` would spare nothing.
    #[test]
    fn a_lines_row_bound_holds_what_evaluate_finds_it_offers() {
        let catalog = big_catalog();
        let mut rng = Rng(0x5EED_0011);
        let (filters, weights) = (Filters::default(), Weights::default());
        let (mut checked, mut rejected) = (0usize, 0usize);
        for round in 0..40 {
            let at = (rng.unit() < 0.9).then(|| {
                let (lat, lon) = (36.0 + 6.0 * rng.unit(), 113.0 + 7.0 * rng.unit());
                LatLon::new(lat, lon).expect("in range").unit_vector()
            });
            let max_eta_hours = (rng.unit() < 0.3).then(|| 2.0 + 40.0 * rng.unit());
            let spec = Spec {
                at,
                window_hours: 1.0 + 96.0 * rng.unit(),
                quantity_required: 10.0,
                max_eta_hours,
                filters: &filters,
                weights: &weights,
                held: &NoHolds,
                lines_examined_max: LINES_EXAMINED_MAX,
            };
            let category = CategoryIdx(rng.below(catalog.categories.len()) as u32);
            let efficiency = (rng.unit() < 0.5).then(|| 0.1 + 0.9 * rng.unit());
            let sources = [Source { category, efficiency }];
            let bounds = Bounds { catalog, spec: &spec, sources: &sources };
            let first = catalog.category_lines(category).start as u32;
            for node in catalog.category_index(category).nodes() {
                let Children::Lines(lines) = node.children() else { continue };
                let travel = bounds.travel_lower_bound(0, node);
                for line in lines.map(|position| StockLineIdx(first + position)) {
                    let offer = bounds.line_available_upper_bound(0, line, travel);
                    match evaluate(catalog, line, sources[0], &spec).filter(|c| c.on_time) {
                        Some(candidate) => {
                            checked += 1;
                            assert!(
                                offer.is_some_and(|offer| offer >= candidate.equivalent()),
                                "round {round}, line {line:?}: {offer:?} < {candidate:?}"
                            );
                        }
                        None => rejected += usize::from(offer.is_none_or(|offer| offer <= 0.0)),
                    }
                }
            }
        }
        assert!(checked > 1_000 && rejected > 1_000, "{checked} checked, {rejected} rejected");
    }
}
