//! The moving parts of a rendered clip (trails, start rings and balls), projected with the cameras that
//! drew the landscape and painted on the CPU over that still image.
//!
//! `losscape render` draws the landscape on the GPU once (it does not change during a clip) and paints
//! what moves over it for every frame: on software Vulkan, re-shading 300 000 surface pixels per frame
//! cost ten times more than everything else together. In the 3D view a point behind a hill is hidden:
//! a ray from the camera to it is cast against the height field (the same test as dragging uses).

use std::sync::Arc;

use bevy::{
    color::{Color, ColorToComponents, LinearRgba},
    math::{Quat, Vec3},
};
use bevy_egui::egui::{self, Color32, Pos2, Shape, Stroke, epaint::Mesh};

use super::legend::{LegendEntry, rgb8};
use crate::core::{
    Landscape, RunStatus, Runner, Vec2d,
    scene::{OptimizerSpec, Scene},
};
use crate::geometry::{BALL_RADIUS, SurfaceFrame, TRAIL_WIDTH, ViewProjection, place};
use crate::optimizers::{
    trail::TrailPoints,
    visuals::{DIVERGED_GREY, spec_color},
};

/// Height of a trail above the surface (world units), as in the app.
const TRAIL_LIFT: f32 = 0.025;
/// Height of a start ring above the surface.
const RING_LIFT: f32 = 0.02;
/// Radius and tube width of a start ring, in ball radii (the app's torus).
const RING_RADIUS: f32 = 1.35;
const RING_WIDTH: f32 = 0.5;
/// Direction towards the light, as in the surface shader.
const LIGHT: Vec3 = Vec3::new(-0.35, 1.0, 0.55);

/// Steps taken between trail updates: the new points of a chunk are buffered, never the whole run (a
/// long render would otherwise hold every step in memory).
const CHUNK_STEPS: u64 = 1 << 16;

/// One optimizer's run and what of it has been projected so far.
struct Track {
    spec: OptimizerSpec,
    runner: Runner,
    trail: TrailPoints,
    /// Per view, the trail's pixels (`None`: hidden), in step with `trail.points`.
    projected: Vec<Vec<Option<Pos2>>>,
    /// Per view, the start ring's pixels (closed) and its width in pixels.
    rings: Vec<(Vec<Option<Pos2>>, f32)>,
}

impl Track {
    /// Steps the run up to `steps` times (fewer when it converges or diverges), adding the points to
    /// the trail.
    fn advance(&mut self, steps: u64, min_step: f64, max_step: f64) {
        let mut points: Vec<Vec2d> = Vec::new();
        let mut left = steps;
        while left > 0 && self.runner.status().is_running() {
            let chunk = left.min(CHUNK_STEPS);
            points.clear();
            for _ in 0..chunk {
                match self.runner.step() {
                    Some(record) => points.push(record.pos),
                    None => break,
                }
            }
            left -= chunk;
            // `points` holds only new points: the trail consumes them from the start
            self.trail.consumed = 0;
            self.trail.extend(&points, min_step, max_step);
        }
    }

    /// Its colour now: its own, or grey once diverged (as in the app).
    fn color(&self) -> Color {
        match self.runner.status() {
            RunStatus::Diverged { .. } => DIVERGED_GREY,
            _ => spec_color(self.spec.color),
        }
    }
}

/// The runs of a scene, advanced frame by frame and painted over the still landscape.
pub struct PathOverlay {
    tracks: Vec<Track>,
    views: Vec<ViewProjection>,
    frame: SurfaceFrame,
    landscape: Arc<Landscape>,
    /// Decimation of the trails (param units), as in the app.
    min_step: f64,
    max_step: f64,
}

