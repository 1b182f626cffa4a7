//! Ghost paths: while a start point is dragged, the future of each dragged optimizer from the candidate
//! start (the core's [`trace_into`] with the optimizer's own run config and seed, so the ghost of a noisy
//! optimizer is exactly the run that follows the release), drawn as a light, translucent path in both
//! views, with its end point and final loss labelled over the views.
//!
//! On a network a step costs a pass over the data for every weight, so a ghost there is traced a slice
//! of steps per frame ([`NETWORK_FRAME_BUDGET`]) and grows on screen until it is whole; on a 2-D
//! landscape the whole path is traced at once (5,000 steps take well under a millisecond).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::{ecs::entity::EntityHashMap, prelude::*};
use bevy_egui::{EguiContexts, egui};

use super::drag::DragState;
use crate::core::network::Plane;
use crate::core::run::SceneRun;
use crate::core::scene::OptimizerSpec;
use crate::core::{RunConfig, RunStatus, StepRecord, Vec2d, trace_into};
use crate::geometry::ViewCameras;
use crate::geometry::{SurfaceFrame, ViewKind, ViewProjection, place, trail::TrailPoints};
use crate::optimizers::{Optimizer, visuals::spec_color};
use crate::paint::{
    LabelPlacer, ViewLayer, egui_color,
    marks::{ProjectedTrail, polylines, trail_width},
    placed_label, view_painter,
};
use crate::state::{ActiveLandscape, UiPrefs};

/// How long the ghosts of network runs may step per frame, all together: a frame stays smooth while
/// the ghosts grow.
pub const NETWORK_FRAME_BUDGET: Duration = Duration::from_millis(4);

/// Ghost length bounds, steps.
pub const GHOST_STEPS_RANGE: (u32, u32) = (10, 5000);

/// How far ahead a ghost looks (the panel's "ghost steps" slider).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct GhostSettings {
    /// Steps traced from the candidate start (default 500).
    pub steps: u32,
}

impl Default for GhostSettings {
    fn default() -> Self {
        Self { steps: 500 }
    }
}

/// One optimizer's ghost. Its buffer is kept between drags, so tracing allocates nothing once warm.
#[derive(Debug, Clone)]
pub struct GhostPath {
    /// Drawn now (its optimizer is being dragged and visible).
    pub shown: bool,
    /// The run traced, start included; `None` before the first trace and on a network.
    pub config: Option<RunConfig>,
    /// The candidate start, in the view's coordinates.
    pub start: Option<Vec2d>,
    /// On a network: the run being traced, until it has `steps` steps or stops.
    network: Option<NetworkGhost>,
    /// Steps asked for.
    pub steps: u64,
    /// The trajectory from the candidate start (`records[0]` is the start); empty when the core refused it.
    pub records: Vec<StepRecord>,
    /// How the traced run ended, or why the core refused the start.
    pub outcome: Result<RunStatus, String>,
    /// Bumped on every retrace.
    pub generation: u64,
    /// The path made fit to draw (rebuilt on every retrace).
    pub trail: TrailPoints,
    /// Per view, the path projected and the projection it was projected with.
    views: [(ProjectedTrail, Option<ViewProjection>); 2],
}

impl Default for GhostPath {
    fn default() -> Self {
        Self {
            shown: false,
            config: None,
            start: None,
            network: None,
            steps: 0,
            records: Vec::new(),
            outcome: Ok(RunStatus::Running),
            generation: 0,
            trail: TrailPoints::new(0.0, f64::INFINITY),
            views: Default::default(),
        }
    }
}

impl GhostPath {
    /// Traces `config` for `steps` steps unless that is what the buffer already holds; returns whether
    /// it retraced.
    pub fn trace(
        &mut self,
        landscape: &crate::core::Landscape,
        config: RunConfig,
        steps: u64,
    ) -> bool {
        if self.config == Some(config) && self.steps == steps {
            return false;
        }
        self.outcome =
            trace_into(landscape, &config, steps, &mut self.records).map_err(|e| e.to_string());
        if self.outcome.is_err() {
            self.records.clear();
        }
        self.config = Some(config);
        self.start = Some(config.start);
        self.network = None;
        self.steps = steps;
        self.generation = self.generation.wrapping_add(1);
        self.trail.restart(&landscape.domain());
        self.trail.extend(self.records.iter().map(|r| r.pos));
        true
    }

