package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// SearchDoc is one document of the search index, as the sources write it.
type SearchDoc struct {
	ID      string
	Kind    string // "docs", "mail", "issue"
	Scope   string // lowercase
	Title   string
	Heading string
	Body    string
	Extra   string
	URL     string
	Dated   time.Time
	Deleted bool
	Seq     int64 // the change that wrote it
}

// searchLock serialises the writers of search documents on PostgreSQL, so
// seq grows in the order changes commit and a follower reading past its
// last seq misses none. ibbot's advisory locks: 0x1bb07_0001 migrations
// (migrationLock), 0x1bb07_0002 leadership (internal/leader), this one.
const searchLock = 0x1bb07_0003

// PutSearchDocs writes documents, replacing those with the same ids; a
// document written again unchanged keeps its seq (followers have it).
func (s *DB) PutSearchDocs(ctx context.Context, docs ...SearchDoc) error {
	return s.writeSearch(ctx, func(tx *sql.Tx, seq int64) (int64, error) {
		for _, d := range docs {
			res, err := tx.ExecContext(ctx,
				`INSERT INTO search_docs (id, kind, scope, title, heading, body, extra, url, dated, deleted, seq)
				 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10)
				 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, scope = excluded.scope, title = excluded.title,
				   heading = excluded.heading, body = excluded.body, extra = excluded.extra, url = excluded.url,
				   dated = excluded.dated, deleted = 0, seq = excluded.seq
				 WHERE search_docs.kind <> excluded.kind OR search_docs.scope <> excluded.scope OR search_docs.title <> excluded.title
				   OR search_docs.heading <> excluded.heading OR search_docs.body <> excluded.body OR search_docs.extra <> excluded.extra
				   OR search_docs.url <> excluded.url OR search_docs.dated <> excluded.dated OR search_docs.deleted <> 0`,
				d.ID, d.Kind, strings.ToLower(d.Scope), d.Title, d.Heading, d.Body, d.Extra, d.URL, millis(d.Dated), seq+1)
			if err != nil {
				return seq, err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				seq++
			}
		}
		return seq, nil
	})
}

// DeleteSearchDocs marks documents deleted (their text emptied); unknown
// ids are ignored.
func (s *DB) DeleteSearchDocs(ctx context.Context, ids ...string) error {
	return s.writeSearch(ctx, func(tx *sql.Tx, seq int64) (int64, error) {
		for _, id := range ids {
			res, err := tx.ExecContext(ctx,
				`UPDATE search_docs SET deleted = 1, title = '', heading = '', body = '', extra = '', seq = $2 WHERE id = $1 AND deleted = 0`,
				id, seq+1)
			if err != nil {
				return seq, err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				seq++
			}
		}
		return seq, nil
	})
}

// writeSearch runs write in a transaction that holds the search lock,
// giving it the last seq; write returns the last seq it used.
func (s *DB) writeSearch(ctx context.Context, write func(tx *sql.Tx, seq int64) (int64, error)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.dialect.name == postgres.name {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, searchLock); err != nil {
			return err
		}
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM search_docs`).Scan(&seq); err != nil {
		return err
	}
	if _, err := write(tx, seq); err != nil {
		return err
	}
	return tx.Commit()
}

// SearchDocsSince lists the documents changed after seq, in the order of
// their changes, at most limit.
func (s *DB) SearchDocsSince(ctx context.Context, seq int64, limit int) ([]SearchDoc, error) {
	return s.searchDocsWhere(ctx, `seq > $1 ORDER BY seq LIMIT $2`, seq, limit)
}

// SearchDoc reads one document, deleted or not.
func (s *DB) SearchDoc(ctx context.Context, id string) (SearchDoc, bool, error) {
	docs, err := s.searchDocsWhere(ctx, `id = $1`, id)
	if err != nil || len(docs) == 0 {
		return SearchDoc{}, false, err
	}
	return docs[0], true, nil
}

// SearchDocIDs lists the ids of a kind's live documents whose id starts
// with prefix (a source finding what it wrote that is gone now).
func (s *DB) SearchDocIDs(ctx context.Context, kind, prefix string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT id FROM search_docs WHERE kind = $1 AND deleted = 0 AND id >= $2 ORDER BY id`, kind, prefix)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(id, prefix) {
			break
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *DB) searchDocsWhere(ctx context.Context, where string, args ...any) ([]SearchDoc, error) {
	rows, err := s.query(ctx,
		`SELECT id, kind, scope, title, heading, body, extra, url, dated, deleted, seq FROM search_docs WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SearchDoc
	for rows.Next() {
		var d SearchDoc
		var dated int64
		var deleted int
		if err := rows.Scan(&d.ID, &d.Kind, &d.Scope, &d.Title, &d.Heading, &d.Body, &d.Extra, &d.URL, &dated, &deleted, &d.Seq); err != nil {
			return nil, err
		}
		d.Deleted = deleted == 1
		if dated != 0 {
			d.Dated = time.UnixMilli(dated).UTC()
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
