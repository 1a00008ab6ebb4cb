//! Reading worktrees with git2: live status, diffs against the base, uncommitted files,
//! unmerged commits. Read-only; one repository handle per thread.

use std::path::{Path, PathBuf};

use git2::{Delta, DiffOptions, Oid, Repository, StatusOptions};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Worktree;

mod cache;
use crate::clock::Timestamp;
use crate::session::{self, Status};
use crate::{Error, Result, Store};

/// Largest patch text returned; longer patches end with a truncation marker.
pub const MAX_PATCH_BYTES: usize = 256 * 1024;

/// A commit, briefly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CommitInfo {
    /// Full commit sha.
    pub sha: String,
    /// Summary of the commit message: its first paragraph, on one line.
    pub subject: String,
    /// When it was committed (committer time, RFC 3339 UTC, whole seconds).
    pub at: Timestamp,
    /// Files it changed (in unmerged-commit listings).
    pub files: Vec<String>,
}

/// A worktree with its live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorktreeStatus {
    /// The worktree's record.
    pub worktree: Worktree,
    /// What git says of its folder (shown beside the record's fields); not read for a
    /// worktree on another host (see `other_host`).
    #[serde(flatten)]
    pub git: GitState,
    /// Whether the bound session is live (active, not stale).
    pub session_live: bool,
    /// The host the worktree is on when it is not the one listing it: its folder is not on
    /// this machine, so its git state was not read (`exists` true as recorded, no head,
    /// zero counts); ask on that host. Absent for a worktree here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_host: Option<String>,
}

/// What git says of a worktree's folder: the part of its status kept between listings
/// until something that changes it happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GitState {
    /// False when the folder is gone (see worktree_prune); true, unread, for a worktree on
    /// another host.
    pub exists: bool,
    /// Full sha of the worktree's HEAD commit; null when the folder is gone or not read.
    pub head: Option<String>,
    /// Files with uncommitted changes (including untracked).
    pub dirty: u32,
    /// Commits on the branch not on its base (the tip of the branch it was made from, else
    /// its base commit); 0 when the folder is gone.
    pub ahead: u32,
    /// Commits on the base not on the branch (the base moved on since); 0 when the folder
    /// is gone.
    pub behind: u32,
    /// The HEAD commit (without its files); null when the folder is gone.
    pub last_commit: Option<CommitInfo>,
}

pub use crate::session::ChangedFile;

/// What a worktree changes relative to its base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorktreeDiff {
    /// The worktree's record.
    pub worktree: Worktree,
    /// Full sha of the merge-base of the worktree's HEAD and its base: what changes are
    /// measured against.
    pub merge_base: String,
    /// Committed and uncommitted changes against the merge-base.
    pub changed: Vec<ChangedFile>,
    /// Files with uncommitted changes.
    pub uncommitted: Vec<String>,
    /// Commits on the branch not on the base, newest first.
    pub commits: Vec<CommitInfo>,
    /// The patch (merge-base → working tree), when asked for.
    pub patch: Option<String>,
    /// The patch was longer than 256 KiB and was cut there; it then ends with a marker
    /// line.
    pub patch_truncated: bool,
}

fn git_error(what: &str) -> impl Fn(git2::Error) -> Error + '_ {
    move |e| Error::Git(format!("{what}: {}", e.message()))
}

fn open(path: &Path) -> Result<Repository> {
    Repository::open(path).map_err(git_error("cannot open the worktree"))
}

/// The commit the worktree's work is measured against: the base branch's current tip when
/// the base was a branch, else the base commit.
fn base_tip(repo: &Repository, w: &Worktree) -> Result<Oid> {
    if let Some(branch) = &w.base_ref
        && let Ok(reference) = repo.find_reference(&format!("refs/heads/{branch}"))
        && let Some(oid) = reference.target()
    {
        return Ok(oid);
    }
    Oid::from_str(&w.base_commit).map_err(git_error("bad base commit"))
}

fn head(repo: &Repository) -> Result<Oid> {
    repo.head()
        .and_then(|h| h.peel_to_commit())
        .map(|c| c.id())
        .map_err(git_error("cannot read HEAD"))
}

