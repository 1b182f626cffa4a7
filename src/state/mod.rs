//! State that several plugins read, owned by none of them: the scene on screen (landscape, surface
//! style, title), what the command line asked to open, and the panel's shared choices and projector
//! settings. Plain resources with no systems; the module that acts on each is named on it.

use std::{path::PathBuf, sync::Arc};

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::core::{
    Landscape, LandscapeSpec, OptimizerKind,
    claims::Claim,
    lessons::{self, DEFAULT_LESSON},
    predict::Question,
    scene::{OptimizerSpec, Scene, SurfaceStyle},
    vote::JoinCode,
};

/// The landscape every optimizer runs on. Replacing it rebuilds the surface (`surface`) and restarts
/// the runs (`optimizers`).
#[derive(Resource, Clone)]
pub struct ActiveLandscape(pub Arc<Landscape>);

impl Default for ActiveLandscape {
    /// The two-valley saddle, the first lesson's landscape.
    fn default() -> Self {
        let landscape = Landscape::new(LandscapeSpec::SaddleValleys)
            .expect("the built-in saddle-valleys landscape has no parameters to get wrong");
        Self(Arc::new(landscape))
    }
}

/// How the surface is drawn (grid resolution, heights, colormap, contours); `surface` acts on changes.
#[derive(Resource, Clone, Debug, Default, PartialEq, Deref, DerefMut)]
pub struct SurfaceSettings(pub SurfaceStyle);

/// Title, explanation and origin of the scene on screen (set by `lessons` when a scene loads).
#[derive(Resource, Debug, Clone, Default)]
pub struct CurrentScene {
    pub title: String,
    pub description: String,
    /// The file it came from, if any (the panel's save offers it again).
    pub path: Option<PathBuf>,
    /// The lesson preset it came from, if any.
    pub preset: Option<String>,
    /// The scene's prediction question, if any (predict mode asks it; saving keeps it).
    pub question: Option<Question>,
    /// The statements the description makes, checked live in the lesson section ("watch for:");
    /// saving keeps them.
    pub claims: Vec<Claim>,
    /// The landscape and optimizers as the scene set them up, so that the claims can tell a changed
    /// setup (a dragged start, another η) from the lesson's own.
    pub setup: Option<(LandscapeSpec, Vec<OptimizerSpec>)>,
}

/// Predict mode (`classroom` owns it): the future is hidden while the class guesses. `interaction` hides
/// ghost paths while it is on, and `views` leaves the digit keys to it.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PredictMode {
    pub on: bool,
}

/// Run condition: predict mode is on.
pub fn predicting(mode: Option<Res<PredictMode>>) -> bool {
    mode.is_some_and(|m| m.on)
}

/// What the app is asked to open, from the command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppLaunch {
    /// `--scene FILE`.
    pub scene: Option<PathBuf>,
    /// `--preset NAME`.
    pub preset: Option<String>,
    /// `--screenshot FILE.png`.
    pub screenshot: Option<PathBuf>,
    /// `--play`: start playing at once.
    pub play: bool,
    /// `--speed STEPS_PER_S`: the playback speed instead of the scene's.
    pub speed: Option<f64>,
    /// `--surface NAME` or `--formula EXPR [--domain ...]`: the scene's optimizers on this landscape.
    pub landscape: Option<LandscapeSpec>,
    /// `--class-vote ADDR:PORT`: serve the class vote there from the start (`classroom::vote`).
    pub class_vote: Option<std::net::SocketAddr>,
    /// `--class-code CODE`: its join code instead of a random one.
    pub class_code: Option<JoinCode>,
}

