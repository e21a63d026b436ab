//! The JSON bodies of Candor's HTTP API. The server writes them and the browser front
//! ends (and the tests) read them, so each is defined here, once, with the checks a
//! reader must make.

use serde::{Deserialize, Serialize};

use crate::domain::{Day, QuestionId, RoundId, Scope};
use crate::keys::OrganisationPublicKey;
use crate::manifest::{ManifestError, QuestionKind, RoundManifest, SignedManifest};
use crate::submission::Answer;
use crate::token::TokenKey;

/// Every error answer (4xx and 5xx): a code for programs, a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A short, stable code (`"spent"`, `"quota"`, `"scope"`, …).
    pub error: String,
    /// What went wrong, in plain words.
    pub message: String,
}

/// `GET /v1/rounds?scope=…` answers a list of these: each open round for the scope,
/// with the token key its issuer uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenRound {
    /// The signed manifest.
    pub manifest: SignedManifest,
    /// The round's token key, base64url SPKI.
    pub token_key: String,
}

/// Why a client refuses an [`OpenRound`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoundRefusal {
    /// The manifest is not signed by the pinned organisation key, or breaks its rules.
    #[error("the round's manifest does not verify: {0}")]
    Manifest(ManifestError),
    /// The token key is not a canonical token key.
    #[error("the round's token key is malformed")]
    MalformedKey,
    /// The token key is not the one the signed manifest names: it could single the
    /// employee out.
    #[error("the token key differs from the one the signed manifest names")]
    OtherKey,
}

impl OpenRound {
    /// Server: the round as it is offered.
    pub fn new(manifest: SignedManifest, token_key: &TokenKey) -> Self {
        Self { manifest, token_key: token_key.to_base64() }
    }

    /// Client: checks the manifest against the pinned organisation key, and the token key
    /// against the key id that manifest names.
    pub fn verify(
        &self,
        organisation: &OrganisationPublicKey,
    ) -> Result<(RoundManifest, TokenKey), RoundRefusal> {
        let manifest = self.manifest.verify(organisation).map_err(RoundRefusal::Manifest)?;
        let key = TokenKey::from_base64(&self.token_key).map_err(|_| RoundRefusal::MalformedKey)?;
        manifest.check_token_key(&key).map_err(|_| RoundRefusal::OtherKey)?;
        Ok((manifest.clone(), key))
    }
}

/// `POST /v1/leader/sign-in`: the one-time link, or only its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    /// The link.
    pub link: String,
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderView {
    /// Their name.
    pub name: String,
    /// The scope they lead.
    pub scope: Scope,
}

/// `GET /v1/digest`: the leader and the released rounds they may read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestView {
    /// Who is signed in.
    pub leader: LeaderView,
    /// One digest per released round that overlaps their scope.
    pub rounds: Vec<RoundDigest>,
}

/// One round's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundDigest {
    /// The round.
    pub round: RoundId,
    /// The round's scope.
    pub scope: Scope,
    /// The part of it this digest covers (the leader's scope, or the round's if narrower).
    pub covers: Scope,
    /// The questions, in order.
    pub questions: Vec<QuestionSummary>,
    /// First day.
    pub opens: Day,
    /// Last day.
    pub closes: Day,
    /// The anonymity threshold.
    pub threshold: u32,
    /// The visible groups, by scope.
    pub groups: Vec<Group>,
    /// Whether some feedback is withheld because even the whole scope holds fewer than k
    /// items of it. (How many is not said.)
    pub withheld: bool,
}

/// A question, as the digest shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionSummary {
    /// Its id.
    pub id: QuestionId,
    /// The prompt.
    pub prompt: String,
    /// Its kind.
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// A visible group: at least k items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The team.
    pub scope: Scope,
    /// Whether it includes items of smaller teams below it, rolled up.
    pub includes_smaller_teams: bool,
    /// How many items.
    pub item_count: usize,
    /// The items, in the round's shuffled order, dated by day.
    pub items: Vec<DigestItem>,
    /// For each rating question: how many gave each value, lowest value first.
    pub ratings: Vec<RatingDistribution>,
}

/// One item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestItem {
    /// The day it arrived.
    pub day: Day,
    /// The answers.
    pub answers: Vec<Answer>,
}

/// How the answers to one rating question are spread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingDistribution {
    /// The question.
    pub question: QuestionId,
    /// The lowest value of the scale.
    pub min: u8,
    /// Counts for min, min+1, … max.
    pub counts: Vec<u32>,
}
