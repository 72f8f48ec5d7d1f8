//! The options every client subcommand shares: the bearer token (`--token FILE`, or the
//! `EQUIPMATCH_TOKEN` environment variable) and TLS (`--ca`, `--client-cert`, `--client-key`).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::grpc::client::Credentials;

/// The environment variable that holds a bearer token when `--token` is not given.
pub const TOKEN_ENV: &str = "EQUIPMATCH_TOKEN";
/// The largest token, certificate or key file read (bytes).
const CREDENTIAL_FILE_BYTES_MAX: u64 = 1024 * 1024;

#[derive(Debug, Args, Clone, Default)]
pub struct ConnectArgs {
    /// File holding a bearer token (a JWT); without it, the EQUIPMATCH_TOKEN variable's value.
    #[arg(long, global = true, value_name = "FILE")]
    pub token: Option<PathBuf>,
    /// CA certificate (PEM) to trust for an https:// server (default: the system's roots).
    #[arg(long, global = true, value_name = "PEM")]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM), for a server that requires mutual TLS.
    #[arg(long, global = true, value_name = "PEM", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// Client private key (PEM), with --client-cert.
    #[arg(long, global = true, value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(CREDENTIAL_FILE_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > CREDENTIAL_FILE_BYTES_MAX {
        return Err(format!("{} is larger than {CREDENTIAL_FILE_BYTES_MAX} bytes", path.display()));
    }
    Ok(bytes)
}

impl ConnectArgs {
    /// Reads the files the options name.
    pub fn credentials(&self) -> Result<Credentials, String> {
        let token = match &self.token {
            Some(path) => {
                let bytes = read(path)?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("{} is not text", path.display()))?;
                Some(text.trim().to_owned())
            }
            None => std::env::var(TOKEN_ENV).ok().map(|token| token.trim().to_owned()),
        };
        let token = token.filter(|token| !token.is_empty());
        let ca_pem = self.ca.as_deref().map(read).transpose()?;
        let client_identity = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
            _ => None,
        };
        Ok(Credentials { token, ca_pem, client_identity })
    }
}
