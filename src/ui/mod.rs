//! The control panel (egui): lessons, playback, landscape and surface, one card per optimizer, the loss
//! plot, scene files and projector settings; and the overlays drawn over the views (labels on the balls,
//! axis ticks in the top view). egui code is plain functions of state; the systems only fetch and call.

pub mod controls;
pub mod overlay;
pub mod plot;
pub mod prefs;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use crate::views::ViewportInsets;

pub use controls::PanelState;
pub use prefs::UiPrefs;

/// Width of the side panel when it first opens (egui points).
pub const PANEL_WIDTH: f32 = 370.0;

/// Order of the egui systems.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UiSystems {
    /// Theme and scale.
    Style,
    /// The side panel; records how much room it takes.
    Panel,
    /// Labels and axes over the views.
    Overlay,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<PanelState>()
        .insert_resource(UiPrefs::load())
        .configure_sets(
            EguiPrimaryContextPass,
            (UiSystems::Style, UiSystems::Panel, UiSystems::Overlay).chain(),
        )
        .add_systems(
            EguiPrimaryContextPass,
            (
                apply_prefs.in_set(UiSystems::Style),
                controls::side_panel.in_set(UiSystems::Panel),
                overlay::draw_overlays.in_set(UiSystems::Overlay),
            ),
        )
        .add_systems(
            Update,
            prefs::save_prefs.run_if(resource_changed::<UiPrefs>),
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

/// Records the room the panel takes, in logical window pixels, for the views' viewports.
pub fn set_insets(insets: &mut ViewportInsets, left_points: f32, ui_scale: f32) {
    let left = (left_points * ui_scale).max(0.0);
    if (insets.left - left).abs() > 0.5 {
        insets.left = left;
    }
}

/// An sRGB colour for egui from a spec colour.
pub fn egui_color(rgb: [f32; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(
        (rgb[0].clamp(0.0, 1.0) * 255.0).round() as u8,
        (rgb[1].clamp(0.0, 1.0) * 255.0).round() as u8,
        (rgb[2].clamp(0.0, 1.0) * 255.0).round() as u8,
    )
}
