//! The `regression` landscape: the mean-squared error of a line `y = w x + b` over a synthetic dataset, as a
//! function of `(w, b)`; with mini-batches, real stochastic gradients.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::Vec2d;

/// Parameters of the `regression` data landscape: a synthetic dataset `y = 2 x - 1 + 0.5 n`,
/// `x ~ U(0, 3)`, `n ~ N(0, 1)`, and the mean-squared error of the line `y = w x + b` over it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegressionParams {
    /// Number of data points, `2..=100_000`.
    pub samples: usize,
    /// Seed of the dataset (not of the mini-batches, which come from the run's seed).
    pub seed: u64,
}

impl Default for RegressionParams {
    fn default() -> Self {
        Self {
            samples: 100,
            seed: 0,
        }
    }
}

/// True parameters `(w, b)` of the regression dataset's generating line; the display domain is centred here.
pub(super) const REGRESSION_TRUTH: Vec2d = [2.0, -1.0];
/// Noise standard deviation of the regression dataset's `y`.
const REGRESSION_NOISE: f64 = 0.5;
/// Range of the regression dataset's `x` (not centred on purpose: `mean x != 0` couples w and b, so the
/// bowl is tilted and elongated, condition number about 19 — the lesson of feature centring).
const REGRESSION_X: [f64; 2] = [0.0, 3.0];
/// Largest regression dataset (a mini-batch draw is O(samples)).
pub const MAX_REGRESSION_SAMPLES: usize = 100_000;

/// The built regression landscape: the dataset and its sufficient statistics.
///
/// `L(w, b) = mean_i (w x_i + b - y_i)^2` is evaluated in O(1) from the centred form
/// `L = var_x (w - w*)^2 + c^2 + r_min` with `c = (w - w*) mean_x + (b - b*)`, where `(w*, b*)` is the
/// least-squares fit and `r_min` its mean squared residual (no cancellation near the minimum);
/// `grad L = (2 var_x (w - w*) + 2 c mean_x, 2 c)`.
#[derive(Clone, Debug)]
pub(super) struct Regression {
    pub(super) data: Vec<Vec2d>,
    mean_x: f64,
    var_x: f64,
    pub(super) w_star: f64,
    pub(super) b_star: f64,
    r_min: f64,
}

impl Regression {
    pub(super) fn new(params: RegressionParams) -> Result<Self, String> {
        if !(2..=MAX_REGRESSION_SAMPLES).contains(&params.samples) {
            return Err(format!(
                "samples = {} must be in 2..={MAX_REGRESSION_SAMPLES}",
                params.samples
            ));
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(params.seed);
        let [w, b] = REGRESSION_TRUTH;
        let data: Vec<Vec2d> = (0..params.samples)
            .map(|_| {
                let x = rng.random_range(REGRESSION_X[0]..REGRESSION_X[1]);
                let n: f64 = rng.sample(StandardNormal);
                [x, w * x + b + REGRESSION_NOISE * n]
            })
            .collect();
        let count = data.len() as f64;
        let mean_x = data.iter().map(|d| d[0]).sum::<f64>() / count;
        let mean_y = data.iter().map(|d| d[1]).sum::<f64>() / count;
        let var_x = data.iter().map(|d| (d[0] - mean_x).powi(2)).sum::<f64>() / count;
        let cov = data
            .iter()
            .map(|d| (d[0] - mean_x) * (d[1] - mean_y))
            .sum::<f64>()
            / count;
        if var_x.is_nan() || var_x <= 0.0 {
            return Err("the dataset's x values have no spread".to_owned());
        }
        let w_star = cov / var_x;
        let b_star = mean_y - w_star * mean_x;
        let r_min = data
            .iter()
            .map(|d| (w_star * d[0] + b_star - d[1]).powi(2))
            .sum::<f64>()
            / count;
        Ok(Self {
            data,
            mean_x,
            var_x,
            w_star,
            b_star,
            r_min,
        })
    }

    /// O(1) full-batch loss and gradient (see the type's formulas).
    pub(super) fn value_and_gradient(&self, p: Vec2d) -> (f64, Vec2d) {
        let dw = p[0] - self.w_star;
        let c = dw * self.mean_x + (p[1] - self.b_star);
        (
            self.var_x * dw * dw + c * c + self.r_min,
            [2.0 * (self.var_x * dw + c * self.mean_x), 2.0 * c],
        )
    }

    /// The constant Hessian of the quadratic loss: `[[2 (var_x + mean_x^2), 2 mean_x], [2 mean_x, 2]]`.
    pub(super) fn hessian(&self) -> [[f64; 2]; 2] {
        let m = self.mean_x;
        [[2.0 * (self.var_x + m * m), 2.0 * m], [2.0 * m, 2.0]]
    }

    /// `grad L_b = (2/B) sum_{i in b} r_i (x_i, 1)`, `r_i = w x_i + b - y_i`, over a batch of `batch`
    /// distinct samples chosen uniformly by selection sampling (Knuth's Algorithm S: sample i is taken
    /// with probability needed / remaining): no allocation, O(samples) draws.
    pub(super) fn batch_gradient<R: Rng + ?Sized>(
        &self,
        p: Vec2d,
        batch: usize,
        rng: &mut R,
    ) -> Vec2d {
        let [w, b] = p;
        let mut needed = batch.min(self.data.len());
        let size = needed as f64;
        let mut remaining = self.data.len();
        let mut sum = [0.0, 0.0];
        for &[x, y] in &self.data {
            if needed == 0 {
                break;
            }
            if rng.random_range(0..remaining) < needed {
                let r = w * x + b - y;
                sum[0] += r * x;
                sum[1] += r;
                needed -= 1;
            }
            remaining -= 1;
        }
        [2.0 * sum[0] / size, 2.0 * sum[1] / size]
    }
}
