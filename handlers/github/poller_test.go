package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/testenv"
)

func newPoller(t *testing.T, e *relayEnv, fake *testenv.GitHub, repos []string) *Poller {
	t.Helper()
	c, err := ghclient.New(ghclient.Options{BaseURL: fake.URL, CacheEntries: 512 + CacheEntriesFor(len(repos))})
	if err != nil {
		t.Fatal(err)
	}
	return &Poller{GitHub: c, Store: e.store, Repos: func() []string { return repos }, Interval: time.Minute,
		Now: func() time.Time { return e.now }, Log: zerolog.Nop()}
}

// issueJSON is the issue object of a real delivery, created at created.
func issueJSON(t *testing.T, number int, created time.Time, edit func(map[string]any)) json.RawMessage {
	var m map[string]any
	json.Unmarshal(payload(t, "issues.opened.payload.json", nil), &m)
	is := m["issue"].(map[string]any)
	is["number"] = number
	is["html_url"] = fmt.Sprintf("https://github.com/Codertocat/Hello-World/issues/%d", number)
	is["created_at"], is["updated_at"] = created.Format(time.RFC3339), created.Format(time.RFC3339)
	if edit != nil {
		edit(is)
	}
	b, _ := json.Marshal(is)
	return b
}

// TestIdlePollCostsNothing: after the first cycle, a cycle over ten quiet
// repositories is all 304s, which GitHub does not count.
func TestIdlePollCostsNothing(t *testing.T) {
	fake := testenv.NewGitHub()
	defer fake.Close()
	var repos []string
	for i := range 10 {
		repos = append(repos, fmt.Sprintf("osbuild/repo%d", i))
	}
	e := newRelayEnv(t, sub(func(s *config.Subscription) { s.Repos = repos }))
	p := newPoller(t, e, fake, repos)
	e.poll(t, p)
	first := len(fake.Requests())
	e.poll(t, p)
	if extra := len(fake.Requests()) - first; extra != 0 {
		t.Errorf("an idle cycle over 10 repos cost %d rate-limit points, want 0: %v", extra, fake.Requests()[first:])
	}
	if fake.NotModified() != 2*len(repos) {
		t.Errorf("%d conditional requests answered 304, want %d (issues and releases per repo)", fake.NotModified(), 2*len(repos))
	}
}

// TestPollerAnnouncesAndCatchesUp: a new issue is announced once; GitHub
// failing (secondary limit, 5xx) costs nothing but time, and the next
// cycle catches up from the stored cursor.
func TestPollerAnnouncesAndCatchesUp(t *testing.T) {
	fake := testenv.NewGitHub()
	defer fake.Close()
	e := newRelayEnv(t, sub(nil))
	e.relay.window = 0
	p := newPoller(t, e, fake, []string{"codertocat/hello-world"})
	e.poll(t, p) // records where following starts

	e.now = e.now.Add(time.Minute)
	fake.SetIssues("Codertocat/Hello-World", issueJSON(t, 50, e.now, nil))
	fake.FailNext("/repos/codertocat/hello-world/issues", http.StatusForbidden, http.Header{"Retry-After": {"60"}})
	e.poll(t, p)
	before := len(fake.Requests())
	e.poll(t, p)
	if n := len(e.rec.All()); n != 0 || len(fake.Requests()) != before {
		t.Fatalf("during Retry-After: %d messages, %d requests sent; want none", n, len(fake.Requests())-before)
	}
	// go-github keeps Retry-After on the real clock; a new client stands
	// for the minute passing.
	p = newPoller(t, e, fake, []string{"codertocat/hello-world"})
	fake.FailNext("/repos/codertocat/hello-world/issues", http.StatusBadGateway, nil)
	e.poll(t, p)
	e.poll(t, p)
	e.poll(t, p)
	got := roots(e.rec.All())
	if len(got) != 1 || !strings.Contains(got[0].Plain, "Codertocat/Hello-World#50") {
		t.Fatalf("after recovering: %+v", e.rec.All())
	}

	e.now = e.now.Add(time.Minute)
	closed := issueJSON(t, 50, e.now.Add(-time.Minute), func(m map[string]any) {
		m["state"], m["closed_at"], m["updated_at"] = "closed", e.now.Format(time.RFC3339), e.now.Format(time.RFC3339)
	})
	fake.SetIssues("Codertocat/Hello-World", closed)
	e.poll(t, p)
	e.poll(t, p)
	var edits int
	for _, m := range e.rec.All() {
		if m.Rel == "edit" {
			edits++
		}
	}
	if edits != 1 {
		t.Errorf("closing seen by two cycles made %d edits, want 1: %+v", edits, e.rec.All())
	}
}

