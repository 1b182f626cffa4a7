//! The app: the window, Bevy's plugins, and the feature plugins. The order of their systems is declared
//! once, in [`crate::system_order`].

use std::process::ExitCode;

use bevy::{
    prelude::*,
    window::{Monitor, OnMonitor, PrimaryMonitor, PrimaryWindow, WindowPosition, WindowResolution},
};

use crate::core::{Landscape, scene::Scene};
use crate::state::{ActiveLandscape, AppLaunch, SurfaceSettings};

/// Composes the feature plugins. `scene` is what is on screen at launch, playing if `play`.
pub struct AppPlugin {
    pub scene: Scene,
    pub play: bool,
}

impl Plugin for AppPlugin {
    fn build(&self, app: &mut App) {
        // a failing system is logged and skipped, never a crash in front of a class
        app.set_error_handler(bevy::ecs::error::warn);
        // the scene's landscape and style exist from the first frame; LoadScene then spawns the rest
        match Landscape::new(self.scene.landscape.clone()) {
            Ok(l) => app.insert_resource(ActiveLandscape(std::sync::Arc::new(l))),
            Err(_) => app.insert_resource(ActiveLandscape::default()),
        };
        app.insert_resource(SurfaceSettings(self.scene.surface.clone()));
        app.add_plugins((
            crate::system_order::plugin,
            crate::third_party::plugin,
            crate::surface::plugin,
            crate::surface::cache_plugin,
            crate::views::plugin,
            crate::optimizers::plugin,
            crate::lessons::plugin,
            crate::interaction::plugin,
            crate::teaching::plugin,
            crate::maps::plugin,
            crate::networks::plugin,
            crate::recording::plugin,
            crate::autoshot::plugin,
            crate::classroom::plugin,
            crate::ui::plugin,
        ));
        let load = crate::lessons::LoadScene::new(self.scene.clone(), None);
        app.world_mut()
            .write_message(if self.play { load.playing() } else { load });
    }
}

/// Adds Bevy's plugins with the window. winit panics when the display refuses the connection in a way
/// [`check_display`](crate::platform::display::check_display) cannot see (an X server that rejects our
/// authorisation): that panic is silenced and returned as a message; any other panic goes on.
fn open_window(app: &mut App, title: String) -> Result<(), String> {
    let added = crate::platform::catch_quietly(|| {
        let mut window = Window {
            title,
            resolution: WindowResolution::new(1280, 800),
            ..default()
        };
        // the views take all the room there is; fit_window_to_monitor keeps it on a small screen
        window.set_maximized(true);
        app.add_plugins(
            DefaultPlugins
                .set(WindowPlugin {
                    primary_window: Some(window),
                    ..default()
                })
                .set(bevy::render::RenderPlugin {
                    // a surface image is drawn in the frame its camera changed, complete: the
                    // surface cameras render only then (see surface::cache)
                    synchronous_pipeline_compilation: true,
                    ..default()
                }),
        );
    });
    let Err(panic) = added else {
        app.add_systems(Update, fit_window_to_monitor);
        return Ok(());
    };
    let reason = crate::platform::panic_message(&*panic);
    if reason.contains("event loop") {
        Err(reason.lines().next().unwrap_or_default().to_string())
    } else {
        eprintln!("{reason}");
        std::panic::resume_unwind(panic)
    }
}

/// Shrinks the window to its monitor once the monitor is known (a frame or two after start): on a
/// 1024 x 768 projector the window is 1024 x 768, not 1280 x 800 with the top view and the timeline
/// off screen. The window also asks to be maximized, but without a window manager (Xvfb, a kiosk) that
/// does nothing, and a window manager may keep the asked size when it cannot maximize.
fn fit_window_to_monitor(
    mut fitted: Local<bool>,
    mut windows: Query<(&mut Window, Option<&OnMonitor>), With<PrimaryWindow>>,
    monitors: Query<(Entity, &Monitor, Has<PrimaryMonitor>)>,
) {
    if *fitted {
        return;
    }
    let Ok((mut window, on)) = windows.single_mut() else {
        return;
    };
    let monitor = on
        .and_then(|on| monitors.get(on.0).ok())
        .or_else(|| monitors.iter().find(|(_, _, primary)| *primary))
        .map(|(_, m, _)| m);
    let Some(monitor) = monitor else {
        // not known yet
        return;
    };
    *fitted = true;
    let logical = monitor.physical_size().as_vec2() / (monitor.scale_factor as f32).max(0.1);
    let size = window.size();
    if size.x > logical.x || size.y > logical.y {
        window
            .resolution
            .set(size.x.min(logical.x), size.y.min(logical.y));
        window.position = WindowPosition::At(monitor.physical_position);
    }
}

