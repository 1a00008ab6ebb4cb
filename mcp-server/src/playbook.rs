//! The server's `instructions`: a short playbook, opened by who the agent is when the
//! server knows it (a server bound to a spawned session says which, so the agent works in
//! it instead of starting another).

use switchboard_core::{Store, session};

use crate::identity::Identity;

/// The steps every agent receives.
pub const INSTRUCTIONS: &str = "\
Switchboard coordinates coding agents on one repository.
1. session_start {intent} first; in a session you already have (e.g. a spawned worktree) it continues it.
2. status: your task, unread mail, worktree, subtasks, what needs you.
3. Subtasks: session_spawn (worktree: true gives a checkout); merge with worktree_diff then worktree_merge. Alternatives: session_fork.
4. Talk: message_send (names, human:<name>, @group, @role, @everyone), message_reply, message_wait (each message once), message_read when handled. switchboard notifies you when subtasks end or have commits to merge.
5. Files: claim_add {patterns, reason} before editing what others may touch; claim_release when done. who_has shows claims and edits.
6. Done: session_end {status, reason}.
Ids accept a unique prefix (usually 10+ characters).";

/// The instructions for a server acting as `identity`: who it is, then [`INSTRUCTIONS`].
/// `human` is the repository's person, when known.
pub(crate) fn instructions(store: &mut Store, identity: &Identity, human: Option<&str>) -> String {
    let mut lines = Vec::new();
    if let Some(who) = who(store, identity) {
        lines.push(who);
    }
    if let Some(human) = human {
        lines.push(format!("The repository's human is {human}."));
    }
    lines.push(INSTRUCTIONS.to_string());
    lines.join("\n")
}

/// "You are …": the agent's name and, when bound, its session, task, parent and worktree.
fn who(store: &mut Store, identity: &Identity) -> Option<String> {
    let name = identity.agent.as_deref()?;
    let Some(id) = identity.session.as_deref() else {
        let origin = if identity.provisional {
            " (a name of this agent instance; other instances get their own)"
        } else {
            ""
        };
        return Some(format!("You are '{name}'{origin}."));
    };
    let Ok(s) = session::get(store, id) else {
        return Some(format!("You are '{name}', in session {id}."));
    };
    let mut text = format!(
        "You are '{name}', already in session {} (\"{}\")",
        s.id, s.intent
    );
    if let Some(parent) = s.parent.as_deref() {
        let by = session::get(store, parent)
            .map(|p| format!(" by '{}'", p.agent))
            .unwrap_or_default();
        text.push_str(&format!(", a subtask of {parent}{by}"));
    }
    text.push('.');
    if let Some(w) = &s.worktree {
        text.push_str(&format!(
            " Your worktree: {} (branch {}); work and commit there.",
            w.path, w.branch
        ));
    }
    Some(text)
}
