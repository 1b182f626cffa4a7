//! The timeline: scrub back through the steps already taken, then resume from the end or branch from the
//! scrubbed step. While scrubbed, playback holds, every optimizer shows `history[k]` (balls, trails,
//! labels, readouts and arrows follow through [`Optimizer::view_step`]), and its memory at step `k`
//! (`V`, `s`, the step's detail) comes from re-running the core deterministically from the start — no
//! per-step snapshots are stored. Stepping forward while scrubbed walks through the recorded steps.

use std::collections::HashMap;

use bevy::prelude::*;
use bevy_egui::egui;

use crate::core::run::SceneRun;
use crate::core::{
    CoreError, Hyperparams, OptimizerKind, OptimizerState, Runner, StepDetail, StepRecord,
};
use crate::optimizers::{Optimizer, Playback};

/// Where the timeline stands.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The step every view shows; `None` follows the newest step (live).
    pub scrubbed: Option<u64>,
}

impl Timeline {
    /// The step on show given the newest step of all runs.
    pub fn shown(&self, newest: u64) -> u64 {
        self.scrubbed.map_or(newest, |k| k.min(newest))
    }

    /// Scrubs to `k`; reaching the newest step goes live again.
    pub fn scrub_to(&mut self, k: u64, newest: u64) {
        self.scrubbed = (k < newest).then_some(k);
    }
}

/// The newest step over all runs (the timeline's end).
pub fn newest_step<'a>(optimizers: impl IntoIterator<Item = &'a Optimizer>) -> u64 {
    Span::of(optimizers).newest
}

/// The steps the timeline can show: every kept step of the runs (every step at first; in a long run
/// every 2nd, 4th, ..., see [`crate::core::History`]) and the newest one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The newest step over all runs.
    pub newest: u64,
    /// Steps between the kept steps every run has (the largest stride: strides are powers of two).
    pub stride: u64,
}

impl Span {
    /// The span of these runs.
    pub fn of<'a>(optimizers: impl IntoIterator<Item = &'a Optimizer>) -> Self {
        optimizers.into_iter().fold(
            Self {
                newest: 0,
                stride: 1,
            },
            |span, o| Self {
                newest: span.newest.max(o.history.steps()),
                stride: span.stride.max(o.history.stride()),
            },
        )
    }

    /// The kept step at or before `k` (the newest step for `k` at or past it).
    pub fn snap(&self, k: u64) -> u64 {
        if k >= self.newest {
            self.newest
        } else {
            k - k % self.stride
        }
    }

    /// The kept step before `k`.
    pub fn back(&self, k: u64) -> u64 {
        self.snap(k.saturating_sub(1))
    }

    /// The kept step after `k` (at most the newest).
    pub fn forward(&self, k: u64) -> u64 {
        self.snap((k / self.stride + 1).saturating_mul(self.stride))
    }
}

/// One run at its displayed step: what the arrows and the step-by-step panel show.
#[derive(Clone, Debug, PartialEq)]
pub struct StepView {
    /// The displayed step `k`.
    pub step: u64,
    /// The update rule.
    pub kind: OptimizerKind,
    /// `history[k]`: position, loss and exact gradient at step `k`.
    pub record: StepRecord,
    /// The optimizer's memory after step `k` (`V`, `s`, `t = k`).
    pub state: OptimizerState,
    /// Step `k` itself (None at the start).
    pub last: Option<LastStep>,
    /// Whether gradients are noisy or from mini-batches.
    pub noisy: bool,
}

/// The step that led to the displayed point.
#[derive(Clone, Debug, PartialEq)]
pub struct LastStep {
    /// The memory before it.
    pub before: OptimizerState,
    /// The hyperparameters it ran with.
    pub hyper: Hyperparams,
    /// Every intermediate the core computed.
    pub detail: StepDetail,
}

/// A replay of one run kept between frames, so following a live run costs one step per step.
#[derive(Clone)]
struct Replay {
    runner: Runner,
    last: Option<LastStep>,
}

/// Each run's [`StepView`], recomputed when its displayed step or its run changes.
#[derive(Resource, Default)]
pub struct StepViews {
    views: HashMap<Entity, StepView>,
    replays: HashMap<Entity, Replay>,
}

impl StepViews {
    /// The view of one optimizer entity, if computed.
    pub fn get(&self, entity: Entity) -> Option<&StepView> {
        self.views.get(&entity)
    }
}

