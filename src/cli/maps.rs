//! What `losscape sweep` and `losscape basins` share: the output file (CSV or PNG, chosen by the
//! extension, opened before anything is computed), the thread pool, and the progress line on stderr
//! while the map is computed in the background.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::process::ExitCode;

use crate::core::Landscape;
use crate::core::maps::{MapJob, MapSpec};

/// Where a map goes.
pub(super) enum Sink {
    /// CSV on stdout (no `--out`).
    Stdout,
    /// CSV into a file.
    Csv(File),
    /// A PNG picture into a file.
    Png(File),
}

impl Sink {
    /// Opens `out` for writing now, so that an unwritable path is refused before minutes of work:
    /// `.png` (any case) is a picture, anything else CSV; no path is CSV on stdout.
    pub(super) fn open(out: Option<&PathBuf>) -> Result<Self, String> {
        let Some(path) = out else {
            return Ok(Self::Stdout);
        };
        let file = File::create(path)
            .map_err(|err| format!("cannot write '{}': {err}", path.display()))?;
        let png = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        Ok(if png {
            Self::Png(file)
        } else {
            Self::Csv(file)
        })
    }

    /// Writes the map: `csv` into stdout or the CSV file (a pipe closed early, as by `| head`, is not an
    /// error), `png` into the PNG file. Exit 0, or one `error: writing TARGET failed` line and exit 1;
    /// `out` is the `--out` path, for the message.
    pub(super) fn write(
        self,
        out: Option<&Path>,
        csv: impl FnOnce(&mut dyn Write) -> io::Result<()>,
        png: impl FnOnce(File) -> Result<(), String>,
    ) -> ExitCode {
        let written = match self {
            Self::Stdout => match csv(&mut BufWriter::new(io::stdout().lock())) {
                Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(|e| e.to_string()),
            },
            Self::Csv(file) => {
                let mut writer = BufWriter::new(file);
                csv(&mut writer)
                    .and_then(|()| writer.flush())
                    .map_err(|e| e.to_string())
            }
            Self::Png(file) => png(file),
        };
        match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: writing {} failed: {err}", target_name(out));
                ExitCode::from(super::EXIT_FAILURE)
            }
        }
    }
}

/// Builds a pool of `threads` threads (`None`: rayon's global pool, one thread per core).
pub(super) fn pool(threads: Option<usize>) -> Result<Option<rayon::ThreadPool>, String> {
    let Some(n) = threads else { return Ok(None) };
    if !(1..=1024).contains(&n) {
        return Err(format!("--threads {n} must be between 1 and 1024"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map(Some)
        .map_err(|e| format!("cannot start {n} threads: {e}"))
}

/// Prints `warnings`, then computes `spec`'s map on `landscape` on a background thread (inside `pool` if
/// given), showing its progress on stderr while waiting: a percentage line rewritten five times a second
/// when stderr is a terminal (a line a second after the first second otherwise). Returns the map and
/// the wall time; an error (the arguments were checked before, so it is reported rather than
/// unwrapped) is one `error:` line and the usage exit code, to return from the command.
pub(super) fn compute_with_progress<S: MapSpec>(
    label: &str,
    spec: S,
    landscape: Landscape,
    pool: Option<rayon::ThreadPool>,
    warnings: Vec<String>,
) -> Result<(S::Output, Duration), ExitCode> {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let started = Instant::now();
    let mut job = MapJob::spawn(spec.cells(), move |cells| match &pool {
        Some(pool) => pool.install(|| spec.compute(&landscape, cells)),
        None => spec.compute(&landscape, cells),
    });
    let live = io::stderr().is_terminal();
    let line = |(done, total): (u64, u64)| {
        let pct = 100.0 * done as f64 / total.max(1) as f64;
        format!("\r{label}: {pct:5.1} % ({done} / {total} cells)")
    };
    let mut shown: Option<Instant> = None;
    let result = loop {
        if let Some(result) = job.try_take() {
            break result;
        }
        // Look often (a small map ends at once). On a terminal, rewrite the line five times a second;
        // into a log, a line a second once the map has taken a second.
        if live && shown.is_none_or(|at| at.elapsed() >= Duration::from_millis(200)) {
            eprint!("{}", line(job.progress()));
            let _ = io::stderr().flush();
            shown = Some(Instant::now());
        } else if !live
            && started.elapsed() >= Duration::from_secs(1)
            && shown.is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            eprintln!("{}", line(job.progress()).trim_start_matches('\r'));
            shown = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    if live && shown.is_some() {
        eprintln!("{}", line(job.progress()));
    }
    result.map(|map| (map, elapsed)).map_err(super::usage_error)
}

/// Writes an RGBA8 picture of `width` x `height` as a PNG, each pixel blown up to a square so that
/// the picture is about 512 pixels on its longer side, with `text` as tEXt chunks (keyword, text).
pub(super) fn write_png(
    file: File,
    rgba: &[u8],
    width: usize,
    height: usize,
    text: &[(&str, String)],
) -> Result<(), String> {
    let factor = (512 / width.max(height)).max(1);
    let big = crate::core::maps::color::upscale(rgba, width, height, factor);
    let err = |e: png::EncodingError| format!("writing the PNG failed: {e}");
    let mut encoder = png::Encoder::new(
        io::BufWriter::new(file),
        (width * factor) as u32,
        (height * factor) as u32,
    );
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    for (keyword, value) in text {
        encoder
            .add_text_chunk((*keyword).to_owned(), value.clone())
            .map_err(err)?;
    }
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(&big).map_err(err)?;
    writer.finish().map_err(err)
}

/// `'path'` or `stdout`, for messages.
pub(super) fn target_name(out: Option<&Path>) -> String {
    out.map_or("stdout".to_owned(), |p| format!("'{}'", p.display()))
}

/// Steps per second in millions, for the summary line.
pub(super) fn rate(steps: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    format!(
        "{:.1} M steps in {secs:.2} s ({:.1} M steps/s)",
        steps as f64 / 1e6,
        steps as f64 / secs / 1e6
    )
}
