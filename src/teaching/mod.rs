//! Teaching aids: why each optimizer moves the way it does.
//!
//! - [`arrows`]: `-∇L`, `V` and `Δθ` arrows at each ball and a `√s` box per coordinate, with a legend.
//! - [`field`]: the gradient field on the top view.
//! - [`formula`]: one step written out in the lecture's notation with its numbers in place.
//! - [`timeline`]: scrub through the steps taken, resume or branch.
//!
//! The step-by-step window and the timeline strip are drawn here, and the trial points of the line
//! search of the step the window writes out, in both views; the side panel's "Teaching aids"
//! section is [`teaching_section`]. Stepping in the window steps every optimizer (as N does), so the runs
//! stay in step with each other and with the shared timeline: a class compares them at the same `t`.

pub mod arrows;
pub mod field;
pub mod formula;
pub mod timeline;

use bevy::{input::common_conditions::input_just_pressed, prelude::*};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use crate::third_party::egui::{EguiKeyboard, keys_free};

use crate::core::{Convention, Landscape, num};
use crate::geometry::ViewProjection;
use crate::geometry::{SurfaceFrame, ViewKind};
use crate::optimizers::visuals::display_color;
use crate::optimizers::{Optimizer, Playback};
use crate::paint::marks::{TrialMarks, paint_trials, trial_marks};
use crate::paint::{ViewLayer, egui_color, view_painter};
use crate::state::{ActiveLandscape, UiPrefs};
use crate::system_order::AppSystems;
use crate::views::{ViewRects, ViewportInsets};
use arrows::{ArrowScale, BallArrows, Projector};
use field::FieldSamples;
use formula::{StepInputs, formula_lines, rule_summary};
use timeline::{StepView, StepViews, Timeline, TimelineActions};

/// Which aids are on, and which optimizer the step-by-step window follows.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct TeachingAids {
    /// `-∇L(θ)` at each ball.
    pub gradient: bool,
    /// `V` (Momentum, Nesterov, Adam).
    pub velocity: bool,
    /// `Δθ`, the step just taken.
    pub step: bool,
    /// The `√s` box (AdaGrad, RMSProp, Adam).
    pub second_moment: bool,
    /// The gradient field on the top view.
    pub field: bool,
    /// The step-by-step window.
    pub step_window: bool,
    /// The Hessian's principal directions at the selected ball and under the cursor.
    pub curvature: bool,
    /// The optimizer the window writes out (the first one when unset or gone).
    pub selected: Option<Entity>,
}

impl TeachingAids {
    /// Whether any arrow or box is on.
    pub fn any_arrow(&self) -> bool {
        self.gradient || self.velocity || self.step || self.second_moment
    }

    /// Whether the optimizers' memory at the displayed step is needed (replays are computed): the
    /// curvature aid draws BFGS's and L-BFGS's `H` from it.
    pub fn needs_state(&self) -> bool {
        self.velocity || self.second_moment || self.step_window || self.curvature
    }

    /// The run the step-by-step window writes out (and the curvature aid follows): the selected one, else
    /// the first of `runs`.
    pub fn followed(&self, mut runs: impl Iterator<Item = Entity> + Clone) -> Option<Entity> {
        let first = runs.clone().next();
        runs.find(|e| Some(*e) == self.selected).or(first)
    }
}

/// The timeline and the step views without any window or egui: usable headless next to
/// [`crate::optimizers::simulation_plugin`].
pub fn headless_plugin(app: &mut App) {
    app.init_resource::<Timeline>()
        .init_resource::<TeachingAids>()
        .init_resource::<StepViews>()
        .add_systems(
            FixedUpdate,
            timeline::hold_while_scrubbed.in_set(AppSystems::HoldTimeline),
        )
        .add_systems(
            Update,
            (timeline::show_scrubbed_step, refresh_step_views)
                .chain()
                .in_set(AppSystems::Timeline),
        );
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins((headless_plugin, keys_plugin)).add_systems(
        EguiPrimaryContextPass,
        (
            teaching_ui.in_set(AppSystems::UiWindows),
            (draw_aids, draw_trials).in_set(AppSystems::UiOverlays),
        ),
    );
}

