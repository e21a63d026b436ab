//! The server over real HTTP: issuance, submission, release, digest, and every refusal.

mod common;

use candor_protocol::receipt::SignedReceipt;
use candor_protocol::token::{Nonce, TokenRequest};
use common::{INTRANET, error_of, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn issue_submit_close_digest() {
    let app = spawn_app().await;
    let round = app.open_round_with_teams("acme/eng", &["acme/eng/platform"], 3, 1).await;

    // The issuer directory lists the keys of the round's teams, as RFC 9578 says.
    let directory = app.get("/.well-known/private-token-issuer-directory").await;
    assert_eq!(directory.headers()["content-type"], "application/private-token-issuer-directory");
    let directory: candor_protocol::directory::IssuerDirectory = directory.json().await.unwrap();
    assert_eq!(directory.issuer_request_uri, "https://candor.test/v1/token-request");
    let (manifest, team, key) = app.round_for("acme/eng/platform").await.unwrap();
    assert_eq!(team.as_str(), "acme/eng/platform");
    assert_eq!(directory.type2_keys().collect::<Vec<_>>(), app.discover().await[0].keys);
    assert!(directory.type2_keys().any(|listed| listed == key));
    assert_eq!(manifest.round, round);

    let texts =
        ["The release train is too fast", "Pairing works well", "More \u{201C}focus\u{201D} time please"];
    for (i, text) in texts.iter().enumerate() {
        let employee =
            app.obtain_token(&format!("emp-{i}"), &["acme/eng/platform"], "acme/eng/platform").await;
        let submission = employee.submission(text, 7 + u8::try_from(i).unwrap());
        let response =
            app.post_feedback(&employee.authorization(), serde_json::to_vec(&submission).unwrap()).await;
        assert_eq!(response.status(), 201);
        let receipt: SignedReceipt = response.json().await.unwrap();
        employee.check_receipt(&submission, &receipt);
    }
    assert_eq!(app.item_count(round).await, 3);

    // Nothing is visible before release.
    let cookie = app.leader_session("Dana", "acme/eng").await;
    assert_eq!(app.digest(&cookie).await["rounds"], serde_json::json!([]));

    app.release(round).await;
    let digest = app.digest(&cookie).await;
    assert_eq!(digest["leader"]["name"], "Dana");
    let group = &digest["rounds"][0]["groups"][0];
    assert_eq!(group["scope"], "acme/eng/platform");
    assert_eq!(group["item_count"], 3);
    let mut shown: Vec<String> = group["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["answers"][1]["text"].as_str().unwrap().into())
        .collect();
    shown.sort();
    let mut expected: Vec<String> = texts.iter().map(|t| candor_protocol::scrub::normalise(t)).collect();
    expected.sort();
    assert_eq!(shown, expected);
    assert_eq!(group["ratings"][0]["counts"], serde_json::json!([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0]));
    // Items carry no date of their own: the digest dates them by their round.
    assert!(group["items"][0].get("day").is_none(), "{group}");

    // Closed rounds take no more tokens or feedback, and leave the directory.
    let late = app.discover().await;
    assert!(late.is_empty());
}

#[tokio::test]
async fn a_spent_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let round = app.open_round("acme", 3, 1).await;
    let employee = app.obtain_token("alice", &["acme/eng"], "acme/eng").await;
    let submission = employee.submission("first", 5);
    let body = serde_json::to_vec(&submission).unwrap();
    let first = app.post_feedback(&employee.authorization(), body.clone()).await;
    assert_eq!(first.status(), 201);
    let receipt: SignedReceipt = first.json().await.unwrap();
    // The very same submission again (a retry whose answer was lost): the same receipt,
    // and nothing stored twice.
    let again = app.post_feedback(&employee.authorization(), body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<SignedReceipt>().await.unwrap(), receipt);
    // Different text, same token: still spent.
    let second = serde_json::to_vec(&employee.submission("second", 1)).unwrap();
    assert_eq!(
        error_of(app.post_feedback(&employee.authorization(), second).await).await,
        (409, "spent".into())
    );
    assert_eq!(app.item_count(round).await, 1);
}

#[tokio::test]
async fn the_quota_holds_per_person_and_round() {
    let app = spawn_app().await;
    let round = app.open_round("acme", 3, 2).await;
    app.obtain_token("bob", &["acme"], "acme").await;
    app.obtain_token("bob", &["acme"], "acme").await;
    let (manifest, _, key) = app.round_for("acme").await.unwrap();
    let (request, _) =
        TokenRequest::blind(&mut rand::rng(), &key, &manifest.token_challenge(), Nonce([1; 32])).unwrap();
    let third = app.post_token_request(&app.assertion("bob", &["acme"]), request.to_bytes()).await;
    assert_eq!(error_of(third).await, (429, "quota".into()));
    // Someone else still gets theirs.
    app.obtain_token("carol", &["acme"], "acme").await;
    assert_eq!(app.store.counts(round).await.unwrap().tokens_issued, 3);
}

/// A server reads whether its rounds changed only at page loads (`/v1/rounds`, the
/// directory); per token and per item the store's own write judges whether the round is
/// open. A release made behind its back (by another server, or `candor round close`)
/// must still stop it from signing, counting and storing at once.
#[tokio::test]
async fn a_round_released_behind_the_servers_back_takes_no_token_and_no_item() {
    let app = spawn_app().await;
    // A token request: the server has the round cached when it is released.
    let round = app.open_round("acme", 3, 2).await;
    app.obtain_token("alice", &["acme"], "acme").await;
    let (manifest, _, key) = app.round_for("acme").await.unwrap();
    let (request, _) =
        TokenRequest::blind(&mut rand::rng(), &key, &manifest.token_challenge(), Nonce([2; 32])).unwrap();
    assert!(app.store.release_round(round).await.unwrap(), "released in the store only");
    let late = app.post_token_request(&app.assertion("bob", &["acme"]), request.to_bytes()).await;
    assert_eq!(error_of(late).await, (400, "token-key".into()), "not signed: the key is no round's now");
    assert_eq!(app.store.counts(round).await.unwrap().tokens_issued, 1, "nothing counted for bob");
    // A submission, likewise.
    let round = app.open_round("acme", 3, 2).await;
    let early = app.obtain_token("carol", &["acme"], "acme").await;
    assert!(app.store.release_round(round).await.unwrap(), "released in the store only");
    let submission = early.submission("After the close", 4);
    let refused = app.post_feedback(&early.authorization(), serde_json::to_vec(&submission).unwrap()).await;
    assert_eq!(error_of(refused).await, (403, "round-not-open".into()));
    assert_eq!(app.store.counts(round).await.unwrap().items, 0);
    // Each refusal made the server read its rounds again: both are gone from its list.
    assert!(app.discover().await.is_empty());
}

#[tokio::test]
async fn eligibility_is_checked_before_anything_is_signed() {
    let app = spawn_app().await;
    let round = app.open_round("acme/eng", 3, 1).await;
    let (manifest, _, key) = app.round_for("acme/eng").await.unwrap();
    let (request, _) =
        TokenRequest::blind(&mut rand::rng(), &key, &manifest.token_challenge(), Nonce([2; 32])).unwrap();
    let body = request.to_bytes();

    // Wrong scope: sales may not answer an engineering round.
    let sales = app.assertion("sam", &["acme/sales"]);
    assert_eq!(error_of(app.post_token_request(&sales, body.clone()).await).await, (403, "team".into()));
    // A round for a sub-team is not open to the parent either.
    let parent = app.assertion("pat", &["acme"]);
    assert_eq!(error_of(app.post_token_request(&parent, body.clone()).await).await, (403, "team".into()));

    let forger = candor_server::assertion::IntranetKey::generate();
    let scopes = [candor_protocol::domain::Scope::parse("acme/eng").unwrap()];
    let cases = [
        ("no assertion", String::new()),
        ("garbage", "not.a.jws".to_owned()),
        ("forged", forger.mint("eve", &scopes, "candor", 300)),
        ("wrong audience", app.intranet.mint("eve", &scopes, "another-service", 300)),
        (
            "expired",
            app.intranet
                .mint_raw(&serde_json::json!({"sub": "eve", "aud": "candor", "scopes": ["acme/eng"]}), -600),
        ),
        (
            "long-lived",
            app.intranet.mint_raw(
                &serde_json::json!({"sub": "eve", "aud": "candor", "scopes": ["acme/eng"]}),
                30 * 86_400,
            ),
        ),
    ];
    for (what, assertion) in cases {
        let response = app.post_token_request(&assertion, body.clone()).await;
        assert_eq!(response.status(), 401, "{what}");
    }
    assert_eq!(app.store.counts(round).await.unwrap().tokens_issued, 0);

    // The wrong content type is refused too.
    let response = app
        .http
        .post(format!("{}/v1/token-request", app.address))
        .bearer_auth(app.assertion("ann", &["acme/eng"]))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await, (415, "content-type".into()));
}

