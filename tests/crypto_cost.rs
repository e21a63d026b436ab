//! The client's crypto in the browser's wasm (headless Chromium): blind, finalize (with
//! its verification), token verification and the submission's signature (canonical
//! encoding and Ed25519), each
//! timed 20 times with `performance.now()`. `cargo xtask bench` runs it in release mode
//! and reports the medians; it prints one `crypto-cost` JSON line.

#![cfg(target_arch = "wasm32")]

use candor_protocol::domain::{QuestionId, RoundId};
use candor_protocol::keys::AuthorKey;
use candor_protocol::submission::{Answer, AnswerValue, FeedbackText, NonceSalt, SubmissionBody};
use candor_protocol::token::{IssuerKey, Nonce, TokenChallenge, TokenRequest};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const RUNS: usize = 20;

fn now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[wasm_bindgen_test]
fn client_crypto_costs() {
    let mut rng = rand::rng();
    // The issuer's key is made once, outside the timings (the browser never signs).
    let issuer = IssuerKey::generate(&mut rng).expect("key");
    let key = issuer.token_key();
    let challenge = TokenChallenge::new("candor.example", Some([1; 32]), "candor.example");
    let (mut blind, mut finalize, mut verify, mut sign) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..RUNS {
        let started = now();
        let (request, pending) =
            TokenRequest::blind(&mut rng, key, &challenge, Nonce([i as u8; 32])).expect("blind");
        blind.push(now() - started);
        let response = issuer.blind_sign(&request).expect("sign");
        let started = now();
        let token = pending.finalize(&response).expect("finalize");
        finalize.push(now() - started);
        let started = now();
        token.verify(key, &challenge).expect("verify");
        verify.push(now() - started);
        let author = AuthorKey::generate(&mut rng);
        let body = SubmissionBody {
            round: RoundId::generate(&mut rng),
            answers: vec![Answer {
                question: QuestionId::parse("text").expect("id"),
                value: AnswerValue::Text(
                    FeedbackText::normalise(&"A sentence of feedback. ".repeat(20)).expect("text"),
                ),
            }],
            author_key: author.public_key(),
            nonce_salt: NonceSalt::generate(&mut rng),
        };
        let started = now();
        body.sign(&author).expect("sign");
        sign.push(now() - started);
    }
    console_log!(
        "crypto-cost {{\"runs\":{RUNS},\"blind_ms\":{},\"finalize_ms\":{},\"verify_ms\":{},\"sign_ms\":{}}}",
        median(blind),
        median(finalize),
        median(verify),
        median(sign)
    );
}
