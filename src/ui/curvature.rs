//! The curvature aid: at the selected ball and under the cursor, the Hessian's two principal directions
//! drawn as axes in both views, each as long as its eigenvalue is large (relative to the larger one),
//! green where the surface curves up and red where it curves down, with the kind of point (minimum,
//! maximum, saddle, flat) and the condition number in words beside it. At a BFGS or L-BFGS ball, the
//! ellipse of its inverse-Hessian approximation `H` beside that of the true `∇²L⁻¹`, by one definition
//! ([`CurvatureModel`]) and in one scale, so that they coincide when the method has learned the
//! curvature.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use crate::core::number::{num, num_digits};
use crate::core::{Curvature, CurvatureKind, CurvatureModel, Ellipse, Landscape, Vec2d};
use crate::geometry::{SurfaceFrame, ViewKind};
use crate::interaction::HoverReadout;
use crate::optimizers::{Optimizer, visuals::display_color};
use crate::paint::{ViewLayer, marks::color32, outlined, view_painter};
use crate::state::{ActiveLandscape, UiPrefs};
use crate::teaching::{TeachingAids, arrows::Projector, timeline::StepViews};
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

/// The run the aid follows: the one the step-by-step window writes out, else the first visible one.
fn selected_run<'a>(
    aids: &TeachingAids,
    optimizers: impl Iterator<Item = (Entity, &'a Optimizer)> + Clone,
) -> Option<(Entity, &'a Optimizer)> {
    let visible = optimizers.filter(|(_, o)| o.spec.visible);
    aids.selected
        .and_then(|e| visible.clone().find(|(entity, _)| *entity == e))
        .or_else(|| visible.clone().next())
}

/// The longer half axis of the true `∇²L⁻¹` ellipse on screen (egui points); `H`'s ellipse is drawn in
/// the same scale.
const ELLIPSE: f32 = 56.0;
/// The longest half axis either ellipse gets (egui points): a far-off `H` shrinks both together.
const MAX_ELLIPSE: f32 = 170.0;
/// Points around an ellipse.
const ELLIPSE_POINTS: usize = 72;
/// Colour of the true `∇²L⁻¹` ellipse.
const TRUTH: egui::Color32 = UP;

/// A BFGS or L-BFGS run's `H` at its displayed step beside the truth there, with the run's name and
/// colour; `None` for other runs or before its state at that step is known.
fn quasi_newton_model(
    opt: &Optimizer,
    views: &StepViews,
    entity: Entity,
    hessian: [[f64; 2]; 2],
) -> Option<CurvatureModel> {
    let view = views.get(entity)?;
    let memory = view
        .last
        .as_ref()
        .map_or(opt.spec.hyper.memory, |l| l.hyper.memory);
    let h = view
        .state
        .inverse_hessian(view.kind, memory, &view.record.pos, &view.record.grad)?;
    let [a, b, c, d] = <[f64; 4]>::try_from(h).ok()?;
    Some(CurvatureModel::new([[a, b], [c, d]], hessian))
}

/// The model line under the ball's label: how far `H` is from the true inverse Hessian.
pub fn model_label(name: &str, model: &CurvatureModel) -> String {
    match (model.model, model.error) {
        (None, _) => format!("{name}'s H is not positive definite"),
        (Some(_), None) => {
            format!("{name}'s H (no true ellipse: the Hessian is not positive definite here)")
        }
        (Some(_), Some(e)) => format!(
            "{name}'s H vs the true inverse Hessian: {} % off",
            num_digits(100.0 * e, 2)
        ),
    }
}

pub fn draw_curvature(
    mut contexts: EguiContexts,
    aids: Res<TeachingAids>,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    hover: Res<HoverReadout>,
    views: Res<StepViews>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    optimizers: Query<(Entity, &Optimizer)>,
) -> Result {
    if !aids.curvature {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let scale = prefs.ui_scale.max(0.1);
    let l: &Landscape = &landscape.0;
    let run = selected_run(&aids, optimizers.iter());
    let ball = run.map(|(_, o)| o.displayed_record().pos);
    let mut points: Vec<Vec2d> = ball.into_iter().collect();
    points.extend(hover.0.map(|h| h.param));
    let curvatures: Vec<Curvature> = points
        .into_iter()
        .filter_map(|p| Curvature::at(l, p))
        .collect();
    // the ball's curvature comes first when there is a ball
    let model = run
        .zip(curvatures.first().filter(|_| ball.is_some()))
        .and_then(|((entity, opt), c)| {
            let m = quasi_newton_model(opt, &views, entity, c.hessian)?;
            let color = color32(display_color(opt));
            Some((c.at, m, color, opt.spec.kind.label()))
        });
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
        if let Some((at, m, color, name)) = &model {
            draw_model(&painter, &proj, *at, m, *color, name);
        }
        for c in &curvatures {
            draw_axes(&painter, &proj, c);
        }
    }
    Ok(())
}

