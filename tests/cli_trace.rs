//! `losscape trace` end to end: the real binary, its stdout, stderr and exit code.

mod common;

use common::{losscape, stderr, stdout};
use serde_json::Value;

fn rows(csv: &str) -> Vec<[f64; 7]> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("step,x,y,loss,grad_x,grad_y,evals"));
    lines
        .map(|line| {
            let cells: Vec<f64> = line
                .split(',')
                .map(|c| {
                    c.parse()
                        .unwrap_or_else(|_| panic!("not a number: {c:?} in {line:?}"))
                })
                .collect();
            cells.try_into().expect("seven columns")
        })
        .collect()
}

#[test]
fn csv_has_the_header_the_start_row_and_one_row_per_step() {
    let o = losscape(&[
        "trace",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam",
        "--steps",
        "25",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows = rows(&stdout(&o));
    assert_eq!(rows.len(), 26);
    // Step 0 is the landscape's default start (-1.2, 1), L = 24.2, grad = (-215.6, -88).
    let [step, x, y, loss, gx, gy, evals] = rows[0];
    assert_eq!((step, x, y, evals), (0.0, -1.2, 1.0, 1.0));
    assert!((loss - 24.2).abs() < 1e-12 && (gx + 215.6).abs() < 1e-9 && (gy + 88.0).abs() < 1e-9);
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r[0], k as f64);
        assert!(r.iter().all(|v| v.is_finite()));
        // without a line search, one loss evaluation a step
        assert_eq!(r[6], k as f64 + 1.0);
    }
    // Adam's first step moves each coordinate by about eta = 0.01 against the gradient's sign.
    assert!((rows[1][1] - (-1.19)).abs() < 1e-6 && (rows[1][2] - 1.01).abs() < 1e-6);
    assert_eq!(
        stderr(&o),
        "",
        "a run that just uses up its steps says nothing"
    );
}

#[test]
fn numbers_are_shortest_round_trip() {
    let o = losscape(&[
        "trace",
        "--surface",
        "bowl",
        "--optimizer",
        "sgd",
        "--steps",
        "3",
        "--start=0.1,0.2",
    ]);
    let text = stdout(&o);
    let second = text.lines().nth(1).unwrap();
    assert!(second.starts_with("0,0.1,0.2,"), "{second}");
    // Every cell parses back to a number whose Display is the cell itself.
    for line in text.lines().skip(1) {
        for cell in line.split(',') {
            let v: f64 = cell.parse().unwrap();
            assert_eq!(v.to_string(), cell);
        }
    }
}

#[test]
fn options_change_the_run() {
    let base = [
        "trace",
        "--surface",
        "beale",
        "--optimizer",
        "momentum",
        "--steps",
        "5",
    ];
    let plain = stdout(&losscape(&base));
    let mut with = base.to_vec();
    with.extend(["--lr", "0.001", "--beta-m", "0.5", "--start", "-1.5,2"]);
    let o = losscape(&with);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = rows(&stdout(&o));
    assert_eq!(
        (r[0][1], r[0][2]),
        (-1.5, 2.0),
        "--start with a leading minus"
    );
    assert_ne!(stdout(&o), plain);
    let mut pytorch = base.to_vec();
    pytorch.extend(["--convention", "pytorch"]);
    assert_ne!(stdout(&losscape(&pytorch)), plain);
}

