//! Worktrees: one isolated checkout per session, created, listed, inspected, merged back
//! and removed without ever losing work.
//!
//! Mutations (add, remove, merge, rebase) run the user's `git` so hooks, LFS and config
//! behave as usual; reads use git2. Anything destructive is refused unless forced, and a
//! forced or ref-moving operation first writes a backup ref under
//! `refs/switchboard/backup/…`.

mod claimed;
mod files;
mod merge;
mod recovery;
mod status;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use claimed::{ClaimedWork, claimed_work};
pub use merge::{
    Conflict, ConflictReport, MergeOutcome, MergeRequest, RebaseStop, Strategy, SyncOutcome,
    base_conflicts, conflicts, merge, sync,
};
pub(crate) use recovery::{Operation, OperationOwner};
pub use recovery::{drop_interrupted, merging_now, pending_merges, recover};
pub use status::{
    ChangedFile, CommitInfo, GitState, WorktreeDiff, WorktreeStatus, diff, list, status,
};

use crate::clock::Timestamp;
use crate::config::{self, Config};
use crate::event::{self, Kind};
use crate::git::{self, RepoPaths};
use crate::id::{self, IdKind};
use crate::permission;
use crate::scratch::Scratch;
use crate::store::Tx;
use crate::{Error, Result, Store};

/// Where worktrees go unless `.switchboard.toml` says otherwise.
pub const DEFAULT_DIR: &str = ".worktrees";
/// The env file written into every worktree.
pub const ENV_FILE: &str = ".switchboard.env";
const BACKUP_PREFIX: &str = "refs/switchboard/backup";
const MAX_NAME_LEN: usize = 64;
const MAX_SETUP_OUTPUT: usize = 64 * 1024;

/// A worktree Switchboard created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Worktree {
    /// Worktree name, unique in the repository and the name of its folder (1-64 ASCII
    /// letters, digits, `-`, `_` or `.`).
    pub name: String,
    /// The main checkout of the repository it belongs to.
    pub repo: String,
    /// Absolute path of the worktree's folder.
    pub path: String,
    /// The host it was made on (its host name, or `SWITCHBOARD_HOST` there), where its folder
    /// is: only that host can read or change its files. Null for a worktree made before
    /// hosts were recorded, taken to be on the host reading it.
    pub host: Option<String>,
    /// Branch checked out in it: `sb/<name>` unless another was asked for.
    pub branch: String,
    /// The commit the worktree started from.
    pub base_commit: String,
    /// The branch that commit was taken from, when there was one (merges go there).
    pub base_ref: Option<String>,
    /// Id of the session it is bound to; null when none.
    pub session: Option<String>,
    /// Agent of the bound session, which owns the worktree; null without a session (its
    /// creator then owns it).
    pub agent: Option<String>,
    /// First of this worktree's ports (`SWITCHBOARD_PORT`).
    pub port: u16,
    /// How many consecutive ports, from `port`, are reserved for it (`SWITCHBOARD_PORTS` in
    /// its env file).
    pub ports: u16,
    /// Who created it: an agent name, or a person as `human:<name>`.
    pub created_by: String,
    /// When it was created (RFC 3339 UTC).
    pub created_at: Timestamp,
}

impl Worktree {
    /// The host this worktree is on when it is not this one ([`crate::process::this_host`]):
    /// its folder is not on this machine. `None` when it is here, or was made before hosts
    /// were recorded (taken to be here).
    pub fn other_host(&self) -> Option<&str> {
        let host = self.host.as_deref()?;
        (host != crate::process::this_host()).then_some(host)
    }
}

