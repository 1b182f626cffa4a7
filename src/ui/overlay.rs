//! Drawn over the views with egui: each optimizer's name next to its ball (and "diverged at step K" or
//! "converged"), axis ticks with values along the top view's edges, and a caption per view.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use crate::core::RunStatus;
use crate::geometry::{BALL_RADIUS, SurfaceFrame, ViewKind, top_overlay_y};
use crate::optimizers::Optimizer;
use crate::paint::{
    LabelPlacer, ViewLayer, egui_color, nice_step, outlined, placed_label, tick_label, ticks,
    view_painter,
};
use crate::state::{ActiveLandscape, UiPrefs};
use crate::views::ViewRects;

/// Height kept clear of y-axis values at the top (the view's caption) and bottom (the x values).
const CAPTION_BAND: f32 = 26.0;

pub fn draw_overlays(
    mut contexts: EguiContexts,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    optimizers: Query<&Optimizer>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let scale = prefs.ui_scale.max(0.1);
    let to_egui = |v: Vec2| egui::pos2(v.x / scale, v.y / scale);
    let text_size = 15.0;
    for (view, camera, transform) in &cameras {
        let Some(rect) = rects.get(*view) else {
            continue;
        };
        let (painter, clip) = view_painter(ctx, *view, rect, scale, ViewLayer::Overlay);
        let caption = match view {
            ViewKind::ThreeD => "3D · drag to orbit",
            ViewKind::Top => "top · x right, y up",
        };
        outlined(
            &painter,
            clip.left_top() + egui::vec2(8.0, 6.0),
            egui::Align2::LEFT_TOP,
            caption,
            egui::Color32::from_gray(220),
            13.0,
        );
        // labels stay inside the view, off the caption and the readout under it, and apart
        let mut placer = LabelPlacer::new(clip);
        placer.reserve(egui::Rect::from_min_size(
            clip.left_top(),
            egui::vec2(330.0, 46.0),
        ));
        for opt in optimizers.iter().filter(|o| o.spec.visible) {
            let pos = opt.displayed_position();
            let world = match view {
                ViewKind::ThreeD => {
                    frame.world_point(pos, landscape.0.value(pos)) + Vec3::Y * (2.2 * BALL_RADIUS)
                }
                ViewKind::Top => {
                    let xz = frame.param_to_xz(pos);
                    Vec3::new(xz.x, top_overlay_y(&frame), xz.y)
                }
            };
            let Ok(screen) = camera.world_to_viewport(transform, world) else {
                continue;
            };
            let mut text = opt.spec.name.clone();
            let color = match opt.runner.status() {
                RunStatus::Running => egui_color(opt.spec.color),
                RunStatus::Diverged { step, .. } => {
                    text = format!("{text}: diverged at step {step}");
                    egui::Color32::from_gray(200)
                }
                RunStatus::Converged { .. } => {
                    text = format!("{text}: {}", opt.runner.status());
                    egui_color(opt.spec.color)
                }
            };
            placed_label(
                &painter,
                &mut placer,
                to_egui(screen),
                &text,
                color,
                text_size,
            );
        }
        if *view == ViewKind::Top {
            draw_axes(&painter, clip, camera, transform, &frame, scale);
        }
    }
    Ok(())
}

/// Ticks and values along the bottom (x) and left (y) edges of the top view.
fn draw_axes(
    painter: &egui::Painter,
    clip: egui::Rect,
    camera: &Camera,
    transform: &GlobalTransform,
    frame: &SurfaceFrame,
    scale: f32,
) {
    let y_plane = top_overlay_y(frame);
    let Some(area) = (|| {
        // param rectangle visible in the viewport: unproject two corners
        let a = camera
            .viewport_to_world(transform, Vec2::new(clip.min.x, clip.max.y) * scale)
            .ok()?;
        let b = camera
            .viewport_to_world(transform, Vec2::new(clip.max.x, clip.min.y) * scale)
            .ok()?;
        let pa = frame.xz_to_param(a.origin.x, a.origin.z);
        let pb = frame.xz_to_param(b.origin.x, b.origin.z);
        Some((pa, pb))
    })() else {
        return;
    };
    let (lo, hi) = area;
    let stroke = egui::Stroke::new(1.5, egui::Color32::from_gray(230));
    let step_x = nice_step(hi[0] - lo[0], 6.0);
    for x in ticks(lo[0], hi[0], step_x) {
        let xz = frame.param_to_xz([x, 0.0]);
        let Ok(s) = camera.world_to_viewport(transform, Vec3::new(xz.x, y_plane, xz.y)) else {
            continue;
        };
        let px = s.x / scale;
        let bottom = clip.max.y;
        painter.line_segment(
            [egui::pos2(px, bottom), egui::pos2(px, bottom - 8.0)],
            stroke,
        );
        outlined(
            painter,
            egui::pos2(px, bottom - 10.0),
            egui::Align2::CENTER_BOTTOM,
            &tick_label(x, step_x),
            egui::Color32::WHITE,
            12.0,
        );
    }
    let step_y = nice_step(hi[1] - lo[1], 6.0);
    for y in ticks(lo[1], hi[1], step_y) {
        let xz = frame.param_to_xz([0.0, y]);
        let Ok(s) = camera.world_to_viewport(transform, Vec3::new(xz.x, y_plane, xz.y)) else {
            continue;
        };
        let py = s.y / scale;
        // the caption sits in the top-left corner and the x values along the bottom: no y value over them
        if py < clip.min.y + CAPTION_BAND || py > clip.max.y - CAPTION_BAND {
            continue;
        }
        let left = clip.min.x;
        painter.line_segment([egui::pos2(left, py), egui::pos2(left + 8.0, py)], stroke);
        outlined(
            painter,
            egui::pos2(left + 11.0, py),
            egui::Align2::LEFT_CENTER,
            &tick_label(y, step_y),
            egui::Color32::WHITE,
            12.0,
        );
    }
}
