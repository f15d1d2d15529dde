//! One cron field: its value range and names, and the parser from its text to a set of values.

use super::error::CronField;

/// A set of small integers as a bitmask; every cron field fits in 64 values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Bits(u64);

impl Bits {
    pub(crate) const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    pub(crate) const fn raw(self) -> u64 {
        self.0
    }

    pub(crate) const fn contains(self, value: u32) -> bool {
        value < 64 && (self.0 >> value) & 1 == 1
    }

    /// The smallest member that is `>= value`.
    pub(crate) const fn next_from(self, value: u32) -> Option<u32> {
        if value >= 64 {
            return None;
        }
        let rest = self.0 >> value;
        if rest == 0 {
            None
        } else {
            Some(value + rest.trailing_zeros())
        }
    }

    pub(crate) const fn min(self) -> Option<u32> {
        self.next_from(0)
    }

    fn with_range(self, lo: u32, hi: u32, step: u32) -> Self {
        let mut raw = self.0;
        let mut value = lo;
        while value <= hi {
            raw |= 1 << value;
            value += step;
        }
        Self(raw)
    }
}

/// The static description of one of the six fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpec {
    pub(crate) field: CronField,
    min: u32,
    /// The largest literal accepted (7 for day-of-week, where it means Sunday).
    max: u32,
    /// The upper end of `*` and of `a/n`: 6 for day-of-week, so `*/2` is `0,2,4,6`.
    star_max: u32,
    /// Three-letter names for `min`, `min + 1`, ...; empty when the field takes numbers only.
    names: &'static [&'static str],
    name_kind: &'static str,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const fn numeric(field: CronField, min: u32, max: u32) -> FieldSpec {
    FieldSpec {
        field,
        min,
        max,
        star_max: max,
        names: &[],
        name_kind: "",
    }
}

pub(crate) const SECOND: FieldSpec = numeric(CronField::Second, 0, 59);
pub(crate) const MINUTE: FieldSpec = numeric(CronField::Minute, 0, 59);
pub(crate) const HOUR: FieldSpec = numeric(CronField::Hour, 0, 23);
pub(crate) const DAY_OF_MONTH: FieldSpec = numeric(CronField::DayOfMonth, 1, 31);
pub(crate) const MONTH: FieldSpec = FieldSpec {
    names: &MONTH_NAMES,
    name_kind: "month",
    ..numeric(CronField::Month, 1, 12)
};
pub(crate) const DAY_OF_WEEK: FieldSpec = FieldSpec {
    star_max: 6,
    names: &WEEKDAY_NAMES,
    name_kind: "weekday",
    ..numeric(CronField::DayOfWeek, 0, 7)
};

/// A parsed field: its values, and whether it counts as unrestricted for the day-of-month /
/// day-of-week rule (Vixie cron: the text starts with `*`, or is `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedField {
    pub(crate) bits: Bits,
    pub(crate) star: bool,
}

impl FieldSpec {
    /// Parses the text of this field; the error is the reason, without the field name.
    pub(crate) fn parse(&self, text: &str) -> Result<ParsedField, String> {
        if text.contains('?') {
            return self.parse_question_mark(text);
        }
        let mut bits = Bits::default();
        for item in text.split(',') {
            bits = self.parse_item(item, bits)?;
        }
        if self.field == CronField::DayOfWeek && bits.contains(7) {
            bits = Bits((bits.0 & !(1 << 7)) | 1);
        }
        Ok(ParsedField {
            bits,
            star: text.starts_with('*'),
        })
    }

