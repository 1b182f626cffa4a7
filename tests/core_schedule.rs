//! Learning-rate schedules: `eta_t = eta f(c)` with `c = t - 1`. Each `f(c)` below is worked out by
//! hand in the comments; the command-line forms read back what they print; every bad value is refused
//! with a message naming it; and a run with a schedule is the same through the runner and `trace`.

mod common;

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use common::bits;

use losscape::core::{
    Hyperparams, Landscape, LandscapeSpec, OptimizerKind, OptimizerState, RunConfig, Runner,
    Schedule, StepDetail, StepRecord, Vec2d, step_into, trace,
};

#[track_caller]
fn factors(schedule: &str, expected: &[(u64, f64)]) {
    let s: Schedule = schedule.parse().expect(schedule);
    for &(c, f) in expected {
        let got = s.factor(c);
        assert!(
            (got - f).abs() <= 1e-15,
            "{schedule}: f({c}) = {got}, expected {f}"
        );
    }
}

#[test]
fn constant_is_one() {
    factors(
        "constant",
        &[(0, 1.0), (1, 1.0), (999, 1.0), (u64::MAX, 1.0)],
    );
    assert_eq!(Schedule::default(), Schedule::Constant);
}

#[test]
fn step_multiplies_by_g_every_k_steps() {
    // step:3:0.5: f(c) = 0.5^floor(c/3): c = 0, 1, 2 -> 1; c = 3 (the first boundary), 5 -> 0.5;
    // c = 6 -> 0.25; c = 10 -> 0.5^3 = 0.125.
    factors(
        "step:3:0.5",
        &[
            (0, 1.0),
            (1, 1.0),
            (2, 1.0),
            (3, 0.5),
            (5, 0.5),
            (6, 0.25),
            (10, 0.125),
        ],
    );
    // step:1:0.1: 0.1^c; G = 1 never decays.
    factors("step:1:0.1", &[(0, 1.0), (1, 0.1), (2, 0.1 * 0.1)]);
    factors("step:5:1", &[(0, 1.0), (1000, 1.0)]);
}

#[test]
fn exp_multiplies_by_g_every_step() {
    // exp:0.5: f(c) = 0.5^c: 1, 0.5, 0.25, 0.125 at c = 0..3; exp:0.9 at c = 2: 0.81.
    factors(
        "exp:0.5",
        &[
            (0, 1.0),
            (1, 0.5),
            (2, 0.25),
            (3, 0.125),
            (10, 1.0 / 1024.0),
        ],
    );
    factors("exp:0.9", &[(2, 0.81)]);
    factors("exp:1", &[(0, 1.0), (100_000, 1.0)]);
}

#[test]
fn cosine_goes_from_one_to_a_and_stays() {
    // cosine:100:0.1: f(c) = 0.9 (1 + cos(pi min(c, 100) / 100)) / 2 + 0.1:
    // c = 0: 0.9 * 2 / 2 + 0.1 = 1; c = 50: 0.9 * 1 / 2 + 0.1 = 0.55;
    // c = 25: 0.9 (1 + sqrt(2)/2) / 2 + 0.1 = 0.868198...; c = 100: 0.9 * 0 / 2 + 0.1 = 0.1;
    // past T (c = 101, 1000): min(c, T) = T, still 0.1.
    factors(
        "cosine:100:0.1",
        &[
            (0, 1.0),
            (25, 0.9 * (1.0 + FRAC_1_SQRT_2) / 2.0 + 0.1),
            (50, 0.55),
            (100, 0.1),
            (101, 0.1),
            (1000, 0.1),
        ],
    );
    // cosine:4 (A = 0): c = 1: (1 + cos(pi/4))/2 = (1 + sqrt(2)/2)/2; c = 2: 0.5; c = 3:
    // (1 - sqrt(2)/2)/2; c = 4 and on: 0.
    factors(
        "cosine:4",
        &[
            (0, 1.0),
            (1, (1.0 + FRAC_1_SQRT_2) / 2.0),
            (2, 0.5),
            (3, (1.0 - FRAC_1_SQRT_2) / 2.0),
            (4, 0.0),
            (7, 0.0),
        ],
    );
    // A = 1 is constant.
    factors("cosine:10:1", &[(0, 1.0), (5, 1.0), (50, 1.0)]);
}

