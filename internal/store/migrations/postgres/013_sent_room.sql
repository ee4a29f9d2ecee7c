-- The room a message was posted in, as its id (room_id is the room as it
-- was queued, perhaps an alias): after a room is upgraded, an edit of a
-- message in the old room cannot be an edit in the new one, so the sender
-- must know where the message it edits is. '' for messages sent before.
ALTER TABLE outbox ADD COLUMN sent_room TEXT NOT NULL DEFAULT '';
ALTER TABLE relations ADD COLUMN sent_room TEXT NOT NULL DEFAULT '';
