//! Every sentence a person reads in the widget, keyed by a typed [`Msg`]. The server's
//! error codes arrive as [`ErrorCode`](candor_protocol::api::ErrorCode) inside
//! [`Reason`]; nothing a person reads is the server's own text or chosen by an HTTP
//! status.
//!
//! English only for now. Another language is one more file beside `en.rs` with the same
//! `text` function, chosen in [`text`].

mod en;

use crate::state::Reason;

/// Something the widget says.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg<'a> {
    /// The widget's heading.
    Heading,
    /// Checking the round.
    Checking,
    /// Waiting for the intranet page to hand over the assertion.
    WaitingForPage,
    /// No open round for the person's team.
    NoRound,
    /// Who reads it, when: the round's scope, the close in the person's time zone, k.
    WhoReads {
        /// The round's scope.
        scope: &'a str,
        /// The close, formatted in the person's time zone.
        closes: &'a str,
        /// The anonymity threshold.
        threshold: u32,
    },
    /// How anonymity works, and its limit.
    HowItWorks,
    /// The pinned organisation key's fingerprint.
    Fingerprint(&'a str),
    /// The browser cannot check texts for identifying details.
    NoDetector,
    /// "This looks like an e-mail address: “…”."
    Finding {
        /// What it looks like.
        kind: &'a str,
        /// The text found.
        found: &'a str,
    },
    /// The redaction button.
    Replace(&'a str),
    /// The send button.
    Send,
    /// Getting the token.
    GettingToken,
    /// No token: why.
    NoToken(Reason),
    /// Queued, with the deadline formatted.
    Queued(&'a str),
    /// The send-now button.
    SendNow,
    /// What sending now costs.
    SendNowNote,
    /// Sending.
    Sending,
    /// Another tab is sending it.
    SendingElsewhere,
    /// The deadline passed unsent.
    Overdue,
    /// Delivered, item hash shortened.
    Delivered(&'a str),
    /// Could not be sent: why.
    Failed(Reason),
    /// The retry button.
    TryAgain,
    /// The discard button.
    Discard,
    /// A problem with the round, the page or the browser.
    Problem(Reason),
}

/// The sentence for a message, in the widget's language.
pub fn text(msg: &Msg<'_>) -> String {
    en::text(msg)
}
