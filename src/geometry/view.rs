//! The two views of one scene and where things sit in each: on the surface in the 3D view, on a flat
//! plane above the surface in the top view (so a hill never hides a trail there).

use bevy::prelude::*;

use super::frame::SurfaceFrame;
use crate::core::{Landscape, Vec2d};

/// Ball radius in world units.
pub const BALL_RADIUS: f32 = 0.13;
/// Trail width in world units.
pub const TRAIL_WIDTH: f32 = 0.07;
/// World height of the top view's flat overlays above the surface's highest point.
const TOP_LIFT: f32 = 0.5;

/// One of the two views. On a camera entity it says which view the camera draws; visuals carry it to
/// say which view they belong to.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewKind {
    /// The perspective view: orbit, pan, zoom.
    ThreeD,
    /// The orthographic view from above, x right and y up.
    Top,
}

impl ViewKind {
    /// Both views, 3D first.
    pub const ALL: [Self; 2] = [Self::ThreeD, Self::Top];
}

/// Logical-pixel rectangles of the two views this frame (`None` when hidden: a hidden view's camera
/// keeps its last viewport, so what paints over a view asks here whether it is shown). Laid out by
/// `views`.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct ViewRects {
    pub three_d: Option<Rect>,
    pub top: Option<Rect>,
}

impl ViewRects {
    /// The rectangle of `view`, if it is shown.
    pub fn get(&self, view: ViewKind) -> Option<Rect> {
        match view {
            ViewKind::ThreeD => self.three_d,
            ViewKind::Top => self.top,
        }
    }
}

/// The views' cameras and the layout: what paints over a view or picks a point in it asks here which
/// views are on screen, since a hidden view's camera keeps its last viewport. Without a layout (a
/// headless test that sets viewports by hand) every camera's view counts as shown.
#[derive(bevy::ecs::system::SystemParam)]
pub struct ViewCameras<'w, 's> {
    cameras: Query<'w, 's, (&'static ViewKind, &'static Camera, &'static GlobalTransform)>,
    rects: Option<Res<'w, ViewRects>>,
}

impl ViewCameras<'_, '_> {
    /// The views on screen: which, the camera, its transform and its viewport (logical pixels).
    pub fn shown(&self) -> impl Iterator<Item = (ViewKind, &Camera, &GlobalTransform, Rect)> {
        self.cameras.iter().filter_map(|(view, camera, transform)| {
            if self.rects.as_ref().is_some_and(|r| r.get(*view).is_none()) {
                return None;
            }
            Some((*view, camera, transform, camera.logical_viewport_rect()?))
        })
    }

    /// Every view's camera, shown or not.
    pub fn all(&self) -> impl Iterator<Item = (ViewKind, &Camera, &GlobalTransform)> {
        self.cameras.iter().map(|(view, c, t)| (*view, c, t))
    }
}

/// World position of a param point in a view: on the surface (3D, lifted by `lift` world units) or flat
/// above it (top).
pub fn place(
    frame: &SurfaceFrame,
    landscape: &Landscape,
    view: ViewKind,
    p: Vec2d,
    lift: f32,
) -> Vec3 {
    match view {
        ViewKind::ThreeD => frame.world_point(p, landscape.value(p)) + Vec3::Y * lift,
        ViewKind::Top => {
            let xz = frame.param_to_xz(p);
            Vec3::new(xz.x, top_overlay_y(frame) + lift * 0.01, xz.y)
        }
    }
}

/// World Y of the top view's overlay plane.
pub fn top_overlay_y(frame: &SurfaceFrame) -> f32 {
    1.5 * frame.world_height + TOP_LIFT
}
