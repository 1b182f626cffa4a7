//! Predict, then reveal: the scene's question over the views, the class's guesses (points clicked on the
//! top view or options picked with buttons or digit keys, per guesser), and the reveal: the truth is
//! computed headless on a worker thread (`core::predict::compute_truth`) while the runs play from their
//! starts to the question's step K, then every guess is shown against it (a line from each point guess to
//! where the optimizer really is, right or wrong for a choice) with the tallies and the explanation.
//!
//! Everything the keys, the window, the panel and the clicks ask for travels as a [`PredictRequest`];
//! [`handle_requests`] acts on them. While predict mode is on ([`PredictMode`]) `interaction` draws no
//! ghost path and the digit keys pick answers instead of layouts.

use std::thread::JoinHandle;

use bevy::{prelude::*, window::PrimaryWindow};
use bevy_egui::{EguiContexts, egui, input::EguiWantsInput};

use super::scoreboard::Scores;
use crate::core::number::{num, num_digits, point};
use crate::core::{
    Answer, Guess, Guesses, Question, Reveal, Truth, Vec2d, Verdict, compute_truth, scene::Scene,
};
use crate::geometry::{SurfaceFrame, ViewKind, ViewProjection, place, pointer_param};
use crate::lessons::snapshot_scene;
use crate::optimizers::{MAX_STEPS_PER_TICK, Optimizer, Playback};
use crate::paint::{ViewLayer, egui_color, outlined, view_painter};
use crate::state::{ActiveLandscape, CurrentScene, PredictMode, SurfaceSettings, UiPrefs};
use crate::system_order::KeepAwake;
use crate::views::{Layout, ViewRects};

/// How many fixed ticks (1/60 s) a reveal takes to play the runs to K, at most 64 steps a tick.
pub const REVEAL_TICKS: u64 = 120;
/// The most guessers in a round.
pub const MAX_GUESSERS: usize = 12;

/// A request to predict mode: from its keys, its window, the panel and clicks on the top view.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum PredictRequest {
    /// Predict mode on (every run back to its start, paused, a new round) or off.
    Toggle,
    /// The digit key or button `n + 1`: a choice question's option `n` for the current guesser; a
    /// point question's `n`-th optimizer asked about, which the next click places.
    Pick(usize),
    /// The current guesser puts the selected optimizer here (param space; a click on the top view).
    Place(Vec2d),
    /// The next guesser (W; not Tab, which moves egui's focus).
    NextGuesser,
    /// Guesser `i` guesses next.
    SelectGuesser(usize),
    /// A new guesser (a name or initials), who guesses next.
    AddGuesser(String),
    /// Forget this round's guesses.
    Clear,
    /// Enter: reveal the answer; once revealed, a new round.
    Reveal,
    /// A new round: the runs back to their starts, the guesses forgotten.
    NewRound,
}

/// Where a round stands.
#[derive(Debug, Default)]
pub enum Phase {
    /// The class guesses; the future is hidden.
    #[default]
    Guessing,
    /// The runs play to step `steps` while the truth is computed on a worker thread.
    Revealing {
        question: Question,
        steps: u64,
        job: Option<JoinHandle<Result<Truth, String>>>,
    },
    /// The guesses scored against the truth (or why the truth could not be computed).
    Revealed(Result<Reveal, String>),
}

/// One round of predict mode: who guesses, what they guessed, where the round stands.
#[derive(Resource, Debug)]
pub struct Round {
    /// Which round this is: a new number for every new round (the class vote's phones start afresh).
    pub number: u64,
    /// The guessers' names, in order (each has a colour, [`guesser_color`]).
    pub guessers: Vec<String>,
    /// The one who guesses next (index into `guessers`).
    pub guesser: usize,
    /// For a point question, the optimizer the next click places (index into the scene's optimizers).
    pub optimizer: usize,
    pub guesses: Guesses,
    pub phase: Phase,
    /// The window's "add a guesser" text field.
    pub new_name: String,
    /// Why the last request did nothing, if it did not.
    pub message: Option<String>,
}

