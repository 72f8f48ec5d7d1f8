//! Authentication and authorisation over real TLS, with tokens like identity providers issue.
//!
//! Properties checked:
//! - the matrix: every RPC × {no token, garbage, expired, not yet valid, wrong issuer, wrong
//!   audience, unknown key, known kid but another key, `none`, HS256 signed with a public
//!   key (RSA PEM, Ed25519 bytes)} is UNAUTHENTICATED with the right ErrorInfo reason, and
//!   every RPC × each scope is OK exactly where the issue's scope list allows it and
//!   PERMISSION_DENIED (SCOPE_MISSING) elsewhere — the expected table is written out here,
//!   not taken from `auth::METHODS`;
//! - tokens minted by an independent implementation (PyJWT, `scripts/jwt-fixtures.py`) in
//!   Keycloak's layout verify, or fail with the reason the fixture names;
//! - `auth::METHODS` covers exactly the contract's RPCs;
//! - a stock token cannot touch another supplier's line, and nothing is written when it tries;
//! - the audit trail names the token's `sub` whatever `x-equipmatch-caller` says;
//! - a rotated JWKS takes effect without a restart, and a broken one keeps the old keys;
//! - a plaintext client gets nothing from the TLS port; mutual TLS refuses a client without
//!   a certificate; health and reflection stay open;
//! - the real binary refuses `serve --listen 0.0.0.0:…` without auth, and its CLI clients
//!   reach a TLS + JWT server with `--token`, `--ca` and `EQUIPMATCH_TOKEN`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use equipmatch::auth::{keys, Alg, KeySet, Verifier, VerifierConfig};
use equipmatch::grpc::client::{
    self, AlertServiceClient, AuthChannel, CatalogServiceClient, Credentials, DrillServiceClient,
    EdxlServiceClient, HoldServiceClient, MatchServiceClient,
};
use equipmatch::grpc::{pb, Security, ServerHandle, ServerOptions, TlsPem};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use tonic::Code;
use tonic_types::StatusExt;

use crate::support::{embedded_catalog, temp_sqlite_store, ServerProcess};

/// The fixtures' issuer and audience (scripts/jwt-fixtures.py).
const ISSUER: &str = "https://sso.example.cn/realms/jjj-emergency";
const AUDIENCE: &str = "equipmatch";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt");
const DRILL: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/drills/baoding-xiongan-rainstorm.toml");
const CAP_ALERT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cap-team-written/tangshan-earthquake.xml");
/// The stock line the matrix holds and updates, and a line of another supplier.
const LINE: (&str, &str) = ("sup-00007", "uav-phone-signal-locator");
const OTHER_LINE: (&str, &str) = ("sup-00009", "waterlogging-sensor");
/// How long a JWKS rotation may take to be noticed (the watcher polls every second).
const ROTATION_WAIT: Duration = Duration::from_secs(10);

// ---- keys, certificates, tokens ----

/// A CA, a server certificate for localhost/127.0.0.1 and a client certificate, made here.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

fn pki() -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "equipmatch test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "equipmatch test");
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) =
        leaf(vec!["localhost".into(), "127.0.0.1".into()], ExtendedKeyUsagePurpose::ServerAuth);
    let (client_cert, client_key) = leaf(vec![], ExtendedKeyUsagePurpose::ClientAuth);
    Pki { ca: ca.pem(), server_cert, server_key, client_cert, client_key }
}

/// A signing key made here, and its public JWK.
struct TestKey {
    pem: String,
    kid: String,
    alg: Alg,
    jwk: Value,
}

fn test_key(alg: Alg) -> TestKey {
    let generated = keys::generate(alg).unwrap();
    let jwks: Value = serde_json::from_str(&generated.jwks).unwrap();
    TestKey { pem: generated.private_pem, kid: generated.kid, alg, jwk: jwks["keys"][0].clone() }
}

fn now() -> u64 {
    equipmatch::auth::unix_now()
}

/// Claims in Keycloak's access-token layout.
fn claims(sub: &str, scope: &str) -> Value {
    let now = now();
    json!({
        "exp": now + 3600, "iat": now, "jti": format!("{sub}-{now}"), "iss": ISSUER,
        "aud": [AUDIENCE, "account"], "sub": sub, "typ": "Bearer", "azp": "dispatch-console",
        "scope": format!("openid profile {scope}"), "preferred_username": sub,
    })
}

fn mint_with(key: &TestKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(key.alg.jsonwebtoken());
    header.kid = Some(kid.to_owned());
    header.typ = Some("JWT".into());
    let encoding = match key.alg {
        Alg::EdDSA => EncodingKey::from_ed_pem(key.pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_ec_pem(key.pem.as_bytes()).unwrap(),
    };
    jsonwebtoken::encode(&header, claims, &encoding).unwrap()
}

fn mint(key: &TestKey, claims: &Value) -> String {
    mint_with(key, &key.kid, claims)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An HS256 token keyed with `secret` (a public key's bytes: the algorithm-confusion attack).
fn hs256(kid: &str, secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret).unwrap()).unwrap()
}

/// An unsigned token (`alg: none`).
fn unsigned(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    format!("{}.{}.", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()))
}

struct Fixtures {
    jwks: Value,
    tokens: Vec<Value>,
    rsa_public_pem: Vec<u8>,
}

fn fixtures() -> Fixtures {
    let read = |name: &str| std::fs::read(Path::new(FIXTURES).join(name)).expect("fixture");
    let tokens: Value = serde_json::from_slice(&read("tokens.json")).unwrap();
    assert_eq!(tokens["issuer"], ISSUER);
    Fixtures {
        jwks: serde_json::from_slice(&read("jwks.json")).unwrap(),
        tokens: tokens["tokens"].as_array().unwrap().clone(),
        rsa_public_pem: read("rsa-public.pem"),
    }
}

