//! Predict, then reveal: a lesson's question, the class's guesses, the truth computed headless and each
//! guess scored against it. Pure data and functions; the app hides the future, collects the clicks and
//! plays the runs to the answer.
//!
//! A [`Question`] lives in the scene file (`question: Some((ask: ..., explanation: "..."))`). Its
//! [`Ask`] is one of the menu's four: where each optimizer will be after K steps (answered with points
//! on the top view), which reaches the minimum first, will one escape the saddle, will one diverge
//! (answered by picking one of [`Question::options`]). [`compute_truth`] runs the scene for K steps
//! with the scoreboard's definitions; [`Reveal::new`] scores every [`Guess`] against it.

use serde::{Deserialize, Serialize};

use super::landscape::{Landscape, Vec2d};
use super::scene::Scene;
use super::scoreboard::{ScoreSettings, Scoreboard, Target, score_scene};

/// The most steps a question may look ahead (its truth is computed headless, in the background).
pub const MAX_QUESTION_STEPS: u64 = 100_000;

/// What a question asks: the menu of predict mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Ask {
    /// Where will each optimizer (or only the one named) be after `steps` steps? Guessed as points on
    /// the top view; scored by the distance to the truth (param units).
    WhereAfter {
        /// K.
        steps: u64,
        /// Only this optimizer (its name in the scene); `None`: every optimizer.
        #[serde(default)]
        optimizer: Option<String>,
    },
    /// Which optimizer reaches the minimum first, within `steps` steps? 'Reaches' is the scoreboard's
    /// target (within the loss tolerance of the lowest known minimum, or within the radius of a known
    /// minimum). Options: every optimizer, then "none of them". A tie makes each tied one right.
    FirstToMinimum {
        /// K.
        steps: u64,
    },
    /// Will `optimizer` escape the saddle at `saddle` within `steps` steps? Escaped: after `steps`
    /// steps its loss is below the saddle's by more than half the drop from the saddle to the lowest
    /// known minimum (by more than the scoreboard's loss tolerance where the landscape lists no
    /// minimum). Options: yes, no.
    EscapeSaddle {
        /// Its name in the scene.
        optimizer: String,
        /// The saddle point (param space).
        saddle: Vec2d,
        /// K.
        steps: u64,
    },
    /// Will `optimizer` diverge within `steps` steps? Options: yes, no.
    Diverge {
        /// Its name in the scene.
        optimizer: String,
        /// K.
        steps: u64,
    },
}

/// A prediction question and the explanation shown with the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// What is asked.
    pub ask: Ask,
    /// The question as the class reads it; empty: [`Question::prompt`] words it from `ask`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt: String,
    /// Why the answer is what it is, shown after the reveal.
    pub explanation: String,
}

impl Question {
    /// K: how many steps ahead the question looks.
    pub fn steps(&self) -> u64 {
        match &self.ask {
            Ask::WhereAfter { steps, .. }
            | Ask::FirstToMinimum { steps }
            | Ask::EscapeSaddle { steps, .. }
            | Ask::Diverge { steps, .. } => *steps,
        }
    }

    /// Whether it is answered by picking one of [`Self::options`] (else by points on the top view).
    pub fn is_choice(&self) -> bool {
        !matches!(self.ask, Ask::WhereAfter { .. })
    }

    /// The optimizer a question names, by its index in `scene` (`None` when it names none or an
    /// unknown one).
    fn named(&self, scene: &Scene) -> Option<Option<usize>> {
        let name = match &self.ask {
            Ask::WhereAfter { optimizer, .. } => optimizer.as_deref(),
            Ask::FirstToMinimum { .. } => None,
            Ask::EscapeSaddle { optimizer, .. } | Ask::Diverge { optimizer, .. } => {
                Some(optimizer.as_str())
            }
        };
        match name {
            None => Some(None),
            Some(name) => scene
                .optimizers
                .iter()
                .position(|o| o.name == name)
                .map(Some),
        }
    }

    /// The optimizers whose position is guessed (indices into `scene.optimizers`): for
    /// [`Ask::WhereAfter`] every one, or the one named; empty for choice questions.
    pub fn guessed_optimizers(&self, scene: &Scene) -> Vec<usize> {
        match (&self.ask, self.named(scene)) {
            (Ask::WhereAfter { .. }, Some(Some(i))) => vec![i],
            (Ask::WhereAfter { .. }, Some(None)) => (0..scene.optimizers.len()).collect(),
            _ => Vec::new(),
        }
    }

