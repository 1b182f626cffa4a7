//! Painting over the views with egui, shared by every overlay (labels, axes, arrows, readouts): a painter
//! clipped to one view, outlined text that reads over any colour, round tick spacings, colours.

use bevy::math::Rect;
use bevy_egui::egui;

use crate::geometry::ViewKind;

/// A "nice" tick spacing (1, 2 or 5 times a power of ten) giving about `target` ticks over `span`.
pub fn nice_step(span: f64, target: f64) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / target.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.5 {
        2.0
    } else if norm < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick values of spacing `step` inside [lo, hi].
pub fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && step > 0.0) || hi < lo {
        return Vec::new();
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last.min(first + 200))
        .map(|k| k as f64 * step)
        .collect()
}

pub fn tick_label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    format!("{v:.decimals$}")
}

/// A painter over one view, clipped to it, on its own background layer (named by `salt`), with the
/// view's rectangle in egui points. `rect` is in logical window pixels, `ui_scale` the egui zoom.
pub fn view_painter(
    ctx: &egui::Context,
    view: ViewKind,
    rect: Rect,
    ui_scale: f32,
    salt: &'static str,
) -> (egui::Painter, egui::Rect) {
    let s = ui_scale.max(0.1);
    let clip = egui::Rect::from_min_max(
        egui::pos2(rect.min.x / s, rect.min.y / s),
        egui::pos2(rect.max.x / s, rect.max.y / s),
    );
    let painter = ctx
        .layer_painter(egui::LayerId::new(
            egui::Order::Background,
            egui::Id::new((salt, view as u8)),
        ))
        .with_clip_rect(clip);
    (painter, clip)
}

/// Text with a dark outline so it reads over any colour of the surface.
pub fn outlined(
    painter: &egui::Painter,
    pos: egui::Pos2,
    anchor: egui::Align2,
    text: &str,
    color: egui::Color32,
    size: f32,
) {
    let font = egui::FontId::proportional(size);
    for d in [
        egui::vec2(1.0, 1.0),
        egui::vec2(-1.0, 1.0),
        egui::vec2(1.0, -1.0),
        egui::vec2(-1.0, -1.0),
    ] {
        painter.text(
            pos + d,
            anchor,
            text,
            font.clone(),
            egui::Color32::from_black_alpha(220),
        );
    }
    painter.text(pos, anchor, text, font, color);
}

/// An sRGB colour for egui from a spec colour.
pub fn egui_color(rgb: [f32; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(
        (rgb[0].clamp(0.0, 1.0) * 255.0).round() as u8,
        (rgb[1].clamp(0.0, 1.0) * 255.0).round() as u8,
        (rgb[2].clamp(0.0, 1.0) * 255.0).round() as u8,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_and_ticks() {
        assert_eq!(nice_step(9.0, 6.0), 2.0);
        assert_eq!(nice_step(1.0, 6.0), 0.2);
        assert_eq!(nice_step(100.0, 6.0), 20.0);
        assert_eq!(ticks(-4.5, 4.5, 2.0), vec![-4.0, -2.0, 0.0, 2.0, 4.0]);
        assert!(ticks(f64::NAN, 1.0, 0.5).is_empty());
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(-1e-17, 0.5), "0.0");
    }
}
