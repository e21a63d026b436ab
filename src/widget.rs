//! The employee widget: verifies the round, obtains a token on load, helps the person
//! write without identifying themselves, and sends through a persisted, delayed queue.

use std::rc::Rc;

use candor_protocol::api::{ClientView, OpenRound, RoundRefusal};
use candor_protocol::b64;
use candor_protocol::domain::Scope;
use candor_protocol::keys::{AuthorKey, OrganisationPublicKey};
use candor_protocol::manifest::{QuestionKind, RoundManifest, Team};
use candor_protocol::receipt::{Receipt, SignedReceipt};
use candor_protocol::scrub::{self, Detector, Engine, Finding, Pattern};
use candor_protocol::submission::{Answer, AnswerValue, NonceSalt, SubmissionBody, bound_nonce};
use candor_protocol::token::{TokenKey, TokenRequest, TokenResponse};
use candor_protocol::{http_auth, token};
use wasm_bindgen::{JsCast as _, JsValue};
use yew::prelude::*;

use crate::api;
use crate::wallet::{Queued, RoundEntry, Wallet};

/// NFKC by the browser (`String.prototype.normalize`), for [`scrub::normalise_with`].
///
/// Characters the browser's Unicode does not know yet are dropped first: the server's
/// tables may be newer and would normalise them differently, refusing the text. (The
/// browser test walks the whole BMP to keep this true.)
pub fn browser_nfkc(text: &str) -> String {
    let unassigned = js_sys::RegExp::new(r"\p{Cn}", "gu");
    js_sys::JsString::from(text).replace_by_pattern(&unassigned, "").normalize("NFKC").into()
}

/// Normalises text the way the server checks it, with the browser's NFKC.
pub fn normalise(text: &str, max_chars: u32) -> String {
    scrub::normalise_with(text, max_chars as usize, browser_nfkc)
}

/// The browser's own `RegExp`, as the [`Engine`] of the widget's [`Detector`]: the
/// patterns are written for both it and regex-lite (the browser test holds them to the
/// same findings), and the widget need not carry a regular-expression engine.
#[derive(Debug, Clone)]
pub struct BrowserRegex(js_sys::RegExp);

impl Engine for BrowserRegex {
    fn compile(pattern: &Pattern) -> Result<Self, String> {
        // g: every match; u: code points, strict syntax; d: the spans of groups.
        let mut flags = String::from("gud");
        if pattern.case_insensitive {
            flags.push('i');
        }
        if pattern.multi_line {
            flags.push('m');
        }
        let constructor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"RegExp".into())
            .map_err(|_| "this browser has no RegExp".to_owned())?
            .unchecked_into();
        let arguments = js_sys::Array::of2(&pattern.source.as_str().into(), &flags.into());
        // `RegExp::new` would abort on a syntax error; `construct` reports it.
        js_sys::Reflect::construct(&constructor, &arguments)
            .map(|regex| Self(regex.unchecked_into()))
            .map_err(|error| match error.dyn_into::<js_sys::Error>() {
                Ok(error) => error.message().into(),
                Err(_) => "not a valid pattern".to_owned(),
            })
    }

    fn spans(&self, text: &str, group: usize) -> Vec<std::ops::Range<usize>> {
        // JavaScript counts UTF-16 units; the findings are byte spans of the Rust string.
        let mut byte_at = Vec::with_capacity(text.len() + 1);
        for (at, c) in text.char_indices() {
            byte_at.extend(std::iter::repeat_n(at, c.len_utf16()));
        }
        byte_at.push(text.len());
        let byte = |unit: JsValue| unit.as_f64().and_then(|u| byte_at.get(u as usize).copied());
        let mut spans = Vec::new();
        let matches = js_sys::JsString::from(text).match_all(&self.0);
        for found in matches.into_iter().flatten() {
            let indices = js_sys::Reflect::get(&found, &"indices".into()).unwrap_or_default();
            let pair = js_sys::Reflect::get_u32(&indices, group as u32).unwrap_or_default();
            if !pair.is_array() {
                continue; // the group took no part in this match
            }
            let pair = js_sys::Array::from(&pair);
            if let (Some(start), Some(end)) = (byte(pair.get(0)), byte(pair.get(1))) {
                spans.push(start..end);
            }
        }
        spans
    }
}

