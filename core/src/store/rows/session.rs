//! Sessions, their genealogy, heartbeats and work context.

use crate::Result;
use crate::clock::Timestamp;
use crate::process::ProcessInfo;
use crate::session::{
    ChangedFile, EndStatus, Filter, Holder, Session, SessionDraft, WorkContext, WorkSummary,
    WorktreeRef,
};

/// Sessions, their genealogy, heartbeats and work context.
///
/// A [`Session`] read here has its status judged against the given `cutoff` (see
/// [`crate::session`]) and no worktree or work summary yet: those are read with
/// [`SessionRows::session_worktree`] and [`SessionRows::session_work_summary`].
pub(crate) trait SessionRows {
    /// The session `id`, or `None`.
    fn fetch_session(&self, id: &str, cutoff: Timestamp) -> Result<Option<Session>>;

    /// `session`'s first worktree (by creation time), if it has one.
    fn session_worktree(&self, session: &str) -> Result<Option<WorktreeRef>>;

    /// The work `session` reported on its last heartbeat in a worktree, if any.
    fn session_work_summary(&self, session: &str) -> Result<Option<WorkSummary>>;

    /// Stores `draft` as the active session `id`, started and seen at `now`; `client` is
    /// the agent client behind its serving process, when known.
    fn insert_session(
        &self,
        id: &str,
        draft: &SessionDraft,
        client: Option<u32>,
        now: Timestamp,
    ) -> Result<()>;

    /// Attaches the serving `process` (and its agent `client`) to session `id`, seen at
    /// `now`; `intent` and `role`, when given, replace the stored ones.
    fn claim_session(
        &self,
        id: &str,
        process: &ProcessInfo,
        intent: Option<&str>,
        role: Option<&str>,
        client: Option<u32>,
        now: Timestamp,
    ) -> Result<()>;

    /// Sets session `id`'s last seen time to `now` and, when given, its serving process.
    fn heartbeat_session(
        &self,
        id: &str,
        now: Timestamp,
        process: Option<&ProcessInfo>,
    ) -> Result<()>;

    /// Sets the last seen time of session `id`, if it is active, and of its agent to
    /// `now` (nothing when the session is not active).
    fn touch_session(&self, id: &str, now: Timestamp) -> Result<()>;

    /// Replaces session `id`'s intent and/or role (`None` keeps the stored value) and
    /// sets its last seen time to `now`.
    fn update_session(
        &self,
        id: &str,
        intent: Option<&str>,
        role: Option<&str>,
        now: Timestamp,
    ) -> Result<()>;

    /// Ends session `id` with `status` and `reason` at `now`.
    fn end_session(
        &self,
        id: &str,
        status: EndStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<()>;

    /// Sessions matching `filter`, newest first, at most `limit`. `filter.parent` and
    /// `filter.limit` are not read: `parent` is the parent's resolved id.
    fn list_sessions(
        &self,
        filter: &Filter,
        parent: Option<&str>,
        limit: u32,
        cutoff: Timestamp,
    ) -> Result<Vec<Session>>;

    /// The id of the live session on `host` served for the first of `clients` (agent
    /// client pids, nearest first) that has one (the most recently seen), or `None`.
    fn session_of_client(
        &self,
        host: &str,
        clients: &[u32],
        cutoff: Timestamp,
    ) -> Result<Option<String>>;

    /// The root of `focus`'s genealogy (following parents, or `forked_from` for a fork
    /// without parent, at most `depth` steps) and how many steps up it is; `None` when
    /// there is no session `focus`.
    fn session_root(&self, focus: &str, depth: u32) -> Result<Option<(String, u32)>>;

    /// Whether session `id` has a parent or was forked (false when there is no such
    /// session).
    fn session_has_origin(&self, id: &str) -> Result<bool>;

    /// The genealogy below `root` (children, and forks without parent), at most `depth`
    /// levels and `limit` nodes, in pre-order (siblings oldest first): each node's depth
    /// (0 for `root`), its session and whether it has children or forks of its own.
    fn session_descendants(
        &self,
        root: &str,
        depth: u32,
        limit: u32,
        cutoff: Timestamp,
    ) -> Result<Vec<(u32, Session, bool)>>;

    /// The changed files `session` last recorded, in path order.
    fn session_changed_files(&self, session: &str) -> Result<Vec<ChangedFile>>;

    /// Replaces the work `session` recorded with `work`, as of `now`.
    fn record_session_work(&self, session: &str, work: &WorkContext, now: Timestamp) -> Result<()>;

    /// The active sessions changing `path` per their latest heartbeat, most recently
    /// reported first.
    fn sessions_changing(&self, path: &str, cutoff: Timestamp) -> Result<Vec<Holder>>;

    /// The files `session` changed that other live sessions change too, as (path,
    /// agent of the other session) pairs ordered by path, then agent.
    fn session_shared_files(
        &self,
        session: &str,
        cutoff: Timestamp,
    ) -> Result<Vec<(String, String)>>;

    /// The agent of `session`'s parent session, if it has one.
    fn session_parent_agent(&self, session: &str) -> Result<Option<String>>;
}
