//! Saddle-escape statistics in the panel (issue 15): every optimizer of the scene on screen run from
//! its start with many seeds (core [`EscapeSpec`]), the median escape step, how many escaped and a
//! histogram per optimizer. Computed on demand ("Compute") in the background; the results stay until
//! computed again and are marked stale once the landscape or an optimizer's settings change.

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::egui;

use super::PROGRESS_REDRAW;
use crate::core::MapSpec;
use crate::core::escape::{
    DEFAULT_ESCAPE_SEEDS, DEFAULT_ESCAPE_STEPS, EscapeRun, EscapeSpec, EscapeStats,
    OptimizerEscapes, histogram,
};
use crate::core::{Landscape, MapError, MapJob, RunConfig, Vec2d};
use crate::lessons::snapshot_scene;
use crate::optimizers::{Optimizer, Playback};
use crate::paint::egui_color;
use crate::state::{ActiveLandscape, CurrentScene, SurfaceSettings};
use crate::system_order::KeepAwake;
use crate::views::Layout;

/// The seeds the panel offers.
pub const SEEDS_RANGE: std::ops::RangeInclusive<u64> = 10..=2000;
/// The most steps per run the panel offers.
pub const MAX_STEPS: u64 = 100_000;
/// Bins of a histogram.
const BINS: usize = 24;

/// What a result was computed from: the landscape (by identity), each optimizer's name and run
/// settings, the saddle. Results are stale when this differs from the scene on screen.
#[derive(Clone, Debug)]
pub struct EscapeKey {
    pub landscape: Arc<Landscape>,
    pub runs: Vec<(String, RunConfig)>,
    pub saddle: Option<Vec2d>,
}

impl EscapeKey {
    /// The key of `spec` on `landscape` (seeds and steps left out: the results show their own).
    pub fn of(landscape: &Arc<Landscape>, spec: &EscapeSpec) -> Self {
        Self {
            landscape: Arc::clone(landscape),
            runs: spec.runs.clone(),
            saddle: spec.saddle,
        }
    }
}

impl PartialEq for EscapeKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.landscape, &other.landscape)
            && self.runs == other.runs
            && self.saddle == other.saddle
    }
}

/// Finished statistics with what they were computed from and the optimizers' colours (scene order).
#[derive(Debug)]
pub struct EscapeResults {
    pub stats: EscapeStats,
    pub key: EscapeKey,
    pub colors: Vec<[f32; 3]>,
}

/// The "Saddle escape" subsection: its settings, the job under way, the last results.
#[derive(Resource, Debug)]
pub struct EscapePanel {
    /// Seeds per optimizer.
    pub seeds: u64,
    /// Steps per run.
    pub max_steps: u64,
    /// "Compute" was pressed: the next frame starts a job from the scene on screen.
    pub requested: bool,
    /// Why the last computation failed, if it did.
    pub message: Option<String>,
    /// The last results differ from the scene on screen.
    pub stale: bool,
    job: Option<(MapJob<EscapeStats, EscapeRun>, EscapeKey, Vec<[f32; 3]>)>,
    results: Option<EscapeResults>,
}

impl Default for EscapePanel {
    fn default() -> Self {
        Self {
            seeds: DEFAULT_ESCAPE_SEEDS,
            max_steps: DEFAULT_ESCAPE_STEPS,
            requested: false,
            message: None,
            stale: false,
            job: None,
            results: None,
        }
    }
}

impl EscapePanel {
    /// Runs finished and in all while computing.
    pub fn progress(&self) -> Option<(u64, u64)> {
        self.job.as_ref().map(|(job, _, _)| job.progress())
    }

    /// Whether a job is under way.
    pub fn computing(&self) -> bool {
        self.job.is_some()
    }

    /// The last finished results.
    pub fn results(&self) -> Option<&EscapeResults> {
        self.results.as_ref()
    }

    /// Starts `spec` on `landscape` (a running job is cancelled by dropping it).
    pub fn start(&mut self, spec: EscapeSpec, landscape: &Arc<Landscape>, colors: Vec<[f32; 3]>) {
        let key = EscapeKey::of(landscape, &spec);
        self.job = Some((spec.spawn(Arc::clone(landscape)), key, colors));
        self.message = None;
    }

