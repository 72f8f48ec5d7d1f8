//! The passes of a drill's allocation: which stock serves which demand first.
//!
//! A category's **own stock** serves its own demands first, in one optimal allocation (`Own`).
//! When the drill prefers some holder kinds (`prefer_kinds`, e.g. the standing resources),
//! that first pass uses only their stock, and a second pass (`AfterPreferred`) offers every
//! holder's stock for what the first left unserved. Then **substitutes**: a category that
//! stands in for others (`[[category.substitute]]` in the taxonomy) serves, after its own
//! demands, what their own stock left unserved, at its efficiency (`Substitute`).
//!
//! "After" is exact: a later pass never takes a unit an earlier pass allocated. It sees what
//! earlier passes left of every stock line and of every pool of units released at an incident
//! site, as batches (`residual_batches`); within a pass the allocation is optimal for the
//! drill's policy (`allocate`). So the objective is lexicographic by pass, in this order:
//! categories in `solve_order` (a category before every category that stands in for it; ties
//! by category index); for each, its own pass(es), then one substitute pass per category it
//! stands in for, in category order. A demand's residual goes to its substitutes in the
//! solving order; a substitute serves `ceil(residual ÷ efficiency)` of its own units, and each
//! unit served counts `efficiency` units of the demand. A unit released by any pass returns to
//! the pool of its own category at the incident site and serves later passes from there.
//!
//! The passes are ordinary allocation problems, so `allocate`'s optimality and `verify` hold
//! for each; `verify_shared` replays all passes of a category together against the stock and
//! pools they share (the "never oversubscribed" invariant across passes).

use std::collections::BTreeMap;

use super::allocate::{self, Batch, LimitExceeded, Line, Problem};
use super::candidates::{self, Solved, Start, Walks};
use super::{CategoryOutcome, DemandInfo, Drill, Policy, Source};
use crate::catalog::Catalog;
use crate::domain::{CategoryIdx, ChainStage, StockLineIdx};
use crate::error::Error;

/// Which stock serves which demands in one pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pass {
    /// The category's own demands; with `prefer_kinds`, from the preferred holders only.
    Own,
    /// What the preferred holders left of the category's own demands, from every holder.
    AfterPreferred,
    /// What another category's own stock (and its earlier substitutes) left unserved.
    Substitute { for_category: CategoryIdx, efficiency: f64 },
}

impl Pass {
    pub fn key(self) -> &'static str {
        match self {
            Pass::Own => "own",
            Pass::AfterPreferred => "after_preferred",
            Pass::Substitute { .. } => "substitute",
        }
    }
}

/// The categories to solve, in order: every category with demands and every category that
/// stands in for one of them; a category always before the categories that stand in for it
/// (the substitute graph is acyclic, checked at load), ties by category index.
pub fn solve_order(catalog: &Catalog, by_category: &[Vec<usize>]) -> Vec<CategoryIdx> {
    let n = catalog.categories.len();
    let mut included: Vec<bool> = by_category.iter().map(|ds| !ds.is_empty()).collect();
    for (c, category) in catalog.categories.iter().enumerate() {
        if !by_category[c].is_empty() {
            for substitute in &category.substitutes {
                included[substitute.category.0 as usize] = true;
            }
        }
    }
    // Kahn's algorithm over the edges "required → substitute", smallest index first.
    let mut indegree = vec![0usize; n];
    for (c, category) in catalog.categories.iter().enumerate() {
        if included[c] {
            for substitute in &category.substitutes {
                if included[substitute.category.0 as usize] {
                    indegree[substitute.category.0 as usize] += 1;
                }
            }
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|c| included[*c] && indegree[*c] == 0).collect();
    let mut order = Vec::new();
    while let Some(c) = ready.pop_first() {
        order.push(CategoryIdx(c as u32));
        for substitute in &catalog.categories[c].substitutes {
            let s = substitute.category.0 as usize;
            if included[s] {
                indegree[s] -= 1;
                if indegree[s] == 0 {
                    ready.insert(s);
                }
            }
        }
    }
    debug_assert_eq!(order.len(), included.iter().filter(|i| **i).count(), "acyclic");
    order
}

/// Solves categories pass by pass and keeps what every pass shipped.
pub struct Solver<'a> {
    catalog: &'a Catalog,
    drill: &'a Drill,
    policy: Policy,
    offline: &'a [bool],
    /// With `prefer_kinds`: also out for the first pass, every supplier of another kind.
    first_pass_offline: Option<Vec<bool>>,
    /// Per category: the categories it stands in for, with the efficiency, in index order.
    stands_in_for: Vec<Vec<(CategoryIdx, f64)>>,
    outcomes: Vec<CategoryOutcome>,
    /// Per category: indexes into `outcomes` of the passes that shipped its stock.
    shipped: Vec<Vec<usize>>,
    /// Per global demand: units of its category served so far (substitutes at efficiency).
    covered: Vec<f64>,
    /// Own-pass candidate searches of an earlier run of the same drill, to reuse when only
    /// demand units changed (`with_own_searches`).
    own_searches: Option<&'a OwnSearches>,
}

