//! Parse errors.

/// What kind of problem a [`ParseError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// `, 0)` — upstream: "Period must not be 0".
    PeriodZero,
    /// A period that is not a multiple of 60 — upstream: "Period N must be a multiple of 60".
    PeriodNotMultipleOf60,
    /// `times 0` — upstream: "Periods N must be 1 or greater".
    PeriodsLessThanOne,
    /// A period or number of periods beyond [`crate::MAX_PERIOD_VALUE`], or a threshold too large
    /// for a double. upstream's parser takes these and then fails to store them.
    NumberOutOfRange,
    /// A metric name, dimension name or dimension value longer than 255 characters.
    TooLong,
    /// Parentheses nested deeper than [`crate::MAX_NESTING`].
    NestingTooDeep,
}

/// Why [`crate::parse`] refused a text, and where.
///
/// `Display` reads `expected <what> at position <n>, found <what>`; [`ParseError::render`] shows
/// the offending line with a caret under the position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} at position {position}, found {found}")]
pub struct ParseError {
    /// Where the problem is: a 0-based index in characters (Unicode scalar values) into the text
    /// given to [`crate::parse`]. For a validation error it is the start of the offending number
    /// or name, as in upstream's errors.
    pub position: usize,
    /// What was expected there, e.g. `')'`, `a relational operator (<, <=, >, >=, lt, lte, gt,
    /// gte)`, `a period that is a multiple of 60`.
    pub expected: String,
    /// What was found there: a quoted excerpt, or `end of input`.
    pub found: String,
    /// The kind of problem.
    pub kind: ErrorKind,
    /// upstream's own message, for the errors upstream reports itself.
    pub(crate) upstream: Option<String>,
}

impl ParseError {
    /// upstream's message for the validation errors it reports itself (`Period 61 must be a
    /// multiple of 60`, `Period must not be 0`, `Periods 0 must be 1 or greater`), or `None`
    /// for the rest (upstream's syntax messages name pyparsing internals).
    pub fn upstream_message(&self) -> Option<&str> {
        self.upstream.as_deref()
    }

    /// 1-based line and column (in characters) of [`ParseError::position`] within `input`, which
    /// must be the text that was parsed. Lines end at `\n`.
    pub fn line_col(&self, input: &str) -> (usize, usize) {
        let mut line = 1;
        let mut col = 1;
        for c in input.chars().take(self.position) {
            if c == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        (line, col)
    }

    /// The line of `input` (the text that was parsed) holding the error, and under it a caret
    /// at the error's column:
    ///
    /// ```text
    /// max(cpu.idle_perc, 61) > 10
    ///                    ^
    /// ```
    pub fn render(&self, input: &str) -> String {
        let (line_no, col) = self.line_col(input);
        let line = input.split('\n').nth(line_no - 1).unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut out = String::with_capacity(line.len() * 2 + 2);
        out.push_str(line);
        out.push('\n');
        // Keep tabs so the caret lines up under a terminal's tab stops.
        for c in line.chars().take(col - 1) {
            out.push(if c == '\t' { '\t' } else { ' ' });
        }
        out.push('^');
        out
    }
}
