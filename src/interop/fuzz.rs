//! Fuzz target bodies (the `fuzz/` crate's targets call these; tests replay corpora through
//! them without a fuzzer). A body must never panic, whatever the bytes.

use std::sync::OnceLock;

use crate::catalog::Catalog;

/// Bytes through the CAP reader; every accepted alert through the incident mapping on the
/// embedded catalog (the Match itself is left out: it is the engine's, fuzzed by its own tests).
pub fn cap_reader(data: &[u8]) {
    static CATALOG: OnceLock<Option<Catalog>> = OnceLock::new();
    let Ok(found) = super::cap::read_document(data) else { return };
    let Some(catalog) = CATALOG.get_or_init(|| Catalog::embedded().ok()) else { return };
    for found in found {
        if let Ok(alert) = found.alert {
            let _ = super::incidents::incidents(catalog, &alert);
        }
    }
}
