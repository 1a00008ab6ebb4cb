-- The PostgreSQL backend's first schema: the same tables, columns and records as the
-- SQLite store at its schema version 11, so an export from either imports into the other.
-- Integers are BIGINT (times in milliseconds, flags 0/1, as in SQLite); text compared by
-- prefix (ids) or ordered by name uses COLLATE "C", byte order, as SQLite does.

CREATE TABLE events (
    seq     BIGSERIAL PRIMARY KEY,
    id      TEXT COLLATE "C" NOT NULL,
    type    TEXT COLLATE "C" NOT NULL,
    actor   TEXT COLLATE "C",
    payload TEXT NOT NULL,
    at      BIGINT NOT NULL
);

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END $$;

CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TABLE agents (
    name          TEXT COLLATE "C" PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('agent', 'human')),
    role          TEXT COLLATE "C",
    description   TEXT,
    registered_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    unread        BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX agents_by_role ON agents (role);

-- `rowid` is the order sessions were written in, as SQLite's implicit rowid (lists and
-- genealogies order sessions started in the same millisecond by it); it is not a field of
-- a record, so exports leave it out and an import numbers sessions again as it writes them.
CREATE TABLE sessions (
    id            TEXT COLLATE "C" PRIMARY KEY,
    agent         TEXT COLLATE "C" NOT NULL REFERENCES agents (name) DEFERRABLE,
    role          TEXT COLLATE "C",
    intent        TEXT NOT NULL,
    parent_id     TEXT COLLATE "C" REFERENCES sessions (id) DEFERRABLE,
    forked_from   TEXT COLLATE "C" REFERENCES sessions (id) DEFERRABLE,
    status        TEXT NOT NULL CHECK (status IN ('active', 'completed', 'failed', 'abandoned')),
    end_reason    TEXT,
    pid           BIGINT,
    host          TEXT COLLATE "C",
    started_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    ended_at      BIGINT,
    announced_seq BIGINT NOT NULL DEFAULT 0,
    client_pid    BIGINT,
    stop_held_seq BIGINT NOT NULL DEFAULT 0,
    rowid         BIGINT GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX sessions_by_status ON sessions (status, started_at);
CREATE INDEX sessions_by_agent ON sessions (agent, started_at);
CREATE INDEX sessions_by_parent ON sessions (parent_id);
CREATE INDEX sessions_by_fork ON sessions (forked_from);
CREATE INDEX sessions_by_start ON sessions (started_at, rowid);

CREATE TABLE threads (
    id              TEXT COLLATE "C" PRIMARY KEY,
    subject         TEXT,
    created_by      TEXT COLLATE "C" NOT NULL REFERENCES agents (name) DEFERRABLE,
    created_at      BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL
);

-- `search` is the full-text index of a live (not deleted) message: its subject (weighted
-- above the body) and its body, words as written (the 'simple' configuration: no
-- stemming, as SQLite's FTS5 default), kept by PostgreSQL itself.
CREATE TABLE messages (
    seq            BIGSERIAL PRIMARY KEY,
    id             TEXT COLLATE "C" NOT NULL UNIQUE,
    thread_id      TEXT COLLATE "C" NOT NULL REFERENCES threads (id) DEFERRABLE,
    reply_to       TEXT COLLATE "C" REFERENCES messages (id) DEFERRABLE,
    author         TEXT COLLATE "C" NOT NULL REFERENCES agents (name) DEFERRABLE,
    author_session TEXT COLLATE "C" REFERENCES sessions (id) DEFERRABLE,
    addressed_to   TEXT NOT NULL,
    subject        TEXT,
    body           TEXT NOT NULL,
    priority       BIGINT NOT NULL CHECK (priority BETWEEN 0 AND 3),
    ack_required   BIGINT NOT NULL DEFAULT 0,
    refs           TEXT NOT NULL DEFAULT '[]',
    created_at     BIGINT NOT NULL,
    edited_at      BIGINT,
    deleted_at     BIGINT,
    search         tsvector GENERATED ALWAYS AS (
        CASE WHEN deleted_at IS NULL THEN
            setweight(to_tsvector('simple', COALESCE(subject, '')), 'A') ||
            setweight(to_tsvector('simple', body), 'B')
        END
    ) STORED
);

CREATE INDEX messages_by_thread ON messages (thread_id, seq);
CREATE INDEX messages_by_author ON messages (author, seq);
CREATE INDEX messages_search ON messages USING GIN (search);

CREATE TABLE deliveries (
    recipient    TEXT COLLATE "C" NOT NULL REFERENCES agents (name) DEFERRABLE,
    message_seq  BIGINT NOT NULL REFERENCES messages (seq) DEFERRABLE,
    delivered_at BIGINT NOT NULL,
    read_at      BIGINT,
    acked_at     BIGINT,
    notified_at  BIGINT,
    PRIMARY KEY (recipient, message_seq)
);

CREATE INDEX deliveries_unread ON deliveries (recipient, message_seq) WHERE read_at IS NULL;
CREATE INDEX deliveries_by_message ON deliveries (message_seq);

CREATE TABLE message_versions (
    message_seq BIGINT NOT NULL REFERENCES messages (seq) DEFERRABLE,
    version     BIGINT NOT NULL,
    subject     TEXT,
    body        TEXT NOT NULL,
    written_at  BIGINT NOT NULL,
    PRIMARY KEY (message_seq, version)
);

CREATE TABLE groups (
    name        TEXT COLLATE "C" PRIMARY KEY,
    description TEXT,
    created_by  TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_name TEXT COLLATE "C" NOT NULL REFERENCES groups (name) ON DELETE CASCADE DEFERRABLE,
    member     TEXT COLLATE "C" NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('agent', 'role')),
    PRIMARY KEY (group_name, kind, member)
);

-- Unread (not deleted) messages per participant, kept by triggers so an inbox count costs
-- one row read however large the inbox grows. Trigger functions keep the search path they
-- were made with (this repository's schema), whatever the session that fires them has.
CREATE FUNCTION unread_on_delivery() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE agents SET unread = unread + 1 WHERE name = NEW.recipient;
    RETURN NULL;
END $$;

CREATE TRIGGER unread_on_delivery AFTER INSERT ON deliveries
    FOR EACH ROW WHEN (NEW.read_at IS NULL) EXECUTE FUNCTION unread_on_delivery();

CREATE FUNCTION unread_on_read() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    IF (SELECT deleted_at FROM messages WHERE seq = NEW.message_seq) IS NULL THEN
        UPDATE agents SET unread = unread - 1 WHERE name = NEW.recipient;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER unread_on_read AFTER UPDATE OF read_at ON deliveries
    FOR EACH ROW WHEN (OLD.read_at IS NULL AND NEW.read_at IS NOT NULL)
    EXECUTE FUNCTION unread_on_read();

CREATE FUNCTION unread_on_delete() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE agents SET unread = unread - 1
    WHERE name IN (SELECT recipient FROM deliveries WHERE message_seq = NEW.seq AND read_at IS NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER unread_on_delete AFTER UPDATE OF deleted_at ON messages
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION unread_on_delete();

CREATE TABLE worktrees (
    name        TEXT COLLATE "C" PRIMARY KEY,
    repo        TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE,
    branch      TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    base_ref    TEXT,
    session_id  TEXT COLLATE "C" REFERENCES sessions (id) DEFERRABLE,
    port        BIGINT NOT NULL,
    ports       BIGINT NOT NULL,
    created_by  TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX worktrees_by_session ON worktrees (session_id);

CREATE TABLE work_context (
    session_id TEXT COLLATE "C" PRIMARY KEY REFERENCES sessions (id) DEFERRABLE,
    worktree   TEXT COLLATE "C",
    branch     TEXT,
    head       TEXT,
    unmerged   BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE work_files (
    session_id  TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) DEFERRABLE,
    path        TEXT COLLATE "C" NOT NULL,
    added       BIGINT,
    removed     BIGINT,
    uncommitted BIGINT NOT NULL,
    PRIMARY KEY (session_id, path)
);

CREATE INDEX work_files_by_path ON work_files (path);

CREATE TABLE tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    agent        TEXT COLLATE "C" NOT NULL REFERENCES agents (name) DEFERRABLE,
    hash         TEXT NOT NULL UNIQUE,
    label        TEXT,
    created_by   TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT
);

CREATE INDEX tokens_by_agent ON tokens (agent);

CREATE TABLE shown (
    session_id  TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE DEFERRABLE,
    message_seq BIGINT NOT NULL REFERENCES messages (seq) ON DELETE CASCADE DEFERRABLE,
    shown_at    BIGINT NOT NULL,
    PRIMARY KEY (session_id, message_seq)
);

CREATE TABLE operations (
    id          TEXT COLLATE "C" PRIMARY KEY,
    repo        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    pid         BIGINT NOT NULL,
    host        TEXT NOT NULL,
    start_ticks BIGINT,
    started_at  BIGINT NOT NULL
);

CREATE INDEX operations_by_repo ON operations (repo);

-- The sender of Switchboard's own notices; its name is reserved.
INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES ('switchboard', 'agent', 0, 0);
