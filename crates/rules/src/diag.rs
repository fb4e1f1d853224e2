//! Diagnostics: what the checker found, where, and how to show it.
//!
//! Every diagnostic names a file and a byte span in it; line and column are computed
//! from the source text so messages read `rules/rsa.toml:12:15`.

use std::fmt;

/// What went wrong, as a stable kind that tests and tools can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The file is not valid TOML, or a field has the wrong shape.
    Syntax,
    /// An expression does not parse.
    ExpressionSyntax,
    /// A name is neither a local definition, a situation input, another rule's
    /// output nor a parameter.
    UnknownName,
    /// A function that does not exist, or called with the wrong number of arguments.
    UnknownFunction,
    /// An operand or argument has the wrong type (number, boolean, date, text).
    TypeMismatch,
    /// A text compared with a value its input never takes.
    UnknownValue,
    /// Variables or conditions that depend on themselves.
    Cycle,
    /// Two rules, definitions or parameters with the same id.
    DuplicateId,
    /// A rule, condition or amount that cites no legal text.
    MissingLegalBasis,
    /// A parameter with no value in force at the month checked.
    NoValueInForce,
    /// Dated values not in increasing date order, or two values at the same date.
    ValuesOutOfOrder,
    /// A test case naming an input that is not in the situation.
    UnknownTestInput,
    /// A field with a value outside what it accepts (a bad month, an unknown kind, …).
    InvalidValue,
    /// Warning: a parameter's last value is older than its revaluation period says.
    StaleParameter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of the checker, located in a source file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub kind: Kind,
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
    /// The source line, for display.
    #[serde(skip)]
    pub source_line: String,
    /// Length of the highlighted text, in characters (at least 1).
    #[serde(skip)]
    pub width: usize,
}

/// Byte offset → (line, column), both 1-based, column counted in characters.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(src, offset.min(src.len()));
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..offset].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Diagnostic {
    /// A diagnostic at byte span `start..end` of the file whose text is `src`.
    pub fn at(
        severity: Severity,
        kind: Kind,
        file: &str,
        src: &str,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, column) = line_col(src, span.start);
        let source_line = src.lines().nth(line - 1).unwrap_or("").to_string();
        let end = floor_char_boundary(src, span.end.min(src.len()));
        let start = floor_char_boundary(src, span.start.min(end));
        let highlighted = &src[start..end];
        let width = highlighted.lines().next().unwrap_or("").chars().count().max(1);
        Diagnostic { severity, kind, file: file.to_string(), line, column, message: message.into(), source_line, width }
    }

    pub fn error(
        kind: Kind,
        file: &str,
        src: &str,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::at(Severity::Error, kind, file, src, span, message)
    }

    pub fn warning(
        kind: Kind,
        file: &str,
        src: &str,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::at(Severity::Warning, kind, file, src, span, message)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// rustc-like: a header, the location, the source line and a caret under the span.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let kind =
            serde_json::to_value(self.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        writeln!(f, "{label}[{kind}]: {}", self.message)?;
        writeln!(f, "  --> {}:{}:{}", self.file, self.line, self.column)?;
        if !self.source_line.is_empty() {
            let gutter = self.line.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {}", self.line, self.source_line)?;
            let pad: String =
                self.source_line.chars().take(self.column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            writeln!(f, "{:gutter$} | {pad}{}", "", "^".repeat(self.width))?;
        }
        Ok(())
    }
}

/// The diagnostics of a check, errors and warnings together.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Sorted by file, then position, so output is stable.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            (&a.file, a.line, a.column, a.severity, &a.message)
                .cmp(&(&b.file, b.line, b.column, b.severity, &b.message))
        });
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\ntitre = \"Âge\"\nb = x";
        assert_eq!(line_col(src, 0), (1, 1));
        let off = src.find("x").unwrap();
        assert_eq!(line_col(src, off), (3, 5));
        let off = src.find("\"Â").unwrap() + 3; // after the quote and the 2-byte Â
        assert_eq!(line_col(src, off), (2, 11));
    }

    #[test]
    fn display_points_at_the_span() {
        let src = "expr = \"age >= foo\"\n";
        let start = src.find("foo").unwrap();
        let d = Diagnostic::error(Kind::UnknownName, "r.toml", src, start..start + 3, "unknown `foo`");
        let shown = d.to_string();
        assert!(shown.contains("error[unknown-name]: unknown `foo`"), "{shown}");
        assert!(shown.contains("--> r.toml:1:16"), "{shown}");
        assert!(shown.contains("|                ^^^"), "{shown}");
    }
}
