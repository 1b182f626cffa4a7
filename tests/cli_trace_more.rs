//! `losscape trace` with the flags of the optimizers added after the lecture's six and the learning-rate
//! schedules: the binary's rows are `core::trace`'s, bad values are one `error:` line and exit 2, and
//! Newton's saddle attraction shows on the command line too.

mod common;

use common::{landscape, losscape, stderr, stdout};
use losscape::core::{
    Convention, Domain, Landscape, LandscapeSpec, OptimizerKind, RunConfig, RunStatus, Trajectory,
    Vec2d, trace,
};

/// The CSV's rows, every cell a number.
fn rows(csv: &str) -> Vec<[f64; 7]> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("step,x,y,loss,grad_x,grad_y,evals"));
    lines
        .map(|line| {
            let cells: Vec<f64> = line
                .split(',')
                .map(|c| c.parse().unwrap_or_else(|_| panic!("{c:?} in {line:?}")))
                .collect();
            cells.try_into().expect("seven columns")
        })
        .collect()
}

/// The binary's rows equal the core's, bit for bit (the CSV writes shortest round-trip decimals).
#[track_caller]
fn same_rows(csv: &str, expected: &Trajectory) {
    let got = rows(csv);
    assert_eq!(got.len(), expected.records.len(), "row count");
    for (row, r) in got.iter().zip(&expected.records) {
        let want = [
            r.step as f64,
            r.pos[0],
            r.pos[1],
            r.loss,
            r.grad[0],
            r.grad[1],
            r.evals as f64,
        ];
        assert_eq!(
            row.map(f64::to_bits),
            want.map(f64::to_bits),
            "row {}: {row:?} vs {want:?}",
            r.step
        );
    }
}

