//! The basins layer: a translucent map over the top view's domain, each start coloured by the minimum
//! its run reaches (core [`BasinSpec`]). It follows the chosen optimizer's settings and the landscape:
//! when either changes a new job starts (the old one is cancelled by dropping it) and the old map stays
//! on screen until the new one is ready. A texture is uploaded only when a new map arrives; nothing runs
//! while the layer is off.

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::{PROGRESS_REDRAW, target_optimizer};
use crate::core::MapSpec;
use crate::core::maps::{
    BasinCell, BasinMap, BasinSpec, DEFAULT_BASIN_GRID, DEFAULT_MAP_STEPS, MapError, MapJob,
    color::{DIVERGED, UNFINISHED, minimum_rgb},
};
use crate::core::number::{num, point};
use crate::core::{Landscape, RestKind, RunConfig};
use crate::geometry::{SurfaceFrame, ViewKind, ViewProjection, place};
use crate::optimizers::Optimizer;
use crate::paint::{ViewLayer, view_painter};
use crate::state::{ActiveLandscape, UiPrefs};
use crate::system_order::KeepAwake;
use crate::views::ViewRects;

/// The largest grid the panel offers (per side; the core accepts up to 512).
pub const MAX_GRID: usize = 256;
/// The most steps per start the panel offers.
pub const MAX_STEPS: u64 = 10_000;
/// Minima listed in the legend (the rest are summed up in one line).
const LEGEND_MINIMA: usize = 8;

/// What a basin map is computed from: the landscape (by identity: a new landscape is a new `Arc`), the
/// optimizer's run settings (its start left out: every cell has its own), the grid and K. A map is
/// recomputed exactly when this changes.
#[derive(Clone, Debug)]
pub struct BasinKey {
    pub landscape: Arc<Landscape>,
    pub config: RunConfig,
    pub grid: usize,
    pub steps: u64,
}

impl BasinKey {
    /// The key of a map of `config`'s optimizer on `landscape` (`config.start` is ignored).
    pub fn new(landscape: &Arc<Landscape>, mut config: RunConfig, grid: usize, steps: u64) -> Self {
        config.start = [0.0, 0.0];
        Self {
            landscape: Arc::clone(landscape),
            config,
            grid,
            steps,
        }
    }

    /// The core's spec for this key: the landscape's domain, `grid` x `grid` starts, K steps.
    pub fn spec(&self) -> BasinSpec {
        let mut spec = BasinSpec::new(&self.landscape, self.config);
        spec.grid = [self.grid; 2];
        spec.steps = self.steps;
        spec
    }
}

impl PartialEq for BasinKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.landscape, &other.landscape)
            && self.config == other.config
            && self.grid == other.grid
            && self.steps == other.steps
    }
}

/// The basins layer: whether it is on, which optimizer it follows, the grid and K; the job under way and
/// the last finished map.
#[derive(Resource, Debug)]
pub struct BasinsLayer {
    /// Drawn over the top view (and kept up to date).
    pub on: bool,
    /// The optimizer whose settings are used (the first one of the scene when unset or gone).
    pub target: Option<Entity>,
    /// Starts per side (default 128).
    pub grid: usize,
    /// Steps per start, K (default 1000).
    pub steps: u64,
    /// Opacity of the layer over the landscape, 0 to 1.
    pub opacity: f32,
    /// Why the last map failed, if it did.
    pub message: Option<String>,
    /// The key of the newest job started (running, finished or failed): a new one starts only when
    /// the wanted key differs.
    requested: Option<BasinKey>,
    job: Option<MapJob<BasinMap, BasinCell>>,
    map: Option<Arc<BasinMap>>,
    /// Bumped whenever `map` is replaced (the texture is uploaded again).
    generation: u64,
}

impl Default for BasinsLayer {
    fn default() -> Self {
        Self {
            on: false,
            target: None,
            grid: DEFAULT_BASIN_GRID,
            steps: DEFAULT_MAP_STEPS,
            opacity: 0.55,
            message: None,
            requested: None,
            job: None,
            map: None,
            generation: 0,
        }
    }
}

