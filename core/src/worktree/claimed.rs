//! Claims over a worktree's changes: which files it changes that another holder claims
//! exclusively. The conflict radar lists them; a merge goes ahead (claims are advisory
//! there), names them and tells their holders; the pre-commit guard refuses such commits.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{MergeOutcome, Worktree};
use crate::Store;
use crate::claim::{self, Claim, ClaimState, Claimant, HolderNotice, Index};
use crate::clock::Timestamp;

/// Files one worktree changes that another holder claims exclusively.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimedWork {
    /// The worktree changing them.
    pub worktree: String,
    /// The claim's id.
    pub claim: String,
    /// Its holder: an agent, or a person (human:<name>).
    pub holder: String,
    /// The pattern claimed.
    pub pattern: String,
    /// Why it was claimed.
    pub reason: String,
    /// When the claim expires (RFC 3339 UTC).
    pub expires_at: Timestamp,
    /// The holder's session is stale (a human or its parent session may take it over).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
    /// The worktree's files it covers, in the order given.
    pub files: Vec<String>,
}

/// Which of `files`, changed in `worktree`, holders other than the worktree's owner (its
/// session, else its creator) claim exclusively, one entry per claim, oldest claim first.
pub fn claimed_work(
    index: &Index<Claim>,
    worktree: &Worktree,
    files: &[String],
) -> Vec<ClaimedWork> {
    let owner = Claimant {
        actor: worktree.agent.as_deref().unwrap_or(&worktree.created_by),
        session: worktree.session.as_deref(),
    };
    claim::conflicts(index, files, Some(&owner))
        .into_iter()
        .map(|c| ClaimedWork {
            worktree: worktree.name.clone(),
            stale: c.claim.state == ClaimState::Stale,
            claim: c.claim.id,
            holder: c.claim.agent,
            pattern: c.claim.pattern,
            reason: c.claim.reason,
            expires_at: c.claim.expires_at,
            files: c.paths,
        })
        .collect()
}

/// Tells each holder in `merged.claimed` other than `actor` (a notice from Switchboard)
/// that `actor` merged files they claim: which claim, which files, and the commit to look
/// at. A failure is logged, not returned: the merge has happened already.
pub(crate) fn tell_holders(store: &mut Store, actor: &str, merged: &MergeOutcome) {
    if merged.claimed.iter().all(|c| c.holder == actor) {
        return;
    }
    let commit: String = merged.commit.chars().take(10).collect();
    let lines: Vec<(&str, String)> = merged
        .claimed
        .iter()
        .map(|c| {
            let line = format!("- {} ({}): {}", c.pattern, c.claim, c.files.join(", "));
            (c.holder.as_str(), line)
        })
        .collect();
    let notice = HolderNotice {
        subject: "A merge changed files you claim",
        intro: format!(
            "{actor} merged worktree {} into {} (commit {commit}) over your claims; the files \
             it changed:",
            merged.worktree, merged.into
        ),
        next: format!("Look at what changed (git show {commit}) before you go on with them."),
    };
    let told = store.write(|tx| claim::notify_holders(tx, actor, &lines, &notice));
    if let Err(e) = told {
        tracing::warn!(error = %e, "cannot tell the holders of claims a merge went over");
    }
}
