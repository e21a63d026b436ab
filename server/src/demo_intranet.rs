//! A pretend intranet for demos and end-to-end tests: a roster of employees, a fake
//! sign-in, and for whoever is "signed in" a page that embeds the Candor widget with a
//! freshly minted eligibility assertion — what a real intranet backend does.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use candor_protocol::domain::Scope;
use serde::Deserialize;

use crate::assertion::IntranetKey;

/// One pretend employee.
#[derive(Debug, Clone)]
pub struct Person {
    /// Id in the URL and the assertion's `sub`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Their team.
    pub scope: &'static str,
}

/// The demo organisation: six people in Platform (above the default threshold of 5),
/// three in Web (below it).
pub const PEOPLE: &[Person] = &[
    Person { id: "ada", name: "Ada Lovelace", scope: "acme/eng/platform" },
    Person { id: "alan", name: "Alan Turing", scope: "acme/eng/platform" },
    Person { id: "grace", name: "Grace Hopper", scope: "acme/eng/platform" },
    Person { id: "edsger", name: "Edsger Dijkstra", scope: "acme/eng/platform" },
    Person { id: "barbara", name: "Barbara Liskov", scope: "acme/eng/platform" },
    Person { id: "ken", name: "Ken Thompson", scope: "acme/eng/platform" },
    Person { id: "margaret", name: "Margaret Hamilton", scope: "acme/eng/web" },
    Person { id: "dennis", name: "Dennis Ritchie", scope: "acme/eng/web" },
    Person { id: "radia", name: "Radia Perlman", scope: "acme/eng/web" },
];

/// The pretend intranet's settings.
#[derive(Debug)]
pub struct DemoIntranet {
    /// Signs assertions.
    pub key: IntranetKey,
    /// The Candor server's public URL.
    pub candor_url: String,
    /// The organisation public key, base64url, pinned in the embed tag.
    pub organisation_key: String,
    /// The assertion audience.
    pub audience: String,
}

#[derive(Deserialize)]
struct As {
    #[serde(rename = "as")]
    person: Option<String>,
}

/// The routes.
pub fn router(intranet: DemoIntranet) -> Router {
    Router::new().route("/", get(page)).with_state(Arc::new(intranet))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn page(State(intranet): State<Arc<DemoIntranet>>, Query(query): Query<As>) -> Response {
    let person = query.person.as_deref().and_then(|id| PEOPLE.iter().find(|p| p.id == id));
    let Some(person) = person else {
        let roster: String = PEOPLE
            .iter()
            .map(|p| format!(r#"<li><a href="/?as={}">{}</a> — {}</li>"#, p.id, escape(p.name), p.scope))
            .collect();
        return Html(format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme intranet — sign in</title></head>
<body><h1>Acme intranet</h1><p>Pretend sign-in: choose who you are.</p><ul>{roster}</ul></body></html>"#
        ))
        .into_response();
    };
    let scope = Scope::parse(person.scope).expect("demo scopes are valid");
    let assertion = intranet.key.mint(person.id, &[scope], &intranet.audience, 600);
    let html = format!(
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme intranet — {name}</title></head>
<body>
<header><h1>Acme intranet</h1><p>Signed in as <strong id="who">{name}</strong> ({scope}). <a href="/">Switch person</a></p></header>
<main>
<h2>Tell your leaders what you think</h2>
<p>Anonymous: not even the intranet can see what you type below.</p>
<div id="feedback"></div>
<script src="{candor}/widget/embed.js" async data-target="#feedback" data-scope="{scope}" data-org-key="{org}" data-assertion="{assertion}"></script>
</main>
</body></html>"##,
        name = escape(person.name),
        scope = person.scope,
        candor = escape(&intranet.candor_url),
        org = escape(&intranet.organisation_key),
    );
    // A pretend intranet session cookie: it must never reach Candor.
    ([(header::SET_COOKIE, format!("intranet_session=demo-{}; Path=/; SameSite=Lax", person.id))], Html(html))
        .into_response()
}
