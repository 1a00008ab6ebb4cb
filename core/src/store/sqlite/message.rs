//! Messages, their recipients' states, versions, threads, inbox pages and search, in SQL.

use rusqlite::{OptionalExtension, Row, ToSql, named_params};

use super::Tx;
use crate::Result;
use crate::clock::Timestamp;
use crate::message::{
    Delivery, DeliveryState, Hit, InboxFilter, Message, NewMessage, Overdue, Term, Version,
};
use crate::priority::Priority;
use crate::store::rows::MessageRows;

/// Messages are indexed for full-text search when their seq is a multiple of this (every
/// message written since the last batch, at once), and before any search.
const SEARCH_BATCH: i64 = 32;

const COLUMNS: &str = "m.seq, m.id, m.thread_id, m.reply_to, m.author, m.author_session, m.addressed_to, \
     m.subject, m.body, m.priority, m.ack_required, m.refs, m.created_at, m.edited_at, m.deleted_at, \
     d.recipient IS NOT NULL, d.read_at, d.acked_at, d.notified_at";

/// `FROM` clause joining the viewer's delivery (`:viewer`) to each message.
const FROM_VISIBLE: &str =
    "FROM messages m LEFT JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = :viewer";
/// The viewer wrote or received it.
const VISIBLE: &str = "(m.author = :viewer OR d.recipient IS NOT NULL)";

/// Unread, not deleted messages of `:viewer` that session `:session` was neither shown
/// nor told of.
const UNHEARD: &str = "FROM deliveries d JOIN messages m ON m.seq = d.message_seq
         WHERE d.recipient = :viewer AND d.read_at IS NULL AND m.deleted_at IS NULL
           AND d.message_seq > (SELECT announced_seq FROM sessions WHERE id = :session)
           AND NOT EXISTS (SELECT 1 FROM shown s WHERE s.session_id = :session AND s.message_seq = d.message_seq)";

const INSERT_THREAD: &str = "INSERT INTO threads (id, subject, created_by, created_at, last_message_at) VALUES (?1, ?2, ?3, ?4, ?4)";

/// A message from a row of [`COLUMNS`].
fn from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let deleted_at: Option<i64> = r.get(14)?;
    let to: String = r.get(6)?;
    let refs: String = r.get(11)?;
    let is_recipient: bool = r.get(15)?;
    Ok(Message {
        seq: r.get(0)?,
        id: r.get(1)?,
        thread: r.get(2)?,
        reply_to: r.get(3)?,
        sender: r.get(4)?,
        sender_session: r.get(5)?,
        to: serde_json::from_str(&to).unwrap_or_default(),
        subject: r.get(7)?,
        body: if deleted_at.is_some() {
            None
        } else {
            Some(r.get(8)?)
        },
        priority: Priority::from_rank(r.get(9)?),
        ack_required: r.get(10)?,
        refs: serde_json::from_str(&refs).unwrap_or_default(),
        sent_at: Timestamp(r.get(12)?),
        edited_at: r.get::<_, Option<i64>>(13)?.map(Timestamp),
        deleted_at: deleted_at.map(Timestamp),
        state: is_recipient.then(|| {
            DeliveryState::from_times(
                r.get::<_, Option<i64>>(16).ok().flatten().map(Timestamp),
                r.get::<_, Option<i64>>(17).ok().flatten().map(Timestamp),
                r.get::<_, Option<i64>>(18).ok().flatten().map(Timestamp),
            )
        }),
    })
}

