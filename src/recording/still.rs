//! The landscape as a still picture, drawn on the CPU: the surface mesh the app draws (the same vertices,
//! normals and contour coordinates, from `surface::mesh`) rasterized through each view's camera with a
//! depth buffer, then shaded as shaders/surface.wgsl shades it (colormap, anti-aliased contour lines from
//! the contour coordinate's screen-space derivative, one diffuse light plus ambient; no tone mapping, as
//! in the app). A clip needs the landscape once, so this replaces a whole GPU renderer's start-up (and
//! works on a machine without any GPU driver).

use bevy::color::ColorToComponents;
use bevy::math::{Mat4, Vec3, Vec4};
use bevy_egui::egui;

use super::frame::RgbaImage;
use crate::core::{
    colormap::{linear_to_srgb, srgb_to_linear},
    scene::SurfaceStyle,
};
use crate::geometry::{SurfaceFrame, ViewProjection};
use crate::paint::{BACKGROUND, marks::rgb8};
use crate::surface::{material::SurfaceUniform, mesh, surface_uniform};

/// How dark a contour line is at full strength: the colour under it is scaled by this (in linear light),
/// as in the surface shader.
pub const LINE_SHADE: f32 = 0.12;

/// Direction towards the light, as in the surface shader.
const LIGHT: Vec3 = Vec3::new(-0.35, 1.0, 0.55);

/// One covered pixel of a view: what the fragment shader gets.
#[derive(Clone, Copy)]
struct Fragment {
    /// Depth in normalized device coordinates (reverse-Z: larger is nearer).
    depth: f32,
    /// Contour coordinate (0 at the grid's lowest loss, 1 at its highest).
    t: f32,
    normal: Vec3,
    front: bool,
}

/// A vertex after the camera: pixel position, depth, 1/w (for perspective-correct interpolation).
#[derive(Clone, Copy)]
struct Projected {
    x: f32,
    y: f32,
    depth: f32,
    inv_w: f32,
}

/// Draws the surface of `grid`/`frame` (vertices from `surface::mesh`) into `image` through every view
/// in `views` (each in its own rectangle of the image); the rest of the image is the background.
pub fn draw_surface(
    image: &mut RgbaImage,
    grid: &crate::core::SurfaceGrid,
    frame: &SurfaceFrame,
    style: &SurfaceStyle,
    views: &[ViewProjection],
) {
    draw_surface_with(image, grid, frame, style, views, &|_| true);
}

/// [`draw_surface`] with the contour lines only in the views `contours` says yes to (a vector figure
/// draws the top view's lines as paths).
pub fn draw_surface_with(
    image: &mut RgbaImage,
    grid: &crate::core::SurfaceGrid,
    frame: &SurfaceFrame,
    style: &SurfaceStyle,
    views: &[ViewProjection],
    contours: &dyn Fn(&ViewProjection) -> bool,
) {
    let bg = rgb8(BACKGROUND.to_srgba().to_f32_array_no_alpha());
    for px in image.data.chunks_exact_mut(4) {
        px.copy_from_slice(&[bg[0], bg[1], bg[2], 255]);
    }
    let vertices = mesh::surface_vertices(grid, frame, style.log_contours);
    let indices = mesh::grid_indices(grid.resolution, &grid.undefined);
    let uniform = surface_uniform(style);
    for view in views {
        let uniform = SurfaceUniform {
            contour_count: if contours(view) {
                uniform.contour_count
            } else {
                0.0
            },
            ..uniform
        };
        draw_view(image, &vertices, &indices, view, &uniform, style);
    }
}