fn jwks_of(keys: &[&Value]) -> Value {
    json!({ "keys": keys })
}

// ---- the server ----

struct SecureServer {
    handle: Option<ServerHandle>,
    url: String,
    pki: Pki,
    verifier: Arc<Verifier>,
    jwks_path: PathBuf,
    _dir: tempfile::TempDir,
    store_dir: tempfile::TempDir,
}

impl SecureServer {
    /// The real server over TLS (mutual when asked), verifying tokens against `jwks`, which
    /// it reads from a file it watches.
    async fn start(jwks: &Value, mutual: bool) -> SecureServer {
        SecureServer::start_as(jwks, Some(mutual), false).await
    }

    /// `tls`: None for plaintext (loopback), Some(mutual) for TLS; `console`: also serve the
    /// console (pages and gRPC-Web) on a port of its own.
    async fn start_as(jwks: &Value, tls: Option<bool>, console: bool) -> SecureServer {
        let pki = pki();
        let dir = tempfile::tempdir().unwrap();
        let jwks_path = dir.path().join("jwks.json");
        std::fs::write(&jwks_path, jwks.to_string()).unwrap();
        let config = VerifierConfig { issuer: ISSUER.into(), audience: AUDIENCE.into() };
        let verifier = Verifier::watching(config, &jwks_path).unwrap();
        let catalog = embedded_catalog();
        let (store, store_dir) =
            temp_sqlite_store(catalog.clone(), equipmatch::holds::system_clock());
        let security = Security {
            tls: tls.map(|mutual| TlsPem {
                cert: pki.server_cert.clone().into_bytes(),
                key: pki.server_key.clone().into_bytes(),
                client_ca: mutual.then(|| pki.ca.clone().into_bytes()),
            }),
            verifier: Some(verifier.clone()),
        };
        let localhost: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        let handle = ServerHandle::start_with_console(
            catalog,
            store,
            localhost,
            console.then_some(localhost),
            ServerOptions { security, ..ServerOptions::default() },
        )
        .await
        .unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{}", handle.local_addr.port());
        SecureServer { handle: Some(handle), url, pki, verifier, jwks_path, _dir: dir, store_dir }
    }

    /// A TLS channel trusting the test CA, without a token (requests carry their own).
    async fn channel(&self) -> AuthChannel {
        let credentials =
            Credentials { ca_pem: Some(self.pki.ca.clone().into_bytes()), ..Default::default() };
        client::connect_with(&self.url, &credentials).await.expect("TLS client connects")
    }

    /// Stops the server (which flushes and closes the store) and hands back the store's
    /// folder, so a test can read the audit tables the server held locked.
    async fn stop(mut self) -> tempfile::TempDir {
        if let Some(handle) = self.handle.take() {
            handle.stop().await.expect("server stops");
        }
        self.store_dir
    }
}

fn with_token<T>(message: T, authorization: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = authorization {
        // Garbage must reach the server as sent: only header-invalid bytes are impossible.
        request.metadata_mut().insert("authorization", value.parse().unwrap());
    }
    request
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

// ---- the RPCs ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rpc {
    ListScenarios,
    GetScenario,
    ListCategories,
    ListSuppliers,
    GetSupplier,
    Match,
    Shortlist,
    GetHold,
    ListHolds,
    RunDrill,
    PlaceHold,
    ConfirmHold,
    ReleaseHold,
    UpdateStock,
    ListPlaces,
    IngestAlert,
    ListActiveAlerts,
    ExportRequestResource,
    ExportCommitResource,
    ImportRequestResource,
}

const RPCS: [Rpc; 20] = [
    Rpc::ListScenarios,
    Rpc::GetScenario,
    Rpc::ListCategories,
    Rpc::ListSuppliers,
    Rpc::GetSupplier,
    Rpc::Match,
    Rpc::Shortlist,
    Rpc::GetHold,
    Rpc::ListHolds,
    Rpc::RunDrill,
    Rpc::PlaceHold,
    Rpc::ConfirmHold,
    Rpc::ReleaseHold,
    Rpc::UpdateStock,
    Rpc::ListPlaces,
    Rpc::IngestAlert,
    Rpc::ListActiveAlerts,
    Rpc::ExportRequestResource,
    Rpc::ExportCommitResource,
    Rpc::ImportRequestResource,
];

impl Rpc {
    fn path(self) -> String {
        let service = match self {
            Rpc::ListScenarios
            | Rpc::GetScenario
            | Rpc::ListCategories
            | Rpc::ListSuppliers
            | Rpc::GetSupplier
            | Rpc::ListPlaces => "CatalogService",
            Rpc::Match | Rpc::Shortlist => "MatchService",
            Rpc::RunDrill => "DrillService",
            Rpc::IngestAlert | Rpc::ListActiveAlerts => "AlertService",
            Rpc::ExportRequestResource | Rpc::ExportCommitResource | Rpc::ImportRequestResource => {
                "EdxlService"
            }
            _ => "HoldService",
        };
        format!("/equipmatch.v1.{service}/{self:?}")
    }
}

