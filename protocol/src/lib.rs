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
//! * [`schedule`] — when the widget sends a queued item.
//! * [`assertion`] — the intranet's eligibility assertion, as a client checks it.
//!
//! ## The whole flow
//!
//! ```
//! use candor_protocol::{http_auth, scrub};
//! use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
//! use candor_protocol::keys::{AuthorKey, OrganisationKey, ReceiptKey};
//! use candor_protocol::api::{ClientView, OpenRound};
//! use candor_protocol::manifest::{Question, QuestionKind, RatingScale, Release, RoundManifest, Team};
//! use candor_protocol::receipt::Receipt;
//! use candor_protocol::submission::{bound_nonce, Answer, AnswerValue, FeedbackText, NonceSalt, SubmissionBody};
//! use candor_protocol::token::{IssuerKey, TokenRequest, TokenResponse};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = rand::rng();
//!
//! // ── Operator (`candor init`, `candor round open`) ────────────────────────────
//! let organisation = OrganisationKey::generate(&mut rng); // public half pinned in widgets
//! let receipt_key = ReceiptKey::generate(&mut rng);
//! // RSA-2048, one per team of the round: the key a token was issued under is the team
//! // its item speaks for, so nobody can claim another team afterwards.
//! let eng_key = IssuerKey::generate(&mut rng)?;
//! let platform_key = IssuerKey::generate(&mut rng)?;
//! let signed = RoundManifest {
//!     round: RoundId::generate(&mut rng),
//!     scope: Scope::parse("acme/eng")?,
//!     teams: vec![
//!         Team { scope: Scope::parse("acme/eng")?, token_key_id: eng_key.token_key().id() },
//!         Team { scope: Scope::parse("acme/eng/platform")?, token_key_id: platform_key.token_key().id() },
//!     ],
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
//!     time_zone: "UTC".into(),
//!     opens_at: Day::parse("2026-11-02")?.utc_midnight(),
//!     closes_at: Day::parse("2026-11-28")?.utc_midnight(), // the end of the last day
//!     threshold: 5,
//!     tokens_per_person: 1,
//!     release: Release::AtClose,
//!     send_delay_minutes: 30,
//!     issuer_name: "candor.acme.example".into(),
//!     origin: "candor.acme.example".into(),
//!     receipt_key: receipt_key.public_key(),
//!     id_patterns: vec!["EMP-[0-9]{6}".into()],
//!     keep_on_device_days: 30,
//! }
//! .sign(&organisation)?;
//! // GET /v1/rounds: every open round, the same list for every widget.
//! let offered = serde_json::to_string(&[OpenRound::new(
//!     signed,
//!     &[eng_key.token_key(), platform_key.token_key()],
//! )])?;
//!
//! // ── Client (widget), on page load ─────────────────────────────────────────────
//! let pinned = organisation.public_key();
//! let scopes = [Scope::parse("acme/eng/platform")?]; // the assertion's, from the intranet
//! let offered: Vec<OpenRound> = serde_json::from_str(&offered)?;
//! // Refuse any manifest the org did not sign, any key it did not name, and any round
//! // that is not open now, not this server's, or has no team for us.
//! let (round, team) = offered[0].verify_for(&ClientView {
//!     organisation: &pinned,
//!     server_host: "candor.acme.example",
//!     scopes: &scopes,
//!     now: Day::parse("2026-11-10")?.utc_midnight(),
//! })?;
//! let manifest = &round.manifest;
//! assert_eq!(team.scope.as_str(), "acme/eng/platform");
//! let token_key = round.key_of(&team).expect("verified").clone();
//! let author = AuthorKey::generate(&mut rng);
//! let salt = NonceSalt::generate(&mut rng);
//! let nonce = bound_nonce(&author.public_key(), &salt);
//! let (request, pending) = TokenRequest::blind(&mut rng, &token_key, &manifest.token_challenge(), nonce)?;
//! let request_body = request.to_bytes(); // POST, application/private-token-request
//! assert_eq!(request_body.len(), 259);
//!
//! // ── Server (issuer), after checking that the assertion names this team, and the quota
//! let request = TokenRequest::parse(&request_body)?;
//! assert_eq!(request.truncated_key_id(), platform_key.token_key().id().truncated());
//! let response = platform_key.blind_sign(&request)?;
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
//!     answers: vec![
//!         Answer { question: QuestionId::parse("enps")?, value: AnswerValue::Rating(7) },
//!         Answer { question: QuestionId::parse("text")?, value: AnswerValue::Text(FeedbackText::parse(&text)?) },
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
//! let team = manifest.team_of_key(token.token_key_id()).expect("a key of this round");
//! let key = if team.scope.as_str() == "acme/eng" { eng_key.token_key() } else { platform_key.token_key() };
//! token.verify(key, &manifest.token_challenge())?; // issued for this round and team
//! submission.verify(&token)?; // signed by the author key the token is bound to
//! manifest.check_submission(&submission.body)?; // round and answers; the team is the key's
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
pub mod assertion;
pub mod b64;
mod canonical;
pub mod directory;
pub mod domain;
pub mod http_auth;
pub mod keys;
pub mod ledger;
pub mod manifest;
pub mod receipt;
pub mod schedule;
#[cfg(feature = "schema")]
mod schema;
pub mod scrub;
pub mod submission;
pub mod token;
