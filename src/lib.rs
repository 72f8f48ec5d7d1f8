//! equipmatch: which equipment a disaster calls for at each stage of the monitoring → protection
//! → rescue chain, and which suppliers of the Beijing–Tianjin–Hebei cluster can deliver it,
//! ranked and explained.
//!
//! Modules in reading order: `domain` (value types) → `catalog` (load, validate, index the
//! files) → `matching` (the pure engine) → `grpc` (the only module that knows tonic/prost) →
//! `cli` (subcommands). `holds` keeps durable stock holds (SQLite or PostgreSQL) and hands the
//! engine a snapshot of held stock; `generator` makes synthetic registries; `error` is the one
//! request error type; `auth` decides who may call what (bearer tokens, scopes).

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod domain;
pub mod drill;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod generator;
pub mod grpc;
pub mod holds;
pub mod matching;

pub use error::{Error, FieldViolation};
