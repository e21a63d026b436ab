//! Ed25519 keys, one type per role: the organisation signs round manifests, the server
//! signs receipts, an author signs their submission. Verification is strict
//! (`verify_strict`: no small-order keys, canonical signatures only).
//!
//! Secret keys never appear in `Debug` output and are wiped from memory when dropped.

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::b64;

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// The signature bytes.
    pub fn to_bytes(self) -> [u8; 64] {
        self.0
    }

    /// Reads a signature from exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        bytes.try_into().map(Self).map_err(|_| KeyError::Length { expected: 64 })
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", b64::encode(self.0))
    }
}

crate::b64::serde_as_base64!(Signature, "a 64-byte Ed25519 signature in base64url");

/// A key or signature that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Wrong length.
    #[error("expected {expected} bytes")]
    Length {
        /// The length required.
        expected: usize,
    },
    /// Not a valid Ed25519 public key (not a curve point, or of small order).
    #[error("not a valid Ed25519 public key")]
    InvalidPoint,
}

/// A signature that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {0} signature does not verify")]
pub struct BadSignature(pub &'static str);

macro_rules! ed25519_role {
    ($(#[$secret_doc:meta])* $secret:ident, $(#[$public_doc:meta])* $public:ident, $role:literal) => {
        $(#[$secret_doc])*
        #[derive(Clone)]
        pub struct $secret(SigningKey);

        impl $secret {
            /// Generates a fresh key.
            pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
                Self(SigningKey::generate(rng))
            }

            /// Restores a key from its 32-byte seed.
            pub fn from_seed(seed: &[u8; 32]) -> Self {
                Self(SigningKey::from_bytes(seed))
            }

            /// The 32-byte seed, for storage. Wiped from memory when dropped.
            pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
                Zeroizing::new(self.0.to_bytes())
            }

            /// The public half.
            pub fn public_key(&self) -> $public {
                $public(self.0.verifying_key())
            }

            pub(crate) fn sign(&self, message: &[u8]) -> Signature {
                use ed25519_dalek::Signer as _;
                Signature(self.0.sign(message).to_bytes())
            }
        }

        impl std::fmt::Debug for $secret {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($secret))
                    .field("public", &self.public_key())
                    .finish_non_exhaustive()
            }
        }

        $(#[$public_doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $public(VerifyingKey);

        impl $public {
            /// The 32-byte encoded key.
            pub fn to_bytes(self) -> [u8; 32] {
                self.0.to_bytes()
            }

            /// Reads a key from exactly 32 bytes, refusing weak (small-order) keys.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
                let bytes: &[u8; 32] =
                    bytes.try_into().map_err(|_| KeyError::Length { expected: 32 })?;
                let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPoint)?;
                if key.is_weak() {
                    return Err(KeyError::InvalidPoint);
                }
                Ok(Self(key))
            }

            /// Reads a base64url key.
            pub fn from_base64(text: &str) -> Result<Self, KeyError> {
                Self::from_slice(&b64::decode(text).map_err(|_| KeyError::Length { expected: 32 })?)
            }

            /// The key as base64url.
            pub fn to_base64(self) -> String {
                b64::encode(self.to_bytes())
            }

            pub(crate) fn verify(
                &self,
                message: &[u8],
                signature: &Signature,
            ) -> Result<(), BadSignature> {
                let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
                self.0.verify_strict(message, &signature).map_err(|_| BadSignature($role))
            }
        }

        impl std::fmt::Debug for $public {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($public), self.to_base64())
            }
        }

        crate::b64::serde_as_base64!($public, "a 32-byte Ed25519 public key in base64url");

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $public {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($public))
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "description": concat!("An Ed25519 public key (", $role, "): 32 bytes, base64url."),
                    "pattern": "^[A-Za-z0-9_-]{43}=?$"
                })
            }
        }
    };
}

ed25519_role!(
    /// The organisation's signing key: signs round manifests. Kept by the operator.
    OrganisationKey,
    /// The organisation's public key, pinned in every widget.
    OrganisationPublicKey,
    "manifest"
);
ed25519_role!(
    /// The server's receipt key: signs the receipt for every stored item.
    ReceiptKey,
    /// The server's public receipt key, published in each manifest.
    ReceiptPublicKey,
    "receipt"
);
ed25519_role!(
    /// An author's ephemeral key, made in the widget for one item. It signs the
    /// submission and, later, the author's replies in its thread.
    AuthorKey,
    /// An author's public key: the item's pseudonym.
    AuthorPublicKey,
    "author"
);

impl OrganisationPublicKey {
    /// A short fingerprint that a person can compare by eye with the one their
    /// organisation publishes: the first 16 bytes of SHA-256 of the key, as eight groups
    /// of four hex digits (`3f2a 9c1b …`).
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(self.to_bytes());
        let mut out = String::with_capacity(39);
        for (i, byte) in hash[..16].iter().enumerate() {
            if i > 0 && i % 2 == 0 {
                out.push(' ');
            }
            for nibble in [byte >> 4, byte & 15] {
                out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_the_start_of_the_keys_sha256_in_groups() {
        use sha2::Digest as _;
        let key = OrganisationKey::from_seed(&[0x42; 32]).public_key();
        let hex: String =
            sha2::Sha256::digest(key.to_bytes())[..16].iter().map(|b| format!("{b:02x}")).collect();
        let fingerprint = key.fingerprint();
        assert_eq!(fingerprint.replace(' ', ""), hex);
        assert_eq!(fingerprint.split(' ').map(str::len).collect::<Vec<_>>(), [4; 8]);
    }

    #[test]
    fn secrets_never_print() {
        let key = OrganisationKey::from_seed(&[0x42; 32]);
        let debug = format!("{key:?}");
        assert!(debug.starts_with("OrganisationKey { public: OrganisationPublicKey("));
        assert!(!debug.contains(&b64::encode([0x42; 32])), "{debug}");
    }

    #[test]
    fn weak_and_malformed_public_keys_are_refused() {
        // The identity point encodes as 1 followed by zeros: a small-order key.
        let mut identity = [0; 32];
        identity[0] = 1;
        assert_eq!(AuthorPublicKey::from_slice(&identity), Err(KeyError::InvalidPoint));
        assert_eq!(AuthorPublicKey::from_slice(&[1; 31]), Err(KeyError::Length { expected: 32 }));
    }

    #[test]
    fn signatures_are_checked_strictly() {
        let key = AuthorKey::from_seed(&[9; 32]);
        let signature = key.sign(b"message");
        assert!(key.public_key().verify(b"message", &signature).is_ok());
        assert!(key.public_key().verify(b"massage", &signature).is_err());
        let other = AuthorKey::from_seed(&[8; 32]).public_key();
        assert_eq!(other.verify(b"message", &signature), Err(BadSignature("author")));
    }
}
