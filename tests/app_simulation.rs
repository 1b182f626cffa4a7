//! The simulation inside Bevy, headless (MinimalPlugins, no window, no renderer): optimizer entities
//! step through the core exactly as `trace` does, restart, take live hyperparameter changes, and a
//! diverging run never puts a non-finite value into a Transform; a scene saved as the panel saves it
//! loads back identical, and a broken scene file leaves the scene on screen as it was.
#![cfg(feature = "app")]

mod common;

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::egui;
use common::shared;
use losscape::{
    core::{
        Landscape, LandscapeSpec, OptimizerKind, RunStatus, lessons as presets,
        scene::{OptimizerSpec, Scene, ViewLayout},
        trace,
    },
    geometry::{SurfaceFrame, ViewKind, ViewProjection, sample_surface},
    lessons::{self, LoadScene, snapshot_scene},
    optimizers::{
        Optimizer, Playback, RestartRuns, optimizer, simulation_plugin,
        visuals::{Marks, attach_marks, follow_runs},
    },
    paint::marks::ball,
    state::{ActiveLandscape, CurrentScene, SurfaceSettings},
    views::Layout,
};

fn app(landscape: Arc<Landscape>) -> App {
    let mut app = common::headless_app();
    app.add_plugins(simulation_plugin)
        .insert_resource(ActiveLandscape(landscape));
    app.update(); // first update: time starts
    app
}

fn spec(kind: OptimizerKind, start: [f64; 2], index: usize) -> OptimizerSpec {
    let mut s = OptimizerSpec::with_defaults(kind, index, start);
    s.hyper.lr = match kind {
        OptimizerKind::Sgd | OptimizerKind::Momentum | OptimizerKind::Nesterov => 1e-3,
        _ => 1e-2,
    };
    s
}

fn spawn_all(app: &mut App, land: &Arc<Landscape>, specs: &[OptimizerSpec]) -> Vec<Entity> {
    specs
        .iter()
        .map(|s| {
            let bundle = optimizer(s.clone(), land.clone()).expect("valid spec");
            app.world_mut().spawn(bundle).id()
        })
        .collect()
}

fn history(app: &App, e: Entity) -> Vec<losscape::core::StepRecord> {
    app.world()
        .get::<Optimizer>(e)
        .expect("optimizer")
        .history
        .kept()
        .to_vec()
}

#[test]
fn fixed_steps_match_the_core_trace_exactly() {
    let land = shared("rosenbrock");
    let mut app = app(land.clone());
    let specs: Vec<_> = OptimizerKind::ALL
        .into_iter()
        .enumerate()
        .map(|(i, k)| spec(k, [-1.2, 1.0], i))
        .collect();
    let mut noisy = spec(OptimizerKind::Sgd, [-1.0, 1.5], 9);
    noisy.noise.sigma = 0.3;
    noisy.seed = 42;
    // every kind of learning-rate schedule, on a few kinds
    let scheduled = [
        (OptimizerKind::Adam, "cosine:30:0.1"),
        (OptimizerKind::Newton, "warmup-cosine:5:40"),
        (OptimizerKind::Sgd, "step:10:0.5"),
        (OptimizerKind::QhAdam, "exp:0.97"),
        (OptimizerKind::Lion, "inv-sqrt:8"),
    ]
    .map(|(kind, schedule)| {
        let mut s = spec(kind, [-1.2, 1.0], 10);
        s.hyper.schedule = schedule.parse().expect("a valid schedule");
        s
    });
    let specs: Vec<_> = specs.into_iter().chain([noisy]).chain(scheduled).collect();
    let entities = spawn_all(&mut app, &land, &specs);

    // 7 single steps, then play at 120 steps/s (2 per tick at 60 Hz) for 20 ticks
    for _ in 0..7 {
        app.world_mut().resource_mut::<Playback>().queued_steps += 1;
        app.update();
    }
    {
        let mut playback = app.world_mut().resource_mut::<Playback>();
        playback.steps_per_second = 120.0;
        playback.playing = true;
    }
    for _ in 0..20 {
        app.update();
    }
    for (spec, e) in specs.iter().zip(&entities) {
        let h = history(&app, *e);
        let steps = (h.len() - 1) as u64;
        assert!(steps >= 7 + 36, "{}: only {steps} steps", spec.name);
        let expected = trace(&land, &spec.run_config(), steps).expect("trace");
        assert_eq!(h.len(), expected.records.len());
        for (got, want) in h.iter().zip(&expected.records) {
            assert_eq!(got.step, want.step);
            assert_eq!(got.pos, want.pos, "{} at step {}", spec.name, got.step);
            assert_eq!(got.loss.to_bits(), want.loss.to_bits());
        }
    }
}

