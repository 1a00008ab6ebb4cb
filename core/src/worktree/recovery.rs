//! Merges that a crash interrupted. A merge records its plan (an intent) before git is
//! touched and deletes it in the transaction that records its event; an intent whose process
//! is gone is an interrupted merge. The next merge or sync in that repository finds it and
//! either completes it (git had finished; or a squash was staged exactly as planned) or
//! undoes it back to the state kept in its backup ref, and says which.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::merge::{MergeOutcome, Strategy};
use super::resolve_commit;
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::git::{self, Busy};
use crate::process::{self, ProcessInfo};
use crate::store::Tx;
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
            claimed: Vec::new(),
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
        // Running before it is visible: no thread of this process may take it for interrupted.
        let intent = Intent { id: id.clone() };
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone());
        let owner = OperationOwner {
            ticks: process::start_ticks(me.pid).map(|t| t as i64),
            pid: me.pid,
            host: me.host,
        };
        store.write(|tx| {
            tx.insert_merge_operation(&id, &plan.repo, &text, &owner, Timestamp::now())
        })?;
        Ok(intent)
    }

    /// Deletes the record inside the transaction that records the merge's event.
    pub(crate) fn finish(&self, tx: &Tx<'_>) -> Result<()> {
        tx.delete_operation(&self.id)
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
    owner: OperationOwner,
}

/// The process an intent was recorded by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OperationOwner {
    pub pid: u32,
    pub host: String,
    /// When the process started (in clock ticks since boot), when known.
    pub ticks: Option<i64>,
}

/// Completes or undoes every interrupted merge in the repository at `repo` and returns what
/// was done, one sentence each. A merge whose process still runs is left alone. One that
/// cannot be recovered now (its git still runs, the checkout is busy) stays recorded and
/// its sentence says why; [`blocking`] then keeps new merges into its branch waiting.
pub fn recover(store: &mut Store, actor: &str, repo: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for found in interrupted(store, repo)? {
        let Some(_claimed) = claim(store, &found)? else {
            continue;
        };
        let note = recover_merge(store, actor, &found).unwrap_or_else(|e| {
            format!(
                "the interrupted merge of {} into {} cannot be completed or undone yet: {e}",
                found.plan.worktree, found.plan.into
            )
        });
        notes.push(note);
    }
    Ok(notes)
}

/// Forgets every interrupted merge in `repo` without touching git, for one that can never
/// be recovered (its checkout stays busy): each sentence says where to look and which
/// backup ref keeps the state before it.
pub fn drop_interrupted(store: &mut Store, actor: &str, repo: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for found in interrupted(store, repo)? {
        let Some(_claimed) = claim(store, &found)? else {
            continue;
        };
        forget(store, actor, &found, "dropped")?;
        let plan = &found.plan;
        notes.push(format!(
            "dropped the record of the interrupted merge of {} into {} without touching git: \
             check {} (git status); {} before the merge is kept at {}",
            plan.worktree,
            plan.into,
            plan.checkout.as_deref().unwrap_or(&plan.repo),
            plan.into,
            plan.backup
        ));
    }
    Ok(notes)
}

/// Why a new merge into `into` must wait, if a merge into it is recorded in `repo` on this
/// host: running in another process, or interrupted and not recovered yet. (A merge
/// recorded on another host moves that host's clone, not this one's.)
pub(crate) fn blocking(store: &mut Store, repo: &Path, into: &str) -> Result<Option<String>> {
    let running = RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let here = process::this_host();
    for row in rows(store, Some(repo))? {
        let Ok(plan) = row.plan() else { continue };
        if plan.into != into || running.contains(&row.id) || row.owner.host != here {
            continue;
        }
        return Ok(Some(if owner_runs(&row.owner) {
            format!(
                "another merge into {into} (of {}) is in progress (pid {} on {}). Try again when \
                 it has finished.",
                plan.worktree, row.owner.pid, row.owner.host
            )
        } else {
            format!(
                "the interrupted merge of {} into {into} is not recovered yet. Try again in a \
                 moment; `switchboard worktree recover` says what stops it.",
                plan.worktree
            )
        }));
    }
    Ok(None)
}

/// Takes an interrupted intent over for this process (a compare-and-set on its owner), so
/// that no other process or thread recovers it at the same time. `None` when another got
/// it first. The returned guard keeps it marked running here until dropped.
fn claim(store: &mut Store, found: &Interrupted) -> Result<Option<Intent>> {
    let me = ProcessInfo::current();
    let mine = OperationOwner {
        ticks: process::start_ticks(me.pid).map(|t| t as i64),
        pid: me.pid,
        host: me.host,
    };
    let claimed = store.write(|tx| tx.claim_operation(&found.id, &found.owner, &mine))?;
    if !claimed {
        return Ok(None);
    }
    let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    if !running.insert(found.id.clone()) {
        return Ok(None);
    }
    Ok(Some(Intent {
        id: found.id.clone(),
    }))
}

