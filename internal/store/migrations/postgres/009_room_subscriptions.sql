-- What rooms chose in chat (!gh subscribe, !gh unsubscribe), laid over
-- the config's subscriptions: per room and repository either a
-- subscription of the room's own (spec: events and filters, JSON) or, with
-- muted = 1, the room muting the config's subscriptions of that repository.
CREATE TABLE gh_room_subs (
    room_id TEXT    NOT NULL,
    repo    TEXT    NOT NULL, -- owner/name, lowercase
    spec    TEXT    NOT NULL DEFAULT '{}',
    muted   INTEGER NOT NULL DEFAULT 0,
    by_user TEXT    NOT NULL,
    at      BIGINT  NOT NULL,     -- unix milliseconds
    PRIMARY KEY (room_id, repo)
);
