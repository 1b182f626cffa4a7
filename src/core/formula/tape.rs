//! Compiles an [`Expr`] into a flat register tape and evaluates it.
//!
//! Registers are allocated like a stack machine with explicit indices:
//! the result of a node compiled at depth `d` lands in `r[d]`, a binary
//! node evaluates its left operand into `r[d]` and its right operand into
//! `r[d+1]`. Constant subtrees are folded, constant operands are folded
//! into the instruction (`AddC`, `MulC`, ...), and integer powers become
//! `Square`/`PowI`. Commutative operands are reordered (Sethi–Ullman) to
//! keep the register count small.

use super::parser::{BinOp, Expr, Unary};
use super::scalar::Scalar;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Instr {
    X(u32),
    Y(u32),
    Const(u32, f64),
    // r[d] = r[d] op r[d+1]
    Add(u32),
    Sub(u32),
    Mul(u32),
    Div(u32),
    Pow(u32),
    Min(u32),
    Max(u32),
    // r[d] = r[d] op c   /   c op r[d]
    AddC(u32, f64),
    MulC(u32, f64),
    DivC(u32, f64),
    CSub(u32, f64),
    CDiv(u32, f64),
    // r[d] = f(r[d])
    Neg(u32),
    Square(u32),
    PowI(u32, i32),
    PowF(u32, f64),
    Unary(u32, Unary),
}

/// Replaces every variable-free subtree by its value.
pub(super) fn fold(e: Expr) -> Expr {
    match e {
        Expr::Neg(a) => match fold(*a) {
            Expr::Num(v) => Expr::Num(-v),
            a => Expr::Neg(Box::new(a)),
        },
        Expr::Unary(f, a) => match fold(*a) {
            Expr::Num(v) => Expr::Num(f.eval(v)),
            a => Expr::Unary(f, Box::new(a)),
        },
        Expr::Bin(op, a, b) => match (fold(*a), fold(*b)) {
            (Expr::Num(a), Expr::Num(b)) => Expr::Num(op.eval(a, b)),
            (a, b) => Expr::Bin(op, Box::new(a), Box::new(b)),
        },
        leaf => leaf,
    }
}

/// Registers needed to evaluate `e` with [`Codegen::emit_expr`].
fn need(e: &Expr) -> usize {
    match e {
        Expr::Num(_) | Expr::X | Expr::Y => 1,
        Expr::Neg(a) | Expr::Unary(_, a) => need(a),
        Expr::Bin(op, a, b) => match (op, &**a, &**b) {
            (_, a, Expr::Num(_)) => need(a),
            (BinOp::Add | BinOp::Mul | BinOp::Sub | BinOp::Div, Expr::Num(_), b) => need(b),
            (BinOp::Add | BinOp::Mul, a, b) => {
                let (na, nb) = (need(a), need(b));
                na.max(nb + 1).min(nb.max(na + 1))
            }
            (_, a, b) => need(a).max(need(b) + 1),
        },
    }
}

fn as_int(c: f64) -> Option<i32> {
    (c.fract() == 0.0 && c.abs() <= 1024.0).then_some(c as i32)
}

#[derive(Default)]
pub(super) struct Codegen {
    pub code: Vec<Instr>,
    pub nregs: usize,
}

impl Codegen {
    fn emit(&mut self, i: Instr, d: u32) {
        self.nregs = self.nregs.max(d as usize + 1);
        self.code.push(i);
    }

    pub fn emit_expr(&mut self, e: &Expr, d: u32) {
        match e {
            Expr::Num(c) => self.emit(Instr::Const(d, *c), d),
            Expr::X => self.emit(Instr::X(d), d),
            Expr::Y => self.emit(Instr::Y(d), d),
            Expr::Neg(a) => {
                self.emit_expr(a, d);
                self.emit(Instr::Neg(d), d);
            }
            Expr::Unary(f, a) => {
                self.emit_expr(a, d);
                self.emit(Instr::Unary(d, *f), d);
            }
            Expr::Bin(op, a, b) => self.emit_bin(*op, a, b, d),
        }
    }

