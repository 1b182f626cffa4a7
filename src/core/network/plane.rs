//! A plane through a network's parameter space, `θ(α, β) = c + α·d1 + β·d2`: the picture of a
//! landscape with hundreds of dimensions that a class can look at. Three ways to choose it, one file
//! format, and the least-squares projection of any parameter vector onto it.
//!
//! - [`Plane::random`]: filter-normalized random directions around a center (Li et al. 2018,
//!   "Visualizing the Loss Landscape of Neural Nets", section 4): Gaussian directions whose every row of
//!   every weight matrix has the norm of the same row of the center, biases 0; so that the picture's
//!   scale follows the weights' scale and two networks can be compared.
//! - [`Plane::pca`]: the two principal components of every run's trajectory pooled together (Li et al.,
//!   section 7, for one run; pooled here so that all optimizers share one plane), with the fraction of
//!   the variance each axis explains. A pure random walk already puts most of its variance on the first
//!   axis (Antognini & Sohl-Dickstein 2018): show the fractions, and each run's distance from the plane.
//! - [`Plane::through`]: the plane through three points (the start and two runs' current weights).
//!
//! Every vector is a parameter vector in [`layout`](super::layout)'s order (each layer's `W` row-major,
//! then its `b`). Plane files are JSON ([`Plane::to_json`], [`Plane::from_json`]).

use std::fmt;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::layout::LayerLayout;
use crate::core::error::CoreError;

/// The `ε` of filter normalization: `d_row ← d_row · ‖c_row‖ / (‖d_row‖ + ε)` (Li et al.'s value).
pub const FILTER_NORM_EPS: f64 = 1e-10;

/// The margin around a PCA plane's points: each side of the range extends past the outermost
/// projection by this fraction of the larger of the two extents (so the narrow axis shows the
/// landscape around the path too, not a sliver).
pub const PCA_MARGIN: f64 = 0.2;

/// A PCA plane is refused when its second axis explains less than this fraction of the variance: the
/// points then lie on a line (or are all the same point) and no plane is determined by them.
pub const MIN_SECOND_VARIANCE: f64 = 1e-10;

/// Three points are collinear (no plane through them) when the angle between `a - c` and `b - c` is
/// within this many radians of 0 or π.
pub const MIN_PLANE_ANGLE: f64 = 1e-6;

/// How a plane was chosen (shown in the panel; written in plane files as the kebab-case name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlaneKind {
    /// Filter-normalized Gaussian directions ([`Plane::random`]).
    Random,
    /// The leading principal components of the runs' trajectories ([`Plane::pca`]).
    Pca,
    /// The plane through three points ([`Plane::through`]).
    ThreePoints,
    /// Read from a file that did not say how it was made.
    #[default]
    Custom,
}

impl PlaneKind {
    /// The name in plane files: `random`, `pca`, `three-points`, `custom`.
    pub fn name(self) -> &'static str {
        match self {
            PlaneKind::Random => "random",
            PlaneKind::Pca => "pca",
            PlaneKind::ThreePoints => "three-points",
            PlaneKind::Custom => "custom",
        }
    }
}

impl fmt::Display for PlaneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn default_range() -> [f64; 2] {
    [-1.0, 1.0]
}

/// The plane `θ(α, β) = c + α·d1 + β·d2` through parameter space, and the part of it shown.
///
/// `α` and `β` are plain coefficients: a point at `α = 1` is `d1` away from the center, in parameter
/// units. `d1` and `d2` need not be orthogonal nor of unit length (only PCA's are), but must be
/// independent ([`Self::validate`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plane {
    /// `c`, the point at `(α, β) = (0, 0)`: N parameters.
    pub center: Vec<f64>,
    /// `d1`, the direction of `α`: N entries.
    pub d1: Vec<f64>,
    /// `d2`, the direction of `β`: N entries.
    pub d2: Vec<f64>,
    /// The range of `α` shown, `[min, max]` (`[-1, 1]` when a file does not say).
    #[serde(default = "default_range")]
    pub alpha: [f64; 2],
    /// The range of `β` shown, `[min, max]` (`[-1, 1]` when a file does not say).
    #[serde(default = "default_range")]
    pub beta: [f64; 2],
    /// How the plane was chosen.
    #[serde(default)]
    pub kind: PlaneKind,
    /// For a PCA plane: the fraction of the pooled points' total variance along `d1` and along `d2`
    /// (each in 0..=1, the first the larger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explained: Option<[f64; 2]>,
}

/// Where a parameter vector `θ` lies relative to a plane: the plane's point nearest to it, `(α, β)`,
/// and how far away it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    /// `α` of the nearest point of the plane.
    pub alpha: f64,
    /// `β` of the nearest point of the plane.
    pub beta: f64,
    /// `‖θ − (c + α·d1 + β·d2)‖`, the Euclidean distance from `θ` to the plane, in parameter units.
    pub distance: f64,
}

fn invalid(reason: impl Into<String>) -> CoreError {
    CoreError::InvalidPlane(reason.into())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `(d1·d1, d1·d2, d2·d2)` and the squared sine of the angle between `d1` and `d2`
/// (`1 − cos²`, 0 for parallel directions or a zero one).
fn gram(d1: &[f64], d2: &[f64]) -> ([f64; 3], f64) {
    let g = [dot(d1, d1), dot(d1, d2), dot(d2, d2)];
    let sin2 = if g[0] > 0.0 && g[2] > 0.0 {
        1.0 - g[1] * g[1] / (g[0] * g[2])
    } else {
        0.0
    };
    (g, sin2)
}

fn check_finite(name: &str, v: &[f64]) -> Result<(), CoreError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(invalid(format!("{name}[{i}] = {} is not finite", v[i]))),
        None => Ok(()),
    }
}

fn check_range(name: &str, r: [f64; 2]) -> Result<(), CoreError> {
    if r.iter().all(|x| x.is_finite()) && r[0] < r[1] {
        Ok(())
    } else {
        Err(invalid(format!(
            "{name} range [{}, {}] must be finite with min < max",
            r[0], r[1]
        )))
    }
}