fn draw_view(
    image: &mut RgbaImage,
    vertices: &mesh::SurfaceVertices,
    indices: &[u32],
    view: &ViewProjection,
    uniform: &SurfaceUniform,
    style: &SurfaceStyle,
) {
    let image_rect = egui::Rect::from_min_size(
        egui::Pos2::ZERO,
        egui::vec2(image.width as f32, image.height as f32),
    );
    let rect = view.rect.intersect(image_rect);
    if rect.width() < 1.0 || rect.height() < 1.0 {
        return;
    }
    let (x0, y0) = (rect.min.x.round() as usize, rect.min.y.round() as usize);
    let (x1, y1) = (rect.max.x.round() as usize, rect.max.y.round() as usize);
    let (w, h) = (x1 - x0, y1 - y0);
    let projected: Vec<Option<Projected>> = vertices
        .positions
        .iter()
        .map(|p| project(&view.clip_from_world, view.rect, Vec3::from(*p)))
        .collect();
    let mut buffer: Vec<Option<Fragment>> = vec![None; w * h];
    for tri in indices.chunks_exact(3) {
        let [a, b, c] = [tri[0] as usize, tri[1] as usize, tri[2] as usize];
        let (Some(Some(pa)), Some(Some(pb)), Some(Some(pc))) =
            (projected.get(a), projected.get(b), projected.get(c))
        else {
            continue;
        };
        rasterize(
            &mut buffer,
            (x0, y0, w, h),
            [*pa, *pb, *pc],
            [a, b, c].map(|i| {
                (
                    vertices.uvs.get(i).map_or(0.0, |uv| uv[0]),
                    vertices.normals.get(i).map_or(Vec3::Y, |n| Vec3::from(*n)),
                )
            }),
        );
    }
    shade(image, &buffer, (x0, y0, w, h), uniform, style);
}

/// A world point through the camera to pixels; `None` behind the camera.
fn project(clip_from_world: &Mat4, rect: egui::Rect, world: Vec3) -> Option<Projected> {
    let clip: Vec4 = *clip_from_world * world.extend(1.0);
    if !(clip.w > 1e-6 && clip.is_finite()) {
        return None;
    }
    let inv_w = 1.0 / clip.w;
    let ndc = clip.truncate() * inv_w;
    Some(Projected {
        x: rect.min.x + (ndc.x + 1.0) * 0.5 * rect.width(),
        y: rect.min.y + (1.0 - ndc.y) * 0.5 * rect.height(),
        depth: ndc.z,
        inv_w,
    })
}

/// Fills the pixels whose centres lie inside the triangle, nearest fragment first (depth test), with
/// perspective-correct contour coordinate and normal.
fn rasterize(
    buffer: &mut [Option<Fragment>],
    (x0, y0, w, h): (usize, usize, usize, usize),
    p: [Projected; 3],
    attrs: [(f32, Vec3); 3],
) {
    let edge = |a: &Projected, b: &Projected, x: f32, y: f32| {
        (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x)
    };
    let area = edge(&p[0], &p[1], p[2].x, p[2].y);
    if !area.is_finite() || area.abs() < 1e-9 {
        return;
    }
    // counter-clockwise seen from the camera (y up) is the front, as on the GPU
    let front = area < 0.0;
    let min_x = p
        .iter()
        .map(|v| v.x)
        .fold(f32::INFINITY, f32::min)
        .floor()
        .max(x0 as f32);
    let max_x = p
        .iter()
        .map(|v| v.x)
        .fold(f32::NEG_INFINITY, f32::max)
        .ceil()
        .min((x0 + w) as f32);
    let min_y = p
        .iter()
        .map(|v| v.y)
        .fold(f32::INFINITY, f32::min)
        .floor()
        .max(y0 as f32);
    let max_y = p
        .iter()
        .map(|v| v.y)
        .fold(f32::NEG_INFINITY, f32::max)
        .ceil()
        .min((y0 + h) as f32);
    if !(min_x < max_x && min_y < max_y) {
        return;
    }
    for y in min_y as usize..max_y as usize {
        let py = y as f32 + 0.5;
        for x in min_x as usize..max_x as usize {
            let px = x as f32 + 0.5;
            let w0 = edge(&p[1], &p[2], px, py) / area;
            let w1 = edge(&p[2], &p[0], px, py) / area;
            let w2 = 1.0 - w0 - w1;
            if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                continue;
            }
            let depth = w0 * p[0].depth + w1 * p[1].depth + w2 * p[2].depth;
            let slot = &mut buffer[(y - y0) * w + (x - x0)];
            if slot.is_some_and(|f| f.depth >= depth) {
                continue;
            }
            // perspective-correct: interpolate attribute / w, then divide by the interpolated 1 / w
            let (q0, q1, q2) = (w0 * p[0].inv_w, w1 * p[1].inv_w, w2 * p[2].inv_w);
            let norm = q0 + q1 + q2;
            if !(norm.is_finite() && norm > 0.0) {
                continue;
            }
            let t = (q0 * attrs[0].0 + q1 * attrs[1].0 + q2 * attrs[2].0) / norm;
            let normal = (attrs[0].1 * q0 + attrs[1].1 * q1 + attrs[2].1 * q2) / norm;
            *slot = Some(Fragment {
                depth,
                t,
                normal,
                front,
            });
        }
    }
}

