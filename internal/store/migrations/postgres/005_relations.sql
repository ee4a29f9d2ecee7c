-- PostgreSQL twin of sqlite/005_relations.sql.
ALTER TABLE outbox ADD COLUMN anchor INTEGER NOT NULL DEFAULT 0;
CREATE TABLE relations (
    key      TEXT   PRIMARY KEY,
    room_id  TEXT   NOT NULL,
    event_id TEXT   NOT NULL,
    used_at  BIGINT NOT NULL
);
CREATE INDEX relations_used ON relations (used_at);
CREATE INDEX outbox_target ON outbox (target_key) WHERE target_key != '';

ALTER TABLE mail_messages ADD COLUMN excerpt TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
