//! The command line for networks: `trace --network|--data ...` (a training run of every weight, with each
//! step's loss, accuracy and place relative to a plane) and `slice` (the loss over a plane).
//!
//! As everywhere on the command line, everything is checked (and every output file opened) before
//! anything runs: bad input is one `error:` line and exit 2, never a partial file.

use clap::Args;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use super::landscape::LandscapeArgs;
use super::trace::{OutputFormat, RunArgs, TraceArgs, exact as num};
use super::{EXIT_FAILURE, usage_error};
use crate::core::network::{Network, Plane, SliceSpec};
use crate::core::{CoreError, GradientNoise, Params, RunConfig, RunStatus, Runner};

/// Which plane a network trace reports `alpha, beta, distance` against.
#[derive(Clone, Debug)]
pub enum PlaneChoice {
    /// The start plane: filter-normalized random directions around the initial weights.
    Random,
    /// The principal components of the run's own trajectory.
    Pca,
    /// A plane file (JSON).
    File(Box<Plane>),
}

/// Reads `--plane`: `random`, `pca` or a JSON plane file (checked against `params`).
pub fn parse_plane(text: &str, params: usize) -> Result<PlaneChoice, String> {
    match text {
        "random" => Ok(PlaneChoice::Random),
        "pca" => Ok(PlaneChoice::Pca),
        path => read_plane(Path::new(path), params).map(|p| PlaneChoice::File(Box::new(p))),
    }
}

/// A plane file, checked against a network of `params` parameters.
pub fn read_plane(path: &Path, params: usize) -> Result<Plane, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "--plane '{}' is neither random, pca nor a readable plane file: {e}",
            path.display()
        )
    })?;
    let plane = Plane::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    plane
        .check_params(params)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(plane)
}

/// The network and the run the flags describe: the network from the landscape flags (its initial
/// weights from the run's `--seed` unless `--init-seed`), the run from `θ₀ + α d1 + β d2` of its start
/// plane for `--start α,β` (default the initial weights), with the hyperparameters, mini-batch `--batch`
/// and noise. Newton's methods are refused with the reason.
pub fn parse_network_run(
    args: &RunArgs,
) -> Result<(Arc<Network>, RunConfig<Vec<f64>>, Vec<String>), String> {
    let Some(spec) = args.landscape.network_spec(args.seed)? else {
        return Err("a network needs --network DATASET or --data FILE.csv".to_owned());
    };
    let (kind, hyper, warnings) = super::trace::hyper_of(args)?;
    hyper.validate().map_err(|e| e.to_string())?;
    let network = Network::new(spec).map_err(|e| e.to_string())?;
    if let Some(batch) = args.batch
        && (batch == 0 || batch > network.data().len())
    {
        return Err(format!(
            "--batch {batch} must be between 1 and the dataset's {} points",
            network.data().len()
        ));
    }
    let start = match &args.start {
        Some(text) => super::trace::parse_point(text)?,
        None => [0.0, 0.0],
    };
    let config = RunConfig {
        kind,
        hyper,
        start: network.start_at(start),
        noise: GradientNoise {
            sigma: args.noise.unwrap_or(0.0),
            batch: args.batch,
        },
        seed: args.seed,
        converge_tol: args.tol,
    };
    config.validate(&network).map_err(|e| e.to_string())?;
    Ok((Arc::new(network), config, warnings))
}

/// One row of a network trace.
struct Row {
    step: u64,
    loss: f64,
    accuracy: f64,
    alpha: f64,
    beta: f64,
    distance: f64,
    /// The mini-batch loss of the step leaving this row (`None`: full batch, or the last row).
    batch_loss: Option<f64>,
    grad_norm: f64,
    /// Loss evaluations so far.
    evals: u64,
}

/// The columns of a network trace.
pub const NETWORK_COLUMNS: [&str; 9] = [
    "step",
    "loss",
    "accuracy",
    "alpha",
    "beta",
    "distance",
    "batch_loss",
    "grad_norm",
    "evals",
];

/// Runs `config` for up to `steps` steps, calling `row` with each step's parameters (step 0 first) and
/// the runner as it stands after that step. Returns the final status.
fn run_each(
    network: &Arc<Network>,
    config: &RunConfig<Vec<f64>>,
    steps: u64,
    mut row: impl FnMut(&Runner<Arc<Network>>) -> io::Result<()>,
) -> Result<io::Result<RunStatus>, CoreError> {
    let mut runner = Runner::new(Arc::clone(network), config.clone())?;
    if let Err(e) = row(&runner) {
        return Ok(Err(e));
    }
    for _ in 0..steps {
        if !runner.advance(None) {
            break;
        }
        if let Err(e) = row(&runner) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(runner.status()))
}

