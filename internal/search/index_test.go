package search_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/search"
)

var ctx = context.Background()

func ask(t *testing.T, x *search.Index, q search.Query) []string {
	t.Helper()
	res, err := x.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.Doc.ID)
	}
	return ids
}

func first(t *testing.T, x *search.Index, text string) string {
	t.Helper()
	ids := ask(t, x, search.Query{Text: text, Limit: 1})
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

var small = []search.Doc{
	{ID: "users", Kind: search.Docs, Title: "Blueprint reference", Heading: "Users", Body: "Add a user with [[customizations.user]]; a user in the wheel group can use sudo."},
	{ID: "partitions", Kind: search.Docs, Title: "Partitioning", Heading: "Add mount points", Body: "Partitioning adds mount points; the root file system moves to LVM."},
	{ID: "types", Kind: search.Docs, Title: "Image types", Heading: "", Body: "qcow2 for QEMU, ami for AWS, vhd for Azure, x86_64 and aarch64."},
	{ID: "scattered", Kind: search.Docs, Title: "Notes", Heading: "", Body: "The root of the tree. A file. Another system entirely."},
	{ID: "mail:1", Kind: search.Mail, Scope: "image-builder.lists.example.org", Title: "Composer release 120", Body: "The release brings a faster depsolver.", Date: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)},
	{ID: "mail:2", Kind: search.Mail, Scope: "secret.lists.example.org", Title: "Embargoed depsolver fix", Body: "Do not share the depsolver fix yet."},
	{ID: "issue:osbuild/images#1", Kind: search.Issue, Scope: "osbuild/images", Title: "depsolver is slow", Body: "Depsolving takes minutes.", Extra: "bug open"},
}

// TestWordsAsPeopleWriteThem: English stems, the project's words whole,
// typos forgiven, phrases ranked up, the project's vocabulary.
func TestWordsAsPeopleWriteThem(t *testing.T) {
	x := indexed(t, small)
	for q, want := range map[string]string{
		"users":            "users",      // stems: users finds user
		"partitions":       "partitions", // partitions finds partitioning
		"qcow2":            "types",      // a word with digits stays one
		"x86_64":           "types",
		"customizations":   "users", // customizations.user is two words
		"bluprint users":   "users", // a typo the index does not know
		"partioning":       "partitions",
		"root file system": "partitions", // the words in a row beat the words apart
		"root filesystem":  "partitions", // the vocabulary: filesystem is file system
		"azure":            "types",
	} {
		if got := first(t, x, q); got != want {
			t.Errorf("%q found %q first, want %q", q, got, want)
		}
	}
}

// TestRoomsFindOnlyWhatTheyFollow: mail and issues are found only within
// the lists and repositories given; documentation always.
func TestRoomsFindOnlyWhatTheyFollow(t *testing.T) {
	x := indexed(t, small)
	follows := map[search.Kind][]string{search.Mail: {"Image-Builder.lists.example.org"}, search.Issue: {"osbuild/*"}}
	got := ask(t, x, search.Query{Text: "depsolver", Scopes: follows, Limit: 10})
	slices.Sort(got)
	if want := []string{"issue:osbuild/images#1", "mail:1"}; !slices.Equal(got, want) {
		t.Errorf("found %v, want %v (never the list the room does not follow)", got, want)
	}
	if got := ask(t, x, search.Query{Text: "depsolver", Limit: 10}); len(got) != 0 {
		t.Errorf("a room that follows nothing found %v", got)
	}
	if got := ask(t, x, search.Query{Text: "depsolver users", Kinds: []search.Kind{search.Docs}, Scopes: follows, Limit: 10}); !slices.Equal(got, []string{"users"}) {
		t.Errorf("documentation only: %v", got)
	}
}

