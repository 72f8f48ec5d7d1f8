//! `equipmatch edxl-rm request|commit|read`: EDXL-RM 1.0 documents. `request` writes a
//! RequestResource for a Match in process on the catalog (no holds: the in-process answer is on
//! the registry's stock) or, with `--server`, asks a running service (net of its holds);
//! `commit` asks a running service for the CommitResource of a confirmed hold; `read` reads
//! another agency's RequestResource into a Match in process (or on a server).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::remote::{block_on, fail, stages_table, MatchFlags};
use super::DataArgs;
use crate::domain::LatLon;
use crate::grpc::alert_convert::imported_to_pb;
use crate::grpc::client::{self, EdxlServiceClient};
use crate::grpc::pb;
use crate::interop::edxl_rm;
use crate::interop::time::{parse_datetime, DateTimeRule};
use crate::matching::NoHolds;

#[derive(Debug, Args)]
pub struct EdxlArgs {
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    #[command(subcommand)]
    command: EdxlCommand,
}

// The Request variant holds the Match flags (parsed once per process): its size is no cost.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum EdxlCommand {
    /// Print a RequestResource for a Match: every requirement (or, with --shortfalls, what the
    /// plan leaves short) with its quantity, the incident and its place.
    Request {
        #[command(flatten)]
        flags: MatchFlags,
        /// Request only the shortfalls.
        #[arg(long)]
        shortfalls: bool,
        /// The incident's id in your system (IncidentID); derived from the message when unset.
        #[arg(long)]
        incident_id: Option<String>,
        /// Who asks (ContactDescription).
        #[arg(long, default_value = "equipmatch")]
        requester: String,
        /// SentDateTime (e.g. 2026-07-29T08:00:00Z); now when unset.
        #[arg(long)]
        sent: Option<String>,
        /// Ask this server (e.g. http://127.0.0.1:50051) instead of answering in process.
        #[arg(long)]
        server: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print the CommitResource of a confirmed hold (asks a running server).
    Commit {
        /// The hold's id.
        #[arg(long)]
        hold: String,
        /// The server holding it.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        server: String,
        /// The RequestResource this answers (PrecedingMessageID); the hold's incident when unset.
        #[arg(long)]
        preceding_message_id: Option<String>,
    },
    /// Read another agency's RequestResource into a Match.
    Read {
        /// The RequestResource file (bare, in an EDXL-DE envelope or a SOAP body).
        file: PathBuf,
        /// Where the resources go, when the request has no gml:Point.
        #[arg(long, requires = "lon", allow_negative_numbers = true)]
        lat: Option<f64>,
        /// Longitude of that place.
        #[arg(long, requires = "lat", allow_negative_numbers = true)]
        lon: Option<f64>,
        /// Print the ImportRequestResourceResponse as JSON.
        #[arg(long)]
        json: bool,
        /// Ask this server instead of answering in process.
        #[arg(long)]
        server: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(args: EdxlArgs) -> ExitCode {
    let connect = args.connect;
    match args.command {
        EdxlCommand::Request { flags, shortfalls, incident_id, requester, sent, server, data } => {
            let sent_ms =
                match sent.as_deref().map(|t| parse_datetime(t, DateTimeRule::XsdDateTime)) {
                    None => 0,
                    Some(Ok(instant)) => instant.unix_ms,
                    Some(Err(reason)) => {
                        eprintln!("error: --sent: {reason}");
                        return ExitCode::FAILURE;
                    }
                };
            let request = pb::ExportRequestResourceRequest {
                r#match: Some(flags.request()),
                shortfalls_only: shortfalls,
                incident_id: incident_id.unwrap_or_default(),
                requester,
                sent_unix_ms: sent_ms,
            };
            let document = match server {
                Some(server) => block_on(async {
                    let channel = client::connect_with(&server, &connect.credentials()?).await?;
                    Ok(EdxlServiceClient::new(channel)
                        .export_request_resource(request)
                        .await?
                        .into_inner())
                }),
                None => request_local(&request, &data),
            };
            print_document(document)
        }
        EdxlCommand::Commit { hold, server, preceding_message_id } => {
            let request = pb::ExportCommitResourceRequest {
                hold_id: hold,
                preceding_message_id: preceding_message_id.unwrap_or_default(),
                sent_unix_ms: 0,
            };
            print_document(block_on(async {
                let channel = client::connect_with(&server, &connect.credentials()?).await?;
                Ok(EdxlServiceClient::new(channel)
                    .export_commit_resource(request)
                    .await?
                    .into_inner())
            }))
        }
        EdxlCommand::Read { file, lat, lon, json, server, data } => {
            read(&file, lat.zip(lon), json, server, &data, &connect)
        }
    }
}

/// `edxl read`: a RequestResource file read by the server, or in process without `--server`.
fn read(
    file: &std::path::Path,
    at: Option<(f64, f64)>,
    json: bool,
    server: Option<String>,
    data: &DataArgs,
    connect: &super::connect::ConnectArgs,
) -> ExitCode {
    let xml = match crate::interop::read_file_bounded(file) {
        Ok(bytes) => bytes,
        Err(refusal) => {
            eprintln!("error: {}: {refusal}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let location = at.map(|(latitude, longitude)| pb::LatLng { latitude, longitude });
    let request = pb::ImportRequestResourceRequest { xml, location };
    let response = match server {
        Some(server) => block_on(async {
            let channel = client::connect_with(&server, &connect.credentials()?).await?;
            Ok(EdxlServiceClient::new(channel).import_request_resource(request).await?.into_inner())
        }),
        None => read_local(&request, data),
    };
    match response {
        Ok(response) if json => {
            match client::to_json(&response, "equipmatch.v1.ImportRequestResourceResponse") {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error),
            }
        }
        Ok(response) => {
            print!("{}", imported_table(&response));
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

fn print_document(document: Result<pb::EdxlDocument, super::remote::BoxError>) -> ExitCode {
    match document {
        Ok(document) => {
            print!("{}", document.xml);
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// The same validation and answer as the server's ExportRequestResource, on the catalog in
/// process with no holds (one function serves both).
fn request_local(
    request: &pb::ExportRequestResourceRequest,
    data: &DataArgs,
) -> Result<pb::EdxlDocument, super::remote::BoxError> {
    let catalog = super::cap::load_catalog(data).ok_or("the catalog did not load")?;
    crate::grpc::export_request_resource_in_process(&catalog, request)
}

fn read_local(
    request: &pb::ImportRequestResourceRequest,
    data: &DataArgs,
) -> Result<pb::ImportRequestResourceResponse, super::remote::BoxError> {
    let catalog = super::cap::load_catalog(data).ok_or("the catalog did not load")?;
    let parsed = edxl_rm::read_request(&request.xml).map_err(|refusal| refusal.to_string())?;
    let location = match &request.location {
        Some(l) => Some(LatLon::new(l.latitude, l.longitude)?),
        None => None,
    };
    let imported = edxl_rm::request_to_match(&catalog, &NoHolds, parsed, location)?;
    Ok(imported_to_pb(&catalog, &imported))
}

fn imported_table(response: &pb::ImportRequestResourceResponse) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let location = response
        .location
        .as_ref()
        .map_or(String::new(), |l| format!("{:.5},{:.5}", l.latitude, l.longitude));
    let _ = writeln!(
        out,
        "RequestResource {} · incident {} · matched at {location} ({})",
        response.message_id,
        if response.incident_id.is_empty() { "-" } else { &response.incident_id },
        response.location_basis
    );
    for resource in &response.resources {
        let _ = writeln!(
            out,
            "  {} {:?} ×{} within {:.1}h → {} ({})",
            resource.element_id,
            resource.name,
            resource.quantity.map_or("?".to_owned(), |q| q.to_string()),
            resource.window_hours,
            if resource.category_id.is_empty() { "NOT MATCHED" } else { &resource.category_id },
            resource.basis
        );
    }
    if let Some(result) = &response.r#match {
        let _ = writeln!(
            out,
            "coverage {:.0}% · catalog {}",
            100.0 * result.coverage,
            result.catalog_version
        );
        out.push_str(&stages_table(result));
    }
    out
}
