//! The app: the window, Bevy's plugins, and the feature plugins. The order of their systems is declared
//! once, in [`crate::schedule`].

use std::process::ExitCode;

use bevy::{prelude::*, window::WindowResolution};

use crate::core::{Landscape, scene::Scene};
use crate::state::{ActiveLandscape, AppLaunch, SurfaceSettings};

/// Composes the feature plugins. `scene` is what is on screen at launch.
pub struct AppPlugin {
    pub scene: Scene,
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
            crate::schedule::plugin,
            crate::third_party::plugin,
            crate::surface::plugin,
            crate::views::plugin,
            crate::optimizers::plugin,
            crate::lessons::plugin,
            crate::interaction::plugin,
            crate::teaching::plugin,
            crate::recording::plugin,
            crate::autoshot::plugin,
            crate::ui::plugin,
        ));
        app.world_mut()
            .write_message(crate::lessons::LoadScene::new(self.scene.clone(), None));
    }
}

/// Adds Bevy's plugins with the window. winit panics when the display refuses the connection in a way
/// [`check_display`](crate::platform::display::check_display) cannot see (an X server that rejects our
/// authorisation): that panic is silenced and returned as a message; any other panic goes on.
fn open_window(app: &mut App, title: String) -> Result<(), String> {
    let added = crate::platform::catch_quietly(|| {
        app.add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title,
                resolution: WindowResolution::new(1280, 800),
                ..default()
            }),
            ..default()
        }));
    });
    let Err(panic) = added else {
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
    if let Some(path) = &launch.screenshot {
        app.insert_resource(crate::autoshot::AutoShot::new(path.clone()));
    }
    let title = format!("losscape — {}", scene.title);
    if let Err(message) = open_window(&mut app, title) {
        eprintln!("error: cannot open a window: {message}");
        return ExitCode::from(1);
    }
    app.add_plugins(AppPlugin { scene });
    if std::env::var_os("LOSSCAPE_LOG_FPS").is_some() {
        // frame-time figures for the README: mean frame time and fps logged every second
        app.add_plugins((
            bevy::diagnostic::FrameTimeDiagnosticsPlugin::default(),
            bevy::diagnostic::LogDiagnosticsPlugin::default(),
        ));
    }
    let exit = app.run();
    match exit {
        AppExit::Success => ExitCode::SUCCESS,
        AppExit::Error(code) => ExitCode::from(code.get()),
    }
}
