//! `schemas/` and the README tool table are generated from the code and must be current.

use std::collections::BTreeSet;
use std::path::Path;

use switchboard_mcp::reference;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn schemas_are_current() {
    let root = Path::new(ROOT).join("schemas");
    let wanted = reference::schema_files();
    for (rel, text) in &wanted {
        let on_disk = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        assert!(
            on_disk == *text,
            "schemas/{rel} is stale: run `cargo run -- schemas`"
        );
    }
    let mut present = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("mcp")).unwrap() {
        present.insert(format!(
            "mcp/{}",
            entry.unwrap().file_name().to_string_lossy()
        ));
    }
    let expected: BTreeSet<String> = wanted.keys().cloned().collect();
    assert_eq!(
        present, expected,
        "schemas/mcp has files the code no longer makes: run `cargo run -- schemas`"
    );
}

#[test]
fn lsp_schemas_are_current() {
    let root = Path::new(ROOT).join("schemas/lsp");
    let wanted = switchboard_lsp::protocol::schema_files();
    for (rel, text) in &wanted {
        let on_disk = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        assert!(
            on_disk == *text,
            "schemas/lsp/{rel} is stale: run `cargo run -- schemas`"
        );
    }
    let present: BTreeSet<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = wanted.keys().cloned().collect();
    assert_eq!(
        present, expected,
        "schemas/lsp has files the code no longer makes: run `cargo run -- schemas`"
    );
}

#[test]
fn readme_tool_table_is_current() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let fresh = reference::refresh_readme(&readme)
        .expect("README.md lacks the generated tool table markers");
    assert!(
        fresh == readme,
        "README.md's tool table is stale: run `cargo run -- schemas`"
    );
}

#[test]
fn schemas_check_command_agrees() {
    let out = std::process::Command::new(crate::common::bin())
        .args(["schemas", "--check", "--root", ROOT])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
