//! A Pratt parser from tokens to an [`Expr`] tree.
//!
//! Binding, loosest first: `+ -` (left), `* /` (left), unary `-` and `+`, `^` and `**` (right). So
//! `-x^2 = -(x^2)`, `2^3^2 = 2^(3^2)`, `2^-x = 2^(-x)` and `x*-y = x*(-y)`.

use super::MAX_DEPTH;
use super::error::{FormulaError, FormulaErrorKind};
use super::lexer::{Tok, Token, tokenize};

/// The one-argument functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unary {
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Exp,
    /// Natural logarithm: `ln` and `log` both.
    Ln,
    Sqrt,
    Abs,
}

impl Unary {
    /// The function's value at `v`.
    pub fn eval(self, v: f64) -> f64 {
        match self {
            Self::Sin => v.sin(),
            Self::Cos => v.cos(),
            Self::Tan => v.tan(),
            Self::Asin => v.asin(),
            Self::Acos => v.acos(),
            Self::Atan => v.atan(),
            Self::Sinh => v.sinh(),
            Self::Cosh => v.cosh(),
            Self::Tanh => v.tanh(),
            Self::Exp => v.exp(),
            Self::Ln => v.ln(),
            Self::Sqrt => v.sqrt(),
            Self::Abs => v.abs(),
        }
    }
}

/// The two-operand operations (operators and the functions `pow`, `min`, `max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Min,
    Max,
}

impl BinOp {
    /// The operation on two numbers.
    pub fn eval(self, a: f64, b: f64) -> f64 {
        match self {
            Self::Add => a + b,
            Self::Sub => a - b,
            Self::Mul => a * b,
            Self::Div => a / b,
            Self::Pow => a.powf(b),
            Self::Min => a.min(b),
            Self::Max => a.max(b),
        }
    }
}