/// Per category: the own pass's walks over the category's lines (`candidates::Walks`) and the
/// (incident, stage) of each of its demands — valid for another run of the same drill whose
/// demands differ only in units.
pub type OwnSearches = BTreeMap<CategoryIdx, (Walks, Vec<(usize, ChainStage)>)>;

/// The own-pass searches of a run without `prefer_kinds`, for `Solver::with_own_searches`.
pub fn own_searches(outcomes: &[CategoryOutcome], demands: &[DemandInfo]) -> OwnSearches {
    outcomes
        .iter()
        .filter(|outcome| outcome.pass == Pass::Own)
        .map(|outcome| {
            let keys =
                outcome.demands.iter().map(|d| (demands[*d].incident, demands[*d].stage)).collect();
            (outcome.category, (outcome.walks.clone(), keys))
        })
        .collect()
}

impl<'a> Solver<'a> {
    pub fn new(
        catalog: &'a Catalog,
        drill: &'a Drill,
        policy: Policy,
        offline: &'a [bool],
        demands: &[DemandInfo],
    ) -> Solver<'a> {
        let first_pass_offline = (!drill.prefer_kinds.is_empty()).then(|| {
            catalog
                .suppliers
                .iter()
                .zip(offline)
                .map(|(supplier, out)| *out || !drill.prefer_kinds.contains(&supplier.kind))
                .collect()
        });
        let mut stands_in_for = vec![Vec::new(); catalog.categories.len()];
        for (c, category) in catalog.categories.iter().enumerate() {
            for substitute in &category.substitutes {
                stands_in_for[substitute.category.0 as usize]
                    .push((CategoryIdx(c as u32), substitute.efficiency));
            }
        }
        Solver {
            catalog,
            drill,
            policy,
            offline,
            first_pass_offline,
            stands_in_for,
            outcomes: Vec::new(),
            shipped: vec![Vec::new(); catalog.categories.len()],
            covered: vec![0.0; demands.len()],
            own_searches: None,
        }
    }

    /// Reuse these own-pass searches (from a run of the same drill, same what-ifs and
    /// deployments) wherever a category's demands are the same requirements: their walks over
    /// the category's lines are read again instead of searching the index; the answer is the
    /// one a fresh run gives. Ignored with `prefer_kinds`.
    pub fn with_own_searches(mut self, own_searches: &'a OwnSearches) -> Solver<'a> {
        self.own_searches = Some(own_searches);
        self
    }

    pub fn into_outcomes(self) -> Vec<CategoryOutcome> {
        self.outcomes
    }

    /// Every pass of one category: its own, then standing in for the categories it serves.
    /// Those categories must already be solved (`solve_order`). An error when a pass exceeds
    /// a limit of the allocation (nothing of it is kept).
    pub fn solve_category(
        &mut self,
        category: CategoryIdx,
        demands: &mut [DemandInfo],
        by_category: &[Vec<usize>],
    ) -> Result<(), Error> {
        let own = &by_category[category.0 as usize];
        if !own.is_empty() {
            let cached =
                self.own_searches.and_then(|cache| cache.get(&category)).filter(|(_, keys)| {
                    keys.len() == own.len()
                        && own
                            .iter()
                            .zip(keys)
                            .all(|(d, key)| (demands[*d].incident, demands[*d].stage) == *key)
                });
            match (&self.first_pass_offline, cached) {
                (None, cached) => {
                    // Cached walks spare the index search; the answer is a fresh solve's.
                    let start = Start { walks: cached.map(|(walks, _)| walks), ..Start::default() };
                    let solved = self.solve(category, Pass::Own, demands, own, &start)?;
                    self.push(category, Pass::Own, own.clone(), solved);
                }
                (Some(first_offline), _) => {
                    // The preferred holders alone, on a copy: single points of failure read
                    // every holder (set below).
                    let mut scratch: Vec<DemandInfo> =
                        own.iter().map(|d| demands[*d].clone()).collect();
                    let local: Vec<usize> = (0..scratch.len()).collect();
                    let solved = candidates::solve_category_from(
                        self.catalog,
                        self.drill,
                        first_offline,
                        category,
                        &mut scratch,
                        &local,
                        self.policy,
                        &Start::default(),
                    )
                    .map_err(|exceeded| self.exceeded(category, Pass::Own, exceeded))?;
                    self.push(category, Pass::Own, own.clone(), solved);
                    let mut rest: Vec<DemandInfo> =
                        own.iter().map(|d| demands[*d].clone()).collect();
                    for (k, d) in own.iter().enumerate() {
                        rest[k].units = residual_units(demands[*d].units, self.covered[*d], 1.0);
                    }
                    if rest.iter().any(|r| r.units > 0) {
                        let start = self.leftover(category);
                        let solved =
                            self.solve(category, Pass::AfterPreferred, &mut rest, &local, &start)?;
                        self.push(category, Pass::AfterPreferred, own.clone(), solved);
                    } else {
                        candidates::set_on_time_suppliers(
                            self.catalog,
                            self.drill,
                            self.offline,
                            category,
                            &mut rest,
                            &local,
                        );
                    }
                    for (k, d) in own.iter().enumerate() {
                        demands[*d].on_time_suppliers =
                            std::mem::take(&mut rest[k].on_time_suppliers);
                    }
                }
            }
        }
        let serves = self.stands_in_for[category.0 as usize].clone();
        for (for_category, efficiency) in serves {
            let mut ids = Vec::new();
            let mut scratch = Vec::new();
            for &d in &by_category[for_category.0 as usize] {
                let units = residual_units(demands[d].units, self.covered[d], efficiency);
                if units > 0 {
                    ids.push(d);
                    scratch.push(DemandInfo { units, ..demands[d].clone() });
                }
            }
            if ids.is_empty() {
                continue;
            }
            let local: Vec<usize> = (0..scratch.len()).collect();
            let pass = Pass::Substitute { for_category, efficiency };
            let start = self.leftover(category);
            let solved = self.solve(category, pass, &mut scratch, &local, &start)?;
            self.push(category, pass, ids, solved);
        }
        Ok(())
    }

    /// Solves one pass over every holder not offline (column generation from `start`).
    fn solve(
        &self,
        category: CategoryIdx,
        pass: Pass,
        infos: &mut [DemandInfo],
        demand_ids: &[usize],
        start: &Start,
    ) -> Result<Solved, Error> {
        candidates::solve_category_from(
            self.catalog,
            self.drill,
            self.offline,
            category,
            infos,
            demand_ids,
            self.policy,
            start,
        )
        .map_err(|exceeded| self.exceeded(category, pass, exceeded))
    }

    fn exceeded(&self, category: CategoryIdx, pass: Pass, exceeded: LimitExceeded) -> Error {
        Error::LimitExceeded {
            limit: exceeded.limit,
            subject: format!(
                "category {} ({} pass)",
                self.catalog.category(category).id,
                pass.key()
            ),
            description: exceeded.description,
        }
    }

    /// Records a solved pass.
    fn push(&mut self, category: CategoryIdx, pass: Pass, demands: Vec<usize>, solved: Solved) {
        debug_assert_eq!(allocate::verify(&solved.problem, &solved.allocation), Ok(()));
        let outcome = CategoryOutcome {
            category,
            pass,
            demands,
            lines: solved.lines,
            site_lines: solved.site_lines,
            offered: solved.offered,
            walks: solved.walks,
            problem: solved.problem,
            allocation: solved.allocation,
            rounds: solved.rounds,
            cut: solved.cut,
        };
        let efficiency = outcome.efficiency();
        for (k, d) in outcome.demands.iter().enumerate() {
            self.covered[*d] += outcome.allocation.served[k] as f64 * efficiency;
        }
        self.shipped[category.0 as usize].push(self.outcomes.len());
        self.outcomes.push(outcome);
    }

    /// What earlier passes of the category left (`leftover`).
    fn leftover(&self, category: CategoryIdx) -> Start<'static> {
        let prior: Vec<&CategoryOutcome> =
            self.shipped[category.0 as usize].iter().map(|o| &self.outcomes[*o]).collect();
        leftover(&prior, self.drill.incidents.len())
    }
}

