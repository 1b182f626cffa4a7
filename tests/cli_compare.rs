//! `losscape compare` end to end: the scoreboard's figures equal those computed from `losscape trace`
//! output for the same optimizers (issue 18), and the table's forms and errors.

mod common;

use common::{losscape, stderr, stdout, temp_dir};
use losscape::core::scene::OptimizerSpec;
use losscape::core::scoreboard::CSV_HEADER;
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
    let search = &h.line_search;
    if spec.kind.offers_line_search() {
        args.push(format!(
            "--line-search={}",
            if search.armijo { "armijo" } else { "none" }
        ));
        args.push(format!("--armijo-c={}", search.c));
        args.push(format!("--backtrack={}", search.rho));
        args.push(format!("--max-backtracks={}", search.max_backtracks));
    }
    if spec.kind == losscape::core::OptimizerKind::Lbfgs {
        args.push(format!("--memory={}", h.memory));
    }
    args
}

/// One optimizer's row of the scoreboard's CSV.
struct BoardRow {
    name: String,
    steps: u64,
    to_target: Option<u64>,
    final_loss: f64,
    path: f64,
    saddle_steps: u64,
    diverged: bool,
    diverged_at: Option<u64>,
    evals: u64,
}

/// What the scoreboard says of each optimizer, from its CSV (10 columns, accuracy last).
fn board_rows(csv: &str) -> Vec<BoardRow> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    lines
        .map(|line| {
            // the built-in lessons' names hold no comma
            let c: Vec<&str> = line.split(',').collect();
            assert_eq!(c.len(), 11, "{line}");
            // one loss evaluation at the start and at least one a step (a line search's trials more)
            let (steps, evals): (u64, u64) = (c[2].parse().unwrap(), c[10].parse().unwrap());
            assert!(evals > steps, "{line}");
            let optional = |cell: &str| (!cell.is_empty()).then(|| cell.parse().unwrap());
            BoardRow {
                name: c[0].to_owned(),
                steps: c[2].parse().unwrap(),
                to_target: optional(c[3]),
                final_loss: c[4].parse().unwrap(),
                path: c[5].parse().unwrap(),
                saddle_steps: c[6].parse().unwrap(),
                diverged: c[7].parse().unwrap(),
                diverged_at: optional(c[8]),
                evals: c[10].parse().unwrap(),
            }
        })
        .collect()
}

/// The scoreboard's CSV for `compare ARGS --steps STEPS --format csv`.
fn board(args: &[&str], steps: u64) -> Vec<BoardRow> {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    let steps = steps.to_string();
    all.extend(["--steps", &steps, "--format", "csv"]);
    let o = losscape(&all);
    assert_eq!(o.status.code(), Some(0), "{all:?}: {}", stderr(&o));
    board_rows(&stdout(&o))
}

/// `K` from trace's `diverged at step K: REASON` on stderr; `None` when the run did not diverge.
fn diverged_at(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("diverged at step "))
        .map(|rest| rest.split(':').next().unwrap().parse().unwrap())
}

/// `compare`'s `--loss-tol` and `--radius` (`None`: 1% of the domain's diagonal).
#[derive(Clone, Copy)]
struct Tolerances {
    loss_tol: f64,
    radius: Option<f64>,
}

/// docs/cli.md's defaults.
const DEFAULT_TOLERANCES: Tolerances = Tolerances {
    loss_tol: 1e-3,
    radius: None,
};

/// The eigenvalues of the symmetric 2 x 2 matrix `h`, smaller first, in closed form:
/// `(a + d)/2 -+ sqrt(((a - d)/2)^2 + b^2)`.
fn eigenvalues(h: [[f64; 2]; 2]) -> [f64; 2] {
    let mean = 0.5 * (h[0][0] + h[1][1]);
    let r = (0.5 * (h[0][0] - h[1][1])).hypot(0.5 * (h[0][1] + h[1][0]));
    [mean - r, mean + r]
}

