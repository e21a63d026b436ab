//! The ledger: a genuine one checks clean, and every way of tampering with it is named.

use candor_protocol::api::OpenRound;
use candor_protocol::keys::{AuthorKey, OrganisationKey, ReceiptKey};
use candor_protocol::ledger::{
    Digest32, Discrepancy, HideReason, Inclusion, Leaf, LeafToken, Ledger, PublishedLedger, Tombstone,
    tree_hash,
};
use candor_protocol::manifest::RoundManifest;
use candor_protocol::submission::{ItemHash, NonceSalt, bound_nonce};
use candor_protocol::token::{IssuerKey, Token, TokenRequest};
use common::{Type2, hex, load};

mod common;

struct Round {
    organisation: OrganisationKey,
    receipt: ReceiptKey,
    issuer: IssuerKey,
    offered: OpenRound,
    manifest: RoundManifest,
}

fn round() -> Round {
    let organisation = OrganisationKey::from_seed(&[1; 32]);
    let receipt = ReceiptKey::from_seed(&[2; 32]);
    let rfc: Vec<Type2> = load("rfc9578-type2.json");
    let issuer = IssuerKey::from_pem(&String::from_utf8(hex(&rfc[0].sk_s)).expect("PEM")).expect("key");
    let key = issuer.token_key().clone();
    let manifest = common::example_manifest(key.id(), receipt.public_key());
    let signed = manifest.clone().sign(&organisation).expect("sign");
    Round { organisation, receipt, offered: OpenRound::new(signed, &[&key]), manifest, issuer }
}

/// A genuine token of `key` for the round, as a widget would get it.
fn token(round: &Round, key: &IssuerKey, seed: u8) -> Token {
    let mut rng = rand::rng();
    let nonce = bound_nonce(&AuthorKey::from_seed(&[seed; 32]).public_key(), &NonceSalt([seed; 32]));
    let challenge = round.manifest.token_challenge();
    let (request, pending) =
        TokenRequest::blind(&mut rng, key.token_key(), &challenge, nonce).expect("blind");
    pending.finalize(&key.blind_sign(&request).expect("sign")).expect("finalize")
}

fn leaves(round: &Round) -> Vec<Leaf> {
    let mut leaves: Vec<Leaf> = (1..=4)
        .map(|i| Leaf {
            item: ItemHash([i; 32]),
            token: LeafToken::Shown(Box::new(token(round, &round.issuer, i))),
        })
        .collect();
    // One sealed: only its spend id.
    let sealed = token(round, &round.issuer, 9);
    leaves.push(Leaf { item: ItemHash([9; 32]), token: LeafToken::Sealed(Digest32(sealed.spend_id())) });
    leaves
}

/// k withheld entries, all sealed (one of them an item of the round's, the rest
/// fillers: nothing tells them apart).
fn withheld(round: &Round) -> Vec<Leaf> {
    (0..round.manifest.threshold)
        .map(|i| {
            let i = u8::try_from(i).expect("small");
            Leaf { item: ItemHash([0xa0 + i; 32]), token: LeafToken::Sealed(Digest32([0xb0 + i; 32])) }
        })
        .collect()
}

fn published(round: &Round, leaves: Vec<Leaf>, tombstones: Vec<Tombstone>) -> PublishedLedger {
    let ledger = Ledger::new(&round.manifest, 10, leaves, withheld(round), tombstones);
    PublishedLedger::sign(round.offered.clone(), ledger, &round.receipt)
}

fn has(found: &[Discrepancy], wanted: impl Fn(&Discrepancy) -> bool, what: &str) {
    assert!(found.iter().any(wanted), "{what} not caught: {found:?}");
}

