//! Process-level messaging benchmarks: real `switchboard mcp` processes over stdio, and
//! inbox reads on large databases. Prints a table and writes `benches/messaging.json`.
//!
//! Needs the release binary: `cargo build --release && cargo bench -p switchboard-benches
//! --bench messaging` (or set SWITCHBOARD_BIN).
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_benches::{
    agent, agent_with, binary, inbox_samples, listening_url, percentile, send_burst, wake_rounds,
};
use switchboard_core::{Settings, Store};

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// 200 sends to "receiver" before measuring (caches, statements, the WAL).
async fn warm_up(sender: &switchboard_mcp::client::AgentClient) {
    for _ in 0..200 {
        sender
            .call_ok(
                "message_send",
                json!({"to": ["receiver"], "body": "warm-up"}),
            )
            .await
            .unwrap();
    }
}

/// The round-trip times of 2,000 sends to "receiver", one call at a time.
async fn timed_sends(sender: &switchboard_mcp::client::AgentClient) -> Vec<Duration> {
    let mut samples = Vec::new();
    for i in 0..2000 {
        let started = Instant::now();
        sender
            .call_ok(
                "message_send",
                json!({"to": ["receiver"], "body": format!("message {i}")}),
            )
            .await
            .unwrap();
        samples.push(started.elapsed());
    }
    samples
}

/// Round-trip latency of `message_send` through real stdio, one call at a time, and the
/// CPU the sending server and the receiving (idle) server spend per send.
async fn send_latency(bin: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let sender = agent(bin, dir.path(), "sender").await;
    let receiver = agent(bin, dir.path(), "receiver").await;
    let pids = [sender.server_pid.unwrap(), receiver.server_pid.unwrap()];
    warm_up(&sender).await;
    let cpu_before = pids.map(cpu_seconds);
    let mut samples = timed_sends(&sender).await;
    let sends = samples.len() as f64;
    let per_send = |i: usize| (cpu_seconds(pids[i]) - cpu_before[i]) * 1e6 / sends;
    samples.sort();
    json!({"samples": samples.len(), "p50_us": micros(percentile(&samples, 0.5)), "p99_us": micros(percentile(&samples, 0.99)),
           "sender_cpu_us_per_send": per_send(0), "receiver_cpu_us_per_send": per_send(1)})
}

