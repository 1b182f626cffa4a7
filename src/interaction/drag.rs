//! Dragging start points with Bevy's picking: every start ring carries an invisible pickable disc (a
//! torus has a hole) whose `Pointer<Press/DragStart/Drag/DragEnd>` events move a candidate start; the
//! orbit cameras stay still meanwhile ([`PointerCaptured`]); the release restarts the run from there.
//! Shift moves every start together; Ctrl-click on the surface adds an optimizer of the panel's kind.

use bevy::{
    picking::pointer::{PointerAction, PointerButton, PointerId, PointerInput},
    prelude::*,
};

use crate::core::{Vec2d, scene::MAX_OPTIMIZERS, scene::OptimizerSpec};
use crate::geometry::{BALL_RADIUS, SurfaceFrame, ViewKind, drag_param, place, pointer_param};
use crate::optimizers::{Optimizer, optimizer, visuals::StartMarker};
use crate::state::{ActiveLandscape, PanelState};
use crate::third_party::camera::PointerCaptured;

/// The pickable stand-in for a start ring, child of the ring: which optimizer it moves, in which view.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartHandle {
    pub optimizer: Entity,
    pub view: ViewKind,
}

/// A drag in progress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActiveDrag {
    /// The optimizer whose handle is held.
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
    /// A handle pressed (not necessarily moved yet): the optimizer it belongs to.
    pub pressed: Option<Entity>,
    /// The drag, once the pointer moved.
    pub active: Option<ActiveDrag>,
}

/// Meshes and material of the start handles.
#[derive(Resource)]
pub struct HandleAssets {
    disc: Handle<Mesh>,
    invisible: Handle<StandardMaterial>,
}

/// Radius of a handle's pickable disc in world units (the ring's outer radius is 1.6 ball radii).
pub const HANDLE_RADIUS: f32 = 2.0 * BALL_RADIUS;

pub fn load_handle_assets(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    commands.insert_resource(HandleAssets {
        // thick enough to be hit at grazing angles in 3D
        disc: meshes.add(Cylinder::new(HANDLE_RADIUS, 0.5 * HANDLE_RADIUS)),
        // fully transparent: the ring shows the handle, the disc only catches the pointer
        invisible: materials.add(StandardMaterial {
            base_color: Color::NONE,
            alpha_mode: AlphaMode::Blend,
            unlit: true,
            ..default()
        }),
    });
}

/// Gives each new start ring its pickable disc; the ring itself no longer catches the pointer.
pub fn spawn_handles(
    mut commands: Commands,
    rings: Query<(Entity, &StartMarker, &ChildOf), Added<StartMarker>>,
    assets: Res<HandleAssets>,
) {
    for (ring, marker, parent) in &rings {
        commands.entity(ring).insert(Pickable::IGNORE).with_child((
            Name::new("Start handle"),
            StartHandle {
                optimizer: parent.parent(),
                view: marker.0,
            },
            Mesh3d(assets.disc.clone()),
            MeshMaterial3d(assets.invisible.clone()),
            marker.0.layers(),
            Pickable::default(),
            Transform::default(),
        ));
    }
}

fn shift_held(keys: &Option<Res<ButtonInput<KeyCode>>>) -> bool {
    keys.as_ref()
        .is_some_and(|k| k.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]))
}

fn ctrl_held(keys: &Option<Res<ButtonInput<KeyCode>>>) -> bool {
    keys.as_ref()
        .is_some_and(|k| k.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]))
}

/// A press on a handle holds the cameras still at once, before any movement.
pub fn press_handle(
    mut press: On<Pointer<Press>>,
    handles: Query<&StartHandle>,
    mut drag: ResMut<DragState>,
    mut captured: ResMut<PointerCaptured>,
) {
    let Ok(handle) = handles.get(press.entity) else {
        return;
    };
    press.propagate(false);
    if press.button != PointerButton::Primary {
        return;
    }
    drag.pressed = Some(handle.optimizer);
    captured.0 = true;
}

/// The drag begins where the start is now.
pub fn start_drag(
    mut start: On<Pointer<DragStart>>,
    handles: Query<&StartHandle>,
    optimizers: Query<&Optimizer>,
    keys: Option<Res<ButtonInput<KeyCode>>>,
    mut drag: ResMut<DragState>,
    mut captured: ResMut<PointerCaptured>,
) {
    let Ok(handle) = handles.get(start.entity) else {
        return;
    };
    start.propagate(false);
    let Ok(optimizer) = optimizers.get(handle.optimizer) else {
        return;
    };
    if start.button != PointerButton::Primary {
        return;
    }
    drag.pressed = Some(handle.optimizer);
    drag.active = Some(ActiveDrag {
        optimizer: handle.optimizer,
        view: handle.view,
        start: optimizer.spec.start,
        all: shift_held(&keys),
    });
    captured.0 = true;
}

