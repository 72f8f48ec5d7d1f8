//! Properties of the allocation: it equals an exhaustive search on tiny instances (both
//! policies); on larger random instances with returns and redeployment the residual graph has
//! no negative cycle (Bellman-Ford certificate); no line or site is ever oversubscribed (the
//! independent replay `verify`); the same problem gives the same allocation; and the two
//! policies behave as named on a crafted case. With returns, tiny instances are also held to an
//! exhaustive search that includes redeployment from incident sites (both policies).

use super::*;
use crate::rng::SplitMix64;

fn random_problem(
    rng: &mut SplitMix64,
    n_lines: usize,
    n_demands: usize,
    n_incidents: usize,
    units_max: u64,
    returns: bool,
) -> Problem {
    let step_hours = [0.5, 1.0, 2.0][rng.below(3) as usize];
    let horizon_hours = 60.0;
    let starts: Vec<f64> = (0..n_incidents).map(|_| rng.below(12) as f64).collect();
    let lines = (0..n_lines)
        .map(|_| {
            let mut batches =
                vec![Batch { ready_hours: 0.0, units: rng.below(units_max + 1) as i64 }];
            if rng.below(2) == 0 {
                batches.push(Batch {
                    ready_hours: 6.0 + rng.below(10) as f64,
                    units: 1 + rng.below(units_max) as i64,
                });
            }
            batches.retain(|b| b.units > 0);
            Line { batches, lead_hours: rng.below(4) as f64 }
        })
        .collect();
    let demands: Vec<Demand> = (0..n_demands)
        .map(|_| {
            let incident = rng.below(n_incidents as u64) as usize;
            let start_hours = starts[incident];
            let deadline_hours = start_hours + 2.0 + rng.below(10) as f64;
            let release_hours = if returns {
                deadline_hours + 4.0 + rng.below(12) as f64
            } else {
                horizon_hours + 1.0
            };
            Demand {
                incident,
                start_hours,
                deadline_hours,
                release_hours,
                units: 1 + rng.below(units_max) as i64,
                weight: 1 + rng.below(3) as i64,
            }
        })
        .collect();
    let line_travel = (0..n_lines)
        .map(|_| {
            (0..n_demands)
                .map(|_| (rng.below(5) != 0).then(|| 0.5 + rng.below(16) as f64 * 0.75))
                .collect()
        })
        .collect();
    let site_travel = (0..n_incidents)
        .map(|_| (0..n_demands).map(|_| 0.5 + rng.below(8) as f64).collect())
        .collect();
    Problem { step_hours, horizon_hours, n_incidents, lines, demands, line_travel, site_travel }
}

/// The optima found by exhaustive search.
#[derive(Debug)]
struct Optima {
    efficiency_cost: i64,
    equity_level: f64,
    /// The efficiency objective of the best allocation at the equity level.
    equity_cost: i64,
}

/// A variable of the exhaustive search: units sent from one batch to one demand.
struct Var {
    line: usize,
    batch: usize,
    demand: usize,
    lateness: i64,
}

/// Exhaustive search over every integer assignment of batch units to demands, with the cost
/// computed here from the model's definitions (no network): for problems without returns.
fn brute_force(problem: &Problem) -> Optima {
    let mut vars = Vec::new();
    for (l, line) in problem.lines.iter().enumerate() {
        for (b, batch) in line.batches.iter().enumerate() {
            for (d, demand) in problem.demands.iter().enumerate() {
                let Some(travel) = problem.line_travel[l][d] else { continue };
                let depart = batch.ready_hours.max(demand.start_hours + line.lead_hours);
                let arrive = depart + travel;
                if arrive >= demand.release_hours || arrive > problem.horizon_hours {
                    continue;
                }
                let late = arrive - demand.deadline_hours;
                let lateness =
                    if late <= 1e-9 { 0 } else { (late / problem.step_hours - 1e-9).ceil() as i64 };
                vars.push(Var { line: l, batch: b, demand: d, lateness });
            }
        }
    }
    let mut state = Search {
        problem,
        batch_left: problem
            .lines
            .iter()
            .map(|l| l.batches.iter().map(|b| b.units).collect())
            .collect(),
        served: vec![0; problem.demands.len()],
        best: Optima { efficiency_cost: i64::MAX, equity_level: -1.0, equity_cost: i64::MAX },
    };
    state.go(&vars, 0, 0);
    state.best
}

