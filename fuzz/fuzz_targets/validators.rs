//! Every check of a name, path, id, reference or duration a caller hands in, on the same
//! text, against the rule its documentation states (or the invariant it promises).
#![no_main]

use std::cell::RefCell;
use std::path::{Component, Path};
use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use rusqlite::Connection;
use switchboard_core::agent::{self, AgentKind, RESERVED_NAMES};
use switchboard_core::clock::{Timestamp, parse_duration};
use switchboard_core::group::{self, Member, MemberKind};
use switchboard_core::id::{self, IdKind};
use switchboard_core::message::{Priority, RefKind, Reference};
use switchboard_core::{Settings, Store, input, worktree};
use switchboard_testutils::ScratchStore;

/// `[a-z0-9][a-z0-9_-]{0,31}` (agent names, roles, groups, the part after `human:`).
fn is_slug(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && name.len() <= 32
}

/// 1-64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit, no `..`,
/// no `.lock` ending.
fn is_worktree_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.len() <= 64
        && !name.contains("..")
        && !name.ends_with(".lock")
}

const IDS: &[&str] = &[
    "ses_01JD2N5Q7Z8K3M4P5R6S7T8V9W",
    "ses_01JD2N5Q7Z8K3M4P5R6S7T8V9X",
    "ses_01JD2NAAAAAAAAAAAAAAAAAAAA",
    "msg_01JD2N5Q7Z8K3M4P5R6S7T8V9W",
    "thr_01JD2N5Q7Z8K3M4P5R6S7T8V9W",
];

/// Runs `f` on a store (its own temporary directory, kept for the whole run) holding
/// exactly the sessions, messages and threads of [`IDS`].
fn with_ids<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    thread_local! {
        static DB: RefCell<(ScratchStore, Store)> = {
            let dir = ScratchStore::new();
            let store = Store::open(dir.db(), Settings::default()).expect("a store");
            let conn = Connection::open(dir.db()).expect("the store's file");
            conn.execute_batch("PRAGMA foreign_keys = OFF").expect("no foreign keys");
            for id in IDS {
                let insert = match &id[..3] {
                    "ses" => "INSERT INTO sessions (id, agent, intent, status, started_at, last_seen_at) \
                              VALUES (?1, 'a', 'x', 'active', 0, 0)",
                    "msg" => "INSERT INTO messages (id, thread_id, author, addressed_to, body, priority, created_at) \
                              VALUES (?1, 't', 'a', '[]', 'b', 1, 0)",
                    _ => "INSERT INTO threads (id, created_by, created_at, last_message_at) VALUES (?1, 'a', 0, 0)",
                };
                conn.execute(insert, [id]).expect("an id");
            }
            RefCell::new((dir, store))
        };
    }
    DB.with(|db| f(&mut db.borrow_mut().1))
}

fn check_duration(text: &str) {
    let Ok(parsed) = parse_duration(text) else {
        return;
    };
    let text = text.trim();
    let digits = text.trim_end_matches(|c: char| !c.is_ascii_digit());
    let unit: u128 = match &text[digits.len()..] {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => panic!("accepted unit {other:?}"),
    };
    let n: u128 = digits.parse().expect("accepted digits");
    assert_eq!(parsed.as_secs() as u128, n * unit, "{text:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    assert_eq!(
        input::refuse_nul("field", text).is_ok(),
        !text.contains('\0')
    );
    if let Ok(path) = input::repo_path(text) {
        assert!(
            !path.is_empty() && !path.contains('\0'),
            "{text:?} → {path:?}"
        );
        assert!(
            !path.starts_with("./") && text.contains(&path),
            "{text:?} → {path:?}"
        );
        assert!(
            Path::new(&path).is_relative()
                && Path::new(&path).components().all(|c| !matches!(
                    c,
                    Component::ParentDir | Component::RootDir | Component::Prefix(_)
                )),
            "{text:?} → {path:?} leaves the repository"
        );
    }

    let expected = match text.strip_prefix("human:") {
        Some(person) => is_slug(person).then_some(AgentKind::Human),
        None => (is_slug(text) && !RESERVED_NAMES.contains(&text)).then_some(AgentKind::Agent),
    };
    assert_eq!(agent::validate_name(text).ok(), expected, "{text:?}");
    assert_eq!(
        agent::validate_role(text).is_ok(),
        is_slug(text),
        "{text:?}"
    );
    assert_eq!(
        group::validate_name(text).is_ok(),
        is_slug(text) && !RESERVED_NAMES.contains(&text),
        "{text:?}"
    );
    if let Ok(member) = Member::parse(text) {
        match member.kind {
            MemberKind::Role => assert!(is_slug(&member.name), "{text:?}"),
            MemberKind::Agent => assert!(agent::validate_name(&member.name).is_ok(), "{text:?}"),
        }
    }
    if let Ok(human) = agent::human_name(text) {
        assert_eq!(
            agent::validate_name(&human).ok(),
            Some(AgentKind::Human),
            "human_name({text:?}) = {human:?}, which is not a valid human name"
        );
    }
    assert_eq!(
        worktree::validate_name(text).is_ok(),
        is_worktree_name(text),
        "{text:?}"
    );

    if let Ok(reference) = Reference::from_str(text) {
        assert!(!reference.target.trim().is_empty(), "{text:?}");
        if let Some(lines) = &reference.lines {
            assert_eq!(reference.kind, RefKind::File, "{text:?}");
            assert!(lines.chars().all(|c| c.is_ascii_digit() || c == '-'));
        }
        let rendered = reference.to_string();
        assert_eq!(
            Reference::from_str(&rendered).ok().as_ref(),
            Some(&reference),
            "{text:?} → {rendered:?} does not read back"
        );
    }
    if let Ok(priority) = Priority::from_str(text) {
        assert_eq!(priority.as_str(), text);
    }

    check_duration(text);
    if let Some(at) = Timestamp::parse_rfc3339(text) {
        assert_eq!(
            Timestamp::parse_rfc3339(&at.to_rfc3339()),
            Some(at),
            "{text:?}"
        );
    }

    for kind in [IdKind::Session, IdKind::Message, IdKind::Thread] {
        if let Ok(found) = with_ids(|store| id::resolve_in_store(store, kind, text)) {
            assert!(IDS.contains(&found.as_str()), "{text:?} → {found:?}");
            assert!(found.starts_with(kind.prefix()), "{text:?} → {found:?}");
        }
    }
});
