//! The store contract: what every backend of `candor_server::store::Store` must do.
//! Each case is a function of a fresh, empty store; `contract!` runs every case against
//! one backend. Both backends run every case: SQLite on a file of its own, PostgreSQL on
//! a database of its own (`common/postgres.rs`).

use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
use candor_protocol::keys::OrganisationKey;
use candor_protocol::manifest::{Question, QuestionKind, Release, RoundManifest, Team};
use candor_protocol::submission::{Answer, AnswerValue, FeedbackText, ItemHash};
use candor_protocol::token::IssuerKey;
use candor_server::store::{
    Leader, NewItem, Redemption, Reservation, RoundState, SealedKey, SecretHash, SpendId, Store, StoreError,
    SubjectHmac, TeamKey,
};

/// A store and what keeps it alive.
struct Fresh {
    store: std::sync::Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

#[path = "common/postgres.rs"]
#[allow(dead_code)]
mod test_postgres;

async fn postgres() -> Fresh {
    let url = test_postgres::fresh_database().await;
    Fresh {
        store: candor_server::store::open(&url).await.expect("store"),
        _dir: tempfile::tempdir().expect("tempdir"),
    }
}

async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().expect("tempdir");
    let url =
        candor_server::store::DatabaseUrl::parse(&format!("sqlite://{}/db/candor.db", dir.path().display()))
            .expect("url");
    Fresh { store: candor_server::store::open(&url).await.expect("store"), _dir: dir }
}

macro_rules! contract {
    ($backend:ident, $factory:expr, [$($case:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $case() {
                    let fresh = $factory.await;
                    super::$case(fresh.store.as_ref()).await;
                }
            )*
        }
    };
}

contract!(
    sqlite,
    super::sqlite(),
    [
        a_round_is_prepared_then_signed_and_keeps_its_keys_in_team_order,
        two_live_keys_never_share_a_truncated_id,
        release_shuffles_destroys_the_private_keys_and_erases,
        a_token_is_spent_once,
        the_quota_counts_and_gives_back,
        leaders_links_sessions_and_their_expiry,
    ]
);

contract!(
    postgres,
    super::postgres(),
    [
        a_round_is_prepared_then_signed_and_keeps_its_keys_in_team_order,
        two_live_keys_never_share_a_truncated_id,
        release_shuffles_destroys_the_private_keys_and_erases,
        a_token_is_spent_once,
        the_quota_counts_and_gives_back,
        leaders_links_sessions_and_their_expiry,
    ]
);

fn day(text: &str) -> Day {
    Day::parse(text).expect("day")
}

fn scope(text: &str) -> Scope {
    Scope::parse(text).expect("scope")
}

/// A round of acme with a team acme/eng, and its two team keys (sealed bytes stand-in).
/// A token key whose truncated id no other key of this test process has: a token request
/// names its key by that one byte, so two random keys of one store collide one time in
/// 256, and the store rightly refuses the second (a flake in these tests, not a bug).
fn fresh_token_key() -> candor_protocol::token::TokenKey {
    static TAKEN: std::sync::Mutex<std::collections::BTreeSet<u8>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let key = IssuerKey::generate(&mut rand::rng()).expect("key").token_key().clone();
        if TAKEN.lock().expect("lock").insert(key.id().truncated()) {
            return key;
        }
    }
}

