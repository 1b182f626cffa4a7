//! Scene files and the built-in lessons: round trip, every lesson runs, broken files get clear messages.

use losscape::core::{
    Landscape, LandscapeSpec, RunStatus,
    lessons::{self, PRESETS},
    run::SceneRun,
    scene::{SCENE_VERSION, Scene, SceneError},
};
use std::sync::Arc;

fn saddle() -> Scene {
    lessons::preset("saddle").expect("the saddle lesson loads")
}

#[test]
fn scene_round_trip_is_identical() {
    for preset in PRESETS {
        let scene = lessons::preset(preset.name).expect("lesson loads");
        let text = scene.to_ron().expect("serialises");
        let back = Scene::from_ron(&text).expect("reads back");
        assert_eq!(scene, back, "{} changed in a round trip", preset.name);
    }
}

/// Every lesson loads and runs 200 steps; none diverges (none is meant to).
#[test]
fn every_lesson_runs_200_steps_without_divergence() {
    assert_eq!(PRESETS.len(), 12);
    for preset in PRESETS {
        let scene = lessons::preset(preset.name).expect("lesson loads");
        assert!(
            !scene.optimizers.is_empty(),
            "{} has optimizers",
            preset.name
        );
        assert!(
            !scene.description.is_empty(),
            "{} explains itself",
            preset.name
        );
        let landscape =
            Arc::new(Landscape::new(scene.landscape.clone()).expect("landscape builds"));
        for spec in &scene.optimizers {
            // a network lesson's runs train the network's weights, a landscape's walk (x, y)
            let mut runner = SceneRun::new(&landscape, spec).expect("valid run");
            for _ in 0..200 {
                if runner.step().is_none() {
                    break;
                }
            }
            assert!(
                !matches!(runner.status(), RunStatus::Diverged { .. }),
                "{} / {}: {}",
                preset.name,
                spec.name,
                runner.status()
            );
            let p = runner.position();
            assert!(p[0].is_finite() && p[1].is_finite());
        }
    }
}

#[test]
fn unknown_lesson_lists_the_valid_ones() {
    let err = lessons::preset("nope").unwrap_err().to_string();
    assert!(err.contains("unknown lesson 'nope'"), "{err}");
    assert!(
        err.contains("saddle") && err.contains("bias-correction"),
        "{err}"
    );
}

