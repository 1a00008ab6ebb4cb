//! "What now?" in one answer: an agent's session and task, its unread mail, its
//! worktree's state, its children's states, and what needs it. `status` and
//! `session_start` answer with it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::message::{self, InboxFilter, Priority};
use crate::session::{self, Filter, Session, Status};
use crate::worktree;
use crate::{Result, Store};

/// How many unread headers a briefing shows.
const NEWEST: u32 = 5;
/// Longest message preview, in characters.
const PREVIEW_CHARS: usize = 120;

/// Everything an agent needs to decide its next step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Briefing {
    /// Who you are.
    pub agent: String,
    /// Your session, if you have one.
    pub session: Option<SessionBrief>,
    /// Unread messages for you.
    pub unread: u64,
    /// The newest unread messages, briefly (message_get or inbox_read for the rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub newest: Vec<Header>,
    /// Your session's worktree, live; absent when it is on another host (`needs_you` then
    /// says which).
    pub worktree: Option<WorktreeState>,
    /// Files you changed that other live sessions are changing too, with their agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<SharedFile>,
    /// Your session's direct children (subtasks you spawned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Child>,
    /// What needs you now, most pressing first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs_you: Vec<String>,
}

/// A session, briefly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionBrief {
    /// Session id (`ses_` and a ULID).
    pub id: String,
    /// What the session is for, in its agent's words.
    pub intent: String,
    /// Its status now (`stale` judged when read).
    pub status: Status,
    /// Id of the session this one is a subtask of; `None` for a top-level session.
    pub parent: Option<String>,
    /// The agent of the parent session: the one to report to.
    pub parent_agent: Option<String>,
}

/// A message, briefly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Header {
    /// Message id (`msg_` and a ULID), for message_get.
    pub id: String,
    /// Participant name of its author.
    pub sender: String,
    /// Its subject; `None` when it has none.
    pub subject: Option<String>,
    /// The start of the body: its first 120 characters, `…` appended when cut; `(deleted)`
    /// for a deleted message.
    pub preview: String,
    /// How urgent its sender marked it.
    pub priority: Priority,
}

/// A worktree's live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorktreeState {
    /// Worktree name, unique in the repository (its folder name).
    pub name: String,
    /// Absolute path of the worktree's folder.
    pub path: String,
    /// The branch it was created with (by default `sb/<name>`).
    pub branch: String,
    /// Files with uncommitted changes.
    pub dirty: u32,
    /// Commits on its branch not on its base.
    pub ahead: u32,
    /// Commits on its base (the base branch's tip, else the base commit) it lacks.
    pub behind: u32,
    /// Files a merge into its base would conflict in now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

/// A file you and others are changing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SharedFile {
    /// Repository-relative path of the file.
    pub path: String,
    /// The agents of the other sessions changing it.
    pub agents: Vec<String>,
}

/// A child session, briefly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Child {
    /// Session id (`ses_` and a ULID).
    pub id: String,
    /// Name of the agent working it.
    pub agent: String,
    /// What it is for, in its agent's words.
    pub intent: String,
    /// Its status now (`stale` judged when read).
    pub status: Status,
    /// Name of its worktree; `None` when it has none.
    pub worktree: Option<String>,
    /// Commits on its worktree's branch not yet merged.
    pub unmerged: Option<u32>,
}

