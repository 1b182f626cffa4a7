//! The optimizers of the lecture, one update rule each, written exactly as the slides write them.
//!
//! [`step`] is the whole algorithm: given the optimizer's state and a way to evaluate the gradient, it
//! returns a [`StepDetail`] with every intermediate quantity the teaching panel prints. Two conventions:
//! [`Convention::Lecture`] (momentum as an exponential moving average, Nesterov's look-ahead gradient,
//! Adam's `eps` inside the square root) and [`Convention::PyTorch`] (the forms of `torch.optim`).
//! Notation: `g` the gradient, `t` the step number (1 at the first step), products and powers of
//! vectors are per coordinate.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

use super::error::CoreError;
use super::landscape::Vec2d;
use super::linalg::{Mat2, eigen, mul, spectral};
use super::schedule::Schedule;

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
    /// AdamW: Adam plus decoupled weight decay `λ θ`.
    AdamW,
    /// NAdam: Adam with Nesterov's look-ahead folded into the first moment (Dozat 2016).
    NAdam,
    /// AMSGrad: Adam whose denominator never shrinks (the running maximum of `s_hat`).
    AmsGrad,
    /// Lion: the sign of an interpolated momentum (Chen et al. 2023).
    Lion,
    /// AdaDelta: step sizes from the ratio of two moving averages, no learning rate needed (Zeiler 2012).
    AdaDelta,
    /// Quasi-hyperbolic momentum: a mix `ν` of momentum and the plain gradient (Ma & Yarats 2019).
    Qhm,
    /// Quasi-hyperbolic Adam: QHM's mixes on both of Adam's moments (Ma & Yarats 2019).
    QhAdam,
    /// Newton's method: `H^-1 g`.
    Newton,
    /// Saddle-free Newton: `|H|^-1 g`, eigenvalues by absolute value (Dauphin et al. 2014).
    SaddleFreeNewton,
    /// BFGS: `p = −H g` with `H` the quasi-Newton inverse-Hessian approximation; backtracking step.
    Bfgs,
    /// L-BFGS(m): BFGS's `H g` by the two-loop recursion over the last `m` pairs; backtracking step.
    Lbfgs,
    /// Nonlinear conjugate gradient (Polak–Ribière+); backtracking step.
    Cg,
}

impl OptimizerKind {
    /// Every kind, in `list` order.
    pub const ALL: [Self; 18] = [
        Self::Sgd,
        Self::Momentum,
        Self::Nesterov,
        Self::AdaGrad,
        Self::RmsProp,
        Self::Adam,
        Self::AdamW,
        Self::NAdam,
        Self::AmsGrad,
        Self::Lion,
        Self::AdaDelta,
        Self::Qhm,
        Self::QhAdam,
        Self::Newton,
        Self::SaddleFreeNewton,
        Self::Bfgs,
        Self::Lbfgs,
        Self::Cg,
    ];

