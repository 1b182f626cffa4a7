//! The panel's "Network" section: what is trained, the plane shown (and how much of the runs a PCA
//! plane explains), when the picture misleads (each run's distance from the plane, its true loss beside
//! the plane's loss under it), the selected run's decision boundary over the data, and for the adaptive
//! runs a histogram per layer of every weight's effective learning rate ("should η be the same for all
//! parameters?").

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::{ecs::system::SystemParam, prelude::*};
use bevy_egui::egui;
use egui_plot::{Bar, BarChart, Legend, Plot};

use super::{ChoosePlane, NetworkView, PlaneChoice};
use crate::core::network::{Network, Plane, PlaneKind};
use crate::core::number::num;
use crate::optimizers::Optimizer;
use crate::paint::egui_color;
use crate::state::ActiveLandscape;

/// Side of the decision-boundary picture, in pixels of the image.
const INSET_PIXELS: usize = 72;
/// The decision boundary is drawn again at most this often while a run trains.
const INSET_EVERY: Duration = Duration::from_millis(150);

/// The panel's own state: the run the inset and histogram follow, the two runs of a three-point plane,
/// and the inset's picture.
#[derive(Default)]
pub struct NetworkPanelState {
    /// The run whose boundary and learning rates are shown (the first one when unset or gone).
    pub selected: Option<Entity>,
    /// Runs for "random around" and the three-point plane.
    around: Option<Entity>,
    through: [Option<Entity>; 2],
    inset: Option<Inset>,
}

/// The decision boundary as drawn: for which run at which step, and its texture.
struct Inset {
    of: (Entity, u64, usize),
    texture: egui::TextureHandle,
    drawn: Instant,
}

/// What the section reads and edits.
#[derive(SystemParam)]
pub struct NetworkPanel<'w, 's> {
    view: ResMut<'w, NetworkView>,
    landscape: Res<'w, ActiveLandscape>,
    choose: MessageWriter<'w, ChoosePlane>,
    state: Local<'s, NetworkPanelState>,
}

/// Class colours of the inset (two to eight classes; more repeat).
const CLASS_COLORS: [[u8; 3]; 8] = [
    [66, 133, 244],
    [234, 67, 53],
    [251, 188, 5],
    [52, 168, 83],
    [171, 71, 188],
    [0, 172, 193],
    [255, 112, 67],
    [158, 157, 36],
];

/// A number as every readout writes it ([`num`]), a dash for one that is not finite.
fn fmt(v: f64) -> String {
    if v.is_finite() {
        num(v)
    } else {
        "–".to_owned()
    }
}

/// The panel's "Network" section for the optimizers on screen (the panel holds them); nothing when the
/// landscape is not a network.
pub fn network_section(ui: &mut egui::Ui, p: &mut NetworkPanel, runs: &[(Entity, &Optimizer)]) {
    let Some(surface) = p.landscape.0.network() else {
        return;
    };
    let network = Arc::clone(surface.network());
    let plane = Arc::clone(surface.plane());
    let grid = surface.grid().size;
    ui.label(network.describe());
    ui.label(
        egui::RichText::new(
            "The loss is the mean cross-entropy over all the data; every weight and bias is a \
             parameter. Each run's ball is where its weights project onto the plane, at the height of \
             its true loss.",
        )
        .small(),
    );
    plane_section(ui, p, runs, &network, &plane, grid);
    ui.separator();
    runs_table(ui, p, runs, &plane);
    ui.separator();
    let selected = p
        .state
        .selected
        .filter(|e| runs.iter().any(|(r, _)| r == e))
        .or_else(|| runs.first().map(|(e, _)| *e));
    let Some(selected) = selected else {
        return;
    };
    ui.horizontal(|ui| {
        ui.label("Selected run:");
        let name = runs
            .iter()
            .find(|(e, _)| *e == selected)
            .map_or(String::new(), |(_, o)| o.spec.name.clone());
        egui::ComboBox::from_id_salt("network-selected")
            .selected_text(name)
            .show_ui(ui, |ui| {
                for (e, o) in runs {
                    if ui
                        .selectable_label(*e == selected, o.spec.name.clone())
                        .clicked()
                    {
                        p.state.selected = Some(*e);
                    }
                }
            });
    });
    let Some(run) = runs.iter().find(|(e, _)| *e == selected).map(|(_, o)| *o) else {
        return;
    };
    decision_inset(ui, &mut p.state, &network, selected, run);
    eta_histogram(ui, &network, run);
}