impl Plane {
    /// Filter-normalized random directions around `center` (Li et al. 2018, section 4, "filter
    /// normalization", as in their `--xignore biasbn` default):
    ///
    /// 1. `d1`, then `d2`: one standard Gaussian draw per parameter, in parameter order, from one
    ///    Xoshiro256++ stream seeded with `seed` (all of `d1`'s draws first, then all of `d2`'s);
    /// 2. every row of every layer's `W` (the weights into one output unit, Li et al.'s "filter" of a
    ///    fully connected layer) is rescaled to the norm of the same row of the center:
    ///    `d_row ← d_row · ‖c_row‖ / (‖d_row‖ + 1e-10)` ([`FILTER_NORM_EPS`]); a row that is all zero in
    ///    the center stays zero in `d`;
    /// 3. every bias entry of `d` is set to 0 (Li et al. zero one-dimensional tensors).
    ///
    /// The range is `[-1, 1] x [-1, 1]`: at `α = 1` each row of `W` has moved by its own norm. Refused
    /// when `layers` does not cover `center` exactly, the center is not finite, or its weights are all
    /// zero (the directions would be zero).
    pub fn random(layers: &[LayerLayout], center: &[f64], seed: u64) -> Result<Plane, CoreError> {
        let n = center.len();
        let covered = layers.last().map_or(0, |l| l.bias.end);
        let consistent = |l: &LayerLayout| {
            l.weights.len() == l.inputs * l.outputs
                && l.bias.len() == l.outputs
                && l.weights.end <= l.bias.start
                && l.bias.end <= n
        };
        if covered != n {
            return Err(invalid(format!(
                "the center has {n} parameters but the network's layers have {covered}"
            )));
        }
        if let Some(k) = layers.iter().position(|l| !consistent(l)) {
            return Err(invalid(format!(
                "layer {k}'s place in the parameter vector does not match its sizes"
            )));
        }
        check_finite("center", center)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut draw = || -> Vec<f64> { (0..n).map(|_| rng.sample(StandardNormal)).collect() };
        let (mut d1, mut d2) = (draw(), draw());
        for d in [&mut d1, &mut d2] {
            filter_normalize(layers, center, d);
        }
        if d1.iter().all(|&x| x == 0.0) {
            return Err(invalid(
                "every weight of the center is zero, so filter-normalized directions are zero \
                 (each row is scaled to the center's row): choose another center",
            ));
        }
        Ok(Plane {
            center: center.to_vec(),
            d1,
            d2,
            alpha: [-1.0, 1.0],
            beta: [-1.0, 1.0],
            kind: PlaneKind::Random,
            explained: None,
        })
    }

    /// The plane of the two leading principal components of every run's trajectory, pooled: one plane
    /// that every optimizer shares. `runs[r][k]` is run `r`'s parameter vector at its `k`-th recorded
    /// step; all must have the same length N (at least 2) and be finite; there must be at least 3 points
    /// in all.
    ///
    /// - `center` = the mean `μ` of the M pooled points;
    /// - `d1`, `d2` = the unit eigenvectors of the two largest eigenvalues `λ1 ≥ λ2` of the scatter
    ///   matrix `S = Σ_m (x_m − μ)(x_m − μ)ᵀ` (orthonormal);
    /// - `explained` = `[λ1, λ2] / trace(S)`, the fraction of the total variance along each axis;
    /// - signs: each direction points the way the first run moved (its last point minus its first has
    ///   a positive component along it); where that component is 0 (e.g. a run of one point), the
    ///   entry of largest magnitude (the first of equal ones) is positive;
    /// - range: the bounding box of the points' projections `((x − μ)·d1, (x − μ)·d2)`, each side
    ///   widened by [`PCA_MARGIN`] (0.2) times the larger of the two extents.
    ///
    /// `S` (N x N) is never formed: block subspace iteration with Rayleigh–Ritz (8 vectors, from a
    /// fixed random start) applies `S` as `Xcᵀ(Xc V)` over the points, on all cores, each sum in a fixed
    /// order so that the plane does not depend on the number of threads. It stops when the residuals
    /// `‖S u − λ u‖` of both leading vectors are below `1e-10 λ1`, or after 300 iterations: when `λ2`
    /// and `λ3` are nearly equal the second axis is not determined by the data anyway, and the
    /// fractions explained are accurate to second order. Cost per iteration about `4 M N 8` flops.
    ///
    /// Refused with the reason when there are fewer than 3 points, lengths differ, a value is not
    /// finite, all points are the same, or they lie on a line (the second axis explains less than
    /// [`MIN_SECOND_VARIANCE`] of the variance).
    pub fn pca<R, P>(runs: &[R]) -> Result<Plane, CoreError>
    where
        R: AsRef<[P]>,
        P: AsRef<[f64]>,
    {
        let points: Vec<&[f64]> = runs
            .iter()
            .flat_map(|run| run.as_ref().iter().map(AsRef::as_ref))
            .collect();
        if points.len() < 3 {
            return Err(invalid(format!(
                "a PCA plane needs at least 3 points of the runs' trajectories, got {}",
                points.len()
            )));
        }
        let n = points[0].len();
        if n < 2 {
            return Err(invalid(format!(
                "a PCA plane needs at least 2 parameters, the points have {n}"
            )));
        }
        for (r, run) in runs.iter().enumerate() {
            for (k, p) in run.as_ref().iter().enumerate() {
                let p = p.as_ref();
                if p.len() != n {
                    return Err(invalid(format!(
                        "run {r}, point {k} has {} parameters, the first point has {n}",
                        p.len()
                    )));
                }
                if let Some(i) = p.iter().position(|x| !x.is_finite()) {
                    return Err(invalid(format!(
                        "run {r}, point {k}: parameter {i} = {} is not finite",
                        p[i]
                    )));
                }
            }
        }
        let mean = pca::mean(&points);
        let total = pca::total_scatter(&points, &mean);
        if total == 0.0 {
            return Err(invalid(
                "all points of the runs are the same: no spread to find a plane in",
            ));
        }
        let top = pca::top_two(&points, &mean);
        let explained = [top.values[0] / total, top.values[1] / total];
        if explained[1] < MIN_SECOND_VARIANCE {
            return Err(invalid(format!(
                "the runs' points lie on a line: the first axis explains {:.10} of their variance, \
                 the second {:.1e}, so no plane is determined; use random directions or three points",
                explained[0], explained[1]
            )));
        }
        let first_run = runs
            .iter()
            .map(AsRef::as_ref)
            .find(|run| !run.is_empty())
            .unwrap_or(&[]);
        let moved: Option<Vec<f64>> = match (first_run.first(), first_run.last()) {
            (Some(a), Some(b)) => Some(
                b.as_ref()
                    .iter()
                    .zip(a.as_ref())
                    .map(|(y, x)| y - x)
                    .collect(),
            ),
            _ => None,
        };
        let [mut d1, mut d2] = top.vectors;
        for d in [&mut d1, &mut d2] {
            orient(d, moved.as_deref());
        }
        let projected: Vec<[f64; 2]> = points
            .par_iter()
            .map(|x| {
                let (mut a, mut b) = (0.0, 0.0);
                for (((xi, mi), u), v) in x.iter().zip(&mean).zip(&d1).zip(&d2) {
                    let c = xi - mi;
                    a += c * u;
                    b += c * v;
                }
                [a, b]
            })
            .collect();
        let bounds = |axis: usize| {
            projected
                .iter()
                .fold([f64::INFINITY, f64::NEG_INFINITY], |r, p| {
                    [r[0].min(p[axis]), r[1].max(p[axis])]
                })
        };
        let (a, b) = (bounds(0), bounds(1));
        let margin = PCA_MARGIN * (a[1] - a[0]).max(b[1] - b[0]);
        Ok(Plane {
            center: mean,
            d1,
            d2,
            alpha: [a[0] - margin, a[1] + margin],
            beta: [b[0] - margin, b[1] + margin],
            kind: PlaneKind::Pca,
            explained: Some(explained),
        })
    }

