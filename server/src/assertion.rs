//! Eligibility assertions: compact JWS, alg EdDSA (Ed25519), signed by the intranet.
//!
//! Claims: `sub` (the employee, as the intranet knows them), `aud` (must equal the
//! configured audience), `exp` (short-lived; a small clock skew is allowed) and `scopes`
//! (the org units the employee belongs to). The intranet's public keys come from a JWKS
//! file of RFC 8037 `OKP`/`Ed25519` keys. JWS handling is jwt-compact's, which checks the
//! header's `alg` against the one algorithm expected, so no algorithm confusion is possible.

use std::path::Path;

use candor_protocol::assertion::{AssertionKey, AssertionKeys};
use candor_protocol::b64;
use candor_protocol::domain::Scope;
use chrono::{Duration, Utc};
use ed25519_dalek_2::{SigningKey, VerifyingKey};
use jwt_compact::alg::Ed25519;
use jwt_compact::{AlgorithmExt as _, Claims, Header, TimeOptions, UntrustedToken};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// What a verified assertion says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    /// The employee's identifier at the intranet. Used only to key the quota HMAC.
    pub subject: String,
    /// The org units the employee belongs to.
    pub scopes: Vec<Scope>,
}

impl Eligibility {
    /// Whether the employee may take part in a round for `round_scope`: it must be one
    /// of their scopes or an ancestor of one.
    pub fn may_answer(&self, round_scope: &Scope) -> bool {
        self.scopes.iter().any(|scope| round_scope.contains(scope))
    }
}

/// Why an assertion is refused. The messages are what the client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// No assertion.
    #[error("an eligibility assertion is required (Authorization: Bearer …)")]
    Missing,
    /// Not a compact JWS.
    #[error("the assertion is not a compact JWS")]
    Malformed,
    /// Not signed with EdDSA.
    #[error("the assertion must be signed with EdDSA (Ed25519)")]
    Algorithm,
    /// No configured key verifies it.
    #[error("the assertion's signature does not verify under any intranet key")]
    Signature,
    /// `exp` is in the past.
    #[error("the assertion has expired")]
    Expired,
    /// `exp` is missing or too far in the future.
    #[error("the assertion must be short-lived: `exp` is required and at most {0} seconds ahead")]
    Lifetime(u32),
    /// `aud` is not this server.
    #[error("the assertion is for another audience")]
    Audience,
    /// `sub` or `scopes` are missing or invalid.
    #[error("the assertion's claims are invalid: {0}")]
    Claims(String),
}

/// A JWKS problem at start-up.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// Unreadable.
    #[error("cannot read the JWKS {0}: {1}")]
    Read(String, std::io::Error),
    /// Not a JWKS of Ed25519 keys.
    #[error("invalid JWKS: {0}")]
    Invalid(String),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Jwks {
    keys: Vec<AssertionKey>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Serialize, Deserialize)]
struct AssertionClaims {
    #[serde(default)]
    sub: String,
    aud: Audience,
    #[serde(default)]
    scopes: Vec<String>,
}

/// Checks assertions against the intranet's keys.
#[derive(Debug, Clone)]
pub struct AssertionVerifier {
    keys: Vec<(Option<String>, VerifyingKey)>,
    audience: String,
    leeway_seconds: u32,
    max_lifetime_seconds: u32,
}

