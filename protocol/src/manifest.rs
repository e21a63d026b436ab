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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Release {
    /// When the round closes.
    AtClose,
}

/// A team of a round: the org unit an item speaks for, and the token key its members
/// are issued. The team of an item is the team of the key its token was signed with, so
/// it is what the server checked at issuance — never the writer's, or the host page's,
/// say-so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Team {
    /// The team's scope: the round's scope or an org unit below it.
    pub scope: Scope,
    /// Its token key id: SHA-256 of the published SPKI.
    pub token_key_id: TokenKeyId,
}

/// Everything a widget needs to know about a round, and everything it must be able to
/// verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoundManifest {
    /// The round.
    pub round: RoundId,
    /// The org unit whose members may answer (and its sub-units).
    pub scope: Scope,
    /// The round's teams, in scope order, each with its own token key. The round's own
    /// scope is always one of them: members of units that are not listed answer as it.
    pub teams: Vec<Team>,
    /// The questions.
    pub questions: Vec<Question>,
    /// First day of the round, in the organisation's time zone.
    pub opens: Day,
    /// Last day on which feedback is accepted, in the organisation's time zone.
    pub closes: Day,
    /// The organisation's time zone (an IANA name such as `Europe/Berlin`), in which
    /// `opens` and `closes` are days.
    pub time_zone: String,
    /// When the round opens: the Unix time at which `opens` begins in `time_zone`.
    pub opens_at: u64,
    /// When the round closes: the Unix time at which the day after `closes` begins in
    /// `time_zone`. Nothing is accepted from then on.
    pub closes_at: u64,
    /// Anonymity threshold k: nothing about a scope is shown below k items.
    pub threshold: u32,
    /// Tokens each eligible employee may obtain.
    pub tokens_per_person: u32,
    /// When leaders can read the feedback.
    pub release: Release,
    /// The mean, in minutes of open pages, of the random delay before the widget sends
    /// (exponential, drawn afresh in every page view: see [`crate::schedule`]).
    pub send_delay_minutes: u32,
    /// The Privacy Pass issuer name in the token challenge.
    pub issuer_name: String,
    /// The feedback origin, the challenge's `origin_info`.
    pub origin: String,
    /// The key the server signs receipts with.
    pub receipt_key: ReceiptPublicKey,
    /// The organisation's own ID patterns (regular expressions such as `EMP-[0-9]{6}`),
    /// which the widget flags like e-mail addresses. See [`scrub::Pattern`] for the
    /// syntax both engines read alike.
    pub id_patterns: Vec<String>,
    /// How many days after the close a browser keeps what it holds for the round (the
    /// author key and the receipt, for checking the published record and for replies).
    pub keep_on_device_days: u32,
}

/// The most teams a round may have. Token requests name their key by one byte, so the
/// live keys of all open rounds together must stay below 256.
pub const MAX_TEAMS: usize = 128;
/// The most ID patterns a round may carry, and the longest each may be.
pub const MAX_ID_PATTERNS: usize = 16;
/// The longest an ID pattern may be, in bytes.
pub const MAX_ID_PATTERN_LEN: usize = 200;
/// The longest a browser may be asked to keep a round's entry after it closes.
pub const MAX_KEEP_ON_DEVICE_DAYS: u32 = 400;

/// Why a manifest is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The organisation's signature does not verify.
    #[error(transparent)]
    Signature(#[from] BadSignature),
    /// The threshold is below the minimum.
    #[error("the anonymity threshold must be at least {MIN_THRESHOLD}")]
    Threshold,
    /// The round closes before it opens, or its instants do not fit its days.
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
    /// The teams are missing, too many, out of order, outside the round, without the
    /// round's own scope, or share a key.
    #[error(
        "a round needs 1 to {MAX_TEAMS} distinct teams in scope order, within its scope, including its scope, \
         each with its own key"
    )]
    Teams,
    /// The ID patterns are too many or too long.
    #[error("at most {MAX_ID_PATTERNS} ID patterns of at most {MAX_ID_PATTERN_LEN} bytes")]
    IdPatterns,
    /// The time zone name is empty or not a plausible IANA name.
    #[error("the time zone must be an IANA name such as Europe/Berlin")]
    TimeZone,
    /// The device retention is too long.
    #[error("a browser may keep a round for at most {MAX_KEEP_ON_DEVICE_DAYS} days after it closes")]
    KeepOnDevice,
}

