//! A scene: everything a class sees on screen, as data. The app, the recorder and the lesson presets all
//! start from a [`Scene`]; scene files are RON with a version field.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::claims::{Claim, parse_claims};
use super::gradient::GradientNoise;
use super::landscape::{LandscapeSpec, Vec2d};
use super::optimizer::{Hyperparams, OptimizerKind};
use super::predict::Question;
use super::simulation::RunConfig;

/// The scene-file format this build writes and the newest it reads. History: 1, the first; 2 adds
/// `Formula(expr: "...", x: (XMIN, XMAX), y: (YMIN, YMAX))` landscapes and the optional prediction
/// `question`; 3 adds the optimizers AdamW, NAdam, AMSGrad, Lion, AdaDelta, QHM, QHAdam, Newton and
/// SaddleFreeNewton and the hyperparameters `weight_decay`, `nu`, `nu2` and `schedule` (e.g.
/// `schedule: Cosine(steps: 1000, alpha: 0.0)`); 4 adds the lesson's `claims` (see
/// [`super::claims`]); 5 adds network landscapes (`landscape: Network((data: ..., hidden: [16, 16],
/// ...))`), an optimizer's own starting `weights` and the scene's `plane`; 6 adds the optimizers Bfgs,
/// Lbfgs and Cg and the hyperparameters `line_search: (armijo: true, c: 0.0001, rho: 0.5,
/// max_backtracks: 30)` and `memory` (L-BFGS's m). Every older version still reads (each only adds; a
/// missing field takes its default).
pub const SCENE_VERSION: u32 = 6;

/// Perceptual colormaps the surface shader knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Colormap {
    #[default]
    Viridis,
    Magma,
    Turbo,
}

impl Colormap {
    pub const ALL: [Colormap; 3] = [Colormap::Viridis, Colormap::Magma, Colormap::Turbo];

    /// Index the shader switches on (`style.colormap` in shaders/surface.wgsl).
    pub fn shader_index(self) -> u32 {
        match self {
            Colormap::Viridis => 0,
            Colormap::Magma => 1,
            Colormap::Turbo => 2,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Turbo => "turbo",
        }
    }
}

/// How the 3D and top views share the window (keys 1, 2, 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewLayout {
    /// 3D on the left, top view on the right.
    #[default]
    Split,
    /// The perspective view alone.
    ThreeD,
    /// The top-down contour view alone.
    Top,
}

impl ViewLayout {
    pub const ALL: [ViewLayout; 3] = [ViewLayout::Split, ViewLayout::ThreeD, ViewLayout::Top];

    pub fn label(self) -> &'static str {
        match self {
            ViewLayout::Split => "split",
            ViewLayout::ThreeD => "3d",
            ViewLayout::Top => "top",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.label() == name)
    }
}

/// How the surface is drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SurfaceStyle {
    /// Grid vertices per side (2 ..= 1024).
    pub resolution: usize,
    /// Height = ln(1 + loss - min loss) instead of the loss itself (for Rosenbrock, Beale ...).
    pub log_height: bool,
    /// Height of the surface relative to its width (0.05 ..= 2).
    pub height_scale: f64,
    pub colormap: Colormap,
    /// Number of contour lines between the lowest and highest loss on the grid (0 = none).
    pub contour_count: u32,
    /// Contour levels evenly spaced in ln(1 + loss - min) rather than in the loss.
    pub log_contours: bool,
}

impl Default for SurfaceStyle {
    fn default() -> Self {
        Self {
            resolution: 256,
            log_height: false,
            height_scale: 0.35,
            colormap: Colormap::Viridis,
            contour_count: 24,
            log_contours: false,
        }
    }
}

impl SurfaceStyle {
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=1024).contains(&self.resolution) {
            return Err(format!(
                "surface resolution must be 2 to 1024, got {}",
                self.resolution
            ));
        }
        if !(self.height_scale.is_finite() && (0.05..=2.0).contains(&self.height_scale)) {
            return Err(format!(
                "surface height_scale must be 0.05 to 2, got {}",
                self.height_scale
            ));
        }
        if self.contour_count > 200 {
            return Err(format!(
                "surface contour_count must be 0 to 200, got {}",
                self.contour_count
            ));
        }
        Ok(())
    }
}

/// One optimizer on screen: what it is, how it looks and where it starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerSpec {
    pub name: String,
    pub kind: OptimizerKind,
    /// sRGB, each channel 0 ..= 1.
    pub color: [f32; 3],
    #[serde(default = "yes")]
    pub visible: bool,
    pub hyper: Hyperparams,
    #[serde(default)]
    pub noise: GradientNoise,
    #[serde(default)]
    pub seed: u64,
    /// Start point in landscape (param) coordinates; on a network, `(α, β)` of its start plane (the
    /// initial weights plus `α d1 + β d2`).
    pub start: Vec2d,
    /// On a network: the optimizer's own starting weights, every parameter in the network's layout,
    /// when they are not a point of the start plane (a start dragged on another plane). Format 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
}

