//! Recording: GIF clips of the views (key G or the panel's "Record and export" section) and PNG stills
//! (key P) in the app, and `losscape render` without a window ([`headless`]); SVG and PDF figures of the
//! same pictures ([`figure`]) and 3D models of the surface ([`model`]), from the panel and the command
//! line.
//!
//! A clip is rendered by default ([`clip`]): the scene on screen drawn offscreen on a worker thread,
//! exactly as `losscape render` draws it (landscape on the CPU once, runs stepped a fixed number of steps
//! per frame, legend, axes, title), so it is smooth and crisp however slowly the screen draws.
//!
//! Recording the window is the other choice: each captured frame is a GPU screenshot of the window
//! (`Screenshot::primary_window`), cut to the chosen view(s) without the panel; the encoder thread
//! ([`encoder`]) scales it, draws the legend ([`legend`]), quantizes and compresses it, so recording never
//! stalls the app (a frame is dropped, and counted, if the encoder falls behind). Stop writes
//! `<path>.part` and renames it; a failed write keeps the clip (or the rendered clip's job) so another
//! path can be tried.

pub mod clip;
pub mod encoder;
pub mod figure;
pub mod frame;
pub mod headless;
pub mod legend;
pub mod model;
pub mod overlay;
pub mod raster;
pub mod still;
mod ui;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, mpsc},
};

use bevy::{
    input::common_conditions::input_just_pressed,
    prelude::*,
    render::view::screenshot::{Screenshot, ScreenshotCaptured},
    window::PrimaryWindow,
};
use bevy_egui::{EguiPrimaryContextPass, egui};

use crate::third_party::egui::{EguiKeyboard, keys_free};

pub use encoder::{EncoderEvent, FrameIn, GifEncoder, GifSettings, PaletteMode};
pub use frame::{CropRect, RgbaImage};
pub use legend::{Corner, LegendEntry, LegendState};
pub use ui::{recording_controls, recording_indicator};

use bevy::ecs::system::SystemParam;
use bevy_panorbit_camera::PanOrbitCamera;

use crate::geometry::ViewKind;
use crate::lessons::snapshot_scene;
use crate::optimizers::{Optimizer, Playback};
use crate::state::{ActiveLandscape, CurrentScene, SurfaceSettings, UiPrefs};
use crate::system_order::{AppSystems, KeepAwake};
use crate::views::{BACKGROUND, Layout, ViewRects};

/// Frame-rate choices of the app (frames per second).
pub const FPS_CHOICES: (u32, u32) = (10, 50);

/// What a recording captures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Capture {
    /// The 3D view.
    ThreeD,
    /// The top view.
    Top,
    /// Both views as they are on screen (without the panel).
    #[default]
    Both,
}

/// How the app records a clip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordMode {
    /// Rendered offscreen as `losscape render` renders: a fixed number of steps per frame.
    #[default]
    Rendered,
    /// The window as it is on screen, in real time (the panel left out).
    Window,
}

/// The record section's choices.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordSettings {
    pub mode: RecordMode,
    pub capture: Capture,
    /// Frames per second, 10 ..= 50.
    pub fps: u32,
    /// Clip size in pixels.
    pub width: u32,
    pub height: u32,
    /// Draw the optimizers' colours, names, eta and betas into the frames.
    pub legend: bool,
    /// Draw the step counter into the frames.
    pub step_counter: bool,
    /// A palette per frame instead of one for the clip (for a moving camera).
    pub per_frame_palette: bool,
    /// Where to write; empty means `losscape-<scene>-<date-time>.gif` in the current directory.
    pub path: String,
    // ---- rendered clips ----
    /// The clip's length (seconds).
    pub seconds: u32,
    /// Start from the runs' starts instead of where they are now.
    pub from_start: bool,
    /// Optimizer steps between frames; `None`: as fast as the app plays.
    pub steps_per_frame: Option<u32>,
    /// Axes with values along the top view's edges.
    pub axes: bool,
    /// A title over the clip (none when empty).
    pub title: String,
}

