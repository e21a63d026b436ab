//! Issuance at volume and the issuer's refusals.

use candor_protocol::token::{
    Backend, IssueError, IssuerKey, MODULUS_LEN, Nonce, SPKI_PREFIX, Token, TokenChallenge, TokenRequest,
    TokenResponse, VerifyError,
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
    let pem = issuer.to_pem().expect("pem");
    let id = issuer.token_key().id().truncated();
    let modulus = &issuer.token_key().spki()[SPKI_PREFIX.len()..][..MODULUS_LEN];
    let framed = |blinded: &[u8]| {
        let mut bytes = vec![0x00, 0x02, id];
        bytes.extend_from_slice(blinded);
        TokenRequest::parse(&bytes).expect("framing is fine")
    };
    let mut below = modulus.to_vec();
    below[MODULUS_LEN - 1] -= 1;
    for &backend in Backend::ALL {
        let issuer = IssuerKey::from_pem_with(&pem, backend).expect("loads");
        assert_eq!(issuer.backend(), backend);
        assert_eq!(issuer.blind_sign(&request), Err(IssueError::UnknownKey), "{backend}");
        // A blinded message at or above the modulus is refused (RFC 9474 §4.3): n itself
        // and all 0xff; n − 1 is the largest one signed.
        assert_eq!(issuer.blind_sign(&framed(modulus)), Err(IssueError::MessageOutOfRange), "{backend}");
        assert_eq!(issuer.blind_sign(&framed(&[0xff; 256])), Err(IssueError::MessageOutOfRange), "{backend}");
        assert!(issuer.blind_sign(&framed(&below)).is_ok(), "{backend}: n − 1 is in range");

        let signer = backend.load(&pem).expect("loads");
        assert_eq!(
            signer.sign_raw(&below[1..]),
            Err(IssueError::MessageOutOfRange),
            "{backend}: short input"
        );
        assert_eq!(signer.sign_raw(&[below.as_slice(), &[0]].concat()), Err(IssueError::MessageOutOfRange));
    }
}

/// RSA blind signing is deterministic: every backend gives the same bytes for the same
/// request, and each finalizes into a valid token.
#[test]
fn every_backend_signs_the_same_bytes() {
    let mut rng = StdRng::seed_from_u64(4);
    let key = IssuerKey::generate(&mut rng).expect("key");
    let pem = key.to_pem().expect("pem");
    let issuers: Vec<IssuerKey> =
        Backend::ALL.iter().map(|&backend| IssuerKey::from_pem_with(&pem, backend).expect("loads")).collect();
    #[cfg(all(feature = "openssl", not(target_arch = "wasm32")))]
    assert_eq!(Backend::ALL, [Backend::RustCrypto, Backend::OpenSsl]);
    assert_eq!(key.backend(), Backend::preferred());
    for i in 0..50 {
        let (request, pending) =
            TokenRequest::blind(&mut rng, key.token_key(), &challenge(), Nonce([i; 32])).expect("blind");
        let responses: Vec<TokenResponse> =
            issuers.iter().map(|issuer| issuer.blind_sign(&request).expect("signs")).collect();
        assert!(responses.windows(2).all(|pair| pair[0] == pair[1]), "backends disagree");
        let token = pending.finalize(&responses[0]).expect("finalize");
        token.verify(key.token_key(), &challenge()).expect("verifies");
    }
}

/// OpenSSL refuses, when it is loaded, a key whose CRT parts do not fit its modulus and
/// exponents: signing with one would give wrong answers, and a faulty CRT signature
/// reveals a factor of n.
#[cfg(all(feature = "openssl", not(target_arch = "wasm32")))]
#[test]
fn openssl_refuses_an_inconsistent_key() {
    use openssl::rsa::Rsa;

    let good = Rsa::generate(2048).expect("key");
    let pem = String::from_utf8(good.private_key_to_pem().expect("pem")).expect("utf-8");
    assert!(Backend::OpenSsl.load(&pem).is_ok());
    let part = |n: &openssl::bn::BigNumRef| n.to_owned().expect("copy");
    let crt = |n: Option<&openssl::bn::BigNumRef>| part(n.expect("a CRT part"));
    let mut wrong_dmp1 = crt(good.dmp1());
    wrong_dmp1.add_word(2).expect("add");
    let bad = Rsa::from_private_components(
        part(good.n()),
        part(good.e()),
        part(good.d()),
        crt(good.p()),
        crt(good.q()),
        wrong_dmp1,
        crt(good.dmq1()),
        crt(good.iqmp()),
    )
    .expect("components");
    let pem = String::from_utf8(bad.private_key_to_pem().expect("pem")).expect("utf-8");
    assert!(Backend::OpenSsl.load(&pem).is_err(), "an inconsistent key was loaded");
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
    assert!(debug.contains(&format!("backend: {:?}", Backend::preferred())), "{debug}");
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
