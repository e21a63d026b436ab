//! # candor-protocol
//!
//! Candor's wire formats and cryptography, shared by the widget (wasm32, in the
//! browser) and the server (native). It does no I/O: no network, no files, no clock.
//! Every function that needs randomness takes the RNG as an argument, so tests can
//! replay the RFCs' vectors with a deterministic one.
//!
//! * [`token`] — Privacy Pass publicly verifiable tokens, type 0x0002 (RFC 9474 blind
//!   RSA, RFC 9578 §6 wire format); [`directory`] — the issuer directory (RFC 9578 §4);
//!   [`http_auth`] — the `PrivateToken` HTTP scheme (RFC 9577).
//! * [`keys`] — Ed25519 keys by role: organisation (manifests), server (receipts),
//!   author (submissions).
//! * [`manifest`], [`submission`], [`receipt`] — what is signed, in one canonical
//!   encoding each.
//! * [`scrub`] — normalisation, detection and redaction of identifying details.
//! * [`api`] — the JSON bodies of the HTTP API, and the checks a client makes on them.
//!
//! ## The whole flow
//!
//! ```
//! use candor_protocol::{http_auth, scrub};
//! use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
//! use candor_protocol::keys::{AuthorKey, OrganisationKey, ReceiptKey};
//! use candor_protocol::manifest::{Question, QuestionKind, RatingScale, Release, RoundManifest};
//! use candor_protocol::receipt::Receipt;
//! use candor_protocol::submission::{bound_nonce, Answer, AnswerValue, NonceSalt, SubmissionBody};
//! use candor_protocol::token::{IssuerKey, TokenRequest, TokenResponse};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = rand::rng();
//!
//! // ── Operator (`candor init`, `candor round open`) ────────────────────────────
//! let organisation = OrganisationKey::generate(&mut rng); // public half pinned in widgets
//! let receipt_key = ReceiptKey::generate(&mut rng);
//! let round_key = IssuerKey::generate(&mut rng)?; // RSA-2048, one per round
//! let signed = RoundManifest {
//!     round: RoundId::generate(&mut rng),
//!     scope: Scope::parse("acme/eng")?,
//!     questions: vec![
//!         Question {
//!             id: QuestionId::parse("enps")?,
//!             prompt: "How likely are you to recommend working here?".into(),
//!             kind: QuestionKind::Rating { scale: RatingScale::Enps },
//!         },
//!         Question {
//!             id: QuestionId::parse("text")?,
//!             prompt: "What should your leader hear?".into(),
//!             kind: QuestionKind::Text { max_chars: 2000 },
//!         },
//!     ],
//!     opens: Day::parse("2026-11-02")?,
//!     closes: Day::parse("2026-11-27")?,
//!     threshold: 5,
//!     tokens_per_person: 1,
//!     release: Release::AtClose,
//!     send_delay_minutes: 30,
//!     issuer_name: "candor.acme.example".into(),
//!     origin: "candor.acme.example".into(),
//!     token_key_id: round_key.token_key().id(),
//!     receipt_key: receipt_key.public_key(),
//! }
//! .sign(&organisation)?;
//! let manifest_json = serde_json::to_string(&signed)?;
//!
//! // ── Client (widget), on page load ─────────────────────────────────────────────
//! let pinned = organisation.public_key();
//! let signed: candor_protocol::manifest::SignedManifest = serde_json::from_str(&manifest_json)?;
//! let manifest = signed.verify(&pinned)?; // refuse any manifest the org did not sign
//! let token_key = round_key.token_key().clone(); // as fetched from the issuer directory
//! manifest.check_token_key(&token_key)?; // refuse a key that could single us out
//! let author = AuthorKey::generate(&mut rng);
//! let salt = NonceSalt::generate(&mut rng);
//! let nonce = bound_nonce(&author.public_key(), &salt);
//! let (request, pending) = TokenRequest::blind(&mut rng, &token_key, &manifest.token_challenge(), nonce)?;
//! let request_body = request.to_bytes(); // POST, application/private-token-request
//! assert_eq!(request_body.len(), 259);
//!
//! // ── Server (issuer), after checking the assertion and the quota ──────────────
//! let response = round_key.blind_sign(&TokenRequest::parse(&request_body)?)?;
//! let response_body = response.to_bytes(); // application/private-token-response
//! assert_eq!(response_body.len(), 256);
//!
//! // ── Client: finalize, then write ──────────────────────────────────────────────
//! let token = pending.finalize(&TokenResponse::parse(&response_body)?)?;
//! let typed = "The on\u{2011}call rota is \u{201C}fine\u{201D}\u{200B}\u{2026} Thanks, Anna";
//! let text = scrub::normalise(typed);
//! let findings = scrub::detect(&text);
//! assert_eq!(findings[0].kind, scrub::FindingKind::SignOff);
//! let text = scrub::redact(&text, &findings); // the person chose to redact
//! assert_eq!(text, "The on-call rota is \"fine\"... Thanks, [name]");
//! let submission = SubmissionBody {
//!     round: manifest.round,
//!     scope: Scope::parse("acme/eng/platform")?, // the author's team, from the intranet
//!     answers: vec![
//!         Answer { question: QuestionId::parse("enps")?, value: AnswerValue::Rating(7) },
//!         Answer { question: QuestionId::parse("text")?, value: AnswerValue::Text(text) },
//!     ],
//!     author_key: author.public_key(),
//!     nonce_salt: salt,
//! }
//! .sign(&author)?;
//! let authorization = http_auth::authorization_value(&token);
//! let body = serde_json::to_string(&submission)?; // POST /v1/feedback, after a random delay
//!
//! // ── Server (feedback endpoint) ────────────────────────────────────────────────
//! let token = http_auth::parse_authorization(&authorization)?;
//! let submission: candor_protocol::submission::Submission = serde_json::from_str(&body)?;
//! token.verify(&token_key, &manifest.token_challenge())?; // issued for this round
//! submission.verify(&token)?; // signed by the author key the token is bound to
//! manifest.check_submission(&submission.body)?; // round, team scope, answers
//! // … one transaction: mark token.spend_id() spent, store the item; commit; then:
//! let receipt = Receipt { round: manifest.round, item: submission.item_hash() }.sign(&receipt_key);
//!
//! // ── Client: keep the receipt once it verifies ─────────────────────────────────
//! let expected = Receipt { round: manifest.round, item: submission.item_hash() };
//! receipt.verify(&manifest.receipt_key, &expected)?;
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod b64;
mod canonical;
pub mod directory;
pub mod domain;
pub mod http_auth;
pub mod keys;
pub mod manifest;
pub mod receipt;
pub mod scrub;
pub mod submission;
pub mod token;