impl MessageRows for Tx<'_> {
    fn insert_thread(
        &self,
        id: &str,
        subject: Option<&str>,
        created_by: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.tx
            .prepare_cached(INSERT_THREAD)?
            .execute((id, subject, created_by, now.millis()))?;
        Ok(())
    }

    fn update_thread_last_message(&self, id: &str, now: Timestamp) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE threads SET last_message_at = ?2 WHERE id = ?1")?
            .execute((id, now.millis()))?;
        Ok(())
    }

    fn fetch_thread_subject(&self, id: &str) -> Result<Option<String>> {
        let subject: Option<Option<String>> = self
            .tx
            .prepare_cached("SELECT subject FROM threads WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(subject.flatten())
    }

    fn thread_participants(&self, thread: &str, except_author: &str) -> Result<Vec<String>> {
        let names = self
            .tx.prepare_cached(
                "SELECT author FROM messages WHERE thread_id = ?1 AND author <> ?2
             UNION SELECT d.recipient FROM deliveries d JOIN messages m ON m.seq = d.message_seq WHERE m.thread_id = ?1
             ORDER BY 1",
            )?
            .query_map([thread, except_author], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    fn thread_messages(&self, viewer: &str, thread: &str) -> Result<Vec<Message>> {
        let messages = self
            .tx.prepare_cached(&format!(
                "SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.thread_id = :thread AND {VISIBLE} ORDER BY m.seq"
            ))?
            .query_map(named_params! {":viewer": viewer, ":thread": thread}, from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(messages)
    }

    fn insert_message(&self, m: &NewMessage<'_>) -> Result<i64> {
        self.tx.prepare_cached(
            "INSERT INTO messages (id, thread_id, reply_to, author, author_session, addressed_to, subject, body, priority, ack_required, refs, created_at)
         VALUES (:id, :thread, :reply_to, :author, :session, :to, :subject, :body, :priority, :ack, :refs, :now)",
        )?
        .execute(named_params! {
            ":id": m.id, ":thread": m.thread, ":reply_to": m.reply_to, ":author": m.author, ":session": m.session,
            ":to": serde_json::to_string(m.to)?, ":subject": m.subject,
            ":body": m.body, ":priority": m.priority.rank(), ":ack": m.ack_required,
            ":refs": serde_json::to_string(m.refs)?, ":now": m.now.millis(),
        })?;
        let seq = self.tx.last_insert_rowid();
        // Indexing for search in batches: one index segment per batch instead of per
        // message (full-text indexing was a third of the pages a send wrote).
        if seq % SEARCH_BATCH == 0 {
            self.index_messages_for_search()?;
        }
        Ok(seq)
    }

    fn messages_unindexed(&self) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM messages \
                 WHERE seq > (SELECT indexed_upto FROM search_index WHERE id = 1))",
            )?
            .query_row([], |r| r.get(0))?)
    }

    fn index_messages_for_search(&self) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO messages_fts (rowid, subject, body) \
                 SELECT seq, subject, body FROM messages \
                 WHERE seq > (SELECT indexed_upto FROM search_index WHERE id = 1) \
                   AND deleted_at IS NULL ORDER BY seq",
            )?
            .execute([])?;
        self.tx
            .prepare_cached(
                "UPDATE search_index SET indexed_upto = (SELECT COALESCE(MAX(seq), 0) FROM messages) \
                 WHERE id = 1",
            )?
            .execute([])?;
        Ok(())
    }

    fn insert_message_deliveries(
        &self,
        seq: i64,
        recipients: &[String],
        now: Timestamp,
    ) -> Result<()> {
        let mut deliver = self.tx.prepare_cached(
            "INSERT INTO deliveries (recipient, message_seq, delivered_at) VALUES (?1, ?2, ?3)",
        )?;
        for recipient in recipients {
            deliver.execute((recipient, seq, now.millis()))?;
        }
        Ok(())
    }

    fn fetch_message(&self, viewer: &str, id: &str) -> Result<Option<Message>> {
        Ok(self
            .tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.id = :id AND {VISIBLE}"
            ))?
            .query_row(named_params! {":viewer": viewer, ":id": id}, from_row)
            .optional()?)
    }

    fn sent_messages(&self, author: &str, before: i64, limit: u32) -> Result<Vec<Message>> {
        let messages = self
            .tx.prepare_cached(&format!(
                "SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.author = :viewer AND m.seq < :before ORDER BY m.seq DESC LIMIT :limit"
            ))?
            .query_map(
                named_params! {":viewer": author, ":before": before, ":limit": limit},
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(messages)
    }

    fn message_deliveries(&self, seq: i64) -> Result<Vec<Delivery>> {
        let rows = self
            .tx.prepare_cached("SELECT recipient, read_at, acked_at, notified_at FROM deliveries WHERE message_seq = ?1 ORDER BY recipient")?
            .query_map([seq], |r| {
                let read_at = r.get::<_, Option<i64>>(1)?.map(Timestamp);
                let acked_at = r.get::<_, Option<i64>>(2)?.map(Timestamp);
                let notified_at = r.get::<_, Option<i64>>(3)?.map(Timestamp);
                Ok(Delivery {
                    recipient: r.get(0)?,
                    state: DeliveryState::from_times(read_at, acked_at, notified_at),
                    notified_at,
                    read_at,
                    acked_at,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn inbox_messages(
        &self,
        viewer: &str,
        filter: &InboxFilter,
        thread: Option<&str>,
        unread: bool,
        below: i64,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let mut sql = format!(
            "SELECT {COLUMNS} FROM deliveries d JOIN messages m ON m.seq = d.message_seq
         WHERE d.recipient = :viewer AND d.message_seq < :below AND d.read_at IS {} NULL",
            if unread { "" } else { "NOT" }
        );
        let mut values: Vec<(&str, Box<dyn ToSql>)> = vec![
            (":viewer", Box::new(viewer.to_string())),
            (":below", Box::new(below)),
            (":limit", Box::new(limit as i64)),
        ];
        if let Some(from) = &filter.from {
            sql.push_str(" AND m.author = :from");
            values.push((":from", Box::new(from.clone())));
        }
        if let Some(thread) = thread {
            sql.push_str(" AND m.thread_id = :thread");
            values.push((":thread", Box::new(thread.to_string())));
        }
        if let Some(p) = filter.min_priority {
            sql.push_str(" AND m.priority >= :priority");
            values.push((":priority", Box::new(p.rank())));
        }
        if let Some(session) = &filter.unseen_by {
            sql.push_str(
                " AND NOT EXISTS (SELECT 1 FROM shown s WHERE s.session_id = :session AND s.message_seq = d.message_seq)",
            );
            values.push((":session", Box::new(session.clone())));
        }
        sql.push_str(" ORDER BY d.message_seq DESC LIMIT :limit");
        let params: Vec<(&str, &dyn ToSql)> =
            values.iter().map(|(n, v)| (*n, v.as_ref())).collect();
        let rows = self
            .tx
            .prepare_cached(&sql)?
            .query_map(params.as_slice(), from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn unread_message_count(&self, viewer: &str) -> Result<Option<i64>> {
        Ok(self
            .tx
            .prepare_cached("SELECT unread FROM agents WHERE name = ?1")?
            .query_row([viewer], |r| r.get(0))
            .optional()?)
    }

    fn insert_messages_shown(&self, session: &str, seqs: &[i64], now: Timestamp) -> Result<()> {
        let mut insert = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO shown (session_id, message_seq, shown_at) VALUES (?1, ?2, ?3)",
        )?;
        for seq in seqs {
            insert.execute((session, seq, now.millis()))?;
        }
        Ok(())
    }

    fn mark_messages_notified(
        &self,
        viewer: &str,
        seqs: &[i64],
        now: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        let mut update = self.tx.prepare_cached(
            "UPDATE deliveries SET notified_at = ?3
         WHERE recipient = ?1 AND message_seq = ?2 AND notified_at IS NULL AND read_at IS NULL",
        )?;
        let mut changed = Vec::new();
        for seq in seqs {
            if update.execute((viewer, seq, now.millis()))? > 0 {
                changed.push(*seq);
            }
        }
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let mut find = self
            .tx
            .prepare_cached("SELECT id, thread_id FROM messages WHERE seq = ?1")?;
        let found = changed
            .iter()
            .map(|seq| find.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?))))
            .collect::<rusqlite::Result<_>>()?;
        Ok(found)
    }

    fn count_unheard_messages(&self, viewer: &str, session: &str) -> Result<i64> {
        let whose = named_params! {":viewer": viewer, ":session": session};
        Ok(self
            .tx
            .prepare_cached(&format!("SELECT COUNT(*) {UNHEARD}"))?
            .query_row(whose, |r| r.get(0))?)
    }

    fn unheard_messages(&self, viewer: &str, session: &str, limit: u32) -> Result<Vec<Message>> {
        let messages = self
            .tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} {UNHEARD} ORDER BY d.message_seq DESC LIMIT :limit"
            ))?
            .query_map(
                named_params! {":viewer": viewer, ":session": session, ":limit": limit},
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(messages)
    }

    fn raise_announced_message_seq(&self, session: &str, seq: i64) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE sessions SET announced_seq = MAX(announced_seq, ?2) WHERE id = ?1",
            )?
            .execute((session, seq))?;
        Ok(())
    }

    fn unnotified_message_seqs(&self, viewer: &str, up_to: i64) -> Result<Vec<i64>> {
        let seqs = self
            .tx.prepare_cached(
                "SELECT message_seq FROM deliveries
                     WHERE recipient = ?1 AND read_at IS NULL AND notified_at IS NULL AND message_seq <= ?2",
            )?
            .query_map((viewer, up_to), |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(seqs)
    }

    fn stop_hold_messages(&self, viewer: &str, session: &str, limit: u32) -> Result<Vec<Message>> {
        let held = self
            .tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                 WHERE d.recipient = :viewer AND d.read_at IS NULL AND m.deleted_at IS NULL
                   AND d.message_seq > (SELECT stop_held_seq FROM sessions WHERE id = :session)
                   AND (m.priority = :urgent OR m.ack_required
                        OR m.reply_to IN (SELECT id FROM messages WHERE author = :viewer))
                 ORDER BY d.message_seq LIMIT :limit"
            ))?
            .query_map(
                named_params! {
                    ":viewer": viewer, ":session": session,
                    ":urgent": Priority::Urgent.rank(), ":limit": limit,
                },
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(held)
    }

    fn raise_stop_held_message_seq(&self, session: &str, seq: i64) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE sessions SET stop_held_seq = MAX(stop_held_seq, ?2) WHERE id = ?1",
            )?
            .execute((session, seq))?;
        Ok(())
    }

    fn overdue_messages(&self, cutoff: Timestamp, limit: u32) -> Result<Vec<Overdue>> {
        let rows = self
            .tx.prepare_cached(
                "SELECT m.id, m.thread_id, m.author, d.recipient, COALESCE(m.subject, m.body), m.priority, d.delivered_at
                 FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                      JOIN agents a ON a.name = d.recipient AND a.kind = 'agent'
                 WHERE d.read_at IS NULL AND m.deleted_at IS NULL AND d.delivered_at < ?1
                 ORDER BY d.delivered_at LIMIT ?2",
            )?
            .query_map((cutoff.millis(), limit), |r| {
                Ok(Overdue {
                    id: r.get(0)?,
                    thread: r.get(1)?,
                    sender: r.get(2)?,
                    recipient: r.get(3)?,
                    about: r.get(4)?,
                    priority: Priority::from_rank(r.get(5)?),
                    delivered_at: Timestamp(r.get(6)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn mark_message_delivery(
        &self,
        viewer: &str,
        seq: i64,
        acked: bool,
        now: Timestamp,
    ) -> Result<bool> {
        let sql = if acked {
            "UPDATE deliveries SET read_at = COALESCE(read_at, ?3), acked_at = ?3
                 WHERE recipient = ?1 AND message_seq = ?2 AND acked_at IS NULL"
        } else {
            "UPDATE deliveries SET read_at = ?3 WHERE recipient = ?1 AND message_seq = ?2 AND read_at IS NULL"
        };
        Ok(self
            .tx
            .prepare_cached(sql)?
            .execute((viewer, seq, now.millis()))?
            > 0)
    }

    fn fetch_message_text(&self, seq: i64) -> Result<Option<(Option<String>, String, Timestamp)>> {
        Ok(self
            .tx.prepare_cached("SELECT subject, body, COALESCE(edited_at, created_at) FROM messages WHERE seq = ?1")?
            .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, Timestamp(r.get(2)?))))
            .optional()?)
    }

    fn insert_message_version(
        &self,
        seq: i64,
        subject: Option<&str>,
        body: &str,
        written_at: Timestamp,
    ) -> Result<()> {
        self.tx.prepare_cached(
            "INSERT INTO message_versions (message_seq, version, subject, body, written_at)
             VALUES (?1, (SELECT COUNT(*) + 1 FROM message_versions WHERE message_seq = ?1), ?2, ?3, ?4)",
        )?
        .execute((seq, subject, body, written_at.millis()))?;
        Ok(())
    }

    fn update_message_text(
        &self,
        seq: i64,
        body: &str,
        subject: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.tx.prepare_cached("UPDATE messages SET body = ?2, subject = COALESCE(?3, subject), edited_at = ?4 WHERE seq = ?1")?
            .execute((seq, body, subject, now.millis()))?;
        Ok(())
    }

    fn message_versions(&self, seq: i64) -> Result<Vec<Version>> {
        let versions = self
            .tx.prepare_cached("SELECT version, subject, body, written_at FROM message_versions WHERE message_seq = ?1 ORDER BY version")?
            .query_map([seq], |r| {
                Ok(Version {
                    version: r.get(0)?,
                    subject: r.get(1)?,
                    body: r.get(2)?,
                    written_at: Timestamp(r.get(3)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(versions)
    }

    fn update_message_deleted(&self, seq: i64, now: Timestamp) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE messages SET deleted_at = ?2 WHERE seq = ?1")?
            .execute((seq, now.millis()))?;
        Ok(())
    }

    fn search_messages(
        &self,
        viewer: &str,
        terms: &[Term<'_>],
        filter: &InboxFilter,
        thread: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Hit>> {
        let query = fts5_query(terms);
        let sql = format!(
            "SELECT {COLUMNS}, snippet(messages_fts, -1, '[', ']', '…', 16)
             FROM messages_fts f JOIN messages m ON m.seq = f.rowid
             LEFT JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = :viewer
             WHERE messages_fts MATCH :query AND {VISIBLE} AND m.deleted_at IS NULL
               AND (:from IS NULL OR m.author = :from)
               AND (:thread IS NULL OR m.thread_id = :thread)
               AND m.priority >= :priority
               AND (:unread = 0 OR (d.recipient IS NOT NULL AND d.read_at IS NULL))
             ORDER BY rank LIMIT :limit"
        );
        let hits = self
            .tx
            .prepare_cached(&sql)?
            .query_map(
                named_params! {
                    ":viewer": viewer, ":query": query, ":from": filter.from, ":thread": thread,
                    ":priority": filter.min_priority.unwrap_or(Priority::Low).rank(),
                    ":unread": filter.unread_only, ":limit": limit,
                },
                |r| {
                    Ok(Hit {
                        message: from_row(r)?,
                        snippet: r.get(19)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(hits)
    }
}

/// `terms` (see [`MessageRows::search_messages`]) as an FTS5 query: each word a quoted
/// string (its quotes doubled, so nothing in it is syntax: FTS5 splits it into a phrase of
/// tokens), followed by `*` to match as a prefix; all must match.
fn fts5_query(terms: &[Term<'_>]) -> String {
    let quoted: Vec<String> = terms
        .iter()
        .map(|Term { word, prefix }| {
            let star = if *prefix { "*" } else { "" };
            format!("\"{}\"{star}", word.replace('"', "\"\""))
        })
        .collect();
    quoted.join(" ")
}

#[cfg(test)]
mod tests {
    use super::fts5_query;
    use crate::message::Term;

    #[test]
    fn search_terms_are_quoted_strings_so_nothing_in_them_is_syntax() {
        assert_eq!(
            fts5_query(&[Term {
                word: "\"unbalanced",
                prefix: false
            }]),
            "\"\"\"unbalanced\""
        );
        assert_eq!(
            fts5_query(&[
                Term {
                    word: "plan",
                    prefix: true
                },
                Term {
                    word: "(quote",
                    prefix: false
                },
                Term {
                    word: "AND",
                    prefix: false
                }
            ]),
            "\"plan\"* \"(quote\" \"AND\""
        );
    }
}
