//! Prefixed ULIDs (`ses_01J…`) and resolution of unique short prefixes.

use crate::store::Tx;
use crate::{Error, Record, Result};

/// The kinds of identified records, each with its id prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// An agent's session: `ses_…`.
    Session,
    /// An entry of the event log: `evt_…`.
    Event,
    /// A message: `msg_…`.
    Message,
    /// A message thread (a first message and its replies): `thr_…`.
    Thread,
    /// An access token: `tok_…`.
    Token,
    /// A claim on paths: `clm_…`.
    Claim,
}

/// Characters needed after the type prefix before a prefix is looked up.
pub const MIN_PREFIX_LEN: usize = 4;
const ULID_LEN: usize = 26;
const MAX_CANDIDATES: usize = 5;

impl IdKind {
    /// The type prefix, without the underscore.
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Session => "ses",
            IdKind::Event => "evt",
            IdKind::Message => "msg",
            IdKind::Thread => "thr",
            IdKind::Token => "tok",
            IdKind::Claim => "clm",
        }
    }

    /// The kind of record these ids name.
    fn record(self) -> Record {
        match self {
            IdKind::Session => Record::Session,
            IdKind::Event => Record::Event,
            IdKind::Message => Record::Message,
            IdKind::Thread => Record::Thread,
            IdKind::Token => Record::Token,
            IdKind::Claim => Record::Claim,
        }
    }

    fn noun(self) -> &'static str {
        self.record().noun()
    }
}

/// A fresh id such as `ses_01JD2N5Q7Z8K3M4P5R6S7T8V9W`. The random part is not made
/// monotonic: ids made in the same millisecond then still differ early, which keeps short
/// prefixes unique. Order by creation uses the row order, not the id.
pub fn new_id(kind: IdKind) -> String {
    format!("{}_{}", kind.prefix(), ulid::Ulid::generate())
}

/// Normalises user input to the canonical `prefix_ULIDCHARS` form (upper case), or
/// explains what is wrong with it. Accepts the input with or without the type prefix.
fn normalise(kind: IdKind, input: &str) -> Result<String> {
    let trimmed = input.trim();
    let tag = format!("{}_", kind.prefix());
    let body = match trimmed.get(..tag.len()) {
        Some(head) if head.eq_ignore_ascii_case(&tag) => &trimmed[tag.len()..],
        _ => trimmed,
    };
    let body = body.to_ascii_uppercase();
    let input = crate::input::shown(input);
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::Invalid(format!(
            "'{input}' is not a {noun} id: expected {tag} followed by letters and digits, e.g. {tag}01JD2N5Q",
            noun = kind.noun()
        )));
    }
    if body.len() < MIN_PREFIX_LEN {
        return Err(Error::Invalid(format!(
            "'{input}' is too short to identify a {}: give at least {MIN_PREFIX_LEN} characters after '{tag}'",
            kind.noun()
        )));
    }
    if body.len() > ULID_LEN {
        return Err(Error::Invalid(format!(
            "'{input}' is longer than a {} id ({ULID_LEN} characters after '{tag}')",
            kind.noun()
        )));
    }
    Ok(format!("{tag}{body}"))
}

/// Resolves a full id or a unique prefix (at least [`MIN_PREFIX_LEN`] characters after the
/// type prefix, which may be omitted) to the full id. Unknown → [`Error::NotFound`];
/// several matches → [`Error::Ambiguous`] listing them.
pub(crate) fn resolve(tx: &Tx<'_>, kind: IdKind, input: &str) -> Result<String> {
    let wanted = normalise(kind, input)?;
    let found = tx.ids_from(kind, &wanted, MAX_CANDIDATES + 1)?;
    match found.as_slice() {
        [] => Err(Error::NotFound {
            kind: kind.record(),
            id: input.trim().to_string(),
        }),
        [one] => Ok(one.clone()),
        many => {
            let mut candidates: Vec<String> = many.iter().take(MAX_CANDIDATES).cloned().collect();
            if many.len() > MAX_CANDIDATES {
                candidates.push("…".into());
            }
            Err(Error::Ambiguous {
                kind: kind.record(),
                prefix: input.trim().to_string(),
                candidates,
            })
        }
    }
}

