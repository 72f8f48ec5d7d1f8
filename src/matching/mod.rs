//! The matching engine: from a scenario and an incident to quantities per chain stage, ranked
//! and explained supplier options, and a sourcing plan; and ranked shortlists for procurement.
//!
//! Pure: no I/O, no clock, no randomness. Inputs are validated queries (built by the gRPC
//! layer or the CLI); on a valid query it never fails. Same catalog and query, same answer.

pub mod eta;
mod plan;
mod plan_search;
mod score;
mod search;

pub use crate::domain::{HeldStock, NoHolds};
pub use plan::PlanEntry;
pub use score::{arrival_value, zone_value, Criterion, ScorePart, Weights, WEIGHT_MAX};
pub use search::{Candidate, Filters, LINES_EXAMINED_MAX};

use search::{Source, Spec};

use crate::catalog::Catalog;
use crate::domain::{
    CategoryIdx, ChainStage, HolderKind, Impact, LatLon, Priority, Provenance, Requirement,
    Scenario, Severity,
};

/// The most options one requirement may ask for, and the default.
pub const OPTIONS_PER_REQUIREMENT_MAX: usize = 50;
pub const OPTIONS_PER_REQUIREMENT_DEFAULT: usize = 5;
/// The most entries a shortlist may ask for, and the default.
pub const SHORTLIST_COUNT_MAX: usize = 200;
pub const SHORTLIST_COUNT_DEFAULT: usize = 20;
/// The most categories one shortlist may name.
pub const SHORTLIST_CATEGORIES_MAX: usize = 20;
/// A procurement shortlist's delivery window when the request gives none: the "golden
/// 72 hours" of collapsed-structure rescue (domain-facts §2.1), the longest common window.
pub const SHORTLIST_WINDOW_HOURS_DEFAULT: f64 = 72.0;
/// The largest affected population accepted (more than any country).
pub const AFFECTED_POPULATION_MAX: f64 = 2e9;
/// The largest affected area accepted (km²): larger than China.
pub const AFFECTED_AREA_KM2_MAX: f64 = 2e7;

/// A validated Match request.
#[derive(Debug, Clone)]
pub struct MatchQuery<'a> {
    pub scenario: &'a Scenario,
    pub severity: Severity,
    pub location: LatLon,
    pub affected_population: f64,
    pub affected_area_km2: f64,
    pub options_per_requirement: usize,
    pub max_eta_hours: Option<f64>,
    pub filters: Filters,
    pub weights: Weights,
    /// Sorted; the plan draws on these holders first (`preferred_plan`). Empty: no preference.
    pub prefer_kinds: Vec<HolderKind>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchResult {
    pub scenario_id: String,
    pub severity: Severity,
    pub catalog_version: String,
    /// Priority-weighted mean of the requirements' coverage (critical 3, important 2,
    /// supporting 1).
    pub coverage: f64,
    pub stages: Vec<StageResult>,
    /// The weights every score was computed with (for the score parts).
    pub weights: Weights,
}

