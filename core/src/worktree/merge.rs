//! Bringing work back: merging a worktree's branch into its base, rebasing it onto the
//! base, and predicting conflicts between worktrees. Every check runs before anything
//! moves; a backup ref is written before any ref moves.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::claimed::tell_holders;
use super::recovery::{self, Intent, MergePlan};
use super::status::{diff_of, dirty_files};
use super::{ClaimedWork, Worktree, backup, claimed_work, get_to_change, resolve_commit};
use crate::claim;
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::git::{self, Busy};
use crate::{Error, Result, Store};

/// How to merge a worktree's branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Fast-forward only.
    Ff,
    /// A merge commit.
    #[default]
    Merge,
    /// One new commit with all the changes.
    Squash,
}

impl Strategy {
    /// The name the tools and the CLI take: `ff`, `merge` or `squash`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Ff => "ff",
            Strategy::Merge => "merge",
            Strategy::Squash => "squash",
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [Strategy::Ff, Strategy::Merge, Strategy::Squash]
            .into_iter()
            .find(|strategy| strategy.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!("unknown strategy '{s}': use ff, merge or squash"))
            })
    }
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MergeOutcome {
    /// Name of the merged worktree.
    pub worktree: String,
    /// The worktree's branch that was merged.
    pub branch: String,
    /// Branch merged into: the one asked for, else the branch the worktree was made from.
    pub into: String,
    /// How it was merged.
    pub strategy: Strategy,
    /// Commit (full sha) `into` pointed at before the merge.
    pub previous: String,
    /// Commit (full sha) `into` points at now: the new merge or squash commit, or the
    /// worktree branch's tip for a fast-forward.
    pub commit: String,
    /// Restore the previous state with `git update-ref refs/heads/<into> <backup>`.
    pub backup: String,
    /// Files the merge changed.
    pub files: Vec<String>,
    /// The checkout whose files were updated, when `into` is checked out somewhere.
    pub checkout: Option<String>,
    /// Uncommitted files left in the worktree (not part of the merge).
    pub left_uncommitted: Vec<String>,
    /// Interrupted merges in this repository found first, and whether each was completed
    /// or undone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<String>,
    /// Files the merge changed that another holder claims exclusively: the merge went
    /// ahead (claims are advisory), and their holders should hear of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claimed: Vec<ClaimedWork>,
}

/// The result of `git merge-tree`: the merged tree, or the conflicting files.
fn merge_tree(dir: &Path, a: &str, b: &str) -> Result<std::result::Result<String, Vec<String>>> {
    let (code, out) = git::run_code(
        dir,
        &[
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            a,
            b,
        ],
    )?;
    let mut lines = out.lines();
    let tree = lines.next().unwrap_or("").to_string();
    match code {
        Some(0) => Ok(Ok(tree)),
        Some(1) => {
            let mut files: Vec<String> = lines
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            files.dedup();
            Ok(Err(files))
        }
        _ => Err(Error::Git(format!("git merge-tree failed for {a} and {b}"))),
    }
}

/// The files a merge of `w`'s current work (its HEAD, plus uncommitted changes to tracked
/// files) into its base branch would conflict in now; empty without a base branch. Refused
/// for a worktree on another host ([`Worktree::other_host`]), naming it.
pub fn base_conflicts(w: &Worktree) -> Result<Vec<String>> {
    super::require_here(w)?;
    let repo = Path::new(&w.repo);
    let Some(base) = &w.base_ref else {
        return Ok(Vec::new());
    };
    let Ok(base_tip) = resolve_commit(repo, &format!("refs/heads/{base}")) else {
        return Ok(Vec::new());
    };
    let tip = working_tip(Path::new(&w.path))?;
    Ok(merge_tree(repo, &base_tip, &tip)?.err().unwrap_or_default())
}

