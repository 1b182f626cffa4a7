//! Classification datasets for the networks: the built-in `moons`, `circles`, `spirals` and `xor` (seeded
//! generators of two-class points in the plane), and the user's own CSV file (feature columns, then an
//! integer label in the last column).
//!
//! The CSV reader is written for a spreadsheet export read by someone who has never seen a stack trace: a
//! UTF-8 byte-order mark, CRLF line ends, blank lines, spaces around cells, quoted numbers, a label written
//! `1.0`, an optional header row, `;` or tab as the delimiter and, with `;` or tab, a decimal comma (`1,5`)
//! all just work. Anything else is refused with one line naming the file, the line and the column (both
//! 1-based, as a spreadsheet counts them) and the problem ([`DataError`]). Nothing here panics on any input.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Most data rows a dataset may have (a full-batch gradient must stay interactive).
pub const MAX_ROWS: usize = 100_000;
/// Most feature columns a dataset may have.
pub const MAX_FEATURES: usize = 1_000;
/// Most classes: labels are `0..MAX_CLASSES`.
pub const MAX_CLASSES: usize = 1_000;
/// Fewest points a built-in generator makes (two of each class).
pub const MIN_BUILTIN_SIZE: usize = 4;

/// Every way a dataset can fail to load. The message is one line; for a file it names the file, and where
/// it can the line and the column, both 1-based (the first line of the file is line 1, the first column is
/// column 1, header row included, as a spreadsheet counts them).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// A built-in dataset name that is not one of [`Builtin::NAMES`].
    #[error("unknown dataset '{name}'; valid names: {valid}")]
    UnknownBuiltin {
        /// What was asked for.
        name: String,
        /// The valid names, comma separated.
        valid: String,
    },
    /// A built-in generator's size or noise out of range.
    #[error("invalid {kind} dataset: {reason}")]
    InvalidBuiltin {
        /// The generator's name (`moons`, ...).
        kind: &'static str,
        /// What is wrong, with the value and the accepted range.
        reason: String,
    },
    /// The file cannot be opened or read (missing, a folder, no permission ...).
    #[error("cannot read data file {path}: {reason}")]
    Unreadable {
        /// The path as given.
        path: String,
        /// Why, in words.
        reason: String,
    },
    /// A problem with the file as a whole: empty, a header only, a single class.
    #[error("{path}: {problem}")]
    File {
        /// The path as given.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// A problem with one line: ragged, too many rows.
    #[error("{path}, line {line}: {problem}")]
    Line {
        /// The path as given.
        path: String,
        /// 1-based line of the file.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A problem with one cell: not a number, not finite, a bad label.
    #[error("{path}, line {line}, column {column}: {problem}")]
    Cell {
        /// The path as given.
        path: String,
        /// 1-based line of the file.
        line: u64,
        /// 1-based column.
        column: usize,
        /// What is wrong, with the cell's text quoted.
        problem: String,
    },
    /// A dataset built in memory ([`Dataset::new`]) whose shape or values are wrong.
    #[error("invalid dataset {name}: {problem}")]
    Invalid {
        /// The dataset's `source` text.
        name: String,
        /// What is wrong.
        problem: String,
    },
}

/// A classification dataset: `len` points of `features` coordinates each and an integer label per point.
///
/// Invariants (checked by [`Dataset::new`]): at least one point, at least one feature, every coordinate
/// finite, every label `< classes`, `classes = largest label + 1 <= MAX_CLASSES`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `len x features`, row-major: point `i` is `inputs[i * features..(i + 1) * features]`.
    inputs: Vec<f64>,
    labels: Vec<u32>,
    features: usize,
    classes: usize,
    source: String,
}

