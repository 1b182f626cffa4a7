//! Maps: many runs at once, one per cell of a grid, on all cores. Two kinds share the machinery in
//! this file: [`sweep`] (one cell per hyperparameter setting: "for which η does this work?") and
//! [`basins`] (one cell per start point: "where does each start end up?"); [`color`] turns either into
//! RGBA pixels.
//!
//! How a map is computed:
//! - Every cell is one run, exactly [`trace`](crate::core::trace) with that cell's settings: a
//!   [`Runner`] stepped up to K times (it stops early only where `trace` does: convergence or
//!   divergence). A cell's end is `trace`'s last row and status, bit for bit. Only the end is kept,
//!   never a history: a 256 x 256 map holds 65 536 [`RunEnd`]s.
//! - Cells run in parallel on rayon's thread pool (the global one, one thread per core, or whatever pool
//!   the caller `install`s). Each result is written into its own slot, by cell index: the map does not
//!   depend on the number of threads or on the order in which they finish.
//! - [`MapCells`] is the grid being filled: a write-once slot per cell ([`OnceLock`]), a counter of
//!   finished cells (an [`AtomicU64`]) and a cancel flag (an [`AtomicBool`]). It is shared (`Arc`)
//!   between the thread that computes and any thread that reads: the app can draw the finished cells
//!   every frame while the others are still running. No lock is ever held; a reader sees a cell as soon
//!   as it is written and never a half-written one.
//! - Cancel is checked before each cell, so a cancelled map stops within one cell's run per thread and
//!   ends in [`MapError::Cancelled`]. Cells already written stay readable.
//! - [`MapJob`] runs a map on a background thread of its own (the caller's thread is never blocked) and
//!   hands back the finished map; dropping a job cancels it.
//! - Speed: a step allocates nothing; Adam's bias corrections `1 - beta^t` come from one
//!   [`BiasTable`] per map (per row or column when a beta is varied) instead of two `powf` per step,
//!   the very numbers `trace` computes. No early exit other than `trace`'s own (convergence below the
//!   run's tolerance, divergence), so the semantics are `trace`'s.
//!
//! For the app: `SweepSpec::spawn(landscape)` / `BasinSpec::spawn(landscape)` give a [`MapJob`]; poll
//! [`MapJob::progress`] and [`MapJob::try_take`] each frame, [`MapJob::cancel`] (or drop it) when the
//! settings change; turn the finished [`SweepMap`] / [`BasinMap`] into pixels with their `to_rgba` and
//! read a hovered cell with `cell_at`.

pub mod basins;
pub mod color;
pub mod sweep;

pub use basins::{
    BasinCell, BasinMap, BasinMinimum, BasinSpec, DEFAULT_BASIN_GRID, MAX_BASIN_GRID,
};
pub use sweep::{
    AxisScale, DEFAULT_SWEEP_COUNT, MAX_SWEEP_COUNT, SweepAxis, SweepCell, SweepMap, SweepMetric,
    SweepParam, SweepSpec,
};

use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use super::error::CoreError;
use super::landscape::{Landscape, Vec2d, norm};
use super::optimizer::{BiasTable, Hyperparams, OptimizerKind};
use super::simulation::{
    DIVERGENCE_BOUND, DivergenceReason, RunConfig, RunStatus, Runner, StepRecord,
};

/// Default number of steps per cell (K).
pub const DEFAULT_MAP_STEPS: u64 = 1_000;
/// The most steps per cell a map accepts (a guard against typos: 256 x 256 cells of 100 000 Adam
/// steps take about ten minutes on two cores).
pub const MAX_MAP_STEPS: u64 = 100_000;