#[test]
fn a_ron_landscape_spec_is_accepted() {
    let o = losscape(&[
        "trace",
        "--surface",
        "Bowl(kappa: 4.0, rotation_deg: 30.0)",
        "--optimizer",
        "sgd",
        "--steps",
        "2",
        "--start=1,0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Rotated 30 degrees: L(1, 0) = 0.5 (cos^2 30 + 4 sin^2 30) = 0.5 (0.75 + 1) = 0.875.
    assert!((rows(&stdout(&o))[0][3] - 0.875).abs() < 1e-12);
}

#[test]
fn noise_and_batches_are_deterministic_per_seed() {
    let run = |seed: &str| {
        stdout(&losscape(&[
            "trace",
            "--surface",
            "regression",
            "--optimizer",
            "sgd",
            "--batch",
            "8",
            "--noise",
            "0.1",
            "--seed",
            seed,
            "--steps",
            "40",
        ]))
    };
    let (a, b, c) = (run("1"), run("1"), run("2"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(rows(&a).len(), 41);
}

#[test]
fn diverging_run_is_not_an_error() {
    let o = losscape(&[
        "trace",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "sgd",
        "--lr",
        "10",
        "--steps",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.starts_with("diverged at step "), "{err}");
    let k: usize = err["diverged at step ".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let rows = rows(&stdout(&o));
    assert_eq!(
        rows.len(),
        k,
        "rows 0 ..= K-1: the trajectory ends at the last finite point"
    );
    assert!(rows.iter().flatten().all(|v| v.is_finite()));
}

#[test]
fn convergence_is_reported() {
    let o = losscape(&[
        "trace",
        "--surface",
        "bowl",
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
        "--steps",
        "100000",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.starts_with("converged at step "), "{err}");
    let k: usize = err.trim()["converged at step ".len()..].parse().unwrap();
    assert_eq!(rows(&stdout(&o)).len(), k + 1);
}

#[test]
fn out_writes_the_file_and_nothing_to_stdout() {
    let dir = common::temp_dir("cli");
    let path = dir.join("run.csv");
    let o = losscape(&[
        "trace",
        "--surface",
        "himmelblau",
        "--optimizer",
        "rmsprop",
        "--steps",
        "10",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(rows(&std::fs::read_to_string(&path).unwrap()).len(), 11);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// JSON, read with serde_json.

#[track_caller]
fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON: {e}\n{text}"))
}

#[track_caller]
fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key)
        .unwrap_or_else(|| panic!("missing field {key} in {v}"))
}

#[test]
fn json_parses_and_carries_settings_status_and_rows() {
    let o = losscape(&[
        "trace",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam",
        "--steps",
        "7",
        "--format",
        "json",
        "--noise",
        "0.5",
        "--seed",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = parse_json(&stdout(&o));
    assert_eq!(field(&v, "surface"), "rosenbrock");
    assert_eq!(field(&v, "optimizer"), "adam");
    assert_eq!(field(&v, "convention"), "lecture");
    assert_eq!(field(field(&v, "hyperparams"), "lr"), 0.01);
    assert_eq!(field(field(&v, "hyperparams"), "eps"), 1e-8);
    assert_eq!(field(field(&v, "hyperparams"), "bias_correction"), true);
    let start: Vec<f64> = serde_json::from_value(field(&v, "start").clone()).expect("two numbers");
    assert_eq!(start, [-1.2, 1.0]);
    assert_eq!(field(field(&v, "noise"), "sigma"), 0.5);
    assert!(field(field(&v, "noise"), "batch").is_null());
    assert_eq!(field(&v, "seed"), 3);
    assert_eq!(field(field(&v, "status"), "state"), "running");
    let columns = field(&v, "columns").as_array().expect("columns");
    assert_eq!(columns.len(), 7);
    let rows = field(&v, "rows").as_array().expect("rows");
    assert_eq!(rows.len(), 8);
    for (k, row) in rows.iter().enumerate() {
        let cells = row.as_array().expect("row");
        assert_eq!(cells.len(), 7);
        assert_eq!(cells[0].as_f64(), Some(k as f64));
    }
    // The JSON rows are the CSV rows.
    let csv = losscape(&[
        "trace",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam",
        "--steps",
        "7",
        "--noise",
        "0.5",
        "--seed",
        "3",
    ]);
    for (row, csv_row) in rows.iter().zip(self::rows(&stdout(&csv))) {
        let nums: Vec<f64> = row
            .as_array()
            .expect("row")
            .iter()
            .map(|c| c.as_f64().expect("a number"))
            .collect();
        assert_eq!(nums, csv_row.to_vec());
    }
}

#[test]
fn json_reports_divergence() {
    let o = losscape(&[
        "trace",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "sgd",
        "--lr",
        "10",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v = parse_json(&stdout(&o));
    let status = field(&v, "status");
    assert_eq!(field(status, "state"), "diverged");
    let k = field(status, "step").as_u64().expect("a step");
    let rows = field(&v, "rows").as_array().expect("rows");
    assert_eq!(rows.len() as u64, k);
    let message = field(&v, "message").as_str().expect("a message");
    assert!(message.starts_with(&format!("diverged at step {k}: ")));
}

// ---------------------------------------------------------------------------------------------
// Bad input: one line on stderr starting with `error: `, exit code 2, nothing on stdout.

#[track_caller]
fn refused(args: &[&str], needles: &[&str]) {
    let o = losscape(args);
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

fn trace_with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["trace", "--surface", "rosenbrock", "--optimizer", "adam"];
    args.extend_from_slice(extra);
    args
}

#[test]
fn unknown_names_list_the_valid_ones() {
    refused(
        &["trace", "--surface", "rosenbrok", "--optimizer", "sgd"],
        &[
            "unknown landscape 'rosenbrok'",
            "bowl",
            "six-hump-camel",
            "regression",
        ],
    );
    refused(
        &["trace", "--surface", "bowl", "--optimizer", "adamax"],
        &[
            "unknown optimizer 'adamax'",
            "sgd, momentum, nesterov, adagrad, rmsprop, adam",
        ],
    );
    refused(
        &trace_with(&["--convention", "keras"]),
        &["unknown convention 'keras'", "lecture, pytorch"],
    );
    refused(&trace_with(&["--format", "xml"]), &["xml", "csv, json"]);
}

#[test]
fn out_of_range_hyperparameters_are_refused() {
    refused(&trace_with(&["--lr", "0"]), &["eta", "> 0"]);
    refused(&trace_with(&["--lr", "-1"]), &["eta", "-1"]);
    refused(&trace_with(&["--lr", "nan"]), &["eta"]);
    refused(&trace_with(&["--beta-m", "1"]), &["beta_m", "[0, 1)"]);
    refused(&trace_with(&["--beta-r", "-0.1"]), &["beta_r", "[0, 1)"]);
    refused(&trace_with(&["--eps", "-1e-8"]), &["eps", ">= 0"]);
    refused(&trace_with(&["--noise", "-1"]), &["sigma"]);
    refused(&trace_with(&["--tol", "-1"]), &["tolerance"]);
}

#[test]
fn bad_starts_steps_and_batches_are_refused() {
    refused(&trace_with(&["--start", "nan,1"]), &["start", "finite"]);
    refused(&trace_with(&["--start", "inf,1"]), &["start", "finite"]);
    refused(&trace_with(&["--start", "1;2"]), &["--start", "X,Y"]);
    refused(&trace_with(&["--start", "2e6,0"]), &["start", "1e6"]);
    refused(
        &trace_with(&["--steps", "10000001"]),
        &["10000001", "10000000"],
    );
    refused(&trace_with(&["--steps", "-5"]), &["--steps"]);
    refused(&trace_with(&["--batch", "4"]), &["--batch", "regression"]);
    refused(
        &[
            "trace",
            "--surface",
            "regression",
            "--optimizer",
            "sgd",
            "--batch",
            "0",
        ],
        &["--batch"],
    );
    refused(
        &[
            "trace",
            "--surface",
            "regression",
            "--optimizer",
            "sgd",
            "--batch",
            "101",
        ],
        &["100 samples"],
    );
    refused(
        &[
            "trace",
            "--surface",
            "Bowl(kappa: -1.0, rotation_deg: 0.0)",
            "--optimizer",
            "sgd",
        ],
        &["kappa"],
    );
    refused(
        &[
            "trace",
            "--surface",
            "Bowl(kapa: 1.0)",
            "--optimizer",
            "sgd",
        ],
        &["cannot read landscape spec"],
    );
}

#[test]
fn an_unwritable_out_is_refused_before_computing() {
    refused(
        &trace_with(&["--out", "/nonexistent-dir/losscape/run.csv"]),
        &["cannot write", "run.csv"],
    );
}

#[test]
fn parse_errors_and_misplaced_options_are_one_line() {
    refused(&trace_with(&["--frobnicate"]), &["--frobnicate"]);
    refused(&["trace", "--optimizer", "sgd"], &["--surface"]);
    refused(
        &[
            "--scene",
            "x.ron",
            "trace",
            "--surface",
            "bowl",
            "--optimizer",
            "sgd",
        ],
        &["--scene"],
    );
    refused(&["fly"], &["fly"]);
}

#[test]
fn ignored_options_warn_but_run() {
    let o = losscape(&[
        "trace",
        "--surface",
        "bowl",
        "--optimizer",
        "sgd",
        "--beta-r",
        "0.5",
        "--steps",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("warning: --beta-r has no effect on sgd"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn help_exits_zero() {
    for args in [
        &["--help"][..],
        &["trace", "--help"],
        &["list", "--help"],
        &["--version"],
    ] {
        let o = losscape(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(!stdout(&o).is_empty());
    }
    let help = stdout(&losscape(&["trace", "--help"]));
    for name in losscape::core::LandscapeSpec::NAMES
        .iter()
        .chain(losscape::core::OptimizerKind::NAMES)
    {
        assert!(help.contains(name), "trace --help should name {name}");
    }
}

#[cfg(not(feature = "app"))]
#[test]
fn without_the_app_feature_no_command_prints_help() {
    let o = losscape(&[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("no app"));
    assert!(stdout(&o).contains("trace"));
}

/// Rows are written as they are computed: a long run's memory stays flat (it grew by 48 bytes a step
/// when the whole trajectory was kept before writing). Reads the child's resident size from /proc
/// while it writes.
#[cfg(target_os = "linux")]
#[test]
fn a_long_trace_streams_in_constant_memory() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(common::BIN)
        .args([
            "trace",
            "--surface",
            "rosenbrock",
            "--optimizer",
            "adam",
            "--noise",
            "0.1",
            "--steps",
            "3000000",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run losscape");
    let status_path = format!("/proc/{}/status", child.id());
    let rss_kb = || {
        std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .unwrap_or(0)
    };
    let reader = BufReader::new(child.stdout.take().expect("stdout"));
    let (mut lines, mut peak) = (0u64, 0u64);
    for line in reader.lines() {
        line.expect("a row");
        lines += 1;
        if lines % 100_000 == 0 {
            peak = peak.max(rss_kb());
        }
    }
    assert!(child.wait().expect("exit").success());
    assert_eq!(lines, 3_000_002, "header, start row and one row per step");
    // 3 million kept rows would be over 140 MB
    assert!(peak > 0 && peak < 40_000, "peak resident size {peak} KB");
}

/// `--formula` spelling out a built-in gives the built-in's trajectory, to rounding.
#[test]
fn a_formula_traces_like_the_built_in_it_spells_out() {
    let common = ["--optimizer", "momentum", "--lr", "0.001", "--steps", "200"];
    let built_in = losscape(
        &[
            &["trace", "--surface", "himmelblau", "--start=-0.5,0"][..],
            &common,
        ]
        .concat(),
    );
    let typed = losscape(
        &[
            &[
                "trace",
                "--formula",
                "(x^2+y-11)^2+(x+y^2-7)^2",
                "--domain=-5,5,-5,5",
                "--start=-0.5,0",
            ][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(built_in.status.code(), Some(0), "{}", stderr(&built_in));
    assert_eq!(typed.status.code(), Some(0), "{}", stderr(&typed));
    let (a, b) = (rows(&stdout(&built_in)), rows(&stdout(&typed)));
    assert_eq!(a.len(), 201);
    assert_eq!(a.len(), b.len());
    for (ra, rb) in a.iter().zip(&b) {
        for k in 1..6 {
            assert!(
                (ra[k] - rb[k]).abs() <= 1e-12 * (1.0 + ra[k].abs()),
                "step {}: {ra:?} vs {rb:?}",
                ra[0]
            );
        }
    }
    // The JSON names the formula.
    let json = losscape(&[
        "trace",
        "--formula",
        "x^2 + 3*y^2",
        "--optimizer",
        "sgd",
        "--steps",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let v: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(v["surface"], "formula");
    assert!(v["surface_spec"].as_str().unwrap().contains("x^2 + 3*y^2"));
    // Default domain [-3, 3]^2, start (-2, 1.5).
    assert_eq!(v["start"][0].as_f64(), Some(-2.0));
    assert_eq!(v["start"][1].as_f64(), Some(1.5));
}

#[test]
fn a_bad_formula_is_an_error_with_a_caret_under_the_column() {
    let o = losscape(&["trace", "--formula", "x + sinn(y)", "--optimizer", "sgd"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    assert_eq!(
        stderr(&o),
        "error: invalid formula: unknown function 'sinn' at column 5 (did you mean 'sin'?)\n  x + sinn(y)\n      ^^^^\n"
    );
    for (args, needle) in [
        (&["--formula", "(x"][..], "unclosed '(' at column 1"),
        (&["--formula", ""], "empty formula"),
        (&["--formula", "ln(-1-x^2)"], "at least half"),
        (&["--formula", "x", "--domain", "1,2"], "four numbers"),
        (&["--formula", "x", "--domain=1,-1,0,1"], "range"),
        (
            &["--formula", "x", "--surface", "bowl"],
            "cannot be used with",
        ),
        (&["--surface", "bowl", "--domain=-1,1,-1,1"], "--domain"),
        (&[], "--formula"),
    ] {
        let o = losscape(&[&["trace", "--optimizer", "sgd"][..], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_run_into_an_undefined_region_ends_as_diverged() {
    let o = losscape(&[
        "trace",
        "--formula",
        "ln(x + 2) + y^2",
        "--optimizer",
        "sgd",
        "--lr",
        "0.5",
        "--start=1,0.5",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("diverged at step"), "{}", stderr(&o));
    assert!(rows(&stdout(&o)).iter().flatten().all(|v| v.is_finite()));
}
