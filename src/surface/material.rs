//! The surface material: Bevy's `StandardMaterial` extended with shaders/surface.wgsl, which colours by loss
//! through a colormap, lights with a cheap diffuse term and draws anti-aliased contour lines.

use bevy::{
    asset::{load_internal_asset, uuid_handle},
    pbr::{ExtendedMaterial, MaterialExtension},
    prelude::*,
    render::render_resource::{AsBindGroup, ShaderType},
    shader::ShaderRef,
};

/// The WGSL, embedded in the binary so the app runs from any directory.
const SURFACE_SHADER: Handle<Shader> = uuid_handle!("6f0e2b3c-1d7a-4c1e-9b0e-5a2f7c3d9e41");

/// The material the surface mesh is drawn with.
pub type SurfaceMaterial = ExtendedMaterial<StandardMaterial, SurfaceExtension>;

/// Uniform block `SurfaceStyle` in shaders/surface.wgsl.
#[derive(Clone, Copy, Debug, Default, ShaderType, Reflect)]
pub struct SurfaceUniform {
    /// 0 viridis, 1 magma, 2 turbo.
    pub colormap: u32,
    /// Contour levels across the loss range; 0 hides the lines.
    pub contour_count: f32,
    /// How dark the lines are, 0 ..= 1.
    pub contour_strength: f32,
    /// Line width in pixels.
    pub contour_width: f32,
}

/// The extension's bind group: one uniform at binding 100 (0 ..= 99 belong to `StandardMaterial`).
#[derive(Asset, AsBindGroup, Reflect, Debug, Clone, Default)]
pub struct SurfaceExtension {
    #[uniform(100)]
    pub style: SurfaceUniform,
}

impl MaterialExtension for SurfaceExtension {
    fn fragment_shader() -> ShaderRef {
        SURFACE_SHADER.into()
    }

    fn deferred_fragment_shader() -> ShaderRef {
        SURFACE_SHADER.into()
    }
}

pub(super) fn plugin(app: &mut App) {
    load_internal_asset!(
        app,
        SURFACE_SHADER,
        "../../shaders/surface.wgsl",
        Shader::from_wgsl
    );
    app.add_plugins(MaterialPlugin::<SurfaceMaterial>::default());
}
