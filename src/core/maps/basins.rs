//! Basins of attraction: a grid of start points over a rectangle of the landscape, every start run
//! with one optimizer for K steps (exactly `trace --start X0,Y0`), and classified by the minimum it
//! reaches.
//!
//! Classification of a cell's end, in this order:
//! 1. diverged: no minimum;
//! 2. within [`BasinSpec::radius`] of one of the landscape's known minima ([`Landscape::minima`]): the
//!    nearest of them (index = its index in that list, global minima first);
//! 3. *settled* (the run converged, or its final `|grad L| <= SETTLE_GRAD`) somewhere else: a minimum
//!    found by clustering such end points (greedily, in cell order: an end within `radius` of a found
//!    minimum joins it, otherwise it founds one); these come after the known minima;
//! 4. otherwise unfinished: no minimum.
//!
//! Cell order: row-major, `index = j * nx + i`; cell `(i, j)` starts at the centre of its rectangle,
//! `x0 = x_min + (i + 1/2) w / nx`, `y0 = y_min + (j + 1/2) h / ny`. Pictures put `y_max` at the top.

use super::{MapCells, MapError, MapSpec, RunEnd, bias_table, check_steps, in_bounds, run_cell};
use crate::core::curvature::RestKind;
use crate::core::error::CoreError;
use crate::core::landscape::{Domain, Landscape, Vec2d};
use crate::core::optimizer::BiasTable;
use crate::core::simulation::RunConfig;

/// Default start points per side.
pub const DEFAULT_BASIN_GRID: usize = 128;
/// The most start points per side.
pub const MAX_BASIN_GRID: usize = 512;
/// A run that ends with `|grad L|` at most this (or converged) has *settled*: its end point counts as a
/// minimum even where the landscape lists none.
pub const SETTLE_GRAD: f64 = 1e-3;
/// Default [`BasinSpec::radius`] as a fraction of the domain's larger side.
pub const DEFAULT_RADIUS_FRACTION: f64 = 0.02;

/// A basin map: the optimizer and its settings, the rectangle of starts, the grid and K.
#[derive(Clone, Debug, PartialEq)]
pub struct BasinSpec {
    /// The run of every cell; `config.start` is replaced by each cell's start.
    pub config: RunConfig,
    /// The rectangle the starts cover (usually the landscape's domain, what the top view shows).
    pub domain: Domain,
    /// Start points along x and along y, each `1..=MAX_BASIN_GRID`.
    pub grid: [usize; 2],
    /// Steps per start, K.
    pub steps: u64,
    /// How close (param units) an end must be to a minimum to count as reaching it, `> 0`.
    pub radius: f64,
}

