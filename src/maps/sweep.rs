//! The sweep window: for one optimizer of the scene, two of η, β_m, β_r, ε varied over a grid (core
//! [`SweepSpec`], computed in the background from the optimizer's current start and settings), shown as
//! a heat map with its axes, a colour bar and the optimizer's current setting as a crosshair. Hovering a
//! cell reads its numbers; clicking it gives the optimizer that cell's two values and shows the run at
//! once (restarted and advanced by the sweep's K steps).

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::{PROGRESS_REDRAW, optimizer_combo, target_optimizer};
use crate::core::MapSpec;
use crate::core::maps::{
    AxisScale, DEFAULT_MAP_STEPS, MAX_MAP_STEPS, MAX_SWEEP_COUNT, MapError, MapJob, SweepAxis,
    SweepCell, SweepMap, SweepMetric, SweepParam, SweepSpec,
    color::{DIVERGED, NEVER},
};
use crate::core::number::{num, num_digits, point};
use crate::core::scene::Colormap;
use crate::core::{Hyperparams, Landscape, OptimizerKind, RunConfig};
use crate::optimizers::Optimizer;
use crate::paint::{nice_step, tick_label, ticks};
use crate::state::{ActiveLandscape, SurfaceSettings};
use crate::system_order::KeepAwake;

/// Side of the heat map in egui points.
const MAP_SIDE: f32 = 300.0;
/// Room left of the map for the vertical axis's labels, and under it for the horizontal axis's.
const LEFT: f32 = 64.0;
const BOTTOM: f32 = 40.0;
/// Room right of the map for the colour bar and its labels.
const RIGHT: f32 = 96.0;

/// What the cells are coloured by (the window's choice; the tolerance is [`SweepWindow::tol`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricChoice {
    FinalLoss,
    StepsToLoss,
    StepsToGrad,
    Diverged,
}

impl MetricChoice {
    pub const ALL: [Self; 4] = [
        Self::FinalLoss,
        Self::StepsToLoss,
        Self::StepsToGrad,
        Self::Diverged,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::FinalLoss => "final loss",
            Self::StepsToLoss => "steps to loss ≤ tol",
            Self::StepsToGrad => "steps to |∇L| < tol",
            Self::Diverged => "diverged",
        }
    }

    /// The core's metric with tolerance `tol`.
    pub fn metric(self, tol: f64) -> SweepMetric {
        match self {
            Self::FinalLoss => SweepMetric::FinalLoss,
            Self::StepsToLoss => SweepMetric::StepsToLoss(tol),
            Self::StepsToGrad => SweepMetric::StepsToGrad(tol),
            Self::Diverged => SweepMetric::Diverged,
        }
    }
}

/// The sweep window: its settings, the job under way and the last finished map.
#[derive(Resource, Debug)]
pub struct SweepWindow {
    /// The window is shown.
    pub open: bool,
    /// The optimizer swept (the first one of the scene when unset or gone).
    pub target: Option<Entity>,
    /// Horizontal axis (default η, log, 1e-4 to 1, 64 values).
    pub x: SweepAxis,
    /// Vertical axis (default β_m, 0 to 0.999, 64 values).
    pub y: SweepAxis,
    /// Steps per cell, K.
    pub steps: u64,
    pub metric: MetricChoice,
    /// Tolerance of the `steps to` metrics.
    pub tol: f64,
    /// Why the last sweep failed, if it did.
    pub message: Option<String>,
    job: Option<(Entity, MapJob<SweepMap, SweepCell>)>,
    /// The last map and the optimizer it was computed for.
    map: Option<(Entity, Arc<SweepMap>)>,
    /// Bumped whenever `map` is replaced (the texture is uploaded again).
    generation: u64,
}

impl Default for SweepWindow {
    fn default() -> Self {
        Self {
            open: false,
            target: None,
            x: SweepAxis::default_for(SweepParam::Lr),
            y: SweepAxis::default_for(SweepParam::BetaM),
            steps: DEFAULT_MAP_STEPS,
            metric: MetricChoice::FinalLoss,
            tol: 1e-6,
            message: None,
            job: None,
            map: None,
            generation: 0,
        }
    }
}

