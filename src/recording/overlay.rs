//! The moving parts of a rendered clip (trails, start rings and balls), projected with the cameras that
//! drew the landscape and painted on the CPU over that still image.
//!
//! `losscape render` draws the landscape on the GPU once (it does not change during a clip) and paints
//! what moves over it for every frame: on software Vulkan, re-shading 300 000 surface pixels per frame
//! cost ten times more than everything else together. In the 3D view a point behind a hill is hidden:
//! a ray from the camera to it is cast against the height field (the same test as dragging uses).

use std::sync::Arc;

use bevy::color::{Color, ColorToComponents};
use bevy::math::Quat;
use bevy_egui::egui::{self, Pos2};

use super::legend::{Corner, LegendEntry, estimated_box, text_size};
use crate::core::{
    Landscape, RunStatus,
    run::SceneRun,
    scene::{OptimizerSpec, Scene},
};
use crate::geometry::{SurfaceFrame, ViewProjection, trail::TrailPoints};
use crate::paint::marks::{
    DIVERGED_GREY, ProjectedTrail, RunMarks, ball_at, gap_line, paint_ball, paint_runs_with, rgb8,
    start_ring, trail_width,
};

/// One optimizer's run as it is at some moment: what it is, its runner (state, random numbers, status) and
/// the path it took so far (the app's trail). A clip can go on from there.
#[derive(Clone, Debug)]
pub struct RunSnapshot {
    pub spec: OptimizerSpec,
    pub run: SceneRun,
    /// The path so far, oldest first (decimated as the app keeps it).
    pub trail: Vec<crate::core::Vec2d>,
}

/// One optimizer's run and what of it has been projected so far.
#[derive(Clone)]
struct Track {
    spec: OptimizerSpec,
    run: SceneRun,
    trail: TrailPoints,
    /// Per view, the trail's pixels, in step with the trail.
    projected: Vec<ProjectedTrail>,
    /// Per view, the start ring's pixels (closed) and its width in pixels.
    rings: Vec<(Vec<Option<Pos2>>, f32)>,
}

impl Track {
    /// Steps the run up to `steps` times (fewer when it converges or diverges), adding each position to
    /// the trail (which stays bounded however long the run).
    fn advance(&mut self, steps: u64) {
        for _ in 0..steps {
            match self.run.step() {
                Some(record) => self.trail.push(record.pos),
                None => break,
            }
        }
    }

    /// Its colour now: its own, or grey once diverged (as in the app).
    fn color(&self) -> Color {
        match self.run.status() {
            RunStatus::Diverged { .. } => DIVERGED_GREY,
            _ => Color::srgb(self.spec.color[0], self.spec.color[1], self.spec.color[2]),
        }
    }
}

