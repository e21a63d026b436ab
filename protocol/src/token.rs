//! Privacy Pass publicly verifiable tokens: token type 0x0002, blind RSA-2048 with
//! RSABSSA-SHA384-PSS-Deterministic (RFC 9474), wire formats from RFC 9578 §6.
//!
//! All RSA arithmetic comes from the `blind-rsa-signatures` crate; this module only
//! frames its inputs and outputs the way RFC 9578 says, and checks what the RFC asks
//! each side to check.
//!
//! | side   | step                                                   |
//! |--------|--------------------------------------------------------|
//! | client | [`TokenRequest::blind`] → send the 259-byte request     |
//! | issuer | [`IssuerKey::blind_sign`] → send the 256-byte response  |
//! | client | [`PendingToken::finalize`] → a [`Token`], verified      |
//! | origin | [`Token::verify`] against the key and the challenge     |

use blind_rsa_signatures::reexports::crypto_bigint::BoxedUint;
use blind_rsa_signatures::reexports::rsa;
use blind_rsa_signatures::{self as brsa, Deterministic, PSS, Sha384};
use rand_core::CryptoRng;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::b64;

pub mod signer;
pub use signer::{Backend, RawRsaSigner};

type RsaPublicKey = brsa::PublicKey<Sha384, PSS, Deterministic>;
type RsaSecretKey = brsa::SecretKey<Sha384, PSS, Deterministic>;
type RsaKeyPair = brsa::KeyPair<Sha384, PSS, Deterministic>;

/// The token type of publicly verifiable tokens (RFC 9578 §8.2.1).
pub const TOKEN_TYPE: u16 = 0x0002;
/// Nk: the modulus length in bytes of an RSA-2048 token key.
pub const MODULUS_LEN: usize = 256;
/// Length of the client's nonce.
pub const NONCE_LEN: usize = 32;
/// Length of an encoded [`TokenRequest`]: token type, truncated key id, blinded message.
pub const TOKEN_REQUEST_LEN: usize = 2 + 1 + MODULUS_LEN;
/// Length of an encoded [`TokenResponse`]: the blind signature, leading zeros kept.
pub const TOKEN_RESPONSE_LEN: usize = MODULUS_LEN;
/// Length of an encoded [`Token`].
pub const TOKEN_LEN: usize = 2 + NONCE_LEN + 32 + 32 + MODULUS_LEN;
/// Size of the RSA modulus Candor generates for every round.
pub const MODULUS_BITS: usize = 2048;

/// Media type of a token request body (RFC 9578 §8.3).
pub const TOKEN_REQUEST_MEDIA_TYPE: &str = "application/private-token-request";
/// Media type of a token response body (RFC 9578 §8.3).
pub const TOKEN_RESPONSE_MEDIA_TYPE: &str = "application/private-token-response";

/// A wire value that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The value has the wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// What was being parsed.
        what: &'static str,
        /// The length the format requires.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// The value is for another token type.
    #[error("token type {0:#06x} is not supported; only 0x0002 (blind RSA) is")]
    TokenType(u16),
    /// A field is malformed.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

fn check_len(what: &'static str, bytes: &[u8], expected: usize) -> Result<(), WireError> {
    if bytes.len() == expected { Ok(()) } else { Err(WireError::Length { what, expected, got: bytes.len() }) }
}

fn check_type(bytes: &[u8]) -> Result<(), WireError> {
    let token_type = u16::from_be_bytes([bytes[0], bytes[1]]);
    if token_type == TOKEN_TYPE { Ok(()) } else { Err(WireError::TokenType(token_type)) }
}

/// The SHA-256 of a token key's published SPKI bytes (RFC 9578 §6.5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKeyId(pub [u8; 32]);

impl TokenKeyId {
    /// The truncated key id: the least significant byte of the key id.
    pub fn truncated(&self) -> u8 {
        self.0[31]
    }

    /// The id as bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Reads an id from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, WireError> {
        check_len("token key id", bytes, 32)?;
        let mut id = [0; 32];
        id.copy_from_slice(bytes);
        Ok(Self(id))
    }
}

impl std::fmt::Debug for TokenKeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKeyId({})", b64::encode(self.0))
    }
}

crate::b64::serde_as_base64!(TokenKeyId, "a 32-byte token key id in base64url");

