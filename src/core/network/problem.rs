//! A network as something to optimize: a perceptron ([`Mlp`]) on a dataset ([`Dataset`]), its loss the
//! mean softmax cross-entropy over the data, its parameters every weight and bias. It is an
//! [`Objective`] like the 2-D landscapes, so the one [`crate::core::Runner`] steps it with the one
//! implementation of each update rule.
//!
//! Mini-batches are the lecture's `L_b`: `B` rows drawn without replacement within each epoch, in an order
//! shuffled from the run's seed at the start of every epoch; an epoch's last batch holds what is left
//! (fewer than `B` rows when `B` does not divide the data), as `torch.utils.data.DataLoader` with
//! `shuffle=True, drop_last=False` does. Gaussian gradient noise `σ` can be added on top, as on the
//! landscapes.

use std::cell::RefCell;

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::data::{Builtin, DataSpec, Dataset};
use super::mlp::{Activation, Eval, Mlp, Scratch};
use super::plane::Plane;
use crate::core::error::CoreError;
use crate::core::gradient::GradientNoise;
use crate::core::linalg::Mat2;
use crate::core::optimizer::OptimizerKind;
use crate::core::simulation::Objective;

/// A network landscape as a scene file or the command line names it: the data, the hidden layers, the
/// activation, and the seeds of the initial weights and of the start plane.
///
/// In a scene file: `Network((data: Builtin(kind: Moons, size: 200, noise: 0.1, seed: 0),
/// hidden: [16, 16], activation: Tanh, init_seed: 0, plane_seed: 1))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// The dataset.
    pub data: DataSpec,
    /// Units of each hidden layer, inputs to outputs (default `[16, 16]`).
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// The hidden layers' activation (default tanh).
    #[serde(default)]
    pub activation: Activation,
    /// Seed of the initial weights θ₀ ([`Mlp::init`]): every run of a scene starts from them (or from a
    /// point of the start plane around them).
    #[serde(default)]
    pub init_seed: u64,
    /// Seed of the start plane's two filter-normalized random directions ([`Plane::random`]).
    #[serde(default = "default_plane_seed")]
    pub plane_seed: u64,
}

fn default_hidden() -> Vec<usize> {
    vec![16, 16]
}

fn default_plane_seed() -> u64 {
    1
}

impl NetworkSpec {
    /// A 2-16-16-2 tanh network on the built-in dataset `kind`, seeds 0 and 1.
    pub fn builtin(kind: Builtin) -> Self {
        Self {
            data: DataSpec::builtin(kind),
            hidden: default_hidden(),
            activation: Activation::default(),
            init_seed: 0,
            plane_seed: default_plane_seed(),
        }
    }
}

/// A network ready to train: the data, the perceptron, the initial weights and the start plane.
#[derive(Clone, Debug)]
pub struct Network {
    spec: NetworkSpec,
    data: Dataset,
    mlp: Mlp,
    init: Vec<f64>,
    start_plane: Plane,
}

thread_local! {
    /// Each thread's buffers for the passes (a slice computes on many threads at once).
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers.
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        // re-entered on the same thread (never in losscape): fresh buffers rather than a panic
        Err(_) => f(&mut Scratch::default()),
    })
}

impl Network {
    /// Loads the data, builds the perceptron (its inputs from the data's features, one output per
    /// class), draws the initial weights and the start plane. Errors name the file and line of a bad
    /// data file, or why the network is refused (a hidden layer of 0 units, too many parameters).
    pub fn new(spec: NetworkSpec) -> Result<Self, CoreError> {
        let data = spec
            .data
            .load()
            .map_err(|e| CoreError::InvalidNetwork(e.to_string()))?;
        let mlp = Mlp::for_data(&data, &spec.hidden, spec.activation)
            .map_err(CoreError::InvalidNetwork)?;
        let init = mlp.init(spec.init_seed);
        let start_plane = Plane::random(mlp.layers(), &init, spec.plane_seed)?;
        Ok(Self {
            spec,
            data,
            mlp,
            init,
            start_plane,
        })
    }

    /// What it was built from.
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    /// The data.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The perceptron.
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// The initial weights θ₀ from [`NetworkSpec::init_seed`].
    pub fn init(&self) -> &[f64] {
        &self.init
    }

    /// The start plane: filter-normalized random directions around θ₀ ([`NetworkSpec::plane_seed`]). A
    /// scene's optimizer starts at `θ₀ + α d1 + β d2` for its start `(α, β)`.
    pub fn start_plane(&self) -> &Plane {
        &self.start_plane
    }

    /// The parameters at `(α, β)` of the start plane.
    pub fn start_at(&self, start: [f64; 2]) -> Vec<f64> {
        let mut theta = vec![0.0; self.mlp.param_count()];
        self.start_plane.point(start[0], start[1], &mut theta);
        theta
    }

    /// Loss and accuracy of θ over all the data (forward pass only).
    pub fn evaluate(&self, theta: &[f64]) -> Eval {
        with_scratch(|s| self.mlp.evaluate(theta, &self.data, None, s))
    }

