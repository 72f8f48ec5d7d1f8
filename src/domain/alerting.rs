//! How warning messages become incidents: the validated form of `scenarios/cap-events.toml`,
//! which a planner edits. Event names to scenarios, CAP severities and Chinese warning colours
//! to response levels, the parameters that state colours and populations, and EDXL-RM resource
//! names to categories. The catalog builds it; `interop` applies it.

use super::{CategoryIdx, Id, Provenance, Severity};

/// The CAP `<severity>` values, in the order of `AlertMapping::severity_by_cap`.
pub const CAP_SEVERITIES: [&str; 5] = ["Extreme", "Severe", "Moderate", "Minor", "Unknown"];

#[derive(Debug, Clone, PartialEq)]
pub struct AlertMapping {
    /// The response level for each of `CAP_SEVERITIES`.
    pub severity_by_cap: [Severity; 5],
    pub severity_provenance: Provenance,
    /// Parameter names (`valueName`) whose value names a warning colour.
    pub colour_parameters: Vec<String>,
    /// Colour words and their levels; a headline with `<word>预警` also counts.
    pub colours: Vec<ColourRule>,
    pub colour_provenance: Provenance,
    /// Parameter names whose value states the affected population.
    pub population_parameters: Vec<String>,
    /// In file order: the first rule that matches an info decides its scenario.
    pub events: Vec<EventRule>,
    /// EDXL-RM resource names (NIMS and others) to categories.
    pub resources: Vec<ResourceRule>,
}

impl AlertMapping {
    /// A mapping that maps nothing (for catalogs without `cap-events.toml`).
    pub fn empty() -> AlertMapping {
        let model = Provenance {
            source: "no cap-events.toml: CAP severity by rank".into(),
            grade: super::Grade::Model,
        };
        AlertMapping {
            severity_by_cap: [Severity::I, Severity::II, Severity::III, Severity::IV, Severity::IV],
            severity_provenance: model.clone(),
            colour_parameters: Vec::new(),
            colours: Vec::new(),
            colour_provenance: model,
            population_parameters: Vec::new(),
            events: Vec::new(),
            resources: Vec::new(),
        }
    }

    /// The level for a CAP severity spelling; `None` for a spelling CAP does not have.
    pub fn severity_for_cap(&self, cap_severity: &str) -> Option<Severity> {
        CAP_SEVERITIES.iter().position(|s| *s == cap_severity).map(|i| self.severity_by_cap[i])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColourRule {
    /// e.g. `红色`, `紅色`, `red`; compared after `normalise`.
    pub words: Vec<String>,
    pub severity: Severity,
}

/// One mapping from an alert's event to a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRule {
    /// Event names, normalised (`normalise_event`).
    pub names: Vec<String>,
    /// `valueName=value` event codes that match as well as a name.
    pub event_codes: Vec<(String, String)>,
    /// When not empty, the info must carry one of these CAP categories.
    pub categories: Vec<String>,
    /// Every one of these `valueName = value` parameters must be present.
    pub parameters: Vec<(String, String)>,
    pub scenario: Id,
    /// Where in the file the rule is (`cap-events.toml:41`), to explain a mapping.
    pub origin: String,
    pub provenance: Provenance,
}

/// An EDXL-RM resource name to a category of the taxonomy.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRule {
    /// Normalised names.
    pub names: Vec<String>,
    pub category: CategoryIdx,
    pub origin: String,
    pub provenance: Provenance,
}

/// Lower case, whitespace collapsed, trimmed: how names are compared.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// An event name as rules compare it: `normalise`d, then every colour word removed and a
/// trailing 预警信号 / 预警 / 信号 / 警报 / 警戒 dropped, so `暴雨红色预警` and `暴雨` meet.
/// English names are only normalised.
pub fn normalise_event(text: &str, colours: &[ColourRule]) -> String {
    let mut name = normalise(text);
    if !name.chars().any(is_cjk) {
        return name;
    }
    for rule in colours {
        for word in rule.words.iter().filter(|w| w.chars().any(is_cjk)) {
            name = name.replace(word.as_str(), "");
        }
    }
    for suffix in ["预警信号", "預警信號", "预警", "預警", "信号", "信號", "警报", "警報", "警戒"]
    {
        if let Some(stripped) = name.strip_suffix(suffix) {
            if !stripped.trim().is_empty() {
                name = stripped.to_owned();
                break;
            }
        }
    }
    normalise(&name)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_warning_names_lose_colour_and_suffix() {
        let colours = vec![ColourRule { words: vec!["红色".into()], severity: Severity::I }];
        assert_eq!(normalise_event("暴雨红色预警", &colours), "暴雨");
        assert_eq!(normalise_event("暴雨红色预警信号", &colours), "暴雨");
        assert_eq!(normalise_event(" 暴雨 ", &colours), "暴雨");
        assert_eq!(normalise_event("预警", &colours), "预警");
        assert_eq!(normalise_event("Flash  Flood Warning", &colours), "flash flood warning");
    }
}
