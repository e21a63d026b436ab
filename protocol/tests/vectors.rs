//! Known-answer tests from the RFCs' own vectors (see `vectors/README.md`), replayed
//! with a deterministic RNG that hands out the vector's salt and blind.

use std::collections::VecDeque;

use blind_rsa_signatures::reexports::crypto_bigint::BoxedUint;
use blind_rsa_signatures::reexports::rsa::RsaPrivateKey;
use blind_rsa_signatures::{
    Deterministic, MessagePrepare, PSS, PSSZero, Randomized, SaltMode, SecretKey, Sha384,
};
use candor_protocol::http_auth;
use candor_protocol::token::{
    Backend, IssuerKey, Nonce, Token, TokenChallenge, TokenKey, TokenRequest, TokenResponse,
};
use common::{ReplayRng, Type2, hex, load};
use serde::Deserialize;

mod common;

// ── RFC 9474 Appendix A: the blind-RSA crate itself, all four variants ─────────────

#[derive(Deserialize)]
struct Rfc9474 {
    name: String,
    p: String,
    q: String,
    n: String,
    e: String,
    d: String,
    inv: String,
    msg: String,
    msg_prefix: String,
    salt: String,
    blinded_msg: String,
    blind_sig: String,
    sig: String,
}

fn uint(text: &str) -> BoxedUint {
    BoxedUint::from_str_radix_vartime(text.trim_start_matches("0x"), 16).expect("hex integer")
}

fn replay_9474<S: SaltMode, M: MessagePrepare>(v: &Rfc9474) {
    let n = uint(&v.n);
    let inv = uint(&v.inv);
    // The vector gives r⁻¹; the RNG must hand out r, little-endian, as the crate samples it.
    let r = inv.invert_mod(&n.to_nz().expect("n is non-zero")).expect("inv is invertible");
    let mut randomness = VecDeque::new();
    if M::RANDOMIZE {
        randomness.push_back(hex(&v.msg_prefix));
    }
    randomness.push_back(hex(&v.salt));
    randomness.push_back(r.to_le_bytes().to_vec());
    let mut rng = ReplayRng(randomness);

    let inner = RsaPrivateKey::from_components(n, uint(&v.e), uint(&v.d), vec![uint(&v.p), uint(&v.q)])
        .expect("vector key");
    let sk = SecretKey::<Sha384, S, M>::new(inner);
    let pk = sk.public_key().expect("public key");
    let msg = hex(&v.msg);

    let blinding = pk.blind(&mut rng, &msg).expect("blind");
    assert_eq!(blinding.blind_message.0, hex(&v.blinded_msg), "{}: blinded_msg", v.name);
    let blind_sig = sk.blind_sign(&blinding.blind_message).expect("blind_sign");
    assert_eq!(blind_sig.0, hex(&v.blind_sig), "{}: blind_sig", v.name);
    // The issuer's signers, on the same 4096-bit key and blinded message.
    let pem = sk.to_pem().expect("PEM");
    for &backend in Backend::ALL {
        let signer = backend.load(&pem).expect("the vector key loads");
        assert_eq!(
            signer.sign_raw(&blinding.blind_message.0),
            Ok(hex(&v.blind_sig)),
            "{}: {backend}",
            v.name
        );
    }
    let sig = pk.finalize(&blind_sig, &blinding, &msg).expect("finalize");
    assert_eq!(sig.0, hex(&v.sig), "{}: sig", v.name);
    pk.verify(&sig, blinding.msg_randomizer, &msg).expect("verify");
    assert!(rng.0.is_empty(), "{}: not all randomness was used", v.name);
}

#[test]
fn rfc9474_appendix_a() {
    let vectors: Vec<Rfc9474> = load("rfc9474-blind-rsa.json");
    let names: Vec<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "RSABSSA-SHA384-PSS-Randomized",
            "RSABSSA-SHA384-PSSZERO-Randomized",
            "RSABSSA-SHA384-PSS-Deterministic",
            "RSABSSA-SHA384-PSSZERO-Deterministic"
        ]
    );
    replay_9474::<PSS, Randomized>(&vectors[0]);
    replay_9474::<PSSZero, Randomized>(&vectors[1]);
    replay_9474::<PSS, Deterministic>(&vectors[2]);
    replay_9474::<PSSZero, Deterministic>(&vectors[3]);
}

