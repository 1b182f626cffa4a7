//! Hyperparameter sweeps: one optimizer from one start, two of η, β_m, β_r, ε varied over a grid,
//! every cell run for K steps exactly as `trace` runs it with that cell's hyperparameters.
//!
//! Cell order: row-major, `index = j * x.count + i`, column `i` along the first axis ([`SweepSpec::x`]),
//! row `j` along the second ([`SweepSpec::y`]), both from their `min` to their `max`. Pictures
//! ([`SweepMap::to_rgba`]) put the second axis's `max` at the top.

use std::fmt;
use std::sync::OnceLock;

use super::{MapCells, MapError, MapSpec, RunEnd, bias_table, check_steps, run_cell};
use crate::core::error::CoreError;
use crate::core::landscape::Landscape;
use crate::core::optimizer::{BiasTable, Hyperparams};
use crate::core::simulation::RunConfig;

/// Default cells per axis.
pub const DEFAULT_SWEEP_COUNT: usize = 64;
/// The most cells per axis.
pub const MAX_SWEEP_COUNT: usize = 256;

/// A hyperparameter a sweep can vary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SweepParam {
    /// Learning rate η (usually on a log scale).
    Lr,
    /// Momentum decay β_m.
    BetaM,
    /// Squared-gradient decay β_r.
    BetaR,
    /// Denominator guard ε (usually on a log scale).
    Eps,
    /// Decoupled weight decay λ (AdamW, Lion).
    WeightDecay,
    /// The quasi-hyperbolic mix ν (QHM, QHAdam).
    Nu,
    /// QHAdam's second mix ν2.
    Nu2,
}

impl SweepParam {
    /// Every parameter.
    pub const ALL: [Self; 7] = [
        Self::Lr,
        Self::BetaM,
        Self::BetaR,
        Self::Eps,
        Self::WeightDecay,
        Self::Nu,
        Self::Nu2,
    ];

    /// The name in CSV headers and `--vary`: `lr`, `beta_m`, `beta_r`, `eps`, `weight_decay`, `nu`,
    /// `nu2`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lr => "lr",
            Self::BetaM => "beta_m",
            Self::BetaR => "beta_r",
            Self::Eps => "eps",
            Self::WeightDecay => "weight_decay",
            Self::Nu => "nu",
            Self::Nu2 => "nu2",
        }
    }

    /// As the lecture writes it: `η`, `β_m`, `β_r`, `ε`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Lr => "η",
            Self::BetaM => "β_m",
            Self::BetaR => "β_r",
            Self::Eps => "ε",
            Self::WeightDecay => "λ",
            Self::Nu => "ν",
            Self::Nu2 => "ν2",
        }
    }

    /// The parameter called `name`: `lr` (or `eta`), `beta_m`, `beta_r`, `eps`, `weight_decay`, `nu`,
    /// `nu2` (`-` for `_` accepted).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().replace('-', "_").as_str() {
            "lr" | "eta" => Some(Self::Lr),
            "beta_m" => Some(Self::BetaM),
            "beta_r" => Some(Self::BetaR),
            "eps" => Some(Self::Eps),
            "weight_decay" => Some(Self::WeightDecay),
            "nu" => Some(Self::Nu),
            "nu2" => Some(Self::Nu2),
            _ => None,
        }
    }

    /// Its value in `hyper`.
    pub fn get(self, hyper: &Hyperparams) -> f64 {
        match self {
            Self::Lr => hyper.lr,
            Self::BetaM => hyper.beta_m,
            Self::BetaR => hyper.beta_r,
            Self::Eps => hyper.eps,
            Self::WeightDecay => hyper.weight_decay,
            Self::Nu => hyper.nu,
            Self::Nu2 => hyper.nu2,
        }
    }

    /// Sets it in `hyper`.
    pub fn set(self, hyper: &mut Hyperparams, value: f64) {
        match self {
            Self::Lr => hyper.lr = value,
            Self::BetaM => hyper.beta_m = value,
            Self::BetaR => hyper.beta_r = value,
            Self::Eps => hyper.eps = value,
            Self::WeightDecay => hyper.weight_decay = value,
            Self::Nu => hyper.nu = value,
            Self::Nu2 => hyper.nu2 = value,
        }
    }

    /// Whether the update rule of `kind` reads it (η always).
    pub fn used_by(self, kind: crate::core::optimizer::OptimizerKind) -> bool {
        match self {
            Self::Lr => true,
            Self::BetaM => kind.uses_beta_m(),
            Self::BetaR => kind.uses_beta_r(),
            Self::Eps => kind.uses_eps(),
            Self::WeightDecay => kind.uses_weight_decay(),
            Self::Nu => kind.uses_nu(),
            Self::Nu2 => kind.uses_nu2(),
        }
    }
}

