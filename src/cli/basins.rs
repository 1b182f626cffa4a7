//! `losscape basins`: a grid of start points over the landscape's domain, each run with one optimizer
//! exactly as `trace --start X0,Y0` would run it, classified by the minimum it reaches; one CSV row
//! per start, or a PNG picture.
//!
//! Everything is checked (and the output file opened) before anything is computed.

use clap::Args;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::maps::{Sink, compute_with_progress, pool, rate, write_png};
use super::trace::{RunArgs, exact, parse_run};
use super::usage_error;
use crate::core::RestKind;
use crate::core::maps::{
    BasinMap, BasinSpec, DEFAULT_BASIN_GRID, DEFAULT_MAP_STEPS, MAX_BASIN_GRID,
};
use crate::core::number::{num, point};

/// Arguments of `losscape basins`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Run the optimizer from a grid of starts and map where each one ends up (CSV or PNG)",
    long_about = "Run the optimizer from a grid of starts and map where each one ends up (CSV or PNG).\n\n\
                  The starts are the centres of a --grid x --grid tiling of the landscape's domain (see \
                  `losscape list`); each is exactly `losscape trace --start X0,Y0` with the other flags, \
                  for up to --steps steps; starts run on all cores. A start reaches a minimum when its run \
                  ends within --radius of one of the landscape's listed minima (index in `list`'s order), \
                  or, failing that, settles (converged, or |grad L| <= 1e-3) where other runs settle too \
                  (found minima, numbered after the listed ones). CSV: one row per start, x0 changing \
                  fastest: x0, y0, x, y (where the run ended), loss, steps (taken), status (running, \
                  converged, diverged), minimum (index, empty if none). PNG: one hue per minimum, darker \
                  where the run took longer, diverged light grey, unfinished dark grey; y grows upwards."
)]
pub struct BasinsArgs {
    /// The landscape, the optimizer and its settings, as for `trace` (--start has no effect).
    #[command(flatten)]
    pub run: RunArgs,
    /// Starts per side, 1..=512.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BASIN_GRID)]
    pub grid: usize,
    /// Steps per start, 1..=100000.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAP_STEPS, allow_hyphen_values = true)]
    pub steps: u64,
    /// How close (param units) a run must end to a minimum to count as reaching it [default: 2 % of
    /// the domain's longer side].
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    pub radius: Option<f64>,
    /// Threads to compute on [default: one per core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write to this file (.png: a picture; anything else: CSV) instead of CSV on stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Turns arguments into a basin map and its landscape, or the one-line reason they are refused.
pub fn parse_basins(
    args: &BasinsArgs,
) -> Result<(crate::core::Landscape, BasinSpec, Vec<String>), String> {
    let (landscape, config, mut warnings) = parse_run(&args.run)?;
    if args.run.start.is_some() {
        warnings.push("--start has no effect: every cell of the grid is a start".to_owned());
    }
    if !(1..=MAX_BASIN_GRID).contains(&args.grid) {
        return Err(format!(
            "--grid {} must be between 1 and {MAX_BASIN_GRID}",
            args.grid
        ));
    }
    let mut spec = BasinSpec::new(&landscape, config);
    spec.grid = [args.grid; 2];
    spec.steps = args.steps;
    if let Some(radius) = args.radius {
        spec.radius = radius;
    }
    spec.validate().map_err(|e| e.to_string())?;
    Ok((landscape, spec, warnings))
}

/// `losscape basins`.
pub fn run(args: &BasinsArgs) -> ExitCode {
    let checked = parse_basins(args).and_then(|(landscape, spec, warnings)| {
        let pool = pool(args.threads)?;
        let sink = Sink::open(args.out.as_ref())?;
        Ok((landscape, spec, warnings, pool, sink))
    });
    let (landscape, spec, warnings, pool, sink) = match checked {
        Ok(ok) => ok,
        Err(message) => return usage_error(message),
    };
    let (map, elapsed) =
        match compute_with_progress("basins", spec.clone(), landscape, pool, warnings) {
            Ok(done) => done,
            Err(code) => return code,
        };
    eprintln!(
        "basins: {} x {} starts, {}; {} diverged, {} unfinished",
        spec.grid[0],
        spec.grid[1],
        rate(map.total_steps(), elapsed),
        map.diverged(),
        map.unfinished()
    );
    for (k, m) in map.minima.iter().enumerate() {
        let what = match (m.kind, m.known) {
            (RestKind::Minimum, true) => "listed",
            (RestKind::Minimum, false) => "found",
            // a small gradient is not a minimum: say what the point is
            _ => "not a minimum: runs stall there",
        };
        eprintln!(
            "{} {k}: {}, loss {}, {what}, reached from {} starts",
            m.kind,
            point(m.pos),
            num(m.loss),
            m.cells
        );
    }
    sink.write(
        args.out.as_deref(),
        |mut out| write_csv(&mut out, &map),
        |file| {
            write_png(
                file,
                &map.to_rgba(255),
                spec.grid[0],
                spec.grid[1],
                &png_text(&map),
            )
        },
    )
}

/// What the PNG says about itself (tEXt chunks): the domain and the minima.
fn png_text(map: &BasinMap) -> Vec<(&'static str, String)> {
    let s = &map.spec;
    let minima: Vec<String> = map
        .minima
        .iter()
        .enumerate()
        .map(|(k, m)| format!("{k}: {} ({}, {})", m.kind, exact(m.pos[0]), exact(m.pos[1])))
        .collect();
    vec![
        (
            "Software",
            format!("losscape {}", env!("CARGO_PKG_VERSION")),
        ),
        (
            "Title",
            format!("basins of {} ({} steps)", s.config.kind.name(), s.steps),
        ),
        (
            "losscape-domain",
            format!(
                "x {:?} left to right, y {:?} bottom to top",
                s.domain.x, s.domain.y
            ),
        ),
        ("losscape-minima", minima.join("; ")),
    ]
}

/// CSV: `x0,y0,x,y,loss,steps,status,minimum`; one row per start, x0 changing fastest.
pub fn write_csv(out: &mut impl Write, map: &BasinMap) -> io::Result<()> {
    writeln!(out, "x0,y0,x,y,loss,steps,status,minimum")?;
    for cell in &map.cells {
        let e = &cell.end;
        writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            exact(cell.start[0]),
            exact(cell.start[1]),
            exact(e.pos[0]),
            exact(e.pos[1]),
            exact(e.loss),
            e.steps,
            e.status.name(),
            cell.minimum.map_or(String::new(), |k| k.to_string())
        )?;
    }
    out.flush()
}
