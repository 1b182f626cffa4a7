//! The loss surface: the grid mesh drawn from the active landscape and its contour material. The mesh is
//! rebuilt in place only when the landscape or the surface style changes; in the app it is drawn into
//! each view's image only when that view's camera or the surface changed ([`cache`]).

pub mod cache;
pub mod material;
pub mod mesh;

use bevy::{
    camera::visibility::NoFrustumCulling,
    core_pipeline::{Core2d, Core2dSystems},
    prelude::*,
    render::{RenderApp, extract_resource::ExtractResourcePlugin},
};

use crate::core::scene::SurfaceStyle;
use crate::geometry::{SurfaceFrame, sample_surface};
use crate::state::{ActiveLandscape, SurfaceSettings};
use crate::system_order::AppSystems;
use cache::{BackdropCopies, SurfaceRevision};
use material::{SurfaceExtension, SurfaceMaterial, SurfaceUniform};

/// Marks the surface mesh entity.
#[derive(Component)]
pub struct Surface;

pub(super) fn plugin(app: &mut App) {
    app.add_plugins((mesh_plugin, material::plugin, material_systems));
}

/// The app's cached surface images: a surface camera per view, rendering only on change, and the images
/// copied into the window as the views' backdrops (the headless renderer draws its own cameras instead).
pub fn cache_plugin(app: &mut App) {
    app.init_resource::<BackdropCopies>()
        .add_plugins(ExtractResourcePlugin::<BackdropCopies>::default())
        .add_systems(Startup, cache::spawn_surface_cameras)
        .add_systems(
            PostUpdate,
            (cache::drive_surface_cameras, cache::plan_backdrops)
                .chain()
                .in_set(AppSystems::DriveSurfaces),
        )
        .add_systems(
            bevy_egui::EguiPrimaryContextPass,
            cache::order_layers.in_set(AppSystems::UiBackdrop),
        );
    if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
        render_app.add_systems(
            Core2d,
            cache::copy_backdrops
                .after(Core2dSystems::MainPass)
                .before(bevy_egui::render::egui_pass),
        );
    }
}

/// The surface's data and mesh without its material: what headless tests add (no renderer needed).
pub fn mesh_plugin(app: &mut App) {
    app.init_resource::<ActiveLandscape>()
        .init_resource::<SurfaceSettings>()
        .init_resource::<SurfaceFrame>()
        .init_resource::<SurfaceRevision>()
        .add_systems(Startup, spawn_surface)
        .add_systems(
            Update,
            (rebuild_surface_mesh
                .run_if(resource_changed::<ActiveLandscape>.or_else(grid_settings_changed))
                .in_set(AppSystems::Surface),),
        );
}