impl SweepWindow {
    /// The core's spec: `config` (the optimizer's start and settings) with this window's axes, K and
    /// metric.
    pub fn spec(&self, config: RunConfig) -> SweepSpec {
        let mut spec = SweepSpec::new(config);
        spec.x = self.x;
        spec.y = self.y;
        spec.steps = self.steps;
        spec.metric = self.metric.metric(self.tol);
        spec
    }

    /// Starts a sweep of `optimizer` (its entity and run settings) on `landscape`; a sweep under way is
    /// cancelled.
    pub fn start(&mut self, optimizer: Entity, config: RunConfig, landscape: Arc<Landscape>) {
        if self.x.param == self.y.param {
            self.message = Some("choose two different parameters".to_owned());
            return;
        }
        self.message = None;
        self.job = Some((optimizer, self.spec(config).spawn(landscape)));
    }

    /// Stops the sweep under way.
    pub fn cancel(&mut self) {
        self.job = None;
    }

    /// Cells finished and cells in all while a sweep is computed.
    pub fn progress(&self) -> Option<(u64, u64)> {
        self.job.as_ref().map(|(_, job)| job.progress())
    }

    /// The last finished map and the optimizer it belongs to.
    pub fn map(&self) -> Option<(Entity, &Arc<SweepMap>)> {
        self.map.as_ref().map(|(e, m)| (*e, m))
    }

    /// Bumped each time a new map arrives.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Takes the job's result if it has ended.
    pub fn poll(&mut self) {
        let Some((entity, result)) = self
            .job
            .as_mut()
            .and_then(|(e, job)| job.try_take().map(|r| (*e, r)))
        else {
            return;
        };
        self.job = None;
        match result {
            Ok(map) => {
                self.map = Some((entity, Arc::new(map)));
                self.generation += 1;
            }
            Err(MapError::Cancelled { .. }) => {}
            Err(e) => self.message = Some(e.to_string()),
        }
    }
}

/// Run condition: a sweep is under way.
pub fn sweep_running(window: Res<SweepWindow>) -> bool {
    window.job.is_some()
}

/// Run condition: the window is shown.
pub fn sweep_open(window: Res<SweepWindow>) -> bool {
    window.open
}

/// Takes a finished sweep; frames while it computes.
pub fn poll_sweep(mut window: ResMut<SweepWindow>, mut awake: ResMut<KeepAwake>) {
    window.poll();
    if window.job.is_some() {
        awake.within(PROGRESS_REDRAW);
    }
}

/// Where `value` lies across the picture, 0 at its left (or bottom) edge and 1 at the other: the axis's
/// values sit at the centres of their cells (`min` at half a cell from the edge).
pub fn picture_fraction(axis: &SweepAxis, value: f64) -> f64 {
    let n = axis.count.max(1) as f64;
    if axis.count <= 1 {
        return 0.5;
    }
    (0.5 + axis.fraction(value) * (n - 1.0)) / n
}

/// Tick marks of an axis: `(value, label)`. A log axis gets powers of ten (every other one or sparser
/// when there are many), a linear one round steps; at least the two ends when nothing round fits.
pub fn axis_ticks(axis: &SweepAxis) -> Vec<(f64, String)> {
    let (lo, hi) = (axis.min.min(axis.max), axis.min.max(axis.max));
    let mut out: Vec<(f64, String)> = match axis.scale {
        AxisScale::Log if lo > 0.0 => {
            let first = (lo.log10() - 1e-9).ceil() as i32;
            let last = (hi.log10() + 1e-9).floor() as i32;
            let count = (last - first + 1).max(0);
            let every = ((count + 5) / 6).max(1) as usize;
            (first..=last)
                .step_by(every)
                .map(|k| (10f64.powi(k), num(10f64.powi(k))))
                .collect()
        }
        _ => {
            let step = nice_step(hi - lo, 5.0);
            ticks(lo, hi, step)
                .into_iter()
                .map(|v| (v, tick_label(v, step)))
                .collect()
        }
    };
    if out.len() < 2 {
        out = vec![(axis.min, num(axis.min)), (axis.max, num(axis.max))];
        out.dedup_by(|a, b| a.0 == b.0);
    }
    out
}

/// The pointer as fractions of `rect` (`u` from the left, `v` from the top), if it is inside.
pub fn pointer_uv(rect: egui::Rect, pos: egui::Pos2) -> Option<(f64, f64)> {
    if !rect.contains(pos) || rect.width() <= 0.0 || rect.height() <= 0.0 {
        return None;
    }
    Some((
        f64::from((pos.x - rect.left()) / rect.width()),
        f64::from((pos.y - rect.top()) / rect.height()),
    ))
}

