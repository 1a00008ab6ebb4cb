-- Bearer tokens for `switchboard serve`: each one stands for one agent. Only a hash of
-- the secret is kept; the secret itself is shown once, when the token is created.

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    agent        TEXT NOT NULL REFERENCES agents (name),
    hash         TEXT NOT NULL UNIQUE,
    label        TEXT,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);

CREATE INDEX tokens_by_agent ON tokens (agent);
