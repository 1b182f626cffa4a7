//! `losscape compare`: a scene's optimizers run headless, scored, and the scoreboard printed as an aligned
//! table or written as CSV. The figures are the app's ([`crate::core::scoreboard`]).
//!
//! As with `trace`, everything is validated (and the output file opened) before anything runs: bad input
//! gives one `error:` line and exit 2, never a partial file.

use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::{EXIT_FAILURE, usage_error};
use crate::core::claims::{ClaimReport, check_scene};
use crate::core::scene::Scene;
use crate::core::{
    MAX_TRACE_STEPS, ScoreColumn, ScoreSettings, Scoreboard, SortOrder, lessons, score_scene,
};

/// Output format of `compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// Aligned columns for a terminal (the default on stdout).
    Text,
    /// `optimizer,kind,steps,steps_to_target,final_loss,path_length,saddle_steps,diverged,diverged_at,
    /// accuracy,evals` (the default with --out).
    Csv,
}

/// Arguments of `losscape compare`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Run a scene's optimizers headless and print the scoreboard (or write it as CSV)",
    long_about = "Run a scene's optimizers headless and print the scoreboard (or write it as CSV).\n\n\
                  Columns: steps taken; loss evaluations (one a step, or one per trial step of a line \
                  search); steps to the target (within --loss-tol of the lowest known \
                  minimum's loss, or within --radius of a known minimum); final loss; path length in \
                  the (x, y) plane; saddle steps (|grad L| < --saddle-grad where the Hessian is \
                  indefinite); the step at which a run diverged. Each run stops early when it \
                  converges (|grad L| < --tol) or diverges, as in `trace`.\n\n\
                  --check also checks the scene's claims (the statements its description makes, \
                  each with its own step budget and, for noisy runs, over several seeds): one line \
                  per claim, and exit status 1 when any is false."
)]
pub struct CompareArgs {
    /// A built-in lesson (see `losscape list`).
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "scene",
        required_unless_present = "scene"
    )]
    pub preset: Option<String>,
    /// A scene file (RON).
    #[arg(long, value_name = "FILE")]
    pub scene: Option<PathBuf>,
    /// Number of steps per optimizer, at most 10000000.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 500,
        allow_hyphen_values = true
    )]
    pub steps: u64,
    /// A run has converged when |grad L| falls below this (exact gradients only).
    #[arg(
        long,
        value_name = "F",
        default_value_t = crate::core::DEFAULT_CONVERGE_TOL,
        allow_hyphen_values = true
    )]
    pub tol: f64,
    /// Target: loss at most this above the lowest known minimum's loss [default: 1e-3].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub loss_tol: Option<f64>,
    /// Target: within this distance of a known minimum [default: 1% of the domain's diagonal].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub radius: Option<f64>,
    /// Saddle steps: gradient norm below this where the Hessian is indefinite [default: 0.1].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub saddle_grad: Option<f64>,
    /// Target on a network: the accuracy over all its data, 0 to 1 [default: 0.95].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub accuracy_target: Option<f64>,
    /// Sort the rows by this column [default: the scene's order].
    #[arg(long, value_name = "COLUMN", value_parser = PossibleValuesParser::new(ScoreColumn::NAMES))]
    pub sort: Option<String>,
    /// Sort largest first.
    #[arg(long, requires = "sort")]
    pub descending: bool,
    /// Output format [default: text on stdout, csv with --out].
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also check the scene's claims (the statements its description makes), each at its own step
    /// budget; exit 1 naming each false one.
    #[arg(long)]
    pub check: bool,
}

/// A validated `compare` request.
#[derive(Clone, Debug)]
pub struct CompareRequest {
    /// The scene.
    pub scene: Scene,
    /// Steps per optimizer.
    pub steps: u64,
    /// Convergence tolerance on the gradient norm.
    pub tol: f64,
    /// The scoreboard's definitions.
    pub settings: ScoreSettings,
    /// Sort column and order.
    pub sort: Option<(ScoreColumn, SortOrder)>,
    /// Output format.
    pub format: TableFormat,
    /// Check the scene's claims too.
    pub check: bool,
}