impl Default for Round {
    fn default() -> Self {
        Self {
            number: 0,
            guessers: vec!["Room".into()],
            guesser: 0,
            optimizer: 0,
            guesses: Guesses::default(),
            phase: Phase::Guessing,
            new_name: String::new(),
            message: None,
        }
    }
}

impl Round {
    /// The scored guesses, once revealed.
    pub fn reveal(&self) -> Option<&Reveal> {
        match &self.phase {
            Phase::Revealed(Ok(reveal)) => Some(reveal),
            _ => None,
        }
    }

    fn current_guesser(&self) -> String {
        self.guessers
            .get(self.guesser)
            .cloned()
            .unwrap_or_else(|| "Room".into())
    }

    fn restart(&mut self) {
        self.number += 1;
        self.phase = Phase::Guessing;
        self.guesses.clear();
        self.message = None;
    }
}

/// A guesser's colour: eight distinct hues, then again.
pub fn guesser_color(index: usize) -> egui::Color32 {
    const COLORS: [egui::Color32; 8] = [
        egui::Color32::from_rgb(255, 255, 255),
        egui::Color32::from_rgb(255, 210, 0),
        egui::Color32::from_rgb(0, 220, 255),
        egui::Color32::from_rgb(255, 90, 200),
        egui::Color32::from_rgb(140, 255, 90),
        egui::Color32::from_rgb(255, 140, 40),
        egui::Color32::from_rgb(170, 140, 255),
        egui::Color32::from_rgb(255, 80, 80),
    ];
    COLORS[index % COLORS.len()]
}

/// Up to two letters for a marker: the initials of a name of several words, else its first two letters.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let letters: String = if words.len() > 1 {
        words
            .iter()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect()
    } else {
        name.chars().take(2).collect()
    };
    letters.to_uppercase()
}

/// The scene on screen (its landscape, its optimizers in the panel's order and its question) as the
/// truth is computed from; the question is dropped when it no longer fits the optimizers.
pub fn scene_on_screen<'a>(
    current: &CurrentScene,
    landscape: &ActiveLandscape,
    optimizers: impl Iterator<Item = &'a Optimizer>,
) -> Scene {
    snapshot_scene(
        current,
        landscape,
        &SurfaceSettings::default(),
        &Layout::default(),
        &Playback::default(),
        optimizers.map(|o| o.spec.clone()),
    )
}

/// Every run back to its start, paused.
fn restart_runs<'a>(optimizers: impl Iterator<Item = Mut<'a, Optimizer>>, playback: &mut Playback) {
    playback.playing = false;
    playback.budget = 0.0;
    playback.queued_steps = 0;
    for mut optimizer in optimizers {
        optimizer.restart();
    }
}

