//! Real networks: the lecture's Θ is every weight of a network. A multilayer perceptron trained on a
//! classification dataset by the same optimizers as the 2-D landscapes (the N = 2 case of the same
//! formulas), and the pictures of its loss landscape: a plane through parameter space, the loss on it,
//! each run's projection onto it.
//!
//! - [`layout`]: where each weight and bias sits in the flat parameter vector.
//! - [`data`]: [`Dataset`], the built-in `moons`, `circles`, `spirals`, `xor` ([`Builtin`]) and the user's
//!   CSV file ([`load_csv`]), with one-line errors naming file, line and column ([`DataError`]).
//! - [`mlp`]: [`Mlp`], the perceptron over a flat θ: initialization, the mean softmax cross-entropy, its
//!   exact gradient by backpropagation ([`Mlp::loss_and_gradient`]) and class probabilities.
//! - [`problem`]: [`Network`], a perceptron on its data as an objective the runner steps (mini-batches
//!   drawn without replacement within each epoch), and [`NetworkSpec`], what scene files name.
//! - [`plane`]: the plane `c + α·d1 + β·d2` (filter-normalized random, pooled PCA of the runs, or
//!   through three points), its plane files, and each run's least-squares projection onto it.
//! - [`slice`]: the loss on the plane over a grid, coarse levels first, on all cores in the background.

pub mod data;
pub mod layout;
pub mod mlp;
pub mod plane;
pub mod problem;
pub mod slice;

pub use data::{Builtin, DataError, DataSpec, Dataset, load_csv, read_csv};
pub use layout::{LayerLayout, layout};
pub use mlp::{Activation, Eval, MAX_PARAMS, Mlp, Scratch};
pub use plane::{Plane, PlaneKind, Projection};
pub use problem::{Epochs, Network, NetworkSpec};
pub use slice::{DEFAULT_SLICE_GRID, MAX_SLICE_GRID, SliceGrid, SliceJob, SliceSpec, slice_levels};
