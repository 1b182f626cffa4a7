//! Runs: an optimizer stepping over a landscape from a start point, with a stop rule.
//!
//! [`Runner`] is the one implementation of a run: the app steps it from `FixedUpdate`, [`trace`] loops it
//! for the CLI and for the app's ghost paths. Guarantees: same landscape, config and seed give
//! bit-identical trajectories; no NaN or infinity ever leaves a runner — a step that would produce one,
//! or leave `|x|, |y| <= DIVERGENCE_BOUND`, ends the run as [`RunStatus::Diverged`] at the last good point.
//! A step allocates nothing and clones nothing.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::error::CoreError;
use super::gradient::GradientNoise;
use super::landscape::{Landscape, Vec2d, norm};
use super::optimizer::{self, BiasTable, Hyperparams, OptimizerKind, OptimizerState, StepDetail};

/// A run that leaves `|x| <= 1e6` and `|y| <= 1e6` in param space has diverged.
pub const DIVERGENCE_BOUND: f64 = 1e6;
/// Default convergence tolerance on the gradient norm.
pub const DEFAULT_CONVERGE_TOL: f64 = 1e-8;
/// The most steps [`trace`] is asked for by the CLI (a guard against typos, not a core limit).
pub const MAX_TRACE_STEPS: u64 = 10_000_000;

/// Everything that defines a run besides the landscape.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The update rule.
    pub kind: OptimizerKind,
    /// Its hyperparameters.
    pub hyper: Hyperparams,
    /// Start point in param space.
    pub start: Vec2d,
    /// Gradient noise / mini-batches.
    #[serde(default)]
    pub noise: GradientNoise,
    /// Seed of the run's random numbers (gradient noise, mini-batch draws).
    #[serde(default)]
    pub seed: u64,
    /// The run has converged when the exact gradient norm drops below this, `>= 0` (only checked when
    /// the gradient is exact: with noise or mini-batches a run never converges, it jitters).
    #[serde(default = "default_tol")]
    pub converge_tol: f64,
}

fn default_tol() -> f64 {
    DEFAULT_CONVERGE_TOL
}

impl RunConfig {
    /// `kind` with its default hyperparameters from `start`, no noise, seed 0, tolerance 1e-8.
    pub fn new(kind: OptimizerKind, start: Vec2d) -> Self {
        Self {
            kind,
            hyper: Hyperparams::defaults_for(kind),
            start,
            noise: GradientNoise::NONE,
            seed: 0,
            converge_tol: DEFAULT_CONVERGE_TOL,
        }
    }

    /// Checks hyperparameters, noise and tolerance: everything but the start (a basin map gives every
    /// cell its own start).
    pub fn validate_settings(&self) -> Result<(), CoreError> {
        self.hyper.validate()?;
        self.noise.validate()?;
        if !(self.converge_tol.is_finite() && self.converge_tol >= 0.0) {
            return Err(CoreError::InvalidTolerance(self.converge_tol));
        }
        Ok(())
    }

    /// Checks hyperparameters, noise, tolerance and that the start is finite, within the bound and has a
    /// finite loss and gradient on `landscape`.
    pub fn validate(&self, landscape: &Landscape) -> Result<(), CoreError> {
        self.validate_settings()?;
        let [x, y] = self.start;
        let refuse = |reason| Err(CoreError::InvalidStart { x, y, reason });
        if !(x.is_finite() && y.is_finite()) {
            return refuse("coordinates must be finite");
        }
        if x.abs() > DIVERGENCE_BOUND || y.abs() > DIVERGENCE_BOUND {
            return refuse("coordinates must be within +-1e6");
        }
        let (loss, grad) = landscape.value_and_gradient(self.start);
        if !(loss.is_finite() && grad.iter().all(|g| g.is_finite())) {
            return refuse("the loss or its gradient is not finite there");
        }
        Ok(())
    }
}

/// One row of a trajectory: the state after `step` steps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Steps taken (0 is the start).
    pub step: u64,
    /// Position in param space.
    pub pos: Vec2d,
    /// Loss there.
    pub loss: f64,
    /// From [`Runner::step`]: the exact gradient at `pos`. In a [`Trajectory`]: the gradient *used* for
    /// the step leaving this row (noisy, mini-batch or Nesterov look-ahead), and for the final row the
    /// exact gradient at `pos`.
    pub grad: Vec2d,
}

/// Why a run diverged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DivergenceReason {
    /// A gradient (possibly at the look-ahead point) or an optimizer quantity was inf or NaN.
    NonFiniteUpdate,
    /// The new position left `|x|, |y| <= DIVERGENCE_BOUND`.
    OutOfBounds,
    /// The loss or gradient at the new position was inf or NaN.
    NonFiniteLoss,
    /// Newton's methods: the Hessian has an eigenvalue of (numerically) zero, so `H^-1 g` is undefined.
    SingularHessian,
}