struct Search<'a> {
    problem: &'a Problem,
    batch_left: Vec<Vec<i64>>,
    served: Vec<i64>,
    best: Optima,
}

impl Search<'_> {
    fn go(&mut self, vars: &[Var], k: usize, lateness: i64) {
        let problem = self.problem;
        if k == vars.len() {
            let h1 = (problem.horizon_hours / problem.step_hours).ceil() as i64 + 1;
            let unmet: i64 = problem
                .demands
                .iter()
                .zip(&self.served)
                .map(|(d, s)| d.weight * h1 * (d.units - s))
                .sum();
            let cost = lateness + unmet;
            self.best.efficiency_cost = self.best.efficiency_cost.min(cost);
            let level = problem
                .demands
                .iter()
                .zip(&self.served)
                .map(|(d, s)| *s as f64 / d.units as f64)
                .fold(1.0, f64::min);
            let best = &mut self.best;
            if level > best.equity_level + 1e-12
                || ((level - best.equity_level).abs() <= 1e-12 && cost < best.equity_cost)
            {
                best.equity_level = level;
                best.equity_cost = cost;
            }
            return;
        }
        let var = &vars[k];
        let demand = &problem.demands[var.demand];
        let room = self.batch_left[var.line][var.batch].min(demand.units - self.served[var.demand]);
        for x in 0..=room {
            self.batch_left[var.line][var.batch] -= x;
            self.served[var.demand] += x;
            self.go(vars, k + 1, lateness + demand.weight * var.lateness * x);
            self.batch_left[var.line][var.batch] += x;
            self.served[var.demand] -= x;
        }
    }
}

/// Solves, then certifies the network with Bellman-Ford (independent of the solver's
/// pivots and potentials).
fn certified(problem: &Problem, floors: Option<&[i64]>) -> Allocation {
    let mut built = build(problem, floors.map_or(Floors::None, Floors::Reward));
    built.net.solve(built.source, built.sink);
    built.net.certify(built.source, built.sink).expect("optimality certificate");
    extract(problem, &built.net, &built.ships, &built.served_arcs, &built.floor_arcs)
}

#[test]
fn matches_exhaustive_search_on_tiny_instances() {
    let mut rng = SplitMix64::new(11);
    let (mut with_lateness, mut policies_differ) = (0, 0);
    for case in 0..150 {
        let n_lines = 1 + rng.below(2) as usize;
        let n_demands = 1 + rng.below(3) as usize;
        let problem = random_problem(&mut rng, n_lines, n_demands, 2, 3, false);
        let optima = brute_force(&problem);
        let efficiency = allocate(&problem, Policy::Efficiency);
        verify(&problem, &efficiency).expect("feasible");
        assert_eq!(efficiency.objective, optima.efficiency_cost, "case {case}: {problem:#?}");
        let equity = allocate(&problem, Policy::Equity);
        verify(&problem, &equity).expect("feasible");
        assert!(
            (equity.min_served_fraction - optima.equity_level).abs() < 1e-12,
            "case {case}: level {} vs {}",
            equity.min_served_fraction,
            optima.equity_level
        );
        assert_eq!(equity.objective, optima.equity_cost, "case {case}");
        with_lateness += usize::from(efficiency.shipments.iter().any(|s| s.lateness_steps > 0));
        policies_differ += usize::from(equity.served != efficiency.served);
    }
    // The cases exercise what they should: late arrivals, and policies that disagree.
    assert!(with_lateness > 10 && policies_differ > 3, "{with_lateness} {policies_differ}");
}

