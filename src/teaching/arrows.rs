//! Arrows at each ball, drawn with egui over the views so they stay crisp and constant-width at any
//! zoom: the negative gradient `-∇L(θ)`, the momentum / first moment `V`, the step just taken `Δθ`
//! (ending at the ball), and a box whose sides are `√s` per coordinate (`√s_hat` for Adam) for the
//! adaptive methods. Each vector is projected through the view's camera: its on-screen direction is that
//! of the param-space vector (following the surface in 3D), its on-screen length is log-scaled
//! ([`screen_length`]) so both tiny and huge magnitudes stay readable; the legend says so.

use bevy::prelude::*;
use bevy_egui::egui;

use super::TeachingAids;
use super::timeline::StepView;
use crate::core::{Landscape, Vec2d};
use crate::geometry::{BALL_RADIUS, SurfaceFrame, ViewKind, top_overlay_y};

/// On-screen length (egui points) of a vector whose magnitude equals the reference.
pub const MID_LENGTH: f32 = 50.0;
/// Extra on-screen length per factor of 10 in magnitude.
pub const PER_DECADE: f32 = 25.0;
/// Shortest and longest arrows (egui points); a zero vector draws nothing.
pub const LENGTH_RANGE: (f32, f32) = (10.0, 150.0);

/// `-∇L` arrow colour.
pub const GRADIENT_COLOR: egui::Color32 = egui::Color32::from_rgb(255, 230, 64);
/// `V` arrow colour.
pub const VELOCITY_COLOR: egui::Color32 = egui::Color32::from_rgb(156, 255, 87);
/// `Δθ` arrow colour.
pub const STEP_COLOR: egui::Color32 = egui::Color32::from_rgb(255, 125, 255);

/// On-screen length of a vector of `magnitude` where `reference` draws [`MID_LENGTH`]:
/// `MID_LENGTH + PER_DECADE · log10(magnitude / reference)`, clamped to [`LENGTH_RANGE`];
/// 0 for a zero, negative or non-finite magnitude.
pub fn screen_length(magnitude: f64, reference: f64) -> f32 {
    if !(magnitude.is_finite() && magnitude > 0.0 && reference.is_finite() && reference > 0.0) {
        return 0.0;
    }
    let len = MID_LENGTH + PER_DECADE * (magnitude / reference).log10() as f32;
    len.clamp(LENGTH_RANGE.0, LENGTH_RANGE.1)
}

/// Reference magnitudes for the arrow lengths on one landscape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArrowScale {
    /// Gradient units (`-∇L`, `V`, `√s`): the median gradient norm over a 16×16 grid of the domain.
    pub gradient: f64,
    /// Param units (`Δθ`): 1 % of the domain's longer side.
    pub step: f64,
}

impl ArrowScale {
    /// The scale for `landscape` (256 gradient evaluations; computed once per landscape).
    pub fn of(landscape: &Landscape) -> Self {
        let d = landscape.domain();
        let n = 16;
        let mut norms: Vec<f64> = (0..n * n)
            .map(|i| {
                let (a, b) = ((i % n) as f64 + 0.5, (i / n) as f64 + 0.5);
                let p = [
                    d.x[0] + a / n as f64 * (d.x[1] - d.x[0]),
                    d.y[0] + b / n as f64 * (d.y[1] - d.y[0]),
                ];
                let g = landscape.gradient(p);
                (g[0] * g[0] + g[1] * g[1]).sqrt()
            })
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect();
        norms.sort_by(f64::total_cmp);
        let gradient = norms.get(norms.len() / 2).copied().unwrap_or(1.0);
        let width = (d.x[1] - d.x[0]).max(d.y[1] - d.y[0]);
        Self {
            gradient,
            step: (0.01 * width).max(1e-12),
        }
    }
}

/// Projects param points of one view to egui points.
pub struct Projector<'a> {
    pub view: ViewKind,
    pub camera: &'a Camera,
    pub transform: &'a GlobalTransform,
    pub frame: &'a SurfaceFrame,
    pub landscape: &'a Landscape,
    /// Logical window pixels per egui point.
    pub scale: f32,
}

