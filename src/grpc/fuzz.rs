//! The request fuzz target's body (`crate::fuzzing::request`), here because it decodes the
//! generated messages, which never leave `grpc/`. Each message goes the way its handler
//! takes it: validation, then the engine for Match and Shortlist and the real handler for the
//! catalog RPCs and the EDXL-RM writer and reader for EdxlService; hold, alert and drill
//! requests stop after validation or parsing (the store, the CAP reader and the drill engine
//! have targets of their own, and a synced write per execution would starve the fuzzer).

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use prost::Message;
use tonic::Request;

use super::catalog_service::CatalogApi;
use super::pb::catalog_service_server::CatalogService;
use super::{convert, drill_convert, pb};
use crate::catalog::Catalog;
use crate::matching::{self, NoHolds};

/// The request messages, in the order the selector byte picks them.
pub const MESSAGES: [&str; 20] = [
    "ListScenariosRequest",
    "GetScenarioRequest",
    "ListCategoriesRequest",
    "ListSuppliersRequest",
    "GetSupplierRequest",
    "MatchRequest",
    "ShortlistRequest",
    "PlaceHoldRequest",
    "ConfirmHoldRequest",
    "ReleaseHoldRequest",
    "GetHoldRequest",
    "ListHoldsRequest",
    "UpdateStockRequest",
    "RunDrillRequest",
    "ListPlacesRequest",
    "IngestAlertRequest",
    "ListActiveAlertsRequest",
    "ExportRequestResourceRequest",
    "ExportCommitResourceRequest",
    "ImportRequestResourceRequest",
];

/// Polls a handler that never waits (the catalog handlers do no I/O) to its end.
fn ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

pub fn request(catalog: &Arc<Catalog>, data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let api = CatalogApi { catalog: catalog.clone() };
    match selector as usize % MESSAGES.len() {
        0 => {
            if let Ok(m) = pb::ListScenariosRequest::decode(bytes) {
                let _ = ready(api.list_scenarios(Request::new(m)));
            }
        }
        1 => {
            if let Ok(m) = pb::GetScenarioRequest::decode(bytes) {
                let _ = ready(api.get_scenario(Request::new(m)));
            }
        }
        2 => {
            if let Ok(m) = pb::ListCategoriesRequest::decode(bytes) {
                let _ = ready(api.list_categories(Request::new(m)));
            }
        }
        3 => {
            if let Ok(m) = pb::ListSuppliersRequest::decode(bytes) {
                let _ = ready(api.list_suppliers(Request::new(m)));
            }
        }
        4 => {
            if let Ok(m) = pb::GetSupplierRequest::decode(bytes) {
                let _ = ready(api.get_supplier(Request::new(m)));
            }
        }
        5 => {
            if let Ok(m) = pb::MatchRequest::decode(bytes) {
                if let Ok(query) = convert::match_query(catalog, &m) {
                    let result = matching::match_incident(catalog, &NoHolds, &query);
                    let _ = convert::match_response(catalog, &result).encode_to_vec();
                }
            }
        }
        6 => {
            if let Ok(m) = pb::ShortlistRequest::decode(bytes) {
                if let Ok(query) = convert::shortlist_query(catalog, &m) {
                    let result = matching::shortlist(catalog, &NoHolds, &query);
                    let _ = convert::shortlist_response(catalog, &result).encode_to_vec();
                }
            }
        }
        7 => {
            if let Ok(m) = pb::PlaceHoldRequest::decode(bytes) {
                let _ = convert::place_hold(catalog, &m);
            }
        }
        8 => {
            if let Ok(m) = pb::ConfirmHoldRequest::decode(bytes) {
                let _ = convert::hold_id(&m.hold_id);
            }
        }
        9 => {
            if let Ok(m) = pb::ReleaseHoldRequest::decode(bytes) {
                let _ = convert::hold_id(&m.hold_id);
            }
        }
        10 => {
            if let Ok(m) = pb::GetHoldRequest::decode(bytes) {
                let _ = convert::hold_id(&m.hold_id);
            }
        }
        11 => {
            if let Ok(m) = pb::ListHoldsRequest::decode(bytes) {
                let _ = convert::list_holds(&m);
            }
        }
        12 => {
            if let Ok(m) = pb::UpdateStockRequest::decode(bytes) {
                let _ = convert::update_stock(catalog, &m);
            }
        }
        13 => {
            if let Ok(m) = pb::RunDrillRequest::decode(bytes) {
                let _ = drill_convert::drill_request(catalog, &m);
            }
        }
        14 => {
            if let Ok(m) = pb::ListPlacesRequest::decode(bytes) {
                let _ = ready(api.list_places(Request::new(m)));
            }
        }
        15 => {
            // The CAP reader and the incident mapping: interop's own target body.
            if let Ok(m) = pb::IngestAlertRequest::decode(bytes) {
                crate::interop::fuzz::cap_reader(&m.cap_xml);
            }
        }
        16 => {
            let _ = pb::ListActiveAlertsRequest::decode(bytes);
        }
        17 => {
            if let Ok(m) = pb::ExportRequestResourceRequest::decode(bytes) {
                export_request(catalog, &m);
            }
        }
        18 => {
            if let Ok(m) = pb::ExportCommitResourceRequest::decode(bytes) {
                let _ = convert::hold_id(&m.hold_id);
            }
        }
        _ => {
            if let Ok(m) = pb::ImportRequestResourceRequest::decode(bytes) {
                import_request(catalog, &m);
            }
        }
    }
}