    /// The command-line names, in [`Self::ALL`] order.
    pub const NAMES: &[&str] = &[
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
        "nadam",
        "amsgrad",
        "lion",
        "adadelta",
        "qhm",
        "qhadam",
        "newton",
        "saddle-free-newton",
        "bfgs",
        "lbfgs",
        "cg",
    ];

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
        let index = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::NAMES[index]
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
            Self::AdamW => "AdamW",
            Self::NAdam => "NAdam",
            Self::AmsGrad => "AMSGrad",
            Self::Lion => "Lion",
            Self::AdaDelta => "AdaDelta",
            Self::Qhm => "QHM",
            Self::QhAdam => "QHAdam",
            Self::Newton => "Newton",
            Self::SaddleFreeNewton => "Saddle-free Newton",
            Self::Bfgs => "BFGS",
            Self::Lbfgs => "L-BFGS",
            Self::Cg => "CG (PR+)",
        }
    }

    /// Whether `beta_m` (momentum decay; Lion's interpolation `β1`) enters the update.
    pub fn uses_beta_m(self) -> bool {
        matches!(
            self,
            Self::Momentum
                | Self::Nesterov
                | Self::Adam
                | Self::AdamW
                | Self::NAdam
                | Self::AmsGrad
                | Self::Lion
                | Self::Qhm
                | Self::QhAdam
        )
    }

    /// Whether `beta_r` (squared-gradient decay; Lion's momentum decay `β2`; AdaDelta's `ρ`) enters the
    /// update.
    pub fn uses_beta_r(self) -> bool {
        matches!(
            self,
            Self::RmsProp
                | Self::Adam
                | Self::AdamW
                | Self::NAdam
                | Self::AmsGrad
                | Self::Lion
                | Self::AdaDelta
                | Self::QhAdam
        )
    }

    /// Whether `eps` enters the update.
    pub fn uses_eps(self) -> bool {
        self.is_adaptive()
    }

    /// Whether the step size adapts per coordinate from the squared gradients (AdaGrad, RMSProp, the
    /// Adam family, AdaDelta, QHAdam).
    pub fn is_adaptive(self) -> bool {
        matches!(
            self,
            Self::AdaGrad
                | Self::RmsProp
                | Self::Adam
                | Self::AdamW
                | Self::NAdam
                | Self::AmsGrad
                | Self::AdaDelta
                | Self::QhAdam
        )
    }

    /// Whether the lecture and PyTorch conventions differ for this kind (Momentum, Nesterov, and where
    /// `ε` goes in the Adam family and QHAdam).
    pub fn uses_convention(self) -> bool {
        matches!(
            self,
            Self::Momentum
                | Self::Nesterov
                | Self::Adam
                | Self::AdamW
                | Self::NAdam
                | Self::AmsGrad
                | Self::QhAdam
        )
    }

    /// Whether `bias_correction` enters the update (Adam, AdamW, AMSGrad, QHAdam; NAdam's formula has
    /// its corrections built in).
    pub fn uses_bias_correction(self) -> bool {
        matches!(
            self,
            Self::Adam | Self::AdamW | Self::AmsGrad | Self::QhAdam
        )
    }

    /// Whether the weight decay `λ` enters the update (AdamW, Lion).
    pub fn uses_weight_decay(self) -> bool {
        matches!(self, Self::AdamW | Self::Lion)
    }

    /// Whether `ν` (the quasi-hyperbolic mix of the first moment) enters the update (QHM, QHAdam).
    pub fn uses_nu(self) -> bool {
        matches!(self, Self::Qhm | Self::QhAdam)
    }

    /// Whether `ν2` (QHAdam's mix of the second moment) enters the update.
    pub fn uses_nu2(self) -> bool {
        self == Self::QhAdam
    }

    /// The update rule in one line, in `convention` (the same as in the lecture's for the kinds where
    /// [`Self::uses_convention`] is false): what `list`, the panel and the step-by-step window print.
    /// The code below ([`step_with`]) has the same formulas in its comments.
    pub fn update_rule(self, convention: Convention) -> &'static str {
        let lecture = convention == Convention::Lecture;
        match self {
            Self::Sgd => "θ <- θ - η g",
            Self::Momentum if lecture => "V <- β_m V + (1-β_m) g;  θ <- θ - η V",
            Self::Momentum => "V <- β_m V + g;  θ <- θ - η V",
            Self::Nesterov if lecture => {
                "g = ∇L(θ - η β_m V);  V <- β_m V + (1-β_m) g;  θ <- θ - η V"
            }
            Self::Nesterov => "V <- β_m V + g;  θ <- θ - η (g + β_m V)",
            Self::AdaGrad => "s <- s + g²;  θ <- θ - η g / (√s + ε)",
            Self::RmsProp => "s <- β_r s + (1-β_r) g²;  θ <- θ - η g / (√s + ε)",
            Self::Adam if lecture => {
                "V <- β_m V + (1-β_m) g;  s <- β_r s + (1-β_r) g²;  V_hat = V/(1-β_m^t);  \
                 s_hat = s/(1-β_r^t);  θ <- θ - η V_hat / √(s_hat + ε)"
            }
            Self::Adam => {
                "V <- β_m V + (1-β_m) g;  s <- β_r s + (1-β_r) g²;  V_hat = V/(1-β_m^t);  \
                 s_hat = s/(1-β_r^t);  θ <- θ - η V_hat / (√s_hat + ε)"
            }
            Self::AdamW if lecture => {
                "Adam's V_hat, s_hat;  θ <- θ - η (V_hat / √(s_hat + ε) + λ θ)"
            }
            Self::AdamW => "Adam's V_hat, s_hat;  θ <- θ - η (V_hat / (√s_hat + ε) + λ θ)",
            Self::NAdam if lecture => {
                "Adam's V, s, s_hat;  V_hat = β_m V/(1-β_m^(t+1)) + (1-β_m) g/(1-β_m^t);  \
                 θ <- θ - η V_hat / √(s_hat + ε)"
            }
            Self::NAdam => {
                "Adam's V, s, s_hat;  V_hat = β_m V/(1-β_m^(t+1)) + (1-β_m) g/(1-β_m^t);  \
                 θ <- θ - η V_hat / (√s_hat + ε)"
            }
            Self::AmsGrad if lecture => {
                "Adam's V_hat, s_hat;  s_max <- max(s_max, s_hat);  θ <- θ - η V_hat / √(s_max + ε)"
            }
            Self::AmsGrad => {
                "Adam's V_hat, s_hat;  s_max <- max(s_max, s_hat);  θ <- θ - η V_hat / (√s_max + ε)"
            }
            Self::Lion => {
                "c = β_m V + (1-β_m) g;  θ <- θ - η (sign(c) + λ θ);  V <- β_r V + (1-β_r) g"
            }
            Self::AdaDelta => {
                "s <- ρ s + (1-ρ) g²;  Δ = √(u + ε)/√(s + ε) g;  u <- ρ u + (1-ρ) Δ²;  θ <- θ - η Δ  \
                 (ρ = β_r)"
            }
            Self::Qhm => "V <- β_m V + (1-β_m) g;  θ <- θ - η ((1-ν) g + ν V)",
            Self::QhAdam if lecture => {
                "Adam's V_hat, s_hat;  θ <- θ - η ((1-ν) g + ν V_hat) / √((1-ν2) g² + ν2 s_hat + ε)"
            }
            Self::QhAdam => {
                "Adam's V_hat, s_hat;  θ <- θ - η ((1-ν) g + ν V_hat) / (√((1-ν2) g² + ν2 s_hat) + ε)"
            }
            Self::Newton => "θ <- θ - η H^-1 g",
            Self::SaddleFreeNewton => {
                "θ <- θ - η |H|^-1 g  (|H|: H with its eigenvalues' absolute values)"
            }
            Self::Bfgs => {
                "p = -H g (H₀ = I);  θ <- θ + α p (α by backtracking from η);  s = θ_new - θ, \
                 y = g_new - g, ρ_k = 1/(y^T s):  H <- (I - ρ_k s y^T) H (I - ρ_k y s^T) + ρ_k s s^T  \
                 (skipped when y^T s <= 1e-10 |s| |y|)"
            }
            Self::Lbfgs => {
                "p = -H g by the two-loop recursion over the last m pairs (s, y), H₀ = γ I, \
                 γ = s^T y / y^T y of the newest pair (I before the first);  θ <- θ + α p \
                 (α by backtracking from η)"
            }
            Self::Cg => {
                "β = max(0, g^T (g - g_prev) / |g_prev|²);  p = -g + β p_prev (p₀ = -g; p = -g when \
                 g^T p >= 0);  θ <- θ + α p (α by backtracking from η)"
            }
        }
    }

    /// Whether this kind always chooses its step by the backtracking line search (BFGS, L-BFGS, CG).
    pub fn always_searches(self) -> bool {
        matches!(self, Self::Bfgs | Self::Lbfgs | Self::Cg)
    }

    /// Whether the backtracking line search can choose this kind's step: the kinds that step along a
    /// direction that is a descent direction by construction or by test (SGD/GD, Newton's methods,
    /// BFGS, L-BFGS, CG). The adaptive and momentum methods change their own state with every
    /// gradient, so "the step along p" is not one line they could search.
    pub fn offers_line_search(self) -> bool {
        matches!(
            self,
            Self::Sgd | Self::Newton | Self::SaddleFreeNewton | Self::Bfgs | Self::Lbfgs | Self::Cg
        )
    }

    /// Whether the step needs the Hessian (Newton, saddle-free Newton).
    pub fn uses_hessian(self) -> bool {
        matches!(self, Self::Newton | Self::SaddleFreeNewton)
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
/// those a kind does not use are ignored (see [`OptimizerKind::uses_beta_m`] and friends). Fields added
/// after the first scene format have defaults, so older scene files still load.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hyperparams {
    /// Learning rate `eta`, `> 0` (param units per gradient unit for SGD; param units per step for Adam).
    /// With a schedule, the step `t` uses `η_t = eta · schedule.factor(t − 1)`.
    pub lr: f64,
    /// Momentum decay `beta_m`, in `[0, 1)` (Lion's `β1`).
    pub beta_m: f64,
    /// Squared-gradient decay `beta_r`, in `[0, 1)` (Lion's `β2`, AdaDelta's `ρ`).
    pub beta_r: f64,
    /// Denominator guard `eps`, `>= 0`.
    pub eps: f64,
    /// Lecture or PyTorch formulas.
    #[serde(default)]
    pub convention: Convention,
    /// Adam, AdamW, AMSGrad, QHAdam: divide by `1 - beta^t` (`true`, the default) or use the raw
    /// averages.
    #[serde(default = "default_true")]
    pub bias_correction: bool,
    /// Decoupled weight decay `λ >= 0` (AdamW, Lion); 0.01 when a scene file leaves it out.
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    /// QHM's and QHAdam's `ν` (`ν1`) in `[0, 1]`: the share of the momentum in the step.
    #[serde(default = "default_nu")]
    pub nu: f64,
    /// QHAdam's `ν2` in `[0, 1]`: the share of the averaged squared gradient in the denominator.
    #[serde(default = "default_nu2")]
    pub nu2: f64,
    /// The learning-rate schedule (constant by default).
    #[serde(default)]
    pub schedule: Schedule,
    /// The backtracking (Armijo) line search: off by default for SGD and Newton's methods; BFGS,
    /// L-BFGS and CG always search (with these `c`, `ρ` and halvings).
    #[serde(default)]
    pub line_search: LineSearch,
    /// L-BFGS's memory `m >= 1`: how many pairs `(s, y)` it keeps; 5 when a scene leaves it out.
    #[serde(default = "default_memory")]
    pub memory: usize,
}

/// L-BFGS's usual memory `m`.
pub const DEFAULT_MEMORY: usize = 5;
/// The most pairs L-BFGS may keep (a guard against typos: each pair is two parameter vectors).
pub const MAX_MEMORY: usize = 1000;
/// The most backtracking halvings one line search may take.
pub const MAX_BACKTRACKS: u32 = 200;

fn default_memory() -> usize {
    DEFAULT_MEMORY
}

/// The backtracking (Armijo) line search: from `α₀ = η_t` along a descent direction `p`, `α ← ρ α` until
/// `L(θ + α p) <= L(θ) + c α g^T p`, at most `max_backtracks` times; no such `α` ends the run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSearch {
    /// Whether SGD/GD and Newton's methods search (BFGS, L-BFGS and CG always do).
    pub armijo: bool,
    /// The sufficient-decrease constant `c` in `(0, 1)` (1e-4).
    pub c: f64,
    /// The backtracking factor `ρ` in `(0, 1)` (0.5: halving).
    pub rho: f64,
    /// The most times `α` is multiplied by `ρ` (30): at most `max_backtracks + 1` trial points.
    pub max_backtracks: u32,
}

impl Default for LineSearch {
    fn default() -> Self {
        Self {
            armijo: false,
            c: 1e-4,
            rho: 0.5,
            max_backtracks: 30,
        }
    }
}

fn default_true() -> bool {
    true
}

/// AdamW's usual `λ`.
pub const DEFAULT_WEIGHT_DECAY: f64 = 0.01;
/// QHM's and QHAdam's recommended `ν` (Ma & Yarats 2019).
pub const DEFAULT_NU: f64 = 0.7;
/// QHAdam's recommended `ν2`.
pub const DEFAULT_NU2: f64 = 1.0;

fn default_weight_decay() -> f64 {
    DEFAULT_WEIGHT_DECAY
}

fn default_nu() -> f64 {
    DEFAULT_NU
}

fn default_nu2() -> f64 {
    DEFAULT_NU2
}