impl fmt::Display for SweepParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How values are spaced along an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AxisScale {
    /// Evenly spaced: `min + k (max - min) / (count - 1)`.
    Linear,
    /// Evenly spaced exponents: `min (max / min)^(k / (count - 1))`; needs `min > 0`.
    Log,
}

impl AxisScale {
    /// `lin` or `log`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Linear => "lin",
            Self::Log => "log",
        }
    }
}

/// One varied parameter: `count` values from `min` to `max` (both included; one value is `min`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepAxis {
    /// Which hyperparameter.
    pub param: SweepParam,
    /// First value.
    pub min: f64,
    /// Last value.
    pub max: f64,
    /// Spacing.
    pub scale: AxisScale,
    /// Number of values, `1..=MAX_SWEEP_COUNT`.
    pub count: usize,
}

impl SweepAxis {
    /// The axis a teacher usually wants for `param`: η from 1e-4 to 1 (log), β's from 0 to 0.999
    /// (linear), ε from 1e-10 to 1 (log); [`DEFAULT_SWEEP_COUNT`] values.
    pub fn default_for(param: SweepParam) -> Self {
        let (min, max, scale) = match param {
            SweepParam::Lr => (1e-4, 1.0, AxisScale::Log),
            SweepParam::BetaM | SweepParam::BetaR => (0.0, 0.999, AxisScale::Linear),
            SweepParam::Eps => (1e-10, 1.0, AxisScale::Log),
            SweepParam::WeightDecay => (0.0, 0.5, AxisScale::Linear),
            SweepParam::Nu | SweepParam::Nu2 => (0.0, 1.0, AxisScale::Linear),
        };
        Self {
            param,
            min,
            max,
            scale,
            count: DEFAULT_SWEEP_COUNT,
        }
    }

    /// Value number `k` (0 is `min`, `count - 1` is `max`, exactly).
    pub fn value(&self, k: usize) -> f64 {
        if self.count <= 1 || k == 0 {
            return self.min;
        }
        if k + 1 >= self.count {
            return self.max;
        }
        let f = k as f64 / (self.count - 1) as f64;
        match self.scale {
            AxisScale::Linear => self.min + f * (self.max - self.min),
            AxisScale::Log => (self.min.ln() + f * (self.max.ln() - self.min.ln())).exp(),
        }
    }

    /// Every value, `min` first.
    pub fn values(&self) -> Vec<f64> {
        (0..self.count).map(|k| self.value(k)).collect()
    }

    /// Where `value` falls along the axis as a fraction: 0 at `min`, 1 at `max` (on the axis's
    /// scale; for marking the current setting). Outside 0..=1 when the value is outside the range.
    pub fn fraction(&self, value: f64) -> f64 {
        let (a, b, v) = match self.scale {
            AxisScale::Linear => (self.min, self.max, value),
            AxisScale::Log => (self.min.ln(), self.max.ln(), value.ln()),
        };
        if b == a { 0.5 } else { (v - a) / (b - a) }
    }

    /// `NAME=MIN:MAX:lin|log:COUNT`, the `--vary` form.
    pub fn to_spec_string(&self) -> String {
        format!(
            "{}={}:{}:{}:{}",
            self.param.name(),
            self.min,
            self.max,
            self.scale.name(),
            self.count
        )
    }

