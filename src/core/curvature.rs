//! Curvature you can see: the Hessian's principal directions at a point, the learning-rate limit an
//! optimizer meets along the sharpest of them, and why a run diverged.
//!
//! - [`eigen`]: eigenvalues (ascending) and unit eigenvectors of a symmetric 2 x 2 matrix, in closed form.
//! - [`Curvature`]: at a point of a landscape: `λ1 <= λ2`, their directions, the [`CurvatureKind`] in words
//!   and the condition number; [`Curvature::text`] is the panel's line.
//! - [`EtaLimit`]: for an optimizer at its current state, where on the η slider a step starts to
//!   overshoot and grow along the sharpest direction ([`eta_limit`]).
//! - [`Diagnosis`]: why a diverged run diverged and the last stable step to rewind to ([`diagnose`]).
//! - [`CurvatureModel`]: a quasi-Newton method's inverse-Hessian approximation `H` beside the true
//!   `∇²L⁻¹`, as two ellipses of the same definition ([`Ellipse`]) and the relative error between them.
//!
//! All in `param` space.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::landscape::{Domain, Landscape, Vec2d};
pub use super::linalg::eigen;
use super::linalg::{Mat2, canonical, spectral};
use super::number::num;
use super::optimizer::{self, Convention, Hyperparams, OptimizerKind, OptimizerState};
use super::schedule::Schedule;
use super::simulation::{DivergenceReason, RunConfig, RunStatus, StepRecord};

/// An eigenvalue counts as zero when `|λ| <= REL_TOL * max(|λ1|, |λ2|)` ...
pub const REL_TOL: f64 = 1e-6;
/// ... or `|λ| <= ABS_TOL` (loss units per param unit squared). Both zero: [`CurvatureKind::Flat`].
pub const ABS_TOL: f64 = 1e-9;

/// What the surface does around a point, from the Hessian's eigenvalues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CurvatureKind {
    /// Curves up (or stays flat) in every direction, up in at least one: `λ1 >= 0`, `λ2 > 0`.
    Minimum,
    /// Curves down (or stays flat) in every direction, down in at least one.
    Maximum,
    /// Curves up in one direction and down in the other: `λ1 < 0 < λ2`.
    Saddle,
    /// Both eigenvalues zero within the tolerance ([`REL_TOL`], [`ABS_TOL`]).
    Flat,
}

impl CurvatureKind {
    /// `minimum`, `maximum`, `saddle` or `flat` (the word of `losscape inspect`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Minimum => "minimum",
            Self::Maximum => "maximum",
            Self::Saddle => "saddle",
            Self::Flat => "flat",
        }
    }

    /// Classifies ascending eigenvalues: each is zero when within [`REL_TOL`] of the larger magnitude
    /// or within [`ABS_TOL`]; then by signs. "Minimum" is in the curvature's sense (the surface is
    /// shaped like one here); whether the gradient vanishes is another question.
    pub fn classify(values: [f64; 2]) -> Self {
        let scale = values[0].abs().max(values[1].abs());
        let zero = |l: f64| l.abs() <= (REL_TOL * scale).max(ABS_TOL);
        let sign = |l: f64| if zero(l) { 0 } else { l.signum() as i8 };
        match (sign(values[0]), sign(values[1])) {
            (0, 0) => Self::Flat,
            (-1, 1) => Self::Saddle,
            (a, b) if a >= 0 && b >= 0 => Self::Minimum,
            _ => Self::Maximum,
        }
    }
}

impl fmt::Display for CurvatureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The curvature of a landscape at one point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curvature {
    /// Where (param space).
    pub at: Vec2d,
    /// The exact Hessian `[[L_xx, L_xy], [L_xy, L_yy]]` there.
    pub hessian: [[f64; 2]; 2],
    /// Eigenvalues, ascending: `lambda[0] <= lambda[1]` (loss units per param unit squared).
    pub lambda: [f64; 2],
    /// Unit eigenvectors, `v[i]` belongs to `lambda[i]`.
    pub v: [Vec2d; 2],
    /// Minimum, maximum, saddle or flat.
    pub kind: CurvatureKind,
    /// Condition number `max |λ| / min |λ|` (infinite when one eigenvalue is 0; 1 when both are).
    pub condition: f64,
}

impl Curvature {
    /// From a Hessian; `None` when it is not finite (a formula undefined there).
    pub fn from_hessian(at: Vec2d, hessian: [[f64; 2]; 2]) -> Option<Self> {
        if !hessian.iter().flatten().all(|x| x.is_finite()) {
            return None;
        }
        let (lambda, v) = eigen(hessian);
        let kind = CurvatureKind::classify(lambda);
        let (lo, hi) = {
            let (a, b) = (lambda[0].abs(), lambda[1].abs());
            (a.min(b), a.max(b))
        };
        let condition = if kind == CurvatureKind::Flat {
            1.0
        } else if lo == 0.0 {
            f64::INFINITY
        } else {
            hi / lo
        };
        Some(Self {
            at,
            hessian,
            lambda,
            v,
            kind,
            condition,
        })
    }