/// Whether everything on `w`'s branch is already in its base branch, even when its
/// commits are not (a squash merge, a cherry-pick): merging it would change nothing.
pub(crate) fn applied_to_base(w: &Worktree) -> Result<bool> {
    let repo = Path::new(&w.repo);
    let Some(base) = &w.base_ref else {
        return Ok(false);
    };
    let (Ok(base_tip), Ok(tip)) = (
        resolve_commit(repo, &format!("refs/heads/{base}")),
        resolve_commit(repo, &format!("refs/heads/{}", w.branch)),
    ) else {
        return Ok(false);
    };
    let base_tree = git::run(repo, &["rev-parse", &format!("{base_tip}^{{tree}}")])?;
    Ok(merge_tree(repo, &base_tip, &tip)?.is_ok_and(|tree| tree == base_tree.trim()))
}

/// A commit holding the checkout's current work: HEAD, or, when tracked files have
/// uncommitted changes, a snapshot commit of them ([`snapshot`]). When no snapshot can be
/// made (e.g. a rebase stopped at a conflict), HEAD: the radar then sees committed work.
fn working_tip(dir: &Path) -> Result<String> {
    let head = resolve_commit(dir, "HEAD")?;
    match snapshot(dir, &head) {
        Ok(Some(commit)) => Ok(commit),
        Ok(None) => Ok(head),
        Err(e) => {
            tracing::debug!(error = %e, dir = %dir.display(), "no snapshot of uncommitted work");
            Ok(head)
        }
    }
}

/// A commit (on no branch) of `dir`'s tracked files as they are on disk, made through a
/// private, randomly named index in the checkout's git directory: the checkout's own
/// index, refs and files are untouched, so an agent working there is never in its way.
/// `None` when nothing tracked differs from `head`.
fn snapshot(dir: &Path, head: &str) -> Result<Option<String>> {
    let git_dir = git::run(dir, &["rev-parse", "--absolute-git-dir"])?;
    let index = Path::new(git_dir.trim()).join(format!(
        "switchboard-snapshot-{}.index",
        ulid::Ulid::generate()
    ));
    let index_env = index.to_string_lossy().into_owned();
    let made = (|| {
        let env = [("GIT_INDEX_FILE", index_env.as_str())];
        git::run_env(dir, &env, &["read-tree", head])?;
        git::run_env(dir, &env, &["add", "--update"])?;
        let tree = git::run_env(dir, &env, &["write-tree"])?;
        let head_tree = git::run(dir, &["rev-parse", &format!("{head}^{{tree}}")])?;
        if tree.trim() == head_tree.trim() {
            return Ok(None);
        }
        let author = [
            ("GIT_AUTHOR_NAME", "switchboard"),
            ("GIT_AUTHOR_EMAIL", "switchboard@localhost"),
            ("GIT_COMMITTER_NAME", "switchboard"),
            ("GIT_COMMITTER_EMAIL", "switchboard@localhost"),
        ];
        let commit = git::run_env(
            dir,
            &author,
            &[
                "commit-tree",
                tree.trim(),
                "-p",
                head,
                "-m",
                "switchboard: snapshot of uncommitted work",
            ],
        )?;
        Ok(Some(commit.trim().to_string()))
    })();
    // The index is ours alone; a leftover would only waste space.
    let _ = std::fs::remove_file(&index);
    made
}

/// The checkout (if any) that has `branch` checked out.
fn checkout_of(repo: &Path, branch: &str) -> Result<Option<PathBuf>> {
    let listing = git::run(repo, &["worktree", "list", "--porcelain"])?;
    let mut current: Option<PathBuf> = None;
    for line in listing.lines() {
        if let Some(path) = line.strip_prefix("worktree ") {
            current = Some(PathBuf::from(path));
        } else if line.strip_prefix("branch ") == Some(&format!("refs/heads/{branch}")) {
            return Ok(current);
        }
    }
    Ok(None)
}

fn is_ancestor(dir: &Path, ancestor: &str, descendant: &str) -> Result<bool> {
    Ok(git::try_run(dir, &["merge-base", "--is-ancestor", ancestor, descendant])?.0)
}

fn target_branch(w: &Worktree, into: Option<&str>) -> Result<String> {
    match into.map(str::to_string).or_else(|| w.base_ref.clone()) {
        Some(b) => Ok(b),
        None => Err(Error::Invalid(format!(
            "worktree '{}' was made from a commit, not a branch: say which branch to merge into",
            w.name
        ))),
    }
}

