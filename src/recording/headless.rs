//! Clips without a window and without a GPU: `losscape render`, and the app's clip recorder (run on a
//! worker thread). The landscape is drawn once on the CPU ([`super::still`]) through cameras where the
//! app's cameras start (or where the app's cameras are now); then, frame by frame, the runs are stepped a
//! fixed number of optimizer steps (not by the clock) and their trails, start rings and balls painted over
//! that still ([`super::overlay`], the same painting as the app's views), with the legend, the step
//! counter, axes and a title, and the frames fed to the GIF encoder thread.
//!
//! The landscape does not change during a clip, so it is drawn once; drawing it on the CPU instead of
//! starting a GPU renderer (shader compilation, pipelines) is what makes a clip fast on any machine.

use std::{
    io::IsTerminal,
    path::PathBuf,
    sync::atomic::{AtomicBool, AtomicU32, Ordering},
    time::Instant,
};

use bevy::{math::UVec2, prelude::*};
use bevy_egui::egui;
use bevy_panorbit_camera::PanOrbitCamera;

use super::encoder::{FrameIn, GifEncoder, GifSettings, PaletteMode, write_atomically};
use super::figure::{FigureFormat, FigureScene, Provenance};
use super::frame::{CropRect, RgbaImage};
use super::legend::{Corner, LegendEntry, LegendState, paint_legend, rgb8};
use super::overlay::{PathOverlay, RunSnapshot};
use super::raster::ShapePainter;
use crate::core::{
    Landscape,
    scene::{Scene, ViewLayout},
};
use crate::geometry::{SurfaceFrame, ViewKind, ViewProjection, sample_surface};
use crate::paint::axes::paint_top_axes;
use crate::views::{BACKGROUND, fov_for_aspect, orbit_for, top_orbit, top_projection, view_rects};

/// Where a view's camera is and how it projects, for a clip: the app's camera as it is now, or (when a
/// clip names none) where the app's camera starts.
#[derive(Clone, Debug)]
pub struct ClipCamera {
    pub view: ViewKind,
    pub transform: Transform,
    pub projection: Projection,
}

/// What to render.
#[derive(Clone, Debug)]
pub struct RenderJob {
    pub scene: Scene,
    /// `.gif` for the clip, `.png` for a still, `.svg` or `.pdf` for a vector figure (a still too).
    pub out: PathBuf,
    pub frames: u32,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    pub view: ViewLayout,
    /// Optimizer steps between frames.
    pub steps_per_frame: u32,
    /// Draw the legend (colours, names, eta, betas).
    pub legend: bool,
    /// Draw the step counter.
    pub step_counter: bool,
    /// Draw axes with ticks and values along the top view's edges.
    pub axes: bool,
    /// A title over the clip.
    pub title: Option<String>,
    pub palette: PaletteMode,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
    /// The cameras; empty: where the app's cameras start.
    pub cameras: Vec<ClipCamera>,
    /// The runs as they are now in the app (state and trail so far); `None`: the scene's runs from
    /// their starts.
    pub runs: Option<Vec<RunSnapshot>>,
    /// A still (PNG, SVG, PDF) at this many steps from where the runs start; `None`: the clip's last
    /// frame, `steps_per_frame * (frames - 1)`.
    pub step: Option<u64>,
    /// Pixels per inch when the size was asked for in centimetres: a figure's page size is then the
    /// size in centimetres; `None`: a size in pixels (96 to the inch in a figure).
    pub dpi: Option<f64>,
    /// How the job was made, one line (the command line, or the app), embedded in stills and figures.
    pub command: String,
}

impl RenderJob {
    /// Steps from the runs' starts to the still (or to the clip's last frame).
    pub fn still_steps(&self) -> u64 {
        self.step
            .unwrap_or(self.steps_per_frame as u64 * self.frames.saturating_sub(1) as u64)
    }

    /// What a still or figure embeds so that it can be made again: the command and the scene.
    pub fn provenance(&self) -> Provenance {
        let mut scene = self.scene.to_ron().unwrap_or_default();
        if !self.cameras.is_empty() {
            scene.push_str("\n// cameras (view: translation, rotation):\n");
            for c in &self.cameras {
                scene.push_str(&format!(
                    "// {:?}: {:?}, {:?}\n",
                    c.view, c.transform.translation, c.transform.rotation
                ));
            }
        }
        Provenance {
            title: self.title.clone(),
            command: self.command.clone(),
            scene,
        }
    }
}

/// What was written.
#[derive(Clone, Debug)]
pub struct RenderReport {
    pub frames: u32,
    pub bytes: u64,
    pub seconds: f64,
}