fn round(organisation: &OrganisationKey) -> (RoundManifest, Vec<TeamKey>) {
    let keys: Vec<TeamKey> = ["acme", "acme/eng"]
        .into_iter()
        .map(|team| TeamKey {
            scope: scope(team),
            token_key: fresh_token_key(),
            sealed: Some(SealedKey(team.as_bytes().to_vec())),
        })
        .collect();
    let manifest = RoundManifest {
        round: RoundId::generate(&mut rand::rng()),
        scope: scope("acme"),
        teams: keys
            .iter()
            .map(|key| Team { scope: key.scope.clone(), token_key_id: key.token_key.id() })
            .collect(),
        questions: vec![Question {
            id: QuestionId::parse("text").expect("id"),
            prompt: "q".into(),
            kind: QuestionKind::Text { max_chars: 100 },
        }],
        opens: day("2026-11-02"),
        closes: day("2026-11-27"),
        time_zone: "UTC".into(),
        opens_at: day("2026-11-02").utc_midnight(),
        closes_at: day("2026-11-28").utc_midnight(),
        threshold: 3,
        tokens_per_person: 1,
        release: Release::AtClose,
        send_delay_minutes: 1,
        issuer_name: "candor.test".into(),
        origin: "candor.test".into(),
        receipt_key: candor_protocol::keys::ReceiptKey::generate(&mut rand::rng()).public_key(),
        id_patterns: vec![],
        keep_on_device_days: 30,
    };
    let _ = organisation;
    (manifest, keys)
}

async fn signed_round(store: &dyn Store) -> (RoundManifest, Vec<TeamKey>) {
    let organisation = OrganisationKey::generate(&mut rand::rng());
    let (manifest, keys) = round(&organisation);
    store.prepare_round(&manifest, &keys).await.expect("prepare");
    store.import_signature(&manifest.clone().sign(&organisation).expect("sign")).await.expect("import");
    (manifest, keys)
}

fn item(round: RoundId, team: &str, text: &str) -> NewItem {
    let mut hash = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut hash);
    NewItem {
        item_hash: ItemHash(hash),
        round,
        scope: scope(team),
        answers: vec![Answer {
            question: QuestionId::parse("text").expect("id"),
            value: AnswerValue::Text(FeedbackText::parse(text).expect("text")),
        }],
        author_key: hash,
        token: hash.to_vec(),
    }
}

fn random_id() -> [u8; 32] {
    let mut id = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut id);
    id
}

async fn a_round_is_prepared_then_signed_and_keeps_its_keys_in_team_order(store: &dyn Store) {
    let organisation = OrganisationKey::generate(&mut rand::rng());
    let (manifest, keys) = round(&organisation);
    // Keys may be given in any order; they come back in the manifest's team order.
    let reversed: Vec<TeamKey> = keys.iter().rev().cloned().collect();
    store.prepare_round(&manifest, &reversed).await.expect("prepare");
    let prepared = store.round(manifest.round).await.expect("round").expect("stored");
    assert_eq!(prepared.state, RoundState::Prepared);
    assert!(prepared.signature.is_none() && prepared.signed().is_none());
    assert_eq!(prepared.keys, keys);
    // Only the very manifest prepared takes the signature.
    let mut other = manifest.clone();
    other.threshold = 4;
    assert!(store.import_signature(&other.sign(&organisation).expect("sign")).await.is_err());
    let signed = manifest.clone().sign(&organisation).expect("sign");
    store.import_signature(&signed).await.expect("import");
    assert!(store.import_signature(&signed).await.is_err(), "signed once");
    let record = store.round(manifest.round).await.expect("round").expect("stored");
    assert_eq!(record.state, RoundState::Signed);
    assert_eq!(record.signed(), Some(signed));
    assert_eq!(store.rounds().await.expect("rounds").len(), 1);
    assert!(store.round(RoundId::generate(&mut rand::rng())).await.expect("round").is_none());
}

async fn two_live_keys_never_share_a_truncated_id(store: &dyn Store) {
    let (first, keys) = signed_round(store).await;
    let mut live = store.live_truncated_key_ids().await.expect("ids");
    live.sort_unstable();
    let mut expected: Vec<u8> = keys.iter().map(|key| key.token_key.id().truncated()).collect();
    expected.sort_unstable();
    assert_eq!(live, expected);
    let mut second = first.clone();
    second.round = RoundId::generate(&mut rand::rng());
    let refused = store.prepare_round(&second, &keys).await;
    assert!(matches!(refused, Err(StoreError::TruncatedKeyIdTaken(_))), "{refused:?}");
    assert!(store.round(second.round).await.expect("round").is_none(), "nothing of it stored");
    assert!(store.release_round(first.round).await.expect("release"));
    assert!(store.live_truncated_key_ids().await.expect("ids").is_empty(), "released keys are not live");
    store.prepare_round(&second, &keys).await.expect("the same ids are free again");
}

