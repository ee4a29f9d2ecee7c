package store

import (
	"context"
	"strings"
	"time"
)

// ReviewPR is a pull request from outside the team, as the review queue
// keeps it.
type ReviewPR struct {
	Repo        string
	Number      int
	Title, URL  string
	Author      string
	Association string
	OpenedAt    time.Time
	Additions   int
	Deletions   int
	Reviewers   []string
	HeadSHA     string
	CI          string
	Draft       bool
	Open        bool
	RespondedAt time.Time // zero: no review nor maintainer comment yet
}

// TrackPR records a pull request's latest facts; when it was first
// answered is kept, and a poll's snapshot (no head commit: the issues
// list tells no size nor reviewers) keeps what a delivery said of those.
func (s *DB) TrackPR(ctx context.Context, p ReviewPR) error {
	_, err := s.exec(ctx, `INSERT INTO review_prs (repo, number, title, url, author, association, opened_at, additions, deletions, reviewers, head_sha, draft, open)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (repo, number) DO UPDATE SET title = excluded.title, url = excluded.url, author = excluded.author,
			association = CASE WHEN excluded.association = '' THEN review_prs.association ELSE excluded.association END,
			additions = CASE WHEN excluded.head_sha = '' THEN review_prs.additions ELSE excluded.additions END,
			deletions = CASE WHEN excluded.head_sha = '' THEN review_prs.deletions ELSE excluded.deletions END,
			reviewers = CASE WHEN excluded.head_sha = '' THEN review_prs.reviewers ELSE excluded.reviewers END,
			head_sha = CASE WHEN excluded.head_sha = '' THEN review_prs.head_sha ELSE excluded.head_sha END,
			draft = excluded.draft, open = excluded.open`,
		p.Repo, p.Number, p.Title, p.URL, p.Author, p.Association, p.OpenedAt.UnixMilli(), p.Additions, p.Deletions,
		strings.Join(p.Reviewers, ","), p.HeadSHA, boolInt(p.Draft), boolInt(p.Open))
	return err
}

// PRResponded records the first review or maintainer comment (a later one
// changes nothing); false when the pull request is not tracked.
func (s *DB) PRResponded(ctx context.Context, repo string, number int, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE review_prs SET responded_at = $3 WHERE lower(repo) = lower($1) AND number = $2 AND responded_at = 0`,
		repo, number, at.UnixMilli())
	return err
}

// PRClosed records a pull request closed or merged.
func (s *DB) PRClosed(ctx context.Context, repo string, number int) error {
	_, err := s.exec(ctx, `UPDATE review_prs SET open = 0 WHERE lower(repo) = lower($1) AND number = $2`, repo, number)
	return err
}

// PRCI records the CI conclusion of a head commit.
func (s *DB) PRCI(ctx context.Context, headSHA, conclusion string) error {
	_, err := s.exec(ctx, `UPDATE review_prs SET ci = $2 WHERE head_sha = $1 AND head_sha != ''`, headSHA, conclusion)
	return err
}

// ReviewPRs lists the tracked pull requests opened since, oldest first;
// openOnly leaves out the closed ones.
func (s *DB) ReviewPRs(ctx context.Context, since time.Time, openOnly bool) ([]ReviewPR, error) {
	rows, err := s.query(ctx, `SELECT repo, number, title, url, author, association, opened_at, additions, deletions, reviewers, head_sha, ci, draft, open, responded_at
		FROM review_prs WHERE opened_at >= $1 AND (open = 1 OR $2 = 0) ORDER BY opened_at, repo, number`, since.UnixMilli(), boolInt(openOnly))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReviewPR
	for rows.Next() {
		var p ReviewPR
		var opened, responded int64
		var reviewers string
		var draft, open int
		if err := rows.Scan(&p.Repo, &p.Number, &p.Title, &p.URL, &p.Author, &p.Association, &opened, &p.Additions, &p.Deletions, &reviewers,
			&p.HeadSHA, &p.CI, &draft, &open, &responded); err != nil {
			return nil, err
		}
		p.OpenedAt, p.Reviewers, p.Draft, p.Open = time.UnixMilli(opened), splitList(reviewers), draft == 1, open == 1
		if responded > 0 {
			p.RespondedAt = time.UnixMilli(responded)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
