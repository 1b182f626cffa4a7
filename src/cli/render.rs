//! `losscape render`: a scene rendered offscreen (no window, no display) to a GIF, or to a still of the
//! last frame (or of `--step K`): a PNG, or a vector figure, SVG or PDF. The arguments are parsed straight into the renderer's [`RenderJob`] and checked (the output
//! path tried too) before anything is rendered: bad input is one `error:` line and exit 2; a failure while
//! rendering is one line and exit 1; exit 0 means the file is complete.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::landscape::{LandscapeArgs, describe};
use super::trace::HyperFlags;
use super::{EXIT_FAILURE, usage_error};
use crate::core::{
    Convention, Landscape, OptimizerKind, Schedule, lessons,
    scene::{OptimizerSpec, Scene, ViewLayout},
};
use crate::recording::{
    PaletteMode,
    encoder::check_writable,
    headless::{RenderJob, render},
};

/// Frame-rate bounds (frames per second).
pub const FPS_RANGE: (f64, f64) = (10.0, 50.0);
/// Most frames in one clip.
pub const MAX_FRAMES: u32 = 10_000;
/// Size bounds, pixels per side.
pub const SIZE_RANGE: (u32, u32) = (16, 4096);

/// Arguments of `losscape render`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Render a scene offscreen to a GIF, a PNG still, or an SVG or PDF figure, without a window",
    long_about = "Render a scene offscreen to a GIF, a PNG still, or an SVG or PDF figure, without a window.\n\n\
                  The optimizers take --steps-per-frame steps between frames, so a scene always gives the \
                  same frames; a still shows the last frame, or --step K. SVG and PDF figures are the PNG \
                  as vector shapes and real text (the surface an embedded image), with the command that \
                  made them embedded. Drawn on the CPU: needs no GPU and no display."
)]
pub struct RenderArgs {
    /// The scene file (RON) to render.
    #[arg(long, value_name = "FILE", conflicts_with = "preset")]
    pub scene: Option<PathBuf>,
    /// The built-in lesson to render (see `losscape list`).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// The scene's optimizers on another landscape: --surface NAME, or your own --formula EXPR
    /// [--domain XMIN,XMAX,YMIN,YMAX] (without --scene or --preset: the saddle lesson's optimizers).
    #[command(flatten)]
    pub landscape: LandscapeArgs,
    /// Output: FILE.gif for the clip; FILE.png, FILE.svg or FILE.pdf for a still of the last frame
    /// (or of --step).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A still at step K (the runs' K-th step from their starts) instead of the clip's last frame.
    #[arg(long, value_name = "K")]
    pub step: Option<u64>,
    /// Frames in the clip (1 ..= 10000).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub frames: u32,
    /// Frames per second (10 ..= 50).
    #[arg(long, value_name = "F", default_value_t = 25.0)]
    pub fps: f64,
    /// Frame size: WxH in pixels (16 ..= 4096 each), or in centimetres, millimetres or inches for a
    /// figure to print (16x12cm, 160x120mm, 6.3x4.7in) at --dpi.
    #[arg(long, value_name = "WxH", default_value = "640x480")]
    pub size: String,
    /// Pixels per inch of a size in cm, mm or in: the embedded image's resolution (50 ..= 1200)
    /// [default: 300].
    #[arg(long, value_name = "N")]
    pub dpi: Option<f64>,
    /// Which views: 3d, top or split [default: the scene's layout].
    #[arg(long, value_name = "VIEW", value_parser = parse_view)]
    pub view: Option<ViewLayout>,
    /// Optimizer steps between frames (1 ..= 10000).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub steps_per_frame: u32,
    /// Draw the legend (colours, names, eta, betas) and the step counter into the frames.
    #[arg(long)]
    pub legend: bool,
    /// A title over the clip.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Leave out the axes (ticks and values along the top view's edges).
    #[arg(long)]
    pub no_axes: bool,
    /// GIF palette: one for the whole clip (steady shading, small files) or one per frame.
    #[arg(long, value_enum, default_value_t = PaletteMode::Global)]
    pub palette: PaletteMode,
    /// The optimizers and their settings, as `trace` takes them (each applies to every optimizer).
    #[command(flatten)]
    pub optimizers: OptimizerOverrides,
}

