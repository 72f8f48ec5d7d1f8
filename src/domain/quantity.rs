//! The quantity rule of `scenarios/README.md`: from a scenario's requirement and an incident to
//! whole units, with the rule written out with the incident's numbers so that an answer says how
//! it got its number — and says so when a cap binds, never cutting silently.
//!
//! Two kinds of term: *scaled* terms (base, per population, per area) are multiplied by the
//! scenario's severity factor; *direct* terms carry the severity through their own inputs and are
//! not multiplied again — the displaced share of the level, the rain excess of the level, the
//! fire line of the burned area (a forest fire's level is its burned area).

use std::f64::consts::PI;

use super::{Provenance, Requirement, Scenario, Severity};

/// Subtracted before rounding up, so that float noise (3 × (1 ÷ 3) = 1.0000000000000002) does
/// not add a unit nobody asked for.
const CEIL_NOISE: f64 = 1e-9;

/// A value per severity level with its provenance: a scenario's displaced share, rain excess.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelTable {
    /// Indexed by `Severity::index()` (IV = 0 … I = 3); non-decreasing.
    pub values: [f64; 4],
    pub provenance: Provenance,
}

impl LevelTable {
    pub fn at(&self, severity: Severity) -> f64 {
        self.values[severity.index()]
    }
}

/// The shape a forest fire's burned area is taken to have when its fire line is computed: an
/// ellipse with this length-to-breadth ratio (1 = a circle).
#[derive(Debug, Clone, PartialEq)]
pub struct FireShape {
    pub length_to_breadth: f64,
    pub provenance: Provenance,
}

/// A drainage requirement: `share` of the rain excess of the level over the affected area,
/// pumped out within `hours`, by units that each move `unit_m3_per_h` (the category's
/// capability). Shares let several kinds of pump split one volume (trucks on streets and
/// underpasses, mother-and-child units in garages) without counting it twice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pumping {
    pub hours: f64,
    /// In (0, 1].
    pub share: f64,
    pub unit_m3_per_h: f64,
}

/// The incident numbers the rule reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impact {
    pub severity: Severity,
    pub affected_population: f64,
    pub affected_area_km2: f64,
}

/// What the rule gives for one requirement and one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// Whole units required (after the cap, when there is one).
    pub units: f64,
    /// Whole units before the cap; equals `units` unless the cap binds.
    pub uncapped: f64,
    /// The cap, when it binds.
    pub capped_at: Option<f64>,
    /// The rule with this incident's numbers, e.g. `ceil(2.5 × (2 + 1 × 120000 ÷ 30000)) = 15`;
    /// it ends with `, capped at N` when the cap binds.
    pub rule: String,
}

impl Quantity {
    pub fn is_capped(&self) -> bool {
        self.capped_at.is_some()
    }
}

/// The perimeter (km) of an ellipse of `area_km2` whose length is `length_to_breadth` times its
/// breadth (Ramanujan's second approximation, exact for a circle, within 0.01 % for the ratios
/// fires take).
pub fn ellipse_perimeter_km(area_km2: f64, length_to_breadth: f64) -> f64 {
    if area_km2 <= 0.0 {
        return 0.0;
    }
    let ratio = length_to_breadth.max(1.0);
    // area = π a b with a = ratio × b.
    let b = (area_km2 / (PI * ratio)).sqrt();
    let a = ratio * b;
    let h = ((a - b) / (a + b)).powi(2);
    PI * (a + b) * (1.0 + 3.0 * h / (10.0 + (4.0 - 3.0 * h).sqrt()))
}