/// What a later pass of a category starts from: of every stock line an earlier pass held,
/// what is left of the batches it was first offered with after every departure from it
/// (`residual_batches`); of every incident site where earlier passes released units, what is
/// left of them, as a pool. The same arithmetic as `residual_problem`, for `candidates`.
pub fn leftover(prior: &[&CategoryOutcome], n_incidents: usize) -> Start<'static> {
    if prior.is_empty() {
        return Start::default();
    }
    let usage = Usage::of(prior, n_incidents);
    let leftover = usage
        .original
        .iter()
        .map(|(line, original)| {
            let taken = usage.line_taken.get(line).map_or(&[][..], Vec::as_slice);
            (*line, residual_batches(original, taken))
        })
        .collect();
    let pools = usage
        .site
        .iter()
        .enumerate()
        .map(|(incident, events)| (incident, site_residual(events)))
        .filter(|(_, batches)| !batches.is_empty())
        .collect();
    Start { leftover, pools, walks: None }
}

/// What is left at a site of the units released there (+) after those that left (−).
fn site_residual(events: &[(f64, i64)]) -> Vec<Batch> {
    let released: Vec<Batch> = events
        .iter()
        .filter(|(_, units)| *units > 0)
        .map(|(at, units)| Batch { ready_hours: *at, units: *units })
        .collect();
    let taken: Vec<(f64, i64)> =
        events.iter().filter(|(_, units)| *units < 0).map(|(at, u)| (*at, -u)).collect();
    residual_batches(&released, &taken)
}

