//! The engine through the real service, on a generated (SYNTHETIC) registry large enough that
//! every category is searched through its index.
//!
//! Properties checked:
//! - after stock is raised above the catalog and lowered through UpdateStock, and held
//!   through PlaceHold, on the real server, every Shortlist (with and without a location) and
//!   every Match (options and plans) it answers equals the brute force — every stock line
//!   evaluated in process (`shortlist_scan`, `match_incident_scan`) on the store's own
//!   snapshot — converted to the same messages;
//! - raised lines do rank (the comparison covers them), and no answer is cut at the work
//!   bound (`search_cut` false, `lines_examined` > 0).

use std::borrow::Cow;
use std::sync::Arc;

use equipmatch::catalog::{self, Catalog, CatalogSources, SourceFile};
use equipmatch::grpc::{convert, pb};
use equipmatch::matching;

use crate::support::TestServer;

/// The embedded scenarios with a generated registry of `suppliers` suppliers.
fn generated_catalog(suppliers: usize, seed: u64) -> Arc<Catalog> {
    let base = Catalog::load(&CatalogSources {
        registry_files: catalog::empty_registry(),
        ..CatalogSources::embedded()
    })
    .expect("embedded taxonomy");
    let (mut suppliers_csv, mut lines_csv) = (Vec::new(), Vec::new());
    let params = equipmatch::generator::Params { suppliers, seed, lines_per_supplier: 10 };
    equipmatch::generator::generate(&base, &params, &mut suppliers_csv, &mut lines_csv)
        .expect("generate");
    let file = |name: &str, bytes: Vec<u8>| SourceFile {
        name: name.into(),
        text: Cow::Owned(String::from_utf8(bytes).expect("utf-8")),
    };
    let sources = CatalogSources {
        registry_files: vec![
            file(catalog::SUPPLIERS_FILE, suppliers_csv),
            file(catalog::STOCK_LINES_FILE, lines_csv),
        ],
        ..CatalogSources::embedded()
    };
    Arc::new(Catalog::load(&sources).expect("generated registry loads"))
}

/// A deterministic sequence for picking lines and requests.
struct Picks(u64);

