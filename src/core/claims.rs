//! A lesson's claims: the statements its words make, as data that the scoreboard checks.
//!
//! A teaching tool's worst bug is a lesson whose words and picture disagree. Every statement a lesson's
//! description makes about what the class will see is one [`Claim`] in its scene file: what the panel
//! shows (`say`, a "watch for:" line), the check in a small language over the scoreboard's figures and
//! the runs' end points (`check`), and the step budget it holds for (`steps`):
//!
//! ```text
//! claims: [
//!     (say: "plain GD lingers at the saddle for hundreds of steps",
//!      check: "saddle_steps('SGD') >= 200", steps: 1000),
//!     (say: "noise kicks SGD off the ridge early",
//!      check: "in 9 of 10 seeds: to_target('SGD + noise') < to_target('SGD')", steps: 1000),
//! ]
//! ```
//!
//! `losscape compare --check` runs every claim headless ([`check_scene`]) and names each false one; the
//! app ticks a claim when it comes true on screen ([`ClaimVerdict`] over intervals: a figure of a run
//! still in progress is only known to lie in a range, and a claim is decided once every value in those
//! ranges agrees).
//!
//! # The language
//!
//! ```text
//! check   := [ "in" INT "of" INT "seeds" ":" ] expr CMP expr
//! CMP     := "<" | "<=" | ">" | ">=" | "=="
//! expr    := term { ("+" | "-") term }
//! term    := unary { ("*" | "/") unary }
//! unary   := "-" unary | atom
//! atom    := NUMBER | "never" | "(" expr ")"
//!          | FIGURE "(" RUN { "," NUMBER } ")"
//!          | ("min" | "max") "(" arg { "," arg } ")"      arg: expr, or a FIGURE of the run '*'
//!          | "abs" "(" expr ")"
//! RUN     := 'name in single quotes' | "*" (every run; only directly inside min or max)
//! ```
//!
//! The figures of a run after the claim's `steps` (or where it stopped, if it converged or diverged
//! before): `steps`, `to_target` (the scoreboard's first step at the target; `never` if not reached),
//! `loss` (final loss), `path`, `saddle_steps`, `max_step` (the longest single step), `diverged_at`,
//! `converged_at` (`never` if not), `x`, `y` (where it ends) and `distance(RUN, X, Y)` (from its end to
//! the point (X, Y)), and on a network `accuracy` (0 to 1, over all its data; not a number, so never
//! true, on a landscape). `never` is +infinity, so "A reaches the target before B" is
//! `to_target('A') < to_target('B')`. `in A of B seeds:` runs the scene with every optimizer's seed
//! plus 0, 1, ..., B − 1 and holds when the comparison holds in at least A of them (a claim about noisy
//! runs is statistical; the app checks it on the run on screen, seed + 0).

use serde::{Deserialize, Serialize};
use std::fmt;

use super::error::CoreError;
use super::landscape::Landscape;
use super::run::SceneRun;
use super::scene::Scene;
use super::scoreboard::{Score, ScoreSettings, ScoreTracker};
use super::simulation::RunStatus;
use std::sync::Arc;

/// The most steps a claim may look ahead (it is checked headless, by tests and `compare --check`).
pub const MAX_CLAIM_STEPS: u64 = 1_000_000;
/// The most seeds a statistical claim may run.
pub const MAX_CLAIM_SEEDS: u32 = 1_000;

/// One statement of a lesson, checkable: see the [module docs](self) for the language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// What the class is told to watch for, in the lesson's words (the panel's "watch for:" line).
    pub say: String,
    /// The check: `saddle_steps('SGD') >= 200`.
    pub check: String,
    /// The step budget it holds for: each run is taken this far, or until it converges or diverges.
    pub steps: u64,
}

/// A figure of one run that a claim can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Figure {
    /// Steps taken.
    Steps,
    /// The scoreboard's first step at the target (`never`: +infinity).
    ToTarget,
    /// The loss where the run is.
    Loss,
    /// Length of the path walked, in param units.
    Path,
    /// Steps that ended near a saddle.
    SaddleSteps,
    /// The longest single step, in param units.
    MaxStep,
    /// The step that was refused because the run blew up (`never`: +infinity).
    DivergedAt,
    /// The step at which the gradient norm fell below the tolerance (`never`: +infinity).
    ConvergedAt,
    /// Where the run is, x.
    X,
    /// Where the run is, y.
    Y,
    /// Distance from where the run is to the point given as two arguments.
    Distance,
    /// A network's accuracy over all its data, 0 to 1 (not a number on a landscape).
    Accuracy,
}

impl Figure {
    /// Every figure with its name in the language.
    pub const ALL: [(Figure, &'static str); 12] = [
        (Figure::Steps, "steps"),
        (Figure::ToTarget, "to_target"),
        (Figure::Loss, "loss"),
        (Figure::Path, "path"),
        (Figure::SaddleSteps, "saddle_steps"),
        (Figure::MaxStep, "max_step"),
        (Figure::DivergedAt, "diverged_at"),
        (Figure::ConvergedAt, "converged_at"),
        (Figure::X, "x"),
        (Figure::Y, "y"),
        (Figure::Distance, "distance"),
        (Figure::Accuracy, "accuracy"),
    ];

    /// Its name in the language.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("?", |(_, n)| n)
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    /// How many numbers follow the run (the point of `distance`).
    fn arguments(self) -> usize {
        if self == Figure::Distance { 2 } else { 0 }
    }
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Eq => "==",
        }
    }
}