impl AssertionVerifier {
    /// Reads the JWKS file.
    pub fn from_jwks_file(
        path: &Path,
        audience: &str,
        leeway_seconds: u32,
        max_lifetime_seconds: u32,
    ) -> Result<Self, JwksError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| JwksError::Read(path.display().to_string(), e))?;
        Self::from_jwks(&text, audience, leeway_seconds, max_lifetime_seconds)
    }

    /// Parses a JWKS document; every key must be an Ed25519 `OKP` key.
    pub fn from_jwks(
        jwks: &str,
        audience: &str,
        leeway_seconds: u32,
        max_lifetime_seconds: u32,
    ) -> Result<Self, JwksError> {
        let jwks: Jwks = serde_json::from_str(jwks).map_err(|e| JwksError::Invalid(e.to_string()))?;
        let mut keys = Vec::new();
        for jwk in jwks.keys {
            if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
                return Err(JwksError::Invalid(format!(
                    "key {:?}: only OKP Ed25519 keys are accepted (RFC 8037)",
                    jwk.kid
                )));
            }
            if jwk.alg.as_deref().is_some_and(|alg| alg != "EdDSA") {
                return Err(JwksError::Invalid(format!("key {:?}: alg must be EdDSA", jwk.kid)));
            }
            let x: [u8; 32] = b64::decode(&jwk.x).ok().and_then(|x| x.try_into().ok()).ok_or_else(|| {
                JwksError::Invalid(format!("key {:?}: x must be 32 bytes base64url", jwk.kid))
            })?;
            let key = VerifyingKey::from_bytes(&x)
                .ok()
                .filter(|key| !key.is_weak())
                .ok_or_else(|| JwksError::Invalid(format!("key {:?}: not a valid Ed25519 key", jwk.kid)))?;
            keys.push((jwk.kid, key));
        }
        if keys.is_empty() {
            return Err(JwksError::Invalid("the JWKS holds no keys".into()));
        }
        Ok(Self { keys, audience: audience.to_owned(), leeway_seconds, max_lifetime_seconds })
    }

    /// The keys and the audience, as clients check assertions against them.
    pub fn public_keys(&self) -> AssertionKeys {
        AssertionKeys {
            audience: self.audience.clone(),
            keys: self
                .keys
                .iter()
                .map(|(kid, key)| AssertionKey::ed25519(key.as_bytes(), kid.clone()))
                .collect(),
        }
    }

    /// Verifies a compact JWS assertion, now by the system clock.
    pub fn verify(&self, compact: &str) -> Result<Eligibility, AssertionError> {
        self.verify_at(compact, Utc::now())
    }

    /// Verifies a compact JWS assertion at the time `now` (the server's [`Clock`](crate::clock::Clock)).
    pub fn verify_at(
        &self,
        compact: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<Eligibility, AssertionError> {
        let token = UntrustedToken::new(compact).map_err(|_| AssertionError::Malformed)?;
        if token.algorithm() != "EdDSA" {
            return Err(AssertionError::Algorithm);
        }
        let kid = token.header().key_id.clone();
        let candidates =
            self.keys.iter().filter(|(key_id, _)| kid.is_none() || key_id.is_none() || *key_id == kid);
        let mut verified = None;
        for (_, key) in candidates {
            if let Ok(token) = Ed25519.validator::<AssertionClaims>(key).validate(&token) {
                verified = Some(token);
                break;
            }
        }
        let token = verified.ok_or(AssertionError::Signature)?;
        let claims = token.claims();

        let options = TimeOptions::new(Duration::seconds(i64::from(self.leeway_seconds)), move || now);
        let expiration = claims.expiration.ok_or(AssertionError::Lifetime(self.max_lifetime_seconds))?;
        claims.validate_expiration(&options).map_err(|_| AssertionError::Expired)?;
        if expiration > now + Duration::seconds(i64::from(self.max_lifetime_seconds + self.leeway_seconds)) {
            return Err(AssertionError::Lifetime(self.max_lifetime_seconds));
        }
        if claims.not_before.is_some() {
            claims
                .validate_maturity(&options)
                .map_err(|_| AssertionError::Claims("not valid yet (nbf)".into()))?;
        }

        let audience_ok = match &claims.custom.aud {
            Audience::One(aud) => aud == &self.audience,
            Audience::Many(auds) => auds.iter().any(|aud| aud == &self.audience),
        };
        if !audience_ok {
            return Err(AssertionError::Audience);
        }
        if claims.custom.sub.is_empty() {
            return Err(AssertionError::Claims("`sub` is required".into()));
        }
        if claims.custom.scopes.is_empty() {
            return Err(AssertionError::Claims("`scopes` must list at least one scope".into()));
        }
        let scopes = claims
            .custom
            .scopes
            .iter()
            .map(|scope| Scope::parse(scope).map_err(|e| AssertionError::Claims(e.to_string())))
            .collect::<Result<_, _>>()?;
        Ok(Eligibility { subject: claims.custom.sub.clone(), scopes })
    }
}