    /// The full-data loss of θ.
    pub fn loss(&self, theta: &[f64]) -> f64 {
        self.evaluate(theta).loss
    }

    /// The network's class probabilities at the points `points` (row-major, `features` each) into `out`
    /// (row-major, `classes` each): the decision boundary. False when the lengths do not fit.
    pub fn predict(&self, theta: &[f64], points: &[f64], out: &mut [f64]) -> bool {
        with_scratch(|s| self.mlp.predict(theta, points, out, s))
    }

    /// A one-line description: `2-16-16-2 tanh on moons (200 points, noise 0.15, seed 0), 354
    /// parameters`; a file's name gets its number of points.
    pub fn describe(&self) -> String {
        let shape: Vec<String> = self.mlp.sizes().iter().map(|n| n.to_string()).collect();
        let source = self.data.source();
        let data = if source.contains(" points") {
            source.to_string()
        } else {
            format!("{source} ({} points)", self.data.len())
        };
        format!(
            "{} {} on {data}, {} parameters",
            shape.join("-"),
            self.mlp.activation().name(),
            self.mlp.param_count()
        )
    }
}

/// A run's mini-batch order: the current epoch's shuffled rows and how many were used.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Epochs {
    order: Vec<u32>,
    next: usize,
}

impl Epochs {
    /// The next mini-batch of (up to) `b` of the `n` rows: a fresh shuffled order at each epoch's start
    /// (Fisher–Yates from `rng`), then `b` rows at a time; the epoch's last batch holds what is left.
    pub fn next_batch(&mut self, b: usize, n: usize, rng: &mut Xoshiro256PlusPlus) -> &[u32] {
        if self.order.len() != n || self.next >= n {
            self.order.clear();
            self.order.extend(0..n as u32);
            for i in (1..n).rev() {
                let j = rng.random_range(0..=i);
                self.order.swap(i, j);
            }
            self.next = 0;
        }
        let start = self.next;
        let end = (start + b.max(1)).min(n);
        self.next = end;
        &self.order[start..end]
    }
}

impl Objective for Network {
    type Point = Vec<f64>;
    type Batches = Epochs;

    fn dim(&self) -> usize {
        self.mlp.param_count()
    }

    fn value_and_gradient(&self, p: &Vec<f64>, grad: &mut Vec<f64>) -> f64 {
        self.value_gradient_accuracy(p, grad).0
    }

    fn value_gradient_accuracy(&self, p: &Vec<f64>, grad: &mut Vec<f64>) -> (f64, Option<f64>) {
        grad.resize(self.mlp.param_count(), 0.0);
        let eval = with_scratch(|s| self.mlp.loss_and_gradient(p, &self.data, None, grad, s));
        (eval.loss, Some(eval.accuracy))
    }

    fn stochastic_gradient(
        &self,
        p: &Vec<f64>,
        noise: &GradientNoise,
        rng: &mut Xoshiro256PlusPlus,
        epochs: &mut Epochs,
        grad: &mut Vec<f64>,
    ) -> Option<f64> {
        let n = self.data.len();
        grad.resize(self.mlp.param_count(), 0.0);
        let batch_loss = match noise.batch {
            Some(b) if b < n => {
                let rows = epochs.next_batch(b, n, rng);
                let eval = with_scratch(|s| {
                    self.mlp
                        .loss_and_gradient(p, &self.data, Some(rows), grad, s)
                });
                Some(eval.loss)
            }
            _ => {
                self.value_and_gradient(p, grad);
                None
            }
        };
        if noise.sigma > 0.0 {
            for g in grad.iter_mut() {
                let z: f64 = rng.sample(StandardNormal);
                *g += noise.sigma * z;
            }
        }
        batch_loss
    }

    fn exact_under(&self, noise: &GradientNoise) -> bool {
        noise.sigma == 0.0 && noise.batch.is_none_or(|b| b >= self.data.len())
    }

    fn hessian(&self, _: &Vec<f64>) -> Mat2 {
        [[f64::NAN; 2]; 2]
    }

    fn supports(&self, kind: OptimizerKind) -> Result<(), CoreError> {
        if kind.uses_hessian() {
            return Err(CoreError::NotOffered {
                kind: kind.label(),
                reason: format!(
                    "Newton's step needs the exact Hessian of the loss and its eigenvalues at every \
                     step; for this network that is a {n} x {n} matrix (N Hessian-vector products and \
                     an N x N eigendecomposition a step), far too slow to watch live, and an \
                     approximation would not be Newton's method. It runs on the 2-D landscapes.",
                    n = self.mlp.param_count()
                ),
            });
        }
        Ok(())
    }

    fn check_start(&self, start: &Vec<f64>) -> Result<(), String> {
        let n = self.mlp.param_count();
        if start.len() == n {
            Ok(())
        } else {
            Err(format!(
                "this network has {n} parameters, the start has {}",
                start.len()
            ))
        }
    }
}
