//! Optimizers as entities: each holds its scene description, its core run ([`SceneRun`]: a 2-D
//! [`crate::core::Runner`], or a network run seen through the plane shown) and the history of its
//! run in the view's coordinates. `step_optimizers` advances every running optimizer in `FixedUpdate` through the same core code as
//! `losscape trace`; playback (play/pause, single step, reset, speed) is a resource driven by keys and the panel.

pub mod visuals;

use std::sync::Arc;

use crate::third_party::egui::{EguiKeyboard, keys_free};
use bevy::{input::common_conditions::input_just_pressed, prelude::*};

use crate::core::run::{ParamHistory, SceneRun};
use crate::core::scoreboard::{ScoreSettings, ScoreTracker};
use crate::core::{
    CoreError, History, Hyperparams, Landscape, StepRecord, Vec2d, network::Plane,
    scene::OptimizerSpec,
};
use crate::state::ActiveLandscape;
use crate::system_order::{AppSystems, KeepAwake};

/// Fixed-timestep rate of the simulation clock (ticks per second).
pub const FIXED_HZ: f64 = 60.0;
/// Upper bound on steps per optimizer per tick (1000 steps/s at 60 Hz needs 17).
pub const MAX_STEPS_PER_TICK: u32 = 64;
/// The most one tick may spend stepping network runs: 15 % of its period (2.5 ms at 60 Hz), leaving
/// the rest of the frame to drawing. A step over every weight of a network costs a pass over the data;
/// when the runs cannot keep up with the speed asked, the steps left over are dropped, not owed, so the
/// frame rate holds and the panel says how fast the runs really go. A 2-D step takes well under a
/// microsecond and is never held back (so 2-D runs take exactly the steps asked, on any computer).
pub const NETWORK_STEP_BUDGET: std::time::Duration =
    std::time::Duration::from_micros((0.15e6 / FIXED_HZ) as u64);
/// Playback speed bounds, steps per second.
pub const SPEED_RANGE: (f64, f64) = (1.0, 1000.0);

/// One optimizer on screen: its description and the core run that moves it.
#[derive(Component)]
#[require(Transform, Visibility)]
pub struct Optimizer {
    pub spec: OptimizerSpec,
    pub run: SceneRun,
    /// The run's rows in bounded memory: every step at first, then every 2nd, 4th, ... (see
    /// [`History`]), and the newest row always. On a network, in the plane's coordinates.
    pub history: History,
    /// On a network: the weights at the steps `history` keeps, so that the run can be seen through
    /// another plane (and fitted by a PCA plane) without running it again.
    pub params: Option<ParamHistory>,
    /// The step the views show: `None` is the newest; `Some(k)` is the kept row at or before step `k`
    /// while the timeline is scrubbed back (set by the teaching timeline; visuals, labels and readouts
    /// read it).
    pub view_step: Option<u64>,
    /// Bumped whenever the run starts over or jumps (restart, new start, kind, seed or noise, branch,
    /// new landscape): whatever was drawn from the old run must be drawn again.
    pub generation: u64,
    /// Live hyperparameter changes, `(steps taken when applied, hyperparameters)`, the first at step 0,
    /// so that [`Self::replay`] reproduces a run whose sliders moved mid-run.
    hyper_log: Vec<(u64, Hyperparams)>,
    /// The scoreboard's figures of this run and the generation they follow, fed by every step the run
    /// takes (so every step counts, however the history thins, and the scoreboard steps no copy of the
    /// run); attached by the scoreboard (see [`Self::attach_tracker`]).
    score: Option<(u64, ScoreTracker)>,
}

impl Optimizer {
    /// A fresh run of `spec` on `landscape`; fails when the spec is invalid there (a start outside the
    /// bound, a bad hyperparameter).
    pub fn new(spec: OptimizerSpec, landscape: Arc<Landscape>) -> Result<Self, CoreError> {
        let run = SceneRun::new(&landscape, &spec)?;
        let (history, params) = Self::fresh_histories(&run);
        let hyper_log = vec![(0, spec.hyper)];
        Ok(Self {
            spec,
            run,
            history,
            params,
            view_step: None,
            generation: 0,
            hyper_log,
            score: None,
        })
    }

    /// The scoreboard's tracker of this run as it stands now: `None` before one was attached, and
    /// after the run started over or jumped (a tracker follows one generation).
    pub fn tracker(&self) -> Option<&ScoreTracker> {
        self.score
            .as_ref()
            .filter(|(generation, _)| *generation == self.generation)
            .map(|(_, tracker)| tracker)
    }

