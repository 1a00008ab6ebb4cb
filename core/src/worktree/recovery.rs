//! Merges that a crash interrupted. A merge records its plan (an intent) before git is
//! touched and deletes it in the transaction that records its event; an intent whose process
//! is gone is an interrupted merge. The next merge or sync in that repository finds it and
//! either completes it (git had finished; or a squash was staged exactly as planned) or
//! undoes it back to the state kept in its backup ref, and says which.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::merge::{MergeOutcome, Strategy};
use super::resolve_commit;
use crate::clock::Timestamp;
use crate::event::{self, kind};
use crate::git::{self, Busy};
use crate::process::{self, ProcessInfo};
use crate::{Error, Result, Store};

/// Everything needed to finish or undo a merge, decided before git is touched.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MergePlan {
    pub repo: String,
    pub worktree: String,
    pub branch: String,
    pub into: String,
    pub strategy: Strategy,
    /// `into` before the merge.
    pub previous: String,
    /// The worktree branch's tip being merged.
    pub tip: String,
    /// The tree the merge produces.
    pub tree: String,
    pub backup: String,
    pub files: Vec<String>,
    /// The checkout that has `into` checked out, when git merges there.
    pub checkout: Option<String>,
    pub message: String,
}

impl MergePlan {
    /// The outcome of this plan once `into` is at `commit`.
    pub(crate) fn outcome(&self, commit: String, left_uncommitted: Vec<String>) -> MergeOutcome {
        MergeOutcome {
            worktree: self.worktree.clone(),
            branch: self.branch.clone(),
            into: self.into.clone(),
            strategy: self.strategy,
            previous: self.previous.clone(),
            commit,
            backup: self.backup.clone(),
            files: self.files.clone(),
            checkout: self.checkout.clone(),
            left_uncommitted,
            recovered: Vec::new(),
        }
    }
}

/// Intents of operations this process is running now: never taken for interrupted ones.
static RUNNING: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A recorded intent, while its merge runs. Dropping it without [`Intent::finish`] or
/// [`Intent::abandon`] leaves the record for the next call to recover.
#[derive(Debug)]
pub(crate) struct Intent {
    id: String,
}

impl Intent {
    /// The id git processes working for this merge carry ([`git::run_to_end_for`]).
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Records `plan` before anything in git changes.
    pub(crate) fn begin(store: &mut Store, plan: &MergePlan) -> Result<Intent> {
        let id = ulid::Ulid::generate().to_string();
        let me = ProcessInfo::current();
        let text = serde_json::to_string(plan)?;
        store.write(|tx| {
            tx.execute(
                "INSERT INTO operations (id, repo, kind, plan, pid, host, start_ticks, started_at)
                 VALUES (?1, ?2, 'merge', ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    plan.repo,
                    text,
                    me.pid,
                    me.host,
                    process::start_ticks(me.pid).map(|t| t as i64),
                    Timestamp::now().millis()
                ],
            )?;
            Ok(())
        })?;
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone());
        Ok(Intent { id })
    }

    /// Deletes the record inside the transaction that records the merge's event.
    pub(crate) fn finish(&self, tx: &rusqlite::Connection) -> Result<()> {
        tx.execute("DELETE FROM operations WHERE id = ?1", [&self.id])?;
        Ok(())
    }

    /// Deletes the record of a merge that changed nothing (refused, or rolled back).
    pub(crate) fn abandon(self, store: &mut Store) {
        if let Err(e) = store.write(|tx| self.finish(tx)) {
            tracing::warn!(error = %e, "could not delete the record of a rolled-back merge");
        }
    }
}

