package deploys

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/testenv"
)

// pullJSON is a recorded pull request object with the fields a test sets.
func pullJSON(t *testing.T, number int, state string, merged bool, mergeSHA string, mergedAt time.Time) json.RawMessage {
	var d map[string]any
	if err := json.Unmarshal(fixtures.Read("github/webhooks/pull_request.closed.payload.json"), &d); err != nil {
		t.Fatal(err)
	}
	pr := d["pull_request"].(map[string]any)
	pr["number"], pr["state"], pr["merged"], pr["title"] = number, state, merged, "cloudapi: accept a GCE image family"
	pr["merge_commit_sha"], pr["merged_at"] = nil, nil
	if merged {
		pr["merge_commit_sha"], pr["merged_at"] = mergeSHA, mergedAt.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal(pr)
	return b
}

func newLive(t *testing.T, history History) (*Live, *testenv.GitHub, time.Time) {
	fake := testenv.NewGitHub()
	t.Cleanup(fake.Close)
	gh, _ := ghclient.New(ghclient.Options{BaseURL: fake.URL})
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cat := catalog.Default()
	l := &Live{Catalog: cat, Pulls: gh.PullRequests, History: history, Now: clock,
		Deploys: prodhash.NewService(prodhash.NewDiagramSource(fake.DiagramURL(), cat, gh, http.DefaultClient, time.Minute, clock), nil, clock),
		Compare: prodhash.NewComparer(gh, time.Minute, clock)}
	merged := now.Add(-50 * time.Hour)
	fake.SetPulls("osbuild/osbuild-composer",
		pullJSON(t, 4512, "closed", true, "4512451245124512451245124512451245124512", merged),
		pullJSON(t, 4600, "open", false, "", time.Time{}),
		pullJSON(t, 4601, "closed", false, "", time.Time{}),
		pullJSON(t, 4513, "closed", true, "4513451345134513451345134513451345134513", merged),
	)
	return l, fake, merged
}

func (l *Live) ask(t *testing.T, arg string) string {
	t.Helper()
	rep, err := l.Command().Run(context.Background(), bot.Request{Command: "deployed", Args: []string{arg}, Prefix: "!"})
	if err != nil {
		t.Fatalf("!deployed %s: %v", arg, err)
	}
	return rep.Plain
}

// TestDeployedAnswersEveryCase: live (with the deploy that brought it
// and how long after the merge), not yet live (with how far behind),
// open, closed unmerged, a repository no component is built from, and a
// number that does not exist.
func TestDeployedAnswersEveryCase(t *testing.T) {
	const prod = "0e2daa201f0a0d97358a12740bfad416c9e4f7b4" // in the newest diagram
	history := &memHistory{}
	l, fake, merged := newLive(t, history)
	*history = memHistory{
		{Component: "composer", Number: 5, From: "aaaaaaa", To: prod, SeenAt: merged.Add(26 * time.Hour), Commits: 3, Changes: "[]"},
	}
	cases := []struct{ arg, want string }{
		{"osbuild/osbuild-composer#4512", "✓ osbuild/osbuild-composer#4512 “cloudapi: accept a GCE image family” is in production on image-builder-composer (it runs 0e2daa2"},
		{"https://github.com/osbuild/osbuild-composer/pull/4512", "Deployed 2026-11-29 12:00 UTC, 1d 2h after the merge"},
		{"osbuild/osbuild-composer#4512", "1d 2h after the merge"},
		{"osbuild/osbuild-composer#4600", "is still open: not merged, so not in production"},
		{"osbuild/osbuild-composer#4601", "was closed without being merged"},
		{"someone/else#1", "No component of the hosted service is built from someone/else"},
		{"osbuild/osbuild-composer#9999", "osbuild/osbuild-composer has no pull request #9999"},
		{"osbuild/..#1", "is not a repository name"},
		{"not-a-ref", "usage: !deployed"},
	}
	for _, c := range cases {
		if got := l.ask(t, c.arg); !strings.Contains(got, c.want) {
			t.Errorf("!deployed %s:\n%s\nwant it to say %q", c.arg, got, c.want)
		}
	}
	if got := l.ask(t, "osbuild/osbuild-composer#4512"); strings.Count(got, "0e2daa2 (") != 1 {
		t.Errorf("the deploy that runs now is named twice:\n%s", got)
	}
	fake.SetOlder("osbuild/osbuild-composer", prod) // production is older than this merge
	got := l.ask(t, "osbuild/osbuild-composer#4513")
	if !strings.Contains(got, "✗ osbuild/osbuild-composer#4513 “cloudapi: accept a GCE image family” is not in production yet: image-builder-composer runs 0e2daa2") ||
		!strings.Contains(got, "which lacks 2 commits of it") || !strings.Contains(got, "Merged 2 days ago") {
		t.Errorf("not yet live:\n%s", got)
	}
}