#[test]
fn larger_random_instances_carry_an_optimality_certificate_and_never_oversubscribe() {
    let mut rng = SplitMix64::new(2024);
    for case in 0..40 {
        let problem = random_problem(&mut rng, 12, 25, 5, 20, true);
        let allocation = certified(&problem, None);
        verify(&problem, &allocation).unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert_eq!(allocation, allocate(&problem, Policy::Efficiency), "case {case}");
        let floors = equity_floors(&problem);
        let equity = certified(&problem, Some(&floors));
        verify(&problem, &equity).unwrap_or_else(|e| panic!("case {case}: {e}"));
        // The equity level is met, and the level above is out of reach: with its floors
        // rewarded (a reward that dominates every other cost), the certified optimum still
        // misses one, so no allocation fills them all.
        assert!(equity.served.iter().zip(&floors).all(|(s, f)| s >= f));
        let level = equity_level(
            &problem,
            (0, 1),
            &mut Feasibility::new(&problem).expect("within the limits"),
        );
        assert_eq!(floors_at(&problem, level), floors, "case {case}");
        if let Some(next) = next_level(&problem, level) {
            let up = floors_at(&problem, next);
            let reached = certified(&problem, Some(&up));
            assert!(reached.served.iter().zip(&up).any(|(s, f)| s < f), "case {case}");
        }
        assert!(
            equity.min_served_fraction + 1e-12
                >= allocate(&problem, Policy::Efficiency).min_served_fraction
        );
    }
}

#[test]
fn the_same_problem_gives_the_same_allocation() {
    let mut rng = SplitMix64::new(5);
    let problem = random_problem(&mut rng, 10, 20, 4, 15, true);
    for policy in Policy::ALL {
        let first = allocate(&problem, policy);
        for _ in 0..3 {
            assert_eq!(allocate(&problem, policy), first);
        }
    }
}

#[test]
fn verify_catches_an_oversubscribed_line() {
    let mut rng = SplitMix64::new(9);
    let problem = random_problem(&mut rng, 6, 10, 3, 10, true);
    let mut allocation = allocate(&problem, Policy::Efficiency);
    let Some(first) = allocation.shipments.iter().position(|s| matches!(s.origin, Origin::Line(_)))
    else {
        panic!("no shipment from a line");
    };
    allocation.shipments[first].units += 1_000;
    allocation.served[allocation.shipments[first].demand] += 1_000;
    assert!(verify(&problem, &allocation).is_err());
}

/// One supplier of 10 units close to both incidents; A (critical) and B (supporting) each need
/// 10 on time. Efficiency gives everything to the critical demand; equity splits 5 / 5.
#[test]
fn policies_behave_as_named() {
    let problem = Problem {
        step_hours: 1.0,
        horizon_hours: 48.0,
        n_incidents: 2,
        lines: vec![Line { batches: vec![Batch { ready_hours: 0.0, units: 10 }], lead_hours: 1.0 }],
        demands: vec![
            Demand {
                incident: 0,
                start_hours: 0.0,
                deadline_hours: 6.0,
                release_hours: 100.0,
                units: 10,
                weight: 3,
            },
            Demand {
                incident: 1,
                start_hours: 0.0,
                deadline_hours: 6.0,
                release_hours: 100.0,
                units: 10,
                weight: 1,
            },
        ],
        line_travel: vec![vec![Some(2.0), Some(2.0)]],
        site_travel: vec![vec![0.0, 1.0], vec![1.0, 0.0]],
    };
    let efficiency = allocate(&problem, Policy::Efficiency);
    assert_eq!(efficiency.served, vec![10, 0]);
    let equity = allocate(&problem, Policy::Equity);
    assert_eq!(equity.served, vec![5, 5]);
    assert_eq!(equity.min_served_fraction, 0.5);
    assert!(equity.objective > efficiency.objective, "equity pays in total weighted lateness");
}

