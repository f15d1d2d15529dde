//! Durations and retry intervals for Python: thin wrappers over `crate::duration` and `crate::retry`.

use std::num::NonZeroU32;
use std::time::Duration;

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDelta, PyString};

use crate::duration;
use crate::error::Error;
use crate::retry::{RetryInterval, retry_index};

/// Parses a duration such as ``"1h30m"``, ``"500ms"``, ``"2d"`` or ``"1.5h"``.
#[pyfunction]
pub fn parse_duration(text: &str) -> PyResult<Duration> {
    Ok(duration::parse_duration(text).map_err(Error::from)?)
}

/// Parses a retry interval: one duration (``"30m"``) or a comma list (``"1m, 2m, 4m"``).
#[pyfunction]
pub fn parse_interval(text: &str) -> PyResult<Vec<Duration>> {
    Ok(RetryInterval::parse(text).map_err(Error::from)?.delays().to_vec())
}

/// The delay before retry ``retry_number`` (1-based): the k-th interval, the last one once the
/// list is used up. Raises ``ConfigurationError`` (a ``ValueError``) for ``retry_number < 1`` or
/// an empty sequence.
#[pyfunction]
pub fn delay_for_retry<'py>(
    intervals: &Bound<'py, PyAny>,
    retry_number: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    if intervals.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "intervals must be a sequence of timedelta, not str; parse the text with parse_interval() first",
        ));
    }
    let retry = to_retry_number(retry_number)?;
    let index =
        retry_index(intervals.len()?, retry).ok_or_else(|| Error::Invalid("intervals must not be empty".to_owned()))?;
    let delay = intervals.get_item(index)?;
    if !delay.is_instance_of::<PyDelta>() {
        let kind = delay.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "intervals[{index}] must be a timedelta, got {kind}"
        )));
    }
    Ok(delay)
}

/// A Python int as a retry number; numbers past `u32::MAX` all mean "the last interval".
fn to_retry_number(number: &Bound<'_, PyAny>) -> PyResult<NonZeroU32> {
    let clamped = match number.extract::<i64>() {
        Ok(n) => n.clamp(0, i64::from(u32::MAX)),
        // Too big for i64 either way; only its sign matters.
        Err(err) if err.is_instance_of::<PyOverflowError>(number.py()) => {
            if number.gt(0)? {
                i64::from(u32::MAX)
            } else {
                0
            }
        }
        Err(err) => return Err(err),
    };
    u32::try_from(clamped)
        .ok()
        .and_then(NonZeroU32::new)
        .ok_or_else(|| Error::Invalid(format!("retry_number must be 1 or more, got {number}")).into())
}
