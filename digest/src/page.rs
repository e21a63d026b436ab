//! The leader's digest page: sign-in by link, then the released rounds of their scope,
//! in one `Page` enum. The index names the rounds; each round's digest is fetched on its
//! own, and a group larger than a page shows more items on request.

use candor_protocol::api::{
    DIGEST_PAGE_ITEMS, DigestItem, DigestView, Group, ItemPage, RatingDistribution, RoundDigest,
    RoundHeading, SignIn,
};
use candor_protocol::domain::QuestionId;
use candor_protocol::submission::AnswerValue;
use yew::prelude::*;

use crate::http::{self, Problem};

#[derive(Debug, Clone, PartialEq)]
enum Page {
    Loading,
    /// Opened from a sign-in link: the secret waits for the leader's click. Mail systems
    /// open the links in a message to check them, some in browsers that run the page's
    /// scripts; a page that signed in by itself would use the link up before the leader
    /// ever saw it.
    SignIn(String),
    SigningIn,
    SignedOut(Option<Problem>),
    Digest(Box<DigestView>),
}

fn origin() -> String {
    gloo_utils::window().location().origin().unwrap_or_default()
}

/// What the page shows first: the sign-in button for a link, else the digest.
async fn load() -> Page {
    // A sign-in link carries its secret in the fragment, which never reaches a server log;
    // it leaves the address bar (and the history) at once.
    let hash = gloo_utils::window().location().hash().unwrap_or_default();
    if let Some(secret) = hash.strip_prefix("#signin=") {
        let _ = gloo_utils::window().history().map(|history| {
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/digest/"))
        });
        return Page::SignIn(secret.to_owned());
    }
    digest().await
}

/// Uses the link up, then shows the digest.
async fn sign_in(secret: String) -> Page {
    let body = serde_json::to_string(&SignIn { link: secret }).unwrap_or_default();
    match http::send(
        "POST",
        &format!("{}/v1/leader/sign-in", origin()),
        &[("content-type", "application/json")],
        Some(body.as_bytes()),
    )
    .await
    {
        Ok(reply) if reply.status == 200 => digest().await,
        Ok(reply) => Page::SignedOut(Some(reply.problem())),
        Err(problem) => Page::SignedOut(Some(problem)),
    }
}

async fn digest() -> Page {
    match http::send("GET", &format!("{}/v1/digest", origin()), &[], None).await {
        Ok(reply) if reply.status == 200 => match serde_json::from_slice::<DigestView>(&reply.body) {
            Ok(view) => Page::Digest(Box::new(view)),
            Err(_) => Page::SignedOut(Some(Problem::BadAnswer)),
        },
        // Not signed in: the page says how to sign in, and nothing is wrong.
        Ok(reply) if reply.problem() == Problem::Server(candor_protocol::api::ErrorCode::Session) => {
            Page::SignedOut(None)
        }
        Ok(reply) => Page::SignedOut(Some(reply.problem())),
        Err(problem) => Page::SignedOut(Some(problem)),
    }
}

