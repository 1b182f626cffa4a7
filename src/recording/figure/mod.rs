//! Vector figures of the views, SVG ([`svg`]) and PDF ([`pdf`]), from `losscape render --out fig.svg` and
//! the panel: the same picture as the PNG still, with what can be vector drawn as vector shapes.
//!
//! The surface's colours are an embedded image per view (the CPU renderer's, [`super::still`]), the top
//! view's contour lines paths on the grid's own triangles ([`crate::core::mesh::iso_lines`]: where the
//! shader draws them). Everything else is painted by the very code that paints the PNG (axes, title,
//! trails, start rings, balls, legend, step counter), into egui shapes that are turned into vector items
//! ([`Figure::add_shapes`]) instead of being rasterized: text stays text, in egui's own layout, and each
//! ball becomes a radial gradient sampled from the same lighting as the raster ball. In the 3D view the
//! points hidden behind the surface are left out of the paths, as on screen.

pub mod pdf;
pub mod svg;

use std::{path::Path, sync::Arc};

use bevy::{
    color::{Color, ColorToComponents},
    math::{Quat, Vec3},
};
use bevy_egui::egui::{
    self, Color32, FontFamily, Pos2, Rect, Shape, epaint::ClippedShape, pos2, vec2,
};

use super::frame::RgbaImage;
use super::headless::RenderJob;
use super::legend::{Corner, LegendState, paint_legend, paint_title};
use super::overlay::PathOverlay;
use super::raster::ShapePainter;
use super::still::{LINE_SHADE, draw_surface_with};
use crate::core::{SurfaceGrid, mesh::iso_lines};
use crate::geometry::{SurfaceFrame, ViewKind, ViewProjection, top_overlay_y};
use crate::paint::{BACKGROUND, axes::paint_top_axes, marks::ball_shade, marks::paint_ball_rim};
use crate::surface::surface_uniform;

/// The vector formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FigureFormat {
    Svg,
    Pdf,
}

impl FigureFormat {
    /// The format a path's extension names (`.svg`, `.pdf`), if any.
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Some(Self::Svg),
            "pdf" => Some(Self::Pdf),
            _ => None,
        }
    }
}

/// A colour with its opacity (sRGB, not premultiplied).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paint {
    pub rgb: [u8; 3],
    /// 0 ..= 1.
    pub alpha: f32,
}

impl Paint {
    /// From egui's premultiplied colour; `None` when fully transparent.
    pub fn of(c: Color32) -> Option<Self> {
        let [r, g, b, a] = c.to_srgba_unmultiplied();
        (a > 0).then_some(Self {
            rgb: [r, g, b],
            alpha: a as f32 / 255.0,
        })
    }

    pub fn opaque(rgb: [u8; 3]) -> Self {
        Self { rgb, alpha: 1.0 }
    }
}

/// A stroke: width in figure units and colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    pub width: f32,
    pub paint: Paint,
}

impl Line {
    fn of(stroke: egui::Stroke) -> Option<Self> {
        let paint = Paint::of(stroke.color)?;
        (stroke.width > 0.0).then_some(Self {
            width: stroke.width,
            paint,
        })
    }
}

/// A run of text in one font, size and colour on one baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct TextRun {
    /// Where the baseline starts.
    pub origin: Pos2,
    /// Font size (figure units).
    pub size: f32,
    /// Hack (egui's monospace) instead of Ubuntu Light (egui's proportional font).
    pub monospace: bool,
    pub paint: Paint,
    /// Each character and its glyph's x offset from `origin`, as egui laid them out.
    pub glyphs: Vec<(char, f32)>,
    /// From `origin` to the end of the last glyph's advance.
    pub width: f32,
}

impl TextRun {
    pub fn text(&self) -> String {
        self.glyphs.iter().map(|(c, _)| *c).collect()
    }
}

