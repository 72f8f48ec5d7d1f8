//! `Id`: the validated identifier shared by scenarios, categories, places, certifications and
//! suppliers, so a malformed id is refused once, at the edge, and never travels further.

use std::fmt;

/// The longest identifier accepted anywhere (bytes).
pub const ID_BYTES_MAX: usize = 64;

/// An identifier: 1 to 64 bytes of ASCII letters, digits, `-`, `_` or `.`.
///
/// Ids are compared byte-wise; that order is the stable tie-breaker of every ranking.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(Box<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("id is empty")]
    Empty,
    #[error("id is longer than {ID_BYTES_MAX} bytes")]
    TooLong,
    #[error("id {0:?} has a character other than ASCII letters, digits, '-', '_' or '.'")]
    BadCharacter(String),
}

impl Id {
    pub fn parse(text: &str) -> Result<Id, IdError> {
        if text.is_empty() {
            return Err(IdError::Empty);
        }
        if text.len() > ID_BYTES_MAX {
            return Err(IdError::TooLong);
        }
        let ok = text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok {
            return Err(IdError::BadCharacter(text.chars().take(ID_BYTES_MAX).collect()));
        }
        Ok(Id(text.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lets maps keyed by `Id` be queried with a plain `&str`.
impl std::borrow::Borrow<str> for Id {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_the_documented_alphabet_and_nothing_else() {
        assert!(Id::parse("drainage-truck_3.0").is_ok());
        assert_eq!(Id::parse(""), Err(IdError::Empty));
        assert_eq!(Id::parse(&"a".repeat(65)), Err(IdError::TooLong));
        assert!(matches!(Id::parse("a b"), Err(IdError::BadCharacter(_))));
        assert!(matches!(Id::parse("唐山"), Err(IdError::BadCharacter(_))));
    }
}