impl Hyperparams {
    /// The usual values: SGD eta 0.01; Momentum and Nesterov eta 0.01, beta_m 0.9; AdaGrad eta 0.1,
    /// eps 1e-8; RMSProp eta 0.01, beta_r 0.99, eps 1e-8; Adam, NAdam, AMSGrad eta 0.01, beta_m 0.9,
    /// beta_r 0.999, eps 1e-8; AdamW the same with λ 0.01; Lion eta 0.01, β1 0.9, β2 0.99, λ 0;
    /// AdaDelta eta 1, ρ 0.9, eps 1e-6; QHM eta 0.01, beta_m 0.999, ν 0.7; QHAdam eta 0.01,
    /// beta_m 0.995, beta_r 0.999, ν 0.7, ν2 1 (the QH values are the paper's recommendations);
    /// Newton and saddle-free Newton eta 1 (the full step); BFGS, L-BFGS and CG eta 1 (the first trial
    /// step of their line search), L-BFGS memory 5; line search off (c 1e-4, ρ 0.5, 30 halvings). Unused fields get the same usual values
    /// (beta_m 0.9, beta_r 0.999, eps 1e-8, λ 0.01, ν 0.7, ν2 1). Lecture convention, bias correction
    /// on, constant schedule.
    pub fn defaults_for(kind: OptimizerKind) -> Self {
        let base = Self {
            lr: 0.01,
            beta_m: 0.9,
            beta_r: 0.999,
            eps: 1e-8,
            convention: Convention::Lecture,
            bias_correction: true,
            weight_decay: DEFAULT_WEIGHT_DECAY,
            nu: DEFAULT_NU,
            nu2: DEFAULT_NU2,
            schedule: Schedule::Constant,
            line_search: LineSearch::default(),
            memory: DEFAULT_MEMORY,
        };
        match kind {
            OptimizerKind::Sgd
            | OptimizerKind::Momentum
            | OptimizerKind::Nesterov
            | OptimizerKind::Adam
            | OptimizerKind::AdamW
            | OptimizerKind::NAdam
            | OptimizerKind::AmsGrad => base,
            OptimizerKind::AdaGrad => Self { lr: 0.1, ..base },
            OptimizerKind::RmsProp => Self {
                beta_r: 0.99,
                ..base
            },
            OptimizerKind::Lion => Self {
                beta_r: 0.99,
                weight_decay: 0.0,
                ..base
            },
            OptimizerKind::AdaDelta => Self {
                lr: 1.0,
                beta_r: 0.9,
                eps: 1e-6,
                ..base
            },
            OptimizerKind::Qhm => Self {
                beta_m: 0.999,
                ..base
            },
            OptimizerKind::QhAdam => Self {
                beta_m: 0.995,
                ..base
            },
            OptimizerKind::Newton
            | OptimizerKind::SaddleFreeNewton
            | OptimizerKind::Bfgs
            | OptimizerKind::Lbfgs
            | OptimizerKind::Cg => Self { lr: 1.0, ..base },
        }
    }

    /// η_t, the learning rate of step `t` (1 at the first step): `eta · schedule.factor(t − 1)`.
    #[inline]
    pub fn lr_at(&self, t: u64) -> f64 {
        match self.schedule {
            Schedule::Constant => self.lr,
            schedule => self.lr * schedule.factor(t.saturating_sub(1)),
        }
    }

    /// Checks every field: `eta` finite and `> 0`, both betas in `[0, 1)`, `eps` finite and `>= 0`,
    /// `λ` finite and `>= 0`, `ν` and `ν2` in `[0, 1]`, and the schedule.
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
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                "weight decay (lambda)",
                self.weight_decay,
                "must be finite and >= 0",
            );
        }
        if !(0.0..=1.0).contains(&self.nu) {
            return bad("nu", self.nu, "must be in [0, 1]");
        }
        if !(0.0..=1.0).contains(&self.nu2) {
            return bad("nu2", self.nu2, "must be in [0, 1]");
        }
        let search = &self.line_search;
        if !(search.c > 0.0 && search.c < 1.0) {
            return bad(
                "Armijo c",
                search.c,
                "must be in (0, 1): the accepted step must decrease the loss by a share c of what \
                 the slope promises, a share between none and all",
            );
        }
        if !(search.rho > 0.0 && search.rho < 1.0) {
            return bad(
                "backtracking rho",
                search.rho,
                "must be in (0, 1): each trial step is rho times the one before, so it must shrink",
            );
        }
        if search.max_backtracks > MAX_BACKTRACKS {
            return bad(
                "backtracking halvings",
                f64::from(search.max_backtracks),
                "must be at most 200",
            );
        }
        if !(1..=MAX_MEMORY).contains(&self.memory) {
            return bad(
                "L-BFGS memory m",
                self.memory as f64,
                "must be between 1 and 1000 pairs (with no pair L-BFGS is gradient descent)",
            );
        }
        self.schedule.validate()
    }

    /// Whether `kind`'s step is chosen by the backtracking line search with these hyperparameters.
    pub fn searches(&self, kind: OptimizerKind) -> bool {
        kind.always_searches() || (self.line_search.armijo && kind.offers_line_search())
    }
}

/// A parameter vector the update rules work on: `[f64; 2]` for the 2-D landscapes (a point `(x, y)`),
/// `Vec<f64>` for a network's weights. One implementation of each formula ([`step_into`]) serves both:
/// its loops run over the coordinates `0..len`, which the compiler unrolls for the fixed-size case.
pub trait Params: Clone + fmt::Debug + PartialEq + Send + Sync + 'static {
    /// `n` zeros (a fixed-size vector ignores `n`).
    fn zeros(n: usize) -> Self;
    /// The coordinates.
    fn as_slice(&self) -> &[f64];
    /// The coordinates, to write.
    fn as_mut_slice(&mut self) -> &mut [f64];
    /// How many coordinates.
    fn dim(&self) -> usize {
        self.as_slice().len()
    }
    /// The Euclidean norm `sqrt(sum x_i^2)` (for two coordinates `hypot`, which never overflows).
    fn norm(&self) -> f64 {
        self.as_slice().iter().map(|x| x * x).sum::<f64>().sqrt()
    }
}

impl Params for [f64; 2] {
    fn zeros(_: usize) -> Self {
        [0.0; 2]
    }
    fn as_slice(&self) -> &[f64] {
        self
    }
    fn as_mut_slice(&mut self) -> &mut [f64] {
        self
    }
    fn norm(&self) -> f64 {
        self[0].hypot(self[1])
    }
}

impl Params for Vec<f64> {
    fn zeros(n: usize) -> Self {
        vec![0.0; n]
    }
    fn as_slice(&self) -> &[f64] {
        self
    }
    fn as_mut_slice(&mut self) -> &mut [f64] {
        self
    }
}

/// Makes `p` hold `n` coordinates (zeros when it had another length; a fixed-size vector stays).
fn fit<P: Params>(p: &mut P, n: usize) {
    if p.dim() != n {
        *p = P::zeros(n);
    }
}

/// What an optimizer remembers between steps. `Default` (2-D) or [`OptimizerState::zeros`] is the state
/// before the first step.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState<P = Vec2d> {
    /// Steps taken so far (the next step is `t + 1`).
    pub t: u64,
    /// Momentum `V` (Momentum, Nesterov, the Adam family's first moment, Lion's and QHM's momentum); 0
    /// for the others.
    pub v: P,
    /// Squared-gradient accumulator `s` (AdaGrad's sum, RMSProp's, the Adam family's and AdaDelta's
    /// average); 0 for the others.
    pub s: P,
    /// A third memory: AMSGrad's running maximum `s_max` of `s_hat`, AdaDelta's average of squared
    /// updates `u`; 0 for the others.
    #[serde(default)]
    pub u: P,
    /// BFGS's, L-BFGS's and CG's memory of the steps before (empty for the others).
    #[serde(default)]
    pub curvature: CurvatureMemory<P>,
}

impl<P: Params> Clone for OptimizerState<P> {
    fn clone(&self) -> Self {
        Self {
            t: self.t,
            v: self.v.clone(),
            s: self.s.clone(),
            u: self.u.clone(),
            curvature: self.curvature.clone(),
        }
    }

    // field by field, so that the runner's copy of the state before each step reuses its buffers
    fn clone_from(&mut self, source: &Self) {
        self.t = source.t;
        self.v.clone_from(&source.v);
        self.s.clone_from(&source.s);
        self.u.clone_from(&source.u);
        self.curvature.clone_from(&source.curvature);
    }
}

