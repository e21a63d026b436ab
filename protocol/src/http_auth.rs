//! The `PrivateToken` HTTP authentication scheme (RFC 9577 §2): the challenge an origin
//! sends in `WWW-Authenticate` and the token a client sends in `Authorization`.

use crate::b64;
use crate::token::{Token, TokenChallenge, TokenKey};

/// The authentication scheme name.
pub const SCHEME: &str = "PrivateToken";

/// Why a header value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Another scheme, or no scheme.
    #[error("expected the PrivateToken authentication scheme")]
    Scheme,
    /// The parameters are not `name=value` pairs.
    #[error("malformed PrivateToken parameters")]
    Syntax,
    /// A required parameter is absent.
    #[error("missing PrivateToken parameter `{0}`")]
    Missing(&'static str),
    /// A parameter is not valid base64url.
    #[error("PrivateToken parameter `{0}` is not base64url")]
    Base64(&'static str),
    /// A parameter decodes but is not a valid value.
    #[error("PrivateToken parameter `{0}` is invalid: {1}")]
    Invalid(&'static str, String),
}

/// A `WWW-Authenticate: PrivateToken challenge=…, token-key=…` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WwwAuthenticate {
    /// The challenge.
    pub challenge: TokenChallenge,
    /// The issuer's token key.
    pub token_key: TokenKey,
}

impl WwwAuthenticate {
    /// The header value.
    pub fn to_header_value(&self) -> String {
        format!(
            "{SCHEME} challenge=\"{}\", token-key=\"{}\"",
            b64::encode(self.challenge.to_bytes()),
            self.token_key.to_base64()
        )
    }

    /// Parses a header value holding one `PrivateToken` challenge.
    pub fn parse(value: &str) -> Result<Self, HeaderError> {
        let params = parse_params(value)?;
        let challenge = decode_param(&params, "challenge")?;
        let token_key = decode_param(&params, "token-key")?;
        Ok(Self {
            challenge: TokenChallenge::parse(&challenge)
                .map_err(|error| HeaderError::Invalid("challenge", error.to_string()))?,
            token_key: TokenKey::from_spki(&token_key)
                .map_err(|error| HeaderError::Invalid("token-key", error.to_string()))?,
        })
    }
}

/// The `Authorization: PrivateToken token=…` value for `token`.
pub fn authorization_value(token: &Token) -> String {
    format!("{SCHEME} token=\"{}\"", b64::encode(token.to_bytes()))
}

/// Parses an `Authorization` value into the token it carries (framing only; the caller
/// verifies the token).
pub fn parse_authorization(value: &str) -> Result<Token, HeaderError> {
    let params = parse_params(value)?;
    let token = decode_param(&params, "token")?;
    Token::parse(&token).map_err(|error| HeaderError::Invalid("token", error.to_string()))
}

fn decode_param(params: &[(String, String)], name: &'static str) -> Result<Vec<u8>, HeaderError> {
    let value = params
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .ok_or(HeaderError::Missing(name))?;
    b64::decode(value).map_err(|_| HeaderError::Base64(name))
}

/// Splits `PrivateToken a="x", b=y` into its parameters. Values may be quoted strings or
/// bare token68 values; the scheme name is case-insensitive (RFC 9110 §11.1).
fn parse_params(value: &str) -> Result<Vec<(String, String)>, HeaderError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(HeaderError::Scheme);
    }
    let mut params = Vec::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=').ok_or(HeaderError::Syntax)?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(HeaderError::Syntax);
        }
        let after = after.trim_start();
        let (param, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').ok_or(HeaderError::Syntax)?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find([',', ' ']).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.push((name.to_owned(), param.to_owned()));
        rest = remainder.trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
        } else if !rest.is_empty() {
            return Err(HeaderError::Syntax);
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_quoted_or_bare_in_any_case() {
        let params = parse_params("privatetoken token=\"abc=\", Max-Age=10").unwrap();
        assert_eq!(params, [("token".into(), "abc=".into()), ("Max-Age".into(), "10".into())]);
        assert_eq!(parse_params("Bearer x"), Err(HeaderError::Scheme));
        assert_eq!(parse_params("PrivateToken token=\"abc"), Err(HeaderError::Syntax));
        assert_eq!(parse_params("PrivateToken token"), Err(HeaderError::Syntax));
        assert_eq!(parse_params("PrivateToken a=1 b=2"), Err(HeaderError::Syntax));
    }

    #[test]
    fn authorization_errors_name_the_problem() {
        assert_eq!(parse_authorization("PrivateToken"), Err(HeaderError::Missing("token")));
        assert_eq!(parse_authorization("PrivateToken token=\"***\""), Err(HeaderError::Base64("token")));
        assert!(matches!(
            parse_authorization("PrivateToken token=AAAA"),
            Err(HeaderError::Invalid("token", _))
        ));
    }
}
