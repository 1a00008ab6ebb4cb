//! The pre-commit guard with real git: `switchboard guard install` puts the hook where git
//! runs it (the common hooks directory, or `core.hooksPath`), chained with the hook that
//! was there; a commit of files another session or person claims exclusively is refused
//! naming the holder, until released; a bypass goes through and is recorded; a repository
//! without a store, or the committer's own claims, never hold a commit back.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

use crate::common::Repo;

/// Stages `files` (written with some content) in `dir` and runs `git commit` there, as
/// a user would: git runs the hooks. `bypass` sets `SWITCHBOARD_GUARD=off`.
fn commit(repo: &Repo, dir: &Path, files: &[&str], bypass: bool) -> Output {
    for file in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("// {file} in {}\n", dir.display())).unwrap();
    }
    let mut add = vec!["add", "--"];
    add.extend_from_slice(files);
    switchboard_testutils::git(dir, &add);
    let mut git = Command::new("git");
    git.args(["commit", "-q", "-m", "change"])
        .current_dir(dir)
        .env_remove("SWITCHBOARD_DB")
        .env_remove("SWITCHBOARD_STORE")
        .env_remove("SWITCHBOARD_AGENT")
        .env_remove("SWITCHBOARD_SESSION")
        .env_remove("SWITCHBOARD_GUARD")
        .envs(repo.env());
    if bypass {
        git.env("SWITCHBOARD_GUARD", "off");
    }
    git.output().unwrap()
}

