//! Who reads what is written here, when, and how anonymity works — and the pinned
//! organisation key's fingerprint.

use std::rc::Rc;

use yew::prelude::*;

use crate::messages::{Msg, text};
use crate::services::browser::local_time;
use crate::state::Round;

/// Props of [`PrivacyPanel`].
#[derive(Debug, Properties, PartialEq)]
pub struct PrivacyPanelProps {
    /// The round.
    pub manifest: Rc<Round>,
    /// The organisation key's fingerprint.
    pub fingerprint: String,
}

/// The privacy panel.
#[function_component(PrivacyPanel)]
pub fn privacy_panel(props: &PrivacyPanelProps) -> Html {
    let m = &props.manifest.manifest;
    let closes = local_time(m.closes_at * 1_000);
    let who = Msg::WhoReads { scope: m.scope.as_str(), closes: &closes, threshold: m.threshold };
    html! {
        <section id="candor-privacy" class="candor-privacy" aria-label="Who reads this">
            <h1>{ text(&Msg::Heading) }</h1>
            <p>{ text(&who) }</p>
            <p>{ text(&Msg::HowItWorks) }</p>
            <p class="candor-note">{ text(&Msg::Fingerprint(&props.fingerprint)) }</p>
        </section>
    }
}
