//! Projector settings: UI scale (large fonts for the back row) and a high-contrast theme, remembered
//! between runs in `$XDG_CONFIG_HOME/losscape/prefs.ron` (or `~/.config/losscape/prefs.ron`).

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::egui;
use serde::{Deserialize, Serialize};

/// Remembered UI settings.
#[derive(Resource, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiPrefs {
    /// egui scale factor, 0.75 ..= 2.5.
    pub ui_scale: f32,
    pub high_contrast: bool,
}

impl Default for UiPrefs {
    fn default() -> Self {
        Self {
            ui_scale: 1.0,
            high_contrast: false,
        }
    }
}

/// Where the settings live; None when there is no home directory.
pub fn prefs_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("losscape").join("prefs.ron"))
}

impl UiPrefs {
    /// The saved settings, or the defaults when there are none or they cannot be read.
    pub fn load() -> Self {
        let Some(path) = prefs_path() else {
            return Self::default();
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Self::default();
        };
        match ron::from_str::<UiPrefs>(&text) {
            Ok(p) => p.clamped(),
            Err(e) => {
                warn!("ignoring {}: {e}", path.display());
                Self::default()
            }
        }
    }

    /// Values in their allowed ranges.
    pub fn clamped(mut self) -> Self {
        self.ui_scale = if self.ui_scale.is_finite() {
            self.ui_scale.clamp(0.75, 2.5)
        } else {
            1.0
        };
        self
    }
}

/// Saves the settings; a failure is logged, never fatal.
pub fn save_prefs(prefs: Res<UiPrefs>) {
    if prefs.is_added() {
        return;
    }
    let Some(path) = prefs_path() else {
        return;
    };
    let result = ron::to_string(&*prefs)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            std::fs::write(&path, text).map_err(|e| e.to_string())
        });
    if let Err(e) = result {
        warn!("could not save settings to {}: {e}", path.display());
    }
}

/// egui's dark theme, or a high-contrast variant (pure white text, heavier strokes, black panels).
pub fn visuals(high_contrast: bool) -> egui::Visuals {
    let mut v = egui::Visuals::dark();
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
