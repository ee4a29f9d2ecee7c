package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestWorldAgreesWithItself asks the demo's GitHub, through the client
// the bot uses, for every comparison of two commits, every pull request
// and the diagram's commits: the answers fit one history.
func TestWorldAgreesWithItself(t *testing.T) {
	now := time.Now()
	w := NewWorld(now)
	gh := testenv.NewGitHub()
	defer gh.Close()
	gh.SetBackend(w)
	client, err := ghclient.New(ghclient.Options{BaseURL: gh.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cmp := prodhash.NewComparer(client, 0, time.Now)

	links, err := prodhash.ParseDiagram(bytes.NewReader(fixtures.Read(fixtures.DiagramNewest)))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.SHA == "" {
			continue
		}
		repo := strings.Replace(l.Repo, "RedHatInsights/", "osbuild/", 1)
		if _, _, ok := w.Commit(repo, l.SHA); !ok {
			t.Errorf("the diagram's %s commit %s is not in the world's %s", l.Label, l.SHA, repo)
		}
	}

	for _, s := range specs {
		r := w.repos[strings.ToLower(s.name)]
		if len(r.commits) < 20 {
			t.Errorf("%s has %d commits, want a few dozen", s.name, len(r.commits))
		}
		for _, i := range []int{0, len(r.commits) / 2, len(r.commits) - 2} {
			for _, j := range []int{i, i + 1, len(r.commits) - 1} {
				c, err := cmp.Compare(ctx, s.name, r.commits[i].sha, r.commits[j].sha)
				if err != nil {
					t.Fatalf("%s %d...%d: %v", s.name, i, j, err)
				}
				if c.Behind != j-i || len(c.Pending) != j-i || c.Base.Title != r.commits[i].title {
					t.Errorf("%s %d...%d: %d behind, %d pending, base %q", s.name, i, j, c.Behind, len(c.Pending), c.Base.Title)
				}
				for k, p := range c.Pending {
					if want := r.commits[i+1+k]; p.SHA != want.sha || p.PR != want.pr || p.Author != nameOf(want.author) {
						t.Errorf("%s %d...%d: pending %d is %+v, want %s #%d", s.name, i, j, k, p, want.sha, want.pr)
					}
				}
				if back, err := cmp.Compare(ctx, s.name, r.commits[j].sha, r.commits[i].sha); err != nil || back.Removed != j-i || back.Behind != 0 {
					t.Errorf("%s %d...%d backwards: %+v %v", s.name, j, i, back, err)
				}
			}
		}
		for _, c := range r.commits {
			pr, _, err := client.PullRequests.Get(ctx, "osbuild", strings.TrimPrefix(s.name, "osbuild/"), c.pr)
			if err != nil || pr.GetMergeCommitSHA() != c.sha || c.title != fmt.Sprintf("%s (#%d)", pr.GetTitle(), c.pr) ||
				pr.GetMergedBy().GetLogin() == "" || strings.Contains(pr.GetMergedBy().GetLogin(), "Codertocat") {
				t.Errorf("%s#%d: %v, %+v", s.name, c.pr, err, pr)
			}
		}
	}
	if _, err := cmp.Compare(ctx, "osbuild/osbuild", "0000000000000000000000000000000000000000", "main"); !ghclient.IsNotFound(err) {
		t.Errorf("an unknown commit compares: %v", err)
	}
	if _, _, err := client.Issues.Get(ctx, "osbuild", "osbuild", 1); !ghclient.IsNotFound(err) {
		t.Errorf("osbuild/osbuild#1: %v, want GitHub's 404", err)
	}
	res, _, err := client.Search.Issues(ctx, `is:issue is:open label:"cockpit-image-builder" repo:osbuild/image-builder-frontend`, nil)
	if err != nil || res.GetTotal() != 3 || res.Issues[0].GetNumber() != 2931 {
		t.Errorf("the newcomer issues: %v %+v", err, res)
	}

	before := w.Head(demoRepo)
	w.Open(demoRepo, 2981, "Wizard: offer WSL for aarch64", "luis-ortega", true)
	sha := w.Merge(demoRepo, 2981, "mei-tanaka", now)
	if n, prs := w.Behind(demoRepo, before); n != 1 || prs[0] != 2981 || w.Head(demoRepo) != sha {
		t.Errorf("after a merge: %d behind %v; head %s, merged %s", n, prs, w.Head(demoRepo), sha)
	}
}
