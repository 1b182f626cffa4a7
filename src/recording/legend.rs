//! The legend, the step counter and the title drawn into recorded frames: optimizer colours, names, eta
//! and betas in a corner (the one the runs leave emptiest), the step in a bottom corner, the title
//! centred at the top. Laid out by egui (its default fonts, with Greek letters)
//! and rasterized on the CPU ([`ShapePainter`]) at the clip's own resolution, so the text is crisp whatever the capture size,
//! identical in the app and in `losscape render`, and never on screen when the legend is off.

use bevy_egui::egui::{self, Color32, FontId, Pos2, pos2, vec2};

use super::frame::RgbaImage;
use super::raster::ShapePainter;
use crate::core::num;
use crate::core::scene::OptimizerSpec;
pub use crate::paint::marks::rgb8;

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
        let kind = spec.kind;
        let mut detail = format!("η {}", num(h.lr));
        if kind.uses_beta_m() {
            detail += &format!("  β_m {}", num(h.beta_m));
        }
        if kind.uses_beta_r() {
            detail += &format!("  β_r {}", num(h.beta_r));
        }
        if kind.uses_weight_decay() && h.weight_decay > 0.0 {
            detail += &format!("  λ {}", num(h.weight_decay));
        }
        if kind.uses_nu() {
            detail += &format!("  ν {}", num(h.nu));
        }
        if h.schedule != crate::core::Schedule::Constant {
            detail += &format!("  {}", h.schedule.name());
        }
        Self {
            name: spec.name.clone(),
            color: rgb8(spec.color),
            detail,
        }
    }
}

/// A corner of the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Corner {
    #[default]
    TopRight,
    TopLeft,
    BottomRight,
    BottomLeft,
}

impl Corner {
    /// Every corner, the usual place of a legend first.
    pub const ALL: [Self; 4] = [
        Self::TopRight,
        Self::TopLeft,
        Self::BottomRight,
        Self::BottomLeft,
    ];

    /// Where a box of `size` sits in this corner of a frame of `frame` size, `margin` from its edges.
    pub fn place(self, frame: egui::Vec2, size: egui::Vec2, margin: f32) -> egui::Rect {
        let x = match self {
            Self::TopLeft | Self::BottomLeft => margin,
            Self::TopRight | Self::BottomRight => frame.x - margin - size.x,
        };
        let y = match self {
            Self::TopLeft | Self::TopRight => margin,
            Self::BottomLeft | Self::BottomRight => frame.y - margin - size.y,
        };
        egui::Rect::from_min_size(pos2(x, y).max(Pos2::ZERO), size)
    }

    /// The bottom corners the step counter may take, the first choice first: never the legend's.
    fn counter_corners(self) -> &'static [Self] {
        match self {
            Self::BottomRight => &[Self::BottomLeft],
            Self::BottomLeft => &[Self::BottomRight],
            _ => &[Self::BottomRight, Self::BottomLeft],
        }
    }
}

/// What to draw on one frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LegendState {
    /// Optimizer lines; none hides the legend box.
    pub entries: Vec<LegendEntry>,
    /// The step counter; `None` hides it.
    pub step: Option<u64>,
    /// Where the legend box goes (the counter takes a bottom corner the legend leaves free).
    pub corner: Corner,
    /// What the step counter keeps off, as fractions of the frame (0 to 1 across and down): the top
    /// view's x values along its bottom edge. It takes a bottom corner clear of them, or sits above them.
    pub keep_clear: Vec<egui::Rect>,
}

/// Where the step counter (a box of `size`) goes in a frame of `frame` size: the first bottom corner
/// the legend leaves free whose box stays off `keep_clear` (in pixels), else the first one lifted above
/// what it would cover.
fn counter_rect(
    legend: &LegendState,
    frame: egui::Vec2,
    size: egui::Vec2,
    margin: f32,
    keep_clear: &[egui::Rect],
) -> egui::Rect {
    let corners = legend.corner.counter_corners();
    // half a margin of air between the counter and what it keeps off, so they do not touch
    let keep_clear: Vec<egui::Rect> = keep_clear.iter().map(|k| k.expand(0.5 * margin)).collect();
    let clear = |r: &egui::Rect| !keep_clear.iter().any(|k| k.intersects(*r));
    if let Some(rect) = corners
        .iter()
        .map(|c| c.place(frame, size, margin))
        .find(clear)
    {
        return rect;
    }
    let first = corners[0].place(frame, size, margin);
    let top = keep_clear
        .iter()
        .filter(|k| k.intersects(first))
        .map(|k| k.min.y)
        .fold(first.max.y, f32::min);
    first.translate(vec2(0.0, (top - first.max.y).min(0.0)))
}

