package github

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/search"
)

// TestIssuesAreFoundByTheirText: a delivered issue is in the search with
// its text, kind and state, found by a word of its body in a room that
// follows its repository and not in one that does not; a later change
// (a label) updates it; the same delivery again changes nothing.
func TestIssuesAreFoundByTheirText(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	index, err := search.New()
	if err != nil {
		t.Fatal(err)
	}
	defer index.Close()
	follower := &search.Follower{Store: e.store, Index: index, Interval: time.Minute, Log: zerolog.Nop(), Now: time.Now}
	e.relay.search, e.relay.wrote = e.store, follower.Wake
	e.deliver(t, "issues", payload(t, "issues.opened.payload.json", nil))
	e.deliver(t, "issues", payload(t, "issues.labeled.payload.json", nil))
	e.deliver(t, "issues", payload(t, "issues.labeled.payload.json", nil))
	if _, err := follower.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	find := func(repos ...string) []search.Hit {
		res, err := index.Search(context.Background(), search.Query{Text: "accidently spelled commit", Scopes: map[search.Kind][]string{search.Issue: repos}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Hits
	}
	hits := find("codertocat/*")
	if len(hits) != 1 || hits[0].Doc.Title != "Spelling error in the README file" || !strings.Contains(hits[0].Doc.Extra, "issue open") {
		t.Fatalf("found %+v", hits)
	}
	if !strings.Contains(hits[0].Doc.Extra, "bug") {
		t.Errorf("the label was not added: %q", hits[0].Doc.Extra)
	}
	if hits := find("osbuild/images"); len(hits) != 0 {
		t.Errorf("a room following another repository found %+v", hits)
	}
	docs, _ := e.store.SearchDocsSince(context.Background(), 0, 10)
	if len(docs) != 1 {
		t.Errorf("%d documents for one issue: %+v", len(docs), docs)
	}
}
