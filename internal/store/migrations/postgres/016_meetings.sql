-- Meetings held in rooms (!startmeeting … !endmeeting): one row each, the
-- id the start command's event id; its lines are every message said while
-- it ran, as said, then as edited; a redacted line is kept marked (its
-- text emptied) so a replayed sync cannot bring it back. The minutes are a
-- function of the lines, so an edit or a redaction changes them too.
CREATE TABLE meetings (
    id         TEXT    PRIMARY KEY,
    room_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    started_by TEXT    NOT NULL,
    started_at BIGINT  NOT NULL, -- unix milliseconds
    ended_at   BIGINT  NOT NULL DEFAULT 0, -- 0: it runs
    ended_by   TEXT    NOT NULL DEFAULT '',
    end_note   TEXT    NOT NULL DEFAULT '',
    published  INTEGER NOT NULL DEFAULT 0 -- the minutes posted (and mailed)
);
CREATE INDEX meetings_room ON meetings (room_id, started_at);
CREATE TABLE meeting_lines (
    meeting_id TEXT    NOT NULL,
    event_id   TEXT    NOT NULL,
    seq        BIGINT  NOT NULL, -- the order the bot saw them in
    sender     TEXT    NOT NULL,
    said_at    BIGINT  NOT NULL, -- unix milliseconds
    body       TEXT    NOT NULL,
    thread     TEXT    NOT NULL DEFAULT '',
    mentions   TEXT    NOT NULL DEFAULT '', -- the user ids the message mentions (m.mentions), comma-separated
    chair      INTEGER NOT NULL DEFAULT 0, -- the sender's power level made them a chair
    edited     INTEGER NOT NULL DEFAULT 0,
    redacted   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (meeting_id, event_id)
);
-- Mail ibbot sends (meeting minutes, replies), kept until sent and then
-- for recognising the list's echo of it by its Message-ID.
CREATE TABLE mail_outbox (
    message_id TEXT    PRIMARY KEY,
    raw        TEXT    NOT NULL,
    rcpt       TEXT    NOT NULL, -- the recipients, comma-separated
    rooms      TEXT    NOT NULL DEFAULT '', -- rooms that saw it already (its echo is not announced there)
    created_at BIGINT  NOT NULL,
    sent_at    BIGINT  NOT NULL DEFAULT 0, -- 0: not yet
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_todo ON mail_outbox (sent_at, created_at);
