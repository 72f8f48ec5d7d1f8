//! The score: an ordered, documented list of criteria, each a value in [0, 1] times a weight.
//! Every ranked option carries its parts, and the parts add up to its score.

/// The criteria, in the order their parts are reported and summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Criterion {
    /// 1 / (1 + eta ÷ window): 1 at the door, ½ exactly at the deadline, falling after it.
    Arrival,
    /// min(1, quantity available in the window, in the category's units ÷ quantity required).
    Coverage,
    /// The supplier's delivery reliability, in [0, 1].
    Reliability,
    /// Share of the category's expected certifications the supplier holds (1 if none apply).
    Certification,
    /// The cluster plan's policy: core 1.0, key 0.85, support 0.7, metro (Beijing and Tianjin
    /// outside the named parks) 0.7, outside 0.4, and +0.15 (up to 1) inside a national
    /// demonstration base.
    ZonePolicy,
}

impl Criterion {
    pub const ALL: [Criterion; 5] = [
        Criterion::Arrival,
        Criterion::Coverage,
        Criterion::Reliability,
        Criterion::Certification,
        Criterion::ZonePolicy,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Criterion::Arrival => "arrival",
            Criterion::Coverage => "coverage",
            Criterion::Reliability => "reliability",
            Criterion::Certification => "certification",
            Criterion::ZonePolicy => "zone_policy",
        }
    }
}

/// The largest raw weight a request may give one criterion; weights are normalised to sum 1.
pub const WEIGHT_MAX: f64 = 100.0;

/// Criterion weights, normalised so they sum to 1 (the score is then in [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights([f64; 5]);

impl Default for Weights {
    /// Arrival first (a late pump saves no one), then quantity, then the supplier's record;
    /// certification and the plan's zone policy break near-ties. A model assumption, and
    /// overridable per request.
    fn default() -> Weights {
        Weights([0.40, 0.25, 0.15, 0.10, 0.10])
    }
}

impl Weights {
    /// Raw weights, each finite in [0, WEIGHT_MAX], not all zero; `None` when they are not.
    pub fn normalised(raw: [f64; 5]) -> Option<Weights> {
        if raw.iter().any(|w| !w.is_finite() || *w < 0.0 || *w > WEIGHT_MAX) {
            return None;
        }
        let total: f64 = raw.iter().sum();
        if total <= 0.0 {
            return None;
        }
        Some(Weights(raw.map(|w| w / total)))
    }

    pub fn get(&self, criterion: Criterion) -> f64 {
        self.0[criterion as usize]
    }

    pub fn as_array(&self) -> [f64; 5] {
        self.0
    }
}

/// One criterion's share of a score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScorePart {
    pub criterion: Criterion,
    pub weight: f64,
    pub value: f64,
    pub contribution: f64,
}

/// Values of the five criteria, in `Criterion::ALL` order.
pub fn score(weights: &Weights, values: [f64; 5]) -> (f64, [ScorePart; 5]) {
    let mut total = 0.0;
    let parts = std::array::from_fn(|i| {
        let criterion = Criterion::ALL[i];
        let weight = weights.0[i];
        let value = values[i];
        let contribution = weight * value;
        total += contribution;
        ScorePart { criterion, weight, value, contribution }
    });
    (total, parts)
}

pub fn arrival_value(eta_hours: f64, window_hours: f64) -> f64 {
    1.0 / (1.0 + eta_hours / window_hours)
}

/// The zone policy criterion; it lives in `domain` so the catalog's index can bound it.
pub use crate::domain::zone_value;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_to_the_score_and_weights_normalise() {
        let weights = Weights::normalised([2.0, 1.0, 1.0, 0.0, 0.0]).unwrap();
        let (total, parts) = score(&weights, [0.5, 1.0, 0.8, 1.0, 1.0]);
        let sum: f64 = parts.iter().map(|p| p.contribution).sum();
        assert_eq!(total, sum);
        assert!((weights.as_array().iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(Weights::normalised([0.0; 5]).is_none());
        assert!(Weights::normalised([f64::NAN, 1.0, 1.0, 1.0, 1.0]).is_none());
    }

    #[test]
    fn the_index_groups_lines_by_the_default_weights() {
        // catalog::index groups lines by static score under these weights (a grouping choice,
        // not a bound): it must follow the defaults.
        let w = Weights::default();
        let expected = [Criterion::Reliability, Criterion::Certification, Criterion::ZonePolicy]
            .map(|criterion| w.get(criterion));
        assert_eq!(crate::catalog::STATIC_SCORE_WEIGHTS, expected);
    }

    #[test]
    fn arrival_is_one_half_at_the_deadline_and_decreasing() {
        assert_eq!(arrival_value(0.0, 12.0), 1.0);
        assert_eq!(arrival_value(12.0, 12.0), 0.5);
        assert!(arrival_value(13.0, 12.0) < arrival_value(12.0, 12.0));
    }
}
