-- When a recipient agent was first told of a message where it works (a hook, a notice at
-- the end of a tool result, a wait or an inbox look): the state between delivered and read.

ALTER TABLE deliveries ADD COLUMN notified_at INTEGER;