// TestPollerReportsItsHealth: !status learns that polling works, that it
// fails (and why, in words), and that it recovered.
func TestPollerReportsItsHealth(t *testing.T) {
	fake := testenv.NewGitHub()
	defer fake.Close()
	e := newRelayEnv(t, sub(nil))
	p := newPoller(t, e, fake, []string{"codertocat/hello-world", "osbuild/osbuild"})
	if h := p.Health(); h.OK || h.Detail != "not polled yet" {
		t.Errorf("before the first cycle: %+v", h)
	}
	e.poll(t, p)
	worked := e.now
	if h := p.Health(); !h.OK || h.Detail != "2 repositories every 1m0s" || !h.Last.Equal(worked) {
		t.Errorf("after a good cycle: %+v", h)
	}

	e.now = e.now.Add(time.Minute)
	fake.FailNext("/repos/osbuild/osbuild/issues", http.StatusBadGateway, nil)
	e.poll(t, p)
	h := p.Health()
	if h.OK || !h.Since.Equal(e.now) || !h.Last.Equal(worked) ||
		h.Detail != "1 of 2 repositories failed (osbuild/osbuild): GitHub is not answering right now" {
		t.Errorf("after a failed cycle: %+v", h)
	}

	e.now = e.now.Add(time.Minute)
	e.poll(t, p)
	if h := p.Health(); !h.OK || !h.Since.Equal(e.now) {
		t.Errorf("after recovering: %+v", h)
	}
}

// TestPollerSurvivesAPanic: a bug while relaying a polled change costs
// that change (the relay logs and drops it), not the poller nor the bot;
// a bug while polling fails that repository's cycle and says so in
// !status.
func TestPollerSurvivesAPanic(t *testing.T) {
	fake := testenv.NewGitHub()
	defer fake.Close()
	e := newRelayEnv(t, sub(nil))
	e.relay.window = 0
	p := newPoller(t, e, fake, []string{"codertocat/hello-world"})
	e.poll(t, p)
	e.now = e.now.Add(time.Minute)
	fake.SetIssues("Codertocat/Hello-World", issueJSON(t, 51, e.now, nil))
	e.poll(t, p) // announced

	e.now = e.now.Add(time.Minute)
	fake.SetIssues("Codertocat/Hello-World", issueJSON(t, 51, e.now.Add(-time.Minute), func(m map[string]any) {
		m["state"], m["closed_at"], m["updated_at"] = "closed", e.now.Format(time.RFC3339), e.now.Format(time.RFC3339)
	}))
	rec := e.relay.poster
	e.relay.poster = &panickyPoster{} // editing the announcement crashes
	e.poll(t, p)
	if h := p.Health(); !h.OK {
		t.Errorf("a relay bug failed the poller: %+v", h)
	}
	if pending, _ := e.store.PendingDeliveries(context.Background(), 10); len(pending) != 0 {
		t.Errorf("the change that crashed the relay is still pending: %+v", pending)
	}
	e.relay.poster = rec
	e.now = e.now.Add(time.Minute)
	fake.SetIssues("Codertocat/Hello-World", issueJSON(t, 52, e.now, nil))
	e.poll(t, p)
	if got := roots(e.rec.All()); len(got) != 2 || !strings.Contains(got[1].Plain, "Hello-World#52") {
		t.Errorf("after the crash the next item was not announced: %+v", got)
	}

	p.GitHub = panickyGitHub(t, fake)
	e.now = e.now.Add(time.Minute)
	e.poll(t, p)
	if h := p.Health(); h.OK || !strings.Contains(h.Detail, "1 of 1 repositories failed") {
		t.Errorf("after a crash while polling: %+v", h)
	}
}

