//! One category's allocation with candidate supply sized to the demand: start from the nearest
//! stock lines that cover each demand a few times over, solve, then let the solution's prices
//! say whether any other (line, demand) pair of the category could improve it; add those and
//! solve again, until none can (column generation). The answer is then optimal over *every*
//! stock line of the category, not over a fixed number of nearest candidates, and the network
//! stays as small as the demand allows. The argument is written out in
//! `scenarios/drills/README.md`; the tests hold it to a solve with every line present.
//!
//! A later pass of a category (`passes`) starts from what earlier passes left (`Start`): the
//! stock lines they held offer only their leftover batches, and the units they released at
//! incident sites are pools (lines with no lead time, paired with every demand from the
//! start). Pricing runs over the rest exactly as for a first pass, so every pass is optimal
//! over every stock line of the category and every pool. A start may also hand over the walks
//! of an earlier solve of the same demands (`Walks`; the sweep's steps, where only units
//! change), so that the index is not searched again: the walks do not depend on units, so the
//! answer is the one a fresh solve gives.
//!
//! The only use of the catalog's spatial index is `nearest_lines`, so a change of index meets
//! the drill in one function.

use std::collections::BTreeMap;

use super::allocate::{self, Feasibility, LimitExceeded, Pricing, Problem, Solver};
use super::{priority_weight, travel, DemandInfo, Drill, Policy};
use crate::catalog::Catalog;
use crate::domain::{
    great_circle_km, great_circle_km_units, CategoryIdx, LatLon, PlaceIdx, StockLineIdx, Transport,
};

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

/// When at most this share of a category's lines belongs to suppliers that are not offline
/// (e.g. a standing-resources run with every manufacturer offline), each demand's walk is a
/// sort of those lines by distance instead of the index's nearest-first search: the index
/// cannot skip offline suppliers, so its walk would read every offline line to prove that no
/// online one is left (measured at 1e6 lines with 44 standing holders: a 100-incident drill
/// took 12.8× 100 Matches, against 2.5× without standing holders).
pub const SCAN_ONLINE_SHARE_MAX: f64 = 0.125;

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

/// The category's lines whose supplier is not offline, nearest first from `at`, each with
/// its exact great-circle distance (a lower bound of itself and of every line after it, as
/// `nearest_lines` gives); ties by line index.
fn nearest_online_lines(
    catalog: &Catalog,
    online: &[u32],
    at: LatLon,
) -> impl Iterator<Item = (u32, f64)> + 'static {
    let at = at.unit_vector();
    let mut lines: Vec<(u32, f64)> = online
        .iter()
        .map(|&line| {
            let supplier = catalog.stock_line(StockLineIdx(line)).supplier;
            (line, great_circle_km_units(at, catalog.supplier_point(supplier).unit))
        })
        .collect();
    lines.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    lines.into_iter()
}

/// Hours on the road from each incident's site to each demand's place (the pools' travel).
fn site_travel(drill: &Drill, transport: Transport, locations: &[LatLon]) -> Vec<Vec<f64>> {
    let scale = drill.what_if.road_factor_scale;
    drill
        .incidents
        .iter()
        .map(|from| {
            locations
                .iter()
                .map(|to| travel(transport, great_circle_km(from.location, *to), scale))
                .collect()
        })
        .collect()
}

/// The category's lines whose supplier is not offline, when they are few enough that the
/// walks sort them instead of searching the index (`SCAN_ONLINE_SHARE_MAX`).
fn scanned_online_lines(
    catalog: &Catalog,
    category: CategoryIdx,
    offline: &[bool],
    limits: PairLimits,
) -> Option<Vec<u32>> {
    if !offline.contains(&true) {
        return None;
    }
    let category_lines = catalog.category_lines(category);
    let online: Vec<u32> = category_lines
        .clone()
        .filter(|&line| !offline[catalog.stock_lines[line].supplier.0 as usize])
        .map(|line| line as u32)
        .collect();
    let few = online.len() as f64 <= limits.scan_online_share_max * category_lines.len() as f64;
    few.then_some(online)
}

