//! Optimizers over any number of parameters and the network landscape (issue 23): the N-parameter
//! update is the 2-D one coordinate by coordinate, Adam over a network's weights is the lecture's
//! formula, mini-batches are drawn without replacement, and Newton's methods are refused with a reason.

use losscape::core::network::{Builtin, DataSpec, Epochs, Network, NetworkSpec};
use losscape::core::optimizer::{Convention, OptimizerState, StepDetail, step_into};
use losscape::core::simulation::{Objective, RunConfig, Runner};
use losscape::core::{CoreError, Hyperparams, OptimizerKind};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use std::sync::Arc;

/// The gradient of the separable quadratic `sum a_i x_i^2`.
fn separable_gradient(a: &[f64], p: &[f64], out: &mut [f64]) {
    for ((o, x), a) in out.iter_mut().zip(p).zip(a) {
        *o = 2.0 * a * x;
    }
}

/// Every update rule but Newton's and the line-searching ones (whose step length, BFGS's `H`, and CG's
/// `β` couple the coordinates) acts coordinate by coordinate, so on a separable loss one run over four
/// parameters is, bit for bit, two 2-D runs over its halves: the N-parameter code is the 2-D code, not a
/// copy of it.
#[test]
fn four_parameters_step_as_two_pairs_bit_for_bit() {
    let a = [1.0, 8.0, 0.3, 2.5];
    let start = [1.5, -0.7, -2.0, 0.4];
    for kind in OptimizerKind::ALL {
        if kind.uses_hessian() || kind.always_searches() {
            continue;
        }
        for convention in [Convention::Lecture, Convention::PyTorch] {
            let mut hp = Hyperparams::defaults_for(kind);
            hp.convention = convention;
            hp.lr = 0.05;
            let mut whole = OptimizerState::<Vec<f64>>::zeros(4);
            let mut halves = [(); 2].map(|()| OptimizerState::<[f64; 2]>::default());
            let mut theta = start.to_vec();
            let mut pairs = [[start[0], start[1]], [start[2], start[3]]];
            let mut detail = StepDetail::<Vec<f64>>::default();
            let mut pair_detail = StepDetail::<[f64; 2]>::default();
            for t in 1..=40 {
                step_into(
                    kind,
                    &hp,
                    &mut whole,
                    &theta,
                    &mut |_| f64::NAN,
                    &mut |p: &Vec<f64>, out: &mut Vec<f64>| separable_gradient(&a, p, out),
                    &mut |_| [[f64::NAN; 2]; 2],
                    None,
                    &mut detail,
                );
                theta = detail.new_theta.clone();
                for (h, (state, pair)) in halves.iter_mut().zip(&mut pairs).enumerate() {
                    let coeffs = [a[2 * h], a[2 * h + 1]];
                    step_into(
                        kind,
                        &hp,
                        state,
                        pair,
                        &mut |_| f64::NAN,
                        &mut |p: &[f64; 2], out: &mut [f64; 2]| separable_gradient(&coeffs, p, out),
                        &mut |_| [[f64::NAN; 2]; 2],
                        None,
                        &mut pair_detail,
                    );
                    *pair = pair_detail.new_theta;
                }
                let joined = [pairs[0][0], pairs[0][1], pairs[1][0], pairs[1][1]];
                assert_eq!(
                    theta.as_slice(),
                    joined.as_slice(),
                    "{} ({convention:?}) at step {t}",
                    kind.name()
                );
            }
        }
    }
}

fn small_network() -> Arc<Network> {
    let spec = NetworkSpec {
        data: DataSpec::Builtin {
            kind: Builtin::Moons,
            size: 60,
            noise: 0.1,
            seed: 3,
        },
        hidden: vec![5],
        ..NetworkSpec::builtin(Builtin::Moons)
    };
    Arc::new(Network::new(spec).expect("a valid network"))
}

