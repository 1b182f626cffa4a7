//! Maps (`core::maps`): every cell is exactly `trace` with its settings, the textbook results come out
//! (SGD on a bowl diverges exactly past 2/λ_max, Himmelblau splits into four basins), progress reaches
//! the total, cancel stops early, and the result does not depend on the number of threads.

use std::sync::Arc;

use losscape::core::maps::color::{DIVERGED, basin_cell_rgba};
use losscape::core::maps::{
    AxisScale, BasinSpec, MapError, MapSpec, SweepAxis, SweepMetric, SweepParam, SweepSpec,
};
use losscape::core::scene::Colormap;
use losscape::core::{
    CoreError, GradientNoise, Landscape, OptimizerKind, RegressionParams, RunConfig, RunStatus,
    trace,
};

mod common;

use common::landscape;

fn axis(param: SweepParam, min: f64, max: f64, scale: AxisScale, count: usize) -> SweepAxis {
    SweepAxis {
        param,
        min,
        max,
        scale,
        count,
    }
}

/// The last row and status of `trace` for `config`.
fn trace_end(l: &Landscape, config: &RunConfig, steps: u64) -> ([u64; 3], u64, RunStatus) {
    let t = trace(l, config, steps).expect("valid");
    let last = t.records.last().expect("a start row");
    (
        [
            last.pos[0].to_bits(),
            last.pos[1].to_bits(),
            last.loss.to_bits(),
        ],
        last.step,
        t.status,
    )
}

#[test]
fn every_sweep_cell_is_trace_with_its_settings_bit_for_bit() {
    let rosen = landscape("rosenbrock");
    let data = Landscape::new(losscape::core::LandscapeSpec::Regression(
        RegressionParams::default(),
    ))
    .unwrap();
    let mut noisy = RunConfig::new(OptimizerKind::Momentum, data.default_start());
    noisy.noise = GradientNoise {
        sigma: 0.3,
        batch: Some(10),
    };
    noisy.seed = 7;
    let cases = [
        (&rosen, RunConfig::new(OptimizerKind::Adam, [-1.2, 1.0])),
        (&rosen, RunConfig::new(OptimizerKind::Nesterov, [-1.2, 1.0])),
        (&data, noisy),
    ];
    for (l, config) in cases {
        for metric in [
            SweepMetric::FinalLoss,
            SweepMetric::StepsToGrad(1e-3),
            SweepMetric::StepsToLoss(0.5),
        ] {
            let spec = SweepSpec {
                config,
                x: axis(SweepParam::Lr, 1e-4, 0.3, AxisScale::Log, 7),
                y: axis(SweepParam::BetaM, 0.0, 0.99, AxisScale::Linear, 5),
                steps: 300,
                metric,
            };
            let map = spec.run(l).expect("runs");
            assert_eq!(map.cells.len(), 35);
            for j in 0..5 {
                for i in 0..7 {
                    let cell = map.cell(i, j).unwrap();
                    let c = spec.config_at(i, j);
                    assert_eq!(cell.params, [c.hyper.lr, c.hyper.beta_m]);
                    let (bits, steps, status) = trace_end(l, &c, spec.steps);
                    let e = &cell.end;
                    assert_eq!(
                        [e.pos[0].to_bits(), e.pos[1].to_bits(), e.loss.to_bits()],
                        bits
                    );
                    assert_eq!((e.steps, e.status), (steps, status), "cell ({i}, {j})");
                    if let SweepMetric::StepsToLoss(tol) = metric {
                        let t = trace(l, &c, spec.steps).unwrap();
                        let first = t.records.iter().find(|r| r.loss <= tol).map(|r| r.step);
                        assert_eq!(cell.reached, first);
                    }
                }
            }
        }
    }
    // The axis ends are exact.
    let a = axis(SweepParam::Lr, 1e-4, 1.0, AxisScale::Log, 64);
    assert_eq!((a.value(0), a.value(63)), (1e-4, 1.0));
    assert!((a.value(21) - 10f64.powf(-4.0 + 4.0 * 21.0 / 63.0)).abs() < 1e-15);
}

