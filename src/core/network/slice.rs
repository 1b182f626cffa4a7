//! The loss on a plane through parameter space: `L(c + α·d1 + β·d2)` over a G x G grid of `(α, β)`,
//! what the app draws as a surface and `losscape slice` writes as CSV. Li et al. 2018 plot the same
//! thing (their 2-D contour plots, 51 x 51 points, one full pass over the data each).
//!
//! How a slice is computed:
//! - The grid spans the plane's range with both ends included: point `(i, j)` is at
//!   `α_i = (1 − s)·α_min + s·α_max` with `s = i / (G − 1)`, and `β_j` the same with `j`; its value is
//!   exactly `loss(θ)` for the vector `θ` that [`Plane::point`] builds, `θ_k = (c_k + α·d1_k) + β·d2_k`.
//!   A loss that is not finite is stored as NaN and counted ([`SliceGrid::undefined`]); the closure is
//!   never asked twice for a point.
//! - Coarse first: with [`SliceSpec::previews`], smaller grids over the same range are computed before
//!   the G x G one, each a complete picture the app can show at once ([`slice_levels`] says which).
//!   Where a coarse point is also a point of a finer grid (the same `s`, so the same `α`, `β` to the
//!   bit) it is computed once: for G = 64 the levels are 10, 22 and 64 and cost nothing extra.
//! - The points run on rayon's pool (the global one, or the one `spawn_on` is given), one level after
//!   the other, each written into its own write-once slot of a [`MapCells`] (the machinery of the
//!   sweeps and basin maps): a value does not depend on the number of threads or on their order.
//! - [`SliceJob`] runs it on a background thread with progress and cancel; the finest complete level is
//!   readable at any time ([`SliceJob::best`]); dropping the job cancels it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use super::plane::Plane;
use crate::core::error::CoreError;
use crate::core::maps::{MapCells, MapError, MapJob};

/// Grid points per side when none is asked for (4 096 losses: about a second on two cores for a
/// 2-16-16-2 network on 400 points).
pub const DEFAULT_SLICE_GRID: usize = 64;

/// The most grid points per side (a guard against typos: 1024² full passes over the data take minutes).
pub const MAX_SLICE_GRID: usize = 1024;

/// The sizes the coarse levels aim at, smallest first (only those at most half of G are used).
const PREVIEW_TARGETS: [usize; 6] = [16, 32, 64, 128, 256, 512];

/// Grid sizes computed one after the other for a final grid of `grid` points per side with previews:
/// for each target `T` of 16, 32, 64, ... with `2 T ≤ G`, the size `n` nearest to `T` (the smaller of
/// two equally near) among the sizes in `T/2 ..= 3T/2` whose points are all points of the final grid
/// (`n − 1` divides `G − 1`) and at least 1.5 times the previous level; if there is none, `T` itself
/// when it is at least 1.5 times the previous level (computed apart: at most a third more work),
/// otherwise no level for `T`. Then `G`. G = 64 gives `[10, 22, 64]`, G = 65 `[17, 33, 65]`,
/// G = 32 `[16, 32]`, G = 20 `[20]`.
pub fn slice_levels(grid: usize) -> Vec<usize> {
    let mut levels: Vec<usize> = Vec::new();
    for target in PREVIEW_TARGETS {
        if 2 * target > grid {
            break;
        }
        let floor = levels.last().map_or(3, |&last| (3 * last).div_ceil(2));
        let nested = (target / 2..=3 * target / 2)
            .filter(|&n| n >= floor && (grid - 1).is_multiple_of(n - 1))
            .min_by_key(|&n| (n.abs_diff(target), n));
        if let Some(n) = nested.or((target >= floor).then_some(target)) {
            levels.push(n);
        }
    }
    levels.push(grid);
    levels
}

/// A slice to compute: the plane, the final grid size, whether to show coarse levels first.
#[derive(Clone, Debug)]
pub struct SliceSpec {
    /// The plane (its `alpha` and `beta` are the ranges spanned).
    pub plane: Arc<Plane>,
    /// Grid points per side G, `2..=MAX_SLICE_GRID`.
    pub grid: usize,
    /// Whether coarse levels are computed first ([`slice_levels`]); `false` computes only the G x G
    /// grid (what the command line wants: no picture to show before the end).
    pub previews: bool,
}

