//! `switchboard guard`: the pre-commit guard. `guard pre-commit` (what the hook runs)
//! refuses a commit whose staged files another session or person claims exclusively,
//! naming each holder, pattern, reason and expiry and saying what to do; `guard install`
//! and `guard uninstall` put the hook in the repository's hooks directory (the one git
//! runs: `core.hooksPath`, else the common directory's, so every linked worktree gets
//! it) and take it back, chained with the hook that was there, never replacing it.
//!
//! The guard is advisory: it never makes a commit impossible. A repository without a
//! Switchboard store passes silently; a store that cannot be read passes with one warning
//! line; `SWITCHBOARD_GUARD=off` lets one commit through over the claims and records a
//! `claim.bypassed` event (`git commit --no-verify` skips every hook, unrecorded).

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use switchboard_core::claim::{self, ClaimState, Claimant, Conflict};
use switchboard_core::{Store, agent, session, worktree};

use crate::Global;
use crate::commands::{open_store, store_address};

/// The variable that, set to [`BYPASS_VALUE`], lets one commit through over others'
/// claims (recorded as a `claim.bypassed` event).
const BYPASS_VAR: &str = "SWITCHBOARD_GUARD";
const BYPASS_VALUE: &str = "off";
/// The session an agent works in, when its worktree is not bound to one (as for
/// `switchboard mcp --session`, and as `.switchboard.env` of a spawned worktree sets it).
const SESSION_VAR: &str = "SWITCHBOARD_SESSION";
/// The most staged paths a refusal lists per claim.
const MAX_LISTED: usize = 10;
/// The hook git runs before a commit.
const HOOK: &str = "pre-commit";
/// Where the hook that was there before goes; the guard's hook runs it after the guard.
const SAVED: &str = "pre-commit.pre-switchboard";
/// The line that marks the hook as Switchboard's (how install and uninstall know it).
const MARKER: &str = "# switchboard-guard: installed by `switchboard guard install`";

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Check the staged files against other holders' exclusive claims (what the hook
    /// runs): exit 1 naming the holders when some are claimed, else 0. Bypass once with
    /// SWITCHBOARD_GUARD=off (recorded).
    PreCommit,
    /// Install the pre-commit hook in the hooks directory git uses (core.hooksPath, else
    /// the common one, shared by every worktree); an existing hook is kept as
    /// pre-commit.pre-switchboard and runs after the guard.
    Install(DryRun),
    /// Remove the pre-commit hook and put back the one that was there before.
    Uninstall(DryRun),
}

#[derive(Debug, Args)]
pub struct DryRun {
    /// Print what would change and write nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(global: &Global, cmd: GuardCommand) -> Result<()> {
    let here = std::env::current_dir()?;
    let dry_run = match cmd {
        GuardCommand::PreCommit => return pre_commit(global, &here),
        GuardCommand::Install(args) => {
            Installing::plan(&here)?.apply(args.dry_run)?;
            if global.db.is_some() || global.store.is_some() {
                eprintln!(
                    "note: the hook finds the store as every command does (SWITCHBOARD_STORE \
                     or SWITCHBOARD_DB in the committer's environment, else this \
                     repository's own); the --db/--store given here is not written into it"
                );
            }
            args.dry_run
        }
        GuardCommand::Uninstall(args) => {
            Uninstalling::plan(&here)?.apply(args.dry_run)?;
            args.dry_run
        }
    };
    if dry_run {
        println!("(dry run: nothing was written)");
    }
    Ok(())
}

/// What the guard says about a commit.
enum Verdict {
    /// Let it through.
    Pass,
    /// Refuse it with this text.
    Refuse(String),
}