/// Why a map has no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MapError {
    /// The settings were refused before any cell ran.
    #[error(transparent)]
    Invalid(#[from] CoreError),
    /// [`MapCells::cancel`] was called; `done` cells had been computed (they stay readable).
    #[error("cancelled after {done} of {total} cells")]
    Cancelled {
        /// Cells finished before the map stopped.
        done: u64,
        /// Cells in the map.
        total: u64,
    },
    /// The background thread could not be started or stopped without a result (a bug).
    #[error("the map's background thread stopped without a result")]
    Stopped,
}

/// A map's cells as they are filled: one write-once slot per cell, a progress counter and a cancel
/// flag. Share it behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct MapCells<T> {
    slots: Vec<OnceLock<T>>,
    done: AtomicU64,
    cancel: AtomicBool,
}

impl<T> MapCells<T> {
    /// `len` empty cells, nothing done, not cancelled.
    pub fn new(len: usize) -> Self {
        Self {
            slots: (0..len).map(|_| OnceLock::new()).collect(),
            done: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the map has no cells.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Cell `index` if it is finished (`None` while it is pending, or past the end).
    pub fn get(&self, index: usize) -> Option<&T> {
        self.slots.get(index).and_then(OnceLock::get)
    }

    /// Every cell in index order, `None` where it is still pending: the partial map.
    pub fn iter(&self) -> impl Iterator<Item = Option<&T>> {
        self.slots.iter().map(OnceLock::get)
    }

    /// Cells finished so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Acquire)
    }

    /// The progress counter itself (cells finished), for callers that watch an `&AtomicU64`.
    pub fn done_counter(&self) -> &AtomicU64 {
        &self.done
    }

    /// Fraction finished, 0 to 1 (1 for an empty map).
    pub fn fraction(&self) -> f64 {
        if self.slots.is_empty() {
            1.0
        } else {
            self.done() as f64 / self.slots.len() as f64
        }
    }

    /// Asks the computation to stop: cells not yet started are skipped.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Release);
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Acquire)
    }

    /// The cancel flag itself, for callers that hold an `&AtomicBool`.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    /// Every cell, if all are finished.
    fn complete(&self) -> Option<Vec<T>>
    where
        T: Clone,
    {
        self.slots.iter().map(|slot| slot.get().cloned()).collect()
    }

    /// Computes every pending cell with `work(scratch, index)` on the current rayon pool, each thread
    /// with its own `scratch` from `init`; then returns all cells, or [`MapError::Cancelled`].
    pub(crate) fn fill<S>(
        &self,
        init: impl Fn() -> S + Send + Sync,
        work: impl Fn(&mut S, usize) -> T + Send + Sync,
    ) -> Result<Vec<T>, MapError>
    where
        T: Clone + Send + Sync,
    {
        self.fill_range(0..self.slots.len(), init, work);
        self.complete().ok_or(MapError::Cancelled {
            done: self.done(),
            total: self.slots.len() as u64,
        })
    }

    /// [`Self::fill`] for the cells in `range` only (clamped to the map): computes each pending one with
    /// `work(scratch, index)` on the current rayon pool and returns once all are finished or the map is
    /// cancelled; `true` when every cell of `range` is finished. A slice of a network's loss fills its
    /// coarse levels this way, one range after the other.
    pub(crate) fn fill_range<S>(
        &self,
        range: Range<usize>,
        init: impl Fn() -> S + Send + Sync,
        work: impl Fn(&mut S, usize) -> T + Send + Sync,
    ) -> bool
    where
        T: Send + Sync,
    {
        let end = range.end.min(self.slots.len());
        let start = range.start.min(end);
        self.slots[start..end].par_iter().enumerate().for_each_init(
            init,
            |scratch, (offset, slot)| {
                if self.is_cancelled() || slot.get().is_some() {
                    return;
                }
                if slot.set(work(scratch, start + offset)).is_ok() {
                    self.done.fetch_add(1, Ordering::AcqRel);
                }
            },
        );
        self.slots[start..end]
            .iter()
            .all(|slot| slot.get().is_some())
    }
}

