//! The shared hold store for several replicas: PostgreSQL (placeholder until filled in).

use std::sync::Arc;

use super::{Clock, Command, HeldSnapshot, HoldStore, StoreFuture};
use crate::catalog::Catalog;
use crate::error::Error;

#[derive(Debug)]
pub struct PostgresStore {}

impl PostgresStore {
    pub async fn connect(
        _url: &str,
        _catalog: Arc<Catalog>,
        _clock: Clock,
    ) -> Result<PostgresStore, Error> {
        Err(Error::Unavailable("postgres store not built yet".into()))
    }
}

impl HoldStore for PostgresStore {
    fn execute(&self, _command: Command) -> StoreFuture {
        Box::pin(async { Err(Error::Unavailable("postgres store not built yet".into())) })
    }

    fn held(&self) -> Arc<HeldSnapshot> {
        Arc::new(HeldSnapshot::default())
    }
}
