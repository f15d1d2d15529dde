//! Property tests: parsing never panics, and `next_after` agrees with a second-by-second scan
//! of `fires_at` for random expressions, zones and instants (many of them next to DST changes).

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::CronSchedule;

const ZONES: [&str; 10] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Tehran",
];
const MONTHS: [&str; 12] = [
    "JAN", "feb", "Mar", "APR", "may", "JUN", "jul", "AUG", "sep", "OCT", "nov", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "mon", "Tue", "WED", "thu", "FRI", "sat"];

/// Seconds scanned by the brute-force oracle after each instant.
const WINDOW_SECS: i64 = 4 * 3600;

fn value(min: u32, max: u32, names: &'static [&'static str]) -> BoxedStrategy<String> {
    let number = (min..=max).prop_map(|v| v.to_string());
    if names.is_empty() {
        number.boxed()
    } else {
        prop_oneof![number, prop::sample::select(names).prop_map(str::to_owned)].boxed()
    }
}

/// Every syntax form of one list item: `*`, `*/n`, `a`, `a-b`, `a-b/n`, `a/n`.
fn item(min: u32, max: u32, names: &'static [&'static str]) -> BoxedStrategy<String> {
    let ordered = (min..=max, min..=max).prop_map(|(a, b)| (a.min(b), a.max(b)));
    let name = move |v: u32| match names.get((v - min) as usize) {
        Some(name) if v % 2 == 0 => (*name).to_owned(),
        _ => v.to_string(),
    };
    prop_oneof![
        Just("*".to_owned()),
        (1..=max).prop_map(|n| format!("*/{n}")),
        value(min, max, names),
        ordered
            .clone()
            .prop_map(move |(a, b)| format!("{}-{}", name(a), name(b))),
        (ordered, 1..=max).prop_map(|((a, b), n)| format!("{a}-{b}/{n}")),
        (min..=max, 1..=max).prop_map(move |(a, n)| format!("{}/{n}", name(a))),
    ]
    .boxed()
}

/// A field: mostly `*` (so that schedules fire often enough for the scan), else a list.
fn field(min: u32, max: u32, names: &'static [&'static str], question: bool) -> BoxedStrategy<String> {
    let list = prop::collection::vec(item(min, max, names), 1..=3).prop_map(|items| items.join(","));
    let star = if question {
        prop_oneof![Just("*"), Just("?")].boxed()
    } else {
        Just("*").boxed()
    };
    prop_oneof![2 => star.prop_map(str::to_owned), 3 => list].boxed()
}

fn expression() -> impl Strategy<Value = String> {
    let fields = (
        prop_oneof![Just(None), field(0, 59, &[], false).prop_map(Some)],
        field(0, 59, &[], false),
        field(0, 23, &[], false),
        field(1, 31, &[], true),
        field(1, 12, &MONTHS, false),
        field(0, 7, &WEEKDAYS, true),
    );
    (prop::sample::select(&ZONES[..]), fields).prop_map(|(zone, (s, mi, h, dom, mo, dow))| {
        let second = s.map(|s| s + " ").unwrap_or_default();
        format!("CRON_TZ={zone} {second}{mi} {h} {dom} {mo} {dow}")
    })
}

/// Where to look from: anywhere, or within a few hours of one of the zone's offset changes.
fn instant() -> impl Strategy<Value = Instant> {
    prop_oneof![
        1 => (-2_208_988_800..4_102_444_800i64, 0..1_000_000_000u32).prop_map(|(s, n)| Instant::At(s, n)),
        // Mostly shortly before the change, so that the scanned window covers it.
        3 => (1990..2040i32, 0..4usize, -3 * 3600..3600i64).prop_map(|(y, i, d)| Instant::NearChange(y, i, d)),
    ]
}

#[derive(Debug, Clone)]
enum Instant {
    At(i64, u32),
    NearChange(i32, usize, i64),
}

