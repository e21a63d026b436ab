//! The widget's whole state: one [`State`], changed only by [`Action`]s, in one
//! [`Phase`]. Pure — no browser in here — so it is tested natively
//! (`cargo test -p candor-widget`).

use std::rc::Rc;

use candor_protocol::api::{ErrorCode, RoundRefusal};
use candor_protocol::manifest::{QuestionKind, RoundManifest, Team};
use candor_protocol::token::TokenKey;
use yew::Reducible;

/// Why something the person wanted did not happen: what [`crate::messages`] turns into
/// a sentence. Typed, never the server's own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The iframe's address lacks the organisation key or the host page's origin.
    Setup,
    /// The assertion from the page is not the intranet's word, or could not be read.
    Assertion,
    /// A round was refused: it could single the person out.
    Round(Refusal),
    /// The server answered with this error code.
    Server(ErrorCode),
    /// The server could not be reached.
    Unreachable,
    /// The server's answer could not be understood, or did not verify.
    BadAnswer,
    /// The server's receipt does not verify.
    Receipt,
    /// The browser refused to keep anything, or could not do the cryptography.
    Browser,
    /// The round closed before the feedback could be sent.
    Closed,
    /// Nothing was written or chosen.
    Empty,
}

/// [`RoundRefusal`], without its detail: the reasons the widget tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The manifest is not signed by the pinned organisation key.
    Manifest,
    /// A token key is malformed.
    MalformedKey,
    /// A token key differs from the one the manifest names.
    OtherKey,
    /// Not open now.
    NotOpen,
    /// Another server's round.
    OtherServer,
}

impl Refusal {
    /// The widget's reason for a refusal; `None` for a round of another team, which is
    /// simply not this person's (every widget is offered every open round).
    pub fn of(refusal: &RoundRefusal) -> Option<Self> {
        Some(match refusal {
            RoundRefusal::Manifest(_) => Self::Manifest,
            RoundRefusal::MalformedKey => Self::MalformedKey,
            RoundRefusal::OtherKey => Self::OtherKey,
            RoundRefusal::NotOpen => Self::NotOpen,
            RoundRefusal::OtherServer => Self::OtherServer,
            RoundRefusal::NotYourTeam => return None,
        })
    }
}

/// A verified round, as the widget uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// The manifest, checked against the organisation key and here and now.
    pub manifest: RoundManifest,
    /// The team the person answers as (from their assertion's scopes).
    pub team: Team,
    /// That team's token key, checked against the manifest.
    pub key: TokenKey,
}

/// Where the widget is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Checking the round, or waiting for the page to say who the person is.
    Loading,
    /// Nothing can be done here: the reason says why.
    Refused(Reason),
    /// No open round for the person's team.
    NoRound,
    /// The form.
    Writing,
    /// Queued in this browser, to be sent by the deadline (ms since the epoch).
    Queued {
        /// The last moment it is sent without being asked.
        deadline_ms: u64,
    },
    /// Being sent from this tab.
    Sending,
    /// Another tab of this browser is sending it.
    SendingElsewhere,
    /// The deadline for sending it automatically passed: only the person may send it.
    Overdue,
    /// It could not be sent, and stays until the person retries or discards it.
    Failed(Reason),
    /// Delivered; the receipt verified. The item hash, shortened.
    Delivered(String),
}

impl Phase {
    /// Whether an item of this person's exists in this phase.
    pub fn has_item(&self) -> bool {
        matches!(
            self,
            Self::Queued { .. } | Self::Sending | Self::SendingElsewhere | Self::Overdue | Self::Failed(_)
        )
    }
}

/// Everything the widget shows.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The phase.
    pub phase: Phase,
    /// The round, once verified.
    pub round: Option<Rc<Round>>,
    /// Whether the browser holds its token for the round.
    pub token_ready: bool,
    /// What a token request failed with, if it did.
    pub token_problem: Option<Reason>,
    /// The text answers, one per question (empty for ratings).
    pub texts: Vec<String>,
    /// The ratings, one per question (None for texts).
    pub ratings: Vec<Option<u8>>,
    /// A problem with the form, said beside it.
    pub form_problem: Option<Reason>,
    /// The rounds and the intranet's keys have arrived.
    pub offered: bool,
    /// The page has said who the person is.
    pub told: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            phase: Phase::Loading,
            round: None,
            token_ready: false,
            token_problem: None,
            texts: Vec::new(),
            ratings: Vec::new(),
            form_problem: None,
            offered: false,
            told: false,
        }
    }
}

