//! Loss landscapes: the functions L(x, y) the optimizers descend, in `param` space.
//!
//! A [`LandscapeSpec`] is the serialisable description (a name plus a few parameters, what a scene file
//! stores); a [`Landscape`] is the built thing (precomputed rotation, noise table, dataset) that answers
//! value and gradient queries. Every gradient is analytic; `tests/core_landscape.rs` checks each one
//! against central differences over its display domain.

use noise::permutationtable::{NoiseHasher, PermutationTable};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::f64::consts::{E, PI, TAU};

use super::error::CoreError;
use super::gradient::GradientNoise;

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

/// Parameters of the procedural `terrain` landscape:
/// `L = 0.04 (x^2 + y^2) + amplitude * sum_{o < octaves} 0.5^o * simplex(frequency * 2^o * p)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerrainParams {
    /// Seed of the simplex permutation table; each seed is a different terrain.
    pub seed: u32,
    /// Number of fBm octaves, `1..=8`; each octave doubles the frequency and halves the amplitude.
    pub octaves: u32,
    /// Frequency of the first octave in features per param unit, `> 0`.
    pub frequency: f64,
    /// Height of the first octave in loss units, `>= 0` (0 leaves only the bowl).
    pub amplitude: f64,
}

impl Default for TerrainParams {
    fn default() -> Self {
        Self {
            seed: 7,
            octaves: 3,
            frequency: 0.25,
            amplitude: 1.0,
        }
    }
}

/// Parameters of the `regression` data landscape: a synthetic dataset `y = 2 x - 1 + 0.5 n`,
/// `x ~ U(0, 3)`, `n ~ N(0, 1)`, and the mean-squared error of the line `y = w x + b` over it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegressionParams {
    /// Number of data points, `2..=100_000`.
    pub samples: usize,
    /// Seed of the dataset (not of the mini-batches, which come from the run's seed).
    pub seed: u64,
}

impl Default for RegressionParams {
    fn default() -> Self {
        Self {
            samples: 100,
            seed: 0,
        }
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
}

impl LandscapeSpec {
    /// The kebab-case names, in the order `list` prints them.
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
        }
    }
}

/// True parameters `(w, b)` of the regression dataset's generating line; the display domain is centred here.
const REGRESSION_TRUTH: Vec2d = [2.0, -1.0];
/// Noise standard deviation of the regression dataset's `y`.
const REGRESSION_NOISE: f64 = 0.5;
/// Range of the regression dataset's `x` (not centred on purpose: `mean x != 0` couples w and b, so the
/// bowl is tilted and elongated, condition number about 19 — the lesson of feature centring).
const REGRESSION_X: [f64; 2] = [0.0, 3.0];
/// Largest regression dataset (a mini-batch draw is O(samples)).
pub const MAX_REGRESSION_SAMPLES: usize = 100_000;
/// Coefficient of the terrain's bowl, `0.04 (x^2 + y^2)`: keeps runs on the map.
const TERRAIN_BOWL: f64 = 0.04;

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
    Bowl { kappa: f64, cos: f64, sin: f64 },
    Saddle,
    SaddleValleys,
    MonkeySaddle,
    Rosenbrock { a: f64, b: f64 },
    Beale,
    Himmelblau,
    Rastrigin { a: f64 },
    Ackley,
    SixHumpCamel,
    Plateau,
    // Boxed: the 256-byte permutation table would make every variant that big.
    Terrain(Box<Terrain>),
    Regression(Regression),
}

