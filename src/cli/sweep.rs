//! `losscape sweep`: one optimizer from one start, two hyperparameters varied over a grid, every cell
//! run exactly as `trace` would run it; one CSV row per cell, or a PNG heat map.
//!
//! Everything is checked (and the output file opened) before anything is computed.

use clap::Args;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::maps::{Sink, compute_with_progress, pool, rate, write_png};
use super::trace::{RunArgs, exact, parse_run};
use super::usage_error;
use crate::core::maps::{
    AxisScale, DEFAULT_MAP_STEPS, MAX_MAP_STEPS, SweepAxis, SweepMap, SweepMetric, SweepParam,
    SweepSpec,
};
use crate::core::scene::Colormap;

/// The form of one `--vary`.
pub const VARY_FORM: &str = "NAME=MIN:MAX:lin|log:COUNT";

/// Arguments of `losscape sweep`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Vary two hyperparameters over a grid and run the optimizer in every cell (CSV or PNG)",
    long_about = "Vary two hyperparameters over a grid and run the optimizer in every cell (CSV or PNG).\n\n\
                  Each cell is exactly `losscape trace` with that cell's hyperparameters (bit for bit), \
                  from the same start (--start or the landscape's), for up to --steps steps; cells run on \
                  all cores. CSV: one row per cell, the first --vary changing fastest: the two varied \
                  parameters (lr, beta_m, beta_r, eps), then x, y, loss (where the run ended), steps \
                  (taken), status (running = used up its steps, converged, diverged), and with \
                  --metric steps-to-loss:TOL a column `reached` (first step with loss <= TOL, empty if \
                  never). PNG: a heat map of --metric, the first parameter growing to the right, the \
                  second upwards; diverged cells light grey, cells that never reach a tolerance mid grey."
)]
pub struct SweepArgs {
    /// The landscape, the optimizer and its settings, as for `trace`.
    #[command(flatten)]
    pub run: RunArgs,
    /// A varied hyperparameter, given twice: NAME (lr, beta-m, beta-r, eps, weight-decay, nu, nu2) =
    /// MIN:MAX:lin|log:COUNT,
    /// COUNT 1..=256, e.g. --vary lr=1e-4:1:log:64 --vary beta-m=0:0.99:lin:64.
    #[arg(long, value_name = VARY_FORM, allow_hyphen_values = true)]
    pub vary: Vec<String>,
    /// Steps per cell, 1..=100000.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAP_STEPS, allow_hyphen_values = true)]
    pub steps: u64,
    /// What the PNG shows: final-loss (log scale), steps-to-loss:TOL, steps-to-grad:TOL (the runs'
    /// convergence tolerance becomes TOL, as `trace --tol TOL`) or diverged.
    #[arg(long, value_name = "METRIC", default_value = "final-loss")]
    pub metric: String,
    /// Colormap of the PNG: viridis, magma, turbo.
    #[arg(long, value_name = "NAME", default_value = "viridis")]
    pub colormap: String,
    /// Threads to compute on [default: one per core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write to this file (.png: a heat map; anything else: CSV) instead of CSV on stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Reads one `--vary` (`lr=1e-4:1:log:64`); the range itself is checked by [`SweepSpec::validate`].
pub fn parse_vary(text: &str) -> Result<SweepAxis, String> {
    let form = || format!("--vary: '{text}' needs {VARY_FORM}");
    let (name, range) = text.split_once('=').ok_or_else(form)?;
    let param = SweepParam::from_name(name).ok_or_else(|| {
        format!(
            "--vary: unknown parameter '{}' in '{text}': use lr, beta-m, beta-r or eps",
            name.trim()
        )
    })?;
    let parts: Vec<&str> = range.split(':').map(str::trim).collect();
    let [min, max, scale, count] = parts[..] else {
        return Err(form());
    };
    let number = |what: &str, value: &str| {
        value
            .parse::<f64>()
            .map_err(|_| format!("--vary: {what} '{value}' in '{text}' is not a number"))
    };
    let scale = match scale {
        "lin" | "linear" => AxisScale::Linear,
        "log" => AxisScale::Log,
        other => {
            return Err(format!(
                "--vary: scale '{other}' in '{text}' must be lin or log"
            ));
        }
    };
    let count = count
        .parse::<usize>()
        .map_err(|_| format!("--vary: COUNT '{count}' in '{text}' is not a whole number"))?;
    Ok(SweepAxis {
        param,
        min: number("MIN", min)?,
        max: number("MAX", max)?,
        scale,
        count,
    })
}

/// A colormap by name.
pub(super) fn parse_colormap(name: &str) -> Result<Colormap, String> {
    Colormap::ALL
        .into_iter()
        .find(|c| c.label() == name)
        .ok_or_else(|| format!("unknown colormap '{name}'; valid values: viridis, magma, turbo"))
}

/// Turns arguments into a sweep and its landscape, or the one-line reason they are refused; with
/// warnings for settings that have no effect.
pub fn parse_sweep(
    args: &SweepArgs,
) -> Result<(crate::core::Landscape, SweepSpec, Vec<String>), String> {
    let (landscape, config, mut warnings) = parse_run(&args.run)?;
    let [x, y] = match &args.vary[..] {
        [a, b] => [parse_vary(a)?, parse_vary(b)?],
        other => {
            return Err(format!(
                "--vary is needed exactly twice (two hyperparameters, {VARY_FORM}), not {} times",
                other.len()
            ));
        }
    };
    let metric = SweepMetric::from_name(&args.metric)?;
    if args.steps > MAX_MAP_STEPS || args.steps == 0 {
        return Err(format!(
            "--steps {} must be between 1 and {MAX_MAP_STEPS}",
            args.steps
        ));
    }
    for axis in [&x, &y] {
        if !axis.param.used_by(config.kind) {
            warnings.push(format!(
                "--vary {} has no effect on {}",
                axis.param,
                config.kind.name()
            ));
        }
        let flag = match axis.param {
            SweepParam::Lr => args.run.hyper.lr.map(|_| "--lr"),
            SweepParam::BetaM => args.run.hyper.beta_m.map(|_| "--beta-m"),
            SweepParam::BetaR => args.run.hyper.beta_r.map(|_| "--beta-r"),
            SweepParam::Eps => args.run.hyper.eps.map(|_| "--eps"),
            SweepParam::WeightDecay => args.run.hyper.weight_decay.map(|_| "--weight-decay"),
            SweepParam::Nu => args.run.hyper.nu.map(|_| "--nu"),
            SweepParam::Nu2 => args.run.hyper.nu2.map(|_| "--nu2"),
        };
        if let Some(flag) = flag {
            warnings.push(format!("{flag} is replaced by --vary {}", axis.param));
        }
    }
    let spec = SweepSpec {
        config,
        x,
        y,
        steps: args.steps,
        metric,
    };
    spec.validate(&landscape).map_err(|e| e.to_string())?;
    Ok((landscape, spec, warnings))
}

/// `losscape sweep`.
pub fn run(args: &SweepArgs) -> ExitCode {
    let checked = parse_sweep(args).and_then(|(landscape, spec, warnings)| {
        let colormap = parse_colormap(&args.colormap)?;
        let pool = pool(args.threads)?;
        let sink = Sink::open(args.out.as_ref())?;
        Ok((landscape, spec, warnings, colormap, pool, sink))
    });
    let (landscape, spec, warnings, colormap, pool, sink) = match checked {
        Ok(ok) => ok,
        Err(message) => return usage_error(message),
    };
    let (map, elapsed) =
        match compute_with_progress("sweep", spec.clone(), landscape, pool, warnings) {
            Ok(done) => done,
            Err(code) => return code,
        };
    eprintln!(
        "sweep: {} x {} cells, {}; {} diverged",
        spec.x.count,
        spec.y.count,
        rate(map.total_steps(), elapsed),
        map.diverged()
    );
    sink.write(
        args.out.as_deref(),
        |mut out| write_csv(&mut out, &map),
        |file| {
            write_png(
                file,
                &map.to_rgba(colormap),
                spec.x.count,
                spec.y.count,
                &png_text(&map),
            )
        },
    )
}

/// What the PNG says about itself (tEXt chunks): the axes and the colour scale.
fn png_text(map: &SweepMap) -> Vec<(&'static str, String)> {
    let s = &map.spec;
    let scale = map.color_scale();
    vec![
        (
            "Software",
            format!("losscape {}", env!("CARGO_PKG_VERSION")),
        ),
        (
            "Title",
            format!(
                "sweep of {} ({} steps, metric {})",
                s.config.kind.name(),
                s.steps,
                s.metric.name()
            ),
        ),
        (
            "losscape-x-axis",
            format!("{} (left to right)", s.x.to_spec_string()),
        ),
        (
            "losscape-y-axis",
            format!("{} (bottom to top)", s.y.to_spec_string()),
        ),
        (
            "losscape-color-scale",
            format!(
                "{} to {}{}",
                scale.lo,
                scale.hi,
                if scale.log { " (log)" } else { "" }
            ),
        ),
    ]
}

/// CSV: the two varied parameters by name, then `x,y,loss,steps,status` (and `reached` for
/// `steps-to-loss`); one row per cell, the first axis changing fastest.
pub fn write_csv(out: &mut impl Write, map: &SweepMap) -> io::Result<()> {
    let s = &map.spec;
    let reached = matches!(s.metric, SweepMetric::StepsToLoss(_));
    write!(out, "{},{},x,y,loss,steps,status", s.x.param, s.y.param)?;
    writeln!(out, "{}", if reached { ",reached" } else { "" })?;
    for cell in &map.cells {
        let e = &cell.end;
        write!(
            out,
            "{},{},{},{},{},{},{}",
            exact(cell.params[0]),
            exact(cell.params[1]),
            exact(e.pos[0]),
            exact(e.pos[1]),
            exact(e.loss),
            e.steps,
            e.status.name()
        )?;
        if reached {
            write!(
                out,
                ",{}",
                cell.reached.map_or(String::new(), |r| r.to_string())
            )?;
        }
        writeln!(out)?;
    }
    out.flush()
}
