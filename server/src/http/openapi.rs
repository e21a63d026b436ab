//! The OpenAPI 3.1 document of the HTTP API, served at `GET /v1/openapi.json`.
//!
//! Its schemas are not written by hand: they come from the wire types themselves
//! (`candor-protocol`, feature `schema`), from the same serde attributes their JSON is
//! made with. The paths are listed here; `server/tests/openapi.rs` checks them against
//! the routes the server has, and real answers against the schemas. The web files
//! (`/widget/…`, `/digest/…`) and `/` are pages, not API, and are not in it; the wire
//! formats under the JSON (tokens, signatures) are in docs/PROTOCOL.md.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use candor_protocol::api::{DigestView, ErrorBody, ItemPage, LeaderView, OpenRound, RoundDigest, SignIn};
use candor_protocol::assertion::AssertionKeys;
use candor_protocol::directory::{ISSUER_DIRECTORY_MEDIA_TYPE, ISSUER_DIRECTORY_PATH, IssuerDirectory};
use candor_protocol::ledger::PublishedLedger;
use candor_protocol::receipt::SignedReceipt;
use candor_protocol::submission::Submission;
use candor_protocol::token::{TOKEN_REQUEST_MEDIA_TYPE, TOKEN_RESPONSE_MEDIA_TYPE};
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::AppState;
use super::issuance::TOKEN_REQUEST_PATH;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route(OPENAPI_PATH, get(openapi))
}

