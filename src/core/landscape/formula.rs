//! The `formula` landscape: `L(x, y)` typed by the user, compiled by [`crate::core::formula`], with exact
//! gradient and Hessian. Built only when the formula is finite on at least half of its domain; where it
//! is undefined (`ln` of a negative number) the loss is NaN, which a run treats as divergence and the
//! surface grid marks as undefined.

use super::{Domain, Vec2d};
use crate::core::error::CoreError;
use crate::core::formula::Formula;

/// Samples per side of the validation grid (cell centres: a symmetric domain splits evenly, so `ln(x)`
/// on `[-3, 3]^2` is finite on exactly half).
const CHECK_SAMPLES: usize = 32;
/// The least fraction of the validation grid where loss and gradient must be finite.
const MIN_FINITE_FRACTION: f64 = 0.5;
/// The largest coordinate a formula's domain may reach (runs diverge past it).
pub const MAX_FORMULA_DOMAIN: f64 = 1e6;
/// The default domain of a typed formula, `[-3, 3]^2`.
pub const DEFAULT_FORMULA_DOMAIN: Domain = Domain::square(3.0);

/// The built formula landscape.
#[derive(Clone, Debug)]
pub(super) struct FormulaSurface {
    pub(super) formula: Formula,
    /// Whether heights span orders of magnitude on the validation grid (see `build`).
    pub(super) log_height: bool,
}

/// Checks the domain, parses `expr` and samples it; returns the surface, its domain and a start point:
/// one sixth of the way in from the left edge and a quarter down from the top (`(-2, 1.5)` on
/// `[-3, 3]^2`: off-centre, so a bowl centred in the domain is not converged at step 0), or the nearest
/// finite sample of the validation grid when the formula is undefined there.
pub(super) fn build(
    expr: &str,
    x: (f64, f64),
    y: (f64, f64),
) -> Result<(FormulaSurface, Domain, Vec2d), CoreError> {
    let invalid = |reason: String| CoreError::InvalidLandscape {
        landscape: "formula",
        reason,
    };
    for (axis, (lo, hi)) in [("x", x), ("y", y)] {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(invalid(format!(
                "the {axis} range ({lo}, {hi}) must be two finite numbers, the first smaller"
            )));
        }
        if lo.abs() > MAX_FORMULA_DOMAIN || hi.abs() > MAX_FORMULA_DOMAIN {
            return Err(invalid(format!(
                "the {axis} range ({lo}, {hi}) must lie within +-1e6"
            )));
        }
    }
    let formula = Formula::parse(expr).map_err(|error| CoreError::Formula {
        expr: expr.to_owned(),
        error,
    })?;
    let domain = Domain {
        x: [x.0, x.1],
        y: [y.0, y.1],
    };
    let cells = CHECK_SAMPLES as f64;
    let mut finite = Vec::with_capacity(CHECK_SAMPLES * CHECK_SAMPLES);
    let preferred = [
        domain.x[0] + domain.width() / 6.0,
        domain.y[0] + 0.75 * domain.height(),
    ];
    let mut start: Option<(f64, Vec2d)> = None;
    for j in 0..CHECK_SAMPLES {
        for i in 0..CHECK_SAMPLES {
            let p = [
                domain.x[0] + (i as f64 + 0.5) / cells * domain.width(),
                domain.y[0] + (j as f64 + 0.5) / cells * domain.height(),
            ];
            let (v, g) = formula.value_grad(p[0], p[1]);
            if v.is_finite() && g.iter().all(|g| g.is_finite()) {
                finite.push(v);
                let distance = (p[0] - preferred[0]).hypot(p[1] - preferred[1]);
                if start.is_none_or(|(d, _)| distance < d) {
                    start = Some((distance, p));
                }
            }
        }
    }
    let fraction = finite.len() as f64 / (CHECK_SAMPLES * CHECK_SAMPLES) as f64;
    if fraction < MIN_FINITE_FRACTION {
        return Err(invalid(format!(
            "'{}' is defined (finite, with a finite gradient) on only {:.0}% of the domain x in [{}, {}], \
             y in [{}, {}]; it must be on at least half of it (check for ln or sqrt of negative numbers, \
             or pick another domain)",
            expr.trim(),
            100.0 * fraction,
            domain.x[0],
            domain.x[1],
            domain.y[0],
            domain.y[1]
        )));
    }
    let (v, g) = formula.value_grad(preferred[0], preferred[1]);
    let start = if v.is_finite() && g.iter().all(|g| g.is_finite()) {
        preferred
    } else {
        start.map_or(preferred, |(_, p)| p)
    };
    // Log heights when the top of the range is far above the lower quartile, as for Rosenbrock, Beale,
    // Himmelblau and the six-hump camel (ratios 62, 4000, 13, 26 on their domains) and not for bowls
    // (7) or Rastrigin (4): (max - min) > 10 (q25 - min) on the validation grid.
    finite.sort_by(f64::total_cmp);
    let at = |k: usize| finite.get(k).copied().unwrap_or(0.0);
    let (min, q25, max) = (
        at(0),
        at(finite.len() / 4),
        at(finite.len().saturating_sub(1)),
    );
    let log_height = max - min > 10.0 * (q25 - min) && max > min;
    Ok((
        FormulaSurface {
            formula,
            log_height,
        },
        domain,
        start,
    ))
}

impl FormulaSurface {
    /// Loss and exact gradient.
    #[inline]
    pub(super) fn value_and_gradient(&self, p: Vec2d) -> (f64, Vec2d) {
        self.formula.value_grad(p[0], p[1])
    }

    /// Exact Hessian.
    #[inline]
    pub(super) fn hessian(&self, p: Vec2d) -> [[f64; 2]; 2] {
        self.formula.value_grad_hessian(p[0], p[1]).2
    }
}
