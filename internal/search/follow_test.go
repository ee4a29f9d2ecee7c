package search_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/search"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestTwoReplicasAnswerAlike: two followers of one store, one of them
// started after the writes, give the same answers; a change and a
// deletion reach both; an index rebuilt from nothing is the same again.
func TestTwoReplicasAnswerAlike(t *testing.T) {
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var docs []store.SearchDoc
	for _, d := range testPages(t) {
		docs = append(docs, store.SearchDoc{ID: d.ID, Kind: string(d.Kind), Title: d.Title, Heading: d.Heading, Body: d.Body, URL: d.URL})
	}
	if err := st.PutSearchDocs(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	follower := func() *search.Follower {
		x, err := search.New()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x.Close() })
		f := &search.Follower{Store: st, Index: x, Interval: time.Minute, Log: zerolog.Nop(), Now: time.Now}
		if _, err := f.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := follower(), follower()
	for _, q := range questions(t) {
		if ra, rb := rank(t, a.Index, q.Q), rank(t, b.Index, q.Q); !equal(ra, rb) {
			t.Errorf("%q: replicas differ:\n%v\n%v", q.Q, ra, rb)
		}
	}
	users := "docs:" + docsBase + "user-guide/blueprint-reference/#users"
	if err := st.DeleteSearchDocs(ctx, users); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*search.Follower{a, b} {
		if n, err := f.CatchUp(ctx); err != nil || n != 1 {
			t.Fatalf("caught up %d changes (%v), want 1", n, err)
		}
		if got := rank(t, f.Index, "add a user to the wheel group"); len(got) > 0 && got[0] == users[len("docs:"):] {
			t.Error("a deleted section is still found")
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSameAnswersOnSQLiteAndPostgreSQL: the same documents in either
// database give every question of the relevance set the same answers, in
// the same order: the ranking is the index's, not the database's.
func TestSameAnswersOnSQLiteAndPostgreSQL(t *testing.T) {
	pg, err := testenv.StartPostgres()
	if err != nil {
		if errors.Is(err, testenv.ErrNoPostgres) && os.Getenv("CI") != "true" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	defer pg.Stop()
	dsn, err := pg.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	onPG, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer onPG.Close()
	onSQLite, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer onSQLite.Close()
	var answers [2][][]string
	for i, st := range []*store.DB{onSQLite, onPG} {
		var docs []store.SearchDoc
		for _, d := range testPages(t) {
			docs = append(docs, store.SearchDoc{ID: d.ID, Kind: string(d.Kind), Title: d.Title, Heading: d.Heading, Body: d.Body, URL: d.URL})
		}
		if err := st.PutSearchDocs(ctx, docs...); err != nil {
			t.Fatal(err)
		}
		x, err := search.New()
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		f := &search.Follower{Store: st, Index: x, Interval: time.Minute, Log: zerolog.Nop(), Now: time.Now}
		if _, err := f.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		for _, q := range questions(t) {
			answers[i] = append(answers[i], rank(t, x, q.Q))
		}
	}
	for i, q := range questions(t) {
		if !equal(answers[0][i], answers[1][i]) {
			t.Errorf("%q: SQLite and PostgreSQL answer differently:\n%v\n%v", q.Q, answers[0][i], answers[1][i])
		}
	}
}
