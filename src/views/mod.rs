//! Two views of one scene: a perspective 3D view (orbit, zoom, pan) and an orthographic top-down view
//! (pan, zoom) with axes aligned to x and y. Each view camera holds its viewport, laid out beside the side
//! panel, and the projection everything on the view is drawn through (the surface cameras copy it); keys
//! 1, 2, 3 pick split, 3D only, top only.

use std::f32::consts::FRAC_PI_2;

use crate::third_party::egui::keys_free;
use bevy::{
    camera::{ScalingMode, Viewport},
    input::common_conditions::input_just_pressed,
    prelude::*,
    window::PrimaryWindow,
};
use bevy_panorbit_camera::PanOrbitCamera;

use crate::core::scene::ViewLayout;
use crate::geometry::{HALF_EXTENT, SurfaceFrame, ViewKind, top_overlay_y};
pub use crate::paint::BACKGROUND;
use crate::system_order::AppSystems;

/// The current layout (keys 1, 2, 3 and the panel).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq, Deref, DerefMut)]
pub struct Layout(pub ViewLayout);

/// Room taken by egui panels around the views, in logical pixels.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct ViewportInsets {
    pub left: f32,
    pub right: f32,
    pub top: f32,
    pub bottom: f32,
}

/// Logical-pixel rectangles of the two views this frame (None when hidden).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct ViewRects {
    pub three_d: Option<Rect>,
    pub top: Option<Rect>,
}

