//! `losscape trace`: one optimizer on one landscape, headless; the trajectory as CSV or JSON.
//!
//! Everything is validated before anything is computed or written (and the output file is opened
//! before the run), so bad input gives one `error:` line and exit 2 and never a partial file. A run
//! that diverges is not an error: its trajectory ends at the last finite point, stderr says
//! `diverged at step K: REASON`, exit 0.

use clap::{Args, ValueEnum};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::landscape::{LandscapeArgs, describe};
use super::{EXIT_FAILURE, usage_error};
use crate::core::{
    Convention, CoreError, GradientNoise, Hyperparams, Landscape, LandscapeSpec, MAX_TRACE_STEPS,
    OptimizerKind, RunConfig, RunStatus, StepRecord, Vec2d, trace_each,
};

/// Output format of `trace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// `step,x,y,loss,grad_x,grad_y,evals`, one row per step, step 0 the start.
    Csv,
    /// One object: the settings, the final status and the rows.
    Json,
}

/// Arguments of `losscape trace`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Run one optimizer on one landscape and write its trajectory (CSV or JSON)",
    long_about = "Run one optimizer on one landscape and write its trajectory (CSV or JSON).\n\n\
                  The landscape is a built-in one (--surface NAME) or your own formula (--formula EXPR, \
                  e.g. --formula '(x^2+y-11)^2+(x+y^2-7)^2' --domain=-5,5,-5,5).\n\
                  Rows: step, x, y, loss, grad_x, grad_y, evals; step 0 is the start; grad is the gradient \
                  used for the step leaving that row (noisy / mini-batch / Nesterov look-ahead), on the last \
                  row the exact gradient there; evals counts the loss evaluations so far (1 at the start, \
                  then 1 a step, or one per trial point of a line search). Numbers are shortest \
                  round-trip decimals.\n\
                  The run stops early when |grad L| < --tol (exact gradients only) or when it diverges; \
                  both are reported on stderr."
)]
pub struct TraceArgs {
    /// The landscape, the optimizer and its settings (shared with `sweep` and `basins`).
    #[command(flatten)]
    pub run: RunArgs,
    /// Number of steps, at most 10000000.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 500,
        allow_hyphen_values = true
    )]
    pub steps: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Csv)]
    pub format: OutputFormat,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// A network: the plane the rows' alpha, beta and distance refer to: random (the start plane,
    /// filter-normalized directions around the initial weights), pca (the principal components of this
    /// run's trajectory) or a JSON plane file [default: random].
    #[arg(long, value_name = "random|pca|FILE.json")]
    pub plane: Option<String>,
    /// A network: write the plane used as JSON ({"center": [...], "d1": [...], "d2": [...], ...}).
    #[arg(long, value_name = "FILE.json")]
    pub plane_out: Option<PathBuf>,
    /// A network: write `step` and every parameter (layer by layer: W row-major, then b) for step 0 and
    /// every step after, as CSV.
    #[arg(long, value_name = "FILE.csv")]
    pub params_out: Option<PathBuf>,
}

/// The flags that describe one run: landscape, optimizer, hyperparameters, start, noise, seed,
/// tolerance. `trace` runs it; `sweep` and `basins` run it over a grid.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The landscape: --surface NAME, or --formula EXPR [--domain XMIN,XMAX,YMIN,YMAX].
    #[command(flatten)]
    pub landscape: LandscapeArgs,
    /// Optimizer: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, nadam, amsgrad, lion,
    /// adadelta, qhm, qhadam, newton, saddle-free-newton, bfgs, lbfgs, cg (formulas: `losscape list`).
    #[arg(long, value_name = "NAME")]
    pub optimizer: String,
    /// eta, the betas, eps, lambda, nu and nu2.
    #[command(flatten)]
    pub hyper: HyperFlags,
    /// Learning-rate schedule, eta_t = eta f(t-1): constant, step:K:G, exp:G, cosine:T[:A],
    /// warmup-cosine:W:T[:A], inv-sqrt:W.
    #[arg(long, value_name = "SCHEDULE", default_value = "constant")]
    pub schedule: String,
    /// Formulas: lecture (EMA momentum, look-ahead Nesterov, Adam's eps inside the root) or pytorch
    /// (torch.optim's: heavy-ball momentum, eps outside the root).
    #[arg(long, value_name = "NAME", default_value = "lecture")]
    pub convention: String,
    /// Adam without bias correction (V_hat = V, s_hat = s).
    #[arg(long)]
    pub no_bias_correction: bool,
    /// Start point "X,Y" [default: the landscape's, see `losscape list`]; on a network "ALPHA,BETA" on
    /// its start plane [default: 0,0, the initial weights].
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// Standard deviation of Gaussian noise added to each gradient coordinate, >= 0.
    #[arg(long, value_name = "SIGMA", allow_hyphen_values = true)]
    pub noise: Option<f64>,
    /// Mini-batch size B on the regression landscape or a network (B = all the data is full-batch; a
    /// network draws batches without replacement within each epoch).
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    pub batch: Option<usize>,
    /// Seed of the gradient noise and mini-batch draws.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub seed: u64,
    /// Converged when |grad L| falls below this (exact gradients only).
    #[arg(
        long,
        value_name = "F",
        default_value_t = crate::core::DEFAULT_CONVERGE_TOL,
        allow_hyphen_values = true
    )]
    pub tol: f64,
}

