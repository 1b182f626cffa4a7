//! Geometry shared by everything that draws or points: where a landscape point lies in the world, in which
//! view, where a pointer ray meets the surface, and how a camera maps the world onto pixels. Pure functions
//! and plain data on Bevy's math types; no plugins, no systems.
//!
//! Spaces are named explicitly: `param` (x, y on the landscape), `world` (Bevy units: X right, Y up,
//! Z toward the viewer) and `screen`/pixels.
//!
//! - [`frame`]: [`SurfaceFrame`], the map between `param` and `world`.
//! - [`view`]: [`ViewKind`] (the 3D and the top view), marker sizes, [`place`].
//! - [`raycast`]: a pointer ray against the height field.
//! - [`projection`]: [`ViewProjection`], a camera's world-to-pixel map with occlusion by the surface.
//! - [`trail`]: [`trail::TrailPoints`], a run's path decimated and bounded for drawing.

pub mod frame;
pub mod projection;
pub mod raycast;
pub mod trail;
pub mod view;

pub use frame::{HALF_EXTENT, HeightCurve, SurfaceFrame, sample_surface};
pub use projection::ViewProjection;
pub use raycast::{SurfaceHit, drag_param, pointer_param, ray_height_field};
pub use view::{BALL_RADIUS, TRAIL_WIDTH, ViewCameras, ViewKind, ViewRects, place, top_overlay_y};