/// The loss over a grid of the plane: one level of a slice, or the finished slice.
#[derive(Clone, Debug, PartialEq)]
pub struct SliceGrid {
    /// Points per side n.
    pub size: usize,
    /// The `α` range spanned, `[α_min, α_max]` (both ends are grid points).
    pub alpha: [f64; 2],
    /// The `β` range spanned.
    pub beta: [f64; 2],
    /// The loss at point `(i, j)` at index `j * size + i` (`α` fastest); NaN where it is not finite.
    pub loss: Vec<f64>,
    /// How many losses are NaN.
    pub undefined: usize,
    /// Which level this is (0 = the coarsest), of `levels`.
    pub level: usize,
    /// Levels in the slice; `level == levels - 1` is the final grid.
    pub levels: usize,
}

/// Grid coordinate `k` of `n` over `range`: `(1 − s)·min + s·max` with `s = k / (n − 1)`; both ends
/// exact.
fn grid_coord(range: [f64; 2], k: usize, n: usize) -> f64 {
    let s = k as f64 / (n - 1) as f64;
    (1.0 - s) * range[0] + s * range[1]
}

impl SliceGrid {
    /// `α` of column `i`: `(1 − s)·α_min + s·α_max`, `s = i / (size − 1)`.
    pub fn alpha_at(&self, i: usize) -> f64 {
        grid_coord(self.alpha, i, self.size)
    }

    /// `β` of row `j`: `(1 − s)·β_min + s·β_max`, `s = j / (size − 1)`.
    pub fn beta_at(&self, j: usize) -> f64 {
        grid_coord(self.beta, j, self.size)
    }

    /// The loss at point `(i, j)` (`None` past the grid; NaN where undefined).
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        (i < self.size && j < self.size).then(|| self.loss[j * self.size + i])
    }

    /// Whether this is the final grid of its slice.
    pub fn is_final(&self) -> bool {
        self.level + 1 == self.levels
    }

    /// `[min, max]` of the defined losses (`None` when none is defined).
    pub fn loss_range(&self) -> Option<[f64; 2]> {
        self.loss
            .iter()
            .filter(|v| v.is_finite())
            .fold(None, |r, &v| match r {
                None => Some([v, v]),
                Some([lo, hi]) => Some([lo.min(v), hi.max(v)]),
            })
    }

    /// The loss at `(α, β)` interpolated bilinearly between the four grid points around it (a
    /// reading of the picture, not the loss there: a run's true loss is the closure at its weights).
    /// NaN outside the range or next to an undefined point.
    pub fn loss_at(&self, alpha: f64, beta: f64) -> f64 {
        let cell = |x: f64, range: [f64; 2]| -> Option<(usize, f64)> {
            let u = (x - range[0]) / (range[1] - range[0]) * (self.size - 1) as f64;
            if !(0.0..=(self.size - 1) as f64).contains(&u) {
                return None;
            }
            let k = (u.floor() as usize).min(self.size - 2);
            Some((k, u - k as f64))
        };
        let (Some((i, fx)), Some((j, fy))) = (cell(alpha, self.alpha), cell(beta, self.beta))
        else {
            return f64::NAN;
        };
        let at = |i: usize, j: usize| self.loss[j * self.size + i];
        let low = at(i, j) * (1.0 - fx) + at(i + 1, j) * fx;
        let high = at(i, j + 1) * (1.0 - fx) + at(i + 1, j + 1) * fx;
        low * (1.0 - fy) + high * fy
    }

    /// CSV: the header `alpha,beta,loss`, then one row per grid point, `α` changing fastest (row
    /// `j * size + i + 2` of the file is point `(i, j)`); numbers in shortest round-trip decimals (every
    /// bit of the f64), `NaN` for an undefined loss (read as NaN by Python's `float`, NumPy, pandas
    /// and R).
    pub fn write_csv(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "alpha,beta,loss")?;
        for j in 0..self.size {
            let beta = self.beta_at(j);
            for i in 0..self.size {
                let loss = self.loss[j * self.size + i];
                if loss.is_finite() {
                    writeln!(out, "{},{beta},{loss}", self.alpha_at(i))?;
                } else {
                    writeln!(out, "{},{beta},NaN", self.alpha_at(i))?;
                }
            }
        }
        out.flush()
    }
}

