//! Runs: determinism, stop rules (convergence, divergence without NaN), live changes, and that
//! `trace` is exactly a loop over `Runner::step`.

use std::sync::Arc;

use losscape::core::{
    CoreError, DivergenceReason, GradientNoise, Hyperparams, Landscape, LandscapeSpec,
    OptimizerKind, RegressionParams, RunConfig, RunStatus, Runner, StepRecord, Vec2d, trace,
    trace_each, trace_into,
};
use proptest::prelude::*;

mod common;

use common::{bits, landscape};

fn all_finite(records: &[StepRecord]) -> bool {
    records
        .iter()
        .all(|r| r.loss.is_finite() && r.pos.iter().chain(&r.grad).all(|v| v.is_finite()))
}

#[test]
fn runner_is_a_shareable_component() {
    fn assert_component<T: Send + Sync + 'static>() {}
    assert_component::<Runner>();
    let shared = Arc::new(landscape("rosenbrock"));
    let runners: Vec<Runner> = OptimizerKind::ALL
        .iter()
        .map(|&k| Runner::new(shared.clone(), RunConfig::new(k, [-1.2, 1.0])).unwrap())
        .collect();
    assert_eq!(Arc::strong_count(&shared), 1 + runners.len());
}

#[test]
fn same_seed_gives_bit_identical_runs_and_other_seeds_differ() {
    let rosen = landscape("rosenbrock");
    let data = Landscape::new(LandscapeSpec::Regression(RegressionParams {
        samples: 64,
        seed: 1,
    }))
    .unwrap();
    let cases = [
        (
            &rosen,
            GradientNoise {
                sigma: 0.0,
                batch: None,
            },
        ),
        (
            &rosen,
            GradientNoise {
                sigma: 2.0,
                batch: None,
            },
        ),
        (
            &data,
            GradientNoise {
                sigma: 0.0,
                batch: Some(8),
            },
        ),
        (
            &data,
            GradientNoise {
                sigma: 0.1,
                batch: Some(8),
            },
        ),
    ];
    for (l, noise) in cases {
        for kind in OptimizerKind::ALL {
            let mut config = RunConfig::new(kind, l.default_start());
            config.hyper.lr = 1e-3;
            config.noise = noise;
            config.seed = 42;
            if kind.always_searches() && noise != GradientNoise::NONE {
                // the line search needs the exact loss: refused, with the reason
                let err = trace(l, &config, 300).unwrap_err().to_string();
                assert!(err.contains("exact loss and gradient"), "{err}");
                continue;
            }
            let a = trace(l, &config, 300).unwrap();
            let b = trace(l, &config, 300).unwrap();
            assert_eq!(bits(&a.records), bits(&b.records), "{kind:?} {noise:?}");
            assert_eq!(a.status, b.status);
            config.seed = 43;
            let c = trace(l, &config, 300).unwrap();
            if noise == GradientNoise::NONE {
                assert_eq!(
                    bits(&a.records),
                    bits(&c.records),
                    "no noise: the seed does not matter"
                );
            } else {
                assert_ne!(
                    bits(&a.records),
                    bits(&c.records),
                    "{kind:?} {noise:?}: seeds differ"
                );
            }
        }
    }
}

#[test]
fn trace_is_a_loop_over_runner_step() {
    let l = landscape("beale");
    for kind in OptimizerKind::ALL {
        let mut config = RunConfig::new(kind, [1.0, 1.5]);
        // the line-searching kinds need exact gradients
        config.noise.sigma = if kind.always_searches() { 0.0 } else { 0.3 };
        config.seed = 5;
        let t = trace(&l, &config, 200).unwrap();
        let mut runner = Runner::new(&l, config).unwrap();
        let mut rows = vec![runner.record()];
        let mut used = Vec::new();
        while let Some(r) = runner.step() {
            used.push(runner.last_detail().unwrap().grad);
            rows.push(r);
            if rows.len() == 201 {
                break;
            }
        }
        assert_eq!(t.records.len(), rows.len());
        for (i, (a, b)) in t.records.iter().zip(&rows).enumerate() {
            assert_eq!((a.step, a.pos, a.loss), (b.step, b.pos, b.loss));
            // A trajectory row carries the gradient used to leave it; the last the exact one.
            let expected = used.get(i).copied().unwrap_or(b.grad);
            assert_eq!(a.grad, expected, "{kind:?} row {i}");
        }
        assert_eq!(t.status, runner.status());
    }
}

