//! Networks on screen (issue 23): the app side of [`crate::core::network`].
//!
//! - The loss on the plane shown is refined in the background: a network landscape arrives with a
//!   coarse slice (computed when it is built, a few tens of milliseconds), and [`refine_slice`] computes
//!   finer levels on all cores ([`SliceJob`]), swapping each into [`ActiveLandscape`] as it is ready; the
//!   runs are not touched (the same network seen more sharply is the same problem).
//! - The plane is chosen in the panel ([`ChoosePlane`]): the start plane (filter-normalized random
//!   directions around the initial weights), random directions around a run's current weights, the
//!   principal components of every run's trajectory pooled (fitted on a thread of its own), or the plane
//!   through the start and two runs' current weights. The runs go on; each is seen through the new plane.
//! - [`panel`]: the panel's "Network" section: what is trained, the plane and how much of the runs it
//!   explains, how far each run is from it and how far its true loss is from the plane's loss under it
//!   (when the picture misleads), the selected run's decision boundary over the data, and a histogram
//!   per layer of every weight's effective learning rate for the adaptive runs.

pub mod panel;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use bevy::prelude::*;

use crate::core::network::{Network, Plane, SliceJob, SliceSpec};
use crate::core::{CoreError, Landscape, landscape::slice_of};
use crate::optimizers::Optimizer;
use crate::state::ActiveLandscape;
use crate::system_order::PROGRESS_REDRAW;
use crate::system_order::{AppSystems, KeepAwake};

pub use panel::{NetworkPanel, network_section};

/// Points per side of the slice the app refines to (the 64 x 64: about a second on two cores).
pub const SLICE_GRID: usize = 64;
/// Points per side of the slice computed at once when a plane is chosen (a fast first picture).
pub const FIRST_GRID: usize = 16;

/// Which plane to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaneChoice {
    /// The start plane: filter-normalized random directions around the initial weights.
    Start,
    /// Filter-normalized random directions around this run's weights now.
    RandomAround(Entity),
    /// The principal components of every run's trajectory, pooled: one plane every run shares.
    Pca,
    /// The plane through the initial weights and these two runs' weights now.
    Through(Entity, Entity),
}

/// Asks for another plane (the panel sends it; [`choose_plane`] acts).
#[derive(Message, Debug, Clone, Copy)]
pub struct ChoosePlane(pub PlaneChoice);

/// A plane being fitted on a thread of its own.
struct PlaneJob {
    /// Behind a lock only so that the resource is `Sync`; one system reads it.
    result: Mutex<Receiver<Result<Plane, CoreError>>>,
    network: Arc<Network>,
}

/// The background work of a network landscape: the slice being refined and a plane being fitted.
#[derive(Resource, Default)]
pub struct NetworkView {
    slice: Option<(SliceJob, Arc<Plane>)>,
    fitting: Option<PlaneJob>,
    /// The last plane choice's result, for the panel: (ok, text).
    pub message: Option<(bool, String)>,
    /// The last plane asked for.
    pub choice: Option<PlaneChoice>,
}

impl NetworkView {
    /// `(grid points done, grid points)` of the slice being refined, if one is.
    pub fn progress(&self) -> Option<(u64, u64)> {
        self.slice.as_ref().map(|(job, _)| job.progress())
    }

    /// Whether a plane is being fitted.
    pub fn fitting(&self) -> bool {
        self.fitting.is_some()
    }

    /// Stops refining the slice (the picture stays at the level it reached).
    pub fn cancel_slice(&mut self) {
        if let Some((job, _)) = self.slice.take() {
            job.cancel();
        }
    }
}

/// The network work and the plane requests, without the panel: headless tests add it to the
/// simulation.
pub fn headless_plugin(app: &mut App) {
    app.init_resource::<NetworkView>()
        .add_message::<ChoosePlane>()
        .add_systems(
            Update,
            (
                choose_plane.run_if(on_message::<ChoosePlane>),
                take_fitted_plane,
                refine_slice,
            )
                .chain()
                .in_set(AppSystems::LoadScene),
        );
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(headless_plugin);
}

/// The weights of an optimizer entity's network run now.
fn weights_of(optimizers: &Query<(Entity, &Optimizer)>, entity: Entity) -> Option<Vec<f64>> {
    optimizers
        .get(entity)
        .ok()
        .and_then(|(_, o)| o.run.weights().cloned())
}

/// Shows `plane` of `network`: a first coarse slice at once, the finer ones in the background.
fn show_plane(
    network: &Arc<Network>,
    plane: Plane,
    active: &mut ActiveLandscape,
) -> Result<(), CoreError> {
    let plane = Arc::new(plane);
    let grid = slice_of(network, &plane, FIRST_GRID)?;
    active.0 = Arc::new(Landscape::network_view(
        Arc::clone(network),
        plane,
        Arc::new(grid),
    ));
    Ok(())
}

