//! Saddle-escape statistics on the saddle lesson: plain GD escapes later than noisy SGD, results are
//! deterministic per seed and equal to `trace`, the background job reports progress and can be cancelled.

mod common;

use std::sync::Arc;

use losscape::core::escape::{EscapeSpec, Margin, histogram};
use losscape::core::{Landscape, MapError, MapSpec, lessons, trace};

fn saddle_lesson(seeds: u64) -> (Arc<Landscape>, EscapeSpec) {
    let scene = lessons::preset("saddle").unwrap();
    let landscape = Arc::new(Landscape::new(scene.landscape.clone()).unwrap());
    let mut spec = EscapeSpec::from_scene(&scene);
    spec.seeds = seeds;
    spec.max_steps = 1000;
    (landscape, spec)
}

#[test]
fn plain_gd_escapes_later_than_noisy_sgd() {
    let (landscape, spec) = saddle_lesson(24);
    let stats = spec.run(&landscape).unwrap();
    let def = &stats.definition;
    assert_eq!(def.saddle, [0.0, 0.0]);
    assert_eq!(def.saddle_loss, 1.0);
    // 10 % of the drop from 1 to the minima's 0
    assert!((def.threshold - 0.9).abs() < 1e-15);
    assert!(
        def.describe().contains("10% of the drop"),
        "{}",
        def.describe()
    );
    let by_name = |n: &str| stats.optimizers.iter().find(|o| o.name == n).unwrap();
    let gd = by_name("SGD");
    let noisy = by_name("SGD + noise");
    assert!(gd.deterministic && !noisy.deterministic);
    // every seed of a noiseless optimizer is the same run
    assert!(
        gd.runs
            .iter()
            .all(|r| r.escape_step == gd.runs[0].escape_step)
    );
    let gd_step = gd.median().expect("plain GD escapes within 1000 steps");
    let noisy_median = noisy.median().expect("noisy SGD escapes");
    assert!(
        noisy_median < gd_step,
        "noisy {noisy_median} vs GD {gd_step}"
    );
    // noise makes the seeds differ
    let distinct: std::collections::BTreeSet<_> =
        noisy.runs.iter().map(|r| r.escape_step).collect();
    assert!(distinct.len() > 1);
    let h = histogram(&noisy.steps(), 10, stats.max_steps);
    assert_eq!(h.counts.iter().sum::<u64>() + h.never, 24);
}

/// docs/guide.md's figures for the saddle lesson (200 seeds, 1000 steps) are what the code computes now.
#[test]
fn the_guides_escape_figures_hold() {
    let (landscape, spec) = saddle_lesson(200);
    let stats = spec.run(&landscape).unwrap();
    let by_name = |n: &str| stats.optimizers.iter().find(|o| o.name == n).unwrap();
    let all_escape = |n: &str| {
        let o = by_name(n);
        assert_eq!(o.escaped(), 200, "{n}");
        o.median().unwrap()
    };
    let noisy = by_name("SGD + noise").steps();
    let fastest = noisy.iter().flatten().min().unwrap();
    let slowest = noisy.iter().flatten().max().unwrap();
    let computed = format!(
        "On the saddle lesson (200 seeds): plain GD escapes at step {}, noisy SGD at a median of {} \
         ({fastest} to {slowest}), momentum at {}, RMSProp at {}, Adam at {}.",
        all_escape("SGD"),
        all_escape("SGD + noise"),
        all_escape("Momentum"),
        all_escape("RMSProp"),
        all_escape("Adam"),
    );
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/guide.md"),
    )
    .unwrap();
    // the guide wraps its lines: compare with single spaces
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words(&guide).contains(&words(&computed)),
        "docs/guide.md should say: {computed}"
    );
    // and the figures the lesson is about, written out
    assert_eq!(
        (all_escape("SGD"), all_escape("SGD + noise")),
        (492, 88),
        "{computed}"
    );
}

#[test]
fn deterministic_per_seed_and_equal_to_trace() {
    let (landscape, spec) = saddle_lesson(6);
    let a = spec.run(&landscape).unwrap();
    let b = spec.clone().spawn(Arc::clone(&landscape)).join().unwrap();
    assert_eq!(a, b);
    let threshold = a.definition.threshold;
    for (o, (_, config)) in a.optimizers.iter().zip(&spec.runs) {
        for run in &o.runs {
            let mut c = *config;
            c.seed = run.seed;
            let t = trace(&landscape, &c, spec.max_steps).unwrap();
            let first = t
                .records
                .iter()
                .find(|r| r.loss < threshold)
                .map(|r| r.step);
            assert_eq!(run.escape_step, first, "{} seed {}", o.name, run.seed);
            assert_eq!(run.final_loss, t.records.last().unwrap().loss);
            assert_eq!(run.status, t.status);
        }
    }
}

#[test]
fn margins_saddles_and_cancel() {
    let (landscape, mut spec) = saddle_lesson(4);
    spec.margin = Margin::Absolute(0.5);
    assert!((spec.definition(&landscape).unwrap().threshold - 0.5).abs() < 1e-15);
    // without the question's saddle, the one nearest the starts is found
    spec.saddle = None;
    let found = spec.definition(&landscape).unwrap();
    assert!(
        found.saddle[0].abs() < 1e-9 && found.saddle[1].abs() < 1e-9,
        "{:?}",
        found.saddle
    );
    assert_eq!(found.saddle_from, "found");
    // x^2 - y^2 lists no minimum: a fraction is measured to the lowest sampled loss
    let bare = Landscape::new(losscape::core::LandscapeSpec::Saddle).unwrap();
    spec.margin = Margin::default();
    for (_, c) in &mut spec.runs {
        c.start = bare.default_start();
    }
    let d = spec.definition(&bare).unwrap();
    assert_eq!(d.saddle, [0.0, 0.0]);
    assert!(d.describe().contains("64 x 64 sample"), "{}", d.describe());
    // bad settings are refused
    spec.seeds = 0;
    assert!(spec.definition(&bare).is_err());
    // cancel
    let (landscape, mut spec) = saddle_lesson(2000);
    spec.max_steps = 100_000;
    let job = spec.spawn(landscape);
    job.cancel();
    assert!(matches!(job.join(), Err(MapError::Cancelled { .. })));
}
