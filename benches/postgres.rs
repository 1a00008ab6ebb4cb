//! The messaging harness on PostgreSQL: real `switchboard mcp` and `switchboard serve`
//! processes on one PostgreSQL store, as a team's hosts would run them. It starts its own
//! cluster (`scripts/postgres start --durable`: flushed to disk as a real one is, on a
//! Unix socket) and stops it at the end. Results go to `postgres.json`; see RESULTS.md.
//!
//! `cargo build --release && cargo bench -p switchboard-benches --bench postgres`
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::service::ClientLifecycleMode;
use serde_json::{Value, json};
use switchboard_benches::{
    binary, build_of, inbox_samples, listening_url, percentile, send_burst, wake_rounds,
};
use switchboard_core::{Settings, Store, StoreAddress};
use switchboard_mcp::client::AgentClient;

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres")
}

/// A durable PostgreSQL cluster of this run's own, stopped on drop.
struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(script())
            .arg("start")
            .arg(dir.path())
            .arg("--durable")
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "PostgreSQL did not start");
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Cluster { dir, url }
    }

    /// Runs `sql` with psql, returning what it prints (unaligned, tuples only).
    fn psql(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .args([
                &self.url,
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// A scratch repository whose store is repository `id` on the cluster.
struct Repo<'c> {
    dir: tempfile::TempDir,
    cluster: &'c Cluster,
    id: String,
}

impl<'c> Repo<'c> {
    fn new(cluster: &'c Cluster, id: &str) -> Repo<'c> {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(
            dir.path().join(".switchboard.toml"),
            format!("[repository]\nid = \"{id}\"\n"),
        )
        .unwrap();
        git(&["add", "."]);
        git(&[
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "-q",
            "-m",
            "first",
        ]);
        Repo {
            dir,
            cluster,
            id: id.to_string(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self) -> [(&str, &str); 1] {
        [("SWITCHBOARD_STORE", self.cluster.url.as_str())]
    }

    fn address(&self) -> StoreAddress {
        StoreAddress::postgres(&self.cluster.url, &self.id).unwrap()
    }

    /// `switchboard mcp --agent NAME` over stdio, with a session started.
    async fn agent(&self, bin: &Path, name: &str) -> AgentClient {
        let client = AgentClient::spawn(bin, &["mcp", "--agent", name], self.path(), &self.env())
            .await
            .unwrap();
        client
            .call_ok("session_start", json!({"intent": "benchmark"}))
            .await
            .unwrap();
        client
    }

    /// A token for `agent` (registering it).
    fn token(&self, bin: &Path, agent: &str) -> String {
        let out = Command::new(bin)
            .args(["token", "create", "--agent", agent])
            .current_dir(self.path())
            .envs(self.env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A `switchboard serve` daemon on 127.0.0.1 (any free port).
    fn serve(&self, bin: &Path) -> Daemon {
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(self.path())
            .envs(self.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = listening_url(&mut child);
        Daemon { child, url }
    }
}

/// A `switchboard serve` process, killed when dropped.
struct Daemon {
    child: Child,
    url: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An agent over HTTP through `daemon`, with a session started.
async fn http_agent(daemon: &Daemon, token: &str) -> AgentClient {
    let client = AgentClient::http(&daemon.url, token, ClientLifecycleMode::Initialize)
        .await
        .unwrap();
    client
        .call_ok("session_start", json!({"intent": "benchmark"}))
        .await
        .unwrap();
    client
}

/// Send latency between two stdio processes, one call at a time.
async fn send_latency(bin: &Path, cluster: &Cluster) -> Value {
    let repo = Repo::new(cluster, "bench-send");
    let sender = repo.agent(bin, "sender").await;
    let _receiver = repo.agent(bin, "receiver").await;
    let send = |i: usize| {
        sender.call_ok(
            "message_send",
            json!({"to": ["receiver"], "body": format!("m{i}")}),
        )
    };
    for i in 0..50 {
        send(i).await.unwrap();
    }
    let mut samples = Vec::new();
    for i in 0..1000 {
        let started = Instant::now();
        send(i).await.unwrap();
        samples.push(started.elapsed());
    }
    samples.sort();
    json!({"samples": samples.len(), "p50_us": micros(percentile(&samples, 0.5)),
           "p99_us": micros(percentile(&samples, 0.99))})
}

/// Messages per second when 16 agents send at once over HTTP (each one call at a time),
/// spread over `daemons` `switchboard serve` processes.
async fn throughput(bin: &Path, cluster: &Cluster, daemons: usize) -> Value {
    const AGENTS: usize = 16;
    const TOTAL: usize = 4000;
    let repo = Repo::new(cluster, &format!("bench-throughput-{daemons}"));
    repo.token(bin, "sink");
    let served: Vec<Daemon> = (0..daemons).map(|_| repo.serve(bin)).collect();
    let mut clients = Vec::new();
    for i in 0..AGENTS {
        let token = repo.token(bin, &format!("p{i}"));
        clients.push(Arc::new(http_agent(&served[i % daemons], &token).await));
    }
    let (sent, seconds) = send_burst(&clients, TOTAL / AGENTS, "sink").await;
    json!({"daemons": daemons, "agents": AGENTS, "messages": sent, "seconds": seconds,
           "per_second": sent as f64 / seconds})
}

/// From issuing a send through one daemon to a waiter on another daemon returning: over
/// HTTP through two `switchboard serve` daemons (`http`), or between two stdio
/// `switchboard mcp` processes.
async fn cross_daemon_wake(bin: &Path, cluster: &Cluster, http: bool) -> Value {
    let repo = Repo::new(cluster, &format!("bench-wake-{http}"));
    let (_first, _second, waiter, sender);
    if http {
        let (waiter_token, sender_token) = (repo.token(bin, "waiter"), repo.token(bin, "sender"));
        (_first, _second) = (Some(repo.serve(bin)), Some(repo.serve(bin)));
        let first = _first.as_ref().unwrap();
        waiter = Arc::new(http_agent(first, &waiter_token).await);
        sender = http_agent(_second.as_ref().unwrap(), &sender_token).await;
    } else {
        (_first, _second) = (None, None);
        waiter = Arc::new(repo.agent(bin, "waiter").await);
        sender = repo.agent(bin, "sender").await;
    }
    let samples = wake_rounds(waiter, &sender, 300).await;
    json!({"transport": if http { "http" } else { "stdio" }, "samples": samples.len(),
           "p50_us": micros(percentile(&samples, 0.5)), "p99_us": micros(percentile(&samples, 0.99))})
}

/// Reading one agent's inbox (first page, unread first) in a store of `messages` messages
/// among 20 agents (9 in 10 read), seeded in SQL with the rows `message::send` writes.
fn inbox_latency(cluster: &Cluster, messages: usize) -> Value {
    let repo = Repo::new(cluster, &format!("bench-inbox-{messages}"));
    let mut store = Store::open_at(&repo.address(), Settings::default()).unwrap();
    let schema = cluster.psql(&format!(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sb_bench_inbox_{messages}\\_%'"
    ));
    let seeding = Instant::now();
    cluster.psql(&format!(
        "SET search_path TO \"{schema}\";
         SET session_replication_role = replica;
         INSERT INTO agents (name, kind, registered_at, last_seen_at)
             SELECT 'a' || g, 'agent', 0, 0 FROM generate_series(0, 19) g;
         INSERT INTO threads (id, subject, created_by, created_at, last_message_at)
             VALUES ('thr_BENCH', 'bench', 'a0', 0, 0);
         INSERT INTO messages (id, thread_id, author, addressed_to, body, priority, created_at)
             SELECT 'msg_BENCH' || lpad(i::text, 12, '0'), 'thr_BENCH', 'a' || (i % 20), '[]',
                    'benchmark message number ' || i, 1, i
             FROM generate_series(0, {last}) i;
         INSERT INTO deliveries (recipient, message_seq, delivered_at, read_at)
             SELECT 'a' || ((created_at + 1) % 20), seq, created_at,
                    CASE WHEN created_at % 10 <> 0 THEN created_at END
             FROM messages;
         UPDATE agents a SET unread = (SELECT COUNT(*) FROM deliveries d
             WHERE d.recipient = a.name AND d.read_at IS NULL);
         ANALYZE;",
        last = messages - 1
    ));
    let seeded = seeding.elapsed();
    let samples = inbox_samples(&mut store);
    json!({"messages": messages, "seed_seconds": seeded.as_secs_f64(),
           "p50_us": micros(percentile(&samples, 0.5)), "p99_us": micros(percentile(&samples, 0.99))})
}

fn main() {
    let bin = binary();
    let cluster = Cluster::start();
    let version = cluster.psql("SHOW server_version");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |part: &str| wanted.is_empty() || wanted.iter().any(|w| w == part);
    let mut results = serde_json::Map::new();
    results.insert("postgresql".into(), json!(version));
    results.insert("build".into(), json!(build_of(&bin)));
    if run("send") {
        let send = runtime.block_on(send_latency(&bin, &cluster));
        println!("stdio send latency: {send}");
        results.insert("send_latency".into(), send);
    }
    if run("throughput") {
        let rates: Vec<Value> = [1, 2]
            .into_iter()
            .map(|daemons| runtime.block_on(throughput(&bin, &cluster, daemons)))
            .collect();
        for r in &rates {
            println!("throughput: {r}");
        }
        results.insert("throughput".into(), Value::Array(rates));
    }
    if run("wake") {
        let wakes: Vec<Value> = [false, true]
            .into_iter()
            .map(|http| runtime.block_on(cross_daemon_wake(&bin, &cluster, http)))
            .collect();
        for w in &wakes {
            println!("cross-process wake-up: {w}");
        }
        results.insert("cross_daemon_wake".into(), Value::Array(wakes));
    }
    if run("inbox") {
        let inbox: Vec<Value> = [10_000, 1_000_000]
            .into_iter()
            .map(|n| inbox_latency(&cluster, n))
            .collect();
        for i in &inbox {
            println!("inbox read: {i}");
        }
        results.insert("inbox_read".into(), Value::Array(inbox));
    }
    if !wanted.is_empty() {
        return;
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("postgres.json");
    let text = serde_json::to_string_pretty(&Value::Object(results)).unwrap();
    std::fs::write(&out, text + "\n").unwrap();
    println!("wrote {}", out.display());
}
