//! Formulas typed by a user, `f(x, y)`, compiled once and evaluated with exact gradients and Hessians.
//!
//! ```
//! use losscape::core::formula::Formula;
//! let f = Formula::parse("(x^2+y-11)^2 + (x+y^2-7)^2").unwrap();
//! assert_eq!(f.value_grad(3.0, 2.0), (0.0, [0.0, 0.0]));
//! let (_, _, h) = f.value_grad_hessian(0.0, 0.0);
//! assert_eq!(h, [[-42.0, 0.0], [0.0, -26.0]]);
//! let err = Formula::parse("x + sinn(y)").unwrap_err();
//! assert_eq!(err.to_string(), "unknown function 'sinn' at column 5 (did you mean 'sin'?)");
//! ```
//!
//! **Language.** Variables `x`, `y`; numbers (`2`, `.5`, `3.`, `1e-3`); `+ - * /`; `^` and `**`
//! (right-associative, binding tighter than unary minus: `-x^2 = -(x^2)`, `2^3^2 = 2^9`); unary `-` and
//! `+`; parentheses; the functions `sin cos tan asin acos atan sinh cosh tanh exp log ln sqrt abs` (one
//! argument; `log` = `ln` = the natural logarithm) and `min max pow` (two); the constants `pi` and `e`.
//!
//! **How.** A Pratt parser (`parser`, `lexer`) builds a tree; the tree is constant-folded and compiled
//! to a flat register tape (`tape`), which is interpreted with a forward-mode number type (`scalar`):
//! `f64` (value), `D1` (value + gradient, 3 f64) or `D2` (value + gradient + Hessian, 6 f64). Every
//! derivative is the exact chain rule of its operation, never a finite difference. `abs`, `min` and
//! `max` take the derivative of the active side (`abs'(0) = 0`).
//!
//! **Why our own.** The crates measured before writing it (summarised in docs/guide.md, "Your own
//! landscape: formulas" section): exmex gets `-x^2`, `^`'s associativity, `**`, `1e-3`, `pi`, `pow`
//! and the derivatives of `min`/`max`/`abs` wrong, gives no error columns and is 4-13x slower; num-dual
//! has no parser and its vector types need nalgebra; fasteval and meval have no derivatives; evalexpr is
//! AGPL. This module has no dependencies, met the speed targets with margin in the research prototype
//! on a quiet machine (a 512^2 grid with gradients in 3-15 ms, 8 x 1000 path evaluations in under
//! 0.5 ms) and reports every error with its column.
//!
//! **Errors.** [`FormulaError`] carries the 1-based character column and the length of the problem
//! (`unknown function 'sinn' at column 5`); [`FormulaError::caret`] draws it under the formula. Parsing
//! never panics and nests at most [`MAX_DEPTH`] levels, so hostile input cannot exhaust the stack.

mod error;
mod lexer;
mod parser;
mod scalar;
mod tape;

pub use error::{FormulaError, FormulaErrorKind};

use scalar::{D1, D2, Scalar};
use tape::{Codegen, Instr};

/// The most characters a formula may have.
pub const MAX_FORMULA_CHARS: usize = 1000;

/// The deepest nesting of parentheses, signs and powers a formula may have.
pub const MAX_DEPTH: usize = 200;

/// Every function name of the language, for help texts.
pub const FUNCTIONS: [&str; 17] = parser::FUNCTIONS;

/// A parsed and compiled formula: immutable, `Send + Sync`, cheap to evaluate (no allocation per point
/// for tapes of up to 15 registers, which covers every formula a person types).
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    source: String,
    code: Vec<Instr>,
    nregs: usize,
}

impl Formula {
    /// Parses, constant-folds and compiles `src`; errors carry the column of the problem.
    pub fn parse(src: &str) -> Result<Self, FormulaError> {
        let chars = src.chars().count();
        if chars > MAX_FORMULA_CHARS {
            return Err(FormulaError::new(
                FormulaErrorKind::TooLong { chars },
                MAX_FORMULA_CHARS + 1,
                1,
            ));
        }
        if src.trim().is_empty() {
            return Err(FormulaError::new(FormulaErrorKind::Empty, 1, 1));
        }
        let expr = tape::fold(parser::parse(src)?);
        let mut codegen = Codegen::default();
        codegen.emit_expr(&expr, 0);
        Ok(Self {
            source: src.to_owned(),
            code: codegen.code,
            nregs: codegen.nregs,
        })
    }

    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Instructions on the tape, after constant folding.
    pub fn tape_len(&self) -> usize {
        self.code.len()
    }

    /// Registers the tape uses.
    pub fn registers(&self) -> usize {
        self.nregs
    }

    /// `f(x, y)` with any number type.
    #[inline]
    fn eval<T: Scalar>(&self, x: f64, y: f64) -> T {
        // The single-point interpreter needs nregs + 1 slots; small files are cheaper to initialise.
        let n = self.nregs + 1;
        if n <= 4 {
            let mut r = [T::constant(0.0); 4];
            tape::run(&self.code, &mut r, x, y);
            r[0]
        } else if n <= 8 {
            let mut r = [T::constant(0.0); 8];
            tape::run(&self.code, &mut r, x, y);
            r[0]
        } else if n <= tape::INLINE {
            let mut r = [T::constant(0.0); tape::INLINE];
            tape::run(&self.code, &mut r, x, y);
            r[0]
        } else {
            let mut r = vec![T::constant(0.0); n];
            tape::run(&self.code, &mut r[..], x, y);
            r[0]
        }
    }

