//! The pretend intranet: a roster to sign in from, and for whoever is "signed in" a page
//! that embeds the Candor widget the way README "Embedding the widget" says — the
//! loader pinned by its hash, the organisation key, and an eligibility assertion minted
//! for that person — as a real intranet backend would.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use candor_protocol::domain::Scope;
use candor_server::assertion::IntranetKey;
use serde::Deserialize;

/// One pretend employee.
#[derive(Debug, Clone)]
pub struct Person {
    /// Id in the URL and the assertion's `sub`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Their team.
    pub scope: &'static str,
    /// Their role, for the page.
    pub role: &'static str,
}

/// The demo organisation: six people in Platform (above the default threshold of 5),
/// three in Web (below it).
pub const PEOPLE: &[Person] = &[
    Person { id: "ada", name: "Ada Lovelace", scope: "acme/eng/platform", role: "Staff engineer" },
    Person { id: "alan", name: "Alan Turing", scope: "acme/eng/platform", role: "Engineer" },
    Person { id: "grace", name: "Grace Hopper", scope: "acme/eng/platform", role: "Engineering manager" },
    Person { id: "edsger", name: "Edsger Dijkstra", scope: "acme/eng/platform", role: "Engineer" },
    Person { id: "barbara", name: "Barbara Liskov", scope: "acme/eng/platform", role: "Principal engineer" },
    Person { id: "ken", name: "Ken Thompson", scope: "acme/eng/platform", role: "Engineer" },
    Person { id: "margaret", name: "Margaret Hamilton", scope: "acme/eng/web", role: "Engineer" },
    Person { id: "dennis", name: "Dennis Ritchie", scope: "acme/eng/web", role: "Engineer" },
    Person { id: "radia", name: "Radia Perlman", scope: "acme/eng/web", role: "Designer" },
];

/// The pretend intranet's settings.
#[derive(Debug)]
pub struct Intranet {
    /// Signs assertions.
    pub key: IntranetKey,
    /// The Candor server's public URL.
    pub candor_url: String,
    /// The organisation public key, base64url, pinned in the embed tag.
    pub organisation_key: String,
    /// The assertion audience.
    pub audience: String,
    /// The loader's file name and its integrity value.
    pub loader: (String, String),
}

/// The loader in the built widget's folder: its name (`embed-<hash>.js`, the only one)
/// and `sha384-<base64 of its SHA-384>` for `integrity`.
pub fn loader(widget_dir: &Path) -> Result<(String, String), String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut found: Vec<PathBuf> = std::fs::read_dir(widget_dir)
        .map_err(|e| format!("{}: {e}", widget_dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("embed-") && n.ends_with(".js"))
        })
        .collect();
    let (Some(path), None) = (found.pop(), found.pop()) else {
        return Err(format!("expected exactly one embed-<hash>.js in {}", widget_dir.display()));
    };
    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
    let integrity =
        format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes)));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    Ok((name, integrity))
}

#[derive(Deserialize)]
struct As {
    #[serde(rename = "as")]
    person: Option<String>,
}

