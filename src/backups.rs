//! `switchboard backup` and `switchboard restore`, and the automatic backups every
//! long-running command (`mcp`, `serve`, `lsp`) keeps while it runs.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use switchboard_core::StoreAddress;
use switchboard_core::backup::{self, Policy, Schedule};
use switchboard_core::clock::Timestamp;

use crate::Global;
use crate::commands::{print_json, store_address};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// List the backups instead of taking one.
    #[arg(long)]
    list: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup to restore (see `switchboard backup --list`).
    #[arg(required_unless_present = "latest", conflicts_with = "latest")]
    file: Option<PathBuf>,
    /// Restore the newest backup.
    #[arg(long)]
    latest: bool,
    /// Restore even while sessions are live (their processes keep writing to the replaced
    /// file until they restart).
    #[arg(long)]
    force: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The backup policy of the repository containing the working directory (`[backups]` in
/// `.switchboard.toml`), or the default outside one.
pub fn policy() -> Result<Policy> {
    let here = std::env::current_dir()?;
    let Ok(repo) = switchboard_core::git::repo_paths(&here) else {
        return Ok(Policy::default());
    };
    Ok(switchboard_core::config::load(&repo.main_root)?.backups)
}

/// Automatic backups of a file store for as long as the returned schedule lives (none for
/// a PostgreSQL store: its server is backed up by its operator, or with `switchboard
/// export`). A `.switchboard.toml` that cannot be read is reported and the default policy
/// used: a typo there must not stop an agent's server.
pub fn schedule(store: &StoreAddress) -> Option<Schedule> {
    let db = store.file_path()?;
    let policy = policy().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "using the default backup policy");
        Policy::default()
    });
    Schedule::start(db.to_path_buf(), policy)
}

/// The file of the store the global options choose: backups are copies of it.
fn store_file(global: &Global) -> Result<PathBuf> {
    let address = store_address(global)?;
    match address.file_path() {
        Some(path) => Ok(path.to_path_buf()),
        None => bail!(
            "the store is on PostgreSQL ({address}): back it up with the server's own tools \
             (pg_dump), or write an export with `switchboard export --to FILE`"
        ),
    }
}

pub fn backup(global: &Global, args: BackupArgs) -> Result<()> {
    let db = store_file(global)?;
    if args.list {
        let found = backup::list(&db)?;
        if args.json {
            return print_json(&found);
        }
        if found.is_empty() {
            println!(
                "no backups of {} yet (in {})",
                db.display(),
                backup::dir(&db).display()
            );
        }
        let now = Timestamp::now();
        for b in found {
            println!(
                "{}  {:>10} bytes  {}",
                b.taken_at.ago(now),
                b.bytes,
                b.path.display()
            );
        }
        return Ok(());
    }
    if !db.exists() {
        bail!("there is no state database at {} to back up", db.display());
    }
    let taken = backup::take(&db, policy()?.keep)?;
    if args.json {
        return print_json(&taken);
    }
    println!(
        "backed up {} to {} ({} bytes)",
        db.display(),
        taken.path.display(),
        taken.bytes
    );
    Ok(())
}

pub fn restore(global: &Global, args: RestoreArgs) -> Result<()> {
    let db = store_file(global)?;
    let from = match (args.file, args.latest) {
        (Some(file), _) => file,
        (None, _) => match backup::latest(&db)? {
            Some(b) => b.path,
            None => bail!(
                "there are no backups of {} in {}",
                db.display(),
                backup::dir(&db).display()
            ),
        },
    };
    let restored = backup::restore(&db, &from, args.force)?;
    if args.json {
        return print_json(&restored);
    }
    println!("restored {} from {}", db.display(), from.display());
    if let Some(replaced) = restored.replaced {
        println!(
            "the replaced database is kept at {0}; to undo: switchboard restore {0}",
            replaced.display()
        );
    }
    Ok(())
}