impl Default for RecordSettings {
    fn default() -> Self {
        Self {
            capture: Capture::Both,
            fps: 25,
            width: 640,
            height: 480,
            legend: true,
            step_counter: true,
            per_frame_palette: false,
            path: String::new(),
            mode: RecordMode::Rendered,
            seconds: 8,
            from_start: false,
            steps_per_frame: None,
            axes: true,
            title: String::new(),
        }
    }
}

/// Where a recording is.
#[derive(Default)]
pub enum RecordState {
    #[default]
    Idle,
    Recording {
        encoder: GifEncoder,
        /// Real time (s) the recording started and the next frame is due.
        started_s: f64,
        next_due_s: f64,
        elapsed_s: f64,
    },
    /// Stop was pressed; the encoder is finishing and writing.
    Saving { encoder: GifEncoder, path: PathBuf },
    /// A clip rendering offscreen.
    Rendering(clip::ClipRender),
    /// Writing failed; the clip (or what renders it) is kept for another path.
    Failed { kept: Kept, error: String },
}

/// What a failed write keeps.
pub enum Kept {
    /// The window's frames, encoded.
    Clip(GifEncoder),
    /// The rendered clip's job: it renders again to the new path.
    Job(Box<headless::RenderJob>),
}

/// The recorder: settings, state and the last message for the panel.
#[derive(Resource, Default)]
pub struct Recorder {
    pub settings: RecordSettings,
    pub state: RecordState,
    /// (ok, text) of the last save, failure or screenshot.
    pub message: Option<(bool, String)>,
    stills: Option<Arc<Mutex<mpsc::Receiver<Result<PathBuf, String>>>>>,
    still_tx: Option<mpsc::Sender<Result<PathBuf, String>>>,
}

impl Recorder {
    /// Where a worker sends a still's, figure's or model's result (the channel is made on first use).
    fn still_sender(&mut self) -> mpsc::Sender<Result<PathBuf, String>> {
        match &self.still_tx {
            Some(tx) => tx.clone(),
            None => {
                let (tx, rx) = mpsc::channel();
                self.still_tx = Some(tx.clone());
                self.stills = Some(Arc::new(Mutex::new(rx)));
                tx
            }
        }
    }

    /// Frames rendered so far and in all, and whether a cancel was asked, while a clip renders.
    pub fn rendering(&self) -> Option<(u32, u32, bool)> {
        match &self.state {
            RecordState::Rendering(render) => {
                let (done, total) = render.progress();
                Some((done, total, render.cancelling()))
            }
            _ => None,
        }
    }

    /// Frames captured so far and seconds recorded, while recording the window.
    pub fn progress(&self) -> Option<(u32, f64, u32)> {
        match &self.state {
            RecordState::Recording {
                encoder, elapsed_s, ..
            } => Some((encoder.frames(), *elapsed_s, encoder.dropped())),
            _ => None,
        }
    }
}

/// What the keys and the panel ask of the recorder.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum RecordRequest {
    /// Start, or stop and save (key G); while a clip renders, cancel it.
    Toggle,
    /// Stop rendering a clip and write nothing.
    Cancel,
    /// Save again after a failed write (to the path now in the settings).
    Retry,
    /// Forget a clip whose write failed.
    Discard,
    /// A PNG of the captured region (key P).
    Still,
    /// A vector figure (SVG or PDF) of the chosen views as they are now, rendered as `losscape render`
    /// renders it.
    Figure(figure::FigureFormat),
    /// The surface and the runs' paths so far as a 3D model (glTF, STL, OBJ).
    Model(model::ModelFormat),
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Recorder>()
        .add_plugins(keys_plugin)
        .add_systems(
            Update,
            (
                control_recording.run_if(on_message::<RecordRequest>),
                capture_frame,
                report_results,
            )
                .chain()
                .in_set(AppSystems::Record),
        )
        .add_systems(
            EguiPrimaryContextPass,
            draw_indicator.in_set(AppSystems::UiIndicator),
        );
}

