//! Saddle-escape statistics: every optimizer of a scene run from its start with many seeds, counting
//! the steps until it escapes the saddle, on all cores with progress and cancel (the machinery of
//! [`super::maps`]: [`MapCells`] and [`MapJob`]).
//!
//! **Escape** ([`EscapeDefinition`]): the first step (0 is the start) whose loss is below the saddle's
//! loss by more than a margin. The margin is a fraction (10 % by default) of the drop from the saddle's
//! loss to a reference below it: the lowest known minimum's loss, or, when the landscape lists none
//! below the saddle, the lowest loss of a 64 x 64 sample of its domain; or an absolute loss margin.
//! A run that has not escaped within the steps never escaped.
//!
//! The seed is the run's seed (gradient noise, mini-batches): seed `i` for `i` in `0..seeds`. An
//! optimizer without noise ignores it, so all its seeds are the same run ([`OptimizerEscapes::deterministic`]
//! says so; they are still all run and listed). Every run takes all its steps (stopping only where
//! [`trace`](super::trace) stops): its final loss is the loss after them.
//!
//! Cells: optimizer `o`, seed `s` at index `o * seeds + s`; results do not depend on the threads.

use serde::{Deserialize, Serialize};

use super::curvature::{Curvature, CurvatureKind};
use super::error::CoreError;
use super::landscape::{Landscape, Vec2d};
use super::maps::{MapCells, MapError, MapSpec};
use super::number::num;
use super::optimizer::OptimizerKind;
use super::predict::Ask;
use super::scene::Scene;
use super::simulation::{RunConfig, RunStatus, Runner};

/// Default number of seeds per optimizer.
pub const DEFAULT_ESCAPE_SEEDS: u64 = 200;
/// The most seeds per optimizer.
pub const MAX_ESCAPE_SEEDS: u64 = 100_000;
/// Default steps per run.
pub const DEFAULT_ESCAPE_STEPS: u64 = 1_000;
/// The most steps per run.
pub const MAX_ESCAPE_STEPS: u64 = 1_000_000;
/// Default margin: this fraction of the drop from the saddle to the reference below it.
pub const DEFAULT_MARGIN_FRACTION: f64 = 0.1;

/// How far below the saddle's loss a run must get to have escaped.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Margin {
    /// This fraction (in `(0, 1]`) of the drop from the saddle's loss to the reference loss.
    Fraction(f64),
    /// This much loss (`> 0`).
    Absolute(f64),
}

impl Default for Margin {
    fn default() -> Self {
        Self::Fraction(DEFAULT_MARGIN_FRACTION)
    }
}

impl Margin {
    /// `0.3` (absolute) or `25%` (a fraction of the drop); the reason otherwise.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || {
            format!(
                "margin '{text}' must be a loss (e.g. 0.3) or a percentage of the drop from the \
                 saddle to the lowest minimum (e.g. 10%)"
            )
        };
        let margin = match text.strip_suffix('%') {
            Some(pct) => Self::Fraction(pct.trim().parse::<f64>().map_err(|_| bad())? / 100.0),
            None => Self::Absolute(text.parse::<f64>().map_err(|_| bad())?),
        };
        margin.validate()?;
        Ok(margin)
    }

    fn validate(&self) -> Result<(), String> {
        match *self {
            Self::Fraction(f) if !(f > 0.0 && f <= 1.0) => Err(format!(
                "margin {}% must be more than 0% and at most 100%",
                f * 100.0
            )),
            Self::Absolute(a) if !(a.is_finite() && a > 0.0) => {
                Err(format!("margin {} must be a finite loss > 0", num(a)))
            }
            _ => Ok(()),
        }
    }
}

