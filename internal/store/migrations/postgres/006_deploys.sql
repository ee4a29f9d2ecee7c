-- PostgreSQL twin of sqlite/006_deploys.sql.
CREATE TABLE deploys (
    component TEXT    NOT NULL,
    number    INTEGER NOT NULL,
    from_sha  TEXT    NOT NULL,
    to_sha    TEXT    NOT NULL,
    seen_at   BIGINT  NOT NULL,
    rollback  INTEGER NOT NULL DEFAULT 0,
    commits   INTEGER NOT NULL DEFAULT -1,
    changes   TEXT    NOT NULL DEFAULT '[]',
    lead_ms   BIGINT  NOT NULL DEFAULT -1,
    PRIMARY KEY (component, number)
);
CREATE INDEX deploys_seen ON deploys (seen_at);