#[test]
fn sgd_on_a_bowl_diverges_exactly_past_two_over_lambda_max() {
    // bowl: L = (x^2 + 10 y^2) / 2, lambda_max = 10: SGD is stable for eta < 0.2 and diverges above.
    let bowl = landscape("bowl");
    let spec = SweepSpec {
        config: RunConfig::new(OptimizerKind::Sgd, bowl.default_start()),
        // eta = 0.005, 0.015, ..., 0.395
        x: axis(SweepParam::Lr, 0.005, 0.395, AxisScale::Linear, 40),
        y: axis(SweepParam::BetaM, 0.9, 0.9, AxisScale::Linear, 1),
        steps: 1000,
        metric: SweepMetric::Diverged,
    };
    let map = spec.run(&bowl).unwrap();
    for cell in &map.cells {
        let eta = cell.params[0];
        assert_eq!(
            cell.end.diverged(),
            eta > 0.2,
            "eta = {eta}: {:?}",
            cell.end
        );
    }
    assert_eq!(map.diverged(), 20);
    // The picture: diverged cells have their own colour, the others a colormap colour.
    let px = map.to_rgba(Colormap::Viridis);
    assert_eq!(px.len(), 40 * 4);
    assert_eq!(&px[39 * 4..39 * 4 + 3], &DIVERGED);
    assert_ne!(&px[..3], &DIVERGED);
}

#[test]
fn basins_of_a_convex_bowl_all_reach_its_one_minimum() {
    let bowl = landscape("bowl");
    let mut config = RunConfig::new(OptimizerKind::Sgd, [0.0, 0.0]);
    config.hyper.lr = 0.05;
    let mut spec = BasinSpec::new(&bowl, config);
    spec.grid = [24, 20];
    let map = spec.run(&bowl).unwrap();
    assert_eq!(map.cells.len(), 480);
    assert!(map.cells.iter().all(|c| c.minimum == Some(0)));
    assert_eq!(map.minima.len(), 1);
    assert_eq!(map.minima[0].cells, 480);
    // Each cell is `trace` from its start.
    for (i, j) in [(0, 0), (23, 19), (7, 11)] {
        let cell = map.cell(i, j).unwrap();
        assert_eq!(cell.start, spec.start_at(i, j));
        let (bits, steps, status) = trace_end(
            &bowl,
            &RunConfig {
                start: cell.start,
                ..config
            },
            spec.steps,
        );
        let e = &cell.end;
        assert_eq!(
            [e.pos[0].to_bits(), e.pos[1].to_bits(), e.loss.to_bits()],
            bits
        );
        assert_eq!((e.steps, e.status), (steps, status));
    }
    // Starts sit at the centres of the grid's rectangles; a point finds its cell.
    let d = bowl.domain();
    assert_eq!(spec.start_at(0, 0), [d.x[0] + 0.125, d.y[0] + 0.15]);
    assert_eq!(spec.cell_index_of([d.x[1], d.y[1]]), Some((23, 19)));
    assert_eq!(map.cell_at(0.0, 0.0).map(|(i, j, _)| (i, j)), Some((0, 19)));
}

