//! Text bound for `text` columns (error messages, tracebacks, hook errors): Postgres rejects NUL
//! in `text`, and a statement carrying one fails as a whole, so what the engine writes about an
//! attempt must never contain one (a task whose exception mentions `\x00` must still fail, retry
//! and be recorded like any other).

use std::borrow::Cow;

/// What a NUL character is written as: the four characters `\x00`, as Python would print it.
pub const NUL_REPLACEMENT: &str = "\\x00";

/// `text` with every NUL replaced by `\x00` (borrowed when there is none, the usual case).
#[must_use]
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', NUL_REPLACEMENT))
    } else {
        Cow::Borrowed(text)
    }
}

/// `clean` for an owned string (no copy when there is nothing to replace).
#[must_use]
pub fn clean_owned(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', NUL_REPLACEMENT)
    } else {
        text
    }
}

/// Why a label (or other identifier-like text) cannot be stored, if it cannot: identifiers are
/// refused rather than rewritten, since a rewritten label would route the task elsewhere.
#[must_use]
pub fn nul_problem(what: &str, text: &str) -> Option<String> {
    text.contains('\0').then(|| {
        format!(
            "{what} {:?} contains a NUL character, which Postgres text cannot store",
            clean(text)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_spelled_out_and_clean_text_is_not_copied() {
        assert_eq!(clean("bad\0byte"), "bad\\x00byte");
        assert!(matches!(clean("fine"), Cow::Borrowed("fine")));
        assert_eq!(clean_owned("\0\0".to_owned()), "\\x00\\x00");
        assert!(nul_problem("label", "gp\0u").is_some());
        assert!(nul_problem("label", "gpu").is_none());
    }
}
