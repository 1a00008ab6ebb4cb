//! Messages, their recipients' states, versions, threads, inbox pages and search, in SQL.
//!
//! Search reads the messages' own `search` column, which PostgreSQL keeps up to date (see
//! the baseline migration): every message is indexed as it is written, edited or deleted.

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::Tx;
use super::integer::narrow;
use crate::Result;
use crate::clock::Timestamp;
use crate::message::{
    Delivery, DeliveryState, Hit, InboxFilter, Message, NewMessage, Overdue, Term, Version,
};
use crate::priority::Priority;
use crate::store::rows::MessageRows;

const COLUMNS: &str = "m.seq, m.id, m.thread_id, m.reply_to, m.author, m.author_session, m.addressed_to, \
     m.subject, m.body, m.priority, m.ack_required, m.refs, m.created_at, m.edited_at, m.deleted_at, \
     d.recipient IS NOT NULL, d.read_at, d.acked_at, d.notified_at";

/// `FROM` clause joining the viewer's delivery (`$1`) to each message.
const FROM_VISIBLE: &str =
    "FROM messages m LEFT JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = $1";
/// The viewer (`$1`) wrote or received it.
const VISIBLE: &str = "(m.author = $1 OR d.recipient IS NOT NULL)";

/// Unread, not deleted messages of `$1` that session `$2` was neither shown nor told of.
const UNHEARD: &str = "FROM deliveries d JOIN messages m ON m.seq = d.message_seq
         WHERE d.recipient = $1 AND d.read_at IS NULL AND m.deleted_at IS NULL
           AND d.message_seq > (SELECT announced_seq FROM sessions WHERE id = $2)
           AND NOT EXISTS (SELECT 1 FROM shown s WHERE s.session_id = $2 AND s.message_seq = d.message_seq)";

/// How a search's snippet is cut from its text (`ts_headline` options but the markers):
/// one fragment of at most 16 words around the matches, as SQLite's snippet, short words
/// kept at its ends.
const HEADLINE: &str = "MaxFragments=1, MaxWords=16, MinWords=15, ShortWord=0";

/// A message from a row of [`COLUMNS`].
fn from_row(r: &Row) -> Message {
    let deleted_at: Option<i64> = r.get(14);
    let to: String = r.get(6);
    let refs: String = r.get(11);
    let is_recipient: bool = r.get(15);
    let ack_required: i64 = r.get(10);
    Message {
        seq: r.get(0),
        id: r.get(1),
        thread: r.get(2),
        reply_to: r.get(3),
        sender: r.get(4),
        sender_session: r.get(5),
        to: serde_json::from_str(&to).unwrap_or_default(),
        subject: r.get(7),
        body: if deleted_at.is_some() {
            None
        } else {
            Some(r.get(8))
        },
        priority: Priority::from_rank(r.get(9)),
        ack_required: ack_required != 0,
        refs: serde_json::from_str(&refs).unwrap_or_default(),
        sent_at: Timestamp(r.get(12)),
        edited_at: r.get::<_, Option<i64>>(13).map(Timestamp),
        deleted_at: deleted_at.map(Timestamp),
        state: is_recipient.then(|| {
            DeliveryState::from_times(
                r.get::<_, Option<i64>>(16).map(Timestamp),
                r.get::<_, Option<i64>>(17).map(Timestamp),
                r.get::<_, Option<i64>>(18).map(Timestamp),
            )
        }),
    }
}

