//! The widget: the privacy panel, then whatever the phase calls for.

use yew::prelude::*;

use super::{Delivery, Form, PrivacyPanel};
use crate::hooks::use_widget;
use crate::messages::{Msg, text};
use crate::state::Phase;

/// The widget.
#[function_component(App)]
pub fn app() -> Html {
    let widget = use_widget();
    let state = &*widget.state;
    let body = match &state.phase {
        Phase::Loading if state.waiting_for_page() => html! { <p>{ text(&Msg::WaitingForPage) }</p> },
        Phase::Loading => html! { <p>{ text(&Msg::Checking) }</p> },
        Phase::Refused(reason) => {
            html! { <p class="candor-problem" role="alert">{ text(&Msg::Problem(*reason)) }</p> }
        }
        Phase::NoRound => html! { <p>{ text(&Msg::NoRound) }</p> },
        Phase::Writing => html! {
            <Form state={widget.state.clone()} on_text={widget.on_text.clone()} on_rate={widget.on_rate.clone()}
                on_send={widget.on_send.clone()} />
        },
        _ => html! {},
    };
    html! {
        <main class="candor" aria-busy={(state.phase == Phase::Loading).to_string()}>
            if let Some(round) = &state.round {
                <PrivacyPanel manifest={round.clone()} fingerprint={widget.fingerprint.clone().unwrap_or_default()} />
            }
            { body }
            <Delivery phase={state.phase.clone()} on_send_now={widget.on_send_now.clone()}
                on_discard={widget.on_discard.clone()} />
        </main>
    }
}
