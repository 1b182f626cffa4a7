//! `losscape render` end to end: the real binary renders offscreen (software Vulkan in CI), and every GIF
//! is decoded with the gif crate's decoder (not our encoder): frame count, size, delays, loop flag, frames
//! that change as the balls move, and two runs giving the same bytes. Small clips keep this fast on 2 cores.
#![cfg(feature = "app")]

mod common;

use std::path::Path;
use std::process::Command;

use common::{decode_gif, losscape};

#[test]
fn render_writes_a_looping_gif_and_is_deterministic() {
    let dir = common::temp_dir("gif");
    let a = dir.join("a.gif");
    let b = dir.join("b.gif");
    let args = |out: &Path| {
        vec![
            "render".to_string(),
            "--preset".into(),
            "beale".into(),
            "--out".into(),
            out.display().to_string(),
            "--frames".into(),
            "8".into(),
            "--fps".into(),
            "30".into(),
            "--size".into(),
            "320x240".into(),
            "--steps-per-frame".into(),
            "3".into(),
            "--legend".into(),
        ]
    };
    for out in [&a, &b] {
        let args = args(out);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = losscape(&refs);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "render failed: {stderr}");
        assert!(!out.with_extension("gif.part").exists());
    }
    let clip = decode_gif(&std::fs::read(&a).unwrap());
    assert_eq!((clip.width, clip.height), (320, 240));
    assert!(clip.infinite, "the GIF loops forever");
    assert_eq!(clip.delays.len(), 8);
    // 30 fps in centiseconds: 3 or 4 each, 8 frames last 27 cs (8/30 s rounded)
    assert!(
        clip.delays.iter().all(|&d| d == 3 || d == 4),
        "{:?}",
        clip.delays
    );
    assert_eq!(clip.delays.iter().map(|&d| d as u32).sum::<u32>(), 27);
    // the balls move: consecutive frames differ, and the scene is drawn (not one flat colour)
    for pair in clip.canvases.windows(2) {
        assert_ne!(pair[0], pair[1], "a frame repeats the previous one");
    }
    let first = &clip.canvases[0];
    let distinct: std::collections::HashSet<&[u8]> = first.chunks_exact(4).collect();
    assert!(distinct.len() > 50, "only {} colours", distinct.len());
    // two runs of one scene give the same file
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "two renders of the same scene differ"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_png_still_and_bad_input() {
    let dir = common::temp_dir("png");
    let png = dir.join("still.png");
    let run = losscape(&[
        "render",
        "--preset",
        "saddle",
        "--out",
        png.to_str().unwrap(),
        "--frames",
        "5",
        "--size",
        "200x150",
        "--view",
        "top",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, at bytes 16..24
    assert_eq!(&bytes[16..24], &[0, 0, 0, 200, 0, 0, 0, 150]);

    // bad input: one line naming the reason, exit 2, nothing written
    let gif = dir.join("x.gif");
    let gif = gif.to_str().unwrap();
    for (args, says) in [
        (
            vec!["render", "--preset", "beale", "--out", "x.mp4"],
            "--out x.mp4 must end in .gif (a clip), .png (a still), or .svg or .pdf",
        ),
        (
            vec!["render", "--preset", "nope", "--out", gif],
            "unknown lesson 'nope' (valid: saddle,",
        ),
        (
            vec!["render", "--preset", "beale", "--out", gif, "--fps", "5"],
            "--fps 5 is out of range (10..=50)",
        ),
        (
            vec!["render", "--preset", "beale", "--out", gif, "--size", "64"],
            "--size \"64\" is not WxH",
        ),
        (
            vec![
                "render",
                "--preset",
                "beale",
                "--out",
                "/nonexistent-dir/x.gif",
            ],
            "--out: cannot write /nonexistent-dir/x.gif",
        ),
        (
            vec!["render", "--out", gif],
            "render needs --scene FILE, --preset NAME, or a landscape",
        ),
        (
            vec![
                "render",
                "--preset",
                "saddle",
                "--optimizer",
                "sgd,nope",
                "--out",
                gif,
            ],
            "unknown optimizer 'nope'; valid names: sgd,",
        ),
    ] {
        let run = losscape(&args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(!Path::new(gif).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_needs_no_gpu_and_draws_axes_and_title() {
    // clips are drawn on the CPU: with every Vulkan driver hidden the render still works
    let dir = common::temp_dir("nogpu");
    let with_axes = dir.join("axes.png");
    let bare = dir.join("bare.png");
    let render = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "render",
            "--preset",
            "beale",
            "--out",
            out.to_str().unwrap(),
            "--frames",
            "3",
            "--size",
            "320x240",
            "--view",
            "top",
        ];
        args.extend_from_slice(extra);
        let run = Command::new(common::BIN)
            .args(&args)
            .env("VK_ICD_FILENAMES", "/nonexistent")
            .env("VK_DRIVER_FILES", "/nonexistent")
            .env("WGPU_BACKEND", "vulkan")
            .env_remove("DISPLAY")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        image::open(out).unwrap().to_rgba8()
    };
    let titled = render(&with_axes, &["--title", "Beale: four optimizers"]);
    let plain = render(&bare, &["--no-axes"]);
    assert_eq!(titled.dimensions(), (320, 240));
    // the axes (tick labels along the bottom and left) and the title (along the top) change those bands
    let band_differs = |rows: std::ops::Range<u32>, cols: std::ops::Range<u32>| {
        rows.flat_map(|y| cols.clone().map(move |x| (x, y)))
            .filter(|&(x, y)| titled.get_pixel(x, y) != plain.get_pixel(x, y))
            .count()
    };
    assert!(band_differs(220..240, 40..280) > 50, "no x-axis labels");
    // the y values sit just left of the domain (x 49 to 271 in a 320 x 240 top view)
    assert!(band_differs(40..200, 0..49) > 50, "no y-axis labels");
    assert!(band_differs(0..24, 60..260) > 50, "no title");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_a_typed_formula_or_say_where_it_is_wrong() {
    let dir = common::temp_dir("formula");
    let png = dir.join("formula.png");
    let run = losscape(&[
        "render",
        "--formula",
        "x^2 + y^2 + ln(x + 2)",
        "--out",
        png.to_str().unwrap(),
        "--frames",
        "3",
        "--size",
        "200x150",
        "--view",
        "top",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(png.exists());
    let bad = dir.join("bad.gif");
    let run = losscape(&[
        "render",
        "--formula",
        "x^2 + sinn(y)",
        "--out",
        bad.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: invalid formula: unknown function 'sinn' at column 7"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  x^2 + sinn(y)\n        ^^^^"),
        "{stderr}"
    );
    assert!(!bad.exists());
    // the app refuses it before opening a window
    let run = losscape(&["--formula", "(1 - x"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at column 1"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `render ARGS --out OUT` for a small top-view still; its pixels.
fn still(args: &[&str], out: &Path) -> image::RgbaImage {
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[
        "--out",
        out.to_str().unwrap(),
        "--frames",
        "4",
        "--steps-per-frame",
        "10",
        "--size",
        "320x240",
        "--view",
        "top",
    ]);
    let run = losscape(&all);
    assert!(
        run.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    image::open(out).unwrap().to_rgba8()
}

#[test]
fn render_reads_a_scene_file_as_it_reads_its_lesson() {
    let dir = common::temp_dir("render-scene");
    let scene = losscape::core::lessons::preset("beale").unwrap();
    let file = dir.join("beale.ron");
    scene.write_file(&file).unwrap();
    let preset = still(&["--preset", "beale"], &dir.join("preset.png"));
    let from_file = still(&["--scene", file.to_str().unwrap()], &dir.join("file.png"));
    assert!(
        preset == from_file,
        "the lesson's file renders as the lesson"
    );
    // the file's own settings count: another start for every optimizer moves every ball
    let mut moved = scene.clone();
    moved.question = None;
    moved.claims.clear();
    for o in &mut moved.optimizers {
        o.start = [2.0, -1.5];
    }
    let edited = dir.join("moved.ron");
    moved.write_file(&edited).unwrap();
    let other = still(
        &["--scene", edited.to_str().unwrap()],
        &dir.join("moved.png"),
    );
    assert!(other != preset, "an edited scene renders differently");
    // a broken file: one line naming it, exit 2, nothing written
    let broken = dir.join("broken.ron");
    std::fs::write(&broken, "(title: \"half a scene\",\n").unwrap();
    let out = dir.join("broken.png");
    let run = losscape(&[
        "render",
        "--scene",
        broken.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("broken.ron"), "{stderr}");
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_optimizer_list_replaces_the_scenes_runs() {
    let dir = common::temp_dir("render-optimizers");
    // the saddle lesson's Adam is pink; with --optimizer sgd,momentum no run is
    let pink = |img: &image::RgbaImage| {
        img.pixels()
            .filter(|p| {
                let [r, g, b, _] = p.0;
                r > 180 && g < 90 && (100..200).contains(&b)
            })
            .count()
    };
    let lesson = still(&["--preset", "saddle"], &dir.join("lesson.png"));
    assert!(
        pink(&lesson) >= 20,
        "the lesson's Adam: {} pink pixels",
        pink(&lesson)
    );
    let two = dir.join("two.png");
    let replaced = still(&["--preset", "saddle", "--optimizer", "sgd,momentum"], &two);
    assert_eq!(pink(&replaced), 0, "no Adam any more");
    // exactly the scene with those two, each with its defaults, named by its kind, from the first start
    let mut scene = losscape::core::lessons::preset("saddle").unwrap();
    let start = scene.optimizers[0].start;
    scene.optimizers = [
        losscape::core::OptimizerKind::Sgd,
        losscape::core::OptimizerKind::Momentum,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, kind)| {
        let mut spec = losscape::core::scene::OptimizerSpec::with_defaults(kind, i, start);
        spec.name = kind.label().to_owned();
        spec
    })
    .collect();
    scene.question = None;
    scene.claims.clear();
    let file = dir.join("two.ron");
    scene.write_file(&file).unwrap();
    let by_hand = still(
        &["--scene", file.to_str().unwrap()],
        &dir.join("by-hand.png"),
    );
    assert!(
        by_hand == replaced,
        "--optimizer sgd,momentum is that scene"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