/// The two ellipses of `m` centred at `at`: `H`'s in the run's `color`, the truth's dashed white over it.
/// Both go through one linear map from param offsets to the screen (the view's own at `at`: on the
/// surface's tangent plane in 3D) and one scale: the truth's longer half axis [`ELLIPSE`] points
/// (`H`'s when there is no truth), shrunk together if `H`'s would pass [`MAX_ELLIPSE`].
fn draw_model(
    painter: &egui::Painter,
    proj: &Projector,
    at: Vec2d,
    m: &CurvatureModel,
    color: egui::Color32,
    name: &str,
) {
    let Some(centre) = proj.screen(at) else {
        return;
    };
    // screen points per param unit along x and along y, at `at`
    let d = proj.frame.domain;
    let step = 1e-3 * (d.x[1] - d.x[0]).max(d.y[1] - d.y[0]);
    let column = |q: Vec2d| proj.screen(q).map(|s| (s - centre) / step as f32);
    let (Some(jx), Some(jy)) = (column([at[0] + step, at[1]]), column([at[0], at[1] + step]))
    else {
        return;
    };
    let map = |x: Vec2d| jx * x[0] as f32 + jy * x[1] as f32;
    let longest = |e: &Ellipse| {
        (0..2)
            .map(|i| map([e.half[i] * e.axes[i][0], e.half[i] * e.axes[i][1]]).length())
            .fold(0.0f32, f32::max)
    };
    let Some(reference) = m.truth.or(m.model).map(|e| longest(&e)) else {
        return;
    };
    if !(reference.is_finite() && reference > 0.0) {
        return;
    }
    let mut k = ELLIPSE / reference;
    if let Some(h) = &m.model {
        let widest = k * longest(h);
        if widest > MAX_ELLIPSE {
            k *= MAX_ELLIPSE / widest;
        }
    }
    let outline = egui::Color32::from_black_alpha(190);
    let ring = |e: &Ellipse| -> Vec<egui::Pos2> {
        (0..=ELLIPSE_POINTS)
            .map(|i| {
                let t = i as f64 / ELLIPSE_POINTS as f64 * std::f64::consts::TAU;
                centre + map(e.point(t)) * k
            })
            .collect()
    };
    // the highest and lowest points on screen, where the labels go
    let top = |points: &[egui::Pos2]| {
        points
            .iter()
            .copied()
            .min_by(|a, b| a.y.total_cmp(&b.y))
            .unwrap_or(centre)
    };
    let bottom = |points: &[egui::Pos2]| {
        points
            .iter()
            .copied()
            .max_by(|a, b| a.y.total_cmp(&b.y))
            .unwrap_or(centre)
    };
    if let Some(h) = &m.model {
        let points = ring(h);
        painter.add(egui::Shape::line(
            points.clone(),
            egui::Stroke::new(5.0, outline),
        ));
        painter.add(egui::Shape::line(
            points.clone(),
            egui::Stroke::new(2.5, color),
        ));
        outlined(
            painter,
            top(&points) + egui::vec2(0.0, -4.0),
            egui::Align2::CENTER_BOTTOM,
            &format!("{name}'s H"),
            color,
            12.0,
        );
    }
    if let Some(truth) = &m.truth {
        let points = ring(truth);
        painter.add(egui::Shape::line(
            points.clone(),
            egui::Stroke::new(3.5, outline),
        ));
        painter.extend(egui::Shape::dashed_line(
            &points,
            egui::Stroke::new(1.6, TRUTH),
            7.0,
            5.0,
        ));
        outlined(
            painter,
            bottom(&points) + egui::vec2(0.0, 4.0),
            egui::Align2::CENTER_TOP,
            "true inverse Hessian",
            TRUTH,
            11.0,
        );
    }
    outlined(
        painter,
        centre + egui::vec2(8.0, 34.0),
        egui::Align2::LEFT_TOP,
        &model_label(name, m),
        color,
        12.0,
    );
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
