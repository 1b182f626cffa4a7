//! A [`Figure`] as SVG, composed with the `svg` crate (which escapes text and attributes): real `<text>`
//! in Ubuntu (egui's font; the usual sans-serif where it is not installed, each character placed where
//! egui laid it out, so the layout holds in any font), paths, circles, rounded rectangles, one radial gradient per ball, each view's surface
//! an embedded PNG, and the command and scene that made the figure in `<metadata>`.

use std::collections::HashMap;

use base64::Engine;
use bevy_egui::egui::{Pos2, Rect};
use svg::{
    Document, Node,
    node::element::{
        ClipPath, Definitions, Description, Element, Group, Image, Path, RadialGradient, Rectangle,
        Stop, Title,
    },
};

use super::{Figure, Item, Line, Paint, TextRun};

/// The font families asked for: egui's Ubuntu Light, then what most systems have.
const FONTS: &str = "Ubuntu, 'Ubuntu Light', 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";

/// A number with at most two decimals, without trailing zeros.
fn num(v: f32) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

fn path_data(points: &[Pos2], closed: bool) -> String {
    let mut d = String::with_capacity(points.len() * 12);
    for (i, p) in points.iter().enumerate() {
        d.push_str(if i == 0 { "M" } else { "L" });
        d.push_str(&num(p.x));
        d.push(' ');
        d.push_str(&num(p.y));
    }
    if closed {
        d.push('Z');
    }
    d
}

/// Fill and stroke attributes on `element`.
fn paint<T: svg::node::Node>(mut element: T, fill: Option<Paint>, stroke: Option<Line>) -> T {
    match fill {
        Some(f) => {
            element.assign("fill", hex(f.rgb));
            if f.alpha < 1.0 {
                element.assign("fill-opacity", num(f.alpha.max(0.01)));
            }
        }
        None => element.assign("fill", "none"),
    }
    if let Some(s) = stroke {
        element.assign("stroke", hex(s.paint.rgb));
        element.assign("stroke-width", num(s.width));
        element.assign("stroke-linejoin", "round");
        element.assign("stroke-linecap", "round");
        if s.paint.alpha < 1.0 {
            element.assign("stroke-opacity", num(s.paint.alpha.max(0.01)));
        }
    }
    element
}

/// A run of text, each character at egui's x (so another font than egui's keeps the layout). A plain
/// `text` element: the crate's `Text` writes its content between line breaks, which `xml:space="preserve"`
/// (needed for the double spaces in the legend) would show as spaces.
fn text(run: &TextRun) -> Element {
    let xs: Vec<String> = run
        .glyphs
        .iter()
        .map(|(_, x)| num(run.origin.x + x))
        .collect();
    let mut t = Element::new("text");
    t.assign("x", xs.join(" "));
    t.assign("y", num(run.origin.y));
    t.assign("font-size", num(run.size));
    t.assign("fill", hex(run.paint.rgb));
    if run.monospace {
        t.assign("font-family", "Hack, 'DejaVu Sans Mono', monospace");
    }
    if run.paint.alpha < 1.0 {
        t.assign("fill-opacity", num(run.paint.alpha));
    }
    t.append(svg::node::Text::new(run.text()));
    t
}

