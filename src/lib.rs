//! losscape: gradient-descent optimizers moving over a loss landscape, for teaching.
//!
//! - [`core`]: pure Rust (no Bevy): landscapes, optimizers, runs, scenes. Shared by the app, the command
//!   line and the recorder.
//! - [`cli`]: the command line (`trace`, `list`, `render`, or the app).
//! - The Bevy app (feature `app`, on by default): one plugin per module, composed by [`AppPlugin`]; each
//!   module imports only modules on lower floors (docs/design.md, "Layout of the code").

pub mod cli;
pub mod core;

// floor 1: geometry, the machine, the system order, the class vote's web server
#[cfg(feature = "app")]
pub mod geometry;
#[cfg(feature = "app")]
pub mod platform;
#[cfg(feature = "app")]
pub mod system_order;
#[cfg(feature = "class-vote")]
pub mod vote_server;
// floor 2: shared state, painting helpers, outside plugins
#[cfg(feature = "app")]
pub mod paint;
#[cfg(feature = "app")]
pub mod state;
#[cfg(feature = "app")]
pub mod third_party;
// floor 3: the scene on screen
#[cfg(feature = "app")]
pub mod optimizers;
#[cfg(feature = "app")]
pub mod surface;
#[cfg(feature = "app")]
pub mod views;
// floor 4: scenes loaded and saved
#[cfg(feature = "app")]
pub mod lessons;
// floor 5: what a class does with it
#[cfg(feature = "app")]
pub mod autoshot;
#[cfg(feature = "app")]
pub mod classroom;
#[cfg(feature = "app")]
pub mod interaction;
#[cfg(feature = "app")]
pub mod maps;
#[cfg(feature = "app")]
pub mod networks;
#[cfg(feature = "app")]
pub mod recording;
#[cfg(feature = "app")]
pub mod teaching;
// floor 6: the panel
#[cfg(feature = "app")]
pub mod ui;
// floor 7: the app itself (floor 8, `cli`, is above)
#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "app")]
pub use app::AppPlugin;
