//! The matching engine: from a scenario and an incident to quantities per chain stage, ranked
//! and explained supplier options, and a sourcing plan; and ranked shortlists for procurement.
//!
//! Pure: no I/O, no clock, no randomness. Inputs are validated queries (built by the gRPC
//! layer or the CLI); on a valid query it never fails. Same catalog and query, same answer.

pub mod eta;
mod held;
mod plan;
mod score;
mod search;

pub use held::{HeldStock, NoHolds};
pub use plan::PlanEntry;
pub use score::{arrival_value, zone_value, Criterion, ScorePart, Weights, WEIGHT_MAX};
pub use search::{Candidate, Filters, CANDIDATES_EXAMINED_MAX};

use crate::catalog::Catalog;
use crate::domain::{
    CategoryIdx, ChainStage, HolderKind, Impact, LatLon, Priority, Provenance, Scenario, Severity,
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
    /// Stock lines looked at for this requirement (bounded by `CANDIDATES_EXAMINED_MAX` per
    /// category searched).
    pub candidates_examined: usize,
    /// Some search stopped at `CANDIDATES_EXAMINED_MAX`: the options are the best among the
    /// lines examined, not necessarily among all.
    pub bound_reached: bool,
    /// Where the rule's numbers come from.
    pub provenance: Provenance,
}

/// Quantities per stage, ranked options and a plan for every requirement of the scenario.
pub fn match_incident(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &MatchQuery<'_>,
) -> MatchResult {
    match_with(catalog, held, query, search::search)
}

/// `match_incident` by evaluating every stock line of every category involved: the
/// brute-force reference for benchmarks. Its ranked options are the same; its plans may use
/// fewer suppliers, since they choose among every on-time line rather than among those the
/// settled search looked at.
pub fn match_incident_scan(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &MatchQuery<'_>,
) -> MatchResult {
    match_with(catalog, held, query, search::scan)
}

