//! A [`Figure`] as a one-page PDF, written with `pdf-writer` (typst's low-level PDF writer): paths and
//! shapes as PDF paths, balls as radial shadings, each view's surface an embedded image, and the text as
//! real text in egui's own fonts, subset (`subsetter`) and embedded as CID fonts with a ToUnicode map
//! (so it can be searched, copied and edited), each glyph where egui laid it out. The command and scene
//! that made the figure are in the document information.

use std::collections::BTreeMap;

use bevy_egui::egui::{self, Pos2, Rect};
use pdf_writer::{
    Content, Filter, Finish, Name, Pdf, Ref, Str, TextStr,
    types::{
        CidFontType, FontFlags, FunctionShadingType, LineCapStyle, LineJoinStyle, SystemInfo,
        UnicodeCmap,
    },
};
use skrifa::{
    FontRef, GlyphId, MetadataProvider,
    instance::{LocationRef, Size},
};

use super::{Figure, Item, Line, Paint, TextRun};

/// Bézier handle length of a quarter circle, in radii.
const KAPPA: f32 = 0.552_284_8;

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Allocates object numbers.
struct Refs(i32);

impl Refs {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

/// One of egui's fonts, with the glyphs the figure uses.
struct EmbeddedFont {
    /// egui's name for it (`Ubuntu-Light`, `Hack`, ...).
    name: String,
    data: std::sync::Arc<egui::FontData>,
    units_per_em: f32,
    /// The glyphs in use, numbered as in the subset (its CIDs): the content stream is written with
    /// these numbers before the subset is made.
    remapper: subsetter::GlyphRemapper,
    /// By the subset's number: the font's own glyph id and the character it stands for.
    glyphs: BTreeMap<u16, (u16, char)>,
}

impl EmbeddedFont {
    fn font_ref(&self) -> Option<FontRef<'_>> {
        FontRef::from_index(&self.data.font, self.data.index).ok()
    }

    /// The advance of glyph `gid` in font units.
    fn advance(&self, gid: u16) -> f32 {
        self.font_ref()
            .and_then(|f| {
                f.glyph_metrics(Size::unscaled(), LocationRef::default())
                    .advance_width(GlyphId::new(gid as u32))
            })
            .unwrap_or(0.0)
    }
}

/// egui's fonts in the order egui falls back through them, for the proportional and the monospace
/// family; a character is drawn with the first that has it.
struct Fonts {
    fonts: Vec<EmbeddedFont>,
    proportional: Vec<usize>,
    monospace: Vec<usize>,
}

impl Fonts {
    fn egui() -> Self {
        let defs = egui::FontDefinitions::default();
        let mut fonts: Vec<EmbeddedFont> = Vec::new();
        let mut family = |f: egui::FontFamily| -> Vec<usize> {
            defs.families
                .get(&f)
                .into_iter()
                .flatten()
                .filter_map(|name| {
                    if let Some(i) = fonts.iter().position(|e| &e.name == name) {
                        return Some(i);
                    }
                    let data = defs.font_data.get(name)?.clone();
                    let upem = FontRef::from_index(&data.font, data.index)
                        .ok()?
                        .metrics(Size::unscaled(), LocationRef::default())
                        .units_per_em as f32;
                    fonts.push(EmbeddedFont {
                        name: name.clone(),
                        data,
                        units_per_em: upem.max(1.0),
                        remapper: subsetter::GlyphRemapper::new(),
                        glyphs: BTreeMap::new(),
                    });
                    Some(fonts.len() - 1)
                })
                .collect()
        };
        let proportional = family(egui::FontFamily::Proportional);
        let monospace = family(egui::FontFamily::Monospace);
        Self {
            fonts,
            proportional,
            monospace,
        }
    }

    /// The font for `c` (the first font's missing glyph when none has it), the glyph's number in the
    /// subset and its advance in font units; noted as used.
    fn glyph(&mut self, c: char, monospace: bool) -> Option<(usize, u16, f32)> {
        let order = if monospace {
            &self.monospace
        } else {
            &self.proportional
        };
        let found = order.iter().find_map(|&i| {
            let gid = self.fonts[i].font_ref()?.charmap().map(c)?.to_u32();
            (gid != 0).then_some((i, gid as u16))
        });
        let (font, gid) = found.or_else(|| order.first().map(|&i| (i, 0)))?;
        let f = &mut self.fonts[font];
        let cid = f.remapper.remap(gid);
        f.glyphs.entry(cid).or_insert((gid, c));
        Some((font, cid, f.advance(gid)))
    }
}

