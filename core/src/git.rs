//! Running the user's `git` (always an argument vector, never a shell) and reading
//! repositories with git2.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::scratch::Scratch;
use crate::{Error, Result};

/// Runs `git args…` in `dir` and returns its standard output, or an error carrying git's
/// own message. Interactive prompts are disabled.
pub(crate) fn run(dir: &Path, args: &[&str]) -> Result<String> {
    let output = command(dir, args).output().map_err(cannot_run)?;
    answer(args, output.status, &output.stdout, &output.stderr)
}

/// Runs git like [`run`] for a command that changes the repository (merge, commit, rebase,
/// reset): git writes its output to private scratch files instead of pipes, so if we are
/// killed meanwhile git still finishes its work (a pipe to a dead reader would kill it with
/// SIGPIPE halfway, leaving `MERGE_HEAD` or a stale `index.lock`); away from a terminal it
/// also runs in a process group of its own, so a signal to ours does not reach it.
pub(crate) fn run_to_end(dir: &Path, args: &[&str]) -> Result<String> {
    detached(dir, args, None)
}

/// [`run_to_end`] for one step of a recorded operation (a merge's intent): git and
/// anything it starts (hooks) carry the operation's id in their environment, so that
/// after a crash [`running_for`] tells whether its git is still at work.
pub(crate) fn run_to_end_for(operation: &str, dir: &Path, args: &[&str]) -> Result<String> {
    detached(dir, args, Some(operation))
}

/// The environment variable naming the operation a git process works for (hooks git
/// runs see it too, which is how the pre-commit guard knows a merge's own commit).
pub const OPERATION_VAR: &str = "SWITCHBOARD_OPERATION";

fn detached(dir: &Path, args: &[&str], operation: Option<&str>) -> Result<String> {
    use std::io::IsTerminal;
    use std::os::unix::process::CommandExt;
    let mut stdout = Scratch::new("git").map_err(cannot_capture)?;
    let mut stderr = Scratch::new("git").map_err(cannot_capture)?;
    let mut cmd = command(dir, args);
    if let Some(operation) = operation {
        cmd.env(OPERATION_VAR, operation);
    }
    // Away from a terminal (an agent's server), git runs in a process group of its own so
    // that a signal to ours does not reach it. At a terminal it stays in the foreground
    // group, where a hook may still ask the user something.
    if !std::io::stdin().is_terminal() {
        cmd.process_group(0);
    }
    let status = cmd
        .stdin(Stdio::null())
        .stdout(stdout.for_child().map_err(cannot_capture)?)
        .stderr(stderr.for_child().map_err(cannot_capture)?)
        .status()
        .map_err(cannot_run)?;
    answer(
        args,
        status,
        &stdout.contents(MAX_OUTPUT),
        &stderr.contents(MAX_OUTPUT),
    )
}

/// Local processes still working for `operation` (started by [`run_to_end_for`]).
pub(crate) fn running_for(operation: &str) -> Vec<u32> {
    let marker = format!("{OPERATION_VAR}={operation}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            environ
                .split(|b| *b == 0)
                .any(|var| var == marker.as_bytes())
                .then_some(pid)
        })
        .collect()
}

/// Most output of a repository-changing command kept (it is only ever shown in errors).
const MAX_OUTPUT: usize = 1024 * 1024;

/// Git's answer: its standard output on success, else an error with what it said.
fn answer(args: &[&str], status: ExitStatus, stdout: &[u8], stderr: &[u8]) -> Result<String> {
    if status.success() {
        return Ok(String::from_utf8_lossy(stdout).into_owned());
    }
    // Some commands (e.g. `commit` with nothing to commit) explain themselves on stdout.
    let stderr = String::from_utf8_lossy(stderr);
    let stdout = String::from_utf8_lossy(stdout);
    let said = match stderr.trim() {
        "" => stdout.trim(),
        text => text,
    };
    let said = match said {
        "" => format!("exit status {status}"),
        text => text.to_string(),
    };
    Err(Error::Git(format!("git {} failed: {said}", args.join(" "))))
}

fn cannot_run(e: std::io::Error) -> Error {
    Error::io("cannot run git (is it installed and on PATH?)", e)
}

fn cannot_capture(e: std::io::Error) -> Error {
    Error::io(
        "cannot create a private file in the temp dir for git's output",
        e,
    )
}

