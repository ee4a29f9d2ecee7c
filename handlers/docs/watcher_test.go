package docs

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

const repo = "osbuild/osbuild.github.io"

func openStore(t *testing.T) *store.DB {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// live is the sections the store holds, by id.
func live(t *testing.T, st *store.DB) map[string]store.SearchDoc {
	t.Helper()
	docs, err := st.SearchDocsSince(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.SearchDoc{}
	for _, d := range docs {
		if !d.Deleted {
			out[d.ID] = d
		}
	}
	return out
}

// TestTheRepositoryIsReadOnceAndThenOnlyWhatChanged: the first reading
// takes every page; an unchanged repository costs one conditional request
// answered 304; a changed page is fetched alone and its sections
// replaced, a deleted page's sections go.
func TestTheRepositoryIsReadOnceAndThenOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	fake := testenv.NewGitHub()
	t.Cleanup(fake.Close)
	files := testenv.DocsFromFS(fixtures.FS, "docs/docs", "docs")
	fake.SetDocs(repo, files, time.Now())
	client, err := ghclient.New(ghclient.Options{BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	wrote := 0
	w := &Watcher{Name: repo + "/docs", Folder: &GitHubFolder{Client: client, Owner: "osbuild", Repo: "osbuild.github.io", Path: "docs"},
		Base: base, Store: st, Interval: time.Hour, Wrote: func() { wrote++ }, Log: zerolog.Nop(), Now: time.Now}
	pages, err := w.Check(ctx)
	if err != nil || pages != 34 {
		t.Fatalf("read %d pages (%v), want 34", pages, err)
	}
	first := live(t, st)
	users := w.pagePrefix("user-guide/01-blueprint-reference.md") + "users"
	if d, ok := first[users]; !ok || d.URL != base+"user-guide/blueprint-reference/#users" || d.Title != "Blueprint reference" {
		t.Fatalf("the users section: %+v", d)
	}

	before := len(fake.Requests())
	if _, err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Requests()) - before; n != 0 || fake.NotModified() == 0 || wrote != 1 {
		t.Errorf("an unchanged repository cost %d requests (304s: %d; writes %d)", n, fake.NotModified(), wrote)
	}

	files["docs/user-guide/01-blueprint-reference.md"] = []byte("---\ntitle: Blueprint reference\n---\n\n## People\n\nAdd people with customizations.user.\n")
	delete(files, "docs/user-guide/09-faq.mdx")
	fake.SetDocs(repo, files, time.Now())
	before = len(fake.Requests())
	if _, err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	var blobs int
	for _, r := range fake.Requests()[before:] {
		if strings.Contains(r, "/git/blobs/") {
			blobs++
		}
	}
	after := live(t, st)
	switch {
	case blobs != 1:
		t.Errorf("%d pages fetched for one changed", blobs)
	case after[w.pagePrefix("user-guide/01-blueprint-reference.md")+"people"].Body != "Add people with customizations.user.":
		t.Error("the changed page's new section is missing")
	case has(after, users):
		t.Error("the changed page's old section is still there")
	case has(after, w.pagePrefix("user-guide/09-faq.mdx")):
		t.Error("the deleted page's sections are still there")
	}
}

func has(docs map[string]store.SearchDoc, prefix string) bool {
	for id := range docs {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// TestABrokenPageLosesNothing: a page whose front matter breaks is named
// in the error and keeps its sections; the others are read, and the page
// is read again once fixed.
func TestABrokenPageLosesNothing(t *testing.T) {
	ctx := context.Background()
	folder := fstest.MapFS{
		"a.md": {Data: []byte("# A\n\n## One\n\nfirst")},
		"b.md": {Data: []byte("# B\n\ntext b")},
	}
	st := openStore(t)
	w := &Watcher{Name: "dir:test", Folder: LocalFolder{FS: folder}, Base: base, Store: st, Interval: time.Hour, Log: zerolog.Nop(), Now: time.Now}
	if _, err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	folder["a.md"] = &fstest.MapFile{Data: []byte("---\ntitle: [broken\n---\n## One\n\nsecond")}
	folder["b.md"] = &fstest.MapFile{Data: []byte("# B\n\ntext b, changed")}
	_, err := w.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "a.md") {
		t.Fatalf("a broken page gave %v, want an error naming it", err)
	}
	docs := live(t, st)
	if docs[w.pagePrefix("a.md")+"one"].Body != "first" || docs[w.pagePrefix("b.md")].Body != "text b, changed" {
		t.Errorf("after a broken page: %+v", docs)
	}
	folder["a.md"] = &fstest.MapFile{Data: []byte("# A\n\n## One\n\nthird")}
	if _, err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if got := live(t, st)[w.pagePrefix("a.md")+"one"].Body; got != "third" {
		t.Errorf("the fixed page reads %q", got)
	}
}
