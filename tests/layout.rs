//! The house rule of the code (docs/design.md, "Layout of the code"): a module of `src/` imports only modules on
//! lower floors. The floors are read from the table in docs/design.md, the imports from every `crate::NAME` path
//! in `src/` (unit tests inside `#[cfg(test)] mod tests` may look anywhere).

use std::collections::BTreeMap;
use std::path::Path;

/// Module name -> floor, from the table rows in docs/design.md `| N | `a`, `b` | ... |`.
fn floors() -> BTreeMap<String, u32> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/design.md"))
            .expect("docs/design.md");
    let section = readme
        .split("## Layout of the code")
        .nth(1)
        .expect("a layout section in docs/design.md");
    let mut floors = BTreeMap::new();
    for line in section.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(floor), Some(modules)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Ok(floor) = floor.parse::<u32>() else {
            continue;
        };
        for module in modules.split(',') {
            floors.insert(module.trim().trim_matches('`').to_string(), floor);
        }
    }
    floors
}

/// The modules a source file imports (`crate::NAME`), outside its unit tests.
fn imports(text: &str) -> Vec<String> {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut found: Vec<String> = text
        .match_indices("crate::")
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_lower_floors() {
    let floors = floors();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    // the modules: folders and files directly under src/, but the crate roots
    let modules: Vec<String> = std::fs::read_dir(&src)
        .expect("readable src")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let name = name.strip_suffix(".rs").map(str::to_string).unwrap_or(name);
            (name != "main" && name != "lib").then_some(name)
        })
        .collect();
    let mut broken = Vec::new();
    let mut unlisted = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "lib" {
            continue;
        }
        let Some(&own) = floors.get(&top) else {
            unlisted.push(top);
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("readable source");
        for module in imports(&text) {
            // items of the crate root (lib.rs re-exports) are not modules
            if module == top || !modules.contains(&module) {
                continue;
            }
            match floors.get(&module) {
                Some(&floor) if floor < own => {}
                Some(&floor) => broken.push(format!(
                    "{} (floor {own}) imports {module} (floor {floor})",
                    rel.display()
                )),
                None => unlisted.push(module),
            }
        }
    }
    unlisted.sort();
    unlisted.dedup();
    assert!(
        unlisted.is_empty(),
        "modules missing from the floors of docs/design.md: {unlisted:?}"
    );
    assert!(
        broken.is_empty(),
        "imports that go sideways or up:\n{}",
        broken.join("\n")
    );
}
