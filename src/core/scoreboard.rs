//! The scoreboard: one row of figures per optimizer of a scene (steps to the target, final loss, path
//! length, steps near a saddle, divergence), kept up to date step by step, sortable by any column and
//! exportable as CSV.
//!
//! A [`ScoreTracker`] follows one run in constant memory: it is fed every row as the run takes it
//! ([`ScoreTracker::push`], or [`ScoreTracker::step`] which steps a [`Runner`] and feeds itself) and
//! never looks back, because the app's [`super::History`] thins old rows. Restarting a run means
//! [`ScoreTracker::reset`]. [`score_scene`] runs a whole scene headless (`losscape compare`, and the
//! truth behind predict mode).
//!
//! The definitions, in words the panel can show, are in [`DEFINITIONS`].

use std::cmp::Ordering;
use std::io::{self, Write};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::error::CoreError;
use super::landscape::{Landscape, Vec2d, norm};
use super::optimizer::OptimizerKind;
use super::run::SceneRun;
use super::scene::Scene;
use super::simulation::{RunConfig, RunStatus, Runner, StepRecord};

/// What the columns mean, for the panel (a hover text or a help line) and docs/cli.md.
pub const DEFINITIONS: &str = "\
to target: the first step at which the run is within the loss tolerance of the lowest known minimum \
(loss <= min + tol), or within the radius of a known minimum (1% of the domain's diagonal by default); \
'never' when it has not happened, or when the landscape lists no minimum.\n\
final loss: the loss where the run is now.\n\
path: the length of the path walked in the (x, y) plane, the sum of every step's length.\n\
saddle steps: steps that ended near a saddle: the gradient is small (|grad L| < 0.1 by default) and the \
surface curves up in one direction and down in the other (the Hessian is indefinite, det H < 0). The \
curved-down rim of a plateau counts too; a minimum never does.\n\
diverged: the step that was refused because the run blew up (left |x|, |y| <= 1e6, or the numbers \
became infinite).";

/// How the scoreboard decides 'at the minimum' and 'near a saddle'.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreSettings {
    /// The target is reached when `loss <= lowest known minimum's loss + loss_tol` (`>= 0`).
    pub loss_tol: f64,
    /// ... or when the run is within this distance (param units) of a known minimum; `None`: 1% of the
    /// diagonal of the landscape's domain.
    pub radius: Option<f64>,
    /// A step ends near a saddle when `|grad L| < saddle_grad` there and the Hessian is indefinite.
    pub saddle_grad: f64,
    /// On a network, the target is reached when the accuracy over all the data is at least this
    /// (0 ..= 1).
    #[serde(default = "default_accuracy_target")]
    pub accuracy_target: f64,
}

fn default_accuracy_target() -> f64 {
    0.95
}

impl Default for ScoreSettings {
    fn default() -> Self {
        Self {
            loss_tol: 1e-3,
            radius: None,
            accuracy_target: default_accuracy_target(),
            saddle_grad: 0.1,
        }
    }
}

impl ScoreSettings {
    /// Refuses negative or non-finite values; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        let check = |value: f64, name: &str| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be a finite number >= 0, got {}",
                    super::number::num(value)
                ))
            }
        };
        check(self.loss_tol, "loss tolerance")?;
        if let Some(radius) = self.radius {
            check(radius, "radius")?;
        }
        check(self.saddle_grad, "saddle gradient threshold")?;
        if !(0.0..=1.0).contains(&self.accuracy_target) {
            return Err(format!(
                "the accuracy target must be 0 to 1, got {}",
                self.accuracy_target
            ));
        }
        Ok(())
    }
}

/// The neighbourhood of the known minima on one landscape, resolved from [`ScoreSettings`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    /// The lowest loss among the landscape's known minima (`None` if it lists none).
    pub min_loss: Option<f64>,
    /// Loss tolerance above `min_loss`.
    pub loss_tol: f64,
    /// Distance to a known minimum that counts as there (param units).
    pub radius: f64,
}

