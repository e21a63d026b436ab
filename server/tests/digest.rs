//! The leaders' digest over real HTTP: an index that holds no items, one round's digest
//! at a time, and the rest of a large group a page at a time — every item once, in the
//! group's order, and nothing about one round changed by what another holds.

mod common;

use std::collections::BTreeSet;

use candor_protocol::api::DIGEST_PAGE_ITEMS;
use candor_protocol::domain::RoundId;
use common::{TestApp, spawn_app};
use serde_json::Value;

/// `count` people of `team` each send one item, their text numbered from `first`.
async fn send(app: &TestApp, team: &str, first: usize, count: usize) -> BTreeSet<String> {
    let mut texts = BTreeSet::new();
    for i in first..first + count {
        let employee = app.obtain_token(&format!("{team}-{i}"), &[team], team).await;
        let text = format!("Item number {i} from {team}");
        let submission = employee.submission(&text, u8::try_from(i % 11).expect("rating"));
        let response = app
            .post_feedback(&employee.authorization(), serde_json::to_vec(&submission).expect("json"))
            .await;
        assert_eq!(response.status(), 201);
        texts.insert(text);
    }
    texts
}

fn texts(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["answers"][1]["text"].as_str().expect("a text answer").to_owned())
        .collect()
}

async fn error_of(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    common::error_of(
        app.http.get(format!("{}{path}", app.address)).header("cookie", cookie).send().await.expect("get"),
    )
    .await
}

#[tokio::test]
async fn a_large_group_comes_a_page_at_a_time_and_every_item_once() {
    let app = spawn_app().await;
    let round = app.open_round("acme/eng", 3, 1).await;
    let count = 2 * DIGEST_PAGE_ITEMS + 13;
    let sent = send(&app, "acme/eng", 0, count).await;
    let cookie = app.leader_session("Dana", "acme/eng").await;
    // Before release the index lists nothing and the round is answered as unknown.
    assert_eq!(app.leader_get(&cookie, "/v1/digest").await["rounds"], serde_json::json!([]));
    assert_eq!(error_of(&app, &cookie, &format!("/v1/digest/rounds/{round}")).await, (404, "round".into()));
    app.release(round).await;

    // The index names the round and holds no items.
    let index = app.leader_get(&cookie, "/v1/digest").await;
    assert_eq!(index["rounds"][0]["round"], round.to_string());
    assert_eq!(index["rounds"][0]["covers"], "acme/eng");
    assert!(!index.to_string().contains("Item number"), "the index holds no items: {index}");

    // The round's digest: the group's count and ratings in full, its first page of items.
    let digest = app.leader_get(&cookie, &format!("/v1/digest/rounds/{round}")).await;
    let group = &digest["groups"][0];
    assert_eq!(group["item_count"], count);
    assert_eq!(
        group["ratings"][0]["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .filter_map(Value::as_u64)
            .sum::<u64>(),
        count as u64
    );
    let mut read = texts(&group["items"]);
    assert_eq!(read.len(), DIGEST_PAGE_ITEMS);

    // The pages after it, each from where the last ended.
    let page_of = |from: usize| format!("/v1/digest/rounds/{round}/items?group=acme/eng&from={from}");
    while read.len() < count {
        let page = app.leader_get(&cookie, &page_of(read.len())).await;
        assert_eq!(
            (page["from"].as_u64(), page["item_count"].as_u64()),
            (Some(read.len() as u64), Some(count as u64))
        );
        let more = texts(&page["items"]);
        assert!(!more.is_empty() && more.len() <= DIGEST_PAGE_ITEMS, "{} items on a page", more.len());
        read.extend(more);
    }
    assert_eq!(read.len(), count, "no item twice");
    assert_eq!(
        read.iter().cloned().collect::<BTreeSet<_>>(),
        sent.iter().map(|t| candor_protocol::scrub::normalise(t)).collect()
    );
    assert_eq!(
        app.leader_get(&cookie, &page_of(count)).await["items"],
        serde_json::json!([]),
        "past the end: nothing"
    );
    // The same pages again: the same items in the same places (one order, fixed at release).
    assert_eq!(
        texts(&app.leader_get(&cookie, &page_of(DIGEST_PAGE_ITEMS)).await["items"]),
        read[DIGEST_PAGE_ITEMS..2 * DIGEST_PAGE_ITEMS]
    );

    // Every wrong request gets its own clear error.
    let other = RoundId::parse("0123456789abcdef0123456789abcdef").expect("id");
    for (path, expected) in [
        (format!("/v1/digest/rounds/{other}"), (404, "round")),
        ("/v1/digest/rounds/not-a-round".to_owned(), (404, "not-found")),
        (format!("/v1/digest/rounds/{round}/items?group=acme/sales&from=0"), (404, "not-found")),
        (format!("/v1/digest/rounds/{round}/items?group=acme/eng&from=ten"), (400, "query")),
        (format!("/v1/digest/rounds/{round}/items?from=0"), (400, "query")),
        (format!("/v1/digest/rounds/{round}/items?group=Not%20a%20scope&from=0"), (400, "query")),
    ] {
        assert_eq!(error_of(&app, &cookie, &path).await, (expected.0, expected.1.to_owned()), "{path}");
    }
    for path in [format!("/v1/digest/rounds/{round}"), page_of(0)] {
        assert_eq!(error_of(&app, "candor_session=nobody", &path).await, (401, "session".into()), "{path}");
    }
    // A leader of another part of the organisation: the round does not exist for them.
    let sales = app.leader_session("Sam", "acme/sales").await;
    assert_eq!(error_of(&app, &sales, &format!("/v1/digest/rounds/{round}")).await, (404, "round".into()));
}

#[tokio::test]
async fn what_one_round_shows_does_not_change_with_what_another_holds() {
    let app = spawn_app().await;
    let small = app.open_round("acme/eng", 3, 1).await;
    send(&app, "acme/eng", 0, 4).await;
    app.release(small).await;
    let cookie = app.leader_session("Ada", "acme").await;
    let path = format!("/v1/digest/rounds/{small}");
    let before = app.leader_get(&cookie, &path).await;
    let index_before = app.leader_get(&cookie, "/v1/digest").await;

    let large = app.open_round("acme/sales", 3, 1).await;
    send(&app, "acme/sales", 0, DIGEST_PAGE_ITEMS + 5).await;
    app.release(large).await;
    assert_eq!(app.leader_get(&cookie, &path).await, before, "the small round's digest is the same");
    let index = app.leader_get(&cookie, "/v1/digest").await;
    let listed: Vec<&str> =
        index["rounds"].as_array().expect("rounds").iter().filter_map(|r| r["round"].as_str()).collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&small.to_string().as_str()) && listed.contains(&large.to_string().as_str()));
    // The index grew by one heading, whatever the new round holds.
    let heading = index["rounds"]
        .as_array()
        .expect("rounds")
        .iter()
        .find(|heading| heading["round"] == large.to_string())
        .expect("the large round's heading");
    assert_eq!(index.to_string().len(), index_before.to_string().len() + heading.to_string().len() + 1);
}
