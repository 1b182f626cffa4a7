//! The gradient field on the top view: a grid of small `-∇L` arrows (the way every ball would be pushed),
//! on grid lines at a round spacing in param units so panning does not make them shimmer. The gradients
//! are sampled again only when the landscape or the visible area changes; each frame only projects them.

use bevy_egui::egui;

use super::arrows::Projector;
use crate::core::{Landscape, Vec2d};
use crate::paint::{nice_step, ticks};

/// About this many egui points between neighbouring arrows.
pub const SPACING_POINTS: f32 = 42.0;
/// Colour of the field arrows: light and translucent, under the balls' own arrows.
pub const FIELD_COLOR: egui::Color32 = egui::Color32::from_rgba_premultiplied(200, 200, 200, 170);

/// Sampled field: grid points with their descent direction `-∇L`.
#[derive(Default, Debug, Clone)]
pub struct FieldSamples {
    key: Option<FieldKey>,
    /// `(param point, -∇L there)`.
    pub samples: Vec<(Vec2d, Vec2d)>,
    /// log10 of the smallest and largest `|∇L|` among the samples (3 decades at most).
    pub log_range: [f64; 2],
    /// Grid spacing in param units.
    pub spacing: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct FieldKey {
    landscape: usize,
    lo: [u64; 2],
    hi: [u64; 2],
    step: u64,
}

impl FieldSamples {
    /// Samples `landscape` on a grid over the param rectangle `[lo, hi]`, about `spacing` param units
    /// apart (rounded to 1, 2 or 5 times a power of ten); does nothing when that is what it holds.
    pub fn update(&mut self, landscape: &Landscape, lo: Vec2d, hi: Vec2d, spacing: f64) {
        let (lo, hi) = (
            [lo[0].min(hi[0]), lo[1].min(hi[1])],
            [lo[0].max(hi[0]), lo[1].max(hi[1])],
        );
        let step = nice_step(spacing, 1.0);
        if !(step.is_finite() && step > 0.0) {
            return;
        }
        let key = FieldKey {
            landscape: landscape as *const Landscape as usize,
            lo: [lo[0].to_bits(), lo[1].to_bits()],
            hi: [hi[0].to_bits(), hi[1].to_bits()],
            step: step.to_bits(),
        };
        if self.key == Some(key) {
            return;
        }
        self.key = Some(key);
        self.spacing = step;
        self.samples.clear();
        let (xs, ys) = (ticks(lo[0], hi[0], step), ticks(lo[1], hi[1], step));
        let mut logs = Vec::with_capacity(xs.len() * ys.len());
        for &y in &ys {
            for &x in &xs {
                let g = landscape.gradient([x, y]);
                let n = (g[0] * g[0] + g[1] * g[1]).sqrt();
                if n.is_finite() && n > 0.0 {
                    self.samples.push(([x, y], [-g[0], -g[1]]));
                    logs.push(n.log10());
                }
            }
        }
        let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = logs.iter().copied().fold(f64::INFINITY, f64::min);
        self.log_range = [min.max(max - 3.0), max];
    }

    /// Arrow length as a fraction of the spacing: 0.3 for the weakest gradient in view, 0.85 for the
    /// strongest (log scale).
    pub fn length_fraction(&self, v: Vec2d) -> f32 {
        let n = (v[0] * v[0] + v[1] * v[1]).sqrt().log10();
        let [a, b] = self.log_range;
        let t = if b > a {
            ((n - a) / (b - a)).clamp(0.0, 1.0)
        } else {
            1.0
        };
        (0.3 + 0.55 * t) as f32
    }
}

/// Draws the field's arrows (thin, no outline) in the top view.
pub fn draw_field(painter: &egui::Painter, proj: &Projector, field: &FieldSamples) {
    let (Some(a), Some(b)) = (proj.screen([0.0, 0.0]), proj.screen([field.spacing, 0.0])) else {
        return;
    };
    let spacing_points = (b - a).length();
    if !(spacing_points.is_finite() && spacing_points > 4.0) {
        return;
    }
    let stroke = egui::Stroke::new(1.5, FIELD_COLOR);
    for &(p, v) in &field.samples {
        let (Some(s), Some(dir)) = (proj.screen(p), proj.direction(p, v)) else {
            continue;
        };
        let len = field.length_fraction(v) * spacing_points;
        let tail = s - dir * (0.5 * len);
        let tip = s + dir * (0.5 * len);
        let normal = egui::vec2(-dir.y, dir.x);
        let head = (0.3 * len).min(7.0);
        painter.line_segment([tail, tip], stroke);
        painter.line_segment([tip, tip - dir * head + normal * 0.5 * head], stroke);
        painter.line_segment([tip, tip - dir * head - normal * 0.5 * head], stroke);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::LandscapeSpec;

    #[test]
    fn samples_point_downhill_and_are_kept_until_the_view_changes() {
        let l = Landscape::new(LandscapeSpec::from_name("bowl").unwrap()).unwrap();
        let mut f = FieldSamples::default();
        f.update(&l, [-2.0, -2.0], [2.0, 2.0], 0.4);
        assert!(f.samples.len() >= 50, "{}", f.samples.len());
        for &(p, v) in &f.samples {
            // one small step along the arrow lowers the loss
            let q = [p[0] + 1e-4 * v[0], p[1] + 1e-4 * v[1]];
            assert!(l.value(q) < l.value(p), "at {p:?}");
            let frac = f.length_fraction(v);
            assert!((0.3..=0.85 + 1e-6).contains(&frac));
        }
        let first = f.samples.clone();
        f.samples.clear();
        f.update(&l, [-2.0, -2.0], [2.0, 2.0], 0.4);
        assert!(f.samples.is_empty(), "resampled without a change");
        f.update(&l, [-1.0, -2.0], [2.0, 2.0], 0.4);
        assert!(!f.samples.is_empty() && f.samples != first);
    }
}
