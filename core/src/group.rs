//! Groups: named sets of agents and roles, addressed as `@name`. `@everyone` is built in
//! and cannot be defined. Members are agent names or `role:<role>`; a role member stands
//! for every agent holding that role when a message is sent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent;
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::store::Tx;
use crate::{Error, Result, Store};

const ROLE_PREFIX: &str = "role:";

/// What a group member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    /// One participant (an agent or `human:<name>`), registered when it was added.
    Agent,
    /// Every agent holding the role when a message is sent to the group.
    Role,
}

/// One member: an agent, or every agent with a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Member {
    /// The participant name for an agent member; the role (without `role:`) for a role
    /// member.
    pub name: String,
    /// Whether `name` is a participant or a role.
    pub kind: MemberKind,
}

impl Member {
    /// Parses `name` (an agent) or `role:<role>`.
    pub fn parse(text: &str) -> Result<Member> {
        let text = text.trim();
        if let Some(role) = text.strip_prefix(ROLE_PREFIX) {
            agent::validate_role(role)?;
            return Ok(Member {
                name: role.to_string(),
                kind: MemberKind::Role,
            });
        }
        agent::validate_name(text)?;
        Ok(Member {
            name: text.to_string(),
            kind: MemberKind::Agent,
        })
    }
}

/// A group and its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Group {
    /// Group name, unique in the repository (a-z, 0-9, `_` and `-`, not reserved); it is
    /// addressed as `@name`.
    pub name: String,
    /// What the group is for, as its creator wrote it; `None` when none was given.
    pub description: Option<String>,
    /// The members as defined, not expanded: agent members first, then roles, each by name.
    pub members: Vec<Member>,
    /// Participant name of its creator, who (like any human) may change or delete it.
    pub created_by: String,
    /// When it was created (RFC 3339 UTC).
    pub created_at: Timestamp,
}

/// Checks a group name: the agent-name characters, not a reserved word.
pub fn validate_name(name: &str) -> Result<()> {
    agent::validate_role(name).map_err(|_| {
        Error::Invalid(format!(
            "'{}' is not a valid group name: use 1-32 characters of a-z, 0-9, '_' and '-'",
            crate::input::shown(name)
        ))
    })?;
    if agent::RESERVED_NAMES.contains(&name) {
        return Err(Error::Invalid(format!(
            "'{name}' is reserved; pick another group name"
        )));
    }
    Ok(())
}

/// Loads a group, or `None`.
pub(crate) fn find(tx: &Tx<'_>, name: &str) -> Result<Option<Group>> {
    tx.fetch_group(name)
}

/// Every group's name, in order.
pub(crate) fn names(tx: &Tx<'_>) -> Result<Vec<String>> {
    tx.group_names()
}

fn require(tx: &Tx<'_>, name: &str) -> Result<Group> {
    find(tx, name)?.ok_or_else(|| Error::NotFound {
        kind: crate::error::Record::Group,
        id: name.to_string(),
    })
}

/// Adds members; agent members must be registered.
fn add_members(tx: &Tx<'_>, group: &str, members: &[Member]) -> Result<()> {
    for m in members {
        if m.kind == MemberKind::Agent {
            agent::require(tx, &m.name)?;
        }
        tx.insert_group_member(group, m)?;
    }
    Ok(())
}

fn parse_all(members: &[String]) -> Result<Vec<Member>> {
    members.iter().map(|m| Member::parse(m)).collect()
}

/// Creates a group with initial members (agent names or `role:<role>`).
pub fn create(
    store: &mut Store,
    actor: &str,
    name: &str,
    description: Option<&str>,
    members: &[String],
) -> Result<Group> {
    validate_name(name)?;
    let members = parse_all(members)?;
    store.write(|tx| {
        if find(tx, name)?.is_some() {
            return Err(Error::Conflict(format!(
                "group '{name}' already exists; change its members instead"
            )));
        }
        let now = Timestamp::now();
        tx.insert_group(name, description, actor, now)?;
        add_members(tx, name, &members)?;
        let group = require(tx, name)?;
        event::append(tx, Kind::GroupChanged, Some(actor), &group, now)?;
        Ok(group)
    })
}

