//! Core benchmarks: optimizer steps per second (Runner::step on Rosenbrock), a 512 x 512 surface grid
//! per landscape, the app's per-frame budget of 8 ghost paths x 1000 steps; the same grid and paths
//! for typed formulas (issue 14's targets: grid < 30 ms, paths < 1 ms), plus formula parsing and
//! single-point evaluation; and maps: a 128 x 128 basin map of 1000 Adam steps per start (16.4 M
//! steps) on 1 thread, 2 threads and all cores; networks: one full-batch gradient and one forward pass of a
//! 2-16-16-2 tanh perceptron on 400 moons points (issue 23's target: gradient <= 0.3 ms); network
//! landscapes: the loss of a 2-16-16-2 perceptron on
//! 400 points (a forward pass written out here, so that the slice's timing is that of a real one), a
//! 64 x 64 slice of it and its first coarse picture (issue 23's targets: <= 1 s and <= 0.2 s on 2 cores),
//! and the pooled PCA plane of 4 runs x 2000 points at N = 354 (and one at N = 20 000). The `*_cpu_time*`
//! variants report the CPU time summed over threads instead of the wall time, for figures taken while
//! other work loads the machine.
//!
//! `cargo bench --bench core` (in the real crate add `--no-default-features` to skip Bevy).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use losscape::core::formula::Formula;
use losscape::core::maps::{BasinSpec, MapSpec};
use losscape::core::network::{
    Activation, Builtin, LayerLayout, Mlp, Plane, Scratch, SliceSpec, layout,
};
use losscape::core::{
    DEFAULT_FORMULA_DOMAIN, Domain, GradientNoise, HeightMode, Landscape, LandscapeSpec,
    OptimizerKind, RunConfig, Runner, StepRecord, SurfaceGrid, trace_into,
};

fn landscape(name: &str) -> Landscape {
    Landscape::new(LandscapeSpec::from_name(name).expect("known name")).expect("default spec")
}

/// A config that runs 1000+ steps on Rosenbrock from (-1.2, 1) without diverging or converging:
/// eta 1e-3 for the non-adaptive kinds (the default 0.01 diverges there), tolerance 0.
fn steady(kind: OptimizerKind, start: [f64; 2]) -> RunConfig {
    let mut config = RunConfig::new(kind, start);
    if !kind.is_adaptive() {
        config.hyper.lr = 1e-3;
    }
    config.converge_tol = 0.0;
    config
}

/// One step, restarting every 10 000 steps so that `t` stays in the range a class sees (Adam's
/// `beta^t` costs O(log t)) and when a run stops.
fn step_or_restart(runner: &mut Runner) -> [f64; 2] {
    if runner.steps() >= 10_000 || runner.step().is_none() {
        runner.reset();
    }
    runner.position()
}

fn optimizer_steps(c: &mut Criterion) {
    let rosenbrock = Arc::new(landscape("rosenbrock"));
    let mut group = c.benchmark_group("runner_step_rosenbrock");
    group.throughput(Throughput::Elements(1));
    for kind in OptimizerKind::ALL {
        let mut runner = Runner::new(rosenbrock.clone(), steady(kind, [-1.2, 1.0])).expect("valid");
        group.bench_function(kind.name(), |b| {
            b.iter(|| black_box(step_or_restart(&mut runner)))
        });
    }
    // Stochastic variants: Gaussian noise, and real mini-batches of 10 out of 100 samples.
    let mut noisy = Runner::new(rosenbrock.clone(), {
        let mut config = steady(OptimizerKind::Adam, [-1.2, 1.0]);
        config.noise = GradientNoise {
            sigma: 1.0,
            batch: None,
        };
        config
    })
    .expect("valid");
    group.bench_function("adam+noise", |b| {
        b.iter(|| black_box(step_or_restart(&mut noisy)))
    });
    let regression = Arc::new(landscape("regression"));
    let mut batched = Runner::new(regression.clone(), {
        let mut config = steady(OptimizerKind::Sgd, regression.default_start());
        config.noise = GradientNoise {
            sigma: 0.0,
            batch: Some(10),
        };
        config
    })
    .expect("valid");
    group.bench_function("sgd+minibatch10of100", |b| {
        b.iter(|| black_box(step_or_restart(&mut batched)))
    });
    group.finish();
}

