//! The one order of the app's systems, and when frames are drawn at all. Every system joins one of these
//! sets; the sets are chained here, once, per schedule, so no module orders itself against another. A
//! new system picks the set whose place in the frame it needs (what it reads must be written by an
//! earlier set). While nothing moves the app sleeps until the next input ([`KeepAwake`]).

use std::time::Duration;

use bevy::{
    input::{keyboard::KeyboardInput, mouse::MouseButtonInput, mouse::MouseWheel},
    prelude::*,
    window::{CursorMoved, RequestRedraw, WindowResized},
    winit::{UpdateMode, WinitSettings},
};
use bevy_egui::EguiPrimaryContextPass;
use bevy_panorbit_camera::PanOrbitCameraSystemSet;

/// The sets, in the order they run within their schedule.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppSystems {
    // ---- Update ----
    /// Keys turned into requests and toggles: playback, layout, teaching aids, recording.
    Input,
    /// A requested scene replaces the landscape, style, layout and optimizers (`lessons`).
    LoadScene,
    /// Restarts and landscape swaps put the runs back at their starts (`optimizers`).
    Restart,
    /// The timeline points every run at the displayed step, then the state there is recomputed
    /// (`teaching`).
    Timeline,
    /// The surface mesh rebuilt after a landscape or style change, the material restyled (`surface`).
    Surface,
    /// Viewports from the window and the panels; cameras re-aimed at a new surface (`views`).
    Views,
    /// Balls, trails and rings given to new optimizers (`optimizers`).
    SpawnVisuals,
    /// Balls, trails and rings moved to the displayed step (`optimizers`).
    SyncVisuals,
    /// The pointer: presses, drags and releases on start rings, Ctrl-clicks, the hover readout
    /// (`interaction`).
    Pointer,
    /// Ghost paths retraced for the dragged start points (`interaction`).
    Ghosts,
    /// Maps computed in the background: jobs started when their settings change, results taken
    /// (`maps`).
    Maps,
    /// Drag handles, held rings and ghost ribbons on screen (`interaction`).
    Present,
    /// Recording: start/stop, frame capture, results; the auto-screenshot (`recording`, `autoshot`).
    Record,
    /// Settings written to disk when they change (`ui`).
    Persist,

    // ---- FixedUpdate ----
    /// Runs held while the timeline is scrubbed back (`teaching`).
    HoldTimeline,
    /// A reveal plays the runs to the question's step (`classroom`).
    PlayReveal,
    /// Optimizer steps (`optimizers`).
    Step,
    /// The scoreboard follows the steps just taken (`classroom`).
    Score,

    // ---- EguiPrimaryContextPass ----
    /// Theme and scale (`ui`).
    UiStyle,
    /// The views' layers stacked and the cached surface images painted as their backdrops
    /// (`surface`).
    UiBackdrop,
    /// The side panel, which records the room it takes (`ui`).
    UiPanel,
    /// The timeline strip and the step-by-step window (`teaching`).
    UiWindows,
    /// Trails, start rings and balls over the views (`optimizers`), ghost paths (`interaction`).
    UiMarks,
    /// Labels, axes, arrows and the gradient field over the views (`ui`, `teaching`).
    UiOverlays,
    /// Ghost end points and the cursor readout, over the other overlays (`interaction`).
    UiReadouts,
    /// The recording indicator, over everything (`recording`).
    UiIndicator,
    /// Who has the keyboard, once all of egui is drawn (`third_party`).
    UiFocus,

    // ---- PostUpdate ----
    /// Orbit cameras switched off while the panel or a drag owns the pointer (`third_party`).
    GateCameras,
    /// Surface cameras follow their views and render only when what they show changed (`surface`);
    /// after the orbit cameras moved, before transforms and projections are propagated.
    DriveSurfaces,
}

/// How often a frame is drawn while background work runs (a map, a network's slice: its progress bar
/// moves).
pub const PROGRESS_REDRAW: std::time::Duration = std::time::Duration::from_millis(150);

/// Whether the next frame is needed soon: set during a frame by whatever is moving (runs playing, a
/// queued step, a recording, a camera still easing). The app draws continuously while it is set, and
/// otherwise sleeps until the next input (a key, the pointer moving over the window, egui asking to
/// repaint) or for at most [`IDLE_WAKE`].
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeepAwake {
    /// The next frame is wanted at once.
    now: bool,
    /// A frame is wanted within this long (something slow is under way off the frame loop, e.g. a
    /// clip rendering, whose progress is shown).
    within: Option<Duration>,
}

