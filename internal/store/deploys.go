package store

import (
	"context"
	"time"
)

// DeployRow is one observed deploy of a component.
type DeployRow struct {
	Component string
	Number    int // the component's deploy count
	From, To  string
	SeenAt    time.Time
	Rollback  bool
	Commits   int    // brought, or for a rollback taken out; -1: unknown
	Changes   string // the merged pull requests, JSON
	Lead      time.Duration
	LeadKnown bool // Lead is the age of the oldest newly deployed commit when seen
}

// RecordDeploy stores a deploy; a deploy recorded before (same component
// and number) is left as it is.
func (s *DB) RecordDeploy(ctx context.Context, d DeployRow) error {
	lead := int64(-1)
	if d.LeadKnown {
		lead = d.Lead.Milliseconds()
	}
	_, err := s.exec(ctx, `INSERT INTO deploys (component, number, from_sha, to_sha, seen_at, rollback, commits, changes, lead_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (component, number) DO NOTHING`,
		d.Component, d.Number, d.From, d.To, d.SeenAt.UnixMilli(), boolInt(d.Rollback), d.Commits, d.Changes, lead)
	return err
}

// Deploys returns the deploys seen since since, newest first, of one
// component ("" for all), at most limit.
func (s *DB) Deploys(ctx context.Context, component string, since time.Time, limit int) ([]DeployRow, error) {
	rows, err := s.query(ctx, `SELECT component, number, from_sha, to_sha, seen_at, rollback, commits, changes, lead_ms FROM deploys
		WHERE ($1 = '' OR component = $1) AND seen_at >= $2 ORDER BY seen_at DESC, number DESC LIMIT $3`,
		component, since.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeployRow
	for rows.Next() {
		var d DeployRow
		var seen, lead int64
		var rollback int
		if err := rows.Scan(&d.Component, &d.Number, &d.From, &d.To, &seen, &rollback, &d.Commits, &d.Changes, &lead); err != nil {
			return nil, err
		}
		d.SeenAt, d.Rollback = time.UnixMilli(seen), rollback == 1
		if lead >= 0 {
			d.Lead, d.LeadKnown = time.Duration(lead)*time.Millisecond, true
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
