//! Integration tests, one binary (ripgrep's layout): the real server on 127.0.0.1:0 through the
//! generated tonic client, holds on a durable store, and the catalog loader on the shipped files
//! and on broken fixtures.

mod auth;
mod catalog;
mod console;
mod crash;
mod drill;
mod engine;
mod fuzz;
mod grounded;
mod grpc;
mod holders;
mod holds;
mod holds_pg;
mod interop;
mod overload;
mod quantities;
mod support;
mod tidy;
