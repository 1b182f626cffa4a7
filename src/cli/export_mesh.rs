//! `losscape export-mesh`: the surface as a 3D model, glTF binary (`.glb`), STL or OBJ, from a scene, a
//! lesson or a landscape, with the runs' paths (glTF and OBJ). Everything is checked, the output path
//! tried too, before the model is built: bad input is one `error:` line and exit 2; a failure while
//! building or writing one line and exit 1.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::landscape::LandscapeArgs;
use super::render::{command_line, scene_of};
use super::{EXIT_FAILURE, usage_error};
use crate::core::{MAX_TRACE_STEPS, scene::Colormap};
use crate::recording::{
    encoder::check_writable,
    model::{ModelFormat, ModelJob, PathStyle, export},
};

/// Arguments of `losscape export-mesh`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Export the surface as a 3D model: glTF (.glb), STL (closed, for 3D printing) or OBJ",
    long_about = "Export the surface as a 3D model: glTF (.glb), STL or OBJ.\n\n\
                  The mesh is the app's, at the scene's resolution and height scale (or the flags'), with \
                  vertex colours from the colormap (glTF, OBJ) and the runs' paths as thin tubes or \
                  lines with a ball where each run ends (glTF, OBJ). glTF and OBJ are in metres, Y up, \
                  1 m across. An STL is the surface closed into a solid on a 3 mm base, in millimetres, \
                  Z up, 100 mm across: ready for a slicer. A formula's gaps stay gaps in glTF and OBJ; \
                  an STL with gaps is refused."
)]
pub struct ExportMeshArgs {
    /// The scene file (RON) whose surface and runs to export.
    #[arg(long, value_name = "FILE", conflicts_with = "preset")]
    pub scene: Option<PathBuf>,
    /// The built-in lesson whose surface and runs to export (see `losscape list`).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// The landscape: --surface NAME, or your own --formula EXPR [--domain XMIN,XMAX,YMIN,YMAX]
    /// (without --scene or --preset: the saddle lesson's optimizers on it).
    #[command(flatten)]
    pub landscape: LandscapeArgs,
    /// Output: FILE.glb, FILE.stl or FILE.obj.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Vertices per side of the surface grid (2 ..= 1024) [default: the scene's].
    #[arg(long, value_name = "N")]
    pub resolution: Option<usize>,
    /// Height of the surface over its width (0.05 ..= 2) [default: the scene's].
    #[arg(long, value_name = "H")]
    pub height_scale: Option<f64>,
    /// Heights from ln(1 + loss - min loss) instead of the loss.
    #[arg(long)]
    pub log_height: bool,
    /// Colormap of the vertex colours: viridis, magma or turbo [default: the scene's].
    #[arg(long, value_name = "NAME")]
    pub colormap: Option<String>,
    /// The runs' paths: tubes, lines or none (glTF and OBJ; an STL is the surface alone).
    #[arg(long, value_enum, default_value_t = PathStyle::Tubes)]
    pub paths: PathStyle,
    /// Steps each run takes from its start for its path.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub steps: u64,
}

/// Checks every argument and the output path and returns the job; the error is one line.
pub fn job(args: &ExportMeshArgs) -> Result<ModelJob, String> {
    let mut scene = scene_of(
        "export-mesh",
        args.scene.as_deref(),
        args.preset.as_deref(),
        &args.landscape,
    )?;
    ModelFormat::of(&args.out).ok_or_else(|| {
        format!(
            "--out {} must end in .glb (glTF), .stl or .obj",
            args.out.display()
        )
    })?;
    let style = &mut scene.surface;
    if let Some(n) = args.resolution {
        style.resolution = n;
    }
    if let Some(h) = args.height_scale {
        style.height_scale = h;
    }
    if args.log_height {
        style.log_height = true;
    }
    if let Some(name) = &args.colormap {
        style.colormap = Colormap::ALL
            .into_iter()
            .find(|c| c.label().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                let valid: Vec<_> = Colormap::ALL.iter().map(|c| c.label()).collect();
                format!("--colormap {name:?} is not one of {}", valid.join(", "))
            })?;
    }
    style
        .validate()
        .map_err(|e| format!("{e} (--resolution, --height-scale)"))?;
    if args.steps > MAX_TRACE_STEPS {
        return Err(format!(
            "--steps {} is out of range (0..={MAX_TRACE_STEPS})",
            args.steps
        ));
    }
    check_writable(&args.out).map_err(|e| format!("--out: {e}"))?;
    Ok(ModelJob {
        scene,
        out: args.out.clone(),
        paths: args.paths,
        steps: args.steps,
        runs: None,
        command: command_line(),
    })
}

/// Runs `losscape export-mesh`.
pub fn run(args: &ExportMeshArgs) -> ExitCode {
    let job = match job(args) {
        Ok(job) => job,
        Err(e) => return usage_error(e),
    };
    let started = std::time::Instant::now();
    match export(&job) {
        Ok(report) => {
            eprintln!(
                "wrote {} ({} triangles, {} bytes) in {:.2} s",
                job.out.display(),
                report.triangles,
                report.bytes,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
