//! The real thing: the app opens a window on its own Xvfb display (with Mesa's software Vulkan in CI, so
//! the desktop's DPI or window manager change nothing), renders the saddle lesson, waits for a drawn and
//! stable picture and saves it; the picture must show the surface in both views and the balls.
#![cfg(feature = "app")]

use std::{path::Path, process::Command, time::Duration};

mod common;

use common::BIN;

fn decode_rgb(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let file = std::fs::File::open(path).expect("screenshot exists");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width, info.height, pixels)
}

fn is_background(p: [u8; 3]) -> bool {
    // the clear colour (0.08, 0.085, 0.1) and near-black
    p.iter().all(|&c| c < 40)
}

/// Viridis-like surface colours: saturated and not grey.
fn is_surface(p: [u8; 3]) -> bool {
    let max = *p.iter().max().unwrap() as i32;
    let min = *p.iter().min().unwrap() as i32;
    !is_background(p) && max - min > 25
}

#[test]
fn the_window_shows_the_surface_in_both_views_and_the_balls() {
    let dir = common::temp_dir("window");
    let shot = dir.join("saddle.png");
    let mut cmd = Command::new("xvfb-run");
    cmd.args(["-a", "-s", "-screen 0 1280x800x24", BIN])
        .args(["--preset", "saddle", "--screenshot"])
        .arg(&shot)
        .env("XDG_CONFIG_HOME", &dir) // fresh projector settings
        .env("RUST_LOG", "warn");
    let mut child = cmd
        .spawn()
        .expect("the app starts (is xvfb-run installed? see scripts/setup.sh)");
    // the app quits by itself once the picture is stable; 20 minutes is a hang, not slowness
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(waited < Duration::from_secs(1200), "the app did not finish");
        std::thread::sleep(Duration::from_millis(500));
        waited += Duration::from_millis(500);
    };
    assert!(status.success(), "the app exited with {status}");
    let (w, h, px) = decode_rgb(&shot);
    assert!(w >= 800 && h >= 500, "a window of {w} x {h}");
    let at = |x: u32, y: u32| px[(y * w + x) as usize];

    // the panel on the left is at most ~45 % of the width; the views share the rest (fractions of the
    // window, so that any window size works)
    let region = |x0: f64, x1: f64, y0: f64, y1: f64, f: &dyn Fn([u8; 3]) -> bool| {
        let (x0, x1) = ((x0 * w as f64) as u32, (x1 * w as f64) as u32);
        let (y0, y1) = ((y0 * h as f64) as u32, (y1 * h as f64) as u32);
        let mut n = 0;
        let mut total = 0;
        for y in (y0..y1).step_by(3) {
            for x in (x0..x1).step_by(3) {
                total += 1;
                n += f(at(x, y)) as u32;
            }
        }
        n as f64 / total as f64
    };
    // at 1280 x 800 the split layout stacks the views (the room beside the panel is not 1.5 times
    // wider than tall): the 3D view above, the top view below, each framed in the middle
    let three_d = region(0.5, 0.75, 0.12, 0.4, &is_surface);
    let top = region(0.53, 0.76, 0.56, 0.9, &is_surface);
    assert!(three_d > 0.5, "3D view shows the surface: {three_d:.2}");
    assert!(top > 0.8, "top view shows the surface: {top:.2}");

    // balls: solid 4 x 4 patches of an optimizer colour that the surface never shows (not near any
    // colour of its colormap, not grey like the labels' text), after lighting and tone mapping. A ball
    // here is about 11 pixels across; its start ring (a tube of half a ball radius, under 3 pixels) and
    // the labels' letters are too thin to hold such a patch, so only a ball passes
    const PATCH: u32 = 4;
    let scene = losscape::core::lessons::preset("saddle").unwrap();
    let surface: Vec<[f32; 3]> = (0..=64)
        .map(|i| scene.surface.colormap.srgb(i as f32 / 64.0))
        .collect();
    let distance =
        |a: [f32; 3], b: [f32; 3]| (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f32>().sqrt();
    let palette: Vec<[f32; 3]> = scene
        .optimizers
        .iter()
        .map(|o| o.color)
        .filter(|&c| {
            let grey =
                c.iter().copied().fold(0.0, f32::max) - c.iter().copied().fold(1.0, f32::min) < 0.3;
            !grey && surface.iter().all(|&s| distance(s, c) > 0.55)
        })
        .collect();
    assert!(
        !palette.is_empty(),
        "the lesson has a colour the surface has not"
    );
    let near = |p: [u8; 3], c: [f32; 3]| {
        distance(p.map(|v| v as f32 / 255.0), c) < 110.0 / 255.0 && !is_surface_like_viridis(p)
    };
    let ball_in = |x0: u32, x1: u32, y0: u32, y1: u32| {
        (y0..y1.min(h - PATCH)).any(|y| {
            (x0..x1.min(w - PATCH)).any(|x| {
                palette
                    .iter()
                    .any(|&c| (0..PATCH * PATCH).all(|k| near(at(x + k % PATCH, y + k / PATCH), c)))
            })
        })
    };
    let x = |f: f64| (f * w as f64) as u32;
    let y = |f: f64| (f * h as f64) as u32;
    assert!(ball_in(x(0.3), w, 0, y(0.48)), "a ball in the 3D view");
    assert!(
        ball_in(x(0.3), w, y(0.5), y(0.96)),
        "a ball in the top view"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The dark purples and greens of viridis are never mistaken for a ball colour.
fn is_surface_like_viridis(p: [u8; 3]) -> bool {
    let [r, g, b] = p.map(|c| c as i32);
    // viridis: blue >= red everywhere but the yellow end, and green rises with it
    (b > r + 20 && g > r) || (r < 90 && g < 90 && b > r)
}

/// The app with no way to show a window: its standard error and exit status.
fn refused(cmd: &mut Command) -> (String, std::process::ExitStatus) {
    let dir = common::temp_dir("no-window");
    let out = cmd
        .env("XDG_CONFIG_HOME", &dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the app starts");
    let _ = std::fs::remove_dir_all(&dir);
    (common::stderr(&out), out.status)
}

/// One line that says what is missing and what to do, no panic, a failing status.
fn one_line_no_panic(stderr: &str, status: std::process::ExitStatus, want: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains(want), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!status.success(), "{status}");
    assert_ne!(status.code(), Some(101), "a panic's status");
}

#[test]
fn without_a_display_the_app_says_so_in_one_line_and_exits() {
    // nothing set: no display at all
    let (stderr, status) = refused(
        Command::new(BIN)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("WAYLAND_SOCKET"),
    );
    one_line_no_panic(&stderr, status, "no display");
    assert!(stderr.contains("xvfb-run"), "what to do instead: {stderr}");
    assert_eq!(status.code(), Some(2));
    // a display that nobody serves (:0 .. :99 are Xvfb's and desktops'; 1729 is free in CI and here)
    let (stderr, status) = refused(
        Command::new(BIN)
            .args(["--preset", "beale"])
            .env("DISPLAY", ":1729")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("WAYLAND_SOCKET"),
    );
    one_line_no_panic(
        &stderr,
        status,
        "cannot connect to the X server at DISPLAY=:1729",
    );
}

#[test]
fn without_a_vulkan_adapter_the_app_says_so_in_one_line_and_exits() {
    // a display, but the Vulkan loader finds no driver (and wgpu is kept to Vulkan)
    let (stderr, status) = refused(
        Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 1024x768x24", BIN])
            .env("WGPU_BACKEND", "vulkan")
            .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
            .env("VK_DRIVER_FILES", "/nonexistent/icd.json"),
    );
    one_line_no_panic(&stderr, status, "no usable GPU adapter");
    assert_eq!(status.code(), Some(1));
}
