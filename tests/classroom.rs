//! The classroom, headless: predict mode hides the future (no ghost path, the runs back at their starts,
//! no answer) until Reveal, which plays the runs to the question's step and scores every guess against
//! the truth; the live scoreboard equals `score_scene` (what `losscape compare` prints) after N steps, a
//! restart and a timeline branch.

#![cfg(feature = "app")]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use bevy::prelude::*;
use losscape::classroom::{self, PredictRequest, Round, RunScore};
use losscape::core::{
    Landscape, Verdict, compute_truth, lessons,
    scene::Scene,
    scoreboard::{ScoreSettings, score_scene},
};
use losscape::geometry::ViewKind;
use losscape::interaction::{ActiveDrag, DragState, Ghosts, drag_plugin};
use losscape::optimizers::{Optimizer, Playback, RestartRuns, simulation_plugin};
use losscape::state::{ActiveLandscape, CurrentScene, PredictMode};

/// The simulation, dragging and the classroom with `scene` on screen; its optimizers in scene order.
fn app_with(scene: &Scene) -> (App, Vec<Entity>) {
    let mut app = common::headless_app();
    let land = Arc::new(Landscape::new(scene.landscape.clone()).expect("a valid landscape"));
    app.add_plugins((simulation_plugin, drag_plugin, classroom::headless_plugin))
        .insert_resource(ActiveLandscape(land.clone()))
        .insert_resource(CurrentScene {
            title: scene.title.clone(),
            question: scene.question.clone(),
            ..default()
        });
    app.update(); // first update: time starts
    let entities = common::spawn_runs(&mut app, &scene.optimizers, &land);
    app.update();
    (app, entities)
}

fn request(app: &mut App, r: PredictRequest) {
    app.world_mut().write_message(r);
    app.update();
}

fn drag(app: &mut App, entity: Entity, start: [f64; 2]) {
    app.world_mut().resource_mut::<DragState>().active = Some(ActiveDrag {
        optimizer: entity,
        view: ViewKind::Top,
        start,
        all: false,
    });
    app.update();
}

fn ghost_shown(app: &App) -> bool {
    app.world().resource::<Ghosts>().0.values().any(|g| g.shown)
}

fn steps(app: &App, entities: &[Entity]) -> Vec<u64> {
    entities
        .iter()
        .map(|e| app.world().get::<Optimizer>(*e).expect("optimizer").steps())
        .collect()
}

