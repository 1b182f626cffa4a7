//! Dragging start points, headless: `MinimalPlugins`, the simulation and the interaction's drag plugin,
//! a primary window entity and two view cameras side by side whose projections are set by hand (no
//! renderer computes them here), driven as a person would: the pointer moves (`CursorMoved`) and the
//! primary button goes down and up (`ButtonInput<MouseButton>`).
#![cfg(feature = "app")]

use std::sync::Arc;

use bevy::{
    camera::{CameraProjection, ComputedCameraValues, RenderTargetInfo, ScalingMode, Viewport},
    prelude::*,
    window::{CursorMoved, PrimaryWindow, WindowResolution},
};
use losscape::{
    core::{
        GradientNoise, Landscape, LandscapeSpec, OptimizerKind, Vec2d, scene::OptimizerSpec,
        scene::SurfaceStyle, trace,
    },
    geometry::{SurfaceFrame, ViewKind, sample_surface},
    interaction::{self, DragState, Ghosts},
    optimizers::{Optimizer, optimizer, simulation_plugin},
    state::{ActiveLandscape, PanelState},
    third_party::camera::PointerCaptured,
};

mod common;

/// Side of each square test viewport, logical pixels: the top view on the left, the 3D view on the
/// right of a window twice as wide.
const VIEW_PX: f32 = 800.0;
/// World units the top camera shows across its viewport.
const TOP_SPAN: f32 = 12.0;

struct Rig {
    app: App,
    window: Entity,
    three_d: Entity,
}

fn camera_with(projection: &Projection, x: u32) -> Camera {
    Camera {
        viewport: Some(Viewport {
            physical_position: UVec2::new(x, 0),
            physical_size: UVec2::splat(VIEW_PX as u32),
            ..default()
        }),
        computed: ComputedCameraValues {
            clip_from_view: projection.get_clip_from_view(),
            target_info: Some(RenderTargetInfo {
                physical_size: UVec2::new(2 * VIEW_PX as u32, VIEW_PX as u32),
                scale_factor: 1.0,
            }),
            ..default()
        },
        ..default()
    }
}

fn rig(landscape: LandscapeSpec) -> Rig {
    let mut app = common::headless_app();
    app.add_plugins((simulation_plugin, interaction::drag_plugin));
    let landscape = Arc::new(Landscape::new(landscape).expect("valid landscape"));
    let (_, frame) = sample_surface(&landscape, &SurfaceStyle::default());
    app.insert_resource(ActiveLandscape(landscape))
        .insert_resource(frame)
        .init_resource::<ButtonInput<KeyCode>>()
        .init_resource::<ButtonInput<MouseButton>>();
    let world = app.world_mut();
    let window = world
        .spawn((
            Window {
                resolution: WindowResolution::new(2 * VIEW_PX as u32, VIEW_PX as u32),
                ..default()
            },
            PrimaryWindow,
        ))
        .id();
    // top view: orthographic, straight down, -Z (param y) up on screen, TOP_SPAN world units across
    let mut ortho = OrthographicProjection {
        scaling_mode: ScalingMode::Fixed {
            width: TOP_SPAN,
            height: TOP_SPAN,
        },
        near: 0.0,
        far: 200.0,
        ..OrthographicProjection::default_3d()
    };
    ortho.update(VIEW_PX, VIEW_PX);
    let ortho = Projection::Orthographic(ortho);
    world.spawn((
        ViewKind::Top,
        camera_with(&ortho, 0),
        ortho,
        GlobalTransform::from(
            Transform::from_xyz(0.0, 60.0, 0.0).looking_at(Vec3::ZERO, Vec3::NEG_Z),
        ),
    ));
    // 3D view: perspective from above and in front, steep enough that the points tested are not hidden
    let mut persp = PerspectiveProjection::default();
    persp.update(VIEW_PX, VIEW_PX);
    let persp = Projection::Perspective(persp);
    let three_d = world
        .spawn((
            ViewKind::ThreeD,
            camera_with(&persp, VIEW_PX as u32),
            persp,
            GlobalTransform::from(
                Transform::from_xyz(2.0, 14.0, 9.0).looking_at(Vec3::new(0.0, 1.0, 0.0), Vec3::Y),
            ),
        ))
        .id();
    app.update();
    Rig {
        app,
        window,
        three_d,
    }
}

impl Rig {
    fn frame(&self) -> SurfaceFrame {
        self.app.world().resource::<SurfaceFrame>().clone()
    }

    fn landscape(&self) -> Arc<Landscape> {
        self.app.world().resource::<ActiveLandscape>().0.clone()
    }