/// Which run a figure is of.
#[derive(Clone, Debug, PartialEq)]
pub enum RunRef {
    /// The run at this index of the scene's optimizers.
    One(usize),
    /// Every run (only as an argument of `min` or `max`).
    Every,
}

/// An expression of a claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    Figure {
        figure: Figure,
        run: RunRef,
        args: Vec<f64>,
    },
    Neg(Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Min(Vec<Expr>),
    Max(Vec<Expr>),
    Abs(Box<Expr>),
}

/// A parsed claim check.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// `in A of B seeds:`: (A, B).
    pub seeds: Option<(u32, u32)>,
    pub lhs: Expr,
    pub cmp: Cmp,
    pub rhs: Expr,
}

/// What is wrong with a claim's check, and where (1-based column in the check's text).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ClaimError {
    pub column: usize,
    pub message: String,
}

// ---------------------------------------------------------------------------------------------------
// Lexer and parser

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Ident(String),
    Name(String),
    Star,
    Plus,
    Minus,
    Slash,
    LParen,
    RParen,
    Comma,
    Colon,
    Cmp(Cmp),
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Number(v) => write!(f, "the number {v}"),
            Token::Ident(s) => write!(f, "'{s}'"),
            Token::Name(s) => write!(f, "the run name '{s}'"),
            Token::Star => f.write_str("'*'"),
            Token::Plus => f.write_str("'+'"),
            Token::Minus => f.write_str("'-'"),
            Token::Slash => f.write_str("'/'"),
            Token::LParen => f.write_str("'('"),
            Token::RParen => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
            Token::Colon => f.write_str("':'"),
            Token::Cmp(c) => write!(f, "'{}'", c.symbol()),
            Token::End => f.write_str("the end"),
        }
    }
}

