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
use super::landscape::{Landscape, Vec2d};
use super::linalg::Mat2;
use super::optimizer::{
    self, BiasTable, Hyperparams, OptimizerKind, OptimizerState, Params, SearchFailure, StepDetail,
};

/// A run that leaves `|x| <= 1e6` and `|y| <= 1e6` in param space has diverged.
pub const DIVERGENCE_BOUND: f64 = 1e6;
/// Default convergence tolerance on the gradient norm.
pub const DEFAULT_CONVERGE_TOL: f64 = 1e-8;
/// The most steps [`trace`] is asked for by the CLI (a guard against typos, not a core limit).
pub const MAX_TRACE_STEPS: u64 = 10_000_000;

/// What a run optimizes: a loss over a parameter vector with its exact gradient. The 2-D landscapes
/// ([`Landscape`], `Point = [f64; 2]`) and networks (`Point = Vec<f64>`, every weight) are the two; the
/// one [`Runner`] steps either with the one implementation of each update rule
/// ([`optimizer::step_into`]).
pub trait Objective {
    /// The parameter vector.
    type Point: Params;
    /// A run's memory of how it draws mini-batches (a network's epoch order); `()` where there is none.
    type Batches: Clone + fmt::Debug + Default + Send + Sync;

    /// How many parameters.
    fn dim(&self) -> usize;

    /// The loss at `p`, with the exact (full-data) gradient written into `grad`.
    fn value_and_gradient(&self, p: &Self::Point, grad: &mut Self::Point) -> f64;

    /// [`Self::value_and_gradient`], and the classification accuracy at `p` where there is one (a
    /// network's, from the same pass).
    fn value_gradient_accuracy(
        &self,
        p: &Self::Point,
        grad: &mut Self::Point,
    ) -> (f64, Option<f64>) {
        (self.value_and_gradient(p, grad), None)
    }

    /// The gradient an optimizer sees under `noise`, written into `grad`: a mini-batch's (drawn with
    /// `rng`, remembering the epoch in `batches`) and/or with Gaussian noise added. Returns the
    /// mini-batch's loss where one was drawn.
    fn stochastic_gradient(
        &self,
        p: &Self::Point,
        noise: &GradientNoise,
        rng: &mut Xoshiro256PlusPlus,
        batches: &mut Self::Batches,
        grad: &mut Self::Point,
    ) -> Option<f64>;

    /// Whether gradients are exact under `noise` (no sigma, no batch smaller than the data). Runs only
    /// converge when they are.
    fn exact_under(&self, noise: &GradientNoise) -> bool;

    /// The exact Hessian at `p`, for Newton's methods (two parameters only; see [`Self::supports`]).
    fn hessian(&self, p: &Self::Point) -> Mat2;

    /// Whether `kind` can run here; the error says why not (Newton's methods need the exact Hessian,
    /// which only the 2-D landscapes offer).
    fn supports(&self, kind: OptimizerKind) -> Result<(), CoreError>;

    /// Why `start` cannot start a run here (beyond finiteness, the bound and a finite loss and gradient,
    /// which the runner checks), if it cannot: e.g. the wrong number of parameters.
    fn check_start(&self, start: &Self::Point) -> Result<(), String>;
}

impl Objective for Landscape {
    type Point = Vec2d;
    type Batches = ();

    fn dim(&self) -> usize {
        2
    }

    fn value_and_gradient(&self, p: &Vec2d, grad: &mut Vec2d) -> f64 {
        let (loss, g) = Landscape::value_and_gradient(self, *p);
        *grad = g;
        loss
    }

    fn stochastic_gradient(
        &self,
        p: &Vec2d,
        noise: &GradientNoise,
        rng: &mut Xoshiro256PlusPlus,
        _: &mut (),
        grad: &mut Vec2d,
    ) -> Option<f64> {
        *grad = Landscape::stochastic_gradient(self, *p, noise, rng);
        None
    }

    fn exact_under(&self, noise: &GradientNoise) -> bool {
        noise.is_exact_on(self)
    }

    fn hessian(&self, p: &Vec2d) -> Mat2 {
        Landscape::hessian(self, *p)
    }