/// The issue's scope list, written out independently of `auth::METHODS` (plus the services
/// added since: reading alerts and EDXL-RM documents is read; ingesting an alert, which may
/// pre-position holds, is dispatch).
fn allowed(scope: &str, rpc: Rpc) -> bool {
    use Rpc::*;
    let read = matches!(
        rpc,
        ListScenarios
            | GetScenario
            | ListCategories
            | ListSuppliers
            | GetSupplier
            | ListPlaces
            | Match
            | Shortlist
            | GetHold
            | ListHolds
            | ListActiveAlerts
            | ExportRequestResource
            | ExportCommitResource
            | ImportRequestResource
    );
    match scope {
        "equipmatch.read" => read,
        "equipmatch.drill" => read || rpc == RunDrill,
        "equipmatch.dispatch" => {
            read || matches!(rpc, PlaceHold | ConfirmHold | ReleaseHold | IngestAlert)
        }
        "equipmatch.stock" => rpc == UpdateStock,
        "equipmatch.admin" => true,
        _ => false,
    }
}

fn hold_line(units: u64) -> pb::HoldLine {
    pb::HoldLine { supplier_id: LINE.0.into(), category_id: LINE.1.into(), quantity_units: units }
}

fn place_request(hold_id: &str) -> pb::PlaceHoldRequest {
    pb::PlaceHoldRequest {
        hold_id: hold_id.into(),
        incident_ref: "auth-matrix".into(),
        lines: vec![hold_line(1)],
        ttl_seconds: 600,
    }
}

fn stock_request(lines: &[(&str, &str)], units: u64) -> pb::UpdateStockRequest {
    pb::UpdateStockRequest {
        lines: lines
            .iter()
            .map(|(supplier, category)| pb::StockQuantity {
                supplier_id: (*supplier).into(),
                category_id: (*category).into(),
                on_hand_units: units,
            })
            .collect(),
    }
}

/// Calls `rpc` with a valid request (so a call the gate admits answers OK), under the
/// `authorization` header given. `n` makes hold ids unique; `admin` prepares what Confirm
/// and Release need.
async fn call(
    channel: &AuthChannel,
    rpc: Rpc,
    authorization: Option<&str>,
    admin: &str,
    n: usize,
) -> Result<(), tonic::Status> {
    let mut catalog = CatalogServiceClient::new(channel.clone());
    let mut matching = MatchServiceClient::new(channel.clone());
    let mut holds = HoldServiceClient::new(channel.clone());
    macro_rules! request {
        ($message:expr) => {
            with_token($message, authorization)
        };
    }
    match rpc {
        Rpc::ListScenarios => {
            catalog.list_scenarios(request!(pb::ListScenariosRequest {})).await.map(drop)
        }
        Rpc::GetScenario => catalog
            .get_scenario(request!(pb::GetScenarioRequest { scenario_id: "earthquake".into() }))
            .await
            .map(drop),
        Rpc::ListCategories => {
            catalog.list_categories(request!(pb::ListCategoriesRequest::default())).await.map(drop)
        }
        Rpc::ListSuppliers => {
            catalog.list_suppliers(request!(pb::ListSuppliersRequest::default())).await.map(drop)
        }
        Rpc::GetSupplier => catalog
            .get_supplier(request!(pb::GetSupplierRequest { supplier_id: LINE.0.into() }))
            .await
            .map(drop),
        Rpc::Match => matching
            .r#match(request!(pb::MatchRequest {
                scenario_id: "earthquake".into(),
                severity: pb::Severity::Iii as i32,
                location: Some(pb::LatLng { latitude: 39.63, longitude: 118.18 }),
                affected_population: 10_000,
                affected_area_km2: Some(5.0),
                options_per_requirement: 1,
                constraints: None,
                weights: None,
                view: pb::MatchView::Unspecified as i32,
            }))
            .await
            .map(drop),
        Rpc::Shortlist => matching
            .shortlist(request!(pb::ShortlistRequest {
                category_ids: vec![LINE.1.into()],
                quantity: 5.0,
                ..Default::default()
            }))
            .await
            .map(drop),
        Rpc::GetHold => {
            holds.get_hold(request!(pb::GetHoldRequest { hold_id: "seed".into() })).await.map(drop)
        }
        Rpc::ListHolds => holds
            .list_holds(request!(pb::ListHoldsRequest {
                incident_ref: "auth-matrix".into(),
                ..Default::default()
            }))
            .await
            .map(drop),
        Rpc::RunDrill => {
            let text = std::fs::read_to_string(DRILL).unwrap();
            let mut stream = DrillServiceClient::new(channel.clone())
                .run_drill(request!(pb::RunDrillRequest {
                    drill_toml: text,
                    file_name: "baoding.toml".into(),
                    policy: pb::DrillPolicy::Unspecified as i32,
                }))
                .await?
                .into_inner();
            let mut report = false;
            while let Some(event) = stream.message().await? {
                report |= matches!(event.event, Some(pb::run_drill_event::Event::Report(_)));
            }
            assert!(report, "an admitted drill ends with its report");
            Ok(())
        }
        Rpc::PlaceHold => {
            holds.place_hold(request!(place_request(&format!("matrix-{n}")))).await.map(drop)
        }
        Rpc::ConfirmHold | Rpc::ReleaseHold => {
            let hold_id = format!("pending-{n}");
            holds
                .place_hold(with_token(place_request(&hold_id), Some(admin)))
                .await
                .expect("admin places the hold to resolve");
            if rpc == Rpc::ConfirmHold {
                holds.confirm_hold(request!(pb::ConfirmHoldRequest { hold_id })).await.map(drop)
            } else {
                holds.release_hold(request!(pb::ReleaseHoldRequest { hold_id })).await.map(drop)
            }
        }
        Rpc::UpdateStock => {
            holds.update_stock(request!(stock_request(&[LINE], 100_000))).await.map(drop)
        }
        Rpc::ListPlaces => catalog.list_places(request!(pb::ListPlacesRequest {})).await.map(drop),
        Rpc::IngestAlert => {
            let cap_xml = std::fs::read(CAP_ALERT).unwrap();
            let mut alerts = AlertServiceClient::new(channel.clone());
            alerts.ingest_alert(request!(pb::IngestAlertRequest { cap_xml })).await.map(drop)
        }
        Rpc::ListActiveAlerts => AlertServiceClient::new(channel.clone())
            .list_active_alerts(request!(pb::ListActiveAlertsRequest::default()))
            .await
            .map(drop),
        Rpc::ExportRequestResource => EdxlServiceClient::new(channel.clone())
            .export_request_resource(request!(export_request()))
            .await
            .map(drop),
        Rpc::ExportCommitResource => EdxlServiceClient::new(channel.clone())
            .export_commit_resource(request!(pb::ExportCommitResourceRequest {
                hold_id: "confirmed-seed".into(),
                ..Default::default()
            }))
            .await
            .map(drop),
        Rpc::ImportRequestResource => {
            // A RequestResource the server itself wrote (admin), read back in.
            let document = EdxlServiceClient::new(channel.clone())
                .export_request_resource(with_token(export_request(), Some(admin)))
                .await
                .expect("admin exports a RequestResource")
                .into_inner();
            EdxlServiceClient::new(channel.clone())
                .import_request_resource(request!(pb::ImportRequestResourceRequest {
                    xml: document.xml.into_bytes(),
                    location: None,
                }))
                .await
                .map(drop)
        }
    }
}

