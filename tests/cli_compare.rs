//! `losscape compare` end to end: the scoreboard's figures equal those computed from `losscape trace`
//! output for the same optimizers (issue 18), and the table's forms and errors.

mod common;

use common::{losscape, stderr, stdout, temp_dir};
use losscape::core::scene::OptimizerSpec;
use losscape::core::scoreboard::{CSV_HEADER, ScoreSettings, Target};
use losscape::core::{Landscape, LandscapeSpec, lessons};

/// The `trace` arguments that run `spec` on `scene`'s landscape for `steps` steps.
fn trace_args(surface: &str, spec: &OptimizerSpec, steps: u64) -> Vec<String> {
    let h = &spec.hyper;
    let mut args: Vec<String> = [
        "trace".to_owned(),
        "--surface".to_owned(),
        surface.to_owned(),
        "--optimizer".to_owned(),
        spec.kind.name().to_owned(),
        format!("--lr={}", h.lr),
        format!("--beta-m={}", h.beta_m),
        format!("--beta-r={}", h.beta_r),
        format!("--eps={}", h.eps),
        format!("--convention={}", h.convention.name()),
        format!("--start={},{}", spec.start[0], spec.start[1]),
        format!("--steps={steps}"),
        format!("--noise={}", spec.noise.sigma),
        format!("--seed={}", spec.seed),
    ]
    .into();
    if !h.bias_correction {
        args.push("--no-bias-correction".into());
    }
    if let Some(batch) = spec.noise.batch {
        args.push(format!("--batch={batch}"));
    }
    args
}

