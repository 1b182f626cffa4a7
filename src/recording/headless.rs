//! `losscape render`: the scene's landscape rendered offscreen (no window, no display) into an image
//! target by Bevy, with the app's surface and scene plugins and its cameras where the app's orbit cameras
//! start; then, frame by frame, the runs stepped a fixed number of optimizer steps (not by the clock) and
//! their trails, start rings and balls painted over that still image on the CPU ([`super::overlay`]),
//! the legend too, and the frames fed to the GIF encoder thread.
//!
//! The landscape does not change during a clip, so it is drawn once: on software Vulkan, shading the
//! surface again for every frame cost ten times more than everything else together.

use std::{
    io::IsTerminal,
    path::PathBuf,
    time::{Duration, Instant},
};

use bevy::{
    app::PluginsState,
    camera::{RenderTarget, Viewport, visibility::RenderLayers},
    log::{Level, LogPlugin},
    prelude::*,
    render::{
        RenderPlugin,
        pipelined_rendering::PipelinedRenderingPlugin,
        render_resource::{PollType, TextureFormat, TextureUsages},
        renderer::RenderDevice,
        settings::RenderCreation,
        view::screenshot::{CapturedScreenshots, Screenshot},
    },
    window::ExitCondition,
    winit::WinitPlugin,
};
use bevy_egui::egui;
use bevy_panorbit_camera::PanOrbitCamera;

use super::encoder::{FrameIn, GifEncoder, GifSettings, PaletteMode, write_atomically};
use super::frame::{CropRect, RgbaImage};
use super::legend::{LegendEntry, LegendState, paint_legend, rgb8};
use super::overlay::PathOverlay;
use super::raster::ShapePainter;
use crate::core::scene::{Scene, ViewLayout};
use crate::geometry::{SurfaceFrame, ViewKind, ViewProjection};
use crate::platform::start_renderer;
use crate::schedule::AppSystems;
use crate::state::{ActiveLandscape, SurfaceSettings};
use crate::views::{
    BACKGROUND, Layout, fov_for_aspect, orbit_for, top_orbit, top_projection, view_rects,
};

/// Updates allowed before the first frame must be complete (shaders compile, meshes upload).
const WARMUP_UPDATES: u32 = 200;
/// Consecutive identical captures of the landscape that mean "the frame is complete".
const STABLE_CAPTURES: usize = 2;

/// What to render.
#[derive(Clone, Debug)]
pub struct RenderJob {
    pub scene: Scene,
    /// `.gif` for the clip, `.png` for a still of the last frame.
    pub out: PathBuf,
    pub frames: u32,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    pub view: ViewLayout,
    /// Optimizer steps between frames.
    pub steps_per_frame: u32,
    pub legend: bool,
    pub palette: PaletteMode,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
}

/// What was written.
#[derive(Clone, Debug)]
pub struct RenderReport {
    pub frames: u32,
    pub bytes: u64,
    pub seconds: f64,
}

/// The image every headless camera draws into.
#[derive(Resource, Clone)]
struct Target {
    image: Handle<Image>,
    size: UVec2,
    layout: ViewLayout,
}

