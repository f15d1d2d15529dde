//! The DST policy: which instant a matching local (wall-clock) time fires at.
//!
//! A schedule fires at each matching local time at most once. A local time that does not exist
//! (the spring-forward gap) does not fire at all; a local time that occurs twice (the fall-back
//! fold) fires at its first occurrence only. Mapping local times to instants this way is strictly
//! increasing, so "the next fire after `t`" is "the first matching local time after the latest
//! local time that already fired by `t`".

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

use super::calendar::Calendar;

/// Wider than any offset change a zone has ever made, so that the edge of a gap or fold is
/// always inside the window searched for it.
const EDGE_WINDOW_SECS: i64 = 27 * 3600;

/// The first fire time strictly after `after` whose local date is no later than `max_year`.
pub(crate) fn next_fire(calendar: &Calendar, tz: Tz, after: DateTime<Utc>, max_year: i32) -> Option<DateTime<Utc>> {
    if tz == Tz::UTC {
        return Some(calendar.next_local(after.naive_utc(), max_year)?.and_utc());
    }
    let after_secs = after.timestamp();
    let mut lower = fired_through(tz, after)?;
    loop {
        let candidate = calendar.next_local(lower, max_year)?;
        match local_offsets(tz, candidate) {
            LocalResult::Single(offset) | LocalResult::Ambiguous(offset, _) => {
                let instant = candidate.checked_sub_signed(offset_delta(offset))?.and_utc();
                if instant.timestamp() > after_secs {
                    return Some(instant);
                }
                // Unreachable while the mapping is monotonic (see `fired_through`); moving on
                // keeps the search finite even for a zone table that breaks that assumption.
                lower = candidate;
            }
            LocalResult::None => {
                lower = first_local_where(candidate, |t| exists(tz, t)).checked_sub_signed(TimeDelta::seconds(1))?;
            }
        }
    }
}

/// Whether `instant` is a fire time: it matches the calendar and, when its local time occurs
/// twice, it is the first occurrence.
pub(crate) fn is_fire_time(calendar: &Calendar, tz: Tz, instant: DateTime<Utc>) -> bool {
    let local = to_local(tz, instant);
    if !calendar.matches(local) {
        return false;
    }
    match local_offsets(tz, local) {
        LocalResult::Ambiguous(earliest, _) => {
            local
                .checked_sub_signed(offset_delta(earliest))
                .map(|t| t.and_utc().timestamp())
                == Some(instant.timestamp())
        }
        LocalResult::Single(_) | LocalResult::None => true,
    }
}

/// The latest local time whose fire instant is at or before `after`: the local time of `after`,
/// except inside the second occurrence of a fold, where every local time of the fold already
/// fired at its first occurrence, so the answer is the last second of the fold.
fn fired_through(tz: Tz, after: DateTime<Utc>) -> Option<NaiveDateTime> {
    let local = to_local(tz, after);
    if let LocalResult::Ambiguous(_, latest) = local_offsets(tz, local) {
        let second_occurrence = local.checked_sub_signed(offset_delta(latest))?.and_utc().timestamp();
        if second_occurrence == after.timestamp() {
            let fold_end = first_local_where(local, |t| !is_ambiguous(tz, t));
            return fold_end.checked_sub_signed(TimeDelta::seconds(1));
        }
    }
    Some(local)
}

/// The first local time after `from` (to the second) for which `pred` holds, assuming it flips
/// from false to true once within the window; `from + 1s` when it never holds there.
fn first_local_where(from: NaiveDateTime, pred: impl Fn(NaiveDateTime) -> bool) -> NaiveDateTime {
    let at = |secs: i64| from.checked_add_signed(TimeDelta::seconds(secs));
    let (mut lo, mut hi) = (0, EDGE_WINDOW_SECS);
    if !at(hi).is_some_and(&pred) {
        return at(1).unwrap_or(from);
    }
    // Invariant: pred is false at `lo` (`from` itself lies inside the gap or fold) and true at `hi`.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at(mid).is_some_and(&pred) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    at(hi).unwrap_or(from)
}

fn exists(tz: Tz, local: NaiveDateTime) -> bool {
    !matches!(local_offsets(tz, local), LocalResult::None)
}

fn is_ambiguous(tz: Tz, local: NaiveDateTime) -> bool {
    matches!(local_offsets(tz, local), LocalResult::Ambiguous(..))
}

fn offset_delta(offset: FixedOffset) -> TimeDelta {
    TimeDelta::seconds(i64::from(offset.local_minus_utc()))
}

// chrono-tz's tables list each zone's transitions through 2099 and keep the last offset after
// that, so a zone would stop observing DST in 2100. Zone rules repeat with the calendar ("the
// second Sunday of March"), so for a later year the offsets are read at the same date and time
// of a 2072-2099 year with the same calendar (same leap-ness, same weekday of 1 January), where
// the tables still follow the current rules. Every such pair exists: 28 consecutive years of one
// century hold every combination.
const LAST_TABULATED_YEAR: i32 = 2099;

/// `naive` moved to a year whose calendar is identical, within the tables' range.
fn tabulated(naive: NaiveDateTime) -> NaiveDateTime {
    let year = naive.year();
    if year <= LAST_TABULATED_YEAR {
        return naive;
    }
    let calendar = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).map(|d| (d.leap_year(), d.weekday()));
    let stand_in = (LAST_TABULATED_YEAR - 27..=LAST_TABULATED_YEAR).find(|&y| calendar(y) == calendar(year));
    stand_in.and_then(|y| naive.with_year(y)).unwrap_or(naive)
}

/// The offsets a local time can have: one, two (a fold) or none (a gap).
fn local_offsets(tz: Tz, local: NaiveDateTime) -> LocalResult<FixedOffset> {
    tz.offset_from_local_datetime(&tabulated(local))
        .map(|offset| offset.fix())
}

/// The local time of an instant.
fn to_local(tz: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    let naive = instant.naive_utc();
    let offset = tz.offset_from_utc_datetime(&tabulated(naive)).fix();
    naive.checked_add_signed(offset_delta(offset)).unwrap_or(naive)
}