    fn emit_bin(&mut self, op: BinOp, a: &Expr, b: &Expr, d: u32) {
        use BinOp::*;
        // Constant right operand.
        if let Expr::Num(c) = *b {
            let ins = match op {
                Add => Some(Instr::AddC(d, c)),
                Sub => Some(Instr::AddC(d, -c)),
                Mul => Some(Instr::MulC(d, c)),
                Div => Some(Instr::DivC(d, c)),
                Pow => match as_int(c) {
                    Some(0) => {
                        // x^0 == 1 for every x (also NaN), as f64::powf.
                        self.emit(Instr::Const(d, 1.0), d);
                        return;
                    }
                    Some(1) => None,
                    Some(2) => Some(Instr::Square(d)),
                    Some(n) => Some(Instr::PowI(d, n)),
                    None => Some(Instr::PowF(d, c)),
                },
                Min | Max => None,
            };
            if !matches!(op, Min | Max) {
                self.emit_expr(a, d);
                if let Some(i) = ins {
                    self.emit(i, d);
                }
                return;
            }
        }
        // Constant left operand.
        if let Expr::Num(c) = *a {
            let ins = match op {
                Add => Some(Instr::AddC(d, c)),
                Sub => Some(Instr::CSub(d, c)),
                Mul => Some(Instr::MulC(d, c)),
                Div => Some(Instr::CDiv(d, c)),
                _ => None,
            };
            if let Some(i) = ins {
                self.emit_expr(b, d);
                self.emit(i, d);
                return;
            }
        }
        // General case; evaluate the hungrier operand first if allowed.
        let (a, b) = if matches!(op, Add | Mul) && need(b) > need(a) {
            (b, a)
        } else {
            (a, b)
        };
        self.emit_expr(a, d);
        self.emit_expr(b, d + 1);
        let i = match op {
            Add => Instr::Add(d),
            Sub => Instr::Sub(d),
            Mul => Instr::Mul(d),
            Div => Instr::Div(d),
            Pow => Instr::Pow(d),
            Min => Instr::Min(d),
            Max => Instr::Max(d),
        };
        self.emit(i, d);
    }
}

/// Register file: a fixed array (indices masked, so no bounds checks and
/// no `unsafe`) or a slice for unusually deep formulas.
pub(super) trait Regs<T> {
    fn get(&self, d: usize) -> T;
    fn set(&mut self, d: usize, v: T);
}

/// Largest inline register file; files are powers of two so that
/// `d & (N - 1)` is always in bounds.
pub(super) const INLINE: usize = 16;

impl<T: Copy, const N: usize> Regs<T> for [T; N] {
    #[inline(always)]
    fn get(&self, d: usize) -> T {
        self[d & (N - 1)]
    }
    #[inline(always)]
    fn set(&mut self, d: usize, v: T) {
        self[d & (N - 1)] = v;
    }
}

impl<T: Copy> Regs<T> for [T] {
    #[inline(always)]
    fn get(&self, d: usize) -> T {
        self[d]
    }
    #[inline(always)]
    fn set(&mut self, d: usize, v: T) {
        self[d] = v;
    }
}