fn squash_message(repo: &Path, w: &Worktree, into_tip: &str, tip: &str) -> Result<String> {
    let subjects = git::run(
        repo,
        &[
            "log",
            "--reverse",
            "--format=%s",
            &format!("{into_tip}..{tip}"),
        ],
    )?;
    let mut message = format!("Squash {} (worktree {})\n\n", w.branch, w.name);
    for subject in subjects.lines().filter(|s| !s.is_empty()) {
        message.push_str(&format!("- {subject}\n"));
    }
    Ok(message)
}

/// How to merge a worktree: the request every surface hands to [`merge`] (MCP and LSP
/// read it beside the worktree's name). By default a merge commit into the branch the
/// worktree was made from. Field docs are the descriptions agents see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MergeRequest {
    /// Default: the branch it came from.
    #[serde(default)]
    pub into: Option<String>,
    /// Default merge.
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<Strategy>")]
    pub strategy: Strategy,
    /// Commit message.
    #[serde(default)]
    pub message: Option<String>,
}

impl MergeRequest {
    /// Merging with `strategy` into the default branch, with the default message.
    pub fn with(strategy: Strategy) -> MergeRequest {
        MergeRequest {
            strategy,
            ..Default::default()
        }
    }
}

/// Merges the worktree's branch into `into` (default: the branch it was made from).
/// Refuses, changing nothing, if the merge would conflict (listing the files), if `ff` is
/// impossible, or if the target checkout has uncommitted changes the merge would touch.
/// Writes a backup ref of `into` before moving it, and records the plan before git starts,
/// so a merge interrupted by a crash is completed or undone by the next merge or sync in
/// the repository ([`recovery::recover`]), which says so in its outcome.
pub fn merge(
    store: &mut Store,
    actor: &str,
    name: &str,
    request: &MergeRequest,
) -> Result<MergeOutcome> {
    let (into, strategy, message) = (
        request.into.as_deref(),
        request.strategy,
        request.message.as_deref(),
    );
    if let Some(message) = message {
        crate::input::refuse_nul("merge message", message)?;
    }
    let w = get_to_change(store, actor, "merge", name)?;
    let recovered = recovery::recover(store, actor, Path::new(&w.repo))?;
    let claims = claim::index(store)?;
    match merge_now(store, actor, &w, into, strategy, message) {
        Ok(outcome) => {
            let merged = MergeOutcome {
                recovered,
                claimed: claimed_work(&claims, &w, &outcome.files),
                ..outcome
            };
            tell_holders(store, actor, &merged);
            Ok(merged)
        }
        Err(e) => Err(after_recovery(e, &recovered)),
    }
}

/// `e`, saying also what was recovered before it (the caller would not know otherwise).
pub(crate) fn after_recovery(e: Error, recovered: &[String]) -> Error {
    if recovered.is_empty() {
        return e;
    }
    let first = format!(" (Before this: {}.)", recovered.join("; "));
    match e {
        Error::Conflict(m) => Error::Conflict(m + &first),
        Error::Invalid(m) => Error::Invalid(m + &first),
        Error::Git(m) => Error::Git(m + &first),
        other => other,
    }
}