/// Escape, resolved on one landscape.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EscapeDefinition {
    /// The saddle point (param space).
    pub saddle: Vec2d,
    /// Where the saddle came from: `the scene's question`, `given`, or `found` (Newton's method on the
    /// gradient from a grid of starts: the saddle nearest the scene's starts).
    pub saddle_from: &'static str,
    /// The loss at the saddle.
    pub saddle_loss: f64,
    /// The reference below the saddle a fractional margin is measured to, and what it is.
    pub reference: Option<(f64, &'static str)>,
    /// The margin asked for.
    pub margin: Margin,
    /// A run has escaped at the first step whose loss is below this.
    pub threshold: f64,
}

impl EscapeDefinition {
    /// Resolves `margin` at `saddle` on `landscape`.
    pub fn new(
        landscape: &Landscape,
        saddle: Vec2d,
        saddle_from: &'static str,
        margin: Margin,
    ) -> Result<Self, CoreError> {
        let invalid = |m: String| CoreError::InvalidEscape(m);
        margin.validate().map_err(invalid)?;
        let saddle_loss = landscape.value(saddle);
        if !saddle_loss.is_finite() {
            return Err(invalid(format!(
                "the loss at the saddle ({}, {}) is not finite",
                saddle[0], saddle[1]
            )));
        }
        let known = landscape
            .minima()
            .iter()
            .map(|&m| landscape.value(m))
            .filter(|v| v.is_finite() && *v < saddle_loss)
            .min_by(f64::total_cmp);
        let reference = match known {
            Some(v) => Some((v, "the lowest known minimum")),
            None => lowest_sample(landscape)
                .filter(|v| *v < saddle_loss)
                .map(|v| (v, "the lowest loss on a 64 x 64 sample of the domain")),
        };
        let threshold = match margin {
            Margin::Absolute(a) => saddle_loss - a,
            Margin::Fraction(f) => {
                let Some((r, _)) = reference else {
                    return Err(invalid(
                        "nothing on the landscape is below the saddle's loss; give the margin as a \
                         loss (e.g. --margin 0.1)"
                            .to_owned(),
                    ));
                };
                saddle_loss - f * (saddle_loss - r)
            }
        };
        Ok(Self {
            saddle,
            saddle_from,
            saddle_loss,
            reference,
            margin,
            threshold,
        })
    }

    /// The definition in words, for the panel and the command line.
    pub fn describe(&self) -> String {
        let margin = match (self.margin, self.reference) {
            (Margin::Fraction(f), Some((r, what))) => format!(
                "{}% of the drop from the saddle's loss to {what} ({})",
                num(f * 100.0),
                num(r)
            ),
            (Margin::Fraction(f), None) => format!("{}% of the drop", num(f * 100.0)),
            (Margin::Absolute(a), _) => num(a),
        };
        format!(
            "escaped: the first step whose loss is below {} = the saddle's loss {} at ({}, {}) ({}) \
             minus a margin of {margin}; never: not within the steps",
            num(self.threshold),
            num(self.saddle_loss),
            num(self.saddle[0]),
            num(self.saddle[1]),
            self.saddle_from,
        )
    }
}

/// The lowest finite loss on a 64 x 64 grid over the domain.
fn lowest_sample(landscape: &Landscape) -> Option<f64> {
    let d = landscape.domain();
    let n = 64;
    (0..n * n)
        .map(|k| {
            let (i, j) = (k % n, k / n);
            landscape.value([
                d.x[0] + i as f64 / (n - 1) as f64 * d.width(),
                d.y[0] + j as f64 / (n - 1) as f64 * d.height(),
            ])
        })
        .filter(|v| v.is_finite())
        .min_by(f64::total_cmp)
}

