//! The loss surface: the active landscape, the grid mesh drawn from it and its contour material.
//! The mesh is rebuilt in place only when the landscape or the surface style changes.

pub mod frame;
pub mod material;
pub mod mesh;

use std::sync::Arc;

use bevy::{camera::visibility::NoFrustumCulling, prelude::*};

use crate::core::{
    Landscape, LandscapeSpec,
    grid::{HeightMode, SurfaceGrid},
    scene::SurfaceStyle,
};

pub use frame::{HeightCurve, SurfaceFrame};
use material::{SurfaceExtension, SurfaceMaterial, SurfaceUniform};

/// The landscape every optimizer runs on. Replacing it rebuilds the surface and restarts the runs.
#[derive(Resource, Clone)]
pub struct ActiveLandscape(pub Arc<Landscape>);

impl Default for ActiveLandscape {
    /// The two-valley saddle, the first lesson's landscape.
    fn default() -> Self {
        let landscape = Landscape::new(LandscapeSpec::SaddleValleys)
            .expect("the built-in saddle-valleys landscape has no parameters to get wrong");
        Self(Arc::new(landscape))
    }
}

/// How the surface is drawn (grid resolution, heights, colormap, contours).
#[derive(Resource, Clone, Debug, Default, PartialEq, Deref, DerefMut)]
pub struct SurfaceSettings(pub SurfaceStyle);

/// Marks the surface mesh entity.
#[derive(Component)]
pub struct Surface;

/// Order of the surface's Update systems.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SurfaceSystems {
    /// Rebuild the grid and the mesh after a landscape or style change.
    Rebuild,
    /// Push style-only changes (colormap, contours) to the material.
    Restyle,
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(material::plugin)
        .init_resource::<ActiveLandscape>()
        .init_resource::<SurfaceSettings>()
        .init_resource::<SurfaceFrame>()
        .configure_sets(
            Update,
            (SurfaceSystems::Rebuild, SurfaceSystems::Restyle).chain(),
        )
        .add_systems(Startup, spawn_surface)
        .add_systems(
            Update,
            (
                rebuild_surface_mesh
                    .run_if(resource_changed::<ActiveLandscape>.or_else(grid_settings_changed))
                    .in_set(SurfaceSystems::Rebuild),
                restyle_surface
                    .run_if(resource_changed::<SurfaceSettings>)
                    .in_set(SurfaceSystems::Restyle),
            ),
        );
}

/// The part of the style that needs new vertices (not just a new uniform).
#[derive(PartialEq, Clone, Copy)]
struct GridKey {
    resolution: usize,
    log_height: bool,
    height_scale: f64,
    log_contours: bool,
}

impl GridKey {
    fn of(s: &SurfaceStyle) -> Self {
        Self {
            resolution: s.resolution,
            log_height: s.log_height,
            height_scale: s.height_scale,
            log_contours: s.log_contours,
        }
    }
}

fn grid_settings_changed(settings: Res<SurfaceSettings>, mut last: Local<Option<GridKey>>) -> bool {
    let key = GridKey::of(&settings);
    if *last == Some(key) {
        return false;
    }
    *last = Some(key);
    true
}

/// The uniform for a style.
pub fn surface_uniform(style: &SurfaceStyle) -> SurfaceUniform {
    SurfaceUniform {
        colormap: style.colormap.shader_index(),
        contour_count: style.contour_count as f32,
        contour_strength: 0.55,
        contour_width: 1.2,
    }
}

/// Samples the landscape and derives the world frame: the pure part of a rebuild.
pub fn sample_surface(landscape: &Landscape, style: &SurfaceStyle) -> (SurfaceGrid, SurfaceFrame) {
    let mode = if style.log_height {
        HeightMode::Log
    } else {
        HeightMode::Linear
    };
    let grid = SurfaceGrid::sample(landscape, style.resolution.clamp(2, 1024), mode);
    let curve = if style.log_height {
        HeightCurve::Log
    } else {
        HeightCurve::Linear
    };
    let loss_range = [grid.loss_range[0] as f64, grid.loss_range[1] as f64];
    let frame = SurfaceFrame::new(grid.domain, curve, loss_range, style.height_scale as f32);
    (grid, frame)
}

fn spawn_surface(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<SurfaceMaterial>>,
    settings: Res<SurfaceSettings>,
) {
    commands.spawn((
        Name::new("Surface"),
        Surface,
        Mesh3d(meshes.add(Mesh::from(Plane3d::default()))),
        MeshMaterial3d(materials.add(SurfaceMaterial {
            base: StandardMaterial {
                perceptual_roughness: 0.75,
                reflectance: 0.2,
                cull_mode: None,
                double_sided: true,
                ..default()
            },
            extension: SurfaceExtension {
                style: surface_uniform(&settings),
            },
        })),
        // the mesh changes in place, so its bounding box would go stale
        NoFrustumCulling,
        // up to 1M vertices: pointer rays meet the height field analytically instead (interaction::raycast)
        Pickable::IGNORE,
        Transform::default(),
    ));
}

/// Resamples the landscape and rewrites the surface mesh in place.
fn rebuild_surface_mesh(
    landscape: Res<ActiveLandscape>,
    settings: Res<SurfaceSettings>,
    mut frame: ResMut<SurfaceFrame>,
    surface: Single<&Mesh3d, With<Surface>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let (grid, new_frame) = sample_surface(&landscape.0, &settings);
    if let Some(mut mesh) = meshes.get_mut(&surface.0) {
        mesh::write_surface_mesh(&mut mesh, &grid, &new_frame, settings.log_contours);
    }
    frame.set_if_neq(new_frame);
}

fn restyle_surface(
    settings: Res<SurfaceSettings>,
    surface: Single<&MeshMaterial3d<SurfaceMaterial>, With<Surface>>,
    mut materials: ResMut<Assets<SurfaceMaterial>>,
) {
    let uniform = surface_uniform(&settings);
    if let Some(mut material) = materials.get_mut(&surface.0) {
        material.extension.style = uniform;
    }
}
