//! Reads a RequestResource (bare, or inside an EDXL-DE envelope or a SOAP body) and turns it
//! into a Match: each requested resource is mapped to a category (our own category URN, the
//! `[[resource]]` names of cap-events.toml, then the taxonomy's ids, names and aliases), its
//! quantity and requested arrival become a requirement, and the engine ranks and plans them
//! like any scenario. A resource that maps to nothing, or states no quantity, is reported and
//! left out; nothing is guessed.

use roxmltree::Node;

use super::{CATEGORY_URN, GML_NS, RM_MSG_NS, RM_NS};
use crate::catalog::{Catalog, NEEDED_WITHIN_HOURS_MAX};
use crate::domain::{
    normalise, CategoryIdx, ChainStage, Grade, Id, LatLon, Priority, Provenance, Requirement,
    Scenario, Severity,
};
use crate::interop::time::{parse_datetime, DateTimeRule};
use crate::interop::xml::{self, simple_text, Refusal};
use crate::matching::{
    self, Filters, HeldStock, MatchQuery, MatchResult, Weights, OPTIONS_PER_REQUIREMENT_DEFAULT,
};

/// The most ResourceInformation blocks one request may carry.
pub const RESOURCES_PER_REQUEST_MAX: usize = 200;
/// The most ScheduleInformation blocks one resource may carry.
pub const SCHEDULES_PER_RESOURCE_MAX: usize = 20;
/// The window given to a resource whose request states no RequestedArrival time: one day
/// (MODEL; the answer says so for each such resource).
pub const REQUEST_WINDOW_HOURS_DEFAULT: f64 = 24.0;
/// The largest quantity one resource may ask for.
const QUANTITY_MAX: f64 = 1e7;

/// A RequestResource as read.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRequest {
    pub message_id: String,
    pub sent_ms: i64,
    /// The SentDateTime had no time zone (UTC assumed).
    pub sent_without_zone: bool,
    pub incident_id: Option<String>,
    pub incident_description: Option<String>,
    pub requester: Option<String>,
    pub contact_location: Option<LatLon>,
    pub resources: Vec<RequestedResource>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestedResource {
    pub element_id: String,
    /// Every name the resource goes by: TypeInfo/Resource, Name, TypeStructure values.
    pub names: Vec<String>,
    /// A TypeStructure value under our category URN.
    pub category_id: Option<String>,
    pub quantity: Option<f64>,
    pub quantity_text: Option<String>,
    pub requested_arrival_ms: Option<i64>,
    /// The RequestedArrival location's point, else any schedule's point.
    pub location: Option<LatLon>,
    pub location_description: Option<String>,
}

/// What became of one requested resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceOutcome {
    pub element_id: String,
    pub name: String,
    pub category: Option<CategoryIdx>,
    /// How the category was found, or why the resource is left out.
    pub basis: String,
    pub quantity: Option<f64>,
    pub window_hours: Option<f64>,
}

/// A request read into a Match.
#[derive(Debug, Clone)]
pub struct ImportedRequest {
    pub request: ResourceRequest,
    pub location: LatLon,
    pub location_basis: String,
    pub resources: Vec<ResourceOutcome>,
    /// The requirements the request amounts to (one per category and stage).
    pub scenario: Scenario,
    pub result: MatchResult,
}

fn rm_children<'a, 'input>(node: Node<'a, 'input>, ns: &str, name: &str) -> Vec<Node<'a, 'input>> {
    node.children()
        .filter(|n| {
            n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
        })
        .collect()
}

fn rm_text(
    node: Node<'_, '_>,
    ns: &str,
    name: &str,
    path: &str,
) -> Result<Option<String>, Refusal> {
    match rm_children(node, ns, name).first() {
        Some(child) => {
            let text = simple_text(*child, &format!("{path}.{name}"))?;
            Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()))
        }
        None => Ok(None),
    }
}

