//! CatalogService: read-only browsing of scenarios, categories and suppliers, paged where
//! lists can be long.

use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};

use super::pb::catalog_service_server::CatalogService;
use super::{convert, finish, pb};
use crate::catalog::Catalog;
use crate::domain::{CategoryIdx, SupplierIdx};
use crate::error::{Error, FieldViolation};

#[derive(Debug, Clone)]
pub struct CatalogApi {
    pub catalog: Arc<Catalog>,
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn list_scenarios(
        &self,
        _request: Request<pb::ListScenariosRequest>,
    ) -> Result<Response<pb::ListScenariosResponse>, Status> {
        let started = Instant::now();
        let catalog = &self.catalog;
        let response = pb::ListScenariosResponse {
            scenarios: catalog
                .scenarios
                .iter()
                .map(|s| convert::scenario_with_rules_to_pb(catalog, s))
                .collect(),
            catalog_version: catalog.version.clone(),
        };
        finish("ListScenarios", started, Ok(response))
    }

    async fn get_scenario(
        &self,
        request: Request<pb::GetScenarioRequest>,
    ) -> Result<Response<pb::GetScenarioResponse>, Status> {
        let started = Instant::now();
        let catalog = &self.catalog;
        let id = &request.get_ref().scenario_id;
        let result = required(id, "scenario_id").and_then(|()| {
            let scenario = catalog.scenario_by_id(id).ok_or_else(|| Error::NotFound {
                kind: "scenario",
                id: id.clone(),
                field: "scenario_id".into(),
            })?;
            Ok(pb::GetScenarioResponse {
                scenario: Some(convert::scenario_with_rules_to_pb(catalog, scenario)),
                catalog_version: catalog.version.clone(),
            })
        });
        finish("GetScenario", started, result)
    }

    async fn list_categories(
        &self,
        request: Request<pb::ListCategoriesRequest>,
    ) -> Result<Response<pb::ListCategoriesResponse>, Status> {
        let started = Instant::now();
        let catalog = &self.catalog;
        let request = request.get_ref();
        let result = (|| {
            let mut violations = Vec::new();
            let stage = convert::stage_from_pb(request.stage);
            if stage.is_none() {
                violations.push(FieldViolation::new(
                    "stage",
                    format!("{} is not a chain stage", request.stage),
                ));
            }
            let class = convert::miit_class_from_pb(request.miit_class);
            if class.is_none() {
                violations.push(FieldViolation::new(
                    "miit_class",
                    format!("{} is not a MIIT class", request.miit_class),
                ));
            }
            if !violations.is_empty() {
                return Err(Error::InvalidArgument(violations));
            }
            let (stage, class) = (stage.flatten(), class.flatten());
            let mut matching: Vec<CategoryIdx> = (0..catalog.categories.len() as u32)
                .map(CategoryIdx)
                .filter(|idx| {
                    let category = catalog.category(*idx);
                    stage.is_none_or(|s| category.stage == s)
                        && class.is_none_or(|c| category.miit_class == c)
                })
                .collect();
            matching.sort_by(|a, b| catalog.category(*a).id.cmp(&catalog.category(*b).id));
            let (offset, size) = convert::page(catalog, request.page.as_ref(), matching.len())?;
            Ok(pb::ListCategoriesResponse {
                categories: matching
                    .iter()
                    .skip(offset)
                    .take(size)
                    .map(|idx| convert::category_to_pb(catalog, catalog.category(*idx)))
                    .collect(),
                next_page_token: convert::next_page_token(catalog, offset, size, matching.len()),
                total_size: matching.len() as u32,
                catalog_version: catalog.version.clone(),
            })
        })();
        finish("ListCategories", started, result)
    }

