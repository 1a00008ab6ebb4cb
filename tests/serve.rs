//! `switchboard serve` as a real process, next to real `switchboard mcp` stdio processes
//! on the same repository; `switchboard token`; and the settings it refuses.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rmcp::service::ClientLifecycleMode;
use serde_json::{Value, json};
use switchboard_mcp::client::AgentClient;

use crate::common::{Repo, bin, listening_url};

/// A `switchboard serve` child process, killed by PID when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(repo: &Repo) -> Served {
        let mut child = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(&repo.path)
            .env_remove("SWITCHBOARD_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = listening_url(&mut child);
        Served { child, url }
    }

    fn terminate(&self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn discover() -> ClientLifecycleMode {
    ClientLifecycleMode::Discover {
        preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
    }
}

fn token(repo: &Repo, agent: &str) -> String {
    repo.cli(&["token", "create", "--agent", agent])
        .trim()
        .to_string()
}

async fn ok(client: &AgentClient, tool: &str, args: Value) -> Value {
    client
        .call_ok(tool, args)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Starts `message_wait` on `client` in the background.
fn wait_in_background(client: AgentClient) -> tokio::task::JoinHandle<(AgentClient, Value)> {
    tokio::spawn(async move {
        let out = client
            .call_ok("message_wait", json!({"timeout_secs": 60}))
            .await
            .unwrap();
        (client, out)
    })
}

#[tokio::test]
async fn http_and_stdio_agents_wake_each_others_waits_across_processes() {
    let repo = Repo::new();
    let served = Served::start(&repo);
    let claude_token = token(&repo, "claude");
    let over_http = AgentClient::http(&served.url, &claude_token, discover())
        .await
        .unwrap();
    ok(&over_http, "session_start", json!({"intent": "over http"})).await;
    let over_stdio = repo.agent(&["--agent", "codex"]).await;
    ok(
        &over_stdio,
        "session_start",
        json!({"intent": "over stdio"}),
    )
    .await;

    // stdio → HTTP: the HTTP agent's wait ends with the stdio agent's message.
    let waiting = wait_in_background(over_http);
    tokio::time::sleep(Duration::from_millis(300)).await;
    ok(
        &over_stdio,
        "message_send",
        json!({"to": ["claude"], "body": "from stdio"}),
    )
    .await;
    let (over_http, out) = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("the HTTP wait was not woken")
        .unwrap();
    assert_eq!(out["messages"][0]["body"], "from stdio", "{out}");

    // HTTP → stdio.
    let waiting = wait_in_background(over_stdio);
    tokio::time::sleep(Duration::from_millis(300)).await;
    ok(
        &over_http,
        "message_send",
        json!({"to": ["codex"], "body": "from http"}),
    )
    .await;
    let (_, out) = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("the stdio wait was not woken")
        .unwrap();
    assert_eq!(out["messages"][0]["body"], "from http", "{out}");
    assert_eq!(out["messages"][0]["sender"], "claude");
}

#[tokio::test]
async fn sigterm_wakes_http_waiters_with_a_shutdown_result_and_exits_cleanly() {
    let repo = Repo::new();
    let mut served = Served::start(&repo);
    let secret = token(&repo, "claude");
    let client = AgentClient::http(&served.url, &secret, ClientLifecycleMode::Initialize)
        .await
        .unwrap();
    ok(&client, "session_start", json!({"intent": "waiting"})).await;
    let waiting = wait_in_background(client);
    tokio::time::sleep(Duration::from_millis(500)).await;
    served.terminate();
    let (_, out) = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("the wait was not woken by the shutdown")
        .unwrap();
    assert_eq!(out["shutdown"], true, "{out}");
    let status = served.child.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
}

#[test]
fn tokens_are_created_listed_and_revoked_from_the_cli() {
    let repo = Repo::new();
    let out = repo.cli_in(
        &repo.path,
        &[
            "token",
            "create",
            "--agent",
            "claude",
            "--expires",
            "30d",
            "--label",
            "laptop",
        ],
    );
    assert!(out.status.success());
    let secret = String::from_utf8(out.stdout).unwrap();
    assert!(
        secret.trim().starts_with("sbt_"),
        "only the secret goes to stdout: {secret}"
    );
    let note = String::from_utf8(out.stderr).unwrap();
    assert!(note.contains("only time the secret is shown"), "{note}");

    let listed = repo.cli_json(&["token", "list"]);
    let first = &listed[0];
    assert_eq!(first["agent"], "claude");
    assert_eq!(first["label"], "laptop");
    assert_eq!(first["state"], "active");
    assert!(first["expires_at"].is_string());
    assert!(
        !listed.to_string().contains(secret.trim()),
        "secrets are never listed"
    );

    let id = first["id"].as_str().unwrap();
    let revoked = repo.cli_json(&["token", "revoke", id]);
    assert_eq!(revoked["state"], "revoked");
    assert_eq!(repo.cli_json(&["token", "list"]), json!([]));
    assert_eq!(
        repo.cli_json(&["token", "list", "--all"])[0]["state"],
        "revoked"
    );

    let bad = repo.cli_in(
        &repo.path,
        &["token", "create", "--agent", "claude", "--expires", "soon"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("neither a duration"));

    for instant in ["0s", "0m", "2000-01-01T00:00:00Z"] {
        let refused = repo.cli_in(
            &repo.path,
            &["token", "create", "--agent", "claude", "--expires", instant],
        );
        assert!(
            !refused.status.success(),
            "--expires {instant} was accepted"
        );
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("positive duration") || stderr.contains("in the past"),
            "{stderr}"
        );
    }
    assert_eq!(
        repo.cli_json(&["token", "list", "--all"])
            .as_array()
            .unwrap()
            .len(),
        1,
        "a refused token must not be stored"
    );
}

#[test]
fn serve_refuses_remote_addresses_unless_allowed_and_never_without_a_token() {
    let repo = Repo::new();
    let out = repo.cli_in(&repo.path, &["serve", "--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));

    let out = repo.cli_in(
        &repo.path,
        &["serve", "--listen", "0.0.0.0:0", "--allow-remote"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no active token"));
}

/// The conformance suite's fixture server is a feature of test builds (`conformance-fixtures`):
/// the product has no such flag.
#[cfg(not(feature = "conformance-fixtures"))]
#[test]
fn the_product_has_no_conformance_fixtures() {
    let repo = Repo::new();
    let out = repo.cli_in(
        &repo.path,
        &["serve", "--conformance-fixtures", "--print-config"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unexpected argument '--conformance-fixtures'"),
        "{stderr}"
    );
}

#[test]
fn print_config_gives_each_client_the_url_and_a_token_from_the_environment() {
    let repo = Repo::new();
    let configs = repo.cli_json(&["serve", "--listen", "127.0.0.1:9999", "--print-config"]);
    let url = "http://127.0.0.1:9999/mcp";
    let claude = &configs["claude_code"]["config"]["mcpServers"]["switchboard"];
    assert_eq!(claude["type"], "http");
    assert_eq!(claude["url"], url);
    assert_eq!(
        claude["headers"]["Authorization"],
        "Bearer ${SWITCHBOARD_TOKEN}"
    );
    let codex = configs["codex"]["config"].as_str().unwrap();
    assert!(codex.contains(&format!("url = \"{url}\"")), "{codex}");
    assert!(codex.contains("bearer_token_env_var = \"SWITCHBOARD_TOKEN\""));
    let vscode = &configs["vscode"]["config"];
    assert_eq!(vscode["servers"]["switchboard"]["url"], url);
    assert_eq!(vscode["inputs"][0]["password"], true);
    let help = repo.cli(&["serve", "--help"]);
    assert!(
        !help.contains("conformance"),
        "the fixture mode stays out of help: {help}"
    );
    let text = repo.cli(&["serve", "--print-config"]);
    assert!(
        text.contains("# Claude Code: .mcp.json") && text.contains("# Codex"),
        "{text}"
    );
}

/// (e) over HTTP: a token acts only for its own agent, so another agent's token cannot
/// end, update or re-register what is not its own.
#[tokio::test]
async fn a_token_changes_only_its_own_agents_things() {
    let repo = Repo::new();
    let served = Served::start(&repo);
    let alpha = AgentClient::http(&served.url, &token(&repo, "alpha"), discover())
        .await
        .unwrap();
    let beta = AgentClient::http(&served.url, &token(&repo, "beta"), discover())
        .await
        .unwrap();
    let started = ok(&alpha, "session_start", json!({"intent": "mine"})).await;
    let id = started["session"]["id"].clone();
    ok(&alpha, "worktree_create", json!({"name": "aw"})).await;
    ok(
        &alpha,
        "group_create",
        json!({"name": "team", "members": ["alpha"]}),
    )
    .await;
    for (tool, args) in [
        ("session_end", json!({"session": id})),
        ("session_update", json!({"session": id, "intent": "taken"})),
        (
            "agent_register",
            json!({"name": "alpha", "role": "reviewer"}),
        ),
        ("worktree_merge", json!({"name": "aw"})),
        ("worktree_remove", json!({"name": "aw", "force": true})),
        ("group_update", json!({"name": "team", "remove": ["alpha"]})),
        ("group_delete", json!({"name": "team"})),
    ] {
        let out = beta.call(tool, args).await.unwrap();
        assert!(out.is_error, "{tool} by beta should be refused");
        assert!(
            out.text.contains("you ('beta') may"),
            "{tool}: {}",
            out.text
        );
    }
    let session = ok(&alpha, "session_get", json!({"session": id})).await;
    assert_eq!(session["status"], "active");
    assert_eq!(session["intent"], "mine");
    let worktrees = ok(&alpha, "worktree_list", json!({})).await;
    assert_eq!(worktrees["worktrees"][0]["name"], "aw", "still there");
}