/// Acts on the requests of this frame.
pub fn handle_requests(
    mut requests: MessageReader<PredictRequest>,
    mut mode: ResMut<PredictMode>,
    mut round: ResMut<Round>,
    current: Res<CurrentScene>,
    landscape: Res<ActiveLandscape>,
    scores: Res<Scores>,
    mut playback: ResMut<Playback>,
    mut optimizers: Query<&mut Optimizer>,
) {
    let round = &mut *round;
    for request in requests.read() {
        if *request == PredictRequest::Toggle {
            mode.on = !mode.on;
            round.restart();
            if mode.on {
                restart_runs(optimizers.iter_mut(), &mut playback);
            }
            continue;
        }
        if !mode.on {
            continue;
        }
        let scene = scene_on_screen(&current, &landscape, optimizers.iter());
        let Some(question) = scene.question.clone() else {
            round.message =
                Some("this scene has no question: load a lesson (they all have one)".into());
            continue;
        };
        let guessing = matches!(round.phase, Phase::Guessing);
        let asked = question.guessed_optimizers(&scene);
        let place = |round: &mut Round, answer: Answer| {
            let guess = Guess {
                guesser: round.current_guesser(),
                answer,
            };
            round.message = round.guesses.place(&question, &scene, guess).err();
        };
        match request {
            PredictRequest::Toggle => {}
            PredictRequest::Pick(n) if guessing => {
                if question.is_choice() {
                    place(round, Answer::Choice(*n));
                } else if let Some(&i) = asked.get(*n) {
                    round.optimizer = i;
                }
            }
            PredictRequest::Place(at) if guessing && !question.is_choice() => {
                let Some(slot) = asked.iter().position(|&i| i == round.optimizer).or(
                    // the selected one is not asked about (a new scene): the first that is
                    (!asked.is_empty()).then_some(0),
                ) else {
                    continue;
                };
                place(
                    round,
                    Answer::Point {
                        optimizer: asked[slot],
                        at: *at,
                    },
                );
                // the next click places the next optimizer
                round.optimizer = asked[(slot + 1) % asked.len()];
            }
            PredictRequest::NextGuesser => {
                round.guesser = (round.guesser + 1) % round.guessers.len().max(1);
            }
            PredictRequest::SelectGuesser(i) if *i < round.guessers.len() => round.guesser = *i,
            PredictRequest::AddGuesser(name) => {
                let name = name.trim();
                if let Some(i) = round.guessers.iter().position(|g| g == name) {
                    round.guesser = i;
                } else if !name.is_empty() && round.guessers.len() < MAX_GUESSERS {
                    round.guessers.push(name.to_string());
                    round.guesser = round.guessers.len() - 1;
                }
            }
            PredictRequest::Clear if guessing => round.guesses.clear(),
            PredictRequest::Reveal => match round.phase {
                Phase::Guessing => {
                    let settings = scores.settings;
                    let steps = question.steps();
                    let (scene, asked) = (scene.clone(), question.clone());
                    let job = std::thread::spawn(move || compute_truth(&scene, &asked, &settings));
                    restart_runs(optimizers.iter_mut(), &mut playback);
                    round.message = None;
                    round.phase = Phase::Revealing {
                        question: question.clone(),
                        steps,
                        job: Some(job),
                    };
                }
                Phase::Revealing { .. } => {}
                Phase::Revealed(_) => {
                    round.restart();
                    restart_runs(optimizers.iter_mut(), &mut playback);
                }
            },
            PredictRequest::NewRound => {
                round.restart();
                restart_runs(optimizers.iter_mut(), &mut playback);
            }
            _ => {}
        }
    }
}

/// A new scene on screen: a new round (the guesses were about the old one).
pub fn new_round_for_new_scene(current: Res<CurrentScene>, mut round: ResMut<Round>) {
    if !current.is_added() {
        round.restart();
    }
}

/// While revealing, the runs step towards K (before the optimizers step, after the timeline's hold):
/// about [`REVEAL_TICKS`] ticks in all, at most [`MAX_STEPS_PER_TICK`] steps a tick.
pub fn play_to_answer(
    round: Res<Round>,
    mut playback: ResMut<Playback>,
    optimizers: Query<&Optimizer>,
) {
    let Phase::Revealing { steps: k, .. } = round.phase else {
        return;
    };
    let behind = optimizers
        .iter()
        .filter(|o| o.is_running())
        .map(|o| o.steps())
        .min();
    let Some(at) = behind.filter(|&at| at < k) else {
        return;
    };
    let rate = k
        .div_ceil(REVEAL_TICKS)
        .clamp(1, u64::from(MAX_STEPS_PER_TICK));
    playback.playing = false;
    playback.queued_steps = (k - at).min(rate) as u32;
}

/// Once every run reached K (or stopped) and the truth is known: the guesses scored.
pub fn finish_reveal(
    mut round: ResMut<Round>,
    optimizers: Query<&Optimizer>,
    mut awake: ResMut<KeepAwake>,
) {
    let round = &mut *round;
    let Phase::Revealing {
        question,
        steps,
        job,
    } = &mut round.phase
    else {
        return;
    };
    awake.request();
    let played = optimizers
        .iter()
        .all(|o| !o.is_running() || o.steps() >= *steps);
    if !played || job.as_ref().is_some_and(|j| !j.is_finished()) {
        return;
    }
    let truth = match job.take().map(JoinHandle::join) {
        Some(Ok(truth)) => truth,
        Some(Err(_)) => Err("the answer could not be computed".into()),
        None => Err("the answer was not computed".into()),
    };
    let reveal = truth.map(|truth| Reveal::new(question, truth, &round.guesses));
    round.phase = Phase::Revealed(reveal);
}

