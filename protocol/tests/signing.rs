//! Manifests, submissions and receipts: signatures, bindings and answer rules.

use candor_protocol::api::{ClientView, OpenRound, RoundRefusal};
use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
use candor_protocol::keys::{AuthorKey, OrganisationKey, ReceiptKey};
use candor_protocol::manifest::{
    AnswerError, ManifestError, Question, QuestionKind, RatingScale, Release, RoundManifest, SignedManifest,
    Team,
};
use candor_protocol::receipt::{Receipt, ReceiptError};
use candor_protocol::submission::{
    Answer, AnswerValue, FeedbackText, NonceSalt, Submission, SubmissionBody, SubmissionError, TextError,
    bound_nonce,
};
use candor_protocol::token::{IssuerKey, Token, TokenRequest};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

struct Fixture {
    rng: StdRng,
    organisation: OrganisationKey,
    receipt_key: ReceiptKey,
    /// The key of the round's own scope, acme/eng.
    issuer: IssuerKey,
    /// The key of its team acme/eng/platform.
    platform: IssuerKey,
    manifest: RoundManifest,
}

const OPENS_AT: u64 = 1_793_487_600; // 2026-11-01 00:00 in Europe/Berlin (UTC+1)
const CLOSES_AT: u64 = 1_796_079_600; // 2026-12-01 00:00 there: the end of 2026-11-30

fn fixture() -> Fixture {
    let mut rng = StdRng::seed_from_u64(7);
    let organisation = OrganisationKey::generate(&mut rng);
    let receipt_key = ReceiptKey::generate(&mut rng);
    let issuer = IssuerKey::generate(&mut rng).expect("key");
    let platform = IssuerKey::generate(&mut rng).expect("key");
    let manifest = RoundManifest {
        round: RoundId::generate(&mut rng),
        scope: Scope::parse("acme/eng").expect("scope"),
        teams: vec![
            Team { scope: Scope::parse("acme/eng").expect("scope"), token_key_id: issuer.token_key().id() },
            Team {
                scope: Scope::parse("acme/eng/platform").expect("scope"),
                token_key_id: platform.token_key().id(),
            },
        ],
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
        time_zone: "Europe/Berlin".into(),
        opens_at: OPENS_AT,
        closes_at: CLOSES_AT,
        threshold: 5,
        tokens_per_person: 1,
        release: Release::AtClose,
        send_delay_minutes: 20,
        issuer_name: "candor.example".into(),
        origin: "candor.example".into(),
        receipt_key: receipt_key.public_key(),
        id_patterns: vec!["EMP-[0-9]{6}".into()],
        keep_on_device_days: 30,
    };
    Fixture { rng, organisation, receipt_key, issuer, platform, manifest }
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
    let eng = Scope::parse("acme/eng").expect("scope");
    let platform = Scope::parse("acme/eng/platform").expect("scope");
    parsed.manifest.check_token_key(&eng, f.issuer.token_key()).expect("same key");
    parsed.manifest.check_token_key(&platform, f.platform.token_key()).expect("same key");
    // One team's key is not another's.
    assert_eq!(parsed.manifest.check_token_key(&eng, f.platform.token_key()), Err(ManifestError::TokenKey));

    let impostor = OrganisationKey::generate(&mut f.rng);
    assert!(matches!(parsed.verify(&impostor.public_key()), Err(ManifestError::Signature(_))));

    // Every field is covered by the signature: change one, and it no longer verifies.
    let mut tampered = parsed.clone();
    tampered.manifest.threshold = 3;
    assert!(tampered.verify(&f.organisation.public_key()).is_err());
    let mut tampered = parsed.clone();
    tampered.manifest.questions[2].prompt.push('!');
    assert!(tampered.verify(&f.organisation.public_key()).is_err());
    let other_key = IssuerKey::generate(&mut f.rng).expect("key");
    let mut tampered = parsed.clone();
    tampered.manifest.teams[1].token_key_id = other_key.token_key().id();
    assert!(tampered.verify(&f.organisation.public_key()).is_err());
    let mut tampered = parsed.clone();
    tampered.manifest.teams[1].scope = Scope::parse("acme/eng/tagged-one-person").expect("scope");
    assert!(tampered.verify(&f.organisation.public_key()).is_err());
    let mut tampered = parsed.clone();
    tampered.manifest.closes_at += 86_400;
    assert!(tampered.verify(&f.organisation.public_key()).is_err());
    let mut tampered = parsed;
    tampered.manifest.id_patterns.clear();
    assert!(tampered.verify(&f.organisation.public_key()).is_err());

    // A per-user key is refused even under a genuine manifest.
    assert_eq!(f.manifest.check_token_key(&platform, other_key.token_key()), Err(ManifestError::TokenKey));
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
    let mut none = f.manifest.clone();
    none.questions.clear();
    assert_eq!(none.sign(&f.organisation).unwrap_err(), ManifestError::Questions);
    let mut early_close = f.manifest.clone();
    early_close.closes_at = f.manifest.opens_at;
    assert_eq!(early_close.sign(&f.organisation).unwrap_err(), ManifestError::Dates);
    let mut far = f.manifest.clone();
    far.closes_at += 2 * 86_400; // an instant that is not the end of the closing day anywhere
    assert_eq!(far.sign(&f.organisation).unwrap_err(), ManifestError::Dates);
    let mut zone = f.manifest.clone();
    zone.time_zone = "Europe/Berlin; DROP".into();
    assert_eq!(zone.sign(&f.organisation).unwrap_err(), ManifestError::TimeZone);
    let mut patterns = f.manifest.clone();
    patterns.id_patterns = vec!["x".repeat(201)];
    assert_eq!(patterns.sign(&f.organisation).unwrap_err(), ManifestError::IdPatterns);
    let mut keep = f.manifest.clone();
    keep.keep_on_device_days = 401;
    assert_eq!(keep.sign(&f.organisation).unwrap_err(), ManifestError::KeepOnDevice);

    // Teams: in scope order, within the round, including its own scope, one key each.
    let team = |scope: &str, key: &IssuerKey| Team {
        scope: Scope::parse(scope).expect("scope"),
        token_key_id: key.token_key().id(),
    };
    for teams in [
        vec![],
        vec![team("acme/eng/platform", &f.platform)],
        vec![team("acme/eng/platform", &f.platform), team("acme/eng", &f.issuer)],
        vec![team("acme/eng", &f.issuer), team("acme/sales", &f.platform)],
        vec![team("acme/eng", &f.issuer), team("acme/eng/platform", &f.issuer)],
        vec![team("acme/eng", &f.issuer), team("acme/eng", &f.platform)],
    ] {
        let manifest = RoundManifest { teams: teams.clone(), ..f.manifest.clone() };
        assert_eq!(manifest.sign(&f.organisation).unwrap_err(), ManifestError::Teams, "{teams:?}");
    }
}

