//! What happened to the person's feedback: queued, sending, delivered, or not sent and
//! why — in a polite live region.

use yew::prelude::*;

use crate::messages::{Msg, text};
use crate::services::browser::local_time;
use crate::state::Phase;

/// Props of [`Delivery`].
#[derive(Debug, Properties, PartialEq)]
pub struct DeliveryProps {
    /// The phase.
    pub phase: Phase,
    /// "Send now" or "Try again".
    pub on_send_now: Callback<()>,
    /// "Discard".
    pub on_discard: Callback<()>,
}

/// The delivery status.
#[function_component(Delivery)]
pub fn delivery(props: &DeliveryProps) -> Html {
    let button = |msg: Msg<'_>, on: &Callback<()>| {
        let on = on.clone();
        html! { <button type="button" onclick={Callback::from(move |_| on.emit(()))}>{ text(&msg) }</button> }
    };
    let body = match &props.phase {
        Phase::Queued { deadline_ms } => html! {
            <>
                <p>{ text(&Msg::Queued(&local_time(*deadline_ms))) }</p>
                { button(Msg::SendNow, &props.on_send_now) }
                <p class="candor-note">{ text(&Msg::SendNowNote) }</p>
            </>
        },
        Phase::Sending => html! { <p>{ text(&Msg::Sending) }</p> },
        Phase::SendingElsewhere => html! { <p>{ text(&Msg::SendingElsewhere) }</p> },
        Phase::Overdue => html! {
            <>
                <p>{ text(&Msg::Overdue) }</p>
                { button(Msg::SendNow, &props.on_send_now) }
                { button(Msg::Discard, &props.on_discard) }
            </>
        },
        Phase::Failed(reason) => html! {
            <>
                <p class="candor-problem">{ text(&Msg::Failed(*reason)) }</p>
                { button(Msg::TryAgain, &props.on_send_now) }
                { button(Msg::Discard, &props.on_discard) }
            </>
        },
        Phase::Delivered(item) => html! { <p class="candor-done">{ text(&Msg::Delivered(item)) }</p> },
        _ => html! {},
    };
    html! { <div class="candor-status" role="status" aria-live="polite">{ body }</div> }
}