/// A number for the rule text: whole numbers as such, others to at most three decimals without
/// float noise (14.7, not 14.700000000000001).
pub fn rule_number(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        return format!("{}", x.round());
    }
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl Scenario {
    /// The quantity rule for one of this scenario's requirements and an incident.
    ///
    /// ```text
    /// scaled = base + per_population + per_area          (× severity factor unless
    ///                                                     scales_with_severity = false)
    /// direct = per_displaced + per_fire_line + pumping   (never × the factor)
    /// units  = ceil(scaled + direct), then at most max_quantity — and the rule says so
    /// ```
    ///
    /// A direct term whose scenario table is missing counts 0; the catalog loader refuses such
    /// a scenario, so a loaded catalog never has one.
    pub fn quantity(&self, requirement: &Requirement, impact: &Impact) -> Quantity {
        let population = impact.affected_population;
        let area = impact.affected_area_km2;
        let factor = if requirement.scales_with_severity {
            self.severity_factor(impact.severity)
        } else {
            1.0
        };

        let mut scaled_value = requirement.base_quantity;
        let mut scaled_text: Vec<String> = Vec::new();
        if requirement.base_quantity > 0.0 {
            scaled_text.push(rule_number(requirement.base_quantity));
        }
        if let Some(rate) = requirement.per_population {
            scaled_value += rate.quantity * population / rate.per;
            scaled_text.push(format!(
                "{} × {} people ÷ {}",
                rule_number(rate.quantity),
                rule_number(population),
                rule_number(rate.per)
            ));
        }
        if let Some(rate) = requirement.per_area_km2 {
            scaled_value += rate.quantity * area / rate.per;
            scaled_text.push(format!(
                "{} × {} km² ÷ {}",
                rule_number(rate.quantity),
                rule_number(area),
                rule_number(rate.per)
            ));
        }

        let mut direct_value = 0.0;
        let mut direct_text: Vec<String> = Vec::new();
        if let Some(rate) = requirement.per_displaced {
            let share = self.displaced_share.as_ref().map_or(0.0, |t| t.at(impact.severity));
            direct_value += rate.quantity * population * share / rate.per;
            direct_text.push(format!(
                "{} × {} people × {} displaced at level {} ÷ {}",
                rule_number(rate.quantity),
                rule_number(population),
                rule_number(share),
                impact.severity,
                rule_number(rate.per)
            ));
        }
        if let Some(rate) = requirement.per_fire_line_km {
            let ratio = self.fire_shape.as_ref().map_or(1.0, |shape| shape.length_to_breadth);
            let line_km = ellipse_perimeter_km(area, ratio);
            direct_value += rate.quantity * line_km / rate.per;
            direct_text.push(format!(
                "{} × {} km fire line (perimeter of {} km², length {} × breadth) ÷ {} km",
                rule_number(rate.quantity),
                rule_number(line_km),
                rule_number(area),
                rule_number(ratio),
                rule_number(rate.per)
            ));
        }
        if let Some(pumping) = requirement.pumping {
            let excess_mm = self.rain_excess_mm.as_ref().map_or(0.0, |t| t.at(impact.severity));
            // km² × 10⁶ m²/km² × mm ÷ 1000 mm/m = m³.
            let flow_m3_per_h = pumping.share * area * 1e6 * excess_mm / 1000.0 / pumping.hours;
            direct_value += flow_m3_per_h / pumping.unit_m3_per_h;
            let share = if pumping.share == 1.0 {
                String::new()
            } else {
                format!("{} × ", rule_number(pumping.share))
            };
            direct_text.push(format!(
                "{share}{} km² × {} mm excess at level {} ÷ {} h = {} m³/h ÷ {} m³/h per unit",
                rule_number(area),
                rule_number(excess_mm),
                impact.severity,
                rule_number(pumping.hours),
                rule_number(flow_m3_per_h),
                rule_number(pumping.unit_m3_per_h)
            ));
        }

        let raw = factor * scaled_value + direct_value;
        let uncapped = (raw - CEIL_NOISE).ceil().max(0.0);
        let mut parts: Vec<String> = Vec::new();
        if !scaled_text.is_empty() {
            let sum = scaled_text.join(" + ");
            parts.push(match (factor == 1.0, scaled_text.len() > 1) {
                (true, _) => sum,
                (false, true) => format!("{} × ({sum})", rule_number(factor)),
                (false, false) => format!("{} × {sum}", rule_number(factor)),
            });
        }
        parts.extend(direct_text);
        let mut rule = format!("ceil({}) = {}", parts.join(" + "), rule_number(uncapped));
        let (units, capped_at) = match requirement.max_quantity {
            Some(cap) if uncapped > cap => {
                rule += &format!(", capped at {}", rule_number(cap));
                (cap, Some(cap))
            }
            _ => (uncapped, None),
        };
        Quantity { units, uncapped, capped_at, rule }
    }
}

