//! The allocation of one category's units across a drill's requirements over time, optimal
//! for a stated policy: a min-cost flow on a time-expanded network (the model is written out
//! in `scenarios/drills/README.md`).
//!
//! Nodes: a source; per supply line, one node per batch it holds; per demand, an inlet and an
//! outlet; per incident site, nodes at the times equipment is released there, joined by free
//! hold arcs; a sink. Arcs:
//!
//! - source → batch node: the batch's units, cost 0;
//! - batch node → demand inlet, for each demand the line is paired with, leaving at
//!   `max(ready, incident start + lead time)` (waiting longer never helps: lateness only grows
//!   with the arrival) if the arrival is strictly before the demand's release: cost
//!   `weight × lateness_steps(arrival)`;
//! - site node at τ → demand inlet, for every departure `max(τ, incident start)` whose arrival is
//!   strictly before the demand's release (of the nodes up to the start only the last);
//! - inlet → outlet: the demand's units, cost `-weight × (H + 1)` (serving a unit pays back the
//!   cost of leaving it unmet, see the objective below); under the equity policy this arc is
//!   split in a floor part with an extra reward that dominates everything else;
//! - outlet → site node at the release time (or → sink when the release is past the horizon):
//!   the equipment returns to a pool at the incident site and can be redeployed;
//! - the last site node → sink.
//!
//! A problem need not hold every batch of a line nor pair every line with every demand:
//! `candidates` grows both by pricing (column generation), and `Solver` keeps the network and
//! the simplex between rounds, so a round only adds nodes and arcs.
//!
//! Every arc goes forward in time (arrival < release), so the network is acyclic.

use super::flow::{ArcId, Network, Simplex, UNBOUNDED};

/// The most demands one category may have in a drill.
pub const DEMANDS_PER_CATEGORY_MAX: usize = 100_000;
/// The most supply lines one category network may hold.
pub const LINES_PER_CATEGORY_MAX: usize = 100_000;
/// The most equity feasibility checks per level search (bisection of λ, then of the candidate
/// levels: 20 + log2 of the levels in one grid cell stay well under it).
pub const EQUITY_SEARCH_STEPS_MAX: usize = 40;

/// What the allocation optimises (both are stated exactly in the drill README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    /// Least total priority-weighted lateness, an unmet unit costing `H + 1` steps.
    Efficiency,
    /// First the largest λ such that every demand gets at least `ceil(λ × units)` units; then
    /// the efficiency objective subject to those floors.
    Equity,
}

impl Policy {
    pub const ALL: [Policy; 2] = [Policy::Efficiency, Policy::Equity];

    pub fn key(self) -> &'static str {
        match self {
            Policy::Efficiency => "efficiency",
            Policy::Equity => "equity",
        }
    }

    pub fn parse(text: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|policy| policy.key() == text)
    }
}

/// Units of a supply line that become free to leave at a time (hours from the drill start).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch {
    pub ready_hours: f64,
    pub units: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The batches the problem holds (any order).
    pub batches: Vec<Batch>,
    /// Hours from an incident's order to the first departure.
    pub lead_hours: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    pub incident: usize,
    /// The incident's start: no unit leaves for it earlier.
    pub start_hours: f64,
    /// Start + the requirement's window.
    pub deadline_hours: f64,
    /// Deadline + the category's deployment: later arrivals are useless, and every unit
    /// serving the demand is released at this time at the incident site.
    pub release_hours: f64,
    pub units: i64,
    /// Priority weight (critical 3, important 2, supporting 1).
    pub weight: i64,
}

/// One category's allocation problem. Travel times are given, so this part knows no geography.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub step_hours: f64,
    pub horizon_hours: f64,
    pub n_incidents: usize,
    pub lines: Vec<Line>,
    pub demands: Vec<Demand>,
    /// `line_travel[line][demand]`: hours on the road, `None` when the line is not a
    /// candidate for the demand.
    pub line_travel: Vec<Vec<Option<f64>>>,
    /// `site_travel[incident][demand]`: hours from an incident site to a demand's site.
    pub site_travel: Vec<Vec<f64>>,
}

