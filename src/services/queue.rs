//! The queue worker: everything that changes the wallet runs holding one Web Lock
//! (`navigator.locks`), across every tab of this browser, so two tabs never send one
//! item twice or ask for two tokens; and a lost answer is asked for again with the
//! identical submission, which the server answers with the same receipt.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use candor_protocol::b64;
use candor_protocol::domain::RoundId;
use candor_protocol::keys::AuthorKey;
use candor_protocol::manifest::QuestionKind;
use candor_protocol::receipt::{Receipt, SignedReceipt};
use candor_protocol::schedule;
use candor_protocol::submission::{
    Answer, AnswerValue, FeedbackText, NonceSalt, SubmissionBody, bound_nonce,
};
use candor_protocol::token::{self, TokenRequest, TokenResponse};
use candor_protocol::{api::ErrorCode, http_auth};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::browser::{browser_nfkc, now_ms, rng};
use super::http;
use super::wallet::{Entry, Pending, Person, Wallet};
use crate::state::{Phase, Reason, Round};

const LOCK: &str = "candor-wallet";

/// Runs `work` holding the wallet's lock. With `wait` false, returns `None` at once if
/// another tab holds it. Browsers without Web Locks run it directly.
pub async fn with_lock<T: 'static, F: Future<Output = T> + 'static>(
    wait: bool,
    work: impl FnOnce() -> F + 'static,
) -> Option<T> {
    let navigator = gloo_utils::window().navigator();
    let locks = js_sys::Reflect::get(&navigator, &"locks".into()).unwrap_or_default();
    let request = js_sys::Reflect::get(&locks, &"request".into())
        .ok()
        .and_then(|request| request.dyn_into::<js_sys::Function>().ok());
    let Some(request) = request else { return Some(work().await) };
    let result = Rc::new(RefCell::new(None));
    let slot = result.clone();
    let callback = Closure::once(move |lock: JsValue| -> js_sys::Promise {
        if lock.is_null() {
            return js_sys::Promise::resolve(&JsValue::NULL);
        }
        wasm_bindgen_futures::future_to_promise(async move {
            let value = work().await;
            *slot.borrow_mut() = Some(value);
            Ok(JsValue::NULL)
        })
    });
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"ifAvailable".into(), &JsValue::from_bool(!wait));
    let promise = request
        .call3(&locks, &LOCK.into(), &options, callback.as_ref().unchecked_ref())
        .ok()
        .and_then(|promise| promise.dyn_into::<js_sys::Promise>().ok())?;
    let _ = JsFuture::from(promise).await;
    drop(callback);
    result.take()
}

fn now_seconds() -> u64 {
    now_ms() / 1_000
}

/// The shortened item hash a person is shown.
fn short(receipt: &SignedReceipt) -> String {
    b64::encode(receipt.receipt.item.to_bytes()).chars().take(12).collect()
}

/// What a person's entry for a round means for them now.
pub fn phase_of(entry: &Entry) -> Option<Phase> {
    if let Some(receipt) = &entry.receipt {
        return Some(Phase::Delivered(short(receipt)));
    }
    let pending = entry.pending.as_ref()?;
    Some(if let Some(code) = pending.refused {
        Phase::Failed(Reason::Server(code))
    } else if now_seconds() >= pending.closes_at {
        Phase::Failed(Reason::Closed)
    } else if now_ms() >= pending.deadline_ms {
        Phase::Overdue
    } else {
        Phase::Queued { deadline_ms: pending.deadline_ms }
    })
}

/// The round of the person's item to send: the one given, or else any pending one.
pub fn item_round(person: &Person, round: Option<RoundId>) -> Option<RoundId> {
    let wallet = Wallet::load(now_seconds());
    let mut pending = wallet.pending_of(person);
    let first = pending.next().map(|entry| entry.round);
    match round {
        Some(round) if wallet.entry(person, round).is_some_and(|e| e.pending.is_some()) => Some(round),
        _ => first,
    }
}

/// The person's entry for a round, as it stands.
pub fn entry(person: &Person, round: RoundId) -> Option<Entry> {
    Wallet::load(now_seconds()).entry(person, round).cloned()
}