fn yes() -> bool {
    true
}

impl OptimizerSpec {
    /// An optimizer of `kind` with its default hyperparameters and the `index`-th colour of the palette.
    pub fn with_defaults(kind: OptimizerKind, index: usize, start: Vec2d) -> Self {
        Self {
            name: kind.label().to_string(),
            kind,
            color: palette(index),
            visible: true,
            hyper: Hyperparams::defaults_for(kind),
            noise: GradientNoise::default(),
            seed: index as u64,
            start,
            weights: None,
        }
    }

    /// The core run this optimizer performs on a network, without its start (the weights come from the
    /// network: see [`super::run::network_start`]).
    pub fn network_config(&self) -> RunConfig<Vec<f64>> {
        RunConfig {
            kind: self.kind,
            hyper: self.hyper,
            start: Vec::new(),
            noise: self.noise,
            seed: self.seed,
            converge_tol: super::simulation::DEFAULT_CONVERGE_TOL,
        }
    }

    /// The core run this optimizer performs.
    pub fn run_config(&self) -> RunConfig {
        RunConfig {
            kind: self.kind,
            hyper: self.hyper,
            start: self.start,
            noise: self.noise,
            seed: self.seed,
            converge_tol: super::simulation::DEFAULT_CONVERGE_TOL,
        }
    }
}

/// Distinct colours that read on a projector over viridis, magma and turbo (sRGB 0 ..= 1).
pub const PALETTE: [[f32; 3]; 8] = [
    [0.96, 0.26, 0.21], // red
    [1.00, 1.00, 1.00], // white
    [1.00, 0.60, 0.00], // orange
    [0.13, 0.59, 0.95], // blue
    [0.91, 0.12, 0.55], // pink
    [0.55, 0.76, 0.29], // green
    [0.00, 0.90, 0.90], // cyan
    [0.60, 0.40, 0.90], // violet
];

/// The `index`-th palette colour, wrapping around.
pub fn palette(index: usize) -> [f32; 3] {
    PALETTE[index % PALETTE.len()]
}

/// Everything on screen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// File format version; a file newer than [`SCENE_VERSION`] is refused with a message.
    pub version: u32,
    pub title: String,
    /// A short explanation shown in the panel (what to look for).
    #[serde(default)]
    pub description: String,
    pub landscape: LandscapeSpec,
    #[serde(default)]
    pub surface: SurfaceStyle,
    pub optimizers: Vec<OptimizerSpec>,
    #[serde(default)]
    pub layout: ViewLayout,
    /// Optimizer steps per second of playback (1 ..= 1000).
    #[serde(default = "default_speed")]
    pub steps_per_second: f64,
    /// A prediction question for predict mode, with its explanation (format version 2; absent from
    /// older files, and left out of the file when there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<Question>,
    /// The statements the description makes, as checks over the scoreboard's figures (format
    /// version 4; left out of the file when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
}

fn default_speed() -> f64 {
    30.0
}

/// The most optimizers a scene may hold.
pub const MAX_OPTIMIZERS: usize = 32;

impl Scene {
    /// This scene's optimizers on another landscape (`--surface`/`--formula` with `--preset`/`--scene`):
    /// starts outside the new domain (or where it is undefined) move to its suggested start, the heights follow the landscape's
    /// recommendation, and the lesson's question and claims (about its own landscape) go. The error is the
    /// landscape's own, e.g. a formula's mistake with its column.
    pub fn on_landscape(mut self, spec: LandscapeSpec) -> Result<Self, super::error::CoreError> {
        let landscape = super::landscape::Landscape::new(spec.clone())?;
        for optimizer in &mut self.optimizers {
            if !landscape.usable_start(optimizer.start) {
                optimizer.start = landscape.default_start();
            }
        }
        let log = landscape.log_height_recommended();
        self.surface.log_height = log;
        self.surface.log_contours = log;
        if let LandscapeSpec::Formula { expr, .. } = &spec {
            let lesson = if self.title.is_empty() {
                "the lesson".to_owned()
            } else {
                format!("\"{}\"", self.title)
            };
            self.description = format!(
                "Your own landscape, with the optimizers of {lesson}. Drag their starts, change η and \
                 the βs, or edit the formula in the landscape section."
            );
            self.title = format!("f(x, y) = {expr}");
        }
        self.landscape = spec;
        // the question and the claims are about the lesson's own landscape
        self.question = None;
        self.claims.clear();
        Ok(self)
    }

