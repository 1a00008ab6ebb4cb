-- Hosts: the host a worktree was made on (its files exist there only), and the host a
-- session reported its work context from. NULL in rows written before hosts were recorded:
-- such a worktree is taken to be on whichever host reads it, as before. (The same columns,
-- in the same place, as SQLite's migration 12: exports of both backends stay alike.)

ALTER TABLE worktrees ADD COLUMN host TEXT COLLATE "C";
ALTER TABLE work_context ADD COLUMN host TEXT COLLATE "C";