impl BasinsLayer {
    /// The last finished map (possibly of older settings while a new one is computed).
    pub fn map(&self) -> Option<&Arc<BasinMap>> {
        self.map.as_ref()
    }

    /// Bumped each time a new map arrives.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Starts finished and starts in all while a map is computed.
    pub fn progress(&self) -> Option<(u64, u64)> {
        self.job.as_ref().map(MapJob::progress)
    }

    /// Whether a map is being computed.
    pub fn computing(&self) -> bool {
        self.job.is_some()
    }

    /// Starts a job for `wanted` unless that is the newest job already (running or done). Returns
    /// whether it started one; the previous job, if still running, is cancelled.
    pub fn request(&mut self, wanted: BasinKey) -> bool {
        if self.requested.as_ref() == Some(&wanted) {
            return false;
        }
        // replacing the job drops (and so cancels) the old one
        self.job = Some(wanted.spec().spawn(Arc::clone(&wanted.landscape)));
        self.requested = Some(wanted);
        self.message = None;
        true
    }

    /// Takes the job's result if it has ended: a new map, or a message.
    pub fn poll(&mut self) {
        let Some(result) = self.job.as_mut().and_then(MapJob::try_take) else {
            return;
        };
        self.job = None;
        match result {
            Ok(map) => {
                self.map = Some(Arc::new(map));
                self.generation += 1;
            }
            Err(MapError::Cancelled { .. }) => {}
            Err(e) => {
                // an old map of other settings would mislead: show none
                self.message = Some(format!("basins: {e}"));
                self.map = None;
                self.generation += 1;
            }
        }
    }

    /// Stops the job under way, if any; the next request starts afresh.
    pub fn stop(&mut self) {
        if self.job.take().is_some() {
            self.requested = None;
        }
    }
}

/// Run condition: the layer is on, or a job is left to stop.
pub fn basins_active(layer: Res<BasinsLayer>) -> bool {
    layer.on || layer.job.is_some()
}

/// Run condition: the layer is on.
pub fn basins_shown(layer: Res<BasinsLayer>) -> bool {
    layer.on
}

/// Keeps the layer's map in step with the chosen optimizer and the landscape: a new job when they
/// change, the finished map taken, frames while it computes; the job stopped when the layer is off.
pub fn drive_basins(
    mut layer: ResMut<BasinsLayer>,
    landscape: Res<ActiveLandscape>,
    optimizers: Query<(Entity, &Optimizer)>,
    mut awake: ResMut<KeepAwake>,
) {
    if !layer.on {
        layer.stop();
        return;
    }
    if let Some((_, opt)) = target_optimizer(layer.target, optimizers.iter()) {
        let wanted = BasinKey::new(&landscape.0, opt.spec.run_config(), layer.grid, layer.steps);
        layer.request(wanted);
    }
    layer.poll();
    if layer.computing() {
        awake.within(PROGRESS_REDRAW);
    }
}

/// The top view's domain corners with their texture coordinates: `(param, uv)`, the picture's top row
/// (largest y) at `v = 0`.
pub fn domain_corners(map: &BasinMap) -> [([f64; 2], egui::Pos2); 4] {
    let d = &map.spec.domain;
    [
        ([d.x[0], d.y[1]], egui::pos2(0.0, 0.0)),
        ([d.x[1], d.y[1]], egui::pos2(1.0, 0.0)),
        ([d.x[1], d.y[0]], egui::pos2(1.0, 1.0)),
        ([d.x[0], d.y[0]], egui::pos2(0.0, 1.0)),
    ]
}