/// Refuses `w` when it is on another host: the check every operation on a worktree's files
/// or git makes first, since they are on that host alone. A `Conflict` naming the host and
/// saying where to run it instead.
pub(crate) fn require_here(w: &Worktree) -> Result<()> {
    match w.other_host() {
        None => Ok(()),
        Some(host) => Err(Error::Conflict(format!(
            "worktree '{}' is on host '{host}': its files are not on this machine ({}); run \
             this on {host} (or ask its owner, {})",
            w.name,
            crate::process::this_host(),
            w.agent.as_deref().unwrap_or(&w.created_by)
        ))),
    }
}

/// What to create: the request every surface hands to [`create`] (MCP and LSP read it
/// as their arguments). By default the worktree starts from the caller's HEAD on a new
/// branch `sb/<name>`. Field docs are the descriptions agents see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NewWorktree {
    /// Folder name (letters, digits, - _ .).
    pub name: String,
    /// Commit-ish to start from. Default: your HEAD.
    #[serde(default)]
    pub base: Option<String>,
    /// Branch to create or check out. Default sb/<name>.
    #[serde(default)]
    pub branch: Option<String>,
    /// Session to bind (id or prefix). Not read from requests: an agent's worktree is
    /// bound to its own session, a human's to the one it names (see each surface).
    #[serde(skip)]
    pub session: Option<String>,
}

/// The outcome of the setup command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SetupRun {
    /// The command run, as an argument vector (no shell): `worktrees.setup` in
    /// `.switchboard.toml`.
    pub command: Vec<String>,
    /// It started, finished within the timeout and exited with status 0.
    pub success: bool,
    /// Its exit code; null when it could not start, timed out (and was killed) or was ended
    /// by a signal.
    pub exit_code: Option<i32>,
    /// It ran longer than `worktrees.setup_timeout_secs` and was killed.
    pub timed_out: bool,
    /// Standard output and error, truncated to 64 KiB.
    pub output: String,
}

/// A created worktree and what was done to prepare it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Created {
    /// The new worktree's record.
    pub worktree: Worktree,
    /// Files copied from the main checkout by `.worktreeinclude`.
    pub copied: Vec<String>,
    /// The setup command's run, when one is configured; a failure keeps the worktree.
    pub setup: Option<SetupRun>,
}

/// Checks a worktree name: 1-64 ASCII letters, digits, '-', '_' or '.', starting with a
/// letter or digit, no `..`, not ending in `.lock`.
pub fn validate_name(name: &str) -> Result<()> {
    let starts_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if starts_ok
        && chars_ok
        && name.len() <= MAX_NAME_LEN
        && !name.contains("..")
        && !name.ends_with(".lock")
    {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "'{}' is not a valid worktree name: use 1-{MAX_NAME_LEN} ASCII letters, digits, '-', '_' or '.', \
         starting with a letter or digit, without '..' or a '.lock' ending",
        crate::input::shown(name)
    )))
}

/// Where this repository's worktrees go.
fn worktree_root(repo: &RepoPaths, config: &Config) -> PathBuf {
    match &config.worktrees.root {
        Some(root) if root.is_absolute() => root.clone(),
        Some(root) => repo.main_root.join(root),
        None => repo.main_root.join(DEFAULT_DIR),
    }
}

pub(crate) fn require(tx: &Tx<'_>, name: &str) -> Result<Worktree> {
    tx.fetch_worktree(name)?.ok_or_else(|| Error::NotFound {
        kind: crate::error::Record::Worktree,
        id: name.to_string(),
    })
}

/// Every worktree record, by name.
pub(crate) fn all(tx: &Tx<'_>) -> Result<Vec<Worktree>> {
    tx.all_worktrees()
}

/// One worktree by name.
pub fn get(store: &mut Store, name: &str) -> Result<Worktree> {
    store.read(|tx| require(tx, name))
}

/// The name of `session`'s worktree (its first, if it made several), if it has one.
fn of_session(tx: &Tx<'_>, session: &str) -> Result<Option<String>> {
    tx.worktree_of_session(session)
}