fn merge_now(
    store: &mut Store,
    actor: &str,
    w: &Worktree,
    into: Option<&str>,
    strategy: Strategy,
    message: Option<&str>,
) -> Result<MergeOutcome> {
    let repo = PathBuf::from(&w.repo);
    let into = target_branch(w, into)?;
    git::check_branch(&repo, &into)?;
    if let Some(wait) = recovery::blocking(store, &repo, &into)? {
        return Err(Error::Conflict(wait));
    }
    let into_tip = resolve_commit(&repo, &format!("refs/heads/{into}"))
        .map_err(|_| Error::Invalid(format!("there is no branch '{into}' to merge into")))?;
    let tip = resolve_commit(&repo, &format!("refs/heads/{}", w.branch))?;
    if is_ancestor(&repo, &tip, &into_tip)? {
        let uncommitted = if Path::new(&w.path).exists() {
            dirty_files(Path::new(&w.path))?
        } else {
            Vec::new()
        };
        if !uncommitted.is_empty() {
            return Err(Error::Conflict(format!(
                "nothing to merge yet: the changes in worktree {} are not committed. Commit {} in {} \
                 (git add, git commit), then merge.",
                w.name,
                crate::text::capped_list(&uncommitted),
                w.path
            )));
        }
        return Err(Error::Conflict(format!(
            "nothing to merge: {into} already contains {}",
            w.branch
        )));
    }
    let tree = match merge_tree(&repo, &into_tip, &tip)? {
        Ok(tree) => tree,
        Err(files) => {
            return Err(refused(
                store,
                actor,
                w,
                format!(
                    "merging {} into {into} would conflict in: {}. Nothing was changed; sync the worktree \
                     (worktree_sync) or resolve by hand.",
                    w.branch,
                    crate::text::capped_list(&files)
                ),
            ));
        }
    };
    let into_tree = git::run(&repo, &["rev-parse", &format!("{into_tip}^{{tree}}")])?;
    if tree == into_tree.trim() {
        return Err(Error::Conflict(format!(
            "nothing to merge: {into} already has every change of {} (squash-merged or \
             cherry-picked)",
            w.branch
        )));
    }
    if strategy == Strategy::Ff && !is_ancestor(&repo, &into_tip, &tip)? {
        // The caller can fix this alone (another strategy): no one else needs to know.
        return Err(Error::Conflict(format!(
            "cannot fast-forward {into}: it has commits {} lacks. Use merge or squash, or sync first.",
            w.branch
        )));
    }
    let files: Vec<String> = git::run(&repo, &["diff", "--name-only", "-z", &into_tip, &tree])?
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    let checkout = checkout_of(&repo, &into)?;
    if let Some(dir) = &checkout {
        ready(dir)?;
        let touched: Vec<String> = dirty_files(dir)?
            .into_iter()
            .filter(|f| files.contains(f))
            .collect();
        if !touched.is_empty() {
            return Err(refused(
                store,
                actor,
                w,
                format!(
                    "{} has uncommitted changes to files the merge would change: {}. Nothing was changed; \
                     commit or stash them first.",
                    dir.display(),
                    crate::text::capped_list(&touched)
                ),
            ));
        }
    }
    let message = match (message, strategy) {
        (Some(m), _) => m.to_string(),
        (None, Strategy::Squash) => squash_message(&repo, w, &into_tip, &tip)?,
        (None, _) => format!(
            "Merge branch '{}' (worktree {}) into {into}",
            w.branch, w.name
        ),
    };
    let backup_ref = backup(
        &repo,
        &format!("{}/into-{}", w.name, into.replace('/', "-")),
        &into_tip,
    )?;
    let plan = MergePlan {
        repo: w.repo.clone(),
        worktree: w.name.clone(),
        branch: w.branch.clone(),
        into,
        strategy,
        previous: into_tip,
        tip,
        tree,
        backup: backup_ref,
        files,
        checkout: checkout.map(|c| c.display().to_string()),
        message,
    };
    let intent = Intent::begin(store, &plan)?;
    let merged = match &plan.checkout {
        Some(dir) => merge_in_checkout(Path::new(dir), &plan, intent.id()),
        None => merge_without_checkout(&repo, &plan, intent.id()).map_err(|e| (e, true)),
    };
    let commit = match merged {
        Ok(commit) => commit,
        Err((e, undone)) => {
            if undone {
                intent.abandon(store);
            }
            return Err(e);
        }
    };
    let left_uncommitted = if Path::new(&w.path).exists() {
        dirty_files(Path::new(&w.path))?
    } else {
        Vec::new()
    };
    let outcome = plan.outcome(commit, left_uncommitted);
    store.write(|tx| {
        event::append(
            tx,
            Kind::WorktreeMerged,
            Some(actor),
            &outcome,
            Timestamp::now(),
        )?;
        intent.finish(tx)
    })?;
    Ok(outcome)
}

