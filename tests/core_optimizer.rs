//! Every optimizer's first steps against values worked out by hand from the lecture's formulas
//! (arithmetic in the comments), in both conventions, Adam with and without bias correction.
//!
//! Two test problems keep the arithmetic short:
//! - "quadratic": `L = 0.5 |theta|^2`, so `g = theta`, from `theta_0 = (1, -2)` (momentum family);
//! - "linear": a constant gradient `g = (3, -4)` from `theta_0 = (0, 0)` (adaptive family: the square
//!   roots come out round).

use losscape::core::{
    Convention, Hyperparams, OptimizerKind, OptimizerState, StepDetail, Vec2d, step,
};

fn hp(lr: f64, beta_m: f64, beta_r: f64, eps: f64, convention: Convention) -> Hyperparams {
    Hyperparams {
        lr,
        beta_m,
        beta_r,
        eps,
        convention,
        ..Hyperparams::defaults_for(OptimizerKind::Sgd)
    }
}

/// Runs `n` steps with gradient function `grad`, returning every detail.
fn run(
    kind: OptimizerKind,
    hp: &Hyperparams,
    theta0: Vec2d,
    n: usize,
    grad: fn(Vec2d) -> Vec2d,
) -> Vec<StepDetail> {
    let mut state = OptimizerState::default();
    let mut theta = theta0;
    let mut calls = 0;
    let mut out = Vec::new();
    for _ in 0..n {
        let mut counted = |p: Vec2d| {
            calls += 1;
            grad(p)
        };
        let d = step(kind, hp, &mut state, theta, &mut counted, &mut |_| {
            [[0.0; 2]; 2]
        });
        theta = d.new_theta;
        out.push(d);
    }
    assert_eq!(
        calls, n,
        "{kind:?}: exactly one gradient evaluation per step"
    );
    out
}

fn quadratic(p: Vec2d) -> Vec2d {
    p
}

fn linear(_: Vec2d) -> Vec2d {
    [3.0, -4.0]
}

#[track_caller]
fn close(actual: Vec2d, expected: Vec2d) {
    for i in 0..2 {
        let tol = 1e-12 * (1.0 + expected[i].abs());
        assert!(
            (actual[i] - expected[i]).abs() <= tol,
            "coordinate {i}: got {actual:?}, expected {expected:?}"
        );
    }
}

#[test]
fn sgd_first_steps() {
    // theta <- theta - eta g, eta = 0.1, g = theta:
    // t1: (1, -2) - 0.1 (1, -2) = (0.9, -1.8)
    // t2: (0.9, -1.8) * 0.9 = (0.81, -1.62)
    // t3: (0.81, -1.62) * 0.9 = (0.729, -1.458)
    let d = run(
        OptimizerKind::Sgd,
        &hp(0.1, 0.9, 0.999, 1e-8, Convention::Lecture),
        [1.0, -2.0],
        3,
        quadratic,
    );
    close(d[0].new_theta, [0.9, -1.8]);
    close(d[1].new_theta, [0.81, -1.62]);
    close(d[2].new_theta, [0.729, -1.458]);
    close(d[0].grad, [1.0, -2.0]);
    close(d[1].step, [-0.09, 0.18]);
    assert_eq!(d[0].effective_lr, [0.1, 0.1]);
    assert_eq!((d[0].t, d[2].t), (1, 3));
    assert_eq!(d[0].v, [0.0, 0.0]);
    assert_eq!(d[0].lookahead, None);
}

