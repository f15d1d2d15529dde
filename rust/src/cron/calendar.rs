//! The six parsed fields as bitsets, and the search for the next matching local (wall-clock)
//! time. Time zones are not this module's concern: `tz.rs` maps its answers to instants.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::field::Bits;

/// How day-of-month and day-of-week combine (Vixie cron): when either field is unrestricted
/// (starts with `*`, or is `?`) a day must match both; when both are restricted, either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayRule {
    Both,
    Either,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Calendar {
    seconds: Bits,
    minutes: Bits,
    hours: Bits,
    /// Bits 1..=31.
    days: Bits,
    /// Bits 1..=12.
    months: Bits,
    /// Bits 0..=6, Sunday = 0.
    weekdays: Bits,
    rule: DayRule,
    /// For each weekday of the 1st of a month, the days 1..=31 whose weekday is in `weekdays`;
    /// turns the weekday test into one mask per month.
    weekday_days: [u64; 7],
}

impl Calendar {
    pub(crate) fn new(fields: [Bits; 6], rule: DayRule) -> Self {
        let [seconds, minutes, hours, days, months, weekdays] = fields;
        let mut weekday_days = [0; 7];
        for (first, mask) in (0u32..).zip(weekday_days.iter_mut()) {
            for day in 1..=31 {
                if weekdays.contains((first + day - 1) % 7) {
                    *mask |= 1 << day;
                }
            }
        }
        Self {
            seconds,
            minutes,
            hours,
            days,
            months,
            weekdays,
            rule,
            weekday_days,
        }
    }

    pub(crate) fn days(&self) -> Bits {
        self.days
    }

    pub(crate) fn months(&self) -> Bits {
        self.months
    }

    pub(crate) fn rule(&self) -> DayRule {
        self.rule
    }

    /// Whether the local time matches every field (sub-second precision is ignored).
    pub(crate) fn matches(&self, local: NaiveDateTime) -> bool {
        let day_of_month = self.days.contains(local.day());
        let day_of_week = self.weekdays.contains(local.weekday().num_days_from_sunday());
        let day = match self.rule {
            DayRule::Both => day_of_month && day_of_week,
            DayRule::Either => day_of_month || day_of_week,
        };
        day && self.months.contains(local.month())
            && self.hours.contains(local.hour())
            && self.minutes.contains(local.minute())
            && self.seconds.contains(local.second())
    }

    /// The matching days of a month, as bits 1..=31; `None` when the date is out of range.
    fn day_mask(&self, year: i32, month: u32) -> Option<u64> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let length = days_in_month(year, month);
        let in_month = (1u64 << (length + 1)) - 2;
        let by_weekday = self.weekday_days[first.weekday().num_days_from_sunday() as usize];
        let matching = match self.rule {
            DayRule::Both => self.days.raw() & by_weekday,
            DayRule::Either => self.days.raw() | by_weekday,
        };
        Some(matching & in_month)
    }

    /// The first matching local time strictly after `after` (whole seconds), or `None` when
    /// there is none up to the end of `max_year`.
    ///
    /// Walks field by field, coarsest first: a field with no match left resets the finer ones
    /// and carries into the next coarser one, so each step skips a whole month, day, hour or
    /// minute, never a second at a time.
    pub(crate) fn next_local(&self, after: NaiveDateTime, max_year: i32) -> Option<NaiveDateTime> {
        let start = after
            .with_nanosecond(0)?
            .checked_add_signed(chrono::TimeDelta::seconds(1))?;
        let (mut year, mut month, mut day) = (start.year(), start.month(), start.day());
        let (mut hour, mut minute, mut second) = (start.hour(), start.minute(), start.second());
        loop {
            if year > max_year {
                return None;
            }
            match self.months.next_from(month) {
                Some(m) if m == month => {}
                Some(m) => (month, day, hour, minute, second) = (m, 1, 0, 0, 0),
                None => {
                    (year, month, day, hour, minute, second) = (year + 1, 1, 1, 0, 0, 0);
                    continue;
                }
            }
            match Bits::from_raw(self.day_mask(year, month)?).next_from(day) {
                Some(d) if d == day => {}
                Some(d) => (day, hour, minute, second) = (d, 0, 0, 0),
                None => {
                    (month, day, hour, minute, second) = (month + 1, 1, 0, 0, 0);
                    continue;
                }
            }
            match self.hours.next_from(hour) {
                Some(h) if h == hour => {}
                Some(h) => (hour, minute, second) = (h, 0, 0),
                None => {
                    (day, hour, minute, second) = (day + 1, 0, 0, 0);
                    continue;
                }
            }
            match self.minutes.next_from(minute) {
                Some(m) if m == minute => {}
                Some(m) => (minute, second) = (m, 0),
                None => {
                    (hour, minute, second) = (hour + 1, 0, 0);
                    continue;
                }
            }
            let Some(s) = self.seconds.next_from(second) else {
                (minute, second) = (minute + 1, 0);
                continue;
            };
            second = s;
            let date = NaiveDate::from_ymd_opt(year, month, day)?;
            return Some(date.and_time(NaiveTime::from_hms_opt(hour, minute, second)?));
        }
    }
}

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}
