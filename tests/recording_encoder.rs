//! The GIF encoder thread on its own (no GPU): frames cropped and fitted, real-time delays, both palette
//! modes, a failed save keeping the clip for another path, and no `.part` left behind. Decoded with the
//! gif crate's decoder.
#![cfg(feature = "app")]

mod common;

use losscape::recording::{
    Corner, CropRect, FrameIn, GifEncoder, GifSettings, LegendEntry, LegendState, PaletteMode,
    RgbaImage,
};

/// A smooth gradient with a white square at `(x, 10)`: something like a shaded surface with a ball.
fn scene(width: u32, height: u32, x: u32) -> RgbaImage {
    let mut img = RgbaImage::new(width, height);
    for py in 0..height {
        for px in 0..width {
            let i = ((py * width + px) * 4) as usize;
            img.data[i] = (px * 255 / width) as u8;
            img.data[i + 1] = (py * 255 / height) as u8;
            img.data[i + 2] = 128;
            if (x..x + 6).contains(&px) && (10..16).contains(&py) {
                img.data[i..i + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
    }
    img
}

fn settings(palette: PaletteMode) -> GifSettings {
    GifSettings {
        width: 320,
        height: 240,
        fps: 20.0,
        palette,
        reserved: vec![[230, 40, 40]],
        background: [20, 22, 25],
    }
}

#[test]
fn clip_with_crop_legend_and_real_time_delays() {
    for palette in [PaletteMode::Global, PaletteMode::PerFrame] {
        let dir = common::temp_dir(&format!("enc-{palette:?}"));
        let mut enc = GifEncoder::start(settings(palette)).unwrap();
        // a 200x100 "window" whose right 160x100 are the views: cropped and fitted into 320x240 (scaled
        // by 2 to 320x200, with 20-pixel bands of background above and below)
        let crop = Some(CropRect {
            x: 40,
            y: 0,
            width: 160,
            height: 100,
        });
        let times = [0.0, 0.05, 0.10, 0.30, 0.35];
        for (k, t) in times.iter().enumerate() {
            enc.push(FrameIn {
                image: scene(200, 100, 50 + 10 * k as u32),
                crop,
                time_s: *t,
                legend: Some(LegendState {
                    entries: vec![LegendEntry {
                        name: "Adam".into(),
                        color: [230, 40, 40],
                        detail: "η 0.05".into(),
                    }],
                    step: Some(k as u64),
                    corner: Corner::TopRight,
                    keep_clear: Vec::new(),
                }),
            })
            .unwrap();
        }
        // an unwritable path: the clip is kept, and saving elsewhere works
        let bad = dir.join("missing-dir").join("clip.gif");
        enc.save(bad.clone()).unwrap();
        let failed = common::wait_for("the failed save's event", || enc.poll().into_iter().next());
        assert!(
            matches!(&failed, losscape::recording::EncoderEvent::SaveFailed { path, .. } if *path == bad),
            "{failed:?}"
        );
        let good = dir.join("clip.gif");
        let (frames, bytes) = enc.save_blocking(good.clone()).unwrap();
        assert_eq!(frames, 5);
        let data = std::fs::read(&good).unwrap();
        assert_eq!(data.len() as u64, bytes);
        let common::Decoded {
            width: w,
            height: h,
            infinite,
            delays,
            canvases,
        } = common::decode_gif(&data);
        assert_eq!((w, h), (320, 240));
        for (k, canvas) in canvases.iter().enumerate() {
            check_frame(&Frame(canvas), k, palette);
        }
        // the counter counts: "step k" differs from frame to frame (the ball never reaches the bottom)
        let bottom = 200 * 320 * 4;
        for (k, pair) in canvases.windows(2).enumerate() {
            assert_ne!(
                pair[0][bottom..],
                pair[1][bottom..],
                "{palette:?}: the counter of frames {k} and {}",
                k + 1
            );
        }
        assert!(infinite);
        // shown from one capture to the next; the last for 1/fps
        assert_eq!(delays, vec![5, 5, 20, 5, 5], "{palette:?}");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A decoded 320x240 canvas (RGBA).
struct Frame<'a>(&'a [u8]);

impl Frame<'_> {
    fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * 320 + x) * 4) as usize;
        [self.0[i], self.0[i + 1], self.0[i + 2]]
    }

    /// The pixels of the box `xs` × `ys` for which `test` holds.
    fn count(
        &self,
        xs: std::ops::Range<u32>,
        ys: std::ops::Range<u32>,
        test: impl Fn([u8; 3]) -> bool,
    ) -> usize {
        ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
            .filter(|&(x, y)| test(self.at(x, y)))
            .count()
    }
}