fn commit_info(repo: &Repository, oid: Oid, with_files: bool) -> Result<CommitInfo> {
    let commit = repo
        .find_commit(oid)
        .map_err(git_error("cannot read a commit"))?;
    let mut files = Vec::new();
    if with_files {
        let tree = commit.tree().map_err(git_error("cannot read a tree"))?;
        let parent = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let diff = repo
            .diff_tree_to_tree(parent.as_ref(), Some(&tree), None)
            .map_err(git_error("cannot diff a commit"))?;
        files = diff.deltas().filter_map(|d| delta_path(&d)).collect();
    }
    Ok(CommitInfo {
        sha: oid.to_string(),
        subject: commit.summary().ok().flatten().unwrap_or("").to_string(),
        at: Timestamp(commit.time().seconds() * 1000),
        files,
    })
}

fn delta_path(d: &git2::DiffDelta<'_>) -> Option<String> {
    d.new_file()
        .path()
        .or_else(|| d.old_file().path())
        .map(|p| p.display().to_string())
}

/// Relative paths of files with uncommitted changes (staged, unstaged or untracked).
pub(crate) fn dirty_files(path: &Path) -> Result<Vec<String>> {
    let repo = open(path)?;
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo
        .statuses(Some(&mut options))
        .map_err(git_error("cannot read status"))?;
    let mut files: Vec<String> = statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_string))
        .collect();
    files.sort();
    Ok(files)
}

/// Commits on `branch` that no other branch, remote branch or tag holds, newest first.
pub(crate) fn unmerged_anywhere(repo_dir: &Path, branch: &str) -> Result<Vec<CommitInfo>> {
    let repo = open(repo_dir)?;
    let Ok(tip) = repo.find_reference(&format!("refs/heads/{branch}")) else {
        return Ok(Vec::new());
    };
    let mut walk = repo.revwalk().map_err(git_error("cannot walk history"))?;
    walk.push(
        tip.target()
            .ok_or_else(|| Error::Git(format!("branch {branch} has no target")))?,
    )
    .map_err(git_error("cannot walk history"))?;
    let refs = repo.references().map_err(git_error("cannot list refs"))?;
    for reference in refs.flatten() {
        let name = reference.name().unwrap_or("");
        let other_branch =
            name.starts_with("refs/heads/") && name != format!("refs/heads/{branch}");
        if (other_branch || name.starts_with("refs/remotes/") || name.starts_with("refs/tags/"))
            && let Ok(commit) = reference.peel_to_commit()
        {
            walk.hide(commit.id())
                .map_err(git_error("cannot walk history"))?;
        }
    }
    walk.map(|oid| commit_info(&repo, oid.map_err(git_error("cannot walk history"))?, false))
        .collect()
}

/// Live status of one worktree; refused, naming the host, for a worktree on another host
/// ([`Worktree::other_host`]).
pub fn status(store: &mut Store, name: &str) -> Result<WorktreeStatus> {
    let w = super::get(store, name)?;
    super::require_here(&w)?;
    let live = match &w.session {
        Some(id) => session::get(store, id).is_ok_and(|s| s.status == Status::Active),
        None => false,
    };
    status_of(w, live)
}