    /// Checks every value a file could get wrong; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.version > SCENE_VERSION {
            return Err(format!(
                "this scene was written by a newer losscape (format version {}, this build reads up to {})",
                self.version, SCENE_VERSION
            ));
        }
        if self.version == 0 {
            return Err("version must be 1 or more".into());
        }
        let landscape = super::landscape::Landscape::new(self.landscape.clone())
            .map_err(|e| format!("landscape: {e}"))?;
        let domain = landscape.domain();
        self.surface.validate()?;
        if !(self.steps_per_second.is_finite() && (1.0..=1000.0).contains(&self.steps_per_second)) {
            return Err(format!(
                "steps_per_second must be 1 to 1000, got {}",
                self.steps_per_second
            ));
        }
        if self.optimizers.len() > MAX_OPTIMIZERS {
            return Err(format!(
                "at most {MAX_OPTIMIZERS} optimizers, got {}",
                self.optimizers.len()
            ));
        }
        for (i, o) in self.optimizers.iter().enumerate() {
            let at = format!("optimizers[{i}] ({})", o.name);
            o.hyper.validate().map_err(|e| format!("{at}: {e}"))?;
            if !o.start.iter().all(|v| v.is_finite()) {
                return Err(format!("{at}: start must be finite"));
            }
            if !domain.contains(o.start) {
                return Err(format!(
                    "{at}: start ({}, {}) is outside the landscape's domain x in [{}, {}], y in [{}, {}]",
                    o.start[0], o.start[1], domain.x[0], domain.x[1], domain.y[0], domain.y[1]
                ));
            }
            if !o
                .color
                .iter()
                .all(|c| c.is_finite() && (0.0..=1.0).contains(c))
            {
                return Err(format!("{at}: colour channels must be 0 to 1"));
            }
            if !(o.noise.sigma.is_finite() && o.noise.sigma >= 0.0) {
                return Err(format!("{at}: noise sigma must be 0 or more"));
            }
            if o.noise.batch == Some(0) {
                return Err(format!("{at}: batch size must be 1 or more"));
            }
        }
        if let Some(question) = &self.question {
            question.validate(self)?;
        }
        parse_claims(self)?;
        Ok(())
    }

    /// Parses and validates a RON scene. Errors carry the line and column of the problem.
    pub fn from_ron(text: &str) -> Result<Self, SceneError> {
        let scene: Scene = ron::from_str(text).map_err(|e| SceneError::Parse {
            line: e.span.start.line,
            column: e.span.start.col,
            message: e.code.to_string(),
        })?;
        if let Some(error) = scene.claim_error_in(text) {
            return Err(error);
        }
        scene.validate().map_err(SceneError::Invalid)?;
        Ok(scene)
    }

    /// The first claim whose check does not parse, placed at its line and column in `text` (the file
    /// it was read from): the claim's text is found as the string literal of its `check` field.
    fn claim_error_in(&self, text: &str) -> Option<SceneError> {
        let mut search_from = 0;
        for (i, claim) in self.claims.iter().enumerate() {
            let literal = format!("\"{}\"", claim.check);
            let found = text[search_from..]
                .find(&literal)
                .map(|at| search_from + at);
            if let Some(at) = found {
                search_from = at + literal.len();
            }
            let Err(error) = claim.parse(self) else {
                continue;
            };
            let message = format!("claims[{i}] \"{}\": {}", claim.check, error.message);
            let Some(at) = found else {
                return Some(SceneError::Invalid(format!(
                    "{message} (column {} of the check)",
                    error.column
                )));
            };
            // the check's first character is one past the opening quote
            let before = &text[..at + 1];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |n| n + 1);
            let column = before[line_start..].chars().count() + error.column;
            return Some(SceneError::Parse {
                line,
                column,
                message,
            });
        }
        None
    }

    /// Pretty RON, the form scene files are saved in.
    pub fn to_ron(&self) -> Result<String, SceneError> {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .map_err(|e| SceneError::Invalid(e.to_string()))
    }

    /// Reads and validates a scene file: the one way every part of losscape (the app, its panel, the
    /// command line, the recorder) reads one. The message names the file, the line and the problem.
    pub fn read_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read scene file {}: {e}", path.display()))?;
        Self::from_ron(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes the scene file atomically (a temporary name, then a rename), so a failed save never leaves
    /// half a file.
    pub fn write_file(&self, path: &Path) -> Result<(), String> {
        let text = self.to_ron().map_err(|e| e.to_string())?;
        let tmp = path.with_extension("ron.tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("cannot write {}: {e}", path.display())
            })
    }
}

/// Why a scene could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SceneError {
    #[error("line {line}, column {column}: {message}")]
    Parse {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}