#[test]
fn momentum_lecture_first_steps() {
    // V <- beta_m V + (1 - beta_m) g; theta <- theta - eta V; eta 0.1, beta_m 0.5, g = theta:
    // t1: V = 0.5 (1, -2) = (0.5, -1);                 theta = (1, -2) - 0.1 (0.5, -1) = (0.95, -1.9)
    // t2: V = 0.5 (0.5, -1) + 0.5 (0.95, -1.9) = (0.725, -1.45); theta = (0.95 - 0.0725, -1.9 + 0.145)
    //       = (0.8775, -1.755)
    // t3: V = 0.5 (0.725, -1.45) + 0.5 (0.8775, -1.755) = (0.80125, -1.6025);
    //     theta = (0.8775 - 0.080125, -1.755 + 0.16025) = (0.797375, -1.59475)
    let d = run(
        OptimizerKind::Momentum,
        &hp(0.1, 0.5, 0.999, 1e-8, Convention::Lecture),
        [1.0, -2.0],
        3,
        quadratic,
    );
    close(d[0].v, [0.5, -1.0]);
    close(d[0].new_theta, [0.95, -1.9]);
    close(d[1].v, [0.725, -1.45]);
    close(d[1].new_theta, [0.8775, -1.755]);
    close(d[2].v, [0.80125, -1.6025]);
    close(d[2].new_theta, [0.797375, -1.59475]);
    assert_eq!(d[2].effective_lr, [0.1, 0.1]);
    assert_eq!(d[2].v_hat, d[2].v);
}

#[test]
fn momentum_pytorch_first_steps() {
    // Heavy ball: V <- beta_m V + g; theta <- theta - eta V; eta 0.1, beta_m 0.5, g = theta:
    // t1: V = (1, -2);                              theta = (0.9, -1.8)
    // t2: V = 0.5 (1, -2) + (0.9, -1.8) = (1.4, -2.8); theta = (0.9 - 0.14, -1.8 + 0.28) = (0.76, -1.52)
    // t3: V = 0.5 (1.4, -2.8) + (0.76, -1.52) = (1.46, -2.92); theta = (0.76 - 0.146, -1.52 + 0.292)
    //       = (0.614, -1.228)
    let d = run(
        OptimizerKind::Momentum,
        &hp(0.1, 0.5, 0.999, 1e-8, Convention::PyTorch),
        [1.0, -2.0],
        3,
        quadratic,
    );
    close(d[0].v, [1.0, -2.0]);
    close(d[0].new_theta, [0.9, -1.8]);
    close(d[1].v, [1.4, -2.8]);
    close(d[1].new_theta, [0.76, -1.52]);
    close(d[2].v, [1.46, -2.92]);
    close(d[2].new_theta, [0.614, -1.228]);
}

#[test]
fn nesterov_lecture_first_steps() {
    // g = grad L(theta - eta beta_m V); V <- beta_m V + (1 - beta_m) g; theta <- theta - eta V;
    // eta 0.1, beta_m 0.5 (so the look-ahead is theta - 0.05 V), g = the look-ahead point:
    // t1: ahead = (1, -2); V = 0.5 (1, -2) = (0.5, -1); theta = (0.95, -1.9)
    // t2: ahead = (0.95 - 0.025, -1.9 + 0.05) = (0.925, -1.85);
    //     V = 0.5 (0.5, -1) + 0.5 (0.925, -1.85) = (0.7125, -1.425);
    //     theta = (0.95 - 0.07125, -1.9 + 0.1425) = (0.87875, -1.7575)
    // t3: ahead = (0.87875 - 0.035625, -1.7575 + 0.07125) = (0.843125, -1.68625);
    //     V = 0.5 (0.7125, -1.425) + 0.5 (0.843125, -1.68625) = (0.7778125, -1.555625);
    //     theta = (0.87875 - 0.07778125, -1.7575 + 0.1555625) = (0.80096875, -1.6019375)
    let d = run(
        OptimizerKind::Nesterov,
        &hp(0.1, 0.5, 0.999, 1e-8, Convention::Lecture),
        [1.0, -2.0],
        3,
        quadratic,
    );
    close(d[0].lookahead.unwrap(), [1.0, -2.0]);
    close(d[0].new_theta, [0.95, -1.9]);
    close(d[1].lookahead.unwrap(), [0.925, -1.85]);
    close(d[1].grad, [0.925, -1.85]);
    close(d[1].v, [0.7125, -1.425]);
    close(d[1].new_theta, [0.87875, -1.7575]);
    close(d[2].lookahead.unwrap(), [0.843125, -1.68625]);
    close(d[2].v, [0.7778125, -1.555625]);
    close(d[2].new_theta, [0.80096875, -1.6019375]);
}

