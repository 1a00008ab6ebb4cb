//! Messaging across real processes: many `switchboard mcp` servers on one database under
//! load, waits woken by other processes, resource notifications, and the human CLI.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use rmcp::model::{
    ProtocolVersion, ServerNotification, SubscribeRequestParams, SubscriptionFilter,
};
use rmcp::service::ClientLifecycleMode;
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientServiceExt, ServiceExt};
use serde_json::{Value, json};
use switchboard_mcp::client::{AgentClient, ResourceWatcher};

use crate::common::{Backend, Repo, bin};

const AGENTS: usize = 8;
const PER_AGENT: usize = 200;

fn name(i: usize) -> String {
    format!("a{i}")
}

/// Receives until `expected` messages arrived, waiting again and again (each wait returns
/// only messages new to the session); returns every message id each wake returned, in
/// order.
async fn receive_all(client: &AgentClient, expected: usize) -> Result<Vec<String>, String> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    while got.len() < expected {
        if Instant::now() > deadline {
            return Err(format!("only {} of {expected} messages arrived", got.len()));
        }
        let out = client
            .call_ok("message_wait", json!({"timeout_secs": 30}))
            .await
            .map_err(|e| e.to_string())?;
        for m in out["messages"].as_array().into_iter().flatten() {
            got.push(m["id"].as_str().unwrap().to_string());
        }
    }
    Ok(got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_processes_exchange_1600_messages_with_nothing_lost_or_doubled() {
    eight_processes_exchange_1600_messages(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_processes_exchange_1600_messages_on_postgres_with_nothing_lost_or_doubled() {
    if Backend::Postgres.available() {
        eight_processes_exchange_1600_messages(Backend::Postgres).await;
    }
}

/// Eight `switchboard mcp` processes on one store on `backend`: each sends 200 messages
/// while waiting for the 200 sent to it.
async fn eight_processes_exchange_1600_messages(backend: Backend) {
    let repo = Repo::on(backend);
    let mut clients = Vec::new();
    for i in 0..AGENTS {
        let c = repo.agent(&["--agent", &name(i)]).await;
        clients.push(std::sync::Arc::new(c));
    }
    for c in &clients {
        c.call_ok("session_start", json!({"intent": "load test"}))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let waiter = client.clone();
        tasks.push(tokio::spawn(async move {
            (i, "wait", receive_all(&waiter, PER_AGENT).await)
        }));
        let sender = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for k in 0..PER_AGENT {
                let to = name((i + 1 + k % (AGENTS - 1)) % AGENTS);
                match sender
                    .call(
                        "message_send",
                        json!({"to": [to], "body": format!("{i}:{k}")}),
                    )
                    .await
                {
                    Ok(out) if !out.is_error => sent.push(format!(
                        "{to} {}",
                        out.structured.unwrap()["id"].as_str().unwrap()
                    )),
                    Ok(out) => return (i, "send", Err(format!("send {k} failed: {}", out.text))),
                    Err(e) => return (i, "send", Err(format!("send {k} failed: {e}"))),
                }
            }
            (i, "send", Ok(sent))
        }));
    }
    let mut received: HashMap<String, Vec<String>> = HashMap::new();
    let mut expected: HashMap<String, BTreeSet<String>> = HashMap::new();
    for task in tasks {
        let (i, what, result) = task.await.unwrap();
        let list = result.unwrap_or_else(|e| panic!("agent {i} {what}: {e}"));
        assert!(
            list.iter()
                .all(|l| !l.contains("locked") && !l.contains("busy"))
        );
        if what == "wait" {
            received.insert(name(i), list);
        } else {
            for line in list {
                let (to, id) = line.split_once(' ').unwrap();
                expected
                    .entry(to.to_string())
                    .or_default()
                    .insert(id.to_string());
            }
        }
    }
    for (i, client) in clients.iter().enumerate() {
        let who = name(i);
        let woke_for = &received[&who];
        let unique: BTreeSet<String> = woke_for.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            woke_for.len(),
            "{who} was woken twice for a message"
        );
        assert_eq!(
            &unique, &expected[&who],
            "{who} did not wake for exactly the messages sent to it"
        );
        let inbox = client
            .call_ok("inbox_read", json!({"limit": 200}))
            .await
            .unwrap();
        let in_inbox: Vec<&str> = inbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        let in_inbox_set: BTreeSet<String> = in_inbox.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            in_inbox.len(),
            PER_AGENT,
            "{who}'s inbox holds each message once"
        );
        assert_eq!(in_inbox_set, expected[&who]);
        assert_eq!(inbox["unread"], PER_AGENT);
    }
    for c in clients {
        std::sync::Arc::into_inner(c).unwrap().stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_waiter_in_one_process_wakes_for_a_send_in_another_even_when_they_race() {
    waiters_wake_for_racing_sends(Backend::Sqlite).await;
}

#[tokio::test]
async fn on_postgres_a_waiter_in_one_process_wakes_for_a_send_in_another_even_when_they_race() {
    if Backend::Postgres.available() {
        waiters_wake_for_racing_sends(Backend::Postgres).await;
    }
}

/// Twenty rounds of a wait in one process and a send in another, started together, on a
/// store on `backend`.
async fn waiters_wake_for_racing_sends(backend: Backend) {
    let repo = Repo::on(backend);
    let waiter = repo.agent(&["--agent", "waiter"]).await;
    let sender = repo.agent(&["--agent", "sender"]).await;
    waiter
        .call_ok("session_start", json!({"intent": "wait"}))
        .await
        .unwrap();
    sender
        .call_ok("session_start", json!({"intent": "send"}))
        .await
        .unwrap();
    let mut latencies = Vec::new();
    for round in 0..20 {
        // Start the wait and the send together: whichever runs first, nothing is missed.
        let started = Instant::now();
        let (woke, sent) = tokio::join!(
            waiter.call_ok("message_wait", json!({"timeout_secs": 20})),
            sender.call_ok(
                "message_send",
                json!({"to": ["waiter"], "body": format!("round {round}")})
            ),
        );
        let (woke, sent) = (woke.unwrap(), sent.unwrap());
        latencies.push(started.elapsed());
        assert_eq!(woke["timed_out"], false, "round {round} timed out");
        assert_eq!(woke["messages"][0]["id"], sent["id"], "round {round}");
    }
    latencies.sort();
    println!(
        "send+wake round trip across processes: median {:?}, max {:?}",
        latencies[10], latencies[19]
    );
    waiter.stop().await.unwrap();
    sender.stop().await.unwrap();
}

/// The names of the threads of process `pid`.
fn thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|task| std::fs::read_to_string(task.unwrap().path().join("comm")).unwrap())
        .map(|name| name.trim().to_string())
        .collect()
}

