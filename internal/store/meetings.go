package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Meeting is a meeting held in a room.
type Meeting struct {
	ID        string // the start command's event id
	RoomID    string
	Name      string
	StartedBy string
	StartedAt time.Time
	EndedAt   time.Time // zero: it runs
	EndedBy   string
	EndNote   string
	Published bool
}

// MeetingLine is one message said while a meeting ran.
type MeetingLine struct {
	MeetingID string
	EventID   string
	Seq       int64
	Sender    string
	SaidAt    time.Time
	Body      string
	Thread    string
	Mentions  []string // the user ids the message mentions
	Chair     bool     // the sender's power level made them a chair
	Edited    bool
	Redacted  bool
}

const meetingCols = `id, room_id, name, started_by, started_at, ended_at, ended_by, end_note, published`

// StartMeeting records a meeting begun; false when one with that id was
// recorded before.
func (s *DB) StartMeeting(ctx context.Context, m Meeting) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO meetings (id, room_id, name, started_by, started_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
		m.ID, m.RoomID, m.Name, m.StartedBy, m.StartedAt.UnixMilli())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RunningMeeting is the meeting that runs in room, if one does.
func (s *DB) RunningMeeting(ctx context.Context, room string) (Meeting, bool, error) {
	return s.oneMeeting(ctx, `SELECT `+meetingCols+` FROM meetings WHERE room_id = $1 AND ended_at = 0 ORDER BY started_at DESC LIMIT 1`, room)
}

// Meeting reads one meeting.
func (s *DB) Meeting(ctx context.Context, id string) (Meeting, bool, error) {
	return s.oneMeeting(ctx, `SELECT `+meetingCols+` FROM meetings WHERE id = $1`, id)
}

func (s *DB) oneMeeting(ctx context.Context, q string, arg any) (Meeting, bool, error) {
	ms, err := s.meetings(ctx, q, arg)
	if err != nil || len(ms) == 0 {
		return Meeting{}, false, err
	}
	return ms[0], true, nil
}

// Meetings lists the meetings that ended, newest first: of one room, or
// of all ("").
func (s *DB) Meetings(ctx context.Context, room string, limit int) ([]Meeting, error) {
	return s.meetings(ctx, `SELECT `+meetingCols+` FROM meetings WHERE ended_at > 0 AND ($1 = '' OR room_id = $1) ORDER BY started_at DESC, id LIMIT $2`, room, limit)
}

// MeetingsToFinish lists the meetings that ended and whose minutes are not
// published, and those that run, oldest first.
func (s *DB) MeetingsToFinish(ctx context.Context) ([]Meeting, error) {
	return s.meetings(ctx, `SELECT `+meetingCols+` FROM meetings WHERE published = 0 ORDER BY started_at, id`)
}

