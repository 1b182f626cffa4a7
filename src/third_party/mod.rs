//! Outside Bevy plugins, one file each, with their setup and glue.

pub mod camera;
pub mod egui;

use bevy::prelude::*;

pub(super) fn plugin(app: &mut App) {
    app.add_plugins((egui::plugin, camera::plugin));
}
