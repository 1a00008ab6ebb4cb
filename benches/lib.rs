//! Fixtures for the core benchmarks: a state database holding many sessions.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use switchboard_core::session::{self, EndStatus, NewSession};
use switchboard_core::{Settings, Store};

/// A seeded database and the sessions the benchmarks look up.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
    /// The deepest session of a 10-level chain (root + 9 descendants).
    pub deep_leaf: String,
    /// Ids of a sample of sessions, for prefix lookups.
    pub sample: Vec<String>,
    /// How long seeding took.
    pub seeded_in: Duration,
}

/// A fresh database with `n` sessions from 20 agents: every tenth is still active, the
/// rest have ended; one 10-level genealogy chain is included. Sessions are inserted
/// through the public API, one transaction each, as agents would.
pub fn seed(n: usize) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store =
        Store::open(&dir.path().join("state.db"), Settings::default()).expect("open store");
    let started = Instant::now();
    let mut sample = Vec::new();
    for i in 0..n.saturating_sub(10) {
        let s = session::start(
            &mut store,
            &NewSession {
                agent: format!("agent-{}", i % 20),
                intent: format!("task number {i}"),
                ..Default::default()
            },
        )
        .expect("start");
        if i % 10 != 0 {
            session::end(&mut store, &s.id, EndStatus::Completed, None, "bench").expect("end");
        }
        if i % (n / 100).max(1) == 0 {
            sample.push(s.id);
        }
    }
    let mut parent: Option<String> = None;
    for level in 0..10 {
        let s = session::start(
            &mut store,
            &NewSession {
                agent: "chain".into(),
                intent: format!("level {level}"),
                parent: parent.clone(),
                ..Default::default()
            },
        )
        .expect("chain");
        parent = Some(s.id);
    }
    Fixture {
        dir,
        store,
        deep_leaf: parent.unwrap_or_default(),
        sample,
        seeded_in: started.elapsed(),
    }
}