    /// Gives the run a tracker that stands where the run stands (see [`Self::replayed_tracker`]);
    /// every step the run takes from now on feeds it.
    pub fn attach_tracker(&mut self, tracker: ScoreTracker) {
        self.score = Some((self.generation, tracker));
    }

    /// A tracker with `settings`, keeping its figures at the `kept` steps, brought to where this run
    /// stands by a replay from its start (with the live hyperparameter changes at their steps).
    pub fn replayed_tracker(
        &self,
        settings: ScoreSettings,
        kept: &[u64],
    ) -> Result<ScoreTracker, CoreError> {
        let mut shadow = self.replay(0)?;
        let mut tracker = ScoreTracker::for_run(&shadow, settings);
        tracker.keep_at(kept);
        while shadow.steps() < self.steps() {
            self.apply_logged_hyper(&mut shadow)?;
            if tracker.step_run(&mut shadow).is_none() {
                break;
            }
        }
        tracker.set_status(shadow.status());
        Ok(tracker)
    }

    /// Empty histories at the run's start (a network's rows and weights keep the same steps).
    fn fresh_histories(run: &SceneRun) -> (History, Option<ParamHistory>) {
        match run.weights() {
            None => (History::new(run.record()), None),
            Some(weights) => {
                let params = ParamHistory::new(weights);
                (History::with_cap(run.record(), params.cap()), Some(params))
            }
        }
    }

    /// The run starts over from its (possibly new) start: a fresh history, a new generation.
    fn start_over(&mut self) {
        (self.history, self.params) = Self::fresh_histories(&self.run);
        self.hyper_log = vec![(0, *self.run.hyper())];
        self.view_step = None;
        self.generation = self.generation.wrapping_add(1);
    }

    /// A network run seen through another plane of the same network: the run goes on as it was; its
    /// history is seen again through the new plane (from the kept weights), and whatever was drawn
    /// from the old view is drawn again. A 2-D run is untouched.
    pub fn set_plane(&mut self, plane: Arc<Plane>) {
        let Some(network) = self.run.network_mut() else {
            return;
        };
        network.set_plane(Arc::clone(&plane));
        if let Some(params) = &self.params {
            let rows = params
                .kept()
                .map(|(step, weights)| {
                    let at = plane.project(weights);
                    let loss = self.history.get(step).map_or(f64::NAN, |r| r.loss);
                    StepRecord {
                        step,
                        pos: [at.alpha, at.beta],
                        loss,
                        // the gradient along the old plane says nothing of the new one
                        grad: [f64::NAN; 2],
                        evals: self.history.get(step).map_or(0, |r| r.evals),
                    }
                })
                .collect();
            if let Some(history) =
                History::rebuilt(rows, params.stride(), params.cap(), self.run.record())
            {
                self.history = history;
            }
        }
        self.generation = self.generation.wrapping_add(1);
    }

    /// Where the views draw the start ring: the start point, or on a network where the starting
    /// weights project onto the plane shown.
    pub fn start_in_view(&self) -> Vec2d {
        match (&self.run, &self.params) {
            (SceneRun::Network(n), Some(params)) => params
                .at(0)
                .map(|w| {
                    let at = n.plane().project(w);
                    [at.alpha, at.beta]
                })
                .unwrap_or(self.spec.start),
            _ => self.spec.start,
        }
    }

    /// Becomes `fresh` (a run on a new landscape), as a new generation of this one.
    pub fn replace_run(&mut self, fresh: Optimizer) {
        let generation = self.generation.wrapping_add(1);
        *self = fresh;
        self.generation = generation;
    }

    /// Back to the start: same settings, empty history.
    pub fn restart(&mut self) {
        self.run.reset();
        self.start_over();
    }

    /// Applies an edited spec. Hyperparameters apply from the next step (no reset); a new kind, start,
    /// noise or seed restarts the run. An invalid spec is refused and the run keeps going.
    pub fn apply_spec(&mut self, spec: OptimizerSpec) -> Result<(), CoreError> {
        let restart = spec.kind != self.spec.kind
            || spec.start != self.spec.start
            || spec.weights != self.spec.weights
            || spec.noise != self.spec.noise
            || spec.seed != self.spec.seed;
        if restart {
            self.run.configure(&spec)?;
            self.start_over();
        } else if spec.hyper != self.spec.hyper {
            self.run.set_hyper(spec.hyper)?;
            let now = self.run.steps();
            self.hyper_log.retain(|&(at, _)| at < now);
            self.hyper_log.push((now, spec.hyper));
        }
        self.spec = spec;
        Ok(())
    }