impl MatchResult {
    /// Requirements whose search stopped at `LINES_EXAMINED_MAX`.
    pub fn searches_cut(&self) -> usize {
        self.stages
            .iter()
            .flat_map(|stage| stage.requirements.iter())
            .filter(|requirement| requirement.search_cut)
            .count()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageResult {
    pub stage: ChainStage,
    /// Priority-weighted mean of the stage's requirements' coverage.
    pub coverage: f64,
    pub requirements: Vec<RequirementResult>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequirementResult {
    pub category: CategoryIdx,
    pub quantity_required: f64,
    pub priority: Priority,
    pub needed_within_hours: f64,
    /// What the rule asks before its cap: equals `quantity_required` unless the cap binds.
    pub quantity_uncapped: f64,
    /// The quantity rule with this incident's numbers, e.g.
    /// `ceil(2.5 × (2 + 1 × 120000 people ÷ 30000)) = 15`; it ends with `, capped at N` when the
    /// cap binds (see `domain::Quantity`).
    pub rule: String,
    /// Ranked: on time before late, then score, then supplier id, then category id.
    pub options: Vec<Candidate>,
    pub plan: Vec<PlanEntry>,
    /// In the required category's units (substitutes counted at their efficiency).
    pub quantity_planned: f64,
    /// quantity_planned ÷ quantity_required, at most 1.
    pub coverage: f64,
    pub shortfall: f64,
    /// Stock lines evaluated for this requirement (options and plan; a line can count twice).
    pub lines_examined: usize,
    /// A search stopped at `LINES_EXAMINED_MAX`: the options and plan are the best among the
    /// lines evaluated, not necessarily among all. Never the case on a national registry.
    pub search_cut: bool,
    /// Where the rule's numbers come from.
    pub provenance: Provenance,
}

/// Quantities per stage, ranked options and a plan for every requirement of the scenario.
pub fn match_incident(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &MatchQuery<'_>,
) -> MatchResult {
    match_with(catalog, held, query, Method::Indexed)
}

/// `match_incident` by evaluating every stock line of every category involved, ranking them
/// all and planning over all of them: the brute-force reference for tests and benchmarks.
/// Its options and plans are the same as `match_incident`'s (a unit test compares them).
pub fn match_incident_scan(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &MatchQuery<'_>,
) -> MatchResult {
    match_with(catalog, held, query, Method::Scan)
}

/// How candidates are found: through the indexes, or by evaluating every line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Indexed,
    Scan,
}

fn match_with(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &MatchQuery<'_>,
    method: Method,
) -> MatchResult {
    let scenario = query.scenario;
    let impact = Impact {
        severity: query.severity,
        affected_population: query.affected_population,
        affected_area_km2: query.affected_area_km2,
    };
    let mut stages = Vec::with_capacity(ChainStage::ALL.len());
    for stage in ChainStage::ALL {
        let requirements: Vec<RequirementResult> = scenario
            .stage_requirements(stage)
            .map(|requirement| {
                requirement_result(catalog, held, query, requirement, &impact, method)
            })
            .collect();
        let coverage = weighted_coverage(requirements.iter());
        stages.push(StageResult { stage, coverage, requirements });
    }
    MatchResult {
        scenario_id: scenario.id.to_string(),
        severity: query.severity,
        catalog_version: catalog.version.clone(),
        coverage: weighted_coverage(stages.iter().flat_map(|stage| stage.requirements.iter())),
        stages,
        weights: query.weights,
    }
}

/// `filters` narrowed to holders of `kinds` (within the kinds it already allows), or to every
/// allowed kind but those.
fn narrowed(filters: &Filters, kinds: &[HolderKind], keep: bool) -> Filters {
    let allowed: Vec<HolderKind> = if filters.holder_kinds.is_empty() {
        HolderKind::ALL.to_vec()
    } else {
        filters.holder_kinds.clone()
    };
    let holder_kinds: Vec<HolderKind> =
        allowed.into_iter().filter(|kind| kinds.contains(kind) == keep).collect();
    Filters { holder_kinds, ..filters.clone() }
}

/// The plan with preferred holders first: a plan over the preferred holders' lines (the
/// category and its substitutes, searched with the kind filter), then a plan over the other
/// holders' lines for what it leaves — each found as `method` finds a plan. An empty kind list
/// searches nothing. Returns the plan, the lines the searches evaluated and whether one was
/// cut.
fn preferred_plan(
    catalog: &Catalog,
    spec: &Spec<'_>,
    sources: &[Source],
    prefer: &[HolderKind],
    method: Method,
) -> (Vec<PlanEntry>, usize, bool) {
    let (mut plan, mut examined, mut cut) = (Vec::new(), 0, false);
    let required = spec.quantity_required;
    let mut left = required;
    for keep in [true, false] {
        let filters = narrowed(spec.filters, prefer, keep);
        if filters.holder_kinds.is_empty()
            || left <= 0.0
            || plan::is_covered(required - left, required)
        {
            continue;
        }
        let narrowed_spec = Spec { filters: &filters, quantity_required: left, ..*spec };
        let part = match method {
            Method::Indexed => {
                let mut work = plan_search::Work::default();
                let part = plan_search::plan(
                    catalog,
                    &narrowed_spec,
                    sources[0],
                    &sources[1..],
                    left,
                    &mut work,
                );
                examined += work.examined;
                cut |= work.cut;
                part
            }
            Method::Scan => {
                let mut pool = Vec::new();
                for source in sources {
                    let found = search::scan(catalog, *source, &narrowed_spec);
                    examined += found.examined;
                    pool.extend(found.candidates);
                }
                plan::plan(catalog, &pool, left)
            }
        };
        left -= part.iter().map(|entry| entry.quantity_equivalent).sum::<f64>();
        plan.extend(part);
    }
    (plan, examined, cut)
}

fn requirement_result(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &MatchQuery<'_>,
    requirement: &Requirement,
    impact: &Impact,
    method: Method,
) -> RequirementResult {
    let quantity = query.scenario.quantity(requirement, impact);
    let quantity_required = quantity.units;
    let spec = Spec {
        at: Some(query.location.unit_vector()),
        window_hours: requirement.needed_within_hours,
        quantity_required,
        max_eta_hours: query.max_eta_hours,
        filters: &query.filters,
        weights: &query.weights,
        held,
        lines_examined_max: LINES_EXAMINED_MAX,
    };
    let primary = Source::primary(requirement.category);
    let sources: Vec<Source> = std::iter::once(primary)
        .chain(catalog.category(requirement.category).substitutes.iter().map(|substitute| Source {
            category: substitute.category,
            efficiency: Some(substitute.efficiency),
        }))
        .collect();
    let keep = query.options_per_requirement;
    let (options, mut plan, mut lines_examined, mut search_cut) = match method {
        Method::Indexed => {
            let mut found = search::options(catalog, &sources, &spec, keep);
            let mut work = plan_search::Work::default();
            let plan = plan_search::plan(
                catalog,
                &spec,
                primary,
                &sources[1..],
                quantity_required,
                &mut work,
            );
            found.add_work(&work);
            (found.candidates, plan, found.examined, found.cut)
        }
        Method::Scan => {
            let (mut pool, mut examined) = (Vec::new(), 0);
            for source in &sources {
                let found = search::scan(catalog, *source, &spec);
                examined += found.examined;
                pool.extend(found.candidates);
            }
            let plan = plan::plan(catalog, &pool, quantity_required);
            search::rank(catalog, &mut pool, keep);
            (pool, plan, examined, false)
        }
    };
    if !query.prefer_kinds.is_empty() {
        let (preferred, examined, cut) =
            preferred_plan(catalog, &spec, &sources, &query.prefer_kinds, method);
        plan = preferred;
        lines_examined += examined;
        search_cut |= cut;
    }
    // The quantities are ≥ 0, but an empty sum is -0.0, which prints as "-0".
    let planned: f64 = plan.iter().map(|entry| entry.quantity_equivalent).sum::<f64>().abs();
    // Efficiencies are not exact in binary: 30 × 0.7 covers 21 in full.
    let quantity_planned =
        if plan::is_covered(planned, quantity_required) { quantity_required } else { planned };
    RequirementResult {
        category: requirement.category,
        quantity_required,
        priority: requirement.priority,
        needed_within_hours: requirement.needed_within_hours,
        quantity_uncapped: quantity.uncapped,
        rule: quantity.rule,
        options,
        plan,
        quantity_planned,
        coverage: if quantity_required > 0.0 { quantity_planned / quantity_required } else { 1.0 },
        shortfall: (quantity_required - quantity_planned).max(0.0),
        lines_examined,
        search_cut,
        provenance: requirement.provenance.clone(),
    }
}

fn priority_weight(priority: Priority) -> f64 {
    match priority {
        Priority::Critical => 3.0,
        Priority::Important => 2.0,
        Priority::Supporting => 1.0,
    }
}

fn weighted_coverage<'a>(requirements: impl Iterator<Item = &'a RequirementResult>) -> f64 {
    let (mut covered, mut total) = (0.0, 0.0);
    for requirement in requirements {
        let weight = priority_weight(requirement.priority);
        covered += weight * requirement.coverage;
        total += weight;
    }
    if total > 0.0 {
        covered / total
    } else {
        1.0
    }
}

/// A validated Shortlist request.
#[derive(Debug, Clone)]
pub struct ShortlistQuery {
    /// Distinct, in request order.
    pub categories: Vec<CategoryIdx>,
    pub quantity: f64,
    pub location: Option<LatLon>,
    pub window_hours: f64,
    pub count: usize,
    pub filters: Filters,
    pub weights: Weights,
    /// Sorted; entries of these holders come first, each group ranked as usual. Empty: one
    /// ranking.
    pub prefer_kinds: Vec<HolderKind>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShortlistResult {
    pub catalog_version: String,
    pub entries: Vec<Candidate>,
    /// Stock lines evaluated.
    pub lines_examined: usize,
    /// The search stopped at `LINES_EXAMINED_MAX` (see `RequirementResult::search_cut`).
    pub search_cut: bool,
    /// The weights every score was computed with (for the score parts).
    pub weights: Weights,
}

/// Ranked suppliers of one or more categories for a quantity, with the same score as Match.
pub fn shortlist(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &ShortlistQuery,
) -> ShortlistResult {
    shortlist_with(catalog, held, query, Method::Indexed)
}

/// The same answer as `shortlist`, by evaluating every stock line of the categories: the
/// brute-force reference for tests and benchmarks.
pub fn shortlist_scan(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &ShortlistQuery,
) -> ShortlistResult {
    shortlist_with(catalog, held, query, Method::Scan)
}

fn shortlist_with(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &ShortlistQuery,
    method: Method,
) -> ShortlistResult {
    // Without a preference one group: the query's own filters. With one, the preferred
    // holders' group, then the others', each ranked as usual.
    let groups: Vec<Filters> = if query.prefer_kinds.is_empty() {
        vec![query.filters.clone()]
    } else {
        [true, false]
            .iter()
            .map(|keep| narrowed(&query.filters, &query.prefer_kinds, *keep))
            .filter(|filters| !filters.holder_kinds.is_empty())
            .collect()
    };
    let sources: Vec<Source> = query.categories.iter().map(|c| Source::primary(*c)).collect();
    let (mut entries, mut lines_examined, mut search_cut) = (Vec::new(), 0, false);
    for filters in &groups {
        let count = query.count - entries.len();
        if count == 0 {
            break;
        }
        let spec = Spec {
            at: query.location.map(LatLon::unit_vector),
            window_hours: query.window_hours,
            quantity_required: query.quantity,
            max_eta_hours: None,
            filters,
            weights: &query.weights,
            held,
            lines_examined_max: LINES_EXAMINED_MAX,
        };
        let mut group = match method {
            Method::Indexed => {
                let found = search::options(catalog, &sources, &spec, count);
                lines_examined += found.examined;
                search_cut |= found.cut;
                found.candidates
            }
            Method::Scan => {
                let mut group = Vec::new();
                for source in &sources {
                    let found = search::scan(catalog, *source, &spec);
                    lines_examined += found.examined;
                    group.extend(found.candidates);
                }
                group
            }
        };
        search::rank(catalog, &mut group, count);
        entries.extend(group);
    }
    ShortlistResult {
        catalog_version: catalog.version.clone(),
        entries,
        lines_examined,
        search_cut,
        weights: query.weights,
    }
}

#[cfg(test)]
mod tests;