/// Runs git and returns its exit code and standard output, for commands whose failure is
/// an answer (e.g. `merge-tree` reporting conflicts, `show-ref` finding nothing).
pub(crate) fn try_run(dir: &Path, args: &[&str]) -> Result<(bool, String)> {
    let (code, stdout) = run_code(dir, args)?;
    Ok((code == Some(0), stdout))
}

/// Like [`try_run`], with the exact exit code (`None` when killed by a signal).
pub(crate) fn run_code(dir: &Path, args: &[&str]) -> Result<(Option<i32>, String)> {
    let output = command(dir, args).output().map_err(cannot_run)?;
    Ok((
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

/// Runs git like [`run`] with extra environment variables (e.g. a private
/// `GIT_INDEX_FILE`).
pub(crate) fn run_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Result<String> {
    let mut cmd = command(dir, args);
    cmd.envs(env.iter().copied());
    let output = cmd.output().map_err(cannot_run)?;
    answer(args, output.status, &output.stdout, &output.stderr)
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_EDITOR", "true")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove(OPERATION_VAR)
        // File names are names, never patterns (a file called `*.txt` is one file).
        .env("GIT_LITERAL_PATHSPECS", "1");
    cmd
}

/// The repository around a directory: its main checkout and shared git directory.
#[derive(Debug, Clone)]
pub struct RepoPaths {
    /// The main worktree's root.
    pub main_root: PathBuf,
    /// The git common directory (shared by all worktrees).
    pub common_dir: PathBuf,
    /// The root of the checkout containing the directory asked about.
    pub checkout: PathBuf,
}

/// Finds the repository containing `dir`.
pub fn repo_paths(dir: &Path) -> Result<RepoPaths> {
    let repo = git2::Repository::discover(dir)
        .map_err(|_| Error::Invalid(format!("{} is not inside a git repository", dir.display())))?;
    let checkout = repo
        .workdir()
        .ok_or_else(|| {
            Error::Invalid("this is a bare repository; worktrees need a checkout".into())
        })?
        .to_path_buf();
    let common_dir = canonical(repo.commondir());
    // The main worktree's root is the parent of the common `.git` directory.
    let main_root = common_dir
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::Invalid("cannot find the main checkout of this repository".into()))?;
    Ok(RepoPaths {
        main_root,
        common_dir,
        checkout: canonical(&checkout),
    })
}

/// `path` made absolute and free of symlinks where possible.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Checks a branch name with git's own rules plus ours (ASCII, no leading '-').
pub(crate) fn check_branch(dir: &Path, branch: &str) -> Result<()> {
    let plain = branch.is_ascii()
        && !branch.starts_with('-')
        && !branch.contains('\0')
        && branch.len() <= 200;
    let valid = plain && try_run(dir, &["check-ref-format", "--branch", branch])?.0;
    if valid {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "'{}' is not a valid branch name: use ASCII letters, digits, '/', '-', '_' and '.', \
         not starting with '-' (see git check-ref-format)",
        crate::input::shown(branch)
    )))
}

/// The state of a checkout's git directory that stops a merge into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Busy {
    /// `index.lock` exists and a running git may hold it.
    Locked(PathBuf),
    /// `index.lock` exists but no process has it open and it is older than every git
    /// running there: left by a git that died (nothing can hold it).
    StaleLock(PathBuf),
    /// A merge is in progress (`MERGE_HEAD`).
    Merging(PathBuf),
    /// Another multi-step operation is in progress: `rebase`, `cherry-pick` or `revert`
    /// (the git command that continues or aborts it).
    InProgress(&'static str),
}

impl Busy {
    /// What is in progress, and how to end it, in a few words.
    pub(crate) fn describe(&self) -> String {
        match self {
            Busy::Locked(lock) | Busy::StaleLock(lock) => format!("{} exists", lock.display()),
            Busy::Merging(_) => "a merge (MERGE_HEAD exists): finish it with `git commit` or \
                                 undo it with `git merge --abort`"
                .into(),
            Busy::InProgress(what) => format!(
                "a {what}: finish it with `git {what} --continue` or undo it with \
                 `git {what} --abort`"
            ),
        }
    }
}