/// An intranet signing key, as `candor assertion keygen` writes it and `mint` reads it.
#[derive(Debug)]
pub struct IntranetKey {
    key: SigningKey,
}

impl IntranetKey {
    /// A fresh key.
    pub fn generate() -> Self {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand::Rng::fill_bytes(&mut rand::rng(), &mut seed[..]);
        Self { key: SigningKey::from_bytes(&seed) }
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, crate::keyfiles::KeyFileError> {
        Ok(Self { key: SigningKey::from_bytes(&*crate::keyfiles::read_secret(path)?) })
    }

    /// Writes the key file (0600).
    pub fn save(&self, path: &Path) -> Result<(), crate::keyfiles::KeyFileError> {
        crate::keyfiles::write_secret(path, &self.key.to_bytes())
    }

    /// The key id: base64url of the first 8 bytes of SHA-256 of the public key.
    pub fn key_id(&self) -> String {
        b64::encode(&Sha256::digest(self.key.verifying_key().as_bytes())[..8])
            .trim_end_matches('=')
            .to_owned()
    }

    /// Adds this key's public JWK to a JWKS document (creating it if `existing` is None).
    pub fn add_to_jwks(&self, existing: Option<&str>) -> Result<String, JwksError> {
        let mut jwks: Jwks = match existing {
            Some(text) => serde_json::from_str(text).map_err(|e| JwksError::Invalid(e.to_string()))?,
            None => Jwks::default(),
        };
        let kid = self.key_id();
        jwks.keys.retain(|jwk| jwk.kid.as_deref() != Some(kid.as_str()));
        jwks.keys.push(AssertionKey::ed25519(self.key.verifying_key().as_bytes(), Some(kid)));
        serde_json::to_string_pretty(&jwks).map_err(|e| JwksError::Invalid(e.to_string()))
    }

    /// Mints an assertion for `subject` in `scopes`, valid for `ttl_seconds`.
    pub fn mint(&self, subject: &str, scopes: &[Scope], audience: &str, ttl_seconds: u32) -> String {
        let claims = Claims::new(AssertionClaims {
            sub: subject.to_owned(),
            aud: Audience::One(audience.to_owned()),
            scopes: scopes.iter().map(ToString::to_string).collect(),
        })
        .set_duration(&TimeOptions::default(), Duration::seconds(i64::from(ttl_seconds)));
        let header = Header::empty().with_key_id(self.key_id());
        Ed25519.token(&header, &claims, &self.key).expect("Ed25519 signing of JSON claims cannot fail")
    }

    /// Mints a token with arbitrary claims JSON and header algorithm name: for tests of
    /// what the verifier refuses.
    #[doc(hidden)]
    pub fn mint_raw(&self, claims: &serde_json::Value, exp_offset_seconds: i64) -> String {
        let mut claims = Claims::new(claims.clone());
        claims.expiration = Some(Utc::now() + Duration::seconds(exp_offset_seconds));
        Ed25519.token(&Header::empty().with_key_id(self.key_id()), &claims, &self.key).expect("signing")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_compact::alg::{Hs256, Hs256Key};

    fn setup() -> (IntranetKey, AssertionVerifier) {
        let key = IntranetKey::generate();
        let jwks = key.add_to_jwks(None).unwrap();
        let verifier = AssertionVerifier::from_jwks(&jwks, "candor", 30, 3_600).unwrap();
        (key, verifier)
    }

    fn scopes() -> Vec<Scope> {
        vec![Scope::parse("acme/eng").unwrap()]
    }

    #[test]
    fn a_genuine_assertion_verifies() {
        let (key, verifier) = setup();
        let eligibility = verifier.verify(&key.mint("alice", &scopes(), "candor", 60)).unwrap();
        assert_eq!(eligibility, Eligibility { subject: "alice".into(), scopes: scopes() });
        assert!(eligibility.may_answer(&Scope::parse("acme").unwrap()));
        assert!(!eligibility.may_answer(&Scope::parse("acme/eng/web").unwrap()));
    }

    #[test]
    fn forged_expired_and_misaddressed_assertions_are_refused() {
        let (key, verifier) = setup();
        let other = IntranetKey::generate();
        assert_eq!(
            verifier.verify(&other.mint("eve", &scopes(), "candor", 60)),
            Err(AssertionError::Signature)
        );
        assert_eq!(
            verifier.verify(&key.mint("eve", &scopes(), "elsewhere", 60)),
            Err(AssertionError::Audience)
        );
        let claims = serde_json::json!({"sub": "eve", "aud": "candor", "scopes": ["acme"]});
        assert_eq!(verifier.verify(&key.mint_raw(&claims, -120)), Err(AssertionError::Expired));
        assert_eq!(verifier.verify(&key.mint_raw(&claims, 86_400)), Err(AssertionError::Lifetime(3_600)));
        let no_scopes = serde_json::json!({"sub": "eve", "aud": "candor"});
        assert!(matches!(verifier.verify(&key.mint_raw(&no_scopes, 60)), Err(AssertionError::Claims(_))));
        let bad_scope = serde_json::json!({"sub": "eve", "aud": ["x", "candor"], "scopes": ["Not A Scope"]});
        assert!(matches!(verifier.verify(&key.mint_raw(&bad_scope, 60)), Err(AssertionError::Claims(_))));
        assert_eq!(verifier.verify("a.b"), Err(AssertionError::Malformed));
        // A valid signature over a changed payload does not verify.
        let genuine = key.mint("alice", &scopes(), "candor", 60);
        let parts: Vec<&str> = genuine.split('.').collect();
        let forged_payload =
            b64::encode(br#"{"sub":"mallory","aud":"candor","scopes":["acme"],"exp":9999999999}"#);
        let spliced = format!("{}.{}.{}", parts[0], forged_payload.trim_end_matches('='), parts[2]);
        assert_eq!(verifier.verify(&spliced), Err(AssertionError::Signature));
    }

    #[test]
    fn algorithm_confusion_is_refused() {
        let (key, verifier) = setup();
        // HS256 keyed with the public key, the classic confusion attack.
        let public = key.key.verifying_key().to_bytes();
        let claims = Claims::new(serde_json::json!({"sub": "eve", "aud": "candor", "scopes": ["acme"]}))
            .set_duration(&TimeOptions::default(), Duration::seconds(60));
        let hs = Hs256.token(&Header::empty(), &claims, &Hs256Key::new(public)).unwrap();
        assert_eq!(verifier.verify(&hs), Err(AssertionError::Algorithm));
        // alg "none", unsigned.
        let header = b64::encode(br#"{"alg":"none"}"#);
        let payload = b64::encode(br#"{"sub":"eve","aud":"candor","scopes":["acme"],"exp":9999999999}"#);
        let none = format!("{}.{}.", header.trim_end_matches('='), payload.trim_end_matches('='));
        assert!(matches!(verifier.verify(&none), Err(AssertionError::Algorithm | AssertionError::Malformed)));
    }

    #[test]
    fn only_ed25519_jwks_are_accepted() {
        let rsa = r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#;
        assert!(AssertionVerifier::from_jwks(rsa, "candor", 30, 60).is_err());
        let x25519 =
            r#"{"keys":[{"kty":"OKP","crv":"X25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#;
        assert!(AssertionVerifier::from_jwks(x25519, "candor", 30, 60).is_err());
        let weak =
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#;
        assert!(AssertionVerifier::from_jwks(weak, "candor", 30, 60).is_err());
        assert!(AssertionVerifier::from_jwks(r#"{"keys":[]}"#, "candor", 30, 60).is_err());
    }
}