    /// `out[i] = f(xs[i], ys[i])` for as many points as the shortest slice holds: one instruction
    /// dispatch per block of 16 points, for grids.
    fn eval_batch<T: Scalar>(&self, xs: &[f64], ys: &[f64], out: &mut [T]) {
        const L: usize = tape::LANES;
        let mut regs = vec![[T::constant(0.0); L]; self.nregs.max(1)];
        let (mut bx, mut by) = ([0.0; L], [0.0; L]);
        for ((cx, cy), co) in xs.chunks(L).zip(ys.chunks(L)).zip(out.chunks_mut(L)) {
            let n = cx.len().min(cy.len()).min(co.len());
            bx[..n].copy_from_slice(&cx[..n]);
            by[..n].copy_from_slice(&cy[..n]);
            tape::run_batch(&self.code, &mut regs, &bx, &by);
            co[..n].copy_from_slice(&regs[0][..n]);
        }
    }

    /// `f(x, y)`; NaN where the formula is undefined (`ln` of a negative number).
    #[inline]
    pub fn value(&self, x: f64, y: f64) -> f64 {
        self.eval::<f64>(x, y)
    }

    /// `(f, [df/dx, df/dy])`, exact.
    #[inline]
    pub fn value_grad(&self, x: f64, y: f64) -> (f64, [f64; 2]) {
        let d = self.eval::<D1>(x, y);
        (d.v, [d.dx, d.dy])
    }

    /// `(f, gradient, Hessian [[f_xx, f_xy], [f_xy, f_yy]])`, exact. Value and gradient equal
    /// [`Self::value_grad`]'s to rounding (the Hessian's number type orders some products differently).
    #[inline]
    pub fn value_grad_hessian(&self, x: f64, y: f64) -> (f64, [f64; 2], [[f64; 2]; 2]) {
        let d = self.eval::<D2>(x, y);
        (d.v, [d.dx, d.dy], [[d.dxx, d.dxy], [d.dxy, d.dyy]])
    }

    /// [`Self::value_grad`] at many points, `out[i]` for `(xs[i], ys[i])`, bit-identical to the
    /// single-point results and about twice as fast; as many points as the shortest slice holds.
    pub fn value_grad_batch(&self, xs: &[f64], ys: &[f64], out: &mut [(f64, [f64; 2])]) {
        let n = xs.len().min(ys.len()).min(out.len());
        let mut d1 = vec![D1::default(); n];
        self.eval_batch(&xs[..n], &ys[..n], &mut d1);
        for (o, d) in out.iter_mut().zip(d1) {
            *o = (d.v, [d.dx, d.dy]);
        }
    }
}

impl std::str::FromStr for Formula {
    type Err = FormulaError;

    fn from_str(s: &str) -> Result<Self, FormulaError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_matches_pointwise() {
        for src in [
            "(x^2+y-11)^2+(x+y^2-7)^2",
            "0.5*x^2+2*y^2+0.3*sin(3*x)*cos(2*y)",
            "x-(y-(x-(y-(x-(y-(x-(y-(x-(y-(x-(y-(x-(y-(x-(y-(x-(y-x)))))))))))))))))",
            "2",
        ] {
            let f = Formula::parse(src).unwrap();
            let n = 37; // not a multiple of the block size
            let xs: Vec<f64> = (0..n).map(|i| -2.0 + 0.1 * i as f64).collect();
            let ys: Vec<f64> = (0..n).map(|i| 1.5 - 0.07 * i as f64).collect();
            let mut d1 = vec![(0.0, [0.0; 2]); n];
            f.value_grad_batch(&xs, &ys, &mut d1);
            let mut d2 = vec![D2::default(); n];
            f.eval_batch(&xs, &ys, &mut d2);
            for i in 0..n {
                assert_eq!(d1[i], f.value_grad(xs[i], ys[i]), "{src}");
                assert_eq!(d2[i], f.eval::<D2>(xs[i], ys[i]), "{src}");
            }
        }
    }

    #[test]
    fn constants_fold_and_registers_stay_few() {
        assert_eq!(Formula::parse("x + 2*pi*sin(1)").unwrap().tape_len(), 2);
        let f = Formula::parse("(x^2+y-11)^2+(x+y^2-7)^2").unwrap();
        assert!(f.registers() <= 3, "{}", f.registers());
        // Right-nested differences need a register per level: the heap file.
        let mut s = String::from("x");
        for _ in 0..40 {
            s = format!("x-(y-({s}))");
        }
        let f = Formula::parse(&s).unwrap();
        assert!(f.registers() > tape::INLINE);
        assert_eq!(f.value(2.0, 1.0), 42.0);
        assert_eq!(f.value_grad(2.0, 1.0).1, [41.0, -40.0]);
    }
}
