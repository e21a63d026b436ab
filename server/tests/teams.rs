//! An item's team is the team the server checked at issuance, never the writer's (or
//! the host page's) say-so. Two attacks over real HTTP: a host page that tags one person
//! with a private sub-team, and colluders who post "as" a one-person team to push it
//! over the anonymity threshold.

mod common;

use common::spawn_app;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

/// The host page (or the operator's own embed.js) hands one employee's widget a team of
/// her own, below her real one. Whatever the server does with the request, the tag must
/// not end up with her item, where the operator would read off what she wrote.
#[tokio::test]
async fn a_host_page_cannot_tag_a_person_with_a_private_team() {
    let mut app = spawn_app().await;
    let round = app.open_round_with_teams("acme/eng", &["acme/eng/platform"], 3, 1).await;
    let tag = "acme/eng/platform/tagged-alice";
    let alice = app.obtain_token("alice", &["acme/eng/platform"], tag).await;
    let submission = alice.submission("Only Alice could have written this.", 4);
    let response = app.post_feedback(&alice.authorization(), serde_json::to_vec(&submission).unwrap()).await;
    let status = response.status().as_u16();
    app.release(round).await;
    app.stop();
    assert!(
        !contains(&app.database_bytes().await, "tagged-alice"),
        "the private team the page gave Alice is stored with her item (answered {status})"
    );
}

/// One person is alone in acme/sales/solo. Four colluders from engineering post into
/// that team; with her item it reaches k = 5, and the sales leader (or the colluders,
/// who know their own four) read her words.
#[tokio::test]
async fn colluders_cannot_push_a_one_person_team_over_the_threshold() {
    let mut app = spawn_app().await;
    let round = app.open_round_with_teams("acme", &["acme/eng", "acme/sales", "acme/sales/solo"], 5, 1).await;
    let solo = app.obtain_token("sol", &["acme/sales/solo"], "acme/sales/solo").await;
    let secret = "Sol's words, which nobody should be able to single out.";
    let submission = solo.submission(secret, 2);
    assert_eq!(
        app.post_feedback(&solo.authorization(), serde_json::to_vec(&submission).unwrap()).await.status(),
        201
    );
    let mut accepted = 0;
    for i in 0..4 {
        // Each asks for a token under Sol's team's key, with an engineering assertion.
        let subject = format!("colluder-{i}");
        let Ok(colluder) = app.try_obtain_token(&subject, &["acme/eng"], "acme/sales/solo").await else {
            continue;
        };
        let text = format!("Colluder {i} posting as sales.");
        let body = serde_json::to_vec(&colluder.submission(&text, 9)).unwrap();
        if app.post_feedback(&colluder.authorization(), body).await.status() == 201 {
            accepted += 1;
        }
    }
    app.release(round).await;
    let sales_lead = app.leader_session("Sales lead", "acme/sales").await;
    let digest = app.digest(&sales_lead).await.to_string();
    app.stop();
    assert!(
        !digest.contains("Sol's words"),
        "{accepted} colluders' items in Sol's team pushed it over k: her item is shown\n{digest}"
    );
}
