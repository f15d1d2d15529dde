//! Python values <-> `SqlValue`/`SqlOut`, done while attached so the database work can run detached.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDelta, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
    PyType,
};

use crate::db::value::{SqlOut, SqlValue};

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

fn uuid_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    UUID.import(py, "uuid", "UUID")
}

/// An aware datetime as UTC (any tzinfo: fixed offsets, zoneinfo, pytz).
pub fn aware_to_utc(value: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    let py = value.py();
    let utc = UTC.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("datetime")?.getattr("timezone")?.getattr("utc")?.unbind())
    })?;
    value.call_method1("astimezone", (utc.bind(py),))?.extract()
}

fn is_aware(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(!value.call_method0("utcoffset")?.is_none())
}

/// How deeply lists and dicts may nest in a parameter: deeper is almost surely a value that
/// contains itself, which would otherwise recurse until the stack overflows.
pub const MAX_NESTING: usize = 100;

fn too_deep(position: usize) -> PyErr {
    PyValueError::new_err(format!(
        "parameter ${position}: lists/dicts nested more than {MAX_NESTING} levels deep (does the value contain itself?)"
    ))
}

/// Convert one statement parameter. `position` is 1-based, for messages.
pub fn to_sql_value(value: &Bound<'_, PyAny>, position: usize) -> PyResult<SqlValue> {
    to_sql_value_at(value, position, 0)
}

fn to_sql_value_at(value: &Bound<'_, PyAny>, position: usize, depth: usize) -> PyResult<SqlValue> {
    if depth > MAX_NESTING {
        return Err(too_deep(position));
    }
    let py = value.py();
    if value.is_none() {
        return Ok(SqlValue::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(SqlValue::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(match value.extract::<i64>() {
            Ok(i) => SqlValue::Int(i),
            Err(_) => SqlValue::BigInt(value.str()?.to_string()),
        });
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(SqlValue::Float(f.value()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(SqlValue::Text(s.to_str()?.to_owned()));
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(SqlValue::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = value.cast::<PyByteArray>() {
        return Ok(SqlValue::Bytes(b.to_vec()));
    }
    if value.is_instance(decimal_type(py)?)? {
        return Ok(SqlValue::Decimal(value.str()?.to_string()));
    }
    // datetime is a subclass of date: test it first.
    if value.is_instance_of::<PyDateTime>() {
        return Ok(if is_aware(value)? {
            SqlValue::TimestampTz(aware_to_utc(value)?)
        } else {
            SqlValue::Timestamp(value.extract::<NaiveDateTime>()?)
        });
    }
    if value.is_instance_of::<PyDate>() {
        return Ok(SqlValue::Date(value.extract::<NaiveDate>()?));
    }
    if value.is_instance(uuid_type(py)?)? {
        let text = value.str()?.to_string();
        return uuid::Uuid::parse_str(&text)
            .map(SqlValue::Uuid)
            .map_err(|err| PyValueError::new_err(format!("parameter ${position}: invalid UUID: {err}")));
    }
    if value.is_instance_of::<PyDict>() {
        return Ok(SqlValue::Json(to_json(value, position, depth)?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items = value
            .try_iter()?
            .map(|item| to_sql_value_at(&item?, position, depth + 1))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(SqlValue::List(items));
    }
    Err(PyTypeError::new_err(format!(
        "parameter ${position}: unsupported type {} (use None, bool, int, float, str, bytes, Decimal, date, \
         datetime, UUID, dict or list)",
        value.get_type().name()?
    )))
}

/// A dict/list parameter as JSON. Only JSON's own types are allowed inside, so what is stored is
/// exactly what `json.loads` gives back.
fn to_json(value: &Bound<'_, PyAny>, position: usize, depth: usize) -> PyResult<serde_json::Value> {
    if depth > MAX_NESTING {
        return Err(too_deep(position));
    }
    if value.is_none() {
        return Ok(serde_json::Value::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(b.is_true().into());
    }
    if value.is_instance_of::<PyInt>() {
        return match value.extract::<i64>() {
            Ok(i) => Ok(i.into()),
            Err(_) => Err(PyValueError::new_err(format!(
                "parameter ${position}: integer {} inside a JSON value is outside the 64-bit range",
                value.str()?
            ))),
        };
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value()).map(Into::into).ok_or_else(|| {
            PyValueError::new_err(format!("parameter ${position}: NaN and infinity are not valid JSON"))
        });
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_str()?.into());
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let key = key
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err(format!("parameter ${position}: JSON object keys must be str")))?;
            map.insert(key.to_str()?.to_owned(), to_json(&item, position, depth + 1)?);
        }
        return Ok(map.into());
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items = value
            .try_iter()?
            .map(|item| to_json(&item?, position, depth + 1))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(items.into());
    }
    Err(PyTypeError::new_err(format!(
        "parameter ${position}: a {} inside a dict/list is not JSON-serializable; convert it first",
        value.get_type().name()?
    )))
}

pub fn to_sql_values(args: &Bound<'_, PyTuple>) -> PyResult<Vec<SqlValue>> {
    args.iter()
        .enumerate()
        .map(|(i, arg)| to_sql_value(&arg, i + 1))
        .collect()
}

/// Convert a result value into a Python object.
pub fn to_py<'py>(py: Python<'py>, value: SqlOut) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        SqlOut::Null => py.None().into_bound(py),
        SqlOut::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        SqlOut::Int(i) => i.into_pyobject(py)?.into_any(),
        SqlOut::Float(f) => f.into_pyobject(py)?.into_any(),
        SqlOut::Numeric(text) => decimal_type(py)?.call1((text,))?,
        SqlOut::Text(s) => PyString::new(py, &s).into_any(),
        SqlOut::Bytes(b) => PyBytes::new(py, &b).into_any(),
        SqlOut::Date(d) => d.into_pyobject(py)?.into_any(),
        SqlOut::Timestamp(t) => t.into_pyobject(py)?.into_any(),
        SqlOut::TimestampTz(t) => t.into_pyobject(py)?.into_any(),
        SqlOut::Uuid(u) => uuid_type(py)?.call1((u.to_string(),))?,
        SqlOut::Json(text) => json_loads(py)?.call1((text,))?,
        SqlOut::Interval { days, micros } => {
            PyDelta::new(py, days, 0, 0, true)?.call_method1("__add__", (micros_delta(py, micros)?,))?
        }
        SqlOut::List(items) => PyList::new(
            py,
            items
                .into_iter()
                .map(|item| to_py(py, item))
                .collect::<PyResult<Vec<_>>>()?,
        )?
        .into_any(),
    })
}

fn micros_delta(py: Python<'_>, micros: i64) -> PyResult<Bound<'_, PyDelta>> {
    let seconds = micros.div_euclid(1_000_000);
    let rest = micros.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    PyDelta::new(
        py,
        i32::try_from(days).map_err(|_| PyValueError::new_err("interval out of range"))?,
        secs as i32,
        rest as i32,
        true,
    )
}

pub fn json_loads(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    Ok(JSON_LOADS.import(py, "json", "loads")?.as_any())
}
