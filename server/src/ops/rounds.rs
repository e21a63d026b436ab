//! Rounds: prepare (keys and manifest, where the database lives), sign (with the
//! organisation key, anywhere), import, open (all three at once), close, list.

use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
use candor_protocol::keys::{OrganisationKey, OrganisationPublicKey};
use candor_protocol::manifest::{
    MAX_TEAMS, Question, QuestionKind, RatingScale, Release, RoundManifest, SignedManifest, Team,
};
use candor_protocol::token::IssuerKey;

use super::{OpsError, OpsResult};
use crate::clock::Clock;
use crate::config::Config;
use crate::keyfiles::ServerKeys;
use crate::store::{RoundState, Store, TeamKey};

/// A rating scale, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Rating {
    /// eNPS, 0–10.
    Enps,
    /// Likert, 1–5.
    Likert,
}

/// What a round asks, of whom, until when.
#[derive(Debug, Clone)]
pub struct RoundSpec {
    /// The org unit whose members (and sub-units) are asked.
    pub scope: Scope,
    /// Teams below the scope, each with its own token key.
    pub teams: Vec<Scope>,
    /// The free-text question.
    pub question: String,
    /// A rating question too.
    pub rating: Option<Rating>,
    /// The rating question's prompt.
    pub rating_prompt: Option<String>,
    /// The last day feedback is accepted, in the organisation's time zone.
    pub closes: Day,
    /// The anonymity threshold.
    pub threshold: u32,
    /// Tokens each employee may obtain.
    pub tokens_per_person: u32,
    /// The mean of the widget's random send delay, in minutes of open pages.
    pub send_delay_minutes: u32,
    /// The most characters a text answer may hold.
    pub max_chars: u32,
    /// The organisation's ID patterns.
    pub id_patterns: Vec<String>,
    /// Days after the close that browsers keep the round.
    pub keep_on_device_days: u32,
}

impl RoundSpec {
    /// A round of `scope` with one text question, closing on `closes`, defaults elsewhere.
    pub fn new(scope: Scope, question: &str, closes: Day) -> Self {
        Self {
            scope,
            teams: Vec::new(),
            question: question.to_owned(),
            rating: None,
            rating_prompt: None,
            closes,
            threshold: candor_protocol::manifest::DEFAULT_THRESHOLD,
            tokens_per_person: 1,
            send_delay_minutes: candor_protocol::schedule::DEFAULT_SEND_DELAY_MINUTES,
            max_chars: 2_000,
            id_patterns: Vec::new(),
            keep_on_device_days: 30,
        }
    }
}

/// Prepares a round where its database lives: one RSA-2048 token key per team, sealed
/// at rest, and its manifest, which still needs the organisation's signature.
pub async fn prepare(
    config: &Config,
    store: &dyn Store,
    clock: &dyn Clock,
    spec: RoundSpec,
) -> OpsResult<RoundManifest> {
    let keys = ServerKeys::load(&config.keys_dir)?;
    let zone = &config.time_zone;
    let today = zone.day_at(clock.now());
    if spec.closes < today {
        return Err(OpsError::Invalid(format!(
            "the round would close on {}, before today ({today})",
            spec.closes
        )));
    }
    let mut questions = Vec::new();
    if let Some(rating) = spec.rating {
        let (scale, prompt) = match rating {
            Rating::Enps => {
                (RatingScale::Enps, "How likely are you to recommend this team as a place to work? (0–10)")
            }
            Rating::Likert => (
                RatingScale::Likert,
                "I feel heard by my leadership. (1 strongly disagree – 5 strongly agree)",
            ),
        };
        questions.push(Question {
            id: QuestionId::parse("rating").map_err(|e| OpsError::Invalid(e.to_string()))?,
            prompt: spec.rating_prompt.clone().unwrap_or_else(|| prompt.to_owned()),
            kind: QuestionKind::Rating { scale },
        });
    }
    questions.push(Question {
        id: QuestionId::parse("text").map_err(|e| OpsError::Invalid(e.to_string()))?,
        prompt: spec.question.clone(),
        kind: QuestionKind::Text { max_chars: spec.max_chars },
    });

    // The teams: the round's own scope, and every team named below it, in scope order.
    let mut team_scopes = vec![spec.scope.clone()];
    for team in &spec.teams {
        if !spec.scope.contains(team) {
            return Err(OpsError::Invalid(format!(
                "team {team} is not within the round's scope {}",
                spec.scope
            )));
        }
        team_scopes.push(team.clone());
    }
    team_scopes.sort();
    team_scopes.dedup();
    if team_scopes.len() > MAX_TEAMS {
        return Err(OpsError::Invalid(format!("a round has at most {MAX_TEAMS} teams")));
    }
    candor_protocol::scrub::Detector::<regex_lite::Regex>::new(&spec.id_patterns)
        .map_err(|e| OpsError::Invalid(e.to_string()))?;

    // A token request names its key by one byte; the database refuses a second live key
    // with the same byte, and keys are drawn until they avoid the taken ones.
    let mut taken = store.live_truncated_key_ids().await?;
    if taken.len() + team_scopes.len() > 256 {
        return Err(OpsError::Invalid(
            "too many live token keys: release a round, or open this one with fewer teams".into(),
        ));
    }
    let mut rng = rand::rng();
    let round = RoundId::generate(&mut rng);
    let seal = keys.token_key_seal();
    let mut teams = Vec::new();
    let mut team_keys = Vec::new();
    for scope in team_scopes {
        let issuer = loop {
            let key = IssuerKey::generate(&mut rng).map_err(|e| OpsError::Invalid(e.to_string()))?;
            if !taken.contains(&key.token_key().id().truncated()) {
                break key;
            }
        };
        taken.push(issuer.token_key().id().truncated());
        teams.push(Team { scope: scope.clone(), token_key_id: issuer.token_key().id() });
        let sealed = seal.seal(round, &scope, &issuer).map_err(|e| OpsError::Invalid(e.to_string()))?;
        team_keys.push(TeamKey { scope, token_key: issuer.token_key().clone(), sealed: Some(sealed) });
    }
    let after_close =
        spec.closes.next().ok_or_else(|| OpsError::Invalid("the closing day is too far ahead".into()))?;
    let manifest = RoundManifest {
        round,
        scope: spec.scope,
        teams,
        questions,
        opens: today,
        closes: spec.closes,
        time_zone: zone.name().to_owned(),
        opens_at: zone.start_of(today),
        closes_at: zone.start_of(after_close),
        threshold: spec.threshold,
        tokens_per_person: spec.tokens_per_person,
        release: Release::AtClose,
        send_delay_minutes: spec.send_delay_minutes,
        issuer_name: config.issuer_name(),
        origin: config.issuer_name(),
        receipt_key: keys.receipt.public_key(),
        id_patterns: spec.id_patterns,
        keep_on_device_days: spec.keep_on_device_days,
    };
    manifest.check()?;
    store.prepare_round(&manifest, &team_keys).await?;
    Ok(manifest)
}