    /// At `p` on `landscape` (the exact Hessian); `None` where it is not finite.
    pub fn at(landscape: &Landscape, p: Vec2d) -> Option<Self> {
        Self::from_hessian(p, landscape.hessian(p))
    }

    /// The panel's line, sharpest direction first: `saddle: curves up along (0.71, 0.71) λ=4.2, down
    /// along (-0.71, 0.71) λ=-1.3; κ = 3.2`.
    pub fn text(&self) -> String {
        // zero as in `CurvatureKind::classify`
        let scale = self.lambda[0].abs().max(self.lambda[1].abs());
        let word = |l: f64| {
            if l.abs() <= (REL_TOL * scale).max(ABS_TOL) {
                "flat"
            } else if l > 0.0 {
                "up"
            } else {
                "down"
            }
        };
        let (w2, w1) = (word(self.lambda[1]), word(self.lambda[0]));
        let part = |w: &str, v: Vec2d, l: f64| {
            let verb = if w == "flat" { "flat" } else { "curves " };
            let w = if w == "flat" { "" } else { w };
            format!("{verb}{w} along {} λ={}", vec_text(v), num(l))
        };
        let second = part(w1, self.v[0], self.lambda[0]);
        // "curves up ..., down ..." rather than repeating the verb
        let second = if w1 == w2 {
            format!("and {}", second.trim_start_matches("curves "))
        } else {
            second.trim_start_matches("curves ").to_owned()
        };
        format!(
            "{}: {}, {}; κ = {}",
            self.kind,
            part(w2, self.v[1], self.lambda[1]),
            second,
            num(self.condition)
        )
    }
}

/// `(0.71, -0.71)`.
pub fn vec_text(v: Vec2d) -> String {
    format!("({:.2}, {:.2})", v[0] + 0.0, v[1] + 0.0)
}

/// What a point where runs came to rest really is, checked before anything calls it a minimum: a
/// small gradient alone is not one (runs also crawl past saddles, over plateaus, and toward the edge of
/// where the loss is defined).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RestKind {
    /// A local minimum: descent from the point stays near it and finds nothing lower
    /// ([`Landscape::minimum_near`]).
    Minimum,
    /// The surface curves up one way and down the other: runs slide off, given time.
    Saddle,
    /// The surface curves down every way.
    Maximum,
    /// The gradient is tiny but the ground still falls nearby (a plateau or a flat slope).
    Plateau,
    /// Next to where the loss is undefined (`ln(x)` near `x = 0`, which falls without bound there).
    Edge,
}

impl RestKind {
    /// `minimum`, `saddle`, `maximum`, `plateau` or `edge of the domain`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Minimum => "minimum",
            Self::Saddle => "saddle",
            Self::Maximum => "maximum",
            Self::Plateau => "plateau",
            Self::Edge => "edge of the domain",
        }
    }

    /// What runs that end there did, for a legend: `reached a minimum`, `stalled at a saddle`, ...
    pub fn verb(self) -> &'static str {
        match self {
            Self::Minimum => "reached a minimum",
            Self::Saddle => "stalled at a saddle",
            Self::Maximum => "stalled at a maximum",
            Self::Plateau => "stalled on a plateau",
            Self::Edge => "stalled where the loss ends",
        }
    }

    /// What a point where runs came to rest is, and where: a minimum found by descent from `p` within
    /// `radius` (param units) is returned at its refined position; anything else at `p`.
    pub fn classify(landscape: &Landscape, p: Vec2d, radius: f64) -> (Self, Vec2d) {
        if let Some(m) = landscape.minimum_near(p, radius) {
            return (Self::Minimum, m);
        }
        // defined all around, a little way off (within a twentieth of the radius)
        let r = 0.05 * radius;
        let defined = landscape.value(p).is_finite()
            && (0..8).all(|k| {
                let (s, c) = (f64::from(k) * std::f64::consts::FRAC_PI_4).sin_cos();
                landscape.value([p[0] + r * c, p[1] + r * s]).is_finite()
            });
        let kind = match Curvature::at(landscape, p) {
            Some(c) if defined => match c.kind {
                CurvatureKind::Saddle => Self::Saddle,
                CurvatureKind::Maximum => Self::Maximum,
                CurvatureKind::Minimum | CurvatureKind::Flat => Self::Plateau,
            },
            _ => Self::Edge,
        };
        (kind, p)
    }
}