#[test]
fn nesterov_pytorch_first_steps() {
    // V <- beta_m V + g; theta <- theta - eta (g + beta_m V); eta 0.1, beta_m 0.5, g = theta:
    // t1: V = (1, -2); step = -0.1 ((1, -2) + 0.5 (1, -2)) = (-0.15, 0.3); theta = (0.85, -1.7)
    // t2: V = 0.5 (1, -2) + (0.85, -1.7) = (1.35, -2.7);
    //     step = -0.1 ((0.85, -1.7) + (0.675, -1.35)) = (-0.1525, 0.305); theta = (0.6975, -1.395)
    let d = run(
        OptimizerKind::Nesterov,
        &hp(0.1, 0.5, 0.999, 1e-8, Convention::PyTorch),
        [1.0, -2.0],
        2,
        quadratic,
    );
    assert_eq!(d[0].lookahead, None);
    close(d[0].v, [1.0, -2.0]);
    close(d[0].step, [-0.15, 0.3]);
    close(d[0].new_theta, [0.85, -1.7]);
    close(d[1].v, [1.35, -2.7]);
    close(d[1].step, [-0.1525, 0.305]);
    close(d[1].new_theta, [0.6975, -1.395]);
}

#[test]
fn adagrad_first_steps_both_conventions() {
    // s <- s + g^2; theta <- theta - eta g / (sqrt(s) + eps); eta 0.1, eps 1, g = (3, -4):
    // t1: s = (9, 16); sqrt(s) + eps = (4, 5); step = -0.1 (3/4, -4/5) = (-0.075, 0.08);
    //     effective lr = (0.1/4, 0.1/5) = (0.025, 0.02)
    // t2: s = (18, 32); sqrt(s) = (3 sqrt 2, 4 sqrt 2); step = -0.1 (3 / (3 sqrt 2 + 1), -4 / (4 sqrt 2 + 1))
    for convention in [Convention::Lecture, Convention::PyTorch] {
        let d = run(
            OptimizerKind::AdaGrad,
            &hp(0.1, 0.9, 0.999, 1.0, convention),
            [0.0, 0.0],
            2,
            linear,
        );
        close(d[0].s, [9.0, 16.0]);
        close(d[0].step, [-0.075, 0.08]);
        close(d[0].effective_lr, [0.025, 0.02]);
        close(d[0].new_theta, [-0.075, 0.08]);
        close(d[1].s, [18.0, 32.0]);
        let r2 = 2f64.sqrt();
        close(
            d[1].step,
            [-0.1 * 3.0 / (3.0 * r2 + 1.0), 0.1 * 4.0 / (4.0 * r2 + 1.0)],
        );
        close(
            d[1].new_theta,
            [
                -0.075 - 0.1 * 3.0 / (3.0 * r2 + 1.0),
                0.08 + 0.1 * 4.0 / (4.0 * r2 + 1.0),
            ],
        );
    }
}

#[test]
fn rmsprop_first_steps_both_conventions() {
    // s <- beta_r s + (1 - beta_r) g^2; theta <- theta - eta g / (sqrt(s) + eps);
    // eta 0.1, beta_r 0.75, eps 1, g = (3, -4):
    // t1: s = 0.25 (9, 16) = (2.25, 4); sqrt(s) + eps = (2.5, 3); step = -0.1 (3/2.5, -4/3) = (-0.12, 0.4/3)
    // t2: s = 0.75 (2.25, 4) + 0.25 (9, 16) = (3.9375, 7);
    //     step = -0.1 (3 / (sqrt(3.9375) + 1), -4 / (sqrt(7) + 1))
    for convention in [Convention::Lecture, Convention::PyTorch] {
        let d = run(
            OptimizerKind::RmsProp,
            &hp(0.1, 0.9, 0.75, 1.0, convention),
            [0.0, 0.0],
            2,
            linear,
        );
        close(d[0].s, [2.25, 4.0]);
        close(d[0].step, [-0.12, 0.4 / 3.0]);
        close(d[0].effective_lr, [0.1 / 2.5, 0.1 / 3.0]);
        close(d[1].s, [3.9375, 7.0]);
        close(
            d[1].step,
            [
                -0.1 * 3.0 / (3.9375f64.sqrt() + 1.0),
                0.1 * 4.0 / (7f64.sqrt() + 1.0),
            ],
        );
        close(
            d[1].new_theta,
            [
                -0.12 - 0.1 * 3.0 / (3.9375f64.sqrt() + 1.0),
                0.4 / 3.0 + 0.1 * 4.0 / (7f64.sqrt() + 1.0),
            ],
        );
    }
}

