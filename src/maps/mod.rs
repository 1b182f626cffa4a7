//! Maps instead of single runs (issue 16): the app side of [`crate::core::maps`].
//!
//! - [`sweep`]: the sweep window: one optimizer of the scene, two of η, β_m, β_r, ε varied over a grid,
//!   a heat map with axes, a colour bar, the current setting marked; hover reads a cell, a click sets
//!   the optimizer's hyperparameters to it.
//! - [`basins`]: the basins layer over the top view: every start of a grid over the domain run with one
//!   optimizer's settings, coloured by the minimum it reaches; recomputed in the background whenever
//!   the settings or the landscape change, the old map shown until the new one is ready.
//! - [`escape`]: saddle-escape statistics (issue 15): every optimizer of the scene run with many seeds,
//!   the median escape step, how many escaped and a histogram each; computed on "Compute".
//!
//! Every map is a core [`MapJob`](crate::core::maps::MapJob) on its own thread (rayon on all cores):
//! the frame loop only polls it (`Update`, [`AppSystems::Maps`]) and uploads a texture when a new map
//! arrives. The side panel's "Maps" section is [`maps_section`].

pub mod basins;
pub mod escape;
pub mod sweep;

use bevy::prelude::*;
use bevy_egui::{EguiPrimaryContextPass, egui};

use crate::optimizers::Optimizer;
use crate::system_order::AppSystems;

pub use basins::BasinsLayer;
pub use escape::EscapePanel;
pub use sweep::SweepWindow;

pub use crate::system_order::PROGRESS_REDRAW;

/// The jobs and their results without egui: usable headless next to
/// [`crate::optimizers::simulation_plugin`].
pub fn headless_plugin(app: &mut App) {
    app.init_resource::<SweepWindow>()
        .init_resource::<BasinsLayer>()
        .init_resource::<EscapePanel>()
        .add_systems(
            Update,
            (
                sweep::poll_sweep.run_if(sweep::sweep_running),
                basins::drive_basins.run_if(basins::basins_active),
                escape::drive_escape.run_if(escape::escape_active),
            )
                .in_set(AppSystems::Maps),
        );
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(headless_plugin).add_systems(
        EguiPrimaryContextPass,
        (
            sweep::sweep_window
                .run_if(sweep::sweep_open)
                .in_set(AppSystems::UiWindows),
            basins::paint_basins
                .run_if(basins::basins_shown)
                .in_set(AppSystems::UiOverlays),
        ),
    );
}

/// The optimizer a map follows: `chosen` while it exists, else the first one of the scene.
pub fn target_optimizer<'a>(
    chosen: Option<Entity>,
    optimizers: impl Iterator<Item = (Entity, &'a Optimizer)>,
) -> Option<(Entity, &'a Optimizer)> {
    let mut first = None;
    for (entity, opt) in optimizers {
        if Some(entity) == chosen {
            return Some((entity, opt));
        }
        first.get_or_insert((entity, opt));
    }
    first
}

/// A combo box choosing one of `optimizers` (`(entity, name)`); `chosen` falls back to the first.
fn optimizer_combo(
    ui: &mut egui::Ui,
    id: &str,
    chosen: &mut Option<Entity>,
    optimizers: &[(Entity, String)],
) {
    let current = optimizers
        .iter()
        .find(|(e, _)| Some(*e) == *chosen)
        .or(optimizers.first());
    let text = current.map_or("(no optimizer)".to_owned(), |(_, n)| n.clone());
    egui::ComboBox::from_id_salt(id)
        .selected_text(text)
        .show_ui(ui, |ui| {
            for (entity, name) in optimizers {
                let selected = current.is_some_and(|(e, _)| e == entity);
                if ui.selectable_label(selected, name).clicked() {
                    *chosen = Some(*entity);
                }
            }
        });
}

/// The side panel's "Maps" section: open the sweep window; the basins layer on/off, its optimizer and
/// grid, its progress; the "Saddle escape" subsection. `optimizers` are the scene's, `(entity, name)`.
pub fn maps_section(
    ui: &mut egui::Ui,
    sweep: &mut SweepWindow,
    basins: &mut BasinsLayer,
    escape: &mut EscapePanel,
    optimizers: &[(Entity, String)],
) {
    ui.horizontal(|ui| {
        let label = if sweep.open {
            "Close sweep window"
        } else {
            "Sweep window…"
        };
        if ui
            .button(label)
            .on_hover_text("vary two hyperparameters over a grid and see where the runs work")
            .clicked()
        {
            sweep.open = !sweep.open;
        }
    });
    ui.checkbox(&mut basins.on, "Basins of attraction (top view)")
        .on_hover_text("colour every start by the minimum it reaches");
    if basins.on {
        basins_controls(ui, basins, optimizers);
    }
    egui::CollapsingHeader::new("Saddle escape")
        .default_open(false)
        .show(ui, |ui| escape::escape_section(ui, escape));
}

/// The basins layer's optimizer, grid, steps, opacity and progress.
fn basins_controls(ui: &mut egui::Ui, basins: &mut BasinsLayer, optimizers: &[(Entity, String)]) {
    ui.horizontal(|ui| {
        ui.label("optimizer");
        optimizer_combo(ui, "basins-optimizer", &mut basins.target, optimizers);
    });
    ui.horizontal(|ui| {
        ui.label("grid");
        ui.add(
            egui::DragValue::new(&mut basins.grid)
                .range(8..=basins::MAX_GRID)
                .suffix(" ²"),
        );
        ui.label("steps");
        ui.add(egui::DragValue::new(&mut basins.steps).range(1..=basins::MAX_STEPS));
    });
    ui.horizontal(|ui| {
        ui.label("opacity");
        ui.add(egui::Slider::new(&mut basins.opacity, 0.1..=1.0));
    });
    if let Some((done, total)) = basins.progress() {
        ui.add(
            egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                .desired_width(200.0)
                .text(format!("computing {done} of {total} starts")),
        );
    }
    if let Some(message) = &basins.message {
        ui.colored_label(egui::Color32::from_rgb(255, 120, 100), message);
    }
}