/// What, if anything, is in progress in `checkout`'s git directory.
pub(crate) fn busy(checkout: &Path) -> Result<Option<Busy>> {
    let git_dir = PathBuf::from(run(checkout, &["rev-parse", "--absolute-git-dir"])?.trim());
    let lock = git_dir.join("index.lock");
    if let Ok(meta) = std::fs::symlink_metadata(&lock) {
        let age = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .unwrap_or_default();
        let held = is_open(&lock) || may_hold(&[checkout, &git_dir], age);
        return Ok(Some(if held {
            Busy::Locked(lock)
        } else {
            Busy::StaleLock(lock)
        }));
    }
    let merge_head = git_dir.join("MERGE_HEAD");
    if merge_head.exists() {
        return Ok(Some(Busy::Merging(merge_head)));
    }
    let in_progress = [
        ("rebase-merge", "rebase"),
        ("rebase-apply", "rebase"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("REVERT_HEAD", "revert"),
        ("sequencer", "cherry-pick"),
    ];
    Ok(in_progress
        .iter()
        .find(|(name, _)| git_dir.join(name).exists())
        .map(|(_, what)| Busy::InProgress(what)))
}

/// Removes `checkout`'s index lock if [`busy`] still judges it stale now (another git may
/// have taken the lock since it was judged).
pub(crate) fn remove_stale_lock(checkout: &Path) -> Result<PathBuf> {
    match busy(checkout)? {
        Some(Busy::StaleLock(lock)) => {
            std::fs::remove_file(&lock)
                .map_err(|e| Error::io("cannot remove a stale git index.lock", e))?;
            Ok(lock)
        }
        _ => Err(Error::Conflict(format!(
            "git is busy in {}: its index lock was taken again. Try again when it has finished.",
            checkout.display()
        ))),
    }
}

/// Whether any process we can see has `file` open.
fn is_open(file: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    let file = canonical(file);
    entries.flatten().any(|entry| {
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            return false;
        };
        fds.flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == file))
    })
}

/// How long [`busy_after_waiting`] waits for a running git to let go of its lock.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Like [`busy`], but while a running git may hold the index lock, waits (up to a few
/// seconds) for it to finish first: a git left running by a process that died finishes
/// its work on its own.
pub(crate) fn busy_after_waiting(checkout: &Path) -> Result<Option<Busy>> {
    let deadline = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        match busy(checkout)? {
            Some(Busy::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            found => return Ok(found),
        }
    }
}

/// Slack for clock granularity when comparing a lock's age with a process's.
const LOCK_AGE_SLACK: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether the git process at `proc_dir` is a long-lived daemon (`git fsmonitor--daemon`,
/// `git daemon`, `git credential-cache--daemon`), which never holds the index lock: one
/// running in a checkout for hours must not make every lock there look held.
fn is_daemon(proc_dir: &Path) -> bool {
    const DAEMONS: [&[u8]; 3] = [b"fsmonitor--daemon", b"daemon", b"credential-cache--daemon"];
    let Ok(cmdline) = std::fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    // The subcommand: the first argument that is neither an option nor an option's value.
    let mut args = cmdline.split(|b| *b == 0).skip(1);
    while let Some(arg) = args.next() {
        match arg {
            b"-C" | b"-c" => {
                args.next();
            }
            option if option.starts_with(b"-") => {}
            command => return DAEMONS.contains(&command),
        }
    }
    false
}

/// Whether a running git that works in one of `dirs` started before a lock of age
/// `lock_age` was written, and so may hold it. A git whose directory we may not read counts
/// as one that may; one that has exited (its directory is gone) cannot.
fn may_hold(dirs: &[&Path], lock_age: std::time::Duration) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries.flatten().any(|entry| {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            return false;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with("git") || is_daemon(&entry.path()) {
            return false;
        }
        let here = match std::fs::read_link(entry.path().join("cwd")) {
            Ok(cwd) => dirs.iter().any(|dir| cwd.starts_with(canonical(dir))),
            Err(e) => e.kind() == std::io::ErrorKind::PermissionDenied,
        };
        here && crate::process::age(pid).is_none_or(|age| age + LOCK_AGE_SLACK >= lock_age)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_daemon_is_never_taken_for_a_lock_holder() {
        let proc_dir = tempfile::tempdir().unwrap();
        let cmdline = |args: &[&str]| {
            let mut bytes = args.join("\0").into_bytes();
            bytes.push(0);
            std::fs::write(proc_dir.path().join("cmdline"), bytes).unwrap();
            is_daemon(proc_dir.path())
        };
        assert!(cmdline(&["git", "fsmonitor--daemon", "run"]));
        assert!(cmdline(&["git", "-C", "/repo", "fsmonitor--daemon", "run"]));
        assert!(!cmdline(&["git", "merge", "--no-ff", "sb/w"]));
        assert!(
            !cmdline(&["git", "commit", "-m", "daemon"]),
            "an argument is not the command"
        );
    }
}
