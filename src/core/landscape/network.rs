//! The `network` landscape: what a class sees of a network's loss, a slice of it through a plane of
//! parameter space, `L(c + α d1 + β d2)` over `(α, β)`.
//!
//! The runs themselves train every weight ([`crate::core::network::Network`] is their objective); this
//! landscape is only the picture: the loss on a grid of the plane ([`SliceGrid`], computed once, coarse
//! first and then refined in the background), read between grid points by bicubic (Catmull–Rom)
//! interpolation with its exact derivatives, so that the surface, its contours, the gradient field and
//! the cursor readout cost what they cost on any landscape. Where a true value matters (the plane's loss
//! under a run's ball), [`NetworkSurface::exact_loss`] evaluates the network there.

use std::sync::Arc;

use super::Vec2d;
use crate::core::network::{Network, Plane, SliceGrid};

/// A network landscape as built: the network, the plane shown and the loss sampled over it.
#[derive(Clone, Debug)]
pub struct NetworkSurface {
    pub(super) network: Arc<Network>,
    pub(super) plane: Arc<Plane>,
    pub(super) grid: Arc<SliceGrid>,
}

impl NetworkSurface {
    /// The network the runs train.
    pub fn network(&self) -> &Arc<Network> {
        &self.network
    }

    /// The plane shown.
    pub fn plane(&self) -> &Arc<Plane> {
        &self.plane
    }

    /// The loss sampled on the plane (the picture's resolution).
    pub fn grid(&self) -> &Arc<SliceGrid> {
        &self.grid
    }

    /// The network's true loss at the plane's point `(α, β)` (a forward pass over the data).
    pub fn exact_loss(&self, p: Vec2d) -> f64 {
        let mut theta = vec![0.0; self.plane.center.len()];
        self.plane.point(p[0], p[1], &mut theta);
        self.network.loss(&theta)
    }

    /// The interpolated loss and its gradient in `(α, β)` (NaN where a grid point it needs is).
    pub(super) fn value_and_gradient(&self, p: Vec2d) -> (f64, Vec2d) {
        bicubic(&self.grid, p)
    }
}

/// Catmull–Rom weights of the four samples around `t ∈ [0, 1]` and of the derivative in `t`.
fn catmull_rom(t: f64) -> ([f64; 4], [f64; 4]) {
    let (t2, t3) = (t * t, t * t * t);
    (
        [
            0.5 * (-t3 + 2.0 * t2 - t),
            0.5 * (3.0 * t3 - 5.0 * t2 + 2.0),
            0.5 * (-3.0 * t3 + 4.0 * t2 + t),
            0.5 * (t3 - t2),
        ],
        [
            0.5 * (-3.0 * t2 + 4.0 * t - 1.0),
            0.5 * (9.0 * t2 - 10.0 * t),
            0.5 * (-9.0 * t2 + 8.0 * t + 1.0),
            0.5 * (3.0 * t2 - 2.0 * t),
        ],
    )
}

/// The grid cell of `x` over `range` with `n` points: the index of its left point and the fraction
/// into the cell, `x` clamped into the range.
fn cell(x: f64, range: [f64; 2], n: usize) -> (usize, f64) {
    let span = range[1] - range[0];
    let u = ((x - range[0]) / span * (n - 1) as f64).clamp(0.0, (n - 1) as f64);
    let u = if u.is_finite() { u } else { 0.0 };
    let k = (u.floor() as usize).min(n - 2);
    (k, u - k as f64)
}

/// The bicubic Catmull–Rom interpolant of `grid` at `p` and its gradient (in loss per unit of `α` and
/// `β`); samples past the edges repeat the edge. A point outside the plane's range reads the edge.
pub(crate) fn bicubic(grid: &SliceGrid, p: Vec2d) -> (f64, Vec2d) {
    let n = grid.size;
    if n < 2 {
        let v = grid.loss.first().copied().unwrap_or(f64::NAN);
        return (v, [0.0, 0.0]);
    }
    let (i, fx) = cell(p[0], grid.alpha, n);
    let (j, fy) = cell(p[1], grid.beta, n);
    let (wx, dwx) = catmull_rom(fx);
    let (wy, dwy) = catmull_rom(fy);
    let at = |i: isize, j: isize| {
        let i = i.clamp(0, n as isize - 1) as usize;
        let j = j.clamp(0, n as isize - 1) as usize;
        grid.loss[j * n + i]
    };
    let (mut value, mut dx, mut dy) = (0.0, 0.0, 0.0);
    for (b, (&wyb, &dwyb)) in wy.iter().zip(&dwy).enumerate() {
        let (mut row, mut drow) = (0.0, 0.0);
        for (a, (&wxa, &dwxa)) in wx.iter().zip(&dwx).enumerate() {
            let v = at(i as isize + a as isize - 1, j as isize + b as isize - 1);
            row += wxa * v;
            drow += dwxa * v;
        }
        value += wyb * row;
        dx += wyb * drow;
        dy += dwyb * row;
    }
    // per grid step to per unit of α, β
    let sx = (n - 1) as f64 / (grid.alpha[1] - grid.alpha[0]);
    let sy = (n - 1) as f64 / (grid.beta[1] - grid.beta[0]);
    (value, [dx * sx, dy * sy])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_of(f: impl Fn(f64, f64) -> f64, n: usize) -> SliceGrid {
        let mut loss = Vec::new();
        for j in 0..n {
            for i in 0..n {
                let a = -1.0 + 2.0 * i as f64 / (n - 1) as f64;
                let b = -2.0 + 4.0 * j as f64 / (n - 1) as f64;
                loss.push(f(a, b));
            }
        }
        SliceGrid {
            size: n,
            alpha: [-1.0, 1.0],
            beta: [-2.0, 2.0],
            loss,
            undefined: 0,
            level: 0,
            levels: 1,
        }
    }

    #[test]
    fn interpolates_grid_points_and_quadratics_with_their_gradient() {
        // Catmull–Rom reproduces quadratics exactly away from the edges, gradient included
        let f = |a: f64, b: f64| 1.0 + 0.5 * a - 0.25 * b + a * a + 0.3 * a * b + 0.2 * b * b;
        let g = grid_of(f, 21);
        for &(a, b) in &[(0.13, -0.41), (-0.52, 0.77), (0.3, 0.0)] {
            let (v, grad) = bicubic(&g, [a, b]);
            assert!((v - f(a, b)).abs() < 1e-12, "{v} vs {}", f(a, b));
            assert!((grad[0] - (0.5 + 2.0 * a + 0.3 * b)).abs() < 1e-10);
            assert!((grad[1] - (-0.25 + 0.3 * a + 0.4 * b)).abs() < 1e-10);
        }
        // grid points exactly, edges included
        let (v, _) = bicubic(&g, [1.0, 2.0]);
        assert!((v - f(1.0, 2.0)).abs() < 1e-12);
        let (v, _) = bicubic(&g, [-1.0, -2.0]);
        assert!((v - f(-1.0, -2.0)).abs() < 1e-12);
        // outside: the edge, never a panic
        assert!(bicubic(&g, [5.0, -9.0]).0.is_finite());
        assert!(bicubic(&g, [f64::NAN, 0.0]).0.is_finite());
    }
}
