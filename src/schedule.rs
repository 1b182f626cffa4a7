//! The one order of the app's systems. Every system joins one of these sets; the sets are chained here,
//! once, per schedule, so no module orders itself against another. A new system picks the set whose
//! place in the frame it needs (what it reads must be written by an earlier set).

use bevy::prelude::*;
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
    /// Pointer state the picking observers did not settle: releases, the hover readout
    /// (`interaction`).
    Pointer,
    /// Ghost paths retraced for the dragged start points (`interaction`).
    Ghosts,
    /// Drag handles, held rings and ghost ribbons on screen (`interaction`).
    Present,
    /// Recording: start/stop, frame capture, results; the auto-screenshot (`recording`, `autoshot`).
    Record,
    /// Settings written to disk when they change (`ui`).
    Persist,

    // ---- FixedUpdate ----
    /// Runs held while the timeline is scrubbed back (`teaching`).
    HoldTimeline,
    /// Optimizer steps (`optimizers`).
    Step,

    // ---- EguiPrimaryContextPass ----
    /// Theme and scale (`ui`).
    UiStyle,
    /// The side panel, which records the room it takes (`ui`).
    UiPanel,
    /// The timeline strip and the step-by-step window (`teaching`).
    UiWindows,
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
}

/// Chains the sets of every schedule. Added once by the app, the headless renderer and ECS tests.
pub fn plugin(app: &mut App) {
    use AppSystems::*;
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
            Present,
            Record,
            Persist,
        )
            .chain(),
    )
    .configure_sets(FixedUpdate, (HoldTimeline, Step).chain())
    .configure_sets(
        EguiPrimaryContextPass,
        (
            UiStyle,
            UiPanel,
            UiWindows,
            UiOverlays,
            UiReadouts,
            UiIndicator,
            UiFocus,
        )
            .chain(),
    )
    .configure_sets(PostUpdate, GateCameras.before(PanOrbitCameraSystemSet));
}
