-- A message can edit (replace) or answer in the thread of an earlier one,
-- named by its key; the sender looks the event id up when it sends, since
-- the earlier message may still be queued when this one is written.
ALTER TABLE outbox ADD COLUMN relation TEXT NOT NULL DEFAULT '';   -- '', 'replace', 'thread'
ALTER TABLE outbox ADD COLUMN target_key TEXT NOT NULL DEFAULT '';

-- Every webhook delivery accepted, written before the 2xx answer so none is
-- lost; the id is GitHub's X-GitHub-Delivery, so a redelivery is a no-op.
CREATE TABLE gh_deliveries (
    id          TEXT    PRIMARY KEY,
    event       TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    received_at INTEGER NOT NULL, -- unix milliseconds
    done        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX gh_deliveries_todo ON gh_deliveries (done, received_at);

-- What the relay knows of each issue, pull request or release: the last
-- snapshot (JSON), a version that grows with every announced change (part
-- of the outgoing keys, so a replay posts nothing twice), and when an item
-- held back by the aggregation window is due.
CREATE TABLE gh_items (
    key        TEXT    PRIMARY KEY, -- owner/repo#number, lower case
    data       TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 0,
    due_at     INTEGER NOT NULL DEFAULT 0, -- unix milliseconds; 0: nothing pending
    updated_at INTEGER NOT NULL
);
CREATE INDEX gh_items_due ON gh_items (due_at) WHERE due_at > 0;

-- Bot pull requests waiting for the next digest, per room and repository.
CREATE TABLE gh_digest (
    room     TEXT    NOT NULL,
    repo     TEXT    NOT NULL,
    item_key TEXT    NOT NULL,
    title    TEXT    NOT NULL,
    url      TEXT    NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (room, item_key)
);
