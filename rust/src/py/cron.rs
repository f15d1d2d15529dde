//! `CronSchedule` and its iterator for Python: thin wrappers over `crate::cron`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Datelike, Timelike, Utc};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDateTime, PyDelta, PyString, PyType, PyTzInfo};

use crate::cron::CronSchedule as Schedule;
use crate::error::Error;

/// A parsed cron expression (see ``docs/cron.md`` for the dialect).
///
/// ``CronSchedule(expr)`` raises ``anclax_fast.errors.CronError`` for an invalid expression.
#[pyclass(frozen, module = "anclax_fast._core")]
pub struct CronSchedule {
    inner: Schedule,
}

#[pymethods]
impl CronSchedule {
    #[new]
    fn new(expr: &str) -> PyResult<Self> {
        let inner = Schedule::parse(expr).map_err(Error::from)?;
        Ok(Self { inner })
    }

    /// The first fire time strictly after ``dt`` (tz-aware), as a UTC datetime.
    fn next_after<'py>(&self, dt: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDateTime>> {
        let after = whole_seconds("next_after", dt)?;
        let next = self
            .inner
            .next_after(after)
            .ok_or_else(|| self.exhausted(dt.py(), after))?;
        to_python(dt.py(), next)
    }

    /// The fire times strictly after ``dt`` (tz-aware), as UTC datetimes; ends after year 9999.
    fn iter_after(slf: &Bound<'_, Self>, dt: &Bound<'_, PyAny>) -> PyResult<CronIterator> {
        let after = whole_seconds("iter_after", dt)?;
        Ok(CronIterator {
            schedule: slf.clone().unbind(),
            cursor: AtomicI64::new(after.timestamp()),
        })
    }

    /// The expression exactly as given.
    #[getter]
    fn expression(&self) -> &str {
        self.inner.expression()
    }

    /// The IANA name of the zone the fields are read in (``"UTC"`` unless ``CRON_TZ=`` says).
    #[getter]
    fn timezone(&self) -> &'static str {
        self.inner.timezone().name()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let expression = PyString::new(py, self.inner.expression()).repr()?;
        Ok(format!("CronSchedule({expression})"))
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.inner.hash(&mut hasher);
        hasher.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (String,)) {
        (slf.get_type(), (slf.get().inner.expression().to_owned(),))
    }
}

impl CronSchedule {
    fn exhausted(&self, py: Python<'_>, after: DateTime<Utc>) -> PyErr {
        match self.__repr__(py) {
            Ok(repr) => PyOverflowError::new_err(format!(
                "{repr} has no fire time after {} up to 9999-12-31T23:59:59Z, the end of datetime's range",
                after.format("%Y-%m-%dT%H:%M:%SZ")
            )),
            Err(err) => err,
        }
    }
}

/// What ``CronSchedule.iter_after`` returns.
#[pyclass(frozen, module = "anclax_fast._core")]
pub struct CronIterator {
    schedule: Py<CronSchedule>,
    /// The last fire time yielded (Unix seconds), or where the iteration started; `DONE` at the end.
    cursor: AtomicI64,
}

const DONE: i64 = i64::MAX;

#[pymethods]
impl CronIterator {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        let schedule = &self.schedule.get().inner;
        let mut current = self.cursor.load(Ordering::Acquire);
        // A compare-and-swap loop, so that concurrent `next()` calls never yield a time twice.
        loop {
            if current == DONE {
                return Ok(None);
            }
            let next = DateTime::from_timestamp(current, 0).and_then(|after| schedule.next_after(after));
            let stored = next.map_or(DONE, |t| t.timestamp());
            match self
                .cursor
                .compare_exchange(current, stored, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return next.map(|t| to_python(py, t)).transpose(),
                Err(actual) => current = actual,
            }
        }
    }
}

static EPOCH: PyOnceLock<Py<PyDateTime>> = PyOnceLock::new();
static ONE_SECOND: PyOnceLock<Py<PyDelta>> = PyOnceLock::new();

/// `dt` rounded down to the whole second, as a UTC instant. Fire times are whole seconds, so
/// "strictly after `dt`" and "strictly after `floor(dt)`" are the same thing.
fn whole_seconds(method: &str, dt: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    let py = dt.py();
    if !dt.is_instance_of::<PyDateTime>() {
        let kind = dt.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "CronSchedule.{method}() needs a datetime, got {kind}"
        )));
    }
    let epoch = EPOCH.get_or_try_init(py, || {
        PyDateTime::new(py, 1970, 1, 1, 0, 0, 0, 0, Some(&*PyTzInfo::utc(py)?)).map(Bound::unbind)
    })?;
    let one_second = ONE_SECOND.get_or_try_init(py, || PyDelta::new(py, 0, 1, 0, false).map(Bound::unbind))?;
    // Subtracting an aware datetime fails exactly when `dt` is naive (no tzinfo, or one whose
    // utcoffset() is None), and the floor division is exact integer arithmetic.
    let secs: i64 = match dt.sub(epoch.bind(py)) {
        Ok(delta) => delta.floor_div(one_second.bind(py))?.extract()?,
        Err(err) if err.is_instance_of::<PyTypeError>(py) => {
            return Err(PyTypeError::new_err(format!(
                "CronSchedule.{method}() needs a timezone-aware datetime, got the naive {}; \
                 attach a zone first, e.g. dt.replace(tzinfo=datetime.timezone.utc)",
                dt.repr()?
            )));
        }
        Err(err) => return Err(err),
    };
    DateTime::from_timestamp(secs, 0).ok_or_else(|| PyOverflowError::new_err("datetime out of range"))
}

fn to_python(py: Python<'_>, t: DateTime<Utc>) -> PyResult<Bound<'_, PyDateTime>> {
    // Fire times lie in years 1..=9999, so the narrowing casts are exact.
    PyDateTime::new(
        py,
        t.year(),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        0,
        Some(&*PyTzInfo::utc(py)?),
    )
}