/// Every column of the scoreboard of `scene` (from `compare ARGS`) derived from `losscape trace` rows
/// of the same optimizers, by the definitions of docs/cli.md written out here (not through
/// `core::scoreboard`): steps, final loss and path from the rows; to target: the first row whose loss
/// is within 1e-3 of the lowest known minimum's loss or that lies within 1% of the domain's diagonal
/// of a known minimum; saddle steps: rows after the start where `|grad L| < 0.1` and the Hessian's
/// eigenvalues have opposite signs; diverged (at): trace's `diverged at step K` on stderr. Returns how
/// many saddle steps and divergences it saw, so that a caller can make sure those columns were tested.
fn board_equals_trace(
    what: &str,
    scene: &losscape::core::scene::Scene,
    board: &[BoardRow],
    steps: u64,
    target: Tolerances,
) -> (u64, usize) {
    assert_eq!(board.len(), scene.optimizers.len(), "{what}");
    let landscape = Landscape::new(scene.landscape.clone()).unwrap();
    let ron = ron::to_string(&scene.landscape).unwrap();
    let surface = if ron.contains('(') {
        ron
    } else {
        scene.landscape.name().to_owned()
    };
    let lowest_minimum = landscape
        .minima()
        .iter()
        .map(|&m| landscape.value(m))
        .reduce(f64::min);
    let d = landscape.domain();
    let radius = target.radius.unwrap_or(0.01 * d.width().hypot(d.height()));
    let at_target = |x: f64, y: f64, loss: f64| {
        lowest_minimum.is_some_and(|min| loss <= min + target.loss_tol)
            || landscape
                .minima()
                .iter()
                .any(|m| (m[0] - x).hypot(m[1] - y) <= radius)
    };
    let (mut saddles_seen, mut divergences_seen) = (0, 0);
    for (spec, row) in scene.optimizers.iter().zip(board) {
        let what = format!("{what} / {}", spec.name);
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
        // trace's last column counts the loss evaluations (a line search's trials included)
        let evals: u64 = stdout(&t)
            .lines()
            .last()
            .and_then(|l| l.rsplit(',').next())
            .and_then(|v| v.parse().ok())
            .expect("an evals column");
        assert_eq!(row.evals, evals, "{what}: evals");
        let path: f64 = rows
            .windows(2)
            .map(|w| (w[1][1] - w[0][1]).hypot(w[1][2] - w[0][2]))
            .sum();
        let to_target = rows
            .iter()
            .find(|r| at_target(r[1], r[2], r[3]))
            .map(|r| r[0] as u64);
        // trace's gradient column is the one used for the step (noisy, or Nesterov's look-ahead): the
        // saddle test reads the exact gradient and Hessian where each step ended
        let saddle_rows: Vec<&[f64; 4]> = rows
            .iter()
            .skip(1)
            .filter(|r| {
                let g = landscape.gradient([r[1], r[2]]);
                let [low, high] = eigenvalues(landscape.hessian([r[1], r[2]]));
                g[0].hypot(g[1]) < 0.1 && low < 0.0 && high > 0.0
            })
            .collect();
        // and `losscape inspect` agrees on the first of them
        if let Some(r) = saddle_rows.first() {
            let at = format!("--at={},{}", r[1], r[2]);
            let o = losscape(&["inspect", "--surface", &surface, &at, "--format", "json"]);
            assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
            let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
            assert_eq!(json["kind"], "saddle", "{what}: {json}");
        }
        let err = stderr(&t);
        let diverged_at = diverged_at(&err);
        if let Some(k) = diverged_at {
            // the refused step is not written: the rows end just before it
            assert_eq!(last[0] as u64, k - 1, "{what}: {err}");
        }
        saddles_seen += saddle_rows.len() as u64;
        divergences_seen += usize::from(diverged_at.is_some());

        assert_eq!(row.name, spec.name, "{what}");
        assert_eq!(row.steps, last[0] as u64, "{what}: steps");
        assert_eq!(row.to_target, to_target, "{what}: steps to target");
        assert_eq!(row.final_loss, last[3], "{what}: final loss");
        assert!(
            (row.path - path).abs() <= 1e-12 * path.max(1.0),
            "{what}: path {} against {path}",
            row.path
        );
        assert_eq!(
            row.saddle_steps,
            saddle_rows.len() as u64,
            "{what}: saddle steps"
        );
        assert_eq!(row.diverged, diverged_at.is_some(), "{what}: diverged");
        assert_eq!(row.diverged_at, diverged_at, "{what}: diverged at");
    }
    (saddles_seen, divergences_seen)
}