#[test]
fn basins_of_himmelblau_split_the_domain_into_four_regions_for_a_small_eta() {
    let himmelblau = landscape("himmelblau");
    let mut config = RunConfig::new(OptimizerKind::Sgd, [0.0, 0.0]);
    config.hyper.lr = 0.002;
    let mut spec = BasinSpec::new(&himmelblau, config);
    spec.grid = [40, 40];
    let map = spec.run(&himmelblau).unwrap();
    assert_eq!(map.minima.len(), 4, "{:?}", map.minima);
    assert!(map.minima.iter().all(|m| m.known));
    assert_eq!(map.diverged() + map.unfinished(), 0);
    for m in &map.minima {
        assert!(m.cells > 1600 / 10, "{m:?}");
    }
    // Each corner of the domain falls into the minimum of its own quadrant.
    let corner = |i, j| map.cell(i, j).unwrap().minimum.unwrap();
    let quadrant = |k: usize| {
        let p = map.minima[k].pos;
        (p[0] > 0.0, p[1] > 0.0)
    };
    assert_eq!(quadrant(corner(39, 39)), (true, true));
    assert_eq!(quadrant(corner(0, 39)), (false, true));
    assert_eq!(quadrant(corner(0, 0)), (false, false));
    assert_eq!(quadrant(corner(39, 0)), (true, false));
    // Pixels: one hue per minimum, darker where the run took longer.
    let px = map.to_rgba(160);
    assert_eq!(px.len(), 40 * 40 * 4);
    assert!(px.chunks_exact(4).all(|p| p[3] == 160));
    let cell = map.cell(39, 39).unwrap();
    let mut slower = *cell;
    slower.end.steps = spec.steps;
    let (a, b) = (
        basin_cell_rgba(cell, spec.steps, 255),
        basin_cell_rgba(&slower, spec.steps, 255),
    );
    assert!(
        a != b && a.iter().zip(&b).all(|(x, y)| x >= y),
        "{a:?} {b:?}"
    );
}

#[test]
fn ends_near_no_listed_minimum_are_clustered() {
    // monkey-saddle lists no minimum and has none: every run leaves (diverges) or is unfinished.
    let monkey = landscape("monkey-saddle");
    let mut spec = BasinSpec::new(&monkey, RunConfig::new(OptimizerKind::Adam, [0.0, 0.0]));
    spec.grid = [8, 8];
    spec.steps = 200;
    let map = spec.run(&monkey).unwrap();
    assert!(map.minima.is_empty());
    assert!(map.cells.iter().all(|c| c.minimum.is_none()));
    // rastrigin lists only its global minimum; SGD with a small step settles in the local ones.
    let rastrigin = landscape("rastrigin");
    let mut config = RunConfig::new(OptimizerKind::Sgd, [0.0, 0.0]);
    config.hyper.lr = 0.002;
    let mut spec = BasinSpec::new(&rastrigin, config);
    spec.grid = [12, 12];
    let map = spec.run(&rastrigin).unwrap();
    assert!(
        map.minima[0].known && map.minima.len() > 4,
        "{:?}",
        map.minima
    );
    assert!(map.minima[1..].iter().all(|m| !m.known));
    let total: usize = map.minima.iter().map(|m| m.cells).sum();
    assert_eq!(total + map.diverged() + map.unfinished(), 144);
}

#[test]
fn progress_reaches_the_total_and_threads_do_not_change_the_map() {
    let rosen = landscape("rosenbrock");
    let spec = SweepSpec {
        steps: 200,
        x: axis(SweepParam::Lr, 1e-3, 1.0, AxisScale::Log, 16),
        y: axis(SweepParam::BetaR, 0.5, 0.999, AxisScale::Linear, 12),
        ..SweepSpec::new(RunConfig::new(OptimizerKind::Adam, [-1.2, 1.0]))
    };
    let cells = spec.cells();
    let map = spec.compute(&rosen, &cells).unwrap();
    assert_eq!((cells.done(), cells.len()), (192, 192));
    assert_eq!(cells.fraction(), 1.0);
    assert!(cells.iter().all(|c| c.is_some()));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| spec.run(&rosen).unwrap());
    assert_eq!(one, map);
    // In the background.
    let job = spec.clone().spawn(Arc::new(rosen));
    let background = job.join().unwrap();
    assert_eq!(background, map);
}

