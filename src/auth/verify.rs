//! Bearer-token verification: the algorithm is checked against RS256/ES256/EdDSA before any
//! key is looked at, the key is chosen by `kid` and must be for that algorithm, then
//! `jsonwebtoken` checks the signature, `exp`/`nbf` (60 s leeway), `iss`, `aud` and `sub`;
//! the claims become an [`Identity`]. Verified tokens are cached by their SHA-256, bounded,
//! until their `exp`, and the cache is emptied whenever the keys change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::Validation;
use serde_json::Value;

use super::jwks::{Alg, KeySet, JWKS_BYTES_MAX};
use super::{Identity, Scope, Scopes};
use crate::domain::Id;
use crate::error::Error;

/// The longest token accepted (bytes of the compact JWS). Keycloak's access tokens are
/// 1–3 KiB; HTTP/2 refuses header lists past 16 KiB anyway.
pub const TOKEN_BYTES_MAX: usize = 8 * 1024;
/// Clock skew tolerated on `exp` and `nbf` (seconds).
pub const LEEWAY_SECONDS: u64 = 60;
/// The longest `sub` accepted (bytes), so the audit trail's actor stays within its bound.
pub const SUB_BYTES_MAX: usize = 64;
/// The most supplier ids an `equipmatch_supplier` claim may name.
pub const SUPPLIER_CLAIM_IDS_MAX: usize = 32;
/// Verified tokens remembered; past it the expired ones go, then all of them.
pub const CACHE_ENTRIES_MAX: usize = 4096;
/// How often the JWKS file is read again to pick up a rotation.
pub const JWKS_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What tokens must say to be accepted here.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The exact `iss` (e.g. `https://sso.example.cn/realms/jjj-emergency`).
    pub issuer: String,
    /// A value the `aud` claim (a string or an array) must contain.
    pub audience: String,
}

/// The current keys; the generation changes with every replacement.
#[derive(Debug)]
struct Keys {
    set: KeySet,
    generation: u64,
}

#[derive(Debug, Default)]
struct Cache {
    generation: u64,
    entries: HashMap<[u8; 32], Arc<Identity>>,
}

/// Verifies bearer tokens against a JWKS; shared by every connection.
#[derive(Debug)]
pub struct Verifier {
    config: VerifierConfig,
    keys: RwLock<Arc<Keys>>,
    cache: Mutex<Cache>,
}

fn unauthenticated(reason: &'static str, description: impl Into<String>) -> Error {
    Error::Unauthenticated { reason, description: description.into() }
}

/// Seconds since the Unix epoch, from the system clock.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The token of an `authorization` header value: `Bearer <compact JWS>` (the scheme in any
/// case). Missing → TOKEN_MISSING; anything else → TOKEN_MALFORMED.
pub fn bearer_token(header: Option<&[u8]>) -> Result<&str, Error> {
    let Some(value) = header else {
        return Err(unauthenticated(
            "TOKEN_MISSING",
            "no bearer token: send `authorization: Bearer <JWT>`",
        ));
    };
    let malformed =
        || unauthenticated("TOKEN_MALFORMED", "the authorization header is not `Bearer <JWT>`");
    let text = std::str::from_utf8(value).map_err(|_| malformed())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed());
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() || token.len() > TOKEN_BYTES_MAX {
        return Err(unauthenticated(
            "TOKEN_MALFORMED",
            format!("a bearer token is 1 to {TOKEN_BYTES_MAX} bytes"),
        ));
    }
    let ok =
        token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='));
    if !ok || token.split('.').count() != 3 {
        return Err(unauthenticated("TOKEN_MALFORMED", "the bearer token is not a compact JWS"));
    }
    Ok(token)
}

/// The parts of the JWS header we decide on before any key is touched.
struct Header {
    alg: Alg,
    kid: String,
}

