//! Messages, their recipients' states, versions, threads, inbox pages and search.

use crate::Result;
use crate::clock::Timestamp;
use crate::message::{Delivery, Hit, InboxFilter, Message, NewMessage, Overdue, Term, Version};

/// Messages, their recipients' states, versions, threads, inbox pages and search.
pub(crate) trait MessageRows {
    /// Inserts a thread created by `created_by` at `now` (also its last message time).
    fn insert_thread(
        &self,
        id: &str,
        subject: Option<&str>,
        created_by: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Sets thread `id`'s last message time to `now`.
    fn update_thread_last_message(&self, id: &str, now: Timestamp) -> Result<()>;

    /// The subject of thread `id` (`None` without one, or if there is no such thread).
    fn fetch_thread_subject(&self, id: &str) -> Result<Option<String>>;

    /// Everyone who wrote (but `except_author`) or received a message of `thread`, by name.
    fn thread_participants(&self, thread: &str, except_author: &str) -> Result<Vec<String>>;

    /// The messages of `thread` that `viewer` wrote or received, as it sees them, in order.
    fn thread_messages(&self, viewer: &str, thread: &str) -> Result<Vec<Message>>;

    /// Whether some message is not yet in the search index (a backend may index in
    /// batches; [`MessageRows::search_messages`] finds only indexed messages).
    fn messages_unindexed(&self) -> Result<bool>;

    /// Indexes for search every message not yet indexed (in a write transaction).
    fn index_messages_for_search(&self) -> Result<()>;

    /// Inserts a message; returns its seq (its position in the message order).
    fn insert_message(&self, message: &NewMessage<'_>) -> Result<i64>;

    /// Inserts a delivery of message `seq` to each of `recipients`, delivered at `now`.
    fn insert_message_deliveries(
        &self,
        seq: i64,
        recipients: &[String],
        now: Timestamp,
    ) -> Result<()>;

    /// Message `id` as `viewer` sees it, or `None` if it does not exist or `viewer`
    /// neither wrote nor received it.
    fn fetch_message(&self, viewer: &str, id: &str) -> Result<Option<Message>>;

    /// Up to `limit` messages `author` wrote with a seq below `before`, newest first.
    fn sent_messages(&self, author: &str, before: i64, limit: u32) -> Result<Vec<Message>>;

    /// Every recipient's state of message `seq`, by recipient name.
    fn message_deliveries(&self, seq: i64) -> Result<Vec<Delivery>>;

    /// Up to `limit` of `viewer`'s received messages, unread ones (`unread`) or read ones,
    /// with a seq below `below`, newest first, that match `filter`'s sender, priority and
    /// `unseen_by` session and are in `thread` when given (its `thread`, `unread_only`,
    /// `cursor` and `limit` are not read).
    fn inbox_messages(
        &self,
        viewer: &str,
        filter: &InboxFilter,
        thread: Option<&str>,
        unread: bool,
        below: i64,
        limit: usize,
    ) -> Result<Vec<Message>>;

    /// `viewer`'s count of unread, not deleted messages, or `None` if it is not registered.
    fn unread_message_count(&self, viewer: &str) -> Result<Option<i64>>;

    /// Records messages `seqs` as shown to `session` at `now` (those shown before keep
    /// their first time).
    fn insert_messages_shown(&self, session: &str, seqs: &[i64], now: Timestamp) -> Result<()>;

    /// Marks `viewer`'s deliveries of `seqs` that are neither read nor notified as notified
    /// at `now`; returns the id and thread of each message changed, in `seqs` order.
    fn mark_messages_notified(
        &self,
        viewer: &str,
        seqs: &[i64],
        now: Timestamp,
    ) -> Result<Vec<(String, String)>>;

    /// How many unread, not deleted messages of `viewer`'s `session` neither was shown nor
    /// was announced (seq above the session's announced seq).
    fn count_unheard_messages(&self, viewer: &str, session: &str) -> Result<i64>;

    /// The newest `limit` of the messages [`MessageRows::count_unheard_messages`] counts,
    /// newest first.
    fn unheard_messages(&self, viewer: &str, session: &str, limit: u32) -> Result<Vec<Message>>;

    /// Raises `session`'s announced seq to `seq` (never lowers it).
    fn raise_announced_message_seq(&self, session: &str, seq: i64) -> Result<()>;

    /// The seqs of `viewer`'s deliveries neither read nor notified, up to seq `up_to`.
    fn unnotified_message_seqs(&self, viewer: &str, up_to: i64) -> Result<Vec<i64>>;

    /// Up to `limit` of `viewer`'s unread, not deleted messages above `session`'s stop
    /// held seq that are urgent, ask for an acknowledgement or reply to a message
    /// `viewer` wrote, oldest first.
    fn stop_hold_messages(&self, viewer: &str, session: &str, limit: u32) -> Result<Vec<Message>>;

    /// Raises `session`'s stop held seq to `seq` (never lowers it).
    fn raise_stop_held_message_seq(&self, session: &str, seq: i64) -> Result<()>;

    /// Up to `limit` unread deliveries of not deleted messages to agents (not humans),
    /// delivered before `cutoff`, oldest first; `about` is the whole subject, else body.
    fn overdue_messages(&self, cutoff: Timestamp, limit: u32) -> Result<Vec<Overdue>>;

    /// Marks `viewer`'s delivery of message `seq` read at `now` (if unread), or with
    /// `acked` acknowledged (and read, if unread) at `now` (if not acknowledged); returns
    /// whether it changed.
    fn mark_message_delivery(
        &self,
        viewer: &str,
        seq: i64,
        acked: bool,
        now: Timestamp,
    ) -> Result<bool>;

    /// The current subject and body of message `seq` and when they were written (edited,
    /// or else sent), or `None` if there is no such message.
    fn fetch_message_text(&self, seq: i64) -> Result<Option<(Option<String>, String, Timestamp)>>;

    /// Inserts the next version (numbered after the existing ones) of message `seq`.
    fn insert_message_version(
        &self,
        seq: i64,
        subject: Option<&str>,
        body: &str,
        written_at: Timestamp,
    ) -> Result<()>;

    /// Replaces message `seq`'s body and (when given) subject, edited at `now`.
    fn update_message_text(
        &self,
        seq: i64,
        body: &str,
        subject: Option<&str>,
        now: Timestamp,
    ) -> Result<()>;

    /// The earlier versions of message `seq`, oldest first.
    fn message_versions(&self, seq: i64) -> Result<Vec<Version>>;

    /// Marks message `seq` deleted at `now`.
    fn update_message_deleted(&self, seq: i64, now: Timestamp) -> Result<()>;

    /// Up to `limit` not deleted messages `viewer` wrote or received whose subject or body
    /// holds every one of `terms`, best match first, each with a snippet of its matching
    /// text (the matches in brackets); limited by `filter`'s sender, priority and
    /// `unread_only`, and to `thread` when given.
    ///
    /// A term is a word and whether it matches as a prefix (the start of a word). Its word
    /// is split as indexed text is (at punctuation) and matches as a phrase of its parts; a
    /// term with no part (only punctuation) is left out, and terms that are all such find
    /// nothing. Nothing in a word is query syntax.
    fn search_messages(
        &self,
        viewer: &str,
        terms: &[Term<'_>],
        filter: &InboxFilter,
        thread: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Hit>>;
}
