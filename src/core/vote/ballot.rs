//! The class vote's bookkeeping: the round the phones see ([`RoundInfo`]), who joined, each voter's
//! latest vote in the round, the live [`Tally`] and, once the answer is known, the round's
//! [`RoundResult`]. Pure data: no network, no clock. Memory is bounded: at most [`MAX_VOTERS`] voters,
//! one vote (or one point per optimizer asked about) each.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::core::landscape::Vec2d;

/// The most voters in a session (joined, over all rounds).
pub const MAX_VOTERS: usize = 1000;
/// The most characters of a voter's initials or name.
pub const MAX_NAME_CHARS: usize = 8;
/// The most characters of the token a page adds to tell apart two voters with the same initials.
pub const MAX_ID_CHARS: usize = 40;
/// The most choices (options, or optimizers asked about) a round may have.
pub const MAX_CHOICES: usize = 32;

/// How a round is answered from a phone.
#[derive(Clone, Debug, PartialEq)]
pub enum VoteKind {
    /// No question on screen (predict mode is off, or the scene has none): the phones wait.
    Waiting,
    /// One of the round's choices.
    Choice,
    /// A point on the top view for each choice (each is an optimizer asked about).
    Point {
        /// `[x min, x max, y min, y max]` of the top view (param space).
        domain: [f64; 4],
        /// Where each optimizer asked about starts (param space), one per choice.
        starts: Vec<Vec2d>,
        /// Each one's colour (sRGB), one per choice.
        colors: Vec<[u8; 3]>,
    },
}

/// The right answer, once revealed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Solution {
    /// The right choices (indices; more than one only for a tie).
    Choices(Vec<usize>),
    /// Where each optimizer asked about really was (one per choice).
    Points(Vec<Vec2d>),
}

/// The round as the phones see it.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundInfo {
    /// Which round (a new number: a new round, its votes start from nothing).
    pub round: u64,
    /// The question; empty while [`VoteKind::Waiting`].
    pub question: String,
    /// The options, or the names of the optimizers asked about.
    pub choices: Vec<String>,
    pub kind: VoteKind,
    /// Whether votes are taken.
    pub open: bool,
    /// The answer, once revealed.
    pub solution: Option<Solution>,
}

impl RoundInfo {
    /// Round `round` with no question.
    pub fn waiting(round: u64) -> Self {
        Self {
            round,
            question: String::new(),
            choices: Vec::new(),
            kind: VoteKind::Waiting,
            open: false,
            solution: None,
        }
    }
}

/// One vote, checked for shape (see [`super::api::parse_vote`]) but not yet against the round.
#[derive(Clone, Debug, PartialEq)]
pub struct Vote {
    /// Who, as one key: the page's token if it sent one, else the name.
    pub key: String,
    /// Initials or name, as shown.
    pub name: String,
    /// The choice (for a point question: which optimizer the point is for).
    pub choice: usize,
    /// The point, for a point question (param space).
    pub point: Option<Vec2d>,
    /// The round the voter saw, if the client says (a vote for an earlier round is refused).
    pub round: Option<u64>,
}

/// Why a vote or a join was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The vote does not fit the round (400): no such choice, a point for a choice question ...
    Invalid(String),
    /// The round takes no votes (409): closed, revealed, over, or no question.
    Closed(String),
    /// [`MAX_VOTERS`] have joined (503).
    Full,
}

/// One voter: their name and latest vote in this round.
#[derive(Clone, Debug, Default)]
struct Cast {
    name: String,
    /// A choice question's choice.
    choice: Option<usize>,
    /// A point question's points, one slot per choice.
    points: Vec<Option<Vec2d>>,
}

impl Cast {
    fn voted(&self) -> bool {
        self.choice.is_some() || self.points.iter().any(Option::is_some)
    }
}