/// Runs the tape at one point.
///
/// The top of the register stack is cached in a local (`acc`), so unary
/// and constant-operand instructions never touch memory; a load spills the
/// previous top, a binary instruction reads its left operand back. Slot
/// `d + 1` of `r` holds the value of register `d` while it is not on top
/// (slot 0 is a scratch slot), so `r` needs `nregs + 1` entries. The result
/// is left in slot 0.
#[inline(always)]
pub(super) fn run<T: Scalar, R: Regs<T> + ?Sized>(code: &[Instr], r: &mut R, x: f64, y: f64) {
    let mut acc = T::constant(0.0);
    for ins in code {
        acc = match *ins {
            Instr::X(d) => {
                r.set(d as usize, acc);
                T::var_x(x)
            }
            Instr::Y(d) => {
                r.set(d as usize, acc);
                T::var_y(y)
            }
            Instr::Const(d, c) => {
                r.set(d as usize, acc);
                T::constant(c)
            }
            Instr::Add(d) => r.get(d as usize + 1).add(acc),
            Instr::Sub(d) => r.get(d as usize + 1).sub(acc),
            Instr::Mul(d) => r.get(d as usize + 1).mul(acc),
            Instr::Div(d) => r.get(d as usize + 1).div(acc),
            Instr::Pow(d) => r.get(d as usize + 1).pow(acc),
            Instr::Min(d) => r.get(d as usize + 1).min(acc),
            Instr::Max(d) => r.get(d as usize + 1).max(acc),
            Instr::AddC(_, c) => acc.add_c(c),
            Instr::MulC(_, c) => acc.mul_c(c),
            Instr::DivC(_, c) => acc.div_c(c),
            Instr::CSub(_, c) => acc.c_sub(c),
            Instr::CDiv(_, c) => acc.c_div(c),
            Instr::Neg(_) => acc.neg(),
            Instr::Square(_) => acc.square(),
            Instr::PowI(_, n) => acc.powi(n),
            Instr::PowF(_, c) => acc.powf(c),
            Instr::Unary(_, f) => acc.unary(f),
        };
    }
    // Returned through the register file rather than directly: returning
    // `acc` lets the compiler place it in the caller's return slot (memory)
    // for the whole loop when `run` is not inlined, which costs 3-4x for
    // D2 (store-forwarding stalls).
    r.set(0, acc);
}

/// Points evaluated together by [`run_batch`].
pub(super) const LANES: usize = 16;

/// Runs the tape for `LANES` points at once: one instruction dispatch per
/// `LANES` points, and the per-lane loops vectorize for cheap operations.
/// `regs.len()` must be at least the tape's register count.
pub(super) fn run_batch<T: Scalar>(
    code: &[Instr],
    regs: &mut [[T; LANES]],
    xs: &[f64; LANES],
    ys: &[f64; LANES],
) {
    #[inline(always)]
    fn bin<T: Scalar>(r: &mut [[T; LANES]], d: u32, f: impl Fn(T, T) -> T) {
        let d = d as usize;
        let (lo, hi) = r.split_at_mut(d + 1);
        let (a, b) = (&mut lo[d], &hi[0]);
        for l in 0..LANES {
            a[l] = f(a[l], b[l]);
        }
    }
    #[inline(always)]
    fn un<T: Scalar>(r: &mut [[T; LANES]], d: u32, f: impl Fn(T) -> T) {
        for a in r[d as usize].iter_mut() {
            *a = f(*a);
        }
    }
    for ins in code {
        match *ins {
            Instr::X(d) => {
                for (a, &x) in regs[d as usize].iter_mut().zip(xs) {
                    *a = T::var_x(x);
                }
            }
            Instr::Y(d) => {
                for (a, &y) in regs[d as usize].iter_mut().zip(ys) {
                    *a = T::var_y(y);
                }
            }
            Instr::Const(d, c) => regs[d as usize] = [T::constant(c); LANES],
            Instr::Add(d) => bin(regs, d, T::add),
            Instr::Sub(d) => bin(regs, d, T::sub),
            Instr::Mul(d) => bin(regs, d, T::mul),
            Instr::Div(d) => bin(regs, d, T::div),
            Instr::Pow(d) => bin(regs, d, T::pow),
            Instr::Min(d) => bin(regs, d, T::min),
            Instr::Max(d) => bin(regs, d, T::max),
            Instr::AddC(d, c) => un(regs, d, |a| a.add_c(c)),
            Instr::MulC(d, c) => un(regs, d, |a| a.mul_c(c)),
            Instr::DivC(d, c) => un(regs, d, |a| a.div_c(c)),
            Instr::CSub(d, c) => un(regs, d, |a| a.c_sub(c)),
            Instr::CDiv(d, c) => un(regs, d, |a| a.c_div(c)),
            Instr::Neg(d) => un(regs, d, T::neg),
            Instr::Square(d) => un(regs, d, T::square),
            Instr::PowI(d, n) => un(regs, d, |a| a.powi(n)),
            Instr::PowF(d, c) => un(regs, d, |a| a.powf(c)),
            Instr::Unary(d, f) => un(regs, d, |a| a.unary(f)),
        }
    }
}
