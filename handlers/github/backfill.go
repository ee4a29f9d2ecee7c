package github

import (
	"context"
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// BackfillStore is what the backfill writes: the search's documents, and
// which repositories it has done.
type BackfillStore interface {
	SearchDocs
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// Backfill gives the search, once per repository, the issues and pull
// requests the relay never received (they predate it): the most recently
// updated first, a few pages of each repository the rooms follow by name.
// It leaves a margin of the rate limit for everything else, and a
// repository followed later gets its turn at the next round.
type Backfill struct {
	GitHub *gh.Client
	Store  BackfillStore
	Repos  func() []string // followed by name (globs cannot be listed)
	// Pages of 100 per repository; default 3. MinRemaining is the rate
	// limit the backfill leaves untouched; default 1000.
	Pages        int
	MinRemaining int
	Interval     time.Duration
	Wrote        func() // may be nil
	Log          zerolog.Logger
	Now          func() time.Time

	state health.State
}

// Health says how far the backfill is, for !status.
func (b *Backfill) Health() health.Report {
	return b.state.Report("issue search backfill", "not started yet")
}

// Run backfills at once and then every Interval, until ctx ends.
func (b *Backfill) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Issue search backfill", Interval: b.Interval, Retry: backoff.Policy{Min: time.Minute, Max: b.Interval},
		Health: &b.state, Now: b.Now, Log: b.Log,
		Round: func(ctx context.Context) (string, error) {
			n, waiting, err := b.Once(ctx)
			if waiting > 0 {
				return fmt.Sprintf("%d issues added; %d repositories wait for rate limit", n, waiting), err
			}
			return fmt.Sprintf("%d issues added; every followed repository done", n), err
		},
	}
	return loop.Run(ctx)
}

// Once backfills the repositories not done yet; it returns how many items
// it added and how many repositories still wait (the rate limit ran low).
func (b *Backfill) Once(ctx context.Context) (added, waiting int, err error) {
	repos := b.Repos()
	for i, repo := range repos {
		key := "search.backfill." + strings.ToLower(repo)
		if _, done, err := b.Store.Get(ctx, key); err != nil || done {
			if err != nil {
				return added, len(repos) - i, err
			}
			continue
		}
		n, low, err := b.repo(ctx, repo)
		added += n
		if err != nil {
			return added, len(repos) - i, fmt.Errorf("%s: %w", repo, err)
		}
		if low {
			return added, len(repos) - i, nil
		}
		if err := b.Store.Put(ctx, key, b.Now().UTC().Format(time.RFC3339)); err != nil {
			return added, len(repos) - i, err
		}
	}
	if added > 0 && b.Wrote != nil {
		b.Wrote()
	}
	return added, 0, nil
}

// repo writes a repository's most recently updated items; low says the
// rate limit ran low before it was done.
func (b *Backfill) repo(ctx context.Context, repo string) (added int, low bool, err error) {
	owner, name, _ := strings.Cut(repo, "/")
	opts := &gh.IssueListByRepoOptions{State: "all", Sort: "updated", Direction: "desc", ListOptions: gh.ListOptions{PerPage: 100}}
	pages := b.Pages
	if pages <= 0 {
		pages = 3
	}
	floor := b.MinRemaining
	if floor <= 0 {
		floor = 1000
	}
	for range pages {
		issues, resp, err := b.GitHub.Issues.ListByRepo(ctx, owner, name, opts)
		if err != nil {
			return added, false, err
		}
		var docs []store.SearchDoc
		for _, is := range issues {
			if d, ok := searchDoc(issueItem(repoFromURL(is.GetHTMLURL(), repo), is)); ok {
				docs = append(docs, d)
			}
		}
		if err := b.Store.PutSearchDocs(ctx, docs...); err != nil {
			return added, false, err
		}
		added += len(docs)
		if resp.NextPage == 0 {
			return added, false, nil
		}
		if resp.Rate.Remaining > 0 && resp.Rate.Remaining < floor {
			return added, true, nil
		}
		opts.Page = resp.NextPage
	}
	return added, false, nil
}
