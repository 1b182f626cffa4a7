//! The GIF encoder: a background thread fed RGBA frames through a channel. It crops and scales each frame
//! to the clip's size, draws the legend, quantizes, LZW-encodes into memory while the recording goes on,
//! and on [`GifEncoder::save`] writes `<target>.part` and renames it onto the target, so an interrupted
//! write never leaves a broken GIF there. A failed save keeps the encoded clip for another path.
//!
//! Colour: [`PaletteMode::Global`] (the default) builds one 256-colour palette from the first frame with
//! NeuQuant (the optimizers' and legend's colours reserved exactly), so the smooth surface keeps the same
//! shades in every frame (no flicker between frames) and later frames store only the pixels that changed;
//! [`PaletteMode::PerFrame`] quantizes every frame on its own, for clips where the camera moves a lot.

use std::{
    collections::VecDeque,
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError},
    thread::JoinHandle,
};

use super::frame::{CropRect, RgbaImage, crop_and_fit};
use super::legend::{LegendState, draw_legend};
use super::raster::ShapePainter;

/// Frames waiting for the encoder before [`GifEncoder::try_push`] drops one (the app never waits).
pub const QUEUE_FRAMES: usize = 48;
/// Pixel buffers kept for reuse ([`GifEncoder::spare_buffer`]).
const SPARE_BUFFERS: usize = 4;

/// How colours are chosen (also `losscape render --palette global|frame`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PaletteMode {
    /// One palette for the whole clip, from the first frame; later frames store only changed pixels.
    #[default]
    Global,
    /// A palette per frame (bigger files; for a moving camera).
    #[value(name = "frame")]
    PerFrame,
}

/// What the clip looks like.
#[derive(Clone, Debug, PartialEq)]
pub struct GifSettings {
    /// Output size in pixels (each 1 ..= 4096).
    pub width: u32,
    pub height: u32,
    /// Nominal frames per second (10 ..= 50); the last frame is shown this long.
    pub fps: f64,
    pub palette: PaletteMode,
    /// sRGB colours that must come out exactly (the optimizers' colours, the legend's).
    pub reserved: Vec<[u8; 3]>,
    /// Fills the margins when a frame's aspect ratio differs from the clip's.
    pub background: [u8; 3],
}

/// One captured frame, with where to cut the clip from it.
#[derive(Clone, Debug)]
pub struct FrameIn {
    pub image: RgbaImage,
    /// The part of `image` to use (physical pixels); the whole image when `None`.
    pub crop: Option<CropRect>,
    /// Seconds since the recording started: the frame stays on screen until the next one's time.
    pub time_s: f64,
    /// The legend and step counter to draw, if asked for.
    pub legend: Option<LegendState>,
}

/// What the encoder thread reports.
#[derive(Clone, Debug, PartialEq)]
pub enum EncoderEvent {
    /// The GIF is complete at `path`.
    Saved {
        path: PathBuf,
        frames: u32,
        bytes: u64,
    },
    /// Writing `path` failed; the clip is kept, save again to another path.
    SaveFailed { path: PathBuf, error: String },
    /// A frame could not be encoded (it was left out).
    FrameError(String),
    /// The encoder thread ended without saving (it failed); the clip is lost.
    Stopped(String),
}

enum Msg {
    Frame(Box<FrameIn>),
    Save(PathBuf),
    Discard,
}

/// Handle to the encoder thread.
pub struct GifEncoder {
    tx: SyncSender<Msg>,
    // behind a mutex so the handle can live in a Bevy resource (Send + Sync)
    events: std::sync::Mutex<Receiver<EncoderEvent>>,
    /// Pixel buffers of encoded frames, handed back for the next frames (no allocation per frame).
    spare: std::sync::Mutex<Receiver<Vec<u8>>>,
    thread: Option<JoinHandle<()>>,
    sent: u32,
    dropped: u32,
}

