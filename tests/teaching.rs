//! Teaching aids, headless: the timeline (scrub, resume, branch) reproduces the run that never went back,
//! also past the history's first thinning (16,384 steps), and the step-by-step lines print the core's
//! own numbers for the scrubbed step.

#![cfg(feature = "app")]

mod common;

use std::sync::Arc;

use bevy::{ecs::system::RunSystemOnce, prelude::*};
use common::bits;
use losscape::core::{
    GradientNoise, History, Landscape, OptimizerKind, Runner, number::point, scene::OptimizerSpec,
};
use losscape::optimizers::{Optimizer, Playback, optimizer, simulation_plugin};
use losscape::state::ActiveLandscape;
use losscape::teaching::{
    TeachingAids,
    formula::{StepInputs, formula_lines},
    headless_plugin,
    timeline::{Span, StepViews, Timeline, branch_all, scrub_back, step_view},
};

fn landscape() -> Arc<Landscape> {
    common::shared("rosenbrock")
}

fn spec(kind: OptimizerKind, index: usize) -> OptimizerSpec {
    let mut spec = OptimizerSpec::with_defaults(kind, index, [-1.2, 1.0]);
    spec.hyper.lr = 0.002;
    // noise makes the random numbers part of what must be re-derived (the line-searching kinds need
    // exact gradients: theirs is the line search's memory, s, y and H)
    spec.noise = GradientNoise {
        sigma: if kind.always_searches() { 0.0 } else { 0.5 },
        ..Default::default()
    };
    spec
}

/// A run whose learning rate is changed live at step 60.
fn run_with_live_change(kind: OptimizerKind, steps: u32) -> Optimizer {
    let mut opt = Optimizer::new(spec(kind, 0), landscape()).unwrap();
    opt.advance(60);
    let mut s = opt.spec.clone();
    s.hyper.lr *= 0.5;
    opt.apply_spec(s).unwrap();
    opt.advance(steps - 60);
    opt
}

#[test]
fn branching_at_k_then_stepping_is_the_run_that_never_went_back() {
    for kind in OptimizerKind::ALL {
        let reference = run_with_live_change(kind, 200);
        assert_eq!(reference.history.steps(), 200, "{kind:?} stopped early");

        // after the live change
        let mut branched = run_with_live_change(kind, 200);
        branched.view_step = Some(120);
        branched.branch_at(120).unwrap();
        assert_eq!(branched.history.steps(), 120);
        assert_eq!(branched.view_step, None);
        branched.advance(80);
        assert_eq!(
            bits(branched.history.kept()),
            bits(reference.history.kept()),
            "{kind:?}"
        );
        assert_eq!(
            branched.run.surface().map(|r| r.state().clone()),
            reference.run.surface().map(|r| r.state().clone()),
            "{kind:?}"
        );

        // before it: the change is forgotten with the steps after the branch point
        let mut early = run_with_live_change(kind, 200);
        early.branch_at(30).unwrap();
        assert_eq!(
            early.spec.hyper.lr, 0.002,
            "{kind:?}: sliders show the branch's settings"
        );
        early.advance(170);
        let mut plain = Optimizer::new(spec(kind, 0), landscape()).unwrap();
        plain.advance(200);
        assert_eq!(
            bits(early.history.kept()),
            bits(plain.history.kept()),
            "{kind:?}"
        );
        assert_ne!(
            bits(early.history.kept()),
            bits(reference.history.kept()),
            "{kind:?}"
        );
    }
}

