//! The JSON bodies of Candor's HTTP API. The server writes them and the browser front
//! ends (and the tests) read them, so each is defined here, once, with the checks a
//! reader must make.

use serde::{Deserialize, Serialize};

use crate::domain::{Day, QuestionId, RoundId, Scope};
use crate::keys::OrganisationPublicKey;
use crate::manifest::{ManifestError, QuestionKind, RoundManifest, SignedManifest, Team};
use crate::submission::Answer;
use crate::token::TokenKey;

/// What went wrong, as a stable code both ends share: the server answers it, the
/// browser front ends choose the sentence a person reads by it (never by the HTTP
/// status, never by showing the server's own text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The server failed; nothing was changed. Try again later.
    Internal,
    /// The eligibility assertion is missing, forged, expired or for another audience.
    Assertion,
    /// The body is larger than the server takes.
    TooLarge,
    /// The body could not be read.
    Body,
    /// The body's media type is not the one the endpoint takes.
    ContentType,
    /// The token request is malformed.
    TokenRequest,
    /// No open round has the token key the request names.
    TokenKey,
    /// The assertion does not name the team of the token key asked for.
    Team,
    /// The person has received every token the round allows.
    Quota,
    /// The Privacy Pass token is missing, malformed, or not valid for this round.
    Token,
    /// The body is not valid UTF-8.
    #[serde(rename = "utf-8")]
    Utf8,
    /// The body is not the JSON the endpoint takes.
    Json,
    /// A query parameter is missing or invalid.
    Query,
    /// There is no such round.
    Round,
    /// The round is not open: not yet, or no longer.
    RoundNotOpen,
    /// The author's signature does not verify, or the token is not bound to the author key.
    Signature,
    /// The answers do not fit the round's questions.
    Answers,
    /// The token has already been spent on another submission.
    Spent,
    /// The leader's sign-in link is unknown, used or expired.
    Link,
    /// The leader is not signed in, or the session has ended.
    Session,
    /// The request came from a page of another origin.
    Origin,
    /// Too many attempts; wait before trying again.
    RateLimited,
    /// No such resource.
    NotFound,
    /// The resource does not take this method.
    Method,
    /// A code this build does not know (a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it travels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::Assertion => "assertion",
            Self::TooLarge => "too-large",
            Self::Body => "body",
            Self::ContentType => "content-type",
            Self::TokenRequest => "token-request",
            Self::TokenKey => "token-key",
            Self::Team => "team",
            Self::Quota => "quota",
            Self::Token => "token",
            Self::Utf8 => "utf-8",
            Self::Json => "json",
            Self::Query => "query",
            Self::Round => "round",
            Self::RoundNotOpen => "round-not-open",
            Self::Signature => "signature",
            Self::Answers => "answers",
            Self::Spent => "spent",
            Self::Link => "link",
            Self::Session => "session",
            Self::Origin => "origin",
            Self::RateLimited => "rate-limited",
            Self::NotFound => "not-found",
            Self::Method => "method",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error answer (4xx and 5xx): a code for programs, a sentence for developers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorCode,
    /// The same in plain words, for whoever reads the wire; front ends show their own.
    pub message: String,
}

/// `GET /v1/rounds` answers a list of these: every open round, with the token key of
/// each of its teams. Every widget of the organisation fetches the same list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OpenRound {
    /// The signed manifest.
    pub manifest: SignedManifest,
    /// The teams' token keys (base64url canonical SPKI on the wire), in the order of the
    /// manifest's teams.
    pub token_keys: Vec<TokenKey>,
}

/// Why a client refuses an [`OpenRound`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoundRefusal {
    /// The manifest is not signed by the pinned organisation key, or breaks its rules.
    #[error("the round's manifest does not verify: {0}")]
    Manifest(ManifestError),
    /// A team has no token key, or a key more than the teams.
    #[error("the round's token keys are malformed")]
    MalformedKey,
    /// A token key is not the one the signed manifest names for its team: it could
    /// single the employee out.
    #[error("a token key differs from the one the signed manifest names")]
    OtherKey,
    /// The round is not open now (even allowing a day of clock skew): an old round
    /// replayed, or one that has not begun.
    #[error("the round is not open now")]
    NotOpen,
    /// The round names another issuer or origin than the server the widget came from.
    #[error("the round belongs to another server")]
    OtherServer,
    /// No team of the round contains any of the employee's scopes.
    #[error("the round is not for the employee's team")]
    NotYourTeam,
}

/// A round a client has verified: manifest and every team's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRound {
    /// The manifest, signature and rules checked.
    pub manifest: RoundManifest,
    /// The token keys, in the order of the manifest's teams, each checked against it.
    pub keys: Vec<TokenKey>,
}

impl VerifiedRound {
    /// The token key of a team.
    pub fn key_of(&self, team: &Team) -> Option<&TokenKey> {
        let index = self.manifest.teams.iter().position(|t| t == team)?;
        self.keys.get(index)
    }
}

/// The clock skew a client allows when it checks that a round is open: a day.
pub const OPEN_SLACK_SECONDS: u64 = 86_400;

/// What a client knows about itself when it checks a round.
#[derive(Debug, Clone, Copy)]
pub struct ClientView<'a> {
    /// The pinned organisation key.
    pub organisation: &'a OrganisationPublicKey,
    /// The host (and port) of the server the widget was loaded from: the round's issuer
    /// name and origin must be it.
    pub server_host: &'a str,
    /// The employee's scopes, from their assertion.
    pub scopes: &'a [Scope],
    /// The time now, Unix seconds, as the device's clock says.
    pub now: u64,
}