#[tokio::test]
async fn bad_submissions_get_clear_errors_and_store_nothing() {
    let app = spawn_app().await;
    let round = app.open_round("acme", 3, 1).await;
    let employee = app.obtain_token("dave", &["acme"], "acme").await;
    let good = serde_json::to_vec(&employee.submission("fine", 3)).unwrap();

    // Malformed token.
    let (status, code) = error_of(app.post_feedback("PrivateToken token=\"AAAA\"", good.clone()).await).await;
    assert_eq!((status, code.as_str()), (401, "token"));
    let (status, _) = error_of(app.post_feedback("Bearer x", good.clone()).await).await;
    assert_eq!(status, 401);

    // A token under another round's key: wrong key id.
    let other = app.open_round("globex", 3, 1).await;
    let stranger = app.obtain_token("erin", &["globex"], "globex").await;
    assert_eq!(stranger.manifest.round, other);
    let mismatched = app.post_feedback(&stranger.authorization(), good.clone()).await;
    let (status, code) = error_of(mismatched).await;
    assert_eq!((status, code.as_str()), (401, "token"));

    // Oversized body.
    let huge = vec![b' '; 70 * 1024];
    let (status, code) = error_of(app.post_feedback(&employee.authorization(), huge).await).await;
    assert_eq!((status, code.as_str()), (413, "too-large"));

    // Invalid UTF-8.
    let mut invalid = good.clone();
    invalid.insert(1, 0xff);
    let (status, code) = error_of(app.post_feedback(&employee.authorization(), invalid).await).await;
    assert_eq!((status, code.as_str()), (400, "utf-8"));

    // Not JSON of a submission.
    let (status, code) = error_of(app.post_feedback(&employee.authorization(), "{}").await).await;
    assert_eq!((status, code.as_str()), (400, "json"));

    // Unknown round.
    let mut unknown: Value = serde_json::from_slice(&good).unwrap();
    unknown["round"] = "0123456789abcdef0123456789abcdef".into();
    let (status, code) =
        error_of(app.post_feedback(&employee.authorization(), serde_json::to_vec(&unknown).unwrap()).await)
            .await;
    assert_eq!((status, code.as_str()), (404, "round"));

    // Tampered text: the author's signature fails.
    let mut tampered: Value = serde_json::from_slice(&good).unwrap();
    tampered["answers"][1]["text"] = "changed".into();
    let (status, code) =
        error_of(app.post_feedback(&employee.authorization(), serde_json::to_vec(&tampered).unwrap()).await)
            .await;
    assert_eq!((status, code.as_str()), (400, "signature"));

    // Text in another form than the normalised one (a zero-width space, a ligature),
    // or none at all: refused at the JSON edge, before any signature is checked.
    for text in ["a\u{200B}b", "\u{FB01}ne", ""] {
        let mut odd: Value = serde_json::from_slice(&good).unwrap();
        odd["answers"][1]["text"] = text.into();
        let response = app.post_feedback(&employee.authorization(), serde_json::to_vec(&odd).unwrap()).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!((status, body["error"].as_str().unwrap()), (400, "json"), "{text:?}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("normalised") || message.contains("empty"), "{text:?}: {message}");
    }

    // Answers that do not fit the round: rating out of range, signed properly.
    let out_of_range = serde_json::to_vec(&employee.submission("fine", 11)).unwrap();
    let (status, code) = error_of(app.post_feedback(&employee.authorization(), out_of_range).await).await;
    assert_eq!((status, code.as_str()), (422, "answers"));

    assert_eq!(app.item_count(round).await, 0);
    assert_eq!(app.item_count(other).await, 0);
    // After all that, the genuine submission still goes through, once.
    assert_eq!(app.post_feedback(&employee.authorization(), good).await.status(), 201);
    assert_eq!(app.item_count(round).await, 1);
}

#[tokio::test]
async fn fifty_concurrent_redemptions_of_one_token_store_one_item_and_retries_get_its_receipt() {
    let app = spawn_app().await;
    let round = app.open_round("acme", 3, 1).await;
    let employee = app.obtain_token("frank", &["acme"], "acme").await;
    let body = serde_json::to_vec(&employee.submission("race", 4)).unwrap();
    let authorization = employee.authorization();
    let attempts = (0..50).map(|_| app.post_feedback(&authorization, body.clone()));
    let statuses: Vec<u16> =
        futures::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 49, "retries get the receipt: {statuses:?}");
    // Fifty different submissions under one token, at once: one is stored.
    let employee = app.obtain_token("frances", &["acme"], "acme").await;
    let authorization = employee.authorization();
    let bodies: Vec<Vec<u8>> =
        (0..50).map(|i| serde_json::to_vec(&employee.submission(&format!("race {i}"), 4)).unwrap()).collect();
    let attempts = bodies.iter().map(|body| app.post_feedback(&authorization, body.clone()));
    let statuses: Vec<u16> =
        futures::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 49, "{statuses:?}");
    assert_eq!(app.item_count(round).await, 2);
}

