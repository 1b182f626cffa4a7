//! `losscape --screenshot FILE`: open the window, wait until the picture stops changing (shaders can take
//! many frames to compile on software Vulkan), save it as a PNG and quit. Used by the end-to-end test and
//! handy for slides. Frames are compared, never timed.

use std::path::PathBuf;

use bevy::{
    prelude::*,
    render::view::screenshot::{Screenshot, ScreenshotCaptured},
};

use crate::schedule::AppSystems;

/// Frames between two captures that are compared.
const CAPTURE_EVERY: u32 = 20;
/// Give up after this many frames and save what is there (exit code 1).
const MAX_FRAMES: u32 = 6_000;

/// Where to save, and the comparison state.
#[derive(Resource, Debug, Default)]
pub struct AutoShot {
    pub path: PathBuf,
    frames: u32,
    waiting: bool,
    previous: Option<Vec<u8>>,
    done: bool,
}

impl AutoShot {
    pub fn new(path: PathBuf) -> Self {
        Self { path, ..default() }
    }
}

/// Adds the auto-screenshot when `AutoShot` is inserted before the app runs.
pub(super) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        request_capture
            .run_if(resource_exists::<AutoShot>)
            .in_set(AppSystems::Record),
    );
}

fn request_capture(mut commands: Commands, mut shot: ResMut<AutoShot>) {
    if shot.done {
        return;
    }
    shot.frames += 1;
    if shot.waiting || !shot.frames.is_multiple_of(CAPTURE_EVERY) {
        return;
    }
    shot.waiting = true;
    commands
        .spawn(Screenshot::primary_window())
        .observe(compare_and_save);
}

/// Saves and quits once two captures in a row are identical (and not blank).
fn compare_and_save(
    captured: On<ScreenshotCaptured>,
    mut shot: ResMut<AutoShot>,
    mut exit: MessageWriter<AppExit>,
) {
    shot.waiting = false;
    let Some(data) = captured.image.data.as_ref() else {
        return;
    };
    let blank = data.chunks_exact(4).all(|px| px[..3] == data[..3]);
    let stable = !blank && shot.previous.as_deref() == Some(data.as_slice());
    let give_up = shot.frames >= MAX_FRAMES;
    if !(stable || give_up) {
        shot.previous = Some(data.clone());
        return;
    }
    shot.done = true;
    let saved = captured
        .image
        .clone()
        .try_into_dynamic()
        .map_err(|e| e.to_string())
        .and_then(|img| img.to_rgb8().save(&shot.path).map_err(|e| e.to_string()));
    match saved {
        Ok(()) if stable => {
            info!(
                "screenshot saved to {} after {} frames",
                shot.path.display(),
                shot.frames
            );
            exit.write(AppExit::Success);
        }
        Ok(()) => {
            error!(
                "the picture never settled; saved the last frame to {}",
                shot.path.display()
            );
            exit.write(AppExit::error());
        }
        Err(e) => {
            error!("cannot save the screenshot to {}: {e}", shot.path.display());
            exit.write(AppExit::error());
        }
    }
}
