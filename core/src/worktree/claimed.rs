//! Claims over a worktree's changes: which files it changes that another holder claims
//! exclusively. The conflict radar lists them and a merge warns of them (claims are
//! advisory there); the pre-commit guard refuses such commits.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Worktree;
use crate::claim::{self, Claim, ClaimState, Claimant, Index};
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
