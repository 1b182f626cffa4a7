//! The landscape-selection flags every command shares: `--surface NAME` (a built-in or a RON spec), or
//! `--formula EXPR` with an optional `--domain XMIN,XMAX,YMIN,YMAX`. Flatten [`LandscapeArgs`] into a
//! command's arguments (`#[command(flatten)] landscape: LandscapeArgs`); clap refuses both at once. A
//! command that needs a landscape calls [`LandscapeArgs::build`] (or [`LandscapeArgs::spec`]), one where
//! it is optional (the app, `render` over a scene) calls [`LandscapeArgs::spec_if_given`].

use clap::Args;

use crate::core::{CoreError, DEFAULT_FORMULA_DOMAIN, Domain, Landscape, LandscapeSpec};

/// Which landscape: a built-in one or a typed formula (exactly one of the two).
#[derive(Debug, Clone, Default, PartialEq, Args)]
#[command(group(
    clap::ArgGroup::new("landscape_choice")
        .multiple(false)
        .args(["surface", "formula"])
))]
pub struct LandscapeArgs {
    /// Landscape: bowl, saddle, saddle-valleys, monkey-saddle, rosenbrock, beale, himmelblau,
    /// rastrigin, ackley, six-hump-camel, plateau, terrain, regression; or a RON spec such as
    /// "Bowl(kappa: 4.0, rotation_deg: 30.0)".
    #[arg(long, value_name = "NAME")]
    pub surface: Option<String>,
    /// Your own landscape as a formula in x and y, e.g. "0.5*x^2 + 2*y^2 + 0.3*sin(3*x)*cos(2*y)", with
    /// the operators + - * / ^ (or **), parentheses, the functions sin cos tan asin acos atan sinh cosh
    /// tanh exp log ln sqrt abs min max pow and the constants pi, e (see `losscape list`).
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub formula: Option<String>,
    /// The formula's domain "XMIN,XMAX,YMIN,YMAX" [default: -3,3,-3,3].
    #[arg(
        long,
        value_name = "XMIN,XMAX,YMIN,YMAX",
        requires = "formula",
        allow_hyphen_values = true
    )]
    pub domain: Option<String>,
}

impl LandscapeArgs {
    /// The spec the flags name, `None` when neither `--surface` nor `--formula` was given (nor
    /// `--domain`), or the reason they are refused.
    pub fn spec_if_given(&self) -> Result<Option<LandscapeSpec>, String> {
        if self.surface.is_none() && self.formula.is_none() && self.domain.is_none() {
            Ok(None)
        } else {
            self.spec().map(Some)
        }
    }

    /// The spec the flags name, or the one-line reason they are refused (also when none is given).
    pub fn spec(&self) -> Result<LandscapeSpec, String> {
        match (&self.surface, &self.formula) {
            (Some(_), Some(_)) => Err("give --surface or --formula, not both".to_owned()),
            (Some(_), None) if self.domain.is_some() => {
                Err("--domain is for --formula; a built-in landscape has its own domain".to_owned())
            }
            (Some(text), None) => parse_surface(text),
            (None, Some(expr)) => {
                let domain = match &self.domain {
                    Some(text) => parse_domain(text)?,
                    None => DEFAULT_FORMULA_DOMAIN,
                };
                Ok(LandscapeSpec::formula(expr.clone(), domain))
            }
            (None, None) if self.domain.is_some() => {
                Err("--domain is for --formula EXPR; give the formula too".to_owned())
            }
            (None, None) => Err(
                "choose a landscape: --surface NAME (see `losscape list`) or --formula EXPR"
                    .to_owned(),
            ),
        }
    }

    /// The landscape the flags name, or the message to print after `error: ` (for a formula with a
    /// mistake: the message, then the formula with a caret line under the problem).
    pub fn build(&self) -> Result<Landscape, String> {
        Landscape::new(self.spec()?).map_err(|err| describe(&err))
    }
}

/// A core error as the command line prints it: one line, plus the formula and a caret line under the
/// column when a formula could not be read.
pub fn describe(err: &CoreError) -> String {
    err.with_caret("  ")
}

/// A landscape name, or a RON [`LandscapeSpec`] (anything containing `(`).
pub fn parse_surface(text: &str) -> Result<LandscapeSpec, String> {
    let text = text.trim();
    if text.contains('(') {
        ron::from_str::<LandscapeSpec>(text)
            .map_err(|e| format!("cannot read landscape spec '{text}': {e}"))
    } else {
        LandscapeSpec::from_name(text).map_err(|e| e.to_string())
    }
}

/// `"XMIN,XMAX,YMIN,YMAX"` to a domain; the ranges are checked when the landscape is built.
pub fn parse_domain(text: &str) -> Result<Domain, String> {
    let bad = || {
        format!(
            "--domain '{text}' must be four numbers XMIN,XMAX,YMIN,YMAX (e.g. --domain=-3,3,-2,2)"
        )
    };
    let numbers: Vec<f64> = text
        .split(',')
        .map(|n| n.trim().parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [x0, x1, y0, y1] = numbers[..] else {
        return Err(bad());
    };
    Ok(Domain {
        x: [x0, x1],
        y: [y0, y1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_and_required_landscapes() {
        let none = LandscapeArgs::default();
        assert_eq!(none.spec_if_given(), Ok(None));
        assert!(none.spec().unwrap_err().contains("--formula"));
        let typed = LandscapeArgs {
            formula: Some("x^2".into()),
            domain: Some("-1, 1, -2, 2".into()),
            ..LandscapeArgs::default()
        };
        assert_eq!(
            typed.spec_if_given(),
            Ok(Some(LandscapeSpec::Formula {
                expr: "x^2".into(),
                x: (-1.0, 1.0),
                y: (-2.0, 2.0)
            }))
        );
        let built_in = LandscapeArgs {
            surface: Some("beale".into()),
            ..LandscapeArgs::default()
        };
        assert_eq!(built_in.build().unwrap().name(), "beale");
        let bad = LandscapeArgs {
            formula: Some("sin(x".into()),
            ..LandscapeArgs::default()
        };
        assert_eq!(
            bad.build().unwrap_err(),
            "invalid formula: unclosed '(' at column 4\n  sin(x\n     ^"
        );
        let stray = LandscapeArgs {
            domain: Some("0,1,0,1".into()),
            ..LandscapeArgs::default()
        };
        assert!(stray.spec_if_given().is_err());
    }
}
