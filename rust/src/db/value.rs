//! Values crossing the boundary between user SQL (`Tx.execute` and friends) and Postgres.
//!
//! Parameters are typed by the server (the statement is prepared first), so a Python `int` can
//! fill an `int2`, `int8` or `numeric` slot alike; `SqlValue::to_sql` checks each value against the
//! type the server asked for and explains a mismatch instead of sending bytes Postgres rejects.
//! Results decode into `SqlOut`, which the binding layer turns into Python objects.

use std::error::Error as StdError;
use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A Python value of a type that a parameter's SQL type cannot take (raised as `TypeError`). Any
/// other encoding error is a bad value of an acceptable type (raised as `ValueError`).
#[derive(Debug)]
pub struct TypeMismatch(pub String);

impl std::fmt::Display for TypeMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for TypeMismatch {}

/// A statement parameter, converted from a Python value before the GIL is released.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer outside i64 (Python ints are unbounded); only `numeric` and text can hold it.
    BigInt(String),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// A decimal in its canonical text form (`-12.50`, `1E+3`, `NaN`, `Infinity`).
    Decimal(String),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    Uuid(uuid::Uuid),
    /// A dict (or anything else bound for json/jsonb).
    Json(serde_json::Value),
    /// A list: an array for array parameters, JSON for json/jsonb parameters.
    List(Vec<SqlValue>),
}

impl SqlValue {
    fn type_name(&self) -> &'static str {
        match self {
            SqlValue::Null => "None",
            SqlValue::Bool(_) => "bool",
            SqlValue::Int(_) | SqlValue::BigInt(_) => "int",
            SqlValue::Float(_) => "float",
            SqlValue::Text(_) => "str",
            SqlValue::Bytes(_) => "bytes",
            SqlValue::Decimal(_) => "Decimal",
            SqlValue::Date(_) => "date",
            SqlValue::Timestamp(_) => "naive datetime",
            SqlValue::TimestampTz(_) => "aware datetime",
            SqlValue::Uuid(_) => "UUID",
            SqlValue::Json(_) => "dict",
            SqlValue::List(_) => "list",
        }
    }

    /// The value as JSON, for json/jsonb parameters given lists and scalars.
    fn to_json(&self) -> Result<serde_json::Value, BoxError> {
        Ok(match self {
            SqlValue::Null => serde_json::Value::Null,
            SqlValue::Bool(b) => (*b).into(),
            SqlValue::Int(i) => (*i).into(),
            SqlValue::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
            SqlValue::Text(s) => s.clone().into(),
            SqlValue::Json(v) => v.clone(),
            SqlValue::List(items) => items
                .iter()
                .map(SqlValue::to_json)
                .collect::<Result<Vec<_>, _>>()?
                .into(),
            other => return Err(format!("a {} cannot be part of a JSON parameter", other.type_name()).into()),
        })
    }

    fn text_form(&self) -> Option<String> {
        Some(match self {
            SqlValue::Bool(b) => b.to_string(),
            SqlValue::Int(i) => i.to_string(),
            SqlValue::BigInt(s) | SqlValue::Decimal(s) | SqlValue::Text(s) => s.clone(),
            SqlValue::Float(f) => f.to_string(),
            SqlValue::Date(d) => d.to_string(),
            SqlValue::Timestamp(t) => t.to_string(),
            SqlValue::TimestampTz(t) => t.to_rfc3339(),
            SqlValue::Uuid(u) => u.to_string(),
            SqlValue::Json(v) => v.to_string(),
            SqlValue::Null | SqlValue::Bytes(_) | SqlValue::List(_) => return None,
        })
    }
}

fn is_text_like(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || matches!(ty.kind(), Kind::Enum(_))
}

fn mismatch(value: &SqlValue, ty: &Type) -> BoxError {
    Box::new(TypeMismatch(format!(
        "cannot use a Python {} for a parameter of type {}",
        value.type_name(),
        ty.name()
    )))
}