/// The digest page.
#[function_component(App)]
pub fn app() -> Html {
    let page = use_state(|| Page::Loading);
    {
        let page = page.clone();
        use_effect_with((), move |()| {
            yew::platform::spawn_local(async move { page.set(load().await) });
        });
    }
    let body = match &*page {
        Page::Loading => html! { <p>{ "Loading your digest…" }</p> },
        Page::SignIn(secret) => {
            let onclick = {
                let (page, secret) = (page.clone(), secret.clone());
                Callback::from(move |_: MouseEvent| {
                    let (page, secret) = (page.clone(), secret.clone());
                    page.set(Page::SigningIn);
                    yew::platform::spawn_local(async move { page.set(sign_in(secret).await) });
                })
            };
            html! {
                <>
                    <h1>{ "Sign in to your feedback digest" }</h1>
                    <p>{ "This link works once: signing in uses it up. Your browser then stays signed in \
                          for a week, or until you sign out." }</p>
                    <button type="button" {onclick}>{ "Sign in" }</button>
                </>
            }
        }
        Page::SigningIn => html! { <p>{ "Signing in…" }</p> },
        Page::SignedOut(problem) => html! {
            <>
                if let Some(problem) = problem { <p class="problem" role="alert">{ crate::messages::text(*problem) }</p> }
                <p>{ "Open the sign-in link your Candor operator gave you. Each link works once." }</p>
            </>
        },
        Page::Digest(view) => html! {
            <>
                <header>
                    <h1>{ format!("Feedback for {}", view.leader.scope) }</h1>
                    <p>{ format!("Signed in as {}.", view.leader.name) }</p>
                </header>
                if view.rounds.is_empty() {
                    <p>{ "No round has been released for your teams yet. Feedback appears here when its round closes." }</p>
                }
                { for view.rounds.iter().map(|heading| html! { <RoundView key={heading.round.to_string()} heading={heading.clone()} /> }) }
            </>
        },
    };
    html! { <main class="digest">{ body }</main> }
}

/// A GET of this origin's `path`, read as `T`.
async fn fetch<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, Problem> {
    match http::send("GET", &format!("{}{path}", origin()), &[], None).await {
        Ok(reply) if reply.status == 200 => {
            serde_json::from_slice(&reply.body).map_err(|_| Problem::BadAnswer)
        }
        Ok(reply) => Err(reply.problem()),
        Err(problem) => Err(problem),
    }
}

#[derive(Properties, PartialEq)]
struct RoundProps {
    heading: RoundHeading,
}

