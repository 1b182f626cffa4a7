//! The look of the projector settings: egui's dark theme or a high-contrast variant. The settings
//! themselves ([`UiPrefs`](crate::state::UiPrefs)) live in `state`; the panel saves them when they change.

use bevy_egui::egui;

/// egui's dark theme, or a high-contrast variant (pure white text, heavier strokes, black panels).
pub fn visuals(high_contrast: bool) -> egui::Visuals {
    let mut v = egui::Visuals::dark();
    // a blinking cursor would keep the app drawing while it waits for a key
    v.text_cursor.blink = false;
    if high_contrast {
        v.override_text_color = Some(egui::Color32::WHITE);
        v.panel_fill = egui::Color32::BLACK;
        v.window_fill = egui::Color32::BLACK;
        v.extreme_bg_color = egui::Color32::BLACK;
        v.widgets.noninteractive.bg_stroke = egui::Stroke::new(1.5, egui::Color32::WHITE);
        v.widgets.inactive.bg_stroke = egui::Stroke::new(1.5, egui::Color32::from_gray(200));
        v.widgets.inactive.fg_stroke = egui::Stroke::new(2.0, egui::Color32::WHITE);
        v.widgets.hovered.fg_stroke = egui::Stroke::new(2.5, egui::Color32::YELLOW);
        v.widgets.active.fg_stroke = egui::Stroke::new(2.5, egui::Color32::YELLOW);
        v.selection.bg_fill = egui::Color32::from_rgb(0, 90, 200);
    }
    v
}
