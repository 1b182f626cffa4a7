//! The number types a compiled formula is evaluated with (forward-mode automatic differentiation):
//!
//! - `f64`: the value only;
//! - [`D1`]: value and gradient, `(f, f_x, f_y)`: 3 f64;
//! - [`D2`]: value, gradient and Hessian, `(f, f_x, f_y, f_xx, f_xy, f_yy)`: 6 f64 (the Hessian is
//!   symmetric, `f_yx = f_xy` is stored once).
//!
//! Every operation applies its derivative rule exactly (the chain rule with the operation's first and
//! second derivative), so gradients and Hessians are exact up to floating-point rounding; nothing is a
//! finite difference. Where a derivative does not exist it comes out infinite or NaN (the slope of
//! `sqrt` at 0, `log` at 0), which a run treats as divergence and the surface as a gap. The kinks of
//! `abs`, `min` and `max` take the derivative of the active side (`abs'(0) = 0`).

use super::parser::Unary;

/// Arithmetic the tape interpreter needs.
pub(super) trait Scalar: Copy {
    /// A constant: all derivatives 0.
    fn constant(c: f64) -> Self;
    /// The variable x at `x` (`d/dx = 1`).
    fn var_x(x: f64) -> Self;
    /// The variable y at `y` (`d/dy = 1`).
    fn var_y(y: f64) -> Self;
    /// The value part.
    fn value(&self) -> f64;
    /// The same derivatives with the value replaced.
    fn with_value(self, v: f64) -> Self;

    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn neg(self) -> Self;

    /// `self + c`.
    fn add_c(self, c: f64) -> Self;
    /// `self * c`.
    fn mul_c(self, c: f64) -> Self;
    /// `self / c`.
    fn div_c(self, c: f64) -> Self;
    /// `c - self`.
    fn c_sub(self, c: f64) -> Self;
    /// `c / self`.
    fn c_div(self, c: f64) -> Self;
    /// `self^2`.
    fn square(self) -> Self;
    /// `f(self)` for a one-argument function.
    fn unary(self, f: Unary) -> Self;
    /// `self^n` for a constant integer `n`.
    fn powi(self, n: i32) -> Self;
    /// `self^c` for a constant real `c`.
    fn powf(self, c: f64) -> Self;

    /// `self^e` with a non-constant exponent. The value is `f64::powf`'s; the derivatives are those of
    /// `exp(e ln|self|)` with the sign of the value, so they exist where the base is not 0 (for a
    /// negative base only where the exponent is an integer, as for the value).
    fn pow(self, e: Self) -> Self {
        let value = self.value().powf(e.value());
        let magnitude = e
            .mul(self.unary(Unary::Abs).unary(Unary::Ln))
            .unary(Unary::Exp);
        let signed = if value < 0.0 {
            magnitude.neg()
        } else {
            magnitude
        };
        signed.with_value(value)
    }

    /// The smaller operand with its derivatives; NaN loses, as in `f64::min`.
    fn min(self, o: Self) -> Self {
        if o.value() < self.value() || self.value().is_nan() {
            o
        } else {
            self
        }
    }

    /// The larger operand with its derivatives; NaN loses, as in `f64::max`.
    fn max(self, o: Self) -> Self {
        if o.value() > self.value() || self.value().is_nan() {
            o
        } else {
            self
        }
    }
}

