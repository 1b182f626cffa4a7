//! The procedural `terrain` landscape: fBm of 2-D simplex noise (with its exact gradient) over a gentle
//! bowl that keeps runs on the map.

use noise::permutationtable::{NoiseHasher, PermutationTable};
use serde::{Deserialize, Serialize};

use super::Vec2d;

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

/// Coefficient of the terrain's bowl, `0.04 (x^2 + y^2)`: keeps runs on the map.
const TERRAIN_BOWL: f64 = 0.04;

/// The built terrain: permutation table plus parameters.
#[derive(Clone, Debug)]
pub(super) struct Terrain {
    params: TerrainParams,
    perm: PermutationTable,
}

impl Terrain {
    pub(super) fn new(params: TerrainParams) -> Result<Self, String> {
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
    pub(super) fn value_and_gradient(&self, p: Vec2d) -> (f64, Vec2d) {
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

impl Terrain {
    /// `H = 0.08 I + A f^2 sum_o 2^o (hess n)(f 2^o p + offset_o)` (the chain rule puts `(f 2^o)^2` on
    /// each octave's `0.5^o`).
    pub(super) fn hessian(&self, p: Vec2d) -> [[f64; 2]; 2] {
        let TerrainParams {
            octaves,
            frequency,
            amplitude,
            ..
        } = self.params;
        let mut h = [0.0; 3];
        let mut freq = frequency;
        let mut scale = amplitude * frequency * frequency;
        for o in 0..octaves {
            let shift = f64::from(o) * 17.31;
            let hn = simplex_2d_hessian(&self.perm, freq * p[0] + shift, freq * p[1] - shift);
            for (hi, ni) in h.iter_mut().zip(hn) {
                *hi += scale * ni;
            }
            freq *= 2.0;
            scale *= 2.0;
        }
        let bowl = 2.0 * TERRAIN_BOWL;
        [[bowl + h[0], h[1]], [h[1], bowl + h[2]]]
    }
}

/// The corners of the simplex around `(x, y)`: each corner's lattice offset and the offset `d` of the
/// point from it.
fn simplex_corners(x: f64, y: f64) -> ((isize, isize), [(Vec2d, Vec2d); 3]) {
    const SQRT3: f64 = 1.732_050_807_568_877_2;
    const F2: f64 = 0.5 * (SQRT3 - 1.0);
    const G2: f64 = (3.0 - SQRT3) / 6.0;
    let s = (x + y) * F2;
    let (i, j) = ((x + s).floor(), (y + s).floor());
    let t = (i + j) * G2;
    let (x0, y0) = (x - (i - t), y - (j - t));
    let (i1, j1) = if x0 > y0 { (1.0, 0.0) } else { (0.0, 1.0) };
    (
        (i as isize, j as isize),
        [
            ([0.0, 0.0], [x0, y0]),
            ([i1, j1], [x0 - i1 + G2, y0 - j1 + G2]),
            ([1.0, 1.0], [x0 - 1.0 + 2.0 * G2, y0 - 1.0 + 2.0 * G2]),
        ],
    )
}

/// The 8 unit gradient directions of `noise`'s 2-D table.
const GRADS: [Vec2d; 8] = {
    const D: f64 = std::f64::consts::FRAC_1_SQRT_2;
    [
        [1.0, 0.0],
        [-1.0, 0.0],
        [0.0, 1.0],
        [0.0, -1.0],
        [D, D],
        [-D, D],
        [D, -D],
        [-D, -D],
    ]
};

/// `(n_xx, n_xy, n_yy)` of [`simplex_2d`]'s noise. Per corner, with `t = 0.5 - |d|^2`, `s = g . d`:
/// `d_i (-8 t^3 s d_i' + t^4 g_i')` gives
/// `48 t^2 s d_i d_j - 8 t^3 (g_i d_j + g_j d_i) - 8 t^3 s delta_ij`, times 70.
fn simplex_2d_hessian(perm: &PermutationTable, x: f64, y: f64) -> [f64; 3] {
    let ((ci, cj), corners) = simplex_corners(x, y);
    let mut h = [0.0; 3];
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
        let s = g[0] * d[0] + g[1] * d[1];
        let t2 = tk * tk;
        let t3 = t2 * tk;
        h[0] += 48.0 * t2 * s * d[0] * d[0] - 16.0 * t3 * g[0] * d[0] - 8.0 * t3 * s;
        h[1] += 48.0 * t2 * s * d[0] * d[1] - 8.0 * t3 * (g[0] * d[1] + g[1] * d[0]);
        h[2] += 48.0 * t2 * s * d[1] * d[1] - 16.0 * t3 * g[1] * d[1] - 8.0 * t3 * s;
    }
    [70.0 * h[0], 70.0 * h[1], 70.0 * h[2]]
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
