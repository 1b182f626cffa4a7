//! Curvature, the η limit and divergence diagnosis against real runs: on a quadratic bowl each
//! optimizer just below its limit converges and just above it diverges.

use losscape::core::curvature::{DivergenceCause, diagnose, eta_limit};
use losscape::core::{
    Convention, Curvature, CurvatureKind, Landscape, LandscapeSpec, OptimizerKind, OptimizerState,
    RestKind, RunConfig, RunStatus, trace,
};

fn bowl() -> Landscape {
    Landscape::new(LandscapeSpec::Bowl {
        kappa: 10.0,
        rotation_deg: 45.0,
    })
    .unwrap()
}

fn config(kind: OptimizerKind, convention: Convention, lr: f64) -> RunConfig {
    let mut c = RunConfig::new(kind, [-2.5, 1.5]);
    c.hyper.convention = convention;
    c.hyper.lr = lr;
    c
}

#[test]
fn bowl_curvature_is_its_kappa_along_the_rotated_axes() {
    let c = Curvature::at(&bowl(), [0.3, -0.2]).unwrap();
    assert_eq!(c.kind, CurvatureKind::Minimum);
    assert!((c.lambda[0] - 1.0).abs() < 1e-12 && (c.lambda[1] - 10.0).abs() < 1e-12);
    assert!((c.condition - 10.0).abs() < 1e-10);
    // the steep axis is across the ellipse's long axis (45°): (-0.71, 0.71), shown as (0.71, -0.71)
    assert!((c.v[1][0] - 0.5f64.sqrt()).abs() < 1e-12 && (c.v[1][1] + 0.5f64.sqrt()).abs() < 1e-12);
    let saddle = Landscape::new(LandscapeSpec::Saddle).unwrap();
    let c = Curvature::at(&saddle, [0.0, 0.0]).unwrap();
    assert_eq!(c.kind, CurvatureKind::Saddle);
    assert_eq!(
        c.text(),
        "saddle: curves up along (1.00, 0.00) λ=2, down along (0.00, 1.00) λ=-2; κ = 1"
    );
}

#[test]
fn just_below_the_limit_converges_and_just_above_diverges() {
    let landscape = bowl();
    // the rules that are exact on a quadratic: the step is a fixed linear map of the position (and
    // momentum), so its stability is decided by the rule alone
    for kind in [
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::Qhm,
        OptimizerKind::Newton,
        OptimizerKind::SaddleFreeNewton,
    ] {
        for convention in [Convention::Lecture, Convention::PyTorch] {
            let probe = config(kind, convention, 0.01);
            let limit = eta_limit(
                &landscape,
                kind,
                &probe.hyper,
                &OptimizerState::default(),
                probe.start,
            )
            .unwrap();
            let eta_max = limit.eta_max.unwrap();
            // the textbook limits for λ_max = 10, written out (the lecture's momentum is averaged:
            // V <- β V + (1 − β) g, so its η is 1/(1 − β) times smaller per unit of gradient)
            let (b, nu, lambda) = (probe.hyper.beta_m, probe.hyper.nu, 10.0);
            let averaged = if convention == Convention::Lecture {
                1.0 - b
            } else {
                1.0
            };
            let textbook = match kind {
                OptimizerKind::Sgd => 2.0 / lambda,
                OptimizerKind::Momentum => 2.0 * (1.0 + b) / (averaged * lambda),
                OptimizerKind::Nesterov => 2.0 * (1.0 + b) / ((1.0 + 2.0 * b) * averaged * lambda),
                OptimizerKind::Qhm => 2.0 * (1.0 + b) / ((1.0 + b - 2.0 * nu * b) * lambda),
                _ => 2.0, // Newton's methods: H^-1 H = I
            };
            assert!(
                (eta_max - textbook).abs() <= 1e-12 * textbook,
                "{kind:?} {convention:?}: η_max {eta_max} against {textbook}"
            );
            let start_loss = landscape.value(probe.start);
            let below = trace(
                &landscape,
                &config(kind, convention, 0.97 * eta_max),
                20_000,
            )
            .unwrap();
            let end = below.records.last().unwrap();
            assert!(
                !matches!(below.status, RunStatus::Diverged { .. }) && end.loss < 1e-6 * start_loss,
                "{kind:?} {convention:?} at 0.97 η_max = {eta_max}: {:?}, loss {}",
                below.status,
                end.loss
            );
            let above_cfg = config(kind, convention, 1.03 * eta_max);
            let above = trace(&landscape, &above_cfg, 20_000).unwrap();
            assert!(
                matches!(above.status, RunStatus::Diverged { .. }),
                "{kind:?} {convention:?} at 1.03 η_max = {eta_max}: {:?}",
                above.status
            );
            // and the diagnosis names the overshoot
            let d = diagnose(
                &landscape,
                &above_cfg,
                &above.records,
                above.status,
                &OptimizerState::default(),
            )
            .unwrap();
            let DivergenceCause::Overshoot(l) = d.cause else {
                panic!("{kind:?}: {d:?}")
            };
            assert!((l.stability - 1.03).abs() < 1e-9, "{}", l.stability);
            assert!(
                d.text
                    .ends_with("along (0.71, -0.71): each step overshoots and grows"),
                "{}",
                d.text
            );
            let lowest = above
                .records
                .iter()
                .map(|r| r.loss)
                .fold(f64::INFINITY, f64::min);
            let rewind = above.records[d.last_stable_step as usize];
            assert_eq!(rewind.loss, lowest);
        }
    }
}

