//! Scratch git repositories and the git CLI, for tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ScratchStore;

/// Runs `git ARGS` in `dir` and returns its standard output.
///
/// # Panics
/// When git cannot be started or exits unsuccessfully (the message names the arguments,
/// the directory and git's error output).
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("git {args:?} in {}: {e}", dir.display()));
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("git's output is UTF-8")
}

/// Writes `content` to `file` (relative to `dir`, parent folders created), stages it
/// and commits it with `message`.
pub fn commit(dir: &Path, file: &str, content: &str, message: &str) {
    write(dir, file, content);
    git(dir, &["add", file]);
    git(dir, &["commit", "-q", "-m", message]);
}

fn write(dir: &Path, file: &str, content: &str) {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create the file's folder");
    }
    std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A git repository at `repo` in a [`ScratchStore`] directory (so `state.db` sits beside
/// it): branch `main`, a local user "Ada Lovelace", commit signing off. Removed on drop.
pub struct ScratchRepo {
    store: ScratchStore,
    path: PathBuf,
}

impl ScratchRepo {
    /// A repository with one empty commit, "init".
    pub fn new() -> ScratchRepo {
        let repo = Self::empty();
        repo.git(&["commit", "-q", "--allow-empty", "-m", "init"]);
        repo
    }

    /// A repository with no commit yet (for tests that choose the first one).
    pub fn empty() -> ScratchRepo {
        let store = ScratchStore::new();
        let path = store.dir().join("repo");
        std::fs::create_dir(&path).expect("create the repository folder");
        let repo = ScratchRepo { store, path };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Ada Lovelace"]);
        repo.git(&["config", "user.email", "ada@example.invalid"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    /// The main checkout (canonical path).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The scratch directory holding the repository and its `state.db`.
    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// `state.db` beside the repository (not inside it): open a store there.
    pub fn db(&self) -> &Path {
        self.store.db()
    }

    /// Runs git in the main checkout; see [`git`].
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.path, args)
    }

    /// Writes `content` to `file` in the main checkout without staging it.
    pub fn write(&self, file: &str, content: &str) {
        write(&self.path, file, content);
    }

    /// Commits `file` with `content` in the main checkout; see [`commit`].
    pub fn commit(&self, file: &str, content: &str, message: &str) {
        commit(&self.path, file, content, message);
    }

    /// The full sha `HEAD` names in the main checkout.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

impl Default for ScratchRepo {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_repository_is_on_main_with_one_commit_and_a_db_beside_it() {
        let repo = ScratchRepo::new();
        assert_eq!(repo.git(&["branch", "--show-current"]).trim(), "main");
        assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "1");
        assert_eq!(repo.path().parent(), Some(repo.dir()));
        assert_eq!(repo.db(), repo.dir().join("state.db"));
        assert!(!repo.db().exists(), "no database until a store opens it");
    }

    #[test]
    fn commits_create_folders_and_advance_head() {
        let repo = ScratchRepo::empty();
        repo.commit("src/deep/a.txt", "a\n", "first");
        let first = repo.head();
        repo.commit("src/deep/a.txt", "b\n", "second");
        assert_ne!(repo.head(), first);
        assert_eq!(repo.git(&["log", "-1", "--format=%s"]).trim(), "second");
        repo.write("loose.txt", "x");
        assert_eq!(repo.git(&["status", "--porcelain"]), "?? loose.txt\n");
    }

    #[test]
    #[should_panic(expected = "git [\"no-such-command\"]")]
    fn a_failing_git_command_panics_with_its_arguments() {
        ScratchRepo::empty().git(&["no-such-command"]);
    }
}
