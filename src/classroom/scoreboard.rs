//! The scoreboard, live: every optimizer's run carries a tracker (the core's [`ScoreTracker`], the
//! figures `losscape compare` prints) that every step it takes feeds, so that every step is counted
//! even when the history keeps only every n-th row; each optimizer's [`RunScore`] is the row the panel
//! shows, in a sortable table that exports to CSV.
//!
//! A tracker follows one generation of its run: after a restart, a new start, kind or landscape, or a
//! timeline branch, a new one is replayed from the start (with the live hyperparameter changes at the
//! steps they were made) to where the run now stands.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::egui;

use crate::core::scoreboard::{ScoreColumn, ScoreRow, ScoreSettings, Scoreboard, SortOrder};
use crate::optimizers::Optimizer;
use crate::state::CurrentScene;

/// One optimizer's figures so far, as the table shows them (the tracker behind them is the
/// optimizer's own: [`Optimizer::tracker`]).
#[derive(Component, Clone, Debug, PartialEq)]
pub struct RunScore {
    /// The row the table shows.
    pub row: ScoreRow,
}

/// The scoreboard's settings and the panel's state for it.
#[derive(Resource, Debug, Clone, Default)]
pub struct Scores {
    /// What 'at the minimum' and 'near a saddle' mean (the command line's defaults).
    pub settings: ScoreSettings,
    /// The column the table is sorted by, and which way; `None`: the panel's order.
    pub sort: Option<(ScoreColumn, SortOrder)>,
    /// Where "Export CSV" writes; empty: `losscape-<scene>-scores.csv` in the current directory.
    pub path: String,
    /// The last export's result: (ok, text).
    pub message: Option<(bool, String)>,
}

/// After the optimizers stepped: every run's row shows its tracker's figures. A run without a tracker
/// that fits (a new optimizer, a new generation of its run, other score settings or claims) gets one,
/// replayed from its start to where it stands; from then on every step the run takes feeds it.
pub fn track_scores(
    mut commands: Commands,
    scores: Res<Scores>,
    current: Res<CurrentScene>,
    mut optimizers: Query<(Entity, &mut Optimizer, Option<&mut RunScore>)>,
) {
    let kept = crate::core::claims::budgets(&current.claims);
    for (entity, mut optimizer, score) in &mut optimizers {
        let fits = optimizer.tracker().is_some_and(|t| {
            t.settings() == &scores.settings && t.kept_steps().eq(kept.iter().copied())
        });
        if !fits {
            match optimizer.replayed_tracker(scores.settings, &kept) {
                Ok(tracker) => optimizer.attach_tracker(tracker),
                Err(e) => {
                    warn!("{}: no score: {e}", optimizer.spec.name);
                    continue;
                }
            }
        }
        let Some(tracker) = optimizer.tracker() else {
            continue;
        };
        let (spec, figures) = (&optimizer.spec, tracker.score());
        let shown = score.as_ref().is_some_and(|s| {
            s.row.score == *figures && s.row.kind == spec.kind && s.row.name == spec.name
        });
        if shown {
            continue;
        }
        // a row is built (its name copied) only when something in it changed
        let row = ScoreRow {
            name: spec.name.clone(),
            kind: spec.kind,
            score: *figures,
        };
        match score {
            Some(mut score) => score.row = row,
            None => {
                commands.entity(entity).insert(RunScore { row });
            }
        }
    }
}

/// The table as shown: the rows in the panel's order, sorted if a column was clicked.
pub fn board<'a>(rows: impl Iterator<Item = &'a RunScore>, scores: &Scores) -> Scoreboard {
    let mut board = Scoreboard {
        rows: rows.map(|s| s.row.clone()).collect(),
    };
    if let Some((column, order)) = scores.sort {
        board.sort(column, order);
    }
    board
}