#[test]
fn step_views_at_k_are_the_runners_state_after_k_steps() {
    let opt = run_with_live_change(OptimizerKind::Adam, 150);
    for k in [0u64, 1, 59, 60, 61, 149, 150] {
        let view = step_view(&opt, k).unwrap();
        let mut runner =
            Runner::new(landscape(), spec(OptimizerKind::Adam, 0).run_config()).unwrap();
        let mut before = runner.state().clone();
        for i in 0..k {
            if i == 60 {
                let mut h = runner.config().hyper;
                h.lr *= 0.5;
                runner.set_hyper(h).unwrap();
            }
            before = runner.state().clone();
            runner.step().unwrap();
        }
        assert_eq!(view.step, k);
        assert_eq!(Some(&view.record), opt.history.get(k));
        assert_eq!(&view.state, runner.state(), "k = {k}");
        match view.last {
            None => assert_eq!(k, 0),
            Some(last) => {
                assert_eq!(Some(&last.detail), runner.last_detail(), "k = {k}");
                assert_eq!(last.before, before, "k = {k}");
                let lr = if k > 60 { 0.001 } else { 0.002 };
                assert_eq!(last.hyper.lr, lr, "k = {k}: the step's own learning rate");
            }
        }
    }
}

fn app() -> App {
    let mut app = common::headless_app();
    app.insert_resource(ActiveLandscape(landscape()))
        .add_plugins((simulation_plugin, headless_plugin));
    for (i, kind) in [
        OptimizerKind::Momentum,
        OptimizerKind::RmsProp,
        OptimizerKind::Adam,
    ]
    .into_iter()
    .enumerate()
    {
        let bundle = optimizer(spec(kind, i), landscape()).unwrap();
        app.world_mut().spawn(bundle);
    }
    app.update();
    app
}

/// Queues `n` single steps (as N does) and updates until they are taken.
fn step(app: &mut App, n: u32) {
    app.world_mut().resource_mut::<Playback>().queued_steps += n;
    for _ in 0..20 {
        app.update();
        if app.world().resource::<Playback>().queued_steps == 0 {
            break;
        }
    }
    app.update();
}

fn histories(app: &mut App) -> Vec<Vec<[u64; 6]>> {
    let mut q = app.world_mut().query::<&Optimizer>();
    let mut out: Vec<(String, Vec<[u64; 6]>)> = q
        .iter(app.world())
        .map(|o| (o.spec.name.clone(), bits(o.history.kept())))
        .collect();
    out.sort();
    out.into_iter().map(|(_, h)| h).collect()
}

fn max_steps(app: &mut App) -> u64 {
    let mut q = app.world_mut().query::<&Optimizer>();
    q.iter(app.world()).map(|o| o.steps()).max().unwrap()
}

#[test]
fn scrubbing_holds_the_runs_and_resuming_or_branching_changes_nothing() {
    let mut never = app();
    for _ in 0..4 {
        step(&mut never, 40);
    }
    assert_eq!(max_steps(&mut never), 160);

    // scrub back at 100, step through the recorded steps, resume from the end
    let mut resumed = app();
    step(&mut resumed, 40);
    step(&mut resumed, 40);
    step(&mut resumed, 20);
    resumed.world_mut().resource_mut::<Timeline>().scrubbed = Some(37);
    resumed.update();
    {
        let mut q = resumed.world_mut().query::<&Optimizer>();
        for o in q.iter(resumed.world()) {
            assert_eq!(o.view_step, Some(37));
            assert_eq!(o.displayed_position(), o.history.kept()[37].pos);
            assert_eq!(o.displayed_history().count(), 38);
        }
    }
    // a single step while scrubbed walks the scrub, the runs hold
    step(&mut resumed, 3);
    assert_eq!(resumed.world().resource::<Timeline>().scrubbed, Some(40));
    assert_eq!(max_steps(&mut resumed), 100);
    resumed.world_mut().resource_mut::<Timeline>().scrubbed = None;
    step(&mut resumed, 30);
    step(&mut resumed, 30);
    assert_eq!(histories(&mut resumed), histories(&mut never));

    // scrub back at 100 and branch at 70
    let mut branched = app();
    step(&mut branched, 50);
    step(&mut branched, 50);
    branched.world_mut().resource_mut::<Timeline>().scrubbed = Some(70);
    branched.update();
    {
        let world = branched.world_mut();
        let mut q = world.query::<&mut Optimizer>();
        let mut timeline = Timeline { scrubbed: Some(70) };
        let opts: Vec<Mut<Optimizer>> = q.iter_mut(world).collect();
        branch_all(&mut timeline, 70, opts).unwrap();
        assert_eq!(timeline.scrubbed, None);
        world.resource_mut::<Timeline>().scrubbed = None;
    }
    assert_eq!(max_steps(&mut branched), 70);
    step(&mut branched, 45);
    step(&mut branched, 45);
    assert_eq!(histories(&mut branched), histories(&mut never));
}