/// Every recorded merge, as one line each: running, or interrupted and waiting for the
/// next merge or sync in its repository to recover it (for `switchboard doctor`).
pub fn pending_merges(store: &mut Store) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for row in rows(store, None)? {
        let Ok(plan) = row.plan() else {
            lines.push(format!(
                "operation {} (pid {}): its record cannot be read by this version",
                row.id, row.owner.pid
            ));
            continue;
        };
        let state = if owner_runs(&row.owner) {
            format!("running (pid {} on {})", row.owner.pid, row.owner.host)
        } else {
            format!(
                "interrupted (pid {} is gone); the next merge or sync in {} completes or undoes \
                 it (now: switchboard worktree recover; if it never can: --drop)",
                row.owner.pid, plan.repo
            )
        };
        lines.push(format!(
            "merge of {} into {}: {state}",
            plan.worktree, plan.into
        ));
    }
    Ok(lines)
}

/// A recorded operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub id: String,
    /// Its plan, as JSON ([`MergePlan`] for a merge).
    pub plan: String,
    /// The process running it (or that ran it, if it was interrupted).
    pub owner: OperationOwner,
}

impl Operation {
    fn plan(&self) -> Result<MergePlan> {
        Ok(serde_json::from_str(&self.plan)?)
    }
}

/// The recorded merges (of `repo`, or all).
/// Whether the process asking runs for a merge Switchboard has recorded and not finished:
/// its environment names the operation (git and its hooks inherit it, see
/// [`crate::git::OPERATION_VAR`]) and the store holds that operation. The pre-commit guard
/// lets such a merge's commit through, since the merge reports (and tells) the claims it
/// goes over itself.
pub fn merging_now(store: &mut Store) -> Result<bool> {
    let Ok(id) = std::env::var(crate::git::OPERATION_VAR) else {
        return Ok(false);
    };
    Ok(rows(store, None)?.iter().any(|op| op.id == id))
}

fn rows(store: &mut Store, repo: Option<&Path>) -> Result<Vec<Operation>> {
    let repo = repo.map(|r| r.to_string_lossy().into_owned());
    store.read(|tx| tx.merge_operations(repo.as_deref()))
}

/// The recorded merges in `repo` whose process is gone (a record this version cannot read
/// is left alone, and `doctor` names it).
fn interrupted(store: &mut Store, repo: &Path) -> Result<Vec<Interrupted>> {
    let running = RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut found = Vec::new();
    for row in rows(store, Some(repo))? {
        if running.contains(&row.id) || owner_runs(&row.owner) {
            continue;
        }
        let Ok(plan) = row.plan() else {
            tracing::warn!(operation = %row.id, "an interrupted operation's record cannot be read");
            continue;
        };
        found.push(Interrupted {
            id: row.id,
            plan,
            owner: row.owner,
        });
    }
    Ok(found)
}

