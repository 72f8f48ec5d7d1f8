//! `equipmatch token keygen` (a signing key and its JWKS) and `token issue` (a signed bearer
//! token), for deployments without an identity provider. The key work is in `auth::keys`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::auth::keys::{self, Grant, SigningKey, KEY_FILE_BYTES_MAX, TOKEN_TTL_SECONDS_MAX};
use crate::auth::{Alg, Scope};
use crate::domain::Id;

/// The files `keygen` writes into its folder.
pub const PRIVATE_KEY_FILE: &str = "signing-key.pem";
pub const JWKS_FILE: &str = "jwks.json";

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a signing key (signing-key.pem, readable by you only) and its JWKS (jwks.json,
    /// for `serve --jwks`).
    Keygen {
        /// Folder to write into (created if missing); existing files are not overwritten.
        #[arg(long)]
        out: PathBuf,
        /// EdDSA (Ed25519) or ES256 (P-256).
        #[arg(long, default_value = "EdDSA", value_parser = parse_alg)]
        alg: Alg,
    },
    /// Sign a bearer token; prints it on stdout.
    Issue {
        /// The private key from `token keygen`.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Who the token is for (its `sub`, recorded in the audit trail).
        #[arg(long)]
        sub: String,
        /// A scope (repeatable, or space-separated): equipmatch.read, equipmatch.drill,
        /// equipmatch.dispatch, equipmatch.stock, equipmatch.admin.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// A supplier whose stock an equipmatch.stock token may set (repeatable).
        #[arg(long = "supplier")]
        suppliers: Vec<String>,
        /// Lifetime: seconds, or with a unit (90s, 30m, 8h, 7d); at most 31 days.
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: u64,
        /// The `iss` claim: what the server's --issuer says.
        #[arg(long)]
        issuer: String,
        /// The `aud` claim: what the server's --audience says.
        #[arg(long)]
        audience: String,
    },
}

fn parse_alg(text: &str) -> Result<Alg, String> {
    match text {
        "EdDSA" | "eddsa" | "ed25519" => Ok(Alg::EdDSA),
        "ES256" | "es256" => Ok(Alg::ES256),
        _ => Err(format!("{text:?}: keygen makes EdDSA or ES256 keys")),
    }
}

/// `8h` → 28800. Units s, m, h, d; a bare number is seconds.
pub fn parse_ttl(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| format!("{text:?} is not a duration like 8h"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    let seconds = n.checked_mul(factor).filter(|s| (1..=TOKEN_TTL_SECONDS_MAX).contains(s));
    seconds.ok_or_else(|| {
        format!("{text:?}: a lifetime from 1 s to {} days", TOKEN_TTL_SECONDS_MAX / 86400)
    })
}

pub fn run(command: TokenCommand) -> ExitCode {
    let result = match command {
        TokenCommand::Keygen { out, alg } => keygen(&out, alg),
        TokenCommand::Issue { key, sub, scopes, suppliers, ttl, issuer, audience } => {
            issue(&key, sub, &scopes, &suppliers, ttl, issuer, audience)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn keygen(out: &Path, alg: Alg) -> Result<(), String> {
    let generated = keys::generate(alg)?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let key_path = out.join(PRIVATE_KEY_FILE);
    let jwks_path = out.join(JWKS_FILE);
    for path in [&key_path, &jwks_path] {
        if path.exists() {
            return Err(format!("{} exists; not overwriting a key", path.display()));
        }
    }
    write_private(&key_path, generated.private_pem.as_bytes())?;
    std::fs::write(&jwks_path, &generated.jwks)
        .map_err(|e| format!("cannot write {}: {e}", jwks_path.display()))?;
    println!(
        "wrote {} (private: keep it secret) and {} (public: serve --jwks), kid {}",
        key_path.display(),
        jwks_path.display(),
        generated.kid
    );
    Ok(())
}

/// Creates the private-key file readable and writable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn issue(
    key: &Path,
    sub: String,
    scopes: &[String],
    suppliers: &[String],
    ttl_seconds: u64,
    issuer: String,
    audience: String,
) -> Result<(), String> {
    use std::io::Read;
    let mut pem = Vec::new();
    std::fs::File::open(key)
        .and_then(|file| file.take(KEY_FILE_BYTES_MAX as u64 + 1).read_to_end(&mut pem))
        .map_err(|e| format!("cannot read {}: {e}", key.display()))?;
    let key = SigningKey::from_pem(&pem).map_err(|e| format!("{}: {e}", key.display()))?;
    let mut granted = Vec::new();
    for name in scopes.iter().flat_map(|s| s.split_ascii_whitespace()) {
        let scope = Scope::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown scope {name:?}; known: {}", known.join(", "))
        })?;
        if !granted.contains(&scope) {
            granted.push(scope);
        }
    }
    let suppliers = suppliers
        .iter()
        .map(|id| Id::parse(id).map_err(|e| format!("--supplier: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let grant = Grant { issuer, audience, sub, scopes: granted, suppliers, ttl_seconds };
    println!("{}", key.issue(&grant, crate::auth::unix_now())?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(parse_ttl("8h"), Ok(28800));
        assert_eq!(parse_ttl("90"), Ok(90));
        assert_eq!(parse_ttl("30m"), Ok(1800));
        assert_eq!(parse_ttl("31d"), Ok(31 * 86400));
        for bad in ["", "0", "32d", "8x", "h", "-1h", "99999999999999999999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
