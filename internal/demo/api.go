package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osbuild/ibbot/internal/testenv"
)

// ServeHTTP answers GitHub's REST API from the world; paths it does not
// know fall through to the recordings (testenv.Fallthrough).
func (w *World) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mux().ServeHTTP(rw, r)
}

func (w *World) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}", w.withRepo(w.getRepo))
	mux.HandleFunc("GET /repos/{owner}/{repo}/compare/{spec}", w.withRepo(w.compare))
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{sha}", w.withRepo(w.getCommit))
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", w.withRepo(w.getPull))
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}", w.withRepo(w.getIssue))
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues", w.withRepo(w.listIssues))
	mux.HandleFunc("GET /repos/{owner}/{repo}/releases", w.withRepo(func(rw http.ResponseWriter, _ *http.Request, _ *repo) { reply(rw, []any{}) }))
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", w.withRepo(func(rw http.ResponseWriter, _ *http.Request, _ *repo) {
		reply(rw, map[string]any{"total_count": 0, "workflow_runs": []any{}})
	}))
	mux.HandleFunc("GET /search/issues", w.search)
	mux.HandleFunc("/", func(rw http.ResponseWriter, _ *http.Request) { rw.Header().Set(testenv.Fallthrough, "1") })
	return mux
}

// withRepo finds the request's repository under the world's lock; an
// unknown one is GitHub's 404.
func (w *World) withRepo(h func(http.ResponseWriter, *http.Request, *repo)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		defer w.mu.Unlock()
		rp, ok := w.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
		if !ok {
			notFound(rw, "Not Found")
			return
		}
		h(rw, r, rp)
	}
}

func (w *World) getRepo(rw http.ResponseWriter, _ *http.Request, r *repo) {
	owner, name, _ := strings.Cut(r.name, "/")
	reply(rw, map[string]any{"name": name, "full_name": r.name, "private": false, "default_branch": "main",
		"html_url": "https://github.com/" + r.name, "owner": map[string]any{"login": owner, "type": "Organization"}})
}

func (w *World) compare(rw http.ResponseWriter, req *http.Request, r *repo) {
	base, head, ok := strings.Cut(req.PathValue("spec"), "...")
	b, h := r.find(base), r.find(head)
	if !ok || b < 0 || h < 0 {
		notFound(rw, "Not Found")
		return
	}
	status, ahead, behind := "identical", 0, 0
	var between []any
	switch {
	case h > b:
		status, ahead = "ahead", h-b
		for _, c := range r.commits[b+1 : h+1] {
			between = append(between, r.commitJSON(c))
		}
	case h < b:
		status, behind = "behind", b-h
	}
	if between == nil {
		between = []any{}
	}
	url := fmt.Sprintf("https://github.com/%s/compare/%s...%s", r.name, r.commits[b].sha, head)
	reply(rw, map[string]any{"html_url": url, "permalink_url": url, "status": status, "ahead_by": ahead, "behind_by": behind,
		"total_commits": ahead, "base_commit": r.commitJSON(r.commits[b]), "merge_base_commit": r.commitJSON(r.commits[min(b, h)]),
		"commits": between, "files": []any{}})
}

func (w *World) getCommit(rw http.ResponseWriter, req *http.Request, r *repo) {
	i := r.find(req.PathValue("sha"))
	if i < 0 {
		rw.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(rw).Encode(map[string]any{"message": "No commit found for SHA: " + req.PathValue("sha"),
			"documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit"})
		return
	}
	reply(rw, r.commitJSON(r.commits[i]))
}

func (w *World) getPull(rw http.ResponseWriter, req *http.Request, r *repo) {
	it := r.item(req.PathValue("number"))
	if it == nil || !it.pull {
		notFound(rw, "Not Found")
		return
	}
	reply(rw, r.pullJSON(it))
}

func (w *World) getIssue(rw http.ResponseWriter, req *http.Request, r *repo) {
	it := r.item(req.PathValue("number"))
	if it == nil {
		notFound(rw, "Not Found")
		return
	}
	reply(rw, r.issueJSON(it))
}