/// `hyper` with the two swept parameters set to the cell's values.
pub fn hyper_with_cell(map: &SweepMap, cell: &SweepCell, mut hyper: Hyperparams) -> Hyperparams {
    map.spec.x.param.set(&mut hyper, cell.params[0]);
    map.spec.y.param.set(&mut hyper, cell.params[1]);
    hyper
}

/// A clicked cell: the map's optimizer takes the cell's two values and shows at once the run they give,
/// from its start, the sweep's K steps.
pub fn apply_cell(
    opt: &mut Optimizer,
    map: &SweepMap,
    cell: &SweepCell,
) -> Result<(), crate::core::CoreError> {
    let mut spec = opt.spec.clone();
    spec.hyper = hyper_with_cell(map, cell, spec.hyper);
    opt.apply_spec(spec)?;
    opt.restart();
    opt.advance(map.spec.steps.min(u64::from(u32::MAX)) as u32);
    Ok(())
}

/// What the window asked for this frame.
#[derive(Default)]
struct WindowActions {
    compute: bool,
    cancel: bool,
    /// A cell was clicked: give its two values to the map's optimizer.
    apply: Option<SweepCell>,
}

/// The sweep window: settings, Compute / progress / Cancel, the heat map.
pub fn sweep_window(
    mut contexts: EguiContexts,
    mut window: ResMut<SweepWindow>,
    landscape: Res<ActiveLandscape>,
    surface: Option<Res<SurfaceSettings>>,
    mut optimizers: Query<(Entity, &mut Optimizer)>,
    mut texture: Local<Option<((u64, Colormap), egui::TextureHandle)>>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let colormap = surface.map_or(Colormap::Viridis, |s| s.0.colormap);
    let names: Vec<(Entity, String)> = optimizers
        .iter()
        .map(|(e, o)| (e, o.spec.name.clone()))
        .collect();
    // the texture is uploaded only when a new map arrived (or the colormap changed)
    let stamp = (window.generation(), colormap);
    if let Some((_, map)) = window.map()
        && texture.as_ref().is_none_or(|(s, _)| *s != stamp)
    {
        let image = egui::ColorImage::from_rgba_unmultiplied(
            [map.spec.x.count, map.spec.y.count],
            &map.to_rgba(colormap),
        );
        let handle = ctx.load_texture("losscape-sweep", image, egui::TextureOptions::NEAREST);
        *texture = Some((stamp, handle));
    }
    let mut open = window.open;
    let mut actions = WindowActions::default();
    let w = &mut *window;
    let target = target_optimizer(w.target, optimizers.iter());
    let kind = target.map(|(_, o)| o.spec.kind);
    // the current setting of the map's optimizer, for the crosshair
    let current = w
        .map
        .as_ref()
        .and_then(|(e, _)| optimizers.get(*e).ok())
        .map(|(_, o)| o.spec.hyper);
    egui::Window::new("Sweep: for which settings does it work?")
        .open(&mut open)
        .resizable(false)
        .default_pos(egui::pos2(380.0, 60.0))
        .show(&ctx, |ui| {
            settings_ui(ui, w, &names, kind, &mut actions);
            ui.separator();
            match (w.map.as_ref(), texture.as_ref()) {
                (Some((_, map)), Some((_, handle))) => {
                    if let Some(cell) = heat_map(ui, map, handle, colormap, current.as_ref()) {
                        actions.apply = Some(cell);
                    }
                }
                _ => {
                    ui.label("Compute a sweep to see the map.");
                }
            }
        });
    window.open = open;
    if actions.cancel {
        window.cancel();
    }
    if actions.compute {
        match target_optimizer(window.target, optimizers.iter()) {
            Some((entity, opt)) => {
                let config = opt.spec.run_config();
                window.start(entity, config, Arc::clone(&landscape.0));
            }
            None => window.message = Some("no optimizer in the scene".to_owned()),
        }
    }
    if let Some(cell) = actions.apply
        && let Some((entity, map)) = window.map().map(|(e, m)| (e, Arc::clone(m)))
        && let Ok((_, mut opt)) = optimizers.get_mut(entity)
        && let Err(e) = apply_cell(&mut opt, &map, &cell)
    {
        window.message = Some(format!("not applied: {e}"));
    }
    Ok(())
}

