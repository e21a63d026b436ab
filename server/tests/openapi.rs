//! The OpenAPI document against the server: the routes it lists are the routes the
//! code registers (read from the router's source) and the routes a real server answers,
//! and real answers of a whole round validate against its schemas.

mod common;

use std::collections::BTreeSet;

use candor_server::http::issuance::TOKEN_REQUEST_PATH;
use candor_server::http::openapi::{OPENAPI_PATH, document};
use common::{error_of, spawn_app};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// (path, method) of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .filter(|method| METHODS.contains(&method.as_str()))
                .map(move |method| (path.clone(), method.clone()))
        })
        .collect()
}

/// (path, method) of every `.route(PATH, METHOD(…))` in the server's HTTP code, with
/// the path constants resolved. A constant this test does not know fails it.
fn registered() -> BTreeSet<(String, String)> {
    let constants = [
        ("TOKEN_REQUEST_PATH", TOKEN_REQUEST_PATH),
        ("ISSUER_DIRECTORY_PATH", candor_protocol::directory::ISSUER_DIRECTORY_PATH),
        ("OPENAPI_PATH", OPENAPI_PATH),
    ];
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(folder).expect("src/http") {
        let source = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
        let mut rest = source.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let (path, after) = rest.split_once(',').expect("a route's path");
            let path = path.trim();
            let path = match path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                Some(literal) => literal.to_owned(),
                None => constants
                    .iter()
                    .find(|(name, _)| *name == path)
                    .unwrap_or_else(|| panic!("a route path constant this test does not know: {path}"))
                    .1
                    .to_owned(),
            };
            let method = after.trim_start().split('(').next().expect("a method").trim().to_owned();
            assert!(METHODS.contains(&method.as_str()), "{path}: method {method}");
            routes.insert((path, method));
        }
    }
    routes
}

#[test]
fn the_document_lists_exactly_the_routes_the_code_registers() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut registered = registered();
    // A redirect to the digest page, not API.
    assert!(registered.remove(&("/".to_owned(), "get".to_owned())), "the source reader finds the routes");
    assert!(registered.len() > 8, "the source reader finds the routes: {registered:?}");
    assert_eq!(documented(&doc), registered);
    // Every $ref names a schema the document holds.
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().expect("a name");
        assert!(schemas.contains_key(name), "$ref to a missing schema {name}");
    }
}

#[tokio::test]
async fn a_real_server_answers_every_documented_route_and_no_other_method() {
    let app = spawn_app().await;
    let doc = document();
    let documented = documented(&doc);
    let paths: BTreeSet<&String> = documented.iter().map(|(path, _)| path).collect();
    for path in paths {
        let url = format!("{}{}", app.address, path.replace("{round}", "0123456789abcdef0123456789abcdef"));
        for method in METHODS {
            let response = app
                .http
                .request(method.to_uppercase().parse().expect("method"), &url)
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            if documented.contains(&(path.clone(), method.to_owned())) {
                // Refused for want of credentials or a body, perhaps, but by the route.
                assert_ne!(status, 405, "{method} {path}");
                let body = response.bytes().await.expect("body");
                assert!(status != 404 || !body.is_empty(), "{method} {path}: the router's 404");
            } else {
                assert_eq!(status, 405, "{method} {path} is not documented, yet answers");
            }
        }
    }
    // The document served is the one the code builds, with this server's origin.
    let served: Value = app.get(OPENAPI_PATH).await.json().await.expect("json");
    let mut expected = doc;
    expected["servers"] = serde_json::json!([{ "url": app.config.origin() }]);
    assert_eq!(served, expected);
}

/// A validator for `schema`, one of the document's, with the document's schemas as
/// its `$defs` so that its references resolve.
fn validator_of(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = serde_json::json!({ "$defs": doc["components"]["schemas"], "allOf": [schema] });
    let root =
        serde_json::from_str(&root.to_string().replace("#/components/schemas/", "#/$defs/")).expect("json");
    jsonschema::draft202012::new(&root).expect("a valid schema")
}

/// The schema of the answer `status` of `method path`.
fn answer_schema(doc: &Value, path: &str, method: &str, status: u16) -> Value {
    let content = doc["paths"][path][method]["responses"][status.to_string()]["content"].as_object().cloned();
    let content = content.unwrap_or_else(|| panic!("{method} {path}: no answer {status} documented"));
    content.values().next().expect("a media type")["schema"].clone()
}

fn check(doc: &Value, path: &str, method: &str, status: u16, answer: &Value) {
    fits(doc, &answer_schema(doc, path, method, status), answer, &format!("{method} {path} {status}"));
}