    /// Traces, on a network, `optimizer` started at `start` (a point of the plane shown) for `steps`
    /// steps, as far as `deadline` allows this frame; the next call goes on where this one stopped
    /// unless the start, the optimizer's settings, the plane or the length changed. Returns whether it
    /// added anything.
    pub fn trace_network(
        &mut self,
        optimizer: &Optimizer,
        start: Vec2d,
        steps: u64,
        domain: &crate::core::Domain,
        deadline: Instant,
    ) -> bool {
        let Some(plane) = optimizer.run.network().map(|n| Arc::clone(n.plane())) else {
            return false;
        };
        let spec = optimizer.spec_from(start);
        let same = self.steps == steps
            && self.start == Some(start)
            && self
                .network
                .as_ref()
                .is_some_and(|g| g.spec == spec && Arc::ptr_eq(&g.plane, &plane));
        if !same {
            self.config = None;
            self.start = Some(start);
            self.steps = steps;
            self.records.clear();
            self.generation = self.generation.wrapping_add(1);
            self.trail.restart(domain);
            // a clone shares the network and the plane; `configure` puts it at the new start
            let mut run = optimizer.run.clone();
            self.network = match run.configure(&spec) {
                Ok(()) => {
                    let first = run.record();
                    self.records.push(first);
                    self.trail.push(first.pos);
                    self.outcome = Ok(run.status());
                    Some(NetworkGhost { spec, plane, run })
                }
                Err(e) => {
                    self.outcome = Err(e.to_string());
                    None
                }
            };
        }
        let Some(ghost) = &mut self.network else {
            return !same;
        };
        let before = self.records.len();
        // at least one step per frame, however short the budget
        while (self.records.len() as u64) <= steps {
            let Some(record) = ghost.run.step() else {
                break;
            };
            self.records.push(record);
            self.trail.push(record.pos);
            if Instant::now() >= deadline {
                break;
            }
        }
        self.outcome = Ok(ghost.run.status());
        !same || self.records.len() > before
    }

    /// Whether the path holds every step asked for (or its run stopped before).
    pub fn is_whole(&self) -> bool {
        match &self.network {
            Some(ghost) => {
                self.records.len() as u64 > self.steps || !ghost.run.status().is_running()
            }
            None => true,
        }
    }

    /// The last point of the ghost.
    pub fn end(&self) -> Option<&StepRecord> {
        self.records.last()
    }
}

/// A network ghost's run, traced a slice per frame, and what it was started from.
#[derive(Debug, Clone)]
struct NetworkGhost {
    spec: OptimizerSpec,
    plane: Arc<Plane>,
    run: SceneRun,
}

/// Every optimizer's ghost, by optimizer entity.
#[derive(Resource, Debug, Default)]
pub struct Ghosts(pub EntityHashMap<GhostPath>);

/// Retraces the ghosts of the dragged optimizers when the candidate start, their settings or the ghost
/// length changed; hides the others.
pub fn trace_ghosts(
    drag: Res<DragState>,
    settings: Res<GhostSettings>,
    optimizers: Query<(Entity, &Optimizer)>,
    mut ghosts: ResMut<Ghosts>,
    predict: Option<Res<crate::state::PredictMode>>,
    landscape: Res<ActiveLandscape>,
) {
    // predict mode hides the future: no ghost path while the class guesses
    let hidden = predict.is_some_and(|p| p.on);
    let Some(active) = drag.active.filter(|_| !hidden) else {
        if ghosts.0.values().any(|g| g.shown) {
            for ghost in ghosts.0.values_mut() {
                ghost.shown = false;
            }
        }
        return;
    };
    let steps = u64::from(
        settings
            .steps
            .clamp(GHOST_STEPS_RANGE.0, GHOST_STEPS_RANGE.1),
    );
    // the budget is shared evenly, so that every dragged run's ghost grows while the mouse moves
    let on_network = optimizers
        .iter()
        .filter(|(entity, o)| active.moves(*entity) && o.spec.visible && o.run.network().is_some())
        .count()
        .max(1);
    let share = NETWORK_FRAME_BUDGET / on_network as u32;
    let domain = landscape.0.domain();
    for (entity, optimizer) in &optimizers {
        let dragged = active.moves(entity) && optimizer.spec.visible;
        let ghost = ghosts.0.entry(entity).or_default();
        ghost.shown = dragged;
        if !dragged {
            continue;
        }
        // exactly what `Optimizer::set_start` will run on release
        match optimizer.run.surface() {
            Some(runner) => {
                let mut config = optimizer.spec.run_config();
                config.start = active.start;
                ghost.trace(runner.landscape(), config, steps);
            }
            None => {
                let deadline = Instant::now() + share;
                ghost.trace_network(optimizer, active.start, steps, &domain, deadline);
            }
        }
    }
    ghosts.0.retain(|entity, _| optimizers.contains(*entity));
}

