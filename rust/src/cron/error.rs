//! `CronError`: why an expression was rejected, and in which field.

use std::fmt;

/// The part of an expression an error points at. `name()` is what users read in messages and
/// what Python's `CronError.field` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    /// The `CRON_TZ=` / `TZ=` prefix.
    TimeZone,
}

impl CronField {
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::DayOfMonth => "day-of-month",
            Self::Month => "month",
            Self::DayOfWeek => "day-of-week",
            Self::TimeZone => "timezone",
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An invalid cron expression. Carries the expression so that the error alone is enough to
/// report it (the Python `CronError` needs it too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression {expression:?}: {}", self.message())]
pub struct CronError {
    expression: String,
    field: Option<CronField>,
    reason: String,
}

impl CronError {
    pub(crate) fn new(expression: &str, field: Option<CronField>, reason: impl Into<String>) -> Self {
        Self {
            expression: expression.to_owned(),
            field,
            reason: reason.into(),
        }
    }

    /// The expression as it was given.
    #[must_use]
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The offending field, when the problem lies in one.
    #[must_use]
    pub fn field(&self) -> Option<CronField> {
        self.field
    }

    /// What is wrong, without the field name: `value 61 out of range 0-59`.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The reason prefixed by the field name when there is one: `minute: value 61 out of range 0-59`.
    #[must_use]
    pub fn message(&self) -> String {
        match self.field {
            Some(field) => format!("{field}: {}", self.reason),
            None => self.reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_expression_field_and_reason() {
        let err = CronError::new("0 61 * * *", Some(CronField::Minute), "value 61 out of range 0-59");
        assert_eq!(
            err.to_string(),
            r#"invalid cron expression "0 61 * * *": minute: value 61 out of range 0-59"#
        );
        assert_eq!(err.message(), "minute: value 61 out of range 0-59");
        assert_eq!(err.field().map(CronField::name), Some("minute"));
    }

    #[test]
    fn message_without_field_is_the_reason() {
        let err = CronError::new("", None, "empty expression");
        assert_eq!(err.message(), "empty expression");
        assert_eq!(err.field(), None);
    }
}