/// An error about a token key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The bytes are not a DER SubjectPublicKeyInfo of an RSASSA-PSS key.
    #[error("not an RSASSA-PSS SubjectPublicKeyInfo")]
    Encoding,
    /// The SPKI parses but is not in the one canonical form a type-2 key must be
    /// published in, so its key id would not match other clients'.
    #[error("the SPKI is not in the canonical RSASSA-PSS (SHA-384, salt 48) form")]
    NotCanonical,
    /// The key is not a 2048-bit RSA key.
    #[error("the token key must be RSA-2048")]
    Size,
    /// Key generation failed.
    #[error("could not generate an RSA key")]
    Generate,
    /// The private key could not be read.
    #[error("not a valid PKCS#8 RSA private key")]
    Private,
}

/// The canonical SPKI of an RSA-2048 token key up to its modulus (RFC 9578 §6.5, the
/// form of its test vectors): SEQUENCE { AlgorithmIdentifier { id-RSASSA-PSS,
/// { SHA-384, MGF1 with SHA-384, salt length 48 } }, BIT STRING { RSAPublicKey
/// SEQUENCE { INTEGER (a 2048-bit modulus with its leading zero byte) …
pub const SPKI_PREFIX: [u8; 81] = [
    0x30, 0x82, 0x01, 0x52, 0x30, 0x3d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
    0x30, 0x30, 0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
    0xa1, 0x1a, 0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0b,
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0xa2, 0x03, 0x02, 0x01, 0x30, 0x03,
    0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00,
];
/// … and after the modulus, the public exponent: INTEGER 65537.
pub const SPKI_EXPONENT: [u8; 5] = [0x02, 0x03, 0x01, 0x00, 0x01];

/// An issuer's public token key, with its exact published SPKI bytes and key id.
#[derive(Clone)]
pub struct TokenKey {
    key: RsaPublicKey,
    spki: Vec<u8>,
    id: TokenKeyId,
}

impl TokenKey {
    fn from_rsa(key: RsaPublicKey) -> Result<Self, KeyError> {
        if key.components().n().len() != MODULUS_LEN {
            return Err(KeyError::Size);
        }
        // Through the canonical form, so every key made here is one a client accepts.
        Self::from_spki(&key.to_spki().map_err(|_| KeyError::Encoding)?)
    }

    /// Reads a token key from its published SPKI (the RSASSA-PSS OID form of RFC 9578).
    /// Only the canonical encoding is accepted: the key id is the hash of these exact
    /// bytes, so a second spelling of the same key would be a second identity.
    ///
    /// That form is fixed byte for byte apart from the modulus ([`SPKI_PREFIX`], 256
    /// modulus bytes, [`SPKI_EXPONENT`]), so it is checked as such rather than parsed as
    /// DER: the same strictness, without carrying a DER codec into the widget.
    pub fn from_spki(spki: &[u8]) -> Result<Self, KeyError> {
        let modulus = spki
            .strip_prefix(SPKI_PREFIX.as_slice())
            .and_then(|rest| rest.strip_suffix(SPKI_EXPONENT.as_slice()))
            .ok_or(KeyError::NotCanonical)?;
        // Exactly 2048 bits: 256 bytes, the top bit set (DER's leading zero is in the prefix).
        if modulus.len() != MODULUS_LEN || modulus[0] & 0x80 == 0 {
            return Err(KeyError::NotCanonical);
        }
        let n = BoxedUint::from_be_slice(modulus, 8 * MODULUS_LEN as u32).map_err(|_| KeyError::Encoding)?;
        let key = rsa::RsaPublicKey::new(n, BoxedUint::from(65_537_u32)).map_err(|_| KeyError::Encoding)?;
        let id = TokenKeyId(Sha256::digest(spki).into());
        Ok(Self { key: RsaPublicKey::new(key), spki: spki.to_vec(), id })
    }

    /// Reads a token key from base64url SPKI, as in the issuer directory.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        Self::from_spki(&b64::decode(text).map_err(|_| KeyError::Encoding)?)
    }

    /// The exact SPKI bytes that are published and hashed into the key id.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// The SPKI as base64url, as the issuer directory and RFC 9577 `token-key` carry it.
    pub fn to_base64(&self) -> String {
        b64::encode(&self.spki)
    }

    /// SHA-256 of the SPKI.
    pub fn id(&self) -> TokenKeyId {
        self.id
    }
}

impl PartialEq for TokenKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}
impl Eq for TokenKey {}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl serde::Serialize for TokenKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> serde::Deserialize<'de> for TokenKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

