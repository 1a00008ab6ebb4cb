//! Full-text search (FTS5) over the subjects and bodies of the messages a viewer can see.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::inbox::check_filter;
use super::{DEFAULT_PAGE, InboxFilter, MAX_PAGE, Message};
use crate::id::{self, IdKind};
use crate::{Error, Result, Store};

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hit {
    /// The matching message, as the viewer sees it.
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
    // A search sees every message committed before it: index the ones still waiting for
    // their batch first (a write only when there are some).
    if store.read(|tx| tx.messages_unindexed())? {
        store.write(|tx| tx.index_messages_for_search())?;
    }
    store.read(|tx| {
        let thread = filter
            .thread
            .as_deref()
            .map(|t| id::resolve(tx, IdKind::Thread, t))
            .transpose()?;
        let hits = tx.search_messages(viewer, &query, filter, thread.as_deref(), limit)?;
        Ok(hits)
    })
}
