//! How an optimizer looks in both views: a trail of its path (draped over the surface in 3D, flat above
//! it in the top view), a ring at its start and a lit ball, painted with egui over the cached surface
//! ([`crate::paint::marks`]). What a frame costs does not grow with the run: the trail is bounded
//! ([`TrailPoints`]) and only its new points are projected, unless the camera moved.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::Optimizer;
use crate::core::{RunStatus, Vec2d};
use crate::geometry::ViewCameras;
use crate::geometry::{SurfaceFrame, ViewKind, ViewProjection, trail::TrailPoints};
use crate::paint::{
    ViewLayer,
    marks::{
        DIVERGED_GREY, ProjectedTrail, RunMarks, ball_at, gap_line, paint_runs, start_ring,
        trail_width,
    },
    view_painter,
};
use crate::state::{ActiveLandscape, UiPrefs};
use crate::system_order::AppSystems;

/// What the views draw of one optimizer, kept between frames.
#[derive(Component, Debug)]
pub struct Marks {
    /// The path up to the displayed step, bounded.
    pub trail: TrailPoints,
    /// What the trail was made from: the run's generation and the step shown (`None`: live).
    made_from: Option<(u64, Option<u64>)>,
    /// The last step added to the trail.
    consumed: u64,
    /// Where the start ring is drawn while a drag holds it (set by `interaction`), instead of the start.
    pub held: Option<Vec2d>,
    views: [ViewMarks; 2],
}

impl Default for Marks {
    fn default() -> Self {
        Self {
            trail: TrailPoints::new(0.0, f64::INFINITY),
            made_from: None,
            consumed: 0,
            held: None,
            views: Default::default(),
        }
    }
}

impl Marks {
    /// Where this run's trail (its ball at the end) lies in `view`, in egui points, as last painted:
    /// what a floating window should not hide.
    pub fn screen_points(&self, view: ViewKind) -> impl Iterator<Item = egui::Pos2> + '_ {
        self.views[view as usize]
            .trail
            .pixels()
            .iter()
            .flatten()
            .copied()
    }
}

/// Where the runs' trails and balls (the trails' last points) lie in both views (egui points), as last
/// painted.
pub fn runs_on_screen<'a>(marks: impl Iterator<Item = &'a Marks>) -> crate::paint::RunsOnScreen {
    let mut runs = crate::paint::RunsOnScreen::default();
    for m in marks {
        for view in ViewKind::ALL {
            runs.trails.extend(m.screen_points(view));
            runs.balls.extend(m.screen_points(view).last());
        }
    }
    runs
}

/// One optimizer's marks projected into one view, valid while the view's projection and the surface
/// are what they were.
#[derive(Debug, Default)]
struct ViewMarks {
    trail: ProjectedTrail,
    ring: Vec<Option<egui::Pos2>>,
    ring_width: f32,
    ring_at: Option<Vec2d>,
    seen_through: Option<(ViewProjection, SurfaceFrame)>,
}

/// Balls, trails and start rings (painted in the app's views; clips paint their own with the same code).
pub(crate) fn plugin(app: &mut App) {
    app.add_systems(Update, attach_marks.in_set(AppSystems::SpawnVisuals))
        .add_systems(Update, follow_runs.in_set(AppSystems::SyncVisuals))
        .add_systems(
            bevy_egui::EguiPrimaryContextPass,
            paint_marks.in_set(AppSystems::UiMarks),
        );
}

/// sRGB colour of a spec.
pub fn spec_color(rgb: [f32; 3]) -> Color {
    Color::srgb(rgb[0], rgb[1], rgb[2])
}

/// The colour an optimizer is drawn in now: its own, or grey once diverged.
pub fn display_color(optimizer: &Optimizer) -> Color {
    match optimizer.run.status() {
        RunStatus::Diverged { .. } => DIVERGED_GREY,
        _ => spec_color(optimizer.spec.color),
    }
}