/// The adaptive methods' rule is a guide: it holds while their per-coordinate step sizes stay where they
/// are. With a large ε the step sizes hardly move, and the rule (from the step sizes of the first step,
/// bias correction off so that the first steps are the long run's) is exact: at 0.97 of the limit the
/// run closes in on the minimum, at 1.03 its oscillation grows a hundredfold before the step sizes
/// shrink (after which AdaGrad and the Adam family settle again: why the mark is only a guide).
#[test]
fn adaptive_rules_hold_while_the_step_sizes_stand_still() {
    let landscape = bowl();
    // near the minimum, so that the gradients (up to ~0.03) are tiny next to ε
    let start = [-0.0025, 0.0015];
    let distance = |p: [f64; 2]| p[0].hypot(p[1]);
    for kind in [
        OptimizerKind::AdaGrad,
        OptimizerKind::RmsProp,
        OptimizerKind::AdaDelta,
        OptimizerKind::Adam,
        OptimizerKind::AdamW,
        OptimizerKind::AmsGrad,
        OptimizerKind::NAdam,
        OptimizerKind::QhAdam,
    ] {
        for convention in [Convention::Lecture, Convention::PyTorch] {
            let at = |lr: f64| {
                let mut c = RunConfig::new(kind, start);
                c.hyper.convention = convention;
                c.hyper.lr = lr;
                c.hyper.bias_correction = false;
                c.hyper.weight_decay = 0.0;
                // NAdam's bias correction is built in: at β_m = 0.9 its first steps overshoot a
                // thousandfold whatever η, at 0.5 they stay within a few times the start
                if kind == OptimizerKind::NAdam {
                    c.hyper.beta_m = 0.5;
                }
                // ε inside the root (lecture's Adam family, AdaDelta) or added to it
                c.hyper.eps = if kind == OptimizerKind::AdaDelta
                    || (convention == Convention::Lecture && kind.uses_convention())
                {
                    1e8
                } else {
                    1e4
                };
                c
            };
            let farthest = |run: &losscape::core::Trajectory| {
                run.records
                    .iter()
                    .map(|r| distance(r.pos))
                    .fold(0.0, f64::max)
            };
            let probe = at(1.0);
            let limit = eta_limit(
                &landscape,
                kind,
                &probe.hyper,
                &OptimizerState::default(),
                start,
            )
            .unwrap();
            let eta_max = limit.eta_max.unwrap();
            let what = format!("{kind:?} {convention:?}, η_max = {eta_max}");
            assert!(
                limit.explanation().contains("a guide"),
                "{what}: {}",
                limit.explanation()
            );
            let below = trace(&landscape, &at(0.97 * eta_max), 20_000).unwrap();
            let end = below.records.last().unwrap().pos;
            assert!(
                !matches!(below.status, RunStatus::Diverged { .. })
                    && distance(end) < 1e-3 * distance(start)
                    && farthest(&below) < 10.0 * distance(start),
                "{what}: at 0.97 η_max {:?}, ends {end:?}, at most {} away",
                below.status,
                farthest(&below)
            );
            let above = trace(&landscape, &at(1.03 * eta_max), 20_000).unwrap();
            let farthest = farthest(&above);
            assert!(
                farthest > 100.0 * distance(start),
                "{what}: at 1.03 η_max it got only {farthest} from the minimum"
            );
        }
    }
}

