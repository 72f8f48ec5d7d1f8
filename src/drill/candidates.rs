//! One category's allocation with candidate supply sized to the demand: start from the nearest
//! stock lines that cover each demand a few times over, solve, then let the solution's prices
//! say whether any other (line, demand) pair of the category could improve it; add those and
//! solve again, until none can (column generation). The answer is then optimal over *every*
//! stock line of the category, not over a fixed number of nearest candidates, and the network
//! stays as small as the demand allows. The argument is written out in
//! `scenarios/drills/README.md`; the tests hold it to a solve with every line present.
//!
//! The only use of the catalog's spatial index is `nearest_lines`, so a change of index meets
//! the drill in one function.

use std::collections::BTreeMap;

use super::allocate::{self, Feasibility, LimitExceeded, Pricing, Problem, Solver};
use super::{priority_weight, travel, DemandInfo, Drill, Policy};
use crate::catalog::Catalog;
use crate::domain::{great_circle_km, CategoryIdx, LatLon, PlaceIdx, StockLineIdx, Transport};

/// Surge production arrives in batches this far apart (hours): finer batches add nodes
/// without changing a plan by more than half a day of one line's output (MODEL).
pub const PRODUCTION_BATCH_HOURS: f64 = 12.0;
/// Where the search starts: per demand, the nearest useful lines until their supply covers
/// this many times its units. Only the work depends on it, never the answer (pricing adds
/// whatever else can improve it).
pub const INITIAL_SUPPLY_FACTOR: i64 = 2;
/// The most solve-and-price rounds per category. A category that reaches it keeps the best
/// answer over the lines it holds and is reported as cut.
pub const PRICING_ROUNDS_MAX: usize = 24;
/// The most (line, demand) pairs one category's network may hold, shared fairly: each demand
/// may hold `CANDIDATE_PAIRS_PER_CATEGORY_MAX / demands` of them, and at least
/// `CANDIDATE_PAIRS_PER_DEMAND_MIN`. A demand at its share takes no more pairs; if pricing
/// still finds one that might improve the answer, the category is reported as cut (its
/// answer is then optimal over the pairs it holds, not over every line of the category).
pub const CANDIDATE_PAIRS_PER_CATEGORY_MAX: usize = 4_096;
pub const CANDIDATE_PAIRS_PER_DEMAND_MIN: usize = 64;

/// The category's stock lines nearest first from `at`, each with a lower bound of its
/// great-circle distance in km, and the shortest lead time of any of them: everything the
/// drill asks of the catalog's spatial index.
fn nearest_lines(
    catalog: &Catalog,
    category: CategoryIdx,
    at: LatLon,
) -> (impl Iterator<Item = (u32, f64)> + '_, f64) {
    let index = catalog.category_index(category);
    // The engine's index yields each line's exact great-circle distance, nearest first: a
    // lower bound of itself, and of every line after it.
    let lines = catalog.nearest_lines(category, at).map(|(line, km)| (line.0, km));
    (lines, index.bounds.min_lead_time_hours)
}

/// A category's solved allocation and how it was reached.
#[derive(Debug, Clone)]
pub struct Solved {
    pub problem: Problem,
    /// The stock line of each problem line.
    pub lines: Vec<StockLineIdx>,
    pub allocation: allocate::Allocation,
    /// Solve-and-price rounds.
    pub rounds: usize,
    /// Whether a limit stopped the pricing before it proved the answer optimal over every
    /// line of the category (`CANDIDATE_PAIRS_PER_CATEGORY_MAX`, `PRICING_ROUNDS_MAX`).
    pub cut: bool,
}

/// A stock line admitted to the category's candidate set.
#[derive(Debug, Clone)]
struct Admitted {
    line_idx: u32,
    /// All its batches in ready order (on-hand stock, then surge production), and which of
    /// them the problem holds.
    batches: Vec<allocate::Batch>,
    included: Vec<bool>,
    /// Units of the batches the problem holds: the measure of how much a walk has gathered.
    units_held: i64,
}

