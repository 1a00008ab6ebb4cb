//! Claims (issue 16): what the pre-commit guard pays to check a commit against the claims
//! in force, and claim queries with many claims. Criterion; figures go to RESULTS.md.
//!
//! `cargo bench -p switchboard-benches --bench claims`
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_core::claim::{self, ClaimRequest, Claimant};
use switchboard_core::{Settings, Store};

/// A store holding `n` exclusive claims, each by a person of its own on a module of its
/// own, in four shapes: `src/mI/**`, `src/mI/*.rs`, `docs/dI/` and `src/mI/lib.rs`.
fn store_with_claims(n: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db"), Settings::default()).unwrap();
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
    (dir, store)
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = claims
}
criterion_main!(benches);