/// Everything that can happen.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The rounds and the intranet's keys have arrived.
    Offered,
    /// The page has said who the person is (the assertion is not checked yet).
    Told,
    /// The widget cannot run here, or the round was refused.
    Refuse(Reason),
    /// No round is open for the person's team.
    NoRound,
    /// The round is verified. With the state of this person's item in it, if any.
    RoundReady(Rc<Round>, Option<Phase>),
    /// The token is in the wallet.
    TokenReady,
    /// No token could be had.
    TokenFailed(Reason),
    /// An answer was typed (or a finding redacted).
    Text(usize, String),
    /// A rating was chosen.
    Rate(usize, u8),
    /// The form could not be queued.
    FormProblem(Reason),
    /// This person's item is in this phase (queued, sending, delivered…).
    Item(Phase),
    /// The person discarded their item.
    Discarded,
}

impl State {
    /// The phase when the person has no item: the form if there is a round.
    fn without_item(&self) -> Phase {
        if self.round.is_some() { Phase::Writing } else { Phase::NoRound }
    }

    /// Applies an action: the only way the state changes.
    pub fn apply(mut self, action: Action) -> Self {
        match action {
            Action::Offered => self.offered = true,
            Action::Told => self.told = true,
            Action::Refuse(reason) => {
                // An item of this person's (say, of a round that has since closed) is
                // still theirs to see, send or discard.
                if !self.phase.has_item() {
                    self.phase = Phase::Refused(reason);
                }
            }
            Action::NoRound => {
                if !self.phase.has_item() {
                    self.phase = Phase::NoRound;
                }
            }
            Action::RoundReady(round, item) => {
                let questions = round.manifest.questions.len();
                self.texts = vec![String::new(); questions];
                self.ratings = vec![None; questions];
                self.round = Some(round);
                self.phase = match item {
                    Some(phase) => phase,
                    None if self.phase.has_item() => self.phase,
                    None => Phase::Writing,
                };
            }
            Action::TokenReady => {
                self.token_ready = true;
                self.token_problem = None;
            }
            Action::TokenFailed(reason) => self.token_problem = Some(reason),
            Action::Text(i, text) => {
                if let Some(slot) = self.texts.get_mut(i) {
                    *slot = text;
                }
                self.form_problem = None;
            }
            Action::Rate(i, value) => {
                if let Some(slot) = self.ratings.get_mut(i) {
                    *slot = Some(value);
                }
                self.form_problem = None;
            }
            Action::FormProblem(reason) => self.form_problem = Some(reason),
            Action::Item(phase) => {
                if phase.has_item() {
                    // What was written is in the queue now; the form starts empty again.
                    self.texts.iter_mut().for_each(String::clear);
                    self.ratings.iter_mut().for_each(|r| *r = None);
                    self.form_problem = None;
                }
                self.phase = phase;
            }
            Action::Discarded => self.phase = self.without_item(),
        }
        self
    }

    /// Whether the widget waits for the page to say who the person is: everything else
    /// it needs has arrived.
    pub fn waiting_for_page(&self) -> bool {
        self.phase == Phase::Loading && self.offered && !self.told
    }

    /// Whether the form may be sent: a token, and something written or chosen.
    pub fn can_send(&self) -> bool {
        self.token_ready && self.phase == Phase::Writing
    }