impl Dataset {
    /// A dataset from row-major `inputs` (`labels.len() x features`) and `labels`; `source` is a short text
    /// for messages and legends (`moons (200 points)`, `iris.csv`).
    pub fn new(
        inputs: Vec<f64>,
        features: usize,
        labels: Vec<u32>,
        source: impl Into<String>,
    ) -> Result<Self, DataError> {
        let source = source.into();
        let invalid = |problem: String| DataError::Invalid {
            name: source.clone(),
            problem,
        };
        if features == 0 || features > MAX_FEATURES {
            return Err(invalid(format!(
                "{features} features; between 1 and {MAX_FEATURES} are accepted"
            )));
        }
        if labels.is_empty() || labels.len() > MAX_ROWS {
            return Err(invalid(format!(
                "{} points; between 1 and {MAX_ROWS} are accepted",
                labels.len()
            )));
        }
        if Some(inputs.len()) != labels.len().checked_mul(features) {
            return Err(invalid(format!(
                "{} coordinates for {} points of {features} features (expected {})",
                inputs.len(),
                labels.len(),
                labels.len() * features
            )));
        }
        if let Some(at) = inputs.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "point {} has the value {} (every coordinate must be finite)",
                at / features,
                inputs[at]
            )));
        }
        let largest = labels.iter().copied().max().unwrap_or(0) as usize;
        if largest >= MAX_CLASSES {
            return Err(invalid(format!(
                "label {largest}: labels are class numbers 0 to {}",
                MAX_CLASSES - 1
            )));
        }
        Ok(Self {
            inputs,
            labels,
            features,
            classes: largest + 1,
            source,
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a dataset has at least one point.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Coordinates per point (the network's inputs).
    pub fn features(&self) -> usize {
        self.features
    }

    /// `K = largest label + 1`: the network's number of output logits.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Every coordinate, row-major (`len x features`).
    pub fn inputs(&self) -> &[f64] {
        &self.inputs
    }

    /// Every label, in `0..classes`.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Where the data came from, in a few words (`moons (200 points, noise 0.1, seed 0)`, `iris.csv`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Point `i`: its coordinates and label; `None` past the end.
    pub fn point(&self, i: usize) -> Option<(&[f64], u32)> {
        let label = *self.labels.get(i)?;
        let start = i * self.features;
        Some((&self.inputs[start..start + self.features], label))
    }

    /// How many points each class has (`classes` entries).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &label in &self.labels {
            counts[label as usize] += 1;
        }
        counts
    }

    /// The smallest and largest value of feature `f` (`None` for `f >= features`): the axes of a
    /// decision-boundary picture.
    pub fn feature_range(&self, f: usize) -> Option<[f64; 2]> {
        if f >= self.features {
            return None;
        }
        let column = self.inputs.iter().skip(f).step_by(self.features);
        Some(
            column.fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], &v| {
                [lo.min(v), hi.max(v)]
            }),
        )
    }

    /// The dataset of only the given rows, in that order (a row may repeat); `None` when `rows` is empty or
    /// names a row past the end. Its `classes` is this dataset's, so a network built for this one fits it.
    pub fn subset(&self, rows: &[u32]) -> Option<Dataset> {
        if rows.is_empty() {
            return None;
        }
        let mut inputs = Vec::with_capacity(rows.len() * self.features);
        let mut labels = Vec::with_capacity(rows.len());
        for &r in rows {
            let (x, label) = self.point(r as usize)?;
            inputs.extend_from_slice(x);
            labels.push(label);
        }
        Some(Dataset {
            inputs,
            labels,
            features: self.features,
            classes: self.classes,
            source: format!("{} ({} rows)", self.source, rows.len()),
        })
    }
}

/// A built-in two-class dataset in the plane, generated from a seed (see [`Builtin::generate`]).
///
/// In scene files the variant names (`Moons`); on the command line [`Builtin::name`] (`moons`), which scene
/// files also accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Builtin {
    /// Two interleaving half circles, as scikit-learn's `make_moons`: class 0 on `(cos t, sin t)`, class 1
    /// on `(1 - cos t, 0.5 - sin t)`, `t` evenly spaced in `[0, pi]`.
    #[serde(alias = "moons")]
    Moons,
    /// Two concentric circles, as scikit-learn's `make_circles` with `factor = 0.5`: class 0 on the unit
    /// circle, class 1 on the circle of radius 0.5, angles evenly spaced in `[0, 2 pi)`.
    #[serde(alias = "circles")]
    Circles,
    /// Two interleaved spirals of 1.5 turns: class `c` at radius `r = 0.1 + 0.9 t` and angle
    /// `3 pi t + c pi`, `t` evenly spaced in `[0, 1)`.
    #[serde(alias = "spirals")]
    Spirals,
    /// Points uniform in `[-1, 1]^2`, class 1 where the signs of `x` and `y` differ (`x y < 0`), class 0
    /// where they agree: no line separates them.
    #[serde(alias = "xor")]
    Xor,
}

impl Builtin {
    /// Every built-in dataset, in the order of [`Self::NAMES`].
    pub const ALL: [Builtin; 4] = [Self::Moons, Self::Circles, Self::Spirals, Self::Xor];
    /// The command-line names.
    pub const NAMES: &[&str] = &["moons", "circles", "spirals", "xor"];
    /// The point count a built-in dataset has unless told otherwise.
    pub const DEFAULT_SIZE: usize = 200;
    /// The noise a built-in dataset has unless told otherwise.
    pub const DEFAULT_NOISE: f64 = 0.1;

