//! Costs of the protocol's crypto operations, one thread. Run with `cargo xtask bench`.

use candor_protocol::keys::AuthorKey;
use candor_protocol::scrub;
use candor_protocol::token::{IssuerKey, Nonce, TokenChallenge, TokenRequest};
use divan::{Bencher, black_box};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

fn main() {
    divan::main();
}

struct Setup {
    rng: StdRng,
    issuer: IssuerKey,
    challenge: TokenChallenge,
}

fn setup() -> Setup {
    let mut rng = StdRng::seed_from_u64(42);
    let issuer = IssuerKey::generate(&mut rng).expect("key");
    Setup { rng, issuer, challenge: TokenChallenge::new("candor.example", Some([1; 32]), "candor.example") }
}

#[divan::bench]
fn client_blind(bencher: Bencher) {
    let mut s = setup();
    bencher.bench_local(|| {
        TokenRequest::blind(&mut s.rng, s.issuer.token_key(), &s.challenge, Nonce([7; 32])).expect("blind")
    });
}

#[divan::bench]
fn client_finalize(bencher: Bencher) {
    let mut s = setup();
    let (request, pending) =
        TokenRequest::blind(&mut s.rng, s.issuer.token_key(), &s.challenge, Nonce([7; 32])).expect("blind");
    let response = s.issuer.blind_sign(&request).expect("sign");
    bencher.bench_local(|| pending.finalize(black_box(&response)).expect("finalize"));
}

#[divan::bench]
fn issuer_blind_sign(bencher: Bencher) {
    let mut s = setup();
    let (request, _) =
        TokenRequest::blind(&mut s.rng, s.issuer.token_key(), &s.challenge, Nonce([7; 32])).expect("blind");
    bencher.bench_local(|| s.issuer.blind_sign(black_box(&request)).expect("sign"));
}

#[divan::bench]
fn token_verify(bencher: Bencher) {
    let mut s = setup();
    let (request, pending) =
        TokenRequest::blind(&mut s.rng, s.issuer.token_key(), &s.challenge, Nonce([7; 32])).expect("blind");
    let token = pending.finalize(&s.issuer.blind_sign(&request).expect("sign")).expect("finalize");
    bencher.bench_local(|| token.verify(s.issuer.token_key(), black_box(&s.challenge)).expect("verify"));
}

#[divan::bench]
fn ed25519_sign_receipt(bencher: Bencher) {
    use candor_protocol::keys::ReceiptKey;
    use candor_protocol::receipt::Receipt;
    use candor_protocol::submission::ItemHash;
    let mut rng = StdRng::seed_from_u64(1);
    let key = ReceiptKey::generate(&mut rng);
    let receipt =
        Receipt { round: candor_protocol::domain::RoundId::generate(&mut rng), item: ItemHash([3; 32]) };
    bencher.bench_local(|| black_box(receipt).sign(&key));
}

#[divan::bench]
fn ed25519_verify_receipt(bencher: Bencher) {
    use candor_protocol::keys::ReceiptKey;
    use candor_protocol::receipt::Receipt;
    use candor_protocol::submission::ItemHash;
    let mut rng = StdRng::seed_from_u64(1);
    let key = ReceiptKey::generate(&mut rng);
    let receipt =
        Receipt { round: candor_protocol::domain::RoundId::generate(&mut rng), item: ItemHash([3; 32]) };
    let signed = receipt.sign(&key);
    let public = key.public_key();
    bencher.bench_local(|| signed.verify(&public, black_box(&receipt)).expect("verify"));
}

#[divan::bench]
fn author_key_generate(bencher: Bencher) {
    let mut rng = StdRng::seed_from_u64(5);
    bencher.bench_local(|| AuthorKey::generate(&mut rng));
}

#[divan::bench(args = [200, 2_000])]
fn normalise_and_detect(bencher: Bencher, chars: usize) {
    let text: String = "The on\u{2011}call rota is \u{201C}fine\u{201D}\u{200B}\u{2026} mail a@b.co "
        .chars()
        .cycle()
        .take(chars)
        .collect();
    let detector = scrub::Detector::<regex_lite::Regex>::default();
    bencher.bench_local(|| detector.detect(&scrub::normalise(black_box(&text))));
}