async fn release_shuffles_destroys_the_private_keys_and_erases(store: &dyn Store) {
    let (manifest, _) = signed_round(store).await;
    let mut written = Vec::new();
    for i in 0..20 {
        let text = format!("item {i:02}");
        let team = if i % 2 == 0 { "acme" } else { "acme/eng" };
        assert_eq!(
            store.redeem(&SpendId(random_id()), &item(manifest.round, team, &text)).await.expect("redeem"),
            Redemption::Stored
        );
        written.push(text);
    }
    assert!(store.released_items(manifest.round).await.expect("items").is_empty(), "nothing before release");
    assert_eq!(store.counts(manifest.round).await.expect("counts").items, 20);
    assert!(store.release_round(manifest.round).await.expect("release"));
    assert!(!store.release_round(manifest.round).await.expect("again"), "released once");
    let record = store.round(manifest.round).await.expect("round").expect("stored");
    assert_eq!(record.state, RoundState::Released { erased: true });
    assert!(record.keys.iter().all(|key| key.sealed.is_none()), "private keys destroyed");
    let released: Vec<String> = store
        .released_items(manifest.round)
        .await
        .expect("items")
        .iter()
        .map(|item| match &item.answers[0].value {
            AnswerValue::Text(text) => text.as_str().to_owned(),
            AnswerValue::Rating(_) => unreachable!(),
        })
        .collect();
    let mut sorted = released.clone();
    sorted.sort();
    assert_eq!(sorted, written, "every item, once");
    // 20 items in written order by chance: 1 in 20! (and a stable sort order would fail).
    assert_ne!(released, written, "released in the order written");
    assert_eq!(store.finish_erasure().await.expect("erasure"), 0, "nothing pending");
    let late =
        store.redeem(&SpendId(random_id()), &item(manifest.round, "acme", "late")).await.expect("redeem");
    assert_eq!(late, Redemption::RoundClosed);
    assert_eq!(store.counts(manifest.round).await.expect("counts").items, 20);
}

