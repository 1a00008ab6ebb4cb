//! Per-repository settings from `.switchboard.toml` at the repository root. Every key is
//! optional.
//!
//! ```toml
//! [worktrees]
//! root = "../myrepo-worktrees"   # default: <repo>/.worktrees
//! setup = ["npm", "ci"]          # an argument vector run in each new worktree; no shell
//! setup_timeout_secs = 300
//! port_base = 20000              # worktree ports are blocks above this
//! ports_per_worktree = 10
//!
//! [messages]
//! escalate_after = "10m"         # a message an agent leaves unread this long is flagged to humans
//!
//! [backups]
//! every = "1h"                   # an online backup of the state database when the newest is older
//! keep = 24                      # backups kept (oldest deleted first); 0 turns them off
//!
//! [repository]
//! id = "acme/api"                # the repository's id in a shared store (default: its origin URL)
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::{Error, Result};

/// The name of the settings file at the repository root.
pub const FILE: &str = ".switchboard.toml";

/// Everything `.switchboard.toml` can say.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The `[worktrees]` table: where worktrees go, how they are set up, their ports.
    #[serde(default)]
    pub worktrees: WorktreeConfig,
    /// The `[messages]` table: when mail left unread is flagged to the humans.
    #[serde(default)]
    pub messages: MessagesConfig,
    /// The `[backups]` table: how often the state database is backed up, how many kept.
    #[serde(default)]
    pub backups: BackupPolicy,
    /// The `[repository]` table: the repository's id, shared by its clones on every host.
    #[serde(default)]
    pub repository: RepositoryConfig,
}

/// The `[repository]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RepositoryConfig {
    /// The repository's id, the same in every clone (default: from its `origin` remote; see
    /// the `repository` module, which checks it where it is used).
    pub id: Option<String>,
}

/// The `[messages]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessagesConfig {
    /// A message its agent recipient leaves unread longer than this is flagged to the
    /// humans (in the editor and `switchboard watch`). A duration: `90s`, `10m`, `2h`.
    #[serde(deserialize_with = "duration")]
    pub escalate_after: std::time::Duration,
}

impl Default for MessagesConfig {
    fn default() -> Self {
        MessagesConfig {
            escalate_after: std::time::Duration::from_secs(10 * 60),
        }
    }
}

pub(crate) fn duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<std::time::Duration, D::Error> {
    let text = String::deserialize(d)?;
    crate::clock::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// The `[worktrees]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorktreeConfig {
    /// Where worktrees go; relative paths are relative to the repository root.
    pub root: Option<PathBuf>,
    /// Command (argument vector) run in each new worktree.
    pub setup: Option<Vec<String>>,
    /// Seconds the setup command may run before it is killed (default 300).
    pub setup_timeout_secs: u64,
    /// Lowest port handed to worktrees (default 20000); each worktree gets a free block
    /// of ports above it, the same block for the same name when it is free.
    pub port_base: u16,
    /// How many ports each worktree's block holds (default 10, at least 1).
    pub ports_per_worktree: u16,
}

impl Default for WorktreeConfig {
    fn default() -> Self {
        WorktreeConfig {
            root: None,
            setup: None,
            setup_timeout_secs: 300,
            port_base: 20000,
            ports_per_worktree: 10,
        }
    }
}

/// Reads `.switchboard.toml` from `repo_root`; a missing file means defaults.
pub fn load(repo_root: &Path) -> Result<Config> {
    let path = repo_root.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    let config: Config = toml::from_str(&text)
        .map_err(|e| Error::Invalid(format!("{} is not valid: {e}", path.display())))?;
    if config
        .worktrees
        .setup
        .as_ref()
        .is_some_and(|s| s.is_empty())
    {
        return Err(Error::Invalid(format!(
            "{}: worktrees.setup is an empty command",
            path.display()
        )));
    }
    if config.worktrees.ports_per_worktree == 0 {
        return Err(Error::Invalid(format!(
            "{}: worktrees.ports_per_worktree must be at least 1",
            path.display()
        )));
    }
    if config.backups.every < MIN_BACKUP_EVERY {
        return Err(Error::Invalid(format!(
            "{}: backups.every must be at least 1s (to turn backups off, set keep = 0)",
            path.display()
        )));
    }
    Ok(config)
}

/// How often backups are taken and how many are kept (`[backups]` in `.switchboard.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupPolicy {
    /// How old the newest backup may get before a new one is taken: `30m`, `1h`, `1d`.
    #[serde(deserialize_with = "duration")]
    pub every: Duration,
    /// How many backups are kept; the oldest beyond this are deleted. 0 turns automatic
    /// backups off.
    pub keep: usize,
}

/// The shortest `every` accepted: backups back to back would rotate every real one out.
pub const MIN_BACKUP_EVERY: Duration = Duration::from_secs(1);

impl Default for BackupPolicy {
    fn default() -> Self {
        BackupPolicy {
            every: Duration::from_secs(60 * 60),
            keep: 24,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_means_defaults_and_bad_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap().worktrees.port_base, 20000);
        std::fs::write(
            dir.path().join(FILE),
            "[worktrees]\nsetup = [\"make\", \"deps\"]\nroot = \"../wt\"\n",
        )
        .unwrap();
        let c = load(dir.path()).unwrap();
        assert_eq!(c.worktrees.setup.unwrap(), ["make", "deps"]);
        assert_eq!(c.worktrees.root.unwrap(), Path::new("../wt"));
        assert_eq!(c.messages.escalate_after.as_secs(), 600, "the default");
        std::fs::write(
            dir.path().join(FILE),
            "[messages]\nescalate_after = \"90s\"\n",
        )
        .unwrap();
        assert_eq!(
            load(dir.path()).unwrap().messages.escalate_after.as_secs(),
            90
        );
        std::fs::write(
            dir.path().join(FILE),
            "[messages]\nescalate_after = \"soon\"\n",
        )
        .unwrap();
        assert!(load(dir.path()).is_err());
        std::fs::write(dir.path().join(FILE), "[worktrees]\nsetpu = []\n").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown field `setpu`"), "{err}");
    }
}