    /// The height the host page is told, once, when the round's questions are laid out:
    /// a function of the round alone — the same for everyone who sees it, whatever they
    /// write or have sent. Anything taller scrolls inside the widget.
    pub fn frame_height(manifest: &RoundManifest) -> u32 {
        let questions: u32 = manifest
            .questions
            .iter()
            .map(|question| match question.kind {
                QuestionKind::Text { .. } => 250,
                QuestionKind::Rating { .. } => 110,
            })
            .sum();
        (330 + questions).clamp(420, 1_400)
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
    use candor_protocol::keys::ReceiptKey;
    use candor_protocol::manifest::{Question, RatingScale, Release};
    use candor_protocol::token::IssuerKey;

    fn round() -> Rc<Round> {
        let key = IssuerKey::generate(&mut rand::rng()).expect("key").token_key().clone();
        let scope = Scope::parse("acme/eng").expect("scope");
        let team = Team { scope: scope.clone(), token_key_id: key.id() };
        let manifest = RoundManifest {
            round: RoundId::parse("0123456789abcdef0123456789abcdef").expect("id"),
            scope,
            teams: vec![team.clone()],
            questions: vec![
                Question {
                    id: QuestionId::parse("rating").expect("id"),
                    prompt: "How likely?".into(),
                    kind: QuestionKind::Rating { scale: RatingScale::Enps },
                },
                Question {
                    id: QuestionId::parse("text").expect("id"),
                    prompt: "What should your leaders hear?".into(),
                    kind: QuestionKind::Text { max_chars: 2_000 },
                },
            ],
            opens: Day::parse("2026-01-01").expect("day"),
            closes: Day::parse("2026-01-14").expect("day"),
            time_zone: "UTC".into(),
            opens_at: 1_767_225_600,
            closes_at: 1_768_435_200,
            threshold: 5,
            tokens_per_person: 1,
            release: Release::AtClose,
            send_delay_minutes: 30,
            issuer_name: "candor.test".into(),
            origin: "candor.test".into(),
            receipt_key: ReceiptKey::from_seed(&[1; 32]).public_key(),
            id_patterns: Vec::new(),
            keep_on_device_days: 30,
        };
        Rc::new(Round { manifest, team, key })
    }

    fn run(actions: impl IntoIterator<Item = Action>) -> State {
        actions.into_iter().fold(State::default(), State::apply)
    }

    #[test]
    fn the_widget_says_when_it_waits_for_the_page() {
        assert!(!run([]).waiting_for_page(), "still fetching the rounds");
        assert!(run([Action::Offered]).waiting_for_page());
        assert!(!run([Action::Told, Action::Offered]).waiting_for_page(), "told first, checking now");
        assert!(!run([Action::Offered, Action::Told]).waiting_for_page());
        assert!(!run([Action::Offered, Action::Refuse(Reason::Unreachable)]).waiting_for_page());
    }

    #[test]
    fn a_verified_round_shows_the_form_and_the_token_enables_it() {
        let state = run([Action::RoundReady(round(), None)]);
        assert_eq!(state.phase, Phase::Writing);
        assert_eq!(state.texts.len(), 2);
        assert!(!state.can_send(), "no token yet");
        let state = state.apply(Action::TokenReady);
        assert!(state.can_send());
    }

    #[test]
    fn queuing_empties_the_form_and_delivery_ends_the_queue() {
        let state = run([
            Action::RoundReady(round(), None),
            Action::TokenReady,
            Action::Text(1, "Stand-ups run long.".into()),
            Action::Rate(0, 7),
            Action::Item(Phase::Queued { deadline_ms: 5 }),
        ]);
        assert_eq!(state.phase, Phase::Queued { deadline_ms: 5 });
        assert_eq!(state.texts, ["", ""], "the text lives in the queue, not the form");
        assert_eq!(state.ratings, [None, None]);
        assert!(!state.can_send());
        let state =
            state.apply(Action::Item(Phase::Sending)).apply(Action::Item(Phase::Delivered("abc".into())));
        assert_eq!(state.phase, Phase::Delivered("abc".into()));
    }

    #[test]
    fn a_refused_item_stays_until_discarded() {
        let state = run([
            Action::RoundReady(round(), None),
            Action::Item(Phase::Failed(Reason::Server(ErrorCode::RoundNotOpen))),
        ]);
        assert!(state.phase.has_item());
        assert_eq!(state.apply(Action::Discarded).phase, Phase::Writing);
    }

    #[test]
    fn an_item_of_a_closed_round_is_shown_even_without_a_round() {
        let state = run([Action::Item(Phase::Queued { deadline_ms: 9 }), Action::NoRound]);
        assert_eq!(state.phase, Phase::Queued { deadline_ms: 9 }, "the item is not hidden");
        let state = state.apply(Action::Item(Phase::Failed(Reason::Closed))).apply(Action::Discarded);
        assert_eq!(state.phase, Phase::NoRound);
    }

    #[test]
    fn a_refused_round_says_why_and_has_no_form() {
        let state = run([Action::Refuse(Reason::Round(Refusal::NotOpen))]);
        assert_eq!(state.phase, Phase::Refused(Reason::Round(Refusal::NotOpen)));
        assert!(!state.can_send());
        assert_eq!(Refusal::of(&RoundRefusal::NotYourTeam), None, "another team's round is no refusal");
    }

    #[test]
    fn the_frame_height_depends_on_the_round_only() {
        let round = round();
        let height = State::frame_height(&round.manifest);
        assert_eq!(height, 330 + 110 + 250);
        let mut longer = round.manifest.clone();
        longer.questions.truncate(1);
        assert_eq!(State::frame_height(&longer), 440);
    }
}