impl AppLaunch {
    /// The scene to open: `--scene FILE`, `--preset NAME`, or the saddle lesson; on the landscape of
    /// `--surface`/`--formula` and at `--speed` if given.
    pub fn scene(&self) -> Result<Scene, String> {
        let mut scene = match (&self.scene, &self.preset) {
            (Some(path), _) => Scene::read_file(path),
            (None, Some(name)) => lessons::preset(name).map_err(|e| e.to_string()),
            (None, None) => lessons::preset(DEFAULT_LESSON).map_err(|e| e.to_string()),
        }?;
        if let Some(spec) = &self.landscape {
            scene = scene
                .on_landscape(spec.clone())
                .map_err(|e| e.with_caret("  "))?;
        }
        if let Some(speed) = self.speed {
            scene.steps_per_second = speed;
            scene
                .validate()
                .map_err(|e| format!("--speed {speed}: {e}"))?;
        }
        Ok(scene)
    }
}

/// The panel's choices that other plugins read: text fields, the last message, what "Add" and
/// Ctrl-click add (`interaction` reads `add_kind`).
#[derive(Resource, Debug, Clone)]
pub struct PanelState {
    /// Path typed for loading or saving a scene.
    pub scene_path: String,
    /// The last load/save/landscape result, shown under its section: (ok, text).
    pub message: Option<(bool, String)>,
    /// Kind the "Add" button and Ctrl-click add.
    pub add_kind: OptimizerKind,
    /// Loss plot on a log scale.
    pub log_plot: bool,
    /// The formula being typed in the landscape section.
    pub formula: FormulaDraft,
}

/// A formula landscape being typed: the text and domain as they stand, the landscape they were last
/// taken from (a scene with another formula replaces the draft) and what is wrong with them, if anything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FormulaDraft {
    pub expr: String,
    /// x min, x max, y min, y max.
    pub domain: [f64; 4],
    pub synced_with: Option<LandscapeSpec>,
    /// The message (with a caret line under the problem) while the draft cannot be used.
    pub error: Option<String>,
}

impl Default for PanelState {
    fn default() -> Self {
        Self {
            scene_path: "scene.ron".into(),
            message: None,
            add_kind: OptimizerKind::Adam,
            log_plot: true,
            formula: FormulaDraft::default(),
        }
    }
}

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
        prefs_path().map_or_else(Self::default, |path| Self::load_from(&path))
    }

    /// The settings saved at `path`, or the defaults when there are none or they cannot be read.
    pub fn load_from(path: &std::path::Path) -> Self {
        let Ok(text) = std::fs::read_to_string(path) else {
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

    /// Writes the settings to [`prefs_path`]; the error says where and why.
    pub fn save(&self) -> Result<(), String> {
        let Some(path) = prefs_path() else {
            return Err("no home directory to save settings in".into());
        };
        self.save_to(&path)
    }

    /// Writes the settings to `path` (making its directory); the error says where and why.
    pub fn save_to(&self, path: &std::path::Path) -> Result<(), String> {
        let result = ron::to_string(self)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                }
                std::fs::write(path, text).map_err(|e| e.to_string())
            });
        result.map_err(|e| format!("could not save settings to {}: {e}", path.display()))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The projector settings survive a restart: saved (the directory made), loaded back equal; a
    /// missing or broken file gives the defaults; values out of range come back in range.
    #[test]
    fn prefs_round_trip_and_fall_back() {
        let dir = std::env::temp_dir().join(format!("losscape-prefs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("losscape").join("prefs.ron");
        assert_eq!(UiPrefs::load_from(&path), UiPrefs::default());
        let prefs = UiPrefs {
            ui_scale: 1.75,
            high_contrast: true,
        };
        prefs.save_to(&path).unwrap();
        assert_eq!(UiPrefs::load_from(&path), prefs);
        std::fs::write(&path, "(ui_scale: 9.0)").unwrap();
        let big = UiPrefs::load_from(&path);
        assert_eq!((big.ui_scale, big.high_contrast), (2.5, false));
        std::fs::write(&path, "(ui_scale: \"large\"").unwrap();
        assert_eq!(UiPrefs::load_from(&path), UiPrefs::default());
        let error = prefs.save_to(&path.join("under-a-file.ron")).unwrap_err();
        assert!(error.starts_with("could not save settings to "), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