#[test]
fn restart_returns_every_run_to_its_start() {
    let land = shared("saddle-valleys");
    let mut app = app(land.clone());
    let s = spec(OptimizerKind::Adam, [-1.9, 1e-4], 0);
    let e = spawn_all(&mut app, &land, std::slice::from_ref(&s))[0];
    app.world_mut().resource_mut::<Playback>().queued_steps = 30;
    app.update();
    assert_eq!(history(&app, e).len(), 31);
    app.world_mut().write_message(RestartRuns);
    app.update();
    let h = history(&app, e);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].pos, s.start);
    assert_eq!(app.world().get::<Optimizer>(e).unwrap().position(), s.start);
}

#[test]
fn a_live_hyperparameter_change_applies_from_the_next_step() {
    let land = shared("beale");
    let mut app = app(land.clone());
    let s = spec(OptimizerKind::RmsProp, [-1.5, 2.0], 0);
    let e = spawn_all(&mut app, &land, std::slice::from_ref(&s))[0];
    app.world_mut().resource_mut::<Playback>().queued_steps = 10;
    app.update();

    // what the core says the next step is with the new eta, from the same state
    let mut expected_runner = app.world().get::<Optimizer>(e).unwrap().run.clone();
    let mut new_hyper = s.hyper;
    new_hyper.lr = 0.05;
    expected_runner.set_hyper(new_hyper).unwrap();
    let expected = expected_runner.step().expect("steps");

    let mut changed = s.clone();
    changed.hyper = new_hyper;
    app.world_mut()
        .get_mut::<Optimizer>(e)
        .unwrap()
        .apply_spec(changed)
        .expect("valid change");
    app.world_mut().resource_mut::<Playback>().queued_steps = 1;
    app.update();
    let h = history(&app, e);
    assert_eq!(h.len(), 12, "no reset: the run went on");
    assert_eq!(h[11].pos, expected.pos);
}

/// An orthographic camera straight down at the surface's middle, 10 x 10 world units onto 100 x 100 px.
fn top_view() -> ViewProjection {
    let rotation = Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2);
    let eye = Vec3::new(0.0, 20.0, 0.0);
    let view = Mat4::from_rotation_translation(rotation, eye).inverse();
    ViewProjection {
        view: ViewKind::Top,
        rect: egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(100.0, 100.0)),
        clip_from_world: Mat4::orthographic_rh(-5.0, 5.0, -5.0, 5.0, 0.1, 100.0) * view,
        eye,
        rotation,
    }
}

/// The app with the optimizers' marks (trails) kept in step with the runs.
fn app_with_marks(land: Arc<Landscape>) -> App {
    let mut app = app(land.clone());
    let (_, frame) = sample_surface(&land, &Default::default());
    app.insert_resource(frame)
        .add_systems(Update, (attach_marks, follow_runs).chain());
    app
}

fn trail(app: &App, e: Entity) -> Vec<[f64; 2]> {
    app.world()
        .get::<Marks>(e)
        .expect("marks")
        .trail
        .points()
        .to_vec()
}

#[test]
fn a_diverging_run_stops_and_never_reaches_the_views_as_nan() {
    let land = shared("rosenbrock");
    let mut app = app_with_marks(land.clone());
    let mut s = spec(OptimizerKind::Sgd, [-1.2, 1.0], 0);
    s.hyper.lr = 10.0;
    let e = spawn_all(&mut app, &land, std::slice::from_ref(&s))[0];
    app.world_mut().resource_mut::<Playback>().queued_steps = 50;
    app.update();
    app.update();
    let opt = app.world().get::<Optimizer>(e).unwrap();
    assert!(
        matches!(opt.run.status(), RunStatus::Diverged { .. }),
        "{}",
        opt.run.status()
    );
    assert!(opt.history.steps() < 50);
    assert!(
        opt.history
            .kept()
            .iter()
            .all(|r| r.pos.iter().chain(&[r.loss]).all(|v| v.is_finite()))
    );
    let points = trail(&app, e);
    assert!(points.len() >= 2, "the trail follows the run");
    assert!(points.iter().flatten().all(|v| v.is_finite()));
    // the ball is drawn where it is, a finite pixel
    let frame = app.world().resource::<SurfaceFrame>().clone();
    let (px, depth, radius) =
        ball(&top_view(), &frame, &land, opt.displayed_position()).expect("in view");
    assert!(px.x.is_finite() && px.y.is_finite() && depth.is_finite() && radius > 0.0);
}