/// What a solve starts from besides the category's stock lines as the catalog has them.
#[derive(Debug, Clone, Default)]
pub struct Start<'p> {
    /// Per stock line an earlier pass held: what it left of the line's batches. They replace
    /// the line's own batches (an empty list takes the line out).
    pub leftover: BTreeMap<StockLineIdx, Vec<allocate::Batch>>,
    /// Units earlier passes released at incident sites, per incident (in incident order): each
    /// a problem line with no lead time, every batch held and every demand paired at the
    /// site's travel times (`Problem::site_travel`).
    pub pools: Vec<(usize, Vec<allocate::Batch>)>,
    /// The walks of an earlier solve of the same demands (units aside) with no leftover: read
    /// before searching the index again. Ignored with a leftover, or for other demands.
    pub walks: Option<&'p Walks>,
}

/// Per demand, the lines its walk over the category read, nearest first (`Start::walks`).
/// They depend on the demand's place, start and category, the offline suppliers and the
/// what-ifs — not on units.
#[derive(Debug, Clone, Default)]
pub struct Walks(Vec<Vec<Step>>);

/// A category's solved allocation and how it was reached.
#[derive(Debug, Clone)]
pub struct Solved {
    /// Stock lines first (`lines`), then the pools (`site_lines`).
    pub problem: Problem,
    /// The stock line of each problem line, in order; the problem lines past them are pools.
    pub lines: Vec<StockLineIdx>,
    /// The incident of each pool, in order.
    pub site_lines: Vec<usize>,
    /// Per stock line: every batch it was offered (the problem holds those pricing included).
    pub offered: Vec<Vec<allocate::Batch>>,
    /// What the demands' walks read (`Start::walks`).
    pub walks: Walks,
    pub allocation: allocate::Allocation,
    /// Solve-and-price rounds.
    pub rounds: usize,
    /// Whether a limit stopped the pricing before it proved the answer optimal over every
    /// line of the category (`CANDIDATE_PAIRS_PER_CATEGORY_MAX`, `PRICING_ROUNDS_MAX`).
    pub cut: bool,
}

/// A stock line admitted to the category's candidate set, or a pool of released units.
#[derive(Debug, Clone)]
struct Admitted {
    line_idx: u32,
    /// The incident of a pool (`Start::pools`); `line_idx` is then meaningless.
    pool: Option<usize>,
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
    /// Per demand, its place as a unit vector (`LatLon::unit_vector`): travel is measured as
    /// the engine measures, from the suppliers' unit vectors (`great_circle_km_units`), so a
    /// walk's distances are the travel's own.
    units: Vec<[f64; 3]>,
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
    /// `Start::leftover`, by line index.
    leftover: BTreeMap<u32, Vec<allocate::Batch>>,
    /// The walks are sorts of the online lines (`SCAN_ONLINE_SHARE_MAX`), not index searches
    /// (read by the tests, which count the categories that took that path).
    #[cfg_attr(not(test), allow(dead_code))]
    scanned: bool,
}

