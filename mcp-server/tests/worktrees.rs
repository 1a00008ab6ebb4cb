//! The worktree tools over MCP, on a real temporary git repository.

use std::path::PathBuf;

use serde_json::{Value, json};
use switchboard_testutils::{Gate, commit, git};

use crate::harness::{RepoHarness, ok, refused};

fn path_of(created: &Value) -> PathBuf {
    PathBuf::from(created["worktree"]["path"].as_str().unwrap())
}

crate::every_backend! {
    async fn create_list_diff_heartbeat_and_who_has(backend) {
        let h = RepoHarness::on(backend);
        let alpha = h.agent("alpha").await;
        let created = ok(&alpha, "worktree_create", json!({"name": "wa"})).await;
        assert_eq!(created["worktree"]["branch"], "sb/wa");
        assert_eq!(created["worktree"]["base_ref"], "main");
        assert_eq!(created["worktree"]["base_commit"], h.repo.head());
        assert_eq!(
            created["worktree"]["agent"], "alpha",
            "bound to the caller's session"
        );
        let wa = path_of(&created);
        commit(&wa, "shared.txt", "base\nalpha\n", "alpha change");
        std::fs::write(wa.join("new.txt"), "draft\n").unwrap();

        let listed = ok(&alpha, "worktree_list", json!({})).await;
        let s = &listed["worktrees"][0];
        assert_eq!(
            (
                s["ahead"].as_u64(),
                s["dirty"].as_u64(),
                s["session_live"].as_bool()
            ),
            (Some(1), Some(1), Some(true))
        );
        let diff = ok(
            &alpha,
            "worktree_diff",
            json!({"name": "wa", "patch": true}),
        )
        .await;
        assert_eq!(diff["commits"][0]["subject"], "alpha change");
        assert!(diff["patch"].as_str().unwrap().contains("+alpha"));

        let beat = ok(&alpha, "session_heartbeat", json!({})).await;
        assert_eq!(beat["work"]["changed_files"], 2);
        assert_eq!(
            beat.get("worktree"),
            None,
            "a heartbeat answers with what changed"
        );
        let who = ok(&alpha, "who_has", json!({"path": "shared.txt"})).await;
        assert_eq!(who["holders"][0]["agent"], "alpha");
        assert_eq!(who["holders"][0]["uncommitted"], false);
        let started = ok(&alpha, "session_start", json!({"session": beat["id"]})).await;
        assert_eq!(
            started["worktree"]["name"], "wa",
            "session_start reports the worktree"
        );
        assert_eq!(started["worktree"]["ahead"], 1, "{started}");

        let msg = refused(&alpha, "worktree_create", json!({"name": "../escape"})).await;
        assert!(msg.contains("not a valid worktree name"), "{msg}");
        let msg = refused(&alpha, "worktree_diff", json!({"name": "nope"})).await;
        assert!(msg.contains("no worktree matches 'nope'"), "{msg}");
        for outside in ["/etc/passwd", "../../etc/passwd"] {
            let msg = refused(&alpha, "who_has", json!({ "path": outside })).await;
            assert!(
                msg.contains("not inside the repository"),
                "{outside}: {msg}"
            );
        }
    }
}

crate::every_backend! {
    async fn merge_sync_conflicts_and_refusals(backend) {
        let h = RepoHarness::on(backend);
        let alpha = h.agent("alpha").await;
        let wa = path_of(&ok(&alpha, "worktree_create", json!({"name": "wa"})).await);
        let wb = path_of(&ok(&alpha, "worktree_create", json!({"name": "wb"})).await);
        commit(&wa, "shared.txt", "from a\n", "a edits");
        commit(&wb, "shared.txt", "from b\n", "b edits");
        let radar = ok(&alpha, "worktree_conflicts", json!({})).await;
        let pair = &radar["findings"][0];
        assert_eq!(
            (
                pair["a"].as_str(),
                pair["b"].as_str(),
                pair["would_conflict"].as_bool()
            ),
            (Some("wa"), Some("wb"), Some(true))
        );

        let merged = ok(
            &alpha,
            "worktree_merge",
            json!({"name": "wa", "strategy": "squash"}),
        )
        .await;
        assert_eq!(merged["into"], "main");
        assert!(
            merged["backup"]
                .as_str()
                .unwrap()
                .starts_with("refs/switchboard/backup/")
        );
        assert_eq!(
            std::fs::read_to_string(h.repo.path().join("shared.txt")).unwrap(),
            "from a\n"
        );
        let before = git(h.repo.path(), &["rev-parse", "main"]);
        let backups = git(h.repo.path(), &["for-each-ref", "refs/switchboard/backup/"]);
        let msg = refused(
            &alpha,
            "worktree_merge",
            json!({"name": "wb", "message": "merge\0b"}),
        )
        .await;
        assert!(msg.contains("merge message contains a NUL"), "{msg}");
        assert_eq!(
            git(h.repo.path(), &["for-each-ref", "refs/switchboard/backup/"]),
            backups,
            "a refused merge leaves no backup ref"
        );
        let msg = refused(&alpha, "worktree_merge", json!({"name": "wb"})).await;
        assert!(
            msg.contains("would conflict in: shared.txt") && msg.contains("Nothing was changed"),
            "{msg}"
        );
        assert_eq!(git(h.repo.path(), &["rev-parse", "main"]), before);
        let msg = refused(&alpha, "worktree_sync", json!({"name": "wb"})).await;
        assert!(msg.contains("would conflict in: shared.txt"), "{msg}");

        let wc = path_of(
            &ok(
                &alpha,
                "worktree_create",
                json!({"name": "wc", "base": "main"}),
            )
            .await,
        );
        commit(h.repo.path(), "main.txt", "m\n", "main moves");
        commit(&wc, "c.txt", "c\n", "c work");
        let synced = ok(&alpha, "worktree_sync", json!({"name": "wc"})).await;
        assert_eq!(synced["up_to_date"], false);
        assert_eq!(
            git(&wc, &["merge-base", "HEAD", "main"]),
            git(h.repo.path(), &["rev-parse", "main"])
        );
    }
}