    /// The dataset called `name` (one of [`Self::NAMES`]).
    pub fn from_name(name: &str) -> Result<Self, DataError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| DataError::UnknownBuiltin {
                name: name.to_owned(),
                valid: Self::NAMES.join(", "),
            })
    }

    /// The command-line name (`moons`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Moons => "moons",
            Self::Circles => "circles",
            Self::Spirals => "spirals",
            Self::Xor => "xor",
        }
    }

    /// `size` points (`4..=100_000`, half of each class, the odd one in class 1) with Gaussian jitter of
    /// standard deviation `noise` (`>= 0`, in data units) added to both coordinates, shuffled; the same
    /// `seed` always gives the same points. Coordinates are of about unit scale (see each variant).
    pub fn generate(self, size: usize, noise: f64, seed: u64) -> Result<Dataset, DataError> {
        let invalid = |reason: String| DataError::InvalidBuiltin {
            kind: self.name(),
            reason,
        };
        if !(MIN_BUILTIN_SIZE..=MAX_ROWS).contains(&size) {
            return Err(invalid(format!(
                "size = {size} must be between {MIN_BUILTIN_SIZE} and {MAX_ROWS} points"
            )));
        }
        if !noise.is_finite() || noise < 0.0 {
            return Err(invalid(format!(
                "noise = {noise} must be a finite standard deviation >= 0"
            )));
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let first = size / 2;
        let second = size - first;
        // `t` evenly spaced in [0, 1]: `inclusive` (both ends, as numpy's linspace) or [0, 1)
        let spaced = |i: usize, n: usize, inclusive: bool| {
            let steps = if inclusive { n.saturating_sub(1) } else { n };
            if steps == 0 {
                0.0
            } else {
                i as f64 / steps as f64
            }
        };
        let pi = std::f64::consts::PI;
        let mut points: Vec<([f64; 2], u32)> = Vec::with_capacity(size);
        match self {
            Self::Moons => {
                for i in 0..first {
                    let t = pi * spaced(i, first, true);
                    points.push(([t.cos(), t.sin()], 0));
                }
                for i in 0..second {
                    let t = pi * spaced(i, second, true);
                    points.push(([1.0 - t.cos(), 0.5 - t.sin()], 1));
                }
            }
            Self::Circles => {
                for i in 0..first {
                    let t = 2.0 * pi * spaced(i, first, false);
                    points.push(([t.cos(), t.sin()], 0));
                }
                for i in 0..second {
                    let t = 2.0 * pi * spaced(i, second, false);
                    points.push(([0.5 * t.cos(), 0.5 * t.sin()], 1));
                }
            }
            Self::Spirals => {
                for (class, n) in [(0u32, first), (1, second)] {
                    for i in 0..n {
                        let t = spaced(i, n, false);
                        let (r, angle) = (0.1 + 0.9 * t, 3.0 * pi * t + f64::from(class) * pi);
                        points.push(([r * angle.cos(), r * angle.sin()], class));
                    }
                }
            }
            Self::Xor => {
                // labels alternate so that the classes are as even as for the others
                while points.len() < size {
                    let p = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
                    let class = u32::from(p[0] * p[1] < 0.0);
                    let wanted = u32::from(points.len() >= first);
                    if class == wanted && p[0] != 0.0 && p[1] != 0.0 {
                        points.push((p, class));
                    }
                }
            }
        }
        points.shuffle(&mut rng);
        let mut inputs = Vec::with_capacity(2 * size);
        let mut labels = Vec::with_capacity(size);
        for ([x, y], label) in points {
            let jitter =
                |rng: &mut Xoshiro256PlusPlus| noise * rng.sample::<f64, _>(StandardNormal);
            inputs.push(x + jitter(&mut rng));
            inputs.push(y + jitter(&mut rng));
            labels.push(label);
        }
        let source = format!(
            "{} ({size} points, noise {noise}, seed {seed})",
            self.name()
        );
        Dataset::new(inputs, 2, labels, source)
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn default_size() -> usize {
    Builtin::DEFAULT_SIZE
}

fn default_noise() -> f64 {
    Builtin::DEFAULT_NOISE
}

/// Which dataset, as a scene file or the command line names it:
/// `Builtin(kind: Moons, size: 200, noise: 0.1, seed: 0)` or `Csv(path: "data/iris.csv")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DataSpec {
    /// A generated dataset ([`Builtin::generate`]).
    Builtin {
        /// Which generator.
        kind: Builtin,
        /// Number of points, `4..=100_000` (default 200).
        #[serde(default = "default_size")]
        size: usize,
        /// Standard deviation of the Gaussian jitter, in data units, `>= 0` (default 0.1).
        #[serde(default = "default_noise")]
        noise: f64,
        /// Seed of the points (default 0).
        #[serde(default)]
        seed: u64,
    },
    /// The user's CSV file ([`load_csv`]); a relative path is relative to the working directory.
    Csv {
        /// The file.
        path: PathBuf,
    },
}

impl DataSpec {
    /// The built-in dataset `kind` with the default size, noise and seed.
    pub fn builtin(kind: Builtin) -> Self {
        Self::Builtin {
            kind,
            size: Builtin::DEFAULT_SIZE,
            noise: Builtin::DEFAULT_NOISE,
            seed: 0,
        }
    }

    /// Generate or read the dataset.
    pub fn load(&self) -> Result<Dataset, DataError> {
        match self {
            Self::Builtin {
                kind,
                size,
                noise,
                seed,
            } => kind.generate(*size, *noise, *seed),
            Self::Csv { path } => load_csv(path),
        }
    }
}

/// Read a CSV file of feature columns then an integer label `>= 0` in the last column (see
/// [`read_csv`] for what is accepted). The dataset's `source` is the file's name.
pub fn load_csv(path: &Path) -> Result<Dataset, DataError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| DataError::Unreadable {
        path: shown.clone(),
        reason: io_reason(&e),
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(DataError::Unreadable {
            path: shown,
            reason: "it is a folder, not a file".to_owned(),
        });
    }
    let name = path
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    read_csv(file, &shown).map(|mut data| {
        data.source = name;
        data
    })
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// The longest first line read to choose the delimiter (the rest of the line is read as usual).
const SNIFF_BYTES: u64 = 1 << 20;

/// Read CSV text: each data row is `features` numbers then an integer label `>= 0` in the last column;
/// `name` (the file's path) starts every error message and is the dataset's `source`.
///
/// Accepted: an optional header row (a first row with a cell that is not a number), a UTF-8 byte-order
/// mark, LF, CRLF or CR line ends, blank lines and rows of empty cells (skipped), lines starting with `#`
/// (comments), spaces around cells, quoted cells, empty cells at the end of every row (a spreadsheet's
/// unused columns), a label written as a whole number in any notation (`1`, `1.0`, `1e0`). The delimiter
/// is whichever of `;`, tab and `,` occurs most often in the first line that is neither blank nor a
/// comment (`,` when none does; `;` then tab
/// on ties, so that `1,5;2,5;0` reads as two decimal-comma numbers); with `;` or tab a decimal comma is
/// read as a decimal point. Everything else gets one [`DataError`] naming the line and column.
pub fn read_csv<R: Read>(reader: R, name: &str) -> Result<Dataset, DataError> {
    let unreadable = |e: io::Error| DataError::Unreadable {
        path: name.to_owned(),
        reason: io_reason(&e),
    };
    let mut buffered = BufReader::new(reader);
    // the lines up to the first that is neither blank nor a comment: the delimiter is chosen on it
    let mut head = Vec::new();
    loop {
        let start = head.len();
        let budget = SNIFF_BYTES.saturating_sub(start as u64);
        let read = (&mut buffered)
            .take(budget)
            .read_until(b'\n', &mut head)
            .map_err(unreadable)?;
        if start == 0 {
            if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
                return Err(DataError::File {
                    path: name.to_owned(),
                    problem: "the file is UTF-16 text; save it as \"CSV UTF-8\" (comma delimited)"
                        .to_owned(),
                });
            }
            if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
                head.drain(..3);
            }
        }
        let line = head[start.min(head.len())..].trim_ascii();
        if read == 0 || head.len() as u64 >= SNIFF_BYTES || !(line.is_empty() || line[0] == b'#') {
            break;
        }
    }
    let sniffed = head[..head.len().saturating_sub(1)]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let delimiter = sniff_delimiter(&head[sniffed..]);
    // every line end as LF, and one more at the end, so that each record ends with a '\n' and the
    // reader's line count after a record is the record's line + 1
    let text = Newlines::new(io::Cursor::new(head).chain(buffered)).chain(&b"\n"[..]);
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .comment(Some(b'#'))
        .from_reader(text);
    let mut table = Table::new(name, delimiter);
    let mut record = csv::ByteRecord::new();
    loop {
        let more = rows.read_byte_record(&mut record);
        let line = rows.position().line().saturating_sub(1).max(1);
        match more {
            Ok(true) => table.add(&record, line)?,
            Ok(false) => break,
            Err(e) => {
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(e) => unreadable(e),
                    kind => table.line_error(line, format!("cannot be read: {kind:?}")),
                });
            }
        }
    }
    table.finish()
}