/// `name`, or by default the worktree of `session` (the caller's own): the name to act on.
pub fn named_or_own(
    store: &mut Store,
    name: Option<String>,
    session: Option<&str>,
) -> Result<String> {
    if let Some(name) = name {
        return Ok(name);
    }
    let own = match session {
        Some(session) => store.read(|tx| of_session(tx, session))?,
        None => None,
    };
    own.ok_or_else(|| {
        Error::Invalid(
            "give name: you have no worktree of your own (worktree_list lists them)".into(),
        )
    })
}

/// One worktree by name, for `actor` to `doing` ("merge", "sync", "remove"): refused
/// unless `actor` owns it, is the agent of its session's parent, or is a human
/// (see [`crate::permission`]), and refused when it is on another host ([`require_here`]).
pub(crate) fn get_to_change(
    store: &mut Store,
    actor: &str,
    doing: &str,
    name: &str,
) -> Result<Worktree> {
    store.read(|tx| {
        let w = require(tx, name)?;
        let owner = w.agent.as_deref().unwrap_or(&w.created_by);
        let parent = match &w.session {
            Some(session) => permission::parent_agent(tx, session)?,
            None => None,
        };
        permission::change_worktree(actor, doing, &w.name, owner, parent.as_deref())?;
        require_here(&w)?;
        Ok(w)
    })
}

/// The worktree whose checkout contains `dir`, if Switchboard made it on this host (a
/// record of another host's worktree at the same path is not this folder).
pub fn containing(store: &mut Store, dir: &Path) -> Result<Option<Worktree>> {
    let Ok(repo) = git::repo_paths(dir) else {
        return Ok(None);
    };
    let checkout = repo.checkout.display().to_string();
    let found = store.read(|tx| tx.worktree_at_path(&checkout))?;
    Ok(found.filter(|w| w.other_host().is_none()))
}

/// The session a server started in `dir` serves when not told otherwise: the one bound
/// to the worktree containing `dir`, unless it belongs to another agent than `agent`
/// (the one the server was started for, if any). Every server (stdio and shared) uses
/// this, so an agent started in its spawned worktree picks up its session.
pub fn bound_session(store: &mut Store, dir: &Path, agent: Option<&str>) -> Result<Option<String>> {
    Ok(containing(store, dir)?
        .and_then(|w| w.session.zip(w.agent))
        .filter(|(_, owner)| agent.is_none_or(|a| a == owner))
        .map(|(session, _)| session))
}

/// Makes sure `pattern` is in the repository's `info/exclude`, so worktrees and env files
/// inside the main checkout never show up as untracked.
fn exclude(repo: &RepoPaths, pattern: &str) -> Result<()> {
    let info = repo.common_dir.join("info");
    std::fs::create_dir_all(&info).map_err(|e| Error::io("cannot create .git/info", e))?;
    let path = info.join("exclude");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current.lines().any(|l| l.trim() == pattern) {
        return Ok(());
    }
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(pattern);
    text.push('\n');
    std::fs::write(&path, text)
        .map_err(|e| Error::io(format!("cannot update {}", path.display()), e))
}

/// Picks the first free block of ports, starting at a block derived from the name so the
/// same name tends to get the same ports.
fn pick_port(tx: &Tx<'_>, name: &str, config: &Config) -> Result<u16> {
    let size = u32::from(config.worktrees.ports_per_worktree);
    let base = u32::from(config.worktrees.port_base);
    let blocks = ((65_535 - base) / size).max(1);
    let used = tx.worktree_ports()?;
    let start = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % blocks;
    (0..blocks)
        .map(|i| base + ((start + i) % blocks) * size)
        .find(|port| !used.contains(port))
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| {
            Error::Conflict("no free port block left for another worktree; remove some".into())
        })
}

