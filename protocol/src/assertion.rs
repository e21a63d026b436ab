//! The intranet's eligibility assertion, as a client checks it: a compact JWS signed
//! with EdDSA (Ed25519, RFC 8037) under one of the keys the server publishes at
//! `GET /v1/assertion-keys` ([`AssertionKeys`]: the server's JWKS and audience).
//!
//! The server verifies every assertion before it issues anything. The widget checks it
//! too, for what the server cannot see: on a shared browser the widget keeps each
//! person's feedback under a keyed hash of their `sub`, so a page (or a person at its
//! console) that hands the widget a made-up `sub` must not be shown someone else's
//! queued feedback. Only the intranet's key can say who someone is.
//!
//! `exp` is not judged here: the only clock a client has is the browser's, which the
//! person at a shared machine sets. The server judges it, by its own clock, before it
//! issues anything.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::domain::Scope;

/// The intranet's public keys and the audience its assertions for this server name:
/// a JWKS (RFC 7517) of `OKP`/`Ed25519` keys with one more member, `audience`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AssertionKeys {
    /// The `aud` every assertion for this server carries.
    pub audience: String,
    /// The keys.
    pub keys: Vec<AssertionKey>,
}

/// One public JWK (RFC 8037 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AssertionKey {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key id, which an assertion's header may name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The algorithm, if the JWK says (`EdDSA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// What the key is for, if the JWK says (`sig`).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
}

impl AssertionKey {
    /// The JWK of an Ed25519 public key.
    pub fn ed25519(public: &[u8; 32], kid: Option<String>) -> Self {
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: b64::encode(public).trim_end_matches('=').to_owned(),
            kid,
            alg: Some("EdDSA".into()),
            key_use: Some("sig".into()),
        }
    }

    fn verifying_key(&self) -> Option<VerifyingKey> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return None;
        }
        let bytes: [u8; 32] = b64::decode(&self.x).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok()
    }
}

/// What a checked assertion says.
#[derive(Clone, PartialEq, Eq)]
pub struct Claims {
    /// The intranet's identifier for the person.
    pub subject: String,
    /// Their org units, in the assertion's order (invalid ones left out).
    pub scopes: Vec<Scope>,
}

impl std::fmt::Debug for Claims {
    // The subject never reaches a log or a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims").field("scopes", &self.scopes).finish_non_exhaustive()
    }
}

/// Why an assertion is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssertionRefusal {
    /// Not a compact JWS, or its parts are not what an assertion holds.
    #[error("the assertion is not a compact JWS of the expected form")]
    Malformed,
    /// Not EdDSA.
    #[error("the assertion is not signed with EdDSA")]
    Algorithm,
    /// No published key verifies it.
    #[error("no key of the intranet verifies the assertion")]
    Signature,
    /// `aud` is not this server's.
    #[error("the assertion is for another audience")]
    Audience,
    /// No `sub`, or no valid scope.
    #[error("the assertion names nobody, or no org unit")]
    Claims,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    sub: String,
    aud: Audience,
    #[serde(default)]
    scopes: Vec<String>,
}