/// An issuer's secret token key. It never appears in `Debug` output.
///
/// Signing goes through a [`RawRsaSigner`]: [`Backend::preferred`] (OpenSSL's
/// constant-time, blinded operation when the build has it) unless another is asked for.
#[derive(Clone)]
pub struct IssuerKey {
    /// Kept for [`IssuerKey::to_pem`]; signing never touches it.
    secret: RsaSecretKey,
    public: TokenKey,
    signer: std::sync::Arc<dyn RawRsaSigner>,
}

impl IssuerKey {
    /// Generates a fresh RSA-2048 token key, signing with [`Backend::preferred`].
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::generate(rng, MODULUS_BITS).map_err(|_| KeyError::Generate)?;
        let pem = Zeroizing::new(pair.sk.to_pem().map_err(|_| KeyError::Generate)?);
        Self::from_pem_with(&pem, Backend::preferred())
    }

    /// Reads a PKCS#8 (or PKCS#1) PEM private key, signing with [`Backend::preferred`].
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_pem_with(pem, Backend::preferred())
    }

    /// Reads a PKCS#8 (or PKCS#1) PEM private key, signing with `backend`.
    pub fn from_pem_with(pem: &str, backend: Backend) -> Result<Self, KeyError> {
        let secret = RsaSecretKey::from_pem(pem).map_err(|_| KeyError::Private)?;
        let public = TokenKey::from_rsa(secret.public_key().map_err(|_| KeyError::Private)?)?;
        let signer = backend.load(pem)?;
        if signer.modulus_len() != MODULUS_LEN {
            return Err(KeyError::Size);
        }
        Ok(Self { secret, public, signer })
    }

    /// The private key as PKCS#8 PEM, for storage. Wiped from memory when dropped.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.secret.to_pem().map(Zeroizing::new).map_err(|_| KeyError::Private)
    }

    /// The public half, to publish.
    pub fn token_key(&self) -> &TokenKey {
        &self.public
    }

    /// Which backend signs.
    pub fn backend(&self) -> Backend {
        self.signer.backend()
    }

    /// Blind-signs a token request (RFC 9578 §6.2), after the checks RFC 9474 asks for:
    /// the request is for this key, and the blinded message is below the modulus. The
    /// signer re-encrypts its result and compares it with the input before answering
    /// (RFC 9474 §4.3 step 3), so a faulty CRT computation never leaks.
    pub fn blind_sign(&self, request: &TokenRequest) -> Result<TokenResponse, IssueError> {
        if request.truncated_key_id != self.public.id.truncated() {
            return Err(IssueError::UnknownKey);
        }
        let blind_sig = self.signer.sign_raw(request.blinded_msg.as_slice())?;
        let blind_sig: [u8; MODULUS_LEN] =
            blind_sig.as_slice().try_into().map_err(|_| IssueError::Signing)?;
        Ok(TokenResponse { blind_sig })
    }
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKey")
            .field("id", &self.public.id)
            .field("backend", &self.signer.backend())
            .finish_non_exhaustive()
    }
}

/// Why the issuer refused to sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// The request names another key.
    #[error("the token request is for another token key")]
    UnknownKey,
    /// The blinded message is not below the modulus (RFC 9474 §4.3).
    #[error("the blinded message is not below the RSA modulus")]
    MessageOutOfRange,
    /// The RSA operation failed its own check.
    #[error("blind signing failed")]
    Signing,
}

/// A TokenChallenge (RFC 9577 §2.1): who issues, for which context, for which origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenChallenge {
    issuer_name: String,
    redemption_context: Option<[u8; 32]>,
    origin_info: String,
}

impl TokenChallenge {
    /// Builds a type-2 challenge. `origin_info` is one origin name, or several separated
    /// by commas; empty means any origin.
    pub fn new(
        issuer_name: impl Into<String>,
        redemption_context: Option<[u8; 32]>,
        origin_info: impl Into<String>,
    ) -> Self {
        Self { issuer_name: issuer_name.into(), redemption_context, origin_info: origin_info.into() }
    }

    /// The issuer's name.
    pub fn issuer_name(&self) -> &str {
        &self.issuer_name
    }

    /// The redemption context, if any.
    pub fn redemption_context(&self) -> Option<&[u8; 32]> {
        self.redemption_context.as_ref()
    }

