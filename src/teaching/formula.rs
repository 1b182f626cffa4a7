//! The step-by-step formulas: one optimizer step written out line by line in the lecture's notation,
//! with the step's own numbers in place. Pure functions of the core's [`StepDetail`] and the state
//! before the step, so the panel prints exactly what the core computed.
//!
//! Notation (as on the slides): `θ` position, `g` gradient, `t` step number (1 at the first step),
//! `η` learning rate, `β_m` momentum decay, `β_r` squared-gradient decay, `ε` guard, `V` momentum /
//! first moment, `s` squared-gradient accumulator, `V_hat`, `s_hat` bias-corrected, `η_eff` the
//! per-coordinate step size, `⊙` the per-coordinate product. Vectors print as `(x, y)`.

use crate::core::{
    Convention, Hyperparams, OptimizerKind, OptimizerState, StepDetail, Vec2d, optimizer,
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

/// A number with 4 significant digits: fixed between 1e-3 and 1e5, scientific outside, `0` for zero.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return format!("{x}");
    }
    let mag = x.abs().log10().floor();
    if (-3.0..5.0).contains(&mag) {
        let decimals = (3.0 - mag).max(0.0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.3e}")
    }
}

/// A param-space vector: `(x, y)` with [`num`].
pub fn vec2(v: Vec2d) -> String {
    format!("({}, {})", num(v[0]), num(v[1]))
}

fn sq(v: Vec2d) -> Vec2d {
    [v[0] * v[0], v[1] * v[1]]
}

/// `1 - beta^t` exactly as the core computes it.
fn bias_factor(beta: f64, t: u64) -> f64 {
    1.0 - beta.powf(t as f64)
}

/// The lines of one step, in the order the update computes them, for the step's own convention.
pub fn formula_lines(inp: &StepInputs) -> Vec<FormulaLine> {
    let d = inp.detail;
    let h = inp.hyper;
    let b = inp.before;
    let (eta, bm, br, eps) = (h.lr, h.beta_m, h.beta_r, h.eps);
    let lecture = h.convention == Convention::Lecture;
    let loss = if inp.noisy { "L_b" } else { "L" };
    let mut lines = vec![
        FormulaLine::new("t", "t = steps taken + 1", vec![format!("= {}", d.t)]),
        FormulaLine::new(
            "θ",
            "θ (before the step)",
            vec![format!("= {}", vec2(d.theta))],
        ),
    ];
    // the gradient (at the look-ahead point for the lecture's Nesterov)
    match (inp.kind, d.lookahead) {
        (OptimizerKind::Nesterov, Some(ahead)) => {
            lines.push(FormulaLine::new(
                "θ_ahead",
                "θ_ahead = θ - η β_m V",
                vec![
                    format!(
                        "= {} - {}·{}·{}",
                        vec2(d.theta),
                        num(eta),
                        num(bm),
                        vec2(b.v)
                    ),
                    format!("= {}", vec2(ahead)),
                ],
            ));
            lines.push(FormulaLine::new(
                "g",
                format!("g = ∇{loss}(θ_ahead)"),
                vec![format!("= {}", vec2(d.grad))],
            ));
        }
        _ => lines.push(FormulaLine::new(
            "g",
            format!("g = ∇{loss}(θ)"),
            vec![format!("= {}", vec2(d.grad))],
        )),
    }
    // momentum / first moment
    if inp.kind.uses_beta_m() {
        let ema = inp.kind == OptimizerKind::Adam || lecture;
        let (formula, row) = if ema {
            (
                "V <- β_m V + (1-β_m) g",
                format!(
                    "= {}·{} + {}·{}",
                    num(bm),
                    vec2(b.v),
                    num(1.0 - bm),
                    vec2(d.grad)
                ),
            )
        } else {
            (
                "V <- β_m V + g",
                format!("= {}·{} + {}", num(bm), vec2(b.v), vec2(d.grad)),
            )
        };
        lines.push(FormulaLine::new(
            "V",
            formula,
            vec![row, format!("= {}", vec2(d.v))],
        ));
    }
    // squared-gradient accumulator
    match inp.kind {
        OptimizerKind::AdaGrad => lines.push(FormulaLine::new(
            "s",
            "s <- s + g²",
            vec![
                format!("= {} + {}", vec2(b.s), vec2(sq(d.grad))),
                format!("= {}", vec2(d.s)),
            ],
        )),
        OptimizerKind::RmsProp | OptimizerKind::Adam => lines.push(FormulaLine::new(
            "s",
            "s <- β_r s + (1-β_r) g²",
            vec![
                format!(
                    "= {}·{} + {}·{}",
                    num(br),
                    vec2(b.s),
                    num(1.0 - br),
                    vec2(sq(d.grad))
                ),
                format!("= {}", vec2(d.s)),
            ],
        )),
        _ => {}
    }
    // Adam's bias correction
    if inp.kind == OptimizerKind::Adam {
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
                    format!("= {} / {}", vec2(d.v), num(c1)),
                    format!("= {}", vec2(d.v_hat)),
                ],
            ));
            lines.push(FormulaLine::new(
                "1-β_r^t",
                "1 - β_r^t",
                vec![
                    format!("= 1 - {}^{}", num(br), d.t),
                    format!("= {}", num(c2)),
                ],
            ));
            lines.push(FormulaLine::new(
                "s_hat",
                "s_hat = s / (1 - β_r^t)",
                vec![
                    format!("= {} / {}", vec2(d.s), num(c2)),
                    format!("= {}", vec2(d.s_hat)),
                ],
            ));
        } else {
            lines.push(FormulaLine::new(
                "V_hat",
                "V_hat = V  (bias correction off)",
                vec![format!("= {}", vec2(d.v_hat))],
            ));
            lines.push(FormulaLine::new(
                "s_hat",
                "s_hat = s  (bias correction off)",
                vec![format!("= {}", vec2(d.s_hat))],
            ));
        }
    }
    // effective learning rate of the adaptive methods
    let eff = d.effective_lr;
    match inp.kind {
        OptimizerKind::AdaGrad | OptimizerKind::RmsProp => lines.push(FormulaLine::new(
            "η_eff",
            "η_eff = η / (√s + ε)",
            vec![
                format!(
                    "= {} / ({} + {})",
                    num(eta),
                    vec2([d.s[0].sqrt(), d.s[1].sqrt()]),
                    num(eps)
                ),
                format!("= {}", vec2(eff)),
            ],
        )),
        OptimizerKind::Adam => {
            let root = [d.s_hat[0].sqrt(), d.s_hat[1].sqrt()];
            let (formula, row) = if lecture {
                (
                    "η_eff = η / √(s_hat + ε)",
                    format!("= {} / √({} + {})", num(eta), vec2(d.s_hat), num(eps)),
                )
            } else {
                (
                    "η_eff = η / (√s_hat + ε)",
                    format!("= {} / ({} + {})", num(eta), vec2(root), num(eps)),
                )
            };
            lines.push(FormulaLine::new(
                "η_eff",
                formula,
                vec![row, format!("= {}", vec2(eff))],
            ));
        }
        _ => {}
    }
    // the new position
    let theta = vec2(d.theta);
    let (formula, row) = match (inp.kind, lecture) {
        (OptimizerKind::Sgd, _) => (
            "θ <- θ - η g",
            format!("= {theta} - {}·{}", num(eta), vec2(d.grad)),
        ),
        (OptimizerKind::Momentum, _) | (OptimizerKind::Nesterov, true) => (
            "θ <- θ - η V",
            format!("= {theta} - {}·{}", num(eta), vec2(d.v)),
        ),
        (OptimizerKind::Nesterov, false) => (
            "θ <- θ - η (g + β_m V)",
            format!(
                "= {theta} - {}·({} + {}·{})",
                num(eta),
                vec2(d.grad),
                num(bm),
                vec2(d.v)
            ),
        ),
        (OptimizerKind::AdaGrad | OptimizerKind::RmsProp, _) => (
            "θ <- θ - η_eff ⊙ g",
            format!("= {theta} - {}⊙{}", vec2(eff), vec2(d.grad)),
        ),
        (OptimizerKind::Adam, _) => (
            "θ <- θ - η_eff ⊙ V_hat",
            format!("= {theta} - {}⊙{}", vec2(eff), vec2(d.v_hat)),
        ),
    };
    lines.push(FormulaLine::new(
        "θ_new",
        formula,
        vec![
            row,
            format!("= {theta} + {}", vec2(d.step)),
            format!("= {}", vec2(d.new_theta)),
        ],
    ));
    lines
}

