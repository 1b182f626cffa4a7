//! `losscape escape` and `losscape inspect` end to end: the real binary, its CSV, JSON and errors.

mod common;

use common::{losscape, stderr, stdout, temp_dir};

#[test]
fn escape_writes_one_row_per_optimizer_and_seed() {
    let dir = temp_dir("cli_escape");
    let out = dir.join("escape.csv");
    let o = losscape(&[
        "escape",
        "--preset",
        "saddle",
        "--seeds",
        "5",
        "--max-steps",
        "600",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("optimizer,kind,seed,escape_step,final_loss")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 5 * 5);
    assert_eq!(rows[0][..3], ["SGD", "sgd", "0"]);
    assert_eq!(rows[6][..3], ["SGD + noise", "sgd", "1"]);
    for r in &rows {
        assert_eq!(r.len(), 5);
        assert!(r[3].is_empty() || r[3].parse::<u64>().is_ok());
        assert!(r[4].parse::<f64>().is_ok());
    }
    // the steps themselves: docs/guide.md's figures (plain GD 492, momentum never within 600 steps
    // (629), RMSProp 36, Adam 108, every seed alike) and each row's escape step from `trace` of that
    // run: the first step with loss below 0.9
    let escape_of =
        |name: &str| -> Vec<&str> { rows.iter().filter(|r| r[0] == name).map(|r| r[3]).collect() };
    assert_eq!(escape_of("SGD"), ["492"; 5]);
    assert_eq!(escape_of("Momentum"), [""; 5]);
    assert_eq!(escape_of("RMSProp"), ["36"; 5]);
    assert_eq!(escape_of("Adam"), ["108"; 5]);
    let scene = losscape::core::lessons::preset("saddle").unwrap();
    let noisy = scene
        .optimizers
        .iter()
        .find(|o| o.name == "SGD + noise")
        .unwrap();
    for r in rows.iter().filter(|r| r[0] == "SGD + noise") {
        let t = losscape(&[
            "trace",
            "--surface",
            scene.landscape.name(),
            "--optimizer",
            "sgd",
            &format!("--lr={}", noisy.hyper.lr),
            &format!("--start={},{}", noisy.start[0], noisy.start[1]),
            &format!("--noise={}", noisy.noise.sigma),
            &format!("--seed={}", r[2]),
            "--steps=600",
        ]);
        assert_eq!(t.status.code(), Some(0), "{}", stderr(&t));
        let first = stdout(&t)
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|c| c[3].parse::<f64>().unwrap() < 0.9)
            .map(|c| c[0].to_owned())
            .unwrap_or_default();
        assert_eq!(r[3], first, "SGD + noise, seed {}", r[2]);
        assert!(!first.is_empty(), "seed {} escapes within 600 steps", r[2]);
    }
    let summary = stdout(&o);
    assert!(
        summary.contains("escaped: the first step whose loss is below 0.9"),
        "{summary}"
    );
    assert!(
        summary.contains("no noise: every seed is the same run"),
        "{summary}"
    );
    assert!(summary.contains("median"), "{summary}");
    // the same again: deterministic
    let again = losscape(&[
        "escape",
        "--preset",
        "saddle",
        "--seeds",
        "5",
        "--max-steps",
        "600",
    ]);
    assert_eq!(stdout(&again), csv);
}