#[tokio::test]
async fn scopes_below_the_threshold_are_hidden_and_roll_up() {
    let app = spawn_app().await;
    let round = app
        .open_round_with_teams("acme/eng", &["acme/eng/platform", "acme/eng/web", "acme/eng/data"], 3, 1)
        .await;
    let teams = [
        ("acme/eng/platform", 3), // stands alone
        ("acme/eng/web", 1),      // rolls up into acme/eng
        ("acme/eng/data", 1),     // rolls up into acme/eng
    ];
    let mut n = 0;
    for (team, count) in teams {
        for _ in 0..count {
            n += 1;
            let employee = app.obtain_token(&format!("e{n}"), &[team], team).await;
            let submission = employee.submission(&format!("note {n} from {team}"), 5);
            assert_eq!(
                app.post_feedback(&employee.authorization(), serde_json::to_vec(&submission).unwrap())
                    .await
                    .status(),
                201
            );
        }
    }
    app.release(round).await;

    // The engineering leader: platform alone, web and data rolled up into one group of 2
    // — fewer than 3, and at the top of their scope, so withheld.
    let digest = app.digest(&app.leader_session("Eng lead", "acme/eng").await).await;
    let groups = digest["rounds"][0]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["scope"], "acme/eng/platform");
    // …and nothing says that anything was withheld (for a small team, that would say
    // whether anyone wrote).
    assert!(digest["rounds"][0].get("withheld").is_none());
    let text = digest.to_string();
    assert!(!text.contains("acme/eng/web") && !text.contains("acme/eng/data"), "{text}");

    // The web team's own leader sees nothing at all: one item is below k.
    let digest = app.digest(&app.leader_session("Web lead", "acme/eng/web").await).await;
    assert_eq!(digest["rounds"][0]["groups"], serde_json::json!([]));
    assert!(!digest.to_string().contains("from acme/eng/web"));
}

