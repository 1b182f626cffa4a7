//! Drawn over the views with egui: each optimizer's name next to its ball (and "diverged at step K" or
//! "converged"), axis ticks with values along the top view's edges, and a caption per view.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use crate::core::{DivergenceCause, RunStatus};
use crate::geometry::{BALL_RADIUS, SurfaceFrame, ViewKind, ViewProjection, top_overlay_y};
use crate::optimizers::Optimizer;
use crate::paint::{
    LabelPlacer, ViewLayer, axes::paint_top_axes, egui_color, outlined, placed_label, view_painter,
};
use crate::state::{ActiveLandscape, UiPrefs};
use crate::views::{FrameSurface, ViewRects};

pub fn draw_overlays(
    mut contexts: EguiContexts,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    optimizers: Query<&Optimizer>,
    mut reframe: MessageWriter<FrameSurface>,
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
        let on_plane = landscape.0.network().is_some();
        let caption = match view {
            ViewKind::ThreeD => "3D · drag to orbit",
            ViewKind::Top if on_plane => "top · α right, β up (a plane of the weights)",
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
            let shown = opt.displayed_record();
            let pos = shown.pos;
            // a network run's ball stands at its true loss, not the plane's
            let height = if on_plane {
                shown.loss
            } else {
                landscape.0.value(pos)
            };
            let world = match view {
                ViewKind::ThreeD => frame.world_point(pos, height) + Vec3::Y * (2.2 * BALL_RADIUS),
                ViewKind::Top => {
                    let xz = frame.param_to_xz(pos);
                    Vec3::new(xz.x, top_overlay_y(&frame), xz.y)
                }
            };
            let Ok(screen) = camera.world_to_viewport(transform, world) else {
                continue;
            };
            let mut text = opt.spec.name.clone();
            let color = match opt.run.status() {
                RunStatus::Running => egui_color(opt.spec.color),
                RunStatus::Diverged { step, .. } => {
                    text = format!("{text}: diverged at step {step}");
                    // why, in the top view (the 3D view keeps its labels short)
                    if *view == ViewKind::Top
                        && let Some(why) = divergence_cause(opt, &landscape.0)
                    {
                        text = format!("{text}: {why}");
                    }
                    egui::Color32::from_gray(200)
                }
                RunStatus::Converged { .. } => {
                    text = format!("{text}: {}", opt.run.status());
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
            let projection = ViewProjection::of_camera(*view, camera, transform, clip);
            paint_top_axes(&painter, &projection, &frame, 12.0);
        } else if frame_button(ctx, clip) {
            reframe.write(FrameSurface);
        }
    }
    Ok(())
}

/// The 3D view's "frame" button in its top-right corner: the whole surface back in view after orbiting
/// (key Home does the same). Whether it was clicked.
fn frame_button(ctx: &egui::Context, clip: egui::Rect) -> bool {
    egui::Area::new(egui::Id::new("frame-surface"))
        .order(egui::Order::Middle)
        .pivot(egui::Align2::RIGHT_TOP)
        .fixed_pos(clip.right_top() + egui::vec2(-8.0, 6.0))
        .show(ctx, |ui| {
            ui.button("Frame")
                .on_hover_text("the whole surface back in view (Home)")
                .clicked()
        })
        .inner
}

/// Why a run diverged, in a few words for its label: `η·λ = 3 > 2 along (1.00, 0.00)`.
fn divergence_cause(opt: &Optimizer, landscape: &crate::core::Landscape) -> Option<String> {
    let runner = opt.run.surface()?;
    let diagnosis = crate::core::diagnose(
        landscape,
        runner.config(),
        opt.history.kept(),
        runner.status(),
        runner.state(),
    )?;
    Some(match diagnosis.cause {
        DivergenceCause::Overshoot(limit) => limit.inequality(),
        DivergenceCause::GradientOverflow => "the gradient overflowed".to_owned(),
        DivergenceCause::LeftBound => "it left the bound |x|, |y| ≤ 1e6".to_owned(),
        DivergenceCause::Undefined => "the loss is undefined there".to_owned(),
        DivergenceCause::SingularHessian => "the Hessian is singular: H^-1 is undefined".to_owned(),
    })
}
