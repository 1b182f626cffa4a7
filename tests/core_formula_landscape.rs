//! Typed formulas as landscapes: equal to the built-ins they spell out (values, gradients, Hessians and
//! whole runs), minima found numerically, validation with clear messages, undefined points as gaps in
//! the grid and as divergence in runs, scene files.

mod common;

use common::landscape;
use losscape::core::scene::{SCENE_VERSION, Scene};
use losscape::core::{
    CoreError, DEFAULT_FORMULA_DOMAIN, DivergenceReason, Domain, HeightMode, Landscape,
    LandscapeSpec, OptimizerKind, RunConfig, RunStatus, SurfaceGrid, lessons, trace,
};

fn formula(expr: &str, domain: Domain) -> Landscape {
    Landscape::new(LandscapeSpec::formula(expr, domain)).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Built-ins and the same function typed as a formula.
fn twins() -> Vec<(Landscape, Landscape)> {
    [
        ("himmelblau", "(x^2+y-11)^2+(x+y^2-7)^2"),
        ("rosenbrock", "(1-x)^2 + 100*(y-x^2)^2"),
        (
            "beale",
            "(1.5-x+x*y)^2 + (2.25-x+x*y^2)^2 + (2.625-x+x*y^3)^2",
        ),
        (
            "six-hump-camel",
            "(4-2.1*x^2+x^4/3)*x^2 + x*y + (-4+4*y^2)*y^2",
        ),
        ("plateau", "1 - exp(-(x^2+y^2)/2)"),
        ("saddle", "x^2 - y^2"),
        ("monkey-saddle", "x**3 - 3*x*y**2"),
        (
            "rastrigin",
            "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
        ),
    ]
    .into_iter()
    .map(|(name, expr)| {
        let built_in = landscape(name);
        let typed = formula(expr, built_in.domain());
        (built_in, typed)
    })
    .collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn a_formula_equals_the_built_in_it_spells_out() {
    for (built_in, typed) in twins() {
        let d = built_in.domain();
        for j in 0..=10 {
            for i in 0..=10 {
                let p = [
                    d.x[0] + i as f64 / 10.0 * d.width(),
                    d.y[0] + j as f64 / 10.0 * d.height(),
                ];
                let (v0, g0) = built_in.value_and_gradient(p);
                let (v1, g1) = typed.value_and_gradient(p);
                let scale = 1.0 + g0[0].abs() + g0[1].abs();
                assert!(
                    close(v0, v1, 1e-13),
                    "{} at {p:?}: {v0} vs {v1}",
                    built_in.name()
                );
                for k in 0..2 {
                    assert!(
                        (g0[k] - g1[k]).abs() <= 1e-13 * scale,
                        "{} at {p:?}: {g0:?} vs {g1:?}",
                        built_in.name()
                    );
                }
                let (h0, h1) = (built_in.hessian(p), typed.hessian(p));
                let hscale = 1.0 + h0.iter().flatten().map(|v| v.abs()).sum::<f64>();
                for (r0, r1) in h0.iter().zip(&h1) {
                    for (a, b) in r0.iter().zip(r1) {
                        assert!(
                            (a - b).abs() <= 1e-12 * hscale,
                            "{} Hessian at {p:?}: {h0:?} vs {h1:?}",
                            built_in.name()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn runs_on_a_formula_follow_the_built_in() {
    for (built_in, typed) in twins() {
        for kind in [
            OptimizerKind::Sgd,
            OptimizerKind::Momentum,
            OptimizerKind::Adam,
        ] {
            let mut config = RunConfig::new(kind, built_in.default_start());
            config.hyper.lr = 1e-3;
            let a = trace(&built_in, &config, 300).unwrap();
            let b = trace(&typed, &config, 300).unwrap();
            assert_eq!(
                a.records.len(),
                b.records.len(),
                "{} {kind:?}",
                built_in.name()
            );
            assert_eq!(
                std::mem::discriminant(&a.status),
                std::mem::discriminant(&b.status)
            );
            for (ra, rb) in a.records.iter().zip(&b.records) {
                for k in 0..2 {
                    assert!(
                        (ra.pos[k] - rb.pos[k]).abs() <= 1e-10 * (1.0 + ra.pos[k].abs()),
                        "{} {kind:?} step {}: {:?} vs {:?}",
                        built_in.name(),
                        ra.step,
                        ra.pos,
                        rb.pos
                    );
                }
            }
        }
    }
}

#[test]
fn minima_are_found_numerically() {
    // Himmelblau's four minima, the built-in's list (refined by Newton) to 1e-9.
    let typed = formula("(x^2+y-11)^2+(x+y^2-7)^2", Domain::square(5.0));
    let built_in = landscape("himmelblau");
    assert_eq!(typed.minima().len(), 4, "{:?}", typed.minima());
    for m in built_in.minima() {
        let (nearest, distance) = typed.nearest_minimum(*m).unwrap();
        assert!(distance < 1e-9, "{m:?} vs {nearest:?}");
    }
    // A kink (abs), a flat minimum (x^4), and a bowl with ripples.
    let kink = formula("abs(x-1) + 2*abs(y+0.5)", DEFAULT_FORMULA_DOMAIN);
    assert_eq!(kink.minima().len(), 1, "{:?}", kink.minima());
    let m = kink.minima()[0];
    assert!(
        (m[0] - 1.0).abs() < 1e-6 && (m[1] + 0.5).abs() < 1e-6,
        "{m:?}"
    );
    let flat = formula("x^4 + y^4", DEFAULT_FORMULA_DOMAIN);
    assert_eq!(flat.minima().len(), 1, "{:?}", flat.minima());
    assert!(flat.minima()[0][0].hypot(flat.minima()[0][1]) < 0.05);
    let rippled = formula(
        "0.5*x^2+2*y^2+0.3*sin(3*x)*cos(2*y)",
        DEFAULT_FORMULA_DOMAIN,
    );
    assert!(!rippled.minima().is_empty());
    let (deepest, value) = (rippled.minima()[0], rippled.value(rippled.minima()[0]));
    for m in rippled.minima() {
        assert!(rippled.value(*m) >= value);
        assert!(rippled.gradient(*m)[0].hypot(rippled.gradient(*m)[1]) < 1e-9);
    }
    assert!(rippled.domain().contains(deepest));
    // Flat, unbounded below and a saddle: none.
    assert!(formula("1", DEFAULT_FORMULA_DOMAIN).minima().is_empty());
    assert!(formula("x - y", DEFAULT_FORMULA_DOMAIN).minima().is_empty());
    assert!(
        formula("x^2 - y^2", DEFAULT_FORMULA_DOMAIN)
            .minima()
            .is_empty()
    );
    // ln(x) falls without bound toward x = 0, where it stops being defined: no minimum there
    assert_eq!(
        formula("ln(x)", DEFAULT_FORMULA_DOMAIN).minima(),
        &[] as &[[f64; 2]]
    );
    // an undefined half-plane next to a real minimum does not hide it
    let m = formula("(x-1)^2 + y^2 + sqrt(x)*0", DEFAULT_FORMULA_DOMAIN)
        .minima()
        .to_vec();
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        (m[0][0] - 1.0).abs() < 1e-6 && m[0][1].abs() < 1e-6,
        "{m:?}"
    );
}

#[test]
fn bad_formulas_and_domains_are_refused_with_a_message() {
    let err = Landscape::new(LandscapeSpec::formula(
        "x + sinn(y)",
        DEFAULT_FORMULA_DOMAIN,
    ))
    .unwrap_err();
    let CoreError::Formula { expr, error } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(expr, "x + sinn(y)");
    assert_eq!(error.column, 5);
    assert_eq!(
        err.to_string(),
        "invalid formula: unknown function 'sinn' at column 5 (did you mean 'sin'?)"
    );
    // Undefined on most of the domain.
    let err = Landscape::new(LandscapeSpec::formula(
        "ln(x)",
        Domain {
            x: [-3.0, 1.0],
            y: [-3.0, 3.0],
        },
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("defined") && err.contains("at least half"),
        "{err}"
    );
    assert!(Landscape::new(LandscapeSpec::formula("ln(-1)", DEFAULT_FORMULA_DOMAIN)).is_err());
    // Domains.
    for (x, y) in [
        ((1.0, -1.0), (-1.0, 1.0)),
        ((0.0, 0.0), (-1.0, 1.0)),
        ((f64::NAN, 1.0), (-1.0, 1.0)),
        ((-1.0, 1.0), (-1.0, f64::INFINITY)),
        ((-1e7, 1.0), (-1.0, 1.0)),
    ] {
        let spec = LandscapeSpec::Formula {
            expr: "x^2".into(),
            x,
            y,
        };
        let err = Landscape::new(spec).unwrap_err().to_string();
        assert!(err.contains("range"), "{x:?} {y:?}: {err}");
    }
    // Exactly half defined is enough: ln(x) on [-3, 3]^2; the start is where it is defined.
    let half = formula("ln(x)", DEFAULT_FORMULA_DOMAIN);
    let start = half.default_start();
    assert!(
        half.value(start).is_finite() && half.domain().contains(start),
        "{start:?}"
    );
}

#[test]
fn the_start_is_off_centre_and_descriptions_name_the_formula() {
    let l = formula("x^2 + 3*y^2", DEFAULT_FORMULA_DOMAIN);
    assert_eq!(l.default_start(), [-2.0, 1.5]);
    assert_eq!(l.name(), "formula");
    assert!(!l.description().is_empty());
    assert_eq!(l.formula().map(|f| f.source()), Some("x^2 + 3*y^2"));
    assert!(landscape("bowl").formula().is_none());
    assert!(formula("(1-x)^2 + 100*(y-x^2)^2", Domain::square(2.0)).log_height_recommended());
    assert!(!l.log_height_recommended());
}

#[test]
fn undefined_points_are_gaps_in_the_grid() {
    // sqrt(x) + y^2 on [-3, 3]^2: undefined where x < 0.
    let l = formula("sqrt(x) + y^2", DEFAULT_FORMULA_DOMAIN);
    let n = 61;
    for mode in [HeightMode::Linear, HeightMode::Log] {
        let grid = SurfaceGrid::sample(&l, n, mode);
        assert_eq!(grid.undefined.len(), n * n);
        assert_eq!(grid.undefined_count, 30 * n, "columns x < 0");
        for j in 0..n {
            for i in 0..n {
                let k = j * n + i;
                assert_eq!(grid.undefined[k], i < 30, "({i}, {j})");
                assert!(grid.loss[k].is_finite() && grid.height[k].is_finite());
                assert!(grid.normal_slope[k].iter().all(|s| s.is_finite()));
            }
        }
        // The ranges are those of the defined part: min 0 at (0, 0), max sqrt(3) + 9.
        assert_eq!(grid.loss_range[0], 0.0);
        assert!((grid.loss_range[1] - (3f32.sqrt() + 9.0)).abs() < 1e-5);
    }
    // Built-ins have no gaps.
    assert_eq!(
        SurfaceGrid::sample(&landscape("beale"), 33, HeightMode::Linear).undefined_count,
        0
    );
}

#[test]
fn a_run_that_reaches_an_undefined_point_diverges() {
    // ln(x + 2): the slope pulls x toward -2, where the loss is undefined.
    let l = formula("ln(x + 2) + y^2", DEFAULT_FORMULA_DOMAIN);
    let mut config = RunConfig::new(OptimizerKind::Sgd, [1.0, 0.5]);
    config.hyper.lr = 0.5;
    let run = trace(&l, &config, 1000).unwrap();
    assert!(
        matches!(
            run.status,
            RunStatus::Diverged {
                reason: DivergenceReason::NonFiniteLoss | DivergenceReason::NonFiniteUpdate,
                ..
            }
        ),
        "{:?}",
        run.status
    );
    assert!(run.records.iter().all(|r| r.loss.is_finite()));
}

#[test]
fn scenes_with_a_formula_round_trip_and_version_1_still_loads() {
    assert_eq!(SCENE_VERSION, 6);
    let mut scene = lessons::preset("saddle").unwrap();
    scene.landscape = LandscapeSpec::formula("x^2 - y^2 + 0.1*x^4", Domain::square(2.0));
    scene.version = SCENE_VERSION;
    let text = scene.to_ron().unwrap();
    assert!(text.contains("Formula("), "{text}");
    let back = Scene::from_ron(&text).unwrap();
    assert_eq!(back, scene);

    // Written by hand, integers for the domain.
    let (head, rest) = text.split_once("    landscape: ").unwrap();
    let (_, tail) = rest.split_once("    surface: ").unwrap();
    let hand = format!(
        "{head}    landscape: Formula(expr: \"x^2 - y^2 + 0.1*x^4\", x: (-2, 2), y: (-2, 2)),\n    surface: {tail}"
    );
    assert_eq!(Scene::from_ron(&hand).unwrap().landscape, scene.landscape);

    // Version 1 files still load.
    let mut v1 = lessons::preset("saddle").unwrap();
    v1.version = 1;
    assert_eq!(Scene::from_ron(&v1.to_ron().unwrap()).unwrap().version, 1);

    // A broken formula is a message, not a panic.
    let broken = hand.replace("0.1*x^4", "0.1*x^^4");
    let err = Scene::from_ron(&broken).unwrap_err().to_string();
    assert!(
        err.contains("landscape: invalid formula") && err.contains("column 19"),
        "{err}"
    );
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    /// Random formulas from the language's pieces, including poles, logs and kinks.
    fn any_formula() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("x".to_owned()),
            Just("y".to_owned()),
            Just("pi".to_owned()),
            (-5.0f64..5.0).prop_map(|c| format!("({c:.2})")),
        ];
        leaf.prop_recursive(4, 20, 2, |inner| {
            let unary = prop_oneof![
                Just("sin"),
                Just("cos"),
                Just("tan"),
                Just("asin"),
                Just("acos"),
                Just("atan"),
                Just("sinh"),
                Just("cosh"),
                Just("tanh"),
                Just("exp"),
                Just("ln"),
                Just("sqrt"),
                Just("abs"),
            ];
            let binary = prop_oneof![
                Just("+"),
                Just("-"),
                Just("*"),
                Just("/"),
                Just("^"),
                Just("**")
            ];
            let call2 = prop_oneof![Just("min"), Just("max"), Just("pow")];
            prop_oneof![
                (unary, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
                (inner.clone(), binary, inner.clone())
                    .prop_map(|(a, op, b)| format!("({a}){op}({b})")),
                (call2, inner.clone(), inner.clone())
                    .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
                inner.prop_map(|a| format!("-{a}")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Any formula on any domain either builds or is refused with a message; a built one samples
        /// to a finite grid, lists minima inside its domain and runs without a panic.
        #[test]
        fn any_formula_builds_or_is_refused_never_panics(
            expr in any_formula(),
            x0 in -10.0f64..10.0,
            w in 0.01f64..20.0,
            y0 in -10.0f64..10.0,
            h in 0.01f64..20.0,
        ) {
            let domain = Domain { x: [x0, x0 + w], y: [y0, y0 + h] };
            match Landscape::new(LandscapeSpec::formula(expr.clone(), domain)) {
                Err(err) => prop_assert!(!err.to_string().is_empty()),
                Ok(l) => {
                    let grid = SurfaceGrid::sample(&l, 17, HeightMode::Log);
                    prop_assert!(grid.loss.iter().chain(&grid.height).all(|v| v.is_finite()));
                    prop_assert!(grid.undefined_count < 17 * 17, "{}", expr);
                    for m in l.minima() {
                        prop_assert!(l.domain().contains(*m), "{} {:?}", expr, m);
                    }
                    let start = l.default_start();
                    prop_assert!(l.domain().contains(start));
                    let config = RunConfig::new(OptimizerKind::Adam, start);
                    match trace(&l, &config, 200) {
                        Ok(run) => prop_assert!(run.records.iter().all(|r| r.loss.is_finite())),
                        // refused only where the start truly has no finite loss or gradient
                        Err(losscape::core::CoreError::InvalidStart { .. }) => {
                            let (v, g) = l.value_and_gradient(start);
                            prop_assert!(
                                !(v.is_finite() && g[0].is_finite() && g[1].is_finite()),
                                "{} at {:?}", expr, start
                            );
                        }
                        Err(other) => prop_assert!(false, "{}: {}", expr, other),
                    }
                    let _ = l.hessian(start);
                }
            }
        }
    }
}
