//! `equipmatch drill sweep`: how big an event the region can take before on-time coverage
//! falls below a threshold, and which model assumption drives the shortfall.
//!
//! **Steps.** The drill is run over a range of one input — every incident's severity level
//! (IV → I), its affected population or area (× a geometric range of factors), or the stock
//! factor (from more stock to less) — ordered from the least to the most stress. At each
//! step, per chain stage: the priority-weighted share of the units due within `at_hours`
//! (24 h by default) of their incident's start that arrived by their deadline
//! (`report::coverage_due_within`). A stage's **break point** is the first step where that
//! share is below the threshold (80 % by default), with the step before it.
//!
//! **Sensitivity.** At the drill as written, every MODEL assumption the drill reads is moved
//! by −50 % and +50 % alone: each MODEL-graded requirement rule of the scenarios in play (its
//! quantity), each scenario table graded MODEL (severity factor, displaced share, rain excess,
//! fire shape's elongation) and the drill's deployment hours. The **shortfall** is 1 − the
//! share above over all stages; the table lists each assumption's shortfall at −50 % and
//! +50 % and sorts by the larger move.
//!
//! **Cost.** Categories that no substitute links are independent problems. The sweep reads
//! only requirements due within `at_hours`, so only the connected parts of the substitute
//! graph that hold such a requirement are solved at all; a change that touches some
//! categories re-solves only their part and keeps the other passes; a change of units alone
//! (every step but stock, every assumption but deployment hours) reuses the baseline's
//! own-pass searches (each demand's walk over its category's lines: pricing reads them again
//! instead of searching the index; the answer is a fresh run's); and a step equal to the
//! drill as written reuses the baseline. What the sweep reports is the same as running each
//! altered drill whole (a test holds it so).

use std::collections::BTreeSet;

use serde::Serialize;

use super::passes::{self, OwnSearches, Solver};
use super::{demands_with, offline_suppliers, CategoryOutcome, DemandInfo, Drill, Outcome, Policy};
use crate::catalog::Catalog;
use crate::domain::{CategoryIdx, ChainStage, Grade, Requirement, Scenario, Severity};
use crate::error::Error;

/// The most steps one sweep may run.
pub const SWEEP_STEPS_MAX: usize = 50;
/// Steps when the caller gives none.
pub const SWEEP_STEPS_DEFAULT: usize = 5;
/// The threshold when the caller gives none: 80 % on-time coverage.
pub const SWEEP_THRESHOLD_DEFAULT: f64 = 0.8;
/// The window of the coverage read (hours after each incident's start).
pub const SWEEP_AT_HOURS_DEFAULT: f64 = 24.0;
/// How far each MODEL assumption is moved, both ways.
pub const SENSITIVITY_MOVE: f64 = 0.5;
/// The most assumptions one sensitivity table may hold (requirements × scenarios bound it far
/// below this).
pub const SENSITIVITY_ITEMS_MAX: usize = 2_000;
/// Default ranges of the factor sweeps: population and area from a quarter to four times the
/// drill's, stock from twice to half of it (geometric, so an odd number of steps has the drill
/// as written in the middle).
pub const SCALE_FROM_DEFAULT: f64 = 0.25;
pub const SCALE_TO_DEFAULT: f64 = 4.0;
pub const STOCK_FROM_DEFAULT: f64 = 2.0;
pub const STOCK_TO_DEFAULT: f64 = 0.5;

/// What a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vary {
    Severity,
    Population,
    Area,
    Stock,
}

impl Vary {
    pub const ALL: [Vary; 4] = [Vary::Severity, Vary::Population, Vary::Area, Vary::Stock];

    pub fn key(self) -> &'static str {
        match self {
            Vary::Severity => "severity",
            Vary::Population => "population",
            Vary::Area => "area",
            Vary::Stock => "stock",
        }
    }

    pub fn parse(text: &str) -> Option<Vary> {
        Vary::ALL.into_iter().find(|vary| vary.key() == text)
    }
}

