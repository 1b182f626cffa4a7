//! One optimizer of a scene, running, as the views see it: on a 2-D landscape its own [`Runner`]; on a
//! network a runner over every weight, seen through the plane shown ([`NetworkRun`]). Both hand out
//! rows in the view's coordinates ([`StepRecord`] of `(x, y)`, which for a network is the run's
//! least-squares projection `(α, β)` onto the plane, with its true loss), so that the app, the recorder
//! and the command line draw and score either the same way.

use std::sync::Arc;

use super::error::CoreError;
use super::landscape::{Landscape, Vec2d};
use super::network::{Network, Plane, Projection};
use super::optimizer::{Hyperparams, OptimizerKind};
use super::scene::OptimizerSpec;
use super::simulation::{PointOf, RunConfig, RunStatus, Runner, StepRecord};

/// A run of a scene's optimizer.
#[derive(Clone, Debug)]
// Both variants are about a kilobyte (a runner's state and its bias table); a box would only move the
// smaller one behind a pointer, one per optimizer on screen.
#[allow(clippy::large_enum_variant)]
pub enum SceneRun {
    /// On a 2-D landscape.
    Surface(Runner),
    /// On a network, every weight, seen through a plane.
    Network(NetworkRun),
}

/// A network run seen through a plane: the runner over all N weights, the plane the views show, and
/// where the run stands on it.
#[derive(Clone, Debug)]
pub struct NetworkRun {
    runner: Runner<Arc<Network>>,
    plane: Arc<Plane>,
    /// The run's projection onto the plane now.
    at: Projection,
}

impl NetworkRun {
    /// A run of `config` on `network`, seen through `plane`.
    pub fn new(
        network: Arc<Network>,
        plane: Arc<Plane>,
        config: RunConfig<Vec<f64>>,
    ) -> Result<Self, CoreError> {
        let runner = Runner::new(network, config)?;
        let at = plane.project(runner.position_ref());
        Ok(Self { runner, plane, at })
    }

    /// The runner over every weight.
    pub fn runner(&self) -> &Runner<Arc<Network>> {
        &self.runner
    }

    /// The network it trains.
    pub fn network(&self) -> &Arc<Network> {
        self.runner.objective_handle()
    }

    /// The plane the views show.
    pub fn plane(&self) -> &Arc<Plane> {
        &self.plane
    }

    /// Where the run is relative to the plane: `(α, β)` of the nearest point and the distance to it.
    pub fn projection(&self) -> Projection {
        self.at
    }

    /// Sees the run through another plane (same network): nothing about the run changes.
    pub fn set_plane(&mut self, plane: Arc<Plane>) {
        self.at = plane.project(self.runner.position_ref());
        self.plane = plane;
    }

    /// The gradient of the loss along the plane at the run's weights: `(d1·∇L, d2·∇L)`, what the views
    /// can draw of it (the rest points out of the plane).
    pub fn plane_gradient(&self) -> Vec2d {
        let g = self.runner.gradient().as_slice();
        [dot(&self.plane.d1, g), dot(&self.plane.d2, g)]
    }

    /// The row the views draw: `(α, β)`, the true loss, the gradient along the plane.
    pub fn view_record(&self) -> StepRecord {
        StepRecord {
            step: self.runner.steps(),
            pos: [self.at.alpha, self.at.beta],
            loss: self.runner.loss(),
            grad: self.plane_gradient(),
            evals: self.runner.evals(),
        }
    }

    fn advance(&mut self) -> bool {
        let stepped = self.runner.advance(None);
        if stepped {
            self.at = self.plane.project(self.runner.position_ref());
        }
        stepped
    }

