//! Ghost paths: while a start point is dragged, the future of each dragged optimizer from the candidate
//! start (the core's [`trace_into`] with the optimizer's own run config and seed, so the ghost of a noisy
//! optimizer is exactly the run that follows the release), drawn as a light, translucent ribbon in both
//! views, with its end point and final loss labelled over the views.

use bevy::{camera::visibility::NoFrustumCulling, ecs::entity::EntityHashMap, prelude::*};
use bevy_egui::egui;

use super::drag::DragState;
use crate::core::{RunConfig, RunStatus, StepRecord, trace_into};
use crate::geometry::{SurfaceFrame, TRAIL_WIDTH, ViewKind, place};
use crate::optimizers::{
    Optimizer,
    trail::{TrailPoints, ribbon_strip, write_ribbon_mesh},
    visuals::{empty_strip, spec_color},
};
use crate::paint::{egui_color, outlined};
use crate::state::ActiveLandscape;

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
    /// The run traced, start included; `None` before the first trace.
    pub config: Option<RunConfig>,
    /// Steps asked for.
    pub steps: u64,
    /// The trajectory from the candidate start (`records[0]` is the start); empty when the core refused it.
    pub records: Vec<StepRecord>,
    /// How the traced run ended, or why the core refused the start.
    pub outcome: Result<RunStatus, String>,
    /// Bumped on every retrace, so the meshes know when to rebuild.
    pub generation: u64,
}