/// Progress and cancel, shared between a render on a worker thread and whoever started it.
#[derive(Debug, Default)]
pub struct RenderControl {
    /// Frames painted so far.
    pub frames_done: AtomicU32,
    /// Set to stop the render; it returns [`CANCELLED`] and writes nothing.
    pub cancel: AtomicBool,
}

/// The error of a cancelled render.
pub const CANCELLED: &str = "cancelled";

/// Where the app's orbit camera would put a camera: yaw about Y, pitch about X, `radius` back from the
/// focus (for an orthographic camera the radius is the projection's scale).
pub fn orbit_transform(orbit: &PanOrbitCamera, projection: &mut Projection) -> Transform {
    let yaw = orbit.yaw.unwrap_or(orbit.target_yaw);
    let pitch = orbit.pitch.unwrap_or(orbit.target_pitch);
    let mut radius = orbit.radius.unwrap_or(orbit.target_radius);
    if let Projection::Orthographic(p) = projection {
        p.scale = radius;
        radius = (p.near + p.far) / 2.0;
    }
    let rotation = Quat::from_rotation_y(yaw) * Quat::from_rotation_x(-pitch);
    Transform {
        translation: orbit.target_focus + rotation * Vec3::new(0.0, 0.0, radius),
        rotation,
        ..default()
    }
}

/// Each view of `layout` in a `size` picture (pixels) with its camera: the given ones, else where the
/// app's cameras start; each projection fitted to its rectangle.
pub fn clip_views(
    frame: &SurfaceFrame,
    size: UVec2,
    layout: ViewLayout,
    cameras: &[ClipCamera],
) -> Vec<ViewProjection> {
    let rects = view_rects(size.as_vec2(), default(), layout);
    ViewKind::ALL
        .into_iter()
        .filter_map(|view| {
            let rect = rects.get(view)?;
            let (transform, mut projection) = match cameras.iter().find(|c| c.view == view) {
                Some(camera) => (camera.transform, camera.projection.clone()),
                None => {
                    let (orbit, mut projection): (PanOrbitCamera, Projection) = match view {
                        ViewKind::ThreeD => (
                            orbit_for(frame, rect.width().max(1.0) / rect.height().max(1.0)),
                            PerspectiveProjection::default().into(),
                        ),
                        ViewKind::Top => (top_orbit(), top_projection(frame)),
                    };
                    (orbit_transform(&orbit, &mut projection), projection)
                }
            };
            let (w, h) = (rect.width().max(1.0), rect.height().max(1.0));
            if let Projection::Perspective(p) = &mut projection {
                // the whole surface in view at this rectangle's shape, as the app's views do
                p.fov = fov_for_aspect(w / h);
            }
            projection.update(w, h);
            Some(ViewProjection {
                view,
                rect: egui::Rect::from_min_max(
                    egui::pos2(rect.min.x, rect.min.y),
                    egui::pos2(rect.max.x, rect.max.y),
                ),
                clip_from_world: projection.get_clip_from_view() * transform.to_matrix().inverse(),
                eye: transform.translation,
                rotation: transform.rotation,
            })
        })
        .collect()
}

