//! Checks of single located values (ids, keywords, numbers, provenance) shared by every
//! file format that reports problems by file, line and column: the catalog's files and drills.

use std::ops::Range;

use toml::Spanned;

use super::problems::{Problems, SourceText};
use crate::domain::{Grade, Id, Provenance};

/// A catalog id: the shared `Id` alphabet, restricted to lowercase letters, digits and '-'.
pub(crate) fn catalog_id(
    source: &SourceText<'_>,
    problems: &mut Problems,
    id: &Spanned<String>,
) -> Option<Id> {
    let text = id.get_ref();
    let parsed = match Id::parse(text) {
        Ok(parsed) => parsed,
        Err(error) => {
            source.report(problems, id.span(), error.to_string());
            return None;
        }
    };
    if !text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        source.report(
            problems,
            id.span(),
            format!("id {text:?} must use lowercase ASCII letters, digits and '-' only"),
        );
        return None;
    }
    Some(parsed)
}

pub(crate) fn keyword<T: Copy>(
    source: &SourceText<'_>,
    problems: &mut Problems,
    field: &str,
    value: &Spanned<String>,
    parse: fn(&str) -> Option<T>,
    allowed: &[T],
    key: fn(T) -> &'static str,
) -> Option<T> {
    let parsed = parse(value.get_ref());
    if parsed.is_none() {
        let allowed: Vec<&str> = allowed.iter().map(|item| key(*item)).collect();
        source.report(
            problems,
            value.span(),
            format!(
                "unknown {field} {:?}; expected one of {}",
                value.get_ref(),
                allowed.join(", ")
            ),
        );
    }
    parsed
}

pub(crate) fn provenance(
    source: &SourceText<'_>,
    problems: &mut Problems,
    note: &Spanned<String>,
    grade: &Spanned<String>,
) -> Option<Provenance> {
    if note.get_ref().trim().is_empty() {
        source.report(
            problems,
            note.span(),
            "source is empty: say where the numbers come from, or that they are a model assumption",
        );
        return None;
    }
    let grade = keyword(source, problems, "grade", grade, Grade::parse, &Grade::ALL, Grade::key)?;
    Some(Provenance { source: note.get_ref().clone(), grade })
}

/// Whether a number's range admits its lower end: `[a, b]` or `(a, b]` (the upper end is
/// always admitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lower {
    Included,
    Excluded,
}

/// A finite number within `range`; the message names the field and the range.
pub(crate) fn number(
    source: &SourceText<'_>,
    problems: &mut Problems,
    field: &str,
    value: &Spanned<f64>,
    range: Range<f64>,
    lower: Lower,
) -> Option<f64> {
    let x = *value.get_ref();
    let start_ok = match lower {
        Lower::Included => x >= range.start,
        Lower::Excluded => x > range.start,
    };
    if !x.is_finite() || !start_ok || x > range.end {
        let open = match lower {
            Lower::Included => '[',
            Lower::Excluded => '(',
        };
        source.report(
            problems,
            value.span(),
            format!(
                "{field} must be a finite number in {open}{}, {}], not {x}",
                range.start, range.end
            ),
        );
        return None;
    }
    Some(x)
}
