//! Painting over the views with egui, shared by every overlay (labels, axes, arrows, readouts): a painter
//! clipped to one view on a layer of its purpose, outlined text that reads over any colour, round tick
//! spacings, colours; and [`marks`], the trails, rings and balls of the runs, for the app and for clips.

pub mod axes;
pub mod marks;

use bevy::math::Rect;
use bevy_egui::egui;

use crate::geometry::ViewKind;

/// Background of the views where the surface does not reach: dark, so colours and white text read on a
/// projector.
pub const BACKGROUND: bevy::color::Color = bevy::color::Color::srgb(0.08, 0.085, 0.1);

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

/// A tick's value with as many decimals as its spacing needs (`0.5`, `1.0`, `1.5`), so a row of ticks
/// lines up; ticks finer than 0.001 or coarser than 10⁵ in the style of [`crate::core::num`].
pub fn tick_label(v: f64, step: f64) -> String {
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    if !(1e-3..1e5).contains(&step) {
        return crate::core::num(v);
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// What is painted over a view, bottom to top: each has its own egui layer per view, stacked in this
/// order by [`order_view_layers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewLayer {
    /// The landscape itself (the cached surface image).
    Backdrop,
    /// Trails, start rings, balls and ghost paths.
    Marks,
    /// Teaching aids: arrows, boxes, the gradient field.
    Aids,
    /// Labels, axes and captions.
    Overlay,
    /// Readouts under the pointer and ghost end labels.
    Readout,
}

impl ViewLayer {
    /// Every layer, bottom to top.
    pub const ALL: [Self; 5] = [
        Self::Backdrop,
        Self::Marks,
        Self::Aids,
        Self::Overlay,
        Self::Readout,
    ];

    /// The egui layer of this purpose over `view`.
    pub fn id(self, view: ViewKind) -> egui::LayerId {
        egui::LayerId::new(
            egui::Order::Background,
            egui::Id::new(("losscape-view", view as u8, self as u8)),
        )
    }
}

/// Stacks each view's layers in [`ViewLayer`] order (the layers above the backdrop become its
/// sublayers, which egui keeps in the order they were first seen, right above it). Called at the start
/// of every egui pass.
pub fn order_view_layers(ctx: &egui::Context) {
    ctx.memory_mut(|m| {
        for view in ViewKind::ALL {
            let base = ViewLayer::Backdrop.id(view);
            for layer in &ViewLayer::ALL[1..] {
                m.areas_mut().set_sublayer(base, layer.id(view));
            }
        }
    });
}

/// The rectangle of a view in egui points: `rect` is in logical window pixels, `ui_scale` the egui zoom.
pub fn view_clip(rect: Rect, ui_scale: f32) -> egui::Rect {
    let s = ui_scale.max(0.1);
    egui::Rect::from_min_max(
        egui::pos2(rect.min.x / s, rect.min.y / s),
        egui::pos2(rect.max.x / s, rect.max.y / s),
    )
}

/// A painter over one view, clipped to it, on the view's `layer`, with the view's rectangle in egui
/// points. `rect` is in logical window pixels, `ui_scale` the egui zoom.
pub fn view_painter(
    ctx: &egui::Context,
    view: ViewKind,
    rect: Rect,
    ui_scale: f32,
    layer: ViewLayer,
) -> (egui::Painter, egui::Rect) {
    let clip = view_clip(rect, ui_scale);
    (ctx.layer_painter(layer.id(view)).with_clip_rect(clip), clip)
}

/// Text on a dark translucent chip, so it reads over any colour of the surface (one rectangle and the
/// glyphs: cheap to draw every frame, even on a software renderer). Returns the chip's rectangle.
pub fn outlined(
    painter: &egui::Painter,
    pos: egui::Pos2,
    anchor: egui::Align2,
    text: &str,
    color: egui::Color32,
    size: f32,
) -> egui::Rect {
    let galley = painter.layout_no_wrap(text.to_owned(), egui::FontId::proportional(size), color);
    let rect = anchor.anchor_size(pos, galley.size());
    let chip = rect.expand2(egui::vec2(3.0, 1.0));
    painter.rect_filled(chip, 3.0, egui::Color32::from_black_alpha(200));
    painter.galley(rect.min, galley, color);
    chip
}

/// An sRGB colour for egui from a spec colour.
pub fn egui_color(rgb: [f32; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(
        (rgb[0].clamp(0.0, 1.0) * 255.0).round() as u8,
        (rgb[1].clamp(0.0, 1.0) * 255.0).round() as u8,
        (rgb[2].clamp(0.0, 1.0) * 255.0).round() as u8,
    )
}

/// Places labels near their anchors inside a view without overlapping each other: beside the anchor on
/// the right, or on the left near the view's right edge, above or below it, moved down past labels
/// already placed, and always kept inside the view.
#[derive(Debug, Clone)]
pub struct LabelPlacer {
    clip: egui::Rect,
    placed: Vec<egui::Rect>,
}

impl LabelPlacer {
    /// Labels inside `clip` (egui points).
    pub fn new(clip: egui::Rect) -> Self {
        Self {
            clip,
            placed: Vec::new(),
        }
    }

    /// Keeps labels off `rect` (a caption, a readout).
    pub fn reserve(&mut self, rect: egui::Rect) {
        self.placed.push(rect);
    }

    /// The rectangle for a label of `size` next to `anchor` (`gap` points away from it).
    pub fn place(&mut self, anchor: egui::Pos2, size: egui::Vec2, gap: f32) -> egui::Rect {
        let clip = self.clip;
        let fit = |min: egui::Pos2| {
            let x = min
                .x
                .clamp(clip.min.x, (clip.max.x - size.x).max(clip.min.x));
            let y = min
                .y
                .clamp(clip.min.y, (clip.max.y - size.y).max(clip.min.y));
            egui::Rect::from_min_size(egui::pos2(x, y), size)
        };
        let free = |r: &egui::Rect| !self.placed.iter().any(|p| p.intersects(r.shrink(0.5)));
        let right = anchor.x + gap;
        let left = anchor.x - gap - size.x;
        let above = anchor.y - gap - size.y;
        let below = anchor.y + gap;
        let candidates = [(right, above), (left, above), (right, below), (left, below)]
            .map(|(x, y)| fit(egui::pos2(x, y)));
        let rect = candidates
            .iter()
            .copied()
            .find(|r| free(r))
            .unwrap_or_else(|| {
                // everything near is taken: go down (then up) in label-height steps from the first choice
                let start = candidates[0];
                (1..200)
                    .flat_map(|k| [k as f32, -(k as f32)])
                    .map(|k| fit(start.min + egui::vec2(0.0, k * size.y)))
                    .find(|r| free(r))
                    .unwrap_or(start)
            });
        self.placed.push(rect);
        rect
    }
}

/// What a floating window should not hide, in egui points: the runs' trail points, and their balls with
/// the labels placed around them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunsOnScreen {
    pub trails: Vec<egui::Pos2>,
    pub balls: Vec<egui::Pos2>,
}

/// Where a ball's label may go around it ([`LabelPlacer`]: beside it, above or below), in egui points.
const BALL_AND_LABEL: egui::Vec2 = egui::vec2(340.0, 80.0);

/// Where a floating window of `size` (egui points) hides the least of the runs: over one of the `views`
/// (egui points; the first view first), kept off the captions and readouts along a view's top and the
/// axis values along its bottom, the place covering the fewest trail points, a ball with its label
/// counting as a hundred; among equally good places the one nearest a corner of its view. Places are
/// tried every [`SPOT_STEP`] points. `None` without views.
pub fn free_corner(
    views: &[egui::Rect],
    size: egui::Vec2,
    runs: &RunsOnScreen,
) -> Option<egui::Pos2> {
    // room for the caption and the readout under it, and for the axis values
    const TOP: f32 = 52.0;
    const BOTTOM: f32 = 30.0;
    const SIDE: f32 = 8.0;
    // a few thousand trail points are plenty to tell a free place from a busy one
    let stride = (runs.trails.len() / 2000).max(1);
    let trails: Vec<egui::Pos2> = runs.trails.iter().step_by(stride).copied().collect();
    let hidden = |at: egui::Pos2| {
        let rect = egui::Rect::from_min_size(at, size).expand(6.0);
        let balls = runs
            .balls
            .iter()
            .filter(|b| rect.intersects(egui::Rect::from_center_size(**b, BALL_AND_LABEL)))
            .count();
        trails.iter().filter(|m| rect.contains(**m)).count() * stride + 100 * balls
    };
    let places = views.iter().enumerate().flat_map(|(k, v)| {
        let (left, right) = (
            v.min.x + SIDE,
            (v.max.x - SIDE - size.x).max(v.min.x + SIDE),
        );
        let (top, bottom) = (
            v.min.y + TOP,
            (v.max.y - BOTTOM - size.y).max(v.min.y + TOP),
        );
        let along = |lo: f32, hi: f32| {
            let n = ((hi - lo) / SPOT_STEP).ceil().max(0.0) as usize;
            (0..=n).map(move |i| (lo + i as f32 * SPOT_STEP).min(hi))
        };
        along(top, bottom).flat_map(move |y| {
            along(left, right).map(move |x| {
                let to_corner = (x - left).min(right - x) + (y - top).min(bottom - y);
                (k, to_corner, egui::pos2(x, y))
            })
        })
    });
    places
        .map(|(k, to_corner, at)| ((hidden(at), k, to_corner), at))
        .min_by(|a, b| {
            let ((h1, k1, c1), (h2, k2, c2)) = (a.0, b.0);
            (h1, k1).cmp(&(h2, k2)).then(c1.total_cmp(&c2))
        })
        .map(|(_, at)| at)
}

/// How far apart the places [`free_corner`] tries are (egui points).
const SPOT_STEP: f32 = 16.0;

/// Keeps a floating window clear of the runs ([`free_corner`]): placed when it opens and whenever the
/// views change shape (a layout key, a resized window or panel); where the teacher drags it otherwise.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WindowSpot {
    /// The views it was last placed for; `None` while the window is closed.
    placed_for: Option<Vec<egui::Rect>>,
}