/// One thing drawn, in figure units (the pixels of the PNG the figure matches; y down).
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// Opaque pixels, one per figure unit, with `rect`'s top-left corner at its top-left corner.
    Image {
        rect: Rect,
        image: RgbaImage,
    },
    Path {
        points: Vec<Pos2>,
        closed: bool,
        fill: Option<Paint>,
        stroke: Option<Line>,
    },
    Rect {
        rect: Rect,
        radius: f32,
        fill: Option<Paint>,
        stroke: Option<Line>,
    },
    Circle {
        centre: Pos2,
        radius: f32,
        fill: Option<Paint>,
        stroke: Option<Line>,
    },
    Text(TextRun),
    /// A lit ball: a radial gradient from `focus` (offset 0) to the circle's edge (offset 1).
    Ball {
        centre: Pos2,
        radius: f32,
        focus: Pos2,
        stops: Vec<(f32, [u8; 3])>,
    },
}

/// An item and the rectangle it is clipped to (`None`: the whole figure).
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    pub clip: Option<Rect>,
    pub item: Item,
}

/// Where a figure came from, embedded in it as metadata so it can be made again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// The figure's title, if any.
    pub title: Option<String>,
    /// One line: the command line, or how the app made it.
    pub command: String,
    /// The scene that was drawn, as a scene file (RON).
    pub scene: String,
}

/// A picture made of vector items, ready to be written as SVG or PDF.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// Size in figure units.
    pub width: f32,
    pub height: f32,
    /// Figure units per inch: 96 (CSS pixels) for a size in pixels, the DPI for a size in centimetres.
    pub units_per_inch: f32,
    /// Whether the size was asked for in centimetres (an SVG then says so).
    pub metric: bool,
    pub items: Vec<Placed>,
    pub provenance: Provenance,
}

/// A ball as the vector painter hands it over (an egui paint callback carries it in the shape list, in
/// its place between the other shapes).
#[derive(Clone, Copy, Debug)]
struct BallMark {
    centre: Pos2,
    radius: f32,
    color: Color,
    rotation: Quat,
}

/// Paints a ball as a [`BallMark`] (then its rim, as the raster ball has).
fn vector_ball(painter: &egui::Painter, centre: Pos2, radius: f32, color: Color, rotation: Quat) {
    painter.add(Shape::Callback(egui::PaintCallback {
        rect: Rect::from_center_size(centre, vec2(2.0 * radius, 2.0 * radius)),
        callback: Arc::new(BallMark {
            centre,
            radius,
            color,
            rotation,
        }),
    }));
    paint_ball_rim(painter, centre, radius, color);
}

impl Figure {
    /// An empty figure of `width` x `height` units.
    pub fn new(width: f32, height: f32, units_per_inch: f32, provenance: Provenance) -> Self {
        Self {
            width,
            height,
            units_per_inch,
            metric: false,
            items: Vec::new(),
            provenance,
        }
    }

    fn bounds(&self) -> Rect {
        Rect::from_min_size(Pos2::ZERO, vec2(self.width, self.height))
    }

    /// Adds an item clipped to `clip` (none when it covers the figure).
    pub fn push(&mut self, clip: Rect, item: Item) {
        let bounds = self.bounds();
        let clip = (!clip.contains_rect(bounds)).then(|| clip.intersect(bounds));
        if clip.is_some_and(|c| !c.is_positive()) {
            return;
        }
        self.items.push(Placed { clip, item });
    }

    /// Adds egui shapes as vector items, in order.
    pub fn add_shapes(&mut self, shapes: Vec<ClippedShape>) {
        for ClippedShape { clip_rect, shape } in shapes {
            self.add_shape(clip_rect, shape);
        }
    }

