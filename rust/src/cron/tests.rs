//! Whole schedules: parsing errors, next fire times, the DST policy, and the search bounds.
//! Property tests live in `proptests.rs`.

use chrono::{DateTime, Utc};

use super::*;

pub(super) fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid RFC 3339 in tests")
        .to_utc()
}

pub(super) fn schedule(expression: &str) -> CronSchedule {
    CronSchedule::parse(expression).unwrap_or_else(|err| panic!("{err}"))
}

fn next(expression: &str, after: &str) -> Option<String> {
    schedule(expression).next_after(utc(after)).map(|t| t.to_rfc3339())
}

/// The first `n` fire times after `after`, as RFC 3339 text.
fn fires(expression: &str, after: &str, n: usize) -> Vec<String> {
    let schedule = schedule(expression);
    schedule
        .iter_after(utc(after))
        .take(n)
        .map(|t| t.to_rfc3339())
        .collect()
}

fn error(expression: &str) -> (Option<&'static str>, String) {
    let err = CronSchedule::parse(expression).expect_err(expression);
    assert_eq!(err.expression(), expression);
    (err.field().map(CronField::name), err.reason().to_owned())
}

#[test]
fn tutorial_expressions() {
    assert_eq!(
        next("0 */1 * * *", "2025-01-01T10:20:00Z").as_deref(),
        Some("2025-01-01T11:00:00+00:00")
    );
    assert_eq!(
        next("0 0 2 * * *", "2025-01-01T02:00:00Z").as_deref(),
        Some("2025-01-02T02:00:00+00:00")
    );
    assert_eq!(
        next("0 0 1 * * *", "2025-01-01T00:59:59Z").as_deref(),
        Some("2025-01-01T01:00:00+00:00")
    );
    assert_eq!(
        fires("*/30 * * * * *", "2025-01-01T10:00:00.5Z", 3),
        [
            "2025-01-01T10:00:30+00:00",
            "2025-01-01T10:01:00+00:00",
            "2025-01-01T10:01:30+00:00"
        ]
    );
    assert_eq!(
        fires("0 0 */6 * * *", "2025-01-01T12:00:00Z", 3),
        [
            "2025-01-01T18:00:00+00:00",
            "2025-01-02T00:00:00+00:00",
            "2025-01-02T06:00:00+00:00"
        ]
    );
}

#[test]
fn next_is_strictly_after_even_with_sub_second_input() {
    assert_eq!(
        next("* * * * * *", "2025-01-01T10:00:00Z").as_deref(),
        Some("2025-01-01T10:00:01+00:00")
    );
    assert_eq!(
        next("* * * * * *", "2025-01-01T10:00:00.999999999Z").as_deref(),
        Some("2025-01-01T10:00:01+00:00")
    );
    assert_eq!(
        next("* * * * *", "2025-01-01T10:00:00.000001Z").as_deref(),
        Some("2025-01-01T10:01:00+00:00")
    );
    assert_eq!(
        next("0 * * * * *", "2024-12-31T23:59:59.5Z").as_deref(),
        Some("2025-01-01T00:00:00+00:00")
    );
}

#[test]
fn descriptors() {
    let after = "2025-05-17T13:14:15Z";
    assert_eq!(next("@yearly", after).as_deref(), Some("2026-01-01T00:00:00+00:00"));
    assert_eq!(next("@annually", after), next("@yearly", after));
    assert_eq!(next("@monthly", after).as_deref(), Some("2025-06-01T00:00:00+00:00"));
    assert_eq!(next("@weekly", after).as_deref(), Some("2025-05-18T00:00:00+00:00"));
    assert_eq!(next("@daily", after).as_deref(), Some("2025-05-18T00:00:00+00:00"));
    assert_eq!(next("@MIDNIGHT", after), next("@daily", after));
    assert_eq!(next("@hourly", after).as_deref(), Some("2025-05-17T14:00:00+00:00"));
    assert_eq!(
        next("CRON_TZ=Asia/Kolkata @daily", after).as_deref(),
        Some("2025-05-17T18:30:00+00:00")
    );
}

#[test]
fn every_is_anchored_at_the_unix_epoch() {
    // 2025-01-01T00:00Z is 1735689600 s = 4132594 * 420 s + 120 s.
    assert_eq!(
        fires("@every 7m", "2025-01-01T00:00:00Z", 2),
        ["2025-01-01T00:05:00+00:00", "2025-01-01T00:12:00+00:00"]
    );
    assert_eq!(
        next("@every 1.5h", "1970-01-01T00:00:00Z").as_deref(),
        Some("1970-01-01T01:30:00+00:00")
    );
    assert_eq!(
        next("@every 1d", "1969-12-31T12:00:00Z").as_deref(),
        Some("1970-01-01T00:00:00+00:00")
    );
    assert_eq!(
        next("@every 1s", "1969-12-31T23:59:59.5Z").as_deref(),
        Some("1970-01-01T00:00:00+00:00")
    );
    assert!(schedule("@every 10s").fires_at(utc("2025-01-01T00:00:10Z")));
    assert!(!schedule("@every 10s").fires_at(utc("2025-01-01T00:00:11Z")));
}

