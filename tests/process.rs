//! The binary as agents and humans use it: real stdio servers and the CLI, several
//! processes sharing one state database.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::Repo;

async fn ok(client: &switchboard_mcp::client::AgentClient, tool: &str, args: Value) -> Value {
    client
        .call_ok(tool, args)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_real_stdio_server_serves_a_client_and_records_its_pid() {
    let repo = Repo::new();
    let claude = repo.agent(&["--agent", "claude"]).await;
    assert!(claude.instructions().unwrap().contains("session_start"));
    assert_eq!(claude.tools().await.unwrap().len(), 40);
    let started = ok(
        &claude,
        "session_start",
        json!({"intent": "refactor the parser"}),
    )
    .await;
    assert_eq!(started["agent"], "claude");
    let who = ok(&claude, "whoami", json!({})).await;
    assert_eq!(who["session"]["process"]["pid"], claude.server_pid.unwrap());
    let db = repo.path.join(".git/switchboard/state.db");
    assert!(db.exists(), "state lives in the git common dir");
    claude.stop().await.unwrap();
}

#[tokio::test]
async fn processes_on_one_repository_and_its_worktrees_see_each_others_sessions() {
    let repo = Repo::new();
    repo.git(&["worktree", "add", "-q", "../linked"]);
    let linked = repo.path.parent().unwrap().join("linked");
    let a = repo.agent(&["--agent", "alpha"]).await;
    let b = repo.agent_in(&linked, &["--agent", "beta"]).await;
    let a_session = ok(&a, "session_start", json!({"intent": "alpha's work"})).await;
    let b_session = ok(
        &b,
        "session_start",
        json!({"intent": "beta's work", "parent": a_session["session"]["id"]}),
    )
    .await;
    assert_ne!(a.server_pid, b.server_pid);

    let seen_by_a = ok(&a, "session_list", json!({"live_only": true})).await;
    let ids: Vec<&str> = seen_by_a["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&b_session["session"]["id"].as_str().unwrap()),
        "{ids:?}"
    );
    let tree = ok(&b, "session_tree", json!({})).await;
    assert_eq!(tree["root"], a_session["session"]["id"]);
    assert_eq!(tree["nodes"].as_array().unwrap().len(), 2);

    // The CLI, from the main checkout, sees both and who serves them.
    let agents = repo.cli_json(&["agents"]);
    let live: Vec<(&str, u64)> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap(),
                a["live_sessions"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        live.contains(&("alpha", 1)) && live.contains(&("beta", 1)),
        "{live:?}"
    );
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_session_whose_server_exited_is_reported_stale() {
    let repo = Repo::new();
    let gone = repo.agent(&["--agent", "ghost"]).await;
    let started = ok(&gone, "session_start", json!({"intent": "about to vanish"})).await;
    let id = started["session"]["id"].as_str().unwrap().to_string();
    gone.stop().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let session = loop {
        let s = repo.cli_json(&["session", "show", &id]);
        if s["status"] == "stale" || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(session["status"], "stale");
    assert!(
        session["stale_reason"]
            .as_str()
            .unwrap()
            .contains("is gone")
    );
    let stale = repo.cli_json(&["sessions", "--status", "stale"]);
    assert_eq!(stale["sessions"][0]["id"], id.as_str());
}

#[tokio::test]
async fn a_server_started_with_session_claims_the_session_spawned_for_it() {
    let repo = Repo::new();
    let lead = repo.agent(&["--agent", "lead"]).await;
    ok(&lead, "session_start", json!({"intent": "plan"})).await;
    let child = ok(
        &lead,
        "session_spawn",
        json!({"agent": "worker", "intent": "do part one"}),
    )
    .await;
    let child_id = child["id"].as_str().unwrap();
    let worker = repo.agent(&["--session", &child_id[..20]]).await;
    let who = ok(&worker, "whoami", json!({})).await;
    assert_eq!(who["agent"], "worker", "the agent comes from the session");
    assert_eq!(who["session"]["id"], child_id);
    assert_eq!(who["session"]["process"]["pid"], worker.server_pid.unwrap());
    ok(&worker, "session_end", json!({"reason": "done"})).await;
    let seen = ok(&lead, "session_get", json!({"session": child_id})).await;
    assert_eq!(seen["status"], "completed");
    lead.stop().await.unwrap();
    worker.stop().await.unwrap();
}

#[test]
fn bad_start_up_settings_fail_fast_with_a_clear_message() {
    let repo = Repo::new();
    let out = repo.cli_in(&repo.path, &["mcp", "--session", "ses_00000000"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot claim session ses_00000000") && err.contains("no session matches"),
        "{err}"
    );
    let out = repo.cli_in(&repo.path, &["mcp", "--agent", "Not Valid"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not a valid agent name"),
        "{err}"
    );
}

#[tokio::test]
async fn humans_list_show_draw_and_end_sessions_from_the_cli() {
    let repo = Repo::new();
    let agent = repo.agent(&["--agent", "codex"]).await;
    let started = ok(
        &agent,
        "session_start",
        json!({"intent": "write the migration"}),
    )
    .await;
    let id = started["session"]["id"].as_str().unwrap().to_string();
    ok(
        &agent,
        "session_spawn",
        json!({"intent": "review the migration", "agent": "reviewer"}),
    )
    .await;

    let table = repo.cli(&["sessions"]);
    assert!(table.starts_with("SESSION"), "{table}");
    assert!(
        table.contains(&id) && table.contains("write the migration") && table.contains("reviewer"),
        "{table}"
    );
    let agents = repo.cli(&["agents"]);
    assert!(
        agents.contains("codex") && agents.contains("reviewer"),
        "{agents}"
    );
    let tree = repo.cli(&["session", "tree", &id]);
    assert!(
        tree.contains("└─") && tree.contains("review the migration"),
        "{tree}"
    );

    let ended = repo.cli_json(&[
        "session",
        "end",
        &id,
        "--reason",
        "superseded by a new plan",
    ]);
    assert_eq!(ended["status"], "abandoned");
    assert_eq!(ended["end_reason"], "superseded by a new plan");
    let again = repo.cli_in(&repo.path, &["session", "end", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already ended"));
    let unknown = repo.cli_in(&repo.path, &["session", "show", "ses_ZZZZZZZZ"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no session matches"));

    // The agent learns about it from the shared state.
    let who = ok(&agent, "whoami", json!({})).await;
    assert_eq!(who["session"]["status"], "abandoned");
    let doctor = repo.cli_json(&["doctor"]);
    assert_eq!(doctor["source"], "git_common_dir");
    assert_eq!(doctor["integrity"], "ok");
    let backend = doctor["backend"].as_str().unwrap();
    assert!(
        backend.starts_with("SQLite 3.") && backend.ends_with("(embedded)"),
        "{backend}"
    );
    let repository = doctor["repository"].as_str().unwrap();
    assert!(
        repository.starts_with("root:") && repository.ends_with("(from its first commit)"),
        "{repository}"
    );
    agent.stop().await.unwrap();
}

#[test]
fn the_event_log_records_the_human_actor_of_a_cli_end() {
    let repo = Repo::new();
    let db = repo.path.join("state.db");
    let db = db.to_str().unwrap();
    let mut store =
        switchboard_core::Store::open(std::path::Path::new(db), Default::default()).unwrap();
    let s = switchboard_core::session::start(
        &mut store,
        &switchboard_core::session::NewSession {
            agent: "a".into(),
            intent: "x".into(),
            ..Default::default()
        },
    )
    .unwrap();
    repo.cli(&["--db", db, "session", "end", &s.id, "--status", "completed"]);
    let events = store.events_after(0, 100).unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.actor.as_deref()),
        ("session.ended", Some("human:ada-lovelace"))
    );
}

#[test]
fn the_demo_runs_real_agents_and_leaves_its_scratch_repository() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("demo");
    let out = std::process::Command::new(crate::common::bin())
        .args(["demo", "--dir", scratch.to_str().unwrap()])
        .env_remove("SWITCHBOARD_DB")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "session_spawn",
        "session_fork",
        "session_heartbeat",
        "message_send",
        "message_wait → woke for",
        "message_reply",
        "message_read",
        "session_end",
        "remember me",
        "in worktree",
        "who_has → README.md is being changed by",
        "would conflict in",
        "merged into main",
        "refused, nothing changed",
        "Final genealogy",
        "⑂",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    let db = scratch.join(".git/switchboard/state.db");
    let mut store = switchboard_core::Store::open(&db, Default::default()).unwrap();
    let page = switchboard_core::session::list(&mut store, &Default::default()).unwrap();
    let statuses: Vec<String> = page.sessions.iter().map(|s| s.status.to_string()).collect();
    assert_eq!(page.sessions.len(), 4, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "completed").count(), 3);
    assert_eq!(statuses.iter().filter(|s| *s == "failed").count(), 1);
}

#[test]
fn the_cli_says_which_command_lists_what_was_not_found() {
    let repo = Repo::new();
    for (args, hint) in [
        (
            vec!["session", "show", "ses_0000000000"],
            "switchboard sessions",
        ),
        (vec!["worktree", "diff", "nope"], "switchboard worktrees"),
        (vec!["thread", "thr_0000000000"], "switchboard inbox"),
    ] {
        let out = repo.cli_in(&repo.path, &args);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("hint: list them with `{hint}`")),
            "{args:?}: {stderr}"
        );
    }
}

/// Runs `switchboard mcp` over stdio with `lines` as its whole input and the given
/// environment; returns its exit status, what it answered and what it logged.
fn stdio_session(
    repo: &Repo,
    lines: &[Vec<u8>],
    env: &[(&str, &str)],
) -> (std::process::ExitStatus, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(crate::common::bin())
        .args(["mcp", "--agent", "claude"])
        .current_dir(&repo.path)
        .env_remove("SWITCHBOARD_DB")
        .env_remove("SWITCHBOARD_LOG_BODIES")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs `switchboard mcp` over stdio with `requests` and the given log settings;
/// returns what it logged.
fn stdio_session_log(repo: &Repo, requests: &[Value], log_env: &[(&str, &str)]) -> String {
    let lines: Vec<Vec<u8>> = requests
        .iter()
        .map(|r| r.to_string().into_bytes())
        .collect();
    stdio_session(repo, &lines, log_env).2
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}"#;

#[test]
fn every_malformed_line_over_stdio_gets_a_json_rpc_error_and_the_server_keeps_serving() {
    let repo = Repo::new();
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let lines: Vec<Vec<u8>> = vec![
        INITIALIZE.into(),
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec(),
        b"this is not json".to_vec(),
        b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{\"a\":\"\xff\"}}".to_vec(),
        br#"{"jsonrpc":"2.0","id":3,"method":"ping","params":{"a":"\ud800"}}"#.to_vec(),
        deep.into_bytes(),
        br#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"whoami","arguments":[1]}}"#.to_vec(),
        br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"whoami","arguments":"me"}}"#.to_vec(),
        br#"{"id":6}"#.to_vec(),
        br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#.to_vec(),
    ];
    let (status, stdout, stderr) = stdio_session(&repo, &lines, &[]);
    assert!(status.success(), "{stderr}");
    let answers: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let code_of = |id: Value| {
        answers
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("no answer for id {id}: {stdout}"))["error"]["code"]
            .as_i64()
    };
    assert_eq!(code_of(json!(3)), Some(-32700), "a lone surrogate");
    assert_eq!(code_of(json!(4)), Some(-32602), "arguments as an array");
    assert_eq!(code_of(json!(5)), Some(-32602), "arguments as a string");
    assert_eq!(code_of(json!(6)), Some(-32600), "no jsonrpc and no method");
    let unidentified = answers.iter().filter(|a| a["id"].is_null()).count();
    assert_eq!(
        unidentified, 3,
        "not JSON, invalid UTF-8, too deep: {stdout}"
    );
    assert!(
        answers
            .iter()
            .filter(|a| a["id"].is_null())
            .all(|a| a["error"]["code"] == -32700),
        "{stdout}"
    );
    let pong = answers.iter().find(|a| a["id"] == 7).unwrap();
    assert_eq!(
        pong["result"],
        json!({}),
        "the server kept serving: {stdout}"
    );
}

#[test]
fn a_client_that_leaves_before_initialize_ends_the_server_quietly() {
    let repo = Repo::new();
    let (status, stdout, stderr) = stdio_session(&repo, &[], &[]);
    assert!(status.success(), "exit {status}: {stderr}");
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""));
}

