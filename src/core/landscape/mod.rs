//! Loss landscapes: the functions L(x, y) the optimizers descend, in `param` space.
//!
//! A [`LandscapeSpec`] is the serialisable description (a name plus a few parameters, what a scene file
//! stores); a [`Landscape`] is the built thing (precomputed rotation, noise table, dataset) that answers
//! value, gradient and Hessian queries. Every gradient and Hessian is analytic (exact); `tests/core_landscape.rs`
//! checks each one against central differences over its display domain.
//!
//! - this file: the spec, the landscape type, its domain, minima and start;
//! - `analytic`: the textbook test functions (bowl, saddles, Rosenbrock, Beale, ...);
//! - `terrain`: procedural simplex-noise terrain;
//! - `regression`: the line-fit loss over a synthetic dataset, with real mini-batches;
//! - `formula`: a formula typed by the user (see [`crate::core::formula`]), exact gradient and Hessian;
//! - `minima`: minima found numerically (Newton refinement, multi-start search).

mod analytic;
mod formula;
mod minima;
mod network;
mod regression;
mod terrain;

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use super::error::CoreError;
use super::gradient::GradientNoise;
use super::network::{Network, NetworkSpec, Plane, SliceGrid, SliceSpec};
use super::number::num;
use analytic::Analytic;
use formula::FormulaSurface;
use regression::{REGRESSION_TRUTH, Regression};
use terrain::Terrain;

pub use formula::{DEFAULT_FORMULA_DOMAIN, MAX_FORMULA_DOMAIN};
pub use network::NetworkSurface;
pub use regression::{MAX_REGRESSION_SAMPLES, RegressionParams};
pub use terrain::TerrainParams;

/// A point or vector in `param` space: `[x, y]`.
pub type Vec2d = [f64; 2];

/// An axis-aligned rectangle in `param` space: `x[0] <= x <= x[1]`, `y[0] <= y <= y[1]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// `[min, max]` of param x.
    pub x: [f64; 2],
    /// `[min, max]` of param y.
    pub y: [f64; 2],
}

impl Domain {
    /// The square `[-half, half]^2`.
    pub const fn square(half: f64) -> Self {
        Self {
            x: [-half, half],
            y: [-half, half],
        }
    }

    /// Width in param x.
    pub fn width(&self) -> f64 {
        self.x[1] - self.x[0]
    }

    /// Height in param y.
    pub fn height(&self) -> f64 {
        self.y[1] - self.y[0]
    }

    /// The centre point.
    pub fn center(&self) -> Vec2d {
        [0.5 * (self.x[0] + self.x[1]), 0.5 * (self.y[0] + self.y[1])]
    }

    /// Whether `p` lies inside (boundary included).
    pub fn contains(&self, p: Vec2d) -> bool {
        (self.x[0]..=self.x[1]).contains(&p[0]) && (self.y[0]..=self.y[1]).contains(&p[1])
    }
}