/// Renders the job; the error is one line for `error: ...`.
pub fn render(job: &RenderJob) -> Result<RenderReport, String> {
    let started = Instant::now();
    let mut phases = Phases::new(started);
    let gpu = start_renderer()?;
    phases.mark("GPU started");
    let png = job
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let landscape = std::sync::Arc::new(
        crate::core::Landscape::new(job.scene.landscape.clone()).map_err(|e| e.to_string())?,
    );
    let Still {
        image: still,
        frame,
        views,
        renderer,
    } = render_landscape(job, landscape.clone(), gpu)?;
    phases.mark("landscape drawn");
    let mut paths = PathOverlay::new(&job.scene, landscape, frame, views)?;
    let mut painter = ShapePainter::default();
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
                Backdrop::new(&still, entries, &mut painter)
            }
        };
        let mut image = painted.restore(&b.image, spare);
        let counter = LegendState {
            entries: Vec::new(),
            step: job.legend.then(|| paths.steps()),
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
        // a still of the last frame: the steps of every frame but the first
        paths.advance(job.steps_per_frame as u64 * job.frames.saturating_sub(1) as u64);
        let bytes = paint(&paths, None).to_png()?;
        drop(renderer);
        write_atomically(&job.out, &bytes)?;
        progress.set(1);
        progress.done();
        return Ok(RenderReport {
            frames: 1,
            bytes: bytes.len() as u64,
            seconds: started.elapsed().as_secs_f64(),
        });
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
    }
    phases.mark("frames painted");
    drop(renderer);
    let (frames, bytes) = encoder.save_blocking(job.out.clone())?;
    phases.mark("GIF written");
    progress.done();
    Ok(RenderReport {
        frames,
        bytes,
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
    fn new(still: &RgbaImage, entries: Vec<LegendEntry>, painter: &mut ShapePainter) -> Self {
        let mut image = still.clone();
        let mut legend_box = None;
        let legend = LegendState {
            entries,
            step: None,
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

/// The landscape as the cameras see it, without anything that moves, and how they project the world.
struct Still {
    image: RgbaImage,
    frame: SurfaceFrame,
    views: Vec<ViewProjection>,
    /// The Bevy app, dropped once the frames are queued (tearing the renderer down takes a while; then it
    /// overlaps with the encoder's last frames).
    renderer: App,
}

/// Renders the scene's landscape offscreen until a frame is complete, and reads the cameras.
fn render_landscape(
    job: &RenderJob,
    landscape: std::sync::Arc<crate::core::Landscape>,
    gpu: RenderCreation,
) -> Result<Still, String> {
    let mut app = build_app(job, landscape, gpu);
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();
    let image = warm_up(&mut app)?;
    let world = app.world_mut();
    let frame = world.resource::<SurfaceFrame>().clone();
    let mut views: Vec<(isize, ViewProjection)> = world
        .query::<(&ViewKind, &Camera, &GlobalTransform)>()
        .iter(world)
        .filter_map(|(view, camera, transform)| {
            let rect = camera.physical_viewport_rect()?;
            Some((
                camera.order,
                ViewProjection {
                    view: *view,
                    rect: egui::Rect::from_min_max(
                        egui::pos2(rect.min.x as f32, rect.min.y as f32),
                        egui::pos2(rect.max.x as f32, rect.max.y as f32),
                    ),
                    clip_from_world: camera.clip_from_view() * transform.to_matrix().inverse(),
                    eye: transform.translation(),
                    rotation: transform.rotation(),
                },
            ))
        })
        .collect();
    views.sort_by_key(|(order, _)| *order);
    Ok(Still {
        image,
        frame,
        views: views.into_iter().map(|(_, v)| v).collect(),
        renderer: app,
    })
}

fn build_app(
    job: &RenderJob,
    landscape: std::sync::Arc<crate::core::Landscape>,
    gpu: RenderCreation,
) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                close_when_requested: false,
                ..default()
            })
            .set(RenderPlugin {
                render_creation: gpu,
                // every pipeline is ready the first time it is used: no half-drawn first frames
                synchronous_pipeline_compilation: true,
                ..default()
            })
            .set(LogPlugin {
                level: Level::WARN,
                // the "software rendering is slow" warning is expected here (lavapipe is the usual renderer)
                filter: "wgpu=error,naga=warn,bevy_render::renderer=error".into(),
                ..default()
            })
            .disable::<WinitPlugin>()
            // one thread: each update renders its own frame before the next starts
            .disable::<PipelinedRenderingPlugin>(),
    );
    app.set_error_handler(bevy::ecs::error::warn);
    let scene = job.scene.clone();
    app.insert_resource(ActiveLandscape(landscape));
    app.insert_resource(SurfaceSettings(scene.surface.clone()));
    app.init_resource::<Layout>();
    app.add_plugins((
        crate::schedule::plugin,
        crate::surface::plugin,
        crate::optimizers::simulation_plugin,
        crate::lessons::plugin,
    ));
    let size = UVec2::new(job.width, job.height);
    let mut image = Image::new_target_texture(size.x, size.y, TextureFormat::Rgba8UnormSrgb, None);
    image.texture_descriptor.usage |= TextureUsages::COPY_SRC;
    let handle = app.world_mut().resource_mut::<Assets<Image>>().add(image);
    app.insert_resource(Target {
        image: handle,
        size,
        layout: job.view,
    });
    app.add_systems(Startup, spawn_cameras).add_systems(
        Update,
        aim_cameras
            .run_if(resource_changed::<SurfaceFrame>)
            .in_set(AppSystems::Views),
    );
    app.world_mut()
        .write_message(crate::lessons::LoadScene::new(scene, None));
    app
}

