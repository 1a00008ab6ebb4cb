-- Messaging: threads, messages, per-recipient deliveries, edit history, groups, full-text search.

CREATE TABLE threads (
    id              TEXT PRIMARY KEY,
    subject         TEXT,
    created_by      TEXT NOT NULL REFERENCES agents (name),
    created_at      INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL
);

CREATE TABLE messages (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    thread_id      TEXT NOT NULL REFERENCES threads (id),
    reply_to       TEXT REFERENCES messages (id),
    author         TEXT NOT NULL REFERENCES agents (name),
    author_session TEXT REFERENCES sessions (id),
    addressed_to   TEXT NOT NULL,
    subject        TEXT,
    body           TEXT NOT NULL,
    priority       INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),
    ack_required   INTEGER NOT NULL DEFAULT 0,
    refs           TEXT NOT NULL DEFAULT '[]',
    created_at     INTEGER NOT NULL,
    edited_at      INTEGER,
    deleted_at     INTEGER
);

CREATE INDEX messages_by_thread ON messages (thread_id, seq);
CREATE INDEX messages_by_author ON messages (author, seq);

CREATE TABLE deliveries (
    recipient    TEXT NOT NULL REFERENCES agents (name),
    message_seq  INTEGER NOT NULL REFERENCES messages (seq),
    delivered_at INTEGER NOT NULL,
    read_at      INTEGER,
    acked_at     INTEGER,
    PRIMARY KEY (recipient, message_seq)
) WITHOUT ROWID;

CREATE INDEX deliveries_unread ON deliveries (recipient, message_seq) WHERE read_at IS NULL;
CREATE INDEX deliveries_by_message ON deliveries (message_seq);

CREATE TABLE message_versions (
    message_seq INTEGER NOT NULL REFERENCES messages (seq),
    version     INTEGER NOT NULL,
    subject     TEXT,
    body        TEXT NOT NULL,
    written_at  INTEGER NOT NULL,
    PRIMARY KEY (message_seq, version)
) WITHOUT ROWID;

CREATE TABLE groups (
    name        TEXT PRIMARY KEY,
    description TEXT,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    member     TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('agent', 'role')),
    PRIMARY KEY (group_name, kind, member)
) WITHOUT ROWID;

CREATE INDEX agents_by_role ON agents (role);

-- Unread (not deleted) messages per participant, kept by triggers so an inbox count costs
-- one row read however large the inbox grows.
ALTER TABLE agents ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER unread_on_delivery AFTER INSERT ON deliveries WHEN new.read_at IS NULL BEGIN
    UPDATE agents SET unread = unread + 1 WHERE name = new.recipient;
END;

CREATE TRIGGER unread_on_read AFTER UPDATE OF read_at ON deliveries
WHEN old.read_at IS NULL AND new.read_at IS NOT NULL
     AND (SELECT deleted_at FROM messages WHERE seq = new.message_seq) IS NULL
BEGIN
    UPDATE agents SET unread = unread - 1 WHERE name = new.recipient;
END;

CREATE TRIGGER unread_on_delete AFTER UPDATE OF deleted_at ON messages
WHEN old.deleted_at IS NULL AND new.deleted_at IS NOT NULL
BEGIN
    UPDATE agents SET unread = unread - 1
    WHERE name IN (SELECT recipient FROM deliveries WHERE message_seq = new.seq AND read_at IS NULL);
END;

-- Full-text index over live (not deleted) subjects and bodies, kept in step by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5 (subject, body, content = 'messages', content_rowid = 'seq');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, subject, body) VALUES (new.seq, new.subject, new.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, body, deleted_at ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, body) VALUES ('delete', old.seq, old.subject, old.body);
    INSERT INTO messages_fts (rowid, subject, body)
        SELECT new.seq, new.subject, new.body WHERE new.deleted_at IS NULL;
END;
