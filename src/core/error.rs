//! The one error type of the core: every way a landscape, an optimizer or a run can be misconfigured.
//!
//! Messages are written for a student reading them on a projector: they name the offending value and
//! say what would be accepted. The CLI prints them after `error: ` on one line.

use super::number::num;

/// Everything the core refuses. Nothing in the core panics on bad input; it returns one of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// A landscape name that is not one of [`LandscapeSpec::NAMES`](super::LandscapeSpec::NAMES).
    #[error("unknown landscape '{name}'; valid names: {valid}")]
    UnknownLandscape {
        /// What was asked for.
        name: String,
        /// The valid names, comma separated.
        valid: String,
    },
    /// An optimizer name that is not one of [`OptimizerKind::NAMES`](super::OptimizerKind::NAMES).
    #[error("unknown optimizer '{name}'; valid names: {valid}")]
    UnknownOptimizer {
        /// What was asked for.
        name: String,
        /// The valid names, comma separated.
        valid: String,
    },
    /// A convention name other than `lecture` or `pytorch`.
    #[error("unknown convention '{name}'; valid names: lecture, pytorch")]
    UnknownConvention {
        /// What was asked for.
        name: String,
    },
    /// A landscape parameter out of range (e.g. `kappa <= 0`).
    #[error("invalid {landscape} landscape: {reason}")]
    InvalidLandscape {
        /// The landscape's kebab-case name.
        landscape: &'static str,
        /// What is wrong, with the value.
        reason: String,
    },
    /// A typed formula that cannot be read; `error` has the column (see
    /// [`FormulaError::caret`](super::formula::FormulaError::caret) to draw it under `expr`).
    #[error("invalid formula: {error}")]
    Formula {
        /// The formula as typed.
        expr: String,
        /// What is wrong and where.
        error: super::formula::FormulaError,
    },
    /// A hyperparameter out of range.
    #[error("invalid {name} = {}: {expected}", num(*value))]
    InvalidHyperparam {
        /// The hyperparameter's name as the lecture writes it (`eta`, `beta_m`, ...).
        name: &'static str,
        /// The offending value.
        value: f64,
        /// The accepted range in words.
        expected: &'static str,
    },
    /// A learning-rate schedule that cannot be read or is out of range (`W > T`, a negative decay ...).
    #[error("invalid learning-rate schedule {0}")]
    InvalidSchedule(String),
    /// Gradient-noise settings out of range.
    #[error("invalid gradient noise: {0}")]
    InvalidNoise(String),
    /// A start point that is not finite, too far away, or where the loss is not finite.
    #[error("invalid start point ({}, {}): {reason}", num(*x), num(*y))]
    InvalidStart {
        /// param x of the start.
        x: f64,
        /// param y of the start.
        y: f64,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A network that cannot be built: its data file (with the file, line and column), its hidden
    /// layers, or its size.
    #[error("{0}")]
    InvalidNetwork(String),
    /// A parameter vector that does not fit what it is for (the wrong length for a network).
    #[error("invalid parameters: {0}")]
    InvalidParameters(String),
    /// An optimizer that cannot run on this objective, with the reason (Newton's methods on a
    /// network).
    #[error("{kind} is not offered here: {reason}")]
    NotOffered {
        /// The optimizer's name as the lecture writes it.
        kind: &'static str,
        /// Why not.
        reason: String,
    },
    /// A convergence tolerance that is negative or not finite.
    #[error("invalid convergence tolerance {}: must be finite and >= 0", num(*.0))]
    InvalidTolerance(f64),
    /// A hyperparameter sweep that cannot run (an axis out of range, the same parameter twice, ...).
    #[error("invalid sweep: {0}")]
    InvalidSweep(String),
    /// A basin map that cannot run (grid size, domain, radius, steps).
    #[error("invalid basin map: {0}")]
    InvalidBasins(String),
    /// Saddle-escape statistics that cannot run (seeds, steps, margin, no saddle found).
    #[error("invalid escape statistics: {0}")]
    InvalidEscape(String),
    /// A lesson's claim that cannot be read (see [`crate::core::claims`]).
    #[error("invalid claim {0}")]
    InvalidClaim(String),
    /// A surface-grid resolution outside `2..=1024`.
    #[error("invalid grid resolution {0}: must be between 2 and 1024 vertices per side")]
    InvalidResolution(usize),
    /// A plane through a network's parameter space that cannot be built or read (too few points,
    /// collinear points, mismatched lengths, a zero direction, a bad plane file; see
    /// [`crate::core::network::Plane`]), or a slice of the loss over it that cannot run.
    #[error("invalid plane: {0}")]
    InvalidPlane(String),
}

impl CoreError {
    /// The message, and for a formula error the formula with a caret under the problem on the next two
    /// lines (each indented by `indent`): what the command line prints and the panel shows.
    pub fn with_caret(&self, indent: &str) -> String {
        match self {
            CoreError::Formula { expr, error } if !expr.trim().is_empty() => {
                let caret = error.caret(expr);
                let lines: Vec<String> = caret.lines().map(|l| format!("{indent}{l}")).collect();
                format!("{self}\n{}", lines.join("\n"))
            }
            _ => self.to_string(),
        }
    }
}
