//! Full-text search (FTS5) over the subjects and bodies of the messages a viewer can see.

use rusqlite::named_params;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::inbox::check_filter;
use super::{COLUMNS, DEFAULT_PAGE, InboxFilter, MAX_PAGE, Message, Priority, VISIBLE, from_row};
use crate::id::{self, IdKind};
use crate::{Error, Result, Store};

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hit {
    pub message: Message,
    /// The matching text with matches in [brackets].
    pub snippet: String,
}

/// Turns free text into an FTS5 query of quoted terms (all must match), so punctuation
/// in the input cannot be a syntax error. A trailing `*` on a word keeps prefix search.
pub(super) fn fts_query(text: &str) -> Result<String> {
    crate::input::refuse_nul("search", text)?;
    let terms: Vec<String> = text
        .split_whitespace()
        .filter_map(|w| {
            let (word, star) = w.strip_suffix('*').map_or((w, ""), |s| (s, "*"));
            (!word.is_empty()).then(|| format!("\"{}\"{star}", word.replace('"', "\"\"")))
        })
        .collect();
    if terms.is_empty() {
        return Err(Error::Invalid(
            "the search is empty: give words to look for".into(),
        ));
    }
    Ok(terms.join(" "))
}

/// Full-text search over subjects and bodies of the messages `viewer` can see (deleted
/// ones excluded), best match first.
pub fn search(
    store: &mut Store,
    viewer: &str,
    text: &str,
    filter: &InboxFilter,
) -> Result<Vec<Hit>> {
    let query = fts_query(text)?;
    check_filter(filter)?;
    let limit = crate::page::size(filter.limit, DEFAULT_PAGE, MAX_PAGE, "limit")?;
    store.read(|tx| {
        let thread = filter
            .thread
            .as_deref()
            .map(|t| id::resolve(tx, IdKind::Thread, t))
            .transpose()?;
        let sql = format!(
            "SELECT {COLUMNS}, snippet(messages_fts, -1, '[', ']', '…', 16)
             FROM messages_fts f JOIN messages m ON m.seq = f.rowid
             LEFT JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = :viewer
             WHERE messages_fts MATCH :query AND {VISIBLE} AND m.deleted_at IS NULL
               AND (:from IS NULL OR m.author = :from)
               AND (:thread IS NULL OR m.thread_id = :thread)
               AND m.priority >= :priority
               AND (:unread = 0 OR (d.recipient IS NOT NULL AND d.read_at IS NULL))
             ORDER BY rank LIMIT :limit"
        );
        let hits = tx
            .prepare_cached(&sql)?
            .query_map(
                named_params! {
                    ":viewer": viewer, ":query": query, ":from": filter.from, ":thread": thread,
                    ":priority": filter.min_priority.unwrap_or(Priority::Low).rank(),
                    ":unread": filter.unread_only, ":limit": limit,
                },
                |r| {
                    Ok(Hit {
                        message: from_row(r)?,
                        snippet: r.get(19)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(hits)
    })
}