fn plane_section(
    ui: &mut egui::Ui,
    p: &mut NetworkPanel,
    optimizers: &[(Entity, &Optimizer)],
    network: &Network,
    plane: &Plane,
    grid: usize,
) {
    let what = match plane.kind {
        PlaneKind::Random if *plane == *network.start_plane() => {
            "random directions around the initial weights (filter-normalized)".to_owned()
        }
        PlaneKind::Random => {
            "random directions around a run's weights (filter-normalized)".to_owned()
        }
        PlaneKind::Pca => match plane.explained {
            Some([a, b]) => format!(
                "the runs' principal components: α explains {:.0}% of their variance, β {:.0}%",
                100.0 * a,
                100.0 * b
            ),
            None => "the runs' principal components".to_owned(),
        },
        PlaneKind::ThreePoints => "through the initial weights and two runs' weights".to_owned(),
        PlaneKind::Custom => "from a plane file".to_owned(),
    };
    ui.label(format!(
        "Plane: {what}; α from {} to {}, β from {} to {}",
        fmt(plane.alpha[0]),
        fmt(plane.alpha[1]),
        fmt(plane.beta[0]),
        fmt(plane.beta[1])
    ));
    if plane.kind == PlaneKind::Pca {
        ui.label(
            egui::RichText::new(
                "PCA of a random walk also puts most of its variance on the first axis (Antognini & \
                 Sohl-Dickstein 2018): a smooth curve here is no proof of structure.",
            )
            .small(),
        );
    }
    match p.view.progress() {
        Some((done, all)) => {
            ui.horizontal(|ui| {
                ui.add(
                    egui::ProgressBar::new(done as f32 / all.max(1) as f32)
                        .text(format!(
                            "loss on the plane: {grid} x {grid} shown, refining"
                        ))
                        .desired_width(220.0),
                );
                if ui.small_button("Cancel").clicked() {
                    p.view.cancel_slice();
                }
            });
        }
        None => {
            ui.label(
                egui::RichText::new(format!("loss on the plane: {grid} x {grid} points")).small(),
            );
        }
    }
    let runs: Vec<(Entity, String)> = optimizers
        .iter()
        .map(|(e, o)| (*e, o.spec.name.clone()))
        .collect();
    let name_of = |e: Option<Entity>| {
        e.and_then(|e| runs.iter().find(|(r, _)| *r == e))
            .map_or("choose…".to_owned(), |(_, n)| n.clone())
    };
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Start plane")
            .on_hover_text("random filter-normalized directions around the initial weights")
            .clicked()
        {
            p.choose.write(ChoosePlane(PlaneChoice::Start));
        }
        let pca = ui
            .add_enabled(!p.view.fitting(), egui::Button::new("PCA of the runs"))
            .on_hover_text(
                "the two principal components of every run's trajectory, pooled: one plane all runs share",
            );
        if pca.clicked() {
            p.choose.write(ChoosePlane(PlaneChoice::Pca));
        }
    });
    ui.horizontal_wrapped(|ui| {
        egui::ComboBox::from_id_salt("around-run")
            .selected_text(name_of(p.state.around))
            .show_ui(ui, |ui| {
                for (e, n) in &runs {
                    ui.selectable_value(&mut p.state.around, Some(*e), n.clone());
                }
            });
        if ui
            .add_enabled(
                p.state.around.is_some(),
                egui::Button::new("Random around it"),
            )
            .on_hover_text("random filter-normalized directions around this run's weights now")
            .clicked()
            && let Some(e) = p.state.around
        {
            p.choose.write(ChoosePlane(PlaneChoice::RandomAround(e)));
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("Through the start,");
        for (k, slot) in p.state.through.iter_mut().enumerate() {
            egui::ComboBox::from_id_salt(("through-run", k))
                .selected_text(name_of(*slot))
                .show_ui(ui, |ui| {
                    for (e, n) in &runs {
                        ui.selectable_value(slot, Some(*e), n.clone());
                    }
                });
        }
        let [a, b] = p.state.through;
        if ui
            .add_enabled(
                a.is_some() && b.is_some() && a != b,
                egui::Button::new("Show"),
            )
            .clicked()
            && let (Some(a), Some(b)) = (a, b)
        {
            p.choose.write(ChoosePlane(PlaneChoice::Through(a, b)));
        }
    });
    if let Some((ok, text)) = &p.view.message
        && !text.is_empty()
    {
        let color = if *ok {
            ui.visuals().text_color()
        } else {
            ui.visuals().error_fg_color
        };
        ui.colored_label(color, text);
    }
}