impl Landscape {
    /// Builds `spec`, validating its parameters. Terrain finds its minima numerically here (a few
    /// milliseconds); regression draws its dataset.
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
                    return Err(invalid(format!("kappa = {kappa} must be finite and > 0")));
                }
                if !rotation_deg.is_finite() {
                    return Err(invalid(format!(
                        "rotation_deg = {rotation_deg} must be finite"
                    )));
                }
                let (sin, cos) = rotation_deg.to_radians().sin_cos();
                (
                    Surface::Bowl { kappa, cos, sin },
                    Domain::square(3.0),
                    [-2.5, 1.5],
                )
            }
            // Start on the ridge y = 0, a hair above it: plain GD first slides down x toward the saddle
            // and only slowly (y grows by 1 + 2 eta per step) falls off; adaptive methods leave at once.
            LandscapeSpec::Saddle => (Surface::Saddle, Domain::square(2.0), [-1.5, 1e-3]),
            // Same idea; the valleys y = +-1 catch whoever falls off (GD: y grows by 1 + 4 eta per step).
            LandscapeSpec::SaddleValleys => {
                (Surface::SaddleValleys, Domain::square(2.0), [-1.5, 1e-3])
            }
            // On the ridge y = 0 of the x > 0 crest: GD slows to a crawl near the flat origin
            // (gradient ~ r^2) before falling into a valley.
            LandscapeSpec::MonkeySaddle => {
                (Surface::MonkeySaddle, Domain::square(1.5), [1.2, 1e-3])
            }
            LandscapeSpec::Rosenbrock { a, b } => {
                if !a.is_finite() {
                    return Err(invalid(format!("a = {a} must be finite")));
                }
                if !(b.is_finite() && b > 0.0) {
                    return Err(invalid(format!("b = {b} must be finite and > 0")));
                }
                let half = (a.abs() + 1.0).max(2.0);
                let domain = Domain {
                    x: [-half, half],
                    y: [-1.0, (a * a + 2.0).max(3.0)],
                };
                (Surface::Rosenbrock { a, b }, domain, [-1.2, 1.0])
            }
            LandscapeSpec::Beale => (Surface::Beale, Domain::square(4.5), [1.0, 1.5]),
            LandscapeSpec::Himmelblau => (Surface::Himmelblau, Domain::square(5.0), [-0.5, 0.0]),
            LandscapeSpec::Rastrigin { a } => {
                if !(a.is_finite() && a >= 0.0) {
                    return Err(invalid(format!("A = {a} must be finite and >= 0")));
                }
                (Surface::Rastrigin { a }, Domain::square(5.12), [-3.3, 2.7])
            }
            LandscapeSpec::Ackley => (Surface::Ackley, Domain::square(5.0), [-3.5, 2.8]),
            LandscapeSpec::SixHumpCamel => (
                Surface::SixHumpCamel,
                Domain {
                    x: [-2.2, 2.2],
                    y: [-1.2, 1.2],
                },
                [-1.9, 1.1],
            ),
            LandscapeSpec::Plateau => (Surface::Plateau, Domain::square(5.0), [-4.0, 1.0]),
            LandscapeSpec::Terrain(params) => {
                (
                    Surface::Terrain(Box::new(Terrain::new(params).map_err(invalid)?)),
                    Domain::square(5.0),
                    // The top edge of the map: a long descent into one of the deep pits.
                    [0.0, 4.5],
                )
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
        let [x, y] = p;
        match &self.surface {
            // u = cos x + sin y, v = -sin x + cos y; L = 0.5 (u^2 + kappa v^2);
            // grad = u (cos, sin) + kappa v (-sin, cos).
            Surface::Bowl { kappa, cos, sin } => {
                let u = cos * x + sin * y;
                let v = -sin * x + cos * y;
                let kv = kappa * v;
                (
                    0.5 * (u * u + kv * v),
                    [u * cos - kv * sin, u * sin + kv * cos],
                )
            }
            // L = x^2 - y^2; grad = (2x, -2y).
            Surface::Saddle => (x * x - y * y, [2.0 * x, -2.0 * y]),
            // L = x^2 + (y^2 - 1)^2; grad = (2x, 4y (y^2 - 1)).
            Surface::SaddleValleys => {
                let q = y * y - 1.0;
                (x * x + q * q, [2.0 * x, 4.0 * y * q])
            }
            // L = x^3 - 3 x y^2; grad = (3x^2 - 3y^2, -6xy).
            Surface::MonkeySaddle => (
                x * x * x - 3.0 * x * y * y,
                [3.0 * (x * x - y * y), -6.0 * x * y],
            ),
            // L = (a - x)^2 + b (y - x^2)^2; grad = (-2 (a - x) - 4 b x (y - x^2), 2 b (y - x^2)).
            Surface::Rosenbrock { a, b } => {
                let d = a - x;
                let q = y - x * x;
                (d * d + b * q * q, [-2.0 * d - 4.0 * b * x * q, 2.0 * b * q])
            }
            // t_k = c_k - x + x y^k for c = (1.5, 2.25, 2.625); L = sum t_k^2;
            // dL/dx = sum 2 t_k (y^k - 1), dL/dy = sum 2 t_k k x y^(k-1).
            Surface::Beale => {
                let (y2, y3) = (y * y, y * y * y);
                let t1 = 1.5 - x + x * y;
                let t2 = 2.25 - x + x * y2;
                let t3 = 2.625 - x + x * y3;
                (
                    t1 * t1 + t2 * t2 + t3 * t3,
                    [
                        2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0)),
                        2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y2),
                    ],
                )
            }
            // a = x^2 + y - 11, b = x + y^2 - 7; L = a^2 + b^2; grad = (4 x a + 2 b, 2 a + 4 y b).
            Surface::Himmelblau => {
                let a = x * x + y - 11.0;
                let b = x + y * y - 7.0;
                (
                    a * a + b * b,
                    [4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b],
                )
            }
            // L = 2A + x^2 - A cos(2 pi x) + y^2 - A cos(2 pi y); dL/dx = 2x + 2 pi A sin(2 pi x).
            Surface::Rastrigin { a } => {
                let (sx, cx) = (TAU * x).sin_cos();
                let (sy, cy) = (TAU * y).sin_cos();
                (
                    2.0 * a + x * x - a * cx + y * y - a * cy,
                    [2.0 * x + TAU * a * sx, 2.0 * y + TAU * a * sy],
                )
            }
            // rho = sqrt((x^2 + y^2) / 2), c = (cos 2 pi x + cos 2 pi y) / 2;
            // L = -20 exp(-0.2 rho) - exp(c) + 20 + e;
            // dL/dx = 20 * 0.2 exp(-0.2 rho) x / (2 rho) + exp(c) pi sin(2 pi x).
            // At rho = 0 (a cone tip, not differentiable) the first term's subgradient 0 is used.
            Surface::Ackley => {
                let rho = (0.5 * (x * x + y * y)).sqrt();
                let (sx, cx) = (TAU * x).sin_cos();
                let (sy, cy) = (TAU * y).sin_cos();
                let e1 = (-0.2 * rho).exp();
                let e2 = (0.5 * (cx + cy)).exp();
                let radial = if rho > 0.0 {
                    20.0 * 0.2 * e1 * 0.5 / rho
                } else {
                    0.0
                };
                (
                    -20.0 * e1 - e2 + 20.0 + E,
                    [radial * x + e2 * PI * sx, radial * y + e2 * PI * sy],
                )
            }
            // L = 4x^2 - 2.1x^4 + x^6/3 + xy - 4y^2 + 4y^4;
            // grad = (8x - 8.4x^3 + 2x^5 + y, x - 8y + 16y^3).
            Surface::SixHumpCamel => {
                let (x2, y2) = (x * x, y * y);
                (
                    (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2,
                    [
                        x * (8.0 - 8.4 * x2 + 2.0 * x2 * x2) + y,
                        x + y * (-8.0 + 16.0 * y2),
                    ],
                )
            }
            // L = 1 - exp(-(x^2 + y^2) / 2); grad = exp(-(x^2 + y^2) / 2) (x, y).
            Surface::Plateau => {
                let e = (-0.5 * (x * x + y * y)).exp();
                (1.0 - e, [e * x, e * y])
            }
            Surface::Terrain(terrain) => terrain.value_and_gradient(p),
            Surface::Regression(regression) => regression.value_and_gradient(p),
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
    /// reaches, deepest first — not guaranteed complete). `regression`'s is the least-squares fit.
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
            LandscapeSpec::Regression(_) => {
                "The mean-squared error of a line y = w x + b over a synthetic dataset, as a function of \
                 (w, b): real data, and with mini-batches real stochastic gradients."
            }
        }
    }

    /// Whether heights are best shown as `ln(1 + L - min)` (loss spans orders of magnitude).
    pub fn log_height_recommended(&self) -> bool {
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
            Surface::Bowl { .. }
            | Surface::Rastrigin { .. }
            | Surface::Ackley
            | Surface::Plateau => {
                vec![[0.0, 0.0]]
            }
            Surface::Saddle | Surface::MonkeySaddle => Vec::new(),
            Surface::SaddleValleys => vec![[0.0, -1.0], [0.0, 1.0]],
            Surface::Rosenbrock { a, .. } => vec![[*a, a * a]],
            Surface::Beale => vec![[3.0, 0.5]],
            Surface::Himmelblau => [
                [3.0, 2.0],
                [-2.805118, 3.131312],
                [-3.779310, -3.283186],
                [3.584428, -1.848126],
            ]
            .into_iter()
            .map(|m| self.newton_refine(m))
            .collect(),
            Surface::SixHumpCamel => [
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
            Surface::Terrain(_) => self.search_minima(),
            Surface::Regression(regression) => vec![[regression.w_star, regression.b_star]],
        }
    }

    /// Newton's method on the gradient, with the Hessian from central differences of the analytic
    /// gradient (h = 1e-5); stops when the gradient stops shrinking.
    fn newton_refine(&self, mut p: Vec2d) -> Vec2d {
        let mut g = self.gradient(p);
        for _ in 0..50 {
            let Some(h) = self.hessian(p) else { break };
            let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
            if !(det > 0.0 && h[0][0] > 0.0) {
                break;
            }
            let next = [
                p[0] - (h[1][1] * g[0] - h[0][1] * g[1]) / det,
                p[1] - (-h[1][0] * g[0] + h[0][0] * g[1]) / det,
            ];
            let next_g = self.gradient(next);
            if norm(next_g) >= norm(g) || !norm(next_g).is_finite() {
                break;
            }
            p = next;
            g = next_g;
        }
        p
    }

    /// Symmetrised central-difference Hessian of the analytic gradient; `None` if not finite.
    fn hessian(&self, p: Vec2d) -> Option<[[f64; 2]; 2]> {
        let h = 1e-5 * p[0].abs().max(p[1].abs()).max(1.0);
        let gx = [
            self.gradient([p[0] + h, p[1]]),
            self.gradient([p[0] - h, p[1]]),
        ];
        let gy = [
            self.gradient([p[0], p[1] + h]),
            self.gradient([p[0], p[1] - h]),
        ];
        let hxx = (gx[0][0] - gx[1][0]) / (2.0 * h);
        let hyy = (gy[0][1] - gy[1][1]) / (2.0 * h);
        let hxy = 0.5 * ((gx[0][1] - gx[1][1]) + (gy[0][0] - gy[1][0])) / (2.0 * h);
        let hess = [[hxx, hxy], [hxy, hyy]];
        hess.iter().flatten().all(|v| v.is_finite()).then_some(hess)
    }

    /// Multi-start search for local minima inside the domain (terrain): backtracking gradient descent
    /// from a 12 x 12 grid, Newton refinement, deduplicated, deepest first.
    fn search_minima(&self) -> Vec<Vec2d> {
        const STARTS: usize = 12;
        let d = self.domain;
        let mut found: Vec<(f64, Vec2d)> = Vec::new();
        for j in 0..STARTS {
            for i in 0..STARTS {
                let mut p = [
                    d.x[0] + (i as f64 + 0.5) / STARTS as f64 * d.width(),
                    d.y[0] + (j as f64 + 0.5) / STARTS as f64 * d.height(),
                ];
                let (mut value, mut g) = self.value_and_gradient(p);
                let mut alpha: f64 = 1.0;
                for _ in 0..400 {
                    let gg = g[0] * g[0] + g[1] * g[1];
                    if gg < 1e-12 {
                        break;
                    }
                    alpha *= 2.0;
                    loop {
                        let q = [p[0] - alpha * g[0], p[1] - alpha * g[1]];
                        let (vq, gq) = self.value_and_gradient(q);
                        if vq <= value - 0.5 * alpha * gg {
                            (p, value, g) = (q, vq, gq);
                            break;
                        }
                        alpha *= 0.5;
                        if alpha < 1e-12 {
                            break;
                        }
                    }
                    if alpha < 1e-12 {
                        break;
                    }
                }
                let p = self.newton_refine(p);
                let (value, g) = self.value_and_gradient(p);
                let is_min = self
                    .hessian(p)
                    .is_some_and(|h| h[0][0] > 0.0 && h[0][0] * h[1][1] - h[0][1] * h[1][0] > 0.0);
                if norm(g) < 1e-9
                    && is_min
                    && d.contains(p)
                    && !found
                        .iter()
                        .any(|(_, m)| (m[0] - p[0]).hypot(m[1] - p[1]) < 1e-4)
                {
                    found.push((value, p));
                }
            }
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        found.into_iter().map(|(_, p)| p).collect()
    }
}

