//! Metadata scrubbing, shared by the widget (as the person types) and the server
//! (again, as defence in depth).
//!
//! * [`normalise`] removes what identifies a device or a writer's habits rather than
//!   what they mean: invisible format and control characters (zero-width characters,
//!   bidi controls, tag characters, variation selectors — the usual carriers of
//!   copy-paste watermarks), compatibility forms (NFKC), typographic quotes, dashes,
//!   ellipses and unusual spaces, runs of spaces and blank lines. It bounds the length.
//! * [`Detector::detect`] finds what a person may not mean to reveal: e-mail addresses,
//!   phone numbers, URLs, @handles, sign-offs ("— J.", "Thanks, Anna") and configured
//!   ID patterns, each with its kind and byte span.
//! * [`redact`] replaces findings with a placeholder naming their kind.

use std::ops::Range;

/// The most characters a text answer may hold after normalisation.
pub const MAX_CHARS: usize = 5_000;

/// Normalises text and bounds it to [`MAX_CHARS`] characters.
#[cfg(feature = "nfkc-tables")]
pub fn normalise(input: &str) -> String {
    normalise_bounded(input, MAX_CHARS)
}

/// Normalises text and bounds it to `max_chars` characters. Idempotent: normalising the
/// result again changes nothing.
#[cfg(feature = "nfkc-tables")]
pub fn normalise_bounded(input: &str, max_chars: usize) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    normalise_with(input, max_chars, |text| text.nfkc().collect())
}

/// Whether `text` is already what [`normalise`] makes of it. Text that comes back from
/// normalisation — nearly all of it — is recognised in one pass without building anything
/// (see [`plainly_normalised`]); only the rest is normalised again and compared. Reading
/// a 200-character text from the wire or the store costs about 1 µs instead of 13
/// (measured for ASCII; other scripts add NFKC's quick check).
#[cfg(feature = "nfkc-tables")]
pub fn is_normalised(text: &str) -> bool {
    plainly_normalised(text, MAX_CHARS) || normalise(text) == text
}

/// A sufficient condition for `normalise_bounded(text, max_chars) == text`, checked in one
/// pass: no character that a step of the normalisation would change (cleaning, NFKC by
/// its quick check, plain punctuation), and the spacing already tidy — no space at a
/// line's start or end or after another space, no newline at the start or end, no more
/// than one blank line — within `max_chars`. False says nothing: the caller normalises.
#[cfg(feature = "nfkc-tables")]
pub fn plainly_normalised(text: &str, max_chars: usize) -> bool {
    use unicode_normalization::{IsNormalized, is_nfkc_quick};
    let (mut count, mut before, mut previous, mut ascii) = (0usize, '\n', '\n', true);
    for c in text.chars() {
        count += 1;
        // ASCII is its own NFKC; of it, cleaning changes only the controls other than
        // the newline, and plain punctuation only the backtick.
        let plain = if c.is_ascii() {
            c == '\n' || c == ' ' || (c.is_ascii_graphic() && c != '`')
        } else {
            ascii = false;
            clean_char(c) == Some(c)
                && matches!(plain_punctuation(c), PlainChars::One(Some(same)) if same == c)
        };
        let tidy = match c {
            ' ' => previous != ' ' && previous != '\n',
            '\n' => previous != ' ' && count > 1 && !(previous == '\n' && before == '\n'),
            _ => true,
        };
        if count > max_chars || !plain || !tidy {
            return false;
        }
        (before, previous) = (previous, c);
    }
    count > 0
        && previous != ' '
        && previous != '\n'
        && (ascii || is_nfkc_quick(text.chars()) == IsNormalized::Yes)
}

/// [`normalise_bounded`] with NFKC supplied by the caller. The widget passes the
/// browser's own `String.prototype.normalize("NFKC")`, which spares it ~200 KB of
/// Unicode tables; the server checks the result with the tables (feature `nfkc-tables`).
pub fn normalise_with(input: &str, max_chars: usize, nfkc: impl Fn(&str) -> String) -> String {
    // NFKC can expand a character up to 18 times, so this bounds the work, not the result.
    let budget = max_chars.saturating_mul(4).saturating_add(64);
    let cleaned: String = input.chars().take(budget).filter_map(clean_char).collect();
    let mapped: String = nfkc(&cleaned).chars().filter_map(clean_char).flat_map(plain_punctuation).collect();
    let tidy = tidy_spacing(&mapped);
    match tidy.char_indices().nth(max_chars) {
        Some((cut, _)) => tidy_spacing(&tidy[..cut]),
        None => tidy,
    }
}

