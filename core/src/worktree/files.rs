//! Preparing a new worktree's files: `.worktreeinclude` copies and the env file.

use std::path::Path;

use ignore::gitignore::GitignoreBuilder;

use super::{DEFAULT_DIR, ENV_FILE, Worktree};
use crate::{Error, Result};

/// The file listing (in gitignore syntax) untracked files to copy into new worktrees.
pub const INCLUDE_FILE: &str = ".worktreeinclude";

/// Copies files of `main` matched by its `.worktreeinclude` into `target`, skipping any
/// that already exist there (tracked files come from git). Returns the relative paths.
pub(crate) fn copy_included(main: &Path, target: &Path) -> Result<Vec<String>> {
    let list = main.join(INCLUDE_FILE);
    if !list.exists() {
        return Ok(Vec::new());
    }
    let mut builder = GitignoreBuilder::new(main);
    if let Some(e) = builder.add(&list) {
        return Err(Error::Invalid(format!(
            "{} is not valid gitignore syntax: {e}",
            list.display()
        )));
    }
    let matcher = builder.build().map_err(|e| {
        Error::Invalid(format!(
            "{} is not valid gitignore syntax: {e}",
            list.display()
        ))
    })?;
    let mut copied = Vec::new();
    let mut pending = vec![main.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(main) else {
                continue;
            };
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(_) => continue,
            };
            if file_type.is_dir() {
                let skip = relative == Path::new(".git")
                    || relative == Path::new(DEFAULT_DIR)
                    || path == target;
                if !skip {
                    pending.push(path);
                }
                continue;
            }
            if !file_type.is_file()
                || !matcher
                    .matched_path_or_any_parents(relative, false)
                    .is_ignore()
            {
                continue;
            }
            let destination = target.join(relative);
            if destination.exists() {
                continue;
            }
            if let Some(parent) = destination.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
            }
            std::fs::copy(&path, &destination)
                .map_err(|e| Error::io(format!("cannot copy {}", relative.display()), e))?;
            copied.push(relative.display().to_string());
        }
    }
    copied.sort();
    Ok(copied)
}

/// Writes `.switchboard.env` (ports, worktree, session) into the worktree.
pub(crate) fn write_env(dir: &Path, w: &Worktree) -> Result<()> {
    let last = u32::from(w.port) + u32::from(w.ports) - 1;
    let mut text = format!(
        "# Written by switchboard for worktree '{}'. Ports are reserved for this worktree.\n\
         SWITCHBOARD_WORKTREE={}\nSWITCHBOARD_PORT={}\nSWITCHBOARD_PORTS={}-{last}\n",
        w.name, w.name, w.port, w.port
    );
    if let Some(session) = &w.session {
        text.push_str(&format!("SWITCHBOARD_SESSION={session}\n"));
    }
    let path = dir.join(ENV_FILE);
    std::fs::write(&path, text)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}