impl GifEncoder {
    /// Starts the encoder thread; fails when the settings cannot make a GIF.
    pub fn start(settings: GifSettings) -> Result<Self, String> {
        validate(&settings)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_FRAMES);
        let (event_tx, events) = mpsc::channel();
        let (spare_tx, spare) = mpsc::sync_channel(SPARE_BUFFERS);
        let thread = std::thread::Builder::new()
            .name("losscape gif encoder".into())
            .spawn(move || run(settings, rx, event_tx, spare_tx))
            .map_err(|e| format!("cannot start the GIF encoder: {e}"))?;
        Ok(Self {
            tx,
            events: std::sync::Mutex::new(events),
            spare: std::sync::Mutex::new(spare),
            thread: Some(thread),
            sent: 0,
            dropped: 0,
        })
    }

    /// Queues a frame, waiting while the queue is full (the headless renderer).
    pub fn push(&mut self, frame: FrameIn) -> Result<(), String> {
        self.tx
            .send(Msg::Frame(Box::new(frame)))
            .map_err(|_| "the GIF encoder stopped".to_string())?;
        self.sent += 1;
        Ok(())
    }

    /// Queues a frame without waiting; a full queue drops it (the app must never stall). Returns whether
    /// it was queued.
    pub fn try_push(&mut self, frame: FrameIn) -> bool {
        match self.tx.try_send(Msg::Frame(Box::new(frame))) {
            Ok(()) => {
                self.sent += 1;
                true
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped += 1;
                false
            }
        }
    }

    /// A pixel buffer the encoder is done with, to paint the next frame into, if one is free. It holds an
    /// earlier frame exactly as it was pushed (uncropped, no legend drawn by the encoder).
    pub fn spare_buffer(&self) -> Option<Vec<u8>> {
        self.spare.lock().ok()?.try_recv().ok()
    }

    /// Frames queued so far.
    pub fn frames(&self) -> u32 {
        self.sent
    }

    /// Frames dropped because the encoder fell behind.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Asks the thread to finish the clip and write it to `path` (answered by an [`EncoderEvent`]).
    /// May be called again after [`EncoderEvent::SaveFailed`].
    pub fn save(&self, path: PathBuf) -> Result<(), String> {
        self.tx
            .send(Msg::Save(path))
            .map_err(|_| "the GIF encoder stopped".to_string())
    }

    /// Events reported since the last call.
    pub fn poll(&self) -> Vec<EncoderEvent> {
        let Ok(rx) = self.events.lock() else {
            return vec![EncoderEvent::Stopped(STOPPED.into())];
        };
        let mut events: Vec<EncoderEvent> = rx.try_iter().collect();
        // a thread that ended reported everything it had to say before; if that was not a save, it died
        let ended = self.thread.as_ref().is_some_and(|t| t.is_finished());
        if ended
            && !events
                .iter()
                .any(|e| matches!(e, EncoderEvent::Saved { .. }))
        {
            events.extend(rx.try_iter());
            events.push(EncoderEvent::Stopped(STOPPED.into()));
        }
        events
    }

    /// Saves to `path` and waits for the answer (the command line).
    pub fn save_blocking(mut self, path: PathBuf) -> Result<(u32, u64), String> {
        self.save(path)?;
        let mut frame_error = None;
        let events = match self.events.lock() {
            Ok(rx) => rx,
            Err(_) => return Err("the GIF encoder's reports were lost".into()),
        };
        let result = loop {
            match events.recv() {
                Ok(EncoderEvent::Saved { frames, bytes, .. }) => break Ok((frames, bytes)),
                Ok(EncoderEvent::SaveFailed { error, .. }) => break Err(error),
                Ok(EncoderEvent::FrameError(e)) => frame_error = Some(e),
                // only `poll` reports this; the thread itself never sends it
                Ok(EncoderEvent::Stopped(e)) => break Err(e),
                Err(_) => {
                    break Err(frame_error.take().unwrap_or_else(|| STOPPED.into()));
                }
            }
        };
        drop(events);
        let _ = self.tx.send(Msg::Discard);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        match (result, frame_error) {
            (Ok(_), Some(e)) => Err(e),
            (r, _) => r,
        }
    }
}

impl Drop for GifEncoder {
    fn drop(&mut self) {
        // the thread ends when it reads Discard or sees the channel close; never wait on it here
        let _ = self.tx.try_send(Msg::Discard);
        self.thread.take();
    }
}

fn validate(s: &GifSettings) -> Result<(), String> {
    if !(1..=4096).contains(&s.width) || !(1..=4096).contains(&s.height) {
        return Err(format!(
            "GIF size {}x{} is out of range (1..4096 each)",
            s.width, s.height
        ));
    }
    if !(s.fps.is_finite() && (1.0..=100.0).contains(&s.fps)) {
        return Err(format!("frame rate {} is out of range", s.fps));
    }
    if s.reserved.len() > 64 {
        return Err("too many reserved colours (64 at most)".into());
    }
    Ok(())
}