    fn add_shape(&mut self, clip: Rect, shape: Shape) {
        match shape {
            Shape::Noop => {}
            Shape::Vec(shapes) => {
                for s in shapes {
                    self.add_shape(clip, s);
                }
            }
            Shape::Circle(c) => self.push(
                clip,
                Item::Circle {
                    centre: c.center,
                    radius: c.radius,
                    fill: Paint::of(c.fill),
                    stroke: Line::of(c.stroke),
                },
            ),
            Shape::Ellipse(e) => {
                let points = (0..64)
                    .map(|k| {
                        let a = k as f32 / 64.0 * std::f32::consts::TAU;
                        e.center + vec2(a.cos() * e.radius.x, a.sin() * e.radius.y)
                    })
                    .collect();
                self.push(
                    clip,
                    Item::Path {
                        points,
                        closed: true,
                        fill: Paint::of(e.fill),
                        stroke: Line::of(e.stroke),
                    },
                );
            }
            Shape::LineSegment { points, stroke } => self.push(
                clip,
                Item::Path {
                    points: points.to_vec(),
                    closed: false,
                    fill: None,
                    stroke: Line::of(stroke),
                },
            ),
            Shape::Path(p) => {
                let color = match &p.stroke.color {
                    egui::epaint::ColorMode::Solid(c) => *c,
                    egui::epaint::ColorMode::UV(f) => {
                        let bounds = Rect::from_points(&p.points);
                        f(bounds, bounds.center())
                    }
                };
                let stroke = Line::of(egui::Stroke::new(p.stroke.width, color));
                self.push(
                    clip,
                    Item::Path {
                        points: p.points,
                        closed: p.closed,
                        fill: Paint::of(p.fill),
                        stroke,
                    },
                );
            }
            Shape::Rect(r) => {
                let stroke = Line::of(r.stroke);
                // a stroke inside or outside the rectangle is a stroke on a smaller or larger one
                let half = stroke.map_or(0.0, |s| s.width / 2.0);
                let rect = match r.stroke_kind {
                    egui::StrokeKind::Inside => r.rect.shrink(half),
                    egui::StrokeKind::Middle => r.rect,
                    egui::StrokeKind::Outside => r.rect.expand(half),
                };
                let c = r.corner_radius;
                let radius = (c.nw as f32 + c.ne as f32 + c.sw as f32 + c.se as f32) / 4.0;
                self.push(
                    clip,
                    Item::Rect {
                        rect,
                        radius,
                        fill: Paint::of(r.fill),
                        stroke,
                    },
                );
            }
            Shape::Text(text) => {
                for run in text_runs(&text) {
                    self.push(clip, Item::Text(run));
                }
            }
            Shape::Mesh(mesh) => {
                // no mesh is painted but balls, which come as callbacks; any other is kept as flat
                // triangles rather than lost
                for tri in mesh.indices.chunks_exact(3) {
                    let v =
                        [tri[0], tri[1], tri[2]].map(|i| mesh.vertices.get(i as usize).copied());
                    let (Some(a), Some(b), Some(c)) = (v[0], v[1], v[2]) else {
                        continue;
                    };
                    let mean = |k: usize| {
                        let sum = a.color.to_array()[k] as u32
                            + b.color.to_array()[k] as u32
                            + c.color.to_array()[k] as u32;
                        (sum / 3) as u8
                    };
                    let color =
                        Color32::from_rgba_premultiplied(mean(0), mean(1), mean(2), mean(3));
                    self.push(
                        clip,
                        Item::Path {
                            points: vec![a.pos, b.pos, c.pos],
                            closed: true,
                            fill: Paint::of(color),
                            stroke: None,
                        },
                    );
                }
            }
            Shape::QuadraticBezier(q) => self.push(
                clip,
                Item::Path {
                    points: q.flatten(None),
                    closed: q.closed,
                    fill: Paint::of(q.fill),
                    stroke: Line::of(egui::Stroke::new(q.stroke.width, solid(&q.stroke.color))),
                },
            ),
            Shape::CubicBezier(c) => self.push(
                clip,
                Item::Path {
                    points: c.flatten(None),
                    closed: c.closed,
                    fill: Paint::of(c.fill),
                    stroke: Line::of(egui::Stroke::new(c.stroke.width, solid(&c.stroke.color))),
                },
            ),
            Shape::Callback(callback) => {
                if let Some(ball) = callback.callback.downcast_ref::<BallMark>() {
                    self.push(clip, ball_item(ball));
                }
            }
        }
    }
}