#[test]
fn scoreboard_figures_equal_those_computed_from_trace_output() {
    let steps = 400;
    let mut saddles_seen = 0;
    for preset in lessons::names() {
        let scene = lessons::preset(preset).unwrap();
        let board = board(&["--preset", preset], steps);
        if let LandscapeSpec::Network(net) = &scene.landscape {
            network_board_equals_trace(preset, &scene, net, &board, steps);
            continue;
        }
        saddles_seen += board_equals_trace(preset, &scene, &board, steps, DEFAULT_TOLERANCES).0;
    }
    // each half of the target's test alone: the loss tolerance with no radius, the radius with no
    // tolerance
    for (preset, target) in [
        (
            "beale",
            Tolerances {
                loss_tol: 0.05,
                radius: Some(0.0),
            },
        ),
        (
            "ravine",
            Tolerances {
                loss_tol: 0.0,
                radius: Some(0.3),
            },
        ),
    ] {
        let scene = lessons::preset(preset).unwrap();
        let tol = target.loss_tol.to_string();
        let radius = target.radius.unwrap().to_string();
        let args = ["--preset", preset, "--loss-tol", &tol, "--radius", &radius];
        let board = board(&args, steps);
        assert!(
            board.iter().any(|r| r.to_target.is_some()),
            "{preset}: someone reaches the target"
        );
        board_equals_trace(preset, &scene, &board, steps, target);
    }
    // the saddle lessons linger there: the column was tested on rows that count
    assert!(saddles_seen >= 200, "{saddles_seen} saddle steps");
}

/// A scene where one optimizer diverges: the ravine (curvature 20 across) with SGD at η = 0.105, just
/// above 2/20: the diverged columns against `trace`'s.
#[test]
fn diverged_columns_equal_trace_on_a_scene_that_diverges() {
    let dir = temp_dir("compare-diverge");
    let mut scene = lessons::preset("ravine").unwrap();
    scene.claims.clear();
    scene.optimizers[0].hyper.lr = 0.105;
    let path = dir.join("diverge.ron");
    scene.write_file(&path).unwrap();
    let steps = 1000;
    let board = board(&["--scene", path.to_str().unwrap()], steps);
    let (_, divergences) = board_equals_trace(
        "ravine, SGD at 0.105",
        &scene,
        &board,
        steps,
        DEFAULT_TOLERANCES,
    );
    assert_eq!(divergences, 1);
    // the rows say which: SGD diverged, by growing 1.1 times a step from 1.2 to past 1e6
    assert!(board[0].diverged && !board[1].diverged && !board[2].diverged);
    let k = board[0].diverged_at.unwrap();
    assert!((130..=150).contains(&k), "diverged at {k}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A network lesson's scoreboard against `trace` of the same network: steps, the first step at 95%
/// accuracy and the final loss (the path is in weight space, which `trace` does not print).
fn network_board_equals_trace(
    preset: &str,
    scene: &losscape::core::scene::Scene,
    net: &losscape::core::network::NetworkSpec,
    board: &[BoardRow],
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
        assert_eq!(row.name, spec.name, "{what}");
        assert_eq!(row.steps, last[0] as u64, "{what}: steps");
        assert_eq!(row.to_target, to_target, "{what}: steps to 95% accuracy");
        assert_eq!(row.final_loss, last[1], "{what}: final loss");
        // a network's board counts no saddle steps (it has no Hessian of the network)
        assert_eq!(row.saddle_steps, 0, "{what}");
        let diverged_at = diverged_at(&stderr(&t));
        assert_eq!(row.diverged, diverged_at.is_some(), "{what}: diverged");
        assert_eq!(row.diverged_at, diverged_at, "{what}: diverged at");
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
