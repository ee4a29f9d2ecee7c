-- PostgreSQL twin of sqlite/007_leadership.sql.
CREATE TABLE leadership (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  BIGINT  NOT NULL,
    holder TEXT    NOT NULL DEFAULT '',
    since  BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO leadership (id, epoch) VALUES (1, 0);