/// The routes.
pub fn router(intranet: Intranet) -> Router {
    Router::new().route("/", get(page)).with_state(Arc::new(intranet))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = r#"
:root { --brand: #14325c; --accent: #f2a900; --ink: #1d2430; --muted: #5b6472; --line: #d9dee6; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f3f5f8; }
a { color: #0b5cad; }
.top { background: var(--brand); color: #fff; }
.top .bar { max-width: 1120px; margin: 0 auto; padding: 10px 20px; display: flex; align-items: center; gap: 24px; }
.logo { font-weight: 700; font-size: 1.15rem; letter-spacing: .02em; display: flex; align-items: center; gap: 10px; }
.logo span { display: inline-block; width: 28px; height: 28px; border-radius: 6px; background: var(--accent); }
.top nav { display: flex; gap: 18px; font-size: .95rem; }
.top nav a { color: #dfe7f3; text-decoration: none; }
.top .who { margin-left: auto; font-size: .92rem; color: #dfe7f3; }
.top .who a { color: #fff; }
.layout { max-width: 1120px; margin: 24px auto; padding: 0 20px; display: grid; grid-template-columns: 1fr 420px; gap: 24px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; box-shadow: 0 1px 2px rgba(16,24,40,.04); }
.card h2 { font-size: 1.1rem; margin: 0 0 8px; }
.news article { border-top: 1px solid var(--line); padding: 12px 0; }
.news article:first-of-type { border-top: 0; }
.news h2 { margin: 0 0 4px; font-size: 1rem; }
.meta { color: var(--muted); font-size: .85rem; }
.feedback h2 { display: flex; align-items: center; gap: 8px; }
.feedback p.lead { color: var(--muted); margin-top: 0; font-size: .95rem; }
.signin { max-width: 640px; margin: 48px auto; }
.roster { list-style: none; padding: 0; margin: 16px 0 0; display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.roster a { display: block; padding: 10px 14px; border: 1px solid var(--line); border-radius: 8px; text-decoration: none; color: var(--ink); background: #fafbfc; }
.roster a:hover, .roster a:focus-visible { border-color: #0b5cad; background: #eef4fb; }
.roster strong { display: block; }
.roster small { color: var(--muted); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
@media (max-width: 900px) { .layout { grid-template-columns: 1fr; } }
"#;

fn shell(title: &str, who: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{STYLE}</style></head><body>
<header class="top"><div class="bar"><div class="logo"><span aria-hidden="true"></span>Acme intranet</div>
<nav aria-label="Intranet"><a href="/">Home</a><a href="/">People</a><a href="/">Teams</a><a href="/">Handbook</a></nav>
<div class="who">{who}</div></div></header>
{body}
</body></html>"#
    )
}

async fn page(State(intranet): State<Arc<Intranet>>, Query(query): Query<As>) -> Response {
    let person = query.person.as_deref().and_then(|id| PEOPLE.iter().find(|p| p.id == id));
    let Some(person) = person else {
        let roster: String = PEOPLE
            .iter()
            .map(|p| {
                format!(
                    r#"<li><a href="/?as={}"><strong>{}</strong><small>{} · {}</small></a></li>"#,
                    p.id,
                    escape(p.name),
                    escape(p.role),
                    p.scope
                )
            })
            .collect();
        let body = format!(
            r#"<main class="signin card"><h1>Sign in</h1>
<p>This is a pretend intranet for the Candor demo: choose who you are. A real intranet signs you in its own way
and hands the widget an assertion of who you are and which teams you belong to.</p>
<ul class="roster">{roster}</ul></main>"#
        );
        return Html(shell("Acme intranet — sign in", "Not signed in", &body)).into_response();
    };
    let scope = Scope::parse(person.scope).expect("demo scopes are valid");
    let assertion = intranet.key.mint(person.id, &[scope], &intranet.audience, 600);
    let (loader, integrity) = &intranet.loader;
    let body = format!(
        r##"<div class="layout">
<main class="card news"><h1>Good morning, {first}</h1>
<article><h2>Platform offsite: agenda published</h2><p class="meta">Engineering · this week</p>
<p>The agenda for next month's offsite is up. Sessions on the release train, on-call and the new build farm.</p></article>
<article><h2>Upward feedback round is open</h2><p class="meta">People team</p>
<p>Tell your leaders what they should hear. The form on this page is anonymous: not even the intranet can see what
you type, and your leaders read it only when enough of your team has written.</p></article>
<article><h2>Canteen opening hours</h2><p class="meta">Facilities</p><p>From Monday the canteen opens at 8:00.</p></article>
</main>
<aside class="card feedback" aria-labelledby="feedback-title"><h2 id="feedback-title">Anonymous feedback</h2>
<p class="lead">Powered by Candor: what you write here is sent without your name.</p>
<div id="feedback"></div>
<script src="{candor}/widget/{loader}" integrity="{integrity}" crossorigin="anonymous" async data-target="#feedback" data-org-key="{org}" data-assertion="{assertion}"></script>
</aside></div>"##,
        first = escape(person.name.split(' ').next().unwrap_or(person.name)),
        candor = escape(&intranet.candor_url),
        org = escape(&intranet.organisation_key),
    );
    let who = format!(
        r#"Signed in as <strong id="who">{}</strong> ({}) · <a href="/">Switch person</a>"#,
        escape(person.name),
        person.scope
    );
    // A pretend intranet session cookie: it must never reach Candor.
    (
        [(header::SET_COOKIE, format!("intranet_session=demo-{}; Path=/; SameSite=Lax", person.id))],
        Html(shell(&format!("Acme intranet — {}", person.name), &who, &body)),
    )
        .into_response()
}
