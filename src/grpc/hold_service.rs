//! HoldService: handlers validate, hand one command to the hold store, convert. A handler
//! never runs a transaction itself: the store has queued the command before the first `.await`,
//! so a handler dropped at its deadline leaves the command to complete or roll back whole.

use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};

use super::pb::hold_service_server::HoldService;
use super::{convert, finish, pb};
use crate::catalog::Catalog;
use crate::error::Error;
use crate::holds::{Command, HoldStore};

#[derive(Debug, Clone)]
pub struct HoldApi {
    pub catalog: Arc<Catalog>,
    pub store: Arc<dyn HoldStore>,
}

impl HoldApi {
    async fn run(&self, command: Result<Command, Error>) -> Result<crate::holds::Outcome, Error> {
        self.store.execute(command?).await
    }
}

#[tonic::async_trait]
impl HoldService for HoldApi {
    async fn place_hold(
        &self,
        request: Request<pb::PlaceHoldRequest>,
    ) -> Result<Response<pb::PlaceHoldResponse>, Status> {
        let started = Instant::now();
        let caller = convert::caller(&request);
        let command = convert::place_hold(&self.catalog, request.get_ref())
            .map(|hold| Command::Place { hold, caller });
        let result = self.run(command).await.and_then(convert::expect_hold);
        finish("PlaceHold", started, result.map(|hold| pb::PlaceHoldResponse { hold: Some(hold) }))
    }

    async fn confirm_hold(
        &self,
        request: Request<pb::ConfirmHoldRequest>,
    ) -> Result<Response<pb::ConfirmHoldResponse>, Status> {
        let started = Instant::now();
        let caller = convert::caller(&request);
        let command = convert::hold_id(&request.get_ref().hold_id)
            .map(|hold_id| Command::Confirm { hold_id, caller });
        let result = self.run(command).await.and_then(convert::expect_hold);
        finish(
            "ConfirmHold",
            started,
            result.map(|hold| pb::ConfirmHoldResponse { hold: Some(hold) }),
        )
    }

    async fn release_hold(
        &self,
        request: Request<pb::ReleaseHoldRequest>,
    ) -> Result<Response<pb::ReleaseHoldResponse>, Status> {
        let started = Instant::now();
        let caller = convert::caller(&request);
        let command = convert::hold_id(&request.get_ref().hold_id)
            .map(|hold_id| Command::Release { hold_id, caller });
        let result = self.run(command).await.and_then(convert::expect_hold);
        finish(
            "ReleaseHold",
            started,
            result.map(|hold| pb::ReleaseHoldResponse { hold: Some(hold) }),
        )
    }

    async fn get_hold(
        &self,
        request: Request<pb::GetHoldRequest>,
    ) -> Result<Response<pb::GetHoldResponse>, Status> {
        let started = Instant::now();
        let command =
            convert::hold_id(&request.get_ref().hold_id).map(|hold_id| Command::Get { hold_id });
        let result = self.run(command).await.and_then(convert::expect_hold);
        finish("GetHold", started, result.map(|hold| pb::GetHoldResponse { hold: Some(hold) }))
    }

    async fn list_holds(
        &self,
        request: Request<pb::ListHoldsRequest>,
    ) -> Result<Response<pb::ListHoldsResponse>, Status> {
        let started = Instant::now();
        let command = convert::list_holds(request.get_ref()).map(Command::List);
        let result = self.run(command).await.and_then(convert::list_holds_response);
        finish("ListHolds", started, result)
    }

    async fn update_stock(
        &self,
        request: Request<pb::UpdateStockRequest>,
    ) -> Result<Response<pb::UpdateStockResponse>, Status> {
        let started = Instant::now();
        let suppliers: Vec<&str> =
            request.get_ref().lines.iter().map(|line| line.supplier_id.as_str()).collect();
        let checked = convert::may_update_stock(&request, &suppliers)
            .and_then(|()| convert::update_stock(&self.catalog, request.get_ref()))
            .map(|lines| (convert::stock_caller(&request, &lines), lines));
        let result = match checked {
            Ok((caller, lines)) => self
                .store
                .execute(Command::UpdateStock { lines: lines.clone(), caller })
                .await
                .and_then(|outcome| convert::update_stock_response(&lines, outcome)),
            Err(error) => Err(error),
        };
        finish("UpdateStock", started, result)
    }
}
