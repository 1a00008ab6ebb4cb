//! What tool results cost an agent: the characters of `structuredContent` (what Claude Code
//! passes to the model) over one fixed, scripted three-agent workflow, per tool and in total,
//! plus the size of the model-facing tool list. Prints a table and writes
//! `benches/structured.json`.
//!
//! The agents are real `switchboard mcp` processes on one state database in a scratch git
//! repository: a lead spawns two workers with worktrees, the workers' servers are started in
//! their worktrees, one asks a question and waits for the answer, commits, the lead looks
//! around, merges and everyone ends. Needs a built binary: `SWITCHBOARD_BIN`, else
//! `target/release/switchboard`.
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use switchboard_mcp::client::AgentClient;
use switchboard_testutils::{ScratchRepo, git, str_at as text};

fn binary() -> PathBuf {
    std::env::var_os("SWITCHBOARD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/switchboard")
        })
}

/// Counts the structured characters of every call, by tool.
#[derive(Default)]
struct Meter {
    by_tool: BTreeMap<String, (u32, usize)>,
    /// Every call and its structured result, in order (written out with `STRUCTURED_DUMP=FILE`,
    /// to read the results as the model would).
    transcript: Vec<String>,
}

impl Meter {
    async fn call(&mut self, agent: &AgentClient, tool: &str, args: Value) -> Value {
        let outcome = agent.call(tool, args.clone()).await.expect("call");
        assert!(!outcome.is_error, "{tool} failed: {}", outcome.text);
        let structured = outcome.structured.expect("structured content");
        let encoded = serde_json::to_string(&structured).expect("encode");
        let size = encoded.len();
        self.transcript
            .push(format!("{tool} {args}\n  -> {encoded}"));
        let entry = self.by_tool.entry(tool.to_string()).or_default();
        entry.0 += 1;
        entry.1 += size;
        structured
    }

    fn total(&self) -> usize {
        self.by_tool.values().map(|(_, chars)| chars).sum()
    }
}

async fn start(bin: &Path, db: &Path, dir: &Path, agent: &str) -> AgentClient {
    AgentClient::spawn(
        bin,
        &["--db", db.to_str().unwrap(), "mcp", "--agent", agent],
        dir,
        &[],
    )
    .await
    .expect("start switchboard mcp")
}