    fn parse_question_mark(&self, text: &str) -> Result<ParsedField, String> {
        if !matches!(self.field, CronField::DayOfMonth | CronField::DayOfWeek) {
            return Err(r#""?" is only allowed in day-of-month and day-of-week"#.to_owned());
        }
        if text != "?" {
            return Err(format!(r#""?" must stand alone, got "{text}""#));
        }
        Ok(ParsedField {
            bits: Bits::default().with_range(self.min, self.star_max, 1),
            star: true,
        })
    }

    fn parse_item(&self, item: &str, bits: Bits) -> Result<Bits, String> {
        if item.is_empty() {
            return Err("empty item in list".to_owned());
        }
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => (base, Some(self.parse_step(step)?)),
            None => (item, None),
        };
        let (lo, hi) = if base == "*" {
            (self.min, self.star_max)
        } else if let Some((start, end)) = base.split_once('-') {
            let (lo, hi) = (self.parse_value(start, item)?, self.parse_value(end, item)?);
            if lo > hi {
                return Err(format!("range {base} starts after it ends"));
            }
            (lo, hi)
        } else {
            let value = self.parse_value(base, item)?;
            match step {
                // `a/n` runs from a to the end of the field; Sunday-as-7 counts as 0 here.
                Some(_) if self.field == CronField::DayOfWeek && value == 7 => (0, self.star_max),
                Some(_) => (value, self.star_max),
                None => (value, value),
            }
        };
        Ok(bits.with_range(lo, hi, step.unwrap_or(1)))
    }

    fn parse_step(&self, text: &str) -> Result<u32, String> {
        if text.is_empty() {
            return Err(r#"missing step after "/""#.to_owned());
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(r#"invalid step "{text}""#));
        }
        match text.parse::<u32>() {
            Ok(step) if (1..=self.max).contains(&step) => Ok(step),
            _ => Err(format!("step {text} out of range 1-{}", self.max)),
        }
    }

    fn parse_value(&self, text: &str, item: &str) -> Result<u32, String> {
        if text.is_empty() {
            return Err(format!(r#"missing value in "{item}""#));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<u32>() {
                Ok(value) if (self.min..=self.max).contains(&value) => Ok(value),
                _ => Err(format!("value {text} out of range {}-{}", self.min, self.max)),
            };
        }
        if !self.names.is_empty() && text.chars().all(char::is_alphabetic) {
            return match self.names.iter().position(|name| name.eq_ignore_ascii_case(text)) {
                Some(index) => Ok(self.min + index as u32),
                None => Err(format!(r#"unknown {} name "{text}""#, self.name_kind)),
            };
        }
        Err(format!(r#"invalid value "{text}""#))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(spec: &FieldSpec, text: &str) -> Vec<u32> {
        let parsed = spec.parse(text).expect("valid field");
        (0..64).filter(|&v| parsed.bits.contains(v)).collect()
    }

    #[test]
    fn bits_next_from_finds_the_next_member() {
        let bits = Bits::default().with_range(3, 9, 3);
        assert_eq!(bits.next_from(0), Some(3));
        assert_eq!(bits.next_from(4), Some(6));
        assert_eq!(bits.next_from(9), Some(9));
        assert_eq!(bits.next_from(10), None);
        assert_eq!(bits.next_from(64), None);
        assert_eq!(bits.next_from(u32::MAX), None);
        assert_eq!(Bits::default().min(), None);
    }

    #[test]
    fn every_syntax_form() {
        assert_eq!(values(&MINUTE, "*/15"), [0, 15, 30, 45]);
        assert_eq!(values(&MINUTE, "10-20/5"), [10, 15, 20]);
        assert_eq!(values(&MINUTE, "50/4"), [50, 54, 58]);
        assert_eq!(values(&MINUTE, "1,5,7-8"), [1, 5, 7, 8]);
        assert_eq!(values(&MINUTE, "5-5"), [5]);
        assert_eq!(values(&HOUR, "007"), [7]);
        assert_eq!(values(&DAY_OF_MONTH, "*/10"), [1, 11, 21, 31]);
        assert_eq!(values(&MONTH, "jan-Mar,DEC"), [1, 2, 3, 12]);
        assert_eq!(values(&MONTH, "FEB/5"), [2, 7, 12]);
        assert_eq!(values(&DAY_OF_WEEK, "MON-FRI"), [1, 2, 3, 4, 5]);
        assert_eq!(values(&DAY_OF_WEEK, "sun"), [0]);
    }

    #[test]
    fn sunday_is_0_or_7() {
        assert_eq!(values(&DAY_OF_WEEK, "7"), [0]);
        assert_eq!(values(&DAY_OF_WEEK, "5-7"), [0, 5, 6]);
        assert_eq!(values(&DAY_OF_WEEK, "0-7"), [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(values(&DAY_OF_WEEK, "*/2"), [0, 2, 4, 6]);
        assert_eq!(values(&DAY_OF_WEEK, "7/3"), [0, 3, 6]);
        assert_eq!(values(&DAY_OF_WEEK, "5/1"), [5, 6]);
        assert_eq!(values(&DAY_OF_WEEK, "1-7/2"), [0, 1, 3, 5]);
    }

    #[test]
    fn star_and_question_mark_are_unrestricted() {
        assert!(DAY_OF_MONTH.parse("*").expect("valid").star);
        assert!(DAY_OF_MONTH.parse("*/2").expect("valid").star);
        assert!(DAY_OF_MONTH.parse("?").expect("valid").star);
        assert!(!DAY_OF_MONTH.parse("1-31").expect("valid").star);
        assert!(!DAY_OF_WEEK.parse("1,*").expect("valid").star);
        assert_eq!(values(&DAY_OF_WEEK, "?"), [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let cases: &[(&FieldSpec, &str, &str)] = &[
            (&MINUTE, "61", "value 61 out of range 0-59"),
            (
                &MINUTE,
                "99999999999999999999",
                "value 99999999999999999999 out of range 0-59",
            ),
            (&DAY_OF_MONTH, "0", "value 0 out of range 1-31"),
            (&DAY_OF_WEEK, "8", "value 8 out of range 0-7"),
            (&MONTH, "FOO", r#"unknown month name "FOO""#),
            (&DAY_OF_WEEK, "MONDAY", r#"unknown weekday name "MONDAY""#),
            (&MINUTE, "MON", r#"invalid value "MON""#),
            (&MINUTE, "1x", r#"invalid value "1x""#),
            (&MINUTE, "*/0", "step 0 out of range 1-59"),
            (&MINUTE, "*/60", "step 60 out of range 1-59"),
            (&HOUR, "*/", r#"missing step after "/""#),
            (&HOUR, "*/2/3", r#"invalid step "2/3""#),
            (&HOUR, "*/-1", r#"invalid step "-1""#),
            (&HOUR, "-5", r#"missing value in "-5""#),
            (&HOUR, "5-", r#"missing value in "5-""#),
            (&HOUR, "/5", r#"missing value in "/5""#),
            (&HOUR, "1-2-3", r#"invalid value "2-3""#),
            (&HOUR, "10-2", "range 10-2 starts after it ends"),
            (&HOUR, "1,,2", "empty item in list"),
            (&HOUR, "", "empty item in list"),
            (&HOUR, "?", r#""?" is only allowed in day-of-month and day-of-week"#),
            (&DAY_OF_MONTH, "?/2", r#""?" must stand alone, got "?/2""#),
            (&MINUTE, "٣", r#"invalid value "٣""#),
            (&MONTH, "ÉTÉ", r#"unknown month name "ÉTÉ""#),
        ];
        for &(spec, text, reason) in cases {
            assert_eq!(spec.parse(text), Err(reason.to_owned()), "{:?} {text:?}", spec.field);
        }
    }
}
