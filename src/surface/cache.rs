//! The landscape drawn only when it changes. Each view has a surface camera that renders the surface
//! mesh into an image of the view's size, and only in frames where something it shows changed: its view
//! camera moved (orbit, pan, zoom), the view was resized, or the mesh or its material changed. Every
//! frame the images are copied into the window's picture as the views' backdrops (a texture copy in the
//! render world, before egui paints, far cheaper than drawing them) and what moves (trails, balls,
//! rings) is painted over them; so a frame costs the same whatever the surface's size, and on a
//! software renderer the app stays smooth while the class watches the runs.
//!
//! The view cameras themselves never render: they hold the orbit and the projection (panorbit moves
//! them, the overlays project through them); the surface cameras copy them.

use bevy::{
    asset::RenderAssetUsages,
    camera::{RenderTarget, visibility::RenderLayers},
    core_pipeline::tonemapping::Tonemapping,
    prelude::*,
    render::{
        extract_resource::ExtractResource,
        render_asset::RenderAssets,
        render_resource::{
            Extent3d, Origin3d, TexelCopyTextureInfo, TextureAspect, TextureDimension,
            TextureFormat, TextureUsages,
        },
        renderer::{RenderContext, ViewQuery},
        texture::GpuImage,
        view::ViewTarget,
    },
};
use bevy_egui::EguiContexts;

use crate::geometry::ViewKind;
use crate::paint::BACKGROUND;
use crate::system_order::KeepAwake;

/// The camera that draws one view's surface into its image.
#[derive(Component, Debug)]
pub struct SurfaceCamera {
    pub view: ViewKind,
    /// What the image shows; drawn again when this changes.
    shown: Option<SurfaceKey>,
    /// Frames it still renders after a change: two, as a resized image's new texture may not be ready
    /// for the first (the view then stayed black until something moved).
    pending: u8,
}

/// Frames a surface camera renders after what it shows changed.
const RENDER_FRAMES: u8 = 2;

/// Everything the image of a view depends on.
#[derive(Clone, Debug, PartialEq)]
struct SurfaceKey {
    transform: Transform,
    projection: [f32; 6],
    size: UVec2,
    revision: u64,
}

/// Bumped whenever the surface mesh or its material changed (`surface` does it when it rebuilds or
/// restyles): every view's image is drawn again.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SurfaceRevision(pub u64);

