-- PostgreSQL twin of sqlite/002_github.sql. gh_deliveries has an explicit
-- seq where SQLite has its implicit rowid: deliveries are processed in the
-- order they arrived.
ALTER TABLE outbox ADD COLUMN relation TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN target_key TEXT NOT NULL DEFAULT '';

CREATE TABLE gh_deliveries (
    id          TEXT    PRIMARY KEY,
    event       TEXT    NOT NULL,
    payload     BYTEA   NOT NULL,
    received_at BIGINT  NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    seq         BIGSERIAL
);
CREATE INDEX gh_deliveries_todo ON gh_deliveries (done, received_at);

CREATE TABLE gh_items (
    key        TEXT    PRIMARY KEY,
    data       TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 0,
    due_at     BIGINT  NOT NULL DEFAULT 0,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX gh_items_due ON gh_items (due_at) WHERE due_at > 0;

CREATE TABLE gh_digest (
    room     TEXT   NOT NULL,
    repo     TEXT   NOT NULL,
    item_key TEXT   NOT NULL,
    title    TEXT   NOT NULL,
    url      TEXT   NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (room, item_key)
);