/// One level's place among the cells.
#[derive(Debug)]
struct Level {
    /// Points per side.
    size: usize,
    /// Cells `0..end` hold this level and every coarser one: it is complete once they are.
    end: usize,
    /// The cell of point `(i, j)`, at `j * size + i`.
    cells: Vec<u32>,
}

/// Where every point of every level is computed: `coords[cell]` is its `(α, β)`; the cells of level
/// `k` not already in a coarser level come right after those of level `k − 1`.
#[derive(Debug)]
struct Layout {
    alpha: [f64; 2],
    beta: [f64; 2],
    levels: Vec<Level>,
    coords: Vec<[f64; 2]>,
}

impl Layout {
    fn new(plane: &Plane, sizes: &[usize]) -> Self {
        let mut index: HashMap<(u64, u64), u32> = HashMap::new();
        let mut coords = Vec::new();
        let mut levels = Vec::with_capacity(sizes.len());
        for &n in sizes {
            let mut cells = Vec::with_capacity(n * n);
            for j in 0..n {
                for i in 0..n {
                    // The same s gives the same α and β to the bit, hence the same loss.
                    let key = (
                        (i as f64 / (n - 1) as f64).to_bits(),
                        (j as f64 / (n - 1) as f64).to_bits(),
                    );
                    let cell = *index.entry(key).or_insert_with(|| {
                        coords.push([grid_coord(plane.alpha, i, n), grid_coord(plane.beta, j, n)]);
                        (coords.len() - 1) as u32
                    });
                    cells.push(cell);
                }
            }
            levels.push(Level {
                size: n,
                end: coords.len(),
                cells,
            });
        }
        Self {
            alpha: plane.alpha,
            beta: plane.beta,
            levels,
            coords,
        }
    }

    /// Level `k` if all its cells are finished.
    fn gather(&self, cells: &MapCells<f64>, k: usize) -> Option<SliceGrid> {
        let level = self.levels.get(k)?;
        let loss: Option<Vec<f64>> = level
            .cells
            .iter()
            .map(|&c| cells.get(c as usize).copied())
            .collect();
        let loss = loss?;
        Some(SliceGrid {
            size: level.size,
            alpha: self.alpha,
            beta: self.beta,
            undefined: loss.iter().filter(|v| v.is_nan()).count(),
            loss,
            level: k,
            levels: self.levels.len(),
        })
    }

    /// Levels whose cells are all finished (levels are filled in order).
    fn ready(&self, cells: &MapCells<f64>) -> usize {
        let done = cells.done() as usize;
        self.levels.iter().take_while(|l| l.end <= done).count()
    }

    /// Fills the levels in order on the current rayon pool; the final grid, or `Cancelled`.
    fn fill<L>(&self, plane: &Plane, loss: &L, cells: &MapCells<f64>) -> Result<SliceGrid, MapError>
    where
        L: Fn(&[f64]) -> f64 + Sync + ?Sized,
    {
        let mut start = 0;
        for level in &self.levels {
            let complete = cells.fill_range(
                start..level.end,
                || vec![0.0; plane.params()],
                |theta, cell| {
                    let [alpha, beta] = self.coords[cell];
                    plane.point(alpha, beta, theta);
                    let value = loss(theta);
                    if value.is_finite() { value } else { f64::NAN }
                },
            );
            if !complete {
                return Err(MapError::Cancelled {
                    done: cells.done(),
                    total: cells.len() as u64,
                });
            }
            start = level.end;
        }
        self.gather(cells, self.levels.len() - 1)
            .ok_or(MapError::Stopped)
    }
}

