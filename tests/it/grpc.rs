//! The gRPC service against the real server on 127.0.0.1:0, through the generated client.
//!
//! Properties checked:
//! - every RPC of CatalogService and MatchService answers, and paging walks every item once;
//! - every error code with its field details: INVALID_ARGUMENT carries a BadRequest violation
//!   per bad field (at most `VIOLATIONS_MAX`, whatever the request repeats), NOT_FOUND names
//!   the field and the resource;
//! - a Match view trims the answer (no score parts; no options) and never changes the plan;
//!   an unknown view is INVALID_ARGUMENT;
//! - a Match view trims the answer (no score parts; no options) and never changes the plan;
//!   an unknown view is INVALID_ARGUMENT;
//! - the health service says SERVING; reflection v1 and v1alpha list and describe the services;
//!   with reflection turned off both answer UNIMPLEMENTED and every other service answers;
//! - determinism: the same request twice gives identical bytes;
//! - ranking: all else equal nearer ranks higher; a supplier that cannot deliver within the
//!   window ranks below one that can; excluded suppliers and filtered zones never appear;
//!   constraints hold; score parts add up to the score; the plan never takes more than a
//!   supplier has.

use std::collections::HashMap;

use equipmatch::grpc::pb;
use prost::Message;
use tonic::Code;
use tonic_types::StatusExt;

use crate::support::{catalog_with_registry, TestServer};

const TANGSHAN: (f64, f64) = (39.6347, 118.1948);

fn earthquake_request() -> pb::MatchRequest {
    pb::MatchRequest {
        scenario_id: "earthquake".into(),
        severity: pb::Severity::I as i32,
        location: Some(pb::LatLng { latitude: TANGSHAN.0, longitude: TANGSHAN.1 }),
        affected_population: 1_000_000,
        affected_area_km2: Some(500.0),
        options_per_requirement: 10,
        constraints: None,
        weights: None,
        view: pb::MatchView::Unspecified as i32,
    }
}

fn all_options(response: &pb::MatchResponse) -> impl Iterator<Item = &pb::SupplierOption> {
    response.stages.iter().flat_map(|s| s.requirements.iter()).flat_map(|r| r.options.iter())
}

