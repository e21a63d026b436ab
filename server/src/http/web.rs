//! The built front ends (widget, loader, digest page) and the health check.

use axum::Router;
use axum::routing::get;

use super::AppState;
use crate::config::Config;

/// The static routes.
pub fn router(config: &Config) -> Router<AppState> {
    // The widget's folder also holds the host-page loader.
    let web = &config.web_dir;
    let widget = tower_http::services::ServeDir::new(web.join("widget"));
    let digest_page = tower_http::services::ServeDir::new(web.join("digest"));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/", get(|| async { axum::response::Redirect::to("/digest/") }))
        .nest_service("/widget", widget)
        .nest_service("/digest", digest_page)
}
