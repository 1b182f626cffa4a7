//! Triangle meshes of the sampled surface as pure geometry, shared by the app's surface mesh, the vector
//! figures and the 3D models (`losscape export-mesh`): the grid's triangulation, contour lines on exactly
//! those triangles, a height field closed into a solid with a base (for 3D printing), tubes around paths
//! and spheres for balls.
//!
//! Points are `[f32; 3]` in whatever space the caller works in; the grid is `n x n` vertices, vertex
//! `(i, j)` at index `j * n + i`.

use std::collections::HashMap;

/// A triangle mesh: positions, one normal per position (unit length), and counter-clockwise triangles
/// (three indices each) seen from the side the normals point to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TriMesh {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub indices: Vec<u32>,
}

impl TriMesh {
    /// Appends `other`, its indices shifted past this mesh's vertices.
    pub fn append(&mut self, other: &TriMesh) {
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(&other.positions);
        self.normals.extend_from_slice(&other.normals);
        self.indices.extend(other.indices.iter().map(|i| i + base));
    }
}

/// Two triangles per grid cell, counter-clockwise seen from above when `j` grows away from the viewer
/// (param y up); none that touches an `undefined` vertex (a typed formula's gap, e.g. `ln` of a negative
/// number), so the surface shows a hole there. `undefined` is empty or one flag per vertex. Cell
/// `(i, j)` is split along the diagonal from `(i + 1, j)` to `(i, j + 1)`.
pub fn grid_indices(n: usize, undefined: &[bool]) -> Vec<u32> {
    let mut indices = Vec::with_capacity(n.saturating_sub(1).pow(2) * 6);
    let gap = |v: u32| undefined.get(v as usize).copied().unwrap_or(false);
    for j in 0..n.saturating_sub(1) {
        for i in 0..n - 1 {
            let a = (j * n + i) as u32;
            let b = a + 1;
            let c = a + n as u32;
            let d = c + 1;
            for tri in [[a, b, c], [b, d, c]] {
                if !tri.iter().any(|&v| gap(v)) {
                    indices.extend_from_slice(&tri);
                }
            }
        }
    }
    indices
}

/// The contour lines where the per-vertex `values` (interpolated linearly over each triangle of
/// [`grid_indices`], as a GPU interpolates a vertex attribute) equal `level`: polylines in grid
/// coordinates `[i, j]` (fractional vertex indices), closed ones ending where they start. Triangles
/// touching an `undefined` vertex have no lines, as they are not drawn.
pub fn iso_lines(n: usize, values: &[f32], undefined: &[bool], level: f32) -> Vec<Vec<[f32; 2]>> {
    if n < 2 || values.len() < n * n || !level.is_finite() {
        return Vec::new();
    }
    let grid = |v: u32| [(v as usize % n) as f32, (v as usize / n) as f32];
    // every crossing is on a grid edge (its two vertices, lower index first); a segment joins two
    let mut points: HashMap<(u32, u32), [f32; 2]> = HashMap::new();
    let mut segments: Vec<[(u32, u32); 2]> = Vec::new();
    let indices = grid_indices(n, undefined);
    for tri in indices.chunks_exact(3) {
        let tri = [tri[0], tri[1], tri[2]];
        let above = tri.map(|v| values[v as usize] >= level);
        if above[0] == above[1] && above[1] == above[2] {
            continue;
        }
        let mut ends = [(0, 0); 2];
        let mut found = 0;
        for k in 0..3 {
            let (p, q) = (tri[k], tri[(k + 1) % 3]);
            if above[k] == above[(k + 1) % 3] {
                continue;
            }
            let key = (p.min(q), p.max(q));
            points.entry(key).or_insert_with(|| {
                let (vp, vq) = (values[key.0 as usize], values[key.1 as usize]);
                let t = ((level - vp) / (vq - vp)).clamp(0.0, 1.0);
                let (gp, gq) = (grid(key.0), grid(key.1));
                [gp[0] + (gq[0] - gp[0]) * t, gp[1] + (gq[1] - gp[1]) * t]
            });
            if found < 2 {
                ends[found] = key;
            }
            found += 1;
        }
        if found == 2 {
            segments.push(ends);
        }
    }
    chain(&segments, &points)
}