func (s *DB) meetings(ctx context.Context, q string, args ...any) ([]Meeting, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Meeting
	for rows.Next() {
		var m Meeting
		var started, ended int64
		var published int
		if err := rows.Scan(&m.ID, &m.RoomID, &m.Name, &m.StartedBy, &started, &ended, &m.EndedBy, &m.EndNote, &published); err != nil {
			return nil, err
		}
		m.StartedAt, m.Published = time.UnixMilli(started), published == 1
		if ended > 0 {
			m.EndedAt = time.UnixMilli(ended)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// EndMeeting records a meeting's end under its final name; false when it
// had ended before.
func (s *DB) EndMeeting(ctx context.Context, id, name, by, note string, at time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE meetings SET ended_at = $2, ended_by = $3, end_note = $4, name = $5 WHERE id = $1 AND ended_at = 0`,
		id, at.UnixMilli(), by, note, name)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MeetingPublished records that a meeting's minutes are out.
func (s *DB) MeetingPublished(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `UPDATE meetings SET published = 1 WHERE id = $1`, id)
	return err
}

// AddMeetingLine records a line, once: a line seen again (a replayed
// sync) changes nothing.
func (s *DB) AddMeetingLine(ctx context.Context, l MeetingLine) error {
	_, err := s.exec(ctx, `INSERT INTO meeting_lines (meeting_id, event_id, seq, sender, said_at, body, thread, mentions, chair)
		VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM meeting_lines WHERE meeting_id = $1), $3, $4, $5, $6, $7, $8)
		ON CONFLICT (meeting_id, event_id) DO NOTHING`,
		l.MeetingID, l.EventID, l.Sender, l.SaidAt.UnixMilli(), l.Body, l.Thread, strings.Join(l.Mentions, ","), boolInt(l.Chair))
	return err
}

// EditMeetingLine replaces a line's text, in a meeting that runs; false
// when no such line is logged.
func (s *DB) EditMeetingLine(ctx context.Context, eventID, body string) (bool, error) {
	return s.changeLine(ctx, `UPDATE meeting_lines SET body = $2, edited = 1 WHERE event_id = $1 AND redacted = 0
		AND meeting_id IN (SELECT id FROM meetings WHERE ended_at = 0)`, eventID, body)
}

// RedactMeetingLine removes a line's text, in a meeting that runs.
func (s *DB) RedactMeetingLine(ctx context.Context, eventID string) (bool, error) {
	return s.changeLine(ctx, `UPDATE meeting_lines SET body = '', redacted = 1 WHERE event_id = $1
		AND meeting_id IN (SELECT id FROM meetings WHERE ended_at = 0)`, eventID)
}

func (s *DB) changeLine(ctx context.Context, q string, args ...any) (bool, error) {
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// MeetingLines lists a meeting's lines in the order they were seen,
// redacted ones included (marked).
func (s *DB) MeetingLines(ctx context.Context, meetingID string) ([]MeetingLine, error) {
	rows, err := s.query(ctx, `SELECT event_id, seq, sender, said_at, body, thread, mentions, chair, edited, redacted
		FROM meeting_lines WHERE meeting_id = $1 ORDER BY seq`, meetingID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MeetingLine
	for rows.Next() {
		l := MeetingLine{MeetingID: meetingID}
		var at int64
		var mentions string
		var chair, edited, redacted int
		if err := rows.Scan(&l.EventID, &l.Seq, &l.Sender, &at, &l.Body, &l.Thread, &mentions, &chair, &edited, &redacted); err != nil {
			return nil, err
		}
		l.SaidAt, l.Mentions, l.Chair, l.Edited, l.Redacted = time.UnixMilli(at), splitList(mentions), chair == 1, edited == 1, redacted == 1
		out = append(out, l)
	}
	return out, rows.Err()
}

// OutgoingMail is a mail ibbot sends.
type OutgoingMail struct {
	MessageID string
	Raw       []byte
	Rcpt      []string
	Rooms     []string // rooms that saw its content already
	CreatedAt time.Time
	SentAt    time.Time
	Attempts  int
	// TriedAt is when an SMTP transaction for it last began; with no
	// outcome recorded since (LastError empty, not sent), the server may
	// have taken it before a crash.
	TriedAt   time.Time
	LastError string
}

// QueueMail keeps a mail to send; false when one with that Message-ID was
// queued before.
func (s *DB) QueueMail(ctx context.Context, m OutgoingMail) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO mail_outbox (message_id, raw, rcpt, rooms, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING`,
		m.MessageID, string(m.Raw), strings.Join(m.Rcpt, ","), strings.Join(m.Rooms, ","), m.CreatedAt.UnixMilli())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MailToSend lists the mail not sent yet, oldest first.
func (s *DB) MailToSend(ctx context.Context, limit int) ([]OutgoingMail, error) {
	rows, err := s.query(ctx, `SELECT message_id, raw, rcpt, rooms, created_at, attempts, tried_at, last_error FROM mail_outbox WHERE sent_at = 0 ORDER BY created_at, message_id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutgoingMail
	for rows.Next() {
		var m OutgoingMail
		var raw, rcpt, rooms string
		var created, tried int64
		if err := rows.Scan(&m.MessageID, &raw, &rcpt, &rooms, &created, &m.Attempts, &tried, &m.LastError); err != nil {
			return nil, err
		}
		m.Raw, m.Rcpt, m.Rooms, m.CreatedAt = []byte(raw), splitList(rcpt), splitList(rooms), time.UnixMilli(created)
		if tried > 0 {
			m.TriedAt = time.UnixMilli(tried)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MailTrying records that an SMTP transaction for a mail begins: if its
// outcome is never recorded, the mail may have gone.
func (s *DB) MailTrying(ctx context.Context, messageID string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE mail_outbox SET tried_at = $2, last_error = '' WHERE message_id = $1`, messageID, at.UnixMilli())
	return err
}

// MailSent records a mail sent, or (err set) an attempt that failed.
func (s *DB) MailSent(ctx context.Context, messageID string, at time.Time, failure error) error {
	if failure != nil {
		_, err := s.exec(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2 WHERE message_id = $1`, messageID, failure.Error())
		return err
	}
	_, err := s.exec(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, sent_at = $2, last_error = '' WHERE message_id = $1`, messageID, at.UnixMilli())
	return err
}

// MailRefused records a mail the server refused for good (a 5xx): it is
// not tried again, and its error is kept for the operator.
func (s *DB) MailRefused(ctx context.Context, messageID string, failure error) error {
	_, err := s.exec(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, sent_at = -1, last_error = $2 WHERE message_id = $1`, messageID, failure.Error())
	return err
}

// SentMail reads a mail ibbot sent (or queued) by its Message-ID.
func (s *DB) SentMail(ctx context.Context, messageID string) (OutgoingMail, bool, error) {
	var m OutgoingMail
	var rooms string
	var created, sent int64
	err := s.queryRow(ctx, `SELECT message_id, rooms, created_at, sent_at FROM mail_outbox WHERE message_id = $1`, messageID).
		Scan(&m.MessageID, &rooms, &created, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return OutgoingMail{}, false, nil
	}
	if err != nil {
		return OutgoingMail{}, false, err
	}
	m.Rooms, m.CreatedAt = splitList(rooms), time.UnixMilli(created)
	if sent > 0 { // -1: refused for good
		m.SentAt = time.UnixMilli(sent)
	}
	return m, true, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