impl fmt::Display for RestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The ellipse of a symmetric positive-definite 2 x 2 matrix `M`: `{x : x^T M^-1 x = 1}`, centred at 0,
/// in param units. Its half axes lie along `M`'s unit eigenvectors and are `sqrt(μ)` long for `M`'s
/// eigenvalues `μ`. For `M = ∇²L⁻¹` it is the contour `½ x^T ∇²L x = ½` of the local quadratic model:
/// the shape of the contour lines around the point, long where the surface curves little (`1/sqrt(λ)`
/// along each principal direction). For a quasi-Newton method's `M = H` it is the contour its own model
/// `½ x^T H^-1 x` believes in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ellipse {
    /// Half axis lengths `sqrt(μ1) <= sqrt(μ2)` (param units, up to the common scale of a drawing).
    pub half: [f64; 2],
    /// Unit axes, `axes[i]` the eigenvector of `μ_i`.
    pub axes: [Vec2d; 2],
}

impl Ellipse {
    /// The ellipse of `m`; `None` unless `m` is finite and positive definite (both eigenvalues `> 0`).
    pub fn of(m: Mat2) -> Option<Self> {
        if !m.iter().flatten().all(|x| x.is_finite()) {
            return None;
        }
        let (mu, axes) = eigen(m);
        (mu[0] > 0.0).then(|| Self {
            half: mu.map(f64::sqrt),
            axes,
        })
    }

    /// The point at angle `t` (radians) on it: `cos t · half1 · axis1 + sin t · half2 · axis2`.
    pub fn point(&self, t: f64) -> Vec2d {
        let (a, b) = (t.cos() * self.half[0], t.sin() * self.half[1]);
        [
            a * self.axes[0][0] + b * self.axes[1][0],
            a * self.axes[0][1] + b * self.axes[1][1],
        ]
    }
}

/// What the curvature aid (C) draws at a BFGS or L-BFGS ball: the ellipse of its inverse-Hessian
/// approximation `H` and that of the true `∇²L⁻¹`, by the same definition ([`Ellipse`]), so that they
/// coincide exactly when `H = ∇²L⁻¹`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvatureModel {
    /// The ellipse of `H`: `{x : x^T H^-1 x = 1}` (`None` when `H` is not positive definite).
    pub model: Option<Ellipse>,
    /// The ellipse of `∇²L⁻¹`: `{x : x^T ∇²L x = 1}` (`None` where the Hessian is not positive definite:
    /// no quadratic model with a minimum to compare with).
    pub truth: Option<Ellipse>,
    /// `‖H − ∇²L⁻¹‖_F / ‖∇²L⁻¹‖_F` (Frobenius norms), when the Hessian is positive definite.
    pub error: Option<f64>,
}

impl CurvatureModel {
    /// `h`: the method's `H`; `hessian`: the true `∇²L` at the same point.
    pub fn new(h: Mat2, hessian: Mat2) -> Self {
        let finite = hessian.iter().flatten().all(|x| x.is_finite());
        let (lambda, v) = eigen(hessian);
        let inverse = (finite && lambda[0] > 0.0).then(|| spectral(lambda, v, |l| 1.0 / l));
        let frobenius = |m: Mat2| m.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
        Self {
            model: Ellipse::of(h),
            truth: inverse.and_then(Ellipse::of),
            error: inverse.map(|inv| {
                let diff = [
                    [h[0][0] - inv[0][0], h[0][1] - inv[0][1]],
                    [h[1][0] - inv[1][0], h[1][1] - inv[1][1]],
                ];
                frobenius(diff) / frobenius(inv)
            }),
        }
    }
}

/// The stability rule an optimizer follows on a quadratic with curvature `λ` along a direction: the
/// step is stable while `η · scale · λ < bound`. From the characteristic polynomial of each update on
/// `L = λ x² / 2` (a root leaves the unit circle at `-1` first: the step overshoots and grows):
///
/// | optimizer | scale | bound |
/// |---|---|---|
/// | SGD, AdaGrad, RMSProp | 1 | 2 |
/// | heavy-ball momentum (PyTorch) | 1 | 2(1+β_m) |
/// | the lecture's averaged momentum, Adam | 1−β_m | 2(1+β_m) |
/// | Nesterov (PyTorch, `g + β_m V`) | 1 | 2(1+β_m)/(1+2β_m) |
/// | Nesterov (lecture, look-ahead, averaged) | 1−β_m | 2(1+β_m)/(1+2β_m) |
///
/// Nesterov's bound is stricter than heavy ball's: its look-ahead gradient adds a second overshoot.
/// For AdaGrad, RMSProp and Adam `λ` is the preconditioned curvature (see [`EtaLimit::lambda`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StabilityRule {
    /// The factor multiplying `η λ`.
    pub scale: f64,
    /// The bound `η · scale · λ` must stay below.
    pub bound: f64,
    /// The left side in words (`η·λ`, `η(1−β_m)·λ`).
    pub lhs: &'static str,
    /// The bound as a formula (`2`, `2(1+β_m)`).
    pub bound_text: &'static str,
}