/// A reader that turns CRLF and lone CR line ends into LF (in quoted cells too, where a line end in a
/// number is an error anyway), so that the CSV reader counts lines as an editor does.
struct Newlines<R> {
    inner: R,
    /// The last byte handed out was a CR (turned into LF): an LF right after it is dropped.
    after_cr: bool,
}

impl<R> Newlines<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            after_cr: false,
        }
    }
}

impl<R: Read> Read for Newlines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            // in place: each byte read writes at most one, at or before its own index
            let mut kept = 0;
            for at in 0..n {
                let b = buf[at];
                let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
                if b == b'\n' && after_cr {
                    continue;
                }
                buf[kept] = if b == b'\r' { b'\n' } else { b };
                kept += 1;
            }
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

/// `;`, tab or `,`: the most frequent in `line`, preferring `;` then tab on ties; `,` when none occurs.
fn sniff_delimiter(line: &[u8]) -> u8 {
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    let (semicolons, tabs, commas) = (count(b';'), count(b'\t'), count(b','));
    if semicolons > 0 && semicolons >= tabs && semicolons >= commas {
        b';'
    } else if tabs > 0 && tabs >= commas {
        b'\t'
    } else {
        b','
    }
}

/// The rows read so far and what the first row fixed (header, column count).
struct Table<'a> {
    name: &'a str,
    delimiter: u8,
    /// With `;` or tab between cells, `1,5` is one and a half.
    decimal_comma: bool,
    /// Columns of every row (features + 1), set by the first non-blank row.
    columns: Option<usize>,
    /// The header's cells, when the first row is one.
    header: Vec<String>,
    /// The line that fixed `columns`.
    first_line: u64,
    inputs: Vec<f64>,
    labels: Vec<u32>,
    /// Scratch: the current row's cells as text.
    cells: Vec<String>,
}

impl<'a> Table<'a> {
    fn new(name: &'a str, delimiter: u8) -> Self {
        Self {
            name,
            delimiter,
            decimal_comma: delimiter != b',',
            columns: None,
            header: Vec::new(),
            first_line: 0,
            inputs: Vec::new(),
            labels: Vec::new(),
            cells: Vec::new(),
        }
    }

    fn line_error(&self, line: u64, problem: String) -> DataError {
        DataError::Line {
            path: self.name.to_owned(),
            line,
            problem,
        }
    }

    /// An error about cell `index` (0-based) of `line`, naming the column's header where there is one.
    fn cell_error(&self, line: u64, index: usize, problem: String) -> DataError {
        let problem = match self.header.get(index).filter(|h| !h.is_empty()) {
            Some(title) => format!("(\"{title}\") {problem}"),
            None => problem,
        };
        DataError::Cell {
            path: self.name.to_owned(),
            line,
            column: index + 1,
            problem,
        }
    }

    fn file_error(&self, problem: String) -> DataError {
        DataError::File {
            path: self.name.to_owned(),
            problem,
        }
    }