impl Instant {
    fn resolve(&self, tz: Tz) -> Option<DateTime<Utc>> {
        match *self {
            Self::At(secs, nanos) => DateTime::from_timestamp(secs, nanos),
            Self::NearChange(year, index, delta) => {
                let changes = offset_changes(tz, year);
                let change = changes.get(index % changes.len().max(1)).copied().unwrap_or(0);
                DateTime::from_timestamp(change + delta, 0)
            }
        }
    }
}

/// The instants in `year` at which the zone's UTC offset changes.
fn offset_changes(tz: Tz, year: i32) -> Vec<i64> {
    let offset = |secs: i64| {
        tz.offset_from_utc_datetime(&DateTime::from_timestamp(secs, 0).unwrap_or_default().naive_utc())
            .fix()
    };
    let start = Utc
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp());
    let mut changes = Vec::new();
    for hour in 0..366 * 24 {
        let (lo, hi) = (start + hour * 3600, start + (hour + 1) * 3600);
        if offset(lo) != offset(hi) {
            let (mut lo, mut hi) = (lo, hi);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset(mid) == offset(lo) { lo = mid } else { hi = mid }
            }
            changes.push(hi);
        }
    }
    changes
}

fn brute_force_next(schedule: &CronSchedule, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (1..=WINDOW_SECS)
        .filter_map(|d| DateTime::from_timestamp(after.timestamp() + d, 0))
        .find(|&t| schedule.fires_at(t))
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "*",
            "?",
            "-",
            "/",
            ",",
            " ",
            "\t",
            "@",
            "@every",
            "@daily",
            "CRON_TZ=",
            "TZ=",
            "Europe/Berlin",
            "MON",
            "jan",
            "L",
            "W",
            "#",
            "0",
            "7",
            "59",
            "60",
            "99999999999999999999",
            "18446744073709551616",
            "-1",
            "1.5h",
            "ms",
            "é",
            "\u{0660}",
            "\u{00a0}",
            "\u{3000}",
            "🕐",
        ])
        .prop_map(str::to_owned),
        "[0-9]{1,30}",
        "\\PC{1,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn next_after_matches_a_second_by_second_scan(expression in expression(), at in instant()) {
        let Ok(schedule) = CronSchedule::parse(&expression) else {
            // Only a day/month combination that never occurs is rejected.
            let err = CronSchedule::parse(&expression).expect_err("just failed");
            prop_assert!(err.reason().contains("never occurs"), "{}", err);
            return Ok(());
        };
        let Some(after) = at.resolve(schedule.timezone()) else { return Ok(()) };
        let next = schedule.next_after(after);
        if let Some(t) = next {
            prop_assert!(t > after);
            prop_assert!(schedule.fires_at(t), "{expression} does not fire at {t}");
        }
        match brute_force_next(&schedule, after) {
            Some(expected) => prop_assert_eq!(next, Some(expected), "{} after {}", expression, after),
            None => prop_assert!(next.is_some_and(|t| t.timestamp() > after.timestamp() + WINDOW_SECS)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in "\\PC{0,40}") {
        if let Ok(schedule) = CronSchedule::parse(&text) {
            let _ = schedule.next_after(Utc::now());
        }
    }

    #[test]
    fn parse_never_panics_on_cron_like_text(tokens in prop::collection::vec(token(), 0..14)) {
        let text = tokens.concat();
        match CronSchedule::parse(&text) {
            Ok(schedule) => {
                let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
                if let Some(next) = schedule.next_after(t) {
                    prop_assert!(next > t);
                }
            }
            Err(err) => prop_assert_eq!(err.expression(), text.as_str()),
        }
    }

    #[test]
    fn iterator_is_strictly_increasing(expression in expression(), secs in 0..4_102_444_800i64) {
        if let (Ok(schedule), Some(after)) = (CronSchedule::parse(&expression), DateTime::from_timestamp(secs, 0)) {
            let times: Vec<_> = schedule.iter_after(after).take(5).collect();
            prop_assert!(times.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(times.first().is_none_or(|&t| t > after));
        }
    }
}