#[test]
fn a_member_answers_as_the_deepest_team_that_contains_them() {
    let f = fixture();
    let m = &f.manifest;
    let scopes = |list: &[&str]| list.iter().map(|s| Scope::parse(s).expect("scope")).collect::<Vec<_>>();
    let names = |teams: Vec<&Team>| teams.iter().map(|t| t.scope.to_string()).collect::<Vec<_>>();
    assert_eq!(names(m.teams_for(&scopes(&["acme/eng/platform/sre"]))), ["acme/eng/platform"]);
    assert_eq!(names(m.teams_for(&scopes(&["acme/eng/platform"]))), ["acme/eng/platform"]);
    // A unit the round does not list answers as the round's own scope.
    assert_eq!(names(m.teams_for(&scopes(&["acme/eng/data"]))), ["acme/eng"]);
    assert_eq!(names(m.teams_for(&scopes(&["acme/sales", "acme/eng/data"]))), ["acme/eng"]);
    assert!(m.teams_for(&scopes(&["acme/sales", "acme"])).is_empty());
    assert_eq!(
        names(m.teams_for(&scopes(&["acme/eng/web", "acme/eng/platform", "acme/eng"]))),
        ["acme/eng", "acme/eng/platform"]
    );
    assert_eq!(
        m.team_of_key(f.platform.token_key().id()).map(|t| t.scope.as_str()),
        Some("acme/eng/platform")
    );
    assert!(m.is_open_at(OPENS_AT) && m.is_open_at(CLOSES_AT - 1));
    assert!(!m.is_open_at(OPENS_AT - 1) && !m.is_open_at(CLOSES_AT));
}

