package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Delivery is a webhook delivery waiting to be processed.
type Delivery struct {
	ID      string
	Event   string
	Payload []byte
}

// SaveDelivery records a delivery before it is answered; it reports false
// for a redelivery of an id already recorded.
func (s *DB) SaveDelivery(ctx context.Context, d Delivery, at time.Time) (bool, error) {
	res, err := s.exec(ctx,
		`INSERT INTO gh_deliveries (id, event, payload, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
		d.ID, d.Event, d.Payload, at.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PendingDeliveries returns deliveries not processed yet, oldest first.
func (s *DB) PendingDeliveries(ctx context.Context, limit int) ([]Delivery, error) {
	rows, err := s.query(ctx,
		`SELECT id, event, payload FROM gh_deliveries WHERE done = 0 ORDER BY received_at, `+s.dialect.insertionOrder+` LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.ID, &d.Event, &d.Payload); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeliveryDone marks a delivery processed. Its payload is dropped (the id
// stays, to recognise redeliveries).
func (s *DB) DeliveryDone(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `UPDATE gh_deliveries SET done = 1, payload = $1 WHERE id = $2`, []byte{}, id)
	return err
}

// ItemRow is what the store keeps of a GitHub item.
type ItemRow struct {
	Data    string
	Version int
	DueAt   time.Time // zero: nothing pending
}

// Item returns the stored item with key, and false when there is none.
func (s *DB) Item(ctx context.Context, key string) (ItemRow, bool, error) {
	var r ItemRow
	var due int64
	err := s.queryRow(ctx, `SELECT data, version, due_at FROM gh_items WHERE key = $1`, key).Scan(&r.Data, &r.Version, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if due > 0 {
		r.DueAt = time.UnixMilli(due)
	}
	return r, err == nil, err
}

// PutItem stores an item.
func (s *DB) PutItem(ctx context.Context, key string, r ItemRow, at time.Time) error {
	var due int64
	if !r.DueAt.IsZero() {
		due = r.DueAt.UnixMilli()
	}
	_, err := s.exec(ctx,
		`INSERT INTO gh_items (key, data, version, due_at, updated_at) VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (key) DO UPDATE SET data = excluded.data, version = excluded.version, due_at = excluded.due_at, updated_at = excluded.updated_at`,
		key, r.Data, r.Version, due, at.UnixMilli())
	return err
}

// DueItems returns the keys of items whose aggregation window has passed.
func (s *DB) DueItems(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.query(ctx, `SELECT key FROM gh_items WHERE due_at > 0 AND due_at <= $1 ORDER BY due_at`, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// DigestEntry is a bot pull request waiting for its room's digest.
type DigestEntry struct {
	Room, Repo, ItemKey, Title, URL string
	AddedAt                         time.Time
}

// AddDigest queues a bot pull request for a room's digest.
func (s *DB) AddDigest(ctx context.Context, e DigestEntry) error {
	_, err := s.exec(ctx,
		`INSERT INTO gh_digest (room, repo, item_key, title, url, added_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		e.Room, e.Repo, e.ItemKey, e.Title, e.URL, e.AddedAt.UnixMilli())
	return err
}

// Digests returns every waiting entry, oldest first.
func (s *DB) Digests(ctx context.Context) ([]DigestEntry, error) {
	rows, err := s.query(ctx, `SELECT room, repo, item_key, title, url, added_at FROM gh_digest ORDER BY added_at, item_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DigestEntry
	for rows.Next() {
		var e DigestEntry
		var at int64
		if err := rows.Scan(&e.Room, &e.Repo, &e.ItemKey, &e.Title, &e.URL, &at); err != nil {
			return nil, err
		}
		e.AddedAt = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DropDigest removes entries once their digest is queued.
func (s *DB) DropDigest(ctx context.Context, room string, keys []string) error {
	for _, k := range keys {
		if _, err := s.exec(ctx, `DELETE FROM gh_digest WHERE room = $1 AND item_key = $2`, room, k); err != nil {
			return err
		}
	}
	return nil
}

// PruneDeliveries forgets processed deliveries received before cutoff.
// Their ids stop guarding against redeliveries, which GitHub only makes
// when someone asks for them.
func (s *DB) PruneDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM gh_deliveries WHERE done = 1 AND received_at < $1`, cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
