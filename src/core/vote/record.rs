//! The class's score over the rounds: one [`RoundResult`] per revealed round (counts, never names), the
//! totals the scoreboard shows and the CSV it exports.

use super::ballot::RoundResult;

/// The most rounds kept (the oldest go first).
pub const MAX_ROUNDS: usize = 1000;

/// The CSV's first line.
pub const CSV_HEADER: &str =
    "round,question,answered_with,choices,counts,voters,right,share_right,mean_distance";

/// The revealed rounds of a session, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassRecord {
    pub rounds: Vec<RoundResult>,
}

impl ClassRecord {
    /// Adds a round's result (a result for a round already there replaces it).
    pub fn push(&mut self, result: RoundResult) {
        self.rounds.retain(|r| r.round != result.round);
        self.rounds.push(result);
        if self.rounds.len() > MAX_ROUNDS {
            let extra = self.rounds.len() - MAX_ROUNDS;
            self.rounds.drain(..extra);
        }
    }

    /// Over the choice rounds: (voters who were right, votes), for "the class: 41 of 60 right".
    pub fn right_of_votes(&self) -> (u32, u32) {
        self.rounds
            .iter()
            .filter_map(|r| Some((r.right?, r.voters)))
            .fold((0, 0), |(a, b), (r, v)| (a + r, b + v))
    }

    /// The rounds as CSV: one line per round; choices and counts are `;`-separated lists in the order
    /// of the choices; `right` and `share_right` are empty for point rounds, `mean_distance` for
    /// choice rounds.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from(CSV_HEADER);
        csv.push('\n');
        for r in &self.rounds {
            let counts: Vec<String> = r.counts.iter().map(u32::to_string).collect();
            let line = [
                r.round.to_string(),
                quoted(&r.question),
                if r.points { "points" } else { "choice" }.to_owned(),
                quoted(&r.choices.join(";")),
                counts.join(";"),
                r.voters.to_string(),
                r.right.map(|n| n.to_string()).unwrap_or_default(),
                r.share_right()
                    .map(|s| format!("{s:.4}"))
                    .unwrap_or_default(),
                r.mean_distance
                    .map(|d| format!("{d:.6}"))
                    .unwrap_or_default(),
            ];
            csv.push_str(&line.join(","));
            csv.push('\n');
        }
        csv
    }
}

/// A text field, always quoted (RFC 4180: quotes doubled), so that commas and line breaks in a
/// question stay inside it.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(round: u64, right: Option<u32>) -> RoundResult {
        RoundResult {
            round,
            question: "Which one, \"first\"?".into(),
            points: right.is_none(),
            choices: vec!["SGD".into(), "Adam, tuned".into()],
            counts: vec![3, 5],
            voters: 8,
            right,
            mean_distance: right.is_none().then_some(0.25),
        }
    }

    #[test]
    fn the_csv_keeps_counts_per_round_and_no_names() {
        let mut record = ClassRecord::default();
        record.push(result(1, Some(5)));
        record.push(result(2, None));
        record.push(result(1, Some(6)));
        assert_eq!(record.rounds.len(), 2, "round 1 replaced");
        assert_eq!(record.right_of_votes(), (6, 8));
        let csv = record.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(
            lines[1],
            "2,\"Which one, \"\"first\"\"?\",points,\"SGD;Adam, tuned\",3;5,8,,,0.250000"
        );
        assert_eq!(
            lines[2],
            "1,\"Which one, \"\"first\"\"?\",choice,\"SGD;Adam, tuned\",3;5,8,6,0.7500,"
        );
    }

    #[test]
    fn the_record_is_bounded() {
        let mut record = ClassRecord::default();
        for round in 0..(MAX_ROUNDS as u64 + 10) {
            record.push(result(round, Some(1)));
        }
        assert_eq!(record.rounds.len(), MAX_ROUNDS);
        assert_eq!(record.rounds[0].round, 10);
    }
}
