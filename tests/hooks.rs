//! `switchboard hook CLIENT EVENT` as the agent CLIs run it: the client's hook JSON on
//! stdin, the answer in the client's format on stdout, nothing (and exit 0) when there is
//! nothing to say or something is wrong. The hook finds the agent's session through the
//! client process, which here is this test process: it starts both the agent's
//! `switchboard mcp` and the hook.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::{Repo, bin};

/// Starts `switchboard hook CLIENT EVENT` in `dir` with `input` written to its stdin
/// and closed, its output piped.
fn spawn_hook(dir: &Path, client: &str, event: &str, input: &str) -> std::process::Child {
    let mut child = Command::new(bin())
        .args(["hook", client, event])
        .current_dir(dir)
        .env_remove("SWITCHBOARD_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child
}

/// Runs `switchboard hook CLIENT EVENT` in `dir` with `input` on stdin; returns stdout
/// parsed (`Null` when it printed nothing) after checking it exited 0.
fn hook(dir: &Path, client: &str, event: &str, input: &str) -> Value {
    let out = spawn_hook(dir, client, event, input)
        .wait_with_output()
        .unwrap();
    assert!(out.status.success(), "a hook always exits 0: {out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

fn payload(dir: &Path, event: &str) -> String {
    json!({"session_id": "client-session", "cwd": dir, "hook_event_name": event, "tool_name": "Bash"})
        .to_string()
}

fn context(out: &Value) -> &str {
    out["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap_or_else(|| panic!("no additionalContext in {out}"))
}

#[tokio::test]
async fn hooks_put_new_mail_into_the_agents_turn_once_and_hold_a_stop_once() {
    let repo = Repo::new();
    let alice = repo.agent(&["--agent", "alice"]).await;
    alice
        .call_ok("session_start", json!({"intent": "build the parser"}))
        .await
        .unwrap();
    let dir = repo.path.as_path();

    // Session start: the briefing.
    let start = hook(dir, "claude", "SessionStart", &payload(dir, "SessionStart"));
    assert_eq!(start["hookSpecificOutput"]["hookEventName"], "SessionStart");
    assert!(
        context(&start).contains("You are 'alice'") && context(&start).contains("build the parser"),
        "{start}"
    );
    // Nothing new: nothing said.
    let quiet = hook(dir, "claude", "PostToolUse", &payload(dir, "PostToolUse"));
    assert_eq!(quiet, Value::Null);

    // Another process sends; the next tool call's hook carries the header, once.
    repo.cli(&[
        "send",
        "--as",
        "bob",
        "--to",
        "alice",
        "--subject",
        "lexer",
        "Keep comments?",
    ]);
    let told = hook(dir, "claude", "PostToolUse", &payload(dir, "PostToolUse"));
    assert_eq!(told["hookSpecificOutput"]["hookEventName"], "PostToolUse");
    assert!(
        context(&told).contains("from bob") && context(&told).contains("lexer"),
        "{told}"
    );
    let again = hook(
        dir,
        "codex",
        "UserPromptSubmit",
        &payload(dir, "UserPromptSubmit"),
    );
    assert_eq!(
        again,
        Value::Null,
        "each message is announced once per session"
    );

    // An urgent message holds a stop once; a stop already held is let through.
    repo.cli(&[
        "send",
        "--as",
        "bob",
        "--to",
        "alice",
        "--priority",
        "urgent",
        "Stop the deploy",
    ]);
    let held = hook(dir, "claude", "Stop", &payload(dir, "Stop"));
    assert_eq!(held["decision"], "block", "{held}");
    assert!(
        held["reason"].as_str().unwrap().contains("Stop the deploy"),
        "{held}"
    );
    let active = json!({"cwd": dir, "stop_hook_active": true}).to_string();
    assert_eq!(hook(dir, "claude", "Stop", &active), Value::Null);
    assert_eq!(
        hook(dir, "claude", "Stop", &payload(dir, "Stop")),
        Value::Null,
        "held once per message"
    );

    // Gemini CLI's names and answer shapes.
    repo.cli(&["send", "--as", "bob", "--to", "alice", "--ack", "Sign off?"]);
    let after_tool = hook(dir, "gemini", "AfterTool", &payload(dir, "AfterTool"));
    assert_eq!(
        after_tool["hookSpecificOutput"]["hookEventName"],
        "AfterTool"
    );
    assert!(context(&after_tool).contains("(ack asked)"), "{after_tool}");
    let after_agent = hook(dir, "gemini", "AfterAgent", &payload(dir, "AfterAgent"));
    assert_eq!(after_agent["decision"], "deny", "{after_agent}");
    alice.stop().await.unwrap();
}

#[tokio::test]
async fn a_backlog_is_announced_within_bounds() {
    let repo = Repo::new();
    let alice = repo.agent(&["--agent", "alice"]).await;
    alice
        .call_ok("session_start", json!({"intent": "catch up"}))
        .await
        .unwrap();
    let sender = repo.agent(&["--agent", "bob"]).await;
    sender
        .call_ok("session_start", json!({"intent": "talk"}))
        .await
        .unwrap();
    for i in 0..200 {
        sender
            .call_ok(
                "message_send",
                json!({"to": ["alice"], "subject": format!("note number {i} with some words in it"), "body": "x"}),
            )
            .await
            .unwrap();
    }
    // In real use each agent has its own client process; here both servers are this test's
    // children, so the sender leaves before alice's hook runs.
    let bob = sender.call_ok("whoami", json!({})).await.unwrap()["session"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    sender.stop().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while repo.cli_json(&["session", "show", &bob])["status"] == "active"
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = repo.path.as_path();
    let told = hook(dir, "claude", "PostToolUse", &payload(dir, "PostToolUse"));
    let text = context(&told);
    assert!(text.chars().count() <= 2000, "{} characters", text.len());
    assert!(text.contains("200 new message(s)"), "{text}");
    assert!(text.contains("more — call inbox_read"), "{text}");
    assert!(
        text.contains("note number 199"),
        "the newest are kept: {text}"
    );
}

#[test]
fn bad_input_no_database_and_strangers_get_silence_and_exit_0() {
    let repo = Repo::new();
    let dir = repo.path.as_path();
    // No Switchboard state in this repository yet: nothing said, nothing created.
    assert_eq!(
        hook(dir, "claude", "PostToolUse", &payload(dir, "PostToolUse")),
        Value::Null
    );
    assert!(!dir.join(".git/switchboard").exists());
    repo.cli(&["sessions"]);
    for input in ["", "not json", "{\"cwd\": 42}", "[1,2,3]"] {
        assert_eq!(
            hook(dir, "claude", "PostToolUse", input),
            Value::Null,
            "{input}"
        );
    }
    // An event Switchboard does not handle, and a hook with no session behind it.
    assert_eq!(
        hook(dir, "claude", "PreToolUse", &payload(dir, "PreToolUse")),
        Value::Null
    );
    assert_eq!(
        hook(dir, "gemini", "SessionStart", &payload(dir, "SessionStart")),
        Value::Null
    );
}

/// Starts a wake hook in the background, its input written and closed.
fn start_wake(dir: &Path) -> std::process::Child {
    spawn_hook(dir, "claude", "Wake", &payload(dir, "Stop"))
}

/// Waits (bounded) for a background hook to end; its exit code and stderr.
fn finish(mut child: std::process::Child) -> (Option<i32>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the wake hook did not end");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_idle_agent_is_woken_by_new_mail_and_one_waiter_is_enough() {
    let repo = Repo::new();
    let alice = repo.agent(&["--agent", "alice"]).await;
    alice
        .call_ok("session_start", json!({"intent": "idle"}))
        .await
        .unwrap();
    let dir = repo.path.as_path();
    let mut waiter = start_wake(dir);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "it waits while nothing arrives"
    );
    // The client re-arms the hook at every stop: a second waiter leaves at once.
    assert_eq!(
        hook(dir, "claude", "Wake", &payload(dir, "Stop")),
        Value::Null
    );
    repo.cli(&[
        "send",
        "--as",
        "bob",
        "--to",
        "alice",
        "wake up, tests are red",
    ]);
    let (code, stderr) = finish(waiter);
    assert_eq!(code, Some(2), "exit 2 wakes Claude Code: {stderr}");
    assert!(stderr.contains("wake up, tests are red"), "{stderr}");
    // Told once: the next tool call's hook has nothing new.
    assert_eq!(
        hook(dir, "claude", "PostToolUse", &payload(dir, "PostToolUse")),
        Value::Null
    );
}

#[tokio::test]
async fn a_waiting_wake_hook_ends_quietly_with_its_session() {
    let repo = Repo::new();
    let alice = repo.agent(&["--agent", "alice"]).await;
    alice
        .call_ok("session_start", json!({"intent": "short"}))
        .await
        .unwrap();
    let waiter = start_wake(repo.path.as_path());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    alice.call_ok("session_end", json!({})).await.unwrap();
    let (code, stderr) = finish(waiter);
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test]
async fn a_waiting_wake_hook_steps_aside_when_the_agent_is_at_work_again() {
    let repo = Repo::new();
    let alice = repo.agent(&["--agent", "alice"]).await;
    alice
        .call_ok("session_start", json!({"intent": "busy"}))
        .await
        .unwrap();
    let dir = repo.path.as_path();
    let waiter = start_wake(dir);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // A new prompt: the agent works again, so the waiter from its last stop leaves, and the
    // turn's own hooks tell it of mail.
    assert_eq!(
        hook(
            dir,
            "claude",
            "UserPromptSubmit",
            &payload(dir, "UserPromptSubmit")
        ),
        Value::Null
    );
    let (code, stderr) = finish(waiter);
    assert_eq!(code, Some(0), "{stderr}");
    repo.cli(&["send", "--as", "bob", "--to", "alice", "during the turn"]);
    let told = hook(dir, "claude", "PostToolUse", &payload(dir, "PostToolUse"));
    assert!(context(&told).contains("during the turn"), "{told}");
}

#[tokio::test]
async fn mail_that_came_in_after_the_last_hook_of_a_turn_wakes_the_idle_agent() {
    let repo = Repo::new();
    let alice = repo.agent(&["--agent", "alice"]).await;
    alice
        .call_ok("session_start", json!({"intent": "late mail"}))
        .await
        .unwrap();
    let dir = repo.path.as_path();
    repo.cli(&[
        "send",
        "--as",
        "bob",
        "--to",
        "alice",
        "sent late in the turn",
    ]);
    let (code, stderr) = finish(start_wake(dir));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("sent late in the turn"), "{stderr}");
}

/// Every payload a real agent CLI sent to `switchboard hook` (recorded in
/// tests/fixtures/hooks/), answered in that client's format.
#[tokio::test]
async fn the_recorded_payloads_of_every_client_and_event_get_their_answer() {
    let repo = Repo::new();
    let alice = repo.agent(&["--agent", "alice"]).await;
    alice
        .call_ok("session_start", json!({"intent": "contract"}))
        .await
        .unwrap();
    let dir = repo.path.as_path();
    let cwd = dir.display().to_string();
    let slug: String = cwd
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hooks");
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (client, event) = name.split_once('-').unwrap();
        if event == "Wake" {
            continue; // waits in the background: covered by the wake tests above
        }
        let payload = std::fs::read_to_string(&path)
            .unwrap()
            .replace("{{CWD}}", &cwd)
            .replace("{{CWD_SLUG}}", &slug)
            .replace("{{TMP}}", &std::env::temp_dir().display().to_string());
        // Something new and urgent for each payload, so every event has something to say.
        let marker = format!("MARK-{name}");
        repo.cli(&[
            "send",
            "--as",
            "bob",
            "--to",
            "alice",
            "--priority",
            "urgent",
            &marker,
        ]);
        let out = hook(dir, client, event, &payload);
        match event {
            "SessionStart" => assert!(context(&out).contains("You are 'alice'"), "{name}: {out}"),
            "Stop" | "AfterAgent" => {
                let decision = if client == "gemini" { "deny" } else { "block" };
                assert_eq!(out["decision"], decision, "{name}: {out}");
                assert!(
                    out["reason"].as_str().unwrap().contains(&marker),
                    "{name}: {out}"
                );
            }
            _ => {
                assert_eq!(
                    out["hookSpecificOutput"]["hookEventName"], event,
                    "{name}: {out}"
                );
                assert!(context(&out).contains(&marker), "{name}: {out}");
            }
        }
        seen += 1;
    }
    assert_eq!(seen, 12, "three clients, four events each");
}
