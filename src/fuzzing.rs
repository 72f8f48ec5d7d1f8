//! The bodies of the fuzz targets: arbitrary bytes in, no panic out, whatever the bytes. The
//! cargo-fuzz crate in `fuzz/` calls them; `tests/it/fuzz.rs` replays the committed corpus
//! and every input that ever crashed under plain `cargo test`, so a finding stays fixed.
//!
//! The file targets mutate one file of a small, consistent catalog cut from the real files
//! (`fuzz/base/`, made by `fuzz/make-base.py`): a whole catalog loads per execution, and the
//! real taxonomy would make each one cost milliseconds. When a mutated catalog still loads,
//! the engine runs on it, so a value the loader lets through is also fed to the engine.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::auth::{KeySet, Verifier, VerifierConfig};
use crate::catalog::{Catalog, CatalogSources, SourceFile};
use crate::domain::{LatLon, Severity};
use crate::matching::{self, Filters, MatchQuery, NoHolds, ShortlistQuery, Weights};

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name its cargo-fuzz binary and corpus folder carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("scenario_toml", scenario_toml),
    ("registry_csv", registry_csv),
    ("drill_file", drill_file),
    ("request", request),
    ("jwt", jwt),
    ("jwks", jwks),
    ("cap_reader", crate::interop::fuzz::cap_reader),
];

const BASE_SCENARIOS: [(&str, &str); 3] = [
    ("taxonomy.toml", include_str!("../fuzz/base/scenarios/taxonomy.toml")),
    ("places.toml", include_str!("../fuzz/base/scenarios/places.toml")),
    ("earthquake.toml", include_str!("../fuzz/base/scenarios/earthquake.toml")),
];
const BASE_REGISTRY: [(&str, &str); 2] = [
    ("suppliers.csv", include_str!("../fuzz/base/registry/suppliers.csv")),
    ("stock_lines.csv", include_str!("../fuzz/base/registry/stock_lines.csv")),
];
/// The JWKS and the claims of the PyJWT fixtures: the jwt target's seeds are those tokens.
const FIXTURE_JWKS: &str = include_str!("../tests/fixtures/jwt/jwks.json");
const FIXTURE_ISSUER: &str = "https://sso.example.cn/realms/jjj-emergency";
const FIXTURE_AUDIENCE: &str = "equipmatch";
/// One valid RS256, ES256 and EdDSA token each (kids of FIXTURE_JWKS; exp 2100), that the
/// jwks target verifies against whatever key set the input makes.
const FIXTURE_TOKENS: &str = include_str!("../tests/fixtures/jwt/tokens.json");

fn file(name: &str, text: &'static str) -> SourceFile {
    SourceFile { name: format!("fuzz/base/{name}"), text: Cow::Borrowed(text) }
}

/// The base catalog's sources.
pub fn base_sources() -> CatalogSources {
    CatalogSources {
        scenario_files: BASE_SCENARIOS.iter().map(|(name, text)| file(name, text)).collect(),
        registry_files: BASE_REGISTRY.iter().map(|(name, text)| file(name, text)).collect(),
    }
}

/// The base catalog, loaded once.
pub fn base_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match Catalog::load(&base_sources()) {
        Ok(catalog) => catalog,
        Err(error) => panic!("the fuzz base does not load: {:?}", error.problems.list),
    })
}

/// The embedded catalog (the request target answers as the shipped server does), once.
pub fn embedded_catalog() -> &'static Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(|| match Catalog::embedded() {
        Ok(catalog) => Arc::new(catalog),
        Err(error) => panic!("the embedded catalog does not load: {:?}", error.problems.list),
    })
}

/// Runs the engine over a catalog that loaded: each scenario at each severity, and a
/// shortlist of each category, at a fixed point in the cluster.
fn exercise(catalog: &Catalog) {
    let Ok(location) = LatLon::new(39.0, 116.5) else { return };
    for scenario in &catalog.scenarios {
        for severity in [Severity::I, Severity::IV] {
            let query = MatchQuery {
                scenario,
                severity,
                location,
                affected_population: 100_000.0,
                affected_area_km2: 50.0,
                options_per_requirement: 3,
                max_eta_hours: None,
                filters: Filters::default(),
                prefer_kinds: Vec::new(),
                weights: Weights::default(),
            };
            let _ = matching::match_incident(catalog, &NoHolds, &query);
        }
    }
    for c in 0..catalog.categories.len() {
        let query = ShortlistQuery {
            categories: vec![crate::domain::CategoryIdx(c as u32)],
            quantity: 10.0,
            location: Some(location),
            window_hours: 24.0,
            count: 5,
            filters: Filters::default(),
            prefer_kinds: Vec::new(),
            weights: Weights::default(),
        };
        let _ = matching::shortlist(catalog, &NoHolds, &query);
    }
}

/// Scenario TOML: the first byte chooses the file the rest replaces — the taxonomy, the
/// places, the scenario, or a second scenario beside it — then the whole catalog loads.
pub fn scenario_toml(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest).into_owned();
    let mut sources = base_sources();
    match selector % 4 {
        3 => sources
            .scenario_files
            .push(SourceFile { name: "fuzz/extra.toml".into(), text: Cow::Owned(text) }),
        i => sources.scenario_files[i as usize].text = Cow::Owned(text),
    }
    if let Ok(catalog) = Catalog::load(&sources) {
        exercise(&catalog);
    }
}

