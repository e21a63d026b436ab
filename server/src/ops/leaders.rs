//! Leaders: add (with a one-time sign-in link), new link, list, revoke sessions, remove.

use candor_protocol::domain::Scope;

use super::{OpsError, OpsResult};
use crate::clock::Clock;
use crate::config::Config;
use crate::store::{Leader, SecretHash, Store};

/// How long a sign-in link is valid, in days.
pub const LINK_DAYS: u64 = 14;

/// A one-time sign-in link. Its secret is in the fragment, which browsers never send.
#[derive(Clone, PartialEq, Eq)]
pub struct SignInLink(String);

impl SignInLink {
    /// The link's text, to hand to the leader (and to no log).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SignInLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInLink(..)")
    }
}

/// SHA-256 of a link or session secret: what the store keeps.
pub fn secret_hash(secret: &str) -> SecretHash {
    use sha2::Digest as _;
    SecretHash(sha2::Sha256::digest(secret.as_bytes()).into())
}

fn new_link(config: &Config) -> (SignInLink, SecretHash) {
    let mut secret = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut secret);
    let secret =
        zeroize::Zeroizing::new(candor_protocol::b64::encode(secret).trim_end_matches('=').to_owned());
    (SignInLink(format!("{}/digest/#signin={}", config.origin(), secret.as_str())), secret_hash(&secret))
}

/// Adds a leader; returns their id and one-time sign-in link.
pub async fn add(
    config: &Config,
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    scope: &Scope,
) -> OpsResult<(String, SignInLink)> {
    let mut id = [0u8; 8];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut id);
    let leader = Leader {
        id: id.iter().map(|b| format!("{b:02x}")).collect(),
        name: name.to_owned(),
        scope: scope.clone(),
    };
    let (link, hash) = new_link(config);
    let now = clock.now();
    let zone = &config.time_zone;
    store.add_leader(&leader, &hash, zone.day_at(now), zone.day_after(now, LINK_DAYS)).await?;
    Ok((leader.id, link))
}

/// A fresh one-time link for a leader (say, whose link expired).
pub async fn link(
    config: &Config,
    store: &dyn Store,
    clock: &dyn Clock,
    leader_id: &str,
) -> OpsResult<SignInLink> {
    let (link, hash) = new_link(config);
    if store.add_link(leader_id, &hash, config.time_zone.day_after(clock.now(), LINK_DAYS)).await? {
        Ok(link)
    } else {
        Err(OpsError::Invalid(format!("there is no leader {leader_id}")))
    }
}

/// Ends every session of a leader; returns how many.
pub async fn revoke(store: &dyn Store, leader_id: &str) -> OpsResult<u64> {
    Ok(store.revoke_sessions(leader_id).await?)
}

/// Removes a leader with their links and sessions.
pub async fn remove(store: &dyn Store, leader_id: &str) -> OpsResult<()> {
    if store.remove_leader(leader_id).await? {
        Ok(())
    } else {
        Err(OpsError::Invalid(format!("there is no leader {leader_id}")))
    }
}

/// Every leader, with their number of live sessions.
pub async fn list(store: &dyn Store) -> OpsResult<Vec<(Leader, u64)>> {
    Ok(store.leaders().await?)
}