/// One line per run: its true loss and accuracy, the last mini-batch's loss, its distance from the plane
/// and the plane's loss under its ball (their difference is how far the picture is from the truth).
fn runs_table(
    ui: &mut egui::Ui,
    p: &NetworkPanel,
    optimizers: &[(Entity, &Optimizer)],
    plane: &Plane,
) {
    let surface = p.landscape.0.network();
    egui::Grid::new("network-runs")
        .striped(true)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            for head in [
                "run",
                "loss",
                "accuracy",
                "batch loss",
                "distance",
                "plane's loss",
                "gap",
            ] {
                ui.strong(head);
            }
            ui.end_row();
            for (_, opt) in optimizers {
                let Some(run) = opt.run.network() else {
                    continue;
                };
                let at = plane.project(run.runner().position_ref());
                let plane_loss = surface.map_or(f64::NAN, |s| s.exact_loss([at.alpha, at.beta]));
                let loss = opt.run.loss();
                ui.colored_label(egui_color(opt.spec.color), opt.spec.name.clone());
                ui.label(fmt(loss));
                ui.label(
                    opt.run
                        .accuracy()
                        .map_or("–".to_owned(), |a| format!("{:.1}%", 100.0 * a)),
                );
                ui.label(opt.run.batch_loss().map_or("full".to_owned(), fmt));
                ui.label(fmt(at.distance));
                ui.label(fmt(plane_loss));
                ui.label(fmt(plane_loss - loss));
                ui.end_row();
            }
        });
    ui.label(
        egui::RichText::new(
            "distance: how far a run's weights are from the plane (parameter units). gap: the plane's \
             loss under the ball minus the run's true loss; when either is large the picture under the \
             ball is not where the run is.",
        )
        .small(),
    );
}

/// The selected run's decision boundary over the data's first two features: each pixel coloured by the
/// most likely class, paler where the network is unsure, and the data points on top.
fn decision_inset(
    ui: &mut egui::Ui,
    state: &mut NetworkPanelState,
    network: &Network,
    entity: Entity,
    run: &Optimizer,
) {
    let data = network.data();
    if data.features() != 2 {
        ui.label(format!(
            "The decision boundary is drawn for data with two features; this data has {}.",
            data.features()
        ));
        return;
    }
    let Some(weights) = run.run.weights() else {
        return;
    };
    let (Some(xr), Some(yr)) = (data.feature_range(0), data.feature_range(1)) else {
        return;
    };
    let pad = |r: [f64; 2]| {
        let m = 0.08 * (r[1] - r[0]).max(1e-9);
        [r[0] - m, r[1] + m]
    };
    let (xr, yr) = (pad(xr), pad(yr));
    let key = (entity, run.steps(), weights.len());
    let stale = state.inset.as_ref().is_none_or(|i| {
        i.of != key && (i.drawn.elapsed() >= INSET_EVERY || i.of.0 != entity || !run.is_running())
    });
    if stale {
        let n = INSET_PIXELS;
        let classes = data.classes();
        let mut points = Vec::with_capacity(n * n * 2);
        for j in 0..n {
            // image rows top to bottom: y from high to low
            let y = yr[1] - (j as f64 + 0.5) / n as f64 * (yr[1] - yr[0]);
            for i in 0..n {
                points.push(xr[0] + (i as f64 + 0.5) / n as f64 * (xr[1] - xr[0]));
                points.push(y);
            }
        }
        let mut probs = vec![0.0; n * n * classes];
        if network.predict(weights, &points, &mut probs) {
            let pixels: Vec<egui::Color32> = probs
                .chunks(classes)
                .map(|p| {
                    let (k, best) = p
                        .iter()
                        .enumerate()
                        .fold((0, f64::MIN), |a, (k, &v)| if v > a.1 { (k, v) } else { a });
                    let [r, g, b] = CLASS_COLORS[k % CLASS_COLORS.len()];
                    // confidence over chance: 1/K (unsure) .. 1 (sure)
                    let sure = ((best - 1.0 / classes as f64) / (1.0 - 1.0 / classes as f64))
                        .clamp(0.0, 1.0) as f32;
                    let mix = |c: u8| (40.0 + (f32::from(c) - 40.0) * (0.25 + 0.6 * sure)) as u8;
                    egui::Color32::from_rgb(mix(r), mix(g), mix(b))
                })
                .collect();
            let image = egui::ColorImage::new([n, n], pixels);
            let options = egui::TextureOptions::LINEAR;
            match &mut state.inset {
                Some(inset) => {
                    inset.texture.set(image, options);
                    inset.of = key;
                    inset.drawn = Instant::now();
                }
                None => {
                    state.inset = Some(Inset {
                        of: key,
                        texture: ui.ctx().load_texture("decision-boundary", image, options),
                        drawn: Instant::now(),
                    });
                }
            }
        }
    }
    let Some(inset) = &state.inset else {
        return;
    };
    ui.label(format!(
        "Decision boundary of {} at step {}",
        run.spec.name, inset.of.1
    ));
    let side = 180.0;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.image(
        inset.texture.id(),
        rect,
        egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
        egui::Color32::WHITE,
    );
    let to_px = |x: f64, y: f64| {
        egui::pos2(
            rect.left() + ((x - xr[0]) / (xr[1] - xr[0])) as f32 * side,
            rect.bottom() - ((y - yr[0]) / (yr[1] - yr[0])) as f32 * side,
        )
    };
    // at most 600 points drawn (a big file is sampled evenly)
    let stride = data.len().div_ceil(600).max(1);
    for i in (0..data.len()).step_by(stride) {
        if let Some((x, label)) = data.point(i) {
            let [r, g, b] = CLASS_COLORS[label as usize % CLASS_COLORS.len()];
            let at = to_px(x[0], x[1]);
            painter.circle(
                at,
                2.6,
                egui::Color32::from_rgb(r, g, b),
                egui::Stroke::new(0.8, egui::Color32::from_gray(20)),
            );
        }
    }
}