/// Which landscape, with its parameters: what a scene file or the command line names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LandscapeSpec {
    /// `bowl`: `L = 0.5 (u^2 + kappa v^2)`, `(u, v)` = param rotated by `-rotation_deg`
    /// (the ellipse's long axis points at `rotation_deg`). Condition number `kappa`.
    Bowl {
        /// Curvature ratio of the short to the long axis, `> 0`.
        kappa: f64,
        /// Rotation of the ellipse in degrees, counter-clockwise.
        rotation_deg: f64,
    },
    /// `saddle`: `L = x^2 - y^2`.
    Saddle,
    /// `saddle-valleys`: `L = x^2 + (y^2 - 1)^2`; minima `(0, +-1)`, saddle at the origin.
    SaddleValleys,
    /// `monkey-saddle`: `L = x^3 - 3 x y^2`; a degenerate saddle with three descending valleys.
    MonkeySaddle,
    /// `rosenbrock`: `L = (a - x)^2 + b (y - x^2)^2`; minimum `(a, a^2)`.
    Rosenbrock {
        /// Position of the minimum along x.
        a: f64,
        /// Steepness of the curved valley's walls, `> 0`.
        b: f64,
    },
    /// `beale`: `L = (1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2`; minimum `(3, 0.5)`.
    Beale,
    /// `himmelblau`: `L = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`; four minima of value 0.
    Himmelblau,
    /// `rastrigin`: `L = 2 A + sum_i (x_i^2 - A cos(2 pi x_i))`; minimum `(0, 0)`, a local minimum near
    /// every integer point.
    Rastrigin {
        /// Height of the ripples, `>= 0`.
        a: f64,
    },
    /// `ackley`: `L = -20 exp(-0.2 sqrt((x^2 + y^2) / 2)) - exp((cos 2 pi x + cos 2 pi y) / 2) + 20 + e`.
    Ackley,
    /// `six-hump-camel`: `L = (4 - 2.1 x^2 + x^4 / 3) x^2 + x y + (-4 + 4 y^2) y^2`.
    SixHumpCamel,
    /// `plateau`: `L = 1 - exp(-(x^2 + y^2) / 2)`: a flat mesa whose edge drops into one smooth well.
    Plateau,
    /// `terrain`: fBm of simplex noise over a gentle bowl.
    Terrain(TerrainParams),
    /// `regression`: mean-squared error of a line fitted to a synthetic dataset; param `(x, y) = (w, b)`.
    Regression(RegressionParams),
    /// `formula`: `L = expr`, a formula in x and y typed by the user (the language is described in
    /// [`crate::core::formula`]), over the domain `x.0 <= x <= x.1`, `y.0 <= y <= y.1`. In a scene file:
    /// `Formula(expr: "x^2 + 3*y^2", x: (-3, 3), y: (-3, 3))`. Not in [`Self::NAMES`]: it has no default.
    Formula {
        /// The formula as typed.
        expr: String,
        /// `(min, max)` of param x.
        x: (f64, f64),
        /// `(min, max)` of param y.
        y: (f64, f64),
    },
    /// `network`: a multilayer perceptron trained on a dataset; every weight is a parameter, and what is
    /// shown is a slice of its loss through a plane of parameter space (`x = α`, `y = β`). In a scene
    /// file: `Network((data: Builtin(kind: Moons, size: 200, noise: 0.1, seed: 0), hidden: [16, 16],
    /// activation: Tanh, init_seed: 0, plane_seed: 1))`. Not in [`Self::NAMES`].
    Network(NetworkSpec),
}

impl LandscapeSpec {
    /// A formula over `domain` (see [`LandscapeSpec::Formula`]); checked by [`Landscape::new`].
    pub fn formula(expr: impl Into<String>, domain: Domain) -> Self {
        Self::Formula {
            expr: expr.into(),
            x: (domain.x[0], domain.x[1]),
            y: (domain.y[0], domain.y[1]),
        }
    }

    /// The built-in landscapes' kebab-case names, in the order `list` prints them (not `formula`).
    pub const NAMES: &[&str] = &[
        "bowl",
        "saddle",
        "saddle-valleys",
        "monkey-saddle",
        "rosenbrock",
        "beale",
        "himmelblau",
        "rastrigin",
        "ackley",
        "six-hump-camel",
        "plateau",
        "terrain",
        "regression",
    ];

    /// The landscape called `name` with its default parameters (`bowl`: kappa 10, no rotation;
    /// `rosenbrock`: a 1, b 100; `rastrigin`: A 10; `terrain`/`regression`: their `Default`).
    pub fn from_name(name: &str) -> Result<Self, CoreError> {
        Ok(match name {
            "bowl" => Self::Bowl {
                kappa: 10.0,
                rotation_deg: 0.0,
            },
            "saddle" => Self::Saddle,
            "saddle-valleys" => Self::SaddleValleys,
            "monkey-saddle" => Self::MonkeySaddle,
            "rosenbrock" => Self::Rosenbrock { a: 1.0, b: 100.0 },
            "beale" => Self::Beale,
            "himmelblau" => Self::Himmelblau,
            "rastrigin" => Self::Rastrigin { a: 10.0 },
            "ackley" => Self::Ackley,
            "six-hump-camel" => Self::SixHumpCamel,
            "plateau" => Self::Plateau,
            "terrain" => Self::Terrain(TerrainParams::default()),
            "regression" => Self::Regression(RegressionParams::default()),
            _ => {
                return Err(CoreError::UnknownLandscape {
                    name: name.to_owned(),
                    valid: Self::NAMES.join(", "),
                });
            }
        })
    }

    /// Every landscape with its default parameters, in [`Self::NAMES`] order.
    pub fn all_defaults() -> Vec<Self> {
        Self::NAMES
            .iter()
            .filter_map(|name| Self::from_name(name).ok())
            .collect()
    }