/// `trace`'s optimizer flags for `render`: each one given replaces that setting in every optimizer of
/// the scene.
#[derive(Debug, Clone, Default, Args)]
pub struct OptimizerOverrides {
    /// Render these optimizers instead of the scene's (comma separated, e.g.
    /// newton,saddle-free-newton), each with its default settings, from the scene's first start.
    #[arg(long, value_name = "NAMES")]
    pub optimizer: Option<String>,
    /// eta, the betas, eps, lambda, nu and nu2 of every optimizer.
    #[command(flatten)]
    pub hyper: HyperFlags,
    /// Learning-rate schedule of every optimizer: constant, step:K:G, exp:G, cosine:T[:A],
    /// warmup-cosine:W:T[:A], inv-sqrt:W.
    #[arg(long, value_name = "SCHEDULE")]
    pub schedule: Option<String>,
    /// Formulas of every optimizer: lecture or pytorch.
    #[arg(long, value_name = "NAME")]
    pub convention: Option<String>,
}

impl OptimizerOverrides {
    /// `scene` with the given settings in every optimizer (and, with `--optimizer`, other optimizers);
    /// the error is one line.
    pub fn apply(&self, mut scene: Scene) -> Result<Scene, String> {
        if let Some(names) = &self.optimizer {
            let start = match scene.optimizers.first() {
                Some(o) => o.start,
                None => Landscape::new(scene.landscape.clone())
                    .map_err(|e| describe(&e))?
                    .default_start(),
            };
            let kinds = names
                .split(',')
                .map(|name| OptimizerKind::from_name(name.trim()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            scene.optimizers = kinds
                .into_iter()
                .enumerate()
                .map(|(i, kind)| {
                    let mut spec = OptimizerSpec::with_defaults(kind, i, start);
                    spec.name = kind.label().to_owned();
                    spec
                })
                .collect();
            // a question about the scene's own optimizers no longer applies
            scene.question = None;
        }
        let schedule = self
            .schedule
            .as_deref()
            .map(str::parse::<Schedule>)
            .transpose()
            .map_err(|e| e.to_string())?;
        let convention = self
            .convention
            .as_deref()
            .map(Convention::from_name)
            .transpose()
            .map_err(|e| e.to_string())?;
        for o in &mut scene.optimizers {
            let h = &mut o.hyper;
            // a flag an optimizer does not use changes nothing in its run
            let _ = self.hyper.apply(h, o.kind);
            if let Some(schedule) = schedule {
                h.schedule = schedule;
            }
            if let Some(convention) = convention {
                h.convention = convention;
            }
            h.validate().map_err(|e| e.to_string())?;
        }
        Ok(scene)
    }
}

/// `3d`, `top` or `split`.
fn parse_view(text: &str) -> Result<ViewLayout, String> {
    ViewLayout::from_name(text).ok_or_else(|| {
        let valid: Vec<_> = ViewLayout::ALL.iter().map(|l| l.label()).collect();
        format!("invalid value '{text}'; valid values: {}", valid.join(", "))
    })
}

/// Pixels per inch of a physical size when none is given.
pub const DEFAULT_DPI: f64 = 300.0;
/// DPI bounds.
pub const DPI_RANGE: (f64, f64) = (50.0, 1200.0);

/// Parses `--size` with `--dpi`: `WxH` in pixels, or `WxHcm` / `mm` / `in` converted to pixels at the
/// DPI (300 if not given). Returns the size in pixels and, for a physical size, the DPI.
pub fn parse_size_at(text: &str, dpi: Option<f64>) -> Result<(u32, u32, Option<f64>), String> {
    let trimmed = text.trim().to_ascii_lowercase();
    let unit = [("cm", 1.0 / 2.54), ("mm", 0.1 / 2.54), ("in", 1.0)]
        .into_iter()
        .find(|(suffix, _)| trimmed.ends_with(suffix));
    let Some((suffix, inches_per_unit)) = unit else {
        if let Some(dpi) = dpi {
            return Err(format!(
                "--dpi {dpi} goes with a size in cm, mm or in (e.g. --size 16x12cm --dpi 300)"
            ));
        }
        return parse_size(text).map(|(w, h)| (w, h, None));
    };
    let dpi = dpi.unwrap_or(DEFAULT_DPI);
    if !(dpi.is_finite() && (DPI_RANGE.0..=DPI_RANGE.1).contains(&dpi)) {
        return Err(format!(
            "--dpi {dpi} is out of range ({}..={})",
            DPI_RANGE.0, DPI_RANGE.1
        ));
    }
    let bad = || format!("--size {text:?} is not WxH{suffix} (e.g. 16x12cm)");
    let body = &trimmed[..trimmed.len() - suffix.len()];
    let (w, h) = body.split_once('x').ok_or_else(bad)?;
    let w: f64 = w.trim().parse().map_err(|_| bad())?;
    let h: f64 = h.trim().parse().map_err(|_| bad())?;
    let px = |v: f64| (v * inches_per_unit * dpi).round();
    let (pw, ph) = (px(w), px(h));
    for v in [pw, ph] {
        if !(v.is_finite() && (SIZE_RANGE.0 as f64..=SIZE_RANGE.1 as f64).contains(&v)) {
            return Err(format!(
                "--size {text} at {dpi} dpi is {pw}x{ph} pixels, out of range ({}..={} per side)",
                SIZE_RANGE.0, SIZE_RANGE.1
            ));
        }
    }
    Ok((pw as u32, ph as u32, Some(dpi)))
}

/// This process's command line, each argument quoted for a POSIX shell where it needs it: what a
/// figure embeds so that it can be made again.
pub fn command_line() -> String {
    let quote = |a: String| {
        let plain = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=.,/:+@%^".contains(c));
        if plain {
            a
        } else {
            format!("'{}'", a.replace('\'', "'\\''"))
        }
    };
    let mut args = std::env::args();
    // the program's name, not the path it was started by
    let program = args
        .next()
        .map(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "losscape".into());
    std::iter::once(program)
        .chain(args.map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses `WxH`.
pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--size {text:?} is not WxH (e.g. 640x480)");
    let (w, h) = text.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    for v in [w, h] {
        if !(SIZE_RANGE.0..=SIZE_RANGE.1).contains(&v) {
            return Err(format!(
                "--size {w}x{h} is out of range ({}..={} pixels per side)",
                SIZE_RANGE.0, SIZE_RANGE.1
            ));
        }
    }
    Ok((w, h))
}

/// The scene a command draws: `--scene FILE` or `--preset NAME`, on the landscape of `--surface` or
/// `--formula` if given (without a scene or preset: the default lesson's optimizers on it). `command`
/// names the command in the error, which is one line.
pub fn scene_of(
    command: &str,
    file: Option<&std::path::Path>,
    preset: Option<&str>,
    landscape: &LandscapeArgs,
) -> Result<Scene, String> {
    let spec = landscape.spec_if_given()?;
    let scene = match (file, preset) {
        (Some(path), None) => Scene::read_file(path)?,
        (None, Some(name)) => lessons::preset(name).map_err(|e| e.to_string())?,
        (Some(_), Some(_)) => return Err("give --scene or --preset, not both".into()),
        (None, None) if spec.is_some() => {
            lessons::preset(lessons::DEFAULT_LESSON).map_err(|e| e.to_string())?
        }
        (None, None) => {
            return Err(format!(
                "{command} needs --scene FILE, --preset NAME, or a landscape (--surface/--formula)"
            ));
        }
    };
    match spec {
        Some(spec) => scene.on_landscape(spec).map_err(|e| describe(&e)),
        None => Ok(scene),
    }
}

/// Checks every argument and the output path and returns what the renderer takes; the error is one line.
pub fn job(args: &RenderArgs) -> Result<RenderJob, String> {
    let scene = scene_of(
        "render",
        args.scene.as_deref(),
        args.preset.as_deref(),
        &args.landscape,
    )?;
    let scene = args.optimizers.apply(scene)?;
    let extension = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if !matches!(extension.as_deref(), Some("gif" | "png" | "svg" | "pdf")) {
        return Err(format!(
            "--out {} must end in .gif (a clip), .png (a still), or .svg or .pdf (a vector figure)",
            args.out.display()
        ));
    }
    if let Some(step) = args.step {
        if extension.as_deref() == Some("gif") {
            return Err(
                "--step is for a still (.png, .svg, .pdf); a clip shows every step from the start"
                    .into(),
            );
        }
        if step > crate::core::MAX_TRACE_STEPS {
            return Err(format!(
                "--step {step} is out of range (0..={})",
                crate::core::MAX_TRACE_STEPS
            ));
        }
    }
    if !(1..=MAX_FRAMES).contains(&args.frames) {
        return Err(format!(
            "--frames {} is out of range (1..={MAX_FRAMES})",
            args.frames
        ));
    }
    if !(args.fps.is_finite() && (FPS_RANGE.0..=FPS_RANGE.1).contains(&args.fps)) {
        return Err(format!(
            "--fps {} is out of range ({}..={})",
            args.fps, FPS_RANGE.0, FPS_RANGE.1
        ));
    }
    if !(1..=10_000).contains(&args.steps_per_frame) {
        return Err(format!(
            "--steps-per-frame {} is out of range (1..=10000)",
            args.steps_per_frame
        ));
    }
    let (width, height, dpi) = parse_size_at(&args.size, args.dpi)?;
    if scene.optimizers.is_empty() {
        return Err("the scene has no optimizers to render".into());
    }
    check_writable(&args.out).map_err(|e| format!("--out: {e}"))?;
    Ok(RenderJob {
        view: args.view.unwrap_or(scene.layout),
        scene,
        out: args.out.clone(),
        frames: args.frames,
        fps: args.fps,
        width,
        height,
        steps_per_frame: args.steps_per_frame,
        legend: args.legend,
        step_counter: args.legend,
        axes: !args.no_axes,
        title: args.title.clone().filter(|t| !t.trim().is_empty()),
        palette: args.palette,
        progress: true,
        cameras: Vec::new(),
        runs: None,
        step: args.step,
        dpi,
        command: command_line(),
    })
}

/// Runs `losscape render`.
pub fn run(args: &RenderArgs) -> ExitCode {
    let job = match job(args) {
        Ok(job) => job,
        Err(e) => return usage_error(e),
    };
    match render(&job, None) {
        Ok(report) => {
            eprintln!(
                "wrote {} ({} frame{}, {} bytes) in {:.2} s",
                job.out.display(),
                report.frames,
                if report.frames == 1 { "" } else { "s" },
                report.bytes,
                report.seconds
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("640x480"), Ok((640, 480)));
        assert_eq!(parse_size(" 320X240 "), Ok((320, 240)));
        assert!(parse_size("640").is_err());
        assert!(parse_size("0x480").is_err());
        assert!(parse_size("640x-1").is_err());
        assert!(parse_size("9000x10").is_err());
    }

    #[test]
    fn physical_sizes() {
        assert_eq!(parse_size_at("640x480", None), Ok((640, 480, None)));
        assert_eq!(
            parse_size_at("16x12cm", None),
            Ok((1890, 1417, Some(300.0)))
        );
        assert_eq!(
            parse_size_at("160x120mm", Some(96.0)),
            Ok((605, 454, Some(96.0)))
        );
        assert_eq!(
            parse_size_at("4x3in", Some(100.0)),
            Ok((400, 300, Some(100.0)))
        );
        assert!(
            parse_size_at("640x480", Some(300.0))
                .unwrap_err()
                .contains("--dpi")
        );
        assert!(
            parse_size_at("40x30cm", None)
                .unwrap_err()
                .contains("out of range")
        );
        assert!(parse_size_at("16x12cm", Some(10.0)).is_err());
        assert!(parse_size_at("16cm", None).is_err());
    }

    #[test]
    fn views() {
        assert_eq!(parse_view("3d"), Ok(ViewLayout::ThreeD));
        assert_eq!(parse_view("split"), Ok(ViewLayout::Split));
        assert!(parse_view("side").unwrap_err().contains("3d, top"));
    }
}
