//! The `equipmatch` binary: parse the command line, start logging, run a subcommand.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = equipmatch::cli::Cli::parse();
    equipmatch::cli::init_tracing(cli.log_json);
    equipmatch::cli::run(cli)
}
