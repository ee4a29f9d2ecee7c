package prodhash

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/testenv"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*testenv.GitHub, *Service, *Comparer, *DiagramSource, *clock) {
	t.Helper()
	fake := testenv.NewGitHub()
	t.Cleanup(fake.Close)
	gh, err := ghclient.New(ghclient.Options{BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{time.Date(2025, 11, 1, 12, 0, 0, 0, time.UTC)}
	diagram := NewDiagramSource(fake.DiagramURL(), catalog.Default(), gh, http.DefaultClient, 5*time.Minute, clk.now)
	svc := NewService(diagram, nil, clk.now)
	return fake, svc, NewComparer(gh, 5*time.Minute, clk.now), diagram, clk
}

func TestComposerFromTheDiagram(t *testing.T) {
	fake, svc, cmp, _, _ := setup(t)
	comp, _ := catalog.Default().Find("composer")
	ctx := context.Background()

	dep, err := svc.Get(ctx, comp)
	if err != nil {
		t.Fatal(err)
	}
	if dep.SHA != "0e2daa201f0a0d97358a12740bfad416c9e4f7b4" || dep.Stale {
		t.Fatalf("composer deployment = %+v", dep)
	}
	if want := time.Date(2025, 7, 21, 9, 30, 0, 0, time.UTC); !dep.AsOf.Equal(want) {
		t.Errorf("as of %s, want the diagram's last commit %s", dep.AsOf, want)
	}
	c, err := cmp.Compare(ctx, comp.Repo, dep.SHA, comp.Branch)
	if err != nil {
		t.Fatal(err)
	}
	if c.Behind != 2 || c.Base.SHA != dep.SHA || len(c.Pending) != 2 {
		t.Errorf("comparison = %+v", c)
	}
	if c.Base.Title != "allow override of the per_page parameter from Client#commits" || c.Base.PR != 117 {
		t.Errorf("base commit title %q (PR %d): want the merged PR's title", c.Base.Title, c.Base.PR)
	}
	if n := len(fake.Requests()); n > 3 {
		t.Errorf("a cold lookup cost %d GitHub requests, want at most 3: %v", n, fake.Requests())
	}

	// Warm: no request at all.
	before := len(fake.Requests())
	svc.Get(ctx, comp)
	cmp.Compare(ctx, comp.Repo, dep.SHA, comp.Branch)
	if after := len(fake.Requests()); after != before {
		t.Errorf("a warm lookup cost %d requests", after-before)
	}
}

func TestStaleWhenTheDiagramIsDown(t *testing.T) {
	fake, svc, _, _, clk := setup(t)
	comp, _ := catalog.Default().Find("crc")
	ctx := context.Background()
	good, err := svc.Get(ctx, comp)
	if err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Hour) // past the TTL
	fake.FailNext(testenv.DiagramPath, http.StatusServiceUnavailable, nil)
	dep, err := svc.Get(ctx, comp)
	if err != nil {
		t.Fatalf("a failing source with a last good value errored: %v", err)
	}
	if !dep.Stale || dep.SHA != good.SHA || !strings.Contains(dep.StaleReason, "503") {
		t.Errorf("got %+v, want the last good value marked stale with the reason", dep)
	}
}

func TestBareLinksHaveNoHash(t *testing.T) {
	fake, svc, _, _, _ := setup(t)
	fake.SetDiagram(fixtures.Read(fixtures.DiagramNoHashes), time.Date(2023, 1, 26, 0, 0, 0, 0, time.UTC))
	comp, _ := catalog.Default().Find("worker")
	if _, err := svc.Get(context.Background(), comp); !errors.Is(err, ErrNoHash) {
		t.Errorf("bare repo link: err = %v, want ErrNoHash", err)
	}
}

func TestRenamedBackendRepo(t *testing.T) {
	fake, svc, _, _, _ := setup(t)
	// 2024: the backend box links to osbuild/image-builder/tree/<sha>, which
	// means image-builder-crc (osbuild/image-builder is another repo now).
	fake.SetDiagram(fixtures.Read(fixtures.DiagramTree2024), time.Date(2024, 1, 26, 0, 0, 0, 0, time.UTC))
	comp, _ := catalog.Default().Find("crc")
	dep, err := svc.Get(context.Background(), comp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dep.Link, "osbuild/image-builder/tree/") || dep.SHA == "" {
		t.Errorf("crc from the 2024 diagram: %+v", dep)
	}
}

func TestJSONAndStaticSources(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/app.info.json", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"src_hash":"ABCDEF1234567","build":{"n":1}}`))
	})
	hs := testenv.ServeMux(t, mux)
	now := time.Now
	ok := NewJSONSource(hs+"/app.info.json", "src_hash", http.Header{"Authorization": {"Bearer s3cret"}}, http.DefaultClient, time.Minute, now)
	if f, err := ok.Lookup(context.Background(), nil); err != nil || f.SHA != "abcdef1234567" {
		t.Errorf("json source: %+v %v", f, err)
	}
	bad := NewJSONSource(hs+"/app.info.json", "build.n", http.Header{"Authorization": {"Bearer s3cret"}}, http.DefaultClient, time.Minute, now)
	if _, err := bad.Lookup(context.Background(), nil); err == nil {
		t.Error("a number was accepted as a commit")
	}
	noAuth := NewJSONSource(hs+"/app.info.json", "src_hash", nil, http.DefaultClient, time.Minute, now)
	if _, err := noAuth.Lookup(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("unauthorised: %v", err)
	}
	if f, _ := (StaticSource{SHA: "ABC1234"}).Lookup(context.Background(), nil); f.SHA != "abc1234" {
		t.Errorf("static: %+v", f)
	}
}