crate::every_backend! {
    async fn remove_prune_and_worktrees_for_spawned_and_forked_sessions(backend) {
        let h = RepoHarness::on(backend);
        let lead = h.agent("lead").await;
        let child = ok(
            &lead,
            "session_spawn",
            json!({"intent": "sub task", "agent": "worker", "worktree": true}),
        )
        .await;
        let child_wt = child["worktree"].clone();
        assert!(
            child_wt["name"].as_str().unwrap().starts_with("worker-"),
            "{child_wt}"
        );
        let fork = ok(
            &lead,
            "session_fork",
            json!({"from": child["id"], "intent": "other way", "agent": "alt", "worktree": true}),
        )
        .await;
        assert!(
            fork["worktree"]["name"]
                .as_str()
                .unwrap()
                .starts_with("alt-")
        );
        let child_path = PathBuf::from(child_wt["path"].as_str().unwrap());
        commit(&child_path, "w.txt", "w\n", "worker commit");
        let fork_head = git(
            std::path::Path::new(fork["worktree"]["path"].as_str().unwrap()),
            &["rev-parse", "HEAD"],
        );
        assert_eq!(
            fork_head,
            git(h.repo.path(), &["rev-parse", "HEAD"]),
            "the fork started where its source was"
        );

        let name = child_wt["name"].as_str().unwrap();
        let msg = refused(&lead, "worktree_remove", json!({"name": name})).await;
        assert!(
            msg.contains("worker commit") && msg.contains("force"),
            "{msg}"
        );
        let removed = ok(
            &lead,
            "worktree_remove",
            json!({"name": name, "force": true, "delete_branch": true}),
        )
        .await;
        assert!(!removed["backups"].as_array().unwrap().is_empty());
        assert!(!child_path.exists());
        let report = ok(&lead, "worktree_prune", json!({})).await;
        assert_eq!(report["dry_run"], true);
        let other = h.harness.client(Some("other")).await;
        let msg = refused(
            &other,
            "worktree_remove",
            json!({"name": fork["worktree"]["name"], "force": true}),
        )
        .await;
        assert!(
            msg.contains("may not remove") && msg.contains("'alt'") && msg.contains("human"),
            "{msg}"
        );
    }
}

crate::every_backend! {
    /// A worktree's setup command can run for minutes: meanwhile the same agent's other calls
    /// are answered (nothing holds the server's state for the length of a call).
    async fn a_long_call_does_not_hold_up_the_agents_other_calls(backend) {
        let h = RepoHarness::on(backend);
        let dir = switchboard_testutils::ScratchStore::new();
        let gate = Gate::new(dir.dir());
        std::fs::write(h.repo.path().join(".switchboard.toml"), gate.setup_config()).unwrap();
        let _beta = h.agent("beta").await;
        let alpha = std::sync::Arc::new(h.agent("alpha").await);
        let creating = {
            let alpha = alpha.clone();
            tokio::spawn(async move { ok(&alpha, "worktree_create", json!({"name": "slow"})).await })
        };
        while !gate.started() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let meanwhile = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            ok(
                &alpha,
                "message_send",
                json!({"to": ["beta"], "body": "setting up"}),
            )
            .await;
            ok(&alpha, "status", json!({})).await
        })
        .await;
        drop(gate);
        let status = meanwhile.expect("the agent's calls were answered while its setup ran");
        assert_eq!(status["agent"], "alpha", "{status}");
        let created = creating.await.unwrap();
        assert_eq!(created["setup"]["success"], true, "{created}");
    }
}
