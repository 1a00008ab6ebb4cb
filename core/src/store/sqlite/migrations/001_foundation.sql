-- Foundation: the event log, agents and sessions.

CREATE TABLE events (
    seq     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    type    TEXT NOT NULL,
    actor   TEXT,
    payload TEXT NOT NULL,
    at      INTEGER NOT NULL
);

CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE agents (
    name          TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('agent', 'human')),
    role          TEXT,
    description   TEXT,
    registered_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    agent        TEXT NOT NULL REFERENCES agents (name),
    role         TEXT,
    intent       TEXT NOT NULL,
    parent_id    TEXT REFERENCES sessions (id),
    forked_from  TEXT REFERENCES sessions (id),
    status       TEXT NOT NULL CHECK (status IN ('active', 'completed', 'failed', 'abandoned')),
    end_reason   TEXT,
    pid          INTEGER,
    host         TEXT,
    started_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at     INTEGER
);

CREATE INDEX sessions_by_status ON sessions (status, started_at);
CREATE INDEX sessions_by_agent ON sessions (agent, started_at);
CREATE INDEX sessions_by_parent ON sessions (parent_id);
CREATE INDEX sessions_by_fork ON sessions (forked_from);
CREATE INDEX sessions_by_start ON sessions (started_at);