#[test]
fn adam_lecture_with_bias_correction() {
    // V <- 0.5 V + 0.5 g; s <- 0.75 s + 0.25 g^2; V_hat = V / (1 - 0.5^t); s_hat = s / (1 - 0.75^t);
    // theta <- theta - eta V_hat / sqrt(s_hat + eps); eta 0.1, eps 0.5, g = (3, -4):
    // t1: V = (1.5, -2), s = (2.25, 4); V_hat = (1.5, -2) / 0.5 = (3, -4); s_hat = (2.25, 4) / 0.25 = (9, 16);
    //     step = -0.1 (3 / sqrt(9.5), -4 / sqrt(16.5))
    // t2: V = 0.5 (1.5, -2) + 0.5 (3, -4) = (2.25, -3); s = 0.75 (2.25, 4) + 0.25 (9, 16) = (3.9375, 7);
    //     V_hat = (2.25, -3) / 0.75 = (3, -4); s_hat = (3.9375, 7) / 0.4375 = (9, 16): the same step
    //     (bias correction makes a constant gradient's averages exact from the first step).
    let d = run(
        OptimizerKind::Adam,
        &hp(0.1, 0.5, 0.75, 0.5, Convention::Lecture),
        [0.0, 0.0],
        2,
        linear,
    );
    let expected = [-0.1 * 3.0 / 9.5f64.sqrt(), 0.1 * 4.0 / 16.5f64.sqrt()];
    close(d[0].v, [1.5, -2.0]);
    close(d[0].s, [2.25, 4.0]);
    close(d[0].v_hat, [3.0, -4.0]);
    close(d[0].s_hat, [9.0, 16.0]);
    close(d[0].step, expected);
    close(
        d[0].effective_lr,
        [0.1 / 9.5f64.sqrt(), 0.1 / 16.5f64.sqrt()],
    );
    close(d[1].v, [2.25, -3.0]);
    close(d[1].s, [3.9375, 7.0]);
    close(d[1].v_hat, [3.0, -4.0]);
    close(d[1].s_hat, [9.0, 16.0]);
    close(d[1].step, expected);
    close(d[1].new_theta, [2.0 * expected[0], 2.0 * expected[1]]);
}

#[test]
fn adam_pytorch_with_bias_correction() {
    // Same averages as above; theta <- theta - eta V_hat / (sqrt(s_hat) + eps), eps 0.5:
    // t1 and t2: V_hat = (3, -4), s_hat = (9, 16); step = -0.1 (3 / 3.5, -4 / 4.5)
    let d = run(
        OptimizerKind::Adam,
        &hp(0.1, 0.5, 0.75, 0.5, Convention::PyTorch),
        [0.0, 0.0],
        2,
        linear,
    );
    let expected = [-0.3 / 3.5, 0.4 / 4.5];
    close(d[0].step, expected);
    close(d[0].effective_lr, [0.1 / 3.5, 0.1 / 4.5]);
    close(d[1].step, expected);
    close(d[1].new_theta, [2.0 * expected[0], 2.0 * expected[1]]);
}