/// A later pass's problem: the batches of every stock line an earlier pass held become what
/// is left of them (`residual_batches` over the batches the line was first offered with and
/// every departure from it), and each incident site where earlier passes released units
/// becomes one more line (lead time 0, the site's travel times), in incident order; the
/// returned list names their incidents. `lines` are the problem's stock lines.
pub fn residual_problem(
    mut problem: Problem,
    lines: &[StockLineIdx],
    prior: &[&CategoryOutcome],
    n_incidents: usize,
) -> (Problem, Vec<usize>) {
    if prior.is_empty() {
        return (problem, Vec::new());
    }
    let usage = Usage::of(prior, n_incidents);
    for (l, line) in lines.iter().enumerate() {
        if let Some(original) = usage.original.get(line) {
            let taken = usage.line_taken.get(line).map_or(&[][..], Vec::as_slice);
            problem.lines[l].batches = residual_batches(original, taken);
        }
    }
    let mut site_lines = Vec::new();
    for (incident, events) in usage.site.iter().enumerate() {
        let batches = site_residual(events);
        if batches.is_empty() {
            continue;
        }
        problem.lines.push(Line { batches, lead_hours: 0.0 });
        problem
            .line_travel
            .push(problem.site_travel[incident].iter().map(|hours| Some(*hours)).collect());
        site_lines.push(incident);
    }
    (problem, site_lines)
}

/// Units of a category a demand still lacks, in units of the category serving it at
/// `efficiency`: `ceil((units − covered) ÷ efficiency)`, 0 when covered.
fn residual_units(units: i64, covered: f64, efficiency: f64) -> i64 {
    let left = units as f64 - covered;
    if left <= 1e-9 {
        0
    } else {
        (left / efficiency - 1e-9).ceil() as i64
    }
}

/// What earlier passes of one category did with its stock lines and site pools.
struct Usage {
    /// Per stock line: every batch it was first offered (the earliest pass that held it).
    original: BTreeMap<StockLineIdx, Vec<Batch>>,
    /// Per stock line: (departure, units) of every shipment from it.
    line_taken: BTreeMap<StockLineIdx, Vec<(f64, i64)>>,
    /// Per incident: (time, +units released there / −units leaving).
    site: Vec<Vec<(f64, i64)>>,
}

