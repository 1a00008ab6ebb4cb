//! Running the user's `git` (always an argument vector, never a shell) and reading
//! repositories with git2.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

/// Runs `git args…` in `dir` and returns its standard output, or an error carrying git's
/// own message. Interactive prompts are disabled.
pub(crate) fn run(dir: &Path, args: &[&str]) -> Result<String> {
    let output = command(dir, args)
        .output()
        .map_err(|e| Error::io("cannot run git (is it installed and on PATH?)", e))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    // Some commands (e.g. `commit` with nothing to commit) explain themselves on stdout.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let said = match stderr.trim() {
        "" => stdout.trim(),
        text => text,
    };
    let said = match said {
        "" => format!("exit status {}", output.status),
        text => text.to_string(),
    };
    Err(Error::Git(format!("git {} failed: {said}", args.join(" "))))
}

/// Runs git and returns its exit code and standard output, for commands whose failure is
/// an answer (e.g. `merge-tree` reporting conflicts, `show-ref` finding nothing).
pub(crate) fn try_run(dir: &Path, args: &[&str]) -> Result<(bool, String)> {
    let (code, stdout) = run_code(dir, args)?;
    Ok((code == Some(0), stdout))
}

/// Like [`try_run`], with the exact exit code (`None` when killed by a signal).
pub(crate) fn run_code(dir: &Path, args: &[&str]) -> Result<(Option<i32>, String)> {
    let output = command(dir, args)
        .output()
        .map_err(|e| Error::io("cannot run git (is it installed and on PATH?)", e))?;
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
    let output = cmd
        .output()
        .map_err(|e| Error::io("cannot run git (is it installed and on PATH?)", e))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    Err(Error::Git(format!(
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_EDITOR", "true")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
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
    let plain = branch.is_ascii() && !branch.starts_with('-') && branch.len() <= 200;
    let valid = plain && try_run(dir, &["check-ref-format", "--branch", branch])?.0;
    if valid {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "'{branch}' is not a valid branch name: use ASCII letters, digits, '/', '-', '_' and '.', \
         not starting with '-' (see git check-ref-format)"
    )))
}