#[test]
fn a_genuine_ledger_checks_clean_and_travels_as_json() {
    let round = round();
    let tombstone = Tombstone { item: ItemHash([2; 32]), reason: HideReason::NamesAPerson };
    let ledger = published(&round, leaves(&round), vec![tombstone]);
    assert_eq!(ledger.check(&round.organisation.public_key()), vec![]);
    let json = serde_json::to_string(&ledger).expect("json");
    assert!(
        json.contains("\"sealed\":") && json.contains("\"token\":") && json.contains("names-a-person"),
        "{json}"
    );
    let back: PublishedLedger = serde_json::from_str(&json).expect("read back");
    assert_eq!(back, ledger);
    assert_eq!(back.check(&round.organisation.public_key()), vec![]);
    // A leaf is a token or a sealed spend id, never both nor neither.
    let both = r#"{"item":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=","sealed":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=","token":"AA=="}"#;
    assert!(serde_json::from_str::<Leaf>(both).is_err());
    // What an author's widget learns of its own item.
    assert_eq!(ledger.find(&ItemHash([1; 32])), Inclusion::Published);
    assert_eq!(ledger.find(&ItemHash([2; 32])), Inclusion::Hidden(HideReason::NamesAPerson));
    assert_eq!(ledger.find(&ItemHash([0xa1; 32])), Inclusion::Withheld);
    assert_eq!(ledger.find(&ItemHash([7; 32])), Inclusion::Missing);
}