fn header(token: &str) -> Result<Header, Error> {
    let malformed =
        |what: &str| unauthenticated("TOKEN_MALFORMED", format!("the token header {what}"));
    let encoded = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| malformed("is not base64url"))?;
    let header: Value = serde_json::from_slice(&bytes).map_err(|_| malformed("is not JSON"))?;
    let alg = header.get("alg").and_then(Value::as_str).ok_or_else(|| malformed("has no alg"))?;
    let alg = Alg::from_header(alg).ok_or_else(|| {
        unauthenticated(
            "ALGORITHM_REFUSED",
            format!("algorithm {alg:?} is refused: only RS256, ES256 and EdDSA are accepted"),
        )
    })?;
    if let Some(typ) = header.get("typ") {
        let typ = typ.as_str().unwrap_or_default().to_ascii_lowercase();
        if !matches!(typ.as_str(), "jwt" | "at+jwt" | "application/at+jwt") {
            return Err(malformed("typ is not JWT or at+jwt"));
        }
    }
    let kid = header.get("kid").and_then(Value::as_str).ok_or_else(|| {
        unauthenticated("KEY_UNKNOWN", "the token header has no kid: the key cannot be chosen")
    })?;
    Ok(Header { alg, kid: kid.to_owned() })
}

fn jwt_error(error: &jsonwebtoken::errors::Error) -> Error {
    match error.kind() {
        ErrorKind::ExpiredSignature => unauthenticated("TOKEN_EXPIRED", "the token has expired"),
        ErrorKind::ImmatureSignature => {
            unauthenticated("TOKEN_NOT_YET_VALID", "the token is not valid yet (nbf)")
        }
        ErrorKind::InvalidIssuer => {
            unauthenticated("ISSUER_MISMATCH", "the token's iss is not the configured issuer")
        }
        ErrorKind::InvalidAudience => {
            unauthenticated("AUDIENCE_MISMATCH", "the token's aud does not name this service")
        }
        ErrorKind::InvalidSignature => {
            unauthenticated("SIGNATURE_INVALID", "the token's signature does not verify")
        }
        ErrorKind::MissingRequiredClaim(claim) => {
            unauthenticated("CLAIM_MISSING", format!("the token has no {claim:?} claim"))
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            unauthenticated("CLAIM_INVALID", format!("the token's {claim:?} claim is malformed"))
        }
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            unauthenticated("ALGORITHM_REFUSED", "the token's algorithm does not match its key")
        }
        _ => unauthenticated("TOKEN_MALFORMED", format!("the token cannot be read: {error}")),
    }
}

/// A claim that may be one string or an array of strings.
fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(text) => Some(vec![text.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// The identity the (signature- and time-checked) claims describe.
fn identity(claims: &Value) -> Result<Identity, Error> {
    let invalid = |what: String| unauthenticated("CLAIM_INVALID", what);
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or_default();
    let printable = sub.bytes().all(|b| b.is_ascii_graphic());
    if sub.is_empty() || sub.len() > SUB_BYTES_MAX || !printable {
        return Err(invalid(format!(
            "sub must be 1 to {SUB_BYTES_MAX} bytes of printable ASCII without spaces"
        )));
    }
    // Keycloak marks ID and refresh tokens in `typ`; only an access token grants calls.
    if let Some(typ) = claims.get("typ") {
        if typ.as_str().is_none_or(|typ| !typ.eq_ignore_ascii_case("bearer")) {
            return Err(invalid("typ says this is not an access token".into()));
        }
    }
    let mut scopes = Scopes::default();
    // `scope`: a space-separated string (RFC 8693, Keycloak); `scp`: an array (Okta) or a
    // space-separated string (Entra ID).
    for name in ["scope", "scp"] {
        let Some(value) = claims.get(name) else { continue };
        let entries = strings(value)
            .ok_or_else(|| invalid(format!("{name} is not a string or an array of strings")))?;
        for entry in entries {
            scopes = scopes
                .iter()
                .chain(entry.split_ascii_whitespace().filter_map(Scope::parse))
                .collect();
        }
    }
    let mut suppliers = Vec::new();
    if let Some(value) = claims.get("equipmatch_supplier") {
        let ids = strings(value).ok_or_else(|| {
            invalid("equipmatch_supplier is not a string or an array of strings".into())
        })?;
        if ids.len() > SUPPLIER_CLAIM_IDS_MAX {
            return Err(invalid(format!(
                "equipmatch_supplier names more than {SUPPLIER_CLAIM_IDS_MAX} suppliers"
            )));
        }
        for id in ids {
            let id = Id::parse(id).map_err(|e| invalid(format!("equipmatch_supplier: {e}")))?;
            if !suppliers.contains(&id) {
                suppliers.push(id);
            }
        }
    }
    // `exp` was checked by jsonwebtoken, which also takes a float; so do we.
    let expires_at = match claims.get("exp") {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)).unwrap_or(0),
        _ => 0,
    };
    Ok(Identity { sub: sub.to_owned(), scopes, suppliers, expires_at })
}