/// Turns arguments into a request, or the one-line reason they are refused.
pub fn parse_request(args: &CompareArgs) -> Result<CompareRequest, String> {
    let scene = match (&args.preset, &args.scene) {
        (Some(name), None) => lessons::preset(name).map_err(|e| e.to_string())?,
        (None, Some(path)) => Scene::read_file(path)?,
        _ => return Err("give exactly one of --preset NAME or --scene FILE".into()),
    };
    if args.steps > MAX_TRACE_STEPS {
        return Err(format!(
            "--steps {} is more than the maximum {MAX_TRACE_STEPS}",
            args.steps
        ));
    }
    if !(args.tol.is_finite() && args.tol >= 0.0) {
        return Err(format!(
            "--tol must be a finite number >= 0, got {}",
            args.tol
        ));
    }
    let defaults = ScoreSettings::default();
    let settings = ScoreSettings {
        loss_tol: args.loss_tol.unwrap_or(defaults.loss_tol),
        radius: args.radius.or(defaults.radius),
        saddle_grad: args.saddle_grad.unwrap_or(defaults.saddle_grad),
        accuracy_target: args.accuracy_target.unwrap_or(defaults.accuracy_target),
    };
    settings.validate()?;
    let sort = match &args.sort {
        Some(name) => {
            let column = ScoreColumn::from_name(name).ok_or_else(|| {
                format!(
                    "unknown column '{name}' (valid: {})",
                    ScoreColumn::NAMES.join(", ")
                )
            })?;
            let order = if args.descending {
                SortOrder::Descending
            } else {
                SortOrder::Ascending
            };
            Some((column, order))
        }
        None => None,
    };
    let format = args.format.unwrap_or(if args.out.is_some() {
        TableFormat::Csv
    } else {
        TableFormat::Text
    });
    Ok(CompareRequest {
        scene,
        steps: args.steps,
        tol: args.tol,
        settings,
        sort,
        format,
        check: args.check,
    })
}

/// The scoreboard of a request, sorted as asked.
pub fn scoreboard(request: &CompareRequest) -> Result<Scoreboard, String> {
    let mut board = score_scene(
        &request.scene,
        request.steps,
        &request.settings,
        Some(request.tol),
    )
    .map_err(|e| e.to_string())?;
    if let Some((column, order)) = request.sort {
        board.sort(column, order);
    }
    Ok(board)
}

/// The claims report: a heading, then one line per claim (`true:` or `FALSE:`, what it says, the check
/// and the figures that decided it), and a last line counting the false ones.
pub fn claims_text(reports: &[ClaimReport]) -> String {
    if reports.is_empty() {
        return "claims: this scene makes none\n".to_owned();
    }
    let mut text = format!("claims ({}):\n", reports.len());
    for report in reports {
        text.push_str(&format!("  {report}\n"));
    }
    let false_ones = reports.iter().filter(|r| !r.holds).count();
    if false_ones > 0 {
        text.push_str(&format!(
            "{false_ones} of {} claims are false\n",
            reports.len()
        ));
    }
    text
}

/// `losscape compare`.
pub fn run(args: &CompareArgs) -> ExitCode {
    let request = match parse_request(args) {
        Ok(request) => request,
        Err(message) => return usage_error(message),
    };
    // Open the output before computing, so that an unwritable path is refused up front.
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => match File::create(path) {
            Ok(file) => Box::new(file),
            Err(err) => {
                return usage_error(format_args!("cannot write '{}': {err}", path.display()));
            }
        },
        None => Box::new(io::stdout().lock()),
    };
    let board = match scoreboard(&request) {
        Ok(board) => board,
        Err(message) => return usage_error(message),
    };
    let claims = if request.check {
        match check_scene(&request.scene, &request.settings) {
            Ok(reports) => Some(reports),
            Err(e) => return usage_error(e),
        }
    } else {
        None
    };
    let mut out = BufWriter::new(sink);
    let written = match request.format {
        TableFormat::Csv => board.write_csv(&mut out),
        TableFormat::Text => out.write_all(board.to_text().as_bytes()),
    }
    .and_then(|()| out.flush());
    let mut code = ExitCode::SUCCESS;
    if let Some(reports) = &claims {
        let text = claims_text(reports);
        // after a text table on stdout; beside CSV or a file, on stderr
        if request.format == TableFormat::Text && args.out.is_none() {
            print!("\n{text}");
        } else {
            eprint!("{text}");
        }
        if reports.iter().any(|r| !r.holds) {
            code = ExitCode::from(EXIT_FAILURE);
        }
    }
    match written {
        Ok(()) => code,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            let target = args
                .out
                .as_ref()
                .map_or("stdout".to_owned(), |p| format!("'{}'", p.display()));
            eprintln!("error: writing {target} failed: {err}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
