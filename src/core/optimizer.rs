//! The optimizers of the lecture, one update rule each, written exactly as the slides write them.
//!
//! [`step`] is the whole algorithm: given the optimizer's state and a way to evaluate the gradient, it
//! returns a [`StepDetail`] with every intermediate quantity the teaching panel prints. Two conventions:
//! [`Convention::Lecture`] (momentum as an exponential moving average, Nesterov's look-ahead gradient,
//! Adam's `eps` inside the square root) and [`Convention::PyTorch`] (the forms of `torch.optim`).
//! Notation: `g` the gradient, `t` the step number (1 at the first step), products and powers of
//! vectors are per coordinate.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::error::CoreError;
use super::landscape::Vec2d;

/// Which update rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// Plain (stochastic) gradient descent.
    Sgd,
    /// Gradient descent with momentum.
    Momentum,
    /// Nesterov's accelerated gradient.
    Nesterov,
    /// AdaGrad: per-coordinate step sizes from the sum of squared gradients.
    AdaGrad,
    /// RMSProp: per-coordinate step sizes from a moving average of squared gradients.
    RmsProp,
    /// Adam: momentum plus RMSProp, with bias correction.
    Adam,
}

impl OptimizerKind {
    /// Every kind, in `list` order.
    pub const ALL: [Self; 6] = [
        Self::Sgd,
        Self::Momentum,
        Self::Nesterov,
        Self::AdaGrad,
        Self::RmsProp,
        Self::Adam,
    ];

    /// The command-line names, in [`Self::ALL`] order.
    pub const NAMES: &[&str] = &["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];

    /// The kind called `name` (one of [`Self::NAMES`]).
    pub fn from_name(name: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| CoreError::UnknownOptimizer {
                name: name.to_owned(),
                valid: Self::NAMES.join(", "),
            })
    }

    /// The command-line name (`rmsprop`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::Momentum => "momentum",
            Self::Nesterov => "nesterov",
            Self::AdaGrad => "adagrad",
            Self::RmsProp => "rmsprop",
            Self::Adam => "adam",
        }
    }

    /// The name as the lecture writes it (`RMSProp`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Sgd => "SGD",
            Self::Momentum => "Momentum",
            Self::Nesterov => "Nesterov",
            Self::AdaGrad => "AdaGrad",
            Self::RmsProp => "RMSProp",
            Self::Adam => "Adam",
        }
    }

    /// Whether `beta_m` (momentum decay) enters the update.
    pub fn uses_beta_m(self) -> bool {
        matches!(self, Self::Momentum | Self::Nesterov | Self::Adam)
    }

    /// Whether `beta_r` (squared-gradient decay) enters the update.
    pub fn uses_beta_r(self) -> bool {
        matches!(self, Self::RmsProp | Self::Adam)
    }

    /// Whether `eps` enters the update.
    pub fn uses_eps(self) -> bool {
        self.is_adaptive()
    }

    /// Whether the step size adapts per coordinate (AdaGrad, RMSProp, Adam).
    pub fn is_adaptive(self) -> bool {
        matches!(self, Self::AdaGrad | Self::RmsProp | Self::Adam)
    }

    /// Whether the lecture and PyTorch conventions differ for this kind (Momentum, Nesterov, Adam).
    pub fn uses_convention(self) -> bool {
        matches!(self, Self::Momentum | Self::Nesterov | Self::Adam)
    }

    /// Whether `bias_correction` enters the update (Adam).
    pub fn uses_bias_correction(self) -> bool {
        self == Self::Adam
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which textbook's formulas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Convention {
    /// The lecture's: EMA momentum `V <- beta_m V + (1 - beta_m) g`, Nesterov with the look-ahead
    /// gradient, Adam with `eps` inside the root.
    #[default]
    Lecture,
    /// `torch.optim`'s: heavy-ball momentum `V <- beta_m V + g`, Nesterov as `g + beta_m V`, Adam with
    /// `eps` outside the root.
    PyTorch,
}

impl Convention {
    /// The command-line names.
    pub const NAMES: &[&str] = &["lecture", "pytorch"];

    /// `lecture` or `pytorch`.
    pub fn from_name(name: &str) -> Result<Self, CoreError> {
        match name {
            "lecture" => Ok(Self::Lecture),
            "pytorch" => Ok(Self::PyTorch),
            _ => Err(CoreError::UnknownConvention {
                name: name.to_owned(),
            }),
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lecture => "lecture",
            Self::PyTorch => "pytorch",
        }
    }
}

