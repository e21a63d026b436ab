//! The browser's own machinery, adapted to the protocol crate: NFKC
//! (`String.prototype.normalize`), regular expressions (`RegExp`), the clock, the
//! randomness (`crypto.getRandomValues`) and dates in the person's time zone (`Intl`).

use candor_protocol::scrub::{self, Detector, Engine, Pattern};
use wasm_bindgen::{JsCast as _, JsValue};

/// NFKC by the browser (`String.prototype.normalize`), for [`scrub::normalise_with`].
///
/// Characters the browser's Unicode does not know yet are dropped first: the server's
/// tables may be newer and would normalise them differently, refusing the text. (The
/// browser test walks the whole BMP to keep this true.)
pub fn browser_nfkc(text: &str) -> String {
    let unassigned = js_sys::RegExp::new(r"\p{Cn}", "gu");
    js_sys::JsString::from(text).replace_by_pattern(&unassigned, "").normalize("NFKC").into()
}

/// Normalises text the way the server checks it, with the browser's NFKC.
pub fn normalise(text: &str, max_chars: u32) -> String {
    scrub::normalise_with(text, max_chars as usize, browser_nfkc)
}

/// The browser's own `RegExp`, as the [`Engine`] of the widget's [`Detector`]: the
/// patterns are written for both it and regex-lite (the browser test holds them to the
/// same findings), and the widget need not carry a regular-expression engine.
#[derive(Debug, Clone)]
pub struct BrowserRegex(js_sys::RegExp);

impl Engine for BrowserRegex {
    fn compile(pattern: &Pattern) -> Result<Self, String> {
        // g: every match; u: code points, strict syntax; d: the spans of groups.
        let mut flags = String::from("gud");
        if pattern.case_insensitive {
            flags.push('i');
        }
        if pattern.multi_line {
            flags.push('m');
        }
        let constructor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"RegExp".into())
            .map_err(|_| "this browser has no RegExp".to_owned())?
            .unchecked_into();
        let arguments = js_sys::Array::of2(&pattern.source.as_str().into(), &flags.into());
        // `RegExp::new` would abort on a syntax error; `construct` reports it.
        js_sys::Reflect::construct(&constructor, &arguments)
            .map(|regex| Self(regex.unchecked_into()))
            .map_err(|_| "not a valid pattern".to_owned())
    }

    fn spans(&self, text: &str, group: usize) -> Vec<std::ops::Range<usize>> {
        // JavaScript counts UTF-16 units; the findings are byte spans of the Rust string.
        let mut byte_at = Vec::with_capacity(text.len() + 1);
        for (at, c) in text.char_indices() {
            byte_at.extend(std::iter::repeat_n(at, c.len_utf16()));
        }
        byte_at.push(text.len());
        let byte = |unit: JsValue| unit.as_f64().and_then(|u| byte_at.get(u as usize).copied());
        let mut spans = Vec::new();
        let matches = js_sys::JsString::from(text).match_all(&self.0);
        for found in matches.into_iter().flatten() {
            let indices = js_sys::Reflect::get(&found, &"indices".into()).unwrap_or_default();
            let pair = js_sys::Reflect::get_u32(&indices, group as u32).unwrap_or_default();
            if !pair.is_array() {
                continue; // the group took no part in this match
            }
            let pair = js_sys::Array::from(&pair);
            if let (Some(start), Some(end)) = (byte(pair.get(0)), byte(pair.get(1))) {
                spans.push(start..end);
            }
        }
        spans
    }
}

/// The widget's detector: the built-in patterns and the organisation's own ID patterns
/// (from the signed manifest), on the browser's `RegExp`. None if the browser cannot
/// compile them (older than 2021: no `d` flag).
pub fn detector(id_patterns: &[String]) -> Option<Detector<BrowserRegex>> {
    Detector::new(id_patterns).ok()
}

/// The time, in whole milliseconds since the epoch.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The browser's `crypto.getRandomValues`, used directly: the widget draws a few dozen
/// bytes a round, which needs no user-space generator (and spares its code).
pub fn rng() -> rand::rand_core::UnwrapErr<rand::rngs::SysRng> {
    rand::rand_core::UnwrapErr(rand::rngs::SysRng)
}

/// 32 random bits.
pub fn random_u32() -> u32 {
    rand::Rng::next_u32(&mut rng())
}

/// An instant, in the person's own time zone and the browser's way of writing dates:
/// "Friday 18 December 2026 at 16:00".
pub fn local_time(ms: u64) -> String {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"full".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options).format();
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    format.call1(&JsValue::UNDEFINED, &date).ok().and_then(|text| text.as_string()).unwrap_or_default()
}
