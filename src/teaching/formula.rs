//! The step-by-step formulas: one optimizer step written out line by line in the lecture's notation,
//! with the step's own numbers in place. Pure functions of the core's [`StepDetail`] and the state
//! before the step, so the panel prints exactly what the core computed.
//!
//! Notation (as on the slides): `θ` position, `g` gradient, `t` step number (1 at the first step),
//! `η` learning rate, `β_m` momentum decay, `β_r` squared-gradient decay, `ε` guard, `V` momentum /
//! first moment, `s` squared-gradient accumulator, `V_hat`, `s_hat` bias-corrected, `η_eff` the
//! per-coordinate step size, `⊙` the per-coordinate product. Vectors print as `(x, y)`.

use crate::core::linalg::Mat2;
use crate::core::number::{num, point};
use crate::core::{
    Convention, Hyperparams, OptimizerKind, OptimizerState, Schedule, StepDetail, Vec2d, eigen,
    optimizer,
};

/// One line of the update: the formula, then its numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct FormulaLine {
    /// What the line defines: `"t"`, `"θ"`, `"θ_ahead"`, `"g"`, `"V"`, `"s"`, `"1-β_m^t"`,
    /// `"1-β_r^t"`, `"V_hat"`, `"s_hat"`, `"η_eff"` or `"θ_new"`.
    pub symbol: &'static str,
    /// The formula in the lecture's notation, e.g. `V <- β_m V + (1-β_m) g`.
    pub formula: String,
    /// The same with numbers in place, each row starting with `= `; the last row is the result.
    pub numbers: Vec<String>,
}

impl FormulaLine {
    fn new(symbol: &'static str, formula: impl Into<String>, numbers: Vec<String>) -> Self {
        Self {
            symbol,
            formula: formula.into(),
            numbers,
        }
    }

    /// The result row (the last of [`Self::numbers`]) without its leading `= `.
    pub fn result(&self) -> &str {
        self.numbers
            .last()
            .map_or("", |row| row.trim_start_matches("= "))
    }
}

/// What one step needs to be written out.
#[derive(Clone, Copy, Debug)]
pub struct StepInputs<'a> {
    /// The update rule.
    pub kind: OptimizerKind,
    /// The hyperparameters the step ran with (convention included).
    pub hyper: &'a Hyperparams,
    /// The optimizer's memory before the step (`t - 1` steps taken).
    pub before: &'a OptimizerState,
    /// Every intermediate of the step, as the core computed it.
    pub detail: &'a StepDetail,
    /// Whether the gradient was noisy or from a mini-batch (`∇L_b` rather than `∇L`).
    pub noisy: bool,
}

fn sq(v: Vec2d) -> Vec2d {
    [v[0] * v[0], v[1] * v[1]]
}

/// `1 - beta^t` exactly as the core computes it.
fn bias_factor(beta: f64, t: u64) -> f64 {
    1.0 - beta.powf(t as f64)
}

/// `[[a, b], [c, d]]` with [`num`].
pub fn mat2(m: Mat2) -> String {
    format!(
        "[[{}, {}], [{}, {}]]",
        num(m[0][0]),
        num(m[0][1]),
        num(m[1][0]),
        num(m[1][1])
    )
}

/// An EMA line `X <- β X + (1-β) Y`.
fn ema(
    symbol: &'static str,
    formula: &str,
    beta: f64,
    old: Vec2d,
    new_in: Vec2d,
    out: Vec2d,
) -> FormulaLine {
    FormulaLine::new(
        symbol,
        formula,
        vec![
            format!(
                "= {}·{} + {}·{}",
                num(beta),
                point(old),
                num(1.0 - beta),
                point(new_in)
            ),
            format!("= {}", point(out)),
        ],
    )
}

/// The second moment's bias correction (Adam's family, NAdam): `1 - β_r^t` (= `c2`) and `s_hat`.
fn second_moment_correction(br: f64, c2: f64, d: &StepDetail) -> [FormulaLine; 2] {
    [
        FormulaLine::new(
            "1-β_r^t",
            "1 - β_r^t",
            vec![
                format!("= 1 - {}^{}", num(br), d.t),
                format!("= {}", num(c2)),
            ],
        ),
        FormulaLine::new(
            "s_hat",
            "s_hat = s / (1 - β_r^t)",
            vec![
                format!("= {} / {}", point(d.s), num(c2)),
                format!("= {}", point(d.s_hat)),
            ],
        ),
    ]
}