/// Resolves `spec` (a commit-ish) in `dir` to a full commit sha.
fn resolve_commit(dir: &Path, spec: &str) -> Result<String> {
    if spec.starts_with('-') {
        return Err(Error::Invalid(format!("'{spec}' is not a commit")));
    }
    git::run(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{spec}^{{commit}}"),
        ],
    )
    .map(|s| s.trim().to_string())
    .map_err(|_| {
        Error::Invalid(format!(
            "'{spec}' does not name a commit in this repository"
        ))
    })
}

/// The branch HEAD points at in `dir`, if any.
fn current_branch(dir: &Path) -> Option<String> {
    git::run(dir, &["symbolic-ref", "--quiet", "--short", "HEAD"])
        .ok()
        .map(|s| s.trim().to_string())
}

fn branch_exists(dir: &Path, branch: &str) -> Result<bool> {
    Ok(git::try_run(
        dir,
        &[
            "show-ref",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ],
    )?
    .0)
}

/// Creates a worktree for a session: a new branch (or an existing one) checked out under
/// the worktree root, `.worktreeinclude` files copied, an env file with its ports, and
/// the configured setup command run (its failure is reported, the worktree kept).
/// `from` is the caller's checkout: its HEAD is the default base.
pub fn create(store: &mut Store, actor: &str, from: &Path, new: &NewWorktree) -> Result<Created> {
    validate_name(&new.name)?;
    let repo = git::repo_paths(from)?;
    let config = config::load(&repo.main_root)?;
    let branch = new
        .branch
        .clone()
        .unwrap_or_else(|| format!("sb/{}", new.name));
    git::check_branch(&repo.checkout, &branch)?;
    let root = worktree_root(&repo, &config);
    let path = root.join(&new.name);
    if path.exists() {
        return Err(Error::Conflict(format!(
            "{} already exists; pick another name",
            path.display()
        )));
    }
    let session = store.read(|tx| {
        if tx.fetch_worktree(&new.name)?.is_some() {
            return Err(Error::Conflict(format!(
                "a worktree named '{}' already exists",
                new.name
            )));
        }
        new.session
            .as_deref()
            .map(|s| id::resolve(tx, IdKind::Session, s))
            .transpose()
    })?;
    let existing = branch_exists(&repo.checkout, &branch)?;
    if existing && new.branch.is_none() {
        return Err(Error::Conflict(format!(
            "branch '{branch}' already exists; pass branch: \"{branch}\" to check it out, or pick another name"
        )));
    }
    let base_spec = new.base.clone().unwrap_or_else(|| "HEAD".into());
    let base_commit = resolve_commit(&repo.checkout, &base_spec)?;
    let base_ref = match &new.base {
        Some(spec) if branch_exists(&repo.checkout, spec)? => Some(spec.clone()),
        Some(_) => None,
        None => current_branch(&repo.checkout),
    };

    std::fs::create_dir_all(&root)
        .map_err(|e| Error::io(format!("cannot create {}", root.display()), e))?;
    if let Ok(relative) = git::canonical(&root).strip_prefix(&repo.main_root) {
        exclude(&repo, &format!("/{}/", relative.display()))?;
    }
    exclude(&repo, &format!("/{ENV_FILE}"))?;
    let path_text = path.display().to_string();
    if existing {
        git::run(&repo.checkout, &["worktree", "add", &path_text, &branch])?;
    } else {
        git::run(
            &repo.checkout,
            &["worktree", "add", "-b", &branch, &path_text, &base_commit],
        )?;
    }
    let path = git::canonical(&path);

    let recorded = store.write(|tx| {
        let now = Timestamp::now();
        let port = pick_port(tx, &new.name, &config)?;
        tx.insert_worktree(&Worktree {
            name: new.name.clone(),
            repo: repo.main_root.display().to_string(),
            path: path.display().to_string(),
            host: Some(crate::process::this_host()),
            branch: branch.clone(),
            base_commit: base_commit.clone(),
            base_ref: base_ref.clone(),
            session: session.clone(),
            agent: None,
            port,
            ports: config.worktrees.ports_per_worktree,
            created_by: actor.to_string(),
            created_at: now,
        })?;
        let worktree = require(tx, &new.name)?;
        event::append(tx, Kind::WorktreeCreated, Some(actor), &worktree, now)?;
        Ok(worktree)
    });
    let worktree = match recorded {
        Ok(w) => w,
        Err(e) => {
            // Undo our own fresh, unused checkout so a failed create leaves nothing behind.
            let _ = git::run(
                &repo.checkout,
                &["worktree", "remove", "--force", &path.display().to_string()],
            );
            if !existing {
                let _ = git::run(&repo.checkout, &["branch", "-D", &branch]);
            }
            return Err(e);
        }
    };
    let copied = files::copy_included(&repo.main_root, &path)?;
    files::write_env(&path, &worktree)?;
    let setup = config.worktrees.setup.as_ref().map(|cmd| {
        run_setup(
            &path,
            cmd,
            Duration::from_secs(config.worktrees.setup_timeout_secs),
        )
    });
    Ok(Created {
        worktree,
        copied,
        setup,
    })
}