fn near(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(a, b)| a.abs_diff(b) <= tolerance)
}

/// The legend's red (the name and the dot), [230, 40, 40]: the scene's blue is 128 everywhere, so only
/// the legend has it. A palette per frame may shift it (up to [214, 38, 109] seen).
fn legend_red(c: [u8; 3]) -> bool {
    c[0] > 180 && c[1] < 90 && c[2] < 115
}

/// Frame `k` of the clip: the crop's place and scale, the background bands, the ball where frame `k`
/// put it, the legend's box in the top right and the step counter at the bottom.
fn check_frame(f: &Frame, k: usize, palette: PaletteMode) {
    let at = |what: &str, x: u32, y: u32, want: [u8; 3], tolerance: u8| {
        let got = f.at(x, y);
        assert!(
            near(got, want, tolerance),
            "{palette:?} frame {k}, {what} at ({x}, {y}): {got:?}, want about {want:?}"
        );
    };
    // the bands above and below the fitted views (left of the legend)
    for (x, y) in [(5, 2), (150, 12), (150, 225), (5, 237)] {
        at("background", x, y, [20, 22, 25], 10);
    }
    // the crop starts at window x 40 (red 40·255/200 = 51) and ends at 199 (253); output row 120 is
    // window row 50 (green 127): an uncropped frame would start at red 0, an unscaled one end at 160
    at("left edge of the crop", 1, 120, [52, 127, 128], 20);
    at("right edge of the crop", 318, 120, [252, 127, 128], 20);
    at("middle of the crop", 160, 120, [153, 127, 128], 20);
    // the white ball: window (50 + 10k .. +6, 10 .. 16) lands at (20 + 20k .. +12, 40 .. 52); its edges
    // blend with the scene when scaled, so the 10×10 inside at least is white. A palette per frame makes
    // it pale yellow, still far from the scene's colours in these rows (green below 65: window rows
    // up to 25)
    let ball_x = 20 + 20 * k as u32;
    // (white, or the pale yellow a palette per frame may make of it, as the legend's text)
    let ball_like = |c: [u8; 3]| c[0] > 190 && c[1] > 190 && c[2] > 140;
    let ball = f.count(ball_x..ball_x + 12, 40..52, ball_like);
    assert!(
        (100..=144).contains(&ball),
        "{palette:?} frame {k}: a white ball of 12×12 at ({ball_x}, 40): {ball} white pixels"
    );
    assert_eq!(
        f.count(0..320, 36..70, ball_like),
        f.count(ball_x - 1..ball_x + 13, 39..53, ball_like),
        "{palette:?} frame {k}: the ball elsewhere"
    );
    // the legend: its red (name, dot) and white text on a dark box, in the top-right corner only
    let red = f.count(200..320, 0..60, legend_red);
    assert!(red >= 20, "{palette:?} frame {k}: {red} red legend pixels");
    if palette == PaletteMode::Global {
        // the reserved colour comes out exactly
        let exact = f.count(200..320, 0..60, |c| c == [230, 40, 40]);
        assert!(
            exact >= 10,
            "frame {k}: {exact} pixels of exactly the legend's red"
        );
    }
    assert_eq!(
        f.count(0..200, 0..240, legend_red) + f.count(200..320, 60..240, legend_red),
        0,
        "{palette:?} frame {k}: legend red outside the top right"
    );
    let dark = f.count(240..320, 20..40, |c| c.iter().all(|&v| v < 60));
    assert!(
        dark >= 100,
        "{palette:?} frame {k}: the legend's box darkens the scene ({dark} dark pixels)"
    );
    let text = f.count(200..320, 0..36, ball_like);
    assert!(
        text >= 20,
        "{palette:?} frame {k}: the legend's text ({text} white pixels)"
    );
    // "step k" in a bottom corner: white text in the band under the views
    let counter = f.count(0..320, 220..240, ball_like);
    assert!(
        counter >= 15,
        "{palette:?} frame {k}: the step counter ({counter} white pixels)"
    );
}

#[test]
fn bad_settings_are_refused() {
    let mut s = settings(PaletteMode::Global);
    s.width = 0;
    assert!(GifEncoder::start(s).is_err());
    let enc = GifEncoder::start(settings(PaletteMode::Global)).unwrap();
    let dir = std::env::temp_dir();
    let err = enc
        .save_blocking(dir.join(format!("losscape-empty-{}.gif", std::process::id())))
        .unwrap_err();
    assert!(err.contains("no frames"), "{err}");
}
