package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osbuild/ibbot/internal/fixtures"
)

// GitHub is a loopback stand-in for api.github.com and
// raw.githubusercontent.com that replays real recorded responses (see
// internal/fixtures/github), rewriting only the values a test controls. It
// answers conditional requests with 304 like GitHub (a 304 costs no rate
// limit), sends real rate-limit headers, and can be told to fail.
type GitHub struct {
	*httptest.Server

	mu        sync.Mutex
	requests  []string // API requests that cost rate limit
	notMod    int
	remaining int
	diagram   []byte
	diagramAt time.Time
	ahead     map[string]int  // repo -> commits the default branch is ahead
	older     map[string]bool // repo@sha -> an older commit (rollback target)
	pulls     map[string][]json.RawMessage
	// set by SetComparison and SetSearch (the demo's own data); nil: the
	// recorded responses
	compareBase    json.RawMessage
	compareCommits []json.RawMessage
	search         []byte
	failures       []failure
	down           bool                         // the diagram answers 503
	issues         map[string][]json.RawMessage // repo -> issues and PRs, as the issues API lists them
	runs           map[string][]json.RawMessage // repo -> workflow runs, newest first
	releases       map[string][]json.RawMessage
	backend        http.Handler         // answers the API before the recordings (SetBackend)
	docs           map[string]*docsRepo // repo -> documentation served through the git data API
}

type failure struct {
	prefix string
	status int
	header http.Header
}

// DiagramPath is where the fake serves the architecture diagram, as
// raw.githubusercontent.com does: /{owner}/{repo}/{ref}/{path}.
const DiagramPath = "/osbuild/osbuild.github.io/main/docs/hosted/architecture/architecture.svg"

// NewGitHub starts the fake on loopback, serving the newest diagram.
func NewGitHub() *GitHub {
	g := &GitHub{remaining: 5000, ahead: map[string]int{}, older: map[string]bool{}, pulls: map[string][]json.RawMessage{}, issues: map[string][]json.RawMessage{}, releases: map[string][]json.RawMessage{},
		diagram: fixtures.Read(fixtures.DiagramNewest), diagramAt: time.Date(2025, 7, 21, 9, 30, 0, 0, time.UTC)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}", g.getRepo)
	mux.HandleFunc("GET /repos/{owner}/{repo}/compare/{spec}", g.compare)
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits", g.listCommits)
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{sha}", g.commit)
	mux.HandleFunc("GET /search/issues", g.searchIssues)
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues", g.listIssues)
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}", g.getIssue)
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", g.getPull)
	mux.HandleFunc("GET /repos/{owner}/{repo}/releases", g.listReleases)
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", g.listRuns)
	mux.HandleFunc("GET /repos/{owner}/{repo}/git/trees/{sha}", g.getTree)
	mux.HandleFunc("GET /repos/{owner}/{repo}/git/blobs/{sha}", g.getBlob)
	mux.HandleFunc("GET "+DiagramPath, g.serveDiagram)
	g.Server = httptest.NewServer(g.gate(g.backendFirst(mux)))
	return g
}

// Fallthrough is the header a backend sets on a request it has no route
// for: the recorded responses answer it instead.
const Fallthrough = "X-Testenv-Fallthrough"

// SetBackend has b answer API requests (not the diagram and its history)
// before the recordings: a made-up world, such as the demo's, whose
// answers agree with each other. Its 200s get ETags, 304s and rate-limit
// headers like the recordings'; a request it sets Fallthrough on goes to
// the recordings.
func (g *GitHub) SetBackend(b http.Handler) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.backend = b
}