/// Adam over all 2-5-2 weights (27 of them), full batch, three steps: each weight moves by the
/// lecture's `eta V_hat / sqrt(s_hat + eps)`, computed here by hand from the exact gradient.
#[test]
fn adam_over_every_weight_is_the_lecture_formula() {
    let network = small_network();
    let theta0 = network.init().to_vec();
    assert_eq!(theta0.len(), 2 * 5 + 5 + 5 * 2 + 2);
    let mut config = RunConfig::new(OptimizerKind::Adam, theta0.clone());
    config.hyper.lr = 0.01;
    let hp = config.hyper;
    let mut runner = Runner::new(Arc::clone(&network), config).expect("Adam runs on a network");
    let n = theta0.len();
    let (mut theta, mut v, mut s) = (theta0, vec![0.0; n], vec![0.0; n]);
    let mut g = vec![0.0; n];
    for t in 1..=3 {
        network.value_and_gradient(&theta, &mut g);
        for i in 0..n {
            v[i] = hp.beta_m * v[i] + (1.0 - hp.beta_m) * g[i];
            s[i] = hp.beta_r * s[i] + (1.0 - hp.beta_r) * g[i] * g[i];
            let v_hat = v[i] / (1.0 - hp.beta_m.powi(t));
            let s_hat = s[i] / (1.0 - hp.beta_r.powi(t));
            theta[i] -= hp.lr * v_hat / (s_hat + hp.eps).sqrt();
        }
        runner.step().expect("a step");
        for (i, (got, want)) in runner.position_ref().iter().zip(&theta).enumerate() {
            assert!(
                (got - want).abs() <= 1e-14 * want.abs().max(1.0),
                "weight {i} at step {t}: {got} against {want}"
            );
        }
    }
    // the loss went down, and the runner's loss is the full loss at its weights
    assert!(runner.loss() < network.loss(network.init()));
    assert_eq!(runner.loss(), network.loss(runner.position_ref()));
}

/// Mini-batches without replacement: each epoch's batches hold every point once (the last one the
/// rest), and the next epoch is another order.
#[test]
fn an_epoch_of_mini_batches_holds_every_point_once() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut epochs = Epochs::default();
    let mut orders = Vec::new();
    for _ in 0..2 {
        let mut seen = Vec::new();
        let sizes: Vec<usize> = (0..3)
            .map(|_| {
                let batch = epochs.next_batch(20, 50, &mut rng);
                seen.extend_from_slice(batch);
                batch.len()
            })
            .collect();
        assert_eq!(sizes, [20, 20, 10]);
        orders.push(seen.clone());
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<u32>>());
    }
    assert_ne!(orders[0], orders[1], "a fresh order each epoch");
}

/// Newton's methods would need the exact N x N Hessian every step: not offered on a network, and the
/// refusal says why; first-order methods are offered.
#[test]
fn newtons_methods_are_refused_on_a_network_with_the_reason() {
    let network = small_network();
    for kind in OptimizerKind::ALL {
        let config = RunConfig::new(kind, network.init().to_vec());
        match Runner::new(Arc::clone(&network), config) {
            Ok(_) => assert!(!kind.uses_hessian(), "{} runs", kind.name()),
            Err(CoreError::NotOffered { reason, .. }) => {
                assert!(kind.uses_hessian(), "{} refused", kind.name());
                assert!(reason.contains("Hessian"), "{reason}");
            }
            Err(e) => panic!("{}: {e}", kind.name()),
        }
    }
    // a start of the wrong length is refused, not truncated
    let config = RunConfig::new(OptimizerKind::Sgd, vec![0.0; 3]);
    assert!(Runner::new(network, config).is_err());
}

/// BFGS, L-BFGS and CG train every weight of a network: each accepted step passes the Armijo test (so
/// the full-data loss never rises), evaluations grow by the trials, and the loss falls well below its
/// start. BFGS's `H` is `N × N`.
#[test]
fn searching_methods_train_every_weight_of_a_network() {
    let network = small_network();
    let theta0 = network.init().to_vec();
    let n = theta0.len();
    for kind in [OptimizerKind::Bfgs, OptimizerKind::Lbfgs, OptimizerKind::Cg] {
        let config = RunConfig::new(kind, theta0.clone());
        let mut runner = Runner::new(Arc::clone(&network), config).expect("runs on a network");
        let start = runner.loss();
        for _ in 0..40 {
            let (loss, evals) = (runner.loss(), runner.evals());
            if !runner.advance(None) {
                break;
            }
            let d = runner.last_detail().unwrap();
            let last = d.trials.last().expect("a searched step");
            assert!(last.loss <= loss + 1e-4 * last.alpha * d.slope, "{kind:?}");
            assert!(runner.loss() <= loss, "{kind:?}: the loss rose");
            assert_eq!(runner.evals(), evals + d.trials.len() as u64);
            if kind == OptimizerKind::Bfgs {
                assert_eq!(d.inverse_hessian.len(), n * n);
            }
        }
        assert!(runner.steps() >= 20, "{kind:?}: {}", runner.status());
        assert!(
            runner.loss() < 0.8 * start,
            "{kind:?}: {} from {start}",
            runner.loss()
        );
    }
    // with mini-batches they are refused, with the reason
    let mut config = RunConfig::new(OptimizerKind::Lbfgs, theta0);
    config.noise.batch = Some(8);
    let err = Runner::new(Arc::clone(&network), config)
        .unwrap_err()
        .to_string();
    assert!(err.contains("exact loss and gradient"), "{err}");
}
