-- Who leads among replicas sharing the database (PostgreSQL only; a SQLite
-- file serves one process, whose epoch stays 0). A new leader bumps epoch
-- while it holds the advisory lock, and every claim of outgoing work
-- compares it with its own: a replica that has been replaced (a frozen
-- leader that woke up) can no longer send.
CREATE TABLE leadership (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  INTEGER NOT NULL,
    holder TEXT    NOT NULL DEFAULT '',
    since  INTEGER NOT NULL DEFAULT 0 -- unix milliseconds
);
INSERT INTO leadership (id, epoch) VALUES (1, 0);
