-- PostgreSQL twin of sqlite/001_init.sql: same tables and versions;
-- times are unix milliseconds, so BIGINT.
CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    room_id     TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending', -- pending, sent, failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    event_id    TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    done_at     BIGINT
);
CREATE INDEX outbox_pending ON outbox (state, id);