/// The state of one category's column generation.
struct Category<'a> {
    catalog: &'a Catalog,
    drill: &'a Drill,
    offline: &'a [bool],
    transport: Transport,
    demands: Vec<allocate::Demand>,
    locations: Vec<LatLon>,
    /// The problem so far: admitted lines in the order they came, and their pairs.
    problem: Problem,
    /// Per problem line.
    admitted: Vec<Admitted>,
    /// Stock line → problem line.
    line_of: BTreeMap<u32, usize>,
    /// The solver of the cost phase, kept between rounds (it mirrors `problem`).
    solver: Option<Solver>,
    /// Pairs held per demand, and each demand's share of the category's pair limit.
    pairs_of: Vec<usize>,
    share: usize,
    /// Demands in order of their incident's start (then index).
    by_start: Vec<usize>,
    /// Per demand, its walk over the category's lines.
    walks: Vec<Walk<'a>>,
    /// The shortest lead time of any line of the category.
    min_lead_hours: f64,
}

/// One line on a demand's walk over the category, nearest first.
#[derive(Debug, Clone, Copy)]
struct Step {
    line_idx: u32,
    /// No line from here on can arrive earlier (the category's shortest lead time and the
    /// index's distance bound).
    arrive_bound: f64,
    /// Whether the line takes part at all (supplier not offline, stock or surge).
    eligible: bool,
    /// Hours on the road from the line to the demand.
    travel_hours: f64,
}

/// A demand's walk over the category's lines, nearest first, remembered so that each pricing
/// pass re-reads what earlier passes saw instead of searching the index again.
struct Walk<'a> {
    lines: Box<dyn Iterator<Item = (u32, f64)> + 'a>,
    seen: Vec<Step>,
}

/// What a pricing pass found.
#[derive(Debug, Clone, Copy, Default)]
struct Priced {
    /// It added pairs.
    added: bool,
    /// Some pair that might improve the answer was left out (a demand at its share, or a pass
    /// that was not to add anything).
    left_out: bool,
}