/// ← (one step back on the timeline) and A, F, C, S (the aids on and off), next to [`headless_plugin`].
pub fn keys_plugin(app: &mut App) {
    app.init_resource::<EguiKeyboard>().add_systems(
        Update,
        (
            timeline::scrub_back.run_if(input_just_pressed(KeyCode::ArrowLeft)),
            toggle_arrows.run_if(input_just_pressed(KeyCode::KeyA)),
            toggle_field.run_if(input_just_pressed(KeyCode::KeyF)),
            toggle_step_window.run_if(input_just_pressed(KeyCode::KeyS)),
            toggle_curvature.run_if(input_just_pressed(KeyCode::KeyC)),
        )
            .run_if(keys_free)
            .in_set(AppSystems::Input),
    );
}

/// A: every arrow and the box on (or all off when any is on), for a teacher at the keyboard.
fn toggle_arrows(mut aids: ResMut<TeachingAids>) {
    let on = !aids.any_arrow();
    aids.gradient = on;
    aids.velocity = on;
    aids.step = on;
    aids.second_moment = on;
}

/// F: the gradient field.
fn toggle_field(mut aids: ResMut<TeachingAids>) {
    aids.field = !aids.field;
}

/// C: the curvature axes.
fn toggle_curvature(mut aids: ResMut<TeachingAids>) {
    aids.curvature = !aids.curvature;
}

/// S: the step-by-step window.
fn toggle_step_window(mut aids: ResMut<TeachingAids>) {
    aids.step_window = !aids.step_window;
}

fn refresh_step_views(
    aids: Res<TeachingAids>,
    mut views: ResMut<StepViews>,
    optimizers: Query<(Entity, &Optimizer)>,
) {
    timeline::update_step_views(aids.needs_state(), &mut views, &optimizers);
}

/// The side panel's section: which aids are on.
pub fn teaching_section(ui: &mut egui::Ui, aids: &mut TeachingAids) {
    let mut a = aids.clone();
    ui.horizontal_wrapped(|ui| {
        // ∇ is only in the monospace font
        ui.checkbox(&mut a.gradient, egui::RichText::new("-∇L").monospace())
            .on_hover_text("negative gradient at each ball");
        ui.checkbox(&mut a.velocity, "V")
            .on_hover_text("momentum / Adam's first moment");
        ui.checkbox(&mut a.step, "Δθ")
            .on_hover_text("the step just taken");
        ui.checkbox(&mut a.second_moment, "√s box")
            .on_hover_text("squared-gradient accumulator per coordinate (AdaGrad, RMSProp, Adam)");
    });
    ui.checkbox(&mut a.field, "gradient field (top view)");
    ui.checkbox(&mut a.curvature, "curvature axes (ball and cursor)")
        .on_hover_text(
            "the Hessian's two principal directions, each as long as its eigenvalue is large: \
             green where the surface curves up, red where it curves down; with the kind of point and \
             the condition number κ. At a BFGS or L-BFGS ball, the ellipse of its inverse-Hessian \
             estimate H beside the true inverse Hessian's (dashed): they coincide when H has learned \
             the curvature",
        );
    ui.checkbox(&mut a.step_window, "step-by-step window")
        .on_hover_text(
            "one step written out with its numbers; for a line search, its trial points are drawn in \
             the views too (accepted solid, rejected hollow)",
        );
    ui.small(
        "keys: A arrows · F field · C curvature · S window · Left one step back · N or Right forward",
    );
    if a != *aids {
        *aids = a;
    }
}

/// One optimizer in the step-by-step picker.
pub struct RunEntry {
    pub entity: Entity,
    pub name: String,
    pub color: [f32; 3],
    pub convention: Convention,
    pub uses_convention: bool,
}

