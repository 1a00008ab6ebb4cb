//! A scratch directory for a state database.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A fresh temporary directory (canonical path), removed on drop, with a place for a
/// state database in it.
pub struct ScratchStore {
    _dir: TempDir,
    dir: PathBuf,
    db: PathBuf,
}

impl ScratchStore {
    /// Creates the directory; nothing is in it yet.
    pub fn new() -> ScratchStore {
        let tmp = tempfile::tempdir().expect("create a temporary directory");
        let dir = tmp
            .path()
            .canonicalize()
            .expect("canonicalize the temporary directory");
        let db = dir.join("state.db");
        ScratchStore { _dir: tmp, dir, db }
    }

    /// The directory itself (for siblings of the database, such as a repository).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `state.db` in the directory: open a store there (it does not exist until then).
    pub fn db(&self) -> &Path {
        &self.db
    }
}

impl Default for ScratchStore {
    fn default() -> Self {
        Self::new()
    }
}
