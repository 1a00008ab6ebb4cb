//! Load: 16 real `switchboard mcp` processes send 1,000 messages each (one call at a time per
//! process, all processes at once) while 4 waiter processes sit in `message_wait` loops and
//! receive them. Send k of sender i goes to the waiters in the non-empty subset
//! `(i × 1,000 + k) mod 15 + 1` (a 4-bit mask), so every subset of the waiters is addressed and
//! each waiter knows exactly which messages it must get. Checks that every acknowledged send
//! reached each of its waiters exactly once, through the waits alone; counts failed calls;
//! measures send round trips, send → wake lag and the total time. Two comparison parts
//! run the same sends with waiters that also mark what they got read (`wait-and-read`)
//! and with nobody waiting (`idle`). Prints the figures and writes `benches/load.json`.
//!
//! `cargo build --release && cargo bench -p switchboard-benches --bench load` (or set
//! SWITCHBOARD_BIN; `-- wait` runs one part; SWITCHBOARD_LOAD_SENDS changes the sends per
//! process, for a smoke run).
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_benches::{agent, binary, build_of, percentile};
use switchboard_mcp::client::AgentClient;

const SENDERS: usize = 16;
const WAITERS: usize = 4;
const DEFAULT_SENDS: usize = 1_000;
/// A waiter gives up this long after the senders finished without its messages arriving.
const GIVE_UP: Duration = Duration::from_secs(60);

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The waiters send `number` of sender `sender` goes to.
fn recipients(sender: usize, number: usize, per_sender: usize) -> Vec<usize> {
    let mask = (sender * per_sender + number) % 15 + 1;
    (0..WAITERS).filter(|w| mask & (1 << w) != 0).collect()
}

/// What one sender did: (message id, its waiters, when the send was issued) per
/// acknowledged send, round-trip times, and failures.
#[derive(Default)]
struct Sent {
    acknowledged: Vec<(String, Vec<usize>, Instant)>,
    latencies: Vec<Duration>,
    failed: Vec<String>,
}

/// What one waiter received: (message id, when its wait returned), and failures.
#[derive(Default)]
struct Received {
    messages: Vec<(String, Instant)>,
    waits: usize,
    failed: Vec<String>,
}

async fn send_all(client: Arc<AgentClient>, sender: usize, per_sender: usize) -> Sent {
    let mut sent = Sent::default();
    for k in 0..per_sender {
        let waiters = recipients(sender, k, per_sender);
        let to: Vec<String> = waiters.iter().map(|w| format!("w{w}")).collect();
        let issued = Instant::now();
        let outcome = client
            .call(
                "message_send",
                json!({"to": to, "body": format!("load {sender}:{k}")}),
            )
            .await;
        sent.latencies.push(issued.elapsed());
        match outcome {
            Ok(out) if !out.is_error => {
                let id = out.structured.as_ref().and_then(|s| s["id"].as_str());
                match id {
                    Some(id) => sent.acknowledged.push((id.to_string(), waiters, issued)),
                    None => sent
                        .failed
                        .push(format!("s{sender} #{k}: no id: {}", out.text)),
                }
            }
            Ok(out) => sent.failed.push(format!("s{sender} #{k}: {}", out.text)),
            Err(e) => sent.failed.push(format!("s{sender} #{k}: {e}")),
        }
    }
    sent
}

/// What the 4 waiter processes do while the senders send.
#[derive(Clone, Copy, PartialEq)]
enum Waiters {
    /// `message_wait` in a loop (the measurement asked for).
    Wait,
    /// `message_wait` in a loop, marking what each wait returned read (`message_read`), so
    /// their unread inboxes stay small.
    WaitAndRead,
    /// Nothing: their servers run, nobody waits (the senders' baseline).
    Idle,
}

impl Waiters {
    fn name(self) -> &'static str {
        match self {
            Waiters::Wait => "wait",
            Waiters::WaitAndRead => "wait-and-read",
            Waiters::Idle => "idle",
        }
    }
}