impl<P: Params> OptimizerState<P> {
    /// The state before the first step, for `n` parameters.
    pub fn zeros(n: usize) -> Self {
        Self {
            t: 0,
            v: P::zeros(n),
            s: P::zeros(n),
            u: P::zeros(n),
            curvature: CurvatureMemory::default(),
        }
    }
}

/// What BFGS, L-BFGS and CG remember of the steps before. Their updates need the gradient at the new
/// point, which the step does not have: each step first folds in the pair of the step before
/// (`s = θ − θ_prev`, `y = g − g_prev`), then chooses its direction — the same numbers as updating right
/// after the step.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvatureMemory<P> {
    /// Where the previous step started, `θ_prev`, and the gradient there, `g_prev`; `None` before the
    /// first step.
    pub previous: Option<(P, P)>,
    /// BFGS's inverse-Hessian approximation `H`, `n × n` row by row (empty before the first step: `H₀ =
    /// I`).
    pub h: Vec<f64>,
    /// L-BFGS's pairs `(s, y)`, oldest first, at most `m`.
    pub pairs: VecDeque<(P, P)>,
    /// CG's previous direction `p_prev`.
    pub direction: Option<P>,
    /// Scratch: BFGS's `H y`, L-BFGS's `a_i` of the two-loop recursion.
    #[serde(skip)]
    work: Vec<f64>,
}

impl<P> Default for CurvatureMemory<P> {
    fn default() -> Self {
        Self {
            previous: None,
            h: Vec::new(),
            pairs: VecDeque::new(),
            direction: None,
            work: Vec::new(),
        }
    }
}

impl<P> CurvatureMemory<P> {
    /// Nothing remembered (every method but BFGS, L-BFGS and CG, and those before their first step).
    pub fn is_empty(&self) -> bool {
        self.previous.is_none()
            && self.h.is_empty()
            && self.pairs.is_empty()
            && self.direction.is_none()
    }
}

impl<P: Params> Clone for CurvatureMemory<P> {
    fn clone(&self) -> Self {
        let mut copy = Self::default();
        copy.clone_from(self);
        copy
    }

    // field by field, reusing buffers (the runner saves the state before every step)
    fn clone_from(&mut self, source: &Self) {
        // the methods without this memory copy nothing (the runner saves the state before every step)
        if source.is_empty() && self.is_empty() {
            return;
        }
        clone_option(&mut self.previous, &source.previous);
        self.h.clone_from(&source.h);
        self.pairs.truncate(source.pairs.len());
        for (i, (s, y)) in source.pairs.iter().enumerate() {
            match self.pairs.get_mut(i) {
                Some((s_to, y_to)) => {
                    s_to.clone_from(s);
                    y_to.clone_from(y);
                }
                None => self.pairs.push_back((s.clone(), y.clone())),
            }
        }
        clone_option(&mut self.direction, &source.direction);
    }
}

/// `to = from.clone()`, reusing `to`'s buffers where it holds a value.
fn clone_option<T: Clone>(to: &mut Option<T>, from: &Option<T>) {
    match (to.as_mut(), from) {
        (Some(to), Some(from)) => to.clone_from(from),
        _ => to.clone_from(from),
    }
}

/// Everything about one step, for the teaching panel. All vectors in param units.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepDetail<P = Vec2d> {
    /// The step number, 1 at the first step.
    pub t: u64,
    /// The learning rate of this step, `η_t` (the schedule applied to `η`).
    pub eta: f64,
    /// Position before the step.
    pub theta: P,
    /// The gradient used: at `theta`, or at `lookahead` for the lecture's Nesterov.
    pub grad: P,
    /// Lecture Nesterov: the look-ahead point `theta - eta beta_m V` where `grad` was taken.
    pub lookahead: Option<P>,
    /// Momentum after the step (0 when unused).
    pub v: P,
    /// Squared-gradient accumulator after the step (0 when unused).
    pub s: P,
    /// The third memory after the step (AMSGrad's `s_max`, AdaDelta's `u`; 0 when unused).
    pub u: P,
    /// The Adam family's bias-corrected `V_hat = V / (1 - beta_m^t)` (NAdam's look-ahead `V_hat`);
    /// equals `v` for the others and without bias correction.
    pub v_hat: P,
    /// The bias-corrected `s_hat = s / (1 - beta_r^t)`; equals `s` for the others and without bias
    /// correction.
    pub s_hat: P,
    /// What the step moves against, before the step size: `g` (SGD, AdaGrad, RMSProp, AdaDelta), `V`
    /// (Momentum, lecture Nesterov), `g + β_m V` (PyTorch Nesterov), `V_hat` (the Adam family),
    /// `sign(c)` (Lion), the mix `(1−ν) g + ν V` (QHM, QHAdam's numerator), `H^-1 g` or `|H|^-1 g`
    /// (Newton's). Lion's `c` is in `v_hat`.
    pub direction: P,
    /// Per-coordinate step size multiplying `direction`: `eta` for SGD/Momentum/Nesterov/Lion/QHM/
    /// Newton, `eta / (sqrt(s) + eps)` for AdaGrad/RMSProp, `eta / sqrt(s_hat + eps)` for lecture
    /// Adam, `eta / (sqrt(s_hat) + eps)` for PyTorch Adam, `eta sqrt(u + eps) / sqrt(s + eps)` (the `u`
    /// before the step) for AdaDelta, and so on. `step = -effective_lr ⊙ direction`, plus the weight
    /// decay of AdamW and Lion.
    pub effective_lr: P,
    /// Newton's: the Hessian at `theta` (`None` for the others; Newton's methods take steps on the 2-D
    /// landscapes only).
    pub hessian: Option<Mat2>,
    /// Newton's `H^-1` or saddle-free Newton's `|H|^-1` (`None` for the others, and when `H` is
    /// singular: then the step is refused).
    pub precondition: Option<Mat2>,
    /// The displacement `new_theta - theta`.
    pub step: P,
    /// Position after the step.
    pub new_theta: P,
    /// The line search's trial points, in order (empty when the step was not searched); the last is the
    /// accepted one unless `search_failure` says none was.
    #[serde(default)]
    pub trials: Vec<Trial>,
    /// The loss at `theta`, `L(θ)`, that the Armijo test compares with (0 when not searched).
    #[serde(default)]
    pub loss: f64,
    /// The slope `g^T p` along the searched direction `p = −direction` (negative: a descent direction;
    /// 0 when not searched).
    #[serde(default)]
    pub slope: f64,
    /// Why the line search found no step, if it did not (then the runner refuses the step).
    #[serde(default)]
    pub search_failure: Option<SearchFailure>,
    /// BFGS: the `H` of this step (after folding in the previous pair), `n × n` row by row; empty for
    /// the others.
    #[serde(default)]
    pub inverse_hessian: Vec<f64>,
    /// BFGS and L-BFGS: whether the previous pair `(s, y)` was left out because `y^T s <= 1e-10 |s| |y|`
    /// (no positive curvature along `s`).
    #[serde(default)]
    pub pair_skipped: bool,
    /// L-BFGS: `γ` of `H₀ = γ I` (1 before the first pair). CG: `β` (0 at the first step and on a
    /// restart). 0 for the others.
    #[serde(default)]
    pub scale: f64,
    /// CG: whether `p` was reset to `−g` because `−g + β p_prev` was not a descent direction.
    #[serde(default)]
    pub restarted: bool,
}

/// One trial point of a line search: `θ + α p`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The step length `α`.
    pub alpha: f64,
    /// The loss there, `L(θ + α p)` (may be infinite or NaN: then the test fails and `α` shrinks).
    pub loss: f64,
    /// The Armijo bound `L(θ) + c α g^T p` it must not exceed.
    pub bound: f64,
}

impl Trial {
    /// Whether it passes the Armijo test `L(θ + α p) <= L(θ) + c α g^T p`.
    pub fn accepted(&self) -> bool {
        self.loss <= self.bound
    }
}

/// Why a line search found no step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SearchFailure {
    /// `g^T p >= 0`: the direction does not go downhill (Newton's `H^-1 g` where `H` is not positive
    /// definite), so no step along it can pass the Armijo test for small `α`.
    NotDescent,
    /// Every trial step, down to `α₀ ρ^max_backtracks`, failed the Armijo test.
    NoSufficientDecrease,
}