/// The figure as an SVG document.
pub fn write(figure: &Figure) -> String {
    let (w, h) = (figure.width, figure.height);
    let (width, height) = if figure.metric {
        let cm = 2.54 / figure.units_per_inch;
        (format!("{}cm", num(w * cm)), format!("{}cm", num(h * cm)))
    } else {
        (num(w), num(h))
    };
    let p = &figure.provenance;
    let mut doc = Document::new()
        .set("xmlns:xlink", "http://www.w3.org/1999/xlink")
        .set("width", width)
        .set("height", height)
        .set("viewBox", format!("0 0 {} {}", num(w), num(h)));
    if let Some(title) = &p.title {
        doc = doc.add(Title::new(title.clone()));
    }
    doc = doc.add(Description::new().add(svg::node::Text::new(format!("made by {}", p.command))));
    let mut scene = Element::new("losscape:scene");
    scene.append(svg::node::Text::new(p.scene.clone()));
    let mut meta = Element::new("losscape:figure");
    meta.assign("xmlns:losscape", "urn:losscape:figure");
    meta.assign("command", p.command.clone());
    meta.append(scene);
    let mut metadata = Element::new("metadata");
    metadata.append(meta);
    doc = doc.add(metadata);

    let mut defs = Definitions::new();
    let mut clips: HashMap<[u32; 4], String> = HashMap::new();
    let mut body = Group::new()
        .set("font-family", FONTS)
        .set("xml:space", "preserve");
    // consecutive items with the same clip share a group
    let mut group: Option<(String, Group)> = None;
    let mut balls = 0;
    for placed in &figure.items {
        let node: Box<dyn svg::node::Node> = match &placed.item {
            Item::Image { rect, image } => {
                let png = image.to_png_with_text(&[]).unwrap_or_default();
                let data = base64::engine::general_purpose::STANDARD.encode(png);
                Box::new(
                    Image::new()
                        .set("x", num(rect.min.x))
                        .set("y", num(rect.min.y))
                        .set("width", num(rect.width()))
                        .set("height", num(rect.height()))
                        .set("preserveAspectRatio", "none")
                        .set("xlink:href", format!("data:image/png;base64,{data}")),
                )
            }
            Item::Path {
                points,
                closed,
                fill,
                stroke,
            } => Box::new(paint(
                Path::new().set("d", path_data(points, *closed)),
                *fill,
                *stroke,
            )),
            Item::Rect {
                rect,
                radius,
                fill,
                stroke,
            } => {
                let mut r = Rectangle::new()
                    .set("x", num(rect.min.x))
                    .set("y", num(rect.min.y))
                    .set("width", num(rect.width()))
                    .set("height", num(rect.height()));
                if *radius > 0.0 {
                    r = r.set("rx", num(*radius));
                }
                Box::new(paint(r, *fill, *stroke))
            }
            Item::Circle {
                centre,
                radius,
                fill,
                stroke,
            } => Box::new(paint(
                svg::node::element::Circle::new()
                    .set("cx", num(centre.x))
                    .set("cy", num(centre.y))
                    .set("r", num(*radius)),
                *fill,
                *stroke,
            )),
            Item::Text(run) => Box::new(text(run)),
            Item::Ball {
                centre,
                radius,
                focus,
                stops,
            } => {
                let id = format!("ball{balls}");
                balls += 1;
                let mut gradient = RadialGradient::new()
                    .set("id", id.clone())
                    .set("gradientUnits", "userSpaceOnUse")
                    .set("cx", num(centre.x))
                    .set("cy", num(centre.y))
                    .set("r", num(*radius))
                    .set("fx", num(focus.x))
                    .set("fy", num(focus.y));
                for (offset, rgb) in stops {
                    gradient = gradient.add(
                        Stop::new()
                            .set("offset", num(*offset))
                            .set("stop-color", hex(*rgb)),
                    );
                }
                defs = defs.add(gradient);
                Box::new(
                    svg::node::element::Circle::new()
                        .set("cx", num(centre.x))
                        .set("cy", num(centre.y))
                        .set("r", num(*radius))
                        .set("fill", format!("url(#{id})")),
                )
            }
        };
        let clip_id = placed.clip.map(|rect| {
            let key = clip_key(rect);
            let next = clips.len();
            clips
                .entry(key)
                .or_insert_with(|| {
                    let id = format!("clip{next}");
                    defs = std::mem::take(&mut defs).add(
                        ClipPath::new().set("id", id.clone()).add(
                            Rectangle::new()
                                .set("x", num(rect.min.x))
                                .set("y", num(rect.min.y))
                                .set("width", num(rect.width()))
                                .set("height", num(rect.height())),
                        ),
                    );
                    id
                })
                .clone()
        });
        match (clip_id, group.take()) {
            (None, open) => {
                if let Some((_, g)) = open {
                    body = body.add(g);
                }
                body = body.add(node);
            }
            (Some(id), Some((open_id, g))) if open_id == id => group = Some((id, g.add(node))),
            (Some(id), open) => {
                if let Some((_, g)) = open {
                    body = body.add(g);
                }
                let g = Group::new()
                    .set("clip-path", format!("url(#{id})"))
                    .add(node);
                group = Some((id, g));
            }
        }
    }
    if let Some((_, g)) = group {
        body = body.add(g);
    }
    doc.add(defs).add(body).to_string()
}

fn clip_key(rect: Rect) -> [u32; 4] {
    [rect.min.x, rect.min.y, rect.max.x, rect.max.y].map(|v| (v * 100.0).round() as i64 as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::figure::Provenance;
    use bevy_egui::egui::pos2;

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f32::NAN), "0");
    }

    #[test]
    fn items_and_metadata_are_written_and_escaped() {
        let mut figure = Figure::new(
            100.0,
            50.0,
            96.0,
            Provenance {
                title: Some("a < b".into()),
                command: "losscape render --title \"x & y\"".into(),
                scene: "(title: \"<Beale>\")".into(),
            },
        );
        let clip = Rect::from_min_max(pos2(0.0, 0.0), pos2(50.0, 50.0));
        figure.push(
            clip,
            Item::Path {
                points: vec![pos2(0.0, 0.0), pos2(10.0, 5.5)],
                closed: false,
                fill: None,
                stroke: Some(Line {
                    width: 1.5,
                    paint: Paint::opaque([255, 0, 0]),
                }),
            },
        );
        let text = write(&figure);
        assert!(text.contains(r#"d="M0 0L10 5.5""#), "{text}");
        assert!(text.contains("clip-path=\"url(#clip0)\""));
        assert!(text.contains("&lt;Beale&gt;"));
        assert!(text.contains("x &amp; y"));
        assert!(!text.contains("<Beale>"));
        figure.push(
            clip,
            Item::Text(TextRun {
                origin: pos2(5.0, 20.0),
                size: 12.0,
                monospace: false,
                paint: Paint::opaque([255, 255, 255]),
                glyphs: vec![('η', 0.0), (' ', 6.0), (' ', 9.0), ('1', 12.0)],
                width: 18.0,
            }),
        );
        let text = write(&figure);
        assert!(text.contains(r#"x="5 11 14 17""#), "{text}");
        assert!(
            text.contains(">η  1</text>"),
            "no line breaks around the text: {text}"
        );
    }
}
