//! Learning-rate schedules: `η_t = η · f(c)`, with `c = t - 1` the steps already taken, for every
//! optimizer. Multiplying the base `η` means that a live change of the η slider scales the whole schedule.
//!
//! | name on the command line | `f(c)` |
//! |---|---|
//! | `constant` | `1` |
//! | `step:K:G` | `G^⌊c/K⌋` |
//! | `exp:G` | `G^c` |
//! | `cosine:T[:A]` | `(1 − A)(1 + cos(π min(c, T)/T))/2 + A` |
//! | `warmup-cosine:W:T[:A]` | `c/W` for `c < W`, then the cosine from 1 at `c = W` to `A` at `c = T` (T counts the warm-up, as optax's `warmup_cosine_decay_schedule`) |
//! | `inv-sqrt:W` | `1/√(1 + c/W)` |

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use super::error::CoreError;
use super::number::num;

/// A learning-rate schedule (see the module's table). `Constant` is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Schedule {
    /// `f(c) = 1`.
    #[default]
    Constant,
    /// `f(c) = gamma^⌊c/every⌋`: multiply by `gamma` every `every` steps.
    Step {
        /// `K >= 1` steps between drops.
        every: u64,
        /// The factor `G` in `(0, 1]`.
        gamma: f64,
    },
    /// `f(c) = gamma^c`.
    Exp {
        /// The factor per step `G` in `(0, 1]`.
        gamma: f64,
    },
    /// `f(c) = (1 − alpha)(1 + cos(π min(c, steps)/steps))/2 + alpha`.
    Cosine {
        /// `T >= 1`: the step where the decay ends.
        steps: u64,
        /// `A` in `[0, 1]`: the final fraction of `η`.
        alpha: f64,
    },
    /// Linear warm-up from 0 at `c = 0` to 1 at `c = warmup`, then the cosine down to `alpha` at
    /// `c = steps`.
    WarmupCosine {
        /// `W >= 1` warm-up steps.
        warmup: u64,
        /// `T > W`: the step where the decay ends (the warm-up included).
        steps: u64,
        /// `A` in `[0, 1]`.
        alpha: f64,
    },
    /// `f(c) = 1/√(1 + c/W)`.
    InvSqrt {
        /// `W > 0`: the steps it takes to reach `1/√2`.
        warmup: f64,
    },
}

impl Schedule {
    /// The command-line forms, for `list` and error messages.
    pub const FORMS: &[&str] = &[
        "constant",
        "step:K:G",
        "exp:G",
        "cosine:T[:A]",
        "warmup-cosine:W:T[:A]",
        "inv-sqrt:W",
    ];

    /// The names of the kinds, in the panel's order.
    pub const NAMES: &[&str] = &[
        "constant",
        "step",
        "exp",
        "cosine",
        "warmup-cosine",
        "inv-sqrt",
    ];

    /// Every kind with its usual parameters (for a 1,000-step lesson), in [`Self::NAMES`] order: the
    /// panel's picker starts from these.
    pub fn examples() -> [Self; 6] {
        [
            Self::Constant,
            Self::Step {
                every: 200,
                gamma: 0.5,
            },
            Self::Exp { gamma: 0.998 },
            Self::Cosine {
                steps: 1000,
                alpha: 0.0,
            },
            Self::WarmupCosine {
                warmup: 100,
                steps: 1000,
                alpha: 0.0,
            },
            Self::InvSqrt { warmup: 100.0 },
        ]
    }

