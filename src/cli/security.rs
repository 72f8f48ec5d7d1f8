//! `serve`'s security options (TLS, bearer tokens) and the secure default: without `--jwks`
//! the service only listens on loopback, unless the operator says `--insecure-no-auth`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::auth::{Verifier, VerifierConfig};
use crate::grpc::{Security, TlsPem};

/// The largest certificate or key file read (bytes).
const PEM_FILE_BYTES_MAX: u64 = 1024 * 1024;

#[derive(Debug, Args, Clone, Default)]
pub struct SecurityArgs {
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS: clients must present a certificate issued by this CA (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Require bearer tokens signed by a key of this JWKS file (re-read when it changes);
    /// needs --issuer and --audience.
    #[arg(long, value_name = "FILE", requires_all = ["issuer", "audience"])]
    pub jwks: Option<PathBuf>,
    /// The exact `iss` tokens must carry (e.g. https://sso.example.cn/realms/emergency).
    #[arg(long, requires = "jwks")]
    pub issuer: Option<String>,
    /// A value the tokens' `aud` must contain.
    #[arg(long, requires = "jwks")]
    pub audience: Option<String>,
    /// Serve without authentication on a non-loopback address: anyone who reaches the port
    /// may change stock and holds. For a network you trust completely.
    #[arg(long, conflicts_with = "jwks")]
    pub insecure_no_auth: bool,
    /// Do not serve gRPC server reflection. It shows the contract's schema (never data) to
    /// anyone who reaches the port, with or without a token, as health does.
    #[arg(long)]
    pub no_reflection: bool,
}

/// What `serve` must say before it starts, or why it must not start.
#[derive(Debug, PartialEq, Eq)]
pub enum Exposure {
    Fine,
    Warn(String),
}

impl SecurityArgs {
    /// The secure default, decided before anything is loaded, over every listener that
    /// serves the service stack (the gRPC port and the console).
    pub fn exposure(&self, listeners: &[SocketAddr]) -> Result<Exposure, String> {
        let exposed: Vec<String> = listeners
            .iter()
            .filter(|addr| !addr.ip().to_canonical().is_loopback())
            .map(ToString::to_string)
            .collect();
        if exposed.is_empty() {
            return Ok(Exposure::Fine);
        }
        let exposed = exposed.join(" and ");
        match &self.jwks {
            None if self.insecure_no_auth => Ok(Exposure::Warn(format!(
                "serving WITHOUT authentication on {exposed} (--insecure-no-auth): anyone who can \
                 reach it may set stock and place, confirm or release holds"
            ))),
            None => Err(format!(
                "refusing to serve without authentication on {exposed}, not a loopback \
                 address: anyone who can reach it could set stock and place, confirm or release \
                 holds.\nSecure it with tokens from your identity provider (or from `equipmatch \
                 token keygen` / `token issue`) and TLS:\n  equipmatch serve --listen ADDR \
                 --jwks JWKS.json --issuer ISSUER --audience AUDIENCE --tls-cert CERT.pem \
                 --tls-key KEY.pem\nor listen on loopback addresses only (127.0.0.1:PORT, and \
                 --console 127.0.0.1:PORT or off), or, on a network you trust completely, add \
                 --insecure-no-auth"
            )),
            Some(_) if self.tls_cert.is_none() => Ok(Exposure::Warn(format!(
                "bearer tokens will travel in the clear to {exposed}: add --tls-cert and --tls-key"
            ))),
            Some(_) => Ok(Exposure::Fine),
        }
    }

    /// Reads the certificate files and the JWKS (starting its watcher).
    pub fn load(&self) -> Result<Security, String> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsPem {
                cert: read(cert)?,
                key: read(key)?,
                client_ca: self.tls_client_ca.as_deref().map(read).transpose()?,
            }),
            _ => None,
        };
        let verifier = match (&self.jwks, &self.issuer, &self.audience) {
            (Some(jwks), Some(issuer), Some(audience)) => {
                let config = VerifierConfig { issuer: issuer.clone(), audience: audience.clone() };
                Some(Verifier::watching(config, jwks)?)
            }
            _ => None,
        };
        Ok(Security { tls, verifier })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(PEM_FILE_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > PEM_FILE_BYTES_MAX {
        return Err(format!("{} is larger than {PEM_FILE_BYTES_MAX} bytes", path.display()));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_open_by_default() {
        let open = SecurityArgs::default();
        let at = |addr: &str| addr.parse::<SocketAddr>().unwrap();
        let fine = |args: &SecurityArgs, addrs: &[&str]| {
            args.exposure(&addrs.iter().map(|a| at(a)).collect::<Vec<_>>())
        };
        assert_eq!(fine(&open, &["127.0.0.1:50051", "127.0.0.1:8080"]), Ok(Exposure::Fine));
        assert_eq!(fine(&open, &["[::1]:50051"]), Ok(Exposure::Fine));
        assert_eq!(fine(&open, &["[::ffff:127.0.0.1]:50051"]), Ok(Exposure::Fine));
        assert!(fine(&open, &["0.0.0.0:50051"]).is_err());
        assert!(fine(&open, &["[::]:50051"]).is_err());
        assert!(fine(&open, &["10.1.2.3:50051"]).is_err());
        // The console serves the same stack: exposing it alone is exposing the service.
        assert!(fine(&open, &["127.0.0.1:50051", "0.0.0.0:8080"]).is_err());
        let insecure = SecurityArgs { insecure_no_auth: true, ..SecurityArgs::default() };
        assert!(matches!(fine(&insecure, &["0.0.0.0:1"]), Ok(Exposure::Warn(_))));
        let tokens = SecurityArgs { jwks: Some("j".into()), ..SecurityArgs::default() };
        assert!(matches!(fine(&tokens, &["0.0.0.0:1"]), Ok(Exposure::Warn(_))));
        let secured = SecurityArgs { tls_cert: Some("c".into()), ..tokens };
        assert_eq!(fine(&secured, &["0.0.0.0:1", "0.0.0.0:2"]), Ok(Exposure::Fine));
    }
}