    /// The origin names.
    pub fn origin_info(&self) -> &str {
        &self.origin_info
    }

    /// The encoded challenge.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + 2 + self.issuer_name.len() + 33 + 2 + 64);
        out.extend_from_slice(&TOKEN_TYPE.to_be_bytes());
        push_u16_prefixed(&mut out, self.issuer_name.as_bytes());
        match &self.redemption_context {
            Some(context) => {
                out.push(32);
                out.extend_from_slice(context);
            }
            None => out.push(0),
        }
        push_u16_prefixed(&mut out, self.origin_info.as_bytes());
        out
    }

    /// SHA-256 of the encoded challenge, as carried in the token.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }

    /// Parses an encoded challenge; trailing bytes are an error.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let mut reader = Reader(bytes);
        let token_type = reader.u16().ok_or(WireError::Malformed("token challenge"))?;
        if token_type != TOKEN_TYPE {
            return Err(WireError::TokenType(token_type));
        }
        let issuer_name = reader.u16_prefixed().ok_or(WireError::Malformed("issuer_name"))?;
        let context_len = reader.take(1).ok_or(WireError::Malformed("redemption_context"))?[0];
        let redemption_context = match context_len {
            0 => None,
            32 => {
                let context = reader.take(32).ok_or(WireError::Malformed("redemption_context"))?;
                let mut out = [0; 32];
                out.copy_from_slice(context);
                Some(out)
            }
            _ => return Err(WireError::Malformed("redemption_context")),
        };
        let origin_info = reader.u16_prefixed().ok_or(WireError::Malformed("origin_info"))?;
        if !reader.0.is_empty() {
            return Err(WireError::Malformed("token challenge (trailing bytes)"));
        }
        let text =
            |bytes: &[u8], what| String::from_utf8(bytes.to_vec()).map_err(|_| WireError::Malformed(what));
        if issuer_name.is_empty() {
            return Err(WireError::Malformed("issuer_name"));
        }
        Ok(Self {
            issuer_name: text(issuer_name, "issuer_name")?,
            redemption_context,
            origin_info: text(origin_info, "origin_info")?,
        })
    }
}

fn push_u16_prefixed(out: &mut Vec<u8>, value: &[u8]) {
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&value[..usize::from(len)]);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u16_prefixed(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }
}

/// The client nonce carried in a token. Candor derives it from the author key (see
/// [`crate::submission::NonceSalt`]); any 32 bytes are valid on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce(pub [u8; NONCE_LEN]);

impl std::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nonce({})", b64::encode(self.0))
    }
}

/// A TokenRequest (RFC 9578 §6.1): 259 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRequest {
    truncated_key_id: u8,
    blinded_msg: [u8; MODULUS_LEN],
}

impl TokenRequest {
    /// Client: blinds a token for `challenge` under `key` with the given nonce.
    /// Returns the request to send and the state that finalizes the answer.
    pub fn blind<R: CryptoRng + ?Sized>(
        rng: &mut R,
        key: &TokenKey,
        challenge: &TokenChallenge,
        nonce: Nonce,
    ) -> Result<(Self, PendingToken), BlindError> {
        let challenge_digest = challenge.digest();
        let input = token_input(&nonce, &challenge_digest, &key.id);
        let blinding = key.key.blind(rng, input).map_err(|_| BlindError)?;
        let blinded_msg: [u8; MODULUS_LEN] =
            blinding.blind_message.0.as_slice().try_into().map_err(|_| BlindError)?;
        let request = Self { truncated_key_id: key.id.truncated(), blinded_msg };
        let pending = PendingToken { key: key.clone(), nonce, challenge_digest, blinding };
        Ok((request, pending))
    }

    /// The truncated id of the key this request is for.
    pub fn truncated_key_id(&self) -> u8 {
        self.truncated_key_id
    }

    /// The encoded request.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TOKEN_REQUEST_LEN);
        out.extend_from_slice(&TOKEN_TYPE.to_be_bytes());
        out.push(self.truncated_key_id);
        out.extend_from_slice(&self.blinded_msg);
        out
    }

    /// Parses an encoded request.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        check_len("token request", bytes, TOKEN_REQUEST_LEN)?;
        check_type(bytes)?;
        let mut blinded_msg = [0; MODULUS_LEN];
        blinded_msg.copy_from_slice(&bytes[3..]);
        Ok(Self { truncated_key_id: bytes[2], blinded_msg })
    }
}

