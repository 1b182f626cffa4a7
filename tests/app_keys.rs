//! The keys of the README's table, headless: `MinimalPlugins`, Bevy's input plugin, the simulation, the
//! timeline, the classroom and every module's key bindings, on the ravine lesson. Each key is pressed as
//! the window system delivers it (a `KeyboardInput` message, pressed then released) and what it must do
//! is read from the app's state: the runs, the playback, the timeline, the aids, the layout, the
//! requests to the recorder and predict mode's round.
#![cfg(feature = "app")]

mod common;

use std::sync::Arc;

use bevy::{
    input::{
        ButtonState, InputPlugin,
        keyboard::{Key, KeyboardInput, NativeKey},
    },
    prelude::*,
};
use losscape::{
    classroom::{self, Round},
    core::{
        Answer, Landscape, lessons,
        scene::{Scene, ViewLayout},
    },
    optimizers::{self, Optimizer, Playback, simulation_plugin},
    recording::{self, RecordRequest},
    state::{ActiveLandscape, CurrentScene, PredictMode},
    teaching::{self, TeachingAids, timeline::Timeline},
    third_party::egui::EguiKeyboard,
    views::{self, FrameSurface, Layout},
};

/// What the keys asked of the recorder and the views' cameras, in order.
#[derive(Resource, Default)]
struct Requests {
    record: Vec<RecordRequest>,
    frames: usize,
}

fn collect_requests(
    mut record: MessageReader<RecordRequest>,
    mut frames: MessageReader<FrameSurface>,
    mut seen: ResMut<Requests>,
) {
    seen.record.extend(record.read().cloned());
    seen.frames += frames.read().count();
}

struct Keys {
    app: App,
    window: Entity,
    runs: Vec<Entity>,
    scene: Scene,
}

/// The ravine lesson (a choice question) with every key binding that needs no window.
fn keys() -> Keys {
    let scene = lessons::preset("ravine").expect("a built-in lesson");
    let land = Arc::new(Landscape::new(scene.landscape.clone()).expect("a valid landscape"));
    let mut app = common::headless_app();
    app.add_plugins(InputPlugin)
        .add_plugins((
            simulation_plugin,
            teaching::headless_plugin,
            classroom::headless_plugin,
        ))
        .add_plugins((
            optimizers::keys_plugin,
            teaching::keys_plugin,
            views::keys_plugin,
            recording::keys_plugin,
            classroom::keys_plugin,
        ))
        .insert_resource(ActiveLandscape(land.clone()))
        .insert_resource(CurrentScene {
            title: scene.title.clone(),
            question: scene.question.clone(),
            ..default()
        })
        .init_resource::<Requests>()
        .add_systems(Last, collect_requests);
    app.update();
    let runs = common::spawn_runs(&mut app, &scene.optimizers, &land);
    // the window the key events come from (nothing else is needed of it here)
    let window = app.world_mut().spawn_empty().id();
    app.update();
    Keys {
        app,
        window,
        runs,
        scene,
    }
}

impl Keys {
    /// Presses `key` (one update) and releases it (another), as a keyboard does.
    fn press(&mut self, key: KeyCode) {
        for state in [ButtonState::Pressed, ButtonState::Released] {
            self.app.world_mut().write_message(KeyboardInput {
                key_code: key,
                logical_key: Key::Unidentified(NativeKey::Unidentified),
                state,
                text: None,
                repeat: false,
                window: self.window,
            });
            self.app.update();
        }
    }

    fn steps(&self) -> Vec<u64> {
        self.runs
            .iter()
            .map(|e| {
                self.app
                    .world()
                    .get::<Optimizer>(*e)
                    .expect("a run")
                    .steps()
            })
            .collect()
    }

    fn all_at(&self, n: u64) -> bool {
        self.steps().iter().all(|&s| s == n)
    }

    fn playback(&self) -> &Playback {
        self.app.world().resource::<Playback>()
    }

    fn scrubbed(&self) -> Option<u64> {
        self.app.world().resource::<Timeline>().scrubbed
    }

    fn aids(&self) -> &TeachingAids {
        self.app.world().resource::<TeachingAids>()
    }

    fn layout(&self) -> ViewLayout {
        self.app.world().resource::<Layout>().0
    }

    fn round(&self) -> &Round {
        self.app.world().resource::<Round>()
    }

    fn update(&mut self, n: usize) {
        for _ in 0..n {
            self.app.update();
        }
    }
}

