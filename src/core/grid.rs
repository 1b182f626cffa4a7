//! Surface sampling: the landscape on an `n x n` vertex grid, for the app's mesh and the benchmark.
//!
//! Pure numbers, no Bevy: the app turns [`SurfaceGrid`] into a mesh (heights normalised there). Every
//! value is finite (huge losses are clamped to `+-GRID_CLAMP`) so a mesh never gets NaN. Where the loss
//! is not finite (a typed formula's `ln` of a negative number, a pole) the vertex is marked in
//! [`SurfaceGrid::undefined`], holds the lowest defined loss, and is left out of the ranges: the mesh
//! leaves a gap there.

use serde::{Deserialize, Serialize};

use super::error::CoreError;
use super::landscape::{Domain, Landscape};

/// Largest grid resolution (vertices per side).
pub const MAX_RESOLUTION: usize = 1024;

/// Largest magnitude stored in a grid (f32 has room to spare: `max - min` cannot overflow).
pub const GRID_CLAMP: f32 = 1e30;

/// How loss becomes height.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HeightMode {
    /// `height = L`.
    #[default]
    Linear,
    /// `height = ln(1 + L - min L)`, with `min L` the smallest loss on the grid: shows valleys of
    /// landscapes whose loss spans orders of magnitude (see [`Landscape::log_height_recommended`]).
    Log,
}

/// The sampled surface. Vertex `(i, j)` is at index `j * resolution + i`, param
/// `x = domain.x[0] + i / (n - 1) * width`, `y = domain.y[0] + j / (n - 1) * height`.
#[derive(Clone, Debug, PartialEq)]
pub struct SurfaceGrid {
    /// Vertices per side `n`.
    pub resolution: usize,
    /// The param rectangle covered.
    pub domain: Domain,
    /// Loss at each vertex.
    pub loss: Vec<f32>,
    /// Height at each vertex (see [`HeightMode`]).
    pub height: Vec<f32>,
    /// `(d height / d x, d height / d y)` at each vertex, in height units per param unit (analytic: the
    /// landscape gradient, times `1 / (1 + L - min L)` in log mode).
    pub normal_slope: Vec<[f32; 2]>,
    /// `[min, max]` of `loss` over the defined vertices (`[0, 0]` when none is).
    pub loss_range: [f32; 2],
    /// `[min, max]` of `height` over the defined vertices (`[0, 0]` when none is).
    pub height_range: [f32; 2],
    /// Whether the loss at each vertex is undefined (NaN or infinite); such a vertex's loss and height
    /// are the lowest defined ones and its slope 0. Draw no triangle that touches one.
    pub undefined: Vec<bool>,
    /// How many vertices are undefined (0 for every built-in landscape).
    pub undefined_count: usize,
}

fn clamp_finite(v: f64) -> f32 {
    if v.is_nan() {
        0.0
    } else {
        (v as f32).clamp(-GRID_CLAMP, GRID_CLAMP)
    }
}

impl SurfaceGrid {
    /// Samples `landscape` over its domain at `resolution x resolution` vertices, the resolution clamped
    /// into `2..=1024` ([`Self::try_sample`] refuses instead).
    pub fn sample(landscape: &Landscape, resolution: usize, mode: HeightMode) -> Self {
        Self::sample_clamped(landscape, resolution.clamp(2, MAX_RESOLUTION), mode)
    }

    /// [`Self::sample`], but a resolution outside `2..=1024` is an error.
    pub fn try_sample(
        landscape: &Landscape,
        resolution: usize,
        mode: HeightMode,
    ) -> Result<Self, CoreError> {
        if !(2..=MAX_RESOLUTION).contains(&resolution) {
            return Err(CoreError::InvalidResolution(resolution));
        }
        Ok(Self::sample_clamped(landscape, resolution, mode))
    }

