//! The JWKS file: the identity provider's public signing keys, by `kid`. Only RS256, ES256
//! (P-256) and EdDSA (Ed25519) signing keys are taken; encryption keys, symmetric (`oct`)
//! keys and other algorithms are skipped, so no HMAC key ever exists to be confused with a
//! public one. Key sizes are checked here, before a verifier ever sees the bytes.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// The largest JWKS file read (bytes). Keycloak's has 2–4 keys with certificates (~3 KiB).
pub const JWKS_BYTES_MAX: usize = 64 * 1024;
/// The most signing keys a JWKS may hold (a rotation keeps two or three).
pub const JWKS_KEYS_MAX: usize = 32;
/// RSA moduli accepted (bits): below 2048 is breakable, above 4096 the verifier refuses.
pub const RSA_BITS_MIN: usize = 2048;
pub const RSA_BITS_MAX: usize = 4096;
/// The longest `kid` kept (bytes).
pub const KID_BYTES_MAX: usize = 256;

/// The signature algorithms accepted. `none` and every HMAC algorithm are absent on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    /// The algorithm a JWS header names; `None` for anything else (`none`, `HS256`, `PS256`…).
    pub fn from_header(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::RS256),
            "ES256" => Some(Alg::ES256),
            "EdDSA" => Some(Alg::EdDSA),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn jsonwebtoken(self) -> Algorithm {
        match self {
            Alg::RS256 => Algorithm::RS256,
            Alg::ES256 => Algorithm::ES256,
            Alg::EdDSA => Algorithm::EdDSA,
        }
    }
}

/// One usable signing key.
#[derive(Clone)]
pub struct Key {
    pub kid: String,
    pub alg: Alg,
    pub decoding: DecodingKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("kid", &self.kid).field("alg", &self.alg).finish()
    }
}

/// The usable keys of a JWKS, and what was skipped and why (for the log).
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    pub skipped: Vec<String>,
}

/// base64url as JWKs use it; padding tolerated (some providers pad).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl KeySet {
    /// Parses a JWKS document. Fails when it is not one, holds no usable signing key, holds
    /// two usable keys with one `kid`, or more than `JWKS_KEYS_MAX` keys.
    pub fn parse(bytes: &[u8]) -> Result<KeySet, String> {
        if bytes.len() > JWKS_BYTES_MAX {
            return Err(format!("the JWKS is larger than {JWKS_BYTES_MAX} bytes"));
        }
        let document: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
        let Some(entries) = document.get("keys").and_then(Value::as_array) else {
            return Err("the JWKS has no \"keys\" array".into());
        };
        if entries.len() > JWKS_KEYS_MAX {
            return Err(format!("the JWKS has {} keys; at most {JWKS_KEYS_MAX}", entries.len()));
        }
        let mut set = KeySet::default();
        for (i, entry) in entries.iter().enumerate() {
            match usable_key(entry) {
                Ok(Some(key)) => {
                    if set.keys.iter().any(|k| k.kid == key.kid) {
                        return Err(format!("two signing keys have the kid {:?}", key.kid));
                    }
                    set.keys.push(key);
                }
                Ok(None) => {}
                Err(reason) => set.skipped.push(format!("keys[{i}]: {reason}")),
            }
        }
        if set.keys.is_empty() {
            return Err(format!(
                "the JWKS has no usable RS256, ES256 or EdDSA signing key ({})",
                if set.skipped.is_empty() {
                    "none at all".to_owned()
                } else {
                    set.skipped.join("; ")
                }
            ));
        }
        Ok(set)
    }

    pub fn get(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|key| key.kid.as_str()).collect()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A signing key we can use, `None` for a key that is not for signatures (`"use": "enc"`),
