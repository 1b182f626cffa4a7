//! How one camera maps the world onto an image's pixels, and whether the surface hides a point from it.
//! Used wherever what moves is painted on the CPU over a landscape the GPU drew once.

use bevy::math::{Mat4, Quat, Vec3};
use bevy_egui::egui::{self, Pos2, pos2};

use super::frame::SurfaceFrame;
use super::raycast::ray_height_field_with;
use super::view::{BALL_RADIUS, ViewKind};
use crate::core::Landscape;

/// How far (world units) the surface may come before a point and still count as not hiding it: trails
/// float 0.025 above the surface, so a ray grazing the slope they lie on meets it just before them.
const OCCLUSION_TOLERANCE: f32 = 0.12;

/// March steps of an occlusion test: a ridge thinner than 1/160 of the surface's extent along the ray
/// may be missed, which the eye does not notice for a trail point.
const OCCLUSION_SAMPLES: usize = 160;

/// How one camera maps the world onto the image's pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewProjection {
    pub view: ViewKind,
    /// The camera's viewport in the image, in pixels.
    pub rect: egui::Rect,
    pub clip_from_world: Mat4,
    /// The camera's position and orientation (rays to hidden points, shading of the balls).
    pub eye: Vec3,
    pub rotation: Quat,
}

impl ViewProjection {
    /// The projection of a live camera drawing into `rect` (in whatever units the painter uses: egui
    /// points in the app, pixels in a clip).
    pub fn of_camera(
        view: ViewKind,
        camera: &bevy::camera::Camera,
        transform: &bevy::transform::components::GlobalTransform,
        rect: egui::Rect,
    ) -> Self {
        Self {
            view,
            rect,
            clip_from_world: camera.clip_from_view() * transform.to_matrix().inverse(),
            eye: transform.translation(),
            rotation: transform.rotation(),
        }
    }

    /// The pixel of a world point and its distance along the view axis; `None` behind the camera.
    pub fn project(&self, world: Vec3) -> Option<(Pos2, f32)> {
        let clip = self.clip_from_world * world.extend(1.0);
        if !(clip.w > 1e-6 && clip.is_finite()) {
            return None;
        }
        let ndc = clip.truncate() / clip.w;
        let px = pos2(
            self.rect.min.x + (ndc.x + 1.0) * 0.5 * self.rect.width(),
            self.rect.min.y + (1.0 - ndc.y) * 0.5 * self.rect.height(),
        );
        (px.x.is_finite() && px.y.is_finite()).then_some((px, clip.w))
    }

    /// Pixels per world unit across the screen at `world` (0 where it cannot be projected), measured
    /// over a ball's size so that it is the local scale even close to the camera.
    pub fn scale_at(&self, world: Vec3) -> f32 {
        let step = self.rotation * Vec3::X * BALL_RADIUS;
        match (self.project(world), self.project(world + step)) {
            (Some((a, _)), Some((b, _))) => a.distance(b) / BALL_RADIUS,
            _ => 0.0,
        }
    }

    /// Whether `world` is in sight: nothing of the surface lies between the camera and it (always in the
    /// top view, whose overlay floats above the surface).
    pub fn sees(&self, world: Vec3, frame: &SurfaceFrame, landscape: &Landscape) -> bool {
        if self.view == ViewKind::Top {
            return true;
        }
        let to = world - self.eye;
        // the grid the mesh is drawn from when there is one: what the eye sees, and cheap to sample
        let loss = |p| match &frame.heights {
            Some(h) => f64::from(h.0.loss_at(p)),
            None => landscape.value(p),
        };
        match ray_height_field_with(self.eye, to, frame, loss, OCCLUSION_SAMPLES) {
            Some(hit) => hit.distance >= to.length() - OCCLUSION_TOLERANCE,
            None => true,
        }
    }

    /// The pixel of `world` if something `peek` above it is in sight (the top of a ball, the raised edge
    /// of a ribbon: a trail in a shallow valley stays visible, as the app's wide ribbon does).
    pub fn visible(
        &self,
        world: Vec3,
        peek: f32,
        frame: &SurfaceFrame,
        landscape: &Landscape,
    ) -> Option<Pos2> {
        let (px, _) = self.project(world)?;
        self.sees(world + Vec3::Y * peek, frame, landscape)
            .then_some(px)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::LandscapeSpec;

    /// An orthographic camera looking straight down at a 10 x 10 world square, filling 100 x 100 pixels.
    pub(crate) fn top_view() -> ViewProjection {
        let rotation = Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2);
        let eye = Vec3::new(0.0, 20.0, 0.0);
        let view = Mat4::from_rotation_translation(rotation, eye).inverse();
        let projection = Mat4::orthographic_rh(-5.0, 5.0, -5.0, 5.0, 0.1, 100.0);
        ViewProjection {
            view: ViewKind::Top,
            rect: egui::Rect::from_min_size(pos2(50.0, 0.0), egui::vec2(100.0, 100.0)),
            clip_from_world: projection * view,
            eye,
            rotation,
        }
    }

    #[test]
    fn projection_maps_the_world_square_onto_the_viewport() {
        let v = top_view();
        let (centre, _) = v.project(Vec3::ZERO).unwrap();
        assert!((centre - pos2(100.0, 50.0)).length() < 1e-3);
        // world +X is right, world -Z (param +y) is up
        let (right, _) = v.project(Vec3::new(5.0, 0.0, 0.0)).unwrap();
        assert!((right - pos2(150.0, 50.0)).length() < 1e-3);
        let (up, _) = v.project(Vec3::new(0.0, 0.0, -5.0)).unwrap();
        assert!((up - pos2(100.0, 0.0)).length() < 1e-3);
        assert!((v.scale_at(Vec3::ZERO) - 10.0).abs() < 1e-3);
    }

    #[test]
    fn the_rim_of_a_bowl_hides_its_floor_from_a_low_camera_in_3d_only() {
        let landscape = Landscape::new(LandscapeSpec::Bowl {
            kappa: 1.0,
            rotation_deg: 0.0,
        })
        .unwrap();
        // the default frame: param [-1, 1]^2 onto world x and z in [-5, 5], losses [0, 1] onto heights
        // [0, 3.5]; the floor at Y = 0, the middle of each rim (loss 0.5) at Y = 1.75
        let frame = SurfaceFrame::default();
        assert_eq!(frame.domain.x, [-1.0, 1.0]);
        let floor = Vec3::new(0.0, 0.025, 0.0);
        let camera = |eye: Vec3, view: ViewKind| ViewProjection {
            view,
            eye,
            ..top_view()
        };
        let low = Vec3::new(-20.0, 0.8, 0.0);
        assert!(!camera(low, ViewKind::ThreeD).sees(floor, &frame, &landscape));
        assert!(camera(low, ViewKind::Top).sees(floor, &frame, &landscape));
        let high = Vec3::new(0.0, 30.0, 0.5);
        assert!(camera(high, ViewKind::ThreeD).sees(floor, &frame, &landscape));
        // a point on the near rim itself is seen from the low camera
        let rim = Vec3::new(-5.0, 1.75 + 0.025, 0.0);
        assert!(camera(low, ViewKind::ThreeD).sees(rim, &frame, &landscape));
    }
}
