//! A multilayer perceptron over a flat parameter vector θ (laid out as [`layout`](super::layout) says):
//! the forward pass, the mean softmax cross-entropy and its exact gradient by backpropagation.
//!
//! Every pass works on blocks of up to [`CHUNK`] points held **feature-major** (unit `u` of a layer over the
//! block's points is one contiguous row), so that the inner loops run over the points: `z = W a + b` and
//! `W^T dz` two output rows by eight points at a time in registers (`mix`), `dz a^T` two by two with
//! independent partial sums (`add_products`), `tanh` by a branch-free formula (`tanh`); the compiler
//! vectorizes all three. Memory stays bounded however many points the data has, and the buffers live in
//! a [`Scratch`] that the caller keeps: after the first call a gradient allocates nothing.
//!
//! With `B` the rows used, layer `l` (`W_l` of `n_l x n_{l-1}`, `b_l`) and `a_0 = x`:
//!
//! ```text
//! forward:   z_l = W_l a_{l-1} + b_l,   a_l = act(z_l) on hidden layers, z_L = the K logits
//!            p = softmax(z_L),  p_k = exp(z_k - m) / sum_j exp(z_j - m),  m = max_j z_j
//!            L = (1/B) sum_rows (m + ln sum_j exp(z_j - m) - z_label)      (log-sum-exp: no overflow)
//! backward:  dL/dz_L = (p - onehot(label)) / B
//!            dL/dW_l = sum_rows dz_l a_{l-1}^T,   dL/db_l = sum_rows dz_l
//!            da_{l-1} = W_l^T dz_l,   dz_{l-1} = da_{l-1} * act'(z_{l-1})
//!            tanh' = 1 - a^2,   relu' = [a > 0]  (0 at z = 0, as PyTorch)
//! ```

use std::fmt;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::data::Dataset;
use super::layout::{LayerLayout, layout};

/// The most parameters a network may have: a full-batch gradient must stay well under a frame.
pub const MAX_PARAMS: usize = 20_000;

/// Points per block of a pass (the feature-major buffers hold `CHUNK` points per unit).
pub const CHUNK: usize = 256;

/// The nonlinearity of the hidden layers (the output layer is linear: its values are the logits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    /// `tanh z`; initialized with Glorot/Xavier uniform.
    #[default]
    #[serde(alias = "tanh")]
    Tanh,
    /// `max(z, 0)`; initialized with He/Kaiming uniform.
    #[serde(alias = "relu")]
    Relu,
}

impl Activation {
    /// Every activation, in the order of [`Self::NAMES`].
    pub const ALL: [Activation; 2] = [Self::Tanh, Self::Relu];
    /// The command-line names.
    pub const NAMES: &[&str] = &["tanh", "relu"];

    /// The activation called `name` (one of [`Self::NAMES`]).
    pub fn from_name(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown activation '{name}'; valid names: {}",
                    Self::NAMES.join(", ")
                )
            })
    }

    /// The command-line name (`tanh`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Tanh => "tanh",
            Self::Relu => "relu",
        }
    }

    /// `a = act(z)` over a row, in place.
    fn apply(self, row: &mut [f64]) {
        match self {
            Self::Tanh => row.iter_mut().for_each(|v| *v = tanh(*v)),
            Self::Relu => row.iter_mut().for_each(|v| *v = v.max(0.0)),
        }
    }

    /// `dz = da * act'(z)` over a row, in place, from the layer's outputs `a` (both derivatives are
    /// functions of `a`: `tanh' = 1 - a^2`, `relu' = [a > 0]`).
    fn backprop(self, da: &mut [f64], a: &[f64]) {
        match self {
            Self::Tanh => da.iter_mut().zip(a).for_each(|(d, a)| *d *= 1.0 - a * a),
            Self::Relu => da
                .iter_mut()
                .zip(a)
                .for_each(|(d, &a)| *d = if a > 0.0 { *d } else { 0.0 }),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `tanh x` to within 1.3 units in the last place (measured against a 40-digit reference; std's `tanh`
/// is within 1), written so that a loop over a row vectorizes: no calls, no branches, both halves computed
/// and one chosen. `std`'s `tanh` calls `expm1` and cost more than half of a gradient; this is several
/// times faster.
///
/// - `|x| < 0.625`: `tanh x = x + x^3 P(x^2)`, `P` of degree 11 interpolating `(tanh x - x) / x^3` at
///   Chebyshev nodes of `x^2` in `[0, 0.390625]` (coefficients from 50-digit arithmetic).
/// - `|x| >= 0.625`: `tanh x = 1 - 2 / (e^{2|x|} + 1)`, `e^y = 2^k e^r` with `k = round(y / ln 2)`,
///   `r = y - k ln 2` (ln 2 in two parts, so that `k ln2_hi` is exact), `e^r` by its Taylor series to
///   `r^13 / 13!` (`|r| <= ln 2 / 2`: truncation below 5e-18), `2^k` built from its bits. `|x| > 20` gives
///   exactly 1 (as std's).
///
/// The sign is copied from `x`; NaN stays NaN.
#[inline(always)]
fn tanh(x: f64) -> f64 {
    const SMALL: f64 = 0.625;
    const POLY: [f64; 12] = [
        -0.3333333333333333,
        0.13333333333333042,
        -0.05396825396789699,
        0.021869488519008305,
        -0.008863235103240878,
        0.0035921217511549622,
        -0.0014557754120478055,
        0.0005896606577757043,
        -0.0002375906496055562,
        9.257116129556769e-05,
        -3.12011014257974e-05,
        6.485163482793113e-06,
    ];
    // 1 / n! for n = 0..=13
    const TAYLOR: [f64; 14] = [
        1.0,
        1.0,
        0.5,
        0.16666666666666666,
        0.041666666666666664,
        0.008333333333333333,
        0.001388888888888889,
        0.0001984126984126984,
        2.48015873015873e-05,
        2.7557319223985893e-06,
        2.755731922398589e-07,
        2.505210838544172e-08,
        2.08767569878681e-09,
        1.6059043836821613e-10,
    ];
    // 1.5 * 2^52: adding it rounds to an integer, which then sits in the low bits of the mantissa
    const ROUND: f64 = 6_755_399_441_055_744.0;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 0x3FE62E42FEE00000: 21 trailing zero bits
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let a = x.abs();
    let s = a * a;
    let mut p = POLY[11];
    for c in POLY[..11].iter().rev() {
        p = p * s + c;
    }
    let small = a + a * s * p;
    // tanh 20 is 1 to double precision; NaN is not > 20 and stays NaN through the rest
    let y = if a > 20.0 { 40.0 } else { 2.0 * a };
    let k_round = y * std::f64::consts::LOG2_E + ROUND;
    let k = k_round - ROUND;
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let mut e = TAYLOR[13];
    for c in TAYLOR[..13].iter().rev() {
        e = e * r + c;
    }
    let k_bits = k_round.to_bits().wrapping_sub(ROUND.to_bits());
    let e = e * f64::from_bits(k_bits.wrapping_add(1023) << 52);
    let large = 1.0 - 2.0 / (e + 1.0);
    (if a < SMALL { small } else { large }).copysign(x)
}

/// The loss and accuracy of θ over the rows used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eval {
    /// Mean softmax cross-entropy, in nats (`ln K` for uniform guesses).
    pub loss: f64,
    /// Fraction of rows, in `[0, 1]`, whose largest logit (the first on ties) is the label's.
    pub accuracy: f64,
}

impl Eval {
    /// What a θ, data or rows that do not fit the network give: NaN, which a run reads as diverged.
    const UNFIT: Eval = Eval {
        loss: f64::NAN,
        accuracy: f64::NAN,
    };
}

/// A multilayer perceptron: `inputs`, hidden layers of the given sizes with one [`Activation`], and
/// `outputs` logits; its parameters are a flat θ in the order of [`layout`].
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    layers: Vec<LayerLayout>,
    params: usize,
    activation: Activation,
}

/// Reusable buffers of the passes (feature-major blocks of up to [`CHUNK`] points). One per thread; any
/// network can use any scratch (it grows to fit).
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// The block's inputs, `features x c`.
    x: Vec<f64>,
    /// Each layer's outputs `a_l` (`n_l x c`); the last holds the logits, then `p - onehot`.
    acts: Vec<Vec<f64>>,
    /// `dz` of the layer being backpropagated and of the one below it, `max n_l x c` each.
    delta: Vec<f64>,
    below: Vec<f64>,
    /// The block's labels.
    labels: Vec<u32>,
}