/// Opens the window with the scene the command line asked for (the saddle lesson by default).
pub fn run_app(launch: AppLaunch) -> ExitCode {
    let scene = match launch.scene() {
        Ok(scene) => scene,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if let Err(message) = crate::platform::display::check_display(false) {
        eprintln!(
            "error: {message}; run losscape on a desktop or under `xvfb-run`, or make GIFs without a \
             window with `losscape render`"
        );
        return ExitCode::from(2);
    }
    // without an adapter Bevy's renderer would panic: say what is missing instead
    if let Some(message) = crate::platform::missing_adapter() {
        eprintln!("error: {message}");
        return ExitCode::from(1);
    }
    let mut app = App::new();
    if let Some(bind) = launch.class_vote {
        // listening before the window opens: a busy port is an error on the terminal, not a surprise
        // in front of the class
        match start_class_vote(bind, launch.class_code.clone()) {
            Ok(vote) => {
                app.insert_resource(vote);
            }
            Err(message) => {
                eprintln!("error: --class-vote {bind}: {message}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(path) = &launch.screenshot {
        app.insert_resource(crate::autoshot::AutoShot::new(path.clone()));
    }
    let title = format!("losscape — {}", scene.title);
    if let Err(message) = open_window(&mut app, title) {
        eprintln!("error: cannot open a window: {message}");
        return ExitCode::from(1);
    }
    app.add_plugins(AppPlugin {
        scene,
        play: launch.play,
    });
    if let Some(window) = std::env::var("LOSSCAPE_LOG_FRAMES")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
    {
        // figures for docs/figures.md and scripts/soak.sh: frame times and memory over windows of time
        app.insert_resource(FrameLog::new(window))
            .add_systems(Last, log_frames);
    }
    let exit = app.run();
    match exit {
        AppExit::Success => ExitCode::SUCCESS,
        AppExit::Error(code) => ExitCode::from(code.get()),
    }
}

/// Starts the class vote's server at `bind` and says where on standard output.
fn start_class_vote(
    bind: std::net::SocketAddr,
    code: Option<crate::core::vote::JoinCode>,
) -> Result<crate::classroom::ClassVote, String> {
    let code = code.unwrap_or_else(crate::core::vote::JoinCode::random);
    let server =
        crate::vote_server::VoteServer::start(crate::vote_server::ServerConfig::new(bind, code))?;
    println!(
        "class vote: listening on {}, join code {}",
        server.local_addr(),
        server.code().as_str()
    );
    let vote = crate::classroom::ClassVote::running(server);
    for url in &vote.urls {
        println!("class vote: open {url} on a phone");
    }
    Ok(vote)
}

/// `LOSSCAPE_LOG_FRAMES=SECONDS`: one line per window of that many seconds on stderr, with the frames
/// drawn, their mean and 95th-percentile time, the steps the runs took and the resident memory.
#[derive(Resource)]
struct FrameLog {
    window_s: f64,
    times_ms: Vec<f64>,
    /// egui's triangles (the trails, balls, labels and panel, all painted by egui) summed over the
    /// window's frames: on a software renderer a frame's cost follows them.
    triangles: usize,
    started: std::time::Instant,
    last: std::time::Instant,
}

impl FrameLog {
    fn new(window_s: f64) -> Self {
        let now = std::time::Instant::now();
        Self {
            window_s,
            times_ms: Vec::new(),
            triangles: 0,
            started: now,
            last: now,
        }
    }
}

/// Resident memory of this process in MB (Linux; 0 elsewhere).
fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn log_frames(
    mut log: ResMut<FrameLog>,
    optimizers: Query<&crate::optimizers::Optimizer>,
    painted: Query<&bevy_egui::EguiRenderOutput>,
) {
    log.triangles += painted
        .iter()
        .flat_map(|output| &output.paint_jobs)
        .map(|job| match &job.primitive {
            bevy_egui::egui::epaint::Primitive::Mesh(mesh) => mesh.indices.len() / 3,
            bevy_egui::egui::epaint::Primitive::Callback(_) => 0,
        })
        .sum::<usize>();
    let now = std::time::Instant::now();
    let dt = now.duration_since(log.last).as_secs_f64() * 1e3;
    log.last = now;
    log.times_ms.push(dt);
    let elapsed: f64 = log.times_ms.iter().sum::<f64>() / 1e3;
    if elapsed < log.window_s {
        return;
    }
    let mut times = std::mem::take(&mut log.times_ms);
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let p95 = times[((times.len() as f64 * 0.95) as usize).min(times.len() - 1)];
    let steps = optimizers.iter().map(|o| o.steps()).max().unwrap_or(0);
    let triangles = std::mem::take(&mut log.triangles) / times.len();
    eprintln!(
        "frames t={:.0}s n={} mean_ms={mean:.1} p95_ms={p95:.1} steps={steps} rss_mb={:.1} egui_triangles={triangles}",
        now.duration_since(log.started).as_secs_f64(),
        times.len(),
        resident_mb()
    );
}