    /// Window position (logical pixels) of a param point in the top view, from the camera's geometry.
    fn top_px(&self, p: Vec2d) -> Vec2 {
        let xz = self.frame().param_to_xz(p);
        Vec2::splat(VIEW_PX / 2.0) + xz * (VIEW_PX / TOP_SPAN)
    }

    /// Window position of a start ring in the 3D view.
    fn three_d_px(&self, p: Vec2d) -> Vec2 {
        let frame = self.frame();
        let world = self.app.world().entity(self.three_d);
        let camera = world.get::<Camera>().expect("camera");
        let transform = world.get::<GlobalTransform>().expect("transform");
        let at = frame.world_point(p, self.landscape().value(p));
        camera.world_to_viewport(transform, at).expect("on screen")
    }

    fn add(&mut self, spec: OptimizerSpec) -> Entity {
        let bundle = optimizer(spec, self.landscape()).expect("valid spec");
        self.app.world_mut().spawn(bundle).id()
    }

    /// The pointer moves to `at` (window pixels, perhaps outside the window).
    fn point(&mut self, at: Vec2) {
        let window = self.window;
        self.app.world_mut().write_message(CursorMoved {
            window,
            position: at,
            delta: None,
        });
        if let Some(mut w) = self.app.world_mut().get_mut::<Window>(window) {
            w.set_cursor_position(Some(at));
        }
    }

    fn button(&mut self, down: bool) {
        let mut mouse = self
            .app
            .world_mut()
            .resource_mut::<ButtonInput<MouseButton>>();
        if down {
            mouse.press(MouseButton::Left);
        } else {
            mouse.release(MouseButton::Left);
        }
    }

    /// Press at `at` and run a frame.
    fn press(&mut self, at: Vec2) {
        self.point(at);
        self.button(true);
        self.app.update();
    }

    /// Press at `from`, move to `to`, and run the frames.
    fn grab_and_move(&mut self, from: Vec2, to: Vec2) {
        self.press(from);
        self.move_to(to);
    }

    fn move_to(&mut self, to: Vec2) {
        self.point(to);
        self.app.update();
    }

    fn release(&mut self, at: Vec2) {
        self.point(at);
        self.button(false);
        self.app.update();
    }

    /// Steps `opt`'s run `n` times; its kept rows, start included.
    fn run_on(&mut self, opt: Entity, n: u32) -> Vec<losscape::core::StepRecord> {
        let mut o = self
            .app
            .world_mut()
            .get_mut::<Optimizer>(opt)
            .expect("optimizer");
        o.advance(n);
        o.history.kept().to_vec()
    }

    fn keys(&mut self) -> Mut<'_, ButtonInput<KeyCode>> {
        self.app.world_mut().resource_mut::<ButtonInput<KeyCode>>()
    }

    fn drag(&self) -> DragState {
        *self.app.world().resource::<DragState>()
    }

    fn captured(&self) -> bool {
        self.app.world().resource::<PointerCaptured>().0
    }

    fn optimizer(&self, e: Entity) -> &Optimizer {
        self.app.world().get::<Optimizer>(e).expect("optimizer")
    }
}

fn close(a: Vec2d, b: Vec2d, tol: f64) -> bool {
    (a[0] - b[0]).abs() < tol && (a[1] - b[1]).abs() < tol
}

