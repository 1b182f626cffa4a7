//! How an optimizer looks, in both views: a ball on the surface, a trail of its whole path (draped over the
//! surface in 3D, flat above it in the top view) and a ring at its start. Each view sees its own copies
//! through render layers, so the top view's trail is never hidden by a hill.

use bevy::{
    asset::RenderAssetUsages, camera::visibility::NoFrustumCulling, mesh::PrimitiveTopology,
    prelude::*,
};

use super::{
    Optimizer,
    trail::{TrailPoints, ribbon_strip, write_ribbon_mesh},
};
use crate::core::RunStatus;
use crate::geometry::{BALL_RADIUS, SurfaceFrame, TRAIL_WIDTH, ViewKind, place};
use crate::schedule::AppSystems;
use crate::state::ActiveLandscape;

/// Colour of a diverged optimizer.
pub const DIVERGED_GREY: Color = Color::srgb(0.45, 0.45, 0.45);

/// The ball of the optimizer it is a child of.
#[derive(Component)]
pub struct Ball(pub ViewKind);

/// The trail of the optimizer it is a child of; `points` caches the decimated path.
#[derive(Component)]
pub struct Trail {
    pub view: ViewKind,
    pub points: TrailPoints,
}

/// The start ring of the optimizer it is a child of.
#[derive(Component)]
pub struct StartMarker(pub ViewKind);

/// Materials shared by one optimizer's visuals, so recolouring touches two assets.
#[derive(Component)]
pub struct OptimizerMaterials {
    pub solid: Handle<StandardMaterial>,
    pub trail: Handle<StandardMaterial>,
    /// The colour they were last set to.
    pub shown: Color,
}

/// Shared meshes for balls and rings.
#[derive(Resource)]
struct VisualMeshes {
    ball: Handle<Mesh>,
    ring: Handle<Mesh>,
}

/// Balls, trails and start rings (also used by `losscape render`).
pub(crate) fn plugin(app: &mut App) {
    app.add_systems(Startup, load_meshes)
        .add_systems(Update, spawn_visuals.in_set(AppSystems::SpawnVisuals))
        .add_systems(
            Update,
            (
                sync_balls,
                sync_trails,
                sync_start_markers,
                sync_colors,
                sync_visibility,
            )
                .in_set(AppSystems::SyncVisuals),
        );
}

fn load_meshes(mut commands: Commands, mut meshes: ResMut<Assets<Mesh>>) {
    commands.insert_resource(VisualMeshes {
        ball: meshes.add(
            Sphere::new(BALL_RADIUS)
                .mesh()
                .ico(3)
                .unwrap_or_else(|_| Sphere::new(BALL_RADIUS).mesh().uv(24, 16)),
        ),
        ring: meshes.add(Torus::new(BALL_RADIUS * 1.1, BALL_RADIUS * 1.6)),
    });
}

/// sRGB colour of a spec.
pub fn spec_color(rgb: [f32; 3]) -> Color {
    Color::srgb(rgb[0], rgb[1], rgb[2])
}

/// The colour an optimizer is drawn in now: its own, or grey once diverged.
pub fn display_color(optimizer: &Optimizer) -> Color {
    match optimizer.runner.status() {
        RunStatus::Diverged { .. } => DIVERGED_GREY,
        _ => spec_color(optimizer.spec.color),
    }
}

/// A triangle-strip mesh with nothing to show yet, rewritten in place later.
pub fn empty_strip() -> Mesh {
    Mesh::new(
        PrimitiveTopology::TriangleStrip,
        RenderAssetUsages::default(),
    )
    // two coincident vertices: an empty vertex buffer is not worth the special case in the renderer
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, vec![[0.0f32; 3]; 2])
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, vec![[0.0f32, 1.0, 0.0]; 2])
}