func (g *GitHub) backendFirst(recorded http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		b := g.backend
		g.mu.Unlock()
		if b == nil || strings.HasPrefix(r.URL.Path, DiagramPath) || strings.HasSuffix(r.URL.Path, "/commits") {
			recorded.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, r)
		switch {
		case rec.Header().Get(Fallthrough) != "":
			recorded.ServeHTTP(w, r)
		case rec.Code == http.StatusOK:
			g.send(w, r, rec.Body.Bytes(), "application/json; charset=utf-8", time.Time{})
		default:
			g.mu.Lock()
			g.requests = append(g.requests, r.URL.RequestURI())
			g.remaining--
			g.rateHeaders(w.Header())
			g.mu.Unlock()
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		}
	})
}

// DiagramURL is the diagram's URL on the fake.
func (g *GitHub) DiagramURL() string { return g.URL + DiagramPath }

// SetDiagram switches the served diagram (a new deploy) and its commit date.
func (g *GitHub) SetDiagram(svg []byte, committed time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.diagram, g.diagramAt = svg, committed
}

// SetDiagramDown makes the diagram answer 503 until called with false.
func (g *GitHub) SetDiagramDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
}

// SetAhead sets how many commits repo's default branch is ahead of any sha.
func (g *GitHub) SetAhead(repo string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ahead[repo] = n
}

// SetComparison makes every comparison answer with base (a commit object,
// whose sha becomes the requested one) and commits, instead of the
// recorded ones.
func (g *GitHub) SetComparison(base json.RawMessage, commits ...json.RawMessage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.compareBase, g.compareCommits = base, commits
}

// SetSearch makes the issue search answer body instead of the recorded one.
func (g *GitHub) SetSearch(body []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.search = body
}

func (g *GitHub) searchIssues(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	body := g.search
	g.mu.Unlock()
	if body == nil {
		body = fixtures.Read("github/rest/search-issues.get.body.json")
	}
	g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
}

// SetOlder marks sha as an older commit of repo: a comparison from any
// other commit to it says "behind" (a rollback), with no new commits.
func (g *GitHub) SetOlder(repo, sha string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.older[strings.ToLower(repo)+"@"+sha] = true
}

// FailNext makes the next request whose path starts with prefix fail with
// status and headers (e.g. 403 with Retry-After for a secondary limit).
func (g *GitHub) FailNext(prefix string, status int, header http.Header) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures = append(g.failures, failure{prefix, status, header})
}

// SetRemaining sets the rate limit left; at 0 the API answers 403 until
// an hour later, as GitHub does when the primary limit is used up.
func (g *GitHub) SetRemaining(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.remaining = n
}

// Requests returns the API requests that cost rate limit, in order.
func (g *GitHub) Requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.requests...)
}

// NotModified counts requests answered 304.
func (g *GitHub) NotModified() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.notMod
}

// gate applies injected failures and counts rate limit.
func (g *GitHub) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		if g.remaining <= 0 && !strings.HasPrefix(r.URL.Path, DiagramPath) {
			g.rateHeaders(w.Header())
			g.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"API rate limit exceeded for 127.0.0.1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`)
			return
		}
		for i, f := range g.failures {
			if strings.HasPrefix(r.URL.Path, f.prefix) {
				g.failures = append(g.failures[:i], g.failures[i+1:]...)
				g.mu.Unlock()
				for k, v := range f.header {
					w.Header()[k] = v
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(f.status)
				if f.header.Get("Retry-After") != "" {
					// GitHub's own words for a secondary rate limit.
					fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
					return
				}
				fmt.Fprintf(w, `{"message":"injected failure %d","documentation_url":"https://docs.github.com/rest"}`, f.status)
				return
			}
		}
		g.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// send writes body as JSON with an ETag, answering 304 to a matching
// If-None-Match without charging rate limit, as GitHub does.
func (g *GitHub) send(w http.ResponseWriter, r *http.Request, body []byte, contentType string, lastModified time.Time) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	if !lastModified.IsZero() {
		h.Set("Last-Modified", lastModified.UTC().Format(http.TimeFormat))
	}
	h.Set("Content-Type", contentType)
	api := !strings.HasPrefix(r.URL.Path, DiagramPath)
	g.mu.Lock()
	if r.Header.Get("If-None-Match") == etag {
		g.notMod++
		g.rateHeaders(h)
		g.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if api {
		g.requests = append(g.requests, r.URL.RequestURI())
		g.remaining--
	}
	g.rateHeaders(h)
	g.mu.Unlock()
	w.Write(body)
}

func (g *GitHub) rateHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, g.remaining)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
}