/// Unicode 16's format characters (general category Cf). A test checks this table
/// against the `unicode-properties` crate for every code point; it is written out here
/// so the widget does not carry a table of every category.
const FORMAT: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// Unicode 16's space separators (general category Zs), checked the same way.
const SPACE: &[(char, char)] = &[
    ('\u{0020}', '\u{0020}'),
    ('\u{00A0}', '\u{00A0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200A}'),
    ('\u{202F}', '\u{202F}'),
    ('\u{205F}', '\u{205F}'),
    ('\u{3000}', '\u{3000}'),
];

fn in_table(table: &[(char, char)], c: char) -> bool {
    table
        .binary_search_by(|&(low, high)| {
            if high < c {
                std::cmp::Ordering::Less
            } else if low > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Whether `c` is a control (Cc), format (Cf) or private-use (Co) character.
pub fn is_control_format_or_private(c: char) -> bool {
    c.is_control()
        || in_table(FORMAT, c)
        || matches!(c, '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}')
}

/// Whether `c` is a space separator (Zs).
pub fn is_space_separator(c: char) -> bool {
    in_table(SPACE, c)
}

/// Whether `c` is an invisible character that normalisation removes.
pub fn is_invisible(c: char) -> bool {
    if c == '\n' {
        return false;
    }
    is_control_format_or_private(c)
        || matches!(
            c,
            '\u{FE00}'..='\u{FE0F}'          // variation selectors
            | '\u{E0100}'..='\u{E01EF}'      // variation selectors supplement
            | '\u{180B}'..='\u{180F}'        // Mongolian free variation selectors
            | '\u{034F}'                     // combining grapheme joiner
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{2800}'                     // braille blank
        )
}

/// Maps line breaks and tabs to their plain forms and drops invisible characters.
fn clean_char(c: char) -> Option<char> {
    match c {
        '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}' | '\u{000B}' | '\u{000C}' => Some('\n'),
        '\t' => Some(' '),
        c if is_invisible(c) => None,
        c if is_space_separator(c) => Some(' '),
        c => Some(c),
    }
}

/// Typographic punctuation to its plain form.
fn plain_punctuation(c: char) -> PlainChars {
    let plain = match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2035}' | '\u{2039}'
        | '\u{203A}' | '\u{02BC}' | '\u{00B4}' | '\u{0060}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{2036}' | '\u{00AB}'
        | '\u{00BB}' | '\u{301D}' | '\u{301E}' => "\"",
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{2E3A}' | '\u{2E3B}' | '\u{FE58}' | '\u{FE63}' => "-",
        '\u{2026}' | '\u{22EF}' => "...",
        '\u{2022}' | '\u{2023}' | '\u{2043}' | '\u{25E6}' => "*",
        _ => return PlainChars::One(Some(c)),
    };
    PlainChars::Str(plain.chars())
}

enum PlainChars {
    One(Option<char>),
    Str(std::str::Chars<'static>),
}

impl Iterator for PlainChars {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        match self {
            Self::One(c) => c.take(),
            Self::Str(chars) => chars.next(),
        }
    }
}

/// Collapses runs of spaces, trims every line, keeps at most one blank line in a row,
/// and trims the whole text.
fn tidy_spacing(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_lines = 0;
    for line in text.split('\n') {
        let line = line.trim_matches(' ');
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        let mut previous_space = false;
        for c in line.chars() {
            if c == ' ' && previous_space {
                continue;
            }
            previous_space = c == ' ';
            out.push(c);
        }
    }
    out
}

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A web address.
    Url,
    /// An @handle.
    Handle,
    /// A name in a sign-off ("— J.", "Thanks, Anna").
    SignOff,
    /// A match of a configured ID pattern (employee number, ticket id…).
    Id,
}

impl FindingKind {
    /// The placeholder [`redact`] puts in its place.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Email => "[email]",
            Self::Phone => "[phone]",
            Self::Url => "[link]",
            Self::Handle => "[handle]",
            Self::SignOff => "[name]",
            Self::Id => "[id]",
        }
    }

    /// A short, plain description for the person writing.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Email => "an e-mail address",
            Self::Phone => "a phone number",
            Self::Url => "a link",
            Self::Handle => "an @handle",
            Self::SignOff => "a name in a sign-off",
            Self::Id => "an ID number",
        }
    }
}

/// Something in the text that may identify the writer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// Where it is, in bytes of the text it was found in.
    pub span: Range<usize>,
}