/// The fixed workflow. Every call is one an agent following the instructions would make.
async fn workflow(bin: &Path) -> Meter {
    let scratch = ScratchRepo::empty();
    scratch.commit("README.md", "hello\n", "init");
    let repo = scratch.path().to_path_buf();
    let db = scratch.db().to_path_buf();
    let mut m = Meter::default();

    let lead = start(bin, &db, &repo, "lead").await;
    m.call(
        &lead,
        "session_start",
        json!({"intent": "ship the parser rewrite"}),
    )
    .await;
    let mut workers = Vec::new();
    for (name, task) in [("alpha", "rewrite the lexer"), ("beta", "update the docs")] {
        let child = m
            .call(
                &lead,
                "session_spawn",
                json!({"intent": task, "agent": name, "worktree": true}),
            )
            .await;
        let session = text(&child, "/id").to_string();
        let path = PathBuf::from(text(&child, "/worktree/path"));
        let tree = text(&child, "/worktree/name").to_string();
        let worker = start(bin, &db, &path, name).await;
        m.call(&worker, "session_start", json!({"session": session}))
            .await;
        workers.push((worker, path, tree));
    }
    let (alpha, alpha_dir, alpha_tree) = &workers[0];
    let (beta, _, _) = &workers[1];

    // Ask and answer.
    m.call(
        alpha,
        "message_send",
        json!({"to": ["lead"], "subject": "lexer", "body": "Should the lexer keep comments as tokens?"}),
    )
    .await;
    let got = m
        .call(&lead, "message_wait", json!({"timeout_secs": 5}))
        .await;
    let question = text(&got, "/messages/0/id").to_string();
    m.call(
        &lead,
        "message_reply",
        json!({"message": question, "body": "Yes, keep them: the formatter needs them."}),
    )
    .await;
    m.call(&lead, "message_read", json!({"ids": [question]}))
        .await;
    let answer = m
        .call(alpha, "message_wait", json!({"timeout_secs": 5}))
        .await;
    let answer = text(&answer, "/messages/0/id").to_string();
    m.call(alpha, "message_read", json!({"ids": [answer]}))
        .await;

    // Work.
    std::fs::write(alpha_dir.join("lexer.rs"), "pub fn lex() {}\n").unwrap();
    m.call(alpha, "session_heartbeat", json!({})).await;
    git(alpha_dir, &["add", "."]);
    git(alpha_dir, &["commit", "-q", "-m", "lexer"]);
    m.call(alpha, "session_heartbeat", json!({})).await;
    m.call(beta, "session_heartbeat", json!({})).await;
    m.call(
        alpha,
        "session_update",
        json!({"intent": "rewrite the lexer (done, ready to merge)"}),
    )
    .await;
    m.call(alpha, "worktree_diff", json!({"name": alpha_tree}))
        .await;
    m.call(
        alpha,
        "message_send",
        json!({"to": ["lead"], "body": "Lexer done and committed; ready to merge."}),
    )
    .await;

    // The lead looks around and merges.
    m.call(&lead, "inbox_read", json!({"unread_only": true}))
        .await;
    m.call(&lead, "session_list", json!({"live_only": true}))
        .await;
    m.call(&lead, "session_tree", json!({})).await;
    m.call(&lead, "worktree_list", json!({})).await;
    m.call(&lead, "worktree_conflicts", json!({})).await;
    m.call(&lead, "who_has", json!({"path": "lexer.rs"})).await;
    m.call(&lead, "worktree_merge", json!({"name": alpha_tree}))
        .await;
    m.call(alpha, "session_end", json!({"reason": "merged"}))
        .await;
    m.call(
        beta,
        "session_end",
        json!({"status": "abandoned", "reason": "not needed"}),
    )
    .await;
    m.call(&lead, "agent_list", json!({})).await;
    m.call(&lead, "message_sent", json!({})).await;
    m.call(&lead, "session_end", json!({"reason": "shipped"}))
        .await;
    for (worker, _, _) in workers {
        worker.stop().await.ok();
    }
    lead.stop().await.ok();
    m
}

/// Characters of the model-facing tool list: names, descriptions, input schemas and the
/// server's instructions.
async fn tool_list(bin: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let agent = start(bin, &db, dir.path(), "probe").await;
    let tools = agent.tools().await.expect("tools/list");
    let schemas: usize = tools
        .iter()
        .map(|t| {
            t.name.len()
                + t.description.as_deref().map_or(0, str::len)
                + serde_json::to_string(&t.input_schema).unwrap().len()
        })
        .sum();
    let instructions = agent.instructions().unwrap_or_default().len();
    agent.stop().await.ok();
    json!({"tools": tools.len(), "tool_chars": schemas, "instructions_chars": instructions, "total_chars": schemas + instructions})
}

fn main() {
    let bin = binary();
    assert!(
        bin.exists(),
        "no binary at {}: build it or set SWITCHBOARD_BIN",
        bin.display()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let meter = runtime.block_on(workflow(&bin));
    let list = runtime.block_on(tool_list(&bin));
    println!("| tool | calls | structured chars |\n|---|---|---|");
    for (tool, (calls, chars)) in &meter.by_tool {
        println!("| `{tool}` | {calls} | {chars} |");
    }
    let calls: u32 = meter.by_tool.values().map(|(c, _)| c).sum();
    println!("| **total** | {calls} | {} |", meter.total());
    println!("tool list: {list}");
    let by_tool: BTreeMap<_, _> = meter
        .by_tool
        .iter()
        .map(|(t, (c, n))| (t.clone(), json!({"calls": c, "chars": n})))
        .collect();
    let out = json!({"workflow": {"calls": calls, "total_chars": meter.total(), "by_tool": by_tool}, "tool_list": list});
    if let Some(dump) = std::env::var_os("STRUCTURED_DUMP") {
        std::fs::write(&dump, meter.transcript.join("\n") + "\n").unwrap();
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("structured.json");
    std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap() + "\n").unwrap();
    println!("written to {}", path.display());
}
