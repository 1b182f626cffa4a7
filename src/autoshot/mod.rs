//! `losscape --screenshot FILE`: open the window, wait until the surface is drawn in every view on screen
//! and the picture stops changing (shaders can take many frames to compile on software Vulkan), save it as
//! a PNG and quit. Used by the end-to-end test and handy for slides. Frames are compared, never timed.

use std::path::PathBuf;

use bevy::{
    prelude::*,
    render::view::screenshot::{Screenshot, ScreenshotCaptured},
};

use crate::system_order::{AppSystems, KeepAwake};
use crate::views::{BACKGROUND, ViewRects};

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

fn request_capture(
    mut commands: Commands,
    mut shot: ResMut<AutoShot>,
    mut awake: ResMut<KeepAwake>,
) {
    if shot.done {
        return;
    }
    // frames are what it counts and compares
    awake.request();
    shot.frames += 1;
    if shot.waiting || !shot.frames.is_multiple_of(CAPTURE_EVERY) {
        return;
    }
    shot.waiting = true;
    commands
        .spawn(Screenshot::primary_window())
        .observe(compare_and_save);
}

/// Whether every view on screen shows its surface: at least a twelfth of the pixels in each view's rectangle
/// (window pixels `width` wide, `scale` physical pixels per logical one) differ clearly from the
/// background (the surface of a tilted 3D view fills a fifth of it; labels and axes alone stay far below
/// a twelfth). A frame before the surface's shaders are ready shows the background there.
pub fn surface_drawn(data: &[u8], width: u32, scale: f32, rects: &ViewRects) -> bool {
    let bg = BACKGROUND.to_srgba().to_u8_array();
    let views: Vec<Rect> = [rects.three_d, rects.top].into_iter().flatten().collect();
    !views.is_empty()
        && views.iter().all(|r| {
            let (x0, y0) = ((r.min.x * scale) as usize, (r.min.y * scale) as usize);
            let (x1, y1) = ((r.max.x * scale) as usize, (r.max.y * scale) as usize);
            let (mut drawn, mut total) = (0usize, 0usize);
            for y in (y0..y1).step_by(4) {
                for x in (x0..x1.min(width as usize)).step_by(4) {
                    let Some(px) =
                        data.get((y * width as usize + x) * 4..(y * width as usize + x) * 4 + 3)
                    else {
                        continue;
                    };
                    total += 1;
                    drawn += usize::from(px.iter().zip(bg).any(|(a, b)| a.abs_diff(b) > 24));
                }
            }
            total > 0 && drawn * 12 >= total
        })
}

/// Saves and quits once the surface is drawn and two captures in a row are identical.
fn compare_and_save(
    captured: On<ScreenshotCaptured>,
    mut shot: ResMut<AutoShot>,
    rects: Res<ViewRects>,
    windows: Query<&Window>,
    mut exit: MessageWriter<AppExit>,
) {
    shot.waiting = false;
    let Some(data) = captured.image.data.as_ref() else {
        return;
    };
    let scale = windows.iter().next().map_or(1.0, |w| w.scale_factor());
    let drawn = surface_drawn(data, captured.image.width(), scale, &rects);
    let stable = drawn && shot.previous.as_deref() == Some(data.as_slice());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_counts_as_drawn_only_when_every_view_shows_more_than_background() {
        let (w, h) = (200u32, 100u32);
        let bg = BACKGROUND.to_srgba().to_u8_array();
        let mut data: Vec<u8> = (0..w * h).flat_map(|_| bg).collect();
        let rects = ViewRects {
            three_d: Some(Rect::new(0.0, 0.0, 100.0, 100.0)),
            top: Some(Rect::new(100.0, 0.0, 200.0, 100.0)),
        };
        assert!(!surface_drawn(&data, w, 1.0, &rects), "background only");
        let paint = |data: &mut Vec<u8>, x0: u32, x1: u32| {
            for y in 0..h {
                for x in x0..x1 {
                    let i = ((y * w + x) * 4) as usize;
                    data[i..i + 3].copy_from_slice(&[70, 160, 120]);
                }
            }
        };
        paint(&mut data, 0, 100);
        assert!(
            !surface_drawn(&data, w, 1.0, &rects),
            "the top view is still empty"
        );
        paint(&mut data, 130, 170);
        assert!(surface_drawn(&data, w, 1.0, &rects));
        assert!(
            !surface_drawn(&data, w, 1.0, &ViewRects::default()),
            "no view on screen"
        );
    }
}
