//! The textbook test functions, each with its loss and its analytic gradient written out (the formula in
//! the comment above each arm is what the arm computes).

use std::f64::consts::{E, PI, TAU};

use super::Vec2d;

/// The built form of an analytic landscape: what its formula needs precomputed.
#[derive(Clone, Debug)]
pub(super) enum Analytic {
    /// `kappa` and the rotation's cosine and sine.
    Bowl {
        kappa: f64,
        cos: f64,
        sin: f64,
    },
    Saddle,
    SaddleValleys,
    MonkeySaddle,
    Rosenbrock {
        a: f64,
        b: f64,
    },
    Beale,
    Himmelblau,
    Rastrigin {
        a: f64,
    },
    Ackley,
    SixHumpCamel,
    Plateau,
}

impl Analytic {
    /// Loss and gradient at `p`.
    pub(super) fn value_and_gradient(&self, p: Vec2d) -> (f64, Vec2d) {
        let [x, y] = p;
        match self {
            // u = cos x + sin y, v = -sin x + cos y; L = 0.5 (u^2 + kappa v^2);
            // grad = u (cos, sin) + kappa v (-sin, cos).
            Self::Bowl { kappa, cos, sin } => {
                let u = cos * x + sin * y;
                let v = -sin * x + cos * y;
                let kv = kappa * v;
                (
                    0.5 * (u * u + kv * v),
                    [u * cos - kv * sin, u * sin + kv * cos],
                )
            }
            // L = x^2 - y^2; grad = (2x, -2y).
            Self::Saddle => (x * x - y * y, [2.0 * x, -2.0 * y]),
            // L = x^2 + (y^2 - 1)^2; grad = (2x, 4y (y^2 - 1)).
            Self::SaddleValleys => {
                let q = y * y - 1.0;
                (x * x + q * q, [2.0 * x, 4.0 * y * q])
            }
            // L = x^3 - 3 x y^2; grad = (3x^2 - 3y^2, -6xy).
            Self::MonkeySaddle => (
                x * x * x - 3.0 * x * y * y,
                [3.0 * (x * x - y * y), -6.0 * x * y],
            ),
            // L = (a - x)^2 + b (y - x^2)^2; grad = (-2 (a - x) - 4 b x (y - x^2), 2 b (y - x^2)).
            Self::Rosenbrock { a, b } => {
                let d = a - x;
                let q = y - x * x;
                (d * d + b * q * q, [-2.0 * d - 4.0 * b * x * q, 2.0 * b * q])
            }
            // t_k = c_k - x + x y^k for c = (1.5, 2.25, 2.625); L = sum t_k^2;
            // dL/dx = sum 2 t_k (y^k - 1), dL/dy = sum 2 t_k k x y^(k-1).
            Self::Beale => {
                let (y2, y3) = (y * y, y * y * y);
                let t1 = 1.5 - x + x * y;
                let t2 = 2.25 - x + x * y2;
                let t3 = 2.625 - x + x * y3;
                (
                    t1 * t1 + t2 * t2 + t3 * t3,
                    [
                        2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0)),
                        2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y2),
                    ],
                )
            }
            // a = x^2 + y - 11, b = x + y^2 - 7; L = a^2 + b^2; grad = (4 x a + 2 b, 2 a + 4 y b).
            Self::Himmelblau => {
                let a = x * x + y - 11.0;
                let b = x + y * y - 7.0;
                (
                    a * a + b * b,
                    [4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b],
                )
            }
            // L = 2A + x^2 - A cos(2 pi x) + y^2 - A cos(2 pi y); dL/dx = 2x + 2 pi A sin(2 pi x).
            Self::Rastrigin { a } => {
                let (sx, cx) = (TAU * x).sin_cos();
                let (sy, cy) = (TAU * y).sin_cos();
                (
                    2.0 * a + x * x - a * cx + y * y - a * cy,
                    [2.0 * x + TAU * a * sx, 2.0 * y + TAU * a * sy],
                )
            }
            // rho = sqrt((x^2 + y^2) / 2), c = (cos 2 pi x + cos 2 pi y) / 2;
            // L = -20 exp(-0.2 rho) - exp(c) + 20 + e;
            // dL/dx = 20 * 0.2 exp(-0.2 rho) x / (2 rho) + exp(c) pi sin(2 pi x).
            // At rho = 0 (a cone tip, not differentiable) the first term's subgradient 0 is used.
            Self::Ackley => {
                let rho = (0.5 * (x * x + y * y)).sqrt();
                let (sx, cx) = (TAU * x).sin_cos();
                let (sy, cy) = (TAU * y).sin_cos();
                let e1 = (-0.2 * rho).exp();
                let e2 = (0.5 * (cx + cy)).exp();
                let radial = if rho > 0.0 {
                    20.0 * 0.2 * e1 * 0.5 / rho
                } else {
                    0.0
                };
                (
                    -20.0 * e1 - e2 + 20.0 + E,
                    [radial * x + e2 * PI * sx, radial * y + e2 * PI * sy],
                )
            }
            // L = 4x^2 - 2.1x^4 + x^6/3 + xy - 4y^2 + 4y^4;
            // grad = (8x - 8.4x^3 + 2x^5 + y, x - 8y + 16y^3).
            Self::SixHumpCamel => {
                let (x2, y2) = (x * x, y * y);
                (
                    (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2,
                    [
                        x * (8.0 - 8.4 * x2 + 2.0 * x2 * x2) + y,
                        x + y * (-8.0 + 16.0 * y2),
                    ],
                )
            }
            // L = 1 - exp(-(x^2 + y^2) / 2); grad = exp(-(x^2 + y^2) / 2) (x, y).
            Self::Plateau => {
                let e = (-0.5 * (x * x + y * y)).exp();
                (1.0 - e, [e * x, e * y])
            }
        }
    }
}
