//! From expression text to a schedule: the `CRON_TZ=` prefix, `@` descriptors, `@every`, and
//! the five or six fields.

use std::str::FromStr;

use chrono_tz::Tz;

use super::calendar::{Calendar, DayRule, days_in_month};
use super::error::{CronError, CronField};
use super::field::{self, Bits, FieldSpec};
use super::{CronSchedule, Rule};
use crate::duration;

const DESCRIPTORS: [(&str, &str); 7] = [
    ("@yearly", "0 0 0 1 1 *"),
    ("@annually", "0 0 0 1 1 *"),
    ("@monthly", "0 0 0 1 * *"),
    ("@weekly", "0 0 0 * * 0"),
    ("@daily", "0 0 0 * * *"),
    ("@midnight", "0 0 0 * * *"),
    ("@hourly", "0 0 * * * *"),
];

const SIX_FIELDS: [FieldSpec; 6] = [
    field::SECOND,
    field::MINUTE,
    field::HOUR,
    field::DAY_OF_MONTH,
    field::MONTH,
    field::DAY_OF_WEEK,
];

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(crate) fn parse(expression: &str) -> Result<CronSchedule, CronError> {
    let error = |field, reason: String| CronError::new(expression, field, reason);
    let text = expression.trim_ascii();
    if text.is_empty() {
        return Err(error(None, "empty expression".to_owned()));
    }
    let (tz, schedule) = match split_zone_prefix(text) {
        Some((prefix, zone, rest)) => {
            let tz = parse_zone(zone).map_err(|reason| error(Some(CronField::TimeZone), reason))?;
            if rest.is_empty() {
                return Err(error(None, format!("missing schedule after {prefix}{zone}")));
            }
            (Some(tz), rest)
        }
        None => (None, text),
    };
    let rule = if schedule.starts_with('@') {
        parse_descriptor(schedule, tz.is_some()).map_err(|(field, reason)| error(field, reason))?
    } else {
        Rule::Calendar(parse_fields(schedule).map_err(|(field, reason)| error(field, reason))?)
    };
    Ok(CronSchedule {
        expression: expression.into(),
        tz: tz.unwrap_or(Tz::UTC),
        rule,
    })
}

/// Splits `CRON_TZ=Zone rest` (or `TZ=Zone rest`) into its prefix, zone name and the rest.
fn split_zone_prefix(text: &str) -> Option<(&str, &str, &str)> {
    let prefix = ["CRON_TZ=", "TZ="].into_iter().find(|p| text.starts_with(p))?;
    let after = &text[prefix.len()..];
    let (zone, rest) = after
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((after, ""));
    Some((prefix, zone, rest.trim_ascii_start()))
}

fn parse_zone(name: &str) -> Result<Tz, String> {
    if name.is_empty() {
        return Err("missing time zone name".to_owned());
    }
    Tz::from_str(name).map_err(|_| {
        match chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
        {
            Some(tz) => format!(r#"unknown time zone "{name}" (did you mean "{}"?)"#, tz.name()),
            None => format!(r#"unknown time zone "{name}" (expected an IANA name such as "Europe/Berlin")"#),
        }
    })
}

type FieldError = (Option<CronField>, String);

fn parse_descriptor(text: &str, zoned: bool) -> Result<Rule, FieldError> {
    let mut words = text.split_ascii_whitespace();
    let name = words.next().unwrap_or(text);
    if name.eq_ignore_ascii_case("@every") {
        if zoned {
            let reason =
                "@every cannot be combined with CRON_TZ: its intervals are absolute (anchored at the Unix epoch)";
            return Err((Some(CronField::TimeZone), reason.to_owned()));
        }
        let interval = words.next().ok_or((None, "missing duration after @every".to_owned()))?;
        reject_trailing(words, &format!("@every {interval}"))?;
        return parse_every(interval).map_err(|reason| (None, reason));
    }
    let Some((_, fields)) = DESCRIPTORS.iter().find(|(known, _)| known.eq_ignore_ascii_case(name)) else {
        let reason = format!(
            r#"unknown descriptor "{name}" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)"#
        );
        return Err((None, reason));
    };
    reject_trailing(words, name)?;
    parse_fields(fields).map(Rule::Calendar)
}

fn reject_trailing<'a>(mut words: impl Iterator<Item = &'a str>, after: &str) -> Result<(), FieldError> {
    match words.next() {
        Some(extra) => Err((None, format!(r#"unexpected "{extra}" after {after}"#))),
        None => Ok(()),
    }
}

fn parse_every(interval: &str) -> Result<Rule, String> {
    let period = duration::parse_duration(interval).map_err(|err| {
        format!(
            r#"invalid @every duration "{interval}": {} at position {}"#,
            err.reason(),
            err.position()
        )
    })?;
    if period.subsec_nanos() != 0 {
        return Err(format!(
            r#"@every duration "{interval}" must be a whole number of seconds"#
        ));
    }
    let secs = i64::try_from(period.as_secs()).map_err(|_| format!(r#"@every duration "{interval}" is too long"#))?;
    Ok(Rule::Every(secs))
}

fn parse_fields(text: &str) -> Result<Calendar, FieldError> {
    let texts: Vec<&str> = text.split_ascii_whitespace().collect();
    let specs = match texts.len() {
        5 => &SIX_FIELDS[1..],
        6 => &SIX_FIELDS[..],
        n => return Err((None, format!("expected 5 or 6 fields, got {n}"))),
    };
    let mut bits = [Bits::from_raw(1); 6];
    let mut stars = [false; 6];
    let offset = 6 - specs.len();
    for (i, (spec, text)) in specs.iter().zip(&texts).enumerate() {
        let parsed = spec.parse(text).map_err(|reason| (Some(spec.field), reason))?;
        bits[offset + i] = parsed.bits;
        stars[offset + i] = parsed.star;
    }
    let rule = if stars[3] || stars[5] {
        DayRule::Both
    } else {
        DayRule::Either
    };
    let calendar = Calendar::new(bits, rule);
    check_can_fire(&calendar).map_err(|reason| (Some(CronField::DayOfMonth), reason))?;
    Ok(calendar)
}

/// Rejects day/month combinations that never occur (`0 0 30 2 *`). Only the day-of-month side
/// can be impossible: every date falls on every weekday within 400 years, and when the two
/// day fields are ORed the weekday side alone matches some day of every month.
fn check_can_fire(calendar: &Calendar) -> Result<(), String> {
    if calendar.rule() == DayRule::Either {
        return Ok(());
    }
    let Some(first_day) = calendar.days().min() else {
        return Ok(());
    };
    let months: Vec<u32> = (1..=12).filter(|&m| calendar.months().contains(m)).collect();
    // 2000 is a leap year: February may have its 29th.
    if months.iter().any(|&m| first_day <= days_in_month(2000, m)) {
        return Ok(());
    }
    let names: Vec<&str> = months.iter().map(|&m| MONTH_NAMES[m as usize - 1]).collect();
    let listed = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    };
    Err(format!("day {first_day} never occurs in {listed}"))
}
