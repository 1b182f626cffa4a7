//! A path of param points made fit to draw: a point is kept only when it moved far enough from the last
//! kept one, long jumps are subdivided (so a trail draped over the 3D surface follows it instead of
//! cutting through hills), and the number of points stays bounded however long the run: past
//! [`TrailPoints::CAP`] points every other one is dropped and the spacing doubles.

use crate::core::{Domain, Vec2d};

/// A decimated, bounded path in `param` space, extended point by point as a run goes.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailPoints {
    points: Vec<Vec2d>,
    /// Whether the last point is a provisional copy of the newest path point (closer to the last kept
    /// point than `min_step`, kept so that the trail always reaches the ball).
    provisional: bool,
    /// Distance (param units) a point must move from the last kept one to be kept.
    min_step: f64,
    /// Longest segment (param units): longer jumps are subdivided.
    max_step: f64,
    cap: usize,
    /// Bumped whenever points other than the last changed (thinning, clearing): a drawing made from
    /// the old points must be redone, not extended.
    revision: u64,
}

impl TrailPoints {
    /// Most points kept: enough for a trail across a whole view (a point every 1.5 pixels of a 800-pixel
    /// view), and every point costs six of egui's triangles in each view in every frame. On a software
    /// renderer a frame's cost follows egui's triangles: the mini-batch lesson at 1,000 steps/s drew
    /// 34,000-40,000 a frame with 1,024 points and 23,600 with 512 (53-55 -> 43-44 ms of CPU a frame).
    pub const CAP: usize = 512;

    /// An empty path with the given spacing (param units).
    pub fn new(min_step: f64, max_step: f64) -> Self {
        Self::with_cap(min_step, max_step, Self::CAP)
    }

    /// The spacing used for a landscape's domain: a point every 1/800 of its longer side, segments at
    /// most 1/150 of it.
    pub fn for_domain(domain: &Domain) -> Self {
        let width = domain.width().max(domain.height());
        Self::new(width / 800.0, width / 150.0)
    }

    /// [`Self::new`] with another point budget (at least 8).
    pub fn with_cap(min_step: f64, max_step: f64, cap: usize) -> Self {
        Self {
            points: Vec::new(),
            provisional: false,
            min_step: min_step.max(0.0),
            max_step: max_step.max(min_step).max(f64::MIN_POSITIVE),
            cap: cap.max(8),
            revision: 0,
        }
    }

    /// The kept points, the first and the newest included.
    pub fn points(&self) -> &[Vec2d] {
        &self.points
    }

    /// See the field: a drawing of these points stays valid while this is unchanged.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Forgets every point (a run that started over).
    pub fn clear(&mut self) {
        self.points.clear();
        self.provisional = false;
        self.revision = self.revision.wrapping_add(1);
    }

    /// Forgets every point and takes the spacing for `domain` (see [`Self::for_domain`]); drawings of
    /// the old points see a new revision.
    pub fn restart(&mut self, domain: &Domain) {
        let fresh = Self::for_domain(domain);
        self.min_step = fresh.min_step;
        self.max_step = fresh.max_step;
        self.clear();
    }

    /// Adds the path's next point (non-finite points are skipped).
    pub fn push(&mut self, p: Vec2d) {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return;
        }
        if self.provisional {
            self.points.pop();
            self.provisional = false;
        }
        let Some(&last) = self.points.last() else {
            self.points.push(p);
            return;
        };
        let d = (p[0] - last[0]).hypot(p[1] - last[1]);
        if d < self.min_step {
            if p != last {
                self.points.push(p);
                self.provisional = true;
            }
            return;
        }
        let pieces = (d / self.max_step).ceil().clamp(1.0, 64.0) as usize;
        for k in 1..=pieces {
            let s = k as f64 / pieces as f64;
            self.points.push([
                last[0] + s * (p[0] - last[0]),
                last[1] + s * (p[1] - last[1]),
            ]);
        }
        if self.points.len() > self.cap {
            self.thin();
        }
    }

    /// Adds several path points in order.
    pub fn extend(&mut self, path: impl IntoIterator<Item = Vec2d>) {
        for p in path {
            self.push(p);
        }
    }

    /// Drops every other point (the first and the last stay) and doubles the spacing.
    fn thin(&mut self) {
        let last = self.points.len() - 1;
        let mut i = 0;
        self.points.retain(|_| {
            let keep = i % 2 == 0 || i == last;
            i += 1;
            keep
        });
        self.min_step *= 2.0;
        self.max_step = self.max_step.max(self.min_step);
        self.revision = self.revision.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimates_and_always_reaches_the_newest_point() {
        let mut t = TrailPoints::new(0.01, 1.0);
        t.extend((0..10_000).map(|i| [i as f64 * 1e-5, 0.0]));
        assert!(t.points().len() < 20, "kept {}", t.points().len());
        assert_eq!(t.points().first(), Some(&[0.0, 0.0]));
        assert_eq!(t.points().last(), Some(&[9999.0 * 1e-5, 0.0]));
    }

    #[test]
    fn incremental_equals_all_at_once() {
        let path: Vec<Vec2d> = (0..500)
            .map(|i| [(i as f64 * 0.1).sin(), i as f64 * 0.01])
            .collect();
        let mut once = TrailPoints::new(0.02, 0.1);
        once.extend(path.iter().copied());
        let mut inc = TrailPoints::new(0.02, 0.1);
        for chunk in path.chunks(7) {
            inc.extend(chunk.iter().copied());
        }
        assert_eq!(once.points(), inc.points());
    }

    #[test]
    fn long_jumps_are_subdivided_and_nan_skipped() {
        let mut t = TrailPoints::new(0.01, 0.1);
        t.extend([[0.0, 0.0], [f64::NAN, 1.0], [1.0, 0.0]]);
        assert_eq!(t.points().len(), 11);
        assert!(t.points().iter().all(|p| p[0].is_finite()));
    }

    #[test]
    fn a_run_that_never_ends_keeps_a_bounded_trail() {
        // a noisy run jittering around a point forever: every step moves more than the spacing
        let mut t = TrailPoints::with_cap(0.001, 0.01, 256);
        let mut revision = t.revision();
        let mut thinned = 0;
        for i in 0..200_000u64 {
            let a = (i as f64 * 2.399).sin();
            let b = (i as f64 * 1.618).cos();
            t.push([a * 0.05, b * 0.05]);
            assert!(t.points().len() <= 256 + 64, "{}", t.points().len());
            if t.revision() != revision {
                thinned += 1;
                revision = t.revision();
            }
        }
        assert!(thinned > 0);
        assert_eq!(t.points().first(), Some(&[0.0, 0.05]));
    }
}
