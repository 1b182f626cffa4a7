//! The legend and step counter drawn into recorded frames: optimizer colours, names, eta and betas in the
//! top-right corner, the step in the bottom-right. Laid out by egui (its default fonts, with Greek letters)
//! and rasterized on the CPU at the clip's own resolution, so the text is crisp whatever the capture size,
//! identical in the app and in `losscape render`, and never on screen when the legend is off.

use bevy_egui::egui::{
    self, Color32, FontId, Pos2, RawInput, epaint::Primitive, epaint::Vertex, pos2, vec2,
};

use super::frame::RgbaImage;
use crate::core::{OptimizerKind, scene::OptimizerSpec};

/// One optimizer's line in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    pub name: String,
    /// sRGB.
    pub color: [u8; 3],
    /// Its hyperparameters, e.g. `η 0.05  β_m 0.9  β_r 0.999`.
    pub detail: String,
}

impl LegendEntry {
    /// The entry of an optimizer spec (eta always; the betas its formula uses).
    pub fn of(spec: &OptimizerSpec) -> Self {
        let h = &spec.hyper;
        let detail = match spec.kind {
            OptimizerKind::Sgd | OptimizerKind::AdaGrad => format!("η {}", h.lr),
            OptimizerKind::Momentum | OptimizerKind::Nesterov => {
                format!("η {}  β_m {}", h.lr, h.beta_m)
            }
            OptimizerKind::RmsProp => format!("η {}  β_r {}", h.lr, h.beta_r),
            OptimizerKind::Adam => format!("η {}  β_m {}  β_r {}", h.lr, h.beta_m, h.beta_r),
        };
        Self {
            name: spec.name.clone(),
            color: rgb8(spec.color),
            detail,
        }
    }
}

/// sRGB 0..1 to 8-bit.
pub fn rgb8(c: [f32; 3]) -> [u8; 3] {
    c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
}

/// What to draw on one frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LegendState {
    /// Optimizer lines; none hides the legend box.
    pub entries: Vec<LegendEntry>,
    /// The step counter; `None` hides it.
    pub step: Option<u64>,
}

/// Lays out and rasterizes legends; keeps egui's font atlas between frames.
#[derive(Default)]
pub struct LegendPainter {
    ctx: egui::Context,
    font: Option<egui::ColorImage>,
}

impl LegendPainter {
    /// Draws `legend` over `image`.
    pub fn draw(&mut self, image: &mut RgbaImage, legend: &LegendState) {
        if legend.entries.is_empty() && legend.step.is_none() {
            return;
        }
        let size = vec2(image.width as f32, image.height as f32);
        let input = RawInput {
            screen_rect: Some(egui::Rect::from_min_size(Pos2::ZERO, size)),
            ..Default::default()
        };
        let mut output = self
            .ctx
            .run_ui(input, |ui| paint_legend(ui.painter(), size, legend));
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
        let primitives = self.ctx.tessellate(output.shapes, 1.0);
        let Some(font) = &self.font else {
            return;
        };
        for p in primitives {
            if let Primitive::Mesh(mesh) = &p.primitive {
                for tri in mesh.indices.chunks_exact(3) {
                    let v = |i: u32| mesh.vertices.get(i as usize).copied();
                    if let (Some(a), Some(b), Some(c)) = (v(tri[0]), v(tri[1]), v(tri[2])) {
                        fill_triangle(image, p.clip_rect, font, [a, b, c]);
                    }
                }
            }
        }
    }
}

