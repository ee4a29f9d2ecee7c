package github

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/search"
	"github.com/osbuild/ibbot/internal/testenv"
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

// TestPolledIssuesKeepTheirText: an issue the poller finds reaches the
// search with its text (the recorded change carries it), while the
// relay's own state of the item does not keep it.
func TestPolledIssuesKeepTheirText(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	e.relay.search = e.store
	is := &gh.Issue{Number: gh.Int(7), Title: gh.String("Polled"), Body: gh.String("The frobnicator stalls."), State: gh.String("open"),
		HTMLURL: gh.String("https://github.com/Codertocat/Hello-World/issues/7"), User: &gh.User{Login: gh.String("ana")},
		CreatedAt: &gh.Timestamp{Time: e.now.Add(-time.Hour)}, UpdatedAt: &gh.Timestamp{Time: e.now}}
	payload, _ := json.Marshal(snapshot("Codertocat/Hello-World", is, e.now.Add(-24*time.Hour)))
	e.deliver(t, PollEvent, payload)
	doc, ok, err := e.store.SearchDoc(context.Background(), "issue:codertocat/hello-world#7")
	if err != nil || !ok || doc.Body != "The frobnicator stalls." || !doc.Dated.Equal(e.now) {
		t.Fatalf("the polled issue in the search: %+v %v %v", doc, ok, err)
	}
	row, _, _ := e.store.Item(context.Background(), "codertocat/hello-world#7")
	if strings.Contains(row.Data, "frobnicator") {
		t.Errorf("the relay's state keeps the text: %s", row.Data)
	}
}

// TestBackfillGivesTheSearchOlderIssuesOnce: the issues of a followed
// repository that the relay never received are written with their text,
// once; a repository done is not asked again.
func TestBackfillGivesTheSearchOlderIssuesOnce(t *testing.T) {
	fake := testenv.NewGitHub()
	t.Cleanup(fake.Close)
	var items []json.RawMessage
	for i, body := range []string{"The depsolver hangs on aarch64.", "Add WSL images.", "Old bug about grub."} {
		items = append(items, testenv.ItemOf(testenv.FreshDelivery("issues.opened.payload.json", func(o map[string]any) {
			o["number"], o["title"], o["body"] = 10+i, fmt.Sprintf("Issue %d", i), body
			o["html_url"] = fmt.Sprintf("https://github.com/osbuild/images/issues/%d", 10+i)
		})))
	}
	fake.SetIssues("osbuild/images", items...)
	client, err := ghclient.New(ghclient.Options{BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := newRelayEnv(t)
	b := &Backfill{GitHub: client, Store: e.store, Repos: func() []string { return []string{"osbuild/images"} },
		Interval: time.Hour, Log: zerolog.Nop(), Now: time.Now}
	added, waiting, err := b.Once(context.Background())
	if err != nil || added != 3 || waiting != 0 {
		t.Fatalf("backfilled %d (%d waiting, %v), want 3", added, waiting, err)
	}
	doc, ok, _ := e.store.SearchDoc(context.Background(), "issue:osbuild/images#10")
	if !ok || doc.Body != "The depsolver hangs on aarch64." || doc.Scope != "osbuild/images" {
		t.Errorf("a backfilled issue: %+v", doc)
	}
	before := len(fake.Requests())
	if added, _, _ := b.Once(context.Background()); added != 0 || len(fake.Requests()) != before {
		t.Errorf("a repository done was asked again (%d added, %d requests)", added, len(fake.Requests())-before)
	}
}
