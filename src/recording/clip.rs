//! The app's default recording: the scene on screen rendered offscreen, as `losscape render` renders it
//! ([`super::headless`]), on a worker thread. The clip starts from the runs as they are now (or from their
//! starts), through the views' cameras as they are now, and the runs take a fixed number of steps per
//! frame: the clip is smooth and crisp however slowly the screen draws, and the app stays responsive
//! while it renders (a progress bar and Cancel in the panel).

use std::{
    path::PathBuf,
    sync::{Arc, atomic::Ordering},
    thread::JoinHandle,
};

use super::headless::{CANCELLED, ClipCamera, RenderControl, RenderJob, RenderReport, render};
use super::overlay::RunSnapshot;
use super::{Capture, RecordSettings};
use crate::core::scene::{Scene, ViewLayout};
use crate::optimizers::Optimizer;
use crate::platform::panic_message;

/// Longest clip the panel offers (seconds).
pub const MAX_SECONDS: u32 = 60;

/// Optimizer steps between two frames: the settings' own, else as many as the app takes in a frame's
/// time at `steps_per_second` (the clip then plays as fast as the app does), at least one.
pub fn steps_per_frame(settings: &RecordSettings, steps_per_second: f64) -> u32 {
    settings.steps_per_frame.unwrap_or_else(|| {
        (steps_per_second / settings.fps.max(1) as f64)
            .round()
            .clamp(1.0, 10_000.0) as u32
    })
}

/// The views a capture choice renders: the one chosen, or the app's layout for both.
pub fn clip_layout(capture: Capture, on_screen: ViewLayout) -> ViewLayout {
    match capture {
        Capture::ThreeD => ViewLayout::ThreeD,
        Capture::Top => ViewLayout::Top,
        Capture::Both => on_screen,
    }
}

/// An optimizer's run as it is now: its state and the path it took (as the app keeps it).
pub fn snapshot(optimizer: &Optimizer) -> RunSnapshot {
    RunSnapshot {
        spec: optimizer.spec.clone(),
        run: optimizer.run.clone(),
        trail: optimizer.history.kept().iter().map(|row| row.pos).collect(),
    }
}

/// What the app asks the renderer for: `scene` as on screen, in `layout`, through `cameras`, from `runs`
/// (`None`: from the starts), written to `out`.
pub fn clip_job(
    settings: &RecordSettings,
    scene: Scene,
    layout: ViewLayout,
    cameras: Vec<ClipCamera>,
    runs: Option<Vec<RunSnapshot>>,
    steps_per_second: f64,
    out: PathBuf,
) -> RenderJob {
    let fps = settings.fps.max(1);
    RenderJob {
        steps_per_frame: steps_per_frame(settings, steps_per_second),
        frames: (settings.seconds.clamp(1, MAX_SECONDS) * fps).max(1),
        fps: fps as f64,
        width: settings.width,
        height: settings.height,
        view: clip_layout(settings.capture, layout),
        legend: settings.legend,
        step_counter: settings.step_counter,
        axes: settings.axes,
        title: Some(settings.title.trim().to_owned()).filter(|t| !t.is_empty()),
        palette: if settings.per_frame_palette {
            super::PaletteMode::PerFrame
        } else {
            super::PaletteMode::Global
        },
        progress: false,
        scene,
        out,
        cameras,
        runs,
        step: None,
        dpi: None,
        command: "the losscape app (record a clip)".into(),
    }
}

/// A clip rendering on a worker thread.
pub struct ClipRender {
    pub job: Box<RenderJob>,
    control: Arc<RenderControl>,
    worker: Option<JoinHandle<Result<RenderReport, String>>>,
}

impl ClipRender {
    /// Starts rendering `job`.
    pub fn start(job: RenderJob) -> Result<Self, String> {
        let control = Arc::new(RenderControl::default());
        let job = Box::new(job);
        let worker = {
            let (job, control) = (job.clone(), control.clone());
            std::thread::Builder::new()
                .name("losscape clip".into())
                .spawn(move || render(&job, Some(&control)))
                .map_err(|e| format!("cannot start the clip renderer: {e}"))?
        };
        Ok(Self {
            job,
            control,
            worker: Some(worker),
        })
    }

    /// Frames painted so far and in all.
    pub fn progress(&self) -> (u32, u32) {
        (
            self.control.frames_done.load(Ordering::Relaxed),
            self.job.frames,
        )
    }

    /// Asks the worker to stop; it writes nothing.
    pub fn cancel(&self) {
        self.control.cancel.store(true, Ordering::Relaxed);
    }

