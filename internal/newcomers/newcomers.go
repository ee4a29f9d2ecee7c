// Package newcomers finds open issues a newcomer could take, live from
// GitHub's issue search, by configurable labels and repositories.
package newcomers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
)

// Issue is one issue suggested to newcomers.
type Issue struct {
	Repo   string
	Number int
	Title  string
	URL    string
}

// Finder searches GitHub and keeps results for a TTL (search has a lower
// rate limit than the rest of the API).
type Finder struct {
	gh     *github.Client
	labels []string
	max    int
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedIssues
}

type cachedIssues struct {
	at     time.Time
	issues []Issue
}

// New returns a Finder over labels (any of them), listing at most max.
func New(gh *github.Client, labels []string, max int, ttl time.Duration, now func() time.Time) *Finder {
	return &Finder{gh: gh, labels: labels, max: max, ttl: ttl, now: now, cache: map[string]cachedIssues{}}
}

// Find returns open issues in repos carrying any of the labels, newest
// first, one search per label until enough are found.
func (f *Finder) Find(ctx context.Context, repos []string) ([]Issue, error) {
	key := strings.Join(repos, ",")
	f.mu.Lock()
	if hit, ok := f.cache[key]; ok && f.now().Sub(hit.at) < f.ttl {
		f.mu.Unlock()
		return hit.issues, nil
	}
	f.mu.Unlock()
	var found []Issue
	for _, label := range f.labels {
		if len(found) >= f.max {
			break
		}
		res, _, err := f.gh.Search.Issues(ctx, query(label, repos), &github.SearchOptions{
			Sort: "created", Order: "desc", ListOptions: github.ListOptions{PerPage: f.max},
		})
		if err != nil {
			return nil, err
		}
		for _, is := range res.Issues {
			issue := Issue{Repo: repoOf(is.GetRepositoryURL(), is.GetHTMLURL()), Number: is.GetNumber(), Title: is.GetTitle(), URL: is.GetHTMLURL()}
			if len(found) < f.max && !slices.ContainsFunc(found, func(x Issue) bool { return x.URL == issue.URL }) {
				found = append(found, issue)
			}
		}
	}
	f.mu.Lock()
	f.cache[key] = cachedIssues{at: f.now(), issues: found}
	f.mu.Unlock()
	return found, nil
}

func query(label string, repos []string) string {
	q := fmt.Sprintf("is:issue is:open label:%q", label)
	for _, r := range repos {
		q += " repo:" + r
	}
	return q
}

// repoOf turns https://api.github.com/repos/o/r into o/r, or reads it
// from the issue's page, https://github.com/o/r/issues/1.
func repoOf(apiURL, htmlURL string) string {
	if _, after, ok := strings.Cut(apiURL, "/repos/"); ok {
		return after
	}
	if _, after, ok := strings.Cut(htmlURL, "github.com/"); ok {
		if parts := strings.SplitN(after, "/", 3); len(parts) == 3 {
			return parts[0] + "/" + parts[1]
		}
	}
	return ""
}