#[test]
fn warmup_cosine_rises_linearly_then_decays_over_the_rest_of_t() {
    // warmup-cosine:10:110:0.2: c/10 for c < 10: f(0) = 0, f(1) = 0.1, f(5) = 0.5, f(9) = 0.9;
    // then the cosine over T - W = 100 steps: f(10) = 0.8 (1 + cos 0)/2 + 0.2 = 1;
    // f(35) = 0.8 (1 + cos(pi/4))/2 + 0.2; f(60) = 0.8 * 0.5 + 0.2 = 0.6; f(110) = 0.2 = A at c = T
    // (T counts the warm-up); past T: 0.2.
    factors(
        "warmup-cosine:10:110:0.2",
        &[
            (0, 0.0),
            (1, 0.1),
            (5, 0.5),
            (9, 0.9),
            (10, 1.0),
            (35, 0.8 * (1.0 + FRAC_1_SQRT_2) / 2.0 + 0.2),
            (60, 0.6),
            (110, 0.2),
            (111, 0.2),
            (10_000, 0.2),
        ],
    );
    // warmup-cosine:1:3 (A = 0): f(0) = 0, f(1) = 1, f(2) = (1 + cos(pi/2))/2 = 0.5, f(3) = 0.
    factors(
        "warmup-cosine:1:3",
        &[(0, 0.0), (1, 1.0), (2, 0.5), (3, 0.0), (4, 0.0)],
    );
    // As optax's warmup_cosine_decay_schedule(0, 1, warmup_steps=4, decay_steps=8) at step 6:
    // progress (6 - 4)/(8 - 4) = 1/2 -> 0.5.
    factors("warmup-cosine:4:8", &[(2, 0.5), (6, 0.5)]);
    let s: Schedule = "warmup-cosine:4:8".parse().unwrap();
    assert!((s.factor(5) - (1.0 + (PI / 4.0).cos()) / 2.0).abs() < 1e-15);
}

#[test]
fn inv_sqrt_halves_at_three_w() {
    // inv-sqrt:4: f(c) = 1/sqrt(1 + c/4): c = 0: 1; c = 4 (= W): 1/sqrt 2; c = 12: 1/sqrt 4 = 0.5;
    // c = 32: 1/sqrt 9 = 1/3. inv-sqrt:0.5 (a fractional W): c = 1: 1/sqrt 3.
    factors(
        "inv-sqrt:4",
        &[(0, 1.0), (4, FRAC_1_SQRT_2), (12, 0.5), (32, 1.0 / 3.0)],
    );
    factors("inv-sqrt:0.5", &[(0, 1.0), (1, 1.0 / 3f64.sqrt())]);
}

#[test]
fn the_command_line_forms_read_back_what_they_print() {
    let cases: [(&str, Schedule, &str); 9] = [
        ("constant", Schedule::Constant, "constant"),
        (
            "step:200:0.5",
            Schedule::Step {
                every: 200,
                gamma: 0.5,
            },
            "step:200:0.5",
        ),
        ("exp:0.998", Schedule::Exp { gamma: 0.998 }, "exp:0.998"),
        (
            "cosine:100",
            Schedule::Cosine {
                steps: 100,
                alpha: 0.0,
            },
            "cosine:100:0",
        ),
        (
            "cosine:100:0.1",
            Schedule::Cosine {
                steps: 100,
                alpha: 0.1,
            },
            "cosine:100:0.1",
        ),
        (
            "warmup-cosine:10:100",
            Schedule::WarmupCosine {
                warmup: 10,
                steps: 100,
                alpha: 0.0,
            },
            "warmup-cosine:10:100:0",
        ),
        (
            "warmup-cosine:10:100:0.25",
            Schedule::WarmupCosine {
                warmup: 10,
                steps: 100,
                alpha: 0.25,
            },
            "warmup-cosine:10:100:0.25",
        ),
        (
            "inv-sqrt:100",
            Schedule::InvSqrt { warmup: 100.0 },
            "inv-sqrt:100",
        ),
        (
            "inv-sqrt:2.5",
            Schedule::InvSqrt { warmup: 2.5 },
            "inv-sqrt:2.5",
        ),
    ];
    for (text, schedule, printed) in cases {
        let parsed: Schedule = text.parse().expect(text);
        assert_eq!(parsed, schedule, "{text}");
        assert_eq!(parsed.to_string(), printed);
        assert_eq!(printed.parse::<Schedule>().unwrap(), schedule, "{printed}");
        assert!(Schedule::NAMES.contains(&parsed.name()));
        assert!(!parsed.formula().is_empty());
    }
    for example in Schedule::examples() {
        assert_eq!(example.to_string().parse::<Schedule>().unwrap(), example);
        assert!(example.validate().is_ok());
    }
    let names: Vec<&str> = Schedule::examples().iter().map(Schedule::name).collect();
    assert_eq!(names, Schedule::NAMES);
    // Spaces around the parts are forgiven.
    assert_eq!(
        " step : 2 : 0.5 ".parse::<Schedule>().unwrap(),
        Schedule::Step {
            every: 2,
            gamma: 0.5
        }
    );
}