impl StabilityRule {
    /// The rule of `kind` under `hp`'s convention, `beta_m` and `ν`; `None` for Lion, whose sign step
    /// has the same length at every curvature (it never overshoots by more than `η`, and never settles
    /// closer than that); `None` for a step chosen by the backtracking line search (BFGS, L-BFGS, CG,
    /// SGD or Newton with it on; see [`Self::none_because`]).
    pub fn of(kind: OptimizerKind, hp: &Hyperparams) -> Option<Self> {
        if hp.searches(kind) {
            return None;
        }
        let b = hp.beta_m;
        let averaged = hp.convention == Convention::Lecture;
        let rule = |scale, bound, lhs, bound_text| {
            Some(Self {
                scale,
                bound,
                lhs,
                bound_text,
            })
        };
        // quasi-hyperbolic: θ' = θ − η((1−ν) g + ν V) with averaged V overshoots along λ when
        // η λ (1 + β − 2νβ) > 2(1 + β) (ν = 0 is SGD's rule, ν = 1 the averaged momentum's)
        let qh = 1.0 + b - 2.0 * hp.nu * b;
        match kind {
            OptimizerKind::Sgd => rule(1.0, 2.0, "η·λ", "2"),
            OptimizerKind::AdaGrad | OptimizerKind::RmsProp | OptimizerKind::AdaDelta => {
                rule(1.0, 2.0, "η·λ_eff", "2")
            }
            OptimizerKind::Momentum if averaged => {
                rule(1.0 - b, 2.0 * (1.0 + b), "η(1−β_m)·λ", "2(1+β_m)")
            }
            OptimizerKind::Momentum => rule(1.0, 2.0 * (1.0 + b), "η·λ", "2(1+β_m)"),
            OptimizerKind::Nesterov if averaged => rule(
                1.0 - b,
                2.0 * (1.0 + b) / (1.0 + 2.0 * b),
                "η(1−β_m)·λ",
                "2(1+β_m)/(1+2β_m)",
            ),
            OptimizerKind::Nesterov => rule(
                1.0,
                2.0 * (1.0 + b) / (1.0 + 2.0 * b),
                "η·λ",
                "2(1+β_m)/(1+2β_m)",
            ),
            OptimizerKind::Adam | OptimizerKind::AdamW | OptimizerKind::AmsGrad => {
                rule(1.0 - b, 2.0 * (1.0 + b), "η(1−β_m)·λ_eff", "2(1+β_m)")
            }
            // NAdam's step β_m V + (1 − β_m) g is the averaged Nesterov's
            OptimizerKind::NAdam => rule(
                1.0 - b,
                2.0 * (1.0 + b) / (1.0 + 2.0 * b),
                "η(1−β_m)·λ_eff",
                "2(1+β_m)/(1+2β_m)",
            ),
            OptimizerKind::Qhm => rule(qh, 2.0 * (1.0 + b), "η(1+β_m−2νβ_m)·λ", "2(1+β_m)"),
            OptimizerKind::QhAdam => rule(qh, 2.0 * (1.0 + b), "η(1+β_m−2νβ_m)·λ_eff", "2(1+β_m)"),
            // H^-1 H = I: every direction Newton sees has curvature 1 (|H|^-1 H: ±1)
            OptimizerKind::Newton | OptimizerKind::SaddleFreeNewton => {
                rule(1.0, 2.0, "η·λ(H^-1 H)", "2")
            }
            OptimizerKind::Lion => None,
            // the line search's Armijo test accepts only steps that lower the loss: no η overshoots
            OptimizerKind::Bfgs | OptimizerKind::Lbfgs | OptimizerKind::Cg => None,
        }
    }

    /// Why `kind` has no η limit under `hp`, where it has none ([`Self::of`] is `None`).
    pub fn none_because(kind: OptimizerKind, hp: &Hyperparams) -> Option<&'static str> {
        if hp.searches(kind) {
            Some(
                "no η limit: the line search accepts only steps that pass the Armijo test, which \
                 lower the loss (η is the first trial step)",
            )
        } else if kind == OptimizerKind::Lion {
            Some(
                "no η limit: Lion's sign step has the same length η at every curvature; it never \
                 overshoots by more than η, and never settles closer than that",
            )
        } else {
            None
        }
    }
}

