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

#[tokio::test]
async fn a_released_rounds_ledger_verifies_and_hides_small_teams_counts() {
    let mut app = spawn_app().await;
    let round = app.open_round_with_teams("acme/eng", &["acme/eng/platform", "acme/eng/sre"], 3, 1).await;
    let path = format!("/v1/rounds/{round}/ledger");
    // Four from platform, a group of its own; one from sre, which the digest rolls up.
    let mut sent = Vec::new();
    for (i, team) in ["platform", "platform", "platform", "platform", "sre"].iter().enumerate() {
        let scope = format!("acme/eng/{team}");
        let employee = app.obtain_token(&format!("emp-{i}"), &[&scope], &scope).await;
        let submission = employee.submission("Stand-ups run long", 7);
        let response =
            app.post_feedback(&employee.authorization(), serde_json::to_vec(&submission).unwrap()).await;
        assert_eq!(response.status(), 201);
        let receipt: SignedReceipt = response.json().await.unwrap();
        employee.check_receipt(&submission, &receipt);
        sent.push((employee, receipt));
    }
    assert_eq!(error_of(app.get(&path).await).await, (404, "not-found".into()), "published at release");

    app.release(round).await;
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert_eq!(app.get(&path).await.text().await.unwrap(), text, "the same for everyone, every time");
    let ledger: PublishedLedger = serde_json::from_str(&text).unwrap();
    assert_eq!(ledger.check(&app.organisation), vec![]);
    assert_eq!((ledger.ledger.items_received, ledger.ledger.tokens_issued), (5, 5));
    for (_, receipt) in &sent {
        assert_eq!(ledger.find(&receipt.receipt.item), Inclusion::Published, "every author finds their item");
    }

    // The small team's count is nowhere: its item's leaf is sealed, and no shown token
    // is under its key. The control: its author's token does name the sre key, so a
    // leaf that showed it would tell every reader that sre sent one item.
    let sre = &sent[4].0;
    assert_eq!(sre.team.as_str(), "acme/eng/sre");
    let sre_key = sre.token.token_key_id();
    assert!(sre.manifest.team_of_key(sre_key).is_some_and(|team| team.scope.as_str() == "acme/eng/sre"));
    let shown: Vec<_> = ledger
        .ledger
        .leaves
        .iter()
        .filter_map(|leaf| match &leaf.token {
            LeafToken::Shown(token) => Some(token.token_key_id()),
            LeafToken::Sealed(_) => None,
        })
        .collect();
    assert_eq!(shown.len(), 4, "platform's four tokens are shown");
    assert!(!shown.contains(&sre_key), "no shown token says sre");
    assert!(
        !text.contains(&candor_protocol::b64::encode(sre.token.to_bytes())),
        "sre's token is not published"
    );
    let sealed = ledger.ledger.leaves.iter().find(|leaf| leaf.item == sent[4].1.receipt.item).unwrap();
    assert!(
        matches!(sealed.token, LeafToken::Sealed(id) if id.0 == sre.token.spend_id()),
        "sealed: its spend id"
    );

    // `candor ledger verify`, from the file (the organisation key from the keys folder)
    // and from the URL, and a tampered file.
    app.stopped().await;
    let config = write_config(&app, "candor.toml");
    let file = config.with_file_name("ledger.json");
    std::fs::write(&file, &text).unwrap();
    let (ok, out) = verify(&config, &[file.to_str().unwrap()]);
    assert!(
        ok && out.contains("verified: 5 items (4 with their token checked, 1 sealed), 5 tokens issued"),
        "{out}"
    );
    let mut tampered = ledger.clone();
    tampered.ledger.leaves.remove(0);
    std::fs::write(&file, serde_json::to_string(&tampered).unwrap()).unwrap();
    let (ok, out) = verify(&config, &[file.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("discrepancy: {}", Discrepancy::Root)), "{out}");
    assert!(out.contains("discrepancy: the ledger says 5 items were received but holds 4 leaves"), "{out}");
    let stranger = candor_protocol::keys::OrganisationKey::from_seed(&[9; 32]).public_key().to_base64();
    let (ok, out) = verify(&config, &[file.to_str().unwrap(), "--organisation-key", &stranger]);
    assert!(!ok && out.contains("the round does not verify"), "{out}");

    let server = common::process::ServerProcess::start(&config, "candor.log");
    let (ok, out) = verify(&config, &[&format!("{}{path}", server.address)]);
    assert!(ok && out.contains("verified"), "{out}");
    drop(server);
}
