package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/testenv"
)

type pageEnv struct {
	fake      *testenv.GitHub
	srv       *httptest.Server
	now       time.Time
	incidents *Incidents
	reviews   []ReviewFigure
}

func newPageEnv(t *testing.T) *pageEnv {
	e := &pageEnv{fake: testenv.NewGitHub(), now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	t.Cleanup(e.fake.Close)
	gh, _ := ghclient.New(ghclient.Options{BaseURL: e.fake.URL})
	now := func() time.Time { return e.now }
	cat := catalog.Default()
	diagram := prodhash.NewDiagramSource(e.fake.DiagramURL(), cat, gh, http.DefaultClient, time.Minute, now)
	src := &Source{Catalog: cat, Deploys: prodhash.NewService(diagram, nil, now), Compare: prodhash.NewComparer(gh, time.Minute, now),
		Now: now, Health: func() []health.Report {
			return []health.Report{{Part: "mail", OK: true, Since: e.now.Add(-time.Hour), Detail: "secret detail"},
				{Part: "GitHub polling", Detail: "HTTP 502 from 10.0.0.1"},
				{Part: "GitHub relay", Detail: "stopped", Since: e.now.Add(-time.Minute)},
				{Part: "command descriptions (MSC4391)", OK: true, NotAllowed: true, Detail: "not allowed in !r:x (needs power level 50)"}}
		}}
	src.Incidents = func(context.Context) *Incidents { return e.incidents }
	src.Reviews = func(context.Context) []ReviewFigure { return e.reviews }
	page := &Page{Source: src, Diagram: diagram, Title: "Image Builder hosted service", Log: zerolog.Nop()}
	e.srv = httptest.NewServer(page.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *pageEnv) get(t *testing.T, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestPageShowsProductionCommits: every component's box carries its
// short sha linking to the commit; the table agrees; nothing secret.
func TestPageShowsProductionCommits(t *testing.T) {
	e := newPageEnv(t)
	resp, body := e.get(t, "/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, sha := range []string{"0e2daa201f0a0d97358a12740bfad416c9e4f7b4", "fd6801e380a87fb0026c1c73af7e17614fa6efb8"} {
		mark := regexp.MustCompile(`<a tabindex="-1" href="https://github.com/[^"]+/commit/` + sha + `"><title>[^<]*</title>(<rect[^>]*></rect>)?<text[^>]*class="ibbot-mark"[^>]*>` + sha[:7])
		if !mark.MatchString(body) {
			t.Errorf("no box annotated with %s linking to its commit", sha[:7])
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, directive) {
			t.Errorf("the page's Content-Security-Policy %q lacks %s", csp, directive)
		}
	}
	for _, bad := range []string{"<script", "onclick", "secret detail", "10.0.0.1"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if h1, h2 := strings.Index(body, "<h1>"), strings.Index(body, "<h2>"); h1 < 0 || h2 < h1 {
		t.Error("headings are not in order")
	}
	// The inline diagram is a picture for the eye, its links out of the
	// tab order; the caption and the table say what it shows.
	if !strings.Contains(body, `<figure class="diagram" aria-labelledby="diagram-caption">`) ||
		!strings.Contains(body, `<figcaption id="diagram-caption">The architecture diagram`) ||
		!strings.Contains(body, `<svg aria-hidden="true" focusable="false"`) {
		t.Error("the diagram is not a captioned figure hidden from screen readers")
	}
	if n := strings.Count(body, "<a ") - strings.Count(body, `<a tabindex="-1"`); n != strings.Count(body, `<a href="https://github.com/`)+2 {
		t.Errorf("%d links outside the diagram; want one per component with a commit, the full-size diagram and the JSON", n)
	}
	_, again := e.get(t, "/", "If-None-Match", resp.Header.Get("ETag"))
	if again != "" {
		t.Error("a conditional request for an unchanged page got the body again")
	}
}

// TestPageFollowsADeployAndSurvivesAnOutage: a new diagram shows on the
// page and in /status.json; while the diagram is unreachable the last one
// is shown, marked stale.
func TestPageFollowsADeployAndSurvivesAnOutage(t *testing.T) {
	e := newPageEnv(t)
	const newSHA = "1111111111111111111111111111111111111111"
	e.fake.SetDiagram(bytes.ReplaceAll(fixtures.Read(fixtures.DiagramNewest), []byte("0e2daa201f0a0d97358a12740bfad416c9e4f7b4"), []byte(newSHA)), e.now)
	e.now = e.now.Add(2 * time.Minute) // past the snapshot's reuse and the diagram's TTL
	_, body := e.get(t, "/")
	if !strings.Contains(body, "/commit/"+newSHA) {
		t.Error("the page does not show the new composer commit")
	}
	_, js := e.get(t, "/status.json")
	var snap Snapshot
	if err := json.Unmarshal([]byte(js), &snap); err != nil || snap.Version != 1 {
		t.Fatalf("status.json: %v\n%s", err, js)
	}
	found := false
	for _, c := range snap.Components {
		found = found || (c.ID == "composer" && c.SHA == newSHA && c.Behind != nil)
	}
	if !found {
		t.Errorf("status.json does not show composer at %s:\n%s", newSHA, js)
	}
	e.fake.SetDiagramDown(true)
	e.now = e.now.Add(2 * time.Minute)
	_, body = e.get(t, "/")
	if !strings.Contains(body, "cannot be fetched since") || !strings.Contains(body, "/commit/"+newSHA) {
		t.Error("during an outage the page does not show the last diagram marked stale")
	}
}

// TestPartsSayWhatTheyAre: a part that lacks a room's permission is shown
// as working and not permitted, not as a failure; one that has not run is
// starting; the JSON has no zero dates.
func TestPartsSayWhatTheyAre(t *testing.T) {
	e := newPageEnv(t)
	_, body := e.get(t, "/")
	for _, want := range []string{
		"mail: <span class=\"ok\">✓ working</span> since 2026-11-30 11:00 UTC",
		"GitHub polling: <span class=\"note\">… starting</span></li>",
		"GitHub relay: <span class=\"bad\">✗ not working</span> since 2026-11-30 11:59 UTC",
		"command descriptions (MSC4391): <span class=\"note\">– working, but a room does not permit all of it",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	_, js := e.get(t, "/status.json")
	if strings.Contains(js, "0001-01-01") {
		t.Errorf("status.json has a zero date:\n%s", js)
	}
	var snap Snapshot
	json.Unmarshal([]byte(js), &snap)
	states := map[string]string{}
	for _, r := range snap.Relays {
		states[r.Part] = r.State
	}
	if states["command descriptions (MSC4391)"] != StateNotPermitted || states["GitHub polling"] != StateStarting ||
		states["GitHub relay"] != StateFailing || states["mail"] != StateWorking {
		t.Errorf("states %v", states)
	}
}

// TestPageShowsOpenIncidents: with a Statuspage page followed, the page
// and /status.json show its open incidents, maintenances and component
// states, the page's words escaped.
func TestPageShowsOpenIncidents(t *testing.T) {
	e := newPageEnv(t)
	_, body := e.get(t, "/")
	if strings.Contains(body, "<h2>Incidents</h2>") {
		t.Error("an incidents section with no page followed")
	}
	from := e.now.Add(24 * time.Hour)
	e.now = e.now.Add(time.Minute) // past the snapshot's reuse
	e.incidents = &Incidents{Page: "https://status.redhat.com", AsOf: e.now,
		Components:   []IncidentComponent{{Name: "Image Builder", Status: "partial_outage"}},
		Open:         []Incident{{Name: "Builds fail <script>", Status: "identified", Impact: "major", Link: "https://stspg.io/a", Since: e.now.Add(-time.Hour), Latest: "Rolling back."}},
		Maintenances: []Incident{{Name: "Database upgrade", Status: "scheduled", Link: "javascript:alert(1)", ScheduledFor: &from}}}
	e.now = e.now.Add(time.Minute)
	_, body = e.get(t, "/")
	for _, want := range []string{`<a href="https://stspg.io/a">Builds fail &lt;script&gt;</a>: major impact, identified since`, "Latest: Rolling back.",
		"Maintenance: <a", "Image Builder: <span class=\"bad\">partial outage</span>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "javascript:") || strings.Contains(body, "<script>") {
		t.Error("the page's outside words are not made safe")
	}
	_, raw := e.get(t, "/status.json")
	var snap Snapshot
	if err := json.Unmarshal([]byte(raw), &snap); err != nil || snap.Incidents == nil || len(snap.Incidents.Open) != 1 || snap.Incidents.Components[0].Status != "partial_outage" {
		t.Errorf("/status.json incidents: %v %s", err, raw)
	}
}

// TestPageShowsReviewFigures: how soon outside contributions get a first
// review, per repository, on the page and in /status.json.
func TestPageShowsReviewFigures(t *testing.T) {
	e := newPageEnv(t)
	median := int64(5*3600 + 30*60)
	e.reviews = []ReviewFigure{{Repo: "osbuild/osbuild-composer", MedianFirstReviewS: &median, ReviewedIn90Days: 12, WaitingNow: 1},
		{Repo: "osbuild/images", ReviewedIn90Days: 0}}
	_, body := e.get(t, "/")
	for _, want := range []string{"<h2>Reviews of outside contributions</h2>", "osbuild/osbuild-composer: median 5h 30m to a first review (12 reviewed); <span class=\"bad\">1 waiting</span>",
		"osbuild/images: none reviewed yet (0 reviewed); <span class=\"ok\">none waiting</span>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	_, raw := e.get(t, "/status.json")
	if !strings.Contains(raw, `"median_first_review_seconds": 19800`) || !strings.Contains(raw, `"waiting_now": 1`) {
		t.Errorf("/status.json: %s", raw)
	}
}
