//! What can be wrong with a typed formula, and where: every [`FormulaError`] carries the 1-based column
//! (counted in characters, not bytes) of the first character of the problem and its length, so a text
//! field can put a caret or an underline under it.

use std::fmt;

/// What went wrong while reading a formula.
#[derive(Clone, Debug, PartialEq)]
pub enum FormulaErrorKind {
    /// Nothing but whitespace.
    Empty,
    /// More characters than [`MAX_FORMULA_CHARS`](super::MAX_FORMULA_CHARS).
    TooLong {
        /// Characters typed.
        chars: usize,
    },
    /// A character that is not part of the language (`$`, `π`, `;` ...).
    UnexpectedChar(char),
    /// A malformed number such as `1.2.3` or a lone `.`.
    InvalidNumber(String),
    /// `name(` where `name` is not a function of the language.
    UnknownFunction {
        /// What was typed.
        name: String,
        /// A function with a similar name, if there is one.
        suggestion: Option<&'static str>,
    },
    /// A name that is neither `x`, `y`, `pi`, `e` nor a function.
    UnknownName {
        /// What was typed.
        name: String,
        /// A variable or constant with a similar name, if there is one.
        suggestion: Option<&'static str>,
    },
    /// A function name without its parentheses, as in `sin x`.
    MissingCallParens(String),
    /// A function called with the wrong number of arguments.
    WrongArity {
        /// The function.
        name: String,
        /// Arguments it takes.
        expected: usize,
        /// Arguments given.
        found: usize,
    },
    /// A `(` that is never closed; the column is the `(`'s.
    UnclosedParen,
    /// A `)` without a matching `(`; the column is the `)`'s.
    UnmatchedParen,
    /// A number, variable, function or `(` was expected; `found` describes what was there.
    ExpectedOperand {
        /// What was found instead, quoted (`'*'`) or `end of the formula`.
        found: String,
    },
    /// An operator (or the end) was expected, but a new operand starts here, as in `2x` or `(x)(y)`.
    ExpectedOperator {
        /// What was found instead, quoted.
        found: String,
    },
    /// A token that cannot stand here, such as a `,` outside a function call.
    UnexpectedToken {
        /// What was found, quoted.
        found: String,
    },
    /// Parentheses, signs or powers nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    TooDeep,
}

/// A formula that could not be read: what is wrong and where.
#[derive(Clone, Debug, PartialEq)]
pub struct FormulaError {
    /// What is wrong.
    pub kind: FormulaErrorKind,
    /// 1-based column of the first character of the problem, counted in characters.
    pub column: usize,
    /// Length of the problem in characters (at least 1), for an underline.
    pub len: usize,
}

impl FormulaError {
    pub(super) fn new(kind: FormulaErrorKind, column: usize, len: usize) -> Self {
        Self {
            kind,
            column,
            len: len.max(1),
        }
    }
}

impl FormulaError {
    /// The formula on one line and a caret line under the problem, for a terminal or a monospaced
    /// field: `x + sinn(y)` / `    ^^^^`. Tabs and line breaks in `source` become spaces so the columns
    /// line up.
    pub fn caret(&self, source: &str) -> String {
        let line: String = source
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let len = self.len.min(
            line.chars()
                .count()
                .saturating_sub(self.column.saturating_sub(1))
                .max(1),
        );
        // Past the end of the formula (a missing operand) the caret stands just after it.
        let indent = self.column.saturating_sub(1).min(line.chars().count());
        format!("{line}\n{}{}", " ".repeat(indent), "^".repeat(len.max(1)))
    }
}

/// ` (did you mean 'sin'?)`, or nothing.
fn did_you_mean(suggestion: Option<&'static str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean '{s}'?)"))
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let col = self.column;
        match &self.kind {
            FormulaErrorKind::Empty => {
                write!(
                    f,
                    "empty formula: type an expression in x and y, such as x^2 + 3*y^2"
                )
            }
            FormulaErrorKind::TooLong { chars } => write!(
                f,
                "the formula is too long: {chars} characters, at most {}",
                super::MAX_FORMULA_CHARS
            ),
            FormulaErrorKind::UnexpectedChar(c) => {
                write!(f, "unexpected character '{c}' at column {col}")
            }
            FormulaErrorKind::InvalidNumber(s) => write!(f, "invalid number '{s}' at column {col}"),
            FormulaErrorKind::UnknownFunction { name, suggestion } => write!(
                f,
                "unknown function '{name}' at column {col}{}",
                did_you_mean(*suggestion)
            ),
            FormulaErrorKind::UnknownName { name, suggestion } => write!(
                f,
                "unknown name '{name}' at column {col}: the variables are x and y, the constants \
                 pi and e{}",
                did_you_mean(*suggestion)
            ),
            FormulaErrorKind::MissingCallParens(name) => write!(
                f,
                "function '{name}' at column {col} needs parentheses, as in {name}(x)"
            ),
            FormulaErrorKind::WrongArity {
                name,
                expected,
                found,
            } => write!(
                f,
                "function '{name}' at column {col} takes {expected} argument{} but {found} {} given",
                if *expected == 1 { "" } else { "s" },
                if *found == 1 { "was" } else { "were" }
            ),
            FormulaErrorKind::UnclosedParen => write!(f, "unclosed '(' at column {col}"),
            FormulaErrorKind::UnmatchedParen => {
                write!(f, "')' at column {col} has no matching '('")
            }
            FormulaErrorKind::ExpectedOperand { found } => write!(
                f,
                "expected a number, x, y, a function or '(' at column {col} but found {found}"
            ),
            FormulaErrorKind::ExpectedOperator { found } => write!(
                f,
                "expected an operator at column {col} but found {found} (write 2*x, not 2x)"
            ),
            FormulaErrorKind::UnexpectedToken { found } => {
                write!(f, "unexpected {found} at column {col}")
            }
            FormulaErrorKind::TooDeep => write!(
                f,
                "the formula is nested too deeply at column {col} (at most {} levels)",
                super::MAX_DEPTH
            ),
        }
    }
}

impl std::error::Error for FormulaError {}
