//! ARCHITECTURE.md is true: every module of `src/` is in its layer table, and each
//! uses (outside comments and unit tests) only modules on lines above its own, so the
//! core has no import cycle and no binding is called by the core.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The table's lines, top first: the module names on each.
fn layers() -> Vec<Vec<String>> {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md");
    let start = text
        .find("```layers\n")
        .expect("a ```layers block in ARCHITECTURE.md");
    let block = &text[start + "```layers\n".len()..];
    let block = &block[..block.find("```").expect("the layers block ends")];
    block
        .lines()
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .filter(|names: &Vec<String>| !names.is_empty())
        .collect()
}

/// Every module of `src/` (a file, or a folder with `mod.rs`), with its source files.
fn modules() -> BTreeMap<String, Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if path.join("mod.rs").exists() {
                let files = fs::read_dir(&path)
                    .unwrap()
                    .map(|file| fs::read_to_string(file.unwrap().path()).unwrap())
                    .collect();
                modules.insert(name, files);
            }
        } else if name != "lib" {
            modules.insert(name, vec![fs::read_to_string(&path).unwrap()]);
        }
    }
    modules
}

/// The first path segment after each `crate::` in `code`, including each item of a
/// `use crate::{a, b::c}` group.
fn crate_paths(code: &str) -> Vec<String> {
    let ident = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start => {
                        found.push(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.push(ident(rest));
        }
    }
    found
}

/// A source file without its unit tests and comment lines.
fn code_of(file: &str) -> String {
    let file = file.split("#[cfg(test)]").next().unwrap();
    file.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_module_uses_only_the_layers_above_it() {
    let layers = layers();
    let level = |name: &str| {
        layers
            .iter()
            .position(|line| line.iter().any(|n| n == name))
    };
    let modules = modules();
    let mut wrong = Vec::new();
    for (name, files) in &modules {
        let Some(own) = level(name) else {
            wrong.push(format!("{name} is not in ARCHITECTURE.md's layers"));
            continue;
        };
        for file in files {
            for used in crate_paths(&code_of(file)) {
                // Root re-exports (`crate::Error`, `crate::write`) are not modules.
                let Some(their) = level(&used) else { continue };
                if used != *name && their >= own {
                    wrong.push(format!("{name} (line {own}) uses {used} (line {their})"));
                }
            }
        }
    }
    for name in layers.iter().flatten() {
        if !modules.contains_key(name) {
            wrong.push(format!(
                "ARCHITECTURE.md names {name}, which src/ does not have"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_reader_of_crate_paths_sees_groups_and_nested_paths() {
    assert_eq!(
        crate_paths(
            "use crate::{epoch, fsio::{self, RawMarker}, warn};\nlet x = crate::classify::judge(r);"
        ),
        ["epoch", "fsio", "warn", "classify"]
    );
}
