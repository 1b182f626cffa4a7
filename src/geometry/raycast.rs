//! Where a pointer ray meets the loss surface, as pure functions of the ray, the [`SurfaceFrame`] and the
//! landscape's analytic loss (not the mesh: the surface may have a million vertices, and the analytic value
//! is what the optimizers see).
//!
//! The ray is clipped to the surface's bounding box in `world` space, marched in [`MARCH_SAMPLES`] even
//! steps, and the first sign change of `ray.y - surface_y(x, z)` is refined by bisection.

use bevy::math::{Ray3d, Vec3};

use super::frame::SurfaceFrame;
use super::view::{ViewKind, top_overlay_y};
use crate::core::Vec2d;

/// Samples along the clipped ray before bisection: about one per half grid cell of a 256-cell surface.
pub const MARCH_SAMPLES: usize = 512;
/// Bisection steps on a bracketing interval (each halves it; 40 is far below f32 resolution).
const BISECTIONS: usize = 40;

/// A point where a ray meets the surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurfaceHit {
    /// Landscape point under the hit (inside the domain).
    pub param: Vec2d,
    /// The hit in `world` space.
    pub world: Vec3,
    /// Distance along the ray from its origin, in world units (the direction is normalised).
    pub distance: f32,
}

/// World Y of the surface above world (x, z): `frame.world_y(loss(param))`.
pub fn surface_y(frame: &SurfaceFrame, loss: &impl Fn(Vec2d) -> f64, x: f32, z: f32) -> f32 {
    let p = frame.clamp_param(frame.xz_to_param(x, z));
    frame.world_y(loss(p))
}

/// Entry and exit distances of a ray through the axis-aligned box `[min, max]` (entry clamped to 0, the
/// ray's origin), or `None` when it misses the box.
fn clip_to_box(origin: Vec3, dir: Vec3, min: Vec3, max: Vec3) -> Option<(f32, f32)> {
    let mut t0 = 0.0f32;
    let mut t1 = f32::INFINITY;
    for axis in 0..3 {
        let (o, d, lo, hi) = (origin[axis], dir[axis], min[axis], max[axis]);
        if d.abs() < 1e-12 {
            if o < lo || o > hi {
                return None;
            }
            continue;
        }
        let (a, b) = ((lo - o) / d, (hi - o) / d);
        t0 = t0.max(a.min(b));
        t1 = t1.min(a.max(b));
        if t0 > t1 {
            return None;
        }
    }
    (t1.is_finite() && t0.is_finite()).then_some((t0, t1))
}

/// The first point where the ray `origin + t * direction` (t >= 0) meets the height field of `loss` drawn
/// in `frame`, or `None` when it passes beside, above or below the surface (never a point outside the
/// domain). The surface is two-sided: a ray from below meets its underside.
pub fn ray_height_field(
    origin: Vec3,
    direction: Vec3,
    frame: &SurfaceFrame,
    loss: impl Fn(Vec2d) -> f64,
) -> Option<SurfaceHit> {
    ray_height_field_with(origin, direction, frame, loss, MARCH_SAMPLES)
}