fn solid(color: &egui::epaint::ColorMode) -> Color32 {
    match color {
        egui::epaint::ColorMode::Solid(c) => *c,
        egui::epaint::ColorMode::UV(_) => Color32::GRAY,
    }
}

/// A ball as a radial gradient: its focus where the raster ball is brightest, the stops sampled from the
/// raster ball's shading along the line from there through the centre to the far rim.
fn ball_item(ball: &BallMark) -> Item {
    let shade = ball_shade(ball.color, ball.rotation);
    let luma = |c: Color32| 0.2126 * c.r() as f32 + 0.7152 * c.g() as f32 + 0.0722 * c.b() as f32;
    let mut focus = (0.0f32, 0.0f32);
    let mut best = f32::NEG_INFINITY;
    for j in 0..=24 {
        for i in 0..=24 {
            let (dx, dy) = (i as f32 / 12.0 - 1.0, j as f32 / 12.0 - 1.0);
            if dx * dx + dy * dy <= 0.9 {
                let l = luma(shade(dx, dy));
                if l > best {
                    (best, focus) = (l, (dx, dy));
                }
            }
        }
    }
    // the far rim: from the focus through the centre
    let away = vec2(-focus.0, -focus.1);
    let dir = if away.length() > 1e-3 {
        away.normalized()
    } else {
        vec2(0.0, 1.0)
    };
    let (f, rim) = (vec2(focus.0, focus.1), dir);
    let stops = (0..=10)
        .map(|k| {
            let s = k as f32 / 10.0;
            // a hair inside the rim, where the raster ball's outermost ring is
            let p = (f + (rim - f) * s) * 0.98;
            let c = shade(p.x, p.y);
            (s, [c.r(), c.g(), c.b()])
        })
        .collect();
    Item::Ball {
        centre: ball.centre,
        radius: ball.radius,
        focus: ball.centre + f * ball.radius,
        stops,
    }
}

/// The runs of text of an egui text shape: one per row and colour, with egui's glyph positions.
fn text_runs(shape: &egui::epaint::TextShape) -> Vec<TextRun> {
    let galley = &shape.galley;
    let job = &galley.job;
    // each glyph's section (its font), found by walking the text alongside the glyphs
    let mut chars = job.text.char_indices().filter(|(_, c)| *c != '\n');
    let section_of = |byte: usize| {
        job.sections
            .iter()
            .find(|s| (s.byte_range.start.0..s.byte_range.end.0).contains(&byte))
            .or(job.sections.first())
    };
    let mut runs: Vec<TextRun> = Vec::new();
    for placed in &galley.rows {
        let row_origin = shape.pos + placed.pos.to_vec2();
        let mesh = &placed.row.visuals.mesh;
        let mut last_color = shape.fallback_color;
        let mut current: Option<TextRun> = None;
        for glyph in &placed.row.glyphs {
            let byte = chars
                .by_ref()
                .take(8)
                .find(|(_, c)| *c == glyph.chr)
                .map(|(b, _)| b);
            let section = byte.and_then(section_of).or(job.sections.first());
            let (size, monospace) = section.map_or((14.0, false), |s| {
                (
                    s.format.font_id.size,
                    s.format.font_id.family == FontFamily::Monospace,
                )
            });
            let mut color = mesh
                .vertices
                .get(glyph.first_vertex as usize)
                .map_or(last_color, |v| v.color);
            if let Some(over) = shape.override_text_color {
                color = over;
            } else if color == Color32::PLACEHOLDER {
                color = shape.fallback_color;
            }
            if shape.opacity_factor < 1.0 {
                color = color.gamma_multiply(shape.opacity_factor);
            }
            last_color = color;
            let Some(paint) = Paint::of(color) else {
                continue;
            };
            let at = row_origin + glyph.pos.to_vec2();
            let same = current.as_ref().is_some_and(|r| {
                r.paint == paint
                    && r.size == size
                    && r.monospace == monospace
                    && (r.origin.y - at.y).abs() < 0.01
            });
            if !same && let Some(done) = current.take() {
                runs.push(done);
            }
            let run = current.get_or_insert_with(|| TextRun {
                origin: at,
                size,
                monospace,
                paint,
                glyphs: Vec::new(),
                width: 0.0,
            });
            let x = at.x - run.origin.x;
            run.glyphs.push((glyph.chr, x));
            run.width = x + glyph.advance_width;
        }
        runs.extend(current);
    }
    runs.retain(|r| r.glyphs.iter().any(|(c, _)| !c.is_whitespace()));
    runs
}

