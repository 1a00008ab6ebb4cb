//! Prefixed ULIDs (`ses_01J…`) and resolution of unique short prefixes.

use rusqlite::{Connection, params};

use crate::{Error, Record, Result};

/// The kinds of identified records, each with its id prefix and table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Session,
    Event,
    Message,
    Thread,
    Token,
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
        }
    }

    fn noun(self) -> &'static str {
        self.record().noun()
    }

    fn table(self) -> &'static str {
        match self {
            IdKind::Session => "sessions",
            IdKind::Event => "events",
            IdKind::Message => "messages",
            IdKind::Thread => "threads",
            IdKind::Token => "tokens",
        }
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
pub fn resolve(conn: &Connection, kind: IdKind, input: &str) -> Result<String> {
    let wanted = normalise(kind, input)?;
    // ULID characters are [0-9A-Z]; '~' sorts after all of them, bounding the range scan.
    let sql = format!(
        "SELECT id FROM {} WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3",
        kind.table()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let upper = format!("{wanted}~");
    let found: Vec<String> = stmt
        .query_map(params![wanted, upper, MAX_CANDIDATES as i64 + 1], |r| {
            r.get(0)
        })?
        .collect::<rusqlite::Result<_>>()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn db(ids: &[&str]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE sessions (id TEXT PRIMARY KEY)")
            .unwrap();
        for id in ids {
            conn.execute("INSERT INTO sessions VALUES (?1)", [id])
                .unwrap();
        }
        conn
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

    #[test]
    fn unique_prefix_resolves_with_or_without_type_prefix_in_any_case() {
        let conn = db(&["ses_01AAAA0000", "ses_01BBBB0000"]);
        assert_eq!(
            resolve(&conn, IdKind::Session, "ses_01AA").unwrap(),
            "ses_01AAAA0000"
        );
        assert_eq!(
            resolve(&conn, IdKind::Session, "01bb").unwrap(),
            "ses_01BBBB0000"
        );
        assert_eq!(
            resolve(&conn, IdKind::Session, " SES_01BBBB0000 ").unwrap(),
            "ses_01BBBB0000"
        );
    }

    #[test]
    fn ambiguous_prefix_lists_candidates() {
        let conn = db(&["ses_01AAAA0000", "ses_01AAAB0000", "ses_01BBBB0000"]);
        let err = resolve(&conn, IdKind::Session, "ses_01AA").unwrap_err();
        let Error::Ambiguous { candidates, .. } = &err else {
            panic!("expected ambiguity, got {err:?}")
        };
        assert_eq!(candidates, &["ses_01AAAA0000", "ses_01AAAB0000"]);
        assert!(err.to_string().contains("Give more characters"));
    }

    #[test]
    fn unknown_and_malformed_prefixes_are_refused_with_a_reason() {
        let conn = db(&["ses_01AAAA0000"]);
        let unknown = resolve(&conn, IdKind::Session, "ses_01ZZ").unwrap_err();
        assert!(matches!(unknown, Error::NotFound { .. }), "{unknown:?}");
        assert_eq!(unknown.to_string(), "no session matches 'ses_01ZZ'");
        let short = resolve(&conn, IdKind::Session, "ses_01A").unwrap_err();
        assert!(
            short.to_string().contains("at least 4 characters"),
            "{short}"
        );
        let bad = resolve(&conn, IdKind::Session, "ses_01A%").unwrap_err();
        assert!(bad.to_string().contains("not a session id"), "{bad}");
        let long = resolve(&conn, IdKind::Session, &format!("ses_{}", "A".repeat(27))).unwrap_err();
        assert!(long.to_string().contains("longer than"), "{long}");
    }
}
