//! Manifests, submissions and receipts: signatures, bindings and answer rules.

use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
use candor_protocol::keys::{AuthorKey, OrganisationKey, ReceiptKey};
use candor_protocol::manifest::{
    AnswerError, ManifestError, Question, QuestionKind, RatingScale, Release, RoundManifest, SignedManifest,
};
use candor_protocol::receipt::{Receipt, ReceiptError};
use candor_protocol::submission::{
    Answer, AnswerValue, NonceSalt, Submission, SubmissionBody, SubmissionError, bound_nonce,
};
use candor_protocol::token::{IssuerKey, Token, TokenRequest};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

struct Fixture {
    rng: StdRng,
    organisation: OrganisationKey,
    receipt_key: ReceiptKey,
    issuer: IssuerKey,
    manifest: RoundManifest,
}

fn fixture() -> Fixture {
    let mut rng = StdRng::seed_from_u64(7);
    let organisation = OrganisationKey::generate(&mut rng);
    let receipt_key = ReceiptKey::generate(&mut rng);
    let issuer = IssuerKey::generate(&mut rng).expect("key");
    let manifest = RoundManifest {
        round: RoundId::generate(&mut rng),
        scope: Scope::parse("acme/eng").expect("scope"),
        questions: vec![
            Question {
                id: QuestionId::parse("enps").expect("id"),
                prompt: "Recommend?".into(),
                kind: QuestionKind::Rating { scale: RatingScale::Enps },
            },
            Question {
                id: QuestionId::parse("mood").expect("id"),
                prompt: "I feel heard".into(),
                kind: QuestionKind::Rating { scale: RatingScale::Likert },
            },
            Question {
                id: QuestionId::parse("text").expect("id"),
                prompt: "Tell us".into(),
                kind: QuestionKind::Text { max_chars: 20 },
            },
        ],
        opens: Day::parse("2026-11-01").expect("day"),
        closes: Day::parse("2026-11-30").expect("day"),
        threshold: 5,
        tokens_per_person: 1,
        release: Release::AtClose,
        send_delay_minutes: 20,
        issuer_name: "candor.example".into(),
        origin: "candor.example".into(),
        token_key_id: issuer.token_key().id(),
        receipt_key: receipt_key.public_key(),
    };
    Fixture { rng, organisation, receipt_key, issuer, manifest }
}

fn answer(question: &str, value: AnswerValue) -> Answer {
    Answer { question: QuestionId::parse(question).expect("id"), value }
}

#[test]
fn manifests_verify_only_under_the_organisation_key() {
    let mut f = fixture();
    let signed = f.manifest.clone().sign(&f.organisation).expect("sign");
    let json = serde_json::to_string(&signed).expect("json");
    let parsed: SignedManifest = serde_json::from_str(&json).expect("parse");
    assert_eq!(parsed.verify(&f.organisation.public_key()).expect("verifies"), &f.manifest);
    parsed.manifest.check_token_key(f.issuer.token_key()).expect("same key");

    let impostor = OrganisationKey::generate(&mut f.rng);
    assert!(matches!(parsed.verify(&impostor.public_key()), Err(ManifestError::Signature(_))));

    // Every field is covered by the signature: change one, and it no longer verifies.
    let mut tampered = parsed.clone();
    tampered.manifest.threshold = 3;
    assert!(tampered.verify(&f.organisation.public_key()).is_err());
    let mut tampered = parsed.clone();
    tampered.manifest.questions[2].prompt.push('!');
    assert!(tampered.verify(&f.organisation.public_key()).is_err());
    let mut tampered = parsed;
    let other_key = IssuerKey::generate(&mut f.rng).expect("key");
    tampered.manifest.token_key_id = other_key.token_key().id();
    assert!(tampered.verify(&f.organisation.public_key()).is_err());

    // A per-user key is refused even under a genuine manifest.
    assert_eq!(f.manifest.check_token_key(other_key.token_key()), Err(ManifestError::TokenKey));
}

#[test]
fn manifest_rules() {
    let f = fixture();
    let mut low = f.manifest.clone();
    low.threshold = 2;
    assert_eq!(low.sign(&f.organisation).unwrap_err(), ManifestError::Threshold);
    let mut backwards = f.manifest.clone();
    backwards.closes = Day::parse("2026-10-01").expect("day");
    assert_eq!(backwards.sign(&f.organisation).unwrap_err(), ManifestError::Dates);
    let mut twice = f.manifest.clone();
    twice.questions.push(twice.questions[0].clone());
    assert_eq!(twice.sign(&f.organisation).unwrap_err(), ManifestError::Questions);
    let mut slow = f.manifest.clone();
    slow.send_delay_minutes = candor_protocol::manifest::MAX_SEND_DELAY_MINUTES + 1;
    assert_eq!(slow.sign(&f.organisation).unwrap_err(), ManifestError::SendDelay);
    let mut none = f.manifest;
    none.questions.clear();
    assert_eq!(none.sign(&f.organisation).unwrap_err(), ManifestError::Questions);
}