    pub fn cancelling(&self) -> bool {
        self.control.cancel.load(Ordering::Relaxed)
    }

    /// The result once the worker is done (a panic in it becomes an error, not a crash).
    pub fn poll(&mut self) -> Option<Result<RenderReport, String>> {
        if !self.worker.as_ref()?.is_finished() {
            return None;
        }
        let worker = self.worker.take()?;
        Some(match worker.join() {
            Ok(result) => result,
            Err(panic) => Err(format!(
                "the clip renderer stopped: {}",
                panic_message(panic.as_ref())
            )),
        })
    }
}

impl Drop for ClipRender {
    fn drop(&mut self) {
        // a clip nobody waits for any more (the app closing) is not finished in the background
        self.cancel();
    }
}

/// Whether a render's error is the cancel asked for.
pub fn was_cancelled(error: &str) -> bool {
    error == CANCELLED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beale() -> Scene {
        crate::core::lessons::preset("beale").expect("the beale lesson")
    }

    /// Polls `render` until it ends. The deadline (minutes, far beyond a normal render) only turns a
    /// hang into a failure; it is no timing assertion.
    fn finish(render: &mut ClipRender) -> Result<RenderReport, String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
        loop {
            if let Some(result) = render.poll() {
                return result;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the render did not end within 300 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn steps_per_frame_follows_the_speed_unless_set() {
        let mut settings = RecordSettings {
            fps: 25,
            ..Default::default()
        };
        assert_eq!(steps_per_frame(&settings, 40.0), 2);
        assert_eq!(steps_per_frame(&settings, 1000.0), 40);
        // slower than a step a frame still moves every frame
        assert_eq!(steps_per_frame(&settings, 1.0), 1);
        settings.steps_per_frame = Some(7);
        assert_eq!(steps_per_frame(&settings, 1000.0), 7);
    }

    #[test]
    fn layout_of_a_capture() {
        assert_eq!(
            clip_layout(Capture::Top, ViewLayout::Split),
            ViewLayout::Top
        );
        assert_eq!(
            clip_layout(Capture::ThreeD, ViewLayout::Top),
            ViewLayout::ThreeD
        );
        assert_eq!(
            clip_layout(Capture::Both, ViewLayout::Split),
            ViewLayout::Split
        );
        assert_eq!(clip_layout(Capture::Both, ViewLayout::Top), ViewLayout::Top);
    }

    #[test]
    fn a_job_from_the_settings() {
        let settings = RecordSettings {
            fps: 20,
            seconds: 600,
            title: "   ".into(),
            ..Default::default()
        };
        let job = clip_job(
            &settings,
            beale(),
            ViewLayout::Split,
            vec![],
            None,
            40.0,
            "x.gif".into(),
        );
        assert_eq!(job.frames, MAX_SECONDS * 20, "clips are capped");
        assert_eq!(job.steps_per_frame, 2);
        assert_eq!(job.title, None, "a blank title is no title");
        let titled = RecordSettings {
            title: " Beale ".into(),
            ..settings
        };
        let job = clip_job(
            &titled,
            beale(),
            ViewLayout::Top,
            vec![],
            None,
            40.0,
            "x.gif".into(),
        );
        assert_eq!(job.title.as_deref(), Some("Beale"));
    }

    /// A small clip rendered on the worker: the file appears and the progress reaches the end; a
    /// cancelled one writes nothing.
    #[test]
    fn renders_in_the_background_and_cancels() {
        let dir = std::env::temp_dir().join(format!("losscape-clip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let settings = RecordSettings {
            fps: 10,
            seconds: 1,
            width: 160,
            height: 120,
            capture: Capture::Top,
            ..Default::default()
        };
        let out = dir.join("done.gif");
        let job = clip_job(
            &settings,
            beale(),
            ViewLayout::Split,
            vec![],
            None,
            40.0,
            out.clone(),
        );
        let mut render = ClipRender::start(job).unwrap();
        let report = finish(&mut render).unwrap();
        assert_eq!(report.frames, 10);
        assert_eq!(render.progress(), (10, 10));
        assert!(out.exists());

        let out = dir.join("cancelled.gif");
        let long = RecordSettings {
            seconds: MAX_SECONDS,
            ..settings
        };
        let job = clip_job(
            &long,
            beale(),
            ViewLayout::Split,
            vec![],
            None,
            40.0,
            out.clone(),
        );
        let mut render = ClipRender::start(job).unwrap();
        render.cancel();
        let error = finish(&mut render).unwrap_err();
        assert!(was_cancelled(&error), "{error}");
        assert!(!out.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
