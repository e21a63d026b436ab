//! Round manifests: what a round asks, of whom, until when, under which token key —
//! signed by the organisation's Ed25519 key, so every widget can check that it sees
//! the same round and the same key as everybody else (RFC 9576 §6.2).

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::canonical::Canonical;
use crate::domain::{Day, QuestionId, RoundId, Scope};
use crate::keys::{BadSignature, OrganisationKey, OrganisationPublicKey, ReceiptPublicKey, Signature};
use crate::scrub;
use crate::submission::{Answer, AnswerValue, SubmissionBody};
use crate::token::{TokenChallenge, TokenKey, TokenKeyId};

/// The smallest anonymity threshold a round may have.
pub const MIN_THRESHOLD: u32 = 3;
/// The longest random send delay a round may ask for: a week, in minutes.
pub const MAX_SEND_DELAY_MINUTES: u32 = 7 * 24 * 60;
/// The default anonymity threshold.
pub const DEFAULT_THRESHOLD: u32 = 5;
/// The most questions a round may ask.
pub const MAX_QUESTIONS: usize = 20;

/// A rating scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RatingScale {
    /// Employee Net Promoter Score: 0 to 10.
    Enps,
    /// Likert: 1 (strongly disagree) to 5 (strongly agree).
    Likert,
}

impl RatingScale {
    /// The lowest and highest allowed value.
    pub fn range(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Self::Enps => 0..=10,
            Self::Likert => 1..=5,
        }
    }

    fn tag(self) -> u8 {
        match self {
            Self::Enps => 1,
            Self::Likert => 2,
        }
    }
}

/// What kind of answer a question takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum QuestionKind {
    /// Free text of at most `max_chars` characters (after normalisation).
    Text {
        /// The length bound.
        max_chars: u32,
    },
    /// A rating on a scale.
    Rating {
        /// The scale.
        scale: RatingScale,
    },
}

/// One question of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Its id within the round.
    pub id: QuestionId,
    /// What the employee is asked.
    pub prompt: String,
    /// The answer it takes.
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// When items become visible to leaders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Release {
    /// When the round closes.
    AtClose,
}

/// Everything a widget needs to know about a round, and everything it must be able to
/// verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundManifest {
    /// The round.
    pub round: RoundId,
    /// The org unit whose members may answer (and its sub-units).
    pub scope: Scope,
    /// The questions.
    pub questions: Vec<Question>,
    /// First day of the round.
    pub opens: Day,
    /// Last day on which feedback is accepted.
    pub closes: Day,
    /// Anonymity threshold k: nothing about a scope is shown below k items.
    pub threshold: u32,
    /// Tokens each eligible employee may obtain.
    pub tokens_per_person: u32,
    /// When leaders can read the feedback.
    pub release: Release,
    /// The upper bound, in minutes, of the random delay the widget waits before sending.
    pub send_delay_minutes: u32,
    /// The Privacy Pass issuer name in the token challenge.
    pub issuer_name: String,
    /// The feedback origin, the challenge's `origin_info`.
    pub origin: String,
    /// The round's token key id: SHA-256 of its published SPKI.
    pub token_key_id: TokenKeyId,
    /// The key the server signs receipts with.
    pub receipt_key: ReceiptPublicKey,
}

/// Why a manifest is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The organisation's signature does not verify.
    #[error(transparent)]
    Signature(#[from] BadSignature),
    /// The threshold is below the minimum.
    #[error("the anonymity threshold must be at least {MIN_THRESHOLD}")]
    Threshold,
    /// The round closes before it opens.
    #[error("the round closes before it opens")]
    Dates,
    /// No questions, too many, or two with one id.
    #[error("a round needs 1 to {MAX_QUESTIONS} questions with distinct ids")]
    Questions,
    /// A text question's bound is out of range.
    #[error("a text question's max_chars must be 1 to {}", scrub::MAX_CHARS)]
    TextBound,
    /// The token key offered is not the one the manifest names.
    #[error("the token key does not match the signed manifest: refusing a key that may single you out")]
    TokenKey,
    /// Tokens per person must be at least 1.
    #[error("tokens per person must be at least 1")]
    Tokens,
    /// The send delay window is longer than a week.
    #[error("the send delay window may be at most {MAX_SEND_DELAY_MINUTES} minutes (a week)")]
    SendDelay,
}

