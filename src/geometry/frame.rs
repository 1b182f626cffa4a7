//! The map between landscape coordinates (`param`: x, y) and Bevy's world (`world`: X right, Y up, Z toward
//! the viewer). The surface lies in the XZ plane: param x -> world X, param y -> world -Z (so the top view,
//! looking down with -Z up on screen, shows y growing upward), loss -> world Y.

use std::sync::Arc;

use bevy::prelude::*;

use crate::core::{
    Domain, Landscape, Vec2d,
    grid::{HeightMode, SurfaceGrid},
    scene::SurfaceStyle,
};

/// Half the width of the surface's longer side, in world units.
pub const HALF_EXTENT: f32 = 5.0;

/// How heights are derived from the loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HeightCurve {
    /// height = loss
    Linear,
    /// height = ln(1 + loss - loss_min)
    Log,
}

impl HeightCurve {
    /// Applies the curve (`loss_min` is the lowest loss on the grid).
    pub fn apply(self, loss: f64, loss_min: f64) -> f64 {
        match self {
            HeightCurve::Linear => loss,
            HeightCurve::Log => (loss - loss_min).max(0.0).ln_1p(),
        }
    }
}

/// Where the surface sits in the world; rebuilt with the surface mesh.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct SurfaceFrame {
    pub domain: Domain,
    /// World units per param unit (the same on both axes, so shapes are not distorted).
    pub world_per_param: f32,
    pub curve: HeightCurve,
    /// Lowest and highest loss on the grid.
    pub loss_range: [f64; 2],
    /// Lowest and highest curve(loss) on the grid.
    pub height_range: [f64; 2],
    /// World Y of the highest point of the grid (the lowest sits at Y = 0).
    pub world_height: f32,
    /// The sampled grid the mesh is drawn from, when there is one: rays meet it far more cheaply than
    /// the landscape itself (occlusion of trails and balls in the 3D view).
    pub heights: Option<Heights>,
}

/// The grid of a [`SurfaceFrame`], shared; two are equal when they are the same grid.
#[derive(Clone)]
pub struct Heights(pub Arc<SurfaceGrid>);

impl PartialEq for Heights {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Heights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.resolution;
        write!(f, "Heights({n} x {n})")
    }
}

impl Default for SurfaceFrame {
    fn default() -> Self {
        Self::new(
            Domain {
                x: [-1.0, 1.0],
                y: [-1.0, 1.0],
            },
            HeightCurve::Linear,
            [0.0, 1.0],
            0.35,
        )
    }
}

impl SurfaceFrame {
    /// A frame for `domain`, with losses on the grid spanning `loss_range` and the given height/width ratio.
    pub fn new(
        domain: Domain,
        curve: HeightCurve,
        loss_range: [f64; 2],
        height_scale: f32,
    ) -> Self {
        let width = (domain.x[1] - domain.x[0]).max(domain.y[1] - domain.y[0]);
        let world_per_param = (2.0 * HALF_EXTENT as f64 / width.max(1e-12)) as f32;
        let height_range = [
            curve.apply(loss_range[0], loss_range[0]),
            curve.apply(loss_range[1], loss_range[0]),
        ];
        Self {
            domain,
            world_per_param,
            curve,
            loss_range,
            height_range,
            world_height: 2.0 * HALF_EXTENT * height_scale,
            heights: None,
        }
    }

    /// Centre of the domain in param coordinates.
    pub fn center(&self) -> Vec2d {
        [
            0.5 * (self.domain.x[0] + self.domain.x[1]),
            0.5 * (self.domain.y[0] + self.domain.y[1]),
        ]
    }

    /// World X and Z of a param point.
    pub fn param_to_xz(&self, p: Vec2d) -> Vec2 {
        let c = self.center();
        Vec2::new(
            ((p[0] - c[0]) as f32) * self.world_per_param,
            -((p[1] - c[1]) as f32) * self.world_per_param,
        )
    }

    /// The param point under a world X, Z.
    pub fn xz_to_param(&self, x: f32, z: f32) -> Vec2d {
        let c = self.center();
        [
            c[0] + (x / self.world_per_param) as f64,
            c[1] - (z / self.world_per_param) as f64,
        ]
    }