/// Where the step of an optimizer becomes unstable along the sharpest direction, at its current state.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EtaLimit {
    /// The optimizer.
    pub kind: OptimizerKind,
    /// Its rule ([`StabilityRule::of`]).
    pub rule: StabilityRule,
    /// The largest eigenvalue of the curvature the step sees: the Hessian's `λ_max` for SGD, Momentum
    /// and Nesterov; for AdaGrad, RMSProp and Adam `λ_eff`, the largest eigenvalue of
    /// `P^{1/2} H P^{1/2}` with `P = diag(effective step size / η)` of the next step
    /// (`1/(sqrt(s) + eps)`, Adam's `1/sqrt(s_hat + eps)` or `1/(sqrt(s_hat) + eps)`, the accumulator
    /// updated with the exact gradient here, as the next step will do). Adam's `1/(1 − β_m^t)` is left
    /// out: it fades within `~1/(1 − β_m)` steps, and the rule is about the long run.
    pub lambda: f64,
    /// The sharpest direction (unit, param space): the eigenvector of `lambda` (mapped back by
    /// `P^{1/2}` for the adaptive methods).
    pub direction: Vec2d,
    /// The learning rate now.
    pub eta: f64,
    /// `bound / (scale · lambda)`: the mark on the slider; `None` when `lambda <= 0` (the surface
    /// curves down or is flat every way: no step overshoots).
    pub eta_max: Option<f64>,
    /// The stability number `η · scale · lambda / bound` (`η λ / 2` for SGD): above 1 each step
    /// overshoots along `direction` and the run grows; `<= 0` where nothing curves up.
    pub stability: f64,
}

impl EtaLimit {
    /// `η·λ = 2.6 > 2 along (0.71, 0.71)` (or `<=`), with the rule's own left side and bound.
    pub fn inequality(&self) -> String {
        let lhs = self.eta * self.rule.scale * self.lambda;
        let op = if self.stability > 1.0 { ">" } else { "≤" };
        let bound = if self.rule.bound_text == "2" {
            "2".to_owned()
        } else {
            format!("{} = {}", self.rule.bound_text, num(self.rule.bound))
        };
        format!(
            "{} = {} {op} {bound} along {}",
            self.rule.lhs,
            num(lhs),
            vec_text(self.direction)
        )
    }

    /// One sentence for the panel: what crossing the mark does.
    pub fn explanation(&self) -> String {
        let Some(eta_max) = self.eta_max else {
            return "The surface curves down or is flat in every direction here, so no learning rate \
                    overshoots: the limit comes from curvature that curves up."
                .to_owned();
        };
        let adaptive = if self.kind.is_adaptive() {
            " (the curvature as seen through its per-coordinate step sizes, which change as it runs)"
        } else {
            ""
        };
        // on a quadratic the plain and momentum methods' rule is exact; an adaptive method's step sizes
        // move (they shrink as the oscillation grows), so its mark is where it stands now
        let guide = if self.kind.is_adaptive() {
            " For an adaptive method the mark is a guide, not a promise: it holds while the step sizes \
             stay as they are now, and moves as they change; above it the wobble grows until the step \
             sizes shrink, which may settle it without blowing up."
        } else {
            ""
        };
        format!(
            "Above η = {} each step along {}{adaptive} jumps past the bottom by more than it started \
             from, so the oscillation grows instead of dying out ({}).{guide}",
            num(eta_max),
            vec_text(self.direction),
            self.inequality()
        )
    }
}

/// The η limit of `kind` with hyperparameters `hp` at `p` on `landscape`, with the optimizer's memory
/// `state` (for the adaptive methods' step sizes; the default state is the one before the first step).
/// `None` where the Hessian or the next step's step sizes are not finite.
pub fn eta_limit(
    landscape: &Landscape,
    kind: OptimizerKind,
    hp: &Hyperparams,
    state: &OptimizerState,
    p: Vec2d,
) -> Option<EtaLimit> {
    let h = landscape.hessian(p);
    let precondition = if kind.is_adaptive() {
        // the step sizes the next step would use, with the exact gradient (per unit of η, so without
        // the schedule)
        let mut probe = state.clone();
        let constant = Hyperparams {
            schedule: Schedule::Constant,
            ..*hp
        };
        let mut grad = |q: Vec2d| landscape.gradient(q);
        let detail = optimizer::step(kind, &constant, &mut probe, p, &mut grad, &mut |q| {
            landscape.hessian(q)
        });
        Some([
            detail.effective_lr[0] / hp.lr,
            detail.effective_lr[1] / hp.lr,
        ])
    } else {
        None
    };
    let mut limit = eta_limit_for(kind, hp, h, precondition)?;
    // the next step's η_t
    let eta = hp.lr_at(state.t + 1);
    limit.eta = eta;
    limit.stability = eta * limit.rule.scale * limit.lambda / limit.rule.bound;
    Some(limit)
}

