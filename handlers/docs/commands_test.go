package docs

import (
	"context"
	"strings"
	"testing"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/search"
)

// testIndex is the test documentation in a search index, as the store's
// follower would build it.
func testIndex(t *testing.T) *search.Index {
	t.Helper()
	pages, errs := ReadFolder(fixtures.FS, "docs/docs", base)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	x, err := search.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	var docs []search.Doc
	for _, p := range pages {
		for _, s := range p.Sections {
			docs = append(docs, search.Doc{ID: p.Path + "#" + s.Address, Kind: search.Docs, Title: p.Title, Heading: s.Heading, Body: s.Text, URL: s.Address})
		}
	}
	if err := x.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return x
}

func render(r bot.Reply) string { return "plain:\n" + r.Plain + "\n\nhtml:\n" + r.HTML + "\n" }

// TestDocsAnswersGolden renders !docs: three sections linked to their
// places, the words found in bold; a typo forgiven; nothing found, with
// a way to ask again.
func TestDocsAnswersGolden(t *testing.T) {
	cmd := Command(testIndex(t))
	ask := func(q string) bot.Reply {
		rep, err := cmd.Run(context.Background(), bot.Request{Command: "docs", Args: strings.Fields(q), Prefix: "!"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	users := ask("how do I add a user to a blueprint")
	if !strings.HasPrefix(users.Plain, "Blueprint reference › Users (https://osbuild.org/docs/user-guide/blueprint-reference/#users)") {
		t.Errorf("the first answer is not the users section:\n%s", users.Plain)
	}
	golden.Check(t, "docs-users.golden", render(users))
	golden.Check(t, "docs-typo.golden", render(ask("partioning lvm")))
	golden.Check(t, "docs-nothing.golden", render(ask("kubernetes zeppelin")))
}