    fn supports(&self, _: OptimizerKind) -> Result<(), CoreError> {
        Ok(())
    }

    fn check_start(&self, _: &Vec2d) -> Result<(), String> {
        Ok(())
    }
}

/// A shared objective is the objective (so that `trace(&arc, ...)` reads as `trace(&*arc, ...)`).
impl<O: Objective + ?Sized> Objective for Arc<O> {
    type Point = O::Point;
    type Batches = O::Batches;

    fn dim(&self) -> usize {
        (**self).dim()
    }

    fn value_and_gradient(&self, p: &O::Point, grad: &mut O::Point) -> f64 {
        (**self).value_and_gradient(p, grad)
    }

    fn value_gradient_accuracy(&self, p: &O::Point, grad: &mut O::Point) -> (f64, Option<f64>) {
        (**self).value_gradient_accuracy(p, grad)
    }

    fn stochastic_gradient(
        &self,
        p: &O::Point,
        noise: &GradientNoise,
        rng: &mut Xoshiro256PlusPlus,
        batches: &mut O::Batches,
        grad: &mut O::Point,
    ) -> Option<f64> {
        (**self).stochastic_gradient(p, noise, rng, batches, grad)
    }

    fn exact_under(&self, noise: &GradientNoise) -> bool {
        (**self).exact_under(noise)
    }

    fn hessian(&self, p: &O::Point) -> Mat2 {
        (**self).hessian(p)
    }

    fn supports(&self, kind: OptimizerKind) -> Result<(), CoreError> {
        (**self).supports(kind)
    }

    fn check_start(&self, start: &O::Point) -> Result<(), String> {
        (**self).check_start(start)
    }
}

/// Everything that defines a run besides the landscape. `P` is the parameter vector: a point `(x, y)` on
/// the 2-D landscapes, every weight of a network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig<P = Vec2d> {
    /// The update rule.
    pub kind: OptimizerKind,
    /// Its hyperparameters.
    pub hyper: Hyperparams,
    /// Start point in param space.
    pub start: P,
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

impl<P: Params> RunConfig<P> {
    /// `kind` with its default hyperparameters from `start`, no noise, seed 0, tolerance 1e-8.
    pub fn new(kind: OptimizerKind, start: P) -> Self {
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

    /// Checks hyperparameters, noise, tolerance, that the kind can run on `objective`, and that the start
    /// is finite, within the bound and has a finite loss and gradient there.
    pub fn validate<O: Objective<Point = P> + ?Sized>(
        &self,
        objective: &O,
    ) -> Result<(), CoreError> {
        self.validate_settings()?;
        objective.supports(self.kind)?;
        let start = self.start.as_slice();
        let (x, y) = (
            start.first().copied().unwrap_or(f64::NAN),
            start.get(1).copied().unwrap_or(f64::NAN),
        );
        check_search(self.kind, &self.hyper, objective.exact_under(&self.noise))?;
        if let Err(reason) = objective.check_start(&self.start) {
            return Err(CoreError::InvalidParameters(reason));
        }
        let refuse = |reason| Err(CoreError::InvalidStart { x, y, reason });
        if !start.iter().all(|v| v.is_finite()) {
            return refuse("coordinates must be finite");
        }
        if start.iter().any(|v| v.abs() > DIVERGENCE_BOUND) {
            return refuse("coordinates must be within +-1e6");
        }
        let mut grad = P::zeros(start.len());
        let loss = objective.value_and_gradient(&self.start, &mut grad);
        if !(loss.is_finite() && grad.as_slice().iter().all(|g| g.is_finite())) {
            return refuse("the loss or its gradient is not finite there");
        }
        Ok(())
    }
}

/// Refuses a line search on gradients that are not exact: the Armijo test compares losses, and with
/// noise or mini-batches the loss the optimizer sees is not the loss it is tested against (the test on a
/// batch's own loss would accept steps by luck of the draw). BFGS, L-BFGS and CG always search.
fn check_search(kind: OptimizerKind, hyper: &Hyperparams, exact: bool) -> Result<(), CoreError> {
    if hyper.searches(kind) && !exact {
        return Err(CoreError::NotOffered {
            kind: kind.label(),
            reason: if kind.always_searches() {
                format!(
                    "{} chooses every step by a backtracking line search, whose Armijo test needs the \
                     exact loss and gradient; turn off the gradient noise and mini-batches",
                    kind.label()
                )
            } else {
                "the backtracking line search needs the exact loss and gradient (its Armijo test on \
                 a noisy or mini-batch loss would accept steps by the luck of the draw); turn off \
                 the gradient noise and mini-batches, or the line search"
                    .to_owned()
            },
        });
    }
    Ok(())
}

/// One row of a trajectory: the state after `step` steps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord<P = Vec2d> {
    /// Steps taken (0 is the start).
    pub step: u64,
    /// Position in param space.
    pub pos: P,
    /// Loss there.
    pub loss: f64,
    /// From [`Runner::step`]: the exact gradient at `pos`. In a [`Trajectory`]: the gradient *used* for
    /// the step leaving this row (noisy, mini-batch or Nesterov look-ahead), and for the final row the
    /// exact gradient at `pos`.
    pub grad: P,
    /// Loss evaluations so far: 1 at the start, then per step 1 at the new position, or with a line
    /// search one per trial point (the accepted one is the new position). Gradient-only evaluations
    /// (Nesterov's look-ahead) are not counted.
    #[serde(default)]
    pub evals: u64,
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
    /// The line search's direction does not go downhill (`g^T p >= 0`): the run stops (see
    /// [`Self::is_stop`]).
    NotDescent,
    /// No trial step of the line search passed the Armijo test: the run stops rather than take a
    /// silent tiny step.
    NoSufficientDecrease,
}