/// Acts on the panel's plane choice: the start plane, random directions around a run, the plane through
/// the start and two runs at once; the principal components on a thread of their own (their points are
/// every run's kept weights).
pub fn choose_plane(
    mut requests: MessageReader<ChoosePlane>,
    mut view: ResMut<NetworkView>,
    mut active: ResMut<ActiveLandscape>,
    optimizers: Query<(Entity, &Optimizer)>,
) {
    let Some(ChoosePlane(choice)) = requests.read().last().copied() else {
        return;
    };
    let Some(surface) = active.0.network() else {
        view.message = Some((false, "the landscape is not a network".into()));
        return;
    };
    let network = Arc::clone(surface.network());
    view.choice = Some(choice);
    let layers = network.mlp().layers().to_vec();
    let seed = network.spec().plane_seed;
    let missing = || CoreError::InvalidPlane("that run is not on this network any more".into());
    let plane = match choice {
        PlaneChoice::Start => Ok(network.start_plane().clone()),
        PlaneChoice::RandomAround(entity) => weights_of(&optimizers, entity)
            .ok_or_else(missing)
            .and_then(|w| Plane::random(&layers, &w, seed)),
        PlaneChoice::Through(a, b) => {
            match (weights_of(&optimizers, a), weights_of(&optimizers, b)) {
                (Some(a), Some(b)) => Plane::through(network.init(), &a, &b),
                _ => Err(missing()),
            }
        }
        PlaneChoice::Pca => {
            let runs: Vec<Vec<Vec<f64>>> = optimizers
                .iter()
                .filter_map(|(_, o)| o.params.as_ref())
                .map(|p| p.rows().map(|(_, w)| w.to_vec()).collect())
                .collect();
            let (send, result) = channel();
            let spawned = std::thread::Builder::new()
                .name("losscape-pca".into())
                .spawn(move || {
                    // the receiver may be gone (another plane chosen meanwhile): nothing to do then
                    let _ = send.send(Plane::pca(&runs));
                });
            match spawned {
                Ok(_) => {
                    view.fitting = Some(PlaneJob {
                        result: Mutex::new(result),
                        network,
                    });
                    view.message = Some((true, "fitting the plane of the runs...".into()));
                }
                Err(e) => {
                    view.message = Some((false, format!("could not start the fit: {e}")));
                }
            }
            return;
        }
    };
    view.fitting = None;
    view.message = Some(
        match plane.and_then(|p| show_plane(&network, p, &mut active)) {
            Ok(()) => (true, String::new()),
            Err(e) => (false, format!("plane not changed: {e}")),
        },
    );
}

/// Shows the fitted PCA plane once its thread is done (if the network is still the one on screen).
pub fn take_fitted_plane(
    mut view: ResMut<NetworkView>,
    mut active: ResMut<ActiveLandscape>,
    mut awake: ResMut<KeepAwake>,
) {
    let Some(job) = &view.fitting else {
        return;
    };
    awake.within(PROGRESS_REDRAW);
    let received = match job.result.lock() {
        Ok(result) => result.try_recv(),
        // a thread that panicked while holding the lock sends nothing more
        Err(_) => Err(TryRecvError::Disconnected),
    };
    let outcome = match received {
        Err(TryRecvError::Empty) => return,
        Ok(outcome) => Some(outcome),
        Err(TryRecvError::Disconnected) => None,
    };
    let network = Arc::clone(&job.network);
    view.fitting = None;
    let same = active
        .0
        .network()
        .is_some_and(|s| Arc::ptr_eq(s.network(), &network));
    if !same {
        return;
    }
    view.message = Some(match outcome {
        Some(Ok(plane)) => match show_plane(&network, plane, &mut active) {
            Ok(()) => (true, String::new()),
            Err(e) => (false, format!("plane not changed: {e}")),
        },
        Some(Err(e)) => (false, format!("plane not changed: {e}")),
        None => (false, "the fit stopped without a result".into()),
    });
}

/// Refines the slice of the plane shown: starts a background job when the picture is coarser than
/// [`SLICE_GRID`] (and none runs for this plane), and swaps each finer level into the landscape as it
/// is ready. Another plane or landscape cancels the job (dropping it cancels).
pub fn refine_slice(
    mut view: ResMut<NetworkView>,
    mut active: ResMut<ActiveLandscape>,
    mut awake: ResMut<KeepAwake>,
) {
    let Some(surface) = active.0.network() else {
        if view.slice.is_some() {
            view.slice = None;
        }
        return;
    };
    let plane = Arc::clone(surface.plane());
    let network = Arc::clone(surface.network());
    let shown = surface.grid().size;
    let for_this_plane = view
        .slice
        .as_ref()
        .is_some_and(|(_, p)| Arc::ptr_eq(p, &plane));
    if !for_this_plane {
        view.slice = None;
        if shown >= SLICE_GRID {
            return;
        }
        let spec = SliceSpec {
            plane: Arc::clone(&plane),
            grid: SLICE_GRID,
            previews: true,
        };
        let loss = Arc::clone(&network);
        let job = spec.spawn(Arc::new(move |theta: &[f64]| loss.loss(theta)));
        view.slice = Some((job, Arc::clone(&plane)));
    }
    let Some((job, _)) = &view.slice else {
        return;
    };
    awake.within(PROGRESS_REDRAW);
    if let Some(best) = job.best()
        && best.size > shown
    {
        active.0 = Arc::new(Landscape::network_view(network, plane, Arc::new(best)));
    }
    if job.is_finished() {
        view.slice = None;
    }
}
