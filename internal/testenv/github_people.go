package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// GitHubPeople is a backend for the fake GitHub (SetBackend) that stands
// in for people acting as themselves: GitHub's device flow (an OAuth app
// with a client id; a test approves or denies a code, and may tell the
// poller to slow down), GET /user for a token, and the issue writes ibbot
// makes (comments, labels, state, assignees, new issues), each checked
// against who may write where and kept for the test to read.
type GitHubPeople struct {
	ClientID string

	mu        sync.Mutex
	codes     map[string]*deviceGrant // by device code
	tokens    map[string]string       // token -> login
	writers   map[string][]string     // login -> repositories it may write (owner/name)
	Issues    map[string]*FakeIssue   // "owner/name#n"
	nextID    int64
	revoked   []string
	slowDowns int
	created   int
}

type deviceGrant struct {
	userCode string
	login    string // set when approved
	denied   bool
	expired  bool
}

// FakeIssue is an issue as the writes left it.
type FakeIssue struct {
	Title     string
	Body      string
	State     string
	Reason    string
	Labels    []string
	Assignees []string
	Comments  []FakeComment
}

// FakeComment is a comment someone wrote.
type FakeComment struct {
	ID     int64
	Author string
	Body   string
}

// NewGitHubPeople makes the backend; writers says who may write where.
func NewGitHubPeople(clientID string, writers map[string][]string) *GitHubPeople {
	return &GitHubPeople{ClientID: clientID, codes: map[string]*deviceGrant{}, tokens: map[string]string{}, writers: writers,
		Issues: map[string]*FakeIssue{}, nextID: 9000}
}

// Approve lets the login with userCode through as login.
func (p *GitHubPeople) Approve(userCode, login string) {
	p.grant(userCode, func(g *deviceGrant) { g.login = login })
}

// Deny declines the login with userCode.
func (p *GitHubPeople) Deny(userCode string) {
	p.grant(userCode, func(g *deviceGrant) { g.denied = true })
}

// SlowDown makes the next n polls answer slow_down.
func (p *GitHubPeople) SlowDown(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slowDowns = n
}

// Revoke makes login's tokens unknown (as a user revoking the app does).
func (p *GitHubPeople) Revoke(login string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, l := range p.tokens {
		if l == login {
			delete(p.tokens, t)
		}
	}
}

// Issue is a copy of what the writes left of owner/name#n (any case).
func (p *GitHubPeople) Issue(ref string) (FakeIssue, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	is, ok := p.Issues[strings.ToLower(ref)]
	if !ok {
		return FakeIssue{}, false
	}
	c := *is
	c.Labels, c.Assignees, c.Comments = slices.Clone(is.Labels), slices.Clone(is.Assignees), slices.Clone(is.Comments)
	return c, true
}

func (p *GitHubPeople) grant(userCode string, f func(*deviceGrant)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.codes {
		if g.userCode == userCode {
			f(g)
		}
	}
}

// UserCodes lists the codes handed out, in no order.
func (p *GitHubPeople) UserCodes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, g := range p.codes {
		out = append(out, g.userCode)
	}
	return out
}

