package store

import (
	"context"
	"time"
)

// AlertNotice is a recorded Alertmanager notification.
type AlertNotice struct {
	ID         string
	Body       []byte
	ReceivedAt time.Time
}

// RecordAlert records a notification; false when one with the same id was
// recorded before.
func (s *DB) RecordAlert(ctx context.Context, id string, body []byte, at time.Time) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO alert_notices (id, body, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
		id, string(body), at.UnixMilli())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// PendingAlerts lists the notifications not handled yet, oldest first.
func (s *DB) PendingAlerts(ctx context.Context, limit int) ([]AlertNotice, error) {
	rows, err := s.query(ctx, `SELECT id, body, received_at FROM alert_notices WHERE done = 0 ORDER BY received_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AlertNotice
	for rows.Next() {
		var n AlertNotice
		var body string
		var at int64
		if err := rows.Scan(&n.ID, &body, &at); err != nil {
			return nil, err
		}
		n.Body, n.ReceivedAt = []byte(body), time.UnixMilli(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// AlertDone marks a notification handled.
func (s *DB) AlertDone(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `UPDATE alert_notices SET done = 1 WHERE id = $1`, id)
	return err
}