/// The saddle point nearest `near`: Newton's method on the gradient (`p <- p - H^-1 grad L`) from a
/// 12 x 12 grid of starts over the domain; a point counts when the gradient vanishes there (`|grad L|
/// <= 1e-9` times the loss scale) inside the domain and the exact Hessian is a saddle's.
pub fn find_saddle(landscape: &Landscape, near: Vec2d) -> Option<Vec2d> {
    let d = landscape.domain();
    let n = 12;
    let mut best: Option<(Vec2d, f64)> = None;
    for k in 0..n * n {
        let (i, j) = (k % n, k / n);
        let mut p = [
            d.x[0] + (i as f64 + 0.5) / n as f64 * d.width(),
            d.y[0] + (j as f64 + 0.5) / n as f64 * d.height(),
        ];
        for _ in 0..60 {
            let g = landscape.gradient(p);
            let h = landscape.hessian(p);
            let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
            if !(det.is_finite() && det != 0.0 && g.iter().all(|x| x.is_finite())) {
                break;
            }
            let dx = (h[1][1] * g[0] - h[0][1] * g[1]) / det;
            let dy = (h[0][0] * g[1] - h[1][0] * g[0]) / det;
            p = [p[0] - dx, p[1] - dy];
            if dx.hypot(dy) <= 1e-14 * (1.0 + p[0].hypot(p[1])) {
                break;
            }
        }
        let g = landscape.gradient(p);
        let scale = 1.0 + landscape.value(p).abs();
        let critical = g[0].hypot(g[1]) <= 1e-9 * scale;
        let saddle = Curvature::at(landscape, p).is_some_and(|c| c.kind == CurvatureKind::Saddle);
        if critical && saddle && d.contains(p) {
            let dist = (p[0] - near[0]).hypot(p[1] - near[1]);
            if best.is_none_or(|(_, b)| dist < b) {
                best = Some((p, dist));
            }
        }
    }
    best.map(|(p, _)| p)
}

/// What to compute: the runs (one per optimizer, each repeated with every seed), the saddle, the margin.
#[derive(Clone, Debug, PartialEq)]
pub struct EscapeSpec {
    /// The optimizers: display name and run (its `seed` is replaced by each seed).
    pub runs: Vec<(String, RunConfig)>,
    /// The saddle; `None`: found ([`find_saddle`]) nearest the mean of the starts.
    pub saddle: Option<Vec2d>,
    /// Where `saddle` came from, when given (`the scene's question`, `given`).
    pub saddle_from: &'static str,
    /// The margin below the saddle's loss.
    pub margin: Margin,
    /// Seeds per optimizer, `1..=MAX_ESCAPE_SEEDS`.
    pub seeds: u64,
    /// Steps per run, `1..=MAX_ESCAPE_STEPS`.
    pub max_steps: u64,
}

impl EscapeSpec {
    /// Every optimizer of `scene` (visible or not) from its start; the saddle of the scene's
    /// `EscapeSaddle` question if it has one (else found); default margin, seeds and steps.
    pub fn from_scene(scene: &Scene) -> Self {
        let saddle = scene.question.as_ref().and_then(|q| match q.ask {
            Ask::EscapeSaddle { saddle, .. } => Some(saddle),
            _ => None,
        });
        Self {
            runs: scene
                .optimizers
                .iter()
                .map(|o| (o.name.clone(), o.run_config()))
                .collect(),
            saddle,
            saddle_from: "the scene's question",
            margin: Margin::default(),
            seeds: DEFAULT_ESCAPE_SEEDS,
            max_steps: DEFAULT_ESCAPE_STEPS,
        }
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.runs.len() * self.seeds as usize
    }

