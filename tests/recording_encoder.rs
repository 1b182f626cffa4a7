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
        width: 80,
        height: 60,
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
        // a 200x100 "window" whose right 160x100 are the views: cropped and fitted into 80x60
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
        let failed = loop {
            let events = enc.poll();
            if let Some(e) = events.into_iter().next() {
                break e;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
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
            ..
        } = common::decode_gif(&data);
        assert_eq!((w, h), (80, 60));
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