#[test]
fn answers_must_fit_the_questions() {
    let f = fixture();
    let m = &f.manifest;
    let ok = [answer("enps", AnswerValue::Rating(10)), answer("text", AnswerValue::Text("fine".into()))];
    assert_eq!(m.check_answers(&ok), Ok(()));
    assert_eq!(m.check_answers(&[]), Err(AnswerError::Empty));
    let cases = [
        (answer("nope", AnswerValue::Rating(1)), AnswerError::UnknownQuestion("nope".into())),
        (answer("enps", AnswerValue::Rating(11)), AnswerError::OutOfRange("enps".into())),
        (answer("mood", AnswerValue::Rating(0)), AnswerError::OutOfRange("mood".into())),
        (answer("enps", AnswerValue::Text("7".into())), AnswerError::WrongKind("enps".into())),
        (answer("text", AnswerValue::Text(String::new())), AnswerError::EmptyText("text".into())),
        (answer("text", AnswerValue::Text("x".repeat(21))), AnswerError::TooLong("text".into(), 20)),
        (answer("text", AnswerValue::Text("a\u{200B}b".into())), AnswerError::NotNormalised("text".into())),
    ];
    for (bad, expected) in cases {
        assert_eq!(m.check_answers(&[bad]), Err(expected));
    }
    let twice = [answer("enps", AnswerValue::Rating(1)), answer("enps", AnswerValue::Rating(2))];
    assert_eq!(m.check_answers(&twice), Err(AnswerError::Duplicate("enps".into())));
}

fn token_for(f: &mut Fixture, body: &SubmissionBody) -> Token {
    let challenge = f.manifest.token_challenge();
    let (request, pending) =
        TokenRequest::blind(&mut f.rng, f.issuer.token_key(), &challenge, body.nonce()).expect("blind");
    pending.finalize(&f.issuer.blind_sign(&request).expect("sign")).expect("finalize")
}

#[test]
fn submissions_bind_token_author_and_body() {
    let mut f = fixture();
    let author = AuthorKey::generate(&mut f.rng);
    let salt = NonceSalt::generate(&mut f.rng);
    let body = SubmissionBody {
        round: f.manifest.round,
        scope: Scope::parse("acme/eng/platform").expect("scope"),
        answers: vec![answer("text", AnswerValue::Text("ok".into()))],
        author_key: author.public_key(),
        nonce_salt: salt,
    };
    assert_eq!(body.nonce(), bound_nonce(&author.public_key(), &salt));
    let token = token_for(&mut f, &body);
    let submission = body.clone().sign(&author).expect("sign");
    let json = serde_json::to_value(&submission).expect("json");
    assert_eq!(json["answers"][0], serde_json::json!({"question": "text", "text": "ok"}));
    let parsed: Submission = serde_json::from_value(json).expect("parse");
    assert_eq!(parsed.verify(&token), Ok(()));
    assert_eq!(f.manifest.check_submission(&parsed.body), Ok(()));
    let elsewhere = SubmissionBody { scope: Scope::parse("acme/sales").expect("scope"), ..body.clone() };
    assert_eq!(f.manifest.check_submission(&elsewhere), Err(AnswerError::ScopeOutside("acme/sales".into())));
    let other_round = SubmissionBody { round: RoundId::generate(&mut f.rng), ..body.clone() };
    assert_eq!(f.manifest.check_submission(&other_round), Err(AnswerError::WrongRound));

    // Someone else's key cannot sign this body.
    let thief = AuthorKey::generate(&mut f.rng);
    assert_eq!(body.clone().sign(&thief).unwrap_err(), SubmissionError::KeyMismatch);

    // The text cannot change after signing.
    let mut edited = submission.clone();
    edited.body.answers[0].value = AnswerValue::Text("not ok".into());
    assert!(matches!(edited.verify(&token), Err(SubmissionError::Signature(_))));

    // A token obtained for another author key cannot be spent with this one.
    let other_body = SubmissionBody { author_key: thief.public_key(), ..body.clone() };
    let stolen = token_for(&mut f, &other_body);
    assert_eq!(submission.verify(&stolen), Err(SubmissionError::NonceBinding));

    // Another salt gives another nonce.
    let resalted = SubmissionBody { nonce_salt: NonceSalt::generate(&mut f.rng), ..body };
    let resalted = resalted.sign(&author).expect("sign");
    assert_eq!(resalted.verify(&token), Err(SubmissionError::NonceBinding));
}

#[test]
fn receipts_name_the_item_and_verify_under_the_server_key() {
    let mut f = fixture();
    let author = AuthorKey::generate(&mut f.rng);
    let body = SubmissionBody {
        round: f.manifest.round,
        scope: Scope::parse("acme/eng/platform").expect("scope"),
        answers: vec![answer("enps", AnswerValue::Rating(3))],
        author_key: author.public_key(),
        nonce_salt: NonceSalt::generate(&mut f.rng),
    };
    let submission = body.sign(&author).expect("sign");
    let expected = Receipt { round: f.manifest.round, item: submission.item_hash() };
    let receipt = expected.sign(&f.receipt_key);
    let json = serde_json::to_string(&receipt).expect("json");
    let parsed: candor_protocol::receipt::SignedReceipt = serde_json::from_str(&json).expect("parse");
    assert_eq!(parsed.verify(&f.manifest.receipt_key, &expected), Ok(()));

    let impostor = ReceiptKey::generate(&mut f.rng).public_key();
    assert!(matches!(parsed.verify(&impostor, &expected), Err(ReceiptError::Signature(_))));
    let other_item = Receipt { item: candor_protocol::submission::ItemHash([0; 32]), ..expected };
    assert_eq!(parsed.verify(&f.manifest.receipt_key, &other_item), Err(ReceiptError::WrongItem));
}