/// Returns: a unit released at one incident is redeployed to a later one.
#[test]
fn released_equipment_is_redeployed() {
    let problem = Problem {
        step_hours: 1.0,
        horizon_hours: 100.0,
        n_incidents: 2,
        lines: vec![Line { batches: vec![Batch { ready_hours: 0.0, units: 4 }], lead_hours: 0.0 }],
        demands: vec![
            Demand {
                incident: 0,
                start_hours: 0.0,
                deadline_hours: 5.0,
                release_hours: 20.0,
                units: 4,
                weight: 2,
            },
            Demand {
                incident: 1,
                start_hours: 24.0,
                deadline_hours: 30.0,
                release_hours: 60.0,
                units: 4,
                weight: 2,
            },
        ],
        line_travel: vec![vec![Some(1.0), None]],
        site_travel: vec![vec![0.0, 3.0], vec![3.0, 0.0]],
    };
    let allocation = certified(&problem, None);
    verify(&problem, &allocation).expect("feasible");
    assert_eq!(allocation.served, vec![4, 4]);
    assert!(allocation.shipments.iter().any(|s| s.origin == Origin::Site(0) && s.demand == 1));
}

/// The level search that bisects λ on a grid first (many levels) finds the same level as a
/// binary search over every candidate level listed whole, and no level above it is feasible.
#[test]
fn the_grid_level_search_equals_a_search_over_every_level() {
    let mut rng = SplitMix64::new(404);
    let mut gridded = 0;
    for case in 0..40 {
        let mut problem = random_problem(&mut rng, 6, 4, 3, 40, true);
        // Thousands of units per demand: more levels than are listed whole.
        for demand in &mut problem.demands {
            demand.units = 1_000 + rng.below(4_000) as i64;
        }
        for line in &mut problem.lines {
            for batch in &mut line.batches {
                batch.units *= 150;
            }
        }
        gridded +=
            usize::from(levels_within_count(&problem, (0, 1), (1, 1)) > EQUITY_LEVELS_LISTED_MAX);
        let mut feasibility = Feasibility::new(&problem).expect("within the limits");
        let found = equity_level(&problem, (0, 1), &mut feasibility);
        let all = levels_within(&problem, (0, 1), (1, 1));
        let (mut lo, mut hi) = (0usize, all.len());
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if feasibility.feasible(&problem, &floors_at(&problem, all[mid])) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        assert_eq!(level_order(found, all[lo]), std::cmp::Ordering::Equal, "case {case}");
        assert!(feasibility.feasible(&problem, &floors_at(&problem, found)), "case {case}");
        if let Some(next) = next_level(&problem, found) {
            assert!(!feasibility.feasible(&problem, &floors_at(&problem, next)), "case {case}");
        }
    }
    assert!(gridded > 30, "{gridded} cases took the grid path");
}

/// A move of the exhaustive search with redeployment: units from one batch, or from what one
/// demand released at its incident's site, to a demand, leaving as early as they may (a later
/// departure never lowers lateness, and a unit released earlier is never worse to use).
#[derive(Debug)]
struct Move {
    origin: Origin,
    /// For a site: the demand whose release the units come from; for a line: its batch.
    from: usize,
    demand: usize,
    depart_hours: f64,
    arrive_hours: f64,
    lateness: i64,
}

