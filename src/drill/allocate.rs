//! The allocation of one category's units across a drill's requirements over time, optimal
//! for a stated policy: a min-cost flow on a time-expanded network (the model is written out
//! in `scenarios/drills/README.md`).
//!
//! Nodes: a source; per supply line, one node per time at which something can happen there
//! (a batch is ready, an incident starts) joined by free hold arcs; per demand, an inlet and an
//! outlet; per incident site, nodes at the times equipment is released there (and incident
//! starts), again joined by hold arcs; a sink. Arcs:
//!
//! - source → line node at a batch's ready time: the batch's units, cost 0;
//! - line or site node at τ → demand inlet, for every departure τ at or after the incident's
//!   start (a line also waits its lead time after the start) whose arrival is strictly before
//!   the demand's release: cost `weight × lateness_steps(arrival)`;
//! - inlet → outlet: the demand's units, cost `-weight × (H + 1)` (serving a unit pays back the
//!   cost of leaving it unmet, see the objective below); under the equity policy this arc is
//!   split in a floor part with an extra reward that dominates everything else;
//! - outlet → site node at the release time (or → sink when the release is past the horizon):
//!   the equipment returns to a pool at the incident site and can be redeployed;
//! - the last site node → sink.
//!
//! Every arc goes forward in time (arrival < release), so the network is acyclic.

use super::flow::{ArcId, Network, UNBOUNDED};

/// The most demands one category may have in a drill.
pub const DEMANDS_PER_CATEGORY_MAX: usize = 100_000;
/// The most supply lines one category network may hold.
pub const LINES_PER_CATEGORY_MAX: usize = 100_000;
/// The most equity feasibility solves per category (binary search over the candidate levels;
/// 40 halvings cover any realistic number of levels).
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
    /// Batches in increasing ready time.
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

    /// The earliest useful arrival: strictly before release and within the horizon.
    fn useful(&self, demand: &Demand, arrive_hours: f64) -> bool {
        arrive_hours < demand.release_hours - 1e-9 && arrive_hours <= self.horizon_hours + 1e-9
    }
}

/// A category too large to solve within the limits: the limit's name and what exceeded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    pub limit: &'static str,
    pub description: String,
}

/// Solves one category under a policy. Deterministic: the network is built in a fixed order.
/// A problem beyond `DEMANDS_PER_CATEGORY_MAX`, `LINES_PER_CATEGORY_MAX` or the network's
/// `NODES_MAX`/`ARCS_MAX` is refused, never solved in part.
pub fn try_allocate(problem: &Problem, policy: Policy) -> Result<Allocation, LimitExceeded> {
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
    Ok(match policy {
        Policy::Efficiency => solve_with_floors(problem, None)?.0,
        Policy::Equity => {
            let floors = try_equity_floors(problem)?;
            solve_with_floors(problem, Some(&floors))?.0
        }
    })
}

/// `try_allocate` for problems known to be within the limits (tests).
#[cfg(test)]
pub fn allocate(problem: &Problem, policy: Policy) -> Allocation {
    try_allocate(problem, policy).expect("test problems are within the limits")
}

/// The candidate levels λ = k / units_d, in increasing order, as (k, units) fractions.
fn levels(problem: &Problem) -> Vec<(i64, i64)> {
    let mut levels: Vec<(i64, i64)> = Vec::new();
    for demand in &problem.demands {
        for k in 0..=demand.units {
            levels.push((k, demand.units.max(1)));
        }
    }
    // Exact order by cross-multiplication, then drop equal fractions.
    levels.sort_by(|a, b| {
        (i128::from(a.0) * i128::from(b.1)).cmp(&(i128::from(b.0) * i128::from(a.1)))
    });
    levels.dedup_by(|a, b| i128::from(a.0) * i128::from(b.1) == i128::from(b.0) * i128::from(a.1));
    levels
}

