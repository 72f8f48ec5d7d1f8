//! The console's pages: the HTML, CSS and JavaScript under `console/`, the proto files the
//! browser encodes with and the sample drills, all compiled into the binary (`build.rs`) and
//! served from memory. Knows no tonic: the gRPC-Web side is `grpc/web.rs`, which mounts this
//! router beside the service stack on the console's listener.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));
}

pub use embedded::SAMPLE_DRILLS;

/// Where `serve --console` listens: an address, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleListen(pub Option<std::net::SocketAddr>);

/// `serve --console`'s default: loopback only, like the gRPC listener.
pub const CONSOLE_LISTEN_DEFAULT: &str = "127.0.0.1:8080";

impl std::str::FromStr for ConsoleListen {
    type Err = String;

    fn from_str(text: &str) -> Result<ConsoleListen, String> {
        if text == "off" {
            return Ok(ConsoleListen(None));
        }
        text.parse()
            .map(|addr| ConsoleListen(Some(addr)))
            .map_err(|_| format!("{text:?} is neither an address like 127.0.0.1:8080 nor `off`"))
    }
}

/// The pages, each a path of the one HTML document (the script shows the page its path names).
pub const PAGES: [&str; 4] = ["dispatch", "procurement", "drills", "holds"];

/// The longest asset path looked up; longer requests are refused before any lookup.
const ASSET_PATH_BYTES_MAX: usize = 256;

/// Where the page may load from and talk to: its own origin only, so nothing leaves the
/// machine that serves it. protobuf.js compiles its encoders at run time, hence 'unsafe-eval'.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The embedded file at `path` (relative to `/assets/`), if any.
pub fn asset(path: &str) -> Option<&'static [u8]> {
    let assets = embedded::CONSOLE_ASSETS;
    assets.binary_search_by(|(name, _)| (*name).cmp(path)).ok().map(|i| assets[i].1)
}

/// Every embedded asset's path, sorted.
pub fn asset_paths() -> impl Iterator<Item = &'static str> {
    embedded::CONSOLE_ASSETS.iter().map(|(name, _)| *name)
}

/// The router of the console's pages and assets.
pub fn router() -> Router {
    let mut router = Router::new().route("/", get(index));
    for page in PAGES {
        router = router.route(&format!("/{page}"), get(index));
    }
    router
        .route("/assets/drills/index.json", get(|| async { sample_drills_json() }))
        .route("/assets/{*path}", get(|Path(path): Path<String>| async move { serve_asset(&path) }))
        .route("/favicon.ico", get(|| async { serve_asset("favicon.svg") }))
}

async fn index() -> Response {
    serve_asset("index.html")
}

/// The sample drills' file names as a JSON array, for the Drills page's picker.
fn sample_drills_json() -> Response {
    let body = serde_json::to_vec(SAMPLE_DRILLS).unwrap_or_else(|_| b"[]".to_vec());
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn serve_asset(path: &str) -> Response {
    let bytes = (path.len() <= ASSET_PATH_BYTES_MAX).then(|| asset(path)).flatten();
    let Some(bytes) = bytes else {
        return (StatusCode::NOT_FOUND, "no such console file\n").into_response();
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    // The files change with the binary: always revalidate rather than serve a stale console.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "proto" | "toml" | "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_listen_parses_an_address_or_off() {
        assert_eq!("off".parse::<ConsoleListen>(), Ok(ConsoleListen(None)));
        assert_eq!(
            CONSOLE_LISTEN_DEFAULT.parse::<ConsoleListen>().map(|c| c.0.map(|a| a.port())),
            Ok(Some(8080))
        );
        assert!("8080".parse::<ConsoleListen>().is_err());
        assert!("OFF ".parse::<ConsoleListen>().is_err());
    }

    #[test]
    fn assets_are_sorted_and_found() {
        let paths: Vec<&str> = asset_paths().collect();
        assert!(paths.windows(2).all(|w| w[0] < w[1]), "sorted for binary search");
        for path in &paths {
            assert!(asset(path).is_some(), "{path}");
        }
        assert!(asset("index.html").is_some());
        assert!(asset("proto/match.proto").is_some());
        assert!(asset("../Cargo.toml").is_none());
        assert!(!SAMPLE_DRILLS.is_empty());
        for drill in SAMPLE_DRILLS {
            assert!(asset(&format!("drills/{drill}")).is_some(), "{drill}");
        }
    }

    #[test]
    fn every_asset_has_a_known_content_type() {
        for path in asset_paths() {
            if path.ends_with("LICENSE") || path.ends_with("LICENSE.txt") {
                continue;
            }
            assert_ne!(content_type(path), "application/octet-stream", "{path}");
        }
    }
}