/// The size of the legend's text for a frame of `size` (pixels).
pub fn text_size(size: egui::Vec2) -> f32 {
    (size.y / 480.0 * 15.0).clamp(10.0, 30.0)
}

/// The legend box's size for `entries` lines in a frame of `size`, without laying out the text: a
/// generous estimate for choosing a corner.
pub fn estimated_box(size: egui::Vec2, entries: usize, longest: usize) -> egui::Vec2 {
    let text = text_size(size);
    vec2(
        longest as f32 * text * 0.55 + 3.0 * text,
        entries as f32 * text * 1.3 + 1.2 * text,
    )
}

/// The title on a dark band in the top corner the legend (at `legend`) leaves free.
pub fn paint_title(painter: &egui::Painter, size: egui::Vec2, title: &str, legend: Option<Corner>) {
    let text = text_size(size) * 1.2;
    let galley =
        painter.layout_no_wrap(title.to_owned(), FontId::proportional(text), Color32::WHITE);
    let pad = (text * 0.4).round();
    let s = galley.size() + vec2(2.0 * pad, pad);
    // in the top corner the legend leaves free
    let x = if legend == Some(Corner::TopLeft) {
        (size.x - s.x - pad).max(0.0)
    } else {
        pad
    };
    let rect = egui::Rect::from_min_size(pos2(x, pad), s);
    painter.rect_filled(
        rect,
        text * 0.3,
        Color32::from_rgba_premultiplied(10, 11, 14, 200),
    );
    painter.galley(rect.min + vec2(pad, 0.5 * pad), galley, Color32::WHITE);
}

/// Draws `legend` over `image` (nothing when it is empty).
pub fn draw_legend(painter: &mut ShapePainter, image: &mut RgbaImage, legend: &LegendState) {
    if legend.entries.is_empty() && legend.step.is_none() {
        return;
    }
    painter.paint(image, |p, size| {
        paint_legend(p, size, legend);
    });
}

/// The legend's shapes, in pixels of the frame; returns the box of the optimizer lines, if any.
pub fn paint_legend(
    painter: &egui::Painter,
    size: egui::Vec2,
    legend: &LegendState,
) -> Option<egui::Rect> {
    let text = text_size(size);
    let font = FontId::proportional(text);
    let pad = (text * 0.6).round();
    let margin = (text * 0.6).round();
    let bg = Color32::from_rgba_premultiplied(10, 11, 14, 200);
    let mut entries_box = None;
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
        let rect = legend.corner.place(size, vec2(width, height), margin);
        painter.rect_filled(rect, text * 0.3, bg);
        entries_box = Some(rect);
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
        let keep_clear: Vec<egui::Rect> = legend
            .keep_clear
            .iter()
            .map(|r| {
                egui::Rect::from_min_max(
                    (r.min.to_vec2() * size).to_pos2(),
                    (r.max.to_vec2() * size).to_pos2(),
                )
            })
            .collect();
        let rect = counter_rect(legend, size, s, margin, &keep_clear);
        painter.rect_filled(rect, text * 0.3, bg);
        painter.galley(rect.min + vec2(pad, 0.5 * pad), g, Color32::WHITE);
    }
    entries_box
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
            corner: Corner::TopRight,
            keep_clear: Vec::new(),
        };
        let mut painter = ShapePainter::default();
        draw_legend(&mut painter, &mut image, &legend);
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
        draw_legend(&mut painter, &mut blank, &LegendState::default());
        assert_eq!(blank, RgbaImage::new(32, 32));
    }

    #[test]
    fn the_step_counter_keeps_off_the_axis_values() {
        let frame = vec2(640.0, 240.0);
        let size = vec2(80.0, 20.0);
        let legend = |corner| LegendState {
            corner,
            ..LegendState::default()
        };
        // the top view on the right half: its x values along the bottom
        let axis = [egui::Rect::from_min_max(
            pos2(320.0, 210.0),
            pos2(640.0, 240.0),
        )];
        let r = counter_rect(&legend(Corner::TopRight), frame, size, 8.0, &axis);
        assert!(
            r.max.x <= 320.0 && r.max.y <= 240.0,
            "{r:?}: the free bottom corner"
        );
        // the legend holds that corner: the counter rises above the values
        let r = counter_rect(&legend(Corner::BottomLeft), frame, size, 8.0, &axis);
        assert!(r.min.x >= 320.0 && r.max.y <= 210.0, "{r:?}");
        // nothing to keep off: bottom right, as before
        let r = counter_rect(&legend(Corner::TopRight), frame, size, 8.0, &[]);
        assert_eq!(r.max, pos2(632.0, 232.0));
    }
}
