//! The surface mesh: a grid of the landscape in world space, with normals from the analytic gradient and the
//! contour coordinate in UV0.x. Built from the core's [`SurfaceGrid`]; updated in place.

use bevy::{mesh::Indices, prelude::*};

use crate::core::grid::SurfaceGrid;
use crate::geometry::SurfaceFrame;

/// Vertex data for a grid, ready to upload.
pub struct SurfaceVertices {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub uvs: Vec<[f32; 2]>,
}

/// Positions, normals and contour coordinates of every grid vertex (row-major, j * n + i).
pub fn surface_vertices(
    grid: &SurfaceGrid,
    frame: &SurfaceFrame,
    log_contours: bool,
) -> SurfaceVertices {
    let n = grid.resolution;
    let count = n * n;
    let mut positions = Vec::with_capacity(count);
    let mut normals = Vec::with_capacity(count);
    let mut uvs = Vec::with_capacity(count);
    let [h0, h1] = frame.height_range;
    // world Y per unit of curve height, and world units per param unit
    let y_per_h = (frame.world_height as f64 / (h1 - h0).max(1e-12)) as f32;
    let k = frame.world_per_param;
    let dx = (grid.domain.x[1] - grid.domain.x[0]) / (n - 1) as f64;
    let dy = (grid.domain.y[1] - grid.domain.y[0]) / (n - 1) as f64;
    for j in 0..n {
        for i in 0..n {
            let idx = j * n + i;
            let p = [
                grid.domain.x[0] + i as f64 * dx,
                grid.domain.y[0] + j as f64 * dy,
            ];
            let xz = frame.param_to_xz(p);
            let h = grid.height[idx] as f64;
            let y =
                (((h - h0) as f32) * y_per_h).clamp(-frame.world_height, 2.0 * frame.world_height);
            positions.push([xz.x, if y.is_finite() { y } else { 0.0 }, xz.y]);
            // dY/dX = y_per_h / k * dh/dx;  dY/dZ = -y_per_h / k * dh/dy  (world Z = -param y)
            let [sx, sy] = grid.normal_slope[idx];
            let gx = y_per_h / k * sx;
            let gz = -y_per_h / k * sy;
            let nrm = Vec3::new(-gx, 1.0, -gz).normalize_or(Vec3::Y);
            normals.push(nrm.to_array());
            let t = frame.contour_coordinate(grid.loss[idx] as f64, log_contours);
            uvs.push([t, 0.0]);
        }
    }
    SurfaceVertices {
        positions,
        normals,
        uvs,
    }
}

pub use crate::core::mesh::grid_indices;

/// Replaces the mesh's vertex data in place; the index buffer is rebuilt only when the resolution changed.
pub fn write_surface_mesh(
    mesh: &mut Mesh,
    grid: &SurfaceGrid,
    frame: &SurfaceFrame,
    log_contours: bool,
) {
    let n = grid.resolution;
    let v = surface_vertices(grid, frame, log_contours);
    let same_size = mesh.count_vertices() == n * n;
    let _ = mesh.try_insert_attribute(Mesh::ATTRIBUTE_POSITION, v.positions);
    let _ = mesh.try_insert_attribute(Mesh::ATTRIBUTE_NORMAL, v.normals);
    let _ = mesh.try_insert_attribute(Mesh::ATTRIBUTE_UV_0, v.uvs);
    // the full index buffer stays while the size does; a grid with gaps gets its own every time
    let full = (n - 1) * (n - 1) * 6;
    let indexed = mesh.indices().map(|i| i.len());
    if !same_size || grid.undefined_count > 0 || indexed != Some(full) {
        let _ = mesh.try_insert_indices(Indices::U32(grid_indices(n, &grid.undefined)));
    }
}
