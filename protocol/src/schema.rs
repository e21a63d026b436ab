//! JSON Schemas (draft 2020-12, the dialect OpenAPI 3.1 reads) of the wire types, for
//! the server's OpenAPI document: feature `schema`. The structs derive theirs, reading
//! the same serde attributes their JSON is made with; the types that serialise by hand
//! (strings with their own rules, base64url byte strings, an answer) are written here.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::domain::{Day, QuestionId, RoundId, Scope};
use crate::ledger::{Digest32, Leaf};
use crate::submission::{Answer, FeedbackText, ItemHash, NonceSalt};
use crate::token::{TokenKey, TokenKeyId};

/// The schema of a type that travels as one string.
macro_rules! string_schema {
    ($ty:ty, $name:literal, $description:literal, $pattern:literal) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "description": $description, "pattern": $pattern })
            }
        }
    };
}

string_schema!(
    Scope,
    "Scope",
    "An org unit path such as acme/eng/platform: 1 to 16 segments of a-z 0-9 - _, each at most 64 long.",
    "^[a-z0-9_-]{1,64}(/[a-z0-9_-]{1,64}){0,15}$"
);
string_schema!(RoundId, "RoundId", "A round id: 16 bytes as 32 lowercase hex digits.", "^[0-9a-f]{32}$");
string_schema!(Day, "Day", "A calendar day, YYYY-MM-DD.", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
string_schema!(QuestionId, "QuestionId", "A question's id: 1 to 32 of a-z 0-9 - _.", "^[a-z0-9_-]{1,32}$");
string_schema!(ItemHash, "ItemHash", "An item hash: 32 bytes, base64url.", "^[A-Za-z0-9_-]{43}=?$");
string_schema!(NonceSalt, "NonceSalt", "The nonce salt: 32 bytes, base64url.", "^[A-Za-z0-9_-]{43}=?$");
string_schema!(
    TokenKeyId,
    "TokenKeyId",
    "A token key id, SHA-256 of its SPKI: 32 bytes, base64url.",
    "^[A-Za-z0-9_-]{43}=?$"
);
string_schema!(
    TokenKey,
    "TokenKey",
    "A team's token key: its canonical RSASSA-PSS SPKI (342 bytes), base64url.",
    "^[A-Za-z0-9_-]{456}$"
);
string_schema!(Digest32, "Digest32", "32 bytes (a SHA-256 value), base64url.", "^[A-Za-z0-9_-]{43}=?$");
string_schema!(
    crate::keys::Signature,
    "Signature",
    "An Ed25519 signature: 64 bytes, base64url.",
    "^[A-Za-z0-9_-]{86}(==)?$"
);

impl JsonSchema for FeedbackText {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("FeedbackText")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": crate::scrub::MAX_CHARS,
            "description": "Text in the normal form every end agrees on (NFKC, no invisible or control characters, plain punctuation, tidy spacing); the server refuses any other form."
        })
    }
}

impl JsonSchema for Answer {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Answer")
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let question = generator.subschema_for::<QuestionId>();
        let text = generator.subschema_for::<FeedbackText>();
        json_schema!({
            "description": "One answer: a rating or a text, never both.",
            "oneOf": [
                {
                    "type": "object",
                    "properties": { "question": question, "rating": { "type": "integer", "minimum": 0, "maximum": 10 } },
                    "required": ["question", "rating"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": { "question": question, "text": text },
                    "required": ["question", "text"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl JsonSchema for Leaf {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("LedgerLeaf")
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let item = generator.subschema_for::<ItemHash>();
        let sealed = generator.subschema_for::<Digest32>();
        json_schema!({
            "description": "One item of the ledger: its hash and its token, or, where its team is rolled up in the digest, only the token's spend id.",
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "item": item,
                        "token": { "type": "string", "description": "The item's Privacy Pass token (354 bytes), base64url.", "pattern": "^[A-Za-z0-9_-]{472}$" }
                    },
                    "required": ["item", "token"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": { "item": item, "sealed": sealed },
                    "required": ["item", "sealed"],
                    "additionalProperties": false
                }
            ]
        })
    }
}
