//! Integration tests, one binary (ripgrep's layout): the real server on 127.0.0.1:0 through the
//! generated tonic client, and the catalog loader on the shipped files and on broken fixtures.

mod catalog;
mod drill;
mod grpc;
mod support;
