-- What hooks need to find and serve a session: the agent client that started its MCP
-- server (the server's parent process, which also starts the client's hooks), and how far
-- a stop was last held for its mail (a stop is held once per new message).

ALTER TABLE sessions ADD COLUMN client_pid INTEGER;
ALTER TABLE sessions ADD COLUMN stop_held_seq INTEGER NOT NULL DEFAULT 0;