/// The briefing of `agent`, in `session` when it has one.
pub fn of(store: &mut Store, agent: &str, session: Option<&str>) -> Result<Briefing> {
    let inbox = message::inbox(
        store,
        agent,
        &InboxFilter {
            unread_only: true,
            limit: Some(NEWEST),
            ..Default::default()
        },
    )?;
    let newest: Vec<Header> = inbox.messages.iter().map(header).collect();
    let mut briefing = Briefing {
        agent: agent.to_string(),
        session: None,
        unread: inbox.unread,
        newest,
        worktree: None,
        shared: Vec::new(),
        children: Vec::new(),
        needs_you: Vec::new(),
    };
    if let Some(urgent) = inbox.messages.iter().find(|m| m.priority >= Priority::High) {
        briefing.needs_you.push(format!(
            "{} priority message {} from {}: read it (message_get)",
            urgent.priority.as_str(),
            urgent.id,
            urgent.sender
        ));
    }
    let Some(id) = session else {
        return Ok(briefing);
    };
    let own = session::get(store, id)?;
    let parent_agent = match &own.parent {
        Some(p) => Some(session::get(store, p)?.agent),
        None => None,
    };
    if let Some(w) = &own.worktree {
        match worktree::get(store, &w.name)?.other_host() {
            None => briefing.worktree = Some(worktree_state(store, &w.name)?),
            Some(host) => briefing.needs_you.push(format!(
                "your worktree {} is on host {host}, not this one: its files are there, work on \
                 them from {host}",
                w.name
            )),
        }
    }
    briefing.shared = session::shared_files(store, &own.id)?
        .into_iter()
        .map(|(path, agents)| SharedFile { path, agents })
        .collect();
    let children = session::list(
        store,
        &Filter {
            parent: Some(own.id.clone()),
            limit: Some(session::MAX_LIST_LIMIT),
            ..Default::default()
        },
    )?
    .sessions;
    for child in children {
        let unmerged = unmerged_of(store, &child);
        if let Some(need) = need_of(&child, unmerged) {
            briefing.needs_you.push(need);
        }
        briefing.children.push(Child {
            unmerged,
            worktree: child.worktree.as_ref().map(|w| w.name.clone()),
            id: child.id,
            agent: child.agent,
            intent: child.intent,
            status: child.status,
        });
    }
    if let Some(w) = &briefing.worktree
        && !w.conflicts.is_empty()
    {
        briefing.needs_you.push(format!(
            "your worktree would conflict with its base in {}: worktree_sync to rebase",
            w.conflicts.join(", ")
        ));
    }
    briefing.session = Some(SessionBrief {
        id: own.id,
        intent: own.intent,
        status: own.status,
        parent: own.parent,
        parent_agent,
    });
    Ok(briefing)
}

fn header(m: &message::Message) -> Header {
    let body = m.body.as_deref().unwrap_or("(deleted)");
    let mut preview: String = body.chars().take(PREVIEW_CHARS).collect();
    if body.chars().count() > PREVIEW_CHARS {
        preview.push('…');
    }
    Header {
        id: m.id.clone(),
        sender: m.sender.clone(),
        subject: m.subject.clone(),
        preview,
        priority: m.priority,
    }
}

/// What a child needs from its parent, if anything, given how many commits of its
/// worktree (if it still has one) are not merged yet.
fn need_of(child: &Session, unmerged: Option<u32>) -> Option<String> {
    let who = format!("{} ({})", child.agent, child.id);
    let worktree = child.worktree.as_ref().filter(|_| unmerged.is_some());
    let unmerged = unmerged.unwrap_or(0);
    match (child.status, worktree) {
        (Status::Stale, _) => Some(format!(
            "{who} is stale ({}): ask a human, or end it with session_end",
            child.stale_reason.as_deref().unwrap_or("no heartbeat")
        )),
        (Status::Completed, Some(w)) if unmerged > 0 => Some(format!(
            "{who} completed with {unmerged} unmerged commit(s): worktree_merge {{name: \"{}\"}}",
            w.name
        )),
        (Status::Failed, Some(w)) => Some(format!(
            "{who} failed ({}): look at worktree {} and remove it (worktree_remove) when done",
            child.end_reason.as_deref().unwrap_or("no reason given"),
            w.name
        )),
        _ => None,
    }
}

/// How many commits of `child`'s worktree are not merged yet: live when the worktree is
/// on this host (after a merge, nothing is left to merge), as its session last reported
/// when it is on another; `None` without a worktree, or when its folder is gone.
fn unmerged_of(store: &mut Store, child: &Session) -> Option<u32> {
    let w = child.worktree.as_ref()?;
    if worktree::get(store, &w.name).ok()?.other_host().is_some() {
        return child.work.as_ref().map(|work| work.unmerged);
    }
    worktree::status(store, &w.name)
        .ok()
        .filter(|s| s.git.exists)
        .map(|s| s.git.ahead)
}

/// The live state of worktree `name` (on this host).
fn worktree_state(store: &mut Store, name: &str) -> Result<WorktreeState> {
    let status = worktree::status(store, name)?;
    let conflicts = if status.git.exists {
        worktree::base_conflicts(&status.worktree)?
    } else {
        Vec::new()
    };
    Ok(WorktreeState {
        name: status.worktree.name,
        path: status.worktree.path,
        branch: status.worktree.branch,
        dirty: status.git.dirty,
        ahead: status.git.ahead,
        behind: status.git.behind,
        conflicts,
    })
}