/// Obtains the round's token, unless the wallet already holds one (or the item is
/// already sent). Runs on load, whatever the person does next.
pub async fn obtain_token(
    server: String,
    person: Person,
    round: Rc<Round>,
    assertion: String,
) -> Result<(), Reason> {
    with_lock(true, move || async move {
        let id = round.manifest.round;
        if Wallet::load(now_seconds()).entry(&person, id).is_some() {
            return Ok(());
        }
        let mut rng = rng();
        let author = AuthorKey::generate(&mut rng);
        let salt = NonceSalt::generate(&mut rng);
        let nonce = bound_nonce(&author.public_key(), &salt);
        let (request, pending) =
            TokenRequest::blind(&mut rng, &round.key, &round.manifest.token_challenge(), nonce)
                .map_err(|_| Reason::Browser)?;
        let reply = http::send(
            "POST",
            &format!("{server}/v1/token-request"),
            &[
                ("authorization", &format!("Bearer {assertion}")),
                ("content-type", token::TOKEN_REQUEST_MEDIA_TYPE),
            ],
            Some(&request.to_bytes()),
        )
        .await?;
        if reply.status != 200 {
            return Err(reply.reason());
        }
        let response = TokenResponse::parse(&reply.body).map_err(|_| Reason::BadAnswer)?;
        let token = pending.finalize(&response).map_err(|_| Reason::BadAnswer)?;
        let manifest = &round.manifest;
        let mut wallet = Wallet::load(now_seconds());
        wallet.entries.push(Entry {
            person,
            round: id,
            expires: manifest.closes_at + u64::from(manifest.keep_on_device_days) * 86_400,
            author_seed: b64::encode(*author.to_seed()),
            salt: Some(salt),
            token: Some(b64::encode(token.to_bytes())),
            pending: None,
            receipt: None,
        });
        wallet.save()
    })
    .await
    .unwrap_or(Err(Reason::Browser))
}

/// Builds, signs and queues the submission. Returns the phase it is in.
pub async fn enqueue(
    person: Person,
    round: Rc<Round>,
    texts: Vec<String>,
    ratings: Vec<Option<u8>>,
) -> Result<Phase, Reason> {
    with_lock(true, move || async move {
        let manifest = &round.manifest;
        let mut answers = Vec::new();
        for ((question, text), rating) in manifest.questions.iter().zip(&texts).zip(&ratings) {
            let value = match question.kind {
                QuestionKind::Text { max_chars } => {
                    FeedbackText::normalised_with(text, max_chars as usize, browser_nfkc)
                        .map(AnswerValue::Text)
                }
                QuestionKind::Rating { .. } => rating.map(AnswerValue::Rating),
            };
            if let Some(value) = value {
                answers.push(Answer { question: question.id.clone(), value });
            }
        }
        if answers.is_empty() {
            return Err(Reason::Empty);
        }
        let mut wallet = Wallet::load(now_seconds());
        let entry = wallet.entry_mut(&person, manifest.round).ok_or(Reason::Browser)?;
        // Another tab queued or sent it meanwhile: that is what stands.
        if entry.pending.is_some() || entry.receipt.is_some() {
            return phase_of(entry).ok_or(Reason::Browser);
        }
        let author = entry.author().ok_or(Reason::Browser)?;
        let salt = entry.salt.ok_or(Reason::Browser)?;
        let submission = SubmissionBody {
            round: manifest.round,
            answers,
            author_key: author.public_key(),
            nonce_salt: salt,
        }
        .sign(&author)
        .map_err(|_| Reason::Browser)?;
        let deadline_ms = schedule::deadline_ms(manifest);
        entry.pending = Some(Pending {
            body: serde_json::to_string(&submission).map_err(|_| Reason::Browser)?,
            item: submission.item_hash(),
            receipt_key: manifest.receipt_key,
            deadline_ms,
            closes_at: manifest.closes_at,
            delay_minutes: manifest.send_delay_minutes,
            refused: None,
        });
        let phase = phase_of(entry).ok_or(Reason::Browser)?;
        wallet.save()?;
        Ok(phase)
    })
    .await
    .unwrap_or(Err(Reason::Browser))
}