/// Moves the candidate start to the point under the pointer (clamped to the domain).
pub fn drag_handle(
    mut moved: On<Pointer<Drag>>,
    handles: Query<&StartHandle>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    keys: Option<Res<ButtonInput<KeyCode>>>,
    mut drag: ResMut<DragState>,
) {
    let Ok(handle) = handles.get(moved.entity) else {
        return;
    };
    moved.propagate(false);
    let Some(active) = drag.active.as_mut() else {
        return;
    };
    if moved.button != PointerButton::Primary || active.optimizer != handle.optimizer {
        return;
    }
    active.all = shift_held(&keys);
    let Some((_, camera, transform)) = cameras.iter().find(|(view, ..)| **view == active.view)
    else {
        return;
    };
    let Ok(ray) = camera.viewport_to_world(transform, moved.pointer_location.position) else {
        return;
    };
    let height = place(&frame, &landscape.0, ViewKind::ThreeD, active.start, 0.0).y;
    let loss = |p: Vec2d| landscape.0.value(p);
    if let Some(p) = drag_param(active.view, ray, &frame, loss, height) {
        active.start = p;
    }
}

/// The release: every dragged optimizer restarts from the new start.
pub fn drop_handle(
    mut end: On<Pointer<DragEnd>>,
    handles: Query<&StartHandle>,
    mut optimizers: Query<(Entity, &mut Optimizer)>,
    mut drag: ResMut<DragState>,
    mut captured: ResMut<PointerCaptured>,
) {
    if !handles.contains(end.entity) {
        return;
    }
    end.propagate(false);
    if end.button != PointerButton::Primary {
        return;
    }
    captured.0 = false;
    drag.pressed = None;
    let Some(active) = drag.active.take() else {
        return;
    };
    for (entity, mut optimizer) in &mut optimizers {
        if active.moves(entity)
            && optimizer.spec.start != active.start
            && let Err(e) = optimizer.set_start(active.start)
        {
            warn!("{}: start not moved: {e}", optimizer.spec.name);
        }
    }
}

/// Lets go of the pointer on any primary release that ends no drag (a press on a handle without
/// moving, or a Ctrl-click), so the cameras never stay locked.
pub fn release_pointer(
    mut inputs: MessageReader<PointerInput>,
    mut drag: ResMut<DragState>,
    mut captured: ResMut<PointerCaptured>,
) {
    let released = inputs.read().any(|input| {
        input.pointer_id == PointerId::Mouse
            && matches!(input.action, PointerAction::Release(PointerButton::Primary))
    });
    if released && drag.active.is_none() {
        drag.pressed = None;
        if captured.0 {
            captured.0 = false;
        }
    }
}

/// Ctrl-click on the surface (the window is what the pointer hits there: the surface is not pickable)
/// adds an optimizer of the panel's chosen kind, starting at the point under the pointer.
pub fn add_at_pointer(
    press: On<Pointer<Press>>,
    windows: Query<(), With<Window>>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    keys: Option<Res<ButtonInput<KeyCode>>>,
    panel: Option<Res<PanelState>>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    optimizers: Query<&Optimizer>,
    mut captured: ResMut<PointerCaptured>,
    mut commands: Commands,
) {
    // only a press that hit nothing but the window (not one bubbling up from a handle or the panel)
    let target = press.original_event_target();
    if !windows.contains(target) || press.button != PointerButton::Primary {
        return;
    }
    if !ctrl_held(&keys) {
        return;
    }
    // a Ctrl-click is not the start of an orbit
    captured.0 = true;
    let position = press.pointer_location.position;
    let Some(p) = param_under(position, &cameras, &frame, &landscape) else {
        return;
    };
    let count = optimizers.iter().count();
    if count >= MAX_OPTIMIZERS {
        warn!("not added: a scene holds at most {MAX_OPTIMIZERS} optimizers");
        return;
    }
    let kind = panel.map_or(crate::core::OptimizerKind::Adam, |p| p.add_kind);
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

/// The view whose viewport holds a window position (logical pixels), its camera and transform.
pub fn camera_at<'a>(
    position: Vec2,
    cameras: &'a Query<(&ViewKind, &Camera, &GlobalTransform)>,
) -> Option<(ViewKind, &'a Camera, &'a GlobalTransform)> {
    cameras
        .iter()
        .find(|(_, camera, _)| {
            camera.is_active
                && camera
                    .logical_viewport_rect()
                    .is_some_and(|r| r.contains(position))
        })
        .map(|(view, camera, transform)| (*view, camera, transform))
}

/// The landscape point under a window position, or `None` off the surface or outside the views.
pub fn param_under(
    position: Vec2,
    cameras: &Query<(&ViewKind, &Camera, &GlobalTransform)>,
    frame: &SurfaceFrame,
    landscape: &ActiveLandscape,
) -> Option<Vec2d> {
    let (view, camera, transform) = camera_at(position, cameras)?;
    let ray = camera.viewport_to_world(transform, position).ok()?;
    pointer_param(view, ray, frame, |p| landscape.0.value(p))
}

/// While dragging, the held start rings (and their handles) follow the candidate start.
pub fn follow_drag(
    drag: Res<DragState>,
    mut rings: Query<(&StartMarker, &ChildOf, &mut Transform)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
) {
    let Some(active) = drag.active else {
        return;
    };
    for (marker, parent, mut transform) in &mut rings {
        if !active.moves(parent.parent()) {
            continue;
        }
        let target = place(&frame, &landscape.0, marker.0, active.start, 0.02);
        if target.is_finite() && transform.translation != target {
            transform.translation = target;
        }
    }
}
