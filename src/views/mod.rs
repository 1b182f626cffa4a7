//! Two views of one scene: a perspective 3D view (orbit, zoom, pan) and an orthographic top-down view
//! (pan, zoom) with axes aligned to x and y. Each view camera holds its viewport, laid out beside the side
//! panel, and the projection everything on the view is drawn through (the surface cameras copy it); keys
//! 1, 2, 3 pick split, 3D only, top only.

use std::f32::consts::FRAC_PI_2;

use crate::third_party::egui::{EguiKeyboard, keys_free};
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

pub use crate::geometry::ViewRects;

impl ViewRects {
    /// The views on screen in egui points (`ui_scale` the egui zoom), the top view first: a window
    /// that must go over a view goes over the top view's corner first, where the class looks less.
    pub fn clips(&self, ui_scale: f32) -> Vec<bevy_egui::egui::Rect> {
        [ViewKind::Top, ViewKind::ThreeD]
            .into_iter()
            .filter_map(|v| self.get(v))
            .map(|r| crate::paint::view_clip(r, ui_scale))
            .collect()
    }
}

/// Frames the surface in the 3D view again from the default direction (key Home, the view's "frame"
/// button): after orbiting, zooming or panning, the whole surface back in view.
#[derive(Message, Debug, Clone, Copy, Default)]
pub struct FrameSurface;

/// The orbit the 3D camera was last framed to (targets: focus, radius, yaw, pitch), and whether from
/// the default direction. While the camera still aims there, a new viewport shape frames it again;
/// once someone orbits, it stays where they left it.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq)]
pub struct Framed(Option<(Vec3, f32, f32, f32)>, bool);

impl Framed {
    fn of(orbit: &PanOrbitCamera) -> (Vec3, f32, f32, f32) {
        (
            orbit.target_focus,
            orbit.target_radius,
            orbit.target_yaw,
            orbit.target_pitch,
        )
    }

    /// Whether the camera still aims where it was framed.
    fn untouched(&self, orbit: &PanOrbitCamera) -> bool {
        self.0.is_some_and(|framed| {
            let now = Self::of(orbit);
            framed.0.distance(now.0) < 1e-3
                && (framed.1 - now.1).abs() < 1e-3
                && (framed.2 - now.2).abs() < 1e-4
                && (framed.3 - now.3).abs() < 1e-4
        })
    }
}

/// Aims `orbit` (it eases there) at the surface from `yaw` and `pitch` (the default direction when
/// `None`), framed for a viewport of `aspect`, and remembers it in `framed`.
fn frame_orbit(
    orbit: &mut PanOrbitCamera,
    framed: &mut Framed,
    frame: &SurfaceFrame,
    aspect: f32,
    direction: Option<(f32, f32)>,
) {
    framed.1 = direction.is_none();
    let (yaw, pitch, focus, radius) = match direction {
        Some((yaw, pitch)) => {
            let (focus, radius) = framed_orbit(frame, yaw, pitch, aspect);
            (yaw, pitch, focus, radius)
        }
        None => {
            let best = orbit_for(frame, aspect);
            (
                best.target_yaw,
                best.target_pitch,
                best.target_focus,
                best.target_radius,
            )
        }
    };
    orbit.target_focus = focus;
    orbit.target_radius = radius;
    orbit.target_yaw = yaw;
    orbit.target_pitch = pitch;
    framed.0 = Some(Framed::of(orbit));
}

/// Width / height of the 3D view (1 while it is hidden).
fn aspect_of(rects: &ViewRects) -> f32 {
    rects
        .three_d
        .map_or(1.0, |r| r.width().max(1.0) / r.height().max(1.0))
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Layout>()
        .init_resource::<ViewportInsets>()
        .init_resource::<ViewRects>()
        .add_message::<FrameSurface>()
        .insert_resource(ClearColor(BACKGROUND))
        .add_systems(Startup, spawn_cameras_and_light)
        .add_plugins(keys_plugin)
        .add_systems(
            Update,
            (
                layout_viewports,
                frame_cameras.run_if(resource_changed::<SurfaceFrame>),
                reframe_cameras,
            )
                .chain()
                .in_set(AppSystems::Views),
        );
}