#[test]
fn nesterov_rows_carry_the_lookahead_gradient() {
    let l = landscape("rosenbrock");
    let mut config = RunConfig::new(OptimizerKind::Nesterov, [-1.2, 1.0]);
    config.hyper.lr = 1e-3;
    let t = trace(&l, &config, 3).unwrap();
    // Step 1 looks ahead from the start with V = 0: the look-ahead point is the start itself.
    assert_eq!(t.records[0].grad, l.gradient([-1.2, 1.0]));
    // Step 2 looks ahead to theta_1 - eta beta_m V_1 != theta_1.
    assert_ne!(t.records[1].grad, l.gradient(t.records[1].pos));
    let last = t.records.last().unwrap();
    assert_eq!(last.grad, l.gradient(last.pos));
}

#[test]
fn divergence_stops_at_the_last_finite_point_and_reports_the_step() {
    let l = landscape("rosenbrock");
    let mut config = RunConfig::new(OptimizerKind::Sgd, [-1.2, 1.0]);
    config.hyper.lr = 10.0;
    let t = trace(&l, &config, 1000).unwrap();
    let RunStatus::Diverged { step, reason } = t.status else {
        panic!("expected divergence, got {}", t.status);
    };
    assert_eq!(reason, DivergenceReason::OutOfBounds);
    // Rows 0 ..= step - 1 are kept; the refused step is not.
    assert_eq!(t.records.len() as u64, step);
    assert_eq!(t.records.last().unwrap().step, step - 1);
    assert!(all_finite(&t.records));
    assert_eq!(
        t.status.to_string(),
        format!("diverged at step {step}: the position left the box |x|, |y| <= 1e6")
    );

    // The runner stays put, finite, and refuses further steps.
    let mut runner = Runner::new(&l, config).unwrap();
    while runner.step().is_some() {}
    assert_eq!(runner.status(), t.status);
    assert_eq!(runner.position(), t.records.last().unwrap().pos);
    assert!(runner.step().is_none());
    let d = runner.last_detail().unwrap();
    assert!(d.is_finite());
    assert!(
        runner
            .state()
            .v
            .iter()
            .chain(&runner.state().s)
            .all(|v| v.is_finite())
    );
}

/// With η = 1000 the methods whose step grows with the gradient (or with `H^-1 g`) leave the box within
/// a few steps; the adaptive methods and Lion, whose steps are about η whatever the gradient, wander
/// or leave it later; the methods that search their step (BFGS, L-BFGS, CG) halve it until the loss
/// falls. Whatever happens, no NaN or infinity leaves a run: a diverged run ends at its last
/// finite row, just before the refused step.
#[test]
fn every_optimizer_diverges_cleanly_with_a_huge_learning_rate() {
    let mut diverged = 0;
    for name in [
        "rosenbrock",
        "beale",
        "monkey-saddle",
        "saddle",
        "himmelblau",
    ] {
        let l = landscape(name);
        for kind in OptimizerKind::ALL {
            let mut config = RunConfig::new(kind, l.default_start());
            config.hyper.lr = 1e3;
            let t = trace(&l, &config, 5000).unwrap();
            let what = format!("{name} {kind:?}: {}", t.status);
            assert!(all_finite(&t.records), "{what}");
            // BFGS, L-BFGS and CG search their step: a huge trial is halved until the loss falls
            let grows_with_the_gradient =
                !kind.is_adaptive() && kind != OptimizerKind::Lion && !kind.always_searches();
            match t.status {
                // a searching method that finds no step that lowers the loss stops, with the reason
                RunStatus::Diverged { reason, .. } if reason.is_stop() => {
                    assert!(kind.always_searches(), "{what}");
                }
                RunStatus::Diverged { step, reason } => {
                    diverged += 1;
                    assert_eq!(reason, DivergenceReason::OutOfBounds, "{what}");
                    assert_eq!(t.records.len() as u64, step, "{what}");
                    if grows_with_the_gradient {
                        assert!(step <= 3, "{what}");
                    }
                }
                _ => assert!(!grows_with_the_gradient, "{what}"),
            }
        }
    }
    assert!(
        diverged >= 50,
        "{diverged} of {} runs diverged",
        5 * OptimizerKind::ALL.len()
    );
}