/// Exhaustive search over every integer assignment of units to moves, redeployment included,
/// with the objective and the level computed here from the model's definitions (no network).
/// An assignment is feasible when no batch sends more than it holds, no demand gets more than
/// it asked, and no demand's release sends on more than that demand was served — units leave a
/// site only after the release they come from, so this is the whole of the site constraint;
/// `verify`, the independent replay, is asserted to agree on every optimum found.
fn brute_force_with_redeployment(problem: &Problem) -> Optima {
    let mut moves = Vec::new();
    for (l, line) in problem.lines.iter().enumerate() {
        for (b, batch) in line.batches.iter().enumerate() {
            for (d, demand) in problem.demands.iter().enumerate() {
                let Some(travel) = problem.line_travel[l][d] else { continue };
                let depart_hours = batch.ready_hours.max(demand.start_hours + line.lead_hours);
                moves.push((Origin::Line(l), b, d, depart_hours, travel));
            }
        }
    }
    for (e, released) in problem.demands.iter().enumerate() {
        if released.release_hours > problem.horizon_hours {
            continue;
        }
        for (d, demand) in problem.demands.iter().enumerate() {
            let depart_hours = released.release_hours.max(demand.start_hours);
            let travel = problem.site_travel[released.incident][d];
            moves.push((Origin::Site(released.incident), e, d, depart_hours, travel));
        }
    }
    let moves: Vec<Move> = moves
        .into_iter()
        .filter_map(|(origin, from, demand, depart_hours, travel)| {
            let d = &problem.demands[demand];
            let arrive_hours = depart_hours + travel;
            let late = arrive_hours - d.deadline_hours;
            let lateness =
                if late <= 1e-9 { 0 } else { (late / problem.step_hours - 1e-9).ceil() as i64 };
            let useful = arrive_hours < d.release_hours - 1e-9
                && arrive_hours <= problem.horizon_hours + 1e-9;
            useful.then_some(Move { origin, from, demand, depart_hours, arrive_hours, lateness })
        })
        .collect();
    let mut search = Redeploy {
        problem,
        moves: &moves,
        amounts: vec![0; moves.len()],
        batch_left: problem
            .lines
            .iter()
            .map(|l| l.batches.iter().map(|b| b.units).collect())
            .collect(),
        served: vec![0; problem.demands.len()],
        sent_on: vec![0; problem.demands.len()],
        best: Optima { efficiency_cost: i64::MAX, equity_level: -1.0, equity_cost: i64::MAX },
        best_allocations: Vec::new(),
    };
    search.go(0);
    for allocation in &search.best_allocations {
        verify(problem, allocation).expect("an optimum of the exhaustive search replays");
    }
    search.best
}

struct Redeploy<'a> {
    problem: &'a Problem,
    moves: &'a [Move],
    amounts: Vec<i64>,
    batch_left: Vec<Vec<i64>>,
    served: Vec<i64>,
    /// Per demand: units sent on from its release.
    sent_on: Vec<i64>,
    best: Optima,
    /// The allocations that set an optimum (replayed by `verify` at the end).
    best_allocations: Vec<Allocation>,
}

impl Redeploy<'_> {
    fn go(&mut self, k: usize) {
        let problem = self.problem;
        if k == self.moves.len() {
            if self.sent_on.iter().zip(&self.served).any(|(sent, served)| sent > served) {
                return;
            }
            let h1 = (problem.horizon_hours / problem.step_hours).ceil() as i64 + 1;
            let lateness: i64 = self
                .moves
                .iter()
                .zip(&self.amounts)
                .map(|(m, x)| problem.demands[m.demand].weight * m.lateness * x)
                .sum();
            let unmet: i64 = problem
                .demands
                .iter()
                .zip(&self.served)
                .map(|(d, s)| d.weight * h1 * (d.units - s))
                .sum();
            let cost = lateness + unmet;
            let level = problem
                .demands
                .iter()
                .zip(&self.served)
                .map(|(d, s)| *s as f64 / d.units as f64)
                .fold(1.0, f64::min);
            let better_efficiency = cost < self.best.efficiency_cost;
            let better_equity = level > self.best.equity_level + 1e-12
                || ((level - self.best.equity_level).abs() <= 1e-12
                    && cost < self.best.equity_cost);
            if better_efficiency {
                self.best.efficiency_cost = cost;
            }
            if better_equity {
                self.best.equity_level = level;
                self.best.equity_cost = cost;
            }
            if better_efficiency || better_equity {
                let shipments = self
                    .moves
                    .iter()
                    .zip(&self.amounts)
                    .filter(|(_, x)| **x > 0)
                    .map(|(m, x)| Shipment {
                        origin: m.origin,
                        demand: m.demand,
                        depart_hours: m.depart_hours,
                        arrive_hours: m.arrive_hours,
                        units: *x,
                        lateness_steps: m.lateness,
                    })
                    .collect();
                self.best_allocations.push(Allocation {
                    shipments,
                    served: self.served.clone(),
                    objective: cost,
                    min_served_fraction: level,
                });
            }
            return;
        }
        let m = &self.moves[k];
        let mut room = problem.demands[m.demand].units - self.served[m.demand];
        match m.origin {
            Origin::Line(l) => room = room.min(self.batch_left[l][m.from]),
            // What the release may send on is known only once every move into it is set:
            // bounded here by its units, checked at the leaf.
            Origin::Site(_) => {
                room = room.min(problem.demands[m.from].units - self.sent_on[m.from])
            }
        }
        for x in 0..=room.max(0) {
            self.amounts[k] = x;
            match m.origin {
                Origin::Line(l) => self.batch_left[l][m.from] -= x,
                Origin::Site(_) => self.sent_on[m.from] += x,
            }
            self.served[m.demand] += x;
            self.go(k + 1);
            self.served[m.demand] -= x;
            match m.origin {
                Origin::Line(l) => self.batch_left[l][m.from] += x,
                Origin::Site(_) => self.sent_on[m.from] -= x,
            }
        }
        self.amounts[k] = 0;
    }
}