/// 1, 2, 3 (the layout; not in predict mode, where the digits pick answers) and Home (frame the
/// surface again), without a window, so headless tests can press them.
pub fn keys_plugin(app: &mut App) {
    app.init_resource::<Layout>()
        .init_resource::<EguiKeyboard>()
        .add_message::<FrameSurface>()
        .add_systems(
            Update,
            (
                (
                    set_layout(ViewLayout::Split).run_if(input_just_pressed(KeyCode::Digit1)),
                    set_layout(ViewLayout::ThreeD).run_if(input_just_pressed(KeyCode::Digit2)),
                    set_layout(ViewLayout::Top).run_if(input_just_pressed(KeyCode::Digit3)),
                )
                    // in predict mode the digits pick answers (`classroom`)
                    .run_if(keys_free.and_then(not(crate::state::predicting))),
                request_frame.run_if(input_just_pressed(KeyCode::Home).and_then(keys_free)),
            )
                .in_set(AppSystems::Input),
        );
}

fn set_layout(layout: ViewLayout) -> impl FnMut(ResMut<Layout>) {
    move |mut current: ResMut<Layout>| current.0 = layout
}

fn request_frame(mut requests: MessageWriter<FrameSurface>) {
    requests.write(FrameSurface);
}

/// The 3D view's default yaw about the vertical (radians): a little off square, so the surface reads as
/// 3D while its near edge still spans the view.
pub const DEFAULT_YAW: f32 = -0.15;
/// The yaws the default orbit picks from (see [`PITCHES`]).
const YAWS: [f32; 3] = [DEFAULT_YAW, -0.45, 0.15];
/// The pitches above the horizon (radians) the default orbit picks from, with [`YAWS`]: the direction
/// from which the surface covers the most of the view (low in a wide view, steep in a tall one; it
/// depends on the hills too).
const PITCHES: [f32; 5] = [0.45, 0.55, 0.65, 0.75, 0.85];
/// Room left between the framed surface and the view's edges, as a fraction of the half-view.
const FRAME_MARGIN: f32 = 0.025;