#[test]
fn names_and_sunday_as_seven() {
    // 2025-05-17 is a Saturday.
    let after = "2025-05-17T00:00:00Z";
    assert_eq!(next("0 0 * * sun", after), next("0 0 * * 7", after));
    assert_eq!(next("0 0 * * 0", after).as_deref(), Some("2025-05-18T00:00:00+00:00"));
    assert_eq!(
        next("0 0 * * MON-FRI", after).as_deref(),
        Some("2025-05-19T00:00:00+00:00")
    );
    assert_eq!(
        next("0 0 1 jan,Jul *", after).as_deref(),
        Some("2025-07-01T00:00:00+00:00")
    );
}

#[test]
fn day_fields_combine_with_or_when_both_are_restricted() {
    // 2025-06-01 is a Sunday. Day 15 OR Mondays:
    assert_eq!(
        fires("0 0 15 * MON", "2025-06-01T00:00:00Z", 3),
        [
            "2025-06-02T00:00:00+00:00",
            "2025-06-09T00:00:00+00:00",
            "2025-06-15T00:00:00+00:00"
        ]
    );
    // A field starting with `*` is unrestricted (Vixie), so these are ANDs: odd days that are Mondays.
    assert_eq!(
        fires("0 0 */2 * MON", "2025-06-01T00:00:00Z", 2),
        ["2025-06-09T00:00:00+00:00", "2025-06-23T00:00:00+00:00"]
    );
    // ... and days 1-7 on a Sunday only when day-of-week starts with `*`.
    assert_eq!(
        next("0 0 1-7 * */7", "2025-06-02T00:00:00Z").as_deref(),
        Some("2025-07-06T00:00:00+00:00")
    );
    // `?` is `*`: Mondays only.
    assert_eq!(
        next("0 0 ? * MON", "2025-06-03T00:00:00Z").as_deref(),
        Some("2025-06-09T00:00:00+00:00")
    );
    // `1-31` does not start with `*`: it is restricted, and ORed with Mondays matches every day.
    assert_eq!(
        next("0 0 1-31 * MON", "2025-06-03T00:00:00Z").as_deref(),
        Some("2025-06-04T00:00:00+00:00")
    );
}

#[test]
fn rare_dates_are_found_decades_ahead() {
    assert_eq!(
        next("0 0 29 2 *", "2097-03-01T00:00:00Z").as_deref(),
        Some("2104-02-29T00:00:00+00:00")
    );
    // 29 February on a Sunday: 2088, then 2128 (2100 is not a leap year).
    assert_eq!(
        next("0 0 29 2 */7", "2088-03-01T00:00:00Z").as_deref(),
        Some("2128-02-29T00:00:00+00:00")
    );
}

#[test]
fn search_stops_at_the_end_of_year_9999() {
    assert_eq!(
        next("* * * * * *", "9999-12-31T23:59:58Z").as_deref(),
        Some("9999-12-31T23:59:59+00:00")
    );
    assert_eq!(next("* * * * * *", "9999-12-31T23:59:59Z"), None);
    assert_eq!(next("@yearly", "9999-01-01T00:00:00Z"), None);
    assert_eq!(next("@every 1h", "9999-12-31T23:00:00Z"), None);
    // East of UTC, the local year 10000 starts inside the UTC year 9999.
    assert_eq!(
        next("CRON_TZ=Pacific/Kiritimati @yearly", "9999-06-01T00:00:00Z").as_deref(),
        Some("9999-12-31T10:00:00+00:00")
    );
    assert_eq!(
        next("CRON_TZ=Pacific/Pago_Pago 0 14 31 12 *", "9999-06-01T00:00:00Z"),
        None
    );
    assert_eq!(schedule("@daily").iter_after(utc("9999-12-29T12:00:00Z")).count(), 2);
    assert_eq!(schedule("@daily").next_after(DateTime::<Utc>::MAX_UTC), None);
}

#[test]
fn search_starts_at_year_1() {
    let first = schedule("@yearly").next_after(DateTime::<Utc>::MIN_UTC);
    assert_eq!(
        first.map(|t| t.to_rfc3339()).as_deref(),
        Some("0001-01-01T00:00:00+00:00")
    );
    let first = schedule("@every 1h").next_after(DateTime::<Utc>::MIN_UTC);
    assert_eq!(first.map(|t| t.timestamp()), Some(FIRST_FIRE_TIMESTAMP));
    assert!(!schedule("* * * * * *").fires_at(utc("0000-12-31T23:59:59Z")));
}