/// With returns: the solver's optimum equals the exhaustive search over every assignment,
/// redeployment included, under both policies — the same efficiency objective; under equity
/// the same level and the same objective at it.
#[test]
fn matches_exhaustive_search_with_redeployment_under_both_policies() {
    let mut rng = SplitMix64::new(31);
    let (mut redeployed, mut policies_differ, mut unmet) = (0, 0, 0);
    for case in 0..300 {
        let n_lines = 1 + rng.below(2) as usize;
        let n_demands = 2 + rng.below(2) as usize;
        let problem = random_problem(&mut rng, n_lines, n_demands, 2, 2, true);
        let optima = brute_force_with_redeployment(&problem);
        let efficiency = allocate(&problem, Policy::Efficiency);
        verify(&problem, &efficiency).expect("feasible");
        assert_eq!(efficiency.objective, optima.efficiency_cost, "case {case}: {problem:#?}");
        let equity = allocate(&problem, Policy::Equity);
        verify(&problem, &equity).expect("feasible");
        assert!(
            (equity.min_served_fraction - optima.equity_level).abs() < 1e-12,
            "case {case}: level {} vs {}: {problem:#?}",
            equity.min_served_fraction,
            optima.equity_level
        );
        assert_eq!(equity.objective, optima.equity_cost, "case {case}: {problem:#?}");
        redeployed += usize::from(
            [&efficiency, &equity]
                .iter()
                .any(|a| a.shipments.iter().any(|s| matches!(s.origin, Origin::Site(_)))),
        );
        policies_differ += usize::from(equity.served != efficiency.served);
        unmet +=
            usize::from(efficiency.served.iter().zip(&problem.demands).any(|(s, d)| *s < d.units));
    }
    // The cases exercise what they should: redeployment, shortage, policies that disagree.
    assert!(
        redeployed > 30 && unmet > 30 && policies_differ > 5,
        "{redeployed} {unmet} {policies_differ}"
    );
}
#[test]
fn a_category_beyond_the_demand_limit_is_refused_not_solved() {
    let demands: Vec<Demand> = (0..=DEMANDS_PER_CATEGORY_MAX)
        .map(|_| Demand {
            incident: 0,
            start_hours: 0.0,
            deadline_hours: 1.0,
            release_hours: 2.0,
            units: 1,
            weight: 1,
        })
        .collect();
    let problem = Problem {
        step_hours: 1.0,
        horizon_hours: 10.0,
        n_incidents: 1,
        lines: Vec::new(),
        site_travel: vec![vec![0.0; demands.len()]],
        demands,
        line_travel: Vec::new(),
    };
    for policy in Policy::ALL {
        let refused = try_allocate(&problem, policy).expect_err("beyond the limit");
        assert_eq!(refused.limit, "DEMANDS_PER_CATEGORY_MAX");
    }
}