/// Where a shipment leaves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    Line(usize),
    /// Equipment released at an incident site, redeployed.
    Site(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shipment {
    pub origin: Origin,
    pub demand: usize,
    pub depart_hours: f64,
    pub arrive_hours: f64,
    pub units: i64,
    pub lateness_steps: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Sorted by (demand, arrival, origin).
    pub shipments: Vec<Shipment>,
    /// Units served per demand (arriving before its release).
    pub served: Vec<i64>,
    /// The efficiency objective: Σ weight × lateness steps + Σ weight × (H + 1) × unmet.
    pub objective: i64,
    /// The equity level reached (the smallest served ÷ units over demands), in [0, 1].
    pub min_served_fraction: f64,
}

impl Problem {
    /// H: the horizon in whole steps.
    pub fn horizon_steps(&self) -> i64 {
        (self.horizon_hours / self.step_hours).ceil() as i64
    }

    /// Whole steps late, 0 when on time. A small tolerance keeps float noise from adding one.
    pub fn lateness_steps(&self, demand: &Demand, arrive_hours: f64) -> i64 {
        let late = arrive_hours - demand.deadline_hours;
        if late <= 1e-9 {
            0
        } else {
            ((late - 1e-9) / self.step_hours).ceil() as i64
        }
    }

    /// What one unmet unit of a demand costs: one step more than the whole horizon.
    pub fn unmet_cost(&self, demand: &Demand) -> i64 {
        demand.weight * (self.horizon_steps() + 1)
    }

    /// The efficiency objective of any allocation (served per demand and shipments).
    pub fn objective(&self, shipments: &[Shipment], served: &[i64]) -> i64 {
        let lateness: i64 = shipments
            .iter()
            .map(|s| self.demands[s.demand].weight * s.lateness_steps * s.units)
            .sum();
        let unmet: i64 = self
            .demands
            .iter()
            .zip(served)
            .map(|(d, served)| self.unmet_cost(d) * (d.units - served))
            .sum();
        lateness + unmet
    }

    /// Whether an arrival is useful: strictly before release and within the horizon.
    pub fn useful(&self, demand: &Demand, arrive_hours: f64) -> bool {
        arrive_hours < demand.release_hours - 1e-9 && arrive_hours <= self.horizon_hours + 1e-9
    }
}

/// A category too large to solve within the limits: the limit's name and what exceeded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    pub limit: &'static str,
    pub description: String,
}

fn check_limits(problem: &Problem) -> Result<(), LimitExceeded> {
    if problem.demands.len() > DEMANDS_PER_CATEGORY_MAX {
        return Err(LimitExceeded {
            limit: "DEMANDS_PER_CATEGORY_MAX",
            description: format!(
                "{} demands, at most {DEMANDS_PER_CATEGORY_MAX}",
                problem.demands.len()
            ),
        });
    }
    if problem.lines.len() > LINES_PER_CATEGORY_MAX {
        return Err(LimitExceeded {
            limit: "LINES_PER_CATEGORY_MAX",
            description: format!(
                "{} supply lines, at most {LINES_PER_CATEGORY_MAX}",
                problem.lines.len()
            ),
        });
    }
    Ok(())
}

fn network_exceeded(net: &Network) -> Result<(), LimitExceeded> {
    match net.exceeded() {
        None => Ok(()),
        Some(limit) => Err(LimitExceeded {
            limit,
            description: format!(
                "the allocation network would exceed {limit} ({} nodes, {} arcs were built)",
                net.n_nodes(),
                net.n_arcs()
            ),
        }),
    }
}

/// Solves one category under a policy. Deterministic: the network is built in a fixed order.
/// A problem beyond `DEMANDS_PER_CATEGORY_MAX`, `LINES_PER_CATEGORY_MAX` or the network's
/// `NODES_MAX`/`ARCS_MAX` is refused, never solved in part.
pub fn try_allocate(problem: &Problem, policy: Policy) -> Result<Allocation, LimitExceeded> {
    check_limits(problem)?;
    Ok(match policy {
        Policy::Efficiency => solve_priced(problem, None)?.0,
        Policy::Equity => {
            let floors = try_equity_floors(problem)?;
            solve_priced(problem, Some(&floors))?.0
        }
    })
}

/// `try_allocate` for problems known to be within the limits (tests).
#[cfg(test)]
pub fn allocate(problem: &Problem, policy: Policy) -> Allocation {
    try_allocate(problem, policy).expect("test problems are within the limits")
}

/// What a solved problem says about supply it does not hold: whether a shipping arc from a
/// line to a demand that the problem lacks could improve the answer (the pricing step of
/// column generation; the argument is in `scenarios/drills/README.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    /// Per demand: an arc into the demand whose cost is at least this cannot improve the
    /// answer. `i64::MIN`: no arc can; `i64::MAX`: any arc might.
    pub thresholds: Vec<i64>,
    /// Whether arcs from lines not in the problem are to be priced at all.
    pub fresh_lines: bool,
    /// Per line of the problem: whether its missing arcs are to be priced at all.
    pub open_lines: Vec<bool>,
}

