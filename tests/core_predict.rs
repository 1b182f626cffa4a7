//! Predict mode's core: each built-in lesson's question has the answer its explanation gives, and guesses
//! are scored against the truth computed headless.

use losscape::core::lessons;
use losscape::core::predict::{Answer, Guess, Guesses, Reveal, Verdict, compute_truth};
use losscape::core::scoreboard::ScoreSettings;

fn truth_of(name: &str) -> (losscape::core::scene::Scene, losscape::core::Truth) {
    let scene = lessons::preset(name).unwrap();
    let q = scene.question.clone().unwrap();
    let truth = compute_truth(&scene, &q, &ScoreSettings::default()).unwrap();
    (scene, truth)
}

fn right_option(name: &str) -> String {
    let (scene, truth) = truth_of(name);
    let options = scene.question.as_ref().unwrap().options(&scene);
    assert_eq!(truth.correct.len(), 1, "{name}: one right option");
    options[truth.correct[0]].clone()
}

/// The answers the lesson files' explanations give.
#[test]
fn choice_questions_have_the_answers_their_explanations_give() {
    assert_eq!(right_option("saddle"), "no", "momentum stays on the saddle");
    assert_eq!(
        right_option("ravine"),
        "no",
        "SGD does not diverge at eta 20 = 1.8"
    );
    assert_eq!(right_option("plateau"), "RMSProp");
    assert_eq!(right_option("beale"), "Momentum");
}

#[test]
fn point_questions_are_where_the_explanations_say() {
    let near = |p: [f64; 2], q: [f64; 2], tol: f64| (p[0] - q[0]).hypot(p[1] - q[1]) < tol;
    let (_, t) = truth_of("rosenbrock");
    let at: Vec<[f64; 2]> = t.board.rows.iter().map(|r| r.score.final_pos).collect();
    assert!(near(at[3], [0.67, 0.44], 0.02), "Adam {:?}", at[3]);
    assert!(near(at[0], [-1.11, 1.25], 0.02), "SGD {:?}", at[0]);
    let (_, t) = truth_of("rastrigin");
    let e = t.board.rows.iter().find(|r| r.name == "E").unwrap();
    assert!(
        near(e.score.final_pos, [1.0, 0.0], 0.01),
        "E ends near (1, 0)"
    );
    // only F, which starts in the origin's own dip, reaches the global minimum
    for r in &t.board.rows {
        assert_eq!(
            r.score.steps_to_target.is_some(),
            r.name == "F",
            "{}",
            r.name
        );
    }
    let (_, t) = truth_of("bias-correction");
    assert!(near(t.board.rows[0].score.final_pos, [0.48, -0.70], 0.02));
    assert!(near(t.board.rows[1].score.final_pos, [-1.22, 0.50], 0.02));
    let (_, t) = truth_of("minibatch");
    let b1 = t.board.rows.iter().find(|r| r.name == "B = 1").unwrap();
    assert!(near(b1.score.final_pos, [2.04, -1.03], 0.3));
    assert!(!near(b1.score.final_pos, [2.04, -1.03], 0.1), "it jitters");
}

#[test]
fn a_round_of_guesses_is_scored() {
    let (scene, truth) = truth_of("beale");
    let q = scene.question.clone().unwrap();
    let mut guesses = Guesses::default();
    for (who, option) in [("AB", 3), ("CD", 1), ("room", 4), ("CD", 1)] {
        guesses
            .place(
                &q,
                &scene,
                Guess {
                    guesser: who.into(),
                    answer: Answer::Choice(option),
                },
            )
            .unwrap();
    }
    let reveal = Reveal::new(&q, truth, &guesses);
    let verdicts: Vec<(&str, Verdict)> = reveal
        .scored
        .iter()
        .map(|s| (s.guess.guesser.as_str(), s.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("AB", Verdict::Wrong),
            ("room", Verdict::Wrong),
            ("CD", Verdict::Right)
        ]
    );
    let tallies = reveal.tallies();
    assert_eq!(tallies[0].guesser, "CD");
    assert_eq!(tallies[0].right, 1);

    // points on the top view: every optimizer, distance to the truth
    let (scene, truth) = truth_of("bias-correction");
    let q = scene.question.clone().unwrap();
    let mut guesses = Guesses::default();
    for (i, at) in [[0.0, 0.0], [-1.2245, 0.5016]].into_iter().enumerate() {
        guesses
            .place(
                &q,
                &scene,
                Guess {
                    guesser: "JS".into(),
                    answer: Answer::Point { optimizer: i, at },
                },
            )
            .unwrap();
    }
    let reveal = Reveal::new(&q, truth.clone(), &guesses);
    for (s, row) in reveal.scored.iter().zip(&truth.board.rows) {
        let Verdict::Distance { truth, distance } = s.verdict else {
            panic!("points get distances")
        };
        assert_eq!(truth, row.score.final_pos);
        let Answer::Point { at, .. } = s.guess.answer else {
            panic!()
        };
        assert_eq!(distance, (at[0] - truth[0]).hypot(at[1] - truth[1]));
    }
    let Verdict::Distance { distance, .. } = reveal.scored[1].verdict else {
        panic!()
    };
    assert!(distance < 0.01);
}

#[test]
fn the_truth_is_deterministic() {
    let scene = lessons::preset("saddle").unwrap();
    let q = scene.question.clone().unwrap();
    let a = compute_truth(&scene, &q, &ScoreSettings::default()).unwrap();
    let b = compute_truth(&scene, &q, &ScoreSettings::default()).unwrap();
    assert_eq!(a, b);
}
