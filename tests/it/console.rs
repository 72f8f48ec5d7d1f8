//! The console's listener, spoken to with a hand-written HTTP/1.1 client (an outside client:
//! no tonic, no browser). Properties:
//! - the pages and assets come from the binary, with a same-origin-only content security policy;
//!   unknown files are 404, paths that try to climb out are not files;
//! - gRPC-Web calls reach the same service stack as gRPC: a ListPlaces answers with the catalog's
//!   places (the five demonstration bases), a bad Match is INVALID_ARGUMENT with the field
//!   violation in grpc-status-details-bin, a state-changing PlaceHold lands in the same store
//!   the gRPC listener reads, and the stack's request size limit refuses an oversized request;
//! - an HTTP/1.1 request that is not gRPC-Web does not reach the services;
//! - the console's calls are counted in `equipmatch_grpc_calls_total` as gRPC calls are;
//! - `--console off` (no console address) starts no console listener.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use equipmatch::domain::StockLineIdx;
use equipmatch::grpc::pb;
use equipmatch::grpc::{ServerHandle, ServerOptions};
use prost::Message;

use crate::support::{embedded_catalog, temp_sqlite_store};

/// Header or trailer pairs, names in lower case.
type Headers = Vec<(String, String)>;

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`): status, headers
/// (lower-case names) and the de-chunked body.
fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, Headers, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("reads the response");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    (status, headers, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .expect("hex chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

fn get(addr: SocketAddr, path: &str) -> (u16, Headers, Vec<u8>) {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// A gRPC-Web call as a browser's fetch sends it: one length-prefixed message.
fn grpc_web(
    addr: SocketAddr,
    method: &str,
    message: &impl Message,
) -> (Headers, Vec<Vec<u8>>, Headers) {
    let bytes = message.encode_to_vec();
    let mut body = vec![0u8];
    body.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    body.extend_from_slice(&bytes);
    let mut request = format!(
        "POST /{method} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let (status, headers, body) = exchange(addr, &request);
    assert_eq!(status, 200, "gRPC-Web answers HTTP 200 and puts the status in grpc-status");
    // Frames: 0x00 = a message, 0x80 = the trailers.
    let (mut messages, mut trailers) = (Vec::new(), Vec::new());
    let mut rest = &body[..];
    while rest.len() >= 5 {
        let length = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
        let payload = &rest[5..5 + length];
        if rest[0] & 0x80 != 0 {
            trailers = String::from_utf8(payload.to_vec())
                .unwrap()
                .split("\r\n")
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
        } else {
            messages.push(payload.to_vec());
        }
        rest = &rest[5 + length..];
    }
    (headers, messages, trailers)
}

fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn start() -> (ServerHandle, tempfile::TempDir) {
    let catalog = embedded_catalog();
    let (store, dir) = temp_sqlite_store(catalog.clone(), equipmatch::holds::system_clock());
    let localhost: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let handle = ServerHandle::start_with_console(
        catalog,
        store,
        localhost,
        Some(localhost),
        ServerOptions::default(),
    )
    .await
    .expect("binds");
    (handle, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_serves_its_pages_from_the_binary() {
    let (server, _dir) = start().await;
    let addr = server.console_addr.expect("a console");
    let checks = tokio::task::spawn_blocking(move || {
        for path in ["/", "/dispatch", "/procurement", "/drills", "/holds"] {
            let (status, headers, body) = get(addr, path);
            assert_eq!(status, 200, "{path}");
            assert_eq!(find(&headers, "content-type"), Some("text/html; charset=utf-8"));
            let csp = find(&headers, "content-security-policy").expect("a CSP");
            assert!(csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"));
            assert!(String::from_utf8_lossy(&body).contains("/assets/js/app.js"));
        }
        let (status, headers, body) = get(addr, "/assets/proto/match.proto");
        assert_eq!(status, 200);
        assert_eq!(find(&headers, "content-type"), Some("text/plain; charset=utf-8"));
        assert!(String::from_utf8_lossy(&body).contains("service MatchService"));
        let (status, _, body) = get(addr, "/assets/drills/index.json");
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("tangshan-m7-aftershock.toml"));
        assert_eq!(get(addr, "/assets/no-such-file.js").0, 404);
        assert_eq!(get(addr, "/assets/../Cargo.toml").0, 404);
        assert_eq!(get(addr, "/assets/%2e%2e/Cargo.toml").0, 404);
        // Not gRPC-Web, not a page: the services are not reachable this way.
        let (status, _, _) = exchange(
            addr,
            format!("POST /equipmatch.v1.CatalogService/ListPlaces HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}").as_bytes(),
        );
        assert_eq!(status, 400);
    });
    checks.await.expect("checks pass");
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_web_reaches_the_same_services_and_store() {
    let (server, _dir) = start().await;
    let addr = server.console_addr.expect("a console");
    // A stock line with something on hand, from the catalog the server serves.
    let catalog = embedded_catalog();
    let at = catalog.stock_lines.iter().position(|l| l.quantity_on_hand >= 1.0).expect("stock");
    let line = &catalog.stock_lines[at];
    let (supplier_id, category_id) = (
        catalog.supplier(line.supplier).id.to_string(),
        catalog.category(catalog.line_category(StockLineIdx(at as u32))).id.to_string(),
    );
    let checks = tokio::task::spawn_blocking(move || {
        let (_, messages, trailers) =
            grpc_web(addr, "equipmatch.v1.CatalogService/ListPlaces", &pb::ListPlacesRequest {});
        assert_eq!(find(&trailers, "grpc-status"), Some("0"));
        let places = pb::ListPlacesResponse::decode(&messages[0][..]).expect("decodes").places;
        let bases = places.iter().filter(|p| p.kind == "demonstration_base").count();
        assert_eq!(bases, 5, "the five national demonstration bases");
        assert!(places.windows(2).all(|w| w[0].id < w[1].id), "ordered by id");

        let bad = pb::MatchRequest {
            scenario_id: "earthquake".into(),
            severity: pb::Severity::I as i32,
            location: Some(pb::LatLng { latitude: 95.0, longitude: 118.0 }),
            affected_population: 1000,
            ..Default::default()
        };
        let (headers, messages, trailers) =
            grpc_web(addr, "equipmatch.v1.MatchService/Match", &bad);
        assert!(messages.is_empty());
        let status = find(&trailers, "grpc-status").or_else(|| find(&headers, "grpc-status"));
        assert_eq!(status, Some("3"), "INVALID_ARGUMENT");
        let details = find(&trailers, "grpc-status-details-bin")
            .or_else(|| find(&headers, "grpc-status-details-bin"))
            .expect("details");
        let decoded = base64_decode(details);
        let rpc_status =
            tonic_types::pb::Status::decode(&decoded[..]).expect("a google.rpc.Status");
        let bad_request = rpc_status
            .details
            .iter()
            .find(|any| any.type_url.ends_with("google.rpc.BadRequest"))
            .map(|any| tonic_types::pb::BadRequest::decode(&any.value[..]).unwrap())
            .expect("a BadRequest");
        assert_eq!(bad_request.field_violations[0].field, "location.latitude");

        let place = pb::PlaceHoldRequest {
            hold_id: "web-1".into(),
            incident_ref: "console-test".into(),
            lines: vec![pb::HoldLine { supplier_id, category_id, quantity_units: 1 }],
            ttl_seconds: 60,
        };
        let (headers, messages, trailers) =
            grpc_web(addr, "equipmatch.v1.HoldService/PlaceHold", &place);
        assert_eq!(find(&trailers, "grpc-status"), Some("0"), "{headers:?} {trailers:?}");
        let hold = pb::PlaceHoldResponse::decode(&messages[0][..]).unwrap().hold.unwrap();
        assert_eq!(hold.state, pb::HoldState::Pending as i32);

        // The stack's limits hold for the browser too: a request over the 256 KiB limit is
        // refused (compared below with the gRPC listener's answer to the same request).
        let (headers, _, trailers) =
            grpc_web(addr, "equipmatch.v1.MatchService/Shortlist", &oversized_shortlist());
        let status = find(&trailers, "grpc-status").or_else(|| find(&headers, "grpc-status"));
        status.map(str::to_owned)
    });
    let web_oversized = checks.await.expect("checks pass");
    let channel = equipmatch::grpc::client::connect(&server.url()).await.unwrap();
    let grpc_oversized = equipmatch::grpc::client::MatchServiceClient::new(channel.clone())
        .shortlist(oversized_shortlist())
        .await
        .expect_err("refused");
    assert_eq!(web_oversized, Some((grpc_oversized.code() as i32).to_string()));
    assert_ne!(grpc_oversized.code(), tonic::Code::Ok);
    // The hold placed through the console is what a gRPC client reads.
    let hold = equipmatch::grpc::client::HoldServiceClient::new(channel)
        .get_hold(pb::GetHoldRequest { hold_id: "web-1".into() })
        .await
        .expect("the gRPC listener sees the console's hold")
        .into_inner()
        .hold
        .unwrap();
    assert_eq!(hold.incident_ref, "console-test");
    server.stop().await.expect("stops");
}

/// A shortlist request over the server's 256 KiB request limit.
fn oversized_shortlist() -> pb::ShortlistRequest {
    pb::ShortlistRequest {
        category_ids: vec!["x".repeat(300 * 1024)],
        quantity: 1.0,
        ..Default::default()
    }
}

#[tokio::test]
async fn without_a_console_address_there_is_no_console() {
    let catalog = embedded_catalog();
    let (store, _dir) = temp_sqlite_store(catalog.clone(), equipmatch::holds::system_clock());
    let server = ServerHandle::start(
        catalog,
        store,
        "127.0.0.1:0".parse().unwrap(),
        ServerOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(server.console_addr, None);
    server.stop().await.unwrap();
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|c| *c == byte).expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The value of one `equipmatch_grpc_calls_total` series in a `/metrics` text (0 when absent).
fn calls_total(exposition: &str, service: &str, method: &str, code: &str) -> f64 {
    let labels = format!("{{code=\"{code}\",method=\"{method}\",service=\"{service}\"}}");
    exposition
        .lines()
        .filter_map(|line| line.strip_prefix("equipmatch_grpc_calls_total"))
        .filter_map(|rest| rest.strip_prefix(labels.as_str()))
        .map(|value| value.trim().parse::<f64>().expect("a number"))
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consoles_calls_are_counted_like_the_grpc_listeners() {
    let catalog = embedded_catalog();
    let (store, _dir) = temp_sqlite_store(catalog.clone(), equipmatch::holds::system_clock());
    let localhost: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let options = ServerOptions { metrics_addr: Some(localhost), ..ServerOptions::default() };
    let server =
        ServerHandle::start_with_console(catalog, store, localhost, Some(localhost), options)
            .await
            .expect("binds");
    let console = server.console_addr.expect("a console");
    let metrics = server.metrics_addr.expect("a metrics listener");
    let checks = tokio::task::spawn_blocking(move || {
        let scrape = || String::from_utf8(get(metrics, "/metrics").2).expect("UTF-8");
        let places = |text: &str, code| {
            calls_total(text, "equipmatch.v1.CatalogService", "ListPlaces", code)
        };
        let invalid = |text: &str| {
            calls_total(text, "equipmatch.v1.MatchService", "Match", "INVALID_ARGUMENT")
        };
        let before = scrape();
        for _ in 0..3 {
            let (_, _, trailers) = grpc_web(
                console,
                "equipmatch.v1.CatalogService/ListPlaces",
                &pb::ListPlacesRequest {},
            );
            assert_eq!(find(&trailers, "grpc-status"), Some("0"));
        }
        let bad = pb::MatchRequest { scenario_id: "earthquake".into(), ..Default::default() };
        grpc_web(console, "equipmatch.v1.MatchService/Match", &bad);
        let after = scrape();
        assert_eq!(places(&after, "OK") - places(&before, "OK"), 3.0, "{after}");
        assert_eq!(invalid(&after) - invalid(&before), 1.0, "{after}");
    });
    checks.await.expect("checks pass");
    server.stop().await.expect("stops");
}