/// A parsed formula.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr {
    Num(f64),
    X,
    Y,
    Neg(Box<Expr>),
    Unary(Unary, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

/// What a function name calls.
#[derive(Clone, Copy)]
enum Callee {
    Unary(Unary),
    Binary(BinOp),
}

impl Callee {
    fn arity(self) -> usize {
        match self {
            Self::Unary(_) => 1,
            Self::Binary(_) => 2,
        }
    }
}

/// Every function of the language, in the order `losscape list` names them.
pub(super) const FUNCTIONS: [&str; 17] = [
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log", "ln",
    "sqrt", "abs", "min", "max", "pow",
];

/// The variables and constants.
const NAMES: [&str; 4] = ["x", "y", "pi", "e"];

fn lookup_function(name: &str) -> Option<Callee> {
    Some(match name {
        "sin" => Callee::Unary(Unary::Sin),
        "cos" => Callee::Unary(Unary::Cos),
        "tan" => Callee::Unary(Unary::Tan),
        "asin" => Callee::Unary(Unary::Asin),
        "acos" => Callee::Unary(Unary::Acos),
        "atan" => Callee::Unary(Unary::Atan),
        "sinh" => Callee::Unary(Unary::Sinh),
        "cosh" => Callee::Unary(Unary::Cosh),
        "tanh" => Callee::Unary(Unary::Tanh),
        "exp" => Callee::Unary(Unary::Exp),
        "log" | "ln" => Callee::Unary(Unary::Ln),
        "sqrt" => Callee::Unary(Unary::Sqrt),
        "abs" => Callee::Unary(Unary::Abs),
        "min" => Callee::Binary(BinOp::Min),
        "max" => Callee::Binary(BinOp::Max),
        "pow" => Callee::Binary(BinOp::Pow),
        _ => return None,
    })
}

/// A variable or constant.
fn lookup_name(name: &str) -> Option<Expr> {
    Some(match name {
        "x" => Expr::X,
        "y" => Expr::Y,
        "pi" => Expr::Num(std::f64::consts::PI),
        "e" => Expr::Num(std::f64::consts::E),
        _ => return None,
    })
}

/// Edit distance (insertions, deletions, substitutions) between two short words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        let mut left = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let next = (diagonal + usize::from(ca != cb)).min(up + 1).min(left + 1);
            diagonal = up;
            if let Some(slot) = row.get_mut(j + 1) {
                *slot = next;
            }
            left = next;
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The candidate closest to `name` when it is a likely typo: the same word in other capitals, or one
/// edit away (two for words of four letters or more). Single letters get no guess but their other case.
fn suggest(name: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if let Some(same) = candidates.iter().find(|c| **c == lower) {
        return Some(same);
    }
    if name.chars().count() < 2 {
        return None;
    }
    let allowed = if name.chars().count() >= 4 { 2 } else { 1 };
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, c), *c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

// Binding powers: (left, right); right-associative operators bind tighter on their left.
const BP_ADD: (u8, u8) = (1, 2);
const BP_MUL: (u8, u8) = (3, 4);
const BP_PREFIX: u8 = 5;
const BP_POW: (u8, u8) = (7, 6);

/// Parses `src`. The caller has checked that it is not empty and not too long.
pub(super) fn parse(src: &str) -> Result<Expr, FormulaError> {
    let toks = tokenize(src)?;
    let end = toks.last().cloned().unwrap_or(Token {
        tok: Tok::End,
        col: 1,
        len: 1,
        text: String::new(),
    });
    let mut p = Parser {
        toks,
        end,
        pos: 0,
        depth: 0,
    };
    let e = p.expr(0)?;
    let t = p.peek();
    match t.tok {
        Tok::End => Ok(e),
        Tok::RParen => Err(p.error_at(FormulaErrorKind::UnmatchedParen, 0)),
        // Only a `,` can stop the top level here: operands are refused inside `expr`.
        _ => Err(p.error_at(
            FormulaErrorKind::UnexpectedToken {
                found: t.describe(),
            },
            0,
        )),
    }
}

struct Parser {
    toks: Vec<Token>,
    /// The `End` token, returned once the tokens run out.
    end: Token,
    pos: usize,
    /// Current nesting of parentheses, signs and powers.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        self.toks.get(self.pos).unwrap_or(&self.end)
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    /// An error at the next token (`ahead` = 0) or the one after.
    fn error_at(&self, kind: FormulaErrorKind, ahead: usize) -> FormulaError {
        let t = self.toks.get(self.pos + ahead).unwrap_or(&self.end);
        FormulaError::new(kind, t.col, t.len)
    }

    /// One level deeper; refused past [`MAX_DEPTH`] so hostile input cannot exhaust the stack.
    fn enter(&mut self, t: &Token) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FormulaError::new(FormulaErrorKind::TooDeep, t.col, t.len));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// An expression whose operators bind at least as tightly as `min_bp`.
    fn expr(&mut self, min_bp: u8) -> Result<Expr, FormulaError> {
        let mut lhs = self.prefix()?;
        loop {
            let t = self.peek();
            let (op, (lbp, rbp)) = match t.tok {
                Tok::Plus => (BinOp::Add, BP_ADD),
                Tok::Minus => (BinOp::Sub, BP_ADD),
                Tok::Star => (BinOp::Mul, BP_MUL),
                Tok::Slash => (BinOp::Div, BP_MUL),
                Tok::Caret => (BinOp::Pow, BP_POW),
                Tok::RParen | Tok::Comma | Tok::End => break,
                Tok::Num(_) | Tok::Ident(_) | Tok::LParen => {
                    let found = t.describe();
                    return Err(self.error_at(FormulaErrorKind::ExpectedOperator { found }, 0));
                }
            };
            if lbp < min_bp {
                break;
            }
            let t = self.next();
            self.enter(&t)?;
            let rhs = self.expr(rbp)?;
            self.leave();
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    /// A number, a name, a call, a parenthesised expression or a signed operand.
    fn prefix(&mut self) -> Result<Expr, FormulaError> {
        let t = self.next();
        match &t.tok {
            Tok::Num(v) => Ok(Expr::Num(*v)),
            Tok::Minus | Tok::Plus => {
                self.enter(&t)?;
                let e = self.expr(BP_PREFIX)?;
                self.leave();
                Ok(if t.tok == Tok::Minus {
                    Expr::Neg(Box::new(e))
                } else {
                    e
                })
            }
            Tok::LParen => {
                self.enter(&t)?;
                let e = self.expr(0)?;
                self.leave();
                self.close_paren(&t)?;
                Ok(e)
            }
            Tok::Ident(name) => self.name(&t, name),
            Tok::RParen | Tok::Comma | Tok::Star | Tok::Slash | Tok::Caret | Tok::End => {
                Err(FormulaError::new(
                    FormulaErrorKind::ExpectedOperand {
                        found: t.describe(),
                    },
                    t.col,
                    t.len,
                ))
            }
        }
    }

    /// A name: a call when `(` follows, else a variable or constant.
    fn name(&mut self, t: &Token, name: &str) -> Result<Expr, FormulaError> {
        let called = self.peek().tok == Tok::LParen;
        if let Some(e) = lookup_name(name) {
            if called {
                // `x(y + 1)`: a product written without `*`.
                let found = self.peek().describe();
                return Err(self.error_at(FormulaErrorKind::ExpectedOperator { found }, 0));
            }
            return Ok(e);
        }
        match lookup_function(name) {
            Some(callee) if called => self.call(t, name, callee),
            Some(_) => Err(FormulaError::new(
                FormulaErrorKind::MissingCallParens(name.to_owned()),
                t.col,
                t.len,
            )),
            None if called => Err(FormulaError::new(
                FormulaErrorKind::UnknownFunction {
                    name: name.to_owned(),
                    suggestion: suggest(name, &FUNCTIONS),
                },
                t.col,
                t.len,
            )),
            None => Err(FormulaError::new(
                FormulaErrorKind::UnknownName {
                    name: name.to_owned(),
                    suggestion: suggest(name, &NAMES).or_else(|| suggest(name, &FUNCTIONS)),
                },
                t.col,
                t.len,
            )),
        }
    }

    /// Expects the `)` that closes `open`.
    fn close_paren(&mut self, open: &Token) -> Result<(), FormulaError> {
        match self.peek().tok {
            Tok::RParen => {
                self.next();
                Ok(())
            }
            Tok::End => Err(FormulaError::new(
                FormulaErrorKind::UnclosedParen,
                open.col,
                1,
            )),
            // A `,` outside a call, as in `(x, y)`.
            _ => {
                let found = self.peek().describe();
                Err(self.error_at(FormulaErrorKind::UnexpectedToken { found }, 0))
            }
        }
    }

    /// `name(arg, ...)`, the `(` next.
    fn call(&mut self, name_tok: &Token, name: &str, callee: Callee) -> Result<Expr, FormulaError> {
        let open = self.next();
        self.enter(&open)?;
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            loop {
                args.push(self.expr(0)?);
                if self.peek().tok != Tok::Comma {
                    break;
                }
                self.next();
            }
        }
        self.leave();
        self.close_paren(&open)?;
        let found = args.len();
        let mut args = args.into_iter();
        match (callee, args.next(), args.next(), args.next()) {
            (Callee::Unary(f), Some(a), None, None) => Ok(Expr::Unary(f, Box::new(a))),
            (Callee::Binary(op), Some(a), Some(b), None) => {
                Ok(Expr::Bin(op, Box::new(a), Box::new(b)))
            }
            _ => Err(FormulaError::new(
                FormulaErrorKind::WrongArity {
                    name: name.to_owned(),
                    expected: callee.arity(),
                    found,
                },
                name_tok.col,
                name_tok.len,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_near_misses_only() {
        assert_eq!(suggest("sinn", &FUNCTIONS), Some("sin"));
        assert_eq!(suggest("SQRT", &FUNCTIONS), Some("sqrt"));
        assert_eq!(suggest("squrt", &FUNCTIONS), Some("sqrt"));
        assert_eq!(suggest("foo", &FUNCTIONS), None);
        assert_eq!(suggest("X", &NAMES), Some("x"));
        assert_eq!(suggest("z", &NAMES), None);
        assert_eq!(suggest("pie", &NAMES), Some("pi"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