/// The lines of one step, in the order the update computes them, for the step's own convention.
pub fn formula_lines(inp: &StepInputs) -> Vec<FormulaLine> {
    let d = inp.detail;
    let h = inp.hyper;
    let b = inp.before;
    let kind = inp.kind;
    // η_t, the learning rate this step used (the schedule applied to η)
    let eta = d.eta;
    let (bm, br, eps) = (h.beta_m, h.beta_r, h.eps);
    let lecture = h.convention == Convention::Lecture;
    let loss = if inp.noisy { "L_b" } else { "L" };
    let mut lines = vec![
        FormulaLine::new("t", "t = steps taken + 1", vec![format!("= {}", d.t)]),
        FormulaLine::new(
            "θ",
            "θ (before the step)",
            vec![format!("= {}", point(d.theta))],
        ),
    ];
    if h.schedule != Schedule::Constant {
        let c = d.t.saturating_sub(1);
        lines.push(FormulaLine::new(
            "η_t",
            format!("{}   (c = t-1)", h.schedule.formula()),
            vec![
                format!("= {}·{}   (c = {c})", num(h.lr), num(h.schedule.factor(c))),
                format!("= {}", num(eta)),
            ],
        ));
    }
    // the gradient (at the look-ahead point for the lecture's Nesterov)
    match (kind, d.lookahead) {
        (OptimizerKind::Nesterov, Some(ahead)) => {
            lines.push(FormulaLine::new(
                "θ_ahead",
                "θ_ahead = θ - η β_m V",
                vec![
                    format!(
                        "= {} - {}·{}·{}",
                        point(d.theta),
                        num(eta),
                        num(bm),
                        point(b.v)
                    ),
                    format!("= {}", point(ahead)),
                ],
            ));
            lines.push(FormulaLine::new(
                "g",
                format!("g = ∇{loss}(θ_ahead)"),
                vec![format!("= {}", point(d.grad))],
            ));
        }
        _ => lines.push(FormulaLine::new(
            "g",
            format!("g = ∇{loss}(θ)"),
            vec![format!("= {}", point(d.grad))],
        )),
    }
    // momentum / first moment (Lion's comes after its step)
    if kind.uses_beta_m() && kind != OptimizerKind::Lion {
        let heavy_ball =
            !lecture && matches!(kind, OptimizerKind::Momentum | OptimizerKind::Nesterov);
        if heavy_ball {
            lines.push(FormulaLine::new(
                "V",
                "V <- β_m V + g",
                vec![
                    format!("= {}·{} + {}", num(bm), point(b.v), point(d.grad)),
                    format!("= {}", point(d.v)),
                ],
            ));
        } else {
            lines.push(ema("V", "V <- β_m V + (1-β_m) g", bm, b.v, d.grad, d.v));
        }
    }
    // squared-gradient accumulator
    match kind {
        OptimizerKind::AdaGrad => lines.push(FormulaLine::new(
            "s",
            "s <- s + g²",
            vec![
                format!("= {} + {}", point(b.s), point(sq(d.grad))),
                format!("= {}", point(d.s)),
            ],
        )),
        OptimizerKind::AdaDelta => lines.push(ema(
            "s",
            "s <- ρ s + (1-ρ) g²   (ρ = β_r)",
            br,
            b.s,
            sq(d.grad),
            d.s,
        )),
        k if k.uses_beta_r() && k != OptimizerKind::Lion => {
            lines.push(ema(
                "s",
                "s <- β_r s + (1-β_r) g²",
                br,
                b.s,
                sq(d.grad),
                d.s,
            ));
        }
        _ => {}
    }
    // bias correction
    if kind == OptimizerKind::NAdam {
        let (c1, c1_next, c2) = (
            bias_factor(bm, d.t),
            bias_factor(bm, d.t + 1),
            bias_factor(br, d.t),
        );
        lines.push(FormulaLine::new(
            "1-β_m^t",
            "1 - β_m^t,  1 - β_m^(t+1)",
            vec![format!("= {},  {}", num(c1), num(c1_next))],
        ));
        lines.push(FormulaLine::new(
            "V_hat",
            "V_hat = β_m V / (1 - β_m^(t+1)) + (1-β_m) g / (1 - β_m^t)",
            vec![
                format!(
                    "= {}·{} / {} + {}·{} / {}",
                    num(bm),
                    point(d.v),
                    num(c1_next),
                    num(1.0 - bm),
                    point(d.grad),
                    num(c1)
                ),
                format!("= {}", point(d.v_hat)),
            ],
        ));
        lines.extend(second_moment_correction(br, c2, d));
    } else if kind.uses_bias_correction() {
        if h.bias_correction {
            let (c1, c2) = (bias_factor(bm, d.t), bias_factor(br, d.t));
            lines.push(FormulaLine::new(
                "1-β_m^t",
                "1 - β_m^t",
                vec![
                    format!("= 1 - {}^{}", num(bm), d.t),
                    format!("= {}", num(c1)),
                ],
            ));
            lines.push(FormulaLine::new(
                "V_hat",
                "V_hat = V / (1 - β_m^t)",
                vec![
                    format!("= {} / {}", point(d.v), num(c1)),
                    format!("= {}", point(d.v_hat)),
                ],
            ));
            lines.extend(second_moment_correction(br, c2, d));
        } else {
            lines.push(FormulaLine::new(
                "V_hat",
                "V_hat = V  (bias correction off)",
                vec![format!("= {}", point(d.v_hat))],
            ));
            lines.push(FormulaLine::new(
                "s_hat",
                "s_hat = s  (bias correction off)",
                vec![format!("= {}", point(d.s_hat))],
            ));
        }
    }
    if kind == OptimizerKind::AmsGrad {
        lines.push(FormulaLine::new(
            "s_max",
            "s_max <- max(s_max, s_hat)",
            vec![
                format!("= max({}, {})", point(b.u), point(d.s_hat)),
                format!("= {}", point(d.u)),
            ],
        ));
    }
    // the kinds' own quantities
    match kind {
        OptimizerKind::Lion => {
            lines.push(ema("c", "c = β_m V + (1-β_m) g", bm, b.v, d.grad, d.v_hat));
            lines.push(FormulaLine::new(
                "sign(c)",
                "sign(c)",
                vec![format!("= {}", point(d.direction))],
            ));
        }
        OptimizerKind::Qhm => lines.push(FormulaLine::new(
            "mix",
            "mix = (1-ν) g + ν V",
            vec![
                format!(
                    "= {}·{} + {}·{}",
                    num(1.0 - h.nu),
                    point(d.grad),
                    num(h.nu),
                    point(d.v)
                ),
                format!("= {}", point(d.direction)),
            ],
        )),
        OptimizerKind::QhAdam => lines.push(FormulaLine::new(
            "mix",
            "mix = (1-ν) g + ν V_hat",
            vec![
                format!(
                    "= {}·{} + {}·{}",
                    num(1.0 - h.nu),
                    point(d.grad),
                    num(h.nu),
                    point(d.v_hat)
                ),
                format!("= {}", point(d.direction)),
            ],
        )),
        OptimizerKind::Newton | OptimizerKind::SaddleFreeNewton => {
            let hessian = d.hessian.unwrap_or_default();
            lines.push(FormulaLine::new(
                "H",
                "H = ∇²L(θ)",
                vec![format!("= {}", mat2(hessian))],
            ));
            let (values, _) = eigen(hessian);
            let (symbol, formula) = if kind == OptimizerKind::Newton {
                ("H^-1", "H^-1 (eigenvalues λ → 1/λ)")
            } else {
                ("|H|^-1", "|H|^-1 (eigenvalues λ → 1/|λ|)")
            };
            let inverse = d.precondition.map_or_else(|| "singular".to_owned(), mat2);
            lines.push(FormulaLine::new(
                symbol,
                formula,
                vec![
                    format!("λ = ({}, {})", num(values[0]), num(values[1])),
                    format!("= {inverse}"),
                ],
            ));
            lines.push(FormulaLine::new(
                "d",
                format!("d = {symbol} g"),
                vec![format!("= {}", point(d.direction))],
            ));
        }
        _ => {}
    }
    // the quasi-Newton and conjugate-gradient directions, then the line search's trials
    lines.extend(direction_lines(inp));
    let searched = !d.trials.is_empty() || d.search_failure.is_some();
    if searched {
        lines.extend(search_lines(d, h));
    }
    // effective learning rate of the adaptive methods
    let eff = d.effective_lr;
    let adam_eff = |second: &str, value: Vec2d| {
        if lecture {
            (
                format!("η_eff = η / √({second} + ε)"),
                format!("= {} / √({} + {})", num(eta), point(value), num(eps)),
            )
        } else {
            (
                format!("η_eff = η / (√{second} + ε)"),
                format!(
                    "= {} / ({} + {})",
                    num(eta),
                    point([value[0].sqrt(), value[1].sqrt()]),
                    num(eps)
                ),
            )
        }
    };
    let eff_line = match kind {
        OptimizerKind::AdaGrad | OptimizerKind::RmsProp => Some((
            "η_eff = η / (√s + ε)".to_owned(),
            format!(
                "= {} / ({} + {})",
                num(eta),
                point([d.s[0].sqrt(), d.s[1].sqrt()]),
                num(eps)
            ),
        )),
        OptimizerKind::Adam | OptimizerKind::AdamW | OptimizerKind::NAdam => {
            Some(adam_eff("s_hat", d.s_hat))
        }
        OptimizerKind::AmsGrad => Some(adam_eff("s_max", d.u)),
        OptimizerKind::QhAdam => {
            let second = [
                (1.0 - h.nu2) * d.grad[0] * d.grad[0] + h.nu2 * d.s_hat[0],
                (1.0 - h.nu2) * d.grad[1] * d.grad[1] + h.nu2 * d.s_hat[1],
            ];
            let (formula, row) = adam_eff("q", second);
            Some((format!("{formula},  q = (1-ν2) g² + ν2 s_hat"), row))
        }
        OptimizerKind::AdaDelta => Some((
            "η_eff = η √(u + ε) / √(s + ε)   (u before the step)".to_owned(),
            format!(
                "= {}·√({} + {}) / √({} + {})",
                num(eta),
                point(b.u),
                num(eps),
                point(d.s),
                num(eps)
            ),
        )),
        _ => None,
    };
    if let Some((formula, row)) = eff_line {
        lines.push(FormulaLine::new(
            "η_eff",
            formula,
            vec![row, format!("= {}", point(eff))],
        ));
    }
    if kind == OptimizerKind::AdaDelta {
        // Δ = (η_eff / η) ⊙ g, and the average of squared updates it feeds
        let change = if eta > 0.0 {
            [-d.step[0] / eta, -d.step[1] / eta]
        } else {
            [0.0; 2]
        };
        lines.push(FormulaLine::new(
            "Δ",
            "Δ = √(u + ε) / √(s + ε) ⊙ g",
            vec![format!("= {}", point(change))],
        ));
        lines.push(ema("u", "u <- ρ u + (1-ρ) Δ²", br, b.u, sq(change), d.u));
    }
    // the new position
    let theta = point(d.theta);
    let decay = |formula: &'static str| {
        (
            formula,
            format!(
                "= {theta} - {}·({}⊙{} + {}·{})",
                num(eta),
                // η_eff/η (0 while η_t is 0, in a warm-up's first step)
                point(if eta == 0.0 {
                    [0.0; 2]
                } else {
                    [eff[0] / eta, eff[1] / eta]
                }),
                point(d.direction),
                num(h.weight_decay),
                theta
            ),
        )
    };
    let alpha = eff[0];
    let (formula, row) = match (kind, lecture) {
        _ if searched => (
            "θ <- θ + α p",
            format!("= {theta} + {}·{}", num(alpha), point(neg(d.direction))),
        ),
        (OptimizerKind::Sgd, _) => (
            "θ <- θ - η g",
            format!("= {theta} - {}·{}", num(eta), point(d.grad)),
        ),
        (OptimizerKind::Momentum, _) | (OptimizerKind::Nesterov, true) => (
            "θ <- θ - η V",
            format!("= {theta} - {}·{}", num(eta), point(d.v)),
        ),
        (OptimizerKind::Nesterov, false) => (
            "θ <- θ - η (g + β_m V)",
            format!(
                "= {theta} - {}·({} + {}·{})",
                num(eta),
                point(d.grad),
                num(bm),
                point(d.v)
            ),
        ),
        (OptimizerKind::AdaGrad | OptimizerKind::RmsProp | OptimizerKind::AdaDelta, _) => (
            "θ <- θ - η_eff ⊙ g",
            format!("= {theta} - {}⊙{}", point(eff), point(d.grad)),
        ),
        (OptimizerKind::Adam | OptimizerKind::NAdam | OptimizerKind::AmsGrad, _) => (
            "θ <- θ - η_eff ⊙ V_hat",
            format!("= {theta} - {}⊙{}", point(eff), point(d.v_hat)),
        ),
        (OptimizerKind::AdamW, _) => decay("θ <- θ - η (η_eff/η ⊙ V_hat + λ θ)"),
        (OptimizerKind::Lion, _) => (
            "θ <- θ - η (sign(c) + λ θ)",
            format!(
                "= {theta} - {}·({} + {}·{theta})",
                num(eta),
                point(d.direction),
                num(h.weight_decay)
            ),
        ),
        (OptimizerKind::Qhm, _) => (
            "θ <- θ - η mix",
            format!("= {theta} - {}·{}", num(eta), point(d.direction)),
        ),
        (OptimizerKind::QhAdam, _) => (
            "θ <- θ - η_eff ⊙ mix",
            format!("= {theta} - {}⊙{}", point(eff), point(d.direction)),
        ),
        (OptimizerKind::Newton | OptimizerKind::SaddleFreeNewton, _) => (
            "θ <- θ - η d",
            format!("= {theta} - {}·{}", num(eta), point(d.direction)),
        ),
        // (they always search: the first arm)
        (OptimizerKind::Bfgs | OptimizerKind::Lbfgs | OptimizerKind::Cg, _) => (
            "θ <- θ + α p",
            format!("= {theta} + {}·{}", num(alpha), point(neg(d.direction))),
        ),
    };
    lines.push(FormulaLine::new(
        "θ_new",
        formula,
        vec![
            row,
            format!("= {theta} + {}", point(d.step)),
            format!("= {}", point(d.new_theta)),
        ],
    ));
    if kind == OptimizerKind::Lion {
        lines.push(ema("V", "V <- β_r V + (1-β_r) g", br, b.v, d.grad, d.v));
    }
    lines
}

