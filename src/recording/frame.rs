//! Captured frames as plain RGBA images: conversion from Bevy's screenshot formats, cropping to a view's
//! rectangle and fitting into the clip's size (aspect kept, margins filled, box-filtered when shrinking).

use bevy::{math::Rect, render::render_resource::TextureFormat};

/// An 8-bit sRGB RGBA image, rows top to bottom, no padding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RgbaImage {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl RgbaImage {
    /// A black, opaque image.
    pub fn new(width: u32, height: u32) -> Self {
        let mut data = vec![0; width as usize * height as usize * 4];
        data.chunks_exact_mut(4).for_each(|p| p[3] = 255);
        Self {
            width,
            height,
            data,
        }
    }

    /// From a Bevy image (a screenshot): RGBA and BGRA 8-bit formats; anything else is refused.
    pub fn from_bevy(image: &bevy::image::Image) -> Result<Self, String> {
        let desc = &image.texture_descriptor;
        let (width, height) = (desc.size.width, desc.size.height);
        let Some(bytes) = image.data.as_ref() else {
            return Err("the screenshot has no pixels".into());
        };
        let expected = width as usize * height as usize * 4;
        if bytes.len() < expected {
            return Err(format!(
                "screenshot of {width}x{height} has {} bytes, expected {expected}",
                bytes.len()
            ));
        }
        let mut data = bytes[..expected].to_vec();
        match desc.format {
            TextureFormat::Rgba8UnormSrgb | TextureFormat::Rgba8Unorm => {}
            TextureFormat::Bgra8UnormSrgb | TextureFormat::Bgra8Unorm => {
                data.chunks_exact_mut(4).for_each(|p| p.swap(0, 2));
            }
            other => return Err(format!("screenshot format {other:?} is not supported")),
        }
        // the window's alpha is meaningless in a capture
        data.chunks_exact_mut(4).for_each(|p| p[3] = 255);
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Encodes as PNG bytes.
    pub fn to_png(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let buffer = image::RgbaImage::from_raw(self.width, self.height, self.data.clone())
            .ok_or("image buffer has the wrong size")?;
        image::DynamicImage::ImageRgba8(buffer)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .map_err(|e| format!("PNG encoder: {e}"))?;
        Ok(out)
    }

    /// Encodes as PNG bytes with text chunks (iTXt, UTF-8): what made the picture, so it can be made
    /// again. Opaque pixels are written as RGB.
    pub fn to_png_with_text(&self, text: &[(&str, &str)]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        for (keyword, value) in text {
            encoder
                .add_itxt_chunk((*keyword).to_owned(), (*value).to_owned())
                .map_err(|e| format!("PNG encoder: {e}"))?;
        }
        let mut writer = encoder
            .write_header()
            .map_err(|e| format!("PNG encoder: {e}"))?;
        let rgb: Vec<u8> = self
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        writer
            .write_image_data(&rgb)
            .map_err(|e| format!("PNG encoder: {e}"))?;
        writer.finish().map_err(|e| format!("PNG encoder: {e}"))?;
        Ok(out)
    }

    /// A copy of this image, in `buffer` when one is given (its old pixels are overwritten; it is
    /// resized if needed), saving an allocation per frame.
    pub fn copy_into(&self, buffer: Option<Vec<u8>>) -> RgbaImage {
        let data = match buffer {
            Some(mut data) => {
                data.clear();
                data.extend_from_slice(&self.data);
                data
            }
            None => self.data.clone(),
        };
        Self {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// Copies the pixels of `rect` from `src` (an image of the same size; nothing otherwise).
    pub fn copy_rect_from(&mut self, src: &RgbaImage, rect: CropRect) {
        if (src.width, src.height) != (self.width, self.height)
            || rect.x + rect.width > self.width
            || rect.y + rect.height > self.height
            || src.data.len() != self.data.len()
        {
            return;
        }
        for y in rect.y..rect.y + rect.height {
            let start = (y as usize * self.width as usize + rect.x as usize) * 4;
            let end = start + rect.width as usize * 4;
            self.data[start..end].copy_from_slice(&src.data[start..end]);
        }
    }

    fn px(&self, x: u32, y: u32) -> [f32; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        [
            self.data[i] as f32,
            self.data[i + 1] as f32,
            self.data[i + 2] as f32,
        ]
    }
}

/// A rectangle of whole pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CropRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl CropRect {
    /// The smallest rectangle holding both.
    pub fn union(self, other: Self) -> Self {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        Self {
            x,
            y,
            width: (self.x + self.width).max(other.x + other.width) - x,
            height: (self.y + self.height).max(other.y + other.height) - y,
        }
    }

    /// The physical-pixel rectangle of a logical-pixel rect in a window of `scale` pixels per point,
    /// clipped to `size`; `None` when nothing is left.
    pub fn from_logical(rect: Rect, scale: f32, size: (u32, u32)) -> Option<Self> {
        let min = (rect.min * scale).round().max(bevy::math::Vec2::ZERO);
        let max = (rect.max * scale).round();
        let x = (min.x as u32).min(size.0);
        let y = (min.y as u32).min(size.1);
        let x1 = (max.x.max(0.0) as u32).min(size.0);
        let y1 = (max.y.max(0.0) as u32).min(size.1);
        (x1 > x && y1 > y).then_some(Self {
            x,
            y,
            width: x1 - x,
            height: y1 - y,
        })
    }
}

/// Draws the `crop` part of `src` into `dst`, scaled to fit with its aspect ratio kept and centred; the
/// margins get `background`. Shrinking averages up to 4 x 4 bilinear samples per pixel.
pub fn crop_and_fit(
    src: &RgbaImage,
    crop: Option<CropRect>,
    dst: &mut RgbaImage,
    background: [u8; 3],
) -> Result<(), String> {
    let crop = crop.unwrap_or(CropRect {
        x: 0,
        y: 0,
        width: src.width,
        height: src.height,
    });
    if crop.width == 0
        || crop.height == 0
        || crop.x + crop.width > src.width
        || crop.y + crop.height > src.height
        || src.data.len() < src.width as usize * src.height as usize * 4
        || dst.data.len() != dst.width as usize * dst.height as usize * 4
    {
        return Err(format!(
            "crop {crop:?} does not fit a {}x{} frame",
            src.width, src.height
        ));
    }
    let (dw, dh) = (dst.width as f32, dst.height as f32);
    let scale = (dw / crop.width as f32).min(dh / crop.height as f32);
    let (fw, fh) = (crop.width as f32 * scale, crop.height as f32 * scale);
    let (ox, oy) = (((dw - fw) / 2.0).round(), ((dh - fh) / 2.0).round());
    let samples = ((1.0 / scale).ceil() as u32).clamp(1, 4);
    let inv = 1.0 / scale;
    let max_x = (crop.width - 1) as f32;
    let max_y = (crop.height - 1) as f32;
    let bilinear = |sx: f32, sy: f32| -> [f32; 3] {
        let sx = sx.clamp(0.0, max_x);
        let sy = sy.clamp(0.0, max_y);
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(crop.width - 1), (y0 + 1).min(crop.height - 1));
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let a = src.px(crop.x + x0, crop.y + y0);
        let b = src.px(crop.x + x1, crop.y + y0);
        let c = src.px(crop.x + x0, crop.y + y1);
        let d = src.px(crop.x + x1, crop.y + y1);
        std::array::from_fn(|k| {
            (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy) + (c[k] * (1.0 - fx) + d[k] * fx) * fy
        })
    };
    let width = dst.width as usize;
    for y in 0..dst.height {
        for x in 0..dst.width {
            let i = (y as usize * width + x as usize) * 4;
            let (lx, ly) = (x as f32 - ox, y as f32 - oy);
            let out = if lx < 0.0 || ly < 0.0 || lx >= fw.round() || ly >= fh.round() {
                background.map(|c| c as f32)
            } else {
                let mut acc = [0.0f32; 3];
                for sy in 0..samples {
                    for sx in 0..samples {
                        // sample centres spread over the output pixel's footprint in the source
                        let px = (lx + (sx as f32 + 0.5) / samples as f32) * inv - 0.5;
                        let py = (ly + (sy as f32 + 0.5) / samples as f32) * inv - 0.5;
                        let s = bilinear(px, py);
                        (0..3).for_each(|k| acc[k] += s[k]);
                    }
                }
                acc.map(|v| v / (samples * samples) as f32)
            };
            dst.data[i] = out[0].round().clamp(0.0, 255.0) as u8;
            dst.data[i + 1] = out[1].round().clamp(0.0, 255.0) as u8;
            dst.data[i + 2] = out[2].round().clamp(0.0, 255.0) as u8;
            dst.data[i + 3] = 255;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::math::Vec2;

    #[test]
    fn logical_rect_to_physical_crop() {
        let r = Rect::from_corners(Vec2::new(10.0, 0.0), Vec2::new(110.0, 50.0));
        assert_eq!(
            CropRect::from_logical(r, 2.0, (400, 400)),
            Some(CropRect {
                x: 20,
                y: 0,
                width: 200,
                height: 100
            })
        );
        assert_eq!(CropRect::from_logical(r, 1.0, (5, 5)), None);
    }

    #[test]
    fn fit_keeps_aspect_and_fills_margins() {
        let mut src = RgbaImage::new(4, 2);
        src.data.chunks_exact_mut(4).for_each(|p| p[0] = 200);
        let mut dst = RgbaImage::new(4, 4);
        crop_and_fit(&src, None, &mut dst, [0, 0, 9]).unwrap();
        // rows 0 and 3 are margin, rows 1 and 2 the image
        assert_eq!(&dst.data[0..4], &[0, 0, 9, 255]);
        assert_eq!(&dst.data[16..20], &[200, 0, 0, 255]);
        assert_eq!(&dst.data[48..52], &[0, 0, 9, 255]);
        let bad = CropRect {
            x: 3,
            y: 0,
            width: 2,
            height: 2,
        };
        assert!(crop_and_fit(&src, Some(bad), &mut dst, [0; 3]).is_err());
    }
}