#[test]
fn cancel_stops_early_and_says_cancelled() {
    let rosen = Arc::new(landscape("rosenbrock"));
    let mut config = RunConfig::new(OptimizerKind::Adam, [-1.2, 1.0]);
    config.converge_tol = 0.0;
    let mut spec = BasinSpec::new(&rosen, config);
    spec.grid = [256, 256];
    spec.steps = 100_000;
    // 6.5 billion steps: minutes of work, unless cancelled.
    let job = spec.spawn(rosen.clone());
    // progress moves: wait for the first cells (the deadline only turns a hang into a failure)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while job.progress().0 < 2 {
        assert!(std::time::Instant::now() < deadline, "no cell finished");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let cells = job.shared_cells();
    job.cancel();
    // cancel is checked before each cell: after it, each thread finishes at most the cell it is on
    let done_at_cancel = job.progress().0;
    let threads = rayon::current_num_threads() as u64;
    while !job.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "the map went on after cancel"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let Err(MapError::Cancelled { done, total }) = job.join() else {
        panic!("expected Cancelled")
    };
    assert_eq!(total, 65_536);
    assert!(
        (done_at_cancel..=done_at_cancel + threads).contains(&done),
        "{done} done, {done_at_cancel} when cancelled, {threads} threads"
    );
    // the cells computed stay readable, and they are all there are
    assert_eq!(cells.iter().filter(Option::is_some).count() as u64, done);
    assert!(cells.is_cancelled());
    // Cancelled before it starts: nothing is computed.
    let mut small = BasinSpec::new(&rosen, config);
    small.grid = [4, 4];
    let cells = small.cells();
    cells.cancel();
    assert_eq!(
        small.compute(&rosen, &cells),
        Err(MapError::Cancelled { done: 0, total: 16 })
    );
}