    /// Take one record: the header, a data row, or nothing (a blank row).
    fn add(&mut self, record: &csv::ByteRecord, line: u64) -> Result<(), DataError> {
        self.cells.clear();
        for (index, raw) in record.iter().enumerate() {
            let Ok(text) = std::str::from_utf8(raw) else {
                return Err(self.cell_error(
                    line,
                    index,
                    "is not UTF-8 text; save the file as \"CSV UTF-8\"".to_owned(),
                ));
            };
            self.cells.push(clean_cell(text).to_owned());
        }
        // a spreadsheet's unused columns on the right: empty cells at the end of a row
        while self.cells.last().is_some_and(|c| c.is_empty()) {
            self.cells.pop();
        }
        if self.cells.is_empty() {
            return Ok(());
        }
        let Some(columns) = self.columns else {
            return self.start(line);
        };
        if self.labels.len() >= MAX_ROWS {
            return Err(self.line_error(
                line,
                format!("more than {MAX_ROWS} data rows; the limit is {MAX_ROWS}, so that a network trains live"),
            ));
        }
        if self.cells.len() != columns {
            return Err(self.ragged(line, record.len(), columns));
        }
        self.push_row(line, columns)
    }

    /// The first non-blank row: the header, or the first data row; either fixes the column count.
    fn start(&mut self, line: u64) -> Result<(), DataError> {
        let columns = self.cells.len();
        if columns < 2 {
            return Err(self.line_error(
                line,
                format!(
                    "only one column (between cells: {}); expected feature columns then an integer label in the last column",
                    match self.delimiter {
                        b';' => "';'",
                        b'\t' => "tab",
                        _ => "','",
                    }
                ),
            ));
        }
        if columns > MAX_FEATURES + 1 {
            return Err(self.line_error(
                line,
                format!(
                    "{} feature columns; the limit is {MAX_FEATURES}",
                    columns - 1
                ),
            ));
        }
        self.columns = Some(columns);
        self.first_line = line;
        let is_header = self
            .cells
            .iter()
            .any(|c| parse_number(c, self.decimal_comma).is_none());
        if is_header {
            self.header = self.cells.clone();
            return Ok(());
        }
        self.push_row(line, columns)
    }

    /// The current row's numbers and label onto the table.
    fn push_row(&mut self, line: u64, columns: usize) -> Result<(), DataError> {
        for index in 0..columns - 1 {
            let value = self.number(line, index)?;
            self.inputs.push(value);
        }
        let label = self.label(line, columns - 1)?;
        self.labels.push(label);
        Ok(())
    }

    fn ragged(&self, line: u64, raw_columns: usize, columns: usize) -> DataError {
        let found = self.cells.len();
        let origin = if self.header.is_empty() {
            format!("as line {}", self.first_line)
        } else {
            format!("as the header on line {}", self.first_line)
        };
        if found < columns && raw_columns >= columns {
            // the row has the columns, but the last ones are empty
            return self.cell_error(line, found, "is empty".to_owned());
        }
        self.line_error(
            line,
            format!("{found} columns, expected {columns} ({origin}: features then the label)"),
        )
    }

    /// Cell `index` of the current row as a finite number.
    fn number(&self, line: u64, index: usize) -> Result<f64, DataError> {
        let cell = &self.cells[index];
        if cell.is_empty() {
            return Err(self.cell_error(line, index, "is empty".to_owned()));
        }
        match parse_number(cell, self.decimal_comma) {
            Some(v) if v.is_finite() => Ok(v),
            Some(_) => Err(self.cell_error(
                line,
                index,
                format!("\"{cell}\" is not a finite number (NaN or infinite values cannot be learned from)"),
            )),
            None => Err(self.cell_error(
                line,
                index,
                format!("\"{}\" is not a number", shorten(cell)),
            )),
        }
    }

    /// Cell `index` of the current row as a class label: a whole number in `0..MAX_CLASSES`.
    fn label(&self, line: u64, index: usize) -> Result<u32, DataError> {
        let cell = &self.cells[index];
        if !cell.is_empty() && parse_number(cell, self.decimal_comma).is_none() {
            // a class name ("setosa"): say that the last column must be the class number
            return Err(self.cell_error(
                line,
                index,
                format!(
                    "label \"{}\" is not a number; the last column is the label, a class number 0, 1, 2, ...",
                    shorten(cell)
                ),
            ));
        }
        let value = self.number(line, index)?;
        let problem = if value < 0.0 {
            format!("label \"{cell}\" is negative; labels are class numbers 0, 1, 2, ...")
        } else if value.fract() != 0.0 {
            format!("label \"{cell}\" is not a whole number; labels are class numbers 0, 1, 2, ...")
        } else if value >= MAX_CLASSES as f64 {
            format!(
                "label \"{cell}\" is too large; labels are class numbers 0 to {}",
                MAX_CLASSES - 1
            )
        } else {
            return Ok(value as u32);
        };
        Err(self.cell_error(line, index, problem))
    }

    fn finish(self) -> Result<Dataset, DataError> {
        let Some(columns) = self.columns else {
            return Err(self.file_error(
                "the file is empty; expected feature columns then an integer label in the last column"
                    .to_owned(),
            ));
        };
        if self.labels.is_empty() {
            return Err(self.file_error(format!(
                "only a header row (line {}), no data rows",
                self.first_line
            )));
        }
        let first = self.labels[0];
        if self.labels.iter().all(|&l| l == first) {
            return Err(self.file_error(format!(
                "every row has label {first}: a classifier needs at least two classes"
            )));
        }
        Dataset::new(self.inputs, columns - 1, self.labels, self.name)
    }
}

/// A cell without surrounding spaces, and without quotes that spaces kept the reader from seeing
/// (` "1.5" `).
fn clean_cell(text: &str) -> &str {
    let trimmed = text.trim();
    match trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.trim(),
        None => trimmed,
    }
}