/// A map computed on a background thread: read its cells while it runs ([`Self::cells`]), cancel it,
/// and take the finished map once ([`Self::try_take`] from a frame loop, or [`Self::join`]). Dropping
/// the job cancels the computation (the thread then ends by itself within one cell's run).
#[derive(Debug)]
pub struct MapJob<M, T> {
    cells: Arc<MapCells<T>>,
    thread: Option<JoinHandle<Result<M, MapError>>>,
}

/// A grid of runs computed on all cores: what sweeps, basin maps and escape statistics share. Each
/// spec says how to make its empty cells and how to fill them ([`MapSpec::compute`], blocking, on the
/// current rayon pool); running it here or in the background comes with the trait.
pub trait MapSpec: Send + Sync + Sized + 'static {
    /// What a finished computation gives.
    type Output: Send + 'static;
    /// One cell's result.
    type Cell: Send + Sync + 'static;

    /// Empty cells for this spec, to pass to [`Self::compute`].
    fn cells(&self) -> MapCells<Self::Cell>;

    /// Fills `cells` on the current rayon pool; blocks until done or cancelled.
    fn compute(
        &self,
        landscape: &Landscape,
        cells: &MapCells<Self::Cell>,
    ) -> Result<Self::Output, MapError>;

    /// [`Self::compute`] with fresh cells.
    fn run(&self, landscape: &Landscape) -> Result<Self::Output, MapError> {
        self.compute(landscape, &self.cells())
    }

    /// [`Self::compute`] on a background thread: poll the job's progress, cancel it or take the result.
    fn spawn(self, landscape: Arc<Landscape>) -> MapJob<Self::Output, Self::Cell> {
        let cells = self.cells();
        MapJob::spawn(cells, move |cells| self.compute(&landscape, cells))
    }

    /// [`Self::spawn`] on `pool` instead of rayon's global pool (e.g. one thread fewer than the cores,
    /// so that the app's frames keep a core).
    fn spawn_on(
        self,
        landscape: Arc<Landscape>,
        pool: Arc<rayon::ThreadPool>,
    ) -> MapJob<Self::Output, Self::Cell> {
        let cells = self.cells();
        MapJob::spawn(cells, move |cells| {
            pool.install(|| self.compute(&landscape, cells))
        })
    }
}

impl<M: Send + 'static, T: Send + Sync + 'static> MapJob<M, T> {
    /// Runs `compute` over `cells` on a new thread named `losscape-map`.
    pub(crate) fn spawn(
        cells: MapCells<T>,
        compute: impl FnOnce(&MapCells<T>) -> Result<M, MapError> + Send + 'static,
    ) -> Self {
        let cells = Arc::new(cells);
        let shared = Arc::clone(&cells);
        let thread = std::thread::Builder::new()
            .name("losscape-map".to_owned())
            .spawn(move || compute(&shared))
            .ok();
        Self { cells, thread }
    }

    /// The cells, finished or pending: the partial map.
    pub fn cells(&self) -> &MapCells<T> {
        &self.cells
    }

    /// The cells as a shared handle (e.g. for another thread that draws them).
    pub fn shared_cells(&self) -> Arc<MapCells<T>> {
        Arc::clone(&self.cells)
    }

    /// Cells finished so far and cells in all.
    pub fn progress(&self) -> (u64, u64) {
        (self.cells.done(), self.cells.len() as u64)
    }

    /// Asks the computation to stop; [`Self::join`] then returns [`MapError::Cancelled`].
    pub fn cancel(&self) {
        self.cells.cancel();
    }

    /// Whether the thread has ended (finished, cancelled, or already taken).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// The result if the thread has ended, without waiting; `None` while it runs and after the result
    /// was taken.
    pub fn try_take(&mut self) -> Option<Result<M, MapError>> {
        if !self.thread.as_ref()?.is_finished() {
            return None;
        }
        self.thread.take().map(Self::result_of)
    }

