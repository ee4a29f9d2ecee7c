-- What rooms chose in chat, laid over the config: per kind (github: a
-- repository, mail: a list id), room and target, either a subscription of
-- the room's own (spec: its options, JSON) or, with muted = 1, the room
-- muting what the config sends it of that target.
CREATE TABLE room_choices (
    kind    TEXT    NOT NULL,
    room_id TEXT    NOT NULL,
    target  TEXT    NOT NULL, -- owner/name or list id, lowercase
    spec    TEXT    NOT NULL DEFAULT '{}',
    muted   INTEGER NOT NULL DEFAULT 0,
    by_user TEXT    NOT NULL,
    at      INTEGER  NOT NULL,     -- unix milliseconds
    PRIMARY KEY (kind, room_id, target)
);