#[test]
fn dragging_moves_the_start_shows_the_core_trajectory_and_release_restarts_there() {
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    let s0 = rig.landscape().default_start();
    let spec = OptimizerSpec::with_defaults(OptimizerKind::Adam, 0, s0);
    let opt = rig.add(spec.clone());
    rig.optimizer(opt); // spawned
    let d = rig.frame().domain;
    let target = [d.x[0] + 0.3 * d.width(), d.y[0] + 0.7 * d.height()];
    rig.grab_and_move(rig.top_px(s0), rig.top_px(target));

    // the candidate follows the pointer; the cameras are held; the run itself has not moved yet
    let active = rig.drag().active.expect("a drag in progress");
    assert!(
        close(active.start, target, 2e-3),
        "{:?} vs {target:?}",
        active.start
    );
    assert!(rig.captured());
    assert_eq!(rig.optimizer(opt).spec.start, s0);

    // the ghost is exactly the core's trajectory from the candidate start, 500 steps by default
    let mut config = spec.run_config();
    config.start = active.start;
    let expected = trace(&rig.landscape(), &config, 500).expect("valid start");
    {
        let ghosts = rig.app.world().resource::<Ghosts>();
        let ghost = ghosts
            .0
            .get(&opt)
            .expect("a ghost for the dragged optimizer");
        assert!(ghost.shown);
        assert_eq!(ghost.records, expected.records);
        assert_eq!(ghost.outcome, Ok(expected.status));
    }

    // moving on retraces from the new point
    let next = [d.x[0] + 0.6 * d.width(), d.y[0] + 0.4 * d.height()];
    rig.move_to(rig.top_px(next));
    let start = rig.drag().active.expect("drag").start;
    assert!(close(start, next, 2e-3));
    let ghost_start = rig.app.world().resource::<Ghosts>().0[&opt].records[0].pos;
    assert_eq!(ghost_start, start);

    // release: the run restarts from the new start, the cameras are free, the ghost is hidden
    rig.release(rig.top_px(next));
    let o = rig.optimizer(opt);
    assert_eq!(o.spec.start, start);
    assert_eq!(o.history.steps(), 0);
    assert_eq!(o.history.kept()[0].pos, start);
    assert_eq!(o.position(), start);
    assert_eq!((rig.drag().pressed, rig.drag().active), (None, None));
    assert!(!rig.captured());
    assert!(!rig.app.world().resource::<Ghosts>().0[&opt].shown);
}

#[test]
fn a_noisy_optimizers_ghost_is_the_run_that_follows() {
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    let s0 = rig.landscape().default_start();
    let mut spec = OptimizerSpec::with_defaults(OptimizerKind::Momentum, 3, s0);
    spec.noise = GradientNoise {
        sigma: 0.8,
        batch: None,
    };
    spec.seed = 1234;
    let opt = rig.add(spec);
    let d = rig.frame().domain;
    let target = [d.x[0] + 0.25 * d.width(), d.y[0] + 0.25 * d.height()];
    rig.grab_and_move(rig.top_px(s0), rig.top_px(target));
    let ghost: Vec<Vec2d> = rig.app.world().resource::<Ghosts>().0[&opt]
        .records
        .iter()
        .map(|r| r.pos)
        .collect();
    assert_eq!(ghost.len(), 501, "noise never converges: all 500 steps");
    rig.release(rig.top_px(target));
    let run: Vec<Vec2d> = rig.run_on(opt, 500).iter().map(|r| r.pos).collect();
    assert_eq!(run, ghost);
}

#[test]
fn shift_drag_moves_every_start_to_one_point() {
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    let d = rig.frame().domain;
    let starts = [
        [d.x[0] + 0.2 * d.width(), d.y[0] + 0.2 * d.height()],
        [d.x[0] + 0.8 * d.width(), d.y[0] + 0.3 * d.height()],
        [d.x[0] + 0.5 * d.width(), d.y[0] + 0.9 * d.height()],
    ];
    let kinds = [
        OptimizerKind::Sgd,
        OptimizerKind::RmsProp,
        OptimizerKind::Adam,
    ];
    let mut ids = Vec::new();
    for (i, (kind, start)) in kinds.into_iter().zip(starts).enumerate() {
        ids.push(rig.add(OptimizerSpec::with_defaults(kind, i, start)));
    }
    rig.keys().press(KeyCode::ShiftLeft);
    let target = [d.x[0] + 0.45 * d.width(), d.y[0] + 0.55 * d.height()];
    rig.grab_and_move(rig.top_px(starts[1]), rig.top_px(target));
    let shared = rig.drag().active.expect("drag").start;
    assert!(rig.drag().active.expect("drag").all);
    for &opt in &ids {
        let mut config = rig.optimizer(opt).spec.run_config();
        config.start = shared;
        let expected = trace(&rig.landscape(), &config, 500).expect("valid");
        let ghosts = rig.app.world().resource::<Ghosts>();
        assert!(ghosts.0[&opt].shown);
        assert_eq!(ghosts.0[&opt].records, expected.records);
    }
    rig.release(rig.top_px(target));
    for &opt in &ids {
        assert_eq!(rig.optimizer(opt).spec.start, shared);
        assert_eq!(rig.optimizer(opt).history.kept()[0].pos, shared);
    }

    // without Shift only the held one moves
    rig.keys().release(KeyCode::ShiftLeft);
    // all three rings are at the shared point: the press takes the nearest (the first); move it alone
    let alone = [d.x[0] + 0.1 * d.width(), d.y[0] + 0.1 * d.height()];
    rig.grab_and_move(rig.top_px(shared), rig.top_px(alone));
    let held = rig.drag().active.expect("drag").optimizer;
    rig.release(rig.top_px(alone));
    assert!(close(rig.optimizer(held).spec.start, alone, 2e-3));
    let others: Vec<Entity> = ids.iter().copied().filter(|&e| e != held).collect();
    assert_eq!(others.len(), 2);
    for opt in others {
        assert_eq!(rig.optimizer(opt).spec.start, shared);
    }
}