/// The two causes a diagnosis gives when nothing overshoots and the run did not leave the box: the
/// gradient overflowed (Adam's `g^2` of a gradient of 2e200), or the step landed where the loss is
/// undefined (`ln x` for x < 0).
#[test]
fn overflow_and_undefined_are_told_apart() {
    use losscape::core::curvature::{DivergenceCause, diagnose};
    let formula = |e: &str| {
        Landscape::new(LandscapeSpec::formula(
            e,
            losscape::core::DEFAULT_FORMULA_DOMAIN,
        ))
        .unwrap()
    };
    for (expr, kind, lr, reason, cause, text) in [
        (
            "1e200*x^2 + y^2",
            OptimizerKind::Adam,
            0.1,
            DivergenceReason::NonFiniteUpdate,
            DivergenceCause::GradientOverflow,
            "the gradient overflowed after (1, 1): the numbers became infinite",
        ),
        (
            "ln(x) + y^2",
            OptimizerKind::Sgd,
            1.0,
            DivergenceReason::NonFiniteLoss,
            DivergenceCause::Undefined,
            "the step from (1, 1) landed where the loss is undefined or infinite",
        ),
    ] {
        let l = formula(expr);
        let mut config = RunConfig::new(kind, [1.0, 1.0]);
        config.hyper.lr = lr;
        let t = trace(&l, &config, 100).unwrap();
        // (ln: x = 1 - 1 * 1/1 = 0, where ln is -inf)
        assert_eq!(t.status, RunStatus::Diverged { step: 1, reason }, "{expr}");
        assert_eq!(t.records.len(), 1, "{expr}");
        let d = diagnose(
            &l,
            &config,
            &t.records,
            t.status,
            &losscape::core::OptimizerState::default(),
        )
        .unwrap();
        assert_eq!(d.cause, cause, "{expr}");
        assert_eq!(d.text, text, "{expr}");
        assert_eq!((d.diverged_at, d.last_stable_step), (1, 0), "{expr}");
    }
}

#[test]
fn convergence_stops_the_run() {
    let l = landscape("bowl");
    let mut config = RunConfig::new(OptimizerKind::Sgd, [2.0, 1.0]);
    config.hyper.lr = 0.1;
    config.converge_tol = 1e-6;
    let t = trace(&l, &config, 100_000).unwrap();
    let RunStatus::Converged { step } = t.status else {
        panic!("expected convergence, got {}", t.status);
    };
    assert_eq!(t.records.len() as u64, step + 1);
    let last = t.records.last().unwrap();
    assert!(last.grad[0].hypot(last.grad[1]) < 1e-6);
    let before = &t.records[t.records.len() - 2];
    assert!(l.gradient(before.pos)[0].hypot(l.gradient(before.pos)[1]) >= 1e-6);
    assert_eq!(t.status.to_string(), format!("converged at step {step}"));
}

#[test]
fn a_start_at_a_minimum_has_converged_unless_there_is_noise() {
    let l = landscape("himmelblau");
    let config = RunConfig::new(OptimizerKind::Adam, [3.0, 2.0]);
    let t = trace(&l, &config, 10).unwrap();
    assert_eq!(t.status, RunStatus::Converged { step: 0 });
    assert_eq!(t.records.len(), 1);

    // With gradient noise the run jitters and never "converges".
    let mut noisy = config;
    noisy.noise.sigma = 1e-3;
    let t = trace(&l, &noisy, 10).unwrap();
    assert_eq!(t.status, RunStatus::Running);
    assert_eq!(t.records.len(), 11);
}

