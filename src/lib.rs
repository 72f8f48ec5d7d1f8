//! equipmatch: which equipment a disaster calls for at each stage of the monitoring → protection
//! → rescue chain, and which suppliers of the Beijing–Tianjin–Hebei cluster can deliver it,
//! ranked and explained.
//!
//! Modules in reading order: `domain` (value types) → `catalog` (load, validate, index the
//! files) → `matching` (the pure engine) → `grpc` (the only module that knows tonic/prost) →
//! `cli` (subcommands). `console` serves the browser console's files (its gRPC-Web side is in
//! `grpc`). `holds` keeps durable stock holds (SQLite or PostgreSQL) and hands the engine a
//! snapshot of held stock (through `domain::HeldStock`); `generator` makes synthetic
//! registries; `rng` is the seeded generator it shares with `drill`; `error` is the one
//! request error type; `interop` reads CAP alerts and reads and writes EDXL-RM messages;
//! `exec` runs engine work on its own threads behind a deadline-aware admission queue;
//! `metrics` exposes counters to Prometheus; `auth` decides who may call what (bearer tokens,
//! scopes); `fuzzing` holds the fuzz targets' bodies.

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod console;
pub mod domain;
pub mod drill;
pub mod error;
pub mod exec;
#[doc(hidden)]
pub mod fuzzing;
pub mod generator;
pub mod grpc;
pub mod holds;
pub mod interop;
pub mod matching;
pub mod metrics;
pub mod rng;

pub use error::{Error, FieldViolation};
