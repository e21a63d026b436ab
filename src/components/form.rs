//! The round's questions and the send button.

use std::rc::Rc;

use candor_protocol::manifest::QuestionKind;
use yew::prelude::*;

use super::{RatingQuestion, TextQuestion};
use crate::hooks::use_detector;
use crate::messages::{Msg, text};
use crate::state::State;

/// Props of [`Form`].
#[derive(Debug, Properties, PartialEq)]
pub struct FormProps {
    /// The widget's state.
    pub state: UseReducerHandle<State>,
    /// An answer was typed.
    pub on_text: Callback<(usize, String)>,
    /// A rating was chosen.
    pub on_rate: Callback<(usize, u8)>,
    /// The form was sent.
    pub on_send: Callback<()>,
}

/// The form.
#[function_component(Form)]
pub fn form(props: &FormProps) -> Html {
    let state = &*props.state;
    let patterns = Rc::new(state.round.as_ref().map(|r| r.manifest.id_patterns.clone()).unwrap_or_default());
    let detector = use_detector(patterns);
    let Some(round) = &state.round else { return html! {} };
    let onsubmit = {
        let on_send = props.on_send.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            on_send.emit(());
        })
    };
    html! {
        <form {onsubmit} aria-describedby="candor-privacy">
            { for round.manifest.questions.iter().enumerate().map(|(i, question)| {
                let id = format!("q-{}", question.id.as_str());
                match question.kind {
                    QuestionKind::Text { max_chars } => html! {
                        <TextQuestion {id} prompt={question.prompt.clone()} {max_chars}
                            value={state.texts.get(i).cloned().unwrap_or_default()} detector={detector.clone()}
                            on_change={ let on = props.on_text.clone(); Callback::from(move |v| on.emit((i, v))) } />
                    },
                    QuestionKind::Rating { scale } => html! {
                        <RatingQuestion {id} prompt={question.prompt.clone()}
                            min={*scale.range().start()} max={*scale.range().end()}
                            value={state.ratings.get(i).copied().flatten()}
                            on_change={ let on = props.on_rate.clone(); Callback::from(move |v| on.emit((i, v))) } />
                    },
                }
            }) }
            if let Some(problem) = state.form_problem {
                <p class="candor-problem" role="alert">{ text(&Msg::Problem(problem)) }</p>
            }
            <button type="submit" disabled={!state.can_send()}>{ text(&Msg::Send) }</button>
            if let Some(problem) = state.token_problem {
                <p class="candor-problem" role="alert">{ text(&Msg::NoToken(problem)) }</p>
            } else if !state.token_ready {
                <p class="candor-note">{ text(&Msg::GettingToken) }</p>
            }
        </form>
    }
}