impl BasinSpec {
    /// `config` over `landscape`'s domain, 128 x 128 starts, 1000 steps, radius 2 % of the domain's
    /// larger side.
    pub fn new(landscape: &Landscape, config: RunConfig) -> Self {
        let domain = landscape.domain();
        Self {
            config,
            domain,
            grid: [DEFAULT_BASIN_GRID; 2],
            steps: super::DEFAULT_MAP_STEPS,
            radius: DEFAULT_RADIUS_FRACTION * domain.width().max(domain.height()),
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.grid[0] * self.grid[1]
    }

    /// Whether there are no cells (never, for a valid spec).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The start point of cell `(i, j)`: the centre of its rectangle.
    pub fn start_at(&self, i: usize, j: usize) -> Vec2d {
        let d = &self.domain;
        [
            d.x[0] + (i as f64 + 0.5) / self.grid[0] as f64 * d.width(),
            d.y[0] + (j as f64 + 0.5) / self.grid[1] as f64 * d.height(),
        ]
    }

    /// The cell whose rectangle holds `p` (param space), if inside the domain.
    pub fn cell_index_of(&self, p: Vec2d) -> Option<(usize, usize)> {
        let d = &self.domain;
        let u = (p[0] - d.x[0]) / d.width();
        let v = (p[1] - d.y[0]) / d.height();
        if !((0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v)) {
            return None;
        }
        let i = ((u * self.grid[0] as f64) as usize).min(self.grid[0] - 1);
        let j = ((v * self.grid[1] as f64) as usize).min(self.grid[1] - 1);
        Some((i, j))
    }

    /// Checks the grid, the domain, K, the radius and the run's settings (every start is checked by
    /// its own run).
    pub fn validate(&self) -> Result<(), CoreError> {
        let invalid = |reason: String| CoreError::InvalidBasins(reason);
        for n in self.grid {
            if !(1..=MAX_BASIN_GRID).contains(&n) {
                return Err(invalid(format!(
                    "grid {} x {}: each side must be between 1 and {MAX_BASIN_GRID}",
                    self.grid[0], self.grid[1]
                )));
            }
        }
        let d = &self.domain;
        if !(in_bounds([d.x[0], d.y[0]])
            && in_bounds([d.x[1], d.y[1]])
            && d.width() > 0.0
            && d.height() > 0.0)
        {
            return Err(invalid(format!(
                "domain x {:?}, y {:?} must be finite, non-empty and within +-1e6",
                d.x, d.y
            )));
        }
        check_steps(self.steps).map_err(invalid)?;
        if !(self.radius.is_finite() && self.radius > 0.0) {
            return Err(invalid(format!(
                "radius {} must be finite and > 0",
                self.radius
            )));
        }
        self.config.validate_settings()
    }

    /// Empty cells for this spec, to pass to [`Self::compute`].
    pub fn cells(&self) -> MapCells<BasinCell> {
        MapCells::new(self.len())
    }

    /// Computes every start on the current rayon pool, filling `cells` as it goes (each cell already
    /// knows its *known* minimum; clustered minima are assigned once all cells are done); blocks until
    /// done or cancelled.
    pub fn compute(
        &self,
        landscape: &Landscape,
        cells: &MapCells<BasinCell>,
    ) -> Result<BasinMap, MapError> {
        self.validate()?;
        if cells.len() != self.len() {
            return Err(MapError::Invalid(CoreError::InvalidBasins(format!(
                "{} cells given for a {} x {} grid",
                cells.len(),
                self.grid[0],
                self.grid[1]
            ))));
        }
        let nx = self.grid[0];
        // Every start shares the betas: one table of Adam's bias corrections for all.
        let table = bias_table(self.config.kind, &self.config.hyper, self.steps);
        let mut cells = cells.fill(
            || (),
            |(), index| self.run_cell(landscape, index % nx, index / nx, table.as_ref()),
        )?;
        let minima = self.classify(landscape, &mut cells);
        Ok(BasinMap {
            spec: self.clone(),
            cells,
            minima,
        })
    }

    /// One start, classified against the known minima.
    fn run_cell(
        &self,
        landscape: &Landscape,
        i: usize,
        j: usize,
        table: Option<&BiasTable>,
    ) -> BasinCell {
        let start = self.start_at(i, j);
        let config = RunConfig {
            start,
            ..self.config
        };
        let end = run_cell(landscape, config, self.steps, table, |_| {})
            .unwrap_or_else(|_| RunEnd::refused(start));
        let minimum = if end.diverged() {
            None
        } else {
            landscape
                .minima()
                .iter()
                .enumerate()
                .map(|(k, m)| (k, (m[0] - end.pos[0]).hypot(m[1] - end.pos[1])))
                .filter(|&(_, d)| d <= self.radius)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| k)
        };
        BasinCell {
            start,
            end,
            minimum,
        }
    }

