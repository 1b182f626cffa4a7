//! bevy_picking's mesh backend, opt-in: only the two view cameras cast pointer rays, and only entities
//! marked `Pickable` (the start handles) are tested, so the surface's million triangles are never ray
//! cast (pointer rays meet the height field analytically, see `geometry::raycast`).

use bevy::prelude::*;

use crate::geometry::ViewKind;

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(MeshPickingPlugin)
        .insert_resource(MeshPickingSettings {
            require_markers: true,
            ..default()
        })
        .add_observer(mark_view_camera);
}

/// Lets each view camera cast picking rays.
fn mark_view_camera(added: On<Add, ViewKind>, mut commands: Commands) {
    commands.entity(added.entity).insert(MeshPickingCamera);
}