/// Advances every run `n` steps at once (what the fixed ticks do 64 steps at a time), then updates.
fn advance_all(app: &mut App, n: u32) {
    let world = app.world_mut();
    for mut o in world.query::<&mut Optimizer>().iter_mut(world) {
        o.advance(n);
    }
    app.update();
}

fn span(app: &mut App) -> Span {
    let world = app.world_mut();
    Span::of(world.query::<&Optimizer>().iter(world))
}

fn scrubbed(app: &App) -> Option<u64> {
    app.world().resource::<Timeline>().scrubbed
}

#[test]
fn past_the_first_thinning_the_timeline_scrubs_resumes_and_branches_on_the_kept_steps() {
    // 2 · 16,384 + 8,000 steps: the histories have thinned twice and keep every 4th step
    let end = 2 * History::CAP as u64 + 8_000;
    let more = 4_000;
    let mut never = app();
    advance_all(&mut never, (end + more) as u32);
    assert_eq!(
        max_steps(&mut never),
        end + more,
        "the runs never stop early"
    );

    let mut run = app();
    advance_all(&mut run, end as u32);
    assert_eq!(
        span(&mut run),
        Span {
            newest: end,
            stride: 4
        }
    );
    {
        let world = run.world_mut();
        for o in world.query::<&Optimizer>().iter(world) {
            let kept = o.history.kept();
            assert!(kept.iter().all(|r| r.step % 4 == 0), "{}", o.spec.name);
            assert_eq!(kept.len() as u64, end / 4 + 1, "{}", o.spec.name);
        }
    }
    // ← from the newest step: the kept step before it, and the runs hold
    run.world_mut().run_system_once(scrub_back).unwrap();
    run.update();
    assert_eq!(scrubbed(&run), Some(end - 4));
    // scrubbed to 20,000 (kept): every ball where an independent run of the core is after 20,000 steps
    let k = 20_000;
    run.world_mut().resource_mut::<Timeline>().scrubbed = Some(k);
    run.update();
    {
        let world = run.world_mut();
        for o in world.query::<&Optimizer>().iter(world) {
            let mut runner = Runner::new(landscape(), o.spec.run_config()).unwrap();
            for _ in 0..k {
                runner.step().unwrap();
            }
            assert_eq!(o.displayed_step(), k, "{}", o.spec.name);
            assert_eq!(o.displayed_position(), runner.position(), "{}", o.spec.name);
            // the step-by-step numbers replay the core to the same point
            let view = step_view(o, k).unwrap();
            assert_eq!(view.record.pos, runner.position(), "{}", o.spec.name);
        }
    }
    // a scrub between kept steps shows the kept step before it
    run.world_mut().resource_mut::<Timeline>().scrubbed = Some(k + 3);
    run.update();
    {
        let world = run.world_mut();
        for o in world.query::<&Optimizer>().iter(world) {
            assert_eq!(o.displayed_step(), k, "{}", o.spec.name);
            assert_eq!(o.displayed_history().count() as u64, k / 4 + 1);
        }
    }
    run.world_mut().resource_mut::<Timeline>().scrubbed = Some(k);
    run.update();
    // ← and N walk the kept steps, four at a time; the runs stay at the end
    run.world_mut().run_system_once(scrub_back).unwrap();
    assert_eq!(scrubbed(&run), Some(k - 4));
    step(&mut run, 2);
    assert_eq!(scrubbed(&run), Some(k + 4));
    assert_eq!(max_steps(&mut run), end);

    // branched at 20,004 and run on: the run that never went back, every kept row bit for bit
    let mut branched = run;
    {
        let world = branched.world_mut();
        let mut timeline = Timeline {
            scrubbed: Some(k + 4),
        };
        let opts: Vec<Mut<Optimizer>> = world.query::<&mut Optimizer>().iter_mut(world).collect();
        branch_all(&mut timeline, k + 4, opts).unwrap();
        world.resource_mut::<Timeline>().scrubbed = None;
    }
    branched.update();
    assert_eq!(
        span(&mut branched),
        Span {
            newest: k + 4,
            stride: 4
        }
    );
    advance_all(&mut branched, (end + more - k - 4) as u32);
    assert_eq!(histories(&mut branched), histories(&mut never));

    // scrubbed, then Play: the timeline goes live and the runs go on from the end, as if never scrubbed
    let mut resumed = app();
    advance_all(&mut resumed, end as u32);
    resumed.world_mut().resource_mut::<Timeline>().scrubbed = Some(k);
    resumed.update();
    {
        let mut playback = resumed.world_mut().resource_mut::<Playback>();
        playback.steps_per_second = 1000.0;
        playback.playing = true;
    }
    resumed.update();
    resumed.update();
    resumed.world_mut().resource_mut::<Playback>().playing = false;
    assert_eq!(scrubbed(&resumed), None);
    let now = max_steps(&mut resumed);
    assert!(now > end, "Play resumed from the end: {now} steps");
    advance_all(&mut resumed, (end + more - now) as u32);
    assert_eq!(histories(&mut resumed), histories(&mut never));
}