/// The legend's lines: one swatch per minimum reached with its coordinates, then diverged and
/// unfinished starts when there are any.
pub fn legend_lines(map: &BasinMap) -> Vec<(egui::Color32, String)> {
    let rgb = |[r, g, b]: [u8; 3]| egui::Color32::from_rgb(r, g, b);
    let total = map.cells.len().max(1) as f64;
    let percent = |n: usize| 100.0 * n as f64 / total;
    let reached: Vec<_> = map
        .minima
        .iter()
        .enumerate()
        .filter(|(_, m)| m.cells > 0)
        .collect();
    let mut lines: Vec<_> = reached
        .iter()
        .take(LEGEND_MINIMA)
        .map(|(k, m)| {
            let note = match (m.kind, m.known) {
                (RestKind::Minimum, true) => "",
                (RestKind::Minimum, false) => " (found)",
                // runs stalled there: not a minimum, and the legend says so
                _ => " (stalled, not a minimum)",
            };
            (
                rgb(minimum_rgb(*k)),
                format!(
                    "{} {} L={} {:.0}%{note}",
                    m.kind,
                    point(m.pos),
                    num(m.loss),
                    percent(m.cells)
                ),
            )
        })
        .collect();
    if reached.len() > LEGEND_MINIMA {
        lines.push((
            egui::Color32::GRAY,
            format!("… {} more minima", reached.len() - LEGEND_MINIMA),
        ));
    }
    let diverged = map.diverged();
    if diverged > 0 {
        lines.push((rgb(DIVERGED), format!("diverged {:.0}%", percent(diverged))));
    }
    let unfinished = map.unfinished();
    if unfinished > 0 {
        lines.push((
            rgb(UNFINISHED),
            format!("unfinished {:.0}%", percent(unfinished)),
        ));
    }
    lines
}

/// Paints the map over the top view's domain (a textured quad through the top camera, under the marks)
/// and a legend in its bottom-right corner, with the progress of a map under way.
pub fn paint_basins(
    mut contexts: EguiContexts,
    layer: Res<BasinsLayer>,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    mut texture: Local<Option<(u64, egui::TextureHandle)>>,
) -> Result {
    let Some(rect) = rects.get(ViewKind::Top) else {
        return Ok(());
    };
    let Some((_, camera, transform)) = cameras.iter().find(|(v, _, _)| **v == ViewKind::Top) else {
        return Ok(());
    };
    let ctx = contexts.ctx_mut()?;
    // the texture is uploaded only when a new map arrived
    if let Some(map) = layer.map() {
        if texture.as_ref().is_none_or(|(g, _)| *g != layer.generation) {
            let [nx, ny] = map.spec.grid;
            let image = egui::ColorImage::from_rgba_unmultiplied([nx, ny], &map.to_rgba(255));
            let handle = ctx.load_texture("losscape-basins", image, egui::TextureOptions::NEAREST);
            *texture = Some((layer.generation, handle));
        }
    } else {
        *texture = None;
    }
    let scale = prefs.ui_scale.max(0.1);
    let (painter, clip) = view_painter(ctx, ViewKind::Top, rect, scale, ViewLayer::Backdrop);
    if let (Some(map), Some((_, handle))) = (layer.map(), texture.as_ref()) {
        let projection = ViewProjection::of_camera(ViewKind::Top, camera, transform, clip);
        let tint = egui::Color32::from_white_alpha((layer.opacity.clamp(0.0, 1.0) * 255.0) as u8);
        let mut mesh = egui::Mesh::with_texture(handle.id());
        for (p, uv) in domain_corners(map) {
            let world = place(&frame, &landscape.0, ViewKind::Top, p, 0.0);
            let Some((pos, _)) = projection.project(world) else {
                return Ok(());
            };
            mesh.vertices.push(egui::epaint::Vertex {
                pos,
                uv,
                color: tint,
            });
        }
        mesh.add_triangle(0, 1, 2);
        mesh.add_triangle(0, 2, 3);
        painter.add(egui::Shape::mesh(mesh));
    }
    let (legend_painter, _) = view_painter(ctx, ViewKind::Top, rect, scale, ViewLayer::Overlay);
    let mut lines = layer.map().map(|m| legend_lines(m)).unwrap_or_default();
    if let Some((done, total)) = layer.progress() {
        lines.push((
            egui::Color32::WHITE,
            format!(
                "basins: computing {:.0}%",
                100.0 * done as f64 / total.max(1) as f64
            ),
        ));
    }
    paint_legend(&legend_painter, clip, &lines);
    Ok(())
}