impl fmt::Display for DivergenceReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NonFiniteUpdate => "the update became infinite or NaN",
            Self::OutOfBounds => "the position left the box |x|, |y| <= 1e6",
            Self::NonFiniteLoss => "the loss became infinite or NaN",
            Self::SingularHessian => {
                "the Hessian is singular here (an eigenvalue is 0), so Newton's step H^-1 g is undefined"
            }
        })
    }
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Still stepping.
    Running,
    /// The exact gradient norm fell below the tolerance after `step` steps.
    Converged {
        /// Steps taken when it converged.
        step: u64,
    },
    /// Step `step` was refused; the run stays at the position after `step - 1` steps.
    Diverged {
        /// The refused step's number.
        step: u64,
        /// What went wrong.
        reason: DivergenceReason,
    },
}

impl RunStatus {
    /// One word: `running`, `converged` or `diverged` (the `status` column of map CSVs).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Converged { .. } => "converged",
            Self::Diverged { .. } => "diverged",
        }
    }

    /// Whether the run can still step.
    pub fn is_running(&self) -> bool {
        *self == Self::Running
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Running => f.write_str("running"),
            Self::Converged { step } => write!(f, "converged at step {step}"),
            Self::Diverged { step, reason } => write!(f, "diverged at step {step}: {reason}"),
        }
    }
}

/// A whole run: `records[0]` is the start (step 0), then one row per step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// The rows, step 0 first.
    pub records: Vec<StepRecord>,
    /// How it ended: `Running` if it used up its steps.
    pub status: RunStatus,
}

/// A run in progress. `L` is how it holds the landscape: `Arc<Landscape>` (the default; the app shares one
/// landscape among its runners and stores them in components) or `&Landscape` (what [`trace`] uses).
#[derive(Clone, Debug)]
pub struct Runner<L: Deref<Target = Landscape> = Arc<Landscape>> {
    landscape: L,
    config: RunConfig,
    state: OptimizerState,
    pos: Vec2d,
    loss: f64,
    /// Exact gradient at `pos`.
    grad: Vec2d,
    steps: u64,
    rng: Xoshiro256PlusPlus,
    status: RunStatus,
    last_detail: Option<StepDetail>,
}

impl<L: Deref<Target = Landscape>> Runner<L> {
    /// A run at its start, after [`RunConfig::validate`]. A start where the gradient already vanishes
    /// (and gradients are exact) is `Converged { step: 0 }`.
    pub fn new(landscape: L, config: RunConfig) -> Result<Self, CoreError> {
        config.validate(&landscape)?;
        let (loss, grad) = landscape.value_and_gradient(config.start);
        let mut runner = Self {
            landscape,
            config,
            state: OptimizerState::default(),
            pos: config.start,
            loss,
            grad,
            steps: 0,
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
            status: RunStatus::Running,
            last_detail: None,
        };
        runner.check_converged();
        Ok(runner)
    }

    /// Takes one step and returns the new row (with the exact gradient at the new position), or `None`
    /// if the run had already stopped or this step diverged (then [`Self::status`] says why and the
    /// position stays where it was).
    pub fn step(&mut self) -> Option<StepRecord> {
        self.step_with(None)
    }

    /// [`Self::step`] with Adam's bias corrections from a shared [`BiasTable`] (the same numbers, for
    /// maps of many runs; ignored when it does not fit the run's betas).
    pub fn step_with(&mut self, table: Option<&BiasTable>) -> Option<StepRecord> {
        if !self.status.is_running() {
            return None;
        }
        let next = self.steps + 1;
        let landscape: &Landscape = &self.landscape;
        let noise = self.config.noise;
        let exact = noise.is_exact_on(landscape);
        let (here, grad_here) = (self.pos, self.grad);
        let rng = &mut self.rng;
        // The gradient the optimizer sees; reuses the cached exact gradient when asked at `pos`.
        let mut gradient = |p: Vec2d| {
            if !exact {
                landscape.stochastic_gradient(p, &noise, rng)
            } else if p == here {
                grad_here
            } else {
                landscape.gradient(p)
            }
        };
        let saved = self.state;
        let detail = optimizer::step_with(
            self.config.kind,
            &self.config.hyper,
            &mut self.state,
            self.pos,
            &mut gradient,
            &mut |p| landscape.hessian(p),
            table,
        );
        let refuse = |runner: &mut Self, reason| {
            runner.state = saved;
            runner.status = RunStatus::Diverged { step: next, reason };
            None
        };
        if !detail.is_finite() {
            let reason = if detail.singular_hessian() {
                DivergenceReason::SingularHessian
            } else {
                DivergenceReason::NonFiniteUpdate
            };
            return refuse(self, reason);
        }
        let pos = detail.new_theta;
        if pos[0].abs() > DIVERGENCE_BOUND || pos[1].abs() > DIVERGENCE_BOUND {
            return refuse(self, DivergenceReason::OutOfBounds);
        }
        let (loss, grad) = self.landscape.value_and_gradient(pos);
        if !(loss.is_finite() && grad[0].is_finite() && grad[1].is_finite()) {
            return refuse(self, DivergenceReason::NonFiniteLoss);
        }
        self.pos = pos;
        self.loss = loss;
        self.grad = grad;
        self.steps = next;
        self.last_detail = Some(detail);
        self.check_converged();
        Some(self.record())
    }

