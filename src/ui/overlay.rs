//! Drawn over the views with egui: each optimizer's name next to its ball (and "diverged at step K" or
//! "converged"), axis ticks with values along the top view's edges, and a caption per view.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::{UiPrefs, egui_color};
use crate::core::RunStatus;
use crate::optimizers::{
    Optimizer,
    visuals::{BALL_RADIUS, top_overlay_y},
};
use crate::surface::{ActiveLandscape, SurfaceFrame};
use crate::views::{ViewCamera, ViewRects};

/// A "nice" tick spacing (1, 2 or 5 times a power of ten) giving about `target` ticks over `span`.
pub fn nice_step(span: f64, target: f64) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / target.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.5 {
        2.0
    } else if norm < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick values of spacing `step` inside [lo, hi].
pub fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && step > 0.0) || hi < lo {
        return Vec::new();
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last.min(first + 200))
        .map(|k| k as f64 * step)
        .collect()
}

fn tick_label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    format!("{v:.decimals$}")
}

/// A painter over one view, clipped to it, on its own background layer (named by `salt`), with the
/// view's rectangle in egui points. `rect` is in logical window pixels, `ui_scale` the egui zoom.
pub fn view_painter(
    ctx: &egui::Context,
    view: ViewCamera,
    rect: Rect,
    ui_scale: f32,
    salt: &'static str,
) -> (egui::Painter, egui::Rect) {
    let s = ui_scale.max(0.1);
    let clip = egui::Rect::from_min_max(
        egui::pos2(rect.min.x / s, rect.min.y / s),
        egui::pos2(rect.max.x / s, rect.max.y / s),
    );
    let painter = ctx
        .layer_painter(egui::LayerId::new(
            egui::Order::Background,
            egui::Id::new((salt, view as u8)),
        ))
        .with_clip_rect(clip);
    (painter, clip)
}

/// Text with a dark outline so it reads over any colour of the surface.
pub fn outlined(
    painter: &egui::Painter,
    pos: egui::Pos2,
    anchor: egui::Align2,
    text: &str,
    color: egui::Color32,
    size: f32,
) {
    let font = egui::FontId::proportional(size);
    for d in [
        egui::vec2(1.0, 1.0),
        egui::vec2(-1.0, 1.0),
        egui::vec2(1.0, -1.0),
        egui::vec2(-1.0, -1.0),
    ] {
        painter.text(
            pos + d,
            anchor,
            text,
            font.clone(),
            egui::Color32::from_black_alpha(220),
        );
    }
    painter.text(pos, anchor, text, font, color);
}

/// Height kept clear of y-axis values at the top (the view's caption) and bottom (the x values).
const CAPTION_BAND: f32 = 26.0;

pub fn draw_overlays(
    mut contexts: EguiContexts,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    cameras: Query<(&ViewCamera, &Camera, &GlobalTransform)>,
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
        let (painter, clip) = view_painter(ctx, *view, rect, scale, "overlay");
        let caption = match view {
            ViewCamera::ThreeD => "3D · drag to orbit",
            ViewCamera::Top => "top · x right, y up",
        };
        outlined(
            &painter,
            clip.left_top() + egui::vec2(8.0, 6.0),
            egui::Align2::LEFT_TOP,
            caption,
            egui::Color32::from_gray(220),
            13.0,
        );
        let mut placed: Vec<egui::Rect> = Vec::new();
        for opt in optimizers.iter().filter(|o| o.spec.visible) {
            let pos = opt.displayed_position();
            let world = match view {
                ViewCamera::ThreeD => {
                    frame.world_point(pos, landscape.0.value(pos)) + Vec3::Y * (2.2 * BALL_RADIUS)
                }
                ViewCamera::Top => {
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
                RunStatus::Diverged { .. } => {
                    text = format!("{text}: {}", opt.runner.status());
                    egui::Color32::from_gray(200)
                }
                RunStatus::Converged { .. } => {
                    text = format!("{text}: {}", opt.runner.status());
                    egui_color(opt.spec.color)
                }
            };
            // labels of optimizers at the same spot stack instead of overprinting
            let mut anchor = to_egui(screen) + egui::vec2(10.0, -10.0);
            let size = egui::vec2(
                text.chars().count() as f32 * 0.55 * text_size,
                text_size + 2.0,
            );
            let rect_at = |a: egui::Pos2| {
                egui::Rect::from_min_size(a - egui::vec2(0.0, size.y), size).shrink(1.0)
            };
            while placed.iter().any(|r| r.intersects(rect_at(anchor))) {
                anchor.y += size.y;
            }
            placed.push(rect_at(anchor));
            outlined(
                &painter,
                anchor,
                egui::Align2::LEFT_BOTTOM,
                &text,
                color,
                text_size,
            );
        }
        if *view == ViewCamera::Top {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_and_ticks() {
        assert_eq!(nice_step(9.0, 6.0), 2.0);
        assert_eq!(nice_step(1.0, 6.0), 0.2);
        assert_eq!(nice_step(100.0, 6.0), 20.0);
        assert_eq!(ticks(-4.5, 4.5, 2.0), vec![-4.0, -2.0, 0.0, 2.0, 4.0]);
        assert!(ticks(f64::NAN, 1.0, 0.5).is_empty());
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(-1e-17, 0.5), "0.0");
    }
}