#[track_caller]
fn refused(text: &str, needles: &[&str]) {
    let err = text.parse::<Schedule>().expect_err(text).to_string();
    assert!(
        err.starts_with("invalid learning-rate schedule"),
        "{text}: {err}"
    );
    for needle in needles {
        assert!(
            err.contains(needle),
            "{text}: {err:?} should mention {needle:?}"
        );
    }
}

#[test]
fn bad_parameters_are_refused_with_the_problem_named() {
    // step
    refused("step:0:0.5", &["K must be >= 1"]);
    refused("step:2:0", &["G = 0", "(0, 1]"]);
    refused("step:2:-0.5", &["G = -0.5", "(0, 1]"]);
    refused("step:2:1.5", &["G = 1.5", "(0, 1]"]);
    // exp
    refused("exp:-0.5", &["G = -0.5", "(0, 1]"]);
    refused("exp:0", &["G = 0", "(0, 1]"]);
    refused("exp:1.01", &["G = 1.01", "(0, 1]"]);
    // cosine
    refused("cosine:0", &["T must be >= 1"]);
    refused("cosine:100:1.5", &["A = 1.5", "[0, 1]"]);
    refused("cosine:100:-0.1", &["A = -0.1", "[0, 1]"]);
    // warmup-cosine
    refused("warmup-cosine:0:100", &["W must be >= 1"]);
    refused(
        "warmup-cosine:100:50",
        &[
            "W = 100",
            "shorter than the length T = 50",
            "counts the warm-up",
        ],
    );
    refused("warmup-cosine:100:100", &["W = 100", "T = 100"]);
    refused("warmup-cosine:10:100:2", &["A = 2", "[0, 1]"]);
    refused("warmup-cosine:10:100:-1", &["A = -1", "[0, 1]"]);
    // inv-sqrt
    refused("inv-sqrt:0", &["W = 0", "> 0"]);
    refused("inv-sqrt:-5", &["W = -5", "> 0"]);
}

#[test]
fn malformed_schedules_are_refused_with_the_problem_named() {
    // the wrong number of parts
    for text in [
        "constant:1",
        "step:2",
        "step:1:2:3",
        "exp",
        "exp:0.5:1",
        "cosine",
        "cosine:1:0.5:3",
        "warmup-cosine:10",
        "warmup-cosine:1:2:0.5:4",
        "inv-sqrt",
        "inv-sqrt:1:2",
    ] {
        let name = text.split(':').next().unwrap();
        refused(
            text,
            &[
                &format!("wrong number of parameters for {name}"),
                "step:K:G",
                "warmup-cosine:W:T[:A]",
            ],
        );
    }
    // unknown names
    for text in ["bogus", "linear:5", "", "Step:2:0.5", "cos:10"] {
        refused(text, &["unknown schedule", "constant, step:K:G, exp:G"]);
    }
    // not numbers, or not whole numbers where a step count is expected
    refused("step:two:0.5", &["K = 'two'", "whole number"]);
    refused("step:-1:0.5", &["K = '-1'", "whole number"]);
    refused("step:1.5:0.5", &["K = '1.5'", "whole number"]);
    refused("step:2:half", &["G = 'half'", "must be a number"]);
    refused("exp:abc", &["G = 'abc'", "must be a number"]);
    refused("exp:nan", &["G = 'nan'", "must be a number"]);
    refused("exp:inf", &["G = 'inf'", "must be a number"]);
    refused("cosine:1.5", &["T = '1.5'", "whole number"]);
    refused("cosine:10:x", &["A = 'x'", "must be a number"]);
    refused("warmup-cosine:w:10", &["W = 'w'", "whole number"]);
    refused("warmup-cosine:1:t", &["T = 't'", "whole number"]);
    refused("inv-sqrt:x", &["W = 'x'", "must be a number"]);
    refused("inv-sqrt:inf", &["W = 'inf'", "must be a number"]);
}

