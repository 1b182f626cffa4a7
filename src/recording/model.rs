//! The surface as a 3D model (`losscape export-mesh` and the panel): glTF binary (`.glb`), STL and OBJ.
//!
//! The mesh is the app's own (`surface::mesh`: the same vertices and normals at the scene's resolution and
//! height scale, the same triangles, so a formula's gaps stay gaps), coloured per vertex by the colormap.
//! glTF and OBJ carry the runs' paths too, as thin tubes (or lines) with a ball where each run is; an STL
//! is the surface closed into a solid on a base ([`crate::core::mesh::height_field_solid`]), ready for a
//! slicer, and refuses a surface with gaps. Every file says what made it: the glTF's `asset.extras`, the
//! OBJ's comments, the STL's 80-byte header (as much as fits).
//!
//! Units: glTF and OBJ in metres, Y up, the surface 1 m across its longer side (a tenth of the app's
//! world); STL in millimetres, Z up, 100 mm across.

use std::{io::Write, path::PathBuf, sync::Arc};

use bevy::color::ColorToComponents;
use gltf_json as json;
use json::validation::{Checked::Valid, USize64};

use super::encoder::write_atomically;
use super::overlay::{PathOverlay, RunSnapshot};
use crate::core::{
    Landscape,
    colormap::srgb_to_linear,
    mesh::{TriMesh, face_normal, grid_indices, height_field_solid, sphere, tube},
    scene::Scene,
};
use crate::geometry::{BALL_RADIUS, SurfaceFrame, TRAIL_WIDTH, ViewKind, place, sample_surface};
use crate::paint::marks::TRAIL_LIFT;
use crate::surface::mesh::surface_vertices;

/// The model formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFormat {
    /// glTF 2.0, binary container.
    Glb,
    Stl,
    Obj,
}

impl ModelFormat {
    pub const ALL: [Self; 3] = [Self::Glb, Self::Stl, Self::Obj];

    /// The format a path's extension names (`.glb`, `.stl`, `.obj`), if any.
    pub fn of(path: &std::path::Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "glb" => Some(Self::Glb),
            "stl" => Some(Self::Stl),
            "obj" => Some(Self::Obj),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Glb => "glb",
            Self::Stl => "stl",
            Self::Obj => "obj",
        }
    }
}

/// How the runs' paths go into a model (glTF and OBJ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PathStyle {
    /// Thin tubes with a ball where each run is.
    #[default]
    Tubes,
    /// Lines (one pixel wide in most viewers) and the balls.
    Lines,
    /// The surface only.
    None,
}

/// What to export.
#[derive(Clone, Debug)]
pub struct ModelJob {
    /// The landscape and its surface style (resolution, height scale, colormap) and the runs.
    pub scene: Scene,
    pub out: PathBuf,
    pub paths: PathStyle,
    /// Steps each run takes from its start for its path (when `runs` is `None`).
    pub steps: u64,
    /// The runs as they are in the app; `None`: the scene's runs, `steps` steps from their starts.
    pub runs: Option<Vec<RunSnapshot>>,
    /// How the job was made, one line (the command line, or the app).
    pub command: String,
}

/// What was written.
#[derive(Clone, Debug)]
pub struct ModelReport {
    pub triangles: usize,
    pub bytes: u64,
}

/// glTF and OBJ units per world unit (metres: the surface's 10 world units become 1 m).
const METRES_PER_WORLD: f32 = 0.1;
/// STL millimetres per world unit (100 mm across).
const MM_PER_WORLD: f32 = 10.0;
/// Thickness of an STL's base below the lowest point of the surface (mm).
const BASE_MM: f32 = 3.0;
/// Sides of a path's tube.
const TUBE_SIDES: usize = 8;

/// A run's path and ball in world units.
struct RunModel {
    name: String,
    /// sRGB, 0 ..= 1.
    color: [f32; 3],
    path: Vec<[f32; 3]>,
    ball: [f32; 3],
}

