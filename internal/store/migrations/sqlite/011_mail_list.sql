-- The List-Id a relayed mail came through, so !ml answers a room only
-- about the lists it follows. Mail relayed before this is '' (it came
-- through the config's lists).
ALTER TABLE mail_messages ADD COLUMN list_id TEXT NOT NULL DEFAULT '';