/// Runs the setup command (an argument vector) in `dir`, capturing output, killing it at
/// `timeout`.
fn run_setup(dir: &Path, command: &[String], timeout: Duration) -> SetupRun {
    let mut run = SetupRun {
        command: command.to_vec(),
        success: false,
        exit_code: None,
        timed_out: false,
        output: String::new(),
    };
    let spawned = Scratch::new("setup").and_then(|out| {
        let child = std::process::Command::new(&command[0])
            .args(&command[1..])
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(out.for_child()?)
            .stderr(out.for_child()?)
            .spawn()?;
        Ok((out, child))
    });
    let (mut out, mut child) = match spawned {
        Ok(started) => started,
        Err(e) => {
            run.output = format!("cannot start {:?}: {e}", command[0]);
            return run;
        }
    };
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let output = out.contents(MAX_SETUP_OUTPUT);
    run.output = String::from_utf8_lossy(&output).into_owned();
    run.timed_out = status.is_none();
    run.exit_code = status.and_then(|s| s.code());
    run.success = status.is_some_and(|s| s.success());
    run
}

/// What a removal did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Removed {
    /// The removed worktree's record, as it was.
    pub worktree: Worktree,
    /// Backup refs written before anything was lost (restore with `git branch NAME REF`).
    pub backups: Vec<String>,
    /// Its branch was deleted too (only when asked for; a backup ref of its tip is written
    /// first).
    pub branch_deleted: bool,
}

/// Writes `refs/switchboard/backup/<label>/<millis>` pointing at `commit`.
pub(crate) fn backup(dir: &Path, label: &str, commit: &str) -> Result<String> {
    let name = format!("{BACKUP_PREFIX}/{label}/{}", Timestamp::now().millis());
    git::run(dir, &["update-ref", &name, commit])?;
    Ok(name)
}

/// How to remove a worktree: the request every surface hands to [`remove`] (MCP and LSP
/// read it beside the worktree's name). By default it refuses to lose work and keeps the
/// branch. Field docs are the descriptions agents see. The editor protocol's earlier
/// spelling `deleteBranch` is still read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RemoveRequest {
    /// Remove anyway (backup kept).
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<bool>")]
    pub force: bool,
    /// Delete its branch too (backup kept).
    #[serde(
        default,
        alias = "deleteBranch",
        deserialize_with = "crate::input::or_default"
    )]
    #[schemars(with = "Option<bool>")]
    pub delete_branch: bool,
}