#[tokio::test]
async fn a_server_follows_other_processes_commits_only_once_something_waits_on_it() {
    let repo = Repo::new();
    let quiet = repo.agent(&["--agent", "quiet"]).await;
    let sender = repo.agent(&["--agent", "sender"]).await;
    for client in [&quiet, &sender] {
        client
            .call_ok("session_start", json!({"intent": "work"}))
            .await
            .unwrap();
    }
    for i in 0..5 {
        sender
            .call_ok(
                "message_send",
                json!({"to": ["quiet"], "body": format!("m{i}")}),
            )
            .await
            .unwrap();
    }
    let pid = quiet.server_pid.unwrap();
    let following = |pid| thread_names(pid).iter().any(|n| n == "sb-mcp-feed");
    assert!(
        !following(pid),
        "a server nobody waits on reads no other process's commits: {:?}",
        thread_names(pid)
    );
    let first = quiet
        .call_ok("message_wait", json!({"timeout_secs": 20}))
        .await
        .unwrap();
    assert_eq!(first["messages"].as_array().unwrap().len(), 5);
    // The feed thread exists once the wait has looked; it names itself as it starts, so
    // its name may show in /proc a moment later.
    let named_by = Instant::now() + Duration::from_secs(10);
    while !following(pid) && Instant::now() < named_by {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(following(pid), "the first wait starts following commits");
    let (woke, sent) = tokio::join!(
        quiet.call_ok("message_wait", json!({"timeout_secs": 20})),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            sender
                .call_ok("message_send", json!({"to": ["quiet"], "body": "later"}))
                .await
        },
    );
    assert_eq!(woke.unwrap()["messages"][0]["id"], sent.unwrap()["id"]);
    quiet.stop().await.unwrap();
    sender.stop().await.unwrap();
}

fn server_process(repo: &Repo, agent: &str) -> TokioChildProcess {
    let mut command = tokio::process::Command::new(bin());
    command
        .args(["mcp", "--agent", agent])
        .current_dir(&repo.path)
        .env_remove("SWITCHBOARD_DB");
    TokioChildProcess::new(command).unwrap()
}

