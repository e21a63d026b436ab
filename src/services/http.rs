//! HTTP from the browser, the way Candor must send it: no credentials, no referrer, no
//! cache. Everything the widget sends goes through [`send`].

use candor_protocol::api::{ErrorBody, ErrorCode};
use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReferrerPolicy, RequestCache, RequestCredentials, RequestInit, RequestMode, Response};

use crate::state::Reason;

/// A response: status and body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The error code of a JSON error body; [`ErrorCode::Unknown`] if there is none.
    pub fn error_code(&self) -> ErrorCode {
        serde_json::from_slice::<ErrorBody>(&self.body).map_or(ErrorCode::Unknown, |body| body.error)
    }

    /// The reason, for an answer that is not a success.
    pub fn reason(&self) -> Reason {
        Reason::Server(self.error_code())
    }
}

/// Sends a request the employee's way: `credentials: omit` (no cookies),
/// `referrerPolicy: no-referrer`, `cache: no-store`, CORS mode. `Err` if the server
/// could not be reached.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Reply, Reason> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::Omit);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    init.set_cache(RequestCache::NoStore);
    init.set_mode(RequestMode::Cors);
    let header_map = web_sys::Headers::new().map_err(|_| Reason::Browser)?;
    for (name, value) in headers {
        header_map.set(name, value).map_err(|_| Reason::Browser)?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&js_sys::Uint8Array::from(body));
    }
    let window = web_sys::window().ok_or(Reason::Browser)?;
    let response =
        JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(|_| Reason::Unreachable)?;
    let response: Response = response.dyn_into().map_err(|_| Reason::Browser)?;
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| Reason::Browser)?)
        .await
        .map_err(|_| Reason::Unreachable)?;
    Ok(Reply { status: response.status(), body: js_sys::Uint8Array::new(&buffer).to_vec() })
}