    /// Moves the start point (a point of the view) and restarts the run there. On a network the point is
    /// on the plane shown: on the start plane it is the optimizer's `start`; on another plane its
    /// weights are the optimizer's own (`weights`).
    pub fn set_start(&mut self, start: Vec2d) -> Result<(), CoreError> {
        self.apply_spec(self.spec_from(start))
    }

    /// The spec of this optimizer started at `start`, a point of the view (see [`Self::set_start`]):
    /// what a ghost path traces and a release runs.
    pub fn spec_from(&self, start: Vec2d) -> OptimizerSpec {
        let mut spec = self.spec.clone();
        match self.run.network() {
            None => spec.start = start,
            Some(n) => {
                let network = n.network();
                if **n.plane() == *network.start_plane() {
                    spec.start = start;
                    spec.weights = None;
                } else {
                    let mut weights = vec![0.0; n.plane().center.len()];
                    n.plane().point(start[0], start[1], &mut weights);
                    let at = network.start_plane().project(&weights);
                    spec.start = [at.alpha, at.beta];
                    spec.weights = Some(weights);
                }
            }
        }
        spec
    }

    /// The newest point of the run.
    pub fn position(&self) -> Vec2d {
        self.run.position()
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.run.steps()
    }

    pub fn is_running(&self) -> bool {
        self.run.status().is_running()
    }

    /// Advances up to `n` steps; stops early when the run converges or diverges.
    pub fn advance(&mut self, n: u32) {
        let generation = self.generation;
        let mut tracker = self
            .score
            .as_mut()
            .filter(|(g, _)| *g == generation)
            .map(|(_, tracker)| tracker);
        for _ in 0..n {
            match self.run.step() {
                Some(record) => {
                    self.history.push(record);
                    if let (Some(params), Some(weights)) = (&mut self.params, self.run.weights()) {
                        params.push(record.step, weights.as_slice());
                    }
                    if let Some(tracker) = &mut tracker {
                        tracker.observe(&self.run, &record);
                    }
                }
                None => break,
            }
        }
        if let Some(tracker) = tracker {
            tracker.set_status(self.run.status());
        }
    }

    /// The step the views show: the newest, or while scrubbed the kept step at or before
    /// [`Self::view_step`].
    pub fn displayed_step(&self) -> u64 {
        match self.view_step {
            None => self.history.steps(),
            Some(k) => self.history.kept_step_at_or_before(k),
        }
    }

    /// The kept rows up to and including the displayed step.
    pub fn displayed_history(&self) -> impl Iterator<Item = &StepRecord> {
        self.history.rows_to(self.displayed_step())
    }

    /// The row of the displayed step.
    pub fn displayed_record(&self) -> StepRecord {
        *self.history.at_or_before(self.displayed_step())
    }

    /// Where the views put the ball: the displayed step's position.
    pub fn displayed_position(&self) -> Vec2d {
        self.displayed_record().pos
    }

    /// A fresh runner re-run `k` steps from the start (fewer if the run stopped earlier), with the live
    /// hyperparameter changes applied at the steps they were made: bit-identical to this run at step `k`,
    /// random numbers included, since a run is deterministic for its seed.
    pub fn replay(&self, k: u64) -> Result<SceneRun, CoreError> {
        let mut spec = self.spec.clone();
        if let Some(&(_, first)) = self.hyper_log.first() {
            spec.hyper = first;
        }
        // a clone shares the landscape or network; `configure` then puts it back at the start with
        // fresh random numbers
        let mut run = self.run.clone();
        run.configure(&spec)?;
        self.replay_onto(&mut run, k)?;
        Ok(run)
    }

    /// Advances `run` (a replay of this run at an earlier step) to step `k`, applying the live
    /// hyperparameter changes on the way. Stops early when the run stops.
    pub fn replay_onto(&self, run: &mut SceneRun, k: u64) -> Result<(), CoreError> {
        while run.steps() < k {
            self.apply_logged_hyper(run)?;
            if !run.advance() {
                break;
            }
        }
        self.apply_logged_hyper(run)
    }

    /// The hyperparameters that were live when this run had taken `steps` steps.
    pub fn hyper_at(&self, steps: u64) -> Option<Hyperparams> {
        self.hyper_log
            .iter()
            .rev()
            .find(|(at, _)| *at <= steps)
            .map(|&(_, hyper)| hyper)
    }

