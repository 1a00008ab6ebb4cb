//! Agents (and humans) taking part in a repository's work.
//!
//! Names: `[a-z0-9][a-z0-9_-]{0,31}`, not reserved; humans are `human:<name>` with the
//! same rule for `<name>`. The kind follows from the name.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::event::{self, Kind};
pub use crate::name::{AgentKind, RESERVED_NAMES, validate_name};
use crate::name::{HUMAN_PREFIX, MAX_NAME_LEN, check_slug};
use crate::store::Tx;
use crate::{Error, Result, Store};

/// The sender of Switchboard's own notices; never listed, never a recipient.
pub const SYSTEM: &str = "switchboard";
const MAX_DESCRIPTION_LEN: usize = 2000;

/// A registered participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Agent {
    /// Participant name, unique in the repository: `[a-z0-9][a-z0-9_-]{0,31}` and not
    /// reserved for an agent, `human:<name>` with the same rule for a person.
    pub name: String,
    /// Agent or human; follows from the name.
    pub kind: AgentKind,
    /// What the agent does, e.g. `reviewer` (same characters as a name); a group member
    /// `role:<role>` stands for every agent holding it. `None` when never set.
    pub role: Option<String>,
    /// What the participant said about itself, at most 2000 characters; `None` when never
    /// set.
    pub description: Option<String>,
    /// When it was first registered (RFC 3339 UTC).
    pub registered_at: Timestamp,
    /// When it last registered again or was active in one of its sessions (claim,
    /// heartbeat, tool call), RFC 3339 UTC. Lists of participants are newest first by it.
    pub last_seen_at: Timestamp,
    /// Sessions of this agent that are active and not stale.
    pub live_sessions: u32,
}

/// Length of the random suffix that makes an instance's name its own.
const INSTANCE_SUFFIX_LEN: usize = 4;

/// A readable name of its own for one agent instance: the product behind `client` (an MCP
/// client's `clientInfo.name` such as `claude-code`, or an agent name such as
/// `claude-k3f9`) plus a random suffix, e.g. `claude-m2p7`. Two instances started from
/// one committed configuration thus never share a name (and an inbox).
pub fn instance_name(client: &str) -> String {
    let suffix: String = ulid::Ulid::generate()
        .to_string()
        .to_ascii_lowercase()
        .chars()
        .rev()
        .take(INSTANCE_SUFFIX_LEN)
        .collect();
    format!("{}-{suffix}", product_of(client))
}

/// An [`instance_name`] for `client` that no participant has yet (a few tries; the
/// suffix makes a clash rare in the first place).
pub fn free_instance_name(store: &mut Store, client: &str) -> String {
    let mut name = instance_name(client);
    for _ in 0..8 {
        if get(store, &name).is_err() {
            break;
        }
        name = instance_name(client);
    }
    name
}

/// The short product name of an MCP client or agent name: `claude-code` → `claude`,
/// `codex-mcp-client` → `codex`, `Visual Studio Code` → `copilot`, `claude-k3f9` →
/// `claude`; otherwise the client's first word, else `agent`.
fn product_of(client: &str) -> String {
    let lower = client.to_ascii_lowercase();
    const KNOWN: &[(&str, &str)] = &[
        ("claude", "claude"),
        ("codex", "codex"),
        ("gemini", "gemini"),
        ("cursor", "cursor"),
        ("visual studio code", "copilot"),
        ("vscode", "copilot"),
        ("copilot", "copilot"),
        ("windsurf", "windsurf"),
        ("zed", "zed"),
    ];
    if let Some((_, product)) = KNOWN.iter().find(|(needle, _)| lower.contains(needle)) {
        return (*product).to_string();
    }
    let word: String = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .chars()
        .take(MAX_NAME_LEN - INSTANCE_SUFFIX_LEN - 1)
        .collect();
    if word.is_empty() || RESERVED_NAMES.contains(&word.as_str()) {
        "agent".into()
    } else {
        word
    }
}

/// Validates a role name (same characters as agent names; nothing reserved).
pub fn validate_role(role: &str) -> Result<()> {
    check_slug("role", role)
}

/// The participant name for a person, derived from e.g. git's `user.name`:
/// `"Ada Lovelace"` → `human:ada-lovelace`.
pub fn human_name(display_name: &str) -> Result<String> {
    let mut slug = String::new();
    for c in display_name.trim().chars().flat_map(char::to_lowercase) {
        // A name starts with a letter or digit: a leading '_' is dropped like any separator.
        if c.is_ascii_alphanumeric() || (c == '_' && !slug.is_empty()) {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug
        .trim_end_matches('-')
        .chars()
        .take(MAX_NAME_LEN)
        .collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        return Err(Error::Invalid(format!(
            "cannot make a human name from '{display_name}': use letters or digits"
        )));
    }
    Ok(format!("{HUMAN_PREFIX}{slug}"))
}

/// The local person's participant name: `human:` + git's `user.name` as seen from `dir`
/// (repository config, then global), else `$USER`, else `human:local`.
pub fn local_human(dir: &std::path::Path) -> Result<String> {
    let from_git = git2::Repository::discover(dir)
        .and_then(|repo| repo.config())
        .or_else(|_| git2::Config::open_default())
        .and_then(|config| config.get_string("user.name"))
        .ok()
        .filter(|n| !n.trim().is_empty());
    let name = from_git
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "local".into());
    human_name(&name)
}