#[test]
fn a_drag_off_the_domain_clamps_to_its_edge() {
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    let s0 = rig.landscape().default_start();
    let opt = rig.add(OptimizerSpec::with_defaults(OptimizerKind::Sgd, 0, s0));
    let d = rig.frame().domain;
    // far right of the domain, and far outside the window (the pointer keeps reporting while held)
    let right = rig.top_px([d.x[1] + 5.0 * d.width(), 0.5 * (d.y[0] + d.y[1])]);
    rig.grab_and_move(rig.top_px(s0), right);
    let p = rig.drag().active.expect("drag").start;
    assert_eq!(p[0], d.x[1]);
    assert!((p[1] - 0.5 * (d.y[0] + d.y[1])).abs() < 1e-3);
    rig.move_to(Vec2::new(-5000.0, -5000.0));
    let p = rig.drag().active.expect("drag").start;
    assert_eq!(p, [d.x[0], d.y[1]], "top-left corner");
    rig.release(Vec2::new(-5000.0, -5000.0));
    assert_eq!(rig.optimizer(opt).spec.start, [d.x[0], d.y[1]]);
}

#[test]
fn a_3d_drag_puts_the_start_under_the_pointer_on_the_height_field() {
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    let s0 = rig.landscape().default_start();
    let opt = rig.add(OptimizerSpec::with_defaults(OptimizerKind::Adam, 0, s0));
    let frame = rig.frame();
    let landscape = rig.landscape();
    let (camera, transform) = {
        let e = rig.app.world().entity(rig.three_d);
        (
            e.get::<Camera>().expect("camera").clone(),
            *e.get::<GlobalTransform>().expect("transform"),
        )
    };
    let d = frame.domain;
    let mut last: Option<Vec2> = None;
    for (u, v) in [(0.3, 0.3), (0.5, 0.5), (0.7, 0.35), (0.4, 0.8)] {
        let p = [d.x[0] + u * d.width(), d.y[0] + v * d.height()];
        // where the surface point (a hill or a valley) appears on screen
        let world = frame.world_point(p, landscape.value(p));
        let px = camera
            .world_to_viewport(&transform, world)
            .expect("on screen");
        match last {
            // the ring is taken at the start, in the 3D view
            None => rig.grab_and_move(rig.three_d_px(s0), px),
            Some(_) => rig.move_to(px),
        }
        last = Some(px);
        let got = rig.drag().active.expect("drag").start;
        assert!(close(got, p, 0.01 * d.width()), "{got:?} vs {p:?}");
    }
    assert_eq!(rig.drag().active.expect("drag").view, ViewKind::ThreeD);
    rig.release(last.unwrap_or_default());
    assert_ne!(rig.optimizer(opt).spec.start, s0);
}

#[test]
fn ctrl_click_on_the_surface_adds_an_optimizer_of_the_chosen_kind_there() {
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    rig.app.insert_resource(PanelState {
        add_kind: OptimizerKind::Nesterov,
        ..default()
    });
    let d = rig.frame().domain;
    let p = [d.x[0] + 0.35 * d.width(), d.y[0] + 0.65 * d.height()];
    let press = |rig: &mut Rig, at: Vec2| {
        rig.press(at);
        rig.release(at);
    };
    let count = |rig: &mut Rig| {
        rig.app
            .world_mut()
            .query::<&Optimizer>()
            .iter(rig.app.world())
            .count()
    };
    // a plain click adds nothing
    let at = rig.top_px(p);
    press(&mut rig, at);
    assert_eq!(count(&mut rig), 0);
    rig.keys().press(KeyCode::ControlLeft);
    press(&mut rig, at);
    let added: Vec<OptimizerSpec> = rig
        .app
        .world_mut()
        .query::<&Optimizer>()
        .iter(rig.app.world())
        .map(|o| o.spec.clone())
        .collect();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].kind, OptimizerKind::Nesterov);
    assert!(close(added[0].start, p, 2e-3), "{:?}", added[0].start);
    // off the surface: nothing
    let outside = rig.top_px([d.x[1] + d.width(), d.y[1]]);
    press(&mut rig, outside);
    assert_eq!(count(&mut rig), 1);
}

