-- How far each session has been told of new mail (a message seq): a notice announces only
-- unread messages above it, so each message is announced once per session.

ALTER TABLE sessions ADD COLUMN announced_seq INTEGER NOT NULL DEFAULT 0;
