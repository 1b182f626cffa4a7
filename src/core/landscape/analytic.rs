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

    /// Exact Hessian `[[L_xx, L_xy], [L_xy, L_yy]]` at `p` (the formula above each arm).
    pub(super) fn hessian(&self, p: Vec2d) -> [[f64; 2]; 2] {
        let [x, y] = p;
        let sym = |xx: f64, xy: f64, yy: f64| [[xx, xy], [xy, yy]];
        match self {
            // H = R diag(1, kappa) R^T: L_xx = c^2 + kappa s^2, L_xy = c s (1 - kappa),
            // L_yy = s^2 + kappa c^2.
            Self::Bowl { kappa, cos, sin } => sym(
                cos * cos + kappa * sin * sin,
                cos * sin * (1.0 - kappa),
                sin * sin + kappa * cos * cos,
            ),
            Self::Saddle => sym(2.0, 0.0, -2.0),
            // L_yy = 12 y^2 - 4.
            Self::SaddleValleys => sym(2.0, 0.0, 12.0 * y * y - 4.0),
            Self::MonkeySaddle => sym(6.0 * x, -6.0 * y, -6.0 * x),
            // L_xx = 2 - 4 b (y - x^2) + 8 b x^2, L_xy = -4 b x, L_yy = 2 b.
            Self::Rosenbrock { a: _, b } => sym(
                2.0 - 4.0 * b * (y - x * x) + 8.0 * b * x * x,
                -4.0 * b * x,
                2.0 * b,
            ),
            // L = sum t_k^2: L_ij = 2 sum (t_k,i t_k,j + t_k t_k,ij) with t_k,x = y^k - 1,
            // t_k,y = k x y^(k-1), t_k,xx = 0, t_k,xy = k y^(k-1), t_k,yy = k (k-1) x y^(k-2).
            Self::Beale => {
                let mut h = [0.0; 3];
                for (k, c) in [(1, 1.5), (2, 2.25), (3, 2.625)] {
                    let kf = f64::from(k);
                    let yk = y.powi(k);
                    let t = c - x + x * yk;
                    let tx = yk - 1.0;
                    let ty = kf * x * y.powi(k - 1);
                    let txy = kf * y.powi(k - 1);
                    let tyy = if k >= 2 {
                        kf * (kf - 1.0) * x * y.powi(k - 2)
                    } else {
                        0.0
                    };
                    h[0] += 2.0 * tx * tx;
                    h[1] += 2.0 * (tx * ty + t * txy);
                    h[2] += 2.0 * (ty * ty + t * tyy);
                }
                sym(h[0], h[1], h[2])
            }
            // a = x^2 + y - 11, b = x + y^2 - 7: L_xx = 4 a + 8 x^2 + 2, L_xy = 4 (x + y),
            // L_yy = 2 + 4 b + 8 y^2.
            Self::Himmelblau => {
                let a = x * x + y - 11.0;
                let b = x + y * y - 7.0;
                sym(
                    4.0 * a + 8.0 * x * x + 2.0,
                    4.0 * (x + y),
                    2.0 + 4.0 * b + 8.0 * y * y,
                )
            }
            // L_xx = 2 + 4 pi^2 A cos(2 pi x), L_yy likewise, L_xy = 0.
            Self::Rastrigin { a } => sym(
                2.0 + TAU * TAU * a * (TAU * x).cos(),
                0.0,
                2.0 + TAU * TAU * a * (TAU * y).cos(),
            ),
            // Cone term: grad = r x_i with r = 2 e1 / rho, e1 = exp(-0.2 rho), rho_j = x_j / (2 rho):
            // H_ij = r delta_ij - e1 (0.2 rho + 1) x_i x_j / rho^3 (left out at rho = 0, as in the
            // gradient). Ripple term -exp(c), c = (cos 2 pi x + cos 2 pi y) / 2, c_x = -pi sin 2 pi x,
            // c_xx = -2 pi^2 cos 2 pi x: H_ij = -exp(c) (c_i c_j + c_ij).
            Self::Ackley => {
                let rho = (0.5 * (x * x + y * y)).sqrt();
                let (sx, cx) = (TAU * x).sin_cos();
                let (sy, cy) = (TAU * y).sin_cos();
                let e2 = (0.5 * (cx + cy)).exp();
                let (gx, gy) = (-PI * sx, -PI * sy);
                let (gxx, gyy) = (-2.0 * PI * PI * cx, -2.0 * PI * PI * cy);
                let mut h = [-e2 * (gx * gx + gxx), -e2 * gx * gy, -e2 * (gy * gy + gyy)];
                if rho > 0.0 {
                    let e1 = (-0.2 * rho).exp();
                    let r = 2.0 * e1 / rho;
                    let k = e1 * (0.2 * rho + 1.0) / (rho * rho * rho);
                    h[0] += r - k * x * x;
                    h[1] -= k * x * y;
                    h[2] += r - k * y * y;
                }
                sym(h[0], h[1], h[2])
            }
            // L_xx = 8 - 25.2 x^2 + 10 x^4, L_xy = 1, L_yy = -8 + 48 y^2.
            Self::SixHumpCamel => {
                let x2 = x * x;
                sym(8.0 - 25.2 * x2 + 10.0 * x2 * x2, 1.0, -8.0 + 48.0 * y * y)
            }
            // e = exp(-(x^2 + y^2) / 2): L_xx = e (1 - x^2), L_xy = -e x y, L_yy = e (1 - y^2).
            Self::Plateau => {
                let e = (-0.5 * (x * x + y * y)).exp();
                sym(e * (1.0 - x * x), -e * x * y, e * (1.0 - y * y))
            }
        }
    }
}
