-- Worktrees bound to sessions, and the work context sessions report on heartbeat.

CREATE TABLE worktrees (
    name        TEXT PRIMARY KEY,
    repo        TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE,
    branch      TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    base_ref    TEXT,
    session_id  TEXT REFERENCES sessions (id),
    port        INTEGER NOT NULL,
    ports       INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX worktrees_by_session ON worktrees (session_id);

CREATE TABLE work_context (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id),
    worktree   TEXT,
    branch     TEXT,
    head       TEXT,
    unmerged   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

CREATE TABLE work_files (
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    path        TEXT NOT NULL,
    added       INTEGER,
    removed     INTEGER,
    uncommitted INTEGER NOT NULL,
    PRIMARY KEY (session_id, path)
) WITHOUT ROWID;

CREATE INDEX work_files_by_path ON work_files (path);