fn neg(v: Vec2d) -> Vec2d {
    [-v[0], -v[1]]
}

fn sub(a: Vec2d, b: Vec2d) -> Vec2d {
    [a[0] - b[0], a[1] - b[1]]
}

fn dot(a: Vec2d, b: Vec2d) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

/// BFGS's, L-BFGS's and CG's lines: the previous step's pair `(s, y)`, the update of `H` (or `γ`, or
/// `β` and the restart), and the direction `p`. Empty for the other kinds.
fn direction_lines(inp: &StepInputs) -> Vec<FormulaLine> {
    let (d, b, kind) = (inp.detail, inp.before, inp.kind);
    let mut lines = Vec::new();
    if !kind.always_searches() {
        if inp.hyper.searches(kind) {
            let (formula, p) = if kind == OptimizerKind::Sgd {
                ("p = -g", "p")
            } else {
                ("p = -d", "p")
            };
            lines.push(FormulaLine::new(
                p,
                formula,
                vec![format!("= {}", point(neg(d.direction)))],
            ));
        }
        return lines;
    }
    let previous = b.curvature.previous;
    if let (Some((theta_prev, g_prev)), true) = (previous, kind != OptimizerKind::Cg) {
        let (s, y) = (sub(d.theta, theta_prev), sub(d.grad, g_prev));
        lines.push(FormulaLine::new(
            "s, y",
            "s = θ - θ_prev,  y = g - g_prev   (the step before)",
            vec![format!("s = {},  y = {}", point(s), point(y))],
        ));
        if d.pair_skipped {
            lines.push(FormulaLine::new(
                "y^T s",
                "skip the pair when y^T s <= 1e-10 |s| |y| (no curvature to learn along s)",
                vec![format!("= {}: skipped", num(dot(y, s)))],
            ));
        } else if kind == OptimizerKind::Bfgs {
            lines.push(FormulaLine::new(
                "ρ_k",
                "ρ_k = 1 / (y^T s)",
                vec![
                    format!("= 1 / {}", num(dot(y, s))),
                    format!("= {}", num(1.0 / dot(y, s))),
                ],
            ));
        }
    }
    match kind {
        OptimizerKind::Bfgs => {
            let h = &d.inverse_hessian;
            let matrix = if h.len() == 4 {
                mat2([[h[0], h[1]], [h[2], h[3]]])
            } else {
                format!("{} numbers", h.len())
            };
            let formula = if previous.is_none() {
                "H = H₀ = I"
            } else if d.pair_skipped {
                "H unchanged (the pair was skipped)"
            } else {
                "H <- (I - ρ_k s y^T) H (I - ρ_k y s^T) + ρ_k s s^T"
            };
            lines.push(FormulaLine::new("H", formula, vec![format!("= {matrix}")]));
            lines.push(FormulaLine::new(
                "p",
                "p = -H g",
                vec![format!("= {}", point(neg(d.direction)))],
            ));
        }
        OptimizerKind::Lbfgs => {
            let stored = usize::from(previous.is_some() && !d.pair_skipped);
            let kept = (b.curvature.pairs.len() + stored).min(inp.hyper.memory);
            lines.push(FormulaLine::new(
                "γ",
                "H₀ = γ I,  γ = s^T y / y^T y of the newest pair (1 before the first)",
                vec![format!(
                    "= {}   ({kept} of m = {} pairs kept)",
                    num(d.scale),
                    inp.hyper.memory
                )],
            ));
            lines.push(FormulaLine::new(
                "p",
                "p = -H g (the two-loop recursion over the pairs)",
                vec![format!("= {}", point(neg(d.direction)))],
            ));
        }
        OptimizerKind::Cg => {
            if let (Some((_, g_prev)), Some(p_prev)) = (previous, b.curvature.direction) {
                let (num_beta, den) = (dot(d.grad, sub(d.grad, g_prev)), dot(g_prev, g_prev));
                lines.push(FormulaLine::new(
                    "β",
                    "β = max(0, g^T (g - g_prev) / |g_prev|²)   (Polak–Ribière+)",
                    vec![
                        format!("= max(0, {} / {})", num(num_beta), num(den)),
                        format!("= {}", num(d.scale)),
                    ],
                ));
                let mut numbers = vec![format!(
                    "= -{} + {}·{}",
                    point(d.grad),
                    num(d.scale),
                    point(p_prev)
                )];
                if d.restarted {
                    numbers.push("g^T p >= 0, not downhill: restart with p = -g".to_owned());
                }
                numbers.push(format!("= {}", point(neg(d.direction))));
                lines.push(FormulaLine::new("p", "p = -g + β p_prev", numbers));
            } else {
                lines.push(FormulaLine::new(
                    "p",
                    "p₀ = -g",
                    vec![format!("= {}", point(neg(d.direction)))],
                ));
            }
        }
        _ => {}
    }
    lines
}

