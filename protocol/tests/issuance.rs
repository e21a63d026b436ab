//! Issuance at volume and the issuer's refusals.

use candor_protocol::token::{
    IssueError, IssuerKey, Nonce, Token, TokenChallenge, TokenRequest, TokenResponse, VerifyError,
};
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use rand_core::Rng as _;

fn challenge() -> TokenChallenge {
    TokenChallenge::new("candor.example", Some([1; 32]), "candor.example")
}

/// 1,000 tokens, each through the wire encodings. With this fixed seed several blind
/// signatures start with a zero byte (about 1 in 256 do): the encodings must keep it.
#[test]
fn a_thousand_tokens_issue_and_verify() {
    let mut rng = StdRng::seed_from_u64(9578);
    let issuer = IssuerKey::generate(&mut rng).expect("key");
    let key = issuer.token_key();
    let challenge = challenge();
    let mut leading_zero_responses = 0;
    let mut leading_zero_authenticators = 0;
    for _ in 0..1_000 {
        let mut nonce = [0; 32];
        rng.fill_bytes(&mut nonce);
        let (request, pending) = TokenRequest::blind(&mut rng, key, &challenge, Nonce(nonce)).expect("blind");
        let request_bytes = request.to_bytes();
        assert_eq!(request_bytes.len(), 259);

        let response =
            issuer.blind_sign(&TokenRequest::parse(&request_bytes).expect("request")).expect("sign");
        let response_bytes = response.to_bytes();
        assert_eq!(response_bytes.len(), 256);
        leading_zero_responses += usize::from(response_bytes[0] == 0);

        let token =
            pending.finalize(&TokenResponse::parse(&response_bytes).expect("response")).expect("finalize");
        let token_bytes = token.to_bytes();
        leading_zero_authenticators += usize::from(token_bytes[98] == 0);
        Token::parse(&token_bytes).expect("token").verify(key, &challenge).expect("verify");
    }
    assert!(leading_zero_responses > 0, "the leading-zero case was not exercised");
    assert!(leading_zero_authenticators > 0, "the leading-zero case was not exercised");
}

#[test]
fn issuer_refusals() {
    let mut rng = StdRng::seed_from_u64(1);
    let issuer = IssuerKey::generate(&mut rng).expect("key");
    // Another key that a request can tell apart (a different truncated key id): with a
    // fixed seed, the first one drawn almost surely is; draw again until it is.
    let other = loop {
        let key = IssuerKey::generate(&mut rng).expect("key");
        if key.token_key().id().truncated() != issuer.token_key().id().truncated() {
            break key;
        }
    };
    let (request, _) =
        TokenRequest::blind(&mut rng, other.token_key(), &challenge(), Nonce([0; 32])).expect("blind");
    assert_eq!(issuer.blind_sign(&request), Err(IssueError::UnknownKey));

    // A blinded message at or above the modulus (all 0xff) is refused (RFC 9474 §4.3).
    let mut too_big = vec![0x00, 0x02, issuer.token_key().id().truncated()];
    too_big.extend([0xff; 256]);
    let too_big = TokenRequest::parse(&too_big).expect("framing is fine");
    assert_eq!(issuer.blind_sign(&too_big), Err(IssueError::MessageOutOfRange));
}

#[test]
fn tokens_are_bound_to_key_and_challenge() {
    let mut rng = StdRng::seed_from_u64(2);
    let issuer = IssuerKey::generate(&mut rng).expect("key");
    let other = IssuerKey::generate(&mut rng).expect("key");
    let challenge = challenge();
    let (request, pending) =
        TokenRequest::blind(&mut rng, issuer.token_key(), &challenge, Nonce([3; 32])).expect("blind");
    let token = pending.finalize(&issuer.blind_sign(&request).expect("sign")).expect("finalize");
    token.verify(issuer.token_key(), &challenge).expect("verifies");

    assert_eq!(token.verify(other.token_key(), &challenge), Err(VerifyError::WrongKey));
    let another_round = TokenChallenge::new("candor.example", Some([2; 32]), "candor.example");
    assert_eq!(token.verify(issuer.token_key(), &another_round), Err(VerifyError::WrongChallenge));

    let mut forged = token.to_bytes();
    forged[200] ^= 1;
    let forged = Token::parse(&forged).expect("framing is fine");
    assert_eq!(forged.verify(issuer.token_key(), &challenge), Err(VerifyError::BadSignature));

    let mut renonced = token.to_bytes();
    renonced[5] ^= 1;
    let renonced = Token::parse(&renonced).expect("framing is fine");
    assert_eq!(renonced.verify(issuer.token_key(), &challenge), Err(VerifyError::BadSignature));

    // A response signed by another key does not finalize.
    let (request, pending) =
        TokenRequest::blind(&mut rng, issuer.token_key(), &challenge, Nonce([4; 32])).expect("blind");
    let mut wrong = vec![0x00, 0x02, other.token_key().id().truncated()];
    wrong.extend_from_slice(&request.to_bytes()[3..]);
    let wrong = other.blind_sign(&TokenRequest::parse(&wrong).expect("request")).expect("sign");
    assert!(pending.finalize(&wrong).is_err());
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let mut rng = StdRng::seed_from_u64(3);
    let issuer = IssuerKey::generate(&mut rng).expect("key");
    let pem = issuer.to_pem().expect("pem");
    let debug = format!("{issuer:?}");
    assert!(debug.starts_with("IssuerKey { id: TokenKeyId("), "{debug}");
    let body: String = pem.lines().nth(1).expect("PEM body").chars().take(20).collect();
    assert!(!debug.contains(&body));
    assert_eq!(IssuerKey::from_pem(&pem).expect("restores").token_key(), issuer.token_key());

    let (request, pending) =
        TokenRequest::blind(&mut rng, issuer.token_key(), &challenge(), Nonce([5; 32])).expect("blind");
    assert_eq!(
        format!("{request:?}"),
        format!("TokenRequest {{ truncated_key_id: {}, .. }}", request.truncated_key_id())
    );
    assert!(format!("{pending:?}").starts_with("PendingToken { key: TokenKeyId("));
}