/// Issue 12's "trails lie after a drag": a start moved at step 0 (the history still one row long) made
/// the trail run from the old start to the new one. Any restart now makes the trail anew.
#[test]
fn every_restart_draws_the_trail_from_the_new_start() {
    let land = shared("saddle-valleys");
    let mut app = app_with_marks(land.clone());
    let old = [-1.5, 0.5];
    let s = spec(OptimizerKind::Adam, old, 0);
    let e = spawn_all(&mut app, &land, std::slice::from_ref(&s))[0];
    app.update();
    assert_eq!(trail(&app, e), vec![old]);
    let step = |app: &mut App, n: u32| {
        app.world_mut().resource_mut::<Playback>().queued_steps = n;
        app.update();
    };
    // a drag at step 0 moves the start; the history keeps its single row
    let new = [1.2, -0.7];
    app.world_mut()
        .get_mut::<Optimizer>(e)
        .unwrap()
        .set_start(new)
        .unwrap();
    step(&mut app, 20);
    let points = trail(&app, e);
    assert_eq!(points.first(), Some(&new), "{points:?}");
    assert!(!points.contains(&old));
    // R: back to the start, again from the start only
    step(&mut app, 20);
    app.world_mut().write_message(RestartRuns);
    app.update();
    assert_eq!(trail(&app, e), vec![new]);
    // a new kind restarts the run: the trail starts over too
    step(&mut app, 20);
    let mut changed = app.world().get::<Optimizer>(e).unwrap().spec.clone();
    changed.kind = OptimizerKind::Momentum;
    app.world_mut()
        .get_mut::<Optimizer>(e)
        .unwrap()
        .apply_spec(changed)
        .unwrap();
    app.update();
    assert_eq!(trail(&app, e), vec![new]);
}

/// However long a run, what the views keep of it stays bounded: the history and the trail.
#[test]
fn a_run_that_never_stops_keeps_bounded_marks() {
    let land = shared("regression");
    let mut app = app_with_marks(land.clone());
    let mut s = spec(OptimizerKind::Sgd, [0.0, 2.0], 0);
    s.noise.batch = Some(1);
    s.hyper.lr = 0.05;
    let e = spawn_all(&mut app, &land, std::slice::from_ref(&s))[0];
    app.update();
    let mut sizes = Vec::new();
    for _ in 0..8 {
        app.world_mut()
            .get_mut::<Optimizer>(e)
            .unwrap()
            .advance(50_000);
        app.update();
        let o = app.world().get::<Optimizer>(e).unwrap();
        sizes.push((o.history.memory_bytes(), trail(&app, e).len()));
    }
    let o = app.world().get::<Optimizer>(e).unwrap();
    assert_eq!(o.steps(), 400_000, "mini-batch noise never converges");
    assert!(
        sizes.iter().all(|&(bytes, points)| bytes == sizes[0].0
            && points <= losscape::geometry::trail::TrailPoints::CAP + 64),
        "{sizes:?}"
    );
}

/// The scoreboard's tracker rides on the live run: fed by every step the run takes (live slider
/// changes included), it holds the same figures as one replayed from the start to the same step, on a
/// landscape and on a network; it follows one generation of the run only.
#[test]
fn a_tracker_fed_by_the_live_run_equals_one_replayed_to_the_same_step() {
    use losscape::core::network::{Builtin, NetworkSpec};
    use losscape::core::scoreboard::ScoreSettings;
    use losscape::core::{GradientNoise, LandscapeSpec};
    let mut net = NetworkSpec::builtin(Builtin::Moons);
    net.hidden = vec![5];
    for (landscape, steps) in [
        (LandscapeSpec::SaddleValleys, [300, 700]),
        (LandscapeSpec::Network(net), [40, 60]),
    ] {
        let landscape = Arc::new(Landscape::new(landscape).expect("valid landscape"));
        let mut s = spec(OptimizerKind::Adam, landscape.default_start(), 0);
        s.noise = GradientNoise {
            sigma: if landscape.network().is_some() {
                0.0
            } else {
                0.5
            },
            batch: landscape.network().map(|_| 16),
        };
        s.seed = 7;
        let mut o = Optimizer::new(s, landscape).expect("valid spec");
        let kept = [steps[0] / 2, steps[0] + steps[1] / 2, 10 * steps[1]];
        let settings = ScoreSettings::default();
        let tracker = o.replayed_tracker(settings, &kept).expect("replay");
        o.attach_tracker(tracker);
        o.advance(steps[0] as u32);
        // a live slider change mid-run
        let mut changed = o.spec.clone();
        changed.hyper.lr *= 0.5;
        o.apply_spec(changed).expect("valid");
        o.advance(steps[1] as u32);
        let live = o.tracker().expect("attached").clone();
        let replayed = o.replayed_tracker(settings, &kept).expect("replay");
        assert_eq!(live.score().steps, steps[0] + steps[1]);
        assert_eq!(live.score(), replayed.score());
        for k in kept {
            assert_eq!(live.at(k), replayed.at(k), "kept at step {k}");
        }
        assert!(live.at(kept[1]).is_some() && live.at(kept[2]).is_none());
        // a restart is a new generation: the old tracker no longer follows, and is not fed
        o.restart();
        assert!(o.tracker().is_none());
        o.advance(5);
        assert!(o.tracker().is_none());
    }
}

