package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the prepared statements kept: the store's
// queries are a fixed set, but a search (!ml search) builds its own.
const maxCachedStatements = 64

// statements keeps each query prepared once: parsing SQL was the largest
// CPU cost of a busy bot after the network (pure-Go SQLite parses in Go).
type statements struct {
	mu    sync.Mutex
	byKey map[string]*sql.Stmt
}

// prepared returns the query's statement, preparing it the first time;
// nil when it cannot be prepared or the cache is full (the caller then
// runs the query directly, which reports any error).
func (s *DB) prepared(ctx context.Context, query string) *sql.Stmt {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.byKey[query]; ok {
		return st
	}
	if len(c.byKey) >= maxCachedStatements {
		return nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if c.byKey == nil {
		c.byKey = map[string]*sql.Stmt{}
	}
	c.byKey[query] = st
	return st
}

func (s *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := s.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

func (s *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

func (s *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

// closeStatements releases the prepared statements.
func (s *DB) closeStatements() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for _, st := range s.stmts.byKey {
		st.Close()
	}
	s.stmts.byKey = nil
}
