//! The point under the cursor: x, y and the loss there, read from the height field in the 3D view and
//! straight down in the top view, and written in the corner of the view the cursor is in.

use bevy::{prelude::*, window::PrimaryWindow};
use bevy_egui::egui;

use super::drag::{camera_at, param_under};
use crate::core::{Vec2d, num};
use crate::geometry::ViewCameras;
use crate::geometry::{SurfaceFrame, ViewKind};
use crate::paint::outlined;
use crate::state::ActiveLandscape;

/// A landscape point under the cursor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HoverPoint {
    /// The view the cursor is in.
    pub view: ViewKind,
    /// The point in `param` space.
    pub param: Vec2d,
    /// The loss there.
    pub loss: f64,
    /// Whether the landscape is a network's plane (the point is (α, β), the loss the plane's).
    pub on_plane: bool,
}

/// The point under the cursor, `None` off the surface or over the panel.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct HoverReadout(pub Option<HoverPoint>);

/// What the readout was computed from; nothing is recomputed while it stays the same.
#[derive(PartialEq, Clone, Copy)]
pub struct HoverKey {
    position: Option<Vec2>,
    cameras: [Mat4; 2],
    generation: u32,
}

/// Reads the cursor's position in the window and finds the point under it.
pub fn update_hover(
    window: Query<&Window, With<PrimaryWindow>>,
    cameras: ViewCameras,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    mut readout: ResMut<HoverReadout>,
    mut last: Local<Option<HoverKey>>,
    mut generation: Local<u32>,
) {
    if frame.is_changed() || landscape.is_changed() {
        *generation = generation.wrapping_add(1);
    }
    let position = window.iter().next().and_then(Window::cursor_position);
    let mut matrices = [Mat4::ZERO; 2];
    for (view, _, transform) in cameras.all() {
        matrices[view as usize] = transform.to_matrix();
    }
    let key = HoverKey {
        position,
        cameras: matrices,
        generation: *generation,
    };
    if *last == Some(key) {
        return;
    }
    *last = Some(key);
    let point = position.and_then(|pos| {
        let (view, ..) = camera_at(pos, &cameras)?;
        let param = param_under(pos, &cameras, &frame, &landscape)?;
        Some(HoverPoint {
            view,
            param,
            loss: landscape.0.value(param),
            on_plane: landscape.0.network().is_some(),
        })
    });
    readout.set_if_neq(HoverReadout(point));
}

/// The readout's text.
pub fn readout_text(point: &HoverPoint) -> String {
    if point.on_plane {
        return format!(
            "α = {}   β = {}   loss on the plane = {}",
            num(point.param[0]),
            num(point.param[1]),
            num(point.loss)
        );
    }
    format!(
        "x = {}   y = {}   L = {}",
        num(point.param[0]),
        num(point.param[1]),
        num(point.loss)
    )
}

/// Writes the readout under the caption of the view (`clip`, egui points) the cursor is in (the caption
/// can span the view's width, the axis values hold the bottom edge).
pub fn paint_readout(painter: &egui::Painter, clip: egui::Rect, point: &HoverPoint) {
    outlined(
        painter,
        clip.left_top() + egui::vec2(8.0, 26.0),
        egui::Align2::LEFT_TOP,
        &readout_text(point),
        egui::Color32::WHITE,
        15.0,
    );
}