// panickyGitHub is a client whose every request hits a bug.
func panickyGitHub(t *testing.T, fake *testenv.GitHub) *gh.Client {
	c, err := ghclient.New(ghclient.Options{BaseURL: fake.URL, HTTPClient: &http.Client{Transport: panicTransport{}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type panicTransport struct{}

func (panicTransport) RoundTrip(*http.Request) (*http.Response, error) { panic("a bug") }

// poll runs one polling cycle and lets the relay act on what it recorded,
// as the relay's own goroutine does when the poller wakes it.
func (e *relayEnv) poll(t *testing.T, p *Poller) {
	t.Helper()
	p.Cycle(context.Background())
	if err := e.relay.step(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkIdlePollCycle300 times one idle polling cycle over 300
// repositories and reports what it costs against GitHub's rate limit.
// Run: go test ./handlers/github -run '^$' -bench IdlePoll
func BenchmarkIdlePollCycle300(b *testing.B) {
	fake := testenv.NewGitHub()
	defer fake.Close()
	var repos []string
	for i := range 300 {
		repos = append(repos, fmt.Sprintf("osbuild/repo%03d", i))
	}
	t := &testing.T{}
	e := newRelayEnv(t, sub(func(s *config.Subscription) { s.Repos = repos }))
	p := newPoller(t, e, fake, repos)
	p.Cycle(context.Background())
	counted, notModified := len(fake.Requests()), fake.NotModified()
	b.ResetTimer()
	for range b.N {
		p.Cycle(context.Background())
	}
	b.StopTimer()
	b.ReportMetric(float64(len(fake.Requests())-counted)/float64(b.N), "rate-limit-points/cycle")
	b.ReportMetric(float64(fake.NotModified()-notModified)/float64(b.N), "304s/cycle")
}

// runJSON is the recorded workflow run moved to Codertocat/Hello-World's
// default branch, with its workflow, id and outcome set.
func runJSON(t *testing.T, workflow int64, id int, conclusion string) json.RawMessage {
	var m map[string]any
	json.Unmarshal(payload(t, "workflow_run.completed.payload.json", nil), &m)
	r := m["workflow_run"].(map[string]any)
	r["workflow_id"], r["id"], r["run_number"], r["conclusion"], r["status"] = workflow, id, id, conclusion, "completed"
	r["head_branch"], r["name"] = "main", fmt.Sprintf("workflow %d", workflow) // the fake says main is the default
	b, _ := json.Marshal(r)
	return b
}

// TestPollerFollowsCI: where a repository's workflows stand when first
// polled is recorded, not announced; then a fix and a new failure are, once.
func TestPollerFollowsCI(t *testing.T) {
	fake := testenv.NewGitHub()
	defer fake.Close()
	fake.SetIssues("Codertocat/Hello-World") // the repository exists
	e := newRelayEnv(t, sub(func(s *config.Subscription) { s.Events = []config.Event{config.EventCI} }))
	p := newPoller(t, e, fake, []string{"codertocat/hello-world"})
	p.CIRepos = func() []string { return []string{"codertocat/hello-world"} }
	fake.SetRuns("Codertocat/Hello-World", runJSON(t, 1, 10, "failure"), runJSON(t, 2, 9, "success"))
	e.poll(t, p)
	if n := len(e.rec.All()); n != 0 {
		t.Fatalf("the first poll announced %d messages: %+v", n, e.rec.All())
	}
	fake.SetRuns("Codertocat/Hello-World", runJSON(t, 1, 12, "success"), runJSON(t, 2, 11, "failure"), runJSON(t, 1, 10, "failure"))
	e.poll(t, p)
	e.poll(t, p)
	var got []string
	for _, m := range e.rec.All() {
		got = append(got, strings.SplitN(m.Plain, ":", 2)[0])
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"✓ CI fixed", "✗ CI"}) {
		t.Errorf("announced %q, want one fix (workflow 1) and one failure (workflow 2)", got)
	}
}