func (w *World) listIssues(rw http.ResponseWriter, _ *http.Request, r *repo) {
	out := []any{}
	for _, it := range r.sortedItems() {
		out = append(out, r.issueJSON(it))
	}
	reply(rw, out)
}

var (
	labelTerm = regexp.MustCompile(`label:"([^"]+)"|label:(\S+)`)
	repoTerm  = regexp.MustCompile(`repo:(\S+)`)
)

// search answers the issue searches !contribute makes: open issues with a
// label, in the named repositories.
func (w *World) search(rw http.ResponseWriter, req *http.Request) {
	q := req.URL.Query().Get("q")
	var labels, repos []string
	for _, m := range labelTerm.FindAllStringSubmatch(q, -1) {
		labels = append(labels, m[1]+m[2])
	}
	for _, m := range repoTerm.FindAllStringSubmatch(q, -1) {
		repos = append(repos, strings.ToLower(m[1]))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	items := []any{}
	for _, key := range sortedKeys(w.repos) {
		r := w.repos[key]
		if len(repos) > 0 && !slices.Contains(repos, key) {
			continue
		}
		for _, it := range r.sortedItems() {
			if !it.pull && !it.merged && (len(labels) == 0 || slices.Contains(labels, it.label)) {
				items = append(items, r.issueJSON(it))
			}
		}
	}
	reply(rw, map[string]any{"total_count": len(items), "incomplete_results": false, "items": items})
}

func (r *repo) item(number string) *item {
	n, err := strconv.Atoi(number)
	if err != nil {
		return nil
	}
	return r.items[n]
}

func (r *repo) sortedItems() []*item {
	var out []*item
	for _, n := range sortedKeys(r.items) {
		out = append(out, r.items[n])
	}
	return out
}

func (r *repo) commitJSON(c *commit) map[string]any {
	date := c.date.UTC().Format(time.RFC3339)
	who := map[string]any{"name": nameOf(c.author), "email": c.author + "@users.noreply.github.com", "date": date}
	return map[string]any{"sha": c.sha, "html_url": fmt.Sprintf("https://github.com/%s/commit/%s", r.name, c.sha),
		"commit": map[string]any{"message": c.title, "author": who, "committer": who},
		"author": user(c.author)}
}

func (r *repo) pullJSON(it *item) map[string]any {
	pr := map[string]any{"number": it.number, "title": it.title, "state": "open", "merged": it.merged,
		"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", r.name, it.number), "user": user(it.author),
		"created_at": it.created.UTC().Format(time.RFC3339)}
	if it.merged {
		pr["state"], pr["merge_commit_sha"], pr["merged_by"] = "closed", it.mergeCommit, user(it.mergedBy)
		pr["merged_at"], pr["closed_at"] = it.mergedAt.UTC().Format(time.RFC3339), it.mergedAt.UTC().Format(time.RFC3339)
	}
	return pr
}

func (r *repo) issueJSON(it *item) map[string]any {
	kind, state := "issues", "open"
	if it.merged {
		state = "closed"
	}
	out := map[string]any{"number": it.number, "title": it.title, "state": state, "user": user(it.author),
		"repository_url": "https://api.github.com/repos/" + r.name, "labels": []any{},
		"created_at": it.created.UTC().Format(time.RFC3339), "updated_at": it.created.UTC().Format(time.RFC3339)}
	if it.label != "" {
		out["labels"] = []any{map[string]any{"name": it.label}}
	}
	if it.pull {
		kind = "pull"
		out["pull_request"] = map[string]any{"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", r.name, it.number)}
	}
	out["html_url"] = fmt.Sprintf("https://github.com/%s/%s/%d", r.name, kind, it.number)
	return out
}

func user(login string) map[string]any {
	kind := "User"
	if strings.HasSuffix(login, "[bot]") {
		kind = "Bot"
	}
	return map[string]any{"login": login, "type": kind, "html_url": "https://github.com/" + login}
}

func reply(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(rw).Encode(v)
}

func notFound(rw http.ResponseWriter, msg string) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(http.StatusNotFound)
	json.NewEncoder(rw).Encode(map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}