/// The runs of a scene, advanced frame by frame and painted over the still landscape.
#[derive(Clone)]
pub struct PathOverlay {
    tracks: Vec<Track>,
    views: Vec<ViewProjection>,
    frame: SurfaceFrame,
    landscape: Arc<Landscape>,
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
                SceneRun::new(&landscape, spec)
                    .map(|run| {
                        let mut trail = TrailPoints::for_domain(&frame.domain);
                        trail.push(run.position());
                        let start = run.position();
                        Track {
                            rings: views
                                .iter()
                                .map(|view| start_ring(view, &frame, &landscape, start))
                                .collect(),
                            spec: spec.clone(),
                            run,
                            trail,
                            projected: vec![ProjectedTrail::default(); views.len()],
                        }
                    })
                    .map_err(|e| format!("optimizer \"{}\": {e}", spec.name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut overlay = Self {
            tracks,
            views,
            frame,
            landscape,
        };
        overlay.project_new_points();
        Ok(overlay)
    }

    /// The runs as they are in `runs` (their state and their trail so far), drawn with `views`.
    pub fn from_runs(
        runs: Vec<RunSnapshot>,
        landscape: Arc<Landscape>,
        frame: SurfaceFrame,
        views: Vec<ViewProjection>,
    ) -> Result<Self, String> {
        let tracks = runs
            .into_iter()
            .filter(|run| run.spec.visible)
            .map(|run| {
                let mut trail = TrailPoints::for_domain(&frame.domain);
                trail.extend(run.trail.iter().copied());
                trail.push(run.run.position());
                let start = run.trail.first().copied().unwrap_or(run.spec.start);
                Track {
                    rings: views
                        .iter()
                        .map(|view| start_ring(view, &frame, &landscape, start))
                        .collect(),
                    spec: run.spec,
                    run: run.run,
                    trail,
                    projected: vec![ProjectedTrail::default(); views.len()],
                }
            })
            .collect();
        let mut overlay = Self {
            tracks,
            views,
            frame,
            landscape,
        };
        overlay.project_new_points();
        Ok(overlay)
    }

    /// The corner of a `size` frame where a legend of `entries` lines covers the fewest trail points and
    /// balls (the runs as they are now: advance a copy to the clip's end first).
    pub fn emptiest_corner(&self, size: bevy::math::UVec2, entries: usize) -> Corner {
        let frame = egui::vec2(size.x as f32, size.y as f32);
        let longest = self
            .legend()
            .iter()
            .map(|e| e.name.chars().count() + e.detail.chars().count() + 2)
            .max()
            .unwrap_or(0);
        let boxed = estimated_box(frame, entries, longest);
        let margin = (text_size(frame) * 0.6).round();
        let covered = |corner: Corner| {
            let rect = corner.place(frame, boxed, margin).expand(4.0);
            self.tracks
                .iter()
                .flat_map(|t| t.projected.iter())
                .flat_map(|p| p.pixels().iter().flatten())
                .filter(|px| rect.contains(**px))
                .count()
        };
        Corner::ALL
            .into_iter()
            .min_by_key(|&c| covered(c))
            .unwrap_or_default()
    }

    /// Steps every run `steps` times (fewer where a run converges or diverges).
    pub fn advance(&mut self, steps: u64) {
        for track in &mut self.tracks {
            track.advance(steps);
        }
        self.project_new_points();
    }

    /// The most steps any run has taken (the step counter).
    pub fn steps(&self) -> u64 {
        self.tracks.iter().map(|t| t.run.steps()).max().unwrap_or(0)
    }

    /// The legend's lines; a diverged run is grey and says so.
    pub fn legend(&self) -> Vec<LegendEntry> {
        self.tracks
            .iter()
            .map(|t| {
                let mut entry = LegendEntry::of(&t.spec);
                if let RunStatus::Diverged { step, .. } = t.run.status() {
                    entry.color = rgb8(DIVERGED_GREY.to_srgba().to_f32_array_no_alpha());
                    entry.detail.push_str(&format!("  diverged at step {step}"));
                }
                entry
            })
            .collect()
    }

    /// Each run's name, its colour now, its path so far (param, oldest first, decimated as drawn) and
    /// where it is.
    pub fn runs(
        &self,
    ) -> impl Iterator<Item = (&str, Color, &[crate::core::Vec2d], crate::core::Vec2d)> {
        self.tracks.iter().map(|t| {
            (
                t.spec.name.as_str(),
                t.color(),
                t.trail.points(),
                t.run.position(),
            )
        })
    }

    /// Every colour the runs can be drawn in (kept exact in the GIF's palette).
    pub fn colors(&self) -> Vec<[u8; 3]> {
        let mut colors: Vec<[u8; 3]> = self.tracks.iter().map(|t| rgb8(t.spec.color)).collect();
        colors.push(rgb8(DIVERGED_GREY.to_srgba().to_f32_array_no_alpha()));
        colors
    }

    /// Projects the trails' new points.
    fn project_new_points(&mut self) {
        for track in &mut self.tracks {
            for (view, projected) in self.views.iter().zip(&mut track.projected) {
                projected.update(&track.trail, view, &self.frame, &self.landscape);
            }
        }
    }

    /// Paints the trails, then the start rings, then the balls, each view inside its own viewport.
    pub fn paint(&self, painter: &egui::Painter) {
        self.paint_with(painter, &paint_ball);
    }

    /// [`Self::paint`] with the balls painted by `draw_ball` (see [`paint_runs_with`]).
    pub fn paint_with(
        &self,
        painter: &egui::Painter,
        draw_ball: &dyn Fn(&egui::Painter, Pos2, f32, Color, Quat),
    ) {
        for (v, view) in self.views.iter().enumerate() {
            let painter = painter.with_clip_rect(view.rect);
            let runs: Vec<RunMarks> = self
                .tracks
                .iter()
                .map(|track| {
                    let pos = track.run.position();
                    let true_loss = track.run.network().map(|_| track.run.loss());
                    RunMarks {
                        trail: track.projected[v].pixels(),
                        ring: &track.rings[v].0,
                        ring_width: track.rings[v].1,
                        ball: ball_at(view, &self.frame, &self.landscape, pos, true_loss),
                        gap: true_loss
                            .and_then(|l| gap_line(view, &self.frame, &self.landscape, pos, l)),
                        color: track.color(),
                    }
                })
                .collect();
            let trail_px = trail_width(view, &self.frame, &self.landscape);
            paint_runs_with(&painter, &runs, trail_px, view.rotation, draw_ball);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::projection::tests::top_view;
    use crate::paint::marks::rgb8;

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
        assert_eq!(sgd.run.steps(), 100_000, "SGD takes every step");
        // the trail keeps points 1/800 of the frame apart, not all 100 001 positions
        assert!(
            sgd.trail.points().len() <= TrailPoints::CAP + 64,
            "{}",
            sgd.trail.points().len()
        );
        assert_eq!(sgd.projected[0].pixels().len(), sgd.trail.points().len());
        assert_eq!(*sgd.trail.points().last().unwrap(), sgd.run.position());
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