    /// Whether there are no runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks seeds, steps, the runs' settings and starts, and resolves the definition of escape.
    pub fn definition(&self, landscape: &Landscape) -> Result<EscapeDefinition, CoreError> {
        let invalid = |m: String| CoreError::InvalidEscape(m);
        if !(1..=MAX_ESCAPE_SEEDS).contains(&self.seeds) {
            return Err(invalid(format!(
                "seeds = {} must be between 1 and {MAX_ESCAPE_SEEDS}",
                self.seeds
            )));
        }
        if !(1..=MAX_ESCAPE_STEPS).contains(&self.max_steps) {
            return Err(invalid(format!(
                "max steps = {} must be between 1 and {MAX_ESCAPE_STEPS}",
                self.max_steps
            )));
        }
        if self.runs.is_empty() {
            return Err(invalid("the scene has no optimizers".to_owned()));
        }
        for (_, config) in &self.runs {
            config.validate(landscape)?;
        }
        let (saddle, from) = match self.saddle {
            Some(s) => (s, self.saddle_from),
            None => {
                let k = self.runs.len() as f64;
                let near = self.runs.iter().fold([0.0, 0.0], |a, (_, c)| {
                    [a[0] + c.start[0] / k, a[1] + c.start[1] / k]
                });
                let found = find_saddle(landscape, near).ok_or_else(|| {
                    invalid(
                        "no saddle point found on the landscape; give one (--saddle X,Y)".into(),
                    )
                })?;
                (found, "found")
            }
        };
        if !saddle.iter().all(|v| v.is_finite()) {
            return Err(invalid("the saddle point must be finite".to_owned()));
        }
        EscapeDefinition::new(landscape, saddle, from, self.margin)
    }

    /// Empty cells for [`Self::compute`].
    pub fn cells(&self) -> MapCells<EscapeRun> {
        MapCells::new(self.len())
    }

    /// Runs everything on the current rayon pool, filling `cells`; blocks until done or cancelled.
    pub fn compute(
        &self,
        landscape: &Landscape,
        cells: &MapCells<EscapeRun>,
    ) -> Result<EscapeStats, MapError> {
        let definition = self.definition(landscape)?;
        if cells.len() != self.len() {
            return Err(MapError::Invalid(CoreError::InvalidEscape(format!(
                "{} cells given for {} runs",
                cells.len(),
                self.len()
            ))));
        }
        let seeds = self.seeds as usize;
        let all = cells.fill(
            || (),
            |(), index| {
                let (_, config) = &self.runs[index / seeds];
                let config = RunConfig {
                    seed: (index % seeds) as u64,
                    ..*config
                };
                escape_run(landscape, config, self.max_steps, definition.threshold)
            },
        )?;
        let optimizers = self
            .runs
            .iter()
            .zip(all.chunks(seeds))
            .map(|((name, config), runs)| OptimizerEscapes {
                name: name.clone(),
                kind: config.kind,
                deterministic: config.noise.is_exact_on(landscape),
                runs: runs.to_vec(),
            })
            .collect();
        Ok(EscapeStats {
            definition,
            seeds: self.seeds,
            max_steps: self.max_steps,
            optimizers,
        })
    }
}

/// One run with one seed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EscapeRun {
    /// The seed.
    pub seed: u64,
    /// The first step whose loss was below the threshold; `None`: never within the steps.
    pub escape_step: Option<u64>,
    /// The loss after the run's steps (where it stopped, if it converged or diverged).
    pub final_loss: f64,
    /// Steps taken.
    pub steps: u64,
    /// How the run ended.
    pub status: RunStatus,
}

fn escape_run(landscape: &Landscape, config: RunConfig, steps: u64, threshold: f64) -> EscapeRun {
    let seed = config.seed;
    let Ok(mut runner) = Runner::new(landscape, config) else {
        return EscapeRun {
            seed,
            escape_step: None,
            final_loss: f64::NAN,
            steps: 0,
            status: RunStatus::Diverged {
                step: 1,
                reason: super::simulation::DivergenceReason::NonFiniteLoss,
            },
        };
    };
    let mut escape_step = (runner.loss() < threshold).then_some(0);
    for _ in 0..steps {
        let Some(row) = runner.step() else { break };
        if escape_step.is_none() && row.loss < threshold {
            escape_step = Some(row.step);
        }
    }
    EscapeRun {
        seed,
        escape_step,
        final_loss: runner.loss(),
        steps: runner.steps(),
        status: runner.status(),
    }
}

/// One optimizer's runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerEscapes {
    /// Its name in the scene.
    pub name: String,
    /// Its update rule.
    pub kind: OptimizerKind,
    /// No noise: every seed is the same run (all are still listed).
    pub deterministic: bool,
    /// One per seed, seed 0 first.
    pub runs: Vec<EscapeRun>,
}