/// [`eta_limit`] from a Hessian and, for the adaptive methods, the per-coordinate step factors `P`
/// (effective step size / η); `None` when they are not finite.
pub fn eta_limit_for(
    kind: OptimizerKind,
    hp: &Hyperparams,
    h: [[f64; 2]; 2],
    precondition: Option<Vec2d>,
) -> Option<EtaLimit> {
    let rule = StabilityRule::of(kind, hp)?;
    if kind.uses_hessian() {
        return newton_limit(kind, hp, h, rule);
    }
    let q = precondition.map(|p| [p[0].max(0.0).sqrt(), p[1].max(0.0).sqrt()]);
    let m = match q {
        Some(q) => [
            [q[0] * h[0][0] * q[0], q[0] * h[0][1] * q[1]],
            [q[1] * h[1][0] * q[0], q[1] * h[1][1] * q[1]],
        ],
        None => h,
    };
    if !m.iter().flatten().all(|x| x.is_finite()) {
        return None;
    }
    let (lambda, v) = eigen(m);
    let lambda = lambda[1];
    let direction = match q {
        Some(q) => {
            let w = [q[0] * v[1][0], q[1] * v[1][1]];
            let n = w[0].hypot(w[1]);
            if n > 0.0 {
                canonical([w[0] / n, w[1] / n])
            } else {
                v[1]
            }
        }
        None => v[1],
    };
    let eta_max = (lambda > 0.0).then(|| rule.bound / (rule.scale * lambda));
    Some(EtaLimit {
        kind,
        rule,
        lambda,
        direction,
        eta: hp.lr,
        eta_max,
        stability: hp.lr * rule.scale * lambda / rule.bound,
    })
}

/// Newton's limit: `H^-1 H = I`, so every direction has curvature 1 and the limit is η = 2 wherever `H`
/// is regular; saddle-free Newton's `|H|^-1 H` has `±1`, the limit 2 along a direction curving up.
fn newton_limit(
    kind: OptimizerKind,
    hp: &Hyperparams,
    h: [[f64; 2]; 2],
    rule: StabilityRule,
) -> Option<EtaLimit> {
    if !h.iter().flatten().all(|x| x.is_finite()) {
        return None;
    }
    let (values, vectors) = eigen(h);
    let big = values[0].abs().max(values[1].abs());
    if !(big > 0.0 && values[0].abs().min(values[1].abs()) > optimizer::SINGULAR_TOL * big) {
        return None;
    }
    let (lambda, direction) = match kind {
        OptimizerKind::SaddleFreeNewton if values[1] < 0.0 => (-1.0, vectors[1]),
        // the sharpest direction in H's own terms, where the step is most visible
        _ => (
            1.0,
            if values[0].abs() > values[1].abs() {
                vectors[0]
            } else {
                vectors[1]
            },
        ),
    };
    Some(EtaLimit {
        kind,
        rule,
        lambda,
        direction,
        eta: hp.lr,
        eta_max: (lambda > 0.0).then(|| rule.bound / (rule.scale * lambda)),
        stability: hp.lr * rule.scale * lambda / rule.bound,
    })
}

/// Why a run diverged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum DivergenceCause {
    /// Newton's methods met a singular Hessian (an eigenvalue of 0): `H^-1 g` is undefined.
    SingularHessian,
    /// The step was unstable along the sharpest direction: the stability number exceeded 1.
    Overshoot(EtaLimit),
    /// The gradient (or a quantity of the optimizer) became infinite or NaN.
    GradientOverflow,
    /// The run left the bound `|x|, |y| <= 1e6` without overshooting: the loss keeps falling that way.
    LeftBound,
    /// The step landed where the loss is undefined (a formula's `ln` of a negative number) or infinite.
    Undefined,
}

/// Why a run diverged, and where to rewind to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnosis {
    /// What went wrong.
    pub cause: DivergenceCause,
    /// The refused step's number.
    pub diverged_at: u64,
    /// The last stable step (see [`diagnose`]).
    pub last_stable_step: u64,
    /// One line for the readout: `η·λ = 2.6 > 2 along (0.71, 0.71): each step overshoots and grows`.
    pub text: String,
}