fn surface_grids(c: &mut Criterion) {
    let mut group = c.benchmark_group("grid_512");
    group.sample_size(10);
    group.throughput(Throughput::Elements(512 * 512));
    for spec in LandscapeSpec::all_defaults() {
        let l = Landscape::new(spec).expect("default spec");
        group.bench_function(l.name(), |b| {
            b.iter(|| black_box(SurfaceGrid::sample(&l, 512, HeightMode::Linear)))
        });
    }
    group.finish();
}

fn ghost_paths(c: &mut Criterion) {
    // What the app recomputes every frame while a start point is dragged: 8 runs x 1000 steps,
    // into reused buffers.
    let mut group = c.benchmark_group("ghost_paths_8x1000");
    group.throughput(Throughput::Elements(8 * 1000));
    let kinds = [
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::AdaGrad,
        OptimizerKind::RmsProp,
        OptimizerKind::Adam,
        OptimizerKind::Momentum,
        OptimizerKind::Adam,
    ];
    for name in ["rosenbrock", "terrain", "regression"] {
        let l = landscape(name);
        let configs: Vec<RunConfig> = kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| {
                let mut config = steady(kind, l.default_start());
                if i >= 6 {
                    config.hyper.convention = losscape::core::Convention::PyTorch;
                }
                config
            })
            .collect();
        let mut buffers: Vec<Vec<StepRecord>> = vec![Vec::new(); configs.len()];
        group.bench_function(name, |b| {
            b.iter(|| {
                for (config, buffer) in configs.iter().zip(&mut buffers) {
                    let status = trace_into(&l, config, 1000, buffer).expect("valid");
                    black_box(status);
                }
            })
        });
    }
    group.finish();
}

fn basin_maps(c: &mut Criterion) {
    // Rosenbrock over its domain, Adam (eta 0.01) with tolerance 0: no start converges or diverges, so
    // every cell really takes its 1000 steps (checked below), 16 384 000 steps per map.
    let rosenbrock = landscape("rosenbrock");
    let mut config = RunConfig::new(OptimizerKind::Adam, rosenbrock.default_start());
    config.converge_tol = 0.0;
    let spec = BasinSpec::new(&rosenbrock, config);
    let steps = spec.len() as u64 * spec.steps;
    assert_eq!(steps, 16_384_000);
    let map = spec.run(&rosenbrock).expect("valid");
    assert_eq!(map.total_steps(), steps, "every start takes all its steps");
    let mut group = c.benchmark_group("basins_128x128_adam_1000");
    group.sample_size(10);
    group.throughput(Throughput::Elements(steps));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut pools = vec![(1, "1_thread"), (2, "2_threads")];
    if cores > 2 {
        pools.push((cores, "all_cores"));
    }
    for (threads, name) in pools {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        group.bench_function(name, |b| {
            b.iter(|| pool.install(|| black_box(spec.run(&rosenbrock).expect("valid"))))
        });
    }
    group.finish();
}

/// The two typical formulas: Himmelblau typed out (on [-5, 5]^2) and a rippled bowl.
fn formulas() -> [(&'static str, &'static str, Domain); 2] {
    [
        (
            "himmelblau",
            "(x^2+y-11)^2+(x+y^2-7)^2",
            Domain::square(5.0),
        ),
        (
            "rippled_bowl",
            "0.5*x^2+2*y^2+0.3*sin(3*x)*cos(2*y)",
            DEFAULT_FORMULA_DOMAIN,
        ),
    ]
}