/// Adds and removes members of an existing group.
pub fn update(
    store: &mut Store,
    actor: &str,
    name: &str,
    add: &[String],
    remove: &[String],
) -> Result<Group> {
    let add = parse_all(add)?;
    let remove = parse_all(remove)?;
    if add.is_empty() && remove.is_empty() {
        return Err(Error::Invalid(
            "nothing to change: give members to add and/or remove".into(),
        ));
    }
    store.write(|tx| {
        let before = require(tx, name)?;
        // A role member never counts as the actor itself.
        let changed: Vec<&str> = add
            .iter()
            .chain(&remove)
            .map(|m| match m.kind {
                MemberKind::Agent => m.name.as_str(),
                MemberKind::Role => "role:",
            })
            .collect();
        crate::permission::change_group(actor, name, &before.created_by, &changed)?;
        if let Some(missing) = remove.iter().find(|m| !before.members.contains(m)) {
            return Err(Error::Invalid(format!(
                "'{}' is not a member of group '{name}'",
                missing.name
            )));
        }
        for m in &remove {
            tx.delete_group_member(name, m)?;
        }
        add_members(tx, name, &add)?;
        let group = require(tx, name)?;
        event::append(
            tx,
            Kind::GroupChanged,
            Some(actor),
            &group,
            Timestamp::now(),
        )?;
        Ok(group)
    })
}

/// Deletes a group (messages already sent to it keep their recipients).
pub fn delete(store: &mut Store, actor: &str, name: &str) -> Result<Group> {
    store.write(|tx| {
        let group = require(tx, name)?;
        crate::permission::delete_group(actor, name, &group.created_by)?;
        tx.delete_group(name)?;
        event::append(
            tx,
            Kind::GroupDeleted,
            Some(actor),
            &group,
            Timestamp::now(),
        )?;
        Ok(group)
    })
}

/// Every group, by name.
pub fn list(store: &mut Store) -> Result<Vec<Group>> {
    store.read(|tx| names(tx)?.iter().map(|n| require(tx, n)).collect())
}

/// The agents a group stands for now: its agent members plus every agent holding one of
/// its roles.
pub(crate) fn expand(tx: &Tx<'_>, group: &Group) -> Result<Vec<String>> {
    let mut agents = Vec::new();
    for m in &group.members {
        match m.kind {
            MemberKind::Agent => agents.push(m.name.clone()),
            MemberKind::Role => agents.extend(agent::with_role(tx, &m.name)?),
        }
    }
    agents.sort();
    agents.dedup();
    Ok(agents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Registration;

    fn register(store: &mut Store, name: &str, role: Option<&str>) {
        agent::register(
            store,
            name,
            &Registration {
                name: name.into(),
                role: role.map(Into::into),
                description: None,
            },
        )
        .unwrap();
    }

    crate::every_backend! {
        fn groups_hold_agents_and_roles_and_expand_to_agents(backend) {
            let (_dir, mut store) = scratch_store(backend);
            register(&mut store, "ann", Some("reviewer"));
            register(&mut store, "bob", Some("reviewer"));
            register(&mut store, "cat", None);
            let g = create(
                &mut store,
                "cat",
                "core",
                Some("core team"),
                &["cat".into(), "role:reviewer".into()],
            )
            .unwrap();
            assert_eq!(g.members.len(), 2);
            let agents = store.read(|tx| expand(tx, &g)).unwrap();
            assert_eq!(agents, ["ann", "bob", "cat"]);
            let g = update(&mut store, "cat", "core", &[], &["role:reviewer".into()]).unwrap();
            assert_eq!(
                g.members,
                [Member {
                    name: "cat".into(),
                    kind: MemberKind::Agent
                }]
            );
            assert_eq!(list(&mut store).unwrap().len(), 1);
            delete(&mut store, "cat", "core").unwrap();
            assert!(list(&mut store).unwrap().is_empty());
        }
    }

    crate::every_backend! {
        fn group_refusals_name_the_problem(backend) {
            let (_dir, mut store) = scratch_store(backend);
            register(&mut store, "ann", None);
            assert!(
                create(&mut store, "ann", "everyone", None, &[])
                    .unwrap_err()
                    .to_string()
                    .contains("reserved")
            );
            assert!(
                create(&mut store, "ann", "Bad", None, &[])
                    .unwrap_err()
                    .to_string()
                    .contains("not a valid group name")
            );
            let unknown = create(&mut store, "ann", "g", None, &["ghost".into()]).unwrap_err();
            assert!(
                unknown.to_string().contains("no agent matches 'ghost'"),
                "{unknown}"
            );
            assert!(
                list(&mut store).unwrap().is_empty(),
                "a refused create leaves nothing"
            );
            create(&mut store, "ann", "g", None, &["ann".into()]).unwrap();
            assert!(
                create(&mut store, "ann", "g", None, &[])
                    .unwrap_err()
                    .to_string()
                    .contains("already exists")
            );
            assert!(
                update(&mut store, "ann", "g", &[], &["bob".into()])
                    .unwrap_err()
                    .to_string()
                    .contains("not a member")
            );
            assert!(matches!(
                delete(&mut store, "ann", "nope"),
                Err(Error::NotFound { .. })
            ));
        }
    }
}