/// Reads the first RequestResource of a document.
pub fn read_request(bytes: &[u8]) -> Result<ResourceRequest, Refusal> {
    let text = xml::decode(bytes)?;
    let document = xml::parse(&text)?;
    let is_message =
        |n: &Node<'_, '_>| n.is_element() && n.tag_name().namespace() == Some(RM_MSG_NS);
    let Some(message) = document.root_element().descendants().find(is_message) else {
        let root = document.root_element();
        return Err(Refusal::whole(format!(
            "not EDXL-RM: <{}> in namespace {:?} carries no EDXL-RM message",
            root.tag_name().name(),
            root.tag_name().namespace().unwrap_or("")
        )));
    };
    if message.tag_name().name() != "RequestResource" {
        return Err(Refusal::whole(format!(
            "an EDXL-RM {}, not a RequestResource: equipmatch reads requests only",
            message.tag_name().name()
        )));
    }
    let message_id = rm_text(message, RM_MSG_NS, "MessageID", "")?
        .ok_or_else(|| Refusal::new("MessageID", "required element is missing"))?;
    let sent_text = rm_text(message, RM_MSG_NS, "SentDateTime", "")?
        .ok_or_else(|| Refusal::new("SentDateTime", "required element is missing"))?;
    let sent = parse_datetime(&sent_text, DateTimeRule::XsdDateTime)
        .map_err(|reason| Refusal::new("SentDateTime", reason))?;
    let incident = rm_children(message, RM_MSG_NS, "IncidentInformation");
    let (incident_id, incident_description) = match incident.first() {
        Some(node) => (
            rm_text(*node, RM_NS, "IncidentID", "IncidentInformation")?,
            rm_text(*node, RM_NS, "IncidentDescription", "IncidentInformation")?,
        ),
        None => (None, None),
    };
    let contact = rm_children(message, RM_MSG_NS, "ContactInformation");
    let (requester, contact_location) = match contact.first() {
        Some(node) => {
            let location = rm_children(*node, RM_NS, "ContactLocation")
                .first()
                .map(|l| point(*l, "ContactInformation.ContactLocation"))
                .transpose()?
                .flatten();
            (rm_text(*node, RM_NS, "ContactDescription", "ContactInformation")?, location)
        }
        None => (None, None),
    };
    let resource_nodes = rm_children(message, RM_MSG_NS, "ResourceInformation");
    if resource_nodes.is_empty() {
        return Err(Refusal::new("ResourceInformation", "required element is missing"));
    }
    if resource_nodes.len() > RESOURCES_PER_REQUEST_MAX {
        return Err(Refusal::new(
            "ResourceInformation",
            format!("{} resources; at most {RESOURCES_PER_REQUEST_MAX}", resource_nodes.len()),
        ));
    }
    let mut resources = Vec::new();
    for (index, node) in resource_nodes.into_iter().enumerate() {
        resources.push(read_resource(node, &format!("ResourceInformation[{index}]"))?);
    }
    Ok(ResourceRequest {
        message_id,
        sent_ms: sent.unix_ms,
        sent_without_zone: !sent.had_zone,
        incident_id,
        incident_description,
        requester,
        contact_location,
        resources,
    })
}

/// The gml:Point of a LocationType element's TargetArea, if it has one ("lat lon").
fn point(location: Node<'_, '_>, path: &str) -> Result<Option<LatLon>, Refusal> {
    let Some(area) = rm_children(location, RM_NS, "TargetArea").into_iter().next() else {
        return Ok(None);
    };
    let Some(point) = rm_children(area, GML_NS, "Point").into_iter().next() else {
        return Ok(None);
    };
    let at = format!("{path}.TargetArea.Point.pos");
    let Some(pos) = rm_text(point, GML_NS, "pos", &format!("{path}.TargetArea.Point"))? else {
        return Err(Refusal::new(at, "required element is missing"));
    };
    let numbers: Vec<f64> = pos.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    match numbers.as_slice() {
        [lat, lon] => LatLon::new(*lat, *lon)
            .map(Some)
            .map_err(|reason| Refusal::new(at, format!("{pos:?}: {reason}"))),
        _ => Err(Refusal::new(at, format!("{pos:?} is not \"latitude longitude\""))),
    }
}