/// `(f(u), f'(u), f''(u))` for a one-argument function; derivatives above `ORDER` are left 0 where
/// they would cost extra work.
#[inline(always)]
fn unary_derivatives<const ORDER: u8>(f: Unary, u: f64) -> (f64, f64, f64) {
    let second = ORDER >= 2;
    match f {
        Unary::Sin => {
            let (s, c) = u.sin_cos();
            (s, c, -s)
        }
        Unary::Cos => {
            let (s, c) = u.sin_cos();
            (c, -s, -c)
        }
        // tan' = 1 + tan^2, tan'' = 2 tan (1 + tan^2).
        Unary::Tan => {
            let t = u.tan();
            let d = 1.0 + t * t;
            (t, d, 2.0 * t * d)
        }
        // asin' = 1 / sqrt(1 - u^2), asin'' = u / (1 - u^2)^(3/2); acos is minus both.
        Unary::Asin | Unary::Acos => {
            let (v, sign) = if f == Unary::Asin {
                (u.asin(), 1.0)
            } else {
                (u.acos(), -1.0)
            };
            let w = 1.0 - u * u;
            let r = 1.0 / w.sqrt();
            (v, sign * r, if second { sign * u * r / w } else { 0.0 })
        }
        // atan' = 1 / (1 + u^2), atan'' = -2u / (1 + u^2)^2.
        Unary::Atan => {
            let d = 1.0 / (1.0 + u * u);
            (u.atan(), d, -2.0 * u * d * d)
        }
        Unary::Sinh => {
            let s = u.sinh();
            (s, u.cosh(), s)
        }
        Unary::Cosh => {
            let c = u.cosh();
            (c, u.sinh(), c)
        }
        // tanh' = 1 - tanh^2, tanh'' = -2 tanh (1 - tanh^2).
        Unary::Tanh => {
            let t = u.tanh();
            let d = 1.0 - t * t;
            (t, d, -2.0 * t * d)
        }
        Unary::Exp => {
            let e = u.exp();
            (e, e, e)
        }
        // ln' = 1/u, ln'' = -1/u^2.
        Unary::Ln => {
            let r = 1.0 / u;
            (u.ln(), r, -r * r)
        }
        // sqrt' = 1 / (2 sqrt u), sqrt'' = -sqrt' / (2u).
        Unary::Sqrt => {
            let s = u.sqrt();
            let d = 0.5 / s;
            (s, d, -0.5 * d / u)
        }
        Unary::Abs => {
            let sign = if u > 0.0 {
                1.0
            } else if u < 0.0 {
                -1.0
            } else {
                0.0
            };
            (u.abs(), sign, 0.0)
        }
    }
}

impl Scalar for f64 {
    #[inline(always)]
    fn constant(c: f64) -> Self {
        c
    }
    #[inline(always)]
    fn var_x(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn var_y(y: f64) -> Self {
        y
    }
    #[inline(always)]
    fn value(&self) -> f64 {
        *self
    }
    #[inline(always)]
    fn with_value(self, v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self * o
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        self / o
    }
    #[inline(always)]
    fn neg(self) -> Self {
        -self
    }
    #[inline(always)]
    fn add_c(self, c: f64) -> Self {
        self + c
    }
    #[inline(always)]
    fn mul_c(self, c: f64) -> Self {
        self * c
    }
    #[inline(always)]
    fn div_c(self, c: f64) -> Self {
        self / c
    }
    #[inline(always)]
    fn c_sub(self, c: f64) -> Self {
        c - self
    }
    #[inline(always)]
    fn c_div(self, c: f64) -> Self {
        c / self
    }
    #[inline(always)]
    fn square(self) -> Self {
        self * self
    }
    #[inline(always)]
    fn unary(self, f: Unary) -> Self {
        f.eval(self)
    }
    #[inline(always)]
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    #[inline(always)]
    fn powf(self, c: f64) -> Self {
        f64::powf(self, c)
    }
    #[inline(always)]
    fn pow(self, e: Self) -> Self {
        f64::powf(self, e)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        f64::min(self, o)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        f64::max(self, o)
    }
}

/// Value and gradient: `v = f`, `dx = df/dx`, `dy = df/dy`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct D1 {
    pub v: f64,
    pub dx: f64,
    pub dy: f64,
}

impl D1 {
    /// `g(self)` for a function `g` with `g(u) = f0`, `g'(u) = f1`: `d g = g' du`.
    #[inline(always)]
    fn chain(self, f0: f64, f1: f64) -> Self {
        Self {
            v: f0,
            dx: f1 * self.dx,
            dy: f1 * self.dy,
        }
    }
}