/// Hyperparameters. Every kind carries all of them (so switching kind in the app keeps the sliders);
/// those a kind does not use are ignored (see [`OptimizerKind::uses_beta_m`] and friends).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hyperparams {
    /// Learning rate `eta`, `> 0` (param units per gradient unit for SGD; param units per step for Adam).
    pub lr: f64,
    /// Momentum decay `beta_m`, in `[0, 1)`.
    pub beta_m: f64,
    /// Squared-gradient decay `beta_r`, in `[0, 1)`.
    pub beta_r: f64,
    /// Denominator guard `eps`, `>= 0`.
    pub eps: f64,
    /// Lecture or PyTorch formulas.
    #[serde(default)]
    pub convention: Convention,
    /// Adam only: divide by `1 - beta^t` (`true`, the default) or use the raw averages.
    #[serde(default = "default_true")]
    pub bias_correction: bool,
}

fn default_true() -> bool {
    true
}

impl Hyperparams {
    /// The usual values: SGD eta 0.01; Momentum and Nesterov eta 0.01, beta_m 0.9; AdaGrad eta 0.1,
    /// eps 1e-8; RMSProp eta 0.01, beta_r 0.99, eps 1e-8; Adam eta 0.01, beta_m 0.9, beta_r 0.999,
    /// eps 1e-8. Unused fields get the same usual values (beta_m 0.9, beta_r 0.999, eps 1e-8).
    /// Lecture convention, bias correction on.
    pub fn defaults_for(kind: OptimizerKind) -> Self {
        let base = Self {
            lr: 0.01,
            beta_m: 0.9,
            beta_r: 0.999,
            eps: 1e-8,
            convention: Convention::Lecture,
            bias_correction: true,
        };
        match kind {
            OptimizerKind::Sgd
            | OptimizerKind::Momentum
            | OptimizerKind::Nesterov
            | OptimizerKind::Adam => base,
            OptimizerKind::AdaGrad => Self { lr: 0.1, ..base },
            OptimizerKind::RmsProp => Self {
                beta_r: 0.99,
                ..base
            },
        }
    }

    /// Checks every field: `eta` finite and `> 0`, both betas in `[0, 1)`, `eps` finite and `>= 0`.
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |name, value, expected| {
            Err(CoreError::InvalidHyperparam {
                name,
                value,
                expected,
            })
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("eta (learning rate)", self.lr, "must be finite and > 0");
        }
        if !(0.0..1.0).contains(&self.beta_m) {
            return bad("beta_m", self.beta_m, "must be in [0, 1)");
        }
        if !(0.0..1.0).contains(&self.beta_r) {
            return bad("beta_r", self.beta_r, "must be in [0, 1)");
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return bad("eps", self.eps, "must be finite and >= 0");
        }
        Ok(())
    }
}

/// What an optimizer remembers between steps. `Default` is the state before the first step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Steps taken so far (the next step is `t + 1`).
    pub t: u64,
    /// Momentum `V` (Momentum, Nesterov, Adam's first moment); 0 for the others.
    pub v: Vec2d,
    /// Squared-gradient accumulator `s` (AdaGrad's sum, RMSProp's and Adam's average); 0 for the others.
    pub s: Vec2d,
}

/// Everything about one step, for the teaching panel. All vectors in param units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepDetail {
    /// The step number, 1 at the first step.
    pub t: u64,
    /// Position before the step.
    pub theta: Vec2d,
    /// The gradient used: at `theta`, or at `lookahead` for the lecture's Nesterov.
    pub grad: Vec2d,
    /// Lecture Nesterov: the look-ahead point `theta - eta beta_m V` where `grad` was taken.
    pub lookahead: Option<Vec2d>,
    /// Momentum after the step (0 when unused).
    pub v: Vec2d,
    /// Squared-gradient accumulator after the step (0 when unused).
    pub s: Vec2d,
    /// Adam's bias-corrected `V_hat = V / (1 - beta_m^t)`; equals `v` for the others and without
    /// bias correction.
    pub v_hat: Vec2d,
    /// Adam's bias-corrected `s_hat = s / (1 - beta_r^t)`; equals `s` for the others and without
    /// bias correction.
    pub s_hat: Vec2d,
    /// Per-coordinate step size multiplying the (averaged) gradient: `eta` for SGD/Momentum/Nesterov,
    /// `eta / (sqrt(s) + eps)` for AdaGrad/RMSProp, `eta / sqrt(s_hat + eps)` for lecture Adam,
    /// `eta / (sqrt(s_hat) + eps)` for PyTorch Adam.
    pub effective_lr: Vec2d,
    /// The displacement `new_theta - theta`.
    pub step: Vec2d,
    /// Position after the step.
    pub new_theta: Vec2d,
}