#[test]
fn bad_specs_are_refused_before_anything_runs() {
    let rosen = landscape("rosenbrock");
    let base = SweepSpec::new(RunConfig::new(OptimizerKind::Adam, [-1.2, 1.0]));
    let refused = |spec: &SweepSpec| match spec.run(&rosen) {
        Err(MapError::Invalid(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let same = SweepSpec {
        y: SweepAxis::default_for(SweepParam::Lr),
        ..base.clone()
    };
    assert!(matches!(refused(&same), CoreError::InvalidSweep(_)));
    for bad in [
        axis(SweepParam::Lr, 0.0, 1.0, AxisScale::Log, 8),
        axis(SweepParam::Lr, 1.0, 0.1, AxisScale::Log, 8),
        axis(SweepParam::BetaM, 0.0, 1.0, AxisScale::Linear, 8),
        axis(SweepParam::Lr, 0.1, 1.0, AxisScale::Log, 257),
        axis(SweepParam::Lr, 0.1, 1.0, AxisScale::Log, 0),
    ] {
        let e = refused(&SweepSpec {
            x: bad,
            ..base.clone()
        });
        assert!(
            matches!(
                e,
                CoreError::InvalidSweep(_) | CoreError::InvalidHyperparam { .. }
            ),
            "{e}"
        );
    }
    let no_steps = SweepSpec {
        steps: 0,
        ..base.clone()
    };
    assert!(matches!(refused(&no_steps), CoreError::InvalidSweep(_)));
    let mut basins = BasinSpec::new(&rosen, base.config);
    basins.grid = [0, 4];
    assert!(matches!(
        basins.run(&rosen),
        Err(MapError::Invalid(CoreError::InvalidBasins(_)))
    ));
}

#[test]
fn adam_cells_share_bias_tables_without_changing_a_bit() {
    // Adam's bias corrections come from a table shared by the cells with the same betas: one for all
    // (lr x eps, basins), one per column (beta_r x lr), none (beta_m x beta_r). Every cell is still
    // `trace` bit for bit, with and without bias correction, in both conventions.
    let rosen = landscape("rosenbrock");
    let base = RunConfig::new(OptimizerKind::Adam, [-1.2, 1.0]);
    let mut pytorch = base;
    pytorch.hyper.convention = losscape::core::Convention::PyTorch;
    let mut raw = base;
    raw.hyper.bias_correction = false;
    for config in [base, pytorch, raw] {
        for (x, y) in [
            (
                axis(SweepParam::Lr, 1e-3, 0.2, AxisScale::Log, 3),
                axis(SweepParam::Eps, 1e-10, 1e-2, AxisScale::Log, 3),
            ),
            (
                axis(SweepParam::BetaR, 0.5, 0.999, AxisScale::Linear, 3),
                axis(SweepParam::Lr, 1e-3, 0.2, AxisScale::Log, 3),
            ),
            (
                axis(SweepParam::BetaM, 0.0, 0.95, AxisScale::Linear, 3),
                axis(SweepParam::BetaR, 0.5, 0.999, AxisScale::Linear, 3),
            ),
        ] {
            let spec = SweepSpec {
                config,
                x,
                y,
                steps: 400,
                metric: SweepMetric::FinalLoss,
            };
            let map = spec.run(&rosen).unwrap();
            for j in 0..3 {
                for i in 0..3 {
                    let e = &map.cell(i, j).unwrap().end;
                    let (bits, steps, status) = trace_end(&rosen, &spec.config_at(i, j), 400);
                    assert_eq!(
                        [e.pos[0].to_bits(), e.pos[1].to_bits(), e.loss.to_bits()],
                        bits
                    );
                    assert_eq!((e.steps, e.status), (steps, status));
                }
            }
        }
        let mut basins = BasinSpec::new(&rosen, config);
        basins.grid = [5, 4];
        basins.steps = 400;
        let map = basins.run(&rosen).unwrap();
        for cell in &map.cells {
            let (bits, steps, status) = trace_end(
                &rosen,
                &RunConfig {
                    start: cell.start,
                    ..config
                },
                400,
            );
            let e = &cell.end;
            assert_eq!(
                [e.pos[0].to_bits(), e.pos[1].to_bits(), e.loss.to_bits()],
                bits
            );
            assert_eq!((e.steps, e.status), (steps, status));
        }
    }
}

#[test]
fn sweeps_over_weight_decay_and_the_qh_mixes_are_trace_bit_for_bit() {
    let l = landscape("beale");
    let start = l.default_start();
    let cases = [
        (OptimizerKind::AdamW, SweepParam::WeightDecay, 0.0, 0.5),
        (OptimizerKind::Qhm, SweepParam::Nu, 0.0, 1.0),
        (OptimizerKind::QhAdam, SweepParam::Nu2, 0.0, 1.0),
        (OptimizerKind::Lion, SweepParam::WeightDecay, 0.0, 0.2),
    ];
    for (kind, param, min, max) in cases {
        assert!(param.used_by(kind), "{param} used by {kind:?}");
        assert_eq!(
            SweepParam::from_name(&param.name().replace('_', "-")),
            Some(param)
        );
        let mut config = RunConfig::new(kind, start);
        config.hyper.schedule = "cosine:150:0.1".parse().unwrap();
        let spec = SweepSpec {
            config,
            x: axis(SweepParam::Lr, 1e-3, 0.1, AxisScale::Log, 4),
            y: axis(param, min, max, AxisScale::Linear, 3),
            steps: 150,
            metric: SweepMetric::FinalLoss,
        };
        let map = spec.run(&l).expect("runs");
        for j in 0..3 {
            for i in 0..4 {
                let c = spec.config_at(i, j);
                assert_eq!(param.get(&c.hyper), spec.y.value(j));
                let (bits, steps, status) = trace_end(&l, &c, spec.steps);
                let e = &map.cell(i, j).unwrap().end;
                assert_eq!(
                    [e.pos[0].to_bits(), e.pos[1].to_bits(), e.loss.to_bits()],
                    bits,
                    "{kind:?} cell ({i}, {j})"
                );
                assert_eq!((e.steps, e.status), (steps, status));
            }
        }
    }
    // ν outside [0, 1] and a negative λ are refused before anything runs
    let mut bad = SweepSpec::new(RunConfig::new(OptimizerKind::Qhm, start));
    bad.y = axis(SweepParam::Nu, 0.0, 1.5, AxisScale::Linear, 3);
    assert!(bad.validate(&l).unwrap_err().to_string().contains("nu"));
    bad.y = axis(SweepParam::WeightDecay, -0.1, 0.5, AxisScale::Linear, 3);
    assert!(
        bad.validate(&l)
            .unwrap_err()
            .to_string()
            .contains("weight decay")
    );
}