impl RoundManifest {
    /// Checks the rules every manifest obeys.
    pub fn check(&self) -> Result<(), ManifestError> {
        if self.threshold < MIN_THRESHOLD {
            return Err(ManifestError::Threshold);
        }
        // The instants must be in the days' order, at most a day and a bit from UTC
        // midnight of their days (time zones lie within ±14 h of UTC).
        let near = |at: u64, day: Day| at.abs_diff(day.utc_midnight()) <= 15 * 3_600;
        let after_closes = self.closes.utc_midnight() + 86_400;
        if self.closes < self.opens
            || self.closes_at <= self.opens_at
            || !near(self.opens_at, self.opens)
            || self.closes_at.abs_diff(after_closes) > 15 * 3_600
        {
            return Err(ManifestError::Dates);
        }
        let zone_ok = (1..=64).contains(&self.time_zone.len())
            && self.time_zone.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
        if !zone_ok {
            return Err(ManifestError::TimeZone);
        }
        if self.tokens_per_person == 0 {
            return Err(ManifestError::Tokens);
        }
        if self.send_delay_minutes > MAX_SEND_DELAY_MINUTES {
            return Err(ManifestError::SendDelay);
        }
        if self.keep_on_device_days > MAX_KEEP_ON_DEVICE_DAYS {
            return Err(ManifestError::KeepOnDevice);
        }
        if self.id_patterns.len() > MAX_ID_PATTERNS
            || self.id_patterns.iter().any(|p| p.is_empty() || p.len() > MAX_ID_PATTERN_LEN)
        {
            return Err(ManifestError::IdPatterns);
        }
        let ordered = self.teams.windows(2).all(|pair| pair[0].scope < pair[1].scope);
        let distinct_keys = self
            .teams
            .iter()
            .enumerate()
            .all(|(i, team)| self.teams[..i].iter().all(|other| other.token_key_id != team.token_key_id));
        if self.teams.is_empty()
            || self.teams.len() > MAX_TEAMS
            || !ordered
            || !distinct_keys
            || !self.teams.iter().all(|team| self.scope.contains(&team.scope))
            || self.team(&self.scope).is_none()
        {
            return Err(ManifestError::Teams);
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
        let mut out = Canonical::new("candor/manifest/v2");
        out.bytes(&self.round.to_bytes()).str(self.scope.as_str());
        out.u32(u32::try_from(self.teams.len()).unwrap_or(u32::MAX));
        for team in &self.teams {
            out.str(team.scope.as_str()).bytes(&team.token_key_id.to_bytes());
        }
        out.u32(u32::try_from(self.questions.len()).unwrap_or(u32::MAX));
        for question in &self.questions {
            out.str(question.id.as_str()).str(&question.prompt);
            match question.kind {
                QuestionKind::Text { max_chars } => out.tag(1).u32(max_chars),
                QuestionKind::Rating { scale } => out.tag(2).tag(scale.tag()),
            };
        }
        out.str(&self.opens.to_string()).str(&self.closes.to_string());
        out.str(&self.time_zone).u64(self.opens_at).u64(self.closes_at);
        out.u32(self.threshold).u32(self.tokens_per_person);
        out.tag(match self.release {
            Release::AtClose => 1,
        });
        out.u32(self.send_delay_minutes).str(&self.issuer_name).str(&self.origin);
        out.bytes(&self.receipt_key.to_bytes());
        out.u32(u32::try_from(self.id_patterns.len()).unwrap_or(u32::MAX));
        for pattern in &self.id_patterns {
            out.str(pattern);
        }
        out.u32(self.keep_on_device_days);
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

    /// The TokenChallenge of this round: this issuer, this round, this origin. Every
    /// team's tokens answer the same challenge; the key tells the teams apart.
    pub fn token_challenge(&self) -> TokenChallenge {
        TokenChallenge::new(
            self.issuer_name.clone(),
            Some(self.round.redemption_context()),
            self.origin.clone(),
        )
    }

    /// The team with exactly this scope.
    pub fn team(&self, scope: &Scope) -> Option<&Team> {
        self.teams.iter().find(|team| &team.scope == scope)
    }

    /// The team whose key has this id: the team of an item whose token it signed.
    pub fn team_of_key(&self, key_id: TokenKeyId) -> Option<&Team> {
        self.teams.iter().find(|team| team.token_key_id == key_id)
    }

    /// The team a member of `scope` answers as: the deepest team that contains it.
    pub fn team_for_scope(&self, scope: &Scope) -> Option<&Team> {
        self.teams.iter().filter(|team| team.scope.contains(scope)).max_by_key(|team| team.scope.depth())
    }

    /// The teams someone who belongs to `scopes` (an assertion's, in its order) may be
    /// issued a token for: for each of their scopes, the deepest team containing it.
    /// The widget takes the first; the issuer accepts any of them and no other.
    pub fn teams_for(&self, scopes: &[Scope]) -> Vec<&Team> {
        let mut teams: Vec<&Team> = Vec::new();
        for team in scopes.iter().filter_map(|scope| self.team_for_scope(scope)) {
            if !teams.contains(&team) {
                teams.push(team);
            }
        }
        teams
    }

    /// Client: checks that `key` is the one this manifest names for `team`.
    pub fn check_token_key(&self, team: &Scope, key: &TokenKey) -> Result<(), ManifestError> {
        match self.team(team) {
            Some(team) if team.token_key_id == key.id() => Ok(()),
            _ => Err(ManifestError::TokenKey),
        }
    }

    /// Whether the round takes tokens and feedback at this Unix time.
    pub fn is_open_at(&self, unix_seconds: u64) -> bool {
        self.opens_at <= unix_seconds && unix_seconds < self.closes_at
    }

    /// The question with this id.
    pub fn question(&self, id: &QuestionId) -> Option<&Question> {
        self.questions.iter().find(|question| &question.id == id)
    }

    /// Server: checks a submission body against this round: the round id and the
    /// answers. (Its team is the team of the token's key, not anything the body says.)
    pub fn check_submission(&self, body: &SubmissionBody) -> Result<(), AnswerError> {
        if body.round != self.round {
            return Err(AnswerError::WrongRound);
        }
        self.check_answers(&body.answers)
    }

    /// Checks a set of answers against the questions: each names a question of the
    /// round, at most once, of the right kind, in range (text is normalised by its
    /// type, [`FeedbackText`](crate::submission::FeedbackText)). At least one answer must be given.
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
                // Not empty and normalised, by its type.
                (QuestionKind::Text { max_chars }, AnswerValue::Text(text)) => {
                    if text.chars() > *max_chars as usize {
                        return Err(AnswerError::TooLong(name(), *max_chars));
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
    /// A text answer over the bound.
    #[error("the answer to `{0}` is longer than {1} characters")]
    TooLong(String, u32),
    /// A rating outside its scale.
    #[error("the rating for `{0}` is outside its scale")]
    OutOfRange(String),
}

/// A manifest with the organisation's signature, as served to widgets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
