//! `losscape sweep` and `losscape basins` end to end: the real binary, its CSV and PNG files, its
//! errors. Each CSV row is checked against `losscape trace` with the same settings.

mod common;

use common::{losscape, stderr, stdout, temp_dir};

/// The rows of a CSV as strings, after checking its header.
fn table(csv: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(header));
    lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// The last row of `losscape trace ARGS` (step, x, y, loss, ...).
fn trace_last(args: &[&str]) -> Vec<String> {
    let o = losscape(&[&["trace"], args].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let last = text.lines().last().expect("rows");
    last.split(',').map(str::to_owned).collect()
}

#[test]
fn sweep_csv_has_one_row_per_cell_each_equal_to_trace() {
    let o = losscape(&[
        "sweep",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam",
        "--vary",
        "lr=1e-3:0.3:log:4",
        "--vary",
        "beta-r=0.9:0.999:lin:3",
        "--steps",
        "150",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("sweep: 4 x 3 cells"), "{}", stderr(&o));
    let rows = table(&stdout(&o), "lr,beta_r,x,y,loss,steps,status");
    assert_eq!(rows.len(), 12);
    // The first --vary changes fastest.
    assert_eq!(rows[0][0], "0.001");
    assert_eq!(rows[3][0], "0.3");
    assert_eq!(
        (rows[0][1].as_str(), rows[11][1].as_str()),
        ("0.9", "0.999")
    );
    for row in [&rows[0], &rows[5], &rows[11]] {
        let last = trace_last(&[
            "--surface",
            "rosenbrock",
            "--optimizer",
            "adam",
            "--lr",
            &row[0],
            "--beta-r",
            &row[1],
            "--steps",
            "150",
        ]);
        // trace's last row: step, x, y, loss; the numbers are shortest round-trip, so text equality is
        // bit equality.
        assert_eq!(&row[2..5], &last[1..4]);
        assert_eq!(row[5], last[0]);
        assert_eq!(row[6], "running");
    }
}

#[test]
fn sweep_metrics_and_png() {
    let dir = temp_dir("cli-sweep");
    let png = dir.join("sweep.png");
    let o = losscape(&[
        "sweep",
        "--surface",
        "bowl",
        "--optimizer",
        "momentum",
        "--vary",
        "lr=0.01:0.5:lin:8",
        "--vary",
        "beta-m=0:0.9:lin:6",
        "--steps",
        "300",
        "--metric",
        "steps-to-loss:1e-6",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("written"),
    ));
    let reader = decoder.read_info().expect("a PNG");
    let info = reader.info();
    // 8 x 6 cells, each blown up to 64 x 64 pixels (512 / 8).
    assert_eq!((info.width, info.height), (512, 384));
    assert!(
        info.uncompressed_latin1_text
            .iter()
            .any(|t| t.keyword == "losscape-x-axis" && t.text.starts_with("lr=0.01:0.5:lin:8"))
    );
    // steps-to-loss adds a `reached` column.
    let csv = dir.join("sweep.csv");
    let o = losscape(&[
        "sweep",
        "--surface",
        "bowl",
        "--optimizer",
        "sgd",
        "--vary",
        "lr=0.05:0.3:lin:6",
        "--vary",
        "eps=1e-8:1e-8:log:1",
        "--metric",
        "steps-to-loss:1e-6",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("--vary eps has no effect on sgd"), "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows = table(&text, "lr,eps,x,y,loss,steps,status,reached");
    assert_eq!(rows.len(), 6);
    // eta = 0.05 reaches 1e-6 within 1000 steps; eta = 0.25 and 0.3 (> 2/10) diverge.
    assert!(!rows[0][7].is_empty());
    assert_eq!(rows[4][6], "diverged");
    assert_eq!(rows[5][6], "diverged");
}

/// The heat map's cells where they belong: lr to the right, β_m upwards, and light grey exactly where
/// the lecture's averaged momentum on the bowl (λ_max = 10) must diverge, `η (1 − β_m) 10 > 2 (1 + β_m)`
/// (docs/guide.md's rule), the other cells in the colormap's colours.
#[test]
fn sweep_png_cells_are_where_the_rule_puts_them() {
    let dir = temp_dir("cli-sweep-cells");
    let png = dir.join("cells.png");
    let (lrs, betas) = ([0.05, 0.15, 0.25, 0.35, 0.45, 0.55], [0.0, 0.3, 0.6, 0.9]);
    let o = losscape(&[
        "sweep",
        "--surface",
        "bowl",
        "--optimizer",
        "momentum",
        "--vary",
        "lr=0.05:0.55:lin:6",
        "--vary",
        "beta-m=0:0.9:lin:4",
        "--steps",
        "300",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut reader = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Rgba);
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    let (width, height) = (frame.width as usize, frame.height as usize);
    // square cells, about 512 pixels across
    let cell = width / lrs.len();
    assert_eq!((width, height), (cell * 6, cell * 4));
    assert!((500..=512).contains(&width), "{width}");
    let at = |px: usize, py: usize| {
        let i = 4 * (py * width + px);
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    };
    let light_grey = [236, 236, 236];
    let mut diverged = 0;
    for (i, lr) in lrs.iter().enumerate() {
        for (j, beta) in betas.iter().enumerate() {
            // the centre of cell (i, j): column i from the left, row j from the bottom
            let colour = at(i * cell + cell / 2, height - 1 - (j * cell + cell / 2));
            let must_diverge = lr * (1.0 - beta) * 10.0 > 2.0 * (1.0 + beta);
            assert_eq!(
                colour == light_grey,
                must_diverge,
                "lr {lr}, β_m {beta}: {colour:?}"
            );
            diverged += usize::from(must_diverge);
            // one colour over the whole cell
            for (dx, dy) in [(1, 1), (cell - 2, cell - 2)] {
                assert_eq!(at(i * cell + dx, height - 1 - (j * cell + dy)), colour);
            }
        }
    }
    assert_eq!(diverged, 6);
}

#[test]
fn basins_csv_and_png() {
    let dir = temp_dir("cli-basins");
    let csv = dir.join("basins.csv");
    // the same 6 x 6 map of 400 SGD steps on Himmelblau, as a CSV or a PNG
    let basins = |out: &std::path::Path| {
        losscape(&[
            "basins",
            "--surface",
            "himmelblau",
            "--optimizer",
            "sgd",
            "--lr",
            "0.002",
            "--grid",
            "6",
            "--steps",
            "400",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = basins(&csv);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("minimum 0: (3, 2)"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows = table(&text, "x0,y0,x,y,loss,steps,status,minimum");
    assert_eq!(rows.len(), 36);
    // Starts at the centres of a 6 x 6 tiling of [-5, 5]^2, x0 fastest.
    assert_eq!(
        (rows[0][0].as_str(), rows[0][1].as_str()),
        ("-4.166666666666667", "-4.166666666666667")
    );
    assert_eq!(rows[1][1], rows[0][1]);
    let mut seen = [false; 4];
    for row in &rows {
        let k: usize = row[7].parse().expect("every start reaches a minimum");
        seen[k] = true;
    }
    assert_eq!(seen, [true; 4]);
    // A row is trace from its start.
    let start = format!("--start={},{}", rows[7][0], rows[7][1]);
    let last = trace_last(&[
        "--surface",
        "himmelblau",
        "--optimizer",
        "sgd",
        "--lr",
        "0.002",
        "--steps",
        "400",
        &start,
    ]);
    assert_eq!(&rows[7][2..5], &last[1..4]);
    // the same map as a PNG: every cell where its start is (x to the right, y upwards), in its
    // minimum's hue, darker the more of the 400 steps it took (as the CSV says)
    let png = dir.join("himmelblau.png");
    let o = basins(&png);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut reader = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Rgba);
    let (width, height) = (frame.width as usize, frame.height as usize);
    let cell = width / 6;
    assert_eq!((width, height), (6 * cell, 6 * cell));
    for (n, row) in rows.iter().enumerate() {
        let (i, j) = (n % 6, n / 6);
        let k: usize = row[7].parse().unwrap();
        let steps: f64 = row[5].parse().unwrap();
        let shade = 1.0 - 0.6 * (steps / 400.0).min(1.0);
        let expect = losscape::core::maps::color::minimum_rgb(k)
            .map(|c| (f64::from(c) * shade).round() as u8);
        let (px, py) = (i * cell + cell / 2, height - 1 - (j * cell + cell / 2));
        let at = 4 * (py * width + px);
        assert_eq!(
            pixels[at..at + 3],
            expect,
            "start ({}, {}) ends at minimum {k} after {steps} steps",
            row[0],
            row[1]
        );
    }
    let png = dir.join("basins.png");
    let o = losscape(&[
        "basins",
        "--surface",
        "bowl",
        "--optimizer",
        "adam",
        "--grid",
        "16",
        "--steps",
        "100",
        "--threads",
        "1",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reader = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()))
        .read_info()
        .unwrap();
    assert_eq!((reader.info().width, reader.info().height), (512, 512));
}

#[test]
fn bad_input_is_refused_before_anything_is_computed() {
    let dir = temp_dir("cli-maps-bad");
    let base = ["sweep", "--surface", "bowl", "--optimizer", "adam"];
    let cases: [(&[&str], &str); 9] = [
        (
            &["--vary", "lr=1e-4:1:log", "--vary", "beta-m=0:0.9:lin:4"],
            "--vary: 'lr=1e-4:1:log' needs NAME=MIN:MAX:lin|log:COUNT",
        ),
        (
            &["--vary", "lr:1e-4:1:log:4", "--vary", "beta-m=0:0.9:lin:4"],
            "needs NAME=MIN:MAX:lin|log:COUNT",
        ),
        (
            &["--vary", "gamma=0:1:lin:4", "--vary", "lr=0.1:1:log:4"],
            "unknown parameter 'gamma'",
        ),
        (
            &["--vary", "lr=a:1:log:4", "--vary", "beta-m=0:0.9:lin:4"],
            "MIN 'a' in 'lr=a:1:log:4' is not a number",
        ),
        (
            &["--vary", "lr=0.1:1:cubic:4", "--vary", "beta-m=0:0.9:lin:4"],
            "scale 'cubic'",
        ),
        (
            &["--vary", "lr=0:1:log:4", "--vary", "beta-m=0:0.9:lin:4"],
            "a log axis needs min > 0",
        ),
        (
            &["--vary", "lr=0.1:1:log:300", "--vary", "beta-m=0:0.9:lin:4"],
            "between 1 and 256",
        ),
        (
            &["--vary", "lr=0.1:1:log:4"],
            "--vary is needed exactly twice",
        ),
        (
            &["--vary", "lr=0.1:1:log:4", "--vary", "eta=0.1:1:log:4"],
            "the same parameter",
        ),
    ];
    for (args, message) in cases {
        let o = losscape(&[&base[..], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.starts_with("error: ") && err.contains(message),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // An unwritable path is refused at once, not after the map.
    let missing = dir.join("no-such-dir").join("map.csv");
    // (26 billion steps: a map computed before the refusal would take hours; the deadline only turns
    // such a hang into a failure)
    let mut child = std::process::Command::new(common::BIN)
        .args([
            "basins",
            "--surface",
            "rosenbrock",
            "--optimizer",
            "adam",
            "--grid",
            "512",
            "--steps",
            "100000",
            "--out",
            missing.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("basins computed the map before refusing an unwritable --out");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // one line, the reason, and no summary of a map on stdout: nothing was computed
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot write"), "{err}");
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    for (args, message) in [
        (&["--grid", "0"][..], "--grid 0 must be between 1 and 512"),
        (
            &["--steps", "0"][..],
            "steps = 0 must be between 1 and 100000",
        ),
        (&["--radius", "-1"][..], "radius -1 must be finite and > 0"),
    ] {
        let o = losscape(&[&["basins", "--surface", "bowl", "--optimizer", "sgd"], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
}
