//! The issuer directory (RFC 9578 §4), served at
//! `/.well-known/private-token-issuer-directory`.

use serde::{Deserialize, Serialize};

use crate::token::{TOKEN_TYPE, TokenKey};

/// Where the issuer directory lives on an issuer's origin.
pub const ISSUER_DIRECTORY_PATH: &str = "/.well-known/private-token-issuer-directory";
/// Media type of the issuer directory.
pub const ISSUER_DIRECTORY_MEDIA_TYPE: &str = "application/private-token-issuer-directory";

/// The issuer directory document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IssuerDirectory {
    /// The URI clients send token requests to.
    #[serde(rename = "issuer-request-uri")]
    pub issuer_request_uri: String,
    /// Every live token key.
    #[serde(rename = "token-keys")]
    pub token_keys: Vec<DirectoryKey>,
}

/// One key in the issuer directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DirectoryKey {
    /// The token type; Candor publishes 2.
    #[serde(rename = "token-type")]
    pub token_type: u16,
    /// The key's SPKI, base64url.
    #[serde(rename = "token-key")]
    pub token_key: String,
    /// Seconds since the Unix epoch before which the key is not used, if set.
    #[serde(rename = "not-before", default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<u64>,
}

impl DirectoryKey {
    /// A type-2 entry for `key`.
    pub fn new(key: &TokenKey, not_before: Option<u64>) -> Self {
        Self { token_type: TOKEN_TYPE, token_key: key.to_base64(), not_before }
    }
}

impl IssuerDirectory {
    /// The type-2 keys that parse, skipping entries of other token types, as a client
    /// must (RFC 9578 §4: unknown types are ignored).
    pub fn type2_keys(&self) -> impl Iterator<Item = TokenKey> + '_ {
        self.token_keys
            .iter()
            .filter(|entry| entry.token_type == TOKEN_TYPE)
            .filter_map(|entry| TokenKey::from_base64(&entry.token_key).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_follow_the_rfc() {
        let directory = IssuerDirectory {
            issuer_request_uri: "https://issuer.example/token-request".into(),
            token_keys: vec![DirectoryKey {
                token_type: 2,
                token_key: "AAAA".into(),
                not_before: Some(1_686_913_811),
            }],
        };
        let json = serde_json::to_value(&directory).unwrap();
        assert_eq!(json["issuer-request-uri"], "https://issuer.example/token-request");
        assert_eq!(json["token-keys"][0]["token-type"], 2);
        assert_eq!(json["token-keys"][0]["not-before"], 1_686_913_811);
        assert_eq!(directory.type2_keys().count(), 0, "an unparsable key is skipped");
    }
}