impl Pricing {
    /// Whether an arc from `line` (`None`: a line not in the problem) to `demand` costing
    /// `cost` (`weight × lateness steps` at its earliest departure) might improve the answer.
    pub fn might_improve(&self, line: Option<usize>, demand: usize, cost: i64) -> bool {
        // A line added since the solve was not in the problem: it is fresh.
        let open = line.and_then(|l| self.open_lines.get(l).copied()).unwrap_or(self.fresh_lines);
        open && cost < self.thresholds[demand]
    }

    /// Whether no arc anywhere might improve the answer.
    pub fn is_final(&self) -> bool {
        self.thresholds.iter().all(|t| *t <= 0)
            || (!self.fresh_lines && self.open_lines.iter().all(|open| !open))
    }
}

/// An equity level λ = k / n (n ≥ 1), kept exact as a fraction.
pub type Level = (i64, i64);

/// Levels are compared exactly, by cross-multiplication.
fn level_order(a: Level, b: Level) -> std::cmp::Ordering {
    (i128::from(a.0) * i128::from(b.1)).cmp(&(i128::from(b.0) * i128::from(a.1)))
}

/// The candidate levels — the values k / units_d — from `low` to `high` (both included), in
/// increasing order without duplicates. Only between these values can the floors change.
fn levels_within(problem: &Problem, low: Level, high: Level) -> Vec<Level> {
    let mut levels: Vec<Level> = Vec::new();
    for demand in &problem.demands {
        let units = i128::from(demand.units.max(1));
        let first = (i128::from(low.0) * units + i128::from(low.1) - 1) / i128::from(low.1);
        let last = (i128::from(high.0) * units / i128::from(high.1)).min(units);
        for k in first.max(0)..=last {
            levels.push((k as i64, units as i64));
        }
    }
    levels.sort_by(|a, b| level_order(*a, *b));
    levels.dedup_by(|a, b| level_order(*a, *b) == std::cmp::Ordering::Equal);
    levels
}

/// How many candidate levels (with repeats) lie from `low` to `high`: what listing them costs.
fn levels_within_count(problem: &Problem, low: Level, high: Level) -> i128 {
    problem
        .demands
        .iter()
        .map(|demand| {
            let units = i128::from(demand.units.max(1));
            let first = (i128::from(low.0) * units + i128::from(low.1) - 1) / i128::from(low.1);
            let last = (i128::from(high.0) * units / i128::from(high.1)).min(units);
            (last - first.max(0) + 1).max(0)
        })
        .sum()
}

/// The smallest candidate level strictly above `level`, if any (none above 1).
pub fn next_level(problem: &Problem, level: Level) -> Option<Level> {
    problem
        .demands
        .iter()
        .filter_map(|demand| {
            let units = demand.units.max(1);
            let k = (i128::from(level.0) * i128::from(units) / i128::from(level.1)) as i64 + 1;
            (k <= units).then_some((k, units))
        })
        .min_by(|a, b| level_order(*a, *b))
}

/// Per demand, the units a level λ = k / n guarantees: `ceil(λ × units)`.
pub fn floors_at(problem: &Problem, level: (i64, i64)) -> Vec<i64> {
    let (k, n) = (i128::from(level.0), i128::from(level.1));
    problem
        .demands
        .iter()
        .map(|d| {
            let units = i128::from(d.units);
            ((k * units + n - 1) / n) as i64
        })
        .collect()
}

/// Whether floors can all be met at once, by max-flow (no costs): Hoffman's circulation with
/// lower bounds. Each demand's served arc `inlet → outlet` with lower bound `f` becomes an arc
/// of capacity `units − f`, a super source sending `f` into the outlet and the inlet sending
/// `f` to a super sink; with the free return arc sink → source, the floors are feasible
/// exactly when the max flow from the super source saturates all of them. Built once per
/// problem; each check only resets the capacities.
pub struct Feasibility {
    built: Built,
    super_source: u32,
    super_sink: u32,
    /// Per demand: (super source → outlet, inlet → super sink).
    floor_arcs: Vec<(ArcId, ArcId)>,
}