/// G (a clip: start, stop, or cancel its rendering) and P (a still) as [`RecordRequest`]s, without a
/// window, so headless tests can press them.
pub fn keys_plugin(app: &mut App) {
    app.add_message::<RecordRequest>()
        .init_resource::<EguiKeyboard>()
        .add_systems(
            Update,
            (
                request(RecordRequest::Toggle).run_if(input_just_pressed(KeyCode::KeyG)),
                request(RecordRequest::Still).run_if(input_just_pressed(KeyCode::KeyP)),
            )
                .run_if(keys_free)
                .in_set(AppSystems::Input),
        );
}

fn request(r: RecordRequest) -> impl FnMut(MessageWriter<RecordRequest>) {
    move |mut w: MessageWriter<RecordRequest>| {
        w.write(r.clone());
    }
}

/// `losscape-<scene>-<YYYYmmdd-HHMMSS>.gif` (UTC), the scene's preset name or title made file-safe.
pub fn default_file_name(scene: &str, unix_s: u64, ext: &str) -> String {
    let slug: String = scene
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() {
        "scene".into()
    } else {
        slug
    };
    let (days, secs) = (unix_s / 86_400, unix_s % 86_400);
    // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "losscape-{slug}-{y:04}{m:02}{d:02}-{:02}{:02}{:02}.{ext}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn scene_name(current: &CurrentScene) -> String {
    current
        .preset
        .clone()
        .unwrap_or_else(|| current.title.clone())
}

/// The logical rectangle a capture choice covers, if it is on screen.
pub fn capture_rect(rects: &ViewRects, capture: Capture) -> Option<Rect> {
    match capture {
        Capture::ThreeD => rects.three_d,
        Capture::Top => rects.top,
        Capture::Both => match (rects.three_d, rects.top) {
            (Some(a), Some(b)) => Some(a.union(b)),
            (a, b) => a.or(b),
        },
    }
}

/// Height of the band the top view's x values take on screen (egui points: ticks and 12-point values,
/// as `ui::overlay` paints them), which a recorded window's step counter keeps off.
const AXIS_BAND_POINTS: f32 = 30.0;

fn legend_state(
    settings: &RecordSettings,
    optimizers: &Query<&Optimizer>,
    keep_clear: Vec<egui::Rect>,
) -> Option<LegendState> {
    let entries: Vec<LegendEntry> = if settings.legend {
        optimizers
            .iter()
            .filter(|o| o.spec.visible)
            .map(|o| LegendEntry::of(&o.spec))
            .collect()
    } else {
        Vec::new()
    };
    let step = settings
        .step_counter
        .then(|| optimizers.iter().map(|o| o.steps()).max().unwrap_or(0));
    (!entries.is_empty() || step.is_some()).then_some(LegendState {
        entries,
        step,
        corner: legend::Corner::TopRight,
        keep_clear,
    })
}

/// The scene on screen, as a clip renders it.
#[derive(SystemParam)]
struct OnScreen<'w, 's> {
    current: Res<'w, CurrentScene>,
    landscape: Res<'w, ActiveLandscape>,
    surface: Res<'w, SurfaceSettings>,
    layout: Res<'w, Layout>,
    playback: Res<'w, Playback>,
    cameras: Query<
        'w,
        's,
        (&'static ViewKind, &'static Transform, &'static Projection),
        With<PanOrbitCamera>,
    >,
    optimizers: Query<'w, 's, &'static Optimizer>,
}

impl OnScreen<'_, '_> {
    /// The scene on screen as a scene file would hold it.
    fn scene(&self) -> crate::core::scene::Scene {
        snapshot_scene(
            &self.current,
            &self.landscape,
            &self.surface,
            &self.layout,
            &self.playback,
            self.optimizers.iter().map(|o| o.spec.clone()),
        )
    }

    /// The clip the settings ask for, written to `out`.
    fn clip_job(&self, settings: &RecordSettings, out: PathBuf) -> headless::RenderJob {
        let scene = self.scene();
        let cameras = self
            .cameras
            .iter()
            .map(|(view, transform, projection)| headless::ClipCamera {
                view: *view,
                transform: *transform,
                projection: projection.clone(),
            })
            .collect();
        let runs =
            (!settings.from_start).then(|| self.optimizers.iter().map(clip::snapshot).collect());
        clip::clip_job(
            settings,
            scene,
            self.layout.0,
            cameras,
            runs,
            self.playback.steps_per_second,
            out,
        )
    }