/// One line on a demand's walk over the category, nearest first.
#[derive(Debug, Clone, Copy)]
pub struct Step {
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
        // The walks give each line's exact distance (`great_circle_km_units`, what
        // `travel_to` computes), a lower bound of every line after it.
        let (line_idx, km) = self.walks[d].lines.next()?;
        let travel_hours = travel(self.transport, km, self.drill.what_if.road_factor_scale);
        debug_assert_eq!(travel_hours, self.travel_to(line_idx, d));
        let step = Step {
            line_idx,
            arrive_bound: self.demands[d].start_hours + self.min_lead_hours + travel_hours,
            eligible: self.eligible(line_idx),
            travel_hours,
        };
        self.walks[d].seen.push(step);
        Some(step)
    }

    /// On-hand units after the what-if's stock factor.
    fn stock(&self, line_idx: u32) -> i64 {
        let line = self.catalog.stock_line(StockLineIdx(line_idx));
        (line.quantity_on_hand * self.drill.what_if.stock_factor).floor() as i64
    }

    /// A line takes part when its supplier is not offline and it has stock or surge (or, held
    /// by an earlier pass, something left).
    fn eligible(&self, line_idx: u32) -> bool {
        let line = self.catalog.stock_line(StockLineIdx(line_idx));
        if let Some(left) = self.leftover.get(&line_idx) {
            return !self.offline[line.supplier.0 as usize] && !left.is_empty();
        }
        !self.offline[line.supplier.0 as usize]
            && (self.stock(line_idx) >= 1
                || (self.drill.surge_production && line.surge_per_day > 0.0))
    }

    fn travel_to(&self, line_idx: u32, demand: usize) -> f64 {
        let line = self.catalog.stock_line(StockLineIdx(line_idx));
        let point = self.catalog.supplier_point(line.supplier);
        travel(
            self.transport,
            great_circle_km_units(self.units[demand], point.unit),
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
        let batches = match self.leftover.get(&line_idx) {
            Some(left) => left.clone(),
            None => self.fresh_batches(line_idx),
        };
        let l = self.admitted.len();
        let problem_line = allocate::Line { batches: Vec::new(), lead_hours: line.lead_time_hours };
        self.problem.lines.push(problem_line.clone());
        self.problem.line_travel.push(vec![None; self.demands.len()]);
        if let Some(solver) = &mut self.solver {
            solver.add_line(problem_line);
        }
        let included = vec![false; batches.len()];
        self.admitted.push(Admitted { line_idx, pool: None, batches, included, units_held: 0 });
        self.line_of.insert(line_idx, l);
        if !self.admitted[l].batches.is_empty() {
            self.include(l, 0);
        }
        l
    }

    /// A line's batches when no earlier pass held it: on-hand stock, then surge production
    /// from when the first incident it can usefully serve orders it.
    fn fresh_batches(&self, line_idx: u32) -> Vec<allocate::Batch> {
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
        batches
    }

    /// Adds the pools of released units (before any stock line, so before any solve): every
    /// batch held, every demand paired, outside the pair limits (they are not columns).
    fn add_pools(&mut self, pools: &[(usize, Vec<allocate::Batch>)]) {
        debug_assert!(self.admitted.is_empty() && self.solver.is_none());
        for (incident, batches) in pools {
            if batches.is_empty() {
                continue;
            }
            let travel = self.problem.site_travel[*incident].iter().map(|h| Some(*h)).collect();
            self.problem.lines.push(allocate::Line { batches: batches.clone(), lead_hours: 0.0 });
            self.problem.line_travel.push(travel);
            self.admitted.push(Admitted {
                line_idx: u32::MAX,
                pool: Some(*incident),
                batches: batches.clone(),
                included: vec![true; batches.len()],
                units_held: batches.iter().map(|b| b.units).sum(),
            });
        }
    }

    /// The answer with the stock lines first and the pools after them (`Solved`'s order).
    fn finish(
        &mut self,
        mut problem: Problem,
        mut allocation: allocate::Allocation,
        rounds: usize,
        cut: bool,
    ) -> Solved {
        let stock = self.admitted.iter().enumerate().filter(|(_, a)| a.pool.is_none());
        let pools = self.admitted.iter().enumerate().filter(|(_, a)| a.pool.is_some());
        let order: Vec<usize> = stock.chain(pools).map(|(l, _)| l).collect();
        let lines = self.admitted.iter().filter(|a| a.pool.is_none());
        let solved_lines: Vec<StockLineIdx> =
            lines.clone().map(|a| StockLineIdx(a.line_idx)).collect();
        let offered = lines.map(|a| a.batches.clone()).collect();
        let site_lines = self.admitted.iter().filter_map(|a| a.pool).collect();
        if order.iter().enumerate().any(|(new, old)| new != *old) {
            let mut new_of = vec![0; order.len()];
            for (new, old) in order.iter().enumerate() {
                new_of[*old] = new;
            }
            problem.lines = order.iter().map(|old| problem.lines[*old].clone()).collect();
            problem.line_travel =
                order.iter().map(|old| problem.line_travel[*old].clone()).collect();
            for shipment in &mut allocation.shipments {
                if let allocate::Origin::Line(l) = shipment.origin {
                    shipment.origin = allocate::Origin::Line(new_of[l]);
                }
            }
            allocate::sort_shipments(&mut allocation.shipments);
        }
        let walks = Walks(self.walks.iter_mut().map(|w| std::mem::take(&mut w.seen)).collect());
        Solved { problem, lines: solved_lines, site_lines, offered, walks, allocation, rounds, cut }
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
    /// `SCAN_ONLINE_SHARE_MAX` (tests raise it to check the scan against the twin).
    scan_online_share_max: f64,
}

const PAIR_LIMITS: PairLimits = PairLimits {
    per_category: CANDIDATE_PAIRS_PER_CATEGORY_MAX,
    per_demand_min: CANDIDATE_PAIRS_PER_DEMAND_MIN,
    scan_online_share_max: SCAN_ONLINE_SHARE_MAX,
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
    let start = Start::default();
    solve_category_from(catalog, drill, offline, category, infos, demand_ids, policy, &start)
}

/// `solve_category` from what earlier passes left, or with an earlier solve's walks (`Start`).
/// Sets the demands' on-time suppliers in `infos` (over every line not offline, whatever
/// earlier passes took).
#[allow(clippy::too_many_arguments)]
pub fn solve_category_from(
    catalog: &Catalog,
    drill: &Drill,
    offline: &[bool],
    category: CategoryIdx,
    infos: &mut [DemandInfo],
    demand_ids: &[usize],
    policy: Policy,
    start: &Start,
) -> Result<Solved, LimitExceeded> {
    let mut state =
        Category::new(catalog, drill, offline, category, infos, demand_ids, PAIR_LIMITS);
    state.start(start);
    state.seed(infos, demand_ids);
    state.solve(policy)
}

/// Only the demands' on-time suppliers (`DemandInfo::on_time_suppliers`) over every line not
/// offline: what `solve_category` sets, without solving.
pub fn set_on_time_suppliers(
    catalog: &Catalog,
    drill: &Drill,
    offline: &[bool],
    category: CategoryIdx,
    infos: &mut [DemandInfo],
    demand_ids: &[usize],
) {
    let mut state =
        Category::new(catalog, drill, offline, category, infos, demand_ids, PAIR_LIMITS);
    state.seed(infos, demand_ids);
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
        let site_travel = site_travel(drill, transport, &locations);
        let n_demands = demands.len();
        let mut min_lead_hours = catalog.category_index(category).bounds.min_lead_time_hours;
        let online = scanned_online_lines(catalog, category, offline, limits);
        let scanned = online.is_some();
        let walks = locations
            .iter()
            .map(|at| match &online {
                Some(online) => Walk {
                    lines: Box::new(nearest_online_lines(catalog, online, *at)),
                    seen: Vec::new(),
                },
                None => {
                    let (lines, min_lead) = nearest_lines(catalog, category, *at);
                    min_lead_hours = min_lead;
                    Walk { lines: Box::new(lines), seen: Vec::new() }
                }
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
            units: locations.iter().map(|at| at.unit_vector()).collect(),
            problem,
            admitted: Vec::new(),
            line_of: BTreeMap::new(),
            solver: None,
            pairs_of: vec![0; n_demands],
            share: (limits.per_category / n_demands.max(1)).max(limits.per_demand_min),
            by_start,
            walks,
            min_lead_hours,
            leftover: BTreeMap::new(),
            scanned,
        }
    }

    /// Takes in what earlier passes left (`Start::leftover`, `Start::pools`), or the walks of
    /// an earlier solve (`Start::walks`): each demand's walk reads them first, and searches the
    /// index past them only when it needs more.
    fn start(&mut self, start: &Start) {
        self.leftover = start.leftover.iter().map(|(line, left)| (line.0, left.clone())).collect();
        self.add_pools(&start.pools);
        let Some(Walks(walked)) = start.walks else { return };
        if !self.leftover.is_empty() || walked.len() != self.walks.len() {
            return;
        }
        for (walk, seen) in self.walks.iter_mut().zip(walked) {
            let lines = std::mem::replace(&mut walk.lines, Box::new(std::iter::empty()));
            walk.lines = Box::new(lines.skip(seen.len()));
            walk.seen = seen.clone();
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
                return Ok(state.finish(problem, allocation, rounds, cut));
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
