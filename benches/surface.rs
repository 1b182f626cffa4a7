//! Surface mesh build: sampling the landscape on the grid and turning it into vertex data (positions,
//! normals, contour coordinates) and indices, as a landscape or resolution change does.
//! `cargo bench --bench surface` (release; needs the app feature, on by default).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use losscape::core::{Landscape, LandscapeSpec, scene::SurfaceStyle};
use losscape::{geometry::sample_surface, surface::mesh};
use std::hint::black_box;

fn mesh_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("surface_mesh_build");
    group.sample_size(10);
    for name in ["saddle-valleys", "beale", "terrain"] {
        let landscape = Landscape::new(LandscapeSpec::from_name(name).unwrap()).unwrap();
        for n in [256usize, 512, 1024] {
            let style = SurfaceStyle {
                resolution: n,
                log_height: name == "beale",
                log_contours: name == "beale",
                ..SurfaceStyle::default()
            };
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    let (grid, frame) = sample_surface(&landscape, &style);
                    let v = mesh::surface_vertices(&grid, &frame, style.log_contours);
                    let idx = mesh::grid_indices(n, &grid.undefined);
                    black_box((v.positions.len(), idx.len()))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, mesh_build);
criterion_main!(benches);
