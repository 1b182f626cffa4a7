//! What moves over a view: trails, start rings and balls (and the trial points of a line search),
//! projected through a [`ViewProjection`] and painted with egui shapes. The app's views and the recorded clips paint them with the same code, so a
//! GIF looks like the screen. In the 3D view a point behind a hill is hidden (a ray from the camera is
//! cast against the surface); the top view floats its marks above the surface.

use bevy::{
    color::{Color, ColorToComponents, LinearRgba},
    math::{Quat, Vec3},
};
use bevy_egui::egui::{self, Color32, Pos2, Shape, Stroke, epaint::Mesh};

use crate::core::{Domain, Landscape, Vec2d};
use crate::geometry::{
    BALL_RADIUS, SurfaceFrame, TRAIL_WIDTH, ViewProjection, place, trail::TrailPoints,
};

/// Height of a trail above the surface (world units).
pub const TRAIL_LIFT: f32 = 0.025;
/// Height of a start ring above the surface.
pub const RING_LIFT: f32 = 0.02;
/// Radius and tube width of a start ring, in ball radii.
pub const RING_RADIUS: f32 = 1.35;
pub const RING_WIDTH: f32 = 0.5;
/// Direction towards the light, as in the surface shader.
pub const LIGHT: Vec3 = Vec3::new(-0.35, 1.0, 0.55);
/// Colour of a diverged optimizer.
pub const DIVERGED_GREY: Color = Color::srgb(0.45, 0.45, 0.45);
/// Points closer than this (pixels) to the last one kept are left out of a stroke: trails keep a point
/// every half pixel or so, and each point costs triangles to fill.
const STROKE_SPACING: f32 = 2.0;

/// sRGB bytes of a colour.
pub fn rgb8(c: [f32; 3]) -> [u8; 3] {
    c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
}

/// An egui colour from a Bevy one.
pub fn color32(color: Color) -> Color32 {
    let [r, g, b] = rgb8(color.to_srgba().to_f32_array_no_alpha());
    Color32::from_rgb(r, g, b)
}

/// An egui colour from a Bevy one, its alpha included.
pub fn color32_alpha(color: Color) -> Color32 {
    let c = color.to_srgba();
    let [r, g, b] = rgb8([c.red, c.green, c.blue]);
    Color32::from_rgba_unmultiplied(r, g, b, (c.alpha.clamp(0.0, 1.0) * 255.0).round() as u8)
}

/// A trail's points projected into one view (`None`: hidden behind the surface), kept in step with its
/// [`TrailPoints`]: only new points are projected, all of them again after the trail thinned out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectedTrail {
    pixels: Vec<Option<Pos2>>,
    revision: Option<u64>,
}

impl ProjectedTrail {
    /// Projects what is not projected yet (the last point again: it may be the provisional newest).
    pub fn update(
        &mut self,
        trail: &TrailPoints,
        view: &ViewProjection,
        frame: &SurfaceFrame,
        landscape: &Landscape,
    ) {
        let points = trail.points();
        if self.revision != Some(trail.revision()) || self.pixels.len() > points.len() {
            self.pixels.clear();
            self.revision = Some(trail.revision());
        }
        let from = self.pixels.len().saturating_sub(1);
        self.pixels.truncate(from);
        self.pixels.extend(points[from..].iter().map(|&p| {
            let world = place(frame, landscape, view.view, p, TRAIL_LIFT);
            view.visible(world, TRAIL_WIDTH, frame, landscape)
        }));
    }

    /// Forgets the projection (the camera moved, or the surface changed).
    pub fn clear(&mut self) {
        self.pixels.clear();
        self.revision = None;
    }

    /// The pixels, in step with the trail's points.
    pub fn pixels(&self) -> &[Option<Pos2>] {
        &self.pixels
    }
}

/// Stroke width of trails in a view: the trail's world width at the middle of the surface, at least
/// 1.5 pixels.
pub fn trail_width(view: &ViewProjection, frame: &SurfaceFrame, landscape: &Landscape) -> f32 {
    let centre = place(frame, landscape, view.view, frame.center(), 0.0);
    (TRAIL_WIDTH * view.scale_at(centre)).max(1.5)
}

