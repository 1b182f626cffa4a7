//! The optimizers added after the lecture's six (AdamW, NAdam, AMSGrad, Lion, AdaDelta, QHM, QHAdam,
//! Newton, saddle-free Newton): their first steps against values worked out by hand from the formulas
//! (arithmetic in the comments), in both conventions where the kind has two; the learning-rate schedule
//! inside each step; and, on the runner, Newton's attraction to saddles and its singular Hessians. Then
//! (issue 25) the backtracking line search, BFGS, L-BFGS and CG: by hand on a bowl, against an
//! independent implementation of their formulas, the Armijo test at every step, refusals and stops.
//!
//! Test problems, chosen so that the arithmetic stays short:
//! - a constant gradient `g = (3, -4)` (or a list of gradients, one per step) for the adaptive family,
//!   with `eta 0.1, beta_m 0.5, beta_r 0.75, eps 0.5`: then `1 - beta_m = 0.5`, `1 - beta_r^1 = 0.25`,
//!   `1 - beta_r^2 = 0.4375`, and the PyTorch denominators `sqrt(9) + 0.5 = 3.5`, `sqrt(16) + 0.5 = 4.5`;
//! - quadratics `L = 0.5 theta^T A theta` (g = A theta, H = A) for Newton's methods, with `A` chosen so
//!   that `A^-1` and `|A|^-1` have thirds for entries.

use losscape::core::{
    Convention, CurvatureModel, Diagnosis, DivergenceCause, DivergenceReason, Domain, Hyperparams,
    Landscape, LandscapeSpec, OptimizerKind, OptimizerState, RunConfig, RunStatus, Runner,
    Schedule, StepDetail, StepRecord, Vec2d, diagnose, step, step_into,
};

type Mat2 = [[f64; 2]; 2];

const BOTH: [Convention; 2] = [Convention::Lecture, Convention::PyTorch];

/// The new kinds, in `list` order.
const NEW_KINDS: [OptimizerKind; 9] = [
    OptimizerKind::AdamW,
    OptimizerKind::NAdam,
    OptimizerKind::AmsGrad,
    OptimizerKind::Lion,
    OptimizerKind::AdaDelta,
    OptimizerKind::Qhm,
    OptimizerKind::QhAdam,
    OptimizerKind::Newton,
    OptimizerKind::SaddleFreeNewton,
];

/// `kind`'s hyperparameters with `eta, beta_m, beta_r, eps` and `convention` set (the rest: the kind's
/// defaults).
fn hp(
    kind: OptimizerKind,
    lr: f64,
    beta_m: f64,
    beta_r: f64,
    eps: f64,
    convention: Convention,
) -> Hyperparams {
    let h = Hyperparams {
        lr,
        beta_m,
        beta_r,
        eps,
        convention,
        ..Hyperparams::defaults_for(kind)
    };
    h.validate().expect("valid test hyperparameters");
    h
}

/// The adaptive family's usual test values: eta 0.1, beta_m 0.5, beta_r 0.75, eps 0.5.
fn adaptive(kind: OptimizerKind, convention: Convention) -> Hyperparams {
    hp(kind, 0.1, 0.5, 0.75, 0.5, convention)
}

/// `n` steps from `theta0`; `grad(t, theta)` is the gradient of step `t` (1 at the first step),
/// `hessian` the Hessian. Checks that each is evaluated exactly once per step (the Hessian only by
/// Newton's methods).
fn run_with(
    kind: OptimizerKind,
    hp: &Hyperparams,
    theta0: Vec2d,
    n: usize,
    mut grad: impl FnMut(usize, Vec2d) -> Vec2d,
    hessian: impl Fn(Vec2d) -> Mat2,
) -> Vec<StepDetail> {
    let mut state = OptimizerState::default();
    let mut theta = theta0;
    let mut out = Vec::new();
    let (mut grads, mut hessians) = (0, 0);
    for k in 1..=n {
        let d = step(
            kind,
            hp,
            &mut state,
            theta,
            &mut |p| {
                grads += 1;
                grad(k, p)
            },
            &mut |p| {
                hessians += 1;
                hessian(p)
            },
        );
        assert_eq!(d.t, k as u64);
        theta = d.new_theta;
        out.push(d);
    }
    assert_eq!(grads, n, "{kind:?}: one gradient per step");
    let expected = if kind.uses_hessian() { n } else { 0 };
    assert_eq!(hessians, expected, "{kind:?}: Hessians");
    out
}

/// `n` steps under the gradients `grads[t - 1]` (the last one repeats), whatever the position.
fn run(
    kind: OptimizerKind,
    hp: &Hyperparams,
    theta0: Vec2d,
    grads: &[Vec2d],
    n: usize,
) -> Vec<StepDetail> {
    run_with(
        kind,
        hp,
        theta0,
        n,
        |t, _| grads[(t - 1).min(grads.len() - 1)],
        |_| [[0.0; 2]; 2],
    )
}

/// `n` steps on `L = 0.5 theta^T A theta`: `g = A theta`, `H = A`.
fn run_quadratic(
    kind: OptimizerKind,
    hp: &Hyperparams,
    a: Mat2,
    theta0: Vec2d,
    n: usize,
) -> Vec<StepDetail> {
    run_with(kind, hp, theta0, n, |_, p| mul(a, p), move |_| a)
}

fn mul(a: Mat2, p: Vec2d) -> Vec2d {
    [
        a[0][0] * p[0] + a[0][1] * p[1],
        a[1][0] * p[0] + a[1][1] * p[1],
    ]
}

const G: Vec2d = [3.0, -4.0];

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

#[track_caller]
fn close_mat(actual: Option<Mat2>, expected: Mat2) {
    let actual = actual.expect("a matrix");
    close(actual[0], expected[0]);
    close(actual[1], expected[1]);
}

/// `step = -effective_lr * direction` per coordinate (what the panel prints), except for AdamW's and
/// Lion's decoupled decay term `-eta lambda theta`.
#[track_caller]
fn step_is_rate_times_direction(d: &StepDetail, decay: f64) {
    for i in 0..2 {
        let expected = -d.effective_lr[i] * d.direction[i] - d.eta * decay * d.theta[i];
        assert!(
            (d.step[i] - expected).abs() <= 1e-14 * (1.0 + expected.abs()),
            "{d:?}"
        );
    }
    close(
        d.new_theta,
        [d.theta[0] + d.step[0], d.theta[1] + d.step[1]],
    );
}

// ---------------------------------------------------------------------------------------------
// AdamW

#[test]
fn adamw_lecture_first_steps() {
    // Adam's averages, then theta <- theta - eta (V_hat / sqrt(s_hat + eps) + lambda theta);
    // eta 0.1, beta_m 0.5, beta_r 0.75, eps 0.5, lambda 0.1, g = (3, -4), theta_0 = (1, 2):
    // t1: V = 0.5 (3, -4) = (1.5, -2), s = 0.25 (9, 16) = (2.25, 4);
    //     V_hat = (1.5, -2) / 0.5 = (3, -4), s_hat = (2.25, 4) / 0.25 = (9, 16);
    //     step = -0.1 (3 / sqrt(9.5) + 0.1 * 1, -4 / sqrt(16.5) + 0.1 * 2)
    //          = (-0.3 / sqrt(9.5) - 0.01, 0.4 / sqrt(16.5) - 0.02)
    //     theta_1 = (0.99 - 0.3 / sqrt(9.5), 1.98 + 0.4 / sqrt(16.5))
    // t2: V = (2.25, -3), s = (3.9375, 7); V_hat = (2.25, -3) / 0.75 = (3, -4); s_hat = (3.9375, 7) /
    //     0.4375 = (9, 16) (a constant gradient's corrected averages are exact);
    //     step = -0.1 (3 / sqrt(9.5) + 0.1 theta_1x, -4 / sqrt(16.5) + 0.1 theta_1y)
    let mut h = adaptive(OptimizerKind::AdamW, Convention::Lecture);
    h.weight_decay = 0.1;
    let d = run(OptimizerKind::AdamW, &h, [1.0, 2.0], &[G], 2);
    let (rx, ry) = (9.5f64.sqrt(), 16.5f64.sqrt());
    close(d[0].v, [1.5, -2.0]);
    close(d[0].s, [2.25, 4.0]);
    close(d[0].v_hat, [3.0, -4.0]);
    close(d[0].s_hat, [9.0, 16.0]);
    close(d[0].direction, [3.0, -4.0]);
    close(d[0].effective_lr, [0.1 / rx, 0.1 / ry]);
    close(d[0].step, [-0.3 / rx - 0.01, 0.4 / ry - 0.02]);
    let theta1 = [0.99 - 0.3 / rx, 1.98 + 0.4 / ry];
    close(d[0].new_theta, theta1);
    assert_eq!(d[0].eta, 0.1);
    close(d[1].v, [2.25, -3.0]);
    close(d[1].s, [3.9375, 7.0]);
    close(d[1].v_hat, [3.0, -4.0]);
    close(d[1].s_hat, [9.0, 16.0]);
    let step2 = [
        -0.1 * (3.0 / rx + 0.1 * theta1[0]),
        -0.1 * (-4.0 / ry + 0.1 * theta1[1]),
    ];
    close(d[1].step, step2);
    close(d[1].new_theta, [theta1[0] + step2[0], theta1[1] + step2[1]]);
    for x in &d {
        step_is_rate_times_direction(x, 0.1);
        assert_eq!(x.u, [0.0, 0.0]);
        assert_eq!((x.hessian, x.precondition), (None, None));
    }
}

#[test]
fn adamw_pytorch_first_steps() {
    // The same averages; theta <- theta - eta (V_hat / (sqrt(s_hat) + eps) + lambda theta), eps 0.5:
    // t1: step = -0.1 (3 / 3.5 + 0.1 * 1, -4 / 4.5 + 0.1 * 2) = (-0.3/3.5 - 0.01, 0.4/4.5 - 0.02)
    //          = (-0.0957142857..., 0.0688888...); theta_1 = (0.99 - 0.3/3.5, 1.98 + 0.4/4.5)
    //          = (0.9042857142857..., 2.0688888...)
    // t2: step = (-0.3/3.5 - 0.01 theta_1x, 0.4/4.5 - 0.01 theta_1y)
    let mut h = adaptive(OptimizerKind::AdamW, Convention::PyTorch);
    h.weight_decay = 0.1;
    let d = run(OptimizerKind::AdamW, &h, [1.0, 2.0], &[G], 2);
    close(d[0].effective_lr, [0.1 / 3.5, 0.1 / 4.5]);
    close(d[0].step, [-0.3 / 3.5 - 0.01, 0.4 / 4.5 - 0.02]);
    let theta1 = [0.99 - 0.3 / 3.5, 1.98 + 0.4 / 4.5];
    close(d[0].new_theta, theta1);
    close(
        d[0].new_theta,
        [0.904_285_714_285_714_3, 2.068_888_888_888_889],
    );
    let step2 = [-0.3 / 3.5 - 0.01 * theta1[0], 0.4 / 4.5 - 0.01 * theta1[1]];
    close(d[1].step, step2);
    close(d[1].new_theta, [theta1[0] + step2[0], theta1[1] + step2[1]]);
    for x in &d {
        step_is_rate_times_direction(x, 0.1);
    }
}