#[test]
fn predict_mode_hides_the_future_until_reveal_scores_the_guesses() {
    let scene = lessons::preset("rosenbrock").expect("a built-in lesson");
    let question = scene.question.clone().expect("every lesson has a question");
    assert!(
        !question.is_choice(),
        "the rosenbrock lesson asks for points"
    );
    let k = question.steps();
    let (mut app, entities) = app_with(&scene);

    // outside predict mode a drag shows the ghost; the runs play
    drag(&mut app, entities[0], [-1.0, 1.5]);
    assert!(ghost_shown(&app), "a dragged start shows its ghost");
    app.world_mut().resource_mut::<DragState>().active = None;
    app.world_mut().resource_mut::<Playback>().queued_steps = 20;
    app.update();
    assert!(steps(&app, &entities).iter().all(|&s| s > 0));

    // predict mode: the runs back at their starts, no ghost, no answer
    request(&mut app, PredictRequest::Toggle);
    assert!(app.world().resource::<PredictMode>().on);
    assert!(steps(&app, &entities).iter().all(|&s| s == 0));
    drag(&mut app, entities[0], [-1.0, 1.5]);
    assert!(!ghost_shown(&app), "predict mode shows no ghost path");
    app.world_mut().resource_mut::<DragState>().active = None;
    app.update();

    // two guessers place points; the first click goes to the first optimizer, the next to the second
    request(&mut app, PredictRequest::Place([1.0, 1.0]));
    request(&mut app, PredictRequest::AddGuesser("AB".into()));
    request(&mut app, PredictRequest::Pick(0));
    request(&mut app, PredictRequest::Place([0.0, 0.5]));
    request(&mut app, PredictRequest::Place([-0.5, 0.5]));
    {
        let round = app.world().resource::<Round>();
        assert_eq!(round.guesses.guesses.len(), 3, "{:?}", round.message);
        assert_eq!(round.guesses.guessers(), ["Room", "AB"]);
        assert!(round.reveal().is_none(), "no answer before Reveal");
    }
    for _ in 0..10 {
        app.update();
    }
    assert!(
        steps(&app, &entities).iter().all(|&s| s == 0),
        "nothing moves while the class guesses"
    );
    assert!(app.world().resource::<Round>().reveal().is_none());

    // Reveal: the runs play to K, then every guess is scored against the truth
    request(&mut app, PredictRequest::Reveal);
    assert!(app.world().resource::<Round>().reveal().is_none());
    for _ in 0..1000 {
        if app.world().resource::<Round>().reveal().is_some() {
            break;
        }
        app.update();
    }
    let expected = compute_truth(&scene, &question, &ScoreSettings::default()).expect("a truth");
    let round = app.world().resource::<Round>();
    let reveal = round.reveal().expect("revealed");
    assert_eq!(reveal.truth, expected);
    assert_eq!(reveal.scored.len(), 3);
    for scored in &reveal.scored {
        let losscape::core::Answer::Point { optimizer, at } = scored.guess.answer else {
            panic!("point guesses")
        };
        let Verdict::Distance { truth, distance } = scored.verdict else {
            panic!("a point guess gets a distance")
        };
        assert_eq!(truth, expected.board.rows[optimizer].score.final_pos);
        assert_eq!(distance, (at[0] - truth[0]).hypot(at[1] - truth[1]));
    }
    // the runs on screen stand where the truth says
    for (i, e) in entities.iter().enumerate() {
        let o = app.world().get::<Optimizer>(*e).expect("optimizer");
        assert!(o.steps() == k || !o.is_running(), "{}", o.spec.name);
        assert_eq!(o.position(), expected.board.rows[i].score.final_pos);
    }

    // Enter again: a new round, the answer hidden again; Q leaves and ghosts come back
    request(&mut app, PredictRequest::Reveal);
    let round = app.world().resource::<Round>();
    assert!(round.reveal().is_none() && round.guesses.guesses.is_empty());
    request(&mut app, PredictRequest::Toggle);
    assert!(!app.world().resource::<PredictMode>().on);
    drag(&mut app, entities[0], [-1.0, 1.5]);
    assert!(ghost_shown(&app));
}

#[test]
fn a_choice_question_is_scored_right_or_wrong() {
    let scene = lessons::preset("ravine").expect("a built-in lesson");
    let question = scene.question.clone().expect("a question");
    assert!(question.is_choice());
    let (mut app, _) = app_with(&scene);
    request(&mut app, PredictRequest::Toggle);
    request(&mut app, PredictRequest::Pick(0));
    request(&mut app, PredictRequest::AddGuesser("CD".into()));
    request(&mut app, PredictRequest::Pick(1));
    request(&mut app, PredictRequest::Reveal);
    for _ in 0..1000 {
        if app.world().resource::<Round>().reveal().is_some() {
            break;
        }
        app.update();
    }
    let truth = compute_truth(&scene, &question, &ScoreSettings::default()).expect("a truth");
    let reveal = app
        .world()
        .resource::<Round>()
        .reveal()
        .expect("revealed")
        .clone();
    assert_eq!(reveal.scored.len(), 2);
    for scored in &reveal.scored {
        let losscape::core::Answer::Choice(n) = scored.guess.answer else {
            panic!("choices")
        };
        let right = truth.correct.contains(&n);
        assert_eq!(
            scored.verdict,
            if right {
                Verdict::Right
            } else {
                Verdict::Wrong
            }
        );
    }
    assert_eq!(reveal.tallies().len(), 2);
}

/// The scoreboard's rows, in scene order.
fn rows(app: &App, entities: &[Entity]) -> Vec<losscape::core::scoreboard::ScoreRow> {
    entities
        .iter()
        .map(|e| {
            app.world()
                .get::<RunScore>(*e)
                .expect("a score")
                .row
                .clone()
        })
        .collect()
}

