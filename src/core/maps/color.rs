//! Maps as pixels: RGBA8, one pixel per cell, row-major, the **top** row first (the cells with the
//! largest second-axis value: η or y grows to the right, the other parameter or y upwards, as on a
//! plot). Shared by the app's textures and `losscape sweep/basins --out FILE.png`.
//!
//! - Sweeps: the metric through a [`Colormap`] ([`SweepMap::color_scale`] gives the range for a colour
//!   bar); diverged cells [`DIVERGED`], cells that never reached a `steps-to-*` tolerance [`NEVER`].
//! - Basins: one hue per minimum (golden-angle steps around the colour wheel, so neighbours in the list
//!   differ most), darker the more steps the run took; diverged [`DIVERGED`], unfinished [`UNFINISHED`].

use super::basins::{BasinCell, BasinMap};
use super::sweep::{SweepCell, SweepMap, SweepMetric};
use crate::core::scene::Colormap;

/// Diverged cells: a light grey none of the colormaps or basin hues produce.
pub const DIVERGED: [u8; 3] = [236, 236, 236];
/// Sweep cells that never met a `steps-to-*` tolerance: a mid grey.
pub const NEVER: [u8; 3] = [128, 128, 128];
/// Basin cells that neither diverged nor reached a minimum: a dark grey.
pub const UNFINISHED: [u8; 3] = [72, 72, 72];
/// Losses below this are drawn as this (log scale of `final-loss`: exact zeros have no logarithm).
pub const LOSS_FLOOR: f64 = 1e-16;

/// The cell `(i, j)` of an `nx` x `ny` map under a point of its picture given as fractions of its
/// width (`u`, from the left) and height (`v`, from the top), both in 0..=1.
pub fn cell_index(u: f64, v: f64, nx: usize, ny: usize) -> Option<(usize, usize)> {
    if !((0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v)) || nx == 0 || ny == 0 {
        return None;
    }
    let i = ((u * nx as f64) as usize).min(nx - 1);
    let row = ((v * ny as f64) as usize).min(ny - 1);
    Some((i, ny - 1 - row))
}

/// How metric values map to 0..=1 along a colormap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColorScale {
    /// The value at 0 (for `log`, the value itself, not its logarithm).
    pub lo: f64,
    /// The value at 1.
    pub hi: f64,
    /// Whether values are placed by their `log10`.
    pub log: bool,
}

impl ColorScale {
    /// Where `value` falls, clamped to 0..=1 (0.5 when the range is a single value).
    pub fn t(&self, value: f64) -> f32 {
        let f = |v: f64| {
            if self.log {
                v.max(LOSS_FLOOR).log10()
            } else {
                v
            }
        };
        let (lo, hi) = (f(self.lo), f(self.hi));
        if hi <= lo {
            return 0.5;
        }
        ((f(value) - lo) / (hi - lo)).clamp(0.0, 1.0) as f32
    }

    /// The value at `t` (for the labels of a colour bar).
    pub fn value_at(&self, t: f64) -> f64 {
        if self.log {
            let (lo, hi) = (
                self.lo.max(LOSS_FLOOR).log10(),
                self.hi.max(LOSS_FLOOR).log10(),
            );
            10f64.powf(lo + t * (hi - lo))
        } else {
            self.lo + t * (self.hi - self.lo)
        }
    }
}

/// `[r, g, b]` plus alpha.
fn rgba([r, g, b]: [u8; 3], alpha: u8) -> [u8; 4] {
    [r, g, b, alpha]
}

/// Lays out `nx` x `ny` cells as pixels, top row (largest `j`) first.
fn pixels(nx: usize, ny: usize, mut color: impl FnMut(usize, usize) -> [u8; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nx * ny * 4);
    for row in 0..ny {
        let j = ny - 1 - row;
        for i in 0..nx {
            out.extend_from_slice(&color(i, j));
        }
    }
    out
}

