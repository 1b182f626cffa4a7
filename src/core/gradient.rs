//! Gradient noise: what turns gradient descent into *stochastic* gradient descent.
//!
//! Two sources, combinable: Gaussian noise added to an analytic gradient (a model of mini-batch noise on
//! landscapes that have no data), and real mini-batches on the `regression` landscape, where
//! `g = grad L_b` is the exact gradient over `B` samples (see [`Landscape::stochastic_gradient`]).

use serde::{Deserialize, Serialize};

use super::error::CoreError;
use super::landscape::{Landscape, LandscapeSpec};

/// How the gradient an optimizer sees differs from the exact one. `Default` is no noise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradientNoise {
    /// Standard deviation (loss units per param unit) of the Gaussian noise added to each gradient
    /// coordinate, `>= 0`; 0 adds none.
    #[serde(default)]
    pub sigma: f64,
    /// Mini-batch size `B` on the `regression` landscape (`None`: full batch). Ignored on analytic
    /// landscapes, so a scene can keep it while switching landscape.
    #[serde(default)]
    pub batch: Option<usize>,
}

impl GradientNoise {
    /// No noise: the exact gradient.
    pub const NONE: Self = Self {
        sigma: 0.0,
        batch: None,
    };

    /// Checks `sigma` (finite, `>= 0`) and `batch` (`>= 1`).
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(self.sigma.is_finite() && self.sigma >= 0.0) {
            return Err(CoreError::InvalidNoise(format!(
                "sigma = {} must be finite and >= 0",
                self.sigma
            )));
        }
        if self.batch == Some(0) {
            return Err(CoreError::InvalidNoise(
                "batch size must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }

    /// Whether gradients on `landscape` are exact under this setting (no sigma, and no batch smaller than
    /// the regression dataset). Runs only converge when this holds.
    pub fn is_exact_on(&self, landscape: &Landscape) -> bool {
        self.sigma == 0.0
            && match (self.batch, landscape.spec()) {
                (Some(batch), LandscapeSpec::Regression(params)) => batch >= params.samples,
                _ => true,
            }
    }
}
