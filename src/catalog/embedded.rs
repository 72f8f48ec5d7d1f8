//! The default catalog files, compiled into the binary by `build.rs` so that the service runs
//! from any directory.

include!(concat!(env!("OUT_DIR"), "/embedded_files.rs"));