    /// A figure of the chosen views as they are now (the runs where they are, the cameras where they
    /// are), at the record size.
    fn figure_job(&self, settings: &RecordSettings, out: PathBuf) -> headless::RenderJob {
        let current = RecordSettings {
            from_start: false,
            ..settings.clone()
        };
        let mut job = self.clip_job(&current, out);
        job.frames = 1;
        job.step = Some(0);
        job.command = "the losscape app (a figure of the views on screen)".into();
        job
    }

    /// A 3D model of the surface on screen with the runs' paths so far.
    fn model_job(&self, out: PathBuf) -> model::ModelJob {
        model::ModelJob {
            scene: self.scene(),
            out,
            paths: model::PathStyle::Tubes,
            steps: 0,
            runs: Some(self.optimizers.iter().map(clip::snapshot).collect()),
            command: "the losscape app (a 3D model of the surface on screen)".into(),
        }
    }
}

/// Writes a still, figure or model on a worker thread; its result (`saved PATH` or the error) comes
/// back as the panel's message, as a PNG still's does.
fn in_background(
    recorder: &mut Recorder,
    out: PathBuf,
    work: impl FnOnce() -> Result<(), String> + Send + 'static,
) {
    let tx = recorder.still_sender();
    info!("writing {}", out.display());
    let spawned = std::thread::Builder::new()
        .name("losscape export".into())
        .spawn(move || {
            let _ = tx.send(work().map(|()| out));
        });
    if let Err(e) = spawned {
        recorder.message = Some((false, format!("cannot start the export: {e}")));
    }
}

/// Where a clip or still goes: the path typed in the panel, else a new name in the current directory.
fn target_path(settings: &RecordSettings, current: &CurrentScene, ext: &str) -> PathBuf {
    if settings.path.trim().is_empty() {
        PathBuf::from(default_file_name(&scene_name(current), now_unix(), ext))
    } else {
        PathBuf::from(settings.path.trim())
    }
}

/// Starts rendering `job` on a worker thread, once its path is known to be writable.
fn start_render(recorder: &mut Recorder, job: headless::RenderJob) {
    if let Err(e) = encoder::check_writable(&job.out) {
        recorder.settings.path = job.out.display().to_string();
        recorder.message = Some((false, format!("{e}: pick another path")));
        recorder.state = RecordState::Failed {
            kept: Kept::Job(Box::new(job)),
            error: e,
        };
        return;
    }
    info!(
        "rendering a clip of {} frames to {}",
        job.frames,
        job.out.display()
    );
    match clip::ClipRender::start(job) {
        Ok(render) => {
            recorder.message = None;
            recorder.state = RecordState::Rendering(render);
        }
        Err(e) => recorder.message = Some((false, e)),
    }
}

/// Starts recording the window.
fn start_window_recording(recorder: &mut Recorder, optimizers: &Query<&Optimizer>, now: f64) {
    let bg = legend::rgb8(BACKGROUND.to_srgba().to_f32_array_no_alpha());
    let mut reserved: Vec<[u8; 3]> = optimizers
        .iter()
        .map(|o| legend::rgb8(o.spec.color))
        .collect();
    reserved.push(bg);
    reserved.truncate(60);
    let s = &recorder.settings;
    let settings = GifSettings {
        width: s.width,
        height: s.height,
        fps: s.fps as f64,
        palette: if s.per_frame_palette {
            PaletteMode::PerFrame
        } else {
            PaletteMode::Global
        },
        reserved,
        background: bg,
    };
    match GifEncoder::start(settings) {
        Ok(encoder) => {
            info!("recording started");
            recorder.message = None;
            recorder.state = RecordState::Recording {
                encoder,
                started_s: now,
                next_due_s: now,
                elapsed_s: 0.0,
            };
        }
        Err(e) => recorder.message = Some((false, e)),
    }
}

fn control_recording(
    mut requests: MessageReader<RecordRequest>,
    mut recorder: ResMut<Recorder>,
    mut commands: Commands,
    time: Res<Time<Real>>,
    screen: OnScreen,
    rects: Res<ViewRects>,
    window: Single<&Window, With<PrimaryWindow>>,
) {
    let recorder = recorder.as_mut();
    for request in requests.read() {
        match (request, std::mem::take(&mut recorder.state)) {
            (RecordRequest::Toggle, RecordState::Idle) => match recorder.settings.mode {
                RecordMode::Rendered => {
                    let out = target_path(&recorder.settings, &screen.current, "gif");
                    let job = screen.clip_job(&recorder.settings, out);
                    start_render(recorder, job);
                }
                RecordMode::Window => {
                    start_window_recording(recorder, &screen.optimizers, time.elapsed_secs_f64())
                }
            },
            (RecordRequest::Toggle, RecordState::Recording { encoder, .. }) => {
                let path = target_path(&recorder.settings, &screen.current, "gif");
                save(recorder, encoder, path);
            }
            (RecordRequest::Toggle | RecordRequest::Cancel, RecordState::Rendering(render)) => {
                render.cancel();
                recorder.state = RecordState::Rendering(render);
            }
            (RecordRequest::Retry, RecordState::Failed { kept, error }) => {
                let path = PathBuf::from(recorder.settings.path.trim());
                match kept {
                    _ if path.as_os_str().is_empty() => {
                        recorder.message = Some((false, "type a path to save the clip to".into()));
                        recorder.state = RecordState::Failed { kept, error };
                    }
                    Kept::Clip(encoder) => save(recorder, encoder, path),
                    Kept::Job(mut job) => {
                        job.out = path;
                        start_render(recorder, *job);
                    }
                }
            }
            (RecordRequest::Discard, RecordState::Failed { .. }) => {
                recorder.message = Some((true, "clip discarded".into()));
            }
            (RecordRequest::Still, state) => {
                recorder.state = state;
                take_still(recorder, &mut commands, &screen.current, &rects, &window);
            }
            (RecordRequest::Figure(format), state) => {
                recorder.state = state;
                let ext = match format {
                    figure::FigureFormat::Svg => "svg",
                    figure::FigureFormat::Pdf => "pdf",
                };
                let out = PathBuf::from(default_file_name(
                    &scene_name(&screen.current),
                    now_unix(),
                    ext,
                ));
                let job = screen.figure_job(&recorder.settings, out.clone());
                in_background(recorder, out, move || {
                    headless::render(&job, None).map(|_| ())
                });
            }
            (RecordRequest::Model(format), state) => {
                recorder.state = state;
                let out = PathBuf::from(default_file_name(
                    &scene_name(&screen.current),
                    now_unix(),
                    format.extension(),
                ));
                let job = screen.model_job(out.clone());
                in_background(recorder, out, move || model::export(&job).map(|_| ()));
            }
            (_, state) => recorder.state = state,
        }
    }
}

fn save(recorder: &mut Recorder, encoder: GifEncoder, path: PathBuf) {
    info!(
        "recording stopped after {} frames; writing {}",
        encoder.frames(),
        path.display()
    );
    match encoder.save(path.clone()) {
        Ok(()) => {
            recorder.message = Some((true, format!("writing {} ...", path.display())));
            recorder.state = RecordState::Saving { encoder, path };
        }
        Err(e) => recorder.message = Some((false, e)),
    }
}

/// A PNG of the capture region, written on a worker thread.
fn take_still(
    recorder: &mut Recorder,
    commands: &mut Commands,
    current: &CurrentScene,
    rects: &ViewRects,
    window: &Window,
) {
    let Some(rect) = capture_rect(rects, recorder.settings.capture) else {
        recorder.message = Some((false, "the chosen view is not on screen".into()));
        return;
    };
    let tx = recorder.still_sender();
    let scale = window.scale_factor();
    let path = PathBuf::from(default_file_name(&scene_name(current), now_unix(), "png"));
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>| {
            let image = RgbaImage::from_bevy(&captured.image);
            let tx = tx.clone();
            let path = path.clone();
            // PNG compression takes a while at full size: off the main thread
            std::thread::spawn(move || {
                let result = image.and_then(|image| {
                    let crop = CropRect::from_logical(rect, scale, (image.width, image.height))
                        .ok_or("the view is outside the window")?;
                    let mut out = RgbaImage::new(crop.width, crop.height);
                    frame::crop_and_fit(&image, Some(crop), &mut out, [0, 0, 0])?;
                    encoder::write_atomically(&path, &out.to_png()?)?;
                    Ok(path)
                });
                let _ = tx.send(result);
            });
        },
    );
}

