//! The feedback submission: answers, the author's ephemeral key, and the salt that binds
//! the token's nonce to that key — signed by the author over one canonical encoding.
//!
//! Binding the nonce to the author key means a token can only be spent with the key the
//! widget made when it fetched the token: someone who intercepts the token cannot attach
//! it to other text, and the author can later prove (to the widget, for replies) that an
//! item is theirs without anyone learning who they are.

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::b64;
use crate::canonical::Canonical;
use crate::domain::{QuestionId, RoundId};
use crate::keys::{AuthorKey, AuthorPublicKey, BadSignature, Signature};
use crate::token::{Nonce, Token};

/// The random salt mixed into the token nonce with the author key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NonceSalt(pub [u8; 32]);

impl NonceSalt {
    /// A fresh salt.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut salt = [0; 32];
        rng.fill_bytes(&mut salt);
        Self(salt)
    }

    /// The salt's bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Reads a salt from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::keys::KeyError> {
        bytes.try_into().map(Self).map_err(|_| crate::keys::KeyError::Length { expected: 32 })
    }
}

impl std::fmt::Debug for NonceSalt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NonceSalt({})", b64::encode(self.0))
    }
}

crate::b64::serde_as_base64!(NonceSalt, "a 32-byte salt in base64url");

/// The token nonce for an author key and salt:
/// SHA-256(`"candor/token-nonce/v1"` ‖ author public key ‖ salt).
pub fn bound_nonce(author: &AuthorPublicKey, salt: &NonceSalt) -> Nonce {
    let mut hash = Sha256::new();
    hash.update(b"candor/token-nonce/v1");
    hash.update(author.to_bytes());
    hash.update(salt.0);
    Nonce(hash.finalize().into())
}

/// One answer: `{"question": …, "rating": n}` or `{"question": …, "text": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The question answered.
    pub question: QuestionId,
    /// The answer.
    #[serde(flatten)]
    pub value: AnswerValue,
}

/// Reads exactly one rating or one text, and nothing else: `flatten` would take an
/// answer with both, or with fields of its own, and drop the rest unsaid.
impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            question: QuestionId,
            rating: Option<u8>,
            text: Option<FeedbackText>,
        }
        let fields = Fields::deserialize(deserializer)?;
        let value = match (fields.rating, fields.text) {
            (Some(rating), None) => AnswerValue::Rating(rating),
            (None, Some(text)) => AnswerValue::Text(text),
            _ => return Err(serde::de::Error::custom("an answer is one rating or one text")),
        };
        Ok(Self { question: fields.question, value })
    }
}

/// An answer's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerValue {
    /// Free text.
    Text(FeedbackText),
    /// A rating.
    Rating(u8),
}

/// Free text in the one form every end agrees on: normalised (see
/// [`scrub::normalise_with`](crate::scrub::normalise_with): NFKC, no invisible or
/// control characters, plain punctuation, tidy spacing), and not empty.
///
/// The widget makes one from what the person typed with the browser's NFKC
/// ([`FeedbackText::normalised_with`]). Where the Unicode tables are compiled in (the
/// server: feature `nfkc-tables`), reading one — from JSON too — checks that
/// normalising it again changes nothing, so no other form gets past the wire; without
/// them (the widget, the digest page) it can only be checked not to be empty.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FeedbackText(String);

/// Why text is not [`FeedbackText`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing is left of it.
    #[error("the text is empty")]
    Empty,
    /// Normalising it would change it.
    #[error("the text is not normalised (NFKC, no invisible or control characters, plain punctuation)")]
    NotNormalised,
}

impl FeedbackText {
    /// Normalises `input` with the caller's NFKC and bounds it to `max_chars`; `None` if
    /// nothing is left.
    pub fn normalised_with(input: &str, max_chars: usize, nfkc: impl Fn(&str) -> String) -> Option<Self> {
        Some(Self(crate::scrub::normalise_with(input, max_chars, nfkc))).filter(|text| !text.0.is_empty())
    }

    /// Normalises `input` (bounded to [`MAX_CHARS`](crate::scrub::MAX_CHARS)); `None` if
    /// nothing is left.
    #[cfg(feature = "nfkc-tables")]
    pub fn normalise(input: &str) -> Option<Self> {
        Some(Self(crate::scrub::normalise(input))).filter(|text| !text.0.is_empty())
    }