#[tokio::test]
async fn resource_updates_reach_both_subscription_styles_when_another_process_writes() {
    let repo = Repo::new();
    let (watcher, mut updates) = ResourceWatcher::new();
    let legacy = watcher.serve(server_process(&repo, "ann")).await.unwrap();
    #[allow(deprecated)]
    legacy
        .subscribe(SubscribeRequestParams::new("switchboard://inbox"))
        .await
        .unwrap();
    let modern = ()
        .serve_with_lifecycle(
            server_process(&repo, "bob"),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap();
    let mut listening = modern
        .listen(
            SubscriptionFilter::builder()
                .resource_subscription("switchboard://inbox")
                .build(),
        )
        .await
        .unwrap();

    repo.cli(&["send", "--to", "ann", "--to", "bob", "from another process"]);

    let uri = tokio::time::timeout(Duration::from_secs(10), updates.recv())
        .await
        .expect("legacy: no update")
        .unwrap();
    assert_eq!(uri, "switchboard://inbox");
    let note = tokio::time::timeout(Duration::from_secs(10), listening.next())
        .await
        .expect("listen: no update")
        .unwrap();
    assert!(
        matches!(&note, Some(ServerNotification::ResourceUpdatedNotification(n)) if n.params.uri == "switchboard://inbox"),
        "{note:?}"
    );
    listening.cancel().await.unwrap();
    legacy.cancel().await.unwrap();
    modern.cancel().await.unwrap();
}

#[tokio::test]
async fn a_human_takes_part_from_the_cli() {
    let repo = Repo::new();
    let agent = repo.agent(&["--agent", "claude"]).await;
    agent
        .call_ok("session_start", json!({"intent": "ask the human"}))
        .await
        .unwrap();
    // The human is registered the first time they use the CLI.
    repo.cli(&["inbox"]);
    let asked = agent
        .call_ok("message_send", json!({"to": ["human:ada-lovelace"], "subject": "Which DB?", "body": "Postgres or SQLite?", "priority": "urgent"}))
        .await
        .unwrap();
    let inbox = repo.cli(&["inbox", "--unread"]);
    assert!(
        inbox.contains("1 unread")
            && inbox.contains("Postgres or SQLite?")
            && inbox.contains("[urgent]"),
        "{inbox}"
    );
    let thread = repo.cli(&["thread", asked["thread"].as_str().unwrap()]);
    assert!(
        thread.contains("Which DB?") && thread.contains("claude, human:ada-lovelace"),
        "{thread}"
    );

    let waiting = agent.call_ok(
        "message_wait",
        json!({"from": "human:ada-lovelace", "timeout_secs": 30}),
    );
    let replying = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        repo.cli(&["reply", asked["id"].as_str().unwrap(), "SQLite, embedded."])
    };
    let (woke, said) = tokio::join!(waiting, replying);
    let woke = woke.unwrap();
    assert!(said.contains("to claude"), "{said}");
    assert_eq!(woke["messages"][0]["body"], "SQLite, embedded.");
    repo.cli(&["inbox", "--mark-read"]);
    let after: Value = repo.cli_json(&["inbox"]);
    assert_eq!(after["unread"], 0);
    let refused = repo.cli_in(&repo.path, &["send", "--to", "nobody-here", "hello"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown recipient 'nobody-here'"));
    agent.stop().await.unwrap();
}

#[test]
fn the_cli_inbox_pages_with_the_cursor_it_prints() {
    let repo = Repo::new();
    repo.cli(&["inbox", "--as", "bot"]);
    for i in 1..=3 {
        repo.send("human:other", "bot", &format!("note {i}"));
    }
    let first = repo.cli(&["inbox", "--as", "bot", "--limit", "2"]);
    assert!(
        first.contains("note 3") && first.contains("note 2") && !first.contains("note 1"),
        "{first}"
    );
    let cursor = first
        .lines()
        .find_map(|l| l.strip_prefix("… more: cursor "))
        .unwrap_or_else(|| panic!("no cursor line: {first}"));
    let second = repo.cli(&["inbox", "--as", "bot", "--limit", "2", "--cursor", cursor]);
    assert!(
        second.contains("note 1") && !second.contains("note 2"),
        "{second}"
    );
    assert!(
        !second.contains("more: cursor"),
        "the last page has no cursor: {second}"
    );
    let bad = repo.cli_in(&repo.path, &["inbox", "--as", "bot", "--cursor", "zzz"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not a cursor from a previous inbox page")
    );
}

#[test]
fn watch_prints_messages_as_they_arrive() {
    let repo = Repo::new();
    repo.cli(&["inbox"]);
    let mut watch = std::process::Command::new(bin())
        .args(["watch"])
        .current_dir(&repo.path)
        .env_remove("SWITCHBOARD_DB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    repo.cli(&[
        "send",
        "--as",
        "robot",
        "--to",
        "human:ada-lovelace",
        "live delivery works",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < deadline
        && !seen
            .iter()
            .any(|l: &String| l.contains("live delivery works"))
    {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(line);
        }
    }
    // Stopped by PID, as any process a test starts.
    watch.kill().unwrap();
    watch.wait().unwrap();
    assert!(
        seen.iter().any(|l| l.contains("live delivery works")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.contains("robot → human:ada-lovelace")),
        "{seen:?}"
    );
}