impl PathOverlay {
    /// The scene's visible optimizers at their starts, drawn with `views`.
    pub fn new(
        scene: &Scene,
        landscape: Arc<Landscape>,
        frame: SurfaceFrame,
        views: Vec<ViewProjection>,
    ) -> Result<Self, String> {
        let tracks = scene
            .optimizers
            .iter()
            .filter(|spec| spec.visible)
            .map(|spec| {
                Runner::new(landscape.clone(), spec.run_config())
                    .map(|runner| {
                        let mut trail = TrailPoints::default();
                        trail.extend(&[runner.position()], 0.0, f64::INFINITY);
                        Track {
                            rings: views
                                .iter()
                                .map(|view| start_ring(view, &frame, &landscape, spec.start))
                                .collect(),
                            spec: spec.clone(),
                            runner,
                            trail,
                            projected: vec![Vec::new(); views.len()],
                        }
                    })
                    .map_err(|e| format!("optimizer \"{}\": {e}", spec.name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let width =
            (frame.domain.x[1] - frame.domain.x[0]).max(frame.domain.y[1] - frame.domain.y[0]);
        let mut overlay = Self {
            tracks,
            views,
            frame,
            landscape,
            min_step: width / 800.0,
            max_step: width / 150.0,
        };
        overlay.project_new_points();
        Ok(overlay)
    }

    /// Steps every run `steps` times (fewer where a run converges or diverges).
    pub fn advance(&mut self, steps: u64) {
        for track in &mut self.tracks {
            track.advance(steps, self.min_step, self.max_step);
        }
        self.project_new_points();
    }

    /// The most steps any run has taken (the step counter).
    pub fn steps(&self) -> u64 {
        self.tracks
            .iter()
            .map(|t| t.runner.steps())
            .max()
            .unwrap_or(0)
    }

    /// The legend's lines; a diverged run is grey and says so.
    pub fn legend(&self) -> Vec<LegendEntry> {
        self.tracks
            .iter()
            .map(|t| {
                let mut entry = LegendEntry::of(&t.spec);
                if let RunStatus::Diverged { step, .. } = t.runner.status() {
                    entry.color = rgb8(DIVERGED_GREY.to_srgba().to_f32_array_no_alpha());
                    entry.detail.push_str(&format!("  diverged at step {step}"));
                }
                entry
            })
            .collect()
    }

    /// Every colour the runs can be drawn in (kept exact in the GIF's palette).
    pub fn colors(&self) -> Vec<[u8; 3]> {
        let mut colors: Vec<[u8; 3]> = self.tracks.iter().map(|t| rgb8(t.spec.color)).collect();
        colors.push(rgb8(DIVERGED_GREY.to_srgba().to_f32_array_no_alpha()));
        colors
    }

    /// Projects the trails' new points (the last kept point is provisional, so it is projected again).
    fn project_new_points(&mut self) {
        let landscape: &Landscape = &self.landscape;
        for track in &mut self.tracks {
            for (view, projected) in self.views.iter().zip(&mut track.projected) {
                let from = projected
                    .len()
                    .saturating_sub(1)
                    .min(track.trail.points.len());
                projected.truncate(from);
                projected.extend(track.trail.points[from..].iter().map(|&p| {
                    let world = place(&self.frame, landscape, view.view, p, TRAIL_LIFT);
                    view.visible(world, TRAIL_WIDTH, &self.frame, landscape)
                }));
            }
        }
    }

    /// Paints the trails, then the start rings, then the balls, each view inside its own viewport.
    pub fn paint(&self, painter: &egui::Painter) {
        let landscape: &Landscape = &self.landscape;
        for (v, view) in self.views.iter().enumerate() {
            let painter = painter.with_clip_rect(view.rect);
            let centre = place(&self.frame, landscape, view.view, self.frame.center(), 0.0);
            let unit = view.scale_at(centre);
            let trail_px = (TRAIL_WIDTH * unit).max(1.5);
            for track in &self.tracks {
                let color = color32(track.color());
                polylines(&painter, &track.projected[v], Stroke::new(trail_px, color));
            }
            for track in &self.tracks {
                let color = color32(track.color());
                let (ring, width) = &track.rings[v];
                polylines(&painter, ring, Stroke::new(*width, color));
            }
            // the balls in sight, the farthest first so that nearer ones cover them
            let mut balls: Vec<(f32, Pos2, f32, Color)> = self
                .tracks
                .iter()
                .filter_map(|track| {
                    let pos = track.runner.position();
                    let world = place(&self.frame, landscape, view.view, pos, BALL_RADIUS);
                    let px = view.visible(world, BALL_RADIUS, &self.frame, landscape)?;
                    let (_, depth) = view.project(world)?;
                    let radius = (BALL_RADIUS * view.scale_at(world)).max(2.5);
                    Some((depth, px, radius, track.color()))
                })
                .collect();
            balls.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (_, px, radius, color) in balls {
                paint_ball(&painter, px, radius, color, view.rotation);
            }
        }
    }
}

/// The pixels of the ring around a start point (closed; `None` where hidden) and its width in pixels.
fn start_ring(
    view: &ViewProjection,
    frame: &SurfaceFrame,
    landscape: &Arc<Landscape>,
    start: crate::core::Vec2d,
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

fn color32(color: Color) -> Color32 {
    let [r, g, b] = rgb8(color.to_srgba().to_f32_array_no_alpha());
    Color32::from_rgb(r, g, b)
}

/// Points closer than this (pixels) to the last one kept are left out of a stroke: trails keep a point
/// every half pixel or so, and each point costs triangles to fill.
const STROKE_SPACING: f32 = 1.5;

/// Strokes every run of two or more consecutive visible points.
fn polylines(painter: &egui::Painter, points: &[Option<Pos2>], stroke: Stroke) {
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

/// A lit sphere of `radius` pixels: each vertex of a disc mesh shaded with the sphere's normal there
/// (diffuse plus a soft highlight), with an anti-aliased rim.
fn paint_ball(painter: &egui::Painter, centre: Pos2, radius: f32, color: Color, rotation: Quat) {
    let base = color.to_linear();
    let light = LIGHT.normalize();
    let towards_eye = rotation * Vec3::Z;
    let half = (light + towards_eye).normalize_or_zero();
    let shade = |dx: f32, dy: f32| -> Color32 {
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
    };
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
    // the mesh's rim is hard; a thin darker stroke softens it and separates the ball from its trail
    let [r, g, b] = rgb8(color.to_srgba().to_f32_array_no_alpha().map(|c| c * 0.55));
    painter.circle_stroke(centre, radius, Stroke::new(1.0, Color32::from_rgb(r, g, b)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::projection::tests::top_view;

    #[test]
    fn long_runs_keep_a_decimated_trail_and_diverged_runs_say_so() {
        let mut scene = crate::core::lessons::preset("beale").unwrap();
        // Momentum on Beale with a far too large step diverges within a few steps
        scene.optimizers[1].hyper.lr = 10.0;
        let landscape = Arc::new(Landscape::new(scene.landscape.clone()).unwrap());
        let frame = SurfaceFrame::default();
        let mut paths = PathOverlay::new(&scene, landscape, frame, vec![top_view()]).unwrap();
        paths.advance(100_000);
        let sgd = &paths.tracks[0];
        assert_eq!(sgd.runner.steps(), 100_000, "SGD takes every step");
        // the trail keeps points 1/800 of the frame apart, not all 100 001 positions
        assert!(
            sgd.trail.points.len() < 50_000,
            "{}",
            sgd.trail.points.len()
        );
        assert_eq!(sgd.projected[0].len(), sgd.trail.points.len());
        assert_eq!(*sgd.trail.points.last().unwrap(), sgd.runner.position());
        let legend = paths.legend();
        assert!(
            legend[1].detail.contains("diverged at step"),
            "{:?}",
            legend[1]
        );
        assert_eq!(
            legend[1].color,
            rgb8(DIVERGED_GREY.to_srgba().to_f32_array_no_alpha())
        );
        assert!(!legend[0].detail.contains("diverged"));
        assert!(paths.colors().contains(&legend[1].color));
    }
}
