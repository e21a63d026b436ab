//! The widget's state machine at work: [`use_widget`] holds the [`State`] reducer and
//! runs the services — the host page's messages, round discovery and verification, the
//! token, the queue worker — dispatching [`Action`]s as things happen.

use std::cell::RefCell;
use std::rc::Rc;

use candor_protocol::api::{ClientView, OpenRound};
use candor_protocol::assertion::{AssertionKeys, Claims};
use candor_protocol::domain::RoundId;
use gloo_timers::callback::Timeout;
use yew::prelude::*;

use crate::services::browser::{now_ms, random_u32};
use crate::services::host::{self, Setup};
use crate::services::http;
use crate::services::queue::{self, Outcome};
use crate::services::wallet::{Person, Wallet};
use crate::state::{Action, Phase, Reason, Refusal, Round, State};

/// What [`use_widget`] gives the components.
#[derive(Debug, Clone)]
pub struct WidgetHandle {
    /// The state.
    pub state: UseReducerHandle<State>,
    /// The pinned organisation key's fingerprint.
    pub fingerprint: Option<String>,
    /// An answer was typed.
    pub on_text: Callback<(usize, String)>,
    /// A rating was chosen.
    pub on_rate: Callback<(usize, u8)>,
    /// The form was sent.
    pub on_send: Callback<()>,
    /// "Send now" or "Try again".
    pub on_send_now: Callback<()>,
    /// "Discard".
    pub on_discard: Callback<()>,
}

/// Who and what the worker acts for.
#[derive(Debug, Default)]
struct Ctx {
    person: Option<Person>,
    /// The open round shown, if any.
    round: Option<RoundId>,
    /// The round of the person's item, if they have one.
    item: Option<RoundId>,
}

/// The queue worker of this page view: one timer, drawn afresh (see
/// `candor_protocol::schedule`), and sends through [`queue::send`] under the lock.
#[derive(Clone)]
struct Worker {
    dispatch: UseReducerDispatcher<State>,
    server: String,
    ctx: Rc<RefCell<Ctx>>,
    timer: Rc<RefCell<Option<Timeout>>>,
}

const DAY_MS: u64 = 86_400_000;

impl Worker {
    fn item(&self) -> Option<(Person, RoundId)> {
        let ctx = self.ctx.borrow();
        Some((ctx.person.clone()?, ctx.item?))
    }

    /// Draws when this page view sends the item, and waits for it.
    fn schedule(&self) {
        drop(self.timer.borrow_mut().take());
        let Some((person, round)) = self.item() else { return };
        let Some(at) = queue::next_send(&person, round) else {
            // Refused, overdue or closed: the person decides.
            if let Some(phase) = queue::entry(&person, round).as_ref().and_then(queue::phase_of) {
                self.dispatch.dispatch(Action::Item(phase));
            }
            return;
        };
        let wait = at.saturating_sub(now_ms());
        let this = self.clone();
        // A long wait is drawn again after a day: the delay has no memory, so that
        // changes nothing (and browsers' timers stop at 24.8 days).
        let timeout = if wait > DAY_MS {
            Timeout::new(DAY_MS as u32, move || this.schedule())
        } else {
            Timeout::new(wait as u32, move || this.send())
        };
        *self.timer.borrow_mut() = Some(timeout);
    }

    /// Sends now.
    fn send(&self) {
        drop(self.timer.borrow_mut().take());
        let Some((person, round)) = self.item() else { return };
        self.dispatch.dispatch(Action::Item(Phase::Sending));
        let this = self.clone();
        yew::platform::spawn_local(async move {
            let elsewhere = {
                let dispatch = this.dispatch.clone();
                move || dispatch.dispatch(Action::Item(Phase::SendingElsewhere))
            };
            match queue::send(this.server.clone(), person.clone(), round, elsewhere).await {
                Outcome::Phase(phase) => this.dispatch.dispatch(Action::Item(phase)),
                Outcome::Retry => {
                    if let Some(phase) = queue::entry(&person, round).as_ref().and_then(queue::phase_of) {
                        this.dispatch.dispatch(Action::Item(phase));
                    }
                    // Offline or the server in trouble: again in half a minute or so.
                    let again = this.clone();
                    let wait = 30_000 + random_u32() % 60_000;
                    *this.timer.borrow_mut() = Some(Timeout::new(wait, move || again.send()));
                }
                Outcome::Gone => this.dispatch.dispatch(Action::Discarded),
            }
        });
    }
}

