package github

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/store"
)

// BenchmarkReviewFigures measures the status page's review figures over
// 5,000 outside pull requests of 90 days in 20 repositories (SQLite),
// against a baseline that only reads them.
func BenchmarkReviewFigures(b *testing.B) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "ibbot.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for i := range 5000 {
		opened := now.Add(-time.Duration(i%2000) * time.Hour)
		p := store.ReviewPR{Repo: fmt.Sprintf("osbuild/repo%d", i%20), Number: i, Title: "t", Author: "a", Association: "CONTRIBUTOR",
			OpenedAt: opened, Open: i%3 == 0}
		if err := st.TrackPR(ctx, p); err != nil {
			b.Fatal(err)
		}
		if i%4 != 0 {
			st.PRResponded(ctx, p.Repo, p.Number, opened.Add(time.Duration(i%50)*time.Hour))
		}
	}
	q := &Queue{Store: st, Config: config.Reviews{Wait: 48 * time.Hour}, Now: func() time.Time { return now }}
	b.Run("baseline-read", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.ReviewPRs(ctx, now.AddDate(0, 0, -90), false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("figures", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := q.Figures(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