    fn check_converged(&mut self) {
        let tol = self.config.converge_tol;
        // `|g| >= max(|g_x|, |g_y|)` (also as rounded by `hypot`): when a coordinate alone reaches the
        // tolerance the run has not converged, and the costlier `hypot` is skipped. Same answer.
        if self.grad[0].abs() >= tol || self.grad[1].abs() >= tol {
            return;
        }
        if self.config.noise.is_exact_on(&self.landscape) && norm(self.grad) < tol {
            self.status = RunStatus::Converged { step: self.steps };
        }
    }

    /// The current row: steps taken, position, loss, exact gradient.
    pub fn record(&self) -> StepRecord {
        StepRecord {
            step: self.steps,
            pos: self.pos,
            loss: self.loss,
            grad: self.grad,
        }
    }

    /// Current position in param space.
    pub fn position(&self) -> Vec2d {
        self.pos
    }

    /// Loss at the current position.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Running, converged or diverged.
    pub fn status(&self) -> RunStatus {
        self.status
    }

    /// The optimizer's memory (`t`, `V`, `s`).
    pub fn state(&self) -> &OptimizerState {
        &self.state
    }

    /// Every intermediate of the last accepted step (`None` before the first).
    pub fn last_detail(&self) -> Option<&StepDetail> {
        self.last_detail.as_ref()
    }

    /// The configuration (with any live hyperparameter change).
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The landscape it runs on.
    pub fn landscape(&self) -> &Landscape {
        &self.landscape
    }

    /// Changes the hyperparameters live: they apply from the next step; position, momentum and the
    /// squared-gradient accumulator are kept (as when a teacher moves a slider mid-run).
    pub fn set_hyper(&mut self, hyper: Hyperparams) -> Result<(), CoreError> {
        hyper.validate()?;
        self.config.hyper = hyper;
        Ok(())
    }

    /// Back to the start: position, optimizer state, random numbers and status as after [`Self::new`].
    pub fn reset(&mut self) {
        let (loss, grad) = self.landscape.value_and_gradient(self.config.start);
        self.state = OptimizerState::default();
        self.pos = self.config.start;
        self.loss = loss;
        self.grad = grad;
        self.steps = 0;
        self.rng = Xoshiro256PlusPlus::seed_from_u64(self.config.seed);
        self.status = RunStatus::Running;
        self.last_detail = None;
        self.check_converged();
    }

    /// Replaces the whole configuration (kind, start, noise, seed ...) and resets.
    pub fn set_config(&mut self, config: RunConfig) -> Result<(), CoreError> {
        config.validate(&self.landscape)?;
        self.config = config;
        self.reset();
        Ok(())
    }
}

/// Runs `config` on `landscape` for up to `steps` steps (fewer if it converges or diverges).
/// The same code path as stepping a [`Runner`]; see [`StepRecord::grad`] for what each row's gradient is.
pub fn trace(
    landscape: &Landscape,
    config: &RunConfig,
    steps: u64,
) -> Result<Trajectory, CoreError> {
    let mut records = Vec::new();
    let status = trace_into(landscape, config, steps, &mut records)?;
    Ok(Trajectory { records, status })
}

/// [`trace`] into a caller-owned buffer (cleared first), so that per-frame ghost paths reuse one
/// allocation. Returns the final status.
pub fn trace_into(
    landscape: &Landscape,
    config: &RunConfig,
    steps: u64,
    records: &mut Vec<StepRecord>,
) -> Result<RunStatus, CoreError> {
    records.clear();
    // Reserve what will surely be used, but not a huge request up front.
    records.reserve(steps.min(1 << 20) as usize + 1);
    trace_each(landscape, config, steps, |record| {
        records.push(*record);
        Ok::<(), std::convert::Infallible>(())
    })?
    .map_err(|never| match never {})
}

/// [`trace`] without keeping the rows: `row` is called with each row as soon as it is final (a row
/// holds the gradient used for the step leaving it, so row `k` is handed over after step `k + 1`), in
/// constant memory. Stops at the first error `row` returns. The outer `Result` is the core refusing the
/// config; the inner one is the run's status or `row`'s error.
pub fn trace_each<E>(
    landscape: &Landscape,
    config: &RunConfig,
    steps: u64,
    mut row: impl FnMut(&StepRecord) -> Result<(), E>,
) -> Result<Result<RunStatus, E>, CoreError> {
    let mut runner = Runner::new(landscape, *config)?;
    let mut pending = runner.record();
    for _ in 0..steps {
        let Some(record) = runner.step() else { break };
        if let Some(detail) = runner.last_detail() {
            pending.grad = detail.grad;
        }
        if let Err(e) = row(&pending) {
            return Ok(Err(e));
        }
        pending = record;
    }
    Ok(row(&pending).map(|()| runner.status()))
}