/// Keeps the points of a polyline that matter for its shape within `tolerance` (Ramer–Douglas–Peucker):
/// a contour line sampled on a fine grid has far more points than its curve needs.
fn simplify(points: &[Pos2], tolerance: f32) -> Vec<Pos2> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut stack = vec![(0, points.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        let (pa, pb) = (points[a], points[b]);
        let d = pb - pa;
        let len = d.length();
        let mut far = (0.0, a);
        for (k, p) in points.iter().enumerate().take(b).skip(a + 1) {
            let dist = if len > 1e-6 {
                (d.x * (p.y - pa.y) - d.y * (p.x - pa.x)).abs() / len
            } else {
                p.distance(pa)
            };
            if dist > far.0 {
                far = (dist, k);
            }
        }
        if far.0 > tolerance {
            keep[far.1] = true;
            stack.push((a, far.1));
            stack.push((far.1, b));
        }
    }
    points
        .iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// The top view's contour lines as the shader draws them: at the levels `t = k / count` of the contour
/// coordinate, on the mesh's triangles, as dark translucent strokes of the shader's line width.
fn contour_items(
    figure: &mut Figure,
    grid: &SurfaceGrid,
    frame: &SurfaceFrame,
    style: &crate::core::scene::SurfaceStyle,
    view: &ViewProjection,
) {
    let uniform = surface_uniform(style);
    let count = style.contour_count;
    if count == 0 {
        return;
    }
    let n = grid.resolution;
    let t: Vec<f32> = grid
        .loss
        .iter()
        .map(|&l| frame.contour_coordinate(l as f64, style.log_contours))
        .collect();
    // the shader scales linear light by 1 - (1 - LINE_SHADE) * strength; over sRGB colours that is
    // about black at this opacity
    let factor = 1.0 - (1.0 - LINE_SHADE) * uniform.contour_strength;
    let paint = Paint {
        rgb: [0, 0, 0],
        alpha: 1.0 - factor.powf(1.0 / 2.2),
    };
    let stroke = Line {
        width: uniform.contour_width,
        paint,
    };
    let plane = top_overlay_y(frame);
    let last = (n - 1) as f64;
    let to_pixel = |g: [f32; 2]| {
        let p = [
            grid.domain.x[0] + g[0] as f64 / last * grid.domain.width(),
            grid.domain.y[0] + g[1] as f64 / last * grid.domain.height(),
        ];
        let xz = frame.param_to_xz(p);
        view.project(Vec3::new(xz.x, plane, xz.y)).map(|(px, _)| px)
    };
    for k in 1..count {
        let level = k as f32 / count as f32;
        for line in iso_lines(n, &t, &grid.undefined, level) {
            let pixels: Option<Vec<Pos2>> = line.iter().map(|&g| to_pixel(g)).collect();
            let Some(pixels) = pixels else { continue };
            let closed = pixels.len() > 3 && pixels.first() == pixels.last();
            let points = simplify(&pixels, 0.1);
            if points.len() >= 2 {
                figure.push(
                    view.rect,
                    Item::Path {
                        points,
                        closed,
                        fill: None,
                        stroke: Some(stroke),
                    },
                );
            }
        }
    }
}

/// What a figure is made from: the render's landscape, views and runs as they are at the figure's
/// step, and the legend's corner.
pub struct FigureScene<'a> {
    pub job: &'a RenderJob,
    pub grid: &'a SurfaceGrid,
    pub frame: &'a SurfaceFrame,
    pub views: &'a [ViewProjection],
    pub paths: &'a PathOverlay,
    pub corner: Corner,
}