#[test]
fn debug_logs_carry_ids_sizes_and_timings_but_no_bodies_or_arguments() {
    let repo = Repo::new();
    repo.cli(&["inbox"]);
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "probe", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "session_start", "arguments": {"intent": "secret-intent-4711"}}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "message_send",
            "arguments": {"to": ["human:ada-lovelace"], "body": "secret-body-4711"}}}),
    ];
    let log = stdio_session_log(&repo, &requests, &[("SWITCHBOARD_LOG", "trace")]);
    assert!(
        !log.contains("4711"),
        "a body or argument reached the log:\n{log}"
    );
    let sent = log
        .lines()
        .find(|l| l.contains("tool call") && l.contains("tool=message_send"))
        .unwrap_or_else(|| panic!("no tool call line for message_send:\n{log}"));
    assert!(
        sent.contains("id=Number(3)")
            && sent.contains("argument_bytes=")
            && sent.contains("elapsed_ms=")
            && sent.contains("refused=false"),
        "{sent}"
    );

    let opted_in = stdio_session_log(
        &repo,
        &requests,
        &[
            ("SWITCHBOARD_LOG", "trace"),
            ("SWITCHBOARD_LOG_BODIES", "1"),
        ],
    );
    assert!(
        opted_in.contains("secret-body-4711"),
        "SWITCHBOARD_LOG_BODIES=1 lets the protocol library log whole messages:\n{opted_in}"
    );
}

