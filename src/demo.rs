//! `switchboard demo`: several real `switchboard mcp` processes in a scratch git
//! repository, driven through MCP as agents would drive them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use clap::Args;
use serde_json::{Value, json};
use switchboard_mcp::client::AgentClient;

use crate::Global;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to create the scratch repository (default: a new directory under the system temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// One demo agent: a name and its own MCP server process.
struct Agent {
    name: &'static str,
    client: AgentClient,
}

impl Agent {
    async fn start(name: &'static str, repo: &Path, session: Option<&str>) -> Result<Agent> {
        let exe = std::env::current_exe().context("cannot find the switchboard binary")?;
        let mut args = vec!["mcp", "--agent", name];
        if let Some(id) = session {
            args.extend(["--session", id]);
        }
        let client = AgentClient::spawn(&exe, &args, repo, &[])
            .await
            .map_err(|e| anyhow!("cannot start `switchboard mcp` for {name}: {e}"))?;
        println!(
            "  {name:<12} started its own `switchboard mcp` (pid {})",
            client.server_pid.unwrap_or_default()
        );
        Ok(Agent { name, client })
    }

    /// Calls a tool, prints a one-line account of it, and returns the structured result.
    async fn call(&self, tool: &str, args: Value) -> Result<Value> {
        let out = self
            .client
            .call_ok(tool, args.clone())
            .await
            .map_err(|e| anyhow!("{}: {e}", self.name))?;
        println!("  {:<12} {tool}{}", self.name, summary(tool, &args, &out));
        Ok(out)
    }

    /// Waits for the task message and answers it (which marks it read).
    async fn take_task(&self) -> Result<()> {
        let got = self
            .call("message_wait", json!({"timeout_secs": 30}))
            .await?;
        let task = &got["messages"][0];
        // Replying marks the task read.
        self.call(
            "message_reply",
            json!({"message": task["id"], "body": "On it."}),
        )
        .await?;
        Ok(())
    }

    async fn stop(self) -> Result<()> {
        self.client.stop().await.map_err(|e| anyhow!("{e}"))
    }
}

fn summary(tool: &str, args: &Value, out: &Value) -> String {
    let quote = |text: Option<&str>| text.map(|t| format!(" “{t}”")).unwrap_or_default();
    match tool {
        "session_list" => format!(
            " → {} live sessions",
            out["sessions"].as_array().map_or(0, Vec::len)
        ),
        "message_sent" => {
            let states: Vec<String> = out["sent"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|s| s["deliveries"].as_array().into_iter().flatten())
                .map(|d| {
                    format!(
                        "{} {}",
                        d["recipient"].as_str().unwrap_or("?"),
                        d["state"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            format!(" → delivery states: {}", states.join(", "))
        }
        "message_send" | "message_reply" => {
            let to: Vec<&str> = out["to"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!(
                " → {} to {}{}",
                out["id"].as_str().unwrap_or("?"),
                to.join(", "),
                quote(args["body"].as_str())
            )
        }
        "message_wait" if out["timed_out"] == true => " → timed out".into(),
        "message_wait" => {
            let first = &out["messages"][0];
            format!(
                " → woke for {} from {}{}",
                first["id"].as_str().unwrap_or("?"),
                first["sender"].as_str().unwrap_or("?"),
                quote(first["body"].as_str())
            )
        }
        "who_has" => {
            let holders: Vec<&str> = out["holders"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| h["agent"].as_str())
                .collect();
            format!(
                " → {} is being changed by {}",
                out["path"].as_str().unwrap_or("?"),
                holders.join(" and ")
            )
        }
        "worktree_conflicts" => {
            let findings: Vec<String> = out["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let verdict = if c["would_conflict"] == true {
                        "would conflict"
                    } else {
                        "overlap"
                    };
                    format!(
                        "{} × {} {verdict} in {}",
                        c["a"].as_str().unwrap_or("?"),
                        c["b"].as_str().unwrap_or("?"),
                        c["overlapping"]
                    )
                })
                .collect();
            format!(" → {}", findings.join("; "))
        }
        "worktree_merge" => format!(
            " → {} merged into {} ({} files), backup {}",
            out["worktree"].as_str().unwrap_or("?"),
            out["into"].as_str().unwrap_or("?"),
            out["files"].as_array().map_or(0, Vec::len),
            out["backup"].as_str().unwrap_or("?")
        ),
        "session_spawn" if out["worktree"].is_object() => format!(
            " → {} for {} in worktree {}{}",
            out["id"].as_str().unwrap_or("?"),
            out["agent"].as_str().unwrap_or("?"),
            out["worktree"]["name"].as_str().unwrap_or("?"),
            quote(out["intent"].as_str())
        ),
        "message_read" => format!(
            " → {} {}",
            out["marked"][0].as_str().unwrap_or("?"),
            if args["ack"] == true { "acked" } else { "read" }
        ),
        _ => {
            let session = out.get("session").unwrap_or(out);
            let id = session["id"].as_str().unwrap_or("?");
            let status = session["status"].as_str().unwrap_or("?");
            let detail = quote(
                args.get("intent")
                    .or_else(|| args.get("reason"))
                    .and_then(Value::as_str),
            );
            format!(" → {id} [{status}]{detail}")
        }
    }
}

/// The worktree path of a session created with `worktree: true`.
fn worktree_path(session: &Value) -> Result<PathBuf> {
    session["worktree"]["path"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("session {} has no worktree", session["id"]))
}

/// Writes files and commits them in `dir`, as an agent at work would.
fn commit_work(dir: &Path, files: &[(&str, &str)], message: &str) -> Result<()> {
    for (file, content) in files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
    }
    git(dir, &["add", "--all", "--", "src", "README.md"])?;
    git(dir, &["commit", "-q", "-m", message])
}

/// Runs git with `args` in `dir`; its error output becomes the error.
fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        return Err(anyhow!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// A new repository with one commit, in `dir` or in a new private temporary directory
/// (left in place afterwards, for the user to look at).
fn scratch_repo(dir: Option<PathBuf>) -> Result<PathBuf> {
    let dir = match dir {
        Some(d) => {
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create {}", d.display()))?;
            d
        }
        None => tempfile::Builder::new()
            .prefix("switchboard-demo-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .context("cannot create a temporary directory")?
            .keep(),
    };
    let git = |args: &[&str]| git(&dir, args);
    git(&["init", "-q", "-b", "main"])?;
    git(&["config", "user.name", "Demo"])?;
    git(&["config", "user.email", "demo@example.invalid"])?;
    std::fs::write(dir.join("README.md"), "# demo app\n\nLogin: not started\n")?;
    git(&["add", "README.md"])?;
    git(&["commit", "-q", "-m", "Initial commit"])?;
    Ok(dir)
}

pub fn run(global: &Global, args: DemoArgs) -> Result<()> {
    if global.db.is_some() {
        return Err(anyhow!(
            "the demo makes its own scratch repository and state; drop --db"
        ));
    }
    let repo = scratch_repo(args.dir)?;
    println!("Scratch repository: {}\n", repo.display());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(script(&repo))?;
    println!(
        "\nThe scratch repository is left for inspection:\n  cd {} && switchboard sessions && switchboard worktrees && switchboard inbox --as lead",
        repo.display()
    );
    Ok(())
}

async fn script(repo: &Path) -> Result<()> {
    println!("A lead agent plans the work and hands out two subtasks:");
    let lead = Agent::start("lead", repo, None).await?;
    let root = lead
        .call(
            "session_start",
            json!({"intent": "Ship the login feature", "role": "lead"}),
        )
        .await?;
    let api = lead
        .call(
            "session_spawn",
            json!({"agent": "backend", "intent": "Build the login API", "worktree": true}),
        )
        .await?;
    let form = lead
        .call(
            "session_spawn",
            json!({"agent": "frontend", "intent": "Build the login form", "worktree": true}),
        )
        .await?;
    lead.call("message_send", json!({"to": ["backend"], "subject": "Your task", "body": "Build POST /login, rate-limited."}))
        .await?;
    lead.call("message_send", json!({"to": ["frontend"], "subject": "Your task", "body": "Build the login form against POST /login."}))
        .await?;

    println!(
        "\nEach worker runs its own server inside its own worktree, which binds it to the session spawned for it:"
    );
    let api_dir = worktree_path(&api)?;
    let form_dir = worktree_path(&form)?;
    let backend = Agent::start("backend", &api_dir, None).await?;
    let frontend = Agent::start("frontend", &form_dir, None).await?;
    backend.take_task().await?;
    backend.call("session_heartbeat", json!({})).await?;
    frontend.take_task().await?;

    println!("\nThe frontend asks a question; the backend waits for news while the lead answers:");
    let question = frontend
        .call("message_send", json!({"to": ["lead"], "priority": "high", "body": "Should the form offer 'remember me'?"}))
        .await?;
    let backend_waits = backend.call("message_wait", json!({"from": "lead", "timeout_secs": 30}));
    let lead_answers = async {
        let asked = lead
            .call(
                "message_wait",
                json!({"from": "frontend", "timeout_secs": 30}),
            )
            .await?;
        // The wait hands over everything new from the frontend, once: its "On it." and
        // the urgent question.
        let question_id = asked["messages"]
            .as_array()
            .and_then(|all| all.iter().find(|m| m["priority"] == "high"))
            .map(|m| m["id"].clone())
            .ok_or_else(|| anyhow!("the frontend's question did not arrive: {asked}"))?;
        lead.call(
            "message_reply",
            json!({"message": question_id, "body": "Yes: remember for 30 days."}),
        )
        .await?;
        lead.call("message_send", json!({"to": ["backend"], "body": "The form will ask for 30-day sessions; add long-lived tokens."}))
            .await
    };
    let (woke, answered) = tokio::join!(backend_waits, lead_answers);
    let (woke, _) = (woke?, answered?);
    backend
        .call("message_read", json!({"ids": [woke["messages"][0]["id"]]}))
        .await?;
    let answer = frontend
        .call(
            "message_wait",
            json!({"thread": question["thread"], "timeout_secs": 30}),
        )
        .await?;
    frontend
        .call(
            "message_read",
            json!({"ids": [answer["messages"][0]["id"]], "ack": true}),
        )
        .await?;
    backend
        .call(
            "session_update",
            json!({"intent": "Build the login API with rate limits and long-lived tokens"}),
        )
        .await?;

    println!(
        "\nThe workers change files in their worktrees and commit; the lead sees who changes what:"
    );
    commit_work(
        &api_dir,
        &[
            ("src/api.rs", "pub fn login() {}\n"),
            ("README.md", "# demo app\n\nLogin: API ready\n"),
        ],
        "Add the login API",
    )?;
    commit_work(
        &form_dir,
        &[
            ("src/form.ts", "export const form = {};\n"),
            ("README.md", "# demo app\n\nLogin: form ready\n"),
        ],
        "Add the login form",
    )?;
    backend.call("session_heartbeat", json!({})).await?;
    frontend.call("session_heartbeat", json!({})).await?;
    lead.call("who_has", json!({"path": "README.md"})).await?;
    lead.call("worktree_conflicts", json!({})).await?;

    println!(
        "\nThe lead merges the backend's work and is warned before the frontend's would conflict:"
    );
    lead.call(
        "worktree_merge",
        json!({"name": api["worktree"]["name"], "strategy": "squash"}),
    )
    .await?;
    let refused = lead
        .client
        .call("worktree_merge", json!({"name": form["worktree"]["name"]}))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "  {:<12} worktree_merge → refused, nothing changed: {}",
        "lead", refused.text
    );
    lead.call(
        "message_send",
        json!({"to": ["frontend"], "priority": "high", "body": "Your worktree conflicts with main in README.md: run worktree_sync after resolving."}),
    )
    .await?;

    println!("\nThe frontend forks an alternative approach, worked by a third agent:");
    let alt = frontend
        .call(
            "session_fork",
            json!({"agent": "frontend-alt", "intent": "Try the form as a web component"}),
        )
        .await?;
    let alternative = Agent::start("frontend-alt", repo, alt["id"].as_str()).await?;
    alternative
        .call(
            "session_end",
            json!({"status": "failed", "reason": "web components clash with the design system"}),
        )
        .await?;

    println!("\nEveryone sees the same state, whichever process asks:");
    backend
        .call("session_list", json!({"live_only": true}))
        .await?;
    lead.call("message_sent", json!({})).await?;

    println!("\nThe workers finish; the lead reads the genealogy and closes its session:");
    frontend
        .call(
            "session_end",
            json!({"status": "completed", "reason": "form done, tests green"}),
        )
        .await?;
    backend
        .call(
            "session_end",
            json!({"status": "completed", "reason": "API done with rate limits"}),
        )
        .await?;
    let root_id = root["session"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    lead.call(
        "session_end",
        json!({"status": "completed", "reason": "login shipped"}),
    )
    .await?;
    let tree = lead
        .client
        .call("session_tree", json!({"session": root_id}))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let conversation = lead
        .client
        .call("thread_get", json!({"thread": question["thread"]}))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    for agent in [lead, backend, frontend, alternative] {
        agent.stop().await?;
    }
    println!("\nThe question's thread:\n{}", conversation.text);
    println!(
        "\nFinal genealogy (● active, ✓ completed, ✗ failed, ⑂ fork):\n{}",
        tree.text
    );
    Ok(())
}
