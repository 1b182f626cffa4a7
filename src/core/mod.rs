//! The pure-Rust heart of losscape: landscapes, optimizers, runs, surface sampling and scenes. No Bevy.
//!
//! A student's trajectory is numbers before it is pixels: the CLI (`trace`, `list`), the app and the
//! recorder all run the same [`Runner`], so what the window shows is what `losscape trace` prints.
//!
//! - [`landscape`]: [`LandscapeSpec`] (the serialisable name + parameters, or a typed formula) and
//!   [`Landscape`] (value, exact gradient and Hessian, domain, minima, start, description).
//! - [`formula`]: [`formula::Formula`], a typed `f(x, y)` compiled to a tape, with exact gradient and
//!   Hessian.
//! - [`gradient`]: [`GradientNoise`] — Gaussian gradient noise and mini-batches.
//! - [`optimizer`]: [`OptimizerKind`], [`Hyperparams`], [`step`] with the lecture's formulas.
//! - [`schedule`]: [`Schedule`], learning-rate schedules `η_t = η f(t − 1)` for every optimizer.
//! - [`linalg`]: 2 x 2 symmetric eigen decomposition (curvature, Newton's steps).
//! - [`simulation`]: [`RunConfig`], [`Runner`], [`trace`], stop rules.
//! - [`curvature`]: [`Curvature`] at a point (principal directions, kind, condition number),
//!   [`EtaLimit`] (the learning-rate limit along the sharpest direction), [`diagnose`] (why a run
//!   diverged, and the last stable step).
//! - [`escape`]: saddle-escape statistics over many seeds on all cores ([`EscapeSpec`]).
//! - [`grid`]: [`SurfaceGrid`] for meshes.
//! - [`mesh`]: the grid's triangles, contour lines on them, a solid with a base, tubes and spheres.
//! - [`colormap`]: the surface's colormaps as the shader computes them, for pictures made on the CPU.
//! - [`maps`]: many runs at once on all cores: hyperparameter sweeps ([`SweepSpec`]) and basins of
//!   attraction ([`BasinSpec`]), with progress, cancel and pixels.
//! - [`network`]: multilayer perceptrons on classification data, planes through their parameter space.
//! - [`run`]: [`run::SceneRun`], one optimizer of a scene running on a landscape or a network, in the
//!   view's coordinates; [`run::ParamHistory`], a network run's weights in bounded memory.
//! - [`number`]: [`num`], how every number is written for people (readouts, labels, tables, text).
//! - [`history`]: [`History`], a run's rows in bounded memory for the timeline and plots.
//! - [`scene`]: [`scene::Scene`], everything on screen as data (RON files with a version).
//! - [`lessons`]: the built-in lessons, scene files embedded in the binary.
//! - [`claims`]: a lesson's statements as checks over the scoreboard's figures ([`claims::Claim`],
//!   [`claims::check_scene`]).
//! - [`scoreboard`]: [`ScoreTracker`] (a run's figures, step by step) and [`Scoreboard`] (the table).
//! - [`predict`]: a lesson's prediction [`Question`], guesses, and the truth they are scored against.
//! - [`vote`]: the class vote from phones as data: ballot, tally, limits, the JSON interface.
//! - [`error`]: [`CoreError`], every way a landscape, optimizer or run can be misconfigured.

pub mod claims;
pub mod colormap;
pub mod curvature;
pub mod error;
pub mod escape;
pub mod formula;
pub mod gradient;
pub mod grid;
pub mod history;
pub mod landscape;
pub mod lessons;
pub mod linalg;
pub mod maps;
pub mod mesh;
pub mod network;
pub mod number;
pub mod optimizer;
pub mod predict;
pub mod run;
pub mod scene;
pub mod schedule;
pub mod scoreboard;
pub mod simulation;
pub mod vote;

pub use curvature::{
    Curvature, CurvatureKind, CurvatureModel, Diagnosis, DivergenceCause, Ellipse, EtaLimit,
    RestKind, StabilityRule, diagnose, eigen, eta_limit,
};
pub use error::CoreError;
pub use gradient::GradientNoise;
pub use grid::{GRID_CLAMP, HeightMode, MAX_RESOLUTION, SurfaceGrid};
pub use history::History;
pub use landscape::{
    DEFAULT_FORMULA_DOMAIN, Domain, Landscape, LandscapeSpec, MAX_REGRESSION_SAMPLES,
    RegressionParams, TerrainParams, Vec2d,
};
pub use maps::{BasinMap, BasinSpec, MapError, MapJob, MapSpec, SweepMap, SweepSpec};
pub use number::num;
pub use optimizer::{
    BiasTable, Convention, CurvatureMemory, Hyperparams, LineSearch, OptimizerKind, OptimizerState,
    Params, SearchFailure, StepDetail, Trial, bias_corrections, step, step_into, step_with,
};
pub use predict::{Answer, Ask, Guess, Guesses, Question, Reveal, Truth, Verdict, compute_truth};
pub use schedule::Schedule;
pub use scoreboard::{
    ScoreColumn, ScoreRow, ScoreSettings, ScoreTracker, Scoreboard, SortOrder, score_scene,
};
pub use simulation::{
    DEFAULT_CONVERGE_TOL, DIVERGENCE_BOUND, DivergenceReason, MAX_TRACE_STEPS, RunConfig,
    RunStatus, Runner, StepRecord, Trajectory, trace, trace_each, trace_into,
};