/// While recording, asks for a screenshot whenever a frame is due.
fn capture_frame(
    mut commands: Commands,
    mut recorder: ResMut<Recorder>,
    time: Res<Time<Real>>,
    rects: Res<ViewRects>,
    prefs: Res<UiPrefs>,
    window: Single<&Window, With<PrimaryWindow>>,
    optimizers: Query<&Optimizer>,
    mut awake: ResMut<KeepAwake>,
) {
    if matches!(
        recorder.state,
        RecordState::Recording { .. } | RecordState::Saving { .. }
    ) {
        // frames are captured in real time, and a save is polled, frame by frame
        awake.request();
    }
    if matches!(recorder.state, RecordState::Rendering(_)) {
        // the progress bar moves a few times a second; the worker has the processor otherwise
        awake.within(std::time::Duration::from_millis(250));
    }
    let now = time.elapsed_secs_f64();
    let settings = recorder.settings.clone();
    let RecordState::Recording {
        started_s,
        next_due_s,
        elapsed_s,
        ..
    } = &mut recorder.state
    else {
        return;
    };
    *elapsed_s = now - *started_s;
    if now < *next_due_s {
        return;
    }
    let period = 1.0 / settings.fps.clamp(FPS_CHOICES.0, FPS_CHOICES.1) as f64;
    *next_due_s += period;
    if *next_due_s < now {
        // the app is slower than the clip's frame rate: frames are shown as long as they really lasted
        *next_due_s = now + period;
    }
    let time_s = now - *started_s;
    let Some(rect) = capture_rect(&rects, settings.capture) else {
        return;
    };
    let scale = window.scale_factor();
    // the top view's x values, as fractions of the captured rectangle
    let keep_clear = rects
        .top
        .filter(|top| settings.capture != Capture::ThreeD && top.intersect(rect).width() > 0.0)
        .map(|top| {
            let band = AXIS_BAND_POINTS * prefs.ui_scale;
            let fraction = |p: Vec2| {
                let f = (p - rect.min) / rect.size().max(Vec2::ONE);
                egui::pos2(f.x, f.y)
            };
            egui::Rect::from_min_max(
                fraction(Vec2::new(top.min.x, top.max.y - band)),
                fraction(top.max),
            )
        })
        .into_iter()
        .collect();
    let legend = legend_state(&settings, &optimizers, keep_clear);
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut recorder: ResMut<Recorder>| {
            let RecordState::Recording { encoder, .. } = &mut recorder.state else {
                return;
            };
            let Ok(image) = RgbaImage::from_bevy(&captured.image) else {
                return;
            };
            let crop = CropRect::from_logical(rect, scale, (image.width, image.height));
            encoder.try_push(FrameIn {
                image,
                crop,
                time_s,
                legend: legend.clone(),
            });
        },
    );
}

