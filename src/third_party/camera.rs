//! bevy_panorbit_camera: orbit (left drag), pan (right drag) and zoom (wheel). Its own bevy_egui feature is
//! off; instead every orbit camera is switched off while the pointer is over the panel or a start handle is
//! being dragged, so the camera never fights the panel or a drag.

use bevy::prelude::*;
use bevy_egui::input::EguiWantsInput;
use bevy_panorbit_camera::{PanOrbitCamera, PanOrbitCameraPlugin};

use crate::system_order::{AppSystems, KeepAwake};

/// Set while something else owns the pointer (a handle drag); the cameras stay still.
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointerCaptured(pub bool);

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(PanOrbitCameraPlugin)
        .init_resource::<PointerCaptured>()
        .add_systems(
            PostUpdate,
            gate_orbit_cameras.in_set(AppSystems::GateCameras),
        );
}

fn gate_orbit_cameras(
    egui: Res<EguiWantsInput>,
    captured: Res<PointerCaptured>,
    mut cameras: Query<&mut PanOrbitCamera>,
    mut awake: ResMut<KeepAwake>,
) {
    let enabled = !(egui.wants_any_pointer_input() || captured.0);
    for mut camera in &mut cameras {
        if camera.enabled != enabled {
            camera.enabled = enabled;
        }
        if !settled(&camera) {
            // the camera eases toward its target over the next frames: keep drawing them
            awake.request();
        }
    }
}

/// Whether an orbit camera has reached where it is going (it eases there over several frames).
fn settled(camera: &PanOrbitCamera) -> bool {
    let near = |a: Option<f32>, b: f32| a.is_none_or(|a| (a - b).abs() <= 1e-4 * (1.0 + b.abs()));
    near(camera.yaw, camera.target_yaw)
        && near(camera.pitch, camera.target_pitch)
        && near(camera.radius, camera.target_radius)
        && camera.focus.distance(camera.target_focus) <= 1e-4 * (1.0 + camera.target_focus.length())
        && !camera.force_update
}
