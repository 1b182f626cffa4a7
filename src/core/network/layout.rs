//! Where each parameter of a multilayer perceptron sits in the flat parameter vector θ: layer by layer,
//! inputs to outputs, each layer's weight matrix `W` (rows = output units, row-major: `W[o][i]` at
//! `weights.start + o * inputs + i`) and then its bias vector `b`. Every output and file of losscape uses
//! this order (`trace --params-out`, plane files), so that a parameter vector means the same thing
//! everywhere.

use std::ops::Range;

/// One layer's place in θ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerLayout {
    /// Units feeding the layer (its fan-in): columns of `W`.
    pub inputs: usize,
    /// Units of the layer (its fan-out): rows of `W` and entries of `b`.
    pub outputs: usize,
    /// `W`, `outputs x inputs`, row-major.
    pub weights: Range<usize>,
    /// `b`, `outputs` entries, right after `W`.
    pub bias: Range<usize>,
}

impl LayerLayout {
    /// The index range of row `o` of `W`: the weights into output unit `o` (one "filter").
    pub fn row(&self, o: usize) -> Range<usize> {
        let start = self.weights.start + o * self.inputs;
        start..start + self.inputs
    }
}

/// The layers of a perceptron with unit counts `sizes = [inputs, hidden..., outputs]`, and the total
/// number of parameters (`sum over layers of (inputs + 1) * outputs`).
pub fn layout(sizes: &[usize]) -> (Vec<LayerLayout>, usize) {
    let mut layers = Vec::with_capacity(sizes.len().saturating_sub(1));
    let mut at = 0;
    for pair in sizes.windows(2) {
        let (inputs, outputs) = (pair[0], pair[1]);
        let weights = at..at + inputs * outputs;
        let bias = weights.end..weights.end + outputs;
        at = bias.end;
        layers.push(LayerLayout {
            inputs,
            outputs,
            weights,
            bias,
        });
    }
    (layers, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2_16_16_2_perceptron_has_354_parameters_in_order() {
        let (layers, n) = layout(&[2, 16, 16, 2]);
        assert_eq!(n, 354);
        assert_eq!(layers[0].weights, 0..32);
        assert_eq!(layers[0].bias, 32..48);
        assert_eq!(layers[1].weights, 48..304);
        assert_eq!(layers[1].row(1), 64..80);
        assert_eq!(layers[2].bias, 352..354);
    }
}