impl Feasibility {
    pub fn new(problem: &Problem) -> Result<Feasibility, LimitExceeded> {
        check_limits(problem)?;
        let mut built = build(problem, Floors::Feasibility);
        let super_source = built.net.add_node();
        let super_sink = built.net.add_node();
        built.net.add_arc(built.sink, built.source, UNBOUNDED, 0);
        let floor_arcs = (0..problem.demands.len())
            .map(|d| {
                (
                    built.net.add_arc(super_source, built.outlet[d], 0, 0),
                    built.net.add_arc(built.inlet[d], super_sink, 0, 0),
                )
            })
            .collect();
        network_exceeded(&built.net)?;
        Ok(Feasibility { built, super_source, super_sink, floor_arcs })
    }

    /// Whether every demand can get at least its floor at once.
    pub fn feasible(&mut self, problem: &Problem, floors: &[i64]) -> bool {
        let net = &mut self.built.net;
        net.clear_flow();
        let mut required = 0i64;
        for (d, demand) in problem.demands.iter().enumerate() {
            let floor = floors[d].clamp(0, demand.units);
            required += floor;
            net.set_capacity(self.built.served_arcs[d], demand.units - floor);
            net.set_capacity(self.floor_arcs[d].0, floor);
            net.set_capacity(self.floor_arcs[d].1, floor);
        }
        net.max_flow(self.super_source, self.super_sink) == required
    }

    /// After a check that failed: which missing arcs could raise the max flow. The set `S`
    /// reachable from the super source is a minimum cut; an arc that does not leave `S`
    /// cannot raise it. Lines not in the problem are in `S` exactly when the source is (their
    /// batches are unused); an arc into a demand can leave `S` only if its inlet is outside.
    pub fn pricing(&self, problem: &Problem) -> Pricing {
        let reach = self.built.net.reachable_from(self.super_source);
        Pricing {
            thresholds: self
                .built
                .inlet
                .iter()
                .map(|&inlet| if reach[inlet as usize] { i64::MIN } else { i64::MAX })
                .collect(),
            fresh_lines: reach[self.built.source as usize],
            open_lines: (0..problem.lines.len())
                .map(|l| self.built.line_nodes[l].iter().any(|(_, v)| reach[*v as usize]))
                .collect(),
        }
    }
}

/// The levels listed one by one at most; above it the search first bisects λ on a grid of
/// `EQUITY_GRID` steps (a category needing millions of units has millions of levels).
pub const EQUITY_LEVELS_LISTED_MAX: i128 = 4096;
/// The grid of the first phase of the level search: λ = j / 2^20.
pub const EQUITY_GRID: i64 = 1 << 20;

