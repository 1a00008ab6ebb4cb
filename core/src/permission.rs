//! Who may change what. Authorization follows identity:
//!
//! - an agent changes only its own agent record and its own sessions;
//! - the agent of a session's parent may also end that session (a lead stops its workers);
//! - a worktree belongs to the agent of its session (or, without a session, to whoever
//!   created it): its owner, the agent of the session's parent and humans may merge, sync
//!   or remove it, forced or not;
//! - a group may be changed or deleted by whoever created it and by humans; anyone may add
//!   or remove themselves (join or leave);
//! - a human (`human:<name>`) may do all of this; every change records its actor.
//!
//! Reading is open to every participant. Each refusal says who may do it instead.

use crate::name::{self, AgentKind};
use crate::store::Tx;
use crate::{Error, Result};

/// Whether `name` is a person (`human:<name>`).
pub fn is_human(name: &str) -> bool {
    matches!(name::validate_name(name), Ok(AgentKind::Human))
}

/// The agent of `session`'s parent session, if it has one.
pub(crate) fn parent_agent(tx: &Tx<'_>, session: &str) -> Result<Option<String>> {
    tx.session_parent_agent(session)
}

/// Who may act on something: its owner and possibly the agent of its parent session.
struct Holders<'a> {
    owner: &'a str,
    parent: Option<&'a str>,
}

impl Holders<'_> {
    fn allows(&self, actor: &str, parent_too: bool) -> bool {
        actor == self.owner
            || is_human(actor)
            || (parent_too && self.parent.is_some_and(|p| p == actor))
    }

    /// "'alpha', 'lead' (its parent's agent) or a human".
    fn describe(&self, parent_too: bool) -> String {
        match self.parent.filter(|p| parent_too && *p != self.owner) {
            Some(parent) => format!(
                "its owner '{}', '{parent}' (the agent of its parent session) or a human",
                self.owner
            ),
            None => format!("its owner '{}' or a human", self.owner),
        }
    }
}

fn refuse(actor: &str, doing: &str, holders: &Holders<'_>, parent_too: bool) -> Error {
    Error::Forbidden(format!(
        "you ('{actor}') may not {doing}: only {} may. Message them (message_send) to ask.",
        holders.describe(parent_too)
    ))
}

/// `actor` may change (`session_update`) the session `id` of `owner`.
pub(crate) fn update_session(actor: &str, id: &str, owner: &str) -> Result<()> {
    let holders = Holders {
        owner,
        parent: None,
    };
    if holders.allows(actor, false) {
        return Ok(());
    }
    Err(refuse(
        actor,
        &format!("change session {id}"),
        &holders,
        false,
    ))
}

/// `actor` may end the session `id` of `owner`, whose parent session's agent is `parent`.
pub(crate) fn end_session(actor: &str, id: &str, owner: &str, parent: Option<&str>) -> Result<()> {
    let holders = Holders { owner, parent };
    if holders.allows(actor, true) {
        return Ok(());
    }
    Err(refuse(actor, &format!("end session {id}"), &holders, true))
}

/// `actor` may register or change the participant `name`.
pub(crate) fn register_agent(actor: &str, name: &str) -> Result<()> {
    if actor == name || is_human(actor) {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "you ('{actor}') may not register or change '{name}': an agent registers only itself \
         (omit name or pass '{actor}'); a human may register others"
    )))
}

/// `actor` may `doing` ("merge", "sync", "remove") the worktree `name` of `owner`, whose
/// session's parent agent is `parent`.
pub(crate) fn change_worktree(
    actor: &str,
    doing: &str,
    name: &str,
    owner: &str,
    parent: Option<&str>,
) -> Result<()> {
    let holders = Holders { owner, parent };
    if holders.allows(actor, true) {
        return Ok(());
    }
    Err(refuse(
        actor,
        &format!("{doing} worktree '{name}'"),
        &holders,
        true,
    ))
}

/// `actor` may change the members of group `name` (created by `creator`): any change
/// if it is the creator or a human, else only adding or removing itself (`members`).
pub(crate) fn change_group(actor: &str, name: &str, creator: &str, members: &[&str]) -> Result<()> {
    let holders = Holders {
        owner: creator,
        parent: None,
    };
    if holders.allows(actor, false) || members.iter().all(|m| *m == actor) {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "you ('{actor}') may only add or remove yourself in group '{name}': other changes are for \
         {}",
        holders.describe(false)
    )))
}

/// `actor` may delete group `name` (created by `creator`).
pub(crate) fn delete_group(actor: &str, name: &str, creator: &str) -> Result<()> {
    let holders = Holders {
        owner: creator,
        parent: None,
    };
    if holders.allows(actor, false) {
        return Ok(());
    }
    Err(refuse(
        actor,
        &format!("delete group '{name}'"),
        &holders,
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_parents_and_humans_may_end_others_may_not() {
        assert!(end_session("alpha", "ses_1", "alpha", Some("lead")).is_ok());
        assert!(end_session("lead", "ses_1", "alpha", Some("lead")).is_ok());
        assert!(end_session("human:ada", "ses_1", "alpha", Some("lead")).is_ok());
        let err = end_session("beta", "ses_1", "alpha", Some("lead"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'alpha'") && err.contains("'lead'") && err.contains("human"),
            "{err}"
        );
    }

    #[test]
    fn only_owners_and_humans_may_update_a_session() {
        assert!(update_session("alpha", "ses_1", "alpha").is_ok());
        assert!(update_session("human:ada", "ses_1", "alpha").is_ok());
        let err = update_session("lead", "ses_1", "alpha")
            .unwrap_err()
            .to_string();
        assert!(err.contains("only its owner 'alpha' or a human"), "{err}");
    }

    #[test]
    fn agents_register_only_themselves() {
        assert!(register_agent("alpha", "alpha").is_ok());
        assert!(register_agent("human:ada", "alpha").is_ok());
        assert!(register_agent("alpha", "beta").is_err());
    }

    #[test]
    fn group_members_may_join_and_leave_but_not_change_others() {
        assert!(change_group("alpha", "team", "lead", &["alpha"]).is_ok());
        assert!(change_group("lead", "team", "lead", &["beta"]).is_ok());
        assert!(change_group("alpha", "team", "lead", &["beta"]).is_err());
        assert!(delete_group("alpha", "team", "lead").is_err());
        assert!(delete_group("human:ada", "team", "lead").is_ok());
    }
}