impl Projector<'_> {
    /// World point of a param point: on the surface in 3D, on the overlay plane in the top view.
    pub fn world(&self, p: Vec2d) -> Vec3 {
        match self.view {
            // at the ball's centre
            ViewKind::ThreeD => {
                self.frame.world_point(p, self.landscape.value(p)) + Vec3::Y * BALL_RADIUS
            }
            ViewKind::Top => {
                let xz = self.frame.param_to_xz(p);
                Vec3::new(xz.x, top_overlay_y(self.frame), xz.y)
            }
        }
    }

    /// The egui position of a param point, if it is in front of the camera.
    pub fn screen(&self, p: Vec2d) -> Option<egui::Pos2> {
        let s = self
            .camera
            .world_to_viewport(self.transform, self.world(p))
            .ok()?;
        s.is_finite()
            .then(|| egui::pos2(s.x / self.scale, s.y / self.scale))
    }

    /// The on-screen unit direction of a param-space direction `u` at `p` (tangent to the surface in 3D).
    pub fn direction(&self, p: Vec2d, u: Vec2d) -> Option<egui::Vec2> {
        let n = (u[0] * u[0] + u[1] * u[1]).sqrt();
        if !(n.is_finite() && n > 0.0) {
            return None;
        }
        let d = self.frame.domain;
        let h = 1e-3 * (d.x[1] - d.x[0]).max(d.y[1] - d.y[0]);
        let q = [p[0] + h * u[0] / n, p[1] + h * u[1] / n];
        let v = self.screen(q)? - self.screen(p)?;
        let len = v.length();
        (len.is_finite() && len > 1e-6).then(|| v / len)
    }
}

/// An arrow from `from` to `to` with a dark outline and a filled head.
pub fn arrow(painter: &egui::Painter, from: egui::Pos2, to: egui::Pos2, color: egui::Color32) {
    let v = to - from;
    let len = v.length();
    if len < 1.0 {
        return;
    }
    let dir = v / len;
    let normal = egui::vec2(-dir.y, dir.x);
    let head = 10.0f32.min(0.5 * len);
    let base = to - dir * head;
    let outline = egui::Color32::from_black_alpha(200);
    painter.line_segment([from, base], egui::Stroke::new(5.0, outline));
    painter.line_segment([from, base], egui::Stroke::new(2.5, color));
    let tri = vec![to, base + normal * 0.55 * head, base - normal * 0.55 * head];
    painter.add(egui::Shape::convex_polygon(
        tri,
        color,
        egui::Stroke::new(1.2, outline),
    ));
}

/// The param-space vectors drawn at one ball, with `view.record.pos` as the ball.
pub struct BallArrows {
    pub ball: Vec2d,
    /// `-∇L(θ_k)`, exact.
    pub neg_gradient: Vec2d,
    /// `V` after step `k` (None for kinds without momentum).
    pub velocity: Option<Vec2d>,
    /// `θ_k - θ_{k-1}` (None at the start).
    pub step: Option<Vec2d>,
    /// `√s` (`√s_hat` for Adam) per coordinate (None for kinds without it).
    pub root_s: Option<Vec2d>,
}

impl BallArrows {
    /// The vectors of a run at its displayed step; `previous` is the position one step earlier.
    pub fn of(view: &StepView, previous: Option<Vec2d>) -> Self {
        let r = &view.record;
        let s = view.last.as_ref().map_or(view.state.s, |l| l.detail.s_hat);
        Self {
            ball: r.pos,
            neg_gradient: [-r.grad[0], -r.grad[1]],
            velocity: view.kind.uses_beta_m().then_some(view.state.v),
            step: previous.map(|q| [r.pos[0] - q[0], r.pos[1] - q[1]]),
            root_s: view
                .kind
                .is_adaptive()
                .then(|| [s[0].max(0.0).sqrt(), s[1].max(0.0).sqrt()]),
        }
    }
}

fn norm(v: Vec2d) -> f64 {
    (v[0] * v[0] + v[1] * v[1]).sqrt()
}

/// Draws the enabled aids for one ball in one view; `color` is the optimizer's own (for the `√s` box).
pub fn draw_ball_arrows(
    painter: &egui::Painter,
    proj: &Projector,
    arrows: &BallArrows,
    aids: &TeachingAids,
    scale: &ArrowScale,
    color: egui::Color32,
) {
    let Some(origin) = proj.screen(arrows.ball) else {
        return;
    };
    if aids.second_moment
        && let Some(rs) = arrows.root_s
    {
        // a parallelogram along the on-screen param axes, side i = the arrow length of √s_i
        let ex = proj.direction(arrows.ball, [1.0, 0.0]);
        let ey = proj.direction(arrows.ball, [0.0, 1.0]);
        if let (Some(ex), Some(ey)) = (ex, ey) {
            let a = 0.5 * screen_length(rs[0], scale.gradient);
            let b = 0.5 * screen_length(rs[1], scale.gradient);
            if a > 0.0 || b > 0.0 {
                let corners = vec![
                    origin + ex * a + ey * b,
                    origin - ex * a + ey * b,
                    origin - ex * a - ey * b,
                    origin + ex * a - ey * b,
                ];
                painter.add(egui::Shape::closed_line(
                    corners.clone(),
                    egui::Stroke::new(4.0, egui::Color32::from_black_alpha(170)),
                ));
                painter.add(egui::Shape::convex_polygon(
                    corners,
                    color.gamma_multiply(0.18),
                    egui::Stroke::new(2.0, color),
                ));
            }
        }
    }
    let draw = |on: bool, v: Option<Vec2d>, reference: f64, c: egui::Color32, ends_here: bool| {
        let Some(v) = v.filter(|_| on) else {
            return;
        };
        let len = screen_length(norm(v), reference);
        let Some(dir) = proj.direction(arrows.ball, v).filter(|_| len > 0.0) else {
            return;
        };
        if ends_here {
            arrow(painter, origin - dir * len, origin, c);
        } else {
            arrow(painter, origin, origin + dir * len, c);
        }
    };
    draw(aids.step, arrows.step, scale.step, STEP_COLOR, true);
    draw(
        aids.velocity,
        arrows.velocity,
        scale.gradient,
        VELOCITY_COLOR,
        false,
    );
    draw(
        aids.gradient,
        Some(arrows.neg_gradient),
        scale.gradient,
        GRADIENT_COLOR,
        false,
    );
}