/// Turns the encoder's and the stills' answers into panel messages.
fn report_results(mut recorder: ResMut<Recorder>) {
    let recorder = recorder.as_mut();
    if let Some(rx) = &recorder.stills
        && let Ok(rx) = rx.lock()
    {
        for result in rx.try_iter() {
            recorder.message = Some(match result {
                Ok(path) => (true, format!("saved {}", path.display())),
                Err(e) => (false, e),
            });
        }
    }
    if let RecordState::Rendering(render) = &mut recorder.state
        && let Some(result) = render.poll()
    {
        let job = render.job.clone();
        recorder.state = RecordState::Idle;
        match result {
            Ok(report) => {
                recorder.message = Some((
                    true,
                    format!(
                        "saved {} ({} frames, {:.1} MB, rendered in {:.1} s)",
                        job.out.display(),
                        report.frames,
                        report.bytes as f64 / 1e6,
                        report.seconds
                    ),
                ));
            }
            Err(e) if clip::was_cancelled(&e) => {
                recorder.message = Some((true, "clip cancelled; nothing written".into()));
            }
            Err(error) => {
                warn!("{error}");
                recorder.settings.path = job.out.display().to_string();
                recorder.message =
                    Some((false, format!("{error}; pick another path and save again")));
                recorder.state = RecordState::Failed {
                    kept: Kept::Job(job),
                    error,
                };
            }
        }
        return;
    }
    let events = match &recorder.state {
        RecordState::Saving { encoder, .. } | RecordState::Recording { encoder, .. } => {
            encoder.poll()
        }
        _ => return,
    };
    for event in events {
        match event {
            EncoderEvent::Saved {
                path,
                frames,
                bytes,
            } => {
                recorder.message = Some((
                    true,
                    format!(
                        "saved {} ({frames} frames, {:.1} MB)",
                        path.display(),
                        bytes as f64 / 1e6
                    ),
                ));
                recorder.state = RecordState::Idle;
            }
            EncoderEvent::SaveFailed { error, .. } => {
                warn!("{error}");
                if let RecordState::Saving { encoder, path } = std::mem::take(&mut recorder.state) {
                    recorder.settings.path = path.display().to_string();
                    recorder.message = Some((
                        false,
                        format!("{error}; the clip is kept: pick another path and save again"),
                    ));
                    recorder.state = RecordState::Failed {
                        kept: Kept::Clip(encoder),
                        error,
                    };
                }
            }
            EncoderEvent::FrameError(e) => recorder.message = Some((false, e)),
            EncoderEvent::Stopped(e) => {
                warn!("{e}");
                recorder.message = Some((false, e));
                recorder.state = RecordState::Idle;
            }
        }
    }
}