/// Gives each new optimizer its balls, trails and start rings.
fn spawn_visuals(
    mut commands: Commands,
    added: Query<(Entity, &Optimizer), Added<Optimizer>>,
    shared: Res<VisualMeshes>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    for (entity, optimizer) in &added {
        let color = display_color(optimizer);
        let solid = materials.add(StandardMaterial {
            base_color: color,
            perceptual_roughness: 0.35,
            ..default()
        });
        let trail_mat = materials.add(StandardMaterial {
            base_color: color,
            unlit: true,
            cull_mode: None,
            double_sided: true,
            // win depth ties with the surface the trail lies on
            depth_bias: 200.0,
            ..default()
        });
        commands.entity(entity).insert(OptimizerMaterials {
            solid: solid.clone(),
            trail: trail_mat.clone(),
            shown: color,
        });
        for view in [ViewKind::ThreeD, ViewKind::Top] {
            commands.entity(entity).with_children(|parent| {
                parent.spawn((
                    Name::new("Ball"),
                    Ball(view),
                    Mesh3d(shared.ball.clone()),
                    MeshMaterial3d(solid.clone()),
                    view.layers(),
                    // never blocks the start handle under it
                    Pickable::IGNORE,
                    Transform::default(),
                ));
                parent.spawn((
                    Name::new("Trail"),
                    Trail {
                        view,
                        points: TrailPoints::default(),
                    },
                    Mesh3d(meshes.add(empty_strip())),
                    MeshMaterial3d(trail_mat.clone()),
                    view.layers(),
                    Pickable::IGNORE,
                    NoFrustumCulling,
                    Transform::default(),
                ));
                parent.spawn((
                    Name::new("Start"),
                    StartMarker(view),
                    Mesh3d(shared.ring.clone()),
                    MeshMaterial3d(solid.clone()),
                    view.layers(),
                    Transform::default(),
                ));
            });
        }
    }
}

pub fn sync_balls(
    optimizers: Query<&Optimizer>,
    mut balls: Query<(&Ball, &ChildOf, &mut Transform)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
) {
    for (ball, parent, mut transform) in &mut balls {
        let Ok(optimizer) = optimizers.get(parent.parent()) else {
            continue;
        };
        let pos = optimizer.displayed_position();
        let target = place(&frame, &landscape.0, ball.0, pos, BALL_RADIUS);
        if target.is_finite() && transform.translation != target {
            transform.translation = target;
        }
    }
}

fn sync_start_markers(
    optimizers: Query<&Optimizer>,
    mut markers: Query<(&StartMarker, &ChildOf, &mut Transform)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
) {
    for (marker, parent, mut transform) in &mut markers {
        let Ok(optimizer) = optimizers.get(parent.parent()) else {
            continue;
        };
        let target = place(&frame, &landscape.0, marker.0, optimizer.spec.start, 0.02);
        if target.is_finite() && transform.translation != target {
            transform.translation = target;
        }
    }
}

/// Extends each trail with the new part of its run and rewrites the ribbon mesh in place.
fn sync_trails(
    optimizers: Query<&Optimizer>,
    mut trails: Query<(&mut Trail, &ChildOf, &Mesh3d)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut centre: Local<Vec<Vec3>>,
    mut strip: Local<Vec<[f32; 3]>>,
) {
    let frame_changed = frame.is_changed();
    let width = (frame.domain.x[1] - frame.domain.x[0]).max(frame.domain.y[1] - frame.domain.y[0]);
    // keep a point every ~1/800 of the domain; subdivide to ~1/150 so draped trails hug the surface
    let (min_step, max_step) = (width / 800.0, width / 150.0);
    for (mut trail, parent, mesh3d) in &mut trails {
        let Ok(optimizer) = optimizers.get(parent.parent()) else {
            continue;
        };
        // the path up to the step on show (the timeline may be scrubbed back)
        let shown = optimizer.displayed_history();
        if shown.len() == trail.points.consumed && !frame_changed {
            continue;
        }
        if frame_changed {
            trail.points = TrailPoints::default();
        }
        trail.points.extend_by(shown, |r| r.pos, min_step, max_step);
        let lift = 0.025;
        centre.clear();
        centre.extend(
            trail
                .points
                .points
                .iter()
                .map(|&p| place(&frame, &landscape.0, trail.view, p, lift)),
        );
        ribbon_strip(&centre, TRAIL_WIDTH, &mut strip);
        if let Some(mut mesh) = meshes.get_mut(&mesh3d.0) {
            write_ribbon_mesh(&mut mesh, &strip);
        }
    }
}

/// Recolours an optimizer when its colour changes or it diverges (grey).
fn sync_colors(
    mut optimizers: Query<(&Optimizer, &mut OptimizerMaterials)>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    for (optimizer, mut mats) in &mut optimizers {
        let color = display_color(optimizer);
        if color == mats.shown {
            continue;
        }
        mats.shown = color;
        for handle in [&mats.solid, &mats.trail] {
            if let Some(mut m) = materials.get_mut(handle) {
                m.base_color = color;
            }
        }
    }
}

/// Hides an optimizer the panel switched off.
fn sync_visibility(mut optimizers: Query<(&Optimizer, &mut Visibility), Changed<Optimizer>>) {
    for (optimizer, mut visibility) in &mut optimizers {
        let wanted = if optimizer.spec.visible {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        visibility.set_if_neq(wanted);
    }
}