/// The widget's detector: the built-in patterns, on the browser's `RegExp`. None if the
/// browser cannot compile them (older than 2021: no `d` flag).
pub fn detector() -> Option<Detector<BrowserRegex>> {
    Detector::new::<&str>(&[]).ok()
}

/// Where the widget runs and for whom, from its iframe URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// The Candor server (this page's origin).
    pub server: String,
    /// The intranet page that embeds the widget: the only origin it talks to.
    pub host: String,
    /// The employee's team.
    pub scope: Scope,
    /// The pinned organisation key.
    pub organisation: OrganisationPublicKey,
}

impl Setup {
    /// Reads `?scope=…&org=…&host=…`.
    pub fn from_location() -> Result<Self, String> {
        let location = web_sys::window().ok_or("no window")?.location();
        let server = location.origin().map_err(|_| "no origin")?;
        let search = location.search().unwrap_or_default();
        let params = web_sys::UrlSearchParams::new_with_str(&search).map_err(|_| "bad query")?;
        let get = |name: &str| params.get(name).unwrap_or_default();
        let scope = Scope::parse(&get("scope")).map_err(|e| format!("The page gave no valid team ({e})."))?;
        let organisation = OrganisationPublicKey::from_base64(&get("org")).map_err(|_| {
            "The page gave no valid organisation key, so nothing here can be verified.".to_owned()
        })?;
        let host = get("host");
        if !(host.starts_with("https://") || host.starts_with("http://")) {
            return Err("The page that embeds this widget did not say who it is.".into());
        }
        Ok(Self { server, host, scope, organisation })
    }
}

/// A round the widget has verified, and the team it answers as.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRound {
    /// The manifest, signature checked against the pinned key.
    pub manifest: RoundManifest,
    /// The team's token key, checked against the manifest.
    pub key: TokenKey,
    /// The team the employee answers as.
    pub team: Team,
}

/// Fetches the open rounds (the same list for everyone) and keeps the first that is
/// for this employee's team. Any manifest or key that does not verify, and any round
/// that is not open now or not this server's, is refused outright: it may be meant to
/// single the employee out.
async fn discover(setup: &Setup) -> Result<Option<VerifiedRound>, String> {
    let url = format!("{}/v1/rounds", setup.server);
    let reply = api::send("GET", &url, &[], None).await?;
    if reply.status != 200 {
        return Err(reply.error_message());
    }
    let rounds: Vec<OpenRound> = serde_json::from_slice(&reply.body)
        .map_err(|_| "The server's answer was not understood.".to_owned())?;
    let host = gloo_utils::window().location().host().unwrap_or_default();
    let scopes = [setup.scope.clone()];
    let view = ClientView {
        organisation: &setup.organisation,
        server_host: &host,
        scopes: &scopes,
        now: now_ms() / 1_000,
    };
    for round in &rounds {
        let refusal = match round.verify_for(&view) {
            Ok((round, team)) => {
                let key = round.key_of(&team).cloned().ok_or("The round's keys are malformed.")?;
                return Ok(Some(VerifiedRound { manifest: round.manifest, key, team }));
            }
            // Another unit's round: every widget sees every open round.
            Err(RoundRefusal::NotYourTeam) => continue,
            Err(refusal) => refusal,
        };
        return Err(match refusal {
            RoundRefusal::Manifest(_) => {
                "This round's description is not signed by your organisation. Nothing will be sent."
            }
            RoundRefusal::MalformedKey => "The round's token key is malformed. Nothing will be sent.",
            RoundRefusal::OtherKey => {
                "The server offered a token key that differs from the one your organisation signed for this \
                 round. It could be used to tell you apart from your colleagues, so nothing will be sent."
            }
            RoundRefusal::NotOpen => "The server offered a round that is not open now. Nothing will be sent.",
            RoundRefusal::OtherServer => {
                "The server offered a round of another server. Nothing will be sent."
            }
            RoundRefusal::NotYourTeam => "This round is not for your team.",
        }
        .to_owned());
    }
    Ok(None)
}

