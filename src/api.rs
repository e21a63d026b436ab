//! HTTP from the browser, the way Candor must send it: no credentials, no referrer, no
//! cache. Everything the widget sends goes through [`send`].

use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReferrerPolicy, RequestCache, RequestCredentials, RequestInit, RequestMode, Response};

/// A response: status and body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The `message` of a JSON error body, or a generic text.
    pub fn error_message(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Message {
            message: String,
        }
        serde_json::from_slice::<Message>(&self.body)
            .map(|body| body.message)
            .unwrap_or_else(|_| format!("the server answered {}", self.status))
    }
}

/// Sends a request the employee's way: `credentials: omit` (no cookies),
/// `referrerPolicy: no-referrer`, `cache: no-store`, CORS mode.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Reply, String> {
    request(RequestCredentials::Omit, method, url, headers, body).await
}

/// Sends a same-origin request with the leader's session cookie (the digest page only).
pub async fn send_with_session(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Reply, String> {
    request(RequestCredentials::SameOrigin, method, url, headers, body).await
}

async fn request(
    credentials: RequestCredentials,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Reply, String> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(credentials);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    init.set_cache(RequestCache::NoStore);
    init.set_mode(RequestMode::Cors);
    let header_map = web_sys::Headers::new().map_err(js_error)?;
    for (name, value) in headers {
        header_map.set(name, value).map_err(js_error)?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&js_sys::Uint8Array::from(body));
    }
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| "the Candor server could not be reached".to_owned())?;
    let response: Response = response.dyn_into().map_err(js_error)?;
    let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?).await.map_err(js_error)?;
    Ok(Reply { status: response.status(), body: js_sys::Uint8Array::new(&buffer).to_vec() })
}

fn js_error(value: wasm_bindgen::JsValue) -> String {
    value.as_string().unwrap_or_else(|| "the browser refused the request".to_owned())
}
