//! Loss per step, one line per optimizer in its colour (egui_plot), with the current step marked.

use bevy_egui::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};

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
        .x_axis_label("step");
    if log {
        plot = plot.y_axis_formatter(|mark, _| format!("1e{:.0}", mark.value));
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