/// Obtains the round's token, unless the wallet already holds it. Runs on load,
/// whatever the person does next, so asking for a token says nothing about intent.
async fn obtain_token(setup: &Setup, round: &VerifiedRound, assertion: &str) -> Result<(), String> {
    let mut wallet = Wallet::load();
    if wallet.round(round.manifest.round).is_some_and(|entry| entry.token.is_some()) {
        return Ok(());
    }
    let mut rng = system_rng();
    let author = AuthorKey::generate(&mut rng);
    let salt = NonceSalt::generate(&mut rng);
    let nonce = bound_nonce(&author.public_key(), &salt);
    let (request, pending) =
        TokenRequest::blind(&mut rng, &round.key, &round.manifest.token_challenge(), nonce)
            .map_err(|_| "This browser could not prepare its anonymous token.".to_owned())?;
    let reply = api::send(
        "POST",
        &format!("{}/v1/token-request", setup.server),
        &[
            ("authorization", &format!("Bearer {assertion}")),
            ("content-type", token::TOKEN_REQUEST_MEDIA_TYPE),
        ],
        Some(&request.to_bytes()),
    )
    .await?;
    if reply.status != 200 {
        return Err(reply.error_message());
    }
    let response =
        TokenResponse::parse(&reply.body).map_err(|_| "The server's token was malformed.".to_owned())?;
    let token =
        pending.finalize(&response).map_err(|_| "The token from the server does not verify.".to_owned())?;
    wallet.rounds.retain(|entry| entry.round != round.manifest.round);
    wallet.rounds.push(RoundEntry {
        round: round.manifest.round,
        author_seed: b64::encode(*author.to_seed()),
        salt,
        token: Some(b64::encode(token.to_bytes())),
        used: false,
    });
    wallet.save()
}

/// The browser's `crypto.getRandomValues`, used directly: the widget draws a few dozen
/// bytes a round, which needs no user-space generator (and spares its code).
fn system_rng() -> rand::rand_core::UnwrapErr<rand::rngs::SysRng> {
    rand::rand_core::UnwrapErr(rand::rngs::SysRng)
}

/// The time, in whole milliseconds since the epoch.
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// What happened to the person's feedback.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// Nothing sent yet.
    Idle,
    /// Waiting in the queue until about this time (ms since the epoch).
    Queued(u64),
    /// Delivered; the receipt verified. The item hash, shortened.
    Delivered(String),
    /// Refused by the server.
    Refused(String),
}

/// Sends every queued item whose time has come (or all of them, with `now`). Returns
/// what happened to the last one handled.
pub async fn process_queue(server: &str, all: bool) -> Option<Delivery> {
    let mut wallet = Wallet::load();
    let now = now_ms();
    let mut outcome = None;
    let due: Vec<Queued> = wallet.queue.iter().filter(|q| all || q.send_after_ms <= now).cloned().collect();
    for item in due {
        let reply = api::send(
            "POST",
            &format!("{server}/v1/feedback"),
            &[("authorization", &item.authorization), ("content-type", "application/json")],
            Some(item.body.as_bytes()),
        )
        .await;
        let result = match reply {
            // Offline, or the server in trouble (nothing was stored, the token is unspent):
            // it stays queued and is tried again later.
            Err(_) => continue,
            Ok(reply) if reply.status >= 500 => continue,
            Ok(reply) if reply.status == 201 => verify_receipt(&item, &reply.body).map(|(receipt, short)| {
                wallet.receipts.push(receipt);
                Delivery::Delivered(short)
            }),
            Ok(reply) if reply.status == 409 => Ok(Delivery::Refused(
                "The server refused this feedback: its token has already been used. Feedback for this round \
                 was already sent with it."
                    .into(),
            )),
            Ok(reply) => {
                Ok(Delivery::Refused(format!("The server refused this feedback: {}", reply.error_message())))
            }
        };
        let delivery = result.unwrap_or_else(Delivery::Refused);
        wallet.queue.retain(|q| q.item != item.item);
        outcome = Some(delivery);
    }
    if outcome.is_some() {
        let _ = wallet.save();
    }
    outcome
}

