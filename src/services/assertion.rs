//! What the widget reads from the intranet's assertion: who (`sub`, only ever kept as a
//! keyed hash) and which org units (`scopes`, to pick the person's team). The widget
//! does not verify the signature — the server does, before it issues anything — so
//! nothing the host page says here can get a token for a team the assertion's signer
//! did not name.

use candor_protocol::b64;
use candor_protocol::domain::Scope;

use crate::state::Reason;

/// The claims the widget uses.
#[derive(Clone, PartialEq, Eq)]
pub struct Claims {
    /// The intranet's identifier for the person.
    pub subject: String,
    /// Their org units, in the assertion's order.
    pub scopes: Vec<Scope>,
}

impl std::fmt::Debug for Claims {
    // The subject never reaches a log or a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims").field("scopes", &self.scopes).finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct Payload {
    sub: String,
    #[serde(default)]
    scopes: Vec<String>,
}

impl Claims {
    /// Reads the payload of a compact JWS (`header.payload.signature`).
    pub fn of(jws: &str) -> Result<Self, Reason> {
        let mut parts = jws.split('.');
        let payload = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(payload), Some(_), None) => payload,
            _ => return Err(Reason::Assertion),
        };
        let bytes = b64::decode(payload).map_err(|_| Reason::Assertion)?;
        let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| Reason::Assertion)?;
        let scopes: Vec<Scope> = payload.scopes.iter().filter_map(|scope| Scope::parse(scope).ok()).collect();
        if payload.sub.is_empty() || scopes.is_empty() {
            return Err(Reason::Assertion);
        }
        Ok(Self { subject: payload.sub, scopes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jws(payload: &str) -> String {
        let encode = |text: &str| b64::encode(text).trim_end_matches('=').to_owned();
        format!("{}.{}.c2ln", encode(r#"{"alg":"EdDSA"}"#), encode(payload))
    }

    #[test]
    fn the_subject_and_scopes_are_read_from_the_payload() {
        let claims = Claims::of(&jws(r#"{"sub":"ada","aud":"candor","exp":1,"scopes":["acme/eng","BAD"]}"#))
            .expect("claims");
        assert_eq!(claims.subject, "ada");
        assert_eq!(claims.scopes, [Scope::parse("acme/eng").expect("scope")], "invalid scopes are dropped");
        assert!(!format!("{claims:?}").contains("ada"), "the subject never prints");
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["", "a.b", "a.b.c.d", &jws(r#"{"sub":"","scopes":["acme"]}"#), &jws(r#"{"sub":"x"}"#)] {
            assert_eq!(Claims::of(bad), Err(Reason::Assertion), "{bad}");
        }
    }
}