#[test]
fn adam_without_bias_correction_both_conventions() {
    // V_hat = V, s_hat = s; eta 0.1, beta_m 0.5, beta_r 0.75, eps 0.5, g = (3, -4):
    // t1: V = (1.5, -2), s = (2.25, 4);
    //     lecture step = -0.1 (1.5 / sqrt(2.75), -2 / sqrt(4.5)); pytorch = -0.1 (1.5 / 2, -2 / 2.5)
    // t2: V = (2.25, -3), s = (3.9375, 7);
    //     lecture step = -0.1 (2.25 / sqrt(4.4375), -3 / sqrt(7.5));
    //     pytorch = -0.1 (2.25 / (sqrt(3.9375) + 0.5), -3 / (sqrt(7) + 0.5))
    let mut h = hp(0.1, 0.5, 0.75, 0.5, Convention::Lecture);
    h.bias_correction = false;
    let d = run(OptimizerKind::Adam, &h, [0.0, 0.0], 2, linear);
    close(d[0].v_hat, [1.5, -2.0]);
    close(d[0].s_hat, [2.25, 4.0]);
    close(d[0].step, [-0.15 / 2.75f64.sqrt(), 0.2 / 4.5f64.sqrt()]);
    close(d[1].step, [-0.225 / 4.4375f64.sqrt(), 0.3 / 7.5f64.sqrt()]);

    h.convention = Convention::PyTorch;
    let d = run(OptimizerKind::Adam, &h, [0.0, 0.0], 2, linear);
    close(d[0].step, [-0.15 / 2.0, 0.2 / 2.5]);
    close(
        d[1].step,
        [-0.225 / (3.9375f64.sqrt() + 0.5), 0.3 / (7f64.sqrt() + 0.5)],
    );
}

#[test]
fn adam_without_bias_correction_starts_slow() {
    // The lesson: with beta_r = 0.999 the raw s is 1000x too small at t = 1, so without correction
    // the first step is eta (1 - beta_m) / sqrt(1 - beta_r) ~ 3.16 eta per coordinate, with it ~ eta.
    let mut h = Hyperparams::defaults_for(OptimizerKind::Adam);
    h.eps = 0.0;
    let with = run(OptimizerKind::Adam, &h, [0.0, 0.0], 1, linear);
    h.bias_correction = false;
    let without = run(OptimizerKind::Adam, &h, [0.0, 0.0], 1, linear);
    close(with[0].step, [-0.01, 0.01]);
    let k = 0.01 * 0.1 / 0.001f64.sqrt();
    close(without[0].step, [-k, k]);
}

#[test]
fn zero_denominator_gives_zero_step_not_nan() {
    // eps = 0 and a coordinate with zero gradient: the formula is 0/0; the step there is 0.
    let zero_y = |_: Vec2d| [1.0, 0.0];
    for kind in [
        OptimizerKind::AdaGrad,
        OptimizerKind::RmsProp,
        OptimizerKind::Adam,
    ] {
        for convention in [Convention::Lecture, Convention::PyTorch] {
            let h = hp(0.1, 0.9, 0.999, 0.0, convention);
            let mut state = OptimizerState::default();
            let mut g = zero_y;
            let d = step(kind, &h, &mut state, [0.0, 0.0], &mut g, &mut |_| {
                [[0.0; 2]; 2]
            });
            assert!(d.is_finite(), "{kind:?} {convention:?}: {d:?}");
            assert_eq!(d.step[1], 0.0);
            assert!(d.step[0] < 0.0);
        }
    }
}

#[test]
fn conventions_agree_where_the_lecture_says_they_do() {
    // RMSProp, AdaGrad and SGD are the same in both conventions, bit for bit.
    let nontrivial = |p: Vec2d| [p[0] * p[0] + 0.3, -2.0 * p[1] + 1.0];
    for kind in [
        OptimizerKind::Sgd,
        OptimizerKind::AdaGrad,
        OptimizerKind::RmsProp,
    ] {
        let a = run(
            kind,
            &hp(0.05, 0.8, 0.9, 1e-8, Convention::Lecture),
            [0.4, -0.7],
            5,
            nontrivial,
        );
        let b = run(
            kind,
            &hp(0.05, 0.8, 0.9, 1e-8, Convention::PyTorch),
            [0.4, -0.7],
            5,
            nontrivial,
        );
        assert_eq!(a, b, "{kind:?}");
    }
    // ... and Momentum, Nesterov, Adam differ.
    for kind in [
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::Adam,
    ] {
        let a = run(
            kind,
            &hp(0.05, 0.8, 0.9, 0.1, Convention::Lecture),
            [0.4, -0.7],
            3,
            nontrivial,
        );
        let b = run(
            kind,
            &hp(0.05, 0.8, 0.9, 0.1, Convention::PyTorch),
            [0.4, -0.7],
            3,
            nontrivial,
        );
        assert_ne!(a[2].new_theta, b[2].new_theta, "{kind:?}");
    }
}

