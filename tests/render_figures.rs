//! Vector figures and 3D models end to end, each checked by a tool that is not ours (scripts/setup.sh
//! installs them): the SVG rendered by librsvg (`rsvg-convert`) and the PDF by poppler (`pdftoppm`), both
//! compared pixel by pixel with the PNG still of the same scene, the PDF's text read back by
//! `pdftotext`; the glTF checked by the Khronos glTF validator (node); the STL read by `stl_io` and
//! checked to be closed and consistently wound; the OBJ loaded by `tobj`.
#![cfg(feature = "app")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{losscape, stderr, temp_dir};

/// Runs an outside tool; its failure to start says how to install it.
fn tool(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} did not start ({e}): run scripts/setup.sh to install the checkers")
        })
}

/// RGB pixels of a PNG, decoded by the png crate's decoder.
fn decode_png(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("a PNG"),
    ));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, pixels)
}

/// How alike two pictures of the same size are: the mean difference per channel (0 ..= 255) and the
/// share of pixels that differ by more than 48 in some channel.
fn difference(a: &[[u8; 3]], b: &[[u8; 3]]) -> (f64, f64) {
    assert_eq!(a.len(), b.len(), "same size");
    let mut sum = 0u64;
    let mut far = 0usize;
    for (p, q) in a.iter().zip(b) {
        let d: Vec<u32> = (0..3).map(|k| p[k].abs_diff(q[k]) as u32).collect();
        sum += d.iter().sum::<u32>() as u64;
        if d.iter().any(|&v| v > 48) {
            far += 1;
        }
    }
    (
        sum as f64 / (a.len() * 3) as f64,
        far as f64 / a.len() as f64,
    )
}

/// Renders the Beale lesson at step 150 in `view` to `name` in `dir` (320 x 240), with `extra` flags.
fn render(dir: &Path, name: &str, view: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "render",
        "--preset",
        "beale",
        "--view",
        view,
        "--size",
        "320x240",
        "--step",
        "150",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let run = losscape(&args);
    assert!(run.status.success(), "render {name}: {}", stderr(&run));
    out
}

/// The SVG rendered by librsvg at its size in pixels.
fn rsvg(svg: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let png = svg.with_extension("rsvg.png");
    let run = tool(
        "rsvg-convert",
        &[
            "--format=png",
            "-o",
            png.to_str().unwrap(),
            svg.to_str().unwrap(),
        ],
    );
    assert!(run.status.success(), "rsvg-convert: {}", stderr(&run));
    decode_png(&png)
}

/// The PDF's page rendered by poppler at 96 dpi (a page of 240 x 180 points is 320 x 240 pixels).
fn poppler(pdf: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let prefix = pdf.with_extension("poppler");
    let run = tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "96",
            "-singlefile",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert!(run.status.success(), "pdftoppm: {}", stderr(&run));
    decode_png(&prefix.with_extension("png"))
}