/// What the scoreboard says of each optimizer, from its CSV: (name, steps, to target, final loss, path).
fn board_rows(csv: &str) -> Vec<(String, u64, Option<u64>, f64, f64)> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    lines
        .map(|line| {
            // the built-in lessons' names hold no comma
            let c: Vec<&str> = line.split(',').collect();
            assert_eq!(c.len(), 11, "{line}");
            // no built-in lesson searches its steps: one loss evaluation at the start and one a step
            let (steps, evals): (u64, u64) = (c[2].parse().unwrap(), c[10].parse().unwrap());
            assert_eq!(evals, steps + 1, "{line}");
            (
                c[0].to_owned(),
                c[2].parse().unwrap(),
                (!c[3].is_empty()).then(|| c[3].parse().unwrap()),
                c[4].parse().unwrap(),
                c[5].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn scoreboard_figures_equal_those_computed_from_trace_output() {
    let steps = 400;
    for preset in lessons::names() {
        let scene = lessons::preset(preset).unwrap();
        let o = losscape(&[
            "compare",
            "--preset",
            preset,
            "--steps",
            &steps.to_string(),
            "--format",
            "csv",
        ]);
        assert_eq!(o.status.code(), Some(0), "{preset}: {}", stderr(&o));
        let board = board_rows(&stdout(&o));
        assert_eq!(board.len(), scene.optimizers.len());

        if let LandscapeSpec::Network(net) = &scene.landscape {
            network_board_equals_trace(preset, &scene, net, &board, steps);
            continue;
        }
        let landscape = Landscape::new(scene.landscape.clone()).unwrap();
        let target = Target::new(&landscape, &ScoreSettings::default());
        let ron = ron::to_string(&scene.landscape).unwrap();
        let surface = if ron.contains('(') {
            ron
        } else {
            scene.landscape.name().to_owned()
        };
        for (spec, row) in scene.optimizers.iter().zip(&board) {
            let args = trace_args(&surface, spec, steps);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let t = losscape(&args);
            assert_eq!(t.status.code(), Some(0), "{args:?}: {}", stderr(&t));
            // step, x, y, loss
            let rows: Vec<[f64; 4]> = stdout(&t)
                .lines()
                .skip(1)
                .map(|l| {
                    let c: Vec<f64> = l.split(',').take(4).map(|v| v.parse().unwrap()).collect();
                    [c[0], c[1], c[2], c[3]]
                })
                .collect();
            let last = rows.last().unwrap();
            let path: f64 = rows
                .windows(2)
                .map(|w| (w[1][1] - w[0][1]).hypot(w[1][2] - w[0][2]))
                .sum();
            let to_target = rows
                .iter()
                .find(|r| target.reached(&landscape, [r[1], r[2]], r[3]))
                .map(|r| r[0] as u64);
            let what = format!("{preset} / {}", spec.name);
            assert_eq!(row.0, spec.name, "{what}");
            assert_eq!(row.1, last[0] as u64, "{what}: steps");
            assert_eq!(row.2, to_target, "{what}: steps to target");
            assert_eq!(row.3, last[3], "{what}: final loss");
            assert!(
                (row.4 - path).abs() <= 1e-12 * path.max(1.0),
                "{what}: path {} against {path}",
                row.4
            );
        }
    }
}

/// A network lesson's scoreboard against `trace` of the same network: steps, the first step at 95%
/// accuracy and the final loss (the path is in weight space, which `trace` does not print).
fn network_board_equals_trace(
    preset: &str,
    scene: &losscape::core::scene::Scene,
    net: &losscape::core::network::NetworkSpec,
    board: &[(String, u64, Option<u64>, f64, f64)],
    steps: u64,
) {
    use losscape::core::network::DataSpec;
    let DataSpec::Builtin {
        kind,
        size,
        noise,
        seed,
    } = &net.data
    else {
        panic!("{preset}: a built-in lesson's data is built in");
    };
    let hidden: Vec<String> = net.hidden.iter().map(|h| h.to_string()).collect();
    for (spec, row) in scene.optimizers.iter().zip(board) {
        let mut args: Vec<String> = vec![
            "trace".into(),
            format!("--network={}", kind.name()),
            format!("--samples={size}"),
            format!("--data-noise={noise}"),
            format!("--data-seed={seed}"),
            format!("--hidden={}", hidden.join(",")),
            format!("--activation={}", net.activation.name()),
            format!("--init-seed={}", net.init_seed),
            format!("--plane-seed={}", net.plane_seed),
        ];
        args.extend(trace_args("unused", spec, steps).into_iter().skip(3));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let t = losscape(&args);
        assert_eq!(t.status.code(), Some(0), "{args:?}: {}", stderr(&t));
        // step, loss, accuracy
        let rows: Vec<[f64; 3]> = stdout(&t)
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<f64> = l.split(',').take(3).map(|v| v.parse().unwrap()).collect();
                [c[0], c[1], c[2]]
            })
            .collect();
        let last = rows.last().unwrap();
        let to_target = rows.iter().find(|r| r[2] >= 0.95).map(|r| r[0] as u64);
        let what = format!("{preset} / {}", spec.name);
        assert_eq!(row.0, spec.name, "{what}");
        assert_eq!(row.1, last[0] as u64, "{what}: steps");
        assert_eq!(row.2, to_target, "{what}: steps to 95% accuracy");
        assert_eq!(row.3, last[1], "{what}: final loss");
    }
}

#[test]
fn text_table_is_aligned_and_sortable() {
    let o = losscape(&[
        "compare",
        "--preset",
        "beale",
        "--steps",
        "1000",
        "--sort",
        "to-target",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("optimizer"));
    // momentum alone reaches (3, 0.5): sorted first; the others never
    assert!(lines[1].starts_with("Momentum"), "{text}");
    assert!(lines[2..].iter().all(|l| l.contains("never")), "{text}");
    // right-aligned columns end at the same place
    let width = lines[0].len();
    assert!(lines.iter().all(|l| l.len() == width), "{text}");
}

#[test]
fn out_writes_csv_and_bad_input_is_one_line_with_exit_2() {
    let dir = temp_dir("compare");
    let path = dir.join("table.csv");
    let o = losscape(&[
        "compare",
        "--preset",
        "ravine",
        "--steps",
        "50",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = std::fs::read_to_string(&path).unwrap();
    assert_eq!(board_rows(&csv).len(), 3);

    for (args, says) in [
        (vec!["compare", "--preset", "nope"], "unknown lesson"),
        (vec!["compare"], "--preset"),
        (
            vec!["compare", "--preset", "saddle", "--steps", "99999999"],
            "--steps",
        ),
        (
            vec!["compare", "--preset", "saddle", "--loss-tol", "-1"],
            "loss tolerance",
        ),
        (
            vec!["compare", "--preset", "saddle", "--sort", "speed"],
            "speed",
        ),
        (
            vec![
                "compare",
                "--preset",
                "saddle",
                "--out",
                "/nonexistent/dir/t.csv",
            ],
            "cannot write",
        ),
    ] {
        let o = losscape(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Every built-in lesson's claims hold (issue 28): `compare --check` exits 0 and lists each as true.
#[test]
fn every_lesson_claim_holds() {
    for preset in lessons::names() {
        let scene = lessons::preset(preset).unwrap();
        assert!(
            scene.claims.len() >= 4,
            "{preset}: a lesson states what the class will see as claims"
        );
        let o = losscape(&["compare", "--preset", preset, "--check"]);
        let text = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{preset}: {text}{}", stderr(&o));
        assert!(
            text.contains(&format!("claims ({}):", scene.claims.len())),
            "{text}"
        );
        assert_eq!(
            text.lines()
                .filter(|l| l.trim_start().starts_with("true:"))
                .count(),
            scene.claims.len(),
            "{preset}: {text}"
        );
        assert!(!text.contains("FALSE"), "{preset}: {text}");
    }
}

/// A false claim exits 1 and names it; a malformed one is refused with its line and column in the file.
#[test]
fn a_false_claim_fails_and_a_malformed_one_is_placed() {
    let dir = temp_dir("claims");
    let saddle = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/lessons/saddle.ron"),
    )
    .unwrap();
    // plain GD does not reach a valley within 100 steps: claiming it is false
    let false_one = saddle.replace(
        "check: \"saddle_steps('SGD') >= 200\",\n            steps: 1000,",
        "check: \"to_target('SGD') <= 100\",\n            steps: 1000,",
    );
    assert_ne!(false_one, saddle, "the saddle lesson's first claim moved");
    let path = dir.join("false.ron");
    std::fs::write(&path, &false_one).unwrap();
    let o = losscape(&["compare", "--scene", path.to_str().unwrap(), "--check"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let false_lines: Vec<&str> = text.lines().filter(|l| l.contains("FALSE:")).collect();
    assert_eq!(false_lines.len(), 1, "{text}");
    assert!(
        false_lines[0].contains("plain GD lingers at the saddle")
            && false_lines[0].contains("to_target('SGD') <= 100")
            && false_lines[0].contains("554 vs 100"),
        "{text}"
    );
    assert!(text.contains("1 of 9 claims are false"), "{text}");

    // a misspelt figure: the error names the file's line and the column of the mistake
    let malformed = saddle.replace(
        "check: \"saddle_steps('RMSProp')",
        "check: \"sadle_steps('RMSProp')",
    );
    assert_ne!(malformed, saddle);
    let line = malformed
        .lines()
        .position(|l| l.contains("sadle_steps('RMSProp')"))
        .unwrap()
        + 1;
    let column = malformed
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("sadle")
        .unwrap()
        + 1;
    let path = dir.join("malformed.ron");
    std::fs::write(&path, &malformed).unwrap();
    let o = losscape(&["compare", "--scene", path.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("line {line}, column {column}"))
            && err.contains("unknown figure 'sadle_steps'"),
        "{err}"
    );
}