impl Verifier {
    pub fn new(config: VerifierConfig, keys: KeySet) -> Verifier {
        Verifier {
            config,
            keys: RwLock::new(Arc::new(Keys { set: keys, generation: 1 })),
            cache: Mutex::new(Cache { generation: 1, ..Cache::default() }),
        }
    }

    /// Reads the JWKS at `path` and keeps reading it every `JWKS_POLL_INTERVAL` on a thread
    /// of its own, for as long as the verifier lives: a changed file that parses replaces
    /// the keys (and empties the cache); one that does not is logged and the old keys stay.
    pub fn watching(config: VerifierConfig, path: &Path) -> Result<Arc<Verifier>, String> {
        let bytes = read_jwks(path)?;
        let keys = KeySet::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        for skipped in &keys.skipped {
            tracing::warn!(jwks = %path.display(), skipped, "JWKS key skipped");
        }
        tracing::info!(jwks = %path.display(), kids = ?keys.kids(), "JWKS loaded");
        let verifier = Arc::new(Verifier::new(config, keys));
        let weak = Arc::downgrade(&verifier);
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("jwks-watch".into())
            .spawn(move || watch(weak, path, bytes))
            .map_err(|e| format!("cannot start the JWKS watcher: {e}"))?;
        Ok(verifier)
    }

    /// Replaces the keys: tokens verified under the old ones are verified again.
    pub fn set_keys(&self, set: KeySet) {
        let mut keys = self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let generation = keys.generation + 1;
        *keys = Arc::new(Keys { set, generation });
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.generation = generation;
        cache.entries.clear();
    }

    /// The kids of the current keys.
    pub fn kids(&self) -> Vec<String> {
        let keys = self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        keys.set.kids().into_iter().map(str::to_owned).collect()
    }

    /// Verifies a compact JWS and returns who it proves the caller is. Every failure is
    /// UNAUTHENTICATED with a reason.
    pub fn verify(&self, token: &str) -> Result<Arc<Identity>, Error> {
        if token.len() > TOKEN_BYTES_MAX {
            return Err(unauthenticated(
                "TOKEN_MALFORMED",
                format!("the token is longer than {TOKEN_BYTES_MAX} bytes"),
            ));
        }
        let now = unix_now();
        let keys = self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
            .as_ref()
            .try_into()
            .map_err(|_| Error::Internal("SHA-256 is not 32 bytes".into()))?;
        if let Some(identity) = self.cached(&digest, keys.generation, now) {
            return Ok(identity);
        }
        let header = header(token)?;
        let key = keys.set.get(&header.kid).ok_or_else(|| {
            unauthenticated("KEY_UNKNOWN", format!("no key with kid {:?} in the JWKS", header.kid))
        })?;
        if key.alg != header.alg {
            return Err(unauthenticated(
                "ALGORITHM_REFUSED",
                format!(
                    "the key {:?} is for {}, the token says {}",
                    key.kid,
                    key.alg.as_str(),
                    header.alg.as_str()
                ),
            ));
        }
        let mut validation = Validation::new(key.alg.jsonwebtoken());
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        // Without these in the required set, jsonwebtoken lets a token that omits them pass.
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
            .map_err(|e| jwt_error(&e))?;
        let identity = Arc::new(identity(&data.claims)?);
        self.remember(digest, keys.generation, &identity, now);
        Ok(identity)
    }