fn read_resource(node: Node<'_, '_>, path: &str) -> Result<RequestedResource, Refusal> {
    let element_id = rm_text(node, RM_MSG_NS, "ResourceInfoElementID", path)?.ok_or_else(|| {
        Refusal::new(format!("{path}.ResourceInfoElementID"), "required element is missing")
    })?;
    let mut names = Vec::new();
    let mut category_id = None;
    if let Some(resource) = rm_children(node, RM_MSG_NS, "Resource").first() {
        let at = format!("{path}.Resource");
        // TypeInfo's children are in no namespace in the UICDS messages (interop README §2).
        for info in rm_children(*resource, RM_MSG_NS, "TypeInfo") {
            for child in
                info.children().filter(|c| c.is_element() && c.tag_name().name() == "Resource")
            {
                names.push(
                    simple_text(child, &format!("{at}.TypeInfo.Resource"))?.trim().to_owned(),
                );
            }
        }
        if let Some(name) = rm_text(*resource, RM_MSG_NS, "Name", &at)? {
            names.push(name);
        }
        for structure in rm_children(*resource, RM_MSG_NS, "TypeStructure") {
            let urn = rm_text(structure, RM_NS, "ValueListURN", &at)?.unwrap_or_default();
            for value in rm_children(structure, RM_NS, "Value") {
                let value =
                    simple_text(value, &format!("{at}.TypeStructure.Value"))?.trim().to_owned();
                if urn == CATEGORY_URN {
                    category_id = Some(value);
                } else {
                    names.push(value);
                }
            }
        }
    }
    names.retain(|n| !n.is_empty());
    let mut quantity = None;
    let mut quantity_text = None;
    if let Some(assignment) = rm_children(node, RM_MSG_NS, "AssignmentInformation").first() {
        if let Some(q) = rm_children(*assignment, RM_MSG_NS, "Quantity").first() {
            let at = format!("{path}.AssignmentInformation.Quantity");
            if let Some(measured) = rm_children(*q, RM_NS, "MeasuredQuantity").first() {
                let amount = rm_text(*measured, RM_NS, "Amount", &at)?;
                quantity_text = amount.clone();
                quantity = amount.and_then(|a| a.parse::<f64>().ok());
            } else if let Some(text) = rm_text(*q, RM_NS, "QuantityText", &at)? {
                quantity = text.parse::<f64>().ok();
                quantity_text = Some(text);
            }
        }
    }
    let schedules = rm_children(node, RM_MSG_NS, "ScheduleInformation");
    if schedules.len() > SCHEDULES_PER_RESOURCE_MAX {
        return Err(Refusal::new(
            format!("{path}.ScheduleInformation"),
            format!("more than {SCHEDULES_PER_RESOURCE_MAX}"),
        ));
    }
    let mut requested_arrival_ms = None;
    let (mut arrival_location, mut any_location, mut location_description) = (None, None, None);
    for (i, schedule) in schedules.into_iter().enumerate() {
        let at = format!("{path}.ScheduleInformation[{i}]");
        let kind = rm_text(schedule, RM_MSG_NS, "ScheduleType", &at)?.unwrap_or_default();
        let when = rm_text(schedule, RM_MSG_NS, "DateTime", &at)?
            .map(|t| parse_datetime(&t, DateTimeRule::XsdDateTime))
            .transpose()
            .map_err(|reason| Refusal::new(format!("{at}.DateTime"), reason))?;
        let location = match rm_children(schedule, RM_MSG_NS, "Location").first() {
            Some(l) => {
                location_description = location_description.or(rm_text(
                    *l,
                    RM_NS,
                    "LocationDescription",
                    &format!("{at}.Location"),
                )?);
                point(*l, &format!("{at}.Location"))?
            }
            None => None,
        };
        if kind == "RequestedArrival" {
            requested_arrival_ms = requested_arrival_ms.or(when.map(|w| w.unix_ms));
            arrival_location = arrival_location.or(location);
        }
        any_location = any_location.or(location);
    }
    Ok(RequestedResource {
        element_id,
        names,
        category_id,
        quantity: quantity.filter(|q| q.is_finite() && *q > 0.0 && *q <= QUANTITY_MAX),
        quantity_text,
        requested_arrival_ms,
        location: arrival_location.or(any_location),
        location_description,
    })
}