async fn receive_all(
    client: Arc<AgentClient>,
    expected: usize,
    done: Arc<AtomicBool>,
    read: bool,
) -> Received {
    let mut got = Received::default();
    let mut done_at: Option<Instant> = None;
    while got.messages.len() < expected {
        if done.load(Ordering::SeqCst) {
            let since = *done_at.get_or_insert_with(Instant::now);
            if since.elapsed() > GIVE_UP {
                break;
            }
        }
        got.waits += 1;
        match client
            .call_ok("message_wait", json!({"timeout_secs": 5}))
            .await
        {
            Ok(out) => {
                let now = Instant::now();
                let ids: Vec<String> = out["messages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| m["id"].as_str().unwrap_or_default().to_string())
                    .collect();
                if read && !ids.is_empty() {
                    let marked = client.call_ok("message_read", json!({"ids": ids})).await;
                    if let Err(e) = marked {
                        got.failed.push(e.to_string());
                    }
                }
                got.messages.extend(ids.into_iter().map(|id| (id, now)));
            }
            Err(e) => got.failed.push(e.to_string()),
        }
    }
    got
}

async fn load(bin: &Path, per_sender: usize, mode: Waiters) -> Value {
    // The 1-minute load average before anything starts (the machine may be shared).
    let load_average: Option<f64> = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok());
    let dir = tempfile::tempdir().unwrap();
    let mut waiters = Vec::new();
    for w in 0..WAITERS {
        waiters.push(Arc::new(agent(bin, dir.path(), &format!("w{w}")).await));
    }
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        senders.push(Arc::new(agent(bin, dir.path(), &format!("s{s}")).await));
    }
    let mut expected_counts = [0usize; WAITERS];
    for s in 0..SENDERS {
        for k in 0..per_sender {
            for w in recipients(s, k, per_sender) {
                expected_counts[w] += 1;
            }
        }
    }
    let done = Arc::new(AtomicBool::new(false));
    let wait_tasks: Vec<_> = waiters
        .iter()
        .enumerate()
        .filter(|_| mode != Waiters::Idle)
        .map(|(w, c)| {
            let read = mode == Waiters::WaitAndRead;
            tokio::spawn(receive_all(
                c.clone(),
                expected_counts[w],
                done.clone(),
                read,
            ))
        })
        .collect();
    // Let every waiter block in its first wait before the sends start.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let send_tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(s, c)| tokio::spawn(send_all(c.clone(), s, per_sender)))
        .collect();
    let mut sent = Vec::new();
    for t in send_tasks {
        sent.push(t.await.unwrap());
    }
    let sends_took = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let mut received = Vec::new();
    for t in wait_tasks {
        received.push(t.await.unwrap());
    }
    let last_delivery = received
        .iter()
        .flat_map(|r| r.messages.iter().map(|(_, at)| *at))
        .max()
        .unwrap_or(started);
    let total = last_delivery.max(started + sends_took) - started;

    // Who must get what, and when it was issued.
    let mut expected: Vec<HashMap<&str, Instant>> = vec![HashMap::new(); WAITERS];
    for s in &sent {
        for (id, ws, issued) in &s.acknowledged {
            for &w in ws {
                expected[w].insert(id.as_str(), *issued);
            }
        }
    }
    let (mut missing, mut duplicated, mut unexpected, mut deliveries) = (0, 0, 0, 0);
    let mut lags = Vec::new();
    let mut examples = Vec::new();
    for (w, r) in received.iter().enumerate() {
        if mode == Waiters::Idle {
            break;
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (id, at) in &r.messages {
            *seen.entry(id.as_str()).or_default() += 1;
            match expected[w].get(id.as_str()) {
                Some(issued) => lags.push(at.saturating_duration_since(*issued)),
                None => {
                    unexpected += 1;
                    examples.push(format!("w{w} got {id}, not addressed to it"));
                }
            }
        }
        for (id, count) in &seen {
            if *count > 1 {
                duplicated += count - 1;
                examples.push(format!("w{w} got {id} {count} times"));
            }
        }
        for id in expected[w].keys() {
            match seen.get(id) {
                Some(1) => deliveries += 1,
                Some(_) => {}
                None => {
                    missing += 1;
                    examples.push(format!("w{w} never got {id}"));
                }
            }
        }
    }
    let mut latencies: Vec<Duration> = sent.iter().flat_map(|s| s.latencies.clone()).collect();
    latencies.sort();
    lags.sort();
    let acknowledged: usize = sent.iter().map(|s| s.acknowledged.len()).sum();
    let failed_sends: Vec<&String> = sent.iter().flat_map(|s| &s.failed).collect();
    let failed_waits: Vec<&String> = received.iter().flat_map(|r| &r.failed).collect();
    examples.extend(
        failed_sends
            .iter()
            .chain(&failed_waits)
            .map(|s| s.to_string()),
    );
    examples.truncate(20);
    for c in senders.into_iter().chain(waiters) {
        if let Some(c) = Arc::into_inner(c) {
            let _ = c.stop().await;
        }
    }
    let mut result = json!({
        "waiters_do": mode.name(),
        "load_average_before": load_average,
        "senders": SENDERS, "sends_per_sender": per_sender, "waiters": WAITERS,
        "sends": SENDERS * per_sender, "acknowledged": acknowledged,
        "deliveries_expected": expected.iter().map(HashMap::len).sum::<usize>(),
        "delivered_exactly_once": deliveries, "missing": missing, "duplicated": duplicated,
        "unexpected": unexpected,
        "failed_sends": failed_sends.len(), "failed_waits": failed_waits.len(),
        "waits": received.iter().map(|r| r.waits).sum::<usize>(),
        "send_p50_ms": millis(percentile(&latencies, 0.5)),
        "send_p99_ms": millis(percentile(&latencies, 0.99)),
        "send_max_ms": millis(*latencies.last().unwrap()),
        "wake_lag_p50_ms": lags.first().map(|_| millis(percentile(&lags, 0.5))),
        "wake_lag_p99_ms": lags.first().map(|_| millis(percentile(&lags, 0.99))),
        "sends_seconds": sends_took.as_secs_f64(),
        "sends_per_second": acknowledged as f64 / sends_took.as_secs_f64(),
        "total_seconds": total.as_secs_f64(),
        "problems": examples,
    });
    if mode == Waiters::Idle {
        for unmeasured in [
            "delivered_exactly_once",
            "deliveries_expected",
            "missing",
            "duplicated",
            "unexpected",
            "failed_waits",
            "waits",
        ] {
            result[unmeasured] = Value::Null;
        }
    }
    result
}