/// The graphics states for the opacities in use (fill alpha, stroke alpha), by name.
#[derive(Default)]
struct Alphas(BTreeMap<(u16, u16), usize>);

impl Alphas {
    fn key(a: f32) -> u16 {
        (a.clamp(0.0, 1.0) * 1000.0).round() as u16
    }

    fn name(&mut self, fill: f32, stroke: f32) -> Option<String> {
        let key = (Self::key(fill), Self::key(stroke));
        if key == (1000, 1000) {
            return None;
        }
        let next = self.0.len();
        Some(format!("A{}", *self.0.entry(key).or_insert(next)))
    }
}

fn rounded_rect(content: &mut Content, rect: Rect, radius: f32) {
    let r = radius
        .min(rect.width() / 2.0)
        .min(rect.height() / 2.0)
        .max(0.0);
    if r <= 0.0 {
        content.rect(rect.min.x, rect.min.y, rect.width(), rect.height());
        return;
    }
    let k = r * (1.0 - KAPPA);
    let (x0, y0, x1, y1) = (rect.min.x, rect.min.y, rect.max.x, rect.max.y);
    content.move_to(x0 + r, y0);
    content.line_to(x1 - r, y0);
    content.cubic_to(x1 - k, y0, x1, y0 + k, x1, y0 + r);
    content.line_to(x1, y1 - r);
    content.cubic_to(x1, y1 - k, x1 - k, y1, x1 - r, y1);
    content.line_to(x0 + r, y1);
    content.cubic_to(x0 + k, y1, x0, y1 - k, x0, y1 - r);
    content.line_to(x0, y0 + r);
    content.cubic_to(x0, y0 + k, x0 + k, y0, x0 + r, y0);
    content.close_path();
}

fn circle(content: &mut Content, c: Pos2, r: f32) {
    let k = r * KAPPA;
    content.move_to(c.x + r, c.y);
    content.cubic_to(c.x + r, c.y + k, c.x + k, c.y + r, c.x, c.y + r);
    content.cubic_to(c.x - k, c.y + r, c.x - r, c.y + k, c.x - r, c.y);
    content.cubic_to(c.x - r, c.y - k, c.x - k, c.y - r, c.x, c.y - r);
    content.cubic_to(c.x + k, c.y - r, c.x + r, c.y - k, c.x + r, c.y);
    content.close_path();
}

fn rgb(c: [u8; 3]) -> [f32; 3] {
    c.map(|v| v as f32 / 255.0)
}

/// Sets the colours, line style and opacity for a shape, then paints the path already built; a
/// translucent one inside its own graphics state, so the opacity ends with it.
fn paint_path(
    content: &mut Content,
    alphas: &mut Alphas,
    fill: Option<Paint>,
    stroke: Option<Line>,
) {
    let fill_alpha = fill.map_or(1.0, |f| f.alpha);
    let stroke_alpha = stroke.map_or(1.0, |s| s.paint.alpha);
    let state = alphas.name(fill_alpha, stroke_alpha);
    if let Some(gs) = &state {
        content.save_state();
        content.set_parameters(Name(gs.as_bytes()));
    }
    if let Some(f) = fill {
        let [r, g, b] = rgb(f.rgb);
        content.set_fill_rgb(r, g, b);
    }
    if let Some(s) = stroke {
        let [r, g, b] = rgb(s.paint.rgb);
        content.set_stroke_rgb(r, g, b);
        content.set_line_width(s.width);
        content.set_line_join(LineJoinStyle::RoundJoin);
        content.set_line_cap(LineCapStyle::RoundCap);
    }
    match (fill.is_some(), stroke.is_some()) {
        (true, true) => content.fill_nonzero_and_stroke(),
        (true, false) => content.fill_nonzero(),
        (false, true) => content.stroke(),
        (false, false) => content.end_path(),
    };
    if state.is_some() {
        content.restore_state();
    }
}

