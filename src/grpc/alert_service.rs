//! AlertService (CAP alerts in, answers and pre-positioned holds kept current) and EdxlService
//! (EDXL-RM out and in). Handlers validate, call `interop`, convert.

use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};

use super::pb::alert_service_server::AlertService;
use super::pb::edxl_service_server::EdxlService;
use super::{alert_convert, convert, finish, pb};
use crate::catalog::Catalog;
use crate::domain::{HeldStock, LatLon};
use crate::error::{Error, FieldViolation, PreconditionViolation};
use crate::holds::{Clock, Command, HoldStore, Outcome};
use crate::interop::active::ActiveAlerts;
use crate::interop::edxl_rm::{self, CommitOptions, RequestOptions};
use crate::matching;

/// The largest AlertService or EdxlService request (bytes): a document at the XML bound plus
/// the message's framing.
pub const ALERT_REQUEST_BYTES_MAX: usize = crate::interop::xml::XML_BYTES_MAX + 4096;

#[derive(Debug, Clone)]
pub struct AlertApi {
    pub catalog: Arc<Catalog>,
    pub alerts: Arc<ActiveAlerts>,
}

#[tonic::async_trait]
impl AlertService for AlertApi {
    async fn ingest_alert(
        &self,
        request: Request<pb::IngestAlertRequest>,
    ) -> Result<Response<pb::IngestAlertResponse>, Status> {
        let started = Instant::now();
        let result = match self.alerts.ingest(&request.get_ref().cap_xml).await {
            Ok(outcomes) => alert_convert::ingest_response(&self.catalog, &outcomes),
            Err(error) => Err(error),
        };
        finish("IngestAlert", started, result)
    }

    async fn list_active_alerts(
        &self,
        request: Request<pb::ListActiveAlertsRequest>,
    ) -> Result<Response<pb::ListActiveAlertsResponse>, Status> {
        let started = Instant::now();
        let outcomes = self.alerts.list(request.get_ref().include_exercises).await;
        let alerts =
            outcomes.iter().map(|o| alert_convert::alert_to_pb(&self.catalog, o)).collect();
        finish("ListActiveAlerts", started, Ok(pb::ListActiveAlertsResponse { alerts }))
    }
}

#[derive(Clone)]
pub struct EdxlApi {
    pub catalog: Arc<Catalog>,
    pub holds: Arc<dyn HoldStore>,
    pub clock: Clock,
}

impl std::fmt::Debug for EdxlApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdxlApi").finish_non_exhaustive()
    }
}

impl EdxlApi {
    fn sent(&self, sent_unix_ms: i64) -> i64 {
        if sent_unix_ms == 0 {
            (self.clock)()
        } else {
            sent_unix_ms
        }
    }

    fn export_request(
        &self,
        request: &pb::ExportRequestResourceRequest,
    ) -> Result<pb::EdxlDocument, Error> {
        let held = self.holds.held();
        export_request_resource(&self.catalog, &*held, request, self.sent(request.sent_unix_ms))
    }

