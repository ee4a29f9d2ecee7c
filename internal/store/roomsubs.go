package store

import (
	"context"
	"time"
)

// RoomSub is what a room chose in chat for one repository: a subscription
// of its own (Spec, JSON of the events and filters), or a mute of the
// config's subscriptions of that repository.
type RoomSub struct {
	RoomID string
	Repo   string // owner/name, lowercase
	Spec   string
	Muted  bool
	By     string // who chose it
	At     time.Time
}

// RoomSubs lists every room's choices, oldest first.
func (s *DB) RoomSubs(ctx context.Context) ([]RoomSub, error) {
	rows, err := s.query(ctx, `SELECT room_id, repo, spec, muted, by_user, at FROM gh_room_subs ORDER BY at, room_id, repo`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoomSub
	for rows.Next() {
		var r RoomSub
		var muted int
		var at int64
		if err := rows.Scan(&r.RoomID, &r.Repo, &r.Spec, &muted, &r.By, &at); err != nil {
			return nil, err
		}
		r.Muted, r.At = muted == 1, time.UnixMilli(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutRoomSub records a room's choice for a repository, replacing the one
// it had.
func (s *DB) PutRoomSub(ctx context.Context, r RoomSub) error {
	_, err := s.exec(ctx,
		`INSERT INTO gh_room_subs (room_id, repo, spec, muted, by_user, at) VALUES ($1, $2, $3, $4, $5, $6)
		 ON CONFLICT (room_id, repo) DO UPDATE SET spec = excluded.spec, muted = excluded.muted, by_user = excluded.by_user, at = excluded.at`,
		r.RoomID, r.Repo, r.Spec, boolInt(r.Muted), r.By, r.At.UnixMilli())
	return err
}

// DeleteRoomSub forgets a room's choice for a repository.
func (s *DB) DeleteRoomSub(ctx context.Context, room, repo string) error {
	_, err := s.exec(ctx, `DELETE FROM gh_room_subs WHERE room_id = $1 AND repo = $2`, room, repo)
	return err
}