/// What the step-by-step window asked for.
#[derive(Default)]
pub struct StepWindowActions {
    /// Switch the selected optimizer to this convention (from its next step).
    pub convention: Option<Convention>,
    /// One step back on the timeline.
    pub back: bool,
    /// One step forward (every optimizer, or through the recorded steps while scrubbed).
    pub step: bool,
}

/// The step-by-step window's contents: picker, convention, hyperparameters, and the lines of the step on
/// show with its numbers.
pub fn step_by_step(
    ui: &mut egui::Ui,
    selected: &mut Option<Entity>,
    runs: &[RunEntry],
    view: Option<&StepView>,
    scrubbed: bool,
) -> StepWindowActions {
    let mut out = StepWindowActions::default();
    let Some(run) = runs
        .iter()
        .find(|r| Some(r.entity) == *selected)
        .or(runs.first())
    else {
        ui.label("No optimizer on screen.");
        return out;
    };
    // one click per optimizer, all in view: quicker in front of a class than a drop-down
    ui.horizontal_wrapped(|ui| {
        for r in runs {
            let text = egui::RichText::new(&r.name)
                .color(egui_color(r.color))
                .strong();
            if ui.selectable_label(r.entity == run.entity, text).clicked() {
                *selected = Some(r.entity);
            }
        }
    });
    ui.horizontal(|ui| {
        if run.uses_convention {
            let mut c = run.convention;
            ui.radio_value(&mut c, Convention::Lecture, "lecture");
            ui.radio_value(&mut c, Convention::PyTorch, "pytorch");
            if c != run.convention {
                out.convention = Some(c);
            }
        }
    });
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                view.is_some_and(|v| v.step > 0),
                egui::Button::new("◀ Back"),
            )
            .on_hover_text("one step back on the timeline (←)")
            .clicked()
        {
            out.back = true;
        }
        let label = if scrubbed {
            "Step ▶ (replay)"
        } else {
            "Step ▶"
        };
        if ui
            .button(label)
            .on_hover_text("every optimizer takes one step (N or →)")
            .clicked()
        {
            out.step = true;
        }
    });
    let Some(view) = view else {
        ui.label("…");
        return out;
    };
    let Some(last) = &view.last else {
        ui.label(format!(
            "t = 0: at the start θ = {}. Press Step to see the first update.",
            crate::core::number::point(view.record.pos)
        ));
        return out;
    };
    let h = &last.hyper;
    ui.strong(rule_summary(view.kind, h.convention));
    let mut params = format!("η = {}", num(h.lr));
    if h.schedule != crate::core::Schedule::Constant {
        params.push_str(&format!(
            "   η_t = {} ({})",
            num(last.detail.eta),
            h.schedule
        ));
    }
    if view.kind.uses_beta_m() {
        params.push_str(&format!("   β_m = {}", num(h.beta_m)));
    }
    if view.kind.uses_beta_r() {
        params.push_str(&format!("   β_r = {}", num(h.beta_r)));
    }
    if view.kind.uses_eps() {
        params.push_str(&format!("   ε = {}", num(h.eps)));
    }
    if view.kind.uses_weight_decay() {
        params.push_str(&format!("   λ = {}", num(h.weight_decay)));
    }
    if view.kind.uses_nu() {
        params.push_str(&format!("   ν = {}", num(h.nu)));
    }
    if view.kind.uses_nu2() {
        params.push_str(&format!("   ν2 = {}", num(h.nu2)));
    }
    ui.label(egui::RichText::new(params).monospace().size(14.0));
    if view.kind.uses_convention() && h.convention != run.convention {
        ui.colored_label(
            egui::Color32::from_rgb(255, 200, 90),
            format!(
                "this step used the {} formulas; the {} ones apply from the next step",
                h.convention.name(),
                run.convention.name()
            ),
        );
    }
    ui.separator();
    let lines = formula_lines(&StepInputs {
        kind: view.kind,
        hyper: h,
        before: &last.before,
        detail: &last.detail,
        noisy: view.noisy,
    });
    let accent = egui::Color32::from_rgb(140, 200, 255);
    for line in &lines {
        ui.label(
            egui::RichText::new(&line.formula)
                .monospace()
                .size(14.0)
                .color(accent),
        );
        for row in &line.numbers {
            ui.label(
                egui::RichText::new(format!("    {row}"))
                    .monospace()
                    .size(14.0),
            );
        }
    }
    out
}