/// Registers the repository's person as seen from `dir` (see [`local_human`]), so agents
/// can message them before they ever use the CLI; returns their name.
pub fn register_local_human(store: &mut Store, dir: &std::path::Path) -> Result<String> {
    let name = local_human(dir)?;
    let registration = Registration {
        name: name.clone(),
        ..Default::default()
    };
    register(store, &name, &registration)?;
    Ok(name)
}

/// What `register` records. `None` fields keep their current value.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// Participant name to register or update (see [`validate_name`]).
    pub name: String,
    /// The role to set (checked by [`validate_role`]); `None` keeps the current one.
    pub role: Option<String>,
    /// The description to set, at most 2000 characters; `None` keeps the current one.
    pub description: Option<String>,
}

/// Registers a participant, or updates the given fields of an existing one, as `actor`
/// (see [`crate::permission`]: an agent registers only itself). Idempotent: registering
/// the same thing again changes nothing and writes no event.
pub fn register(store: &mut Store, actor: &str, reg: &Registration) -> Result<Agent> {
    validate_name(&reg.name)?;
    crate::permission::register_agent(actor, &reg.name)?;
    if let Some(role) = &reg.role {
        validate_role(role)?;
    }
    if let Some(d) = &reg.description
        && d.chars().count() > MAX_DESCRIPTION_LEN
    {
        return Err(Error::Invalid(format!(
            "description is longer than {MAX_DESCRIPTION_LEN} characters; shorten it"
        )));
    }
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        ensure(tx, reg, actor, Timestamp::now())?;
        fetch(tx, &reg.name, cutoff)
    })
}

/// Inserts or updates an agent inside a transaction; writes an event (by `actor`) only on
/// change.
pub(crate) fn ensure(tx: &Tx<'_>, reg: &Registration, actor: &str, now: Timestamp) -> Result<()> {
    let kind = validate_name(&reg.name)?;
    let before = tx.fetch_agent_profile(&reg.name)?;
    tx.upsert_agent(reg, kind, now)?;
    let changed = match &before {
        None => true,
        Some((role, description)) => {
            reg.role.as_ref().is_some_and(|r| Some(r) != role.as_ref())
                || reg
                    .description
                    .as_ref()
                    .is_some_and(|d| Some(d) != description.as_ref())
        }
    };
    if changed {
        let payload = event::AgentRegistered {
            name: reg.name.clone(),
            kind: kind.as_str().to_string(),
            role: reg.role.clone(),
            description: reg.description.clone(),
            new: before.is_none(),
        };
        event::append(tx, Kind::AgentRegistered, Some(actor), &payload, now)?;
    }
    Ok(())
}

/// Marks an agent as seen now (bookkeeping; no event).
pub(crate) fn touch(tx: &Tx<'_>, name: &str, now: Timestamp) -> Result<()> {
    tx.touch_agent(name, now)
}

fn not_found(name: &str) -> Error {
    Error::NotFound {
        kind: crate::error::Record::Agent,
        id: name.to_string(),
    }
}

pub(crate) fn fetch(tx: &Tx<'_>, name: &str, cutoff: Timestamp) -> Result<Agent> {
    tx.fetch_agent(name, cutoff)?.ok_or_else(|| not_found(name))
}

/// Refuses a name that is not registered.
pub(crate) fn require(tx: &Tx<'_>, name: &str) -> Result<()> {
    if tx.agent_exists(name)? {
        Ok(())
    } else {
        Err(not_found(name))
    }
}

/// Every agent currently holding `role`.
pub(crate) fn with_role(tx: &Tx<'_>, role: &str) -> Result<Vec<String>> {
    tx.agents_with_role(role)
}

/// Every registered participant's name (not [`SYSTEM`]), most recently seen first.
pub(crate) fn all_names(tx: &Tx<'_>) -> Result<Vec<String>> {
    tx.agent_names(SYSTEM)
}

/// One agent by exact name.
pub fn get(store: &mut Store, name: &str) -> Result<Agent> {
    validate_name(name)?;
    let cutoff = store.stale_cutoff();
    store.read(|tx| fetch(tx, name, cutoff))
}