/// The app's two cameras, drawing into the target image with the layout's viewports.
fn spawn_cameras(mut commands: Commands, target: Res<Target>, frame: Res<SurfaceFrame>) {
    let rects = view_rects(target.size.as_vec2(), default(), target.layout);
    for (view, order) in [(ViewKind::ThreeD, 0), (ViewKind::Top, 1)] {
        let Some(rect) = rects.get(view) else {
            continue;
        };
        let viewport = Viewport {
            physical_position: rect.min.as_uvec2(),
            physical_size: rect.size().as_uvec2().max(UVec2::ONE),
            ..default()
        };
        let projection = match view {
            ViewKind::ThreeD => Projection::Perspective(PerspectiveProjection {
                fov: fov_for_aspect(rect.width() / rect.height().max(1.0)),
                ..default()
            }),
            ViewKind::Top => top_projection(&frame),
        };
        commands.spawn((
            Name::new(format!("{view:?} render camera")),
            view,
            Camera3d::default(),
            Camera {
                order,
                viewport: Some(viewport),
                ..default()
            },
            RenderTarget::Image(target.image.clone().into()),
            // contour lines are anti-aliased in the shader; multisampling would quadruple the
            // rasterisation work on software Vulkan for little visible gain at GIF resolutions
            Msaa::Off,
            // the colours the app shows (its surface cameras do not tone-map either)
            bevy::core_pipeline::tonemapping::Tonemapping::None,
            projection,
            // the landscape only: what moves is painted over it on the CPU
            RenderLayers::layer(0),
            Transform::default(),
        ));
    }
    crate::views::spawn_lighting(&mut commands);
    commands.insert_resource(ClearColor(BACKGROUND));
}

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

fn aim_cameras(
    frame: Res<SurfaceFrame>,
    mut cameras: Query<(&ViewKind, &mut Transform, &mut Projection)>,
) {
    for (view, mut transform, mut projection) in &mut cameras {
        let orbit = match view {
            ViewKind::ThreeD => orbit_for(&frame),
            ViewKind::Top => {
                *projection = top_projection(&frame);
                top_orbit()
            }
        };
        *transform = orbit_transform(&orbit, &mut projection);
    }
}

/// Runs one update and waits for the GPU to finish it.
fn update(app: &mut App) -> Result<(), String> {
    app.update();
    let Some(device) = app.world().get_resource::<RenderDevice>() else {
        return Err("the renderer did not start (no render device)".into());
    };
    device
        .wgpu_device()
        .poll(PollType::Wait {
            submission_index: None,
            timeout: Some(Duration::from_secs(60)),
        })
        .map_err(|e| format!("the GPU did not finish a frame: {e}"))?;
    Ok(())
}

/// How long to wait for the readback of a frame the GPU has finished (it is copied out on a task thread).
const READBACK_WAIT: Duration = Duration::from_millis(500);

/// Renders the current state until [`STABLE_CAPTURES`] consecutive frames are identical and show more
/// than the background; returns that frame. Each frame is read back right after its update (from the
/// screenshot channel, not through the observer that would see it one update later).
fn warm_up(app: &mut App) -> Result<RgbaImage, String> {
    let captured = app.world().resource::<CapturedScreenshots>().0.clone();
    let target = app.world().resource::<Target>().image.clone();
    let mut last: Option<RgbaImage> = None;
    let mut same = 0;
    let background = rgb8(BACKGROUND.to_srgba().to_f32_array_no_alpha());
    for _ in 0..WARMUP_UPDATES {
        let requested = app
            .world_mut()
            .spawn(Screenshot::image(target.clone()))
            .id();
        update(app)?;
        let image = {
            let Ok(channel) = captured.lock() else {
                return Err("the renderer's readback channel broke".into());
            };
            let mut image = None;
            while let Ok((entity, captured)) = channel.recv_timeout(READBACK_WAIT) {
                if entity == requested {
                    image = Some(captured);
                    break;
                }
            }
            image
        };
        let Some(image) = image else {
            // this frame was not read back (its target was not ready yet)
            continue;
        };
        let image = RgbaImage::from_bevy(&image)?;
        let drawn = image
            .data
            .chunks_exact(4)
            .filter(|p| {
                // black is the target before any camera has drawn into it (the first update)
                p[..3] != [0, 0, 0]
                    && p[..3]
                        .iter()
                        .zip(background)
                        .any(|(a, b)| a.abs_diff(b) > 24)
            })
            .count();
        // the surface covers a good part of any layout
        let complete = drawn * 20 > image.data.len() / 4;
        if complete && last.as_ref() == Some(&image) {
            same += 1;
        } else {
            same = usize::from(complete);
        }
        last = Some(image);
        if same >= STABLE_CAPTURES {
            return last.ok_or_else(|| "no frame".into());
        }
    }
    Err(format!(
        "the renderer produced no complete frame in {WARMUP_UPDATES} updates"
    ))
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
