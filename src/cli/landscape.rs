//! The landscape-selection flags every command shares: `--surface NAME` (a built-in or a RON spec),
//! `--formula EXPR` with an optional `--domain XMIN,XMAX,YMIN,YMAX`, or a network: `--network DATASET` or
//! `--data FILE.csv` with `--hidden`, `--activation` and the data's and weights' seeds. Flatten [`LandscapeArgs`] into a
//! command's arguments (`#[command(flatten)] landscape: LandscapeArgs`); clap refuses both at once. A
//! command that needs a landscape calls [`LandscapeArgs::build`] (or [`LandscapeArgs::spec`]), one where
//! it is optional (the app, `render` over a scene) calls [`LandscapeArgs::spec_if_given`].

use clap::Args;
use std::path::PathBuf;

use crate::core::network::{Activation, Builtin, DataSpec, NetworkSpec};
use crate::core::{CoreError, DEFAULT_FORMULA_DOMAIN, Domain, Landscape, LandscapeSpec};

/// Which landscape: a built-in one, a typed formula or a network (exactly one).
#[derive(Debug, Clone, Default, PartialEq, Args)]
#[command(group(
    clap::ArgGroup::new("landscape_choice")
        .multiple(false)
        .args(["surface", "formula", "network", "data"])
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
    /// A network (a multilayer perceptron) on a built-in dataset: moons, circles, spirals, xor.
    #[arg(long, value_name = "DATASET")]
    pub network: Option<String>,
    /// A network on your own data: a CSV file of feature columns, then an integer class label >= 0 in
    /// the last column (a header row is optional).
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    /// The network's hidden layers, e.g. "16,16" [default: 16,16].
    #[arg(long, value_name = "H1,H2,...")]
    pub hidden: Option<String>,
    /// The hidden layers' activation: tanh or relu [default: tanh].
    #[arg(long, value_name = "NAME")]
    pub activation: Option<String>,
    /// Points of a built-in dataset [default: 200].
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Standard deviation of a built-in dataset's jitter [default: 0.1].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub data_noise: Option<f64>,
    /// Seed of a built-in dataset's points [default: 0].
    #[arg(long, value_name = "S")]
    pub data_seed: Option<u64>,
    /// Seed of the network's initial weights (Glorot/Xavier uniform for tanh, He uniform for relu;
    /// biases 0) [default: the run's --seed].
    #[arg(long, value_name = "S")]
    pub init_seed: Option<u64>,
    /// Seed of the start plane's random directions (the plane --start X,Y is on) [default: the
    /// initial weights' seed + 1].
    #[arg(long, value_name = "S")]
    pub plane_seed: Option<u64>,
}

impl LandscapeArgs {
    /// Whether a network was asked for (`--network` or `--data`).
    pub fn is_network(&self) -> bool {
        self.network.is_some() || self.data.is_some()
    }

    /// The network the flags name, its initial weights drawn from `run_seed` unless `--init-seed` says
    /// otherwise; `None` when no network was asked for; the reason when the flags are refused.
    pub fn network_spec(&self, run_seed: u64) -> Result<Option<NetworkSpec>, String> {
        let network_only = [
            (self.hidden.is_some(), "--hidden"),
            (self.activation.is_some(), "--activation"),
            (self.samples.is_some(), "--samples"),
            (self.data_noise.is_some(), "--data-noise"),
            (self.data_seed.is_some(), "--data-seed"),
            (self.init_seed.is_some(), "--init-seed"),
            (self.plane_seed.is_some(), "--plane-seed"),
        ];
        if !self.is_network() {
            return match network_only.iter().find(|(given, _)| *given) {
                Some((_, flag)) => Err(format!(
                    "{flag} is for a network: give --network DATASET or --data FILE.csv too"
                )),
                None => Ok(None),
            };
        }
        let data = match (&self.network, &self.data) {
            (Some(name), None) => {
                let kind = Builtin::from_name(name).map_err(|e| e.to_string())?;
                let mut spec = DataSpec::builtin(kind);
                if let DataSpec::Builtin {
                    size, noise, seed, ..
                } = &mut spec
                {
                    *size = self.samples.unwrap_or(*size);
                    *noise = self.data_noise.unwrap_or(*noise);
                    *seed = self.data_seed.unwrap_or(*seed);
                }
                spec
            }
            (None, Some(path)) => {
                for (given, flag) in [
                    (self.samples.is_some(), "--samples"),
                    (self.data_noise.is_some(), "--data-noise"),
                    (self.data_seed.is_some(), "--data-seed"),
                ] {
                    if given {
                        return Err(format!(
                            "{flag} is for a built-in dataset (--network), not a data file"
                        ));
                    }
                }
                DataSpec::Csv { path: path.clone() }
            }
            _ => return Err("give --network DATASET or --data FILE.csv, not both".to_owned()),
        };
        let hidden = match &self.hidden {
            Some(text) => parse_hidden(text)?,
            None => vec![16, 16],
        };
        let activation = match &self.activation {
            Some(name) => Activation::from_name(name)?,
            None => Activation::default(),
        };
        let init_seed = self.init_seed.unwrap_or(run_seed);
        Ok(Some(NetworkSpec {
            data,
            hidden,
            activation,
            init_seed,
            plane_seed: self.plane_seed.unwrap_or(init_seed.wrapping_add(1)),
        }))
    }

    /// The spec the flags name, `None` when neither `--surface` nor `--formula` was given (nor
    /// `--domain`), or the reason they are refused.
    pub fn spec_if_given(&self) -> Result<Option<LandscapeSpec>, String> {
        if self.surface.is_none()
            && self.formula.is_none()
            && self.domain.is_none()
            && self.network_spec(0)?.is_none()
        {
            Ok(None)
        } else {
            self.spec().map(Some)
        }
    }

    /// The spec the flags name, or the one-line reason they are refused (also when none is given). A
    /// network's initial weights come from seed 0 unless `--init-seed` is given (see
    /// [`Self::network_spec`] for the run's seed).
    pub fn spec(&self) -> Result<LandscapeSpec, String> {
        if let Some(network) = self.network_spec(0)? {
            return Ok(LandscapeSpec::Network(network));
        }
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
                "choose a landscape: --surface NAME (see `losscape list`), --formula EXPR, or a \
                 network: --network DATASET or --data FILE.csv"
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

/// `"16,16"` to hidden layer sizes: whole numbers >= 1 (the network's size limit is checked when it
/// is built).
pub fn parse_hidden(text: &str) -> Result<Vec<usize>, String> {
    let sizes: Vec<usize> = text
        .split(',')
        .map(|n| {
            let n = n.trim();
            match n.parse::<usize>() {
                Ok(0) => Err(format!(
                    "--hidden '{text}': a hidden layer of 0 units has nothing to learn with; each \
                     needs at least 1"
                )),
                Ok(v) => Ok(v),
                Err(_) => Err(format!(
                    "--hidden '{text}': '{n}' is not a whole number of units (e.g. --hidden 16,16)"
                )),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(sizes)
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
