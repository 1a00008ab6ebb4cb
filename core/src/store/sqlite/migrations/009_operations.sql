-- Worktree operations in progress (merges): recorded before git is touched and deleted in
-- the transaction that records their event. A row whose process is gone is an interrupted
-- operation, which the next call on that repository completes or undoes.

CREATE TABLE operations (
    id          TEXT PRIMARY KEY,
    repo        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    host        TEXT NOT NULL,
    start_ticks INTEGER,
    started_at  INTEGER NOT NULL
);

CREATE INDEX operations_by_repo ON operations (repo);