impl AssertionKeys {
    /// Checks a compact JWS: the signature under one of the keys (the one its `kid`
    /// names, if it names one), `aud`, and that it names a person and at least one
    /// valid scope.
    pub fn verify(&self, jws: &str) -> Result<Claims, AssertionRefusal> {
        let mut parts = jws.split('.');
        let (header, payload, signature) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(header), Some(payload), Some(signature), None) => (header, payload, signature),
            _ => return Err(AssertionRefusal::Malformed),
        };
        let json = |part: &str| b64::decode(part).map_err(|_| AssertionRefusal::Malformed);
        let header: Header =
            serde_json::from_slice(&json(header)?).map_err(|_| AssertionRefusal::Malformed)?;
        if header.alg != "EdDSA" {
            return Err(AssertionRefusal::Algorithm);
        }
        let signature: [u8; 64] = json(signature)?.try_into().map_err(|_| AssertionRefusal::Malformed)?;
        let signature = Signature::from_bytes(&signature);
        let signed = jws.rsplit_once('.').map_or("", |(signed, _)| signed);
        let verified = self
            .keys
            .iter()
            .filter(|key| header.kid.is_none() || key.kid.is_none() || key.kid == header.kid)
            .filter_map(AssertionKey::verifying_key)
            .any(|key| key.verify_strict(signed.as_bytes(), &signature).is_ok());
        if !verified {
            return Err(AssertionRefusal::Signature);
        }

        let payload: Payload =
            serde_json::from_slice(&json(payload)?).map_err(|_| AssertionRefusal::Malformed)?;
        let audience_ok = match &payload.aud {
            Audience::One(aud) => *aud == self.audience,
            Audience::Many(auds) => auds.contains(&self.audience),
        };
        if !audience_ok {
            return Err(AssertionRefusal::Audience);
        }
        let scopes: Vec<Scope> = payload.scopes.iter().filter_map(|scope| Scope::parse(scope).ok()).collect();
        if payload.sub.is_empty() || scopes.is_empty() {
            return Err(AssertionRefusal::Claims);
        }
        Ok(Claims { subject: payload.sub, scopes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn encode(bytes: &[u8]) -> String {
        b64::encode(bytes).trim_end_matches('=').to_owned()
    }

    fn sign(key: &SigningKey, header: &str, payload: &str) -> String {
        let signed = format!("{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()));
        let signature = key.sign(signed.as_bytes());
        format!("{signed}.{}", encode(&signature.to_bytes()))
    }

    fn intranet() -> (SigningKey, AssertionKeys) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let keys = AssertionKeys {
            audience: "candor".into(),
            keys: vec![AssertionKey::ed25519(key.verifying_key().as_bytes(), Some("k1".into()))],
        };
        (key, keys)
    }

    fn payload(sub: &str) -> String {
        format!(r#"{{"sub":"{sub}","aud":"candor","exp":1800000600,"scopes":["acme/eng","BAD"]}}"#)
    }

    const HEADER: &str = r#"{"alg":"EdDSA","kid":"k1"}"#;

    #[test]
    fn a_genuine_assertion_is_read() {
        let (key, keys) = intranet();
        let claims = keys.verify(&sign(&key, HEADER, &payload("ada"))).expect("claims");
        assert_eq!(claims.subject, "ada");
        assert_eq!(claims.scopes, [Scope::parse("acme/eng").expect("scope")], "invalid scopes are dropped");
        assert!(!format!("{claims:?}").contains("ada"), "the subject never prints");
        // Without a kid, every key is tried; `aud` may be a list.
        let list = r#"{"sub":"ada","aud":["x","candor"],"exp":1800000600,"scopes":["acme"]}"#;
        assert!(keys.verify(&sign(&key, r#"{"alg":"EdDSA"}"#, list)).is_ok());
    }

    #[test]
    fn another_persons_name_under_a_real_signature_is_refused() {
        let (key, keys) = intranet();
        let genuine = sign(&key, HEADER, &payload("ben"));
        let parts: Vec<&str> = genuine.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], encode(payload("anna").as_bytes()), parts[2]);
        assert_eq!(keys.verify(&forged), Err(AssertionRefusal::Signature));
        // Signed by a key the intranet does not publish, with or without its kid.
        let other = SigningKey::from_bytes(&[8; 32]);
        for header in [HEADER, r#"{"alg":"EdDSA"}"#, r#"{"alg":"EdDSA","kid":"k2"}"#] {
            let forged = sign(&other, header, &payload("anna"));
            assert_eq!(keys.verify(&forged), Err(AssertionRefusal::Signature), "{header}");
        }
    }

    #[test]
    fn audience_algorithm_and_claims_are_checked() {
        let (key, keys) = intranet();
        let elsewhere = r#"{"sub":"ada","aud":"other","exp":1800000600,"scopes":["acme"]}"#;
        assert_eq!(keys.verify(&sign(&key, HEADER, elsewhere)), Err(AssertionRefusal::Audience));
        let hs = sign(&key, r#"{"alg":"HS256","kid":"k1"}"#, &payload("ada"));
        assert_eq!(keys.verify(&hs), Err(AssertionRefusal::Algorithm));
        for claims in [
            r#"{"sub":"","aud":"candor","exp":1800000600,"scopes":["acme"]}"#,
            r#"{"sub":"ada","aud":"candor","exp":1800000600,"scopes":["BAD"]}"#,
        ] {
            assert_eq!(keys.verify(&sign(&key, HEADER, claims)), Err(AssertionRefusal::Claims), "{claims}");
        }
        for bad in ["", "a.b", "a.b.c.d", "a.b.c"] {
            assert_eq!(keys.verify(bad), Err(AssertionRefusal::Malformed), "{bad}");
        }
    }
}