/// The hyperparameter flags of `trace`, `sweep`, `basins` and `render`: each one given replaces the
/// optimizer's value (its default, or the scene's).
#[derive(Debug, Clone, Default, Args)]
pub struct HyperFlags {
    /// Learning rate eta, > 0 [default: the optimizer's, see `losscape list`].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub lr: Option<f64>,
    /// Momentum decay beta_m, in [0, 1) [default: 0.9].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub beta_m: Option<f64>,
    /// Squared-gradient decay beta_r, in [0, 1) [default: 0.99 RMSProp, 0.999 Adam].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub beta_r: Option<f64>,
    /// Denominator guard eps, >= 0 [default: 1e-8].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub eps: Option<f64>,
    /// Decoupled weight decay lambda of adamw and lion, >= 0 [default: 0.01 adamw, 0 lion].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub weight_decay: Option<f64>,
    /// Quasi-hyperbolic mix nu (nu1) of qhm and qhadam, in [0, 1] [default: 0.7].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub nu: Option<f64>,
    /// QHAdam's second mix nu2, in [0, 1] [default: 1].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub nu2: Option<f64>,
    /// Step-length search of sgd, newton and saddle-free-newton: none, or armijo (backtracking from
    /// alpha = eta until L(theta + alpha p) <= L(theta) + c alpha g.p); bfgs, lbfgs and cg always
    /// search [default: none].
    #[arg(long, value_enum, value_name = "armijo|none")]
    pub line_search: Option<LineSearchFlag>,
    /// Armijo's sufficient-decrease constant c, in (0, 1) [default: 1e-4].
    #[arg(long, value_name = "C", allow_hyphen_values = true)]
    pub armijo_c: Option<f64>,
    /// Backtracking factor rho (alpha <- rho alpha), in (0, 1) [default: 0.5].
    #[arg(long, value_name = "RHO", allow_hyphen_values = true)]
    pub backtrack: Option<f64>,
    /// The most times one line search shrinks alpha, at most 200 [default: 30].
    #[arg(long, value_name = "K")]
    pub max_backtracks: Option<u32>,
    /// L-BFGS's memory m: how many pairs (s, y) it keeps, 1 to 1000 [default: 5].
    #[arg(long, value_name = "M", allow_hyphen_values = true)]
    pub memory: Option<i64>,
}

/// `--line-search`'s values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LineSearchFlag {
    /// A fixed step eta (no search).
    None,
    /// Backtracking (Armijo).
    Armijo,
}