#[test]
fn validate_refuses_values_built_in_code() {
    let bad = [
        (
            Schedule::Step {
                every: 0,
                gamma: 0.5,
            },
            "K must be >= 1",
        ),
        (
            Schedule::Step {
                every: 1,
                gamma: f64::NAN,
            },
            "(0, 1]",
        ),
        (
            Schedule::Exp {
                gamma: f64::INFINITY,
            },
            "(0, 1]",
        ),
        (
            Schedule::Cosine {
                steps: 0,
                alpha: 0.0,
            },
            "T must be >= 1",
        ),
        (
            Schedule::Cosine {
                steps: 5,
                alpha: f64::NAN,
            },
            "[0, 1]",
        ),
        (
            Schedule::WarmupCosine {
                warmup: 5,
                steps: 4,
                alpha: 0.0,
            },
            "shorter than",
        ),
        (Schedule::InvSqrt { warmup: f64::NAN }, "finite and > 0"),
    ];
    for (schedule, needle) in bad {
        let err = schedule.validate().expect_err(needle).to_string();
        assert!(err.contains(needle), "{schedule:?}: {err}");
        // ... and through the hyperparameters and the run config.
        let hp = Hyperparams {
            schedule,
            ..Hyperparams::defaults_for(OptimizerKind::Adam)
        };
        assert!(hp.validate().unwrap_err().to_string().contains(needle));
        let config = RunConfig {
            hyper: hp,
            ..RunConfig::new(OptimizerKind::Adam, [0.5, 0.5])
        };
        let land = Landscape::new(LandscapeSpec::from_name("bowl").unwrap()).unwrap();
        assert!(Runner::new(&land, config).is_err(), "{schedule:?}");
        assert!(trace(&land, &config, 5).is_err(), "{schedule:?}");
    }
}

#[test]
fn hyperparams_validate_refuses_bad_nu_nu2_and_weight_decay() {
    let ok = Hyperparams::defaults_for(OptimizerKind::QhAdam);
    let cases: [(&str, &str, Hyperparams); 10] = [
        ("nu", "[0, 1]", Hyperparams { nu: -0.1, ..ok }),
        ("nu", "[0, 1]", Hyperparams { nu: 1.5, ..ok }),
        ("nu", "[0, 1]", Hyperparams { nu: f64::NAN, ..ok }),
        ("nu2", "[0, 1]", Hyperparams { nu2: -0.1, ..ok }),
        ("nu2", "[0, 1]", Hyperparams { nu2: 1.01, ..ok }),
        (
            "nu2",
            "[0, 1]",
            Hyperparams {
                nu2: f64::NAN,
                ..ok
            },
        ),
        (
            "weight decay",
            ">= 0",
            Hyperparams {
                weight_decay: -1.0,
                ..ok
            },
        ),
        (
            "weight decay",
            ">= 0",
            Hyperparams {
                weight_decay: -1e-12,
                ..ok
            },
        ),
        (
            "weight decay",
            "finite",
            Hyperparams {
                weight_decay: f64::INFINITY,
                ..ok
            },
        ),
        (
            "weight decay",
            "finite",
            Hyperparams {
                weight_decay: f64::NAN,
                ..ok
            },
        ),
    ];
    for (name, range, h) in cases {
        let err = h.validate().expect_err(name).to_string();
        assert!(
            err.contains(&format!("invalid {name}")) && err.contains(range),
            "{err}"
        );
    }
    // The ends are allowed.
    for h in [
        Hyperparams {
            nu: 0.0,
            nu2: 0.0,
            weight_decay: 0.0,
            ..ok
        },
        Hyperparams {
            nu: 1.0,
            nu2: 1.0,
            weight_decay: 10.0,
            ..ok
        },
    ] {
        assert!(h.validate().is_ok(), "{h:?}");
    }
    // The defaults.
    assert_eq!(
        (ok.nu, ok.nu2, ok.beta_m, ok.beta_r),
        (0.7, 1.0, 0.995, 0.999)
    );
    assert_eq!(
        Hyperparams::defaults_for(OptimizerKind::AdamW).weight_decay,
        0.01
    );
    assert_eq!(
        Hyperparams::defaults_for(OptimizerKind::Lion).weight_decay,
        0.0
    );
    assert_eq!(Hyperparams::defaults_for(OptimizerKind::Qhm).beta_m, 0.999);
    for kind in OptimizerKind::ALL {
        assert_eq!(Hyperparams::defaults_for(kind).schedule, Schedule::Constant);
    }
}

