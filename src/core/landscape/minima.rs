//! Finding minima numerically: Newton refinement of listed minima (with the exact Hessian), and a
//! multi-start search for landscapes whose minima are not known in closed form (terrain, formulas).

use super::{Landscape, Vec2d, norm};

/// How [`Landscape::search_minima`] searches.
#[derive(Clone, Copy, Debug)]
pub(super) struct Search {
    /// Starts per side of the grid of starts.
    starts: usize,
    /// Also accept points where descent stalls with no lower neighbour (kinks of `abs`, `min`, `max`;
    /// flat minima such as `x^4`), not only those with a vanishing gradient and a positive-definite
    /// Hessian.
    lenient: bool,
}

impl Search {
    /// Terrain: smooth, many minima.
    pub(super) const TERRAIN: Self = Self {
        starts: 12,
        lenient: false,
    };
    /// Formulas: anything typed, evaluated quickly enough to search while typing.
    pub(super) const FORMULA: Self = Self {
        starts: 8,
        lenient: true,
    };
}

impl Landscape {
    /// Newton's method on the gradient with the exact Hessian; stops when the gradient stops shrinking
    /// or the Hessian is not positive definite.
    pub(super) fn newton_refine(&self, mut p: Vec2d) -> Vec2d {
        let mut g = self.gradient(p);
        for _ in 0..50 {
            let h = self.hessian(p);
            let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
            if !(det > 0.0 && h[0][0] > 0.0 && det.is_finite()) {
                break;
            }
            let next = [
                p[0] - (h[1][1] * g[0] - h[0][1] * g[1]) / det,
                p[1] - (-h[1][0] * g[0] + h[0][0] * g[1]) / det,
            ];
            let next_g = self.gradient(next);
            if norm(next_g) >= norm(g) || !norm(next_g).is_finite() {
                break;
            }
            p = next;
            g = next_g;
        }
        p
    }

    /// Whether the exact Hessian at `p` is finite and positive definite.
    fn is_strict_minimum(&self, p: Vec2d) -> bool {
        let h = self.hessian(p);
        h.iter().flatten().all(|v| v.is_finite())
            && h[0][0] > 0.0
            && h[0][0] * h[1][1] - h[0][1] * h[1][0] > 0.0
    }

    /// No point on a small ring around `p` (8 directions, radius `r`) is lower, every one of them is
    /// defined, and at least one is higher (a flat patch, where every point would qualify, lists none;
    /// nor does a point next to where the loss is undefined, such as `ln(x)` near `x = 0`, which falls
    /// without bound there).
    fn no_lower_neighbour(&self, p: Vec2d, value: f64, r: f64) -> bool {
        let mut higher = false;
        value.is_finite()
            && (0..8).all(|k| {
                let (s, c) = (f64::from(k) * std::f64::consts::FRAC_PI_4).sin_cos();
                let v = self.value([p[0] + r * c, p[1] + r * s]);
                higher |= v > value;
                v.is_finite() && v >= value
            })
            && higher
    }

    /// Backtracking gradient descent from `p` (at most 400 steps, stopping where the gradient vanishes,
    /// the line search finds nothing lower, or `keep_going` says no), then Newton
    /// refinement. Returns the end and whether the line search stalled.
    fn descend(&self, mut p: Vec2d, keep_going: impl Fn(Vec2d) -> bool) -> (Vec2d, bool) {
        let (mut value, mut g) = self.value_and_gradient(p);
        let mut alpha: f64 = 1.0;
        let mut stalled = false;
        for _ in 0..400 {
            let gg = g[0] * g[0] + g[1] * g[1];
            if gg < 1e-12 || !gg.is_finite() {
                break;
            }
            alpha *= 2.0;
            loop {
                let q = [p[0] - alpha * g[0], p[1] - alpha * g[1]];
                let (vq, gq) = self.value_and_gradient(q);
                if vq <= value - 0.5 * alpha * gg {
                    (p, value, g) = (q, vq, gq);
                    break;
                }
                alpha *= 0.5;
                if alpha < 1e-12 {
                    break;
                }
            }
            if alpha < 1e-12 {
                stalled = true;
                break;
            }
            if !keep_going(p) {
                break;
            }
        }
        (self.newton_refine(p), stalled)
    }

    /// Whether the end of a [`Self::descend`] is a minimum: a vanishing gradient and a positive-definite
    /// Hessian, or, when `lenient`, a stall (or a tiny gradient) with no lower neighbour at `r`.
    fn is_minimum_end(&self, p: Vec2d, stalled: bool, lenient: bool, r: f64) -> bool {
        let (value, g) = self.value_and_gradient(p);
        let smooth_minimum = norm(g) < 1e-9 && self.is_strict_minimum(p);
        smooth_minimum
            || (lenient && (stalled || norm(g) < 1e-6) && self.no_lower_neighbour(p, value, r))
    }

    /// The local minimum that descent from `p` reaches without going farther than `radius`, if any:
    /// what a run that stopped at `p` has really found. `None` at a saddle or a maximum (descent slides
    /// away), on a slope that keeps falling, and next to where the loss is undefined.
    pub fn minimum_near(&self, p: Vec2d, radius: f64) -> Option<Vec2d> {
        let scale = self.domain.width().max(self.domain.height());
        let near = |q: Vec2d| (q[0] - p[0]).hypot(q[1] - p[1]) <= radius;
        let (end, stalled) = self.descend(p, near);
        (near(end) && self.is_minimum_end(end, stalled, true, 1e-6 * scale)).then_some(end)
    }

    /// Multi-start search for local minima inside the domain: backtracking gradient descent from a
    /// `starts x starts` grid, Newton refinement, deduplicated, deepest first.
    pub(super) fn search_minima(&self, search: Search) -> Vec<Vec2d> {
        let starts = search.starts;
        let d = self.domain;
        let scale = d.width().max(d.height());
        let mut found: Vec<(f64, Vec2d)> = Vec::new();
        for j in 0..starts {
            for i in 0..starts {
                let start = [
                    d.x[0] + (i as f64 + 0.5) / starts as f64 * d.width(),
                    d.y[0] + (j as f64 + 0.5) / starts as f64 * d.height(),
                ];
                // lenient: a run that left the domain has left it for good (unbounded below, or a
                // minimum outside)
                let (p, stalled) = self.descend(start, |p| !search.lenient || d.contains(p));
                let value = self.value(p);
                let minimum = self.is_minimum_end(p, stalled, search.lenient, 1e-6 * scale);
                let dedupe = if search.lenient { 1e-4 * scale } else { 1e-4 };
                if minimum
                    && d.contains(p)
                    && !found
                        .iter()
                        .any(|(_, m)| (m[0] - p[0]).hypot(m[1] - p[1]) < dedupe)
                {
                    found.push((value, p));
                }
            }
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        found.into_iter().map(|(_, p)| p).collect()
    }
}
