//! Dragging start points: a press on a start ring (within a few pixels of it, in either view) holds it;
//! moving the pointer moves a candidate start (the point under the pointer, clamped to the domain) while
//! the orbit cameras stay still ([`PointerCaptured`]); the release restarts the run from there. Shift
//! moves every start together; Ctrl-click on the surface adds an optimizer of the panel's kind.
//!
//! The rings are painted, not meshes: they are hit in screen space, by projecting each start through the
//! view's camera (in 3D only where the surface does not hide it).

use bevy::{
    prelude::*,
    window::{CursorMoved, PrimaryWindow},
};

use crate::core::{Vec2d, scene::MAX_OPTIMIZERS, scene::OptimizerSpec};
use crate::geometry::ViewCameras;
use crate::geometry::{BALL_RADIUS, SurfaceFrame, ViewKind, drag_param, place, pointer_param};
use crate::optimizers::{Optimizer, optimizer, visuals::Marks};
use crate::paint::marks::{RING_LIFT, RING_RADIUS};
use crate::state::{ActiveLandscape, PanelState};
use crate::third_party::camera::PointerCaptured;

/// A drag in progress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActiveDrag {
    /// The optimizer whose ring is held.
    pub optimizer: Entity,
    /// The view the drag happens in (its camera turns the pointer into a ray).
    pub view: ViewKind,
    /// Candidate start in `param` space, inside the domain.
    pub start: Vec2d,
    /// Shift held: every optimizer shares this start.
    pub all: bool,
}

impl ActiveDrag {
    /// Whether this drag moves `optimizer`'s start.
    pub fn moves(&self, optimizer: Entity) -> bool {
        self.all || optimizer == self.optimizer
    }
}

/// What the pointer holds.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct DragState {
    /// A ring pressed (not necessarily moved yet): its optimizer and view, and where the press was
    /// (logical window pixels).
    pub pressed: Option<(Entity, ViewKind, Vec2)>,
    /// The drag, once the pointer moved.
    pub active: Option<ActiveDrag>,
    /// Whether the primary button was down last frame (presses and releases are the changes).
    button_down: bool,
    /// The pointer's last position in the window (logical pixels), also outside it while a drag holds
    /// the pointer (the window's own cursor position stops at its edges).
    cursor: Option<Vec2>,
}

/// Pixels the pointer must move with a ring held before it counts as a drag (not a click).
pub const DRAG_THRESHOLD: f32 = 3.0;
/// Extra pixels around a ring where a press still takes it.
const GRAB_MARGIN: f32 = 6.0;

fn held(keys: &Option<Res<ButtonInput<KeyCode>>>, a: KeyCode, b: KeyCode) -> bool {
    keys.as_ref().is_some_and(|k| k.any_pressed([a, b]))
}

/// The view whose viewport holds a window position (logical pixels), its camera and transform.
pub fn camera_at<'a>(
    position: Vec2,
    cameras: &'a ViewCameras,
) -> Option<(ViewKind, &'a Camera, &'a GlobalTransform)> {
    cameras
        .shown()
        .find(|(.., rect)| rect.contains(position))
        .map(|(view, camera, transform, _)| (view, camera, transform))
}

/// The landscape point under a window position, or `None` off the surface or outside the views.
pub fn param_under(
    position: Vec2,
    cameras: &ViewCameras,
    frame: &SurfaceFrame,
    landscape: &ActiveLandscape,
) -> Option<Vec2d> {
    let (view, camera, transform) = camera_at(position, cameras)?;
    let ray = camera.viewport_to_world(transform, position).ok()?;
    pointer_param(view, ray, frame, |p| landscape.0.value(p))
}

/// The start ring under a window position: the nearest visible one within its radius (plus a margin).
pub fn ring_under(
    position: Vec2,
    cameras: &ViewCameras,
    optimizers: &Query<(Entity, &Optimizer)>,
    frame: &SurfaceFrame,
    landscape: &ActiveLandscape,
) -> Option<(Entity, ViewKind)> {
    let (view, camera, transform) = camera_at(position, cameras)?;
    let projection = crate::geometry::ViewProjection::of_camera(
        view,
        camera,
        transform,
        bevy_egui::egui::Rect::from_min_max(
            bevy_egui::egui::pos2(0.0, 0.0),
            bevy_egui::egui::pos2(1.0, 1.0),
        ),
    );
    optimizers
        .iter()
        .filter(|(_, o)| o.spec.visible)
        .filter_map(|(entity, o)| {
            let world = place(frame, &landscape.0, view, o.spec.start, RING_LIFT);
            let at = camera.world_to_viewport(transform, world).ok()?;
            let edge = world + transform.rotation() * Vec3::X * (RING_RADIUS * BALL_RADIUS);
            let radius = camera
                .world_to_viewport(transform, edge)
                .map_or(0.0, |e| e.distance(at));
            let distance = at.distance(position);
            let hidden = view == ViewKind::ThreeD
                && !projection.sees(world + Vec3::Y * BALL_RADIUS, frame, &landscape.0);
            (distance <= radius.max(4.0) + GRAB_MARGIN && !hidden).then_some((distance, entity))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, entity)| (entity, view))
}

