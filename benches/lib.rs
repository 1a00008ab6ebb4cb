//! Fixtures for the core benchmarks: a state database holding many sessions.
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use switchboard_core::session::{self, EndStatus, NewSession};
use switchboard_core::{Settings, Store};

/// A seeded database and the sessions the benchmarks look up.
pub struct Fixture {
    /// Temporary folder holding `state.db`; deleted when the fixture is dropped.
    pub dir: tempfile::TempDir,
    /// An open connection to the seeded database (default settings).
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
            session::end(
                &mut store,
                &s.id,
                &session::EndRequest::with(EndStatus::Completed),
                "bench",
            )
            .expect("end");
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

/// The `switchboard` binary the process-level benchmarks drive: `SWITCHBOARD_BIN`, else the
/// release build (asserted to exist).
pub fn binary() -> PathBuf {
    let bin = std::env::var_os("SWITCHBOARD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/switchboard")
        });
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first (or set SWITCHBOARD_BIN)",
        bin.display()
    );
    bin
}

/// Which build `bin` is, for the record: `release`, `debug` or its path.
pub fn build_of(bin: &Path) -> String {
    let profile = bin.parent().and_then(Path::file_name);
    match profile.and_then(|p| p.to_str()) {
        Some(p @ ("release" | "debug")) => p.to_string(),
        _ => bin.display().to_string(),
    }
}

/// The `p` quantile (0–1) of `sorted` samples, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// A real `switchboard mcp --agent NAME` process over stdio on the state database in `dir`,
/// with a session started.
pub async fn agent(bin: &Path, dir: &Path, name: &str) -> switchboard_mcp::client::AgentClient {
    agent_with(bin, dir, name, &[]).await
}

/// [`agent`] with more arguments for `switchboard mcp` (`--channel`, …).
pub async fn agent_with(
    bin: &Path,
    dir: &Path,
    name: &str,
    more: &[&str],
) -> switchboard_mcp::client::AgentClient {
    let db = dir.join("state.db");
    let mut args = vec!["--db", db.to_str().unwrap(), "mcp", "--agent", name];
    args.extend_from_slice(more);
    let client = switchboard_mcp::client::AgentClient::spawn(bin, &args, dir, &[])
        .await
        .expect("start switchboard mcp");
    client
        .call_ok("session_start", serde_json::json!({"intent": "benchmark"}))
        .await
        .expect("session_start");
    client
}

/// Wake-up rounds: `waiter` (an agent named `waiter`) starts `message_wait`, and 20 ms
/// later `sender` sends it a message; each sample is the time from issuing the send to
/// the wait returning with it, sorted.
pub async fn wake_rounds(
    waiter: std::sync::Arc<switchboard_mcp::client::AgentClient>,
    sender: &switchboard_mcp::client::AgentClient,
    rounds: usize,
) -> Vec<Duration> {
    let mut samples = Vec::new();
    for i in 0..rounds {
        let w = waiter.clone();
        let wait = tokio::spawn(async move {
            let out = w
                .call_ok("message_wait", serde_json::json!({"timeout_secs": 30}))
                .await
                .unwrap();
            (Instant::now(), out)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let issued = Instant::now();
        let body = format!("wake {i}");
        let sent = sender
            .call_ok(
                "message_send",
                serde_json::json!({"to": ["waiter"], "body": body}),
            )
            .await
            .unwrap();
        let (woke_at, out) = wait.await.unwrap();
        assert_eq!(out["messages"][0]["id"], sent["id"]);
        samples.push(woke_at - issued);
    }
    samples.sort();
    samples
}

/// Sends/s when every one of `clients` sends `per` messages to `to`, one call at a time
/// each, all at once; returns the messages sent and the seconds it took.
pub async fn send_burst(
    clients: &[std::sync::Arc<switchboard_mcp::client::AgentClient>],
    per: usize,
    to: &str,
) -> (usize, f64) {
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let (c, to) = (c.clone(), to.to_string());
            tokio::spawn(async move {
                for k in 0..per {
                    let body = format!("m{k}");
                    c.call_ok(
                        "message_send",
                        serde_json::json!({"to": [to], "body": body}),
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (per * clients.len(), started.elapsed().as_secs_f64())
}

/// Times 2,000 reads of agent `a1`'s inbox (its first page, which must hold 20 messages)
/// after 100 to warm up; sorted.
pub fn inbox_samples(store: &mut Store) -> Vec<Duration> {
    use switchboard_core::message::{self, InboxFilter};
    let filter = InboxFilter::default();
    for _ in 0..100 {
        message::inbox(store, "a1", &filter).unwrap();
    }
    let mut samples = Vec::new();
    for _ in 0..2000 {
        let started = Instant::now();
        let page = message::inbox(store, "a1", &filter).unwrap();
        samples.push(started.elapsed());
        assert_eq!(page.messages.len(), 20);
    }
    samples.sort();
    samples
}

/// The URL a `switchboard serve` child announces on the first line of its standard
/// output (taken from it, so it must be piped).
pub fn listening_url(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("switchboard serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string()
}
