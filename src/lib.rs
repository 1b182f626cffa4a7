//! losscape: gradient-descent optimizers moving over a loss landscape, for teaching.
//!
//! - [`core`]: pure Rust (no Bevy): landscapes, optimizers, simulation, scenes. Shared by the app, the
//!   command line and the recorder.
//! - [`cli`]: the command line (`trace`, `list`, `render`, or the app).
//! - The Bevy app (feature `app`, on by default): one plugin per module, composed by [`AppPlugin`].

pub mod cli;
pub mod core;

#[cfg(feature = "app")]
pub mod autoshot;
#[cfg(feature = "app")]
pub mod interaction;
#[cfg(feature = "app")]
pub mod lessons;
#[cfg(feature = "app")]
pub mod optimizers;
#[cfg(feature = "app")]
pub mod recording;
#[cfg(feature = "app")]
pub mod surface;
#[cfg(feature = "app")]
pub mod teaching;
#[cfg(feature = "app")]
pub mod third_party;
#[cfg(feature = "app")]
pub mod ui;
#[cfg(feature = "app")]
pub mod views;

#[cfg(feature = "app")]
mod app;
#[cfg(feature = "app")]
pub use app::{AppPlugin, run_app};
