//! The DST policy on real zones: a local time in a gap never fires, a local time in a fold
//! fires once, at its first occurrence.

use super::tests::{schedule, utc};

fn fires(expression: &str, after: &str, n: usize) -> Vec<String> {
    let schedule = schedule(expression);
    schedule
        .iter_after(utc(after))
        .take(n)
        .map(|t| t.to_rfc3339())
        .collect()
}

// America/New_York 2025: 02:00 EST -> 03:00 EDT on 9 March (07:00Z);
// 02:00 EDT -> 01:00 EST on 2 November (06:00Z).

#[test]
fn gap_time_is_skipped() {
    assert_eq!(
        fires("CRON_TZ=America/New_York 30 2 * * *", "2025-03-08T12:00:00Z", 2),
        ["2025-03-10T06:30:00+00:00", "2025-03-11T06:30:00+00:00"]
    );
}

#[test]
fn per_minute_schedule_runs_straight_through_the_gap() {
    assert_eq!(
        fires("CRON_TZ=America/New_York * * * * *", "2025-03-09T06:58:00Z", 2),
        ["2025-03-09T06:59:00+00:00", "2025-03-09T07:00:00+00:00"]
    );
}

#[test]
fn fold_time_fires_once_at_the_first_occurrence() {
    assert_eq!(
        fires("CRON_TZ=America/New_York 30 1 * * *", "2025-11-01T12:00:00Z", 2),
        ["2025-11-02T05:30:00+00:00", "2025-11-03T06:30:00+00:00"]
    );
}

#[test]
fn repeated_hour_is_not_repeated() {
    assert_eq!(
        fires("CRON_TZ=America/New_York */15 * * * *", "2025-11-02T05:40:00Z", 3),
        [
            "2025-11-02T05:45:00+00:00",
            "2025-11-02T07:00:00+00:00",
            "2025-11-02T07:15:00+00:00"
        ]
    );
}

#[test]
fn starting_inside_the_second_occurrence_skips_to_the_end_of_the_fold() {
    // 06:20Z is 01:20 EST, the second 01:20: every local time up to 01:59:59 already fired.
    assert_eq!(
        fires("CRON_TZ=America/New_York */15 * * * *", "2025-11-02T06:20:00Z", 1),
        ["2025-11-02T07:00:00+00:00"]
    );
    assert_eq!(
        fires("CRON_TZ=America/New_York * * * * * *", "2025-11-02T06:20:00.25Z", 1),
        ["2025-11-02T07:00:00+00:00"]
    );
    // The last second of the first occurrence is not inside the second one.
    assert_eq!(
        fires("CRON_TZ=America/New_York * * * * * *", "2025-11-02T05:59:58Z", 2),
        ["2025-11-02T05:59:59+00:00", "2025-11-02T07:00:00+00:00"]
    );
}

// Australia/Lord_Howe shifts by 30 minutes: +10:30 -> +11 at 02:00 on 5 October 2025,
// +11 -> +10:30 at 02:00 on 6 April 2025.

#[test]
fn half_hour_gap() {
    assert_eq!(
        fires("CRON_TZ=Australia/Lord_Howe 15 2 * * *", "2025-10-04T12:00:00Z", 2),
        ["2025-10-05T15:15:00+00:00", "2025-10-06T15:15:00+00:00"]
    );
    assert_eq!(
        fires(
            "CRON_TZ=Australia/Lord_Howe 0 */10 1-3 * * *",
            "2025-10-04T15:15:00Z",
            4
        ),
        [
            "2025-10-04T15:20:00+00:00",
            "2025-10-04T15:30:00+00:00",
            "2025-10-04T15:40:00+00:00",
            "2025-10-04T15:50:00+00:00"
        ]
    );
    // 01:50 +10:30 is 15:20Z; the next local times 02:00..02:20 do not exist; 02:30 +11 is 15:30Z.
    assert_eq!(
        fires("CRON_TZ=Australia/Lord_Howe 0 */10 * * * *", "2025-10-04T15:19:00Z", 2),
        ["2025-10-04T15:20:00+00:00", "2025-10-04T15:30:00+00:00"]
    );
}

#[test]
fn half_hour_fold() {
    assert_eq!(
        fires("CRON_TZ=Australia/Lord_Howe 45 1 * * *", "2025-04-05T00:00:00Z", 2),
        ["2025-04-05T14:45:00+00:00", "2025-04-06T15:15:00+00:00"]
    );
}

#[test]
fn a_whole_skipped_day() {
    // Samoa moved across the date line: 30 December 2011 did not exist in Pacific/Apia.
    assert_eq!(
        fires("CRON_TZ=Pacific/Apia 0 12 * * *", "2011-12-28T23:00:00Z", 2),
        ["2011-12-29T22:00:00+00:00", "2011-12-30T22:00:00+00:00"]
    );
    assert!(schedule("CRON_TZ=Pacific/Apia 0 12 30 12 *").fires_at(utc("2012-12-29T22:00:00Z")));
}

#[test]
fn fires_at_applies_the_same_policy() {
    let schedule = schedule("CRON_TZ=America/New_York 30 1 * * *");
    assert!(schedule.fires_at(utc("2025-11-02T05:30:00Z")));
    assert!(!schedule.fires_at(utc("2025-11-02T06:30:00Z")));
    assert!(!schedule.fires_at(utc("2025-11-02T05:30:00.5Z")));
}

#[test]
fn zone_rules_continue_past_the_zone_tables() {
    // The tables end in 2099 (see `tz.rs`); later years follow the same rules.
    assert_eq!(
        fires("CRON_TZ=America/New_York 30 2 8 3 *", "2099-01-01T00:00:00Z", 1),
        ["2100-03-08T07:30:00+00:00"]
    );
    // 14 March 2100 is the second Sunday of March: 02:30 does not exist; in 2101 it is EDT.
    assert_eq!(
        fires("CRON_TZ=America/New_York 30 2 14 3 *", "2100-01-01T00:00:00Z", 1),
        ["2101-03-14T06:30:00+00:00"]
    );
    assert_eq!(
        fires("CRON_TZ=America/New_York 0 12 4 7 *", "2150-01-01T00:00:00Z", 1),
        ["2150-07-04T16:00:00+00:00"]
    );
    assert_eq!(
        fires("CRON_TZ=America/New_York 30 1 7 11 *", "9999-01-01T00:00:00Z", 1),
        ["9999-11-07T05:30:00+00:00"]
    );
    assert_eq!(
        fires("CRON_TZ=Australia/Lord_Howe 0 12 15 1,6 *", "5000-01-01T00:00:00Z", 2),
        ["5000-01-15T01:00:00+00:00", "5000-06-15T01:30:00+00:00"]
    );
}