/// Exports `job`; the error is one line.
pub fn export(job: &ModelJob) -> Result<ModelReport, String> {
    let format = ModelFormat::of(&job.out)
        .ok_or_else(|| format!("{} must end in .glb, .stl or .obj", job.out.display()))?;
    let landscape =
        Arc::new(Landscape::new(job.scene.landscape.clone()).map_err(|e| e.to_string())?);
    let (grid, frame) = sample_surface(&landscape, &job.scene.surface);
    if format == ModelFormat::Stl && grid.undefined_count > 0 {
        return Err(format!(
            "the surface has {} points where the formula is not defined (gaps): an STL must be a closed \
             solid; export .glb or .obj (they keep the gaps), or choose a --domain without them",
            grid.undefined_count
        ));
    }
    let style = &job.scene.surface;
    let vertices = surface_vertices(&grid, &frame, style.log_contours);
    let colors: Vec<[f32; 3]> = vertices
        .uvs
        .iter()
        .map(|uv| style.colormap.srgb(uv[0]))
        .collect();
    let surface = TriMesh {
        positions: vertices.positions,
        normals: vertices.normals,
        indices: grid_indices(grid.resolution, &grid.undefined),
    };
    let runs = if format == ModelFormat::Stl || job.paths == PathStyle::None {
        Vec::new()
    } else {
        run_models(job, landscape.clone(), &frame)?
    };
    let provenance = format!(
        "made by {}\nscene:\n{}",
        job.command,
        job.scene.to_ron().unwrap_or_default()
    );
    let (bytes, triangles) = match format {
        ModelFormat::Glb => glb(
            &surface,
            &colors,
            &runs,
            job.paths,
            &job.command,
            &provenance,
        )?,
        ModelFormat::Obj => obj(&surface, &colors, &runs, job.paths, &provenance),
        ModelFormat::Stl => stl(&surface, grid.resolution, &job.command)?,
    };
    write_atomically(&job.out, &bytes)?;
    Ok(ModelReport {
        triangles,
        bytes: bytes.len() as u64,
    })
}

/// The runs' paths and balls in world units (on the surface, as the 3D view draws them).
fn run_models(
    job: &ModelJob,
    landscape: Arc<Landscape>,
    frame: &SurfaceFrame,
) -> Result<Vec<RunModel>, String> {
    // no views: the runs are only stepped, not projected
    let overlay = match &job.runs {
        Some(runs) => {
            PathOverlay::from_runs(runs.clone(), landscape.clone(), frame.clone(), vec![])?
        }
        None => {
            let mut o = PathOverlay::new(&job.scene, landscape.clone(), frame.clone(), vec![])?;
            o.advance(job.steps);
            o
        }
    };
    Ok(overlay
        .runs()
        .map(|(name, color, trail, at)| RunModel {
            name: name.to_owned(),
            color: color.to_srgba().to_f32_array_no_alpha(),
            path: trail
                .iter()
                .map(|&p| place(frame, &landscape, ViewKind::ThreeD, p, TRAIL_LIFT).to_array())
                .collect(),
            ball: place(frame, &landscape, ViewKind::ThreeD, at, BALL_RADIUS).to_array(),
        })
        .collect())
}

fn scaled(points: &[[f32; 3]], s: f32) -> Vec<[f32; 3]> {
    points.iter().map(|p| p.map(|c| c * s)).collect()
}

/// The tube (or nothing, for lines) and the ball of a run, in world units.
fn run_meshes(run: &RunModel, style: PathStyle) -> (TriMesh, TriMesh) {
    let path = if style == PathStyle::Tubes {
        tube(&run.path, TRAIL_WIDTH / 2.0, TUBE_SIDES)
    } else {
        TriMesh::default()
    };
    (path, sphere(run.ball, BALL_RADIUS, 12, 24))
}

fn linear(rgb: [f32; 3]) -> [f32; 3] {
    rgb.map(srgb_to_linear)
}

/// The binary buffer and the JSON of a glTF being built.
struct GltfBuilder {
    root: json::Root,
    bin: Vec<u8>,
}

impl GltfBuilder {
    fn view(
        &mut self,
        bytes: &[u8],
        target: json::buffer::Target,
    ) -> json::Index<json::buffer::View> {
        let offset = self.bin.len();
        self.bin.extend_from_slice(bytes);
        while !self.bin.len().is_multiple_of(4) {
            self.bin.push(0);
        }
        self.root.push(json::buffer::View {
            buffer: json::Index::new(0),
            byte_length: USize64::from(bytes.len()),
            byte_offset: Some(USize64::from(offset)),
            byte_stride: None,
            name: None,
            target: Some(Valid(target)),
            extensions: None,
            extras: None,
        })
    }