fn verify_receipt(item: &Queued, body: &[u8]) -> Result<(SignedReceipt, String), String> {
    let receipt: SignedReceipt =
        serde_json::from_slice(body).map_err(|_| "The server's receipt was not understood.".to_owned())?;
    receipt.verify(&item.receipt_key, &Receipt { round: item.round, item: item.item }).map_err(|_| {
        "The server's receipt does not verify: keep a note of the time and tell your operator.".to_owned()
    })?;
    Ok((receipt, b64::encode(item.item.to_bytes()).chars().take(12).collect()))
}

/// The widget.
#[function_component(App)]
pub fn app() -> Html {
    let setup = use_memo((), |()| Setup::from_location());
    let round = use_state(|| None::<Rc<VerifiedRound>>);
    let problem = use_state(|| None::<String>);
    let loading = use_state(|| true);
    let assertion = use_state(|| None::<String>);
    let token_ready = use_state(|| false);
    // Whether this browser already sent feedback for the round: read from the wallet once,
    // when the round is found, not on every render (every keystroke).
    let used = use_state(|| false);
    let delivery = use_state(|| Delivery::Idle);
    let texts = use_state(Vec::<String>::new);
    let ratings = use_state(Vec::<Option<u8>>::new);

    // Discover and verify the round; say hello to the host page; listen for the assertion.
    {
        let (setup, round, problem, loading, assertion, used) =
            (setup.clone(), round.clone(), problem.clone(), loading.clone(), assertion.clone(), used.clone());
        use_effect_with((), move |()| {
            let mut listener = None;
            match &*setup {
                Err(message) => {
                    problem.set(Some(message.clone()));
                    loading.set(false);
                }
                Ok(setup) => {
                    let host = setup.host.clone();
                    let window = gloo_utils::window();
                    listener = Some(gloo_events::EventListener::new(&window, "message", move |event| {
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
                        let kind =
                            js_sys::Reflect::get(&data, &"type".into()).ok().and_then(|v| v.as_string());
                        let jws =
                            js_sys::Reflect::get(&data, &"assertion".into()).ok().and_then(|v| v.as_string());
                        if kind.as_deref() == Some("candor:assertion") && jws.is_some() {
                            assertion.set(jws);
                        }
                    }));
                    post_to_host(&setup.host, "candor:ready", None);
                    let setup = setup.clone();
                    yew::platform::spawn_local(async move {
                        match discover(&setup).await {
                            Ok(found) => {
                                let wallet = Wallet::load();
                                used.set(found.as_ref().is_some_and(|found| {
                                    wallet.round(found.manifest.round).is_some_and(|entry| entry.used)
                                }));
                                round.set(found.map(Rc::new));
                            }
                            Err(message) => problem.set(Some(message)),
                        }
                        loading.set(false);
                    });
                }
            }
            move || drop(listener)
        });
    }

    // As soon as there is a round and an assertion, obtain the token.
    {
        let (setup, problem, token_ready) = (setup.clone(), problem.clone(), token_ready.clone());
        use_effect_with(((*round).clone(), (*assertion).clone()), move |(round, assertion)| {
            if let (Ok(setup), Some(round), Some(assertion)) = (&*setup, round.clone(), assertion.clone()) {
                let setup = setup.clone();
                yew::platform::spawn_local(async move {
                    match obtain_token(&setup, &round, &assertion).await {
                        Ok(()) => token_ready.set(true),
                        Err(message) => problem.set(Some(format!("No token for this round: {message}"))),
                    }
                });
            }
        });
    }

    // Send what is due, now and every few seconds; a closed tab resumes here.
    {
        let (setup, delivery) = (setup.clone(), delivery.clone());
        use_effect_with((), move |()| {
            let interval = (*setup).as_ref().ok().map(|setup| {
                let server = setup.server.clone();
                let tick = move || {
                    let (server, delivery) = (server.clone(), delivery.clone());
                    yew::platform::spawn_local(async move {
                        if let Some(outcome) = process_queue(&server, false).await {
                            delivery.set(outcome);
                        } else if let Some(next) = Wallet::load().queue.first() {
                            delivery.set(Delivery::Queued(next.send_after_ms));
                        }
                    });
                };
                tick();
                gloo_timers::callback::Interval::new(2_000, tick)
            });
            move || drop(interval)
        });
    }

    // Tell the host page how tall we are, after every render.
    {
        let setup = setup.clone();
        use_effect(move || {
            if let (Ok(setup), Some(body)) = (&*setup, gloo_utils::document().body()) {
                post_to_host(&setup.host, "candor:resize", Some(f64::from(body.scroll_height()) + 16.0));
            }
        });
    }

    let content = if *loading {
        html! { <p>{ "Checking this round with your organisation's key…" }</p> }
    } else if let Some(message) = (*problem).clone() {
        html! { <p class="candor-problem" role="alert">{ message }</p> }
    } else if let Some(round) = (*round).clone() {
        let questions = &round.manifest.questions;
        if texts.len() != questions.len() {
            texts.set(vec![String::new(); questions.len()]);
            ratings.set(vec![None; questions.len()]);
        }
        let on_send = {
            let (round, texts, ratings, delivery, problem, used) = (
                round.clone(),
                texts.clone(),
                ratings.clone(),
                delivery.clone(),
                problem.clone(),
                used.clone(),
            );
            Callback::from(move |event: SubmitEvent| {
                event.prevent_default();
                match enqueue(&round, &texts, &ratings) {
                    Ok(at) => {
                        used.set(true);
                        delivery.set(Delivery::Queued(at));
                        texts.set(vec![String::new(); texts.len()]);
                        ratings.set(vec![None; ratings.len()]);
                    }
                    Err(message) => problem.set(Some(message)),
                }
            })
        };
        let on_send_now = {
            let (setup, delivery) = (setup.clone(), delivery.clone());
            Callback::from(move |_| {
                if let Ok(setup) = &*setup {
                    let (server, delivery) = (setup.server.clone(), delivery.clone());
                    yew::platform::spawn_local(async move {
                        if let Some(outcome) = process_queue(&server, true).await {
                            delivery.set(outcome);
                        }
                    });
                }
            })
        };
        html! {
            <>
                <PrivacyPanel manifest={round.manifest.clone()} />
                if *used {
                    <p class="candor-note">{ "You have sent your feedback for this round from this browser." }</p>
                } else {
                    <form onsubmit={on_send} aria-describedby="candor-privacy">
                        { for questions.iter().enumerate().map(|(i, question)| match question.kind {
                            QuestionKind::Text { max_chars } => html! {
                                <TextQuestion id={format!("q-{}", question.id.as_str())} prompt={question.prompt.clone()}
                                    max_chars={max_chars} value={texts.get(i).cloned().unwrap_or_default()}
                                    onchange={ let texts = texts.clone(); Callback::from(move |value: String| {
                                        let mut next = (*texts).clone();
                                        if let Some(slot) = next.get_mut(i) { *slot = value; }
                                        texts.set(next);
                                    }) } />
                            },
                            QuestionKind::Rating { scale } => html! {
                                <RatingQuestion id={format!("q-{}", question.id.as_str())} prompt={question.prompt.clone()}
                                    min={*scale.range().start()} max={*scale.range().end()}
                                    value={ratings.get(i).copied().flatten()}
                                    onchange={ let ratings = ratings.clone(); Callback::from(move |value: u8| {
                                        let mut next = (*ratings).clone();
                                        if let Some(slot) = next.get_mut(i) { *slot = Some(value); }
                                        ratings.set(next);
                                    }) } />
                            },
                        }) }
                        <button type="submit" disabled={!*token_ready}>{ "Send anonymously" }</button>
                        if !*token_ready {
                            <p class="candor-note">{ "Getting this browser's anonymous token…" }</p>
                        }
                    </form>
                }
                <DeliveryStatus delivery={(*delivery).clone()} on_send_now={on_send_now} />
            </>
        }
    } else {
        html! { <p>{ "There is no open feedback round for your team right now." }</p> }
    };
    html! { <main class="candor" aria-busy={(*loading).to_string()}>{ content }</main> }
}