/// Frame delays in the GIF's unit (1/100 s), with the rounding error carried so that a 30 fps clip lasts
/// exactly as long as it should (3, 3, 4, 3, 3, 4 ... centiseconds).
#[derive(Clone, Copy, Debug, Default)]
pub struct DelayClock {
    emitted_cs: i64,
}

impl DelayClock {
    /// Delay for a frame shown from `start_s` to `end_s` (seconds since the clip started); at least 2 cs
    /// (browsers slow down shorter delays to 10 cs).
    pub fn delay_cs(&mut self, end_s: f64) -> u16 {
        let end_cs = (end_s.max(0.0) * 100.0).round() as i64;
        let d = (end_cs - self.emitted_cs).clamp(2, u16::MAX as i64);
        self.emitted_cs += d;
        d as u16
    }
}

/// The LZW compression of frames, on a thread of its own (the most expensive step of encoding), so it
/// overlaps with the next frame's palette lookup. Frames come back in the order they were sent.
struct Compressor {
    tx: SyncSender<gif::Frame<'static>>,
    rx: Receiver<gif::Frame<'static>>,
}

impl Compressor {
    fn start() -> Result<Self, String> {
        let (tx, work) = mpsc::sync_channel::<gif::Frame<'static>>(8);
        let (done, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("losscape gif lzw".into())
            .spawn(move || {
                for mut frame in work {
                    frame.make_lzw_pre_encoded();
                    if done.send(frame).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| format!("cannot start the GIF compressor: {e}"))?;
        Ok(Self { tx, rx })
    }
}

const COMPRESSOR_STOPPED: &str = "the GIF compressor stopped";
const STOPPED: &str = "the GIF encoder stopped unexpectedly; the clip is lost";

/// The encoder thread's state.
struct Clip {
    settings: GifSettings,
    encoder: Option<gif::Encoder<Vec<u8>>>,
    palette: Option<GlobalPalette>,
    /// The previous frame's RGBA pixels and the palette index each pixel shows (global palette).
    previous: Vec<u8>,
    canvas: Vec<u8>,
    compressor: Compressor,
    /// Times of the frames sent to the compressor and not written yet, oldest first (a frame's delay is
    /// known only when the next one arrives), and those of them compressed so far.
    times: VecDeque<f64>,
    compressed: VecDeque<gif::Frame<'static>>,
    clock: DelayClock,
    frames: u32,
    legend: ShapePainter,
    /// Buffers handed back ([`GifEncoder::spare_buffer`]): only ones holding a frame's pixels exactly as
    /// they were pushed (nothing cropped or drawn into them here), which the command line relies on.
    spare: SyncSender<Vec<u8>>,
    scratch_as_pushed: bool,
    previous_as_pushed: bool,
    scratch: RgbaImage,
    finished: Option<Vec<u8>>,
}

fn run(
    settings: GifSettings,
    rx: Receiver<Msg>,
    events: Sender<EncoderEvent>,
    spare: SyncSender<Vec<u8>>,
) {
    let compressor = match Compressor::start() {
        Ok(c) => c,
        Err(e) => {
            let _ = events.send(EncoderEvent::FrameError(e));
            return;
        }
    };
    let mut clip = Clip {
        spare,
        scratch_as_pushed: false,
        previous_as_pushed: false,
        compressor,
        times: VecDeque::new(),
        compressed: VecDeque::new(),
        scratch: RgbaImage::new(settings.width, settings.height),
        settings,
        encoder: None,
        palette: None,
        previous: Vec::new(),
        canvas: Vec::new(),
        clock: DelayClock::default(),
        frames: 0,
        legend: ShapePainter::default(),
        finished: None,
    };
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Frame(frame) => {
                if clip.finished.is_some() {
                    continue;
                }
                if let Err(e) = clip.add(*frame) {
                    let _ = events.send(EncoderEvent::FrameError(e));
                }
            }
            Msg::Save(path) => {
                if let Err(error) = clip.finish() {
                    let _ = events.send(EncoderEvent::SaveFailed { path, error });
                    continue;
                }
                let bytes = clip.finished.as_deref().unwrap_or_default();
                match write_atomically(&path, bytes) {
                    Ok(()) => {
                        let _ = events.send(EncoderEvent::Saved {
                            path,
                            frames: clip.frames,
                            bytes: bytes.len() as u64,
                        });
                        return;
                    }
                    Err(error) => {
                        let _ = events.send(EncoderEvent::SaveFailed { path, error });
                    }
                }
            }
            Msg::Discard => return,
        }
    }
}

impl Clip {
    fn add(&mut self, frame: FrameIn) -> Result<(), String> {
        let (w, h) = (self.settings.width, self.settings.height);
        if frame.crop.is_none()
            && (frame.image.width, frame.image.height) == (w, h)
            && frame.image.data.len() == w as usize * h as usize * 4
        {
            // already the clip's size (the command line's frames): used as it is
            let done = std::mem::replace(&mut self.scratch, frame.image);
            if std::mem::replace(&mut self.scratch_as_pushed, true) {
                // nobody may want it (the app): then it is dropped
                let _ = self.spare.try_send(done.data);
            }
        } else {
            // the buffer swapped in from the previous frame may be empty (after the first frame)
            self.scratch.data.resize(w as usize * h as usize * 4, 255);
            crop_and_fit(
                &frame.image,
                frame.crop,
                &mut self.scratch,
                self.settings.background,
            )?;
            self.scratch_as_pushed = false;
        }
        if let Some(legend) = &frame.legend {
            draw_legend(&mut self.legend, &mut self.scratch, legend);
            self.scratch_as_pushed = false;
        }
        let gif_frame = match self.settings.palette {
            PaletteMode::PerFrame => {
                let mut rgba = self.scratch.data.clone();
                gif::Frame::from_rgba_speed(w as u16, h as u16, &mut rgba, 10)
            }
            PaletteMode::Global => {
                let palette = self.palette.get_or_insert_with(|| {
                    GlobalPalette::from_frame(&self.scratch.data, &self.settings.reserved)
                });
                let frame = delta_frame(
                    &self.scratch.data,
                    &self.previous,
                    &mut self.canvas,
                    (w, h),
                    |px| palette.index(px),
                );
                // the frame becomes the previous one; the old buffer is rewritten by the next frame
                std::mem::swap(&mut self.previous, &mut self.scratch.data);
                std::mem::swap(&mut self.previous_as_pushed, &mut self.scratch_as_pushed);
                frame
            }
        };
        self.times.push_back(frame.time_s);
        self.compressor
            .tx
            .send(gif_frame)
            .map_err(|_| COMPRESSOR_STOPPED.to_string())?;
        self.write_compressed(false)
    }