impl ToSql for SqlValue {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if let Kind::Array(member) = ty.kind() {
            return match self {
                SqlValue::Null => Ok(IsNull::Yes),
                SqlValue::List(items) => {
                    // Check every element against the member type up front for a clear message.
                    items.to_sql(ty, out).map_err(|err| {
                        let message = format!("in a {}[] parameter: {err}", member.name());
                        if err.is::<TypeMismatch>() {
                            Box::new(TypeMismatch(message)) as BoxError
                        } else {
                            message.into()
                        }
                    })
                }
                other => Err(mismatch(other, ty)),
            };
        }
        match (self, ty) {
            (SqlValue::Null, _) => Ok(IsNull::Yes),
            (SqlValue::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            (SqlValue::Int(i), &Type::INT2) => i16::try_from(*i).map_err(|_| out_of_range(*i, ty))?.to_sql(ty, out),
            (SqlValue::Int(i), &Type::INT4) => i32::try_from(*i).map_err(|_| out_of_range(*i, ty))?.to_sql(ty, out),
            (SqlValue::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (SqlValue::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (SqlValue::Int(i), &Type::FLOAT4) => (*i as f32).to_sql(ty, out),
            (SqlValue::Int(i), &Type::NUMERIC) => encode_numeric(&i.to_string(), out),
            (SqlValue::BigInt(s), &Type::INT2 | &Type::INT4 | &Type::INT8) => {
                Err(format!("integer {s} is out of range for a parameter of type {}", ty.name()).into())
            }
            (SqlValue::BigInt(s) | SqlValue::Decimal(s), &Type::NUMERIC) => encode_numeric(s, out),
            (SqlValue::Float(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (SqlValue::Float(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (SqlValue::Float(f), &Type::NUMERIC) => encode_numeric(&format_float_for_numeric(*f), out),
            (SqlValue::Decimal(s), &Type::FLOAT8) => s.parse::<f64>()?.to_sql(ty, out),
            (SqlValue::Text(s), &Type::JSON | &Type::JSONB) => {
                // A str bound for json is taken as JSON text, as with psycopg's Json dumper off.
                let parsed: serde_json::Value = serde_json::from_str(s)
                    .map_err(|err| format!("str given for a {} parameter is not valid JSON: {err}", ty.name()))?;
                parsed.to_sql(ty, out)
            }
            (SqlValue::Bytes(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            (SqlValue::Date(d), &Type::DATE) => d.to_sql(ty, out),
            (SqlValue::Timestamp(t), &Type::TIMESTAMP) => t.to_sql(ty, out),
            (SqlValue::TimestampTz(t), &Type::TIMESTAMPTZ) => t.to_sql(ty, out),
            // An aware datetime for a `timestamp without time zone` column is stored as UTC.
            (SqlValue::TimestampTz(t), &Type::TIMESTAMP) => t.naive_utc().to_sql(ty, out),
            (SqlValue::Timestamp(_), &Type::TIMESTAMPTZ) => {
                Err("a naive datetime cannot fill a timestamptz parameter: pass a tz-aware datetime".into())
            }
            (SqlValue::Uuid(u), &Type::UUID) => u.to_sql(ty, out),
            (SqlValue::Json(_) | SqlValue::List(_), &Type::JSON | &Type::JSONB) => self.to_json()?.to_sql(ty, out),
            (SqlValue::Int(_) | SqlValue::Float(_) | SqlValue::Bool(_), &Type::JSON | &Type::JSONB) => {
                self.to_json()?.to_sql(ty, out)
            }
            (SqlValue::Text(s), _) if is_text_like(ty) => s.as_str().to_sql(&Type::TEXT, out),
            (SqlValue::Text(s), &Type::UUID) => uuid::Uuid::parse_str(s)?.to_sql(ty, out),
            (value, _) if is_text_like(ty) => match value.text_form() {
                Some(text) => text.as_str().to_sql(&Type::TEXT, out),
                None => Err(mismatch(value, ty)),
            },
            (value, _) => Err(mismatch(value, ty)),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Compatibility is decided per value in `to_sql`, which explains mismatches.
        true
    }

    to_sql_checked!();
}

fn out_of_range(value: i64, ty: &Type) -> BoxError {
    format!("integer {value} is out of range for a parameter of type {}", ty.name()).into()
}

fn format_float_for_numeric(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        // Rust prints the shortest representation that round-trips, never in exponent form.
        shortest_half_even(value, format!("{value}"))
    }
}

/// Rust and Python both print the shortest digits that read back as the same float, but when
/// the float lies exactly halfway between two such candidates (70368744177664.625: .62 and .63
/// both read back) Rust rounds up and Python to the even digit. Follow Python: callers compare
/// what a numeric column holds with `Decimal(repr(x))`.
fn shortest_half_even(value: f64, shortest: String) -> String {
    let Some(point) = shortest.find('.') else {
        return shortest;
    };
    let last = shortest.as_bytes()[shortest.len() - 1];
    if (last - b'0') % 2 == 0 {
        return shortest;
    }
    // The exact decimal expansion of the float (a binary fraction has a finite one).
    let exact = format!("{value:.1100}");
    let decimals = shortest.len() - point - 1;
    for neighbour in [last - 1, last + 1] {
        if !neighbour.is_ascii_digit() {
            continue;
        }
        let mut candidate = shortest.clone().into_bytes();
        *candidate.last_mut().unwrap_or(&mut 0) = neighbour;
        let Ok(candidate) = String::from_utf8(candidate) else {
            continue;
        };
        if candidate.parse::<f64>() != Ok(value) {
            continue;
        }
        // A tie: the exact value is the lower candidate followed by a 5 and nothing else.
        let lower = if neighbour < last { &candidate } else { &shortest };
        let cut = point + 1 + decimals;
        if exact.len() > cut
            && exact[..cut] == lower[..]
            && exact.as_bytes()[cut] == b'5'
            && exact[cut + 1..].bytes().all(|b| b == b'0')
        {
            return candidate;
        }
    }
    shortest
}

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// Write a decimal string in Postgres' binary `numeric` format (base-10000 digit groups).
fn encode_numeric(text: &str, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    let special = match text {
        "NaN" | "sNaN" | "-NaN" => Some(NUMERIC_NAN),
        "Infinity" | "inf" => Some(NUMERIC_PINF),
        "-Infinity" | "-inf" => Some(NUMERIC_NINF),
        _ => None,
    };
    if let Some(sign) = special {
        out.put_i16(0);
        out.put_i16(0);
        out.put_u16(sign);
        out.put_u16(0);
        return Ok(IsNull::No);
    }
    let (negative, int_digits, frac_digits) = split_decimal(text)?;
    let dscale = u16::try_from(frac_digits.len()).map_err(|_| "decimal has too many fractional digits")?;
    let int_pad = (4 - int_digits.len() % 4) % 4;
    let frac_pad = (4 - frac_digits.len() % 4) % 4;
    let mut all = String::with_capacity(int_pad + int_digits.len() + frac_digits.len() + frac_pad);
    all.extend(std::iter::repeat_n('0', int_pad));
    all.push_str(&int_digits);
    all.push_str(&frac_digits);
    all.extend(std::iter::repeat_n('0', frac_pad));
    let mut groups: Vec<i16> = all
        .as_bytes()
        .chunks(4)
        .map(|chunk| chunk.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
        .collect();
    let mut weight = i32::try_from((int_pad + int_digits.len()) / 4).map_err(|_| "decimal is too large")? - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    out.put_i16(i16::try_from(groups.len()).map_err(|_| "decimal has too many digits")?);
    out.put_i16(i16::try_from(weight).map_err(|_| "decimal exponent is out of range")?);
    out.put_u16(if negative && !groups.is_empty() {
        NUMERIC_NEG
    } else {
        NUMERIC_POS
    });
    out.put_u16(dscale);
    for group in groups {
        out.put_i16(group);
    }
    Ok(IsNull::No)
}

/// Split `-123.4500E-2` into sign, integer digits (no leading zeros) and fractional digits.
fn split_decimal(text: &str) -> Result<(bool, String, String), BoxError> {
    let bad = || -> BoxError { format!("invalid decimal {text:?}").into() };
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(pos) => (&body[..pos], body[pos + 1..].parse::<i64>().map_err(|_| bad())?),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if exponent.unsigned_abs() > 10_000 {
        return Err(format!("decimal {text:?} is out of range for numeric").into());
    }
    let digits = format!("{int_part}{frac_part}");
    // The position of the decimal point within `digits` after applying the exponent.
    let point = int_part.len() as i64 + exponent;
    let (int_digits, frac_digits) = if point <= 0 {
        (
            String::new(),
            format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
        )
    } else if point as usize >= digits.len() {
        (
            format!("{digits}{}", "0".repeat(point as usize - digits.len())),
            String::new(),
        )
    } else {
        (digits[..point as usize].to_owned(), digits[point as usize..].to_owned())
    };
    Ok((negative, int_digits.trim_start_matches('0').to_owned(), frac_digits))
}

/// Render a binary `numeric` as decimal text.
fn decode_numeric(raw: &[u8]) -> Result<String, BoxError> {
    let read = |i: usize| -> Result<u16, BoxError> {
        raw.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".into())
    };
    let ndigits = usize::from(read(0)?);
    let weight = i32::from(read(2)? as i16);
    let sign = read(4)?;
    let dscale = usize::from(read(6)?);
    match sign {
        NUMERIC_NAN => return Ok("NaN".to_owned()),
        NUMERIC_PINF => return Ok("Infinity".to_owned()),
        NUMERIC_NINF => return Ok("-Infinity".to_owned()),
        _ => {}
    }
    let digits = (0..ndigits).map(|i| read(8 + 2 * i)).collect::<Result<Vec<_>, _>>()?;
    let digit_at = |position: i32| -> u16 {
        let index = weight - position;
        usize::try_from(index)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == NUMERIC_NEG {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        write!(text, "{}", digit_at(weight))?;
        for position in (0..weight).rev() {
            write!(text, "{:04}", digit_at(position))?;
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let mut position = -1;
        while frac.len() < dscale {
            write!(frac, "{:04}", digit_at(position))?;
            position -= 1;
        }
        frac.truncate(dscale);
        text.push('.');
        text.push_str(&frac);
    }
    Ok(text)
}

/// A result column value, decoded without the GIL and converted to Python afterwards.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlOut {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Numeric(String),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    Uuid(uuid::Uuid),
    /// JSON text, parsed on the Python side with `json.loads` semantics.
    Json(String),
    /// An interval without months: (days, microseconds).
    Interval {
        days: i32,
        micros: i64,
    },
    List(Vec<SqlOut>),
}

impl<'a> FromSql<'a> for SqlOut {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        if let Kind::Array(_) = ty.kind() {
            return Ok(SqlOut::List(Vec::<SqlOut>::from_sql(ty, raw)?));
        }
        if let Kind::Enum(_) = ty.kind() {
            return Ok(SqlOut::Text(String::from_utf8(raw.to_vec())?));
        }
        Ok(match *ty {
            Type::BOOL => SqlOut::Bool(bool::from_sql(ty, raw)?),
            Type::INT2 => SqlOut::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => SqlOut::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => SqlOut::Int(i64::from_sql(ty, raw)?),
            Type::OID => SqlOut::Int(u32::from_sql(ty, raw)?.into()),
            Type::FLOAT4 => SqlOut::Float(f32::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => SqlOut::Float(f64::from_sql(ty, raw)?),
            Type::NUMERIC => SqlOut::Numeric(decode_numeric(raw)?),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::CHAR => {
                SqlOut::Text(String::from_utf8(raw.to_vec())?)
            }
            Type::BYTEA => SqlOut::Bytes(raw.to_vec()),
            Type::DATE => SqlOut::Date(NaiveDate::from_sql(ty, raw)?),
            Type::TIMESTAMP => SqlOut::Timestamp(NaiveDateTime::from_sql(ty, raw)?),
            Type::TIMESTAMPTZ => SqlOut::TimestampTz(DateTime::<Utc>::from_sql(ty, raw)?),
            Type::UUID => SqlOut::Uuid(uuid::Uuid::from_sql(ty, raw)?),
            Type::JSON => SqlOut::Json(String::from_utf8(raw.to_vec())?),
            // jsonb's binary form is a version byte followed by the JSON text.
            Type::JSONB => SqlOut::Json(String::from_utf8(raw.get(1..).unwrap_or_default().to_vec())?),
            Type::INTERVAL => decode_interval(raw)?,
            _ => {
                return Err(format!(
                    "column type {} is not supported; cast it in SQL (e.g. `col::text`)",
                    ty.name()
                )
                .into());
            }
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(SqlOut::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn decode_interval(raw: &[u8]) -> Result<SqlOut, BoxError> {
    let bytes: [u8; 16] = raw.try_into().map_err(|_| "truncated interval")?;
    let micros = i64::from_be_bytes(bytes[0..8].try_into()?);
    let days = i32::from_be_bytes(bytes[8..12].try_into()?);
    let months = i32::from_be_bytes(bytes[12..16].try_into()?);
    if months != 0 {
        return Err("intervals with months have no timedelta equivalent; cast to text or use justify_days".into());
    }
    Ok(SqlOut::Interval { days, micros })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> String {
        let mut out = BytesMut::new();
        encode_numeric(text, &mut out).unwrap();
        decode_numeric(&out).unwrap()
    }

    #[test]
    fn floats_for_numeric_break_ties_to_even_like_python() {
        // 2^46 + 0.625, exactly halfway between .62 and .63, which both read back.
        let tie = 2f64.powi(46) + 0.625;
        assert_eq!(format_float_for_numeric(tie), "70368744177664.62");
        assert_eq!(format_float_for_numeric(-tie), "-70368744177664.62");
        assert_eq!(format_float_for_numeric(0.1), "0.1");
        assert_eq!(format_float_for_numeric(2.5), "2.5");
        assert_eq!(format_float_for_numeric(1e21), "1000000000000000000000");
    }

    #[test]
    fn numeric_round_trips() {
        for (input, expected) in [
            ("0", "0"),
            ("1", "1"),
            ("-1", "-1"),
            ("10000", "10000"),
            ("123456789.000123", "123456789.000123"),
            ("0.0001", "0.0001"),
            ("-0.5", "-0.5"),
            ("12.50", "12.50"),
            ("1E+3", "1000"),
            ("1.5E-3", "0.0015"),
            ("0.00", "0.00"),
            (
                "99999999999999999999999999999999999999",
                "99999999999999999999999999999999999999",
            ),
            ("NaN", "NaN"),
            ("-Infinity", "-Infinity"),
        ] {
            assert_eq!(roundtrip(input), expected, "{input}");
        }
    }

    #[test]
    fn invalid_decimals_are_errors() {
        for bad in ["", "-", "1.2.3", "abc", "1e", "1e99999"] {
            assert!(encode_numeric(bad, &mut BytesMut::new()).is_err(), "{bad}");
        }
    }

    #[test]
    fn mismatches_name_both_types() {
        let err = SqlValue::Bytes(vec![1])
            .to_sql(&Type::INT4, &mut BytesMut::new())
            .err()
            .expect("a mismatch");
        assert_eq!(
            err.to_string(),
            "cannot use a Python bytes for a parameter of type int4"
        );
        assert!(err.is::<TypeMismatch>(), "a wrong Python type is a TypeError");
        let err = SqlValue::Int(1 << 40)
            .to_sql(&Type::INT4, &mut BytesMut::new())
            .err()
            .expect("a mismatch");
        assert!(err.to_string().contains("out of range"));
        assert!(!err.is::<TypeMismatch>(), "a value out of range is a ValueError");
        let err = SqlValue::List(vec![SqlValue::Bytes(vec![1])])
            .to_sql(&Type::INT4_ARRAY, &mut BytesMut::new())
            .err()
            .expect("a mismatch inside an array");
        assert!(err.is::<TypeMismatch>(), "{err}");
        assert!(
            err.to_string()
                .starts_with("in a int4[] parameter: cannot use a Python bytes")
        );
    }
}