/// ExportRequestResource as its handler runs it, without held stock.
fn export_request(catalog: &Catalog, m: &pb::ExportRequestResourceRequest) {
    let Some(match_request) = &m.r#match else { return };
    let Ok(query) = convert::match_query(catalog, match_request) else { return };
    let result = matching::match_incident(catalog, &NoHolds, &query);
    let options = crate::interop::edxl_rm::RequestOptions {
        sent_ms: m.sent_unix_ms,
        incident_id: m.incident_id.clone(),
        requester: m.requester.clone(),
        shortfalls_only: m.shortfalls_only,
    };
    let _ = crate::interop::edxl_rm::request_resource(catalog, &query, &result, &options);
}

/// ImportRequestResource as its handler runs it, without held stock.
fn import_request(catalog: &Catalog, m: &pb::ImportRequestResourceRequest) {
    let location = match &m.location {
        None => None,
        Some(l) => match crate::domain::LatLon::new(l.latitude, l.longitude) {
            Ok(location) => Some(location),
            Err(_) => return,
        },
    };
    let Ok(parsed) = crate::interop::edxl_rm::read_request(&m.xml) else { return };
    if let Ok(imported) =
        crate::interop::edxl_rm::request_to_match(catalog, &NoHolds, parsed, location)
    {
        let _ = super::alert_convert::imported_to_pb(catalog, &imported);
    }
}

/// A corpus entry for `message` (index into `MESSAGES`): the selector byte, then the bytes.
pub fn corpus_entry(message: usize, encoded: &[u8]) -> Vec<u8> {
    let mut entry = vec![message as u8];
    entry.extend_from_slice(encoded);
    entry
}