/// What every widget of the organisation fetches at load, the same for everyone: the
/// open rounds, and the intranet's keys to check the assertion with.
#[derive(Debug, Clone, PartialEq)]
struct Offer {
    rounds: Vec<OpenRound>,
    keys: AssertionKeys,
}

async fn get_json<T: serde::de::DeserializeOwned>(server: &str, path: &str) -> Result<T, Reason> {
    let reply = http::send("GET", &format!("{server}{path}"), &[], None).await?;
    if reply.status != 200 {
        return Err(reply.reason());
    }
    serde_json::from_slice(&reply.body).map_err(|_| Reason::BadAnswer)
}

async fn discover(server: &str) -> Result<Offer, Reason> {
    let keys = get_json(server, "/v1/assertion-keys").await?;
    Ok(Offer { rounds: get_json(server, "/v1/rounds").await?, keys })
}

/// The person the assertion names, if it is the intranet's word: on a shared browser a
/// made-up `sub` must not open what the widget keeps for someone else.
fn check(keys: &AssertionKeys, jws: &str) -> Result<Claims, Reason> {
    keys.verify(jws).map_err(|_| Reason::Assertion)
}

/// Picks the round for the person: the first that verifies and has a team for them.
/// Any other refusal stops everything: such a round may be meant to single them out.
fn choose(setup: &Setup, claims: &Claims, rounds: &[OpenRound]) -> Result<Option<Round>, Reason> {
    let view = ClientView {
        organisation: &setup.organisation,
        server_host: &setup.server_host,
        scopes: &claims.scopes,
        now: now_ms() / 1_000,
    };
    for round in rounds {
        match round.verify_for(&view) {
            Ok((verified, team)) => {
                let key = verified.key_of(&team).cloned().ok_or(Reason::Round(Refusal::MalformedKey))?;
                return Ok(Some(Round { manifest: verified.manifest, team, key }));
            }
            Err(refusal) => {
                if let Some(refusal) = Refusal::of(&refusal) {
                    return Err(Reason::Round(refusal));
                }
            }
        }
    }
    Ok(None)
}

