//! Subcommands: `serve`, `check`, `registry generate`, `drill` (and `drill sweep`), `cap`,
//! `edxl-rm`, `token` run in process; `match`, `shortlist` and `hold …` are clients of a
//! running server (`drill --server` too).

mod auth_bench;
mod bench;
mod bench_holds;
mod cap;
mod check;
pub mod connect;
mod drill;
mod edxl;
mod hold;
mod overload;
mod remote;
pub mod security;
mod sweep;
pub mod token;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::catalog::{Catalog, CatalogSources, Problems};

#[derive(Debug, Parser)]
#[command(
    name = "equipmatch",
    version,
    about = "Which equipment a disaster calls for, stage by stage, and which suppliers can deliver it"
)]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the gRPC API on the embedded default data (or the given folders).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50051")]
        listen: SocketAddr,
        /// Where holds are kept: sqlite:PATH (one server) or postgres://… (several replicas).
        #[arg(long, default_value = crate::holds::STORE_DEFAULT, value_parser = crate::holds::StoreUrl::parse)]
        store: crate::holds::StoreUrl,
        /// Where the browser console listens (its pages and gRPC-Web), or `off`.
        #[arg(long, default_value = crate::console::CONSOLE_LISTEN_DEFAULT)]
        console: crate::console::ConsoleListen,
        /// Pre-position stock (PENDING holds until the alert expires) for live Immediate or
        /// Expected CAP alerts at or above this level: I, II, III or IV.
        #[arg(long, value_parser = remote::parse_severity)]
        preposition: Option<crate::domain::Severity>,
        /// A folder of CAP alerts: read at start (in `sent` order), then watched for new files.
        #[arg(long)]
        cap_dir: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        engine: overload::EngineArgs,
        #[command(flatten)]
        security: security::SecurityArgs,
    },
    /// Load the catalog and report every problem with file, line and reason.
    Check {
        #[command(flatten)]
        data: DataArgs,
        /// Print one JSON object: counts and an errors array.
        #[arg(long)]
        json: bool,
    },
    /// Supplier registry tools.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Ask a running server what an incident needs and who can deliver it.
    Match(remote::MatchArgs),
    /// Ask a running server for a ranked supplier shortlist.
    Shortlist(remote::ShortlistArgs),
    /// Place, confirm, release, read and list stock holds on a running server; set on-hand stock.
    Hold(hold::HoldArgs),
    /// Run a drill: several incidents competing for the same stock, allocated optimally, with
    /// a gap report (in process).
    Drill(drill::DrillCommand),
    /// Read CAP alerts: what each becomes (scenario, level, place) and its Match (in process).
    Cap(cap::CapArgs),
    /// EDXL-RM 1.0: write a RequestResource for a Match or a CommitResource for a confirmed
    /// hold; read another agency's RequestResource into a Match.
    EdxlRm(edxl::EdxlArgs),
    /// Benchmarks: catalog load against CSV parsing; gRPC load against a running server.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Signing keys and bearer tokens, for deployments without an identity provider.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Generate a SYNTHETIC registry (suppliers.csv, stock_lines.csv, README.md), deterministic
    /// for a seed.
    Generate {
        /// Number of suppliers.
        #[arg(long)]
        suppliers: usize,
        /// Random seed.
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        /// Mean stock lines per supplier.
        #[arg(long, default_value_t = 8)]
        lines_per_supplier: usize,
        /// Output folder (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Scenario folder whose taxonomy and places to use (default: embedded).
        #[arg(long)]
        scenarios: Option<PathBuf>,
    },
}

/// Where the catalog comes from; the embedded defaults unless a folder is given.
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Scenario folder (taxonomy.toml, places.toml, one TOML per scenario).
    #[arg(long)]
    pub scenarios: Option<PathBuf>,
    /// Registry folder (suppliers.csv, stock_lines.csv).
    #[arg(long)]
    pub registry: Option<PathBuf>,
}

impl DataArgs {
    pub fn sources(&self, problems: &mut Problems) -> CatalogSources {
        CatalogSources::from_dirs(self.scenarios.as_deref(), self.registry.as_deref(), problems)
    }
}

pub fn init_tracing(json: bool) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve { listen, store, console, preposition, cap_dir, data, engine, security } => {
            let options = crate::grpc::ServerOptions {
                preposition,
                cap_dir,
                engine: engine.engine_config(),
                metrics_addr: engine.metrics,
                reflection: !security.no_reflection,
                ..Default::default()
            };
            serve(listen, console, &store, options, &data, &security)
        }
        Command::Check { data, json } => check::run(&data, json),
        Command::Registry {
            command:
                RegistryCommand::Generate { suppliers, seed, lines_per_supplier, out, scenarios },
        } => generate(suppliers, seed, lines_per_supplier, &out, scenarios.as_deref()),
        Command::Match(args) => remote::run_match(args),
        Command::Shortlist(args) => remote::run_shortlist(args),
        Command::Hold(args) => hold::run(args),
        Command::Drill(args) => drill::run(args),
        Command::Cap(args) => cap::run(args),
        Command::EdxlRm(args) => edxl::run(args),
        Command::Bench { command } => bench::run(command),
        Command::Token { command } => token::run(command),
    }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            None
        }
    }
}