#[cfg(test)]
mod tests {
    //! The rule's arithmetic on hand-computed examples: each direct term, the severity factor
    //! applied to scaled terms only, a binding cap said in the text, and rounding without float
    //! noise.

    use super::*;
    use crate::domain::{CategoryIdx, ChainStage, Grade, Id, Priority, Rate};

    fn provenance() -> Provenance {
        Provenance { source: "test".into(), grade: Grade::Model }
    }

    fn scenario() -> Scenario {
        Scenario {
            id: Id::parse("test").unwrap(),
            name_zh: String::new(),
            name_en: String::new(),
            summary: String::new(),
            grading: String::new(),
            severity_factor: [1.0, 1.5, 2.5, 4.0],
            severity_provenance: provenance(),
            displaced_share: Some(LevelTable {
                values: [0.02, 0.05, 0.1, 0.2],
                provenance: provenance(),
            }),
            rain_excess_mm: Some(LevelTable {
                values: [10.0, 20.0, 35.0, 50.0],
                provenance: provenance(),
            }),
            fire_shape: Some(FireShape { length_to_breadth: 1.0, provenance: provenance() }),
            requirements: Vec::new(),
        }
    }

    fn requirement() -> Requirement {
        Requirement {
            category: CategoryIdx(0),
            stage: ChainStage::EmergencyRescue,
            priority: Priority::Critical,
            needed_within_hours: 12.0,
            base_quantity: 0.0,
            per_population: None,
            per_area_km2: None,
            per_displaced: None,
            per_fire_line_km: None,
            pumping: None,
            scales_with_severity: true,
            max_quantity: None,
            provenance: provenance(),
        }
    }

    fn impact(severity: Severity, population: f64, area: f64) -> Impact {
        Impact { severity, affected_population: population, affected_area_km2: area }
    }

    #[test]
    fn scaled_terms_take_the_severity_factor() {
        let r = Requirement {
            base_quantity: 2.0,
            per_population: Some(Rate { per: 30_000.0, quantity: 1.0 }),
            ..requirement()
        };
        // 2.5 × (2 + 120,000 ÷ 30,000) = 2.5 × 6 = 15.
        let q = scenario().quantity(&r, &impact(Severity::II, 120_000.0, 0.0));
        assert_eq!(q.units, 15.0);
        assert_eq!(q.rule, "ceil(2.5 × (2 + 1 × 120000 people ÷ 30000)) = 15");
        assert!(!q.is_capped());
    }

    #[test]
    fn displaced_share_is_per_level_and_not_multiplied_again() {
        let r = Requirement {
            per_displaced: Some(Rate { per: 3.0, quantity: 1.0 }),
            scales_with_severity: false,
            ..requirement()
        };
        // Level I: 1,500,000 × 0.2 = 300,000 displaced ÷ 3 per tent = 100,000 tents; the
        // severity factor 4 is not applied on top of the share.
        let q = scenario().quantity(&r, &impact(Severity::I, 1_500_000.0, 0.0));
        assert_eq!(q.units, 100_000.0);
        assert_eq!(q.rule, "ceil(1 × 1500000 people × 0.2 displaced at level I ÷ 3) = 100000");
        // Even with scales_with_severity = true the direct term stays unmultiplied.
        let scaled = Requirement { scales_with_severity: true, ..r };
        assert_eq!(
            scenario().quantity(&scaled, &impact(Severity::I, 1_500_000.0, 0.0)).units,
            100_000.0
        );
    }