#[test]
fn escape_reads_a_scene_file_as_it_reads_its_lesson() {
    let dir = temp_dir("cli_escape_scene");
    let scene = losscape::core::lessons::preset("saddle").unwrap();
    let run = |source: &[&str]| {
        let mut args = vec!["escape"];
        args.extend_from_slice(source);
        args.extend_from_slice(&["--seeds", "2", "--max-steps", "600"]);
        let o = losscape(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    // the lesson written to a file: the same rows as the lesson itself
    let same = dir.join("saddle.ron");
    scene.write_file(&same).unwrap();
    let preset = run(&["--preset", "saddle"]);
    assert_eq!(run(&["--scene", same.to_str().unwrap()]), preset);
    // the file's own settings count: plain GD renamed and at twice its eta escapes sooner than the
    // lesson's 492 steps (the escape time of GD at a saddle is inversely proportional to eta)
    let mut edited = scene.clone();
    edited.claims.clear(); // they name the lesson's SGD
    let gd = edited
        .optimizers
        .iter_mut()
        .find(|o| o.name == "SGD")
        .unwrap();
    gd.name = "GD twice as fast".into();
    gd.hyper.lr *= 2.0;
    let file = dir.join("edited.ron");
    edited.write_file(&file).unwrap();
    let csv = run(&["--scene", file.to_str().unwrap()]);
    let steps: Vec<u64> = csv
        .lines()
        .filter(|l| l.starts_with("GD twice as fast,sgd,"))
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(steps.len(), 2, "{csv}");
    assert!(steps.iter().all(|&s| (200..300).contains(&s)), "{steps:?}");
    assert!(!csv.contains("\nSGD,"), "{csv}");
    // a broken file: one line naming it and where it breaks, exit 2
    let broken = dir.join("broken.ron");
    std::fs::write(&broken, "(title: \"half a scene\",\n").unwrap();
    let o = losscape(&["escape", "--scene", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("broken.ron") && err.contains("line"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn escape_bad_arguments_are_one_line_errors() {
    // each refused for its own reason
    for (args, says) in [
        (&["escape", "--preset", "nope"][..], "unknown lesson 'nope'"),
        (
            &["escape", "--preset", "saddle", "--seeds", "0"],
            "seeds = 0 must be between 1 and 100000",
        ),
        (
            &["escape", "--preset", "saddle", "--max-steps", "-3"],
            "invalid value '-3' for '--max-steps <N>'",
        ),
        (
            &["escape", "--preset", "saddle", "--margin", "150%"],
            "--margin 150% must be more than 0% and at most 100%",
        ),
        (
            &["escape", "--preset", "saddle", "--margin", "x"],
            "--margin 'x' must be a loss",
        ),
        (
            &["escape", "--preset", "saddle", "--saddle", "1"],
            "--saddle '1' must be two numbers X,Y",
        ),
        (
            &["escape"],
            "required arguments were not provided: --preset",
        ),
    ] {
        let o = losscape(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn inspect_prints_json_a_program_can_read() {
    let o = losscape(&[
        "inspect",
        "--surface",
        "saddle",
        "--at",
        "0.5,0.25",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["x"], 0.5);
    assert_eq!(v["loss"], 0.25 - 0.0625);
    assert_eq!(v["grad"], serde_json::json!([1.0, -0.5]));
    assert_eq!(v["hessian"], serde_json::json!([[2.0, 0.0], [0.0, -2.0]]));
    assert_eq!(v["eigenvalues"], serde_json::json!([-2.0, 2.0]));
    assert_eq!(
        v["eigenvectors"],
        serde_json::json!([[0.0, 1.0], [1.0, 0.0]])
    );
    assert_eq!(v["kind"], "saddle");
    assert_eq!(v["lr_limit_gd"], 1.0);
    let o = losscape(&[
        "inspect",
        "--formula",
        "-(x^2) - y^2",
        "--at=0,0",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["kind"], "maximum");
    assert!(v["lr_limit_gd"].is_null());
    let text = losscape(&["inspect", "--surface", "bowl", "--at", "1,1"]);
    assert!(
        stdout(&text).contains("minimum: curves up"),
        "{}",
        stdout(&text)
    );
}

#[test]
fn inspect_bad_input_exits_2_with_one_line() {
    // each refused for its own reason
    for (args, says) in [
        (
            &["inspect", "--surface", "nope", "--at", "0,0"][..],
            "unknown landscape 'nope'",
        ),
        (
            &["inspect", "--surface", "saddle", "--at", "0"],
            "--at '0' must be two numbers X,Y",
        ),
        (
            &["inspect", "--surface", "saddle", "--at", "nan,0"],
            "--at (NaN, 0) must be finite",
        ),
        (
            &["inspect", "--formula", "sin(x", "--at", "0,0"],
            "invalid formula: unclosed '(' at column 4",
        ),
        (
            &["inspect", "--formula", "sqrt(x)", "--at", "-1,0"],
            "not defined (or not twice differentiable) at (-1, 0)",
        ),
        (
            &["inspect", "--surface", "saddle"],
            "required arguments were not provided: --at",
        ),
        (
            &["inspect", "--surface", "beale", "--at", "1e308,-1e308"],
            "--at (1e308, -1e308) must be finite",
        ),
    ] {
        let o = losscape(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        // numbers as people write them, not 300 digits
        assert!(err.len() < 200, "{args:?}: {err}");
    }
}

#[test]
fn inspect_text_reads_like_a_lecture() {
    // plain decimals with four significant digits, scientific notation only for tiny numbers
    let o = losscape(&["inspect", "--surface", "beale", "--at", "0.1,-2.64"]);
    let text = stdout(&o);
    assert!(text.starts_with("at (0.1, -2.64): loss 9.865\n"), "{text}");
    assert!(text.contains("saddle: curves up along"), "{text}");
    assert!(!text.contains("e0"), "{text}");
}