/// Overwrites `len` bytes of `file` at `at` with a pattern SQLite cannot read.
fn damage(file: &std::path::Path, at: u64, len: usize) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&vec![0xA5; len]).unwrap();
}

#[test]
fn a_damaged_database_is_named_and_doctor_says_how_to_recover() {
    let repo = Repo::new();
    repo.cli(&["inbox", "--as", "bot"]);
    for i in 0..150 {
        let body = format!("message {i} {}", "padding ".repeat(60));
        repo.send("human:other", "bot", &body);
    }
    let db = repo.path.join(".git/switchboard/state.db");
    let size = std::fs::metadata(&db).unwrap().len();
    damage(&db, size / 2, 8192);
    let doctor = repo.cli_in(&repo.path, &["doctor"]);
    assert!(
        !doctor.status.success(),
        "doctor reported a damaged store healthy"
    );
    let said = String::from_utf8_lossy(&doctor.stderr);
    assert!(
        said.contains(&db.display().to_string())
            && said.contains("quick_check")
            && said.contains(".recover"),
        "{said}"
    );

    damage(&db, 0, 100);
    let inbox = repo.cli_in(&repo.path, &["inbox", "--as", "bot"]);
    let said = String::from_utf8_lossy(&inbox.stderr);
    assert!(!inbox.status.success());
    assert!(
        said.contains(&db.display().to_string())
            && said.contains("is damaged")
            && said.contains("switchboard doctor"),
        "{said}"
    );
    assert_eq!(
        said.matches("not a database").count(),
        1,
        "said once: {said}"
    );
    let doctor = repo.cli_in(&repo.path, &["doctor"]);
    let said = String::from_utf8_lossy(&doctor.stderr);
    assert!(
        said.contains("cannot open it") && said.contains(".recover"),
        "{said}"
    );
}