/// Refuses to merge into a checkout where git is busy: a running git holds its index
/// lock, a merge, rebase, cherry-pick or revert is in progress there, or changes are staged
/// (git would refuse, and undoing its attempt could drop them). A lock left by a git that
/// died (no process has it open and it is older than every git running there) is removed:
/// nothing can hold it.
fn ready(dir: &Path) -> Result<()> {
    let busy = match git::busy_after_waiting(dir)? {
        Some(Busy::StaleLock(_)) => {
            let lock = git::remove_stale_lock(dir)?;
            tracing::warn!(lock = %lock.display(), "removed a git index.lock no running git holds");
            git::busy(dir)?
        }
        busy => busy,
    };
    let shown = dir.display();
    if let Some(busy) = busy {
        return Err(Error::Conflict(match busy {
            Busy::Locked(lock) => format!(
                "git is busy in {shown}: {} exists and a git process there may hold it. Try \
                 again when it has finished.",
                lock.display()
            ),
            other => format!(
                "{shown} is in the middle of {}, then merge again.",
                other.describe()
            ),
        }));
    }
    let staged = git::run(dir, &["diff", "--cached", "--name-only", "-z"])?;
    let staged: Vec<String> = staged
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    if !staged.is_empty() {
        return Err(Error::Conflict(format!(
            "{shown} has staged changes ({}): commit or unstage them there, then merge again.",
            crate::text::capped_list(&staged)
        )));
    }
    Ok(())
}

/// A refused merge of `w`: the refusal, after telling the agent of its session's parent
/// (when that agent is not the one asking), who may need to step in.
fn refused(store: &mut Store, actor: &str, w: &Worktree, reason: String) -> Error {
    let Some(id) = &w.session else {
        return Error::Conflict(reason);
    };
    let told = crate::session::get(store, id).and_then(|session| {
        store.write(|tx| {
            let subject = format!("merge of {} refused", w.name);
            let body = format!("{actor} tried to merge worktree {}: {reason}", w.name);
            crate::session::tell_parent(
                tx,
                &session,
                actor,
                &subject,
                &body,
                crate::message::Priority::High,
                Timestamp::now(),
            )
        })
    });
    if let Err(e) = told {
        tracing::warn!(error = %e, worktree = %w.name, "could not tell the parent of a refused merge");
    }
    Error::Conflict(reason)
}

/// Merges with the user's git in the checkout that has the target branch, so its files
/// follow. On failure (e.g. a hook refusing), what git did is undone: its merge aborted, or
/// the files it changed put back. `Err((error, undone))`: `undone` is false when that
/// failed too, and the merge's record must stay for recovery.
fn merge_in_checkout(
    dir: &Path,
    plan: &MergePlan,
    operation: &str,
) -> std::result::Result<String, (Error, bool)> {
    let message = plan.message.as_str();
    let git = |args: &[&str]| git::run_to_end_for(operation, dir, args);
    let result = match plan.strategy {
        Strategy::Ff => git(&["merge", "--ff-only", &plan.tip]),
        Strategy::Merge => git(&["merge", "--no-ff", "--no-edit", "-m", message, &plan.tip]),
        Strategy::Squash => {
            git(&["merge", "--squash", &plan.tip]).and_then(|_| git(&["commit", "-m", message]))
        }
    };
    let Err(e) = result else {
        return resolve_commit(dir, "HEAD").map_err(|e| (e, true));
    };
    let undone = if recovery::ours_in_progress(dir, plan).unwrap_or(false) {
        git(&["merge", "--abort"]).map(drop)
    } else {
        recovery::restore_files(dir, plan, operation).map(drop)
    };
    match undone {
        Ok(()) => Err((
            Error::Git(format!(
                "the merge did not go through and was rolled back: {e}"
            )),
            true,
        )),
        Err(undo) => Err((
            Error::Git(format!(
                "the merge did not go through ({e}), and undoing it failed too ({undo}); the \
                 next merge or sync in this repository will try again"
            )),
            false,
        )),
    }
}