/// The simulation and scene loading, with the resources a scene sets (as the app has them).
fn scene_app() -> App {
    let mut app = common::headless_app();
    app.add_plugins((simulation_plugin, lessons::plugin))
        .init_resource::<Layout>()
        .init_resource::<SurfaceSettings>();
    app.update();
    app
}

fn load(app: &mut App, request: LoadScene) {
    app.world_mut().write_message(request);
    app.update();
    app.update();
}

/// The scene on screen as the panel's Save writes it.
fn on_screen(app: &mut App) -> Scene {
    let world = app.world_mut();
    // in the query's order, as the panel's Save takes them
    let specs: Vec<OptimizerSpec> = world
        .query::<&Optimizer>()
        .iter(world)
        .map(|o| o.spec.clone())
        .collect();
    snapshot_scene(
        world.resource::<CurrentScene>(),
        world.resource::<ActiveLandscape>(),
        world.resource::<SurfaceSettings>(),
        world.resource::<Layout>(),
        world.resource::<Playback>(),
        specs.into_iter(),
    )
}

#[test]
fn a_scene_saved_as_the_panel_saves_it_loads_back_identical() {
    let dir = common::temp_dir("scene-save");
    let mut app = scene_app();
    load(
        &mut app,
        LoadScene::new(presets::preset("beale").unwrap(), None),
    );
    // what a teacher changes in class: a learning rate, a start, the layout, the speed, the surface
    {
        let world = app.world_mut();
        let mut q = world.query::<&mut Optimizer>();
        let mut first = q
            .iter_mut(world)
            .min_by_key(|o| o.spec.name.clone())
            .unwrap();
        let mut spec = first.spec.clone();
        spec.hyper.lr = 0.0123;
        spec.start = [-1.25, 2.5];
        first.apply_spec(spec).unwrap();
        world.resource_mut::<Layout>().0 = ViewLayout::Top;
        world.resource_mut::<Playback>().steps_per_second = 120.0;
        world.resource_mut::<SurfaceSettings>().0.contour_count = 7;
    }
    app.update();
    let saved = on_screen(&mut app);
    assert_eq!(saved.layout, ViewLayout::Top);
    assert_eq!(saved.steps_per_second, 120.0);
    assert_eq!(saved.surface.contour_count, 7);
    assert!(
        saved
            .optimizers
            .iter()
            .any(|o| o.hyper.lr == 0.0123 && o.start == [-1.25, 2.5]),
        "{:?}",
        saved.optimizers
    );
    let path = dir.join("class.ron");
    saved.write_file(&path).unwrap();

    // another lesson on screen, then the file: everything comes back, and saving again gives the same
    // bytes
    let saddle = presets::preset("saddle").unwrap();
    load(&mut app, LoadScene::new(saddle.clone(), None));
    let written = Scene {
        version: losscape::core::scene::SCENE_VERSION, // a save writes the newest format
        ..saddle
    };
    assert_eq!(
        on_screen(&mut app),
        written,
        "a lesson is on screen as written"
    );
    load(&mut app, LoadScene::from_file(&path).unwrap());
    let loaded = on_screen(&mut app);
    assert_eq!(loaded, saved);
    assert_eq!(
        app.world().resource::<CurrentScene>().path.as_deref(),
        Some(path.as_path())
    );
    let again = dir.join("again.ron");
    loaded.write_file(&again).unwrap();
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(&path).unwrap()
    );

    // a broken file: one line naming the file and the place, and the scene on screen stays
    let broken = dir.join("broken.ron");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&broken, text.replacen("optimizers: [", "optimisers: [", 1)).unwrap();
    let error = LoadScene::from_file(&broken).unwrap_err();
    assert!(error.starts_with(&broken.display().to_string()), "{error}");
    assert!(error.contains("line"), "{error}");
    assert!(!error.contains('\n'), "{error}");
    let missing = LoadScene::from_file(&dir.join("missing.ron")).unwrap_err();
    assert!(missing.contains("cannot read scene file"), "{missing}");
    // a scene whose landscape cannot be built even reaching the app leaves the scene on screen
    let mut bad = saved.clone();
    bad.landscape = LandscapeSpec::Formula {
        expr: "x +".into(),
        x: (-1.0, 1.0),
        y: (-1.0, 1.0),
    };
    load(&mut app, LoadScene::new(bad, None));
    assert_eq!(on_screen(&mut app), saved);
    let _ = std::fs::remove_dir_all(&dir);
}
