//! Same-origin requests with the leader's session cookie, no referrer, no cache.

use candor_protocol::api::{ErrorBody, ErrorCode};
use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReferrerPolicy, RequestCache, RequestCredentials, RequestInit, RequestMode, Response};

/// What went wrong, as the page tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The server answered with this code.
    Server(ErrorCode),
    /// The server could not be reached.
    Unreachable,
    /// The answer could not be read.
    BadAnswer,
}

/// A response: status and body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The problem an error answer names.
    pub fn problem(&self) -> Problem {
        Problem::Server(
            serde_json::from_slice::<ErrorBody>(&self.body).map_or(ErrorCode::Unknown, |b| b.error),
        )
    }
}

/// Sends a request with the session cookie.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Reply, Problem> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    init.set_cache(RequestCache::NoStore);
    init.set_mode(RequestMode::SameOrigin);
    let header_map = web_sys::Headers::new().map_err(|_| Problem::Unreachable)?;
    for (name, value) in headers {
        header_map.set(name, value).map_err(|_| Problem::Unreachable)?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&js_sys::Uint8Array::from(body));
    }
    let window = web_sys::window().ok_or(Problem::Unreachable)?;
    let response =
        JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(|_| Problem::Unreachable)?;
    let response: Response = response.dyn_into().map_err(|_| Problem::BadAnswer)?;
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| Problem::BadAnswer)?)
        .await
        .map_err(|_| Problem::Unreachable)?;
    Ok(Reply { status: response.status(), body: js_sys::Uint8Array::new(&buffer).to_vec() })
}
