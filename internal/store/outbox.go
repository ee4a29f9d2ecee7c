package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Outgoing is one message in the outgoing queue.
type Outgoing struct {
	ID        int64
	Key       string // idempotency key; also the source of the transaction id
	RoomID    string
	EventType string
	Content   []byte // the event content as JSON
	Attempts  int
	CreatedAt time.Time
	// Relation ("replace" or "thread") ties this message to the earlier
	// one whose key is TargetKey.
	Relation  string
	TargetKey string
	// TxnID is the Matrix transaction id the message is sent with.
	TxnID string
}

// State is where an outgoing message is in its life.
type State string

const (
	Pending State = "pending"
	Sent    State = "sent"
	Failed  State = "failed"
)

// Enqueue adds msg unless a message with the same key was ever enqueued; it
// reports whether msg was added.
func (s *DB) Enqueue(ctx context.Context, msg Outgoing) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		s.q(`INSERT INTO outbox (key, room_id, event_type, content, created_at, relation, target_key, txn_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (key) DO NOTHING`),
		msg.Key, msg.RoomID, msg.EventType, string(msg.Content), msg.CreatedAt.UnixMilli(), msg.Relation, msg.TargetKey, msg.TxnID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Known reports whether a message with key was ever enqueued.
func (s *DB) Known(ctx context.Context, key string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM outbox WHERE key = ?`), key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Pending returns up to limit messages still to send, oldest first.
func (s *DB) Pending(ctx context.Context, limit int) ([]Outgoing, error) {
	rows, err := s.db.QueryContext(ctx,
		s.q(`SELECT id, key, room_id, event_type, content, attempts, created_at, relation, target_key FROM outbox
		 WHERE state = 'pending' ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Outgoing
	for rows.Next() {
		var m Outgoing
		var content string
		var created int64
		if err := rows.Scan(&m.ID, &m.Key, &m.RoomID, &m.EventType, &content, &m.Attempts, &created, &m.Relation, &m.TargetKey); err != nil {
			return nil, err
		}
		m.Content = []byte(content)
		m.CreatedAt = time.UnixMilli(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// PendingCount is the depth of the queue.
func (s *DB) PendingCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM outbox WHERE state = 'pending'`)).Scan(&n)
	return n, err
}

// MarkSent records that the message was posted as eventID.
func (s *DB) MarkSent(ctx context.Context, id int64, eventID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx,
		s.q(`UPDATE outbox SET state = 'sent', event_id = ?, done_at = ? WHERE id = ?`),
		eventID, at.UnixMilli(), id)
	return err
}

// MarkAttempt records an attempt before it is made (so a crash during it
// is known at the next start) and why the previous one failed.
func (s *DB) MarkAttempt(ctx context.Context, id int64, reason string) error {
	_, err := s.db.ExecContext(ctx,
		s.q(`UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?`), reason, id)
	return err
}

// MarkFailed takes the message out of the queue for good, keeping it (and
// the reason) for the operator to see.
func (s *DB) MarkFailed(ctx context.Context, id int64, reason string, at time.Time) error {
	_, err := s.db.ExecContext(ctx,
		s.q(`UPDATE outbox SET state = 'failed', last_error = ?, done_at = ? WHERE id = ?`),
		reason, at.UnixMilli(), id)
	return err
}

// EventID returns the Matrix event id the message with key was posted as,
// or "" while it is not sent.
func (s *DB) EventID(ctx context.Context, key string) (string, error) {
	var evt string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT event_id FROM outbox WHERE key = ?`), key).Scan(&evt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return evt, err
}

// PruneDone deletes sent and failed messages finished before cutoff, so the
// table does not grow forever. Keys younger than cutoff still deduplicate.
func (s *DB) PruneDone(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		s.q(`DELETE FROM outbox WHERE state != 'pending' AND done_at < ?`), cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// MarkSentByTxn records that the pending message sent with txnID is in the
// room as eventID (seen in the bot's own sync); it reports whether one was.
func (s *DB) MarkSentByTxn(ctx context.Context, txnID, eventID string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		s.q(`UPDATE outbox SET state = 'sent', event_id = ?, done_at = ? WHERE txn_id = ? AND state = 'pending'`),
		eventID, at.UnixMilli(), txnID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
