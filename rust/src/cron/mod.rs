//! Cron schedules: parsing, and the next fire time after an instant.
//!
//! The dialect (documented for users in `docs/cron.md`):
//! - 6 fields `second minute hour day-of-month month day-of-week`, or 5 (second = 0);
//!   `*`, `?` (day fields only), `a`, `a-b`, `*/n`, `a-b/n`, `a/n`, lists, `JAN`–`DEC`,
//!   `SUN`–`SAT`, day-of-week 0–7 with 7 = Sunday;
//! - `@yearly @annually @monthly @weekly @daily @midnight @hourly`, and `@every <duration>`
//!   (fires at the Unix epoch plus whole multiples of the duration);
//! - an optional leading `CRON_TZ=Area/City` or `TZ=Area/City`; the default zone is UTC.
//!
//! Day-of-month and day-of-week combine as in Vixie cron: OR when both are restricted, AND when
//! either starts with `*` (or is `?`). Local times in a DST gap are skipped; local times in a
//! DST fold fire once, at their first occurrence. Expressions that can never fire
//! (`0 0 30 2 *`) are rejected when parsed.

mod calendar;
mod error;
mod field;
mod parse;
mod tz;

#[cfg(test)]
mod dst_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::iter::FusedIterator;
use std::str::FromStr;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;

pub use error::{CronError, CronField};

use calendar::Calendar;

/// The first instant a schedule can fire at: 0001-01-01T00:00:00Z.
pub const FIRST_FIRE_TIMESTAMP: i64 = -62_135_596_800;
/// The last instant a schedule can fire at: 9999-12-31T23:59:59Z. Together with
/// [`FIRST_FIRE_TIMESTAMP`] this is the range of Python's `datetime`; searching no further
/// also bounds the work of any query.
pub const LAST_FIRE_TIMESTAMP: i64 = 253_402_300_799;

/// A parsed cron expression. Equality and hashing go by the expression text.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    expression: Box<str>,
    tz: Tz,
    rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Calendar(Calendar),
    /// `@every`: a period in whole seconds.
    Every(i64),
}

impl CronSchedule {
    pub fn parse(expression: &str) -> Result<Self, CronError> {
        parse::parse(expression)
    }

    /// The expression exactly as it was given.
    #[must_use]
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The zone the fields are read in: the `CRON_TZ=` zone, else UTC.
    #[must_use]
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first fire time strictly after `after`, or `None` when there is none up to
    /// [`LAST_FIRE_TIMESTAMP`]. Sub-second precision in `after` is honoured: fire times are whole
    /// seconds, so from `12:00:00.5` the next per-second fire is `12:00:01`.
    #[must_use]
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if after.timestamp() >= LAST_FIRE_TIMESTAMP {
            return None;
        }
        let after = if after.timestamp() < FIRST_FIRE_TIMESTAMP {
            DateTime::from_timestamp(FIRST_FIRE_TIMESTAMP - 1, 0)?
        } else {
            after
        };
        let next = match &self.rule {
            // The local year of the last fire time can be 10000 in zones east of UTC.
            Rule::Calendar(calendar) => tz::next_fire(calendar, self.tz, after, 10_000)?,
            Rule::Every(period) => {
                let k = after.timestamp().div_euclid(*period).checked_add(1)?;
                DateTime::from_timestamp(k.checked_mul(*period)?, 0)?
            }
        };
        (next.timestamp() <= LAST_FIRE_TIMESTAMP).then_some(next)
    }

    /// The fire times strictly after `after`, in order.
    #[must_use]
    pub fn iter_after(&self, after: DateTime<Utc>) -> CronIter<'_> {
        CronIter {
            schedule: self,
            cursor: Some(after),
        }
    }

    /// Whether the schedule fires at exactly `instant`.
    #[must_use]
    pub fn fires_at(&self, instant: DateTime<Utc>) -> bool {
        let secs = instant.timestamp();
        if instant.nanosecond() != 0 || !(FIRST_FIRE_TIMESTAMP..=LAST_FIRE_TIMESTAMP).contains(&secs) {
            return false;
        }
        match &self.rule {
            Rule::Calendar(calendar) => tz::is_fire_time(calendar, self.tz, instant),
            Rule::Every(period) => secs.rem_euclid(*period) == 0,
        }
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression
    }
}

impl Eq for CronSchedule {}

impl Hash for CronSchedule {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.expression.hash(state);
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

impl FromStr for CronSchedule {
    type Err = CronError;

    fn from_str(expression: &str) -> Result<Self, CronError> {
        Self::parse(expression)
    }
}

/// Successive fire times of a schedule; see [`CronSchedule::iter_after`].
#[derive(Debug, Clone)]
pub struct CronIter<'a> {
    schedule: &'a CronSchedule,
    cursor: Option<DateTime<Utc>>,
}

impl Iterator for CronIter<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        self.cursor = self.schedule.next_after(self.cursor?);
        self.cursor
    }
}

impl FusedIterator for CronIter<'_> {}