/// Registry CSV: the first byte chooses suppliers.csv or stock_lines.csv; the rest replaces it.
pub fn registry_csv(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest).into_owned();
    let mut sources = base_sources();
    sources.registry_files[(selector % 2) as usize].text = Cow::Owned(text);
    if let Ok(catalog) = Catalog::load(&sources) {
        exercise(&catalog);
    }
}

/// Drill file: parsed against the base catalog and, when valid, run under both policies, its
/// report built and rendered as HTML.
pub fn drill_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let catalog = base_catalog();
    let Ok(drill) = crate::drill::parse(catalog, "fuzz.toml", text) else { return };
    for policy in [crate::drill::Policy::Efficiency, crate::drill::Policy::Equity] {
        let outcome = crate::drill::run(catalog, &drill, policy, &mut |_| {});
        let report = crate::drill::build_report(catalog, &drill, &outcome);
        let _ = crate::drill::html::render(&report, &[]);
    }
}

/// Request messages: the first byte chooses one of the contract's request messages, the rest
/// is decoded as it; what decodes goes through the handler's validation and, where the
/// handler calls it, the engine, and back into a response message.
pub fn request(data: &[u8]) {
    crate::grpc::fuzz::request(embedded_catalog(), data);
}

fn fixture_verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let keys = KeySet::parse(FIXTURE_JWKS.as_bytes()).unwrap_or_default();
        let config =
            VerifierConfig { issuer: FIXTURE_ISSUER.into(), audience: FIXTURE_AUDIENCE.into() };
        Verifier::new(config, keys)
    })
}

/// Bearer tokens: the bytes as an `authorization` header value, verified against the PyJWT
/// fixtures' JWKS, and the identity's decisions taken for every method.
pub fn jwt(data: &[u8]) {
    let verifier = fixture_verifier();
    let Ok(token) = crate::auth::bearer_token(Some(data)) else { return };
    if let Ok(identity) = verifier.verify(token) {
        for (method, _) in crate::auth::METHODS {
            let _ = identity.may_call(method);
        }
        let _ = identity.may_update_stock(["sup-00007", ""]);
        let _ = identity.stock_actor(["sup-00007"], crate::holds::CALLER_BYTES_MAX);
    }
}

/// Valid fixture tokens, one per algorithm.
fn fixture_tokens() -> &'static [String] {
    static TOKENS: OnceLock<Vec<String>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let Ok(fixtures) = serde_json::from_str::<serde_json::Value>(FIXTURE_TOKENS) else {
            return Vec::new();
        };
        let tokens = fixtures["tokens"].as_array().cloned().unwrap_or_default();
        tokens
            .iter()
            .filter(|t| t["expect"] == "ok")
            .filter_map(|t| t["token"].as_str().map(str::to_owned))
            .take(3)
            .collect()
    })
}

/// JWKS documents: parsed; a key set that parses verifies the fixture tokens, so fuzzed key
/// material reaches the signature code (a malformed key must fail there, never panic).
pub fn jwks(data: &[u8]) {
    let Ok(keys) = KeySet::parse(data) else { return };
    let config =
        VerifierConfig { issuer: FIXTURE_ISSUER.into(), audience: FIXTURE_AUDIENCE.into() };
    let verifier = Verifier::new(config, keys);
    for token in fixture_tokens() {
        let _ = verifier.verify(token);
    }
}

/// A drill on the fuzz base (a seed of `drill_file`): two earthquakes, a what-if.
pub const BASE_DRILL: &str = r#"id = "fuzz-base-two-shocks"
name = "Two shocks on the fuzz base"
summary = "A main shock at Tangshan and an aftershock near Luanzhou 12 hours later."
policy = "equity"
time_step_hours = 1.0
horizon_hours = 96.0
surge_production = true
seed = 7
deployment_hours_default = 48.0
source = "fuzz seed (MODEL)"
grade = "MODEL"

[what_if]
road_factor_scale = 1.2
note = "slower roads"

[[incident]]
id = "main"
scenario = "earthquake"
start_hours = 0
place = "tangshan"
severity = "I"
affected_population = 800_000
affected_area_km2 = 600
source = "MODEL"
grade = "MODEL"

[[incident]]
id = "after"
scenario = "earthquake"
start_hours = 12
latitude = 39.74
longitude = 118.70
severity = "III"
affected_population = 100_000
affected_area_km2 = 100
source = "MODEL"
grade = "MODEL"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_loads_and_every_target_takes_empty_and_base_input() {
        base_catalog();
        for (name, target) in TARGETS {
            target(b"");
            target(b"\x00");
            let _ = name;
        }
        scenario_toml(
            &[2].iter().chain(BASE_SCENARIOS[2].1.as_bytes()).copied().collect::<Vec<_>>(),
        );
        assert_eq!(fixture_tokens().len(), 3);
        // The drill seed must reach the engine, or the drill target fuzzes the parser only.
        let drill = crate::drill::parse(base_catalog(), "base.toml", BASE_DRILL);
        assert!(drill.is_ok(), "{:?}", drill.err());
    }
}