/// A RequestResource export for a small earthquake.
fn export_request() -> pb::ExportRequestResourceRequest {
    pb::ExportRequestResourceRequest {
        r#match: Some(pb::MatchRequest {
            scenario_id: "earthquake".into(),
            severity: pb::Severity::Iii as i32,
            location: Some(pb::LatLng { latitude: 39.63, longitude: 118.18 }),
            affected_population: 10_000,
            affected_area_km2: Some(5.0),
            options_per_requirement: 1,
            constraints: None,
            weights: None,
            view: pb::MatchView::Unspecified as i32,
        }),
        ..Default::default()
    }
}

fn reason(status: &tonic::Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

/// Sets the matrix's stock line high and places the hold GetHold reads.
async fn prepare(channel: &AuthChannel, admin: &str) {
    for (supplier, category) in [LINE, OTHER_LINE] {
        let found = equipmatch::holds::find_stock_line(&embedded_catalog(), supplier, category);
        assert!(found.is_some(), "{supplier}/{category} left the sample registry: pick another");
    }
    let mut holds = HoldServiceClient::new(channel.clone());
    holds
        .update_stock(with_token(stock_request(&[LINE], 100_000), Some(admin)))
        .await
        .expect("admin sets stock");
    holds.place_hold(with_token(place_request("seed"), Some(admin))).await.expect("seed hold");
    holds
        .place_hold(with_token(place_request("confirmed-seed"), Some(admin)))
        .await
        .expect("a hold to confirm");
    holds
        .confirm_hold(with_token(
            pb::ConfirmHoldRequest { hold_id: "confirmed-seed".into() },
            Some(admin),
        ))
        .await
        .expect("confirmed, for ExportCommitResource");
}

#[tokio::test]
async fn every_rpc_refuses_every_bad_token_and_each_scope_gets_exactly_its_rights() {
    let fixtures = fixtures();
    let ed = test_key(Alg::EdDSA);
    let es = test_key(Alg::ES256);
    let stranger = test_key(Alg::EdDSA);
    let fixture_rsa = fixtures.jwks["keys"][0].clone();
    assert_eq!(fixture_rsa["kty"], "RSA");
    let server = SecureServer::start(&jwks_of(&[&ed.jwk, &es.jwk, &fixture_rsa]), false).await;
    let channel = server.channel().await;
    let admin = bearer(&mint(&ed, &claims("matrix-admin", "equipmatch.admin")));
    prepare(&channel, &admin).await;

    // Every defective token carries equipmatch.admin: only the defect can refuse it.
    let admin_claims = claims("intruder", "equipmatch.admin");
    let with = |patch: Value| {
        let mut c = admin_claims.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let n = now();
    let rsa_kid = fixture_rsa["kid"].as_str().unwrap();
    let ed_public = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(ed.jwk["x"].as_str().unwrap())
            .unwrap()
    };
    let bad: Vec<(&str, Option<String>, &str)> = vec![
        ("no token", None, "TOKEN_MISSING"),
        ("garbage", Some("Bearer not-a-jwt".into()), "TOKEN_MALFORMED"),
        ("garbage JWS", Some(bearer("eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl")), "TOKEN_MALFORMED"),
        ("basic auth", Some("Basic YWRtaW46YWRtaW4=".into()), "TOKEN_MALFORMED"),
        (
            "expired",
            Some(bearer(&mint(&ed, &with(json!({"exp": n - 3600, "iat": n - 7200}))))),
            "TOKEN_EXPIRED",
        ),
        (
            "not yet valid",
            Some(bearer(&mint(&es, &with(json!({"nbf": n + 3600}))))),
            "TOKEN_NOT_YET_VALID",
        ),
        (
            "wrong issuer",
            Some(bearer(&mint(&ed, &with(json!({"iss": "https://evil.example/realms/x"}))))),
            "ISSUER_MISMATCH",
        ),
        (
            "wrong audience",
            Some(bearer(&mint(&es, &with(json!({"aud": ["account", "billing"]}))))),
            "AUDIENCE_MISMATCH",
        ),
        ("unknown key", Some(bearer(&mint(&stranger, &admin_claims))), "KEY_UNKNOWN"),
        (
            "known kid, another key",
            Some(bearer(&mint_with(&stranger, &ed.kid, &admin_claims))),
            "SIGNATURE_INVALID",
        ),
        ("alg none", Some(bearer(&unsigned(&ed.kid, &admin_claims))), "ALGORITHM_REFUSED"),
        (
            "HS256 keyed with the RSA public key",
            Some(bearer(&hs256(rsa_kid, &fixtures.rsa_public_pem, &admin_claims))),
            "ALGORITHM_REFUSED",
        ),
        (
            "HS256 keyed with the Ed25519 public key",
            Some(bearer(&hs256(&ed.kid, &ed_public, &admin_claims))),
            "ALGORITHM_REFUSED",
        ),
    ];
    let scopes = [
        "equipmatch.read",
        "equipmatch.drill",
        "equipmatch.dispatch",
        "equipmatch.stock",
        "equipmatch.admin",
        "email",
    ];

    let mut wrong = Vec::new();
    let (mut refused_total, mut refused_right, mut allowed_total, mut allowed_right) = (0, 0, 0, 0);
    let mut i = 0;
    for rpc in RPCS {
        for (name, authorization, expected) in &bad {
            i += 1;
            refused_total += 1;
            match call(&channel, rpc, authorization.as_deref(), &admin, i).await {
                Err(status)
                    if status.code() == Code::Unauthenticated && reason(&status) == *expected =>
                {
                    refused_right += 1
                }
                other => wrong.push(format!("{rpc:?} × {name}: {other:?}, expected {expected}")),
            }
        }
        for (k, scope) in scopes.iter().enumerate() {
            i += 1;
            let key = if k % 2 == 0 { &ed } else { &es };
            let mut c = claims(&format!("matrix-{k}"), scope);
            c["equipmatch_supplier"] = json!(LINE.0);
            let token = bearer(&mint(key, &c));
            let result = call(&channel, rpc, Some(&token), &admin, i).await;
            if allowed(scope, rpc) {
                allowed_total += 1;
                match result {
                    Ok(()) => allowed_right += 1,
                    Err(status) => {
                        wrong.push(format!("{rpc:?} × {scope}: {status:?}, expected OK"))
                    }
                }
            } else {
                refused_total += 1;
                match result {
                    Err(status)
                        if status.code() == Code::PermissionDenied
                            && reason(&status) == "SCOPE_MISSING"
                            && status.get_details_error_info().is_some_and(|info| {
                                info.domain == "equipmatch.v1"
                                    && info.metadata.get("method") == Some(&rpc.path())
                                    && !info.metadata["required_scopes"].is_empty()
                            }) =>
                    {
                        refused_right += 1
                    }
                    other => wrong.push(format!(
                        "{rpc:?} × {scope}: {other:?}, expected PERMISSION_DENIED SCOPE_MISSING"
                    )),
                }
            }
        }
    }
    println!(
        "auth matrix: {refused_right} of {refused_total} unauthorised calls refused with the \
         right code and reason; {allowed_right} of {allowed_total} authorised calls OK"
    );
    assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(refused_total, RPCS.len() * (bad.len() + scopes.len()) - allowed_total);
    server.stop().await;
}

#[tokio::test]
async fn tokens_from_an_independent_implementation_verify_as_their_fixture_says() {
    let fixtures = fixtures();
    let server = SecureServer::start(&fixtures.jwks, false).await;
    let channel = server.channel().await;
    let keys = KeySet::parse(fixtures.jwks.to_string().as_bytes()).unwrap();
    assert_eq!(keys.len(), 3, "the encryption key is skipped");
    let mut checked = 0;
    for fixture in &fixtures.tokens {
        let name = fixture["name"].as_str().unwrap();
        let token = fixture["token"].as_str().unwrap();
        let expect = fixture["expect"].as_str().unwrap();
        // In process: the identity the claims describe.
        match server.verifier.verify(token) {
            Ok(identity) => {
                assert_eq!(expect, "ok", "{name}: verified, expected {expect}");
                assert_eq!(identity.sub, fixture["sub"].as_str().unwrap(), "{name}");
                let scopes: Vec<&str> = identity.scopes.iter().map(|s| s.as_str()).collect();
                let mut want: Vec<&str> = fixture["scopes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                want.sort_by_key(|s| {
                    equipmatch::auth::Scope::ALL.iter().position(|x| x.as_str() == *s)
                });
                assert_eq!(scopes, want, "{name}");
                let suppliers: Vec<&str> = identity.suppliers.iter().map(|s| s.as_str()).collect();
                assert_eq!(suppliers, *fixture["suppliers"].as_array().unwrap(), "{name}");
            }
            Err(equipmatch::Error::Unauthenticated { reason, description }) => {
                assert_eq!(reason, expect, "{name}: {description}");
            }
            Err(other) => panic!("{name}: {other:?}"),
        }
        // Over the wire: GetSupplier needs a read-capable scope.
        let result = call(&channel, Rpc::GetSupplier, Some(&bearer(token)), "", 0).await;
        let reads =
            fixture["scopes"].as_array().is_some_and(|s| s.iter().any(|s| s != "equipmatch.stock"));
        match (expect, result) {
            ("ok", Ok(())) if reads => {}
            ("ok", Err(status)) if !reads => {
                assert_eq!(status.code(), Code::PermissionDenied, "{name}")
            }
            (_, Err(status)) => {
                assert_eq!(status.code(), Code::Unauthenticated, "{name}");
                assert_eq!(reason(&status), expect, "{name}");
            }
            (_, Ok(())) => panic!("{name}: admitted, expected {expect}"),
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixture tokens");
    server.stop().await;
}

#[test]
fn the_method_table_covers_exactly_the_contract() {
    let pool = prost_reflect::DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    let mut contract: Vec<String> = pool
        .services()
        .flat_map(|service| {
            service
                .methods()
                .map(|method| format!("/{}/{}", service.full_name(), method.name()))
                .collect::<Vec<_>>()
        })
        .collect();
    contract.sort();
    let mut table: Vec<String> =
        equipmatch::auth::METHODS.iter().map(|(path, _)| (*path).to_owned()).collect();
    table.sort();
    assert_eq!(table, contract, "auth::METHODS must list every RPC of the contract, no more");
    let mut tested: Vec<String> = RPCS.iter().map(|rpc| rpc.path()).collect();
    tested.sort();
    assert_eq!(tested, contract, "the matrix must call every RPC");
}

#[tokio::test]
async fn a_stock_token_sets_only_its_own_suppliers_lines() {
    let key = test_key(Alg::EdDSA);
    let server = SecureServer::start(&jwks_of(&[&key.jwk]), false).await;
    let channel = server.channel().await;
    let mut holds = HoldServiceClient::new(channel.clone());
    let mut c = claims("supplier-7-bot", "equipmatch.stock");
    c["equipmatch_supplier"] = json!([LINE.0]);
    let stock = bearer(&mint(&key, &c));

    for (lines, denied) in [
        (vec![OTHER_LINE], OTHER_LINE.0),
        (vec![LINE, OTHER_LINE], OTHER_LINE.0),
        // Another supplier's line that does not exist is refused, not NOT_FOUND.
        (vec![("sup-00009", "no-such-category")], "sup-00009"),
    ] {
        let status = holds
            .update_stock(with_token(stock_request(&lines, 5), Some(&stock)))
            .await
            .expect_err("another supplier's line");
        assert_eq!(status.code(), Code::PermissionDenied, "{lines:?}");
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "SUPPLIER_NOT_GRANTED");
        assert_eq!(info.metadata["supplier_id"], denied);
        assert_eq!(info.metadata["granted_suppliers"], LINE.0);
    }
    // A supplier claim without the stock scope grants nothing.
    let mut d = claims("dispatcher", "equipmatch.dispatch");
    d["equipmatch_supplier"] = json!(LINE.0);
    let status = holds
        .update_stock(with_token(stock_request(&[LINE], 5), Some(&bearer(&mint(&key, &d)))))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::PermissionDenied, "SCOPE_MISSING")
    );

    let updated = holds
        .update_stock(with_token(stock_request(&[LINE], 40), Some(&stock)))
        .await
        .expect("its own line")
        .into_inner();
    assert_eq!(updated.lines.len(), 1);
    // The refused requests wrote nothing: the one audit row is the allowed update.
    let store = server.stop().await;
    assert_eq!(stock_actors(store.path()), ["sub=supplier-7-bot supplier=sup-00007"]);
}

