-- Every deploy the deploy checks observed, for !deploys and the DORA
-- measures: number is the component's deploy count (the watcher's), so a
-- check repeated after a crash records a deploy once.
CREATE TABLE deploys (
    component TEXT    NOT NULL,
    number    INTEGER NOT NULL,
    from_sha  TEXT    NOT NULL,
    to_sha    TEXT    NOT NULL,
    seen_at   INTEGER NOT NULL,            -- unix milliseconds
    rollback  INTEGER NOT NULL DEFAULT 0,
    commits   INTEGER NOT NULL DEFAULT -1, -- brought (or, for a rollback, taken out); -1: unknown
    changes   TEXT    NOT NULL DEFAULT '[]', -- the merged pull requests, JSON
    lead_ms   INTEGER NOT NULL DEFAULT -1, -- age of the oldest newly deployed commit when seen; -1: unknown
    PRIMARY KEY (component, number)
);
CREATE INDEX deploys_seen ON deploys (seen_at);