/// When this page view sends the item, if it stays open: drawn afresh now (see
/// [`candor_protocol::schedule`]). None if it is no longer to be sent automatically.
pub fn next_send(person: &Person, round: RoundId) -> Option<u64> {
    let entry = entry(person, round)?;
    let pending = entry.pending.as_ref().filter(|pending| pending.refused.is_none())?;
    schedule::send_at(now_ms(), pending.delay_minutes, pending.deadline_ms, super::browser::random_u32())
}

/// What a send attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The phase the item is in now.
    Phase(Phase),
    /// Not sent, nothing refused (offline, or the server in trouble): try again later.
    Retry,
    /// There is no item any more.
    Gone,
}

/// Sends the item now, holding the lock. If another tab holds it, says so through
/// `elsewhere`, waits for it, and then looks again (the other tab may have delivered).
pub async fn send(server: String, person: Person, round: RoundId, elsewhere: impl Fn() + 'static) -> Outcome {
    let attempt = {
        let (server, person) = (server.clone(), person.clone());
        move || async move { send_locked(&server, &person, round).await }
    };
    if let Some(outcome) = with_lock(false, attempt).await {
        return outcome;
    }
    elsewhere();
    with_lock(true, move || async move { send_locked(&server, &person, round).await })
        .await
        .unwrap_or(Outcome::Retry)
}

async fn send_locked(server: &str, person: &Person, round: RoundId) -> Outcome {
    let mut wallet = Wallet::load(now_seconds());
    let Some(entry) = wallet.entry_mut(person, round) else { return Outcome::Gone };
    if let Some(receipt) = &entry.receipt {
        return Outcome::Phase(Phase::Delivered(short(receipt)));
    }
    let Some(pending) = entry.pending.clone() else { return Outcome::Gone };
    if now_seconds() >= pending.closes_at {
        return Outcome::Phase(Phase::Failed(Reason::Closed));
    }
    let Some(token) = entry.token() else { return Outcome::Phase(Phase::Failed(Reason::Browser)) };
    let authorization = http_auth::authorization_value(&token);
    let url = format!("{server}/v1/feedback");
    let headers = [("authorization", authorization.as_str()), ("content-type", "application/json")];
    let post = || http::send("POST", &url, &headers, Some(pending.body.as_bytes()));
    let mut reply = match post().await {
        Ok(reply) => reply,
        Err(_) => return Outcome::Retry,
    };
    if reply.status == 409 {
        // Spent: by this very submission, whose answer was lost in a race? The same
        // submission again is answered with its receipt if so.
        reply = match post().await {
            Ok(reply) => reply,
            Err(_) => return Outcome::Retry,
        };
    }
    let outcome = match reply.status {
        200 | 201 => match serde_json::from_slice::<SignedReceipt>(&reply.body) {
            Ok(receipt)
                if receipt.verify(&pending.receipt_key, &Receipt { round, item: pending.item }).is_ok() =>
            {
                let phase = Phase::Delivered(short(&receipt));
                entry.delivered(receipt);
                phase
            }
            _ => Phase::Failed(Reason::Receipt),
        },
        500.. => return Outcome::Retry,
        _ => {
            let code = reply.error_code();
            if let Some(pending) = entry.pending.as_mut() {
                pending.refused = Some(if code == ErrorCode::Unknown { ErrorCode::Internal } else { code });
            }
            Phase::Failed(Reason::Server(code))
        }
    };
    if wallet.save().is_err() {
        return Outcome::Phase(Phase::Failed(Reason::Browser));
    }
    Outcome::Phase(outcome)
}

/// The person tries a refused item again: it is queued as new.
pub async fn retry(person: Person, round: RoundId) {
    with_lock(true, move || async move {
        let mut wallet = Wallet::load(now_seconds());
        if let Some(pending) = wallet.entry_mut(&person, round).and_then(|entry| entry.pending.as_mut()) {
            pending.refused = None;
            let _ = wallet.save();
        }
    })
    .await;
}

/// The person discards their queued item: its text leaves the browser.
pub async fn discard(person: Person, round: RoundId) {
    with_lock(true, move || async move {
        let mut wallet = Wallet::load(now_seconds());
        if let Some(entry) = wallet.entry_mut(&person, round) {
            entry.pending = None;
            let _ = wallet.save();
        }
    })
    .await;
}