impl Default for GhostPath {
    fn default() -> Self {
        Self {
            shown: false,
            config: None,
            steps: 0,
            records: Vec::new(),
            outcome: Ok(RunStatus::Running),
            generation: 0,
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
        self.steps = steps;
        self.generation = self.generation.wrapping_add(1);
        true
    }

    /// The last point of the ghost.
    pub fn end(&self) -> Option<&StepRecord> {
        self.records.last()
    }
}

/// Every optimizer's ghost, by optimizer entity.
#[derive(Resource, Debug, Default)]
pub struct Ghosts(pub EntityHashMap<GhostPath>);

/// A ghost ribbon, child of its optimizer, in one view.
#[derive(Component, Debug)]
pub struct GhostRibbon {
    pub view: ViewKind,
    /// Generation of the path the mesh shows.
    drawn: u64,
    /// Colour the material was last set to.
    color: Color,
}

/// Retraces the ghosts of the dragged optimizers when the candidate start, their settings or the ghost
/// length changed; hides the others.
pub fn trace_ghosts(
    drag: Res<DragState>,
    settings: Res<GhostSettings>,
    optimizers: Query<(Entity, &Optimizer)>,
    mut ghosts: ResMut<Ghosts>,
) {
    let Some(active) = drag.active else {
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
    for (entity, optimizer) in &optimizers {
        let dragged = active.moves(entity) && optimizer.spec.visible;
        let ghost = ghosts.0.entry(entity).or_default();
        ghost.shown = dragged;
        if dragged {
            // exactly what `Optimizer::set_start` will run on release
            let mut config = optimizer.spec.run_config();
            config.start = active.start;
            ghost.trace(optimizer.runner.landscape(), config, steps);
        }
    }
    ghosts.0.retain(|entity, _| optimizers.contains(*entity));
}

/// Gives each new optimizer a hidden ghost ribbon per view, with its own translucent material.
pub fn spawn_ghost_ribbons(
    mut commands: Commands,
    added: Query<(Entity, &Optimizer), Added<Optimizer>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    for (entity, optimizer) in &added {
        let color = ghost_color(spec_color(optimizer.spec.color));
        let material = materials.add(StandardMaterial {
            base_color: color,
            alpha_mode: AlphaMode::Blend,
            unlit: true,
            cull_mode: None,
            double_sided: true,
            depth_bias: 300.0,
            ..default()
        });
        commands.entity(entity).with_children(|parent| {
            for view in [ViewKind::ThreeD, ViewKind::Top] {
                parent.spawn((
                    Name::new("Ghost path"),
                    GhostRibbon {
                        view,
                        drawn: u64::MAX,
                        color,
                    },
                    Mesh3d(meshes.add(empty_strip())),
                    MeshMaterial3d(material.clone()),
                    view.layers(),
                    Pickable::IGNORE,
                    NoFrustumCulling,
                    Visibility::Hidden,
                    Transform::default(),
                ));
            }
        });
    }
}

/// The ghost's colour: the optimizer's, lightened toward white and translucent.
pub fn ghost_color(color: Color) -> Color {
    let c = color.to_srgba().mix(&Srgba::WHITE, 0.35);
    Color::Srgba(c.with_alpha(0.55))
}

/// Shows the ribbons of shown ghosts, rewriting a mesh in place only when its path was retraced.
pub fn draw_ghost_ribbons(
    ghosts: Res<Ghosts>,
    optimizers: Query<&Optimizer>,
    mut ribbons: Query<(
        &mut GhostRibbon,
        &ChildOf,
        &Mesh3d,
        &MeshMaterial3d<StandardMaterial>,
        &mut Visibility,
    )>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut centre: Local<Vec<Vec3>>,
    mut strip: Local<Vec<[f32; 3]>>,
) {
    let width = (frame.domain.x[1] - frame.domain.x[0]).max(frame.domain.y[1] - frame.domain.y[0]);
    let (min_step, max_step) = (width / 800.0, width / 150.0);
    for (mut ribbon, parent, mesh3d, material, mut visibility) in &mut ribbons {
        let ghost = ghosts
            .0
            .get(&parent.parent())
            .filter(|g| g.shown && g.records.len() >= 2);
        let wanted = if ghost.is_some() {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        visibility.set_if_neq(wanted);
        let Some(ghost) = ghost else {
            continue;
        };
        if let Ok(optimizer) = optimizers.get(parent.parent()) {
            let color = ghost_color(spec_color(optimizer.spec.color));
            if color != ribbon.color
                && let Some(mut m) = materials.get_mut(&material.0)
            {
                m.base_color = color;
                ribbon.color = color;
            }
        }
        if ribbon.drawn == ghost.generation && !frame.is_changed() {
            continue;
        }
        ribbon.drawn = ghost.generation;
        let mut points = TrailPoints::default();
        points.extend_by(&ghost.records, |r| r.pos, min_step, max_step);
        centre.clear();
        centre.extend(
            points
                .points
                .iter()
                .map(|&p| place(&frame, &landscape.0, ribbon.view, p, 0.04)),
        );
        ribbon_strip(&centre, 1.4 * TRAIL_WIDTH, &mut strip);
        if let Some(mut mesh) = meshes.get_mut(&mesh3d.0) {
            write_ribbon_mesh(&mut mesh, &strip);
        }
    }
}

/// Text under a ghost's end point: final loss and how the run ended.
pub fn end_label(name: &str, ghost: &GhostPath) -> String {
    match (&ghost.outcome, ghost.end()) {
        (Err(e), _) => format!("{name}: cannot start here ({e})"),
        (Ok(status), Some(end)) => {
            let how = match status {
                RunStatus::Running => format!("after {} steps", end.step),
                other => other.to_string(),
            };
            format!("{name}: L = {:.4e} {how}", end.loss)
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
    let mut placed: Vec<egui::Rect> = Vec::new();
    for (entity, ghost) in shown {
        let Ok(optimizer) = optimizers.get(*entity) else {
            continue;
        };
        let color = egui_color(optimizer.spec.color);
        let label = end_label(&optimizer.spec.name, ghost);
        let at = match ghost.end() {
            Some(end) => end.pos,
            // refused: label the candidate start instead
            None => match ghost.config {
                Some(config) => config.start,
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
        let size = egui::vec2(
            label.chars().count() as f32 * 0.55 * LABEL_SIZE,
            LABEL_SIZE + 3.0,
        );
        let mut min = pos + egui::vec2(11.0, 8.0);
        if min.x + size.x > clip.max.x {
            // near the right edge: write it to the left of the marker
            min.x = (pos.x - 11.0 - size.x).max(clip.min.x);
        }
        let rect_at = |m: egui::Pos2| egui::Rect::from_min_size(m, size).shrink(1.0);
        while placed.iter().any(|r| r.intersects(rect_at(min))) {
            min.y += size.y;
        }
        placed.push(rect_at(min));
        outlined(
            painter,
            min,
            egui::Align2::LEFT_TOP,
            &label,
            color,
            LABEL_SIZE,
        );
    }
}