/// For an adaptive run: a histogram per layer of log10 of every weight's effective learning rate (the
/// step size each coordinate got in the last step, `η / (√s + ε)` and the like); for the others one η.
fn eta_histogram(ui: &mut egui::Ui, network: &Network, run: &Optimizer) {
    if !run.spec.kind.is_adaptive() {
        ui.label(format!(
            "{} uses one learning rate for every weight: η = {}.",
            run.spec.kind.label(),
            fmt(run.run.hyper().lr_at(run.steps().max(1)))
        ));
        return;
    }
    let Some(detail) = run.run.network().and_then(|n| n.runner().last_detail()) else {
        ui.label("Take a step to see each weight's learning rate.");
        return;
    };
    let lr = &detail.effective_lr;
    let layers = network.mlp().layers();
    let logs: Vec<f64> = lr
        .iter()
        .filter(|v| v.is_finite() && **v > 0.0)
        .map(|v| v.log10())
        .collect();
    let (lo, hi) = logs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !(lo.is_finite() && hi.is_finite()) {
        return;
    }
    let bins = 24usize;
    let width = ((hi - lo) / bins as f64).max(1e-3);
    ui.label(format!(
        "Effective learning rate of each weight, step {} ({}): from {} to {}, a factor of {}",
        detail.t,
        run.spec.name,
        fmt(10f64.powf(lo)),
        fmt(10f64.powf(hi)),
        fmt(10f64.powf(hi - lo))
    ));
    let charts: Vec<BarChart> = layers
        .iter()
        .enumerate()
        .map(|(k, layer)| {
            let mut counts = vec![0u32; bins];
            // a detail from another network (the landscape just changed) has other lengths: no bars
            let of_layer = lr.get(layer.weights.start..layer.bias.end).unwrap_or(&[]);
            for &v in of_layer {
                if v.is_finite() && v > 0.0 {
                    let b = (((v.log10() - lo) / width) as usize).min(bins - 1);
                    counts[b] += 1;
                }
            }
            let [r, g, b] = CLASS_COLORS[(k + 2) % CLASS_COLORS.len()];
            let bars: Vec<Bar> = counts
                .iter()
                .enumerate()
                .map(|(b, &c)| Bar::new(lo + (b as f64 + 0.5) * width, f64::from(c)).width(width))
                .collect();
            BarChart::new(format!("layer {}", k + 1), bars)
                .color(egui::Color32::from_rgba_unmultiplied(r, g, b, 170))
        })
        .collect();
    Plot::new(("eta-histogram", run.spec.name.clone()))
        .height(120.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .allow_drag(false)
        .x_axis_label("log10 of the effective learning rate")
        .show(ui, |plot| {
            for chart in charts {
                plot.bar_chart(chart);
            }
        });
}