    /// Takes text that must already be normalised.
    pub fn parse(text: &str) -> Result<Self, TextError> {
        if text.is_empty() {
            return Err(TextError::Empty);
        }
        #[cfg(feature = "nfkc-tables")]
        if !crate::scrub::is_normalised(text) {
            return Err(TextError::NotNormalised);
        }
        Ok(Self(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its length in characters.
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl std::fmt::Debug for FeedbackText {
    // Feedback text never reaches logs through Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FeedbackText({} chars)", self.chars())
    }
}

impl<'de> Deserialize<'de> for FeedbackText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What the author signs: the round, the answers, their key and the nonce salt.
///
/// There is no team here on purpose: an item's team is the team of the token key its
/// token was issued under, which the issuer checked against the employee's assertion.
/// A field the writer (or the page around the widget) could fill in would let a page
/// tag one person with a team of their own, or colluders post into another team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubmissionBody {
    /// The round.
    pub round: RoundId,
    /// The answers.
    pub answers: Vec<Answer>,
    /// The author's ephemeral public key.
    pub author_key: AuthorPublicKey,
    /// The salt that, with the author key, gives the token nonce.
    pub nonce_salt: NonceSalt,
}

impl SubmissionBody {
    /// The canonical bytes the author signs.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Canonical::new("candor/submission/v2");
        out.bytes(&self.round.to_bytes());
        out.u32(u32::try_from(self.answers.len()).unwrap_or(u32::MAX));
        for answer in &self.answers {
            out.str(answer.question.as_str());
            match &answer.value {
                AnswerValue::Text(text) => out.tag(1).str(text.as_str()),
                AnswerValue::Rating(value) => out.tag(2).tag(*value),
            };
        }
        out.bytes(&self.author_key.to_bytes()).bytes(&self.nonce_salt.0);
        out.finish()
    }

    /// The nonce a token spent with this body must carry.
    pub fn nonce(&self) -> Nonce {
        bound_nonce(&self.author_key, &self.nonce_salt)
    }

    /// Author: signs the body with the key it names.
    pub fn sign(self, key: &AuthorKey) -> Result<Submission, SubmissionError> {
        if key.public_key() != self.author_key {
            return Err(SubmissionError::KeyMismatch);
        }
        let signature = key.sign(&self.canonical_bytes());
        Ok(Submission { body: self, signature })
    }
}

/// The JSON body of `POST /v1/feedback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Submission {
    /// What was signed.
    #[serde(flatten)]
    pub body: SubmissionBody,
    /// The author's signature over the body's canonical bytes.
    pub signature: Signature,
}

/// Why a submission is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    /// Signed with a key other than the one named in the body.
    #[error("the body names another author key")]
    KeyMismatch,
    /// The author's signature does not verify.
    #[error(transparent)]
    Signature(#[from] BadSignature),
    /// The token's nonce is not bound to this author key and salt.
    #[error("the token is not bound to this submission's author key")]
    NonceBinding,
}

impl Submission {
    /// Server: checks the author's signature and that `token` was obtained for this
    /// author key. (The token itself is verified with [`Token::verify`].)
    pub fn verify(&self, token: &Token) -> Result<(), SubmissionError> {
        self.body.author_key.verify(&self.body.canonical_bytes(), &self.signature)?;
        if token.nonce() != &self.body.nonce() {
            return Err(SubmissionError::NonceBinding);
        }
        Ok(())
    }

    /// The item's hash: SHA-256 over a label, the canonical body and the signature. It
    /// is what the receipt and the ledger name.
    pub fn item_hash(&self) -> ItemHash {
        let mut hash = Sha256::new();
        hash.update(b"candor/item/v1");
        hash.update(self.body.canonical_bytes());
        hash.update(self.signature.0);
        ItemHash(hash.finalize().into())
    }
}

/// The hash that identifies a stored item.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemHash(pub [u8; 32]);

impl ItemHash {
    /// The hash's bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Reads a hash from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::keys::KeyError> {
        bytes.try_into().map(Self).map_err(|_| crate::keys::KeyError::Length { expected: 32 })
    }
}

impl std::fmt::Debug for ItemHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ItemHash({})", b64::encode(self.0))
    }
}

crate::b64::serde_as_base64!(ItemHash, "a 32-byte item hash in base64url");