    /// The kind's name (`warmup-cosine`), one of [`Self::NAMES`].
    pub fn name(&self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Step { .. } => "step",
            Self::Exp { .. } => "exp",
            Self::Cosine { .. } => "cosine",
            Self::WarmupCosine { .. } => "warmup-cosine",
            Self::InvSqrt { .. } => "inv-sqrt",
        }
    }

    /// The factor `f(c)` after `c` steps (`η_t = η f(t − 1)`). Assumes [`Self::validate`] passed.
    #[inline]
    pub fn factor(&self, c: u64) -> f64 {
        match *self {
            Self::Constant => 1.0,
            Self::Step { every, gamma } => gamma.powf((c / every.max(1)) as f64),
            Self::Exp { gamma } => gamma.powf(c as f64),
            Self::Cosine { steps, alpha } => {
                cosine(c.min(steps) as f64 / steps.max(1) as f64, alpha)
            }
            Self::WarmupCosine {
                warmup,
                steps,
                alpha,
            } => {
                if c < warmup {
                    c as f64 / warmup as f64
                } else {
                    let span = steps.saturating_sub(warmup).max(1);
                    cosine((c - warmup).min(span) as f64 / span as f64, alpha)
                }
            }
            Self::InvSqrt { warmup } => 1.0 / (1.0 + c as f64 / warmup).sqrt(),
        }
    }

    /// The formula with its parameters, as the panel and the step-by-step window print it.
    pub fn formula(&self) -> String {
        match self {
            Self::Constant => "η_t = η".to_owned(),
            Self::Step { every, gamma } => format!("η_t = η · {gamma}^⌊c/{every}⌋"),
            Self::Exp { gamma } => format!("η_t = η · {gamma}^c"),
            Self::Cosine { steps, alpha } => {
                format!("η_t = η · ((1−{alpha})(1 + cos(π·min(c, {steps})/{steps}))/2 + {alpha})")
            }
            Self::WarmupCosine {
                warmup,
                steps,
                alpha,
            } => format!(
                "η_t = η · c/{warmup} up to c = {warmup}, then cosine to {alpha}·η at c = {steps}"
            ),
            Self::InvSqrt { warmup } => format!("η_t = η / √(1 + c/{warmup})"),
        }
    }

    /// Checks the parameters: `K, T >= 1`, `0 < G <= 1`, `0 <= A <= 1`, `1 <= W < T`, inv-sqrt's
    /// `W > 0`, all finite.
    pub fn validate(&self) -> Result<(), CoreError> {
        self.validate_as(&self.to_string())
    }

    /// [`Self::validate`], naming the schedule `text` in the message (as the user typed it).
    fn validate_as(&self, text: &str) -> Result<(), CoreError> {
        let bad = |what: String| Err(CoreError::InvalidSchedule(format!("{text}: {what}")));
        let gamma_ok = |g: f64| g.is_finite() && g > 0.0 && g <= 1.0;
        let alpha_ok = |a: f64| (0.0..=1.0).contains(&a);
        match *self {
            Self::Constant => Ok(()),
            Self::Step { every, gamma } => {
                if every == 0 {
                    bad("the step count K must be >= 1".into())
                } else if !gamma_ok(gamma) {
                    bad(format!("the decay G = {} must be in (0, 1]", num(gamma)))
                } else {
                    Ok(())
                }
            }
            Self::Exp { gamma } => {
                if gamma_ok(gamma) {
                    Ok(())
                } else {
                    bad(format!("the decay G = {} must be in (0, 1]", num(gamma)))
                }
            }
            Self::Cosine { steps, alpha } => {
                if steps == 0 {
                    bad("the length T must be >= 1".into())
                } else if !alpha_ok(alpha) {
                    bad(format!(
                        "the final fraction A = {} must be in [0, 1]",
                        num(alpha)
                    ))
                } else {
                    Ok(())
                }
            }
            Self::WarmupCosine {
                warmup,
                steps,
                alpha,
            } => {
                if warmup == 0 {
                    bad("the warm-up W must be >= 1 (use cosine:T without a warm-up)".into())
                } else if warmup >= steps {
                    bad(format!(
                        "the warm-up W = {warmup} must be shorter than the length T = {steps} \
                         (T counts the warm-up)"
                    ))
                } else if !alpha_ok(alpha) {
                    bad(format!(
                        "the final fraction A = {} must be in [0, 1]",
                        num(alpha)
                    ))
                } else {
                    Ok(())
                }
            }
            Self::InvSqrt { warmup } => {
                if warmup.is_finite() && warmup > 0.0 {
                    Ok(())
                } else {
                    bad(format!("W = {} must be finite and > 0", num(warmup)))
                }
            }
        }
    }
}

/// `(1 − alpha)(1 + cos(π progress))/2 + alpha`.
fn cosine(progress: f64, alpha: f64) -> f64 {
    (1.0 - alpha) * (1.0 + (PI * progress).cos()) / 2.0 + alpha
}

impl fmt::Display for Schedule {
    /// The command-line form (`step:200:0.5`), which [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Constant => f.write_str("constant"),
            Self::Step { every, gamma } => write!(f, "step:{every}:{gamma}"),
            Self::Exp { gamma } => write!(f, "exp:{gamma}"),
            Self::Cosine { steps, alpha } => write!(f, "cosine:{steps}:{alpha}"),
            Self::WarmupCosine {
                warmup,
                steps,
                alpha,
            } => write!(f, "warmup-cosine:{warmup}:{steps}:{alpha}"),
            Self::InvSqrt { warmup } => write!(f, "inv-sqrt:{warmup}"),
        }
    }
}

impl FromStr for Schedule {
    type Err = CoreError;

    /// One of [`Schedule::FORMS`], checked with [`Schedule::validate`].
    fn from_str(text: &str) -> Result<Self, CoreError> {
        let parts: Vec<&str> = text.trim().split(':').map(str::trim).collect();
        let refuse = |why: String| {
            Err(CoreError::InvalidSchedule(format!(
                "'{text}': {why}; expected one of {}",
                Self::FORMS.join(", ")
            )))
        };
        let count = |name: &str, value: &str| -> Result<u64, CoreError> {
            value.parse::<u64>().map_err(|_| {
                CoreError::InvalidSchedule(format!(
                    "'{text}': {name} = '{value}' must be a whole number of steps"
                ))
            })
        };
        let real = |name: &str, value: &str| -> Result<f64, CoreError> {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    CoreError::InvalidSchedule(format!(
                        "'{text}': {name} = '{value}' must be a number"
                    ))
                })
        };
        let schedule = match parts.as_slice() {
            ["constant"] => Self::Constant,
            ["step", k, g] => Self::Step {
                every: count("K", k)?,
                gamma: real("G", g)?,
            },
            ["exp", g] => Self::Exp {
                gamma: real("G", g)?,
            },
            ["cosine", t] => Self::Cosine {
                steps: count("T", t)?,
                alpha: 0.0,
            },
            ["cosine", t, a] => Self::Cosine {
                steps: count("T", t)?,
                alpha: real("A", a)?,
            },
            ["warmup-cosine", w, t] => Self::WarmupCosine {
                warmup: count("W", w)?,
                steps: count("T", t)?,
                alpha: 0.0,
            },
            ["warmup-cosine", w, t, a] => Self::WarmupCosine {
                warmup: count("W", w)?,
                steps: count("T", t)?,
                alpha: real("A", a)?,
            },
            ["inv-sqrt", w] => Self::InvSqrt {
                warmup: real("W", w)?,
            },
            [name, ..] if Self::NAMES.contains(name) => {
                return refuse(format!("wrong number of parameters for {name}"));
            }
            _ => return refuse("unknown schedule".into()),
        };
        schedule.validate_as(text.trim())?;
        Ok(schedule)
    }
}