#[test]
fn lr_at_is_eta_times_the_factor_at_t_minus_one() {
    // eta 0.2, step:2:0.5: t = 1, 2 (c = 0, 1) -> 0.2; t = 3, 4 -> 0.1; t = 5 -> 0.05.
    let hp = Hyperparams {
        lr: 0.2,
        schedule: "step:2:0.5".parse().unwrap(),
        ..Hyperparams::defaults_for(OptimizerKind::Sgd)
    };
    let at: Vec<f64> = (1..=5).map(|t| hp.lr_at(t)).collect();
    assert_eq!(at, [0.2, 0.2, 0.1, 0.1, 0.05]);
    // eta 0.1, warmup-cosine:4:10: t = 1 -> 0 (no step), t = 3 -> 0.1 * 2/4 = 0.05.
    let hp = Hyperparams {
        lr: 0.1,
        schedule: "warmup-cosine:4:10".parse().unwrap(),
        ..hp
    };
    assert_eq!(hp.lr_at(1), 0.0);
    assert_eq!(hp.lr_at(3), 0.05);
    // For every example schedule, bit for bit.
    for schedule in Schedule::examples() {
        let hp = Hyperparams {
            lr: 0.037,
            schedule,
            ..hp
        };
        for t in (1..=50).chain([199, 200, 201, 999, 1000, 1001, 5000]) {
            assert_eq!(
                hp.lr_at(t).to_bits(),
                (0.037 * schedule.factor(t - 1)).to_bits(),
                "{schedule} t{t}"
            );
        }
    }
}

#[test]
fn a_scheduled_run_is_the_same_through_the_runner_trace_and_step() {
    let land = Landscape::new(LandscapeSpec::from_name("rosenbrock").unwrap()).unwrap();
    let schedules = [
        "cosine:100:0.1",
        "warmup-cosine:10:150:0.05",
        "step:20:0.5",
        "exp:0.99",
        "inv-sqrt:10",
    ];
    for kind in OptimizerKind::ALL {
        for schedule in schedules {
            let mut config = RunConfig::new(kind, land.default_start());
            config.hyper.schedule = schedule.parse().unwrap();
            if kind.uses_hessian() {
                config.hyper.lr = 0.5;
            }
            let traced = trace(&land, &config, 200).expect("a valid run");
            let mut runner = Runner::new(&land, config).unwrap();
            let mut rows = vec![runner.record()];
            while rows.len() <= 200 {
                match runner.step() {
                    Some(r) => rows.push(r),
                    None => break,
                }
            }
            assert_eq!(runner.status(), traced.status, "{kind:?} {schedule}");
            // trace's rows carry the gradient each step used: for every kind but the lecture's
            // Nesterov (look-ahead) that is the exact gradient the runner's row holds.
            if kind != OptimizerKind::Nesterov {
                assert_eq!(bits(&rows), bits(&traced.records), "{kind:?} {schedule}");
            } else {
                let pos = |r: &[StepRecord]| r.iter().map(|r| r.pos).collect::<Vec<_>>();
                assert_eq!(pos(&rows), pos(&traced.records), "{kind:?} {schedule}");
            }
            // ... and the positions are those of the bare update rule with eta_t.
            let mut state = OptimizerState::default();
            let mut theta = config.start;
            for (t, row) in rows.iter().enumerate().skip(1) {
                let mut d = StepDetail::default();
                step_into(
                    kind,
                    &config.hyper,
                    &mut state,
                    &theta,
                    &mut |p: &Vec2d| land.value_and_gradient(*p).0,
                    &mut |p: &Vec2d, out: &mut Vec2d| *out = land.gradient(*p),
                    &mut |p: &Vec2d| land.hessian(*p),
                    None,
                    &mut d,
                );
                assert_eq!(d.eta, config.hyper.lr_at(t as u64));
                assert_eq!(d.new_theta, row.pos, "{kind:?} {schedule} t{t}");
                theta = d.new_theta;
            }
        }
    }
}