#[test]
fn defaults_are_the_usual_values() {
    let d = Hyperparams::defaults_for;
    assert_eq!(d(OptimizerKind::Sgd).lr, 0.01);
    assert_eq!(
        (
            d(OptimizerKind::Momentum).lr,
            d(OptimizerKind::Momentum).beta_m
        ),
        (0.01, 0.9)
    );
    assert_eq!(
        (
            d(OptimizerKind::Nesterov).lr,
            d(OptimizerKind::Nesterov).beta_m
        ),
        (0.01, 0.9)
    );
    assert_eq!(
        (d(OptimizerKind::AdaGrad).lr, d(OptimizerKind::AdaGrad).eps),
        (0.1, 1e-8)
    );
    let r = d(OptimizerKind::RmsProp);
    assert_eq!((r.lr, r.beta_r, r.eps), (0.01, 0.99, 1e-8));
    let a = d(OptimizerKind::Adam);
    assert_eq!((a.lr, a.beta_m, a.beta_r, a.eps), (0.01, 0.9, 0.999, 1e-8));
    assert!(a.bias_correction);
    for kind in OptimizerKind::ALL {
        assert_eq!(d(kind).convention, Convention::Lecture);
        assert!(d(kind).validate().is_ok());
    }
}

#[test]
fn validate_refuses_out_of_range_values() {
    let ok = Hyperparams::defaults_for(OptimizerKind::Adam);
    let cases: [(&str, Hyperparams); 9] = [
        ("eta", Hyperparams { lr: 0.0, ..ok }),
        ("eta", Hyperparams { lr: -1.0, ..ok }),
        ("eta", Hyperparams { lr: f64::NAN, ..ok }),
        (
            "eta",
            Hyperparams {
                lr: f64::INFINITY,
                ..ok
            },
        ),
        ("beta_m", Hyperparams { beta_m: 1.0, ..ok }),
        ("beta_m", Hyperparams { beta_m: -0.1, ..ok }),
        ("beta_r", Hyperparams { beta_r: 1.5, ..ok }),
        ("eps", Hyperparams { eps: -1e-9, ..ok }),
        (
            "eps",
            Hyperparams {
                eps: f64::NAN,
                ..ok
            },
        ),
    ];
    for (name, h) in cases {
        let err = h.validate().expect_err(name).to_string();
        assert!(err.contains(name), "{err}");
    }
    assert!(
        Hyperparams {
            beta_m: 0.0,
            beta_r: 0.0,
            eps: 0.0,
            ..ok
        }
        .validate()
        .is_ok()
    );
}

#[test]
fn names_round_trip() {
    assert_eq!(OptimizerKind::NAMES.len(), OptimizerKind::ALL.len());
    for (kind, name) in OptimizerKind::ALL.iter().zip(OptimizerKind::NAMES) {
        assert_eq!(kind.name(), *name);
        assert_eq!(OptimizerKind::from_name(name).unwrap(), *kind);
    }
    assert_eq!(OptimizerKind::RmsProp.label(), "RMSProp");
    assert_eq!(OptimizerKind::AdaGrad.to_string(), "AdaGrad");
    let err = OptimizerKind::from_name("adamax").unwrap_err().to_string();
    assert!(
        err.contains("adamax")
            && err.contains("sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, nadam")
            && err.contains("saddle-free-newton")
    );
    assert_eq!(
        Convention::from_name("pytorch").unwrap(),
        Convention::PyTorch
    );
    assert!(Convention::from_name("keras").is_err());
    assert!(OptimizerKind::Adam.uses_beta_m() && OptimizerKind::Adam.uses_beta_r());
    assert!(!OptimizerKind::Sgd.uses_eps() && OptimizerKind::AdaGrad.is_adaptive());
    assert!(!OptimizerKind::Momentum.uses_beta_r() && OptimizerKind::Nesterov.uses_beta_m());
}
