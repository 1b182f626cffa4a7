//! A run's history in bounded memory: every step up to [`History::CAP`] rows, then every 2nd, then every
//! 4th, ... (the stride doubles each time the rows fill up again), plus the newest row always. A class
//! can run an optimizer at 1,000 steps a second for a whole lecture and the app's memory stays flat,
//! while the timeline and the loss plot still reach back to the start.
//!
//! Kept rows are exactly the steps that are multiples of [`History::stride`] (and the newest), so
//! thinning never moves a row: what the timeline shows at a kept step is the run's real state there.

use super::simulation::StepRecord;

/// The kept rows of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Rows at steps `0, stride, 2 stride, ...` up to the newest.
    rows: Vec<StepRecord>,
    /// The newest row (the run's position now), whatever its step.
    newest: StepRecord,
    /// Steps between kept rows: 1, then 2, 4, ...
    stride: u64,
    /// Rows kept before thinning.
    cap: usize,
}

impl History {
    /// Rows kept before the first thinning: every step of the first 16,384 (0.8 MB per run).
    pub const CAP: usize = 16_384;

    /// A history that starts at `start` (step 0).
    pub fn new(start: StepRecord) -> Self {
        Self::with_cap(start, Self::CAP)
    }

    /// [`Self::new`] with another row budget (at least 4).
    pub fn with_cap(start: StepRecord, cap: usize) -> Self {
        let mut rows = Vec::with_capacity(cap.max(4) + 1);
        rows.push(start);
        Self {
            rows,
            newest: start,
            stride: 1,
            cap: cap.max(4),
        }
    }

    /// Adds the row after the newest one (its step must be the next step).
    pub fn push(&mut self, row: StepRecord) {
        self.newest = row;
        if row.step.is_multiple_of(self.stride) {
            self.rows.push(row);
            if self.rows.len() > self.cap {
                self.thin();
            }
        }
    }

    /// A history rebuilt from the rows another kept (steps that are multiples of `stride`, step 0
    /// first, ascending) and the newest row, with the row budget `cap`: it goes on keeping the same
    /// steps as the one it was rebuilt from. `None` when `rows` is empty.
    pub fn rebuilt(
        rows: Vec<StepRecord>,
        stride: u64,
        cap: usize,
        newest: StepRecord,
    ) -> Option<Self> {
        if rows.is_empty() {
            return None;
        }
        Some(Self {
            rows,
            newest,
            stride: stride.max(1),
            cap: cap.max(4),
        })
    }

    /// Keeps every other row (the steps that are multiples of twice the stride).
    fn thin(&mut self) {
        let stride = self.stride * 2;
        self.rows.retain(|r| r.step.is_multiple_of(stride));
        self.stride = stride;
    }

    /// The newest row.
    pub fn newest(&self) -> &StepRecord {
        &self.newest
    }

    /// Steps taken (the newest row's step).
    pub fn steps(&self) -> u64 {
        self.newest.step
    }

    /// Steps between kept rows now (1 until the first thinning).
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// The kept rows up to and including step `k`, oldest first, ending with the row at `k` itself when
    /// `k` is the newest step.
    pub fn rows_to(&self, k: u64) -> impl Iterator<Item = &StepRecord> {
        let end = self.rows.partition_point(|r| r.step <= k);
        let newest = (k >= self.newest.step
            && self.rows.last().map(|r| r.step) != Some(self.newest.step))
        .then_some(&self.newest);
        self.rows[..end].iter().chain(newest)
    }

    /// The kept rows (without the newest when it falls between strides).
    pub fn kept(&self) -> &[StepRecord] {
        &self.rows
    }

    /// The row at step `k`, if it is kept.
    pub fn get(&self, k: u64) -> Option<&StepRecord> {
        if k == self.newest.step {
            return Some(&self.newest);
        }
        let i = self.rows.partition_point(|r| r.step < k);
        self.rows.get(i).filter(|r| r.step == k)
    }