impl Scalar for D1 {
    #[inline(always)]
    fn constant(c: f64) -> Self {
        Self {
            v: c,
            dx: 0.0,
            dy: 0.0,
        }
    }
    #[inline(always)]
    fn var_x(x: f64) -> Self {
        Self {
            v: x,
            dx: 1.0,
            dy: 0.0,
        }
    }
    #[inline(always)]
    fn var_y(y: f64) -> Self {
        Self {
            v: y,
            dx: 0.0,
            dy: 1.0,
        }
    }
    #[inline(always)]
    fn value(&self) -> f64 {
        self.v
    }
    #[inline(always)]
    fn with_value(self, v: f64) -> Self {
        Self { v, ..self }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self {
            v: self.v + o.v,
            dx: self.dx + o.dx,
            dy: self.dy + o.dy,
        }
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self {
            v: self.v - o.v,
            dx: self.dx - o.dx,
            dy: self.dy - o.dy,
        }
    }
    /// `d(ab) = a' b + a b'`.
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Self {
            v: self.v * o.v,
            dx: self.dx * o.v + self.v * o.dx,
            dy: self.dy * o.v + self.v * o.dy,
        }
    }
    /// `q = a / b`, `dq = (a' - q b') / b`.
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.v;
        let q = self.v / o.v;
        Self {
            v: q,
            dx: (self.dx - q * o.dx) * inv,
            dy: (self.dy - q * o.dy) * inv,
        }
    }
    #[inline(always)]
    fn neg(self) -> Self {
        Self {
            v: -self.v,
            dx: -self.dx,
            dy: -self.dy,
        }
    }
    #[inline(always)]
    fn add_c(self, c: f64) -> Self {
        Self {
            v: self.v + c,
            ..self
        }
    }
    #[inline(always)]
    fn mul_c(self, c: f64) -> Self {
        Self {
            v: self.v * c,
            dx: self.dx * c,
            dy: self.dy * c,
        }
    }
    #[inline(always)]
    fn div_c(self, c: f64) -> Self {
        Self {
            v: self.v / c,
            dx: self.dx / c,
            dy: self.dy / c,
        }
    }
    #[inline(always)]
    fn c_sub(self, c: f64) -> Self {
        Self {
            v: c - self.v,
            dx: -self.dx,
            dy: -self.dy,
        }
    }
    /// `(c / u)' = -(c / u) / u`.
    #[inline(always)]
    fn c_div(self, c: f64) -> Self {
        let q = c / self.v;
        self.chain(q, -q / self.v)
    }
    #[inline(always)]
    fn square(self) -> Self {
        self.chain(self.v * self.v, 2.0 * self.v)
    }
    #[inline(always)]
    fn unary(self, f: Unary) -> Self {
        let (f0, f1, _) = unary_derivatives::<1>(f, self.v);
        self.chain(f0, f1)
    }
    /// `(u^n)' = n u^(n-1)`.
    #[inline(always)]
    fn powi(self, n: i32) -> Self {
        match n {
            0 => Self::constant(1.0),
            1 => self,
            2 => self.square(),
            // The value as `f64::powi` computes it, so that every number type agrees on it.
            _ => self.chain(self.v.powi(n), f64::from(n) * self.v.powi(n - 1)),
        }
    }
    /// `(u^c)' = c u^(c-1)`.
    #[inline(always)]
    fn powf(self, c: f64) -> Self {
        self.chain(self.v.powf(c), c * self.v.powf(c - 1.0))
    }
}

/// Value, gradient and Hessian: `v = f`, `dx`, `dy`, `dxx = d2f/dx2`, `dxy = d2f/dxdy`, `dyy = d2f/dy2`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct D2 {
    pub v: f64,
    pub dx: f64,
    pub dy: f64,
    pub dxx: f64,
    pub dxy: f64,
    pub dyy: f64,
}

impl D2 {
    /// `g(self)` with `g(u) = f0`, `g'(u) = f1`, `g''(u) = f2`:
    /// `d_i g = g' u_i`, `d_ij g = g' u_ij + g'' u_i u_j`.
    #[inline(always)]
    fn chain(self, f0: f64, f1: f64, f2: f64) -> Self {
        Self {
            v: f0,
            dx: f1 * self.dx,
            dy: f1 * self.dy,
            dxx: f1 * self.dxx + f2 * self.dx * self.dx,
            dxy: f1 * self.dxy + f2 * self.dx * self.dy,
            dyy: f1 * self.dyy + f2 * self.dy * self.dy,
        }
    }

    #[inline(always)]
    fn scale(self, c: f64) -> Self {
        Self {
            v: self.v * c,
            dx: self.dx * c,
            dy: self.dy * c,
            dxx: self.dxx * c,
            dxy: self.dxy * c,
            dyy: self.dyy * c,
        }
    }
}