impl Usage {
    fn of(passes: &[&CategoryOutcome], n_incidents: usize) -> Usage {
        let mut usage = Usage {
            original: BTreeMap::new(),
            line_taken: BTreeMap::new(),
            site: vec![Vec::new(); n_incidents],
        };
        for pass in passes {
            for (line, offered) in pass.lines.iter().zip(&pass.offered) {
                usage.original.entry(*line).or_insert_with(|| offered.clone());
            }
            for shipment in &pass.allocation.shipments {
                match pass.source(shipment.origin) {
                    Source::Line(line) => usage
                        .line_taken
                        .entry(line)
                        .or_default()
                        .push((shipment.depart_hours, shipment.units)),
                    Source::Site(i) => usage.site[i].push((shipment.depart_hours, -shipment.units)),
                }
            }
            for (k, demand) in pass.problem.demands.iter().enumerate() {
                let served = pass.allocation.served[k];
                if served > 0 && demand.release_hours <= pass.problem.horizon_hours {
                    usage.site[demand.incident].push((demand.release_hours, served));
                }
            }
        }
        usage
    }
}

/// What a later pass may take from a supply without taking a unit an earlier pass took:
/// `F(t) = min over t' ≥ t of (ready by t' − taken by t')`, and a batch wherever F rises.
/// F never falls, so any schedule the batches allow, added to the earlier one, keeps the
/// supply non-negative at every moment — and F is the largest function that does.
pub fn residual_batches(ready: &[Batch], taken: &[(f64, i64)]) -> Vec<Batch> {
    let mut events: Vec<(f64, i64)> = ready.iter().map(|b| (b.ready_hours, b.units)).collect();
    events.extend(taken.iter().map(|(at, units)| (*at, -units)));
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Cumulative balance after all events at each distinct time.
    let mut times: Vec<(f64, i64)> = Vec::new();
    let mut balance = 0i64;
    for (at, change) in events {
        balance += change;
        match times.last_mut() {
            Some(last) if last.0 == at => last.1 = balance,
            _ => times.push((at, balance)),
        }
    }
    let mut floor = i64::MAX;
    for entry in times.iter_mut().rev() {
        floor = floor.min(entry.1);
        entry.1 = floor.max(0);
    }
    let mut batches = Vec::new();
    let mut previous = 0i64;
    for (at, level) in times {
        if level > previous {
            batches.push(Batch { ready_hours: at, units: level - previous });
            previous = level;
        }
    }
    batches
}

/// The shared-stock replay: for every category, all its passes together never ship more from
/// a stock line than its batches made ready by any moment (the batches of the pass that first
/// held the line, before any residual), and never more from an incident site than all passes
/// released there by then. Independent of `residual_batches`: it only adds up events.
pub fn verify_shared(outcomes: &[CategoryOutcome], n_incidents: usize) -> Result<(), String> {
    let mut by_category: BTreeMap<CategoryIdx, Vec<&CategoryOutcome>> = BTreeMap::new();
    for outcome in outcomes {
        by_category.entry(outcome.category).or_default().push(outcome);
    }
    for (category, passes) in by_category {
        let usage = Usage::of(&passes, n_incidents);
        let mut ledgers: Vec<(String, Vec<(f64, i64)>)> = Vec::new();
        for (line, batches) in &usage.original {
            let mut events: Vec<(f64, i64)> =
                batches.iter().map(|b| (b.ready_hours, b.units)).collect();
            for (at, units) in usage.line_taken.get(line).map_or(&[][..], Vec::as_slice) {
                events.push((*at, -units));
            }
            ledgers.push((format!("stock line {}", line.0), events));
        }
        for (i, events) in usage.site.into_iter().enumerate() {
            ledgers.push((format!("the site of incident {i}"), events));
        }
        for (what, mut events) in ledgers {
            events.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            let mut on_hand = 0i64;
            for (at, change) in events {
                on_hand += change;
                if on_hand < 0 {
                    return Err(format!(
                        "category {}: {what} is oversubscribed at {at} h ({on_hand}) across passes",
                        category.0
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod substitute_tests;
#[cfg(test)]
mod tests;
