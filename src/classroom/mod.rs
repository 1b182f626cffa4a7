//! The classroom: predict, then reveal (a question over the views, the class's guesses, the truth
//! played out and scored) and the live scoreboard of the runs (issue 18).
//!
//! - [`predict`]: predict mode's round, its keys, window, clicks on the top view and marks.
//! - [`scoreboard`]: every run's figures followed step by step; the panel's sortable table and CSV.

pub mod predict;
pub mod scoreboard;

use bevy::{ecs::system::SystemParam, input::common_conditions::input_just_pressed, prelude::*};
use bevy_egui::{EguiPrimaryContextPass, egui};

use crate::state::{CurrentScene, PredictMode, predicting};
use crate::system_order::AppSystems;
use crate::third_party::egui::keys_free;

pub use predict::{Phase, PredictRequest, Round};
pub use scoreboard::{RunScore, Scores};

/// Predict mode and the scoreboard without rendering or input: the state, the requests, the reveal
/// playing the runs to the answer and the scores following the runs, so headless tests can drive them
/// with `MinimalPlugins` and the simulation.
pub fn headless_plugin(app: &mut App) {
    app.init_resource::<PredictMode>()
        .init_resource::<Round>()
        .init_resource::<Scores>()
        .init_resource::<CurrentScene>()
        .add_message::<PredictRequest>()
        .add_systems(
            Update,
            (
                predict::new_round_for_new_scene.run_if(resource_changed::<CurrentScene>),
                predict::handle_requests,
                predict::finish_reveal,
            )
                .chain()
                .in_set(AppSystems::Restart),
        )
        .add_systems(
            FixedUpdate,
            (
                predict::play_to_answer.in_set(AppSystems::PlayReveal),
                scoreboard::track_scores.in_set(AppSystems::Score),
            ),
        );
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(headless_plugin)
        .add_systems(
            Update,
            (
                predict::predict_keys
                    .run_if(keys_free)
                    .in_set(AppSystems::Input),
                predict::place_by_click
                    .run_if(predicting.and_then(input_just_pressed(MouseButton::Left)))
                    .in_set(AppSystems::Pointer),
            ),
        )
        .add_systems(
            EguiPrimaryContextPass,
            (
                predict::predict_window
                    .run_if(predicting)
                    .in_set(AppSystems::UiWindows),
                predict::paint_guesses
                    .run_if(predicting)
                    .in_set(AppSystems::UiReadouts),
            ),
        );
}

/// What the panel's classroom sections read and edit.
#[derive(SystemParam)]
pub struct ClassroomPanel<'w, 's> {
    mode: Res<'w, PredictMode>,
    scores: ResMut<'w, Scores>,
    rows: Query<'w, 's, &'static RunScore>,
    requests: MessageWriter<'w, PredictRequest>,
}

/// The panel's "Predict, then reveal" and "Scoreboard" sections for the scene on screen (`current`, which
/// the panel itself holds).
pub fn panel_sections(ui: &mut egui::Ui, p: &mut ClassroomPanel, current: &CurrentScene) {
    egui::CollapsingHeader::new("Predict, then reveal")
        .default_open(true)
        .show(ui, |ui| {
            predict::panel_section(ui, p.mode.on, current.question.as_ref(), &mut p.requests)
        });
    egui::CollapsingHeader::new("Scoreboard")
        .default_open(true)
        .show(ui, |ui| {
            let board = scoreboard::board(p.rows.iter(), &p.scores);
            scoreboard::scoreboard_section(ui, &mut p.scores, &board, current);
        });
    ui.separator();
}
