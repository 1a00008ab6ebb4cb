//! Core benchmarks on a database holding 100,000 sessions. Figures go to benches/RESULTS.md.
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_benches::seed;
use switchboard_core::session::{self, Filter, NewSession, Status};

const SESSIONS: usize = 100_000;

fn core(c: &mut Criterion) {
    let mut f = seed(SESSIONS);
    eprintln!("seeded {SESSIONS} sessions in {:.1?}", f.seeded_in);
    let store = &mut f.store;

    c.bench_function("session_insert (100k sessions)", |b| {
        let new = NewSession {
            agent: "bench".into(),
            intent: "insert benchmark".into(),
            ..Default::default()
        };
        b.iter(|| session::start(store, &new).expect("insert"));
    });

    c.bench_function("list_by_status completed, 50 (100k sessions)", |b| {
        let filter = Filter {
            status: Some(Status::Completed),
            ..Default::default()
        };
        b.iter(|| session::list(store, &filter).expect("list"));
    });

    c.bench_function("list live, 50 (100k sessions)", |b| {
        let filter = Filter {
            live_only: true,
            ..Default::default()
        };
        b.iter(|| session::list(store, &filter).expect("list"));
    });

    let leaf = f.deep_leaf.clone();
    c.bench_function("tree of a 10-level genealogy (100k sessions)", |b| {
        b.iter(|| {
            let t = session::tree(store, &leaf, None).expect("tree");
            assert_eq!(t.nodes.len(), 10);
        });
    });

    let prefixes: Vec<String> = f
        .sample
        .iter()
        .map(|id| id[..id.len() - 8].to_string())
        .collect();
    c.bench_function("short-prefix lookup (100k sessions)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % prefixes.len();
            session::get(store, &prefixes[i]).expect("lookup")
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3));
    targets = core
}
criterion_main!(benches);