/// Merges without touching any checkout: builds the commit from the merged tree and moves
/// the branch only if it still points where it did.
fn merge_without_checkout(repo: &Path, plan: &MergePlan, operation: &str) -> Result<String> {
    let (previous, message) = (plan.previous.as_str(), plan.message.as_str());
    let commit = match plan.strategy {
        Strategy::Ff => plan.tip.clone(),
        Strategy::Merge => git::run(
            repo,
            &[
                "commit-tree",
                &plan.tree,
                "-p",
                previous,
                "-p",
                &plan.tip,
                "-m",
                message,
            ],
        )?
        .trim()
        .to_string(),
        Strategy::Squash => git::run(
            repo,
            &["commit-tree", &plan.tree, "-p", previous, "-m", message],
        )?
        .trim()
        .to_string(),
    };
    git::run_to_end_for(
        operation,
        repo,
        &[
            "update-ref",
            "-m",
            "switchboard merge",
            &format!("refs/heads/{}", plan.into),
            &commit,
            previous,
        ],
    )?;
    Ok(commit)
}

/// What a rebase onto the base did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SyncOutcome {
    /// Name of the synced worktree.
    pub worktree: String,
    /// The worktree's branch that was rebased.
    pub branch: String,
    /// The base commit now under the branch.
    pub onto: String,
    /// The worktree's HEAD (full sha) before the sync.
    pub previous: String,
    /// The worktree's HEAD (full sha) after the sync: the rebased tip, where a kept rebase
    /// stopped, or `previous` when already up to date.
    pub head: String,
    /// Restore with `git update-ref refs/heads/<branch> <backup>` (or `git reset --hard <backup>` in the worktree).
    pub backup: String,
    /// The branch already contained the base: nothing was done, and `backup` is empty.
    pub up_to_date: bool,
    /// Asked to keep a conflicting rebase: it stopped at the conflict, in the worktree.
    pub stopped: Option<RebaseStop>,
    /// Interrupted merges in this repository found first, and whether each was completed
    /// or undone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<String>,
}

/// A rebase left stopped at a conflict, for the agent to resolve in its worktree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RebaseStop {
    /// Files with conflict markers.
    pub files: Vec<String>,
    /// Exactly what to run, in the worktree, to finish or to give up.
    pub resolve: String,
}

/// Rebases the worktree's branch onto the current tip of its base. Refuses a dirty
/// worktree and a predicted conflict; if the rebase still conflicts it is aborted and the
/// worktree left as it was. A backup ref of the branch is written first.
///
/// With `keep_conflict`, a conflicting rebase is instead left stopped at the conflict in the
/// worktree (after the backup), and the outcome says exactly how to continue or abort.
pub fn sync(
    store: &mut Store,
    actor: &str,
    name: &str,
    keep_conflict: bool,
) -> Result<SyncOutcome> {
    let w = get_to_change(store, actor, "sync", name)?;
    let recovered = recovery::recover(store, actor, Path::new(&w.repo))?;
    match sync_now(store, actor, &w, keep_conflict) {
        Ok(outcome) => Ok(SyncOutcome {
            recovered,
            ..outcome
        }),
        Err(e) => Err(after_recovery(e, &recovered)),
    }
}