/// The backtracking search's lines: the slope `g^T p`, then each trial `α` with its loss against the
/// Armijo bound, and why the search found no step if it did not.
fn search_lines(d: &StepDetail, h: &Hyperparams) -> Vec<FormulaLine> {
    let search = &h.line_search;
    let mut lines = vec![FormulaLine::new(
        "g^T p",
        "g^T p (< 0: downhill)",
        vec![format!("= {}", num(d.slope))],
    )];
    for (i, trial) in d.trials.iter().enumerate() {
        let verdict = if trial.accepted() {
            "accepted"
        } else {
            "rejected"
        };
        lines.push(FormulaLine::new(
            "α",
            format!(
                "trial {}: α = η ρ^{i},  L(θ + α p) <= L(θ) + c α g^T p ?   (c = {}, ρ = {})",
                i + 1,
                num(search.c),
                num(search.rho)
            ),
            vec![
                format!(
                    "{} <= {} + {}·{}·{} = {} ?",
                    num(trial.loss),
                    num(d.loss),
                    num(search.c),
                    num(trial.alpha),
                    num(d.slope),
                    num(trial.bound)
                ),
                // where the views draw it (solid when accepted, hollow when rejected)
                format!("at θ + α p = {}", point(d.trial_point(trial.alpha))),
                format!("= {}: {verdict}", num(trial.alpha)),
            ],
        ));
    }
    if let Some(failure) = d.search_failure {
        lines.push(FormulaLine::new(
            "stop",
            "no step: the run stops",
            vec![crate::core::DivergenceReason::from(failure).to_string()],
        ));
    }
    lines
}