/// Joins segments that share an end into polylines: open chains from their ends first, then loops.
fn chain(
    segments: &[[(u32, u32); 2]],
    points: &HashMap<(u32, u32), [f32; 2]>,
) -> Vec<Vec<[f32; 2]>> {
    let mut at: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
    for (s, ends) in segments.iter().enumerate() {
        for end in ends {
            at.entry(*end).or_default().push(s);
        }
    }
    let mut used = vec![false; segments.len()];
    let mut lines = Vec::new();
    let walk = |start: usize, from: (u32, u32), used: &mut Vec<bool>| {
        let mut keys = vec![from];
        let (mut s, mut here) = (start, from);
        loop {
            used[s] = true;
            let [a, b] = segments[s];
            here = if a == here { b } else { a };
            keys.push(here);
            let next = at
                .get(&here)
                .and_then(|list| list.iter().copied().find(|&t| !used[t]));
            match next {
                Some(t) => s = t,
                None => break,
            }
        }
        keys.iter().filter_map(|k| points.get(k).copied()).collect()
    };
    // segments in a deterministic order: open ends (an edge with one segment) start their chains
    let mut open: Vec<((u32, u32), usize)> = at
        .iter()
        .filter(|(_, list)| list.len() == 1)
        .map(|(key, list)| (*key, list[0]))
        .collect();
    open.sort_unstable();
    for (key, s) in open {
        if !used[s] {
            lines.push(walk(s, key, &mut used));
        }
    }
    for s in 0..segments.len() {
        if !used[s] {
            lines.push(walk(s, segments[s][0], &mut used));
        }
    }
    lines
}

