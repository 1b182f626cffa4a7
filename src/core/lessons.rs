//! The built-in lessons: scene files in assets/lessons/, embedded in the binary.

use super::scene::{Scene, SceneError};

/// A built-in lesson.
pub struct Preset {
    pub name: &'static str,
    /// One line for `losscape list` and the panel's menu.
    pub summary: &'static str,
    /// The RON scene.
    pub source: &'static str,
}

/// The lesson on screen at first launch.
pub const DEFAULT_LESSON: &str = "saddle";

macro_rules! preset {
    ($name:literal, $summary:literal) => {
        Preset {
            name: $name,
            summary: $summary,
            source: include_str!(concat!("../../assets/lessons/", $name, ".ron")),
        }
    };
}

/// Every built-in lesson, in teaching order.
pub const PRESETS: &[Preset] = &[
    preset!(
        "saddle",
        "saddle-point escape: noise and adaptive steps leave the ridge; plain GD and momentum linger"
    ),
    preset!(
        "ravine",
        "an ill-conditioned bowl: momentum smooths SGD's zig-zag"
    ),
    preset!(
        "plateau",
        "a flat shelf: momentum carries through where SGD crawls"
    ),
    preset!("rosenbrock", "the curved Rosenbrock valley"),
    preset!(
        "beale",
        "Beale's function: four optimizers, the classic comparison"
    ),
    preset!(
        "rastrigin",
        "many minima: each start settles in its own dip"
    ),
    preset!(
        "minibatch",
        "real mini-batch noise on a regression loss at several batch sizes"
    ),
    preset!(
        "bias-correction",
        "Adam without bias correction lurches past the global minimum"
    ),
    preset!(
        "newton-saddle",
        "Newton's method walks onto a saddle; saddle-free Newton and GD leave it"
    ),
    preset!(
        "line-search",
        "choosing the step: backtracking, BFGS, L-BFGS and CG against GD and Newton on Rosenbrock"
    ),
    preset!(
        "network-moons",
        "a real network: 354 weights on two moons, three optimizers race from the same weights"
    ),
    preset!(
        "network-eta",
        "one eta for every weight? SGD cannot separate two spirals, RMSProp and Adam can"
    ),
];

/// Names of the built-in lessons.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// Why a lesson could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("unknown lesson '{0}' (valid: {list})", list = names().join(", "))]
    Unknown(String),
    #[error("built-in lesson '{0}' is broken: {1}")]
    Broken(String, SceneError),
}

/// The scene of a built-in lesson.
pub fn preset(name: &str) -> Result<Scene, PresetError> {
    let p = PRESETS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| PresetError::Unknown(name.to_string()))?;
    Scene::from_ron(p.source).map_err(|e| PresetError::Broken(name.to_string(), e))
}