impl HyperFlags {
    /// Sets each given value in `hyper`; returns the flags given that `kind` does not use (for a
    /// warning). The values are checked by `Hyperparams::validate` afterwards.
    pub fn apply(&self, hyper: &mut Hyperparams, kind: OptimizerKind) -> Vec<&'static str> {
        let fields: [(Option<f64>, &mut f64, &'static str, bool); 7] = [
            (self.lr, &mut hyper.lr, "--lr", true),
            (
                self.beta_m,
                &mut hyper.beta_m,
                "--beta-m",
                kind.uses_beta_m(),
            ),
            (
                self.beta_r,
                &mut hyper.beta_r,
                "--beta-r",
                kind.uses_beta_r(),
            ),
            (self.eps, &mut hyper.eps, "--eps", kind.uses_eps()),
            (
                self.weight_decay,
                &mut hyper.weight_decay,
                "--weight-decay",
                kind.uses_weight_decay(),
            ),
            (self.nu, &mut hyper.nu, "--nu", kind.uses_nu()),
            (self.nu2, &mut hyper.nu2, "--nu2", kind.uses_nu2()),
        ];
        let mut unused = Vec::new();
        for (value, field, flag, used) in fields {
            if let Some(v) = value {
                *field = v;
                if !used {
                    unused.push(flag);
                }
            }
        }
        if let Some(search) = self.line_search {
            hyper.line_search.armijo = search == LineSearchFlag::Armijo;
            if !kind.offers_line_search() || kind.always_searches() {
                unused.push("--line-search");
            }
        }
        let searches = hyper.searches(kind);
        let search = &mut hyper.line_search;
        for (value, field, flag) in [
            (self.armijo_c, &mut search.c, "--armijo-c"),
            (self.backtrack, &mut search.rho, "--backtrack"),
        ] {
            if let Some(v) = value {
                *field = v;
                if !searches {
                    unused.push(flag);
                }
            }
        }
        if let Some(k) = self.max_backtracks {
            search.max_backtracks = k;
            if !searches {
                unused.push("--max-backtracks");
            }
        }
        if let Some(m) = self.memory {
            // a negative or huge m is refused by `Hyperparams::validate` with the range
            hyper.memory = usize::try_from(m).unwrap_or(0);
            if kind != OptimizerKind::Lbfgs {
                unused.push("--memory");
            }
        }
        unused
    }
}

/// A validated `trace` request.
#[derive(Clone, Debug)]
pub struct TraceRequest {
    /// The landscape.
    pub landscape: Landscape,
    /// The run.
    pub config: RunConfig,
    /// How many steps at most.
    pub steps: u64,
}

/// Turns arguments into a run, or the one-line reason they are refused. Also returns warnings for
/// options that have no effect (e.g. `--beta-r` with momentum).
pub fn parse_request(args: &TraceArgs) -> Result<(TraceRequest, Vec<String>), String> {
    let (landscape, config, warnings) = parse_run(&args.run)?;
    if args.steps > MAX_TRACE_STEPS {
        return Err(format!(
            "--steps {} is more than the maximum {MAX_TRACE_STEPS}",
            args.steps
        ));
    }
    Ok((
        TraceRequest {
            landscape,
            config,
            steps: args.steps,
        },
        warnings,
    ))
}

/// The optimizer and its hyperparameters from the flags (`--optimizer`, `--convention`, the
/// hyperparameter flags, `--schedule`), with a warning for each flag the optimizer does not use; not yet
/// validated. Shared by the 2-D runs and the network runs.
pub(super) fn hyper_of(
    args: &RunArgs,
) -> Result<(OptimizerKind, Hyperparams, Vec<String>), String> {
    let kind = OptimizerKind::from_name(&args.optimizer).map_err(|e| e.to_string())?;
    let convention = Convention::from_name(&args.convention).map_err(|e| e.to_string())?;
    let mut warnings = Vec::new();
    let mut hyper = Hyperparams::defaults_for(kind);
    hyper.convention = convention;
    hyper.bias_correction = !args.no_bias_correction;
    for flag in args.hyper.apply(&mut hyper, kind) {
        warnings.push(format!("{flag} has no effect on {}", kind.name()));
    }
    hyper.schedule = args
        .schedule
        .parse()
        .map_err(|e: CoreError| e.to_string())?;
    Ok((kind, hyper, warnings))
}

