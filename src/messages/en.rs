//! English.

use candor_protocol::api::ErrorCode;

use super::Msg;
use crate::state::{Reason, Refusal};

/// The English sentence for `msg`.
pub fn text(msg: &Msg<'_>) -> String {
    match msg {
        Msg::Heading => "Anonymous feedback".into(),
        Msg::Checking => "Checking this round with your organisation's key…".into(),
        Msg::WaitingForPage => "Waiting for the intranet page to say who you are…".into(),
        Msg::NoRound => "There is no open feedback round for your team right now.".into(),
        Msg::WhoReads { scope, closes, threshold } => format!(
            "Leaders of {scope} will read what you write here, after the round closes on {closes} (your time). \
             They see a team's feedback only once at least {threshold} people in it have written; smaller \
             teams are combined with their parent team."
        ),
        Msg::HowItWorks => {
            "Neither they nor the people who run Candor can tell who wrote what: your browser \
            proves you may take part with a blinded token, and sends your words later, at a random moment \
            while a page with this widget is open, without cookies or your page address. Your own words can \
            still give you away — names, details, turns of phrase — so read it back before you send."
                .into()
        }
        Msg::Fingerprint(fingerprint) => format!(
            "Your organisation's key, which this widget checks every round against: {fingerprint}. Compare it \
             with the one your organisation publishes."
        ),
        Msg::NoDetector => {
            "This browser cannot check your text for names, addresses or numbers: read it back \
            yourself before you send."
                .into()
        }
        Msg::Finding { kind, found } => format!("This looks like {kind}: “{found}”. "),
        Msg::Replace(placeholder) => format!("Replace with {placeholder}"),
        Msg::Send => "Send anonymously".into(),
        Msg::GettingToken => "Getting this browser's anonymous token…".into(),
        Msg::NoToken(reason) => format!("No token for this round: {}", reason_text(*reason)),
        Msg::Queued(deadline) => format!(
            "Your feedback is queued in this browser. It is sent at a random moment while a page with this \
             widget is open, and no later than {deadline} if one is open then; closing this page loses nothing."
        ),
        Msg::SendNow => "Send now".into(),
        Msg::SendNowNote => {
            "Sending now is safe, but the random moment makes it harder to match the arrival of \
            your feedback with the moment you were seen at your desk."
                .into()
        }
        Msg::Sending => "Sending…".into(),
        Msg::SendingElsewhere => "Another tab of this browser is sending your feedback.".into(),
        Msg::Overdue => {
            "Your feedback was not sent before the round's last hour. Send it now if you still want \
            to: it will arrive right after you opened this page."
                .into()
        }
        Msg::Delivered(item) => format!(
            "Delivered. The server's signed receipt verified and is kept in this browser (item {item}…)."
        ),
        Msg::Failed(reason) => format!("Your feedback was not sent: {}", reason_text(*reason)),
        Msg::TryAgain => "Try again".into(),
        Msg::Discard => "Discard".into(),
        Msg::Problem(reason) => reason_text(*reason).into(),
    }
}

fn reason_text(reason: Reason) -> &'static str {
    match reason {
        Reason::Setup => {
            "The page that embeds this widget did not give it your organisation's key, so nothing \
            here can be verified."
        }
        Reason::Assertion => {
            "The intranet page did not say who you are in a way Candor can check against your \
            organisation's intranet keys, so nothing kept in this browser is opened."
        }
        Reason::Round(refusal) => match refusal {
            Refusal::Manifest => {
                "This round's description is not signed by your organisation. Nothing will be \
                sent."
            }
            Refusal::MalformedKey => "The round's token key is malformed. Nothing will be sent.",
            Refusal::OtherKey => {
                "The server offered a token key that differs from the one your organisation \
                signed for this round. It could be used to tell you apart from your colleagues, so nothing will \
                be sent."
            }
            Refusal::NotOpen => "The server offered a round that is not open now. Nothing will be sent.",
            Refusal::OtherServer => "The server offered a round of another server. Nothing will be sent.",
        },
        Reason::Server(code) => server_text(code),
        Reason::Unreachable => "the Candor server could not be reached. It will be tried again.",
        Reason::BadAnswer => "the server's answer was not understood.",
        Reason::Receipt => {
            "the server's receipt does not verify: keep a note of the time and tell your \
            operator."
        }
        Reason::Browser => {
            "this browser does not let Candor keep what it needs, or could not do the \
            cryptography."
        }
        Reason::Closed => "the round has closed.",
        Reason::Empty => "Write something or choose a rating first.",
    }
}

fn server_text(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Spent => {
            "its token has already been used: feedback for this round was already sent with it."
        }
        ErrorCode::Quota => {
            "you have already received every token this round allows, maybe in another browser."
        }
        ErrorCode::Assertion => {
            "the intranet's word about who you are was not accepted (it may have expired: \
            reload the page)."
        }
        ErrorCode::Team => "the server does not accept this team for you.",
        ErrorCode::RoundNotOpen | ErrorCode::Round => "the round has closed.",
        ErrorCode::Token | ErrorCode::Signature | ErrorCode::TokenKey | ErrorCode::TokenRequest => {
            "the server did not accept this browser's token."
        }
        ErrorCode::Answers | ErrorCode::Json | ErrorCode::Utf8 | ErrorCode::Body | ErrorCode::TooLarge => {
            "the server did not accept the answers."
        }
        ErrorCode::RateLimited => "the server asks to wait a while.",
        ErrorCode::Internal => "the server had a problem; nothing was stored.",
        _ => "the server refused it.",
    }
}
