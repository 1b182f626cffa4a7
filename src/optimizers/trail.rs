//! Trail geometry: a path of param points turned into a ribbon of world vertices. Long runs are decimated
//! (a point is kept only when it moved far enough from the last kept one) and long segments are subdivided
//! so a draped trail follows the surface instead of cutting through hills.

use bevy::prelude::*;

use crate::core::Vec2d;

/// Decimated trail points in param coordinates, extended incrementally as the run grows.
#[derive(Debug, Default, Clone)]
pub struct TrailPoints {
    /// Kept points (the first and the latest are always kept).
    pub points: Vec<Vec2d>,
    /// How many path points have been consumed.
    pub consumed: usize,
    /// Whether the last entry of `points` is a provisional copy of the newest path point.
    provisional: bool,
}

impl TrailPoints {
    /// Consumes `path[self.consumed..]`; `min_step` and `max_step` are in param units.
    /// A path shorter than what was consumed (a reset) starts over.
    pub fn extend(&mut self, path: &[Vec2d], min_step: f64, max_step: f64) {
        self.extend_by(path, |p| *p, min_step, max_step);
    }

    /// [`Self::extend`] over any path type (`pos` reads a point), so a run's history is read in place
    /// rather than copied every frame.
    pub fn extend_by<T>(
        &mut self,
        path: &[T],
        pos: impl Fn(&T) -> Vec2d,
        min_step: f64,
        max_step: f64,
    ) {
        if path.len() < self.consumed {
            *self = Self::default();
        }
        if self.provisional {
            self.points.pop();
            self.provisional = false;
        }
        for p in path[self.consumed..].iter().map(&pos) {
            if !(p[0].is_finite() && p[1].is_finite()) {
                continue;
            }
            match self.points.last().copied() {
                None => self.points.push(p),
                Some(last) => {
                    let d = ((p[0] - last[0]).powi(2) + (p[1] - last[1]).powi(2)).sqrt();
                    if d >= min_step {
                        // subdivide long jumps so draped segments follow the surface
                        let pieces = (d / max_step).ceil().clamp(1.0, 64.0) as usize;
                        for k in 1..=pieces {
                            let s = k as f64 / pieces as f64;
                            self.points.push([
                                last[0] + s * (p[0] - last[0]),
                                last[1] + s * (p[1] - last[1]),
                            ]);
                        }
                    }
                }
            }
        }
        self.consumed = path.len();
        // keep the newest point so the trail always reaches the ball
        if let Some(newest) = path.last().map(&pos)
            && newest[0].is_finite()
            && newest[1].is_finite()
            && self.points.last() != Some(&newest)
        {
            self.points.push(newest);
            self.provisional = true;
        }
    }
}

/// Triangle-strip vertices of a horizontal ribbon of `width` through `centre` points (world space).
/// Returns an empty list for fewer than two points.
pub fn ribbon_strip(centre: &[Vec3], width: f32, out: &mut Vec<[f32; 3]>) {
    out.clear();
    if centre.len() < 2 {
        return;
    }
    let half = 0.5 * width;
    for (i, &p) in centre.iter().enumerate() {
        let prev = centre[i.saturating_sub(1)];
        let next = centre[(i + 1).min(centre.len() - 1)];
        let d = Vec2::new(next.x - prev.x, next.z - prev.z);
        let d = d.try_normalize().unwrap_or(Vec2::X);
        let side = Vec3::new(-d.y, 0.0, d.x) * half;
        out.push((p - side).to_array());
        out.push((p + side).to_array());
    }
}

/// Rewrites a triangle-strip mesh in place with `strip` (two coincident vertices when it is empty, so
/// the renderer never sees an empty vertex buffer). Normals point up.
pub fn write_ribbon_mesh(mesh: &mut Mesh, strip: &[[f32; 3]]) {
    let positions = if strip.is_empty() {
        vec![[0.0; 3]; 2]
    } else {
        strip.to_vec()
    };
    let normals = vec![[0.0, 1.0, 0.0]; positions.len()];
    let _ = mesh.try_insert_attribute(Mesh::ATTRIBUTE_POSITION, positions);
    let _ = mesh.try_insert_attribute(Mesh::ATTRIBUTE_NORMAL, normals);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimates_and_always_reaches_the_newest_point() {
        let path: Vec<Vec2d> = (0..10_000).map(|i| [i as f64 * 1e-5, 0.0]).collect();
        let mut t = TrailPoints::default();
        t.extend(&path, 0.01, 1.0);
        assert!(t.points.len() < 20, "kept {}", t.points.len());
        assert_eq!(t.points.first(), Some(&[0.0, 0.0]));
        assert_eq!(t.points.last(), path.last());
    }

    #[test]
    fn incremental_equals_all_at_once_and_reset_restarts() {
        let path: Vec<Vec2d> = (0..500)
            .map(|i| [(i as f64 * 0.1).sin(), i as f64 * 0.01])
            .collect();
        let mut once = TrailPoints::default();
        once.extend(&path, 0.02, 0.1);
        let mut inc = TrailPoints::default();
        for end in (1..=path.len()).step_by(7).chain([path.len()]) {
            inc.extend(&path[..end], 0.02, 0.1);
        }
        assert_eq!(once.points, inc.points);
        inc.extend(&path[..3], 0.02, 0.1);
        assert!(inc.points.len() <= 4);
    }

    #[test]
    fn long_jumps_are_subdivided_and_nan_skipped() {
        let mut t = TrailPoints::default();
        t.extend(&[[0.0, 0.0], [f64::NAN, 1.0], [1.0, 0.0]], 0.01, 0.1);
        assert_eq!(t.points.len(), 11);
        assert!(t.points.iter().all(|p| p[0].is_finite()));
    }

    #[test]
    fn ribbon_has_two_vertices_per_point_at_half_width() {
        let mut out = Vec::new();
        ribbon_strip(
            &[Vec3::ZERO, Vec3::X, Vec3::new(2.0, 0.0, 0.0)],
            0.2,
            &mut out,
        );
        assert_eq!(out.len(), 6);
        assert!((Vec3::from(out[0]) - Vec3::from(out[1])).length() - 0.2 < 1e-6);
        ribbon_strip(&[Vec3::ZERO], 0.2, &mut out);
        assert!(out.is_empty());
    }
}
