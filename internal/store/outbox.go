package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
	// Anchor marks a message later ones relate to (edits, thread lines):
	// its event id outlives the outbox's retention (see PruneDone).
	Anchor bool
	// LastError is why the last attempt failed (or why it was given up).
	LastError string
	// Urgent messages (answers someone waits for) are sent before the
	// others queued (announcements).
	Urgent bool
}

// State is where an outgoing message is in its life.
type State string

const (
	Pending State = "pending"
	Sent    State = "sent"
	Failed  State = "failed"
)

// Enqueue adds msg unless a message with the same key is in the outbox or
// is a kept relation (an anchor posted long ago); it reports whether msg
// was added.
func (s *DB) Enqueue(ctx context.Context, msg Outgoing) (bool, error) {
	res, err := s.exec(ctx,
		`INSERT INTO outbox (key, room_id, event_type, content, created_at, relation, target_key, txn_id, anchor, urgent)
		 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE NOT EXISTS (SELECT 1 FROM relations WHERE key = $11)
		 ON CONFLICT (key) DO NOTHING`,
		msg.Key, msg.RoomID, msg.EventType, string(msg.Content), msg.CreatedAt.UnixMilli(), msg.Relation, msg.TargetKey, msg.TxnID,
		boolInt(msg.Anchor), boolInt(msg.Urgent), msg.Key)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Known reports whether a message with key is in the outbox or is a kept
// relation.
func (s *DB) Known(ctx context.Context, key string) (bool, error) {
	var one int
	err := s.queryRow(ctx,
		`SELECT 1 FROM outbox WHERE key = $1 UNION ALL SELECT 1 FROM relations WHERE key = $2`, key, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Pending returns up to limit messages still to send, urgent ones first,
// then oldest first, leaving out those for the rooms in skip (rooms that cannot be posted to
// right now), so they never hold up the others.
func (s *DB) Pending(ctx context.Context, limit int, skip ...string) ([]Outgoing, error) {
	query := `SELECT id, key, room_id, event_type, content, attempts, created_at, relation, target_key, anchor, last_error, urgent FROM outbox
		 WHERE state = 'pending'`
	args := make([]any, 0, len(skip)+1)
	if len(skip) > 0 {
		marks := make([]string, len(skip))
		for i, room := range skip {
			marks[i] = fmt.Sprintf("$%d", i+1)
			args = append(args, room)
		}
		query += ` AND room_id NOT IN (` + strings.Join(marks, ", ") + `)`
	}
	return outgoingRows(s.query(ctx, query+fmt.Sprintf(` ORDER BY urgent DESC, id LIMIT $%d`, len(args)+1), append(args, limit)...))
}

// PendingFor returns up to limit messages still to send to one room,
// urgent ones first, then oldest first.
func (s *DB) PendingFor(ctx context.Context, room string, limit int) ([]Outgoing, error) {
	return outgoingRows(s.query(ctx,
		`SELECT id, key, room_id, event_type, content, attempts, created_at, relation, target_key, anchor, last_error, urgent FROM outbox
		 WHERE state = 'pending' AND room_id = $1 ORDER BY urgent DESC, id LIMIT $2`, room, limit))
}

// outgoingRows reads every row of a query of outbox columns.
func outgoingRows(rows *sql.Rows, err error) ([]Outgoing, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Outgoing
	for rows.Next() {
		m, err := scanOutgoing(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func scanOutgoing(rows *sql.Rows) (Outgoing, error) {
	var m Outgoing
	var content string
	var created int64
	var anchor, urgent int
	err := rows.Scan(&m.ID, &m.Key, &m.RoomID, &m.EventType, &content, &m.Attempts, &created, &m.Relation, &m.TargetKey, &anchor, &m.LastError, &urgent)
	m.Content, m.CreatedAt, m.Anchor, m.Urgent = []byte(content), time.UnixMilli(created), anchor == 1, urgent == 1
	return m, err
}

// PendingIn counts the messages waiting for one room.
func (s *DB) PendingIn(ctx context.Context, room string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND room_id = $1`, room).Scan(&n)
	return n, err
}

// Failed returns the latest messages the homeserver refused for good,
// newest first, with the reason in LastError.
func (s *DB) Failed(ctx context.Context, limit int) ([]Outgoing, error) {
	return outgoingRows(s.query(ctx,
		`SELECT id, key, room_id, event_type, content, attempts, created_at, relation, target_key, anchor, last_error, urgent FROM outbox
		 WHERE state = 'failed' ORDER BY done_at DESC LIMIT $1`, limit))
}

// PendingCount is the depth of the queue.
func (s *DB) PendingCount(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE state = 'pending'`).Scan(&n)
	return n, err
}

// MarkSent records that the message was posted as eventID.
func (s *DB) MarkSent(ctx context.Context, id int64, eventID string, at time.Time) error {
	return s.MarkSentIn(ctx, id, eventID, "", at)
}

// MarkSentIn is MarkSent saying which room (its id) the message is in.
func (s *DB) MarkSentIn(ctx context.Context, id int64, eventID, room string, at time.Time) error {
	_, err := s.exec(ctx,
		`UPDATE outbox SET state = 'sent', event_id = $1, sent_room = $2, done_at = $3 WHERE id = $4`,
		eventID, room, at.UnixMilli(), id)
	return err
}

// Anchor is the event a key was posted as and the room it is in (” when
// not known: sent before rooms were kept); no event: "".
func (s *DB) Anchor(ctx context.Context, key string) (eventID, room string, err error) {
	err = s.queryRow(ctx,
		`SELECT event_id, sent_room FROM outbox WHERE key = $1 AND event_id != '' UNION ALL SELECT event_id, sent_room FROM relations WHERE key = $2`,
		key, key).Scan(&eventID, &room)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return eventID, room, err
}

// Reanchor makes key stand for another event, in another room: the fresh
// message that carried an item over to an upgraded room's replacement,
// which later edits and thread lines follow.
func (s *DB) Reanchor(ctx context.Context, key, eventID, room string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, st := range []stmt{
		{`UPDATE outbox SET event_id = $1, sent_room = $2 WHERE key = $3`, []any{eventID, room, key}},
		{`UPDATE relations SET event_id = $1, sent_room = $2, used_at = $3 WHERE key = $4`, []any{eventID, room, at.UnixMilli(), key}},
	} {
		if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ErrFenced means another replica has become the leader since this one
// did: it must not send anything more.
var ErrFenced = errors.New("another replica has taken over (leadership epoch moved on)")

// ErrSettled means the message is no longer waiting to be sent (its own
// sync echo recorded it as sent meanwhile).
var ErrSettled = errors.New("the message is no longer pending")

// Fence sets the leadership epoch this process claims work under: from
// now on Claim succeeds only while the database's epoch is still this one.
func (s *DB) Fence(epoch int64) { s.epoch.Store(epoch) }

// Claim records an attempt before it is made (so a crash during it is
// known at the next start) and why the previous one failed. It is the
// fence of leadership: in the same statement it checks that no other
// replica has become leader since this one did, and fails with ErrFenced
// when one has; ErrSettled when the message is not pending any more.
func (s *DB) Claim(ctx context.Context, id int64, reason string) error {
	epoch := s.epoch.Load()
	res, err := s.exec(ctx,
		`UPDATE outbox SET attempts = attempts + 1, last_error = $1
		 WHERE id = $2 AND state = 'pending' AND (SELECT epoch FROM leadership WHERE id = 1) = $3`, reason, id, epoch)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	current, err := s.Epoch(ctx)
	if err != nil {
		return err
	}
	if current != epoch {
		return fmt.Errorf("%w: this replica leads epoch %d, the database is at %d", ErrFenced, epoch, current)
	}
	return ErrSettled
}

// Epoch is the database's leadership epoch: how many times a replica has
// become leader.
func (s *DB) Epoch(ctx context.Context) (int64, error) {
	var epoch int64
	err := s.queryRow(ctx, `SELECT epoch FROM leadership WHERE id = 1`).Scan(&epoch)
	return epoch, err
}

// MarkFailed takes the message out of the queue for good, keeping it (and
// the reason) for the operator to see.
func (s *DB) MarkFailed(ctx context.Context, id int64, reason string, at time.Time) error {
	_, err := s.exec(ctx,
		`UPDATE outbox SET state = 'failed', last_error = $1, done_at = $2 WHERE id = $3`,
		reason, at.UnixMilli(), id)
	return err
}

// EventID returns the Matrix event id the message with key was posted as
// (from the outbox, or from the kept relations once it was pruned), or ""
// while it is not sent.
func (s *DB) EventID(ctx context.Context, key string) (string, error) {
	var evt string
	err := s.queryRow(ctx,
		`SELECT event_id FROM outbox WHERE key = $1 UNION ALL SELECT event_id FROM relations WHERE key = $2`, key, key).Scan(&evt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return evt, err
}

// stmt is one statement of a transaction.
type stmt struct {
	query string
	args  []any
}

// Retention says how long PruneDone keeps things. Relations 0 keeps them
// forever.
type Retention struct {
	Outbox    time.Duration
	Relations time.Duration
}

// PruneDone deletes sent and failed messages finished more than
// r.Outbox before now, so the table does not grow forever; younger keys
// still deduplicate. Anchors among them keep their key and event id as a
// relation, whose last use is refreshed by every edit or thread line that
// is pruned with them; relations unused for r.Relations are deleted.
func (s *DB) PruneDone(ctx context.Context, now time.Time, r Retention) (int64, error) {
	cutoff := now.Add(-r.Outbox).UnixMilli()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	steps := []stmt{
		{`INSERT INTO relations (key, room_id, event_id, used_at, sent_room)
		  SELECT key, room_id, event_id, done_at, sent_room FROM outbox WHERE anchor = 1 AND state = 'sent' AND done_at < $1
		  ON CONFLICT (key) DO NOTHING`, []any{cutoff}},
		{`UPDATE relations SET used_at = $1 WHERE used_at < $1 AND key IN
		  (SELECT target_key FROM outbox WHERE target_key != '' AND state = 'sent' AND done_at < $1)`, []any{cutoff}},
	}
	if r.Relations > 0 {
		steps = append(steps, stmt{`DELETE FROM relations WHERE used_at < $1`, []any{now.Add(-r.Relations).UnixMilli()}})
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
			return 0, err
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE state != 'pending' AND done_at < $1`, cutoff)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// MarkSentByTxn records that the pending message sent with txnID is in the
// room as eventID (seen in the bot's own sync); it reports whether one was.
func (s *DB) MarkSentByTxn(ctx context.Context, txnID, eventID string, at time.Time) (bool, error) {
	res, err := s.exec(ctx,
		`UPDATE outbox SET state = 'sent', event_id = $1, done_at = $2 WHERE txn_id = $3 AND state = 'pending'`,
		eventID, at.UnixMilli(), txnID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