/// The 3D camera's default orbit for a surface in a viewport of `aspect` (width / height): from
/// [`DEFAULT_YAW`] at the pitch of [`PITCHES`] that fills the view best, framed by [`framed_orbit`].
pub fn orbit_for(frame: &SurfaceFrame, aspect: f32) -> PanOrbitCamera {
    // the candidates on a coarse lattice, the winner framed finely
    let coarse = Lattice::of(frame, 40);
    let (yaw, pitch) = YAWS
        .into_iter()
        .flat_map(|yaw| PITCHES.map(|pitch| (yaw, pitch)))
        .map(|(yaw, pitch)| {
            let (focus, radius) = frame_lattice(&coarse, yaw, pitch, aspect);
            let eye = Eye::new(yaw, pitch, focus, radius, aspect);
            (coarse.coverage(&eye, 64), (yaw, pitch))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or((DEFAULT_YAW, PITCHES[3]), |(_, best)| best);
    let (focus, radius) = framed_orbit(frame, yaw, pitch, aspect);
    PanOrbitCamera {
        focus,
        target_focus: focus,
        yaw: Some(yaw),
        target_yaw: yaw,
        pitch: Some(pitch),
        target_pitch: pitch,
        radius: Some(radius),
        target_radius: radius,
        zoom_lower_limit: 0.5,
        zoom_upper_limit: Some(12.0 * HALF_EXTENT),
        ..default()
    }
}

/// A lattice of world points on the surface (`n` x `n`, row by row from the domain's low y; `None` where
/// the loss is undefined) with the grid's real heights, or just the corners of its box when there is no
/// grid yet (`n` = 2, both heights: see [`Self::points`]).
struct Lattice {
    n: usize,
    points: Vec<Option<Vec3>>,
    /// The box's top corners when there is no grid.
    extra: Vec<Vec3>,
}

impl Lattice {
    /// About `per_side` points a side (always the last row and column).
    fn of(frame: &SurfaceFrame, per_side: usize) -> Self {
        let half = frame.half_size();
        let at = |u: f32, v: f32, y: f32| {
            // param y grows toward world -Z
            Vec3::new((2.0 * u - 1.0) * half.x, y, (1.0 - 2.0 * v) * half.y)
        };
        let Some(grid) = frame.heights.as_ref().map(|h| &h.0) else {
            let corners =
                |y: f32| [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].map(|(u, v)| at(u, v, y));
            return Self {
                n: 2,
                points: corners(0.0).map(Some).to_vec(),
                extra: corners(frame.world_height).to_vec(),
            };
        };
        let n = grid.resolution.max(2);
        let [h0, h1] = frame.height_range;
        let span = (h1 - h0).max(1e-12);
        let stride = (n / per_side.max(2)).max(1);
        let along: Vec<usize> = (0..n - 1)
            .step_by(stride)
            .chain(std::iter::once(n - 1))
            .collect();
        let points = along
            .iter()
            .flat_map(|&j| along.iter().map(move |&i| (i, j)))
            .map(|(i, j)| {
                let k = j * n + i;
                (!grid.undefined[k]).then(|| {
                    let y = ((f64::from(grid.height[k]) - h0) / span) as f32 * frame.world_height;
                    at(i as f32 / (n - 1) as f32, j as f32 / (n - 1) as f32, y)
                })
            })
            .collect();
        Self {
            n: along.len(),
            points,
            extra: Vec::new(),
        }
    }

    /// Every point that outlines the surface.
    fn points(&self) -> impl Iterator<Item = Vec3> + '_ {
        self.points
            .iter()
            .flatten()
            .copied()
            .chain(self.extra.iter().copied())
    }

    /// The share of the view `eye` looks through that the surface covers: its cells' two triangles
    /// filled into a bitmap `columns` wide (cells with an undefined corner left out).
    fn coverage(&self, eye: &Eye, columns: usize) -> f32 {
        let (w, h) = (
            columns.max(1),
            ((columns as f32 / eye.aspect).round() as usize).max(1),
        );
        let mut covered = vec![false; w * h];
        let pixel = |p: Vec3| {
            eye.ndc(p)
                .map(|n| Vec2::new((n.x + 1.0) * 0.5 * w as f32, (1.0 - n.y) * 0.5 * h as f32))
        };
        let projected: Vec<Option<Vec2>> = self.points.iter().map(|p| p.and_then(pixel)).collect();
        let n = self.n;
        for j in 0..n - 1 {
            for i in 0..n - 1 {
                let corner = |di: usize, dj: usize| projected[(j + dj) * n + i + di];
                let (Some(a), Some(b), Some(c), Some(d)) =
                    (corner(0, 0), corner(1, 0), corner(1, 1), corner(0, 1))
                else {
                    continue;
                };
                for t in [[a, b, c], [a, c, d]] {
                    fill_triangle(&mut covered, w, h, t);
                }
            }
        }
        covered.iter().filter(|&&c| c).count() as f32 / covered.len() as f32
    }
}

/// Marks the bitmap cells (`w` x `h`) whose centres lie inside triangle `t` (in cell units).
fn fill_triangle(covered: &mut [bool], w: usize, h: usize, t: [Vec2; 3]) {
    let edge = |a: Vec2, b: Vec2, p: Vec2| (b - a).perp_dot(p - a);
    let area = edge(t[0], t[1], t[2]);
    if area == 0.0 || !area.is_finite() {
        return;
    }
    let lo = t[0].min(t[1]).min(t[2]).max(Vec2::ZERO);
    let hi = t[0].max(t[1]).max(t[2]).min(Vec2::new(w as f32, h as f32));
    for y in lo.y.floor() as usize..(hi.y.ceil() as usize).min(h) {
        for x in lo.x.floor() as usize..(hi.x.ceil() as usize).min(w) {
            let p = Vec2::new(x as f32 + 0.5, y as f32 + 0.5);
            let inside = [(0, 1), (1, 2), (2, 0)]
                .iter()
                .all(|&(i, k)| edge(t[i], t[k], p) * area.signum() >= 0.0);
            if inside {
                covered[y * w + x] = true;
            }
        }
    }
}

/// A perspective camera as the orbit places it: from `yaw` and `pitch`, `radius` back from `focus`,
/// with the field of view [`fov_for_aspect`] of a viewport of `aspect`.
struct Eye {
    position: Vec3,
    right: Vec3,
    up: Vec3,
    forward: Vec3,
    tan_x: f32,
    tan_y: f32,
    aspect: f32,
}

impl Eye {
    fn new(yaw: f32, pitch: f32, focus: Vec3, radius: f32, aspect: f32) -> Self {
        let rotation = Quat::from_rotation_y(yaw) * Quat::from_rotation_x(-pitch);
        let tan_y = (0.5 * fov_for_aspect(aspect)).tan();
        Self {
            position: focus + rotation * Vec3::new(0.0, 0.0, radius),
            right: rotation * Vec3::X,
            up: rotation * Vec3::Y,
            forward: rotation * Vec3::NEG_Z,
            tan_x: tan_y * aspect.max(0.05),
            tan_y,
            aspect: aspect.max(0.05),
        }
    }

    /// Normalised device coordinates of a world point (-1 to 1 across the view, y up), if in front.
    fn ndc(&self, p: Vec3) -> Option<Vec2> {
        let d = p - self.position;
        let z = d.dot(self.forward);
        (z > 1e-3).then(|| {
            Vec2::new(
                d.dot(self.right) / (z * self.tan_x),
                d.dot(self.up) / (z * self.tan_y),
            )
        })
    }
}

/// The focus and radius that frame the whole surface in a perspective view looking from `yaw` and
/// `pitch` with the field of view [`fov_for_aspect`] of a viewport of `aspect` (width / height): the
/// closest camera that keeps every point of the surface inside the view's four edges (less
/// [`FRAME_MARGIN`]), centred on screen, with the focus at the surface's middle depth.
///
/// Each edge of the view is a plane through the camera; a point `p` is inside the left and right ones
/// when `|x| <= t_x z` in camera coordinates (`x` right, `z` forward), which is linear in the camera's
/// position `c`: `c_x - t_x c_z >= max(p_x - t_x p_z)` and `-c_x - t_x c_z >= max(-p_x - t_x p_z)`.
/// Both hold with equality for the closest `c_z` along x; the same along y; the camera takes the
/// farther of the two. Along the edges that then have room to spare, it sits where the surface is
/// centred on screen (found by bisection: the near edge looks larger than the far one, so the middle
/// of the allowed positions is not the middle of the screen).
pub fn framed_orbit(frame: &SurfaceFrame, yaw: f32, pitch: f32, aspect: f32) -> (Vec3, f32) {
    let (focus, radius) = frame_lattice(&Lattice::of(frame, 96), yaw, pitch, aspect);
    if focus.is_finite() && radius.is_finite() {
        (focus, radius)
    } else {
        (
            Vec3::new(0.0, 0.3 * frame.world_height, 0.0),
            3.2 * HALF_EXTENT,
        )
    }
}

/// [`framed_orbit`] for the points of `lattice`.
fn frame_lattice(lattice: &Lattice, yaw: f32, pitch: f32, aspect: f32) -> (Vec3, f32) {
    let points: Vec<Vec3> = lattice.points().collect();
    let eye = Eye::new(yaw, pitch, Vec3::ZERO, 0.0, aspect);
    let (right, up, forward) = (eye.right, eye.up, eye.forward);
    let ty = eye.tan_y * (1.0 - FRAME_MARGIN);
    let tx = eye.tan_x * (1.0 - FRAME_MARGIN);
    let most = |f: &dyn Fn(Vec3) -> f32| points.iter().map(|&p| f(p)).fold(f32::MIN, f32::max);
    let a = most(&|p| p.dot(right) - tx * p.dot(forward));
    let b = most(&|p| -p.dot(right) - tx * p.dot(forward));
    let c = most(&|p| p.dot(up) - ty * p.dot(forward));
    let d = most(&|p| -p.dot(up) - ty * p.dot(forward));
    let cz = (-(a + b) / (2.0 * tx)).min(-(c + d) / (2.0 * ty));
    let screen_centre = |eye: Vec3, axis: Vec3, t: f32| {
        let (lo, hi) = points.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &p| {
            let d = p - eye;
            let s = d.dot(axis) / (t * d.dot(forward).max(1e-3));
            (lo.min(s), hi.max(s))
        });
        0.5 * (lo + hi)
    };
    let centred = |eye: Vec3, axis: Vec3, t: f32, (mut lo, mut hi): (f32, f32)| {
        for _ in 0..24 {
            let mid = 0.5 * (lo + hi);
            // moving the camera along `axis` moves the surface the other way on screen
            if screen_centre(eye + axis * mid, axis, t) > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    };
    let base = forward * cz;
    let x = centred(base, right, tx, (a + tx * cz, -b - tx * cz));
    let y = centred(base + right * x, up, ty, (c + ty * cz, -d - ty * cz));
    let eye = base + right * x + up * y;
    // the focus (what the camera orbits) at the depth of the surface's middle
    let middle = points.iter().copied().sum::<Vec3>() / points.len().max(1) as f32;
    let radius = (middle - eye).dot(forward).max(0.5);
    (eye + forward * radius, radius)
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
    let orbit = orbit_for(&frame, 1.0);
    commands.spawn((
        Name::new("3D view camera"),
        ViewKind::ThreeD,
        Framed(Some(Framed::of(&orbit)), true),
        orbit,
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

/// The split layout puts the views side by side when the room is at least this many times wider than
/// tall, one above the other otherwise: each view then gets the shape a surface seen from above at an
/// angle fills best (wider than tall), instead of two tall strips with the surface in a fifth of each.
pub const SIDE_BY_SIDE_ASPECT: f32 = 1.5;

/// Splits the room left by the panels between the views (logical pixels): in the split layout the 3D
/// view on the left or on top (see [`SIDE_BY_SIDE_ASPECT`]), the top view beside or below it.
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
        ViewLayout::Split if whole.width() >= SIDE_BY_SIDE_ASPECT * whole.height() => {
            let mid = (0.5 * (min.x + max.x)).round();
            ViewRects {
                three_d: Some(Rect::from_corners(min, Vec2::new(mid, max.y))),
                top: Some(Rect::from_corners(Vec2::new(mid, min.y), max)),
            }
        }
        ViewLayout::Split => {
            let mid = (0.5 * (min.y + max.y)).round();
            ViewRects {
                three_d: Some(Rect::from_corners(min, Vec2::new(max.x, mid))),
                top: Some(Rect::from_corners(Vec2::new(min.x, mid), max)),
            }
        }
    }
}

/// Vertical field of view that keeps at least 30 degrees vertically and 35 horizontally: narrow enough
/// that the far side of a framed surface is not much smaller than its near side (so it fills the view),
/// and wider in a tall viewport so that it still shows the whole surface.
pub fn fov_for_aspect(aspect: f32) -> f32 {
    let min_v = 30f32.to_radians();
    let min_h = 35f32.to_radians();
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

/// Re-aims both cameras at a new surface: the 3D view frames it from where it looks now, the top view
/// shows the whole domain.
fn frame_cameras(
    frame: Res<SurfaceFrame>,
    rects: Res<ViewRects>,
    mut cameras: Query<(
        &ViewKind,
        &mut PanOrbitCamera,
        &mut Projection,
        Option<&mut Framed>,
    )>,
) {
    for (view, mut orbit, mut projection, framed) in &mut cameras {
        match (view, framed) {
            (ViewKind::ThreeD, Some(mut framed)) => {
                // from where it looks now, unless that is the default direction (of any shape)
                let direction = (!(framed.1 && framed.untouched(&orbit)))
                    .then_some((orbit.target_yaw, orbit.target_pitch));
                frame_orbit(
                    &mut orbit,
                    &mut framed,
                    &frame,
                    aspect_of(&rects),
                    direction,
                );
            }
            (ViewKind::ThreeD, None) => {}
            (ViewKind::Top, _) => {
                *orbit = top_orbit();
                *projection = top_projection(&frame);
            }
        }
    }
}

/// Frames the 3D view again: from the default direction when asked ([`FrameSurface`]), and for a
/// new shape of the view (layout, window size) while nobody has moved the camera since it was framed.
fn reframe_cameras(
    mut requests: MessageReader<FrameSurface>,
    frame: Res<SurfaceFrame>,
    rects: Res<ViewRects>,
    mut aspect_then: Local<Option<f32>>,
    mut cameras: Query<(&mut PanOrbitCamera, &mut Framed)>,
) {
    let asked = requests.read().count() > 0;
    let aspect = aspect_of(&rects);
    let reshaped = aspect_then.is_none_or(|then| (then - aspect).abs() > 1e-3);
    *aspect_then = Some(aspect);
    for (mut orbit, mut framed) in &mut cameras {
        if asked {
            frame_orbit(&mut orbit, &mut framed, &frame, aspect, None);
        } else if reshaped && framed.untouched(&orbit) {
            let direction = (!framed.1).then_some((orbit.target_yaw, orbit.target_pitch));
            frame_orbit(&mut orbit, &mut framed, &frame, aspect, direction);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Domain, Landscape, LandscapeSpec, lessons, scene::SurfaceStyle};
    use crate::geometry::sample_surface;

    fn lesson_frames() -> Vec<(String, SurfaceFrame)> {
        let mut frames: Vec<(String, SurfaceFrame)> = lessons::names()
            .into_iter()
            .map(|name| {
                let scene = lessons::preset(name).expect("a lesson");
                let landscape = Landscape::new(scene.landscape.clone()).expect("its landscape");
                (
                    name.to_owned(),
                    sample_surface(&landscape, &scene.surface).1,
                )
            })
            .collect();
        let domain = Domain {
            x: [-4.0, 4.0],
            y: [-4.0, 4.0],
        };
        let spec = LandscapeSpec::formula("sin(x)*cos(y) + 0.1*(x^2+y^2)", domain);
        let formula = Landscape::new(spec).expect("the issue's formula");
        frames.push((
            "formula".to_owned(),
            sample_surface(&formula, &SurfaceStyle::default()).1,
        ));
        frames
    }

    /// The 3D view's share covered by the surface at the default orbit, measured finely (every grid
    /// vertex, a bitmap as wide as the view): what a screenshot shows, less the balls and labels.
    fn fill(frame: &SurfaceFrame, size: Vec2) -> f32 {
        let aspect = size.x / size.y;
        let orbit = orbit_for(frame, aspect);
        let eye = Eye::new(
            orbit.target_yaw,
            orbit.target_pitch,
            orbit.target_focus,
            orbit.target_radius,
            aspect,
        );
        Lattice::of(frame, 256).coverage(&eye, size.x as usize)
    }

    #[test]
    fn the_split_view_stacks_when_the_room_is_tall() {
        let insets = ViewportInsets {
            left: 370.0,
            bottom: 25.0,
            ..default()
        };
        let rects = view_rects(Vec2::new(1280.0, 800.0), insets, ViewLayout::Split);
        let (a, b) = (rects.three_d.unwrap(), rects.top.unwrap());
        assert_eq!(
            (a.min, a.max),
            (Vec2::new(370.0, 0.0), Vec2::new(1280.0, 388.0))
        );
        assert_eq!(
            (b.min, b.max),
            (Vec2::new(370.0, 388.0), Vec2::new(1280.0, 775.0))
        );
        let wide = view_rects(Vec2::new(1920.0, 800.0), insets, ViewLayout::Split);
        assert_eq!(wide.three_d.unwrap().max.y, 775.0, "side by side");
    }

    #[test]
    fn the_surface_fills_the_3d_view_at_the_default_orbit() {
        // the 3D view of the split layout at 1280 x 800 and at 1024 x 768, and alone at 1280 x 720
        let views = [
            Vec2::new(910.0, 388.0),
            Vec2::new(724.0, 371.0),
            Vec2::new(910.0, 695.0),
        ];
        let frames = lesson_frames();
        for size in views {
            let fills: Vec<(f32, &str)> = frames
                .iter()
                .map(|(name, f)| (fill(f, size), name.as_str()))
                .collect();
            let mean = fills.iter().map(|f| f.0).sum::<f32>() / fills.len() as f32;
            println!("{size}: mean {mean:.2}, {fills:?}");
            // about a fifth before the framing; now half on average, and never much less
            assert!(mean >= 0.5, "{size}: mean {mean}: {fills:?}");
            for (f, name) in &fills {
                assert!(*f >= 0.35, "{size} {name}: {f}");
            }
        }
    }

    #[test]
    fn the_framed_surface_is_whole_and_centred() {
        for (name, frame) in lesson_frames() {
            for aspect in [0.6, 1.3, 2.4] {
                let orbit = orbit_for(&frame, aspect);
                let eye = Eye::new(
                    orbit.target_yaw,
                    orbit.target_pitch,
                    orbit.target_focus,
                    orbit.target_radius,
                    aspect,
                );
                let ndc: Vec<Vec2> = Lattice::of(&frame, 128)
                    .points()
                    .map(|p| eye.ndc(p).expect("in front of the camera"))
                    .collect();
                let lo = ndc.iter().fold(Vec2::MAX, |a, b| a.min(*b));
                let hi = ndc.iter().fold(Vec2::MIN, |a, b| a.max(*b));
                assert!(
                    lo.cmpge(Vec2::splat(-1.0)).all() && hi.cmple(Vec2::ONE).all(),
                    "{name} {aspect}: {lo} .. {hi}"
                );
                let centre = 0.5 * (lo + hi);
                assert!(
                    centre.length() < 0.02,
                    "{name} {aspect}: centred at {centre}"
                );
                // tight along one axis
                assert!(
                    (hi - lo).max_element() > 2.0 * (1.0 - FRAME_MARGIN) - 0.02,
                    "{name} {aspect}: {lo} .. {hi}"
                );
            }
        }
    }
}
