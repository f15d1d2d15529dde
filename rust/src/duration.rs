//! Durations as written in specs and options: Go-style sequences of number+unit.
//!
//! `1h30m`, `500ms`, `2d`, `1.5h`. Units are `ms s m h d` (lowercase; a day is 24 hours).
//! Components add up, in any order. A decimal fraction is allowed when the result is a whole
//! number of milliseconds (`1.5s` yes, `1.0005s` no). Zero, negative, and anything longer
//! than [`MAX_DURATION`] are errors, reported with the 0-based character position of the
//! offending part of the text.

use std::time::Duration;

/// The longest duration accepted: 999,999,999 days, the range of Python's `timedelta`, so every
/// parsed duration crosses the language boundary intact.
pub const MAX_DURATION: Duration = Duration::from_secs(999_999_999 * 86_400);
const MAX_MILLIS: u128 = 999_999_999 * 86_400_000;

const UNITS: [(&str, u128); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];
const UNIT_LIST: &str = "ms, s, m, h or d";

/// An invalid duration or retry interval.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?} at position {position}: {reason}")]
pub struct DurationError {
    text: String,
    position: usize,
    reason: String,
}

impl DurationError {
    /// `byte` is an offset into `text`; the error keeps the character offset, which is what a
    /// Python caller can index `text` with.
    pub(crate) fn at_byte(text: &str, byte: usize, reason: String) -> Self {
        let position = text.get(..byte).map_or(byte, |head| head.chars().count());
        Self {
            text: text.to_owned(),
            position,
            reason,
        }
    }

    /// The whole text that was parsed.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 0-based character offset of the problem in [`text`](Self::text).
    #[must_use]
    pub fn position(&self) -> usize {
        self.position
    }

    /// What is wrong: `unknown unit "w" (expected ms, s, m, h or d)`.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    parse_span(text, 0, text.len()).map_err(|(byte, reason)| DurationError::at_byte(text, byte, reason))
}

/// Formats a duration so that [`parse_duration`] reads it back: `1d2h3m4s5ms`, largest unit
/// first, zero components left out (`0s` for zero). Sub-millisecond parts are dropped.
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    let mut rest = duration.as_millis();
    if rest == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, scale) in UNITS {
        let count = rest / scale;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push_str(unit);
            rest %= scale;
        }
    }
    out
}

/// Parses `text[start..end]` into milliseconds; errors carry a byte offset into `text`.
pub(crate) fn parse_span(text: &str, start: usize, end: usize) -> Result<Duration, (usize, String)> {
    let span = &text[start..end];
    if span.is_empty() {
        return Err((start, "empty duration".to_owned()));
    }
    if span.starts_with('-') {
        return Err((start, "negative durations are not allowed".to_owned()));
    }
    let mut total: u128 = 0;
    let mut i = start;
    while i < end {
        let (millis, next) = parse_component(text, i, end)?;
        total += millis;
        if total > MAX_MILLIS {
            return Err((i, too_large()));
        }
        i = next;
    }
    if total == 0 {
        return Err((start, "zero duration (durations must be positive)".to_owned()));
    }
    let millis = u64::try_from(total).map_err(|_| (start, too_large()))?;
    Ok(Duration::from_millis(millis))
}

