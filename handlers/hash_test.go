package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/testenv"
)

type hashEnv struct {
	fake *testenv.GitHub
	cmd  bot.Command
	now  time.Time
	tick func(time.Duration)
}

func newHashEnv(t *testing.T, pageURL ...string) *hashEnv {
	t.Helper()
	fake := testenv.NewGitHub()
	t.Cleanup(fake.Close)
	gh, err := ghclient.New(ghclient.Options{BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := &hashEnv{fake: fake, now: time.Date(2025, 11, 1, 12, 0, 0, 0, time.UTC)}
	now := func() time.Time { return e.now }
	e.tick = func(d time.Duration) { e.now = e.now.Add(d) }
	cat := catalog.Default()
	svc := prodhash.NewService(prodhash.NewDiagramSource(fake.DiagramURL(), cat, gh, http.DefaultClient, 5*time.Minute, now), nil, now)
	e.cmd = Hash(cat, svc, prodhash.NewComparer(gh, 5*time.Minute, now), now, strings.Join(pageURL, ""))
	return e
}

func (e *hashEnv) say(t *testing.T, args ...string) bot.Reply {
	t.Helper()
	rep, err := e.cmd.Run(context.Background(), bot.Request{Command: "hash", Args: args, Prefix: "!"})
	if err != nil {
		var ue *bot.UserError
		if !asUserError(err, &ue) {
			t.Fatalf("hash %v: internal error %v", args, err)
		}
		return bot.TextReply("%s", ue.Msg)
	}
	return rep
}

func asUserError(err error, target **bot.UserError) bool {
	ue, ok := err.(*bot.UserError)
	*target = ue
	return ok
}

func render(r bot.Reply) string { return "plain:\n" + r.Plain + "\n\nhtml:\n" + r.HTML + "\n" }

func TestHashGolden(t *testing.T) {
	e := newHashEnv(t)
	golden.Check(t, "hash-table.golden", render(e.say(t)))
	golden.Check(t, "hash-composer.golden", render(e.say(t, "composer")))
	golden.Check(t, "hash-unknown.golden", render(e.say(t, "compser")))
	golden.Check(t, "hash-database.golden", render(e.say(t, "composer-db")))

	fresh := newHashEnv(t)
	fresh.fake.SetAhead("osbuild/osbuild", 0)
	golden.Check(t, "hash-worker-up-to-date.golden", render(fresh.say(t, "worker")))

	e.tick(time.Hour)
	e.fake.FailNext(testenv.DiagramPath, http.StatusBadGateway, nil)
	golden.Check(t, "hash-composer-stale.golden", render(e.say(t, "composer")))

	e.tick(time.Hour)
	e.fake.SetDiagram(fixtures.Read(fixtures.DiagramNoHashes), time.Date(2023, 1, 26, 10, 0, 0, 0, time.UTC))
	golden.Check(t, "hash-no-hash.golden", render(e.say(t, "frontend")))
}

func TestHashNamesTheRightCommit(t *testing.T) {
	e := newHashEnv(t)
	got := e.say(t, "osbuild-composer").Plain
	for _, want := range []string{"image-builder-composer runs 0e2daa2", "0e2daa201f0a0d97358a12740bfad416c9e4f7b4", "2 commits behind main", "as of 2025-07-21"} {
		if !strings.Contains(got, want) {
			t.Errorf("answer lacks %q:\n%s", want, got)
		}
	}
}

func TestHashWhenGitHubFails(t *testing.T) {
	e := newHashEnv(t)
	e.fake.FailNext("/repos/osbuild/osbuild-composer/compare/", http.StatusForbidden,
		http.Header{"Retry-After": {"60"}})
	got := e.say(t, "composer").Plain
	if !strings.Contains(got, "runs 0e2daa2") || !strings.Contains(got, "How far behind main it is: unknown") {
		t.Errorf("GitHub down should still name the commit:\n%s", got)
	}
}

// TestHashLinksToTheStatusPage: with status.public_url, !hash points at
// the live page; without, it does not.
func TestHashLinksToTheStatusPage(t *testing.T) {
	for url, want := range map[string]bool{"https://ibbot.example.org/": true, "": false} {
		e := newHashEnv(t, url)
		for _, args := range [][]string{{"composer"}, nil} {
			rep, err := e.cmd.Run(context.Background(), bot.Request{Command: "hash", Args: args, Prefix: "!"})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(rep.Plain, "On the live architecture page: https://ibbot.example.org/"); got != want {
				t.Errorf("page %q, !hash %v: link shown %v, want %v", url, args, got, want)
			}
		}
	}
}