/// Lines with a colour swatch each on a dark chip in the bottom-right corner of `clip`.
fn paint_legend(painter: &egui::Painter, clip: egui::Rect, lines: &[(egui::Color32, String)]) {
    if lines.is_empty() {
        return;
    }
    let font = egui::FontId::proportional(13.0);
    let galleys: Vec<_> = lines
        .iter()
        .map(|(_, text)| painter.layout_no_wrap(text.clone(), font.clone(), egui::Color32::WHITE))
        .collect();
    let row = 17.0;
    let swatch = 11.0;
    let width = galleys.iter().map(|g| g.size().x).fold(0.0, f32::max) + swatch + 18.0;
    let height = row * lines.len() as f32 + 8.0;
    let min = clip.right_bottom() - egui::vec2(width + 10.0, height + 34.0);
    let bg = egui::Rect::from_min_size(min, egui::vec2(width, height));
    painter.rect_filled(bg, 4.0, egui::Color32::from_black_alpha(190));
    for (k, ((color, _), galley)) in lines.iter().zip(galleys).enumerate() {
        let top = bg.min + egui::vec2(6.0, 4.0 + k as f32 * row);
        let sw = egui::Rect::from_min_size(
            top + egui::vec2(0.0, (row - swatch) / 2.0),
            egui::vec2(swatch, swatch),
        );
        painter.rect_filled(sw, 2.0, *color);
        let text_y = top.y + (row - galley.size().y) / 2.0;
        painter.galley(
            egui::pos2(sw.max.x + 6.0, text_y),
            galley,
            egui::Color32::WHITE,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{LandscapeSpec, OptimizerKind, scene::OptimizerSpec};

    fn bowl() -> Arc<Landscape> {
        Arc::new(Landscape::new(LandscapeSpec::from_name("bowl").unwrap()).unwrap())
    }

    #[test]
    fn a_new_map_is_wanted_only_when_settings_or_landscape_change() {
        let land = bowl();
        let spec = OptimizerSpec::with_defaults(OptimizerKind::Adam, 0, [1.0, 1.0]);
        let key = BasinKey::new(&land, spec.run_config(), 32, 200);
        // the start does not matter: every cell has its own
        let mut moved = spec.clone();
        moved.start = [-1.0, 0.5];
        assert_eq!(key, BasinKey::new(&land, moved.run_config(), 32, 200));
        let mut faster = spec.clone();
        faster.hyper.lr *= 2.0;
        assert_ne!(key, BasinKey::new(&land, faster.run_config(), 32, 200));
        assert_ne!(key, BasinKey::new(&land, spec.run_config(), 64, 200));
        // the same landscape rebuilt is a new landscape
        assert_ne!(key, BasinKey::new(&bowl(), spec.run_config(), 32, 200));

        let mut layer = BasinsLayer::default();
        assert!(layer.request(key.clone()));
        assert!(!layer.request(key.clone()), "same settings: no new job");
        assert!(layer.computing());
        assert!(layer.request(BasinKey::new(&land, faster.run_config(), 32, 200)));
    }

    #[test]
    fn a_finished_job_becomes_the_map_and_its_legend() {
        let land = bowl();
        let mut spec = OptimizerSpec::with_defaults(OptimizerKind::Sgd, 0, [1.0, 1.0]);
        spec.hyper.lr = 0.05;
        let mut layer = BasinsLayer::default();
        layer.request(BasinKey::new(&land, spec.run_config(), 8, 300));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while layer.computing() && std::time::Instant::now() < deadline {
            layer.poll();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let map = layer.map().expect("a map");
        assert_eq!(map.spec.grid, [8, 8]);
        assert_eq!(layer.generation(), 1);
        let lines = legend_lines(map);
        assert!(!lines.is_empty());
        // the corners cover the domain, the top row at v = 0
        let corners = domain_corners(map);
        let d = land.domain();
        assert_eq!(corners[0].0, [d.x[0], d.y[1]]);
        assert_eq!(corners[2].0, [d.x[1], d.y[0]]);
        assert_eq!(corners[2].1, egui::pos2(1.0, 1.0));
    }
}