fn post_to_host(host: &str, kind: &str, height: Option<f64>) {
    let Some(parent) = gloo_utils::window().parent().ok().flatten() else { return };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &kind.into());
    if let Some(height) = height {
        let _ = js_sys::Reflect::set(&message, &"height".into(), &height.into());
    }
    let _ = parent.post_message(&message, host);
}

/// Builds, signs and queues the submission; returns when it will be sent.
fn enqueue(round: &VerifiedRound, texts: &[String], ratings: &[Option<u8>]) -> Result<u64, String> {
    let mut wallet = Wallet::load();
    let manifest = &round.manifest;
    let entry =
        wallet.round(manifest.round).cloned().ok_or("This browser has no token for the round yet.")?;
    let author = entry.author().ok_or("The wallet is damaged.")?;
    let token = entry.token().ok_or("This browser has no token for the round yet.")?;
    let mut answers = Vec::new();
    for (i, question) in manifest.questions.iter().enumerate() {
        match question.kind {
            QuestionKind::Text { max_chars } => {
                let text = normalise(texts.get(i).map_or("", String::as_str), max_chars);
                if !text.is_empty() {
                    answers.push(Answer { question: question.id.clone(), value: AnswerValue::Text(text) });
                }
            }
            QuestionKind::Rating { .. } => {
                if let Some(value) = ratings.get(i).copied().flatten() {
                    answers.push(Answer { question: question.id.clone(), value: AnswerValue::Rating(value) });
                }
            }
        }
    }
    if answers.is_empty() {
        return Err("Write something or choose a rating first.".into());
    }
    let submission = SubmissionBody {
        round: manifest.round,
        answers,
        author_key: author.public_key(),
        nonce_salt: entry.salt,
    }
    .sign(&author)
    .map_err(|_| "This browser could not sign the feedback.".to_owned())?;
    // Uniform in the round's window (whole milliseconds: no floating point to format).
    let window_ms = u64::from(manifest.send_delay_minutes) * 60_000;
    let delay = window_ms * u64::from(rand::Rng::next_u32(&mut system_rng())) / u64::from(u32::MAX);
    let send_after_ms = now_ms() + delay;
    wallet.queue.push(Queued {
        round: manifest.round,
        body: serde_json::to_string(&submission)
            .map_err(|_| "The feedback could not be encoded.".to_owned())?,
        authorization: http_auth::authorization_value(&token),
        send_after_ms,
        receipt_key: manifest.receipt_key,
        item: submission.item_hash(),
    });
    if let Some(entry) = wallet.round_mut(manifest.round) {
        entry.used = true;
    }
    wallet.save()?;
    Ok(send_after_ms)
}