/// The live count of a round.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tally {
    pub round: u64,
    /// Per choice: the voters who picked it, or (point questions) who placed a point for it.
    pub counts: Vec<u32>,
    /// Voters who voted this round.
    pub voted: u32,
    /// Voters who joined (this session).
    pub joined: u32,
    /// Point questions: every point placed, as (choice, point).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<(usize, Vec2d)>,
    /// The initials of those who joined, in order of their key, each with whether they voted this
    /// round (for the projector; never written to a file).
    #[serde(skip)]
    pub names: Vec<(String, bool)>,
}

/// How a round went, for the class's record (counts, never names).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundResult {
    pub round: u64,
    pub question: String,
    /// Whether it was answered with points.
    pub points: bool,
    pub choices: Vec<String>,
    /// Per choice, as in [`Tally::counts`].
    pub counts: Vec<u32>,
    /// Voters who voted.
    pub voters: u32,
    /// Choice questions: voters who picked a right choice.
    pub right: Option<u32>,
    /// Point questions: the mean distance of the points from where the optimizers really were (param
    /// units; `None` without points).
    pub mean_distance: Option<f64>,
}

impl RoundResult {
    /// The share of voters who were right (choice questions with voters).
    pub fn share_right(&self) -> Option<f64> {
        self.right
            .filter(|_| self.voters > 0)
            .map(|r| f64::from(r) / f64::from(self.voters))
    }
}

/// The round, who joined and how they voted.
#[derive(Clone, Debug)]
pub struct Ballot {
    info: RoundInfo,
    /// Everyone who joined: key → name.
    joined: BTreeMap<String, String>,
    /// This round's votes: key → cast.
    votes: BTreeMap<String, Cast>,
}

impl Default for Ballot {
    fn default() -> Self {
        Self {
            info: RoundInfo::waiting(0),
            joined: BTreeMap::new(),
            votes: BTreeMap::new(),
        }
    }
}

impl Ballot {
    /// The round as the phones see it.
    pub fn info(&self) -> &RoundInfo {
        &self.info
    }

    /// The round on the projector now: a new round number forgets the votes; the same number updates
    /// the round (closed, revealed, its choices). Returns the round's result when this brings its
    /// answer.
    pub fn set_round(&mut self, info: RoundInfo) -> Option<RoundResult> {
        let same = info.round == self.info.round;
        let same_kind =
            std::mem::discriminant(&info.kind) == std::mem::discriminant(&self.info.kind);
        if !same || !same_kind || info.choices != self.info.choices {
            // a new round, or the choices changed under the votes: they no longer mean the same
            self.votes.clear();
        }
        // (a round first seen already answered had no votes here: no result)
        let newly_solved = same && self.info.solution.is_none() && info.solution.is_some();
        self.info = info;
        newly_solved.then(|| self.result()).flatten()
    }

    /// `key` joins as `name` (again: the name is updated).
    pub fn join(&mut self, key: &str, name: &str) -> Result<(), Refusal> {
        let full = self.joined.len() >= MAX_VOTERS;
        match self.joined.get_mut(key) {
            Some(known) => {
                if known != name {
                    name.clone_into(known);
                }
                Ok(())
            }
            None if full => Err(Refusal::Full),
            None => {
                self.joined.insert(key.to_owned(), name.to_owned());
                Ok(())
            }
        }
    }