/// The principal-component plane of one run's trajectory (at most 4,096 of its points, evenly spaced,
/// the last always).
fn pca_of_run(
    network: &Arc<Network>,
    config: &RunConfig<Vec<f64>>,
    steps: u64,
) -> Result<Plane, String> {
    let every = (steps / 4096).max(1);
    let mut points: Vec<Vec<f64>> = Vec::new();
    let mut last = None;
    let status = run_each(network, config, steps, |r| {
        if r.steps() % every == 0 {
            points.push(r.position_ref().clone());
            last = None;
        } else {
            last = Some(r.position_ref().clone());
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    let _ = status;
    points.extend(last);
    Plane::pca(&[points]).map_err(|e| format!("--plane pca: {e}"))
}

/// `losscape trace` on a network.
pub fn run_trace(args: &TraceArgs) -> ExitCode {
    let (network, config, warnings) = match parse_network_run(&args.run) {
        Ok(ok) => ok,
        Err(message) => return usage_error(message),
    };
    if args.steps > crate::core::MAX_TRACE_STEPS {
        return usage_error(format!(
            "--steps {} is more than the maximum {}",
            args.steps,
            crate::core::MAX_TRACE_STEPS
        ));
    }
    let n = network.mlp().param_count();
    let choice = match &args.plane {
        Some(text) => match parse_plane(text, n) {
            Ok(choice) => choice,
            Err(e) => return usage_error(e),
        },
        None => PlaneChoice::Random,
    };
    // every output opened before anything runs
    let open = |path: &PathBuf| {
        File::create(path).map_err(|e| format!("cannot write '{}': {e}", path.display()))
    };
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => match open(path) {
            Ok(file) => Box::new(file),
            Err(e) => return usage_error(e),
        },
        None => Box::new(io::stdout().lock()),
    };
    let params_out = match args.params_out.as_ref().map(open).transpose() {
        Ok(file) => file,
        Err(e) => return usage_error(e),
    };
    let plane_out = match args.plane_out.as_ref().map(open).transpose() {
        Ok(file) => file,
        Err(e) => return usage_error(e),
    };
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let plane = match choice {
        PlaneChoice::Random => network.start_plane().clone(),
        PlaneChoice::File(plane) => *plane,
        PlaneChoice::Pca => match pca_of_run(&network, &config, args.steps) {
            Ok(plane) => plane,
            Err(e) => return usage_error(e),
        },
    };
    if let Some(mut file) = plane_out {
        let written = file
            .write_all(plane.to_json().as_bytes())
            .and_then(|()| file.flush());
        if let Err(e) = written {
            eprintln!("error: writing the plane file failed: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    let mut out = BufWriter::new(sink);
    let mut params = params_out.map(BufWriter::new);
    let written = write_rows(&mut out, params.as_mut(), &network, &config, args, &plane);
    let status = written.and_then(|status| {
        out.flush()?;
        if let Some(p) = params.as_mut() {
            p.flush()?;
        }
        Ok(status)
    });
    match status {
        Ok(RunStatus::Running) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("{status}");
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing the trace failed: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Streams the rows (CSV, or JSON with the settings first) and the parameters; returns the status.
fn write_rows(
    out: &mut impl Write,
    mut params: Option<&mut BufWriter<File>>,
    network: &Arc<Network>,
    config: &RunConfig<Vec<f64>>,
    args: &TraceArgs,
    plane: &Plane,
) -> io::Result<RunStatus> {
    let n = network.mlp().param_count();
    if let Some(p) = params.as_mut() {
        write!(p, "step")?;
        for i in 0..n {
            write!(p, ",p{i}")?;
        }
        writeln!(p)?;
    }
    let json = args.format == OutputFormat::Json;
    if json {
        writeln!(out, "{{")?;
        writeln!(out, "  \"network\": {:?},", network.describe())?;
        writeln!(out, "  \"parameters\": {n},")?;
        writeln!(out, "  \"optimizer\": {:?},", config.kind.name())?;
        writeln!(out, "  \"plane\": {:?},", plane.kind.name())?;
        writeln!(out, "  \"columns\": {:?},", NETWORK_COLUMNS)?;
        writeln!(out, "  \"rows\": [")?;
    } else {
        writeln!(out, "{}", NETWORK_COLUMNS.join(","))?;
    }
    // a row is written once the step leaving it is known (its mini-batch loss)
    let mut pending: Option<Row> = None;
    let mut first = true;
    let mut emit = |out: &mut dyn Write, row: &Row| -> io::Result<()> {
        let cells = [
            row.step.to_string(),
            num(row.loss),
            num(row.accuracy),
            num(row.alpha),
            num(row.beta),
            num(row.distance),
            row.batch_loss.map(num).unwrap_or_default(),
            num(row.grad_norm),
            row.evals.to_string(),
        ];
        if json {
            let cells: Vec<String> = cells
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        "null".to_owned()
                    } else {
                        c.clone()
                    }
                })
                .collect();
            let comma = if first { "" } else { ",\n" };
            write!(out, "{comma}    [{}]", cells.join(", "))?;
        } else {
            writeln!(out, "{}", cells.join(","))?;
        }
        first = false;
        Ok(())
    };
    let status = run_each(network, config, args.steps, |r| {
        if let Some(mut row) = pending.take() {
            row.batch_loss = r.batch_loss();
            emit(out, &row)?;
        }
        let theta = r.position_ref();
        let at = plane.project(theta);
        pending = Some(Row {
            step: r.steps(),
            loss: r.loss(),
            accuracy: r.accuracy().unwrap_or(f64::NAN),
            alpha: at.alpha,
            beta: at.beta,
            distance: at.distance,
            batch_loss: None,
            grad_norm: r.gradient().norm(),
            evals: r.evals(),
        });
        if let Some(p) = params.as_mut() {
            write!(p, "{}", r.steps())?;
            for v in theta {
                write!(p, ",{}", num(*v))?;
            }
            writeln!(p)?;
        }
        Ok(())
    })
    .map_err(io::Error::other)??;
    if let Some(row) = pending.take() {
        emit(out, &row)?;
    }
    if json {
        writeln!(out)?;
        writeln!(out, "  ],")?;
        writeln!(out, "  \"status\": {:?}", status.to_string())?;
        writeln!(out, "}}")?;
    }
    Ok(status)
}

/// Arguments of `losscape slice`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Write a network's loss over a plane of its parameter space as alpha,beta,loss rows (CSV)",
    long_about = "Write a network's loss over a plane of its parameter space as CSV rows alpha,beta,loss.\n\n\
                  The network is given as to `trace` (--network DATASET or --data FILE.csv, --hidden, \
                  --activation ...); the plane is a JSON file as `trace --plane-out` writes it \
                  ({\"center\": [...], \"d1\": [...], \"d2\": [...]}, optionally \"alpha\": [min, max] and \
                  \"beta\": [min, max], which default to [-1, 1]). The grid has G x G points spanning \
                  the plane's alpha and beta ranges, ends included, alpha changing fastest; each loss is \
                  the mean cross-entropy over all the data at center + alpha d1 + beta d2, computed on \
                  all cores."
)]
pub struct SliceArgs {
    /// The network.
    #[command(flatten)]
    pub landscape: LandscapeArgs,
    /// The plane: a JSON plane file.
    #[arg(long, value_name = "FILE.json")]
    pub plane: PathBuf,
    /// Grid points per side G, 2 ..= 1024.
    #[arg(long, value_name = "G", default_value_t = crate::core::network::DEFAULT_SLICE_GRID)]
    pub grid: usize,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `losscape slice`.
pub fn run_slice(args: &SliceArgs) -> ExitCode {
    let spec = match args.landscape.network_spec(0) {
        Ok(Some(spec)) => spec,
        Ok(None) => {
            return usage_error("slice needs a network: --network DATASET or --data FILE.csv");
        }
        Err(e) => return usage_error(e),
    };
    if args.landscape.surface.is_some() || args.landscape.formula.is_some() {
        return usage_error("slice takes a network, not --surface or --formula");
    }
    let network = match Network::new(spec) {
        Ok(network) => network,
        Err(e) => return usage_error(e),
    };
    let plane = match read_plane(&args.plane, network.mlp().param_count()) {
        Ok(plane) => plane,
        Err(e) => return usage_error(e),
    };
    let spec = SliceSpec {
        plane: Arc::new(plane),
        grid: args.grid,
        previews: false,
    };
    if let Err(e) = spec.validate() {
        return usage_error(e);
    }
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => match File::create(path) {
            Ok(file) => Box::new(file),
            Err(e) => return usage_error(format!("cannot write '{}': {e}", path.display())),
        },
        None => Box::new(io::stdout().lock()),
    };
    let grid = match spec.compute(&|theta: &[f64]| network.loss(theta)) {
        Ok(grid) => grid,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if grid.undefined > 0 {
        eprintln!(
            "warning: the loss is not finite at {} of {} grid points (written as NaN)",
            grid.undefined,
            grid.size * grid.size
        );
    }
    let mut out = BufWriter::new(sink);
    match grid.write_csv(&mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing the slice failed: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