impl<P: Params> StepDetail<P> {
    /// An empty detail for `n` parameters, to pass to [`step_into`] (which reuses its buffers).
    pub fn zeros(n: usize) -> Self {
        Self {
            t: 0,
            eta: 0.0,
            theta: P::zeros(n),
            grad: P::zeros(n),
            lookahead: None,
            v: P::zeros(n),
            s: P::zeros(n),
            u: P::zeros(n),
            v_hat: P::zeros(n),
            s_hat: P::zeros(n),
            direction: P::zeros(n),
            effective_lr: P::zeros(n),
            hessian: None,
            precondition: None,
            step: P::zeros(n),
            new_theta: P::zeros(n),
            trials: Vec::new(),
            loss: 0.0,
            slope: 0.0,
            search_failure: None,
            inverse_hessian: Vec::new(),
            pair_skipped: false,
            scale: 0.0,
            restarted: false,
        }
    }
}

/// An eigenvalue of the Hessian counts as zero for Newton's steps when `|λ| <= SINGULAR_TOL · max |λ|`
/// (or both are 0): `H^-1` would send the step a million times further along it than along the other.
pub const SINGULAR_TOL: f64 = 1e-12;

/// `a / b` per coordinate, except that a zero denominator (possible only with `eps = 0`, where the
/// formula is 0/0 on a coordinate that has seen no gradient) gives 0: no information, no step.
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// `a^T b`, summed in order.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Whether a pair `(s, y)` carries curvature BFGS and L-BFGS may learn: `y^T s > 1e-10 |s| |y|` (otherwise
/// `H` would lose positive definiteness, and with it the guarantee that `−H g` goes downhill).
fn positive_curvature(s: &[f64], y: &[f64]) -> bool {
    let norm = |v: &[f64]| dot(v, v).sqrt();
    dot(y, s) > CURVATURE_TOL * norm(s) * norm(y)
}

/// A pair `(s, y)` with `y^T s <= CURVATURE_TOL |s| |y|` is skipped by BFGS and not stored by L-BFGS.
pub const CURVATURE_TOL: f64 = 1e-10;

/// `previous = (θ, g)`, reusing its buffers.
fn remember<P: Params>(previous: &mut Option<(P, P)>, theta: &P, grad: &P) {
    match previous {
        Some((t, g)) => {
            t.clone_from(theta);
            g.clone_from(grad);
        }
        None => *previous = Some((theta.clone(), grad.clone())),
    }
}

/// The backtracking (Armijo) line search along `p = −direction` from `α₀ = η_t`: `α <- ρ α` until
/// `L(θ + α p) <= L(θ) + c α g^T p`, at most `max_backtracks` times. Writes the accepted step into
/// `step` (and `α` into `effective_lr`), every trial into `trials`; without a descent direction or an
/// accepted trial, `search_failure` says why and the step is 0.
fn line_search<P: Params>(
    search: &LineSearch,
    eta: f64,
    theta: &P,
    loss: &mut dyn FnMut(&P) -> f64,
    d: &mut StepDetail<P>,
) {
    let n = theta.dim();
    // g^T p with p = −direction
    let slope: f64 = d
        .grad
        .as_slice()
        .iter()
        .zip(d.direction.as_slice())
        .map(|(g, dir)| g * -dir)
        .sum();
    d.loss = loss(theta);
    d.slope = slope;
    d.step.as_mut_slice().fill(0.0);
    d.effective_lr.as_mut_slice().fill(0.0);
    d.new_theta.clone_from(theta);
    // NaN is no descent either
    if slope.is_nan() || slope >= 0.0 {
        d.search_failure = Some(SearchFailure::NotDescent);
        return;
    }
    let mut alpha = eta;
    for k in 0..=search.max_backtracks {
        if k > 0 {
            alpha *= search.rho;
        }
        let th = theta.as_slice();
        let (dir, delta) = (d.direction.as_slice(), d.step.as_mut_slice());
        let next = d.new_theta.as_mut_slice();
        for i in 0..n {
            // α p = −α direction
            delta[i] = -alpha * dir[i];
            next[i] = th[i] + delta[i];
        }
        let trial = Trial {
            alpha,
            loss: loss(&d.new_theta),
            bound: d.loss + search.c * alpha * slope,
        };
        d.trials.push(trial);
        if trial.accepted() {
            d.effective_lr.as_mut_slice().fill(alpha);
            return;
        }
    }
    d.search_failure = Some(SearchFailure::NoSufficientDecrease);
    d.step.as_mut_slice().fill(0.0);
}

/// BFGS's update of `h` (`n × n` row by row) with a pair `(s, y)` of positive curvature (checked by the
/// caller): `H <- (I − ρ_k s y^T) H (I − ρ_k y s^T) + ρ_k s s^T`, `ρ_k = 1/(y^T s)`. `hy` is scratch of
/// length `n`.
fn bfgs_update(h: &mut [f64], s: &[f64], y: &[f64], hy: &mut [f64]) {
    let n = s.len();
    let rho = 1.0 / dot(y, s);
    // the product written out (H symmetric, so y^T H = (H y)^T):
    // H − ρ_k s (H y)^T − ρ_k (H y) s^T + (ρ_k² y^T H y + ρ_k) s s^T
    for i in 0..n {
        hy[i] = dot(&h[i * n..(i + 1) * n], y);
    }
    let yhy = dot(y, hy);
    let outer = rho * rho * yhy + rho;
    for i in 0..n {
        for j in 0..n {
            h[i * n + j] += -rho * (s[i] * hy[j] + hy[i] * s[j]) + outer * s[i] * s[j];
        }
    }
}

/// L-BFGS's two-loop recursion: `q <- H q` for the `H` of `pairs` (oldest first) with `H₀ = γ I`;
/// returns `γ`. `a` is scratch.
///   newest to oldest: `ρ_i = 1/(y_i^T s_i)`, `a_i = ρ_i s_i^T q`, `q <- q − a_i y_i`;
///   `r = γ q`, `γ = s^T y / y^T y` of the newest pair (1 before the first);
///   oldest to newest: `b = ρ_i y_i^T r`, `r <- r + s_i (a_i − b)`.
fn two_loop<P: Params>(pairs: &VecDeque<(P, P)>, q: &mut [f64], a: &mut Vec<f64>) -> f64 {
    let n = q.len();
    a.clear();
    a.resize(pairs.len(), 0.0);
    for (i, (sv, yv)) in pairs.iter().enumerate().rev() {
        let (sv, yv) = (sv.as_slice(), yv.as_slice());
        let rho = 1.0 / dot(yv, sv);
        a[i] = rho * dot(sv, q);
        for k in 0..n {
            q[k] -= a[i] * yv[k];
        }
    }
    let gamma = pairs.back().map_or(1.0, |(sv, yv)| {
        dot(sv.as_slice(), yv.as_slice()) / dot(yv.as_slice(), yv.as_slice())
    });
    let r = q;
    for x in r.iter_mut() {
        *x *= gamma;
    }
    for (i, (sv, yv)) in pairs.iter().enumerate() {
        let (sv, yv) = (sv.as_slice(), yv.as_slice());
        let rho = 1.0 / dot(yv, sv);
        let b = rho * dot(yv, r);
        for k in 0..n {
            r[k] += sv[k] * (a[i] - b);
        }
    }
    gamma
}

impl<P: Params> OptimizerState<P> {
    /// BFGS's and L-BFGS's inverse-Hessian approximation `H` at the point the last step reached,
    /// `theta`, with the gradient `grad` there: the `H` the next step will use, i.e. the stored `H` (or
    /// pairs) with the last step's pair `s = θ − θ_prev`, `y = g − g_prev` folded in by the same
    /// update as the step (skipped when `y^T s <= 1e-10 |s| |y|`; L-BFGS keeps the last `memory`
    /// pairs). `H₀ = I` before the first pair. `n × n` row by row (L-BFGS's implicit `H` formed by the
    /// two-loop recursion applied to each unit vector: `O(n² m)`); `None` for the other kinds.
    pub fn inverse_hessian(
        &self,
        kind: OptimizerKind,
        memory: usize,
        theta: &P,
        grad: &P,
    ) -> Option<Vec<f64>> {
        let n = theta.dim();
        let c = &self.curvature;
        let pending = c.previous.as_ref().and_then(|(theta_prev, g_prev)| {
            let s: Vec<f64> = (theta.as_slice().iter().zip(theta_prev.as_slice()))
                .map(|(a, b)| a - b)
                .collect();
            let y: Vec<f64> = (grad.as_slice().iter().zip(g_prev.as_slice()))
                .map(|(a, b)| a - b)
                .collect();
            (s.len() == n && y.len() == n && positive_curvature(&s, &y)).then_some((s, y))
        });
        match kind {
            OptimizerKind::Bfgs => {
                let mut h = c.h.clone();
                if h.len() != n * n {
                    h = vec![0.0; n * n];
                    for i in 0..n {
                        h[i * n + i] = 1.0;
                    }
                }
                if let Some((s, y)) = pending {
                    bfgs_update(&mut h, &s, &y, &mut vec![0.0; n]);
                }
                Some(h)
            }
            OptimizerKind::Lbfgs => {
                let mut pairs = c.pairs.clone();
                if let Some((s, y)) = pending {
                    let (mut sv, mut yv) = (P::zeros(n), P::zeros(n));
                    sv.as_mut_slice().copy_from_slice(&s);
                    yv.as_mut_slice().copy_from_slice(&y);
                    pairs.push_back((sv, yv));
                }
                while pairs.len() > memory.max(1) {
                    pairs.pop_front();
                }
                // H is symmetric: column j = H e_j is row j
                let (mut h, mut a) = (vec![0.0; n * n], Vec::new());
                for j in 0..n {
                    let row = &mut h[j * n..(j + 1) * n];
                    row[j] = 1.0;
                    two_loop(&pairs, row, &mut a);
                }
                Some(h)
            }
            _ => None,
        }
    }
}