    /// The plane through three points: `c` at `(0, 0)`, `a` at `(1, 0)`, `b` at `(0, 1)`
    /// (`d1 = a − c`, `d2 = b − c`; not orthogonal in general, [`Self::project`] allows for that).
    /// Range `[-0.5, 1.5] x [-0.5, 1.5]`. Refused when the lengths differ, a value is not finite, or
    /// the points are collinear (two the same, or the angle at `c` within [`MIN_PLANE_ANGLE`] of 0
    /// or π).
    pub fn through(c: &[f64], a: &[f64], b: &[f64]) -> Result<Plane, CoreError> {
        if a.len() != c.len() || b.len() != c.len() {
            return Err(invalid(format!(
                "the three points have {}, {} and {} parameters",
                c.len(),
                a.len(),
                b.len()
            )));
        }
        check_finite("the first point", c)?;
        check_finite("the second point", a)?;
        check_finite("the third point", b)?;
        let d1: Vec<f64> = a.iter().zip(c).map(|(x, y)| x - y).collect();
        let d2: Vec<f64> = b.iter().zip(c).map(|(x, y)| x - y).collect();
        if d1.iter().all(|&x| x == 0.0) || d2.iter().all(|&x| x == 0.0) {
            return Err(invalid(
                "two of the three points are the same: no plane through them",
            ));
        }
        if gram(&d1, &d2).1 < MIN_PLANE_ANGLE * MIN_PLANE_ANGLE {
            return Err(invalid(
                "the three points lie on a line: no plane through them",
            ));
        }
        Ok(Plane {
            center: c.to_vec(),
            d1,
            d2,
            alpha: [-0.5, 1.5],
            beta: [-0.5, 1.5],
            kind: PlaneKind::ThreePoints,
            explained: None,
        })
    }

    /// The number of parameters N (the length of each vector).
    pub fn params(&self) -> usize {
        self.center.len()
    }

    /// Checks what the constructors guarantee and a file may break: equal lengths (at least 2),
    /// finite values, neither direction zero, the directions not parallel (angle within
    /// [`MIN_PLANE_ANGLE`] of 0 or π), finite ranges with min < max, fractions explained in 0..=1.
    pub fn validate(&self) -> Result<(), CoreError> {
        let n = self.center.len();
        if self.d1.len() != n || self.d2.len() != n {
            return Err(invalid(format!(
                "center, d1 and d2 must have the same length; they have {}, {} and {}",
                n,
                self.d1.len(),
                self.d2.len()
            )));
        }
        if n < 2 {
            return Err(invalid(format!(
                "a plane needs at least 2 parameters, it has {n}"
            )));
        }
        check_finite("center", &self.center)?;
        check_finite("d1", &self.d1)?;
        check_finite("d2", &self.d2)?;
        for (name, d) in [("d1", &self.d1), ("d2", &self.d2)] {
            if d.iter().all(|&x| x == 0.0) {
                return Err(invalid(format!("{name} is zero: a direction must not be")));
            }
        }
        if gram(&self.d1, &self.d2).1 < MIN_PLANE_ANGLE * MIN_PLANE_ANGLE {
            return Err(invalid(
                "d1 and d2 are parallel: they span a line, not a plane",
            ));
        }
        check_range("alpha", self.alpha)?;
        check_range("beta", self.beta)?;
        if let Some(e) = self.explained
            && !e.iter().all(|x| (0.0..=1.0).contains(x))
        {
            return Err(invalid(format!(
                "explained variance [{}, {}] must be fractions between 0 and 1",
                e[0], e[1]
            )));
        }
        Ok(())
    }

    /// Checks that the plane's vectors have one entry per parameter of a network with `params`
    /// parameters.
    pub fn check_params(&self, params: usize) -> Result<(), CoreError> {
        if self.params() == params {
            Ok(())
        } else {
            Err(invalid(format!(
                "the plane has {} parameters per vector but the network has {params}",
                self.params()
            )))
        }
    }

    /// Writes the plane's point `θ(α, β)` into `out` (N entries; a shorter `out` gets its first
    /// entries): `out[i] = (c[i] + α·d1[i]) + β·d2[i]`, in f64, evaluated in that order without fused
    /// multiply-adds. Every value of a slice is the loss at exactly this vector.
    pub fn point(&self, alpha: f64, beta: f64, out: &mut [f64]) {
        for (((o, c), u), v) in out.iter_mut().zip(&self.center).zip(&self.d1).zip(&self.d2) {
            *o = c + alpha * u + beta * v;
        }
    }

