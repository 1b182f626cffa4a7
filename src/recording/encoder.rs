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
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError},
    thread::JoinHandle,
};

use super::frame::{CropRect, RgbaImage, crop_and_fit};
use super::legend::{LegendPainter, LegendState};

/// Frames waiting for the encoder before [`GifEncoder::try_push`] drops one (the app never waits).
pub const QUEUE_FRAMES: usize = 48;

/// How colours are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PaletteMode {
    /// One palette for the whole clip, from the first frame; later frames store only changed pixels.
    #[default]
    Global,
    /// A palette per frame (bigger files; for a moving camera).
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
        let thread = std::thread::Builder::new()
            .name("losscape gif encoder".into())
            .spawn(move || run(settings, rx, event_tx))
            .map_err(|e| format!("cannot start the GIF encoder: {e}"))?;
        Ok(Self {
            tx,
            events: std::sync::Mutex::new(events),
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
        match self.events.lock() {
            Ok(rx) => rx.try_iter().collect(),
            Err(_) => Vec::new(),
        }
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
                Err(_) => {
                    break Err(frame_error
                        .take()
                        .unwrap_or_else(|| "the GIF encoder stopped unexpectedly".into()));
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

/// A frame encoded but not yet written: its delay is known only when the next one arrives.
struct Pending {
    frame: gif::Frame<'static>,
    time_s: f64,
}

/// The encoder thread's state.
struct Clip {
    settings: GifSettings,
    encoder: Option<gif::Encoder<Vec<u8>>>,
    palette: Option<GlobalPalette>,
    previous: Vec<u8>,
    pending: Option<Pending>,
    clock: DelayClock,
    frames: u32,
    legend: LegendPainter,
    scratch: RgbaImage,
    finished: Option<Vec<u8>>,
}

fn run(settings: GifSettings, rx: Receiver<Msg>, events: Sender<EncoderEvent>) {
    let mut clip = Clip {
        scratch: RgbaImage::new(settings.width, settings.height),
        settings,
        encoder: None,
        palette: None,
        previous: Vec::new(),
        pending: None,
        clock: DelayClock::default(),
        frames: 0,
        legend: LegendPainter::default(),
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
        crop_and_fit(
            &frame.image,
            frame.crop,
            &mut self.scratch,
            self.settings.background,
        )?;
        if let Some(legend) = &frame.legend {
            self.legend.draw(&mut self.scratch, legend);
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
                let indices = palette.map(&self.scratch.data);
                let frame = delta_frame(&indices, &self.previous, w, h);
                self.previous = indices;
                frame
            }
        };
        self.write_pending(Some(frame.time_s))?;
        self.pending = Some(Pending {
            frame: gif_frame,
            time_s: frame.time_s,
        });
        Ok(())
    }

    /// Writes the frame waiting for its delay; `next_s` is when the next frame starts (None: the end).
    fn write_pending(&mut self, next_s: Option<f64>) -> Result<(), String> {
        let Some(mut pending) = self.pending.take() else {
            return Ok(());
        };
        let end = next_s
            .filter(|t| *t > pending.time_s)
            .unwrap_or(pending.time_s + 1.0 / self.settings.fps);
        pending.frame.delay = self.clock.delay_cs(end);
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
            .write_frame(&pending.frame)
            .map_err(|e| format!("GIF encoder: {e}"))?;
        self.frames += 1;
        Ok(())
    }

    /// Writes the last frame and the trailer; the bytes stay here until a save succeeds.
    fn finish(&mut self) -> Result<(), String> {
        if self.finished.is_none() {
            self.write_pending(None)?;
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

/// Writes `bytes` to `<path>.part`, flushes it to disk and renames it onto `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
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
        let quant = color_quant::NeuQuant::new(3, learned, rgba);
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

    /// Palette indices of an RGBA image (alpha ignored).
    fn map(&mut self, rgba: &[u8]) -> Vec<u8> {
        let shift = 8 - LUT_BITS;
        rgba.chunks_exact(4)
            .map(|px| {
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
            })
            .collect()
    }
}

/// A frame holding only the rectangle that changed since `previous` (unchanged pixels inside it are
/// transparent, so they keep the previous frame's colour); the whole frame when there is no previous.
fn delta_frame(indices: &[u8], previous: &[u8], w: u32, h: u32) -> gif::Frame<'static> {
    let (w, h) = (w as usize, h as usize);
    let full = || {
        let mut f = gif::Frame {
            width: w as u16,
            height: h as u16,
            buffer: indices.to_vec().into(),
            ..gif::Frame::default()
        };
        f.dispose = gif::DisposalMethod::Keep;
        f
    };
    if previous.len() != indices.len() {
        return full();
    }
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0usize, 0usize);
    for y in 0..h {
        let row = &indices[y * w..(y + 1) * w];
        let prev = &previous[y * w..(y + 1) * w];
        if row == prev {
            continue;
        }
        let first = row.iter().zip(prev).position(|(a, b)| a != b).unwrap_or(0);
        let last = w
            - 1
            - row
                .iter()
                .rev()
                .zip(prev.iter().rev())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
        x0 = x0.min(first);
        x1 = x1.max(last);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 || y0 > y1 {
        // nothing changed: one transparent pixel keeps the frame (and its delay) in the clip
        x0 = 0;
        y0 = 0;
        x1 = 0;
        y1 = 0;
    }
    let (rw, rh) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut buffer = Vec::with_capacity(rw * rh);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let i = y * w + x;
            buffer.push(if indices[i] == previous[i] {
                TRANSPARENT
            } else {
                indices[i]
            });
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
    fn delta_of_identical_frames_is_one_transparent_pixel() {
        let a = vec![3u8; 16];
        let f = delta_frame(&a, &a, 4, 4);
        assert_eq!((f.width, f.height), (1, 1));
        assert_eq!(&*f.buffer, &[TRANSPARENT]);
        let mut b = a.clone();
        b[5] = 7;
        b[10] = 9;
        let f = delta_frame(&b, &a, 4, 4);
        assert_eq!((f.left, f.top, f.width, f.height), (1, 1, 2, 2));
        assert_eq!(&*f.buffer, &[7, TRANSPARENT, TRANSPARENT, 9]);
    }
}
