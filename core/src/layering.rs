//! The core's modules form layers: each uses only modules below it, from ids and errors
//! up to worktrees (a directed acyclic graph). This test reads the sources and fails on a
//! cycle, naming the modules in it.
//!
//! The storage seam is the one deliberate exception: the row traits (`store/rows/`) and
//! a backend's implementation of them (`store/sqlite/`, `store/postgres/`) name the domain types they
//! store, while the domain modules name only the store's handle and traits (dependency
//! inversion). Those files are not counted as part of `store`; instead no file outside
//! a backend may name the backend's database library.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Names the crate root re-exports, and the module each comes from.
const ROOT_REEXPORTS: [(&str, &str); 9] = [
    ("Store", "store"),
    ("StoreAddress", "store"),
    ("Settings", "store"),
    ("Pool", "store"),
    ("Error", "error"),
    ("Result", "error"),
    ("Record", "error"),
    ("StoreError", "error"),
    ("StoreFailure", "error"),
];

/// The top-level module a source file belongs to (`None` for the crate root and tests).
fn module_of(relative: &Path) -> Option<String> {
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let is_test = parts
        .iter()
        .any(|p| p == "tests" || p == "tests.rs" || p == "layering.rs");
    let is_seam = parts.len() > 2
        && parts[0] == "store"
        && ["rows", "sqlite", "postgres"].contains(&parts[1].as_str());
    let top = parts.first()?.trim_end_matches(".rs").to_string();
    (top != "lib" && !is_test && !is_seam).then_some(top)
}

/// `source` without its unit tests.
fn product(source: &str) -> &str {
    let product = source
        .split("#[cfg(test)]\nmod tests {")
        .next()
        .unwrap_or(source);
    product
        .split("#[cfg(test)]\npub(crate) mod tests {")
        .next()
        .unwrap_or(product)
}

/// The modules `source` names through `crate::…` outside its unit tests.
fn uses(source: &str) -> BTreeSet<String> {
    let product = product(source);
    let mut found = BTreeSet::new();
    for (i, _) in product.match_indices("crate::") {
        let rest = &product[i + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(list) => list.split('}').next().unwrap_or("").split(',').collect(),
            None => vec![rest],
        };
        for name in names {
            let word: String = name
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let module = ROOT_REEXPORTS
                .iter()
                .find(|(item, _)| *item == word)
                .map_or(word, |(_, module)| module.to_string());
            found.insert(module);
        }
    }
    found
}

/// Every Rust source file of the core: its path relative to `src/`, and its text.
fn sources() -> Vec<(PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the sources") {
            let path = entry.expect("a source entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                let relative = path.strip_prefix(&src).expect("under src").to_path_buf();
                found.push((relative, text));
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, source) in sources() {
        if let Some(module) = module_of(&relative) {
            graph.entry(module).or_default().extend(uses(&source));
        }
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for (module, used) in graph.iter_mut() {
        used.retain(|u| known.contains(u) && u != module);
    }
    graph
}

/// A cycle through `start`, if any (depth-first search).
fn cycle_from(
    graph: &BTreeMap<String, BTreeSet<String>>,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    let here = path.last().cloned()?;
    for next in &graph[&here] {
        if let Some(at) = path.iter().position(|m| m == next) {
            return Some(path[at..].to_vec());
        }
        if done.contains(next) {
            continue;
        }
        path.push(next.clone());
        if let Some(cycle) = cycle_from(graph, path, done) {
            return Some(cycle);
        }
        path.pop();
    }
    done.insert(here);
    None
}

#[test]
fn the_modules_of_the_core_form_layers_without_cycles() {
    let graph = graph();
    assert!(graph.contains_key("session") && graph["worktree"].contains("session"));
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let mut path = vec![module.clone()];
        if let Some(cycle) = cycle_from(&graph, &mut path, &mut done) {
            panic!(
                "these core modules use each other in a circle: {}",
                cycle.join(" → ")
            );
        }
    }
}

/// Product source files (relative to `src/`) outside the SQLite backend that name
/// `rusqlite`.
fn on_sqlite() -> BTreeSet<String> {
    sources()
        .into_iter()
        .filter(|(relative, source)| {
            let name = relative.to_string_lossy();
            let counted = module_of(relative).is_some() || name.starts_with("store/");
            counted && !name.starts_with("store/sqlite/") && product(source).contains("rusqlite")
        })
        .map(|(relative, _)| relative.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn only_the_sqlite_backend_names_sqlite() {
    let found = on_sqlite();
    assert!(
        found.is_empty(),
        "{found:?} name rusqlite: put the SQL behind the row traits of store/rows/ and \
         implement it in store/sqlite/"
    );
}

#[test]
fn a_cycle_is_found_and_named() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(m, us)| (m.to_string(), us.into_iter().map(String::from).collect()))
    .collect();
    let mut path = vec!["a".to_string()];
    let cycle = cycle_from(&graph, &mut path, &mut BTreeSet::new());
    assert_eq!(cycle.unwrap(), ["a", "b", "c"]);
    assert_eq!(
        uses("use crate::{Store, agent::X};\ncrate::id::f()"),
        ["agent", "id", "store"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}