/// `a / b` per coordinate, except that a zero denominator (possible only with `eps = 0`, where the
/// formula is 0/0 on a coordinate that has seen no gradient) gives 0: no information, no step.
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// One optimizer step from `theta`. `grad` evaluates the (possibly noisy) gradient at a point; it is
/// called exactly once per step (at `theta`, or at the look-ahead point for the lecture's Nesterov).
/// Advances `state`; `hp` is assumed valid ([`Hyperparams::validate`]).
pub fn step(
    kind: OptimizerKind,
    hp: &Hyperparams,
    state: &mut OptimizerState,
    theta: Vec2d,
    grad: &mut dyn FnMut(Vec2d) -> Vec2d,
) -> StepDetail {
    step_with(kind, hp, state, theta, grad, None)
}

/// Adam's bias corrections at step `t`: `(1 - beta_m^t, 1 - beta_r^t)`, or `(1, 1)` without bias
/// correction.
pub fn bias_corrections(hp: &Hyperparams, t: u64) -> (f64, f64) {
    if hp.bias_correction {
        // beta^t by `powf`: constant time (`powi` costs O(log t) multiplications).
        (
            1.0 - hp.beta_m.powf(t as f64),
            1.0 - hp.beta_r.powf(t as f64),
        )
    } else {
        (1.0, 1.0)
    }
}

/// [`bias_corrections`] for steps `1..=len`, computed once for many runs that share `beta_m` and
/// `beta_r` (the cells of a map): looking them up gives the very same numbers without two `powf` per
/// step.
#[derive(Clone, Debug, PartialEq)]
pub struct BiasTable {
    beta_m: f64,
    beta_r: f64,
    bias_correction: bool,
    /// `values[t - 1]` = `bias_corrections(hp, t)`.
    values: Vec<(f64, f64)>,
}

impl BiasTable {
    /// The corrections of `hp` for steps `1..=steps`.
    pub fn new(hp: &Hyperparams, steps: u64) -> Self {
        Self {
            beta_m: hp.beta_m,
            beta_r: hp.beta_r,
            bias_correction: hp.bias_correction,
            values: (1..=steps).map(|t| bias_corrections(hp, t)).collect(),
        }
    }

    /// The corrections at step `t`, if the table was made for `hp`'s betas and reaches `t`.
    fn get(&self, hp: &Hyperparams, t: u64) -> Option<(f64, f64)> {
        let same = self.beta_m.to_bits() == hp.beta_m.to_bits()
            && self.beta_r.to_bits() == hp.beta_r.to_bits()
            && self.bias_correction == hp.bias_correction;
        let index = usize::try_from(t.checked_sub(1)?).ok()?;
        if same {
            self.values.get(index).copied()
        } else {
            None
        }
    }
}

