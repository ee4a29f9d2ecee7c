-- The sender serves each room on its own (one room's trouble never holds
-- up another's), reading a room's pending messages, urgent first.
CREATE INDEX outbox_room_pending ON outbox (room_id, urgent, id) WHERE state = 'pending';