    /// The known minima with their counts, then clusters of the settled ends that reached none.
    fn classify(&self, landscape: &Landscape, cells: &mut [BasinCell]) -> Vec<BasinMinimum> {
        let mut minima: Vec<BasinMinimum> = landscape
            .minima()
            .iter()
            .map(|&pos| BasinMinimum {
                pos,
                loss: landscape.value(pos),
                known: true,
                kind: RestKind::Minimum,
                cells: 0,
            })
            .collect();
        let known = minima.len();
        for cell in cells.iter_mut() {
            let end = &cell.end;
            let settled = end.converged() || end.grad_norm <= SETTLE_GRAD;
            if cell.minimum.is_none() && !end.diverged() && settled {
                let near = minima[known..].iter().position(|m| {
                    (m.pos[0] - end.pos[0]).hypot(m.pos[1] - end.pos[1]) <= self.radius
                });
                cell.minimum = Some(match near {
                    Some(k) => known + k,
                    None => {
                        // a small gradient is not a minimum: say what the point is
                        let (kind, pos) = RestKind::classify(landscape, end.pos, self.radius);
                        let listed = minima[..known].iter().position(|m| {
                            (m.pos[0] - pos[0]).hypot(m.pos[1] - pos[1]) <= self.radius
                        });
                        match listed {
                            Some(k) if kind == RestKind::Minimum => k,
                            _ => {
                                minima.push(BasinMinimum {
                                    pos,
                                    loss: landscape.value(pos),
                                    known: false,
                                    kind,
                                    cells: 0,
                                });
                                minima.len() - 1
                            }
                        }
                    }
                });
            }
            if let Some(k) = cell.minimum {
                minima[k].cells += 1;
            }
        }
        minima
    }
}

/// One finished start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BasinCell {
    /// Where the run started (param space).
    pub start: Vec2d,
    /// How it ended: final position, loss, steps taken, status.
    pub end: RunEnd,
    /// Index into [`BasinMap::minima`] of the minimum it reached; `None` if it diverged or did not
    /// settle near one (unfinished). While a map is still being computed, only known minima are set.
    pub minimum: Option<usize>,
}

/// A minimum that some starts reach, or another point where they came to rest (see [`Self::kind`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BasinMinimum {
    /// Where it is: the landscape's listed position, or the first end point of its cluster.
    pub pos: Vec2d,
    /// The loss there.
    pub loss: f64,
    /// Listed by the landscape (`true`) or found by clustering end points (`false`).
    pub known: bool,
    /// What the point is: a found cluster is a minimum only when descent from it finds nothing lower
    /// nearby; runs also come to rest at saddles, on plateaus and where the loss ends.
    pub kind: RestKind,
    /// How many starts reach it.
    pub cells: usize,
}

/// A finished basin map.
#[derive(Clone, Debug, PartialEq)]
pub struct BasinMap {
    /// What was computed.
    pub spec: BasinSpec,
    /// `grid[0] * grid[1]` cells, `index = j * grid[0] + i`.
    pub cells: Vec<BasinCell>,
    /// The known minima (all of them, even those no start reaches), then the found ones.
    pub minima: Vec<BasinMinimum>,
}

impl BasinMap {
    /// Cell `(i, j)`.
    pub fn cell(&self, i: usize, j: usize) -> Option<&BasinCell> {
        (i < self.spec.grid[0])
            .then(|| self.cells.get(j * self.spec.grid[0] + i))
            .flatten()
    }

    /// The cell whose start rectangle holds `p` (param space): what hovering the top view shows.
    pub fn cell_at_param(&self, p: Vec2d) -> Option<&BasinCell> {
        let (i, j) = self.spec.cell_index_of(p)?;
        self.cell(i, j)
    }

    /// The cell under a point of the picture given as fractions (`u` from the left, `v` from the top).
    pub fn cell_at(&self, u: f64, v: f64) -> Option<(usize, usize, &BasinCell)> {
        let (i, j) = super::color::cell_index(u, v, self.spec.grid[0], self.spec.grid[1])?;
        self.cell(i, j).map(|c| (i, j, c))
    }

    /// Cells that diverged.
    pub fn diverged(&self) -> usize {
        self.cells.iter().filter(|c| c.end.diverged()).count()
    }

    /// Cells that neither diverged nor reached a minimum.
    pub fn unfinished(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| c.minimum.is_none() && !c.end.diverged())
            .count()
    }

    /// Steps taken by all cells together.
    pub fn total_steps(&self) -> u64 {
        self.cells.iter().map(|c| c.end.steps).sum()
    }
}

impl MapSpec for BasinSpec {
    type Output = BasinMap;
    type Cell = BasinCell;

    fn cells(&self) -> MapCells<BasinCell> {
        BasinSpec::cells(self)
    }

    fn compute(
        &self,
        landscape: &Landscape,
        cells: &MapCells<BasinCell>,
    ) -> Result<BasinMap, MapError> {
        BasinSpec::compute(self, landscape, cells)
    }
}