impl DivergenceReason {
    /// Whether the run stopped by its own rule (a line search that found no step) rather than blew up:
    /// the status reads "stopped", not "diverged".
    pub fn is_stop(self) -> bool {
        matches!(self, Self::NotDescent | Self::NoSufficientDecrease)
    }
}

impl From<SearchFailure> for DivergenceReason {
    fn from(failure: SearchFailure) -> Self {
        match failure {
            SearchFailure::NotDescent => Self::NotDescent,
            SearchFailure::NoSufficientDecrease => Self::NoSufficientDecrease,
        }
    }
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
            Self::NotDescent => {
                "the line search has no descent direction here (g^T p >= 0: Newton's H^-1 g where H is \
                 not positive definite), so no step along p lowers the loss"
            }
            Self::NoSufficientDecrease => {
                "the line search found no step: every trial α (down to α₀ ρ^max) failed the Armijo \
                 test L(θ + α p) <= L(θ) + c α g^T p"
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
    /// Step `step` was refused; the run stays at the position after `step - 1` steps. A line search
    /// that found no step is reported here too, as "stopped" ([`DivergenceReason::is_stop`]).
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
            Self::Diverged { reason, .. } if reason.is_stop() => "stopped",
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
            Self::Diverged { step, reason } if reason.is_stop() => {
                write!(f, "stopped at step {step}: {reason}")
            }
            Self::Diverged { step, reason } => write!(f, "diverged at step {step}: {reason}"),
        }
    }
}

/// A whole run: `records[0]` is the start (step 0), then one row per step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trajectory<P = Vec2d> {
    /// The rows, step 0 first.
    pub records: Vec<StepRecord<P>>,
    /// How it ended: `Running` if it used up its steps.
    pub status: RunStatus,
}

/// The parameter vector of the objective behind `L`.
pub type PointOf<L> = <<L as Deref>::Target as Objective>::Point;
type BatchesOf<L> = <<L as Deref>::Target as Objective>::Batches;