/// Whether a kept replay is a prefix of this run (same landscape, settings and path), so that it can be
/// stepped forward instead of re-run from the start.
fn replay_fits(opt: &Optimizer, runner: &Runner, k: u64) -> bool {
    let j = runner.steps();
    let (a, b) = (runner.config(), opt.spec.run_config());
    j <= k
        && opt
            .run
            .surface()
            .is_some_and(|own| std::ptr::eq(runner.landscape(), own.landscape()))
        && (a.kind, a.start, a.noise, a.seed) == (b.kind, b.start, b.noise, b.seed)
        && opt
            .history
            .get(j)
            .is_some_and(|r| r.pos == runner.position())
        && opt.hyper_at(j) == Some(a.hyper)
}

/// Sets on a 2-D replay the hyperparameters that were live at its step (as
/// [`Optimizer::apply_logged_hyper`] does for any run).
fn apply_logged_hyper(opt: &Optimizer, runner: &mut Runner) -> Result<(), CoreError> {
    if let Some(hyper) = opt.hyper_at(runner.steps())
        && runner.config().hyper != hyper
    {
        runner.set_hyper(hyper)?;
    }
    Ok(())
}

/// The run's state at step `k` (clamped to the steps it took), re-run from the start.
pub fn step_view(opt: &Optimizer, k: u64) -> Result<StepView, CoreError> {
    view_at(opt, k, &mut None)
}

/// The run's state at step `k`, reusing (and advancing) `kept` when it fits.
fn view_at(opt: &Optimizer, k: u64, kept: &mut Option<Replay>) -> Result<StepView, CoreError> {
    if !kept
        .as_ref()
        .is_some_and(|r| replay_fits(opt, &r.runner, k))
    {
        let replay = opt.replay(k.saturating_sub(1))?;
        let SceneRun::Surface(runner) = replay else {
            return Err(CoreError::NotOffered {
                kind: opt.spec.kind.label(),
                reason: "the step-by-step numbers are shown for the 2-D landscapes".to_owned(),
            });
        };
        *kept = Some(Replay { runner, last: None });
    }
    let Some(replay) = kept.as_mut() else {
        unreachable!("set just above")
    };
    while replay.runner.steps() < k {
        apply_logged_hyper(opt, &mut replay.runner)?;
        let before = replay.runner.state().clone();
        let hyper = replay.runner.config().hyper;
        if replay.runner.step().is_none() {
            break;
        }
        replay.last = replay.runner.last_detail().map(|detail| LastStep {
            before,
            hyper,
            detail: detail.clone(),
        });
    }
    apply_logged_hyper(opt, &mut replay.runner)?;
    Ok(StepView {
        step: replay.runner.steps(),
        kind: opt.spec.kind,
        record: replay.runner.record(),
        state: replay.runner.state().clone(),
        last: replay.last.clone().filter(|_| replay.runner.steps() > 0),
        noisy: !opt.spec.noise.is_exact_on(replay.runner.landscape()),
    })
}

/// Points every optimizer at the scrubbed step; drops a scrub past the end (after a restart).
pub fn show_scrubbed_step(mut timeline: ResMut<Timeline>, mut optimizers: Query<&mut Optimizer>) {
    let newest = newest_step(optimizers.iter());
    if timeline.scrubbed.is_some_and(|k| k >= newest) {
        timeline.scrubbed = None;
    }
    for mut opt in &mut optimizers {
        if opt.view_step != timeline.scrubbed {
            opt.view_step = timeline.scrubbed;
        }
    }
}

/// While scrubbed, no run advances: a single step walks the scrub forward through the recorded steps
/// (going live at the end), and Play resumes from the end. Runs just before the optimizers step.
pub fn hold_while_scrubbed(
    mut timeline: ResMut<Timeline>,
    mut playback: ResMut<Playback>,
    optimizers: Query<&Optimizer>,
) {
    let Some(k) = timeline.scrubbed else {
        return;
    };
    if playback.playing {
        timeline.scrubbed = None;
        return;
    }
    let queued = std::mem::take(&mut playback.queued_steps);
    if queued > 0 {
        let span = Span::of(optimizers.iter());
        let k = (0..queued).fold(k, |k, _| span.forward(k));
        timeline.scrub_to(k, span.newest);
    }
}

