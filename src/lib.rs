//! Candor's employee widget (Yew, wasm32).

use candor_protocol::scrub;
use yew::prelude::*;

/// The widget's root component.
#[function_component(App)]
pub fn app() -> Html {
    let text = use_state(String::new);
    let oninput = {
        let text = text.clone();
        Callback::from(move |event: InputEvent| {
            let area: web_sys::HtmlTextAreaElement = event.target_unchecked_into();
            text.set(area.value());
        })
    };
    let normalised = scrub::normalise(&text);
    let findings = scrub::detect(&normalised);
    html! {
        <main class="candor">
            <label for="candor-text">{ "Your feedback" }</label>
            <textarea id="candor-text" {oninput} value={(*text).clone()} />
            <p class="candor-preview" aria-live="polite">{ normalised.clone() }</p>
            <ul class="candor-findings">
                { for findings.iter().map(|finding| html! {
                    <li>{ format!("This looks like {}: “{}”", finding.kind.describe(), &normalised[finding.span.clone()]) }</li>
                }) }
            </ul>
        </main>
    }
}
