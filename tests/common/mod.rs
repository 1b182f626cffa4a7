//! Helpers shared by the integration tests: running the binary, building landscapes, comparing runs bit
//! for bit, temporary directories and the headless ECS app. Each test file uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use losscape::core::{Landscape, LandscapeSpec, StepRecord};

/// The `losscape` binary built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_losscape");

/// Runs `losscape ARGS` and waits for it.
pub fn losscape(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run losscape")
}

/// Its standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

/// Its standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// The landscape called `name`, with its default parameters.
pub fn landscape(name: &str) -> Landscape {
    Landscape::new(LandscapeSpec::from_name(name).expect("a known name")).expect("valid defaults")
}

/// The same, shared as the app and runners hold it.
pub fn shared(name: &str) -> Arc<Landscape> {
    Arc::new(landscape(name))
}

/// A run's rows as bits (step, x, y, loss, grad x, grad y): equal means bit-identical.
pub fn bits(records: &[StepRecord]) -> Vec<[u64; 6]> {
    records
        .iter()
        .map(|r| {
            [
                r.step,
                r.pos[0].to_bits(),
                r.pos[1].to_bits(),
                r.loss.to_bits(),
                r.grad[0].to_bits(),
                r.grad[1].to_bits(),
            ]
        })
        .collect()
}

/// A fresh directory under the system's temporary directory, unique to this process and `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("losscape-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Calls `poll` every few milliseconds until it gives a value. The deadline only turns a hang into a
/// failure that names `what` (it is minutes, far beyond any normal wait); it is no timing assertion.
pub fn wait_for<T>(what: &str, mut poll: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        if let Some(value) = poll() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: still waiting after 300 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A headless app: `MinimalPlugins`, the app's system order, and a clock that advances one fixed tick
/// (1/60 s) per update, so that `FixedUpdate` runs exactly once per `app.update()` after the first.
#[cfg(feature = "app")]
pub fn headless_app() -> bevy::app::App {
    use bevy::{prelude::*, time::TimeUpdateStrategy};
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(losscape::system_order::plugin)
        .insert_resource(TimeUpdateStrategy::ManualDuration(
            std::time::Duration::from_secs_f64(1.0 / losscape::optimizers::FIXED_HZ),
        ));
    app
}

/// Spawns an optimizer entity for each of `specs` on `landscape`, in order.
#[cfg(feature = "app")]
pub fn spawn_runs(
    app: &mut bevy::app::App,
    specs: &[losscape::core::scene::OptimizerSpec],
    landscape: &Arc<Landscape>,
) -> Vec<bevy::ecs::entity::Entity> {
    specs
        .iter()
        .map(|s| {
            let bundle = losscape::optimizers::optimizer(s.clone(), landscape.clone())
                .expect("a valid spec");
            app.world_mut().spawn(bundle).id()
        })
        .collect()
}

/// A GIF as a viewer shows it, decoded by the gif crate (not our encoder).
pub struct Decoded {
    pub width: u16,
    pub height: u16,
    /// Loops forever.
    pub infinite: bool,
    /// Per frame, in hundredths of a second.
    pub delays: Vec<u16>,
    /// Every frame composited onto the canvas, as the viewer shows it (RGBA).
    pub canvases: Vec<Vec<u8>>,
}

/// Decodes GIF bytes, compositing each frame onto the canvas.
pub fn decode_gif(bytes: &[u8]) -> Decoded {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(bytes).expect("a GIF");
    let (width, height) = (decoder.width(), decoder.height());
    let infinite = decoder.repeat() == gif::Repeat::Infinite;
    let mut canvas = vec![0u8; width as usize * height as usize * 4];
    let mut delays = Vec::new();
    let mut canvases = Vec::new();
    while let Some(frame) = decoder.read_next_frame().expect("a GIF frame") {
        delays.push(frame.delay);
        for y in 0..frame.height as usize {
            for x in 0..frame.width as usize {
                let src = (y * frame.width as usize + x) * 4;
                let px = &frame.buffer[src..src + 4];
                if px[3] == 0 {
                    continue;
                }
                let (cx, cy) = (frame.left as usize + x, frame.top as usize + y);
                let dst = (cy * width as usize + cx) * 4;
                canvas[dst..dst + 4].copy_from_slice(px);
            }
        }
        canvases.push(canvas.clone());
    }
    Decoded {
        width,
        height,
        infinite,
        delays,
        canvases,
    }
}
