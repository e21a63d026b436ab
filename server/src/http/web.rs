//! The built front ends (widget, loader, digest page) and the health check.
//!
//! The build names every file but the pages by its content hash and leaves a brotli and
//! a gzip copy beside each (`cargo xtask build`). So the files are sent compressed as
//! the browser accepts, and a hashed file is cached as immutable: a second page view
//! fetches the page and nothing else. What a cache keeps must not become a tracking
//! cookie, so nothing a browser could send back differs per person: no `ETag`, no
//! `Last-Modified`, no cookie, and every person gets the same bytes for a name.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use crate::config::Config;

/// A year, the longest `max-age` means anything.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The static routes.
pub fn router(config: &Config) -> Router<AppState> {
    // The widget's folder also holds the host-page loader.
    let web = &config.web_dir;
    let serve = |folder: &str| {
        tower_http::services::ServeDir::new(web.join(folder)).precompressed_br().precompressed_gzip()
    };
    let files = Router::new()
        .nest_service("/widget", serve("widget"))
        .nest_service("/digest", serve("digest"))
        .layer(middleware::from_fn(caching));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/", get(|| async { axum::response::Redirect::to("/digest/") }))
        .merge(files)
}

/// A hashed name is cached for good; anything else (the pages, a missing file) is not
/// stored. The validators `ServeDir` adds are dropped.
async fn caching(request: Request, next: Next) -> Response {
    let hashed = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let cache = if hashed && response.status() == StatusCode::OK { IMMUTABLE } else { "no-store" };
    let headers = response.headers_mut();
    headers.remove(header::LAST_MODIFIED);
    headers.remove(header::ETAG);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // The same name is sent as brotli, gzip or as it is: a shared cache must keep them
    // apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether a path's file name carries a content hash: `NAME-HEX.EXT` or Trunk's
/// `NAME-HEX_bg.wasm`, with at least 8 hex digits.
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let Some((stem, _extension)) = name.split_once('.') else { return false };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn hashed_names() {
        for hashed in [
            "/widget/candor-widget-4f2a9c1d0b3e8a71_bg.wasm",
            "/widget/candor-widget-4f2a9c1d0b3e8a71.js",
            "/widget/widget-0123abcd.css",
            "/widget/embed-4bab0e1f89d8f341.js",
            "/digest/boot-4bab0e1f89d8f341.js",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in
            ["/widget/", "/widget/index.html", "/widget/boot.js", "/digest/app-xyz.js", "/widget/a-123.js"]
        {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }
}