/// The actors of the stock audit, oldest first (the server must be stopped).
fn stock_actors(store: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(store.join("holds.sqlite")).unwrap();
    // The stopped server's writer thread lets go of the file as it ends.
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut statement = conn.prepare("SELECT actor FROM stock_audit ORDER BY seq").unwrap();
    let actors = statement.query_map([], |row| row.get(0)).unwrap();
    actors.map(Result::unwrap).collect()
}

#[tokio::test]
async fn the_audit_trail_names_the_token_not_the_header() {
    let key = test_key(Alg::ES256);
    let server = SecureServer::start(&jwks_of(&[&key.jwk]), false).await;
    let channel = server.channel().await;
    let mut holds = HoldServiceClient::new(channel.clone());
    let dispatcher = bearer(&mint(&key, &claims("dispatcher-hebei", "equipmatch.dispatch")));
    /// The request as the dispatcher's, but its caller header claims to be someone else.
    fn lie<T>(message: T, dispatcher: &str) -> tonic::Request<T> {
        let mut request = with_token(message, Some(dispatcher));
        request.metadata_mut().insert("x-equipmatch-caller", "admin-forged".parse().unwrap());
        request
    }
    let admin = bearer(&mint(&key, &claims("ops", "equipmatch.admin")));
    holds.update_stock(with_token(stock_request(&[LINE], 1000), Some(&admin))).await.unwrap();
    holds.place_hold(lie(place_request("audited"), &dispatcher)).await.expect("placed");
    holds
        .confirm_hold(lie(pb::ConfirmHoldRequest { hold_id: "audited".into() }, &dispatcher))
        .await
        .expect("confirmed");
    let hold = holds
        .get_hold(with_token(pb::GetHoldRequest { hold_id: "audited".into() }, Some(&dispatcher)))
        .await
        .unwrap()
        .into_inner()
        .hold
        .unwrap();
    assert_eq!(hold.placed_by, "sub=dispatcher-hebei");
    assert_eq!(hold.history.len(), 2, "{:?}", hold.history);
    assert!(
        hold.history.iter().all(|event| event.actor == "sub=dispatcher-hebei"),
        "{:?}",
        hold.history
    );

    let mut c = claims("supplier-7-bot", "equipmatch.stock");
    c["equipmatch_supplier"] = json!([LINE.0, "sup-00001"]);
    let mut request = with_token(stock_request(&[LINE], 900), Some(&bearer(&mint(&key, &c))));
    request.metadata_mut().insert("x-equipmatch-caller", "someone-else".parse().unwrap());
    holds.update_stock(request).await.expect("its own line");
    let store = server.stop().await;
    assert_eq!(stock_actors(store.path()), ["sub=ops", "sub=supplier-7-bot supplier=sup-00007"]);
}

