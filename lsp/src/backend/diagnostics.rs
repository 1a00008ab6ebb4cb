//! Who else is at a file: the others' claims covering it (warnings for exclusive claims,
//! information for shared ones) and the sessions changing it in another checkout
//! (information, and code lenses that open their diff), on open documents.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeZone;
use switchboard_core::claim::{self, Claim, ClaimState, Index, Mode};
use switchboard_core::clock::Timestamp;
use switchboard_core::session::{self, Holder};
use switchboard_core::worktree;
use tower_lsp_server::ls_types::*;

use super::Backend;
use crate::protocol::command;
use crate::repo::{self, Place};

/// The claims index of each repository (by root) read so far in one round of
/// diagnostics: each repository's claims are read and compiled once per round, however
/// many of its documents are open.
type ClaimIndexes = HashMap<PathBuf, Arc<Index<Claim>>>;

impl Backend {
    /// The sessions changing the file at `place` in another checkout than the one it is in.
    async fn holders_at(place: &Place) -> Vec<Holder> {
        let (relative, checkout) = (place.relative.clone(), place.checkout.clone());
        place
            .repo
            .with_store(move |store, _| {
                let here = worktree::containing(store, &checkout)?.map(|w| w.name);
                let mut holders = session::who_has(store, &relative)?;
                holders.retain(|h| h.worktree.is_none() || h.worktree != here);
                Ok(holders)
            })
            .await
            .unwrap_or_default()
    }

    /// The claims in force of others than the human covering the file at `place` (its
    /// path relative to its checkout, main or linked worktree), oldest first. The
    /// repository's index comes from `indexes`, read into it when missing.
    async fn others_claims_at(place: &Place, indexes: &mut ClaimIndexes) -> Vec<Claim> {
        let index = match indexes.get(&place.repo.root) {
            Some(index) => index.clone(),
            None => match place.repo.with_store(|store, _| claim::index(store)).await {
                Ok(index) => {
                    let index = Arc::new(index);
                    indexes.insert(place.repo.root.clone(), index.clone());
                    index
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the claims");
                    return Vec::new();
                }
            },
        };
        index
            .covering(&place.relative, &mut Vec::new())
            .into_iter()
            .filter(|c| c.agent != place.repo.human)
            .cloned()
            .collect()
    }

    /// `file`'s diagnostics: one per other holder's claim on it, then one per session
    /// changing it elsewhere; none outside the open repositories.
    async fn diagnostics_for(&self, file: &Path, indexes: &mut ClaimIndexes) -> Vec<Diagnostic> {
        let Some(place) = repo::place_of(self.repos(), file.to_path_buf()).await else {
            return Vec::new();
        };
        let at_top = Range::new(Position::new(0, 0), Position::new(0, 0));
        let claims = Self::others_claims_at(&place, indexes)
            .await
            .into_iter()
            .map(|c| Diagnostic {
                range: at_top,
                severity: Some(match c.mode {
                    Mode::Exclusive => DiagnosticSeverity::WARNING,
                    Mode::Shared => DiagnosticSeverity::INFORMATION,
                }),
                source: Some("switchboard".into()),
                message: claim_text(&c),
                ..Default::default()
            });
        let holders = Self::holders_at(&place)
            .await
            .into_iter()
            .map(|h| Diagnostic {
                range: at_top,
                severity: Some(DiagnosticSeverity::INFORMATION),
                source: Some("switchboard".into()),
                message: holder_text(&h),
                ..Default::default()
            });
        claims.chain(holders).collect()
    }

    /// Publishes `file`'s diagnostics (it was just opened).
    pub(super) async fn publish(&self, uri: Uri, file: &Path) {
        self.publish_with(uri, file, &mut ClaimIndexes::new()).await;
    }

    async fn publish_with(&self, uri: Uri, file: &Path, indexes: &mut ClaimIndexes) {
        let diagnostics = self.diagnostics_for(file, indexes).await;
        self.client
            .publish_diagnostics(uri, diagnostics, None)
            .await;
    }