/// Lion has no η limit ("none"): its step is η sign(c), the same size whatever the gradient, so no
/// learning rate makes it blow up; it wanders within about η of the minimum instead.
#[test]
fn lion_has_no_limit_and_never_blows_up() {
    let landscape = bowl();
    let hp = losscape::core::Hyperparams::defaults_for(OptimizerKind::Lion);
    assert!(losscape::core::StabilityRule::of(OptimizerKind::Lion, &hp).is_none());
    assert!(
        eta_limit(
            &landscape,
            OptimizerKind::Lion,
            &hp,
            &OptimizerState::default(),
            [-2.5, 1.5]
        )
        .is_none()
    );
    // a learning rate a hundred times SGD's limit (2/10) on the same bowl
    for lr in [0.01, 20.0] {
        let cfg = config(OptimizerKind::Lion, Convention::Lecture, lr);
        let run = trace(&landscape, &cfg, 20_000).unwrap();
        assert!(
            !matches!(run.status, RunStatus::Diverged { .. }),
            "Lion at η = {lr}: {:?}",
            run.status
        );
        // each step moves each coordinate by η (plus the small weight decay) toward or, while its
        // momentum lags, away from the minimum: the run stays within a few steps of where it started
        let farthest = run
            .records
            .iter()
            .map(|r| r.pos[0].abs().max(r.pos[1].abs()))
            .fold(0.0, f64::max);
        assert!(
            farthest <= 2.5 + 3.0 * lr,
            "Lion at η = {lr}: {farthest} from the minimum"
        );
    }
}

#[test]
fn sgd_diagnosis_reads_as_the_issue_writes_it() {
    let landscape = bowl();
    let cfg = config(OptimizerKind::Sgd, Convention::Lecture, 0.26);
    let run = trace(&landscape, &cfg, 10_000).unwrap();
    let d = diagnose(
        &landscape,
        &cfg,
        &run.records,
        run.status,
        &OptimizerState::default(),
    )
    .unwrap();
    assert_eq!(
        d.text,
        "η·λ = 2.6 > 2 along (0.71, -0.71): each step overshoots and grows"
    );
    // a converging run has nothing to diagnose
    let ok = config(OptimizerKind::Sgd, Convention::Lecture, 0.1);
    let run = trace(&landscape, &ok, 100).unwrap();
    assert!(
        diagnose(
            &landscape,
            &ok,
            &run.records,
            run.status,
            &OptimizerState::default()
        )
        .is_none()
    );
}

#[test]
fn a_saddle_run_off_to_infinity_left_the_bound_not_overshooting() {
    let landscape = Landscape::new(LandscapeSpec::Saddle).unwrap();
    let cfg = config(OptimizerKind::Sgd, Convention::Lecture, 0.1);
    let run = trace(&landscape, &cfg, 100_000).unwrap();
    assert!(matches!(run.status, RunStatus::Diverged { .. }));
    let d = diagnose(
        &landscape,
        &cfg,
        &run.records,
        run.status,
        &OptimizerState::default(),
    )
    .unwrap();
    assert_eq!(d.cause, DivergenceCause::LeftBound);
    let rewind = run.records[d.last_stable_step as usize].pos;
    assert!(landscape.domain().contains(rewind));
    assert!(
        !landscape
            .domain()
            .contains(run.records[d.last_stable_step as usize + 1].pos)
    );
}