fn head(dir: &Path) -> String {
    switchboard_testutils::git(dir, &["rev-parse", "HEAD"])
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `claim.bypassed` events in the store, from `switchboard export`.
fn bypasses(repo: &Repo) -> Vec<serde_json::Value> {
    repo.cli(&["export"])
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|row| row["record"]["type"] == "claim.bypassed")
        .map(|row| {
            let payload = row["record"]["payload"].as_str().unwrap();
            serde_json::from_str(payload).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_commit_over_another_sessions_claim_is_refused_until_released() {
    let repo = Repo::new();
    let lead = repo.agent(&["--agent", "lead"]).await;
    lead.call_ok("session_start", json!({"intent": "coordinate"}))
        .await
        .unwrap();
    let mut dirs = Vec::new();
    for (agent, intent) in [("ann", "refactor auth"), ("bob", "fix the build")] {
        let spawned = lead
            .call_ok(
                "session_spawn",
                json!({"agent": agent, "intent": intent, "worktree": true}),
            )
            .await
            .unwrap();
        dirs.push(PathBuf::from(spawned["worktree"]["path"].as_str().unwrap()));
    }
    let (a_dir, b_dir) = (&dirs[0], &dirs[1]);
    // Installed from a linked worktree: the hook goes to the common hooks directory.
    let installed = repo.cli_in(b_dir, &["guard", "install"]);
    assert!(installed.status.success(), "{}", stderr(&installed));
    let said = String::from_utf8_lossy(&installed.stdout);
    let common_hook = repo.path.join(".git/hooks/pre-commit");
    assert!(
        said.contains(&format!("installed in {}", common_hook.display())),
        "{said}"
    );

    let ann = repo.agent_in(a_dir, &["--agent", "ann"]).await;
    let claimed = ann
        .call_ok(
            "claim_add",
            json!({"patterns": ["src/**"], "reason": "refactoring auth"}),
        )
        .await
        .unwrap();
    let claim_id = claimed["claims"][0]["id"].as_str().unwrap().to_string();

    let before = head(b_dir);
    let refused = commit(&repo, b_dir, &["src/x.rs", "README.md"], false);
    let err = stderr(&refused);
    assert!(!refused.status.success(), "the commit went through: {err}");
    assert_eq!(head(b_dir), before, "no new commit on bob's branch");
    for needed in [
        "commit refused",
        "'ann' (session ses_",
        "src/**",
        "refactoring auth",
        &claim_id,
        "staged here: src/x.rs\n",
        "ask ann to release or share it: message_send to ann",
        "git restore --staged",
        "SWITCHBOARD_GUARD=off git commit",
    ] {
        assert!(err.contains(needed), "{needed:?} missing from:\n{err}");
    }
    assert!(
        !err.contains("README.md"),
        "only claimed paths are listed: {err}"
    );

    // Ann's own claim never holds her commit back.
    let own = commit(&repo, a_dir, &["src/auth.rs"], false);
    assert!(own.status.success(), "{}", stderr(&own));
    assert_eq!(stderr(&own), "", "a passing guard says nothing");

    ann.call_ok("claim_release", json!({"all": true}))
        .await
        .unwrap();
    let through = commit(&repo, b_dir, &["src/x.rs"], false);
    assert!(through.status.success(), "{}", stderr(&through));
    assert_ne!(head(b_dir), before);
    assert!(bypasses(&repo).is_empty(), "nothing was bypassed");
    for client in [lead, ann] {
        client.stop().await.unwrap();
    }
}

#[test]
fn an_existing_hook_keeps_running_and_comes_back_byte_for_byte() {
    let repo = Repo::new();
    let hooks = repo.path.join(".git/hooks");
    let ran = repo.path.parent().unwrap().join("previous-hook-ran");
    let fail = repo.path.parent().unwrap().join("previous-hook-fails");
    let original = format!(
        "#!/bin/sh\n# the team's own hook\nif [ -e '{}' ]; then echo 'lint failed' >&2; exit 3; fi\n\
         echo \"ran with $# arguments\" > '{}'\n",
        fail.display(),
        ran.display()
    );
    std::fs::write(hooks.join("pre-commit"), &original).unwrap();
    std::fs::set_permissions(
        hooks.join("pre-commit"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();

    let dry = repo.cli(&["guard", "install", "--dry-run"]);
    assert!(
        dry.contains("would install") && dry.contains("nothing was written"),
        "{dry}"
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        original
    );
    let said = repo.cli(&["guard", "install"]);
    assert!(said.contains("pre-commit.pre-switchboard"), "{said}");
    let again = repo.cli(&["guard", "install"]);
    assert!(again.contains("already installed"), "{again}");

    // No store in this repository: the guard passes silently and creates none.
    let passed = commit(&repo, &repo.path, &["src/a.rs"], false);
    assert!(passed.status.success(), "{}", stderr(&passed));
    assert_eq!(stderr(&passed), "");
    assert!(
        !repo.path.join(".git/switchboard").exists(),
        "no store made"
    );
    assert_eq!(
        std::fs::read_to_string(&ran).unwrap(),
        "ran with 0 arguments\n"
    );

    // The previous hook still has its say.
    std::fs::write(&fail, "").unwrap();
    let before = head(&repo.path);
    let blocked = commit(&repo, &repo.path, &["src/b.rs"], false);
    assert!(!blocked.status.success());
    assert!(
        stderr(&blocked).contains("lint failed"),
        "{}",
        stderr(&blocked)
    );
    assert_eq!(head(&repo.path), before);

    let removed = repo.cli(&["guard", "uninstall"]);
    assert!(removed.contains("is back as"), "{removed}");
    assert_eq!(
        std::fs::read(hooks.join("pre-commit")).unwrap(),
        original.as_bytes()
    );
    let mode = std::fs::metadata(hooks.join("pre-commit"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o750, "{mode:o}");
    assert!(!hooks.join("pre-commit.pre-switchboard").exists());
    let nothing = repo.cli(&["guard", "uninstall"]);
    assert!(
        nothing.contains("not Switchboard's hook; left alone"),
        "{nothing}"
    );

    // The name the old hook would move to is taken: refused, nothing changed.
    std::fs::write(hooks.join("pre-commit.pre-switchboard"), "#!/bin/sh\n").unwrap();
    let taken = repo.cli_in(&repo.path, &["guard", "install"]);
    assert!(!taken.status.success());
    assert!(
        stderr(&taken).contains("pre-commit.pre-switchboard is taken"),
        "{}",
        stderr(&taken)
    );
    assert_eq!(
        std::fs::read(hooks.join("pre-commit")).unwrap(),
        original.as_bytes()
    );
}

#[test]
fn core_hooks_path_gets_the_hook_and_guards_linked_worktrees_with_a_recorded_bypass() {
    let repo = Repo::new();
    let hooks = repo.path.join("tools/hooks");
    repo.git(&["config", "core.hooksPath", hooks.to_str().unwrap()]);
    let said = repo.cli(&["guard", "install"]);
    assert!(said.contains("core.hooksPath = "), "{said}");
    assert!(hooks.join("pre-commit").exists(), "{said}");
    assert!(!repo.path.join(".git/hooks/pre-commit").exists());

    let created = repo.cli_json(&["worktree", "create", "side"]);
    let side = PathBuf::from(created["worktree"]["path"].as_str().unwrap());
    repo.cli(&[
        "claim",
        "src/**",
        "--as",
        "human:bob",
        "--reason",
        "moving the modules",
    ]);
    // The committer's own claim (the local human's) is left out.
    repo.cli(&["claim", "docs/**", "--reason", "rewriting the guide"]);
    let own = commit(&repo, &side, &["docs/guide.md"], false);
    assert!(own.status.success(), "{}", stderr(&own));

    let many: Vec<String> = (0..12).map(|i| format!("src/m{i:02}.rs")).collect();
    let files: Vec<&str> = many.iter().map(String::as_str).collect();
    let before = head(&side);
    let refused = commit(&repo, &side, &files, false);
    let err = stderr(&refused);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains("'human:bob' holds src/** exclusively")
            && err.contains("moving the modules")
            && err.contains("src/m09.rs and 2 more")
            && !err.contains("src/m10.rs"),
        "{err}"
    );
    assert_eq!(head(&side), before);

    let bypassed = commit(&repo, &side, &files, true);
    let note = stderr(&bypassed);
    assert!(bypassed.status.success(), "{note}");
    assert_ne!(head(&side), before);
    assert!(
        note.contains("bypassed (SWITCHBOARD_GUARD=off)") && note.contains("recorded"),
        "{note}"
    );
    assert_eq!(note.trim().lines().count(), 1, "one line: {note}");
    let claims: serde_json::Value = repo.cli_json(&["claims", "--path", "src/m00.rs"]);
    assert_eq!(
        bypasses(&repo),
        [json!({
            "agent": "human:ada-lovelace",
            "ids": [claims[0]["id"]],
            "staged": 12,
        })]
    );
}

#[test]
fn a_store_that_cannot_be_read_is_one_warning_and_the_commit_goes_ahead() {
    let repo = Repo::new();
    std::fs::create_dir(repo.path.join("src")).unwrap();
    std::fs::write(repo.path.join("src/a.rs"), "fn a() {}\n").unwrap();
    repo.git(&["add", "src/a.rs"]);
    let out = Command::new(crate::common::bin())
        .args(["guard", "pre-commit"])
        .current_dir(&repo.path)
        .env_remove("SWITCHBOARD_DB")
        .env(
            "SWITCHBOARD_STORE",
            "postgres://nobody@127.0.0.1:1/switchboard",
        )
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.starts_with("switchboard guard: the claims were not checked: ")
            && err.trim().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn installing_a_client_installs_the_guard_and_uninstalling_one_keeps_it() {
    let repo = Repo::new();
    let hook = repo.path.join(".git/hooks/pre-commit");
    let dry = repo.cli(&["install", "claude", "--dry-run"]);
    assert!(dry.contains("pre-commit guard: would install"), "{dry}");
    assert!(!hook.exists());
    let skipped = repo.cli(&["install", "cursor", "--no-guard"]);
    assert!(!skipped.contains("pre-commit guard"), "{skipped}");
    assert!(!hook.exists());

    let out = repo.cli(&["install", "claude"]);
    assert!(out.contains("pre-commit guard: installed in"), "{out}");
    assert!(hook.exists());
    let again = repo.cli(&["install", "claude"]);
    assert!(
        again.contains("pre-commit guard: already installed"),
        "{again}"
    );

    // The guard guards every checkout (other checkouts may have clients set up): an
    // uninstall keeps it, and says how to remove it.
    for client in ["claude", "cursor"] {
        let kept = repo.cli(&["uninstall", client]);
        assert!(
            kept.contains("pre-commit guard: kept") && kept.contains("switchboard guard uninstall"),
            "{kept}"
        );
        assert!(hook.exists());
    }
    let gone = repo.cli(&["guard", "uninstall"]);
    assert!(gone.contains("removed"), "{gone}");
    assert!(!hook.exists());
}

#[test]
fn a_hooks_path_from_the_global_git_config_is_left_alone() {
    let repo = Repo::new();
    let home = tempfile::tempdir().unwrap();
    let hooks = home.path().join("hooks");
    let config = home.path().join("gitconfig");
    std::fs::write(
        &config,
        format!("[core]\n\thooksPath = {}\n", hooks.display()),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(crate::common::bin())
            .args(args)
            .current_dir(&repo.path)
            .env_remove("SWITCHBOARD_DB")
            .env_remove("SWITCHBOARD_STORE")
            .envs(repo.env())
            .env("GIT_CONFIG_GLOBAL", &config)
            .output()
            .unwrap()
    };
    let refused = run(&["guard", "install"]);
    let err = stderr(&refused);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains("core.hooksPath is set in your global git config")
            && err.contains("git config --local"),
        "{err}"
    );
    assert!(!hooks.exists(), "nothing was written for every repository");
    let install = run(&["install", "claude"]);
    assert!(!install.status.success());
    assert!(
        stderr(&install).contains("--no-guard"),
        "{}",
        stderr(&install)
    );
    assert!(
        !repo.path.join(".mcp.json").exists(),
        "a refused install writes nothing"
    );
    let without = run(&["install", "claude", "--no-guard"]);
    assert!(without.status.success(), "{}", stderr(&without));
    assert!(!hooks.exists());
}

#[tokio::test]
async fn an_agent_committing_in_the_main_checkout_is_held_back_only_by_others_claims() {
    let repo = Repo::new();
    assert!(
        repo.cli_in(&repo.path, &["guard", "install"])
            .status
            .success()
    );
    // The agent's server and the commit share a client (here the test process), as an
    // agent's MCP server and the shell it commits from share the agent CLI.
    let ann = repo.agent(&["--agent", "ann"]).await;
    ann.call_ok("session_start", json!({"intent": "refactor auth"}))
        .await
        .unwrap();
    ann.call_ok(
        "claim_add",
        json!({"patterns": ["src/**"], "reason": "refactoring auth"}),
    )
    .await
    .unwrap();
    repo.cli(&[
        "claim",
        "docs/**",
        "--reason",
        "rewriting the guide",
        "--as",
        "human:bob",
    ]);

    let own = commit(&repo, &repo.path, &["src/a.rs"], false);
    assert!(
        own.status.success(),
        "ann's own claim held her back: {}",
        stderr(&own)
    );
    let refused = commit(&repo, &repo.path, &["docs/guide.md"], false);
    let err = stderr(&refused);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains("'human:bob' holds docs/** exclusively")
            && err.contains("message_send to human:bob")
            && err.contains("claim_list"),
        "an agent is pointed to its own tools: {err}"
    );
    assert!(!err.contains("switchboard send"), "{err}");
    ann.stop().await.unwrap();
}

#[test]
fn a_squash_merge_over_a_claim_goes_through_and_names_it() {
    let repo = Repo::new();
    assert!(
        repo.cli_in(&repo.path, &["guard", "install"])
            .status
            .success()
    );
    let made = repo.cli(&["worktree", "create", "w"]);
    let dir = repo.path.join(".worktrees/w");
    assert!(dir.exists(), "{made}");
    repo.cli(&[
        "claim",
        "src/**",
        "--reason",
        "moving modules",
        "--as",
        "human:carol",
    ]);
    let over = commit(&repo, &dir, &["src/a.rs"], true);
    assert!(over.status.success(), "{}", stderr(&over));

    // The squash commit runs the hook in the main checkout; the merge is Switchboard's
    // own (a recorded operation), which names the claims it goes over instead.
    let squashed = repo.cli_in(
        &repo.path,
        &["worktree", "merge", "w", "--strategy", "squash"],
    );
    let said = String::from_utf8_lossy(&squashed.stdout);
    assert!(squashed.status.success(), "{}", stderr(&squashed));
    assert!(
        said.contains("merged over a claim (its holder is told): human:carol's src/**"),
        "{said}"
    );
    assert!(
        switchboard_testutils::git(&repo.path, &["log", "-1", "--name-only"]).contains("src/a.rs")
    );

    // Naming an operation that is not a recorded merge does not get a commit through.
    std::fs::write(repo.path.join("src/b.rs"), "b\n").unwrap();
    switchboard_testutils::git(&repo.path, &["add", "src/b.rs"]);
    let faked = Command::new("git")
        .args(["commit", "-q", "-m", "sneak"])
        .current_dir(&repo.path)
        .envs(repo.env())
        .env("SWITCHBOARD_OPERATION", "op_not_a_merge")
        .output()
        .unwrap();
    assert!(!faked.status.success(), "{}", stderr(&faked));
    assert!(stderr(&faked).contains("human:carol"), "{}", stderr(&faked));
}
