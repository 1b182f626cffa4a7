//! The classroom: predict, then reveal (a question over the views, the class's guesses, the truth
//! played out and scored) and the live scoreboard of the runs (issue 18).
//!
//! - [`predict`]: predict mode's round, its keys, window, clicks on the top view and marks.
//! - [`scoreboard`]: every run's figures followed step by step; the panel's sortable table and CSV.
//! - [`claims`]: the lesson's claims checked on the runs on screen, the panel's "Watch for:" lines.
//! - [`vote`]: the whole class votes from their phones (issue 27): the server's round and tally, the
//!   window with the address, QR code and tally, the class's results over the rounds.

pub mod claims;
pub mod predict;
pub mod scoreboard;
pub mod vote;

use bevy::{ecs::system::SystemParam, input::common_conditions::input_just_pressed, prelude::*};
use bevy_egui::{EguiPrimaryContextPass, egui};

use crate::state::{CurrentScene, PredictMode, predicting};
use crate::system_order::AppSystems;
use crate::third_party::egui::{EguiKeyboard, keys_free};

pub use claims::ClaimBoard;
pub use predict::{Phase, PredictRequest, Round};
pub use scoreboard::{RunScore, Scores};
pub use vote::{ClassVote, ClassVoteRequest};

/// Predict mode and the scoreboard without rendering or input: the state, the requests, the reveal
/// playing the runs to the answer and the scores following the runs, so headless tests can drive them
/// with `MinimalPlugins` and the simulation.
pub fn headless_plugin(app: &mut App) {
    app.init_resource::<PredictMode>()
        .init_resource::<Round>()
        .init_resource::<Scores>()
        .init_resource::<ClaimBoard>()
        .init_resource::<CurrentScene>()
        .init_resource::<ClassVote>()
        .add_message::<PredictRequest>()
        .add_message::<ClassVoteRequest>()
        .add_systems(
            Update,
            (
                predict::new_round_for_new_scene.run_if(resource_changed::<CurrentScene>),
                predict::handle_requests,
                predict::finish_reveal,
                vote::handle_vote_requests,
                (vote::publish_round, vote::take_updates).run_if(vote::voting),
            )
                .chain()
                .in_set(AppSystems::Restart),
        )
        .add_systems(
            FixedUpdate,
            (
                predict::play_to_answer.in_set(AppSystems::PlayReveal),
                (scoreboard::track_scores, claims::watch_claims)
                    .chain()
                    .in_set(AppSystems::Score),
            ),
        );
}

/// Q, and in predict mode 1–9, W and Enter, next to [`headless_plugin`] (no window needed).
pub fn keys_plugin(app: &mut App) {
    app.init_resource::<EguiKeyboard>().add_systems(
        Update,
        predict::predict_keys
            .run_if(keys_free)
            .in_set(AppSystems::Input),
    );
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins((headless_plugin, keys_plugin))
        .add_systems(
            Update,
            predict::place_by_click
                .run_if(predicting.and_then(input_just_pressed(MouseButton::Left)))
                .in_set(AppSystems::Pointer),
        )
        .add_systems(
            EguiPrimaryContextPass,
            (
                predict::predict_window
                    .run_if(predicting)
                    .in_set(AppSystems::UiWindows),
                vote::class_vote_window
                    .run_if(vote::voting)
                    .in_set(AppSystems::UiWindows),
                predict::paint_guesses
                    .run_if(predicting)
                    .in_set(AppSystems::UiReadouts),
                vote::paint_class_points
                    .run_if(vote::voting.and_then(predicting))
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
    claims: Res<'w, ClaimBoard>,
    vote: ResMut<'w, ClassVote>,
    vote_requests: MessageWriter<'w, ClassVoteRequest>,
}

/// The lesson's "Watch for:" lines (its claims, ticked as they come true), under its description.
pub fn watch_for(ui: &mut egui::Ui, p: &ClassroomPanel) {
    claims::watch_for(ui, &p.claims, p.mode.on);
}

/// The panel's "Predict, then reveal" and "Scoreboard" sections for the scene on screen (`current`, which
/// the panel itself holds).
pub fn panel_sections(ui: &mut egui::Ui, p: &mut ClassroomPanel, current: &CurrentScene) {
    egui::CollapsingHeader::new("Predict, then reveal")
        .default_open(true)
        .show(ui, |ui| {
            predict::panel_section(ui, p.mode.on, current.question.as_ref(), &mut p.requests);
            vote::panel_controls(ui, &p.vote, &mut p.vote_requests);
        });
    egui::CollapsingHeader::new("Scoreboard")
        .default_open(true)
        .show(ui, |ui| {
            let board = scoreboard::board(p.rows.iter(), &p.scores);
            scoreboard::scoreboard_section(ui, &mut p.scores, &board, current);
            vote::record_section(ui, &mut p.vote, current);
        });
    ui.separator();
}