#[test]
fn a_client_refuses_a_round_that_is_not_for_it_here_and_now() {
    let f = fixture();
    let signed = f.manifest.clone().sign(&f.organisation).expect("sign");
    let offered = OpenRound::new(signed.clone(), &[f.issuer.token_key(), f.platform.token_key()]);
    let organisation = f.organisation.public_key();
    let platform = [Scope::parse("acme/eng/platform/sre").expect("scope")];
    let view = ClientView {
        organisation: &organisation,
        server_host: "candor.example",
        scopes: &platform,
        now: OPENS_AT + 3_600,
    };
    let (round, team) = offered.verify_for(&view).expect("accepted");
    assert_eq!(team.scope.as_str(), "acme/eng/platform");
    assert_eq!(round.key_of(&team), Some(f.platform.token_key()));

    // A day of clock skew either side, and no more: last quarter's genuine round is refused.
    assert!(offered.verify_for(&ClientView { now: OPENS_AT - 86_000, ..view }).is_ok());
    assert!(offered.verify_for(&ClientView { now: CLOSES_AT + 86_000, ..view }).is_ok());
    for now in [OPENS_AT - 86_401, CLOSES_AT + 86_400, CLOSES_AT + 90 * 86_400] {
        assert_eq!(
            offered.verify_for(&ClientView { now, ..view }).unwrap_err(),
            RoundRefusal::NotOpen,
            "{now}"
        );
    }
    assert_eq!(
        offered.verify_for(&ClientView { server_host: "candor.evil.example", ..view }).unwrap_err(),
        RoundRefusal::OtherServer
    );
    let sales = [Scope::parse("acme/sales").expect("scope")];
    assert_eq!(
        offered.verify_for(&ClientView { scopes: &sales, ..view }).unwrap_err(),
        RoundRefusal::NotYourTeam
    );

    // Keys: missing, swapped between teams, or malformed.
    let short = OpenRound::new(signed.clone(), &[f.issuer.token_key()]);
    assert_eq!(short.verify_for(&view).unwrap_err(), RoundRefusal::MalformedKey);
    let swapped = OpenRound::new(signed.clone(), &[f.platform.token_key(), f.issuer.token_key()]);
    assert_eq!(swapped.verify_for(&view).unwrap_err(), RoundRefusal::OtherKey);
    // A key that is not a canonical token key does not even parse: keys are typed on the wire.
    let mut garbled = serde_json::to_value(&offered).expect("json");
    garbled["token_keys"][1] = "AAAA".into();
    assert!(serde_json::from_value::<OpenRound>(garbled).is_err());
    let impostor = OrganisationKey::generate(&mut StdRng::seed_from_u64(9)).public_key();
    assert!(matches!(
        offered.verify_for(&ClientView { organisation: &impostor, ..view }),
        Err(RoundRefusal::Manifest(ManifestError::Signature(_)))
    ));
}

#[test]
fn answers_must_fit_the_questions() {
    let f = fixture();
    let m = &f.manifest;
    let ok = [answer("enps", AnswerValue::Rating(10)), answer("text", AnswerValue::Text(text("fine")))];
    assert_eq!(m.check_answers(&ok), Ok(()));
    assert_eq!(m.check_answers(&[]), Err(AnswerError::Empty));
    let cases = [
        (answer("nope", AnswerValue::Rating(1)), AnswerError::UnknownQuestion("nope".into())),
        (answer("enps", AnswerValue::Rating(11)), AnswerError::OutOfRange("enps".into())),
        (answer("mood", AnswerValue::Rating(0)), AnswerError::OutOfRange("mood".into())),
        (answer("enps", AnswerValue::Text(text("7"))), AnswerError::WrongKind("enps".into())),
        (answer("text", AnswerValue::Text(text(&"x".repeat(21)))), AnswerError::TooLong("text".into(), 20)),
    ];
    for (bad, expected) in cases {
        assert_eq!(m.check_answers(&[bad]), Err(expected));
    }
    let twice = [answer("enps", AnswerValue::Rating(1)), answer("enps", AnswerValue::Rating(2))];
    assert_eq!(m.check_answers(&twice), Err(AnswerError::Duplicate("enps".into())));
}

fn text(text: &str) -> FeedbackText {
    FeedbackText::parse(text).expect("normalised text")
}

#[test]
fn feedback_text_is_normalised_and_not_empty_from_the_wire_on() {
    assert_eq!(FeedbackText::parse(""), Err(TextError::Empty));
    assert_eq!(FeedbackText::parse("a\u{200B}b"), Err(TextError::NotNormalised));
    assert_eq!(FeedbackText::parse("\u{FB01}ne"), Err(TextError::NotNormalised), "NFKC: the ligature");
    assert_eq!(FeedbackText::normalise("\u{FB01}ne \u{200B} ").expect("text").as_str(), "fine");
    assert_eq!(FeedbackText::normalise(" \u{200B} "), None, "nothing is left");
    for bad in [r#"{"question":"text","text":""}"#, r#"{"question":"text","text":"a\u200Bb"}"#] {
        let error = serde_json::from_str::<Answer>(bad).expect_err(bad).to_string();
        assert!(error.contains("empty") || error.contains("not normalised"), "{bad}: {error}");
    }
    let ok: Answer = serde_json::from_str(r#"{"question":"text","text":"fine"}"#).expect("ok");
    assert_eq!(ok.value, AnswerValue::Text(text("fine")));
    assert_eq!(format!("{:?}", ok.value), "Text(FeedbackText(4 chars))", "no text in Debug");
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
        answers: vec![answer("text", AnswerValue::Text(text("ok")))],
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
    let other_round = SubmissionBody { round: RoundId::generate(&mut f.rng), ..body.clone() };
    assert_eq!(f.manifest.check_submission(&other_round), Err(AnswerError::WrongRound));

    // Someone else's key cannot sign this body.
    let thief = AuthorKey::generate(&mut f.rng);
    assert_eq!(body.clone().sign(&thief).unwrap_err(), SubmissionError::KeyMismatch);

    // The text cannot change after signing.
    let mut edited = submission.clone();
    edited.body.answers[0].value = AnswerValue::Text(text("not ok"));
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
