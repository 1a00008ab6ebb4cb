//! Agents working together, played the way an LLM agent would: real `switchboard mcp`
//! processes started from one committed configuration (no `--agent`), following the
//! server's instructions literally, reading only the tool results.

use serde_json::{Value, json};
use switchboard_mcp::client::AgentClient;
use switchboard_testutils::{commit, git, str_at};

use crate::common::Repo;

async fn ok(client: &AgentClient, tool: &str, args: Value) -> Value {
    client
        .call_ok(tool, args)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn refused(client: &AgentClient, tool: &str, args: Value) -> String {
    let out = client.call(tool, args).await.unwrap();
    assert!(
        out.is_error,
        "{tool} should have been refused, got {:?}",
        out.structured
    );
    out.text
}

/// The string at `pointer`, owned (the scenarios keep ids past their results).
fn text(value: &Value, pointer: &str) -> String {
    str_at(value, pointer).to_string()
}

/// (a) A lead spawns two workers with worktrees; each worker's server is started in its
/// worktree from the same committed configuration and the worker does exactly what the
/// instructions say. The genealogy stays intact: no worker starts a new root.
#[tokio::test]
async fn workers_started_in_their_worktrees_keep_the_genealogy() {
    let repo = Repo::new();
    let lead = repo.instance_in("claude-code", &repo.path).await;
    let started = ok(
        &lead,
        "session_start",
        json!({"intent": "ship the parser rewrite"}),
    )
    .await;
    let root = text(&started, "/session/id");
    let mut workers = Vec::new();
    for task in ["rewrite the lexer", "update the docs"] {
        let child = ok(
            &lead,
            "session_spawn",
            json!({"intent": task, "worktree": true}),
        )
        .await;
        let path = std::path::PathBuf::from(text(&child, "/worktree/path"));
        let worker = repo.instance_in("claude-code", &path).await;
        // The worker's instructions say who it is and where it works.
        let instructions = worker.instructions().unwrap();
        let id = text(&child, "/id");
        assert!(
            instructions.contains(&format!("already in session {id}"))
                && instructions.contains(task)
                && instructions.contains(&format!("a subtask of {root}"))
                && instructions.contains(&path.display().to_string()),
            "{instructions}"
        );
        // What the model is shown stays within budget for a bound worker too (13,500 since
        // the three claim tools of issue 16; 12,000 before).
        let shown = switchboard_mcp::reference::context_size() + instructions.len();
        assert!(
            shown < 13_500,
            "{shown} characters of tools and instructions"
        );
        // Step 1 of the playbook, literally.
        let begun = ok(&worker, "session_start", json!({"intent": task})).await;
        assert_eq!(text(&begun, "/session/id"), id, "joined, not replaced");
        assert!(text(&begun, "/note").contains("continuing"), "{begun}");
        let who = ok(&worker, "whoami", json!({})).await;
        assert_eq!(
            who["session"]["process"]["pid"],
            json!(worker.server_pid.unwrap())
        );
        workers.push((worker, id, text(&child, "/agent")));
    }
    assert_ne!(workers[0].2, workers[1].2, "each worker is its own agent");
    let tree = ok(&lead, "session_tree", json!({})).await;
    let rendered = tree.to_string();
    for (_, id, _) in &workers {
        assert!(rendered.contains(id.as_str()), "{id} missing from {tree}");
    }
    let sessions = ok(&lead, "session_list", json!({})).await;
    let sessions = sessions["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "no stray root sessions: {sessions:?}");
    for s in sessions {
        assert_eq!(s["status"], "active", "{s}");
        if s["id"] != json!(root) {
            assert_eq!(s["parent"], json!(root), "{s}");
        }
    }
}

/// (b) Two instances from one committed configuration get distinct, readable identities
/// and separate inboxes; the repository's human is addressable before using the CLI.
#[tokio::test]
async fn two_instances_from_one_config_have_their_own_names_and_inboxes() {
    let repo = Repo::new();
    let first = repo.instance_in("claude-code", &repo.path).await;
    let second = repo.instance_in("claude-code", &repo.path).await;
    let a = ok(&first, "session_start", json!({"intent": "lead"})).await;
    let b = ok(&second, "session_start", json!({"intent": "help"})).await;
    let (a, b) = (text(&a, "/agent"), text(&b, "/agent"));
    assert!(
        a.starts_with("claude-") && b.starts_with("claude-"),
        "{a} {b}"
    );
    assert_ne!(a, b);
    ok(
        &second,
        "message_send",
        json!({"to": [a], "body": "which parser do I take?"}),
    )
    .await;
    let a_inbox = ok(&first, "inbox_read", json!({})).await;
    let b_inbox = ok(&second, "inbox_read", json!({})).await;
    assert_eq!(a_inbox["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        b_inbox["messages"].as_array().unwrap().len(),
        0,
        "the question is not in the asker's own inbox"
    );
    // The human of the checkout (git user.name "Ada Lovelace") is known without having
    // used the CLI, and the instructions name them.
    assert!(
        first.instructions().unwrap().contains("human:ada-lovelace"),
        "{:?}",
        first.instructions()
    );
    ok(
        &first,
        "message_send",
        json!({"to": ["human:ada-lovelace"], "body": "done for today"}),
    )
    .await;
    let inbox = repo.cli_json(&["inbox"]);
    assert_eq!(inbox["messages"][0]["body"], "done for today", "{inbox}");
}

/// (e) Authorization follows identity over stdio: owner, another agent, the parent's
/// agent and a human, on end, update, register, merge, remove and group edits.
#[tokio::test]
async fn only_owners_parents_and_humans_change_what_is_theirs() {
    let repo = Repo::new();
    let lead = repo.agent(&["--agent", "lead"]).await;
    let other = repo.agent(&["--agent", "other"]).await;
    ok(&lead, "session_start", json!({"intent": "lead"})).await;
    ok(&other, "session_start", json!({"intent": "meddle"})).await;
    let child = ok(
        &lead,
        "session_spawn",
        json!({"intent": "work", "agent": "worker", "worktree": true}),
    )
    .await;
    let id = text(&child, "/id");
    let tree = text(&child, "/worktree/name");
    let path = std::path::PathBuf::from(text(&child, "/worktree/path"));
    let worker = repo.agent_in(&path, &["--agent", "worker"]).await;
    ok(&worker, "session_start", json!({})).await;
    commit(&path, "w.txt", "w\n", "worker commit");

    // Another agent may change nothing of the worker's, and is told who may.
    let msg = refused(&other, "session_end", json!({"session": id})).await;
    assert!(
        msg.contains("may not end") && msg.contains("'worker'") && msg.contains("'lead'"),
        "{msg}"
    );
    let msg = refused(
        &other,
        "session_update",
        json!({"session": id, "intent": "mine now"}),
    )
    .await;
    assert!(msg.contains("only its owner 'worker' or a human"), "{msg}");
    let msg = refused(
        &other,
        "agent_register",
        json!({"name": "worker", "role": "reviewer"}),
    )
    .await;
    assert!(msg.contains("registers only itself"), "{msg}");
    let msg = refused(&other, "worktree_merge", json!({"name": tree})).await;
    assert!(msg.contains("may not merge"), "{msg}");
    let msg = refused(
        &other,
        "worktree_remove",
        json!({"name": tree, "force": true}),
    )
    .await;
    assert!(msg.contains("may not remove"), "{msg}");
    assert!(path.exists());

    // The parent's agent may not rewrite the worker's task, but may merge and end it.
    let msg = refused(
        &lead,
        "session_update",
        json!({"session": id, "intent": "something else"}),
    )
    .await;
    assert!(msg.contains("only its owner 'worker'"), "{msg}");
    ok(&lead, "worktree_merge", json!({"name": tree})).await;
    let ended = ok(
        &lead,
        "session_end",
        json!({"session": id, "status": "abandoned", "reason": "enough"}),
    )
    .await;
    assert_eq!(ended["status"], "abandoned");

    // Groups: the creator changes them; others may only join or leave.
    ok(
        &lead,
        "group_create",
        json!({"name": "team", "members": ["lead"]}),
    )
    .await;
    let msg = refused(
        &other,
        "group_update",
        json!({"name": "team", "remove": ["lead"]}),
    )
    .await;
    assert!(msg.contains("only add or remove yourself"), "{msg}");
    ok(
        &other,
        "group_update",
        json!({"name": "team", "add": ["other"]}),
    )
    .await;
    let msg = refused(&other, "group_delete", json!({"name": "team"})).await;
    assert!(msg.contains("may not delete group 'team'"), "{msg}");

    // A human may act on everything, and is recorded as the actor.
    let other_session = ok(&other, "whoami", json!({})).await;
    let other_id = text(&other_session, "/session/id");
    let out = repo.cli(&["session", "end", &other_id, "--reason", "stop meddling"]);
    assert!(out.contains("ended by human:ada-lovelace"), "{out}");
}

fn ids(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

/// (c) Ask and answer: a wait returns each message once per session, so an agent that
/// waits again is not handed the same question; a reply marks the question read.
#[tokio::test]
async fn waits_never_return_the_same_message_twice() {
    let repo = Repo::new();
    let lead = repo.agent(&["--agent", "lead"]).await;
    let worker = repo.agent(&["--agent", "worker"]).await;
    ok(&lead, "session_start", json!({"intent": "lead"})).await;
    ok(&worker, "session_start", json!({"intent": "work"})).await;
    let question = ok(
        &worker,
        "message_send",
        json!({"to": ["lead"], "body": "tabs or spaces?"}),
    )
    .await;
    let first = ok(&lead, "message_wait", json!({"timeout_secs": 5})).await;
    assert_eq!(ids(&first["messages"]), [text(&question, "/id")]);
    // The lead waits again without reading: the question is not handed over twice.
    let again = ok(&lead, "message_wait", json!({"timeout_secs": 1})).await;
    assert_eq!(again["messages"], json!([]), "{again}");
    assert_eq!(again["timed_out"], true);
    assert_eq!(
        again["older_unread"], 1,
        "it says the question is still unread"
    );
    // Answering marks the question read; the worker waits for the answer in the thread.
    ok(
        &lead,
        "message_reply",
        json!({"message": text(&question, "/id"), "body": "spaces"}),
    )
    .await;
    let status = ok(&lead, "status", json!({})).await;
    assert_eq!(status["unread"], 0, "{status}");
    let answer = ok(
        &worker,
        "message_wait",
        json!({"thread": text(&question, "/thread"), "timeout_secs": 5}),
    )
    .await;
    assert_eq!(answer["messages"][0]["body"], "spaces");
    let after = ok(&worker, "message_wait", json!({"timeout_secs": 1})).await;
    assert_eq!(after["messages"], json!([]), "{after}");
    // An inbox look counts as being shown too.
    ok(
        &worker,
        "message_send",
        json!({"to": ["lead"], "body": "thanks"}),
    )
    .await;
    let inbox = ok(&lead, "inbox_read", json!({"unread_only": true})).await;
    assert_eq!(inbox["messages"].as_array().unwrap().len(), 1);
    let waited = ok(&lead, "message_wait", json!({"timeout_secs": 1})).await;
    assert_eq!(waited["messages"], json!([]), "{waited}");
}

/// (d) The parent learns what its children do without polling: a notice from
/// `switchboard` when a child's worktree has commits ready, when a merge of it is refused,
/// and when it ends; `status` says what needs the parent.
#[tokio::test]
async fn the_parent_is_told_when_a_child_is_ready_refused_or_ends() {
    let repo = Repo::new();
    std::fs::write(repo.path.join("shared.txt"), "base\n").unwrap();
    repo.git(&["add", "shared.txt"]);
    repo.git(&["commit", "-q", "-m", "shared"]);
    let lead = repo.agent(&["--agent", "lead"]).await;
    ok(&lead, "session_start", json!({"intent": "lead"})).await;
    let child = ok(
        &lead,
        "session_spawn",
        json!({"intent": "change shared", "agent": "worker", "worktree": true}),
    )
    .await;
    let path = std::path::PathBuf::from(text(&child, "/worktree/path"));
    let tree = text(&child, "/worktree/name");
    let worker = repo.agent_in(&path, &["--agent", "worker"]).await;
    ok(&worker, "session_start", json!({})).await;
    std::fs::write(path.join("shared.txt"), "worker\n").unwrap();
    git(&path, &["commit", "-q", "-am", "worker change"]);
    ok(&worker, "session_heartbeat", json!({})).await;
    let ready = ok(&lead, "message_wait", json!({"timeout_secs": 5})).await;
    let notice = &ready["messages"][0];
    assert_eq!(notice["sender"], "switchboard", "{ready}");
    assert!(
        text(notice, "/subject").contains("ready to merge")
            && text(notice, "/body").contains("worktree_merge"),
        "{notice}"
    );

    // A second commit is no news: the parent was told once.
    commit(&path, "more.txt", "more\n", "more");
    ok(&worker, "session_heartbeat", json!({})).await;

    // The main checkout moves on in a conflicting way; the worker's merge is refused.
    std::fs::write(repo.path.join("shared.txt"), "lead\n").unwrap();
    repo.git(&["commit", "-q", "-am", "lead change"]);
    let out = worker
        .call("worktree_merge", json!({"name": tree}))
        .await
        .unwrap();
    assert!(
        out.is_error && out.text.contains("would conflict"),
        "{}",
        out.text
    );
    let refused = ok(&lead, "message_wait", json!({"timeout_secs": 5})).await;
    assert_eq!(
        refused["messages"].as_array().unwrap().len(),
        1,
        "{refused}"
    );
    let notice = &refused["messages"][0];
    assert!(
        text(notice, "/subject").contains("refused") && notice["priority"] == "high",
        "{notice}"
    );
    // The worker's status shows the conflict with its base.
    let status = ok(&worker, "status", json!({})).await;
    assert_eq!(
        status["worktree"]["conflicts"],
        json!(["shared.txt"]),
        "{status}"
    );
    assert_eq!(status["session"]["parent_agent"], "lead");

    ok(
        &worker,
        "session_end",
        json!({"reason": "done, needs a rebase"}),
    )
    .await;
    let ended = ok(&lead, "message_wait", json!({"timeout_secs": 5})).await;
    let notice = &ended["messages"][0];
    assert!(
        text(notice, "/body").contains("ended completed: done, needs a rebase"),
        "{notice}"
    );
    let status = ok(&lead, "status", json!({})).await;
    assert_eq!(status["children"][0]["status"], "completed", "{status}");
    let needs: Vec<&str> = status["needs_you"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        needs
            .iter()
            .any(|n| n.contains("completed with 2 unmerged commit(s): worktree_merge")),
        "{status}"
    );
}

/// Two sessions editing the same lines without committing are a conflict on the radar,
/// and `who_has` knows about an edit without an explicit heartbeat.
#[tokio::test]
async fn the_radar_sees_uncommitted_edits_to_the_same_lines() {
    let repo = Repo::new();
    std::fs::write(repo.path.join("shared.txt"), "one\ntwo\nthree\n").unwrap();
    repo.git(&["add", "shared.txt"]);
    repo.git(&["commit", "-q", "-m", "shared"]);
    let lead = repo.agent(&["--agent", "lead"]).await;
    ok(&lead, "session_start", json!({"intent": "lead"})).await;
    let mut names = Vec::new();
    let mut workers = Vec::new();
    for (agent, line) in [("a", "two (a)"), ("b", "two (b)")] {
        let child = ok(
            &lead,
            "session_spawn",
            json!({"intent": "edit", "agent": agent, "worktree": true}),
        )
        .await;
        let path = std::path::PathBuf::from(text(&child, "/worktree/path"));
        std::fs::write(path.join("shared.txt"), format!("one\n{line}\nthree\n")).unwrap();
        let worker = repo.agent_in(&path, &["--agent", agent]).await;
        // Any tool call records what the agent is changing (the first one is due at once).
        ok(&worker, "status", json!({})).await;
        names.push(text(&child, "/worktree/name"));
        workers.push(worker);
    }
    // Each one's briefing says who else is changing the files it changed.
    let briefing = ok(&workers[0], "status", json!({})).await;
    assert_eq!(
        briefing["shared"],
        json!([{"path": "shared.txt", "agents": ["b"]}]),
        "{briefing}"
    );
    let who = ok(&lead, "who_has", json!({"path": "shared.txt"})).await;
    assert_eq!(who["holders"].as_array().unwrap().len(), 2, "{who}");
    let radar = ok(&lead, "worktree_conflicts", json!({})).await;
    let finding = radar["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["a"] == json!(names[0]) && f["b"] == json!(names[1]))
        .unwrap_or_else(|| panic!("{radar}"));
    assert_eq!(finding["would_conflict"], true, "{finding}");
    assert_eq!(finding["conflicting_files"], json!(["shared.txt"]));
}
