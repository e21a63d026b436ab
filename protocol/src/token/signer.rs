//! The issuer's one secret operation, behind one trait: the raw RSA private step of
//! blind signing (RFC 9474 §4.3, `BlindSign`: s = m^d mod n), with two backends.
//!
//! Blind signing is the private-key operation of a network-facing oracle: anyone
//! holding an assertion chooses the message and times the answer. The backend must
//! therefore be constant-time and blinded.
//!
//! * [`Backend::OpenSsl`] (feature `openssl`, the server's default): OpenSSL's RSA
//!   private operation with no padding. OpenSSL blinds every private operation (a
//!   fresh random r per call unless a key sets `RSA_FLAG_NO_BLINDING`, which we never
//!   do), uses constant-time Montgomery exponentiation for d, p and q, and checks its
//!   CRT result. It is also several times faster than the pure-Rust path.
//! * [`Backend::RustCrypto`]: the `rsa` crate through `blind-rsa-signatures`, for builds
//!   without OpenSSL (and the client side, which never signs). The `rsa` crate is not
//!   yet declared constant-time (RUSTSEC-2023-0071), so a server should not prefer it.
//!
//! Both backends check the same two things RFC 9474 asks of the signer: the message is
//! below the modulus (step 1), and the signature re-encrypts to it (step 3), so a faulty
//! computation is never sent.

use std::sync::Arc;

use blind_rsa_signatures::{self as brsa, Deterministic, PSS, Sha384};

use super::{IssueError, KeyError};

/// The raw RSA private operation of a blind signer.
pub trait RawRsaSigner: Send + Sync {
    /// Which backend computes it.
    fn backend(&self) -> Backend;

    /// Length in bytes of the modulus, and so of every input and output.
    fn modulus_len(&self) -> usize;

    /// s = m^d mod n, big-endian, exactly [`modulus_len`](Self::modulus_len) bytes in
    /// and out. Refuses an input of another length or not below the modulus, and never
    /// returns a signature that does not re-encrypt to the input.
    fn sign_raw(&self, blinded_msg: &[u8]) -> Result<Vec<u8>, IssueError>;
}

/// The implementations of [`RawRsaSigner`] this build has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Pure Rust: `blind-rsa-signatures` on the `rsa` crate.
    RustCrypto,
    /// OpenSSL's constant-time, blinded RSA private operation.
    #[cfg(all(feature = "openssl", not(target_arch = "wasm32")))]
    OpenSsl,
}

impl Backend {
    /// Every backend compiled into this build.
    pub const ALL: &'static [Backend] = &[
        Backend::RustCrypto,
        #[cfg(all(feature = "openssl", not(target_arch = "wasm32")))]
        Backend::OpenSsl,
    ];

    /// The backend a server should sign with: OpenSSL when the build has it.
    pub const fn preferred() -> Backend {
        #[cfg(all(feature = "openssl", not(target_arch = "wasm32")))]
        return Backend::OpenSsl;
        #[cfg(not(all(feature = "openssl", not(target_arch = "wasm32"))))]
        return Backend::RustCrypto;
    }

    /// A short name, for logs and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::RustCrypto => "rustcrypto",
            #[cfg(all(feature = "openssl", not(target_arch = "wasm32")))]
            Backend::OpenSsl => "openssl",
        }
    }

    /// Loads a PKCS#8 (or PKCS#1) PEM RSA private key into this backend. Any modulus
    /// size is accepted here; [`IssuerKey`](super::IssuerKey) insists on RSA-2048.
    pub fn load(self, pem: &str) -> Result<Arc<dyn RawRsaSigner>, KeyError> {
        Ok(match self {
            Backend::RustCrypto => Arc::new(RustCryptoSigner::from_pem(pem)?),
            #[cfg(all(feature = "openssl", not(target_arch = "wasm32")))]
            Backend::OpenSsl => Arc::new(openssl_backend::OpenSslSigner::from_pem(pem)?),
        })
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The pure-Rust backend.
struct RustCryptoSigner {
    // The salt mode and message preparation do not enter the raw operation.
    secret: brsa::SecretKey<Sha384, PSS, Deterministic>,
    modulus_len: usize,
}

impl RustCryptoSigner {
    fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let secret = brsa::SecretKey::from_pem(pem).map_err(|_| KeyError::Private)?;
        let modulus_len = secret.public_key().map_err(|_| KeyError::Private)?.components().n().len();
        Ok(Self { secret, modulus_len })
    }
}

