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

    // bad input: one line, exit 2, nothing written
    let gif = dir.join("x.gif");
    for args in [
        vec!["render", "--preset", "beale", "--out", "x.mp4"],
        vec!["render", "--preset", "nope", "--out", gif.to_str().unwrap()],
        vec![
            "render",
            "--preset",
            "beale",
            "--out",
            gif.to_str().unwrap(),
            "--fps",
            "5",
        ],
        vec![
            "render",
            "--preset",
            "beale",
            "--out",
            gif.to_str().unwrap(),
            "--size",
            "64",
        ],
        vec![
            "render",
            "--preset",
            "beale",
            "--out",
            "/nonexistent-dir/x.gif",
        ],
        vec!["render", "--out", gif.to_str().unwrap()],
    ] {
        let run = losscape(&args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    assert!(!gif.exists());
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