    /// Sets the hyperparameters that were live when this run was at `run`'s step.
    pub fn apply_logged_hyper(&self, run: &mut SceneRun) -> Result<(), CoreError> {
        if let Some(hyper) = self.hyper_at(run.steps())
            && *run.hyper() != hyper
        {
            run.set_hyper(hyper)?;
        }
        Ok(())
    }

    /// Forgets everything after step `k` and continues from there: the history is cut after step `k`
    /// and the runner is replaced by a replay to step `k`, so that stepping on gives exactly the run that
    /// never went back. A `k` at or past the newest step only drops the scrub.
    pub fn branch_at(&mut self, k: u64) -> Result<(), CoreError> {
        self.view_step = None;
        if k >= self.run.steps() {
            return Ok(());
        }
        let run = self.replay(k)?;
        self.history.truncate_to(run.record());
        if let (Some(params), Some(weights)) = (&mut self.params, run.weights()) {
            params.truncate_to(run.steps(), weights.as_slice());
        }
        self.hyper_log.retain(|&(at, _)| at <= k);
        // the views drew the steps after k: they start again from the shorter history
        self.generation = self.generation.wrapping_add(1);
        // the sliders show what the run continues with
        self.spec.hyper = *run.hyper();
        self.run = run;
        Ok(())
    }
}

/// The bundle for an optimizer entity, or why the spec cannot run on this landscape.
pub fn optimizer(spec: OptimizerSpec, landscape: Arc<Landscape>) -> Result<impl Bundle, CoreError> {
    Ok((
        Name::new(spec.name.clone()),
        Optimizer::new(spec, landscape)?,
    ))
}

/// Play/pause state and speed of the simulation.
#[derive(Resource, Debug, Clone)]
pub struct Playback {
    pub playing: bool,
    /// Optimizer steps per second while playing (1 ..= 1000).
    pub steps_per_second: f64,
    /// Fractional steps carried between ticks.
    pub budget: f64,
    /// Single steps asked for (N / Right / the panel's Step button), taken at the next tick.
    pub queued_steps: u32,
    /// While [`NETWORK_STEP_BUDGET`] holds the runs back: the steps per second they really take
    /// (measured over the last second of play); `None` while they keep up.
    pub held_back: Option<f64>,
    /// The second being measured for `held_back`: steps taken, seconds, whether a tick was cut.
    window: (u64, f64, bool),
}

impl Default for Playback {
    fn default() -> Self {
        Self {
            playing: false,
            steps_per_second: 30.0,
            budget: 0.0,
            queued_steps: 0,
            held_back: None,
            window: (0, 0.0, false),
        }
    }
}

impl Playback {
    /// Multiplies the speed, clamped to [`SPEED_RANGE`].
    pub fn scale_speed(&mut self, factor: f64) {
        self.steps_per_second =
            (self.steps_per_second * factor).clamp(SPEED_RANGE.0, SPEED_RANGE.1);
    }
}

/// Asks every optimizer to restart from its start point.
#[derive(Message, Debug, Clone, Copy, Default)]
pub struct RestartRuns;

/// The simulation alone: no rendering, so headless tests can add it to `MinimalPlugins`.
pub fn simulation_plugin(app: &mut App) {
    app.init_resource::<Playback>()
        .init_resource::<KeepAwake>()
        .add_message::<RestartRuns>()
        .insert_resource(Time::<Fixed>::from_hz(FIXED_HZ))
        .add_systems(
            Update,
            (
                rebind_landscape.run_if(resource_exists_and_changed::<ActiveLandscape>),
                restart_runs.run_if(on_message::<RestartRuns>),
            )
                .chain()
                .in_set(AppSystems::Restart),
        )
        .add_systems(Update, keep_awake_while_running.in_set(AppSystems::Persist))
        .add_systems(FixedUpdate, step_optimizers.in_set(AppSystems::Step));
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins((simulation_plugin, keys_plugin, visuals::plugin));
}

/// Space, N / →, R, [ and ]: play, step, restart, slower, faster (no window needed, so headless tests
/// can press them next to [`simulation_plugin`]).
pub fn keys_plugin(app: &mut App) {
    app.init_resource::<EguiKeyboard>().add_systems(
        Update,
        (
            toggle_play.run_if(input_just_pressed(KeyCode::Space)),
            single_step.run_if(
                input_just_pressed(KeyCode::KeyN).or_else(input_just_pressed(KeyCode::ArrowRight)),
            ),
            request_restart.run_if(input_just_pressed(KeyCode::KeyR)),
            slower.run_if(input_just_pressed(KeyCode::BracketLeft)),
            faster.run_if(input_just_pressed(KeyCode::BracketRight)),
        )
            .run_if(keys_free)
            .in_set(AppSystems::Input),
    );
}