/// [`resolve`] in one read of `store`, for callers outside the core.
pub fn resolve_in_store(store: &mut crate::Store, kind: IdKind, input: &str) -> Result<String> {
    store.read(|tx| resolve(tx, kind, input))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::story::{Backend, Scratch, scratch_store};

    /// A store holding sessions with these ids.
    fn store_with(backend: Backend, ids: &[&str]) -> (Scratch, crate::Store) {
        let (dir, mut store) = scratch_store(backend);
        store
            .sql_rows(
                "INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES ('a', 'agent', 0, 0)",
                &[],
            )
            .unwrap();
        for id in ids {
            store
                .sql_rows(
                    "INSERT INTO sessions (id, agent, intent, status, started_at, last_seen_at) \
                     VALUES ($1, 'a', 'x', 'active', 0, 0)",
                    &[(*id).into()],
                )
                .unwrap();
        }
        (dir, store)
    }

    fn resolve(store: &mut crate::Store, kind: IdKind, input: &str) -> Result<String> {
        store.read(|tx| super::resolve(tx, kind, input))
    }

    #[test]
    fn new_ids_carry_their_prefix_and_a_ulid() {
        let id = new_id(IdKind::Session);
        assert!(id.starts_with("ses_"));
        assert_eq!(id.len(), 4 + ULID_LEN);
        let many: std::collections::HashSet<String> =
            (0..1000).map(|_| new_id(IdKind::Session)).collect();
        assert_eq!(many.len(), 1000);
        assert!(!many.contains(&id));
    }

    crate::every_backend! {
        fn unique_prefix_resolves_with_or_without_type_prefix_in_any_case(backend) {
            let (_dir, mut store) = store_with(backend, &["ses_01AAAA0000", "ses_01BBBB0000"]);
            assert_eq!(
                resolve(&mut store, IdKind::Session, "ses_01AA").unwrap(),
                "ses_01AAAA0000"
            );
            assert_eq!(
                resolve(&mut store, IdKind::Session, "01bb").unwrap(),
                "ses_01BBBB0000"
            );
            assert_eq!(
                resolve(&mut store, IdKind::Session, " SES_01BBBB0000 ").unwrap(),
                "ses_01BBBB0000"
            );
        }
    }

    crate::every_backend! {
        fn ambiguous_prefix_lists_candidates(backend) {
            let (_dir, mut store) = store_with(backend, &["ses_01AAAA0000", "ses_01AAAB0000", "ses_01BBBB0000"]);
            let err = resolve(&mut store, IdKind::Session, "ses_01AA").unwrap_err();
            let Error::Ambiguous { candidates, .. } = &err else {
                panic!("expected ambiguity, got {err:?}")
            };
            assert_eq!(candidates, &["ses_01AAAA0000", "ses_01AAAB0000"]);
            assert!(err.to_string().contains("Give more characters"));
        }
    }

    crate::every_backend! {
        fn unknown_and_malformed_prefixes_are_refused_with_a_reason(backend) {
            let (_dir, mut store) = store_with(backend, &["ses_01AAAA0000"]);
            let unknown = resolve(&mut store, IdKind::Session, "ses_01ZZ").unwrap_err();
            assert!(matches!(unknown, Error::NotFound { .. }), "{unknown:?}");
            assert_eq!(unknown.to_string(), "no session matches 'ses_01ZZ'");
            let short = resolve(&mut store, IdKind::Session, "ses_01A").unwrap_err();
            assert!(
                short.to_string().contains("at least 4 characters"),
                "{short}"
            );
            let bad = resolve(&mut store, IdKind::Session, "ses_01A%").unwrap_err();
            assert!(bad.to_string().contains("not a session id"), "{bad}");
            let long = resolve(
                &mut store,
                IdKind::Session,
                &format!("ses_{}", "A".repeat(27)),
            )
            .unwrap_err();
            assert!(long.to_string().contains("longer than"), "{long}");
        }
    }
}