impl std::fmt::Debug for TokenRequest {
    // The blinded message is never shown: it is one of the values Candor never records.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("truncated_key_id", &self.truncated_key_id)
            .finish_non_exhaustive()
    }
}

/// Blinding failed (the key cannot blind this input; practically never happens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not blind the token input")]
pub struct BlindError;

fn token_input(nonce: &Nonce, challenge_digest: &[u8; 32], key_id: &TokenKeyId) -> Vec<u8> {
    let mut input = Vec::with_capacity(2 + NONCE_LEN + 32 + 32);
    input.extend_from_slice(&TOKEN_TYPE.to_be_bytes());
    input.extend_from_slice(&nonce.0);
    input.extend_from_slice(challenge_digest);
    input.extend_from_slice(&key_id.0);
    input
}

/// A TokenResponse (RFC 9578 §6.2): the 256-byte blind signature, leading zeros kept.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenResponse {
    blind_sig: [u8; MODULUS_LEN],
}

impl TokenResponse {
    /// The encoded response.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.blind_sig.to_vec()
    }

    /// Parses an encoded response.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        check_len("token response", bytes, TOKEN_RESPONSE_LEN)?;
        let mut blind_sig = [0; MODULUS_LEN];
        blind_sig.copy_from_slice(bytes);
        Ok(Self { blind_sig })
    }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse").finish_non_exhaustive()
    }
}

/// Client state between sending a [`TokenRequest`] and receiving its answer. Holds the
/// blinding secret, which never appears in `Debug` output.
pub struct PendingToken {
    key: TokenKey,
    nonce: Nonce,
    challenge_digest: [u8; 32],
    blinding: brsa::BlindingResult,
}

impl PendingToken {
    /// Client: unblinds the issuer's answer and verifies the result (RFC 9578 §6.3).
    pub fn finalize(&self, response: &TokenResponse) -> Result<Token, FinalizeError> {
        let input = token_input(&self.nonce, &self.challenge_digest, &self.key.id);
        let signature = self
            .key
            .key
            .finalize(&brsa::BlindSignature(response.blind_sig.to_vec()), &self.blinding, input)
            .map_err(|_| FinalizeError)?;
        let authenticator: [u8; MODULUS_LEN] =
            signature.0.as_slice().try_into().map_err(|_| FinalizeError)?;
        Ok(Token {
            nonce: self.nonce,
            challenge_digest: self.challenge_digest,
            token_key_id: self.key.id,
            authenticator,
        })
    }
}

impl std::fmt::Debug for PendingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingToken").field("key", &self.key.id).finish_non_exhaustive()
    }
}

impl Drop for PendingToken {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.blinding.secret.0.zeroize();
    }
}

/// The issuer's answer did not unblind to a valid signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the token response does not unblind to a valid signature")]
pub struct FinalizeError;

/// A redeemable token (RFC 9578 §6.3, RFC 9577 §2.2).
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    nonce: Nonce,
    challenge_digest: [u8; 32],
    token_key_id: TokenKeyId,
    authenticator: [u8; MODULUS_LEN],
}

impl Token {
    /// The client nonce.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }

    /// SHA-256 of the challenge the token answers.
    pub fn challenge_digest(&self) -> &[u8; 32] {
        &self.challenge_digest
    }

    /// The id of the key that signed it.
    pub fn token_key_id(&self) -> TokenKeyId {
        self.token_key_id
    }