func (g *GitHub) serveDiagram(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	svg, at, down := g.diagram, g.diagramAt, g.down
	g.mu.Unlock()
	if down {
		http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	g.send(w, r, svg, "text/plain; charset=utf-8", at)
}

// compare replays a recorded comparison (both pages' commits), with the
// requested base sha and repository.
func (g *GitHub) compare(w http.ResponseWriter, r *http.Request) {
	base, head, ok := strings.Cut(r.PathValue("spec"), "...")
	if !ok {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	var doc, page2 map[string]any
	json.Unmarshal(fixtures.Read("github/rest/repos-compare-ahead.page1.body.json"), &doc)
	json.Unmarshal(fixtures.Read("github/rest/repos-compare-ahead.page2.body.json"), &page2)
	commits := append(doc["commits"].([]any), page2["commits"].([]any)...)
	g.mu.Lock()
	if g.compareBase != nil {
		var base map[string]any
		json.Unmarshal(g.compareBase, &base)
		doc["base_commit"], commits = base, nil
		for _, c := range g.compareCommits {
			var m any
			json.Unmarshal(c, &m)
			commits = append(commits, m)
		}
	}
	g.mu.Unlock()
	doc["commits"] = commits
	bc := doc["base_commit"].(map[string]any)
	bc["sha"] = base
	bc["html_url"] = "https://github.com/" + repo + "/commit/" + base
	doc["html_url"] = "https://github.com/" + repo + "/compare/" + base + "..." + head
	doc["permalink_url"] = doc["html_url"]
	g.mu.Lock()
	ahead, set := g.ahead[repo]
	older := g.older[strings.ToLower(repo)+"@"+head] && head != base
	g.mu.Unlock()
	if !set {
		ahead = len(commits)
	}
	doc["ahead_by"], doc["total_commits"] = ahead, ahead
	switch {
	case older:
		doc["status"], doc["commits"], doc["ahead_by"], doc["behind_by"], doc["total_commits"] = "behind", []any{}, 0, len(commits), 0
	case ahead == 0:
		doc["status"], doc["commits"] = "identical", []any{}
	}
	body, _ := json.Marshal(doc)
	g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
}

// listCommits answers the "last commit of a path" query with the recorded
// commit, dated as the diagram was last changed.
func (g *GitHub) listCommits(w http.ResponseWriter, r *http.Request) {
	if d := g.docsOf(r); d != nil && d.hasFolder(r.URL.Query().Get("path")) {
		g.docsCommits(w, r, d)
		return
	}
	var c map[string]any
	json.Unmarshal(fixtures.Read("github/rest/repos-commits-sha.get.body.json"), &c)
	g.mu.Lock()
	at := g.diagramAt
	g.mu.Unlock()
	commit := c["commit"].(map[string]any)
	commit["message"] = "Service: Update architecture diagram"
	for _, who := range []string{"author", "committer"} {
		commit[who].(map[string]any)["date"] = at.UTC().Format(time.RFC3339)
	}
	delete(c, "files")
	body, _ := json.Marshal([]any{c})
	g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
}

func (g *GitHub) commit(w http.ResponseWriter, r *http.Request) {
	var c map[string]any
	json.Unmarshal(fixtures.Read("github/rest/repos-commits-sha.get.body.json"), &c)
	c["sha"] = r.PathValue("sha")
	body, _ := json.Marshal(c)
	g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
}

// ServeMux serves mux on loopback for the test and returns its URL.
func ServeMux(t interface{ Cleanup(func()) }, mux http.Handler) string {
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