/// Grow `v` to at least `n` entries (never shrinks, so that a smaller block allocates nothing).
fn grow<T: Clone + Default>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::default());
    }
}

/// Points per register block of [`mix`].
const LANES: usize = 8;

/// `out[r] = init_r + sum_s M[r][s] input[s]` for feature-major rows of `c` points (`out`: `rows x c`,
/// `input`: `sources x c`), with `M[r][s] = w[r * strides.0 + s * strides.1]`: `W` itself for the forward
/// pass (`strides = (inputs, 1)`), `W^T` for the backward one (`(1, inputs)`).
///
/// Two output rows are built [`LANES`] points at a time in registers (16 independent sums, so that the
/// adds' latency is hidden and each input value loaded serves both rows), adding the sources in order:
/// the result is exactly that of one `y += w x` per source.
fn mix(
    w: &[f64],
    strides: (usize, usize),
    init: Option<&[f64]>,
    input: &[f64],
    out: &mut [f64],
    c: usize,
) {
    let (sources, rows) = (input.len() / c, out.len() / c);
    let blocked = c / LANES * LANES;
    let weight = |r: usize, s: usize| w[r * strides.0 + s * strides.1];
    for r in (0..rows).step_by(2) {
        // an odd last row pairs with itself and is written once
        let r1 = (r + 1).min(rows - 1);
        let (start0, start1) = init.map_or((0.0, 0.0), |b| (b[r], b[r1]));
        for j in (0..blocked).step_by(LANES) {
            let (mut acc0, mut acc1) = ([start0; LANES], [start1; LANES]);
            for s in 0..sources {
                let (m0, m1) = (weight(r, s), weight(r1, s));
                let x = &input[s * c + j..s * c + j + LANES];
                for t in 0..LANES {
                    acc0[t] += m0 * x[t];
                    acc1[t] += m1 * x[t];
                }
            }
            out[r * c + j..r * c + j + LANES].copy_from_slice(&acc0);
            out[r1 * c + j..r1 * c + j + LANES].copy_from_slice(&acc1);
        }
        for j in blocked..c {
            for row in [r, r1] {
                let start = init.map_or(0.0, |b| b[row]);
                out[row * c + j] =
                    (0..sources).fold(start, |acc, s| acc + weight(row, s) * input[s * c + j]);
            }
        }
    }
}

/// `g[o][i] += sum_j dz[o][j] a[i][j]` for feature-major rows of `c` points (`dz`: `outputs x c`, `a`:
/// `inputs x c`, `g`: `outputs x inputs` row-major): `dL/dW = dz a^T`. Two rows of each at a time, four
/// independent partial sums per product (in a fixed order, so the result is deterministic), which the
/// compiler keeps in vector registers where one running sum per product could not be vectorized.
fn add_products(dz: &[f64], a: &[f64], g: &mut [f64], c: usize) {
    let (outputs, inputs) = (dz.len() / c, a.len() / c);
    let blocked = c / 4 * 4;
    let finish = |acc: [f64; 4], x: &[f64], y: &[f64]| {
        let tail: f64 = x[blocked..]
            .iter()
            .zip(&y[blocked..])
            .map(|(p, q)| p * q)
            .sum();
        ((acc[0] + acc[2]) + (acc[1] + acc[3])) + tail
    };
    for o in (0..outputs).step_by(2) {
        // an odd last row pairs with itself and is written once
        let o1 = (o + 1).min(outputs - 1);
        let (d0, d1) = (&dz[o * c..(o + 1) * c], &dz[o1 * c..(o1 + 1) * c]);
        for i in (0..inputs).step_by(2) {
            let i1 = (i + 1).min(inputs - 1);
            let (a0, a1) = (&a[i * c..(i + 1) * c], &a[i1 * c..(i1 + 1) * c]);
            let mut acc = [[0.0; 4]; 4];
            let blocks = d0[..blocked]
                .as_chunks::<4>()
                .0
                .iter()
                .zip(d1[..blocked].as_chunks::<4>().0)
                .zip(a0[..blocked].as_chunks::<4>().0)
                .zip(a1[..blocked].as_chunks::<4>().0);
            for (((x0, x1), y0), y1) in blocks {
                for t in 0..4 {
                    acc[0][t] += x0[t] * y0[t];
                    acc[1][t] += x0[t] * y1[t];
                    acc[2][t] += x1[t] * y0[t];
                    acc[3][t] += x1[t] * y1[t];
                }
            }
            g[o * inputs + i] += finish(acc[0], d0, a0);
            if i1 != i {
                g[o * inputs + i1] += finish(acc[1], d0, a1);
            }
            if o1 != o {
                g[o1 * inputs + i] += finish(acc[2], d1, a0);
                if i1 != i {
                    g[o1 * inputs + i1] += finish(acc[3], d1, a1);
                }
            }
        }
    }
}