#[test]
fn adamw_decays_theta_even_without_a_gradient() {
    // g = 0: V = s = 0, V_hat = 0, so only the decay moves: theta <- theta - eta lambda theta
    // = (1 - 0.1 * 0.01) theta = 0.999 theta; theta_0 = (1, 2):
    // t1: (0.999, 1.998); t2: 0.999^2 (1, 2) = (0.998001, 1.996002).
    // Also with eps = 0, where V_hat / sqrt(s_hat) is 0/0 (counted as no step, not NaN).
    for convention in BOTH {
        for eps in [1e-8, 0.0] {
            let h = hp(OptimizerKind::AdamW, 0.1, 0.9, 0.999, eps, convention);
            assert_eq!(h.weight_decay, 0.01, "the default lambda");
            let d = run(OptimizerKind::AdamW, &h, [1.0, 2.0], &[[0.0, 0.0]], 2);
            close(d[0].step, [-0.001, -0.002]);
            close(d[0].new_theta, [0.999, 1.998]);
            close(d[1].new_theta, [0.998001, 1.996002]);
            assert!(d.iter().all(StepDetail::is_finite));
        }
    }
}

#[test]
fn adamw_without_decay_is_adam_and_adam_ignores_the_decay() {
    let g = |_: usize, p: Vec2d| [p[0] * p[0] + 0.3, -2.0 * p[1] + 1.0];
    let z = |_: Vec2d| [[0.0; 2]; 2];
    for convention in BOTH {
        let mut h = hp(OptimizerKind::AdamW, 0.05, 0.8, 0.9, 1e-3, convention);
        h.weight_decay = 0.0;
        let a = run_with(OptimizerKind::AdamW, &h, [0.4, -0.7], 4, g, z);
        h.weight_decay = 0.5;
        let b = run_with(OptimizerKind::Adam, &h, [0.4, -0.7], 4, g, z);
        assert_eq!(a, b, "{convention:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// NAdam

#[test]
fn nadam_first_two_steps_both_conventions() {
    // V and s as Adam; V_hat = beta_m V / (1 - beta_m^(t+1)) + (1 - beta_m) g / (1 - beta_m^t);
    // s_hat = s / (1 - beta_r^t); eta 0.1, beta_m 0.5, beta_r 0.75, eps 0.5, g = (3, -4):
    // t1: V = (1.5, -2); 1 - 0.5^2 = 0.75, 1 - 0.5 = 0.5;
    //     V_hat = 0.5 (1.5, -2) / 0.75 + 0.5 (3, -4) / 0.5 = (1, -4/3) + (3, -4) = (4, -16/3);
    //     s_hat = (9, 16);
    //     lecture: step = -0.1 (4 / sqrt(9.5), -(16/3) / sqrt(16.5))
    //     pytorch: step = -0.1 (4 / 3.5, -(16/3) / 4.5) = (-0.4/3.5, 1.6/13.5)
    // t2: V = (2.25, -3); 1 - 0.5^3 = 0.875, 1 - 0.5^2 = 0.75;
    //     V_hat = 0.5 (2.25, -3) / 0.875 + 0.5 (3, -4) / 0.75 = (9/7, -12/7) + (2, -8/3)
    //           = (23/7, -92/21); s_hat = (9, 16)
    //     lecture: step = -0.1 ((23/7) / sqrt(9.5), -(92/21) / sqrt(16.5))
    //     pytorch: step = -0.1 ((23/7) / 3.5, -(92/21) / 4.5) = (-4.6/49, 18.4/189)
    // (the t+1 term matters: with 1 - beta_m^t in its place, V_hat_x at t1 would be
    // 0.5 * 1.5 / 0.5 + 3 = 4.5, not 4.)
    let (rx, ry) = (9.5f64.sqrt(), 16.5f64.sqrt());
    for convention in BOTH {
        let d = run(
            OptimizerKind::NAdam,
            &adaptive(OptimizerKind::NAdam, convention),
            [0.0, 0.0],
            &[G],
            2,
        );
        close(d[0].v, [1.5, -2.0]);
        close(d[0].s, [2.25, 4.0]);
        close(d[0].v_hat, [4.0, -16.0 / 3.0]);
        close(d[0].s_hat, [9.0, 16.0]);
        close(d[0].direction, [4.0, -16.0 / 3.0]);
        close(d[1].v, [2.25, -3.0]);
        close(d[1].v_hat, [23.0 / 7.0, -92.0 / 21.0]);
        close(d[1].s_hat, [9.0, 16.0]);
        let (s1, s2) = match convention {
            Convention::Lecture => {
                close(d[0].effective_lr, [0.1 / rx, 0.1 / ry]);
                (
                    [-0.4 / rx, 0.1 * (16.0 / 3.0) / ry],
                    [-0.1 * (23.0 / 7.0) / rx, 0.1 * (92.0 / 21.0) / ry],
                )
            }
            Convention::PyTorch => {
                close(d[0].effective_lr, [0.1 / 3.5, 0.1 / 4.5]);
                ([-0.4 / 3.5, 1.6 / 13.5], [-4.6 / 49.0, 18.4 / 189.0])
            }
        };
        close(d[0].step, s1);
        close(d[0].new_theta, s1);
        close(d[1].step, s2);
        close(d[1].new_theta, [s1[0] + s2[0], s1[1] + s2[1]]);
        for x in &d {
            step_is_rate_times_direction(x, 0.0);
        }
    }
}

#[test]
fn nadam_has_its_corrections_built_in() {
    // `bias_correction` does not apply to NAdam (its formula divides by 1 - beta^t anyway).
    assert!(!OptimizerKind::NAdam.uses_bias_correction());
    let mut h = adaptive(OptimizerKind::NAdam, Convention::Lecture);
    let a = run(OptimizerKind::NAdam, &h, [0.0, 0.0], &[G, [1.0, 2.0]], 3);
    h.bias_correction = false;
    let b = run(OptimizerKind::NAdam, &h, [0.0, 0.0], &[G, [1.0, 2.0]], 3);
    assert_eq!(a, b);
}

// ---------------------------------------------------------------------------------------------
// AMSGrad

#[test]
fn amsgrad_keeps_the_largest_corrected_second_moment() {
    // Adam's V_hat, s_hat; s_max <- max(s_max, s_hat); theta <- theta - eta V_hat / sqrt(s_max + eps)
    // (pytorch: / (sqrt(s_max) + eps)); eta 0.1, beta_m 0.5, beta_r 0.75, eps 0.5;
    // g_1 = (3, -4), then g_2 = g_3 = (0.5, -10):
    // t1: V_hat = (3, -4), s_hat = (9, 16), s_max = (9, 16): Adam's first step.
    // t2: V = 0.5 (1.5, -2) + 0.5 (0.5, -10) = (1, -6); V_hat = (1, -6) / 0.75 = (4/3, -8);
    //     s = 0.75 (2.25, 4) + 0.25 (0.25, 100) = (1.75, 28); s_hat = (1.75, 28) / 0.4375 = (4, 64);
    //     s_max = (max(9, 4), max(16, 64)) = (9, 64): x keeps the old maximum, y takes the new one;
    //     lecture: step = -0.1 ((4/3) / sqrt(9.5), -8 / sqrt(64.5))
    //     pytorch: step = -0.1 ((4/3) / 3.5, -8 / 8.5) = (-0.4/10.5, 0.8/8.5)
    //     (Adam would divide x by sqrt(4.5), or 2.5.)
    // t3: s = 0.75 (1.75, 28) + 0.25 (0.25, 100) = (1.375, 46); 1 - 0.75^3 = 0.578125;
    //     s_hat = (1.375, 46) / 0.578125 = (88/37, 2944/37) = (2.378..., 79.567...);
    //     s_max = (9, 2944/37)
    let grads = [G, [0.5, -10.0]];
    for convention in BOTH {
        let h = adaptive(OptimizerKind::AmsGrad, convention);
        let d = run(OptimizerKind::AmsGrad, &h, [0.0, 0.0], &grads, 3);
        close(d[0].v_hat, [3.0, -4.0]);
        close(d[0].s_hat, [9.0, 16.0]);
        close(d[0].u, [9.0, 16.0]);
        close(d[1].v, [1.0, -6.0]);
        close(d[1].s, [1.75, 28.0]);
        close(d[1].v_hat, [4.0 / 3.0, -8.0]);
        close(d[1].s_hat, [4.0, 64.0]);
        close(d[1].u, [9.0, 64.0]);
        close(d[2].s, [1.375, 46.0]);
        close(d[2].s_hat, [88.0 / 37.0, 2944.0 / 37.0]);
        close(d[2].u, [9.0, 2944.0 / 37.0]);
        let (s1, s2) = match convention {
            Convention::Lecture => (
                [-0.3 / 9.5f64.sqrt(), 0.4 / 16.5f64.sqrt()],
                [-0.1 * (4.0 / 3.0) / 9.5f64.sqrt(), 0.8 / 64.5f64.sqrt()],
            ),
            Convention::PyTorch => ([-0.3 / 3.5, 0.4 / 4.5], [-0.4 / 10.5, 0.8 / 8.5]),
        };
        close(d[0].step, s1);
        close(d[1].step, s2);
        close(d[1].new_theta, [s1[0] + s2[0], s1[1] + s2[1]]);
        for x in &d {
            step_is_rate_times_direction(x, 0.0);
        }
        // Adam, on the same gradients, agrees at t1 and differs in x at t2.
        let adam = run(OptimizerKind::Adam, &h, [0.0, 0.0], &grads, 2);
        assert_eq!(adam[0].new_theta, d[0].new_theta);
        assert_eq!(adam[1].step[1], d[1].step[1]);
        assert!(adam[1].step[0].abs() > d[1].step[0].abs());
    }
}

// ---------------------------------------------------------------------------------------------
// Lion

#[test]
fn lion_first_steps_and_the_order_of_its_updates() {
    // c = beta_m V + (1 - beta_m) g; theta <- theta - eta (sign(c) + lambda theta);
    // then V <- beta_r V + (1 - beta_r) g; eta 0.1, beta_m 0.5, beta_r 0.75, lambda 0.1,
    // theta_0 = (1, 2), g_1 = (3, -4), g_2 = (-1, 0):
    // t1: c = 0.5 (3, -4) = (1.5, -2), sign = (1, -1);
    //     step = -0.1 ((1, -1) + 0.1 (1, 2)) = -0.1 (1.1, -0.8) = (-0.11, 0.08); theta_1 = (0.89, 2.08);
    //     V = 0.25 (3, -4) = (0.75, -1)
    // t2: c = 0.5 (0.75, -1) + 0.5 (-1, 0) = (-0.125, -0.5), sign = (-1, -1);
    //     step = -0.1 ((-1, -1) + 0.1 (0.89, 2.08)) = -0.1 (-0.911, -0.792) = (0.0911, 0.0792);
    //     theta_2 = (0.9811, 2.1592); V = 0.75 (0.75, -1) + 0.25 (-1, 0) = (0.3125, -0.75)
    // (Had V been updated with beta_m, or before c, c_x at t2 would be 0.25 > 0 and x would step the
    // other way.)
    for convention in BOTH {
        let mut h = hp(OptimizerKind::Lion, 0.1, 0.5, 0.75, 1e-8, convention);
        h.weight_decay = 0.1;
        let d = run(OptimizerKind::Lion, &h, [1.0, 2.0], &[G, [-1.0, 0.0]], 2);
        close(d[0].v_hat, [1.5, -2.0]);
        assert_eq!(d[0].direction, [1.0, -1.0]);
        close(d[0].step, [-0.11, 0.08]);
        close(d[0].new_theta, [0.89, 2.08]);
        close(d[0].v, [0.75, -1.0]);
        assert_eq!(d[0].effective_lr, [0.1, 0.1]);
        close(d[1].v_hat, [-0.125, -0.5]);
        assert_eq!(d[1].direction, [-1.0, -1.0]);
        close(d[1].step, [0.0911, 0.0792]);
        close(d[1].new_theta, [0.9811, 2.1592]);
        close(d[1].v, [0.3125, -0.75]);
        for x in &d {
            step_is_rate_times_direction(x, 0.1);
            assert_eq!((x.s, x.u), ([0.0; 2], [0.0; 2]));
        }
    }
}

#[test]
fn lion_does_not_move_a_coordinate_whose_interpolation_is_zero() {
    // sign(0) = 0: g = (3, 0), lambda 0 (the default), theta_0 = (1, -2): c = (1.5, 0), sign = (1, 0);
    // x moves by -eta = -0.1 a step, y stays at -2 exactly (f64::signum would give 1 there).
    let h = hp(
        OptimizerKind::Lion,
        0.1,
        0.5,
        0.75,
        1e-8,
        Convention::Lecture,
    );
    assert_eq!(h.weight_decay, 0.0, "Lion's default lambda");
    let d = run(OptimizerKind::Lion, &h, [1.0, -2.0], &[[3.0, 0.0]], 3);
    for (k, x) in d.iter().enumerate() {
        assert_eq!(x.direction, [1.0, 0.0]);
        assert_eq!(x.new_theta[1], -2.0);
        close(x.new_theta, [1.0 - 0.1 * (k + 1) as f64, -2.0]);
    }
    // c = 0 from a momentum that cancels the gradient: V = (1, 1), g = (-1, 3), beta_m 0.5:
    // c = 0.5 (1, 1) + 0.5 (-1, 3) = (0, 2), sign = (0, 1): x does not move.
    let mut state = OptimizerState {
        t: 4,
        v: [1.0, 1.0],
        ..OptimizerState::default()
    };
    let d = step(
        OptimizerKind::Lion,
        &h,
        &mut state,
        [0.5, 0.5],
        &mut |_| [-1.0, 3.0],
        &mut |_| [[0.0; 2]; 2],
    );
    assert_eq!(d.direction, [0.0, 1.0]);
    assert_eq!(d.new_theta[0], 0.5);
    close(d.new_theta, [0.5, 0.4]);
    // V <- 0.75 (1, 1) + 0.25 (-1, 3) = (0.5, 1.5)
    close(state.v, [0.5, 1.5]);
}

// ---------------------------------------------------------------------------------------------
// AdaDelta

#[test]
fn adadelta_first_two_steps() {
    // rho = beta_r; s <- rho s + (1 - rho) g^2; Delta = sqrt(u + eps) / sqrt(s + eps) g;
    // u <- rho u + (1 - rho) Delta^2; theta <- theta - eta Delta;
    // rho 0.5, eps 1, eta 1, g = (4, -24) (so that sqrt(s + 1) is whole at t1), theta_0 = (0, 0):
    // t1: s = 0.5 (16, 576) = (8, 288); sqrt(s + 1) = (3, 17); sqrt(u + 1) = 1;
    //     scale = (1/3, 1/17); Delta = (4/3, -24/17); u = 0.5 (16/9, 576/289) = (8/9, 288/289);
    //     theta_1 = (-4/3, 24/17)
    // t2: s = 0.5 (8, 288) + 0.5 (16, 576) = (12, 432); sqrt(u + 1) = (sqrt(17/9), sqrt(577/289));
    //     scale = (sqrt(17/9) / sqrt(13), sqrt(577/289) / sqrt(433));
    //     Delta_x = 4 sqrt(17) / (3 sqrt(13)), Delta_x^2 = 16 * 17 / (9 * 13) = 272/117;
    //     u_x = 0.5 (8/9) + 0.5 (272/117) = 52/117 + 136/117 = 188/117;
    //     Delta_y = -24 sqrt(577/289) / sqrt(433), Delta_y^2 = 576 * 577 / (289 * 433);
    //     u_y = 144/289 + 288 * 577 / (289 * 433)
    for convention in BOTH {
        let h = hp(OptimizerKind::AdaDelta, 1.0, 0.9, 0.5, 1.0, convention);
        let d = run(OptimizerKind::AdaDelta, &h, [0.0, 0.0], &[[4.0, -24.0]], 2);
        close(d[0].s, [8.0, 288.0]);
        close(d[0].effective_lr, [1.0 / 3.0, 1.0 / 17.0]);
        assert_eq!(
            d[0].direction,
            [4.0, -24.0],
            "direction: g (scaled by effective_lr)"
        );
        close(d[0].step, [-4.0 / 3.0, 24.0 / 17.0]);
        close(d[0].u, [8.0 / 9.0, 288.0 / 289.0]);
        close(d[0].new_theta, [-4.0 / 3.0, 24.0 / 17.0]);
        close(d[1].s, [12.0, 432.0]);
        let scale = [
            (17.0f64 / 9.0).sqrt() / 13f64.sqrt(),
            (577.0f64 / 289.0).sqrt() / 433f64.sqrt(),
        ];
        close(d[1].effective_lr, scale);
        let delta2 = [4.0 * 17f64.sqrt() / (3.0 * 13f64.sqrt()), -24.0 * scale[1]];
        close(d[1].step, [-delta2[0], -delta2[1]]);
        close(
            d[1].u,
            [
                188.0 / 117.0,
                144.0 / 289.0 + 288.0 * 577.0 / (289.0 * 433.0),
            ],
        );
        close(
            d[1].new_theta,
            [-4.0 / 3.0 - delta2[0], 24.0 / 17.0 - delta2[1]],
        );
        for x in &d {
            step_is_rate_times_direction(x, 0.0);
            assert_eq!(x.v, [0.0, 0.0]);
        }
    }
}

#[test]
fn adadelta_eta_scales_the_step_but_not_the_memory_of_steps() {
    // eta 0.5, the rest as above: theta_1 = -0.5 Delta_1 = (-2/3, 12/17), but u = (8/9, 288/289) still
    // (u averages Delta^2, not (eta Delta)^2).
    let h = hp(
        OptimizerKind::AdaDelta,
        0.5,
        0.9,
        0.5,
        1.0,
        Convention::Lecture,
    );
    let d = run(OptimizerKind::AdaDelta, &h, [0.0, 0.0], &[[4.0, -24.0]], 1);
    close(d[0].new_theta, [-2.0 / 3.0, 12.0 / 17.0]);
    close(d[0].u, [8.0 / 9.0, 288.0 / 289.0]);
    close(d[0].effective_lr, [0.5 / 3.0, 0.5 / 17.0]);
    // The defaults: eta 1, rho 0.9, eps 1e-6.
    let defaults = Hyperparams::defaults_for(OptimizerKind::AdaDelta);
    assert_eq!(
        (defaults.lr, defaults.beta_r, defaults.eps),
        (1.0, 0.9, 1e-6)
    );
}

// ---------------------------------------------------------------------------------------------
// QHM

#[test]
fn qhm_first_steps() {
    // V <- beta_m V + (1 - beta_m) g; theta <- theta - eta ((1 - nu) g + nu V);
    // eta 0.1, beta_m 0.5, nu 0.7, g = (3, -4), theta_0 = (0, 0):
    // t1: V = (1.5, -2); mix = 0.3 (3, -4) + 0.7 (1.5, -2) = (0.9 + 1.05, -1.2 - 1.4) = (1.95, -2.6);
    //     step = (-0.195, 0.26)
    // t2: V = 0.5 (1.5, -2) + 0.5 (3, -4) = (2.25, -3);
    //     mix = (0.9 + 1.575, -1.2 - 2.1) = (2.475, -3.3); step = (-0.2475, 0.33);
    //     theta_2 = (-0.4425, 0.59)
    for convention in BOTH {
        let h = hp(OptimizerKind::Qhm, 0.1, 0.5, 0.999, 1e-8, convention);
        assert_eq!(h.nu, 0.7, "the default nu");
        let d = run(OptimizerKind::Qhm, &h, [0.0, 0.0], &[G], 2);
        close(d[0].v, [1.5, -2.0]);
        close(d[0].direction, [1.95, -2.6]);
        close(d[0].step, [-0.195, 0.26]);
        close(d[1].v, [2.25, -3.0]);
        close(d[1].direction, [2.475, -3.3]);
        close(d[1].step, [-0.2475, 0.33]);
        close(d[1].new_theta, [-0.4425, 0.59]);
        for x in &d {
            assert_eq!(x.effective_lr, [0.1, 0.1]);
            step_is_rate_times_direction(x, 0.0);
        }
    }
}

#[test]
fn qhm_at_the_ends_of_nu_is_sgd_and_lecture_momentum() {
    // nu = 0: (1 - 0) g + 0 V = g, SGD; nu = 1: V, the lecture's (EMA) momentum. Bit for bit.
    let g = |_: usize, p: Vec2d| [p[0] * p[0] + 0.3, -2.0 * p[1] + 1.0];
    let z = |_: Vec2d| [[0.0; 2]; 2];
    let position = |d: &[StepDetail]| d.iter().map(|x| x.new_theta).collect::<Vec<_>>();
    let mut h = hp(
        OptimizerKind::Qhm,
        0.05,
        0.8,
        0.999,
        1e-8,
        Convention::Lecture,
    );
    h.nu = 0.0;
    let qhm = run_with(OptimizerKind::Qhm, &h, [0.4, -0.7], 5, g, z);
    let sgd = run_with(OptimizerKind::Sgd, &h, [0.4, -0.7], 5, g, z);
    assert_eq!(position(&qhm), position(&sgd));
    h.nu = 1.0;
    let qhm = run_with(OptimizerKind::Qhm, &h, [0.4, -0.7], 5, g, z);
    let momentum = run_with(OptimizerKind::Momentum, &h, [0.4, -0.7], 5, g, z);
    assert_eq!(position(&qhm), position(&momentum));
}

// ---------------------------------------------------------------------------------------------
// QHAdam

#[test]
fn qhadam_first_two_steps_both_conventions() {
    // Adam's V_hat, s_hat; theta <- theta - eta ((1 - nu1) g + nu1 V_hat) / sqrt((1 - nu2) g^2 + nu2 s_hat
    // + eps) (pytorch: / (sqrt((1 - nu2) g^2 + nu2 s_hat) + eps)); eta 0.1, beta_m 0.5, beta_r 0.75,
    // eps 0.5, nu1 0.7, nu2 0.2; g_1 = (3, -4), g_2 = (0.5, -10):
    // t1: V_hat = g = (3, -4), s_hat = g^2 = (9, 16) (always so at t1), so mix = (3, -4) and the
    //     second moment = (9, 16): Adam's first step,
    //     lecture (-0.3 / sqrt(9.5), 0.4 / sqrt(16.5)), pytorch (-0.3 / 3.5, 0.4 / 4.5)
    // t2: V_hat = (4/3, -8), s_hat = (4, 64) (as for AMSGrad above);
    //     mix = 0.3 (0.5, -10) + 0.7 (4/3, -8) = (0.15 + 14/15, -3 - 5.6) = (13/12, -8.6);
    //     second = 0.8 (0.25, 100) + 0.2 (4, 64) = (0.2 + 0.8, 80 + 12.8) = (1, 92.8);
    //     lecture: denominators (sqrt(1.5), sqrt(93.3));
    //     pytorch: (1 + 0.5, sqrt(92.8) + 0.5) = (1.5, sqrt(92.8) + 0.5),
    //              step_x = -0.1 (13/12) / 1.5 = -13/180
    let grads = [G, [0.5, -10.0]];
    for convention in BOTH {
        let mut h = adaptive(OptimizerKind::QhAdam, convention);
        h.nu = 0.7;
        h.nu2 = 0.2;
        let d = run(OptimizerKind::QhAdam, &h, [0.0, 0.0], &grads, 2);
        close(d[0].v_hat, [3.0, -4.0]);
        close(d[0].s_hat, [9.0, 16.0]);
        close(d[0].direction, [3.0, -4.0]);
        close(d[1].v_hat, [4.0 / 3.0, -8.0]);
        close(d[1].s_hat, [4.0, 64.0]);
        close(d[1].direction, [13.0 / 12.0, -8.6]);
        let (s1, denom2) = match convention {
            Convention::Lecture => (
                [-0.3 / 9.5f64.sqrt(), 0.4 / 16.5f64.sqrt()],
                [1.5f64.sqrt(), 93.3f64.sqrt()],
            ),
            Convention::PyTorch => ([-0.3 / 3.5, 0.4 / 4.5], [1.5, 92.8f64.sqrt() + 0.5]),
        };
        close(d[0].step, s1);
        close(d[1].effective_lr, [0.1 / denom2[0], 0.1 / denom2[1]]);
        let s2 = [-0.1 * (13.0 / 12.0) / denom2[0], 0.86 / denom2[1]];
        close(d[1].step, s2);
        if convention == Convention::PyTorch {
            close(d[1].step, [-13.0 / 180.0, 0.86 / (92.8f64.sqrt() + 0.5)]);
        }
        close(d[1].new_theta, [s1[0] + s2[0], s1[1] + s2[1]]);
        for x in &d {
            step_is_rate_times_direction(x, 0.0);
        }
        let adam = run(OptimizerKind::Adam, &h, [0.0, 0.0], &grads, 1);
        close(adam[0].new_theta, d[0].new_theta);
    }
}

#[test]
fn qhadam_with_both_nus_at_one_is_adam() {
    // nu1 = nu2 = 1: the mix is V_hat and the second moment s_hat, bit for bit Adam.
    let g = |_: usize, p: Vec2d| [p[0] * p[0] + 0.3, -2.0 * p[1] + 1.0];
    let z = |_: Vec2d| [[0.0; 2]; 2];
    for convention in BOTH {
        let mut h = hp(OptimizerKind::QhAdam, 0.05, 0.8, 0.9, 1e-3, convention);
        h.nu = 1.0;
        h.nu2 = 1.0;
        let a = run_with(OptimizerKind::QhAdam, &h, [0.4, -0.7], 5, g, z);
        let b = run_with(OptimizerKind::Adam, &h, [0.4, -0.7], 5, g, z);
        assert_eq!(a, b, "{convention:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Newton and saddle-free Newton

/// `A = [[2, 1], [1, 2]]`: eigenvalues 1 and 3, det 3, `A^-1 = [[2, -1], [-1, 2]] / 3`.
const SPD: Mat2 = [[2.0, 1.0], [1.0, 2.0]];

#[test]
fn newton_first_steps() {
    // theta <- theta - eta H^-1 g on L = 0.5 theta^T A theta, theta_0 = (1, 2):
    // g = A theta_0 = (2 + 2, 1 + 4) = (4, 5); H^-1 g = ((8 - 5)/3, (-4 + 10)/3) = (1, 2) = theta_0.
    // eta 1: theta_1 = (0, 0), the minimum in one step.
    // eta 0.5: theta_1 = (0.5, 1); g = (2, 2.5), H^-1 g = (0.5, 1); theta_2 = (0.25, 0.5).
    let inverse = [[2.0 / 3.0, -1.0 / 3.0], [-1.0 / 3.0, 2.0 / 3.0]];
    for convention in BOTH {
        for kind in [OptimizerKind::Newton, OptimizerKind::SaddleFreeNewton] {
            let h = hp(kind, 1.0, 0.9, 0.999, 1e-8, convention);
            assert_eq!(Hyperparams::defaults_for(kind).lr, 1.0, "the full step");
            let d = run_quadratic(kind, &h, SPD, [1.0, 2.0], 1);
            close_mat(d[0].hessian, SPD);
            close_mat(d[0].precondition, inverse);
            close(d[0].grad, [4.0, 5.0]);
            close(d[0].direction, [1.0, 2.0]);
            close(d[0].new_theta, [0.0, 0.0]);
            assert_eq!(d[0].effective_lr, [1.0, 1.0]);

            let h = hp(kind, 0.5, 0.9, 0.999, 1e-8, convention);
            let d = run_quadratic(kind, &h, SPD, [1.0, 2.0], 2);
            close(d[0].new_theta, [0.5, 1.0]);
            close(d[1].grad, [2.0, 2.5]);
            close(d[1].direction, [0.5, 1.0]);
            close(d[1].new_theta, [0.25, 0.5]);
            for x in &d {
                assert_eq!(x.eta, 0.5);
                assert_eq!(x.effective_lr, [0.5, 0.5]);
                assert_eq!((x.v, x.s, x.u), ([0.0; 2], [0.0; 2], [0.0; 2]));
                step_is_rate_times_direction(x, 0.0);
            }
        }
    }
    // On a convex quadratic |H| = H: the two are the same, bit for bit.
    let h = hp(
        OptimizerKind::Newton,
        0.7,
        0.9,
        0.999,
        1e-8,
        Convention::Lecture,
    );
    assert_eq!(
        run_quadratic(OptimizerKind::Newton, &h, SPD, [1.0, -3.0], 3),
        run_quadratic(OptimizerKind::SaddleFreeNewton, &h, SPD, [1.0, -3.0], 3)
    );
}

#[test]
fn newton_steps_onto_a_saddle_and_saddle_free_newton_away_from_it() {
    // A = diag(2, -1), theta_0 = (1, 2): g = (2, -2).
    // Newton: H^-1 g = (2/2, -2/-1) = (1, 2): theta_1 = (0, 0), the saddle.
    // Saddle-free: |H|^-1 = diag(1/2, 1), |H|^-1 g = (1, -2): theta_1 = (0, 4), downhill in y.
    let a = [[2.0, 0.0], [0.0, -1.0]];
    let h = hp(
        OptimizerKind::Newton,
        1.0,
        0.9,
        0.999,
        1e-8,
        Convention::Lecture,
    );
    let newton = run_quadratic(OptimizerKind::Newton, &h, a, [1.0, 2.0], 1);
    close_mat(newton[0].precondition, [[0.5, 0.0], [0.0, -1.0]]);
    close(newton[0].direction, [1.0, 2.0]);
    close(newton[0].new_theta, [0.0, 0.0]);
    let free = run_quadratic(OptimizerKind::SaddleFreeNewton, &h, a, [1.0, 2.0], 1);
    close_mat(free[0].precondition, [[0.5, 0.0], [0.0, 1.0]]);
    close(free[0].direction, [1.0, -2.0]);
    close(free[0].new_theta, [0.0, 4.0]);

    // A rotated saddle: A = [[1, 2], [2, 1]], eigenvalues 3 along (1, 1)/sqrt 2 and -1 along (1, -1)/sqrt 2;
    // A^-1 = [[1, -2], [-2, 1]] / (1 - 4) = [[-1/3, 2/3], [2/3, -1/3]];
    // |A| = 3 (1, 1)(1, 1)^T / 2 + 1 (1, -1)(1, -1)^T / 2 = [[2, 1], [1, 2]], |A|^-1 = [[2, -1], [-1, 2]] / 3.
    // theta_0 = (1, 0): g = (1, 2), L_0 = 0.5.
    // Newton: A^-1 g = (-1/3 + 4/3, 2/3 - 2/3) = (1, 0): theta_1 = (0, 0), the saddle.
    // Saddle-free: |A|^-1 g = ((2 - 2)/3, (-1 + 4)/3) = (0, 1): theta_1 = (1, -1),
    //   L_1 = 0.5 (1 + 1 - 4) = -1 < L_0.
    let a = [[1.0, 2.0], [2.0, 1.0]];
    let newton = run_quadratic(OptimizerKind::Newton, &h, a, [1.0, 0.0], 1);
    close_mat(
        newton[0].precondition,
        [[-1.0 / 3.0, 2.0 / 3.0], [2.0 / 3.0, -1.0 / 3.0]],
    );
    close(newton[0].new_theta, [0.0, 0.0]);
    let free = run_quadratic(OptimizerKind::SaddleFreeNewton, &h, a, [1.0, 0.0], 1);
    close_mat(
        free[0].precondition,
        [[2.0 / 3.0, -1.0 / 3.0], [-1.0 / 3.0, 2.0 / 3.0]],
    );
    close(free[0].direction, [0.0, 1.0]);
    close(free[0].new_theta, [1.0, -1.0]);
    for convention in BOTH {
        let h = Hyperparams { convention, ..h };
        assert_eq!(
            run_quadratic(OptimizerKind::SaddleFreeNewton, &h, a, [1.0, 0.0], 2),
            run_quadratic(
                OptimizerKind::SaddleFreeNewton,
                &Hyperparams {
                    convention: Convention::Lecture,
                    ..h
                },
                a,
                [1.0, 0.0],
                2
            )
        );
    }
}

#[test]
fn a_singular_hessian_gives_no_precondition_and_is_flagged() {
    // H = diag(2, 0): no inverse. The step is not a number the runner could accept, and says why.
    for kind in [OptimizerKind::Newton, OptimizerKind::SaddleFreeNewton] {
        for singular in [
            [[2.0, 0.0], [0.0, 0.0]],
            [[1.0, 1.0], [1.0, 1.0]],
            [[0.0; 2]; 2],
        ] {
            let h = Hyperparams::defaults_for(kind);
            let d = run_with(
                kind,
                &h,
                [1.0, 1.0],
                1,
                |_, _| [2.0, 1.0],
                move |_| singular,
            );
            assert_eq!(d[0].precondition, None, "{kind:?} {singular:?}");
            assert!(d[0].singular_hessian());
            assert!(!d[0].is_finite());
        }
        // ... but a non-finite Hessian is not "singular": it is a non-finite update.
        let h = Hyperparams::defaults_for(kind);
        let d = run_with(
            kind,
            &h,
            [1.0, 1.0],
            1,
            |_, _| [2.0, 1.0],
            |_| [[f64::NAN, 0.0], [0.0, 1.0]],
        );
        assert!(!d[0].singular_hessian() && !d[0].is_finite());
    }
}

// ---------------------------------------------------------------------------------------------
// Schedules inside the step

#[test]
fn every_new_kind_steps_with_the_scheduled_eta() {
    // warmup-cosine:4:10: f(0) = 0, f(1) = 1/4, f(2) = 1/2, f(3) = 3/4, f(4) = 1, then the cosine over
    // 10 - 4 = 6 steps: f(5) = (1 + cos(pi/6))/2 = (1 + sqrt(3)/2)/2 = 0.9330...: the first step has
    // eta_1 = 0 and does not move (the state still advances: t = 1). Every step equals the step with a
    // constant eta = eta_t from the same state, bit for bit.
    let schedule = Schedule::WarmupCosine {
        warmup: 4,
        steps: 10,
        alpha: 0.0,
    };
    let grad = |p: Vec2d| [2.0 * p[0] + p[1] + 0.5, p[0] + 2.0 * p[1] - 1.0];
    for kind in NEW_KINDS {
        for convention in BOTH {
            let mut h = Hyperparams::defaults_for(kind);
            h.lr = 0.2;
            h.weight_decay = 0.05;
            h.convention = convention;
            h.schedule = schedule;
            let mut state = OptimizerState::default();
            let mut theta = [0.7, -1.3];
            for t in 1..=6u64 {
                let before = state.clone();
                let d = step(kind, &h, &mut state, theta, &mut |p| grad(p), &mut |_| SPD);
                let f5 = (1.0 + 3f64.sqrt() / 2.0) / 2.0;
                let expected_eta = 0.2 * [0.0, 0.25, 0.5, 0.75, 1.0, f5][t as usize - 1];
                assert!(
                    (d.eta - expected_eta).abs() < 1e-15,
                    "{kind:?} t{t}: {}",
                    d.eta
                );
                let mut plain_state = before;
                let plain = Hyperparams {
                    lr: h.lr_at(t),
                    schedule: Schedule::Constant,
                    ..h
                };
                if t > 1 {
                    let p = step(
                        kind,
                        &plain,
                        &mut plain_state,
                        theta,
                        &mut |p| grad(p),
                        &mut |_| SPD,
                    );
                    assert_eq!(p, d, "{kind:?} {convention:?} t{t}");
                    assert_eq!(plain_state, state);
                } else {
                    assert_eq!(d.eta, 0.0);
                    assert_eq!(d.new_theta, theta, "{kind:?}: eta_1 = 0 does not move");
                    assert_eq!(state.t, 1);
                }
                theta = d.new_theta;
            }
        }
    }
}

#[test]
fn step_schedules_halve_the_step_by_hand() {
    // Lion, step:1:0.5, eta 0.1, g = (3, -4) constant, lambda 0: sign(c) = (1, -1) every step;
    // eta_t = 0.1, 0.05, 0.025: theta_3 = -(0.1 + 0.05 + 0.025) (1, -1) = (-0.175, 0.175).
    let mut h = hp(
        OptimizerKind::Lion,
        0.1,
        0.5,
        0.75,
        1e-8,
        Convention::Lecture,
    );
    h.schedule = "step:1:0.5".parse().unwrap();
    let d = run(OptimizerKind::Lion, &h, [0.0, 0.0], &[G], 3);
    assert_eq!(
        d.iter().map(|x| x.eta).collect::<Vec<_>>(),
        [0.1, 0.05, 0.025]
    );
    close(d[2].new_theta, [-0.175, 0.175]);

    // Newton on L = 0.5 theta^T A theta, eta 0.5, step:1:0.5: theta <- (1 - eta_t) theta (H^-1 g = theta);
    // eta_t = 0.5, 0.25, 0.125: theta_3 = 0.5 * 0.75 * 0.875 (1, 2) = 0.328125 (1, 2) = (0.328125, 0.65625).
    let mut h = hp(
        OptimizerKind::Newton,
        0.5,
        0.9,
        0.999,
        1e-8,
        Convention::Lecture,
    );
    h.schedule = Schedule::Step {
        every: 1,
        gamma: 0.5,
    };
    let d = run_quadratic(OptimizerKind::Newton, &h, SPD, [1.0, 2.0], 3);
    close(d[2].new_theta, [0.328125, 0.65625]);

    // QHM, step:2:0.5, eta 0.1, beta_m 0.5, nu 0.7, g = (3, -4): the mixes are (1.95, -2.6),
    // (2.475, -3.3) (above), then V_3 = (2.625, -3.5), mix_3 = (0.9 + 1.8375, -1.2 - 2.45)
    // = (2.7375, -3.65); eta_t = 0.1, 0.1, 0.05:
    // theta_3 = -(0.195 + 0.2475 + 0.136875, -0.26 - 0.33 - 0.1825) = (-0.579375, 0.7725)
    let mut h = hp(
        OptimizerKind::Qhm,
        0.1,
        0.5,
        0.999,
        1e-8,
        Convention::Lecture,
    );
    h.nu = 0.7;
    h.schedule = "step:2:0.5".parse().unwrap();
    let d = run(OptimizerKind::Qhm, &h, [0.0, 0.0], &[G], 3);
    close(d[2].v, [2.625, -3.5]);
    close(d[2].direction, [2.7375, -3.65]);
    assert_eq!(d[2].eta, 0.05);
    close(d[2].new_theta, [-0.579375, 0.7725]);
}

// ---------------------------------------------------------------------------------------------
// On the runner: saddles and singular Hessians

fn landscape(spec: LandscapeSpec) -> Landscape {
    Landscape::new(spec).expect("a valid landscape")
}

fn saddle_valleys() -> Landscape {
    landscape(LandscapeSpec::from_name("saddle-valleys").unwrap())
}

fn config(kind: OptimizerKind, lr: f64, start: Vec2d) -> RunConfig {
    let mut c = RunConfig::new(kind, start);
    c.hyper.lr = lr;
    c
}

/// Runs to the end (at most `steps`), returning every accepted row (start first) and the runner.
fn run_runner(
    land: &Landscape,
    config: RunConfig,
    steps: u64,
) -> (Vec<StepRecord>, Runner<&Landscape>) {
    let mut runner = Runner::new(land, config).expect("a valid run");
    let mut rows = vec![runner.record()];
    for _ in 0..steps {
        match runner.step() {
            Some(r) => rows.push(r),
            None => break,
        }
    }
    (rows, runner)
}

#[test]
fn newton_is_attracted_to_the_saddle_of_saddle_valleys() {
    // L = x^2 + (y^2 - 1)^2, g = (2x, 4y(y^2 - 1)), H = diag(2, 12y^2 - 4); saddle (0, 0) with L = 1,
    // minima (0, +-1) with L = 0. From (-1.5, 0.3): g = (-3, 4 * 0.3 * (0.09 - 1)) = (-3, -1.092),
    // H = diag(2, 1.08 - 4) = diag(2, -2.92).
    // Newton, eta 1: x_1 = -1.5 - (-3)/2 = 0; y_1 = 0.3 - (-1.092)/(-2.92) = 0.3 - 0.37397... = -0.07397...
    // then y <- y - y (y^2 - 1) / (3y^2 - 1) = 2y^3 / (3y^2 - 1): cubic convergence onto y = 0.
    // Saddle-free, eta 1: y_1 = 0.3 - (-1.092)/|-2.92| = 0.67397..., where H_yy > 0 (y^2 > 1/3): plain
    // Newton from there on, into the valley y = 1.
    let land = saddle_valleys();
    let start = [-1.5, 0.3];
    let (rows, runner) = run_runner(&land, config(OptimizerKind::Newton, 1.0, start), 100);
    close(rows[1].pos, [0.0, 0.3 - 1.092 / 2.92]);
    assert!(
        matches!(runner.status(), RunStatus::Converged { .. }),
        "{:?}",
        runner.status()
    );
    let end = runner.position();
    assert!(
        end[0].abs() < 1e-9 && end[1].abs() < 1e-6,
        "Newton ends at the saddle: {end:?}"
    );
    assert!((runner.loss() - 1.0).abs() < 1e-9);

    let (rows, runner) = run_runner(
        &land,
        config(OptimizerKind::SaddleFreeNewton, 1.0, start),
        100,
    );
    close(rows[1].pos, [0.0, 0.3 + 1.092 / 2.92]);
    assert!(
        matches!(runner.status(), RunStatus::Converged { .. }),
        "{:?}",
        runner.status()
    );
    let end = runner.position();
    assert!(
        end[0].abs() < 1e-9 && (end[1] - 1.0).abs() < 1e-6,
        "into a valley: {end:?}"
    );
    assert!(runner.loss() < 1e-12);

    // With eta 0.5 too: Newton halves y near 0 (H^-1 g ~ y) onto the saddle; saddle-free escapes.
    let (_, runner) = run_runner(&land, config(OptimizerKind::Newton, 0.5, start), 500);
    assert!(
        matches!(runner.status(), RunStatus::Converged { .. }),
        "{:?}",
        runner.status()
    );
    let end = runner.position();
    assert!(end.iter().all(|c| c.abs() < 1e-6), "{end:?}");
    let (_, runner) = run_runner(
        &land,
        config(OptimizerKind::SaddleFreeNewton, 0.5, start),
        500,
    );
    assert!(
        matches!(runner.status(), RunStatus::Converged { .. }),
        "{:?}",
        runner.status()
    );
    let end = runner.position();
    assert!(
        end[0].abs() < 1e-6 && (end[1].abs() - 1.0).abs() < 1e-6,
        "{end:?}"
    );

    // Plain gradient descent escapes as well: y <- y (1 + 4 eta (1 - y^2)) grows away from 0.
    let (_, runner) = run_runner(&land, config(OptimizerKind::Sgd, 0.05, start), 5000);
    assert!(
        matches!(runner.status(), RunStatus::Converged { .. }),
        "{:?}",
        runner.status()
    );
    let end = runner.position();
    assert!(
        end[0].abs() < 1e-6 && (end[1] - 1.0).abs() < 1e-6,
        "{end:?}"
    );
}

#[track_caller]
fn assert_singular_end(land: &Landscape, kind: OptimizerKind, lr: f64, start: Vec2d, at: u64) {
    let (rows, runner) = run_runner(land, config(kind, lr, start), 50);
    assert_eq!(
        runner.status(),
        RunStatus::Diverged {
            step: at,
            reason: DivergenceReason::SingularHessian
        },
        "{kind:?}"
    );
    assert_eq!(rows.len() as u64, at, "{kind:?}: the accepted rows");
    for r in &rows {
        assert!(
            r.pos
                .iter()
                .chain(&r.grad)
                .chain([&r.loss])
                .all(|v| v.is_finite()),
            "{r:?}"
        );
    }
    assert_eq!(
        runner.position(),
        rows.last().unwrap().pos,
        "stays at the last good row"
    );
    assert_eq!(
        runner.state().t,
        at - 1,
        "the refused step's state is rolled back"
    );
    let Some(Diagnosis {
        cause,
        diverged_at,
        text,
        ..
    }) = diagnose(
        land,
        runner.config(),
        &rows,
        runner.status(),
        runner.state(),
    )
    else {
        panic!("{kind:?}: a diagnosis");
    };
    assert_eq!(cause, DivergenceCause::SingularHessian, "{kind:?}: {text}");
    assert_eq!(diverged_at, at);
    assert!(text.contains("singular"), "{text}");
}

#[test]
fn a_singular_hessian_ends_newtons_run_as_diverged() {
    // L = x^2 + y: H = diag(2, 0) everywhere, g = (2x, 1) never 0: the first step is refused.
    let flat = landscape(LandscapeSpec::formula("x^2 + y", Domain::square(2.0)));
    for kind in [OptimizerKind::Newton, OptimizerKind::SaddleFreeNewton] {
        assert_singular_end(&flat, kind, 1.0, [1.0, 1.0], 1);
    }
    // L = x^2 + y^3 + y: g = (2x, 3y^2 + 1), H = diag(2, 6y), singular on y = 0. From (1, 1) with
    // eta 1.5: H^-1 g = (2/2, 4/6) = (1, 2/3), theta_1 = (1 - 1.5, 1 - 1.5 * 2/3) = (-0.5, 0): the
    // second step meets H = diag(2, 0) (g_y = 1, no convergence there) and is refused.
    let inflection = landscape(LandscapeSpec::formula("x^2 + y^3 + y", Domain::square(2.0)));
    for kind in [OptimizerKind::Newton, OptimizerKind::SaddleFreeNewton] {
        assert_singular_end(&inflection, kind, 1.5, [1.0, 1.0], 2);
        let (rows, _) = run_runner(&inflection, config(kind, 1.5, [1.0, 1.0]), 50);
        close(rows[1].pos, [-0.5, 0.0]);
    }
    // The gradient methods do not need H and keep going.
    let (_, runner) = run_runner(&flat, config(OptimizerKind::Sgd, 0.1, [1.0, 1.0]), 5);
    assert_eq!(runner.status(), RunStatus::Running);
}

// ---------------------------------------------------------------------------------------------
// Line searches and quasi-Newton (issue 25): BFGS, L-BFGS, CG and the backtracking (Armijo) search

/// `L = x² + 3y²` (g = (2x, 6y), H = A = diag(2, 6)), written with products so that every value at the
/// dyadic points below is exact.
fn bowl() -> Landscape {
    landscape(LandscapeSpec::formula("x*x + 3*y*y", Domain::square(4.0)))
}

/// The kinds a line search can choose the steps of (with the one reference implementation below).
const SEARCHED: [OptimizerKind; 5] = [
    OptimizerKind::Sgd,
    OptimizerKind::Newton,
    OptimizerKind::Bfgs,
    OptimizerKind::Lbfgs,
    OptimizerKind::Cg,
];

fn searching(kind: OptimizerKind, start: Vec2d) -> RunConfig {
    let mut c = RunConfig::new(kind, start);
    c.hyper.line_search.armijo = true;
    c
}

/// Every step of `config` on `l` (up to `n`), with its detail.
fn details(
    l: &Landscape,
    config: RunConfig,
    n: usize,
) -> (Vec<StepRecord>, Vec<StepDetail>, RunStatus) {
    let mut runner = Runner::new(l, config).expect("a valid run");
    let (mut rows, mut details) = (vec![runner.record()], Vec::new());
    for _ in 0..n {
        let Some(row) = runner.step() else { break };
        rows.push(row);
        details.push(runner.last_detail().unwrap().clone());
    }
    (rows, details, runner.status())
}

/// The trials' step lengths and losses.
fn trials(d: &StepDetail) -> Vec<(f64, f64)> {
    d.trials.iter().map(|t| (t.alpha, t.loss)).collect()
}

/// CG (PR+) on the bowl from (3, 1), by hand (c = 1e-4, ρ = 0.5, η = 1; L(θ₀) = 12):
/// 1. g₀ = (6, 6), p₀ = −g₀, gᵀp = −72. α = 1 → (−3, −5), L = 84; α = ½ → (0, −2), L = 12 > 12 − 0.0036;
///    α = ¼ → (1.5, −0.5), L = 3: accepted (the exact line minimum gᵀg/gᵀAg = 72/288 = ¼).
/// 2. g₁ = (3, −3); β = g₁ᵀ(g₁ − g₀)/|g₀|² = (−9 + 27)/72 = ¼; p₁ = −g₁ + ¼ p₀ = (−4.5, 1.5), gᵀp = −18.
///    α = 1 → (−3, 1), L = 12 > 3; α = ½ → (−0.75, 0.25), L = 0.75 <= 3 − 0.0009: accepted. (The exact
///    line minimum is α = ⅓, which would end at the minimum: backtracking is not an exact search, so
///    CG does not finish in two steps here.)
/// 3. g₂ = (−1.5, 1.5); β = ((−1.5)(−4.5) + 1.5 · 4.5)/18 = ¾; −g₂ + ¾ p₁ = (−1.875, −0.375) has
///    gᵀp = 2.25 >= 0: restart with p = −g₂ = (1.5, −1.5), gᵀp = −4.5. α = 1 → (0.75, −1.25), L = 5.25;
///    α = ½ → (0, −0.5), L = 0.75 > 0.75 − 0.000225; α = ¼ → (−0.375, −0.125), L = 0.1875: accepted.
///
/// Evaluations: 1 + 3 + 2 + 3 = 9.
#[test]
fn cg_on_a_bowl_by_hand_with_its_restart() {
    let (rows, d, status) = details(&bowl(), RunConfig::new(OptimizerKind::Cg, [3.0, 1.0]), 3);
    assert_eq!(status, RunStatus::Running);
    let pos: Vec<Vec2d> = rows.iter().map(|r| r.pos).collect();
    assert_eq!(
        pos,
        [[3.0, 1.0], [1.5, -0.5], [-0.75, 0.25], [-0.375, -0.125]]
    );
    let evals: Vec<u64> = rows.iter().map(|r| r.evals).collect();
    assert_eq!(evals, [1, 4, 6, 9]);
    assert_eq!(trials(&d[0]), [(1.0, 84.0), (0.5, 12.0), (0.25, 3.0)]);
    assert_eq!(trials(&d[1]), [(1.0, 12.0), (0.5, 0.75)]);
    assert_eq!(trials(&d[2]), [(1.0, 5.25), (0.5, 0.75), (0.25, 0.1875)]);
    assert_eq!([d[0].slope, d[1].slope, d[2].slope], [-72.0, -18.0, -4.5]);
    assert_eq!([d[0].scale, d[1].scale, d[2].scale], [0.0, 0.25, 0.75]);
    assert_eq!(
        [d[0].restarted, d[1].restarted, d[2].restarted],
        [false, false, true]
    );
    // the direction moved against is −p
    assert_eq!(d[1].direction, [4.5, -1.5]);
    assert_eq!(d[2].direction, [-1.5, 1.5]);
    assert_eq!(d[2].effective_lr, [0.25, 0.25]);
}

/// `step_into` on the 2-D landscape `l` with its loss: the steps of a run driven by hand.
fn step_on(
    l: &Landscape,
    kind: OptimizerKind,
    hp: &Hyperparams,
    state: &mut OptimizerState,
    theta: Vec2d,
) -> StepDetail {
    let mut d = StepDetail::default();
    step_into(
        kind,
        hp,
        state,
        &theta,
        &mut |p: &Vec2d| l.value_and_gradient(*p).0,
        &mut |p: &Vec2d, out: &mut Vec2d| *out = l.value_and_gradient(*p).1,
        &mut |p: &Vec2d| l.hessian(*p),
        None,
        &mut d,
    );
    d
}

fn close_matrix(h: &[f64], want: Mat2, tol: f64) -> bool {
    h.len() == 4 && (0..4).all(|k| (h[k] - want[k / 2][k % 2]).abs() <= tol)
}

/// On the bowl, BFGS's `H` after two updates from independent steps is the true `A⁻¹ = diag(½, ⅙)` when
/// the first line search is exact (from (3, 1) backtracking lands on the line minimum α = ¼): then
/// `s₁ᵀA s₀ = 0` and `H₂` keeps `H₁`'s secant equation `H y₀ = s₀` beside its own `H y₁ = s₁`. From
/// (1, 1) backtracking stops at α = ¼ short of the line minimum 40/224, and `H₂` is not `A⁻¹`: what
/// always holds is the newest secant equation.
#[test]
fn bfgs_learns_the_inverse_hessian_of_a_bowl() {
    let l = bowl();
    let inverse = [[0.5, 0.0], [0.0, 1.0 / 6.0]];
    let hp = Hyperparams::defaults_for(OptimizerKind::Bfgs);
    for (start, exact_first_search) in [([3.0, 1.0], true), ([1.0, 1.0], false)] {
        let mut state = OptimizerState::default();
        let mut theta = start;
        let mut steps = Vec::new();
        for _ in 0..3 {
            let d = step_on(&l, OptimizerKind::Bfgs, &hp, &mut state, theta);
            steps.push(d.clone());
            if d.search_failure.is_some() {
                break;
            }
            theta = d.new_theta;
        }
        assert!(
            close_matrix(&steps[0].inverse_hessian, [[1.0, 0.0], [0.0, 1.0]], 0.0),
            "H₀ = I"
        );
        // H₁ (the second step's) satisfies H₁ y₀ = s₀
        let (s0, y0) = (
            sub(steps[0].new_theta, steps[0].theta),
            sub(steps[1].grad, steps[0].grad),
        );
        assert!(secant(&steps[1].inverse_hessian, y0, s0));
        // H₂ (the third step's, computed before its search) satisfies H₂ y₁ = s₁ ...
        let (s1, y1) = (
            sub(steps[1].new_theta, steps[1].theta),
            sub(steps[2].grad, steps[1].grad),
        );
        assert!(secant(&steps[2].inverse_hessian, y1, s1));
        // ... and is A⁻¹ exactly when the first search was exact
        assert_eq!(
            close_matrix(&steps[2].inverse_hessian, inverse, 1e-12),
            exact_first_search,
            "from {start:?}: H₂ = {:?}",
            steps[2].inverse_hessian
        );
    }
}

/// The `H` a quasi-Newton state holds at the point its last step reached (the accessor the curvature
/// aid draws from) is the `H` its next step uses: on the bowl from (3, 1), after two steps, BFGS's and
/// L-BFGS's are both the true `A⁻¹` (two independent pairs with `s₁ᵀ A s₀ = 0` after the exact first
/// search: both secant equations hold, which in 2-D fixes `H`). The ellipses drawn from it are `H`'s:
/// axes along `A⁻¹`'s eigenvectors, half lengths `sqrt(½)` along x and `sqrt(⅙)` along y, equal to the
/// truth's.
#[test]
fn the_current_inverse_hessian_is_the_next_steps_and_its_ellipse_is_the_truths_after_two_steps() {
    let l = bowl();
    let inverse = [[0.5, 0.0], [0.0, 1.0 / 6.0]];
    for kind in [OptimizerKind::Bfgs, OptimizerKind::Lbfgs] {
        let hp = Hyperparams::defaults_for(kind);
        let mut state = OptimizerState::default();
        let mut theta = [3.0, 1.0];
        let current = |state: &OptimizerState, theta: Vec2d| {
            let g = l.value_and_gradient(theta).1;
            state
                .inverse_hessian(kind, hp.memory, &theta, &g)
                .expect("a quasi-Newton kind has an H")
        };
        assert!(
            close_matrix(&current(&state, theta), [[1.0, 0.0], [0.0, 1.0]], 0.0),
            "H₀ = I"
        );
        for k in 0..2 {
            let d = step_on(&l, kind, &hp, &mut state, theta);
            assert!(d.search_failure.is_none(), "{kind} step {k}");
            theta = d.new_theta;
        }
        let h = current(&state, theta);
        assert!(close_matrix(&h, inverse, 1e-12), "{kind}: H₂ = {h:?}");
        // the next step uses exactly this H: BFGS prints it, and both move along −H g
        let before = state.clone();
        let next = step_on(&l, kind, &hp, &mut state, theta);
        if kind == OptimizerKind::Bfgs {
            assert_eq!(next.inverse_hessian, h);
        }
        let g = next.grad;
        let hg = [h[0] * g[0] + h[1] * g[1], h[2] * g[0] + h[3] * g[1]];
        assert!(
            (0..2).all(|i| (next.direction[i] - hg[i]).abs() <= 1e-12),
            "{kind}: {:?} vs {hg:?}",
            next.direction
        );
        // the state is not changed by asking
        assert_eq!(
            before.inverse_hessian(kind, hp.memory, &theta, &g),
            Some(h.clone())
        );
        // the drawing: H's ellipse has H's axes and lengths, and lies on the truth's
        let m = CurvatureModel::new([[h[0], h[1]], [h[2], h[3]]], l.hessian(theta));
        let (model, truth) = (m.model.unwrap(), m.truth.unwrap());
        assert!(
            (model.half[0] - (1.0f64 / 6.0).sqrt()).abs() < 1e-9,
            "{model:?}"
        );
        assert!((model.half[1] - 0.5f64.sqrt()).abs() < 1e-9, "{model:?}");
        assert!(
            (model.axes[0][1].abs() - 1.0).abs() < 1e-9 && (model.axes[1][0] - 1.0).abs() < 1e-9
        );
        assert!((0..2).all(|i| (model.half[i] - truth.half[i]).abs() < 1e-9));
        // every point of H's ellipse is on the truth's, xᵀ A x = 2x² + 6y² = 1
        for t in [0.0, 0.7, 2.0, 4.5] {
            let x = model.point(t);
            let q = 2.0 * x[0] * x[0] + 6.0 * x[1] * x[1];
            assert!((q - 1.0).abs() < 1e-9, "{kind}: {q}");
        }
        assert!(m.error.unwrap() < 1e-9, "{kind}: {:?}", m.error);
    }
    // other kinds have no H to draw
    let state = OptimizerState::default();
    assert_eq!(
        state.inverse_hessian(OptimizerKind::Cg, 5, &[0.0, 0.0], &[1.0, 1.0]),
        None
    );
}

/// The ellipse of `H` is `{x : xᵀ H⁻¹ x = 1}`: axes along `H`'s eigenvectors, half lengths the square
/// roots of its eigenvalues, whatever the true Hessian; the truth's is `∇²L⁻¹`'s, absent where `∇²L` is
/// not positive definite, and the error compares the matrices.
#[test]
fn the_curvature_model_ellipses_come_from_h_and_from_the_inverse_hessian() {
    // H = [[2, 1], [1, 2]]: μ = 1 along (1, −1)/√2, μ = 3 along (1, 1)/√2
    let h = [[2.0, 1.0], [1.0, 2.0]];
    let r = 0.5f64.sqrt();
    let m = CurvatureModel::new(h, [[1.0, 0.0], [0.0, -1.0]]);
    let model = m.model.unwrap();
    assert!((model.half[0] - 1.0).abs() < 1e-12 && (model.half[1] - 3f64.sqrt()).abs() < 1e-12);
    let along = |v: Vec2d, w: Vec2d| (v[0] * w[0] + v[1] * w[1]).abs();
    assert!((along(model.axes[0], [r, -r]) - 1.0).abs() < 1e-12);
    assert!((along(model.axes[1], [r, r]) - 1.0).abs() < 1e-12);
    // every drawn point satisfies xᵀ H⁻¹ x = 1 (H⁻¹ = [[2, −1], [−1, 2]] / 3)
    for k in 0..12 {
        let x = model.point(k as f64 * 0.5);
        let q = (2.0 * x[0] * x[0] - 2.0 * x[0] * x[1] + 2.0 * x[1] * x[1]) / 3.0;
        assert!((q - 1.0).abs() < 1e-12, "{q}");
    }
    // a saddle has no quadratic model with a minimum: no truth, no error
    assert_eq!((m.truth, m.error), (None, None));
    // the truth of ∇²L = diag(4, 1) is {x : 4x² + y² = 1}; H = I is off by ‖I − diag(¼, 1)‖/‖diag(¼, 1)‖
    let m = CurvatureModel::new([[1.0, 0.0], [0.0, 1.0]], [[4.0, 0.0], [0.0, 1.0]]);
    let truth = m.truth.unwrap();
    assert_eq!(truth.half, [0.5, 1.0]);
    assert!((m.error.unwrap() - 0.75 / (0.0625f64 + 1.0).sqrt()).abs() < 1e-12);
    // an H that is not positive definite draws no ellipse
    assert_eq!(CurvatureModel::new([[1.0, 2.0], [2.0, 1.0]], h).model, None);
}

fn sub(a: Vec2d, b: Vec2d) -> Vec2d {
    [a[0] - b[0], a[1] - b[1]]
}

/// `H y = s`, to rounding.
fn secant(h: &[f64], y: Vec2d, s: Vec2d) -> bool {
    let hy = [h[0] * y[0] + h[1] * y[1], h[2] * y[0] + h[3] * y[1]];
    (0..2).all(|i| (hy[i] - s[i]).abs() <= 1e-9 * (1.0 + s[i].abs()))
}

/// An independent implementation of the formulas (plain arrays; BFGS's update as the product
/// `(I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ`; L-BFGS's two loops; CG's PR+ with its restart; Armijo's
/// backtracking): the positions and evaluation counts of `steps` steps, and whether it stopped.
fn reference(
    l: &Landscape,
    kind: OptimizerKind,
    hp: &Hyperparams,
    start: Vec2d,
    steps: usize,
) -> (Vec<(Vec2d, u64)>, bool) {
    let f = |p: Vec2d| l.value_and_gradient(p);
    let dot = |a: Vec2d, b: Vec2d| a[0] * b[0] + a[1] * b[1];
    let ls = hp.line_search;
    let (mut x, mut evals) = (start, 1u64);
    let (mut fx, mut g) = f(x);
    let mut h: Mat2 = [[1.0, 0.0], [0.0, 1.0]];
    let mut pairs: Vec<(Vec2d, Vec2d)> = Vec::new();
    let mut prev: Option<(Vec2d, Vec2d, Vec2d)> = None; // θ, g, p of the step before
    let mut out = vec![(x, evals)];
    for _ in 0..steps {
        if g[0].hypot(g[1]) < 1e-8 {
            break;
        }
        if let Some((xp, gp, _)) = prev {
            let (s, y) = (sub(x, xp), sub(g, gp));
            let curved = dot(y, s) > 1e-10 * s[0].hypot(s[1]) * y[0].hypot(y[1]);
            if kind == OptimizerKind::Bfgs && curved {
                let r = 1.0 / dot(y, s);
                let left = [
                    [1.0 - r * s[0] * y[0], -r * s[0] * y[1]],
                    [-r * s[1] * y[0], 1.0 - r * s[1] * y[1]],
                ];
                let mut next = [[0.0; 2]; 2];
                for i in 0..2 {
                    for j in 0..2 {
                        // (left H leftᵀ)_ij + ρ s_i s_j
                        let mut v = 0.0;
                        for a in 0..2 {
                            for b in 0..2 {
                                v += left[i][a] * h[a][b] * left[j][b];
                            }
                        }
                        next[i][j] = v + r * s[i] * s[j];
                    }
                }
                h = next;
            }
            if kind == OptimizerKind::Lbfgs && curved {
                pairs.push((s, y));
                if pairs.len() > hp.memory {
                    pairs.remove(0);
                }
            }
        }
        let p: Vec2d = match kind {
            OptimizerKind::Sgd => [-g[0], -g[1]],
            OptimizerKind::Newton => {
                let a = l.hessian(x);
                let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
                let inv = [
                    [a[1][1] / det, -a[0][1] / det],
                    [-a[1][0] / det, a[0][0] / det],
                ];
                [
                    -(inv[0][0] * g[0] + inv[0][1] * g[1]),
                    -(inv[1][0] * g[0] + inv[1][1] * g[1]),
                ]
            }
            OptimizerKind::Bfgs => [
                -(h[0][0] * g[0] + h[0][1] * g[1]),
                -(h[1][0] * g[0] + h[1][1] * g[1]),
            ],
            OptimizerKind::Lbfgs => {
                let mut q = g;
                let mut a = vec![0.0; pairs.len()];
                for (i, &(s, y)) in pairs.iter().enumerate().rev() {
                    a[i] = 1.0 / dot(y, s) * dot(s, q);
                    q = [q[0] - a[i] * y[0], q[1] - a[i] * y[1]];
                }
                let gamma = pairs.last().map_or(1.0, |&(s, y)| dot(s, y) / dot(y, y));
                let mut r = [gamma * q[0], gamma * q[1]];
                for (i, &(s, y)) in pairs.iter().enumerate() {
                    let b = 1.0 / dot(y, s) * dot(y, r);
                    r = [r[0] + s[0] * (a[i] - b), r[1] + s[1] * (a[i] - b)];
                }
                [-r[0], -r[1]]
            }
            OptimizerKind::Cg => match prev {
                None => [-g[0], -g[1]],
                Some((_, gp, pp)) => {
                    let beta = (dot(g, sub(g, gp)) / dot(gp, gp)).max(0.0);
                    let p = [-g[0] + beta * pp[0], -g[1] + beta * pp[1]];
                    if dot(g, p) >= 0.0 { [-g[0], -g[1]] } else { p }
                }
            },
            other => panic!("no reference for {other:?}"),
        };
        // Armijo: α = η, ρη, ρ²η, ... until L(x + αp) <= L(x) + c α gᵀp
        let slope = dot(g, p);
        if slope >= 0.0 {
            return (out, true);
        }
        let mut alpha = hp.lr;
        let mut accepted = None;
        for k in 0..=ls.max_backtracks {
            if k > 0 {
                alpha *= ls.rho;
            }
            let trial = [x[0] + alpha * p[0], x[1] + alpha * p[1]];
            evals += 1;
            if f(trial).0 <= fx + ls.c * alpha * slope {
                accepted = Some(trial);
                break;
            }
        }
        let Some(next) = accepted else {
            return (out, true);
        };
        prev = Some((x, g, p));
        x = next;
        (fx, g) = f(x);
        out.push((x, evals));
    }
    (out, false)
}

/// The runner's trajectories (positions and evaluation counts) equal the independent implementation's,
/// for each searching method on several landscapes and starts, with the line search's settings varied.
#[test]
fn searching_methods_match_an_independent_implementation() {
    let cases = [
        ("rosenbrock", [-1.2, 1.0]),
        ("rosenbrock", [0.5, -0.8]),
        ("beale", [1.0, 1.5]),
        ("himmelblau", [0.3, -0.2]),
        ("six-hump-camel", [1.0, -0.6]),
        ("bowl", [-1.5, 1.8]),
    ];
    let settings = [(1e-4, 0.5, 30, 5), (0.3, 0.7, 12, 1), (1e-3, 0.25, 60, 2)];
    for (name, start) in cases {
        let l = landscape(LandscapeSpec::from_name(name).unwrap());
        for kind in SEARCHED {
            for (c, rho, max_backtracks, memory) in settings {
                let mut config = searching(kind, start);
                config.hyper.line_search.c = c;
                config.hyper.line_search.rho = rho;
                config.hyper.line_search.max_backtracks = max_backtracks;
                config.hyper.memory = memory;
                if kind == OptimizerKind::Sgd {
                    config.hyper.lr = 0.5;
                }
                let (rows, _, status) = details(&l, config, 60);
                let (want, stopped) = reference(&l, kind, &config.hyper, start, 60);
                let what = format!("{kind:?} on {name} from {start:?}, c {c} rho {rho} m {memory}");
                assert_eq!(rows.len(), want.len(), "{what}: {status}");
                for (row, (x, evals)) in rows.iter().zip(&want) {
                    // BFGS's update is the product here and its expansion in the core: the same
                    // numbers up to rounding, which Rosenbrock's valley amplifies over the steps
                    let tol = 1e-6 * (1.0 + x[0].abs().max(x[1].abs()));
                    assert!(
                        (row.pos[0] - x[0]).abs() <= tol && (row.pos[1] - x[1]).abs() <= tol,
                        "{what}, step {}: {:?} vs {x:?}",
                        row.step,
                        row.pos
                    );
                    assert_eq!(row.evals, *evals, "{what}, step {}", row.step);
                }
                let ran_out =
                    matches!(status, RunStatus::Diverged { reason, .. } if reason.is_stop());
                assert_eq!(ran_out, stopped, "{what}: {status}");
            }
        }
    }
}

/// At every accepted step of every searching method: the trials are `α₀ = η, ρη, ρ²η, ...`, every one
/// but the last fails the Armijo test and the last passes it, `α` is the step taken, the new loss is the
/// last trial's, and the evaluations grow by the number of trials.
#[test]
fn the_armijo_condition_holds_at_every_accepted_step() {
    for name in [
        "rosenbrock",
        "beale",
        "himmelblau",
        "saddle-valleys",
        "rastrigin",
    ] {
        let l = landscape(LandscapeSpec::from_name(name).unwrap());
        for kind in OptimizerKind::ALL
            .into_iter()
            .filter(|k| k.offers_line_search())
        {
            let mut config = searching(kind, l.default_start());
            if kind == OptimizerKind::Sgd {
                config.hyper.lr = 1.0;
            }
            let (rows, details, _) = details(&l, config, 150);
            let c = config.hyper.line_search.c;
            for (k, d) in details.iter().enumerate() {
                let (before, after) = (&rows[k], &rows[k + 1]);
                assert!(d.slope < 0.0, "{kind:?} on {name}: a descent direction");
                assert_eq!(d.loss, before.loss);
                let (last, rejected) = d.trials.split_last().expect("at least one trial");
                let mut alpha = config.hyper.lr;
                for t in rejected {
                    assert_eq!(t.alpha, alpha);
                    assert!(
                        !t.accepted() && t.bound == before.loss + c * t.alpha * d.slope,
                        "{kind:?} on {name}"
                    );
                    alpha *= 0.5;
                }
                assert_eq!(last.alpha, alpha);
                assert!(last.loss <= before.loss + c * last.alpha * d.slope);
                // never up (equal only where c α gᵀp is below the loss's rounding)
                assert!(
                    after.loss <= before.loss,
                    "{kind:?} on {name}: the loss went up"
                );
                assert_eq!(after.loss, last.loss);
                assert_eq!(d.effective_lr, [alpha, alpha]);
                assert_eq!(after.evals, before.evals + d.trials.len() as u64);
            }
        }
    }
}

#[test]
fn line_search_settings_out_of_range_are_refused_with_the_reason() {
    let ok = Hyperparams::defaults_for(OptimizerKind::Lbfgs);
    let with = |f: &dyn Fn(&mut Hyperparams)| {
        let mut h = ok;
        f(&mut h);
        h.validate().unwrap_err().to_string()
    };
    for c in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
        let e = with(&|h| h.line_search.c = c);
        assert!(e.contains("Armijo c") && e.contains("(0, 1)"), "{e}");
    }
    for rho in [0.0, 1.0, -0.5, 2.0, f64::NAN] {
        let e = with(&|h| h.line_search.rho = rho);
        assert!(
            e.contains("backtracking rho") && e.contains("(0, 1)"),
            "{e}"
        );
    }
    let e = with(&|h| h.memory = 0);
    assert!(
        e.contains("L-BFGS memory m") && e.contains("between 1"),
        "{e}"
    );
    let e = with(&|h| h.line_search.max_backtracks = 201);
    assert!(e.contains("halvings"), "{e}");
    // the line search compares exact losses: with noise it is refused, on every searching kind
    let l = bowl();
    for kind in SEARCHED {
        let mut config = searching(kind, [1.0, 1.0]);
        config.noise.sigma = 0.1;
        let e = Runner::new(&l, config).unwrap_err().to_string();
        assert!(e.contains("exact loss and gradient"), "{kind:?}: {e}");
    }
    // ... also when switched on live under noise
    let mut config = RunConfig::new(OptimizerKind::Sgd, [1.0, 1.0]);
    config.noise.sigma = 0.1;
    let mut runner = Runner::new(&l, config).unwrap();
    let mut hyper = config.hyper;
    hyper.line_search.armijo = true;
    assert!(runner.set_hyper(hyper).is_err());
    // a kind that does not offer the search ignores the switch, as other unused fields
    let mut adam = searching(OptimizerKind::Adam, [1.0, 1.0]);
    adam.noise.sigma = 0.1;
    assert!(Runner::new(&l, adam).is_ok());
}

/// No step found stops the run with the reason, at the last good point: a first trial that fails with
/// no halving left, and Newton's `H⁻¹g` going uphill on a saddle (`x² − y²` where |y| > |x|).
#[test]
fn a_line_search_without_a_step_stops_the_run() {
    let rosen = landscape(LandscapeSpec::from_name("rosenbrock").unwrap());
    let mut config = searching(OptimizerKind::Sgd, [-1.2, 1.0]);
    config.hyper.lr = 0.01;
    config.hyper.line_search.max_backtracks = 0;
    let (rows, _, status) = details(&rosen, config, 10);
    assert_eq!(
        status,
        RunStatus::Diverged {
            step: 1,
            reason: DivergenceReason::NoSufficientDecrease
        }
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(status.name(), "stopped");
    assert!(
        status
            .to_string()
            .starts_with("stopped at step 1: the line search found no step")
    );

    let saddle = landscape(LandscapeSpec::formula("x*x - y*y", Domain::square(2.0)));
    let (rows, _, status) = details(&saddle, searching(OptimizerKind::Newton, [0.5, 1.0]), 10);
    assert_eq!(
        status,
        RunStatus::Diverged {
            step: 1,
            reason: DivergenceReason::NotDescent
        }
    );
    assert_eq!(rows.len(), 1);
    assert!(
        status.to_string().contains("no descent direction"),
        "{status}"
    );
    // without the search Newton jumps to the saddle point
    let (rows, _, _) = details(
        &saddle,
        RunConfig::new(OptimizerKind::Newton, [0.5, 1.0]),
        1,
    );
    assert_eq!(rows[1].pos, [0.0, 0.0]);
}

/// The N-parameter code is the 2-D code: each searching method stepped through `step_into` on `Vec<f64>`
/// with the landscape's loss gives, bit for bit, the 2-D runner's trajectory.
#[test]
fn searching_methods_on_vectors_equal_the_2d_runs() {
    let l = landscape(LandscapeSpec::from_name("rosenbrock").unwrap());
    for kind in [OptimizerKind::Bfgs, OptimizerKind::Lbfgs, OptimizerKind::Cg] {
        let config = RunConfig::new(kind, [-1.2, 1.0]);
        let (rows, _, _) = details(&l, config, 40);
        let mut state = OptimizerState::<Vec<f64>>::zeros(2);
        let mut d = StepDetail::<Vec<f64>>::zeros(2);
        let mut theta = vec![-1.2, 1.0];
        for row in &rows[1..] {
            let at = |p: &Vec<f64>| l.value_and_gradient([p[0], p[1]]);
            step_into(
                kind,
                &config.hyper,
                &mut state,
                &theta,
                &mut |p: &Vec<f64>| at(p).0,
                &mut |p: &Vec<f64>, out: &mut Vec<f64>| *out = at(p).1.to_vec(),
                &mut |_| [[f64::NAN; 2]; 2],
                None,
                &mut d,
            );
            theta.clone_from(&d.new_theta);
            assert_eq!(theta, row.pos.to_vec(), "{kind:?} step {}", row.step);
        }
    }
}

#[test]
fn a_step_detail_is_finite_only_when_every_number_in_it_is() {
    use losscape::core::StepDetail;
    let zero = StepDetail::<[f64; 2]>::zeros(2);
    assert!(zero.is_finite());
    let mut big = zero.clone();
    big.new_theta = [f64::MAX, -f64::MAX];
    big.hessian = Some([[f64::MIN_POSITIVE, 1e300], [-1e300, 0.0]]);
    assert!(big.is_finite(), "large and tiny numbers are finite");
    type Poke = fn(&mut StepDetail<[f64; 2]>, f64);
    let pokes: [(&str, Poke); 17] = [
        ("eta", |d, x| d.eta = x),
        ("scale", |d, x| d.scale = x),
        ("theta", |d, x| d.theta[1] = x),
        ("grad", |d, x| d.grad[0] = x),
        ("v", |d, x| d.v[1] = x),
        ("s", |d, x| d.s[0] = x),
        ("u", |d, x| d.u[1] = x),
        ("v_hat", |d, x| d.v_hat[0] = x),
        ("s_hat", |d, x| d.s_hat[1] = x),
        ("direction", |d, x| d.direction[0] = x),
        ("effective_lr", |d, x| d.effective_lr[1] = x),
        ("step", |d, x| d.step[0] = x),
        ("new_theta", |d, x| d.new_theta[1] = x),
        ("lookahead", |d, x| d.lookahead = Some([0.0, x])),
        ("inverse_hessian", |d, x| {
            d.inverse_hessian = vec![1.0, 0.0, x, 1.0]
        }),
        ("hessian", |d, x| d.hessian = Some([[1.0, 0.0], [0.0, x]])),
        ("precondition", |d, x| {
            d.precondition = Some([[x, 0.0], [0.0, 1.0]])
        }),
    ];
    for (name, poke) in pokes {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut d = zero.clone();
            poke(&mut d, bad);
            assert!(!d.is_finite(), "{name} = {bad} is not finite");
            poke(&mut d, -2.5e-7);
            assert!(d.is_finite(), "{name} = -2.5e-7 is");
        }
    }
}