/// A closed solid from a height field of `n x n` vertices (`top`, row-major, z up, x growing with `i`
/// and y with `j`): the top surface as [`grid_indices`] triangulates it, four walls straight down to
/// `base_z` (below every vertex) and a bottom. Every edge is shared by exactly two triangles, wound
/// counter-clockwise seen from outside: a mesh a slicer prints as it is.
pub fn height_field_solid(n: usize, top: &[[f32; 3]], base_z: f32) -> TriMesh {
    if n < 2 || top.len() != n * n {
        return TriMesh::default();
    }
    let mut mesh = TriMesh {
        positions: top.to_vec(),
        normals: vec![[0.0, 0.0, 1.0]; top.len()],
        indices: grid_indices(n, &[]),
    };
    // the top's boundary, counter-clockwise seen from above: along j = 0, i = n - 1, j = n - 1, i = 0
    let ring: Vec<u32> = (0..n - 1)
        .chain((0..n - 1).map(|j| j * n + n - 1))
        .chain((1..n).rev().map(|i| (n - 1) * n + i))
        .chain((1..n).rev().map(|j| j * n))
        .map(|v| v as u32)
        .collect();
    let bottom0 = mesh.positions.len() as u32;
    for &v in &ring {
        let [x, y, _] = top[v as usize];
        mesh.positions.push([x, y, base_z]);
        mesh.normals.push([0.0, 0.0, -1.0]);
    }
    let (mut cx, mut cy) = (0.0, 0.0);
    for &v in &ring {
        cx += top[v as usize][0];
        cy += top[v as usize][1];
    }
    let count = ring.len() as f32;
    let centre = mesh.positions.len() as u32;
    mesh.positions.push([cx / count, cy / count, base_z]);
    mesh.normals.push([0.0, 0.0, -1.0]);
    for k in 0..ring.len() {
        let next = (k + 1) % ring.len();
        let (t0, t1) = (ring[k], ring[next]);
        let (b0, b1) = (bottom0 + k as u32, bottom0 + next as u32);
        mesh.indices
            .extend_from_slice(&[t0, b0, b1, t0, b1, t1, centre, b1, b0]);
    }
    mesh
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn scale(a: [f32; 3], s: f32) -> [f32; 3] {
    a.map(|c| c * s)
}

fn add(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn normalize(a: [f32; 3]) -> Option<[f32; 3]> {
    let len = dot(a, a).sqrt();
    (len > 1e-12 && len.is_finite()).then(|| scale(a, 1.0 / len))
}

/// A tube of `radius` around a polyline, `sides` vertices around, with flat caps at both ends; points
/// closer than a hundredth of the radius to the previous one are left out. Fewer than two distinct
/// points make no tube.
pub fn tube(points: &[[f32; 3]], radius: f32, sides: usize) -> TriMesh {
    let sides = sides.max(3);
    let mut path: Vec<[f32; 3]> = Vec::with_capacity(points.len());
    for &p in points {
        if !p.iter().all(|c| c.is_finite()) {
            continue;
        }
        if path
            .last()
            .is_none_or(|&q| dot(sub(p, q), sub(p, q)).sqrt() > radius * 0.01)
        {
            path.push(p);
        }
    }
    let mut mesh = TriMesh::default();
    if path.len() < 2 || radius.is_nan() || radius <= 0.0 {
        return mesh;
    }
    // the ring's frame is carried along the path (parallel transport), so the tube does not twist
    let tangent = |k: usize| {
        let (a, b) = (path[k.saturating_sub(1)], path[(k + 1).min(path.len() - 1)]);
        normalize(sub(b, a)).unwrap_or([1.0, 0.0, 0.0])
    };
    let t0 = tangent(0);
    let helper = if t0[1].abs() < 0.9 {
        [0.0, 1.0, 0.0]
    } else {
        [1.0, 0.0, 0.0]
    };
    let mut u = normalize(cross(t0, helper)).unwrap_or([0.0, 0.0, 1.0]);
    for (k, &p) in path.iter().enumerate() {
        let t = tangent(k);
        // remove the part of u along the new tangent
        u = normalize(sub(u, scale(t, dot(u, t)))).unwrap_or(u);
        let v = cross(t, u);
        for s in 0..sides {
            let a = s as f32 / sides as f32 * std::f32::consts::TAU;
            let n = add(scale(u, a.cos()), scale(v, a.sin()));
            mesh.positions.push(add(p, scale(n, radius)));
            mesh.normals.push(n);
        }
    }
    let ring = |k: usize, s: usize| (k * sides + s % sides) as u32;
    for k in 0..path.len() - 1 {
        for s in 0..sides {
            let (a, b, c, d) = (
                ring(k, s),
                ring(k, s + 1),
                ring(k + 1, s),
                ring(k + 1, s + 1),
            );
            mesh.indices.extend_from_slice(&[a, b, d, a, d, c]);
        }
    }
    for (k, outward) in [
        (0, scale(tangent(0), -1.0)),
        (path.len() - 1, tangent(path.len() - 1)),
    ] {
        let centre = mesh.positions.len() as u32;
        mesh.positions.push(path[k]);
        mesh.normals.push(outward);
        let first = mesh.positions.len() as u32;
        for s in 0..sides {
            let i = ring(k, s) as usize;
            mesh.positions.push(mesh.positions[i]);
            mesh.normals.push(outward);
        }
        for s in 0..sides as u32 {
            let (a, b) = (first + s, first + (s + 1) % sides as u32);
            // the rings go counter-clockwise about the tangent: seen from the far end they do
            if k == 0 {
                mesh.indices.extend_from_slice(&[centre, b, a]);
            } else {
                mesh.indices.extend_from_slice(&[centre, a, b]);
            }
        }
    }
    mesh
}

/// A sphere of `radius` about `centre`: `rings` bands from pole to pole (y up), `segments` around.
pub fn sphere(centre: [f32; 3], radius: f32, rings: usize, segments: usize) -> TriMesh {
    let (rings, segments) = (rings.max(2), segments.max(3));
    let mut mesh = TriMesh::default();
    for r in 0..=rings {
        let polar = r as f32 / rings as f32 * std::f32::consts::PI;
        for s in 0..=segments {
            let a = s as f32 / segments as f32 * std::f32::consts::TAU;
            let n = [polar.sin() * a.cos(), polar.cos(), -polar.sin() * a.sin()];
            mesh.positions.push(add(centre, scale(n, radius)));
            mesh.normals.push(n);
        }
    }
    let at = |r: usize, s: usize| (r * (segments + 1) + s) as u32;
    for r in 0..rings {
        for s in 0..segments {
            let (a, b, c, d) = (at(r, s), at(r, s + 1), at(r + 1, s), at(r + 1, s + 1));
            if r > 0 {
                mesh.indices.extend_from_slice(&[a, c, b]);
            }
            if r + 1 < rings {
                mesh.indices.extend_from_slice(&[b, c, d]);
            }
        }
    }
    mesh
}

/// Each triangle's normal from its winding (counter-clockwise: towards the viewer), unit length, or
/// `None` for a triangle without area.
pub fn face_normal(a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> Option<[f32; 3]> {
    normalize(cross(sub(b, a), sub(c, a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every directed edge is matched by its reverse exactly once: closed and consistently wound.
    fn closed(mesh: &TriMesh) -> bool {
        let mut edges: HashMap<(u32, u32), i32> = HashMap::new();
        for tri in mesh.indices.chunks_exact(3) {
            for k in 0..3 {
                *edges.entry((tri[k], tri[(k + 1) % 3])).or_default() += 1;
            }
        }
        edges
            .iter()
            .all(|(&(a, b), &count)| count == 1 && edges.get(&(b, a)) == Some(&1))
    }

    /// Signed volume (positive when the triangles face outward).
    fn volume(mesh: &TriMesh) -> f32 {
        mesh.indices
            .chunks_exact(3)
            .map(|t| {
                let [a, b, c] = [0, 1, 2].map(|k| mesh.positions[t[k] as usize]);
                dot(a, cross(b, c)) / 6.0
            })
            .sum()
    }

    #[test]
    fn the_grid_has_two_triangles_a_cell_and_leaves_gaps_out() {
        assert_eq!(grid_indices(4, &[]).len(), 9 * 6);
        let mut undefined = vec![false; 16];
        undefined[5] = true;
        // vertex (1, 1) touches 6 of the 18 triangles
        assert_eq!(grid_indices(4, &undefined).len(), 12 * 3);
        assert!(grid_indices(1, &[]).is_empty());
    }

    #[test]
    fn a_ramp_has_one_straight_contour_and_a_bowl_a_closed_one() {
        let n = 6;
        let ramp: Vec<f32> = (0..n * n).map(|v| (v % n) as f32).collect();
        let lines = iso_lines(n, &ramp, &[], 2.5);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert!(line.iter().all(|p| (p[0] - 2.5).abs() < 1e-6), "{line:?}");
        let ys: Vec<f32> = line.iter().map(|p| p[1]).collect();
        assert!(ys.contains(&0.0) && ys.contains(&5.0), "from edge to edge");

        let n = 21;
        let bowl: Vec<f32> = (0..n * n)
            .map(|v| {
                let (x, y) = ((v % n) as f32 - 10.0, (v / n) as f32 - 10.0);
                x * x + y * y
            })
            .collect();
        let lines = iso_lines(n, &bowl, &[], 36.0);
        assert_eq!(lines.len(), 1);
        let ring = &lines[0];
        assert_eq!(ring.first(), ring.last(), "closed");
        for p in ring {
            let r = ((p[0] - 10.0).powi(2) + (p[1] - 10.0).powi(2)).sqrt();
            assert!((r - 6.0).abs() < 0.3, "radius {r}");
        }
        // a level outside the values has no lines, and neither do gaps
        assert!(iso_lines(n, &bowl, &[], 1e6).is_empty());
        assert!(iso_lines(n, &bowl, &vec![true; n * n], 36.0).is_empty());
    }

    #[test]
    fn a_height_field_closes_into_a_solid_with_outward_faces() {
        let n = 9;
        let top: Vec<[f32; 3]> = (0..n * n)
            .map(|v| {
                let (x, y) = ((v % n) as f32, (v / n) as f32);
                [x, y, 1.0 + (x * 0.7).sin() * (y * 0.4).cos()]
            })
            .collect();
        let solid = height_field_solid(n, &top, -0.5);
        assert!(closed(&solid));
        assert!(volume(&solid) > 0.0, "outward");
        assert_eq!(solid.indices.len() / 3, 2 * 64 + 3 * 32);
        // every triangle has an area
        for t in solid.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|k| solid.positions[t[k] as usize]);
            assert!(face_normal(a, b, c).is_some());
        }
    }

    #[test]
    fn tubes_and_spheres_are_closed_and_face_outward() {
        let path = [
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [2.0, 1.0, 0.5],
            [2.0, 2.0, 1.0],
        ];
        let t = tube(&path, 0.1, 8);
        // the repeated point is left out: 4 rings
        assert_eq!(t.indices.len() / 3, 3 * 8 * 2 + 2 * 8);
        assert!(volume(&t) > 0.0, "outward: {}", volume(&t));
        assert!(tube(&path[..1], 0.1, 8).indices.is_empty());
        let s = sphere([1.0, 2.0, 3.0], 0.5, 8, 12);
        let v = volume(&s);
        let exact = 4.0 / 3.0 * std::f32::consts::PI * 0.125;
        assert!(v > 0.9 * exact && v < exact, "{v} vs {exact}");
    }
}