async fn a_token_is_spent_once(store: &dyn Store) {
    let (manifest, _) = signed_round(store).await;
    let spend = SpendId(random_id());
    let first = item(manifest.round, "acme", "first");
    assert_eq!(store.redeem(&spend, &first).await.expect("redeem"), Redemption::Stored);
    assert_eq!(store.redeem(&spend, &first).await.expect("redeem"), Redemption::AlreadyStored);
    let other = item(manifest.round, "acme", "other");
    assert_eq!(store.redeem(&spend, &other).await.expect("redeem"), Redemption::AlreadySpent);
    assert_eq!(store.counts(manifest.round).await.expect("counts").items, 1);
    // At once, so that they share group commits: twenty new tokens are all stored; one
    // token sent twenty times with its item is stored once, and with other items is
    // spent once.
    let fresh: Vec<(SpendId, NewItem)> = (0..20)
        .map(|i| (SpendId(random_id()), item(manifest.round, "acme", &format!("at once {i}"))))
        .collect();
    let stored = futures::future::join_all(fresh.iter().map(|(spend, item)| store.redeem(spend, item))).await;
    assert!(stored.iter().all(|r| *r.as_ref().expect("redeem") == Redemption::Stored), "{stored:?}");
    let (twice, again) = (SpendId(random_id()), item(manifest.round, "acme", "again"));
    let retries = futures::future::join_all((0..20).map(|_| store.redeem(&twice, &again))).await;
    let retries: Vec<Redemption> = retries.into_iter().map(|r| r.expect("redeem")).collect();
    assert_eq!(retries.iter().filter(|r| **r == Redemption::Stored).count(), 1, "{retries:?}");
    assert!(
        retries.iter().all(|r| matches!(r, Redemption::Stored | Redemption::AlreadyStored)),
        "{retries:?}"
    );
    let replayed = SpendId(random_id());
    let others: Vec<NewItem> =
        (0..20).map(|i| item(manifest.round, "acme", &format!("replay {i}"))).collect();
    let replays = futures::future::join_all(others.iter().map(|item| store.redeem(&replayed, item))).await;
    let replays: Vec<Redemption> = replays.into_iter().map(|r| r.expect("redeem")).collect();
    assert_eq!(replays.iter().filter(|r| **r == Redemption::Stored).count(), 1, "{replays:?}");
    assert_eq!(replays.iter().filter(|r| **r == Redemption::AlreadySpent).count(), 19, "{replays:?}");
    assert_eq!(store.counts(manifest.round).await.expect("counts").items, 23);
    // One body redeemed with a second token (a person with two tokens bound to one
    // nonce): the item is there already, so the second token is not spent and stays
    // good for other feedback — alone, and in a group beside other writes, which are
    // stored as if it were not there.
    let (second, third) = (SpendId(random_id()), SpendId(random_id()));
    assert_eq!(store.redeem(&second, &first).await.expect("redeem"), Redemption::AlreadyStored);
    let beside: Vec<(SpendId, NewItem)> = (0..10)
        .map(|i| (SpendId(random_id()), item(manifest.round, "acme", &format!("beside {i}"))))
        .collect();
    let (duplicate, group) = futures::future::join(
        store.redeem(&third, &first),
        futures::future::join_all(beside.iter().map(|(spend, item)| store.redeem(spend, item))),
    )
    .await;
    assert_eq!(duplicate.expect("redeem"), Redemption::AlreadyStored);
    assert!(group.iter().all(|r| *r.as_ref().expect("redeem") == Redemption::Stored), "{group:?}");
    let later = item(manifest.round, "acme", "with the second token");
    assert_eq!(store.redeem(&second, &later).await.expect("redeem"), Redemption::Stored, "not spent before");
    assert_eq!(store.counts(manifest.round).await.expect("counts").items, 34);
    // After the release a retry still finds its item, a replay its spent token, and a
    // new token is refused without being spent.
    store.release_round(manifest.round).await.expect("release");
    assert_eq!(store.redeem(&spend, &first).await.expect("redeem"), Redemption::AlreadyStored);
    assert_eq!(store.redeem(&spend, &other).await.expect("redeem"), Redemption::AlreadySpent);
    let late = SpendId(random_id());
    assert_eq!(
        store.redeem(&late, &item(manifest.round, "acme", "late")).await.expect("redeem"),
        Redemption::RoundClosed
    );
    assert_eq!(store.counts(manifest.round).await.expect("counts").items, 34);
    // A prepared (unsigned) round takes nothing.
    let organisation = OrganisationKey::generate(&mut rand::rng());
    let (unsigned, keys) = round(&organisation);
    store.prepare_round(&unsigned, &keys).await.expect("prepare");
    let refused =
        store.redeem(&SpendId(random_id()), &item(unsigned.round, "acme", "x")).await.expect("redeem");
    assert_eq!(refused, Redemption::RoundClosed);
}