impl SliceSpec {
    /// A slice of `grid` x `grid` points over `plane`, coarse levels first. Refuses a grid outside
    /// `2..=MAX_SLICE_GRID` or a plane that does not [validate](Plane::validate).
    pub fn new(plane: impl Into<Arc<Plane>>, grid: usize) -> Result<Self, CoreError> {
        let spec = Self {
            plane: plane.into(),
            grid,
            previews: true,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Checks the grid size and the plane.
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(2..=MAX_SLICE_GRID).contains(&self.grid) {
            return Err(CoreError::InvalidPlane(format!(
                "slice grid {} must be between 2 and {MAX_SLICE_GRID} points per side",
                self.grid
            )));
        }
        self.plane.validate()
    }

    /// The grid sizes computed, coarsest first, the last `grid` (see [`slice_levels`]).
    pub fn levels(&self) -> Vec<usize> {
        if self.previews {
            slice_levels(self.grid)
        } else {
            vec![self.grid]
        }
    }

    fn layout(&self) -> Result<Layout, MapError> {
        self.validate()?;
        Ok(Layout::new(&self.plane, &self.levels()))
    }

    /// Computes the slice of `loss` (the loss at a parameter vector of the plane's length) on the
    /// current rayon pool and waits for it: the final G x G grid. Coarse levels are computed too when
    /// [`Self::previews`] is on, though nobody sees them here.
    pub fn compute<L>(&self, loss: &L) -> Result<SliceGrid, MapError>
    where
        L: Fn(&[f64]) -> f64 + Sync + ?Sized,
    {
        let layout = self.layout()?;
        let cells = MapCells::new(layout.coords.len());
        layout.fill(&self.plane, loss, &cells)
    }

    /// [`Self::compute`] on a background thread, on rayon's global pool: poll the job's progress and
    /// levels, cancel it, or take the final grid. An invalid spec gives a job that ends at once with
    /// the reason.
    pub fn spawn<L>(self, loss: Arc<L>) -> SliceJob
    where
        L: Fn(&[f64]) -> f64 + Send + Sync + ?Sized + 'static,
    {
        self.spawn_with(loss, None)
    }

    /// [`Self::spawn`] on `pool` instead of rayon's global pool (e.g. one thread fewer than the cores,
    /// so that the app's frames keep a core).
    pub fn spawn_on<L>(self, loss: Arc<L>, pool: Arc<rayon::ThreadPool>) -> SliceJob
    where
        L: Fn(&[f64]) -> f64 + Send + Sync + ?Sized + 'static,
    {
        self.spawn_with(loss, Some(pool))
    }

    fn spawn_with<L>(self, loss: Arc<L>, pool: Option<Arc<rayon::ThreadPool>>) -> SliceJob
    where
        L: Fn(&[f64]) -> f64 + Send + Sync + ?Sized + 'static,
    {
        let (layout, invalid) = match self.layout() {
            Ok(layout) => (Arc::new(layout), None),
            Err(e) => (
                Arc::new(Layout {
                    alpha: self.plane.alpha,
                    beta: self.plane.beta,
                    levels: Vec::new(),
                    coords: Vec::new(),
                }),
                Some(e),
            ),
        };
        let cells = MapCells::new(layout.coords.len());
        let shared = Arc::clone(&layout);
        let plane = Arc::clone(&self.plane);
        let job = MapJob::spawn(cells, move |cells| {
            if let Some(e) = invalid {
                return Err(e);
            }
            match pool {
                Some(pool) => pool.install(|| shared.fill(&plane, &*loss, cells)),
                None => shared.fill(&plane, &*loss, cells),
            }
        });
        SliceJob { job, layout }
    }
}

/// A slice computed on a background thread ([`SliceSpec::spawn`]): read its finest complete level
/// while finer ones compute, watch its progress, cancel it, take the final grid once. Dropping the
/// job cancels it (its thread then ends within one loss evaluation per worker).
#[derive(Debug)]
pub struct SliceJob {
    job: MapJob<SliceGrid, f64>,
    layout: Arc<Layout>,
}

impl SliceJob {
    /// Losses computed so far and in all (every level's distinct points).
    pub fn progress(&self) -> (u64, u64) {
        self.job.progress()
    }

    /// The grid sizes, coarsest first.
    pub fn levels(&self) -> Vec<usize> {
        self.layout.levels.iter().map(|l| l.size).collect()
    }