/// Gives each new optimizer its marks.
pub fn attach_marks(
    mut commands: Commands,
    added: Query<Entity, (With<Optimizer>, Without<Marks>)>,
) {
    for entity in &added {
        commands.entity(entity).insert(Marks::default());
    }
}

/// Keeps each trail in step with its run: new steps are added; a run that started over, jumped (a drag,
/// a branch, a new landscape) or is shown at another step gets a trail made afresh.
pub fn follow_runs(mut optimizers: Query<(&Optimizer, &mut Marks)>, frame: Res<SurfaceFrame>) {
    for (optimizer, mut marks) in &mut optimizers {
        let marks = &mut *marks;
        let source = (optimizer.generation, optimizer.view_step);
        if marks.made_from != Some(source) || frame.is_changed() {
            marks.trail.restart(&frame.domain);
            marks
                .trail
                .extend(optimizer.displayed_history().map(|r| r.pos));
            marks.made_from = Some(source);
            marks.consumed = optimizer.displayed_step();
            continue;
        }
        let newest = optimizer.history.steps();
        if optimizer.view_step.is_none() && newest != marks.consumed {
            let consumed = marks.consumed;
            marks.trail.extend(
                optimizer
                    .history
                    .rows_to(newest)
                    .filter(|r| r.step > consumed)
                    .map(|r| r.pos),
            );
            marks.consumed = newest;
        }
    }
}

/// Paints every visible optimizer's trail, start ring and ball over each view.
pub fn paint_marks(
    mut contexts: EguiContexts,
    prefs: Res<UiPrefs>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    cameras: ViewCameras,
    mut optimizers: Query<(&Optimizer, &mut Marks)>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let landscape = &landscape.0;
    for (view, camera, transform, rect) in cameras.shown() {
        let (painter, clip) = view_painter(ctx, view, rect, prefs.ui_scale, ViewLayer::Marks);
        let projection = ViewProjection::of_camera(view, camera, transform, clip);
        let v = view as usize;
        let mut colors = Vec::new();
        for (optimizer, mut marks) in &mut optimizers {
            if !optimizer.spec.visible {
                continue;
            }
            let marks = &mut *marks;
            let ring_at = marks.held.unwrap_or(optimizer.spec.start);
            let trail = &marks.trail;
            let m = &mut marks.views[v];
            let seen = m
                .seen_through
                .as_ref()
                .is_some_and(|(p, f)| *p == projection && *f == *frame);
            if !seen {
                m.trail.clear();
                m.ring_at = None;
                m.seen_through = Some((projection.clone(), frame.clone()));
            }
            m.trail.update(trail, &projection, &frame, landscape);
            if m.ring_at != Some(ring_at) {
                (m.ring, m.ring_width) = start_ring(&projection, &frame, landscape, ring_at);
                m.ring_at = Some(ring_at);
            }
            let shown = optimizer.displayed_record();
            // a network run's ball stands at its true loss, the plane's loss under it at the gap's end
            let true_loss = landscape.network().map(|_| shown.loss);
            colors.push((
                display_color(optimizer),
                ball_at(&projection, &frame, landscape, shown.pos, true_loss),
                true_loss.and_then(|l| gap_line(&projection, &frame, landscape, shown.pos, l)),
            ));
        }
        let runs: Vec<RunMarks> = optimizers
            .iter()
            .filter(|(o, _)| o.spec.visible)
            .zip(&colors)
            .map(|((_, marks), &(color, ball, gap))| {
                let m = &marks.views[v];
                RunMarks {
                    trail: m.trail.pixels(),
                    ring: &m.ring,
                    ring_width: m.ring_width,
                    ball,
                    gap,
                    color,
                }
            })
            .collect();
        let width = trail_width(&projection, &frame, landscape);
        paint_runs(&painter, &runs, width, projection.rotation);
    }
    Ok(())
}
