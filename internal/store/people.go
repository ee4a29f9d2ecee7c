package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// GitHubPerson is someone who acts on GitHub as themselves.
type GitHubPerson struct {
	UserID    string
	Login     string
	TokenEnc  string // encrypted: the store never sees the token
	CreatedAt time.Time
}

// SavePerson records (or replaces) a person's token.
func (s *DB) SavePerson(ctx context.Context, p GitHubPerson) error {
	_, err := s.exec(ctx, `INSERT INTO gh_people (user_id, login, token_enc, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET login = excluded.login, token_enc = excluded.token_enc, created_at = excluded.created_at`,
		p.UserID, p.Login, p.TokenEnc, p.CreatedAt.UnixMilli())
	return err
}

// Person reads a person's token.
func (s *DB) Person(ctx context.Context, userID string) (GitHubPerson, bool, error) {
	p := GitHubPerson{UserID: userID}
	var at int64
	err := s.queryRow(ctx, `SELECT login, token_enc, created_at FROM gh_people WHERE user_id = $1`, userID).Scan(&p.Login, &p.TokenEnc, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return GitHubPerson{}, false, nil
	}
	p.CreatedAt = time.UnixMilli(at)
	return p, err == nil, err
}

// ForgetPerson deletes a person's token.
func (s *DB) ForgetPerson(ctx context.Context, userID string) error {
	_, err := s.exec(ctx, `DELETE FROM gh_people WHERE user_id = $1`, userID)
	return err
}

// GitHubLogin is a device-flow login under way.
type GitHubLogin struct {
	UserID    string
	RoomID    string
	DeviceEnc string
	Interval  time.Duration
	NextPoll  time.Time
	ExpiresAt time.Time
}

// StartLogin records a login under way (replacing one the person had).
func (s *DB) StartLogin(ctx context.Context, l GitHubLogin) error {
	_, err := s.exec(ctx, `INSERT INTO gh_logins (user_id, room_id, device_enc, interval_s, next_poll, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id) DO UPDATE SET room_id = excluded.room_id, device_enc = excluded.device_enc, interval_s = excluded.interval_s,
			next_poll = excluded.next_poll, expires_at = excluded.expires_at`,
		l.UserID, l.RoomID, l.DeviceEnc, int(l.Interval/time.Second), l.NextPoll.UnixMilli(), l.ExpiresAt.UnixMilli())
	return err
}

// DueLogins lists the logins to ask GitHub about now.
func (s *DB) DueLogins(ctx context.Context, now time.Time) ([]GitHubLogin, error) {
	rows, err := s.query(ctx, `SELECT user_id, room_id, device_enc, interval_s, next_poll, expires_at FROM gh_logins WHERE next_poll <= $1 ORDER BY next_poll, user_id`, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GitHubLogin
	for rows.Next() {
		var l GitHubLogin
		var interval int
		var next, expires int64
		if err := rows.Scan(&l.UserID, &l.RoomID, &l.DeviceEnc, &interval, &next, &expires); err != nil {
			return nil, err
		}
		l.Interval, l.NextPoll, l.ExpiresAt = time.Duration(interval)*time.Second, time.UnixMilli(next), time.UnixMilli(expires)
		out = append(out, l)
	}
	return out, rows.Err()
}

// EndLogin forgets a login under way.
func (s *DB) EndLogin(ctx context.Context, userID string) error {
	_, err := s.exec(ctx, `DELETE FROM gh_logins WHERE user_id = $1`, userID)
	return err
}