/// The pixels of the ring around a start point (closed; `None` where hidden) and its width in pixels.
pub fn start_ring(
    view: &ViewProjection,
    frame: &SurfaceFrame,
    landscape: &Landscape,
    start: Vec2d,
) -> (Vec<Option<Pos2>>, f32) {
    let at = place(frame, landscape, view.view, start, RING_LIFT);
    let r = RING_RADIUS * BALL_RADIUS;
    let ring = (0..=40)
        .map(|k| {
            let a = k as f32 / 40.0 * std::f32::consts::TAU;
            let world = at + Vec3::new(a.cos() * r, 0.0, a.sin() * r);
            view.visible(world, TRAIL_WIDTH, frame, landscape)
        })
        .collect();
    let width = (RING_WIDTH * BALL_RADIUS * view.scale_at(at)).max(1.0);
    (ring, width)
}

/// A ball in a view: its pixel, its distance along the view axis and its radius in pixels, or `None`
/// when it is hidden or behind the camera.
pub fn ball(
    view: &ViewProjection,
    frame: &SurfaceFrame,
    landscape: &Landscape,
    pos: Vec2d,
) -> Option<(Pos2, f32, f32)> {
    ball_at(view, frame, landscape, pos, None)
}

/// [`ball`] at the height of `loss` in the 3D view instead of the surface's under `pos`: a network
/// run's true loss, which the plane's loss under it need not be (the top view is flat either way).
pub fn ball_at(
    view: &ViewProjection,
    frame: &SurfaceFrame,
    landscape: &Landscape,
    pos: Vec2d,
    loss: Option<f64>,
) -> Option<(Pos2, f32, f32)> {
    let world = match (view.view, loss) {
        (crate::geometry::ViewKind::ThreeD, Some(loss)) if loss.is_finite() => {
            frame.world_point(pos, loss) + bevy::math::Vec3::Y * BALL_RADIUS
        }
        _ => place(frame, landscape, view.view, pos, BALL_RADIUS),
    };
    let px = view.visible(world, BALL_RADIUS, frame, landscape)?;
    let (_, depth) = view.project(world)?;
    Some((px, depth, (BALL_RADIUS * view.scale_at(world)).max(2.5)))
}

/// The 3D view's line from a network run's ball (at its true loss) to the surface under it (the
/// plane's loss at its projection): how far the slice is from the run. `None` in the top view, for a
/// loss that is not finite, or when the two ends are within a ball's radius of each other.
pub fn gap_line(
    view: &ViewProjection,
    frame: &SurfaceFrame,
    landscape: &Landscape,
    pos: Vec2d,
    loss: f64,
) -> Option<[Pos2; 2]> {
    if view.view != crate::geometry::ViewKind::ThreeD || !loss.is_finite() {
        return None;
    }
    let ball = frame.world_point(pos, loss);
    let surface = place(frame, landscape, view.view, pos, 0.0);
    if (ball.y - surface.y).abs() <= 2.0 * BALL_RADIUS {
        return None;
    }
    let (a, _) = view.project(ball)?;
    let (b, _) = view.project(surface)?;
    Some([a, b])
}

/// Strokes every run of two or more consecutive visible points.
pub fn polylines(painter: &egui::Painter, points: &[Option<Pos2>], stroke: Stroke) {
    for run in points.split(Option::is_none) {
        let mut kept: Vec<Pos2> = Vec::with_capacity(run.len());
        for (i, &p) in run.iter().flatten().enumerate() {
            let last = i + 1 == run.len();
            if last || kept.last().is_none_or(|k| k.distance(p) >= STROKE_SPACING) {
                kept.push(p);
            }
        }
        if kept.len() >= 2 {
            painter.add(Shape::line(kept, stroke));
        }
    }
}

/// How a ball of `color` is shaded at `(dx, dy)` on its disc (unit radius, y down on screen): diffuse
/// light plus a soft highlight on a sphere seen through a camera of `rotation`.
pub fn ball_shade(color: Color, rotation: Quat) -> impl Fn(f32, f32) -> Color32 {
    let base = color.to_linear();
    let light = LIGHT.normalize();
    let towards_eye = rotation * Vec3::Z;
    let half = (light + towards_eye).normalize_or_zero();
    move |dx: f32, dy: f32| -> Color32 {
        let z = (1.0 - dx * dx - dy * dy).max(0.0).sqrt();
        let normal = rotation * Vec3::new(dx, -dy, z);
        let diffuse = normal.dot(light).max(0.0);
        let highlight = normal.dot(half).max(0.0).powi(24) * 0.45;
        let lit = |c: f32| c * (0.35 + 0.75 * diffuse) + highlight;
        color32(Color::LinearRgba(LinearRgba::rgb(
            lit(base.red),
            lit(base.green),
            lit(base.blue),
        )))
    }
}