/// Why the run of `config` on `landscape` diverged, from its rows (`rows`: oldest first, ending with
/// the last good row; a thinned history's kept rows will do) and its `status`. `state` is the
/// optimizer's memory at the last row (the runner keeps it there when it refuses a step); it sets the
/// adaptive methods' step sizes, used for every row. `None` when the run did not diverge or `rows` is
/// empty.
///
/// The cause: the stability number ([`eta_limit`]) at the row of the lowest loss (where the run was
/// still well behaved) and at the last row; if either exceeds 1, [`DivergenceCause::Overshoot`] (the
/// larger of the two is reported); otherwise the runner's own reason: the gradient overflowed, the run
/// left the bound, or the loss is undefined where the step landed.
///
/// The last stable step: for an overshoot, the (latest) step of the lowest loss — after it the
/// oscillation only grew; for a run that left the bound, the last row inside the landscape's domain
/// (the start when none was); otherwise the last row.
pub fn diagnose(
    landscape: &Landscape,
    config: &RunConfig,
    rows: &[StepRecord],
    status: RunStatus,
    state: &OptimizerState,
) -> Option<Diagnosis> {
    let RunStatus::Diverged { step, reason } = status else {
        return None;
    };
    if reason.is_stop() {
        // a line search that found no step: the run stopped, it did not diverge
        return None;
    }
    let last = rows.last()?;
    let lowest = rows
        .iter()
        .filter(|r| r.loss.is_finite())
        .fold(None::<&StepRecord>, |best, r| match best {
            Some(b) if b.loss < r.loss => Some(b),
            _ => Some(r),
        })
        .unwrap_or(last);
    let limit_at = |r: &StepRecord| eta_limit(landscape, config.kind, &config.hyper, state, r.pos);
    let overshoot = [limit_at(lowest), limit_at(last)]
        .into_iter()
        .flatten()
        .filter(|l| l.stability > 1.0)
        .max_by(|a, b| a.stability.total_cmp(&b.stability));
    // where the last good step ended, e.g. `(0.51, -2.3)`
    let at = format!("({}, {})", num(last.pos[0]), num(last.pos[1]));
    let (cause, last_stable, text) = match (overshoot, reason) {
        (Some(limit), _) => (
            DivergenceCause::Overshoot(limit),
            lowest.step,
            format!("{}: each step overshoots and grows", limit.inequality()),
        ),
        (None, DivergenceReason::SingularHessian) => (
            DivergenceCause::SingularHessian,
            last.step,
            format!(
                "the Hessian at {at} is singular (an eigenvalue is 0): H^-1 g is undefined there"
            ),
        ),
        (None, DivergenceReason::NonFiniteUpdate) => (
            DivergenceCause::GradientOverflow,
            last.step,
            format!("the gradient overflowed after {at}: the numbers became infinite"),
        ),
        (None, DivergenceReason::OutOfBounds) => (
            DivergenceCause::LeftBound,
            last_inside(landscape.domain(), rows),
            "it left the bound |x|, |y| ≤ 1e6: the loss keeps falling that way".to_owned(),
        ),
        (None, DivergenceReason::NotDescent | DivergenceReason::NoSufficientDecrease) => {
            return None;
        }
        (None, DivergenceReason::NonFiniteLoss) => (
            DivergenceCause::Undefined,
            last.step,
            format!("the step from {at} landed where the loss is undefined or infinite"),
        ),
    };
    Some(Diagnosis {
        cause,
        diverged_at: step,
        last_stable_step: last_stable,
        text,
    })
}