async fn the_quota_counts_and_gives_back(store: &dyn Store) {
    let (manifest, _) = signed_round(store).await;
    let (alice, bob) = (SubjectHmac([1; 32]), SubjectHmac([2; 32]));
    let reserve = |subject| store.reserve_quota(manifest.round, subject, 2);
    assert_eq!(reserve(&alice).await.expect("quota"), Reservation::Reserved);
    assert_eq!(reserve(&alice).await.expect("quota"), Reservation::Reserved);
    assert_eq!(reserve(&alice).await.expect("quota"), Reservation::QuotaUsed);
    store.release_quota(manifest.round, &alice).await.expect("give back");
    assert_eq!(reserve(&alice).await.expect("quota"), Reservation::Reserved);
    assert_eq!(reserve(&bob).await.expect("quota"), Reservation::Reserved);
    assert_eq!(store.counts(manifest.round).await.expect("counts").tokens_issued, 3);
    store.release_quota(manifest.round, &bob).await.expect("give back");
    assert_eq!(store.counts(manifest.round).await.expect("counts").tokens_issued, 2);
    // Many at once share group commits: a person's limit holds within one group too.
    let carol = SubjectHmac([3; 32]);
    let many = futures::future::join_all((0..20).map(|_| reserve(&carol))).await;
    let made = many.iter().filter(|r| *r.as_ref().expect("quota") == Reservation::Reserved).count();
    assert_eq!(made, 2, "{many:?}");
    assert_eq!(store.counts(manifest.round).await.expect("counts").tokens_issued, 4);
    // The store judges whether the round takes tokens, whatever a server has cached:
    // a released round and an unsigned one take none.
    store.release_round(manifest.round).await.expect("release");
    assert_eq!(reserve(&SubjectHmac([4; 32])).await.expect("quota"), Reservation::RoundClosed);
    let organisation = OrganisationKey::generate(&mut rand::rng());
    let (unsigned, keys) = round(&organisation);
    store.prepare_round(&unsigned, &keys).await.expect("prepare");
    assert_eq!(
        store.reserve_quota(unsigned.round, &alice, 2).await.expect("quota"),
        Reservation::RoundClosed
    );
    assert_eq!(store.counts(manifest.round).await.expect("counts").tokens_issued, 4);
    assert_eq!(store.counts(unsigned.round).await.expect("counts").tokens_issued, 0);
}

async fn leaders_links_sessions_and_their_expiry(store: &dyn Store) {
    let leader = Leader { id: "00aa".into(), name: "Lee".into(), scope: scope("acme") };
    let (link, session) = (SecretHash([1; 32]), SecretHash([2; 32]));
    store.add_leader(&leader, &link, day("2026-11-01"), day("2026-11-14")).await.expect("leader");
    assert!(
        store
            .sign_in(&link, &session, day("2026-11-15"), day("2026-11-22"))
            .await
            .expect("sign in")
            .is_none(),
        "expired"
    );
    assert_eq!(
        store.sign_in(&link, &session, day("2026-11-14"), day("2026-11-21")).await.expect("sign in"),
        Some(leader.clone())
    );
    assert!(
        store
            .sign_in(&link, &SecretHash([3; 32]), day("2026-11-14"), day("2026-11-21"))
            .await
            .expect("again")
            .is_none(),
        "once"
    );
    assert_eq!(store.session(&session, day("2026-11-21")).await.expect("session"), Some(leader.clone()));
    assert!(store.session(&session, day("2026-11-22")).await.expect("session").is_none(), "expired");
    assert_eq!(store.leaders().await.expect("leaders"), vec![(leader.clone(), 1)]);
    assert!(store.add_link(&leader.id, &SecretHash([4; 32]), day("2026-11-30")).await.expect("link"));
    assert!(!store.add_link("nobody", &SecretHash([5; 32]), day("2026-11-30")).await.expect("link"));
    assert_eq!(store.purge_expired(day("2026-11-22")).await.expect("purge"), 1, "the session");
    assert_eq!(store.purge_expired(day("2026-12-01")).await.expect("purge"), 1, "the second link");
    store.add_link(&leader.id, &SecretHash([6; 32]), day("2026-12-30")).await.expect("link");
    store
        .sign_in(&SecretHash([6; 32]), &session, day("2026-12-01"), day("2026-12-08"))
        .await
        .expect("sign in");
    assert_eq!(store.revoke_sessions(&leader.id).await.expect("revoke"), 1);
    assert!(store.session(&session, day("2026-12-01")).await.expect("session").is_none());
    assert!(store.remove_leader(&leader.id).await.expect("remove"));
    assert!(!store.remove_leader(&leader.id).await.expect("remove"));
    assert!(store.leaders().await.expect("leaders").is_empty());
}
