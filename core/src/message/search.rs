//! Full-text search over the subjects and bodies of the messages a viewer can see.

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

/// One word of a search: every term of a search must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Term<'a> {
    /// The word as written (quotes and other punctuation are part of it, not syntax: the
    /// store splits it as it splits the text it indexes).
    pub word: &'a str,
    /// Whether it matches words it begins (written with a trailing `*`).
    pub prefix: bool,
}

/// The terms of a search for `text`, all to match: its words (split at whitespace), each
/// matching as a prefix when written with a trailing `*` (not part of the word; a lone
/// `*` is no word).
pub(super) fn terms(text: &str) -> Result<Vec<Term<'_>>> {
    crate::input::refuse_nul("search", text)?;
    let terms: Vec<Term<'_>> = text
        .split_whitespace()
        .filter_map(|w| {
            let (word, prefix) = w.strip_suffix('*').map_or((w, false), |s| (s, true));
            (!word.is_empty()).then_some(Term { word, prefix })
        })
        .collect();
    if terms.is_empty() {
        return Err(Error::Invalid(
            "the search is empty: give words to look for".into(),
        ));
    }
    Ok(terms)
}

/// Full-text search over subjects and bodies of the messages `viewer` can see (deleted
/// ones excluded), best match first.
pub fn search(
    store: &mut Store,
    viewer: &str,
    text: &str,
    filter: &InboxFilter,
) -> Result<Vec<Hit>> {
    let terms = terms(text)?;
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
        let hits = tx.search_messages(viewer, &terms, filter, thread.as_deref(), limit)?;
        Ok(hits)
    })
}