/// A sweep request, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    pub vary: Vary,
    /// Steps for the factor sweeps, in [2, SWEEP_STEPS_MAX]; the severity sweep always runs
    /// the four levels.
    pub steps: usize,
    /// The factor range (population, area, stock): `from` is the least stress. Ignored for
    /// severity.
    pub from: f64,
    pub to: f64,
    pub threshold: f64,
    pub at_hours: f64,
    pub policy: Policy,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SweepReport {
    pub drill_id: String,
    pub catalog_version: String,
    pub policy: String,
    pub vary: String,
    pub threshold: f64,
    pub at_hours: f64,
    /// In order of increasing stress.
    pub steps: Vec<SweepStep>,
    /// One per chain stage, in chain order.
    pub break_points: Vec<BreakPoint>,
    /// The drill as written: its coverage and shortfall, the sensitivity's reference.
    pub baseline: SweepStep,
    /// Largest move first.
    pub sensitivity: Vec<Sensitivity>,
    /// Drill runs the sweep made, whole or in part (the baseline, the steps, two per
    /// assumption).
    pub runs: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SweepStep {
    /// The severity level (I–IV) or the factor applied.
    pub label: String,
    /// The factor (severity: the level's index, IV = 0 … I = 3).
    pub value: f64,
    /// Per chain stage, in chain order: on-time coverage of what is due within `at_hours`;
    /// `None` when nothing in the stage is due that early.
    pub coverage_by_stage: Vec<Option<f64>>,
    /// The same over all stages.
    pub coverage: Option<f64>,
    /// 1 − `coverage` (0 when nothing is due).
    pub shortfall: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BreakPoint {
    pub stage: String,
    /// `falls_below` (between `last_above` and `first_below`), `below_at_every_step`,
    /// `never_below`, or `nothing_due` (no requirement of the stage due within `at_hours`).
    pub status: String,
    pub last_above: Option<String>,
    pub first_below: Option<String>,
    /// Coverage at those two steps.
    pub coverage_last_above: Option<f64>,
    pub coverage_first_below: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sensitivity {
    /// e.g. `rule earthquake/emergency_rescue/relief-tent-family`, `severity_factor earthquake`,
    /// `deployment_hours`.
    pub assumption: String,
    /// rule | severity_factor | displaced_share | rain_excess_mm | fire_shape | deployment_hours
    pub kind: String,
    pub grade: String,
    /// Shortfall with the assumption at −50 % and at +50 %.
    pub shortfall_down: f64,
    pub shortfall_up: f64,
    /// The larger of |shortfall_down − baseline| and |shortfall_up − baseline|.
    pub moves_shortfall_by: f64,
}

/// One MODEL assumption and how to move it.
#[derive(Debug, Clone)]
enum Assumption {
    Rule { scenario: usize, requirement: usize },
    SeverityFactor { scenario: usize },
    DisplacedShare { scenario: usize },
    RainExcess { scenario: usize },
    FireShape { scenario: usize },
    DeploymentHours,
}

/// Runs the sweep. Pure; the caller times it. An error when a step or a moved assumption makes
/// a category too large to allocate (`Error::LimitExceeded`, as a drill run).
pub fn sweep(catalog: &Catalog, drill: &Drill, spec: &SweepSpec) -> Result<SweepReport, Error> {
    let mut engine = Engine::new(catalog, drill, spec.policy, spec.at_hours);
    let baseline_outcome = engine.full(drill, None)?;
    let baseline_on_time = on_time(&baseline_outcome.categories, &baseline_outcome.demands);
    let baseline = step_of(
        "as written",
        f64::NAN,
        &baseline_outcome.demands,
        &baseline_on_time,
        spec.at_hours,
    );
    let own = if drill.prefer_kinds.is_empty() {
        Some(passes::own_searches(&baseline_outcome.categories, &baseline_outcome.demands))
    } else {
        None
    };

    let mut steps = Vec::new();
    for (label, value, stepped) in step_drills(drill, spec) {
        if stepped == *drill {
            steps.push(SweepStep { label, value, ..baseline.clone() });
            continue;
        }
        let outcome = match spec.vary {
            Vary::Stock => engine.full(&stepped, None)?,
            _ => engine.full(&stepped, own.as_ref())?,
        };
        let arrived = on_time(&outcome.categories, &outcome.demands);
        steps.push(step_of(&label, value, &outcome.demands, &arrived, spec.at_hours));
    }
    let break_points = ChainStage::ALL
        .iter()
        .enumerate()
        .map(|(s, stage)| break_point(stage.key(), &steps, s, spec.threshold))
        .collect();

    let mut sensitivity = Vec::new();
    for assumption in assumptions(catalog, drill).into_iter().take(SENSITIVITY_ITEMS_MAX) {
        let mut moved = Vec::with_capacity(2);
        for factor in [1.0 - SENSITIVITY_MOVE, 1.0 + SENSITIVITY_MOVE] {
            let (demands, arrived) = engine.moved(
                &baseline_outcome,
                &baseline_on_time,
                &assumption,
                factor,
                own.as_ref(),
            )?;
            moved.push(step_of("", factor, &demands, &arrived, spec.at_hours).shortfall);
        }
        let moves =
            (moved[0] - baseline.shortfall).abs().max((moved[1] - baseline.shortfall).abs());
        let (name, kind) = describe(catalog, &assumption);
        sensitivity.push(Sensitivity {
            assumption: name,
            kind: kind.to_owned(),
            grade: Grade::Model.key().to_owned(),
            shortfall_down: moved[0],
            shortfall_up: moved[1],
            moves_shortfall_by: moves,
        });
    }
    sensitivity.sort_by(|a, b| {
        b.moves_shortfall_by.total_cmp(&a.moves_shortfall_by).then(a.assumption.cmp(&b.assumption))
    });

    Ok(SweepReport {
        drill_id: drill.id.to_string(),
        catalog_version: catalog.version.clone(),
        policy: spec.policy.key().to_owned(),
        vary: spec.vary.key().to_owned(),
        threshold: spec.threshold,
        at_hours: spec.at_hours,
        steps,
        break_points,
        baseline,
        sensitivity,
        runs: engine.runs,
    })
}

/// The drills of the steps, least stress first: (label, value, drill).
fn step_drills(drill: &Drill, spec: &SweepSpec) -> Vec<(String, f64, Drill)> {
    if spec.vary == Vary::Severity {
        return Severity::ALL
            .iter()
            .map(|level| {
                let mut stepped = drill.clone();
                for incident in &mut stepped.incidents {
                    incident.severity = *level;
                }
                (level.roman().to_owned(), level.index() as f64, stepped)
            })
            .collect();
    }
    let n = spec.steps.clamp(2, SWEEP_STEPS_MAX);
    (0..n)
        .map(|k| {
            // Geometric from `from` to `to`.
            let factor = spec.from * (spec.to / spec.from).powf(k as f64 / (n - 1) as f64);
            let mut stepped = drill.clone();
            match spec.vary {
                Vary::Population => {
                    for incident in &mut stepped.incidents {
                        incident.affected_population *= factor;
                    }
                }
                Vary::Area => {
                    for incident in &mut stepped.incidents {
                        incident.affected_area_km2 *= factor;
                    }
                }
                Vary::Stock => stepped.what_if.stock_factor *= factor,
                Vary::Severity => {}
            }
            (format!("×{}", crate::domain::rule_number(factor)), factor, stepped)
        })
        .collect()
}

/// Per demand: units arrived by the deadline (substitutes at their efficiency).
fn on_time(passes: &[CategoryOutcome], demands: &[DemandInfo]) -> Vec<f64> {
    let mut arrived = vec![0.0; demands.len()];
    super::report::add_on_time_units(passes, demands, &mut arrived);
    arrived
}

fn step_of(
    label: &str,
    value: f64,
    demands: &[DemandInfo],
    on_time: &[f64],
    at_hours: f64,
) -> SweepStep {
    let (coverage_by_stage, coverage) =
        super::report::coverage_due_within(demands, on_time, at_hours);
    SweepStep {
        label: label.to_owned(),
        value,
        coverage_by_stage,
        coverage,
        shortfall: coverage.map_or(0.0, |c| 1.0 - c),
    }
}

fn break_point(stage: &str, steps: &[SweepStep], s: usize, threshold: f64) -> BreakPoint {
    let mut point = BreakPoint {
        stage: stage.to_owned(),
        status: "never_below".to_owned(),
        last_above: None,
        first_below: None,
        coverage_last_above: None,
        coverage_first_below: None,
    };
    if steps.iter().all(|step| step.coverage_by_stage[s].is_none()) {
        point.status = "nothing_due".to_owned();
        return point;
    }
    let mut previous: Option<&SweepStep> = None;
    for step in steps {
        let Some(coverage) = step.coverage_by_stage[s] else { continue };
        if coverage < threshold {
            point.first_below = Some(step.label.clone());
            point.coverage_first_below = Some(coverage);
            match previous {
                Some(above) => {
                    point.status = "falls_below".to_owned();
                    point.last_above = Some(above.label.clone());
                    point.coverage_last_above = above.coverage_by_stage[s];
                }
                None => point.status = "below_at_every_step".to_owned(),
            }
            return point;
        }
        previous = Some(step);
    }
    point
}

/// The MODEL assumptions the drill reads, in a fixed order: per scenario in play (in id
/// order), its MODEL tables, then its MODEL requirement rules in file order; then the
/// drill's deployment hours.
fn assumptions(catalog: &Catalog, drill: &Drill) -> Vec<Assumption> {
    let mut in_play: Vec<usize> = drill
        .incidents
        .iter()
        .filter_map(|incident| {
            catalog.scenarios.iter().position(|s| s.id.as_str() == incident.scenario.as_str())
        })
        .collect();
    in_play.sort_unstable();
    in_play.dedup();
    let mut list = Vec::new();
    for s in in_play {
        let scenario = &catalog.scenarios[s];
        let scaled = scenario.requirements.iter().any(|r| r.scales_with_severity);
        if scaled && scenario.severity_provenance.grade == Grade::Model {
            list.push(Assumption::SeverityFactor { scenario: s });
        }
        if scenario.displaced_share.as_ref().is_some_and(|t| t.provenance.grade == Grade::Model) {
            list.push(Assumption::DisplacedShare { scenario: s });
        }
        if scenario.rain_excess_mm.as_ref().is_some_and(|t| t.provenance.grade == Grade::Model) {
            list.push(Assumption::RainExcess { scenario: s });
        }
        if scenario.fire_shape.as_ref().is_some_and(|t| t.provenance.grade == Grade::Model) {
            list.push(Assumption::FireShape { scenario: s });
        }
        for (r, requirement) in scenario.requirements.iter().enumerate() {
            if requirement.provenance.grade == Grade::Model {
                list.push(Assumption::Rule { scenario: s, requirement: r });
            }
        }
    }
    if drill.provenance.grade == Grade::Model {
        list.push(Assumption::DeploymentHours);
    }
    list
}

fn describe(catalog: &Catalog, assumption: &Assumption) -> (String, &'static str) {
    let id = |s: &usize| catalog.scenarios[*s].id.as_str();
    match assumption {
        Assumption::Rule { scenario, requirement } => {
            let r = &catalog.scenarios[*scenario].requirements[*requirement];
            (
                format!(
                    "rule {}/{}/{}",
                    id(scenario),
                    r.stage.key(),
                    catalog.category(r.category).id
                ),
                "rule",
            )
        }
        Assumption::SeverityFactor { scenario } => {
            (format!("severity_factor {}", id(scenario)), "severity_factor")
        }
        Assumption::DisplacedShare { scenario } => {
            (format!("displaced_share {}", id(scenario)), "displaced_share")
        }
        Assumption::RainExcess { scenario } => {
            (format!("rain_excess_mm {}", id(scenario)), "rain_excess_mm")
        }
        Assumption::FireShape { scenario } => {
            (format!("fire_shape {}", id(scenario)), "fire_shape")
        }
        Assumption::DeploymentHours => ("deployment_hours".to_owned(), "deployment_hours"),
    }
}

/// A requirement's quantity rule scaled by `factor`: every number that adds units (a cap is
/// left as it is).
fn scale_rule(requirement: &mut Requirement, factor: f64) {
    requirement.base_quantity *= factor;
    for rate in [
        &mut requirement.per_population,
        &mut requirement.per_area_km2,
        &mut requirement.per_displaced,
        &mut requirement.per_fire_line_km,
    ]
    .into_iter()
    .flatten()
    {
        rate.quantity *= factor;
    }
    if let Some(pumping) = &mut requirement.pumping {
        pumping.share *= factor;
    }
}

/// Runs drills whole or in part and counts the runs.
struct Engine<'a> {
    catalog: &'a Catalog,
    /// The drill as written (the baseline of `moved`).
    drill: &'a Drill,
    policy: Policy,
    offline: Vec<bool>,
    /// Per category: its connected part of the substitute graph (a representative index).
    component: Vec<usize>,
    /// The parts holding a requirement due within the sweep's hours: the only ones solved.
    relevant: BTreeSet<usize>,
    /// Categories per part.
    part_size: std::collections::BTreeMap<usize, usize>,
    runs: usize,
}

impl<'a> Engine<'a> {
    fn new(catalog: &'a Catalog, drill: &'a Drill, policy: Policy, at_hours: f64) -> Engine<'a> {
        // Union-find over "stands in for".
        let n = catalog.categories.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for (c, category) in catalog.categories.iter().enumerate() {
            for substitute in &category.substitutes {
                let (a, b) =
                    (root(&mut parent, c), root(&mut parent, substitute.category.0 as usize));
                parent[a.max(b)] = a.min(b);
            }
        }
        let component: Vec<usize> = (0..n).map(|c| root(&mut parent, c)).collect();
        // Windows come from the requirements, whatever the sweep changes.
        let relevant = drill
            .incidents
            .iter()
            .filter_map(|incident| catalog.scenario_by_id(incident.scenario.as_str()))
            .flat_map(|scenario| scenario.requirements.iter())
            .filter(|requirement| requirement.needed_within_hours <= at_hours + 1e-9)
            .map(|requirement| component[requirement.category.0 as usize])
            .collect();
        let mut part_size = std::collections::BTreeMap::new();
        for part in &component {
            *part_size.entry(*part).or_insert(0) += 1;
        }
        Engine {
            catalog,
            drill,
            policy,
            offline: offline_suppliers(catalog, &drill.what_if, drill.seed),
            component,
            relevant,
            part_size,
            runs: 0,
        }
    }

    /// The drill's relevant parts (with `own` problems reused where the requirements match).
    fn full(&mut self, drill: &Drill, own: Option<&OwnSearches>) -> Result<Outcome, Error> {
        self.runs += 1;
        let offline = offline_suppliers(self.catalog, &drill.what_if, drill.seed);
        let demands = demands_with(drill, &|id| self.catalog.scenario_by_id(id));
        let relevant = self.relevant.clone();
        self.solve(drill, &offline, demands, Some(&relevant), own)
    }

    /// The baseline with one assumption moved by `factor`: the demands, and per demand the
    /// units arrived by its deadline. Only the parts of the substitute graph whose units
    /// changed are solved again; the rest keep the baseline's arrivals.
    fn moved(
        &mut self,
        baseline: &Outcome,
        baseline_on_time: &[f64],
        assumption: &Assumption,
        factor: f64,
        own: Option<&OwnSearches>,
    ) -> Result<(Vec<DemandInfo>, Vec<f64>), Error> {
        self.runs += 1;
        let catalog = self.catalog;
        match assumption {
            Assumption::DeploymentHours => {
                let mut moved = self.drill.clone();
                for hours in &mut moved.deployment_hours {
                    *hours *= factor;
                }
                let offline = self.offline.clone();
                let demands = demands_with(&moved, &|id| catalog.scenario_by_id(id));
                let relevant = self.relevant.clone();
                let outcome = self.solve(&moved, &offline, demands, Some(&relevant), None)?;
                let arrived = on_time(&outcome.categories, &outcome.demands);
                Ok((outcome.demands, arrived))
            }
            _ => {
                let s = match assumption {
                    Assumption::Rule { scenario, .. }
                    | Assumption::SeverityFactor { scenario }
                    | Assumption::DisplacedShare { scenario }
                    | Assumption::RainExcess { scenario }
                    | Assumption::FireShape { scenario } => *scenario,
                    Assumption::DeploymentHours => unreachable!("handled above"),
                };
                let mut scenario: Scenario = catalog.scenarios[s].clone();
                match assumption {
                    Assumption::Rule { requirement, .. } => {
                        scale_rule(&mut scenario.requirements[*requirement], factor)
                    }
                    Assumption::SeverityFactor { .. } => {
                        for value in &mut scenario.severity_factor {
                            *value *= factor;
                        }
                    }
                    Assumption::DisplacedShare { .. } => {
                        if let Some(table) = &mut scenario.displaced_share {
                            for value in &mut table.values {
                                *value = (*value * factor).min(1.0);
                            }
                        }
                    }
                    Assumption::RainExcess { .. } => {
                        if let Some(table) = &mut scenario.rain_excess_mm {
                            for value in &mut table.values {
                                *value *= factor;
                            }
                        }
                    }
                    Assumption::FireShape { .. } => {
                        if let Some(shape) = &mut scenario.fire_shape {
                            shape.length_to_breadth = (shape.length_to_breadth * factor).max(1.0);
                        }
                    }
                    Assumption::DeploymentHours => {}
                }
                let drill = self.drill;
                let demands = self.moved_demands(baseline, &scenario, assumption);
                // The relevant parts whose units changed.
                let touched: BTreeSet<usize> = demands
                    .iter()
                    .zip(&baseline.demands)
                    .filter(|(now, before)| now.units != before.units)
                    .map(|(now, _)| self.component[now.category.0 as usize])
                    .filter(|part| self.relevant.contains(part))
                    .collect();
                let same_requirements = demands.len() == baseline.demands.len()
                    && demands.iter().zip(&baseline.demands).all(|(a, b)| {
                        (a.incident, a.category, a.stage) == (b.incident, b.category, b.stage)
                    });
                let offline = self.offline.clone();
                if !same_requirements {
                    let relevant = self.relevant.clone();
                    let outcome = self.solve(drill, &offline, demands, Some(&relevant), own)?;
                    let arrived = on_time(&outcome.categories, &outcome.demands);
                    return Ok((outcome.demands, arrived));
                }
                let mut arrived = baseline_on_time.to_vec();
                let mut touched = touched;
                // A part of one category whose demands were all on time in full stays so when
                // units only fall: the smaller demands are met on time by part of the same
                // allocation, and under either policy no optimum leaves a unit late or unmet
                // when none need be. Its arrivals are then the new units; no solve needed.
                if drill.prefer_kinds.is_empty() {
                    touched.retain(|part| {
                        if self.part_size[part] != 1 {
                            return true;
                        }
                        let ds: Vec<usize> = (0..demands.len())
                            .filter(|d| self.component[demands[*d].category.0 as usize] == *part)
                            .collect();
                        let stays_on_time = ds.iter().all(|d| {
                            let before = baseline.demands[*d].units;
                            demands[*d].units <= before
                                && baseline_on_time[*d] >= before as f64 - 1e-9
                        });
                        if stays_on_time {
                            for d in &ds {
                                arrived[*d] = demands[*d].units as f64;
                            }
                        }
                        !stays_on_time
                    });
                }
                if touched.is_empty() {
                    self.runs -= 1;
                    return Ok((demands, arrived));
                }
                let outcome = self.solve(drill, &offline, demands, Some(&touched), own)?;
                // The touched parts' demands take their new arrivals; the others keep theirs.
                for (d, demand) in outcome.demands.iter().enumerate() {
                    if touched.contains(&self.component[demand.category.0 as usize]) {
                        arrived[d] = 0.0;
                    }
                }
                super::report::add_on_time_units(
                    &outcome.categories,
                    &outcome.demands,
                    &mut arrived,
                );
                Ok((outcome.demands, arrived))
            }
        }
    }

    /// The baseline's demands with the units the altered scenario gives: only the demands the
    /// assumption reads are computed again (a rule: its own requirement; a table: every
    /// requirement of the scenario). The quantity rule is `Scenario::quantity`, as in a run.
    fn moved_demands(
        &self,
        baseline: &Outcome,
        scenario: &Scenario,
        assumption: &Assumption,
    ) -> Vec<DemandInfo> {
        let rule = match assumption {
            Assumption::Rule { requirement, .. } => Some(&scenario.requirements[*requirement]),
            _ => None,
        };
        let mut demands = baseline.demands.clone();
        for demand in &mut demands {
            let incident = &self.drill.incidents[demand.incident];
            if incident.scenario.as_str() != scenario.id.as_str() {
                continue;
            }
            let requirement = match rule {
                Some(rule) if (rule.category, rule.stage) == (demand.category, demand.stage) => {
                    rule
                }
                Some(_) => continue,
                None => match scenario
                    .requirements
                    .iter()
                    .find(|r| (r.category, r.stage) == (demand.category, demand.stage))
                {
                    Some(requirement) => requirement,
                    None => continue,
                },
            };
            let impact = crate::domain::Impact {
                severity: incident.severity,
                affected_population: incident.affected_population,
                affected_area_km2: incident.affected_area_km2,
            };
            demand.units = scenario.quantity(requirement, &impact).units as i64;
        }
        demands
    }

    /// Solves the categories of `only` parts of the substitute graph (all when `None`); the
    /// outcome holds their passes only.
    fn solve(
        &self,
        drill: &Drill,
        offline: &[bool],
        mut demands: Vec<DemandInfo>,
        only: Option<&BTreeSet<usize>>,
        own: Option<&OwnSearches>,
    ) -> Result<Outcome, Error> {
        let mut by_category: Vec<Vec<usize>> = vec![Vec::new(); self.catalog.categories.len()];
        for (d, demand) in demands.iter().enumerate() {
            by_category[demand.category.0 as usize].push(d);
        }
        let in_scope =
            |c: CategoryIdx| only.is_none_or(|only| only.contains(&self.component[c.0 as usize]));
        let order: Vec<CategoryIdx> = passes::solve_order(self.catalog, &by_category)
            .into_iter()
            .filter(|c| in_scope(*c))
            .collect();
        let mut solver = Solver::new(self.catalog, drill, self.policy, offline, &demands);
        if let Some(own) = own {
            solver = solver.with_own_searches(own);
        }
        for &category in &order {
            solver.solve_category(category, &mut demands, &by_category)?;
        }
        Ok(Outcome {
            policy: self.policy,
            demands,
            categories: solver.into_outcomes(),
            suppliers_offline: offline.iter().filter(|o| **o).count(),
        })
    }
}

#[cfg(test)]
mod tests;