/// Renders the job; the error is one line for `error: ...` ([`CANCELLED`] when `control` asked to stop).
pub fn render(job: &RenderJob, control: Option<&RenderControl>) -> Result<RenderReport, String> {
    let started = Instant::now();
    let mut phases = Phases::new(started);
    let cancelled = || control.is_some_and(|c| c.cancel.load(Ordering::Relaxed));
    let png = job
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let landscape = std::sync::Arc::new(
        Landscape::new(job.scene.landscape.clone()).map_err(|e| e.to_string())?,
    );
    let (grid, frame) = sample_surface(&landscape, &job.scene.surface);
    let size = UVec2::new(job.width, job.height);
    let views = clip_views(&frame, size, job.view, &job.cameras);
    let mut paths = match &job.runs {
        Some(runs) => {
            PathOverlay::from_runs(runs.clone(), landscape, frame.clone(), views.clone())?
        }
        None => PathOverlay::new(&job.scene, landscape, frame.clone(), views.clone())?,
    };
    let figure = FigureFormat::of(&job.out);
    let still_only = png || figure.is_some();
    // a still is the runs after its steps; a clip's legend goes in the corner the runs leave emptiest
    // over the whole clip
    let corner = if still_only {
        paths.advance(job.still_steps());
        paths.emptiest_corner(size, paths.legend().len())
    } else if job.legend || job.step_counter {
        let mut whole = paths.clone();
        whole.advance(job.steps_per_frame as u64 * job.frames.saturating_sub(1) as u64);
        whole.emptiest_corner(size, paths.legend().len())
    } else {
        Corner::TopRight
    };
    if let Some(format) = figure {
        let figure = super::figure::build(
            &FigureScene {
                job,
                grid: &grid,
                frame: &frame,
                views: &views,
                paths: &paths,
                corner,
            },
            job.provenance(),
        );
        phases.mark("figure built");
        let bytes = match format {
            FigureFormat::Svg => super::figure::svg::write(&figure).into_bytes(),
            FigureFormat::Pdf => super::figure::pdf::write(&figure)?,
        };
        phases.mark("figure written");
        return finish_still(job, control, &bytes, started);
    }
    let mut still = RgbaImage::new(job.width, job.height);
    super::still::draw_surface(&mut still, &grid, &frame, &job.scene.surface, &views);
    phases.mark("landscape drawn");
    let mut painter = ShapePainter::default();
    // the step counter keeps off the top view's x values (fractions of the frame)
    let mut keep_clear = Vec::new();
    // what never changes during the clip: the landscape, the axes, the title
    painter.paint(&mut still, |p, size| {
        if job.axes
            && let Some(top) = views.iter().find(|v| v.view == ViewKind::Top)
            && let Some(band) =
                paint_top_axes(p, top, &frame, (size.y / 480.0 * 12.0).clamp(9.0, 24.0))
        {
            let fraction = |p: egui::Pos2| (p.to_vec2() / size).to_pos2();
            keep_clear.push(egui::Rect::from_min_max(
                fraction(band.min),
                fraction(band.max),
            ));
        }
        if let Some(title) = job.title.as_deref().filter(|t| !t.trim().is_empty()) {
            let legend = (job.legend || job.step_counter).then_some(corner);
            super::legend::paint_title(p, size, title, legend);
        }
    });
    let mut backdrop: Option<Backdrop> = None;
    let mut painted = Painted::default();
    let mut paint = |paths: &PathOverlay, spare: Option<Vec<u8>>| -> RgbaImage {
        let entries = if job.legend {
            paths.legend()
        } else {
            Vec::new()
        };
        let b = match backdrop.take() {
            Some(b) if b.entries == entries => b,
            old => {
                if old.is_some() {
                    // buffers painted over the old backdrop need all of the new one
                    painted = Painted::everything();
                }
                Backdrop::new(&still, entries, corner, &mut painter)
            }
        };
        let mut image = painted.restore(&b.image, spare);
        let counter = LegendState {
            entries: Vec::new(),
            step: job.step_counter.then(|| paths.steps()),
            corner,
            keep_clear: keep_clear.clone(),
        };
        let paths_rect = painter.paint(&mut image, |p, _| paths.paint(p));
        // the legend stays on top of the paths
        if let Some(r) = b.legend_box {
            image.copy_rect_from(&b.image, r);
        }
        // and the step counter on top of everything (a small clip may put it under the legend)
        let counter_rect = painter.paint(&mut image, |p, size| {
            paint_legend(p, size, &counter);
        });
        painted.add(paths_rect, counter_rect);
        backdrop = Some(b);
        image
    };
    let mut progress = Progress::new(job.progress, if png { 1 } else { job.frames });

    if png {
        // a still: the runs were advanced to its step above
        let provenance = job.provenance();
        let bytes = paint(&paths, None).to_png_with_text(&[
            ("Software", "losscape"),
            ("Comment", &provenance.command),
            ("losscape:scene", &provenance.scene),
        ])?;
        progress.set(1);
        progress.done();
        return finish_still(job, control, &bytes, started);
    }

    let background = rgb8(BACKGROUND.to_srgba().to_f32_array_no_alpha());
    let mut reserved = paths.colors();
    reserved.push(background);
    let mut encoder = GifEncoder::start(GifSettings {
        width: job.width,
        height: job.height,
        fps: job.fps,
        palette: job.palette,
        reserved,
        background,
    })?;
    for k in 0..job.frames {
        if cancelled() {
            return Err(CANCELLED.into());
        }
        if k > 0 {
            paths.advance(job.steps_per_frame as u64);
        }
        let image = paint(&paths, encoder.spare_buffer());
        encoder.push(FrameIn {
            image,
            crop: None,
            time_s: k as f64 / job.fps,
            legend: None,
        })?;
        progress.set(k + 1);
        if let Some(c) = control {
            c.frames_done.store(k + 1, Ordering::Relaxed);
        }
    }
    phases.mark("frames painted");
    let (frames, bytes) = encoder.save_blocking(job.out.clone())?;
    phases.mark("GIF written");
    progress.done();
    Ok(RenderReport {
        frames,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Writes a still's bytes (unless the render was cancelled) and reports one frame.
fn finish_still(
    job: &RenderJob,
    control: Option<&RenderControl>,
    bytes: &[u8],
    started: Instant,
) -> Result<RenderReport, String> {
    if control.is_some_and(|c| c.cancel.load(Ordering::Relaxed)) {
        return Err(CANCELLED.into());
    }
    write_atomically(&job.out, bytes)?;
    if let Some(c) = control {
        c.frames_done.store(1, Ordering::Relaxed);
    }
    Ok(RenderReport {
        frames: 1,
        bytes: bytes.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The still landscape with the legend's optimizer lines on it (they change only when a run diverges),
/// so each frame paints just the paths and the step counter.
struct Backdrop {
    entries: Vec<LegendEntry>,
    image: RgbaImage,
    /// The lines' box (pixels), put back over the paths of every frame.
    legend_box: Option<CropRect>,
}

impl Backdrop {
    fn new(
        still: &RgbaImage,
        entries: Vec<LegendEntry>,
        corner: Corner,
        painter: &mut ShapePainter,
    ) -> Self {
        let mut image = still.clone();
        let mut legend_box = None;
        let legend = LegendState {
            entries,
            step: None,
            corner,
            keep_clear: Vec::new(),
        };
        painter.paint(&mut image, |p, size| {
            legend_box = paint_legend(p, size, &legend).and_then(|r| {
                let rect = Rect::new(r.min.x, r.min.y, r.max.x, r.max.y);
                CropRect::from_logical(rect, 1.0, (still.width, still.height))
            });
        });
        Self {
            entries: legend.entries,
            image,
            legend_box,
        }
    }
}

/// Where frames have painted over the backdrop so far: the paths and the step counter (two rectangles,
/// as they are far apart). A buffer the encoder hands back holds an earlier frame, so copying these
/// rectangles from the backdrop into it gives a clean backdrop without copying the whole frame.
#[derive(Default)]
struct Painted {
    rects: [Option<CropRect>; 2],
    /// The backdrop changed: a buffer needs all of it.
    everything: bool,
}

impl Painted {
    fn everything() -> Self {
        Self {
            everything: true,
            ..default()
        }
    }

    fn add(&mut self, paths: Option<CropRect>, counter: Option<CropRect>) {
        for (slot, new) in self.rects.iter_mut().zip([paths, counter]) {
            *slot = match (*slot, new) {
                (Some(a), Some(b)) => Some(a.union(b)),
                (a, b) => a.or(b),
            };
        }
    }

    /// The backdrop, in `spare` when there is one.
    fn restore(&self, backdrop: &RgbaImage, spare: Option<Vec<u8>>) -> RgbaImage {
        match spare {
            Some(data) if !self.everything && data.len() == backdrop.data.len() => {
                let mut image = RgbaImage {
                    width: backdrop.width,
                    height: backdrop.height,
                    data,
                };
                for rect in self.rects.iter().flatten() {
                    image.copy_rect_from(backdrop, *rect);
                }
                image
            }
            spare => backdrop.copy_into(spare),
        }
    }
}

/// With `LOSSCAPE_LOG_TIMES` set, how long each phase of a render took, one line each on stderr.
struct Phases {
    enabled: bool,
    last: Instant,
}

impl Phases {
    fn new(started: Instant) -> Self {
        Self {
            enabled: std::env::var_os("LOSSCAPE_LOG_TIMES").is_some(),
            last: started,
        }
    }

    fn mark(&mut self, what: &str) {
        if self.enabled {
            eprintln!("{what}: {:.1} ms", self.last.elapsed().as_secs_f64() * 1e3);
        }
        self.last = Instant::now();
    }
}

/// A one-line progress bar on stderr, when stderr is a terminal.
struct Progress {
    enabled: bool,
    total: u32,
    shown: u32,
}

impl Progress {
    fn new(wanted: bool, total: u32) -> Self {
        Self {
            enabled: wanted && std::io::stderr().is_terminal(),
            total: total.max(1),
            shown: u32::MAX,
        }
    }

    fn set(&mut self, done: u32) {
        if !self.enabled || done == self.shown {
            return;
        }
        self.shown = done;
        let width = 30;
        let filled = (done as usize * width / self.total as usize).min(width);
        eprint!(
            "\rrendering [{}{}] {done}/{} frames",
            "#".repeat(filled),
            " ".repeat(width - filled),
            self.total
        );
    }

    fn done(&mut self) {
        if self.enabled {
            eprintln!();
        }
    }
}