/// The file "Export CSV" writes when no path was typed.
pub fn default_csv_path(current: &CurrentScene) -> PathBuf {
    let name = current
        .preset
        .clone()
        .unwrap_or_else(|| current.title.clone());
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug: Vec<&str> = slug.split('-').filter(|s| !s.is_empty()).collect();
    let slug = if slug.is_empty() {
        "scene".to_string()
    } else {
        slug.join("-")
    };
    PathBuf::from(format!("losscape-{slug}-scores.csv"))
}

/// The table's order after a click on `column`'s header: sorted by it, smallest (best) first; a second
/// click reverses it.
pub fn clicked_sort(
    sort: Option<(ScoreColumn, SortOrder)>,
    column: ScoreColumn,
) -> (ScoreColumn, SortOrder) {
    match sort {
        Some((c, SortOrder::Ascending)) if c == column => (column, SortOrder::Descending),
        _ => (column, SortOrder::Ascending),
    }
}

/// Where an export goes: the path typed, or `default` when nothing is.
pub fn export_target(typed: &str, default: PathBuf) -> PathBuf {
    let typed = typed.trim();
    if typed.is_empty() {
        default
    } else {
        PathBuf::from(typed)
    }
}

/// Writes `csv` to `path`; the message says where, or why not.
pub fn export_csv(csv: &str, path: &std::path::Path) -> (bool, String) {
    match std::fs::write(path, csv) {
        Ok(()) => (true, format!("saved {}", path.display())),
        Err(e) => (
            false,
            format!("could not write {}: {e}; pick another path", path.display()),
        ),
    }
}

/// A CSV export under a table: the path typed (hinted with `default`, used when nothing is typed),
/// the button, and the last export's result.
pub fn export_row(
    ui: &mut egui::Ui,
    button: &str,
    path: &mut String,
    default: PathBuf,
    message: &mut Option<(bool, String)>,
    csv: impl FnOnce() -> String,
) {
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(path)
                .hint_text(default.display().to_string())
                .desired_width(180.0),
        );
        if ui.button(button).clicked() {
            *message = Some(export_csv(&csv(), &export_target(path, default)));
        }
    });
    if let Some((ok, text)) = message {
        let color = if *ok {
            ui.visuals().text_color()
        } else {
            ui.visuals().error_fg_color
        };
        ui.colored_label(color, text.as_str());
    }
}

/// The panel's "Scoreboard" section: the table (click a header to sort, again to reverse; hover it for
/// its definition) and the CSV export.
pub fn scoreboard_section(
    ui: &mut egui::Ui,
    scores: &mut Scores,
    board: &Scoreboard,
    current: &CurrentScene,
) {
    egui::ScrollArea::horizontal()
        .id_salt("scoreboard-scroll")
        .show(ui, |ui| {
            egui::Grid::new("scoreboard")
                .striped(true)
                .spacing([10.0, 4.0])
                .show(ui, |ui| {
                    let columns = board.columns();
                    for &column in &columns {
                        let arrow = match scores.sort {
                            Some((c, SortOrder::Ascending)) if c == column => " ↑",
                            Some((c, SortOrder::Descending)) if c == column => " ↓",
                            _ => "",
                        };
                        let header =
                            egui::RichText::new(format!("{}{arrow}", column.label())).strong();
                        let clicked = ui
                            .add(egui::Button::new(header).frame(false))
                            .on_hover_text(column.help())
                            .clicked();
                        if clicked {
                            scores.sort = Some(clicked_sort(scores.sort, column));
                        }
                    }
                    ui.end_row();
                    for row in &board.rows {
                        for &column in &columns {
                            ui.label(row.cell(column));
                        }
                        ui.end_row();
                    }
                });
        });
    export_row(
        ui,
        "Export CSV",
        &mut scores.path,
        default_csv_path(current),
        &mut scores.message,
        || board.to_csv(),
    );
    if scores.sort.is_some() && ui.small_button("panel order").clicked() {
        scores.sort = None;
    }
}
