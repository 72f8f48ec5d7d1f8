//! Conversions of AlertService and EdxlService: alerts and their incidents to messages,
//! refusals to field violations (the element path under `cap_xml` or `xml`), imported
//! requests to messages.

use super::convert::{match_response, severity_to_pb};
use super::pb;
use crate::catalog::Catalog;
use crate::error::{Error, FieldViolation};
use crate::interop::active::AlertOutcome;
use crate::interop::edxl_rm::ImportedRequest;
use crate::interop::incidents::Mapping;
use crate::interop::xml::Refusal;
use crate::interop::AnsweredIncident;

/// A refusal of the document in field `field` as INVALID_ARGUMENT.
pub fn refusal_error(field: &str, refusal: &Refusal) -> Error {
    let field = if refusal.path.is_empty() {
        field.to_owned()
    } else {
        format!("{field}.{}", refusal.path)
    };
    Error::InvalidArgument(vec![FieldViolation::new(field, refusal.reason.clone())])
}

/// The response of an ingest; INVALID_ARGUMENT when every alert of the document was refused.
pub fn ingest_response(
    catalog: &Catalog,
    outcomes: &[AlertOutcome],
) -> Result<pb::IngestAlertResponse, Error> {
    if !outcomes.is_empty() && outcomes.iter().all(|o| o.reading.outcome.is_err()) {
        let violations = outcomes
            .iter()
            .filter_map(|o| o.reading.outcome.as_ref().err().map(|r| (&o.reading.location, r)))
            .map(|(location, refusal)| {
                let mut field = String::from("cap_xml");
                for part in [location.as_str(), refusal.path.as_str()] {
                    if !part.is_empty() {
                        field.push('.');
                        field.push_str(part);
                    }
                }
                FieldViolation::new(field, refusal.reason.clone())
            })
            .collect();
        return Err(Error::InvalidArgument(violations));
    }
    Ok(pb::IngestAlertResponse {
        alerts: outcomes.iter().map(|o| alert_to_pb(catalog, o)).collect(),
    })
}

pub fn alert_to_pb(catalog: &Catalog, outcome: &AlertOutcome) -> pb::AlertAnswer {
    let mut message = pb::AlertAnswer {
        location: outcome.reading.location.clone(),
        active: outcome.active,
        notes: outcome.notes.clone(),
        dropped_alert_identifiers: outcome.dropped.clone(),
        released_hold_ids: outcome.released_hold_ids.clone(),
        ..Default::default()
    };
    let answered = match &outcome.reading.outcome {
        Ok(answered) => answered,
        Err(refusal) => {
            message.refusal = refusal.reason.clone();
            message.refusal_path = refusal.path.clone();
            return message;
        }
    };
    let alert = &answered.alert;
    message.identifier = alert.identifier.clone();
    message.sender = alert.sender.clone();
    message.sent = alert.sent.clone();
    message.status = alert.status.as_str().into();
    message.msg_type = alert.msg_type.as_str().into();
    message.cap_version = alert.version.as_str().into();
    message.cancels = answered.cancels();
    message.exercise = !alert.is_live();
    message.expires_unix_ms = alert.expires_ms();
    message.incidents = answered
        .incidents
        .iter()
        .enumerate()
        .map(|(k, incident)| {
            incident_to_pb(catalog, incident, outcome.hold_ids.get(k).cloned().unwrap_or_default())
        })
        .collect();
    message
}

fn incident_to_pb(
    catalog: &Catalog,
    answered: &AnsweredIncident,
    hold_ids: Vec<String>,
) -> pb::AlertIncident {
    let incident = &answered.incident;
    let (scenario_id, mapping_rule, unmapped_reason) = match &incident.mapping {
        Mapping::Mapped { scenario, origin, .. } => {
            (scenario.to_string(), origin.clone(), String::new())
        }
        Mapping::Unmapped { reason } => (String::new(), String::new(), reason.clone()),
    };
    pb::AlertIncident {
        info_indexes: incident.info_indexes.iter().map(|i| *i as u32).collect(),
        languages: incident.languages.clone(),
        event: incident.event.clone(),
        scenario_id,
        mapping_rule,
        unmapped_reason,
        severity: severity_to_pb(incident.severity) as i32,
        severity_basis: incident.severity_basis.clone(),
        urgency: incident.urgency.as_str().into(),
        cap_severity: incident.cap_severity.as_str().into(),
        certainty: incident.certainty.as_str().into(),
        location: incident
            .location
            .map(|l| pb::LatLng { latitude: l.latitude(), longitude: l.longitude() }),
        affected_area_km2: incident.affected_area_km2,
        location_basis: incident.location_basis.clone(),
        place_id: incident.place.map(|p| catalog.place(p).id.to_string()).unwrap_or_default(),
        affected_population: incident.affected_population.map(|p| p as u64),
        population_basis: incident.population_basis.clone(),
        exercise: incident.exercise,
        answer: answered.answer.as_ref().map(|result| match_response(catalog, result)),
        hold_ids,
    }
}

pub fn imported_to_pb(
    catalog: &Catalog,
    imported: &ImportedRequest,
) -> pb::ImportRequestResourceResponse {
    pb::ImportRequestResourceResponse {
        message_id: imported.request.message_id.clone(),
        incident_id: imported.request.incident_id.clone().unwrap_or_default(),
        location: Some(pb::LatLng {
            latitude: imported.location.latitude(),
            longitude: imported.location.longitude(),
        }),
        location_basis: imported.location_basis.clone(),
        resources: imported
            .resources
            .iter()
            .map(|r| pb::ImportedResource {
                element_id: r.element_id.clone(),
                name: r.name.clone(),
                category_id: r
                    .category
                    .map(|c| catalog.category(c).id.to_string())
                    .unwrap_or_default(),
                basis: r.basis.clone(),
                quantity: r.quantity,
                window_hours: r.window_hours.unwrap_or(0.0),
            })
            .collect(),
        r#match: Some(match_response(catalog, &imported.result)),
    }
}