/// Removes a worktree. Refuses, listing what would be lost, when it has uncommitted
/// changes or commits that no other branch holds, unless `force` — and even then the
/// branch tip (and a snapshot of uncommitted changes) is kept under a backup ref first.
pub fn remove(
    store: &mut Store,
    actor: &str,
    name: &str,
    request: &RemoveRequest,
) -> Result<Removed> {
    let (force, delete_branch) = (request.force, request.delete_branch);
    let worktree = get_to_change(store, actor, "remove", name)?;
    let path = PathBuf::from(&worktree.path);
    let repo_dir = PathBuf::from(&worktree.repo);
    let mut backups = Vec::new();
    if path.exists() {
        let dirty = status::dirty_files(&path)?;
        let mut unmerged = status::unmerged_anywhere(&repo_dir, &worktree.branch)?;
        if !unmerged.is_empty() && merge::applied_to_base(&worktree)? {
            // Squash-merged or cherry-picked: its changes are all in the base already.
            unmerged.clear();
        }
        if !force && (!dirty.is_empty() || !unmerged.is_empty()) {
            return Err(Error::Conflict(lost_work_message(
                &worktree, &dirty, &unmerged,
            )));
        }
        if let Ok(tip) = resolve_commit(&path, "HEAD") {
            backups.push(backup(
                &repo_dir,
                &format!("{}/branch", worktree.name),
                &tip,
            )?);
        }
        if !dirty.is_empty()
            && let Ok(snapshot) = git::run(
                &path,
                &[
                    "stash",
                    "create",
                    "switchboard: uncommitted work before forced removal",
                ],
            )
            && !snapshot.trim().is_empty()
        {
            backups.push(backup(
                &repo_dir,
                &format!("{}/uncommitted", worktree.name),
                snapshot.trim(),
            )?);
        }
        git::run(
            &repo_dir,
            &["worktree", "remove", "--force", &worktree.path],
        )?;
    } else {
        git::run(&repo_dir, &["worktree", "prune"])?;
    }
    let mut branch_deleted = false;
    if delete_branch && branch_exists(&repo_dir, &worktree.branch)? {
        if backups.is_empty() {
            let tip = resolve_commit(&repo_dir, &format!("refs/heads/{}", worktree.branch))?;
            backups.push(backup(
                &repo_dir,
                &format!("{}/branch", worktree.name),
                &tip,
            )?);
        }
        git::run(&repo_dir, &["branch", "-D", &worktree.branch])?;
        branch_deleted = true;
    }
    let removed = Removed {
        worktree,
        backups,
        branch_deleted,
    };
    store.write(|tx| {
        tx.delete_worktree(name)?;
        event::append(
            tx,
            Kind::WorktreeRemoved,
            Some(actor),
            &removed,
            Timestamp::now(),
        )?;
        Ok(())
    })?;
    Ok(removed)
}

fn lost_work_message(w: &Worktree, dirty: &[String], unmerged: &[CommitInfo]) -> String {
    let mut parts = vec![format!(
        "worktree '{}' holds work that removing it would lose:",
        w.name
    )];
    if !dirty.is_empty() {
        parts.push(format!("uncommitted: {}", dirty.join(", ")));
    }
    if !unmerged.is_empty() {
        let commits: Vec<String> = unmerged
            .iter()
            .map(|c| format!("{} {}", &c.sha[..c.sha.len().min(10)], c.subject))
            .collect();
        parts.push(format!(
            "commits on {} not in any other branch: {}",
            w.branch,
            commits.join("; ")
        ));
    }
    parts.push("Commit and merge it, or remove with force (a backup ref is written first).".into());
    parts.join("\n")
}

/// Worktrees git itself would prune, as `path: reason`, from `git worktree list --porcelain`.
fn prunable_entries(dir: &Path) -> Result<Vec<String>> {
    let listing = git::run(dir, &["worktree", "list", "--porcelain"])?;
    let mut entries = Vec::new();
    let mut current = "";
    for line in listing.lines() {
        if let Some(path) = line.strip_prefix("worktree ") {
            current = path;
        } else if let Some(reason) = line.strip_prefix("prunable") {
            entries.push(format!("{current}:{reason}"));
        }
    }
    Ok(entries)
}