/// One `number unit` pair starting at `i`: its milliseconds and where the next pair starts.
fn parse_component(text: &str, i: usize, end: usize) -> Result<(u128, usize), (usize, String)> {
    let digits_end = scan_digits(text, i, end);
    if digits_end == i {
        let found = text[i..end].chars().next().unwrap_or(' ');
        return Err((i, format!(r#"expected a number, found "{found}""#)));
    }
    let mut number_end = digits_end;
    let mut fraction = "";
    if text[digits_end..end].starts_with('.') {
        number_end = scan_digits(text, digits_end + 1, end);
        if number_end == digits_end + 1 {
            return Err((number_end, r#"expected a digit after ".""#.to_owned()));
        }
        fraction = &text[digits_end + 1..number_end];
    }
    let unit_len = text[number_end..end]
        .find(|c: char| c.is_ascii_digit() || c.is_ascii_whitespace() || matches!(c, '.' | ','))
        .unwrap_or(end - number_end);
    let unit = &text[number_end..number_end + unit_len];
    if unit.is_empty() {
        let number = &text[i..number_end];
        return Err((
            number_end,
            format!(r#"missing unit after "{number}" (expected {UNIT_LIST})"#),
        ));
    }
    let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err((number_end, format!(r#"unknown unit "{unit}" (expected {UNIT_LIST})"#)));
    };
    let millis = to_millis(&text[i..digits_end], fraction, scale).map_err(|reason| (i, reason))?;
    Ok((millis, number_end + unit_len))
}

fn scan_digits(text: &str, from: usize, end: usize) -> usize {
    from + text[from..end].bytes().take_while(u8::is_ascii_digit).count()
}

/// `integer.fraction` times `scale` milliseconds, exactly.
fn to_millis(integer: &str, fraction: &str, scale: u128) -> Result<u128, String> {
    let integer = integer.trim_start_matches('0');
    // 21 digits exceed MAX_MILLIS at any scale; checking length first keeps u128 from overflowing.
    if integer.len() > 20 {
        return Err(too_large());
    }
    let whole = integer.parse::<u128>().unwrap_or(0) * scale;
    let fraction = fraction.trim_end_matches('0');
    let part = if fraction.is_empty() {
        0
    } else {
        let denominator = 10u128
            .checked_pow(fraction.len() as u32)
            .filter(|_| fraction.len() <= 20);
        let numerator = fraction.parse::<u128>().ok().map(|f| f * scale);
        match (numerator, denominator) {
            (Some(n), Some(d)) if n % d == 0 => n / d,
            _ => return Err("not a whole number of milliseconds".to_owned()),
        }
    };
    let millis = whole + part;
    if millis > MAX_MILLIS {
        return Err(too_large());
    }
    Ok(millis)
}

fn too_large() -> String {
    format!("duration too large (the maximum is {})", format_duration(MAX_DURATION))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn err(text: &str) -> (usize, String) {
        let err = parse_duration(text).expect_err(text);
        assert_eq!(err.text(), text);
        (err.position(), err.reason().to_owned())
    }

    #[test]
    fn parses_go_style_sequences() {
        let cases: &[(&str, u64)] = &[
            ("500ms", 500),
            ("1s", 1000),
            ("30m", 1_800_000),
            ("1h30m", 5_400_000),
            ("2d", 172_800_000),
            ("1d2h3m4s5ms", 93_784_005),
            ("30m1h", 5_400_000),
            ("1h1h", 7_200_000),
            ("0h5m", 300_000),
            ("007s", 7000),
            ("1.5h", 5_400_000),
            ("0.5s", 500),
            ("1.250s", 1250),
            ("2.0000000000000000000000000d", 172_800_000),
            ("999999999d", 86_399_999_913_600_000),
        ];
        for &(text, millis) in cases {
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(millis)), "{text}");
        }
    }

    #[test]
    fn errors_give_position_and_reason() {
        let units = "(expected ms, s, m, h or d)";
        let cases: Vec<(&str, usize, String)> = vec![
            ("", 0, "empty duration".into()),
            ("0s", 0, "zero duration (durations must be positive)".into()),
            ("0h0m", 0, "zero duration (durations must be positive)".into()),
            ("-5m", 0, "negative durations are not allowed".into()),
            ("+5m", 0, r#"expected a number, found "+""#.into()),
            ("h", 0, r#"expected a number, found "h""#.into()),
            ("30", 2, format!(r#"missing unit after "30" {units}"#)),
            ("1h30", 4, format!(r#"missing unit after "30" {units}"#)),
            ("1w", 1, format!(r#"unknown unit "w" {units}"#)),
            ("1H", 1, format!(r#"unknown unit "H" {units}"#)),
            ("5µs", 1, format!(r#"unknown unit "µs" {units}"#)),
            ("1h 30m", 2, r#"expected a number, found " ""#.into()),
            (" 1h", 0, r#"expected a number, found " ""#.into()),
            ("1.h", 2, r#"expected a digit after ".""#.into()),
            (".5h", 0, r#"expected a number, found ".""#.into()),
            ("1.0005s", 0, "not a whole number of milliseconds".into()),
            ("0.5ms", 0, "not a whole number of milliseconds".into()),
            (
                "1000000000d",
                0,
                "duration too large (the maximum is 999999999d)".into(),
            ),
            (
                "999999999d1ms",
                10,
                "duration too large (the maximum is 999999999d)".into(),
            ),
            (
                "99999999999999999999999999999999999999999s",
                0,
                "duration too large (the maximum is 999999999d)".into(),
            ),
            ("ü1s", 0, r#"expected a number, found "ü""#.into()),
        ];
        for (text, position, reason) in cases {
            assert_eq!(err(text), (position, reason), "{text:?}");
        }
    }

    #[test]
    fn position_counts_characters_not_bytes() {
        // "µ" is two bytes; the unit after it is reported at character 4.
        let err = DurationError::at_byte("1µs,2x", 5, "r".to_owned());
        assert_eq!(err.position(), 4);
        assert_eq!(err.to_string(), r#"invalid duration "1µs,2x" at position 4: r"#);
    }

    #[test]
    fn formats_largest_unit_first() {
        assert_eq!(format_duration(Duration::from_millis(93_784_005)), "1d2h3m4s5ms");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1ms");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(millis in 1..=MAX_MILLIS as u64) {
            let duration = Duration::from_millis(millis);
            prop_assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
        }

        #[test]
        fn components_add_up(a in 1..=1_000_000_000_000u64, b in 1..=1_000_000_000_000u64) {
            let (x, y) = (Duration::from_millis(a), Duration::from_millis(b));
            let joined = format!("{}{}", format_duration(x), format_duration(y));
            prop_assert_eq!(parse_duration(&joined), Ok(x + y));
        }

        #[test]
        fn bigger_numbers_are_longer(n in 1..=999_999_998u64, unit in prop::sample::select(vec!["ms", "s", "m", "h", "d"])) {
            let shorter = parse_duration(&format!("{n}{unit}")).expect("valid");
            let longer = parse_duration(&format!("{}{unit}", n + 1)).expect("valid");
            prop_assert!(shorter < longer);
        }

        #[test]
        fn never_panics_and_positions_stay_in_bounds(text in "\\PC{0,24}|[0-9.a-z,µ -]{0,24}") {
            match parse_duration(&text) {
                Ok(duration) => prop_assert!(duration > Duration::ZERO && duration <= MAX_DURATION),
                Err(err) => prop_assert!(err.position() <= text.chars().count()),
            }
        }
    }
}