impl Target {
    /// The target on `landscape` under `settings`.
    pub fn new(landscape: &Landscape, settings: &ScoreSettings) -> Self {
        let min_loss = landscape
            .minima()
            .iter()
            .map(|&m| landscape.value(m))
            .filter(|v| v.is_finite())
            .min_by(f64::total_cmp);
        let d = landscape.domain();
        Self {
            min_loss,
            loss_tol: settings.loss_tol,
            radius: settings
                .radius
                .unwrap_or(0.01 * d.width().hypot(d.height())),
        }
    }

    /// Whether a run at `pos` with loss `loss` has reached the target.
    pub fn reached(&self, landscape: &Landscape, pos: Vec2d, loss: f64) -> bool {
        self.min_loss.is_some_and(|min| loss <= min + self.loss_tol)
            || landscape
                .nearest_minimum(pos)
                .is_some_and(|(_, d)| d <= self.radius)
    }
}

/// Whether `pos` (where the exact gradient is `grad`) is near a saddle: `|grad| < saddle_grad` and the
/// exact Hessian ([`Landscape::hessian`]) is indefinite (`det H < 0`). The Hessian is only computed when
/// the gradient is small.
pub fn near_saddle(landscape: &Landscape, pos: Vec2d, grad: Vec2d, saddle_grad: f64) -> bool {
    // (a NaN gradient is not small)
    let small = norm(grad) < saddle_grad;
    if !small {
        return false;
    }
    let h = landscape.hessian(pos);
    let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
    det.is_finite() && det < 0.0
}

/// One run's figures so far.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Steps taken.
    pub steps: u64,
    /// Loss evaluations so far ([`StepRecord::evals`]: a line search costs one per trial point).
    #[serde(default)]
    pub evals: u64,
    /// The first step at which the run was at the [`Target`] (0: it started there).
    pub steps_to_target: Option<u64>,
    /// The loss at the run's position now.
    pub final_loss: f64,
    /// The position now (param space).
    pub final_pos: Vec2d,
    /// Sum of the Euclidean lengths of every step, in param units.
    pub path_length: f64,
    /// Steps (1 ..= `steps`) that ended near a saddle, see [`near_saddle`].
    pub saddle_steps: u64,
    /// The longest single step so far, in param units (0 before the first).
    #[serde(default)]
    pub max_step: f64,
    /// On a network: the accuracy over all the data now (`None` on a landscape).
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// The refused step's number if the run diverged.
    pub diverged_at: Option<u64>,
    /// The step at which the gradient norm fell below the run's tolerance, if it converged.
    pub converged_at: Option<u64>,
}

impl Score {
    /// The figures of a run standing at `start` after `steps` steps (nothing walked, no target yet),
    /// with a network's `accuracy` there.
    fn at_start(start: &StepRecord, steps: u64, accuracy: Option<f64>) -> Self {
        Self {
            steps,
            evals: start.evals,
            steps_to_target: None,
            final_loss: start.loss,
            final_pos: start.pos,
            path_length: 0.0,
            saddle_steps: 0,
            max_step: 0.0,
            accuracy,
            diverged_at: None,
            converged_at: None,
        }
    }
}

/// Follows one run step by step, in constant memory (nothing of the path is stored).
#[derive(Clone, Debug)]
pub struct ScoreTracker {
    settings: ScoreSettings,
    target: Target,
    score: Score,
    /// Steps at which the score is kept as it was (a claim's budget), with the score once reached.
    checkpoints: Vec<(u64, Option<Score>)>,
}

impl ScoreTracker {
    /// A tracker for a run on `landscape` that starts at `start` (its step-0 row).
    pub fn new(landscape: &Landscape, settings: ScoreSettings, start: &StepRecord) -> Self {
        let mut tracker = Self {
            settings,
            target: Target::new(landscape, &settings),
            score: Score::at_start(start, 0, None),
            checkpoints: Vec::new(),
        };
        tracker.reset(landscape, start);
        tracker
    }

