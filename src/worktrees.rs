//! Worktrees on the command line, over the same core functions as the MCP tools. The
//! human acting is `human:<git user.name>`.

use anyhow::Result;
use clap::{Args, Subcommand};
use switchboard_core::clock::Timestamp;
use switchboard_core::worktree::{self, NewWorktree, Strategy};
use switchboard_core::{agent, claim, render};

use crate::Global;
use crate::commands::{open_store, print_json};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum WorktreeCommand {
    /// Create a worktree (from this checkout's HEAD unless --base).
    Create {
        name: String,
        /// Commit-ish to start from.
        #[arg(long)]
        base: Option<String>,
        /// Branch to create, or an existing one to check out (default sb/NAME).
        #[arg(long)]
        branch: Option<String>,
        /// Session to bind (id or prefix).
        #[arg(long)]
        session: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// What a worktree changes against its base.
    Diff {
        name: String,
        /// Print the patch too.
        #[arg(long)]
        patch: bool,
        #[arg(long)]
        json: bool,
    },
    /// Merge a worktree's branch back (refuses conflicts and dirty target files).
    Merge {
        name: String,
        /// Target branch (default: the branch it was made from).
        #[arg(long)]
        into: Option<String>,
        /// ff, merge or squash.
        #[arg(long, default_value = "merge")]
        strategy: Strategy,
        #[arg(long)]
        message: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Rebase a worktree's branch onto its base (aborts cleanly on conflict).
    Sync {
        name: String,
        /// On conflict, leave the rebase stopped in the worktree (and print how to finish or
        /// abort it) instead of aborting.
        #[arg(long)]
        keep_conflict: bool,
    },
    /// Remove a worktree (refuses uncommitted or unmerged work unless --force).
    Remove {
        name: String,
        /// Remove anyway; a backup ref is written first.
        #[arg(long)]
        force: bool,
        /// Delete its branch too (a backup ref is written first).
        #[arg(long)]
        delete_branch: bool,
    },
    /// List (or with --apply, clean) entries whose folders are gone.
    Prune {
        #[arg(long)]
        apply: bool,
        /// Also list worktrees whose sessions ended this many days ago (default 7).
        #[arg(long)]
        ended_days: Option<u64>,
    },
    /// Overlapping changes between worktrees and predicted conflicts.
    Conflicts {
        #[arg(long)]
        json: bool,
    },
    /// Which sessions are changing a file.
    WhoHas {
        /// Repository-relative path.
        path: String,
    },
    /// Complete or undo merges a crash interrupted in this repository now (the next merge or
    /// sync does it too), or --drop the records of those that cannot be recovered.
    Recover {
        /// Forget interrupted merges without touching git (check the checkouts yourself;
        /// each one's state before the merge stays in its backup ref).
        #[arg(long)]
        drop: bool,
    },
}

pub fn list(global: &Global, args: ListArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let all = worktree::list(&mut store)?;
    if args.json {
        return print_json(&all);
    }
    println!("{}", render::worktrees(&all));
    Ok(())
}

pub fn run(global: &Global, command: WorktreeCommand) -> Result<()> {
    let mut store = open_store(global)?;
    let here = std::env::current_dir()?;
    let me = agent::local_human(&here)?;
    match command {
        WorktreeCommand::Create {
            name,
            base,
            branch,
            session,
            json,
        } => {
            let created = worktree::create(
                &mut store,
                &me,
                &here,
                &NewWorktree {
                    name,
                    base,
                    branch,
                    session,
                },
            )?;
            if json {
                return print_json(&created);
            }
            println!("{}", render::created(&created));
        }
        WorktreeCommand::Diff { name, patch, json } => {
            let d = worktree::diff(&mut store, &name, patch)?;
            if json {
                return print_json(&d);
            }
            println!("{}", render::worktree_diff(&d));
        }
        WorktreeCommand::Merge {
            name,
            into,
            strategy,
            message,
            json,
        } => {
            let request = worktree::MergeRequest {
                into,
                strategy,
                message,
            };
            let m = worktree::merge(&mut store, &me, &name, &request)?;
            if json {
                return print_json(&m);
            }
            println!("{}", render::merged(&m));
        }
        WorktreeCommand::Sync {
            name,
            keep_conflict,
        } => {
            let s = worktree::sync(&mut store, &me, &name, keep_conflict)?;
            if let Some(stop) = &s.stopped {
                println!(
                    "the rebase stopped at a conflict in {}. {}",
                    stop.files.join(", "),
                    stop.resolve
                );
            } else if s.up_to_date {
                println!("{} already contains its base", s.branch);
            } else {
                println!(
                    "rebased {} onto {}; backup of the old branch: {}",
                    s.branch, s.onto, s.backup
                );
            }
        }
        WorktreeCommand::Remove {
            name,
            force,
            delete_branch,
        } => {
            let request = worktree::RemoveRequest {
                force,
                delete_branch,
            };
            let r = worktree::remove(&mut store, &me, &name, &request)?;
            println!("removed worktree {}", r.worktree.name);
            for backup in &r.backups {
                println!("backup: {backup}  (restore with: git branch <name> {backup})");
            }
        }
        WorktreeCommand::Prune { apply, ended_days } => {
            let request = worktree::PruneRequest { apply, ended_days };
            let r = worktree::prune(&mut store, &me, &here, &request)?;
            print_json(&r)?;
        }
        WorktreeCommand::Conflicts { json } => {
            let r = worktree::conflicts(&mut store)?;
            if json {
                return print_json(&r);
            }
            println!("{}", render::conflicts(&r));
        }
        WorktreeCommand::Recover { drop } => {
            let repo = switchboard_core::git::repo_paths(&here)?.main_root;
            let notes = if drop {
                worktree::drop_interrupted(&mut store, &me, &repo)?
            } else {
                worktree::recover(&mut store, &me, &repo)?
            };
            if notes.is_empty() {
                println!("no interrupted merges in {}", repo.display());
            }
            for note in notes {
                println!("{note}");
            }
        }
        WorktreeCommand::WhoHas { path } => {
            let found = claim::who_has(&mut store, &path)?;
            println!(
                "{}",
                render::who_has(
                    &found.path,
                    &found.claims,
                    &found.changing,
                    Timestamp::now()
                )
            );
        }
    }
    Ok(())
}