/// A lit sphere of `radius` pixels: each vertex of a disc mesh shaded with the sphere's normal there
/// ([`ball_shade`]), with an anti-aliased rim. `rotation` is the camera's.
pub fn paint_ball(
    painter: &egui::Painter,
    centre: Pos2,
    radius: f32,
    color: Color,
    rotation: Quat,
) {
    let shade = ball_shade(color, rotation);
    // about one ring every 3 pixels and a segment every 1.5 pixels of the rim
    let rings = (radius / 3.0).clamp(2.0, 8.0) as u32;
    let segments = (radius * 4.0).clamp(12.0, 64.0) as u32;
    let mut mesh = Mesh::default();
    mesh.colored_vertex(centre, shade(0.0, 0.0));
    for ring in 1..=rings {
        let r = ring as f32 / rings as f32;
        for s in 0..segments {
            let a = s as f32 / segments as f32 * std::f32::consts::TAU;
            let (dx, dy) = (a.cos() * r, a.sin() * r);
            mesh.colored_vertex(centre + egui::vec2(dx, dy) * radius, shade(dx, dy));
        }
    }
    let at = |ring: u32, s: u32| {
        if ring == 0 {
            0
        } else {
            1 + (ring - 1) * segments + s % segments
        }
    };
    for ring in 0..rings {
        for s in 0..segments {
            if ring == 0 {
                mesh.add_triangle(0, at(1, s), at(1, s + 1));
            } else {
                mesh.add_triangle(at(ring, s), at(ring + 1, s), at(ring + 1, s + 1));
                mesh.add_triangle(at(ring, s), at(ring + 1, s + 1), at(ring, s + 1));
            }
        }
    }
    painter.add(Shape::mesh(mesh));
    paint_ball_rim(painter, centre, radius, color);
}

/// The thin darker stroke round a ball: the mesh's rim is hard, and this softens it and separates the
/// ball from its trail.
pub fn paint_ball_rim(painter: &egui::Painter, centre: Pos2, radius: f32, color: Color) {
    let [r, g, b] = rgb8(color.to_srgba().to_f32_array_no_alpha().map(|c| c * 0.55));
    painter.circle_stroke(centre, radius, Stroke::new(1.0, Color32::from_rgb(r, g, b)));
}

/// One run's marks in one view, ready to paint.
pub struct RunMarks<'a> {
    pub trail: &'a [Option<Pos2>],
    pub ring: &'a [Option<Pos2>],
    pub ring_width: f32,
    /// Where the ball is: pixel, depth, radius.
    pub ball: Option<(Pos2, f32, f32)>,
    /// A network run's [`gap_line`].
    pub gap: Option<[Pos2; 2]>,
    pub color: Color,
}

/// Paints the trails, then the start rings, then the balls (the farthest first, so nearer ones cover
/// them) of several runs in one view.
pub fn paint_runs(painter: &egui::Painter, runs: &[RunMarks], trail_px: f32, rotation: Quat) {
    paint_runs_with(painter, runs, trail_px, rotation, &paint_ball);
}

/// [`paint_runs`] with the balls painted by `ball` (painter, centre, radius, colour, camera rotation):
/// a vector figure draws them as gradients rather than meshes.
pub fn paint_runs_with(
    painter: &egui::Painter,
    runs: &[RunMarks],
    trail_px: f32,
    rotation: Quat,
    ball: &dyn Fn(&egui::Painter, Pos2, f32, Color, Quat),
) {
    for run in runs {
        polylines(
            painter,
            run.trail,
            Stroke::new(trail_px, color32(run.color)),
        );
    }
    for run in runs {
        polylines(
            painter,
            run.ring,
            Stroke::new(run.ring_width, color32(run.color)),
        );
    }
    for run in runs {
        if let Some([a, b]) = run.gap {
            let stroke = Stroke::new((0.5 * trail_px).max(1.0), color32(run.color));
            painter.extend(Shape::dashed_line(&[a, b], stroke, 6.0, 4.0));
        }
    }
    let mut balls: Vec<(Pos2, f32, f32, Color)> = runs
        .iter()
        .filter_map(|r| {
            r.ball
                .map(|(px, depth, radius)| (px, depth, radius, r.color))
        })
        .collect();
    balls.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (px, _, radius, color) in balls {
        ball(painter, px, radius, color, rotation);
    }
}

/// Points sampled along a line search's line (the line is draped over the surface in the 3D view).
const SEARCH_LINE_SAMPLES: usize = 48;

