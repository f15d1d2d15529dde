//! Retry intervals: `retryPolicy.interval` is one duration (`30m`) or a comma list (`1m,2m,4m`).
//!
//! The delay before retry k (k = 1 after the first failed attempt) is the k-th value; once the
//! list is used up its last value repeats. Whitespace around list items is ignored; an empty
//! item is an error, as is any invalid duration (see `duration.rs`).

use std::num::NonZeroU32;
use std::time::Duration;

use crate::duration::{DurationError, parse_span};

/// A parsed, non-empty retry interval.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RetryInterval {
    delays: Box<[Duration]>,
}

impl RetryInterval {
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let fail = |(byte, reason)| DurationError::at_byte(text, byte, reason);
        if text.trim_ascii().is_empty() {
            return Err(fail((0, "empty retry interval".to_owned())));
        }
        let mut delays = Vec::new();
        let mut start = 0;
        for item in text.split(',') {
            let lead = item.len() - item.trim_ascii_start().len();
            let (from, to) = (start + lead, start + item.trim_ascii_end().len());
            if from >= to {
                return Err(fail((
                    from.min(start + item.len()),
                    "empty item in retry interval list".to_owned(),
                )));
            }
            delays.push(parse_span(text, from, to).map_err(fail)?);
            start += item.len() + 1;
        }
        Ok(Self {
            delays: delays.into_boxed_slice(),
        })
    }

    /// The delays in order; never empty.
    #[must_use]
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The delay before retry `retry_number` (1-based).
    #[must_use]
    pub fn delay_for_retry(&self, retry_number: NonZeroU32) -> Duration {
        retry_index(self.delays.len(), retry_number).map_or(Duration::ZERO, |i| self.delays[i])
    }
}

/// Which of `len` delays applies to retry `retry_number`: the k-th, or the last one once the list
/// is used up. `None` only when `len` is 0. Shared with the Python binding, which applies it to
/// any sequence of timedeltas.
#[must_use]
pub fn retry_index(len: usize, retry_number: NonZeroU32) -> Option<usize> {
    let k = usize::try_from(retry_number.get()).unwrap_or(usize::MAX);
    len.checked_sub(1).map(|last| (k - 1).min(last))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::duration::format_duration;

    fn retry(k: u32) -> NonZeroU32 {
        NonZeroU32::new(k).expect("retry numbers in tests are positive")
    }

    fn minutes(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|m| Duration::from_secs(m * 60)).collect()
    }

    #[test]
    fn single_duration_applies_to_every_retry() {
        let interval = RetryInterval::parse("30m").expect("valid");
        assert_eq!(interval.delays(), minutes(&[30]));
        for k in [1, 2, 100, u32::MAX] {
            assert_eq!(interval.delay_for_retry(retry(k)), Duration::from_secs(1800));
        }
    }

    #[test]
    fn list_gives_kth_value_then_repeats_the_last() {
        let interval = RetryInterval::parse("1m,2m, 4m ,\t8m").expect("valid");
        assert_eq!(interval.delays(), minutes(&[1, 2, 4, 8]));
        let delays: Vec<_> = (1..=6).map(|k| interval.delay_for_retry(retry(k))).collect();
        assert_eq!(delays, minutes(&[1, 2, 4, 8, 8, 8]));
    }

    #[test]
    fn errors_point_into_the_whole_text() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty retry interval"),
            ("  ", 0, "empty retry interval"),
            ("1m,,2m", 3, "empty item in retry interval list"),
            ("1m,", 3, "empty item in retry interval list"),
            (",1m", 0, "empty item in retry interval list"),
            ("1m, ,2m", 4, "empty item in retry interval list"),
            ("1m,2m,4w", 7, r#"unknown unit "w" (expected ms, s, m, h or d)"#),
            ("1m, 0s", 4, "zero duration (durations must be positive)"),
            ("1m,-2m", 3, "negative durations are not allowed"),
            ("1m 2m", 2, r#"expected a number, found " ""#),
            ("ä,1x", 0, r#"expected a number, found "ä""#),
            ("1m,ä", 3, r#"expected a number, found "ä""#),
        ];
        for &(text, position, reason) in cases {
            let err = RetryInterval::parse(text).expect_err(text);
            assert_eq!((err.position(), err.reason()), (position, reason), "{text:?}");
            assert_eq!(err.text(), text);
        }
    }

    #[test]
    fn retry_index_clamps_to_the_last() {
        assert_eq!(retry_index(0, retry(1)), None);
        assert_eq!(retry_index(3, retry(1)), Some(0));
        assert_eq!(retry_index(3, retry(3)), Some(2));
        assert_eq!(retry_index(3, retry(u32::MAX)), Some(2));
    }

    proptest! {
        #[test]
        fn formatted_lists_round_trip(millis in prop::collection::vec(1..=10_000_000_000u64, 1..8)) {
            let delays: Vec<Duration> = millis.iter().map(|&m| Duration::from_millis(m)).collect();
            let text = delays.iter().map(|&d| format_duration(d)).collect::<Vec<_>>().join(", ");
            let interval = RetryInterval::parse(&text).expect("formatted lists parse");
            prop_assert_eq!(interval.delays(), &delays[..]);
            for k in 1..=delays.len() as u32 + 3 {
                let expected = delays[(k as usize).min(delays.len()) - 1];
                prop_assert_eq!(interval.delay_for_retry(retry(k)), expected);
            }
        }

        #[test]
        fn never_panics(text in "\\PC{0,24}|[0-9a-z, .]{0,24}") {
            if let Err(err) = RetryInterval::parse(&text) {
                prop_assert!(err.position() <= text.chars().count());
            }
        }
    }
}