async fn openapi(State(state): State<AppState>) -> Response {
    let mut document = DOCUMENT.clone();
    document["servers"] = json!([{ "url": state.config().origin() }]);
    axum::Json(document).into_response()
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

/// The document, without `servers` (the origin is each deployment's own).
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| settings.definitions_path = "/components/schemas/".into())
        .into_generator();
    let mut schema =
        |of: fn(&mut schemars::SchemaGenerator) -> schemars::Schema| of(&mut generator).to_value();
    let rounds = schema(|g| g.subschema_for::<Vec<OpenRound>>());
    let assertion_keys = schema(|g| g.subschema_for::<AssertionKeys>());
    let directory = schema(|g| g.subschema_for::<IssuerDirectory>());
    let submission = schema(|g| g.subschema_for::<Submission>());
    let receipt = schema(|g| g.subschema_for::<SignedReceipt>());
    let sign_in = schema(|g| g.subschema_for::<SignIn>());
    let leader = schema(|g| g.subschema_for::<LeaderView>());
    let digest = schema(|g| g.subschema_for::<DigestView>());
    let round_digest = schema(|g| g.subschema_for::<RoundDigest>());
    let item_page = schema(|g| g.subschema_for::<ItemPage>());
    let ledger = schema(|g| g.subschema_for::<PublishedLedger>());
    let error = schema(|g| g.subschema_for::<ErrorBody>());
    let schemas = generator.take_definitions(true);

    let json_body = |schema: &Value| json!({ "content": { "application/json": { "schema": schema } } });
    let answer = |description: &str, schema: &Value| {
        let mut answer = json_body(schema);
        answer["description"] = json!(description);
        answer
    };
    let errors = |codes: &[(u16, &str)]| -> Value {
        codes
            .iter()
            .map(|(status, description)| (status.to_string(), answer(description, &error)))
            .collect::<serde_json::Map<String, Value>>()
            .into()
    };
    // Every operation may fail inside (a commit that fails, say): 500, nothing changed.
    let with_errors = |mut responses: Value, codes: &[(u16, &str)]| {
        let internal = [(500, "The server failed; nothing was changed (`internal`).")];
        if let (Some(responses), Value::Object(errors)) =
            (responses.as_object_mut(), errors(&[codes, &internal].concat()))
        {
            responses.extend(errors);
        }
        responses
    };
    let slow = (408, "The body came too slowly (`body`).");
    let binary = |media: &str, description: &str| json!({ "description": description, "content": { media: { "schema": { "type": "string", "contentMediaType": media } } } });
    let round = json!({
        "name": "round", "in": "path", "required": true,
        "schema": { "$ref": "#/components/schemas/RoundId" }
    });
    let busy = (503, "The server is busy (`rate-limited`); try again shortly.");

    let paths = json!({
        "/v1/rounds": { "get": {
            "operationId": "openRounds",
            "summary": "Every open round, the same list for every caller",
            "description": "Each round's signed manifest and its teams' token keys. A client uses a round only after checking it (docs/PROTOCOL.md §4).",
            "responses": with_errors(json!({ "200": answer("The open rounds.", &rounds) }), &[busy])
        }},
        "/v1/rounds/{round}/ledger": { "get": {
            "operationId": "ledger",
            "summary": "A released round's signed ledger",
            "description": "The round as offered, the counts, the tombstones, the Merkle root and one leaf per item, signed with the receipt key; `candor ledger verify` checks it (docs/PROTOCOL.md §8). The same for everyone.",
            "parameters": [round],
            "responses": with_errors(json!({ "200": answer("The ledger.", &ledger) }), &[
                (404, "No such round (`round`, `not-found`), not yet released, or stored before tokens were kept (`not-found`)."),
                busy,
            ])
        }},
        "/v1/assertion-keys": { "get": {
            "operationId": "assertionKeys",
            "summary": "The intranet's public keys and this server's audience",
            "responses": with_errors(json!({ "200": answer("A JWKS of Ed25519 keys, with `audience`.", &assertion_keys) }), &[busy])
        }},
        ISSUER_DIRECTORY_PATH: { "get": {
            "operationId": "issuerDirectory",
            "summary": "The Privacy Pass issuer directory (RFC 9578 §4)",
            "responses": with_errors(json!({ "200": {
                "description": "The token-request URI and every open round's token keys.",
                "content": { ISSUER_DIRECTORY_MEDIA_TYPE: { "schema": directory } }
            }}), &[busy])
        }},
        TOKEN_REQUEST_PATH: { "post": {
            "operationId": "tokenRequest",
            "summary": "A blind signature on a Privacy Pass TokenRequest (RFC 9578 §6)",
            "description": "The quota is counted, durably, before anything is signed.",
            "security": [{ "assertion": [] }],
            "requestBody": { "required": true, "content": { TOKEN_REQUEST_MEDIA_TYPE: {
                "schema": { "type": "string", "contentMediaType": TOKEN_REQUEST_MEDIA_TYPE, "description": "The 259-byte TokenRequest." }
            }}},
            "responses": with_errors(json!({ "200": binary(TOKEN_RESPONSE_MEDIA_TYPE, "The 256-byte TokenResponse.") }), &[
                (400, "The request is malformed (`token-request`, `body`), or names no key of an open round (`token-key`)."),
                (401, "The assertion is missing, forged, expired or not for this server (`assertion`)."),
                (403, "The key's team is not the assertion's (`team`), or the round takes no tokens now (`round-not-open`)."),
                (413, "The body is too large (`too-large`)."),
                (415, "The body is not a TokenRequest (`content-type`)."),
                slow,
                (429, "This person has had the round's tokens (`quota`)."),
                busy,
            ])
        }},
        "/v1/feedback": { "post": {
            "operationId": "feedback",
            "summary": "An item, redeemed with its Privacy Pass token",
            "security": [{ "privateToken": [] }],
            "requestBody": { "required": true, "content": { "application/json": { "schema": submission } } },
            "responses": with_errors(json!({
                "201": answer("Stored, durably: the receipt.", &receipt),
                "200": answer("This very item was stored before with this token: its receipt again.", &receipt)
            }), &[
                (400, "The body is not UTF-8 (`utf-8`) or not a submission (`json`, `body`), or its signature or nonce binding does not verify (`signature`)."),
                (401, "The token is missing, malformed or does not verify (`token`)."),
                (403, "The round takes no items now (`round-not-open`)."),
                (404, "No such round (`round`)."),
                (409, "The token was spent on another item (`spent`)."),
                (413, "The body is too large (`too-large`)."),
                (422, "The answers do not fit the round's questions (`answers`)."),
                slow,
                busy,
            ])
        }},
        "/v1/leader/sign-in": { "post": {
            "operationId": "signIn",
            "summary": "A leader signs in with a one-time link",
            "description": "From a page of this server only (`Origin`), as JSON. Sets the session cookie.",
            "requestBody": { "required": true, "content": { "application/json": { "schema": sign_in } } },
            "responses": with_errors(json!({ "200": answer("Signed in; the `Set-Cookie` header holds the session.", &leader) }), &[
                (400, "The body is not `{\"link\": …}` (`json`)."),
                (401, "The link is unknown, used or expired (`link`)."),
                (403, "The request came from another origin (`origin`)."),
                (415, "The body is not JSON (`content-type`)."),
                slow,
                busy,
            ])
        }},
        "/v1/leader/sign-out": { "post": {
            "operationId": "signOut",
            "summary": "A leader signs out",
            "security": [{ "session": [] }],
            "responses": with_errors(json!({ "204": { "description": "Signed out; the cookie is cleared." } }), &[
                (403, "The request came from another origin (`origin`)."),
                busy,
            ])
        }},
        "/v1/digest": { "get": {
            "operationId": "digest",
            "summary": "The signed-in leader and the released rounds they may read",
            "security": [{ "session": [] }],
            "responses": with_errors(json!({ "200": answer("The leader and the rounds' headings.", &digest) }), &[
                (401, "No valid session (`session`)."),
                busy,
            ])
        }},
        "/v1/digest/rounds/{round}": { "get": {
            "operationId": "roundDigest",
            "summary": "A released round's digest: groups above the threshold, their first page of items",
            "security": [{ "session": [] }],
            "parameters": [round],
            "responses": with_errors(json!({ "200": answer("The digest.", &round_digest) }), &[
                (401, "No valid session (`session`)."),
                (404, "No such released round for this leader (`round`)."),
                busy,
            ])
        }},
        "/v1/digest/rounds/{round}/items": { "get": {
            "operationId": "itemPage",
            "summary": "A later page of one group's items",
            "security": [{ "session": [] }],
            "parameters": [
                round,
                { "name": "group", "in": "query", "required": true, "schema": { "$ref": "#/components/schemas/Scope" } },
                { "name": "from", "in": "query", "required": true, "schema": { "type": "integer", "minimum": 0 } }
            ],
            "responses": with_errors(json!({ "200": answer("Up to 50 items from `from` on.", &item_page) }), &[
                (400, "The query is malformed (`query`)."),
                (401, "No valid session (`session`)."),
                (404, "No such round or group for this leader (`round`, `not-found`)."),
                busy,
            ])
        }},
        OPENAPI_PATH: { "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": { "200": { "description": "The OpenAPI 3.1 document.", "content": { "application/json": {} } } }
        }},
        "/healthz": { "get": {
            "operationId": "health",
            "summary": "Whether the server answers",
            "responses": { "200": { "description": "`ok`.", "content": { "text/plain": { "schema": { "type": "string", "const": "ok" } } } } }
        }}
    });
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Candor",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Anonymous, blinded upward feedback: round discovery, Privacy Pass issuance, submissions, the leaders' digest.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "assertion": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWS (EdDSA)",
                    "description": "The intranet's eligibility assertion (docs/PROTOCOL.md §3)."
                },
                "privateToken": {
                    "type": "http", "scheme": "PrivateToken",
                    "description": "`Authorization: PrivateToken token=\"…\"` (RFC 9577 §2.2)."
                },
                "session": {
                    "type": "apiKey", "in": "cookie", "name": "__Host-candor_session",
                    "description": "A leader's session (`candor_session` on plain http)."
                }
            }
        }
    })
}