/// Turns the run flags into a landscape and a validated run (start included), or the one-line reason
/// they are refused; with warnings for options that have no effect.
pub fn parse_run(args: &RunArgs) -> Result<(Landscape, RunConfig, Vec<String>), String> {
    if args.landscape.is_network() {
        return Err(
            "this command runs on the 2-D landscapes; a network runs in `trace` and the app"
                .to_owned(),
        );
    }
    let spec = args.landscape.spec()?;
    let (kind, hyper, mut warnings) = hyper_of(args)?;
    let convention = hyper.convention;
    if args.no_bias_correction && !kind.uses_bias_correction() {
        warnings.push(format!(
            "--no-bias-correction has no effect on {}",
            kind.name()
        ));
    }
    if convention != Convention::Lecture && !kind.uses_convention() {
        warnings.push(format!(
            "--convention makes no difference for {}",
            kind.name()
        ));
    }
    hyper.validate().map_err(|e| e.to_string())?;

    if let Some(batch) = args.batch {
        let LandscapeSpec::Regression(params) = &spec else {
            return Err(format!(
                "--batch needs a data landscape (regression), not {}",
                spec.name()
            ));
        };
        if batch == 0 || batch > params.samples {
            return Err(format!(
                "--batch {batch} must be between 1 and the dataset's {} samples",
                params.samples
            ));
        }
    }
    let landscape = Landscape::new(spec).map_err(|e| describe(&e))?;
    let start = match &args.start {
        Some(text) => parse_point(text)?,
        None => landscape.default_start(),
    };
    let config = RunConfig {
        kind,
        hyper,
        start,
        noise: GradientNoise {
            sigma: args.noise.unwrap_or(0.0),
            batch: args.batch,
        },
        seed: args.seed,
        converge_tol: args.tol,
    };
    config.validate(&landscape).map_err(|e| e.to_string())?;
    Ok((landscape, config, warnings))
}

/// `"X,Y"` to a point; finiteness is checked by [`RunConfig::validate`].
pub(super) fn parse_point(text: &str) -> Result<Vec2d, String> {
    let bad = || format!("--start '{text}' must be two numbers X,Y (e.g. --start=-1.5,2)");
    let (x, y) = text.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    Ok([x, y])
}

