//! Crash trials: a real `switchboard mcp` process, driven over its stdio as an agent's client
//! would, is killed with SIGKILL at a random moment; a fresh process then checks that what
//! the client saw succeed survived exactly once and that SQLite finds the database sound.
//!
//! Shared by the test suite (`tests/crash.rs`, a few trials) and the benchmark
//! (`benches/crash.rs`, 100 trials), which include this file by path. It depends on the
//! standard library and `serde_json` only, and takes the binary and the repository as
//! arguments.
//!
//! A family of trials is a function from a seed to a [`Trial`]; [`run`] runs a family over
//! its seeds and sums the outcomes. [`sends`] is the `message_send` family.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Runs `one` for every seed: `SWITCHBOARD_CRASH_SEED=S` runs seed S alone (to reproduce a
/// trial), else seeds 0..`SWITCHBOARD_CRASH_TRIALS` (default `default_trials`).
pub fn run(family: &str, default_trials: u64, mut one: impl FnMut(u64) -> Trial) -> Summary {
    let seeds: Vec<u64> = match env_u64("SWITCHBOARD_CRASH_SEED") {
        Some(seed) => vec![seed],
        None => (0..env_u64("SWITCHBOARD_CRASH_TRIALS").unwrap_or(default_trials)).collect(),
    };
    let started = Instant::now();
    let mut summary = Summary {
        family: family.to_string(),
        ..Summary::default()
    };
    for seed in seeds {
        let trial = one(seed);
        println!("{trial}");
        summary.add(trial);
    }
    summary.elapsed = started.elapsed();
    println!("{summary}");
    summary
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
    )
}

/// What one trial found after the kill.
#[derive(Debug)]
pub struct Trial {
    pub family: String,
    pub seed: u64,
    /// How long after the first operation was issued the server was killed.
    pub killed_after: Duration,
    /// Operations written to the server.
    pub issued: usize,
    /// Operations the client got a successful result for.
    pub acknowledged: usize,
    /// Operations the server answered with an error (none expected).
    pub failed: usize,
    /// Operations without an answer at the kill.
    pub in_flight: usize,
    /// Acknowledged operations missing afterwards.
    pub lost: usize,
    /// Operations present more than once afterwards (or present but never issued).
    pub duplicated: usize,
    /// Operations in flight at the kill that are present (once) afterwards: committed, but
    /// the answer never reached the client.
    pub recovered: usize,
    /// SQLite's verdict on the database after the kill.
    pub integrity: Result<(), String>,
    /// Lines of the server's stderr that tell of a panic.
    pub panics: Vec<String>,
    /// What went wrong, one line each (lost, duplicated, failed, unexpected exits).
    pub problems: Vec<String>,
    /// The state database the trial used.
    pub state_db: Option<PathBuf>,
}

impl Trial {
    /// A trial of `family` with `seed` that has found nothing yet.
    pub fn new(family: &str, seed: u64) -> Trial {
        Trial {
            family: family.to_string(),
            seed,
            killed_after: Duration::ZERO,
            issued: 0,
            acknowledged: 0,
            failed: 0,
            in_flight: 0,
            lost: 0,
            duplicated: 0,
            recovered: 0,
            integrity: Ok(()),
            panics: Vec::new(),
            problems: Vec::new(),
            state_db: None,
        }
    }

    /// Nothing acknowledged was lost, nothing doubled, nothing failed, the database is sound
    /// and the server did not panic.
    pub fn sound(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.failed == 0
            && self.integrity.is_ok()
            && self.panics.is_empty()
            && self.problems.is_empty()
    }
}

impl std::fmt::Display for Trial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} seed {}: killed after {} ms; issued {}, acknowledged {}, failed {}, in flight {} \
             (recovered {}); lost {}, duplicated {}; integrity {}",
            self.family,
            self.seed,
            self.killed_after.as_millis(),
            self.issued,
            self.acknowledged,
            self.failed,
            self.in_flight,
            self.recovered,
            self.lost,
            self.duplicated,
            match &self.integrity {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("FAILED: {e}"),
            }
        )?;
        for line in self.panics.iter().chain(&self.problems) {
            write!(f, "\n    {line}")?;
        }
        Ok(())
    }
}

/// The sum of a family's trials.
#[derive(Debug, Default)]
pub struct Summary {
    pub family: String,
    pub trials: usize,
    pub issued: usize,
    pub acknowledged: usize,
    pub failed: usize,
    pub in_flight: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub recovered: usize,
    pub integrity_failures: usize,
    pub panics: usize,
    pub elapsed: Duration,
    /// Every trial that was not sound, as printed.
    pub unsound: Vec<String>,
}