/// Q toggles predict mode; while it is on: 1–9 pick, W the next guesser, Enter reveals (again: a new
/// round).
pub fn predict_keys(
    keys: Res<ButtonInput<KeyCode>>,
    mode: Res<PredictMode>,
    mut requests: MessageWriter<PredictRequest>,
) {
    if keys.just_pressed(KeyCode::KeyQ) {
        requests.write(PredictRequest::Toggle);
    }
    if !mode.on {
        return;
    }
    const DIGITS: [(KeyCode, KeyCode); 9] = [
        (KeyCode::Digit1, KeyCode::Numpad1),
        (KeyCode::Digit2, KeyCode::Numpad2),
        (KeyCode::Digit3, KeyCode::Numpad3),
        (KeyCode::Digit4, KeyCode::Numpad4),
        (KeyCode::Digit5, KeyCode::Numpad5),
        (KeyCode::Digit6, KeyCode::Numpad6),
        (KeyCode::Digit7, KeyCode::Numpad7),
        (KeyCode::Digit8, KeyCode::Numpad8),
        (KeyCode::Digit9, KeyCode::Numpad9),
    ];
    for (n, (digit, pad)) in DIGITS.into_iter().enumerate() {
        if keys.any_just_pressed([digit, pad]) {
            requests.write(PredictRequest::Pick(n));
        }
    }
    if keys.just_pressed(KeyCode::KeyW) {
        requests.write(PredictRequest::NextGuesser);
    }
    if keys.any_just_pressed([KeyCode::Enter, KeyCode::NumpadEnter]) {
        requests.write(PredictRequest::Reveal);
    }
}

/// A left click on the top view (not on the panel or a window, no Ctrl) places the current guesser's
/// point for the selected optimizer.
pub fn place_by_click(
    mouse: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    window: Query<&Window, With<PrimaryWindow>>,
    egui: Res<EguiWantsInput>,
    rects: Res<ViewRects>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    mut requests: MessageWriter<PredictRequest>,
) {
    if !mouse.just_pressed(MouseButton::Left)
        || egui.wants_any_pointer_input()
        || keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight])
    {
        return;
    }
    let Some(position) = window.iter().next().and_then(Window::cursor_position) else {
        return;
    };
    if !rects.top.is_some_and(|r| r.contains(position)) {
        return;
    }
    let Some((_, camera, transform)) = cameras.iter().find(|(v, ..)| **v == ViewKind::Top) else {
        return;
    };
    let Ok(ray) = camera.viewport_to_world(transform, position) else {
        return;
    };
    if let Some(at) = pointer_param(ViewKind::Top, ray, &frame, |p| landscape.0.value(p)) {
        requests.write(PredictRequest::Place(at));
    }
}

/// The panel's "Predict, then reveal" section: the toggle and how it works.
pub fn panel_section(
    ui: &mut egui::Ui,
    on: bool,
    question: Option<&Question>,
    requests: &mut MessageWriter<PredictRequest>,
) {
    let label = if on {
        "Leave predict mode (Q)"
    } else {
        "Predict mode (Q)"
    };
    if ui.selectable_label(on, label).clicked() {
        requests.write(PredictRequest::Toggle);
    }
    match question {
        Some(q) => ui.small(format!("question: {}", q.prompt())),
        None => ui.small("this scene has no question (every built-in lesson has one)"),
    };
    ui.small("the runs go back to their starts and no ghost path shows; guess, then Enter reveals");
}

