//! Axis ticks with values along the top view's bottom (x) and left (y) edges: the app's top view and a
//! clip's top view paint the same axes, through the view's [`ViewProjection`].

use bevy::math::{Vec3, Vec4};
use bevy_egui::egui;

use super::{nice_step, outlined, tick_label, ticks};
use crate::core::Vec2d;
use crate::geometry::{SurfaceFrame, ViewProjection, top_overlay_y};

/// The parameter point under a pixel of the top view (whose camera looks straight down, so depth does
/// not matter); `None` if the camera cannot be inverted.
fn param_under(view: &ViewProjection, frame: &SurfaceFrame, pixel: egui::Pos2) -> Option<Vec2d> {
    let r = view.rect;
    let ndc_x = (pixel.x - r.min.x) / r.width().max(1e-6) * 2.0 - 1.0;
    let ndc_y = 1.0 - (pixel.y - r.min.y) / r.height().max(1e-6) * 2.0;
    let inverse = view.clip_from_world.inverse();
    let world = inverse * Vec4::new(ndc_x, ndc_y, 0.5, 1.0);
    if !(world.w.abs() > 1e-9 && world.is_finite()) {
        return None;
    }
    let world = world.truncate() / world.w;
    Some(frame.xz_to_param(world.x, world.z))
}

/// Paints ticks and values along the bottom and left edges of the top view `view` (its rectangle in the
/// painter's units), `text_size` points high: right under and left of the landscape's domain when there
/// is room for them there (so they sit by the surface they measure, over the background), else along the
/// view's own edges, over the surface. Values that would sit on the view's caption (top-left) or on the
/// x values are left out. Returns the band that the x ticks and values take (what a step counter must
/// keep off), if any were painted.
pub fn paint_top_axes(
    painter: &egui::Painter,
    view: &ViewProjection,
    frame: &SurfaceFrame,
    text_size: f32,
) -> Option<egui::Rect> {
    let clip = view.rect;
    let (Some(lo), Some(hi)) = (
        param_under(view, frame, egui::pos2(clip.min.x, clip.max.y)),
        param_under(view, frame, egui::pos2(clip.max.x, clip.min.y)),
    ) else {
        return None;
    };
    let y_plane = top_overlay_y(frame);
    let tick = (text_size * 0.65).round();
    let stroke = egui::Stroke::new((text_size / 8.0).max(1.0), egui::Color32::from_gray(230));
    let at = |p: Vec2d| {
        let xz = frame.param_to_xz(p);
        view.project(Vec3::new(xz.x, y_plane, xz.y)).map(|(s, _)| s)
    };
    let d = &frame.domain;
    let domain = match (at([d.x[0], d.y[0]]), at([d.x[1], d.y[1]])) {
        (Some(a), Some(b)) => egui::Rect::from_two_pos(a, b),
        _ => clip,
    };
    // room for a tick and a line of values below the domain, and for "-4.5" left of it
    let below =
        domain.max.y + tick + 2.0 + 1.4 * text_size <= clip.max.y && domain.max.y >= clip.min.y;
    let left_of =
        domain.min.x - tick - 3.0 - 2.6 * text_size >= clip.min.x && domain.min.x <= clip.max.x;
    let (x_lo, x_hi) = if below {
        (lo[0].max(d.x[0]), hi[0].min(d.x[1]))
    } else {
        (lo[0].min(hi[0]), lo[0].max(hi[0]))
    };
    let step_x = nice_step(x_hi - x_lo, 6.0);
    let mut x_band: Option<egui::Rect> = None;
    for x in ticks(x_lo, x_hi, step_x) {
        let Some(s) = at([x, lo[1]]) else { continue };
        let label = if below {
            let edge = domain.max.y;
            painter.line_segment(
                [egui::pos2(s.x, edge), egui::pos2(s.x, edge + tick)],
                stroke,
            );
            outlined(
                painter,
                egui::pos2(s.x, edge + tick + 2.0),
                egui::Align2::CENTER_TOP,
                &tick_label(x, step_x),
                egui::Color32::WHITE,
                text_size,
            )
        } else {
            let bottom = clip.max.y;
            painter.line_segment(
                [egui::pos2(s.x, bottom), egui::pos2(s.x, bottom - tick)],
                stroke,
            );
            outlined(
                painter,
                egui::pos2(s.x, bottom - tick - 2.0),
                egui::Align2::CENTER_BOTTOM,
                &tick_label(x, step_x),
                egui::Color32::WHITE,
                text_size,
            )
        };
        let top = if below { domain.max.y } else { label.min.y };
        let band = egui::Rect::from_x_y_ranges(label.x_range(), top..=label.max.y.max(top));
        x_band = Some(x_band.map_or(band, |b| b.union(band)));
    }
    // the caption sits in the top-left corner, the x values along the bottom
    let band = text_size * 2.8;
    let x_values = x_band.map_or(clip.max.y, |b| b.min.y);
    let (y_lo, y_hi) = if left_of {
        (lo[1].max(d.y[0]), hi[1].min(d.y[1]))
    } else {
        (lo[1].min(hi[1]), lo[1].max(hi[1]))
    };
    let step_y = nice_step(y_hi - y_lo, 6.0);
    for y in ticks(y_lo, y_hi, step_y) {
        let Some(s) = at([lo[0], y]) else { continue };
        if s.y < clip.min.y + band || s.y > x_values - 0.5 * band {
            continue;
        }
        if left_of {
            let edge = domain.min.x;
            painter.line_segment(
                [egui::pos2(edge, s.y), egui::pos2(edge - tick, s.y)],
                stroke,
            );
            outlined(
                painter,
                egui::pos2(edge - tick - 3.0, s.y),
                egui::Align2::RIGHT_CENTER,
                &tick_label(y, step_y),
                egui::Color32::WHITE,
                text_size,
            );
        } else {
            let left = clip.min.x;
            painter.line_segment(
                [egui::pos2(left, s.y), egui::pos2(left + tick, s.y)],
                stroke,
            );
            outlined(
                painter,
                egui::pos2(left + tick + 3.0, s.y),
                egui::Align2::LEFT_CENTER,
                &tick_label(y, step_y),
                egui::Color32::WHITE,
                text_size,
            );
        }
    }
    x_band
}