/// `sum_j a_j` with four independent partial sums, as [`add_products`].
fn sum(a: &[f64]) -> f64 {
    let (blocks, rest) = a.as_chunks::<4>();
    let mut acc = [0.0; 4];
    for x in blocks {
        for t in 0..4 {
            acc[t] += x[t];
        }
    }
    let tail: f64 = rest.iter().sum();
    ((acc[0] + acc[2]) + (acc[1] + acc[3])) + tail
}

/// Where a pass reads its points from.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// Rows of a dataset (`None`: every row, in order).
    Data(&'a Dataset, Option<&'a [u32]>),
    /// Row-major points without labels.
    Points(&'a [f64]),
}

impl Source<'_> {
    fn len(&self, features: usize) -> usize {
        match *self {
            Source::Data(data, rows) => rows.map_or(data.len(), <[u32]>::len),
            Source::Points(points) => points.len() / features.max(1),
        }
    }

    /// Copy points `start..start + c` into `x` feature-major (`x[f * c + j]`), their labels into `labels`.
    fn gather(&self, start: usize, c: usize, features: usize, x: &mut [f64], labels: &mut [u32]) {
        match *self {
            Source::Data(data, rows) => {
                let inputs = data.inputs();
                for j in 0..c {
                    let r = rows.map_or(start + j, |rows| rows[start + j] as usize);
                    let point = &inputs[r * features..(r + 1) * features];
                    for (f, &v) in point.iter().enumerate() {
                        x[f * c + j] = v;
                    }
                    labels[j] = data.labels()[r];
                }
            }
            Source::Points(points) => {
                for j in 0..c {
                    let point = &points[(start + j) * features..(start + j + 1) * features];
                    for (f, &v) in point.iter().enumerate() {
                        x[f * c + j] = v;
                    }
                }
            }
        }
    }
}

impl Mlp {
    /// A perceptron `inputs -> hidden[0] -> ... -> outputs` with `activation` on the hidden layers
    /// (none: a linear classifier). Refused: no inputs, fewer than two outputs, a hidden layer of 0 units,
    /// or more than [`MAX_PARAMS`] parameters.
    pub fn new(
        inputs: usize,
        hidden: &[usize],
        outputs: usize,
        activation: Activation,
    ) -> Result<Mlp, String> {
        if inputs == 0 {
            return Err("a network needs at least one input".to_owned());
        }
        if outputs < 2 {
            return Err(format!(
                "a classifier needs at least two outputs (one per class), not {outputs}"
            ));
        }
        if let Some(at) = hidden.iter().position(|&h| h == 0) {
            return Err(format!(
                "hidden layer {} has 0 units; every hidden layer needs at least 1",
                at + 1
            ));
        }
        let mut sizes = Vec::with_capacity(hidden.len() + 2);
        sizes.push(inputs);
        sizes.extend_from_slice(hidden);
        sizes.push(outputs);
        // checked: sizes come from the command line, and their products may not fit a usize
        let count = sizes.windows(2).try_fold(0usize, |total, pair| {
            pair[0]
                .checked_add(1)
                .and_then(|fan_in| fan_in.checked_mul(pair[1]))
                .and_then(|n| total.checked_add(n))
        });
        let shape = describe(&sizes);
        match count {
            Some(n) if n <= MAX_PARAMS => {}
            Some(n) => {
                return Err(format!(
                    "a {shape} network has {n} parameters; the limit is {MAX_PARAMS}, so that it trains live: use fewer or smaller hidden layers"
                ));
            }
            None => {
                return Err(format!(
                    "a {shape} network has more parameters than can be counted; the limit is {MAX_PARAMS}"
                ));
            }
        }
        let (layers, params) = layout(&sizes);
        Ok(Mlp {
            sizes,
            layers,
            params,
            activation,
        })
    }

    /// The network for `data`: `data.features()` inputs and `data.classes()` outputs.
    pub fn for_data(
        data: &Dataset,
        hidden: &[usize],
        activation: Activation,
    ) -> Result<Mlp, String> {
        Mlp::new(data.features(), hidden, data.classes(), activation)
    }

    /// Unit counts, inputs to outputs: `[inputs, hidden..., outputs]`.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// `N`, the length of θ: `sum over layers of (inputs + 1) * outputs`.
    pub fn param_count(&self) -> usize {
        self.params
    }

    /// Where each layer's `W` and `b` sit in θ.
    pub fn layers(&self) -> &[LayerLayout] {
        &self.layers
    }