/// One axis: parameter, range, scale and count.
fn axis_ui(ui: &mut egui::Ui, name: &str, axis: &mut SweepAxis, kind: Option<OptimizerKind>) {
    ui.horizontal(|ui| {
        ui.label(name);
        let before = axis.param;
        egui::ComboBox::from_id_salt(("sweep-param", name))
            .width(60.0)
            .selected_text(axis.param.label())
            .show_ui(ui, |ui| {
                for p in SweepParam::ALL {
                    ui.selectable_value(&mut axis.param, p, p.label());
                }
            });
        if axis.param != before {
            *axis = SweepAxis {
                count: axis.count,
                ..SweepAxis::default_for(axis.param)
            };
        }
        let log = axis.scale == AxisScale::Log;
        for value in [&mut axis.min, &mut axis.max] {
            let drag = egui::DragValue::new(value).speed(if log { 0.0 } else { 0.005 });
            let drag = if log {
                drag.custom_formatter(|v, _| num_digits(v, 2))
                    .custom_parser(|s| s.trim().parse().ok())
            } else {
                drag.max_decimals(4)
            };
            ui.add(drag);
        }
        egui::ComboBox::from_id_salt(("sweep-scale", name))
            .width(44.0)
            .selected_text(axis.scale.name())
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut axis.scale, AxisScale::Linear, "lin");
                ui.selectable_value(&mut axis.scale, AxisScale::Log, "log");
            });
        ui.add(
            egui::DragValue::new(&mut axis.count)
                .range(2..=MAX_SWEEP_COUNT)
                .suffix(" cells"),
        );
    });
    if let Some(kind) = kind
        && !axis.param.used_by(kind)
    {
        ui.small(format!(
            "{} does not use {}: this axis changes nothing",
            kind.label(),
            axis.param.label()
        ));
    }
}

/// The settings, Compute, progress and Cancel.
fn settings_ui(
    ui: &mut egui::Ui,
    w: &mut SweepWindow,
    names: &[(Entity, String)],
    kind: Option<OptimizerKind>,
    actions: &mut WindowActions,
) {
    ui.horizontal(|ui| {
        ui.label("optimizer");
        optimizer_combo(ui, "sweep-optimizer", &mut w.target, names);
    });
    axis_ui(ui, "→", &mut w.x, kind);
    axis_ui(ui, "↑", &mut w.y, kind);
    ui.horizontal(|ui| {
        ui.label("steps K");
        ui.add(egui::DragValue::new(&mut w.steps).range(1..=MAX_MAP_STEPS));
        ui.label("colour by");
        egui::ComboBox::from_id_salt("sweep-metric")
            .selected_text(w.metric.label())
            .show_ui(ui, |ui| {
                for m in MetricChoice::ALL {
                    ui.selectable_value(&mut w.metric, m, m.label());
                }
            });
        if matches!(
            w.metric,
            MetricChoice::StepsToLoss | MetricChoice::StepsToGrad
        ) {
            ui.label("tol");
            ui.add(
                egui::DragValue::new(&mut w.tol)
                    .speed(0.0)
                    .range(0.0..=f64::MAX)
                    .custom_formatter(|v, _| num_digits(v, 2))
                    .custom_parser(|s| s.trim().parse().ok()),
            );
        }
    });
    ui.horizontal(|ui| match w.progress() {
        Some((done, total)) => {
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                    .desired_width(220.0)
                    .text(format!("{done} of {total} cells")),
            );
            if ui.button("Cancel").clicked() {
                actions.cancel = true;
            }
        }
        None => {
            let cells = w.x.count * w.y.count;
            if ui
                .button("Compute")
                .on_hover_text(format!(
                    "{cells} runs of up to {} steps from the optimizer's start, on all cores",
                    w.steps
                ))
                .clicked()
            {
                actions.compute = true;
            }
        }
    });
    if let Some(message) = &w.message {
        ui.colored_label(egui::Color32::from_rgb(255, 120, 100), message);
    }
}

