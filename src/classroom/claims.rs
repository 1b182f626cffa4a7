//! The lesson's claims, live: each statement the description makes ("watch for: plain GD lingers at the
//! saddle ...") is checked on the runs on screen as they play (the core's [`live_claims`] over the
//! scoreboard's trackers) and ticked the moment it comes true. A claim that the runs on screen make
//! false is marked, and when the teacher or a student changed the setup (a dragged start, another η)
//! the mark says so: that is a teaching moment, not an error. In predict mode the lines wait for the
//! reveal, since they would give the answer away.

use bevy::prelude::*;
use bevy_egui::egui;

use crate::core::claims::{ClaimVerdict, LiveClaim, live_claims};
use crate::core::scene::OptimizerSpec;
use crate::optimizers::Optimizer;
use crate::state::{ActiveLandscape, CurrentScene};

use super::RunScore;

/// The lesson's claims as they stand on screen.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct ClaimBoard {
    /// One line per claim, in the scene's order.
    pub lines: Vec<LiveClaim>,
    /// Whether the landscape or an optimizer differs from the scene's own setup (its start, kind,
    /// hyperparameters, noise or seed), or optimizers were added or removed.
    pub changed_setup: bool,
}

/// Whether `specs` (the optimizers on screen) differ from the scene's `setup` in anything that moves a
/// run (the name, colour and visibility do not).
fn setup_changed(setup: &[OptimizerSpec], specs: &[&OptimizerSpec]) -> bool {
    setup.len() != specs.len()
        || setup.iter().any(|s| {
            !specs.iter().any(|o| {
                o.name == s.name
                    && o.kind == s.kind
                    && o.hyper == s.hyper
                    && o.noise == s.noise
                    && o.seed == s.seed
                    && o.start == s.start
            })
        })
}

/// After the scores followed the steps: every claim checked on the runs on screen.
pub fn watch_claims(
    current: Res<CurrentScene>,
    landscape: Res<ActiveLandscape>,
    runs: Query<(&Optimizer, &RunScore)>,
    mut board: ResMut<ClaimBoard>,
) {
    if current.claims.is_empty() {
        if !board.lines.is_empty() {
            *board = ClaimBoard::default();
        }
        return;
    }
    let view: Vec<(String, &crate::core::ScoreTracker, bool)> = runs
        .iter()
        .filter_map(|(o, _)| Some((o.spec.name.clone(), o.tracker()?, o.is_running())))
        .collect();
    let specs: Vec<&OptimizerSpec> = runs.iter().map(|(o, _)| &o.spec).collect();
    let changed_setup = match &current.setup {
        Some((spec, setup)) => landscape.0.spec() != spec || setup_changed(setup, &specs),
        None => false,
    };
    let fresh = ClaimBoard {
        lines: live_claims(&current.claims, &view),
        changed_setup,
    };
    // only a real change marks the resource changed (the panel redraws on it)
    board.set_if_neq(fresh);
}

/// The "Watch for:" lines under the lesson's description: ✔ when a claim has come true on screen,
/// × when the runs on screen made it false (with the reason), ○ while it is still open. Hidden while
/// the class predicts.
pub fn watch_for(ui: &mut egui::Ui, board: &ClaimBoard, predicting: bool) {
    if board.lines.is_empty() {
        return;
    }
    ui.add_space(4.0);
    if predicting {
        ui.weak("Watch for: shown after the reveal (it would give the answer away).");
        return;
    }
    ui.strong("Watch for:");
    let visuals = ui.visuals().clone();
    let good = if visuals.dark_mode {
        egui::Color32::from_rgb(110, 220, 110)
    } else {
        egui::Color32::from_rgb(20, 120, 20)
    };
    for line in &board.lines {
        let (mark, color, note) = match &line.verdict {
            Ok(ClaimVerdict::True) => ("✔", good, None),
            Ok(ClaimVerdict::Open) => ("○", visuals.text_color(), None),
            Ok(ClaimVerdict::False) => {
                let note = if board.changed_setup {
                    "not with the setup on screen: you changed it (what changed made the difference?)"
                        .to_owned()
                } else if let Some((at_least, of)) = line.seeds {
                    format!(
                        "not in this run: it holds in at least {at_least} of {of} seeds; try another seed"
                    )
                } else {
                    "not in this run".to_owned()
                };
                ("×", visuals.warn_fg_color, Some(note))
            }
            Err(e) => (
                "?",
                visuals.weak_text_color(),
                Some(format!("cannot be checked here: {}", e.message)),
            ),
        };
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(color, mark);
            let text = match line.seeds {
                Some((at_least, of)) => format!("{} (in {at_least} of {of} seeds)", line.say),
                None => line.say.clone(),
            };
            ui.label(egui::RichText::new(text).color(color))
                .on_hover_text(format!("checked as: {}", line.check));
        });
        if let Some(note) = note {
            ui.indent("claim-note", |ui| {
                ui.label(egui::RichText::new(note).small().color(color));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::OptimizerKind;

    #[test]
    fn only_what_moves_a_run_changes_the_setup() {
        let spec = OptimizerSpec::with_defaults(OptimizerKind::Adam, 0, [0.5, 0.5]);
        let setup = vec![spec.clone()];
        let mut recoloured = spec.clone();
        recoloured.color = [0.0, 0.0, 0.0];
        assert!(!setup_changed(&setup, &[&recoloured]));
        let mut moved = spec.clone();
        moved.start = [0.4, 0.5];
        assert!(setup_changed(&setup, &[&moved]));
        let mut faster = spec.clone();
        faster.hyper.lr *= 2.0;
        assert!(setup_changed(&setup, &[&faster]));
        assert!(setup_changed(&setup, &[&spec, &spec]));
    }
}