#[test]
fn the_live_scoreboard_equals_score_scene() {
    for name in ["beale", "saddle"] {
        let scene = lessons::preset(name).expect("a built-in lesson");
        let (mut app, entities) = app_with(&scene);
        let settings = ScoreSettings::default();
        // 150 steps, 10 a tick
        for _ in 0..15 {
            app.world_mut().resource_mut::<Playback>().queued_steps = 10;
            app.update();
        }
        app.update();
        let expected = score_scene(&scene, 150, &settings, None).expect("a board");
        assert_eq!(
            rows(&app, &entities),
            expected.rows,
            "{name} after 150 steps"
        );

        // a timeline branch at step 60 replays the score there
        for e in &entities {
            app.world_mut()
                .get_mut::<Optimizer>(*e)
                .expect("optimizer")
                .branch_at(60)
                .expect("a branch");
        }
        app.update();
        let expected = score_scene(&scene, 60, &settings, None).expect("a board");
        assert_eq!(
            rows(&app, &entities),
            expected.rows,
            "{name} after a branch"
        );

        // a restart starts the score over
        app.world_mut().write_message(RestartRuns);
        app.update();
        app.update();
        let expected = score_scene(&scene, 0, &settings, None).expect("a board");
        assert_eq!(
            rows(&app, &entities),
            expected.rows,
            "{name} after a restart"
        );
    }
}

