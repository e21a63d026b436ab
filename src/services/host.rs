//! The host page: the intranet page that embeds the widget. It hears exactly two
//! messages from the widget — `candor:ready` when it starts, and one `candor:resize`
//! with a height that depends on the round alone, when the round's questions are laid
//! out — and nothing else, ever: not per keystroke, per finding, per state or per
//! delivery. It says one thing to the widget: the assertion. Messages from any other
//! origin or frame are ignored.

use wasm_bindgen::JsCast as _;

/// Where the widget runs and for whom, from its iframe URL (`?org=…&host=…`).
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// The Candor server (this page's origin).
    pub server: String,
    /// Its host (and port): the round's issuer name must be it.
    pub server_host: String,
    /// The intranet page that embeds the widget: the only origin it talks to.
    pub host: String,
    /// The pinned organisation key.
    pub organisation: candor_protocol::keys::OrganisationPublicKey,
}

impl Setup {
    /// Reads the iframe's address.
    pub fn from_location() -> Option<Self> {
        let location = web_sys::window()?.location();
        let search = location.search().unwrap_or_default();
        let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
        let get = |name: &str| params.get(name).unwrap_or_default();
        let organisation = candor_protocol::keys::OrganisationPublicKey::from_base64(&get("org")).ok()?;
        let host = get("host");
        if !(host.starts_with("https://") || host.starts_with("http://")) {
            return None;
        }
        Some(Self { server: location.origin().ok()?, server_host: location.host().ok()?, host, organisation })
    }
}

/// Posts a message to the host page, to its origin only.
fn post(host: &str, kind: &str, height: Option<u32>) {
    let Some(parent) = gloo_utils::window().parent().ok().flatten() else { return };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &kind.into());
    if let Some(height) = height {
        let _ = js_sys::Reflect::set(&message, &"height".into(), &height.into());
    }
    let _ = parent.post_message(&message, host);
}

/// Says the widget is ready for its assertion.
pub fn ready(host: &str) {
    post(host, "candor:ready", None);
}

/// Tells the host page the widget's height: once, when the round is laid out.
pub fn resize(host: &str, height: u32) {
    post(host, "candor:resize", Some(height));
}

/// Listens for the assertion, from the host page's origin and the parent frame only.
pub fn on_assertion(host: String, on: impl Fn(String) + 'static) -> gloo_events::EventListener {
    gloo_events::EventListener::new(&gloo_utils::window(), "message", move |event| {
        let Some(event) = event.dyn_ref::<web_sys::MessageEvent>() else { return };
        // A cross-origin WindowProxy is no `Window` of this realm: compare identities.
        let from_parent = event
            .source()
            .zip(gloo_utils::window().parent().ok().flatten())
            .is_some_and(|(source, parent)| js_sys::Object::is(&source, &parent));
        if event.origin() != host || !from_parent {
            return; // anyone else's messages are ignored
        }
        let data = event.data();
        let field = |name: &str| js_sys::Reflect::get(&data, &name.into()).ok().and_then(|v| v.as_string());
        if field("type").as_deref() == Some("candor:assertion")
            && let Some(jws) = field("assertion")
        {
            on(jws);
        }
    })
}