    /// The hidden layers' nonlinearity.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Number of inputs (features).
    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }

    /// Number of outputs (`K` logits, one per class).
    pub fn outputs(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// Whether `data` fits the network (its features are the inputs, its labels name outputs), with the
    /// reason when not.
    pub fn check(&self, data: &Dataset) -> Result<(), String> {
        if data.features() != self.inputs() {
            return Err(format!(
                "{} has {} features but the network has {} inputs",
                data.source(),
                data.features(),
                self.inputs()
            ));
        }
        if data.classes() > self.outputs() {
            return Err(format!(
                "{} has {} classes but the network has {} outputs",
                data.source(),
                data.classes(),
                self.outputs()
            ));
        }
        Ok(())
    }

    /// Initial weights from `seed`, deterministic: every weight of layer `l` drawn independently from
    /// `U(-a, a)` in the order of θ (rand's `Xoshiro256PlusPlus::seed_from_u64(seed)`, `random_range`), every
    /// bias 0. `a` is Glorot/Xavier uniform for `tanh`, `a = sqrt(6 / (fan_in + fan_out))`, and He/Kaiming
    /// uniform for `relu`, `a = sqrt(6 / fan_in)`, on every layer including the output layer (`fan_in`,
    /// `fan_out` = the layer's inputs and outputs). Both keep the activations' variance about constant
    /// through the layers, so the first gradients neither vanish nor explode.
    pub fn init(&self, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut theta = vec![0.0; self.params];
        for layer in &self.layers {
            let (fan_in, fan_out) = (layer.inputs as f64, layer.outputs as f64);
            let a = match self.activation {
                Activation::Tanh => (6.0 / (fan_in + fan_out)).sqrt(),
                Activation::Relu => (6.0 / fan_in).sqrt(),
            };
            for w in &mut theta[layer.weights.clone()] {
                *w = rng.random_range(-a..a);
            }
        }
        theta
    }

    /// Whether θ, `data` and `rows` fit the network (see [`Mlp::check`]); every row index `< data.len()`
    /// and at least one row.
    fn fits(&self, theta: &[f64], data: &Dataset, rows: Option<&[u32]>) -> bool {
        theta.len() == self.params
            && self.check(data).is_ok()
            && rows.is_none_or(|rows| {
                !rows.is_empty() && rows.iter().all(|&r| (r as usize) < data.len())
            })
    }

    /// Loss, accuracy and the exact gradient `dL/dθ` (written into `grad`, `N` entries, in θ's layout) of the
    /// mean softmax cross-entropy over `rows` of `data` (a mini-batch's row indices, in any order, repeats
    /// allowed; `None`: every row). The formulas are in the module's documentation and beside the code.
    ///
    /// A θ or `grad` of the wrong length, data that does not fit ([`Mlp::check`]), an empty batch or a row
    /// past the end give NaN loss and accuracy and a NaN gradient, never a panic.
    pub fn loss_and_gradient(
        &self,
        theta: &[f64],
        data: &Dataset,
        rows: Option<&[u32]>,
        grad: &mut [f64],
        scratch: &mut Scratch,
    ) -> Eval {
        if !self.fits(theta, data, rows) || grad.len() != self.params {
            grad.fill(f64::NAN);
            return Eval::UNFIT;
        }
        grad.fill(0.0);
        self.pass(theta, Source::Data(data, rows), Some(grad), scratch)
    }

    /// Loss and accuracy over `rows` of `data` (`None`: every row): the forward pass only. NaN when they do
    /// not fit, as [`Mlp::loss_and_gradient`].
    pub fn evaluate(
        &self,
        theta: &[f64],
        data: &Dataset,
        rows: Option<&[u32]>,
        scratch: &mut Scratch,
    ) -> Eval {
        if !self.fits(theta, data, rows) {
            return Eval::UNFIT;
        }
        self.pass(theta, Source::Data(data, rows), None, scratch)
    }

    /// The full-data loss of θ (the forward pass only): one cell of a loss-landscape slice.
    pub fn loss(&self, theta: &[f64], data: &Dataset, scratch: &mut Scratch) -> f64 {
        self.evaluate(theta, data, None, scratch).loss
    }

    /// The class probabilities `softmax(z_L)` of many points at once: `points` row-major (`m x inputs`),
    /// `out` row-major (`m x outputs`). False (and `out` untouched) when the lengths do not fit.
    pub fn predict(
        &self,
        theta: &[f64],
        points: &[f64],
        out: &mut [f64],
        scratch: &mut Scratch,
    ) -> bool {
        let (d, k) = (self.inputs(), self.outputs());
        let m = points.len() / d;
        if theta.len() != self.params || !points.len().is_multiple_of(d) || out.len() != m * k {
            return false;
        }
        let source = Source::Points(points);
        for start in (0..m).step_by(CHUNK) {
            let c = CHUNK.min(m - start);
            self.forward(theta, source, start, c, scratch);
            let logits = &scratch.acts[self.layers.len() - 1][..k * c];
            for j in 0..c {
                let p = &mut out[(start + j) * k..(start + j + 1) * k];
                let m = (0..k).fold(f64::NEG_INFINITY, |m, kk| m.max(logits[kk * c + j]));
                for (kk, p) in p.iter_mut().enumerate() {
                    *p = (logits[kk * c + j] - m).exp();
                }
                let s: f64 = p.iter().sum();
                p.iter_mut().for_each(|p| *p /= s);
            }
        }
        true
    }

    /// The class probabilities of one point `x` (`inputs` entries) into `out` (`outputs` entries); false
    /// when the lengths do not fit. Allocates its buffers: for many points use [`Mlp::predict`].
    pub fn probabilities(&self, theta: &[f64], x: &[f64], out: &mut [f64]) -> bool {
        x.len() == self.inputs() && self.predict(theta, x, out, &mut Scratch::default())
    }

    /// Make `scratch` hold a block of `c` points.
    fn prepare(&self, scratch: &mut Scratch, c: usize) {
        let widest = self.sizes.iter().copied().max().unwrap_or(0);
        grow(&mut scratch.x, self.inputs() * c);
        grow(&mut scratch.labels, c);
        grow(&mut scratch.delta, widest * c);
        grow(&mut scratch.below, widest * c);
        if scratch.acts.len() < self.layers.len() {
            scratch.acts.resize_with(self.layers.len(), Vec::new);
        }
        for (act, layer) in scratch.acts.iter_mut().zip(&self.layers) {
            grow(act, layer.outputs * c);
        }
    }

    /// The forward pass over points `start..start + c` of `source`: each layer's outputs into
    /// `scratch.acts` (feature-major, `n_l x c`), the logits last.
    fn forward(
        &self,
        theta: &[f64],
        source: Source,
        start: usize,
        c: usize,
        scratch: &mut Scratch,
    ) {
        self.prepare(scratch, c);
        let d = self.inputs();
        source.gather(
            start,
            c,
            d,
            &mut scratch.x[..d * c],
            &mut scratch.labels[..c],
        );
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (below, here) = scratch.acts.split_at_mut(l);
            let input = match l {
                0 => &scratch.x[..layer.inputs * c],
                _ => &below[l - 1][..layer.inputs * c],
            };
            let out = &mut here[0][..layer.outputs * c];
            let (w, b) = (&theta[layer.weights.clone()], &theta[layer.bias.clone()]);
            // z_o = b_o + sum_i W[o][i] a_i, over the block's points at once
            mix(w, (layer.inputs, 1), Some(b), input, out, c);
            // a_o = act(z_o) on hidden layers; the output layer's z are the logits
            if l < last {
                self.activation.apply(out);
            }
        }
    }

    /// Loss and accuracy over every point of `source`, block by block; with `grad`, also add the gradient
    /// of the mean loss into it (the caller zeroes it).
    fn pass(
        &self,
        theta: &[f64],
        source: Source,
        mut grad: Option<&mut [f64]>,
        scratch: &mut Scratch,
    ) -> Eval {
        let total = source.len(self.inputs());
        let k = self.outputs();
        let last = self.layers.len() - 1;
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        for start in (0..total).step_by(CHUNK) {
            let c = CHUNK.min(total - start);
            self.forward(theta, source, start, c, scratch);
            let Scratch { acts, labels, .. } = &mut *scratch;
            let logits = &mut acts[last][..k * c];
            for (j, &label) in labels[..c].iter().enumerate() {
                let label = label as usize;
                // m = max_k z_k; the first max is the prediction
                let (mut m, mut best) = (logits[j], 0);
                for kk in 1..k {
                    if logits[kk * c + j] > m {
                        (m, best) = (logits[kk * c + j], kk);
                    }
                }
                correct += usize::from(best == label);
                // L_row = m + ln sum_k exp(z_k - m) - z_label; exp(z_k - m) replaces z_k
                let z_label = logits[label * c + j];
                let mut s = 0.0;
                for kk in 0..k {
                    let e = (logits[kk * c + j] - m).exp();
                    logits[kk * c + j] = e;
                    s += e;
                }
                loss_sum += m + s.ln() - z_label;
                if grad.is_some() {
                    // dL/dz_k = (p_k - [k = label]) / B,  p_k = exp(z_k - m) / s, in place
                    for kk in 0..k {
                        let onehot = if kk == label { 1.0 } else { 0.0 };
                        logits[kk * c + j] = (logits[kk * c + j] / s - onehot) / total as f64;
                    }
                }
            }
            if let Some(grad) = grad.as_deref_mut() {
                self.backward(theta, c, grad, scratch);
            }
        }
        Eval {
            loss: loss_sum / total as f64,
            accuracy: correct as f64 / total as f64,
        }
    }

    /// Backpropagate one block: `scratch.acts[last]` holds `dL/dz_L` (`K x c`); add `dL/dθ` into `grad`.
    fn backward(&self, theta: &[f64], c: usize, grad: &mut [f64], scratch: &mut Scratch) {
        let Scratch {
            x,
            acts,
            delta,
            below,
            ..
        } = scratch;
        let last = self.layers.len() - 1;
        let k = self.outputs();
        delta[..k * c].copy_from_slice(&acts[last][..k * c]);
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (n_in, n_out) = (layer.inputs, layer.outputs);
            let input = match l {
                0 => &x[..n_in * c],
                _ => &acts[l - 1][..n_in * c],
            };
            let dz = &delta[..n_out * c];
            let (gw, gb) = grad.split_at_mut(layer.bias.start);
            let gw = &mut gw[layer.weights.clone()];
            let gb = &mut gb[..n_out];
            // dL/db_o = sum_rows dz_o,  dL/dW[o][i] = sum_rows dz_o a_i
            for (g, dz_o) in gb.iter_mut().zip(dz.chunks_exact(c)) {
                *g += sum(dz_o);
            }
            add_products(dz, input, gw, c);
            if l == 0 {
                break;
            }
            // da_i = sum_o W[o][i] dz_o, then dz_i = da_i act'(z_i) for the layer below
            let w = &theta[layer.weights.clone()];
            let da = &mut below[..n_in * c];
            mix(w, (1, n_in), None, dz, da, c);
            self.activation.backprop(da, input);
            std::mem::swap(delta, below);
        }
    }
}