/// Polls `condition` until it holds or `ROTATION_WAIT` passes.
async fn eventually(mut condition: impl AsyncFnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + ROTATION_WAIT;
    while std::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Writes the JWKS as a deployment would: a new file renamed over the old one.
fn replace_file(path: &Path, bytes: &[u8]) {
    let next = path.with_extension("next");
    std::fs::write(&next, bytes).unwrap();
    std::fs::rename(&next, path).unwrap();
}

#[tokio::test]
async fn a_rotated_jwks_takes_effect_without_a_restart() {
    let old = test_key(Alg::EdDSA);
    let new = test_key(Alg::ES256);
    let server = SecureServer::start(&jwks_of(&[&old.jwk]), false).await;
    let channel = server.channel().await;
    let old_token = bearer(&mint(&old, &claims("reader", "equipmatch.read")));
    let new_token = bearer(&mint(&new, &claims("reader", "equipmatch.read")));
    let get = |token: String| {
        let channel = channel.clone();
        async move { call(&channel, Rpc::GetSupplier, Some(&token), "", 0).await }
    };
    get(old_token.clone()).await.expect("the old key verifies");
    get(old_token.clone()).await.expect("and again, from the cache");
    assert_eq!(server.verifier.cached_entries(), 1);
    assert_eq!(reason(&get(new_token.clone()).await.unwrap_err()), "KEY_UNKNOWN");

    replace_file(&server.jwks_path, jwks_of(&[&new.jwk]).to_string().as_bytes());
    assert!(
        eventually(async || get(new_token.clone()).await.is_ok()).await,
        "the new key was not picked up within {ROTATION_WAIT:?}"
    );
    // The old key is gone, and so is its cached verification.
    let status = get(old_token.clone()).await.unwrap_err();
    assert_eq!((status.code(), reason(&status).as_str()), (Code::Unauthenticated, "KEY_UNKNOWN"));

    // A broken JWKS is logged and ignored: the keys in force stay.
    replace_file(&server.jwks_path, b"{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\"}]}");
    tokio::time::sleep(equipmatch::auth::JWKS_POLL_INTERVAL * 3).await;
    assert_eq!(server.verifier.kids(), std::slice::from_ref(&new.kid));
    get(new_token.clone()).await.expect("the current key still verifies");
    server.stop().await;
}

#[tokio::test]
async fn a_plaintext_client_gets_nothing_from_the_tls_port() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let key = test_key(Alg::EdDSA);
    let server = SecureServer::start(&jwks_of(&[&key.jwk]), false).await;
    let plain_url = server.url.replace("https://", "http://");
    // tonic over h2c: the connection or the call fails; nothing is answered.
    match client::connect(&plain_url).await {
        Err(_) => {}
        Ok(channel) => {
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
            let result = health.check(tonic_health::pb::HealthCheckRequest::default()).await;
            assert!(result.is_err(), "a plaintext call was answered: {result:?}");
        }
    }
    // Raw bytes: the HTTP/2 preface gets at most a TLS alert, never an HTTP/2 frame.
    let addr = server.url.trim_start_matches("https://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    socket
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
    assert!(
        answer.is_empty() || answer[0] == 0x15,
        "the TLS port answered plaintext with {:?}",
        &answer[..answer.len().min(16)]
    );
    server.stop().await;
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_a_certificate_and_health_stays_open() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    let key = test_key(Alg::EdDSA);
    let server = SecureServer::start(&jwks_of(&[&key.jwk]), true).await;
    let without =
        Credentials { ca_pem: Some(server.pki.ca.clone().into_bytes()), ..Default::default() };
    let refused = match client::connect_with(&server.url, &without).await {
        Err(_) => true,
        Ok(channel) => {
            HealthClient::new(channel).check(HealthCheckRequest::default()).await.is_err()
        }
    };
    assert!(refused, "a client without a certificate was served");

    let with_cert = Credentials {
        client_identity: Some((
            server.pki.client_cert.clone().into_bytes(),
            server.pki.client_key.clone().into_bytes(),
        )),
        ..without
    };
    let channel = client::connect_with(&server.url, &with_cert).await.expect("mutual TLS");
    // Health and reflection need no token, even with auth on.
    let health = HealthClient::new(channel.clone()).check(HealthCheckRequest::default()).await;
    assert_eq!(
        health.expect("health without a token").into_inner().status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    {
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = ServerReflectionClient::new(channel.clone())
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .expect("reflection without a token")
            .into_inner();
        assert!(stream.message().await.unwrap().is_some());
    }
    // Everything else still needs the token.
    let status = call(&channel, Rpc::ListScenarios, None, "", 0).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let token = bearer(&mint(&key, &claims("console", "equipmatch.read")));
    call(&channel, Rpc::ListScenarios, Some(&token), "", 0).await.expect("token over mutual TLS");
    server.stop().await;
}

// ---- the real binary ----

fn equipmatch(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_equipmatch"));
    command.args(args).env_remove(equipmatch::cli::connect::TOKEN_ENV);
    command
}

#[test]
fn serve_refuses_a_non_loopback_address_without_auth() {
    for args in [
        ["--listen", "0.0.0.0:0", "--console", "off"],
        ["--listen", "[::]:0", "--console", "off"],
        // The console serves the same service stack: exposing it is exposing the service.
        ["--listen", "127.0.0.1:0", "--console", "0.0.0.0:0"],
    ] {
        let listen = args.join(" ");
        let started = std::time::Instant::now();
        let output = equipmatch(&[&["serve"][..], &args].concat()).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{listen}: {stderr}");
        assert!(stderr.contains("--jwks") && stderr.contains("--insecure-no-auth"), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "it must refuse at once");
    }
}

#[test]
fn serve_with_insecure_no_auth_starts_and_warns() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("holds.sqlite").display());
    let mut child = equipmatch(&[
        "--log-json",
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--console",
        "off",
        "--insecure-no-auth",
        "--store",
        &store,
    ])
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut warned = false;
    let mut serving = false;
    for line in stderr.lines().map_while(Result::ok) {
        warned |= line.contains("WITHOUT authentication");
        if line.contains("\"serving\"") {
            serving = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(warned && serving, "warned {warned}, serving {serving}");
}

#[test]
fn the_cli_reaches_a_tls_and_jwt_server_with_its_token_and_ca() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let pki = pki();
    std::fs::write(path("ca.pem"), &pki.ca).unwrap();
    std::fs::write(path("cert.pem"), &pki.server_cert).unwrap();
    std::fs::write(path("key.pem"), &pki.server_key).unwrap();
    let keygen = equipmatch(&["token", "keygen", "--out", &path("keys")]).output().unwrap();
    assert!(keygen.status.success(), "{}", String::from_utf8_lossy(&keygen.stderr));
    let key = path("keys/signing-key.pem");
    let issue = |scope: &str, supplier: Option<&str>| {
        let mut args = vec![
            "token",
            "issue",
            "--key",
            &key,
            "--sub",
            "cli-test",
            "--scope",
            scope,
            "--ttl",
            "10m",
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
        ];
        if let Some(supplier) = supplier {
            args.extend(["--supplier", supplier]);
        }
        let output = equipmatch(&args).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    std::fs::write(path("stock.jwt"), issue("equipmatch.stock", Some(LINE.0))).unwrap();
    let read_token = issue("equipmatch.read", None);

    let store = format!("sqlite:{}", path("holds.sqlite"));
    let server = ServerProcess::start_with_args(
        &store,
        &[
            "--jwks",
            &path("keys/jwks.json"),
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--tls-cert",
            &path("cert.pem"),
            "--tls-key",
            &path("key.pem"),
        ],
    );
    let url = server.url.replace("http://", "https://");
    let ca = path("ca.pem");
    let stock_token = path("stock.jwt");
    let run = |args: &[&str], token_env: Option<&str>| {
        let mut command = equipmatch(args);
        if let Some(token) = token_env {
            command.env(equipmatch::cli::connect::TOKEN_ENV, token);
        }
        command.output().unwrap()
    };
    let own = format!("{}:{}:40", LINE.0, LINE.1);
    let other = format!("{}:{}:40", OTHER_LINE.0, OTHER_LINE.1);
    let ok = run(
        &["hold", "stock", "--server", &url, "--ca", &ca, "--token", &stock_token, "--set", &own],
        None,
    );
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let denied = run(
        &["hold", "stock", "--server", &url, "--ca", &ca, "--token", &stock_token, "--set", &other],
        None,
    );
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("sup-00009"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
    let shortlist =
        ["shortlist", "--server", &url, "--ca", &ca, "--category", LINE.1, "--quantity", "3"];
    let anonymous = run(&shortlist, None);
    assert!(!anonymous.status.success());
    assert!(String::from_utf8_lossy(&anonymous.stderr).to_lowercase().contains("unauthenticated"));
    let from_env = run(&shortlist, Some(&read_token));
    assert!(from_env.status.success(), "{}", String::from_utf8_lossy(&from_env.stderr));
    // Without --ca the test CA is not trusted.
    let untrusted = run(
        &["shortlist", "--server", &url, "--category", LINE.1, "--quantity", "3"],
        Some(&read_token),
    );
    assert!(!untrusted.status.success());
    // A token is never sent in the clear to a non-loopback host.
    let clear = run(
        &[
            "shortlist",
            "--server",
            "http://192.0.2.1:50051",
            "--category",
            LINE.1,
            "--quantity",
            "3",
        ],
        Some(&read_token),
    );
    assert!(
        String::from_utf8_lossy(&clear.stderr).contains("in the clear"),
        "{}",
        String::from_utf8_lossy(&clear.stderr)
    );
    drop(server);
}

/// A gRPC-Web call as a browser's fetch sends it over HTTP/1.1, with an optional
/// `authorization` header; the grpc-status from the headers (trailers-only) or the trailer frame.
fn grpc_web_status(
    addr: std::net::SocketAddr,
    method: &str,
    message: &[u8],
    authorization: Option<&str>,
) -> String {
    use std::io::{Read, Write};
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let mut request = format!(
        "POST /{method} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\n{auth}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(&request).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    // Trailers-only: `grpc-status: N` among the headers; else in the trailer frame's text.
    text.split("grpc-status:")
        .nth(1)
        .map(|rest| rest.trim_start().chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consoles_grpc_web_goes_through_the_same_gate() {
    use prost::Message;
    let key = test_key(Alg::EdDSA);
    let server = SecureServer::start_as(&jwks_of(&[&key.jwk]), None, true).await;
    let console = server.handle.as_ref().unwrap().console_addr.expect("a console");
    let reader = bearer(&mint(&key, &claims("console-user", "equipmatch.read")));
    let list = pb::ListScenariosRequest {}.encode_to_vec();
    let place = place_request("from-the-console").encode_to_vec();
    let statuses = tokio::task::spawn_blocking(move || {
        [
            grpc_web_status(console, "equipmatch.v1.CatalogService/ListScenarios", &list, None),
            grpc_web_status(
                console,
                "equipmatch.v1.CatalogService/ListScenarios",
                &list,
                Some(&reader),
            ),
            grpc_web_status(console, "equipmatch.v1.HoldService/PlaceHold", &place, Some(&reader)),
            grpc_web_status(
                console,
                "equipmatch.v1.HoldService/PlaceHold",
                &place,
                Some("Bearer x.y.z"),
            ),
        ]
    })
    .await
    .unwrap();
    // UNAUTHENTICATED, OK, PERMISSION_DENIED, UNAUTHENTICATED: the gRPC port's answers.
    assert_eq!(statuses, ["16", "0", "7", "16"]);
    server.stop().await;
}