/// Tokens with their 1-based columns (in characters).
fn lex(text: &str) -> Result<Vec<(Token, usize)>, ClaimError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |column: usize, message: String| ClaimError { column, message };
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '*' => Some(Token::Star),
            '+' => Some(Token::Plus),
            '-' => Some(Token::Minus),
            '/' => Some(Token::Slash),
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            ',' => Some(Token::Comma),
            ':' => Some(Token::Colon),
            _ => None,
        };
        if let Some(token) = single {
            out.push((token, column));
            i += 1;
            continue;
        }
        if matches!(c, '<' | '>' | '=') {
            let eq = chars.get(i + 1) == Some(&'=');
            let cmp = match (c, eq) {
                ('<', false) => Cmp::Lt,
                ('<', true) => Cmp::Le,
                ('>', false) => Cmp::Gt,
                ('>', true) => Cmp::Ge,
                ('=', true) => Cmp::Eq,
                _ => return Err(err(column, "'=' alone: write '==' to compare".into())),
            };
            out.push((Token::Cmp(cmp), column));
            i += if eq { 2 } else { 1 };
            continue;
        }
        if c == '\'' {
            let start = i + 1;
            let Some(len) = chars[start..].iter().position(|&q| q == '\'') else {
                return Err(err(column, "a run name without its closing quote '".into()));
            };
            let name: String = chars[start..start + len].iter().collect();
            out.push((Token::Name(name), column));
            i = start + len + 1;
            continue;
        }
        if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // an exponent: 1e-3, 2E5
            if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                let mut j = i + 1;
                if j < chars.len() && matches!(chars[j], '+' | '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let value: f64 = text
                .parse()
                .map_err(|_| err(column, format!("'{text}' is not a number")))?;
            out.push((Token::Number(value), column));
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), column));
            continue;
        }
        return Err(err(column, format!("unexpected character '{c}'")));
    }
    out.push((Token::End, chars.len() + 1));
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<(Token, usize)>,
    at: usize,
    runs: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)].0
    }

    fn column(&self) -> usize {
        self.tokens[self.at.min(self.tokens.len() - 1)].1
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, ClaimError> {
        Err(ClaimError {
            column: self.column(),
            message: message.into(),
        })
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), ClaimError> {
        if *self.peek() == token {
            self.next();
            Ok(())
        } else {
            self.fail(format!("expected {what}, found {}", self.peek()))
        }
    }

    fn check(&mut self) -> Result<Check, ClaimError> {
        let seeds = if *self.peek() == Token::Ident("in".into()) {
            self.next();
            let at_least = self.count("the number of seeds that must hold")?;
            if *self.peek() != Token::Ident("of".into()) {
                return self.fail(format!("expected 'of', found {}", self.peek()));
            }
            self.next();
            let column = self.column();
            let of = self.count("the number of seeds")?;
            if *self.peek() != Token::Ident("seeds".into()) {
                return self.fail(format!("expected 'seeds', found {}", self.peek()));
            }
            self.next();
            self.expect(Token::Colon, "':' after 'seeds'")?;
            if of == 0 || of > MAX_CLAIM_SEEDS {
                return Err(ClaimError {
                    column,
                    message: format!("the number of seeds must be 1 to {MAX_CLAIM_SEEDS}"),
                });
            }
            if at_least > of {
                return Err(ClaimError {
                    column,
                    message: format!("{at_least} of {of} seeds cannot hold"),
                });
            }
            Some((at_least, of))
        } else {
            None
        };
        let lhs = self.expr(false)?;
        let Token::Cmp(cmp) = self.peek().clone() else {
            return self.fail(format!(
                "expected a comparison (<, <=, >, >=, ==), found {}",
                self.peek()
            ));
        };
        self.next();
        let rhs = self.expr(false)?;
        if *self.peek() != Token::End {
            return self.fail(format!("unexpected {} after the comparison", self.peek()));
        }
        Ok(Check {
            seeds,
            lhs,
            cmp,
            rhs,
        })
    }

    fn count(&mut self, what: &str) -> Result<u32, ClaimError> {
        match self.peek().clone() {
            Token::Number(v) if v.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&v) => {
                self.next();
                Ok(v as u32)
            }
            other => self.fail(format!("expected {what} (a whole number), found {other}")),
        }
    }

    /// `in_aggregate`: directly inside min/max, where a figure of '*' is allowed.
    fn expr(&mut self, in_aggregate: bool) -> Result<Expr, ClaimError> {
        let mut lhs = self.term(in_aggregate)?;
        loop {
            match self.peek() {
                Token::Plus => {
                    self.next();
                    lhs = Expr::Add(Box::new(lhs), Box::new(self.term(false)?));
                }
                Token::Minus => {
                    self.next();
                    lhs = Expr::Sub(Box::new(lhs), Box::new(self.term(false)?));
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn term(&mut self, in_aggregate: bool) -> Result<Expr, ClaimError> {
        let mut lhs = self.unary(in_aggregate)?;
        loop {
            match self.peek() {
                Token::Star => {
                    self.next();
                    lhs = Expr::Mul(Box::new(lhs), Box::new(self.unary(false)?));
                }
                Token::Slash => {
                    self.next();
                    lhs = Expr::Div(Box::new(lhs), Box::new(self.unary(false)?));
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn unary(&mut self, in_aggregate: bool) -> Result<Expr, ClaimError> {
        if *self.peek() == Token::Minus {
            self.next();
            return Ok(Expr::Neg(Box::new(self.unary(false)?)));
        }
        self.atom(in_aggregate)
    }

    fn atom(&mut self, in_aggregate: bool) -> Result<Expr, ClaimError> {
        let column = self.column();
        match self.next() {
            Token::Number(v) => Ok(Expr::Number(v)),
            Token::LParen => {
                let e = self.expr(false)?;
                self.expect(Token::RParen, "')'")?;
                Ok(e)
            }
            Token::Ident(name) if name == "never" => Ok(Expr::Number(f64::INFINITY)),
            Token::Ident(name) if name == "abs" => {
                self.expect(Token::LParen, "'(' after 'abs'")?;
                let e = self.expr(false)?;
                self.expect(Token::RParen, "')' closing 'abs('")?;
                Ok(Expr::Abs(Box::new(e)))
            }
            Token::Ident(name) if name == "min" || name == "max" => {
                self.expect(Token::LParen, &format!("'(' after '{name}'"))?;
                let mut args = vec![self.expr(true)?];
                while *self.peek() == Token::Comma {
                    self.next();
                    args.push(self.expr(true)?);
                }
                self.expect(Token::RParen, &format!("')' closing '{name}('"))?;
                Ok(if name == "min" {
                    Expr::Min(args)
                } else {
                    Expr::Max(args)
                })
            }
            Token::Ident(name) => {
                let Some(figure) = Figure::from_name(&name) else {
                    let known: Vec<&str> = Figure::ALL.iter().map(|(_, n)| *n).collect();
                    return Err(ClaimError {
                        column,
                        message: format!(
                            "unknown figure '{name}' (known: {}, and min, max, abs, never)",
                            known.join(", ")
                        ),
                    });
                };
                self.expect(Token::LParen, &format!("'(' after '{name}'"))?;
                let run_column = self.column();
                let run = match self.next() {
                    Token::Name(run) => match self.runs.iter().position(|r| *r == run) {
                        Some(i) => RunRef::One(i),
                        None => {
                            return Err(ClaimError {
                                column: run_column,
                                message: format!(
                                    "no optimizer is named '{run}' in this scene (it has: {})",
                                    self.runs
                                        .iter()
                                        .map(|r| format!("'{r}'"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            });
                        }
                    },
                    Token::Star if in_aggregate => RunRef::Every,
                    Token::Star => {
                        return Err(ClaimError {
                            column: run_column,
                            message:
                                "'*' (every run) only works directly inside min(...) or max(...)"
                                    .into(),
                        });
                    }
                    other => {
                        return Err(ClaimError {
                            column: run_column,
                            message: format!(
                                "expected a run name in single quotes ('SGD') or '*', found {other}"
                            ),
                        });
                    }
                };
                let mut args = Vec::new();
                while *self.peek() == Token::Comma {
                    self.next();
                    let negative = *self.peek() == Token::Minus;
                    if negative {
                        self.next();
                    }
                    match self.next() {
                        Token::Number(v) => args.push(if negative { -v } else { v }),
                        other => {
                            return Err(ClaimError {
                                column: self.tokens[self.at.saturating_sub(1)].1,
                                message: format!(
                                    "the arguments of {name} are numbers, found {other}"
                                ),
                            });
                        }
                    }
                }
                if args.len() != figure.arguments() {
                    return self.fail(format!(
                        "{name} takes a run{}, found {} number(s) after it",
                        match figure.arguments() {
                            0 => String::new(),
                            n => format!(" and {n} numbers (the point x, y)"),
                        },
                        args.len()
                    ));
                }
                self.expect(Token::RParen, &format!("')' closing '{name}('"))?;
                Ok(Expr::Figure { figure, run, args })
            }
            other => Err(ClaimError {
                column,
                message: format!("expected a number, a figure or '(', found {other}"),
            }),
        }
    }
}

impl Check {
    /// Parses `text` against a scene whose optimizers are named `runs` (in scene order).
    pub fn parse(text: &str, runs: &[String]) -> Result<Self, ClaimError> {
        let tokens = lex(text)?;
        let mut parser = Parser {
            tokens,
            at: 0,
            runs,
        };
        parser.check()
    }

    /// The runs' seeds to check it on: offsets 0..B for `in A of B seeds`, else only 0.
    pub fn seed_count(&self) -> u32 {
        self.seeds.map_or(1, |(_, of)| of)
    }
}

impl Claim {
    /// Parses the check against `scene`'s optimizer names and checks the budget.
    pub fn parse(&self, scene: &Scene) -> Result<Check, ClaimError> {
        if self.steps == 0 || self.steps > MAX_CLAIM_STEPS {
            return Err(ClaimError {
                column: 1,
                message: format!("steps = {} must be 1 to {MAX_CLAIM_STEPS}", self.steps),
            });
        }
        let runs: Vec<String> = scene.optimizers.iter().map(|o| o.name.clone()).collect();
        Check::parse(&self.check, &runs)
    }
}

// ---------------------------------------------------------------------------------------------------
// Evaluation over intervals

/// A closed range of values `[lo, hi]` (either end may be infinite): what a figure of a run in progress
/// may still become by the claim's budget. A settled figure has `lo == hi`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    /// Exactly `v`.
    pub fn exact(v: f64) -> Self {
        Self { lo: v, hi: v }
    }

    /// Anything at all.
    pub const UNKNOWN: Self = Self {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };

    fn product(a: f64, b: f64) -> f64 {
        // 0 * inf: a figure that is exactly 0 times an unbounded one stays 0
        if a == 0.0 || b == 0.0 { 0.0 } else { a * b }
    }

    fn mul(self, o: Self) -> Self {
        let p = [
            Self::product(self.lo, o.lo),
            Self::product(self.lo, o.hi),
            Self::product(self.hi, o.lo),
            Self::product(self.hi, o.hi),
        ];
        Self {
            lo: p.iter().copied().fold(f64::INFINITY, f64::min),
            hi: p.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    fn div(self, o: Self) -> Self {
        if o.lo <= 0.0 && o.hi >= 0.0 {
            return Self::UNKNOWN;
        }
        self.mul(Self {
            lo: 1.0 / o.hi,
            hi: 1.0 / o.lo,
        })
    }

    fn add(self, o: Self) -> Self {
        // inf + -inf (an unknown plus an unknown) is unknown
        let lo = self.lo + o.lo;
        let hi = self.hi + o.hi;
        Self {
            lo: if lo.is_nan() { f64::NEG_INFINITY } else { lo },
            hi: if hi.is_nan() { f64::INFINITY } else { hi },
        }
    }

    fn abs(self) -> Self {
        if self.lo >= 0.0 {
            self
        } else if self.hi <= 0.0 {
            self.neg()
        } else {
            Self {
                lo: 0.0,
                hi: (-self.lo).max(self.hi),
            }
        }
    }

    fn neg(self) -> Self {
        Self {
            lo: -self.hi,
            hi: -self.lo,
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = |v: f64| {
            if v == f64::INFINITY {
                "never".to_owned()
            } else {
                format_value(v)
            }
        };
        if self.lo == self.hi {
            f.write_str(&num(self.lo))
        } else {
            write!(f, "{} .. {}", num(self.lo), num(self.hi))
        }
    }
}

/// A number as a claim's report prints it: whole numbers as integers, others with 4 significant digits.
fn format_value(v: f64) -> String {
    if v.is_nan() {
        "undefined".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
        format!("{v:.digits$}")
    }
}

/// Whether a claim holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimVerdict {
    /// It holds, whatever the runs still do before the budget.
    True,
    /// It does not hold, whatever the runs still do.
    False,
    /// Not decided yet: the runs in progress could still make it either.
    Open,
}

/// Where the figures of each run come from: exact scores, or the ranges of runs in progress.
pub trait FigureSource {
    /// How many runs.
    fn runs(&self) -> usize;
    /// The range of `figure` of run `run` at the claim's budget.
    fn figure(&self, run: usize, figure: Figure, args: &[f64]) -> Interval;
}

impl Expr {
    /// The expression's range over `source`.
    pub fn evaluate(&self, source: &dyn FigureSource) -> Interval {
        match self {
            Expr::Number(v) => Interval::exact(*v),
            Expr::Figure { figure, run, args } => match run {
                RunRef::One(i) => source.figure(*i, *figure, args),
                // only inside min/max, which expand it; alone it would be every run at once
                RunRef::Every => Interval::UNKNOWN,
            },
            Expr::Neg(e) => e.evaluate(source).neg(),
            Expr::Add(a, b) => a.evaluate(source).add(b.evaluate(source)),
            Expr::Sub(a, b) => a.evaluate(source).add(b.evaluate(source).neg()),
            Expr::Mul(a, b) => a.evaluate(source).mul(b.evaluate(source)),
            Expr::Div(a, b) => a.evaluate(source).div(b.evaluate(source)),
            Expr::Min(args) => aggregate(args, source, f64::min),
            Expr::Max(args) => aggregate(args, source, f64::max),
            Expr::Abs(e) => e.evaluate(source).abs(),
        }
    }
}

/// min or max of the arguments, a figure of '*' standing for that figure of every run: the ends of the
/// result are the min (or max) of the arguments' ends.
fn aggregate(args: &[Expr], source: &dyn FigureSource, pick: fn(f64, f64) -> f64) -> Interval {
    let mut values = Vec::new();
    for arg in args {
        match arg {
            Expr::Figure {
                figure,
                run: RunRef::Every,
                args,
            } => values.extend((0..source.runs()).map(|i| source.figure(i, *figure, args))),
            other => values.push(other.evaluate(source)),
        }
    }
    let mut it = values.into_iter();
    let Some(first) = it.next() else {
        return Interval::UNKNOWN;
    };
    it.fold(first, |acc, v| Interval {
        lo: pick(acc.lo, v.lo),
        hi: pick(acc.hi, v.hi),
    })
}

impl Check {
    /// Whether the comparison holds for the figures of `source` (decided only when every value in the
    /// ranges agrees). A comparison with an undefined value (NaN) is false.
    pub fn verdict(&self, source: &dyn FigureSource) -> ClaimVerdict {
        let a = self.lhs.evaluate(source);
        let b = self.rhs.evaluate(source);
        if [a.lo, a.hi, b.lo, b.hi].iter().any(|v| v.is_nan()) {
            return ClaimVerdict::False;
        }
        let decided = |always: bool, never: bool| match (always, never) {
            (true, _) => ClaimVerdict::True,
            (_, true) => ClaimVerdict::False,
            _ => ClaimVerdict::Open,
        };
        match self.cmp {
            Cmp::Lt => decided(a.hi < b.lo, a.lo >= b.hi),
            Cmp::Le => decided(a.hi <= b.lo, a.lo > b.hi),
            Cmp::Gt => decided(a.lo > b.hi, a.hi <= b.lo),
            Cmp::Ge => decided(a.lo >= b.hi, a.hi < b.lo),
            Cmp::Eq => decided(
                a.lo == a.hi && b.lo == b.hi && a.lo == b.lo,
                a.hi < b.lo || a.lo > b.hi,
            ),
        }
    }

    /// Both sides' ranges, for a report: `lhs` and `rhs` as text.
    pub fn sides(&self, source: &dyn FigureSource) -> (Interval, Interval) {
        (self.lhs.evaluate(source), self.rhs.evaluate(source))
    }
}

/// One run's figures as a claim sees them: its score now, and how far it may still go.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunFigures {
    /// The scoreboard's figures (at the budget, or now).
    pub score: Score,
    /// Whether `score` is final for the claim: the run reached the budget or stopped.
    pub settled: bool,
    /// Steps still to take before the budget (0 when settled).
    pub remaining: u64,
}

impl RunFigures {
    /// A run's figures at `budget` from its score now and whether it is still running.
    pub fn at(score: Score, running: bool, budget: u64) -> Self {
        let settled = !running || score.steps >= budget;
        Self {
            score,
            settled,
            remaining: if settled { 0 } else { budget - score.steps },
        }
    }

    /// A run's figures at `budget` as `tracker` follows it: the score it kept at the budget if the run
    /// got there ([`ScoreTracker::keep_at`]), else its score now (final when the run has stopped).
    pub fn of_tracker(tracker: &ScoreTracker, running: bool, budget: u64) -> Self {
        match tracker.at(budget) {
            Some(kept) => Self::at(*kept, false, budget),
            None => Self::at(*tracker.score(), running, budget),
        }
    }

    /// The range of `figure` by the budget.
    pub fn figure(&self, figure: Figure, args: &[f64]) -> Interval {
        let s = &self.score;
        let never = |v: Option<u64>| v.map_or(f64::INFINITY, |k| k as f64);
        if self.settled {
            return Interval::exact(match figure {
                Figure::Steps => s.steps as f64,
                Figure::ToTarget => never(s.steps_to_target),
                Figure::Loss => s.final_loss,
                Figure::Path => s.path_length,
                Figure::SaddleSteps => s.saddle_steps as f64,
                Figure::MaxStep => s.max_step,
                Figure::DivergedAt => never(s.diverged_at),
                Figure::ConvergedAt => never(s.converged_at),
                Figure::X => s.final_pos[0],
                Figure::Y => s.final_pos[1],
                Figure::Accuracy => s.accuracy.unwrap_or(f64::NAN),
                Figure::Distance => {
                    let (x, y) = (
                        args.first().copied().unwrap_or(0.0),
                        args.get(1).copied().unwrap_or(0.0),
                    );
                    (s.final_pos[0] - x).hypot(s.final_pos[1] - y)
                }
            });
        }
        // still running: what only grows is at least what it is; a first step not yet seen is later
        let next = (s.steps + 1) as f64;
        let first_or_later = |v: Option<u64>| match v {
            Some(k) => Interval::exact(k as f64),
            None => Interval {
                lo: next,
                hi: f64::INFINITY,
            },
        };
        match figure {
            Figure::Steps => Interval {
                lo: s.steps as f64,
                hi: (s.steps + self.remaining) as f64,
            },
            Figure::ToTarget => first_or_later(s.steps_to_target),
            Figure::DivergedAt => first_or_later(s.diverged_at),
            Figure::ConvergedAt => first_or_later(s.converged_at),
            Figure::SaddleSteps => Interval {
                lo: s.saddle_steps as f64,
                hi: (s.saddle_steps + self.remaining) as f64,
            },
            Figure::Path => Interval {
                lo: s.path_length,
                hi: f64::INFINITY,
            },
            Figure::MaxStep => Interval {
                lo: s.max_step,
                hi: f64::INFINITY,
            },
            Figure::Distance => Interval {
                lo: 0.0,
                hi: f64::INFINITY,
            },
            Figure::Loss | Figure::X | Figure::Y | Figure::Accuracy => Interval::UNKNOWN,
        }
    }
}

impl FigureSource for Vec<RunFigures> {
    fn runs(&self) -> usize {
        self.len()
    }

    fn figure(&self, run: usize, figure: Figure, args: &[f64]) -> Interval {
        self.get(run)
            .map_or(Interval::UNKNOWN, |r| r.figure(figure, args))
    }
}

// ---------------------------------------------------------------------------------------------------
// Checking a whole scene headless

/// A claim checked headless: whether it held, and the figures that decided it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimReport {
    /// The claim as written.
    pub claim: Claim,
    /// Whether it held (for `in A of B seeds`: in at least A of them).
    pub holds: bool,
    /// For `in A of B seeds`: in how many it held, of how many.
    pub seeds_held: Option<(u32, u32)>,
    /// Both sides' values on seed offset 0 (the runs the lesson shows).
    pub lhs: Interval,
    pub rhs: Interval,
}

impl fmt::Display for ClaimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}  [{}; at {} steps: {} vs {}",
            if self.holds { "true: " } else { "FALSE:" },
            self.claim.say,
            self.claim.check,
            self.claim.steps,
            self.lhs,
            self.rhs
        )?;
        if let Some((held, of)) = self.seeds_held {
            write!(f, "; held in {held} of {of} seeds")?;
        }
        f.write_str("]")
    }
}

/// Every claim of `scene` checked headless with the scoreboard's `settings`: the scene's runs (and, for
/// statistical claims, the same runs with their seeds shifted by 1, 2, ...) taken to each claim's
/// budget. A claim that does not parse is an error naming it.
pub fn check_scene(scene: &Scene, settings: &ScoreSettings) -> Result<Vec<ClaimReport>, CoreError> {
    let checks = parse_claims(scene).map_err(CoreError::InvalidClaim)?;
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let landscape = Arc::new(Landscape::new(scene.landscape.clone())?);
    let budgets = budgets(&scene.claims);
    let seeds = checks.iter().map(Check::seed_count).max().unwrap_or(1);
    // figures[seed][budget index][run]
    let mut figures: Vec<Vec<Vec<RunFigures>>> = Vec::with_capacity(seeds as usize);
    for offset in 0..seeds {
        let mut at_budgets = vec![Vec::with_capacity(scene.optimizers.len()); budgets.len()];
        for spec in &scene.optimizers {
            let mut spec = spec.clone();
            spec.seed = spec.seed.wrapping_add(u64::from(offset));
            let mut run = SceneRun::new(&landscape, &spec)?;
            let mut tracker = ScoreTracker::for_run(&run, *settings);
            for (b, &budget) in budgets.iter().enumerate() {
                while run.steps() < budget && tracker.step_run(&mut run).is_some() {}
                let running = matches!(run.status(), RunStatus::Running);
                at_budgets[b].push(RunFigures::at(*tracker.score(), running, budget));
            }
        }
        figures.push(at_budgets);
    }
    let mut reports = Vec::with_capacity(checks.len());
    for (claim, check) in scene.claims.iter().zip(&checks) {
        let b = budgets.binary_search(&claim.steps).unwrap_or(0);
        let on = |offset: u32| &figures[offset as usize][b];
        let (lhs, rhs) = check.sides(on(0));
        let (holds, seeds_held) = match check.seeds {
            None => (check.verdict(on(0)) == ClaimVerdict::True, None),
            Some((at_least, of)) => {
                let held = (0..of)
                    .filter(|&k| check.verdict(on(k)) == ClaimVerdict::True)
                    .count() as u32;
                (held >= at_least, Some((held, of)))
            }
        };
        reports.push(ClaimReport {
            claim: claim.clone(),
            holds,
            seeds_held,
            lhs,
            rhs,
        });
    }
    Ok(reports)
}

/// A claim as the app shows it while the runs play: whether it holds yet, on the runs on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveClaim {
    /// What it says.
    pub say: String,
    /// The check as written.
    pub check: String,
    /// Decided true or false, or still open; or why it cannot be checked on these runs (it names an
    /// optimizer that was removed or renamed).
    pub verdict: Result<ClaimVerdict, ClaimError>,
    /// For `in A of B seeds`: (A, B). On screen it is checked on the one run shown.
    pub seeds: Option<(u32, u32)>,
}

/// Every claim checked on runs in progress: `runs` are the optimizers on screen by name, each with its
/// tracker (which should keep its score at every claim's budget, [`ScoreTracker::keep_at`]) and
/// whether it is still running.
pub fn live_claims(claims: &[Claim], runs: &[(String, &ScoreTracker, bool)]) -> Vec<LiveClaim> {
    let names: Vec<String> = runs.iter().map(|(name, _, _)| name.clone()).collect();
    claims
        .iter()
        .map(|claim| {
            let parsed = Check::parse(&claim.check, &names);
            let seeds = parsed.as_ref().ok().and_then(|c| c.seeds);
            let verdict = parsed.map(|check| {
                let figures: Vec<RunFigures> = runs
                    .iter()
                    .map(|(_, tracker, running)| {
                        RunFigures::of_tracker(tracker, *running, claim.steps)
                    })
                    .collect();
                check.verdict(&figures)
            });
            LiveClaim {
                say: claim.say.clone(),
                check: claim.check.clone(),
                verdict,
                seeds,
            }
        })
        .collect()
}

/// The budgets of `claims`: the steps at which trackers should keep their score.
pub fn budgets(claims: &[Claim]) -> Vec<u64> {
    let mut steps: Vec<u64> = claims.iter().map(|c| c.steps).collect();
    steps.sort_unstable();
    steps.dedup();
    steps
}

/// Parses every claim of `scene`; the error names the claim (its index and text) and the column.
pub fn parse_claims(scene: &Scene) -> Result<Vec<Check>, String> {
    scene
        .claims
        .iter()
        .enumerate()
        .map(|(i, claim)| {
            claim
                .parse(scene)
                .map_err(|e| format!("claims[{i}] \"{}\": {e}", claim.check))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::simulation::Runner;

    fn names() -> Vec<String> {
        vec!["SGD".into(), "SGD + noise".into(), "Adam".into()]
    }

    #[test]
    fn parses_the_forms_of_the_language() {
        let c = Check::parse("saddle_steps('SGD') >= 150", &names()).unwrap();
        assert_eq!(c.cmp, Cmp::Ge);
        assert_eq!(
            c.lhs,
            Expr::Figure {
                figure: Figure::SaddleSteps,
                run: RunRef::One(0),
                args: vec![]
            }
        );
        assert_eq!(c.rhs, Expr::Number(150.0));
        let c = Check::parse(
            "in 9 of 10 seeds: to_target('SGD + noise') < to_target('SGD')",
            &names(),
        )
        .unwrap();
        assert_eq!(c.seeds, Some((9, 10)));
        let c = Check::parse("min(distance(*, 0, -1.5)) <= 1e-1", &names()).unwrap();
        let Expr::Min(args) = &c.lhs else {
            panic!("{c:?}")
        };
        assert_eq!(
            args[0],
            Expr::Figure {
                figure: Figure::Distance,
                run: RunRef::Every,
                args: vec![0.0, -1.5]
            }
        );
        let c = Check::parse("max_step('Adam') >= 3 * (max_step('SGD') + 0.5)", &names()).unwrap();
        assert!(matches!(c.rhs, Expr::Mul(..)));
        let c = Check::parse("to_target('Adam') == never", &names()).unwrap();
        assert_eq!(c.rhs, Expr::Number(f64::INFINITY));
    }

    #[test]
    fn refuses_mistakes_with_their_column() {
        let err = |text: &str| Check::parse(text, &names()).unwrap_err();
        let e = err("saddle_steps('SGDD') >= 1");
        assert_eq!(e.column, 14);
        assert!(e.message.contains("no optimizer is named 'SGDD'"), "{e}");
        let e = err("sadle_steps('SGD') >= 1");
        assert_eq!(e.column, 1);
        assert!(e.message.contains("unknown figure 'sadle_steps'"), "{e}");
        let e = err("saddle_steps('SGD') 1");
        assert_eq!(e.column, 21);
        assert!(e.message.contains("expected a comparison"), "{e}");
        let e = err("path(*) > 1");
        assert_eq!(e.column, 6);
        assert!(e.message.contains("only works directly inside min"), "{e}");
        let e = err("distance('SGD', 1) < 1");
        assert!(e.message.contains("2 numbers"), "{e}");
        let e = err("in 11 of 10 seeds: path('SGD') > 1");
        assert!(e.message.contains("cannot hold"), "{e}");
        let e = err("path('SGD) > 1");
        assert_eq!(e.column, 6);
        let e = err("path('SGD') = 1");
        assert_eq!(e.column, 13);
        let e = err("path('SGD') > 1 2");
        assert_eq!(e.column, 17);
    }

    fn score(steps: u64, to_target: Option<u64>, saddle: u64) -> Score {
        Score {
            steps,
            evals: steps + 1,
            steps_to_target: to_target,
            final_loss: 1.0,
            final_pos: [0.0, 0.0],
            path_length: 2.0,
            saddle_steps: saddle,
            max_step: 0.1,
            accuracy: None,
            diverged_at: None,
            converged_at: None,
        }
    }

    #[test]
    fn a_run_in_progress_decides_a_claim_only_when_nothing_can_change_it() {
        let runs = names();
        let ge = Check::parse("saddle_steps('SGD') >= 150", &runs).unwrap();
        let le = Check::parse("saddle_steps('SGD') <= 150", &runs).unwrap();
        let before = Check::parse("to_target('Adam') < to_target('SGD')", &runs).unwrap();
        let figures = |sgd: RunFigures, adam: RunFigures| {
            vec![sgd, RunFigures::at(score(0, None, 0), true, 1000), adam]
        };
        // 100 saddle steps after 200 of 1000 steps: could still reach 150, or not
        let f = figures(
            RunFigures::at(score(200, None, 100), true, 1000),
            RunFigures::at(score(200, None, 0), true, 1000),
        );
        assert_eq!(ge.verdict(&f), ClaimVerdict::Open);
        assert_eq!(le.verdict(&f), ClaimVerdict::Open);
        assert_eq!(before.verdict(&f), ClaimVerdict::Open);
        // 150 reached: decided at once, though the run goes on
        let f = figures(
            RunFigures::at(score(300, None, 151), true, 1000),
            RunFigures::at(score(300, Some(250), 0), true, 1000),
        );
        assert_eq!(ge.verdict(&f), ClaimVerdict::True);
        assert_eq!(le.verdict(&f), ClaimVerdict::False);
        // Adam reached the target at 250 and SGD has not by 300: SGD can only reach it later
        assert_eq!(before.verdict(&f), ClaimVerdict::True);
        // a run that stopped is final, whatever the budget
        let f = figures(
            RunFigures::at(score(400, Some(390), 10), false, 1000),
            RunFigures::at(score(400, None, 0), true, 1000),
        );
        assert_eq!(ge.verdict(&f), ClaimVerdict::False);
        // SGD reached the target at 390 and stopped; Adam has not by 400, so it cannot be first
        assert_eq!(before.verdict(&f), ClaimVerdict::False);
        // at the budget: never is +infinity, and never < never is false
        let f = figures(
            RunFigures::at(score(1000, None, 10), true, 1000),
            RunFigures::at(score(1000, None, 0), true, 1000),
        );
        assert_eq!(before.verdict(&f), ClaimVerdict::False);
    }

    #[test]
    fn min_and_max_over_every_run() {
        let runs = names();
        let f = vec![
            RunFigures::at(score(10, Some(5), 0), false, 10),
            RunFigures::at(score(10, None, 3), false, 10),
            RunFigures::at(score(10, Some(8), 1), false, 10),
        ];
        let check = |t: &str| Check::parse(t, &runs).unwrap().verdict(&f);
        assert_eq!(check("min(to_target(*)) == 5"), ClaimVerdict::True);
        assert_eq!(check("max(to_target(*)) == never"), ClaimVerdict::True);
        assert_eq!(check("max(saddle_steps(*), 2) == 3"), ClaimVerdict::True);
        assert_eq!(check("min(saddle_steps(*)) > 0"), ClaimVerdict::False);
        assert_eq!(check("-path('SGD') / 2 == -1"), ClaimVerdict::True);
        assert_eq!(check("abs(5 - to_target('SGD')) <= 0"), ClaimVerdict::True);
        assert_eq!(check("abs(1 - path('SGD')) == 1"), ClaimVerdict::True);
    }

    #[test]
    fn live_claims_open_then_agree_with_the_headless_check() {
        let scene = crate::core::lessons::preset("saddle").unwrap();
        let landscape = Landscape::new(scene.landscape.clone()).unwrap();
        let settings = ScoreSettings::default();
        let kept = budgets(&scene.claims);
        let mut runs: Vec<(String, Runner<&Landscape>, ScoreTracker)> = scene
            .optimizers
            .iter()
            .map(|spec| {
                let runner = Runner::new(&landscape, spec.run_config()).unwrap();
                let mut tracker = ScoreTracker::for_runner(&runner, settings);
                tracker.keep_at(&kept);
                (spec.name.clone(), runner, tracker)
            })
            .collect();
        let live = |runs: &[(String, Runner<&Landscape>, ScoreTracker)]| {
            let view: Vec<(String, &ScoreTracker, bool)> = runs
                .iter()
                .map(|(n, r, t)| (n.clone(), t, r.status().is_running()))
                .collect();
            live_claims(&scene.claims, &view)
        };
        let step_to = |runs: &mut Vec<(String, Runner<&Landscape>, ScoreTracker)>, k: u64| {
            for (_, runner, tracker) in runs.iter_mut() {
                while runner.steps() < k && tracker.step(runner).is_some() {}
            }
        };
        // at the start nothing about saddle steps is decided
        let first = &live(&runs)[0];
        assert_eq!(first.check, "saddle_steps('SGD') >= 200");
        assert_eq!(first.verdict, Ok(ClaimVerdict::Open));
        // plain GD has lingered 200 steps long before the budget of 1000: ticked then
        step_to(&mut runs, 600);
        assert_eq!(live(&runs)[0].verdict, Ok(ClaimVerdict::True));
        // past every budget (the runs go on, the kept scores do not): the headless check's verdicts
        step_to(&mut runs, 1500);
        let reports = check_scene(&scene, &settings).unwrap();
        for (claim, report) in live(&runs).iter().zip(&reports) {
            let verdict = claim.verdict.clone().unwrap();
            assert_ne!(verdict, ClaimVerdict::Open, "{}", claim.check);
            if claim.seeds.is_none() {
                assert_eq!(
                    verdict == ClaimVerdict::True,
                    report.holds,
                    "{}",
                    claim.check
                );
            }
        }
        // a claim about a run that is gone cannot be checked, and says why
        let renamed: Vec<(String, &ScoreTracker, bool)> = runs
            .iter()
            .map(|(n, r, t)| (format!("{n}!"), t, r.status().is_running()))
            .collect();
        let gone = live_claims(&scene.claims, &renamed);
        assert!(
            gone[0]
                .verdict
                .as_ref()
                .unwrap_err()
                .message
                .contains("no optimizer is named 'SGD'")
        );
    }
}
