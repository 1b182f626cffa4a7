//! The command line: `losscape [--scene FILE | --preset NAME]` opens the app; `losscape trace`,
//! `losscape compare`, `sweep`, `basins`, `inspect`, `escape`, `slice` and `list` are headless and need only the core; `losscape render`
//! draws GIFs, PNG stills and SVG/PDF figures on the CPU and `export-mesh` writes 3D models (both need
//! the `app` feature, which brings Bevy).
//!
//! Bad input never panics: it prints one line `error: ...` on stderr and exits with code 2
//! ([`EXIT_USAGE`]). Help and version exit 0.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub mod basins;
pub mod compare;
pub mod escape;
#[cfg(feature = "app")]
pub mod export_mesh;
pub mod inspect;
pub mod landscape;
pub mod list;
mod maps;
pub mod network;
#[cfg(feature = "app")]
pub mod render;
pub mod sweep;
pub mod trace;

pub use basins::BasinsArgs;
pub use compare::{CompareArgs, TableFormat};
pub use escape::EscapeArgs;
pub use inspect::{InspectArgs, InspectFormat};
pub use landscape::LandscapeArgs;
#[cfg(feature = "app")]
pub use render::RenderArgs;
pub use sweep::SweepArgs;
pub use trace::{OutputFormat, RunArgs, TraceArgs};

/// Exit code for bad input (unknown name, out-of-range value, unwritable output file).
pub const EXIT_USAGE: u8 = 2;
/// Exit code for a failure after the input was accepted (e.g. the disk filled while writing).
pub const EXIT_FAILURE: u8 = 1;

/// `losscape`: watch gradient-descent optimizers move over a loss landscape.
#[derive(Debug, Parser)]
#[command(
    name = "losscape",
    version,
    about = "Watch gradient-descent optimizers move over a loss landscape: a classroom visualizer.",
    long_about = "Watch gradient-descent optimizers move over a loss landscape: a classroom visualizer.\n\n\
                  Without a command, opens the app (optionally on a scene file or a lesson preset).\n\
                  `trace` runs one optimizer headless and prints its trajectory; `compare` scores a \
                  scene's optimizers; `sweep` maps one over \
                  two hyperparameters and `basins` over start points; `inspect` prints the curvature at a \
                  point; `escape` counts saddle-escape steps over many seeds; `list` shows the \
                  landscapes, optimizers and lessons; `render` draws a scene to a GIF without a window."
)]
pub struct Cli {
    /// What to do; without one, the app opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Open the app on this scene file (RON).
    #[arg(long, value_name = "FILE")]
    pub scene: Option<PathBuf>,
    /// Open the app on this built-in lesson (see `losscape list`).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Open the app, wait until the picture stops changing, save it as a PNG and quit.
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,
    /// Start playing at once (as if Space was pressed).
    #[arg(long)]
    pub play: bool,
    /// Playback speed in optimizer steps per second, 1 ..= 1000 [default: the scene's].
    #[arg(long, value_name = "STEPS_PER_S")]
    pub speed: Option<f64>,
    /// The app on another landscape: the scene's optimizers on --surface NAME or on your own
    /// --formula EXPR [--domain XMIN,XMAX,YMIN,YMAX].
    #[command(flatten)]
    pub landscape: LandscapeArgs,
    /// Let the class vote from their phones: serve the voting page at this address (0.0.0.0:8642:
    /// every network of this computer, port 8642; 127.0.0.1:0: this computer only, any free port).
    #[arg(long, value_name = "ADDR:PORT")]
    pub class_vote: Option<std::net::SocketAddr>,
    /// The class vote's join code (4 to 12 letters or digits) instead of a random one.
    #[arg(long, value_name = "CODE", requires = "class_vote")]
    pub class_code: Option<String>,
}