fn formula_grids(c: &mut Criterion) {
    let mut group = c.benchmark_group("formula_grid_512");
    group.sample_size(10);
    group.throughput(Throughput::Elements(512 * 512));
    for (name, expr, domain) in formulas() {
        let l = Landscape::new(LandscapeSpec::formula(expr, domain)).expect("valid formula");
        group.bench_function(name, |b| {
            b.iter(|| black_box(SurfaceGrid::sample(&l, 512, HeightMode::Linear)))
        });
    }
    group.finish();
}

fn formula_ghost_paths(c: &mut Criterion) {
    let mut group = c.benchmark_group("formula_ghost_paths_8x1000");
    group.throughput(Throughput::Elements(8 * 1000));
    for (name, expr, domain) in formulas() {
        let l = Landscape::new(LandscapeSpec::formula(expr, domain)).expect("valid formula");
        // the lecture's six, then Momentum and Adam again: 8 paths, as the built-ins' bench
        let configs: Vec<RunConfig> = OptimizerKind::ALL[..6]
            .iter()
            .chain(&[OptimizerKind::Momentum, OptimizerKind::Adam])
            .map(|&kind| steady(kind, l.default_start()))
            .collect();
        let mut buffers: Vec<Vec<StepRecord>> = vec![Vec::new(); configs.len()];
        group.bench_function(name, |b| {
            b.iter(|| {
                for (config, buffer) in configs.iter().zip(&mut buffers) {
                    black_box(trace_into(&l, config, 1000, buffer).expect("valid"));
                }
            })
        });
    }
    group.finish();
}

fn formula_points(c: &mut Criterion) {
    let mut group = c.benchmark_group("formula_point");
    group.throughput(Throughput::Elements(1));
    for (name, expr, _) in formulas() {
        let f = Formula::parse(expr).expect("valid formula");
        group.bench_function(format!("{name}/parse"), |b| {
            b.iter(|| black_box(Formula::parse(black_box(expr))))
        });
        group.bench_function(format!("{name}/value_grad"), |b| {
            b.iter(|| black_box(f.value_grad(black_box(0.7), black_box(-1.3))))
        });
        group.bench_function(format!("{name}/value_grad_hessian"), |b| {
            b.iter(|| black_box(f.value_grad_hessian(black_box(0.7), black_box(-1.3))))
        });
        group.bench_function(format!("{name}/landscape_new"), |b| {
            b.iter(|| {
                black_box(Landscape::new(LandscapeSpec::formula(
                    expr,
                    DEFAULT_FORMULA_DOMAIN,
                )))
            })
        });
    }
    group.finish();
}

/// Two interleaved half moons, `n` points with labels 0 and 1, Gaussian noise 0.1 (the issue's `moons`).
fn moons(n: usize, seed: u64) -> Vec<([f64; 2], usize)> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|k| {
            let t = std::f64::consts::PI * rng.random_range(0.0..1.0);
            let label = k % 2;
            let (x, y) = if label == 0 {
                (t.cos(), t.sin())
            } else {
                (1.0 - t.cos(), 0.5 - t.sin())
            };
            let ex: f64 = rng.sample(rand_distr::StandardNormal);
            let ey: f64 = rng.sample(rand_distr::StandardNormal);
            ([x + 0.1 * ex, y + 0.1 * ey], label)
        })
        .collect()
}