    /// Records `vote`, replacing the voter's earlier vote in this round (for a point question, their
    /// earlier point for the same optimizer). Whoever votes joins.
    pub fn vote(&mut self, vote: Vote) -> Result<(), Refusal> {
        let info = &self.info;
        if vote.round.is_some_and(|r| r != info.round) {
            return Err(Refusal::Closed(format!(
                "round {} is over; this is round {}",
                vote.round.unwrap_or_default(),
                info.round
            )));
        }
        if matches!(info.kind, VoteKind::Waiting) {
            return Err(Refusal::Closed("there is no question yet".into()));
        }
        if !info.open {
            return Err(Refusal::Closed("voting is closed for this round".into()));
        }
        let n = info.choices.len();
        if vote.choice >= n {
            return Err(Refusal::Invalid(format!(
                "choice {} does not exist (there are {n}, numbered from 0)",
                vote.choice
            )));
        }
        match (&info.kind, vote.point) {
            (VoteKind::Choice, Some(_)) => {
                return Err(Refusal::Invalid(
                    "this question is answered with \"choice\", not \"point\"".into(),
                ));
            }
            (VoteKind::Point { .. }, None) => {
                return Err(Refusal::Invalid(
                    "this question is answered with \"point\": [x, y]".into(),
                ));
            }
            (VoteKind::Point { domain, .. }, Some([x, y])) => {
                let inside =
                    (domain[0]..=domain[1]).contains(&x) && (domain[2]..=domain[3]).contains(&y);
                if !inside {
                    return Err(Refusal::Invalid(format!(
                        "the point ({x}, {y}) is outside the landscape (x {} to {}, y {} to {})",
                        domain[0], domain[1], domain[2], domain[3]
                    )));
                }
            }
            _ => {}
        }
        self.join(&vote.key, &vote.name)?;
        let cast = self.votes.entry(vote.key).or_default();
        if cast.name != vote.name {
            cast.name = vote.name;
        }
        match vote.point {
            None => cast.choice = Some(vote.choice),
            Some(point) => {
                cast.points.resize(n, None);
                cast.points[vote.choice] = Some(point);
            }
        }
        Ok(())
    }

    /// The count so far.
    pub fn tally(&self) -> Tally {
        let n = self.info.choices.len();
        let mut counts = vec![0u32; n];
        let mut points = Vec::new();
        let mut voted = 0;
        for cast in self.votes.values() {
            if let Some(c) = cast.choice.filter(|&c| c < n) {
                counts[c] += 1;
            }
            for (c, p) in cast.points.iter().enumerate().take(n) {
                if let Some(p) = p {
                    counts[c] += 1;
                    points.push((c, *p));
                }
            }
            voted += u32::from(cast.voted());
        }
        let names = self
            .joined
            .iter()
            .map(|(key, name)| {
                let voted = self.votes.get(key).is_some_and(Cast::voted);
                (name.clone(), voted)
            })
            .collect();
        Tally {
            round: self.info.round,
            counts,
            voted,
            joined: self.joined.len() as u32,
            points,
            names,
        }
    }