    /// Also keeps the score as it stands after each of `steps` steps (the budgets of a lesson's claims),
    /// so that a run that goes on past them can still be judged there. Forgets any kept before.
    pub fn keep_at(&mut self, steps: &[u64]) {
        let mut steps = steps.to_vec();
        steps.sort_unstable();
        steps.dedup();
        self.checkpoints = steps.into_iter().map(|k| (k, None)).collect();
        self.fill_checkpoints();
    }

    /// The score after `step` steps, if it is kept ([`Self::keep_at`]) and the run got there.
    pub fn at(&self, step: u64) -> Option<&Score> {
        self.checkpoints
            .iter()
            .find(|(k, _)| *k == step)
            .and_then(|(_, s)| s.as_ref())
    }

    /// The steps whose score is kept.
    pub fn kept_steps(&self) -> impl Iterator<Item = u64> + '_ {
        self.checkpoints.iter().map(|(k, _)| *k)
    }

    fn fill_checkpoints(&mut self) {
        let score = self.score;
        for (k, kept) in &mut self.checkpoints {
            if kept.is_none() && score.steps >= *k {
                *kept = Some(score);
            }
        }
    }

    /// A tracker for `runner` as it stands (normally at its start: what it did before is not known).
    pub fn for_runner<L: Deref<Target = Landscape>>(
        runner: &Runner<L>,
        settings: ScoreSettings,
    ) -> Self {
        let mut tracker = Self::new(runner.landscape(), settings, &runner.record());
        tracker.set_status(runner.status());
        tracker
    }

    /// Back to a run at `start` (a restart, a new start point, a new landscape or new settings).
    pub fn reset(&mut self, landscape: &Landscape, start: &StepRecord) {
        self.target = Target::new(landscape, &self.settings);
        self.score = Score {
            steps: start.step,
            evals: start.evals,
            steps_to_target: self
                .target
                .reached(landscape, start.pos, start.loss)
                .then_some(start.step),
            final_loss: start.loss,
            final_pos: start.pos,
            path_length: 0.0,
            saddle_steps: 0,
            max_step: 0.0,
            accuracy: None,
            diverged_at: None,
            converged_at: None,
        };
        for (_, kept) in &mut self.checkpoints {
            *kept = None;
        }
        self.fill_checkpoints();
    }

    /// Changes the settings and resets to `start`.
    pub fn set_settings(
        &mut self,
        landscape: &Landscape,
        settings: ScoreSettings,
        start: &StepRecord,
    ) {
        self.settings = settings;
        self.reset(landscape, start);
    }

    /// Feeds the row the run just took (from [`Runner::step`]: its `grad` is the exact gradient). O(1).
    /// Rows are expected one step at a time; a row that skips steps counts as one straight segment, and a
    /// row not after the last one is ignored (returns `false`).
    pub fn push(&mut self, landscape: &Landscape, row: &StepRecord) -> bool {
        let s = &mut self.score;
        if row.step <= s.steps {
            return false;
        }
        let length = (row.pos[0] - s.final_pos[0]).hypot(row.pos[1] - s.final_pos[1]);
        s.path_length += length;
        s.max_step = s.max_step.max(length);
        s.steps = row.step;
        s.evals = row.evals;
        s.final_pos = row.pos;
        s.final_loss = row.loss;
        if s.steps_to_target.is_none() && self.target.reached(landscape, row.pos, row.loss) {
            s.steps_to_target = Some(row.step);
        }
        if near_saddle(landscape, row.pos, row.grad, self.settings.saddle_grad) {
            s.saddle_steps += 1;
        }
        self.fill_checkpoints();
        true
    }

    /// Notes how the run stands (a divergence or convergence is recorded with its step).
    pub fn set_status(&mut self, status: RunStatus) {
        match status {
            RunStatus::Running => {}
            RunStatus::Converged { step } => self.score.converged_at = Some(step),
            RunStatus::Diverged { step, .. } => self.score.diverged_at = Some(step),
        }
        // a score kept at this very step learns how the run stands there
        let score = self.score;
        for (_, kept) in &mut self.checkpoints {
            if kept.is_some_and(|k| k.steps == score.steps) {
                *kept = Some(score);
            }
        }
    }

    /// A tracker for a scene's `run` as it stands (normally at its start). On a network the target is
    /// the accuracy target, path and steps are measured over every weight, and no step counts as near
    /// a saddle (that needs the network's Hessian).
    pub fn for_run(run: &SceneRun, settings: ScoreSettings) -> Self {
        match run {
            SceneRun::Surface(runner) => Self::for_runner(runner, settings),
            SceneRun::Network(n) => {
                let start = n.view_record();
                let mut tracker = Self {
                    settings,
                    target: Target {
                        min_loss: None,
                        loss_tol: settings.loss_tol,
                        radius: 0.0,
                    },
                    score: Score::at_start(&start, start.step, n.runner().accuracy()),
                    checkpoints: Vec::new(),
                };
                tracker.score.steps_to_target = tracker
                    .accurate_enough(tracker.score.accuracy)
                    .then_some(start.step);
                tracker.set_status(run.status());
                tracker
            }
        }
    }

    fn accurate_enough(&self, accuracy: Option<f64>) -> bool {
        accuracy.is_some_and(|a| a >= self.settings.accuracy_target)
    }

    /// Steps a scene's `run` once and feeds what happened (see [`Self::for_run`]).
    pub fn step_run(&mut self, run: &mut SceneRun) -> Option<StepRecord> {
        let row = run.step();
        if let Some(row) = &row {
            self.observe(run, row);
        }
        self.set_status(run.status());
        row
    }

    /// Feeds the step `run` has just taken (`row`, its new row): what [`Self::step_run`] does after
    /// stepping, for a run stepped elsewhere (the app's own runs, so that the scoreboard needs no copy
    /// of them).
    pub fn observe(&mut self, run: &SceneRun, row: &StepRecord) {
        match run {
            SceneRun::Surface(runner) => {
                self.push(runner.landscape(), row);
            }
            SceneRun::Network(n) => {
                let length = n
                    .runner()
                    .last_detail()
                    .map_or(0.0, |d| d.step.iter().map(|x| x * x).sum::<f64>().sqrt());
                let s = &mut self.score;
                s.steps = row.step;
                s.evals = row.evals;
                s.final_pos = row.pos;
                s.final_loss = row.loss;
                s.path_length += length;
                s.max_step = s.max_step.max(length);
                s.accuracy = n.runner().accuracy();
                let accuracy = s.accuracy;
                if self.score.steps_to_target.is_none() && self.accurate_enough(accuracy) {
                    self.score.steps_to_target = Some(row.step);
                }
                self.fill_checkpoints();
            }
        }
    }

    /// Steps `runner` once and feeds what happened: what the app calls instead of `runner.step()`.
    pub fn step<L: Deref<Target = Landscape>>(
        &mut self,
        runner: &mut Runner<L>,
    ) -> Option<StepRecord> {
        let row = runner.step();
        if let Some(row) = &row {
            self.push(runner.landscape(), row);
        }
        self.set_status(runner.status());
        row
    }

    /// A tracker as it stands after `steps` steps of a fresh run of `config` (fewer if the run stops):
    /// what to continue feeding after the timeline was rewound and the run branched at `steps` (a run is
    /// deterministic, so the replay matches, as long as no hyperparameter was changed mid-run).
    pub fn replayed(
        landscape: &Landscape,
        config: &RunConfig,
        settings: ScoreSettings,
        steps: u64,
    ) -> Result<Self, CoreError> {
        let mut runner = Runner::new(landscape, *config)?;
        let mut tracker = Self::for_runner(&runner, settings);
        for _ in 0..steps {
            if tracker.step(&mut runner).is_none() {
                break;
            }
        }
        Ok(tracker)
    }

    /// The figures so far.
    pub fn score(&self) -> &Score {
        &self.score
    }

    /// The target it measures against.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Its settings.
    pub fn settings(&self) -> &ScoreSettings {
        &self.settings
    }
}