    /// The kept row at step `k` or the nearest kept one before it.
    pub fn at_or_before(&self, k: u64) -> &StepRecord {
        if k >= self.newest.step {
            return &self.newest;
        }
        let i = self.rows.partition_point(|r| r.step <= k);
        self.rows.get(i.wrapping_sub(1)).unwrap_or(&self.newest)
    }

    /// The kept step at or before `k` (where the timeline can stop).
    pub fn kept_step_at_or_before(&self, k: u64) -> u64 {
        self.at_or_before(k).step
    }

    /// Forgets everything after step `k` (a kept step, or the newest); `row` becomes the newest row.
    pub fn truncate_to(&mut self, row: StepRecord) {
        self.rows.retain(|r| r.step < row.step);
        self.newest = row;
        if row.step.is_multiple_of(self.stride) {
            self.rows.push(row);
        }
    }

    /// Bytes held by the rows (what stays flat however long the run).
    pub fn memory_bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<StepRecord>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64) -> StepRecord {
        StepRecord {
            step,
            pos: [step as f64, -(step as f64)],
            loss: 1.0 / (1.0 + step as f64),
            grad: [0.0, 0.0],
            evals: step + 1,
        }
    }

    fn grown(steps: u64, cap: usize) -> History {
        let mut h = History::with_cap(row(0), cap);
        for k in 1..=steps {
            h.push(row(k));
        }
        h
    }

    #[test]
    fn keeps_every_step_until_the_cap_then_every_other_and_so_on() {
        let h = grown(7, 8);
        assert_eq!(h.stride(), 1);
        assert_eq!(h.kept().len(), 8);
        let h = grown(8, 8);
        // 9 rows would not fit: thinned to steps 0, 2, 4, 6, 8
        assert_eq!(h.stride(), 2);
        let steps: Vec<u64> = h.kept().iter().map(|r| r.step).collect();
        assert_eq!(steps, [0, 2, 4, 6, 8]);
        let h = grown(1_000_000, 8);
        assert!(h.kept().len() <= 8 + 1);
        assert!(h.kept().iter().all(|r| r.step.is_multiple_of(h.stride())));
        assert_eq!(h.newest().step, 1_000_000);
        assert_eq!(h.steps(), 1_000_000);
        // kept rows are the real rows of their steps
        assert!(h.kept().iter().all(|r| *r == row(r.step)));
    }

    #[test]
    fn memory_is_flat_however_long_the_run() {
        let short = grown(History::CAP as u64 * 2, History::CAP).memory_bytes();
        let long = grown(History::CAP as u64 * 64, History::CAP).memory_bytes();
        assert_eq!(short, long);
        assert!(long < 1 << 20, "{long} bytes");
    }

    #[test]
    fn rows_to_a_step_end_with_it_and_lookups_find_kept_rows() {
        let h = grown(37, 8);
        assert_eq!(h.stride(), 8);
        let to_20: Vec<u64> = h.rows_to(20).map(|r| r.step).collect();
        assert_eq!(to_20, [0, 8, 16]);
        let all: Vec<u64> = h.rows_to(37).map(|r| r.step).collect();
        assert_eq!(all, [0, 8, 16, 24, 32, 37], "the newest row ends the path");
        assert_eq!(h.get(16), Some(&row(16)));
        assert_eq!(h.get(17), None);
        assert_eq!(h.get(37), Some(&row(37)));
        assert_eq!(h.at_or_before(23).step, 16);
        assert_eq!(h.at_or_before(100).step, 37);
        assert_eq!(h.kept_step_at_or_before(31), 24);
    }

    #[test]
    fn truncating_continues_from_the_branch_point() {
        let mut h = grown(37, 8);
        h.truncate_to(row(16));
        assert_eq!(h.steps(), 16);
        assert_eq!(
            h.rows_to(16).map(|r| r.step).collect::<Vec<_>>(),
            [0, 8, 16]
        );
        for k in 17..=40 {
            h.push(row(k));
        }
        assert_eq!(h.get(24), Some(&row(24)));
        assert_eq!(h.steps(), 40);
    }
}
