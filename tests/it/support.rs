//! Test support: start the real server on 127.0.0.1:0 (on the embedded catalog or a custom
//! one) and hand out generated clients over a real TCP connection.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use equipmatch::catalog::{Catalog, CatalogSources, SourceFile};
use equipmatch::domain::{ChainStage, Impact, Quantity, Severity};
use equipmatch::grpc::client::{CatalogServiceClient, HoldServiceClient, MatchServiceClient};
use equipmatch::grpc::{ServerHandle, ServerOptions};
use equipmatch::holds::{Clock, HoldStore, SqliteStore};
use tonic::transport::Channel;

/// The embedded catalog, loaded once for the whole test binary.
pub fn embedded_catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| Arc::new(Catalog::embedded().expect("the embedded catalog loads")))
        .clone()
}

/// The embedded scenarios with a hand-made registry (CSV bodies without headers, in the columns
/// before `kind` and `crew_per_unit`: every row a manufacturer without crews).
pub fn catalog_with_registry(suppliers: &str, stock_lines: &str) -> Arc<Catalog> {
    let older = |header: &[&str]| header[..header.len() - 1].join(",");
    let mut sources = CatalogSources::embedded();
    sources.registry_files = vec![
        SourceFile {
            name: "test/suppliers.csv".into(),
            text: Cow::Owned(format!(
                "{}\n{suppliers}",
                older(&equipmatch::catalog::SUPPLIERS_HEADER)
            )),
        },
        SourceFile {
            name: "test/stock_lines.csv".into(),
            text: Cow::Owned(format!(
                "{}\n{stock_lines}",
                older(&equipmatch::catalog::STOCK_LINES_HEADER)
            )),
        },
    ];
    match Catalog::load(&sources) {
        Ok(catalog) => Arc::new(catalog),
        Err(error) => panic!("test registry does not load: {:#?}", error.problems.list),
    }
}

/// A fresh SQLite hold store in a temporary folder (removed when the folder guard drops).
pub fn temp_sqlite_store(
    catalog: Arc<Catalog>,
    clock: Clock,
) -> (Arc<dyn HoldStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(&dir.path().join("holds.sqlite"), catalog, clock)
        .expect("the SQLite hold store opens");
    (Arc::new(store), dir)
}

pub struct TestServer {
    handle: Option<ServerHandle>,
    pub url: String,
    pub channel: Channel,
    pub store: Arc<dyn HoldStore>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(embedded_catalog()).await
    }

    /// The server on `catalog` with a fresh SQLite hold store on the system clock.
    pub async fn start_with(catalog: Arc<Catalog>) -> TestServer {
        let (store, dir) = temp_sqlite_store(catalog.clone(), equipmatch::holds::system_clock());
        TestServer::start_with_store(catalog, store, Some(dir)).await
    }

    pub async fn start_with_store(
        catalog: Arc<Catalog>,
        store: Arc<dyn HoldStore>,
        dir: Option<tempfile::TempDir>,
    ) -> TestServer {
        TestServer::start_with_options(catalog, store, dir, ServerOptions::default()).await
    }

    /// The server with options (pre-positioning, the engine pool, the metrics listener).
    pub async fn start_with_options(
        catalog: Arc<Catalog>,
        store: Arc<dyn HoldStore>,
        dir: Option<tempfile::TempDir>,
        options: ServerOptions,
    ) -> TestServer {
        let handle =
            ServerHandle::start(catalog, store.clone(), "127.0.0.1:0".parse().unwrap(), options)
                .await
                .expect("server binds 127.0.0.1:0");
        let channel =
            equipmatch::grpc::client::connect(&handle.url()).await.expect("client connects");
        TestServer { url: handle.url(), handle: Some(handle), channel, store, _dir: dir }
    }

    /// Where the server serves `/metrics`, when started with `metrics_addr`.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.handle.as_ref().and_then(|handle| handle.metrics_addr)
    }

    pub fn holds(&self) -> HoldServiceClient<Channel> {
        HoldServiceClient::new(self.channel.clone())
    }

    pub fn matching(&self) -> MatchServiceClient<Channel> {
        MatchServiceClient::new(self.channel.clone())
    }

    pub fn catalog(&self) -> CatalogServiceClient<Channel> {
        CatalogServiceClient::new(self.channel.clone())
    }

    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop().await.expect("server stops cleanly");
        }
    }
}

/// The real `equipmatch serve` binary as a child process on 127.0.0.1:0, killed when dropped.
pub struct ServerProcess {
    child: std::process::Child,
    pub url: String,
}

/// How long a child server may take to say it is serving.
const SERVER_START_SECONDS_MAX: u64 = 60;