/// A `switchboard serve` process on the database in `dir`, killed when dropped.
struct Served {
    child: std::process::Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `switchboard serve` on 127.0.0.1 (any free port) over the database in `dir`.
fn serve(bin: &Path, dir: &Path) -> Served {
    let db = dir.join("state.db");
    let mut child = std::process::Command::new(bin)
        .args([
            "--db",
            db.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let url = listening_url(&mut child);
    Served { child, url }
}

/// A token for `agent` (registering it) on the database in `dir`.
fn token(bin: &Path, dir: &Path, agent: &str) -> String {
    let db = dir.join("state.db");
    let out = std::process::Command::new(bin)
        .args([
            "--db",
            db.to_str().unwrap(),
            "token",
            "create",
            "--agent",
            agent,
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// [`send_latency`] over streamable HTTP: one agent with a token sends through a
/// `switchboard serve` process, one call at a time; the server's CPU per send.
async fn http_send(bin: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let sender_token = token(bin, dir.path(), "sender");
    token(bin, dir.path(), "receiver");
    let served = serve(bin, dir.path());
    let lifecycle = rmcp::service::ClientLifecycleMode::Discover {
        preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
    };
    let sender = switchboard_mcp::client::AgentClient::http(&served.url, &sender_token, lifecycle)
        .await
        .unwrap();
    sender
        .call_ok("session_start", json!({"intent": "benchmark"}))
        .await
        .unwrap();
    warm_up(&sender).await;
    let pid = served.child.id();
    let cpu_before = cpu_seconds(pid);
    let mut samples = timed_sends(&sender).await;
    let per_send = (cpu_seconds(pid) - cpu_before) * 1e6 / samples.len() as f64;
    samples.sort();
    json!({"samples": samples.len(), "p50_us": micros(percentile(&samples, 0.5)),
           "p99_us": micros(percentile(&samples, 0.99)), "server_cpu_us_per_send": per_send})
}

/// Messages per second when `processes` agents send at once (each one call at a time),
/// each server started with `args` (`--channel` makes every one of them follow every
/// commit, as a Claude Code session with channel pushes does).
async fn throughput(bin: &Path, processes: usize, total: usize, args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut clients = Vec::new();
    for i in 0..processes {
        clients.push(Arc::new(
            agent_with(bin, dir.path(), &format!("p{i}"), args).await,
        ));
    }
    let _sink = agent(bin, dir.path(), "sink").await;
    let (sent, seconds) = send_burst(&clients, total / processes, "sink").await;
    json!({"processes": processes, "server_args": args, "messages": sent, "seconds": seconds,
           "per_second": sent as f64 / seconds})
}

/// Time from issuing a send in one process to a waiter in another process returning.
async fn wake_latency(bin: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let waiter = Arc::new(agent(bin, dir.path(), "waiter").await);
    let sender = agent(bin, dir.path(), "sender").await;
    let samples = wake_rounds(waiter, &sender, 300).await;
    json!({"samples": samples.len(), "p50_us": micros(percentile(&samples, 0.5)), "p99_us": micros(percentile(&samples, 0.99))})
}

/// Fills a database with `messages` messages among 20 agents (9 in 10 read), in one
/// transaction of plain inserts: the same rows `message::send` writes.
fn seed_messages(path: &Path, messages: usize) {
    let store = Store::open(path, Settings::default()).unwrap();
    drop(store);
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    for a in 0..20 {
        tx.execute("INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES (?1, 'agent', 0, 0)", [format!("a{a}")]).unwrap();
    }
    tx.execute("INSERT INTO threads (id, subject, created_by, created_at, last_message_at) VALUES ('thr_BENCH', 'bench', 'a0', 0, 0)", []).unwrap();
    {
        let mut msg = tx.prepare(
            "INSERT INTO messages (id, thread_id, author, addressed_to, body, priority, created_at) VALUES (?1, 'thr_BENCH', ?2, '[]', ?3, 1, ?4)",
        ).unwrap();
        let mut delivery = tx.prepare(
            "INSERT INTO deliveries (recipient, message_seq, delivered_at, read_at) VALUES (?1, ?2, ?3, ?4)",
        ).unwrap();
        for i in 0..messages {
            let author = format!("a{}", i % 20);
            let recipient = format!("a{}", (i + 1) % 20);
            msg.execute(rusqlite::params![
                format!("msg_BENCH{i:012}"),
                author,
                format!("benchmark message number {i}"),
                i as i64
            ])
            .unwrap();
            let seq = tx.last_insert_rowid();
            let read_at: Option<i64> = (i % 10 != 0).then_some(i as i64);
            delivery
                .execute(rusqlite::params![recipient, seq, i as i64, read_at])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Latency of reading one agent's inbox (first page, unread first) at a database size.
fn inbox_latency(messages: usize) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let seeding = Instant::now();
    seed_messages(&path, messages);
    let seeded = seeding.elapsed();
    let mut store = Store::open(&path, Settings::default()).unwrap();
    let samples = inbox_samples(&mut store);
    json!({"messages": messages, "seed_seconds": seeded.as_secs_f64(),
           "p50_us": micros(percentile(&samples, 0.5)), "p99_us": micros(percentile(&samples, 0.99))})
}

/// CPU seconds (user + system) a process has used, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU an idle `switchboard mcp` process uses (session started, nothing happening), over
/// 10 s, in percent of one core: what each waiting agent costs the machine.
async fn idle_mcp(bin: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let idle = agent(bin, dir.path(), "idle").await;
    let pid = idle.server_pid.expect("a spawned server has a pid");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = cpu_seconds(pid);
    let span = Duration::from_secs(10);
    tokio::time::sleep(span).await;
    let cpu = (cpu_seconds(pid) - before) / span.as_secs_f64() * 100.0;
    json!({"seconds": span.as_secs(), "idle_cpu_percent": cpu})
}

/// The editor companion: change-to-push latency from an MCP process write, and its idle
/// CPU and memory on a database with 50 sessions and 100k messages.
async fn lsp(bin: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    seed_messages(&db, 100_000);
    {
        let mut store = Store::open(&db, Settings::default()).unwrap();
        for i in 0..50 {
            switchboard_core::session::start(
                &mut store,
                &switchboard_core::session::NewSession {
                    agent: format!("a{}", i % 20),
                    intent: format!("session {i}"),
                    ..Default::default()
                },
            )
            .unwrap();
        }
    }
    let mut child = tokio::process::Command::new(bin)
        .args([
            "--db",
            db.to_str().unwrap(),
            "lsp",
            "--human",
            "human:bench",
        ])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let editor = switchboard_lsp::client::LspClient::new(
        child.stdout.take().unwrap(),
        child.stdin.take().unwrap(),
    );
    editor.initialize(dir.path()).await.unwrap();
    editor
        .request("switchboard/state", json!({}))
        .await
        .unwrap();
    let sender = agent(bin, dir.path(), "sender").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    editor.drain("switchboard/stateChanged");
    let mut samples = Vec::new();
    for i in 0..200 {
        tokio::time::sleep(Duration::from_millis(70)).await;
        editor.drain("switchboard/stateChanged");
        let issued = Instant::now();
        sender
            .call_ok(
                "message_send",
                json!({"to": ["human:bench"], "body": format!("push {i}")}),
            )
            .await
            .unwrap();
        editor
            .wait_for("switchboard/stateChanged", Duration::from_secs(5), |_| true)
            .await
            .expect("no push");
        samples.push(issued.elapsed());
    }
    samples.sort();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_before = cpu_seconds(pid);
    let idle = Duration::from_secs(10);
    tokio::time::sleep(idle).await;
    let cpu = (cpu_seconds(pid) - cpu_before) / idle.as_secs_f64() * 100.0;
    json!({"sessions": 50, "messages": 100_000, "push_p50_us": micros(percentile(&samples, 0.5)),
           "push_p99_us": micros(percentile(&samples, 0.99)), "idle_cpu_percent": cpu, "rss_kib": rss_kib(pid)})
}

fn main() {
    let bin = binary();
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first (or set SWITCHBOARD_BIN)",
        bin.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // `cargo bench --bench messaging -- send wake` runs only those parts.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |part: &str| wanted.is_empty() || wanted.iter().any(|w| w == part);
    let mut results = serde_json::Map::new();
    if run("send") {
        let send = runtime.block_on(send_latency(&bin));
        println!("stdio send latency: {send}");
        results.insert("send_latency".into(), send);
    }
    if run("http") {
        let http = runtime.block_on(http_send(&bin));
        println!("http send latency: {http}");
        results.insert("http_send".into(), http);
    }
    if run("throughput") {
        let rates: Vec<Value> = [(1, &[][..]), (4, &[]), (16, &[]), (16, &["--channel"])]
            .into_iter()
            .map(|(p, args)| runtime.block_on(throughput(&bin, p, 4000, args)))
            .collect();
        for r in &rates {
            println!("throughput: {r}");
        }
        results.insert("throughput".into(), Value::Array(rates));
    }
    if run("wake") {
        let wake = runtime.block_on(wake_latency(&bin));
        println!("cross-process wake-up: {wake}");
        results.insert("wake_latency".into(), wake);
    }
    if run("idle") {
        let idle = runtime.block_on(idle_mcp(&bin));
        println!("idle mcp process: {idle}");
        results.insert("idle_mcp".into(), idle);
    }
    if run("inbox") {
        let inbox: Vec<Value> = [10_000, 100_000, 1_000_000]
            .into_iter()
            .map(inbox_latency)
            .collect();
        for i in &inbox {
            println!("inbox read: {i}");
        }
        results.insert("inbox_read".into(), Value::Array(inbox));
    }
    if run("lsp") {
        let lsp = runtime.block_on(lsp(&bin));
        println!("lsp companion: {lsp}");
        results.insert("lsp".into(), lsp);
    }
    if !wanted.is_empty() {
        return;
    }
    let results = Value::Object(results);
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("messaging.json");
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap() + "\n").unwrap();
    println!("wrote {}", out.display());
}