/// Shows a run of text, glyph by glyph where egui placed them (the figure's y axis points down, so the
/// text matrix turns the glyphs upright).
fn show_text(content: &mut Content, fonts: &mut Fonts, alphas: &mut Alphas, run: &TextRun) {
    let glyphs: Vec<(usize, u16, f32, f32)> = run
        .glyphs
        .iter()
        .filter_map(|&(c, x)| {
            fonts
                .glyph(c, run.monospace)
                .map(|(f, g, advance)| (f, g, x, advance))
        })
        .collect();
    if glyphs.is_empty() {
        return;
    }
    content.save_state();
    if let Some(gs) = alphas.name(run.paint.alpha, 1.0) {
        content.set_parameters(Name(gs.as_bytes()));
    }
    let [r, g, b] = rgb(run.paint.rgb);
    content.set_fill_rgb(r, g, b);
    content.begin_text();
    // one TJ per stretch in one font; each glyph nudged to egui's position
    for chunk in glyphs.chunk_by(|a, b| a.0 == b.0) {
        let font = chunk[0].0;
        let name = format!("F{font}");
        content.set_font(Name(name.as_bytes()), run.size);
        content.set_text_matrix([1.0, 0.0, 0.0, -1.0, run.origin.x + chunk[0].2, run.origin.y]);
        let upem = fonts.fonts[font].units_per_em;
        let mut shown = content.show_positioned();
        let mut items = shown.items();
        let mut pen = chunk[0].2;
        for &(_, cid, x, advance) in chunk {
            let gap = x - pen;
            if gap.abs() > 0.001 {
                items.adjust(-gap * 1000.0 / run.size);
            }
            items.show(Str(&cid.to_be_bytes()));
            pen = x + advance / upem * run.size;
        }
        items.finish();
        shown.finish();
    }
    content.end_text();
    content.restore_state();
}