    /// The least-squares projection of `θ` (N entries) onto the plane: the `(α, β)` minimizing
    /// `‖θ − c − α·d1 − β·d2‖`, from the 2 x 2 normal equations
    /// `[d1·d1  d1·d2; d1·d2  d2·d2] [α; β] = [d1·r; d2·r]` with `r = θ − c` (exact for directions that
    /// are not orthogonal), and that distance. A vector of another length is compared on the common
    /// entries; NaN where the plane is degenerate (see [`Self::validate`]).
    pub fn project(&self, theta: &[f64]) -> Projection {
        let ([g11, g12, g22], _) = gram(&self.d1, &self.d2);
        let (mut r1, mut r2) = (0.0, 0.0);
        for (((t, c), u), v) in theta.iter().zip(&self.center).zip(&self.d1).zip(&self.d2) {
            let r = t - c;
            r1 += u * r;
            r2 += v * r;
        }
        let det = g11 * g22 - g12 * g12;
        let alpha = (g22 * r1 - g12 * r2) / det;
        let beta = (g11 * r2 - g12 * r1) / det;
        let distance = theta
            .iter()
            .zip(&self.center)
            .zip(&self.d1)
            .zip(&self.d2)
            .map(|(((t, c), u), v)| {
                let e = t - c - alpha * u - beta * v;
                e * e
            })
            .sum::<f64>()
            .sqrt();
        Projection {
            alpha,
            beta,
            distance,
        }
    }

    /// The plane as JSON, one field a line: `kind`, `alpha`, `beta`, `explained` (PCA only), then
    /// `center`, `d1`, `d2` as arrays of numbers in shortest round-trip form ([`Self::from_json`]
    /// reads them back bit for bit).
    pub fn to_json(&self) -> String {
        let numbers = |v: &[f64]| serde_json::Value::from(v.to_vec()).to_string();
        let mut out = format!(
            "{{\n  \"kind\": \"{}\",\n  \"alpha\": {},\n  \"beta\": {},\n",
            self.kind,
            numbers(&self.alpha),
            numbers(&self.beta)
        );
        if let Some(e) = self.explained {
            out.push_str(&format!("  \"explained\": {},\n", numbers(&e)));
        }
        out.push_str(&format!(
            "  \"center\": {},\n  \"d1\": {},\n  \"d2\": {}\n}}\n",
            numbers(&self.center),
            numbers(&self.d1),
            numbers(&self.d2)
        ));
        out
    }

    /// Reads a plane file: a JSON object with `center`, `d1` and `d2` (arrays of N numbers, required)
    /// and optionally `alpha`, `beta` (`[min, max]`, default `[-1, 1]`), `kind` (default `custom`) and
    /// `explained`; any other field is refused. The plane is [validated](Self::validate); the message
    /// of a refusal is one line (with the line and column for a syntax error). Check the length
    /// against the network with [`Self::check_params`].
    pub fn from_json(text: &str) -> Result<Plane, CoreError> {
        let plane: Plane = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        plane.validate()?;
        Ok(plane)
    }
}

/// Step 2 and 3 of [`Plane::random`] on one direction.
fn filter_normalize(layers: &[LayerLayout], center: &[f64], d: &mut [f64]) {
    for layer in layers {
        for o in 0..layer.outputs {
            let row = layer.row(o);
            let c_norm = norm(&center[row.clone()]);
            let d_row = &mut d[row];
            let scale = c_norm / (norm(d_row) + FILTER_NORM_EPS);
            d_row.iter_mut().for_each(|x| *x *= scale);
        }
        d[layer.bias.clone()].iter_mut().for_each(|x| *x = 0.0);
    }
}

/// Fixes the sign of a unit direction: along `moved` where it has a component, else the entry of
/// largest magnitude positive.
fn orient(d: &mut [f64], moved: Option<&[f64]>) {
    let along = moved.map_or(0.0, |m| dot(d, m));
    let scale = moved.map_or(0.0, norm);
    let flip = if along.abs() > 1e-12 * scale {
        along < 0.0
    } else {
        let mut largest = 0.0_f64;
        for &x in d.iter() {
            if x.abs() > largest.abs() {
                largest = x;
            }
        }
        largest < 0.0
    };
    if flip {
        d.iter_mut().for_each(|x| *x = -*x);
    }
}

/// The principal components behind [`Plane::pca`], matrix-free. A block of vectors in R^N is stored as
/// N rows of [`BLOCK`] lanes (`q[i][k]` is entry `i` of vector `k`; lanes past the vectors in use are 0),
/// so that the inner loops run over the lanes with a fixed width the compiler vectorizes.
mod pca {
    use super::*;

    /// Vectors in the block (the two wanted and six more, which speed up convergence: vector `k`
    /// converges as `(λ9 / λk)^iterations`).
    const BLOCK: usize = 8;
    /// The most iterations.
    const MAX_ITERATIONS: usize = 300;
    /// Converged when both residuals `‖S u − λ u‖` are below this times `λ1`.
    const TOLERANCE: f64 = 1e-10;
    /// Coordinates per block in the passes over the points (a block of `Q`, 256 x 64 bytes, stays in
    /// the L1 cache while the points stream past).
    const COORDS_PER_BLOCK: usize = 256;
    /// Points per parallel task in `Xc Q`.
    const POINTS_PER_TASK: usize = 16;
    /// Seed of the start block.
    const SEED: u64 = 0x05ee_d9ca;

    /// One row of a block of vectors.
    type Row = [f64; BLOCK];

    /// The two leading eigenpairs of the scatter matrix.
    pub(super) struct TopTwo {
        /// `λ1 ≥ λ2` (0 where the data has fewer dimensions).
        pub values: [f64; 2],
        /// Unit eigenvectors.
        pub vectors: [Vec<f64>; 2],
    }

    /// The mean of the points, each coordinate summed in point order.
    pub(super) fn mean(points: &[&[f64]]) -> Vec<f64> {
        let n = points[0].len();
        let m = points.len() as f64;
        let mut mean = vec![0.0; n];
        mean.par_chunks_mut(COORDS_PER_BLOCK)
            .enumerate()
            .for_each(|(t, out)| {
                let start = t * COORDS_PER_BLOCK;
                for x in points {
                    for (o, xi) in out.iter_mut().zip(&x[start..]) {
                        *o += xi;
                    }
                }
                out.iter_mut().for_each(|o| *o /= m);
            });
        mean
    }

    /// `trace(S) = Σ_m ‖x_m − μ‖²`, summed in point order.
    pub(super) fn total_scatter(points: &[&[f64]], mean: &[f64]) -> f64 {
        let each: Vec<f64> = points
            .par_iter()
            .map(|x| x.iter().zip(mean).map(|(a, b)| (a - b) * (a - b)).sum())
            .collect();
        each.iter().sum()
    }

