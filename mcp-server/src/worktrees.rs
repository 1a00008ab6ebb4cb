//! The worktree tools: one isolated checkout per session, its status and diff, merging
//! back, syncing, safe removal, and who is changing what.

use crate::args::Args;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::claim::{self, Claim};
use switchboard_core::clock::Timestamp;
use switchboard_core::session::Holder;
use switchboard_core::worktree::{
    self, ConflictReport, Created, MergeOutcome, MergeRequest, NewWorktree, PruneReport,
    PruneRequest, RemoveRequest, Removed, SyncOutcome, WorktreeDiff, WorktreeStatus,
};
use switchboard_core::{Error, render};

use crate::reply::Render;
use crate::schema;
use crate::server::SwitchboardServer;
use crate::views::{self, DiffView, MergeView};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SyncArgs {
    /// Default: your worktree.
    pub name: Option<String>,
    /// On conflict, leave the rebase stopped for you to resolve.
    pub keep_conflict: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DiffArgs {
    /// Default: your worktree.
    pub name: Option<String>,
    /// Include the patch (max 256 KiB).
    pub patch: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MergeArgs {
    /// Default: your worktree.
    pub name: Option<String>,
    #[serde(flatten)]
    pub merge: MergeRequest,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RemoveArgs {
    /// Default: your worktree.
    pub name: Option<String>,
    #[serde(flatten)]
    pub remove: RemoveRequest,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct WhoHasArgs {
    /// Repository-relative path.
    pub path: String,
}

/// Every worktree with live status.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WorktreeList {
    #[serde(serialize_with = "views::worktrees")]
    #[schemars(with = "Vec<views::WorktreeLine>")]
    pub worktrees: Vec<WorktreeStatus>,
}

/// Who is changing a file.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Holders {
    pub path: String,
    /// Claims covering it: check before editing.
    #[serde(serialize_with = "views::claim_lines")]
    #[schemars(with = "Vec<views::ClaimLine>")]
    pub claims: Vec<Claim>,
    /// Sessions changing it.
    #[serde(serialize_with = "views::holders")]
    #[schemars(with = "Vec<views::HolderView>")]
    pub holders: Vec<Holder>,
}

impl Render for Created {
    fn render(&self) -> String {
        render::created(self)
    }
}

impl Render for WorktreeList {
    fn render(&self) -> String {
        render::worktrees(&self.worktrees)
    }
}

impl Render for WorktreeDiff {
    fn render(&self) -> String {
        render::worktree_diff(self)
    }
}

impl Render for MergeOutcome {
    fn render(&self) -> String {
        render::merged(self)
    }
}

impl Render for SyncOutcome {
    fn render(&self) -> String {
        let mut text = if self.up_to_date {
            format!("{} already contains its base", self.branch)
        } else {
            format!(
                "rebased {} onto {}; backup of the old branch: {}",
                self.branch, self.onto, self.backup
            )
        };
        for note in &self.recovered {
            text.push_str(&format!("\nbefore this sync: {note}"));
        }
        text
    }
}

impl Render for Removed {
    fn render(&self) -> String {
        let mut text = format!("removed worktree {}", self.worktree.name);
        if self.branch_deleted {
            text.push_str(&format!(" and branch {}", self.worktree.branch));
        }
        if !self.backups.is_empty() {
            text.push_str(&format!("; restore from {}", self.backups.join(", ")));
        }
        text
    }
}

impl Render for PruneReport {
    fn render(&self) -> String {
        let mut text = format!(
            "{}stale git entries: {}; missing folders: {}; worktrees of long-ended sessions: {}",
            if self.dry_run {
                "dry run — nothing changed. "
            } else {
                ""
            },
            self.stale_admin_entries.len(),
            self.missing_folders.join(", "),
            self.idle.join(", ")
        );
        if !self.other_hosts.is_empty() {
            text.push_str(&format!(
                "; left alone on other hosts: {}",
                self.other_hosts.join(", ")
            ));
        }
        text
    }
}

impl Render for ConflictReport {
    fn render(&self) -> String {
        render::conflicts(self)
    }
}

impl Render for Holders {
    fn render(&self) -> String {
        render::who_has(&self.path, &self.claims, &self.holders, Timestamp::now())
    }
}

fn actor(st: &crate::server::State) -> Result<String, Error> {
    Ok(st.identity.agent()?.to_string())
}

/// The worktree `name`, or by default the caller's own.
fn own_or(st: &mut crate::server::State, name: Option<String>) -> Result<String, Error> {
    worktree::named_or_own(&mut st.store, name, st.identity.session.as_deref())
}

#[tool_router(router = worktree_tools, vis = "pub(crate)")]
impl SwitchboardServer {
    /// Create a worktree for your session, from your HEAD.
    #[tool(
        input_schema = schema::input::<NewWorktree>(),
        output_schema = schema::output::<Created>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn worktree_create(&self, Args(new): Args<NewWorktree>) -> CallToolResult {
        self.run(move |st| {
            let me = actor(st)?;
            let new = NewWorktree {
                session: st.identity.session.clone(),
                ..new
            };
            worktree::create(&mut st.store, &me, &st.checkout, &new)
        })
        .await
    }

    /// Worktrees with live status: branch, ahead/behind, dirty files, last commit, agent.
    #[tool(
        output_schema = schema::output::<WorktreeList>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn worktree_list(&self) -> CallToolResult {
        self.run(|st| {
            Ok(WorktreeList {
                worktrees: worktree::list(&mut st.store)?,
            })
        })
        .await
    }

    /// A worktree's changes against its base: files, uncommitted, unmerged commits, optional patch.
    #[tool(
        input_schema = schema::input::<DiffArgs>(),
        output_schema = schema::output::<DiffView>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn worktree_diff(&self, Args(args): Args<DiffArgs>) -> CallToolResult {
        self.run_lean::<DiffView, _, _>(move |st| {
            let name = own_or(st, args.name)?;
            worktree::diff(&mut st.store, &name, args.patch.unwrap_or(false))
        })
        .await
    }

    /// Merge a worktree's branch back; refuses (changing nothing) on conflict or dirty target files. Keeps a backup ref.
    #[tool(
        input_schema = schema::input::<MergeArgs>(),
        output_schema = schema::output::<MergeView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn worktree_merge(&self, Args(args): Args<MergeArgs>) -> CallToolResult {
        self.run_lean::<MergeView, _, _>(move |st| {
            let me = actor(st)?;
            let name = own_or(st, args.name)?;
            worktree::merge(&mut st.store, &me, &name, &args.merge)
        })
        .await
    }

    /// Rebase a worktree onto its base's tip; on conflict aborts, changing nothing (keep_conflict: stop there to resolve).
    #[tool(
        input_schema = schema::input::<SyncArgs>(),
        output_schema = schema::output::<SyncOutcome>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn worktree_sync(&self, Args(args): Args<SyncArgs>) -> CallToolResult {
        self.run(move |st| {
            let me = actor(st)?;
            let name = own_or(st, args.name)?;
            worktree::sync(
                &mut st.store,
                &me,
                &name,
                args.keep_conflict.unwrap_or(false),
            )
        })
        .await
    }

    /// Remove a worktree; refuses uncommitted or unmerged work (listing it) unless force. Keeps a backup ref.
    #[tool(
        input_schema = schema::input::<RemoveArgs>(),
        output_schema = schema::output::<Removed>(),
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    async fn worktree_remove(&self, Args(args): Args<RemoveArgs>) -> CallToolResult {
        self.run(move |st| {
            let me = actor(st)?;
            let name = own_or(st, args.name)?;
            worktree::remove(&mut st.store, &me, &name, &args.remove)
        })
        .await
    }

    /// List (apply: clean) worktrees whose folders are gone or whose sessions ended long ago.
    #[tool(
        input_schema = schema::input::<PruneRequest>(),
        output_schema = schema::output::<PruneReport>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn worktree_prune(&self, Args(request): Args<PruneRequest>) -> CallToolResult {
        self.run(move |st| {
            let me = actor(st)?;
            worktree::prune(&mut st.store, &me, &st.checkout, &request)
        })
        .await
    }

    /// Conflict radar: overlapping changes between worktrees and bases, and which merges would conflict.
    #[tool(
        output_schema = schema::output::<ConflictReport>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn worktree_conflicts(&self) -> CallToolResult {
        self.run(|st| worktree::conflicts(&mut st.store)).await
    }

    /// Who claims a file and who is changing it (as of their last Switchboard call).
    #[tool(
        input_schema = schema::input::<WhoHasArgs>(),
        output_schema = schema::output::<Holders>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn who_has(&self, Args(args): Args<WhoHasArgs>) -> CallToolResult {
        self.run(move |st| {
            let found = claim::who_has(&mut st.store, &args.path)?;
            Ok(Holders {
                path: found.path,
                claims: found.claims,
                holders: found.changing,
            })
        })
        .await
    }
}