/// The figure as PDF bytes.
pub fn write(figure: &Figure) -> Result<Vec<u8>, String> {
    let mut refs = Refs(0);
    let catalog = refs.next();
    let page_tree = refs.next();
    let page = refs.next();
    let content_id = refs.next();
    let info = refs.next();
    let mut pdf = Pdf::new();
    let mut fonts = Fonts::egui();
    let mut alphas = Alphas::default();
    // the images and shadings, written as they come
    let mut images: Vec<Ref> = Vec::new();
    let mut shadings: Vec<Ref> = Vec::new();

    let scale = 72.0 / figure.units_per_inch;
    let (page_w, page_h) = (figure.width * scale, figure.height * scale);
    let mut content = Content::new();
    // figure units, y down
    content.transform([scale, 0.0, 0.0, -scale, 0.0, page_h]);
    let mut clip: Option<Rect> = None;
    let mut clipped = false;
    for placed in &figure.items {
        if placed.clip != clip || !clipped {
            if clipped {
                content.restore_state();
            }
            content.save_state();
            clipped = true;
            clip = placed.clip;
            if let Some(r) = clip {
                content.rect(r.min.x, r.min.y, r.width(), r.height());
                content.clip_nonzero();
                content.end_path();
            }
        }
        match &placed.item {
            Item::Image { rect, image } => {
                let id = refs.next();
                let pixels: Vec<u8> = image
                    .data
                    .chunks_exact(4)
                    .flat_map(|p| [p[0], p[1], p[2]])
                    .collect();
                let data = deflate(&pixels);
                let mut x = pdf.image_xobject(id, &data);
                x.filter(Filter::FlateDecode);
                x.width(image.width as i32);
                x.height(image.height as i32);
                x.color_space().device_rgb();
                x.bits_per_component(8);
                x.finish();
                let name = format!("I{}", images.len());
                images.push(id);
                content.save_state();
                content.transform([
                    rect.width(),
                    0.0,
                    0.0,
                    -rect.height(),
                    rect.min.x,
                    rect.max.y,
                ]);
                content.x_object(Name(name.as_bytes()));
                content.restore_state();
            }
            Item::Path {
                points,
                closed,
                fill,
                stroke,
            } => {
                let Some(first) = points.first() else {
                    continue;
                };
                content.move_to(first.x, first.y);
                for p in &points[1..] {
                    content.line_to(p.x, p.y);
                }
                if *closed {
                    content.close_path();
                }
                paint_path(&mut content, &mut alphas, *fill, *stroke);
            }
            Item::Rect {
                rect,
                radius,
                fill,
                stroke,
            } => {
                rounded_rect(&mut content, *rect, *radius);
                paint_path(&mut content, &mut alphas, *fill, *stroke);
            }
            Item::Circle {
                centre,
                radius,
                fill,
                stroke,
            } => {
                circle(&mut content, *centre, *radius);
                paint_path(&mut content, &mut alphas, *fill, *stroke);
            }
            Item::Text(run) => show_text(&mut content, &mut fonts, &mut alphas, run),
            Item::Ball {
                centre,
                radius,
                focus,
                stops,
            } => {
                let (shading, function) = (refs.next(), refs.next());
                let samples: Vec<u8> = stops.iter().flat_map(|(_, c)| *c).collect();
                pdf.sampled_function(function, &samples)
                    .domain([0.0, 1.0])
                    .range([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
                    .size([stops.len() as i32])
                    .bits_per_sample(8);
                let mut sh = pdf.function_shading(shading);
                sh.shading_type(FunctionShadingType::Radial);
                sh.color_space().device_rgb();
                sh.coords([focus.x, focus.y, 0.0, centre.x, centre.y, *radius]);
                sh.function(function);
                sh.extend([true, true]);
                sh.finish();
                let name = format!("S{}", shadings.len());
                shadings.push(shading);
                content.save_state();
                circle(&mut content, *centre, *radius);
                content.clip_nonzero();
                content.end_path();
                content.shading(Name(name.as_bytes()));
                content.restore_state();
            }
        }
    }
    if clipped {
        content.restore_state();
    }
    let stream = deflate(&content.finish());
    pdf.stream(content_id, &stream).filter(Filter::FlateDecode);

    // the fonts in use, subset to their glyphs
    let mut font_refs: Vec<(usize, Ref)> = Vec::new();
    for (i, font) in fonts.fonts.iter().enumerate() {
        if font.glyphs.is_empty() {
            continue;
        }
        let type0 = refs.next();
        write_font(&mut pdf, &mut refs, type0, font)?;
        font_refs.push((i, type0));
    }
    let mut states: Vec<(String, Ref, f32, f32)> = Vec::new();
    for (&(fill, stroke), &index) in &alphas.0 {
        let id = refs.next();
        pdf.ext_graphics(id)
            .non_stroking_alpha(fill as f32 / 1000.0)
            .stroking_alpha(stroke as f32 / 1000.0);
        states.push((format!("A{index}"), id, fill as f32, stroke as f32));
    }

    pdf.catalog(catalog).pages(page_tree);
    pdf.pages(page_tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(pdf_writer::Rect::new(0.0, 0.0, page_w, page_h));
    p.parent(page_tree);
    p.contents(content_id);
    let mut resources = p.resources();
    let mut x = resources.x_objects();
    for (k, id) in images.iter().enumerate() {
        x.pair(Name(format!("I{k}").as_bytes()), *id);
    }
    x.finish();
    let mut f = resources.fonts();
    for (i, id) in &font_refs {
        f.pair(Name(format!("F{i}").as_bytes()), *id);
    }
    f.finish();
    let mut s = resources.shadings();
    for (k, id) in shadings.iter().enumerate() {
        s.pair(Name(format!("S{k}").as_bytes()), *id);
    }
    s.finish();
    let mut g = resources.ext_g_states();
    for (name, id, _, _) in &states {
        g.pair(Name(name.as_bytes()), *id);
    }
    g.finish();
    resources.finish();
    p.finish();

    let prov = &figure.provenance;
    let mut doc = pdf.document_info(info);
    if let Some(title) = &prov.title {
        doc.title(TextStr(title));
    }
    doc.creator(TextStr("losscape"));
    doc.producer(TextStr(concat!("losscape ", env!("CARGO_PKG_VERSION"))));
    doc.subject(TextStr(&prov.command));
    doc.pair(Name(b"LosscapeScene"), TextStr(&prov.scene));
    doc.finish();
    Ok(pdf.finish())
}

/// A six-letter subset tag from the glyphs kept (PDF wants one before a subset font's name).
fn subset_tag(glyphs: &BTreeMap<u16, (u16, char)>) -> String {
    let mut h: u32 = 2_166_136_261;
    for &(g, _) in glyphs.values() {
        for b in g.to_le_bytes() {
            h = (h ^ b as u32).wrapping_mul(16_777_619);
        }
    }
    (0..6)
        .map(|k| (b'A' + ((h >> (k * 5)) % 26) as u8) as char)
        .collect()
}

/// One font as a Type 0 font over a CID TrueType font, subset to its glyphs (new glyph ids are the
/// CIDs), with widths and a ToUnicode map.
fn write_font(
    pdf: &mut Pdf,
    refs: &mut Refs,
    type0: Ref,
    font: &EmbeddedFont,
) -> Result<(), String> {
    let (cid, descriptor, file, cmap) = (refs.next(), refs.next(), refs.next(), refs.next());
    let subset = subsetter::subset(&font.data.font, font.data.index, &font.remapper)
        .map_err(|e| format!("font {}: {e:?}", font.name))?;
    let base = format!("{}+{}", subset_tag(&font.glyphs), font.name);
    let name = Name(base.as_bytes());
    pdf.type0_font(type0)
        .base_font(name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);

    let scale = 1000.0 / font.units_per_em;
    let widths: Vec<(u16, f32)> = font
        .glyphs
        .iter()
        .map(|(&cid, &(gid, _))| (cid, font.advance(gid) * scale))
        .collect();
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2);
    c.base_font(name);
    c.system_info(SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    });
    c.font_descriptor(descriptor);
    c.default_width(0.0);
    let mut w = c.widths();
    for (gid, width) in &widths {
        w.consecutive(*gid, [*width]);
    }
    w.finish();
    c.cid_to_gid_map_predefined(Name(b"Identity"));
    c.finish();

    let metrics = font
        .font_ref()
        .map(|f| f.metrics(Size::unscaled(), LocationRef::default()));
    let (ascent, descent, cap, italic, bbox, mono) = metrics.map_or(
        (
            800.0,
            -200.0,
            700.0,
            0.0,
            [0.0, -200.0, 1000.0, 800.0],
            false,
        ),
        |m| {
            let b = m.bounds.map_or([0.0, m.descent, 1000.0, m.ascent], |b| {
                [b.x_min, b.y_min, b.x_max, b.y_max]
            });
            (
                m.ascent,
                m.descent,
                m.cap_height.unwrap_or(m.ascent * 0.7),
                m.italic_angle,
                b,
                m.is_monospace,
            )
        },
    );
    let mut flags = FontFlags::SYMBOLIC;
    if mono {
        flags |= FontFlags::FIXED_PITCH;
    }
    pdf.font_descriptor(descriptor)
        .name(name)
        .flags(flags)
        .bbox(pdf_writer::Rect::new(
            bbox[0] * scale,
            bbox[1] * scale,
            bbox[2] * scale,
            bbox[3] * scale,
        ))
        .italic_angle(italic)
        .ascent(ascent * scale)
        .descent(descent * scale)
        .cap_height(cap * scale)
        .stem_v(80.0)
        .font_file2(file);
    let packed = deflate(&subset);
    pdf.stream(file, &packed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), subset.len() as i32);

    let mut unicode = UnicodeCmap::new(
        Name(b"Custom"),
        SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"UCS"),
            supplement: 0,
        },
    );
    for (&cid, &(_, ch)) in &font.glyphs {
        unicode.pair(cid, ch);
    }
    pdf.cmap(cmap, &unicode.finish());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::figure::Provenance;
    use bevy_egui::egui::pos2;

    #[test]
    fn greek_letters_come_from_egui_s_font_and_are_embedded() {
        let mut fonts = Fonts::egui();
        let (f, eta, advance) = fonts.glyph('η', false).expect("a font");
        assert_eq!(fonts.fonts[f].name, "Ubuntu-Light");
        assert_eq!(eta, 1, "the first glyph in the subset after .notdef");
        assert_ne!(fonts.fonts[f].glyphs[&1].0, 0, "Ubuntu Light has η");
        assert!(advance > 0.0);
        let mut figure = Figure::new(100.0, 50.0, 96.0, Provenance::default());
        figure.push(
            Rect::from_min_max(pos2(0.0, 0.0), pos2(100.0, 50.0)),
            Item::Text(TextRun {
                origin: pos2(10.0, 30.0),
                size: 12.0,
                monospace: false,
                paint: Paint::opaque([255, 255, 255]),
                glyphs: vec![('η', 0.0), (' ', 7.0), ('1', 10.0)],
                width: 17.0,
            }),
        );
        let bytes = write(&figure).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("%PDF-"));
        assert!(text.contains("+Ubuntu-Light"), "a subset font");
        assert!(text.contains("/ToUnicode"));
        // 96 units per inch: 100 x 50 units are 75 x 37.5 points
        assert!(
            text.contains("/MediaBox [0 0 75 37.5]"),
            "{}",
            &text[..600.min(text.len())]
        );
    }
}
