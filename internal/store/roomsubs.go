package store

import (
	"context"
	"time"
)

// RoomChoice is what a room chose in chat for one target (a repository,
// a mailing list): a subscription of its own (Spec, JSON of its options),
// or a mute of what the config sends it of that target.
type RoomChoice struct {
	Kind   string // "github", "mail"
	RoomID string
	Target string // owner/name, list id; lowercase
	Spec   string
	Muted  bool
	By     string // who chose it
	At     time.Time
}

// RoomChoices lists every room's choices of a kind, oldest first.
func (s *DB) RoomChoices(ctx context.Context, kind string) ([]RoomChoice, error) {
	rows, err := s.query(ctx,
		`SELECT room_id, target, spec, muted, by_user, at FROM room_choices WHERE kind = $1 ORDER BY at, room_id, target`, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoomChoice
	for rows.Next() {
		r := RoomChoice{Kind: kind}
		var muted int
		var at int64
		if err := rows.Scan(&r.RoomID, &r.Target, &r.Spec, &muted, &r.By, &at); err != nil {
			return nil, err
		}
		r.Muted, r.At = muted == 1, time.UnixMilli(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutRoomChoice records a room's choice for a target, replacing the one
// it had.
func (s *DB) PutRoomChoice(ctx context.Context, r RoomChoice) error {
	_, err := s.exec(ctx,
		`INSERT INTO room_choices (kind, room_id, target, spec, muted, by_user, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		 ON CONFLICT (kind, room_id, target) DO UPDATE SET spec = excluded.spec, muted = excluded.muted, by_user = excluded.by_user, at = excluded.at`,
		r.Kind, r.RoomID, r.Target, r.Spec, boolInt(r.Muted), r.By, r.At.UnixMilli())
	return err
}

// DeleteRoomChoice forgets a room's choice for a target.
func (s *DB) DeleteRoomChoice(ctx context.Context, kind, room, target string) error {
	_, err := s.exec(ctx, `DELETE FROM room_choices WHERE kind = $1 AND room_id = $2 AND target = $3`, kind, room, target)
	return err
}

// MoveRoom gives everything a room chose in chat (subscriptions, mutes,
// settings, of every kind) to its replacement, after an upgrade. A choice
// the replacement made itself meanwhile wins.
func (s *DB) MoveRoom(ctx context.Context, old, replacement string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, st := range []stmt{
		{`INSERT INTO room_choices (kind, room_id, target, spec, muted, by_user, at)
		  SELECT kind, $1, target, spec, muted, by_user, at FROM room_choices WHERE room_id = $2
		  ON CONFLICT (kind, room_id, target) DO NOTHING`, []any{replacement, old}},
		{`DELETE FROM room_choices WHERE room_id = $1`, []any{old}},
	} {
		if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}