#[test]
fn svg_and_pdf_figures_look_like_the_png_and_keep_their_text() {
    let dir = temp_dir("figures");
    for view in ["top", "3d"] {
        // the pictures without text (fonts differ between renderers): surface, contour lines, trails,
        // start rings and balls, the parts hidden behind the surface hidden
        let plain = ["--no-axes"];
        let png = render(&dir, &format!("{view}.png"), view, &plain);
        let (w, h, still) = decode_png(&png);
        assert_eq!((w, h), (320, 240));
        let svg = rsvg(&render(&dir, &format!("{view}.svg"), view, &plain));
        let pdf = poppler(&render(&dir, &format!("{view}.pdf"), view, &plain));
        for (what, (rw, rh, pixels)) in [("SVG", svg), ("PDF", pdf)] {
            assert_eq!((rw, rh), (320, 240));
            let (mean, far) = difference(&still, &pixels);
            assert!(
                mean < 3.5 && far < 0.015,
                "{view} {what} vs PNG: mean {mean:.2}, {:.2} % far",
                far * 100.0
            );
        }

        // with the legend, axes, step counter and title: real text, with its Greek letters
        let text = ["--legend", "--title", "Beale & four optimizers"];
        let svg = render(&dir, &format!("{view}-text.svg"), view, &text);
        let pdf = render(&dir, &format!("{view}-text.pdf"), view, &text);
        let png = render(&dir, &format!("{view}-text.png"), view, &text);
        let (_, _, still) = decode_png(&png);
        for (what, (_, _, pixels)) in [("SVG", rsvg(&svg)), ("PDF", poppler(&pdf))] {
            let (mean, far) = difference(&still, &pixels);
            assert!(
                mean < 9.0 && far < 0.06,
                "{view} {what} with text vs PNG: mean {mean:.2}, {:.2} % far",
                far * 100.0
            );
        }
        let run = tool("pdftotext", &[pdf.to_str().unwrap(), "-"]);
        let text = String::from_utf8_lossy(&run.stdout);
        for word in [
            "Beale & four optimizers",
            "Adam",
            "RMSProp",
            "η 0.05",
            "step 150",
        ] {
            assert!(
                text.contains(word),
                "{word:?} not in the PDF's text: {text}"
            );
        }
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(svg_text.contains(">Adam</text>"), "the legend as text");
        assert!(svg_text.contains("Beale &amp; four optimizers"));
        // what made it, embedded
        assert!(svg_text.contains("losscape render --preset beale"));
        assert!(svg_text.contains("losscape:scene"));
        let info = tool("pdfinfo", &[pdf.to_str().unwrap()]);
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("losscape render --preset beale"), "{info}");
    }
    // the top view's contour lines are paths, its surface one image
    let svg_text = std::fs::read_to_string(dir.join("top.svg")).unwrap();
    assert_eq!(svg_text.matches("<image").count(), 1);
    assert!(
        svg_text.matches("stroke-opacity=").count() > 20,
        "contour lines"
    );
    // and the PNG says what made it
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(dir.join("top.png")).unwrap(),
    ));
    let reader = decoder.read_info().unwrap();
    let texts: Vec<String> = reader
        .info()
        .utf8_text
        .iter()
        .filter_map(|t| t.get_text().ok())
        .collect();
    assert!(texts.iter().any(|t| t.contains("--step 150")), "{texts:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn figure_sizes_in_centimetres_and_bad_input() {
    let dir = temp_dir("figure-cm");
    let out = dir.join("a5.pdf");
    let run = losscape(&[
        "render",
        "--preset",
        "saddle",
        "--size",
        "16x12cm",
        "--dpi",
        "150",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let info = tool("pdfinfo", &[out.to_str().unwrap()]);
    let info = String::from_utf8_lossy(&info.stdout);
    // 16 x 12 cm at 150 dpi: 945 x 709 pixels, 453.6 x 340.3 points
    assert!(info.contains("453.6 x 340.3"), "{info}");
    let svg = dir.join("a5.svg");
    let run = losscape(&[
        "render",
        "--preset",
        "saddle",
        "--size",
        "16x12cm",
        "--out",
        svg.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains(r#"width="16cm""#) && text.contains(r#"height="12cm""#));
    // 300 dpi by default: 1890 x 1417 units
    assert!(text.contains(r#"viewBox="0 0 1890 1417""#));

    for (args, expected) in [
        (vec!["--size", "640x480", "--dpi", "300"], "--dpi"),
        (
            vec!["--step", "5", "--out", "x.gif"],
            "--step is for a still",
        ),
        (vec!["--out", "x.eps"], ".svg or .pdf"),
    ] {
        let mut all = vec!["render", "--preset", "beale"];
        all.extend(&args);
        if !args.contains(&"--out") {
            all.extend(["--out", "x.svg"]);
        }
        let run = losscape(&all);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&run).contains(expected),
            "{args:?}: {}",
            stderr(&run)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Khronos glTF validator's report on a file: (errors, warnings, the whole report).
fn validate_gltf(path: &Path) -> (u64, u64, String) {
    let tools = std::env::var("LOSSCAPE_TOOLS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/losscape/tools",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let validator = format!("{tools}/node_modules/gltf-validator");
    assert!(
        Path::new(&validator).join("package.json").exists(),
        "no glTF validator at {validator}: run scripts/setup.sh"
    );
    let script = format!(
        "const v = require({validator:?}); const fs = require('fs');\
         v.validateBytes(new Uint8Array(fs.readFileSync({path:?})))\
         .then(r => console.log(JSON.stringify(r)))\
         .catch(e => {{ console.error(e); process.exit(1); }});",
        path = path.display().to_string()
    );
    let run = tool("node", &["-e", &script]);
    assert!(run.status.success(), "validator: {}", stderr(&run));
    let report = String::from_utf8_lossy(&run.stdout).into_owned();
    let number = |key: &str| {
        let at = report.find(&format!("\"{key}\":")).expect(key) + key.len() + 3;
        report[at..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse::<u64>()
            .expect("a count")
    };
    (number("numErrors"), number("numWarnings"), report)
}

#[test]
fn models_pass_outside_checks() {
    let dir = temp_dir("models");
    let export = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec!["export-mesh", "--out", out.to_str().unwrap()];
        args.extend(extra);
        (losscape(&args), out)
    };
    for paths in ["tubes", "lines"] {
        let (run, glb) = export(
            &format!("beale-{paths}.glb"),
            &["--preset", "beale", "--resolution", "40", "--paths", paths],
        );
        assert!(run.status.success(), "{}", stderr(&run));
        let (errors, warnings, report) = validate_gltf(&glb);
        assert_eq!((errors, warnings), (0, 0), "{report}");
        // the surface, and each of the four runs' path and ball
        assert!(report.contains("\"drawCallCount\":9"), "{report}");
    }

    // a formula's gaps stay gaps in glTF, and an STL refuses them
    let gaps = [
        "--formula",
        "ln(x) + y^2",
        "--domain=-1,2,-1,1",
        "--resolution",
        "33",
    ];
    let (run, glb) = export("gaps.glb", &gaps);
    assert!(run.status.success(), "{}", stderr(&run));
    let (errors, _, report) = validate_gltf(&glb);
    assert_eq!(errors, 0, "{report}");
    let (run, stl) = export("gaps.stl", &gaps);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("gaps"), "{}", stderr(&run));
    assert!(!stl.exists());

    // an STL is a closed solid, wound consistently, with its volume outside-in positive
    let (run, stl) = export(
        "rosenbrock.stl",
        &["--surface", "rosenbrock", "--resolution", "64"],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let mut file = std::fs::File::open(&stl).unwrap();
    let mesh = stl_io::read_stl(&mut file).expect("stl_io reads it");
    mesh.validate()
        .expect("closed, no zero-area faces, wound consistently");
    // the top (2 * 63^2), the walls (2 * 4 * 63) and the bottom (4 * 63)
    assert_eq!(mesh.faces.len(), 2 * 63 * 63 + 12 * 63);
    assert_eq!(mesh.vertices.len(), 64 * 64 + 4 * 63 + 1);
    let volume: f64 = mesh
        .faces
        .iter()
        .map(|f| {
            let [a, b, c] = f.vertices.map(|i| mesh.vertices[i].0.map(f64::from));
            (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                + a[2] * (b[0] * c[1] - b[1] * c[0]))
                / 6.0
        })
        .sum();
    assert!(volume > 0.0, "outward faces: volume {volume}");
    let header = std::fs::read(&stl).unwrap();
    assert!(
        header.starts_with(b"losscape"),
        "what made it, in the header"
    );

    // an OBJ with vertex colours and the runs
    let (run, obj) = export("beale.obj", &["--preset", "beale", "--resolution", "20"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (models, _) = tobj::load_obj(&obj, &tobj::LoadOptions::default()).expect("tobj loads it");
    let surface = models
        .iter()
        .find(|m| m.name == "surface")
        .expect("the surface");
    assert_eq!(surface.mesh.positions.len(), 20 * 20 * 3);
    assert_eq!(surface.mesh.vertex_color.len(), 20 * 20 * 3);
    assert_eq!(surface.mesh.indices.len(), 19 * 19 * 6);
    assert!(models.iter().any(|m| m.name == "Adam_path"));
    let _ = std::fs::remove_dir_all(&dir);
}
