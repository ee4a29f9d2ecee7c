package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/newcomers"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/testenv"
)

func run(t *testing.T, cmd bot.Command, args ...string) bot.Reply {
	t.Helper()
	rep, err := cmd.Run(context.Background(), bot.Request{Command: cmd.Name, Args: args, Prefix: "!"})
	if err != nil {
		t.Fatalf("%s %v: %v", cmd.Name, args, err)
	}
	return rep
}

func knowledgeEnv(t *testing.T) (*testenv.GitHub, *catalog.Catalog, *prodhash.Service, *prodhash.DiagramSource, *newcomers.Finder) {
	t.Helper()
	fake := testenv.NewGitHub()
	t.Cleanup(fake.Close)
	gh, _ := ghclient.New(ghclient.Options{BaseURL: fake.URL})
	now := func() time.Time { return time.Date(2025, 11, 1, 12, 0, 0, 0, time.UTC) }
	cat := catalog.Default()
	src := prodhash.NewDiagramSource(fake.DiagramURL(), cat, gh, http.DefaultClient, time.Minute, now)
	return fake, cat, prodhash.NewService(src, nil, now), src, newcomers.New(gh, []string{"good first issue", "cockpit-image-builder"}, 3, time.Hour, now)
}

func TestArchGolden(t *testing.T) {
	fake, cat, svc, src, _ := knowledgeEnv(t)
	gh, _ := ghclient.New(ghclient.Options{BaseURL: fake.URL})
	cmd := Arch(cat, svc, prodhash.NewComparer(gh, time.Minute, time.Now), src)
	all := run(t, cmd)
	if all.Image == nil || all.Image.MIME != "image/png" || all.Image.Width != 1520 || len(all.Image.Data) < 10000 {
		t.Fatalf("!arch did not attach the rendered diagram: %+v", all.Image)
	}
	golden.Check(t, "arch.golden", render(all))
	golden.Check(t, "arch-composer.golden", render(run(t, cmd, "composer")))
	golden.Check(t, "arch-db.golden", render(run(t, cmd, "image-builder-db")))
	if again := run(t, cmd); again.Image != all.Image {
		t.Error("the diagram was rendered again although it did not change")
	}
	if path := os.Getenv("IBBOT_ARTIFACTS"); path != "" {
		os.WriteFile(filepath.Join(path, "arch.png"), all.Image.Data, 0o644)
	}
	plain := Arch(cat, svc, nil, src)
	if bare := run(t, plain); bytes.Equal(bare.Image.Data, all.Image.Data) {
		t.Error("the annotated diagram looks the same as the bare one: the boxes were not annotated")
	}
}

func TestContributeGolden(t *testing.T) {
	fake, cat, _, _, finder := knowledgeEnv(t)
	repos := []string{"osbuild/image-builder-frontend", "osbuild/osbuild-composer"}
	cmd := Contribute(cat, finder, repos)
	golden.Check(t, "contribute.golden", render(run(t, cmd)))
	golden.Check(t, "contribute-frontend.golden", render(run(t, cmd, "ui")))
	if got := run(t, cmd, "kernel").Plain; !strings.Contains(got, "frontend, backend, composer, osbuild") {
		t.Errorf("unknown area: %s", got)
	}
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r, "/search/issues") && !strings.Contains(r, "label%3A%22good+first+issue%22") && !strings.Contains(r, "label%3A%22cockpit-image-builder%22") {
			t.Errorf("search without the configured label: %s", r)
		}
	}
	none := Contribute(cat, emptyFinder{}, repos)
	golden.Check(t, "contribute-none.golden", render(run(t, none, "backend")))
	down := Contribute(cat, emptyFinder{err: errors.New("boom")}, repos)
	if got := run(t, down).Plain; !strings.Contains(got, "could not list issues") || !strings.Contains(got, "developer guide") {
		t.Errorf("GitHub down should still give the steps: %s", got)
	}
}

type emptyFinder struct{ err error }

func (f emptyFinder) Find(context.Context, []string) ([]newcomers.Issue, error) { return nil, f.err }

func TestContactGolden(t *testing.T) {
	cat := catalog.Default()
	without := run(t, Contact(cat, ""))
	if strings.Contains(strings.ToLower(without.Plain), "mailing list") {
		t.Error("!contact advertises a mailing list that is not configured")
	}
	golden.Check(t, "contact.golden", render(without))
	golden.Check(t, "contact-list.golden", render(run(t, Contact(cat, "image-builder@example.org"))))
}