    /// The round's result, once its answer is known.
    pub fn result(&self) -> Option<RoundResult> {
        let solution = self.info.solution.as_ref()?;
        let tally = self.tally();
        let (right, mean_distance) = match solution {
            Solution::Choices(right) => {
                let n = self
                    .votes
                    .values()
                    .filter(|c| c.choice.is_some_and(|c| right.contains(&c)))
                    .count();
                (Some(n as u32), None)
            }
            Solution::Points(truth) => {
                let distances: Vec<f64> = tally
                    .points
                    .iter()
                    .filter_map(|(c, p)| {
                        let t = truth.get(*c)?;
                        Some((p[0] - t[0]).hypot(p[1] - t[1]))
                    })
                    .collect();
                let mean = (!distances.is_empty())
                    .then(|| distances.iter().sum::<f64>() / distances.len() as f64);
                (None, mean)
            }
        };
        Some(RoundResult {
            round: self.info.round,
            question: self.info.question.clone(),
            points: matches!(self.info.kind, VoteKind::Point { .. }),
            choices: self.info.choices.clone(),
            counts: tally.counts,
            voters: tally.voted,
            right,
            mean_distance,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice_round(round: u64) -> RoundInfo {
        RoundInfo {
            round,
            question: "Which one reaches the minimum first?".into(),
            choices: vec!["SGD".into(), "Adam".into(), "none of them".into()],
            kind: VoteKind::Choice,
            open: true,
            solution: None,
        }
    }

    fn vote(key: &str, choice: usize) -> Vote {
        Vote {
            key: key.into(),
            name: key.to_uppercase(),
            choice,
            point: None,
            round: None,
        }
    }

    #[test]
    fn a_later_vote_replaces_the_earlier_one_and_a_new_round_starts_empty() {
        let mut ballot = Ballot::default();
        ballot.set_round(choice_round(1));
        ballot.vote(vote("ab", 0)).unwrap();
        ballot.vote(vote("cd", 1)).unwrap();
        ballot.vote(vote("ab", 1)).unwrap();
        let tally = ballot.tally();
        assert_eq!(tally.counts, [0, 2, 0]);
        assert_eq!((tally.voted, tally.joined), (2, 2));
        assert!(
            matches!(ballot.vote(vote("ab", 3)), Err(Refusal::Invalid(_))),
            "no choice 3"
        );
        // the same round closed: no more votes, nothing changes
        ballot.set_round(RoundInfo {
            open: false,
            ..choice_round(1)
        });
        assert!(matches!(
            ballot.vote(vote("ef", 0)),
            Err(Refusal::Closed(_))
        ));
        assert_eq!(ballot.tally().counts, [0, 2, 0]);
        // the answer comes: the result counts who was right
        let result = ballot
            .set_round(RoundInfo {
                open: false,
                solution: Some(Solution::Choices(vec![1])),
                ..choice_round(1)
            })
            .expect("the answer brings the result");
        assert_eq!((result.voters, result.right), (2, Some(2)));
        assert_eq!(result.share_right(), Some(1.0));
        // a new round: votes forgotten, the joined stay
        ballot.set_round(choice_round(2));
        let tally = ballot.tally();
        assert_eq!(
            (tally.counts.clone(), tally.voted, tally.joined),
            (vec![0, 0, 0], 0, 2)
        );
        // a vote for the last round is refused
        let late = Vote {
            round: Some(1),
            ..vote("ab", 1)
        };
        assert!(matches!(ballot.vote(late), Err(Refusal::Closed(_))));
    }

    #[test]
    fn point_votes_keep_one_point_per_optimizer_and_are_scored_by_distance() {
        let mut ballot = Ballot::default();
        let info = RoundInfo {
            round: 4,
            question: "Where after 50 steps?".into(),
            choices: vec!["SGD".into(), "Adam".into()],
            kind: VoteKind::Point {
                domain: [-2.0, 2.0, -1.0, 3.0],
                starts: vec![[-1.0, 1.0], [-1.5, 2.0]],
                colors: vec![[255, 0, 0], [0, 0, 255]],
            },
            open: true,
            solution: None,
        };
        ballot.set_round(info.clone());
        let point = |key: &str, choice, p| Vote {
            point: Some(p),
            ..vote(key, choice)
        };
        ballot.vote(point("ab", 0, [0.0, 0.0])).unwrap();
        ballot.vote(point("ab", 0, [1.0, 0.0])).unwrap();
        ballot.vote(point("ab", 1, [1.0, 1.0])).unwrap();
        ballot.vote(point("cd", 1, [0.0, 1.0])).unwrap();
        assert!(matches!(
            ballot.vote(vote("ef", 0)),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            ballot.vote(point("ef", 0, [5.0, 0.0])),
            Err(Refusal::Invalid(_))
        ));
        let tally = ballot.tally();
        assert_eq!(tally.counts, [1, 2]);
        assert_eq!(tally.voted, 2);
        assert_eq!(tally.points.len(), 3);
        let result = ballot
            .set_round(RoundInfo {
                open: false,
                solution: Some(Solution::Points(vec![[1.0, 0.0], [0.0, 1.0]])),
                ..info
            })
            .unwrap();
        // distances 0, 1, 0
        assert_eq!(result.mean_distance, Some(1.0 / 3.0));
        assert_eq!(result.right, None);
    }

    #[test]
    fn nobody_votes_without_a_question_and_the_class_has_a_size() {
        let mut ballot = Ballot::default();
        assert!(matches!(
            ballot.vote(vote("ab", 0)),
            Err(Refusal::Closed(_))
        ));
        for i in 0..MAX_VOTERS {
            ballot.join(&format!("v{i}"), "X").unwrap();
        }
        assert_eq!(ballot.join("one more", "Y"), Err(Refusal::Full));
        // those who joined may join again (a reloaded page)
        assert_eq!(ballot.join("v7", "Z"), Ok(()));
        assert_eq!(ballot.tally().joined as usize, MAX_VOTERS);
    }
}