/// A line search's trial points in one view, ready to paint: the line from `θ` along the searched
/// direction `p` to the farthest trial (`θ + α₀ p`, clipped to the domain), `θ` itself, and each trial
/// `θ + α p` in the order it was tried. `None` where hidden behind the surface or off the domain.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrialMarks {
    /// The line, as consecutive pixels.
    pub line: Vec<Option<Pos2>>,
    /// `θ`, where the search started.
    pub from: Option<Pos2>,
    /// Each trial's pixel and whether it passed the Armijo test (the accepted one is the last).
    pub points: Vec<(Option<Pos2>, bool)>,
    /// The radius of a trial point, in pixels.
    pub radius: f32,
    /// How many trials, the first ones (the longest steps), lie beyond the domain's edge: not drawn,
    /// but named at the line's end.
    pub beyond: usize,
}

/// The part `[0, t]` of the segment `from + t · delta`, `t ∈ [0, 1]`, inside `domain` (`from` is
/// inside): the largest such `t`.
fn inside_until(domain: &Domain, from: Vec2d, delta: Vec2d) -> f64 {
    let mut t: f64 = 1.0;
    for (i, [lo, hi]) in [domain.x, domain.y].into_iter().enumerate() {
        if delta[i] > 0.0 {
            t = t.min((hi - from[i]) / delta[i]);
        } else if delta[i] < 0.0 {
            t = t.min((lo - from[i]) / delta[i]);
        }
    }
    t.clamp(0.0, 1.0)
}

/// Projects a line search from `theta` along `p` into one view: `trials` gives each trial's `α` and
/// whether it was accepted.
pub fn trial_marks(
    view: &ViewProjection,
    frame: &SurfaceFrame,
    landscape: &Landscape,
    theta: Vec2d,
    p: Vec2d,
    trials: impl Iterator<Item = (f64, bool)> + Clone,
) -> TrialMarks {
    let domain = &frame.domain;
    let at = |q: Vec2d, lift: f32, peek: f32| {
        let world = place(frame, landscape, view.view, q, lift);
        view.visible(world, peek, frame, landscape)
    };
    let longest = trials
        .clone()
        .map(|(alpha, _)| alpha)
        .filter(|a| a.is_finite())
        .fold(0.0f64, f64::max);
    let mut line = Vec::new();
    if domain.contains(theta) && longest > 0.0 {
        let delta = [longest * p[0], longest * p[1]];
        let end = inside_until(domain, theta, delta);
        line = (0..=SEARCH_LINE_SAMPLES)
            .map(|k| {
                let t = end * k as f64 / SEARCH_LINE_SAMPLES as f64;
                at(
                    [theta[0] + t * delta[0], theta[1] + t * delta[1]],
                    TRAIL_LIFT,
                    TRAIL_WIDTH,
                )
            })
            .collect();
    }
    let points = trials
        .clone()
        .map(|(alpha, accepted)| {
            let q = [theta[0] + alpha * p[0], theta[1] + alpha * p[1]];
            let px = (domain.contains(q) && q.iter().all(|x| x.is_finite()))
                .then(|| at(q, RING_LIFT, BALL_RADIUS))
                .flatten();
            (px, accepted)
        })
        .collect();
    let beyond = trials
        .filter(|(alpha, _)| {
            let q = [theta[0] + alpha * p[0], theta[1] + alpha * p[1]];
            !domain.contains(q)
        })
        .count();
    let centre = place(frame, landscape, view.view, frame.center(), 0.0);
    TrialMarks {
        beyond,
        line,
        from: domain
            .contains(theta)
            .then(|| at(theta, RING_LIFT, BALL_RADIUS))
            .flatten(),
        points,
        radius: (0.6 * BALL_RADIUS * view.scale_at(centre)).clamp(3.5, 9.0),
    }
}

