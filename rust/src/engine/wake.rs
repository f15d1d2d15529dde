//! Requests to the claim loop, and how `anclax_tasks` notifications turn into them.

use chrono::{DateTime, Utc};

use crate::engine::lanes::LaneId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Anything may be due now, and later work may have changed unseen (releases, rescues, a
    /// reconnected listener).
    Now,
    /// Some lane's work comes due at this database time.
    At(DateTime<Utc>),
    /// New work in this lane, due now.
    Lane(LaneId),
    /// Work in this lane comes due at this database time.
    LaneAt(LaneId, DateTime<Utc>),
}

/// An `anclax_tasks` payload: `<lane>` or `<lane>@<due epoch ms>` (anclax.wake_payload), '' for
/// "anything may be due". Version 1 of the schema sent a bare due time in epoch ms, which no lane
/// id (an int4) can be mistaken for; anything unreadable wakes every lane.
#[must_use]
pub fn parse_notification(payload: &str) -> Wake {
    let at = |ms: &str| ms.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis);
    match payload.split_once('@') {
        Some((lane, ms)) => match (lane.parse::<LaneId>(), at(ms)) {
            (Ok(lane), Some(at)) => Wake::LaneAt(lane, at),
            _ => Wake::Now,
        },
        None if payload.is_empty() => Wake::Now,
        None => match payload.parse::<LaneId>() {
            Ok(lane) => Wake::Lane(lane),
            Err(_) => at(payload).map_or(Wake::Now, Wake::At),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads() {
        let at = DateTime::from_timestamp_millis(1_764_680_000_123).unwrap();
        assert_eq!(parse_notification(""), Wake::Now);
        assert_eq!(parse_notification("12"), Wake::Lane(12));
        assert_eq!(parse_notification("12@1764680000123"), Wake::LaneAt(12, at));
        assert_eq!(parse_notification("1764680000123"), Wake::At(at));
        assert_eq!(parse_notification("12@x"), Wake::Now);
        assert_eq!(parse_notification("junk"), Wake::Now);
        assert_eq!(parse_notification("-3"), Wake::Lane(-3));
    }
}