    #[test]
    fn drainage_flow_decides_the_number_of_trucks() {
        let r = Requirement {
            pumping: Some(Pumping { hours: 6.0, share: 1.0, unit_m3_per_h: 3_000.0 }),
            ..requirement()
        };
        // Level I: 150 km² × 50 mm = 150e6 m² × 0.05 m = 7,500,000 m³ over 6 h = 1,250,000 m³/h
        // ÷ 3,000 m³/h per truck = 416.7 → 417 trucks.
        let q = scenario().quantity(&r, &impact(Severity::I, 0.0, 150.0));
        assert_eq!(q.units, 417.0);
        assert_eq!(
            q.rule,
            "ceil(150 km² × 50 mm excess at level I ÷ 6 h = 1250000 m³/h ÷ 3000 m³/h per unit) = 417"
        );
        // A share of 0.6 moves 750,000 m³/h: 250 trucks.
        let shared = Requirement {
            pumping: Some(Pumping { hours: 6.0, share: 0.6, unit_m3_per_h: 3_000.0 }),
            ..requirement()
        };
        let q = scenario().quantity(&shared, &impact(Severity::I, 0.0, 150.0));
        assert_eq!(q.units, 250.0);
        assert!(q.rule.starts_with("ceil(0.6 × 150 km² × 50 mm"), "{}", q.rule);
    }

    #[test]
    fn fire_line_is_the_perimeter_of_the_burned_area() {
        // A circle of 120 km²: r = √(120 ÷ π) = 6.1804 km, perimeter 2πr = 38.833 km.
        assert!((ellipse_perimeter_km(120.0, 1.0) - 38.833).abs() < 1e-3);
        // An ellipse of 120 km² twice as long as broad: b = √(120 ÷ 2π) = 4.3702, a = 8.7404;
        // Ramanujan: π(a+b)(1 + 3h/(10 + √(4 − 3h))), h = ((a−b)/(a+b))² = 1/9 → 42.340 km.
        assert!((ellipse_perimeter_km(120.0, 2.0) - 42.340).abs() < 1e-3);
        let r = Requirement {
            per_fire_line_km: Some(Rate { per: 1.0, quantity: 2.0 }),
            scales_with_severity: false,
            ..requirement()
        };
        // 2 per km × 38.833 km = 77.67 → 78; ×12 the area (10 → 120 km²) is only ×√12 ≈ 3.46
        // the line: 10 km² → 11.21 km → 22.42 → 23.
        let big = scenario().quantity(&r, &impact(Severity::II, 0.0, 120.0));
        let small = scenario().quantity(&r, &impact(Severity::II, 0.0, 10.0));
        assert_eq!((big.units, small.units), (78.0, 23.0));
        assert!(big
            .rule
            .contains("38.833 km fire line (perimeter of 120 km², length 1 × breadth)"));
    }

    #[test]
    fn a_binding_cap_is_said_in_the_rule() {
        let r = Requirement {
            base_quantity: 50.0,
            per_population: Some(Rate { per: 12.0, quantity: 1.0 }),
            max_quantity: Some(50_000.0),
            ..requirement()
        };
        // The artefact of issue 14: 4 × (50 + 1,500,000 ÷ 12) = 500,200, cut to 50,000.
        let q = scenario().quantity(&r, &impact(Severity::I, 1_500_000.0, 0.0));
        assert_eq!((q.units, q.uncapped, q.capped_at), (50_000.0, 500_200.0, Some(50_000.0)));
        assert!(q.rule.ends_with("= 500200, capped at 50000"), "{}", q.rule);
        // A cap that does not bind is not mentioned.
        let small = scenario().quantity(&r, &impact(Severity::IV, 1_200.0, 0.0));
        assert_eq!(small.units, 150.0);
        assert!(!small.rule.contains("capped"));
    }

    #[test]
    fn float_noise_does_not_add_a_unit() {
        let r = Requirement {
            per_population: Some(Rate { per: 3.0, quantity: 1.0 }),
            scales_with_severity: false,
            ..requirement()
        };
        // 1 × 1 ÷ 3 × 3 people: exactly 1 unit, whatever the float rounding does.
        let q = scenario().quantity(&r, &impact(Severity::IV, 3.0, 0.0));
        assert_eq!(q.units, 1.0);
        assert_eq!(rule_number(14.700000000000001), "14.7");
        assert_eq!(rule_number(0.0200000001), "0.02");
    }
}