/// Advances every running optimizer by this tick's share of steps.
pub fn step_optimizers(
    time: Res<Time>,
    mut playback: ResMut<Playback>,
    mut optimizers: Query<&mut Optimizer>,
) {
    let mut steps = std::mem::take(&mut playback.queued_steps);
    if playback.playing {
        playback.budget += playback.steps_per_second * time.delta_secs_f64();
        let whole = playback.budget.floor();
        playback.budget -= whole;
        steps += whole as u32;
    }
    let steps = steps.min(MAX_STEPS_PER_TICK);
    let heavy = optimizers.iter().any(|o| o.run.network().is_some());
    let deadline = std::time::Instant::now() + NETWORK_STEP_BUDGET;
    // in lockstep, a step at a time: the runs of a race always stand at the same step
    let mut taken = 0;
    while taken < steps {
        for mut optimizer in &mut optimizers {
            optimizer.advance(1);
        }
        taken += 1;
        if heavy && std::time::Instant::now() >= deadline {
            break;
        }
    }
    if playback.playing {
        measure_speed(&mut playback, taken, steps, time.delta_secs_f64());
    }
}

/// Keeps [`Playback::held_back`]: over each second of play, whether a tick was cut short and how many
/// steps the runs took.
fn measure_speed(playback: &mut Playback, taken: u32, asked: u32, dt: f64) {
    let (steps, seconds, cut) = &mut playback.window;
    *steps += u64::from(taken);
    *seconds += dt;
    *cut |= taken < asked;
    if *seconds >= 1.0 {
        playback.held_back = cut.then(|| *steps as f64 / *seconds);
        playback.window = (0, 0.0, false);
    }
}

fn toggle_play(mut playback: ResMut<Playback>) {
    playback.playing = !playback.playing;
    playback.held_back = None;
}

fn single_step(mut playback: ResMut<Playback>) {
    playback.playing = false;
    playback.queued_steps += 1;
}

fn request_restart(mut restart: MessageWriter<RestartRuns>) {
    restart.write(RestartRuns);
}

fn slower(mut playback: ResMut<Playback>) {
    playback.scale_speed(0.5);
}

fn faster(mut playback: ResMut<Playback>) {
    playback.scale_speed(2.0);
}

/// Playing runs (or a step asked for) need the next frames.
fn keep_awake_while_running(
    playback: Res<Playback>,
    optimizers: Query<&Optimizer>,
    mut awake: ResMut<KeepAwake>,
) {
    if playback.queued_steps > 0 || (playback.playing && optimizers.iter().any(|o| o.is_running()))
    {
        awake.request();
    }
}

/// Every run back to its start.
fn restart_runs(mut optimizers: Query<&mut Optimizer>, mut playback: ResMut<Playback>) {
    playback.budget = 0.0;
    playback.queued_steps = 0;
    for mut optimizer in &mut optimizers {
        optimizer.restart();
    }
}

/// A new landscape: every optimizer restarts on it (from its own start if that lies in the new domain,
/// else from the landscape's suggested start). The same network seen through another plane (or a
/// finer slice of it) is no new problem: the runs go on and are seen through the new plane.
fn rebind_landscape(landscape: Res<ActiveLandscape>, mut optimizers: Query<&mut Optimizer>) {
    let domain = landscape.0.domain();
    for mut optimizer in &mut optimizers {
        if let (Some(view), Some(run)) = (landscape.0.network(), optimizer.run.network())
            && Arc::ptr_eq(view.network(), run.network())
        {
            if !Arc::ptr_eq(view.plane(), run.plane()) {
                optimizer.set_plane(Arc::clone(view.plane()));
            }
            continue;
        }
        let mut spec = optimizer.spec.clone();
        if !domain.contains(spec.start) {
            spec.start = landscape.0.default_start();
        }
        match Optimizer::new(spec.clone(), landscape.0.clone()) {
            Ok(fresh) => optimizer.replace_run(fresh),
            Err(e) => {
                // e.g. a start where the new landscape is not finite: fall back to its suggested start
                warn!(
                    "{}: {e}; starting at the landscape's suggested start",
                    spec.name
                );
                spec.start = landscape.0.default_start();
                if let Ok(fresh) = Optimizer::new(spec, landscape.0.clone()) {
                    optimizer.replace_run(fresh);
                }
            }
        }
    }
}
