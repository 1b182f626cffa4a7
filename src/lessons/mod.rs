//! Scenes on screen: loading a scene (a lesson preset or a RON file) replaces the landscape, the surface
//! style, the layout, the speed and every optimizer; saving writes the same description back.

use std::path::{Path, PathBuf};

use bevy::prelude::*;

use crate::core::{
    Landscape, lessons,
    scene::{SCENE_VERSION, Scene},
};
use crate::optimizers::{Optimizer, Playback, optimizer};
use crate::state::{ActiveLandscape, CurrentScene, SurfaceSettings};
use crate::system_order::AppSystems;
use crate::views::Layout;

/// Replace what is on screen with this scene.
#[derive(Message, Debug, Clone)]
pub struct LoadScene {
    pub scene: Scene,
    /// The file it came from, if any (the panel's save offers it again).
    pub path: Option<PathBuf>,
    /// Start playing once it is on screen (`--play`); otherwise it waits, paused.
    pub play: bool,
}

impl LoadScene {
    pub fn new(scene: Scene, path: Option<PathBuf>) -> Self {
        Self {
            scene,
            path,
            play: false,
        }
    }

    /// The scene file at `path` (the panel's Load), or the one line that says why it cannot be shown:
    /// then nothing is requested and the scene on screen stays.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        Scene::read_file(path).map(|scene| Self::new(scene, Some(path.to_path_buf())))
    }

    /// The same, playing at once.
    pub fn playing(self) -> Self {
        Self { play: true, ..self }
    }
}

/// Loading scenes; needs no window (headless tests add it next to the simulation, with the views' `Layout`
/// and the surface settings).
pub fn plugin(app: &mut App) {
    app.add_message::<LoadScene>()
        .init_resource::<CurrentScene>()
        .add_systems(
            Update,
            apply_scene
                .run_if(on_message::<LoadScene>)
                .in_set(AppSystems::LoadScene),
        );
}

/// Replaces the landscape, style, layout, speed and optimizers with the newest requested scene.
fn apply_scene(
    mut commands: Commands,
    mut requests: MessageReader<LoadScene>,
    existing: Query<Entity, With<Optimizer>>,
    mut current: ResMut<CurrentScene>,
    mut playback: ResMut<Playback>,
    mut layout: ResMut<Layout>,
) {
    let Some(request) = requests.read().last() else {
        return;
    };
    let scene = &request.scene;
    let landscape = match Landscape::new(scene.landscape.clone()) {
        Ok(l) => std::sync::Arc::new(l),
        Err(e) => {
            // validated on load; keep the current scene if it still fails
            warn!("scene not applied: {e}");
            return;
        }
    };
    for entity in &existing {
        commands.entity(entity).despawn();
    }
    for spec in &scene.optimizers {
        match optimizer(spec.clone(), landscape.clone()) {
            Ok(bundle) => {
                commands.spawn(bundle);
            }
            Err(e) => warn!("optimizer {} left out: {e}", spec.name),
        }
    }
    commands.insert_resource(ActiveLandscape(landscape));
    commands.insert_resource(SurfaceSettings(scene.surface.clone()));
    layout.0 = scene.layout;
    playback.playing = request.play;
    playback.budget = 0.0;
    playback.queued_steps = 0;
    playback.steps_per_second = scene.steps_per_second;
    *current = CurrentScene {
        title: scene.title.clone(),
        description: scene.description.clone(),
        path: request.path.clone(),
        preset: lessons::PRESETS
            .iter()
            .find(|p| lessons::preset(p.name).ok().as_ref() == Some(scene))
            .map(|p| p.name.to_string()),
        question: scene.question.clone(),
        claims: scene.claims.clone(),
        setup: Some((scene.landscape.clone(), scene.optimizers.clone())),
    };
}

/// The scene on screen, as it would be saved.
pub fn snapshot_scene(
    current: &CurrentScene,
    landscape: &ActiveLandscape,
    surface: &SurfaceSettings,
    layout: &Layout,
    playback: &Playback,
    optimizers: impl Iterator<Item = crate::core::scene::OptimizerSpec>,
) -> Scene {
    let mut scene = Scene {
        version: SCENE_VERSION,
        title: current.title.clone(),
        description: current.description.clone(),
        landscape: landscape.0.spec().clone(),
        surface: surface.0.clone(),
        optimizers: optimizers.collect(),
        layout: layout.0,
        steps_per_second: playback.steps_per_second,
        question: current.question.clone(),
        claims: current.claims.clone(),
    };
    // a question about an optimizer that was removed or renamed since would make the file invalid
    if scene
        .question
        .as_ref()
        .is_some_and(|q| q.validate(&scene).is_err())
    {
        scene.question = None;
    }
    // likewise a claim naming a run that is gone
    let keep: Vec<bool> = scene
        .claims
        .iter()
        .map(|c| c.parse(&scene).is_ok())
        .collect();
    let mut keep = keep.into_iter();
    scene.claims.retain(|_| keep.next().unwrap_or(false));
    scene
}
