-- Small values the bot keeps between runs: the Matrix session, the sync
-- token, the sync filter id.
CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every message the bot will send, written before it is sent. key is the
-- idempotency key (e.g. "reply:<command event id>"): enqueueing the same key
-- twice is a no-op, and the Matrix transaction id is derived from it, so a
-- retry after a crash or a lost response never posts twice.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT    NOT NULL UNIQUE,
    room_id     TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending', -- pending, sent, failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    event_id    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL, -- unix milliseconds
    done_at     INTEGER           -- unix milliseconds, when sent or failed
);
CREATE INDEX outbox_pending ON outbox (state, id);