/// [`ray_height_field`] with `samples` march steps: fewer are cheaper and may step over a ridge thinner
/// than the clipped ray's length / `samples` (fine for deciding whether a point is hidden).
pub fn ray_height_field_with(
    origin: Vec3,
    direction: Vec3,
    frame: &SurfaceFrame,
    loss: impl Fn(Vec2d) -> f64,
    samples: usize,
) -> Option<SurfaceHit> {
    let samples = samples.max(2);
    let dir = direction.try_normalize()?;
    if !origin.is_finite() {
        return None;
    }
    let half = frame.half_size();
    // `world_y` keeps every height inside this band; the margin keeps a flat surface a thin box, not a plane
    let margin = 1e-3 * (1.0 + frame.world_height.abs());
    let min = Vec3::new(-half.x, -0.25 * frame.world_height - margin, -half.y);
    let max = Vec3::new(half.x, 1.5 * frame.world_height + margin, half.y);
    let (t0, t1) = clip_to_box(origin, dir, min, max)?;
    let gap = |t: f32| {
        let p = origin + dir * t;
        p.y - surface_y(frame, &loss, p.x, p.z)
    };
    let hit_at = |t: f32| {
        let p = origin + dir * t;
        let param = frame.clamp_param(frame.xz_to_param(p.x, p.z));
        SurfaceHit {
            param,
            world: Vec3::new(p.x, surface_y(frame, &loss, p.x, p.z), p.z),
            distance: t,
        }
    };
    let mut prev_t = t0;
    let mut prev = gap(t0);
    if prev == 0.0 {
        return Some(hit_at(t0));
    }
    let dt = (t1 - t0) / samples as f32;
    for i in 1..=samples {
        let t = if i == samples { t1 } else { t0 + dt * i as f32 };
        let g = gap(t);
        if g == 0.0 || (g < 0.0) != (prev < 0.0) {
            // bisect on [prev_t, t], keeping the end whose gap has the starting sign
            let (mut lo, mut hi) = (prev_t, t);
            for _ in 0..BISECTIONS {
                let mid = 0.5 * (lo + hi);
                let gm = gap(mid);
                if gm == 0.0 {
                    return Some(hit_at(mid));
                }
                if (gm < 0.0) == (prev < 0.0) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return Some(hit_at(0.5 * (lo + hi)));
        }
        prev_t = t;
        prev = g;
    }
    None
}

/// The landscape point under the pointer in a view, or `None` off the surface: in 3D the height-field hit;
/// in the top view (an orthographic camera looking straight down) the point where the ray crosses the
/// overlay plane, if it lies inside the domain.
pub fn pointer_param(
    view: ViewKind,
    ray: Ray3d,
    frame: &SurfaceFrame,
    loss: impl Fn(Vec2d) -> f64,
) -> Option<Vec2d> {
    match view {
        ViewKind::ThreeD => {
            ray_height_field(ray.origin, *ray.direction, frame, loss).map(|h| h.param)
        }
        ViewKind::Top => {
            let p = plane_param(ray, top_overlay_y(frame), frame)?;
            frame.domain.contains(p).then_some(p)
        }
    }
}

/// Where a dragged start goes: the point under the pointer, or when the pointer has left the surface the
/// nearest point on the domain's edge. `height` is the world Y used off the surface in 3D (that of the
/// handle, so it slides along the edge). `None` only for a ray that can reach neither (pointing at the sky).
pub fn drag_param(
    view: ViewKind,
    ray: Ray3d,
    frame: &SurfaceFrame,
    loss: impl Fn(Vec2d) -> f64,
    height: f32,
) -> Option<Vec2d> {
    let plane_y = match view {
        ViewKind::ThreeD => {
            if let Some(hit) = ray_height_field(ray.origin, *ray.direction, frame, &loss) {
                return Some(hit.param);
            }
            height
        }
        ViewKind::Top => top_overlay_y(frame),
    };
    plane_param(ray, plane_y, frame).map(|p| frame.clamp_param(p))
}

/// The param point where a ray crosses the horizontal plane `Y = y` (unclamped), if it does ahead of its
/// origin.
fn plane_param(ray: Ray3d, y: f32, frame: &SurfaceFrame) -> Option<Vec2d> {
    let d = *ray.direction;
    if d.y.abs() < 1e-6 {
        return None;
    }
    let t = (y - ray.origin.y) / d.y;
    if !(t.is_finite() && t >= 0.0) {
        return None;
    }
    let p = ray.origin + d * t;
    let param = frame.xz_to_param(p.x, p.z);
    (param[0].is_finite() && param[1].is_finite()).then_some(param)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Domain, Landscape, LandscapeSpec};
    use crate::geometry::{HeightCurve, frame::sample_surface};
    use bevy::math::Dir3;
    use proptest::prelude::*;

    fn frame(domain: Domain, loss_range: [f64; 2]) -> SurfaceFrame {
        SurfaceFrame::new(domain, HeightCurve::Linear, loss_range, 0.35)
    }

    /// A camera `dist` away from `target`, seen from `yaw` around the vertical and `pitch` above the
    /// horizon, and the ray from it through `target`.
    fn ray_to(target: Vec3, yaw: f32, pitch: f32, dist: f32) -> (Vec3, Vec3) {
        let back = Vec3::new(
            pitch.cos() * yaw.sin(),
            pitch.sin(),
            pitch.cos() * yaw.cos(),
        );
        let origin = target + back * dist;
        (origin, target - origin)
    }

    fn bowl(p: Vec2d) -> f64 {
        p[0] * p[0] + p[1] * p[1]
    }

    proptest! {
        /// A flat surface is visible from every angle above it: the hit is the target.
        #[test]
        fn flat_surface_from_any_angle(
            x in -2.0f64..2.0, y in -1.0f64..3.0,
            yaw in 0.0f32..std::f32::consts::TAU, pitch in 0.05f32..std::f32::consts::FRAC_PI_2, dist in 0.5f32..60.0,
        ) {
            let f = frame(Domain { x: [-2.0, 2.0], y: [-1.0, 3.0] }, [0.0, 1.0]);
            let level = |_: Vec2d| 0.4;
            let target = f.world_point([x, y], 0.4);
            let (origin, dir) = ray_to(target, yaw, pitch, dist);
            let hit = ray_height_field(origin, dir, &f, level).expect("a visible point is hit");
            prop_assert!((hit.world - target).length() < 2e-3, "{:?} vs {:?}", hit.world, target);
            prop_assert!((hit.param[0] - x).abs() < 1e-3 && (hit.param[1] - y).abs() < 1e-3);
            prop_assert!((hit.distance - dist).abs() < 2e-3);
        }

        /// A bowl seen from steeper than its steepest slope (so no part of it hides the target): the hit is
        /// the target, whatever the yaw; from below, the underside is hit at the same point.
        #[test]
        fn bowl_from_steep_angles(
            x in -0.95f64..0.95, y in -0.95f64..0.95,
            yaw in 0.0f32..std::f32::consts::TAU, pitch in 0.97f32..std::f32::consts::FRAC_PI_2, dist in 1.0f32..40.0,
        ) {
            let f = frame(Domain::square(1.0), [0.0, 2.0]);
            let target = f.world_point([x, y], bowl([x, y]));
            let (origin, dir) = ray_to(target, yaw, pitch, dist);
            let hit = ray_height_field(origin, dir, &f, bowl).expect("hit");
            prop_assert!((hit.param[0] - x).abs() < 1e-3 && (hit.param[1] - y).abs() < 1e-3,
                "{:?} vs ({x}, {y})", hit.param);
            let (below, up) = ray_to(target, yaw, -pitch, dist);
            let hit = ray_height_field(below, up, &f, bowl).expect("hit from below");
            prop_assert!((hit.param[0] - x).abs() < 1e-3 && (hit.param[1] - y).abs() < 1e-3);
        }

        /// On real landscapes, from any angle: a hit lies on the ray and on the surface, inside the domain,
        /// and no sample of a 40x finer march crosses the surface noticeably before it.
        #[test]
        fn real_landscapes_hit_on_surface_and_first(
            which in 0usize..4, u in 0.05f64..0.95, v in 0.05f64..0.95,
            yaw in 0.0f32..std::f32::consts::TAU, pitch in 0.3f32..std::f32::consts::FRAC_PI_2, dist in 5.0f32..40.0,
        ) {
            let spec = ["saddle-valleys", "rosenbrock", "rastrigin", "bowl"][which];
            let l = Landscape::new(LandscapeSpec::from_name(spec).expect("name")).expect("spec");
            let (_, f) = sample_surface(&l, &Default::default());
            let d = f.domain;
            let p = [d.x[0] + u * d.width(), d.y[0] + v * d.height()];
            let loss = |q: Vec2d| l.value(q);
            let target = f.world_point(p, loss(p));
            let (origin, dir) = ray_to(target, yaw, pitch, dist);
            let hit = ray_height_field(origin, dir, &f, loss).expect("a ray aimed at the surface hits it");
            prop_assert!(d.contains(hit.param));
            let on_ray = origin + dir.normalize() * hit.distance;
            let tol = 1e-3 * (1.0 + f.world_height);
            prop_assert!((on_ray.x - hit.world.x).abs() < 1e-4 && (on_ray.z - hit.world.z).abs() < 1e-4);
            prop_assert!((on_ray.y - hit.world.y).abs() < tol, "off the surface by {}", on_ray.y - hit.world.y);
            // first crossing: a much finer march finds nothing well before it
            let n = 40 * MARCH_SAMPLES;
            let unit = dir.normalize();
            // which side of the surface the ray is on where it first comes over the domain
            let mut above = None;
            for i in 0..n {
                let t = hit.distance * i as f32 / n as f32;
                let q = origin + unit * t;
                if q.x.abs() > f.half_size().x || q.z.abs() > f.half_size().y {
                    continue;
                }
                let gap = q.y - surface_y(&f, &loss, q.x, q.z);
                let above = *above.get_or_insert(gap > 0.0);
                // a grazing touch thinner than one march step may be skipped; a real crossing may not
                prop_assert!(if above { gap > -0.05 } else { gap < 0.05 },
                    "crossed at t={t} before the hit at {}", hit.distance);
            }
        }
    }

    #[test]
    fn misses_outside_the_domain_and_off_the_surface() {
        let f = frame(Domain::square(1.0), [0.0, 2.0]);
        let h = f.half_size();
        // looking away from the surface
        assert_eq!(
            ray_height_field(Vec3::new(0.0, 10.0, 0.0), Vec3::Y, &f, bowl),
            None
        );
        // straight down beside the domain, on every side
        for (x, z) in [
            (h.x + 0.1, 0.0),
            (-h.x - 0.1, 0.0),
            (0.0, h.y + 0.1),
            (0.0, -h.y - 0.1),
        ] {
            let miss = ray_height_field(Vec3::new(x, 10.0, z), Vec3::NEG_Y, &f, bowl);
            assert_eq!(miss, None, "({x}, {z})");
        }
        // horizontally above the highest point, and passing beside the box
        assert_eq!(
            ray_height_field(
                Vec3::new(-20.0, 2.0 * f.world_height, 0.0),
                Vec3::X,
                &f,
                bowl
            ),
            None
        );
        assert_eq!(
            ray_height_field(Vec3::new(-20.0, 1.0, h.y + 1.0), Vec3::X, &f, bowl),
            None
        );
        // degenerate input never panics
        assert_eq!(ray_height_field(Vec3::ZERO, Vec3::ZERO, &f, bowl), None);
        assert_eq!(ray_height_field(Vec3::NAN, Vec3::NEG_Y, &f, bowl), None);
        assert_eq!(
            ray_height_field(Vec3::new(0.0, 10.0, 0.0), Vec3::NEG_Y, &f, |_| f64::NAN)
                .map(|h| h.param),
            Some([0.0, 0.0])
        );
        // straight down inside: the bowl's bottom
        let hit = ray_height_field(Vec3::new(0.0, 10.0, 0.0), Vec3::NEG_Y, &f, bowl).expect("hit");
        assert!(hit.world.y.abs() < 1e-4 && hit.param[0].abs() < 1e-6);
    }

    #[test]
    fn drags_off_the_surface_clamp_to_the_edge() {
        let f = frame(
            Domain {
                x: [-2.0, 2.0],
                y: [-1.0, 3.0],
            },
            [0.0, 8.0],
        );
        let down = |x: f32, z: f32| Ray3d::new(Vec3::new(x, 50.0, z), Dir3::NEG_Y);
        // top view: beyond the right edge -> x clamped, y kept
        let p = drag_param(
            ViewKind::Top,
            down(9.0, f.param_to_xz([0.0, 1.5]).y),
            &f,
            bowl,
            0.0,
        )
        .expect("p");
        assert!(
            (p[0] - 2.0).abs() < 1e-9 && (p[1] - 1.5).abs() < 1e-4,
            "{p:?}"
        );
        assert_eq!(pointer_param(ViewKind::Top, down(9.0, 0.0), &f, bowl), None);
        // 3D: a ray past the far corner lands on the corner
        let origin = Vec3::new(0.0, 5.0, 0.0);
        let ray = Ray3d::new(origin, Dir3::new(Vec3::new(1.0, -0.05, -1.0)).expect("dir"));
        let p = drag_param(ViewKind::ThreeD, ray, &f, |_| 0.0, 0.0).expect("p");
        assert_eq!(p, [2.0, 3.0]);
        // a ray at the sky gives nothing to move to
        let up = Ray3d::new(origin, Dir3::Y);
        assert_eq!(drag_param(ViewKind::ThreeD, up, &f, bowl, 0.0), None);
        // on the surface the hit wins over the plane
        let target = f.world_point([0.5, 0.5], bowl([0.5, 0.5]));
        let ray = Ray3d::new(
            target + Vec3::new(0.0, 8.0, 8.0),
            Dir3::new(-Vec3::new(0.0, 8.0, 8.0)).expect("dir"),
        );
        let p = drag_param(ViewKind::ThreeD, ray, &f, bowl, 0.0).expect("p");
        assert!(
            (p[0] - 0.5).abs() < 1e-3 && (p[1] - 0.5).abs() < 1e-3,
            "{p:?}"
        );
    }
}