    /// The buttons of a choice question, in order; empty for [`Ask::WhereAfter`].
    pub fn options(&self, scene: &Scene) -> Vec<String> {
        match &self.ask {
            Ask::WhereAfter { .. } => Vec::new(),
            Ask::FirstToMinimum { .. } => scene
                .optimizers
                .iter()
                .map(|o| o.name.clone())
                .chain(std::iter::once("none of them".to_owned()))
                .collect(),
            Ask::EscapeSaddle { .. } | Ask::Diverge { .. } => vec!["yes".into(), "no".into()],
        }
    }

    /// The question as the class reads it: [`Self::prompt`] if set, else worded from the ask.
    pub fn prompt(&self) -> String {
        if !self.prompt.is_empty() {
            return self.prompt.clone();
        }
        match &self.ask {
            Ask::WhereAfter {
                steps,
                optimizer: None,
            } => format!("Where will each optimizer be after {steps} steps?"),
            Ask::WhereAfter {
                steps,
                optimizer: Some(name),
            } => format!("Where will {name} be after {steps} steps?"),
            Ask::FirstToMinimum { steps } => {
                format!("Which one reaches the minimum first (within {steps} steps)?")
            }
            Ask::EscapeSaddle {
                optimizer, steps, ..
            } => format!("Will {optimizer} escape the saddle within {steps} steps?"),
            Ask::Diverge { optimizer, steps } => {
                format!("Will {optimizer} diverge within {steps} steps?")
            }
        }
    }

    /// Checks the question against its scene: K in 1 ..= [`MAX_QUESTION_STEPS`], a named optimizer
    /// exists, the saddle is finite, the explanation is not empty.
    pub fn validate(&self, scene: &Scene) -> Result<(), String> {
        let steps = self.steps();
        if !(1..=MAX_QUESTION_STEPS).contains(&steps) {
            return Err(format!(
                "question: steps must be 1 to {MAX_QUESTION_STEPS}, got {steps}"
            ));
        }
        if self.named(scene).is_none() {
            let names: Vec<&str> = scene.optimizers.iter().map(|o| o.name.as_str()).collect();
            return Err(format!(
                "question: it names an optimizer the scene does not have (the scene's: {})",
                names.join(", ")
            ));
        }
        if let Ask::EscapeSaddle { saddle, .. } = &self.ask
            && !saddle.iter().all(|v| v.is_finite())
        {
            return Err("question: the saddle point must be finite".into());
        }
        if scene.optimizers.is_empty() {
            return Err("question: the scene has no optimizer to ask about".into());
        }
        if self.explanation.trim().is_empty() {
            return Err("question: the explanation must not be empty".into());
        }
        Ok(())
    }
}

/// One guess.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Guess {
    /// Who guessed: a name or initials ("the room" when the teacher guesses for everyone).
    pub guesser: String,
    /// What they said.
    pub answer: Answer,
}

/// What a guess says.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    /// Optimizer `optimizer` (index in the scene) will be at `at` (param space, clicked on the top view).
    Point {
        /// Index into the scene's optimizers.
        optimizer: usize,
        /// The guessed position.
        at: Vec2d,
    },
    /// Option `0` of [`Question::options`].
    Choice(usize),
}

/// The guesses of one round; a new guess replaces the same guesser's earlier guess of the same thing (a
/// choice, or the point for the same optimizer).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Guesses {
    /// In the order they were placed.
    pub guesses: Vec<Guess>,
}

impl Guesses {
    /// Adds `guess` after checking it answers `question` on `scene` (a point for an optimizer that is
    /// guessed, or an existing option); replaces the guesser's earlier guess of the same thing.
    pub fn place(
        &mut self,
        question: &Question,
        scene: &Scene,
        guess: Guess,
    ) -> Result<(), String> {
        match guess.answer {
            Answer::Point { optimizer, at } => {
                if question.is_choice() {
                    return Err("this question is answered by picking an option".into());
                }
                if !question.guessed_optimizers(scene).contains(&optimizer) {
                    return Err(format!("optimizer {optimizer} is not asked about"));
                }
                if !at.iter().all(|v| v.is_finite()) {
                    return Err("the guessed point must be finite".into());
                }
            }
            Answer::Choice(option) => {
                let options = question.options(scene);
                if options.is_empty() {
                    return Err("this question is answered with points on the top view".into());
                }
                if option >= options.len() {
                    return Err(format!(
                        "option {option} does not exist (there are {})",
                        options.len()
                    ));
                }
            }
        }
        let same = |g: &Guess| {
            g.guesser == guess.guesser
                && match (g.answer, guess.answer) {
                    (Answer::Choice(_), Answer::Choice(_)) => true,
                    (Answer::Point { optimizer: a, .. }, Answer::Point { optimizer: b, .. }) => {
                        a == b
                    }
                    _ => false,
                }
        };
        self.guesses.retain(|g| !same(g));
        self.guesses.push(guess);
        Ok(())
    }