/// A configured ID pattern was not a valid regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ID pattern `{pattern}`: {reason}")]
pub struct PatternError {
    pattern: String,
    reason: String,
}

/// A detection rule: a regular expression written so that regex-lite and the browser's
/// `RegExp` (with the `u` flag) read it the same way — no inline flags, ASCII classes
/// only — so the widget can match with the engine the browser already has and the
/// tests can hold the two engines to the same findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// What a match is.
    pub kind: FindingKind,
    /// The regular expression.
    pub source: String,
    /// ASCII letters match either case (regex-lite `case_insensitive`, `RegExp` flag `i`).
    pub case_insensitive: bool,
    /// `^` and `$` also match at line breaks (`multi_line`, flag `m`).
    pub multi_line: bool,
    /// The group that is the finding: 0 for the whole match, 1 for the first capture.
    pub group: usize,
}

/// A regular-expression engine that can run [`Pattern`]s.
pub trait Engine: Sized {
    /// Compiles a pattern; the error says why it is not valid.
    fn compile(pattern: &Pattern) -> Result<Self, String>;
    /// The byte spans of `group` in every successive non-overlapping match, left to
    /// right; matches in which the group took no part are skipped.
    fn spans(&self, text: &str, group: usize) -> Vec<Range<usize>>;
}

#[cfg(feature = "regex")]
impl Engine for regex_lite::Regex {
    fn compile(pattern: &Pattern) -> Result<Self, String> {
        regex_lite::RegexBuilder::new(&pattern.source)
            .case_insensitive(pattern.case_insensitive)
            .multi_line(pattern.multi_line)
            .build()
            .map_err(|error| error.to_string())
    }

    fn spans(&self, text: &str, group: usize) -> Vec<Range<usize>> {
        self.captures_iter(text).filter_map(|captures| captures.get(group)).map(|m| m.range()).collect()
    }
}

/// A person's name as a sign-off writes it: one or two capitalised words or initials.
const NAME: &str = r"[A-Z][^\s\d.,!?;:()\[\]{}<>@]*\.?(?:[ ]+[A-Z][^\s\d.,!?;:()\[\]{}<>@]*\.?)?";

/// Words that close a message before a name.
const SIGN_OFF_WORDS: [&str; 13] = [
    "thanks",
    "thank you",
    "many thanks",
    "cheers",
    "regards",
    "best",
    "best regards",
    "kind regards",
    "warm regards",
    "sincerely",
    "yours",
    "all the best",
    "love",
];