#[test]
fn space_n_right_r_and_brackets_play_step_restart_and_change_the_speed() {
    let mut k = keys();
    assert!(
        !k.playback().playing && k.all_at(0),
        "opens paused at the start"
    );
    // N and →: one step each, still paused
    k.press(KeyCode::KeyN);
    assert!(k.all_at(1), "{:?}", k.steps());
    k.press(KeyCode::ArrowRight);
    assert!(k.all_at(2), "{:?}", k.steps());
    k.update(5);
    assert!(k.all_at(2) && !k.playback().playing);
    // Space: play (the runs go on by themselves), Space again: pause (they hold)
    k.press(KeyCode::Space);
    assert!(k.playback().playing);
    k.update(10);
    let playing = k.steps();
    assert!(playing.iter().all(|&s| s > 2), "{playing:?}");
    k.press(KeyCode::Space);
    assert!(!k.playback().playing);
    let paused = k.steps();
    k.update(10);
    assert_eq!(k.steps(), paused);
    // ] doubles the speed, [ halves it, within 1 ..= 1000 steps per second
    let speed = k.playback().steps_per_second;
    k.press(KeyCode::BracketRight);
    assert_eq!(k.playback().steps_per_second, 2.0 * speed);
    k.press(KeyCode::BracketLeft);
    k.press(KeyCode::BracketLeft);
    assert_eq!(k.playback().steps_per_second, speed / 2.0);
    for _ in 0..12 {
        k.press(KeyCode::BracketRight);
    }
    assert_eq!(k.playback().steps_per_second, 1000.0);
    for _ in 0..12 {
        k.press(KeyCode::BracketLeft);
    }
    assert_eq!(k.playback().steps_per_second, 1.0);
    // R: every run back at its start
    k.press(KeyCode::KeyR);
    assert!(k.all_at(0), "{:?}", k.steps());
    for (e, spec) in k.runs.iter().zip(&k.scene.optimizers) {
        let o = k.app.world().get::<Optimizer>(*e).expect("a run");
        assert_eq!(o.position(), spec.start, "{}", spec.name);
    }
}

#[test]
fn left_scrubs_back_and_n_walks_forward_while_the_runs_hold() {
    let mut k = keys();
    k.app.world_mut().resource_mut::<Playback>().queued_steps = 10;
    k.update(2);
    assert!(k.all_at(10), "{:?}", k.steps());
    k.press(KeyCode::ArrowLeft);
    assert_eq!(k.scrubbed(), Some(9));
    k.press(KeyCode::ArrowLeft);
    assert_eq!(k.scrubbed(), Some(8));
    for e in &k.runs {
        let o = k.app.world().get::<Optimizer>(*e).expect("a run");
        assert_eq!(o.displayed_step(), 8);
        assert_eq!(o.displayed_position(), o.history.kept()[8].pos);
    }
    // N and → walk the recorded steps; at the newest the timeline is live again
    k.press(KeyCode::KeyN);
    assert_eq!(k.scrubbed(), Some(9));
    k.press(KeyCode::ArrowRight);
    assert_eq!(k.scrubbed(), None);
    assert!(k.all_at(10), "scrubbing took no step: {:?}", k.steps());
    // ← while playing pauses
    k.press(KeyCode::Space);
    k.update(4);
    k.press(KeyCode::ArrowLeft);
    assert!(!k.playback().playing && k.scrubbed().is_some());
}