/// A render target the size of a view, with no initial data: changing its size makes a new texture,
/// and touching nothing else keeps the last drawing.
fn target_image(size: UVec2) -> Image {
    let mut image = Image::new_uninit(
        Extent3d {
            width: size.x.max(1),
            height: size.y.max(1),
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        // the format of the window camera's picture (not HDR): the images are copied into it
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    );
    image.texture_descriptor.usage = TextureUsages::TEXTURE_BINDING
        | TextureUsages::RENDER_ATTACHMENT
        | TextureUsages::COPY_DST
        | TextureUsages::COPY_SRC;
    image
}

/// One surface camera per view, with its image.
pub fn spawn_surface_cameras(mut commands: Commands, mut images: ResMut<Assets<Image>>) {
    for (i, view) in ViewKind::ALL.into_iter().enumerate() {
        let handle = images.add(target_image(UVec2::ONE));
        commands.spawn((
            Name::new(format!("{view:?} surface camera")),
            SurfaceCamera {
                view,
                shown: None,
                pending: 0,
            },
            Camera3d::default(),
            Camera {
                order: -10 + i as isize,
                is_active: false,
                clear_color: ClearColorConfig::Custom(BACKGROUND),
                ..default()
            },
            RenderTarget::Image(handle.into()),
            // colours exactly as the shader computes them (what a clip's software renderer does too)
            Tonemapping::None,
            // contour lines are anti-aliased in the shader; software renderers pay dearly for MSAA
            Msaa::Off,
            RenderLayers::layer(0),
            Transform::default(),
        ));
    }
}

/// The numbers of a projection that change the picture.
fn projection_key(projection: &Projection) -> [f32; 6] {
    match projection {
        Projection::Perspective(p) => [0.0, p.fov, p.near, p.far, p.aspect_ratio, 0.0],
        Projection::Orthographic(o) => {
            [1.0, o.scale, o.near, o.far, o.area.width(), o.area.height()]
        }
        Projection::Custom(_) => [2.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    }
}

/// Copies each view camera's pose and projection to its surface camera and lets the surface camera
/// render only when what it shows changed. Runs after the orbit cameras moved and before transforms
/// and projections are propagated, so the image drawn is of this frame's camera.
pub fn drive_surface_cameras(
    views: Query<(&ViewKind, &Camera, &Transform, &Projection), Without<SurfaceCamera>>,
    mut surfaces: Query<(
        &mut SurfaceCamera,
        &mut Camera,
        &mut Transform,
        &mut Projection,
        &RenderTarget,
    )>,
    revision: Res<SurfaceRevision>,
    mut images: ResMut<Assets<Image>>,
    mut awake: ResMut<KeepAwake>,
) {
    for (mut surface, mut camera, mut transform, mut projection, target) in &mut surfaces {
        let Some((_, view_camera, view_transform, view_projection)) =
            views.iter().find(|(v, ..)| **v == surface.view)
        else {
            continue;
        };
        let size = view_camera
            .viewport
            .as_ref()
            .map(|v| v.physical_size)
            .filter(|s| s.x > 0 && s.y > 0);
        let Some(size) = size else {
            // the view is not on screen (a single-view layout)
            if camera.is_active {
                camera.is_active = false;
            }
            continue;
        };
        let key = SurfaceKey {
            transform: *view_transform,
            projection: projection_key(view_projection),
            size,
            revision: revision.0,
        };
        let changed = surface.shown.as_ref() != Some(&key);
        if changed {
            if let RenderTarget::Image(image) = target
                && let Some(mut image) = images.get_mut(&image.handle)
                && image.size() != size
            {
                image.resize(Extent3d {
                    width: size.x,
                    height: size.y,
                    depth_or_array_layers: 1,
                });
            }
            *transform = *view_transform;
            *projection = view_projection.clone();
            surface.shown = Some(key);
            surface.pending = RENDER_FRAMES;
        }
        let render = surface.pending > 0;
        surface.pending = surface.pending.saturating_sub(1);
        if surface.pending > 0 {
            // the next frame renders too, even if nothing else wakes the app
            awake.request();
        }
        if camera.is_active != render {
            camera.is_active = render;
        }
    }
}

/// Stacks the views' egui layers for this frame (the backdrops themselves are copied by the renderer).
pub fn order_layers(mut contexts: EguiContexts) -> Result {
    crate::paint::order_view_layers(contexts.ctx_mut()?);
    Ok(())
}

/// The copies of surface images into the window's picture this frame, for the render world.
#[derive(Resource, Clone, Debug, Default, PartialEq, ExtractResource)]
pub struct BackdropCopies(pub Vec<BackdropCopy>);

/// One view's image copied into the window at its viewport (physical pixels).
#[derive(Clone, Debug, PartialEq)]
pub struct BackdropCopy {
    pub image: AssetId<Image>,
    pub at: UVec2,
    pub size: UVec2,
}

/// Which images go where this frame: each view on screen whose image has been drawn at its size.
pub fn plan_backdrops(
    views: Query<(&ViewKind, &Camera), Without<SurfaceCamera>>,
    surfaces: Query<(&SurfaceCamera, &RenderTarget)>,
    mut copies: ResMut<BackdropCopies>,
) {
    let planned: Vec<BackdropCopy> = surfaces
        .iter()
        .filter_map(|(surface, target)| {
            let RenderTarget::Image(image) = target else {
                return None;
            };
            let shown = surface.shown.as_ref()?;
            let (_, camera) = views.iter().find(|(v, _)| **v == surface.view)?;
            let viewport = camera.viewport.as_ref()?;
            (viewport.physical_size == shown.size).then(|| BackdropCopy {
                image: image.handle.id(),
                at: viewport.physical_position,
                size: viewport.physical_size,
            })
        })
        .collect();
    if copies.0 != planned {
        copies.0 = planned;
    }
}

/// Render world: copies the surface images into the window camera's picture after it is cleared and
/// before egui paints over it. The window camera's picture has the images' format and takes copies
/// (see `third_party::egui`); a copy is clipped to both textures, so a resize in between is harmless.
pub fn copy_backdrops(
    view: ViewQuery<&ViewTarget>,
    copies: Res<BackdropCopies>,
    images: Res<RenderAssets<GpuImage>>,
    mut ctx: RenderContext,
) {
    let target = view.into_inner();
    let dst = target.main_texture();
    if !dst.usage().contains(TextureUsages::COPY_DST) {
        return;
    }
    for copy in &copies.0 {
        let Some(gpu) = images.get(copy.image) else {
            continue;
        };
        let src = &gpu.texture;
        let width = copy
            .size
            .x
            .min(src.width())
            .min(dst.width().saturating_sub(copy.at.x));
        let height = copy
            .size
            .y
            .min(src.height())
            .min(dst.height().saturating_sub(copy.at.y));
        if width == 0 || height == 0 || src.format() != dst.format() {
            continue;
        }
        ctx.command_encoder().copy_texture_to_texture(
            TexelCopyTextureInfo {
                texture: src,
                mip_level: 0,
                origin: Origin3d::ZERO,
                aspect: TextureAspect::All,
            },
            TexelCopyTextureInfo {
                texture: dst,
                mip_level: 0,
                origin: Origin3d {
                    x: copy.at.x,
                    y: copy.at.y,
                    z: 0,
                },
                aspect: TextureAspect::All,
            },
            Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
        );
    }
}
