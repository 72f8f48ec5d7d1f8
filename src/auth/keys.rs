//! Signing keys and tokens for deployments without an identity provider (`equipmatch token
//! keygen` / `token issue`): an Ed25519 or P-256 key made by ring, its JWKS (kid = the RFC 7638
//! thumbprint), and tokens signed by jsonwebtoken in the claim layout the verifier reads.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use super::jwks::Alg;
use super::Scope;
use crate::domain::Id;

/// The longest lifetime `token issue` grants (seconds): a month. Long-lived credentials
/// belong with an identity provider that can revoke them.
pub const TOKEN_TTL_SECONDS_MAX: u64 = 31 * 24 * 3600;
/// The largest private-key file read (bytes).
pub const KEY_FILE_BYTES_MAX: usize = 16 * 1024;

/// A key pair `token keygen` made: the private key as PKCS#8 PEM and the public JWKS.
#[derive(Debug)]
pub struct Generated {
    pub kid: String,
    pub private_pem: String,
    pub jwks: String,
}

/// A private key that signs tokens.
pub struct SigningKey {
    alg: Alg,
    /// The public key as a JWK (with kid, alg and use).
    public_jwk: Value,
    encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("alg", &self.alg).field("kid", &self.kid()).finish()
    }
}

/// Makes a new signing key (EdDSA or ES256; RS256 keys come from an identity provider).
pub fn generate(alg: Alg) -> Result<Generated, String> {
    let rng = SystemRandom::new();
    let pkcs8 = match alg {
        Alg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng),
        Alg::ES256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng),
        Alg::RS256 => {
            return Err(
                "keygen makes EdDSA or ES256 keys; RS256 keys come from your identity provider"
                    .into(),
            )
        }
    }
    .map_err(|_| "the system random source failed".to_owned())?;
    let private_pem = pem("PRIVATE KEY", pkcs8.as_ref());
    let key = SigningKey::from_pem(private_pem.as_bytes())?;
    Ok(Generated { kid: key.kid().to_owned(), jwks: key.jwks(), private_pem })
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside a `PRIVATE KEY` PEM block.
fn pkcs8_der(pem_text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(pem_text).map_err(|_| "the key file is not text".to_owned())?;
    let begin = "-----BEGIN PRIVATE KEY-----";
    let end = "-----END PRIVATE KEY-----";
    let start = text.find(begin).ok_or("the key file has no PKCS#8 `BEGIN PRIVATE KEY` block")?;
    let rest = &text[start + begin.len()..];
    let stop = rest.find(end).ok_or("the PRIVATE KEY block has no END line")?;
    let body: String = rest[..stop].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(body).map_err(|_| "the PRIVATE KEY block is not base64".to_owned())
}

/// The RFC 7638 thumbprint of a public JWK (SHA-256 of its required members, in order).
fn thumbprint(required: &Value) -> String {
    // serde_json's Map keeps keys sorted (no preserve_order feature), as RFC 7638 asks.
    let canonical = required.to_string();
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()))
}

impl SigningKey {
    /// Reads a PKCS#8 PEM private key: Ed25519 (EdDSA) or P-256 (ES256).
    pub fn from_pem(pem_text: &[u8]) -> Result<SigningKey, String> {
        if pem_text.len() > KEY_FILE_BYTES_MAX {
            return Err(format!("the key file is larger than {KEY_FILE_BYTES_MAX} bytes"));
        }
        let der = pkcs8_der(pem_text)?;
        let (alg, required) = if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
            let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
            (Alg::EdDSA, json!({"crv": "Ed25519", "kty": "OKP", "x": x}))
        } else if let Ok(pair) =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
        {
            // Uncompressed point: 0x04 || x (32) || y (32).
            let point = pair.public_key().as_ref();
            let (x, y) = point[1..].split_at(32);
            let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
            (Alg::ES256, json!({"crv": "P-256", "kty": "EC", "x": x, "y": y}))
        } else {
            return Err("the key is neither an Ed25519 nor a P-256 PKCS#8 private key".into());
        };
        let encoding = match alg {
            Alg::EdDSA => EncodingKey::from_ed_der(&der),
            _ => EncodingKey::from_ec_der(&der),
        };
        let kid = thumbprint(&required);
        let mut public_jwk = required;
        if let Value::Object(members) = &mut public_jwk {
            members.insert("kid".into(), Value::String(kid));
            members.insert("alg".into(), Value::String(alg.as_str().into()));
            members.insert("use".into(), Value::String("sig".into()));
        }
        Ok(SigningKey { alg, public_jwk, encoding })
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    pub fn kid(&self) -> &str {
        self.public_jwk.get("kid").and_then(Value::as_str).unwrap_or_default()
    }

    /// The JWKS holding this key's public half, pretty-printed.
    pub fn jwks(&self) -> String {
        let document = json!({ "keys": [self.public_jwk.clone()] });
        serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
    }

