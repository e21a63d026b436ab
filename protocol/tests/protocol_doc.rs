//! docs/PROTOCOL.md's test vectors, made here from the code and compared with the
//! document, so that the document cannot drift from what the code sends and signs.
//!
//! Every vector is computed from fixed inputs: Ed25519 keys from fixed seeds (Ed25519
//! signing is deterministic), the RFC 9578 type-2 issuer key, and, for the blind
//! signature's randomness, the salt and blind of RFC 9578's first vector. A vector in
//! the document is a fenced block after a `<!-- vector NAME -->` line.
//!
//! After a deliberate change of a format, `CANDOR_BLESS=1 cargo test -p candor-protocol
//! --test protocol_doc` writes the new values into the document; review the diff.

use std::collections::VecDeque;

use candor_protocol::api::OpenRound;
use candor_protocol::assertion::{AssertionKey, AssertionKeys};
use candor_protocol::b64;
use candor_protocol::domain::QuestionId;
use candor_protocol::http_auth;
use candor_protocol::keys::{AuthorKey, OrganisationKey, ReceiptKey};
use candor_protocol::ledger::{Digest32, HideReason, Leaf, LeafToken, Ledger, PublishedLedger, Tombstone};
use candor_protocol::receipt::Receipt;
use candor_protocol::submission::{
    Answer, AnswerValue, FeedbackText, ItemHash, NonceSalt, SubmissionBody, bound_nonce,
};
use candor_protocol::token::{IssuerKey, TokenKey, TokenRequest};
use common::{ReplayRng, Type2, hex, load};

mod common;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md");

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex in lines of 64 digits (32 bytes), as the document shows it.
fn hex_block(bytes: &[u8]) -> String {
    to_hex(bytes)
        .as_bytes()
        .chunks(64)
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("json")
}

/// Every vector, in the document's order.
fn vectors() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let organisation = OrganisationKey::from_seed(&[1; 32]);
    let receipt_key = ReceiptKey::from_seed(&[2; 32]);
    let author = AuthorKey::from_seed(&[3; 32]);
    let intranet = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let rfc: Vec<Type2> = load("rfc9578-type2.json");
    let rfc = &rfc[0];
    let pem = String::from_utf8(hex(&rfc.sk_s)).expect("PEM");
    let issuer = IssuerKey::from_pem(&pem).expect("the RFC's issuer key");
    let token_key = TokenKey::from_spki(&hex(&rfc.pk_s)).expect("the RFC's public key");

    out.push(("organisation-public-key", organisation.public_key().to_base64()));
    out.push(("receipt-public-key", receipt_key.public_key().to_base64()));
    out.push(("token-key-spki", b64::encode(token_key.spki())));
    out.push(("token-key-id", hex_block(&token_key.id().to_bytes())));

    // ── The assertion ──────────────────────────────────────────────────────────────
    let keys = AssertionKeys {
        audience: "candor.acme.example".into(),
        keys: vec![AssertionKey::ed25519(&intranet.verifying_key().to_bytes(), Some("intranet-1".into()))],
    };
    out.push(("assertion-keys", pretty(&keys)));
    let unpadded = |bytes: &[u8]| b64::encode(bytes).trim_end_matches('=').to_owned();
    let header = unpadded(br#"{"alg":"EdDSA","kid":"intranet-1","typ":"JWT"}"#);
    let payload = unpadded(
        br#"{"sub":"anna.berg@acme.example","aud":"candor.acme.example","scopes":["acme/eng/platform"],"iat":1795392000,"exp":1795392300}"#,
    );
    let signed = format!("{header}.{payload}");
    let signature = ed25519_dalek::Signer::sign(&intranet, signed.as_bytes());
    let assertion = format!("{signed}.{}", unpadded(&signature.to_bytes()));
    let claims = keys.verify(&assertion).expect("the widget accepts the example assertion");
    assert_eq!(claims.subject, "anna.berg@acme.example");
    out.push(("assertion", assertion));

    // ── The round ──────────────────────────────────────────────────────────────────
    let manifest = common::example_manifest(token_key.id(), receipt_key.public_key());
    out.push(("manifest-canonical", hex_block(&manifest.canonical_bytes())));
    out.push(("manifest-hash", hex_block(&manifest.hash())));
    let signed = manifest.clone().sign(&organisation).expect("a valid manifest");
    let offered = OpenRound::new(signed, &[&token_key]);
    out.push(("rounds-response", pretty(&[&offered])));
    let round = offered.verify(&organisation.public_key()).expect("the example round verifies");

    // ── Issuance ───────────────────────────────────────────────────────────────────
    let challenge = round.manifest.token_challenge();
    out.push(("token-challenge", hex_block(&challenge.to_bytes())));
    out.push(("token-challenge-digest", hex_block(&challenge.digest())));
    let salt = NonceSalt([5; 32]);
    let nonce = bound_nonce(&author.public_key(), &salt);
    out.push(("token-nonce", hex_block(&nonce.0)));
    // The RFC's salt and blind, handed out as the blind-RSA crate asks for them (the
    // blind little-endian).
    let mut blind = hex(&rfc.blind);
    blind.reverse();
    let mut rng = ReplayRng(VecDeque::from([hex(&rfc.salt), blind]));
    let (request, pending) = TokenRequest::blind(&mut rng, &token_key, &challenge, nonce).expect("blind");
    out.push(("token-request", hex_block(&request.to_bytes())));
    let response = issuer.blind_sign(&request).expect("sign");
    out.push(("token-response", hex_block(&response.to_bytes())));
    let token = pending.finalize(&response).expect("finalize");
    token.verify(&token_key, &challenge).expect("the example token verifies");
    out.push(("token", hex_block(&token.to_bytes())));
    out.push(("spend-id", hex_block(&token.spend_id())));
    let authorization = http_auth::authorization_value(&token);
    assert_eq!(http_auth::parse_authorization(&authorization).expect("header"), token);
    out.push(("authorization", authorization));

    // ── The submission and its receipt ─────────────────────────────────────────────
    let body = SubmissionBody {
        round: round.manifest.round,
        answers: vec![
            Answer { question: QuestionId::parse("enps").expect("id"), value: AnswerValue::Rating(7) },
            Answer {
                question: QuestionId::parse("text").expect("id"),
                value: AnswerValue::Text(FeedbackText::parse("Stand-ups run long.").expect("text")),
            },
        ],
        author_key: author.public_key(),
        nonce_salt: salt,
    };
    out.push(("submission-canonical", hex_block(&body.canonical_bytes())));
    let submission = body.sign(&author).expect("sign");
    submission.verify(&token).expect("the example submission is bound to the token");
    round.manifest.check_submission(&submission.body).expect("the answers fit the round");
    out.push(("submission", pretty(&submission)));
    let item = submission.item_hash();
    out.push(("item-hash", hex_block(&item.to_bytes())));
    let receipt = Receipt { round: round.manifest.round, item };
    out.push(("receipt-canonical", hex_block(&receipt.canonical_bytes())));
    let signed_receipt = receipt.sign(&receipt_key);
    signed_receipt.verify(&round.manifest.receipt_key, &receipt).expect("the example receipt verifies");
    out.push(("receipt", pretty(&signed_receipt)));

    // ── The ledger ─────────────────────────────────────────────────────────────────
    let leaves = vec![
        Leaf { item, token: LeafToken::Shown(Box::new(token.clone())) },
        Leaf { item: ItemHash([7; 32]), token: LeafToken::Sealed(Digest32([6; 32])) },
    ];
    out.push(("ledger-leaf-shown", hex_block(&leaves[0].canonical_bytes())));
    out.push(("ledger-leaf-sealed", hex_block(&leaves[1].canonical_bytes())));
    let tombstones = vec![Tombstone { item: ItemHash([7; 32]), reason: HideReason::OffTopic }];
    // k = 5 withheld entries (a multiple of k, at least k): fillers here, as alike as
    // items would be.
    let withheld = (0..5u8)
        .map(|i| Leaf { item: ItemHash([0x10 + i; 32]), token: LeafToken::Sealed(Digest32([0x20 + i; 32])) })
        .collect();
    let ledger = Ledger::new(&round.manifest, 7, leaves, withheld, tombstones);
    out.push(("ledger-root", hex_block(&ledger.root.to_bytes())));
    out.push(("ledger-canonical", hex_block(&ledger.canonical_bytes())));
    let published = PublishedLedger::sign(offered.clone(), ledger, &receipt_key);
    assert_eq!(published.check(&organisation.public_key()), vec![], "the example ledger checks clean");
    out.push((
        "ledger",
        pretty(&serde_json::json!({ "ledger": published.ledger, "signature": published.signature })),
    ));
    out
}