    /// Checks the count, the order and that every value is a valid hyperparameter on `base`.
    pub fn validate(&self, base: &Hyperparams) -> Result<(), String> {
        let name = self.param.name();
        if !(1..=MAX_SWEEP_COUNT).contains(&self.count) {
            return Err(format!(
                "{name}: count {} must be between 1 and {MAX_SWEEP_COUNT}",
                self.count
            ));
        }
        if !(self.min.is_finite() && self.max.is_finite()) {
            return Err(format!("{name}: min and max must be finite numbers"));
        }
        if self.min > self.max || (self.min == self.max && self.count > 1) {
            return Err(format!(
                "{name}: min {} must be less than max {}",
                self.min, self.max
            ));
        }
        if self.scale == AxisScale::Log && self.min <= 0.0 {
            return Err(format!(
                "{name}: a log axis needs min > 0, not {}",
                self.min
            ));
        }
        // The values are monotone, so the two ends decide.
        for value in [self.min, self.max] {
            let mut hyper = *base;
            self.param.set(&mut hyper, value);
            hyper.validate().map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// What a sweep's cells are coloured by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SweepMetric {
    /// The final loss, on a log scale.
    FinalLoss,
    /// The first step at which the loss is `<= tol` (the run itself goes on to its K steps or its own
    /// stop, exactly as `trace`; the step is recorded in [`SweepCell::reached`]).
    StepsToLoss(f64),
    /// The step at which `|grad L| < tol`: the run's convergence tolerance is set to `tol` (so the cell
    /// is `trace --tol TOL`, and it stops there).
    StepsToGrad(f64),
    /// Only whether the run diverged (and at which step).
    Diverged,
}

impl SweepMetric {
    /// `final-loss`, `steps-to-loss:TOL`, `steps-to-grad:TOL` or `diverged`.
    pub fn from_name(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let tol = |rest: &str| -> Result<f64, String> {
            let tol: f64 = rest
                .parse()
                .map_err(|_| format!("metric '{text}': '{rest}' is not a number"))?;
            if tol.is_finite() && tol >= 0.0 {
                Ok(tol)
            } else {
                Err(format!(
                    "metric '{text}': the tolerance must be finite and >= 0"
                ))
            }
        };
        match text.split_once(':') {
            None if text == "final-loss" => Ok(Self::FinalLoss),
            None if text == "diverged" => Ok(Self::Diverged),
            Some(("steps-to-loss", rest)) => Ok(Self::StepsToLoss(tol(rest)?)),
            Some(("steps-to-grad", rest)) => Ok(Self::StepsToGrad(tol(rest)?)),
            _ => Err(format!(
                "unknown metric '{text}': use final-loss, steps-to-loss:TOL, steps-to-grad:TOL or diverged"
            )),
        }
    }

    /// The `--metric` form.
    pub fn name(&self) -> String {
        match self {
            Self::FinalLoss => "final-loss".to_owned(),
            Self::StepsToLoss(tol) => format!("steps-to-loss:{tol}"),
            Self::StepsToGrad(tol) => format!("steps-to-grad:{tol}"),
            Self::Diverged => "diverged".to_owned(),
        }
    }
}

/// A sweep: the optimizer (kind, hyperparameters of the cells not varied, start, noise, seed,
/// tolerance), the two varied parameters, K and the metric.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// The run every cell starts from; the two varied fields of `config.hyper` are replaced per cell.
    pub config: RunConfig,
    /// First varied parameter: the columns (horizontal axis).
    pub x: SweepAxis,
    /// Second varied parameter: the rows (vertical axis).
    pub y: SweepAxis,
    /// Steps per cell, K (default [`super::DEFAULT_MAP_STEPS`]).
    pub steps: u64,
    /// What the cells are coloured by.
    pub metric: SweepMetric,
}

impl SweepSpec {
    /// η (log, 1e-4..1) against the other parameter that `config.kind` uses most (β_m, else β_r, else
    /// λ, else ε; Newton's methods use none: ε, which changes nothing), 64 x 64, 1000 steps, final
    /// loss.
    pub fn new(config: RunConfig) -> Self {
        let kind = config.kind;
        let y = if kind.uses_beta_m() {
            SweepParam::BetaM
        } else if kind.uses_beta_r() {
            SweepParam::BetaR
        } else if kind.uses_weight_decay() {
            SweepParam::WeightDecay
        } else {
            SweepParam::Eps
        };
        Self {
            config,
            x: SweepAxis::default_for(SweepParam::Lr),
            y: SweepAxis::default_for(y),
            steps: super::DEFAULT_MAP_STEPS,
            metric: SweepMetric::FinalLoss,
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.x.count * self.y.count
    }

    /// Whether there are no cells (never, for a valid spec).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The run of cell `(i, j)`: `config` with the two varied hyperparameters set (and the
    /// convergence tolerance of a `steps-to-grad` metric).
    pub fn config_at(&self, i: usize, j: usize) -> RunConfig {
        let mut config = self.config;
        if let SweepMetric::StepsToGrad(tol) = self.metric {
            config.converge_tol = tol;
        }
        self.x.param.set(&mut config.hyper, self.x.value(i));
        self.y.param.set(&mut config.hyper, self.y.value(j));
        config
    }

    /// The hyperparameters of cell `(i, j)` (what a click on the cell sets).
    pub fn hyper_at(&self, i: usize, j: usize) -> Hyperparams {
        self.config_at(i, j).hyper
    }

    /// Checks everything before a cell runs: the axes (different parameters, valid ranges and counts),
    /// the steps, the metric's tolerance and the run (start included) on `landscape`.
    pub fn validate(&self, landscape: &Landscape) -> Result<(), CoreError> {
        let invalid = CoreError::InvalidSweep;
        if self.x.param == self.y.param {
            return Err(invalid(format!(
                "the two axes vary the same parameter ({})",
                self.x.param
            )));
        }
        self.x.validate(&self.config.hyper).map_err(invalid)?;
        self.y.validate(&self.config.hyper).map_err(invalid)?;
        check_steps(self.steps).map_err(invalid)?;
        if let SweepMetric::StepsToLoss(tol) | SweepMetric::StepsToGrad(tol) = self.metric
            && !(tol.is_finite() && tol >= 0.0)
        {
            return Err(CoreError::InvalidTolerance(tol));
        }
        self.config_at(0, 0).validate(landscape)
    }

    /// Empty cells for this spec, to pass to [`Self::compute`].
    pub fn cells(&self) -> MapCells<SweepCell> {
        MapCells::new(self.len())
    }

    /// Computes every cell on the current rayon pool (all cores unless the caller `install`s another),
    /// filling `cells` (from [`Self::cells`]) as it goes; blocks until done or cancelled.
    pub fn compute(
        &self,
        landscape: &Landscape,
        cells: &MapCells<SweepCell>,
    ) -> Result<SweepMap, MapError> {
        self.validate(landscape)?;
        if cells.len() != self.len() {
            return Err(MapError::Invalid(CoreError::InvalidSweep(format!(
                "{} cells given for a {} x {} sweep",
                cells.len(),
                self.x.count,
                self.y.count
            ))));
        }
        let nx = self.x.count;
        let tables = BiasTables::new(self);
        let cells = cells.fill(
            || (),
            |(), index| {
                let (i, j) = (index % nx, index / nx);
                self.run_cell(landscape, i, j, tables.get(self, i, j))
            },
        )?;
        Ok(SweepMap {
            spec: self.clone(),
            cells,
        })
    }

    /// One cell (the spec is assumed valid).
    fn run_cell(
        &self,
        landscape: &Landscape,
        i: usize,
        j: usize,
        table: Option<&BiasTable>,
    ) -> SweepCell {
        let config = self.config_at(i, j);
        let mut reached = None;
        let end = match self.metric {
            SweepMetric::StepsToLoss(tol) => {
                run_cell(landscape, config, self.steps, table, |row| {
                    if reached.is_none() && row.loss <= tol {
                        reached = Some(row.step);
                    }
                })
            }
            _ => run_cell(landscape, config, self.steps, table, |_| {}),
        };
        // `validate` checked the start with these settings' ends; a refusal here would be a bug, and is
        // shown as a run that diverged before its first step rather than a panic.
        let end = end.unwrap_or_else(|_| RunEnd::refused(config.start));
        if let SweepMetric::StepsToGrad(_) = self.metric
            && end.converged()
        {
            reached = Some(end.steps);
        }
        SweepCell {
            params: [
                self.x.param.get(&config.hyper),
                self.y.param.get(&config.hyper),
            ],
            end,
            reached,
        }
    }
}

/// Adam's bias corrections shared by the cells with the same betas: one table when no beta is varied,
/// one per column or row when one is (made by the first cell that needs it), none when both are.
struct BiasTables {
    /// Which axis index picks the table: `None` one for all, `Some(false)` the column, `Some(true)`
    /// the row.
    by_row: Option<bool>,
    tables: Vec<OnceLock<Option<BiasTable>>>,
}

impl BiasTables {
    fn new(spec: &SweepSpec) -> Self {
        let beta = |p: SweepParam| matches!(p, SweepParam::BetaM | SweepParam::BetaR);
        let (by_row, len) = match (beta(spec.x.param), beta(spec.y.param)) {
            (false, false) => (None, 1),
            (true, false) => (Some(false), spec.x.count),
            (false, true) => (Some(true), spec.y.count),
            (true, true) => (None, 0),
        };
        Self {
            by_row,
            tables: (0..len).map(|_| OnceLock::new()).collect(),
        }
    }