    /// Signs a token for `grant`, valid from `now` for `grant.ttl_seconds`.
    pub fn issue(&self, grant: &Grant, now: u64) -> Result<String, String> {
        grant.check()?;
        let mut header = Header::new(self.alg.jsonwebtoken());
        header.kid = Some(self.kid().to_owned());
        header.typ = Some("JWT".into());
        let mut jti = [0u8; 16];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut jti)
            .map_err(|_| "the system random source failed".to_owned())?;
        let mut claims = json!({
            "iss": grant.issuer,
            "aud": grant.audience,
            "sub": grant.sub,
            "iat": now,
            "nbf": now,
            "exp": now + grant.ttl_seconds,
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "typ": "Bearer",
            "scope": grant.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        });
        if !grant.suppliers.is_empty() {
            let suppliers: Vec<&str> = grant.suppliers.iter().map(Id::as_str).collect();
            claims["equipmatch_supplier"] = json!(suppliers);
        }
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| format!("cannot sign: {e}"))
    }
}

/// What a token grants.
#[derive(Debug, Clone)]
pub struct Grant {
    pub issuer: String,
    pub audience: String,
    pub sub: String,
    pub scopes: Vec<Scope>,
    pub suppliers: Vec<Id>,
    pub ttl_seconds: u64,
}

impl Grant {
    fn check(&self) -> Result<(), String> {
        let sub_ok = !self.sub.is_empty()
            && self.sub.len() <= super::SUB_BYTES_MAX
            && self.sub.bytes().all(|b| b.is_ascii_graphic());
        if !sub_ok {
            return Err(format!(
                "--sub must be 1 to {} bytes of printable ASCII without spaces",
                super::SUB_BYTES_MAX
            ));
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err("--issuer and --audience must not be empty".into());
        }
        if self.scopes.is_empty() {
            return Err("a token without a scope grants nothing: give --scope".into());
        }
        if self.ttl_seconds == 0 || self.ttl_seconds > TOKEN_TTL_SECONDS_MAX {
            return Err(format!(
                "--ttl must be between 1 s and {} days",
                TOKEN_TTL_SECONDS_MAX / 86400
            ));
        }
        if self.suppliers.len() > super::SUPPLIER_CLAIM_IDS_MAX {
            return Err(format!("at most {} --supplier", super::SUPPLIER_CLAIM_IDS_MAX));
        }
        if self.scopes.contains(&Scope::Stock) && self.suppliers.is_empty() {
            return Err(
                "equipmatch.stock needs --supplier (the suppliers whose stock it sets)".into()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{KeySet, Verifier, VerifierConfig};

    #[test]
    fn generated_keys_issue_tokens_the_verifier_accepts() {
        for alg in [Alg::EdDSA, Alg::ES256] {
            let generated = generate(alg).unwrap();
            let key = SigningKey::from_pem(generated.private_pem.as_bytes()).unwrap();
            assert_eq!(key.kid(), generated.kid);
            let verifier = Verifier::new(
                VerifierConfig { issuer: "iss".into(), audience: "aud".into() },
                KeySet::parse(generated.jwks.as_bytes()).unwrap(),
            );
            let grant = Grant {
                issuer: "iss".into(),
                audience: "aud".into(),
                sub: "supplier-7-bot".into(),
                scopes: vec![Scope::Stock],
                suppliers: vec![Id::parse("sup-00007").unwrap()],
                ttl_seconds: 600,
            };
            let token = key.issue(&grant, crate::auth::unix_now()).unwrap();
            let identity = verifier.verify(&token).unwrap();
            assert_eq!(identity.sub, "supplier-7-bot");
            assert!(identity.scopes.contains(Scope::Stock));
            assert_eq!(identity.suppliers[0].as_str(), "sup-00007");
        }
    }

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its Ed25519 example key.
        let required = json!({"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(thumbprint(&required), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn grants_are_checked() {
        let key =
            SigningKey::from_pem(generate(Alg::EdDSA).unwrap().private_pem.as_bytes()).unwrap();
        let grant = Grant {
            issuer: "iss".into(),
            audience: "aud".into(),
            sub: "a".into(),
            scopes: vec![Scope::Read],
            suppliers: vec![],
            ttl_seconds: 60,
        };
        assert!(key.issue(&grant, 0).is_ok());
        assert!(key.issue(&Grant { sub: "a b".into(), ..grant.clone() }, 0).is_err());
        assert!(key.issue(&Grant { scopes: vec![], ..grant.clone() }, 0).is_err());
        assert!(key.issue(&Grant { scopes: vec![Scope::Stock], ..grant.clone() }, 0).is_err());
        assert!(key
            .issue(&Grant { ttl_seconds: TOKEN_TTL_SECONDS_MAX + 1, ..grant.clone() }, 0)
            .is_err());
        assert!(SigningKey::from_pem(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        )
        .is_err());
    }
}