/// [`step`], with Adam's bias corrections looked up in `table` when it fits `hp` and reaches this step
/// (otherwise computed): the same numbers either way.
pub fn step_with(
    kind: OptimizerKind,
    hp: &Hyperparams,
    state: &mut OptimizerState,
    theta: Vec2d,
    grad: &mut dyn FnMut(Vec2d) -> Vec2d,
    table: Option<&BiasTable>,
) -> StepDetail {
    let t = state.t + 1;
    state.t = t;
    let eta = hp.lr;
    let (bm, br) = (hp.beta_m, hp.beta_r);
    let mut lookahead = None;
    let g: Vec2d;
    let mut v_hat = state.v;
    let mut s_hat = state.s;
    let mut effective_lr = [eta, eta];
    let mut delta = [0.0; 2];

    match (kind, hp.convention) {
        // SGD: theta <- theta - eta g
        (OptimizerKind::Sgd, _) => {
            g = grad(theta);
            for i in 0..2 {
                delta[i] = -eta * g[i];
            }
        }
        // Momentum (lecture, EMA): V <- beta_m V + (1 - beta_m) g; theta <- theta - eta V
        (OptimizerKind::Momentum, Convention::Lecture) => {
            g = grad(theta);
            for i in 0..2 {
                state.v[i] = bm * state.v[i] + (1.0 - bm) * g[i];
                delta[i] = -eta * state.v[i];
            }
            v_hat = state.v;
        }
        // Momentum (PyTorch, heavy ball): V <- beta_m V + g; theta <- theta - eta V
        (OptimizerKind::Momentum, Convention::PyTorch) => {
            g = grad(theta);
            for i in 0..2 {
                state.v[i] = bm * state.v[i] + g[i];
                delta[i] = -eta * state.v[i];
            }
            v_hat = state.v;
        }
        // Nesterov (lecture): g = grad L(theta - eta beta_m V); V <- beta_m V + (1 - beta_m) g;
        // theta <- theta - eta V
        (OptimizerKind::Nesterov, Convention::Lecture) => {
            let ahead = [
                theta[0] - eta * bm * state.v[0],
                theta[1] - eta * bm * state.v[1],
            ];
            lookahead = Some(ahead);
            g = grad(ahead);
            for i in 0..2 {
                state.v[i] = bm * state.v[i] + (1.0 - bm) * g[i];
                delta[i] = -eta * state.v[i];
            }
            v_hat = state.v;
        }
        // Nesterov (PyTorch): g = grad L(theta); V <- beta_m V + g; theta <- theta - eta (g + beta_m V)
        (OptimizerKind::Nesterov, Convention::PyTorch) => {
            g = grad(theta);
            for i in 0..2 {
                state.v[i] = bm * state.v[i] + g[i];
                delta[i] = -eta * (g[i] + bm * state.v[i]);
            }
            v_hat = state.v;
        }
        // AdaGrad (both): s <- s + g^2; theta <- theta - eta g / (sqrt(s) + eps)
        (OptimizerKind::AdaGrad, _) => {
            g = grad(theta);
            for i in 0..2 {
                state.s[i] += g[i] * g[i];
                let denom = state.s[i].sqrt() + hp.eps;
                effective_lr[i] = ratio(eta, denom);
                delta[i] = -ratio(eta * g[i], denom);
            }
            s_hat = state.s;
        }
        // RMSProp (both): s <- beta_r s + (1 - beta_r) g^2; theta <- theta - eta g / (sqrt(s) + eps)
        (OptimizerKind::RmsProp, _) => {
            g = grad(theta);
            for i in 0..2 {
                state.s[i] = br * state.s[i] + (1.0 - br) * g[i] * g[i];
                let denom = state.s[i].sqrt() + hp.eps;
                effective_lr[i] = ratio(eta, denom);
                delta[i] = -ratio(eta * g[i], denom);
            }
            s_hat = state.s;
        }
        // Adam: V <- beta_m V + (1 - beta_m) g; s <- beta_r s + (1 - beta_r) g^2;
        // V_hat = V / (1 - beta_m^t), s_hat = s / (1 - beta_r^t) (or V_hat = V, s_hat = s without
        // bias correction);
        // lecture: theta <- theta - eta V_hat / sqrt(s_hat + eps)
        // PyTorch: theta <- theta - eta V_hat / (sqrt(s_hat) + eps)
        (OptimizerKind::Adam, convention) => {
            g = grad(theta);
            let (c1, c2) = table
                .and_then(|table| table.get(hp, t))
                .unwrap_or_else(|| bias_corrections(hp, t));
            for i in 0..2 {
                state.v[i] = bm * state.v[i] + (1.0 - bm) * g[i];
                state.s[i] = br * state.s[i] + (1.0 - br) * g[i] * g[i];
                v_hat[i] = state.v[i] / c1;
                s_hat[i] = state.s[i] / c2;
                let denom = match convention {
                    Convention::Lecture => (s_hat[i] + hp.eps).sqrt(),
                    Convention::PyTorch => s_hat[i].sqrt() + hp.eps,
                };
                effective_lr[i] = ratio(eta, denom);
                delta[i] = -ratio(eta * v_hat[i], denom);
            }
        }
    }

    StepDetail {
        t,
        theta,
        grad: g,
        lookahead,
        v: state.v,
        s: state.s,
        v_hat,
        s_hat,
        effective_lr,
        step: delta,
        new_theta: [theta[0] + delta[0], theta[1] + delta[1]],
    }
}

impl StepDetail {
    /// Whether every number in it is finite (the runner refuses a step that is not).
    pub fn is_finite(&self) -> bool {
        [
            self.theta,
            self.grad,
            self.lookahead.unwrap_or_default(),
            self.v,
            self.s,
            self.v_hat,
            self.s_hat,
            self.effective_lr,
            self.step,
            self.new_theta,
        ]
        .iter()
        .flatten()
        // `&` rather than `all`: no early exit, so one branch instead of twenty (every step checks it).
        .all(|x| x.is_finite())
    }
}