/// The category a requested resource is: our category URN, then the mapping's resource names,
/// then the taxonomy's ids, names and aliases.
fn category_of(
    catalog: &Catalog,
    resource: &RequestedResource,
) -> Result<(CategoryIdx, String), String> {
    if let Some(id) = &resource.category_id {
        return catalog
            .category_by_id(id)
            .map(|idx| (idx, format!("{CATEGORY_URN} value {id}")))
            .ok_or_else(|| format!("{CATEGORY_URN} value {id:?} is no category of this catalog"));
    }
    for name in &resource.names {
        let name = normalise(name);
        if let Some(rule) = catalog.alert_mapping.resources.iter().find(|r| r.names.contains(&name))
        {
            return Ok((
                rule.category,
                format!("{name:?} by {} ({})", rule.origin, rule.provenance.grade.key()),
            ));
        }
    }
    for name in &resource.names {
        let name = normalise(name);
        let found = catalog.categories.iter().position(|c| {
            normalise(c.id.as_str()) == name
                || normalise(&c.name_en) == name
                || normalise(&c.name_zh) == name
                || c.aliases.iter().any(|a| normalise(a) == name)
        });
        if let Some(idx) = found {
            return Ok((CategoryIdx(idx as u32), format!("{name:?} is a name of the category")));
        }
    }
    Err(format!(
        "no category for {}: add a [[resource]] rule to cap-events.toml",
        if resource.names.is_empty() {
            "an unnamed resource".to_owned()
        } else {
            format!("{:?}", resource.names)
        }
    ))
}

