//! Two-by-two symmetric matrices: the eigen decomposition behind curvature and Newton's steps.

use super::landscape::Vec2d;

/// A 2 x 2 matrix, rows first (a Hessian `[[∂xx, ∂xy], [∂yx, ∂yy]]`).
pub type Mat2 = [[f64; 2]; 2];

/// Eigenvalues `[λ1, λ2]` (ascending) and unit eigenvectors `[v1, v2]` (same order) of the symmetric
/// matrix `[[a, b], [b, c]]` (`h[0][1]` and `h[1][0]` are averaged). Closed form:
/// `λ = (a + c)/2 ∓ hypot((a - c)/2, b)`; the eigenvector of `λ2` is `(d + r, b)` for `d = (a - c)/2 >= 0`
/// and `(b, r - d)` otherwise (never a difference of nearly equal numbers), `v1` is perpendicular.
/// Equal eigenvalues give the axes `(1, 0)`, `(0, 1)`. Each vector's sign is chosen so that its x is
/// positive (or, when x is 0, its y). Non-finite input gives non-finite output.
pub fn eigen(h: [[f64; 2]; 2]) -> ([f64; 2], [Vec2d; 2]) {
    let (a, c) = (h[0][0], h[1][1]);
    let b = 0.5 * (h[0][1] + h[1][0]);
    let m = 0.5 * (a + c);
    let d = 0.5 * (a - c);
    let r = d.hypot(b);
    let values = [m - r, m + r];
    if r == 0.0 {
        return (values, [[1.0, 0.0], [0.0, 1.0]]);
    }
    let raw = if d >= 0.0 { [d + r, b] } else { [b, r - d] };
    let n = raw[0].hypot(raw[1]);
    let v2 = canonical([raw[0] / n, raw[1] / n]);
    let v1 = canonical([-v2[1], v2[0]]);
    (values, [v1, v2])
}

/// The sign of a direction that reads best: x > 0, or y > 0 on the y axis.
pub(crate) fn canonical(v: Vec2d) -> Vec2d {
    if v[0] < 0.0 || (v[0] == 0.0 && v[1] < 0.0) {
        [-v[0], -v[1]]
    } else {
        v
    }
}

/// `f(H) = V diag(f(λ1), f(λ2)) Vᵀ` for the symmetric `h`: the matrix with `h`'s eigenvectors and the
/// eigenvalues mapped by `f` (`1/λ` gives `H^-1`, `1/|λ|` the saddle-free `|H|^-1`).
pub fn spectral(values: [f64; 2], vectors: [Vec2d; 2], f: impl Fn(f64) -> f64) -> Mat2 {
    let mut out = [[0.0; 2]; 2];
    for (lambda, v) in values.into_iter().zip(vectors) {
        let w = f(lambda);
        for (i, row) in out.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell += w * v[i] * v[j];
            }
        }
    }
    out
}

/// `m v`.
pub fn mul(m: Mat2, v: Vec2d) -> Vec2d {
    [
        m[0][0] * v[0] + m[0][1] * v[1],
        m[1][0] * v[0] + m[1][1] * v[1],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectral_inverse_is_the_inverse() {
        let h = [[4.0, 1.0], [1.0, -2.0]];
        let (values, vectors) = eigen(h);
        let inv = spectral(values, vectors, |l| 1.0 / l);
        // h · h^-1 = I
        let columns = [[inv[0][0], inv[1][0]], [inv[0][1], inv[1][1]]];
        for (i, row) in h.iter().enumerate() {
            for (j, column) in columns.iter().enumerate() {
                let e = row[0] * column[0] + row[1] * column[1];
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((e - want).abs() < 1e-14, "{i}{j}: {e}");
            }
        }
        // |H|^-1 of a diagonal matrix takes absolute values
        let (values, vectors) = eigen([[2.0, 0.0], [0.0, -4.0]]);
        let abs = spectral(values, vectors, |l| 1.0 / l.abs());
        assert_eq!(mul(abs, [1.0, 1.0]), [0.5, 0.25]);
    }
}