    /// The encoded token.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TOKEN_LEN);
        out.extend_from_slice(&TOKEN_TYPE.to_be_bytes());
        out.extend_from_slice(&self.nonce.0);
        out.extend_from_slice(&self.challenge_digest);
        out.extend_from_slice(&self.token_key_id.0);
        out.extend_from_slice(&self.authenticator);
        out
    }

    /// Parses an encoded token. This checks the framing only; see [`Token::verify`].
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        check_len("token", bytes, TOKEN_LEN)?;
        check_type(bytes)?;
        let mut nonce = [0; NONCE_LEN];
        nonce.copy_from_slice(&bytes[2..34]);
        let mut challenge_digest = [0; 32];
        challenge_digest.copy_from_slice(&bytes[34..66]);
        let token_key_id = TokenKeyId::from_slice(&bytes[66..98])?;
        let mut authenticator = [0; MODULUS_LEN];
        authenticator.copy_from_slice(&bytes[98..]);
        Ok(Self { nonce: Nonce(nonce), challenge_digest, token_key_id, authenticator })
    }

    /// A stable identifier for double-spend checks: SHA-256 of the encoded token.
    pub fn spend_id(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }

    /// Origin: checks that the token answers `challenge`, names `key`, and carries a
    /// valid signature by it.
    pub fn verify(&self, key: &TokenKey, challenge: &TokenChallenge) -> Result<(), VerifyError> {
        if self.token_key_id != key.id {
            return Err(VerifyError::WrongKey);
        }
        if self.challenge_digest != challenge.digest() {
            return Err(VerifyError::WrongChallenge);
        }
        let input = token_input(&self.nonce, &self.challenge_digest, &self.token_key_id);
        key.key
            .verify(&brsa::Signature(self.authenticator.to_vec()), None, input)
            .map_err(|_| VerifyError::BadSignature)
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("nonce", &self.nonce)
            .field("token_key_id", &self.token_key_id)
            .finish_non_exhaustive()
    }
}

/// Why a token does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The token names another key.
    #[error("the token was issued under another token key")]
    WrongKey,
    /// The token answers another challenge (another round, issuer or origin).
    #[error("the token is for another challenge")]
    WrongChallenge,
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    BadSignature,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_round_trips_and_rejects_bad_framing() {
        let challenge = TokenChallenge::new("candor.example", Some([7; 32]), "intranet.example");
        let bytes = challenge.to_bytes();
        assert_eq!(TokenChallenge::parse(&bytes).unwrap(), challenge);
        let no_context = TokenChallenge::new("i", None, "");
        assert_eq!(TokenChallenge::parse(&no_context.to_bytes()).unwrap(), no_context);

        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(TokenChallenge::parse(&trailing).is_err());
        for cut in 0..bytes.len() {
            assert!(TokenChallenge::parse(&bytes[..cut]).is_err(), "prefix {cut} accepted");
        }
        let mut other_type = bytes;
        other_type[1] = 1;
        assert_eq!(TokenChallenge::parse(&other_type), Err(WireError::TokenType(1)));
    }

    #[test]
    fn only_the_canonical_spki_is_a_token_key() {
        let mut rng = rand::rng();
        let issuer = IssuerKey::generate(&mut rng).unwrap();
        let spki = issuer.token_key().spki().to_vec();
        assert_eq!(spki.len(), 342);
        assert_eq!(TokenKey::from_spki(&spki).unwrap(), *issuer.token_key());

        // The same key spelled as a plain rsaEncryption SPKI: another identity, refused.
        let plain = issuer.token_key().key.to_der().unwrap();
        assert_eq!(TokenKey::from_spki(&plain), Err(KeyError::NotCanonical));
        // Another exponent, a short or over-long modulus, trailing bytes: refused.
        let mut exponent_3 = spki[..spki.len() - 5].to_vec();
        exponent_3.extend([0x02, 0x01, 0x03]);
        let mut small = spki.clone();
        small[SPKI_PREFIX.len()] = 0x7f;
        let mut trailing = spki.clone();
        trailing.push(0);
        for bad in [exponent_3, small, trailing, spki[1..].to_vec(), Vec::new()] {
            assert_eq!(TokenKey::from_spki(&bad), Err(KeyError::NotCanonical));
        }
        // Every byte of the fixed parts matters.
        for at in (0..SPKI_PREFIX.len()).chain(spki.len() - SPKI_EXPONENT.len()..spki.len()) {
            let mut flipped = spki.clone();
            flipped[at] ^= 0x01;
            assert!(TokenKey::from_spki(&flipped).is_err(), "byte {at} flipped and accepted");
        }
    }

    #[test]
    fn wire_lengths_are_exact() {
        assert_eq!(TOKEN_REQUEST_LEN, 259);
        assert_eq!(TOKEN_RESPONSE_LEN, 256);
        assert!(matches!(
            TokenRequest::parse(&[0; 258]),
            Err(WireError::Length { expected: 259, got: 258, .. })
        ));
        assert!(matches!(TokenRequest::parse(&[0; 259]), Err(WireError::TokenType(0))));
        assert!(TokenResponse::parse(&[0; 255]).is_err());
        assert!(TokenResponse::parse(&[0; 257]).is_err());
        assert!(Token::parse(&[0; TOKEN_LEN - 1]).is_err());
    }
}