#[test]
fn zone_prefix() {
    let berlin = schedule("CRON_TZ=Europe/Berlin 0 0 9 * * *");
    assert_eq!(berlin.timezone(), Tz::Europe__Berlin);
    assert_eq!(berlin.expression(), "CRON_TZ=Europe/Berlin 0 0 9 * * *");
    assert_eq!(
        next("CRON_TZ=Europe/Berlin 0 9 * * *", "2025-01-15T00:00:00Z").as_deref(),
        Some("2025-01-15T08:00:00+00:00")
    );
    assert_eq!(
        next("TZ=Europe/Berlin 0 9 * * *", "2025-07-15T00:00:00Z").as_deref(),
        Some("2025-07-15T07:00:00+00:00")
    );
    assert_eq!(
        next("  CRON_TZ=Asia/Kolkata   30 9 * * * ", "2025-07-15T00:00:00Z").as_deref(),
        Some("2025-07-15T04:00:00+00:00")
    );
    assert_eq!(schedule("0 0 * * *").timezone(), Tz::UTC);
}

#[test]
fn equality_and_hashing_follow_the_expression() {
    use std::collections::HashSet;
    assert_eq!(schedule("0 0 * * *"), schedule("0 0 * * *"));
    assert_ne!(schedule("0 0 * * *"), schedule("0  0 * * *"));
    let set: HashSet<CronSchedule> = ["@daily", "@daily", "0 0 * * *"].into_iter().map(schedule).collect();
    assert_eq!(set.len(), 2);
    assert_eq!(schedule("@daily").to_string(), "@daily");
    assert_eq!(
        "@hourly".parse::<CronSchedule>().map(|s| s.to_string()).ok().as_deref(),
        Some("@hourly")
    );
}

#[test]
fn parse_errors_name_the_field_and_the_reason() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("", None, "empty expression"),
        ("   ", None, "empty expression"),
        ("* * * *", None, "expected 5 or 6 fields, got 4"),
        ("* * * * * * *", None, "expected 5 or 6 fields, got 7"),
        ("61 * * * *", Some("minute"), "value 61 out of range 0-59"),
        ("60 * * * * *", Some("second"), "value 60 out of range 0-59"),
        ("* 24 * * *", Some("hour"), "value 24 out of range 0-23"),
        ("* * 32 * *", Some("day-of-month"), "value 32 out of range 1-31"),
        ("* * * 13 *", Some("month"), "value 13 out of range 1-12"),
        ("* * * FOO *", Some("month"), r#"unknown month name "FOO""#),
        ("* * * * 8", Some("day-of-week"), "value 8 out of range 0-7"),
        ("* * * * FUN", Some("day-of-week"), r#"unknown weekday name "FUN""#),
        ("*/0 * * * *", Some("minute"), "step 0 out of range 1-59"),
        (
            "? * * * *",
            Some("minute"),
            r#""?" is only allowed in day-of-month and day-of-week"#,
        ),
        ("0 0 30 2 *", Some("day-of-month"), "day 30 never occurs in February"),
        (
            "0 0 31 4,6,9,11 *",
            Some("day-of-month"),
            "day 31 never occurs in April, June, September or November",
        ),
        (
            "0 0 30-31 2 */2",
            Some("day-of-month"),
            "day 30 never occurs in February",
        ),
        (
            "@often",
            None,
            r#"unknown descriptor "@often" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)"#,
        ),
        ("@daily 5", None, r#"unexpected "5" after @daily"#),
        ("@every", None, "missing duration after @every"),
        ("@every 5m 3", None, r#"unexpected "3" after @every 5m"#),
        (
            "@every 5x",
            None,
            r#"invalid @every duration "5x": unknown unit "x" (expected ms, s, m, h or d) at position 1"#,
        ),
        (
            "@every 1500ms",
            None,
            r#"@every duration "1500ms" must be a whole number of seconds"#,
        ),
        (
            "CRON_TZ=Europe/Berlin @every 1h",
            Some("timezone"),
            "@every cannot be combined with CRON_TZ: its intervals are absolute (anchored at the Unix epoch)",
        ),
        (
            "CRON_TZ=Mars/Olympus 0 * * * *",
            Some("timezone"),
            r#"unknown time zone "Mars/Olympus" (expected an IANA name such as "Europe/Berlin")"#,
        ),
        (
            "CRON_TZ=europe/berlin 0 * * * *",
            Some("timezone"),
            r#"unknown time zone "europe/berlin" (did you mean "Europe/Berlin"?)"#,
        ),
        ("CRON_TZ= 0 * * * *", Some("timezone"), "missing time zone name"),
        ("CRON_TZ=UTC", None, "missing schedule after CRON_TZ=UTC"),
    ];
    for &(expression, field, reason) in cases {
        assert_eq!(error(expression), (field, reason.to_owned()), "{expression:?}");
    }
}

#[test]
fn impossible_looking_but_valid_day_combinations_parse() {
    for expression in ["0 0 29 2 *", "0 0 30 2 MON", "0 0 31 2,3 *", "0 0 */30 2 *"] {
        assert!(CronSchedule::parse(expression).is_ok(), "{expression}");
    }
}