fn serve(
    listen: SocketAddr,
    console: crate::console::ConsoleListen,
    store: &crate::holds::StoreUrl,
    mut options: crate::grpc::ServerOptions,
    data: &DataArgs,
    security: &security::SecurityArgs,
) -> ExitCode {
    // The secure default is decided before anything is loaded: an exposed open service
    // must not start, not even for a moment. The console serves the same stack.
    let listeners: Vec<SocketAddr> = std::iter::once(listen).chain(console.0).collect();
    match security.exposure(&listeners) {
        Ok(security::Exposure::Fine) => {}
        Ok(security::Exposure::Warn(warning)) => tracing::warn!("{warning}"),
        Err(refusal) => {
            eprintln!("error: {refusal}");
            return ExitCode::from(2);
        }
    }
    options.security = match security.load() {
        Ok(security) => security,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut problems = Problems::default();
    let sources = data.sources(&mut problems);
    let catalog = match Catalog::load(&sources) {
        Ok(catalog) if problems.is_empty() => catalog,
        Ok(_) => return report_problems(&problems),
        Err(error) => {
            problems.list.extend(error.problems.list);
            problems.dropped += error.problems.dropped;
            return report_problems(&problems);
        }
    };
    for note in &catalog.notes {
        tracing::warn!(note = note.as_str(), "catalog default applied");
    }
    // The files' text is not needed once the catalog is built; at national scale it is as
    // large as the catalog itself.
    drop(sources);
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    let result = runtime.block_on(async move {
        let catalog = std::sync::Arc::new(catalog);
        let holds = crate::holds::open(store, catalog.clone(), crate::holds::system_clock())
            .await
            .map_err(|error| format!("cannot open the hold store {store:?}: {error}"))?;
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let console = match console.0 {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.map_err(|error| {
                format!("cannot listen for the console on {addr}: {error} (`--console off`?)")
            })?),
            None => None,
        };
        crate::grpc::serve_with_console(
            catalog,
            holds,
            listener,
            console,
            options,
            shutdown_signal(),
        )
        .await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn report_problems(problems: &Problems) -> ExitCode {
    for problem in &problems.list {
        eprintln!("{problem}");
    }
    eprintln!(
        "error: the catalog has {} problem(s); run `equipmatch check` for the list",
        problems.total()
    );
    ExitCode::FAILURE
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutdown signal received: draining calls in flight");
}

fn generate(
    suppliers: usize,
    seed: u64,
    lines_per_supplier: usize,
    out: &std::path::Path,
    scenarios: Option<&std::path::Path>,
) -> ExitCode {
    use std::io::Write;
    let mut problems = Problems::default();
    let sources = CatalogSources::from_dirs(scenarios, None, &mut problems);
    let catalog = match Catalog::load(&CatalogSources {
        registry_files: crate::catalog::empty_registry(),
        ..sources
    }) {
        Ok(catalog) if problems.is_empty() => catalog,
        Ok(_) => return report_problems(&problems),
        Err(error) => return report_problems(&error.problems),
    };
    let params = crate::generator::Params { suppliers, seed, lines_per_supplier };
    let result = (|| -> std::io::Result<crate::generator::Generated> {
        std::fs::create_dir_all(out)?;
        let mut suppliers_out = std::io::BufWriter::new(std::fs::File::create(
            out.join(crate::catalog::SUPPLIERS_FILE),
        )?);
        let mut stock_out = std::io::BufWriter::new(std::fs::File::create(
            out.join(crate::catalog::STOCK_LINES_FILE),
        )?);
        let generated =
            crate::generator::generate(&catalog, &params, &mut suppliers_out, &mut stock_out)?;
        suppliers_out.flush()?;
        stock_out.flush()?;
        std::fs::write(
            out.join("README.md"),
            crate::generator::readme(&params, generated, &catalog.version),
        )?;
        Ok(generated)
    })();
    match result {
        Ok(generated) => {
            println!(
                "wrote {} suppliers ({} synthetic manufacturers, {} standing holders) and {} stock lines (SYNTHETIC) to {}",
                generated.suppliers,
                generated.suppliers - generated.standing,
                generated.standing,
                generated.stock_lines,
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
