//! Token private keys at rest: sealed with XChaCha20-Poly1305 (RustCrypto's
//! `chacha20poly1305`) under a key derived from the server secret, each bound to its
//! round and team as associated data, so a sealed key cannot be moved to another row.

use candor_protocol::domain::{RoundId, Scope};
use candor_protocol::token::IssuerKey;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::store::SealedKey;

/// A sealed key that does not open: another server secret, or a changed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a token private key does not unseal: wrong server secret, or the stored key was altered")]
pub struct SealError;

/// Seals and unseals token private keys.
pub struct TokenKeySeal {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for TokenKeySeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeySeal(..)")
    }
}

fn associated(round: RoundId, team: &Scope) -> Vec<u8> {
    let mut aad = b"candor/token-key/v1".to_vec();
    aad.extend_from_slice(&round.to_bytes());
    aad.extend_from_slice(team.as_str().as_bytes());
    aad
}

impl TokenKeySeal {
    /// The seal for a 32-byte key.
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        Self { cipher: XChaCha20Poly1305::new((&*key).into()) }
    }

    /// Seals a team's private key: a random 24-byte nonce, then the ciphertext.
    pub fn seal(&self, round: RoundId, team: &Scope, key: &IssuerKey) -> Result<SealedKey, SealError> {
        let pem = key.to_pem().map_err(|_| SealError)?;
        let mut nonce = [0u8; 24];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
        let aad = associated(round, team);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: pem.as_bytes(), aad: &aad })
            .map_err(|_| SealError)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(SealedKey(out))
    }

    /// Opens a sealed key.
    pub fn unseal(&self, round: RoundId, team: &Scope, sealed: &SealedKey) -> Result<IssuerKey, SealError> {
        if sealed.0.len() < 24 {
            return Err(SealError);
        }
        let (nonce, ciphertext) = sealed.0.split_at(24);
        let aad = associated(round, team);
        let pem = Zeroizing::new(
            self.cipher
                .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
                .map_err(|_| SealError)?,
        );
        let pem = std::str::from_utf8(&pem).map_err(|_| SealError)?;
        IssuerKey::from_pem(pem).map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_for_its_round_and_team_under_its_secret() {
        let seal = TokenKeySeal::new(Zeroizing::new([7; 32]));
        let key = IssuerKey::generate(&mut rand::rng()).unwrap();
        let round = RoundId::generate(&mut rand::rng());
        let team = Scope::parse("acme/eng").unwrap();
        let sealed = seal.seal(round, &team, &key).unwrap();
        let pem = key.to_pem().unwrap();
        assert!(!sealed.0.windows(10).any(|w| pem.as_bytes().windows(10).any(|p| p == w)));
        assert_eq!(seal.unseal(round, &team, &sealed).unwrap().token_key(), key.token_key());
        assert!(seal.unseal(round, &Scope::parse("acme/sales").unwrap(), &sealed).is_err());
        assert!(seal.unseal(RoundId::generate(&mut rand::rng()), &team, &sealed).is_err());
        assert!(TokenKeySeal::new(Zeroizing::new([8; 32])).unseal(round, &team, &sealed).is_err());
    }
}
