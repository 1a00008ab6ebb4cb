//! Worktrees through real processes: two agents, each with its own `switchboard mcp`
//! started inside its own worktree, see each other's changes; and the CLI.

use std::path::PathBuf;

use serde_json::json;
use switchboard_testutils::commit;

use crate::common::Repo;

#[tokio::test]
async fn two_agents_in_two_worktrees_see_each_others_changes() {
    let repo = Repo::new();
    std::fs::write(repo.path.join("app.rs"), "fn main() {}\n").unwrap();
    repo.git(&["add", "app.rs"]);
    repo.git(&["commit", "-q", "-m", "app"]);
    let lead = repo.agent(&["--agent", "lead"]).await;
    lead.call_ok("session_start", json!({"intent": "coordinate"}))
        .await
        .unwrap();
    let a = lead
        .call_ok(
            "session_spawn",
            json!({"agent": "ann", "intent": "feature A", "worktree": true}),
        )
        .await
        .unwrap();
    let b = lead
        .call_ok(
            "session_spawn",
            json!({"agent": "bob", "intent": "feature B", "worktree": true}),
        )
        .await
        .unwrap();
    let a_dir = PathBuf::from(a["worktree"]["path"].as_str().unwrap());
    let b_dir = PathBuf::from(b["worktree"]["path"].as_str().unwrap());

    // Each agent's server starts inside its worktree and learns its session from it.
    let ann = repo.agent_in(&a_dir, &["--agent", "ann"]).await;
    let bob = repo.agent_in(&b_dir, &[]).await;
    let who = ann.call_ok("whoami", json!({})).await.unwrap();
    assert_eq!(who["session"]["id"], a["id"]);
    let who = bob.call_ok("whoami", json!({})).await.unwrap();
    assert_eq!(
        (who["agent"].as_str(), who["session"]["id"].as_str()),
        (Some("bob"), b["id"].as_str())
    );

    commit(&a_dir, "app.rs", "fn main() { a() }\n", "ann's change");
    std::fs::write(b_dir.join("app.rs"), "fn main() { b() }\n").unwrap();
    ann.call_ok("session_heartbeat", json!({})).await.unwrap();
    bob.call_ok("session_heartbeat", json!({})).await.unwrap();

    let holders = lead
        .call_ok("who_has", json!({"path": "app.rs"}))
        .await
        .unwrap();
    let mut who: Vec<(String, bool)> = holders["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["agent"].as_str().unwrap().to_string(),
                h["uncommitted"].as_bool().unwrap(),
            )
        })
        .collect();
    who.sort();
    assert_eq!(who, [("ann".to_string(), false), ("bob".to_string(), true)]);
    commit(&b_dir, "app.rs", "fn main() { b() }\n", "bob's change");
    let radar = bob.call_ok("worktree_conflicts", json!({})).await.unwrap();
    let pair = radar["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["b"] != "base:main")
        .unwrap()
        .clone();
    assert_eq!(pair["would_conflict"], true);
    assert_eq!(pair["conflicting_files"], json!(["app.rs"]));
    let cli = repo.cli(&["worktree", "who-has", "app.rs"]);
    assert!(cli.contains("ann in") && cli.contains("bob in"), "{cli}");
    for client in [lead, ann, bob] {
        client.stop().await.unwrap();
    }
}

#[test]
fn the_worktree_cli_creates_lists_diffs_merges_and_removes() {
    let repo = Repo::new();
    let created = repo.cli(&["worktree", "create", "fix", "--json"]);
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    let dir = PathBuf::from(created["worktree"]["path"].as_str().unwrap());
    commit(&dir, "fix.txt", "fixed\n", "the fix");
    let table = repo.cli(&["worktrees"]);
    assert!(
        table.contains("fix") && table.contains("sb/fix") && table.contains("+1 -0"),
        "{table}"
    );
    let diff = repo.cli(&["worktree", "diff", "fix", "--patch"]);
    assert!(
        diff.contains("fix.txt +1 -0") && diff.contains("+fixed"),
        "{diff}"
    );
    let refused = repo.cli_in(&repo.path, &["worktree", "remove", "fix"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the fix"));
    let merged = repo.cli(&["worktree", "merge", "fix", "--strategy", "ff"]);
    assert!(merged.contains("merged sb/fix into main"), "{merged}");
    let recovered = repo.cli(&["worktree", "recover"]);
    assert!(
        recovered.starts_with("no interrupted merges in "),
        "{recovered}"
    );
    assert!(repo.path.join("fix.txt").exists());
    let removed = repo.cli(&["worktree", "remove", "fix", "--delete-branch"]);
    assert!(removed.contains("removed worktree fix"), "{removed}");
    assert!(!dir.exists());
    let bad = repo.cli_in(&repo.path, &["worktree", "create", "-rf"]);
    assert!(!bad.status.success());
}