// ── RFC 9578 type 2: Candor's own Privacy Pass code, end to end ────────────────────

fn replay_type2(v: &Type2, which: &str) {
    for &backend in Backend::ALL {
        replay_type2_with(v, &format!("{which}, {backend}"), backend);
    }
}

fn replay_type2_with(v: &Type2, which: &str, backend: Backend) {
    let pem = String::from_utf8(hex(&v.sk_s)).expect("PEM text");
    let issuer = IssuerKey::from_pem_with(&pem, backend).expect("issuer key");
    assert_eq!(issuer.backend(), backend);
    let spki = hex(&v.pk_s);
    assert_eq!(spki.len(), 342, "{which}: SPKI length");
    let key = TokenKey::from_spki(&spki).expect("token key");
    assert_eq!(issuer.token_key(), &key, "{which}: public key derived from skS");
    assert_eq!(key.spki(), spki.as_slice(), "{which}: SPKI re-encodes byte for byte");

    let challenge = TokenChallenge::parse(&hex(&v.token_challenge)).expect("challenge");
    assert_eq!(challenge.to_bytes(), hex(&v.token_challenge), "{which}: challenge re-encodes");
    let nonce = Nonce(hex(&v.nonce).try_into().expect("32-byte nonce"));

    // The blind r travels little-endian through the RNG, the way the crate samples it.
    let mut r = hex(&v.blind);
    r.reverse();
    let mut rng = ReplayRng(VecDeque::from([hex(&v.salt), r]));
    let (request, pending) = TokenRequest::blind(&mut rng, &key, &challenge, nonce).expect("blind");
    assert_eq!(request.to_bytes(), hex(&v.token_request), "{which}: token_request");
    assert_eq!(TokenRequest::parse(&hex(&v.token_request)).expect("parse request"), request);

    let response = issuer.blind_sign(&request).expect("blind_sign");
    assert_eq!(response.to_bytes(), hex(&v.token_response), "{which}: token_response");

    let response = TokenResponse::parse(&hex(&v.token_response)).expect("parse response");
    let token = pending.finalize(&response).expect("finalize");
    assert_eq!(token.to_bytes(), hex(&v.token), "{which}: token");
    assert_eq!(Token::parse(&hex(&v.token)).expect("parse token"), token);
    token.verify(&key, &challenge).expect("token verifies");

    let header = http_auth::authorization_value(&token);
    assert_eq!(http_auth::parse_authorization(&header).expect("header"), token);
}

#[test]
fn rfc9578_type2_vectors() {
    let vectors: Vec<Type2> = load("rfc9578-type2.json");
    assert_eq!(vectors.len(), 5);
    for (i, v) in vectors.iter().enumerate() {
        replay_type2(v, &format!("RFC 9578 vector {}", i + 1));
    }
}

#[test]
fn independent_go_type2_vectors() {
    let vectors: Vec<Type2> = load("privacypass-type2-go.json");
    assert_eq!(vectors.len(), 5);
    for (i, v) in vectors.iter().enumerate() {
        replay_type2(v, &format!("Go vector {}", i + 1));
    }
}

#[test]
fn rfc9578_key_id_is_sha256_of_the_spki() {
    let vectors: Vec<Type2> = load("rfc9578-type2.json");
    let key = TokenKey::from_spki(&hex(&vectors[0].pk_s)).expect("token key");
    let token = hex(&vectors[0].token);
    // Token = type(2) ‖ nonce(32) ‖ challenge digest(32) ‖ token_key_id(32) ‖ authenticator.
    assert_eq!(&token[66..98], key.id().to_bytes().as_slice());
    let request = hex(&vectors[0].token_request);
    assert_eq!(request[2], key.id().truncated(), "truncated id is the last byte");
}
