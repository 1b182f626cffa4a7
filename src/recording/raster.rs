//! A small CPU rasterizer for egui shapes: egui lays out text and tessellates shapes (with one pixel of
//! anti-aliasing feather), and the triangles are filled here into an [`RgbaImage`]. The legend of every
//! recorded frame and the moving parts of `losscape render` are drawn with it, so they are crisp at any
//! clip size and need no GPU.

use bevy_egui::egui::{
    self, Pos2, RawInput,
    epaint::{ClippedShape, Primitive, Vertex},
    pos2, vec2,
};

use super::frame::{CropRect, RgbaImage};

/// Paints egui shapes over images; keeps egui's font atlas between frames.
#[derive(Default)]
pub struct ShapePainter {
    ctx: egui::Context,
    font: Option<egui::ColorImage>,
}

impl ShapePainter {
    /// Runs `shapes` with a painter whose points are the image's pixels (the second argument is the
    /// image size) and fills what it painted over `image`; returns the rectangle of pixels it may have
    /// changed (`None`: none).
    pub fn paint(
        &mut self,
        image: &mut RgbaImage,
        shapes: impl FnOnce(&egui::Painter, egui::Vec2),
    ) -> Option<CropRect> {
        let size = vec2(image.width as f32, image.height as f32);
        let shapes = self.shapes(size, shapes);
        self.fill(image, shapes)
    }

    /// Runs `shapes` with a painter whose points are pixels of a `size` picture and returns what it
    /// painted as egui shapes (for a vector figure), text laid out with egui's fonts.
    pub fn shapes(
        &mut self,
        size: egui::Vec2,
        shapes: impl FnOnce(&egui::Painter, egui::Vec2),
    ) -> Vec<ClippedShape> {
        let input = RawInput {
            screen_rect: Some(egui::Rect::from_min_size(Pos2::ZERO, size)),
            ..Default::default()
        };
        let mut shapes = Some(shapes);
        let mut output = self.ctx.run_ui(input, |ui| {
            if let Some(shapes) = shapes.take() {
                shapes(ui.painter(), size);
            }
        });
        let font_deltas = output
            .textures_delta
            .set
            .iter()
            .filter(|(id, _)| **id == egui::TextureId::default())
            .flat_map(|(_, deltas)| deltas.iter());
        for delta in font_deltas {
            let egui::ImageData::Color(patch) = &delta.image;
            match (delta.pos, self.font.as_mut()) {
                (Some([px, py]), Some(font)) => {
                    for y in 0..patch.size[1] {
                        for x in 0..patch.size[0] {
                            let (tx, ty) = (px + x, py + y);
                            if tx < font.size[0] && ty < font.size[1] {
                                font.pixels[ty * font.size[0] + tx] =
                                    patch.pixels[y * patch.size[0] + x];
                            }
                        }
                    }
                }
                _ => self.font = Some((*patch).as_ref().clone()),
            }
        }
        // applied above; egui insists that deltas are consumed explicitly
        output.textures_delta.clear();
        output.shapes
    }

    /// Tessellates `shapes` and fills the triangles over `image` (see [`Self::paint`]).
    fn fill(&mut self, image: &mut RgbaImage, shapes: Vec<ClippedShape>) -> Option<CropRect> {
        let primitives = self.ctx.tessellate(shapes, 1.0);
        let font = self.font.as_ref()?;
        let mut touched = egui::Rect::NOTHING;
        for p in primitives {
            if let Primitive::Mesh(mesh) = &p.primitive {
                let bounds = mesh.calc_bounds().intersect(p.clip_rect);
                if bounds.is_positive() {
                    touched = touched.union(bounds);
                }
                for tri in mesh.indices.chunks_exact(3) {
                    let v = |i: u32| mesh.vertices.get(i as usize).copied();
                    if let (Some(a), Some(b), Some(c)) = (v(tri[0]), v(tri[1]), v(tri[2])) {
                        fill_triangle(image, p.clip_rect, font, [a, b, c]);
                    }
                }
            }
        }
        let rect =
            bevy::math::Rect::new(touched.min.x, touched.min.y, touched.max.x, touched.max.y);
        // whole pixels around it: a triangle fills the pixels whose centres it covers
        let grown = bevy::math::Rect::from_corners(rect.min.floor() - 1.0, rect.max.ceil() + 1.0);
        touched
            .is_positive()
            .then(|| CropRect::from_logical(grown, 1.0, (image.width, image.height)))
            .flatten()
    }
}