/// Runs `losscape trace ARGS`, expecting success, and returns (stdout, stderr).
#[track_caller]
fn ok(args: &[&str]) -> (String, String) {
    let o = losscape(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    (stdout(&o), stderr(&o))
}

#[test]
fn adamw_with_a_cosine_schedule_weight_decay_and_pytorch_matches_core() {
    let (out, err) = ok(&[
        "trace",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adamw",
        "--steps",
        "150",
        "--schedule",
        "cosine:100:0.1",
        "--weight-decay",
        "0.05",
        "--convention",
        "pytorch",
    ]);
    assert!(!err.contains("warning"), "{err}");
    let land = landscape("rosenbrock");
    let mut config = RunConfig::new(OptimizerKind::AdamW, land.default_start());
    config.hyper.schedule = "cosine:100:0.1".parse().unwrap();
    config.hyper.weight_decay = 0.05;
    config.hyper.convention = Convention::PyTorch;
    let expected = trace(&land, &config, 150).unwrap();
    assert_eq!(expected.records.len(), 151);
    same_rows(&out, &expected);
    // The options matter: without them the rows differ.
    let plain = trace(
        &land,
        &RunConfig::new(OptimizerKind::AdamW, land.default_start()),
        150,
    )
    .unwrap();
    assert_ne!(plain.records, expected.records);
}

#[test]
fn qhadam_qhm_and_lion_options_match_core() {
    let land = landscape("himmelblau");
    let start: Vec2d = [0.5, -0.5];
    let cases: [(&[&str], OptimizerKind, fn(&mut RunConfig)); 3] = [
        (
            &[
                "--optimizer",
                "qhadam",
                "--lr",
                "0.02",
                "--nu",
                "0.5",
                "--nu2",
                "0.3",
                "--schedule",
                "warmup-cosine:10:100:0.1",
                "--convention",
                "pytorch",
            ],
            OptimizerKind::QhAdam,
            |c| {
                c.hyper.lr = 0.02;
                c.hyper.nu = 0.5;
                c.hyper.nu2 = 0.3;
                c.hyper.schedule = "warmup-cosine:10:100:0.1".parse().unwrap();
                c.hyper.convention = Convention::PyTorch;
            },
        ),
        (
            &[
                "--optimizer",
                "qhm",
                "--nu",
                "0.9",
                "--schedule",
                "inv-sqrt:20",
            ],
            OptimizerKind::Qhm,
            |c| {
                c.hyper.nu = 0.9;
                c.hyper.schedule = "inv-sqrt:20".parse().unwrap();
            },
        ),
        (
            &[
                "--optimizer",
                "lion",
                "--weight-decay",
                "0.1",
                "--schedule",
                "step:50:0.5",
            ],
            OptimizerKind::Lion,
            |c| {
                c.hyper.weight_decay = 0.1;
                c.hyper.schedule = "step:50:0.5".parse().unwrap();
            },
        ),
    ];
    for (flags, kind, set) in cases {
        let mut args = vec![
            "trace",
            "--surface",
            "himmelblau",
            "--start=0.5,-0.5",
            "--steps",
            "120",
        ];
        args.extend_from_slice(flags);
        let (out, err) = ok(&args);
        assert!(!err.contains("warning"), "{args:?}: {err}");
        let mut config = RunConfig::new(kind, start);
        set(&mut config);
        same_rows(&out, &trace(&land, &config, 120).unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
// Bad values: one line on stderr starting with `error: `, exit code 2, nothing on stdout.

#[track_caller]
fn refused(extra: &[&str], needles: &[&str]) {
    let mut args = vec!["trace", "--surface", "rosenbrock"];
    args.extend_from_slice(extra);
    let o = losscape(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "{args:?}: {err:?} should mention {needle:?}"
        );
    }
    assert_eq!(stdout(&o), "", "{args:?}: nothing on stdout");
}

#[test]
fn bad_schedules_are_refused() {
    refused(
        &["--optimizer", "adam", "--schedule", "warmup-cosine:100:50"],
        &["schedule", "W = 100", "T = 50"],
    );
    refused(
        &["--optimizer", "sgd", "--schedule", "step:0:0.5"],
        &["schedule", "K must be >= 1"],
    );
    refused(
        &["--optimizer", "lion", "--schedule", "exp:-0.5"],
        &["schedule", "G = -0.5", "(0, 1]"],
    );
    refused(
        &["--optimizer", "adam", "--schedule", "bogus"],
        &["'bogus'", "unknown schedule", "warmup-cosine:W:T[:A]"],
    );
    refused(
        &["--optimizer", "adam", "--schedule", "cosine:10:1.5"],
        &["A = 1.5", "[0, 1]"],
    );
    refused(
        &["--optimizer", "adam", "--schedule", "step:2"],
        &["wrong number of parameters for step"],
    );
    refused(
        &["--optimizer", "adam", "--schedule", "inv-sqrt:x"],
        &["W = 'x'", "must be a number"],
    );
}

#[test]
fn bad_mixes_and_weight_decays_are_refused() {
    refused(
        &["--optimizer", "qhm", "--nu", "1.5"],
        &["nu", "1.5", "[0, 1]"],
    );
    refused(
        &["--optimizer", "qhadam", "--nu", "-0.5"],
        &["nu", "-0.5", "[0, 1]"],
    );
    refused(
        &["--optimizer", "qhadam", "--nu2", "-0.1"],
        &["nu2", "-0.1", "[0, 1]"],
    );
    refused(
        &["--optimizer", "adamw", "--weight-decay", "-1"],
        &["weight decay", "-1", ">= 0"],
    );
    refused(
        &["--optimizer", "lion", "--weight-decay", "nan"],
        &["weight decay", "finite"],
    );
    refused(&["--optimizer", "qhm", "--nu", "half"], &["--nu"]);
}

#[test]
fn options_an_optimizer_does_not_use_warn_but_run() {
    let (out, err) = ok(&[
        "trace",
        "--surface",
        "bowl",
        "--optimizer",
        "sgd",
        "--nu",
        "0.5",
        "--steps",
        "3",
    ]);
    assert!(err.contains("warning: --nu has no effect on sgd"), "{err}");
    assert_eq!(rows(&out).len(), 4);
    for (kind, flag, value) in [
        ("adam", "--weight-decay", "0.1"),
        ("qhm", "--nu2", "0.5"),
        ("adamw", "--nu", "0.5"),
    ] {
        let (_, err) = ok(&[
            "trace",
            "--surface",
            "bowl",
            "--optimizer",
            kind,
            flag,
            value,
            "--steps",
            "3",
        ]);
        assert!(
            err.contains(&format!("warning: {flag} has no effect on {kind}")),
            "{kind} {flag}: {err}"
        );
    }
    // A schedule applies to every optimizer: no warning.
    let (_, err) = ok(&[
        "trace",
        "--surface",
        "bowl",
        "--optimizer",
        "sgd",
        "--schedule",
        "exp:0.9",
        "--steps",
        "3",
    ]);
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn newton_traces_onto_the_saddle_and_saddle_free_newton_into_a_valley() {
    let land = landscape("saddle-valleys");
    let start = [-1.5, 0.3];
    for (kind, name, y_end, loss_end) in [
        (OptimizerKind::Newton, "newton", 0.0, 1.0),
        (
            OptimizerKind::SaddleFreeNewton,
            "saddle-free-newton",
            1.0,
            0.0,
        ),
    ] {
        let (out, err) = ok(&[
            "trace",
            "--surface",
            "saddle-valleys",
            "--optimizer",
            name,
            "--start=-1.5,0.3",
            "--steps",
            "100",
        ]);
        assert!(err.starts_with("converged at step "), "{name}: {err}");
        let expected = trace(&land, &RunConfig::new(kind, start), 100).unwrap();
        assert!(matches!(expected.status, RunStatus::Converged { .. }));
        same_rows(&out, &expected);
        let last = *rows(&out).last().unwrap();
        let [_, x, y, loss, _, _, _] = last;
        assert!(x.abs() < 1e-9, "{name}: {last:?}");
        assert!((y - y_end).abs() < 1e-6, "{name}: {last:?}");
        assert!((loss - loss_end).abs() < 1e-9, "{name}: {last:?}");
    }
}

#[test]
fn a_singular_hessian_ends_the_trace_as_diverged() {
    // L = x^2 + y: H = diag(2, 0) everywhere, so Newton's first step is refused; the trace is the start
    // row alone, exit 0, and stderr says why.
    let o = losscape(&[
        "trace",
        "--formula",
        "x^2 + y",
        "--domain=-2,2,-2,2",
        "--optimizer",
        "newton",
        "--start=1,1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("diverged at step 1: ") && err.contains("singular"),
        "{err}"
    );
    let land = Landscape::new(LandscapeSpec::formula("x^2 + y", Domain::square(2.0))).unwrap();
    let expected = trace(
        &land,
        &RunConfig::new(OptimizerKind::Newton, [1.0, 1.0]),
        500,
    )
    .unwrap();
    assert_eq!(expected.records.len(), 1);
    same_rows(&stdout(&o), &expected);
    assert!(rows(&stdout(&o))[0].iter().all(|v| v.is_finite()));
}

// ---------------------------------------------------------------------------------------------
// Networks (issue 23): the trace's columns, the plane written and sliced, refusals in one line.

#[test]
fn a_network_trace_writes_loss_accuracy_and_its_plane() {
    let dir = common::temp_dir("network-trace");
    let plane = dir.join("plane.json");
    let plane = plane.to_str().unwrap();
    let net = [
        "--network",
        "moons",
        "--hidden",
        "4",
        "--samples",
        "60",
        "--data-seed",
        "2",
    ];
    let mut args = vec!["trace"];
    args.extend_from_slice(&net);
    args.extend_from_slice(&[
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--batch",
        "20",
        "--steps",
        "6",
        "--plane-out",
        plane,
    ]);
    let (out, _) = ok(&args);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("step,loss,accuracy,alpha,beta,distance,batch_loss,grad_norm,evals")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 7, "steps 0 to 6");
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row[0], k.to_string());
        let accuracy: f64 = row[2].parse().unwrap();
        assert!((0.0..=1.0).contains(&accuracy), "{row:?}");
        // each step but the last row's draws a batch of 20 of the 60 points
        assert_eq!(row[6].is_empty(), k == 6, "{row:?}");
    }
    // it starts on its plane's origin and the loss falls
    assert_eq!(&rows[0][3..6], ["0", "0", "0"]);
    let loss = |k: usize| rows[k][1].parse::<f64>().unwrap();
    assert!(loss(6) < loss(0));

    // the plane file slices: a 3 x 3 grid whose middle is the start's loss
    let mut args = vec!["slice"];
    args.extend_from_slice(&net);
    args.extend_from_slice(&["--plane", plane, "--grid", "3"]);
    let (grid, _) = ok(&args);
    let grid: Vec<&str> = grid.lines().collect();
    assert_eq!(grid[0], "alpha,beta,loss");
    assert_eq!(grid.len(), 10);
    let middle: Vec<f64> = grid[5].split(',').map(|v| v.parse().unwrap()).collect();
    assert_eq!(&middle[..2], [0.0, 0.0]);
    assert!(
        (middle[2] - loss(0)).abs() <= 1e-12,
        "{middle:?} against {}",
        loss(0)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn network_refusals_are_one_line() {
    let refused_net = |args: &[&str], needles: &[&str]| {
        let o = losscape(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        for needle in needles {
            assert!(
                err.contains(needle),
                "{args:?}: {err:?} should mention {needle:?}"
            );
        }
        assert_eq!(stdout(&o), "", "{args:?}");
    };
    refused_net(
        &[
            "trace",
            "--network",
            "moons",
            "--optimizer",
            "newton",
            "--steps",
            "3",
        ],
        &["Newton", "Hessian", "354 x 354"],
    );
    refused_net(
        &[
            "trace",
            "--network",
            "moons",
            "--hidden",
            "0",
            "--optimizer",
            "sgd",
        ],
        &["hidden"],
    );
    refused_net(
        &["trace", "--network", "bananas", "--optimizer", "sgd"],
        &["bananas", "moons"],
    );
    let dir = common::temp_dir("network-csv");
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "x,y,label\n1,2,0\n3,oops,1\n").unwrap();
    let bad = bad.to_str().unwrap();
    refused_net(
        &["trace", "--data", bad, "--optimizer", "sgd"],
        &["bad.csv", "line 3", "column 2", "oops"],
    );
    let _ = std::fs::remove_dir_all(dir);
}