fn sync_now(
    store: &mut Store,
    actor: &str,
    w: &Worktree,
    keep_conflict: bool,
) -> Result<SyncOutcome> {
    let path = PathBuf::from(&w.path);
    let repo = PathBuf::from(&w.repo);
    let onto = match &w.base_ref {
        Some(b) => resolve_commit(&repo, &format!("refs/heads/{b}"))?,
        None => w.base_commit.clone(),
    };
    let head = resolve_commit(&path, "HEAD")?;
    let mut outcome = SyncOutcome {
        worktree: w.name.clone(),
        branch: w.branch.clone(),
        onto: onto.clone(),
        previous: head.clone(),
        head: head.clone(),
        backup: String::new(),
        up_to_date: is_ancestor(&repo, &onto, &head)?,
        stopped: None,
        recovered: Vec::new(),
    };
    if outcome.up_to_date {
        return Ok(outcome);
    }
    let dirty = dirty_files(&path)?;
    if !dirty.is_empty() {
        return Err(Error::Conflict(format!(
            "worktree '{}' has uncommitted changes ({}); commit or stash them before syncing",
            w.name,
            crate::text::capped_list(&dirty)
        )));
    }
    if !keep_conflict && let Err(files) = merge_tree(&repo, &onto, &head)? {
        return Err(Error::Conflict(format!(
            "rebasing {} onto {} would conflict in: {}. Nothing was changed. To resolve it yourself, \
             sync again with keep_conflict: true (the rebase then stops at the conflict in the worktree).",
            w.branch,
            &onto[..10.min(onto.len())],
            crate::text::capped_list(&files)
        )));
    }
    outcome.backup = backup(&repo, &format!("{}/before-sync", w.name), &head)?;
    if let Err(e) = git::run_to_end(&path, &["rebase", &onto]) {
        let files =
            git::run(&path, &["diff", "--name-only", "--diff-filter=U"]).unwrap_or_default();
        let files: Vec<String> = files.lines().map(str::to_string).collect();
        if keep_conflict && !files.is_empty() {
            outcome.stopped = Some(RebaseStop {
                resolve: format!(
                    "In {}: edit {} to resolve the conflict markers, then `git add <files>` and \
                     `GIT_EDITOR=true git rebase --continue` (repeat while it stops). To give up: \
                     `git rebase --abort`. The branch before the sync is kept at {}.",
                    w.path,
                    files.join(", "),
                    outcome.backup
                ),
                files,
            });
            outcome.head = resolve_commit(&path, "HEAD")?;
            store.write(|tx| {
                event::append(
                    tx,
                    Kind::WorktreeSynced,
                    Some(actor),
                    &outcome,
                    Timestamp::now(),
                )
                .map(|_| ())
            })?;
            return Ok(outcome);
        }
        let _ = git::run_to_end(&path, &["rebase", "--abort"]);
        let after = if resolve_commit(&path, "HEAD")? == head {
            " and the worktree is as it was".to_string()
        } else {
            format!("; restore from {}", outcome.backup)
        };
        return Err(Error::Conflict(format!(
            "the rebase stopped ({e}); conflicting files: {}. It was aborted{after}.",
            crate::text::capped_list(&files)
        )));
    }
    outcome.head = resolve_commit(&path, "HEAD")?;
    store.write(|tx| {
        tx.update_worktree_base_commit(&w.name, &onto)?;
        event::append(
            tx,
            Kind::WorktreeSynced,
            Some(actor),
            &outcome,
            Timestamp::now(),
        )
        .map(|_| ())
    })?;
    Ok(outcome)
}

/// Overlap and predicted conflicts between two lines of work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Conflict {
    /// A worktree name.
    pub a: String,
    /// Another worktree's name, or `base:<branch>`.
    pub b: String,
    /// Files both change (committed or not).
    pub overlapping: Vec<String>,
    /// Whether merging their work (committed, and uncommitted edits to tracked files)
    /// would conflict, and where.
    pub would_conflict: bool,
    /// Files that merge would conflict in; empty when it would not.
    pub conflicting_files: Vec<String>,
    /// Why only the overlap was judged, naming the host: one of the two worktrees is on
    /// another host, whose branch is not here to merge (its files are as its session last
    /// reported them). Absent when a merge was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_only: Option<String>,
}

/// The conflict radar over every worktree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConflictReport {
    /// How many worktrees were checked: those on this host whose folder exists, and those
    /// on other hosts (by the files their sessions last reported).
    pub worktrees: u32,
    /// Pairs (and worktree-vs-base checks) with overlap or a predicted conflict.
    pub findings: Vec<Conflict>,
    /// Worktrees changing files that another holder claims exclusively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claimed: Vec<ClaimedWork>,
}

/// One worktree's work, as the radar compares it.
struct Work {
    worktree: Worktree,
    /// The files it changes.
    files: Vec<String>,
    /// Where it is: a commit holding its current work here, or another host's name.
    at: At,
}