    fn get(&self, spec: &SweepSpec, i: usize, j: usize) -> Option<&BiasTable> {
        let key = match self.by_row {
            None => 0,
            Some(false) => i,
            Some(true) => j,
        };
        self.tables
            .get(key)?
            .get_or_init(|| bias_table(spec.config.kind, &spec.hyper_at(i, j), spec.steps))
            .as_ref()
    }
}

/// One finished cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepCell {
    /// The values of the two varied parameters (`[x axis, y axis]`).
    pub params: [f64; 2],
    /// How the run ended: final position, loss, steps taken, status.
    pub end: RunEnd,
    /// For `steps-to-loss` / `steps-to-grad`: the step at which the tolerance was first met (`None`:
    /// never within K steps). `None` for the other metrics.
    pub reached: Option<u64>,
}

/// A finished sweep: the spec and its cells in row-major order (see the module's doc).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepMap {
    /// What was computed.
    pub spec: SweepSpec,
    /// `x.count * y.count` cells, `index = j * x.count + i`.
    pub cells: Vec<SweepCell>,
}

impl SweepMap {
    /// Cell `(i, j)` (column along `spec.x`, row along `spec.y`).
    pub fn cell(&self, i: usize, j: usize) -> Option<&SweepCell> {
        (i < self.spec.x.count)
            .then(|| self.cells.get(j * self.spec.x.count + i))
            .flatten()
    }