    /// Stops the job under way; the last results stay.
    pub fn cancel(&mut self) {
        self.job = None;
    }

    /// Takes the job's result if it has ended.
    pub fn poll(&mut self) {
        let Some(result) = self.job.as_mut().and_then(|(job, _, _)| job.try_take()) else {
            return;
        };
        let Some((_, key, colors)) = self.job.take() else {
            return;
        };
        match result {
            Ok(stats) => {
                self.results = Some(EscapeResults { stats, key, colors });
                self.stale = false;
            }
            Err(MapError::Cancelled { .. }) => {}
            Err(e) => self.message = Some(format!("saddle escape: {e}")),
        }
    }

    /// Marks the results stale unless they were computed from `now`.
    pub fn check_stale(&mut self, now: &EscapeKey) {
        self.stale = self.results.as_ref().is_some_and(|r| r.key != *now);
    }
}

/// Run condition: something to start, poll or check.
pub fn escape_active(panel: Res<EscapePanel>) -> bool {
    panel.requested || panel.job.is_some() || panel.results.is_some()
}

/// Starts a requested job from the scene on screen, takes finished results, marks them stale when
/// the scene changed, and keeps frames coming while computing.
pub fn drive_escape(
    mut panel: ResMut<EscapePanel>,
    current: Option<Res<CurrentScene>>,
    landscape: Res<ActiveLandscape>,
    optimizers: Query<&Optimizer>,
    mut awake: ResMut<KeepAwake>,
) {
    let current = current.map(|c| c.clone()).unwrap_or_default();
    let scene = snapshot_scene(
        &current,
        &landscape,
        &SurfaceSettings::default(),
        &Layout::default(),
        &Playback::default(),
        optimizers.iter().map(|o| o.spec.clone()),
    );
    let mut spec = EscapeSpec::from_scene(&scene);
    if panel.requested {
        panel.requested = false;
        spec.seeds = panel.seeds;
        spec.max_steps = panel.max_steps;
        let colors = optimizers.iter().map(|o| o.spec.color).collect();
        panel.start(spec.clone(), &landscape.0, colors);
    }
    panel.poll();
    panel.check_stale(&EscapeKey::of(&landscape.0, &spec));
    if panel.computing() {
        awake.within(PROGRESS_REDRAW);
    }
}

/// One optimizer's numbers: `median step 42 · 180 of 200 escaped`.
pub fn row_text(o: &OptimizerEscapes) -> String {
    let median = o
        .median()
        .map_or("never".to_owned(), |m| format!("step {m}"));
    format!(
        "median {median} · {} of {} escaped",
        o.escaped(),
        o.runs.len()
    )
}

/// The "Saddle escape" subsection of the "Maps" section.
pub fn escape_section(ui: &mut egui::Ui, panel: &mut EscapePanel) {
    ui.horizontal(|ui| {
        ui.label("seeds");
        ui.add(egui::DragValue::new(&mut panel.seeds).range(SEEDS_RANGE));
        ui.label("max steps");
        ui.add(egui::DragValue::new(&mut panel.max_steps).range(1..=MAX_STEPS));
    });
    ui.horizontal(|ui| {
        if ui
            .button("Compute")
            .on_hover_text(
                "run every optimizer of the scene from its start with each seed and count the steps \
                 until it escapes the saddle",
            )
            .clicked()
        {
            panel.cancel();
            panel.requested = true;
        }
        if panel.computing() && ui.button("Cancel").clicked() {
            panel.cancel();
        }
    });
    if let Some((done, total)) = panel.progress() {
        ui.add(
            egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                .desired_width(200.0)
                .text(format!("computing {done} of {total} runs")),
        );
    }
    if let Some(message) = &panel.message {
        ui.colored_label(egui::Color32::from_rgb(255, 120, 100), message);
    }
    let Some(results) = panel.results() else {
        return;
    };
    if panel.stale {
        ui.colored_label(
            egui::Color32::from_rgb(255, 190, 80),
            "stale: the landscape or the optimizers changed since; Compute again",
        );
    }
    let stats = &results.stats;
    ui.small(format!(
        "{} seeds x {} steps. {}",
        stats.seeds,
        stats.max_steps,
        stats.definition.describe()
    ));
    for (k, o) in stats.optimizers.iter().enumerate() {
        let color = results
            .colors
            .get(k)
            .map_or(egui::Color32::GRAY, |c| egui_color(*c));
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, color);
            ui.strong(&o.name);
            ui.label(row_text(o));
        });
        if o.deterministic {
            ui.small("(no noise: every seed is the same run)");
        }
        histogram_bars(ui, o, stats.max_steps, color);
    }
}