fn floors_at(problem: &Problem, level: (i64, i64)) -> Vec<i64> {
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

/// `try_equity_floors` for problems known to be within the limits (tests).
#[cfg(test)]
pub fn equity_floors(problem: &Problem) -> Vec<i64> {
    try_equity_floors(problem).expect("test problems are within the limits")
}

/// The floors of the largest feasible level, by binary search over the candidate levels (the
/// set of feasible levels is downward closed: lower floors are easier to meet).
pub fn try_equity_floors(problem: &Problem) -> Result<Vec<i64>, LimitExceeded> {
    let levels = levels(problem);
    if levels.is_empty() {
        return Ok(Vec::new());
    }
    // levels[0] is 0: always feasible.
    let (mut lo, mut hi) = (0usize, levels.len());
    let mut steps = 0;
    while hi - lo > 1 && steps < EQUITY_SEARCH_STEPS_MAX {
        steps += 1;
        let mid = lo + (hi - lo) / 2;
        let floors = floors_at(problem, levels[mid]);
        if solve_with_floors(problem, Some(&floors))?.1 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(floors_at(problem, levels[lo]))
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

/// Builds and solves the network. Returns the allocation and whether every floor was met.
fn solve_with_floors(
    problem: &Problem,
    floors: Option<&[i64]>,
) -> Result<(Allocation, bool), LimitExceeded> {
    let (mut net, source, sink, ships, served_arcs, floor_arcs) = build(problem, floors);
    if let Some(limit) = net.exceeded() {
        return Err(LimitExceeded {
            limit,
            description: format!(
                "the allocation network would exceed {limit} ({} nodes, {} arcs were built)",
                net.n_nodes(),
                net.n_arcs()
            ),
        });
    }
    net.solve(source, sink);
    debug_assert!(net.certify(source, sink).is_ok());
    let floors_met = floor_arcs.iter().flatten().all(|(arc, floor)| net.flow(*arc) == *floor);
    Ok((extract(problem, &net, &ships, &served_arcs, &floor_arcs), floors_met))
}

type Built = (Network, u32, u32, Vec<ShipArc>, Vec<ArcId>, Vec<Option<(ArcId, i64)>>);

/// Builds the time-expanded network (exposed to tests so they can certify it).
fn build(problem: &Problem, floors: Option<&[i64]>) -> Built {
    let mut net = Network::default();
    let source = net.add_node();
    let sink = net.add_node();
    let n_demands = problem.demands.len();

    // Reward for a unit served, and under equity a reward for a unit within the floor that
    // outweighs any possible total of the other costs (each ≤ Σ unmet cost × 2).
    let base_total: i64 = problem.demands.iter().map(|d| problem.unmet_cost(d) * d.units).sum();
    let floor_reward = 2 * base_total + 1;

    // Demand inlet and outlet nodes.
    let mut inlet = Vec::with_capacity(n_demands);
    let mut served_arcs = Vec::with_capacity(n_demands);
    let mut floor_arcs = Vec::with_capacity(n_demands);
    let mut outlet = Vec::with_capacity(n_demands);
    for (d, demand) in problem.demands.iter().enumerate() {
        let (i, o) = (net.add_node(), net.add_node());
        let floor = floors.map_or(0, |f| f[d].min(demand.units));
        floor_arcs.push((floor > 0).then(|| {
            (net.add_arc(i, o, floor, -problem.unmet_cost(demand) - floor_reward), floor)
        }));
        served_arcs.push(net.add_arc(i, o, demand.units - floor, -problem.unmet_cost(demand)));
        inlet.push(i);
        outlet.push(o);
    }

    // Site pools: one node per time at which equipment is released there or could leave.
    let mut site_times: Vec<Vec<f64>> = vec![Vec::new(); problem.n_incidents];
    for demand in &problem.demands {
        if demand.release_hours <= problem.horizon_hours {
            site_times[demand.incident].push(demand.release_hours);
        }
    }
    let starts: Vec<f64> = {
        let mut starts: Vec<f64> = problem.demands.iter().map(|d| d.start_hours).collect();
        sort_dedup(&mut starts);
        starts
    };
    let mut ships = Vec::new();
    let mut site_nodes: Vec<Vec<(f64, u32)>> = Vec::with_capacity(problem.n_incidents);
    for times in &mut site_times {
        if times.is_empty() {
            site_nodes.push(Vec::new());
            continue;
        }
        sort_dedup(times);
        let first = times[0];
        times.extend(starts.iter().copied().filter(|s| *s > first));
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

    // Supply lines.
    for (l, line) in problem.lines.iter().enumerate() {
        let candidate_demands: Vec<usize> =
            (0..n_demands).filter(|d| problem.line_travel[l][*d].is_some()).collect();
        if candidate_demands.is_empty() || line.batches.is_empty() {
            continue;
        }
        let mut times: Vec<f64> = line.batches.iter().map(|b| b.ready_hours).collect();
        times.extend(candidate_demands.iter().map(|d| problem.demands[*d].start_hours));
        sort_dedup(&mut times);
        let nodes: Vec<(f64, u32)> = times.iter().map(|t| (*t, net.add_node())).collect();
        for pair in nodes.windows(2) {
            net.add_arc(pair[0].1, pair[1].1, UNBOUNDED, 0);
        }
        for batch in &line.batches {
            let at = nodes.partition_point(|(t, _)| *t < batch.ready_hours);
            net.add_arc(source, nodes[at].1, batch.units, 0);
        }
        for &d in &candidate_demands {
            let travel = problem.line_travel[l][d].unwrap_or(f64::INFINITY);
            let demand = &problem.demands[d];
            add_ship_arcs(
                problem,
                &mut net,
                &mut ships,
                Origin::Line(l),
                &nodes,
                d,
                demand.start_hours + line.lead_hours,
                travel,
                inlet[d],
            );
        }
    }
    // Redeployment from site pools (no lead time: the equipment is already mobilised).
    for (i, nodes) in site_nodes.iter().enumerate() {
        if nodes.is_empty() {
            continue;
        }
        for (d, demand) in problem.demands.iter().enumerate() {
            let travel = problem.site_travel[i][d];
            add_ship_arcs(
                problem,
                &mut net,
                &mut ships,
                Origin::Site(i),
                nodes,
                d,
                demand.start_hours,
                travel,
                inlet[d],
            );
        }
    }
    (net, source, sink, ships, served_arcs, floor_arcs)
}

/// Ship arcs from the nodes at or after the demand's start: a unit at node τ leaves at
/// `max(τ, earliest_depart)` and is useful if it arrives before the demand's release.
#[allow(clippy::too_many_arguments)] // one call site per origin kind; a struct would only rename them
fn add_ship_arcs(
    problem: &Problem,
    net: &mut Network,
    ships: &mut Vec<ShipArc>,
    origin: Origin,
    nodes: &[(f64, u32)],
    d: usize,
    earliest_depart: f64,
    travel: f64,
    inlet: u32,
) {
    let demand = &problem.demands[d];
    let first = nodes.partition_point(|(t, _)| *t < demand.start_hours);
    let usable = &nodes[first..];
    for (k, &(time, node)) in usable.iter().enumerate() {
        // When the next node is still no later than the earliest departure, units here can
        // wait for it and leave at the same time: one arc (from the last such node) suffices.
        if usable.get(k + 1).is_some_and(|(next, _)| *next <= earliest_depart) {
            continue;
        }
        let depart = time.max(earliest_depart);
        let arrive = depart + travel;
        if !problem.useful(demand, arrive) {
            break;
        }
        let lateness_steps = problem.lateness_steps(demand, arrive);
        let arc = net.add_arc(node, inlet, UNBOUNDED, demand.weight * lateness_steps);
        ships.push(ShipArc {
            arc,
            origin,
            demand: d,
            depart_hours: depart,
            arrive_hours: arrive,
            lateness_steps,
        });
    }
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
    shipments.sort_by(|a, b| {
        a.demand
            .cmp(&b.demand)
            .then(a.arrive_hours.total_cmp(&b.arrive_hours))
            .then(a.origin.cmp(&b.origin))
            .then(a.depart_hours.total_cmp(&b.depart_hours))
    });
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

#[cfg(test)]
mod tests;