fn fits(doc: &Value, schema: &Value, value: &Value, what: &str) {
    let validator = validator_of(doc, schema);
    let problems: Vec<String> =
        validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(problems.is_empty(), "{what}: {problems:#?}\n{value:#}");
}

#[tokio::test]
async fn real_answers_of_a_whole_round_fit_the_schemas() {
    let app = spawn_app().await;
    let doc = document();
    let round = app.open_round_with_teams("acme/eng", &["acme/eng/platform"], 3, 1).await;

    let rounds: Value = app.get("/v1/rounds").await.json().await.expect("json");
    check(&doc, "/v1/rounds", "get", 200, &rounds);
    // The control: the same answer with a malformed round id does not fit.
    let mut bad = rounds.clone();
    bad[0]["manifest"]["manifest"]["round"] = "not-a-round-id".into();
    let schema = answer_schema(&doc, "/v1/rounds", "get", 200);
    assert!(!validator_of(&doc, &schema).is_valid(&bad), "the schemas can tell a wrong answer");
    let keys: Value = app.get("/v1/assertion-keys").await.json().await.expect("json");
    check(&doc, "/v1/assertion-keys", "get", 200, &keys);
    let directory_path = candor_protocol::directory::ISSUER_DIRECTORY_PATH;
    let directory: Value = app.get(directory_path).await.json().await.expect("json");
    check(&doc, directory_path, "get", 200, &directory);

    for i in 0..3 {
        let employee =
            app.obtain_token(&format!("emp-{i}"), &["acme/eng/platform"], "acme/eng/platform").await;
        let submission = employee.submission("Stand-ups run long", 7);
        let body = serde_json::to_vec(&submission).expect("json");
        let sent: Value = serde_json::from_slice(&body).expect("json");
        let request =
            &doc["paths"]["/v1/feedback"]["post"]["requestBody"]["content"]["application/json"]["schema"];
        fits(&doc, request, &sent, "the submission the widget sends");
        let response = app.post_feedback(&employee.authorization(), body.clone()).await;
        assert_eq!(response.status(), 201);
        check(&doc, "/v1/feedback", "post", 201, &response.json().await.expect("json"));
        let again = app.post_feedback(&employee.authorization(), body).await;
        assert_eq!(again.status(), 200);
        check(&doc, "/v1/feedback", "post", 200, &again.json().await.expect("json"));
        let other = serde_json::to_vec(&employee.submission("Something else", 1)).expect("json");
        let spent = app.post_feedback(&employee.authorization(), other).await;
        assert_eq!(spent.status(), 409);
        check(&doc, "/v1/feedback", "post", 409, &spent.json().await.expect("json"));
    }
    let refused = app.post_feedback("PrivateToken token=\"AAAA\"", "{}").await;
    assert_eq!(error_of(refused).await.0, 401);

    let ledger_path = format!("/v1/rounds/{round}/ledger");
    let early = app.get(&ledger_path).await;
    assert_eq!(early.status(), 404);
    check(&doc, "/v1/rounds/{round}/ledger", "get", 404, &early.json().await.expect("json"));
    app.release(round).await;
    let ledger: Value = app.get(&ledger_path).await.json().await.expect("json");
    check(&doc, "/v1/rounds/{round}/ledger", "get", 200, &ledger);
    let (_, link) = app.add_leader("Lee", "acme/eng").await;
    let signed_in = app.sign_in(&link).await;
    assert_eq!(signed_in.status(), 200);
    check(&doc, "/v1/leader/sign-in", "post", 200, &signed_in.json().await.expect("json"));
    let cookie = app.leader_session("Dana", "acme/eng").await;
    let index = app.leader_get(&cookie, "/v1/digest").await;
    check(&doc, "/v1/digest", "get", 200, &index);
    let digest = app.leader_get(&cookie, &format!("/v1/digest/rounds/{round}")).await;
    check(&doc, "/v1/digest/rounds/{round}", "get", 200, &digest);
    let page = app
        .leader_get(&cookie, &format!("/v1/digest/rounds/{round}/items?group=acme/eng/platform&from=0"))
        .await;
    check(&doc, "/v1/digest/rounds/{round}/items", "get", 200, &page);
    let unsigned = app.http.get(format!("{}/v1/digest", app.address)).send().await.expect("get");
    assert_eq!(unsigned.status(), 401);
    check(&doc, "/v1/digest", "get", 401, &unsigned.json().await.expect("json"));
}