/// One optimizer step from `theta` on the 2-D landscapes. `grad` evaluates the (possibly noisy)
/// gradient at a point; it is called exactly once per step (at `theta`, or at the look-ahead point for
/// the lecture's Nesterov). `hessian` evaluates the Hessian; it is called once per step by Newton's
/// methods only. Advances `state`; `hp` is assumed valid ([`Hyperparams::validate`]). The formulas are
/// [`step_into`]'s, the one implementation for any number of parameters.
pub fn step(
    kind: OptimizerKind,
    hp: &Hyperparams,
    state: &mut OptimizerState,
    theta: Vec2d,
    grad: &mut dyn FnMut(Vec2d) -> Vec2d,
    hessian: &mut dyn FnMut(Vec2d) -> Mat2,
) -> StepDetail {
    step_with(kind, hp, state, theta, grad, hessian, None)
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

/// The Adam family's denominator from a (corrected) second moment: `sqrt(s_hat + eps)` in the lecture's
/// convention, `sqrt(s_hat) + eps` in PyTorch's.
fn adam_denominator(convention: Convention, s_hat: f64, eps: f64) -> f64 {
    match convention {
        Convention::Lecture => (s_hat + eps).sqrt(),
        Convention::PyTorch => s_hat.sqrt() + eps,
    }
}

/// `sign(x)`: 1, -1, or 0 at 0 (as `torch.sign`; `f64::signum` gives 1 at 0); NaN stays NaN.
fn sign(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x.signum() }
}

/// [`step`], with the bias corrections `1 − β^t` looked up in `table` when it fits `hp` and reaches this
/// step (otherwise computed): the same numbers either way. It has no loss to search with: a kind that
/// searches ([`Hyperparams::searches`]) finds no step here (use [`step_into`] with the loss).
pub fn step_with(
    kind: OptimizerKind,
    hp: &Hyperparams,
    state: &mut OptimizerState,
    theta: Vec2d,
    grad: &mut dyn FnMut(Vec2d) -> Vec2d,
    hessian: &mut dyn FnMut(Vec2d) -> Mat2,
    table: Option<&BiasTable>,
) -> StepDetail {
    let mut detail = StepDetail::default();
    step_into(
        kind,
        hp,
        state,
        &theta,
        &mut |_: &Vec2d| f64::NAN,
        &mut |p: &Vec2d, out: &mut Vec2d| *out = grad(*p),
        &mut |p: &Vec2d| hessian(*p),
        table,
        &mut detail,
    );
    detail
}