fn main() {
    let bin = binary();
    let per_sender = std::env::var("SWITCHBOARD_LOAD_SENDS")
        .ok()
        .map(|v| v.parse().expect("SWITCHBOARD_LOAD_SENDS is a number"))
        .unwrap_or(DEFAULT_SENDS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // `cargo bench --bench load -- wait` runs only that part.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut results = serde_json::Map::new();
    let mut sound = true;
    for mode in [Waiters::Wait, Waiters::WaitAndRead, Waiters::Idle] {
        if !(wanted.is_empty() || wanted.iter().any(|w| w == mode.name())) {
            continue;
        }
        let result = runtime.block_on(load(&bin, per_sender, mode));
        println!("{}", serde_json::to_string_pretty(&result).unwrap());
        sound &= [
            "missing",
            "duplicated",
            "unexpected",
            "failed_sends",
            "failed_waits",
        ]
        .iter()
        .all(|k| result[k].as_u64().unwrap_or(0) == 0);
        results.insert(mode.name().into(), result);
    }
    results.insert("build".into(), build_of(&bin).into());
    if per_sender == DEFAULT_SENDS && wanted.is_empty() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("load.json");
        let text = serde_json::to_string_pretty(&Value::Object(results)).unwrap();
        std::fs::write(&out, text + "\n").unwrap();
        println!("wrote {}", out.display());
    }
    assert!(
        sound,
        "not every message was delivered exactly once, or calls failed"
    );
}
