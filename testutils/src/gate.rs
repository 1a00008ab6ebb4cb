//! A command that waits at a gate: for tests of what happens while a long operation (a
//! worktree's setup command) runs.

use std::path::{Path, PathBuf};

/// A `setup` argument vector that marks itself started, then waits until the gate opens.
/// The gate opens when this is dropped, so a failing test never leaves it waiting.
pub struct Gate {
    started: PathBuf,
    open: PathBuf,
}

impl Gate {
    /// A gate whose marker files live in `dir`.
    pub fn new(dir: &Path) -> Gate {
        Gate {
            started: dir.join("started"),
            open: dir.join("open"),
        }
    }

    /// `.switchboard.toml` text making the waiting command the worktree setup command.
    pub fn setup_config(&self) -> String {
        let script = format!(
            "touch '{}'; while [ ! -e '{}' ]; do sleep 0.02; done",
            self.started.display(),
            self.open.display()
        );
        format!("[worktrees]\nsetup = [\"sh\", \"-c\", {script:?}]\n")
    }

    /// Whether the command has started (and is waiting).
    pub fn started(&self) -> bool {
        self.started.exists()
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.open, "");
    }
}