    /// How many levels are complete (their pictures readable with [`Self::level`]).
    pub fn ready_levels(&self) -> usize {
        self.layout.ready(self.job.cells())
    }

    /// Level `k` (0 = the coarsest) if it is complete. It is built anew on every call: read it when
    /// [`Self::ready_levels`] grows, not every frame.
    pub fn level(&self, k: usize) -> Option<SliceGrid> {
        self.layout.gather(self.job.cells(), k)
    }

    /// The finest complete level, if any.
    pub fn best(&self) -> Option<SliceGrid> {
        self.ready_levels()
            .checked_sub(1)
            .and_then(|k| self.level(k))
    }

    /// Asks the computation to stop; [`Self::join`] then returns [`MapError::Cancelled`]. Complete
    /// levels stay readable.
    pub fn cancel(&self) {
        self.job.cancel();
    }

    /// Whether the thread has ended (finished, cancelled, refused, or already taken).
    pub fn is_finished(&self) -> bool {
        self.job.is_finished()
    }

    /// The final grid if the thread has ended, without waiting; `None` while it runs and after the
    /// result was taken.
    pub fn try_take(&mut self) -> Option<Result<SliceGrid, MapError>> {
        self.job.try_take()
    }

    /// Waits for the final grid.
    pub fn join(self) -> Result<SliceGrid, MapError> {
        self.job.join()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::network::PlaneKind;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    fn plane(n: usize) -> Plane {
        let wave = |k: usize, f: f64| (k as f64 * f).sin();
        Plane {
            center: (0..n).map(|k| wave(k, 0.7)).collect(),
            d1: (0..n).map(|k| wave(k, 1.3) + 0.1).collect(),
            d2: (0..n).map(|k| wave(k, 2.9) - 0.2).collect(),
            alpha: [-1.5, 0.75],
            beta: [-0.4, 1.1],
            kind: PlaneKind::Custom,
            explained: None,
        }
    }

    /// A smooth nonlinear loss of any number of parameters.
    fn loss(theta: &[f64]) -> f64 {
        theta
            .iter()
            .enumerate()
            .map(|(k, t)| (t * (k + 1) as f64).sin() + 0.5 * t * t)
            .sum()
    }

    fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a pool")
            .install(f)
    }

    #[test]
    fn coarse_levels_are_subgrids_of_the_final_grid_where_they_can_be() {
        assert_eq!(slice_levels(64), vec![10, 22, 64]);
        assert_eq!(slice_levels(65), vec![17, 33, 65]);
        assert_eq!(slice_levels(51), vec![11, 51]);
        assert_eq!(slice_levels(32), vec![16, 32]);
        assert_eq!(slice_levels(20), vec![20]);
        assert_eq!(slice_levels(2), vec![2]);
        for g in 2..=MAX_SLICE_GRID {
            let levels = slice_levels(g);
            assert_eq!(levels.last(), Some(&g));
            assert!(
                levels.windows(2).all(|w| 4 * w[0] <= 3 * w[1]),
                "{g}: {levels:?}"
            );
            assert!(levels[0] >= 2);
        }
        // G = 64: every coarse point is a point of the final grid, so no loss is computed twice.
        let spec = SliceSpec::new(plane(3), 64).expect("valid");
        assert_eq!(spec.layout().expect("valid").coords.len(), 64 * 64);
    }

    #[test]
    fn every_value_is_the_loss_at_the_plane_point() {
        let plane = plane(6);
        let mut spec = SliceSpec::new(plane.clone(), 7).expect("valid");
        spec.previews = false;
        let grid = spec.compute(&loss).expect("computed");
        assert_eq!(
            (grid.size, grid.level, grid.levels, grid.undefined),
            (7, 0, 1, 0)
        );
        assert!(grid.is_final());
        assert_eq!(grid.alpha_at(0), -1.5);
        assert_eq!(grid.alpha_at(6), 0.75);
        assert_eq!(grid.beta_at(0), -0.4);
        assert_eq!(grid.beta_at(6), 1.1);
        for j in 0..7 {
            for i in 0..7 {
                // Built here the documented way, independently of Plane::point.
                let (a, b) = (grid.alpha_at(i), grid.beta_at(j));
                let theta: Vec<f64> = (0..6)
                    .map(|k| plane.center[k] + a * plane.d1[k] + b * plane.d2[k])
                    .collect();
                assert_eq!(grid.get(i, j), Some(loss(&theta)), "point ({i}, {j})");
            }
        }
        assert_eq!(grid.get(7, 0), None);
    }