/// or an error saying why a would-be signing key is unusable.
fn usable_key(entry: &Value) -> Result<Option<Key>, String> {
    let text = |name: &str| entry.get(name).and_then(Value::as_str);
    if text("use") == Some("enc") {
        return Ok(None);
    }
    let kid = match text("kid") {
        Some(kid) if !kid.is_empty() && kid.len() <= KID_BYTES_MAX => kid.to_owned(),
        _ => return Err(format!("no kid (1 to {KID_BYTES_MAX} bytes)")),
    };
    let declared = text("alg");
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        let value = text(name).ok_or_else(|| format!("{kid:?}: no {name:?}"))?;
        B64URL.decode(value).map_err(|_| format!("{kid:?}: {name:?} is not base64url"))
    };
    let (alg, decoding) = match (text("kty"), text("crv")) {
        (Some("RSA"), _) => {
            if declared.is_some_and(|alg| alg != "RS256") {
                return Err(format!("{kid:?}: RSA key for {declared:?}, not RS256"));
            }
            let n = bytes("n")?;
            let e = bytes("e")?;
            let n = strip_leading_zeros(&n);
            let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
            if !(RSA_BITS_MIN..=RSA_BITS_MAX).contains(&bits) {
                return Err(format!(
                    "{kid:?}: RSA modulus of {bits} bits; {RSA_BITS_MIN} to {RSA_BITS_MAX} accepted"
                ));
            }
            let e = strip_leading_zeros(&e);
            if e.is_empty() || e.len() > 8 || e.last().is_some_and(|b| b % 2 == 0) || e == [1] {
                return Err(format!("{kid:?}: RSA exponent is not an odd number above 1"));
            }
            (Alg::RS256, DecodingKey::from_rsa_raw_components(n, e))
        }
        (Some("EC"), Some("P-256")) => {
            if declared.is_some_and(|alg| alg != "ES256") {
                return Err(format!("{kid:?}: P-256 key for {declared:?}, not ES256"));
            }
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err(format!("{kid:?}: P-256 coordinates must be 32 bytes each"));
            }
            let point: Vec<u8> = [&[0x04u8][..], &x, &y].concat();
            (Alg::ES256, DecodingKey::from_ec_der(&point))
        }
        (Some("OKP"), Some("Ed25519")) => {
            if declared.is_some_and(|alg| alg != "EdDSA" && alg != "Ed25519") {
                return Err(format!("{kid:?}: Ed25519 key for {declared:?}, not EdDSA"));
            }
            // The verifier slices the first 32 bytes: anything else must not reach it.
            let x = bytes("x")?;
            if x.len() != 32 {
                return Err(format!("{kid:?}: an Ed25519 public key is 32 bytes"));
            }
            (Alg::EdDSA, DecodingKey::from_ed_der(&x))
        }
        (kty, crv) => {
            return Err(format!(
                "{kid:?}: key type {} is not an RS256, ES256 or EdDSA signing key",
                match (kty, crv) {
                    (Some(kty), Some(crv)) => format!("{kty}/{crv}"),
                    (Some(kty), None) => kty.to_owned(),
                    _ => "(none)".to_owned(),
                }
            ))
        }
    };
    Ok(Some(Key { kid, alg, decoding }))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn ed_key(kid: &str, x_len: usize) -> Value {
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(&vec![7; x_len])})
    }

    #[test]
    fn takes_signing_keys_and_skips_the_rest() {
        let jwks = serde_json::json!({"keys": [
            ed_key("a", 32),
            {"kty": "oct", "kid": "h", "k": b64(b"secret")},
            {"kty": "RSA", "kid": "enc", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
            {"kty": "EC", "crv": "P-256", "kid": "p256", "alg": "ES256", "x": b64(&[1; 32]), "y": b64(&[2; 32])},
        ]});
        let set = KeySet::parse(jwks.to_string().as_bytes()).unwrap();
        assert_eq!(set.kids(), ["a", "p256"]);
        assert_eq!(set.get("p256").unwrap().alg, Alg::ES256);
        assert!(set.get("h").is_none(), "an HMAC key must never be usable");
        assert_eq!(set.skipped.len(), 2, "{:?}", set.skipped); // oct and P-384; enc silently
    }

    #[test]
    fn refuses_what_cannot_be_used_safely() {
        let parse = |v: Value| KeySet::parse(v.to_string().as_bytes());
        assert!(parse(serde_json::json!({"keys": []})).is_err());
        assert!(parse(serde_json::json!({"nokeys": 1})).is_err());
        assert!(parse(serde_json::json!({"keys": [ed_key("a", 32), ed_key("a", 32)]})).is_err());
        // A short Ed25519 key would make the verifier slice out of bounds: skipped here.
        assert!(parse(serde_json::json!({"keys": [ed_key("short", 31)]})).is_err());
        let small_rsa =
            serde_json::json!({"kty": "RSA", "kid": "r", "n": b64(&[0xff; 128]), "e": "AQAB"});
        assert!(parse(serde_json::json!({"keys": [small_rsa]})).is_err());
        let even_e =
            serde_json::json!({"kty": "RSA", "kid": "r", "n": b64(&[0xff; 256]), "e": "AQAC"});
        assert!(parse(serde_json::json!({"keys": [even_e]})).is_err());
        let mislabelled = serde_json::json!({"kty": "RSA", "kid": "r", "alg": "HS256", "n": b64(&[0xff; 256]), "e": "AQAB"});
        assert!(parse(serde_json::json!({"keys": [mislabelled]})).is_err());
        assert!(KeySet::parse(&vec![b' '; JWKS_BYTES_MAX + 1]).is_err());
        let too_many: Vec<Value> =
            (0..=JWKS_KEYS_MAX).map(|i| ed_key(&i.to_string(), 32)).collect();
        assert!(parse(serde_json::json!({ "keys": too_many })).is_err());
    }
}