/// One optimizer step from `theta`, for any number of parameters: every update rule of the lecture, each
/// written once. `loss(p)` is the loss at `p`, asked only by the backtracking line search (once at
/// `theta`, then at each trial point: see [`Hyperparams::searches`]). `grad(p, out)` writes the (possibly noisy) gradient at `p` into `out`; it is called
/// exactly once per step (at `theta`, or at the look-ahead point for the lecture's Nesterov).
/// `hessian` is called once per step by Newton's methods, which step on two parameters only (on more,
/// their direction is NaN and the runner refuses the step; [`super::simulation::Objective::supports`]
/// refuses them up front). Advances `state`; writes every intermediate into `detail`, reusing its
/// buffers; `hp` is assumed valid ([`Hyperparams::validate`]). With a `table`, the bias corrections
/// `1 − β^t` are looked up when it fits `hp` and reaches this step: the same numbers either way.
pub fn step_into<P: Params>(
    kind: OptimizerKind,
    hp: &Hyperparams,
    state: &mut OptimizerState<P>,
    theta: &P,
    loss: &mut dyn FnMut(&P) -> f64,
    grad: &mut dyn FnMut(&P, &mut P),
    hessian: &mut dyn FnMut(&P) -> Mat2,
    table: Option<&BiasTable>,
    detail: &mut StepDetail<P>,
) {
    let n = theta.dim();
    fit(&mut state.v, n);
    fit(&mut state.s, n);
    fit(&mut state.u, n);
    let d = detail;
    for buffer in [
        &mut d.grad,
        &mut d.v_hat,
        &mut d.s_hat,
        &mut d.direction,
        &mut d.effective_lr,
        &mut d.step,
        &mut d.new_theta,
    ] {
        fit(buffer, n);
    }
    let t = state.t + 1;
    state.t = t;
    // η_t: the schedule at c = t - 1
    let eta = hp.lr_at(t);
    let (bm, br, eps) = (hp.beta_m, hp.beta_r, hp.eps);
    let corrections = || {
        table
            .and_then(|table| table.get(hp, t))
            .unwrap_or_else(|| bias_corrections(hp, t))
    };
    d.t = t;
    d.eta = eta;
    d.theta.clone_from(theta);
    d.hessian = None;
    d.precondition = None;
    d.trials.clear();
    d.loss = 0.0;
    d.slope = 0.0;
    d.search_failure = None;
    d.inverse_hessian.clear();
    d.pair_skipped = false;
    d.scale = 0.0;
    d.restarted = false;
    let lookahead = d.lookahead.take();
    d.effective_lr.as_mut_slice().fill(eta);
    d.direction.as_mut_slice().fill(0.0);
    d.step.as_mut_slice().fill(0.0);
    // V_hat and s_hat are V and s unless a branch computes them
    let mut corrected = false;
    let th = theta.as_slice();

    match (kind, hp.convention) {
        // Nesterov (lecture): g = ∇L(θ - η β_m V); V <- β_m V + (1 - β_m) g; θ <- θ - η V
        (OptimizerKind::Nesterov, Convention::Lecture) => {
            let mut ahead = lookahead.unwrap_or_else(|| P::zeros(n));
            fit(&mut ahead, n);
            for ((a, &x), &v) in ahead
                .as_mut_slice()
                .iter_mut()
                .zip(th)
                .zip(state.v.as_slice())
            {
                *a = x - eta * bm * v;
            }
            grad(&ahead, &mut d.grad);
            d.lookahead = Some(ahead);
        }
        _ => grad(theta, &mut d.grad),
    }
    let g = d.grad.as_slice();
    let v = state.v.as_mut_slice();
    let s = state.s.as_mut_slice();
    let u = state.u.as_mut_slice();
    let direction = d.direction.as_mut_slice();
    let effective_lr = d.effective_lr.as_mut_slice();
    let delta = d.step.as_mut_slice();

    match (kind, hp.convention) {
        // SGD: θ <- θ - η g
        (OptimizerKind::Sgd, _) => {
            for i in 0..n {
                direction[i] = g[i];
                delta[i] = -eta * g[i];
            }
        }
        // Momentum (lecture, EMA): V <- β_m V + (1 - β_m) g; θ <- θ - η V
        // Nesterov (lecture), after its look-ahead gradient above: the same update
        (OptimizerKind::Momentum | OptimizerKind::Nesterov, Convention::Lecture) => {
            for i in 0..n {
                v[i] = bm * v[i] + (1.0 - bm) * g[i];
                direction[i] = v[i];
                delta[i] = -eta * v[i];
            }
        }
        // Momentum (PyTorch, heavy ball): V <- β_m V + g; θ <- θ - η V
        (OptimizerKind::Momentum, Convention::PyTorch) => {
            for i in 0..n {
                v[i] = bm * v[i] + g[i];
                direction[i] = v[i];
                delta[i] = -eta * v[i];
            }
        }
        // Nesterov (PyTorch): g = ∇L(θ); V <- β_m V + g; θ <- θ - η (g + β_m V)
        (OptimizerKind::Nesterov, Convention::PyTorch) => {
            for i in 0..n {
                v[i] = bm * v[i] + g[i];
                direction[i] = g[i] + bm * v[i];
                delta[i] = -eta * (g[i] + bm * v[i]);
            }
        }
        // AdaGrad (both): s <- s + g²; θ <- θ - η g / (√s + ε)
        (OptimizerKind::AdaGrad, _) => {
            for i in 0..n {
                s[i] += g[i] * g[i];
                let denom = s[i].sqrt() + eps;
                direction[i] = g[i];
                effective_lr[i] = ratio(eta, denom);
                delta[i] = -ratio(eta * g[i], denom);
            }
        }
        // RMSProp (both): s <- β_r s + (1 - β_r) g²; θ <- θ - η g / (√s + ε)
        (OptimizerKind::RmsProp, _) => {
            for i in 0..n {
                s[i] = br * s[i] + (1.0 - br) * g[i] * g[i];
                let denom = s[i].sqrt() + eps;
                direction[i] = g[i];
                effective_lr[i] = ratio(eta, denom);
                delta[i] = -ratio(eta * g[i], denom);
            }
        }
        // Adam: V <- β_m V + (1 - β_m) g; s <- β_r s + (1 - β_r) g²;
        // V_hat = V / (1 - β_m^t), s_hat = s / (1 - β_r^t) (V_hat = V, s_hat = s without bias correction);
        //   lecture: θ <- θ - η V_hat / √(s_hat + ε);  PyTorch: θ <- θ - η V_hat / (√s_hat + ε)
        // AdamW: the same plus decoupled weight decay: θ <- θ - η (V_hat / √(s_hat + ε) + λ θ)
        // AMSGrad: s_max <- max(s_max, s_hat) (on the corrected s_hat); θ <- θ - η V_hat / √(s_max + ε)
        (OptimizerKind::Adam | OptimizerKind::AdamW | OptimizerKind::AmsGrad, convention) => {
            let (c1, c2) = corrections();
            let (vh, sh) = (d.v_hat.as_mut_slice(), d.s_hat.as_mut_slice());
            for i in 0..n {
                v[i] = bm * v[i] + (1.0 - bm) * g[i];
                s[i] = br * s[i] + (1.0 - br) * g[i] * g[i];
                vh[i] = v[i] / c1;
                sh[i] = s[i] / c2;
                let second = if kind == OptimizerKind::AmsGrad {
                    u[i] = u[i].max(sh[i]);
                    u[i]
                } else {
                    sh[i]
                };
                let denom = adam_denominator(convention, second, eps);
                direction[i] = vh[i];
                effective_lr[i] = ratio(eta, denom);
                delta[i] = -ratio(eta * vh[i], denom);
                if kind == OptimizerKind::AdamW {
                    delta[i] -= eta * hp.weight_decay * th[i];
                }
            }
            corrected = true;
        }
        // NAdam (Dozat's form, no momentum schedule): V and s as Adam;
        // V_hat = β_m V / (1 - β_m^(t+1)) + (1 - β_m) g / (1 - β_m^t); s_hat = s / (1 - β_r^t);
        //   lecture: θ <- θ - η V_hat / √(s_hat + ε);  PyTorch: θ <- θ - η V_hat / (√s_hat + ε)
        (OptimizerKind::NAdam, convention) => {
            let c1 = 1.0 - bm.powf(t as f64);
            let c1_next = 1.0 - bm.powf((t + 1) as f64);
            let c2 = 1.0 - br.powf(t as f64);
            let (vh, sh) = (d.v_hat.as_mut_slice(), d.s_hat.as_mut_slice());
            for i in 0..n {
                v[i] = bm * v[i] + (1.0 - bm) * g[i];
                s[i] = br * s[i] + (1.0 - br) * g[i] * g[i];
                vh[i] = bm * v[i] / c1_next + (1.0 - bm) * g[i] / c1;
                sh[i] = s[i] / c2;
                let denom = adam_denominator(convention, sh[i], eps);
                direction[i] = vh[i];
                effective_lr[i] = ratio(eta, denom);
                delta[i] = -ratio(eta * vh[i], denom);
            }
            corrected = true;
        }
        // Lion (both): c = β_m V + (1 - β_m) g; θ <- θ - η (sign(c) + λ θ); then V <- β_r V + (1 - β_r) g
        (OptimizerKind::Lion, _) => {
            let c = d.v_hat.as_mut_slice();
            for i in 0..n {
                c[i] = bm * v[i] + (1.0 - bm) * g[i];
                direction[i] = sign(c[i]);
                delta[i] = -eta * (direction[i] + hp.weight_decay * th[i]);
                v[i] = br * v[i] + (1.0 - br) * g[i];
            }
            // Lion's c stands in V_hat; s_hat stays s
            d.s_hat.clone_from(&state.s);
            corrected = true;
        }
        // AdaDelta (both; ρ = β_r): s <- ρ s + (1 - ρ) g²; Δ = √(u + ε) / √(s + ε) · g;
        // u <- ρ u + (1 - ρ) Δ²; θ <- θ - η Δ
        (OptimizerKind::AdaDelta, _) => {
            for i in 0..n {
                s[i] = br * s[i] + (1.0 - br) * g[i] * g[i];
                let scale = ratio((u[i] + eps).sqrt(), (s[i] + eps).sqrt());
                let change = scale * g[i];
                u[i] = br * u[i] + (1.0 - br) * change * change;
                direction[i] = g[i];
                effective_lr[i] = eta * scale;
                delta[i] = -eta * change;
            }
        }
        // QHM (both): V <- β_m V + (1 - β_m) g; θ <- θ - η ((1 - ν) g + ν V)
        (OptimizerKind::Qhm, _) => {
            let nu = hp.nu;
            for i in 0..n {
                v[i] = bm * v[i] + (1.0 - bm) * g[i];
                direction[i] = (1.0 - nu) * g[i] + nu * v[i];
                delta[i] = -eta * direction[i];
            }
        }
        // QHAdam: V, s, V_hat, s_hat as Adam;
        //   lecture: θ <- θ - η ((1 - ν1) g + ν1 V_hat) / √((1 - ν2) g² + ν2 s_hat + ε)
        //   PyTorch: θ <- θ - η ((1 - ν1) g + ν1 V_hat) / (√((1 - ν2) g² + ν2 s_hat) + ε)
        (OptimizerKind::QhAdam, convention) => {
            let (c1, c2) = corrections();
            let (nu1, nu2) = (hp.nu, hp.nu2);
            let (vh, sh) = (d.v_hat.as_mut_slice(), d.s_hat.as_mut_slice());
            for i in 0..n {
                v[i] = bm * v[i] + (1.0 - bm) * g[i];
                s[i] = br * s[i] + (1.0 - br) * g[i] * g[i];
                vh[i] = v[i] / c1;
                sh[i] = s[i] / c2;
                let mix = (1.0 - nu1) * g[i] + nu1 * vh[i];
                let second = (1.0 - nu2) * g[i] * g[i] + nu2 * sh[i];
                let denom = adam_denominator(convention, second, eps);
                direction[i] = mix;
                effective_lr[i] = ratio(eta, denom);
                delta[i] = -ratio(eta * mix, denom);
            }
            corrected = true;
        }
        // Newton (both): θ <- θ - η H^-1 g
        // Saddle-free Newton (both): θ <- θ - η |H|^-1 g, |H| with the eigenvalues' absolute values
        (OptimizerKind::Newton | OptimizerKind::SaddleFreeNewton, _) => {
            // a singular (or non-finite) H has no inverse: the step is NaN and the runner refuses it
            direction.fill(f64::NAN);
            if n == 2 {
                let h = hessian(theta);
                d.hessian = Some(h);
                let (values, vectors) = eigen(h);
                let big = values[0].abs().max(values[1].abs());
                let small = values[0].abs().min(values[1].abs());
                if big.is_finite() && big > 0.0 && small > SINGULAR_TOL * big {
                    let p = if kind == OptimizerKind::Newton {
                        spectral(values, vectors, |l| 1.0 / l)
                    } else {
                        spectral(values, vectors, |l| 1.0 / l.abs())
                    };
                    d.precondition = Some(p);
                    let towards = mul(p, [g[0], g[1]]);
                    direction[0] = towards[0];
                    direction[1] = towards[1];
                }
            }
            for i in 0..n {
                delta[i] = -eta * direction[i];
            }
        }
        // BFGS: fold in the previous step's pair: s = θ − θ_prev, y = g − g_prev;
        // skip when y^T s <= 1e-10 |s| |y|, else with ρ_k = 1/(y^T s):
        // H <- (I − ρ_k s y^T) H (I − ρ_k y s^T) + ρ_k s s^T   (H₀ = I);  then p = −H g
        (OptimizerKind::Bfgs, _) => {
            let memory = &mut state.curvature;
            let h = &mut memory.h;
            if h.len() != n * n {
                h.clear();
                h.resize(n * n, 0.0);
                for i in 0..n {
                    h[i * n + i] = 1.0;
                }
            }
            let work = &mut memory.work;
            work.clear();
            work.resize(3 * n, 0.0);
            let (sv, rest) = work.split_at_mut(n);
            let (yv, hy) = rest.split_at_mut(n);
            if let Some((theta_prev, g_prev)) = &memory.previous {
                for i in 0..n {
                    sv[i] = th[i] - theta_prev.as_slice()[i];
                    yv[i] = g[i] - g_prev.as_slice()[i];
                }
                if positive_curvature(sv, yv) {
                    bfgs_update(h, sv, yv, hy);
                } else {
                    d.pair_skipped = true;
                }
            }
            // p = −H g: the direction moved against is H g
            for i in 0..n {
                direction[i] = dot(&h[i * n..(i + 1) * n], g);
                delta[i] = -eta * direction[i];
            }
            d.inverse_hessian.clone_from(h);
            remember(&mut memory.previous, theta, &d.grad);
        }
        // L-BFGS(m): store the previous step's pair (s, y) unless y^T s <= 1e-10 |s| |y|, keeping the
        // last m; p = −H g by the two-loop recursion:
        //   q = g; newest to oldest: ρ_i = 1/(y_i^T s_i), a_i = ρ_i s_i^T q, q <- q − a_i y_i;
        //   r = γ q, γ = s^T y / y^T y of the newest pair (1 before the first);
        //   oldest to newest: b = ρ_i y_i^T r, r <- r + s_i (a_i − b);  H g = r
        (OptimizerKind::Lbfgs, _) => {
            let memory = &mut state.curvature;
            if let Some((theta_prev, g_prev)) = &memory.previous {
                let work = &mut memory.work;
                work.clear();
                work.resize(2 * n, 0.0);
                let (sw, yw) = work.split_at_mut(n);
                for i in 0..n {
                    sw[i] = th[i] - theta_prev.as_slice()[i];
                    yw[i] = g[i] - g_prev.as_slice()[i];
                }
                if positive_curvature(sw, yw) {
                    // the oldest pair's buffers hold the newest when the memory is full
                    let (mut sv, mut yv) = if memory.pairs.len() >= hp.memory {
                        memory
                            .pairs
                            .pop_front()
                            .unwrap_or_else(|| (P::zeros(n), P::zeros(n)))
                    } else {
                        (P::zeros(n), P::zeros(n))
                    };
                    fit(&mut sv, n);
                    fit(&mut yv, n);
                    sv.as_mut_slice().copy_from_slice(sw);
                    yv.as_mut_slice().copy_from_slice(yw);
                    memory.pairs.push_back((sv, yv));
                } else {
                    d.pair_skipped = true;
                }
            }
            while memory.pairs.len() > hp.memory {
                memory.pairs.pop_front();
            }
            direction.copy_from_slice(g);
            let gamma = two_loop(&memory.pairs, direction, &mut memory.work);
            // p = −r: the direction moved against is r = H g
            for i in 0..n {
                delta[i] = -eta * direction[i];
            }
            d.scale = gamma;
            remember(&mut memory.previous, theta, &d.grad);
        }
        // CG (Polak–Ribière+): p₀ = −g; β = max(0, g^T (g − g_prev) / |g_prev|²), p = −g + β p_prev;
        // restart with p = −g when g^T p >= 0
        (OptimizerKind::Cg, _) => {
            let memory = &mut state.curvature;
            let mut p = memory.direction.take().unwrap_or_else(|| P::zeros(n));
            fit(&mut p, n);
            let pv = p.as_mut_slice();
            match &memory.previous {
                Some((_, g_prev)) => {
                    let gp = g_prev.as_slice();
                    let mut change = 0.0;
                    let mut before = 0.0;
                    for i in 0..n {
                        change += g[i] * (g[i] - gp[i]);
                        before += gp[i] * gp[i];
                    }
                    // |g_prev| = 0 would have ended the run (converged): no β to take
                    let beta = if before > 0.0 {
                        (change / before).max(0.0)
                    } else {
                        0.0
                    };
                    for i in 0..n {
                        pv[i] = -g[i] + beta * pv[i];
                    }
                    if dot(g, pv) >= 0.0 {
                        for i in 0..n {
                            pv[i] = -g[i];
                        }
                        d.restarted = true;
                    }
                    d.scale = beta;
                }
                None => {
                    for i in 0..n {
                        pv[i] = -g[i];
                    }
                }
            }
            // the direction moved against is −p
            for i in 0..n {
                direction[i] = -pv[i];
                delta[i] = -eta * direction[i];
            }
            memory.direction = Some(p);
            remember(&mut memory.previous, theta, &d.grad);
        }
    }

    if hp.searches(kind) && d.direction.as_slice().iter().all(|x| x.is_finite()) {
        line_search(&hp.line_search, eta, theta, loss, d);
    }

    d.v.clone_from(&state.v);
    d.s.clone_from(&state.s);
    d.u.clone_from(&state.u);
    if !corrected {
        d.v_hat.clone_from(&state.v);
        d.s_hat.clone_from(&state.s);
    }
    for ((next, &x), &dx) in d
        .new_theta
        .as_mut_slice()
        .iter_mut()
        .zip(th)
        .zip(d.step.as_slice())
    {
        *next = x + dx;
    }
}