/// Where a worktree's work can be judged.
enum At {
    /// On this host: a commit holding its current work (see [`working_tip`]).
    Here(String),
    /// On that other host: only the files its session reported are known here.
    Elsewhere(String),
}

/// For every pair of worktrees, and each against its base: overlapping changed files and
/// whether a merge would really conflict (`git merge-tree`, nothing is changed). A
/// worktree on another host is never opened: its files are the ones its session last
/// reported (the shared work context), and a pair with it is judged by overlap alone
/// ([`Conflict::overlap_only`] says so).
pub fn conflicts(store: &mut Store) -> Result<ConflictReport> {
    let (here, elsewhere) = store.read(|tx| {
        let (mut here, mut elsewhere) = (Vec::new(), Vec::new());
        for w in super::all(tx)? {
            match w.other_host().map(str::to_string) {
                Some(host) => {
                    let files = tx.worktree_reported_files(&w.name)?;
                    elsewhere.push(Work {
                        worktree: w,
                        files,
                        at: At::Elsewhere(host),
                    });
                }
                None if Path::new(&w.path).exists() => here.push(w),
                None => {}
            }
        }
        Ok((here, elsewhere))
    })?;
    let mut work = Vec::new();
    for w in here {
        let files: Vec<String> = diff_of(w.clone(), false)?
            .changed
            .into_iter()
            .map(|c| c.path)
            .collect();
        let tip = working_tip(Path::new(&w.path))?;
        work.push(Work {
            worktree: w,
            files,
            at: At::Here(tip),
        });
    }
    work.extend(elsewhere);
    work.sort_by(|x, y| x.worktree.name.cmp(&y.worktree.name));
    let claims = claim::index(store)?;
    let claimed = work
        .iter()
        .flat_map(|w| claimed_work(&claims, &w.worktree, &w.files))
        .collect();
    let mut findings = Vec::new();
    for (i, a) in work.iter().enumerate() {
        let repo = Path::new(&a.worktree.repo);
        if let At::Here(a_tip) = &a.at
            && let Some(base) = &a.worktree.base_ref
            && let Ok(base_tip) = resolve_commit(repo, &format!("refs/heads/{base}"))
            && let Err(files) = merge_tree(repo, &base_tip, a_tip)?
        {
            findings.push(Conflict {
                a: a.worktree.name.clone(),
                b: format!("base:{base}"),
                overlapping: files.clone(),
                would_conflict: true,
                conflicting_files: files,
                overlap_only: None,
            });
        }
        for b in &work[i + 1..] {
            let overlapping: Vec<String> = a
                .files
                .iter()
                .filter(|f| b.files.contains(f))
                .cloned()
                .collect();
            let (conflicting_files, overlap_only) = match (&a.at, &b.at) {
                (At::Here(a_tip), At::Here(b_tip)) => match merge_tree(repo, a_tip, b_tip)? {
                    Ok(_) => (Vec::new(), None),
                    Err(files) => (files, None),
                },
                _ => (Vec::new(), Some(elsewhere_note(a, b))),
            };
            if !overlapping.is_empty() || !conflicting_files.is_empty() {
                findings.push(Conflict {
                    a: a.worktree.name.clone(),
                    b: b.worktree.name.clone(),
                    overlapping,
                    would_conflict: !conflicting_files.is_empty(),
                    conflicting_files,
                    overlap_only,
                });
            }
        }
    }
    Ok(ConflictReport {
        worktrees: u32::try_from(work.len()).unwrap_or(u32::MAX),
        findings,
        claimed,
    })
}

/// Why a pair was judged by overlap alone: which of the two is on which other host.
fn elsewhere_note(a: &Work, b: &Work) -> String {
    let away: Vec<String> = [a, b]
        .into_iter()
        .filter_map(|w| match &w.at {
            At::Elsewhere(host) => Some(format!("{} is on host {host}", w.worktree.name)),
            At::Here(_) => None,
        })
        .collect();
    format!(
        "overlap only: {} (its branch is not here to try the merge)",
        away.join(" and ")
    )
}
