-- Which messages each session has been shown (by a wait or an inbox look), so a wait
-- returns each message once per session.

CREATE TABLE shown (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    message_seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    shown_at    INTEGER NOT NULL,
    PRIMARY KEY (session_id, message_seq)
) WITHOUT ROWID;

-- The sender of Switchboard's own notices (e.g. to a parent whose child session ended).
-- Its name is reserved, so no agent can take it; listings and @everyone leave it out.
INSERT OR IGNORE INTO agents (name, kind, registered_at, last_seen_at) VALUES ('switchboard', 'agent', 0, 0);