#[test]
fn adaptive_limits_use_the_next_steps_step_sizes() {
    // RMSProp at its first step: s = (1 - beta_r) g^2, P = 1 / (sqrt(s) + eps) per coordinate
    let landscape = Landscape::new(LandscapeSpec::Bowl {
        kappa: 10.0,
        rotation_deg: 0.0,
    })
    .unwrap();
    let kind = OptimizerKind::RmsProp;
    let hp = losscape::core::Hyperparams::defaults_for(kind);
    let p = [1.0, 1.0];
    let g = landscape.gradient(p); // (1, 10)
    let l = eta_limit(&landscape, kind, &hp, &OptimizerState::default(), p).unwrap();
    let pre = |gi: f64| 1.0 / (((1.0 - hp.beta_r) * gi * gi).sqrt() + hp.eps);
    // P^1/2 H P^1/2 = diag(1 * P_x, 10 * P_y)
    let expect = (1.0 * pre(g[0])).max(10.0 * pre(g[1]));
    assert!(
        (l.lambda - expect).abs() < 1e-9 * expect,
        "{} vs {expect}",
        l.lambda
    );
    assert!((l.eta_max.unwrap() - 2.0 / expect).abs() < 1e-12);
    assert!(l.explanation().contains("per-coordinate step sizes"));
}

proptest::proptest! {
    /// `H v = λ v` for both eigenpairs, unit and orthogonal vectors, ascending values, on random
    /// symmetric matrices over many scales (nearly equal eigenvalues included).
    #[test]
    fn eigenpairs_of_random_symmetric_matrices(
        a in -1e3f64..1e3, b in -1e3f64..1e3, c in -1e3f64..1e3, e in -12i32..4, close in proptest::bool::ANY
    ) {
        let s = 10f64.powi(e);
        let (a, b, c) = if close { (a, b * 1e-9, a + c * 1e-9) } else { (a, b, c) };
        let h = [[a * s, b * s], [b * s, c * s]];
        let (l, v) = losscape::core::eigen(h);
        proptest::prop_assert!(l[0] <= l[1]);
        let scale = h[0][0].abs().max(h[1][1].abs()).max(h[0][1].abs());
        for i in 0..2 {
            proptest::prop_assert!((v[i][0].hypot(v[i][1]) - 1.0).abs() < 1e-14);
            let hv = [h[0][0] * v[i][0] + h[0][1] * v[i][1], h[1][0] * v[i][0] + h[1][1] * v[i][1]];
            for k in 0..2 {
                proptest::prop_assert!((hv[k] - l[i] * v[i][k]).abs() <= 1e-13 * scale, "{:?} {:?} {:?}", h, l, v);
            }
        }
        proptest::prop_assert!((v[0][0] * v[1][0] + v[0][1] * v[1][1]).abs() < 1e-14);
    }
}

#[test]
fn a_point_of_rest_is_named_a_minimum_only_when_it_is_one() {
    let beale = Landscape::new(LandscapeSpec::from_name("beale").unwrap()).unwrap();
    let radius = 0.18;
    // Adam comes to rest here on Beale's plain (basins --surface beale --optimizer adam): a saddle
    let (kind, at) = RestKind::classify(&beale, [0.1006, -2.644], radius);
    assert_eq!(kind, RestKind::Saddle);
    assert_eq!(at, [0.1006, -2.644]);
    // near the minimum: refined onto it
    let (kind, at) = RestKind::classify(&beale, [3.001, 0.5003], radius);
    assert_eq!(kind, RestKind::Minimum);
    assert!(
        (at[0] - 3.0).abs() < 1e-8 && (at[1] - 0.5).abs() < 1e-8,
        "{at:?}"
    );
    // a slope that keeps falling (x - y) and the edge of ln(x)'s domain
    let formula = |e: &str| {
        Landscape::new(LandscapeSpec::formula(
            e,
            losscape::core::DEFAULT_FORMULA_DOMAIN,
        ))
        .unwrap()
    };
    assert_eq!(
        RestKind::classify(&formula("1e-4*(x - y)"), [0.0, 0.0], radius).0,
        RestKind::Plateau
    );
    assert_eq!(
        RestKind::classify(&formula("ln(x)"), [1e-6, -2.6], radius).0,
        RestKind::Edge
    );
    assert_eq!(
        RestKind::classify(&formula("-(x^2) - y^2"), [1e-5, 0.0], radius).0,
        RestKind::Maximum
    );
    // a flat minimum (zero Hessian) is still a minimum
    assert_eq!(
        RestKind::classify(&formula("x^4 + y^4"), [0.01, -0.01], radius).0,
        RestKind::Minimum
    );
}