    /// The kebab-case name (parameters not included).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bowl { .. } => "bowl",
            Self::Saddle => "saddle",
            Self::SaddleValleys => "saddle-valleys",
            Self::MonkeySaddle => "monkey-saddle",
            Self::Rosenbrock { .. } => "rosenbrock",
            Self::Beale => "beale",
            Self::Himmelblau => "himmelblau",
            Self::Rastrigin { .. } => "rastrigin",
            Self::Ackley => "ackley",
            Self::SixHumpCamel => "six-hump-camel",
            Self::Plateau => "plateau",
            Self::Terrain(_) => "terrain",
            Self::Regression(_) => "regression",
            Self::Formula { .. } => "formula",
            Self::Network(_) => "network",
        }
    }

    /// A human label for menus ("Six-hump camel").
    pub fn label(&self) -> &'static str {
        match self {
            Self::Bowl { .. } => "Elongated bowl",
            Self::Saddle => "Saddle",
            Self::SaddleValleys => "Saddle with valleys",
            Self::MonkeySaddle => "Monkey saddle",
            Self::Rosenbrock { .. } => "Rosenbrock",
            Self::Beale => "Beale",
            Self::Himmelblau => "Himmelblau",
            Self::Rastrigin { .. } => "Rastrigin",
            Self::Ackley => "Ackley",
            Self::SixHumpCamel => "Six-hump camel",
            Self::Plateau => "Plateau",
            Self::Terrain(_) => "Terrain",
            Self::Regression(_) => "Linear regression",
            Self::Formula { .. } => "Your formula",
            Self::Network(_) => "A network's weights",
        }
    }
}

/// A landscape ready for queries, built from a [`LandscapeSpec`]. Cheap to share behind an `Arc`.
#[derive(Clone, Debug)]
pub struct Landscape {
    spec: LandscapeSpec,
    surface: Surface,
    domain: Domain,
    minima: Vec<Vec2d>,
    start: Vec2d,
}

/// The built form of each spec: whatever the formulas need precomputed.
#[derive(Clone, Debug)]
enum Surface {
    Analytic(Analytic),
    // Boxed: the 256-byte permutation table would make every variant that big.
    Terrain(Box<Terrain>),
    Regression(Regression),
    Formula(FormulaSurface),
    Network(Box<NetworkSurface>),
}

/// The side of the slice a network landscape computes when it is built (the picture a class sees first;
/// the app refines it in the background): 24 x 24 forward passes, a few tens of milliseconds.
pub const NETWORK_PREVIEW_GRID: usize = 24;