    /// The distinct guessers, in the order they first guessed (for colours and the legend).
    pub fn guessers(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for g in &self.guesses {
            if !names.contains(&g.guesser.as_str()) {
                names.push(&g.guesser);
            }
        }
        names
    }

    /// Forgets every guess (a new round).
    pub fn clear(&mut self) {
        self.guesses.clear();
    }
}

/// The answer to a question, from the scene run headless.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// K.
    pub steps: u64,
    /// Every optimizer after K steps (or where it stopped: converged or diverged), in scene order: the
    /// scoreboard at the answer. `score.final_pos` is where each one is.
    pub board: Scoreboard,
    /// For a choice question, the right options (indices into [`Question::options`]; more than one only
    /// for a tie); empty for [`Ask::WhereAfter`].
    pub correct: Vec<usize>,
}

/// Runs `scene` for the question's K steps (with the scoreboard's `settings`) and works out the answer.
/// Deterministic; pure; costs K steps per optimizer (the app calls it in the background).
pub fn compute_truth(
    scene: &Scene,
    question: &Question,
    settings: &ScoreSettings,
) -> Result<Truth, String> {
    question.validate(scene)?;
    let steps = question.steps();
    let board = score_scene(scene, steps, settings, None).map_err(|e| e.to_string())?;
    let named = question.named(scene).flatten();
    let yes_no = |yes: bool| vec![if yes { 0 } else { 1 }];
    let correct = match &question.ask {
        Ask::WhereAfter { .. } => Vec::new(),
        Ask::FirstToMinimum { .. } => {
            let first = board
                .rows
                .iter()
                .filter_map(|r| r.score.steps_to_target)
                .min();
            match first {
                Some(k) => board
                    .rows
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.score.steps_to_target == Some(k))
                    .map(|(i, _)| i)
                    .collect(),
                None => vec![board.rows.len()],
            }
        }
        Ask::EscapeSaddle { saddle, .. } => {
            let landscape = Landscape::new(scene.landscape.clone()).map_err(|e| e.to_string())?;
            let i = named.ok_or("question: unknown optimizer")?;
            yes_no(escaped(
                &landscape,
                settings,
                *saddle,
                board.rows[i].score.final_loss,
            ))
        }
        Ask::Diverge { .. } => {
            let i = named.ok_or("question: unknown optimizer")?;
            yes_no(board.rows[i].score.diverged_at.is_some())
        }
    };
    Ok(Truth {
        steps,
        board,
        correct,
    })
}

/// Whether a run whose loss is now `loss` has escaped the saddle at `saddle` (see
/// [`Ask::EscapeSaddle`]).
pub fn escaped(landscape: &Landscape, settings: &ScoreSettings, saddle: Vec2d, loss: f64) -> bool {
    let saddle_loss = landscape.value(saddle);
    let drop = match Target::new(landscape, settings).min_loss {
        Some(min) if min < saddle_loss => 0.5 * (saddle_loss - min),
        _ => settings.loss_tol,
    };
    loss < saddle_loss - drop
}

/// How one guess fared.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Verdict {
    /// A point guess: where the optimizer really is, and how far the guess was from it (param units).
    Distance {
        /// The optimizer's true position after K steps.
        truth: Vec2d,
        /// Euclidean distance from the guess.
        distance: f64,
    },
    /// A choice guess that picked a right option.
    Right,
    /// A choice guess that picked a wrong option.
    Wrong,
}

/// A guess and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The guess.
    pub guess: Guess,
    /// How it fared.
    pub verdict: Verdict,
}

/// One guesser's results over the round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Who.
    pub guesser: String,
    /// Right choices.
    pub right: u32,
    /// Wrong choices.
    pub wrong: u32,
    /// Mean distance of their point guesses (`None` without any).
    pub mean_distance: Option<f64>,
}

/// The truth and every guess scored against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reveal {
    /// The answer.
    pub truth: Truth,
    /// Each guess that answers the question (others are left out), in the order placed.
    pub scored: Vec<Scored>,
}