/// A run in progress. `L` is how it holds what it optimizes: `Arc<Landscape>` (the default; the app
/// shares one landscape among its runners and stores them in components), `&Landscape` (what [`trace`]
/// uses), or a network behind either.
#[derive(Clone, Debug)]
pub struct Runner<L = Arc<Landscape>>
where
    L: Deref,
    L::Target: Objective,
{
    objective: L,
    config: RunConfig<PointOf<L>>,
    state: OptimizerState<PointOf<L>>,
    pos: PointOf<L>,
    loss: f64,
    /// Exact gradient at `pos`.
    grad: PointOf<L>,
    steps: u64,
    rng: Xoshiro256PlusPlus,
    batches: BatchesOf<L>,
    status: RunStatus,
    /// Two step details in turn: the last accepted step's (`details[last]`) and the one being written,
    /// so that accepting a step moves an index, not the detail.
    details: [StepDetail<PointOf<L>>; 2],
    /// Which of `details` is the last accepted step's; `None` before the first.
    last: Option<usize>,
    /// The mini-batch loss of the last step, where it drew one.
    batch_loss: Option<f64>,
    /// The accuracy at `pos`, where the objective has one (a network's).
    accuracy: Option<f64>,
    /// Loss evaluations so far ([`StepRecord::evals`]).
    evals: u64,
    /// Scratch: the gradient at a line search's trial point (which only its loss is needed of).
    trial_grad: PointOf<L>,
    /// Scratch: the optimizer state before a step (restored when the step is refused) and the gradient
    /// at the new position.
    saved: OptimizerState<PointOf<L>>,
    next_grad: PointOf<L>,
}