impl Summary {
    fn add(&mut self, trial: Trial) {
        self.trials += 1;
        self.issued += trial.issued;
        self.acknowledged += trial.acknowledged;
        self.failed += trial.failed;
        self.in_flight += trial.in_flight;
        self.lost += trial.lost;
        self.duplicated += trial.duplicated;
        self.recovered += trial.recovered;
        self.integrity_failures += usize::from(trial.integrity.is_err());
        self.panics += trial.panics.len();
        if !trial.sound() {
            self.unsound.push(format!(
                "{trial}\n    reproduce: SWITCHBOARD_CRASH_SEED={} (same family)",
                trial.seed
            ));
        }
    }

    /// Panics, naming every unsound trial and its seed, unless every trial was sound.
    pub fn assert_sound(&self) {
        assert!(
            self.unsound.is_empty(),
            "{} of {} {} crash trials were not sound:\n{}",
            self.unsound.len(),
            self.trials,
            self.family,
            self.unsound.join("\n")
        );
    }

    pub fn to_json(&self) -> Value {
        json!({
            "family": self.family, "trials": self.trials, "issued": self.issued,
            "acknowledged": self.acknowledged, "failed": self.failed, "in_flight": self.in_flight,
            "recovered": self.recovered, "lost": self.lost, "duplicated": self.duplicated,
            "integrity_failures": self.integrity_failures, "panics": self.panics,
            "seconds": self.elapsed.as_secs_f64(), "unsound": self.unsound,
        })
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} trials in {:.1} s; issued {}, acknowledged {}, failed {}, in flight at the \
             kill {} (recovered {}); lost {}, duplicated {}, integrity failures {}, panics {}",
            self.family,
            self.trials,
            self.elapsed.as_secs_f64(),
            self.issued,
            self.acknowledged,
            self.failed,
            self.in_flight,
            self.recovered,
            self.lost,
            self.duplicated,
            self.integrity_failures,
            self.panics
        )
    }
}

/// A small deterministic generator (splitmix64): a trial's choices follow from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x243f_6a88_85a3_08d3)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }
}

/// One `switchboard mcp` child driven over raw JSON-RPC lines on its stdio.
pub struct Server {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<Value>,
    reader: JoinHandle<()>,
    stderr: JoinHandle<String>,
    next_id: u64,
}

/// What was left of a killed server: answers it had written that the client had not read
/// yet, and everything it wrote to stderr.
pub struct Killed {
    pub answers: Vec<Value>,
    pub stderr: String,
    /// It had exited before the kill.
    pub exited_early: Option<std::process::ExitStatus>,
}

impl Server {
    /// Starts `bin ARGS` in `dir` (no inherited `SWITCHBOARD_*` settings) and initializes
    /// the MCP session.
    pub fn start(bin: &Path, dir: &Path, args: &[&str]) -> Server {
        let mut command = Command::new(bin);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("SWITCHBOARD_") {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().expect("start switchboard mcp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, answers) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
                    panic!("server wrote a line that is not JSON ({e}): {line}")
                });
                if !value["id"].is_null() && tx.send(value).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut server = Server {
            child,
            stdin,
            answers,
            reader,
            stderr,
            next_id: 1,
        };
        let init = server.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "crash-harness", "version": "1"}}),
        );
        server.answer_to(init).expect("initialize");
        server.notify("notifications/initialized");
        server
    }

    fn write(&mut self, message: &Value) {
        let mut line = message.to_string().into_bytes();
        line.push(b'\n');
        self.stdin
            .write_all(&line)
            .and_then(|()| self.stdin.flush())
            .expect("write to the server's stdin");
    }

    /// Writes a request and returns its id (the answer comes through [`Server::next_answer`]).
    pub fn request(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.write(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Writes a `tools/call` request and returns its id.
    pub fn call_tool(&mut self, tool: &str, arguments: Value) -> u64 {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    pub fn notify(&mut self, method: &str) {
        self.write(&json!({"jsonrpc": "2.0", "method": method}));
    }

    /// The next answer, waiting at most `timeout`; `Err(true)` when the server's stdout closed.
    pub fn next_answer(&self, timeout: Duration) -> Result<Value, bool> {
        match self.answers.recv_timeout(timeout) {
            Ok(answer) => Ok(answer),
            Err(RecvTimeoutError::Timeout) => Err(false),
            Err(RecvTimeoutError::Disconnected) => Err(true),
        }
    }

    /// Waits (up to 30 s) for the answer to request `id`, with nothing else in flight.
    fn answer_to(&self, id: u64) -> Result<Value, String> {
        let answer = self
            .next_answer(Duration::from_secs(30))
            .map_err(|closed| format!("no answer to request {id} (stdout closed: {closed})"))?;
        if answer["id"] != id {
            return Err(format!("expected the answer to {id}, got {answer}"));
        }
        if let Some(error) = answer.get("error") {
            return Err(format!("request {id} failed: {error}"));
        }
        Ok(answer["result"].clone())
    }

    /// Calls `tool` and waits for its structured result (for setup, nothing else in flight).
    pub fn call(&mut self, tool: &str, arguments: Value) -> Result<Value, String> {
        let id = self.call_tool(tool, arguments);
        let result = self.answer_to(id)?;
        tool_result(&result).map_err(|e| format!("{tool}: {e}"))
    }

    /// Sends SIGKILL (std's `Child::kill` on unix), reaps the process and collects what it
    /// had written.
    pub fn kill(mut self) -> Killed {
        let exited_early = self.child.try_wait().ok().flatten();
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self.stdin);
        let _ = self.reader.join();
        let answers = self.answers.try_iter().collect();
        Killed {
            answers,
            stderr: self.stderr.join().unwrap_or_default(),
            exited_early,
        }
    }
}

/// The structured content of a successful `tools/call` result, or the tool's error text.
pub fn tool_result(result: &Value) -> Result<Value, String> {
    if result["isError"] == true {
        return Err(result["content"][0]["text"]
            .as_str()
            .unwrap_or("error without text")
            .to_string());
    }
    result
        .get("structuredContent")
        .cloned()
        .ok_or_else(|| format!("no structured content in {result}"))
}

/// Lines of `stderr` that tell of a panic.
pub fn panics(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains("panicked") || l.contains("RUST_BACKTRACE"))
        .map(|l| format!("server stderr: {l}"))
        .collect()
}