/// The step-by-step panel's width until the teacher drags its edge (egui points), at most: on a small
/// screen (1024 x 768) it takes [`STEP_PANEL_SHARE`] of the room beside the side panel, so the views
/// keep the larger part.
const STEP_PANEL_WIDTH: f32 = 400.0;
/// The narrowest the step-by-step panel gets (egui points): its formulas wrap below this.
const STEP_PANEL_MIN: f32 = 240.0;
/// The step-by-step panel's share of the room beside the side panel when it opens on a small screen.
const STEP_PANEL_SHARE: f32 = 0.38;

/// The step-by-step window, docked along the right edge beside the views (so it hides no ball or trail,
/// and stays there whatever the layout: the views take the room left), and the timeline strip under
/// the views.
fn teaching_ui(
    mut contexts: EguiContexts,
    prefs: Res<UiPrefs>,
    mut insets: ResMut<ViewportInsets>,
    mut timeline: ResMut<Timeline>,
    mut playback: ResMut<Playback>,
    mut aids: ResMut<TeachingAids>,
    views: Res<StepViews>,
    mut optimizers: Query<(Entity, &mut Optimizer)>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let scale = prefs.ui_scale.max(0.1);
    let span = timeline::Span::of(optimizers.iter().map(|(_, o)| o));
    let newest = span.newest;
    // right of the side panel
    let mut area = ctx.viewport_rect();
    area.min.x = (area.min.x + insets.left / scale).min(area.max.x);
    let root_over = |area: egui::Rect, name: &'static str| {
        egui::Ui::new(
            ctx.clone(),
            name.into(),
            egui::UiBuilder::new()
                .layer_id(egui::LayerId::background())
                .max_rect(area),
        )
    };

    let mut out = StepWindowActions::default();
    let mut right = 0.0;
    if aids.step_window {
        let runs: Vec<RunEntry> = optimizers
            .iter()
            .map(|(entity, o)| RunEntry {
                entity,
                name: o.spec.name.clone(),
                color: o.spec.color,
                convention: o.spec.hyper.convention,
                uses_convention: o.spec.kind.uses_convention(),
            })
            .collect();
        let selected = aids.followed(runs.iter().map(|r| r.entity));
        let view = selected.and_then(|e| views.get(e));
        let mut selection = aids.selected;
        let scrubbed = timeline.scrubbed.is_some();
        let mut open = true;
        let mut root = root_over(area, "losscape-step-root");
        let panel = egui::Panel::right("step-by-step")
            .resizable(true)
            .default_size((STEP_PANEL_SHARE * area.width()).clamp(STEP_PANEL_MIN, STEP_PANEL_WIDTH))
            .min_size(STEP_PANEL_MIN)
            .max_size((0.6 * area.width()).max(STEP_PANEL_MIN))
            .show(&mut root, |ui| {
                ui.horizontal(|ui| {
                    ui.heading("Step by step");
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui.button("Close").on_hover_text("close (S)").clicked() {
                            open = false;
                        }
                    });
                });
                egui::ScrollArea::vertical()
                    .show(ui, |ui| {
                        step_by_step(ui, &mut selection, &runs, view, scrubbed)
                    })
                    .inner
            });
        right = panel.response.rect.width();
        out = panel.inner;
        if !open {
            aids.step_window = false;
        }
        if selection != aids.selected {
            aids.selected = selection;
        }
        if let (Some(convention), Some(entity)) = (out.convention, selected)
            && let Ok((_, mut opt)) = optimizers.get_mut(entity)
        {
            let mut spec = opt.spec.clone();
            spec.hyper.convention = convention;
            if let Err(e) = opt.apply_spec(spec) {
                warn!("convention not changed: {e}");
            }
        }
    }
    let right = (right * scale).max(0.0);
    if (insets.right - right).abs() > 0.5 {
        insets.right = right;
    }

    // the strip: along the bottom, between the side panel and the docked window
    area.max.x = (area.max.x - right / scale).max(area.min.x);
    let mut root = root_over(area, "losscape-timeline-root");
    let mut actions = TimelineActions::default();
    let height = egui::Panel::bottom("timeline")
        .resizable(false)
        .show(&mut root, |ui| {
            actions = timeline::timeline_strip(ui, &mut timeline, &mut playback, span);
        })
        .response
        .rect
        .height();
    let bottom = (height * scale).max(0.0);
    if (insets.bottom - bottom).abs() > 0.5 {
        insets.bottom = bottom;
    }
    if let Some(k) = actions.branch
        && let Err(e) =
            timeline::branch_all(&mut timeline, k, optimizers.iter_mut().map(|(_, o)| o))
    {
        warn!("branch at step {k}: {e}");
    }

    if out.step {
        playback.playing = false;
        playback.queued_steps += 1;
    }
    if out.back {
        let k = timeline.shown(newest);
        timeline.scrub_to(span.back(k), newest);
        playback.playing = false;
    }
    Ok(())
}