#[tokio::test]
async fn leaders_need_a_valid_one_time_link() {
    let app = spawn_app().await;
    let (_, link) = app.add_leader("Lee", "acme").await;
    assert_eq!(app.sign_in(&link).await.status(), 200);
    assert_eq!(error_of(app.sign_in(&link).await).await, (401, "link".into()), "one time only");
    assert_eq!(error_of(app.sign_in("https://candor.test/digest/#signin=nope").await).await.0, 401);
    let no_session = app.get("/v1/digest").await;
    assert_eq!(error_of(no_session).await, (401, "session".into()));
    let forged = app
        .http
        .get(format!("{}/v1/digest", app.address))
        .header("cookie", "__Host-candor_session=abc")
        .send();
    assert_eq!(error_of(forged.await.unwrap()).await, (401, "session".into()));
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_the_api_no_cors() {
    let app = spawn_app().await;
    for path in ["/v1/rounds", "/v1/digest", "/.well-known/private-token-issuer-directory", "/nowhere"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
    }
    // The widget's pages may be framed by the intranet, and by nothing else.
    let widget = app.get("/widget/").await;
    let csp = widget.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.ends_with(&format!("frame-ancestors {INTRANET}")), "{csp}");
    assert!(widget.headers().get("x-frame-options").is_none());
    // The widget's requests are same-origin: no page of the intranet (nor any other)
    // may call the API from a script, so no answer carries CORS headers.
    for (method, path) in [
        (reqwest::Method::OPTIONS, "/v1/token-request"),
        (reqwest::Method::OPTIONS, "/v1/feedback"),
        (reqwest::Method::GET, "/v1/rounds"),
    ] {
        for origin in [INTRANET, "https://evil.example"] {
            let response = app
                .http
                .request(method.clone(), format!("{}{path}", app.address))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization, content-type")
                .send()
                .await
                .unwrap();
            let cors: Vec<_> = response
                .headers()
                .keys()
                .filter(|name| name.as_str().starts_with("access-control-"))
                .collect();
            assert!(cors.is_empty(), "{method} {path} from {origin}: {cors:?}");
        }
    }
}