    /// `Y = Xc Q`, a row per point: in parallel over groups of points; each point's sums run over the
    /// coordinates in order (blocked so that a block of `Q` serves a group of points from the cache).
    fn points_times(points: &[&[f64]], mean: &[f64], q: &[Row]) -> Vec<Row> {
        let n = mean.len();
        let groups: Vec<Vec<Row>> = points
            .par_chunks(POINTS_PER_TASK)
            .map(|group| {
                let mut acc = vec![[0.0; BLOCK]; group.len()];
                for start in (0..n).step_by(COORDS_PER_BLOCK) {
                    let end = (start + COORDS_PER_BLOCK).min(n);
                    let (qb, mb) = (&q[start..end], &mean[start..end]);
                    for (x, a) in group.iter().zip(&mut acc) {
                        for ((xi, mi), row) in x[start..end].iter().zip(mb).zip(qb) {
                            let c = xi - mi;
                            for k in 0..BLOCK {
                                a[k] += c * row[k];
                            }
                        }
                    }
                }
                acc
            })
            .collect();
        groups.concat()
    }

    /// `Z = Xcᵀ Y`, a row per coordinate: in parallel over blocks of coordinates, each summed over the
    /// points in order.
    fn coords_times(points: &[&[f64]], mean: &[f64], y: &[Row]) -> Vec<Row> {
        let mut z = vec![[0.0; BLOCK]; mean.len()];
        z.par_chunks_mut(COORDS_PER_BLOCK)
            .enumerate()
            .for_each(|(t, out)| {
                let start = t * COORDS_PER_BLOCK;
                let mb = &mean[start..start + out.len()];
                for (x, ym) in points.iter().zip(y) {
                    for ((zi, xi), mi) in out.iter_mut().zip(&x[start..]).zip(mb) {
                        let c = xi - mi;
                        for k in 0..BLOCK {
                            zi[k] += c * ym[k];
                        }
                    }
                }
            });
        z
    }

    /// Orthonormalizes the first `b` columns of `m` in order by modified Gram–Schmidt, twice; a column
    /// left with less than `1e-12` of the largest column's norm (no new direction: the data has fewer
    /// dimensions) is dropped. Returns the kept columns (the other lanes 0) and their count.
    fn orthonormalize(m: &[Row], b: usize) -> (Vec<Row>, usize) {
        let column = |k: usize| -> Vec<f64> { m.iter().map(|row| row[k]).collect() };
        let largest = (0..b).map(|k| norm(&column(k))).fold(0.0, f64::max);
        let mut kept: Vec<Vec<f64>> = Vec::with_capacity(b);
        for k in 0..b {
            let mut v = column(k);
            for _ in 0..2 {
                for u in &kept {
                    let p = dot(u, &v);
                    v.iter_mut().zip(u).for_each(|(vi, ui)| *vi -= p * ui);
                }
            }
            let len = norm(&v);
            if len > 1e-12 * largest && len > 0.0 {
                v.iter_mut().for_each(|x| *x /= len);
                kept.push(v);
            }
        }
        let mut out = vec![[0.0; BLOCK]; m.len()];
        for (k, v) in kept.iter().enumerate() {
            for (row, x) in out.iter_mut().zip(v) {
                row[k] = *x;
            }
        }
        (out, kept.len())
    }

    /// `M W` for the first `b` columns of `M` and `W` `b` x `b` (row-major).
    fn times(m: &[Row], w: &[f64], b: usize) -> Vec<Row> {
        m.iter()
            .map(|row| {
                let mut out = [0.0; BLOCK];
                for k in 0..b {
                    for l in 0..b {
                        out[l] += row[k] * w[k * b + l];
                    }
                }
                out
            })
            .collect()
    }

    /// The two leading eigenpairs of `S` by block subspace iteration with Rayleigh–Ritz (see
    /// [`Plane::pca`]).
    pub(super) fn top_two(points: &[&[f64]], mean: &[f64]) -> TopTwo {
        let n = mean.len();
        let b0 = BLOCK.min(n).min(points.len());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
        let start: Vec<Row> = (0..n)
            .map(|_| {
                let mut row = [0.0; BLOCK];
                row[..b0]
                    .iter_mut()
                    .for_each(|x| *x = rng.sample(StandardNormal));
                row
            })
            .collect();
        let (mut q, mut b) = orthonormalize(&start, b0);
        let mut best = TopTwo {
            values: [0.0, 0.0],
            vectors: [vec![0.0; n], vec![0.0; n]],
        };
        for _ in 0..MAX_ITERATIONS {
            let z = coords_times(points, mean, &points_times(points, mean, &q));
            // Rayleigh–Ritz: H = Qᵀ Z (b x b, symmetric), H = W Λ Wᵀ.
            let mut h = vec![0.0; b * b];
            for (qi, zi) in q.iter().zip(&z) {
                for k in 0..b {
                    for l in 0..b {
                        h[k * b + l] += qi[k] * zi[l];
                    }
                }
            }
            for k in 0..b {
                for l in 0..k {
                    let s = 0.5 * (h[k * b + l] + h[l * b + k]);
                    h[k * b + l] = s;
                    h[l * b + k] = s;
                }
            }
            let (values, w) = symmetric_eigen(&h, b);
            let u = times(&q, &w, b);
            let su = times(&z, &w, b);
            let wanted = b.min(2);
            let mut converged = true;
            for k in 0..wanted {
                let residual = u
                    .iter()
                    .zip(&su)
                    .map(|(ui, si)| {
                        let e = si[k] - values[k] * ui[k];
                        e * e
                    })
                    .sum::<f64>()
                    .sqrt();
                converged &= residual <= TOLERANCE * values[0];
                best.values[k] = values[k].max(0.0);
                best.vectors[k] = u.iter().map(|row| row[k]).collect();
            }
            if wanted < 2 {
                best.values[1] = 0.0;
            }
            if converged || wanted < 2 {
                break;
            }
            (q, b) = orthonormalize(&su, b);
        }
        for v in &mut best.vectors {
            let len = norm(v);
            if len > 0.0 {
                v.iter_mut().for_each(|x| *x /= len);
            }
        }
        best
    }