    #[test]
    fn coarse_levels_agree_with_the_final_grid() {
        let spec = SliceSpec::new(plane(4), 64).expect("valid");
        let job = spec.spawn(Arc::new(loss));
        assert_eq!(job.levels(), vec![10, 22, 64]);
        let (_, total) = job.progress();
        assert_eq!(total, 4096);
        let mut job = job;
        let last = loop {
            if let Some(result) = job.try_take() {
                break result.expect("finished");
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(job.progress(), (4096, 4096), "progress reaches the end");
        assert_eq!(job.ready_levels(), 3);
        assert_eq!(job.best().as_ref(), Some(&last));
        for k in 0..2 {
            let coarse = job.level(k).expect("complete");
            assert_eq!((coarse.level, coarse.levels), (k, 3));
            let step = 63 / (coarse.size - 1);
            for j in 0..coarse.size {
                for i in 0..coarse.size {
                    assert_eq!(coarse.alpha_at(i), last.alpha_at(i * step));
                    assert_eq!(coarse.get(i, j), last.get(i * step, j * step));
                }
            }
        }
        // The same final grid without previews.
        let mut spec = SliceSpec::new(plane(4), 64).expect("valid");
        spec.previews = false;
        assert_eq!(spec.compute(&loss).expect("computed").loss, last.loss);
    }

    #[test]
    fn a_level_that_is_not_a_subgrid_is_computed_apart() {
        // G = 32: 31 is prime, so the 16 x 16 preview has points of its own; only s = 0 and s = 1
        // are in both grids (2 x 2 points).
        let spec = SliceSpec::new(plane(3), 32).expect("valid");
        let job = spec.clone().spawn(Arc::new(loss));
        assert_eq!(job.progress().1, 16 * 16 + 32 * 32 - 4);
        let last = job.join().expect("finished");
        assert_eq!(last.size, 32);
        let mut alone = spec.clone();
        alone.grid = 16;
        alone.previews = false;
        let job = spec.spawn(Arc::new(loss));
        while job.ready_levels() < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut preview = job.level(0).expect("complete");
        preview.levels = 1;
        assert_eq!(preview, alone.compute(&loss).expect("computed"));
    }

    #[test]
    fn the_slice_does_not_depend_on_the_number_of_threads() {
        let spec = SliceSpec::new(plane(5), 40).expect("valid");
        let one = on_threads(1, || spec.compute(&loss)).expect("computed");
        let three = on_threads(3, || spec.compute(&loss)).expect("computed");
        assert_eq!(
            one.loss.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            three.loss.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn losses_that_are_not_finite_are_kept_as_nan_and_counted() {
        let plane = plane(2);
        let mut spec = SliceSpec::new(plane, 9).expect("valid");
        spec.previews = false;
        // Infinite where the first parameter is negative, NaN where it is above 1.5.
        let partial = |theta: &[f64]| {
            if theta[0] < 0.0 {
                f64::INFINITY
            } else if theta[0] > 1.5 {
                f64::NAN
            } else {
                theta[0]
            }
        };
        let grid = spec.compute(&partial).expect("computed");
        let expected = grid.loss.iter().filter(|v| v.is_nan()).count();
        assert!(expected > 0 && expected < 81, "{expected}");
        assert_eq!(grid.undefined, expected);
        assert!(
            grid.loss
                .iter()
                .all(|v| v.is_nan() || (0.0..=1.5).contains(v))
        );
        let range = grid.loss_range().expect("some defined");
        assert!(range[0] >= 0.0 && range[1] <= 1.5);
        let mut csv = Vec::new();
        grid.write_csv(&mut csv).expect("written");
        let text = String::from_utf8(csv).expect("utf-8");
        assert_eq!(text.matches(",NaN\n").count(), expected);
    }

    #[test]
    fn the_csv_has_every_point_alpha_fastest_at_full_precision() {
        let mut spec = SliceSpec::new(plane(3), 5).expect("valid");
        spec.previews = false;
        let grid = spec.compute(&loss).expect("computed");
        let mut csv = Vec::new();
        grid.write_csv(&mut csv).expect("written");
        let text = String::from_utf8(csv).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("alpha,beta,loss"));
        let rows: Vec<[f64; 3]> = lines
            .map(|l| {
                let v: Vec<f64> = l.split(',').map(|x| x.parse().expect("a number")).collect();
                [v[0], v[1], v[2]]
            })
            .collect();
        assert_eq!(rows.len(), 25);
        for (index, row) in rows.iter().enumerate() {
            let (i, j) = (index % 5, index / 5);
            assert_eq!(*row, [grid.alpha_at(i), grid.beta_at(j), grid.loss[index]]);
        }
    }

    #[test]
    fn a_cancelled_slice_stops_and_keeps_its_complete_levels() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let slow = move |theta: &[f64]| {
            counted.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_micros(300));
            loss(theta)
        };
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .expect("a pool"),
        );
        let job = SliceSpec::new(plane(3), 64)
            .expect("valid")
            .spawn_on(Arc::new(slow), pool);
        while job.ready_levels() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        job.cancel();
        let first = job.level(0).expect("the first level stays readable");
        assert_eq!(first.size, 10);
        let best = job.best().expect("a level");
        match job.join() {
            Err(MapError::Cancelled { done, total }) => {
                assert!(done < total && done >= 100, "{done} of {total}");
                assert_eq!(calls.load(Ordering::Relaxed), done);
            }
            other => panic!("expected a cancelled slice, got {other:?}"),
        }
        assert!(best.size < 64);
    }

