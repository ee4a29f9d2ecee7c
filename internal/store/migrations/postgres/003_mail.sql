-- PostgreSQL twin of sqlite/003_mail.sql.
CREATE TABLE mail_messages (
    message_id  TEXT    PRIMARY KEY,
    root_id     TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    archive_url TEXT    NOT NULL DEFAULT '',
    sent_at     BIGINT  NOT NULL,
    replies     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mail_threads ON mail_messages (root_id);
CREATE INDEX mail_recent_roots ON mail_messages (sent_at) WHERE message_id = root_id;
