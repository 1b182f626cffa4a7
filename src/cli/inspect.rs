//! `losscape inspect`: the curvature at a point ([`crate::core::curvature`]): loss, gradient, exact
//! Hessian, its eigenvalues and directions, the kind of point, and plain gradient descent's learning-rate
//! limit `2/λ_max`; as text for people or JSON for programs.

use clap::{Args, ValueEnum};
use std::process::ExitCode;

use super::landscape::LandscapeArgs;
use super::usage_error;
use crate::core::curvature::Curvature;
use crate::core::number::num;
use crate::core::{DIVERGENCE_BOUND, Landscape, Vec2d};

/// Output format of `inspect`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    /// Lines for people.
    #[default]
    Text,
    /// `{"x", "y", "loss", "grad", "hessian", "eigenvalues", "eigenvectors", "kind", "lr_limit_gd"}`.
    Json,
}

/// Arguments of `losscape inspect`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Print the loss, gradient, Hessian and curvature at a point",
    long_about = "Print the loss, gradient, Hessian and curvature at a point.\n\n\
                  JSON: {\"x\", \"y\", \"loss\", \"grad\": [gx, gy], \"hessian\": [[hxx, hxy], [hxy, hyy]], \
                  \"eigenvalues\": [l1, l2] (ascending), \"eigenvectors\": [[v1x, v1y], [v2x, v2y]] (unit, \
                  same order), \"kind\": \"minimum\" | \"maximum\" | \"saddle\" | \"flat\", \"lr_limit_gd\": \
                  2/l2, or null when l2 <= 0}. The Hessian is exact (no finite differences)."
)]
pub struct InspectArgs {
    /// The landscape: --surface NAME or --formula EXPR [--domain ...].
    #[command(flatten)]
    pub landscape: LandscapeArgs,
    /// The point "X,Y" (param space).
    #[arg(long, value_name = "X,Y", required = true, allow_hyphen_values = true)]
    pub at: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
    pub format: InspectFormat,
}

/// What `inspect` reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Inspection {
    /// Loss there.
    pub loss: f64,
    /// Exact gradient.
    pub grad: Vec2d,
    /// The curvature.
    pub curvature: Curvature,
}

impl Inspection {
    /// `2 / λ_max` when the surface curves up somewhere here.
    pub fn lr_limit_gd(&self) -> Option<f64> {
        let l = self.curvature.lambda[1];
        (l > 0.0).then(|| 2.0 / l)
    }
}

/// The landscape and the point, or the one-line reason they are refused.
pub fn parse_inspect(args: &InspectArgs) -> Result<(Landscape, Vec2d), String> {
    let landscape = args.landscape.build()?;
    let bad = || {
        format!(
            "--at '{}' must be two numbers X,Y (e.g. --at=-1.5,2)",
            args.at
        )
    };
    let (x, y) = args.at.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !(x.is_finite()
        && y.is_finite()
        && x.abs() <= DIVERGENCE_BOUND
        && y.abs() <= DIVERGENCE_BOUND)
    {
        return Err(format!(
            "--at ({}, {}) must be finite and within +-1e6",
            num(x),
            num(y)
        ));
    }
    Ok((landscape, [x, y]))
}

/// The inspection at `p`, or why there is none (the loss, gradient or Hessian is not finite there).
pub fn inspect(landscape: &Landscape, p: Vec2d) -> Result<Inspection, String> {
    let (loss, grad) = landscape.value_and_gradient(p);
    let curvature = Curvature::at(landscape, p)
        .filter(|_| loss.is_finite() && grad.iter().all(|g| g.is_finite()));
    let Some(curvature) = curvature else {
        return Err(format!(
            "the {} landscape is not defined (or not twice differentiable) at ({}, {})",
            landscape.name(),
            num(p[0]),
            num(p[1])
        ));
    };
    Ok(Inspection {
        loss,
        grad,
        curvature,
    })
}

/// A JSON number that reads back as the same f64 (always with a `.` or an exponent, so a reader sees
/// a float), `null` if not finite.
fn json_num(value: f64) -> String {
    if value.is_finite() {
        format!("{value:?}")
    } else {
        "null".to_owned()
    }
}

/// The JSON object, on one line.
pub fn to_json(i: &Inspection) -> String {
    let num = json_num;
    let c = &i.curvature;
    let v = |v: Vec2d| format!("[{}, {}]", num(v[0]), num(v[1]));
    format!(
        "{{\"x\": {}, \"y\": {}, \"loss\": {}, \"grad\": {}, \"hessian\": [{}, {}], \"eigenvalues\": {}, \
         \"eigenvectors\": [{}, {}], \"kind\": \"{}\", \"lr_limit_gd\": {}}}",
        num(c.at[0]),
        num(c.at[1]),
        num(i.loss),
        v(i.grad),
        v(c.hessian[0]),
        v(c.hessian[1]),
        v(c.lambda),
        v(c.v[0]),
        v(c.v[1]),
        c.kind.name(),
        i.lr_limit_gd().map_or("null".to_owned(), num)
    )
}

/// Lines for people.
pub fn to_text(i: &Inspection) -> String {
    let c = &i.curvature;
    let h = &c.hessian;
    format!(
        "at ({}, {}): loss {}\ngradient ({}, {})\nHessian [[{}, {}], [{}, {}]]\n{}\n\
         gradient descent is stable for η < 2/λ_max = {}\n",
        num(c.at[0]),
        num(c.at[1]),
        num(i.loss),
        num(i.grad[0]),
        num(i.grad[1]),
        num(h[0][0]),
        num(h[0][1]),
        num(h[1][0]),
        num(h[1][1]),
        c.text(),
        i.lr_limit_gd()
            .map_or("∞ (nothing curves up here)".to_owned(), num)
    )
}

/// `losscape inspect`.
pub fn run(args: &InspectArgs) -> ExitCode {
    let inspection = parse_inspect(args).and_then(|(landscape, p)| inspect(&landscape, p));
    match inspection {
        Ok(i) => {
            match args.format {
                InspectFormat::Json => println!("{}", to_json(&i)),
                InspectFormat::Text => print!("{}", to_text(&i)),
            }
            ExitCode::SUCCESS
        }
        Err(message) => usage_error(message.lines().next().unwrap_or_default()),
    }
}