impl Landscape {
    /// Builds `spec`, validating its parameters. Terrain finds its minima numerically here (a
    /// multi-start search); regression draws its dataset. A formula is parsed and compiled (a mistake is
    /// [`CoreError::Formula`], with the column), its domain checked (finite, min < max, within +-1e6),
    /// and it must be finite with a finite gradient on at least half of a 32 x 32 sample of the domain
    /// ([`CoreError::InvalidLandscape`] otherwise); its minima are searched from 8 x 8 starts. Takes
    /// well under a millisecond for a typical formula, so it can run on every keystroke.
    pub fn new(spec: LandscapeSpec) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidLandscape {
            landscape: spec.name(),
            reason,
        };
        let (surface, domain, start) = match spec {
            LandscapeSpec::Bowl {
                kappa,
                rotation_deg,
            } => {
                if !(kappa.is_finite() && kappa > 0.0) {
                    return Err(invalid(format!(
                        "kappa = {} must be finite and > 0",
                        num(kappa)
                    )));
                }
                if !rotation_deg.is_finite() {
                    return Err(invalid(format!(
                        "rotation_deg = {rotation_deg} must be finite"
                    )));
                }
                let (sin, cos) = rotation_deg.to_radians().sin_cos();
                (
                    Surface::Analytic(Analytic::Bowl { kappa, cos, sin }),
                    Domain::square(3.0),
                    [-2.5, 1.5],
                )
            }
            // Start on the ridge y = 0, a hair above it: plain GD first slides down x toward the saddle
            // and only slowly (y grows by 1 + 2 eta per step) falls off; adaptive methods leave at once.
            LandscapeSpec::Saddle => (
                Surface::Analytic(Analytic::Saddle),
                Domain::square(2.0),
                [-1.5, 1e-3],
            ),
            // Same idea; the valleys y = +-1 catch whoever falls off (GD: y grows by 1 + 4 eta per step).
            LandscapeSpec::SaddleValleys => (
                Surface::Analytic(Analytic::SaddleValleys),
                Domain::square(2.0),
                [-1.5, 1e-3],
            ),
            // On the ridge y = 0 of the x > 0 crest: GD slows to a crawl near the flat origin
            // (gradient ~ r^2) before falling into a valley.
            LandscapeSpec::MonkeySaddle => (
                Surface::Analytic(Analytic::MonkeySaddle),
                Domain::square(1.5),
                [1.2, 1e-3],
            ),
            LandscapeSpec::Rosenbrock { a, b } => {
                if !a.is_finite() {
                    return Err(invalid(format!("a = {} must be finite", num(a))));
                }
                if !(b.is_finite() && b > 0.0) {
                    return Err(invalid(format!("b = {} must be finite and > 0", num(b))));
                }
                let half = (a.abs() + 1.0).max(2.0);
                let domain = Domain {
                    x: [-half, half],
                    y: [-1.0, (a * a + 2.0).max(3.0)],
                };
                (
                    Surface::Analytic(Analytic::Rosenbrock { a, b }),
                    domain,
                    [-1.2, 1.0],
                )
            }
            LandscapeSpec::Beale => (
                Surface::Analytic(Analytic::Beale),
                Domain::square(4.5),
                [1.0, 1.5],
            ),
            LandscapeSpec::Himmelblau => (
                Surface::Analytic(Analytic::Himmelblau),
                Domain::square(5.0),
                [-0.5, 0.0],
            ),
            LandscapeSpec::Rastrigin { a } => {
                if !(a.is_finite() && a >= 0.0) {
                    return Err(invalid(format!("A = {} must be finite and >= 0", num(a))));
                }
                (
                    Surface::Analytic(Analytic::Rastrigin { a }),
                    Domain::square(5.12),
                    [-3.3, 2.7],
                )
            }
            LandscapeSpec::Ackley => (
                Surface::Analytic(Analytic::Ackley),
                Domain::square(5.0),
                [-3.5, 2.8],
            ),
            LandscapeSpec::SixHumpCamel => (
                Surface::Analytic(Analytic::SixHumpCamel),
                Domain {
                    x: [-2.2, 2.2],
                    y: [-1.2, 1.2],
                },
                [-1.9, 1.1],
            ),
            LandscapeSpec::Plateau => (
                Surface::Analytic(Analytic::Plateau),
                Domain::square(5.0),
                [-4.0, 1.0],
            ),
            LandscapeSpec::Terrain(params) => {
                (
                    Surface::Terrain(Box::new(Terrain::new(params).map_err(invalid)?)),
                    Domain::square(5.0),
                    // The top edge of the map: a long descent into one of the deep pits.
                    [0.0, 4.5],
                )
            }
            LandscapeSpec::Formula { ref expr, x, y } => {
                let (formula, domain, start) = formula::build(expr, x, y)?;
                (Surface::Formula(formula), domain, start)
            }
            LandscapeSpec::Network(ref network) => {
                let network = Arc::new(Network::new(network.clone())?);
                let plane = Arc::new(network.start_plane().clone());
                let grid = slice_of(&network, &plane, NETWORK_PREVIEW_GRID)?;
                return Ok(Self::network_view(network, plane, Arc::new(grid)));
            }
            LandscapeSpec::Regression(params) => {
                let [w, b] = REGRESSION_TRUTH;
                (
                    Surface::Regression(Regression::new(params).map_err(invalid)?),
                    Domain {
                        x: [w - 4.0, w + 4.0],
                        y: [b - 4.0, b + 4.0],
                    },
                    [w - 3.0, b + 3.5],
                )
            }
        };
        let mut landscape = Self {
            spec,
            surface,
            domain,
            minima: Vec::new(),
            start,
        };
        landscape.minima = landscape.find_minima();
        Ok(landscape)
    }

    /// The view of `network` through `plane`, with the loss sampled on `grid` (its domain is the
    /// plane's range): how the app swaps in a refined slice or another plane without rebuilding the
    /// network. No minima are listed (a slice's lowest point is not a minimum of the network).
    pub fn network_view(network: Arc<Network>, plane: Arc<Plane>, grid: Arc<SliceGrid>) -> Self {
        let domain = Domain {
            x: plane.alpha,
            y: plane.beta,
        };
        Self {
            spec: LandscapeSpec::Network(network.spec().clone()),
            surface: Surface::Network(Box::new(NetworkSurface {
                network,
                plane,
                grid,
            })),
            domain,
            minima: Vec::new(),
            start: [0.0, 0.0],
        }
    }

    /// The network behind a network landscape, with the plane shown and the sampled slice.
    pub fn network(&self) -> Option<&NetworkSurface> {
        match &self.surface {
            Surface::Network(surface) => Some(surface),
            _ => None,
        }
    }

    /// Whether runs on `self` and on `other` optimize the same thing (the same network seen through
    /// another plane or a finer slice is the same problem; anything else compares by spec).
    pub fn same_problem(&self, other: &Landscape) -> bool {
        match (self.network(), other.network()) {
            (Some(a), Some(b)) => Arc::ptr_eq(&a.network, &b.network),
            (None, None) => self.spec == other.spec,
            _ => false,
        }
    }

    /// The spec this was built from.
    pub fn spec(&self) -> &LandscapeSpec {
        &self.spec
    }

    /// The kebab-case name.
    pub fn name(&self) -> &'static str {
        self.spec.name()
    }

    /// Loss `L(p)`.
    pub fn value(&self, p: Vec2d) -> f64 {
        self.value_and_gradient(p).0
    }

    /// Full (exact, noise-free) gradient `grad L(p)`.
    pub fn gradient(&self, p: Vec2d) -> Vec2d {
        self.value_and_gradient(p).1
    }

    /// Loss and gradient together (they share most of the work).
    pub fn value_and_gradient(&self, p: Vec2d) -> (f64, Vec2d) {
        match &self.surface {
            Surface::Analytic(analytic) => analytic.value_and_gradient(p),
            Surface::Terrain(terrain) => terrain.value_and_gradient(p),
            Surface::Regression(regression) => regression.value_and_gradient(p),
            Surface::Formula(formula) => formula.value_and_gradient(p),
            Surface::Network(network) => network.value_and_gradient(p),
        }
    }

    /// The exact Hessian `[[L_xx, L_xy], [L_xy, L_yy]]` at `p`, from each landscape's closed form (the
    /// terrain's from the simplex kernels' second derivatives, a formula's by second-order forward-mode
    /// differentiation). At points where it does not exist it is infinite or NaN (a formula's `sqrt` at
    /// 0); at Ackley's cone tip the cone's term is left out, as in its gradient.
    pub fn hessian(&self, p: Vec2d) -> [[f64; 2]; 2] {
        match &self.surface {
            Surface::Analytic(analytic) => analytic.hessian(p),
            Surface::Terrain(terrain) => terrain.hessian(p),
            Surface::Regression(regression) => regression.hessian(),
            Surface::Formula(formula) => formula.hessian(p),
            // not offered on a slice: the interpolant's curvature is not the network's
            Surface::Network(_) => [[f64::NAN; 2]; 2],
        }
    }

    /// [`Self::value_and_gradient`] at `(xs[i], y)` for each `i` into `out` (cleared first): one row of a
    /// surface grid. Formulas evaluate the row in blocks (about twice as fast); the results are the
    /// same as point by point.
    pub fn value_and_gradient_row(&self, xs: &[f64], y: f64, out: &mut Vec<(f64, Vec2d)>) {
        out.clear();
        match &self.surface {
            Surface::Formula(formula) => {
                out.resize(xs.len(), (0.0, [0.0, 0.0]));
                let ys = vec![y; xs.len()];
                formula.formula.value_grad_batch(xs, &ys, out);
            }
            _ => out.extend(xs.iter().map(|&x| self.value_and_gradient([x, y]))),
        }
    }

    /// The formula, when this landscape is one.
    pub fn formula(&self) -> Option<&crate::core::formula::Formula> {
        match &self.surface {
            Surface::Formula(formula) => Some(&formula.formula),
            _ => None,
        }
    }

    /// The gradient an optimizer sees under `noise`: the regression landscape with `noise.batch = Some(B)`
    /// returns the exact mini-batch gradient `grad L_b` over `B` samples drawn without replacement from
    /// `rng` (B >= samples is the full batch; B = 0 is treated as 1); then, when `noise.sigma > 0`,
    /// Gaussian noise `sigma * N(0, 1)` is added to each coordinate. `batch` is ignored on analytic
    /// landscapes. With [`GradientNoise::default`] this is [`Self::gradient`] and draws nothing.
    pub fn stochastic_gradient<R: Rng + ?Sized>(
        &self,
        p: Vec2d,
        noise: &GradientNoise,
        rng: &mut R,
    ) -> Vec2d {
        let mut g = match (&self.surface, noise.batch) {
            (Surface::Regression(regression), Some(batch)) if batch < regression.data.len() => {
                regression.batch_gradient(p, batch.max(1), rng)
            }
            _ => self.gradient(p),
        };
        if noise.sigma > 0.0 {
            for gi in &mut g {
                let n: f64 = rng.sample(StandardNormal);
                *gi += noise.sigma * n;
            }
        }
        g
    }

    /// The rectangle the app shows and the grid samples.
    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// Known minima in param space, global ones first. Textbook landscapes list their documented minima
    /// (refined by Newton's method to full precision); `rastrigin` and `ackley` list only the global
    /// minimum (their local minima near every integer point are left out); `saddle` and
    /// `monkey-saddle` have none. `terrain`'s are found numerically (multi-start descent plus Newton
    /// refinement from a 12 x 12 grid of starts; every local minimum inside the domain that one of them
    /// reaches, deepest first — not guaranteed complete). `regression`'s is the least-squares fit. A `formula`'s are found as terrain's
    /// (from an 8 x 8 grid of starts, with the exact Hessian) and also include minima at kinks (`abs`,
    /// `min`, `max`) and flat minima (`x^4`) that descent stalls at and no neighbour undercuts.
    pub fn minima(&self) -> &[Vec2d] {
        &self.minima
    }

    /// The listed minimum nearest to `p` and its Euclidean distance; `None` when none are listed.
    pub fn nearest_minimum(&self, p: Vec2d) -> Option<(Vec2d, f64)> {
        self.minima
            .iter()
            .map(|&m| (m, (m[0] - p[0]).hypot(m[1] - p[1])))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Whether a run may start at `p`: inside the domain, where the loss is defined (a typed formula
    /// can be undefined in places).
    pub fn usable_start(&self, p: Vec2d) -> bool {
        self.domain().contains(p) && self.value(p).is_finite()
    }

    /// A start point that shows the landscape's lesson (documented per landscape in the source).
    pub fn default_start(&self) -> Vec2d {
        self.start
    }

    /// The dataset `[x_i, y_i]` of the regression landscape (for plotting points and the fitted line).
    pub fn dataset(&self) -> Option<&[Vec2d]> {
        match &self.surface {
            Surface::Regression(regression) => Some(&regression.data),
            _ => None,
        }
    }

    /// One sentence for the panel.
    pub fn description(&self) -> &'static str {
        match self.spec {
            LandscapeSpec::Bowl { .. } => {
                "A quadratic bowl stretched kappa times more steeply across than along: plain gradient \
                 descent zig-zags across the narrow direction and crawls along the long one."
            }
            LandscapeSpec::Saddle => {
                "The saddle x^2 - y^2: a minimum along x and a maximum along y, so the gradient vanishes \
                 at the centre without it being a minimum; falling off takes long when you start on the ridge."
            }
            LandscapeSpec::SaddleValleys => {
                "A saddle at the origin between two valleys at (0, -1) and (0, 1): started on the ridge, \
                 plain gradient descent lingers at the saddle while momentum and adaptive methods slide off."
            }
            LandscapeSpec::MonkeySaddle => {
                "The monkey saddle x^3 - 3xy^2: three valleys and three crests meet at a flat point where \
                 the gradient shrinks quadratically, so plain gradient descent nearly stops there."
            }
            LandscapeSpec::Rosenbrock { .. } => {
                "Rosenbrock's banana: a narrow curved valley that is easy to find and slow to follow to \
                 the minimum at (a, a^2)."
            }
            LandscapeSpec::Beale => {
                "Beale's function: flat plains, sharp ridges and steep walls around the minimum at (3, 0.5); \
                 gradients range over five orders of magnitude."
            }
            LandscapeSpec::Himmelblau => {
                "Himmelblau's function: four equally deep minima, so where you start decides where you end."
            }
            LandscapeSpec::Rastrigin { .. } => {
                "Rastrigin's function: a bowl covered in a regular egg-crate of local minima that trap \
                 gradient descent far from the global minimum at the origin."
            }
            LandscapeSpec::Ackley => {
                "Ackley's function: a nearly flat, rippled outer region and a deep funnel at the origin."
            }
            LandscapeSpec::SixHumpCamel => {
                "The six-hump camel: six local minima, two of them global, separated by low ridges."
            }
            LandscapeSpec::Plateau => {
                "A flat mesa with one smooth well, 1 - exp(-(x^2 + y^2)/2): on the mesa the gradient is \
                 nearly zero, so plain gradient descent stalls while adaptive methods keep their pace."
            }
            LandscapeSpec::Terrain(_) => {
                "Procedural hills and pits (simplex-noise fBm over a gentle bowl): a stand-in for a \
                 rugged, non-convex loss with many local minima."
            }
            LandscapeSpec::Formula { .. } => {
                "Your own formula f(x, y): exact gradients, minima found numerically (multi-start \
                 descent and Newton's method), gaps where it is undefined."
            }
            LandscapeSpec::Regression(_) => {
                "The mean-squared error of a line y = w x + b over a synthetic dataset, as a function of \
                 (w, b): real data, and with mini-batches real stochastic gradients."
            }
            LandscapeSpec::Network(_) => {
                "A network's loss (mean cross-entropy over its data) on a plane through the space of all \
                 its weights: the runs train every weight, and each ball sits at its run's projection onto \
                 the plane, at the height of its true loss."
            }
        }
    }

    /// Whether heights are best shown as `ln(1 + L - min)` (loss spans orders of magnitude).
    /// A formula's recommendation comes from a sample: the top of its range far above the typical value.
    pub fn log_height_recommended(&self) -> bool {
        if let Surface::Formula(formula) = &self.surface {
            return formula.log_height;
        }
        matches!(
            self.spec,
            LandscapeSpec::Rosenbrock { .. }
                | LandscapeSpec::Beale
                | LandscapeSpec::Himmelblau
                | LandscapeSpec::SixHumpCamel
        )
    }

    /// Minima listed by [`Self::minima`]: exact ones as constants, the rest refined by Newton.
    fn find_minima(&self) -> Vec<Vec2d> {
        match &self.surface {
            Surface::Analytic(
                Analytic::Bowl { .. }
                | Analytic::Rastrigin { .. }
                | Analytic::Ackley
                | Analytic::Plateau,
            ) => {
                vec![[0.0, 0.0]]
            }
            Surface::Analytic(Analytic::Saddle | Analytic::MonkeySaddle) => Vec::new(),
            Surface::Analytic(Analytic::SaddleValleys) => vec![[0.0, -1.0], [0.0, 1.0]],
            Surface::Analytic(Analytic::Rosenbrock { a, .. }) => vec![[*a, a * a]],
            Surface::Analytic(Analytic::Beale) => vec![[3.0, 0.5]],
            Surface::Analytic(Analytic::Himmelblau) => [
                [3.0, 2.0],
                [-2.805118, 3.131312],
                [-3.779310, -3.283186],
                [3.584428, -1.848126],
            ]
            .into_iter()
            .map(|m| self.newton_refine(m))
            .collect(),
            Surface::Analytic(Analytic::SixHumpCamel) => [
                [0.0898, -0.7126],
                [-0.0898, 0.7126],
                [-1.7036, 0.7961],
                [1.7036, -0.7961],
                [-1.6071, -0.5687],
                [1.6071, 0.5687],
            ]
            .into_iter()
            .map(|m| self.newton_refine(m))
            .collect(),
            Surface::Terrain(_) => self.search_minima(minima::Search::TERRAIN),
            Surface::Formula(_) => self.search_minima(minima::Search::FORMULA),
            Surface::Regression(regression) => vec![[regression.w_star, regression.b_star]],
            Surface::Network(_) => Vec::new(),
        }
    }
}

/// Euclidean norm of a 2-vector.
pub(crate) fn norm(v: Vec2d) -> f64 {
    v[0].hypot(v[1])
}

/// The loss of `network` over a `grid x grid` sample of `plane` (its range), on the current rayon pool.
pub fn slice_of(
    network: &Network,
    plane: &Arc<Plane>,
    grid: usize,
) -> Result<SliceGrid, CoreError> {
    let spec = SliceSpec {
        plane: Arc::clone(plane),
        grid,
        previews: false,
    };
    spec.compute(&|theta: &[f64]| network.loss(theta))
        .map_err(|e| CoreError::InvalidNetwork(format!("the slice could not be computed: {e}")))
}
