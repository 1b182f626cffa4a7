//! Finding minima numerically: Newton refinement of listed minima, and a multi-start search for
//! landscapes whose minima are not known in closed form.

use super::{Landscape, Vec2d, norm};

impl Landscape {
    /// Newton's method on the gradient, with the Hessian from central differences of the analytic
    /// gradient (h = 1e-5); stops when the gradient stops shrinking.
    pub(super) fn newton_refine(&self, mut p: Vec2d) -> Vec2d {
        let mut g = self.gradient(p);
        for _ in 0..50 {
            let Some(h) = self.hessian(p) else { break };
            let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
            if !(det > 0.0 && h[0][0] > 0.0) {
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

    /// Symmetrised central-difference Hessian of the analytic gradient; `None` if not finite.
    fn hessian(&self, p: Vec2d) -> Option<[[f64; 2]; 2]> {
        let h = 1e-5 * p[0].abs().max(p[1].abs()).max(1.0);
        let gx = [
            self.gradient([p[0] + h, p[1]]),
            self.gradient([p[0] - h, p[1]]),
        ];
        let gy = [
            self.gradient([p[0], p[1] + h]),
            self.gradient([p[0], p[1] - h]),
        ];
        let hxx = (gx[0][0] - gx[1][0]) / (2.0 * h);
        let hyy = (gy[0][1] - gy[1][1]) / (2.0 * h);
        let hxy = 0.5 * ((gx[0][1] - gx[1][1]) + (gy[0][0] - gy[1][0])) / (2.0 * h);
        let hess = [[hxx, hxy], [hxy, hyy]];
        hess.iter().flatten().all(|v| v.is_finite()).then_some(hess)
    }

    /// Multi-start search for local minima inside the domain (terrain): backtracking gradient descent
    /// from a 12 x 12 grid, Newton refinement, deduplicated, deepest first.
    pub(super) fn search_minima(&self) -> Vec<Vec2d> {
        const STARTS: usize = 12;
        let d = self.domain;
        let mut found: Vec<(f64, Vec2d)> = Vec::new();
        for j in 0..STARTS {
            for i in 0..STARTS {
                let mut p = [
                    d.x[0] + (i as f64 + 0.5) / STARTS as f64 * d.width(),
                    d.y[0] + (j as f64 + 0.5) / STARTS as f64 * d.height(),
                ];
                let (mut value, mut g) = self.value_and_gradient(p);
                let mut alpha: f64 = 1.0;
                for _ in 0..400 {
                    let gg = g[0] * g[0] + g[1] * g[1];
                    if gg < 1e-12 {
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
                        break;
                    }
                }
                let p = self.newton_refine(p);
                let (value, g) = self.value_and_gradient(p);
                let is_min = self
                    .hessian(p)
                    .is_some_and(|h| h[0][0] > 0.0 && h[0][0] * h[1][1] - h[0][1] * h[1][0] > 0.0);
                if norm(g) < 1e-9
                    && is_min
                    && d.contains(p)
                    && !found
                        .iter()
                        .any(|(_, m)| (m[0] - p[0]).hypot(m[1] - p[1]) < 1e-4)
                {
                    found.push((value, p));
                }
            }
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        found.into_iter().map(|(_, p)| p).collect()
    }
}