#[derive(Properties, PartialEq)]
struct PrivacyPanelProps {
    manifest: RoundManifest,
}

#[function_component(PrivacyPanel)]
fn privacy_panel(props: &PrivacyPanelProps) -> Html {
    let m = &props.manifest;
    html! {
        <section id="candor-privacy" class="candor-privacy" aria-label="Who reads this">
            <h1>{ "Anonymous feedback" }</h1>
            <p>{ format!(
                "Leaders of {} will read what you write here, after the round closes on {}. \
                 They see a team's feedback only once at least {} people in it have written; \
                 smaller teams are combined with their parent team.",
                m.scope, m.closes, m.threshold) }</p>
            <p>{ "Neither they nor the people who run Candor can tell who wrote what: your browser proves \
                  you may take part with a blinded token, and sends your words later, at a random time, \
                  without cookies or your page address. Your own words can still give you away — \
                  names, details, turns of phrase — so read it back before you send." }</p>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct TextQuestionProps {
    id: String,
    prompt: String,
    max_chars: u32,
    value: String,
    onchange: Callback<String>,
}

#[function_component(TextQuestion)]
fn text_question(props: &TextQuestionProps) -> Html {
    let detector = use_memo((), |()| detector());
    let normalised = normalise(&props.value, props.max_chars);
    let findings: Vec<Finding> = (*detector).as_ref().map(|d| d.detect(&normalised)).unwrap_or_default();
    let oninput = {
        let onchange = props.onchange.clone();
        Callback::from(move |event: InputEvent| {
            let area: web_sys::HtmlTextAreaElement = event.target_unchecked_into();
            onchange.emit(area.value());
        })
    };
    let hint_id = format!("{}-hint", props.id);
    html! {
        <div class="candor-question">
            <label for={props.id.clone()}>{ props.prompt.clone() }</label>
            <textarea id={props.id.clone()} rows="6" {oninput} value={props.value.clone()}
                aria-describedby={hint_id.clone()} maxlength={(props.max_chars * 2).to_string()} />
            <div id={hint_id} class="candor-findings" aria-live="polite">
                if detector.is_none() {
                    <p class="candor-note">{ "This browser cannot check your text for names, addresses or \
                        numbers: read it back yourself before you send." }</p>
                }
                { for findings.iter().map(|finding| {
                    let onclick = {
                        let (onchange, text, finding) = (props.onchange.clone(), normalised.clone(), finding.clone());
                        Callback::from(move |_| onchange.emit(scrub::redact(&text, std::slice::from_ref(&finding))))
                    };
                    html! {
                        <p class="candor-finding">
                            { format!("This looks like {}: “{}”. ", finding.kind.describe(), &normalised[finding.span.clone()]) }
                            <button type="button" {onclick}>{ format!("Replace with {}", finding.kind.placeholder()) }</button>
                        </p>
                    }
                }) }
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct RatingQuestionProps {
    id: String,
    prompt: String,
    min: u8,
    max: u8,
    value: Option<u8>,
    onchange: Callback<u8>,
}

#[function_component(RatingQuestion)]
fn rating_question(props: &RatingQuestionProps) -> Html {
    html! {
        <fieldset class="candor-question candor-rating">
            <legend>{ props.prompt.clone() }</legend>
            { for (props.min..=props.max).map(|value| {
                let id = format!("{}-{value}", props.id);
                let onchange = { let cb = props.onchange.clone(); Callback::from(move |_| cb.emit(value)) };
                html! {
                    <span class="candor-choice">
                        <input type="radio" id={id.clone()} name={props.id.clone()} value={value.to_string()}
                            checked={props.value == Some(value)} {onchange} />
                        <label for={id}>{ value }</label>
                    </span>
                }
            }) }
        </fieldset>
    }
}

#[derive(Properties, PartialEq)]
struct DeliveryStatusProps {
    delivery: Delivery,
    on_send_now: Callback<MouseEvent>,
}

#[function_component(DeliveryStatus)]
fn delivery_status(props: &DeliveryStatusProps) -> Html {
    let body = match &props.delivery {
        Delivery::Idle => html! {},
        Delivery::Queued(at) => {
            let minutes = at.saturating_sub(now_ms()).div_ceil(60_000);
            html! {
                <>
                    <p>{ format!("Your feedback is queued in this browser and will be sent in about {minutes} minute(s), \
                                   even if you close this page (it goes out the next time you open it).") }</p>
                    <button type="button" onclick={props.on_send_now.clone()}>{ "Send now" }</button>
                    <p class="candor-note">{ "Sending now is safe, but a random delay makes it harder to match the \
                        arrival of your feedback with the moment you were seen writing it." }</p>
                </>
            }
        }
        Delivery::Delivered(item) => html! {
            <p class="candor-done">{ format!("Delivered. The server's signed receipt verified and is kept in this \
                browser (item {item}…).") }</p>
        },
        Delivery::Refused(message) => html! { <p class="candor-problem">{ message.clone() }</p> },
    };
    html! { <div class="candor-status" role="status" aria-live="polite">{ body }</div> }
}