/// The document's vectors: name, and the byte range of the block's lines (from after
/// the opening fence's line to the start of the closing fence's line, a line that is
/// only three backticks; empty when the block is).
fn blocks(doc: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(at) = doc[rest..].find("<!-- vector ") {
        let start = rest + at;
        let name_end = start + doc[start..].find(" -->").expect("a closed vector marker");
        let name = doc[start + "<!-- vector ".len()..name_end].to_owned();
        let fence = name_end + doc[name_end..].find("```").expect("a fenced block after the marker");
        let contents = fence + doc[fence..].find('\n').expect("a fence line") + 1;
        let mut end = contents;
        while !doc[end..].starts_with("```\n") && !doc[end..].eq("```") {
            end += doc[end..].find('\n').expect("a closed fence") + 1;
        }
        found.push((name, contents..end));
        rest = end;
    }
    found
}

#[test]
fn protocol_md_holds_the_vectors_the_code_makes() {
    let made = vectors();
    let doc = std::fs::read_to_string(DOC).expect("docs/PROTOCOL.md");
    let found = blocks(&doc);
    if std::env::var_os("CANDOR_BLESS").is_some() {
        let mut blessed = doc.clone();
        for (name, range) in found.iter().rev() {
            let value = &made.iter().find(|(made, _)| made == name).expect("a vector the code makes").1;
            blessed.replace_range(range.clone(), &format!("{value}\n"));
        }
        std::fs::write(DOC, blessed).expect("write docs/PROTOCOL.md");
        return;
    }
    let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
    let expected: Vec<&str> = made.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, expected, "the document's vectors, in order, are the ones the code makes");
    for ((name, range), (_, value)) in found.iter().zip(&made) {
        assert_eq!(
            &doc[range.clone()],
            format!("{value}\n"),
            "vector {name}: the document differs from the code"
        );
    }
}

#[test]
fn the_block_reader_finds_what_it_should() {
    let doc = "a\n<!-- vector one -->\n```text\nab\ncd\n```\nb\n<!-- vector two -->\n\n```json\n```\n\n<!-- vector three -->\n```\n{}\n```";
    let found = blocks(doc);
    let read: Vec<(&str, &str)> =
        found.iter().map(|(name, range)| (name.as_str(), &doc[range.clone()])).collect();
    assert_eq!(read, [("one", "ab\ncd\n"), ("two", ""), ("three", "{}\n")]);
}