/// The material half of the surface (needs the renderer).
fn material_systems(app: &mut App) {
    app.add_systems(
        Update,
        (
            attach_surface_material,
            restyle_surface.run_if(resource_changed::<SurfaceSettings>),
        )
            .chain()
            .in_set(AppSystems::Surface),
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

fn spawn_surface(mut commands: Commands, mut meshes: ResMut<Assets<Mesh>>) {
    commands.spawn((
        Name::new("Surface"),
        Surface,
        Mesh3d(meshes.add(Mesh::from(Plane3d::default()))),
        // the mesh changes in place, so its bounding box would go stale
        NoFrustumCulling,
        Transform::default(),
    ));
}

/// Gives the surface its contour material.
fn attach_surface_material(
    mut commands: Commands,
    surfaces: Query<Entity, Added<Surface>>,
    mut materials: ResMut<Assets<SurfaceMaterial>>,
    settings: Res<SurfaceSettings>,
) {
    for entity in &surfaces {
        commands
            .entity(entity)
            .insert(MeshMaterial3d(materials.add(SurfaceMaterial {
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
            })));
    }
}

/// Resamples the landscape and rewrites the surface mesh in place.
fn rebuild_surface_mesh(
    landscape: Res<ActiveLandscape>,
    settings: Res<SurfaceSettings>,
    mut frame: ResMut<SurfaceFrame>,
    mut revision: ResMut<SurfaceRevision>,
    surface: Single<&Mesh3d, With<Surface>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let (grid, new_frame) = sample_surface(&landscape.0, &settings);
    if let Some(mut mesh) = meshes.get_mut(&surface.0) {
        mesh::write_surface_mesh(&mut mesh, &grid, &new_frame, settings.log_contours);
    }
    frame.set_if_neq(new_frame);
    revision.0 = revision.0.wrapping_add(1);
}

fn restyle_surface(
    settings: Res<SurfaceSettings>,
    surface: Single<&MeshMaterial3d<SurfaceMaterial>, With<Surface>>,
    mut materials: ResMut<Assets<SurfaceMaterial>>,
    mut revision: ResMut<SurfaceRevision>,
) {
    let uniform = surface_uniform(&settings);
    if let Some(mut material) = materials.get_mut(&surface.0) {
        material.extension.style = uniform;
    }
    revision.0 = revision.0.wrapping_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Landscape, LandscapeSpec, scene::SurfaceStyle};
    use crate::geometry::HALF_EXTENT;
    use std::sync::Arc;

    fn all_landscapes() -> Vec<Landscape> {
        LandscapeSpec::all_defaults()
            .into_iter()
            .map(|s| Landscape::new(s).expect("builds"))
            .collect()
    }

    #[test]
    fn a_formula_undefined_somewhere_leaves_a_gap_in_the_mesh() {
        // ln(x + 2) is undefined for x <= -2: a sixth of [-3, 3]^2
        let landscape = Landscape::new(LandscapeSpec::formula(
            "x^2 + y^2 + ln(x + 2)",
            crate::core::landscape::DEFAULT_FORMULA_DOMAIN,
        ))
        .unwrap();
        let style = SurfaceStyle {
            resolution: 61,
            ..SurfaceStyle::default()
        };
        let (grid, frame) = sample_surface(&landscape, &style);
        assert!(grid.undefined_count > 0);
        let v = mesh::surface_vertices(&grid, &frame, false);
        assert!(v.positions.iter().flatten().all(|c| c.is_finite()));
        assert!(v.normals.iter().flatten().all(|c| c.is_finite()));
        let idx = mesh::grid_indices(61, &grid.undefined);
        let full = 60 * 60 * 6;
        assert!(
            idx.len() < full * 7 / 8 && idx.len() > full * 3 / 4,
            "{}",
            idx.len()
        );
        assert!(idx.iter().all(|&i| !grid.undefined[i as usize]));
    }

    #[test]
    fn mesh_has_one_vertex_per_grid_point_finite_normals_and_bounded_heights() {
        for landscape in all_landscapes() {
            for log in [false, true] {
                let style = SurfaceStyle {
                    resolution: 64,
                    log_height: log,
                    log_contours: log,
                    ..SurfaceStyle::default()
                };
                let (grid, frame) = sample_surface(&landscape, &style);
                let v = mesh::surface_vertices(&grid, &frame, log);
                assert_eq!(v.positions.len(), 64 * 64);
                assert_eq!(mesh::grid_indices(64, &[]).len(), 63 * 63 * 6);
                let name = landscape.name();
                for (p, n) in v.positions.iter().zip(&v.normals) {
                    assert!(p.iter().all(|c| c.is_finite()), "{name}");
                    assert!(
                        p[1] >= -1e-3 && p[1] <= frame.world_height + 1e-3,
                        "{name}: y = {}",
                        p[1]
                    );
                    assert!(p[0].abs() <= HALF_EXTENT + 1e-3 && p[2].abs() <= HALF_EXTENT + 1e-3);
                    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                    assert!(
                        (len - 1.0).abs() < 1e-3 && n[1] > 0.0,
                        "{name}: normal {n:?}"
                    );
                }
                assert!(v.uvs.iter().all(|uv| (0.0..=1.0).contains(&uv[0])));
            }
        }
    }

    #[test]
    fn normals_point_away_from_the_slope() {
        // bowl: at positive x the surface rises with x, so the normal leans toward -X
        let landscape = Landscape::new(LandscapeSpec::from_name("bowl").unwrap()).unwrap();
        let (grid, frame) = sample_surface(
            &landscape,
            &SurfaceStyle {
                resolution: 33,
                ..Default::default()
            },
        );
        let v = mesh::surface_vertices(&grid, &frame, false);
        let right_middle = 16 * 33 + 30;
        assert!(
            v.normals[right_middle][0] < -0.05,
            "{:?}",
            v.normals[right_middle]
        );
        // and the triangle winding agrees with the normals (counter-clockwise seen from above)
        let idx = mesh::grid_indices(33, &[]);
        let (a, b, c) = (idx[0] as usize, idx[1] as usize, idx[2] as usize);
        let pa = Vec3::from(v.positions[a]);
        let face = (Vec3::from(v.positions[b]) - pa).cross(Vec3::from(v.positions[c]) - pa);
        assert!(face.y > 0.0, "{face:?}");
    }

    /// The mesh is rewritten when the landscape or a grid setting changes, and not otherwise.
    #[test]
    fn rebuilds_only_on_change() {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, bevy::asset::AssetPlugin::default()))
            .init_asset::<Mesh>()
            .add_plugins(mesh_plugin);
        #[derive(Resource, Default)]
        struct Modified(usize);
        app.init_resource::<Modified>().add_systems(
            Last,
            |mut events: MessageReader<AssetEvent<Mesh>>, mut count: ResMut<Modified>| {
                count.0 += events
                    .read()
                    .filter(|e| matches!(e, AssetEvent::Modified { .. }))
                    .count();
            },
        );
        let modified =
            |app: &mut App| std::mem::take(&mut app.world_mut().resource_mut::<Modified>().0);
        app.update();
        app.update();
        let frame0 = app.world().resource::<SurfaceFrame>().clone();
        app.update();
        assert!(modified(&mut app) >= 1, "the first frame builds the mesh");
        for _ in 0..3 {
            app.update();
            assert_eq!(modified(&mut app), 0, "no change, no rebuild");
        }
        // a colour change is not a grid change
        app.world_mut().resource_mut::<SurfaceSettings>().colormap =
            crate::core::scene::Colormap::Magma;
        app.update();
        assert_eq!(modified(&mut app), 0);
        app.world_mut().resource_mut::<SurfaceSettings>().resolution = 48;
        app.update();
        app.update();
        assert_eq!(modified(&mut app), 1, "one rebuild for the new resolution");
        let mesh = app
            .world()
            .resource::<Assets<Mesh>>()
            .iter()
            .next()
            .map(|(_, m)| m.count_vertices());
        assert_eq!(mesh, Some(48 * 48));
        let landscape = Landscape::new(LandscapeSpec::from_name("beale").unwrap()).unwrap();
        app.insert_resource(ActiveLandscape(Arc::new(landscape)));
        app.update();
        assert_ne!(*app.world().resource::<SurfaceFrame>(), frame0);
        app.update();
        assert_eq!(modified(&mut app), 1, "one rebuild for the new landscape");
        for _ in 0..3 {
            app.update();
            assert_eq!(modified(&mut app), 0);
        }
    }
}