/// The legend's shapes, in pixels of the frame.
fn paint_legend(painter: &egui::Painter, size: egui::Vec2, legend: &LegendState) {
    let text = (size.y / 480.0 * 15.0).clamp(10.0, 30.0);
    let font = FontId::proportional(text);
    let pad = (text * 0.6).round();
    let margin = (text * 0.6).round();
    let bg = Color32::from_rgba_premultiplied(10, 11, 14, 200);
    if !legend.entries.is_empty() {
        let galleys: Vec<_> = legend
            .entries
            .iter()
            .map(|e| {
                let mut job = egui::text::LayoutJob::default();
                let color = Color32::from_rgb(e.color[0], e.color[1], e.color[2]);
                job.append(&e.name, 0.0, egui::TextFormat::simple(font.clone(), color));
                job.append(
                    &e.detail,
                    text * 0.7,
                    egui::TextFormat::simple(font.clone(), Color32::from_gray(225)),
                );
                painter.layout_job(job)
            })
            .collect();
        let dot = text * 0.35;
        let row_h = galleys.iter().map(|g| g.size().y).fold(text, f32::max);
        let width = galleys.iter().map(|g| g.size().x).fold(0.0, f32::max) + 3.0 * dot + 2.0 * pad;
        let height = row_h * galleys.len() as f32 + 2.0 * pad;
        let min = pos2(size.x - margin - width, margin).max(Pos2::ZERO);
        let rect = egui::Rect::from_min_size(min, vec2(width, height));
        painter.rect_filled(rect, text * 0.3, bg);
        for (i, (g, e)) in galleys.into_iter().zip(&legend.entries).enumerate() {
            let top = rect.min.y + pad + i as f32 * row_h;
            let color = Color32::from_rgb(e.color[0], e.color[1], e.color[2]);
            painter.circle_filled(pos2(rect.min.x + pad + dot, top + row_h * 0.5), dot, color);
            painter.galley(pos2(rect.min.x + pad + 3.0 * dot, top), g, Color32::WHITE);
        }
    }
    if let Some(step) = legend.step {
        let g = painter.layout_no_wrap(format!("step {step}"), font, Color32::WHITE);
        let s = g.size() + vec2(2.0 * pad, pad);
        let rect = egui::Rect::from_min_size(
            pos2(size.x - margin - s.x, size.y - margin - s.y).max(Pos2::ZERO),
            s,
        );
        painter.rect_filled(rect, text * 0.3, bg);
        painter.galley(rect.min + vec2(pad, 0.5 * pad), g, Color32::WHITE);
    }
}

/// Fills one egui triangle (premultiplied sRGB colours, texture from the font atlas) over `image`.
fn fill_triangle(image: &mut RgbaImage, clip: egui::Rect, font: &egui::ColorImage, v: [Vertex; 3]) {
    let [a, b, c] = v.map(|v| v.pos);
    let area = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
    if area.abs() < 1e-6 {
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
    let width = image.width as usize;
    for y in lo.y.floor() as usize..hi.y.ceil() as usize {
        for x in lo.x.floor() as usize..hi.x.ceil() as usize {
            let p = pos2(x as f32 + 0.5, y as f32 + 0.5);
            let w0 = ((b.x - p.x) * (c.y - p.y) - (b.y - p.y) * (c.x - p.x)) / area;
            let w1 = ((c.x - p.x) * (a.y - p.y) - (c.y - p.y) * (a.x - p.x)) / area;
            let w2 = 1.0 - w0 - w1;
            if w0 < -1e-4 || w1 < -1e-4 || w2 < -1e-4 {
                continue;
            }
            let lerp = |f: fn(&Vertex) -> f32| w0 * f(&v[0]) + w1 * f(&v[1]) + w2 * f(&v[2]);
            let t = tex(lerp(|v| v.uv.x), lerp(|v| v.uv.y));
            let col: [f32; 4] = std::array::from_fn(|k| {
                let c = w0 * v[0].color.to_array()[k] as f32
                    + w1 * v[1].color.to_array()[k] as f32
                    + w2 * v[2].color.to_array()[k] as f32;
                c / 255.0 * t[k]
            });
            let i = (y * width + x) * 4;
            for k in 0..3 {
                let dst = image.data[i + k] as f32 / 255.0;
                let out = col[k] + dst * (1.0 - col[3]);
                image.data[i + k] = (out * 255.0).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_draws_text_in_its_corner_only() {
        let mut image = RgbaImage::new(320, 240);
        let legend = LegendState {
            entries: vec![LegendEntry {
                name: "Adam".into(),
                color: [255, 80, 0],
                detail: "η 0.05  β_m 0.9  β_r 0.999".into(),
            }],
            step: Some(42),
        };
        let mut painter = LegendPainter::default();
        painter.draw(&mut image, &legend);
        let at = |x: usize, y: usize| &image.data[(y * 320 + x) * 4..(y * 320 + x) * 4 + 3];
        // the top-left corner is untouched, the top-right has the box and bright text
        assert_eq!(at(2, 2), &[0, 0, 0]);
        let bright = (0..60)
            .flat_map(|y| (160..320).map(move |x| (x, y)))
            .filter(|&(x, y)| at(x, y).iter().any(|&c| c > 150))
            .count();
        assert!(bright > 30, "{bright} bright pixels in the legend");
        // the step counter, bottom right
        let counter = (200..240)
            .flat_map(|y| (240..320).map(move |x| (x, y)))
            .filter(|&(x, y)| at(x, y)[0] > 150)
            .count();
        assert!(counter > 10);
        // nothing drawn without a legend
        let mut blank = RgbaImage::new(32, 32);
        painter.draw(&mut blank, &LegendState::default());
        assert_eq!(blank, RgbaImage::new(32, 32));
    }
}
