package say

import (
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/search"
)

func TestNoHitSaysWhatWasMeant(t *testing.T) {
	got := SearchAnswer(search.Result{Unknown: []string{"bluprint"}}, Asked{Text: "bluprint users", Where: "the documentation", Again: "!docs",
		Closest: func(w string) string { return map[string]string{"bluprint": "blueprint"}[w] }})
	if want := "Nothing in the documentation matches “bluprint users”. Did you mean blueprint for “bluprint”?"; got.Plain != want {
		t.Errorf("got %q\nwant %q", got.Plain, want)
	}
	if !strings.Contains(got.HTML, "<b>blueprint</b>") {
		t.Errorf("html %q", got.HTML)
	}
}

// TestHitsSayTheirKind: answers from mail and issues name their kind, list
// or repository and date; outside text is escaped, and cannot ping.
func TestHitsSayTheirKind(t *testing.T) {
	res := search.Result{Hits: []search.Hit{
		{Doc: search.Doc{Kind: search.Mail, Title: "Release <120> @room", URL: "https://lists.example.org/t/1", Date: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)},
			Context: []search.Segment{{Text: "faster "}, {Text: "depsolver", Match: true}}},
		{Doc: search.Doc{Kind: search.Issue, Scope: "osbuild/images", Extra: "pull request open", Title: "depsolver: cache", URL: "https://github.com/osbuild/images/pull/2"}},
	}}
	got := SearchAnswer(res, Asked{Text: "depsolver", Labels: true})
	for _, want := range []string{"list · Release <120> @\u2060room (https://lists.example.org/t/1) · 2026-11-02", "    faster depsolver",
		"pull request osbuild/images · depsolver: cache"} {
		if !strings.Contains(got.Plain, want) {
			t.Errorf("%q lacks %q", got.Plain, want)
		}
	}
	if strings.Contains(got.HTML, "<120>") || !strings.Contains(got.HTML, "<b>depsolver</b>") {
		t.Errorf("html %q", got.HTML)
	}
}
