//! Who else is changing a file: the sessions holding it in another checkout, shown on
//! open documents as information diagnostics and as code lenses that open their diff.

use std::path::{Path, PathBuf};

use switchboard_core::session::{self, Holder};
use switchboard_core::worktree;
use tower_lsp_server::ls_types::*;

use super::Backend;
use crate::protocol::command;
use crate::repo;

impl Backend {
    /// The sessions changing `file` in another checkout than the one it is in.
    async fn holders_of(&self, file: &Path) -> Vec<Holder> {
        let Some(place) = repo::place_of(self.repos(), file.to_path_buf()).await else {
            return Vec::new();
        };
        let (relative, checkout) = (place.relative, place.checkout);
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

    async fn diagnostics_for(&self, file: &Path) -> Vec<Diagnostic> {
        self.holders_of(file)
            .await
            .into_iter()
            .map(|h| Diagnostic {
                range: Range::new(Position::new(0, 0), Position::new(0, 0)),
                severity: Some(DiagnosticSeverity::INFORMATION),
                source: Some("switchboard".into()),
                message: holder_text(&h),
                ..Default::default()
            })
            .collect()
    }

    pub(super) async fn publish(&self, uri: Uri, file: &Path) {
        let diagnostics = self.diagnostics_for(file).await;
        self.client
            .publish_diagnostics(uri, diagnostics, None)
            .await;
    }

    pub(super) async fn refresh_diagnostics(&self) {
        let docs: Vec<(Uri, PathBuf)> = self
            .docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(u, p)| (u.clone(), p.clone()))
            .collect();
        for (uri, file) in docs {
            self.publish(uri, &file).await;
        }
    }

    /// One code lens per holder of `file`, at its top, that shows the holder's diff.
    pub(super) async fn code_lenses(&self, file: &Path) -> Vec<CodeLens> {
        self.holders_of(file)
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
