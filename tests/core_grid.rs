//! Surface grids: layout, log heights, analytic slopes, finiteness, resolution limits.

mod common;

use common::landscape;
use losscape::core::{CoreError, GRID_CLAMP, HeightMode, Landscape, LandscapeSpec, SurfaceGrid};

#[test]
fn layout_is_row_major_over_the_domain() {
    let l = landscape("rosenbrock");
    let n = 33;
    let grid = SurfaceGrid::sample(&l, n, HeightMode::Linear);
    assert_eq!(grid.resolution, n);
    assert_eq!(grid.domain, l.domain());
    assert_eq!(grid.loss.len(), n * n);
    assert_eq!(grid.height.len(), n * n);
    assert_eq!(grid.normal_slope.len(), n * n);
    let d = l.domain();
    assert_eq!(grid.position(0, 0), [d.x[0], d.y[0]]);
    assert_eq!(grid.position(n - 1, n - 1), [d.x[1], d.y[1]]);
    for (i, j) in [(0, 0), (5, 0), (0, 7), (32, 11), (17, 32)] {
        let p = grid.position(i, j);
        let (value, g) = l.value_and_gradient(p);
        assert_eq!(grid.loss[j * n + i], value as f32, "({i}, {j})");
        assert_eq!(grid.height[j * n + i], value as f32);
        assert_eq!(grid.normal_slope[j * n + i], [g[0] as f32, g[1] as f32]);
    }
    let min = grid.loss.iter().copied().fold(f32::INFINITY, f32::min);
    let max = grid.loss.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    assert_eq!(grid.loss_range, [min, max]);
    assert_eq!(grid.height_range, grid.loss_range);
}

#[test]
fn log_mode_is_ln_one_plus_loss_above_the_grid_minimum() {
    let l = landscape("beale");
    let n = 41;
    let linear = SurfaceGrid::sample(&l, n, HeightMode::Linear);
    let log = SurfaceGrid::sample(&l, n, HeightMode::Log);
    assert_eq!(log.loss, linear.loss);
    let min_loss = (0..n * n)
        .map(|k| l.value(log.position(k % n, k / n)))
        .fold(f64::INFINITY, f64::min);
    assert_eq!(
        log.height_range[0], 0.0,
        "the lowest vertex has height ln 1 = 0"
    );
    for k in [0, 7, 100, 820, n * n - 1] {
        let p = log.position(k % n, k / n);
        let (value, g) = l.value_and_gradient(p);
        let shifted = 1.0 + value - min_loss;
        assert!((f64::from(log.height[k]) - shifted.ln()).abs() < 1e-5 * (1.0 + shifted.ln()));
        // d/dx ln(1 + L - min) = L_x / (1 + L - min)
        for (axis, gradient) in g.iter().enumerate() {
            let expected = gradient / shifted;
            assert!(
                (f64::from(log.normal_slope[k][axis]) - expected).abs()
                    < 1e-5 * (1.0 + expected.abs()),
                "vertex {k}, axis {axis}"
            );
        }
    }
}

#[test]
fn slopes_match_the_height_field_differences() {
    // Central differences of the sampled heights approximate the analytic slopes in the interior.
    let l = landscape("himmelblau");
    let n = 401;
    for mode in [HeightMode::Linear, HeightMode::Log] {
        let grid = SurfaceGrid::sample(&l, n, mode);
        let (dx, dy) = (
            grid.domain.width() / (n - 1) as f64,
            grid.domain.height() / (n - 1) as f64,
        );
        for (i, j) in [(100, 100), (200, 50), (333, 300), (50, 380)] {
            let h = |i: usize, j: usize| f64::from(grid.height[j * n + i]);
            let fd = [
                (h(i + 1, j) - h(i - 1, j)) / (2.0 * dx),
                (h(i, j + 1) - h(i, j - 1)) / (2.0 * dy),
            ];
            let s = grid.normal_slope[j * n + i];
            for axis in 0..2 {
                let a = f64::from(s[axis]);
                assert!(
                    (fd[axis] - a).abs() < 0.02 * (1.0 + a.abs()),
                    "{mode:?} ({i}, {j}) axis {axis}: {a} vs {}",
                    fd[axis]
                );
            }
        }
    }
}

#[test]
fn every_landscape_samples_to_finite_values() {
    for spec in LandscapeSpec::all_defaults() {
        let l = Landscape::new(spec).unwrap();
        for mode in [HeightMode::Linear, HeightMode::Log] {
            let grid = SurfaceGrid::sample(&l, 64, mode);
            let finite = |v: &f32| v.is_finite() && v.abs() <= GRID_CLAMP;
            assert!(grid.loss.iter().all(finite), "{} {mode:?}", l.name());
            assert!(grid.height.iter().all(finite), "{} {mode:?}", l.name());
            assert!(
                grid.normal_slope.iter().flatten().all(finite),
                "{} {mode:?}",
                l.name()
            );
            assert!(grid.height_range[0] <= grid.height_range[1]);
        }
    }
}

#[test]
fn resolution_limits() {
    let l = landscape("bowl");
    assert!(matches!(
        SurfaceGrid::try_sample(&l, 1, HeightMode::Linear),
        Err(CoreError::InvalidResolution(1))
    ));
    assert!(matches!(
        SurfaceGrid::try_sample(&l, 1025, HeightMode::Linear),
        Err(CoreError::InvalidResolution(1025))
    ));
    assert_eq!(
        SurfaceGrid::try_sample(&l, 2, HeightMode::Log)
            .unwrap()
            .loss
            .len(),
        4
    );
    // `sample` clamps instead of failing.
    assert_eq!(SurfaceGrid::sample(&l, 0, HeightMode::Linear).resolution, 2);
    assert_eq!(
        SurfaceGrid::sample(&l, 5000, HeightMode::Linear).resolution,
        1024
    );
}

#[test]
fn loss_between_vertices_is_bilinear_and_exact_at_them() {
    let l = landscape("himmelblau");
    let n = 65;
    let grid = SurfaceGrid::sample(&l, n, HeightMode::Linear);
    for (i, j) in [(0, 0), (7, 40), (64, 64), (33, 1)] {
        assert_eq!(grid.loss_at(grid.position(i, j)), grid.loss[j * n + i]);
    }
    // halfway between two vertices: their mean
    let (a, b) = (grid.position(10, 20), grid.position(11, 20));
    let mid = grid.loss_at([0.5 * (a[0] + b[0]), a[1]]);
    let mean = 0.5 * (grid.loss[20 * n + 10] + grid.loss[20 * n + 11]);
    assert!(
        (mid - mean).abs() <= 1e-3 * mean.abs().max(1.0),
        "{mid} vs {mean}"
    );
    // outside the domain: the edge, never a panic
    assert!(grid.loss_at([1e9, -1e9]).is_finite());
    assert!(grid.loss_at([f64::NAN, 0.0]).is_finite());
}
