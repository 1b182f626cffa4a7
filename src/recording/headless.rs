//! `losscape render`: the scene rendered offscreen (no window, no display) into an image target, the
//! simulation stepped a fixed number of optimizer steps per frame (not by the clock), every frame read back
//! from the GPU and fed to the GIF encoder. The same surface, optimizer and scene plugins as the app; the
//! cameras are aimed where the app's orbit cameras start, without the orbit plugin (nothing moves them).

use std::{
    io::IsTerminal,
    path::PathBuf,
    sync::mpsc,
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
        view::screenshot::{Screenshot, ScreenshotCaptured},
    },
    window::ExitCondition,
    winit::WinitPlugin,
};
use bevy_panorbit_camera::PanOrbitCamera;

use super::encoder::{FrameIn, GifEncoder, GifSettings, PaletteMode, write_atomically};
use super::frame::RgbaImage;
use super::legend::{LegendEntry, LegendPainter, LegendState, rgb8};
use crate::core::scene::{Scene, ViewLayout};
use crate::optimizers::Optimizer;
use crate::surface::{SurfaceFrame, SurfaceSystems};
use crate::views::{
    BACKGROUND, LAYER_3D, LAYER_TOP, Layout, ViewCamera, fov_for_aspect, orbit_for, top_orbit,
    top_projection, view_rects,
};

/// Updates allowed before the first frame must be complete (shaders compile, meshes upload).
const WARMUP_UPDATES: u32 = 200;
/// Consecutive identical captures of the first state that mean "the frame is complete".
const STABLE_CAPTURES: usize = 3;
/// Updates allowed for outstanding GPU readbacks after the last frame.
const DRAIN_UPDATES: u32 = 60;

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

/// The one-line reason no GPU adapter is usable, or `None` when there is one.
pub fn missing_adapter() -> Option<String> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
    let instance = wgpu::Instance::new(desc);
    let adapter = bevy::tasks::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
    }));
    match adapter {
        Ok(_) => None,
        Err(_) => Some(
            "no usable GPU adapter (Vulkan): install your GPU driver, or Mesa's software Vulkan: \
             apt install mesa-vulkan-drivers"
                .into(),
        ),
    }
}