/// The panel's scoreboard: a click on a header sorts by that column (best first), a second reverses it;
/// Export CSV writes the table as shown, to the typed path or the scene's default name, and says why not
/// when it cannot.
#[test]
fn the_scoreboard_sorts_by_a_clicked_column_and_exports_what_it_shows() {
    use losscape::classroom::scoreboard::{
        board, clicked_sort, default_csv_path, export_csv, export_target,
    };
    use losscape::core::scoreboard::{ScoreColumn, SortOrder};
    let scene = lessons::preset("beale").expect("a built-in lesson");
    let (mut app, entities) = app_with(&scene);
    for _ in 0..20 {
        app.world_mut().resource_mut::<Playback>().queued_steps = 10;
        app.update();
    }
    app.update();
    let shown = |app: &mut App| {
        let world = app.world_mut();
        let scores = world.resource::<classroom::Scores>().clone();
        let rows: Vec<RunScore> = world.query::<&RunScore>().iter(world).cloned().collect();
        board(rows.iter(), &scores)
    };
    let losses = |b: &losscape::core::scoreboard::Scoreboard| -> Vec<f64> {
        b.rows.iter().map(|r| r.score.final_loss).collect()
    };
    // unsorted: the panel's order
    let panel = shown(&mut app);
    assert_eq!(panel.rows, rows(&app, &entities));
    // a click on "final loss": lowest first; again: highest first
    let sort = clicked_sort(None, ScoreColumn::FinalLoss);
    assert_eq!(sort, (ScoreColumn::FinalLoss, SortOrder::Ascending));
    app.world_mut().resource_mut::<classroom::Scores>().sort = Some(sort);
    let ascending = shown(&mut app);
    let l = losses(&ascending);
    assert!(l.windows(2).all(|w| w[0] <= w[1]), "{l:?}");
    assert!(l.first() < l.last(), "the runs differ: {l:?}");
    let sort = clicked_sort(Some(sort), ScoreColumn::FinalLoss);
    assert_eq!(sort, (ScoreColumn::FinalLoss, SortOrder::Descending));
    app.world_mut().resource_mut::<classroom::Scores>().sort = Some(sort);
    let descending = shown(&mut app);
    let mut reversed = losses(&ascending);
    reversed.reverse();
    assert_eq!(losses(&descending), reversed);
    // another column starts over, smallest first
    assert_eq!(
        clicked_sort(Some(sort), ScoreColumn::PathLength),
        (ScoreColumn::PathLength, SortOrder::Ascending)
    );

    // the export: the table as shown, in its order, row by row
    let dir = common::temp_dir("scores-csv");
    let path = dir.join("scores.csv");
    let target = export_target(
        &format!("  {}  ", path.display()),
        PathBuf::from("unused.csv"),
    );
    assert_eq!(target, path);
    let (ok, message) = export_csv(&descending.to_csv(), &target);
    assert!(ok, "{message}");
    assert_eq!(message, format!("saved {}", path.display()));
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "optimizer");
    let loss_at = header.iter().position(|&h| h == "final_loss").unwrap();
    let exported: Vec<(String, f64)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_owned(), cells[loss_at].parse().unwrap())
        })
        .collect();
    let expected: Vec<(String, f64)> = descending
        .rows
        .iter()
        .map(|r| (r.name.clone(), r.score.final_loss))
        .collect();
    assert_eq!(exported, expected);
    // nothing typed: the scene's default name; an unwritable place: why, and nothing written
    let current = app.world().resource::<CurrentScene>().clone();
    let default = default_csv_path(&current);
    assert_eq!(export_target("   ", default.clone()), default);
    let bad = std::path::Path::new("/nonexistent-dir/scores.csv");
    let (ok, message) = export_csv(&csv, bad);
    assert!(!ok);
    assert!(
        message.starts_with("could not write /nonexistent-dir/scores.csv")
            && message.ends_with("pick another path"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One HTTP request to the class vote (a new connection, closed after the answer): status and JSON.
fn http(
    to: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(to).expect("the class vote listens");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("a timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// Updates the app until `done` (the server answers on its own thread, a few milliseconds later).
fn update_until(app: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    for _ in 0..500 {
        if done(app) {
            return;
        }
        app.update();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn the_class_votes_on_the_question_from_phones_and_its_result_is_kept() {
    use losscape::classroom::ClassVote;
    use losscape::core::vote::JoinCode;
    use losscape::vote_server::{ServerConfig, VoteServer};

    let scene = lessons::preset("ravine").expect("a built-in lesson");
    let question = scene.question.clone().expect("a question");
    let (mut app, _) = app_with(&scene);
    let server = VoteServer::start(ServerConfig::new(
        "127.0.0.1:0".parse().expect("an address"),
        JoinCode::parse("ROOM42").expect("a code"),
    ))
    .expect("the server starts");
    let to = server.local_addr();
    app.insert_resource(ClassVote::running(server));
    let question_is = |app: &mut App, done: &dyn Fn(&serde_json::Value) -> bool| {
        update_until(app, "the phones' question", |_| {
            done(&http(to, "GET", "/api/question", "").1)
        })
    };

    // outside predict mode the phones wait
    question_is(&mut app, &|q| q["kind"] == "waiting");
    // predict mode: the question, its options, open
    request(&mut app, PredictRequest::Toggle);
    let options = question.options(&scene);
    question_is(&mut app, &|q| q["kind"] == "choice" && q["open"] == true);
    let (_, q) = http(to, "GET", "/api/question", "");
    assert_eq!(q["question"], question.prompt().as_str());
    assert_eq!(q["choices"], serde_json::json!(options));
    let round = q["round"].as_u64().expect("a round");

    // three phones vote (one changes its mind); the tally reaches the app
    for (voter, choice) in [("AB", 0), ("CD", 1), ("EF", 1), ("AB", 1)] {
        let body =
            format!(r#"{{"code":"room42","voter":"{voter}","choice":{choice},"round":{round}}}"#);
        assert_eq!(http(to, "POST", "/api/vote", &body).0, 200, "{voter}");
    }
    update_until(&mut app, "the tally", |app| {
        app.world().resource::<ClassVote>().tally.voted == 3
    });
    assert_eq!(app.world().resource::<ClassVote>().tally.counts, [0, 3]);

    // Reveal closes the round at once; the answer follows once the runs reach it
    request(&mut app, PredictRequest::Reveal);
    let late = r#"{"code":"ROOM42","voter":"GH","choice":0}"#;
    question_is(&mut app, &|q| q["open"] == false);
    assert_eq!(
        http(to, "POST", "/api/vote", late).0,
        409,
        "closed at Reveal"
    );
    update_until(&mut app, "the reveal", |app| {
        app.world().resource::<Round>().reveal().is_some()
    });
    let truth = compute_truth(&scene, &question, &ScoreSettings::default()).expect("a truth");
    question_is(&mut app, &|q| {
        q["answer"] == serde_json::json!(truth.correct)
    });
    update_until(&mut app, "the round's result", |app| {
        !app.world().resource::<ClassVote>().record.rounds.is_empty()
    });
    let record = app.world().resource::<ClassVote>().record.clone();
    let result = &record.rounds[0];
    assert_eq!((result.round, result.voters), (round, 3));
    let right = if truth.correct.contains(&1) { 3 } else { 0 };
    assert_eq!(result.right, Some(right));
    assert!(
        !record.to_csv().contains("AB"),
        "the CSV keeps counts, not names"
    );

    // a new round: the phones see it open and empty
    request(&mut app, PredictRequest::NewRound);
    question_is(&mut app, &|q| {
        q["round"].as_u64() == Some(round + 1) && q["open"] == true
    });
    update_until(&mut app, "the new round's tally", |app| {
        let tally = &app.world().resource::<ClassVote>().tally;
        tally.round == round + 1 && tally.voted == 0 && tally.joined == 3
    });
}