/// `losscape trace`.
pub fn run(args: &TraceArgs) -> ExitCode {
    if args.run.landscape.is_network() {
        return super::network::run_trace(args);
    }
    for (given, flag) in [
        (args.plane.is_some(), "--plane"),
        (args.plane_out.is_some(), "--plane-out"),
        (args.params_out.is_some(), "--params-out"),
    ] {
        if given {
            return usage_error(format!(
                "{flag} is for a network (--network DATASET or --data FILE.csv)"
            ));
        }
    }
    let (request, warnings) = match parse_request(args) {
        Ok(ok) => ok,
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
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let mut out = BufWriter::new(sink);
    let written = match args.format {
        OutputFormat::Csv => write_csv(&mut out, &request),
        OutputFormat::Json => write_json(&mut out, &request),
    };
    let status = match written {
        // Unreachable after `parse_request` validated the config; reported rather than unwrapped.
        Err(Failure::Refused(err)) => return usage_error(err),
        Err(Failure::Io(err)) => Err(err),
        Ok(status) => out.flush().map(|()| status),
    };
    match status {
        Ok(RunStatus::Running) => {}
        Ok(status) => eprintln!("{status}"),
        // `losscape trace ... | head` closes the pipe early: not an error.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {}
        Err(err) => {
            let target = args
                .out
                .as_ref()
                .map_or("stdout".to_owned(), |p| format!("'{}'", p.display()));
            eprintln!("error: writing {target} failed: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    ExitCode::SUCCESS
}

/// Why writing a trajectory stopped.
#[derive(Debug)]
pub enum Failure {
    /// The core refused the run.
    Refused(crate::core::CoreError),
    /// The output could not be written.
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

/// Runs `request`, handing each row to `row` as soon as it is final; constant memory.
fn stream(
    request: &TraceRequest,
    row: impl FnMut(&StepRecord) -> io::Result<()>,
) -> Result<RunStatus, Failure> {
    trace_each(&request.landscape, &request.config, request.steps, row)
        .map_err(Failure::Refused)?
        .map_err(Failure::Io)
}

/// One row's numbers: `step, x, y, loss, grad_x, grad_y, evals` with `sep` between them.
fn row_text(r: &StepRecord, sep: &str) -> String {
    [
        r.step.to_string(),
        exact(r.pos[0]),
        exact(r.pos[1]),
        exact(r.loss),
        exact(r.grad[0]),
        exact(r.grad[1]),
        r.evals.to_string(),
    ]
    .join(sep)
}

/// A finite f64 in shortest round-trip decimal (Rust's `Display`), valid in CSV and JSON. The core
/// never produces non-finite numbers; `null` would mark one if it ever did.
pub(super) fn exact(value: f64) -> String {
    if value.is_finite() {
        value.to_string()
    } else {
        "null".to_owned()
    }
}

/// CSV: header `step,x,y,loss,grad_x,grad_y,evals`, then one row per record, written as the run goes.
pub fn write_csv(out: &mut impl Write, request: &TraceRequest) -> Result<RunStatus, Failure> {
    writeln!(out, "step,x,y,loss,grad_x,grad_y,evals")?;
    stream(request, |r| writeln!(out, "{}", row_text(r, ",")))
}

/// A JSON string literal.
fn json_str(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", u32::from(c));
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// JSON: the settings, `status` (`state`, `step`, `reason`), `message`, `columns` and `rows`
/// (arrays in `columns` order). Written by hand: every number is a finite f64 or an integer. The status
/// comes before the rows, so the run is computed twice (it is deterministic): once for the status and
/// the number of rows, once to write the rows as they come; memory stays constant.
pub fn write_json(out: &mut impl Write, request: &TraceRequest) -> Result<RunStatus, Failure> {
    let mut rows = 0u64;
    let final_status = stream(request, |_| {
        rows += 1;
        Ok(())
    })?;
    let c = &request.config;
    let h = &c.hyper;
    let spec = request.landscape.spec();
    let spec_ron = ron::to_string(spec).unwrap_or_default();
    let status = match final_status {
        RunStatus::Running => r#"{"state": "running"}"#.to_owned(),
        RunStatus::Converged { step } => format!(r#"{{"state": "converged", "step": {step}}}"#),
        RunStatus::Diverged { step, reason } => format!(
            r#"{{"state": "{}", "step": {step}, "reason": {}}}"#,
            final_status.name(),
            json_str(&reason.to_string())
        ),
    };
    writeln!(out, "{{")?;
    writeln!(out, "  \"surface\": {},", json_str(spec.name()))?;
    writeln!(out, "  \"surface_spec\": {},", json_str(&spec_ron))?;
    writeln!(out, "  \"optimizer\": {},", json_str(c.kind.name()))?;
    writeln!(out, "  \"convention\": {},", json_str(h.convention.name()))?;
    writeln!(
        out,
        "  \"hyperparams\": {{\"lr\": {}, \"beta_m\": {}, \"beta_r\": {}, \"eps\": {}, \"bias_correction\": {}}},",
        exact(h.lr),
        exact(h.beta_m),
        exact(h.beta_r),
        exact(h.eps),
        h.bias_correction
    )?;
    let search = &h.line_search;
    writeln!(
        out,
        "  \"line_search\": {{\"armijo\": {}, \"c\": {}, \"rho\": {}, \"max_backtracks\": {}}},",
        h.searches(c.kind),
        exact(search.c),
        exact(search.rho),
        search.max_backtracks
    )?;
    writeln!(out, "  \"memory\": {},", h.memory)?;
    writeln!(
        out,
        "  \"start\": [{}, {}],",
        exact(c.start[0]),
        exact(c.start[1])
    )?;
    writeln!(out, "  \"steps\": {},", request.steps)?;
    writeln!(
        out,
        "  \"noise\": {{\"sigma\": {}, \"batch\": {}}},",
        exact(c.noise.sigma),
        c.noise.batch.map_or("null".to_owned(), |b| b.to_string())
    )?;
    writeln!(out, "  \"seed\": {},", c.seed)?;
    writeln!(out, "  \"converge_tol\": {},", exact(c.converge_tol))?;
    writeln!(out, "  \"status\": {status},")?;
    writeln!(
        out,
        "  \"message\": {},",
        json_str(&final_status.to_string())
    )?;
    writeln!(
        out,
        "  \"columns\": [\"step\", \"x\", \"y\", \"loss\", \"grad_x\", \"grad_y\", \"evals\"],"
    )?;
    writeln!(out, "  \"rows\": [")?;
    let mut written = 0u64;
    let status = stream(request, |r| {
        written += 1;
        let comma = if written == rows { "" } else { "," };
        writeln!(out, "    [{}]{comma}", row_text(r, ", "))
    })?;
    writeln!(out, "  ]")?;
    writeln!(out, "}}")?;
    Ok(status)
}