impl<P: Params> StepDetail<P> {
    /// The point a trial of its line search evaluated: `θ + α p` with `p = −direction`.
    pub fn trial_point(&self, alpha: f64) -> P {
        let mut point = self.theta.clone();
        for (x, d) in point
            .as_mut_slice()
            .iter_mut()
            .zip(self.direction.as_slice())
        {
            *x -= alpha * d;
        }
        point
    }

    /// Whether every number in it is finite (the runner refuses a step that is not).
    pub fn is_finite(&self) -> bool {
        // One pass without a branch per number (the runner asks after every step): a number is not
        // finite when its exponent bits are all ones, and then (exponent bits + 2⁵²) sets the top bit;
        // OR-ing them all keeps any top bit set, in whatever order the compiler adds them up.
        const EXPONENT: u64 = 0x7ff0_0000_0000_0000;
        let spread = |xs: &[f64]| {
            xs.iter()
                .fold(0_u64, |acc, x| acc | ((x.to_bits() & EXPONENT) + (1 << 52)))
        };
        let matrix = |m: &Option<Mat2>| m.as_ref().map_or(0, |m| spread(m.as_flattened()));
        let all = spread(&[self.eta, self.scale])
            | matrix(&self.hessian)
            | matrix(&self.precondition)
            | spread(self.theta.as_slice())
            | spread(self.grad.as_slice())
            | spread(self.v.as_slice())
            | spread(self.s.as_slice())
            | spread(self.u.as_slice())
            | spread(self.v_hat.as_slice())
            | spread(self.s_hat.as_slice())
            | spread(self.direction.as_slice())
            | spread(self.effective_lr.as_slice())
            | spread(self.step.as_slice())
            | spread(self.new_theta.as_slice())
            | self.lookahead.as_ref().map_or(0, |p| spread(p.as_slice()))
            | spread(&self.inverse_hessian);
        all & (1 << 63) == 0
    }

    /// Whether Newton's step was refused because the Hessian is singular (finite, but with an
    /// eigenvalue that counts as zero: see [`SINGULAR_TOL`]).
    pub fn singular_hessian(&self) -> bool {
        self.precondition.is_none()
            && self
                .hessian
                .is_some_and(|h| h.iter().flatten().all(|x| x.is_finite()))
    }
}