#[test]
fn set_hyper_applies_from_the_next_step_without_reset() {
    let l = landscape("rosenbrock");
    let config = RunConfig::new(OptimizerKind::Adam, [-1.2, 1.0]);
    let mut runner = Runner::new(Arc::new(l.clone()), config).unwrap();
    for _ in 0..5 {
        runner.step();
    }
    let (pos, state) = (runner.position(), runner.state().clone());
    let mut faster = config.hyper;
    faster.lr = 0.05;
    runner.set_hyper(faster).unwrap();
    assert_eq!(runner.position(), pos, "no reset");
    runner.step();
    let d = runner.last_detail().unwrap().clone();
    assert_eq!(d.t, 6, "the step counter continues");
    assert_eq!(d.theta, pos);
    // The step is Adam's with the new eta and the old moments.
    let mut s = state;
    let expected = losscape::core::step(
        OptimizerKind::Adam,
        &faster,
        &mut s,
        pos,
        &mut |p| l.gradient(p),
        &mut |p| l.hessian(p),
    );
    assert_eq!(d, expected);

    let mut bad = faster;
    bad.lr = -1.0;
    assert!(matches!(
        runner.set_hyper(bad),
        Err(CoreError::InvalidHyperparam { .. })
    ));
    assert_eq!(runner.config().hyper, faster);
}

#[test]
fn reset_replays_the_same_run() {
    let l = Arc::new(landscape("terrain"));
    let mut config = RunConfig::new(OptimizerKind::Momentum, l.default_start());
    config.noise.sigma = 0.5;
    config.seed = 9;
    let mut runner = Runner::new(l.clone(), config).unwrap();
    let first: Vec<StepRecord> = (0..50).filter_map(|_| runner.step()).collect();
    runner.reset();
    assert_eq!(runner.steps(), 0);
    assert_eq!(runner.position(), config.start);
    assert!(runner.last_detail().is_none());
    let second: Vec<StepRecord> = (0..50).filter_map(|_| runner.step()).collect();
    assert_eq!(bits(&first), bits(&second));

    let mut moved = config;
    moved.start = [1.0, 1.0];
    runner.set_config(moved).unwrap();
    assert_eq!(runner.position(), [1.0, 1.0]);
    moved.start = [f64::NAN, 0.0];
    assert!(runner.set_config(moved).is_err());
    assert_eq!(runner.position(), [1.0, 1.0]);
}

#[test]
fn invalid_configs_are_refused() {
    let l = landscape("bowl");
    let ok = RunConfig::new(OptimizerKind::Sgd, [1.0, 1.0]);
    let cases: [(RunConfig, &str); 7] = [
        (
            RunConfig {
                start: [f64::NAN, 0.0],
                ..ok
            },
            "finite",
        ),
        (
            RunConfig {
                start: [0.0, f64::INFINITY],
                ..ok
            },
            "finite",
        ),
        (
            RunConfig {
                start: [2e6, 0.0],
                ..ok
            },
            "1e6",
        ),
        (
            RunConfig {
                converge_tol: -1.0,
                ..ok
            },
            "tolerance",
        ),
        (
            RunConfig {
                noise: GradientNoise {
                    sigma: -0.1,
                    batch: None,
                },
                ..ok
            },
            "sigma",
        ),
        (
            RunConfig {
                noise: GradientNoise {
                    sigma: 0.0,
                    batch: Some(0),
                },
                ..ok
            },
            "batch",
        ),
        (
            RunConfig {
                hyper: Hyperparams {
                    beta_m: 1.0,
                    ..ok.hyper
                },
                ..ok
            },
            "beta_m",
        ),
    ];
    for (config, word) in cases {
        let err = Runner::new(&l, config).expect_err(word).to_string();
        assert!(err.contains(word), "{err}");
        assert!(trace(&l, &config, 10).is_err());
    }
    // The edge of the box is still a valid start.
    let beale = landscape("beale");
    assert!(
        trace(
            &beale,
            &RunConfig {
                start: [1e6, -1e6],
                ..ok
            },
            1
        )
        .is_ok()
    );
}