/// Seed inputs: one valid message of each kind (the fuzzer mutates from there).
pub fn seeds() -> Vec<Vec<u8>> {
    let tangshan = Some(pb::LatLng { latitude: 39.63, longitude: 118.18 });
    let tangshan_match = pb::MatchRequest {
        scenario_id: "earthquake".into(),
        severity: pb::Severity::Ii as i32,
        location: tangshan,
        affected_population: 100_000,
        affected_area_km2: Some(50.0),
        options_per_requirement: 3,
        constraints: None,
        weights: None,
        // Unset (the full answer): the seeds' bytes stay as they were.
        view: pb::MatchView::Unspecified as i32,
    };
    let cap = include_bytes!("../../tests/data/cap-team-written/tangshan-earthquake.xml");
    let export = pb::ExportRequestResourceRequest {
        r#match: Some(tangshan_match),
        shortfalls_only: true,
        incident_id: "quake-1".into(),
        requester: "hebei".into(),
        sent_unix_ms: 1_767_225_600_000,
    };
    // A RequestResource as the server writes it, for the import seed.
    let written = export_written(&export);
    let encoded: [Vec<u8>; 20] = [
        pb::ListScenariosRequest {}.encode_to_vec(),
        pb::GetScenarioRequest { scenario_id: "earthquake".into() }.encode_to_vec(),
        pb::ListCategoriesRequest::default().encode_to_vec(),
        pb::ListSuppliersRequest {
            page: Some(pb::PageRequest { page_size: 5, page_token: String::new() }),
            ..Default::default()
        }
        .encode_to_vec(),
        pb::GetSupplierRequest { supplier_id: "sup-00007".into() }.encode_to_vec(),
        pb::MatchRequest {
            scenario_id: "earthquake".into(),
            severity: pb::Severity::Ii as i32,
            location: tangshan,
            affected_population: 100_000,
            affected_area_km2: Some(50.0),
            options_per_requirement: 3,
            constraints: Some(pb::MatchConstraints {
                max_eta_hours: Some(48.0),
                required_certifications: vec!["iso-9001".into()],
                excluded_supplier_ids: vec!["sup-00001".into()],
                zone_tiers: vec![pb::ZoneTier::Core as i32],
                // Empty: the seed's bytes stay those committed before holder kinds.
                holder_kinds: Vec::new(),
                prefer_holder_kinds: Vec::new(),
            }),
            weights: None,
            view: pb::MatchView::Unspecified as i32,
        }
        .encode_to_vec(),
        pb::ShortlistRequest {
            category_ids: vec!["uav-phone-signal-locator".into()],
            quantity: 5.0,
            location: tangshan,
            ..Default::default()
        }
        .encode_to_vec(),
        pb::PlaceHoldRequest {
            hold_id: "h-1".into(),
            incident_ref: "quake".into(),
            lines: vec![pb::HoldLine {
                supplier_id: "sup-00007".into(),
                category_id: "uav-phone-signal-locator".into(),
                quantity_units: 2,
            }],
            ttl_seconds: 900,
        }
        .encode_to_vec(),
        pb::ConfirmHoldRequest { hold_id: "h-1".into() }.encode_to_vec(),
        pb::ReleaseHoldRequest { hold_id: "h-1".into() }.encode_to_vec(),
        pb::GetHoldRequest { hold_id: "h-1".into() }.encode_to_vec(),
        pb::ListHoldsRequest { incident_ref: "quake".into(), page_size: 10, ..Default::default() }
            .encode_to_vec(),
        pb::UpdateStockRequest {
            lines: vec![pb::StockQuantity {
                supplier_id: "sup-00007".into(),
                category_id: "uav-phone-signal-locator".into(),
                on_hand_units: 40,
            }],
        }
        .encode_to_vec(),
        pb::RunDrillRequest {
            drill_toml: "id = \"d\"\n".into(),
            file_name: "d.toml".into(),
            policy: pb::DrillPolicy::Equity as i32,
        }
        .encode_to_vec(),
        pb::ListPlacesRequest {}.encode_to_vec(),
        pb::IngestAlertRequest { cap_xml: cap.to_vec() }.encode_to_vec(),
        pb::ListActiveAlertsRequest { include_exercises: true }.encode_to_vec(),
        export.encode_to_vec(),
        pb::ExportCommitResourceRequest { hold_id: "h-1".into(), ..Default::default() }
            .encode_to_vec(),
        pb::ImportRequestResourceRequest { xml: written.into_bytes(), location: None }
            .encode_to_vec(),
    ];
    encoded.iter().enumerate().map(|(i, bytes)| corpus_entry(i, bytes)).collect()
}

/// The RequestResource the embedded catalog's server would write for `export` (a seed).
fn export_written(export: &pb::ExportRequestResourceRequest) -> String {
    let catalog = crate::fuzzing::embedded_catalog();
    let Some(match_request) = &export.r#match else { return String::new() };
    let Ok(query) = convert::match_query(catalog, match_request) else { return String::new() };
    let result = matching::match_incident(catalog, &NoHolds, &query);
    let options = crate::interop::edxl_rm::RequestOptions {
        sent_ms: export.sent_unix_ms,
        incident_id: export.incident_id.clone(),
        requester: export.requester.clone(),
        shortfalls_only: false,
    };
    crate::interop::edxl_rm::request_resource(catalog, &query, &result, &options)
        .unwrap_or_default()
}