/// Euclidean norm of a 2-vector.
pub(crate) fn norm(v: Vec2d) -> f64 {
    v[0].hypot(v[1])
}

/// The built terrain: permutation table plus parameters.
#[derive(Clone, Debug)]
struct Terrain {
    params: TerrainParams,
    perm: PermutationTable,
}

impl Terrain {
    fn new(params: TerrainParams) -> Result<Self, String> {
        if !(1..=8).contains(&params.octaves) {
            return Err(format!("octaves = {} must be in 1..=8", params.octaves));
        }
        if !(params.frequency.is_finite() && params.frequency > 0.0) {
            return Err(format!(
                "frequency = {} must be finite and > 0",
                params.frequency
            ));
        }
        if !(params.amplitude.is_finite() && params.amplitude >= 0.0) {
            return Err(format!(
                "amplitude = {} must be finite and >= 0",
                params.amplitude
            ));
        }
        Ok(Self {
            params,
            perm: PermutationTable::new(params.seed),
        })
    }

    /// `L = 0.04 |p|^2 + A sum_o 0.5^o n(f 2^o p + offset_o)`;
    /// `grad L = 0.08 p + A f sum_o (grad n)(f 2^o p + offset_o)` (the 0.5^o and 2^o cancel).
    fn value_and_gradient(&self, p: Vec2d) -> (f64, Vec2d) {
        let TerrainParams {
            octaves,
            frequency,
            amplitude,
            ..
        } = self.params;
        let mut value = 0.0;
        let mut grad = [0.0, 0.0];
        let mut freq = frequency;
        let mut amp = amplitude;
        for o in 0..octaves {
            // Shift each octave so that they do not all share the lattice origin.
            let shift = f64::from(o) * 17.31;
            let (n, dn) = simplex_2d(&self.perm, freq * p[0] + shift, freq * p[1] - shift);
            value += amp * n;
            grad[0] += amplitude * frequency * dn[0];
            grad[1] += amplitude * frequency * dn[1];
            freq *= 2.0;
            amp *= 0.5;
        }
        (
            TERRAIN_BOWL * (p[0] * p[0] + p[1] * p[1]) + value,
            [
                2.0 * TERRAIN_BOWL * p[0] + grad[0],
                2.0 * TERRAIN_BOWL * p[1] + grad[1],
            ],
        )
    }
}