/// The ghost's colour: the optimizer's, lightened toward white and translucent.
pub fn ghost_color(color: Color) -> Color {
    let c = color.to_srgba().mix(&Srgba::WHITE, 0.35);
    Color::Srgba(c.with_alpha(0.55))
}

/// Paints the shown ghosts' paths over each view (projected again only when retraced or when the camera
/// moved), under the balls' layer's labels.
pub fn paint_ghosts(
    mut contexts: EguiContexts,
    prefs: Res<UiPrefs>,
    mut ghosts: ResMut<Ghosts>,
    optimizers: Query<&Optimizer>,
    cameras: ViewCameras,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
) -> Result {
    if !ghosts.0.values().any(|g| g.shown) {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    for (view, camera, transform, rect) in cameras.shown() {
        let (painter, clip) = view_painter(ctx, view, rect, prefs.ui_scale, ViewLayer::Marks);
        let projection = ViewProjection::of_camera(view, camera, transform, clip);
        let width = 1.4 * trail_width(&projection, &frame, &landscape.0);
        for (entity, ghost) in ghosts.0.iter_mut().filter(|(_, g)| g.shown) {
            let Ok(optimizer) = optimizers.get(*entity) else {
                continue;
            };
            let (projected, seen_through) = &mut ghost.views[view as usize];
            if seen_through.as_ref() != Some(&projection) || frame.is_changed() {
                projected.clear();
                *seen_through = Some(projection.clone());
            }
            projected.update(&ghost.trail, &projection, &frame, &landscape.0);
            let color = ghost_color(spec_color(optimizer.spec.color));
            polylines(
                &painter,
                projected.pixels(),
                egui::Stroke::new(width, crate::paint::marks::color32_alpha(color)),
            );
        }
    }
    Ok(())
}

/// Text under a ghost's end point: final loss and how the run ended.
pub fn end_label(name: &str, ghost: &GhostPath) -> String {
    match (&ghost.outcome, ghost.end()) {
        (Err(e), _) => format!("{name}: cannot start here ({e})"),
        (Ok(status), Some(end)) => {
            let how = match status {
                RunStatus::Running if !ghost.is_whole() => {
                    format!("after {} of {} steps (tracing)", end.step, ghost.steps)
                }
                RunStatus::Running => format!("after {} steps", end.step),
                other => other.to_string(),
            };
            format!("{name}: L = {} {how}", crate::core::num(end.loss))
        }
        (Ok(_), None) => String::new(),
    }
}

/// Size of the end labels' text (egui points).
const LABEL_SIZE: f32 = 14.0;

/// Marks each shown ghost's end point in a view (a ring in the optimizer's colour) with its final loss.
/// Labels stay inside the view (`clip`) and stack instead of overprinting when ghosts end together.
pub fn paint_ghost_ends(
    painter: &egui::Painter,
    clip: egui::Rect,
    view: ViewKind,
    camera: &Camera,
    transform: &GlobalTransform,
    to_egui: impl Fn(Vec2) -> egui::Pos2,
    ghosts: &Ghosts,
    optimizers: &Query<&Optimizer>,
    frame: &SurfaceFrame,
    landscape: &ActiveLandscape,
) {
    // a stable order, so stacked labels do not swap places from frame to frame
    let mut shown: Vec<_> = ghosts.0.iter().filter(|(_, g)| g.shown).collect();
    shown.sort_by_key(|(entity, _)| **entity);
    let mut placer = LabelPlacer::new(clip);
    for (entity, ghost) in shown {
        let Ok(optimizer) = optimizers.get(*entity) else {
            continue;
        };
        let color = egui_color(optimizer.spec.color);
        let label = end_label(&optimizer.spec.name, ghost);
        let at = match ghost.end() {
            Some(end) => end.pos,
            // refused: label the candidate start instead
            None => match ghost.start {
                Some(start) => start,
                None => continue,
            },
        };
        let world = place(frame, &landscape.0, view, at, 0.06);
        let Ok(screen) = camera.world_to_viewport(transform, world) else {
            continue;
        };
        let pos = to_egui(screen);
        painter.circle_stroke(pos, 7.0, egui::Stroke::new(2.5, color));
        painter.circle_stroke(pos, 9.0, egui::Stroke::new(1.0, egui::Color32::BLACK));
        placed_label(painter, &mut placer, pos, &label, color, LABEL_SIZE);
    }
}