#[tokio::test]
async fn assertions_expire_by_the_servers_clock() {
    let app = spawn_app().await;
    app.open_round("acme", 3, 2).await;
    let assertion = app.assertion("ivy", &["acme"]); // valid for 300 s, 30 s of leeway
    let (manifest, _, key) = app.round_for("acme").await.unwrap();
    let request = || {
        TokenRequest::blind(&mut rand::rng(), &key, &manifest.token_challenge(), Nonce([3; 32]))
            .unwrap()
            .0
            .to_bytes()
    };
    assert_eq!(app.post_token_request(&assertion, request()).await.status(), 200);
    app.clock.advance(400);
    assert_eq!(
        error_of(app.post_token_request(&assertion, request()).await).await,
        (401, "assertion".into())
    );
}

#[tokio::test]
async fn the_intranet_keys_are_published_so_widgets_can_check_who_they_are_told_of() {
    use candor_protocol::assertion::{AssertionKeys, AssertionRefusal};
    let app = spawn_app().await;
    let response = app.get("/v1/assertion-keys").await;
    assert_eq!(response.status(), 200);
    let keys: AssertionKeys = response.json().await.expect("keys");
    assert_eq!(keys.audience, app.config.audience);
    let genuine = app.assertion("ben", &["acme/eng"]);
    assert_eq!(keys.verify(&genuine).expect("the intranet's word").subject, "ben");
    // Another name under Ben's signature, and a name signed by a key the intranet does
    // not have: neither is the intranet's word.
    let anna = app.assertion("anna", &["acme/eng"]);
    let (ben_parts, anna_parts): (Vec<_>, Vec<_>) = (genuine.split('.').collect(), anna.split('.').collect());
    let swapped = format!("{}.{}.{}", ben_parts[0], anna_parts[1], ben_parts[2]);
    assert_eq!(keys.verify(&swapped), Err(AssertionRefusal::Signature));
    let stranger = candor_server::assertion::IntranetKey::generate();
    let scopes = [candor_protocol::domain::Scope::parse("acme/eng").unwrap()];
    let forged = stranger.mint("anna", &scopes, &app.config.audience, 300);
    assert_eq!(keys.verify(&forged), Err(AssertionRefusal::Signature));
}