/// 2-D simplex noise with its exact gradient (Stefan Gustavson's `sdnoise2`), hashed by `noise`'s
/// permutation table. Written here because `noise` 0.9's `core::simplex::simplex_2d` returns a
/// derivative that does not match its value (checked against central differences: off in sign and size).
///
/// Per corner k with offset `d_k` and gradient `g_k`: `t_k = 0.5 - |d_k|^2`,
/// `n = 70 sum_{t_k > 0} t_k^4 (g_k . d_k)`, `grad n = 70 sum (-8 t_k^3 (g_k . d_k) d_k + t_k^4 g_k)`.
/// Range about `[-1, 1]`; C2-smooth (each kernel and its first two derivatives vanish at `t_k = 0`).
fn simplex_2d(perm: &PermutationTable, x: f64, y: f64) -> (f64, Vec2d) {
    const SQRT3: f64 = 1.732_050_807_568_877_2;
    const F2: f64 = 0.5 * (SQRT3 - 1.0);
    const G2: f64 = (3.0 - SQRT3) / 6.0;
    // The 8 unit gradient directions of `noise`'s 2-D table.
    const D: f64 = std::f64::consts::FRAC_1_SQRT_2;
    const GRADS: [Vec2d; 8] = [
        [1.0, 0.0],
        [-1.0, 0.0],
        [0.0, 1.0],
        [0.0, -1.0],
        [D, D],
        [-D, D],
        [D, -D],
        [-D, -D],
    ];
    let s = (x + y) * F2;
    let (i, j) = ((x + s).floor(), (y + s).floor());
    let t = (i + j) * G2;
    let (x0, y0) = (x - (i - t), y - (j - t));
    let (i1, j1) = if x0 > y0 { (1.0, 0.0) } else { (0.0, 1.0) };
    let corners = [
        ([0.0, 0.0], [x0, y0]),
        ([i1, j1], [x0 - i1 + G2, y0 - j1 + G2]),
        ([1.0, 1.0], [x0 - 1.0 + 2.0 * G2, y0 - 1.0 + 2.0 * G2]),
    ];
    // Lattice coordinates as isize; `as` saturates, so a far or non-finite point cannot panic.
    let (ci, cj) = (i as isize, j as isize);
    let mut n = 0.0;
    let mut dn = [0.0, 0.0];
    for (offset, d) in corners {
        let tk = 0.5 - d[0] * d[0] - d[1] * d[1];
        if tk <= 0.0 {
            continue;
        }
        let hash = perm.hash(&[
            ci.wrapping_add(offset[0] as isize),
            cj.wrapping_add(offset[1] as isize),
        ]);
        let g = GRADS[hash % 8];
        let gd = g[0] * d[0] + g[1] * d[1];
        let t2 = tk * tk;
        let t4 = t2 * t2;
        n += t4 * gd;
        let k = -8.0 * t2 * tk * gd;
        dn[0] += k * d[0] + t4 * g[0];
        dn[1] += k * d[1] + t4 * g[1];
    }
    (70.0 * n, [70.0 * dn[0], 70.0 * dn[1]])
}