/// Runs the check in `here`: exits 1 with the refusal on stderr when the commit is
/// refused; otherwise returns (a problem that kept the claims from being checked is one
/// warning line on stderr).
fn pre_commit(global: &Global, here: &Path) -> Result<()> {
    match verdict(global, here) {
        Ok(Verdict::Pass) => Ok(()),
        Ok(Verdict::Refuse(text)) => {
            eprintln!("{text}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("switchboard guard: the claims were not checked: {e:#}");
            Ok(())
        }
    }
}

fn verdict(global: &Global, here: &Path) -> Result<Verdict> {
    let staged = staged_paths(here)?;
    if staged.is_empty() {
        return Ok(Verdict::Pass);
    }
    let address = store_address(global)?;
    if !address
        .exists()
        .with_context(|| format!("cannot reach the store {address}"))?
    {
        return Ok(Verdict::Pass);
    }
    let mut store = open_store(global)?;
    if worktree::merging_now(&mut store)? {
        // A merge's own commit (a squash): the merge names the claims it goes over.
        return Ok(Verdict::Pass);
    }
    let committer = Committer::find(&mut store, here)?;
    let conflicts = claim::check(&mut store, &staged, Some(&committer.claimant()))?;
    if conflicts.is_empty() {
        return Ok(Verdict::Pass);
    }
    if std::env::var(BYPASS_VAR).is_ok_and(|v| v == BYPASS_VALUE) {
        let recorded =
            claim::record_bypass(&mut store, &committer.claimant(), &conflicts, staged.len());
        eprintln!("{}", bypassed(&conflicts, recorded));
        return Ok(Verdict::Pass);
    }
    Ok(Verdict::Refuse(refusal(&conflicts, &committer)))
}

/// The paths the commit changes, relative to the repository root: what is staged in the
/// index git commits from (`GIT_INDEX_FILE` when git sets one), deletions and both sides
/// of renames included.
fn staged_paths(here: &Path) -> Result<Vec<String>> {
    let listed = git(
        here,
        &[
            "diff",
            "--cached",
            "--name-only",
            "-z",
            "--no-renames",
            "--diff-filter=ACDMRT",
        ],
    )
    .context("cannot list the staged files")?;
    Ok(listed
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect())
}

/// Who commits: their own claims never hold their commit back.
struct Committer {
    actor: String,
    session: Option<String>,
}

impl Committer {
    /// The session bound to the worktree `here` is in, else the live session served for
    /// the agent client this commit runs under (its MCP server and this hook share that
    /// client as an ancestor, as for the agent hooks: an agent committing in the main
    /// checkout), else the session `SWITCHBOARD_SESSION` names, else the person
    /// (`human:<git user.name>`, as `switchboard claim` holds claims by default).
    fn find(store: &mut Store, here: &Path) -> Result<Committer> {
        if let Some(id) = worktree::bound_session(store, here, None)? {
            return Ok(Self::of(session::get(store, &id)?));
        }
        if let Some(found) = session::of_client(store, std::process::id())? {
            return Ok(Self::of(found));
        }
        if let Some(id) = std::env::var(SESSION_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            match session::get(store, id.trim()) {
                Ok(found) => return Ok(Self::of(found)),
                Err(e) => eprintln!(
                    "switchboard guard: {SESSION_VAR}={id} is not a session of this repository \
                     ({e}); checking as the person committing"
                ),
            }
        }
        Ok(Committer {
            actor: agent::local_human(here)?,
            session: None,
        })
    }

    fn of(found: session::Session) -> Committer {
        Committer {
            actor: found.agent,
            session: Some(found.id),
        }
    }

    fn claimant(&self) -> Claimant<'_> {
        Claimant {
            actor: &self.actor,
            session: self.session.as_deref(),
        }
    }
}

/// The one-line note of a bypass, saying whether it was recorded.
fn bypassed(conflicts: &[Conflict], recorded: switchboard_core::Result<()>) -> String {
    let ids: Vec<&str> = conflicts.iter().map(|c| c.claim.id.as_str()).collect();
    let record = match recorded {
        Ok(()) => "recorded as a claim.bypassed event".to_string(),
        Err(e) => format!("NOT recorded ({e})"),
    };
    format!(
        "switchboard guard: bypassed ({BYPASS_VAR}={BYPASS_VALUE}): committing over {} \
         exclusive claim(s) of others ({}); {record}",
        ids.len(),
        ids.join(", ")
    )
}

/// The refusal: each claim in the way (holder, pattern, reason, expiry, staleness) with
/// the staged paths it covers, then what to do: with an agent's tools for an agent
/// committing (the CLI would act as the person), with the CLI for a person.
fn refusal(conflicts: &[Conflict], committer: &Committer) -> String {
    let mut text = String::from(
        "switchboard guard: commit refused: staged files are claimed exclusively by someone \
         else.\n",
    );
    for conflict in conflicts {
        text.push_str(&format!("- {}\n", conflict.claim.describe()));
        text.push_str(&format!("  staged here: {}\n", listed(&conflict.paths)));
    }
    text.push_str("What to do:\n");
    let mut holders: Vec<&str> = Vec::new();
    for conflict in conflicts {
        if !holders.contains(&conflict.claim.agent.as_str()) {
            holders.push(&conflict.claim.agent);
        }
    }
    let agent = committer.session.is_some();
    for holder in holders {
        text.push_str(&if agent {
            format!("- ask {holder} to release or share it: message_send to {holder}\n")
        } else {
            format!(
                "- ask {holder} to release or share it: switchboard send --to {} \"…\"\n",
                sh_quote(holder)
            )
        });
    }
    text.push_str(if agent {
        "- or wait until it is released or expires (claim_list shows them)\n"
    } else {
        "- or wait until it is released or expires (`switchboard claims` lists them)\n"
    });
    for stale in conflicts
        .iter()
        .filter(|c| c.claim.state == ClaimState::Stale)
    {
        text.push_str(&if agent {
            format!(
                "- {}'s holder is stale: ask a human (or its lead) to take it over\n",
                stale.claim.pattern
            )
        } else {
            format!(
                "- its holder is stale: a human may take it over: switchboard claim {} \
                 --take-over --reason \"…\"\n",
                sh_quote(&stale.claim.pattern)
            )
        });
    }
    text.push_str(
        "- or leave these files out of this commit: git restore --staged -- <path>…\n\
         - or commit anyway, once, recorded for everyone to see: SWITCHBOARD_GUARD=off git \
         commit …",
    );
    text
}

/// Up to [`MAX_LISTED`] paths, then how many more; a path with control characters (a
/// line break in a file name, a terminal escape) is quoted, never printed raw.
fn listed(paths: &[String]) -> String {
    let shown = paths[..paths.len().min(MAX_LISTED)]
        .iter()
        .map(|p| {
            if p.chars().any(char::is_control) {
                format!("{p:?}")
            } else {
                p.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    match paths.len().saturating_sub(MAX_LISTED) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// `text` as one word for a POSIX shell: in single quotes unless it is plainly safe.
fn sh_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The hooks directory git uses for the checkout at `here` and the files in it.
struct Hooks {
    hook: PathBuf,
    saved: PathBuf,
    /// `core.hooksPath`, when set (e.g. by husky).
    configured: Option<String>,
    /// The git config scope (`global` or `system`) that set `core.hooksPath` for every
    /// repository of the user, when it did: a hook there is not this repository's.
    shared: Option<String>,
}

impl Hooks {
    /// Asks git (`rev-parse --git-path hooks`: `core.hooksPath`, else the common
    /// directory's `hooks`, for a linked worktree too).
    fn of(here: &Path) -> Result<Hooks> {
        let dir = git(
            here,
            &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
        )
        .context("cannot find the repository's hooks directory")?;
        let dir = here.join(dir.strip_suffix('\n').unwrap_or(&dir));
        // `scope<TAB>value`: where core.hooksPath is set, when it is.
        let found = git(here, &["config", "--show-scope", "--get", "core.hooksPath"]).ok();
        let (scope, configured) = found
            .as_deref()
            .and_then(|line| line.trim_end().split_once('\t'))
            .map(|(scope, value)| (scope.to_string(), value.to_string()))
            .filter(|(_, value)| !value.is_empty())
            .unzip();
        Ok(Hooks {
            hook: dir.join(HOOK),
            saved: dir.join(SAVED),
            configured,
            shared: scope.filter(|s: &String| s == "global" || s == "system"),
        })
    }

    fn dir(&self) -> &Path {
        self.hook.parent().unwrap_or(Path::new("."))
    }

    /// Where the hook is, with `core.hooksPath` when that chose it.
    fn place(&self) -> String {
        match &self.configured {
            Some(path) => format!("{} (core.hooksPath = {path})", self.hook.display()),
            None => self.hook.display().to_string(),
        }
    }
}

/// Runs `git ARGS` in `dir` (an argument vector, no shell) and returns its stdout.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "`git {}` failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether something (a file, a link, even a dangling one) is at `path`.
fn present(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Whether the file at `path` is Switchboard's hook (a hook that cannot be read is not).
fn is_ours(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| {
        bytes
            .windows(MARKER.len())
            .any(|window| window == MARKER.as_bytes())
    })
}

/// The hook script running `exe` (the binary installing it).
fn script(exe: &str) -> String {
    format!(
        r#"#!/bin/sh
{MARKER};
# `switchboard guard uninstall` removes it and puts back the hook that was here before
# ({SAVED}), which this one runs after the guard (same arguments, same stdin).
# The guard refuses a commit of files another session or person claims exclusively
# (Switchboard claims). Bypass it once, recorded: SWITCHBOARD_GUARD=off git commit ...
# It runs the switchboard binary that installed it, or `switchboard` on PATH if that file
# is gone. Only a refusal (exit 1) stops the commit: with no binary, or one that fails
# otherwise, the commit goes ahead unchecked.
sb={exe}
[ -x "$sb" ] || sb=switchboard
if command -v "$sb" >/dev/null 2>&1; then
    "$sb" guard pre-commit </dev/null
    status=$?
    if [ "$status" -eq 1 ]; then
        exit 1
    elif [ "$status" -ne 0 ]; then
        echo "switchboard guard: $sb failed (exit $status); the claims were not checked" >&2
    fi
else
    echo "switchboard guard: no switchboard binary found; the claims were not checked" >&2
fi
previous="$(dirname "$0")/{SAVED}"
if [ -x "$previous" ]; then
    exec "$previous" "$@"
fi
"#,
        exe = sh_quote(exe)
    )
}

/// What installing the hook does.
enum Install {
    /// Switchboard's hook is there as it would be written.
    Current,
    /// Switchboard's hook is there, running another binary: it is rewritten.
    Update,
    /// No hook is there.
    Fresh,
    /// Another hook is there: it moves to [`SAVED`] and runs after the guard.
    Chain,
}

/// A planned install of the hook (see [`Installing::plan`]).
pub(crate) struct Installing {
    hooks: Hooks,
    script: String,
    action: Install,
}

impl Installing {
    /// Plans installing the hook for the checkout at `here`, changing nothing. Refuses
    /// when [`SAVED`] is taken by something that is not the hook the guard chains to, and
    /// when `core.hooksPath` comes from the user's global or system git config (the hook
    /// would run for every repository of theirs).
    pub(crate) fn plan(here: &Path) -> Result<Installing> {
        let hooks = Hooks::of(here)?;
        if let (Some(scope), Some(path)) = (&hooks.shared, &hooks.configured) {
            bail!(
                "core.hooksPath is set in your {scope} git config ({path}): a hook there runs \
                 in every repository using it, so Switchboard does not install one. Add a line \
                 running `switchboard guard pre-commit` to {path}/{HOOK} yourself, or set \
                 core.hooksPath for this repository only (git config --local), then install \
                 again (nothing was changed)"
            );
        }
        let exe = std::env::current_exe().context("cannot find this binary's path")?;
        let Some(exe) = exe.to_str() else {
            bail!(
                "this binary's path {} is not UTF-8: install switchboard on a plain path \
                 for the hook to run it",
                exe.display()
            );
        };
        let script = script(exe);
        let action = match (present(&hooks.hook), present(&hooks.saved)) {
            (true, _) if is_ours(&hooks.hook) => {
                if std::fs::read(&hooks.hook).is_ok_and(|b| b == script.as_bytes()) {
                    Install::Current
                } else {
                    Install::Update
                }
            }
            (true, true) => bail!(
                "{} is taken and {} is not Switchboard's hook: the hook cannot be moved \
                 aside without losing one of them. Merge or remove one of them, then install \
                 again (nothing was changed)",
                hooks.saved.display(),
                hooks.hook.display()
            ),
            (true, false) => Install::Chain,
            (false, true) => bail!(
                "{} is left from an earlier install whose hook was removed: put it back as \
                 {HOOK} or delete it, then install again (nothing was changed)",
                hooks.saved.display()
            ),
            (false, false) => Install::Fresh,
        };
        Ok(Installing {
            hooks,
            script,
            action,
        })
    }

    /// Writes the hook (or with `dry_run` says what it would do) and says where it went.
    pub(crate) fn apply(self, dry_run: bool) -> Result<()> {
        let place = self.hooks.place();
        let chained = format!(
            "; the hook that was there is kept as {} and runs after the guard",
            self.hooks.saved.display()
        );
        let (done, would) = match self.action {
            Install::Current => {
                println!("pre-commit guard: already installed in {place}, unchanged");
                return Ok(());
            }
            Install::Update => (format!("updated {place}"), format!("would update {place}")),
            Install::Fresh => (
                format!("installed in {place}"),
                format!("would install {place}"),
            ),
            Install::Chain => (
                format!("installed in {place}{chained}"),
                format!("would install {place}{chained}"),
            ),
        };
        if dry_run {
            println!("pre-commit guard: {would}");
            return Ok(());
        }
        self.write()?;
        println!("pre-commit guard: {done}");
        if self.hooks.configured.as_deref().is_some_and(is_relative) {
            println!(
                "pre-commit guard: core.hooksPath is relative, so each worktree runs the hooks \
                 of its own checkout: install there too, or commit the hook"
            );
        }
        Ok(())
    }

    /// Writes the script beside the hook, gives an existing hook its second name, then
    /// renames the script into place (dropping that name again if that fails).
    fn write(&self) -> Result<()> {
        let dir = self.hooks.dir();
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut file = tempfile::Builder::new()
            .prefix(".pre-commit.")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        file.write_all(self.script.as_bytes())?;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o755))?;
        let chain = matches!(self.action, Install::Chain);
        if chain {
            // A second name for the old hook first (refused if that name was taken since
            // the plan, never overwriting it); the hook itself is then replaced in one
            // rename, so there is no moment without a pre-commit hook.
            std::fs::hard_link(&self.hooks.hook, &self.hooks.saved).with_context(|| {
                format!(
                    "cannot keep {} as {} (nothing was changed)",
                    self.hooks.hook.display(),
                    self.hooks.saved.display()
                )
            })?;
        }
        if let Err(e) = file.persist(&self.hooks.hook) {
            if chain {
                let _ = std::fs::remove_file(&self.hooks.saved);
            }
            return Err(e.error)
                .with_context(|| format!("cannot write {}", self.hooks.hook.display()));
        }
        Ok(())
    }
}

fn is_relative(path: &str) -> bool {
    !path.starts_with('/') && !path.starts_with('~')
}

/// What uninstalling the hook does.
enum Uninstall {
    /// No hook is there.
    Absent,
    /// The hook there is not Switchboard's: it stays.
    Foreign,
    /// Switchboard's hook goes; none was there before.
    Remove,
    /// Switchboard's hook goes and the one that was there before comes back.
    Restore,
}

/// A planned removal of the hook (see [`Uninstalling::plan`]).
struct Uninstalling {
    hooks: Hooks,
    action: Uninstall,
}

impl Uninstalling {
    /// Plans removing the hook for the checkout at `here`, changing nothing.
    fn plan(here: &Path) -> Result<Uninstalling> {
        let hooks = Hooks::of(here)?;
        let action = if !present(&hooks.hook) {
            Uninstall::Absent
        } else if !is_ours(&hooks.hook) {
            Uninstall::Foreign
        } else if present(&hooks.saved) {
            Uninstall::Restore
        } else {
            Uninstall::Remove
        };
        Ok(Uninstalling { hooks, action })
    }

    /// Removes the hook, putting back the one from before exactly (the same file: its
    /// contents and mode), or with `dry_run` says what it would do.
    fn apply(self, dry_run: bool) -> Result<()> {
        let (hook, saved) = (self.hooks.hook.display(), self.hooks.saved.display());
        let (done, would) = match self.action {
            Uninstall::Absent => {
                println!("pre-commit guard: not installed in {hook}; nothing to do");
                return Ok(());
            }
            Uninstall::Foreign => {
                println!("pre-commit guard: {hook} is not Switchboard's hook; left alone");
                return Ok(());
            }
            Uninstall::Remove => (format!("removed {hook}"), format!("would remove {hook}")),
            Uninstall::Restore => (
                format!("removed; {saved} is back as {hook}"),
                format!("would remove {hook} and put {saved} back in its place"),
            ),
        };
        if dry_run {
            println!("pre-commit guard: {would}");
            return Ok(());
        }
        match self.action {
            Uninstall::Restore => std::fs::rename(&self.hooks.saved, &self.hooks.hook),
            _ => std::fs::remove_file(&self.hooks.hook),
        }
        .with_context(|| format!("cannot change {hook}"))?;
        println!("pre-commit guard: {done}");
        Ok(())
    }
}