/// What a view's [`TrialMarks`] were projected from: the view's projection, the surface, and the step
/// (its run and detail).
struct TrialsKey {
    projection: ViewProjection,
    frame: SurfaceFrame,
    entity: Entity,
    detail: crate::core::StepDetail,
}

impl TrialsKey {
    /// Whether marks projected from this key show `detail` of `entity` through `projection`: the same
    /// step (its number, start, direction and trials) on the same surface.
    fn shows(
        &self,
        projection: &ViewProjection,
        frame: &SurfaceFrame,
        entity: Entity,
        detail: &crate::core::StepDetail,
    ) -> bool {
        let d = &self.detail;
        self.entity == entity
            && self.projection == *projection
            && self.frame == *frame
            && (d.t, d.theta, d.direction) == (detail.t, detail.theta, detail.direction)
            && d.trials == detail.trials
    }
}

/// While the step-by-step window is open: the trial points of the line search of the step it writes
/// out, in both views, in the run's colour (accepted solid, rejected hollow, numbered as the window
/// lists them) on a line from `θ` along `p`. Projected again only when the step or the view changes.
/// Network runs are not written out step by step (their steps are N-D), so nothing is drawn for them.
fn draw_trials(
    mut contexts: EguiContexts,
    aids: Res<TeachingAids>,
    prefs: Res<UiPrefs>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    views: Res<StepViews>,
    rects: Res<ViewRects>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    optimizers: Query<(Entity, &Optimizer)>,
    mut cache: Local<[Option<(TrialsKey, TrialMarks)>; 2]>,
) -> Result {
    if !aids.step_window {
        return Ok(());
    }
    let Some(entity) = aids.followed(optimizers.iter().map(|(e, _)| e)) else {
        return Ok(());
    };
    let Ok((_, opt)) = optimizers.get(entity) else {
        return Ok(());
    };
    let Some(last) = views.get(entity).and_then(|v| v.last.as_ref()) else {
        return Ok(());
    };
    let d = &last.detail;
    if !opt.spec.visible || d.trials.is_empty() {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let l: &Landscape = &landscape.0;
    let p = [-d.direction[0], -d.direction[1]];
    for (view, camera, transform) in &cameras {
        // only the views on screen (a camera keeps its last viewport when its view is hidden)
        let Some(rect) = rects.get(*view) else {
            continue;
        };
        let (painter, clip) = view_painter(ctx, *view, rect, prefs.ui_scale, ViewLayer::Aids);
        let projection = ViewProjection::of_camera(*view, camera, transform, clip);
        let slot = &mut cache[*view as usize];
        if slot
            .as_ref()
            .is_none_or(|(k, _)| !k.shows(&projection, &frame, entity, d))
        {
            let marks = trial_marks(
                &projection,
                &frame,
                l,
                d.theta,
                p,
                d.trials.iter().map(|t| (t.alpha, t.accepted())),
            );
            let key = TrialsKey {
                projection,
                frame: frame.clone(),
                entity,
                detail: d.clone(),
            };
            *slot = Some((key, marks));
        }
        if let Some((_, marks)) = slot.as_ref() {
            paint_trials(&painter, marks, display_color(opt));
        }
    }
    Ok(())
}

/// Arrows, boxes, the field and the legend over the views.
fn draw_aids(
    mut contexts: EguiContexts,
    aids: Res<TeachingAids>,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    views: Res<StepViews>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    optimizers: Query<(Entity, &Optimizer)>,
    mut scale_cache: Local<Option<(usize, ArrowScale)>>,
    mut field: Local<FieldSamples>,
) -> Result {
    if !(aids.any_arrow() || aids.field) {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let scale = prefs.ui_scale.max(0.1);
    let l: &Landscape = &landscape.0;
    let key = l as *const Landscape as usize;
    let arrow_scale = match *scale_cache {
        Some((k, s)) if k == key => s,
        _ => {
            let s = ArrowScale::of(l);
            *scale_cache = Some((key, s));
            s
        }
    };
    let mut legend_drawn = false;
    for (view, camera, transform) in &cameras {
        let Some(rect) = rects.get(*view) else {
            continue;
        };
        let (painter, clip) = view_painter(ctx, *view, rect, scale, ViewLayer::Aids);
        let proj = Projector {
            view: *view,
            camera,
            transform,
            frame: &frame,
            landscape: l,
            scale,
        };
        if aids.field && *view == ViewKind::Top {
            // the param rectangle in view, from two corners
            let corner = |p: egui::Pos2| {
                let ray = camera
                    .viewport_to_world(transform, Vec2::new(p.x, p.y) * scale)
                    .ok()?;
                Some(frame.xz_to_param(ray.origin.x, ray.origin.z))
            };
            if let (Some(lo), Some(hi)) = (corner(clip.left_bottom()), corner(clip.right_top())) {
                let spacing = field::SPACING_POINTS as f64 * (hi[0] - lo[0]).abs()
                    / clip.width().max(1.0) as f64;
                // only over the landscape's domain
                let d = l.domain();
                let lo = [lo[0].max(d.x[0]), lo[1].max(d.y[0])];
                let hi = [hi[0].min(d.x[1]), hi[1].min(d.y[1])];
                if lo[0] < hi[0] && lo[1] < hi[1] {
                    field.update(l, lo, hi, spacing);
                    field::draw_field(&painter, &proj, &field);
                }
            }
        }
        if !aids.any_arrow() {
            continue;
        }
        for (entity, opt) in optimizers.iter().filter(|(_, o)| o.spec.visible) {
            // the step just taken ends at the ball: the row before the displayed one, when it is kept
            let k = opt.displayed_step();
            let previous = k
                .checked_sub(1)
                .and_then(|j| opt.history.get(j))
                .map(|r| r.pos);
            let arrows = match views.get(entity) {
                Some(v) => BallArrows::of(v, previous),
                // the gradient and the step need no replay
                None => {
                    let r = opt.displayed_record();
                    BallArrows {
                        ball: r.pos,
                        neg_gradient: [-r.grad[0], -r.grad[1]],
                        velocity: None,
                        step: previous.map(|q| [r.pos[0] - q[0], r.pos[1] - q[1]]),
                        root_s: None,
                    }
                }
            };
            arrows::draw_ball_arrows(
                &painter,
                &proj,
                &arrows,
                &aids,
                &arrow_scale,
                egui_color(opt.spec.color),
            );
        }
        if !legend_drawn {
            legend_drawn = true;
            arrows::draw_legend(&painter, clip.left_bottom() + egui::vec2(8.0, -8.0), &aids);
        }
    }
    Ok(())
}