    fn accessor(
        &mut self,
        bytes: &[u8],
        count: usize,
        component: json::accessor::ComponentType,
        kind: json::accessor::Type,
        bounds: Option<([f32; 3], [f32; 3])>,
        target: json::buffer::Target,
    ) -> json::Index<json::Accessor> {
        let view = self.view(bytes, target);
        self.root.push(json::Accessor {
            buffer_view: Some(view),
            byte_offset: None,
            count: USize64::from(count),
            component_type: Valid(json::accessor::GenericComponentType(component)),
            extensions: None,
            extras: None,
            type_: Valid(kind),
            min: bounds.map(|(lo, _)| json::Value::from(lo.to_vec())),
            max: bounds.map(|(_, hi)| json::Value::from(hi.to_vec())),
            name: None,
            normalized: false,
            sparse: None,
        })
    }

    fn vec3s(&mut self, values: &[[f32; 3]], bounds: bool) -> json::Index<json::Accessor> {
        let bytes: Vec<u8> = values
            .iter()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let bounds = bounds.then(|| {
            values.iter().fold(
                ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]),
                |(lo, hi), p| {
                    (
                        std::array::from_fn(|k| lo[k].min(p[k])),
                        std::array::from_fn(|k| hi[k].max(p[k])),
                    )
                },
            )
        });
        self.accessor(
            &bytes,
            values.len(),
            json::accessor::ComponentType::F32,
            json::accessor::Type::Vec3,
            bounds,
            json::buffer::Target::ArrayBuffer,
        )
    }

    fn indices(&mut self, indices: &[u32]) -> json::Index<json::Accessor> {
        let bytes: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
        self.accessor(
            &bytes,
            indices.len(),
            json::accessor::ComponentType::U32,
            json::accessor::Type::Scalar,
            None,
            json::buffer::Target::ElementArrayBuffer,
        )
    }

    fn material(
        &mut self,
        name: &str,
        rgb: [f32; 3],
        double_sided: bool,
    ) -> json::Index<json::Material> {
        let [r, g, b] = linear(rgb);
        self.root.push(json::Material {
            name: Some(name.to_owned()),
            double_sided,
            pbr_metallic_roughness: json::material::PbrMetallicRoughness {
                base_color_factor: json::material::PbrBaseColorFactor([r, g, b, 1.0]),
                metallic_factor: json::material::StrengthFactor(0.0),
                roughness_factor: json::material::StrengthFactor(0.8),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    /// A triangle primitive of `mesh` (scaled to metres) with `material`, and vertex colours if given.
    fn triangles(
        &mut self,
        mesh: &TriMesh,
        colors: Option<&[[f32; 3]]>,
        material: json::Index<json::Material>,
    ) -> json::mesh::Primitive {
        let mut attributes = std::collections::BTreeMap::new();
        let positions = scaled(&mesh.positions, METRES_PER_WORLD);
        attributes.insert(
            Valid(json::mesh::Semantic::Positions),
            self.vec3s(&positions, true),
        );
        attributes.insert(
            Valid(json::mesh::Semantic::Normals),
            self.vec3s(&mesh.normals, false),
        );
        if let Some(colors) = colors {
            let linear: Vec<[f32; 3]> = colors.iter().map(|c| linear(*c)).collect();
            attributes.insert(
                Valid(json::mesh::Semantic::Colors(0)),
                self.vec3s(&linear, false),
            );
        }
        json::mesh::Primitive {
            attributes,
            extensions: None,
            extras: None,
            indices: Some(self.indices(&mesh.indices)),
            material: Some(material),
            mode: Valid(json::mesh::Mode::Triangles),
            targets: None,
        }
    }

    fn node(
        &mut self,
        name: &str,
        primitives: Vec<json::mesh::Primitive>,
    ) -> json::Index<json::Node> {
        let mesh = self.root.push(json::Mesh {
            extensions: None,
            extras: None,
            name: Some(name.to_owned()),
            primitives,
            weights: None,
        });
        self.root.push(json::Node {
            mesh: Some(mesh),
            name: Some(name.to_owned()),
            ..Default::default()
        })
    }
}

/// A glTF binary: the surface with vertex colours, each run's tube (or line) and ball in its colour.
fn glb(
    surface: &TriMesh,
    colors: &[[f32; 3]],
    runs: &[RunModel],
    style: PathStyle,
    command: &str,
    provenance: &str,
) -> Result<(Vec<u8>, usize), String> {
    let mut b = GltfBuilder {
        root: json::Root::default(),
        bin: Vec::new(),
    };
    let mut nodes = Vec::new();
    let mut triangles = surface.indices.len() / 3;
    // white, so the vertex colours show as they are; seen from below too
    let white = b.material("surface", [1.0; 3], true);
    let prim = b.triangles(surface, Some(colors), white);
    nodes.push(b.node("surface", vec![prim]));
    for run in runs {
        let material = b.material(&run.name, run.color, false);
        let (path, ball) = run_meshes(run, style);
        let mut primitives = Vec::new();
        if style == PathStyle::Lines && run.path.len() >= 2 {
            let points = scaled(&run.path, METRES_PER_WORLD);
            let mut attributes = std::collections::BTreeMap::new();
            attributes.insert(
                Valid(json::mesh::Semantic::Positions),
                b.vec3s(&points, true),
            );
            primitives.push(json::mesh::Primitive {
                attributes,
                extensions: None,
                extras: None,
                indices: None,
                material: Some(material),
                mode: Valid(json::mesh::Mode::LineStrip),
                targets: None,
            });
        } else if !path.indices.is_empty() {
            triangles += path.indices.len() / 3;
            primitives.push(b.triangles(&path, None, material));
        }
        triangles += ball.indices.len() / 3;
        primitives.push(b.triangles(&ball, None, material));
        nodes.push(b.node(&run.name, primitives));
    }
    let scene = b.root.push(json::Scene {
        extensions: None,
        extras: None,
        name: Some("losscape".into()),
        nodes,
    });
    b.root.scene = Some(scene);
    b.root.push(json::Buffer {
        byte_length: USize64::from(b.bin.len()),
        name: None,
        uri: None,
        extensions: None,
        extras: None,
    });
    let quoted =
        |s: &str| json::serialize::to_string(&json::Value::from(s)).map_err(|e| e.to_string());
    let extras = format!(
        "{{\"command\":{},\"provenance\":{}}}",
        quoted(command)?,
        quoted(provenance)?
    );
    b.root.asset = json::Asset {
        generator: Some(concat!("losscape ", env!("CARGO_PKG_VERSION")).into()),
        version: "2.0".into(),
        extras: Some(json::extras::RawValue::from_string(extras).map_err(|e| e.to_string())?),
        ..Default::default()
    };
    let mut text = json::serialize::to_vec(&b.root).map_err(|e| e.to_string())?;
    while !text.len().is_multiple_of(4) {
        text.push(b' ');
    }
    // the binary container: header, JSON chunk, BIN chunk (glTF 2.0, section 4.4)
    let total = 12 + 8 + text.len() + 8 + b.bin.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&text);
    out.extend_from_slice(&(b.bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&b.bin);
    Ok((out, triangles))
}

/// An OBJ: the surface with vertex colours (`v x y z r g b`, read by Blender, MeshLab and most
/// loaders), then each run's tube (or polyline) and ball as its own object.
fn obj(
    surface: &TriMesh,
    colors: &[[f32; 3]],
    runs: &[RunModel],
    style: PathStyle,
    provenance: &str,
) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(surface.positions.len() * 80);
    let mut triangles = 0;
    for line in provenance.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "# units: metres, y up");
    // 1-based indices that run on across objects
    let mut base = 1;
    triangles += obj_object(
        &mut out,
        &mut base,
        "surface",
        surface,
        Some(colors),
        [1.0; 3],
    );
    for run in runs {
        let (path, ball) = run_meshes(run, style);
        if style == PathStyle::Lines && run.path.len() >= 2 {
            let _ = writeln!(out, "o {}_path", run.name.replace(char::is_whitespace, "_"));
            let [r, g, b] = run.color;
            for p in scaled(&run.path, METRES_PER_WORLD) {
                let _ = writeln!(
                    out,
                    "v {:.6} {:.6} {:.6} {r:.4} {g:.4} {b:.4}",
                    p[0], p[1], p[2]
                );
            }
            // a normal per point too, so that the normals' numbers stay the vertices' numbers
            for _ in &run.path {
                let _ = writeln!(out, "vn 0 1 0");
            }
            let line: Vec<String> = (0..run.path.len() as u32)
                .map(|k| (base + k).to_string())
                .collect();
            let _ = writeln!(out, "l {}", line.join(" "));
            base += run.path.len() as u32;
        } else if !path.indices.is_empty() {
            let name = format!("{}_path", run.name);
            triangles += obj_object(&mut out, &mut base, &name, &path, None, run.color);
        }
        let name = format!("{}_ball", run.name);
        triangles += obj_object(&mut out, &mut base, &name, &ball, None, run.color);
    }
    (out, triangles)
}

/// One OBJ object: its vertices (with colours, from `colors` or all `color`), normals and faces, whose
/// 1-based indices start at `base` (moved past this object's vertices). Returns its triangles.
fn obj_object(
    out: &mut Vec<u8>,
    base: &mut u32,
    name: &str,
    mesh: &TriMesh,
    colors: Option<&[[f32; 3]]>,
    color: [f32; 3],
) -> usize {
    let _ = writeln!(out, "o {}", name.replace(char::is_whitespace, "_"));
    for (i, p) in scaled(&mesh.positions, METRES_PER_WORLD).iter().enumerate() {
        let c = colors.and_then(|c| c.get(i)).copied().unwrap_or(color);
        let _ = writeln!(
            out,
            "v {:.6} {:.6} {:.6} {:.4} {:.4} {:.4}",
            p[0], p[1], p[2], c[0], c[1], c[2]
        );
    }
    for n in &mesh.normals {
        let _ = writeln!(out, "vn {:.5} {:.5} {:.5}", n[0], n[1], n[2]);
    }
    for t in mesh.indices.chunks_exact(3) {
        let [a, b, c] = [t[0] + *base, t[1] + *base, t[2] + *base];
        let _ = writeln!(out, "f {a}//{a} {b}//{b} {c}//{c}");
    }
    *base += mesh.positions.len() as u32;
    mesh.indices.len() / 3
}

/// A binary STL in millimetres, Z up: the surface closed into a solid on a base [`BASE_MM`] thick.
fn stl(surface: &TriMesh, n: usize, command: &str) -> Result<(Vec<u8>, usize), String> {
    // world (X right, Y up, Z toward the viewer) to print space (x right, y away, z up)
    let top: Vec<[f32; 3]> = surface
        .positions
        .iter()
        .map(|p| {
            [
                p[0] * MM_PER_WORLD,
                -p[2] * MM_PER_WORLD,
                p[1] * MM_PER_WORLD,
            ]
        })
        .collect();
    let lowest = top.iter().map(|p| p[2]).fold(f32::INFINITY, f32::min);
    let solid = height_field_solid(n, &top, lowest - BASE_MM);
    let vertex = |i: u32| stl_io::Vertex::new(solid.positions[i as usize]);
    let triangles: Vec<stl_io::Triangle> = solid
        .indices
        .chunks_exact(3)
        .map(|t| {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| solid.positions[i as usize]);
            stl_io::Triangle {
                normal: stl_io::Normal::new(face_normal(a, b, c).unwrap_or([0.0, 0.0, 1.0])),
                vertices: [vertex(t[0]), vertex(t[1]), vertex(t[2])],
            }
        })
        .collect();
    let mut out = Vec::with_capacity(84 + triangles.len() * 50);
    stl_io::write_stl(&mut out, triangles.iter()).map_err(|e| format!("STL: {e}"))?;
    // the 80-byte header (stl_io leaves it blank) says what made the file, as much as fits; it must
    // not start with "solid", or readers take the file for ASCII
    let header = format!("losscape (mm, z up): {command}");
    let bytes = header.as_bytes();
    let len = bytes.len().min(80);
    out[..len].copy_from_slice(&bytes[..len]);
    Ok((out, triangles.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(
            ModelFormat::of(std::path::Path::new("a.GLB")),
            Some(ModelFormat::Glb)
        );
        assert_eq!(
            ModelFormat::of(std::path::Path::new("a.stl")),
            Some(ModelFormat::Stl)
        );
        assert_eq!(ModelFormat::of(std::path::Path::new("a.gltf")), None);
    }

    #[test]
    fn a_glb_has_a_valid_container_and_the_runs() {
        let mut scene = crate::core::lessons::preset("beale").unwrap();
        scene.surface.resolution = 32;
        let dir = std::env::temp_dir().join(format!("losscape-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let job = ModelJob {
            scene,
            out: dir.join("m.glb"),
            paths: PathStyle::Tubes,
            steps: 50,
            runs: None,
            command: "test".into(),
        };
        let report = export(&job).unwrap();
        let bytes = std::fs::read(&job.out).unwrap();
        assert_eq!(&bytes[..4], b"glTF");
        assert_eq!(
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
            bytes.len()
        );
        let json_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
        let text = std::str::from_utf8(&bytes[20..20 + json_len]).unwrap();
        assert!(text.contains("\"Adam\""), "the runs are named");
        assert!(report.triangles > 2 * 31 * 31);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