impl WindowSpot {
    /// The window was closed: it is placed again when it opens.
    pub fn closed(&mut self) {
        self.placed_for = None;
    }

    /// Where to put window `id` this frame (`None`: where it is). `default_size` stands in for its size
    /// until egui has laid it out once.
    pub fn place(
        &mut self,
        ctx: &egui::Context,
        id: egui::Id,
        default_size: egui::Vec2,
        views: &[egui::Rect],
        runs: &RunsOnScreen,
    ) -> Option<egui::Pos2> {
        if self.placed_for.as_deref() == Some(views) {
            return None;
        }
        self.placed_for = Some(views.to_vec());
        let size = ctx
            .memory(|m| m.area_rect(id))
            .map_or(default_size, |r| r.size());
        free_corner(views, size, runs)
    }
}

/// Outlined text (see [`outlined`]) laid out by a [`LabelPlacer`]: its rectangle is measured from the
/// real glyphs, so long labels ("SGD: converged at step 978") stay inside the view.
pub fn placed_label(
    painter: &egui::Painter,
    placer: &mut LabelPlacer,
    anchor: egui::Pos2,
    text: &str,
    color: egui::Color32,
    size: f32,
) -> egui::Rect {
    let galley = painter.layout_no_wrap(text.to_owned(), egui::FontId::proportional(size), color);
    let rect = placer.place(anchor, galley.size() + egui::vec2(8.0, 4.0), 8.0);
    outlined(
        painter,
        rect.min + egui::vec2(4.0, 2.0),
        egui::Align2::LEFT_TOP,
        text,
        color,
        size,
    );
    rect
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
        assert_eq!(tick_label(3e-5, 1e-5), "3e-5");
        assert_eq!(tick_label(2e6, 1e6), "2e6");
    }

    #[test]
    fn a_window_takes_the_corner_the_runs_leave_free() {
        let views = [
            egui::Rect::from_min_max(egui::pos2(300.0, 0.0), egui::pos2(900.0, 400.0)),
            egui::Rect::from_min_max(egui::pos2(300.0, 400.0), egui::pos2(900.0, 800.0)),
        ];
        let size = egui::vec2(200.0, 150.0);
        // runs everywhere in the first view but its bottom-right corner
        let trails: Vec<egui::Pos2> = (0..40)
            .flat_map(|i| {
                (0..20).map(move |j| egui::pos2(300.0 + 15.0 * i as f32, 20.0 * j as f32))
            })
            .filter(|p| !(p.x > 650.0 && p.y > 200.0))
            .collect();
        let marks = RunsOnScreen {
            trails,
            balls: Vec::new(),
        };
        let at = free_corner(&views, size, &marks).unwrap();
        assert_eq!(at, egui::pos2(900.0 - 8.0 - 200.0, 400.0 - 30.0 - 150.0));
        // nothing anywhere: the first view's top-left, below its caption
        let none = RunsOnScreen::default();
        assert_eq!(
            free_corner(&views, size, &none),
            Some(egui::pos2(308.0, 52.0))
        );
        assert_eq!(free_corner(&[], size, &none), None);
        // a ball (with its label) weighs more than a few trail points
        let ball = RunsOnScreen {
            trails: vec![egui::pos2(800.0, 500.0); 5],
            balls: vec![egui::pos2(400.0, 100.0)],
        };
        assert_eq!(
            free_corner(&views, size, &ball),
            Some(egui::pos2(692.0, 52.0))
        );
        // placed once per shape of the views
        let ctx = egui::Context::default();
        let mut spot = WindowSpot::default();
        let id = egui::Id::new("w");
        assert!(spot.place(&ctx, id, size, &views, &marks).is_some());
        assert!(spot.place(&ctx, id, size, &views, &marks).is_none());
        assert!(
            spot.place(&ctx, id, size, &views[..1], &marks).is_some(),
            "a new layout"
        );
        spot.closed();
        assert!(
            spot.place(&ctx, id, size, &views[..1], &marks).is_some(),
            "opened again"
        );
    }

    #[test]
    fn labels_stay_inside_the_view_and_apart() {
        let clip = egui::Rect::from_min_max(egui::pos2(100.0, 0.0), egui::pos2(500.0, 300.0));
        let mut placer = LabelPlacer::new(clip);
        let size = egui::vec2(180.0, 16.0);
        // eight balls at the same spot near the right edge, and some in the corners
        let anchors = [egui::pos2(495.0, 150.0); 8].into_iter().chain([
            egui::pos2(100.0, 0.0),
            egui::pos2(500.0, 300.0),
            egui::pos2(600.0, -50.0),
        ]);
        let rects: Vec<egui::Rect> = anchors.map(|a| placer.place(a, size, 8.0)).collect();
        for (i, r) in rects.iter().enumerate() {
            assert!(clip.contains_rect(*r), "{i}: {r:?} leaves the view");
            for (j, q) in rects.iter().enumerate().skip(i + 1) {
                assert!(!r.shrink(0.5).intersects(*q), "{i} and {j} overlap");
            }
        }
    }
}