#[test]
fn a_damaged_store_is_restored_from_its_newest_backup_and_the_damaged_file_is_kept() {
    let repo = Repo::new();
    repo.cli(&["inbox", "--as", "bot"]);
    repo.send("human:other", "bot", "before the backup");
    let taken = repo.cli(&["backup"]);
    assert!(taken.starts_with("backed up "), "{taken}");
    repo.send("human:other", "bot", "after the backup");
    let db = repo.path.join(".git/switchboard/state.db");
    damage(&db, 0, 100);

    let doctor = repo.cli_in(&repo.path, &["doctor"]);
    let said = String::from_utf8_lossy(&doctor.stderr);
    assert!(
        said.contains("Restore the newest backup") && said.contains("switchboard restore --latest"),
        "{said}"
    );
    let restored = repo.cli(&["restore", "--latest"]);
    assert!(
        restored.contains("restored") && restored.contains("to undo: switchboard restore"),
        "{restored}"
    );
    let inbox = repo.cli(&["inbox", "--as", "bot"]);
    assert!(
        inbox.contains("before the backup") && !inbox.contains("after the backup"),
        "{inbox}"
    );
    let doctor = repo.cli(&["doctor"]);
    assert!(
        doctor.contains("integrity") && doctor.contains(" ok"),
        "{doctor}"
    );
    let kept: Vec<_> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".replaced-"))
        .collect();
    assert!(!kept.is_empty(), "the damaged store is kept");
}