#[test]
fn trace_into_reuses_the_buffer() {
    let l = landscape("rosenbrock");
    let mut buffer = vec![
        StepRecord {
            step: 99,
            pos: [0.0; 2],
            loss: 0.0,
            grad: [0.0; 2],
            evals: 0,
        };
        3
    ];
    let config = RunConfig::new(OptimizerKind::Adam, [-1.2, 1.0]);
    let status = trace_into(&l, &config, 20, &mut buffer).unwrap();
    assert_eq!(status, RunStatus::Running);
    assert_eq!(buffer.len(), 21);
    assert_eq!(buffer[0].step, 0);
    assert_eq!(buffer, trace(&l, &config, 20).unwrap().records);
}

fn any_kind() -> impl Strategy<Value = OptimizerKind> {
    prop::sample::select(OptimizerKind::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the (valid) settings, nothing non-finite ever leaves a run.
    #[test]
    fn no_nan_ever_leaves_a_run(
        kind in any_kind(),
        which in 0usize..13,
        lr in (-6.0f64..4.0).prop_map(|e| 10f64.powf(e)),
        beta_m in 0.0f64..0.9999,
        beta_r in 0.0f64..0.9999,
        eps in prop_oneof![Just(0.0), 1e-12f64..1.0],
        pytorch in any::<bool>(),
        u in 0.0f64..=1.0,
        v in 0.0f64..=1.0,
        sigma in prop_oneof![Just(0.0), 0.0f64..10.0],
        seed in any::<u64>(),
    ) {
        let l = landscape(LandscapeSpec::NAMES[which]);
        let d = l.domain();
        let mut config = RunConfig::new(kind, [d.x[0] + u * d.width(), d.y[0] + v * d.height()]);
        config.hyper = Hyperparams {
            lr, beta_m, beta_r, eps,
            convention: if pytorch { losscape::core::Convention::PyTorch } else { losscape::core::Convention::Lecture },
            bias_correction: seed % 2 == 0,
            ..Hyperparams::defaults_for(kind)
        };
        // the line-searching kinds need exact gradients
        config.noise.sigma = if kind.always_searches() { 0.0 } else { sigma };
        config.seed = seed;
        let mut runner = Runner::new(&l, config).unwrap();
        let mut rows = vec![runner.record()];
        for _ in 0..300 {
            let Some(r) = runner.step() else { break };
            prop_assert!(runner.last_detail().unwrap().is_finite());
            rows.push(r);
        }
        prop_assert!(all_finite(&rows));
        let p: Vec2d = runner.position();
        prop_assert!(p[0].abs() <= 1e6 && p[1].abs() <= 1e6);
    }
}

#[test]
fn trace_each_hands_over_each_row_as_it_is_final_and_stops_on_error() {
    let l = landscape("beale");
    let mut config = RunConfig::new(OptimizerKind::Nesterov, [1.0, 1.5]);
    config.noise.sigma = 0.2;
    config.seed = 5;
    let whole = trace(&l, &config, 300).expect("valid");
    let mut rows = Vec::new();
    let status = trace_each(&l, &config, 300, |r| {
        rows.push(*r);
        Ok::<(), ()>(())
    })
    .expect("valid");
    assert_eq!(status, Ok(whole.status));
    assert_eq!(
        bits(&rows),
        bits(&whole.records),
        "the same rows, gradients included"
    );
    // a consumer that stops after 10 rows stops a run of ten million steps right there
    let mut seen = 0;
    let stopped = trace_each(&l, &config, 10_000_000, |r| {
        seen += 1;
        if r.step == 9 { Err(r.step) } else { Ok(()) }
    })
    .expect("valid");
    assert_eq!(stopped, Err(9));
    assert_eq!(seen, 10);
}