    #[test]
    fn dropping_a_job_cancels_it() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let slow = move |theta: &[f64]| {
            counted.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(1));
            loss(theta)
        };
        let job = SliceSpec::new(plane(3), 200)
            .expect("valid")
            .spawn(Arc::new(slow));
        std::thread::sleep(Duration::from_millis(20));
        drop(job);
        std::thread::sleep(Duration::from_millis(50));
        let after = calls.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            calls.load(Ordering::Relaxed),
            after,
            "no more losses after the drop"
        );
        assert!(after < 200 * 200);
    }

    #[test]
    fn invalid_slices_are_refused() {
        for grid in [0, 1, MAX_SLICE_GRID + 1] {
            let e = SliceSpec::new(plane(3), grid).expect_err("grid out of range");
            assert!(e.to_string().contains("between 2 and 1024"), "{e}");
        }
        let mut flat = plane(3);
        flat.d2 = flat.d1.iter().map(|x| 2.0 * x).collect();
        assert!(SliceSpec::new(flat.clone(), 8).is_err());
        let spec = SliceSpec {
            plane: Arc::new(flat),
            grid: 8,
            previews: true,
        };
        assert!(matches!(spec.compute(&loss), Err(MapError::Invalid(_))));
        let job = spec.spawn(Arc::new(loss));
        assert_eq!(job.progress(), (0, 0));
        assert!(matches!(job.join(), Err(MapError::Invalid(_))));
    }

    #[test]
    fn loss_at_interpolates_between_grid_points() {
        let mut spec = SliceSpec::new(plane(2), 11).expect("valid");
        spec.previews = false;
        // Linear in θ, so linear in (α, β): bilinear interpolation is exact.
        let linear = |theta: &[f64]| 2.0 * theta[0] - theta[1] + 0.5;
        let grid = spec.compute(&linear).expect("computed");
        let p = &spec.plane;
        let mut theta = [0.0; 2];
        for (a, b) in [(-1.5, -0.4), (0.1, 0.33), (0.75, 1.1), (-0.9, 0.0)] {
            p.point(a, b, &mut theta);
            assert!((grid.loss_at(a, b) - linear(&theta)).abs() < 1e-12);
        }
        assert!(grid.loss_at(0.8, 0.0).is_nan());
        assert!(grid.loss_at(0.0, -0.5).is_nan());
    }
}