impl ServerProcess {
    /// Starts `equipmatch serve --store STORE` and waits for its "serving" log line.
    pub fn start(store: &str) -> ServerProcess {
        ServerProcess::start_with_args(store, &[])
    }

    /// The same with more `serve` arguments (e.g. `--cap-dir DIR`).
    pub fn start_with_args(store: &str, extra: &[&str]) -> ServerProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_equipmatch"))
            .args(["--log-json", "serve", "--listen", "127.0.0.1:0", "--console", "off"])
            .args(["--store", store])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the equipmatch binary starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // Drains the log for the child's whole life, so logging never blocks the server.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) {
                        let fields = &json["fields"];
                        if fields["message"] == "serving" {
                            if let Some(addr) = fields["addr"].as_str() {
                                let _ = tx.send(addr.to_owned());
                                sent = true;
                            }
                        }
                    }
                    if line.contains("error") {
                        eprintln!("server: {line}");
                    }
                }
            }
        });
        match rx.recv_timeout(std::time::Duration::from_secs(SERVER_START_SECONDS_MAX)) {
            Ok(addr) => ServerProcess { child, url: format!("http://{addr}") },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("equipmatch serve --store {store} did not start serving");
            }
        }
    }

    pub async fn channel(&self) -> Channel {
        equipmatch::grpc::client::connect(&self.url).await.expect("client connects")
    }

    /// SIGKILL: no drain, no destructor, no flush.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which hold store a test runs on: a fresh SQLite file, or a fresh database of the test
/// PostgreSQL cluster (see `holds_pg`).
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

/// Where a store lives, to reopen it: an SQLite folder or a PostgreSQL URL.
pub enum StorePlace {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

/// How long reopening a store may take (the previous SQLite writer lets go of the file).
const REOPEN_ATTEMPTS_MAX: usize = 100;

impl Backend {
    pub async fn store(
        &self,
        catalog: Arc<Catalog>,
        clock: Clock,
    ) -> (Arc<dyn HoldStore>, StorePlace) {
        match self {
            Backend::Sqlite => {
                let (store, dir) = temp_sqlite_store(catalog, clock);
                (store, StorePlace::Sqlite(dir))
            }
            Backend::Postgres(url) => {
                let store = equipmatch::holds::PostgresStore::connect(url, catalog, clock)
                    .await
                    .expect("the PostgreSQL hold store connects");
                (Arc::new(store), StorePlace::Postgres(url.clone()))
            }
        }
    }

    /// Opens the store at `place` again (a restart), waiting a bounded time for the file lock.
    pub async fn reopen(
        &self,
        place: &StorePlace,
        catalog: Arc<Catalog>,
        clock: Clock,
    ) -> Arc<dyn HoldStore> {
        for _attempt in 0..REOPEN_ATTEMPTS_MAX {
            let opened: Result<Arc<dyn HoldStore>, _> = match place {
                StorePlace::Sqlite(dir) => SqliteStore::open(
                    &dir.path().join("holds.sqlite"),
                    catalog.clone(),
                    clock.clone(),
                )
                .map(|store| Arc::new(store) as Arc<dyn HoldStore>),
                StorePlace::Postgres(url) => {
                    equipmatch::holds::PostgresStore::connect(url, catalog.clone(), clock.clone())
                        .await
                        .map(|store| Arc::new(store) as Arc<dyn HoldStore>)
                }
            };
            match opened {
                Ok(store) => return store,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        panic!("the store did not reopen within {REOPEN_ATTEMPTS_MAX} attempts");
    }

    /// The in-process server on a fresh store of this backend.
    pub async fn server(&self, catalog: Arc<Catalog>, clock: Clock) -> TestServer {
        let (store, place) = self.store(catalog.clone(), clock).await;
        let dir = match place {
            StorePlace::Sqlite(dir) => Some(dir),
            StorePlace::Postgres(_) => None,
        };
        TestServer::start_with_store(catalog, store, dir).await
    }
}

/// The rule of `category` in `stage` of `scenario` for an incident.
pub fn quantity(
    catalog: &Catalog,
    scenario: &str,
    stage: ChainStage,
    category: &str,
    impact: Impact,
) -> Quantity {
    let scenario_ref = catalog.scenario_by_id(scenario).expect("scenario");
    let category_idx = catalog.category_by_id(category).expect("category");
    let requirement = scenario_ref
        .requirements
        .iter()
        .find(|r| r.category == category_idx && r.stage == stage)
        .unwrap_or_else(|| panic!("{scenario} has no {category} in {stage:?}"));
    scenario_ref.quantity(requirement, &impact)
}

/// An incident of `severity` touching `population` people over `area_km2`.
pub fn impact(severity: Severity, population: f64, area_km2: f64) -> Impact {
    Impact { severity, affected_population: population, affected_area_km2: area_km2 }
}
