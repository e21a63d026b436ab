//! When the widget sends a queued item: one rule, shared by the widget and by the tests
//! that simulate it (`server/tests/revisits.rs`).
//!
//! An item goes out only while one of its author's pages is open, because only their
//! browser holds it. What must not happen is that it goes out *because* a page opened:
//! the intranet logs every page load per person, and an operator who watches items
//! arrive could match the two. So each page view draws, afresh, when it would send: an
//! exponential delay, which has no memory. However long the person has been on the page
//! or away from it, the chance that the item goes out in the next minute is the same, so
//! the moment it arrives tells only that one of the author's pages was open then — not
//! which load opened it.
//!
//! The draws end an hour before the round closes ([`SEND_MARGIN_SECONDS`]): a page open
//! then sends what is left. After that moment nothing is sent automatically — a send
//! would follow a page load — and the widget asks the person instead.

use crate::manifest::RoundManifest;

/// The mean send delay a round gets unless its operator chooses another, in minutes of
/// open pages: two hours. The longer it is, the less the moment an item arrives says
/// about whose page was open (`server/tests/revisits.rs` measured 50 of 122 items linked
/// by an adversary who knows when every page was open at a 30-minute mean, 25 of 104 at
/// two hours); the shorter, the sooner feedback leaves the browser.
pub const DEFAULT_SEND_DELAY_MINUTES: u32 = 120;

/// How long before the round's close automatic sending ends.
pub const SEND_MARGIN_SECONDS: u64 = 3_600;

/// The last moment an item is sent automatically, in milliseconds since the epoch.
pub fn deadline_ms(manifest: &RoundManifest) -> u64 {
    manifest.closes_at.saturating_sub(SEND_MARGIN_SECONDS).saturating_mul(1_000)
}

/// When a page view that starts (or has an item queued) at `from_ms` sends the item, if
/// it is still open then: `from_ms` plus an exponential delay whose mean is
/// `send_delay_minutes` (the round's), drawn from 32 random bits, and no later than
/// `deadline_ms` (see [`deadline_ms`]). `None` once the deadline has passed: then only the
/// person may send.
pub fn send_at(from_ms: u64, send_delay_minutes: u32, deadline_ms: u64, random: u32) -> Option<u64> {
    if from_ms >= deadline_ms {
        return None;
    }
    let mean_ms = f64::from(send_delay_minutes) * 60_000.0;
    // u in [0, 1): -ln(1 - u) is exponential with mean 1, at most ln(2^32) ≈ 22.2.
    let u = f64::from(random) / 4_294_967_296.0;
    let delay = -mean_ms * (1.0 - u).ln();
    Some(from_ms.saturating_add(delay as u64).min(deadline_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(send_delay_minutes: u32, closes_at: u64) -> RoundManifest {
        use crate::domain::{Day, QuestionId, RoundId, Scope};
        use crate::manifest::{Question, QuestionKind, Release, Team};
        let scope = Scope::parse("acme").expect("scope");
        RoundManifest {
            round: RoundId::parse("0123456789abcdef0123456789abcdef").expect("id"),
            scope: scope.clone(),
            teams: vec![Team { scope, token_key_id: crate::token::TokenKeyId([7; 32]) }],
            questions: vec![Question {
                id: QuestionId::parse("text").expect("id"),
                prompt: "?".into(),
                kind: QuestionKind::Text { max_chars: 10 },
            }],
            opens: Day::parse("2026-01-01").expect("day"),
            closes: Day::parse("2026-01-02").expect("day"),
            time_zone: "UTC".into(),
            opens_at: 0,
            closes_at,
            threshold: 5,
            tokens_per_person: 1,
            release: Release::AtClose,
            send_delay_minutes,
            issuer_name: "candor.test".into(),
            origin: "candor.test".into(),
            receipt_key: crate::keys::ReceiptKey::from_seed(&[1; 32]).public_key(),
            id_patterns: Vec::new(),
            keep_on_device_days: 30,
        }
    }

    #[test]
    fn the_delay_is_exponential_with_the_rounds_mean() {
        let m = manifest(30, 10_000_000_000);
        let n = 20_000u32;
        let mut rng = 0x9E37_79B9_u32;
        let mut sum = 0.0;
        let mut over_mean = 0;
        for _ in 0..n {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            let delay = (send_at(1_000, m.send_delay_minutes, deadline_ms(&m), rng)
                .expect("before the deadline")
                - 1_000) as f64
                / 60_000.0;
            sum += delay;
            over_mean += usize::from(delay > 30.0);
        }
        let mean = sum / f64::from(n);
        assert!((mean - 30.0).abs() < 1.5, "mean {mean}");
        // Memoryless: P(delay > mean) = 1/e.
        let share = over_mean as f64 / f64::from(n);
        assert!((share - (-1.0f64).exp()).abs() < 0.02, "{share}");
    }

    #[test]
    fn nothing_is_drawn_past_the_deadline_and_nothing_sent_after_it() {
        let closes_at = 1_800_000_000;
        let m = manifest(7 * 24 * 60, closes_at);
        let deadline = (closes_at - SEND_MARGIN_SECONDS) * 1_000;
        assert_eq!(deadline_ms(&m), deadline);
        let from = deadline - 3 * 3_600_000;
        let mean = m.send_delay_minutes;
        for random in [0, 1 << 31, u32::MAX] {
            let at = send_at(from, mean, deadline, random).expect("before the deadline");
            assert!(at >= from && at <= deadline);
        }
        assert_eq!(send_at(from, mean, deadline, u32::MAX), Some(deadline));
        assert_eq!(send_at(deadline, mean, deadline, 0), None);
        assert_eq!(send_at(deadline + 1, mean, deadline, 0), None);
        assert_eq!(send_at(5, 0, deadline, 123), Some(5), "no delay: at once");
    }
}
