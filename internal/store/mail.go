package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MailRow is a handled list mail.
type MailRow struct {
	MessageID, RootID, Subject, Author, ArchiveURL string
	ListID                                         string // the List-Id it came through; '' before it was kept
	ListPost                                       string // where the list takes posts (List-Post's address); '' unknown
	SentAt                                         time.Time
	Replies                                        int
	// Excerpt and Attachments (JSON) are what a root's notice showed, so
	// a reply-count edit can show them again.
	Excerpt, Attachments string
}

// MailRoot returns the thread root of a handled mail, and false when the
// mail was never handled.
func (s *DB) MailRoot(ctx context.Context, messageID string) (string, bool, error) {
	var root string
	err := s.queryRow(ctx, `SELECT root_id FROM mail_messages WHERE message_id = $1`, messageID).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return root, err == nil, err
}

// KeysOfEvent lists the keys the bot posted an event under (a message
// and what it stands for: "mail:root:ROOM:MESSAGE-ID", …).
func (s *DB) KeysOfEvent(ctx context.Context, eventID string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT key FROM outbox WHERE event_id = $1 UNION SELECT key FROM relations WHERE event_id = $2`, eventID, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// MailThread returns the stored row of a thread's root (its subject,
// author, link and reply count), and false when there is none.
func (s *DB) MailThread(ctx context.Context, rootID string) (MailRow, bool, error) {
	var r MailRow
	var at int64
	err := s.queryRow(ctx,
		`SELECT message_id, root_id, subject, author, archive_url, sent_at, replies, excerpt, attachments, list_id, list_post FROM mail_messages WHERE message_id = $1`, rootID).
		Scan(&r.MessageID, &r.RootID, &r.Subject, &r.Author, &r.ArchiveURL, &at, &r.Replies, &r.Excerpt, &r.Attachments, &r.ListID, &r.ListPost)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	r.SentAt = time.UnixMilli(at)
	return r, err == nil, err
}

// AddMail records a handled mail; for a reply it counts one more reply on
// its root and returns the new count.
func (s *DB) AddMail(ctx context.Context, r MailRow) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO mail_messages (message_id, root_id, subject, author, archive_url, sent_at, excerpt, attachments, list_id, list_post) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		 ON CONFLICT (message_id) DO NOTHING`,
		r.MessageID, r.RootID, r.Subject, r.Author, r.ArchiveURL, r.SentAt.UnixMilli(), r.Excerpt, r.Attachments, strings.ToLower(r.ListID), r.ListPost)
	if err != nil {
		return 0, err
	}
	var count int
	if n, _ := res.RowsAffected(); n == 1 && r.RootID != r.MessageID {
		if _, err := tx.ExecContext(ctx, `UPDATE mail_messages SET replies = replies + 1 WHERE message_id = $1`, r.RootID); err != nil {
			return 0, err
		}
	}
	tx.QueryRowContext(ctx, `SELECT replies FROM mail_messages WHERE message_id = $1`, r.RootID).Scan(&count)
	return count, tx.Commit()
}

// MailThreads returns the newest thread roots of the given lists (”
// for mail relayed before lists were kept), optionally those whose
// subject contains every one of words, ignoring case. No lists: none.
func (s *DB) MailThreads(ctx context.Context, words string, lists []string, limit int) ([]MailRow, error) {
	if len(lists) == 0 {
		return nil, nil
	}
	query := `SELECT message_id, root_id, subject, author, archive_url, sent_at, replies, list_id, excerpt FROM mail_messages WHERE message_id = root_id`
	var args []any
	marks := make([]string, len(lists))
	for i, l := range lists {
		args = append(args, strings.ToLower(l))
		marks[i] = fmt.Sprintf("$%d", len(args))
	}
	query += " AND list_id IN (" + strings.Join(marks, ", ") + ")"
	for _, w := range strings.Fields(words) {
		query += fmt.Sprintf(` AND subject %s $%d ESCAPE '\'`, s.dialect.caselessLike, len(args)+1)
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(w)+"%")
	}
	query += fmt.Sprintf(` ORDER BY sent_at DESC LIMIT $%d`, len(args)+1)
	args = append(args, limit)
	return s.threadRoots(ctx, query, args...)
}

// threadRoots runs a query of thread roots' columns (those of
// MailThreads) and reads its rows.
func (s *DB) threadRoots(ctx context.Context, query string, args ...any) ([]MailRow, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MailRow
	for rows.Next() {
		var r MailRow
		var at int64
		if err := rows.Scan(&r.MessageID, &r.RootID, &r.Subject, &r.Author, &r.ArchiveURL, &at, &r.Replies, &r.ListID, &r.Excerpt); err != nil {
			return nil, err
		}
		r.SentAt = time.UnixMilli(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// MailThreadsUnsearched lists thread roots that have no document in the
// search yet (relayed before the search existed), oldest first, with
// what their notice showed.
func (s *DB) MailThreadsUnsearched(ctx context.Context, limit int) ([]MailRow, error) {
	return s.threadRoots(ctx,
		`SELECT message_id, root_id, subject, author, archive_url, sent_at, replies, list_id, excerpt FROM mail_messages m
		 WHERE message_id = root_id AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.id = 'mail:' || m.message_id)
		 ORDER BY sent_at, message_id LIMIT $1`, limit)
}
