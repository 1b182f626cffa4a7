//! Loss per step, one line per optimizer in its colour (egui_plot), with the current step marked; and,
//! when a run has a learning-rate schedule, η_t per step in a small plot of its own under it.

use bevy_egui::egui;
use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoints, VLine};

use crate::core::Schedule;
use crate::core::number::{num, num_digits};
use crate::optimizers::Optimizer;
use crate::paint::egui_color;

/// Most points drawn per line (the plot is a few hundred pixels wide; each point costs triangles every
/// frame); longer runs are strided.
const MAX_POINTS: usize = 400;

/// (step, value) pairs of a run's loss over its kept rows (see [`crate::core::History`]), strided to at
/// most [`MAX_POINTS`], and the newest row; `log` plots log10(loss).
pub fn loss_series(run: &Optimizer, log: bool) -> Vec<[f64; 2]> {
    let kept = run.history.kept();
    let stride = kept.len().div_ceil(MAX_POINTS).max(1);
    let mut points: Vec<[f64; 2]> = kept
        .iter()
        .step_by(stride)
        .chain(std::iter::once(run.history.newest()))
        .filter_map(|r| {
            let y = if log {
                r.loss.max(1e-300).log10()
            } else {
                r.loss
            };
            y.is_finite().then_some([r.step as f64, y])
        })
        .collect();
    points.dedup_by(|a, b| a[0] == b[0]);
    points
}

pub fn loss_plot(ui: &mut egui::Ui, runs: &[&Optimizer], log: bool) {
    let current = runs.iter().map(|r| r.displayed_step()).max().unwrap_or(0);
    let mut plot = Plot::new("loss-plot")
        .height(170.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_label("step")
        .label_formatter(hover_label("L", log));
    if log {
        plot = plot.y_axis_formatter(|mark, _| num_digits(10f64.powf(mark.value), 2));
    }
    plot.show(ui, |plot_ui| {
        for run in runs.iter().filter(|r| r.spec.visible) {
            let color = egui_color(run.spec.color);
            plot_ui.line(
                Line::new(
                    run.spec.name.clone(),
                    PlotPoints::from(loss_series(run, log)),
                )
                .color(color)
                .width(2.0),
            );
        }
        plot_ui.vline(VLine::new("", current as f64).color(egui::Color32::from_gray(160)));
    });
}

/// The label by the pointer near a line: the run, the step and the value there (`what = 4.61`; `log`:
/// the plot holds log10 of the value).
fn hover_label(what: &'static str, log: bool) -> impl Fn(&HoverPosition<'_>) -> Option<String> {
    move |hover| match hover {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => {
            let y = if log {
                10f64.powf(position.y)
            } else {
                position.y
            };
            Some(format!(
                "{plot_name}\nstep {}\n{what} = {}",
                position.x.round(),
                num(y)
            ))
        }
        HoverPosition::Elsewhere { .. } => None,
    }
}

/// How far ahead of the newest step the η_t plot reaches: to where the schedule's shape is complete
/// (cosine's T, four of step's drops), at least 100 steps.
fn eta_horizon(schedule: &Schedule, current: u64) -> u64 {
    let shape = match *schedule {
        Schedule::Constant => 0,
        Schedule::Step { every, .. } => every.saturating_mul(4),
        Schedule::Cosine { steps, .. } | Schedule::WarmupCosine { steps, .. } => steps,
        Schedule::Exp { gamma } => {
            // until η_t has fallen to a hundredth
            if gamma < 1.0 {
                (0.01f64.ln() / gamma.ln()).ceil().min(1e7) as u64
            } else {
                0
            }
        }
        Schedule::InvSqrt { warmup } => (warmup * 99.0).min(1e7) as u64,
    };
    shape.max(current).max(100)
}

/// (step, η_t) for steps 1 ..= the horizon, strided to at most [`MAX_POINTS`]: the η each step used
/// or will use, with the η slider's live changes where they were made (the run's log).
pub fn eta_series(run: &Optimizer) -> Vec<[f64; 2]> {
    let now = *run.run.hyper();
    let last = eta_horizon(&now.schedule, run.displayed_step());
    let stride = last.div_ceil(MAX_POINTS as u64).max(1);
    (1..=last)
        .step_by(stride as usize)
        .chain(std::iter::once(last))
        .map(|t| {
            let hyper = run.hyper_at(t - 1).unwrap_or(now);
            [t as f64, hyper.lr_at(t)]
        })
        .collect()
}

/// η_t over steps for the visible runs that have a schedule; nothing when none has.
pub fn eta_plot(ui: &mut egui::Ui, runs: &[&Optimizer]) {
    let scheduled: Vec<&&Optimizer> = runs
        .iter()
        .filter(|r| r.spec.visible && r.run.hyper().schedule != Schedule::Constant)
        .collect();
    if scheduled.is_empty() {
        return;
    }
    let current = runs.iter().map(|r| r.displayed_step()).max().unwrap_or(0);
    ui.label(egui::RichText::new("learning rate η_t per step").small());
    Plot::new("eta-plot")
        .height(90.0)
        .allow_scroll(false)
        .x_axis_label("step")
        .label_formatter(hover_label("η_t", false))
        .show(ui, |plot_ui| {
            for run in scheduled {
                plot_ui.line(
                    Line::new(
                        format!("{} η_t", run.spec.name),
                        PlotPoints::from(eta_series(run)),
                    )
                    .color(egui_color(run.spec.color))
                    .width(2.0),
                );
            }
            plot_ui.vline(VLine::new("", current as f64).color(egui::Color32::from_gray(160)));
        });
}