#[test]
fn every_tampering_is_named() {
    let round = round();
    let organisation = round.organisation.public_key();
    let genuine = published(&round, leaves(&round), vec![]);
    let check = |ledger: &PublishedLedger| ledger.check(&organisation);

    // Drop an item: the root and the count no longer hold; made to hold, the signature.
    let mut dropped = genuine.clone();
    dropped.ledger.leaves.remove(1);
    let found = check(&dropped);
    has(&found, |d| matches!(d, Discrepancy::Root), "a dropped item (root)");
    has(&found, |d| matches!(d, Discrepancy::ItemCount { .. }), "a dropped item (count)");
    let mut consistent = dropped.ledger.clone();
    consistent = Ledger::new(
        &round.manifest,
        consistent.tokens_issued,
        consistent.leaves,
        consistent.withheld,
        consistent.tombstones,
    );
    dropped.ledger = consistent;
    assert_eq!(check(&dropped), vec![Discrepancy::Signature], "a dropped item, root and count redone");

    // Add a fabricated item, its token made under a key that is no team's.
    let other = IssuerKey::generate(&mut rand::rng()).expect("key");
    let mut added = genuine.clone();
    added
        .ledger
        .leaves
        .push(Leaf { item: ItemHash([8; 32]), token: LeafToken::Shown(Box::new(token(&round, &other, 8))) });
    let found = check(&added);
    has(&found, |d| matches!(d, Discrepancy::BadToken { leaf: 5, .. }), "a fabricated item's token");
    has(&found, |d| matches!(d, Discrepancy::Root), "a fabricated item (root)");
    // Made consistent, it still names the bad token, and the signature fails.
    let redone = Ledger::new(
        &round.manifest,
        added.ledger.tokens_issued,
        added.ledger.leaves.clone(),
        added.ledger.withheld.clone(),
        vec![],
    );
    added.ledger = redone;
    let found = check(&added);
    has(&found, |d| matches!(d, Discrepancy::BadToken { leaf: 5, .. }), "a fabricated item's token, redone");
    has(&found, |d| matches!(d, Discrepancy::Signature), "a fabricated item, redone (signature)");

    // Reuse a token: a second item with the first one's token, shown or sealed.
    for sealed in [false, true] {
        let mut reused = genuine.clone();
        let LeafToken::Shown(first) = reused.ledger.leaves[0].token.clone() else { panic!("shown") };
        let token =
            if sealed { LeafToken::Sealed(Digest32(first.spend_id())) } else { LeafToken::Shown(first) };
        reused.ledger.leaves[3].token = token;
        has(
            &check(&reused),
            |d| matches!(d, Discrepancy::TokenReused { leaf: 3, first: 0 }),
            "a reused token",
        );
    }

    // One item twice.
    let mut twice = genuine.clone();
    twice.ledger.leaves[2].item = twice.ledger.leaves[0].item;
    has(&check(&twice), |d| matches!(d, Discrepancy::ItemRepeated { leaf: 2, first: 0 }), "an item twice");

    // Change a tombstone, or add one for no item.
    let hidden = published(
        &round,
        leaves(&round),
        vec![Tombstone { item: ItemHash([1; 32]), reason: HideReason::OffTopic }],
    );
    let mut changed = hidden.clone();
    changed.ledger.tombstones[0].reason = HideReason::Harassment;
    assert_eq!(check(&changed), vec![Discrepancy::Signature], "a changed tombstone");
    let mut removed = hidden.clone();
    removed.ledger.tombstones.clear();
    assert_eq!(check(&removed), vec![Discrepancy::Signature], "a removed tombstone");
    let mut stray = hidden.clone();
    stray.ledger.tombstones.push(Tombstone { item: ItemHash([7; 32]), reason: HideReason::OffTopic });
    has(&check(&stray), |d| matches!(d, Discrepancy::Tombstone(_)), "a tombstone for no item");

    // Alter a count.
    let mut counts = genuine.clone();
    counts.ledger.tokens_issued = 2;
    let found = check(&counts);
    has(&found, |d| matches!(d, Discrepancy::MoreItemsThanTokens { .. }), "more items than tokens");
    has(&found, |d| matches!(d, Discrepancy::Signature), "an altered count (signature)");

    // Re-signed with another key: everything else consistent.
    let resigned = PublishedLedger::sign(
        round.offered.clone(),
        genuine.ledger.clone(),
        &ReceiptKey::from_seed(&[3; 32]),
    );
    assert_eq!(check(&resigned), vec![Discrepancy::Signature], "re-signed with another key");

    // The withheld entries: one fewer (the count would show), a shown token among them,
    // or one that repeats a listed item's token.
    let mut fewer = genuine.clone();
    fewer.ledger.withheld.pop();
    has(&check(&fewer), |d| matches!(d, Discrepancy::Withheld { k: 5 }), "a withheld entry dropped");
    let mut shown_among = genuine.clone();
    shown_among.ledger.withheld[0].token = genuine.ledger.leaves[1].token.clone();
    let found = check(&shown_among);
    has(&found, |d| matches!(d, Discrepancy::Withheld { .. }), "a shown token among the withheld");
    has(
        &found,
        |d| matches!(d, Discrepancy::TokenReused { first: 1, .. }),
        "a listed token among the withheld",
    );

    // Another round's manifest, or one the organisation did not sign.
    let mut elsewhere = genuine.clone();
    elsewhere.ledger.manifest_hash = Digest32([0; 32]);
    has(&check(&elsewhere), |d| matches!(d, Discrepancy::ManifestHash), "another manifest's hash");
    let stranger = OrganisationKey::from_seed(&[5; 32]).public_key();
    assert!(
        matches!(genuine.check(&stranger)[..], [Discrepancy::Round(_)]),
        "a manifest the organisation did not sign"
    );
}

/// RFC 9162 §2.1.1: MTH({}) = SHA-256(""), and a one-entry tree's hash is
/// SHA-256(0x00 ‖ entry).
#[test]
fn the_tree_hash_is_rfc_9162s() {
    assert_eq!(
        tree_hash(Vec::<Vec<u8>>::new()).to_bytes().to_vec(),
        hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(
        tree_hash([vec![]]).to_bytes().to_vec(),
        hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    );
    // Three entries: MTH = H(0x01 ‖ MTH(d0, d1) ‖ MTH(d2)), the split at the largest
    // power of two below n.
    use sha2::{Digest as _, Sha256};
    let leaf = |d: &[u8]| Sha256::new().chain_update([0]).chain_update(d).finalize();
    let node =
        |l: &[u8], r: &[u8]| Sha256::new().chain_update([1]).chain_update(l).chain_update(r).finalize();
    let (a, b, c) = (leaf(b"a"), leaf(b"b"), leaf(b"c"));
    let expected = node(&node(&a, &b), &c);
    assert_eq!(tree_hash([b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]).to_bytes()[..], expected[..]);
}
