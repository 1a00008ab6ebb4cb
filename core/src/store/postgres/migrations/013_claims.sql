-- Claims: advisory reservations of paths or gitignore-style globs, each held by an agent in
-- one of its sessions (or by a person, `human:<name>`, without a session), exclusive or
-- shared, until `expires_at` (milliseconds). A row is the claim while it is held: release,
-- a takeover and the end of its session delete it (the event log keeps the history); an
-- expired row stays until its holder claims again (which replaces or drops it) or it is
-- released, and is no longer in force from `expires_at` on. (The same columns, in the same
-- order, as SQLite's migration 13: exports of both backends stay alike.)

CREATE TABLE claims (
    id          TEXT COLLATE "C" PRIMARY KEY,
    session_id  TEXT COLLATE "C" REFERENCES sessions (id) ON DELETE CASCADE DEFERRABLE,
    agent       TEXT COLLATE "C" NOT NULL REFERENCES agents (name) DEFERRABLE,
    pattern     TEXT COLLATE "C" NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('exclusive', 'shared')),
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE INDEX claims_by_session ON claims (session_id);