#[test]
fn step_by_step_lines_print_the_cores_numbers_for_the_scrubbed_step() {
    let mut app = app();
    app.world_mut().resource_mut::<TeachingAids>().step_window = true;
    step(&mut app, 25);
    for k in [25u64, 12, 1] {
        app.world_mut().resource_mut::<Timeline>().scrubbed = (k < 25).then_some(k);
        app.update();
        let entities: Vec<(Entity, OptimizerKind, OptimizerSpec)> = app
            .world_mut()
            .query::<(Entity, &Optimizer)>()
            .iter(app.world())
            .map(|(e, o)| (e, o.spec.kind, o.spec.clone()))
            .collect();
        for (entity, kind, spec) in entities {
            let views = app.world().resource::<StepViews>();
            let view = views.get(entity).expect("a view for every optimizer");
            let last = view.last.clone().expect("past the start");
            // an independent run of the core, k steps
            let mut runner = Runner::new(landscape(), spec.run_config()).unwrap();
            for _ in 0..k - 1 {
                runner.step().unwrap();
            }
            let before = runner.state().clone();
            runner.step().unwrap();
            let detail = runner.last_detail().unwrap();
            let lines = formula_lines(&StepInputs {
                kind,
                hyper: &last.hyper,
                before: &last.before,
                detail: &last.detail,
                noisy: view.noisy,
            });
            let result = |symbol: &str| {
                lines
                    .iter()
                    .find(|l| l.symbol == symbol)
                    .unwrap_or_else(|| panic!("{kind:?}: no {symbol}"))
                    .result()
                    .to_string()
            };
            assert_eq!(result("t"), k.to_string());
            assert_eq!(result("g"), point(detail.grad), "{kind:?} k={k}");
            assert_eq!(result("θ_new"), point(runner.position()), "{kind:?} k={k}");
            if kind.uses_beta_m() {
                assert_eq!(result("V"), point(runner.state().v), "{kind:?} k={k}");
                let v = lines.iter().find(|l| l.symbol == "V").unwrap();
                assert!(v.numbers[0].contains(&point(before.v)), "{kind:?} k={k}");
            }
            if kind.is_adaptive() {
                assert_eq!(result("s"), point(runner.state().s), "{kind:?} k={k}");
                assert_eq!(
                    result("η_eff"),
                    point(detail.effective_lr),
                    "{kind:?} k={k}"
                );
            }
            if kind == OptimizerKind::Adam {
                assert_eq!(result("V_hat"), point(detail.v_hat), "k={k}");
                assert_eq!(result("s_hat"), point(detail.s_hat), "k={k}");
            }
        }
    }
}
