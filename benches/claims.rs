//! Claims (issue 16): what the pre-commit guard pays to check a commit against the claims
//! in force (the check alone, and the whole `switchboard guard pre-commit` process as git
//! runs it), and claim queries with many claims. Criterion; figures go to RESULTS.md.
//!
//! `cargo build --release && cargo bench -p switchboard-benches --bench claims`
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use std::path::Path;
use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_core::claim::{self, ClaimRequest, Claimant};
use switchboard_core::{Settings, Store};

/// A store holding `n` exclusive claims, each by a person of its own on a module of its
/// own, in four shapes: `src/mI/**`, `src/mI/*.rs`, `docs/dI/` and `src/mI/lib.rs`.
fn store_with_claims(n: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = claimed_store(&dir.path().join("state.db"), n);
    (dir, store)
}

/// The store at `db` (made if missing) with `n` claims as [`store_with_claims`] makes them.
fn claimed_store(db: &Path, n: usize) -> Store {
    let mut store = Store::open(db, Settings::default()).unwrap();
    for i in 0..n {
        let pattern = match i % 4 {
            0 => format!("src/m{i}/**"),
            1 => format!("src/m{i}/*.rs"),
            2 => format!("docs/d{i}/"),
            _ => format!("src/m{i}/lib.rs"),
        };
        let holder = format!("human:h{i}");
        let claimant = Claimant {
            actor: &holder,
            session: None,
        };
        let request = ClaimRequest {
            patterns: vec![pattern],
            reason: "benchmark".into(),
            ..Default::default()
        };
        claim::claim(&mut store, &claimant, &request).unwrap();
    }
    store
}

/// A repository with 10,000 new files staged in 200 modules (`src/mI/fJ.rs`), its state
/// database (where the CLI finds it) holding 100 claims of others.
fn staged_repository() -> switchboard_testutils::ScratchRepo {
    let repo = switchboard_testutils::ScratchRepo::new();
    for i in 0..10_000 {
        let file = repo.path().join(format!("src/m{}/f{i}.rs", i % 200));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, format!("// {i}\n")).unwrap();
    }
    repo.git(&["add", "-A"]);
    let db = repo.path().join(".git/switchboard/state.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    drop(claimed_store(&db, 100));
    repo
}

/// Runs `program ARGS` in `dir` and returns its exit code (output discarded).
fn run(program: &Path, args: &[&str], dir: &Path) -> Option<i32> {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .code()
}

fn claims(c: &mut Criterion) {
    let committer = Claimant {
        actor: "human:committer",
        session: None,
    };
    let (_dir, mut store) = store_with_claims(100);
    let paths: Vec<String> = (0..10_000)
        .map(|i| format!("src/m{}/f{i}.rs", i % 200))
        .collect();
    c.bench_function("guard check: 10,000 staged files, 100 claims", |b| {
        b.iter(|| claim::check(&mut store, &paths, Some(&committer)).unwrap());
    });

    let (_dir, mut store) = store_with_claims(1_000);
    c.bench_function("claims_on one path, 1,000 claims", |b| {
        b.iter(|| claim::claims_on(&mut store, "src/m4/lexer.rs").unwrap());
    });
    c.bench_function("list claims in force, 1,000 claims", |b| {
        b.iter(|| claim::list(&mut store, false).unwrap());
    });
    let overlapping = ClaimRequest {
        patterns: vec!["src/**".into()],
        reason: "a refactoring".into(),
        ..Default::default()
    };
    c.bench_function("claim refused by overlap, 1,000 claims", |b| {
        b.iter(|| claim::claim(&mut store, &committer, &overlapping).unwrap_err());
    });
}

/// The whole guard as git runs it: process start, `git diff --cached`, opening the store,
/// the check and the refusal (the claims cover some of the files), beside `git diff
/// --cached` alone.
fn guard_process(c: &mut Criterion) {
    let bin = switchboard_benches::binary();
    let repo = staged_repository();
    let dir = repo.path();
    assert_eq!(
        run(&bin, &["guard", "pre-commit"], dir),
        Some(1),
        "the guard refuses this commit"
    );
    c.bench_function(
        "guard pre-commit process: 10,000 staged files, 100 claims",
        |b| b.iter(|| run(&bin, &["guard", "pre-commit"], dir)),
    );
    let git = Path::new("git");
    let list = ["diff", "--cached", "--name-only", "-z", "--no-renames"];
    c.bench_function("git diff --cached alone: 10,000 staged files", |b| {
        b.iter(|| run(git, &list, dir))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = claims, guard_process
}
criterion_main!(benches);