/// One released round: its digest, fetched on its own.
#[function_component(RoundView)]
fn round_view(RoundProps { heading }: &RoundProps) -> Html {
    let digest = use_state(|| None::<Result<RoundDigest, Problem>>);
    {
        let (digest, round) = (digest.clone(), heading.round);
        use_effect_with(round, move |round| {
            let path = format!("/v1/digest/rounds/{round}");
            yew::platform::spawn_local(async move { digest.set(Some(fetch(&path).await)) });
        });
    }
    let title = format!("{} — {} to {}", heading.covers, heading.opens, heading.closes);
    let body = match &*digest {
        None => html! { <p>{ "Loading this round…" }</p> },
        Some(Err(problem)) => {
            html! { <p class="problem" role="alert">{ crate::messages::text(*problem) }</p> }
        }
        Some(Ok(round)) => html! {
            <>
                <p class="threshold">{ format!(
                    "Anonymity threshold: {k}. A team's feedback is shown only when at least {k} people in it wrote; \
                     smaller teams are combined with their parent team, and what stays below {k} is not shown at all. \
                     Items are in a random order and dated by their round.", k = round.threshold) }</p>
                // Said for every round, whatever it holds: whether anything was withheld would
                // tell the leader of a small team whether anyone in it wrote.
                <p class="withheld">{ format!("Feedback from teams where fewer than {} people wrote is never shown \
                    here, and this page does not say whether there was any.", round.threshold) }</p>
                { for round.groups.iter().map(|group| html! {
                    <GroupView key={group.scope.to_string()} round={round.round.to_string()}
                        prompts={round.questions.iter().map(|q| (q.id.clone(), q.prompt.clone())).collect::<Vec<_>>()}
                        group={group.clone()} />
                }) }
            </>
        },
    };
    html! {
        <section class="round" aria-label={format!("Round for {}", heading.scope)}>
            <h2>{ title }</h2>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct GroupProps {
    round: String,
    prompts: Vec<(QuestionId, String)>,
    group: Group,
}

/// What a group's "show more" has fetched so far.
#[derive(Clone, PartialEq)]
struct More {
    items: Vec<DigestItem>,
    loading: bool,
    problem: Option<Problem>,
}

/// A visible group: its ratings, its first page of items, and the rest on request.
#[function_component(GroupView)]
fn group_view(GroupProps { round, prompts, group }: &GroupProps) -> Html {
    let more = use_state(|| More { items: Vec::new(), loading: false, problem: None });
    let prompt =
        |id: &QuestionId| prompts.iter().find(|(q, _)| q == id).map(|(_, p)| p.clone()).unwrap_or_default();
    let shown = group.items.len() + more.items.len();
    let onclick = {
        let (more, round, scope) = (more.clone(), round.clone(), group.scope.to_string());
        Callback::from(move |_: MouseEvent| {
            if more.loading {
                return;
            }
            let (more, path) =
                (more.clone(), format!("/v1/digest/rounds/{round}/items?group={scope}&from={shown}"));
            more.set(More { loading: true, problem: None, ..(*more).clone() });
            yew::platform::spawn_local(async move {
                let mut next = (*more).clone();
                match fetch::<ItemPage>(&path).await {
                    Ok(page) => next.items.extend(page.items),
                    Err(problem) => next.problem = Some(problem),
                }
                next.loading = false;
                more.set(next);
            });
        })
    };
    let left = group.item_count.saturating_sub(shown);
    html! {
        <article class="group">
            <h3>{ format!("{} — {} responses{}", group.scope, group.item_count,
                if group.may_include_smaller_teams { " (may include smaller teams)" } else { "" }) }</h3>
            { for group.ratings.iter().map(|rating| html! {
                <figure class="rating">
                    <figcaption>{ prompt(&rating.question) }</figcaption>
                    { bar_chart(rating) }
                </figure>
            }) }
            <ul class="items">
                { for group.items.iter().chain(more.items.iter()).map(item_view) }
            </ul>
            if let Some(problem) = more.problem { <p class="problem" role="alert">{ crate::messages::text(problem) }</p> }
            if left > 0 {
                <p class="more">
                    <button type="button" {onclick} disabled={more.loading}>
                        { format!("Show {} more", left.min(DIGEST_PAGE_ITEMS)) }
                    </button>
                    { format!(" {shown} of {} shown.", group.item_count) }
                </p>
            }
        </article>
    }
}

fn item_view(item: &DigestItem) -> Html {
    html! {
        <li class="item">
            { for item.answers.iter().filter_map(|answer| match &answer.value {
                AnswerValue::Text(text) => Some(html! { <p class="text">{ text.as_str().to_owned() }</p> }),
                AnswerValue::Rating(_) => None,
            }) }
            { for item.answers.iter().filter_map(|answer| match answer.value {
                AnswerValue::Rating(value) => Some(html! { <p class="given">{ format!("Rating: {value}") }</p> }),
                AnswerValue::Text(_) => None,
            }) }
        </li>
    }
}

/// A bar per value of the scale, drawn as SVG, with a text equivalent for screen readers.
fn bar_chart(rating: &RatingDistribution) -> Html {
    let max = rating.counts.iter().copied().max().unwrap_or(0).max(1);
    let width = 28 * rating.counts.len() as u32;
    let label = rating
        .counts
        .iter()
        .enumerate()
        .map(|(i, count)| format!("{}: {count}", usize::from(rating.min) + i))
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        <svg class="chart" role="img" aria-label={label} viewBox={format!("0 0 {width} 120")} width={width.to_string()} height="120">
            { for rating.counts.iter().enumerate().map(|(i, &count)| {
                let height = 80 * count / max;
                let x = 28 * i as u32 + 4;
                html! {
                    <g>
                        <rect x={x.to_string()} y={(98 - height).to_string()} width="20" height={height.to_string()} class="bar" />
                        <text x={(x + 10).to_string()} y="112" text-anchor="middle">{ usize::from(rating.min) + i }</text>
                        if count > 0 {
                            <text x={(x + 10).to_string()} y={(95 - height).to_string()} text-anchor="middle" class="count">{ count }</text>
                        }
                    </g>
                }
            }) }
        </svg>
    }
}
