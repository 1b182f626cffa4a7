//! Landscapes: analytic gradients against finite differences over each display domain (proptest),
//! listed minima are minima, names and parameters, the terrain's noise and the regression dataset.

use std::sync::OnceLock;

use losscape::core::{
    Domain, GradientNoise, Landscape, LandscapeSpec, RegressionParams, TerrainParams, Vec2d,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// Every default landscape plus non-default parameters of the parametrised ones.
fn landscapes() -> &'static [Landscape] {
    static ALL: OnceLock<Vec<Landscape>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut specs = LandscapeSpec::all_defaults();
        specs.extend([
            LandscapeSpec::Bowl {
                kappa: 4.0,
                rotation_deg: 30.0,
            },
            LandscapeSpec::Rosenbrock { a: 2.0, b: 10.0 },
            LandscapeSpec::Rastrigin { a: 3.0 },
            LandscapeSpec::Terrain(TerrainParams {
                seed: 12345,
                octaves: 6,
                frequency: 0.6,
                amplitude: 2.0,
            }),
            LandscapeSpec::Regression(RegressionParams {
                samples: 37,
                seed: 9,
            }),
            LandscapeSpec::formula(
                "0.5*x^2+2*y^2+0.3*sin(3*x)*cos(2*y)",
                losscape::core::DEFAULT_FORMULA_DOMAIN,
            ),
            LandscapeSpec::formula("(x^2+y-11)^2+(x+y^2-7)^2", Domain::square(5.0)),
        ]);
        specs
            .into_iter()
            .map(|s| Landscape::new(s).expect("valid spec"))
            .collect()
    })
}