/// Painted bars of escape steps over `0..=max_steps`, then a grey bar of the runs that never escaped.
fn histogram_bars(ui: &mut egui::Ui, o: &OptimizerEscapes, max_steps: u64, color: egui::Color32) {
    let h = histogram(&o.steps(), BINS, max_steps);
    let width = ui.available_width().clamp(120.0, 260.0);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, 48.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_black_alpha(60));
    let bars = h.counts.len() + 2; // a gap, then never
    let bar_w = rect.width() / bars as f32;
    let top = h
        .counts
        .iter()
        .copied()
        .chain([h.never])
        .max()
        .unwrap_or(0)
        .max(1) as f32;
    let heights = h
        .counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (i, c, color))
        .chain([(bars - 1, h.never, egui::Color32::GRAY)]);
    for (i, count, fill) in heights {
        if count == 0 {
            continue;
        }
        let height = (rect.height() - 2.0) * count as f32 / top;
        let x = rect.left() + i as f32 * bar_w;
        let bar = egui::Rect::from_min_max(
            egui::pos2(x + 0.5, rect.bottom() - height),
            egui::pos2(x + bar_w - 0.5, rect.bottom()),
        );
        painter.rect_filled(bar, 0.0, fill);
    }
    response.on_hover_text(format!(
        "escape steps in bins of {} steps from 0 to {max_steps}; grey: never escaped ({})",
        h.width, h.never
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{
        LandscapeSpec, OptimizerKind, escape::Margin, scene::OptimizerSpec, simulation::RunStatus,
    };

    fn spec(lr: f64) -> EscapeSpec {
        let mut o = OptimizerSpec::with_defaults(OptimizerKind::Sgd, 0, [0.1, 0.0]);
        o.hyper.lr = lr;
        EscapeSpec {
            runs: vec![(o.name.clone(), o.run_config())],
            saddle: Some([0.0, 0.0]),
            saddle_from: "given",
            margin: Margin::default(),
            seeds: 10,
            max_steps: 100,
        }
    }

    #[test]
    fn results_are_stale_when_the_landscape_or_settings_change() {
        let land = Arc::new(Landscape::new(LandscapeSpec::from_name("bowl").unwrap()).unwrap());
        let key = EscapeKey::of(&land, &spec(0.1));
        assert_eq!(key, EscapeKey::of(&land, &spec(0.1)));
        // seeds and steps are not the scene's settings
        let mut more = spec(0.1);
        more.seeds = 500;
        assert_eq!(key, EscapeKey::of(&land, &more));
        assert_ne!(key, EscapeKey::of(&land, &spec(0.2)));
        let rebuilt = Arc::new(Landscape::new(LandscapeSpec::from_name("bowl").unwrap()).unwrap());
        assert_ne!(key, EscapeKey::of(&rebuilt, &spec(0.1)));
    }

    #[test]
    fn a_row_reads_median_and_count() {
        let run = |step| EscapeRun {
            seed: 0,
            escape_step: step,
            final_loss: 0.0,
            steps: 10,
            status: RunStatus::Running,
        };
        let mut o = OptimizerEscapes {
            name: "SGD".into(),
            kind: OptimizerKind::Sgd,
            deterministic: false,
            runs: vec![run(Some(4)), run(Some(2)), run(None)],
        };
        assert_eq!(row_text(&o), "median step 4 · 2 of 3 escaped");
        o.runs = vec![run(None), run(None), run(Some(1))];
        assert_eq!(row_text(&o), "median never · 1 of 3 escaped");
    }
}