impl Scalar for D2 {
    #[inline(always)]
    fn constant(c: f64) -> Self {
        Self {
            v: c,
            ..Self::default()
        }
    }
    #[inline(always)]
    fn var_x(x: f64) -> Self {
        Self {
            v: x,
            dx: 1.0,
            ..Self::default()
        }
    }
    #[inline(always)]
    fn var_y(y: f64) -> Self {
        Self {
            v: y,
            dy: 1.0,
            ..Self::default()
        }
    }
    #[inline(always)]
    fn value(&self) -> f64 {
        self.v
    }
    #[inline(always)]
    fn with_value(self, v: f64) -> Self {
        Self { v, ..self }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self {
            v: self.v + o.v,
            dx: self.dx + o.dx,
            dy: self.dy + o.dy,
            dxx: self.dxx + o.dxx,
            dxy: self.dxy + o.dxy,
            dyy: self.dyy + o.dyy,
        }
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self {
            v: self.v - o.v,
            dx: self.dx - o.dx,
            dy: self.dy - o.dy,
            dxx: self.dxx - o.dxx,
            dxy: self.dxy - o.dxy,
            dyy: self.dyy - o.dyy,
        }
    }
    /// `d_ij (ab) = a_ij b + a b_ij + a_i b_j + a_j b_i`.
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        let (a, b) = (self, o);
        Self {
            v: a.v * b.v,
            dx: a.dx * b.v + a.v * b.dx,
            dy: a.dy * b.v + a.v * b.dy,
            dxx: a.dxx * b.v + a.v * b.dxx + 2.0 * a.dx * b.dx,
            dxy: a.dxy * b.v + a.v * b.dxy + a.dx * b.dy + a.dy * b.dx,
            dyy: a.dyy * b.v + a.v * b.dyy + 2.0 * a.dy * b.dy,
        }
    }
    /// `q = a / b`: differentiate `a = q b` twice and solve for `q`'s parts.
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        let (a, b) = (self, o);
        let inv = 1.0 / b.v;
        let q = a.v / b.v;
        let qx = (a.dx - q * b.dx) * inv;
        let qy = (a.dy - q * b.dy) * inv;
        Self {
            v: q,
            dx: qx,
            dy: qy,
            dxx: (a.dxx - q * b.dxx - 2.0 * qx * b.dx) * inv,
            dxy: (a.dxy - q * b.dxy - qx * b.dy - qy * b.dx) * inv,
            dyy: (a.dyy - q * b.dyy - 2.0 * qy * b.dy) * inv,
        }
    }
    #[inline(always)]
    fn neg(self) -> Self {
        self.scale(-1.0)
    }
    #[inline(always)]
    fn add_c(self, c: f64) -> Self {
        Self {
            v: self.v + c,
            ..self
        }
    }
    #[inline(always)]
    fn mul_c(self, c: f64) -> Self {
        self.scale(c)
    }
    #[inline(always)]
    fn div_c(self, c: f64) -> Self {
        Self {
            v: self.v / c,
            dx: self.dx / c,
            dy: self.dy / c,
            dxx: self.dxx / c,
            dxy: self.dxy / c,
            dyy: self.dyy / c,
        }
    }
    #[inline(always)]
    fn c_sub(self, c: f64) -> Self {
        Self {
            v: c - self.v,
            ..self.scale(-1.0)
        }
    }
    /// `(c/u)' = -q/u`, `(c/u)'' = 2q/u^2` with `q = c/u`.
    #[inline(always)]
    fn c_div(self, c: f64) -> Self {
        let r = 1.0 / self.v;
        let q = c / self.v;
        self.chain(q, -q * r, 2.0 * q * r * r)
    }
    #[inline(always)]
    fn square(self) -> Self {
        self.chain(self.v * self.v, 2.0 * self.v, 2.0)
    }
    #[inline(always)]
    fn unary(self, f: Unary) -> Self {
        let (f0, f1, f2) = unary_derivatives::<2>(f, self.v);
        self.chain(f0, f1, f2)
    }
    /// `(u^n)' = n u^(n-1)`, `(u^n)'' = n (n-1) u^(n-2)`.
    #[inline(always)]
    fn powi(self, n: i32) -> Self {
        let (u, nf) = (self.v, f64::from(n));
        match n {
            0 => Self::constant(1.0),
            1 => self,
            2 => self.square(),
            _ => self.chain(
                u.powi(n),
                nf * u.powi(n - 1),
                nf * (nf - 1.0) * u.powi(n - 2),
            ),
        }
    }
    /// `(u^c)' = c u^(c-1)`, `(u^c)'' = c (c-1) u^(c-2)`.
    #[inline(always)]
    fn powf(self, c: f64) -> Self {
        let u = self.v;
        self.chain(
            u.powf(c),
            c * u.powf(c - 1.0),
            c * (c - 1.0) * u.powf(c - 2.0),
        )
    }
}
