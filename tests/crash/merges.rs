//! The `worktree_merge` crash family: an agent's server is killed with SIGKILL at a random
//! moment of a merge of its worktree into `main` (checked out in the main checkout, so
//! git merges there). The next call on the repository (the human's CLI merge, retried
//! while git is still busy) must complete or undo the interrupted merge and end with the
//! work merged exactly once, the checkout clean (no `MERGE_HEAD`, no `index.lock`), no merge
//! left recorded as in progress, `git fsck` clean and the database sound.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::harness::{Rng, Server, Trial, cli, doctor, panics, tool_result};

const MERGER: &str = "crash-merger";
const WORKTREE: &str = "w";
const BRANCH: &str = "sb/w";
/// The worktree's files go under this directory.
const WORK_DIR: &str = "crash";

/// Runs git in `dir`; its stdout, or what went wrong.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("git {args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn merges(bin: &Path, repo: &Path, seed: u64) -> Trial {
    let mut trial = Trial::new("worktree_merge", seed);
    if let Err(e) = run(bin, repo, seed, &mut trial) {
        trial.problems.push(e);
    }
    trial
}

fn run(bin: &Path, repo: &Path, seed: u64, trial: &mut Trial) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let strategy = ["merge", "squash", "ff"][rng.between(0, 2) as usize];
    let files = rng.between(1, 300);
    let kill_after = Duration::from_millis(rng.between(0, 150));

    let mut server = Server::start(bin, repo, &["mcp", "--agent", MERGER]);
    server.call("session_start", json!({"intent": "crash trial"}))?;
    server.call("worktree_create", json!({"name": WORKTREE}))?;
    let worktree = repo.join(".worktrees").join(WORKTREE);
    std::fs::create_dir_all(worktree.join(WORK_DIR)).map_err(|e| e.to_string())?;
    for i in 0..files {
        let text = format!("file {i} of seed {seed}\n").repeat(1 + (i % 50) as usize);
        std::fs::write(worktree.join(WORK_DIR).join(format!("f{i}.txt")), text)
            .map_err(|e| e.to_string())?;
    }
    git(&worktree, &["add", "-A"])?;
    git(&worktree, &["commit", "-q", "-m", "crash work"])?;
    if strategy != "ff" {
        std::fs::write(repo.join("main.txt"), "main moves on\n").map_err(|e| e.to_string())?;
        git(repo, &["add", "main.txt"])?;
        git(repo, &["commit", "-q", "-m", "main work"])?;
    }
    let base = git(repo, &["rev-parse", "main"])?.trim().to_string();
    let tip = git(repo, &["rev-parse", BRANCH])?.trim().to_string();

    let started = Instant::now();
    let id = server.call_tool(
        "worktree_merge",
        json!({"name": WORKTREE, "strategy": strategy}),
    );
    trial.issued = 1;
    let answer = server.next_answer(kill_after).ok();
    trial.killed_after = started.elapsed();
    let killed = server.kill();
    trial.panics = panics(&killed.stderr);
    let answer = answer.or_else(|| killed.answers.into_iter().find(|a| a["id"] == id));
    match answer.map(|a| tool_result(&a["result"])) {
        Some(Ok(_)) => trial.acknowledged = 1,
        Some(Err(e)) => {
            trial.failed = 1;
            trial.problems.push(format!("the merge failed: {e}"));
        }
        None => trial.in_flight = 1,
    }

    let next = next_merge(bin, repo, strategy)?;
    if next.contains("interrupted merge") {
        trial.recovered = 1;
    }
    check_merged_once(repo, strategy, &base, &tip, trial)?;
    check_clean(repo, trial)?;
    match doctor(bin, repo) {
        Ok(db) => trial.state_db = Some(db),
        Err(e) => trial.integrity = Err(e),
    }
    let report: Value =
        serde_json::from_str(&cli(bin, repo, &["doctor", "--json"])?).map_err(|e| e.to_string())?;
    if report["merges_in_progress"] != "none" {
        trial.problems.push(format!(
            "a merge is still recorded as in progress: {}",
            report["merges_in_progress"]
        ));
    }
    Ok(())
}

/// The next call on the repository: the human merges the worktree from the CLI, again
/// while git (detached from the killed server) still works. Its output, or its error when
/// the work was already merged; any other error is a problem.
fn next_merge(bin: &Path, repo: &Path, strategy: &str) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match cli(
            bin,
            repo,
            &["worktree", "merge", WORKTREE, "--strategy", strategy],
        ) {
            Ok(out) => return Ok(out),
            Err(e) if e.contains("nothing to merge") => return Ok(e),
            Err(e) if e.contains("git is busy") && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("the merge after the kill: {e}")),
        }
    }
}

/// `main` holds the worktree's files, brought in by exactly one merge.
fn check_merged_once(
    repo: &Path,
    strategy: &str,
    base: &str,
    tip: &str,
    trial: &mut Trial,
) -> Result<(), String> {
    let same = Command::new("git")
        .args(["diff", "--quiet", tip, "main", "--", WORK_DIR])
        .current_dir(repo)
        .status()
        .map_err(|e| e.to_string())?;
    if !same.success() {
        trial.lost = 1;
        trial.problems.push(format!(
            "main does not hold the worktree's work ({strategy})"
        ));
        return Ok(());
    }
    let range = format!("{base}..main");
    let merges = match strategy {
        "merge" => git(repo, &["log", "--first-parent", "--format=%P", &range])?
            .lines()
            .filter(|parents| parents.split_whitespace().nth(1) == Some(tip))
            .count(),
        "squash" => git(repo, &["log", "--first-parent", "--format=%s", &range])?
            .lines()
            .filter(|subject| subject.starts_with(&format!("Squash {BRANCH}")))
            .count(),
        _ => usize::from(git(repo, &["rev-parse", "main"])?.trim() == tip),
    };
    if merges != 1 {
        trial.duplicated = usize::from(merges > 1);
        trial
            .problems
            .push(format!("the work was merged {merges} times ({strategy})"));
    }
    Ok(())
}

/// The main checkout is clean and git finds the repository sound.
fn check_clean(repo: &Path, trial: &mut Trial) -> Result<(), String> {
    for leftover in ["MERGE_HEAD", "index.lock", "SQUASH_MSG"] {
        if repo.join(".git").join(leftover).exists() {
            trial
                .problems
                .push(format!(".git/{leftover} is left in the main checkout"));
        }
    }
    let status = git(repo, &["status", "--porcelain"])?;
    if !status.trim().is_empty() {
        trial
            .problems
            .push(format!("the main checkout is not clean: {status}"));
    }
    let fsck = Command::new("git")
        .args(["fsck", "--no-dangling", "--no-progress"])
        .current_dir(repo)
        .output()
        .map_err(|e| e.to_string())?;
    if !fsck.status.success() || !fsck.stdout.is_empty() {
        trial.problems.push(format!(
            "git fsck: {}{}",
            String::from_utf8_lossy(&fsck.stdout),
            String::from_utf8_lossy(&fsck.stderr)
        ));
    }
    Ok(())
}