    /// Eigenvalues (descending) and eigenvectors (column `k` of the row-major `b` x `b` result) of the
    /// symmetric `b` x `b` matrix `a`, by cyclic Jacobi rotations (Golub & Van Loan, section 8.5; `b`
    /// is at most 8 here).
    pub(super) fn symmetric_eigen(a: &[f64], b: usize) -> (Vec<f64>, Vec<f64>) {
        let mut a = a.to_vec();
        let mut v = vec![0.0; b * b];
        for k in 0..b {
            v[k * b + k] = 1.0;
        }
        for _sweep in 0..100 {
            let off: f64 = (0..b)
                .flat_map(|p| (0..b).filter(move |&q| q != p).map(move |q| (p, q)))
                .map(|(p, q)| a[p * b + q] * a[p * b + q])
                .sum();
            let diag: f64 = (0..b).map(|p| a[p * b + p] * a[p * b + p]).sum();
            if off <= 1e-32 * diag || off == 0.0 {
                break;
            }
            for p in 0..b {
                for q in p + 1..b {
                    let apq = a[p * b + q];
                    if apq == 0.0 {
                        continue;
                    }
                    let theta = (a[q * b + q] - a[p * b + p]) / (2.0 * apq);
                    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                    let c = 1.0 / (t * t + 1.0).sqrt();
                    let s = t * c;
                    // A ← Pᵀ A P (columns p and q, then rows p and q), V ← V P.
                    for k in 0..b {
                        let (akp, akq) = (a[k * b + p], a[k * b + q]);
                        a[k * b + p] = c * akp - s * akq;
                        a[k * b + q] = s * akp + c * akq;
                    }
                    for k in 0..b {
                        let (apk, aqk) = (a[p * b + k], a[q * b + k]);
                        a[p * b + k] = c * apk - s * aqk;
                        a[q * b + k] = s * apk + c * aqk;
                    }
                    for k in 0..b {
                        let (vkp, vkq) = (v[k * b + p], v[k * b + q]);
                        v[k * b + p] = c * vkp - s * vkq;
                        v[k * b + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        let mut order: Vec<usize> = (0..b).collect();
        order.sort_by(|&x, &y| a[y * b + y].total_cmp(&a[x * b + x]));
        let values = order.iter().map(|&k| a[k * b + k]).collect();
        let mut vectors = vec![0.0; b * b];
        for (col, &k) in order.iter().enumerate() {
            for row in 0..b {
                vectors[row * b + col] = v[row * b + k];
            }
        }
        (values, vectors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::network::layout;

    fn gaussian(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| rng.sample(StandardNormal)).collect()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
    }

    /// `v` minus its components along the orthonormal `basis`, normalized.
    fn orthonormal_to(mut v: Vec<f64>, basis: &[&[f64]]) -> Vec<f64> {
        for _ in 0..2 {
            for u in basis {
                let p = dot(u, &v);
                v.iter_mut().zip(*u).for_each(|(x, y)| *x -= p * y);
            }
        }
        let len = norm(&v);
        v.iter().map(|x| x / len).collect()
    }

    #[test]
    fn random_directions_are_filter_normalized_with_zero_biases() {
        let (layers, n) = layout(&[3, 5, 4, 2]);
        let mut center = gaussian(n, 7);
        // One unit of the center with all-zero weights: its row stays zero in d.
        center[layers[1].row(2)].iter_mut().for_each(|x| *x = 0.0);
        let plane = Plane::random(&layers, &center, 42).expect("a valid center");
        assert_eq!(plane.kind, PlaneKind::Random);
        assert_eq!((plane.alpha, plane.beta), ([-1.0, 1.0], [-1.0, 1.0]));
        assert_eq!(plane.center, center);
        plane.validate().expect("valid");
        for d in [&plane.d1, &plane.d2] {
            for layer in &layers {
                for o in 0..layer.outputs {
                    let row = layer.row(o);
                    let (dn, cn) = (norm(&d[row.clone()]), norm(&center[row]));
                    assert!((dn - cn).abs() <= 1e-9 * cn, "row norm {dn} vs {cn}");
                }
                assert!(d[layer.bias.clone()].iter().all(|&x| x == 0.0));
            }
        }
        assert!(plane.d1[layers[1].row(2)].iter().all(|&x| x == 0.0));
        assert_ne!(plane.d1, plane.d2);
        let again = Plane::random(&layers, &center, 42).expect("valid");
        assert_eq!(again, plane, "the same seed gives the same plane");
        let other = Plane::random(&layers, &center, 43).expect("valid");
        assert_ne!(other.d1, plane.d1);
    }

    #[test]
    fn random_refuses_a_mismatched_layout_or_a_zero_center() {
        let (layers, n) = layout(&[2, 3, 2]);
        let short = vec![1.0; n - 1];
        let e = Plane::random(&layers, &short, 1).expect_err("too short");
        assert!(
            e.to_string()
                .contains("16 parameters but the network's layers have 17")
        );
        let zero = vec![0.0; n];
        let e = Plane::random(&layers, &zero, 1).expect_err("zero weights");
        assert!(
            e.to_string().contains("every weight of the center is zero"),
            "{e}"
        );
        let mut nan = vec![1.0; n];
        nan[4] = f64::NAN;
        assert!(Plane::random(&layers, &nan, 1).is_err());
    }

    #[test]
    fn a_point_on_the_plane_projects_back_to_its_coordinates() {
        let n = 40;
        let c = gaussian(n, 1);
        let a = gaussian(n, 2);
        // b close to a: d1 and d2 far from orthogonal (and of different lengths).
        let b: Vec<f64> = a
            .iter()
            .zip(gaussian(n, 3))
            .map(|(x, y)| x + 0.3 * y)
            .collect();
        let plane = Plane::through(&c, &a, &b).expect("three points");
        assert_eq!(plane.kind, PlaneKind::ThreePoints);
        assert_eq!((plane.alpha, plane.beta), ([-0.5, 1.5], [-0.5, 1.5]));
        let cos = dot(&plane.d1, &plane.d2) / (norm(&plane.d1) * norm(&plane.d2));
        assert!(cos > 0.9, "directions nearly parallel: cos {cos}");
        let mut theta = vec![0.0; n];
        for (alpha, beta) in [
            (0.3, -0.7),
            (0.0, 0.0),
            (1.0, 0.0),
            (0.0, 1.0),
            (-12.5, 3.25),
        ] {
            plane.point(alpha, beta, &mut theta);
            let p = plane.project(&theta);
            assert!(close(p.alpha, alpha, 1e-10), "{} vs {alpha}", p.alpha);
            assert!(close(p.beta, beta, 1e-10), "{} vs {beta}", p.beta);
            assert!(
                p.distance <= 1e-12 * norm(&theta).max(1.0),
                "{}",
                p.distance
            );
        }
        // The three points themselves.
        let p = plane.project(&b);
        assert!(close(p.alpha, 0.0, 1e-10) && close(p.beta, 1.0, 1e-10));
    }

    #[test]
    fn a_point_off_the_plane_is_at_its_distance() {
        let n = 30;
        let c = gaussian(n, 11);
        let plane = Plane {
            center: c.clone(),
            d1: gaussian(n, 12),
            d2: gaussian(n, 13),
            alpha: [-1.0, 1.0],
            beta: [-1.0, 1.0],
            kind: PlaneKind::Custom,
            explained: None,
        };
        plane.validate().expect("valid");
        let e1 = orthonormal_to(plane.d1.clone(), &[]);
        let e2 = orthonormal_to(plane.d2.clone(), &[&e1]);
        let normal = orthonormal_to(gaussian(n, 14), &[&e1, &e2]);
        let mut theta = vec![0.0; n];
        plane.point(0.4, -1.3, &mut theta);
        theta
            .iter_mut()
            .zip(&normal)
            .for_each(|(t, u)| *t += 2.5 * u);
        let p = plane.project(&theta);
        assert!(
            close(p.alpha, 0.4, 1e-10) && close(p.beta, -1.3, 1e-10),
            "{p:?}"
        );
        assert!(close(p.distance, 2.5, 1e-10), "{}", p.distance);
    }

    #[test]
    fn through_refuses_collinear_or_repeated_points() {
        let c = vec![1.0, 2.0, 3.0];
        let a = vec![2.0, 3.0, 4.0];
        let b = vec![3.0, 4.0, 5.0];
        let e = Plane::through(&c, &a, &b).expect_err("collinear");
        assert!(e.to_string().contains("lie on a line"), "{e}");
        let e = Plane::through(&c, &c, &b).expect_err("repeated");
        assert!(e.to_string().contains("the same"), "{e}");
        assert!(Plane::through(&c, &a, &[1.0, 2.0]).is_err());
        assert!(Plane::through(&c, &a, &[1.0, f64::INFINITY, 0.0]).is_err());
    }

    /// Points on an ellipse with semi-axes `ra` along `u` and `rb` along `v` (a random 2-D subspace of
    /// R^n) around `mu`, plus Gaussian noise of size `noise`, split into `runs` runs.
    fn ellipse(
        n: usize,
        ra: f64,
        rb: f64,
        noise: f64,
        runs: usize,
    ) -> (Vec<Vec<Vec<f64>>>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mu = gaussian(n, 21);
        let u = orthonormal_to(gaussian(n, 22), &[]);
        let v = orthonormal_to(gaussian(n, 23), &[&u]);
        let count = 600;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(24);
        let points: Vec<Vec<f64>> = (0..count)
            .map(|k| {
                let t = std::f64::consts::TAU * k as f64 / count as f64;
                (0..n)
                    .map(|i| {
                        let e: f64 = rng.sample(StandardNormal);
                        mu[i] + ra * t.cos() * u[i] + rb * t.sin() * v[i] + noise * e
                    })
                    .collect()
            })
            .collect();
        let per = count / runs;
        let split = points.chunks(per).map(<[Vec<f64>]>::to_vec).collect();
        (split, mu, u, v)
    }

    #[test]
    fn pca_finds_the_plane_and_the_variances_of_an_ellipse() {
        let (runs, mu, u, v) = ellipse(50, 3.0, 1.0, 1e-6, 3);
        let plane = Plane::pca(&runs).expect("a plane");
        assert_eq!(plane.kind, PlaneKind::Pca);
        plane.validate().expect("valid");
        // Variance a²/2 along u, b²/2 along v: fractions 0.9 and 0.1 (the noise takes ~1e-11).
        let e = plane.explained.expect("explained");
        assert!(
            (e[0] - 0.9).abs() < 1e-6 && (e[1] - 0.1).abs() < 1e-6,
            "{e:?}"
        );
        assert!((dot(&plane.d1, &u).abs() - 1.0).abs() < 1e-9);
        assert!((dot(&plane.d2, &v).abs() - 1.0).abs() < 1e-9);
        assert!((norm(&plane.d1) - 1.0).abs() < 1e-12 && dot(&plane.d1, &plane.d2).abs() < 1e-12);
        let shift: f64 = plane
            .center
            .iter()
            .zip(&mu)
            .map(|(a, b)| (a - b).abs())
            .sum();
        assert!(shift < 1e-5, "center off by {shift}");
        // Every point projects inside the range, with the margin: 0.2 x the larger extent (6).
        for p in runs.iter().flatten() {
            let q = plane.project(p);
            assert!(q.distance < 1e-4, "{}", q.distance);
            assert!(q.alpha > plane.alpha[0] + 1.1 && q.alpha < plane.alpha[1] - 1.1);
            assert!(q.beta > plane.beta[0] + 1.1 && q.beta < plane.beta[1] - 1.1);
        }
        assert!(
            (plane.alpha[0] + 3.0 + 1.2).abs() < 1e-3 && (plane.beta[1] - 1.0 - 1.2).abs() < 1e-3
        );
        // Signs: the first run moves from angle 0 to about 2π/3: +v, and -u.
        let first = &runs[0];
        let moved: Vec<f64> = first[first.len() - 1]
            .iter()
            .zip(&first[0])
            .map(|(a, b)| a - b)
            .collect();
        assert!(dot(&moved, &plane.d1) > 0.0 && dot(&moved, &plane.d2) > 0.0);
    }

    #[test]
    fn pca_does_not_depend_on_the_number_of_threads() {
        let (runs, ..) = ellipse(37, 2.0, 1.5, 1e-3, 4);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool")
                .install(|| Plane::pca(&runs).expect("a plane"))
        };
        let one = on(1);
        assert_eq!(one, on(3), "bit for bit");
        assert_eq!(one, on(2));
    }

    #[test]
    fn pca_of_a_random_walk_puts_most_variance_on_the_first_axis() {
        // Antognini & Sohl-Dickstein 2018: the k-th component of a high-dimensional random walk explains
        // about 6 / (π² k²) of its variance: 0.61 and 0.15.
        let (n, steps) = (1000, 400);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut x = vec![0.0; n];
        let mut walk = Vec::with_capacity(steps);
        for _ in 0..steps {
            for xi in &mut x {
                let e: f64 = rng.sample(StandardNormal);
                *xi += e;
            }
            walk.push(x.clone());
        }
        let plane = Plane::pca(&[walk]).expect("a plane");
        let e = plane.explained.expect("explained");
        println!("random walk of {steps} steps in R^{n}: explained {e:?}");
        assert!(e[0] > 0.5 && e[0] < 0.72, "{e:?}");
        assert!(e[1] > 0.1 && e[1] < 0.2, "{e:?}");
    }

    #[test]
    fn pca_refuses_too_few_identical_or_collinear_points() {
        let two = vec![vec![vec![0.0, 1.0, 2.0], vec![1.0, 1.0, 2.0]]];
        let e = Plane::pca(&two).expect_err("two points");
        assert!(e.to_string().contains("got 2"), "{e}");
        let same = vec![vec![vec![0.5; 4]; 5]];
        let e = Plane::pca(&same).expect_err("identical");
        assert!(
            e.to_string()
                .contains("all points of the runs are the same"),
            "{e}"
        );
        let dir = gaussian(20, 3);
        let line: Vec<Vec<f64>> = (0..50)
            .map(|k| dir.iter().map(|d| 1.0 + 0.37 * k as f64 * d).collect())
            .collect();
        let e = Plane::pca(&[line.clone(), line]).expect_err("a line");
        assert!(e.to_string().contains("lie on a line"), "{e}");
        assert!(!e.to_string().contains('\n'));
        let ragged = vec![
            vec![vec![0.0, 1.0], vec![1.0, 0.0]],
            vec![vec![1.0, 2.0, 3.0]],
        ];
        let e = Plane::pca(&ragged).expect_err("ragged");
        assert!(
            e.to_string().contains("run 1, point 0 has 3 parameters"),
            "{e}"
        );
        let nan = vec![vec![vec![0.0, 1.0], vec![1.0, 0.0], vec![f64::NAN, 0.0]]];
        assert!(Plane::pca(&nan).is_err());
        let empty: Vec<Vec<Vec<f64>>> = Vec::new();
        assert!(Plane::pca(&empty).is_err());
    }

    #[test]
    fn jacobi_finds_the_eigen_pairs_of_a_small_symmetric_matrix() {
        // Q diag(5, 2, -1) Qᵀ for a rotation Q.
        let (c, s) = (0.6_f64, 0.8_f64);
        let q = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
        let d = [5.0, 2.0, -1.0];
        let mut a = vec![0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                a[i * 3 + j] = (0..3).map(|k| q[i][k] * d[k] * q[j][k]).sum();
            }
        }
        let (values, vectors) = pca::symmetric_eigen(&a, 3);
        for (v, e) in values.iter().zip(d) {
            assert!((v - e).abs() < 1e-12, "{values:?}");
        }
        for k in 0..3 {
            let along: f64 = (0..3).map(|i| vectors[i * 3 + k] * q[i][k]).sum();
            assert!((along.abs() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn plane_files_round_trip_bit_for_bit() {
        let (runs, ..) = ellipse(12, 1.0, 0.5, 1e-2, 2);
        let pca = Plane::pca(&runs).expect("a plane");
        let (layers, n) = layout(&[2, 3, 2]);
        let random = Plane::random(&layers, &gaussian(n, 9), 3).expect("a plane");
        for plane in [pca, random] {
            let text = plane.to_json();
            let back = Plane::from_json(&text).expect("reads back");
            assert_eq!(back, plane);
            // An outside reader sees the same numbers.
            let value: serde_json::Value = serde_json::from_str(&text).expect("json");
            assert_eq!(value["d1"][1].as_f64(), Some(plane.d1[1]));
            assert_eq!(value["kind"].as_str(), Some(plane.kind.name()));
        }
    }

    #[test]
    fn a_minimal_plane_file_gets_the_default_range() {
        let plane = Plane::from_json(r#"{"center": [0, 1], "d1": [1, 0], "d2": [0.5, 2e-3]}"#)
            .expect("valid");
        assert_eq!(plane.kind, PlaneKind::Custom);
        assert_eq!((plane.alpha, plane.beta), ([-1.0, 1.0], [-1.0, 1.0]));
        assert_eq!(plane.explained, None);
        plane.check_params(2).expect("2 parameters");
        let e = plane.check_params(354).expect_err("wrong network");
        assert_eq!(
            e.to_string(),
            "invalid plane: the plane has 2 parameters per vector but the network has 354"
        );
    }

    #[test]
    fn bad_plane_files_are_refused_on_one_line() {
        let cases = [
            (
                r#"{"center": [0, 1, 2], "d1": [1, 0], "d2": [0, 1]}"#,
                "same length",
            ),
            (
                r#"{"center": [0, 1], "d1": [0, 0], "d2": [0, 1]}"#,
                "d1 is zero",
            ),
            (
                r#"{"center": [0, 1], "d1": [1, 1], "d2": [-2, -2]}"#,
                "parallel",
            ),
            (r#"{"center": [0, 1], "d1": [1, 0]}"#, "missing field `d2`"),
            (
                r#"{"center": [0, 1], "d1": [1, 0], "d2": [0, 1], "centre": [0]}"#,
                "unknown field `centre`",
            ),
            (
                r#"{"center": [0, null], "d1": [1, 0], "d2": [0, 1]}"#,
                "invalid type: null",
            ),
            (
                r#"{"center": [0, 1e999], "d1": [1, 0], "d2": [0, 1]}"#,
                "out of range",
            ),
            (
                r#"{"center": [0, 1], "d1": [1, 0], "d2": [0, 1], "alpha": [1, -1]}"#,
                "min < max",
            ),
            (
                r#"{"center": [0, 1], "d1": [1, 0], "d2": [0, 1], "kind": "diagonal"}"#,
                "unknown variant",
            ),
            (
                r#"{"center": [0, 1], "d1": [1, 0], "d2": [0, 1], "explained": [1.5, 0]}"#,
                "between 0 and 1",
            ),
            (
                r#"{"center": [0], "d1": [1], "d2": [2]}"#,
                "at least 2 parameters",
            ),
            (r#"{"center": [0, 1], "d1": [1, 0], "d2": [0, 1]"#, "EOF"),
            ("", "EOF"),
        ];
        for (text, expected) in cases {
            let e = Plane::from_json(text).expect_err(text).to_string();
            assert!(e.starts_with("invalid plane: "), "{e}");
            assert!(e.contains(expected), "{text}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