    /// Publishes every open document's diagnostics again, reading each repository's
    /// claims once.
    pub(super) async fn refresh_diagnostics(&self) {
        let docs: Vec<(Uri, PathBuf)> = self
            .docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(u, p)| (u.clone(), p.clone()))
            .collect();
        let mut indexes = ClaimIndexes::new();
        for (uri, file) in docs {
            self.publish_with(uri, &file, &mut indexes).await;
        }
    }

    /// One code lens per holder of `file`, at its top, that shows the holder's diff.
    pub(super) async fn code_lenses(&self, file: &Path) -> Vec<CodeLens> {
        let Some(place) = repo::place_of(self.repos(), file.to_path_buf()).await else {
            return Vec::new();
        };
        Self::holders_at(&place)
            .await
            .into_iter()
            .map(|h| CodeLens {
                range: Range::new(Position::new(0, 0), Position::new(0, 0)),
                command: Some(Command {
                    title: format!("{} — show diff", holder_text(&h)),
                    command: command::SHOW_DIFF.into(),
                    arguments: Some(vec![serde_json::json!({"worktree": h.worktree})]),
                }),
                data: None,
            })
            .collect()
    }
}

/// "also changed by <agent> in <worktree> (+12 −3, uncommitted)".
pub fn holder_text(h: &Holder) -> String {
    let mut detail = Vec::new();
    if let (Some(a), Some(r)) = (h.added, h.removed) {
        detail.push(format!("+{a} −{r}"));
    }
    if h.uncommitted {
        detail.push("uncommitted".into());
    }
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", detail.join(", "))
    };
    format!(
        "also changed by {} in {}{detail}",
        h.agent,
        h.worktree.as_deref().unwrap_or("another checkout")
    )
}

/// A claim as a diagnostic on a file it covers says it: "claimed by claude until 14:05:
/// refactoring auth", "claimed (shared) by …" for a shared claim, and "; holder stale
/// (<why>)" appended when its holder's session is stale. The expiry is in the editor
/// machine's local time zone ([`local_time`]).
pub fn claim_text(c: &Claim) -> String {
    let until = local_time(c.expires_at);
    let shared = match c.mode {
        Mode::Exclusive => "",
        Mode::Shared => " (shared)",
    };
    let stale = match (c.state, &c.stale_reason) {
        (ClaimState::Stale, Some(why)) => format!("; holder stale ({why})"),
        (ClaimState::Stale, None) => "; holder stale".into(),
        _ => String::new(),
    };
    format!(
        "claimed{shared} by {} until {until}: {}{stale}",
        c.agent, c.reason
    )
}

/// `at` in this machine's time zone: `14:05` today, `2025-11-22 14:05` on another day.
pub fn local_time(at: Timestamp) -> String {
    chrono::Local
        .timestamp_millis_opt(at.millis())
        .single()
        .map_or_else(
            || at.to_rfc3339(),
            |t| {
                let today = t.date_naive() == chrono::Local::now().date_naive();
                t.format(if today { "%H:%M" } else { "%Y-%m-%d %H:%M" })
                    .to_string()
            },
        )
}

#[cfg(test)]
mod tests {
    use switchboard_core::clock::Timestamp;

    use super::*;

    #[test]
    fn a_stale_shared_claim_says_so() {
        let expires_at = Timestamp::now();
        let hhmm = chrono::Local
            .timestamp_millis_opt(expires_at.millis())
            .unwrap()
            .format("%H:%M")
            .to_string();
        let claim = Claim {
            id: "clm_01".into(),
            pattern: "src/**".into(),
            mode: Mode::Shared,
            agent: "claude".into(),
            session: Some("ses_01".into()),
            reason: "refactoring auth".into(),
            created_at: expires_at,
            expires_at,
            state: ClaimState::Stale,
            stale_reason: Some("process 42 exited".into()),
        };
        assert_eq!(
            claim_text(&claim),
            format!(
                "claimed (shared) by claude until {hhmm}: refactoring auth; holder stale (process 42 exited)"
            )
        );
    }
}