/// A number in Rust's float syntax (`1`, `-2.5`, `1e-3`, `inf`, `NaN`); with `decimal_comma` also `1,5`.
fn parse_number(cell: &str, decimal_comma: bool) -> Option<f64> {
    if let Ok(v) = cell.parse::<f64>() {
        return Some(v);
    }
    if decimal_comma && cell.matches(',').count() == 1 && !cell.contains('.') {
        return cell.replacen(',', ".", 1).parse::<f64>().ok();
    }
    None
}

/// At most 40 characters of a cell, for a message.
fn shorten(cell: &str) -> String {
    if cell.chars().count() <= 40 {
        cell.to_owned()
    } else {
        let head: String = cell.chars().take(40).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(text: &str) -> Result<Dataset, DataError> {
        read_csv(text.as_bytes(), "data.csv")
    }

    fn message(text: &str) -> String {
        match read(text) {
            Ok(data) => panic!("expected an error, read {} rows", data.len()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn builtins_are_deterministic_balanced_two_class_and_about_unit_scale() {
        for kind in Builtin::ALL {
            let a = kind.generate(201, 0.1, 7).expect("valid");
            assert_eq!(a, kind.generate(201, 0.1, 7).expect("valid"), "{kind}");
            assert_ne!(
                a.inputs(),
                kind.generate(201, 0.1, 8).expect("valid").inputs()
            );
            assert_eq!((a.len(), a.features(), a.classes()), (201, 2, 2), "{kind}");
            assert_eq!(a.class_counts(), vec![100, 101], "{kind}");
            for f in 0..2 {
                let [lo, hi] = a.feature_range(f).expect("a feature");
                assert!(
                    lo > -1.6 && hi < 2.3 && hi - lo > 0.9,
                    "{kind} {f}: {lo}..{hi}"
                );
            }
            // shuffled: the labels are not sorted
            assert!(a.labels().windows(2).any(|w| w[0] > w[1]), "{kind}");
            assert!(a.source().starts_with(kind.name()));
        }
    }

    #[test]
    fn noiseless_builtins_lie_on_their_curves() {
        let moons = Builtin::Moons.generate(100, 0.0, 1).expect("valid");
        for i in 0..moons.len() {
            let (p, label) = moons.point(i).expect("in range");
            // class 0 on the unit circle around (0, 0), class 1 around (1, 0.5), each a half circle
            let centre = if label == 0 { [0.0, 0.0] } else { [1.0, 0.5] };
            let r = (p[0] - centre[0]).hypot(p[1] - centre[1]);
            assert!((r - 1.0).abs() < 1e-12, "{p:?} {label}");
            assert!(if label == 0 {
                p[1] >= -1e-12
            } else {
                p[1] <= 0.5 + 1e-12
            });
        }
        let circles = Builtin::Circles.generate(100, 0.0, 1).expect("valid");
        for i in 0..circles.len() {
            let (p, label) = circles.point(i).expect("in range");
            let r = p[0].hypot(p[1]);
            assert!((r - if label == 0 { 1.0 } else { 0.5 }).abs() < 1e-12);
        }
        let xor = Builtin::Xor.generate(100, 0.0, 1).expect("valid");
        for i in 0..xor.len() {
            let (p, label) = xor.point(i).expect("in range");
            assert!(p.iter().all(|v| v.abs() <= 1.0));
            assert_eq!(label, u32::from(p[0] * p[1] < 0.0));
        }
        let spirals = Builtin::Spirals.generate(100, 0.0, 1).expect("valid");
        let radii: Vec<f64> = (0..100)
            .map(|i| spirals.point(i).map_or(0.0, |(p, _)| p[0].hypot(p[1])))
            .collect();
        assert!(radii.iter().all(|&r| (0.1 - 1e-12..1.0).contains(&r)));
        // the two arms are the same curve half a turn apart: the point at t of class 1 is minus class 0's
        let arm = |class| {
            let mut points: Vec<[f64; 2]> = (0..100)
                .filter_map(|i| spirals.point(i))
                .filter(|&(_, l)| l == class)
                .map(|(p, _)| [p[0], p[1]])
                .collect();
            points.sort_by(|a, b| a[0].hypot(a[1]).total_cmp(&b[0].hypot(b[1])));
            points
        };
        for (a, b) in arm(0).iter().zip(arm(1)) {
            assert!((a[0] + b[0]).abs() < 1e-12 && (a[1] + b[1]).abs() < 1e-12);
        }
    }

    #[test]
    fn builtin_generators_refuse_bad_sizes_and_noise() {
        for (size, noise) in [(3, 0.1), (100_001, 0.1), (200, -0.1), (200, f64::NAN)] {
            let e = Builtin::Moons
                .generate(size, noise, 0)
                .expect_err("refused");
            let text = e.to_string();
            assert!(text.starts_with("invalid moons dataset: "), "{text}");
        }
        assert!(Builtin::Spirals.generate(4, 0.0, 0).is_ok());
        assert_eq!(
            Builtin::from_name("moon").expect_err("unknown").to_string(),
            "unknown dataset 'moon'; valid names: moons, circles, spirals, xor"
        );
        for (kind, name) in Builtin::ALL.iter().zip(Builtin::NAMES) {
            assert_eq!(Builtin::from_name(name), Ok(*kind));
        }
    }

    #[test]
    fn data_specs_read_from_ron_with_defaults_and_command_line_names() {
        let spec: DataSpec =
            ron::from_str("Builtin(kind: Moons, size: 300, noise: 0.2, seed: 4)").expect("valid");
        assert_eq!(
            spec,
            DataSpec::Builtin {
                kind: Builtin::Moons,
                size: 300,
                noise: 0.2,
                seed: 4
            }
        );
        let short: DataSpec = ron::from_str("Builtin(kind: spirals)").expect("valid");
        assert_eq!(short, DataSpec::builtin(Builtin::Spirals));
        assert_eq!(short.load().expect("valid").len(), 200);
        let csv: DataSpec = ron::from_str("Csv(path: \"data/iris.csv\")").expect("valid");
        assert_eq!(
            csv,
            DataSpec::Csv {
                path: "data/iris.csv".into()
            }
        );
        let text = ron::to_string(&spec).expect("serializable");
        assert_eq!(ron::from_str::<DataSpec>(&text).expect("round trip"), spec);
        assert!(ron::from_str::<DataSpec>("Builtin(kind: Moons, sise: 3)").is_err());
    }

    #[test]
    fn a_plain_csv_with_a_header_reads() {
        let data = read("x,y,label\n0.5,1,0\n-2,3e-1,1\n4,5,2\n").expect("valid");
        assert_eq!(data.inputs(), &[0.5, 1.0, -2.0, 0.3, 4.0, 5.0]);
        assert_eq!(data.labels(), &[0, 1, 2]);
        assert_eq!((data.features(), data.classes()), (2, 3));
        let headless = read("0.5,1,0\n-2,0.3,1").expect("valid");
        assert_eq!(headless.labels(), &[0, 1]);
        assert_eq!(headless.point(1), Some((&[-2.0, 0.3][..], 1)));
        assert_eq!(headless.point(2), None);
    }

    #[test]
    fn a_spreadsheet_export_just_works() {
        // BOM, CRLF, spaces, quoted numbers (with spaces outside the quotes too), 1.0 as a label, unused
        // columns on the right, blank and empty-cell rows at the end
        let text = "\u{feff}\"sepal length\", \"sepal width\" ,class,,\r\n 5.1 ,\"3.5\",0,,\r\n4.9, \"3.0\" ,1.0,,\r\n6.2,2.8,2,,\r\n\r\n,,,,\r\n\r\n";
        let data = read(text).expect("a spreadsheet export");
        assert_eq!(data.inputs(), &[5.1, 3.5, 4.9, 3.0, 6.2, 2.8]);
        assert_eq!(data.labels(), &[0, 1, 2]);
        // a European export: ';' between cells, decimal commas
        let data = read("x;y;label\r\n1,5;-0,25;0\r\n2;3,75;1\r\n").expect("decimal commas");
        assert_eq!(data.inputs(), &[1.5, -0.25, 2.0, 3.75]);
        // the same without a header: the first line has as many ',' as ';'
        let data = read("1,5;-0,25;0\n2;3,75;1\n").expect("decimal commas, no header");
        assert_eq!(data.inputs(), &[1.5, -0.25, 2.0, 3.75]);
        // tab separated, comment lines
        let data = read("# made by hand\nx\ty\tc\n1\t2\t0\n3\t4\t1\n").expect("tabs");
        assert_eq!((data.len(), data.features()), (2, 2));
        // old Mac line ends (CR only)
        let data = read("x,y,c\r1,2,0\r3,4,1\r").expect("CR line ends");
        assert_eq!(data.labels(), &[0, 1]);
        // any number of features
        let data = read("1,2,3,4,5,0\n6,7,8,9,10,1\n").expect("five features");
        assert_eq!(data.features(), 5);
    }

    #[test]
    fn bad_files_get_one_line_naming_file_line_and_column() {
        let cases = [
            (
                "",
                "data.csv: the file is empty; expected feature columns then an integer label in the last column",
            ),
            (
                "\r\n\r\n",
                "data.csv: the file is empty; expected feature columns then an integer label in the last column",
            ),
            (
                "x,y,label\n",
                "data.csv: only a header row (line 1), no data rows",
            ),
            (
                "x,y,label\n1,2,0\n3,4\n",
                "data.csv, line 3: 2 columns, expected 3 (as the header on line 1: features then the label)",
            ),
            (
                "1,2,0\n3,4,1,5\n",
                "data.csv, line 2: 4 columns, expected 3 (as line 1: features then the label)",
            ),
            ("1,2,0\n3,,1\n", "data.csv, line 2, column 2: is empty"),
            (
                "1,2,0\n3,4,\n5,6,1\n",
                "data.csv, line 2, column 3: is empty",
            ),
            (
                "x,y,label\n1,2,0\n3,\"abc\",1\n",
                "data.csv, line 3, column 2: (\"y\") \"abc\" is not a number",
            ),
            (
                "1,2,0\n3,NaN,1\n",
                "data.csv, line 2, column 2: \"NaN\" is not a finite number (NaN or infinite values cannot be learned from)",
            ),
            (
                "1,2,0\n-inf,2,1\n",
                "data.csv, line 2, column 1: \"-inf\" is not a finite number (NaN or infinite values cannot be learned from)",
            ),
            (
                "1,2,0\n3,4,-1\n",
                "data.csv, line 2, column 3: label \"-1\" is negative; labels are class numbers 0, 1, 2, ...",
            ),
            (
                "a,b,c\n1,2,0\n3,4,1.5\n",
                "data.csv, line 3, column 3: (\"c\") label \"1.5\" is not a whole number; labels are class numbers 0, 1, 2, ...",
            ),
            (
                "x,y,species\n1,2,setosa\n",
                "data.csv, line 2, column 3: (\"species\") label \"setosa\" is not a number; the last column is the label, a class number 0, 1, 2, ...",
            ),
            (
                "1,2,0\n3,4,1000\n",
                "data.csv, line 2, column 3: label \"1000\" is too large; labels are class numbers 0 to 999",
            ),
            (
                "x,y,label\n1,2,1\n3,4,1\n",
                "data.csv: every row has label 1: a classifier needs at least two classes",
            ),
            (
                "1\n2\n",
                "data.csv, line 1: only one column (between cells: ','); expected feature columns then an integer label in the last column",
            ),
            (
                "\u{feff}\r\nx,y,l\r\n1,2,0\r\n1,2\r\n",
                "data.csv, line 4: 2 columns, expected 3 (as the header on line 2: features then the label)",
            ),
            (
                "# comment\n\nx,y,l\n\n1,2,0\n# more\n\n\"3\",\"4x\",\"1\"",
                "data.csv, line 8, column 2: (\"y\") \"4x\" is not a number",
            ),
            (
                "x,y,l\r1,2,0\r3,4,0.5\r",
                "data.csv, line 3, column 3: (\"l\") label \"0.5\" is not a whole number; labels are class numbers 0, 1, 2, ...",
            ),
            (
                "x,y,l\r\n\"1\",\"2\",\"0\"\r\n\"3\",\"4\",\"1\"\r\n5,6\r\n",
                "data.csv, line 4: 2 columns, expected 3 (as the header on line 1: features then the label)",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(message(text), expected, "{text:?}");
        }
        let utf16 = [0xFF, 0xFE, b'1', 0, b',', 0];
        assert_eq!(
            read_csv(&utf16[..], "data.csv")
                .expect_err("UTF-16")
                .to_string(),
            "data.csv: the file is UTF-16 text; save it as \"CSV UTF-8\" (comma delimited)"
        );
        let latin1 = b"1,2,0\n3,\xE94,1\n";
        assert_eq!(
            read_csv(&latin1[..], "data.csv")
                .expect_err("not UTF-8")
                .to_string(),
            "data.csv, line 2, column 2: is not UTF-8 text; save the file as \"CSV UTF-8\""
        );
    }

    #[test]
    fn too_large_files_are_refused_with_the_limit() {
        let mut rows = String::from("x,label\n");
        for i in 0..=MAX_ROWS {
            rows.push_str(&format!("{i},{}\n", i % 2));
        }
        assert_eq!(
            message(&rows),
            "data.csv, line 100002: more than 100000 data rows; the limit is 100000, so that a network trains live"
        );
        let wide = vec!["1"; MAX_FEATURES + 2].join(",");
        assert_eq!(
            message(&wide),
            "data.csv, line 1: 1001 feature columns; the limit is 1000"
        );
        let widest = format!(
            "{},0\n{},1\n",
            vec!["1"; 1000].join(","),
            vec!["2"; 1000].join(",")
        );
        assert_eq!(read(&widest).expect("1000 features").features(), 1000);
    }

    #[test]
    fn files_load_from_disk_and_missing_ones_say_so() {
        let dir = std::env::temp_dir().join(format!("losscape-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp folder");
        let path = dir.join("two.csv");
        std::fs::write(&path, "a,b\n1,0\n2,1\n").expect("written");
        let data = DataSpec::Csv { path: path.clone() }.load().expect("valid");
        assert_eq!((data.len(), data.source()), (2, "two.csv"));
        let missing = dir.join("nope.csv");
        assert_eq!(
            load_csv(&missing).expect_err("missing").to_string(),
            format!("cannot read data file {}: no such file", missing.display())
        );
        let folder = load_csv(&dir).expect_err("a folder").to_string();
        assert!(folder.starts_with("cannot read data file"), "{folder}");
        std::fs::remove_dir_all(&dir).expect("removed");
    }

    #[test]
    fn datasets_check_their_shape_and_subsets_keep_the_classes() {
        assert!(Dataset::new(vec![1.0, 2.0], 2, vec![0], "one").is_ok());
        assert!(Dataset::new(vec![1.0], 2, vec![0], "short").is_err());
        assert!(Dataset::new(vec![], 0, vec![], "nothing").is_err());
        assert!(Dataset::new(vec![f64::NAN, 0.0], 2, vec![0], "nan").is_err());
        assert!(Dataset::new(vec![0.0], 1, vec![1000], "label").is_err());
        let data = Dataset::new(vec![0.0, 1.0, 2.0, 3.0], 1, vec![0, 1, 2, 1], "d").expect("valid");
        let sub = data.subset(&[3, 1, 3]).expect("in range");
        assert_eq!(
            (sub.inputs(), sub.labels(), sub.classes()),
            (&[3.0, 1.0, 3.0][..], &[1, 1, 1][..], 3)
        );
        assert_eq!(data.subset(&[4]), None);
        assert_eq!(data.subset(&[]), None);
        assert_eq!(data.feature_range(0), Some([0.0, 3.0]));
        assert_eq!(data.feature_range(1), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_bytes_make_the_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_csv(&bytes[..], "random.csv");
        }

        #[test]
        fn no_csv_like_text_makes_the_reader_panic(
            text in "[0-9a-z.,;\t\" \r\n#+eE-]{0,300}",
            bom in any::<bool>(),
        ) {
            let text = if bom { format!("\u{feff}{text}") } else { text };
            if let Ok(data) = read(&text) {
                prop_assert!(data.classes() >= 2 && data.inputs().iter().all(|v| v.is_finite()));
            }
        }
    }
}