/// The heat map with its axes, the crosshair at `current` and the colour bar; a tooltip with the hovered
/// cell's numbers. Returns the clicked cell.
fn heat_map(
    ui: &mut egui::Ui,
    map: &SweepMap,
    texture: &egui::TextureHandle,
    colormap: Colormap,
    current: Option<&Hyperparams>,
) -> Option<SweepCell> {
    let size = egui::vec2(LEFT + MAP_SIDE + RIGHT, MAP_SIDE + BOTTOM + 8.0);
    let (outer, response) = ui.allocate_exact_size(size, egui::Sense::click());
    let rect = egui::Rect::from_min_size(
        outer.min + egui::vec2(LEFT, 6.0),
        egui::vec2(MAP_SIDE, MAP_SIDE),
    );
    let painter = ui.painter_at(outer);
    let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    painter.image(texture.id(), rect, uv, egui::Color32::WHITE);
    let text = ui.visuals().text_color();
    let font = egui::FontId::proportional(12.0);
    let tick = egui::Stroke::new(1.0, text);
    let (spec_x, spec_y) = (&map.spec.x, &map.spec.y);
    // axes: ticks at the values, which sit at cell centres
    for (value, label) in axis_ticks(spec_x) {
        let x = rect.left() + picture_fraction(spec_x, value) as f32 * rect.width();
        painter.line_segment(
            [
                egui::pos2(x, rect.bottom()),
                egui::pos2(x, rect.bottom() + 4.0),
            ],
            tick,
        );
        painter.text(
            egui::pos2(x, rect.bottom() + 5.0),
            egui::Align2::CENTER_TOP,
            label,
            font.clone(),
            text,
        );
    }
    for (value, label) in axis_ticks(spec_y) {
        let y = rect.bottom() - picture_fraction(spec_y, value) as f32 * rect.height();
        painter.line_segment(
            [egui::pos2(rect.left() - 4.0, y), egui::pos2(rect.left(), y)],
            tick,
        );
        painter.text(
            egui::pos2(rect.left() - 6.0, y),
            egui::Align2::RIGHT_CENTER,
            label,
            font.clone(),
            text,
        );
    }
    let scale_note = |a: &SweepAxis| {
        if a.scale == AxisScale::Log {
            " (log)"
        } else {
            ""
        }
    };
    painter.text(
        egui::pos2(rect.center().x, rect.bottom() + 22.0),
        egui::Align2::CENTER_TOP,
        format!("{}{}", spec_x.param.label(), scale_note(spec_x)),
        egui::FontId::proportional(14.0),
        text,
    );
    painter.text(
        egui::pos2(outer.left() + 2.0, rect.top()),
        egui::Align2::LEFT_BOTTOM,
        format!("{}{}", spec_y.param.label(), scale_note(spec_y)),
        egui::FontId::proportional(14.0),
        text,
    );
    // the optimizer's current setting
    if let Some(hyper) = current {
        let u = picture_fraction(spec_x, spec_x.param.get(hyper));
        let v = picture_fraction(spec_y, spec_y.param.get(hyper));
        if (0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v) {
            let p = egui::pos2(
                rect.left() + u as f32 * rect.width(),
                rect.bottom() - v as f32 * rect.height(),
            );
            for (stroke, r) in [
                (egui::Stroke::new(3.5, egui::Color32::BLACK), 9.0),
                (egui::Stroke::new(1.5, egui::Color32::WHITE), 9.0),
            ] {
                painter.line_segment([p - egui::vec2(r, 0.0), p + egui::vec2(r, 0.0)], stroke);
                painter.line_segment([p - egui::vec2(0.0, r), p + egui::vec2(0.0, r)], stroke);
                painter.circle_stroke(p, r * 0.5, stroke);
            }
        }
    }
    colour_bar(&painter, map, colormap, rect, &font, text);
    let hovered = response
        .hover_pos()
        .and_then(|pos| pointer_uv(rect, pos))
        .and_then(|(u, v)| map.cell_at(u, v))
        .map(|(_, _, c)| *c);
    let clicked = response.clicked().then_some(hovered).flatten();
    if let Some(cell) = hovered {
        response.on_hover_ui_at_pointer(|ui| cell_tooltip(ui, map, &cell));
    }
    ui.small("Hover a cell for its run; click it to give the optimizer those settings.");
    clicked
}

