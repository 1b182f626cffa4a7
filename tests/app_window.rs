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

    // balls: solid 3 x 3 patches close to an optimizer colour (after lighting and tone mapping)
    let palette: Vec<[f32; 3]> = losscape::core::lessons::preset("saddle")
        .unwrap()
        .optimizers
        .iter()
        .map(|o| o.color)
        .collect();
    let near = |p: [u8; 3], c: [f32; 3]| {
        let d: f32 = (0..3).map(|i| (p[i] as f32 - c[i] * 255.0).powi(2)).sum();
        d.sqrt() < 110.0 && !is_surface_like_viridis(p)
    };
    let ball_in = |x0: u32, x1: u32, y0: u32, y1: u32| {
        (y0.max(1)..y1.min(h - 1)).any(|y| {
            (x0.max(1)..x1.min(w - 1)).any(|x| {
                palette
                    .iter()
                    .any(|&c| (0..9).all(|k| near(at(x + k % 3 - 1, y + k / 3 - 1), c)))
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