/// Live status of every worktree, in the order of the records. States kept from earlier
/// listings are used where nothing that changes them happened (see [`cache`]); the others
/// are read by as many threads as the machine has cores (each with its own git2
/// handles), each taking an equal share. A worktree on another host is listed from its
/// record alone, git unread, with `other_host` naming its host.
pub fn list(store: &mut Store) -> Result<Vec<WorktreeStatus>> {
    let cutoff = store.stale_cutoff();
    let records = store.read(|tx| {
        let mut records = Vec::new();
        for w in super::all(tx)? {
            let live = match &w.session {
                Some(id) => tx
                    .fetch_session(id, cutoff)?
                    .is_some_and(|s| s.status == Status::Active),
                None => false,
            };
            records.push((w, live));
        }
        Ok(records)
    })?;
    let mut done: Vec<Option<WorktreeStatus>> = Vec::with_capacity(records.len());
    let mut here = Vec::new();
    for (w, is_live) in records {
        match w.other_host().map(str::to_string) {
            Some(host) => done.push(Some(elsewhere(w, is_live, host))),
            None => {
                here.push((done.len(), w, is_live));
                done.push(None);
            }
        }
    }
    let local: Vec<Worktree> = here.iter().map(|(_, w, _)| w.clone()).collect();
    cache::retain(&local);
    let kept = cache::kept_all(&local);
    let mut work = Vec::new();
    for ((at, w, is_live), state) in here.into_iter().zip(kept) {
        match state {
            Some(state) => done[at] = Some(with_state(w, is_live, state)),
            None => work.push((at, w, is_live)),
        }
    }
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let per_worker = work.len().div_ceil(workers).max(1);
    let mut batches = Vec::new();
    while !work.is_empty() {
        let rest = work.split_off(per_worker.min(work.len()));
        batches.push(std::mem::replace(&mut work, rest));
    }
    let read = std::thread::scope(|scope| {
        let handles: Vec<_> = batches
            .into_iter()
            .map(|batch| {
                scope.spawn(move || {
                    batch
                        .into_iter()
                        .map(|(at, w, live)| Ok((at, scan_status(w, live)?)))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::Internal("a status reader crashed".into()))?
            })
            .collect::<Result<Vec<_>>>()
    })?;
    for (at, status) in read.into_iter().flatten() {
        done[at] = Some(status);
    }
    Ok(done.into_iter().flatten().collect())
}

/// A status from a worktree's record, its session's liveness and its git state.
fn with_state(worktree: Worktree, session_live: bool, git: GitState) -> WorktreeStatus {
    WorktreeStatus {
        worktree,
        git,
        session_live,
        other_host: None,
    }
}

/// The status of a worktree on `host`, another host: its record and its session's
/// liveness, its git state unread (taken to exist, nothing else known).
fn elsewhere(worktree: Worktree, session_live: bool, host: String) -> WorktreeStatus {
    WorktreeStatus {
        worktree,
        git: GitState {
            exists: true,
            head: None,
            dirty: 0,
            ahead: 0,
            behind: 0,
            last_commit: None,
        },
        session_live,
        other_host: Some(host),
    }
}

/// The status of one worktree: its kept git state if still good, else read now (and
/// kept for next time).
fn status_of(worktree: Worktree, session_live: bool) -> Result<WorktreeStatus> {
    match cache::kept(&worktree) {
        Some(state) => Ok(with_state(worktree, session_live, state)),
        None => scan_status(worktree, session_live),
    }
}

/// Reads a worktree's git state now, and keeps it if nothing changed while reading.
fn scan_status(worktree: Worktree, session_live: bool) -> Result<WorktreeStatus> {
    let ticket = cache::begin(&worktree);
    let state = git_state(&worktree)?;
    cache::finish(ticket, &worktree, &state);
    Ok(with_state(worktree, session_live, state))
}

/// A worktree's git state, read from its folder.
fn git_state(worktree: &Worktree) -> Result<GitState> {
    let path = PathBuf::from(&worktree.path);
    let mut state = GitState {
        exists: path.exists(),
        head: None,
        dirty: 0,
        ahead: 0,
        behind: 0,
        last_commit: None,
    };
    if !state.exists {
        return Ok(state);
    }
    let repo = open(&path)?;
    let head = head(&repo)?;
    let base = base_tip(&repo, worktree)?;
    let (ahead, behind) = repo
        .graph_ahead_behind(head, base)
        .map_err(git_error("cannot compare with the base"))?;
    state.head = Some(head.to_string());
    state.ahead = u32::try_from(ahead).unwrap_or(u32::MAX);
    state.behind = u32::try_from(behind).unwrap_or(u32::MAX);
    state.dirty = u32::try_from(dirty_files(&path)?.len()).unwrap_or(u32::MAX);
    state.last_commit = Some(commit_info(&repo, head, false)?);
    Ok(state)
}

/// Per-file line counts of a diff.
fn file_stats(diff: &git2::Diff<'_>) -> Result<Vec<(String, u32, u32)>> {
    let mut out = Vec::new();
    for index in 0..diff.deltas().len() {
        let Some(delta) = diff.get_delta(index) else {
            continue;
        };
        let Some(path) = delta_path(&delta) else {
            continue;
        };
        let (added, removed) =
            match git2::Patch::from_diff(diff, index).map_err(git_error("cannot diff"))? {
                Some(patch) => {
                    let (_, a, r) = patch
                        .line_stats()
                        .map_err(git_error("cannot count lines"))?;
                    (a, r)
                }
                None => (0, 0),
            };
        if delta.status() != Delta::Unmodified {
            out.push((
                path,
                u32::try_from(added).unwrap_or(u32::MAX),
                u32::try_from(removed).unwrap_or(u32::MAX),
            ));
        }
    }
    Ok(out)
}

/// What a worktree changes against its merge-base with the base (committed and not), its
/// unmerged commits, and on request the patch (at most [`MAX_PATCH_BYTES`]). Refused for a
/// worktree on another host ([`Worktree::other_host`]), naming it.
pub fn diff(store: &mut Store, name: &str, with_patch: bool) -> Result<WorktreeDiff> {
    let worktree = super::get(store, name)?;
    diff_of(worktree, with_patch)
}

/// [`diff`] of a worktree record (refused when it is on another host).
pub(crate) fn diff_of(worktree: Worktree, with_patch: bool) -> Result<WorktreeDiff> {
    super::require_here(&worktree)?;
    let path = PathBuf::from(&worktree.path);
    if !path.exists() {
        return Err(Error::Conflict(format!(
            "the folder of worktree '{}' ({}) is gone; clean up with worktree_prune",
            worktree.name, worktree.path
        )));
    }
    let repo = open(&path)?;
    let head = head(&repo)?;
    let base = base_tip(&repo, &worktree)?;
    let merge_base = repo
        .merge_base(head, base)
        .map_err(git_error("no common history with the base"))?;
    let base_tree = repo
        .find_commit(merge_base)
        .and_then(|c| c.tree())
        .map_err(git_error("cannot read the base"))?;
    let mut options = DiffOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true);
    let diff = repo
        .diff_tree_to_workdir_with_index(Some(&base_tree), Some(&mut options))
        .map_err(git_error("cannot diff the worktree"))?;
    let uncommitted = dirty_files(&path)?;
    let changed = file_stats(&diff)?
        .into_iter()
        .map(|(path, added, removed)| ChangedFile {
            uncommitted: uncommitted.contains(&path),
            path,
            added,
            removed,
        })
        .collect();
    let mut walk = repo.revwalk().map_err(git_error("cannot walk history"))?;
    walk.push(head).map_err(git_error("cannot walk history"))?;
    walk.hide(base).map_err(git_error("cannot walk history"))?;
    let commits = walk
        .map(|oid| commit_info(&repo, oid.map_err(git_error("cannot walk history"))?, true))
        .collect::<Result<Vec<_>>>()?;
    let (patch, patch_truncated) = if with_patch {
        patch_text(&diff)?
    } else {
        (None, false)
    };
    Ok(WorktreeDiff {
        worktree,
        merge_base: merge_base.to_string(),
        changed,
        uncommitted,
        commits,
        patch,
        patch_truncated,
    })
}

fn patch_text(diff: &git2::Diff<'_>) -> Result<(Option<String>, bool)> {
    let mut text = Vec::new();
    let mut total = 0usize;
    diff.print(git2::DiffFormat::Patch, |_, _, line| {
        let origin = line.origin();
        let bytes = line.content();
        total += bytes.len() + 1;
        if text.len() < MAX_PATCH_BYTES {
            if matches!(origin, '+' | '-' | ' ') {
                text.push(origin as u8);
            }
            text.extend_from_slice(bytes);
        }
        true
    })
    .map_err(git_error("cannot render the patch"))?;
    let truncated = text.len() > MAX_PATCH_BYTES;
    text.truncate(MAX_PATCH_BYTES);
    let mut patch = String::from_utf8_lossy(&text).into_owned();
    if truncated {
        patch.push_str(&format!(
            "\n… patch truncated at {MAX_PATCH_BYTES} bytes of about {total}\n"
        ));
    }
    Ok((Some(patch), truncated))
}