impl MessageRows for Tx<'_> {
    fn insert_thread(
        &self,
        id: &str,
        subject: Option<&str>,
        created_by: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO threads (id, subject, created_by, created_at, last_message_at)
             VALUES ($1, $2, $3, $4, $4)",
            &[&id, &subject, &created_by, &now.millis()],
        )?;
        Ok(())
    }

    fn update_thread_last_message(&self, id: &str, now: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE threads SET last_message_at = $2 WHERE id = $1",
            &[&id, &now.millis()],
        )?;
        Ok(())
    }

    fn fetch_thread_subject(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt("SELECT subject FROM threads WHERE id = $1", &[&id])?
            .and_then(|r| r.get(0)))
    }

    fn thread_participants(&self, thread: &str, except_author: &str) -> Result<Vec<String>> {
        let rows = self.query(
            "SELECT author FROM messages WHERE thread_id = $1 AND author <> $2
             UNION SELECT d.recipient FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                   WHERE m.thread_id = $1
             ORDER BY 1",
            &[&thread, &except_author],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn thread_messages(&self, viewer: &str, thread: &str) -> Result<Vec<Message>> {
        let rows = self.query(
            &format!(
                "SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.thread_id = $2 AND {VISIBLE} ORDER BY m.seq"
            ),
            &[&viewer, &thread],
        )?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Never: PostgreSQL indexes a message as it is written.
    fn messages_unindexed(&self) -> Result<bool> {
        Ok(false)
    }

    /// Nothing to do: PostgreSQL indexes a message as it is written.
    fn index_messages_for_search(&self) -> Result<()> {
        Ok(())
    }

    fn insert_message(&self, m: &NewMessage<'_>) -> Result<i64> {
        let row = self.query_one(
            "INSERT INTO messages (id, thread_id, reply_to, author, author_session, addressed_to,
                                   subject, body, priority, ack_required, refs, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             RETURNING seq",
            &[
                &m.id,
                &m.thread,
                &m.reply_to,
                &m.author,
                &m.session,
                &serde_json::to_string(m.to)?,
                &m.subject,
                &m.body,
                &m.priority.rank(),
                &i64::from(m.ack_required),
                &serde_json::to_string(m.refs)?,
                &m.now.millis(),
            ],
        )?;
        Ok(row.get(0))
    }

    fn insert_message_deliveries(
        &self,
        seq: i64,
        recipients: &[String],
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO deliveries (recipient, message_seq, delivered_at)
             SELECT recipient, $2::bigint, $3::bigint FROM unnest($1::text[]) AS recipient",
            &[&recipients, &seq, &now.millis()],
        )?;
        Ok(())
    }

    fn fetch_message(&self, viewer: &str, id: &str) -> Result<Option<Message>> {
        Ok(self
            .query_opt(
                &format!("SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.id = $2 AND {VISIBLE}"),
                &[&viewer, &id],
            )?
            .as_ref()
            .map(from_row))
    }

    fn sent_messages(&self, author: &str, before: i64, limit: u32) -> Result<Vec<Message>> {
        let rows = self.query(
            &format!(
                "SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.author = $1 AND m.seq < $2
                 ORDER BY m.seq DESC LIMIT $3"
            ),
            &[&author, &before, &i64::from(limit)],
        )?;
        Ok(rows.iter().map(from_row).collect())
    }

    fn message_deliveries(&self, seq: i64) -> Result<Vec<Delivery>> {
        let rows = self.query(
            "SELECT recipient, read_at, acked_at, notified_at FROM deliveries
             WHERE message_seq = $1 ORDER BY recipient",
            &[&seq],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let read_at = r.get::<_, Option<i64>>(1).map(Timestamp);
                let acked_at = r.get::<_, Option<i64>>(2).map(Timestamp);
                let notified_at = r.get::<_, Option<i64>>(3).map(Timestamp);
                Delivery {
                    recipient: r.get(0),
                    state: DeliveryState::from_times(read_at, acked_at, notified_at),
                    notified_at,
                    read_at,
                    acked_at,
                }
            })
            .collect())
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
             WHERE d.recipient = $1 AND d.message_seq < $2 AND d.read_at IS {} NULL",
            if unread { "" } else { "NOT" }
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&viewer, &below, &limit];
        let priority = filter.min_priority.map(Priority::rank);
        if let Some(from) = &filter.from {
            params.push(from);
            sql.push_str(&format!(" AND m.author = ${}", params.len()));
        }
        if let Some(thread) = &thread {
            params.push(thread);
            sql.push_str(&format!(" AND m.thread_id = ${}", params.len()));
        }
        if let Some(priority) = &priority {
            params.push(priority);
            sql.push_str(&format!(" AND m.priority >= ${}", params.len()));
        }
        if let Some(session) = &filter.unseen_by {
            params.push(session);
            sql.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM shown s WHERE s.session_id = ${} AND s.message_seq = d.message_seq)",
                params.len()
            ));
        }
        sql.push_str(" ORDER BY d.message_seq DESC LIMIT $3");
        let rows = self.query(&sql, &params)?;
        Ok(rows.iter().map(from_row).collect())
    }

    fn unread_message_count(&self, viewer: &str) -> Result<Option<i64>> {
        Ok(self
            .query_opt("SELECT unread FROM agents WHERE name = $1", &[&viewer])?
            .map(|r| r.get(0)))
    }

    fn insert_messages_shown(&self, session: &str, seqs: &[i64], now: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO shown (session_id, message_seq, shown_at)
             SELECT $1::text, seq, $3::bigint FROM unnest($2::bigint[]) AS seq
             ON CONFLICT DO NOTHING",
            &[&session, &seqs, &now.millis()],
        )?;
        Ok(())
    }

    fn mark_messages_notified(
        &self,
        viewer: &str,
        seqs: &[i64],
        now: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        let rows = self.query(
            "WITH changed AS (
                 UPDATE deliveries SET notified_at = $3
                 WHERE recipient = $1 AND message_seq = ANY($2::bigint[])
                   AND notified_at IS NULL AND read_at IS NULL
                 RETURNING message_seq
             )
             SELECT m.id, m.thread_id FROM changed c JOIN messages m ON m.seq = c.message_seq
             ORDER BY array_position($2::bigint[], c.message_seq)",
            &[&viewer, &seqs, &now.millis()],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn count_unheard_messages(&self, viewer: &str, session: &str) -> Result<i64> {
        Ok(self
            .query_one(&format!("SELECT COUNT(*) {UNHEARD}"), &[&viewer, &session])?
            .get(0))
    }

    fn unheard_messages(&self, viewer: &str, session: &str, limit: u32) -> Result<Vec<Message>> {
        let rows = self.query(
            &format!("SELECT {COLUMNS} {UNHEARD} ORDER BY d.message_seq DESC LIMIT $3"),
            &[&viewer, &session, &i64::from(limit)],
        )?;
        Ok(rows.iter().map(from_row).collect())
    }

    fn raise_announced_message_seq(&self, session: &str, seq: i64) -> Result<()> {
        self.execute(
            "UPDATE sessions SET announced_seq = GREATEST(announced_seq, $2) WHERE id = $1",
            &[&session, &seq],
        )?;
        Ok(())
    }

    fn unnotified_message_seqs(&self, viewer: &str, up_to: i64) -> Result<Vec<i64>> {
        let rows = self.query(
            "SELECT message_seq FROM deliveries
             WHERE recipient = $1 AND read_at IS NULL AND notified_at IS NULL AND message_seq <= $2
             ORDER BY message_seq",
            &[&viewer, &up_to],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn stop_hold_messages(&self, viewer: &str, session: &str, limit: u32) -> Result<Vec<Message>> {
        let rows = self.query(
            &format!(
                "SELECT {COLUMNS} FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                 WHERE d.recipient = $1 AND d.read_at IS NULL AND m.deleted_at IS NULL
                   AND d.message_seq > (SELECT stop_held_seq FROM sessions WHERE id = $2)
                   AND (m.priority = $3 OR m.ack_required <> 0
                        OR m.reply_to IN (SELECT id FROM messages WHERE author = $1))
                 ORDER BY d.message_seq LIMIT $4"
            ),
            &[
                &viewer,
                &session,
                &Priority::Urgent.rank(),
                &i64::from(limit),
            ],
        )?;
        Ok(rows.iter().map(from_row).collect())
    }

    fn raise_stop_held_message_seq(&self, session: &str, seq: i64) -> Result<()> {
        self.execute(
            "UPDATE sessions SET stop_held_seq = GREATEST(stop_held_seq, $2) WHERE id = $1",
            &[&session, &seq],
        )?;
        Ok(())
    }

    fn overdue_messages(&self, cutoff: Timestamp, limit: u32) -> Result<Vec<Overdue>> {
        let rows = self.query(
            "SELECT m.id, m.thread_id, m.author, d.recipient, COALESCE(m.subject, m.body),
                    m.priority, d.delivered_at
             FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                  JOIN agents a ON a.name = d.recipient AND a.kind = 'agent'
             WHERE d.read_at IS NULL AND m.deleted_at IS NULL AND d.delivered_at < $1
             ORDER BY d.delivered_at LIMIT $2",
            &[&cutoff.millis(), &i64::from(limit)],
        )?;
        Ok(rows
            .iter()
            .map(|r| Overdue {
                id: r.get(0),
                thread: r.get(1),
                sender: r.get(2),
                recipient: r.get(3),
                about: r.get(4),
                priority: Priority::from_rank(r.get(5)),
                delivered_at: Timestamp(r.get(6)),
            })
            .collect())
    }

    fn mark_message_delivery(
        &self,
        viewer: &str,
        seq: i64,
        acked: bool,
        now: Timestamp,
    ) -> Result<bool> {
        let sql = if acked {
            "UPDATE deliveries SET read_at = COALESCE(read_at, $3), acked_at = $3
             WHERE recipient = $1 AND message_seq = $2 AND acked_at IS NULL"
        } else {
            "UPDATE deliveries SET read_at = $3
             WHERE recipient = $1 AND message_seq = $2 AND read_at IS NULL"
        };
        Ok(self.execute(sql, &[&viewer, &seq, &now.millis()])? > 0)
    }

    fn fetch_message_text(&self, seq: i64) -> Result<Option<(Option<String>, String, Timestamp)>> {
        Ok(self
            .query_opt(
                "SELECT subject, body, COALESCE(edited_at, created_at) FROM messages WHERE seq = $1",
                &[&seq],
            )?
            .map(|r| (r.get(0), r.get(1), Timestamp(r.get(2)))))
    }

    fn insert_message_version(
        &self,
        seq: i64,
        subject: Option<&str>,
        body: &str,
        written_at: Timestamp,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO message_versions (message_seq, version, subject, body, written_at)
             VALUES ($1, (SELECT COUNT(*) + 1 FROM message_versions WHERE message_seq = $1),
                     $2, $3, $4)",
            &[&seq, &subject, &body, &written_at.millis()],
        )?;
        Ok(())
    }

    fn update_message_text(
        &self,
        seq: i64,
        body: &str,
        subject: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            "UPDATE messages SET body = $2, subject = COALESCE($3, subject), edited_at = $4
             WHERE seq = $1",
            &[&seq, &body, &subject, &now.millis()],
        )?;
        Ok(())
    }

    fn message_versions(&self, seq: i64) -> Result<Vec<Version>> {
        let rows = self.query(
            "SELECT version, subject, body, written_at FROM message_versions
             WHERE message_seq = $1 ORDER BY version",
            &[&seq],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Version {
                    version: narrow(r, 0)?,
                    subject: r.get(1),
                    body: r.get(2),
                    written_at: Timestamp(r.get(3)),
                })
            })
            .collect()
    }

    fn update_message_deleted(&self, seq: i64, now: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE messages SET deleted_at = $2 WHERE seq = $1",
            &[&seq, &now.millis()],
        )?;
        Ok(())
    }

    /// Ranked by `ts_rank` with its default weights (a match in the subject counts more
    /// than one in the body), divided by the logarithm of the message's number of distinct
    /// words (so, as with SQLite's bm25, more matches rank higher and a shorter text above
    /// a longer one with as many), earlier messages first among equals. As SQLite's, the
    /// snippet is cut from the subject or the body, whichever holds more of the terms (the
    /// subject when as many).
    fn search_messages(
        &self,
        viewer: &str,
        terms: &[Term<'_>],
        filter: &InboxFilter,
        thread: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Hit>> {
        // The best messages first, then the snippets of those only. The query is inlined
        // where it is used (not materialized), so the search index finds the matches. In
        // the `search` column the subject's words have weight A, the body's B.
        let sql = format!(
            "WITH query AS NOT MATERIALIZED (SELECT to_tsquery('simple', array_to_string($2::text[], ' & ')) AS q),
             best AS (
                 SELECT m.seq, ts_rank(m.search, query.q, 16) AS rank
                 FROM query CROSS JOIN messages m
                 LEFT JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = $1
                 WHERE m.search @@ query.q AND {VISIBLE} AND m.deleted_at IS NULL
                   AND ($3::text IS NULL OR m.author = $3)
                   AND ($4::text IS NULL OR m.thread_id = $4)
                   AND m.priority >= $5
                   AND (NOT $6 OR (d.recipient IS NOT NULL AND d.read_at IS NULL))
                 ORDER BY rank DESC, m.seq LIMIT $7
             )
             SELECT {COLUMNS}, matched.in_subject,
                    ts_headline('simple', source.text, query.q, 'StartSel=[, StopSel=], {HEADLINE}'),
                    ts_headline('simple', source.text, query.q, 'StartSel=\"\", StopSel=\"\", {HEADLINE}')
             FROM query CROSS JOIN best
             JOIN messages m ON m.seq = best.seq
             LEFT JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = $1
             CROSS JOIN LATERAL (
                 SELECT m.subject IS NOT NULL
                        AND COUNT(*) FILTER (WHERE ts_filter(m.search, '{{a}}') @@ term.q)
                            >= COUNT(*) FILTER (WHERE ts_filter(m.search, '{{b}}') @@ term.q)
                 FROM unnest($2::text[]) AS lexeme, to_tsquery('simple', lexeme) AS term (q)
             ) AS matched (in_subject)
             CROSS JOIN LATERAL (
                 SELECT CASE WHEN matched.in_subject THEN m.subject ELSE m.body END
             ) AS source (text)
             ORDER BY best.rank DESC, m.seq"
        );
        let rows = self.query(
            &sql,
            &[
                &viewer,
                &lexemes(terms),
                &filter.from,
                &thread,
                &filter.min_priority.unwrap_or(Priority::Low).rank(),
                &filter.unread_only,
                &i64::from(limit),
            ],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let message = from_row(r);
                let in_subject: bool = r.get(19);
                let marked: String = r.get(20);
                let plain: String = r.get(21);
                let text = if in_subject {
                    message.subject.as_deref()
                } else {
                    message.body.as_deref()
                };
                Hit {
                    snippet: snippet(text.unwrap_or_default(), &marked, &plain),
                    message,
                }
            })
            .collect())
    }
}