fn violations(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn catalog_rpcs_answer_and_paging_walks_every_item_once() {
    let server = TestServer::start().await;
    let mut client = server.catalog();

    let scenarios = client.list_scenarios(pb::ListScenariosRequest {}).await.unwrap().into_inner();
    assert!(scenarios.scenarios.len() >= 10);
    assert!(scenarios.scenarios.iter().all(|s| !s.requirements.is_empty()));

    let earthquake = client
        .get_scenario(pb::GetScenarioRequest { scenario_id: "earthquake".into() })
        .await
        .unwrap()
        .into_inner();
    let rules = earthquake.scenario.unwrap().requirements;
    for stage in [
        pb::ChainStage::MonitoringWarning,
        pb::ChainStage::SafetyProtection,
        pb::ChainStage::EmergencyRescue,
    ] {
        assert!(rules.iter().any(|r| r.stage == stage as i32), "{stage:?}");
    }

    let mut ids = Vec::new();
    let mut token = String::new();
    for _ in 0..100 {
        let page = client
            .list_categories(pb::ListCategoriesRequest {
                page: Some(pb::PageRequest { page_size: 25, page_token: token.clone() }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.categories.len() <= 25);
        ids.extend(page.categories.into_iter().map(|c| c.id));
        token = page.next_page_token;
        if token.is_empty() {
            assert_eq!(ids.len() as u32, page.total_size);
            break;
        }
    }
    assert!(ids.len() >= 80);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted and unique");

    let rescue = client
        .list_categories(pb::ListCategoriesRequest {
            stage: pb::ChainStage::EmergencyRescue as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(rescue.categories.iter().all(|c| c.stage == pb::ChainStage::EmergencyRescue as i32));

    let core = client
        .list_suppliers(pb::ListSuppliersRequest {
            zone_tiers: vec![pb::ZoneTier::Core as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!core.suppliers.is_empty());
    assert!(core.suppliers.iter().all(|s| s.zone_tier == pb::ZoneTier::Core as i32));

    let first = &core.suppliers[0];
    let detail = client
        .get_supplier(pb::GetSupplierRequest { supplier_id: first.id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(detail.supplier.unwrap().id, first.id);
    assert_eq!(detail.stock_lines.len() as u32, first.stock_line_count);
    server.stop().await;
}

#[tokio::test]
async fn invalid_match_requests_get_invalid_argument_with_a_violation_per_field() {
    let server = TestServer::start().await;
    let mut client = server.matching();

    let status = client.r#match(pb::MatchRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violations(&status);
    for field in ["scenario_id", "severity", "location"] {
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }

    let mut request = earthquake_request();
    request.location = Some(pb::LatLng { latitude: 95.0, longitude: f64::NAN });
    request.options_per_requirement = 51;
    request.affected_area_km2 = Some(-1.0);
    request.constraints = Some(pb::MatchConstraints {
        max_eta_hours: Some(0.0),
        required_certifications: vec!["no-such-cert".into()],
        zone_tiers: vec![9],
        ..Default::default()
    });
    request.weights = Some(pb::Weights { arrival: Some(-1.0), ..Default::default() });
    let status = client.r#match(request).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violations(&status);
    for field in [
        "location.latitude",
        "location.longitude",
        "options_per_requirement",
        "affected_area_km2",
        "constraints.max_eta_hours",
        "constraints.required_certifications[0]",
        "constraints.zone_tiers[0]",
        "weights.arrival",
    ] {
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }

    let mut request = earthquake_request();
    request.weights = Some(pb::Weights {
        arrival: Some(0.0),
        coverage: Some(0.0),
        reliability: Some(0.0),
        certification: Some(0.0),
        zone_policy: Some(0.0),
    });
    let status = client.r#match(request).await.unwrap_err();
    assert_eq!(violations(&status), vec!["weights".to_string()]);
    server.stop().await;
}

#[tokio::test]
async fn unknown_names_get_not_found_naming_the_field() {
    let server = TestServer::start().await;
    let mut matching = server.matching();
    let mut catalog = server.catalog();

    let mut request = earthquake_request();
    request.scenario_id = "volcano".into();
    let status = matching.r#match(request).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(violations(&status), vec!["scenario_id".to_string()]);
    let resource = status.get_details_resource_info().expect("resource info");
    assert_eq!(
        (resource.resource_type.as_str(), resource.resource_name.as_str()),
        ("scenario", "volcano")
    );

    let status = matching
        .shortlist(pb::ShortlistRequest {
            category_ids: vec!["ambulance".into(), "no-such-category".into()],
            quantity: 3.0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(violations(&status), vec!["category_ids[1]".to_string()]);

    let status = catalog
        .get_supplier(pb::GetSupplierRequest { supplier_id: "sup-none".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(violations(&status), vec!["supplier_id".to_string()]);

    let status = catalog
        .get_scenario(pb::GetScenarioRequest { scenario_id: "volcano".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let status = catalog.get_scenario(pb::GetScenarioRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violations(&status), vec!["scenario_id".to_string()]);
    server.stop().await;
}

#[tokio::test]
async fn invalid_shortlist_and_paging_requests_get_invalid_argument() {
    let server = TestServer::start().await;
    let mut matching = server.matching();
    let status = matching
        .shortlist(pb::ShortlistRequest {
            category_ids: vec![],
            quantity: 0.0,
            count: 500,
            needed_within_hours: Some(f64::INFINITY),
            filters: Some(pb::ShortlistFilters {
                min_reliability: 2.0,
                max_lead_time_hours: Some(-1.0),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violations(&status);
    for field in [
        "category_ids",
        "quantity",
        "count",
        "needed_within_hours",
        "filters.min_reliability",
        "filters.max_lead_time_hours",
    ] {
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }

    let mut catalog = server.catalog();
    let status = catalog
        .list_categories(pb::ListCategoriesRequest {
            page: Some(pb::PageRequest {
                page_size: 5000,
                page_token: "0123456789abcdef:10".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violations(&status);
    assert!(
        fields.contains(&"page.page_size".to_string())
            && fields.contains(&"page.page_token".to_string()),
        "{fields:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_shortlist_naming_one_category_thousands_of_times_gets_a_bounded_answer() {
    // Duplicates are found in one pass and reported within a bound: a request cannot make the
    // server build (and send back) one violation per repeated id.
    let server = TestServer::start().await;
    let status = server
        .matching()
        .shortlist(pb::ShortlistRequest {
            category_ids: vec!["ambulance".into(); 5000],
            quantity: 1.0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields = violations(&status);
    assert!(fields.contains(&"category_ids".to_string()), "{fields:?}");
    assert!(fields.contains(&"category_ids[1]".to_string()), "{fields:?}");
    assert!(fields.len() <= equipmatch::grpc::convert::VIOLATIONS_MAX + 1, "{}", fields.len());
    server.stop().await;
}

#[tokio::test]
async fn health_says_serving_and_reflection_describes_the_services() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    let server = TestServer::start().await;
    let mut health = HealthClient::new(server.channel.clone());
    for service in ["", "equipmatch.v1.MatchService", "equipmatch.v1.CatalogService"] {
        let response = health
            .check(HealthCheckRequest { service: service.into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            response.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service:?}"
        );
    }

    {
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        let mut client = ServerReflectionClient::new(server.channel.clone());
        let requests = vec![
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            },
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(
                    "equipmatch.v1.MatchService".into(),
                )),
            },
        ];
        let mut stream =
            client.server_reflection_info(tokio_stream::iter(requests)).await.unwrap().into_inner();
        let Some(MessageResponse::ListServicesResponse(list)) =
            stream.message().await.unwrap().unwrap().message_response
        else {
            panic!("expected a service list");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for name in
            ["equipmatch.v1.MatchService", "equipmatch.v1.CatalogService", "grpc.health.v1.Health"]
        {
            assert!(names.contains(&name.to_string()), "{name} in {names:?}");
        }
        let Some(MessageResponse::FileDescriptorResponse(files)) =
            stream.message().await.unwrap().unwrap().message_response
        else {
            panic!("expected file descriptors");
        };
        let file =
            prost_types::FileDescriptorProto::decode(files.file_descriptor_proto[0].as_slice())
                .unwrap();
        assert_eq!(file.package(), "equipmatch.v1");
    }
    {
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        let mut client = ServerReflectionClient::new(server.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = client
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .unwrap()
            .into_inner();
        let Some(MessageResponse::ListServicesResponse(list)) =
            stream.message().await.unwrap().unwrap().message_response
        else {
            panic!("expected a service list");
        };
        assert!(list.service.iter().any(|s| s.name == "equipmatch.v1.MatchService"));
    }
    server.stop().await;
}

#[tokio::test]
async fn without_reflection_the_schema_is_not_served_and_the_rest_is() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let catalog = crate::support::embedded_catalog();
    let (store, dir) =
        crate::support::temp_sqlite_store(catalog.clone(), equipmatch::holds::system_clock());
    let options = equipmatch::grpc::ServerOptions { reflection: false, ..Default::default() };
    let server = TestServer::start_with_options(catalog, store, Some(dir), options).await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let refused = async {
        let mut stream = ServerReflectionClient::new(server.channel.clone())
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await?
            .into_inner();
        stream.message().await
    };
    let status = refused.await.expect_err("reflection is off");
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    let mut alpha =
        tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient::new(
            server.channel.clone(),
        );
    let alpha_request = tonic_reflection::pb::v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            ),
        ),
    };
    let refused = async {
        alpha
            .server_reflection_info(tokio_stream::iter(vec![alpha_request]))
            .await?
            .into_inner()
            .message()
            .await
    };
    assert_eq!(refused.await.expect_err("v1alpha is off too").code(), Code::Unimplemented);
    // Everything else is served as before.
    let scenarios = server.catalog().list_scenarios(pb::ListScenariosRequest::default()).await;
    assert!(!scenarios.expect("the catalog answers").into_inner().scenarios.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn the_same_request_twice_gives_identical_bytes() {
    let server = TestServer::start().await;
    let mut client = server.matching();
    let first = client.r#match(earthquake_request()).await.unwrap().into_inner().encode_to_vec();
    let second = client.r#match(earthquake_request()).await.unwrap().into_inner().encode_to_vec();
    assert_eq!(first, second);
    let shortlist = || pb::ShortlistRequest {
        category_ids: vec!["ambulance".into(), "drainage-truck-large".into()],
        quantity: 10.0,
        location: Some(pb::LatLng { latitude: 38.87, longitude: 115.47 }),
        count: 50,
        ..Default::default()
    };
    let first = client.shortlist(shortlist()).await.unwrap().into_inner().encode_to_vec();
    let second = client.shortlist(shortlist()).await.unwrap().into_inner().encode_to_vec();
    assert_eq!(first, second);
    server.stop().await;
}

#[tokio::test]
async fn a_match_view_trims_the_answer_but_never_changes_the_plan() {
    let server = TestServer::start().await;
    let mut client = server.matching();
    let ask = |view: pb::MatchView| pb::MatchRequest { view: view as i32, ..earthquake_request() };
    let full = client.r#match(ask(pb::MatchView::Full)).await.unwrap().into_inner();
    let unset = client.r#match(ask(pb::MatchView::Unspecified)).await.unwrap().into_inner();
    let no_parts = client.r#match(ask(pb::MatchView::NoScoreParts)).await.unwrap().into_inner();
    let plan_only = client.r#match(ask(pb::MatchView::PlanOnly)).await.unwrap().into_inner();
    assert_eq!(unset, full, "unset is the full view");
    let requirements = |r: &pb::MatchResponse| -> Vec<pb::RequirementResult> {
        r.stages.iter().flat_map(|s| s.requirements.clone()).collect()
    };
    let (full_rs, no_parts_rs, plan_rs) =
        (requirements(&full), requirements(&no_parts), requirements(&plan_only));
    for ((f, n), p) in full_rs.iter().zip(&no_parts_rs).zip(&plan_rs) {
        assert!(!f.options.is_empty() && f.options.iter().all(|o| o.score_parts.len() == 5));
        assert!(f.lines_examined > 0 && !f.search_cut);
        // Without parts: the same options, scores kept.
        let stripped: Vec<pb::SupplierOption> = f
            .options
            .iter()
            .map(|o| pb::SupplierOption { score_parts: Vec::new(), ..o.clone() })
            .collect();
        assert_eq!(n.options, stripped);
        // Plan only: no options, the same plan and numbers.
        assert!(p.options.is_empty());
        for other in [n, p] {
            assert_eq!(other.plan, f.plan);
            assert_eq!(
                (other.quantity_required, other.quantity_planned, other.coverage, other.shortfall),
                (f.quantity_required, f.quantity_planned, f.coverage, f.shortfall)
            );
        }
    }
    assert_eq!(plan_only.coverage, full.coverage);
    assert!(
        plan_only.encoded_len() * 4 < full.encoded_len(),
        "plan only {} bytes, full {} bytes",
        plan_only.encoded_len(),
        full.encoded_len()
    );
    assert!(no_parts.encoded_len() < full.encoded_len());
    let status =
        client.r#match(pb::MatchRequest { view: 9, ..earthquake_request() }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violations(&status), vec!["view".to_string()]);
    server.stop().await;
}

#[tokio::test]
async fn match_covers_every_stage_and_its_numbers_are_consistent() {
    let server = TestServer::start().await;
    let mut client = server.matching();
    let mut catalog = server.catalog();
    let response = client.r#match(earthquake_request()).await.unwrap().into_inner();
    assert_eq!(response.stages.len(), 3);
    assert!(response.stages.iter().all(|s| !s.requirements.is_empty()));
    assert!((0.0..=1.0).contains(&response.coverage));

    let mut stock: HashMap<(String, String), pb::StockLine> = HashMap::new();
    for requirement in response.stages.iter().flat_map(|s| s.requirements.iter()) {
        // Score parts add up to the score.
        for option in &requirement.options {
            let sum: f64 = option.score_parts.iter().map(|p| p.contribution).sum();
            assert!((sum - option.score).abs() < 1e-12, "{sum} vs {}", option.score);
            assert_eq!(option.score_parts.len(), 5);
            assert!(option.quantity_available > 0.0);
        }
        // On time first, then score descending, then supplier id.
        for pair in requirement.options.windows(2) {
            let key = |o: &pb::SupplierOption| (!o.on_time, -o.score);
            assert!(
                key(&pair[0]) <= key(&pair[1]),
                "{} before {}",
                pair[0].supplier_id,
                pair[1].supplier_id
            );
        }
        // The plan never takes more than a supplier has in the window, nor more than needed.
        let planned: f64 = requirement.plan.iter().map(|e| e.quantity_equivalent).sum();
        assert!(requirement.quantity_planned <= requirement.quantity_required);
        assert!(
            (requirement.quantity_planned + requirement.shortfall - requirement.quantity_required)
                .abs()
                < 1e-9
        );
        assert!(planned >= requirement.quantity_planned - 1e-9);
        for entry in &requirement.plan {
            assert!(entry.eta_hours <= requirement.needed_within_hours + 1e-9);
            let key = (entry.supplier_id.clone(), entry.category_id.clone());
            if !stock.contains_key(&key) {
                let detail = catalog
                    .get_supplier(pb::GetSupplierRequest { supplier_id: entry.supplier_id.clone() })
                    .await
                    .unwrap()
                    .into_inner();
                for line in detail.stock_lines {
                    stock.insert((entry.supplier_id.clone(), line.category_id.clone()), line);
                }
            }
            let line = &stock[&key];
            let most = line.quantity_on_hand
                + (line.surge_per_day * requirement.needed_within_hours / 24.0).floor();
            assert!(entry.quantity <= most, "{entry:?} takes more than {most}");
            assert!(entry.quantity > 0.0);
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn exclusions_zones_and_constraints_always_hold() {
    let server = TestServer::start().await;
    let mut client = server.matching();
    let baseline = client.r#match(earthquake_request()).await.unwrap().into_inner();
    let mut excluded: Vec<String> =
        all_options(&baseline).map(|o| o.supplier_id.clone()).take(3).collect();
    excluded.sort();
    excluded.dedup();
    assert!(!excluded.is_empty());

    let mut request = earthquake_request();
    request.constraints = Some(pb::MatchConstraints {
        max_eta_hours: Some(8.0),
        required_certifications: vec!["iso-9001".into()],
        excluded_supplier_ids: excluded.clone(),
        zone_tiers: vec![pb::ZoneTier::Core as i32, pb::ZoneTier::Key as i32],
        ..Default::default()
    });
    let response = client.r#match(request).await.unwrap().into_inner();
    let mut catalog = server.catalog();
    let mut seen = 0;
    for requirement in response.stages.iter().flat_map(|s| s.requirements.iter()) {
        for option in &requirement.options {
            seen += 1;
            assert!(!excluded.contains(&option.supplier_id));
            assert!(
                option.zone_tier == pb::ZoneTier::Core as i32
                    || option.zone_tier == pb::ZoneTier::Key as i32
            );
            assert!(option.eta_hours <= 8.0);
        }
        for entry in &requirement.plan {
            assert!(!excluded.contains(&entry.supplier_id));
        }
    }
    assert!(seen > 0, "the constraints still leave options");
    for option in all_options(&response).take(20) {
        let supplier = catalog
            .get_supplier(pb::GetSupplierRequest { supplier_id: option.supplier_id.clone() })
            .await
            .unwrap()
            .into_inner()
            .supplier
            .unwrap();
        assert!(supplier.certification_ids.contains(&"iso-9001".to_string()));
    }
    server.stop().await;
}

/// Two suppliers in Tangshan identical but for distance; a third, more reliable one that
/// cannot deliver within the window (lead time 100 h); a fourth outside the cluster (Shenyang)
/// and a fifth in Beijing, which is the `metro` tier (in the cluster, in no designated zone).
fn ranking_catalog() -> std::sync::Arc<equipmatch::catalog::Catalog> {
    catalog_with_registry(
        "near,SYNTHETIC near,tangshan,,39.64,118.20,,0.80\n\
         far,SYNTHETIC far,tangshan,,39.70,118.40,,0.80\n\
         late,SYNTHETIC late,tangshan,,39.64,118.20,,1.00\n\
         outside,SYNTHETIC outside,shenyang,,41.80,123.43,,0.95\n\
         metro,SYNTHETIC metro,beijing,,39.90,116.40,,0.95\n",
        "near,ambulance,10,0,1\n\
         far,ambulance,10,0,1\n\
         late,ambulance,10,0,100\n\
         outside,ambulance,10,0,1\n\
         metro,ambulance,10,0,1\n",
    )
}

#[tokio::test]
async fn nearer_ranks_higher_and_late_ranks_below_on_time() {
    let server = TestServer::start_with(ranking_catalog()).await;
    let mut client = server.matching();
    let response = client
        .shortlist(pb::ShortlistRequest {
            category_ids: vec!["ambulance".into()],
            quantity: 10.0,
            location: Some(pb::LatLng { latitude: TANGSHAN.0, longitude: TANGSHAN.1 }),
            needed_within_hours: Some(12.0),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let order: Vec<&str> = response.entries.iter().map(|e| e.supplier_id.as_str()).collect();
    let at = |id: &str| order.iter().position(|x| *x == id).unwrap();
    assert!(at("near") < at("far"), "{order:?}");
    assert_eq!(*order.last().unwrap(), "late", "{order:?}");
    assert!(!response.entries.last().unwrap().on_time);

    let zoned = client
        .shortlist(pb::ShortlistRequest {
            category_ids: vec!["ambulance".into()],
            quantity: 10.0,
            filters: Some(pb::ShortlistFilters {
                zone_tiers: vec![pb::ZoneTier::Outside as i32],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = zoned.entries.iter().map(|e| e.supplier_id.as_str()).collect();
    assert_eq!(ids, vec!["outside"]);
    let metro = client
        .shortlist(pb::ShortlistRequest {
            category_ids: vec!["ambulance".into()],
            quantity: 10.0,
            filters: Some(pb::ShortlistFilters {
                zone_tiers: vec![pb::ZoneTier::Metro as i32],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = metro.entries.iter().map(|e| e.supplier_id.as_str()).collect();
    assert_eq!(ids, vec!["metro"]);
    assert_eq!(metro.entries[0].zone_tier, pb::ZoneTier::Metro as i32);
    server.stop().await;
}
