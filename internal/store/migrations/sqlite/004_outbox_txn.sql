-- The Matrix transaction id each message is sent with, so that the bot's
-- own sync can recognise a message a crash left unconfirmed.
ALTER TABLE outbox ADD COLUMN txn_id TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_txn ON outbox (txn_id) WHERE txn_id != '';
