-- Announcements that later messages edit or answer in their thread (an
-- issue's message, a mail thread's root) are "anchors". When the outbox is
-- pruned, an anchor's key and event id move to relations, which are kept
-- for retention.relations after their last use, so a pull request merged a
-- month after it was opened still edits its first message.
ALTER TABLE outbox ADD COLUMN anchor INTEGER NOT NULL DEFAULT 0;
CREATE TABLE relations (
    key      TEXT    PRIMARY KEY,
    room_id  TEXT    NOT NULL,
    event_id TEXT    NOT NULL,
    used_at  INTEGER NOT NULL -- unix milliseconds: sent, or last edited / threaded
);
CREATE INDEX relations_used ON relations (used_at);
CREATE INDEX outbox_target ON outbox (target_key) WHERE target_key != '';

-- What a reply-count edit needs to show the root as first posted.
ALTER TABLE mail_messages ADD COLUMN excerpt TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