    /// Writes the compressed frames whose delay is known (all of them at the end, `last`).
    fn write_compressed(&mut self, last: bool) -> Result<(), String> {
        if last {
            while self.compressed.len() < self.times.len() {
                let frame = self
                    .compressor
                    .rx
                    .recv()
                    .map_err(|_| COMPRESSOR_STOPPED.to_string())?;
                self.compressed.push_back(frame);
            }
        } else {
            self.compressed.extend(self.compressor.rx.try_iter());
        }
        while !self.compressed.is_empty() && (last || self.times.len() >= 2) {
            let (Some(mut frame), Some(time_s)) =
                (self.compressed.pop_front(), self.times.pop_front())
            else {
                break;
            };
            let end = self
                .times
                .front()
                .copied()
                .filter(|t| *t > time_s)
                .unwrap_or(time_s + 1.0 / self.settings.fps);
            frame.delay = self.clock.delay_cs(end);
            self.write(&frame)?;
        }
        Ok(())
    }

    /// Writes one compressed frame, starting the file with the first.
    fn write(&mut self, frame: &gif::Frame<'static>) -> Result<(), String> {
        if self.encoder.is_none() {
            let global: Vec<u8> = self
                .palette
                .as_ref()
                .map(|p| p.rgb.clone())
                .unwrap_or_default();
            let mut encoder = gif::Encoder::new(
                Vec::new(),
                self.settings.width as u16,
                self.settings.height as u16,
                &global,
            )
            .map_err(|e| format!("GIF encoder: {e}"))?;
            encoder
                .set_repeat(gif::Repeat::Infinite)
                .map_err(|e| format!("GIF encoder: {e}"))?;
            self.encoder = Some(encoder);
        }
        let Some(encoder) = self.encoder.as_mut() else {
            return Err("GIF encoder missing".into());
        };
        encoder
            .write_lzw_pre_encoded_frame(frame)
            .map_err(|e| format!("GIF encoder: {e}"))?;
        self.frames += 1;
        Ok(())
    }

