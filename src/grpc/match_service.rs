//! MatchService: Match for dispatch, Shortlist for procurement. Handlers validate, admit the
//! engine call to the pool (with the caller's deadline), await it, and finish: the engine and
//! the conversion of its answer run on the pool's threads, never on the async runtime.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::pb::match_service_server::MatchService;
use super::{admission, convert, pb};
use crate::catalog::Catalog;
use crate::exec::{Engine, Work};
use crate::holds::HoldStore;
use crate::{matching, metrics};

#[derive(Debug, Clone)]
pub struct MatchApi {
    pub catalog: Arc<Catalog>,
    /// Availability is net of the holds this snapshot reports (one cheap `Arc` clone a call).
    pub holds: Arc<dyn HoldStore>,
    pub engine: Arc<Engine>,
}

#[tonic::async_trait]
impl MatchService for MatchApi {
    async fn r#match(
        &self,
        request: Request<pb::MatchRequest>,
    ) -> Result<Response<pb::MatchResponse>, Status> {
        let mut call = admission::Call::start("Match", &request);
        // Validated here, so a bad request is answered at once and never queued. The query
        // borrows its scenario from the catalog and cannot travel to a pool thread, so the job
        // converts the (valid) request again against its own `Arc<Catalog>`: microseconds.
        let result = match convert::match_query(&self.catalog, request.get_ref()) {
            Ok(_) => {
                let (catalog, holds) = (self.catalog.clone(), self.holds.clone());
                let request = request.into_inner();
                call.run(&self.engine, Work::Match, move || {
                    let query = convert::match_query(&catalog, &request)?;
                    let held = holds.held();
                    let result = matching::match_incident(&catalog, &*held, &query);
                    metrics::searches_cut("Match", result.searches_cut());
                    Ok(convert::match_response_as(&catalog, &result, request.view()))
                })
                .await
                .and_then(|answer| answer)
            }
            Err(error) => Err(error),
        };
        call.finish(result)
    }

    async fn shortlist(
        &self,
        request: Request<pb::ShortlistRequest>,
    ) -> Result<Response<pb::ShortlistResponse>, Status> {
        let mut call = admission::Call::start("Shortlist", &request);
        let result = match convert::shortlist_query(&self.catalog, request.get_ref()) {
            Ok(query) => {
                let (catalog, holds) = (self.catalog.clone(), self.holds.clone());
                call.run(&self.engine, Work::Shortlist, move || {
                    let held = holds.held();
                    let result = matching::shortlist(&catalog, &*held, &query);
                    metrics::searches_cut("Shortlist", usize::from(result.search_cut));
                    convert::shortlist_response(&catalog, &result)
                })
                .await
            }
            Err(error) => Err(error),
        };
        call.finish(result)
    }
}
