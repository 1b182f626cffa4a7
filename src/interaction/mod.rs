//! Direct manipulation: drag a start point (its ring) in either view and see each dragged optimizer's
//! future as a ghost path, live; release to restart the run from there. Shift-drag moves every start,
//! Ctrl-click on the surface adds an optimizer, and a readout shows x, y and the loss under the cursor.
//!
//! - [`drag`]: rings hit in screen space; press, drag and release of the primary button.
//! - [`ghost`]: ghost paths (the core's `trace_into`) and their painting.
//! - [`hover`]: the readout under the cursor.

pub mod drag;
pub mod ghost;
pub mod hover;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use crate::geometry::{SurfaceFrame, ViewKind};
use crate::optimizers::Optimizer;
use crate::state::{ActiveLandscape, UiPrefs};
use crate::system_order::AppSystems;
use crate::third_party::camera::PointerCaptured;
use crate::views::ViewRects;

pub use drag::{ActiveDrag, DragState};
pub use ghost::{GHOST_STEPS_RANGE, GhostPath, GhostSettings, Ghosts};
pub use hover::{HoverPoint, HoverReadout};

/// Dragging without rendering: the state, the pointer's presses, drags and releases, and the ghost
/// tracing, so headless tests can drive it with `MinimalPlugins`, the simulation and a window entity.
pub fn drag_plugin(app: &mut App) {
    app.init_resource::<DragState>()
        .init_resource::<GhostSettings>()
        .init_resource::<Ghosts>()
        .init_resource::<PointerCaptured>()
        .init_resource::<SurfaceFrame>()
        .init_resource::<ActiveLandscape>()
        .add_message::<bevy::window::CursorMoved>()
        .add_systems(
            Update,
            (
                drag::drive_pointer.in_set(AppSystems::Pointer),
                ghost::trace_ghosts.in_set(AppSystems::Ghosts),
                drag::hold_rings.in_set(AppSystems::Present),
            ),
        );
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(drag_plugin)
        .init_resource::<HoverReadout>()
        .add_systems(Update, hover::update_hover.in_set(AppSystems::Pointer))
        .add_systems(
            EguiPrimaryContextPass,
            (
                ghost::paint_ghosts.in_set(AppSystems::UiMarks),
                draw_interaction_overlay.in_set(AppSystems::UiReadouts),
            ),
        );
}

/// The ghosts' end points with their final loss, and the readout under the cursor, over the views.
fn draw_interaction_overlay(
    mut contexts: EguiContexts,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    optimizers: Query<&Optimizer>,
    ghosts: Res<Ghosts>,
    readout: Res<HoverReadout>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let scale = prefs.ui_scale.max(0.1);
    let to_egui = |v: Vec2| egui::pos2(v.x / scale, v.y / scale);
    for (view, camera, transform) in &cameras {
        let Some(rect) = rects.get(*view) else {
            continue;
        };
        let (painter, clip) =
            crate::paint::view_painter(ctx, *view, rect, scale, crate::paint::ViewLayer::Readout);
        ghost::paint_ghost_ends(
            &painter,
            clip,
            *view,
            camera,
            transform,
            to_egui,
            &ghosts,
            &optimizers,
            &frame,
            &landscape,
        );
        if let Some(point) = readout.0.filter(|p| p.view == *view) {
            hover::paint_readout(&painter, clip, &point);
        }
    }
    Ok(())
}

/// The panel's drag section: ghost length, and how to drag.
pub fn drag_controls(ui: &mut egui::Ui, settings: &mut GhostSettings) {
    let mut steps = settings.steps;
    ui.add(
        egui::Slider::new(&mut steps, GHOST_STEPS_RANGE.0..=GHOST_STEPS_RANGE.1)
            .logarithmic(true)
            .text("ghost steps"),
    )
    .on_hover_text("how far ahead the ghost path looks while a start point is dragged");
    if steps != settings.steps {
        settings.steps = steps;
    }
    ui.small("drag a ring: move its start · Shift-drag: all starts · Ctrl-click: add here");
}
