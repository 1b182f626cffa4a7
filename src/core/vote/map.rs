//! The small top view the phones tap on for a "where" question: the landscape's loss over its domain
//! in the scene's colormap, with its contour lines, as a PNG. North up: the first row is the largest y.

use crate::core::landscape::Landscape;
use crate::core::scene::SurfaceStyle;

/// Pixels per side of the phones' picture (sharp on a phone held upright, a few kB).
pub const MAP_PIXELS: u32 = 320;

/// The picture as PNG bytes, `size` x `size` pixels. Pixel `(i, j)` shows the loss at
/// `x = x_min + (i + 0.5) / size · width`, `y = y_max − (j + 0.5) / size · height`.
pub fn top_view_png(
    landscape: &Landscape,
    style: &SurfaceStyle,
    size: u32,
) -> Result<Vec<u8>, String> {
    let n = size.clamp(16, 1024) as usize;
    let domain = landscape.domain();
    let [x0, x1] = domain.x;
    let [y0, y1] = domain.y;
    let loss: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k % n, k / n);
            let x = x0 + (i as f64 + 0.5) / n as f64 * (x1 - x0);
            let y = y1 - (j as f64 + 0.5) / n as f64 * (y1 - y0);
            landscape.value([x, y])
        })
        .collect();
    let finite = || loss.iter().copied().filter(|v| v.is_finite());
    let min = finite().fold(f64::INFINITY, f64::min);
    let max = finite().fold(f64::NEG_INFINITY, f64::max);
    // colour and contours on the scale the app uses: the loss, or ln(1 + L - min)
    let scaled = |l: f64, log: bool| {
        if log {
            (l - min).max(0.0).ln_1p()
        } else {
            l - min
        }
    };
    let unit = |l: f64, log: bool| {
        let top = scaled(max, log);
        if top > 0.0 { scaled(l, log) / top } else { 0.0 }
    };
    let levels = f64::from(style.contour_count);
    let level = |k: usize| {
        let l = loss[k];
        l.is_finite()
            .then(|| (unit(l, style.log_contours) * levels).floor() as i64)
    };
    let mut rgb = Vec::with_capacity(n * n * 3);
    for (k, &l) in loss.iter().enumerate() {
        let mut color = if l.is_finite() {
            style.colormap.rgb8(unit(l, style.log_height) as f32)
        } else {
            [128, 128, 128]
        };
        let (i, j) = (k % n, k / n);
        let edge = levels > 0.0
            && ((i + 1 < n && level(k) != level(k + 1)) || (j + 1 < n && level(k) != level(k + n)));
        if edge {
            color = color.map(|c| (f32::from(c) * 0.55) as u8);
        }
        rgb.extend_from_slice(&color);
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, n as u32, n as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&rgb))
        .map_err(|e| format!("could not encode the picture: {e}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::LandscapeSpec;

    #[test]
    fn the_picture_is_a_png_of_the_asked_size_with_north_up() {
        let landscape = Landscape::new(LandscapeSpec::from_name("rosenbrock").unwrap()).unwrap();
        let style = SurfaceStyle {
            contour_count: 0,
            ..SurfaceStyle::default()
        };
        let bytes = top_view_png(&landscape, &style, 64).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), (64, 64));
        // Rosenbrock is highest at the domain's bottom corners (far below the valley y = x²) and lowest
        // at (1, 1): the bottom-left pixel is brighter (viridis: yellow) than the one at the minimum
        let domain = landscape.domain();
        let pixel = |x: f64, y: f64| {
            let i = ((x - domain.x[0]) / (domain.x[1] - domain.x[0]) * 64.0) as usize;
            let j = ((domain.y[1] - y) / (domain.y[1] - domain.y[0]) * 64.0) as usize;
            let k = (j.min(63) * 64 + i.min(63)) * 3;
            u32::from(pixels[k]) + u32::from(pixels[k + 1]) + u32::from(pixels[k + 2])
        };
        assert!(pixel(domain.x[0], domain.y[0]) > pixel(1.0, 1.0) + 200);
        assert!(pixel(domain.x[0], domain.y[0]) > pixel(domain.x[0], domain.y[1]));
    }
}