impl<L> Runner<L>
where
    L: Deref,
    L::Target: Objective,
{
    /// A run at its start, after [`RunConfig::validate`]. A start where the gradient already vanishes
    /// (and gradients are exact) is `Converged { step: 0 }`.
    pub fn new(objective: L, config: RunConfig<PointOf<L>>) -> Result<Self, CoreError> {
        config.validate(&*objective)?;
        let n = config.start.dim();
        let mut grad = PointOf::<L>::zeros(n);
        let (loss, accuracy) = objective.value_gradient_accuracy(&config.start, &mut grad);
        let mut runner = Self {
            accuracy,
            pos: config.start.clone(),
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
            objective,
            state: OptimizerState::zeros(n),
            loss,
            grad,
            steps: 0,
            batches: Default::default(),
            status: RunStatus::Running,
            details: [StepDetail::zeros(n), StepDetail::zeros(n)],
            last: None,
            batch_loss: None,
            evals: 1,
            trial_grad: PointOf::<L>::zeros(n),
            saved: OptimizerState::zeros(n),
            next_grad: PointOf::<L>::zeros(n),
            config,
        };
        runner.check_converged();
        Ok(runner)
    }

    /// Takes one step and returns the new row (with the exact gradient at the new position), or `None`
    /// if the run had already stopped or this step diverged (then [`Self::status`] says why and the
    /// position stays where it was).
    pub fn step(&mut self) -> Option<StepRecord<PointOf<L>>> {
        self.step_with(None)
    }

    /// [`Self::step`] with Adam's bias corrections from a shared [`BiasTable`] (the same numbers, for
    /// maps of many runs; ignored when it does not fit the run's betas).
    pub fn step_with(&mut self, table: Option<&BiasTable>) -> Option<StepRecord<PointOf<L>>> {
        self.advance(table).then(|| self.record())
    }

    /// Takes one step without handing out a row (no copy of the parameters): `true` if it was taken.
    pub fn advance(&mut self, table: Option<&BiasTable>) -> bool {
        if !self.status.is_running() {
            return false;
        }
        let next = self.steps + 1;
        let objective: &L::Target = &self.objective;
        let noise = self.config.noise;
        let exact = objective.exact_under(&noise);
        let (here, grad_here, loss_here) = (&self.pos, &self.grad, self.loss);
        let rng = &mut self.rng;
        let batches = &mut self.batches;
        let mut batch_loss = None;
        // The gradient the optimizer sees; reuses the cached exact gradient when asked at `pos`.
        let mut gradient = |p: &PointOf<L>, out: &mut PointOf<L>| {
            if !exact {
                batch_loss = objective.stochastic_gradient(p, &noise, rng, batches, out);
            } else if p == here {
                out.clone_from(grad_here);
            } else {
                objective.value_and_gradient(p, out);
            }
        };
        // The loss for the line search: cached at `pos` (every trial point counts as an evaluation,
        // below, even one that rounds to `pos`).
        let trial_grad = &mut self.trial_grad;
        let mut loss = |p: &PointOf<L>| {
            if p == here {
                loss_here
            } else {
                objective.value_and_gradient(p, trial_grad)
            }
        };
        // the detail not holding the last accepted step
        let writing = self.last.map_or(0, |i| 1 - i);
        self.saved.clone_from(&self.state);
        optimizer::step_into(
            self.config.kind,
            &self.config.hyper,
            &mut self.state,
            &self.pos,
            &mut loss,
            &mut gradient,
            &mut |p| objective.hessian(p),
            table,
            &mut self.details[writing],
        );
        self.batch_loss = batch_loss;
        let refuse = |runner: &mut Self, reason| {
            std::mem::swap(&mut runner.state, &mut runner.saved);
            runner.status = RunStatus::Diverged { step: next, reason };
            false
        };
        let detail = &self.details[writing];
        if let Some(failure) = detail.search_failure {
            return refuse(self, failure.into());
        }
        if !detail.is_finite() {
            let reason = if detail.singular_hessian() {
                DivergenceReason::SingularHessian
            } else {
                DivergenceReason::NonFiniteUpdate
            };
            return refuse(self, reason);
        }
        if detail
            .new_theta
            .as_slice()
            .iter()
            .any(|x| x.abs() > DIVERGENCE_BOUND)
        {
            return refuse(self, DivergenceReason::OutOfBounds);
        }
        let (loss, accuracy) = self
            .objective
            .value_gradient_accuracy(&self.details[writing].new_theta, &mut self.next_grad);
        if !(loss.is_finite() && self.next_grad.as_slice().iter().all(|g| g.is_finite())) {
            return refuse(self, DivergenceReason::NonFiniteLoss);
        }
        self.pos.clone_from(&self.details[writing].new_theta);
        self.loss = loss;
        self.accuracy = accuracy;
        std::mem::swap(&mut self.grad, &mut self.next_grad);
        self.steps = next;
        // the new position's loss is the accepted trial's where the step was searched
        self.evals += (self.details[writing].trials.len() as u64).max(1);
        // the detail written becomes the last; the older one is the next step's to write
        self.last = Some(writing);
        self.check_converged();
        true
    }

    fn check_converged(&mut self) {
        let tol = self.config.converge_tol;
        // `|g| >= max |g_i|` (also as rounded by `hypot`): when a coordinate alone reaches the
        // tolerance the run has not converged, and the costlier norm is skipped. Same answer.
        if self.grad.as_slice().iter().any(|g| g.abs() >= tol) {
            return;
        }
        if self.objective.exact_under(&self.config.noise) && self.grad.norm() < tol {
            self.status = RunStatus::Converged { step: self.steps };
        }
    }

    /// The current row: steps taken, position, loss, exact gradient.
    pub fn record(&self) -> StepRecord<PointOf<L>> {
        StepRecord {
            step: self.steps,
            pos: self.pos.clone(),
            loss: self.loss,
            grad: self.grad.clone(),
            evals: self.evals,
        }
    }

    /// Current position in param space.
    pub fn position(&self) -> PointOf<L>
    where
        PointOf<L>: Copy,
    {
        self.pos
    }

    /// Current position in param space, borrowed.
    pub fn position_ref(&self) -> &PointOf<L> {
        &self.pos
    }

    /// The exact gradient at the current position.
    pub fn gradient(&self) -> &PointOf<L> {
        &self.grad
    }

    /// Loss at the current position.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// The classification accuracy at the current position (a network's; `None` on a landscape).
    pub fn accuracy(&self) -> Option<f64> {
        self.accuracy
    }

    /// The loss of the last step's mini-batch (at the position before that step), where it drew one.
    pub fn batch_loss(&self) -> Option<f64> {
        self.batch_loss
    }

    /// Loss evaluations so far ([`StepRecord::evals`]).
    pub fn evals(&self) -> u64 {
        self.evals
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
    pub fn state(&self) -> &OptimizerState<PointOf<L>> {
        &self.state
    }

    /// Every intermediate of the last accepted step (`None` before the first).
    pub fn last_detail(&self) -> Option<&StepDetail<PointOf<L>>> {
        self.last.map(|i| &self.details[i])
    }

    /// The configuration (with any live hyperparameter change).
    pub fn config(&self) -> &RunConfig<PointOf<L>> {
        &self.config
    }

    /// What it optimizes.
    pub fn objective(&self) -> &L::Target {
        &self.objective
    }

    /// The objective as held (an `Arc` shares it without copying).
    pub fn objective_handle(&self) -> &L {
        &self.objective
    }

    /// Changes the hyperparameters live: they apply from the next step; position, momentum and the
    /// squared-gradient accumulator are kept (as when a teacher moves a slider mid-run).
    pub fn set_hyper(&mut self, hyper: Hyperparams) -> Result<(), CoreError> {
        hyper.validate()?;
        check_search(
            self.config.kind,
            &hyper,
            self.objective.exact_under(&self.config.noise),
        )?;
        self.config.hyper = hyper;
        Ok(())
    }

    /// Back to the start: position, optimizer state, random numbers and status as after [`Self::new`].
    pub fn reset(&mut self) {
        let n = self.config.start.dim();
        (self.loss, self.accuracy) = self
            .objective
            .value_gradient_accuracy(&self.config.start, &mut self.grad);
        self.state = OptimizerState::zeros(n);
        self.pos.clone_from(&self.config.start);
        self.steps = 0;
        self.evals = 1;
        self.rng = Xoshiro256PlusPlus::seed_from_u64(self.config.seed);
        self.batches = Default::default();
        self.status = RunStatus::Running;
        self.last = None;
        self.batch_loss = None;
        self.check_converged();
    }

    /// Replaces the whole configuration (kind, start, noise, seed ...) and resets.
    pub fn set_config(&mut self, config: RunConfig<PointOf<L>>) -> Result<(), CoreError> {
        config.validate(&*self.objective)?;
        self.config = config;
        self.reset();
        Ok(())
    }
}

impl<L: Deref<Target = Landscape>> Runner<L> {
    /// The landscape it runs on.
    pub fn landscape(&self) -> &Landscape {
        &self.objective
    }
}

/// Runs `config` on `landscape` for up to `steps` steps (fewer if it converges or diverges).
/// The same code path as stepping a [`Runner`]; see [`StepRecord::grad`] for what each row's gradient is.
pub fn trace<O: Objective + ?Sized>(
    landscape: &O,
    config: &RunConfig<O::Point>,
    steps: u64,
) -> Result<Trajectory<O::Point>, CoreError> {
    let mut records = Vec::new();
    let status = trace_into(landscape, config, steps, &mut records)?;
    Ok(Trajectory { records, status })
}

/// [`trace`] into a caller-owned buffer (cleared first), so that per-frame ghost paths reuse one
/// allocation. Returns the final status.
pub fn trace_into<O: Objective + ?Sized>(
    landscape: &O,
    config: &RunConfig<O::Point>,
    steps: u64,
    records: &mut Vec<StepRecord<O::Point>>,
) -> Result<RunStatus, CoreError> {
    records.clear();
    // Reserve what will surely be used, but not a huge request up front.
    records.reserve(steps.min(1 << 20) as usize + 1);
    trace_each(landscape, config, steps, |record| {
        records.push(record.clone());
        Ok::<(), std::convert::Infallible>(())
    })?
    .map_err(|never| match never {})
}

/// [`trace`] without keeping the rows: `row` is called with each row as soon as it is final (a row
/// holds the gradient used for the step leaving it, so row `k` is handed over after step `k + 1`), in
/// constant memory. Stops at the first error `row` returns. The outer `Result` is the core refusing the
/// config; the inner one is the run's status or `row`'s error.
pub fn trace_each<O: Objective + ?Sized, E>(
    landscape: &O,
    config: &RunConfig<O::Point>,
    steps: u64,
    mut row: impl FnMut(&StepRecord<O::Point>) -> Result<(), E>,
) -> Result<Result<RunStatus, E>, CoreError> {
    let mut runner = Runner::new(landscape, config.clone())?;
    let mut pending = runner.record();
    for _ in 0..steps {
        let Some(record) = runner.step() else { break };
        if let Some(detail) = runner.last_detail() {
            pending.grad.clone_from(&detail.grad);
        }
        if let Err(e) = row(&pending) {
            return Ok(Err(e));
        }
        pending = record;
    }
    Ok(row(&pending).map(|()| runner.status()))
}