/// Signs a prepared manifest with the organisation key: on any machine, no database.
pub fn sign(manifest: RoundManifest, organisation: &OrganisationKey) -> OpsResult<SignedManifest> {
    Ok(manifest.sign(organisation)?)
}

/// Imports a signed manifest into the round prepared for it, after checking the
/// signature against the organisation's public key. The round is open from then on.
pub async fn import(
    store: &dyn Store,
    organisation: &OrganisationPublicKey,
    signed: &SignedManifest,
) -> OpsResult<RoundId> {
    signed.verify(organisation)?;
    store.import_signature(signed).await?;
    Ok(signed.manifest.round)
}

/// Prepares, signs and imports a round in one go, where the organisation key is at hand.
pub async fn open(
    config: &Config,
    store: &dyn Store,
    clock: &dyn Clock,
    spec: RoundSpec,
    organisation: &OrganisationKey,
) -> OpsResult<RoundId> {
    let manifest = prepare(config, store, clock, spec).await?;
    let signed = sign(manifest, organisation)?;
    import(store, &organisation.public_key(), &signed).await
}

/// What `close` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Released now, with these figures.
    Released {
        /// Items.
        items: u64,
        /// Tokens issued.
        tokens: u64,
    },
    /// It had been released before (any pending erasure is finished now).
    AlreadyReleased,
}

/// Closes a round now and releases it.
pub async fn close(store: &dyn Store, id: RoundId) -> OpsResult<Closed> {
    let round = store.round(id).await?.ok_or_else(|| OpsError::Invalid(format!("there is no round {id}")))?;
    if round.state == RoundState::Prepared {
        return Err(OpsError::Invalid(format!(
            "round {id} is not signed yet: `candor round import` it first"
        )));
    }
    if store.release_round(id).await? {
        let counts = store.counts(id).await?;
        Ok(Closed::Released { items: counts.items, tokens: counts.tokens_issued })
    } else {
        store.finish_erasure().await?;
        Ok(Closed::AlreadyReleased)
    }
}

/// Releases every signed round whose closing instant has passed, and finishes any
/// erasure left pending. Returns the rounds released.
pub async fn release_due(store: &dyn Store, clock: &dyn Clock) -> OpsResult<Vec<RoundId>> {
    let now = clock.now();
    let mut released = Vec::new();
    for round in store.rounds().await? {
        if round.state == RoundState::Signed
            && now >= round.manifest.closes_at
            && store.release_round(round.id()).await?
        {
            released.push(round.id());
        }
    }
    store.finish_erasure().await?;
    Ok(released)
}

/// One line of `candor round list`.
#[derive(Debug, Clone)]
pub struct RoundLine {
    /// The round.
    pub id: RoundId,
    /// Its scope.
    pub scope: Scope,
    /// First and last day.
    pub opens: Day,
    /// Last day.
    pub closes: Day,
    /// prepared, open, closing (past its close, not yet released), released.
    pub state: &'static str,
    /// Whether the arrival order is erased from the files: yes, pending, or - (not released).
    pub erased: &'static str,
    /// Tokens issued.
    pub tokens: u64,
    /// Items received.
    pub items: u64,
}

/// Every round with its state and figures.
pub async fn list(store: &dyn Store, clock: &dyn Clock) -> OpsResult<Vec<RoundLine>> {
    let now = clock.now();
    let mut lines = Vec::new();
    for round in store.rounds().await? {
        let m = &round.manifest;
        let (state, erased) = match round.state {
            RoundState::Prepared => ("prepared", "-"),
            RoundState::Signed if now >= m.closes_at => ("closing", "-"),
            RoundState::Signed => ("open", "-"),
            RoundState::Released { erased: true } => ("released", "yes"),
            RoundState::Released { erased: false } => ("released", "pending"),
        };
        let counts = store.counts(m.round).await?;
        lines.push(RoundLine {
            id: m.round,
            scope: m.scope.clone(),
            opens: m.opens,
            closes: m.closes,
            state,
            erased,
            tokens: counts.tokens_issued,
            items: counts.items,
        });
    }
    Ok(lines)
}