/// The colour bar right of the map: the colormap from the scale's low (bottom) to its high (top) with
/// three labels, and swatches for diverged (and never-reached) cells under it.
fn colour_bar(
    painter: &egui::Painter,
    map: &SweepMap,
    colormap: Colormap,
    rect: egui::Rect,
    font: &egui::FontId,
    text: egui::Color32,
) {
    let scale = map.color_scale();
    let bar = egui::Rect::from_min_size(
        egui::pos2(rect.right() + 10.0, rect.top()),
        egui::vec2(14.0, rect.height() * 0.8),
    );
    let slices = 48;
    for k in 0..slices {
        let t0 = k as f32 / slices as f32;
        let t1 = (k + 1) as f32 / slices as f32;
        let [r, g, b] = colormap.rgb8((t0 + t1) / 2.0);
        let slice = egui::Rect::from_min_max(
            egui::pos2(bar.left(), bar.bottom() - t1 * bar.height()),
            egui::pos2(bar.right(), bar.bottom() - t0 * bar.height()),
        );
        painter.rect_filled(slice, 0.0, egui::Color32::from_rgb(r, g, b));
    }
    let label = |t: f64| match map.spec.metric {
        SweepMetric::Diverged => (if t < 0.5 { "no" } else { "yes" }).to_owned(),
        SweepMetric::FinalLoss => num_digits(scale.value_at(t), 2),
        _ => format!("{:.0}", scale.value_at(t)),
    };
    let ts: &[f64] = if map.spec.metric == SweepMetric::Diverged {
        &[0.0, 1.0]
    } else {
        &[0.0, 0.5, 1.0]
    };
    for &t in ts {
        let y = bar.bottom() - t as f32 * bar.height();
        painter.text(
            egui::pos2(bar.right() + 4.0, y),
            egui::Align2::LEFT_CENTER,
            label(t),
            font.clone(),
            text,
        );
    }
    let title = match map.spec.metric {
        SweepMetric::FinalLoss => "final loss",
        SweepMetric::Diverged => "diverged",
        _ => "steps",
    };
    painter.text(
        egui::pos2(bar.left(), bar.top() - 2.0),
        egui::Align2::LEFT_BOTTOM,
        title,
        font.clone(),
        text,
    );
    let mut swatches = vec![(DIVERGED, "diverged")];
    if matches!(
        map.spec.metric,
        SweepMetric::StepsToLoss(_) | SweepMetric::StepsToGrad(_)
    ) {
        swatches.push((NEVER, "never"));
    }
    for (k, ([r, g, b], name)) in swatches.into_iter().enumerate() {
        let top = bar.bottom() + 10.0 + k as f32 * 16.0;
        let sw = egui::Rect::from_min_size(egui::pos2(bar.left(), top), egui::vec2(14.0, 12.0));
        painter.rect_filled(sw, 2.0, egui::Color32::from_rgb(r, g, b));
        painter.text(
            egui::pos2(sw.right() + 4.0, sw.center().y),
            egui::Align2::LEFT_CENTER,
            name,
            font.clone(),
            text,
        );
    }
}

