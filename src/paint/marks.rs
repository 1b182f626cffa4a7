//! What moves over a view: trails, start rings and balls, projected through a [`ViewProjection`] and
//! painted with egui shapes. The app's views and the recorded clips paint them with the same code, so a
//! GIF looks like the screen. In the 3D view a point behind a hill is hidden (a ray from the camera is
//! cast against the surface); the top view floats its marks above the surface.

use bevy::{
    color::{Color, ColorToComponents, LinearRgba},
    math::{Quat, Vec3},
};
use bevy_egui::egui::{self, Color32, Pos2, Shape, Stroke, epaint::Mesh};

use crate::core::{Landscape, Vec2d};
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
}