/// How long a message ("saved ...", an error) stays over the views; it also stays in the panel.
const TOAST: std::time::Duration = std::time::Duration::from_secs(6);

/// The last message and when it first showed, so that it can fade from the views after [`TOAST`].
#[derive(Default)]
struct Toast {
    text: Option<(bool, String)>,
    since: Option<std::time::Instant>,
}

fn draw_indicator(
    mut contexts: bevy_egui::EguiContexts,
    recorder: Res<Recorder>,
    mut toast: Local<Toast>,
    mut awake: ResMut<KeepAwake>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if toast.text != recorder.message {
        toast.text = recorder.message.clone();
        toast.since = Some(std::time::Instant::now());
    }
    let shown = match (&toast.text, toast.since) {
        (Some(message), Some(since)) if since.elapsed() < TOAST => {
            // one more frame when it is due to go, even with nothing else moving
            awake.within(TOAST.saturating_sub(since.elapsed()));
            Some(message)
        }
        _ => None,
    };
    recording_indicator(ctx, &recorder, shown);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        // 2026-11-28 18:37:46 UTC
        assert_eq!(
            default_file_name("beale", 1_795_891_066, "gif"),
            "losscape-beale-20261128-183746.gif"
        );
        assert_eq!(
            default_file_name("Saddle: escape!", 0, "png"),
            "losscape-saddle-escape-19700101-000000.png"
        );
        assert_eq!(
            default_file_name("", 0, "gif"),
            "losscape-scene-19700101-000000.gif"
        );
    }

    #[test]
    fn both_views_cover_their_union() {
        let rects = ViewRects {
            three_d: Some(Rect::new(370.0, 0.0, 800.0, 600.0)),
            top: Some(Rect::new(800.0, 0.0, 1280.0, 600.0)),
        };
        assert_eq!(
            capture_rect(&rects, Capture::Both),
            Some(Rect::new(370.0, 0.0, 1280.0, 600.0))
        );
        let only_top = ViewRects {
            three_d: None,
            ..rects
        };
        assert_eq!(capture_rect(&only_top, Capture::ThreeD), None);
    }
}