/// The built regression landscape: the dataset and its sufficient statistics.
///
/// `L(w, b) = mean_i (w x_i + b - y_i)^2` is evaluated in O(1) from the centred form
/// `L = var_x (w - w*)^2 + c^2 + r_min` with `c = (w - w*) mean_x + (b - b*)`, where `(w*, b*)` is the
/// least-squares fit and `r_min` its mean squared residual (no cancellation near the minimum);
/// `grad L = (2 var_x (w - w*) + 2 c mean_x, 2 c)`.
#[derive(Clone, Debug)]
struct Regression {
    data: Vec<Vec2d>,
    mean_x: f64,
    var_x: f64,
    w_star: f64,
    b_star: f64,
    r_min: f64,
}

impl Regression {
    fn new(params: RegressionParams) -> Result<Self, String> {
        if !(2..=MAX_REGRESSION_SAMPLES).contains(&params.samples) {
            return Err(format!(
                "samples = {} must be in 2..={MAX_REGRESSION_SAMPLES}",
                params.samples
            ));
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(params.seed);
        let [w, b] = REGRESSION_TRUTH;
        let data: Vec<Vec2d> = (0..params.samples)
            .map(|_| {
                let x = rng.random_range(REGRESSION_X[0]..REGRESSION_X[1]);
                let n: f64 = rng.sample(StandardNormal);
                [x, w * x + b + REGRESSION_NOISE * n]
            })
            .collect();
        let count = data.len() as f64;
        let mean_x = data.iter().map(|d| d[0]).sum::<f64>() / count;
        let mean_y = data.iter().map(|d| d[1]).sum::<f64>() / count;
        let var_x = data.iter().map(|d| (d[0] - mean_x).powi(2)).sum::<f64>() / count;
        let cov = data
            .iter()
            .map(|d| (d[0] - mean_x) * (d[1] - mean_y))
            .sum::<f64>()
            / count;
        if var_x.is_nan() || var_x <= 0.0 {
            return Err("the dataset's x values have no spread".to_owned());
        }
        let w_star = cov / var_x;
        let b_star = mean_y - w_star * mean_x;
        let r_min = data
            .iter()
            .map(|d| (w_star * d[0] + b_star - d[1]).powi(2))
            .sum::<f64>()
            / count;
        Ok(Self {
            data,
            mean_x,
            var_x,
            w_star,
            b_star,
            r_min,
        })
    }

    /// O(1) full-batch loss and gradient (see the type's formulas).
    fn value_and_gradient(&self, p: Vec2d) -> (f64, Vec2d) {
        let dw = p[0] - self.w_star;
        let c = dw * self.mean_x + (p[1] - self.b_star);
        (
            self.var_x * dw * dw + c * c + self.r_min,
            [2.0 * (self.var_x * dw + c * self.mean_x), 2.0 * c],
        )
    }

    /// `grad L_b = (2/B) sum_{i in b} r_i (x_i, 1)`, `r_i = w x_i + b - y_i`, over a batch of `batch`
    /// distinct samples chosen uniformly by selection sampling (Knuth's Algorithm S: sample i is taken
    /// with probability needed / remaining): no allocation, O(samples) draws.
    fn batch_gradient<R: Rng + ?Sized>(&self, p: Vec2d, batch: usize, rng: &mut R) -> Vec2d {
        let [w, b] = p;
        let mut needed = batch.min(self.data.len());
        let size = needed as f64;
        let mut remaining = self.data.len();
        let mut sum = [0.0, 0.0];
        for &[x, y] in &self.data {
            if needed == 0 {
                break;
            }
            if rng.random_range(0..remaining) < needed {
                let r = w * x + b - y;
                sum[0] += r * x;
                sum[1] += r;
                needed -= 1;
            }
            remaining -= 1;
        }
        [2.0 * sum[0] / size, 2.0 * sum[1] / size]
    }
}
