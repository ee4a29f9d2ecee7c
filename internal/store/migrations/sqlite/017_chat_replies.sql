-- Replies to the list from chat: a mail's List-Post address (where a
-- reply goes) is kept with it; a command's thread leads from the event it
-- was said under to the mail that message stands for; a mail whose SMTP
-- transaction began but whose outcome was never recorded (a crash) is
-- known by tried_at, so it is not sent twice.
ALTER TABLE mail_messages ADD COLUMN list_post TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_outbox ADD COLUMN tried_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_event ON outbox (event_id);
CREATE INDEX relations_event ON relations (event_id);