/// The largest feasible candidate level at or above `from`, which must be feasible. The
/// feasible levels are downward closed (lower floors are easier to meet), and the floors only
/// change at candidate levels — on `(ℓ_i, ℓ_{i+1}]` they are those of `ℓ_{i+1}` —, so a
/// binary search over the candidate levels finds it. When there are many, it first bisects λ
/// on the grid `j / EQUITY_GRID` (any λ has the floors of the smallest level at or above it)
/// and then searches only the levels in the last grid cell.
pub fn equity_level(problem: &Problem, from: Level, feasibility: &mut Feasibility) -> Level {
    let top: Level = (1, 1);
    let mut steps = 0;
    let mut feasible = |level: Level, steps: &mut usize| {
        *steps += 1;
        feasibility.feasible(problem, &floors_at(problem, level))
    };
    let (mut low, mut high) = (from, top);
    if levels_within_count(problem, low, high) > EQUITY_LEVELS_LISTED_MAX {
        if feasible(top, &mut steps) {
            return top;
        }
        // Grid points: j_low/G is at most `from` (feasible), j_high/G is 1 (not).
        let grid = EQUITY_GRID;
        let mut j_low = (i128::from(from.0) * i128::from(grid) / i128::from(from.1)) as i64;
        let mut j_high = grid;
        while j_high - j_low > 1 && steps < EQUITY_SEARCH_STEPS_MAX {
            let mid = j_low + (j_high - j_low) / 2;
            if feasible((mid, grid), &mut steps) {
                j_low = mid;
            } else {
                j_high = mid;
            }
        }
        if level_order((j_low, grid), low) == std::cmp::Ordering::Greater {
            low = (j_low, grid);
        }
        high = (j_high, grid);
    }
    // The first listed level has the floors of `low` (feasible); `high` is not feasible
    // unless it is the top.
    let levels = levels_within(problem, low, high);
    let (mut lo, mut hi) = (0usize, levels.len());
    while hi - lo > 1 && steps < EQUITY_SEARCH_STEPS_MAX {
        let mid = lo + (hi - lo) / 2;
        if feasible(levels[mid], &mut steps) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    levels.get(lo).copied().unwrap_or(from)
}

/// `try_equity_floors` for problems known to be within the limits (tests).
#[cfg(test)]
pub fn equity_floors(problem: &Problem) -> Vec<i64> {
    try_equity_floors(problem).expect("test problems are within the limits")
}

/// The floors of the largest feasible level.
pub fn try_equity_floors(problem: &Problem) -> Result<Vec<i64>, LimitExceeded> {
    let mut feasibility = Feasibility::new(problem)?;
    let level = equity_level(problem, (0, 1), &mut feasibility);
    Ok(floors_at(problem, level))
}

/// What the network builder remembers about each shipping arc.
struct ShipArc {
    arc: ArcId,
    origin: Origin,
    demand: usize,
    depart_hours: f64,
    arrive_hours: f64,
    lateness_steps: i64,
}

/// How a network treats the equity policy's floors.
#[derive(Debug, Clone, Copy)]
enum Floors<'a> {
    /// The efficiency objective alone.
    None,
    /// Units within each demand's floor earn a reward that dominates every other cost.
    Reward(&'a [i64]),
    /// One served arc per demand whose capacity `Feasibility` sets per check.
    Feasibility,
}

/// A built network and the arcs and nodes the caller reads back.
struct Built {
    net: Network,
    source: u32,
    sink: u32,
    ships: Vec<ShipArc>,
    served_arcs: Vec<ArcId>,
    floor_arcs: Vec<Option<(ArcId, i64)>>,
    inlet: Vec<u32>,
    outlet: Vec<u32>,
    /// Per line: its batches' nodes with their ready times, in the order of `Line::batches`.
    line_nodes: Vec<Vec<(f64, u32)>>,
}

/// Builds the time-expanded network of a problem (exposed to tests so they can certify it).
fn build(problem: &Problem, floors: Floors) -> Built {
    let mut built = Built::new(problem, floors);
    for l in 0..problem.lines.len() {
        built.add_line(problem, l);
        for d in 0..problem.demands.len() {
            built.add_pair(problem, l, d);
        }
    }
    built
}

impl Built {
    /// The part of the network that does not depend on the lines: source, sink, demands and
    /// site pools with their redeployment arcs.
    fn new(problem: &Problem, floors: Floors) -> Built {
        let mut net = Network::default();
        let source = net.add_node();
        let sink = net.add_node();
        let n_demands = problem.demands.len();

        // Reward for a unit served, and under equity a reward for a unit within the floor
        // that outweighs any possible total of the other costs (each ≤ Σ unmet cost × 2).
        let base_total: i64 = problem.demands.iter().map(|d| problem.unmet_cost(d) * d.units).sum();
        let floor_reward = 2 * base_total + 1;

        // Demand inlet and outlet nodes.
        let mut inlet = Vec::with_capacity(n_demands);
        let mut served_arcs = Vec::with_capacity(n_demands);
        let mut floor_arcs = Vec::with_capacity(n_demands);
        let mut outlet = Vec::with_capacity(n_demands);
        for (d, demand) in problem.demands.iter().enumerate() {
            let (i, o) = (net.add_node(), net.add_node());
            let floor = match floors {
                Floors::Reward(f) => f[d].clamp(0, demand.units),
                Floors::None | Floors::Feasibility => 0,
            };
            floor_arcs.push((floor > 0).then(|| {
                (net.add_arc(i, o, floor, -problem.unmet_cost(demand) - floor_reward), floor)
            }));
            served_arcs.push(net.add_arc(i, o, demand.units - floor, -problem.unmet_cost(demand)));
            inlet.push(i);
            outlet.push(o);
        }

        // Site pools: one node per time at which equipment is released there.
        let mut site_times: Vec<Vec<f64>> = vec![Vec::new(); problem.n_incidents];
        for demand in &problem.demands {
            if demand.release_hours <= problem.horizon_hours {
                site_times[demand.incident].push(demand.release_hours);
            }
        }
        let mut site_nodes: Vec<Vec<(f64, u32)>> = Vec::with_capacity(problem.n_incidents);
        for times in &mut site_times {
            sort_dedup(times);
            let nodes: Vec<(f64, u32)> = times.iter().map(|t| (*t, net.add_node())).collect();
            for pair in nodes.windows(2) {
                net.add_arc(pair[0].1, pair[1].1, UNBOUNDED, 0);
            }
            if let Some(last) = nodes.last() {
                net.add_arc(last.1, sink, UNBOUNDED, 0);
            }
            site_nodes.push(nodes);
        }
        for (d, demand) in problem.demands.iter().enumerate() {
            let to = if demand.release_hours <= problem.horizon_hours {
                let nodes = &site_nodes[demand.incident];
                let at = nodes.partition_point(|(t, _)| *t < demand.release_hours);
                nodes[at].1
            } else {
                sink
            };
            net.add_arc(outlet[d], to, UNBOUNDED, 0);
        }
        let mut built = Built {
            net,
            source,
            sink,
            ships: Vec::new(),
            served_arcs,
            floor_arcs,
            inlet,
            outlet,
            line_nodes: Vec::new(),
        };
        // Redeployment from site pools (no lead time: the equipment is already mobilised).
        for (i, nodes) in site_nodes.iter().enumerate() {
            if nodes.is_empty() {
                continue;
            }
            for (d, demand) in problem.demands.iter().enumerate() {
                built.add_ship_arcs(
                    problem,
                    Origin::Site(i),
                    nodes,
                    d,
                    demand.start_hours,
                    problem.site_travel[i][d],
                );
            }
        }
        built
    }

    /// Line `l`'s batches: one node each, fed from the source with the batch's units.
    fn add_line(&mut self, problem: &Problem, l: usize) {
        debug_assert_eq!(self.line_nodes.len(), l);
        self.line_nodes.push(Vec::new());
        for k in 0..problem.lines[l].batches.len() {
            self.add_batch(problem, l, k);
        }
    }

    /// Batch `k` of line `l`: its node, and its ship arcs to every demand the line is paired
    /// with. A unit leaves at `max(ready, incident start + lead time)`: waiting longer never
    /// lowers a cost (lateness only grows with the arrival), so batches need no hold arcs and
    /// the network only ever grows.
    fn add_batch(&mut self, problem: &Problem, l: usize, k: usize) {
        let batch = problem.lines[l].batches[k];
        let node = self.net.add_node();
        self.net.add_arc(self.source, node, batch.units, 0);
        self.line_nodes[l].push((batch.ready_hours, node));
        for d in 0..problem.demands.len() {
            self.add_batch_arc(problem, l, (batch.ready_hours, node), d);
        }
    }

    /// The shipping arcs of line `l` to demand `d`, from each of its batches, if the problem
    /// pairs them.
    fn add_pair(&mut self, problem: &Problem, l: usize, d: usize) {
        for k in 0..self.line_nodes[l].len() {
            self.add_batch_arc(problem, l, self.line_nodes[l][k], d);
        }
    }

    fn add_batch_arc(&mut self, problem: &Problem, l: usize, (ready, node): (f64, u32), d: usize) {
        let Some(travel) = problem.line_travel[l][d] else { return };
        let demand = &problem.demands[d];
        let depart = ready.max(demand.start_hours + problem.lines[l].lead_hours);
        let arrive = depart + travel;
        if !problem.useful(demand, arrive) {
            return;
        }
        let lateness_steps = problem.lateness_steps(demand, arrive);
        let arc = self.net.add_arc(node, self.inlet[d], UNBOUNDED, demand.weight * lateness_steps);
        self.ships.push(ShipArc {
            arc,
            origin: Origin::Line(l),
            demand: d,
            depart_hours: depart,
            arrive_hours: arrive,
            lateness_steps,
        });
    }

    /// Ship arcs from a site pool's chain of nodes to a demand: a unit at node τ holds
    /// everything released by τ and leaves at `max(τ, earliest_depart)`; it is useful if it
    /// arrives before the demand's release. Units wait for free along the chain, so of the
    /// nodes up to the earliest departure only the last needs an arc; every later node gets
    /// its own (a later release leaves later).
    fn add_ship_arcs(
        &mut self,
        problem: &Problem,
        origin: Origin,
        nodes: &[(f64, u32)],
        d: usize,
        earliest_depart: f64,
        travel: f64,
    ) {
        let demand = &problem.demands[d];
        for (k, &(time, node)) in nodes.iter().enumerate() {
            if nodes.get(k + 1).is_some_and(|(next, _)| *next <= earliest_depart) {
                continue;
            }
            let depart = time.max(earliest_depart);
            let arrive = depart + travel;
            if !problem.useful(demand, arrive) {
                break;
            }
            let lateness_steps = problem.lateness_steps(demand, arrive);
            let arc =
                self.net.add_arc(node, self.inlet[d], UNBOUNDED, demand.weight * lateness_steps);
            self.ships.push(ShipArc {
                arc,
                origin,
                demand: d,
                depart_hours: depart,
                arrive_hours: arrive,
                lateness_steps,
            });
        }
    }
}

/// One category's network under one objective, kept between solves: column generation adds
/// lines and (line, demand) pairs, and each solve carries on from the last optimal tree.
pub struct Solver {
    problem: Problem,
    built: Built,
    simplex: Simplex,
}

impl Solver {
    /// A solver for `problem` (its lines and pairs included), with the equity floors' reward
    /// when `floors` is given.
    pub fn new(problem: Problem, floors: Option<&[i64]>) -> Result<Solver, LimitExceeded> {
        check_limits(&problem)?;
        let built = build(&problem, floors.map_or(Floors::None, Floors::Reward));
        network_exceeded(&built.net)?;
        let simplex = Simplex::new(built.source, built.sink);
        Ok(Solver { problem, built, simplex })
    }

    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    pub fn into_problem(self) -> Problem {
        self.problem
    }

    /// Adds a line with no pairs yet; returns its index.
    pub fn add_line(&mut self, line: Line) -> usize {
        self.problem.lines.push(line);
        self.problem.line_travel.push(vec![None; self.problem.demands.len()]);
        let l = self.problem.lines.len() - 1;
        self.built.add_line(&self.problem, l);
        l
    }

    /// Adds a batch to line `l` (connected to every demand the line is paired with).
    pub fn add_batch(&mut self, l: usize, batch: Batch) {
        self.problem.lines[l].batches.push(batch);
        let k = self.problem.lines[l].batches.len() - 1;
        self.built.add_batch(&self.problem, l, k);
    }

    /// Pairs line `l` with demand `d` (`travel` hours apart); a pair already there stays.
    pub fn add_pair(&mut self, l: usize, d: usize, travel: f64) {
        if self.problem.line_travel[l][d].is_some() {
            return;
        }
        self.problem.line_travel[l][d] = Some(travel);
        self.built.add_pair(&self.problem, l, d);
    }

    /// Solves (from the last optimal tree) and prices what the problem lacks. Returns the
    /// allocation, whether every floor was met, and the pricing.
    ///
    /// The thresholds are `θ_d = −dist(inlet_d → source)` in the residual graph with the free
    /// return arc: `p(x) = −dist(x → source)` is a feasible potential, every line node has
    /// `p ≥ 0` at an optimum, and a line not in the problem can take `p = 0` on all its
    /// nodes; so if every missing arc has `cost ≥ θ_d`, the extended residual graph has a
    /// feasible potential, hence no negative cycle, and the flow stays optimal with every arc
    /// present.
    pub fn solve(&mut self) -> Result<(Allocation, bool, Pricing), LimitExceeded> {
        check_limits(&self.problem)?;
        network_exceeded(&self.built.net)?;
        let built = &mut self.built;
        self.simplex.solve(&mut built.net);
        debug_assert!(built.net.certify(built.source, built.sink).is_ok());
        let floors_met =
            built.floor_arcs.iter().flatten().all(|(arc, floor)| built.net.flow(*arc) == *floor);
        let distances = built.net.distances_to_source(built.source, built.sink);
        let pricing = Pricing {
            thresholds: built
                .inlet
                .iter()
                .map(|&inlet| distances[inlet as usize].map_or(i64::MIN, |d| -d))
                .collect(),
            fresh_lines: true,
            open_lines: vec![true; self.problem.lines.len()],
        };
        let allocation =
            extract(&self.problem, &built.net, &built.ships, &built.served_arcs, &built.floor_arcs);
        Ok((allocation, floors_met, pricing))
    }
}

/// Solves a problem once (with `floors` under the equity policy's dominant reward) and prices
/// what it lacks: `Solver::solve` on a fresh solver.
pub fn solve_priced(
    problem: &Problem,
    floors: Option<&[i64]>,
) -> Result<(Allocation, bool, Pricing), LimitExceeded> {
    Solver::new(problem.clone(), floors)?.solve()
}

fn extract(
    problem: &Problem,
    net: &Network,
    ships: &[ShipArc],
    served_arcs: &[ArcId],
    floor_arcs: &[Option<(ArcId, i64)>],
) -> Allocation {
    let mut shipments: Vec<Shipment> = ships
        .iter()
        .filter_map(|ship| {
            let units = net.flow(ship.arc);
            (units > 0).then_some(Shipment {
                origin: ship.origin,
                demand: ship.demand,
                depart_hours: ship.depart_hours,
                arrive_hours: ship.arrive_hours,
                units,
                lateness_steps: ship.lateness_steps,
            })
        })
        .collect();
    sort_shipments(&mut shipments);
    let served: Vec<i64> = served_arcs
        .iter()
        .zip(floor_arcs)
        .map(|(arc, floor)| net.flow(*arc) + floor.map_or(0, |(floor_arc, _)| net.flow(floor_arc)))
        .collect();
    let objective = problem.objective(&shipments, &served);
    let min_served_fraction = problem
        .demands
        .iter()
        .zip(&served)
        .map(|(d, s)| if d.units > 0 { *s as f64 / d.units as f64 } else { 1.0 })
        .fold(1.0, f64::min);
    Allocation { shipments, served, objective, min_served_fraction }
}

/// The independent feasibility check of an allocation, replayed from its shipments alone:
/// departures never precede the incident start (plus lead time from a line); arrivals are
/// useful; no demand gets more than it asked for; and at every moment no line has sent more
/// than its batches made ready, and no site has sent more than was released there. This is the
/// "never oversubscribed" invariant; the report asserts it and the tests check it.
pub fn verify(problem: &Problem, allocation: &Allocation) -> Result<(), String> {
    let mut served = vec![0i64; problem.demands.len()];
    // (time, +units ready / -units leaving) per line and per site.
    let mut line_events: Vec<Vec<(f64, i64)>> = problem
        .lines
        .iter()
        .map(|line| line.batches.iter().map(|b| (b.ready_hours, b.units)).collect())
        .collect();
    let mut site_events: Vec<Vec<(f64, i64)>> = vec![Vec::new(); problem.n_incidents];
    for s in &allocation.shipments {
        let demand = problem.demands.get(s.demand).ok_or("shipment to an unknown demand")?;
        if s.units <= 0 {
            return Err(format!("shipment of {} units", s.units));
        }
        let (earliest, travel) = match s.origin {
            Origin::Line(l) => {
                let travel = problem.line_travel[l][s.demand]
                    .ok_or("shipment from a line that is not a candidate")?;
                line_events[l].push((s.depart_hours, -s.units));
                (demand.start_hours + problem.lines[l].lead_hours, travel)
            }
            Origin::Site(i) => {
                site_events[i].push((s.depart_hours, -s.units));
                (demand.start_hours, problem.site_travel[i][s.demand])
            }
        };
        if s.depart_hours < earliest - 1e-9 {
            return Err(format!(
                "shipment to demand {} leaves at {} before {earliest}",
                s.demand, s.depart_hours
            ));
        }
        if (s.arrive_hours - s.depart_hours - travel).abs() > 1e-6
            || !problem.useful(demand, s.arrive_hours)
        {
            return Err(format!(
                "shipment to demand {} arrives at {} (not useful)",
                s.demand, s.arrive_hours
            ));
        }
        served[s.demand] += s.units;
    }
    for (d, demand) in problem.demands.iter().enumerate() {
        if served[d] > demand.units {
            return Err(format!("demand {d} gets {} units for {}", served[d], demand.units));
        }
        if served[d] != allocation.served[d] {
            return Err(format!(
                "demand {d}: served {} but shipments bring {}",
                allocation.served[d], served[d]
            ));
        }
        if served[d] > 0 && demand.release_hours <= problem.horizon_hours {
            site_events[demand.incident].push((demand.release_hours, served[d]));
        }
    }
    for (what, events) in line_events
        .iter_mut()
        .map(|e| ("line", e))
        .chain(site_events.iter_mut().map(|e| ("site", e)))
    {
        // Arrivals of units before departures at the same instant.
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut on_hand = 0i64;
        for (time, change) in events.iter() {
            on_hand += change;
            if on_hand < 0 {
                return Err(format!("a {what} is oversubscribed at {time} h ({on_hand})"));
            }
        }
    }
    Ok(())
}

fn sort_dedup(times: &mut Vec<f64>) {
    times.sort_by(f64::total_cmp);
    times.dedup();
}

/// The order of an allocation's shipments: by demand, arrival, origin, departure.
pub(super) fn sort_shipments(shipments: &mut [Shipment]) {
    shipments.sort_by(|a, b| {
        a.demand
            .cmp(&b.demand)
            .then(a.arrive_hours.total_cmp(&b.arrive_hours))
            .then(a.origin.cmp(&b.origin))
            .then(a.depart_hours.total_cmp(&b.depart_hours))
    });
}

#[cfg(test)]
mod tests;