/// The window over the views: the question, the guessers, the options or what to click, Reveal, and
/// once revealed the answer, each guess against it, the tallies and the explanation. Returns what was
/// asked for.
pub fn round_ui(
    ui: &mut egui::Ui,
    round: &mut Round,
    scene: &Scene,
    colors: &[egui::Color32],
) -> Vec<PredictRequest> {
    let mut out = Vec::new();
    let Some(question) = &scene.question else {
        ui.label("This scene has no question. Load a lesson: every built-in lesson has one.");
        if ui.button("Leave (Q)").clicked() {
            out.push(PredictRequest::Toggle);
        }
        return out;
    };
    ui.label(egui::RichText::new(question.prompt()).heading());
    let guessing = matches!(round.phase, Phase::Guessing);

    // who guesses
    ui.horizontal_wrapped(|ui| {
        ui.label("guesser (W):");
        for (i, name) in round.guessers.iter().enumerate() {
            let text = egui::RichText::new(name).color(guesser_color(i));
            if ui.selectable_label(i == round.guesser, text).clicked() {
                out.push(PredictRequest::SelectGuesser(i));
            }
        }
    });
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut round.new_name)
                .hint_text("name or initials")
                .desired_width(120.0),
        );
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button("Add guesser").clicked() || entered) && !round.new_name.trim().is_empty() {
            out.push(PredictRequest::AddGuesser(std::mem::take(
                &mut round.new_name,
            )));
        }
    });
    ui.separator();

    let color_of = |guesser: &str| {
        round
            .guessers
            .iter()
            .position(|g| g == guesser)
            .map_or(egui::Color32::GRAY, guesser_color)
    };
    let reveal = round.reveal();
    if question.is_choice() {
        for (n, option) in question.options(scene).iter().enumerate() {
            ui.horizontal(|ui| {
                let right = reveal.map(|r| r.truth.correct.contains(&n));
                let text = match right {
                    Some(true) => {
                        egui::RichText::new(format!("{} · {option}  ✔ the answer", n + 1)).strong()
                    }
                    _ => egui::RichText::new(format!("{} · {option}", n + 1)),
                };
                if ui.add_enabled(guessing, egui::Button::new(text)).clicked() {
                    out.push(PredictRequest::Pick(n));
                }
                for g in &round.guesses.guesses {
                    if g.answer == Answer::Choice(n) {
                        ui.colored_label(color_of(&g.guesser), initials(&g.guesser))
                            .on_hover_text(&g.guesser);
                    }
                }
            });
        }
    } else {
        let asked = question.guessed_optimizers(scene);
        ui.label(format!(
            "Click on the top view where each optimizer will be after {} steps (digits choose which):",
            question.steps()
        ));
        ui.horizontal_wrapped(|ui| {
            for (slot, &i) in asked.iter().enumerate() {
                let Some(spec) = scene.optimizers.get(i) else {
                    continue;
                };
                let color = colors.get(i).copied().unwrap_or(egui::Color32::GRAY);
                let text =
                    egui::RichText::new(format!("{} · {}", slot + 1, spec.name)).color(color);
                if ui
                    .add_enabled(
                        guessing,
                        egui::Button::new(text).selected(i == round.optimizer),
                    )
                    .clicked()
                {
                    out.push(PredictRequest::Pick(slot));
                }
            }
        });
        let placed = round
            .guesses
            .guesses
            .iter()
            .filter(|g| g.guesser == round.current_guesser())
            .count();
        ui.small(format!(
            "{} has placed {placed} of {} points",
            round.current_guesser(),
            asked.len()
        ));
    }
    if let Some(message) = &round.message {
        ui.colored_label(ui.visuals().warn_fg_color, message);
    }
    ui.separator();

    match &round.phase {
        Phase::Guessing => {
            ui.horizontal(|ui| {
                if ui.button("Reveal (Enter)").clicked() {
                    out.push(PredictRequest::Reveal);
                }
                if ui.button("Clear guesses").clicked() {
                    out.push(PredictRequest::Clear);
                }
                if ui.button("Leave (Q)").clicked() {
                    out.push(PredictRequest::Toggle);
                }
            });
        }
        Phase::Revealing { steps, .. } => {
            ui.label(format!("playing the runs to step {steps} ..."));
        }
        Phase::Revealed(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("no answer: {e}"));
        }
        Phase::Revealed(Ok(reveal)) => {
            revealed_ui(ui, question, scene, reveal, &color_of);
        }
    }
    if matches!(round.phase, Phase::Revealed(_)) {
        ui.horizontal(|ui| {
            if ui.button("New round (Enter)").clicked() {
                out.push(PredictRequest::NewRound);
            }
            if ui.button("Leave (Q)").clicked() {
                out.push(PredictRequest::Toggle);
            }
        });
    }
    out
}