/// The request as a Match on `held`. The place is `location` when given, else the point of a
/// resource's RequestedArrival (or any schedule), else the contact's; without one, an error.
pub fn request_to_match(
    catalog: &Catalog,
    held: &dyn HeldStock,
    request: ResourceRequest,
    location: Option<LatLon>,
) -> Result<ImportedRequest, String> {
    let (location, location_basis) = match location {
        Some(l) => (l, "given by the caller".to_owned()),
        None => {
            let scheduled = request.resources.iter().find_map(|r| r.location.map(|l| (l, r)));
            match (scheduled, request.contact_location) {
                (Some((l, r)), _) => {
                    (l, format!("the gml:Point of resource {}'s schedule", r.element_id))
                }
                (None, Some(l)) => (l, "the requester's gml:Point (ContactLocation)".to_owned()),
                (None, None) => {
                    let named =
                        request.resources.iter().find_map(|r| r.location_description.clone());
                    return Err(format!(
                        "the request gives no coordinates{}: give the place (latitude, longitude)",
                        named.map_or(String::new(), |n| format!(" (only the description {n:?})"))
                    ));
                }
            }
        }
    };
    let mut outcomes = Vec::new();
    let mut requirements: Vec<Requirement> = Vec::new();
    for resource in &request.resources {
        let name =
            resource.names.first().cloned().or(resource.category_id.clone()).unwrap_or_default();
        let window = match resource.requested_arrival_ms {
            Some(at) if at > request.sent_ms => {
                ((at - request.sent_ms) as f64 / 3_600_000.0).clamp(0.5, NEEDED_WITHIN_HOURS_MAX)
            }
            _ => REQUEST_WINDOW_HOURS_DEFAULT,
        };
        let mut outcome = ResourceOutcome {
            element_id: resource.element_id.clone(),
            name,
            category: None,
            basis: String::new(),
            quantity: resource.quantity,
            window_hours: Some(window),
        };
        let category = category_of(catalog, resource);
        match (category, resource.quantity) {
            (Err(reason), _) => outcome.basis = reason,
            (Ok(_), None) => {
                outcome.basis = format!(
                    "no quantity (a positive number up to {QUANTITY_MAX}) in {:?}",
                    resource.quantity_text.as_deref().unwrap_or("")
                );
            }
            (Ok((idx, basis)), Some(quantity)) => {
                outcome.category = Some(idx);
                outcome.basis = if resource
                    .requested_arrival_ms
                    .is_some_and(|at| at > request.sent_ms)
                {
                    format!("{basis}; window to the requested arrival")
                } else {
                    format!("{basis}; no requested arrival after SentDateTime: window {REQUEST_WINDOW_HOURS_DEFAULT} h (MODEL)")
                };
                let stage = catalog.category(idx).stage;
                add_requirement(
                    &mut requirements,
                    idx,
                    stage,
                    quantity,
                    window,
                    &request.message_id,
                );
            }
        }
        outcomes.push(outcome);
    }
    if requirements.is_empty() {
        let reasons: Vec<String> =
            outcomes.iter().map(|o| format!("{}: {}", o.element_id, o.basis)).collect();
        return Err(format!("no requested resource can be matched: {}", reasons.join("; ")));
    }
    requirements.sort_by_key(|r| r.stage);
    let scenario = Scenario {
        id: Id::parse("edxl-rm-request").map_err(|e| e.to_string())?,
        name_zh: "EDXL-RM 资源请求".into(),
        name_en: format!("EDXL-RM request {}", request.message_id),
        summary: "The resources another agency asked for, read from its RequestResource.".into(),
        grading: "Quantities as requested; no severity scaling.".into(),
        severity_factor: [1.0; 4],
        severity_provenance: Provenance {
            source: "the request's own quantities".into(),
            grade: Grade::Derived,
        },
        displaced_share: None,
        rain_excess_mm: None,
        fire_shape: None,
        requirements,
    };
    let query = MatchQuery {
        scenario: &scenario,
        severity: Severity::IV,
        location,
        affected_population: 0.0,
        affected_area_km2: 0.0,
        options_per_requirement: OPTIONS_PER_REQUIREMENT_DEFAULT,
        max_eta_hours: None,
        filters: Filters::default(),
        weights: Weights::default(),
        prefer_kinds: Vec::new(),
    };
    let result = matching::match_incident(catalog, held, &query);
    Ok(ImportedRequest { request, location, location_basis, resources: outcomes, scenario, result })
}

/// One requirement per (category, stage): a second request for the same adds its quantity and
/// keeps the tighter window.
fn add_requirement(
    requirements: &mut Vec<Requirement>,
    category: CategoryIdx,
    stage: ChainStage,
    quantity: f64,
    window: f64,
    message_id: &str,
) {
    if let Some(existing) =
        requirements.iter_mut().find(|r| r.category == category && r.stage == stage)
    {
        existing.base_quantity += quantity;
        existing.max_quantity = existing.max_quantity.map(|max| max + quantity);
        existing.needed_within_hours = existing.needed_within_hours.min(window);
        return;
    }
    requirements.push(Requirement {
        category,
        stage,
        // A request says what it needs, not how much each thing matters.
        priority: Priority::Important,
        needed_within_hours: window,
        base_quantity: quantity,
        per_population: None,
        per_area_km2: None,
        per_displaced: None,
        per_fire_line_km: None,
        pumping: None,
        scales_with_severity: false,
        max_quantity: Some(quantity),
        provenance: Provenance {
            source: format!("EDXL-RM request {message_id}"),
            grade: Grade::Derived,
        },
    });
}