#[test]
fn a_press_without_a_drag_frees_the_cameras_on_release() {
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    let s0 = rig.landscape().default_start();
    let opt = rig.add(OptimizerSpec::with_defaults(OptimizerKind::Sgd, 0, s0));
    let at = rig.top_px(s0);
    rig.press(at);
    assert!(rig.captured());
    assert_eq!(
        rig.drag().pressed.map(|(e, view, _)| (e, view)),
        Some((opt, ViewKind::Top))
    );
    // a move shorter than the drag threshold is still a click
    rig.move_to(at + Vec2::new(1.0, 1.0));
    assert_eq!(rig.drag().active, None);
    rig.release(at);
    assert!(!rig.captured());
    assert_eq!((rig.drag().pressed, rig.drag().active), (None, None));
    assert_eq!(rig.optimizer(opt).spec.start, s0);
}

#[test]
fn a_press_beside_every_ring_orbits_instead() {
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    let s0 = rig.landscape().default_start();
    rig.add(OptimizerSpec::with_defaults(OptimizerKind::Sgd, 0, s0));
    rig.press(rig.top_px(s0) + Vec2::new(60.0, 0.0));
    assert!(!rig.captured(), "the cameras stay free");
    assert_eq!(rig.drag().pressed, None);
}

#[test]
fn a_network_runs_ghost_grows_frame_by_frame_into_the_run_that_follows() {
    use losscape::core::network::{Builtin, NetworkSpec};
    use losscape::interaction::GhostSettings;
    let mut net = NetworkSpec::builtin(Builtin::Moons);
    net.hidden = vec![6];
    let mut rig = rig(LandscapeSpec::Network(net));
    rig.app.insert_resource(GhostSettings { steps: 40 });
    let mut spec = OptimizerSpec::with_defaults(OptimizerKind::Adam, 2, [0.0, 0.0]);
    spec.hyper.lr = 0.05;
    let opt = rig.add(spec);
    let s0 = rig.optimizer(opt).start_in_view();
    let d = rig.frame().domain;
    let target = [s0[0] + 0.2 * d.width(), s0[1] - 0.15 * d.height()];
    rig.grab_and_move(rig.top_px(s0), rig.top_px(target));
    let start = rig.drag().active.expect("a drag in progress").start;
    // the ghost grows a slice per frame until it holds every step asked for
    let mut frames = 0;
    while !rig.app.world().resource::<Ghosts>().0[&opt].is_whole() {
        rig.move_to(rig.top_px(target));
        frames += 1;
        assert!(frames < 2_000, "the ghost never became whole");
    }
    let ghost = rig.app.world().resource::<Ghosts>().0[&opt].clone();
    assert!(ghost.shown);
    assert_eq!(ghost.records.len(), 41, "the start and 40 steps");
    assert_eq!(
        ghost.records[0].pos, start,
        "the ghost starts at the candidate"
    );
    assert!(losscape::interaction::ghost::end_label("Adam", &ghost).contains("after 40 steps"));
    // release: the run restarts there, and its first 40 steps are the ghost, weights and all
    rig.release(rig.top_px(target));
    let run: Vec<(Vec2d, f64)> = rig
        .run_on(opt, 40)
        .iter()
        .map(|r| (r.pos, r.loss))
        .collect();
    let traced: Vec<(Vec2d, f64)> = ghost.records.iter().map(|r| (r.pos, r.loss)).collect();
    assert_eq!(run, traced);
    assert!(
        traced[40].1 < traced[0].1,
        "Adam lowers the loss: {} -> {}",
        traced[0].1,
        traced[40].1
    );
}

#[test]
fn a_hidden_views_stale_viewport_takes_no_press() {
    use losscape::geometry::ViewRects;
    let mut rig = rig(LandscapeSpec::SaddleValleys);
    let s0 = rig.landscape().default_start();
    let opt = rig.add(OptimizerSpec::with_defaults(OptimizerKind::Sgd, 0, s0));
    // the layout shows the top view only; the 3D camera keeps its last viewport
    rig.app.insert_resource(ViewRects {
        three_d: None,
        top: Some(Rect::new(0.0, 0.0, VIEW_PX, VIEW_PX)),
    });
    rig.press(rig.three_d_px(s0));
    assert_eq!(
        rig.drag().pressed,
        None,
        "the hidden 3D view takes no press"
    );
    rig.release(rig.three_d_px(s0));
    // the top view still does
    rig.press(rig.top_px(s0));
    assert_eq!(
        rig.drag().pressed.map(|(e, view, _)| (e, view)),
        Some((opt, ViewKind::Top))
    );
}