/// Paints a line search in the run's `color`: the line along `p` (outlined), a small dot at `θ`, each
/// rejected trial as a hollow ring and the accepted one as a solid disc with a white rim, numbered in
/// the order they were tried (as the step-by-step window lists them; a number that would overlap the
/// one before is left out).
pub fn paint_trials(painter: &egui::Painter, marks: &TrialMarks, color: Color) {
    let colour = color32(color);
    let dark = Color32::from_black_alpha(200);
    polylines(painter, &marks.line, Stroke::new(4.0, dark));
    polylines(painter, &marks.line, Stroke::new(1.8, colour));
    if let Some(from) = marks.from {
        painter.circle(from, 3.0, colour, Stroke::new(1.2, dark));
    }
    if marks.beyond > 0
        && let Some(end) = marks.line.last().copied().flatten()
    {
        let which = match marks.beyond {
            1 => "trial 1 lies beyond the edge".to_owned(),
            n => format!("trials 1–{n} lie beyond the edge"),
        };
        super::outlined(
            painter,
            end + egui::vec2(0.0, 6.0),
            egui::Align2::CENTER_TOP,
            &which,
            colour,
            11.0,
        );
    }
    let r = marks.radius;
    let mut labelled: Option<Pos2> = None;
    for (i, (px, accepted)) in marks.points.iter().enumerate() {
        let Some(px) = *px else {
            continue;
        };
        if *accepted {
            painter.circle(px, r, colour, Stroke::new(1.8, Color32::WHITE));
        } else {
            // a dark inside, so that the line through it does not fill it
            painter.circle(
                px,
                r,
                Color32::from_black_alpha(150),
                Stroke::new(4.5, dark),
            );
            painter.circle_stroke(px, r, Stroke::new(2.2, colour));
        }
        if labelled.is_none_or(|l| l.distance(px) >= 16.0) {
            super::outlined(
                painter,
                px + egui::vec2(r + 2.0, -r - 2.0),
                egui::Align2::LEFT_BOTTOM,
                &(i + 1).to_string(),
                colour,
                12.0,
            );
            labelled = Some(px);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::projection::tests::top_view;

    #[test]
    fn a_projected_trail_follows_its_points_and_starts_over_after_thinning() {
        let landscape = Landscape::new(crate::core::LandscapeSpec::Saddle).unwrap();
        let frame = SurfaceFrame::default();
        let view = top_view();
        let mut trail = TrailPoints::with_cap(0.001, 0.01, 16);
        let mut projected = ProjectedTrail::default();
        for i in 0..10 {
            trail.push([-0.9 + 0.05 * i as f64, 0.0]);
            projected.update(&trail, &view, &frame, &landscape);
            assert_eq!(projected.pixels().len(), trail.points().len());
        }
        // the top view sees everything; x grows to the right
        let xs: Vec<f32> = projected.pixels().iter().map(|p| p.unwrap().x).collect();
        assert!(xs.windows(2).all(|w| w[1] > w[0]));
        let revision = trail.revision();
        for i in 10..40 {
            trail.push([-0.9 + 0.05 * i as f64, 0.0]);
        }
        assert_ne!(trail.revision(), revision, "thinned");
        projected.update(&trail, &view, &frame, &landscape);
        assert_eq!(projected.pixels().len(), trail.points().len());
        let fresh = {
            let mut p = ProjectedTrail::default();
            p.update(&trail, &view, &frame, &landscape);
            p
        };
        assert_eq!(projected, fresh, "the same as projecting from scratch");
    }

    #[test]
    fn a_line_search_is_drawn_along_its_direction_and_clipped_to_the_domain() {
        let landscape = Landscape::new(crate::core::LandscapeSpec::Saddle).unwrap();
        let frame = SurfaceFrame::default();
        let view = top_view();
        let px = |p: Vec2d| {
            let world = place(&frame, &landscape, view.view, p, RING_LIFT);
            view.project(world).unwrap().0
        };
        // from (0, 0) along p = (1, 0.5): α = 4 leaves the domain [-1, 1]², 1 and 0.5 are inside
        let trials = [(4.0, false), (1.0, false), (0.5, true)];
        let m = trial_marks(
            &view,
            &frame,
            &landscape,
            [0.0, 0.0],
            [1.0, 0.5],
            trials.into_iter(),
        );
        assert_eq!(m.points.len(), 3);
        assert_eq!(m.points[0], (None, false), "off the domain");
        assert_eq!(m.beyond, 1);
        assert!(m.points[1].0.unwrap().distance(px([1.0, 0.5])) < 1e-3);
        assert!(m.points[2].1, "accepted");
        assert!(m.points[2].0.unwrap().distance(px([0.5, 0.25])) < 1e-3);
        assert!(m.from.unwrap().distance(px([0.0, 0.0])) < 1e-3);
        // the line runs from θ to the domain's edge at x = 1, through every trial inside
        let line: Vec<Pos2> = m.line.iter().flatten().copied().collect();
        assert_eq!(line.len(), SEARCH_LINE_SAMPLES + 1);
        assert!(line[0].distance(px([0.0, 0.0])) < 0.1);
        assert!(line.last().unwrap().distance(px([1.0, 0.5])) < 0.1);
    }
}