    /// World Y of a loss value; finite for any input (clamped to a band around the surface).
    pub fn world_y(&self, loss: f64) -> f32 {
        let [h0, h1] = self.height_range;
        let span = (h1 - h0).max(1e-12);
        let h = self.curve.apply(loss, self.loss_range[0]);
        let y = ((h - h0) / span) as f32 * self.world_height;
        if y.is_finite() {
            y.clamp(-0.25 * self.world_height, 1.5 * self.world_height)
        } else if y > 0.0 {
            1.5 * self.world_height
        } else {
            0.0
        }
    }

    /// World point on the surface at a param point with the given loss.
    pub fn world_point(&self, p: Vec2d, loss: f64) -> Vec3 {
        let xz = self.param_to_xz(p);
        Vec3::new(xz.x, self.world_y(loss), xz.y)
    }

    /// Contour coordinate in [0, 1] for the shader: linear in the loss or in ln(1 + loss - min).
    pub fn contour_coordinate(&self, loss: f64, log: bool) -> f32 {
        let [l0, l1] = self.loss_range;
        let t = if log {
            (loss - l0).max(0.0).ln_1p() / (l1 - l0).max(1e-12).ln_1p()
        } else {
            (loss - l0) / (l1 - l0).max(1e-12)
        };
        if t.is_finite() {
            t.clamp(0.0, 1.0) as f32
        } else {
            1.0
        }
    }

    /// Clamps a param point into the domain.
    pub fn clamp_param(&self, p: Vec2d) -> Vec2d {
        [
            p[0].clamp(self.domain.x[0], self.domain.x[1]),
            p[1].clamp(self.domain.y[0], self.domain.y[1]),
        ]
    }

    /// Half width and half depth of the surface in world units.
    pub fn half_size(&self) -> Vec2 {
        Vec2::new(
            0.5 * (self.domain.x[1] - self.domain.x[0]) as f32 * self.world_per_param,
            0.5 * (self.domain.y[1] - self.domain.y[0]) as f32 * self.world_per_param,
        )
    }
}

/// Samples the landscape and derives the world frame: the pure part of a rebuild.
pub fn sample_surface(
    landscape: &Landscape,
    style: &SurfaceStyle,
) -> (Arc<SurfaceGrid>, SurfaceFrame) {
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
    let grid = Arc::new(grid);
    let mut frame = SurfaceFrame::new(grid.domain, curve, loss_range, style.height_scale as f32);
    frame.heights = Some(Heights(grid.clone()));
    (grid, frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> SurfaceFrame {
        SurfaceFrame::new(
            Domain {
                x: [-2.0, 2.0],
                y: [-1.0, 3.0],
            },
            HeightCurve::Linear,
            [0.0, 10.0],
            0.5,
        )
    }

    #[test]
    fn param_world_round_trip() {
        let f = frame();
        for p in [[-2.0, -1.0], [0.5, 2.5], [2.0, 3.0]] {
            let xz = f.param_to_xz(p);
            let q = f.xz_to_param(xz.x, xz.y);
            assert!((p[0] - q[0]).abs() < 1e-5 && (p[1] - q[1]).abs() < 1e-5);
        }
        // y grows toward -Z
        assert!(f.param_to_xz([0.0, 3.0]).y < f.param_to_xz([0.0, -1.0]).y);
        assert_eq!(f.half_size(), Vec2::splat(HALF_EXTENT));
    }

    #[test]
    fn heights_are_finite_and_bounded() {
        let f = frame();
        assert_eq!(f.world_y(0.0), 0.0);
        assert!((f.world_y(10.0) - f.world_height).abs() < 1e-5);
        for loss in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300] {
            let y = f.world_y(loss);
            assert!(y.is_finite());
            assert!(y <= 1.5 * f.world_height && y >= -0.25 * f.world_height);
        }
        assert_eq!(f.contour_coordinate(f64::NAN, false), 1.0);
        assert_eq!(f.contour_coordinate(5.0, false), 0.5);
    }
}
