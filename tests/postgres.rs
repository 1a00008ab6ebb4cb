//! The CLI on a PostgreSQL store: `doctor`, connection errors that keep the password to
//! themselves, and the migration path of the README (export from SQLite, import into
//! PostgreSQL, and back). Runs where the test server is configured (`scripts/test` starts
//! one).

use std::collections::BTreeSet;

use crate::common::{Backend, Repo};

/// The records of an export (its header, which holds the time of export, left out), as a
/// set: the backends agree on records, not always on their order within a kind.
fn records(export: &str) -> BTreeSet<String> {
    export
        .lines()
        .filter(|l| !l.contains("\"switchboard-export\""))
        .map(str::to_string)
        .collect()
}

/// `url` with `password` written into it (the test server's socket accepts any).
fn with_password(url: &str, password: &str) -> String {
    url.replacen(
        "postgresql://postgres@",
        &format!("postgresql://postgres:{password}@"),
        1,
    )
}

#[test]
fn doctor_names_postgresql_its_version_and_schema_and_never_the_password() {
    if !Backend::Postgres.available() {
        return;
    }
    let repo = Repo::on(Backend::Postgres);
    repo.cli(&["token", "create", "--agent", "bob"]);
    repo.send("ann", "bob", "hello");
    let url = repo.env()[0].1.to_string();
    let secret_url = with_password(&url, "s3cret-word");
    let out = repo.cli_in(&repo.path, &["--store", &secret_url, "doctor", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["backend"]
            .as_str()
            .unwrap()
            .starts_with("PostgreSQL 1"),
        "{report}"
    );
    assert_eq!(report["schema_version"], report["supported_schema_version"]);
    let store = report["state_db"].as_str().unwrap();
    assert!(
        store.starts_with("postgres://postgres@") && store.contains("(schema sb_test_"),
        "{store}"
    );
    assert!(
        !stdout.contains("s3cret") && !stderr.contains("s3cret"),
        "{stdout}{stderr}"
    );

    // A server that cannot be reached: the error says so, without the password.
    let refused = "postgres://ann:s3cret-word@127.0.0.1:9/nowhere";
    let out = repo.cli_in(&repo.path, &["--store", refused, "doctor"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot connect to the PostgreSQL store"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn a_repository_moves_from_sqlite_to_postgresql_and_back_with_every_record() {
    if !Backend::Postgres.available() {
        return;
    }
    let repo = Repo::on(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (embedded, back) = (file("embedded.db"), file("back.db"));
    // A lived-in SQLite store: agents, messages in two threads, a token.
    let sqlite = |args: &[&str]| {
        let mut all = vec!["--db", embedded.as_str()];
        all.extend_from_slice(args);
        repo.cli(&all)
    };
    sqlite(&["token", "create", "--agent", "bob"]);
    sqlite(&[
        "send",
        "--as",
        "ann",
        "--to",
        "bob",
        "--subject",
        "plan",
        "the parser first",
    ]);
    sqlite(&["send", "--as", "bob", "--to", "ann", "and the lexer"]);
    sqlite(&["export", "--to", &file("from-sqlite.jsonl")]);

    // Into PostgreSQL (a new store there), then out again into a new file.
    let imported = repo.cli(&["import", &file("from-sqlite.jsonl")]);
    assert!(
        imported.contains("imported") && imported.contains("(schema sb_test_"),
        "{imported}"
    );
    repo.cli(&["export", "--to", &file("from-postgres.jsonl")]);
    repo.cli(&["--db", &back, "import", &file("from-postgres.jsonl")]);
    repo.cli(&["--db", &back, "export", "--to", &file("back.jsonl")]);

    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let (first, second, third) = (
        records(&read("from-sqlite.jsonl")),
        records(&read("from-postgres.jsonl")),
        records(&read("back.jsonl")),
    );
    assert!(first.len() > 10, "{first:?}");
    assert_eq!(
        first, second,
        "PostgreSQL holds every record of the SQLite store"
    );
    assert_eq!(second, third, "and gives every one back");

    // A second import into the PostgreSQL store is refused: it holds records now.
    let again = repo.cli_in(&repo.path, &["import", &file("from-sqlite.jsonl")]);
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("--force"), "{said}");
}

#[test]
fn the_editor_companion_shows_a_postgresql_stores_state() {
    if !Backend::Postgres.available() {
        return;
    }
    let repo = Repo::on(Backend::Postgres);
    repo.cli(&["token", "create", "--agent", "bob"]);
    repo.send("human:ada", "bob", "please look at the parser");
    repo.send("bob", "human:ada", "on it");
    let state = repo.cli_json(&["lsp", "--check", "--human", "human:ada"]);
    let store = state["stateDb"].as_str().unwrap();
    assert!(store.starts_with("postgres://"), "{state}");
    assert_eq!(state["inbox"]["unread"], 1, "{state}");
    let recent = serde_json::to_string(&state["inbox"]["recent"]).unwrap();
    assert!(
        recent.contains("bob"),
        "the companion shows bob's reply: {state}"
    );
}