fn match_with(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &MatchQuery<'_>,
    search_fn: SearchFn,
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
                let quantity = scenario.quantity(requirement, &impact);
                let quantity_required = quantity.units;
                let spec = search::Spec {
                    location: Some(query.location),
                    window_hours: requirement.needed_within_hours,
                    quantity_required,
                    options: query.options_per_requirement,
                    max_eta_hours: query.max_eta_hours,
                    filters: &query.filters,
                    weights: &query.weights,
                    held,
                };
                let primary = search_fn(catalog, requirement.category, None, &spec);
                let mut candidates_examined = primary.examined;
                let mut bound_reached = primary.bound_reached;
                let mut pool = primary.candidates;
                for substitute in &catalog.category(requirement.category).substitutes {
                    let found =
                        search_fn(catalog, substitute.category, Some(substitute.efficiency), &spec);
                    candidates_examined += found.examined;
                    bound_reached |= found.bound_reached;
                    pool.extend(found.candidates);
                }
                let plan = if query.prefer_kinds.is_empty() {
                    plan::plan(&pool, quantity_required)
                } else {
                    let (plan, examined, bound) = preferred_plan(
                        catalog,
                        requirement.category,
                        &spec,
                        search_fn,
                        &query.prefer_kinds,
                    );
                    candidates_examined += examined;
                    bound_reached |= bound;
                    plan
                };
                let quantity_planned: f64 = plan
                    .iter()
                    .map(|entry| entry.quantity_equivalent)
                    .sum::<f64>()
                    // The quantities are ≥ 0, but an empty sum is -0.0, which prints as "-0".
                    .abs()
                    .min(quantity_required);
                search::rank(&mut pool, query.options_per_requirement);
                RequirementResult {
                    category: requirement.category,
                    quantity_required,
                    priority: requirement.priority,
                    needed_within_hours: requirement.needed_within_hours,
                    quantity_uncapped: quantity.uncapped,
                    rule: quantity.rule,
                    options: pool,
                    plan,
                    quantity_planned,
                    coverage: if quantity_required > 0.0 {
                        quantity_planned / quantity_required
                    } else {
                        1.0
                    },
                    shortfall: (quantity_required - quantity_planned).max(0.0),
                    candidates_examined,
                    bound_reached,
                    provenance: requirement.provenance.clone(),
                }
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

/// The plan with preferred holders first: a plan over the preferred holders' on-time lines
/// (the category and its substitutes, searched with the kind filter), then a plan over the
/// other holders' lines for what it leaves. An empty kind list searches nothing. Returns the
/// plan and what the two searches examined.
fn preferred_plan(
    catalog: &Catalog,
    category: CategoryIdx,
    spec: &search::Spec<'_>,
    search_fn: SearchFn,
    prefer: &[HolderKind],
) -> (Vec<PlanEntry>, usize, bool) {
    let mut examined = 0;
    let mut bound_reached = false;
    let mut plan = Vec::new();
    let mut left = spec.quantity_required;
    for keep in [true, false] {
        let filters = narrowed(spec.filters, prefer, keep);
        if filters.holder_kinds.is_empty() || left <= 0.0 {
            continue;
        }
        let narrowed_spec = search::Spec { filters: &filters, quantity_required: left, ..*spec };
        let mut pool = Vec::new();
        let found = search_fn(catalog, category, None, &narrowed_spec);
        examined += found.examined;
        bound_reached |= found.bound_reached;
        pool.extend(found.candidates);
        for substitute in &catalog.category(category).substitutes {
            let found = search_fn(
                catalog,
                substitute.category,
                Some(substitute.efficiency),
                &narrowed_spec,
            );
            examined += found.examined;
            bound_reached |= found.bound_reached;
            pool.extend(found.candidates);
        }
        let part = plan::plan(&pool, left);
        left -= part.iter().map(|entry| entry.quantity_equivalent).sum::<f64>();
        plan.extend(part);
    }
    (plan, examined, bound_reached)
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
    pub candidates_examined: usize,
    /// Some search stopped at `CANDIDATES_EXAMINED_MAX` (see `RequirementResult`).
    pub bound_reached: bool,
    /// The weights every score was computed with (for the score parts).
    pub weights: Weights,
}

/// Ranked suppliers of one or more categories for a quantity, with the same score as Match.
pub fn shortlist(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &ShortlistQuery,
) -> ShortlistResult {
    shortlist_with(catalog, held, query, search::search)
}

/// The same answer as `shortlist`, by evaluating every stock line of the categories: the
/// brute-force reference for tests and benchmarks.
pub fn shortlist_scan(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &ShortlistQuery,
) -> ShortlistResult {
    shortlist_with(catalog, held, query, search::scan)
}

type SearchFn = fn(&Catalog, CategoryIdx, Option<f64>, &search::Spec<'_>) -> search::Found;

fn shortlist_with(
    catalog: &Catalog,
    held: &dyn HeldStock,
    query: &ShortlistQuery,
    search_fn: SearchFn,
) -> ShortlistResult {
    // Without a preference one group: the query's own filters. With one, the preferred
    // holders' group, then the others'.
    let groups: Vec<Filters> = if query.prefer_kinds.is_empty() {
        vec![query.filters.clone()]
    } else {
        [true, false]
            .iter()
            .map(|keep| narrowed(&query.filters, &query.prefer_kinds, *keep))
            .filter(|filters| !filters.holder_kinds.is_empty())
            .collect()
    };
    let mut entries = Vec::new();
    let mut candidates_examined = 0;
    let mut bound_reached = false;
    for filters in &groups {
        let count = query.count - entries.len();
        if count == 0 {
            break;
        }
        let spec = search::Spec {
            location: query.location,
            window_hours: query.window_hours,
            quantity_required: query.quantity,
            options: count,
            max_eta_hours: None,
            filters,
            weights: &query.weights,
            held,
        };
        let mut group = Vec::new();
        for category in &query.categories {
            let found = search_fn(catalog, *category, None, &spec);
            candidates_examined += found.examined;
            bound_reached |= found.bound_reached;
            group.extend(found.candidates);
        }
        search::rank(&mut group, count);
        entries.extend(group);
    }
    ShortlistResult {
        catalog_version: catalog.version.clone(),
        entries,
        candidates_examined,
        bound_reached,
        weights: query.weights,
    }
}

#[cfg(test)]
mod tests;