/// The figure of a render job: the picture its PNG still would be, as vector items.
pub fn build(scene: &FigureScene, provenance: Provenance) -> Figure {
    let job = scene.job;
    let (w, h) = (job.width, job.height);
    let mut figure = Figure::new(
        w as f32,
        h as f32,
        job.dpi.unwrap_or(96.0) as f32,
        provenance,
    );
    figure.metric = job.dpi.is_some();
    let size = vec2(w as f32, h as f32);
    let bounds = figure.bounds();
    let bg = crate::paint::marks::rgb8(BACKGROUND.to_srgba().to_f32_array_no_alpha());
    figure.push(
        bounds,
        Item::Rect {
            rect: bounds,
            radius: 0.0,
            fill: Some(Paint::opaque(bg)),
            stroke: None,
        },
    );
    // the surface, each view's rectangle an image; the top view's contour lines come as paths
    let mut still = RgbaImage::new(w, h);
    let style = &job.scene.surface;
    draw_surface_with(
        &mut still,
        scene.grid,
        scene.frame,
        style,
        scene.views,
        &|v| v.view != ViewKind::Top,
    );
    for view in scene.views {
        let r = view.rect.intersect(bounds);
        let (x0, y0) = (
            r.min.x.round().max(0.0) as u32,
            r.min.y.round().max(0.0) as u32,
        );
        let (x1, y1) = (
            (r.max.x.round() as u32).min(w),
            (r.max.y.round() as u32).min(h),
        );
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let mut image = RgbaImage::new(x1 - x0, y1 - y0);
        for y in y0..y1 {
            let src = ((y * w + x0) * 4) as usize..((y * w + x1) * 4) as usize;
            let dst =
                (((y - y0) * (x1 - x0)) * 4) as usize..(((y - y0 + 1) * (x1 - x0)) * 4) as usize;
            image.data[dst].copy_from_slice(&still.data[src]);
        }
        let rect = Rect::from_min_max(pos2(x0 as f32, y0 as f32), pos2(x1 as f32, y1 as f32));
        figure.push(bounds, Item::Image { rect, image });
        if view.view == ViewKind::Top {
            contour_items(&mut figure, scene.grid, scene.frame, style, view);
        }
    }
    let mut painter = ShapePainter::default();
    let legend_shown = job.legend || job.step_counter;
    // the step counter keeps off the top view's x values, as in the clips
    let mut keep_clear = Vec::new();
    let shapes = painter.shapes(size, |p, size| {
        if job.axes
            && let Some(top) = scene.views.iter().find(|v| v.view == ViewKind::Top)
            && let Some(band) = paint_top_axes(
                p,
                top,
                scene.frame,
                (size.y / 480.0 * 12.0).clamp(9.0, 24.0),
            )
        {
            let fraction = |p: egui::Pos2| (p.to_vec2() / size).to_pos2();
            keep_clear.push(Rect::from_min_max(fraction(band.min), fraction(band.max)));
        }
        if let Some(title) = job.title.as_deref().filter(|t| !t.trim().is_empty()) {
            paint_title(p, size, title, legend_shown.then_some(scene.corner));
        }
    });
    figure.add_shapes(shapes);
    let shapes = painter.shapes(size, |p, _| scene.paths.paint_with(p, &vector_ball));
    figure.add_shapes(shapes);
    let legend = LegendState {
        entries: if job.legend {
            scene.paths.legend()
        } else {
            Vec::new()
        },
        step: job.step_counter.then(|| scene.paths.steps()),
        corner: scene.corner,
        keep_clear,
    };
    let shapes = painter.shapes(size, |p, size| {
        paint_legend(p, size, &legend);
    });
    figure.add_shapes(shapes);
    figure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(
            FigureFormat::of(Path::new("a/fig.SVG")),
            Some(FigureFormat::Svg)
        );
        assert_eq!(
            FigureFormat::of(Path::new("fig.pdf")),
            Some(FigureFormat::Pdf)
        );
        assert_eq!(FigureFormat::of(Path::new("fig.png")), None);
        assert_eq!(FigureFormat::of(Path::new("fig")), None);
    }

    #[test]
    fn simplify_keeps_corners_and_drops_collinear_points() {
        let line: Vec<Pos2> = (0..=10).map(|k| pos2(k as f32, 0.0)).collect();
        assert_eq!(simplify(&line, 0.1), vec![pos2(0.0, 0.0), pos2(10.0, 0.0)]);
        let corner = [pos2(0.0, 0.0), pos2(5.0, 0.0), pos2(5.0, 5.0)];
        assert_eq!(simplify(&corner, 0.1), corner.to_vec());
    }

    #[test]
    fn shapes_become_items_with_their_text_colours_and_clip() {
        let mut painter = ShapePainter::default();
        let size = vec2(200.0, 100.0);
        let shapes = painter.shapes(size, |p, _| {
            let mut job = egui::text::LayoutJob::default();
            let font = egui::FontId::proportional(15.0);
            job.append(
                "Adam",
                0.0,
                egui::TextFormat::simple(font.clone(), Color32::RED),
            );
            job.append("η 0.05", 8.0, egui::TextFormat::simple(font, Color32::GRAY));
            let galley = p.layout_job(job);
            p.galley(pos2(10.0, 10.0), galley, Color32::WHITE);
            p.with_clip_rect(Rect::from_min_max(pos2(0.0, 0.0), pos2(100.0, 100.0)))
                .line_segment([pos2(0.0, 0.0), pos2(150.0, 50.0)], (2.0, Color32::BLUE));
            vector_ball(
                p,
                pos2(50.0, 50.0),
                8.0,
                Color::srgb(1.0, 0.5, 0.0),
                Quat::IDENTITY,
            );
        });
        let mut figure = Figure::new(200.0, 100.0, 96.0, Provenance::default());
        figure.add_shapes(shapes);
        let texts: Vec<&TextRun> = figure
            .items
            .iter()
            .filter_map(|p| match &p.item {
                Item::Text(t) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert_eq!(texts[0].text(), "Adam");
        assert_eq!(texts[0].paint.rgb, [255, 0, 0]);
        assert_eq!(texts[1].text(), "η 0.05");
        assert!(
            texts[1].origin.x > texts[0].origin.x + texts[0].width,
            "after the gap"
        );
        assert!(
            texts[0].origin.y > 10.0 && texts[0].origin.y < 30.0,
            "a baseline"
        );
        let line = figure
            .items
            .iter()
            .find(|p| matches!(p.item, Item::Path { .. }))
            .unwrap();
        assert_eq!(
            line.clip,
            Some(Rect::from_min_max(pos2(0.0, 0.0), pos2(100.0, 100.0)))
        );
        let ball = figure
            .items
            .iter()
            .find_map(|p| match &p.item {
                Item::Ball { stops, focus, .. } => Some((stops.clone(), *focus)),
                _ => None,
            })
            .expect("a ball");
        // lit from the upper left, brightest there, darker towards the far rim
        assert!(ball.1.x < 50.0 && ball.1.y < 50.0, "{:?}", ball.1);
        let luma = |c: [u8; 3]| c.iter().map(|&v| v as u32).sum::<u32>();
        assert!(luma(ball.0[0].1) > luma(ball.0[10].1));
        assert!(
            figure.items.iter().any(|p| matches!(
                p.item,
                Item::Circle {
                    stroke: Some(_),
                    ..
                }
            )),
            "the rim"
        );
    }
}