/// The hovered cell's numbers: its two settings, the final loss and position, steps and status.
fn cell_tooltip(ui: &mut egui::Ui, map: &SweepMap, cell: &SweepCell) {
    let (x, y) = (&map.spec.x, &map.spec.y);
    ui.label(format!(
        "{} = {}   {} = {}",
        x.param.label(),
        num(cell.params[0]),
        y.param.label(),
        num(cell.params[1])
    ));
    let end = &cell.end;
    ui.label(format!(
        "final loss {} at {}",
        num(end.loss),
        point(end.pos)
    ));
    ui.label(format!("{} steps: {}", end.steps, end.status));
    if matches!(
        map.spec.metric,
        SweepMetric::StepsToLoss(_) | SweepMetric::StepsToGrad(_)
    ) {
        ui.label(match cell.reached {
            Some(s) => format!("tolerance met at step {s}"),
            None => "tolerance never met".to_owned(),
        });
    }
    ui.small("click: use these settings");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::maps::color::cell_index;

    #[test]
    fn axis_values_sit_at_the_centres_of_their_cells() {
        for axis in [
            SweepAxis::default_for(SweepParam::Lr),
            SweepAxis::default_for(SweepParam::BetaM),
            SweepAxis {
                count: 7,
                ..SweepAxis::default_for(SweepParam::Eps)
            },
        ] {
            let n = axis.count;
            for k in 0..n {
                let u = picture_fraction(&axis, axis.value(k));
                assert!(
                    (u - (k as f64 + 0.5) / n as f64).abs() < 1e-9,
                    "{axis:?} {k}"
                );
                // the same cell as the pointer there finds (columns from the left)
                assert_eq!(cell_index(u, 0.5, n, 1).map(|c| c.0), Some(k));
            }
        }
    }

    #[test]
    fn log_axes_tick_at_powers_of_ten_and_linear_ones_at_round_values() {
        let lr = SweepAxis::default_for(SweepParam::Lr);
        let t = axis_ticks(&lr);
        let labels: Vec<_> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["1e-4", "0.001", "0.01", "0.1", "1"]);
        let eps = SweepAxis::default_for(SweepParam::Eps);
        let t = axis_ticks(&eps);
        assert!(t.len() >= 2 && t.len() <= 6, "{t:?}");
        assert!(t.iter().all(|(v, _)| (eps.min..=eps.max).contains(v)));
        let beta = SweepAxis::default_for(SweepParam::BetaM);
        let t = axis_ticks(&beta);
        assert_eq!(t.first().map(|(v, _)| *v), Some(0.0));
        assert!(t.len() >= 4, "{t:?}");
        // a narrow log range without a power of ten: its two ends
        let narrow = SweepAxis {
            min: 0.02,
            max: 0.05,
            ..lr
        };
        assert_eq!(axis_ticks(&narrow).len(), 2);
    }

    #[test]
    fn the_pointer_finds_the_cell_under_it() {
        let rect = egui::Rect::from_min_size(egui::pos2(10.0, 20.0), egui::vec2(100.0, 50.0));
        assert_eq!(pointer_uv(rect, egui::pos2(0.0, 0.0)), None);
        let (u, v) = pointer_uv(rect, egui::pos2(35.0, 30.0)).unwrap();
        assert!((u - 0.25).abs() < 1e-6 && (v - 0.2).abs() < 1e-6);
        // top-left corner: first column, top row (the largest second-axis value)
        assert_eq!(cell_index(0.0, 0.0, 4, 4), Some((0, 3)));
    }

    #[test]
    fn a_finished_sweep_becomes_the_map_and_a_click_gives_its_settings() {
        use crate::core::{LandscapeSpec, scene::OptimizerSpec};
        let land = Arc::new(Landscape::new(LandscapeSpec::from_name("bowl").unwrap()).unwrap());
        let spec = OptimizerSpec::with_defaults(OptimizerKind::Momentum, 0, [1.0, 1.0]);
        let mut window = SweepWindow {
            steps: 100,
            ..SweepWindow::default()
        };
        window.x.count = 6;
        window.y.count = 5;
        window.start(Entity::PLACEHOLDER, spec.run_config(), Arc::clone(&land));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while window.progress().is_some() && std::time::Instant::now() < deadline {
            window.poll();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(window.generation(), 1, "{:?}", window.message);
        let (_, map) = window.map().expect("a map");
        assert_eq!(map.cells.len(), 30);
        let (i, j, cell) = map.cell_at(0.99, 0.01).unwrap();
        assert_eq!((i, j), (5, 4));
        let hyper = hyper_with_cell(map, cell, spec.hyper);
        assert_eq!(hyper.lr, map.spec.x.max);
        assert_eq!(hyper.beta_m, map.spec.y.max);
        assert_eq!(hyper, map.spec.hyper_at(i, j));

        // the click: a run 30 steps along with other settings starts over with the cell's and shows
        // the sweep's 100 steps (fewer if it stops), the very run the core takes with them
        let mut opt = Optimizer::new(spec.clone(), Arc::clone(&land)).unwrap();
        opt.advance(30);
        apply_cell(&mut opt, map, cell).unwrap();
        assert_eq!(opt.spec.hyper, hyper);
        assert!((1..=100).contains(&opt.steps()), "{}", opt.steps());
        let mut config = spec.run_config();
        config.hyper = hyper;
        let mut runner = crate::core::Runner::new(land, config).unwrap();
        let rows: Vec<_> = std::iter::once(runner.record())
            .chain(std::iter::from_fn(|| runner.step()).take(100))
            .collect();
        assert_eq!(opt.history.kept(), rows.as_slice());
    }
}
