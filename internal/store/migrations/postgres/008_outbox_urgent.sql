-- Answers to people (command replies, welcomes) go out before
-- announcements waiting in the queue: someone is waiting for them. Order
-- within each kind stays the order of queueing.
ALTER TABLE outbox ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