/// Every registered participant, most recently seen first.
pub fn list(store: &mut Store) -> Result<Vec<Agent>> {
    let cutoff = store.stale_cutoff();
    store.read(|tx| tx.list_agents(SYSTEM, cutoff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_are_readable_valid_and_distinct() {
        for (client, product) in [
            ("claude-code", "claude"),
            ("codex-mcp-client", "codex"),
            ("gemini-cli-mcp-client", "gemini"),
            ("Visual Studio Code", "copilot"),
            ("claude-k3f9", "claude"),
            ("mcp", "mcp"),
            ("", "agent"),
            ("Everyone!", "agent"),
        ] {
            let a = instance_name(client);
            let b = instance_name(client);
            assert!(a.starts_with(&format!("{product}-")), "{client} -> {a}");
            assert_eq!(validate_name(&a).unwrap(), AgentKind::Agent, "{a}");
            assert_ne!(a, b, "two instances of {client} got one name");
        }
    }

    #[test]
    fn name_rules_table() {
        let cases: &[(&str, Option<AgentKind>)] = &[
            ("claude", Some(AgentKind::Agent)),
            ("codex-2", Some(AgentKind::Agent)),
            ("a", Some(AgentKind::Agent)),
            ("9lives", Some(AgentKind::Agent)),
            ("under_score", Some(AgentKind::Agent)),
            (&"x".repeat(32), Some(AgentKind::Agent)),
            ("human:ada", Some(AgentKind::Human)),
            ("human:ada-lovelace", Some(AgentKind::Human)),
            (&"x".repeat(33), None),
            ("", None),
            ("Claude", None),
            ("-lead", None),
            ("_lead", None),
            ("has space", None),
            ("dot.name", None),
            ("slash/name", None),
            ("émile", None),
            ("all", None),
            ("everyone", None),
            ("system", None),
            ("switchboard", None),
            ("human", None),
            ("human:", None),
            ("human:Ada", None),
            ("human:a b", None),
        ];
        for (name, expected) in cases {
            let got = validate_name(name).ok();
            assert_eq!(got, *expected, "validate_name({name:?})");
        }
        let reserved = validate_name("everyone").unwrap_err().to_string();
        assert!(reserved.contains("reserved"), "{reserved}");
        let bad = validate_name("Claude").unwrap_err().to_string();
        assert!(bad.contains("a-z, 0-9"), "{bad}");
    }

    #[test]
    fn human_names_come_from_display_names() {
        assert_eq!(human_name("Ada Lovelace").unwrap(), "human:ada-lovelace");
        assert_eq!(
            human_name("  Grace  M. Hopper ").unwrap(),
            "human:grace-m-hopper"
        );
        assert_eq!(
            human_name(&"Long ".repeat(20)).unwrap().len(),
            "human:".len() + 32
        );
        assert!(human_name("!!!").is_err());
        assert_eq!(human_name("_bot_ 1").unwrap(), "human:bot_-1");
        assert!(human_name("__").is_err());
        for display in ["_ada", "-_x", "Ünïcode", "__init__"] {
            let name = human_name(display).unwrap();
            assert_eq!(validate_name(&name).ok(), Some(AgentKind::Human), "{name}");
        }
    }

    crate::every_backend! {
        fn register_is_idempotent_and_updates_only_given_fields(backend) {
            let (_dir, mut store) = scratch_store(backend);
            let reg = Registration {
                name: "claude".into(),
                role: Some("reviewer".into()),
                description: Some("reviews PRs".into()),
            };
            let first = register(&mut store, "human:test", &reg).unwrap();
            assert_eq!(first.kind, AgentKind::Agent);
            let events = store.latest_event_seq().unwrap();
            let again = register(&mut store, "human:test", &reg).unwrap();
            assert_eq!(again.registered_at, first.registered_at);
            assert_eq!(
                store.latest_event_seq().unwrap(),
                events,
                "no change, no event"
            );
            let renamed = register(
                &mut store,
                "claude",
                &Registration {
                    name: "claude".into(),
                    role: Some("lead".into()),
                    description: None,
                },
            )
            .unwrap();
            assert_eq!(renamed.role.as_deref(), Some("lead"));
            assert_eq!(renamed.description.as_deref(), Some("reviews PRs"));
            assert_eq!(store.latest_event_seq().unwrap(), events + 1);
            register(
                &mut store,
                "human:ada",
                &Registration {
                    name: "human:ada".into(),
                    ..Default::default()
                },
            )
            .unwrap();
            let all = list(&mut store).unwrap();
            assert_eq!(all.len(), 2);
            assert!(
                all.iter()
                    .any(|a| a.name == "human:ada" && a.kind == AgentKind::Human)
            );
        }
    }

    crate::every_backend! {
        fn bad_input_is_refused_without_writing(backend) {
            let (_dir, mut store) = scratch_store(backend);
            let bad_role = Registration {
                name: "ok".into(),
                role: Some("Bad Role".into()),
                description: None,
            };
            assert!(
                register(&mut store, "human:test", &bad_role)
                    .unwrap_err()
                    .to_string()
                    .contains("not a valid role")
            );
            let long = Registration {
                name: "ok".into(),
                role: None,
                description: Some("x".repeat(2001)),
            };
            assert!(register(&mut store, "human:test", &long).is_err());
            assert!(list(&mut store).unwrap().is_empty());
            assert_eq!(store.latest_event_seq().unwrap(), 0);
        }
    }
}
