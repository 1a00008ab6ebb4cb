//! Access tokens (stored as hashes).

use crate::Result;
use crate::clock::Timestamp;
use crate::token::Token;

/// Access tokens (stored as hashes).
pub(crate) trait TokenRows {
    /// Inserts `token` (its id, agent, label, creator, creation and expiry times) with
    /// the hash of its secret.
    fn insert_token(&self, token: &Token, hash: &str) -> Result<()>;

    /// Token `id`, in its state at `now`, or `None`.
    fn fetch_token(&self, id: &str, now: Timestamp) -> Result<Option<Token>>;

    /// The token whose secret hashes to `hash`, in its state at `now`, or `None`.
    fn fetch_token_by_hash(&self, hash: &str, now: Timestamp) -> Result<Option<Token>>;

    /// Every token, in its state at `now`, newest first.
    fn list_tokens(&self, now: Timestamp) -> Result<Vec<Token>>;

    /// Marks token `id` revoked at `at` unless it is already revoked; whether it changed.
    fn revoke_token(&self, id: &str, at: Timestamp) -> Result<bool>;

    /// The agent token `id` stands for, or `None`.
    fn fetch_token_agent(&self, id: &str) -> Result<Option<String>>;

    /// Sets token `id`'s last use to `at`.
    fn touch_token(&self, id: &str, at: Timestamp) -> Result<()>;
}
