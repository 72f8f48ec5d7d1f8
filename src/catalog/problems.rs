//! Load problems: every one carries file, line, column and reason, and a load collects all of
//! them (up to a bound) instead of stopping at the first.

use std::fmt;
use std::ops::Range;

/// The most problems one load reports; past that only a count is kept, so a registry with a
/// million bad lines cannot flood memory or the terminal.
pub const PROBLEMS_MAX: usize = 1000;

/// One thing wrong with the data, located.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file or a file that is missing.
    pub line: u32,
    /// 1-based column, where known.
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "{}:{}:{}: {}", self.file, self.line, column, self.message),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.message),
        }
    }
}

/// A bounded list of problems.
#[derive(Debug, Default)]
pub struct Problems {
    pub list: Vec<Problem>,
    /// Problems found beyond `PROBLEMS_MAX`, counted but not kept.
    pub dropped: usize,
}

impl Problems {
    pub fn push(&mut self, file: &str, line: u32, column: Option<u32>, message: impl Into<String>) {
        if self.list.len() >= PROBLEMS_MAX {
            self.dropped += 1;
            return;
        }
        self.list.push(Problem { file: file.to_owned(), line, column, message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.dropped == 0
    }

    pub fn total(&self) -> usize {
        self.list.len() + self.dropped
    }
}

/// A file's text with its line starts, to turn byte offsets (serde spans) into line and column.
pub struct SourceText<'a> {
    pub name: &'a str,
    pub text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceText<'a> {
    pub fn new(name: &'a str, text: &'a str) -> SourceText<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        SourceText { name, text, line_starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self.text.get(start..offset).map_or(0, |prefix| prefix.chars().count()) + 1;
        (line as u32, column as u32)
    }

    pub fn report(&self, problems: &mut Problems, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = self.position(span.start);
        problems.push(self.name, line, Some(column), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let source = SourceText::new("f", "ab\n唐山x\n");
        assert_eq!(source.position(0), (1, 1));
        assert_eq!(source.position(3), (2, 1));
        assert_eq!(source.position(9), (2, 3));
    }

    #[test]
    fn the_list_is_bounded_but_counts_everything() {
        let mut problems = Problems::default();
        for _ in 0..PROBLEMS_MAX + 5 {
            problems.push("f", 1, None, "x");
        }
        assert_eq!(problems.list.len(), PROBLEMS_MAX);
        assert_eq!(problems.total(), PROBLEMS_MAX + 5);
    }
}
