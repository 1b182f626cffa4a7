//! Real networks: the lecture's Θ is every weight of a network. A multilayer perceptron trained on a
//! classification dataset by the same optimizers as the 2-D landscapes (the N = 2 case of the same
//! formulas), and the pictures of its loss landscape: a plane through parameter space, the loss on it,
//! each run's projection onto it.
//!
//! - [`layout`]: where each weight and bias sits in the flat parameter vector.

pub mod layout;

pub use layout::{LayerLayout, layout};