/// Fills one egui triangle (premultiplied sRGB colours, texture from the font atlas) over `image`: the
/// barycentric weights are stepped along each row, and a triangle whose corners share one texel (every
/// shape but text) reads the atlas once.
fn fill_triangle(image: &mut RgbaImage, clip: egui::Rect, font: &egui::ColorImage, v: [Vertex; 3]) {
    let [a, b, c] = v.map(|v| v.pos);
    let area = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
    if area.abs() < 1e-6 || !area.is_finite() {
        return;
    }
    let lo = a.min(b).min(c).max(clip.min).max(Pos2::ZERO);
    let hi = a
        .max(b)
        .max(c)
        .min(clip.max)
        .min(pos2(image.width as f32, image.height as f32));
    if lo.x >= hi.x || lo.y >= hi.y {
        return;
    }
    let tex = |u: f32, w: f32| -> [f32; 4] {
        let x = ((u * font.size[0] as f32) as usize).min(font.size[0] - 1);
        let y = ((w * font.size[1] as f32) as usize).min(font.size[1] - 1);
        font.pixels[y * font.size[0] + x]
            .to_array()
            .map(|c| c as f32 / 255.0)
    };
    let flat_texel = (v[0].uv == v[1].uv && v[1].uv == v[2].uv).then(|| tex(v[0].uv.x, v[0].uv.y));
    // weights of a and b as linear functions of the pixel centre: w = dx * x + dy * y + k
    let inv = 1.0 / area;
    let (w0_dx, w0_dy, w0_k) = (
        (b.y - c.y) * inv,
        (c.x - b.x) * inv,
        (b.x * c.y - b.y * c.x) * inv,
    );
    let (w1_dx, w1_dy, w1_k) = (
        (c.y - a.y) * inv,
        (a.x - c.x) * inv,
        (c.x * a.y - c.y * a.x) * inv,
    );
    let colors = v.map(|v| v.color.to_array().map(|c| c as f32 / 255.0));
    let width = image.width as usize;
    let (x_lo, x_hi) = (lo.x.floor(), hi.x.ceil());
    // a pixel centre within 1/50 pixel outside an edge still counts as inside, so triangles sharing an
    // edge leave no crack between them; the limit on each weight is that distance in weight units
    let tolerance = |p: Pos2, q: Pos2| -0.02 * p.distance(q) * inv.abs();
    let eps = [tolerance(b, c), tolerance(c, a), tolerance(a, b)];
    for y in lo.y.floor() as usize..hi.y.ceil() as usize {
        let py = y as f32 + 0.5;
        // the pixel centres x + 0.5 of this row where all three weights are >= EPS: each weight is
        // linear in x, so the row's span is an interval
        let (row0, row1) = (w0_dy * py + w0_k, w1_dy * py + w1_k);
        let mut span = (x_lo, x_hi - 1.0);
        for (base, dx, eps) in [
            (row0, w0_dx, eps[0]),
            (row1, w1_dx, eps[1]),
            (1.0 - row0 - row1, -w0_dx - w1_dx, eps[2]),
        ] {
            // base + dx * (x + 0.5) >= eps
            if dx > 0.0 {
                span.0 = span.0.max(((eps - base) / dx - 0.5).ceil());
            } else if dx < 0.0 {
                span.1 = span.1.min(((eps - base) / dx - 0.5).floor());
            } else if base < eps {
                span = (1.0, 0.0);
            }
        }
        // an empty span, or NaN from a degenerate edge
        if span.0.partial_cmp(&span.1).is_none_or(|o| o.is_gt()) {
            continue;
        }
        let (x_start, x_end) = (span.0 as usize, span.1 as usize + 1);
        let px0 = x_start as f32 + 0.5;
        let mut w0 = row0 + w0_dx * px0;
        let mut w1 = row1 + w1_dx * px0;
        for x in x_start..x_end {
            let w2 = 1.0 - w0 - w1;
            let t = match flat_texel {
                Some(t) => t,
                None => {
                    let uv = |k: usize| w0 * v[0].uv[k] + w1 * v[1].uv[k] + w2 * v[2].uv[k];
                    tex(uv(0), uv(1))
                }
            };
            let col: [f32; 4] = std::array::from_fn(|k| {
                (w0 * colors[0][k] + w1 * colors[1][k] + w2 * colors[2][k]) * t[k]
            });
            let i = (y * width + x) * 4;
            for k in 0..3 {
                let dst = image.data[i + k] as f32 / 255.0;
                let out = col[k] + dst * (1.0 - col[3]);
                // `as` saturates: no clamp needed
                image.data[i + k] = (out * 255.0 + 0.5) as u8;
            }
            w0 += w0_dx;
            w1 += w1_dx;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy_egui::egui::{Color32, Stroke};

    #[test]
    fn strokes_are_drawn_inside_their_clip_with_soft_edges() {
        let mut image = RgbaImage::new(64, 64);
        let mut painter = ShapePainter::default();
        painter.paint(&mut image, |p, _| {
            let p = p.with_clip_rect(egui::Rect::from_min_max(pos2(0.0, 0.0), pos2(32.0, 64.0)));
            // a diagonal: y = x / 2 + 2
            p.line_segment(
                [pos2(4.0, 4.0), pos2(60.0, 32.0)],
                Stroke::new(3.0, Color32::RED),
            );
        });
        let at = |x: usize, y: usize| image.data[(y * 64 + x) * 4];
        assert!(at(20, 12) > 200, "the line's middle is red");
        assert_eq!(at(40, 22), 0, "nothing past the clip");
        assert_eq!(at(20, 40), 0, "nothing away from the line");
        // anti-aliased: pixels along the edge are between the line and the background
        let soft = (0..32)
            .flat_map(|x| (0..64).map(move |y| (x, y)))
            .filter(|&(x, y)| (20..200).contains(&at(x, y)))
            .count();
        assert!(soft > 10, "{soft} edge pixels");
        // and no cracks: every pixel on the centre line is fully covered
        for x in 8..28 {
            let y = x / 2 + 2;
            assert!(at(x, y) > 200 || at(x, y + 1) > 200, "crack at {x}");
        }
    }
}