    fn sample_clamped(landscape: &Landscape, n: usize, mode: HeightMode) -> Self {
        let domain = landscape.domain();
        let mut loss = Vec::with_capacity(n * n);
        let mut normal_slope = Vec::with_capacity(n * n);
        let mut undefined = Vec::with_capacity(n * n);
        let mut min_loss = f64::INFINITY;
        let last = (n - 1) as f64;
        let xs: Vec<f64> = (0..n)
            .map(|i| domain.x[0] + i as f64 / last * domain.width())
            .collect();
        let mut row = Vec::with_capacity(n);
        for j in 0..n {
            let y = domain.y[0] + j as f64 / last * domain.height();
            landscape.value_and_gradient_row(&xs, y, &mut row);
            for &(l, g) in &row {
                let defined = l.is_finite();
                if defined && l < min_loss {
                    min_loss = l;
                }
                undefined.push(!defined);
                loss.push(if defined { clamp_finite(l) } else { 0.0 });
                normal_slope.push(if defined {
                    [clamp_finite(g[0]), clamp_finite(g[1])]
                } else {
                    [0.0, 0.0]
                });
            }
        }
        let undefined_count = undefined.iter().filter(|&&u| u).count();
        if undefined_count > 0 {
            let fill = if min_loss.is_finite() {
                clamp_finite(min_loss)
            } else {
                0.0
            };
            for (l, &u) in loss.iter_mut().zip(&undefined) {
                if u {
                    *l = fill;
                }
            }
        }
        let height = match mode {
            HeightMode::Linear => loss.clone(),
            // h = ln(1 + L - min L); dh/dx = (dL/dx) / (1 + L - min L). Computed from the stored f32
            // loss: the result is f32 anyway.
            HeightMode::Log => {
                let min_loss = if min_loss.is_finite() { min_loss } else { 0.0 };
                loss.iter()
                    .zip(&mut normal_slope)
                    .map(|(&l, slope)| {
                        let shifted = 1.0 + (f64::from(l) - min_loss).max(0.0);
                        for s in slope.iter_mut() {
                            *s = clamp_finite(f64::from(*s) / shifted);
                        }
                        clamp_finite(shifted.ln())
                    })
                    .collect()
            }
        };
        Self {
            resolution: n,
            domain,
            loss_range: range(&loss, &undefined),
            height_range: range(&height, &undefined),
            loss,
            height,
            normal_slope,
            undefined,
            undefined_count,
        }
    }

    /// The loss between the vertices, interpolated bilinearly from the four around `p` (clamped into the
    /// domain): the surface as the mesh draws it, cheaper than evaluating the landscape.
    pub fn loss_at(&self, p: [f64; 2]) -> f32 {
        let n = self.resolution;
        let last = (n - 1) as f64;
        let u = ((p[0] - self.domain.x[0]) / self.domain.width() * last).clamp(0.0, last);
        let v = ((p[1] - self.domain.y[0]) / self.domain.height() * last).clamp(0.0, last);
        let u = if u.is_finite() { u } else { 0.0 };
        let v = if v.is_finite() { v } else { 0.0 };
        let (i, j) = ((u as usize).min(n - 2), (v as usize).min(n - 2));
        let (fu, fv) = ((u - i as f64) as f32, (v - j as f64) as f32);
        let at = |i: usize, j: usize| self.loss[j * n + i];
        let bottom = at(i, j) + (at(i + 1, j) - at(i, j)) * fu;
        let top = at(i, j + 1) + (at(i + 1, j + 1) - at(i, j + 1)) * fu;
        bottom + (top - bottom) * fv
    }

    /// Param position of vertex `(i, j)`.
    pub fn position(&self, i: usize, j: usize) -> [f64; 2] {
        let n = (self.resolution - 1) as f64;
        [
            self.domain.x[0] + i as f64 / n * self.domain.width(),
            self.domain.y[0] + j as f64 / n * self.domain.height(),
        ]
    }
}

/// `[min, max]` of the defined values; `[0, 0]` when there are none.
fn range(values: &[f32], undefined: &[bool]) -> [f32; 2] {
    let [lo, hi] = values
        .iter()
        .zip(undefined)
        .filter(|(_, u)| !**u)
        .fold([f32::INFINITY, f32::NEG_INFINITY], |[lo, hi], (&v, _)| {
            [lo.min(v), hi.max(v)]
        });
    if lo <= hi { [lo, hi] } else { [0.0, 0.0] }
}
