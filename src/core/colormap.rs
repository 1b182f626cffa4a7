//! The perceptual colormaps the surface is drawn with, as the shader computes them
//! (shaders/surface.wgsl): polynomial fits of matplotlib's viridis and magma (Matt Zucker's public-domain
//! fits) and of Google's turbo (Anton Mikhailov's polynomial approximation, Apache-2.0). They return
//! sRGB in 0..=1. Shared by the CPU renderer of clips and by heat maps, so every picture losscape makes
//! uses the same colours as the screen.

use super::scene::Colormap;

const VIRIDIS: [[f32; 3]; 7] = [
    [0.277_727_33, 0.005_407_344_5, 0.334_099_8],
    [0.105_093_04, 1.404_613_5, 1.384_590_2],
    [-0.330_861_83, 0.214_847_56, 0.095_095_16],
    [-4.634_230_6, -5.799_101, -19.332_441],
    [6.228_27, 14.179_933, 56.690_55],
    [4.776_385, -13.745_145, -65.353_03],
    [-5.435_456, 4.645_852_5, 26.312_435],
];

const MAGMA: [[f32; 3]; 7] = [
    [-0.002_136_485, -0.000_749_655, -0.005_386_128],
    [0.251_660_54, 0.677_523_24, 2.494_026_6],
    [8.353_717, -3.577_719_6, 0.314_467_9],
    [-27.668_733, 14.264_731, -13.649_213],
    [52.176_14, -27.943_607, 12.944_169],
    [-50.768_524, 29.046_583, 4.234_153],
    [18.655_705, -11.489_774, -5.601_961_6],
];

/// A sixth-degree polynomial per channel, in Horner form as the shader evaluates it.
fn poly6(c: &[[f32; 3]; 7], t: f32) -> [f32; 3] {
    std::array::from_fn(|i| {
        c[0][i]
            + t * (c[1][i]
                + t * (c[2][i] + t * (c[3][i] + t * (c[4][i] + t * (c[5][i] + t * c[6][i])))))
    })
}

fn turbo(t: f32) -> [f32; 3] {
    let v4 = [1.0, t, t * t, t * t * t];
    let v2 = [v4[2] * v4[2], v4[3] * v4[2]];
    let dot4 = |a: [f32; 4]| a[0] * v4[0] + a[1] * v4[1] + a[2] * v4[2] + a[3] * v4[3];
    let dot2 = |a: [f32; 2]| a[0] * v2[0] + a[1] * v2[1];
    [
        dot4([0.135_721_38, 4.615_392_6, -42.660_323, 132.131_08]) + dot2([-152.942_4, 59.286_38]),
        dot4([0.091_402_61, 2.194_188_4, 4.842_966_6, -14.185_033])
            + dot2([4.277_298_6, 2.829_566]),
        dot4([0.106_673_3, 12.641_946, -60.582_05, 110.362_77]) + dot2([-89.903_11, 27.348_25]),
    ]
}

impl Colormap {
    /// The colour at `t` (clamped into 0..=1), sRGB in 0..=1.
    pub fn srgb(self, t: f32) -> [f32; 3] {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let c = match self {
            Colormap::Viridis => poly6(&VIRIDIS, t),
            Colormap::Magma => poly6(&MAGMA, t),
            Colormap::Turbo => turbo(t),
        };
        c.map(|v| v.clamp(0.0, 1.0))
    }

    /// The colour at `t` as 8-bit sRGB.
    pub fn rgb8(self, t: f32) -> [u8; 3] {
        self.srgb(t).map(|v| (v * 255.0).round() as u8)
    }
}

/// sRGB (0..=1) to linear light, per channel.
pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.040_45 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light to sRGB (0..=1), per channel.
pub fn linear_to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_the_known_colours_and_every_value_is_in_range() {
        // viridis runs from dark purple to yellow, magma from black to pale yellow
        let [r, g, b] = Colormap::Viridis.rgb8(0.0);
        assert!(r < 80 && g < 10 && b > 70, "{r} {g} {b}");
        let [r, g, b] = Colormap::Viridis.rgb8(1.0);
        assert!(r > 230 && g > 210 && b < 60, "{r} {g} {b}");
        assert!(Colormap::Magma.rgb8(0.0).iter().all(|&c| c < 10));
        for map in Colormap::ALL {
            for k in 0..=100 {
                let c = map.srgb(k as f32 / 100.0);
                assert!(c.iter().all(|v| (0.0..=1.0).contains(v)));
            }
            assert_eq!(map.srgb(f32::NAN), map.srgb(0.0));
        }
    }

    #[test]
    fn srgb_round_trips() {
        for k in 0..=255 {
            let c = k as f32 / 255.0;
            assert!((linear_to_srgb(srgb_to_linear(c)) - c).abs() < 1e-5);
        }
    }
}