/// The answer, each guess against it, the tallies and the explanation.
fn revealed_ui(
    ui: &mut egui::Ui,
    question: &Question,
    scene: &Scene,
    reveal: &Reveal,
    color_of: &dyn Fn(&str) -> egui::Color32,
) {
    if question.is_choice() {
        let options = question.options(scene);
        let answer: Vec<&str> = reveal
            .truth
            .correct
            .iter()
            .filter_map(|&i| options.get(i).map(String::as_str))
            .collect();
        ui.label(egui::RichText::new(format!("Answer: {}", answer.join(", "))).strong());
    } else {
        ui.label(egui::RichText::new(format!("After {} steps:", reveal.truth.steps)).strong());
        for row in &reveal.truth.board.rows {
            ui.small(format!("{} at {}", row.name, point(row.score.final_pos)));
        }
    }
    egui::Grid::new("guesses").striped(true).show(ui, |ui| {
        for scored in &reveal.scored {
            ui.colored_label(color_of(&scored.guess.guesser), &scored.guess.guesser);
            match (scored.guess.answer, scored.verdict) {
                (Answer::Point { optimizer, .. }, Verdict::Distance { distance, .. }) => {
                    let name = scene
                        .optimizers
                        .get(optimizer)
                        .map_or("?", |o| o.name.as_str());
                    ui.label(format!("{name}: off by {}", num(distance)));
                }
                (_, Verdict::Right) => {
                    ui.label("✔ right");
                }
                _ => {
                    ui.label("✘ wrong");
                }
            }
            ui.end_row();
        }
    });
    let tallies = reveal.tallies();
    if tallies.len() > 1 {
        ui.label(egui::RichText::new("Tallies").strong());
        egui::Grid::new("tallies").striped(true).show(ui, |ui| {
            for t in &tallies {
                ui.colored_label(color_of(&t.guesser), &t.guesser);
                if question.is_choice() {
                    ui.label(format!("{} right, {} wrong", t.right, t.wrong));
                } else {
                    ui.label(
                        t.mean_distance
                            .map_or("-".into(), |d| format!("mean distance {}", num(d))),
                    );
                }
                ui.end_row();
            }
        });
    }
    ui.separator();
    ui.label(&question.explanation);
}

/// The predict window's size before egui has laid it out (egui points).
const PREDICT_WINDOW: egui::Vec2 = egui::vec2(320.0, 300.0);

/// Draws the round's window over the views while predict mode is on: placed where it hides the fewest
/// runs each time predict mode opens and whenever the views change shape, as tall as its content up to
/// the height of a view (it scrolls beyond), so that it stays inside the view it was placed over.
pub fn predict_window(
    mut contexts: EguiContexts,
    mut round: ResMut<Round>,
    mode: Res<PredictMode>,
    current: Res<CurrentScene>,
    landscape: Res<ActiveLandscape>,
    rects: Res<ViewRects>,
    prefs: Res<UiPrefs>,
    optimizers: Query<&Optimizer>,
    marks: Query<&crate::optimizers::visuals::Marks>,
    mut spot: Local<crate::paint::WindowSpot>,
    mut requests: MessageWriter<PredictRequest>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let scene = scene_on_screen(&current, &landscape, optimizers.iter());
    let colors: Vec<egui::Color32> = optimizers
        .iter()
        .map(|o| egui_color(o.spec.color))
        .collect();
    let scale = prefs.ui_scale.max(0.1);
    if mode.is_changed() {
        // predict mode just opened: the runs are back at their starts, find a free place again
        spot.closed();
    }
    let title = "Predict, then reveal";
    let views = rects.clips(scale);
    // the tallest view less its caption, axis values and the window's title bar
    let tallest = views.iter().map(|v| v.height()).fold(0.0, f32::max);
    let max_content = (tallest - 130.0).max(120.0);
    let mut window = egui::Window::new(title)
        .default_width(PREDICT_WINDOW.x)
        .resizable(false);
    // in the corner of a view the runs leave free, again whenever the views change shape
    let points = crate::optimizers::visuals::runs_on_screen(marks.iter());
    if let Some(at) = spot.place(&ctx, egui::Id::new(title), PREDICT_WINDOW, &views, &points) {
        window = window.current_pos(at);
    }
    let asked = window
        .show(&ctx, |ui| {
            // a scroll area that shrinks to its content (the window's own does not)
            egui::ScrollArea::vertical()
                .max_height(max_content)
                .show(ui, |ui| round_ui(ui, &mut round, &scene, &colors))
                .inner
        })
        .and_then(|r| r.inner)
        .unwrap_or_default();
    requests.write_batch(asked);
    Ok(())
}