/// The update rule of `kind` in `convention`, as a heading for the step-by-step window:
/// the kind's name and its one-line rule from the core.
pub fn rule_summary(kind: OptimizerKind, convention: Convention) -> String {
    let which = if kind.uses_convention() {
        format!(" ({})", convention.name())
    } else {
        String::new()
    };
    format!("{}{which}: {}", kind.label(), kind.update_rule(convention))
}

/// Re-derives a step from the state before it, with the gradient it used: the core's own [`optimizer::step`]
/// fed the recorded gradient. Used by the tests to check that the lines describe a step that really follows.
pub fn recompute(inp: &StepInputs) -> StepDetail {
    let mut state = inp.before.clone();
    let g = inp.detail.grad;
    let h = inp.detail.hessian.unwrap_or_default();
    // the line search's losses as recorded: L(θ) first, then each trial's
    let mut losses =
        std::iter::once(inp.detail.loss).chain(inp.detail.trials.iter().map(|t| t.loss));
    let mut detail = StepDetail::default();
    optimizer::step_into(
        inp.kind,
        inp.hyper,
        &mut state,
        &inp.detail.theta,
        &mut |_: &Vec2d| losses.next().unwrap_or(f64::NAN),
        &mut |_: &Vec2d, out: &mut Vec2d| *out = g,
        &mut |_: &Vec2d| h,
        None,
        &mut detail,
    );
    detail
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::core::{Landscape, LandscapeSpec, RunConfig, Runner};

    /// The numbers of a row: every `(a, b)` pair and bare number, in order.
    fn parse_numbers(row: &str) -> Vec<f64> {
        row.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | '+')))
            .filter_map(|tok| {
                let tok = tok.trim_matches(|c| c == '+');
                tok.parse::<f64>().ok()
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        // printed with 4 significant digits
        (a - b).abs() <= 6e-4 * b.abs().max(1e-300) || (a == 0.0 && b.abs() < 1e-300)
    }

    fn assert_vec(line: &FormulaLine, want: Vec2d) {
        let got = parse_numbers(line.result());
        assert_eq!(got.len(), 2, "{}: {:?}", line.symbol, line.numbers);
        for i in 0..2 {
            assert!(
                close(got[i], want[i]),
                "{} coordinate {i}: printed {} but the core has {}",
                line.symbol,
                got[i],
                want[i]
            );
        }
    }

    fn line<'a>(lines: &'a [FormulaLine], symbol: &str) -> &'a FormulaLine {
        lines
            .iter()
            .find(|l| l.symbol == symbol)
            .unwrap_or_else(|| panic!("no line {symbol} in {lines:#?}"))
    }

    /// Runs 3 steps, formats the third and checks every printed result against the runner's own state.
    fn check(kind: OptimizerKind, convention: Convention, bias_correction: bool) {
        let landscape =
            Arc::new(Landscape::new(LandscapeSpec::from_name("rosenbrock").unwrap()).unwrap());
        let mut config = RunConfig::new(kind, [-1.2, 1.0]);
        config.hyper.convention = convention;
        config.hyper.bias_correction = bias_correction;
        config.hyper.lr = 0.002;
        let mut runner = Runner::new(landscape, config).unwrap();
        runner.step().unwrap();
        runner.step().unwrap();
        let before = runner.state().clone();
        runner.step().unwrap();
        let detail = runner.last_detail().unwrap().clone();
        let after = runner.state().clone();
        let inp = StepInputs {
            kind,
            hyper: &config.hyper,
            before: &before,
            detail: &detail,
            noisy: false,
        };
        let lines = formula_lines(&inp);
        let label = format!("{kind:?} {convention:?}");
        assert_eq!(
            parse_numbers(line(&lines, "t").result()),
            vec![3.0],
            "{label}"
        );
        assert_eq!(detail.t, after.t);
        assert_vec(line(&lines, "θ"), detail.theta);
        assert_vec(line(&lines, "g"), detail.grad);
        assert_vec(line(&lines, "θ_new"), runner.position());
        if kind.uses_beta_m() {
            let v = line(&lines, "V");
            assert_vec(v, after.v);
            // the input row carries the momentum before the step
            assert!(v.numbers[0].contains(&point(before.v)), "{label}: {v:?}");
        } else {
            assert!(lines.iter().all(|l| l.symbol != "V"), "{label}");
        }
        if matches!(
            kind,
            OptimizerKind::AdaGrad | OptimizerKind::RmsProp | OptimizerKind::Adam
        ) {
            let s = line(&lines, "s");
            assert_vec(s, after.s);
            assert!(s.numbers[0].contains(&point(before.s)), "{label}: {s:?}");
            assert_vec(line(&lines, "η_eff"), detail.effective_lr);
        }
        if kind == OptimizerKind::Adam {
            assert_vec(line(&lines, "V_hat"), detail.v_hat);
            assert_vec(line(&lines, "s_hat"), detail.s_hat);
            if bias_correction {
                let c1 = parse_numbers(line(&lines, "1-β_m^t").result());
                assert!(close(c1[0], 1.0 - 0.9f64.powi(3)), "{label}: {c1:?}");
                let c2 = parse_numbers(line(&lines, "1-β_r^t").result());
                assert!(close(c2[0], 1.0 - 0.999f64.powi(3)), "{label}: {c2:?}");
            } else {
                assert!(lines.iter().all(|l| l.symbol != "1-β_m^t"));
            }
        }
        if kind == OptimizerKind::Nesterov && convention == Convention::Lecture {
            assert_vec(line(&lines, "θ_ahead"), detail.lookahead.unwrap());
        }
        // the lines describe a step that really follows from the state before it
        assert_eq!(recompute(&inp), detail, "{label}");
    }

    #[test]
    fn printed_numbers_are_the_cores_state_for_every_kind_and_convention() {
        for kind in OptimizerKind::ALL {
            for convention in [Convention::Lecture, Convention::PyTorch] {
                check(kind, convention, true);
            }
        }
        check(OptimizerKind::Adam, Convention::Lecture, false);
    }

    #[test]
    fn a_schedule_prints_eta_t_and_the_step_uses_it() {
        let landscape =
            Arc::new(Landscape::new(LandscapeSpec::from_name("rosenbrock").unwrap()).unwrap());
        for kind in [
            OptimizerKind::Adam,
            OptimizerKind::Newton,
            OptimizerKind::Lion,
        ] {
            let mut config = RunConfig::new(kind, [-1.2, 1.0]);
            config.hyper.lr = 0.002;
            config.hyper.schedule = "cosine:4:0.1".parse().unwrap();
            let mut runner = Runner::new(landscape.clone(), config).unwrap();
            runner.step().unwrap();
            let before = runner.state().clone();
            runner.step().unwrap();
            let detail = runner.last_detail().unwrap().clone();
            let inp = StepInputs {
                kind,
                hyper: &config.hyper,
                before: &before,
                detail: &detail,
                noisy: false,
            };
            let lines = formula_lines(&inp);
            // c = 1 of 4: (1 - 0.1)(1 + cos(π/4))/2 + 0.1
            let want = 0.002 * (0.9 * (1.0 + (std::f64::consts::PI / 4.0).cos()) / 2.0 + 0.1);
            assert!(
                (detail.eta - want).abs() < 1e-15,
                "{kind:?}: {}",
                detail.eta
            );
            let eta_t = parse_numbers(line(&lines, "η_t").result());
            assert!(close(eta_t[0], want), "{kind:?}: {eta_t:?}");
            assert_vec(line(&lines, "θ_new"), runner.position());
            assert_eq!(recompute(&inp), detail, "{kind:?}");
        }
    }

    #[test]
    fn conventions_print_their_own_formulas() {
        let detail = StepDetail {
            t: 1,
            ..Default::default()
        };
        let before = OptimizerState::default();
        let mut hyper = Hyperparams::defaults_for(OptimizerKind::Adam);
        let lines = |kind, hyper: &Hyperparams| {
            formula_lines(&StepInputs {
                kind,
                hyper,
                before: &before,
                detail: &detail,
                noisy: true,
            })
        };
        let lecture = lines(OptimizerKind::Adam, &hyper);
        assert_eq!(line(&lecture, "η_eff").formula, "η_eff = η / √(s_hat + ε)");
        assert_eq!(line(&lecture, "g").formula, "g = ∇L_b(θ)");
        hyper.convention = Convention::PyTorch;
        let torch = lines(OptimizerKind::Adam, &hyper);
        assert_eq!(line(&torch, "η_eff").formula, "η_eff = η / (√s_hat + ε)");
        let momentum = lines(OptimizerKind::Momentum, &hyper);
        assert_eq!(line(&momentum, "V").formula, "V <- β_m V + g");
        hyper.convention = Convention::Lecture;
        let momentum = lines(OptimizerKind::Momentum, &hyper);
        assert_eq!(line(&momentum, "V").formula, "V <- β_m V + (1-β_m) g");
    }

    #[test]
    fn numbers_read_back() {
        assert_eq!(
            parse_numbers("= 0.9·(1.000, -2.000e-3) + 1e5"),
            vec![0.9, 1.0, -2e-3, 1e5]
        );
    }
}