impl ViewRects {
    pub fn get(&self, view: ViewKind) -> Option<Rect> {
        match view {
            ViewKind::ThreeD => self.three_d,
            ViewKind::Top => self.top,
        }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Layout>()
        .init_resource::<ViewportInsets>()
        .init_resource::<ViewRects>()
        .insert_resource(ClearColor(BACKGROUND))
        .add_systems(Startup, spawn_cameras_and_light)
        .add_systems(
            Update,
            (
                (
                    set_layout(ViewLayout::Split).run_if(input_just_pressed(KeyCode::Digit1)),
                    set_layout(ViewLayout::ThreeD).run_if(input_just_pressed(KeyCode::Digit2)),
                    set_layout(ViewLayout::Top).run_if(input_just_pressed(KeyCode::Digit3)),
                )
                    // in predict mode the digits pick answers (`classroom`)
                    .run_if(keys_free.and_then(not(crate::state::predicting)))
                    .in_set(AppSystems::Input),
                (
                    layout_viewports,
                    frame_cameras.run_if(resource_changed::<SurfaceFrame>),
                )
                    .chain()
                    .in_set(AppSystems::Views),
            ),
        );
}

fn set_layout(layout: ViewLayout) -> impl FnMut(ResMut<Layout>) {
    move |mut current: ResMut<Layout>| current.0 = layout
}

/// The 3D camera's orbit for a surface.
pub fn orbit_for(frame: &SurfaceFrame) -> PanOrbitCamera {
    PanOrbitCamera {
        focus: Vec3::new(0.0, 0.3 * frame.world_height, 0.0),
        target_focus: Vec3::new(0.0, 0.3 * frame.world_height, 0.0),
        yaw: Some(-0.55),
        target_yaw: -0.55,
        pitch: Some(0.62),
        target_pitch: 0.62,
        radius: Some(3.2 * HALF_EXTENT),
        target_radius: 3.2 * HALF_EXTENT,
        zoom_lower_limit: 0.5,
        zoom_upper_limit: Some(12.0 * HALF_EXTENT),
        ..default()
    }
}

/// The top camera: looking straight down, orbit locked, pan and zoom free.
pub fn top_orbit() -> PanOrbitCamera {
    // for orthographic cameras panorbit's radius is the projection's scale (1 = the whole domain)
    let radius = 1.0;
    PanOrbitCamera {
        focus: Vec3::ZERO,
        target_focus: Vec3::ZERO,
        yaw: Some(0.0),
        target_yaw: 0.0,
        pitch: Some(FRAC_PI_2),
        target_pitch: FRAC_PI_2,
        radius: Some(radius),
        target_radius: radius,
        yaw_lower_limit: Some(0.0),
        yaw_upper_limit: Some(0.0),
        pitch_lower_limit: Some(FRAC_PI_2),
        pitch_upper_limit: Some(FRAC_PI_2),
        zoom_lower_limit: 0.05,
        zoom_upper_limit: Some(4.0),
        ..default()
    }
}

/// Orthographic projection that fits the whole domain with a margin.
pub fn top_projection(frame: &SurfaceFrame) -> Projection {
    let half = frame.half_size();
    Projection::Orthographic(OrthographicProjection {
        scaling_mode: ScalingMode::AutoMin {
            min_width: 2.0 * half.x * 1.08,
            min_height: 2.0 * half.y * 1.08,
        },
        // panorbit keeps an orthographic camera (near + far) / 2 above its focus
        near: 0.0,
        far: 4.0 * (top_overlay_y(frame) + HALF_EXTENT),
        ..OrthographicProjection::default_3d()
    })
}

/// The view cameras never render (the surface cameras draw the landscape into images, egui paints the
/// rest): they hold each view's orbit, viewport and projection.
fn spawn_cameras_and_light(mut commands: Commands, frame: Res<SurfaceFrame>) {
    commands.spawn((
        Name::new("3D view camera"),
        ViewKind::ThreeD,
        orbit_for(&frame),
        Camera {
            order: 0,
            is_active: false,
            ..default()
        },
        Transform::from_xyz(0.0, 10.0, 15.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
    commands.spawn((
        Name::new("Top view camera"),
        ViewKind::Top,
        top_orbit(),
        top_projection(&frame),
        Camera {
            order: 1,
            is_active: false,
            ..default()
        },
        Transform::from_xyz(0.0, 30.0, 0.0).looking_at(Vec3::ZERO, Vec3::NEG_Z),
    ));
    spawn_lighting(&mut commands);
}

/// The sun and the ambient light, shared by the window and the headless renderer; lights every layer.
pub fn spawn_lighting(commands: &mut Commands) {
    commands.spawn((
        Name::new("Sun"),
        DirectionalLight {
            illuminance: 6_000.0,
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(-4.0, 10.0, 6.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
    commands.insert_resource(GlobalAmbientLight {
        color: Color::WHITE,
        brightness: 900.0,
        ..default()
    });
}

/// Splits the room left by the panels between the views (logical pixels).
pub fn view_rects(window_size: Vec2, insets: ViewportInsets, layout: ViewLayout) -> ViewRects {
    let min = Vec2::new(insets.left, insets.top);
    let max = Vec2::new(window_size.x - insets.right, window_size.y - insets.bottom);
    if max.x - min.x < 2.0 || max.y - min.y < 2.0 {
        return ViewRects::default();
    }
    let whole = Rect::from_corners(min, max);
    match layout {
        ViewLayout::ThreeD => ViewRects {
            three_d: Some(whole),
            top: None,
        },
        ViewLayout::Top => ViewRects {
            three_d: None,
            top: Some(whole),
        },
        ViewLayout::Split => {
            let mid = (0.5 * (min.x + max.x)).round();
            ViewRects {
                three_d: Some(Rect::from_corners(min, Vec2::new(mid, max.y))),
                top: Some(Rect::from_corners(Vec2::new(mid, min.y), max)),
            }
        }
    }
}

/// Vertical field of view that keeps at least 45 degrees vertically and 50 horizontally, so a tall
/// split-screen viewport still shows the whole surface.
pub fn fov_for_aspect(aspect: f32) -> f32 {
    let min_v = 45f32.to_radians();
    let min_h = 50f32.to_radians();
    let v_for_h = 2.0 * ((min_h / 2.0).tan() / aspect.max(0.05)).atan();
    min_v.max(v_for_h).min(120f32.to_radians())
}

/// Gives each camera its viewport; hides a camera whose view is not shown.
fn layout_viewports(
    window: Single<&Window, With<PrimaryWindow>>,
    insets: Res<ViewportInsets>,
    layout: Res<Layout>,
    mut rects: ResMut<ViewRects>,
    mut cameras: Query<(&ViewKind, &mut Camera, &mut Projection)>,
) {
    let scale = window.scale_factor();
    let physical = UVec2::new(window.physical_width(), window.physical_height());
    let new_rects = view_rects(window.size(), *insets, layout.0);
    rects.set_if_neq(new_rects);
    for (view, mut camera, mut projection) in &mut cameras {
        let viewport = new_rects.get(*view).and_then(|r| {
            let pos = (r.min * scale).round().as_uvec2().min(physical);
            let end = (r.max * scale).round().as_uvec2().min(physical);
            let size = end.saturating_sub(pos);
            (size.x >= 1 && size.y >= 1).then_some(Viewport {
                physical_position: pos,
                physical_size: size,
                ..default()
            })
        });
        let changed = match (&camera.viewport, &viewport) {
            (Some(old), Some(new)) => {
                old.physical_position != new.physical_position
                    || old.physical_size != new.physical_size
            }
            (_, Some(_)) => true,
            _ => false,
        };
        if changed {
            if let (Some(vp), Projection::Perspective(p)) = (&viewport, projection.as_mut()) {
                p.fov =
                    fov_for_aspect(vp.physical_size.x as f32 / vp.physical_size.y.max(1) as f32);
            }
            camera.viewport = viewport;
        }
    }
}

/// Re-aims both cameras at a surface of a new size.
fn frame_cameras(
    frame: Res<SurfaceFrame>,
    mut cameras: Query<(&ViewKind, &mut PanOrbitCamera, &mut Projection)>,
) {
    for (view, mut orbit, mut projection) in &mut cameras {
        match view {
            ViewKind::ThreeD => {
                let fresh = orbit_for(&frame);
                orbit.target_focus = fresh.target_focus;
            }
            ViewKind::Top => {
                *orbit = top_orbit();
                *projection = top_projection(&frame);
            }
        }
    }
}
