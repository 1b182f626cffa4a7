//! The control panel (egui): lessons, playback, landscape and surface, one card per optimizer, the loss
//! plot, scene files and projector settings; and the overlays drawn over the views (labels on the balls,
//! axis ticks in the top view). egui code is plain functions of state; the systems only fetch and call.

pub mod controls;
pub mod curvature;
pub mod overlay;
pub mod plot;
pub mod prefs;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use crate::state::{PanelState, UiPrefs};
use crate::system_order::AppSystems;
use crate::views::ViewportInsets;

/// Width of the side panel when it first opens (egui points).
pub const PANEL_WIDTH: f32 = 370.0;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<PanelState>()
        .insert_resource(UiPrefs::load())
        .add_systems(
            EguiPrimaryContextPass,
            (
                apply_prefs.in_set(AppSystems::UiStyle),
                controls::side_panel.in_set(AppSystems::UiPanel),
                overlay::draw_overlays.in_set(AppSystems::UiOverlays),
                curvature::draw_curvature.in_set(AppSystems::UiOverlays),
            ),
        )
        .add_systems(
            Update,
            save_prefs
                .run_if(resource_changed::<UiPrefs>)
                .in_set(AppSystems::Persist),
        );
}

/// Applies the projector settings (scale and theme) when they change.
fn apply_prefs(
    prefs: Res<UiPrefs>,
    mut contexts: EguiContexts,
    mut applied: Local<Option<UiPrefs>>,
) -> Result {
    if applied.as_ref() == Some(&*prefs) {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    ctx.set_visuals(prefs::visuals(prefs.high_contrast));
    ctx.set_zoom_factor(prefs.ui_scale);
    *applied = Some(prefs.clone());
    Ok(())
}

/// Saves the projector settings when they change; a failure is logged, never fatal.
fn save_prefs(prefs: Res<UiPrefs>) {
    if prefs.is_added() {
        return;
    }
    if let Err(e) = prefs.save() {
        warn!("{e}");
    }
}

/// Records the room the panel takes, in logical window pixels, for the views' viewports.
pub fn set_insets(insets: &mut ViewportInsets, left_points: f32, ui_scale: f32) {
    let left = (left_points * ui_scale).max(0.0);
    if (insets.left - left).abs() > 0.5 {
        insets.left = left;
    }
}
