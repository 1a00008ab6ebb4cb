-- Lighter writes: fewer pages per commit.
--
-- 1. Event ids are never looked up (readers follow `seq`), so their unique index goes: one
--    b-tree fewer for every event. SQLite cannot drop a column constraint, so the table is
--    rebuilt (its append-only triggers with it).
-- 2. Messages are indexed for full-text search in batches instead of one commit each: a
--    message at or below `search_index.indexed_upto` is in `messages_fts`, one above it is
--    not yet (the next batch, or the next search, indexes it; see the SQLite backend's
--    MessageRows). Edits and deletions of indexed messages keep the index in step, as before.

CREATE TABLE events_rebuilt (
    seq     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL,
    type    TEXT NOT NULL,
    actor   TEXT,
    payload TEXT NOT NULL,
    at      INTEGER NOT NULL
);
INSERT INTO events_rebuilt (seq, id, type, actor, payload, at)
    SELECT seq, id, type, actor, payload, at FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_rebuilt RENAME TO events;

CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE search_index (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);
-- Every message so far was indexed as it was written.
INSERT INTO search_index (id, indexed_upto) SELECT 1, COALESCE(MAX(seq), 0) FROM messages;

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, body, deleted_at ON messages
WHEN old.seq <= (SELECT indexed_upto FROM search_index WHERE id = 1)
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, body)
        SELECT 'delete', old.seq, old.subject, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, subject, body)
        SELECT new.seq, new.subject, new.body WHERE new.deleted_at IS NULL;
END;
