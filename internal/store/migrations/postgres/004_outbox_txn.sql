-- PostgreSQL twin of sqlite/004_outbox_txn.sql.
ALTER TABLE outbox ADD COLUMN txn_id TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_txn ON outbox (txn_id) WHERE txn_id != '';