/// A column of the scoreboard, and a key to sort it by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScoreColumn {
    /// The optimizer's name (alphabetical).
    Optimizer,
    /// Steps taken.
    Steps,
    /// Loss evaluations (a line search costs one per trial point).
    Evals,
    /// Steps to the target; never reached sorts last.
    ToTarget,
    /// Final loss.
    FinalLoss,
    /// Path length.
    PathLength,
    /// A network's accuracy over all its data now (empty on a landscape).
    Accuracy,
    /// Steps near a saddle.
    SaddleSteps,
    /// Not diverged first, then by the step it diverged at.
    Diverged,
}

impl ScoreColumn {
    /// Every column, in table order.
    pub const ALL: [ScoreColumn; 9] = [
        Self::Optimizer,
        Self::Steps,
        Self::Evals,
        Self::ToTarget,
        Self::FinalLoss,
        Self::PathLength,
        Self::Accuracy,
        Self::SaddleSteps,
        Self::Diverged,
    ];

    /// The command-line names (`--sort`), in [`Self::ALL`] order.
    pub const NAMES: [&str; 9] = [
        "optimizer",
        "steps",
        "evals",
        "to-target",
        "final-loss",
        "path",
        "accuracy",
        "saddle-steps",
        "diverged",
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The column called `name` (one of [`Self::NAMES`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The heading in the panel and the text table.
    pub fn label(self) -> &'static str {
        match self {
            Self::Optimizer => "optimizer",
            Self::Steps => "steps",
            Self::Evals => "evals",
            Self::ToTarget => "to target",
            Self::FinalLoss => "final loss",
            Self::PathLength => "path",
            Self::Accuracy => "accuracy",
            Self::SaddleSteps => "saddle steps",
            Self::Diverged => "diverged",
        }
    }

    /// One line explaining it (a hover text).
    pub fn help(self) -> &'static str {
        match self {
            Self::Optimizer => "the optimizer's name in the scene",
            Self::Steps => "steps taken so far",
            Self::Evals => {
                "loss evaluations so far: 1 at the start and 1 a step, or with a line search one per trial step (BFGS, L-BFGS, CG, and SGD or Newton with backtracking)"
            }
            Self::ToTarget => {
                "first step within the loss tolerance of the lowest known minimum, or within the radius of a known minimum; on a network, first step whose accuracy over all the data reaches the target (95% by default)"
            }
            Self::FinalLoss => {
                "the loss where the run is now (a network's: the mean cross-entropy over all its data)"
            }
            Self::PathLength => {
                "length of the path walked in the (x, y) plane; on a network, in weight space (every weight)"
            }
            Self::Accuracy => "a network's share of its data points classified right, now",
            Self::SaddleSteps => {
                "steps that ended where the gradient is small and the surface curves up one way and down the other"
            }
            Self::Diverged => "the step at which the run blew up, if it did",
        }
    }
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortOrder {
    /// Smallest first (best first for every column but the name).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// One optimizer's row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    /// Its name in the scene.
    pub name: String,
    /// Its update rule.
    pub kind: OptimizerKind,
    /// Its figures.
    pub score: Score,
}

impl ScoreRow {
    /// The text of `column` in this row, as the table and the panel show it (`CSV` writes full precision).
    pub fn cell(&self, column: ScoreColumn) -> String {
        let s = &self.score;
        match column {
            ScoreColumn::Optimizer => self.name.clone(),
            ScoreColumn::Steps => s.steps.to_string(),
            ScoreColumn::Evals => s.evals.to_string(),
            ScoreColumn::ToTarget => s
                .steps_to_target
                .map_or_else(|| "never".to_owned(), |k| k.to_string()),
            ScoreColumn::FinalLoss => super::number::num(s.final_loss),
            ScoreColumn::PathLength => super::number::num(s.path_length),
            ScoreColumn::Accuracy => s
                .accuracy
                .map_or_else(String::new, |a| format!("{:.1}%", 100.0 * a)),
            ScoreColumn::SaddleSteps => s.saddle_steps.to_string(),
            ScoreColumn::Diverged => s
                .diverged_at
                .map_or_else(|| "no".to_owned(), |k| format!("at {k}")),
        }
    }

    fn compare(&self, other: &Self, column: ScoreColumn) -> Ordering {
        let (a, b) = (&self.score, &other.score);
        // `None` (never) after every step
        let never_last = |x: Option<u64>| x.unwrap_or(u64::MAX);
        match column {
            ScoreColumn::Optimizer => self.name.cmp(&other.name),
            ScoreColumn::Steps => a.steps.cmp(&b.steps),
            ScoreColumn::Evals => a.evals.cmp(&b.evals),
            ScoreColumn::ToTarget => {
                never_last(a.steps_to_target).cmp(&never_last(b.steps_to_target))
            }
            ScoreColumn::FinalLoss => a.final_loss.total_cmp(&b.final_loss),
            ScoreColumn::PathLength => a.path_length.total_cmp(&b.path_length),
            ScoreColumn::Accuracy => {
                let acc = |x: Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
                acc(a.accuracy).total_cmp(&acc(b.accuracy))
            }
            ScoreColumn::SaddleSteps => a.saddle_steps.cmp(&b.saddle_steps),
            ScoreColumn::Diverged => (a.diverged_at.is_some(), a.diverged_at)
                .cmp(&(b.diverged_at.is_some(), b.diverged_at)),
        }
    }
}

/// The table: a row per optimizer, in scene order until sorted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scoreboard {
    /// The rows.
    pub rows: Vec<ScoreRow>,
}

/// The CSV header [`Scoreboard::write_csv`] writes.
pub const CSV_HEADER: &str = "optimizer,kind,steps,steps_to_target,final_loss,path_length,saddle_steps,diverged,diverged_at,accuracy,evals";

impl Scoreboard {
    /// Sorts the rows by `column` (stable: ties keep their order).
    pub fn sort(&mut self, column: ScoreColumn, order: SortOrder) {
        self.rows.sort_by(|a, b| {
            let o = a.compare(b, column);
            match order {
                SortOrder::Ascending => o,
                SortOrder::Descending => o.reverse(),
            }
        });
    }

