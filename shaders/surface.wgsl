// The loss surface: colour by loss through a perceptual colormap, simple diffuse lighting, and contour lines drawn
// in the fragment shader. The mesh carries the normalised contour coordinate in uv.x (0 at the lowest loss
// on the grid, 1 at the highest; linear or logarithmic in the loss, chosen on the CPU).

#import bevy_pbr::{
    pbr_fragment::pbr_input_from_standard_material,
    pbr_functions::alpha_discard,
}

#ifdef PREPASS_PIPELINE
#import bevy_pbr::{
    prepass_io::{VertexOutput, FragmentOutput},
    pbr_deferred_functions::deferred_output,
}
#else
#import bevy_pbr::{
    forward_io::{VertexOutput, FragmentOutput},
    pbr_functions::main_pass_post_lighting_processing,
}
#endif

struct SurfaceStyle {
    // 0 viridis, 1 magma, 2 turbo
    colormap: u32,
    // number of contour levels across [0, 1]; 0 disables the lines
    contour_count: f32,
    // 0 = no lines, 1 = fully dark lines
    contour_strength: f32,
    // line width in pixels
    contour_width: f32,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(100)
var<uniform> style: SurfaceStyle;

// Polynomial fits of matplotlib's viridis and magma (Matt Zucker's public-domain fits) and Google's
// turbo (Anton Mikhailov's polynomial approximation, Apache-2.0). They return sRGB.
fn viridis(t: f32) -> vec3<f32> {
    let c0 = vec3<f32>(0.2777273272234177, 0.005407344544966578, 0.3340998053353061);
    let c1 = vec3<f32>(0.1050930431085774, 1.404613529898575, 1.384590162594685);
    let c2 = vec3<f32>(-0.3308618287255563, 0.214847559468213, 0.09509516302823659);
    let c3 = vec3<f32>(-4.634230498983486, -5.799100973351585, -19.33244095627987);
    let c4 = vec3<f32>(6.228269936347081, 14.17993336680509, 56.69055260068105);
    let c5 = vec3<f32>(4.776384997670288, -13.74514537774601, -65.35303263337234);
    let c6 = vec3<f32>(-5.435455855934631, 4.645852612178535, 26.3124352495832);
    return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}

fn magma(t: f32) -> vec3<f32> {
    let c0 = vec3<f32>(-0.002136485053939582, -0.000749655052795221, -0.005386127855323933);
    let c1 = vec3<f32>(0.2516605407371642, 0.6775232436837668, 2.494026599312351);
    let c2 = vec3<f32>(8.353717279216625, -3.577719514958484, 0.3144679030132573);
    let c3 = vec3<f32>(-27.66873308576866, 14.26473078096533, -13.64921318813922);
    let c4 = vec3<f32>(52.17613981234068, -27.94360607168351, 12.94416944238394);
    let c5 = vec3<f32>(-50.76852536473588, 29.04658282127291, 4.23415299384598);
    let c6 = vec3<f32>(18.65570506591883, -11.48977351997711, -5.601961508734096);
    return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}

fn turbo(t: f32) -> vec3<f32> {
    let r4 = vec4<f32>(0.13572138, 4.61539260, -42.66032258, 132.13108234);
    let g4 = vec4<f32>(0.09140261, 2.19418839, 4.84296658, -14.18503333);
    let b4 = vec4<f32>(0.10667330, 12.64194608, -60.58204836, 110.36276771);
    let r2 = vec2<f32>(-152.94239396, 59.28637943);
    let g2 = vec2<f32>(4.27729857, 2.82956604);
    let b2 = vec2<f32>(-89.90310912, 27.34824973);
    let v4 = vec4<f32>(1.0, t, t * t, t * t * t);
    let v2 = v4.zw * v4.z;
    return vec3<f32>(dot(v4, r4) + dot(v2, r2), dot(v4, g4) + dot(v2, g2), dot(v4, b4) + dot(v2, b2));
}

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let lo = c / 12.92;
    let hi = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(hi, lo, c <= vec3<f32>(0.04045));
}

fn colormap(t_in: f32) -> vec3<f32> {
    let t = clamp(t_in, 0.0, 1.0);
    var c: vec3<f32>;
    if style.colormap == 1u {
        c = magma(t);
    } else if style.colormap == 2u {
        c = turbo(t);
    } else {
        c = viridis(t);
    }
    return srgb_to_linear(clamp(c, vec3<f32>(0.0), vec3<f32>(1.0)));
}

// 1 on a contour line, 0 away from it, anti-aliased over about one pixel with screen-space derivatives.
fn contour_mask(t: f32) -> f32 {
    if style.contour_count <= 0.0 {
        return 0.0;
    }
    let f = t * style.contour_count;
    let dist = abs(fract(f - 0.5) - 0.5);
    let px = dist / max(fwidth(f), 1e-6);
    return 1.0 - smoothstep(0.5 * style.contour_width - 0.5, 0.5 * style.contour_width + 0.5, px);
}

@fragment
fn fragment(
    in: VertexOutput,
    @builtin(front_facing) is_front: bool,
) -> FragmentOutput {
    var pbr_input = pbr_input_from_standard_material(in, is_front);

#ifdef VERTEX_UVS_A
    let t = in.uv.x;
#else
    let t = 0.5;
#endif
    let base = colormap(t);
    let line = contour_mask(t) * style.contour_strength;
    let coloured = mix(base, base * 0.12, line);
    pbr_input.material.base_color = vec4<f32>(coloured, 1.0);
    pbr_input.material.base_color = alpha_discard(pbr_input.material, pbr_input.material.base_color);

#ifdef PREPASS_PIPELINE
    let out = deferred_output(in, pbr_input);
#else
    var out: FragmentOutput;
    // Lambert shading from one fixed light plus ambient, instead of Bevy's full PBR lighting: it reads
    // the same on a surface this matte and is several times cheaper on software Vulkan (lavapipe), which
    // is what classroom laptops without a GPU driver and the headless GIF renderer run on.
    let n = normalize(select(-in.world_normal, in.world_normal, is_front));
    let light = normalize(vec3<f32>(-0.35, 1.0, 0.55));
    let diffuse = max(dot(n, light), 0.0);
    out.color = vec4<f32>(coloured * (0.42 + 0.68 * diffuse), 1.0);
    out.color = main_pass_post_lighting_processing(pbr_input, out.color);
#endif
    return out;
}