impl KeepAwake {
    /// Asks for the next frame.
    pub fn request(&mut self) {
        self.now = true;
    }

    /// Asks for a frame within `wait` (a few a second for a progress bar, without a busy frame loop).
    pub fn within(&mut self, wait: Duration) {
        self.within = Some(self.within.map_or(wait, |w| w.min(wait)));
    }
}

/// Longest sleep while nothing moves.
pub const IDLE_WAKE: Duration = Duration::from_secs(5);

fn forget_wake_requests(mut awake: ResMut<KeepAwake>) {
    *awake = KeepAwake::default();
}

/// Continuous frames while something moves; otherwise wake on input only.
/// How long frames go on after the last input, for whatever it set in motion (egui's animations, a
/// hover, a tooltip).
pub const SETTLE: Duration = Duration::from_millis(600);

/// Continuous frames while something moves or for [`SETTLE`] after an input; otherwise wake on the
/// window's events only (keys, the pointer, a resize). bevy_egui asks for a redraw every frame (it feeds
/// egui a modifier-keys event each frame, which egui counts as input, and egui wakes the event loop for
/// it): once settled those requests are dropped and user wake-ups ignored, since without input nothing
/// changes.
fn choose_update_mode(
    awake: Res<KeepAwake>,
    settings: Option<ResMut<WinitSettings>>,
    redraws: Option<ResMut<Messages<RequestRedraw>>>,
    mut keys: MessageReader<KeyboardInput>,
    mut buttons: MessageReader<MouseButtonInput>,
    mut wheels: MessageReader<MouseWheel>,
    mut moves: MessageReader<CursorMoved>,
    mut resizes: MessageReader<WindowResized>,
    time: Res<Time<Real>>,
    mut last_input: Local<Option<Duration>>,
) {
    let input = keys.read().count()
        + buttons.read().count()
        + wheels.read().count()
        + moves.read().count()
        + resizes.read().count()
        > 0;
    let now = time.elapsed();
    if input || last_input.is_none() {
        *last_input = Some(now);
    }
    let lively = awake.now || last_input.is_some_and(|at| now.saturating_sub(at) < SETTLE);
    let Some(mut settings) = settings else {
        return;
    };
    let mode = if lively {
        UpdateMode::Continuous
    } else {
        UpdateMode::Reactive {
            wait: awake.within.map_or(IDLE_WAKE, |w| w.min(IDLE_WAKE)),
            react_to_device_events: false,
            react_to_user_events: false,
            react_to_window_events: true,
        }
    };
    if settings.focused_mode != mode {
        settings.focused_mode = mode;
        settings.unfocused_mode = mode;
    }
    if !lively && let Some(mut redraws) = redraws {
        redraws.clear();
    }
}

/// Chains the sets of every schedule. Added once by the app, the headless renderer and ECS tests.
pub fn plugin(app: &mut App) {
    use AppSystems::*;
    app.init_resource::<KeepAwake>()
        .add_systems(First, forget_wake_requests);
    if app.is_plugin_added::<bevy::winit::WinitPlugin>() {
        // only a window has frames to save (not the headless renderer, not ECS tests)
        app.add_systems(Last, choose_update_mode);
    }
    app.configure_sets(
        Update,
        (
            Input,
            LoadScene,
            Restart,
            Timeline,
            Surface,
            Views,
            SpawnVisuals,
            SyncVisuals,
            Pointer,
            Ghosts,
            Maps,
            Present,
            Record,
            Persist,
        )
            .chain(),
    )
    .configure_sets(FixedUpdate, (HoldTimeline, PlayReveal, Step, Score).chain())
    .configure_sets(
        EguiPrimaryContextPass,
        (
            UiStyle,
            UiBackdrop,
            UiPanel,
            UiWindows,
            UiMarks,
            UiOverlays,
            UiReadouts,
            UiIndicator,
            UiFocus,
        )
            .chain(),
    )
    .configure_sets(PostUpdate, GateCameras.before(PanOrbitCameraSystemSet))
    .configure_sets(
        PostUpdate,
        DriveSurfaces
            .after(PanOrbitCameraSystemSet)
            .before(bevy::transform::TransformSystems::Propagate)
            .before(bevy::camera::CameraUpdateSystems),
    );
}