/// The fragment shader of shaders/surface.wgsl, over every covered pixel of a view.
fn shade(
    image: &mut RgbaImage,
    buffer: &[Option<Fragment>],
    (x0, y0, w, h): (usize, usize, usize, usize),
    uniform: &SurfaceUniform,
    style: &SurfaceStyle,
) {
    let light = LIGHT.normalize();
    let count = uniform.contour_count;
    let t_at = |x: usize, y: usize| buffer[y * w + x].map(|f| f.t);
    for y in 0..h {
        for x in 0..w {
            let Some(f) = buffer[y * w + x] else {
                continue;
            };
            // fwidth(t * count): the change to the neighbouring pixel across and down (the GPU takes it
            // within 2 x 2 blocks); at the surface's edge the neighbour on the other side
            let across = (x + 1 < w)
                .then(|| t_at(x + 1, y))
                .flatten()
                .or_else(|| x.checked_sub(1).and_then(|l| t_at(l, y)))
                .map_or(0.0, |n| (n - f.t).abs());
            let down = (y + 1 < h)
                .then(|| t_at(x, y + 1))
                .flatten()
                .or_else(|| y.checked_sub(1).and_then(|u| t_at(x, u)))
                .map_or(0.0, |n| (n - f.t).abs());
            let line = contour_mask(f.t, count, (across + down) * count, uniform.contour_width)
                * uniform.contour_strength;
            let base = style.colormap.srgb(f.t).map(srgb_to_linear);
            let coloured = base.map(|c| c + (c * LINE_SHADE - c) * line);
            let n = if f.front { f.normal } else { -f.normal }.normalize_or(Vec3::Y);
            let diffuse = n.dot(light).max(0.0);
            let lit = coloured.map(|c| linear_to_srgb(c * (0.42 + 0.68 * diffuse)));
            let i = ((y0 + y) * image.width as usize + x0 + x) * 4;
            if let Some(px) = image.data.get_mut(i..i + 3) {
                px.copy_from_slice(&rgb8(lit));
            }
        }
    }
}

/// 1 on a contour line, 0 away from it, over about one pixel (`fwidth` is the change of `t * count`
/// to the neighbouring pixel); as `contour_mask` in the shader.
fn contour_mask(t: f32, count: f32, fwidth: f32, width: f32) -> f32 {
    if count <= 0.0 {
        return 0.0;
    }
    let f = t * count;
    let dist = ((f - 0.5).rem_euclid(1.0) - 0.5).abs();
    let px = dist / fwidth.max(1e-6);
    1.0 - smoothstep(0.5 * width - 0.5, 0.5 * width + 0.5, px)
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contour_lines_sit_on_the_levels_and_fade_within_a_pixel() {
        // 10 levels, t changing by 0.01 per pixel (0.1 levels per pixel)
        assert!(contour_mask(0.3, 10.0, 0.1, 1.2) > 0.99, "on a level");
        assert!(
            contour_mask(0.35, 10.0, 0.1, 1.2) < 0.01,
            "halfway between levels"
        );
        assert_eq!(contour_mask(0.3, 0.0, 0.1, 1.2), 0.0, "no lines");
        assert!(contour_mask(0.3, 10.0, 0.0, 1.2).is_finite());
    }
}