/// The mean softmax cross-entropy of a tanh perceptron with parameters `theta` (in `layout`'s order)
/// over `data`: per point `h = tanh(W h + b)` through the hidden layers, logits `z = W h + b`, loss
/// `logsumexp(z) - z[label]`. Written out here as a stand-in for `core::network::mlp`.
fn mlp_loss(layers: &[LayerLayout], theta: &[f64], data: &[([f64; 2], usize)]) -> f64 {
    let width = layers
        .iter()
        .map(|l| l.outputs.max(l.inputs))
        .max()
        .unwrap_or(0);
    let (mut input, mut output) = (vec![0.0; width], vec![0.0; width]);
    let mut total = 0.0;
    for (x, label) in data {
        input[..2].copy_from_slice(x);
        for (k, layer) in layers.iter().enumerate() {
            let hidden = k + 1 < layers.len();
            for o in 0..layer.outputs {
                let w = &theta[layer.row(o)];
                let z: f64 = w.iter().zip(&input).map(|(a, b)| a * b).sum::<f64>()
                    + theta[layer.bias.start + o];
                output[o] = if hidden { z.tanh() } else { z };
            }
            std::mem::swap(&mut input, &mut output);
        }
        let logits = &input[..layers[layers.len() - 1].outputs];
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = logits.iter().map(|z| (z - max).exp()).sum();
        total += max + sum.ln() - logits[*label];
    }
    total / data.len() as f64
}

/// Gaussian initial weights with variance `1 / fan-in` (biases 0) for `layers`.
fn init_weights(layers: &[LayerLayout], n: usize, seed: u64) -> Vec<f64> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut theta = vec![0.0; n];
    for layer in layers {
        let scale = (1.0 / layer.inputs as f64).sqrt();
        for w in &mut theta[layer.weights.clone()] {
            let e: f64 = rng.sample(rand_distr::StandardNormal);
            *w = scale * e;
        }
    }
    theta
}

/// `runs` trajectories of `points` steps in R^n from one start: each relaxes toward a target of its
/// own (rate 0.005 a step) with Gaussian noise of 0.01 per coordinate: a decaying drift plus a random
/// walk, the shape of a training run's weights.
fn trajectories(runs: usize, points: usize, n: usize) -> Vec<Vec<Vec<f64>>> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(17);
    let mut gauss = move || -> f64 { rng.sample(rand_distr::StandardNormal) };
    let start: Vec<f64> = (0..n).map(|_| gauss()).collect();
    (0..runs)
        .map(|_| {
            let target: Vec<f64> = (0..n).map(|_| gauss()).collect();
            let mut x = start.clone();
            (0..points)
                .map(|_| {
                    for (xi, ti) in x.iter_mut().zip(&target) {
                        *xi += 0.005 * (ti - *xi) + 0.01 * gauss();
                    }
                    x.clone()
                })
                .collect()
        })
        .collect()
}

/// CPU time of this process so far, all threads (`utime + stime` of `/proc/self/stat`, in the kernel's
/// 10 ms ticks); `None` off Linux.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The CPU time (all threads) of `iters` calls of `f`, for `iter_custom`: what other processes on a busy
/// machine cannot inflate (on idle cores the wall time is about this divided by the threads used).
fn cpu_time_of(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = process_cpu_time().unwrap_or_default();
    for _ in 0..iters {
        f();
    }
    process_cpu_time().unwrap_or_default().saturating_sub(start)
}

fn network_slices(c: &mut Criterion) {
    let (layers, n) = layout(&[2, 16, 16, 2]);
    assert_eq!(n, 354);
    let data = Arc::new(moons(400, 3));
    let center = init_weights(&layers, n, 5);
    let plane = Plane::random(&layers, &center, 7).expect("a plane");
    let loss = {
        let (layers, data) = (layers.clone(), Arc::clone(&data));
        Arc::new(move |theta: &[f64]| mlp_loss(&layers, theta, &data))
    };
    let mut group = c.benchmark_group("network_2_16_16_2_moons_400");
    group.bench_function("loss", |b| b.iter(|| black_box(loss(black_box(&center)))));
    group.finish();

    let mut group = c.benchmark_group("network_slice_64");
    group.sample_size(10);
    for threads in [1, 2] {
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool"),
        );
        let mut spec = SliceSpec::new(plane.clone(), 64).expect("valid");
        spec.previews = false;
        group.bench_function(format!("final_only_{threads}_threads"), |b| {
            b.iter(|| pool.install(|| black_box(spec.compute(&*loss).expect("computed"))))
        });
        if threads == 2 && process_cpu_time().is_some() {
            group.bench_function("final_only_cpu_time_of_2_threads", |b| {
                b.iter_custom(|iters| {
                    cpu_time_of(iters, || {
                        pool.install(|| black_box(spec.compute(&*loss).expect("computed")));
                    })
                })
            });
        }
        let spec = SliceSpec::new(plane.clone(), 64).expect("valid");
        group.bench_function(format!("levels_10_22_64_{threads}_threads"), |b| {
            b.iter(|| {
                let job = spec.clone().spawn_on(loss.clone(), pool.clone());
                black_box(job.join().expect("computed"))
            })
        });
        // From the request to the first picture the app can show (10 x 10), polled every 0.2 ms.
        group.bench_function(format!("first_picture_{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let job = spec.clone().spawn_on(loss.clone(), pool.clone());
                    while job.ready_levels() == 0 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    total += start.elapsed();
                    job.cancel();
                    let _ = job.join();
                }
                total
            })
        });
    }
    group.finish();
}