/// What `prune` found (and, unless a dry run, cleaned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PruneReport {
    /// Nothing was cleaned, only reported (the default).
    pub dry_run: bool,
    /// git's report of administrative entries whose folders are gone.
    pub stale_admin_entries: Vec<String>,
    /// Records of Switchboard worktrees whose folder is gone.
    pub missing_folders: Vec<String>,
    /// Worktrees whose session ended longer ago than the limit (never removed here).
    pub idle: Vec<String>,
    /// Worktrees on other hosts, as `name (on host)`: left alone, since their folders are
    /// not on this machine (prune on their hosts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_hosts: Vec<String>,
}

/// How many days after its session ended [`prune`] lists a worktree as idle by default.
pub const DEFAULT_ENDED_DAYS: u64 = 7;

/// What [`prune`] does: the request every surface hands to it (MCP reads it as the
/// tool's arguments). By default a dry run over sessions ended [`DEFAULT_ENDED_DAYS`]
/// ago. Field docs are the descriptions agents see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PruneRequest {
    /// Clean up (default: dry run).
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<bool>")]
    pub apply: bool,
    /// Ended this many days ago (default 7).
    #[serde(default)]
    pub ended_days: Option<u64>,
}

/// Reports (and with `apply`, cleans) admin entries of worktrees whose folders are gone;
/// lists worktrees whose sessions ended more than `ended_days` days ago. Worktrees on other
/// hosts are only named: whether their folders are gone is for their hosts to find.
pub fn prune(
    store: &mut Store,
    actor: &str,
    from: &Path,
    request: &PruneRequest,
) -> Result<PruneReport> {
    let apply = request.apply;
    let days = request.ended_days.unwrap_or(DEFAULT_ENDED_DAYS);
    let ended_before = days
        .checked_mul(86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "ended_days {days} is too many days: give a number like 7 or 30"
            ))
        })?;
    let repo = git::repo_paths(from)?;
    let stale_admin_entries = prunable_entries(&repo.checkout)?;
    let cutoff = Timestamp::now().minus(ended_before);
    let (missing_folders, idle, other_hosts) = store.read(|tx| {
        let records = all(tx)?;
        let missing: Vec<String> = records
            .iter()
            .filter(|w| w.other_host().is_none() && !Path::new(&w.path).exists())
            .map(|w| w.name.clone())
            .collect();
        let elsewhere: Vec<String> = records
            .iter()
            .filter_map(|w| Some(format!("{} (on {})", w.name, w.other_host()?)))
            .collect();
        let mut idle = Vec::new();
        for w in &records {
            let ended = match &w.session {
                Some(s) => tx.worktree_session_ended_at(s)?,
                None => None,
            };
            if ended.is_some_and(|at| at.millis() < cutoff.millis()) {
                idle.push(w.name.clone());
            }
        }
        Ok((missing, idle, elsewhere))
    })?;
    if apply {
        git::run(&repo.checkout, &["worktree", "prune"])?;
        store.write(|tx| {
            for name in &missing_folders {
                tx.delete_worktree(name)?;
            }
            let payload = event::WorktreePruned {
                stale_admin_entries: stale_admin_entries.clone(),
                missing_folders: missing_folders.clone(),
            };
            event::append(
                tx,
                Kind::WorktreePruned,
                Some(actor),
                &payload,
                Timestamp::now(),
            )?;
            Ok(())
        })?;
    }
    Ok(PruneReport {
        dry_run: !apply,
        stale_admin_entries,
        missing_folders,
        idle,
        other_hosts,
    })
}