func TestReplaceAndDelete(t *testing.T) {
	x := indexed(t, small)
	changed := small[6]
	changed.Title, changed.Body = "depsolver is fast now", "Fixed."
	if err := x.Put(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if n, _ := x.Count(); n != uint64(len(small)) {
		t.Errorf("%d documents after a replace, want %d", n, len(small))
	}
	res, _ := x.Search(ctx, search.Query{Text: "depsolver", Kinds: []search.Kind{search.Issue}, Scopes: map[search.Kind][]string{search.Issue: {"osbuild/images"}}})
	if len(res.Hits) != 1 || res.Hits[0].Doc.Title != "depsolver is fast now" || res.Hits[0].Doc.Extra != "bug open" {
		t.Errorf("the replaced issue: %+v", res.Hits)
	}
	if err := x.Delete(ctx, "users", "unknown"); err != nil {
		t.Fatal(err)
	}
	if got := first(t, x, "wheel sudo"); got != "" {
		t.Errorf("a deleted document was found: %s", got)
	}
}

// TestAnswersCarryTheirContext: a hit has its stored fields and a line
// around the matched words, the matches marked.
func TestAnswersCarryTheirContext(t *testing.T) {
	x := indexed(t, small)
	res, err := x.Search(ctx, search.Query{Text: "faster depsolver", Kinds: []search.Kind{search.Mail}, Scopes: map[search.Kind][]string{search.Mail: {"image-builder.lists.example.org"}}})
	if err != nil || len(res.Hits) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	h := res.Hits[0]
	if !h.Doc.Date.Equal(small[4].Date) || h.Doc.Scope != small[4].Scope {
		t.Errorf("stored fields: %+v", h.Doc)
	}
	var line, marked strings.Builder
	for _, s := range h.Context {
		line.WriteString(s.Text)
		if s.Match {
			marked.WriteString(s.Text + ";")
		}
	}
	if line.String() != "The release brings a faster depsolver." || marked.String() != "faster;depsolver;" {
		t.Errorf("context %q, marked %q", line.String(), marked.String())
	}
}

func TestUnknownWordsAreNamed(t *testing.T) {
	x := indexed(t, small)
	res, err := x.Search(ctx, search.Query{Text: "bluprint users"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Unknown, []string{"bluprint"}) {
		t.Errorf("unknown %v", res.Unknown)
	}
	for typo, want := range map[string]string{"Bluprint": "blueprint", "partioning": "partitioning", "xyzzyplugh": ""} {
		if got := x.Closest(typo); got != want {
			t.Errorf("Closest(%q) = %q, want %q", typo, got, want)
		}
	}
}

// TestAnEmptyIndexAnswersNothingFound: before the documentation is read,
// a question is answered, with nothing.
func TestAnEmptyIndexAnswersNothingFound(t *testing.T) {
	x := indexed(t, nil)
	res, err := x.Search(ctx, search.Query{Text: "how do I add a user to a blueprint"})
	if err != nil || len(res.Hits) != 0 {
		t.Errorf("an empty index: %+v, %v", res, err)
	}
}

func TestEmptyQueriesFindNothing(t *testing.T) {
	x := indexed(t, small)
	for _, q := range []string{"", "   ", "the of and", "!!!"} {
		if got := ask(t, x, search.Query{Text: q}); len(got) != 0 {
			t.Errorf("%q found %v", q, got)
		}
	}
}

// FuzzSearch: whatever a room types, the index answers without an error
// or a panic, and finds only what the room may see.
func FuzzSearch(f *testing.F) {
	x := indexed(f, small)
	for _, q := range []string{"users", "bluprint", `"root file" -system`, "a:b~2^3 (x) [y] {z}", "ÄÖÜ ß 日本語", "sshkey 3rd repo"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		res, err := x.Search(ctx, search.Query{Text: q, Scopes: map[search.Kind][]string{search.Mail: {"image-builder.lists.example.org"}}, Limit: 10})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		for _, h := range res.Hits {
			if h.Doc.Kind == search.Issue || h.Doc.Scope == "secret.lists.example.org" {
				t.Fatalf("%q found %s, which the room does not follow", q, h.Doc.ID)
			}
		}
	})
}