/// `2-16-16-2`, shortened to the first and last sizes for very deep networks.
fn describe(sizes: &[usize]) -> String {
    let join = |s: &[usize]| s.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
    if sizes.len() <= 12 {
        join(sizes)
    } else {
        format!(
            "{}-...-{} ({} hidden layers)",
            join(&sizes[..5]),
            join(&sizes[sizes.len() - 5..]),
            sizes.len() - 2
        )
    }
}

impl fmt::Display for Mlp {
    /// `2-16-16-2 tanh`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", describe(&self.sizes), self.activation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::network::data::Builtin;

    /// `n` points of `features` coordinates in about [-1.5, 1.5] and labels cycling through `classes`.
    fn random_data(n: usize, features: usize, classes: u32, seed: u64) -> Dataset {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let inputs = (0..n * features)
            .map(|_| rng.random_range(-1.5..1.5))
            .collect();
        let labels = (0..n as u32).map(|i| (i * 7 + i / 3) % classes).collect();
        Dataset::new(inputs, features, labels, "random").expect("valid")
    }

    /// The loss and gradient written the slow, obvious way, one point at a time with nested `Vec`s: the
    /// reference the blocked, feature-major passes must agree with.
    fn reference(mlp: &Mlp, theta: &[f64], data: &Dataset, rows: &[usize]) -> (f64, Vec<f64>) {
        let mut grad = vec![0.0; mlp.param_count()];
        let mut loss = 0.0;
        let layers = mlp.layers();
        for &r in rows {
            let (x, label) = data.point(r).expect("in range");
            let mut acts = vec![x.to_vec()];
            for (l, layer) in layers.iter().enumerate() {
                let a: Vec<f64> = (0..layer.outputs)
                    .map(|o| {
                        let z = theta[layer.bias.start + o]
                            + (0..layer.inputs)
                                .map(|i| theta[layer.row(o).start + i] * acts[l][i])
                                .sum::<f64>();
                        match (l + 1 < layers.len(), mlp.activation()) {
                            (false, _) => z,
                            (true, Activation::Tanh) => z.tanh(),
                            (true, Activation::Relu) => z.max(0.0),
                        }
                    })
                    .collect();
                acts.push(a);
            }
            let z = &acts[layers.len()];
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
            loss += m + s.ln() - z[label as usize];
            let mut dz: Vec<f64> = z
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    ((v - m).exp() / s - f64::from(k == label as usize)) / rows.len() as f64
                })
                .collect();
            for (l, layer) in layers.iter().enumerate().rev() {
                let a_prev = &acts[l];
                for o in 0..layer.outputs {
                    grad[layer.bias.start + o] += dz[o];
                    for i in 0..layer.inputs {
                        grad[layer.row(o).start + i] += dz[o] * a_prev[i];
                    }
                }
                dz = (0..layer.inputs)
                    .map(|i| {
                        let da: f64 = (0..layer.outputs)
                            .map(|o| theta[layer.row(o).start + i] * dz[o])
                            .sum();
                        match mlp.activation() {
                            Activation::Tanh => da * (1.0 - a_prev[i] * a_prev[i]),
                            Activation::Relu => da * f64::from(a_prev[i] > 0.0),
                        }
                    })
                    .collect();
            }
        }
        (loss / rows.len() as f64, grad)
    }

    fn norm(v: &[f64]) -> f64 {
        v.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// `|a - b| / |b|` over whole vectors.
    fn relative_error(a: &[f64], b: &[f64]) -> f64 {
        let diff: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        norm(&diff) / norm(b)
    }

    fn gradient(
        mlp: &Mlp,
        theta: &[f64],
        data: &Dataset,
        rows: Option<&[u32]>,
    ) -> (Eval, Vec<f64>) {
        let mut grad = vec![0.0; mlp.param_count()];
        let eval = mlp.loss_and_gradient(theta, data, rows, &mut grad, &mut Scratch::default());
        (eval, grad)
    }

    #[test]
    fn gradients_match_central_finite_differences() {
        let moons = Builtin::Moons.generate(60, 0.2, 3).expect("valid");
        let cases = [
            (Activation::Tanh, moons.clone(), vec![16, 16]),
            (Activation::Relu, moons, vec![8, 5]),
            (Activation::Tanh, random_data(40, 5, 3, 1), vec![7]),
            (Activation::Relu, random_data(40, 5, 3, 2), vec![6, 4]),
            (Activation::Tanh, random_data(30, 3, 4, 3), vec![]),
            (Activation::Relu, random_data(30, 1, 2, 4), vec![1]),
        ];
        for (activation, data, hidden) in cases {
            let mlp = Mlp::for_data(&data, &hidden, activation).expect("small");
            let mut theta = mlp.init(11);
            // non-zero biases, so that their gradients are tested away from the symmetric start
            for layer in mlp.layers() {
                for (k, b) in theta[layer.bias.clone()].iter_mut().enumerate() {
                    *b = 0.1 * (k as f64 - 1.5);
                }
            }
            let (eval, grad) = gradient(&mlp, &theta, &data, None);
            let mut scratch = Scratch::default();
            let h = 1e-6;
            let numeric: Vec<f64> = (0..theta.len())
                .map(|p| {
                    let mut t = theta.clone();
                    t[p] = theta[p] + h;
                    let up = mlp.loss(&t, &data, &mut scratch);
                    t[p] = theta[p] - h;
                    let down = mlp.loss(&t, &data, &mut scratch);
                    (up - down) / (2.0 * h)
                })
                .collect();
            let error = relative_error(&grad, &numeric);
            assert!(error < 1e-7, "{mlp}: relative error {error:e}");
            assert!(norm(&grad) > 1e-3, "{mlp}: a real gradient");
            assert_eq!(eval.loss, mlp.loss(&theta, &data, &mut scratch));
        }
    }

    #[test]
    fn blocked_passes_agree_with_a_point_by_point_reference() {
        // more rows than a block, so that several blocks add up; rows in any order with repeats
        let data = random_data(2 * CHUNK + 37, 4, 3, 9);
        for activation in Activation::ALL {
            let mlp = Mlp::for_data(&data, &[9, 6], activation).expect("small");
            let theta = mlp.init(5);
            let all: Vec<usize> = (0..data.len()).collect();
            let (eval, grad) = gradient(&mlp, &theta, &data, None);
            let (loss, expected) = reference(&mlp, &theta, &data, &all);
            assert!(
                (eval.loss - loss).abs() <= 1e-13 * loss,
                "{} vs {loss}",
                eval.loss
            );
            assert!(relative_error(&grad, &expected) < 1e-13);
            let rows: Vec<u32> = (0..300)
                .map(|i| (i * 13 % data.len()) as u32)
                .rev()
                .collect();
            let (eval, grad) = gradient(&mlp, &theta, &data, Some(&rows));
            let used: Vec<usize> = rows.iter().map(|&r| r as usize).collect();
            let (loss, expected) = reference(&mlp, &theta, &data, &used);
            assert!((eval.loss - loss).abs() <= 1e-13 * loss);
            assert!(relative_error(&grad, &expected) < 1e-13);
        }
    }

    #[test]
    fn a_one_hidden_unit_network_by_hand() {
        // 1 input -> 1 tanh unit -> 2 logits; θ = [w, c, u0, u1, v0, v1] (W1, b1, W2 rows, b2).
        // One point x = 2 with label 1; w = 0.5, c = -0.25, u = (1, -0.5), v = (0.1, 0.2).
        //   hidden:  a = tanh(0.5 * 2 - 0.25) = tanh(0.75) = 0.6351489523872873
        //   logits:  z0 = a + 0.1 = 0.73514895...,  z1 = -0.5 a + 0.2 = -0.11757448...
        //   softmax: p0 = 1 / (1 + e^(z1 - z0)) = 0.7011381315267302,  p1 = 1 - p0
        //   loss:    -ln p1 = ln(1 + e^(z0 - z1)) = ln(1 + e^(1.5 a - 0.1)) = 1.207773790686594
        //   output:  dz = p - onehot = (p0, -p0):  du0 = p0 a, du1 = -p0 a, dv0 = p0, dv1 = -p0
        //   hidden:  da = u0 p0 + u1 (-p0) = 1.5 p0,  dz_h = 1.5 p0 (1 - a^2) = 0.6274335883706053
        //   input:   dw = dz_h x = 1.2548671767412105,  dc = dz_h
        let data = Dataset::new(vec![2.0], 1, vec![1], "one point").expect("valid");
        let mlp = Mlp::new(1, &[1], 2, Activation::Tanh).expect("tiny");
        assert_eq!(mlp.param_count(), 6);
        let theta = [0.5, -0.25, 1.0, -0.5, 0.1, 0.2];
        let (eval, grad) = gradient(&mlp, &theta, &data, None);
        let a = 0.75f64.tanh();
        let p0 = 1.0 / (1.0 + (-0.5 * a + 0.2 - (a + 0.1)).exp());
        let dz_h = 1.5 * p0 * (1.0 - a * a);
        let expected = [dz_h * 2.0, dz_h, p0 * a, -p0 * a, p0, -p0];
        assert!((eval.loss - (1.5 * a - 0.1).exp().ln_1p()).abs() < 1e-15);
        assert!((eval.loss - 1.207773790686594).abs() < 1e-14);
        assert_eq!(eval.accuracy, 0.0, "the logit of class 0 is larger");
        for (g, e) in grad.iter().zip(expected) {
            assert!((g - e).abs() < 1e-15, "{grad:?} vs {expected:?}");
        }
        assert!((grad[0] - 1.2548671767412105).abs() < 1e-14);
        assert!((grad[4] - 0.7011381315267302).abs() < 1e-15);
    }

    #[test]
    fn a_mini_batch_is_the_dataset_of_its_rows() {
        let data = Builtin::Circles.generate(500, 0.1, 2).expect("valid");
        let mlp = Mlp::for_data(&data, &[8], Activation::Tanh).expect("small");
        let theta = mlp.init(3);
        let rows: Vec<u32> = vec![17, 3, 499, 250, 3, 42, 100, 0];
        let (batch_eval, batch_grad) = gradient(&mlp, &theta, &data, Some(&rows));
        let subset = data.subset(&rows).expect("in range");
        let (eval, grad) = gradient(&mlp, &theta, &subset, None);
        assert_eq!(batch_eval, eval);
        assert_eq!(batch_grad, grad);
        let all: Vec<u32> = (0..500).collect();
        assert_eq!(
            gradient(&mlp, &theta, &data, Some(&all)),
            gradient(&mlp, &theta, &data, None)
        );
        let mut scratch = Scratch::default();
        assert_eq!(mlp.evaluate(&theta, &data, Some(&rows), &mut scratch), eval);
    }

    #[test]
    fn accuracy_counts_the_first_largest_logit() {
        // a linear classifier: logits (x, -x); class 0 wins for x > 0, and at x = 0 (a tie, the first)
        let mlp = Mlp::new(1, &[], 2, Activation::Tanh).expect("linear");
        let theta = [1.0, -1.0, 0.0, 0.0];
        let data = Dataset::new(
            vec![1.0, -1.0, 0.0, 2.0, -3.0],
            1,
            vec![0, 1, 0, 1, 0],
            "five",
        )
        .expect("valid");
        let eval = mlp.evaluate(&theta, &data, None, &mut Scratch::default());
        assert_eq!(eval.accuracy, 3.0 / 5.0);
        let mut p = [0.0; 2];
        assert!(mlp.probabilities(&theta, &[0.0], &mut p));
        assert_eq!(p, [0.5, 0.5]);
        assert!(mlp.probabilities(&theta, &[1.0], &mut p));
        assert!((p[0] - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-15);
        assert!(!mlp.probabilities(&theta, &[1.0, 2.0], &mut p));
    }

    #[test]
    fn probabilities_of_many_points_match_one_at_a_time_and_sum_to_one() {
        let data = random_data(CHUNK + 5, 5, 3, 4);
        let mlp = Mlp::for_data(&data, &[10, 10], Activation::Relu).expect("small");
        let theta = mlp.init(1);
        let mut all = vec![0.0; data.len() * 3];
        assert!(mlp.predict(&theta, data.inputs(), &mut all, &mut Scratch::default()));
        for i in [0, 7, CHUNK, CHUNK + 4] {
            let mut one = [0.0; 3];
            let (x, _) = data.point(i).expect("in range");
            assert!(mlp.probabilities(&theta, x, &mut one));
            assert_eq!(&all[i * 3..i * 3 + 3], &one);
            assert!((one.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn huge_logits_give_a_finite_loss() {
        let mlp = Mlp::new(1, &[], 2, Activation::Tanh).expect("linear");
        let theta = [1e300, -1e300, 0.0, 0.0];
        let data = Dataset::new(vec![1.0, 1.0], 1, vec![0, 1], "two").expect("valid");
        let (eval, grad) = gradient(&mlp, &theta, &data, None);
        // label 0: loss 0; label 1: z0 - z1 = 2e300
        assert_eq!(eval.loss, 1e300);
        assert!(grad.iter().all(|g| g.is_finite()));
        let mut p = [0.0; 2];
        assert!(mlp.probabilities(&theta, &[1.0], &mut p));
        assert_eq!(p, [1.0, 0.0]);
    }

    #[test]
    fn initialization_follows_glorot_and_he_and_is_deterministic() {
        for activation in Activation::ALL {
            let mlp = Mlp::new(60, &[100], 40, activation).expect("under the limit");
            let theta = mlp.init(42);
            assert_eq!(theta, mlp.init(42));
            assert_ne!(theta, mlp.init(43));
            for layer in mlp.layers() {
                let (fan_in, fan_out) = (layer.inputs as f64, layer.outputs as f64);
                let a = match activation {
                    Activation::Tanh => (6.0 / (fan_in + fan_out)).sqrt(),
                    Activation::Relu => (6.0 / fan_in).sqrt(),
                };
                let w = &theta[layer.weights.clone()];
                assert!(w.iter().all(|v| v.abs() <= a));
                let n = w.len() as f64;
                let mean = w.iter().sum::<f64>() / n;
                let variance = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                // U(-a, a): mean 0, variance a^2 / 3 (4000 draws: standard errors 0.9 % of a and 2.2 %)
                assert!(mean.abs() < 0.05 * a, "{activation} mean {mean}");
                assert!(
                    (variance / (a * a / 3.0) - 1.0).abs() < 0.08,
                    "{activation} {variance}"
                );
                assert!(theta[layer.bias.clone()].iter().all(|&b| b == 0.0));
            }
        }
    }

    #[test]
    fn bad_shapes_are_refused_with_the_reason() {
        assert_eq!(
            Mlp::new(2, &[16, 0], 2, Activation::Tanh).expect_err("zero units"),
            "hidden layer 2 has 0 units; every hidden layer needs at least 1"
        );
        assert!(Mlp::new(0, &[4], 2, Activation::Tanh).is_err());
        assert!(Mlp::new(2, &[4], 1, Activation::Tanh).is_err());
        assert_eq!(
            Mlp::new(2, &[200, 200], 2, Activation::Relu).expect_err("too large"),
            "a 2-200-200-2 network has 41202 parameters; the limit is 20000, so that it trains live: use fewer or smaller hidden layers"
        );
        let overflow = Mlp::new(2, &[usize::MAX, 2], 2, Activation::Tanh).expect_err("overflow");
        assert!(overflow.contains("the limit is 20000"), "{overflow}");
        let deep = Mlp::new(2, &[1; 20_000], 2, Activation::Tanh).expect_err("too deep");
        assert!(
            deep.starts_with("a 2-1-1-1-1-...-1-1-1-1-2 (20000 hidden layers) network has 40005"),
            "{deep}"
        );
        assert_eq!(Activation::from_name("tanh"), Ok(Activation::Tanh));
        assert_eq!(
            Activation::from_name("sigmoid").expect_err("unknown"),
            "unknown activation 'sigmoid'; valid names: tanh, relu"
        );
        let mlp = Mlp::new(2, &[16, 16], 2, Activation::Tanh).expect("small");
        assert_eq!(
            (mlp.to_string(), mlp.param_count()),
            ("2-16-16-2 tanh".to_owned(), 354)
        );
        assert_eq!(mlp.sizes(), &[2, 16, 16, 2]);
    }

    #[test]
    fn what_does_not_fit_gives_nan_not_a_panic() {
        let data = random_data(10, 3, 3, 0);
        let mlp = Mlp::new(2, &[4], 2, Activation::Tanh).expect("small");
        assert!(mlp.check(&data).is_err());
        let theta = mlp.init(0);
        let mut grad = vec![0.0; mlp.param_count()];
        let mut scratch = Scratch::default();
        let eval = mlp.loss_and_gradient(&theta, &data, None, &mut grad, &mut scratch);
        assert!(eval.loss.is_nan() && grad.iter().all(|g| g.is_nan()));
        let fits = Mlp::for_data(&data, &[4], Activation::Tanh).expect("small");
        assert!(fits.check(&data).is_ok());
        let theta = fits.init(0);
        let mut grad = vec![0.0; fits.param_count()];
        for rows in [&[][..], &[10][..], &[0, 1, 99][..]] {
            let eval = fits.loss_and_gradient(&theta, &data, Some(rows), &mut grad, &mut scratch);
            assert!(eval.loss.is_nan(), "{rows:?}");
        }
        assert!(
            fits.evaluate(&theta[1..], &data, None, &mut scratch)
                .loss
                .is_nan()
        );
        let mut short = vec![0.0; 3];
        assert!(
            fits.loss_and_gradient(&theta, &data, None, &mut short, &mut scratch)
                .loss
                .is_nan()
        );
    }

    #[test]
    fn tanh_is_within_two_units_in_the_last_place_of_std() {
        let ulps = |x: f64| {
            let (ours, std) = (tanh(x), x.tanh());
            if ours == std {
                return 0.0;
            }
            let ulp = f64::from_bits(std.abs().to_bits() + 1) - std.abs();
            (ours - std).abs() / ulp
        };
        let mut worst = 0.0f64;
        for i in 0..=400_000 {
            let x = -25.0 + 50.0 * f64::from(i) / 400_000.0;
            worst = worst.max(ulps(x));
        }
        for e in -300..=1 {
            for m in [1.0, 1.37, 2.5, 6.1] {
                worst = worst
                    .max(ulps(m * 10f64.powi(e)))
                    .max(ulps(-m * 10f64.powi(e)));
            }
        }
        assert!(worst <= 2.0, "{worst} ulps");
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(
            (tanh(f64::INFINITY), tanh(-1e300), tanh(20.5)),
            (1.0, -1.0, 1.0)
        );
        assert!(tanh(f64::NAN).is_nan());
        assert_eq!(tanh(f64::MIN_POSITIVE / 4.0), f64::MIN_POSITIVE / 4.0);
    }

    #[test]
    fn a_gradient_allocates_nothing_after_the_first() {
        let data = Builtin::Moons.generate(400, 0.1, 0).expect("valid");
        let mlp = Mlp::for_data(&data, &[16, 16], Activation::Tanh).expect("small");
        let theta = mlp.init(0);
        let mut grad = vec![0.0; mlp.param_count()];
        let mut scratch = Scratch::default();
        mlp.loss_and_gradient(&theta, &data, None, &mut grad, &mut scratch);
        let buffers = |s: &Scratch| {
            let mut v = vec![s.x.as_ptr(), s.delta.as_ptr(), s.below.as_ptr()];
            v.extend(s.acts.iter().map(|a| a.as_ptr()));
            (v, s.labels.as_ptr())
        };
        let before = buffers(&scratch);
        let rows: Vec<u32> = (0..32).collect();
        mlp.loss_and_gradient(&theta, &data, Some(&rows), &mut grad, &mut scratch);
        mlp.loss_and_gradient(&theta, &data, None, &mut grad, &mut scratch);
        // delta and below are swapped once per hidden layer (twice here): the same two buffers
        assert_eq!(before, buffers(&scratch));
    }
}
