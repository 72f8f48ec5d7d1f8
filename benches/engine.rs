//! Criterion benches of the engine in process: Match (a full scenario) and Shortlist at
//! 1e4, 1e5 and 1e6 stock lines, the indexed search beside a brute-force scan of the same data
//! in the same run. The registries are generated (SYNTHETIC) into target/bench-registries on
//! first use, by the project's own generator with fixed seeds.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use equipmatch::catalog::{Catalog, CatalogSources, Problems};
use equipmatch::domain::{LatLon, Severity};
use equipmatch::generator::{self, Params};
use equipmatch::matching::{self, Filters, MatchQuery, NoHolds, ShortlistQuery, Weights};

/// (label, suppliers) at 10 stock lines per supplier on average.
const SCALES: [(&str, usize); 3] = [("1e4", 1_000), ("1e5", 10_000), ("1e6", 100_000)];

fn registry(suppliers: usize) -> Catalog {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-registries")
        .join(suppliers.to_string());
    if !dir.join("stock_lines.csv").exists() {
        let base = Catalog::load(&CatalogSources {
            registry_files: equipmatch::catalog::empty_registry(),
            ..CatalogSources::embedded()
        })
        .expect("embedded taxonomy");
        std::fs::create_dir_all(&dir).unwrap();
        let params = Params { suppliers, seed: 4, lines_per_supplier: 10 };
        let mut s =
            std::io::BufWriter::new(std::fs::File::create(dir.join("suppliers.csv")).unwrap());
        let mut l =
            std::io::BufWriter::new(std::fs::File::create(dir.join("stock_lines.csv")).unwrap());
        generator::generate(&base, &params, &mut s, &mut l).unwrap();
    }
    let mut problems = Problems::default();
    let sources = CatalogSources::from_dirs(None, Some(&dir), &mut problems);
    Catalog::load(&sources).expect("generated registry loads")
}

fn tangshan() -> LatLon {
    LatLon::new(39.6347, 118.1948).unwrap()
}

fn bench_engine(c: &mut Criterion) {
    for (label, suppliers) in SCALES {
        let catalog = registry(suppliers);
        let scenario = catalog.scenario_by_id("earthquake").unwrap();
        let match_query = MatchQuery {
            scenario,
            severity: Severity::I,
            location: tangshan(),
            affected_population: 1_000_000.0,
            affected_area_km2: 500.0,
            options_per_requirement: 5,
            max_eta_hours: None,
            filters: Filters::default(),
            weights: Weights::default(),
            prefer_kinds: Vec::new(),
        };
        let shortlist_query = ShortlistQuery {
            categories: vec![catalog.category_by_id("ambulance").unwrap()],
            quantity: 10.0,
            location: Some(tangshan()),
            window_hours: 12.0,
            count: 20,
            filters: Filters::default(),
            weights: Weights::default(),
            prefer_kinds: Vec::new(),
        };
        let mut group = c.benchmark_group("match");
        group.bench_function(BenchmarkId::new("indexed", label), |b| {
            b.iter(|| matching::match_incident(&catalog, &NoHolds, &match_query))
        });
        group.bench_function(BenchmarkId::new("scan", label), |b| {
            b.iter(|| matching::match_incident_scan(&catalog, &NoHolds, &match_query))
        });
        group.finish();
        let mut group = c.benchmark_group("shortlist");
        group.bench_function(BenchmarkId::new("indexed", label), |b| {
            b.iter(|| matching::shortlist(&catalog, &NoHolds, &shortlist_query))
        });
        group.bench_function(BenchmarkId::new("scan", label), |b| {
            b.iter(|| matching::shortlist_scan(&catalog, &NoHolds, &shortlist_query))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench_engine
}
criterion_main!(benches);