impl Drop for Intent {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// An interrupted operation as recorded.
struct Interrupted {
    id: String,
    plan: MergePlan,
}

/// Completes or undoes every interrupted merge in the repository at `repo` and returns what
/// was done, one sentence each. A merge whose process still runs is left alone. One that
/// cannot be recovered now (a running git still holds the lock) stays recorded, and the
/// error says so: nothing else may merge into that checkout before it is recovered.
pub fn recover(store: &mut Store, actor: &str, repo: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for found in interrupted(store, repo)? {
        let note = recover_merge(store, actor, &found).map_err(|e| match e {
            Error::Conflict(m) => Error::Conflict(format!(
                "an interrupted merge of {} into {} cannot be completed or undone yet: {m}",
                found.plan.worktree, found.plan.into
            )),
            other => other,
        })?;
        notes.push(note);
    }
    Ok(notes)
}

/// Every recorded merge, as one line each: running, or interrupted and waiting for the
/// next merge or sync in its repository to recover it (for `switchboard doctor`).
pub fn pending_merges(store: &mut Store) -> Result<Vec<String>> {
    let rows: Vec<(String, u32, String, Option<i64>)> = store.read(|tx| {
        let mut stmt =
            tx.prepare_cached("SELECT plan, pid, host, start_ticks FROM operations ORDER BY id")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    })?;
    let mut lines = Vec::new();
    for (plan, pid, host, ticks) in rows {
        let plan: MergePlan = serde_json::from_str(&plan)?;
        let state = if owner_runs(pid, &host, ticks) {
            format!("running (pid {pid} on {host})")
        } else {
            format!(
                "interrupted (pid {pid} is gone); the next merge or sync in {} completes or undoes it",
                plan.repo
            )
        };
        lines.push(format!(
            "merge of {} into {}: {state}",
            plan.worktree, plan.into
        ));
    }
    Ok(lines)
}

/// The recorded merges in `repo` whose process is gone.
fn interrupted(store: &mut Store, repo: &Path) -> Result<Vec<Interrupted>> {
    let repo = repo.to_string_lossy().into_owned();
    let rows: Vec<(String, String, u32, String, Option<i64>)> = store.read(|tx| {
        let mut stmt = tx.prepare_cached(
            "SELECT id, plan, pid, host, start_ticks FROM operations WHERE repo = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([&repo], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    })?;
    let running = RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut found = Vec::new();
    for (id, plan, pid, host, ticks) in rows {
        if running.contains(&id) || owner_runs(pid, &host, ticks) {
            continue;
        }
        let plan: MergePlan = serde_json::from_str(&plan)?;
        found.push(Interrupted { id, plan });
    }
    Ok(found)
}

/// Whether the process that recorded an intent still runs (another process; this one's own
/// running intents are in [`RUNNING`]).
fn owner_runs(pid: u32, host: &str, ticks: Option<i64>) -> bool {
    let me = ProcessInfo::current();
    if host != me.host {
        return true;
    }
    if pid == me.pid && ticks == process::start_ticks(me.pid).map(|t| t as i64) {
        return false;
    }
    process::is_alive(host, pid) && ticks == process::start_ticks(pid).map(|t| t as i64)
}

/// How long recovery waits for the git of an interrupted merge, still finishing on its
/// own after its process died, before saying git is busy.
const GIT_PATIENCE: Duration = Duration::from_secs(5);

/// Waits (up to [`GIT_PATIENCE`]) until no git works for the interrupted merge any more:
/// its state must not be judged while git still changes it.
fn wait_for_its_git(found: &Interrupted) -> Result<()> {
    let deadline = std::time::Instant::now() + GIT_PATIENCE;
    loop {
        let running = git::running_for(&found.id);
        if running.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::Conflict(format!(
                "git is busy: its git (pid {}) is still running. Merge again when it has finished.",
                running
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Completes or undoes one interrupted merge, and says which.
fn recover_merge(store: &mut Store, actor: &str, found: &Interrupted) -> Result<String> {
    wait_for_its_git(found)?;
    let plan = &found.plan;
    let repo = Path::new(&plan.repo);
    let what = format!(
        "the interrupted merge of {} into {}",
        plan.worktree, plan.into
    );
    let Ok(current) = resolve_commit(repo, &format!("refs/heads/{}", plan.into)) else {
        forget(store, actor, found, "gone")?;
        return Ok(format!(
            "{what} was dropped: branch {} no longer exists",
            plan.into
        ));
    };
    if current != plan.previous {
        return Ok(match landed(repo, plan, &current)? {
            Some(commit) => {
                complete(store, actor, found, commit.clone())?;
                format!(
                    "{what} had gone through (commit {}) but was not recorded: completed it",
                    short(&commit)
                )
            }
            None => {
                forget(store, actor, found, "moved")?;
                format!(
                    "{what} was dropped: {} has moved since and does not contain it; nothing was \
                     changed (its state before the merge is kept at {})",
                    plan.into, plan.backup
                )
            }
        });
    }
    let Some(checkout) = &plan.checkout else {
        forget(store, actor, found, "restored")?;
        return Ok(format!(
            "{what} had not moved {} yet: nothing to undo",
            plan.into
        ));
    };
    let dir = Path::new(checkout);
    let mut done = Vec::new();
    match git::busy_after_waiting(dir)? {
        Some(Busy::Locked(lock)) => {
            return Err(Error::Conflict(format!(
                "git is busy in {checkout}: {} exists and a git process there may hold it. \
                 Merge again when it has finished.",
                lock.display()
            )));
        }
        Some(Busy::StaleLock(lock)) => {
            std::fs::remove_file(&lock)
                .map_err(|e| Error::io("cannot remove a stale git index.lock", e))?;
            done.push(format!(
                "removed {} left by a git that is no longer running",
                lock.display()
            ));
        }
        _ => {}
    }
    if matches!(git::busy(dir)?, Some(Busy::Merging(_))) {
        git::run_to_end(dir, &["merge", "--abort"])?;
        done.push("undid the half-done merge (git merge --abort)".into());
    } else if plan.strategy == Strategy::Squash && staged_tree(dir).as_deref() == Some(&plan.tree) {
        git::run_to_end(dir, &["commit", "-q", "-m", &plan.message])?;
        let commit = resolve_commit(dir, "HEAD")?;
        complete(store, actor, found, commit.clone())?;
        done.push(format!(
            "committed the squash it had staged (commit {})",
            short(&commit)
        ));
        return Ok(format!("{what} was completed: {}", done.join("; ")));
    } else {
        done.extend(restore_files(dir, plan)?);
    }
    forget(store, actor, found, "restored")?;
    if done.is_empty() {
        done.push("nothing had changed".into());
    }
    Ok(format!(
        "{what} was undone: {}; {} is as it was (backup: {})",
        done.join("; "),
        plan.into,
        plan.backup
    ))
}

/// The commit by which the plan's merge reached `current`, if it did.
fn landed(repo: &Path, plan: &MergePlan, current: &str) -> Result<Option<String>> {
    if plan.strategy == Strategy::Ff {
        let reached = git::try_run(repo, &["merge-base", "--is-ancestor", &plan.tip, current])?.0;
        return Ok(reached.then(|| plan.tip.clone()));
    }
    let range = format!("{}..{current}", plan.previous);
    let after = git::run(repo, &["rev-list", "--first-parent", "--reverse", &range])?;
    let Some(first) = after.lines().next() else {
        return Ok(None);
    };
    let field = |spec: String| -> Option<String> {
        git::try_run(repo, &["rev-parse", "-q", "--verify", &spec])
            .ok()
            .filter(|(ok, _)| *ok)
            .map(|(_, out)| out.trim().to_string())
    };
    let ours = field(format!("{first}^1")).as_deref() == Some(&plan.previous)
        && field(format!("{first}^{{tree}}")).as_deref() == Some(&plan.tree)
        && (plan.strategy == Strategy::Squash
            || field(format!("{first}^2")).as_deref() == Some(&plan.tip));
    Ok(ours.then(|| first.to_string()))
}

/// The tree the checkout's index holds, when it can be written (no conflicts).
fn staged_tree(dir: &Path) -> Option<String> {
    git::run(dir, &["write-tree"])
        .ok()
        .map(|t| t.trim().to_string())
}

/// Puts the merge's files in the checkout back as they were before it, in the index and on
/// disk. A file changed since (neither as before nor as the merge made it) is left as it is
/// and named: nothing written after the crash is lost.
fn restore_files(dir: &Path, plan: &MergePlan) -> Result<Vec<String>> {
    let mut restored = Vec::new();
    let mut kept = Vec::new();
    for file in &plan.files {
        let before = blob(dir, &plan.previous, file);
        let merged = blob(dir, &plan.tree, file);
        let on_disk = disk_blob(dir, file)?;
        if on_disk != before && on_disk != merged {
            kept.push(file.clone());
            continue;
        }
        git::run_to_end(dir, &["reset", "-q", &plan.previous, "--", file])?;
        if on_disk != before {
            match before {
                Some(_) => git::run_to_end(dir, &["checkout", "--", file]).map(drop)?,
                None => std::fs::remove_file(dir.join(file))
                    .map_err(|e| Error::io("cannot remove a file the merge added", e))?,
            }
            restored.push(file.clone());
        }
    }
    let squash_message = PathBuf::from(git::run(dir, &["rev-parse", "--absolute-git-dir"])?.trim())
        .join("SQUASH_MSG");
    let _ = std::fs::remove_file(squash_message);
    let mut done = Vec::new();
    if !restored.is_empty() {
        done.push(format!("put back {}", restored.join(", ")));
    }
    if !kept.is_empty() {
        done.push(format!(
            "left {} as they are (changed since the merge began)",
            kept.join(", ")
        ));
    }
    Ok(done)
}

/// The blob id of `file` in `tree_ish`, if it has one.
fn blob(dir: &Path, tree_ish: &str, file: &str) -> Option<String> {
    git::try_run(
        dir,
        &["rev-parse", "-q", "--verify", &format!("{tree_ish}:{file}")],
    )
    .ok()
    .filter(|(ok, _)| *ok)
    .map(|(_, out)| out.trim().to_string())
}

/// The blob id `file` on disk would have, if it exists.
fn disk_blob(dir: &Path, file: &str) -> Result<Option<String>> {
    if std::fs::symlink_metadata(dir.join(file)).is_err() {
        return Ok(None);
    }
    Ok(Some(
        git::run(dir, &["hash-object", "--", file])?
            .trim()
            .to_string(),
    ))
}

/// Records the merge git completed and deletes its intent, in one transaction.
fn complete(store: &mut Store, actor: &str, found: &Interrupted, commit: String) -> Result<()> {
    let outcome = found.plan.outcome(commit, Vec::new());
    store.write(|tx| {
        event::append(
            tx,
            kind::WORKTREE_MERGED,
            Some(actor),
            &outcome,
            Timestamp::now(),
        )?;
        tx.execute("DELETE FROM operations WHERE id = ?1", [&found.id])?;
        Ok(())
    })
}

/// The event of an interrupted merge that was undone or dropped.
#[derive(Serialize)]
struct Recovered<'a> {
    worktree: &'a str,
    into: &'a str,
    backup: &'a str,
    /// `restored`, `moved` (the branch moved on without it) or `gone` (branch deleted).
    outcome: &'a str,
}

/// Deletes an intent that was undone or dropped, recording why in the event log.
fn forget(store: &mut Store, actor: &str, found: &Interrupted, outcome: &str) -> Result<()> {
    let payload = Recovered {
        worktree: &found.plan.worktree,
        into: &found.plan.into,
        backup: &found.plan.backup,
        outcome,
    };
    store.write(|tx| {
        event::append(
            tx,
            kind::WORKTREE_RECOVERED,
            Some(actor),
            &payload,
            Timestamp::now(),
        )?;
        tx.execute("DELETE FROM operations WHERE id = ?1", [&found.id])?;
        Ok(())
    })
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}
