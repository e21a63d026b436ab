//! A free-text question, with its findings and one-click redaction.

use candor_protocol::scrub;
use yew::prelude::*;

use crate::hooks::DetectorHandle;
use crate::messages::{Msg, text};
use crate::services::browser::normalise;

/// Props of [`TextQuestion`].
#[derive(Debug, Properties, Clone)]
pub struct TextQuestionProps {
    /// The element id.
    pub id: String,
    /// The question.
    pub prompt: String,
    /// Its length bound.
    pub max_chars: u32,
    /// The text so far.
    pub value: String,
    /// The detector of identifying details.
    pub detector: DetectorHandle,
    /// The text changed.
    pub on_change: Callback<String>,
}

impl PartialEq for TextQuestionProps {
    fn eq(&self, other: &Self) -> bool {
        (&self.id, &self.prompt, self.max_chars, &self.value, &self.on_change)
            == (&other.id, &other.prompt, other.max_chars, &other.value, &other.on_change)
    }
}

/// A text question.
#[function_component(TextQuestion)]
pub fn text_question(props: &TextQuestionProps) -> Html {
    let normalised = normalise(&props.value, props.max_chars);
    let findings = props.detector.findings(&normalised);
    let oninput = {
        let on_change = props.on_change.clone();
        Callback::from(move |event: InputEvent| {
            let area: web_sys::HtmlTextAreaElement = event.target_unchecked_into();
            on_change.emit(area.value());
        })
    };
    let hint_id = format!("{}-hint", props.id);
    html! {
        <div class="candor-question">
            <label for={props.id.clone()}>{ props.prompt.clone() }</label>
            <textarea id={props.id.clone()} rows="6" {oninput} value={props.value.clone()}
                aria-describedby={hint_id.clone()} maxlength={(props.max_chars * 2).to_string()} />
            <div id={hint_id} class="candor-findings" aria-live="polite">
                if !props.detector.available() {
                    <p class="candor-note">{ text(&Msg::NoDetector) }</p>
                }
                { for findings.iter().map(|finding| {
                    let onclick = {
                        let (on_change, all, finding) = (props.on_change.clone(), normalised.clone(), finding.clone());
                        Callback::from(move |_| on_change.emit(scrub::redact(&all, std::slice::from_ref(&finding))))
                    };
                    let found = &normalised[finding.span.clone()];
                    html! {
                        <p class="candor-finding">
                            { text(&Msg::Finding { kind: finding.kind.describe(), found }) }
                            <button type="button" {onclick}>{ text(&Msg::Replace(finding.kind.placeholder())) }</button>
                        </p>
                    }
                }) }
            </div>
        </div>
    }
}
