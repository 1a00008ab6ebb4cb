//! Claims on paths (advisory reservations).

use crate::Result;
use crate::claim::{Claim, Mode};
use crate::clock::Timestamp;

/// Claims on paths. A [`Claim`] read here is judged at `now` (expired or not) and its
/// holder's liveness against the stale window's start `cutoff` (see
/// [`crate::claim::ClaimState`]).
pub(crate) trait ClaimRows {
    /// Every stored claim, expired ones too, oldest first (by creation time, then id).
    fn list_claims(&self, now: Timestamp, cutoff: Timestamp) -> Result<Vec<Claim>>;

    /// The claim `id`, or `None`.
    fn fetch_claim(&self, id: &str, now: Timestamp, cutoff: Timestamp) -> Result<Option<Claim>>;

    /// Stores `claim` (its id, holder, pattern, mode, reason, creation and expiry times;
    /// its state is not stored).
    fn insert_claim(&self, claim: &Claim) -> Result<()>;

    /// Replaces claim `id`'s mode, reason and expiry (nothing if there is no such claim).
    fn update_claim(&self, id: &str, mode: Mode, reason: &str, expires_at: Timestamp)
    -> Result<()>;

    /// Deletes claim `id` (nothing if there is no such claim).
    fn delete_claim(&self, id: &str) -> Result<()>;

    /// Deletes every claim of `session`; returns the deleted claims' ids and patterns,
    /// oldest first.
    fn delete_session_claims(&self, session: &str) -> Result<Vec<(String, String)>>;
}