    async fn export_commit(
        &self,
        request: &pb::ExportCommitResourceRequest,
    ) -> Result<pb::EdxlDocument, Error> {
        let hold_id = convert::hold_id(&request.hold_id)?;
        let Outcome::Hold(hold) =
            self.holds.execute(Command::Get { hold_id: hold_id.clone() }).await?
        else {
            return Err(Error::Internal("the store answered a get with something else".into()));
        };
        let options = CommitOptions {
            sent_ms: self.sent(request.sent_unix_ms),
            preceding_message_id: request.preceding_message_id.clone(),
        };
        let xml = edxl_rm::commit_resource(&self.catalog, &hold, &options)
            .map_err(|reason| nothing_to_do("HOLD_STATE", hold_id.as_str(), reason))?;
        Ok(pb::EdxlDocument { message_id: message_id(&xml), xml, r#match: None })
    }

    fn import_request(
        &self,
        request: &pb::ImportRequestResourceRequest,
    ) -> Result<pb::ImportRequestResourceResponse, Error> {
        let location = match &request.location {
            None => None,
            Some(l) => Some(LatLon::new(l.latitude, l.longitude).map_err(|reason| {
                Error::InvalidArgument(vec![FieldViolation::new("location", reason)])
            })?),
        };
        let parsed = edxl_rm::read_request(&request.xml)
            .map_err(|refusal| alert_convert::refusal_error("xml", &refusal))?;
        let held = self.holds.held();
        let imported = edxl_rm::request_to_match(&self.catalog, &*held, parsed, location)
            .map_err(|reason| Error::InvalidArgument(vec![FieldViolation::new("xml", reason)]))?;
        Ok(alert_convert::imported_to_pb(&self.catalog, &imported))
    }
}

fn nothing_to_do(kind: &'static str, subject: &str, description: String) -> Error {
    Error::FailedPrecondition(vec![PreconditionViolation {
        kind,
        subject: subject.to_owned(),
        description,
        available_units: None,
    }])
}

/// ExportRequestResource's answer on `catalog` with `held` stock, the message sent at `sent_ms`:
/// the server's handler and `edxl-rm request` without `--server` both call this, so the two
/// validate alike and write the same document.
pub fn export_request_resource(
    catalog: &Catalog,
    held: &dyn HeldStock,
    request: &pb::ExportRequestResourceRequest,
    sent_ms: i64,
) -> Result<pb::EdxlDocument, Error> {
    let Some(match_request) = &request.r#match else {
        return Err(Error::InvalidArgument(vec![FieldViolation::new("match", "required")]));
    };
    let query = convert::match_query(catalog, match_request)?;
    let result = matching::match_incident(catalog, held, &query);
    let options = RequestOptions {
        sent_ms,
        incident_id: request.incident_id.clone(),
        requester: if request.requester.is_empty() {
            "equipmatch".into()
        } else {
            request.requester.clone()
        },
        shortfalls_only: request.shortfalls_only,
    };
    let xml = edxl_rm::request_resource(catalog, &query, &result, &options)
        .map_err(|reason| nothing_to_do("MATCH", "match", reason))?;
    Ok(pb::EdxlDocument {
        message_id: message_id(&xml),
        xml,
        r#match: Some(convert::match_response(catalog, &result)),
    })
}

/// `edxl-rm request` without `--server`: the same answer on a catalog in process with no holds,
/// a refusal as the status the server would send (so the CLI prints both alike).
pub fn export_request_resource_in_process(
    catalog: &Catalog,
    request: &pb::ExportRequestResourceRequest,
) -> Result<pb::EdxlDocument, Box<dyn std::error::Error + Send + Sync>> {
    let sent_ms = if request.sent_unix_ms == 0 {
        (crate::holds::system_clock())()
    } else {
        request.sent_unix_ms
    };
    export_request_resource(catalog, &crate::domain::NoHolds, request, sent_ms)
        .map_err(|error| Status::from(error).into())
}

/// The MessageID of a document we wrote (the text of its first MessageID element).
fn message_id(xml: &str) -> String {
    let start = xml.find("<rmsg:MessageID>").map(|at| at + "<rmsg:MessageID>".len());
    let end = xml.find("</rmsg:MessageID>");
    match (start, end) {
        (Some(start), Some(end)) if start <= end => xml[start..end].to_owned(),
        _ => String::new(),
    }
}

#[tonic::async_trait]
impl EdxlService for EdxlApi {
    async fn export_request_resource(
        &self,
        request: Request<pb::ExportRequestResourceRequest>,
    ) -> Result<Response<pb::EdxlDocument>, Status> {
        let started = Instant::now();
        finish("ExportRequestResource", started, self.export_request(request.get_ref()))
    }

    async fn export_commit_resource(
        &self,
        request: Request<pb::ExportCommitResourceRequest>,
    ) -> Result<Response<pb::EdxlDocument>, Status> {
        let started = Instant::now();
        let result = self.export_commit(request.get_ref()).await;
        finish("ExportCommitResource", started, result)
    }

    async fn import_request_resource(
        &self,
        request: Request<pb::ImportRequestResourceRequest>,
    ) -> Result<Response<pb::ImportRequestResourceResponse>, Status> {
        let started = Instant::now();
        finish("ImportRequestResource", started, self.import_request(request.get_ref()))
    }
}

/// The active alerts of a server: rebuilt from `options.cap_dir` (every file, in `sent`
/// order) before the first call, then kept current by a task that polls the folder (the
/// returned handle; the server aborts it at shutdown).
pub(super) async fn start_alerts(
    catalog: &Arc<Catalog>,
    holds: &Arc<dyn HoldStore>,
    options: &super::ServerOptions,
) -> (Arc<ActiveAlerts>, Option<tokio::task::JoinHandle<()>>) {
    let alerts = Arc::new(ActiveAlerts::new(
        catalog.clone(),
        holds.clone(),
        crate::interop::active::AlertsOptions {
            preposition: options.preposition,
            clock: crate::holds::system_clock(),
        },
    ));
    let Some(dir) = options.cap_dir.clone() else { return (alerts, None) };
    let mut seen = std::collections::HashMap::new();
    alerts.ingest_dir(&dir, &mut seen).await;
    let watcher = tokio::spawn(alerts.clone().watch_dir(dir, seen));
    (alerts, Some(watcher))
}
