//! MatchService: Match for dispatch, Shortlist for procurement. Handlers validate, call the
//! pure engine on the hold store's latest snapshot of held stock, convert.

use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};

use super::pb::match_service_server::MatchService;
use super::{convert, finish, metrics, pb};
use crate::catalog::Catalog;
use crate::holds::HoldStore;
use crate::matching;

#[derive(Debug, Clone)]
pub struct MatchApi {
    pub catalog: Arc<Catalog>,
    /// Availability is net of the holds this snapshot reports (one cheap `Arc` clone a call).
    pub holds: Arc<dyn HoldStore>,
}

#[tonic::async_trait]
impl MatchService for MatchApi {
    async fn r#match(
        &self,
        request: Request<pb::MatchRequest>,
    ) -> Result<Response<pb::MatchResponse>, Status> {
        let started = Instant::now();
        let result = convert::match_query(&self.catalog, request.get_ref()).map(|query| {
            let held = self.holds.held();
            let result = matching::match_incident(&self.catalog, &*held, &query);
            metrics::count_searches_cut("Match", result.searches_cut());
            convert::match_response(&self.catalog, &result, request.get_ref().view())
        });
        finish("Match", started, result)
    }

    async fn shortlist(
        &self,
        request: Request<pb::ShortlistRequest>,
    ) -> Result<Response<pb::ShortlistResponse>, Status> {
        let started = Instant::now();
        let result = convert::shortlist_query(&self.catalog, request.get_ref()).map(|query| {
            let held = self.holds.held();
            let result = matching::shortlist(&self.catalog, &*held, &query);
            metrics::count_searches_cut("Shortlist", usize::from(result.search_cut));
            convert::shortlist_response(&self.catalog, &result)
        });
        finish("Shortlist", started, result)
    }
}