impl Category<'_> {
    /// The `i`-th nearest line of demand `d`'s walk, or `None` past the category's last line.
    fn step(&mut self, d: usize, i: usize) -> Option<Step> {
        if let Some(step) = self.walks[d].seen.get(i) {
            return Some(*step);
        }
        debug_assert_eq!(i, self.walks[d].seen.len());
        let (line_idx, km_lower_bound) = self.walks[d].lines.next()?;
        let scale = self.drill.what_if.road_factor_scale;
        let step = Step {
            line_idx,
            arrive_bound: self.demands[d].start_hours
                + self.min_lead_hours
                + travel(self.transport, km_lower_bound, scale),
            eligible: self.eligible(line_idx),
            travel_hours: self.travel_to(line_idx, d),
        };
        self.walks[d].seen.push(step);
        Some(step)
    }

    /// On-hand units after the what-if's stock factor.
    fn stock(&self, line_idx: u32) -> i64 {
        let line = self.catalog.stock_line(StockLineIdx(line_idx));
        (line.quantity_on_hand * self.drill.what_if.stock_factor).floor() as i64
    }

    /// A line takes part when its supplier is not offline and it has stock or surge.
    fn eligible(&self, line_idx: u32) -> bool {
        let line = self.catalog.stock_line(StockLineIdx(line_idx));
        !self.offline[line.supplier.0 as usize]
            && (self.stock(line_idx) >= 1
                || (self.drill.surge_production && line.surge_per_day > 0.0))
    }

    fn travel_to(&self, line_idx: u32, demand: usize) -> f64 {
        let line = self.catalog.stock_line(StockLineIdx(line_idx));
        let supplier = self.catalog.supplier(line.supplier);
        travel(
            self.transport,
            great_circle_km(self.locations[demand], supplier.location),
            self.drill.what_if.road_factor_scale,
        )
    }

    /// The earliest arrival of a line's unit at a demand (leaving at the incident's start plus
    /// the lead time; a line whose first batch is later cannot do better).
    fn earliest_arrival(&self, lead_hours: f64, travel_hours: f64, demand: usize) -> f64 {
        self.demands[demand].start_hours + lead_hours + travel_hours
    }

    /// Admits a line: its travel to every demand, its batches (surge starts when the first
    /// incident it can usefully serve orders it — a property of the line, not of the
    /// candidate set), no pairs yet, and its first batch (on-hand stock if any) as the only
    /// one held so far. Returns its problem index.
    fn admit(&mut self, line_idx: u32) -> usize {
        if let Some(&l) = self.line_of.get(&line_idx) {
            return l;
        }
        let line = self.catalog.stock_line(StockLineIdx(line_idx));
        // Demands in order of their incident's start: the first the line can usefully serve.
        let first_start = self
            .by_start
            .iter()
            .find(|&&d| {
                let arrive =
                    self.earliest_arrival(line.lead_time_hours, self.travel_to(line_idx, d), d);
                self.problem.useful(&self.demands[d], arrive)
            })
            .map_or(f64::INFINITY, |&d| self.demands[d].start_hours);
        let mut batches = Vec::new();
        let stock = self.stock(line_idx);
        if stock > 0 {
            batches.push(allocate::Batch { ready_hours: 0.0, units: stock });
        }
        if self.drill.surge_production && line.surge_per_day > 0.0 && first_start.is_finite() {
            let mut made = 0i64;
            let mut k = 1.0;
            while first_start + k * PRODUCTION_BATCH_HOURS <= self.drill.horizon_hours {
                let total = (line.surge_per_day * k * PRODUCTION_BATCH_HOURS / 24.0).floor() as i64;
                if total > made {
                    batches.push(allocate::Batch {
                        ready_hours: first_start + k * PRODUCTION_BATCH_HOURS,
                        units: total - made,
                    });
                    made = total;
                }
                k += 1.0;
            }
        }
        let l = self.admitted.len();
        let problem_line = allocate::Line { batches: Vec::new(), lead_hours: line.lead_time_hours };
        self.problem.lines.push(problem_line.clone());
        self.problem.line_travel.push(vec![None; self.demands.len()]);
        if let Some(solver) = &mut self.solver {
            solver.add_line(problem_line);
        }
        let included = vec![false; batches.len()];
        self.admitted.push(Admitted { line_idx, batches, included, units_held: 0 });
        self.line_of.insert(line_idx, l);
        if !self.admitted[l].batches.is_empty() {
            self.include(l, 0);
        }
        l
    }

    /// Adds batch `k` of problem line `l` to the problem.
    fn include(&mut self, l: usize, k: usize) {
        let admitted = &mut self.admitted[l];
        if admitted.included[k] {
            return;
        }
        admitted.included[k] = true;
        let batch = admitted.batches[k];
        admitted.units_held += batch.units;
        self.problem.lines[l].batches.push(batch);
        if let Some(solver) = &mut self.solver {
            solver.add_batch(l, batch);
        }
    }

    /// Adds the pair (line, demand), `travel` hours apart; false when the demand holds its
    /// share of the category's pair limit already.
    fn pair(&mut self, line_idx: u32, demand: usize, travel: f64) -> bool {
        if self.pairs_of[demand] >= self.share {
            return false;
        }
        let l = self.admit(line_idx);
        if self.problem.line_travel[l][demand].is_none() {
            self.problem.line_travel[l][demand] = Some(travel);
            if let Some(solver) = &mut self.solver {
                solver.add_pair(l, demand, travel);
            }
            self.pairs_of[demand] += 1;
        }
        true
    }

    /// The stock line of each problem line.
    fn lines(&self) -> Vec<StockLineIdx> {
        self.admitted.iter().map(|a| StockLineIdx(a.line_idx)).collect()
    }

    /// The starting candidates, and each demand's on-time suppliers (single points of
    /// failure): per demand, nearest first, the useful lines until their supply covers
    /// `INITIAL_SUPPLY_FACTOR` × its units, and the lines that can be there by the deadline from
    /// stock until two homes (place or base) are seen.
    fn seed(&mut self, infos: &mut [DemandInfo], demand_ids: &[usize]) {
        for d in 0..self.demands.len() {
            let demand = self.demands[d].clone();
            let quota = INITIAL_SUPPLY_FACTOR.saturating_mul(demand.units);
            let mut gathered = 0i64;
            let mut on_time = Vec::new();
            let mut homes: Option<(PlaceIdx, bool)> = None;
            for i in 0.. {
                let Some(step) = self.step(d, i) else { break };
                let (line_idx, arrive_bound) = (step.line_idx, step.arrive_bound);
                if !self.problem.useful(&demand, arrive_bound) {
                    break;
                }
                let spof_known = homes.is_some_and(|(_, two)| two)
                    || arrive_bound > demand.deadline_hours + 1e-9;
                if gathered >= quota && spof_known {
                    break;
                }
                if !step.eligible {
                    continue;
                }
                let line = self.catalog.stock_line(StockLineIdx(line_idx));
                let arrive = self.earliest_arrival(line.lead_time_hours, step.travel_hours, d);
                if !spof_known
                    && arrive <= demand.deadline_hours + 1e-9
                    && self.stock(line_idx) >= 1
                {
                    let supplier = self.catalog.supplier(line.supplier);
                    let home = supplier.base.unwrap_or(supplier.place);
                    homes = Some(match homes {
                        None => (home, false),
                        Some((first, two)) => (first, two || first != home),
                    });
                    on_time.push(line.supplier);
                }
                if gathered < quota && self.problem.useful(&demand, arrive) {
                    gathered = if self.pair(line_idx, d, step.travel_hours) {
                        gathered + self.admitted[self.line_of[&line_idx]].units_held
                    } else {
                        quota
                    };
                }
            }
            on_time.sort_unstable();
            on_time.dedup();
            infos[demand_ids[d]].on_time_suppliers = on_time;
        }
    }

    /// One pricing pass: per demand whose threshold is positive, nearest first, every arc
    /// from a batch to the demand that the problem lacks (the batch not held, or its line not
    /// paired with the demand) and that `pricing` says might improve the answer, until the
    /// pass has gathered `quota(d)` units for the demand or no further line can (the lower
    /// bound of the cost of every line further away reaches the threshold). Adds them — the
    /// batch and the pair — only if `add`.
    fn price(&mut self, pricing: &Pricing, quota: &dyn Fn(usize) -> i64, add: bool) -> Priced {
        let mut priced = Priced::default();
        for d in 0..self.demands.len() {
            let threshold = pricing.thresholds[d];
            if threshold <= 0 {
                continue;
            }
            let demand = self.demands[d].clone();
            let quota = quota(d);
            let mut gathered = 0i64;
            'lines: for i in 0.. {
                let Some(step) = self.step(d, i) else { break };
                let (line_idx, arrive_bound) = (step.line_idx, step.arrive_bound);
                if !self.problem.useful(&demand, arrive_bound)
                    || demand.weight * self.problem.lateness_steps(&demand, arrive_bound)
                        >= threshold
                    || gathered >= quota
                {
                    break;
                }
                if !step.eligible {
                    continue;
                }
                let held = self.line_of.get(&line_idx).copied();
                let line = self.catalog.stock_line(StockLineIdx(line_idx));
                let earliest = demand.start_hours + line.lead_time_hours;
                // A line not admitted yet: its best arc leaves at the earliest departure (a
                // lower bound for every batch); admit it only if that could improve.
                let l = match held {
                    Some(l) => l,
                    None => {
                        let arrive = earliest + step.travel_hours;
                        let cost = demand.weight * self.problem.lateness_steps(&demand, arrive);
                        if !self.problem.useful(&demand, arrive)
                            || !pricing.might_improve(None, d, cost)
                        {
                            continue;
                        }
                        if !add {
                            priced.left_out = true;
                            break;
                        }
                        self.admit(line_idx)
                    }
                };
                let paired = self.problem.line_travel[l][d].is_some();
                let travel_hours = step.travel_hours;
                for k in 0..self.admitted[l].batches.len() {
                    let batch = self.admitted[l].batches[k];
                    let included = self.admitted[l].included[k];
                    if included && paired {
                        continue;
                    }
                    let arrive = batch.ready_hours.max(earliest) + travel_hours;
                    let cost = demand.weight * self.problem.lateness_steps(&demand, arrive);
                    // A batch not held is a fresh column; a held one keeps its line's pricing.
                    let column = if included { held } else { None };
                    // Later batches arrive no earlier: nothing further of this line can help.
                    if !self.problem.useful(&demand, arrive) || cost >= threshold {
                        break;
                    }
                    if !pricing.might_improve(column, d, cost) {
                        continue;
                    }
                    if !add || !self.pair(line_idx, d, travel_hours) {
                        priced.left_out = true;
                        break 'lines;
                    }
                    self.include(l, k);
                    priced.added = true;
                    gathered += batch.units;
                    if gathered >= quota {
                        break;
                    }
                }
            }
        }
        priced
    }
}

