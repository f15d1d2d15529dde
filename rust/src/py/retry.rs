//! Durations and retry intervals for Python: thin wrappers over `crate::duration` and `crate::retry`.

use std::num::NonZeroU32;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
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
/// list is used up.
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
    let number: i128 = retry_number.extract()?;
    let retry = u32::try_from(number.clamp(0, i128::from(u32::MAX)))
        .ok()
        .and_then(NonZeroU32::new)
        .ok_or_else(|| PyValueError::new_err(format!("retry_number must be 1 or more, got {number}")))?;
    let index =
        retry_index(intervals.len()?, retry).ok_or_else(|| PyValueError::new_err("intervals must not be empty"))?;
    let delay = intervals.get_item(index)?;
    if !delay.is_instance_of::<PyDelta>() {
        let kind = delay.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "intervals[{index}] must be a timedelta, got {kind}"
        )));
    }
    Ok(delay)
}
