package testenv

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SetIssues sets what the issues API lists for repo (issue or pull request
// objects, e.g. the "issue" of a webhook delivery).
func (g *GitHub) SetIssues(repo string, items ...json.RawMessage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.issues[strings.ToLower(repo)] = items
}

// SetRuns sets the workflow runs the Actions API lists for repo, newest
// first (as GitHub lists them).
func (g *GitHub) SetRuns(repo string, runs ...json.RawMessage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.runs == nil {
		g.runs = map[string][]json.RawMessage{}
	}
	g.runs[strings.ToLower(repo)] = runs
}

// listRuns answers GET /repos/{o}/{r}/actions/runs, honouring branch and
// status, in the shape GitHub documents ({total_count, workflow_runs}).
func (g *GitHub) listRuns(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	all := g.runs[repoKey(r)]
	g.mu.Unlock()
	out := []json.RawMessage{}
	for _, raw := range all {
		var run struct {
			HeadBranch string `json:"head_branch"`
			Status     string `json:"status"`
		}
		json.Unmarshal(raw, &run)
		if b := r.URL.Query().Get("branch"); b != "" && run.HeadBranch != b {
			continue
		}
		if st := r.URL.Query().Get("status"); st != "" && run.Status != st {
			continue
		}
		out = append(out, raw)
	}
	body, _ := json.Marshal(map[string]any{"total_count": len(out), "workflow_runs": out})
	g.send(w, r, body, "application/json", time.Time{})
}

// SetReleases sets what the releases API lists for repo.
func (g *GitHub) SetReleases(repo string, items ...json.RawMessage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releases[strings.ToLower(repo)] = items
}

// knownRepos are repositories the fake says exist besides those given
// issues or releases: the ones the recorded fixtures and the demo name.
var knownRepos = []string{"codertocat/hello-world", "osbuild/osbuild", "osbuild/osbuild-composer", "osbuild/images",
	"osbuild/image-builder", "osbuild/image-builder-frontend", "osbuild/image-builder-crc"}

// privateRepos are repositories the fake says exist and are private (the
// bot's token could read them; chat must not reach them).
var privateRepos = []string{"osbuild/secret-plans"}

// getRepo answers GET /repos/{o}/{r} with the fields of GitHub's
// documented repository object that a client reads, or 404 for a
// repository it does not know.
func (g *GitHub) getRepo(w http.ResponseWriter, r *http.Request) {
	key := repoKey(r)
	g.mu.Lock()
	_, hasIssues := g.issues[key]
	_, hasReleases := g.releases[key]
	g.mu.Unlock()
	private := slices.Contains(privateRepos, key)
	if !hasIssues && !hasReleases && !slices.Contains(knownRepos, key) && !private {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/repos/repos#get-a-repository","status":"404"}`)
		return
	}
	owner, name, _ := strings.Cut(r.PathValue("owner")+"/"+r.PathValue("repo"), "/")
	body, _ := json.Marshal(map[string]any{
		"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name, "full_name": owner + "/" + name,
		"private": private, "owner": map[string]any{"login": owner, "type": "Organization"},
		"html_url": "https://github.com/" + owner + "/" + name, "default_branch": "main", "archived": false,
	})
	g.send(w, r, body, "application/json", time.Time{})
}

func repoKey(r *http.Request) string {
	return strings.ToLower(r.PathValue("owner") + "/" + r.PathValue("repo"))
}

// listIssues answers GET /repos/{o}/{r}/issues, honouring since.
func (g *GitHub) listIssues(w http.ResponseWriter, r *http.Request) {
	since, _ := time.Parse(time.RFC3339, r.URL.Query().Get("since"))
	g.mu.Lock()
	items := g.issues[repoKey(r)]
	g.mu.Unlock()
	out := []json.RawMessage{}
	for _, it := range items {
		var u struct {
			UpdatedAt time.Time `json:"updated_at"`
		}
		json.Unmarshal(it, &u)
		if since.IsZero() || !u.UpdatedAt.Before(since) {
			out = append(out, it)
		}
	}
	body, _ := json.Marshal(out)
	g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
}

// SetPulls sets the pull request objects the pulls API answers for repo.
func (g *GitHub) SetPulls(repo string, items ...json.RawMessage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pulls[strings.ToLower(repo)] = items
}

func (g *GitHub) getPull(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	items := g.pulls[repoKey(r)]
	g.mu.Unlock()
	g.sendNumbered(w, r, items)
}

func (g *GitHub) getIssue(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	items := g.issues[repoKey(r)]
	g.mu.Unlock()
	g.sendNumbered(w, r, items)
}

// sendNumbered answers with the item whose number the path names, or 404.
func (g *GitHub) sendNumbered(w http.ResponseWriter, r *http.Request, items []json.RawMessage) {
	for _, it := range items {
		var n struct {
			Number int `json:"number"`
		}
		json.Unmarshal(it, &n)
		if strconv.Itoa(n.Number) == r.PathValue("number") {
			g.send(w, r, it, "application/json; charset=utf-8", time.Time{})
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest/issues/issues#get-an-issue"}`))
}

func (g *GitHub) listReleases(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	items := g.releases[repoKey(r)]
	g.mu.Unlock()
	if items == nil {
		items = []json.RawMessage{}
	}
	body, _ := json.Marshal(items)
	g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
}