/// Recomputes the views that the arrows or the panel need (`wanted`), only when a run or its displayed
/// step changed.
pub fn update_step_views(
    wanted: bool,
    views: &mut StepViews,
    optimizers: &Query<(Entity, &Optimizer)>,
) {
    if !wanted {
        views.views.clear();
        views.replays.clear();
        return;
    }
    views.views.retain(|entity, _| optimizers.contains(*entity));
    views
        .replays
        .retain(|entity, _| optimizers.contains(*entity));
    for (entity, opt) in optimizers {
        // a network run's steps are N-D: not written out step by step (nothing to replay, no warning)
        if opt.run.surface().is_none() {
            views.views.remove(&entity);
            views.replays.remove(&entity);
            continue;
        }
        let k = opt.displayed_step();
        let record = opt.displayed_record();
        if views
            .views
            .get(&entity)
            .is_some_and(|v| v.step == k && v.record == record && v.kind == opt.spec.kind)
        {
            continue;
        }
        let mut kept = views.replays.remove(&entity);
        match view_at(opt, k, &mut kept) {
            Ok(view) => {
                views.views.insert(entity, view);
            }
            Err(e) => {
                warn!("{}: cannot replay to step {k}: {e}", opt.spec.name);
                views.views.remove(&entity);
            }
        }
        if let Some(kept) = kept {
            views.replays.insert(entity, kept);
        }
    }
}

/// What the timeline strip asked for.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct TimelineActions {
    /// Branch every run at this step.
    pub branch: Option<u64>,
}

/// The strip under the views: a slider over the steps taken, one-step buttons, resume and branch.
pub fn timeline_strip(
    ui: &mut egui::Ui,
    timeline: &mut Timeline,
    playback: &mut Playback,
    span: Span,
) -> TimelineActions {
    let newest = span.newest;
    let mut actions = TimelineActions::default();
    let mut k = timeline.shown(newest);
    // on a narrow strip (a small screen, the step-by-step window docked) the buttons wrap to a second line
    ui.horizontal_wrapped(|ui| {
        ui.label("timeline");
        if ui
            .add_enabled(k > 0, egui::Button::new("◀"))
            .on_hover_text("one step back (←)")
            .clicked()
        {
            k = span.back(k);
        }
        if ui
            .add_enabled(timeline.scrubbed.is_some(), egui::Button::new("▶"))
            .on_hover_text("one step forward through the recorded steps (→)")
            .clicked()
        {
            k = span.forward(k);
        }
        // the slider takes what the labels and buttons leave
        let width = (ui.available_width() - 430.0).max(100.0);
        ui.spacing_mut().slider_width = width;
        ui.add(egui::Slider::new(&mut k, 0..=newest.max(1)).text(format!("/ {newest}")));
        k = span.snap(k);
        if span.stride > 1 {
            ui.label(format!("every {} steps", span.stride)).on_hover_text(format!(
                "A long run keeps every step up to {} steps, then every 2nd, 4th, ... so that memory \
                 stays the same however long the lecture: the timeline, the loss plot and branching \
                 use the kept steps (now one every {} steps). The balls always show the newest step.",
                crate::core::History::CAP,
                span.stride
            ));
        }
        let scrubbed = timeline.scrubbed.is_some();
        if ui
            .add_enabled(scrubbed, egui::Button::new("Resume from end"))
            .on_hover_text("back to the newest step; nothing is lost")
            .clicked()
        {
            timeline.scrubbed = None;
            return;
        }
        if ui
            .add_enabled(scrubbed, egui::Button::new("Branch here"))
            .on_hover_text("forget the steps after this one and continue from here")
            .clicked()
        {
            actions.branch = Some(k);
            return;
        }
        let k = k.min(newest);
        if k != timeline.shown(newest) {
            timeline.scrub_to(k, newest);
            if timeline.scrubbed.is_some() {
                playback.playing = false;
            }
        }
    });
    actions
}

/// Branches every run at step `k` (see [`Optimizer::branch_at`]) and goes live.
pub fn branch_all<'a>(
    timeline: &mut Timeline,
    k: u64,
    optimizers: impl IntoIterator<Item = Mut<'a, Optimizer>>,
) -> Result<(), CoreError> {
    timeline.scrubbed = None;
    let mut result = Ok(());
    for mut opt in optimizers {
        if let Err(e) = opt.branch_at(k) {
            result = Err(e);
        }
    }
    result
}

/// ← steps the scrub back one step (it starts scrubbing from the newest step).
pub fn scrub_back(
    mut timeline: ResMut<Timeline>,
    mut playback: ResMut<Playback>,
    optimizers: Query<&Optimizer>,
) {
    let span = Span::of(optimizers.iter());
    let k = timeline.shown(span.newest);
    if k > 0 {
        playback.playing = false;
        timeline.scrub_to(span.back(k), span.newest);
    }
}
