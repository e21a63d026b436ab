//! A released round's ledger: served the same to everyone, checked clean by
//! `candor ledger verify` from a file and from its URL, every author's item in it — and
//! no leaf that says how many items a team below the threshold sent.

mod common;

use std::process::Command;

use candor_protocol::ledger::{Discrepancy, Inclusion, LeafToken, PublishedLedger};
use candor_protocol::receipt::SignedReceipt;
use common::process::write_config;
use common::{error_of, spawn_app};

fn verify(config: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_candor"))
        .arg("--config")
        .arg(config)
        .args(["ledger", "verify"])
        .args(args)
        .output()
        .expect("candor ledger verify");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// Opens a round of acme/eng with platform, sre and web, has each of `writers` (team,
/// count) send feedback, releases it, and returns the ledger as served, its text, and
/// each author with their receipt.
async fn released(
    app: &common::TestApp,
    writers: &[(&str, usize)],
) -> (PublishedLedger, String, Vec<(common::Employee, SignedReceipt)>) {
    let teams = ["acme/eng/platform", "acme/eng/sre", "acme/eng/web"];
    let round = app.open_round_with_teams("acme/eng", &teams, 3, 1).await;
    let path = format!("/v1/rounds/{round}/ledger");
    let mut sent = Vec::new();
    for (team, count) in writers {
        for _ in 0..*count {
            let subject = format!("emp-{}", rand::random::<u64>());
            let employee = app.obtain_token(&subject, &[team], team).await;
            let submission = employee.submission("Stand-ups run long", 7);
            let body = serde_json::to_vec(&submission).expect("json");
            let response = app.post_feedback(&employee.authorization(), body).await;
            assert_eq!(response.status(), 201);
            let receipt: SignedReceipt = response.json().await.expect("a receipt");
            employee.check_receipt(&submission, &receipt);
            sent.push((employee, receipt));
        }
    }
    assert_eq!(error_of(app.get(&path).await).await, (404, "not-found".into()), "published at release");
    app.release(round).await;
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("the ledger");
    assert_eq!(
        app.get(&path).await.text().await.expect("the ledger"),
        text,
        "the same for everyone, every time"
    );
    let ledger: PublishedLedger = serde_json::from_str(&text).expect("a ledger");
    assert_eq!(ledger.check(&app.organisation), vec![]);
    (ledger, text, sent)
}

fn shown_keys(ledger: &PublishedLedger) -> Vec<candor_protocol::token::TokenKeyId> {
    ledger
        .ledger
        .leaves
        .iter()
        .filter_map(|leaf| match &leaf.token {
            LeafToken::Shown(token) => Some(token.token_key_id()),
            LeafToken::Sealed(_) => None,
        })
        .collect()
}

#[tokio::test]
async fn a_released_rounds_ledger_verifies_and_hides_small_teams_counts() {
    let mut app = spawn_app().await;
    // Four from platform (a team with none below it, at least k: listed); one each from
    // sre and web (below k) and from acme/eng itself (a team with teams below it).
    let writers = [("acme/eng/platform", 4), ("acme/eng/sre", 1), ("acme/eng/web", 1), ("acme/eng", 1)];
    let (ledger, text, sent) = released(&app, &writers).await;
    assert_eq!((ledger.ledger.items_listed, ledger.ledger.tokens_issued), (4, 7));
    assert_eq!(ledger.ledger.withheld.len(), 3, "three sealed: a multiple of k, at least k");
    for (employee, receipt) in &sent {
        let expected = if employee.team.as_str() == "acme/eng/platform" {
            Inclusion::Published
        } else {
            Inclusion::Withheld
        };
        assert_eq!(ledger.find(&receipt.receipt.item), expected, "every author finds their item");
    }
    // Platform's four tokens are shown; the other three are sealed among the withheld,
    // so the split between sre, web and acme/eng is nowhere. The control: their authors'
    // tokens do name their teams' keys, so a leaf that showed them would tell every
    // reader.
    let shown = shown_keys(&ledger);
    assert_eq!(shown.len(), 4);
    assert!(
        shown
            .iter()
            .all(|key| sent[0].0.manifest.team_of_key(*key).unwrap().scope.as_str() == "acme/eng/platform")
    );
    for (employee, receipt) in &sent[4..] {
        assert_ne!(employee.team.as_str(), "acme/eng/platform");
        assert_eq!(
            employee.manifest.team_of_key(employee.token.token_key_id()).unwrap().scope,
            employee.team
        );
        assert!(
            !text.contains(&candor_protocol::b64::encode(employee.token.to_bytes())),
            "a small team's token"
        );
        let entry = ledger.ledger.withheld.iter().find(|leaf| leaf.item == receipt.receipt.item).unwrap();
        assert!(matches!(entry.token, LeafToken::Sealed(id) if id.0 == employee.token.spend_id()), "sealed");
    }

    // `candor ledger verify`, from the file (the organisation key from the keys folder)
    // and from the URL, and a tampered file.
    app.stopped().await;
    let config = write_config(&app, "candor.toml");
    let file = config.with_file_name("ledger.json");
    std::fs::write(&file, &text).unwrap();
    let (ok, out) = verify(&config, &[file.to_str().unwrap()]);
    let summary = "verified: 4 items listed (4 with their token checked, 0 sealed), 3 withheld entries, 7 tokens issued";
    assert!(ok && out.contains(summary), "{out}");
    let mut tampered = ledger.clone();
    tampered.ledger.leaves.remove(0);
    std::fs::write(&file, serde_json::to_string(&tampered).unwrap()).unwrap();
    let (ok, out) = verify(&config, &[file.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("discrepancy: {}", Discrepancy::Root)), "{out}");
    assert!(out.contains("discrepancy: the ledger says it lists 4 items but holds 3 leaves"), "{out}");
    let stranger = candor_protocol::keys::OrganisationKey::from_seed(&[9; 32]).public_key().to_base64();
    let (ok, out) = verify(&config, &[file.to_str().unwrap(), "--organisation-key", &stranger]);
    assert!(!ok && out.contains("the round does not verify"), "{out}");

    let server = common::process::ServerProcess::start(&config, "candor.log");
    let round = ledger.ledger.round;
    let (ok, out) = verify(&config, &[&format!("{}/v1/rounds/{round}/ledger", server.address)]);
    assert!(ok && out.contains("verified"), "{out}");
    // A URL that names another round than the ledger it answers.
    let other = candor_protocol::domain::RoundId::parse(&"ab".repeat(16)).unwrap();
    std::fs::write(&file, &text).unwrap();
    let (ok, _) = verify(&config, &[file.to_str().unwrap()]);
    assert!(ok);
    let (ok, out) = verify(&config, &[&format!("{}/v1/rounds/{other}/ledger", server.address)]);
    assert!(!ok, "{out}");
    drop(server);
}

/// How many items small teams sent the ledger does not count: a round where sre sent
/// one and one where it sent none publish ledgers of one shape, tokens issued included,
/// and the sre author finds theirs among the sealed entries. A team with teams below it
/// never has its tokens shown, so whether they are shown cannot tell whether a small
/// team below it wrote. The control: the items behind the two ledgers differ by one.
#[tokio::test]
async fn what_small_teams_sent_the_ledger_does_not_count() {
    let app = spawn_app().await;
    let (with, _, sent) = released(&app, &[("acme/eng/platform", 4), ("acme/eng/sre", 1)]).await;
    let (without, _, _) = released(&app, &[("acme/eng/platform", 4)]).await;
    let shape =
        |l: &PublishedLedger| (l.ledger.items_listed, l.ledger.withheld.len(), l.ledger.tokens_issued);
    assert_eq!(shape(&with), shape(&without), "the two rounds' ledgers have one shape");
    assert_eq!(shape(&with), (4, 3, 7));
    let sre = &sent[4];
    assert_eq!(sre.0.team.as_str(), "acme/eng/sre");
    assert_eq!(with.find(&sre.1.receipt.item), Inclusion::Withheld);
    assert_eq!(app.store.counts(with.ledger.round).await.unwrap().items, 5);
    assert_eq!(app.store.counts(without.ledger.round).await.unwrap().items, 4);
    // acme/eng has sre, web and platform below it: its own three items are sealed,
    // whether or not sre also wrote.
    for writers in [&[("acme/eng", 3)][..], &[("acme/eng", 3), ("acme/eng/sre", 1)]] {
        let (ledger, _, sent) = released(&app, writers).await;
        assert_eq!(ledger.ledger.items_listed, 0, "{writers:?}");
        assert!(sent.iter().all(|(_, receipt)| ledger.find(&receipt.receipt.item) == Inclusion::Withheld));
    }
}
