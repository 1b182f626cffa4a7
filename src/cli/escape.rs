//! `losscape escape`: saddle-escape statistics of a scene ([`crate::core::escape`]): every optimizer
//! run with `--seeds` seeds from its start, the step at which each escaped the saddle written as CSV,
//! and a summary (escaped runs, median) printed.
//!
//! Everything is checked (and the output file opened) before anything runs.

use clap::Args;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::maps::{compute_with_progress, pool};
use super::trace::exact;
use super::{EXIT_FAILURE, usage_error};
use crate::core::escape::{
    DEFAULT_ESCAPE_SEEDS, DEFAULT_ESCAPE_STEPS, EscapeSpec, EscapeStats, Margin,
};
use crate::core::scene::Scene;
use crate::core::{Landscape, lessons};

/// Arguments of `losscape escape`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Count the steps each optimizer of a scene takes to escape its saddle, over many seeds (CSV)",
    long_about = "Count the steps each optimizer of a scene takes to escape its saddle, over many seeds (CSV).\n\n\
                  Every optimizer of the scene runs from its start --seeds times (seed 0, 1, ...: the \
                  seed drives gradient noise and mini-batches; an optimizer without noise gives the same \
                  run for every seed, and the summary says so), for --max-steps steps, on all cores. \
                  Escaped: the first step whose loss is below the saddle's loss by more than the margin \
                  (default 10% of the drop from the saddle's loss to the lowest known minimum); the exact \
                  definition is printed. The saddle is the scene's question's, else --saddle, else the \
                  saddle point nearest the starts. CSV: optimizer, kind, seed, escape_step (empty if it \
                  never escaped), final_loss (after all the steps). The summary (per optimizer: escaped \
                  runs, median, fastest, slowest) goes to stdout with --out, else to stderr."
)]
pub struct EscapeArgs {
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
    /// Seeds per optimizer, 1..=100000.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ESCAPE_SEEDS, allow_hyphen_values = true)]
    pub seeds: u64,
    /// Steps per run, 1..=1000000.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ESCAPE_STEPS, allow_hyphen_values = true)]
    pub max_steps: u64,
    /// How far below the saddle's loss counts as escaped: a loss (0.1) or a percentage of the drop to
    /// the lowest minimum (10%) [default: 10%].
    #[arg(long, value_name = "M", allow_hyphen_values = true)]
    pub margin: Option<String>,
    /// The saddle point "X,Y" [default: the scene question's, else the one nearest the starts].
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true)]
    pub saddle: Option<String>,
    /// Threads to compute on [default: one per core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write the CSV to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Turns arguments into the landscape and the statistics to compute, or the one-line reason they are
/// refused (the definition of escape is resolved, so a missing saddle is refused here).
pub fn parse_escape(args: &EscapeArgs) -> Result<(Landscape, EscapeSpec), String> {
    let scene = match (&args.preset, &args.scene) {
        (Some(name), None) => lessons::preset(name).map_err(|e| e.to_string())?,
        (None, Some(path)) => Scene::read_file(path)?,
        _ => return Err("give exactly one of --preset NAME or --scene FILE".into()),
    };
    let landscape =
        Landscape::new(scene.landscape.clone()).map_err(|e| super::landscape::describe(&e))?;
    let mut spec = EscapeSpec::from_scene(&scene);
    spec.seeds = args.seeds;
    spec.max_steps = args.max_steps;
    if let Some(margin) = &args.margin {
        spec.margin = Margin::parse(margin).map_err(|e| format!("--{e}"))?;
    }
    if let Some(text) = &args.saddle {
        let bad = || format!("--saddle '{text}' must be two numbers X,Y (e.g. --saddle=0,0)");
        let (x, y) = text.split_once(',').ok_or_else(bad)?;
        let x: f64 = x.trim().parse().map_err(|_| bad())?;
        let y: f64 = y.trim().parse().map_err(|_| bad())?;
        spec.saddle = Some([x, y]);
        spec.saddle_from = "given";
    }
    spec.definition(&landscape).map_err(|e| e.to_string())?;
    Ok((landscape, spec))
}

/// `losscape escape`.
pub fn run(args: &EscapeArgs) -> ExitCode {
    let checked = parse_escape(args).and_then(|(landscape, spec)| {
        let pool = pool(args.threads)?;
        let file = match &args.out {
            Some(path) => Some(
                File::create(path)
                    .map_err(|err| format!("cannot write '{}': {err}", path.display()))?,
            ),
            None => None,
        };
        Ok((landscape, spec, pool, file))
    });
    let (landscape, spec, pool, file) = match checked {
        Ok(ok) => ok,
        Err(message) => return usage_error(message),
    };
    let stats = match compute_with_progress("escape", spec, landscape, pool, Vec::new()) {
        Ok((stats, _)) => stats,
        Err(code) => return code,
    };
    let summary = summary(&stats);
    let written = match file {
        Some(file) => {
            let mut out = BufWriter::new(file);
            let csv = write_csv(&mut out, &stats).and_then(|()| out.flush());
            print!("{summary}");
            csv
        }
        None => {
            eprint!("{summary}");
            match write_csv(&mut BufWriter::new(io::stdout().lock()), &stats) {
                Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            }
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
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

/// The definition, then one aligned line per optimizer: escaped runs, median, fastest, slowest.
pub fn summary(stats: &EscapeStats) -> String {
    let mut text = format!(
        "{}\n{} seeds x {} steps per optimizer\n",
        stats.definition.describe(),
        stats.seeds,
        stats.max_steps
    );
    let width = stats
        .optimizers
        .iter()
        .map(|o| o.name.chars().count())
        .max()
        .unwrap_or(0)
        .max("optimizer".len());
    text.push_str(&format!(
        "{:<width$}  {:>9}  {:>7}  {:>7}  {:>7}  note\n",
        "optimizer", "escaped", "median", "fastest", "slowest"
    ));
    let step = |s: Option<u64>| s.map_or("never".to_owned(), |s| s.to_string());
    for o in &stats.optimizers {
        let steps: Vec<u64> = o.runs.iter().filter_map(|r| r.escape_step).collect();
        let note = if o.deterministic {
            "no noise: every seed is the same run"
        } else {
            ""
        };
        text.push_str(&format!(
            "{:<width$}  {:>9}  {:>7}  {:>7}  {:>7}  {note}\n",
            o.name,
            format!("{}/{}", o.escaped(), o.runs.len()),
            step(o.median()),
            step(steps.iter().min().copied()),
            if steps.len() < o.runs.len() {
                "never".to_owned()
            } else {
                step(steps.iter().max().copied())
            },
        ));
    }
    text
}

/// CSV: `optimizer,kind,seed,escape_step,final_loss`, one row per optimizer and seed (the optimizers in
/// the scene's order, seeds ascending); an empty escape_step for never.
pub fn write_csv(out: &mut impl Write, stats: &EscapeStats) -> io::Result<()> {
    writeln!(out, "optimizer,kind,seed,escape_step,final_loss")?;
    for o in &stats.optimizers {
        let name = csv_field(&o.name);
        for r in &o.runs {
            writeln!(
                out,
                "{name},{},{},{},{}",
                o.kind.name(),
                r.seed,
                r.escape_step.map_or(String::new(), |s| s.to_string()),
                exact(r.final_loss)
            )?;
        }
    }
    out.flush()
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