impl OptimizerEscapes {
    /// The escape steps, one per seed (`None`: never).
    pub fn steps(&self) -> Vec<Option<u64>> {
        self.runs.iter().map(|r| r.escape_step).collect()
    }

    /// Runs that escaped.
    pub fn escaped(&self) -> usize {
        self.runs.iter().filter(|r| r.escape_step.is_some()).count()
    }

    /// The median escape step, counting never as later than any step: the `ceil(n/2)`-th smallest
    /// (the lower median, a step that happened); `None` when that one never escaped (more than half never
    /// did).
    pub fn median(&self) -> Option<u64> {
        median(&self.steps())
    }
}

/// The lower median of escape steps, never counting as the latest (see [`OptimizerEscapes::median`]).
pub fn median(steps: &[Option<u64>]) -> Option<u64> {
    if steps.is_empty() {
        return None;
    }
    let mut sorted: Vec<u64> = steps.iter().map(|s| s.unwrap_or(u64::MAX)).collect();
    sorted.sort_unstable();
    let m = sorted[(steps.len() - 1) / 2];
    (m != u64::MAX).then_some(m)
}

/// Escape steps in bins of equal width over `0..=max_steps`, plus the runs that never escaped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    /// Steps per bin: bin `i` holds steps `i * width ..= (i + 1) * width - 1`.
    pub width: u64,
    /// Runs per bin.
    pub counts: Vec<u64>,
    /// Runs that never escaped.
    pub never: u64,
}

/// Bins `steps` into `bins` (at least 1) bins over `0..=max_steps`; steps past `max_steps` go in the
/// last bin.
pub fn histogram(steps: &[Option<u64>], bins: usize, max_steps: u64) -> Histogram {
    let bins = bins.max(1);
    let width = (max_steps + 1).div_ceil(bins as u64).max(1);
    let mut counts = vec![0; bins];
    let mut never = 0;
    for s in steps {
        match s {
            Some(s) => counts[((s / width) as usize).min(bins - 1)] += 1,
            None => never += 1,
        }
    }
    Histogram {
        width,
        counts,
        never,
    }
}

/// The finished statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EscapeStats {
    /// What escape meant.
    pub definition: EscapeDefinition,
    /// Seeds per optimizer.
    pub seeds: u64,
    /// Steps per run.
    pub max_steps: u64,
    /// One per optimizer, in the scene's order.
    pub optimizers: Vec<OptimizerEscapes>,
}

impl MapSpec for EscapeSpec {
    type Output = EscapeStats;
    type Cell = EscapeRun;

    fn cells(&self) -> MapCells<EscapeRun> {
        EscapeSpec::cells(self)
    }

    fn compute(
        &self,
        landscape: &Landscape,
        cells: &MapCells<EscapeRun>,
    ) -> Result<EscapeStats, MapError> {
        EscapeSpec::compute(self, landscape, cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_counts_never_as_latest() {
        assert_eq!(median(&[Some(3), Some(1), Some(2)]), Some(2));
        assert_eq!(median(&[Some(3), Some(1), None, Some(2)]), Some(2));
        assert_eq!(median(&[Some(3), None, None, Some(2)]), Some(3));
        assert_eq!(median(&[Some(1), None, None]), None);
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn histogram_bins_and_never() {
        let h = histogram(&[Some(0), Some(9), Some(10), Some(99), None], 10, 99);
        assert_eq!(h.width, 10);
        assert_eq!(h.counts, [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(h.never, 1);
    }

    #[test]
    fn margins_parse() {
        assert_eq!(Margin::parse("25%"), Ok(Margin::Fraction(0.25)));
        assert_eq!(Margin::parse("0.3"), Ok(Margin::Absolute(0.3)));
        assert!(Margin::parse("0%").is_err());
        assert!(Margin::parse("-1").is_err());
        assert!(Margin::parse("abc").is_err());
    }
}