/// `word` matching either case letter by letter, for the one case-insensitive part of
/// an otherwise case-sensitive pattern (inline `(?i:…)` groups are too new for some
/// browsers).
fn either_case(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The built-in rules, then one per configured ID pattern.
pub fn patterns<S: AsRef<str>>(id_patterns: &[S]) -> Vec<Pattern> {
    let rule = |kind, source: &str, case_insensitive, multi_line, group| Pattern {
        kind,
        source: source.to_owned(),
        case_insensitive,
        multi_line,
        group,
    };
    let sign_off_words: Vec<String> = SIGN_OFF_WORDS.iter().map(|word| either_case(word)).collect();
    let mut rules = vec![
        rule(
            FindingKind::Email,
            r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
            false,
            false,
            0,
        ),
        rule(
            FindingKind::Url,
            r"\b(?:https?://|www\.)[^\s<>]+|\b[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|org|net|io|dev|app|co|uk|de|fr|eu|info|biz|me|ai|internal|corp|local)(?:/[^\s<>]*)?\b",
            true,
            false,
            0,
        ),
        rule(
            FindingKind::Handle,
            r"(?:^|[^A-Za-z0-9._%+\-@])(@[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)",
            false,
            false,
            1,
        ),
        rule(FindingKind::Phone, r"\+?\(?[0-9][0-9 ().\-]{5,}[0-9]", false, false, 0),
        rule(FindingKind::SignOff, &format!(r"^[ ]*(?:-{{1,2}}|~)[ ]*({NAME})[ ]*$"), false, true, 1),
        rule(
            FindingKind::SignOff,
            &format!(r"(?:^|[.!?][ ]+)(?:{})[ ]*,?[ ]*\n?[ ]*({NAME})[ ]*$", sign_off_words.join("|")),
            false,
            true,
            1,
        ),
    ];
    rules.extend(id_patterns.iter().map(|id| rule(FindingKind::Id, id.as_ref(), false, false, 0)));
    rules
}

/// Finds identifying details in text. Build once, use for every keystroke.
#[derive(Debug, Clone)]
pub struct Detector<E> {
    rules: Vec<(Pattern, E)>,
}

impl<E: Engine> Detector<E> {
    /// A detector with the built-in kinds and these ID patterns (regular expressions,
    /// for example `EMP-[0-9]{6}`).
    pub fn new<S: AsRef<str>>(id_patterns: &[S]) -> Result<Self, PatternError> {
        let rules = patterns(id_patterns)
            .into_iter()
            .map(|pattern| match E::compile(&pattern) {
                Ok(engine) => Ok((pattern, engine)),
                Err(reason) => Err(PatternError { pattern: pattern.source, reason }),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// Every finding in `text`, in order, none overlapping another.
    pub fn detect(&self, text: &str) -> Vec<Finding> {
        let mut found: Vec<Finding> = Vec::new();
        for (pattern, engine) in &self.rules {
            for span in engine.spans(text, pattern.group) {
                let Some(matched) = text.get(span.clone()).filter(|m| !m.is_empty()) else { continue };
                let span = match pattern.kind {
                    FindingKind::Url => {
                        let trimmed =
                            matched.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '"']);
                        span.start..span.start + trimmed.len()
                    }
                    FindingKind::Phone if !is_phone_number(matched) => continue,
                    _ => span,
                };
                // Earlier first, then longer first, then in rule order: a stable
                // insertion (findings are few, and the widget is spared a sort).
                let order = |f: &Finding| (f.span.start, std::cmp::Reverse(f.span.end));
                let at = found
                    .partition_point(|f: &Finding| order(f) <= (span.start, std::cmp::Reverse(span.end)));
                found.insert(at, Finding { kind: pattern.kind, span });
            }
        }
        // Keep what does not overlap a kept finding.
        let mut kept: Vec<Finding> = Vec::with_capacity(found.len());
        for finding in found {
            if kept.last().is_none_or(|last| finding.span.start >= last.span.end) {
                kept.push(finding);
            }
        }
        kept
    }
}

#[cfg(feature = "regex")]
impl Default for Detector<regex_lite::Regex> {
    fn default() -> Self {
        Self::new::<&str>(&[]).expect("the built-in patterns are valid")
    }
}

/// 7 to 15 digits (E.164 allows 15), and not a date like 2026-11-29.
fn is_phone_number(candidate: &str) -> bool {
    let digits = candidate.bytes().filter(u8::is_ascii_digit).count();
    let looks_like_date =
        candidate.len() == 10 && candidate.as_bytes()[4] == b'-' && candidate.as_bytes()[7] == b'-';
    (7..=15).contains(&digits) && !looks_like_date
}

/// Finds identifying details with the built-in kinds only, matching with regex-lite.
#[cfg(feature = "regex")]
pub fn detect(text: &str) -> Vec<Finding> {
    Detector::<regex_lite::Regex>::default().detect(text)
}

/// Replaces each finding with its kind's placeholder. Findings that overlap an earlier
/// one, or do not fall on character boundaries of `text`, are skipped.
pub fn redact(text: &str, findings: &[Finding]) -> String {
    let mut findings: Vec<&Finding> = findings.iter().collect();
    findings.sort_by_key(|finding| finding.span.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for finding in findings {
        let Range { start, end } = finding.span;
        if start < at || end < start || text.get(start..end).is_none() {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(finding.kind.placeholder());
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(all(test, feature = "nfkc-tables", feature = "regex"))]
mod tests {
    use super::*;

    #[test]
    fn the_category_tables_match_the_unicode_database() {
        use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory as _};
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let category = c.general_category();
            assert_eq!(
                is_control_format_or_private(c),
                matches!(category, G::Control | G::Format | G::PrivateUse),
                "{c:?}"
            );
            assert_eq!(is_space_separator(c), category == G::SpaceSeparator, "{c:?}");
        }
    }

    #[test]
    fn normalised_text_is_recognised_in_one_pass_and_anything_else_is_not() {
        for text in [
            "Stand-ups run long.",
            "Zwei Absätze.\n\nUnd \"Anführungszeichen\": schön.",
            "会议太长了。",
            "a\nb",
        ] {
            assert_eq!(normalise(text), text);
            assert!(plainly_normalised(text, MAX_CHARS), "{text:?}");
        }
        // Each breaks one rule: normalising changes it, and the one-pass check says no.
        for text in [
            " lead",
            "trail ",
            "two  spaces",
            "\nfirst",
            "last\n",
            "a\n\n\nb",
            "a \nb",
            "a\n b",
            "tab\there",
            "cr\rhere",
            "\u{201C}curly\u{201D}",
            "\u{FB01}ligature",
            "e\u{0301}",
            "zero\u{200B}width",
            "`tick`",
        ] {
            assert_ne!(normalise(text), text, "{text:?}");
            assert!(!plainly_normalised(text, MAX_CHARS), "{text:?}");
            assert!(!is_normalised(text), "{text:?}");
        }
        assert!(!plainly_normalised("abcd", 3) && plainly_normalised("abc", 3));
        // Empty text is left to the full comparison, which says yes.
        assert!(!plainly_normalised("", MAX_CHARS) && is_normalised(""));
    }

    fn kinds(text: &str) -> Vec<(FindingKind, &str)> {
        detect(text).into_iter().map(|f| (f.kind, &text[f.span])).collect()
    }

    #[test]
    fn normalise_strips_watermarks_and_typography() {
        assert_eq!(normalise("a\u{200B}b\u{200D}c\u{202E}d\u{E0041}e\u{FE0F}f"), "abcdef");
        assert_eq!(
            normalise("\u{201C}Fine\u{201D} \u{2014} it\u{2019}s ok\u{2026}"),
            "\"Fine\" - it's ok..."
        );
        assert_eq!(normalise("one\u{00A0}\u{2003} two\t\tthree"), "one two three");
        assert_eq!(normalise("  a  \r\n\r\n\r\n\r\n  b  \u{2028}c "), "a\n\nb\nc");
        assert_eq!(normalise("\u{FB01}le \u{FF21}"), "file A", "NFKC folds ligatures and full-width forms");
        assert_eq!(normalise("e\u{200D}\u{0301}"), "\u{00E9}", "removal happens before composition");
        assert_eq!(normalise_bounded("abcdef", 3), "abc");
        assert_eq!(normalise_bounded("ab cdef", 3), "ab", "no trailing space after the cut");
    }

    #[test]
    fn detects_each_kind() {
        assert_eq!(
            kinds("mail anna.b@corp.example.com now"),
            [(FindingKind::Email, "anna.b@corp.example.com")]
        );
        assert_eq!(kinds("call +44 20 7946 0958."), [(FindingKind::Phone, "+44 20 7946 0958")]);
        assert_eq!(
            kinds("see https://wiki.corp/x?id=3, ok"),
            [(FindingKind::Url, "https://wiki.corp/x?id=3")]
        );
        assert_eq!(kinds("see jira.acme.com/browse/X-1."), [(FindingKind::Url, "jira.acme.com/browse/X-1")]);
        assert_eq!(
            kinds("ask @anna_b or @j.doe."),
            [(FindingKind::Handle, "@anna_b"), (FindingKind::Handle, "@j.doe")]
        );
        assert_eq!(kinds("Good work.\n- J."), [(FindingKind::SignOff, "J.")]);
        assert_eq!(kinds("Good work.\n\nThanks, Anna"), [(FindingKind::SignOff, "Anna")]);
        assert_eq!(kinds("Meh. Cheers,\nJohn Smith"), [(FindingKind::SignOff, "John Smith")]);
        assert!(kinds("Released on 2026-11-29 with 1234 bugs").is_empty());
        assert!(kinds("Thanks for the help with the release").is_empty());
    }

    #[test]
    fn configured_id_patterns() {
        let detector = Detector::<regex_lite::Regex>::new(&["EMP-[0-9]{6}"]).unwrap();
        let text = "I am EMP-123456 in payroll";
        let findings = detector.detect(text);
        assert_eq!(findings, [Finding { kind: FindingKind::Id, span: 5..15 }]);
        assert_eq!(redact(text, &findings), "I am [id] in payroll");
        assert!(Detector::<regex_lite::Regex>::new(&["(unclosed"]).is_err());
    }

    #[test]
    fn redact_replaces_and_ignores_bad_spans() {
        let text = "write to a@b.co or call 0123 456 789";
        let findings = detect(text);
        assert_eq!(redact(text, &findings), "write to [email] or call [phone]");
        #[allow(clippy::reversed_empty_ranges)] // a reversed span is exactly what is tested
        let reversed = 3..1;
        let bad = [
            Finding { kind: FindingKind::Email, span: reversed },
            Finding { kind: FindingKind::Url, span: 0..999 },
        ];
        assert_eq!(redact(text, &bad), text);
        assert_eq!(redact("é", &[Finding { kind: FindingKind::Id, span: 0..1 }]), "é");
    }
}