    /// CSV: [`CSV_HEADER`], then a row per optimizer; numbers in shortest round-trip decimals, an
    /// empty cell for never / not diverged, names quoted when they hold a comma, quote or line break.
    pub fn write_csv(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "{CSV_HEADER}")?;
        for row in &self.rows {
            let s = &row.score;
            let opt = |v: Option<u64>| v.map(|k| k.to_string()).unwrap_or_default();
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&row.name),
                row.kind.name(),
                s.steps,
                opt(s.steps_to_target),
                s.final_loss,
                s.path_length,
                s.saddle_steps,
                s.diverged_at.is_some(),
                opt(s.diverged_at),
                s.accuracy.map(|a| a.to_string()).unwrap_or_default(),
                s.evals,
            )?;
        }
        Ok(())
    }

    /// [`Self::write_csv`] into a string.
    pub fn to_csv(&self) -> String {
        let mut bytes = Vec::new();
        // writing into a Vec cannot fail
        let _ = self.write_csv(&mut bytes);
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// The columns worth showing: a network's board has accuracy and no saddle steps (no Hessian
    /// there), a landscape's the other way round.
    pub fn columns(&self) -> Vec<ScoreColumn> {
        let network = self.rows.iter().any(|r| r.score.accuracy.is_some());
        let hidden = if network {
            ScoreColumn::SaddleSteps
        } else {
            ScoreColumn::Accuracy
        };
        ScoreColumn::ALL
            .into_iter()
            .filter(|&c| c != hidden)
            .collect()
    }

    /// An aligned text table (headings, then the rows' [`ScoreRow::cell`]s), for a terminal.
    pub fn to_text(&self) -> String {
        let columns = self.columns();
        let cells: Vec<Vec<String>> =
            std::iter::once(columns.iter().map(|c| c.label().to_owned()).collect())
                .chain(
                    self.rows
                        .iter()
                        .map(|r| columns.iter().map(|&c| r.cell(c)).collect()),
                )
                .collect();
        let widths: Vec<usize> = (0..columns.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|row| row[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut text = String::new();
        for row in &cells {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, &w))| {
                    // the name left-aligned, numbers right-aligned
                    if i == 0 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            text.push_str(line.join("  ").trim_end());
            text.push('\n');
        }
        text
    }
}

/// A CSV field, quoted (RFC 4180) when it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Runs every optimizer of `scene` headless for up to `steps` steps (fewer where one converges or
/// diverges) and scores it: the same [`ScoreTracker`] the app feeds live. `converge_tol` replaces the
/// runs' convergence tolerance on the gradient norm when given.
pub fn score_scene(
    scene: &Scene,
    steps: u64,
    settings: &ScoreSettings,
    converge_tol: Option<f64>,
) -> Result<Scoreboard, CoreError> {
    let landscape = Arc::new(Landscape::new(scene.landscape.clone())?);
    let mut rows = Vec::with_capacity(scene.optimizers.len());
    for spec in &scene.optimizers {
        let mut run = SceneRun::with_tolerance(&landscape, spec, converge_tol)?;
        let mut tracker = ScoreTracker::for_run(&run, *settings);
        for _ in 0..steps {
            if tracker.step_run(&mut run).is_none() {
                break;
            }
        }
        rows.push(ScoreRow {
            name: spec.name.clone(),
            kind: spec.kind,
            score: *tracker.score(),
        });
    }
    Ok(Scoreboard { rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::landscape::LandscapeSpec;
    use crate::core::simulation::trace;

    fn landscape(name: &str) -> Landscape {
        Landscape::new(LandscapeSpec::from_name(name).unwrap()).unwrap()
    }

    #[test]
    fn tracker_matches_a_trajectory_computed_afterwards() {
        let l = landscape("rosenbrock");
        let config = RunConfig::new(OptimizerKind::Adam, [-1.5, 2.0]);
        let mut runner = Runner::new(&l, config).unwrap();
        let mut tracker = ScoreTracker::for_runner(&runner, ScoreSettings::default());
        let mut path = 0.0;
        let mut last = runner.position();
        for _ in 0..3000 {
            let Some(row) = tracker.step(&mut runner) else {
                break;
            };
            path += (row.pos[0] - last[0]).hypot(row.pos[1] - last[1]);
            last = row.pos;
        }
        let t = trace(&l, &config, 3000).unwrap();
        let s = tracker.score();
        assert_eq!(s.steps, t.records.last().unwrap().step);
        assert_eq!(s.final_loss, t.records.last().unwrap().loss);
        assert_eq!(s.path_length, path);
        // the target written out from its definition: Rosenbrock's one minimum is (1, 1) with loss 0;
        // within 1e-3 of that loss, or within 1% of the diagonal of [-2, 2] x [-1, 3] of (1, 1)
        assert_eq!(l.minima(), &[[1.0, 1.0]]);
        let radius = 0.01 * 4.0 * 2f64.sqrt();
        let first = t
            .records
            .iter()
            .find(|r| r.loss <= 1e-3 || (r.pos[0] - 1.0).hypot(r.pos[1] - 1.0) <= radius)
            .map(|r| r.step);
        assert_eq!(s.steps_to_target, first);
        assert!(first.is_some(), "Adam reaches (1, 1) in 3000 steps");
    }

    #[test]
    fn saddle_steps_count_the_ridge_and_never_a_minimum() {
        let l = landscape("saddle-valleys");
        // the saddle at the origin: small gradient, indefinite Hessian
        assert!(near_saddle(&l, [0.01, 0.0], l.gradient([0.01, 0.0]), 0.1));
        // the minimum (0, 1): small gradient but positive definite
        assert!(!near_saddle(&l, [0.0, 1.0], [0.0, 0.0], 0.1));
        // far from the saddle: large gradient
        assert!(!near_saddle(&l, [-1.9, 0.0], l.gradient([-1.9, 0.0]), 0.1));
        // plain GD exactly on the ridge walks into the saddle and stays: most of its steps count
        let config = RunConfig::new(OptimizerKind::Sgd, [-1.9, 0.0]);
        let mut runner = Runner::new(&l, config).unwrap();
        let mut tracker = ScoreTracker::for_runner(&runner, ScoreSettings::default());
        for _ in 0..1000 {
            tracker.step(&mut runner);
        }
        let s = tracker.score();
        assert!(s.saddle_steps > 500, "{s:?}");
        assert_eq!(s.steps_to_target, None);
    }

    #[test]
    fn divergence_and_reset() {
        let l = landscape("saddle");
        let config = RunConfig::new(OptimizerKind::Sgd, [0.5, 0.5]);
        let mut runner = Runner::new(&l, config).unwrap();
        let mut tracker = ScoreTracker::for_runner(&runner, ScoreSettings::default());
        while runner.status().is_running() {
            tracker.step(&mut runner);
        }
        let RunStatus::Diverged { step, .. } = runner.status() else {
            panic!("x^2 - y^2 sends y to infinity")
        };
        assert_eq!(tracker.score().diverged_at, Some(step));
        assert_eq!(tracker.score().steps, step - 1);
        runner.reset();
        tracker.reset(runner.landscape(), &runner.record());
        assert_eq!(tracker.score().steps, 0);
        assert_eq!(tracker.score().diverged_at, None);
        assert_eq!(tracker.score().path_length, 0.0);
        // an old row is ignored
        assert!(!tracker.push(&l, &runner.record()));
    }

    fn row(name: &str, to_target: Option<u64>, loss: f64, diverged: Option<u64>) -> ScoreRow {
        ScoreRow {
            name: name.into(),
            kind: OptimizerKind::Sgd,
            score: Score {
                steps: 10,
                evals: 11,
                steps_to_target: to_target,
                final_loss: loss,
                final_pos: [0.0, 0.0],
                path_length: loss * 2.0,
                saddle_steps: 0,
                max_step: 0.0,
                accuracy: None,
                diverged_at: diverged,
                converged_at: None,
            },
        }
    }

    #[test]
    fn sorting_puts_never_and_divergence_last() {
        let mut board = Scoreboard {
            rows: vec![
                row("c", None, 3.0, None),
                row("a", Some(7), 1.0, Some(9)),
                row("b", Some(5), 2.0, None),
            ],
        };
        let names = |b: &Scoreboard| b.rows.iter().map(|r| r.name.clone()).collect::<String>();
        board.sort(ScoreColumn::ToTarget, SortOrder::Ascending);
        assert_eq!(names(&board), "bac");
        board.sort(ScoreColumn::FinalLoss, SortOrder::Descending);
        assert_eq!(names(&board), "cba");
        board.sort(ScoreColumn::Diverged, SortOrder::Ascending);
        assert_eq!(names(&board), "cba");
        board.sort(ScoreColumn::Optimizer, SortOrder::Ascending);
        assert_eq!(names(&board), "abc");
        for c in ScoreColumn::ALL {
            assert_eq!(ScoreColumn::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn csv_has_a_header_quoted_names_and_empty_cells_for_never() {
        let mut r = row("SGD, \"noisy\"", None, 0.5, Some(4));
        r.score.steps = 3;
        r.score.evals = 9;
        let board = Scoreboard {
            rows: vec![r, row("Adam", Some(2), 0.25, None)],
        };
        assert_eq!(
            board.to_csv(),
            format!(
                "{CSV_HEADER}\n\"SGD, \"\"noisy\"\"\",sgd,3,,0.5,1,0,true,4,,9\nAdam,sgd,10,2,0.25,0.5,0,false,,,11\n"
            )
        );
        let text = board.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("optimizer"));
        assert!(lines[1].contains("never") && lines[1].contains("at 4"));
        assert!(lines[0].contains("saddle steps") && !lines[0].contains("accuracy"));
        // a network's board: accuracy in the CSV's last cell and the table, no saddle steps
        let mut r = row("SGD", Some(5), 0.5, None);
        r.score.accuracy = Some(0.975);
        let board = Scoreboard { rows: vec![r] };
        assert!(board.to_csv().ends_with(",false,,0.975,11\n"));
        let text = board.to_text();
        assert!(text.contains("accuracy") && text.contains("97.5%"));
        assert!(!text.contains("saddle"));
    }
}