/// How many pairs a category may hold (`CANDIDATE_PAIRS_PER_CATEGORY_MAX`,
/// `CANDIDATE_PAIRS_PER_DEMAND_MIN`; tests lower them to see a category cut).
#[derive(Debug, Clone, Copy)]
struct PairLimits {
    per_category: usize,
    per_demand_min: usize,
}

const PAIR_LIMITS: PairLimits = PairLimits {
    per_category: CANDIDATE_PAIRS_PER_CATEGORY_MAX,
    per_demand_min: CANDIDATE_PAIRS_PER_DEMAND_MIN,
};

/// Solves one category of a drill under `policy`, growing its candidate set by pricing. Sets
/// each of its demands' on-time suppliers in `infos`.
pub fn solve_category(
    catalog: &Catalog,
    drill: &Drill,
    offline: &[bool],
    category: CategoryIdx,
    infos: &mut [DemandInfo],
    demand_ids: &[usize],
    policy: Policy,
) -> Result<Solved, LimitExceeded> {
    let mut state =
        Category::new(catalog, drill, offline, category, infos, demand_ids, PAIR_LIMITS);
    state.seed(infos, demand_ids);
    state.solve(policy)
}

impl<'a> Category<'a> {
    /// A category's state before any line is admitted.
    fn new(
        catalog: &'a Catalog,
        drill: &'a Drill,
        offline: &'a [bool],
        category: CategoryIdx,
        infos: &[DemandInfo],
        demand_ids: &[usize],
        limits: PairLimits,
    ) -> Category<'a> {
        let transport = catalog.category(category).transport;
        let scale = drill.what_if.road_factor_scale;
        let demands: Vec<allocate::Demand> = demand_ids
            .iter()
            .map(|&d| {
                let info = &infos[d];
                allocate::Demand {
                    incident: info.incident,
                    start_hours: drill.incidents[info.incident].start_hours,
                    deadline_hours: info.deadline_hours,
                    release_hours: info.release_hours,
                    units: info.units,
                    weight: priority_weight(info.priority),
                }
            })
            .collect();
        let locations: Vec<LatLon> =
            demand_ids.iter().map(|&d| drill.incidents[infos[d].incident].location).collect();
        let site_travel = drill
            .incidents
            .iter()
            .map(|from| {
                locations
                    .iter()
                    .map(|to| travel(transport, great_circle_km(from.location, *to), scale))
                    .collect()
            })
            .collect();
        let n_demands = demands.len();
        let mut min_lead_hours = 0.0;
        let walks = locations
            .iter()
            .map(|at| {
                let (lines, min_lead) = nearest_lines(catalog, category, *at);
                min_lead_hours = min_lead;
                Walk { lines: Box::new(lines), seen: Vec::new() }
            })
            .collect();
        let mut by_start: Vec<usize> = (0..n_demands).collect();
        by_start.sort_by(|a, b| demands[*a].start_hours.total_cmp(&demands[*b].start_hours));
        let problem = Problem {
            step_hours: drill.time_step_hours,
            horizon_hours: drill.horizon_hours,
            n_incidents: drill.incidents.len(),
            lines: Vec::new(),
            demands: demands.clone(),
            line_travel: Vec::new(),
            site_travel,
        };
        Category {
            catalog,
            drill,
            offline,
            transport,
            demands,
            locations,
            problem,
            admitted: Vec::new(),
            line_of: BTreeMap::new(),
            solver: None,
            pairs_of: vec![0; n_demands],
            share: (limits.per_category / n_demands.max(1)).max(limits.per_demand_min),
            by_start,
            walks,
            min_lead_hours,
        }
    }

    /// Column generation from the seeded candidates: solve, price, add, until nothing more
    /// might improve the answer or a limit stops it.
    fn solve(mut self, policy: Policy) -> Result<Solved, LimitExceeded> {
        let state = &mut self;
        // Equity: the level proved feasible so far, whether no line can raise it, and whether
        // a limit stopped that proof.
        let mut level: allocate::Level = (0, 1);
        let (mut level_final, mut level_cut) = (false, false);
        let mut rounds = 0;
        let mut finishing = false;
        loop {
            rounds += 1;
            // The last round solves what it holds and only asks whether more could help.
            let last_round = rounds >= PRICING_ROUNDS_MAX;
            let growth = 1i64 << rounds.min(20);
            if policy == Policy::Equity && !level_final {
                let mut feasibility = Feasibility::new(&state.problem)?;
                level = allocate::equity_level(&state.problem, level, &mut feasibility);
                match allocate::next_level(&state.problem, level) {
                    None => level_final = true,
                    Some(next) => {
                        let up = allocate::floors_at(&state.problem, next);
                        if feasibility.feasible(&state.problem, &up) {
                            // The search ran out of steps below a feasible level: go on.
                            level = next;
                            continue;
                        }
                        let pricing = feasibility.pricing(&state.problem);
                        let quota = |d: usize| up[d].max(1).saturating_mul(growth);
                        let priced = state.price(&pricing, &quota, !last_round);
                        if priced.added {
                            continue;
                        }
                        // No line of the category can raise the level, or a limit kept out
                        // one that might: the level is final either way.
                        level_final = true;
                        level_cut = priced.left_out;
                    }
                }
            }
            let solver = match &mut state.solver {
                Some(solver) => solver,
                None => {
                    let floors = (policy == Policy::Equity)
                        .then(|| allocate::floors_at(&state.problem, level));
                    state.solver.insert(Solver::new(state.problem.clone(), floors.as_deref())?)
                }
            };
            let (allocation, _, pricing) = solver.solve()?;
            let short: Vec<i64> = on_time_short(&state.problem, &allocation);
            let quota = |d: usize| short[d].max(1).saturating_mul(growth);
            let priced = state.price(&pricing, &quota, !last_round && !finishing);
            // A demand at its share while others still grow: the category is cut either way, so
            // one more solve with what this pass added, and stop.
            finishing |= priced.left_out;
            if !priced.added {
                let cut = level_cut || priced.left_out;
                let problem = match state.solver.take() {
                    Some(solver) => solver.into_problem(),
                    None => state.problem.clone(),
                };
                return Ok(Solved { problem, lines: state.lines(), allocation, rounds, cut });
            }
        }
    }
}

/// Per demand: units not delivered by the deadline (late or never).
fn on_time_short(problem: &Problem, allocation: &allocate::Allocation) -> Vec<i64> {
    let mut on_time = vec![0i64; problem.demands.len()];
    for shipment in &allocation.shipments {
        if shipment.lateness_steps == 0 {
            on_time[shipment.demand] += shipment.units;
        }
    }
    problem.demands.iter().zip(&on_time).map(|(d, t)| d.units - t).collect()
}

#[cfg(test)]
mod tests;