/// Runs `bin ARGS` in `dir` (no inherited `SWITCHBOARD_*` settings); stdout on success.
pub fn cli(bin: &Path, dir: &Path, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(bin);
    command.args(args).current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SWITCHBOARD_") {
            command.env_remove(key);
        }
    }
    let out = command.output().map_err(|e| format!("{args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "switchboard {args:?} exited with {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// `switchboard doctor --json` from a fresh process: Ok(the state database) when SQLite's
/// `quick_check` finds it sound.
pub fn doctor(bin: &Path, repo: &Path) -> Result<PathBuf, String> {
    let out = cli(bin, repo, &["doctor", "--json"])?;
    let report: Value = serde_json::from_str(&out).map_err(|e| format!("doctor: {e}: {out}"))?;
    if report["integrity"] != "ok" {
        return Err(format!("doctor: integrity {}", report["integrity"]));
    }
    Ok(PathBuf::from(
        report["state_db"].as_str().unwrap_or_default(),
    ))
}

/// Every message in `who`'s inbox, read page by page with the CLI from a fresh process.
pub fn inbox(bin: &Path, repo: &Path, who: &str) -> Result<Vec<Value>, String> {
    let mut messages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec!["inbox", "--as", who, "--json", "--limit", "200"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c]);
        }
        let out = cli(bin, repo, &args)?;
        let page: Value =
            serde_json::from_str(&out).map_err(|e| format!("inbox page: {e}: {out}"))?;
        messages.extend(page["messages"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return Ok(messages),
        }
    }
}

const SENDER: &str = "crash-sender";
const RECIPIENT: &str = "crash-recipient";

/// The `message_send` family: an agent's server sends messages to another agent, with
/// 1–4 requests in flight, until it is killed 1–300 ms after its first send (both from
/// the seed; bodies are under 70 bytes, one in four 1–32 KiB). Afterwards the recipient's
/// inbox, read by a fresh process, must hold every acknowledged message exactly once (with
/// the id its answer gave) and each unanswered one at most once.
pub fn sends(bin: &Path, repo: &Path, seed: u64) -> Trial {
    let mut rng = Rng::new(seed);
    let kill_after = Duration::from_millis(rng.between(1, 300));
    let window = rng.between(1, 4) as usize;
    let mut trial = Trial::new("message_send", seed);
    cli(bin, repo, &["inbox", "--as", RECIPIENT]).expect("register the recipient");
    let mut server = Server::start(bin, repo, &["mcp", "--agent", SENDER]);
    server
        .call("session_start", json!({"intent": "crash trial"}))
        .expect("session_start");

    // Request id → message number; message number → the id its answer gave.
    let mut in_flight: HashMap<u64, usize> = HashMap::new();
    let mut acknowledged: BTreeMap<usize, String> = BTreeMap::new();
    let started = Instant::now();
    let deadline = started + kill_after;
    loop {
        while in_flight.len() < window && Instant::now() < deadline {
            let k = trial.issued;
            let body = body(seed, k, &mut rng);
            let id = server.call_tool("message_send", json!({"to": [RECIPIENT], "body": body}));
            in_flight.insert(id, k);
            trial.issued += 1;
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        match server.next_answer(deadline - now) {
            Ok(answer) => settle(answer, &mut in_flight, &mut acknowledged, &mut trial),
            Err(false) => break,
            Err(true) => {
                trial
                    .problems
                    .push("the server closed its stdout before the kill".into());
                break;
            }
        }
    }
    trial.killed_after = started.elapsed();
    let killed = server.kill();
    if let Some(status) = killed.exited_early {
        trial.problems.push(format!(
            "the server exited on its own before the kill: {status}"
        ));
    }
    // Answers already in the pipe reached the client: they count as acknowledged.
    for answer in killed.answers {
        settle(answer, &mut in_flight, &mut acknowledged, &mut trial);
    }
    trial.panics = panics(&killed.stderr);
    trial.acknowledged = acknowledged.len();
    trial.in_flight = in_flight.len();
    let unanswered: HashSet<usize> = in_flight.values().copied().collect();

    match doctor(bin, repo) {
        Ok(db) => {
            trial.state_db = Some(db);
            trial.integrity = Ok(());
        }
        Err(e) => trial.integrity = Err(e),
    }
    let found = match inbox(bin, repo, RECIPIENT) {
        Ok(found) => found,
        Err(e) => {
            trial
                .problems
                .push(format!("reading the inbox after the kill: {e}"));
            return trial;
        }
    };
    // Message number → the ids it is stored under.
    let mut stored: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for m in &found {
        let body = m["body"].as_str().unwrap_or_default();
        let id = m["id"].as_str().unwrap_or_default().to_string();
        match number_of(seed, body) {
            Some(k) => stored.entry(k).or_default().push(id),
            None => {
                trial.duplicated += 1;
                trial
                    .problems
                    .push(format!("a message that was never sent: {id} {body:.60}"));
            }
        }
    }
    for (k, id) in &acknowledged {
        match stored.get(k).map(Vec::as_slice) {
            Some([one]) if one == id => {}
            Some([one]) => {
                trial.lost += 1;
                trial.problems.push(format!(
                    "acknowledged send #{k} ({id}) is stored under another id: {one}"
                ));
            }
            None | Some([]) => {
                trial.lost += 1;
                trial
                    .problems
                    .push(format!("acknowledged send #{k} ({id}) is missing"));
            }
            Some(many) => {
                trial.duplicated += 1;
                trial.problems.push(format!(
                    "acknowledged send #{k} ({id}) is stored {} times: {many:?}",
                    many.len()
                ));
            }
        }
    }
    for (k, ids) in &stored {
        if acknowledged.contains_key(k) {
            continue;
        }
        if !unanswered.contains(k) {
            trial
                .problems
                .push(format!("send #{k} failed but is stored: {ids:?}"));
        } else if ids.len() == 1 {
            trial.recovered += 1;
        } else {
            trial.duplicated += 1;
            trial.problems.push(format!(
                "unanswered send #{k} is stored {} times: {ids:?}",
                ids.len()
            ));
        }
    }
    trial
}

/// Records the answer to a send: acknowledged (with the id it gave) or failed.
fn settle(
    answer: Value,
    in_flight: &mut HashMap<u64, usize>,
    acknowledged: &mut BTreeMap<usize, String>,
    trial: &mut Trial,
) {
    let Some(k) = answer["id"].as_u64().and_then(|id| in_flight.remove(&id)) else {
        trial
            .problems
            .push(format!("an answer to no request in flight: {answer}"));
        return;
    };
    let outcome = match answer.get("error") {
        Some(error) => Err(error.to_string()),
        None => tool_result(&answer["result"]),
    };
    match outcome.and_then(|out| {
        out["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no id in {out}"))
    }) {
        Ok(id) => {
            acknowledged.insert(k, id);
        }
        Err(e) => {
            trial.failed += 1;
            trial.problems.push(format!("send #{k} failed: {e}"));
        }
    }
}

/// The body of message `k`: a marker, then filler (mostly short, one in four 1–32 KiB).
fn body(seed: u64, k: usize, rng: &mut Rng) -> String {
    let size = if rng.between(0, 3) == 0 {
        rng.between(1024, 32 * 1024) as usize
    } else {
        rng.between(0, 64) as usize
    };
    let mut body = format!("crash-{seed}-{k}:");
    while body.len() < size {
        body.push_str(" filler");
    }
    body
}

/// The message number of a body [`body`] wrote for `seed`.
fn number_of(seed: u64, body: &str) -> Option<usize> {
    let rest = body.strip_prefix(&format!("crash-{seed}-"))?;
    rest.split_once(':')?.0.parse().ok()
}