/// Whether the process that recorded an intent still runs (another process; this one's own
/// running intents are in [`RUNNING`]).
fn owner_runs(owner: &OperationOwner) -> bool {
    let me = ProcessInfo::current();
    if owner.host != me.host {
        return true;
    }
    if owner.pid == me.pid && owner.ticks == process::start_ticks(me.pid).map(|t| t as i64) {
        return false;
    }
    process::is_alive(&owner.host, owner.pid)
        && owner.ticks == process::start_ticks(owner.pid).map(|t| t as i64)
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
                "git is busy: its git (pid {}) is still running. Try again when it has finished \
                 (or stop it with kill).",
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
    let Some(checkout) = plan.checkout.as_deref().filter(|c| Path::new(c).is_dir()) else {
        forget(store, actor, found, "restored")?;
        return Ok(format!(
            "{what} had not moved {} yet: nothing to undo",
            plan.into
        ));
    };
    let dir = Path::new(checkout);
    let on = git::run(dir, &["symbolic-ref", "-q", "HEAD"]).unwrap_or_default();
    if on.trim() != format!("refs/heads/{}", plan.into) {
        forget(store, actor, found, "moved")?;
        return Ok(format!(
            "{what} was dropped: {checkout} is no longer on {} and was left as it is; {} itself \
             had not moved",
            plan.into, plan.into
        ));
    }
    let git = |args: &[&str]| git::run_to_end_for(&found.id, dir, args);
    let mut done = Vec::new();
    match git::busy_after_waiting(dir)? {
        Some(Busy::Locked(lock)) => {
            return Err(Error::Conflict(format!(
                "git is busy in {checkout}: {} exists and a git process there may hold it. Try \
                 again when it has finished.",
                lock.display()
            )));
        }
        Some(Busy::StaleLock(_)) => {
            let lock = git::remove_stale_lock(dir)?;
            done.push(format!(
                "removed {} left by a git that is no longer running",
                lock.display()
            ));
        }
        _ => {}
    }
    match git::busy(dir)? {
        Some(Busy::Merging(_)) if ours_in_progress(dir, plan)? => {
            git(&["merge", "--abort"])?;
            done.push("undid the half-done merge (git merge --abort)".into());
        }
        Some(other) => {
            return Err(Error::Conflict(format!(
                "{checkout} is in the middle of {}, then try again",
                other.describe()
            )));
        }
        None if plan.strategy == Strategy::Squash
            && staged_tree(dir).as_deref() == Some(&plan.tree) =>
        {
            git(&["commit", "-q", "-m", &plan.message])?;
            let commit = resolve_commit(dir, "HEAD")?;
            complete(store, actor, found, commit.clone())?;
            done.push(format!(
                "committed the squash it had staged (commit {})",
                short(&commit)
            ));
            return Ok(format!("{what} was completed: {}", done.join("; ")));
        }
        None => done.extend(restore_files(dir, plan, &found.id)?),
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

/// Whether the merge in progress in `dir` is the plan's: a merge of its tip onto its
/// starting point (and not a merge someone else started there since).
pub(crate) fn ours_in_progress(dir: &Path, plan: &MergePlan) -> Result<bool> {
    let merging = git::try_run(dir, &["rev-parse", "-q", "--verify", "MERGE_HEAD"])?;
    Ok(plan.strategy == Strategy::Merge
        && merging.0
        && merging.1.trim() == plan.tip
        && resolve_commit(dir, "HEAD")? == plan.previous)
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
    let field = |spec: String| object(repo, &spec);
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
pub(crate) fn restore_files(dir: &Path, plan: &MergePlan, operation: &str) -> Result<Vec<String>> {
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
        git::run_to_end_for(operation, dir, &["reset", "-q", &plan.previous, "--", file])?;
        if on_disk != before {
            match before {
                Some(_) => {
                    git::run_to_end_for(operation, dir, &["checkout", "--", file]).map(drop)?
                }
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
        done.push(format!("put back {}", crate::text::capped_list(&restored)));
    }
    if !kept.is_empty() {
        done.push(format!(
            "left {} as they are (changed since the merge began)",
            crate::text::capped_list(&kept)
        ));
    }
    Ok(done)
}

/// The blob id of `file` in `tree_ish`, if it has one.
fn blob(dir: &Path, tree_ish: &str, file: &str) -> Option<String> {
    object(dir, &format!("{tree_ish}:{file}"))
}

/// The object `spec` names (`rev-parse --verify`), if any.
fn object(dir: &Path, spec: &str) -> Option<String> {
    git::try_run(dir, &["rev-parse", "-q", "--verify", spec])
        .ok()
        .filter(|(ok, _)| *ok)
        .map(|(_, out)| out.trim().to_string())
}

/// The blob id `file` on disk would have, if it exists. Anything but a regular file (a
/// link, a pipe) gets an id no blob has, so it is never taken for the merge's and is left
/// alone.
fn disk_blob(dir: &Path, file: &str) -> Result<Option<String>> {
    match std::fs::symlink_metadata(dir.join(file)) {
        Err(_) => return Ok(None),
        Ok(meta) if !meta.is_file() => return Ok(Some("not a regular file".into())),
        Ok(_) => {}
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
            Kind::WorktreeMerged,
            Some(actor),
            &outcome,
            Timestamp::now(),
        )?;
        tx.delete_operation(&found.id)
    })
}

/// Deletes an intent that was undone or dropped, recording why in the event log.
fn forget(store: &mut Store, actor: &str, found: &Interrupted, outcome: &str) -> Result<()> {
    let payload = event::WorktreeRecovered {
        worktree: found.plan.worktree.clone(),
        into: found.plan.into.clone(),
        backup: found.plan.backup.clone(),
        outcome: outcome.to_string(),
    };
    store.write(|tx| {
        event::append(
            tx,
            Kind::WorktreeRecovered,
            Some(actor),
            &payload,
            Timestamp::now(),
        )?;
        tx.delete_operation(&found.id)
    })
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}