    /// The cell under a point of the picture given as fractions of its width and height (`u` from the
    /// left, `v` from the top, both in 0..=1), with its `(i, j)`: what a hover shows.
    pub fn cell_at(&self, u: f64, v: f64) -> Option<(usize, usize, &SweepCell)> {
        let (i, j) = super::color::cell_index(u, v, self.spec.x.count, self.spec.y.count)?;
        self.cell(i, j).map(|c| (i, j, c))
    }

    /// The metric's number for a cell: final loss; steps to the tolerance (`None` if never reached);
    /// for `diverged`, 1 if it diverged and 0 if not. `None` for a diverged cell under the other
    /// metrics (it has its own colour).
    pub fn metric_value(&self, cell: &SweepCell) -> Option<f64> {
        match self.spec.metric {
            SweepMetric::Diverged => Some(if cell.end.diverged() { 1.0 } else { 0.0 }),
            _ if cell.end.diverged() => None,
            SweepMetric::FinalLoss => Some(cell.end.loss),
            SweepMetric::StepsToLoss(_) | SweepMetric::StepsToGrad(_) => {
                cell.reached.map(|s| s as f64)
            }
        }
    }

    /// Cells that diverged.
    pub fn diverged(&self) -> usize {
        self.cells.iter().filter(|c| c.end.diverged()).count()
    }

    /// Steps taken by all cells together.
    pub fn total_steps(&self) -> u64 {
        self.cells.iter().map(|c| c.end.steps).sum()
    }
}

impl MapSpec for SweepSpec {
    type Output = SweepMap;
    type Cell = SweepCell;

    fn cells(&self) -> MapCells<SweepCell> {
        SweepSpec::cells(self)
    }

    fn compute(
        &self,
        landscape: &Landscape,
        cells: &MapCells<SweepCell>,
    ) -> Result<SweepMap, MapError> {
        SweepSpec::compute(self, landscape, cells)
    }
}
