//! The curvature aid: at the selected ball and under the cursor, the Hessian's two principal directions
//! drawn as axes in both views, each as long as its eigenvalue is large (relative to the larger one),
//! green where the surface curves up and red where it curves down, with the kind of point (minimum,
//! maximum, saddle, flat) and the condition number in words beside it.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use crate::core::number::{num, num_digits};
use crate::core::{Curvature, CurvatureKind, Landscape, Vec2d};
use crate::geometry::{SurfaceFrame, ViewKind};
use crate::interaction::HoverReadout;
use crate::optimizers::Optimizer;
use crate::paint::{ViewLayer, outlined, view_painter};
use crate::state::{ActiveLandscape, UiPrefs};
use crate::teaching::{TeachingAids, arrows::Projector};
use crate::views::ViewRects;

/// Half the length of the axis of the larger eigenvalue (egui points).
const AXIS: f32 = 46.0;
/// The shortest half axis drawn, so that a direction of tiny curvature still shows.
const MIN_AXIS: f32 = 6.0;

const UP: egui::Color32 = egui::Color32::from_rgb(90, 220, 120);
const DOWN: egui::Color32 = egui::Color32::from_rgb(255, 96, 72);

/// Half lengths of the two axes of `c`, in points: proportional to `|λ|`, the larger one [`AXIS`].
pub fn half_axes(c: &Curvature) -> [f32; 2] {
    let top = c.lambda[0].abs().max(c.lambda[1].abs());
    c.lambda.map(|l| {
        if top > 0.0 && top.is_finite() {
            (AXIS * (l.abs() / top) as f32).max(MIN_AXIS)
        } else {
            MIN_AXIS
        }
    })
}

/// The short label: `saddle · κ 3.2`.
pub fn label(c: &Curvature) -> String {
    let kappa = if c.condition.is_finite() {
        format!("κ {}", num_digits(c.condition, 3))
    } else {
        "κ ∞".to_owned()
    };
    format!("{} · {kappa}", c.kind)
}

/// The ball the aid follows: the one the step-by-step window writes out, else the first visible one.
fn selected_ball<'a>(
    aids: &TeachingAids,
    optimizers: impl Iterator<Item = (Entity, &'a Optimizer)> + Clone,
) -> Option<Vec2d> {
    let visible = optimizers.filter(|(_, o)| o.spec.visible);
    let chosen = aids
        .selected
        .and_then(|e| visible.clone().find(|(entity, _)| *entity == e))
        .or_else(|| visible.clone().next());
    chosen.map(|(_, o)| o.displayed_record().pos)
}

pub fn draw_curvature(
    mut contexts: EguiContexts,
    aids: Res<TeachingAids>,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    hover: Res<HoverReadout>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    optimizers: Query<(Entity, &Optimizer)>,
) -> Result {
    if !aids.curvature {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let scale = prefs.ui_scale.max(0.1);
    let l: &Landscape = &landscape.0;
    let mut points: Vec<Vec2d> = selected_ball(&aids, optimizers.iter())
        .into_iter()
        .collect();
    points.extend(hover.0.map(|h| h.param));
    let curvatures: Vec<Curvature> = points
        .into_iter()
        .filter_map(|p| Curvature::at(l, p))
        .collect();
    for (view, camera, transform) in &cameras {
        let Some(rect) = rects.get(*view) else {
            continue;
        };
        let (painter, _) = view_painter(ctx, *view, rect, scale, ViewLayer::Aids);
        let proj = Projector {
            view: *view,
            camera,
            transform,
            frame: &frame,
            landscape: l,
            scale,
        };
        for c in &curvatures {
            draw_axes(&painter, &proj, c);
        }
    }
    Ok(())
}

/// The two axes of `c` at its point, and its label.
fn draw_axes(painter: &egui::Painter, proj: &Projector, c: &Curvature) {
    let Some(centre) = proj.screen(c.at) else {
        return;
    };
    let outline = egui::Stroke::new(5.0, egui::Color32::from_black_alpha(190));
    for ((lambda, v), half) in c.lambda.iter().zip(c.v).zip(half_axes(c)) {
        let Some(dir) = proj.direction(c.at, v) else {
            continue;
        };
        let color = if *lambda > 0.0 || c.kind == CurvatureKind::Flat && *lambda >= 0.0 {
            UP
        } else {
            DOWN
        };
        let (a, b) = (centre - dir * half, centre + dir * half);
        painter.line_segment([a, b], outline);
        painter.line_segment([a, b], egui::Stroke::new(2.5, color));
        for end in [a, b] {
            painter.circle_filled(end, 3.0, color);
        }
        outlined(
            painter,
            b + dir * 4.0,
            egui::Align2::LEFT_CENTER,
            &format!("λ {}", num(*lambda)),
            color,
            12.0,
        );
    }
    outlined(
        painter,
        centre + egui::vec2(8.0, 14.0),
        egui::Align2::LEFT_TOP,
        &label(c),
        egui::Color32::WHITE,
        13.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::LandscapeSpec;

    #[test]
    fn axes_scale_with_the_eigenvalues_and_the_label_names_the_point() {
        let bowl = Landscape::new(LandscapeSpec::formula(
            "x^2 - 0.25*y^2",
            crate::core::landscape::DEFAULT_FORMULA_DOMAIN,
        ))
        .unwrap();
        let c = Curvature::at(&bowl, [0.3, 0.2]).unwrap();
        // λ = -0.5 and 2: the larger gets the full axis, the other a quarter of it
        let [a, b] = half_axes(&c);
        assert!(
            (b - AXIS).abs() < 1e-4 && (a - AXIS / 4.0).abs() < 1e-4,
            "{a} {b}"
        );
        assert_eq!(label(&c), "saddle · κ 4");
        let flat = Landscape::new(LandscapeSpec::formula(
            "0*x + 0*y + 1",
            crate::core::landscape::DEFAULT_FORMULA_DOMAIN,
        ))
        .unwrap();
        let c = Curvature::at(&flat, [0.0, 0.0]).unwrap();
        assert_eq!(half_axes(&c), [MIN_AXIS, MIN_AXIS]);
        assert!(label(&c).starts_with("flat"));
    }
}