/// The headless commands.
// Parsed once per process, so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one optimizer on one landscape and write its trajectory (CSV or JSON).
    Trace(TraceArgs),
    /// Run a scene's optimizers headless and print their scoreboard (or write it as CSV).
    Compare(CompareArgs),
    /// Vary two hyperparameters over a grid and run the optimizer in every cell (CSV or PNG).
    Sweep(SweepArgs),
    /// Run the optimizer from a grid of starts and map where each one ends up (CSV or PNG).
    Basins(BasinsArgs),
    /// Print the loss, gradient, Hessian and curvature at a point (text or JSON).
    Inspect(InspectArgs),
    /// Count the steps each optimizer of a scene takes to escape its saddle, over many seeds (CSV).
    Escape(EscapeArgs),
    /// Write a network's loss over a plane of its parameter space (alpha,beta,loss CSV).
    Slice(network::SliceArgs),
    /// List the landscapes (domain, minima, description) and the optimizers (default hyperparameters).
    List,
    /// Render a scene offscreen to a GIF, a PNG still, or an SVG or PDF figure, without a window.
    #[cfg(feature = "app")]
    Render(RenderArgs),
    /// Export the surface (and the runs' paths) as a 3D model: glTF (.glb), STL or OBJ.
    #[cfg(feature = "app")]
    ExportMesh(export_mesh::ExportMeshArgs),
}

/// Parses the process's arguments and runs the command (or the app).
pub fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(err) => clap_error(&err),
    }
}

/// Runs parsed arguments.
pub fn run(cli: Cli) -> ExitCode {
    let Some(command) = cli.command else {
        return launch_app(cli);
    };
    if cli.scene.is_some()
        || cli.preset.is_some()
        || cli.screenshot.is_some()
        || cli.play
        || cli.speed.is_some()
        || cli.landscape != LandscapeArgs::default()
        || cli.class_vote.is_some()
    {
        return usage_error(
            "--scene, --preset, --surface, --formula, --domain, --network, --data (and the network's \
             flags), --screenshot, --play, --speed and --class-vote open the app; they cannot be \
             combined with a command",
        );
    }
    match command {
        Command::Trace(args) => trace::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Basins(args) => basins::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Escape(args) => escape::run(&args),
        Command::Slice(args) => network::run_slice(&args),
        Command::List => {
            let lessons: Vec<_> = crate::core::lessons::PRESETS
                .iter()
                .map(|p| (p.name, p.summary))
                .collect();
            list::run(&lessons)
        }
        #[cfg(feature = "app")]
        Command::Render(args) => render::run(&args),
        #[cfg(feature = "app")]
        Command::ExportMesh(args) => export_mesh::run(&args),
    }
}

#[cfg(feature = "app")]
fn launch_app(cli: Cli) -> ExitCode {
    // a landscape flag with a mistake is refused before a window opens, as `trace` refuses it
    let landscape = match cli.landscape.spec_if_given() {
        Ok(Some(spec)) => match crate::core::Landscape::new(spec.clone()) {
            Ok(_) => Some(spec),
            Err(e) => return usage_error(landscape::describe(&e)),
        },
        Ok(None) => None,
        Err(e) => return usage_error(e),
    };
    let class_code = match cli
        .class_code
        .as_deref()
        .map(crate::core::vote::JoinCode::parse)
    {
        Some(Ok(code)) => Some(code),
        Some(Err(e)) => return usage_error(format!("--class-code: {e}")),
        None => None,
    };
    crate::app::run_app(crate::state::AppLaunch {
        landscape,
        scene: cli.scene,
        preset: cli.preset,
        screenshot: cli.screenshot,
        play: cli.play,
        speed: cli.speed,
        class_vote: cli.class_vote,
        class_code,
    })
}

#[cfg(not(feature = "app"))]
fn launch_app(cli: Cli) -> ExitCode {
    let _ = cli;
    eprintln!(
        "this build of losscape has no app (it was built without the `app` feature); \
         the headless commands below work"
    );
    let _ = <Cli as clap::CommandFactory>::command().print_help();
    ExitCode::SUCCESS
}

/// Prints `error: {message}` on one line and returns [`EXIT_USAGE`].
pub fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Help and version go to stdout with exit 0; a parse error is squeezed onto one line (clap's first
/// line, plus the valid values when clap knows them) with exit 2.
fn clap_error(err: &clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        _ => {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or("error: invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let strings = |kind| match err.get(kind) {
                Some(ContextValue::Strings(values)) if !values.is_empty() => {
                    Some(values.join(", "))
                }
                _ => None,
            };
            if err.kind() == ErrorKind::MissingRequiredArgument
                && let Some(missing) = strings(ContextKind::InvalidArg)
            {
                // clap lists the missing arguments on the following lines.
                return usage_error(format_args!("{first} {missing} (see --help)"));
            }
            match strings(ContextKind::ValidValue) {
                Some(valid) => usage_error(format_args!("{first}; valid values: {valid}")),
                None => usage_error(format_args!("{first} (see --help)")),
            }
        }
    }
}