#[test]
fn a_f_c_s_digits_home_g_and_p_switch_aids_layouts_and_ask_the_views_and_recorder() {
    let mut k = keys();
    // A: every arrow on, then off
    assert!(!k.aids().any_arrow());
    k.press(KeyCode::KeyA);
    let a = k.aids();
    assert!(a.gradient && a.velocity && a.step && a.second_moment);
    k.press(KeyCode::KeyA);
    assert!(!k.aids().any_arrow());
    // F, C, S: one aid each
    for (key, aid) in [
        (
            KeyCode::KeyF,
            (|a: &TeachingAids| a.field) as fn(&TeachingAids) -> bool,
        ),
        (KeyCode::KeyC, |a| a.curvature),
        (KeyCode::KeyS, |a| a.step_window),
    ] {
        let before = (k.aids().field, k.aids().curvature, k.aids().step_window);
        k.press(key);
        assert!(aid(k.aids()), "{key:?} turns its aid on");
        let after = (k.aids().field, k.aids().curvature, k.aids().step_window);
        let changed = [
            before.0 != after.0,
            before.1 != after.1,
            before.2 != after.2,
        ];
        assert_eq!(changed.iter().filter(|&&c| c).count(), 1, "{key:?}");
        k.press(key);
        assert!(!aid(k.aids()), "{key:?} again turns it off");
    }
    // 1, 2, 3: the layouts
    assert_eq!(k.layout(), ViewLayout::Split);
    k.press(KeyCode::Digit2);
    assert_eq!(k.layout(), ViewLayout::ThreeD);
    k.press(KeyCode::Digit3);
    assert_eq!(k.layout(), ViewLayout::Top);
    k.press(KeyCode::Digit1);
    assert_eq!(k.layout(), ViewLayout::Split);
    // Home frames the surface again; G asks for a clip (or its end), P for a still
    k.press(KeyCode::Home);
    k.press(KeyCode::KeyG);
    k.press(KeyCode::KeyP);
    k.press(KeyCode::KeyG);
    let seen = k.app.world().resource::<Requests>();
    assert_eq!(seen.frames, 1);
    assert_eq!(
        seen.record,
        [
            RecordRequest::Toggle,
            RecordRequest::Still,
            RecordRequest::Toggle
        ]
    );
    // while a text field has the keyboard, the keys are the field's
    k.app.world_mut().resource_mut::<EguiKeyboard>().typing = true;
    for key in [
        KeyCode::Space,
        KeyCode::KeyN,
        KeyCode::KeyA,
        KeyCode::Digit2,
        KeyCode::KeyG,
        KeyCode::KeyQ,
    ] {
        k.press(key);
    }
    assert!(k.all_at(0) && !k.playback().playing);
    assert!(!k.aids().any_arrow());
    assert_eq!(k.layout(), ViewLayout::Split);
    assert_eq!(k.app.world().resource::<Requests>().record.len(), 3);
    assert!(!k.app.world().resource::<PredictMode>().on);
}

#[test]
fn q_digits_w_and_enter_run_a_round_of_predict_mode() {
    let mut k = keys();
    let question = k
        .scene
        .question
        .clone()
        .expect("the lesson asks a question");
    assert!(question.is_choice(), "the ravine lesson asks a choice");
    k.app.world_mut().resource_mut::<Playback>().queued_steps = 5;
    k.update(2);
    assert!(k.all_at(5));
    // Q: predict mode, the runs back at their starts
    k.press(KeyCode::KeyQ);
    assert!(k.app.world().resource::<PredictMode>().on);
    assert!(k.all_at(0), "{:?}", k.steps());
    // 2: the room picks option 2 (index 1); the digits leave the layout alone in predict mode
    k.press(KeyCode::Digit2);
    assert_eq!(k.layout(), ViewLayout::Split);
    let guesses = &k.round().guesses.guesses;
    assert_eq!(guesses.len(), 1, "{:?}", k.round().message);
    assert_eq!(guesses[0].guesser, "Room");
    assert_eq!(guesses[0].answer, Answer::Choice(1));
    // W: the next guesser (a second one joined from the window), who picks option 1 with the keypad
    k.app
        .world_mut()
        .write_message(classroom::PredictRequest::AddGuesser("CD".into()));
    k.update(1);
    k.press(KeyCode::KeyW);
    assert_eq!(k.round().guesser, 0, "W wraps round to the first guesser");
    k.press(KeyCode::KeyW);
    assert_eq!(k.round().guesser, 1);
    k.press(KeyCode::Numpad1);
    let guesses = &k.round().guesses.guesses;
    assert_eq!(guesses.len(), 2);
    assert_eq!(guesses[1].guesser, "CD");
    assert_eq!(guesses[1].answer, Answer::Choice(0));
    assert!(k.round().reveal().is_none());
    // Enter: the runs play to the question's step and the answer is revealed
    k.press(KeyCode::Enter);
    for _ in 0..2000 {
        if k.round().reveal().is_some() {
            break;
        }
        k.app.update();
    }
    let reveal = k.round().reveal().expect("revealed");
    assert_eq!(reveal.scored.len(), 2);
    let steps = question.steps();
    for e in &k.runs {
        let o = k.app.world().get::<Optimizer>(*e).expect("a run");
        assert!(o.steps() == steps || !o.is_running(), "{}", o.spec.name);
    }
    // Enter again: a new round; Q leaves predict mode and the digits set the layout again
    let number = k.round().number;
    k.press(KeyCode::NumpadEnter);
    assert!(k.round().reveal().is_none() && k.round().guesses.guesses.is_empty());
    assert!(k.round().number > number);
    k.press(KeyCode::KeyQ);
    assert!(!k.app.world().resource::<PredictMode>().on);
    k.press(KeyCode::Digit3);
    assert_eq!(k.layout(), ViewLayout::Top);
}