impl SweepMap {
    /// The range of the metric over the cells that have a value: final loss on a log scale (floored
    /// at [`LOSS_FLOOR`]); steps from 0 to K; `diverged` from 0 to 1.
    pub fn color_scale(&self) -> ColorScale {
        match self.spec.metric {
            SweepMetric::FinalLoss => {
                let (lo, hi) = self
                    .cells
                    .iter()
                    .filter_map(|c| self.metric_value(c))
                    .map(|v| v.max(LOSS_FLOOR))
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    });
                if lo.is_finite() {
                    ColorScale { lo, hi, log: true }
                } else {
                    ColorScale {
                        lo: LOSS_FLOOR,
                        hi: 1.0,
                        log: true,
                    }
                }
            }
            SweepMetric::StepsToLoss(_) | SweepMetric::StepsToGrad(_) => ColorScale {
                lo: 0.0,
                hi: self.spec.steps as f64,
                log: false,
            },
            SweepMetric::Diverged => ColorScale {
                lo: 0.0,
                hi: 1.0,
                log: false,
            },
        }
    }

    /// One cell's colour under `scale` (from [`Self::color_scale`]), opaque.
    pub fn cell_rgba(&self, cell: &SweepCell, scale: &ColorScale, colormap: Colormap) -> [u8; 4] {
        if cell.end.diverged() {
            return rgba(DIVERGED, 255);
        }
        match self.metric_value(cell) {
            Some(value) => rgba(colormap.rgb8(scale.t(value)), 255),
            None => rgba(NEVER, 255),
        }
    }

    /// The whole map as RGBA8, `x.count` x `y.count` pixels, top row first.
    pub fn to_rgba(&self, colormap: Colormap) -> Vec<u8> {
        let scale = self.color_scale();
        let (nx, ny) = (self.spec.x.count, self.spec.y.count);
        pixels(nx, ny, |i, j| {
            self.cell(i, j)
                .map_or([0; 4], |c| self.cell_rgba(c, &scale, colormap))
        })
    }
}

/// The hue of minimum `k`, full brightness: golden-angle steps from orange-red.
pub fn minimum_rgb(k: usize) -> [u8; 3] {
    let hue = (0.02 + k as f64 * 0.381_966) % 1.0;
    hsv(hue, 0.75, 0.95)
}

/// A basin cell's colour: its minimum's hue, darker the more of the `steps` (K) it took (full
/// brightness at 0 steps, 40 % at K); [`DIVERGED`] or [`UNFINISHED`] otherwise. Works on cells of a
/// map still being computed (only known minima are set there).
pub fn basin_cell_rgba(cell: &BasinCell, steps: u64, alpha: u8) -> [u8; 4] {
    if cell.end.diverged() {
        return rgba(DIVERGED, alpha);
    }
    let Some(k) = cell.minimum else {
        return rgba(UNFINISHED, alpha);
    };
    let took = (cell.end.steps as f64 / steps.max(1) as f64).clamp(0.0, 1.0);
    let shade = 1.0 - 0.6 * took;
    rgba(
        minimum_rgb(k).map(|c| (f64::from(c) * shade).round() as u8),
        alpha,
    )
}

impl BasinMap {
    /// The whole map as RGBA8 with the given alpha (the app draws it translucent over the top view),
    /// `grid[0]` x `grid[1]` pixels, top row (largest y) first.
    pub fn to_rgba(&self, alpha: u8) -> Vec<u8> {
        let [nx, ny] = self.spec.grid;
        pixels(nx, ny, |i, j| {
            self.cell(i, j)
                .map_or([0; 4], |c| basin_cell_rgba(c, self.spec.steps, alpha))
        })
    }
}

/// HSV (all in 0..=1) to 8-bit sRGB.
fn hsv(h: f64, s: f64, v: f64) -> [u8; 3] {
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let c = v * s;
    let x = c * (1.0 - (h6 % 2.0 - 1.0).abs());
    let (r, g, b) = match h6 as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r, g, b].map(|ch| ((ch + m) * 255.0).round() as u8)
}

/// Each pixel of a `width` x `height` RGBA8 image as a `factor` x `factor` block (nearest neighbour),
/// for pictures larger than one pixel per cell.
pub fn upscale(rgba: &[u8], width: usize, height: usize, factor: usize) -> Vec<u8> {
    let factor = factor.max(1);
    let mut out = Vec::with_capacity(rgba.len() * factor * factor);
    for row in 0..height {
        let line = &rgba[row * width * 4..(row + 1) * width * 4];
        let mut wide = Vec::with_capacity(line.len() * factor);
        for px in line.chunks_exact(4) {
            for _ in 0..factor {
                wide.extend_from_slice(px);
            }
        }
        for _ in 0..factor {
            out.extend_from_slice(&wide);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picture_rows_run_top_down() {
        assert_eq!(cell_index(0.0, 0.0, 4, 3), Some((0, 2)));
        assert_eq!(cell_index(1.0, 1.0, 4, 3), Some((3, 0)));
        assert_eq!(cell_index(1.1, 0.5, 4, 3), None);
        let px = pixels(2, 2, |i, j| [i as u8, j as u8, 0, 255]);
        assert_eq!(&px[..8], &[0, 1, 0, 255, 1, 1, 0, 255]);
    }

    #[test]
    fn minimum_hues_differ_and_avoid_the_greys() {
        let hues: Vec<_> = (0..8).map(minimum_rgb).collect();
        for (a, ca) in hues.iter().enumerate() {
            for cb in &hues[a + 1..] {
                assert_ne!(ca, cb);
            }
            for grey in [DIVERGED, NEVER, UNFINISHED] {
                assert_ne!(*ca, grey);
            }
        }
        assert_eq!(upscale(&[1, 2, 3, 4], 1, 1, 2), [1, 2, 3, 4].repeat(4));
    }
}