/// The guesses over both views: a dot in the guesser's colour ringed in the optimizer's, with initials;
/// once revealed, a line from each point guess to where the optimizer really is.
pub fn paint_guesses(
    mut contexts: EguiContexts,
    round: Res<Round>,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    optimizers: Query<&Optimizer>,
) -> Result {
    let points: Vec<(usize, Vec2d, &str)> = round
        .guesses
        .guesses
        .iter()
        .filter_map(|g| match g.answer {
            Answer::Point { optimizer, at } => Some((optimizer, at, g.guesser.as_str())),
            Answer::Choice(_) => None,
        })
        .collect();
    if points.is_empty() {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let colors: Vec<egui::Color32> = optimizers
        .iter()
        .map(|o| egui_color(o.spec.color))
        .collect();
    let color_of = |guesser: &str| {
        round
            .guessers
            .iter()
            .position(|g| g == guesser)
            .map_or(egui::Color32::GRAY, guesser_color)
    };
    for (view, camera, transform) in &cameras {
        let Some(rect) = rects.get(*view) else {
            continue;
        };
        let (painter, clip) = view_painter(ctx, *view, rect, prefs.ui_scale, ViewLayer::Readout);
        let projection = ViewProjection::of_camera(*view, camera, transform, clip);
        let screen = |p: Vec2d| {
            projection
                .project(place(&frame, &landscape.0, *view, p, 0.05))
                .map(|(px, _)| px)
        };
        if let Some(reveal) = round.reveal() {
            for scored in &reveal.scored {
                let (Answer::Point { optimizer, at }, Verdict::Distance { truth, distance }) =
                    (scored.guess.answer, scored.verdict)
                else {
                    continue;
                };
                let (Some(a), Some(b)) = (screen(at), screen(truth)) else {
                    continue;
                };
                let color = color_of(&scored.guess.guesser);
                painter.line_segment([a, b], egui::Stroke::new(2.0, color));
                let ring = colors
                    .get(optimizer)
                    .copied()
                    .unwrap_or(egui::Color32::GRAY);
                painter.circle_stroke(b, 9.0, egui::Stroke::new(2.5, ring));
                outlined(
                    &painter,
                    a.lerp(b, 0.5),
                    egui::Align2::LEFT_BOTTOM,
                    &num_digits(distance, 3),
                    color,
                    13.0,
                );
            }
        }
        for &(optimizer, at, guesser) in &points {
            let Some(px) = screen(at) else {
                continue;
            };
            let ring = colors
                .get(optimizer)
                .copied()
                .unwrap_or(egui::Color32::GRAY);
            painter.circle(px, 6.0, color_of(guesser), egui::Stroke::new(2.5, ring));
            outlined(
                &painter,
                px + egui::vec2(8.0, -8.0),
                egui::Align2::LEFT_BOTTOM,
                &initials(guesser),
                color_of(guesser),
                13.0,
            );
        }
    }
    Ok(())
}
