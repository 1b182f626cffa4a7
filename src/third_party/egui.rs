//! bevy_egui: the panel and overlays are drawn by a dedicated camera on top of both views, so egui covers
//! the whole window whatever the views' viewports are.

use bevy::{
    camera::{CameraOutputMode, visibility::RenderLayers},
    prelude::*,
    render::render_resource::BlendState,
};
use bevy_egui::{EguiGlobalSettings, EguiPlugin, PrimaryEguiContext};

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(EguiPlugin::default())
        .add_systems(Startup, spawn_egui_camera);
}

fn spawn_egui_camera(mut commands: Commands, mut settings: ResMut<EguiGlobalSettings>) {
    // the first camera would get the context otherwise, and it only covers one viewport
    settings.auto_create_primary_context = false;
    commands.spawn((
        Name::new("Panel camera"),
        PrimaryEguiContext,
        Camera3d::default(),
        // draws nothing but egui
        RenderLayers::none(),
        Camera {
            order: 10,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
}