    /// Writes the last frame and the trailer; the bytes stay here until a save succeeds.
    fn finish(&mut self) -> Result<(), String> {
        if self.finished.is_none() {
            self.write_compressed(true)?;
            let Some(encoder) = self.encoder.take() else {
                return Err("nothing was recorded (no frames)".into());
            };
            let bytes = encoder
                .into_inner()
                .map_err(|e| format!("GIF encoder: {e}"))?;
            self.finished = Some(bytes);
        }
        Ok(())
    }
}

/// `<path>.part`, the name a file is written under until it is complete.
fn part_path(path: &Path) -> PathBuf {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    PathBuf::from(part)
}

/// Tries the temporary name `path` would be written under, so that an unwritable path fails before a
/// long render rather than after it.
pub fn check_writable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!("{} is a directory", path.display()));
    }
    let part = part_path(path);
    fs::File::create(&part).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let _ = fs::remove_file(&part);
    Ok(())
}

/// Writes `bytes` to `<path>.part`, flushes it to disk and renames it onto `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let part = part_path(path);
    let result = (|| {
        let mut file = fs::File::create(&part)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&part, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&part);
        format!("cannot write {}: {e}", path.display())
    })
}

/// Palette index for "unchanged since the previous frame" in global-palette frames.
const TRANSPARENT: u8 = 255;
/// Bits per channel of the colour lookup table (2^18 entries).
const LUT_BITS: u32 = 6;

/// One palette for the whole clip and a lookup table from colours to indices.
struct GlobalPalette {
    /// 256 RGB triples (index 255 is the transparent "unchanged" colour).
    rgb: Vec<u8>,
    lut: Vec<u8>,
    filled: Vec<bool>,
}

impl GlobalPalette {
    fn from_frame(rgba: &[u8], reserved: &[[u8; 3]]) -> Self {
        let mut reserved: Vec<[u8; 3]> = reserved.to_vec();
        reserved.extend([[0, 0, 0], [255, 255, 255]]);
        reserved.sort_unstable();
        reserved.dedup();
        // 255 usable entries: the reserved colours exactly, NeuQuant for the rest
        let learned = 255 - reserved.len();
        // sampling every 10th pixel: the clip's first frame has few distinct colours, and it costs a
        // third of the time of sampling every third one
        let quant = color_quant::NeuQuant::new(10, learned, rgba);
        let mut rgb = quant.color_map_rgb();
        rgb.truncate(learned * 3);
        rgb.resize(learned * 3, 0);
        for c in &reserved {
            rgb.extend_from_slice(c);
        }
        rgb.extend_from_slice(&[0, 0, 0]);
        let size = 1usize << (3 * LUT_BITS);
        Self {
            rgb,
            lut: vec![0; size],
            filled: vec![false; size],
        }
    }

    fn nearest(&self, c: [u8; 3]) -> u8 {
        let mut best = (u32::MAX, 0u8);
        for (i, p) in self.rgb.chunks_exact(3).take(255).enumerate() {
            let d = |a: u8, b: u8| (a as i32 - b as i32).pow(2) as u32;
            // weights close to perceived brightness differences
            let dist = 2 * d(c[0], p[0]) + 4 * d(c[1], p[1]) + 3 * d(c[2], p[2]);
            if dist < best.0 {
                best = (dist, i as u8);
            }
        }
        best.1
    }

    /// The palette index of an RGBA pixel (alpha ignored).
    fn index(&mut self, px: &[u8]) -> u8 {
        let shift = 8 - LUT_BITS;
        let key = ((px[0] as usize >> shift) << (2 * LUT_BITS))
            | ((px[1] as usize >> shift) << LUT_BITS)
            | (px[2] as usize >> shift);
        if !self.filled[key] {
            // the centre of the LUT cell, so the table does not depend on pixel order
            let half = 1u8 << (shift - 1);
            let centre = [
                ((px[0] >> shift) << shift) | half,
                ((px[1] >> shift) << shift) | half,
                ((px[2] >> shift) << shift) | half,
            ];
            self.lut[key] = self.nearest(centre);
            self.filled[key] = true;
        }
        self.lut[key]
    }
}