    fn refresh(&mut self) {
        self.at = self.plane.project(self.runner.position_ref());
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The weights a network optimizer starts from: its own (`weights`) when the scene gives them, else the
/// point `start = (α, β)` of the network's start plane.
pub fn network_start(network: &Network, spec: &OptimizerSpec) -> Vec<f64> {
    spec.weights
        .clone()
        .unwrap_or_else(|| network.start_at(spec.start))
}

impl SceneRun {
    /// `spec`'s run on `landscape`: a 2-D run, or on a network landscape a run over every weight seen
    /// through the landscape's plane. Refused as the runner refuses (a bad hyperparameter, a start where
    /// the loss is not finite, Newton's methods on a network).
    pub fn new(landscape: &Arc<Landscape>, spec: &OptimizerSpec) -> Result<Self, CoreError> {
        Self::with_tolerance(landscape, spec, None)
    }

    /// [`Self::new`] with another convergence tolerance on the gradient norm (`compare --tol`).
    pub fn with_tolerance(
        landscape: &Arc<Landscape>,
        spec: &OptimizerSpec,
        converge_tol: Option<f64>,
    ) -> Result<Self, CoreError> {
        match landscape.network() {
            None => {
                let mut config = spec.run_config();
                config.converge_tol = converge_tol.unwrap_or(config.converge_tol);
                Ok(Self::Surface(Runner::new(Arc::clone(landscape), config)?))
            }
            Some(view) => {
                let network = Arc::clone(view.network());
                let mut config = RunConfig {
                    start: network_start(&network, spec),
                    ..spec.network_config()
                };
                config.converge_tol = converge_tol.unwrap_or(config.converge_tol);
                Ok(Self::Network(NetworkRun::new(
                    network,
                    Arc::clone(view.plane()),
                    config,
                )?))
            }
        }
    }

    /// Takes one step; the new row in the view's coordinates, or `None` when the run had stopped or
    /// this step diverged (then [`Self::status`] says why).
    pub fn step(&mut self) -> Option<StepRecord> {
        self.advance().then(|| self.record())
    }

    /// Takes one step without a row: `true` if it was taken.
    pub fn advance(&mut self) -> bool {
        match self {
            Self::Surface(r) => r.advance(None),
            Self::Network(n) => n.advance(),
        }
    }

    /// The row now, in the view's coordinates.
    pub fn record(&self) -> StepRecord {
        match self {
            Self::Surface(r) => r.record(),
            Self::Network(n) => n.view_record(),
        }
    }

    /// Where the views put the run now.
    pub fn position(&self) -> Vec2d {
        match self {
            Self::Surface(r) => r.position(),
            Self::Network(n) => [n.at.alpha, n.at.beta],
        }
    }

    /// The true loss now.
    pub fn loss(&self) -> f64 {
        match self {
            Self::Surface(r) => r.loss(),
            Self::Network(n) => n.runner.loss(),
        }
    }

    /// The classification accuracy now (a network's).
    pub fn accuracy(&self) -> Option<f64> {
        match self {
            Self::Surface(_) => None,
            Self::Network(n) => n.runner.accuracy(),
        }
    }

    /// The norm of the gradient of the loss at the current position, over every parameter (a
    /// network's whole gradient, not only its part along the plane).
    pub fn gradient_norm(&self) -> f64 {
        match self {
            Self::Surface(r) => r.gradient().iter().map(|g| g * g).sum::<f64>().sqrt(),
            Self::Network(n) => n
                .runner
                .gradient()
                .iter()
                .map(|g| g * g)
                .sum::<f64>()
                .sqrt(),
        }
    }

    /// The last step's mini-batch loss (a network's, when it drew one).
    pub fn batch_loss(&self) -> Option<f64> {
        match self {
            Self::Surface(r) => r.batch_loss(),
            Self::Network(n) => n.runner.batch_loss(),
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        match self {
            Self::Surface(r) => r.steps(),
            Self::Network(n) => n.runner.steps(),
        }
    }

    /// Running, converged or diverged.
    pub fn status(&self) -> RunStatus {
        match self {
            Self::Surface(r) => r.status(),
            Self::Network(n) => n.runner.status(),
        }
    }

    /// The update rule.
    pub fn kind(&self) -> OptimizerKind {
        match self {
            Self::Surface(r) => r.config().kind,
            Self::Network(n) => n.runner.config().kind,
        }
    }

    /// The hyperparameters now (with any live change).
    pub fn hyper(&self) -> &Hyperparams {
        match self {
            Self::Surface(r) => &r.config().hyper,
            Self::Network(n) => &n.runner.config().hyper,
        }
    }

    /// Changes the hyperparameters live (from the next step; the run keeps its memory).
    pub fn set_hyper(&mut self, hyper: Hyperparams) -> Result<(), CoreError> {
        match self {
            Self::Surface(r) => r.set_hyper(hyper),
            Self::Network(n) => n.runner.set_hyper(hyper),
        }
    }

    /// Back to the start.
    pub fn reset(&mut self) {
        match self {
            Self::Surface(r) => r.reset(),
            Self::Network(n) => {
                n.runner.reset();
                n.refresh();
            }
        }
    }

    /// Runs `spec` from its start instead (kind, start, noise, seed, hyperparameters), or why not; the
    /// run is unchanged when refused.
    pub fn configure(&mut self, spec: &OptimizerSpec) -> Result<(), CoreError> {
        match self {
            Self::Surface(r) => r.set_config(spec.run_config()),
            Self::Network(n) => {
                let config = RunConfig {
                    start: network_start(n.network(), spec),
                    ..spec.network_config()
                };
                n.runner.set_config(config)?;
                n.refresh();
                Ok(())
            }
        }
    }

    /// The 2-D run, on a landscape.
    pub fn surface(&self) -> Option<&Runner> {
        match self {
            Self::Surface(r) => Some(r),
            Self::Network(_) => None,
        }
    }

    /// The 2-D run, mutably.
    pub fn surface_mut(&mut self) -> Option<&mut Runner> {
        match self {
            Self::Surface(r) => Some(r),
            Self::Network(_) => None,
        }
    }

    /// The network run.
    pub fn network(&self) -> Option<&NetworkRun> {
        match self {
            Self::Surface(_) => None,
            Self::Network(n) => Some(n),
        }
    }

    /// The network run, mutably.
    pub fn network_mut(&mut self) -> Option<&mut NetworkRun> {
        match self {
            Self::Surface(_) => None,
            Self::Network(n) => Some(n),
        }
    }

    /// The weights now, for a network run.
    pub fn weights(&self) -> Option<&PointOf<Arc<Network>>> {
        self.network().map(|n| n.runner.position_ref())
    }
}

/// A network run's weights at the kept steps of its [`super::History`], in bounded memory, so that the
/// views can see the run through another plane (and a PCA plane can be fitted to it) without running it
/// again. It keeps the same steps as a `History` with the same `cap`: every step at first, then every
/// 2nd, 4th, ... and the newest always.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamHistory {
    rows: Vec<(u64, Vec<f64>)>,
    newest: (u64, Vec<f64>),
    stride: u64,
    cap: usize,
}

impl ParamHistory {
    /// The rows to keep for `n` parameters: about 8 MB of weights per run, between 64 and 2,048 rows.
    pub fn cap_for(n: usize) -> usize {
        ((8 << 20) / (8 * n.max(1))).clamp(64, 2048)
    }

    /// A history that starts at `start` (step 0) and keeps about [`Self::cap_for`] rows.
    pub fn new(start: &[f64]) -> Self {
        Self::with_cap(start, Self::cap_for(start.len()))
    }

    /// A history of at most `cap` rows (at least 4) before thinning.
    pub fn with_cap(start: &[f64], cap: usize) -> Self {
        Self {
            rows: vec![(0, start.to_vec())],
            newest: (0, start.to_vec()),
            stride: 1,
            cap: cap.max(4),
        }
    }

    /// Its row budget (give a `History` the same, so both keep the same steps).
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Steps between kept rows now (1, then 2, 4, ...).
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// Adds the weights after `step` steps (the step after the newest).
    pub fn push(&mut self, step: u64, weights: &[f64]) {
        self.newest.0 = step;
        self.newest.1.clear();
        self.newest.1.extend_from_slice(weights);
        if step.is_multiple_of(self.stride) {
            self.rows.push((step, weights.to_vec()));
            if self.rows.len() > self.cap {
                let stride = self.stride * 2;
                self.rows.retain(|(k, _)| k.is_multiple_of(stride));
                self.stride = stride;
            }
        }
    }

    /// Forgets the rows after step `k` (a branch of the timeline); `newest` becomes the kept row at or
    /// before `k`, then `weights` of step `k` if given.
    pub fn truncate_to(&mut self, k: u64, weights: &[f64]) {
        self.rows.retain(|(step, _)| *step <= k);
        if self.rows.last().is_some_and(|(step, _)| *step != k) && k.is_multiple_of(self.stride) {
            self.rows.push((k, weights.to_vec()));
        }
        self.newest = (k, weights.to_vec());
    }

    /// The kept rows, step 0 first (without the newest unless it is kept).
    pub fn kept(&self) -> impl Iterator<Item = (u64, &[f64])> {
        self.rows.iter().map(|(k, w)| (*k, w.as_slice()))
    }

    /// The kept rows, step 0 first, then the newest if it is not kept.
    pub fn rows(&self) -> impl Iterator<Item = (u64, &[f64])> {
        let last_kept = self.rows.last().map(|(k, _)| *k);
        self.rows.iter().map(|(k, w)| (*k, w.as_slice())).chain(
            (last_kept != Some(self.newest.0)).then_some((self.newest.0, self.newest.1.as_slice())),
        )
    }

    /// The weights kept at step `k`, if it is kept (or is the newest).
    pub fn at(&self, k: u64) -> Option<&[f64]> {
        if self.newest.0 == k {
            return Some(&self.newest.1);
        }
        self.rows
            .binary_search_by_key(&k, |(step, _)| *step)
            .ok()
            .map(|i| self.rows[i].1.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_history_keeps_the_steps_a_history_keeps() {
        use super::super::History;
        let mut weights = ParamHistory::with_cap(&[0.0, 0.0], 8);
        let mut history = History::with_cap(
            StepRecord {
                step: 0,
                pos: [0.0, 0.0],
                loss: 0.0,
                grad: [0.0, 0.0],
                evals: 1,
            },
            8,
        );
        for k in 1..=50u64 {
            let w = [k as f64, -(k as f64)];
            weights.push(k, &w);
            history.push(StepRecord {
                step: k,
                pos: [k as f64, 0.0],
                loss: 0.0,
                grad: [0.0, 0.0],
                evals: k + 1,
            });
        }
        let steps: Vec<u64> = weights.rows().map(|(k, _)| k).collect();
        let kept: Vec<u64> = history.rows_to(history.steps()).map(|r| r.step).collect();
        assert_eq!(steps, kept);
        assert_eq!(weights.at(50), Some(&[50.0, -50.0][..]));
        assert_eq!(weights.at(16), Some(&[16.0, -16.0][..]));
        assert_eq!(weights.at(17), None);
    }
}