func (p *GitHubPeople) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	switch {
	case r.Method == http.MethodPost && path == "/login/device/code":
		p.deviceCode(w, r)
	case r.Method == http.MethodPost && path == "/login/oauth/access_token":
		p.accessToken(w, r)
	case r.Method == http.MethodGet && path == "/user":
		if login, ok := p.who(w, r); ok {
			writeJSON(w, http.StatusOK, map[string]any{"login": login, "id": len(login), "type": "User"})
		}
	case strings.HasPrefix(path, "/applications/") && r.Method == http.MethodDelete:
		var body struct {
			AccessToken string `json:"access_token"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		if _, ok := p.tokens[body.AccessToken]; !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		p.revoked = append(p.revoked, p.tokens[body.AccessToken])
		delete(p.tokens, body.AccessToken)
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(path, "/repos/") && r.Method != http.MethodGet:
		p.write(w, r, strings.TrimPrefix(path, "/repos/"))
	default:
		w.Header().Set(Fallthrough, "1")
	}
}

// Revoked lists the logins whose token the app revoked.
func (p *GitHubPeople) Revoked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.revoked)
}

func (p *GitHubPeople) deviceCode(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if r.Form.Get("client_id") != p.ClientID {
		writeJSON(w, http.StatusOK, map[string]any{"error": "incorrect_client_credentials"})
		return
	}
	n := len(p.codes) + 1
	dc, uc := fmt.Sprintf("device-%d", n), fmt.Sprintf("WDJB-MJH%d", n)
	p.codes[dc] = &deviceGrant{userCode: uc}
	writeJSON(w, http.StatusOK, map[string]any{"device_code": dc, "user_code": uc, "verification_uri": "https://github.com/login/device",
		"expires_in": 900, "interval": 1})
}

func (p *GitHubPeople) accessToken(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	g, ok := p.codes[r.Form.Get("device_code")]
	switch {
	case r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || r.Form.Get("client_id") != p.ClientID:
		writeJSON(w, http.StatusOK, map[string]any{"error": "unsupported_grant_type"})
	case !ok || g.expired:
		writeJSON(w, http.StatusOK, map[string]any{"error": "expired_token"})
	case p.slowDowns > 0:
		p.slowDowns--
		writeJSON(w, http.StatusOK, map[string]any{"error": "slow_down", "interval": 6})
	case g.denied:
		writeJSON(w, http.StatusOK, map[string]any{"error": "access_denied"})
	case g.login == "":
		writeJSON(w, http.StatusOK, map[string]any{"error": "authorization_pending"})
	default:
		token := "gho_" + strings.Repeat("x", 8) + g.userCode
		p.tokens[token] = g.login
		g.expired = true // a device code is good for one token
		writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "bearer", "scope": r.Form.Get("scope")})
	}
}

func (p *GitHubPeople) who(w http.ResponseWriter, r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(auth, "Bearer "), "token "))
	login, ok := p.tokens[token]
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
	}
	return login, ok
}

// write handles POST/PATCH/DELETE under /repos/{owner}/{name}/issues….
func (p *GitHubPeople) write(w http.ResponseWriter, r *http.Request, rest string) {
	login, ok := p.who(w, r)
	if !ok {
		return
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || parts[2] != "issues" {
		w.Header().Set(Fallthrough, "1")
		return
	}
	repo := strings.ToLower(parts[0] + "/" + parts[1]) // GitHub's API takes any case
	if !slices.ContainsFunc(p.writers[login], func(s string) bool { return strings.EqualFold(s, repo) }) {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body map[string]any
	var list []string // POST …/labels may send a bare array
	if json.Unmarshal(raw, &body) != nil {
		json.Unmarshal(raw, &list)
	}
	if len(parts) == 3 && r.Method == http.MethodPost {
		title, _ := body["title"].(string)
		if title == "" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []any{map[string]any{"resource": "Issue", "field": "title", "code": "missing_field"}}})
			return
		}
		p.created++
		n := 500 + p.created
		text, _ := body["body"].(string)
		p.Issues[fmt.Sprintf("%s#%d", repo, n)] = &FakeIssue{Title: title, Body: text, State: "open"}
		writeJSON(w, http.StatusCreated, p.issueJSON(repo, n))
		return
	}
	n, err := strconv.Atoi(parts[3])
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	ref := fmt.Sprintf("%s#%d", repo, n)
	is := p.Issues[ref]
	if is == nil {
		is = &FakeIssue{State: "open"}
		p.Issues[ref] = is
	}
	switch {
	case len(parts) == 4 && r.Method == http.MethodPatch:
		if s, ok := body["state"].(string); ok {
			is.State = s
		}
		if s, ok := body["state_reason"].(string); ok {
			is.Reason = s
		}
		writeJSON(w, http.StatusOK, p.issueJSON(repo, n))
	case len(parts) == 5 && parts[4] == "comments" && r.Method == http.MethodPost:
		p.nextID++
		text, _ := body["body"].(string)
		is.Comments = append(is.Comments, FakeComment{ID: p.nextID, Author: login, Body: text})
		writeJSON(w, http.StatusCreated, map[string]any{"id": p.nextID, "body": text, "user": map[string]any{"login": login},
			"html_url": fmt.Sprintf("https://github.com/%s/issues/%d#issuecomment-%d", repo, n, p.nextID)})
	case len(parts) == 5 && parts[4] == "labels" && r.Method == http.MethodPost:
		labels := list
		if arr, ok := body["labels"].([]any); ok {
			for _, l := range arr {
				labels = append(labels, fmt.Sprint(l))
			}
		}
		for _, l := range labels {
			if !slices.Contains(is.Labels, l) {
				is.Labels = append(is.Labels, l)
			}
		}
		writeJSON(w, http.StatusOK, labelsJSON(is.Labels))
	case len(parts) == 6 && parts[4] == "labels" && r.Method == http.MethodDelete:
		i := slices.Index(is.Labels, parts[5])
		if i < 0 {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Label does not exist"})
			return
		}
		is.Labels = slices.Delete(is.Labels, i, i+1)
		writeJSON(w, http.StatusOK, labelsJSON(is.Labels))
	case len(parts) == 5 && parts[4] == "assignees" && r.Method == http.MethodPost:
		if arr, ok := body["assignees"].([]any); ok {
			for _, a := range arr {
				is.Assignees = append(is.Assignees, fmt.Sprint(a))
			}
		}
		writeJSON(w, http.StatusCreated, p.issueJSON(repo, n))
	default:
		w.Header().Set(Fallthrough, "1")
	}
}

func (p *GitHubPeople) issueJSON(repo string, n int) map[string]any {
	is := p.Issues[fmt.Sprintf("%s#%d", repo, n)]
	return map[string]any{"number": n, "title": is.Title, "state": is.State, "html_url": fmt.Sprintf("https://github.com/%s/issues/%d", repo, n)}
}

func labelsJSON(labels []string) []map[string]any {
	out := []map[string]any{}
	for _, l := range labels {
		out = append(out, map[string]any{"name": l})
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