impl RawRsaSigner for RustCryptoSigner {
    fn backend(&self) -> Backend {
        Backend::RustCrypto
    }

    fn modulus_len(&self) -> usize {
        self.modulus_len
    }

    fn sign_raw(&self, blinded_msg: &[u8]) -> Result<Vec<u8>, IssueError> {
        if blinded_msg.len() != self.modulus_len {
            return Err(IssueError::MessageOutOfRange);
        }
        // The crate checks m < n and re-encrypts its result before answering.
        let signature = self.secret.blind_sign(blinded_msg).map_err(|error| match error {
            brsa::Error::UnsupportedParameters => IssueError::MessageOutOfRange,
            _ => IssueError::Signing,
        })?;
        if signature.0.len() != self.modulus_len {
            return Err(IssueError::Signing);
        }
        Ok(signature.0)
    }
}

#[cfg(all(feature = "openssl", not(target_arch = "wasm32")))]
mod openssl_backend {
    use openssl::pkey::{PKey, Private};
    use openssl::rsa::{Padding, Rsa};

    use super::{Backend, IssueError, KeyError, RawRsaSigner};

    /// OpenSSL's RSA with no padding: the private operation is the RFC's RSASP1.
    pub(super) struct OpenSslSigner {
        rsa: Rsa<Private>,
        /// The modulus, big-endian at full length, to check m < n before signing.
        modulus: Vec<u8>,
    }

    impl OpenSslSigner {
        pub(super) fn from_pem(pem: &str) -> Result<Self, KeyError> {
            let rsa = PKey::private_key_from_pem(pem.as_bytes())
                .and_then(|key| key.rsa())
                .map_err(|_| KeyError::Private)?;
            // A key whose parts do not fit together would sign wrongly (and a faulty CRT
            // result can reveal a factor); refuse it when it is loaded.
            if !rsa.check_key().unwrap_or(false) {
                return Err(KeyError::Private);
            }
            let len = i32::try_from(rsa.size()).map_err(|_| KeyError::Private)?;
            let modulus = rsa.n().to_vec_padded(len).map_err(|_| KeyError::Private)?;
            Ok(Self { rsa, modulus })
        }
    }

    impl RawRsaSigner for OpenSslSigner {
        fn backend(&self) -> Backend {
            Backend::OpenSsl
        }

        fn modulus_len(&self) -> usize {
            self.modulus.len()
        }

        fn sign_raw(&self, blinded_msg: &[u8]) -> Result<Vec<u8>, IssueError> {
            // Equal-length big-endian strings compare as the numbers they spell. The
            // message is the client's, not a secret: this comparison may take any time.
            if blinded_msg.len() != self.modulus.len() || blinded_msg >= self.modulus.as_slice() {
                return Err(IssueError::MessageOutOfRange);
            }
            let mut signature = vec![0; self.modulus.len()];
            let written = self
                .rsa
                .private_decrypt(blinded_msg, &mut signature, Padding::NONE)
                .map_err(|_| IssueError::Signing)?;
            if written != self.modulus.len() {
                return Err(IssueError::Signing);
            }
            // RFC 9474 §4.3 step 3: s^e mod n must give m back before s leaves.
            let mut check = vec![0; self.modulus.len()];
            let written = self
                .rsa
                .public_encrypt(&signature, &mut check, Padding::NONE)
                .map_err(|_| IssueError::Signing)?;
            if written != self.modulus.len() || check != blinded_msg {
                return Err(IssueError::Signing);
            }
            Ok(signature)
        }
    }
}