impl Reveal {
    /// Scores `guesses` against `truth`. A point guess is scored by its distance to where that optimizer
    /// is after K steps; a choice by whether it is among [`Truth::correct`].
    pub fn new(question: &Question, truth: Truth, guesses: &Guesses) -> Self {
        let scored = guesses
            .guesses
            .iter()
            .filter_map(|g| {
                let verdict = match g.answer {
                    Answer::Point { optimizer, at } if !question.is_choice() => {
                        let truth = truth.board.rows.get(optimizer)?.score.final_pos;
                        Verdict::Distance {
                            truth,
                            distance: (at[0] - truth[0]).hypot(at[1] - truth[1]),
                        }
                    }
                    Answer::Choice(option) if question.is_choice() => {
                        if truth.correct.contains(&option) {
                            Verdict::Right
                        } else {
                            Verdict::Wrong
                        }
                    }
                    _ => return None,
                };
                Some(Scored {
                    guess: g.clone(),
                    verdict,
                })
            })
            .collect();
        Self { truth, scored }
    }

    /// Each guesser's tally, best first (most right, then the smallest mean distance), ties in the
    /// order they first guessed.
    pub fn tallies(&self) -> Vec<Tally> {
        let mut tallies: Vec<(Tally, u32)> = Vec::new();
        for s in &self.scored {
            let i = match tallies
                .iter()
                .position(|(t, _)| t.guesser == s.guess.guesser)
            {
                Some(i) => i,
                None => {
                    tallies.push((
                        Tally {
                            guesser: s.guess.guesser.clone(),
                            right: 0,
                            wrong: 0,
                            mean_distance: None,
                        },
                        0,
                    ));
                    tallies.len() - 1
                }
            };
            let (t, points) = &mut tallies[i];
            match s.verdict {
                Verdict::Right => t.right += 1,
                Verdict::Wrong => t.wrong += 1,
                Verdict::Distance { distance, .. } => {
                    // a running mean
                    *points += 1;
                    let mean = t.mean_distance.unwrap_or(0.0);
                    t.mean_distance = Some(mean + (distance - mean) / f64::from(*points));
                }
            }
        }
        let mut tallies: Vec<Tally> = tallies.into_iter().map(|(t, _)| t).collect();
        tallies.sort_by(|a, b| {
            b.right.cmp(&a.right).then_with(|| {
                a.mean_distance
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.mean_distance.unwrap_or(f64::INFINITY))
            })
        });
        tallies
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lessons;

    #[test]
    fn guesses_replace_and_are_checked() {
        let scene = lessons::preset("beale").unwrap();
        let q = Question {
            ask: Ask::FirstToMinimum { steps: 10 },
            prompt: String::new(),
            explanation: "x".into(),
        };
        assert_eq!(q.options(&scene).len(), scene.optimizers.len() + 1);
        let mut g = Guesses::default();
        let guess = |who: &str, answer| Guess {
            guesser: who.into(),
            answer,
        };
        g.place(&q, &scene, guess("AB", Answer::Choice(0))).unwrap();
        g.place(&q, &scene, guess("AB", Answer::Choice(1))).unwrap();
        g.place(&q, &scene, guess("CD", Answer::Choice(1))).unwrap();
        assert_eq!(g.guesses.len(), 2);
        assert_eq!(g.guessers(), ["AB", "CD"]);
        assert!(
            g.place(&q, &scene, guess("AB", Answer::Choice(99)))
                .is_err()
        );
        let point = Answer::Point {
            optimizer: 0,
            at: [0.0, 0.0],
        };
        assert!(g.place(&q, &scene, guess("AB", point)).is_err());
    }

    #[test]
    fn point_guesses_are_scored_by_distance() {
        let scene = lessons::preset("rosenbrock").unwrap();
        let q = Question {
            ask: Ask::WhereAfter {
                steps: 50,
                optimizer: Some("Adam".into()),
            },
            prompt: String::new(),
            explanation: "x".into(),
        };
        let adam = q.guessed_optimizers(&scene)[0];
        let truth = compute_truth(&scene, &q, &ScoreSettings::default()).unwrap();
        let at = truth.board.rows[adam].score.final_pos;
        let mut g = Guesses::default();
        let near = [at[0] + 0.3, at[1] + 0.4];
        g.place(
            &q,
            &scene,
            Guess {
                guesser: "near".into(),
                answer: Answer::Point {
                    optimizer: adam,
                    at: near,
                },
            },
        )
        .unwrap();
        assert!(
            g.place(
                &q,
                &scene,
                Guess {
                    guesser: "x".into(),
                    answer: Answer::Point {
                        optimizer: (adam + 1) % scene.optimizers.len(),
                        at: near,
                    },
                },
            )
            .is_err(),
            "only Adam is asked about"
        );
        let reveal = Reveal::new(&q, truth, &g);
        let Verdict::Distance { distance, truth } = reveal.scored[0].verdict else {
            panic!("a point guess gets a distance")
        };
        assert_eq!(truth, at);
        assert!((distance - 0.5).abs() < 1e-12);
        assert_eq!(reveal.tallies()[0].mean_distance, Some(distance));
    }
}