    async fn list_suppliers(
        &self,
        request: Request<pb::ListSuppliersRequest>,
    ) -> Result<Response<pb::ListSuppliersResponse>, Status> {
        let started = Instant::now();
        let catalog = &self.catalog;
        let request = request.get_ref();
        let result = (|| {
            let mut violations = Vec::new();
            let mut tiers = Vec::new();
            for (i, tier) in request.zone_tiers.iter().enumerate() {
                match convert::zone_tier_from_pb(*tier) {
                    Some(tier) => tiers.push(tier),
                    None => violations.push(FieldViolation::new(
                        format!("zone_tiers[{i}]"),
                        format!("{tier} is not a zone tier"),
                    )),
                }
            }
            if !violations.is_empty() {
                return Err(Error::InvalidArgument(violations));
            }
            let place = match request.place_id.as_str() {
                "" => None,
                id => Some(catalog.place_by_id(id).ok_or_else(|| Error::NotFound {
                    kind: "place",
                    id: id.to_owned(),
                    field: "place_id".into(),
                })?),
            };
            let category = match request.category_id.as_str() {
                "" => None,
                id => Some(catalog.category_by_id(id).ok_or_else(|| Error::NotFound {
                    kind: "category",
                    id: id.to_owned(),
                    field: "category_id".into(),
                })?),
            };
            // Suppliers are stored in id order, so the filtered list is already sorted.
            let matching: Vec<SupplierIdx> = (0..catalog.suppliers.len() as u32)
                .map(SupplierIdx)
                .filter(|idx| {
                    let supplier = catalog.supplier(*idx);
                    (tiers.is_empty() || tiers.contains(&catalog.place(supplier.place).zone))
                        && place.is_none_or(|p| supplier.place == p || supplier.base == Some(p))
                        && category.is_none_or(|c| {
                            catalog.supplier_lines(*idx).any(|l| catalog.line_category(l) == c)
                        })
                })
                .collect();
            let (offset, size) = convert::page(catalog, request.page.as_ref(), matching.len())?;
            Ok(pb::ListSuppliersResponse {
                suppliers: matching
                    .iter()
                    .skip(offset)
                    .take(size)
                    .map(|idx| convert::supplier_to_pb(catalog, *idx))
                    .collect(),
                next_page_token: convert::next_page_token(catalog, offset, size, matching.len()),
                total_size: matching.len() as u32,
                catalog_version: catalog.version.clone(),
            })
        })();
        finish("ListSuppliers", started, result)
    }

    async fn get_supplier(
        &self,
        request: Request<pb::GetSupplierRequest>,
    ) -> Result<Response<pb::GetSupplierResponse>, Status> {
        let started = Instant::now();
        let catalog = &self.catalog;
        let id = &request.get_ref().supplier_id;
        let result = required(id, "supplier_id").and_then(|()| {
            let idx = catalog.supplier_by_id(id).ok_or_else(|| Error::NotFound {
                kind: "supplier",
                id: id.clone(),
                field: "supplier_id".into(),
            })?;
            let mut stock_lines: Vec<pb::StockLine> = catalog
                .supplier_lines(idx)
                .map(|l| {
                    let line = catalog.stock_line(l);
                    pb::StockLine {
                        category_id: catalog.category(catalog.line_category(l)).id.to_string(),
                        quantity_on_hand: line.quantity_on_hand,
                        surge_per_day: line.surge_per_day,
                        lead_time_hours: line.lead_time_hours,
                        crew_per_unit: line.crew_per_unit,
                    }
                })
                .collect();
            stock_lines.sort_by(|a, b| a.category_id.cmp(&b.category_id));
            Ok(pb::GetSupplierResponse {
                supplier: Some(convert::supplier_to_pb(catalog, idx)),
                stock_lines,
                catalog_version: catalog.version.clone(),
            })
        });
        finish("GetSupplier", started, result)
    }

    async fn list_places(
        &self,
        _request: Request<pb::ListPlacesRequest>,
    ) -> Result<Response<pb::ListPlacesResponse>, Status> {
        let started = Instant::now();
        let catalog = &self.catalog;
        let mut places: Vec<pb::Place> =
            catalog.places.iter().map(|place| convert::place_to_pb(catalog, place)).collect();
        places.sort_by(|a, b| a.id.cmp(&b.id));
        let response = pb::ListPlacesResponse { places, catalog_version: catalog.version.clone() };
        finish("ListPlaces", started, Ok(response))
    }
}

fn required(value: &str, field: &str) -> Result<(), Error> {
    if value.is_empty() {
        Err(Error::InvalidArgument(vec![FieldViolation::new(field, "required")]))
    } else {
        Ok(())
    }
}
