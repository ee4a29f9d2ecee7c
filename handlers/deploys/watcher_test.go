package deploys

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestWatcherReportsItsHealth: !status learns that deploy checks
// work, or why they fail.
func TestWatcherReportsItsHealth(t *testing.T) {
	for _, failing := range []bool{false, true} {
		fake := testenv.NewGitHub()
		gh, _ := ghclient.New(ghclient.Options{BaseURL: fake.URL})
		now := func() time.Time { return time.Date(2025, 11, 1, 12, 0, 0, 0, time.UTC) }
		cat := catalog.Default()
		if failing {
			for range 10 {
				fake.FailNext(testenv.DiagramPath, http.StatusBadGateway, nil)
			}
		}
		w := &Watcher{
			Catalog: cat, Deploys: prodhash.NewService(prodhash.NewDiagramSource(fake.DiagramURL(), cat, gh, http.DefaultClient, time.Minute, now), nil, now),
			Compare: prodhash.NewComparer(gh, time.Minute, now), Store: memKV{}, Poster: &testenv.Recorder{},
			Rooms: []string{"!r:x"}, Interval: time.Hour, Log: zerolog.Nop(), Now: now,
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for w.Health().Last.IsZero() && !strings.Contains(w.Health().Detail, "502") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		fake.Close()
		h := w.Health()
		switch {
		case !failing && (!h.OK || !strings.HasPrefix(h.Detail, "checking 4 components every 1h0m0s")):
			t.Errorf("working: %+v", h)
		case failing && (h.OK || !strings.Contains(h.Detail, "502")):
			t.Errorf("failing: %+v", h)
		}
	}
}

// memKV is a KV in memory.
type memKV map[string]string

func (m memKV) Get(_ context.Context, k string) (string, bool, error) {
	v, ok := m[k]
	return v, ok, nil
}
func (m memKV) Put(_ context.Context, k, v string) error { m[k] = v; return nil }

// deployEnv is a deploy watcher over the fake GitHub with a clock the test
// moves, and the diagram cached for five minutes as by default.
type deployEnv struct {
	fake *testenv.GitHub
	rec  *testenv.Recorder
	w    *Watcher
	now  time.Time
}

func newDeployEnv(t *testing.T) *deployEnv {
	e := &deployEnv{fake: testenv.NewGitHub(), rec: &testenv.Recorder{}, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	t.Cleanup(e.fake.Close)
	gh, _ := ghclient.New(ghclient.Options{BaseURL: e.fake.URL})
	now := func() time.Time { return e.now }
	cat := catalog.Default()
	e.w = &Watcher{
		Catalog: cat, Deploys: prodhash.NewService(prodhash.NewDiagramSource(e.fake.DiagramURL(), cat, gh, http.DefaultClient, 5*time.Minute, now), nil, now),
		Compare: prodhash.NewComparer(gh, 5*time.Minute, now), Store: memKV{}, Poster: e.rec,
		Rooms: []string{"!r:x"}, Interval: time.Minute, MaxChanges: 2, Log: zerolog.Nop(), Now: now,
	}
	return e
}

const (
	composerA = "0e2daa201f0a0d97358a12740bfad416c9e4f7b4" // in the newest diagram
	composerB = "1111111111111111111111111111111111111111"
)

// deployComposer serves a diagram whose composer link names sha.
func (e *deployEnv) deployComposer(sha string) {
	e.fake.SetDiagram(bytes.ReplaceAll(fixtures.Read(fixtures.DiagramNewest), []byte(composerA), []byte(sha)), e.now)
}

func (e *deployEnv) check(t *testing.T, after time.Duration) {
	t.Helper()
	e.now = e.now.Add(after)
	if err := e.w.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRollbacksAndRepeatDeploysAreAnnounced: A → B → A → B is three
// announcements, the second saying it is a rollback, even though the
// same commits come back within the outbox's retention.
func TestRollbacksAndRepeatDeploysAreAnnounced(t *testing.T) {
	e := newDeployEnv(t)
	e.check(t, 0) // the first check only records A
	e.deployComposer(composerB)
	e.check(t, 10*time.Minute)
	e.fake.SetOlder("osbuild/osbuild-composer", composerA)
	e.deployComposer(composerA)
	e.check(t, 10*time.Minute)
	e.check(t, 10*time.Minute) // nothing new
	e.deployComposer(composerB)
	e.check(t, 10*time.Minute)
	var got []string
	for _, m := range e.rec.All() {
		got = append(got, strings.SplitN(m.Plain, "\n", 2)[0])
	}
	want := []string{
		"image-builder-composer deployed: 0e2daa2 (",
		"image-builder-composer rolled back: 1111111 (",
		"image-builder-composer deployed: 0e2daa2 (",
	}
	if len(got) != len(want) {
		t.Fatalf("announcements:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("announcement %d = %q, want it to start %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[1], "taken out of production") {
		t.Errorf("the rollback does not say what it takes out: %q", got[1])
	}
}

// TestDeployCheckNeverReadsACachedDiagram: a check one minute after the
// diagram changed announces the deploy, although answers are cached for
// five minutes; an unchanged diagram costs a 304.
func TestDeployCheckNeverReadsACachedDiagram(t *testing.T) {
	e := newDeployEnv(t)
	e.check(t, 0)
	e.deployComposer(composerB)
	e.check(t, time.Minute)
	if n := len(e.rec.All()); n != 1 {
		t.Fatalf("a deploy one minute old was not announced (%d announcements): the check read a cached diagram", n)
	}
	before := e.fake.NotModified()
	e.check(t, time.Minute)
	if e.fake.NotModified() <= before {
		t.Error("an unchanged diagram was not revalidated with a conditional request")
	}
}

// TestDeployLogGolden renders !deploys: deploys with lead times, one with
// no merged pull requests, one without details, a rollback, and the
// 30-day measures per component.
func TestDeployLogGolden(t *testing.T) {
	cat := catalog.Default()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	rows := []store.DeployRow{
		{Component: "composer", Number: 4, From: "1111111aaa", To: "0e2daa2bbb", SeenAt: now.Add(-2 * time.Hour), Rollback: true, Commits: 2,
			Changes: `[{"pr":4512,"title":"cloudapi: accept a GCE image family"}]`},
		{Component: "composer", Number: 3, From: "0e2daa2bbb", To: "1111111aaa", SeenAt: now.Add(-1 * day), Commits: 2,
			Changes: `[{"pr":4512,"title":"cloudapi: accept a GCE image family"}]`, Lead: 30 * time.Hour, LeadKnown: true},
		{Component: "crc", Number: 7, From: "85487bfccc", To: "9a9a9a9ddd", SeenAt: now.Add(-3 * day), Commits: 1, Changes: `[]`,
			Lead: 50 * time.Minute, LeadKnown: true},
		{Component: "composer", Number: 2, From: "aaaaaaaeee", To: "0e2daa2bbb", SeenAt: now.Add(-10 * day), Commits: 9,
			Changes: `[{"pr":4490,"title":"worker: retry"},{"pr":4491,"title":"deps"}]`, Lead: 4 * day, LeadKnown: true},
		{Component: "frontend", Number: 1, From: "654458cfff", To: "7777777ggg", SeenAt: now.Add(-20 * day), Commits: -1, Changes: `[]`},
	}
	mem := memHistory(rows)
	cmd := Command(cat, &mem, func() time.Time { return now }, nil)
	run := func(args ...string) bot.Reply {
		rep, err := cmd.Run(context.Background(), bot.Request{Command: "deploys", Args: args, Prefix: "!"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	golden.Check(t, "deploys.golden", render(run()))
	golden.Check(t, "deploys-composer.golden", render(run("composer")))
	if got := run("compser").Plain; !strings.Contains(got, "did you mean") {
		t.Errorf("a typo gets %q", got)
	}
	if got := RenderLog(cat, "", nil, now).Plain; got != "No deploy seen in the last 30 days." {
		t.Errorf("no deploys: %q", got)
	}
}

// memHistory is a History over fixed rows (newest first).
type memHistory []store.DeployRow

func (m *memHistory) Deploys(_ context.Context, component string, since time.Time, limit int) ([]store.DeployRow, error) {
	var out []store.DeployRow
	for _, d := range *m {
		if (component == "" || d.Component == component) && !d.SeenAt.Before(since) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

// TestDeploysAreRecorded: the deploy checks keep the history !deploys
// reads: each deploy once, a rollback as one, with commits and lead time.
func TestDeploysAreRecorded(t *testing.T) {
	e := newDeployEnv(t)
	rec := &recordedDeploys{}
	e.w.History = rec
	e.check(t, 0)
	e.deployComposer(composerB)
	e.check(t, 10*time.Minute)
	e.check(t, 10*time.Minute) // nothing new
	e.fake.SetOlder("osbuild/osbuild-composer", composerA)
	e.deployComposer(composerA)
	e.check(t, 10*time.Minute)
	if len(rec.rows) != 2 {
		t.Fatalf("recorded %d deploys, want 2: %+v", len(rec.rows), rec.rows)
	}
	fwd, back := rec.rows[0], rec.rows[1]
	if fwd.Component != "composer" || fwd.Number != 2 || fwd.Rollback || fwd.Commits <= 0 || !fwd.LeadKnown || fwd.Lead <= 0 {
		t.Errorf("the deploy: %+v", fwd)
	}
	if !back.Rollback || back.Number != 3 || back.From != composerB || back.To != composerA {
		t.Errorf("the rollback: %+v", back)
	}
}

type recordedDeploys struct{ rows []store.DeployRow }

func (r *recordedDeploys) RecordDeploy(_ context.Context, d store.DeployRow) error {
	r.rows = append(r.rows, d)
	return nil
}

func TestDeployAnnouncementGolden(t *testing.T) {
	comp, _ := catalog.Default().Find("composer")
	cmp := &prodhash.Comparison{
		Behind: 12, URL: "https://github.com/osbuild/osbuild-composer/compare/abc1234...def5678",
		Pending: []prodhash.Commit{
			{SHA: "1111111", Title: "worker: retry uploads <for @room>", PR: 4512},
			{SHA: "2222222", Title: "fixup"},
			{SHA: "3333333", Title: "cloudapi: add GCE image family", PR: 4520},
			{SHA: "4444444", Title: "deps: bump golang.org/x/net", PR: 4521},
		},
	}
	golden.Check(t, "deploy.golden", render(RenderDeploy(comp, "abc1234000", "def5678000", cmp, 2)))
	golden.Check(t, "deploy-no-details.golden", render(RenderDeploy(comp, "abc1234000", "def5678000", nil, 2)))
	golden.Check(t, "rollback.golden", render(RenderRollback(comp, "def5678000", "abc1234000", 12, cmp, 2)))
}

func render(r bot.Reply) string { return "plain:\n" + r.Plain + "\n\nhtml:\n" + r.HTML + "\n" }