/// The widget, running.
#[hook]
pub fn use_widget() -> WidgetHandle {
    let state = use_reducer(State::default);
    let setup = use_memo((), |()| Setup::from_location());
    let assertion = use_state(|| None::<String>);
    let offered = use_state(|| None::<Result<Offer, Reason>>);
    let ctx = use_mut_ref(Ctx::default);
    let timer = use_mut_ref(|| None::<Timeout>);
    let resized = use_mut_ref(|| false);
    let worker = Worker {
        dispatch: state.dispatcher(),
        server: (*setup).as_ref().map(|s| s.server.clone()).unwrap_or_default(),
        ctx: ctx.clone(),
        timer: timer.clone(),
    };

    // On load: drop what has expired, greet the host page, listen for the assertion,
    // fetch the rounds.
    {
        let (setup, assertion, offered, dispatch) =
            (setup.clone(), assertion.clone(), offered.clone(), state.dispatcher());
        use_effect_with((), move |()| {
            let listener = match &*setup {
                None => {
                    dispatch.dispatch(Action::Refuse(Reason::Setup));
                    None
                }
                Some(setup) => {
                    let _ = Wallet::load(now_ms() / 1_000);
                    let told = dispatch.clone();
                    let listener = host::on_assertion(setup.host.clone(), move |jws| {
                        assertion.set(Some(jws));
                        told.dispatch(Action::Told);
                    });
                    host::ready(&setup.host);
                    let server = setup.server.clone();
                    yew::platform::spawn_local(async move {
                        offered.set(Some(discover(&server).await));
                        dispatch.dispatch(Action::Offered);
                    });
                    Some(listener)
                }
            };
            move || drop(listener)
        });
    }

    // With the assertion and the rounds: the person, their round, their item, the token.
    {
        let (setup, dispatch, worker, resized) =
            (setup.clone(), state.dispatcher(), worker.clone(), resized.clone());
        use_effect_with(((*assertion).clone(), (*offered).clone()), move |(jws, offered)| {
            let (Some(setup), Some(jws), Some(offered)) = ((*setup).clone(), jws.clone(), offered.clone())
            else {
                return;
            };
            let offered = match offered {
                Ok(offer) => offer,
                Err(reason) => return dispatch.dispatch(Action::Refuse(reason)),
            };
            let claims = match check(&offered.keys, &jws) {
                Ok(claims) => claims,
                Err(reason) => return dispatch.dispatch(Action::Refuse(reason)),
            };
            let Some(person) = Person::of(&claims.subject) else {
                return dispatch.dispatch(Action::Refuse(Reason::Browser));
            };
            let chosen = choose(&setup, &claims, &offered.rounds);
            let round_id = chosen.as_ref().ok().and_then(|round| round.as_ref().map(|r| r.manifest.round));
            let item = queue::item_round(&person, round_id);
            let phase =
                item.or(round_id).and_then(|id| queue::entry(&person, id)).as_ref().and_then(queue::phase_of);
            {
                let mut ctx = worker.ctx.borrow_mut();
                *ctx = Ctx { person: Some(person.clone()), round: round_id, item };
            }
            match chosen {
                Ok(Some(round)) => {
                    let round = Rc::new(round);
                    dispatch.dispatch(Action::RoundReady(round.clone(), phase));
                    if !std::mem::replace(&mut *resized.borrow_mut(), true) {
                        host::resize(&setup.host, State::frame_height(&round.manifest));
                    }
                    let dispatch = dispatch.clone();
                    yew::platform::spawn_local(async move {
                        match queue::obtain_token(setup.server.clone(), person, round, jws).await {
                            Ok(()) => dispatch.dispatch(Action::TokenReady),
                            Err(reason) => dispatch.dispatch(Action::TokenFailed(reason)),
                        }
                    });
                }
                other => {
                    if let Some(phase) = phase {
                        dispatch.dispatch(Action::Item(phase));
                    }
                    dispatch.dispatch(match other {
                        Err(reason) => Action::Refuse(reason),
                        _ => Action::NoRound,
                    });
                }
            }
            worker.schedule();
        });
    }

    let on_text = {
        let dispatch = state.dispatcher();
        Callback::from(move |(i, text)| dispatch.dispatch(Action::Text(i, text)))
    };
    let on_rate = {
        let dispatch = state.dispatcher();
        Callback::from(move |(i, value)| dispatch.dispatch(Action::Rate(i, value)))
    };
    let on_send = {
        let (state, worker) = (state.clone(), worker.clone());
        Callback::from(move |()| {
            let (Some(round), Some(person)) = (state.round.clone(), worker.ctx.borrow().person.clone())
            else {
                return;
            };
            let (texts, ratings, worker) = (state.texts.clone(), state.ratings.clone(), worker.clone());
            let dispatch = state.dispatcher();
            yew::platform::spawn_local(async move {
                let id = round.manifest.round;
                match queue::enqueue(person, round, texts, ratings).await {
                    Ok(phase) => {
                        worker.ctx.borrow_mut().item = Some(id);
                        dispatch.dispatch(Action::Item(phase));
                        worker.schedule();
                    }
                    Err(reason) => dispatch.dispatch(Action::FormProblem(reason)),
                }
            });
        })
    };
    let on_send_now = {
        let (state, worker) = (state.clone(), worker.clone());
        Callback::from(move |()| {
            let Some((person, round)) = worker.item() else { return };
            let (worker, failed) = (worker.clone(), matches!(state.phase, Phase::Failed(_)));
            yew::platform::spawn_local(async move {
                if failed {
                    queue::retry(person, round).await;
                }
                worker.send();
            });
        })
    };
    let on_discard = {
        let worker = worker.clone();
        Callback::from(move |()| {
            let Some((person, round)) = worker.item() else { return };
            let worker = worker.clone();
            yew::platform::spawn_local(async move {
                queue::discard(person.clone(), round).await;
                let current = worker.ctx.borrow().round;
                worker.ctx.borrow_mut().item = queue::item_round(&person, current);
                worker.dispatch.dispatch(Action::Discarded);
                worker.schedule();
            });
        })
    };
    WidgetHandle {
        fingerprint: (*setup).as_ref().map(|setup| setup.organisation.fingerprint()),
        state,
        on_text,
        on_rate,
        on_send,
        on_send_now,
        on_discard,
    }
}