/// Fourth-order central difference of L along coordinate `axis` (error O(h^4)).
fn central_difference(l: &Landscape, p: Vec2d, axis: usize, h: f64) -> f64 {
    let at = |k: f64| {
        let mut q = p;
        q[axis] += k * h;
        l.value(q)
    };
    (-at(2.0) + 8.0 * at(1.0) - 8.0 * at(-1.0) + at(-2.0)) / (12.0 * h)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The analytic gradient matches central differences at random points of every domain.
    /// Tolerance: 1e-6 relative to |grad| plus a round-off term eps_machine |L| / h (x 50).
    #[test]
    fn gradients_match_central_differences(u in 0.0f64..=1.0, v in 0.0f64..=1.0) {
        for l in landscapes() {
            let d = l.domain();
            let p = [d.x[0] + u * d.width(), d.y[0] + v * d.height()];
            // Ackley's cone tip at the origin is not differentiable.
            if l.name() == "ackley" && p[0].hypot(p[1]) < 0.05 {
                continue;
            }
            let h = 1e-4;
            let (value, g) = l.value_and_gradient(p);
            for axis in 0..2 {
                let fd = central_difference(l, p, axis, h);
                let tol = 1e-6 * (1.0 + g[0].abs() + g[1].abs()) + 50.0 * f64::EPSILON * value.abs() / h;
                prop_assert!(
                    (fd - g[axis]).abs() <= tol,
                    "{} at {:?}, axis {}: analytic {} vs numeric {}", l.name(), p, axis, g[axis], fd
                );
            }
            prop_assert_eq!(l.gradient(p), g);
            prop_assert_eq!(l.value(p), value);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The exact Hessian matches central differences of the exact gradient at random points of every
    /// domain, and is symmetric.
    #[test]
    fn hessians_match_central_differences_of_the_gradient(u in 0.0f64..=1.0, v in 0.0f64..=1.0) {
        for l in landscapes() {
            let d = l.domain();
            let p = [d.x[0] + u * d.width(), d.y[0] + v * d.height()];
            if l.name() == "ackley" && p[0].hypot(p[1]) < 0.05 {
                continue;
            }
            // Simplex noise is only C2 across its kernels' edges: a smaller step for the terrain.
            let h = if l.name() == "terrain" { 1e-5 } else { 1e-4 };
            let hess = l.hessian(p);
            prop_assert_eq!(hess[0][1], hess[1][0]);
            let grad_at = |q: Vec2d| l.gradient(q);
            for axis in 0..2 {
                let at = |k: f64| {
                    let mut q = p;
                    q[axis] += k * h;
                    grad_at(q)
                };
                let (a2, a1, m1, m2) = (at(2.0), at(1.0), at(-1.0), at(-2.0));
                let g = l.gradient(p);
                let scale = 1.0 + hess.iter().flatten().map(|v| v.abs()).sum::<f64>();
                for (row, hrow) in hess.iter().enumerate() {
                    let fd = (-a2[row] + 8.0 * a1[row] - 8.0 * m1[row] + m2[row]) / (12.0 * h);
                    let tol = 1e-6 * scale + 50.0 * f64::EPSILON * (g[0].abs() + g[1].abs()) / h;
                    prop_assert!(
                        (fd - hrow[axis]).abs() <= tol,
                        "{} at {:?}: H[{}][{}] analytic {} vs numeric {}", l.name(), p, row, axis, hrow[axis], fd
                    );
                }
            }
        }
    }
}

#[test]
fn listed_minima_are_minima() {
    for l in landscapes() {
        for &m in l.minima() {
            let (value, g) = l.value_and_gradient(m);
            assert!(
                g[0].hypot(g[1]) < 1e-8,
                "{}: gradient {:?} at listed minimum {:?}",
                l.name(),
                g,
                m
            );
            assert!(l.domain().contains(m), "{}: {m:?} outside domain", l.name());
            // Terrain's finest octaves put neighbouring pits within 0.01 of each other.
            let radii = if l.name() == "terrain" {
                [1e-5, 1e-4, 1e-3]
            } else {
                [1e-4, 1e-3, 1e-2]
            };
            for r in radii {
                for k in 0..16 {
                    let a = k as f64 * std::f64::consts::TAU / 16.0;
                    let q = [m[0] + r * a.cos(), m[1] + r * a.sin()];
                    assert!(
                        value <= l.value(q),
                        "{}: {:?} (L = {value}) is not below its neighbour {:?} (L = {})",
                        l.name(),
                        m,
                        q,
                        l.value(q)
                    );
                }
            }
        }
    }
}

#[test]
fn known_minima_and_values() {
    let get = |name: &str| Landscape::new(LandscapeSpec::from_name(name).unwrap()).unwrap();
    let expect = |name: &str, minima: &[Vec2d], value: f64| {
        let l = get(name);
        assert_eq!(l.minima().len(), minima.len(), "{name}");
        for (m, e) in l.minima().iter().zip(minima) {
            assert!(
                (m[0] - e[0]).abs() < 1e-4 && (m[1] - e[1]).abs() < 1e-4,
                "{name}: {m:?} vs {e:?}"
            );
            assert!(
                (l.value(*m) - value).abs() < 1e-9,
                "{name}: L({m:?}) = {}",
                l.value(*m)
            );
        }
    };
    expect("bowl", &[[0.0, 0.0]], 0.0);
    expect("saddle-valleys", &[[0.0, -1.0], [0.0, 1.0]], 0.0);
    expect("rosenbrock", &[[1.0, 1.0]], 0.0);
    expect("beale", &[[3.0, 0.5]], 0.0);
    expect(
        "himmelblau",
        &[
            [3.0, 2.0],
            [-2.805118, 3.131312],
            [-3.779310, -3.283186],
            [3.584428, -1.848126],
        ],
        0.0,
    );
    expect("rastrigin", &[[0.0, 0.0]], 0.0);
    expect("ackley", &[[0.0, 0.0]], 0.0);
    expect("plateau", &[[0.0, 0.0]], 0.0);
    // The two global minima of the six-hump camel, value -1.0316284534898774 (textbook -1.0316).
    let camel = get("six-hump-camel");
    assert_eq!(camel.minima().len(), 6);
    for m in &camel.minima()[..2] {
        assert!((camel.value(*m) + 1.031_628_453_489_877).abs() < 1e-12);
        assert!((m[0].abs() - 0.0898).abs() < 1e-4 && (m[1].abs() - 0.7126).abs() < 1e-4);
    }
    for m in &camel.minima()[2..] {
        assert!(camel.value(*m) > -1.0);
    }
    assert!(get("saddle").minima().is_empty());
    assert!(get("monkey-saddle").minima().is_empty());
    assert_eq!(get("saddle").nearest_minimum([0.0, 0.0]), None);

    // Spot values of the textbook formulas.
    assert!((get("rosenbrock").value([-1.2, 1.0]) - 24.2).abs() < 1e-12);
    assert_eq!(
        get("saddle").value_and_gradient([2.0, 3.0]),
        (-5.0, [4.0, -6.0])
    );
    assert_eq!(get("monkey-saddle").value([1.0, 1.0]), -2.0);
    assert_eq!(get("saddle-valleys").value([1.0, 0.0]), 2.0);
    assert!((get("beale").value([0.0, 0.0]) - 14.203125).abs() < 1e-12);
    assert_eq!(get("himmelblau").value([0.0, 0.0]), 170.0);
    assert!((get("rastrigin").value([1.0, 1.0]) - 2.0).abs() < 1e-12);
    assert!((get("ackley").value([0.0, 0.0])).abs() < 1e-14);
    assert!((get("plateau").value([10.0, 0.0]) - 1.0).abs() < 1e-20);
    let bowl = Landscape::new(LandscapeSpec::Bowl {
        kappa: 10.0,
        rotation_deg: 90.0,
    })
    .unwrap();
    // Rotated by 90 degrees the steep axis is x: L(1, 0) = 0.5 * 10.
    assert!((bowl.value([1.0, 0.0]) - 5.0).abs() < 1e-12);
    assert!((bowl.value([0.0, 1.0]) - 0.5).abs() < 1e-12);
}

#[test]
fn nearest_minimum_picks_the_closest() {
    let l = Landscape::new(LandscapeSpec::Himmelblau).unwrap();
    let (m, d) = l.nearest_minimum([3.1, 2.1]).unwrap();
    assert_eq!(m, [3.0, 2.0]);
    assert!((d - 0.02f64.sqrt()).abs() < 1e-12);
    let (m, _) = l.nearest_minimum([-4.0, -4.0]).unwrap();
    assert!((m[0] + 3.779310).abs() < 1e-5);
}

#[test]
fn names_round_trip_and_unknown_names_list_the_valid_ones() {
    assert_eq!(LandscapeSpec::NAMES.len(), 13);
    for name in LandscapeSpec::NAMES {
        let spec = LandscapeSpec::from_name(name).unwrap();
        assert_eq!(spec.name(), *name);
        let l = Landscape::new(spec).unwrap();
        assert!(!l.description().is_empty() && !l.spec().label().is_empty());
        let start = l.default_start();
        assert!(l.domain().contains(start), "{name}: start {start:?}");
        assert!(l.value(start).is_finite());
    }
    let err = LandscapeSpec::from_name("rosenbrok")
        .unwrap_err()
        .to_string();
    assert!(err.contains("'rosenbrok'"), "{err}");
    assert!(err.contains(&LandscapeSpec::NAMES.join(", ")), "{err}");
}

#[test]
fn invalid_parameters_are_refused() {
    let bad = [
        LandscapeSpec::Bowl {
            kappa: 0.0,
            rotation_deg: 0.0,
        },
        LandscapeSpec::Bowl {
            kappa: 1.0,
            rotation_deg: f64::NAN,
        },
        LandscapeSpec::Rosenbrock { a: 1.0, b: 0.0 },
        LandscapeSpec::Rosenbrock {
            a: f64::INFINITY,
            b: 100.0,
        },
        LandscapeSpec::Rastrigin { a: -1.0 },
        LandscapeSpec::Terrain(TerrainParams {
            octaves: 0,
            ..TerrainParams::default()
        }),
        LandscapeSpec::Terrain(TerrainParams {
            octaves: 9,
            ..TerrainParams::default()
        }),
        LandscapeSpec::Terrain(TerrainParams {
            frequency: 0.0,
            ..TerrainParams::default()
        }),
        LandscapeSpec::Terrain(TerrainParams {
            amplitude: -1.0,
            ..TerrainParams::default()
        }),
        LandscapeSpec::Regression(RegressionParams {
            samples: 1,
            seed: 0,
        }),
        LandscapeSpec::Regression(RegressionParams {
            samples: 100_001,
            seed: 0,
        }),
    ];
    for spec in bad {
        let err = Landscape::new(spec.clone())
            .expect_err(&format!("{spec:?}"))
            .to_string();
        assert!(
            err.starts_with(&format!("invalid {} landscape", spec.name())),
            "{err}"
        );
    }
}

#[test]
fn specs_round_trip_through_ron() {
    for spec in LandscapeSpec::all_defaults() {
        let text = ron::to_string(&spec).unwrap();
        let back: LandscapeSpec = ron::from_str(&text).unwrap();
        assert_eq!(back, spec, "{text}");
    }
    let bowl: LandscapeSpec = ron::from_str("Bowl(kappa: 4.0, rotation_deg: 30.0)").unwrap();
    assert_eq!(
        bowl,
        LandscapeSpec::Bowl {
            kappa: 4.0,
            rotation_deg: 30.0
        }
    );
    assert!(
        ron::from_str::<LandscapeSpec>("Bowl(kappa: 4.0, rotation_deg: 30.0, tilt: 1.0)").is_err()
    );
}

#[test]
fn terrain_is_deterministic_per_seed_and_differs_between_seeds() {
    let make = |seed| {
        Landscape::new(LandscapeSpec::Terrain(TerrainParams {
            seed,
            ..TerrainParams::default()
        }))
        .unwrap()
    };
    let (a, b, c) = (make(1), make(1), make(2));
    let p = [0.37, -1.21];
    assert_eq!(a.value_and_gradient(p), b.value_and_gradient(p));
    assert_eq!(a.minima(), b.minima());
    assert_ne!(a.value(p), c.value(p));
    // Minima are sorted deepest first.
    let values: Vec<f64> = a.minima().iter().map(|&m| a.value(m)).collect();
    assert!(!values.is_empty());
    assert!(values.windows(2).all(|w| w[0] <= w[1]));
    // Far away and at non-finite points the noise stays finite or NaN, never panics.
    assert!(a.value([9e5, -9e5]).is_finite());
    let _ = a.value([f64::NAN, 0.0]);
}

#[test]
fn terrain_amplitude_zero_is_the_bowl() {
    let l = Landscape::new(LandscapeSpec::Terrain(TerrainParams {
        amplitude: 0.0,
        ..TerrainParams::default()
    }))
    .unwrap();
    assert_eq!(l.value_and_gradient([1.0, 2.0]), (0.04 * 5.0, [0.08, 0.16]));
    // The numerical search finds the bowl's one minimum (to round-off).
    assert_eq!(l.minima().len(), 1);
    assert!(l.minima()[0][0].hypot(l.minima()[0][1]) < 1e-9);
}

fn regression(samples: usize, seed: u64) -> Landscape {
    Landscape::new(LandscapeSpec::Regression(RegressionParams {
        samples,
        seed,
    }))
    .unwrap()
}

/// The O(1) sufficient-statistics loss and gradient equal the direct mean over the dataset.
#[test]
fn regression_sufficient_statistics_match_the_direct_sums() {
    let l = regression(100, 3);
    let data = l.dataset().unwrap();
    assert_eq!(data.len(), 100);
    for p in [
        [0.0, 0.0],
        [2.0, -1.0],
        [-1.5, 2.5],
        [5.0, -4.0],
        l.minima()[0],
    ] {
        let n = data.len() as f64;
        let loss: f64 = data
            .iter()
            .map(|[x, y]| (p[0] * x + p[1] - y).powi(2))
            .sum::<f64>()
            / n;
        let gw: f64 = data
            .iter()
            .map(|[x, y]| 2.0 * (p[0] * x + p[1] - y) * x)
            .sum::<f64>()
            / n;
        let gb: f64 = data
            .iter()
            .map(|[x, y]| 2.0 * (p[0] * x + p[1] - y))
            .sum::<f64>()
            / n;
        let (value, g) = l.value_and_gradient(p);
        assert!(
            (value - loss).abs() <= 1e-12 * (1.0 + loss),
            "{p:?}: {value} vs {loss}"
        );
        assert!((g[0] - gw).abs() <= 1e-12 * (1.0 + gw.abs()), "{p:?}");
        assert!((g[1] - gb).abs() <= 1e-12 * (1.0 + gb.abs()), "{p:?}");
    }
    // The dataset is the documented line y = 2x - 1 plus noise: the fit is near it.
    let [w, b] = l.minima()[0];
    assert!(
        (w - 2.0).abs() < 0.3 && (b + 1.0).abs() < 0.5,
        "fit {w}, {b}"
    );
    assert!(data.iter().all(|[x, _]| (0.0..3.0).contains(x)));
}

#[test]
fn regression_full_batch_is_the_full_gradient() {
    let l = regression(50, 1);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let p = [0.3, 1.7];
    for batch in [Some(50), Some(500), None] {
        let noise = GradientNoise { sigma: 0.0, batch };
        assert_eq!(
            l.stochastic_gradient(p, &noise, &mut rng),
            l.gradient(p),
            "{batch:?}"
        );
        assert!(noise.is_exact_on(&l));
    }
    assert!(
        !GradientNoise {
            sigma: 0.0,
            batch: Some(49)
        }
        .is_exact_on(&l)
    );
}

/// Per-sample gradient `2 r_i (x_i, 1)`.
fn sample_gradient(p: Vec2d, [x, y]: Vec2d) -> Vec2d {
    let r = p[0] * x + p[1] - y;
    [2.0 * r * x, 2.0 * r]
}

#[test]
fn regression_mini_batches_are_means_over_distinct_samples() {
    let l = regression(30, 5);
    let data = l.dataset().unwrap();
    let p = [0.5, 0.5];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let one = GradientNoise {
        sigma: 0.0,
        batch: Some(1),
    };
    let two = GradientNoise {
        sigma: 0.0,
        batch: Some(2),
    };
    for _ in 0..50 {
        let g = l.stochastic_gradient(p, &one, &mut rng);
        assert!(
            data.iter().any(|&s| sample_gradient(p, s) == g),
            "B = 1 is one sample's gradient"
        );
        let g = l.stochastic_gradient(p, &two, &mut rng);
        let is_pair_of_distinct = (0..data.len()).any(|i| {
            (i + 1..data.len()).any(|j| {
                let (a, b) = (sample_gradient(p, data[i]), sample_gradient(p, data[j]));
                (0..2).all(|k| ((a[k] + b[k]) / 2.0 - g[k]).abs() <= 1e-12 * (1.0 + g[k].abs()))
            })
        });
        assert!(
            is_pair_of_distinct,
            "B = 2 is the mean over two distinct samples: {g:?}"
        );
    }
}

#[test]
fn regression_mini_batch_mean_approaches_the_full_gradient() {
    let l = regression(200, 2);
    let p = [-0.5, 2.0];
    let full = l.gradient(p);
    let noise = GradientNoise {
        sigma: 0.0,
        batch: Some(10),
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    let n = 20_000;
    let mut sum = [0.0; 2];
    let mut sum_sq = [0.0; 2];
    for _ in 0..n {
        let g = l.stochastic_gradient(p, &noise, &mut rng);
        for k in 0..2 {
            sum[k] += g[k];
            sum_sq[k] += g[k] * g[k];
        }
    }
    for k in 0..2 {
        let mean = sum[k] / n as f64;
        let std = (sum_sq[k] / n as f64 - mean * mean).sqrt();
        assert!(std > 0.0, "mini-batches vary");
        // 5 standard errors: fails by chance with probability ~ 1e-6 (and the seed is fixed).
        assert!(
            (mean - full[k]).abs() < 5.0 * std / (n as f64).sqrt(),
            "coordinate {k}: mean {mean} vs full {} (std {std})",
            full[k]
        );
    }
}

#[test]
fn gaussian_noise_has_the_requested_spread_and_no_bias() {
    let l = Landscape::new(LandscapeSpec::from_name("rosenbrock").unwrap()).unwrap();
    let p = [0.5, 0.5];
    let exact = l.gradient(p);
    let noise = GradientNoise {
        sigma: 0.5,
        batch: Some(3),
    }; // batch ignored on analytic landscapes
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let n = 20_000;
    let mut sum = [0.0; 2];
    let mut sum_sq = [0.0; 2];
    for _ in 0..n {
        let g = l.stochastic_gradient(p, &noise, &mut rng);
        for k in 0..2 {
            let e = g[k] - exact[k];
            sum[k] += e;
            sum_sq[k] += e * e;
        }
    }
    for k in 0..2 {
        let mean = sum[k] / n as f64;
        let std = (sum_sq[k] / n as f64 - mean * mean).sqrt();
        assert!(mean.abs() < 5.0 * 0.5 / (n as f64).sqrt(), "bias {mean}");
        assert!((std - 0.5).abs() < 0.02, "std {std}");
    }
    assert!(!noise.is_exact_on(&l));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    assert_eq!(
        l.stochastic_gradient(p, &GradientNoise::default(), &mut rng),
        exact
    );
}