#[test]
fn restore_puts_back_a_backup_and_can_be_undone() {
    let repo = Repo::new();
    repo.cli(&["inbox", "--as", "bot"]);
    repo.send("human:other", "bot", "first");
    repo.cli(&["backup"]);
    repo.send("human:other", "bot", "second");
    let listed = repo.cli_json(&["backup", "--list"]);
    let backup = listed[0]["path"].as_str().unwrap().to_string();
    let restored = repo.cli_json(&["restore", &backup]);
    let replaced = restored["replaced"].as_str().unwrap().to_string();
    assert!(!repo.cli(&["inbox", "--as", "bot"]).contains("second"));
    repo.cli(&["restore", &replaced]);
    let inbox = repo.cli(&["inbox", "--as", "bot"]);
    assert!(
        inbox.contains("first") && inbox.contains("second"),
        "{inbox}"
    );

    let junk = repo.path.join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let refused = repo.cli_in(&repo.path, &["restore", junk.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("junk.db"),
        "{said}"
    );
}

#[test]
fn a_running_server_takes_rotated_backups_on_its_schedule() {
    use std::io::Write;
    let repo = Repo::new();
    std::fs::write(
        repo.path.join(".switchboard.toml"),
        "[backups]\nevery = \"1s\"\nkeep = 2\n",
    )
    .unwrap();
    let mut server = std::process::Command::new(crate::common::bin())
        .args(["mcp", "--agent", "claude"])
        .current_dir(&repo.path)
        .env_remove("SWITCHBOARD_DB")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dir = repo.path.join(".git/switchboard/backups");
    let backups = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("state-") && n.ends_with(".db"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    // Wait until the first backup seen has been rotated out.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let first = loop {
        if let Some(first) = backups().first() {
            break first.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no backup was taken");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    while backups().contains(&first) {
        assert!(
            std::time::Instant::now() < deadline,
            "backups are not rotated"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server.stdin.take().unwrap().write_all(b"").unwrap();
    server.wait().unwrap();
    assert_eq!(backups().len(), 2, "{:?}", backups());
}

#[tokio::test]
async fn a_store_moves_to_a_new_database_by_export_and_import_and_exports_the_same() {
    let repo = Repo::new();
    let lead = repo.agent(&["--agent", "lead"]).await;
    ok(&lead, "session_start", json!({"intent": "plan"})).await;
    let made = ok(&lead, "worktree_create", json!({"name": "plan"})).await;
    let checkout = std::path::PathBuf::from(made["worktree"]["path"].as_str().unwrap());
    std::fs::write(checkout.join("notes.md"), "draft\n").unwrap();
    ok(&lead, "session_heartbeat", json!({})).await;
    repo.send("human:ada", "lead", "how is it going?");
    let inbox = ok(&lead, "inbox_read", json!({})).await;
    let id = inbox["messages"][0]["id"].clone();
    ok(&lead, "message_read", json!({"ids": [id], "ack": true})).await;
    lead.stop().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.jsonl");
    repo.cli(&["export", "--to", first.to_str().unwrap()]);
    let again = repo.cli_in(&repo.path, &["export", "--to", first.to_str().unwrap()]);
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );
    let moved = dir.path().join("moved.db");
    let moved = moved.to_str().unwrap();
    let loaded = repo.cli_json(&["--db", moved, "import", first.to_str().unwrap()]);
    for kind in [
        "agents",
        "sessions",
        "worktrees",
        "work_context",
        "messages",
        "events",
    ] {
        assert!(
            loaded["kinds"][kind].as_u64().unwrap_or(0) > 0,
            "no {kind}: {loaded}"
        );
    }
    let second = repo.cli(&["--db", moved, "export"]);
    let exported = std::fs::read_to_string(&first).unwrap();
    assert_eq!(
        exported.lines().skip(1).collect::<Vec<_>>(),
        second.lines().skip(1).collect::<Vec<_>>(),
        "the moved store exports the same records"
    );
    let sessions = repo.cli(&["--db", moved, "sessions"]);
    assert!(sessions.contains("plan"), "{sessions}");

    let refused = repo.cli_in(&repo.path, &["import", first.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains("already holds records"), "{said}");
    // A failure's cause is said once.
    let unreadable = repo.cli_in(&repo.path, &["import", dir.path().to_str().unwrap()]);
    let said = String::from_utf8_lossy(&unreadable.stderr);
    assert!(!unreadable.status.success());
    assert_eq!(said.matches("Is a directory").count(), 1, "{said}");
}