fn network_pca(c: &mut Criterion) {
    let mut group = c.benchmark_group("network_pca");
    group.sample_size(10);
    let runs = trajectories(4, 2000, 354);
    let plane = Plane::pca(&runs).expect("a plane");
    println!("pca 4 x 2000 at N = 354: explained {:?}", plane.explained);
    group.bench_function("4_runs_2000_points_n354", |b| {
        b.iter(|| black_box(Plane::pca(black_box(&runs)).expect("a plane")))
    });
    if process_cpu_time().is_some() {
        group.bench_function("4_runs_2000_points_n354_cpu_time", |b| {
            b.iter_custom(|iters| {
                cpu_time_of(iters, || {
                    black_box(Plane::pca(black_box(&runs)).expect("a plane"));
                })
            })
        });
    }
    drop(runs);
    // The largest network the issue allows: 2 runs x 1000 points x 20 000 parameters (320 MB).
    let runs = trajectories(2, 1000, 20_000);
    group.bench_function("2_runs_1000_points_n20000", |b| {
        b.iter(|| black_box(Plane::pca(black_box(&runs)).expect("a plane")))
    });
    if process_cpu_time().is_some() {
        group.bench_function("2_runs_1000_points_n20000_cpu_time", |b| {
            b.iter_custom(|iters| {
                cpu_time_of(iters, || {
                    black_box(Plane::pca(black_box(&runs)).expect("a plane"));
                })
            })
        });
    }
    group.finish();
}

fn network(c: &mut Criterion) {
    // what every optimizer step of a full-batch network run costs, and one cell of a loss slice
    let data = Builtin::Moons.generate(400, 0.1, 0).expect("valid");
    let mlp = Mlp::for_data(&data, &[16, 16], Activation::Tanh).expect("small");
    let theta = mlp.init(0);
    let mut grad = vec![0.0; mlp.param_count()];
    let mut scratch = Scratch::default();
    let mut group = c.benchmark_group("network_2-16-16-2_moons400");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("network_gradient", |b| {
        b.iter(|| {
            black_box(mlp.loss_and_gradient(
                black_box(&theta),
                &data,
                None,
                &mut grad,
                &mut scratch,
            ))
        })
    });
    group.bench_function("network_loss", |b| {
        b.iter(|| black_box(mlp.loss(black_box(&theta), &data, &mut scratch)))
    });
    let batch: Vec<u32> = (0..32).map(|i| i * 12).collect();
    group.bench_function("network_gradient_batch32", |b| {
        b.iter(|| {
            black_box(mlp.loss_and_gradient(
                black_box(&theta),
                &data,
                Some(&batch),
                &mut grad,
                &mut scratch,
            ))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    network,
    optimizer_steps,
    surface_grids,
    ghost_paths,
    basin_maps,
    formula_grids,
    formula_ghost_paths,
    formula_points,
    network_slices,
    network_pca
);
criterion_main!(benches);