impl OpenRound {
    /// Server: the round as it is offered.
    pub fn new(manifest: SignedManifest, token_keys: &[&TokenKey]) -> Self {
        Self { manifest, token_keys: token_keys.iter().map(|&key| key.clone()).collect() }
    }

    /// Client: checks the manifest against the pinned organisation key, and every token
    /// key against the key id the manifest names for its team.
    pub fn verify(&self, organisation: &OrganisationPublicKey) -> Result<VerifiedRound, RoundRefusal> {
        let manifest = self.manifest.verify(organisation).map_err(RoundRefusal::Manifest)?;
        if self.token_keys.len() != manifest.teams.len() {
            return Err(RoundRefusal::MalformedKey);
        }
        for (team, key) in manifest.teams.iter().zip(&self.token_keys) {
            manifest.check_token_key(&team.scope, key).map_err(|_| RoundRefusal::OtherKey)?;
        }
        Ok(VerifiedRound { manifest: manifest.clone(), keys: self.token_keys.clone() })
    }

    /// Client: everything [`verify`](Self::verify) checks, and that the round is one
    /// this employee should answer here and now — open (a day of clock skew allowed),
    /// of this server, with a team for one of their scopes. Returns the round and the
    /// team to ask a token for. A round that fails any of this is refused outright: a
    /// server without the organisation key could still replay an old round, or another
    /// unit's, to give one person an anonymity set of one.
    pub fn verify_for(&self, client: &ClientView<'_>) -> Result<(VerifiedRound, Team), RoundRefusal> {
        let round = self.verify(client.organisation)?;
        let manifest = &round.manifest;
        if manifest.issuer_name != client.server_host || manifest.origin != client.server_host {
            return Err(RoundRefusal::OtherServer);
        }
        let open = manifest.opens_at <= client.now.saturating_add(OPEN_SLACK_SECONDS)
            && client.now < manifest.closes_at.saturating_add(OPEN_SLACK_SECONDS);
        if !open {
            return Err(RoundRefusal::NotOpen);
        }
        let team =
            manifest.teams_for(client.scopes).first().copied().cloned().ok_or(RoundRefusal::NotYourTeam)?;
        Ok((round, team))
    }
}

/// `POST /v1/leader/sign-in`: the one-time link, or only its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SignIn {
    /// The link.
    pub link: String,
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LeaderView {
    /// Their name.
    pub name: String,
    /// The scope they lead.
    pub scope: Scope,
}

/// How many items of a group one digest answer carries: a group's first page comes with
/// its round's digest, the rest a page at a time from
/// `GET /v1/digest/rounds/{round}/items?group=…&from=…`.
pub const DIGEST_PAGE_ITEMS: usize = 50;

/// `GET /v1/digest`: the leader and the released rounds they may read, newest first. It
/// holds no items, so what it costs does not grow with what the rounds hold; each round's
/// digest is `GET /v1/digest/rounds/{round}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DigestView {
    /// Who is signed in.
    pub leader: LeaderView,
    /// One heading per released round that overlaps their scope.
    pub rounds: Vec<RoundHeading>,
}

/// A released round, as the digest's index lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoundHeading {
    /// The round.
    pub round: RoundId,
    /// The round's scope.
    pub scope: Scope,
    /// The part of it the leader's digest covers.
    pub covers: Scope,
    /// First day.
    pub opens: Day,
    /// Last day.
    pub closes: Day,
}

/// `GET /v1/digest/rounds/{round}/items?group=SCOPE&from=N`: up to
/// [`DIGEST_PAGE_ITEMS`] items of one visible group, from its `from`-th item on, in the
/// group's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemPage {
    /// The group.
    pub group: Scope,
    /// The place of the first item here in the group's order.
    pub from: usize,
    /// How many items the group has in all.
    pub item_count: usize,
    /// The items.
    pub items: Vec<DigestItem>,
}

/// One round's digest: `GET /v1/digest/rounds/{round}`, each group with its first page
/// of items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// The visible groups, by scope. Whether anything was withheld is not said: for a
    /// leader of a small team, "something is withheld" would tell that someone wrote.
    pub groups: Vec<Group>,
}

/// A question, as the digest shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Group {
    /// The team.
    pub scope: Scope,
    /// Whether the round has teams below it, whose items, where they are too few to
    /// show on their own, are rolled up into it. From the manifest, never from the items:
    /// whether a small team wrote is not the digest's to say.
    pub may_include_smaller_teams: bool,
    /// How many items.
    pub item_count: usize,
    /// The items, in one uniform random order fixed at release: in a round's digest,
    /// the first [`DIGEST_PAGE_ITEMS`] of them.
    pub items: Vec<DigestItem>,
    /// For each rating question: how many gave each value, lowest value first.
    pub ratings: Vec<RatingDistribution>,
}

/// One item. It carries no date of its own: items are dated by their round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DigestItem {
    /// The answers.
    pub answers: Vec<Answer>,
}

/// How the answers to one rating question are spread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RatingDistribution {
    /// The question.
    pub question: QuestionId,
    /// The lowest value of the scale.
    pub min: u8,
    /// Counts for min, min+1, … max.
    pub counts: Vec<u32>,
}