/// The shared state between the render loop and the screenshot observers.
#[derive(Resource, Clone)]
struct Captures(mpsc::Sender<(u32, Result<RgbaImage, String>)>);

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
    if let Some(missing) = missing_adapter() {
        return Err(missing);
    }
    let png = job
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let mut app = build_app(job);
    let (tx, rx) = mpsc::channel();
    app.insert_resource(Captures(tx));
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();

    let mut progress = Progress::new(job.progress, if png { 1 } else { job.frames });
    // the first state, rendered until consecutive captures agree and show the scene
    if png {
        // a still of the last frame: apply the scene (first update), take the steps of every frame but
        // the first, then one capture
        update(&mut app)?;
        advance(
            &mut app,
            job.steps_per_frame as u64 * job.frames.saturating_sub(1) as u64,
        );
    }
    let first = warm_up(&mut app, &rx)?;
    let legend = job.legend.then(|| legend_entries(&job.scene));
    let legend_at = |step: u64| LegendState {
        entries: legend.clone().unwrap_or_default(),
        step: legend.as_ref().map(|_| step),
    };

    if png {
        let mut image = first;
        if job.legend {
            LegendPainter::default().draw(&mut image, &legend_at(max_steps(&mut app)));
        }
        let bytes = image.to_png()?;
        write_atomically(&job.out, &bytes)?;
        progress.set(1);
        progress.done();
        return Ok(RenderReport {
            frames: 1,
            bytes: bytes.len() as u64,
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    let mut reserved: Vec<[u8; 3]> = app
        .world_mut()
        .query::<&Optimizer>()
        .iter(app.world())
        .map(|o| rgb8(o.spec.color))
        .collect();
    reserved.push(rgb8(BACKGROUND.to_srgba().to_f32_array_no_alpha()));
    let mut encoder = GifEncoder::start(GifSettings {
        width: job.width,
        height: job.height,
        fps: job.fps,
        palette: job.palette,
        reserved,
        background: rgb8(BACKGROUND.to_srgba().to_f32_array_no_alpha()),
    })?;
    let mut steps_at = Vec::with_capacity(job.frames as usize);
    let mut ready: std::collections::BTreeMap<u32, RgbaImage> = Default::default();
    let mut next = 0u32;
    let feed = |ready: &mut std::collections::BTreeMap<u32, RgbaImage>,
                next: &mut u32,
                steps_at: &[u64],
                encoder: &mut GifEncoder,
                progress: &mut Progress|
     -> Result<(), String> {
        while let Some(image) = ready.remove(next) {
            let step = steps_at.get(*next as usize).copied().unwrap_or(0);
            encoder.push(FrameIn {
                image,
                crop: None,
                time_s: *next as f64 / job.fps,
                legend: job.legend.then(|| legend_at(step)),
            })?;
            *next += 1;
            progress.set(*next);
        }
        Ok(())
    };
    for k in 0..job.frames {
        if k > 0 {
            advance(&mut app, job.steps_per_frame as u64);
        }
        steps_at.push(max_steps(&mut app));
        request_capture(&mut app, k);
        update(&mut app)?;
        collect(&rx, &mut ready)?;
        feed(
            &mut ready,
            &mut next,
            &steps_at,
            &mut encoder,
            &mut progress,
        )?;
    }
    let mut waited = 0;
    while (ready.len() as u32 + next) < job.frames || !ready.is_empty() {
        if waited > DRAIN_UPDATES {
            return Err(format!(
                "the renderer delivered {next} of {} frames",
                job.frames
            ));
        }
        update(&mut app)?;
        collect(&rx, &mut ready)?;
        feed(
            &mut ready,
            &mut next,
            &steps_at,
            &mut encoder,
            &mut progress,
        )?;
        waited += 1;
    }
    let (frames, bytes) = encoder.save_blocking(job.out.clone())?;
    progress.done();
    Ok(RenderReport {
        frames,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn build_app(job: &RenderJob) -> App {
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
    match crate::core::Landscape::new(scene.landscape.clone()) {
        Ok(l) => app.insert_resource(crate::surface::ActiveLandscape(std::sync::Arc::new(l))),
        Err(_) => app.insert_resource(crate::surface::ActiveLandscape::default()),
    };
    app.insert_resource(crate::surface::SurfaceSettings(scene.surface.clone()));
    app.init_resource::<Layout>();
    app.add_plugins((
        crate::surface::plugin,
        crate::optimizers::simulation_plugin,
        crate::optimizers::visuals::plugin,
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
            .after(SurfaceSystems::Rebuild),
    );
    app.world_mut()
        .write_message(crate::lessons::LoadScene::new(scene, None));
    app
}

/// The app's two cameras, drawing into the target image with the layout's viewports.
fn spawn_cameras(mut commands: Commands, target: Res<Target>, frame: Res<SurfaceFrame>) {
    let rects = view_rects(target.size.as_vec2(), default(), target.layout);
    for (view, order, layers) in [
        (ViewCamera::ThreeD, 0, [0, LAYER_3D]),
        (ViewCamera::Top, 1, [0, LAYER_TOP]),
    ] {
        let Some(rect) = rects.get(view) else {
            continue;
        };
        let viewport = Viewport {
            physical_position: rect.min.as_uvec2(),
            physical_size: rect.size().as_uvec2().max(UVec2::ONE),
            ..default()
        };
        let projection = match view {
            ViewCamera::ThreeD => Projection::Perspective(PerspectiveProjection {
                fov: fov_for_aspect(rect.width() / rect.height().max(1.0)),
                ..default()
            }),
            ViewCamera::Top => top_projection(&frame),
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
            projection,
            RenderLayers::from_layers(&layers),
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
    mut cameras: Query<(&ViewCamera, &mut Transform, &mut Projection)>,
) {
    for (view, mut transform, mut projection) in &mut cameras {
        let orbit = match view {
            ViewCamera::ThreeD => orbit_for(&frame),
            ViewCamera::Top => {
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

/// Asks for a capture of the frame rendered by the next update, tagged `tag`.
fn request_capture(app: &mut App, tag: u32) {
    let image = app.world().resource::<Target>().image.clone();
    let tx = app.world().resource::<Captures>().0.clone();
    app.world_mut().spawn(Screenshot::image(image)).observe(
        move |captured: On<ScreenshotCaptured>| {
            let _ = tx.send((tag, RgbaImage::from_bevy(&captured.image)));
        },
    );
}

fn collect(
    rx: &mpsc::Receiver<(u32, Result<RgbaImage, String>)>,
    ready: &mut std::collections::BTreeMap<u32, RgbaImage>,
) -> Result<(), String> {
    for (tag, image) in rx.try_iter() {
        ready.insert(tag, image?);
    }
    Ok(())
}

/// Renders the current state until [`STABLE_CAPTURES`] consecutive captures are identical and show more
/// than the background; returns that frame.
fn warm_up(
    app: &mut App,
    rx: &mpsc::Receiver<(u32, Result<RgbaImage, String>)>,
) -> Result<RgbaImage, String> {
    let mut last: Option<RgbaImage> = None;
    let mut same = 0;
    let background = rgb8(BACKGROUND.to_srgba().to_f32_array_no_alpha());
    for i in 0..WARMUP_UPDATES {
        request_capture(app, u32::MAX - i);
        update(app)?;
        for (_, image) in rx.try_iter() {
            let image = image?;
            let drawn = image
                .data
                .chunks_exact(4)
                .filter(|p| {
                    p[..3]
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
                // readbacks still in flight belong to the warm-up
                for _ in 0..3 {
                    update(app)?;
                }
                let _ = rx.try_iter().count();
                return last.ok_or_else(|| "no frame".into());
            }
        }
    }
    Err(format!(
        "the renderer produced no complete frame in {WARMUP_UPDATES} updates"
    ))
}

/// Steps every optimizer `steps` times (stops early on convergence or divergence), then lets the visuals
/// catch up in the next update.
fn advance(app: &mut App, steps: u64) {
    let world = app.world_mut();
    let mut q = world.query::<&mut Optimizer>();
    for mut optimizer in q.iter_mut(world) {
        let mut left = steps;
        while left > 0 {
            let chunk = left.min(u32::MAX as u64) as u32;
            optimizer.advance(chunk);
            left -= chunk as u64;
        }
    }
}

fn max_steps(app: &mut App) -> u64 {
    let world = app.world_mut();
    world
        .query::<&Optimizer>()
        .iter(world)
        .map(|o| o.steps())
        .max()
        .unwrap_or(0)
}

/// The legend's lines: the scene's visible optimizers, in the scene's order.
fn legend_entries(scene: &Scene) -> Vec<LegendEntry> {
    scene
        .optimizers
        .iter()
        .filter(|o| o.visible)
        .map(LegendEntry::of)
        .collect()
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