impl Picks {
    fn below(&mut self, n: usize) -> usize {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

const PLACES: [(f64, f64); 6] = [
    (39.6347, 118.1948),
    (38.0289, 114.4737),
    (39.9050, 116.4053),
    (39.1256, 117.1902),
    (36.6023, 114.5118),
    (31.2304, 121.4737),
];

fn stock(catalog: &Catalog, line: u32, units: u64) -> pb::StockQuantity {
    let stock_line = catalog.stock_line(equipmatch::domain::StockLineIdx(line));
    pb::StockQuantity {
        supplier_id: catalog.supplier(stock_line.supplier).id.to_string(),
        category_id: catalog
            .category(catalog.line_category(equipmatch::domain::StockLineIdx(line)))
            .id
            .to_string(),
        on_hand_units: units,
    }
}

#[tokio::test]
async fn answers_equal_brute_force_after_updatestock_and_holds() {
    let catalog = generated_catalog(4000, 23);
    let server = TestServer::start_with(catalog.clone()).await;
    let mut picks = Picks(7);
    let n_lines = catalog.stock_lines.len();

    // Raise some lines far above the catalog (some a millionfold), lower others to nothing.
    let raised: Vec<u32> = (0..40).map(|_| picks.below(n_lines) as u32).collect();
    let lowered: Vec<u32> = (0..80).map(|_| picks.below(n_lines) as u32).collect();
    let mut update = pb::UpdateStockRequest::default();
    for (k, line) in raised.iter().enumerate() {
        let units = if k % 4 == 0 { 1_000_000 } else { 200 + 37 * k as u64 };
        update.lines.push(stock(&catalog, *line, units));
    }
    for line in &lowered {
        if !raised.contains(line) {
            update.lines.push(stock(&catalog, *line, picks.below(2) as u64));
        }
    }
    update
        .lines
        .sort_by(|a, b| (&a.supplier_id, &a.category_id).cmp(&(&b.supplier_id, &b.category_id)));
    update.lines.dedup_by(|a, b| a.supplier_id == b.supplier_id && a.category_id == b.category_id);
    server.holds().update_stock(update).await.expect("UpdateStock");

    // Hold part of what some shortlists rank first.
    let mut hold_lines = Vec::new();
    for (i, category) in
        ["ambulance", "rescuer-ppe-kit", "life-detector-radar-uwb"].iter().enumerate()
    {
        let response = server
            .matching()
            .shortlist(pb::ShortlistRequest {
                category_ids: vec![(*category).into()],
                quantity: 5.0,
                location: Some(pb::LatLng { latitude: PLACES[i].0, longitude: PLACES[i].1 }),
                count: 4,
                ..Default::default()
            })
            .await
            .expect("Shortlist")
            .into_inner();
        for entry in response.entries.iter().filter(|e| e.quantity_from_stock >= 2.0) {
            hold_lines.push(pb::HoldLine {
                supplier_id: entry.supplier_id.clone(),
                category_id: entry.category_id.clone(),
                quantity_units: (entry.quantity_from_stock as u64) / 2,
            });
        }
    }
    assert!(!hold_lines.is_empty());
    server
        .holds()
        .place_hold(pb::PlaceHoldRequest {
            hold_id: "engine-equivalence".into(),
            incident_ref: "drill".into(),
            lines: hold_lines,
            ttl_seconds: 3600,
        })
        .await
        .expect("PlaceHold");

    let held = server.store.held();
    assert!(!matching::HeldStock::raised(&*held).is_empty(), "the snapshot lists raised lines");
    let raised_ids: Vec<(String, String)> = raised
        .iter()
        .map(|line| {
            let s = stock(&catalog, *line, 0);
            (s.supplier_id, s.category_id)
        })
        .collect();
    let mut raised_ranked = 0;

    let categories: Vec<String> = catalog.categories.iter().map(|c| c.id.to_string()).collect();
    for round in 0..60 {
        let mut ids = vec![categories[picks.below(categories.len())].clone()];
        if round % 3 == 0 {
            ids.push(categories[picks.below(categories.len())].clone());
            ids.dedup();
        }
        let (lat, lon) = PLACES[picks.below(PLACES.len())];
        let request = pb::ShortlistRequest {
            category_ids: ids,
            quantity: 1.0 + picks.below(300) as f64,
            location: (round % 4 != 0).then_some(pb::LatLng { latitude: lat, longitude: lon }),
            count: 1 + picks.below(30) as u32,
            needed_within_hours: Some([6.0, 24.0, 72.0, 720.0][picks.below(4)]),
            ..Default::default()
        };
        let answer = server.matching().shortlist(request.clone()).await.unwrap().into_inner();
        assert!(!answer.search_cut && answer.lines_examined > 0, "round {round}");
        let query = convert::shortlist_query(&catalog, &request).unwrap();
        let brute = matching::shortlist_scan(&catalog, &*held, &query);
        let expected = convert::shortlist_response(&catalog, &brute);
        assert_eq!(answer.entries, expected.entries, "round {round}: {request:?}");
        raised_ranked += answer
            .entries
            .iter()
            .filter(|e| raised_ids.contains(&(e.supplier_id.clone(), e.category_id.clone())))
            .count();
    }

    let scenarios = ["earthquake", "flood", "medical-rescue", "urban-fire", "hazchem"];
    for round in 0..10 {
        let (lat, lon) = PLACES[round % PLACES.len()];
        let request = pb::MatchRequest {
            scenario_id: scenarios[round % scenarios.len()].into(),
            severity: 1 + (round % 4) as i32,
            location: Some(pb::LatLng { latitude: lat, longitude: lon }),
            affected_population: 20_000 * (1 + picks.below(50) as u64),
            affected_area_km2: Some(10.0 * (1 + picks.below(50)) as f64),
            options_per_requirement: 1 + picks.below(8) as u32,
            constraints: Some(pb::MatchConstraints {
                max_eta_hours: (round % 3 == 1).then_some(12.0),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut answer = server.matching().r#match(request.clone()).await.unwrap().into_inner();
        for requirement in answer.stages.iter_mut().flat_map(|s| s.requirements.iter_mut()) {
            assert!(!requirement.search_cut && requirement.lines_examined > 0);
            raised_ranked += requirement
                .options
                .iter()
                .filter(|o| raised_ids.contains(&(o.supplier_id.clone(), o.category_id.clone())))
                .count();
            requirement.lines_examined = 0;
        }
        let query = convert::match_query(&catalog, &request).unwrap();
        let brute = matching::match_incident_scan(&catalog, &*held, &query);
        let mut expected = convert::match_response(&catalog, &brute);
        for requirement in expected.stages.iter_mut().flat_map(|s| s.requirements.iter_mut()) {
            requirement.lines_examined = 0;
        }
        assert_eq!(answer, expected, "round {round}: {request:?}");
    }
    assert!(raised_ranked > 0, "some raised line must rank, or the test says nothing about them");
    server.stop().await;
}