/// The update rule of `kind` in `convention`, as a one-line summary for the panel's heading.
pub fn rule_summary(kind: OptimizerKind, convention: Convention) -> &'static str {
    match (kind, convention) {
        (OptimizerKind::Sgd, _) => "SGD: θ <- θ - η g",
        (OptimizerKind::Momentum, Convention::Lecture) => "Momentum (EMA): V <- β_m V + (1-β_m) g",
        (OptimizerKind::Momentum, Convention::PyTorch) => "Momentum (heavy ball): V <- β_m V + g",
        (OptimizerKind::Nesterov, Convention::Lecture) => "Nesterov: gradient at θ - η β_m V",
        (OptimizerKind::Nesterov, Convention::PyTorch) => {
            "Nesterov (PyTorch): θ <- θ - η (g + β_m V)"
        }
        (OptimizerKind::AdaGrad, _) => "AdaGrad: s <- s + g²",
        (OptimizerKind::RmsProp, _) => "RMSProp: s <- β_r s + (1-β_r) g²",
        (OptimizerKind::Adam, Convention::Lecture) => "Adam (lecture): ε inside the root",
        (OptimizerKind::Adam, Convention::PyTorch) => "Adam (PyTorch): ε outside the root",
    }
}

/// Re-derives a step from the state before it, with the gradient it used: the core's own [`optimizer::step`]
/// fed the recorded gradient. Used by the tests to check that the lines describe a step that really follows.
pub fn recompute(inp: &StepInputs) -> StepDetail {
    let mut state = *inp.before;
    let g = inp.detail.grad;
    optimizer::step(
        inp.kind,
        inp.hyper,
        &mut state,
        inp.detail.theta,
        &mut |_| g,
    )
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
        let before = *runner.state();
        runner.step().unwrap();
        let detail = *runner.last_detail().unwrap();
        let after = *runner.state();
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
            assert!(v.numbers[0].contains(&vec2(before.v)), "{label}: {v:?}");
        } else {
            assert!(lines.iter().all(|l| l.symbol != "V"), "{label}");
        }
        if matches!(
            kind,
            OptimizerKind::AdaGrad | OptimizerKind::RmsProp | OptimizerKind::Adam
        ) {
            let s = line(&lines, "s");
            assert_vec(s, after.s);
            assert!(s.numbers[0].contains(&vec2(before.s)), "{label}: {s:?}");
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
    fn numbers_read_well() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.123456), "0.1235");
        assert_eq!(num(-12.3456), "-12.35");
        assert_eq!(num(12345.6), "12346");
        assert_eq!(num(1.5e-5), "1.500e-5");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(vec2([1.0, -0.002]), "(1.000, -0.002000)");
        assert_eq!(
            parse_numbers("= 0.9·(1.000, -2.000e-3) + 1e5"),
            vec![0.9, 1.0, -2e-3, 1e5]
        );
    }
}