/// `terms` (see [`MessageRows::search_messages`]) as `tsquery` lexemes for `to_tsquery`:
/// each word quoted (its quotes and backslashes doubled, so nothing in it is syntax:
/// `to_tsquery` splits it into words as the index does, a phrase of them when several,
/// and drops it when there are none), followed by `:*` to match as a prefix. Joined by
/// `&`, they are a query that all must match.
fn lexemes(terms: &[Term<'_>]) -> Vec<String> {
    terms
        .iter()
        .map(|Term { word, prefix }| {
            let star = if *prefix { ":*" } else { "" };
            let quoted = word.replace('\\', "\\\\").replace('\'', "''");
            format!("'{quoted}'{star}")
        })
        .collect()
}

/// A search snippet as SQLite's: the headline `marked` (matches in brackets), which is
/// `plain` (the same without them) cut from `text`, with `…` for the words cut before and
/// after it; what is cut holds no word (only spaces or punctuation), it is kept as is.
fn snippet(text: &str, marked: &str, plain: &str) -> String {
    let Some(at) = text.find(plain) else {
        return marked.to_string();
    };
    let edge = |cut: &str| {
        if cut.chars().any(char::is_alphanumeric) {
            "…".to_string()
        } else {
            cut.to_string()
        }
    };
    let (before, after) = (&text[..at], &text[at + plain.len()..]);
    format!("{}{marked}{}", edge(before), edge(after))
}

#[cfg(test)]
mod tests {
    use super::{lexemes, snippet};
    use crate::message::Term;

    #[test]
    fn search_terms_are_quoted_lexemes_so_nothing_in_them_is_syntax() {
        assert_eq!(
            lexemes(&[
                Term {
                    word: "it's",
                    prefix: false
                },
                Term {
                    word: "a\\b",
                    prefix: true
                },
                Term {
                    word: "x&y|!(z)",
                    prefix: false
                }
            ]),
            ["'it''s'", r"'a\\b':*", "'x&y|!(z)'"]
        );
    }

    #[test]
    fn a_snippet_marks_what_was_cut_and_keeps_what_holds_no_word() {
        let text = "  one two [three] four.";
        assert_eq!(
            snippet(text, "[two] [three]", "two [three]"),
            "…[two] [three]…"
        );
        assert_eq!(
            snippet(text, "one [two] [three] four", "one two [three] four"),
            "  one [two] [three] four."
        );
        assert_eq!(snippet(text, "[gone]", "gone"), "[gone]");
    }
}