/// The last row inside `domain`, or the first row's step.
fn last_inside(domain: Domain, rows: &[StepRecord]) -> u64 {
    rows.iter()
        .rev()
        .find(|r| domain.contains(r.pos))
        .or(rows.first())
        .map_or(0, |r| r.step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_of_diagonal_and_rotated_matrices() {
        let (l, v) = eigen([[3.0, 0.0], [0.0, 1.0]]);
        assert_eq!(l, [1.0, 3.0]);
        assert_eq!(v, [[0.0, 1.0], [1.0, 0.0]]);
        let (l, v) = eigen([[1.0, 2.0], [2.0, 1.0]]);
        assert!((l[0] + 1.0).abs() < 1e-15 && (l[1] - 3.0).abs() < 1e-15);
        let s = 0.5f64.sqrt();
        assert!((v[1][0] - s).abs() < 1e-15 && (v[1][1] - s).abs() < 1e-15);
        assert!((v[0][0] - s).abs() < 1e-15 && (v[0][1] + s).abs() < 1e-15);
        // equal eigenvalues: the axes
        assert_eq!(eigen([[2.0, 0.0], [0.0, 2.0]]).1, [[1.0, 0.0], [0.0, 1.0]]);
    }

    #[test]
    fn eigen_is_accurate_near_equal_eigenvalues() {
        for &(a, b, c) in &[
            (1.0, 1e-12, 1.0),
            (1.0 + 1e-13, 3e-14, 1.0),
            (1e8, 1.0, 1e8 + 1e-3),
            (-2.0, 1e-300, -2.0),
        ] {
            let (l, v) = eigen([[a, b], [b, c]]);
            for i in 0..2 {
                assert!((v[i][0].hypot(v[i][1]) - 1.0).abs() < 1e-14);
                // H v = λ v
                let hv = [a * v[i][0] + b * v[i][1], b * v[i][0] + c * v[i][1]];
                let scale = a.abs().max(c.abs());
                for k in 0..2 {
                    assert!(
                        (hv[k] - l[i] * v[i][k]).abs() <= 1e-14 * scale,
                        "{a} {b} {c}"
                    );
                }
            }
            assert!(v[0][0] * v[1][0] + v[0][1] * v[1][1] < 1e-14);
        }
    }

    #[test]
    fn classification_and_text() {
        assert_eq!(CurvatureKind::classify([1.0, 2.0]), CurvatureKind::Minimum);
        assert_eq!(
            CurvatureKind::classify([-2.0, -1.0]),
            CurvatureKind::Maximum
        );
        assert_eq!(CurvatureKind::classify([-1.0, 2.0]), CurvatureKind::Saddle);
        assert_eq!(CurvatureKind::classify([0.0, 1e-12]), CurvatureKind::Flat);
        assert_eq!(
            CurvatureKind::classify([-1e-9, 2.0]),
            CurvatureKind::Minimum
        );
        let c = Curvature::from_hessian([0.0, 0.0], [[1.45, 2.75], [2.75, 1.45]]).unwrap();
        assert_eq!(c.kind, CurvatureKind::Saddle);
        assert_eq!(
            c.text(),
            "saddle: curves up along (0.71, 0.71) λ=4.2, down along (0.71, -0.71) λ=-1.3; κ = 3.231"
        );
        let bowl = Curvature::from_hessian([0.0, 0.0], [[1.0, 0.0], [0.0, 10.0]]).unwrap();
        assert_eq!(
            bowl.text(),
            "minimum: curves up along (0.00, 1.00) λ=10, and up along (1.00, 0.00) λ=1; κ = 10"
        );
        let flat = Curvature::from_hessian([0.0, 0.0], [[0.0; 2]; 2]).unwrap();
        assert_eq!(flat.kind, CurvatureKind::Flat);
        assert_eq!(
            flat.text(),
            "flat: flat along (0.00, 1.00) λ=0, and flat along (1.00, 0.00) λ=0; κ = 1"
        );
        let trough = Curvature::from_hessian([0.0, 0.0], [[2.0, 0.0], [0.0, 0.0]]).unwrap();
        assert_eq!(trough.kind, CurvatureKind::Minimum);
        assert_eq!(
            trough.text(),
            "minimum: curves up along (1.00, 0.00) λ=2, flat along (0.00, 1.00) λ=0; κ = ∞"
        );
        assert_eq!(flat.condition, 1.0);
        assert!(Curvature::from_hessian([0.0, 0.0], [[f64::NAN, 0.0], [0.0, 1.0]]).is_none());
    }

    #[test]
    fn hand_checked_limits() {
        let h = [[10.0, 0.0], [0.0, 1.0]];
        let mut hp = Hyperparams::defaults_for(OptimizerKind::Sgd);
        hp.lr = 0.1;
        let sgd = eta_limit_for(OptimizerKind::Sgd, &hp, h, None).unwrap();
        assert_eq!(sgd.eta_max, Some(0.2));
        assert!((sgd.stability - 0.5).abs() < 1e-15);
        assert_eq!(sgd.direction, [1.0, 0.0]);
        assert_eq!(sgd.inequality(), "η·λ = 1 ≤ 2 along (1.00, 0.00)");
        hp.beta_m = 0.9;
        // lecture momentum: 2(1.9) / (0.1 * 10) = 3.8
        let m = eta_limit_for(OptimizerKind::Momentum, &hp, h, None).unwrap();
        assert!((m.eta_max.unwrap() - 3.8).abs() < 1e-12);
        hp.convention = Convention::PyTorch;
        // heavy ball: 2(1.9) / 10 = 0.38
        let m = eta_limit_for(OptimizerKind::Momentum, &hp, h, None).unwrap();
        assert!((m.eta_max.unwrap() - 0.38).abs() < 1e-12);
        // PyTorch Nesterov: 2(1.9)/(2.8) / 10
        let n = eta_limit_for(OptimizerKind::Nesterov, &hp, h, None).unwrap();
        assert!((n.eta_max.unwrap() - 3.8 / 28.0).abs() < 1e-12);
        // RMSProp with P = diag(1/4, 1): P^1/2 H P^1/2 = diag(2.5, 1)
        let r = eta_limit_for(OptimizerKind::RmsProp, &hp, h, Some([0.25, 1.0])).unwrap();
        assert!((r.lambda - 2.5).abs() < 1e-12);
        assert!((r.eta_max.unwrap() - 0.8).abs() < 1e-12);
        // nothing curves up: no limit
        let down =
            eta_limit_for(OptimizerKind::Sgd, &hp, [[-1.0, 0.0], [0.0, -2.0]], None).unwrap();
        assert_eq!(down.eta_max, None);
        assert!(down.stability < 0.0);
    }
}