fn parse_error(text: &str) -> (usize, String) {
    match Scene::from_ron(text) {
        Err(SceneError::Parse { line, message, .. }) => (line, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn invalid(text: &str) -> String {
    match Scene::from_ron(text) {
        Err(SceneError::Invalid(message)) => message,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn truncated_file_names_a_line() {
    let text = saddle().to_ron().unwrap();
    // the file ends after its line n, part way through the scene: the error is at its end, line n
    for n in [20, 40, text.lines().count() / 2] {
        let cut = text.lines().take(n).collect::<Vec<_>>().join("\n");
        let (line, message) = parse_error(&cut);
        assert_eq!(line, n, "{message}");
        assert!(message.contains("Unexpected end"), "{message}");
    }
}

#[test]
fn wrong_type_names_the_line_of_the_problem() {
    let text = saddle().to_ron().unwrap();
    let bad = text.replacen("steps_per_second: 40.0", "steps_per_second: \"fast\"", 1);
    assert_ne!(bad, text, "the preset has the field to break");
    let (line, message) = parse_error(&bad);
    let expected_line = bad.lines().position(|l| l.contains("\"fast\"")).unwrap() + 1;
    assert_eq!(line, expected_line, "{message}");
}

#[test]
fn unknown_fields_are_reported_not_ignored() {
    let text = saddle().to_ron().unwrap();
    let bad = text.replacen("title:", "colour_scheme: 3,\n    title:", 1);
    let (_, message) = parse_error(&bad);
    assert!(message.contains("colour_scheme"), "{message}");
}

#[test]
fn out_of_range_values_say_which_field() {
    let mut scene = saddle();
    scene.optimizers[0].hyper.lr = -1.0;
    let message = invalid(&scene.to_ron().unwrap());
    assert!(
        message.contains("optimizers[0]") && message.contains("eta"),
        "{message}"
    );

    let mut scene = saddle();
    scene.optimizers[1].hyper.beta_m = 1.5;
    let message = invalid(&scene.to_ron().unwrap());
    assert!(
        message.contains("optimizers[1]") && message.contains("beta_m"),
        "{message}"
    );

    let mut scene = saddle();
    scene.surface.resolution = 5000;
    assert!(invalid(&scene.to_ron().unwrap()).contains("resolution"));

    let mut scene = saddle();
    scene.steps_per_second = 0.0;
    assert!(invalid(&scene.to_ron().unwrap()).contains("steps_per_second"));
}

#[test]
fn a_file_from_a_newer_version_says_so() {
    let mut scene = saddle();
    scene.version = SCENE_VERSION + 1;
    let message = invalid(&scene.to_ron().unwrap());
    assert!(message.contains("newer losscape"), "{message}");
}

#[test]
fn every_lesson_has_a_question_that_round_trips_through_ron() {
    use losscape::core::predict::{Ask, Question};
    for preset in PRESETS {
        let scene = lessons::preset(preset.name).expect("lesson loads");
        let question = scene
            .question
            .as_ref()
            .unwrap_or_else(|| panic!("{} asks a question", preset.name));
        assert!(!question.explanation.is_empty());
        let text = scene.to_ron().expect("serialises");
        assert!(text.contains("question:"), "{text}");
        assert_eq!(Scene::from_ron(&text).expect("reads back"), scene);
    }
    // a question with every field, alone
    let q = Question {
        ask: Ask::EscapeSaddle {
            optimizer: "Momentum".into(),
            saddle: [0.0, 0.0],
            steps: 300,
        },
        prompt: "Will it get off the ridge?".into(),
        explanation: "No: the average of tiny gradients is tiny.".into(),
    };
    let text = ron::ser::to_string_pretty(&q, ron::ser::PrettyConfig::default()).unwrap();
    assert_eq!(ron::from_str::<Question>(&text).unwrap(), q);
    let mut scene = saddle();
    scene.question = Some(q);
    assert_eq!(
        Scene::from_ron(&scene.to_ron().unwrap()).unwrap(),
        scene,
        "with a prompt"
    );
}

#[test]
fn a_version_1_file_without_a_question_still_loads() {
    let mut scene = saddle();
    scene.question = None;
    scene.version = SCENE_VERSION;
    let text = scene.to_ron().unwrap();
    assert!(!text.contains("question"), "no question, no field: {text}");
    let old = text.replacen(&format!("version: {SCENE_VERSION},"), "version: 1,", 1);
    assert_ne!(old, text);
    let back = Scene::from_ron(&old).expect("a version 1 file loads");
    assert_eq!(back.version, 1);
    assert_eq!(back.question, None);
}

#[test]
fn a_question_about_a_missing_optimizer_is_refused() {
    use losscape::core::predict::Ask;
    let mut scene = saddle();
    if let Some(q) = &mut scene.question {
        q.ask = Ask::Diverge {
            optimizer: "Newton".into(),
            steps: 10,
        };
    }
    let message = invalid(&scene.to_ron().unwrap());
    assert!(
        message.contains("question") && message.contains("Adam"),
        "{message}"
    );
    let mut scene = saddle();
    if let Some(q) = &mut scene.question {
        q.ask = Ask::FirstToMinimum { steps: 0 };
    }
    assert!(invalid(&scene.to_ron().unwrap()).contains("steps"));
}

#[test]
fn a_scene_on_a_typed_formula_keeps_its_optimizers_at_usable_starts() {
    let saddle = losscape::core::lessons::preset("saddle").unwrap();
    let spec = LandscapeSpec::formula(
        "x^2 + y^2 + ln(x + 2)",
        losscape::core::landscape::DEFAULT_FORMULA_DOMAIN,
    );
    let scene = saddle.clone().on_landscape(spec.clone()).unwrap();
    assert_eq!(scene.landscape, spec);
    assert_eq!(scene.optimizers.len(), saddle.optimizers.len());
    assert!(
        scene.question.is_none(),
        "the lesson's question was about its own landscape"
    );
    assert!(scene.title.starts_with("f(x, y) = x^2"));
    let landscape = Landscape::new(spec).unwrap();
    for optimizer in &scene.optimizers {
        assert!(
            landscape.usable_start(optimizer.start),
            "{:?}",
            optimizer.start
        );
    }
    scene.validate().unwrap();
    // a formula with a mistake is refused with its column
    let bad = saddle.on_landscape(LandscapeSpec::formula(
        "x^2 + sinn(y)",
        losscape::core::landscape::DEFAULT_FORMULA_DOMAIN,
    ));
    let message = bad.unwrap_err().with_caret("");
    assert!(
        message.contains("unknown function 'sinn' at column 7"),
        "{message}"
    );
    assert!(message.ends_with("      ^^^^"), "{message}");
}

/// Format 4 adds claims: they round-trip, a scene without them leaves the field out and older files
/// load without it; a claim naming a missing optimizer is refused, and moving the scene to another
/// landscape drops the claims with the question.
#[test]
fn claims_round_trip_and_are_checked_on_load() {
    use losscape::core::claims::Claim;
    let scene = saddle();
    const { assert!(SCENE_VERSION >= 4) };
    assert!(!scene.claims.is_empty());
    let text = scene.to_ron().unwrap();
    assert!(text.contains("claims: ["), "{text}");
    assert_eq!(Scene::from_ron(&text).unwrap(), scene);

    let mut bare = scene.clone();
    bare.claims.clear();
    let text = bare.to_ron().unwrap();
    assert!(!text.contains("claims"), "no claims, no field: {text}");
    let old = text.replacen("version: 4,", "version: 3,", 1);
    assert_eq!(Scene::from_ron(&old).unwrap().claims, Vec::<Claim>::new());

    let mut wrong = scene.clone();
    wrong.claims.push(Claim {
        say: "Lion wins".into(),
        check: "to_target('Lion') < to_target('SGD')".into(),
        steps: 100,
    });
    let err = wrong.validate().unwrap_err();
    assert!(
        err.contains("no optimizer is named 'Lion'") && err.contains("column 11"),
        "{err}"
    );
    let mut zero = scene.clone();
    zero.claims[0].steps = 0;
    assert!(zero.validate().unwrap_err().contains("steps = 0"));

    let moved = scene
        .on_landscape(losscape::core::LandscapeSpec::Himmelblau)
        .unwrap();
    assert!(moved.claims.is_empty() && moved.question.is_none());
}