/// The colour key and the length rule, in a corner of a view.
pub fn draw_legend(painter: &egui::Painter, corner: egui::Pos2, aids: &TeachingAids) {
    let mut rows: Vec<(Option<egui::Color32>, &str)> = Vec::new();
    if aids.gradient {
        rows.push((Some(GRADIENT_COLOR), "-∇L(θ)  negative gradient"));
    }
    if aids.velocity {
        rows.push((Some(VELOCITY_COLOR), "V       momentum / 1st moment"));
    }
    if aids.step {
        rows.push((Some(STEP_COLOR), "Δθ      step just taken (to the ball)"));
    }
    if aids.second_moment {
        rows.push((None, "box     √s per coordinate (Adam: √s_hat)"));
    }
    if rows.is_empty() {
        return;
    }
    let boxes = rows.len();
    rows.push((None, "length  log scale: 50 px = typical |∇L|"));
    rows.push((None, "        (Δθ: 1% of domain), +25 px per ×10"));
    // monospace: the proportional font has no ∇
    let font = egui::FontId::monospace(13.0);
    let row_h = 17.0;
    let widest = rows
        .iter()
        .map(|(_, text)| {
            painter
                .layout_no_wrap(text.to_string(), font.clone(), egui::Color32::WHITE)
                .size()
                .x
        })
        .fold(0.0, f32::max);
    let width = widest + 50.0;
    let height = row_h * rows.len() as f32 + 8.0;
    let rect =
        egui::Rect::from_min_size(corner - egui::vec2(0.0, height), egui::vec2(width, height));
    painter.rect_filled(rect, 4.0, egui::Color32::from_black_alpha(170));
    for (i, (color, text)) in rows.iter().enumerate() {
        let y = rect.min.y + 4.0 + row_h * (i as f32 + 0.5);
        let x = rect.min.x + 8.0;
        match color {
            Some(c) => arrow(painter, egui::pos2(x, y), egui::pos2(x + 30.0, y), *c),
            None if i < boxes => {
                painter.rect_stroke(
                    egui::Rect::from_center_size(egui::pos2(x + 15.0, y), egui::vec2(22.0, 11.0)),
                    0.0,
                    egui::Stroke::new(2.0, egui::Color32::from_gray(220)),
                    egui::StrokeKind::Middle,
                );
            }
            None => {}
        }
        painter.text(
            egui::pos2(x + 40.0, y),
            egui::Align2::LEFT_CENTER,
            *text,
            font.clone(),
            egui::Color32::from_gray(235),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_log_scaled_and_clamped() {
        assert_eq!(screen_length(1.0, 1.0), MID_LENGTH);
        assert!((screen_length(10.0, 1.0) - (MID_LENGTH + PER_DECADE)).abs() < 1e-4);
        assert!((screen_length(0.1, 1.0) - (MID_LENGTH - PER_DECADE)).abs() < 1e-4);
        assert_eq!(screen_length(1e-30, 1.0), LENGTH_RANGE.0);
        assert_eq!(screen_length(1e30, 1.0), LENGTH_RANGE.1);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(screen_length(bad, 1.0), 0.0);
        }
        assert_eq!(screen_length(1.0, 0.0), 0.0);
    }

    #[test]
    fn scale_is_positive_on_every_landscape() {
        for name in crate::core::LandscapeSpec::NAMES {
            let l = Landscape::new(crate::core::LandscapeSpec::from_name(name).unwrap()).unwrap();
            let s = ArrowScale::of(&l);
            assert!(s.gradient > 0.0 && s.gradient.is_finite(), "{name}");
            assert!(s.step > 0.0, "{name}");
        }
    }
}