/// Presses, drags and releases of the primary button over the views: takes a ring, moves its candidate
/// start, restarts the run on release; Ctrl-click adds an optimizer. The panel's pointer is left alone.
pub fn drive_pointer(
    mouse: Option<Res<ButtonInput<MouseButton>>>,
    keys: Option<Res<ButtonInput<KeyCode>>>,
    window: Query<(Entity, &Window), With<PrimaryWindow>>,
    mut moves: MessageReader<CursorMoved>,
    egui: Option<Res<bevy_egui::input::EguiWantsInput>>,
    cameras: ViewCameras,
    optimizers: Query<(Entity, &Optimizer)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    panel: Option<Res<PanelState>>,
    mut drag: ResMut<DragState>,
    mut captured: ResMut<PointerCaptured>,
    mut commands: Commands,
) {
    let down = mouse.as_ref().is_some_and(|m| m.pressed(MouseButton::Left));
    let was_down = std::mem::replace(&mut drag.button_down, down);
    let primary = window.iter().next();
    if let Some(moved) = moves
        .read()
        .filter(|m| primary.is_some_and(|(entity, _)| m.window == entity))
        .last()
    {
        drag.cursor = Some(moved.position);
    }
    if drag.cursor.is_none() {
        drag.cursor = primary.and_then(|(_, w)| w.cursor_position());
    }
    let cursor = drag.cursor;
    let shift = held(&keys, KeyCode::ShiftLeft, KeyCode::ShiftRight);
    if down && !was_down {
        let over_panel = egui.is_some_and(|e| e.wants_any_pointer_input());
        let Some(position) = cursor.filter(|_| !over_panel) else {
            return;
        };
        if held(&keys, KeyCode::ControlLeft, KeyCode::ControlRight) {
            // a Ctrl-click is not the start of an orbit
            captured.0 = true;
            let kind = panel.map_or(crate::core::OptimizerKind::Adam, |p| p.add_kind);
            add_at(
                position,
                kind,
                &cameras,
                &optimizers,
                &frame,
                &landscape,
                &mut commands,
            );
        } else if let Some((entity, view)) =
            ring_under(position, &cameras, &optimizers, &frame, &landscape)
        {
            drag.pressed = Some((entity, view, position));
            captured.0 = true;
        }
        return;
    }
    if down {
        let (Some((entity, view, pressed_at)), Some(position)) = (drag.pressed, cursor) else {
            return;
        };
        if drag.active.is_none() {
            if position.distance(pressed_at) < DRAG_THRESHOLD {
                return;
            }
            let Ok((_, optimizer)) = optimizers.get(entity) else {
                drag.pressed = None;
                return;
            };
            drag.active = Some(ActiveDrag {
                optimizer: entity,
                view,
                start: optimizer.spec.start,
                all: shift,
            });
        }
        if let Some(active) = drag.active.as_mut() {
            active.all = shift;
            if let Some(p) = drag_to(active, position, &cameras, &frame, &landscape) {
                active.start = p;
            }
        }
        return;
    }
    if was_down {
        // the release: every dragged optimizer restarts from the new start
        drag.cursor = primary.and_then(|(_, w)| w.cursor_position());
        drag.pressed = None;
        captured.0 = false;
        if let Some(active) = drag.active.take() {
            drop_at(active, &optimizers, &mut commands);
        }
    }
}

/// Where the pointer drags a start to: the point under it in the drag's view, or the nearest point of
/// the domain's edge off the surface.
fn drag_to(
    active: &ActiveDrag,
    position: Vec2,
    cameras: &ViewCameras,
    frame: &SurfaceFrame,
    landscape: &ActiveLandscape,
) -> Option<Vec2d> {
    let (_, camera, transform) = cameras.all().find(|(view, ..)| *view == active.view)?;
    let ray = camera.viewport_to_world(transform, position).ok()?;
    let height = place(frame, &landscape.0, ViewKind::ThreeD, active.start, 0.0).y;
    drag_param(active.view, ray, frame, |p| landscape.0.value(p), height)
}

/// Restarts every optimizer the drag moves from its new start.
fn drop_at(active: ActiveDrag, optimizers: &Query<(Entity, &Optimizer)>, commands: &mut Commands) {
    for (entity, optimizer) in optimizers {
        if active.moves(entity) && optimizer.spec.start != active.start {
            let start = active.start;
            commands.entity(entity).queue(move |mut e: EntityWorldMut| {
                if let Some(mut optimizer) = e.get_mut::<Optimizer>()
                    && let Err(err) = optimizer.set_start(start)
                {
                    warn!("{}: start not moved: {err}", optimizer.spec.name);
                }
            });
        }
    }
}

/// Adds an optimizer of `kind` starting at the point under the pointer (if it is over the surface).
fn add_at(
    position: Vec2,
    kind: crate::core::OptimizerKind,
    cameras: &ViewCameras,
    optimizers: &Query<(Entity, &Optimizer)>,
    frame: &SurfaceFrame,
    landscape: &ActiveLandscape,
    commands: &mut Commands,
) {
    let Some(p) = param_under(position, cameras, frame, landscape) else {
        return;
    };
    let count = optimizers.iter().count();
    if count >= MAX_OPTIMIZERS {
        warn!("not added: a scene holds at most {MAX_OPTIMIZERS} optimizers");
        return;
    }
    match optimizer(
        OptimizerSpec::with_defaults(kind, count, p),
        landscape.0.clone(),
    ) {
        Ok(bundle) => {
            commands.spawn(bundle);
        }
        Err(e) => warn!("not added at ({:.3}, {:.3}): {e}", p[0], p[1]),
    }
}

/// While dragging, the held start rings follow the candidate start.
pub fn hold_rings(drag: Res<DragState>, mut marks: Query<(Entity, &mut Marks)>) {
    for (entity, mut marks) in &mut marks {
        let held = drag
            .active
            .filter(|a| a.moves(entity))
            .map(|active| active.start);
        if marks.held != held {
            marks.held = held;
        }
    }
}
