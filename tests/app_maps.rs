//! The maps' wiring, headless: the basins layer starts a job when switched on, its finished map becomes
//! the layer's map, a settings change starts a new job while the old map stays, and switching the layer
//! off stops the job; a sweep started from the window's state ends as its map.

#![cfg(feature = "app")]

mod common;

use std::time::{Duration, Instant};

use bevy::prelude::*;
use losscape::{
    core::{OptimizerKind, scene::OptimizerSpec},
    maps::{BasinsLayer, SweepWindow, headless_plugin},
    optimizers::{Optimizer, optimizer, simulation_plugin},
    state::ActiveLandscape,
};

fn app() -> (App, Entity) {
    let land = common::shared("himmelblau");
    let mut app = common::headless_app();
    app.add_plugins((simulation_plugin, headless_plugin))
        .insert_resource(ActiveLandscape(land.clone()));
    let mut spec = OptimizerSpec::with_defaults(OptimizerKind::Sgd, 0, [1.0, 1.0]);
    spec.hyper.lr = 0.005;
    let entity = app
        .world_mut()
        .spawn(optimizer(spec, land).expect("valid spec"))
        .id();
    app.update();
    (app, entity)
}

/// Updates until `done` holds (the jobs run on their own threads) or 60 s pass.
fn update_until(app: &mut App, done: impl Fn(&World) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(app.world()) {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(5));
        app.update();
    }
}

#[test]
fn the_basins_layer_follows_the_settings_in_the_background() {
    let (mut app, entity) = app();
    {
        let mut layer = app.world_mut().resource_mut::<BasinsLayer>();
        assert!(!layer.computing());
        layer.on = true;
        layer.grid = 12;
        layer.steps = 400;
    }
    app.update();
    assert!(app.world().resource::<BasinsLayer>().computing());
    update_until(&mut app, |w| w.resource::<BasinsLayer>().map().is_some());
    let layer = app.world().resource::<BasinsLayer>();
    assert_eq!(layer.map().unwrap().spec.grid, [12, 12]);
    assert_eq!(layer.generation(), 1);
    assert!(!layer.computing());

    // nothing changed: no new job
    app.update();
    assert!(!app.world().resource::<BasinsLayer>().computing());

    // a new η: a new job, the old map shown meanwhile
    app.world_mut()
        .get_mut::<Optimizer>(entity)
        .unwrap()
        .spec
        .hyper
        .lr = 0.01;
    app.update();
    let layer = app.world().resource::<BasinsLayer>();
    assert!(layer.computing() || layer.generation() == 2);
    assert!(layer.map().is_some());
    update_until(&mut app, |w| w.resource::<BasinsLayer>().generation() == 2);
    assert_eq!(
        app.world()
            .resource::<BasinsLayer>()
            .map()
            .unwrap()
            .spec
            .config
            .hyper
            .lr,
        0.01
    );

    // off: the job stops, nothing starts
    app.world_mut()
        .get_mut::<Optimizer>(entity)
        .unwrap()
        .spec
        .hyper
        .lr = 0.02;
    app.world_mut().resource_mut::<BasinsLayer>().on = false;
    app.update();
    app.update();
    assert!(!app.world().resource::<BasinsLayer>().computing());
}

#[test]
fn a_sweep_ends_as_the_windows_map() {
    let (mut app, entity) = app();
    let config = app
        .world()
        .get::<Optimizer>(entity)
        .unwrap()
        .spec
        .run_config();
    let land = app.world().resource::<ActiveLandscape>().0.clone();
    {
        let mut window = app.world_mut().resource_mut::<SweepWindow>();
        window.x.count = 8;
        window.y.count = 4;
        window.steps = 200;
        window.start(entity, config, land);
        assert!(window.progress().is_some());
    }
    update_until(&mut app, |w| w.resource::<SweepWindow>().map().is_some());
    let window = app.world().resource::<SweepWindow>();
    let (owner, map) = window.map().unwrap();
    assert_eq!(owner, entity);
    assert_eq!(map.cells.len(), 32);
    assert!(window.progress().is_none());
}