    fn cached(&self, digest: &[u8; 32], generation: u64, now: u64) -> Option<Arc<Identity>> {
        let cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.generation != generation {
            return None;
        }
        let identity = cache.entries.get(digest)?;
        // The same bound jsonwebtoken applies: expired once exp + leeway has passed.
        (now <= identity.expires_at.saturating_add(LEEWAY_SECONDS)).then(|| identity.clone())
    }

    fn remember(&self, digest: [u8; 32], generation: u64, identity: &Arc<Identity>, now: u64) {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Keys replaced while this token was being verified: it must be verified again.
        if cache.generation != generation {
            return;
        }
        if cache.entries.len() >= CACHE_ENTRIES_MAX {
            cache.entries.retain(|_, id| now <= id.expires_at.saturating_add(LEEWAY_SECONDS));
            if cache.entries.len() >= CACHE_ENTRIES_MAX {
                cache.entries.clear();
            }
        }
        cache.entries.insert(digest, identity.clone());
    }

    /// Tokens currently cached (tests).
    pub fn cached_entries(&self) -> usize {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).entries.len()
    }
}

fn read_jwks(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(JWKS_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() > JWKS_BYTES_MAX {
        return Err(format!("{}: larger than {JWKS_BYTES_MAX} bytes", path.display()));
    }
    Ok(bytes)
}

/// The watcher thread: polls the file until the verifier is gone. Reads a small local file
/// once a second, which costs nothing next to a verification; comparing bytes (not mtimes)
/// catches a rewrite within the same second.
fn watch(verifier: Weak<Verifier>, path: PathBuf, mut last: Vec<u8>) {
    let mut last_error = String::new();
    loop {
        std::thread::sleep(JWKS_POLL_INTERVAL);
        let Some(verifier) = verifier.upgrade() else { return };
        let bytes = match read_jwks(&path) {
            Ok(bytes) => bytes,
            Err(error) => {
                if error != last_error {
                    tracing::error!(jwks = %path.display(), %error, "cannot read the JWKS; keeping the current keys");
                    last_error = error;
                }
                continue;
            }
        };
        if bytes == last {
            continue;
        }
        last = bytes;
        match KeySet::parse(&last) {
            Ok(keys) => {
                for skipped in &keys.skipped {
                    tracing::warn!(jwks = %path.display(), skipped, "JWKS key skipped");
                }
                tracing::info!(jwks = %path.display(), kids = ?keys.kids(), "JWKS reloaded");
                verifier.set_keys(keys);
                last_error.clear();
            }
            Err(error) => {
                tracing::error!(jwks = %path.display(), %error, "the changed JWKS is unusable; keeping the current keys");
                last_error = error;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_forms() {
        let reason = |header: Option<&[u8]>| match bearer_token(header) {
            Ok(_) => "ok",
            Err(Error::Unauthenticated { reason, .. }) => reason,
            Err(_) => "other",
        };
        assert_eq!(reason(None), "TOKEN_MISSING");
        assert_eq!(reason(Some(b"Bearer a.b.c")), "ok");
        assert_eq!(reason(Some(b"bearer a.b.c")), "ok");
        assert_eq!(reason(Some(b"Basic YWxhZGRpbjpvcGVuc2VzYW1l")), "TOKEN_MALFORMED");
        assert_eq!(reason(Some(b"Bearer")), "TOKEN_MALFORMED");
        assert_eq!(reason(Some(b"Bearer ")), "TOKEN_MALFORMED");
        assert_eq!(reason(Some(b"Bearer a.b")), "TOKEN_MALFORMED");
        assert_eq!(reason(Some(b"Bearer a.b.c\xff")), "TOKEN_MALFORMED");
        assert_eq!(reason(Some(b"Bearer a b.c.d")), "TOKEN_MALFORMED");
        let long = format!("Bearer a.b.{}", "c".repeat(TOKEN_BYTES_MAX));
        assert_eq!(reason(Some(long.as_bytes())), "TOKEN_MALFORMED");
    }

    #[test]
    fn claims_become_an_identity() {
        let claims = serde_json::json!({
            "sub": "0b8e-41", "exp": 2_000_000_000u64, "typ": "Bearer",
            "scope": "openid equipmatch.read email equipmatch.stock",
            "scp": ["equipmatch.drill"],
            "equipmatch_supplier": ["sup-1", "sup-1", "sup-2"],
        });
        let identity = identity(&claims).unwrap();
        assert_eq!(identity.scopes.to_claim(), "equipmatch.read equipmatch.drill equipmatch.stock");
        assert_eq!(identity.suppliers.len(), 2);
        assert_eq!(identity.expires_at, 2_000_000_000);
        let one = identity_of(
            serde_json::json!({"sub": "a", "equipmatch_supplier": "sup-1", "scp": "equipmatch.admin"}),
        );
        assert_eq!(one.unwrap().suppliers[0].as_str(), "sup-1");
    }

    fn identity_of(claims: Value) -> Result<Identity, Error> {
        identity(&claims)
    }

    #[test]
    fn odd_claims_are_refused() {
        for claims in [
            serde_json::json!({"sub": ""}),
            serde_json::json!({"sub": 42}),
            serde_json::json!({"sub": "has space"}),
            serde_json::json!({"sub": "工程师"}),
            serde_json::json!({"sub": "x".repeat(SUB_BYTES_MAX + 1)}),
            serde_json::json!({"sub": "a", "typ": "ID"}),
            serde_json::json!({"sub": "a", "typ": "Refresh"}),
            serde_json::json!({"sub": "a", "scope": ["equipmatch.read", 3]}),
            serde_json::json!({"sub": "a", "scope": 7}),
            serde_json::json!({"sub": "a", "equipmatch_supplier": "bad id"}),
            serde_json::json!({"sub": "a", "equipmatch_supplier": {"id": "sup-1"}}),
            serde_json::json!({"sub": "a", "equipmatch_supplier": vec!["s"; SUPPLIER_CLAIM_IDS_MAX + 1]}),
        ] {
            assert!(
                matches!(
                    identity_of(claims.clone()),
                    Err(Error::Unauthenticated { reason: "CLAIM_INVALID", .. })
                ),
                "{claims}"
            );
        }
    }

    #[test]
    fn header_algorithm_is_decided_before_any_key() {
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let reason = |h: Value| match header(&format!("{}.e30.", b64(h))) {
            Ok(_) => "ok",
            Err(Error::Unauthenticated { reason, .. }) => reason,
            Err(_) => "other",
        };
        assert_eq!(reason(serde_json::json!({"alg": "none"})), "ALGORITHM_REFUSED");
        assert_eq!(reason(serde_json::json!({"alg": "HS256", "kid": "k"})), "ALGORITHM_REFUSED");
        assert_eq!(reason(serde_json::json!({"alg": "PS256", "kid": "k"})), "ALGORITHM_REFUSED");
        assert_eq!(reason(serde_json::json!({"alg": "RS256"})), "KEY_UNKNOWN");
        assert_eq!(
            reason(serde_json::json!({"alg": "RS256", "kid": "k", "typ": "JWE"})),
            "TOKEN_MALFORMED"
        );
        assert_eq!(reason(serde_json::json!({"alg": "EdDSA", "kid": "k", "typ": "at+jwt"})), "ok");
    }
}