/// What the session's worktree is changing now, if it has one whose folder exists on this
/// host (another host's worktree is reported by that host: its work context rows are left
/// as that host wrote them).
fn work_context(store: &mut Store, session: &str) -> Result<Option<crate::session::WorkContext>> {
    let Some(name) = store.read(|tx| of_session(tx, session))? else {
        return Ok(None);
    };
    let w = get(store, &name)?;
    if w.other_host().is_some() || !Path::new(&w.path).exists() {
        return Ok(None);
    }
    let d = status::diff_of(w, false)?;
    Ok(Some(crate::session::WorkContext {
        worktree: d.worktree.name.clone(),
        branch: d.worktree.branch.clone(),
        head: resolve_commit(Path::new(&d.worktree.path), "HEAD")?,
        host: crate::process::this_host(),
        unmerged: u32::try_from(d.commits.len()).unwrap_or(u32::MAX),
        files: d.changed,
    }))
}

/// A heartbeat that also records what the session's worktree is changing, so
/// [`crate::session::who_has`] can answer. A worktree that cannot be read is logged and
/// skipped, and one on another host is skipped too (that host records its work); the
/// heartbeat itself still counts.
pub fn heartbeat(
    store: &mut Store,
    id: &str,
    agent: &str,
    process: Option<&crate::process::ProcessInfo>,
) -> Result<crate::session::Session> {
    let session = store.read(|tx| id::resolve(tx, IdKind::Session, id))?;
    let work = work_context(store, &session).unwrap_or_else(|e| {
        tracing::warn!(error = %e, session, "cannot read the session's worktree for its work context");
        None
    });
    crate::session::heartbeat(store, &session, agent, process, work.as_ref())
}

/// Bookkeeping on an agent's activity (its tool calls): its open session `id` was seen
/// now and, when it works in a worktree, what it is changing is recorded, so `who_has` and
/// the conflict radar answer from the current state rather than the last explicit heartbeat.
pub fn refresh(store: &mut Store, id: &str, agent: &str) -> Result<()> {
    let (open, in_worktree) =
        store.read(|tx| Ok(tx.worktree_session_state(id)?.unwrap_or((false, false))))?;
    match (open, in_worktree) {
        (true, true) => heartbeat(store, id, agent, None).map(|_| ()),
        (true, false) => crate::session::touch(store, id),
        _ => Ok(()),
    }
}

/// Creates the worktree of a just-created `session` (named after its agent and id),
/// starting from `from`'s HEAD, or from the HEAD of `base_session`'s worktree when it has
/// one (a fork starts where its source is: on its host, so a source worktree on another
/// host is refused, naming it). If it cannot be made, the session is ended
/// `abandoned` with the reason, so nothing is left half-done, and the error is returned.
pub fn create_for_session(
    store: &mut Store,
    actor: &str,
    from: &Path,
    session: &crate::session::Session,
    base_session: Option<&crate::session::Session>,
) -> Result<Created> {
    let suffix: String = session
        .id
        .chars()
        .rev()
        .take(6)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let name = format!(
        "{}-{}",
        session.agent.replace(':', "-"),
        suffix.to_ascii_lowercase()
    );
    let source = base_session
        .and_then(|s| s.worktree.as_ref())
        .map(|w| get(store, &w.name))
        .transpose()
        .and_then(|source| {
            source.as_ref().map(require_here).transpose()?;
            Ok(source)
        })
        .inspect_err(|e| abandon_for(store, actor, session, e))?;
    let start = source.map(|w| PathBuf::from(w.path));
    let new = NewWorktree {
        name,
        base: None,
        branch: None,
        session: Some(session.id.clone()),
    };
    create(store, actor, start.as_deref().unwrap_or(from), &new)
        .inspect_err(|e| abandon_for(store, actor, session, e))
}

/// Ends `session`, whose worktree could not be made because of `e`, as `abandoned` with
/// that reason (a failure to end it is logged: the caller reports `e`).
fn abandon_for(store: &mut Store, actor: &str, session: &crate::session::Session, e: &Error) {
    let reason = format!("its worktree could not be created: {e}");
    if let Err(also) = crate::session::abandon(store, &session.id, &reason, actor) {
        tracing::warn!(error = %also, session = %session.id, "could not end the session whose worktree failed");
    }
}