/// A frame of palette indices (`index` maps an RGBA pixel) holding only the rectangle of `rgba` that
/// changed since `previous` (same-size RGBA). `canvas` holds the index every pixel shows so far and is
/// brought up to date; a pixel that shows the same index as before is transparent, so it keeps the
/// previous frame's colour and compresses well. The whole frame when there is no previous one. Only
/// changed pixels are looked up in the palette: most of a clip's frame is the still landscape.
fn delta_frame(
    rgba: &[u8],
    previous: &[u8],
    canvas: &mut Vec<u8>,
    (w, h): (u32, u32),
    mut index: impl FnMut(&[u8]) -> u8,
) -> gif::Frame<'static> {
    let (w, h) = (w as usize, h as usize);
    if previous.len() != rgba.len() || canvas.len() != w * h {
        *canvas = rgba.chunks_exact(4).map(&mut index).collect();
        let mut f = gif::Frame {
            width: w as u16,
            height: h as u16,
            buffer: canvas.clone().into(),
            ..gif::Frame::default()
        };
        f.dispose = gif::DisposalMethod::Keep;
        return f;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0usize, 0usize);
    for y in 0..h {
        let span = y * w * 4..(y + 1) * w * 4;
        let (now, before) = (&rgba[span.clone()], &previous[span]);
        if now == before {
            continue;
        }
        let mut pixels = now.chunks_exact(4).zip(before.chunks_exact(4));
        let first = pixels.position(|(a, b)| a != b).unwrap_or(0);
        let last = w
            - 1
            - now
                .chunks_exact(4)
                .rev()
                .zip(before.chunks_exact(4).rev())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
        x0 = x0.min(first);
        x1 = x1.max(last);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 || y0 > y1 {
        // nothing changed: one transparent pixel keeps the frame (and its delay) in the clip
        (x0, y0, x1, y1) = (0, 0, 0, 0);
    }
    let (rw, rh) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut buffer = Vec::with_capacity(rw * rh);
    for y in y0..=y1 {
        let span = (y * w + x0) * 4..(y * w + x1 + 1) * 4;
        if rgba[span.clone()] == previous[span] {
            // most rows of the rectangle did not change (it spans from the balls to the step counter)
            buffer.resize(buffer.len() + rw, TRANSPARENT);
            continue;
        }
        for x in x0..=x1 {
            let i = y * w + x;
            let px = &rgba[i * 4..i * 4 + 4];
            if u32::from_ne_bytes([px[0], px[1], px[2], px[3]])
                == u32::from_ne_bytes([
                    previous[i * 4],
                    previous[i * 4 + 1],
                    previous[i * 4 + 2],
                    previous[i * 4 + 3],
                ])
            {
                buffer.push(TRANSPARENT);
                continue;
            }
            let k = index(px);
            if k == canvas[i] {
                buffer.push(TRANSPARENT);
            } else {
                canvas[i] = k;
                buffer.push(k);
            }
        }
    }
    gif::Frame {
        left: x0 as u16,
        top: y0 as u16,
        width: rw as u16,
        height: rh as u16,
        buffer: buffer.into(),
        transparent: Some(TRANSPARENT),
        dispose: gif::DisposalMethod::Keep,
        ..gif::Frame::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_carry_rounding() {
        let mut clock = DelayClock::default();
        let d: Vec<u16> = (1..=6).map(|k| clock.delay_cs(k as f64 / 30.0)).collect();
        assert_eq!(d, vec![3, 4, 3, 3, 4, 3]);
        assert_eq!(d.iter().map(|&x| x as u32).sum::<u32>(), 20);
        let mut clock = DelayClock::default();
        assert_eq!(clock.delay_cs(0.001), 2);
    }

    #[test]
    fn delta_frames_hold_only_what_changed() {
        // 4 x 4 RGBA; the "palette" is the red channel halved, so 6 and 7 share an index
        let a: Vec<u8> = [6u8, 0, 0, 255].repeat(16);
        let index = |px: &[u8]| px[0] / 2;
        let mut canvas = Vec::new();
        // no previous frame: every pixel
        let f = delta_frame(&a, &[], &mut canvas, (4, 4), index);
        assert_eq!((f.width, f.height, f.buffer.len()), (4, 4, 16));
        assert_eq!(canvas, vec![3; 16]);
        let f = delta_frame(&a, &a, &mut canvas, (4, 4), index);
        assert_eq!((f.width, f.height), (1, 1));
        assert_eq!(&*f.buffer, &[TRANSPARENT]);
        let mut b = a.clone();
        b[5 * 4] = 18;
        b[10 * 4] = 7;
        b[6 * 4] = 40;
        let f = delta_frame(&b, &a, &mut canvas, (4, 4), index);
        assert_eq!((f.left, f.top, f.width, f.height), (1, 1, 2, 2));
        // pixel 10 changed colour but not index: transparent
        assert_eq!(&*f.buffer, &[9, 20, TRANSPARENT, TRANSPARENT]);
        assert_eq!((canvas[5], canvas[6], canvas[10]), (9, 20, 3));
    }
}