    /// Waits for the result.
    pub fn join(mut self) -> Result<M, MapError> {
        self.thread
            .take()
            .map_or(Err(MapError::Stopped), Self::result_of)
    }

    fn result_of(thread: JoinHandle<Result<M, MapError>>) -> Result<M, MapError> {
        thread.join().unwrap_or(Err(MapError::Stopped))
    }
}

impl<M, T> Drop for MapJob<M, T> {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.cells.cancel();
        }
    }
}

/// How one cell's run ended: [`trace`](crate::core::trace)'s last row (position, loss, steps taken)
/// and its status.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunEnd {
    /// Final position in param space (the last good one for a diverged run).
    pub pos: Vec2d,
    /// Loss there.
    pub loss: f64,
    /// Norm of the exact gradient there, `|grad L(pos)|`.
    pub grad_norm: f64,
    /// Steps taken (fewer than K when the run converged or diverged).
    pub steps: u64,
    /// Running (used up its K steps), converged or diverged.
    pub status: RunStatus,
}

impl RunEnd {
    /// Whether the run diverged.
    pub fn diverged(&self) -> bool {
        matches!(self.status, RunStatus::Diverged { .. })
    }

    /// A start the core refused (its loss or gradient is not finite there): shown as a run whose first
    /// step diverged, at its start, with a NaN loss.
    pub(crate) fn refused(start: Vec2d) -> Self {
        Self {
            pos: start,
            loss: f64::NAN,
            grad_norm: f64::NAN,
            steps: 0,
            status: RunStatus::Diverged {
                step: 1,
                reason: DivergenceReason::NonFiniteLoss,
            },
        }
    }

    /// Whether the run converged (exact gradient norm below the tolerance).
    pub fn converged(&self) -> bool {
        matches!(self.status, RunStatus::Converged { .. })
    }
}

/// Runs `config` for up to `steps` steps exactly as [`trace`](crate::core::trace) does, showing `observe`
/// every row (the start first, then each accepted step's row with the exact gradient there).
/// `table`, when given, holds Adam's bias corrections for the run's betas (the same numbers `trace`
/// computes, looked up instead of two `powf` per step).
pub(crate) fn run_cell(
    landscape: &Landscape,
    config: RunConfig,
    steps: u64,
    table: Option<&BiasTable>,
    mut observe: impl FnMut(&StepRecord),
) -> Result<RunEnd, CoreError> {
    let mut runner = Runner::new(landscape, config)?;
    observe(&runner.record());
    for _ in 0..steps {
        let Some(record) = runner.step_with(table) else {
            break;
        };
        observe(&record);
    }
    Ok(RunEnd {
        pos: runner.position(),
        loss: runner.loss(),
        grad_norm: norm(runner.record().grad),
        steps: runner.steps(),
        status: runner.status(),
    })
}

/// A bias-correction table for runs of `kind` with `hyper` over `steps` steps, where one is worth
/// having (Adam, AdamW, AMSGrad and QHAdam with bias correction).
pub(crate) fn bias_table(
    kind: OptimizerKind,
    hyper: &Hyperparams,
    steps: u64,
) -> Option<BiasTable> {
    (kind.uses_bias_correction() && hyper.bias_correction).then(|| BiasTable::new(hyper, steps))
}

/// Checks a map's step count: `1..=MAX_MAP_STEPS`.
pub(crate) fn check_steps(steps: u64) -> Result<(), String> {
    if (1..=MAX_MAP_STEPS).contains(&steps) {
        Ok(())
    } else {
        Err(format!(
            "steps = {steps} must be between 1 and {MAX_MAP_STEPS}"
        ))
    }
}

/// Whether `p` is finite and inside the divergence box (a valid place to start or look).
pub(crate) fn in_bounds(p: Vec2d) -> bool {
    p.iter()
        .all(|c| c.is_finite() && c.abs() <= DIVERGENCE_BOUND)
}