impl RoundManifest {
    /// Checks the rules every manifest obeys.
    pub fn check(&self) -> Result<(), ManifestError> {
        if self.threshold < MIN_THRESHOLD {
            return Err(ManifestError::Threshold);
        }
        if self.closes < self.opens {
            return Err(ManifestError::Dates);
        }
        if self.tokens_per_person == 0 {
            return Err(ManifestError::Tokens);
        }
        if self.send_delay_minutes > MAX_SEND_DELAY_MINUTES {
            return Err(ManifestError::SendDelay);
        }
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            return Err(ManifestError::Questions);
        }
        for (i, question) in self.questions.iter().enumerate() {
            if self.questions[..i].iter().any(|earlier| earlier.id == question.id) {
                return Err(ManifestError::Questions);
            }
            if let QuestionKind::Text { max_chars } = question.kind
                && !(1..=scrub::MAX_CHARS as u32).contains(&max_chars)
            {
                return Err(ManifestError::TextBound);
            }
        }
        Ok(())
    }

    /// The canonical bytes the organisation signs.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Canonical::new("candor/manifest/v1");
        out.bytes(&self.round.to_bytes()).str(self.scope.as_str());
        out.u32(u32::try_from(self.questions.len()).unwrap_or(u32::MAX));
        for question in &self.questions {
            out.str(question.id.as_str()).str(&question.prompt);
            match question.kind {
                QuestionKind::Text { max_chars } => out.tag(1).u32(max_chars),
                QuestionKind::Rating { scale } => out.tag(2).tag(scale.tag()),
            };
        }
        out.str(&self.opens.to_string()).str(&self.closes.to_string());
        out.u32(self.threshold).u32(self.tokens_per_person);
        out.tag(match self.release {
            Release::AtClose => 1,
        });
        out.u32(self.send_delay_minutes).str(&self.issuer_name).str(&self.origin);
        out.bytes(&self.token_key_id.to_bytes()).bytes(&self.receipt_key.to_bytes());
        out.finish()
    }

    /// SHA-256 of the canonical bytes: what the ledger commits to.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes()).into()
    }

    /// Organisation: signs the manifest, after checking it.
    pub fn sign(self, key: &OrganisationKey) -> Result<SignedManifest, ManifestError> {
        self.check()?;
        let signature = key.sign(&self.canonical_bytes());
        Ok(SignedManifest { manifest: self, signature })
    }

    /// The TokenChallenge of this round: this issuer, this round, this origin.
    pub fn token_challenge(&self) -> TokenChallenge {
        TokenChallenge::new(
            self.issuer_name.clone(),
            Some(self.round.redemption_context()),
            self.origin.clone(),
        )
    }

    /// Client: checks that `key` is the one this manifest names.
    pub fn check_token_key(&self, key: &TokenKey) -> Result<(), ManifestError> {
        if key.id() == self.token_key_id { Ok(()) } else { Err(ManifestError::TokenKey) }
    }

    /// The question with this id.
    pub fn question(&self, id: &QuestionId) -> Option<&Question> {
        self.questions.iter().find(|question| &question.id == id)
    }

    /// Server: checks a submission body against this round: the round id, the team
    /// scope (this round's scope or below it) and the answers.
    pub fn check_submission(&self, body: &SubmissionBody) -> Result<(), AnswerError> {
        if body.round != self.round {
            return Err(AnswerError::WrongRound);
        }
        if !self.scope.contains(&body.scope) {
            return Err(AnswerError::ScopeOutside(body.scope.to_string()));
        }
        self.check_answers(&body.answers)
    }

    /// Checks a set of answers against the questions: each names a question of the
    /// round, at most once, of the right kind, in range, and text already normalised
    /// (see [`scrub::normalise`]). At least one answer must be given.
    pub fn check_answers(&self, answers: &[Answer]) -> Result<(), AnswerError> {
        if answers.is_empty() {
            return Err(AnswerError::Empty);
        }
        for (i, answer) in answers.iter().enumerate() {
            let question = self
                .question(&answer.question)
                .ok_or_else(|| AnswerError::UnknownQuestion(answer.question.as_str().to_owned()))?;
            let name = || question.id.as_str().to_owned();
            if answers[..i].iter().any(|earlier| earlier.question == answer.question) {
                return Err(AnswerError::Duplicate(name()));
            }
            match (&question.kind, &answer.value) {
                (QuestionKind::Text { max_chars }, AnswerValue::Text(text)) => {
                    if text.is_empty() {
                        return Err(AnswerError::EmptyText(name()));
                    }
                    if text.chars().count() > *max_chars as usize {
                        return Err(AnswerError::TooLong(name(), *max_chars));
                    }
                    #[cfg(feature = "nfkc-tables")]
                    if scrub::normalise(text) != *text {
                        return Err(AnswerError::NotNormalised(name()));
                    }
                }
                (QuestionKind::Rating { scale }, AnswerValue::Rating(value)) => {
                    if !scale.range().contains(value) {
                        return Err(AnswerError::OutOfRange(name()));
                    }
                }
                _ => return Err(AnswerError::WrongKind(name())),
            }
        }
        Ok(())
    }
}

/// Why a set of answers does not fit a round.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The body names another round.
    #[error("the submission is for another round")]
    WrongRound,
    /// The team scope is not within the round's scope.
    #[error("scope `{0}` is not within this round's scope")]
    ScopeOutside(String),
    /// No answers at all.
    #[error("no answers were given")]
    Empty,
    /// An answer to a question the round does not ask.
    #[error("the round has no question `{0}`")]
    UnknownQuestion(String),
    /// Two answers to one question.
    #[error("question `{0}` is answered twice")]
    Duplicate(String),
    /// A text answer to a rating question, or the reverse.
    #[error("question `{0}` takes another kind of answer")]
    WrongKind(String),
    /// An empty text answer.
    #[error("the answer to `{0}` is empty")]
    EmptyText(String),
    /// A text answer over the bound.
    #[error("the answer to `{0}` is longer than {1} characters")]
    TooLong(String, u32),
    /// A text answer that normalisation would change.
    #[error("the answer to `{0}` is not normalised text")]
    NotNormalised(String),
    /// A rating outside its scale.
    #[error("the rating for `{0}` is outside its scale")]
    OutOfRange(String),
}

/// A manifest with the organisation's signature, as served to widgets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedManifest {
    /// The manifest.
    pub manifest: RoundManifest,
    /// The organisation's signature over its canonical bytes.
    pub signature: Signature,
}

impl SignedManifest {
    /// Client: verifies the organisation's signature and the manifest's rules. Only a
    /// manifest that passes is ever used.
    pub fn verify(&self, key: &OrganisationPublicKey) -> Result<&RoundManifest, ManifestError> {
        key.verify(&self.manifest.canonical_bytes(), &self.signature)?;
        self.manifest.check()?;
        Ok(&self.manifest)
    }
}
