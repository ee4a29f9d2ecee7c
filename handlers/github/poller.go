package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/safe"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// PollEvent is the event name of a change the poller found and recorded
// for the relay, beside GitHub's deliveries.
const PollEvent = "ibbot.poll"

// CacheEntriesFor is how many answers the shared client's conditional
// cache must hold for polling repos repositories: an issues and a releases
// list each. A cache smaller than one cycle evicts every answer before it
// is asked for again, and each idle poll costs a full request.
func CacheEntriesFor(repos int) int { return 2 * repos }

// PollStore is what the poller keeps: where each repository's polling
// stands, and what it found, recorded for the relay.
type PollStore interface {
	Recorder
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// Poller reads repositories for when no webhook can be installed. Every
// request repeats the previous one's URL until something changes, so the
// shared client's conditional requests make an idle cycle cost no rate
// limit (304s). It feeds the relay the same way webhooks do, so an item
// seen by both is announced once.
type Poller struct {
	GitHub *gh.Client
	Store  PollStore
	Wake   func() // tells the relay something was recorded; may be nil
	// Repos lists the repositories to poll, asked at each round: rooms
	// subscribe and unsubscribe while the bot runs.
	Repos func() []string
	// CIRepos lists those whose workflow runs are followed (event ci);
	// nil: none.
	CIRepos  func() []string
	Interval time.Duration
	Now      func() time.Time
	Log      zerolog.Logger

	state health.State
}

// Health says how the last polling cycle went, for !status.
func (p *Poller) Health() health.Report { return p.state.Report("GitHub polling", "not polled yet") }

// Run polls every Interval until ctx ends.
func (p *Poller) Run(ctx context.Context) error { return p.loop().Run(ctx) }

// Cycle polls every repository once and records how it went.
func (p *Poller) Cycle(ctx context.Context) { p.loop().Once(ctx) }

func (p *Poller) loop() *worker.Loop {
	return &worker.Loop{Name: "GitHub polling", Interval: p.Interval, Round: p.round, Health: &p.state, Now: p.Now, Log: p.Log}
}

// round polls every repository once; one that fails does not stop the
// others, and the error names them all.
func (p *Poller) round(ctx context.Context) (string, error) {
	var failed []string
	var last error
	repos := p.Repos()
	for _, repo := range repos {
		if err := p.pollRepoSafely(ctx, repo); err != nil && ctx.Err() == nil {
			p.Log.Warn().Err(err).Str("repo", repo).Msg("Polling failed; the next cycle catches up from the stored cursor")
			failed, last = append(failed, repo), err
		}
	}
	if len(failed) > 0 {
		return "", fmt.Errorf("%d of %d repositories failed (%s): %s",
			len(failed), len(repos), strings.Join(failed, ", "), ghclient.Explain(last))
	}
	return fmt.Sprintf("%d repositories every %s", len(repos), p.Interval), nil
}

// pollRepoSafely polls a repository; a panic (a bug) fails that repository
// for this cycle instead of the whole bot.
func (p *Poller) pollRepoSafely(ctx context.Context, repo string) error {
	return safe.Call(p.Log.With().Str("repo", repo).Logger(), "Polling crashed", func() error { return p.pollRepo(ctx, repo) })
}

func (p *Poller) pollRepo(ctx context.Context, repo string) error {
	start, err := p.cursor(ctx, "gh.poll.start."+repo)
	if err != nil {
		return err
	}
	if err := p.pollIssues(ctx, repo, start); err != nil {
		return err
	}
	if err := p.pollReleases(ctx, repo, start); err != nil {
		return err
	}
	if p.CIRepos != nil && slices.Contains(p.CIRepos(), repo) {
		return p.pollRuns(ctx, repo)
	}
	return nil
}

// pollRuns records the latest finished run of each workflow on the
// repository's default branch; the relay announces what changed (a
// workflow starting to fail, or fixed). The first poll of a repository
// only records where each workflow stands.
func (p *Poller) pollRuns(ctx context.Context, repo string) error {
	owner, name, _ := strings.Cut(repo, "/")
	r, _, err := p.GitHub.Repositories.Get(ctx, owner, name)
	if err != nil {
		return err
	}
	runs, _, err := p.GitHub.Actions.ListRepositoryWorkflowRuns(ctx, owner, name, &gh.ListWorkflowRunsOptions{
		Branch: r.GetDefaultBranch(), Status: "completed", ListOptions: gh.ListOptions{PerPage: 30}})
	if err != nil {
		return err
	}
	_, seenBefore, err := p.Store.Get(ctx, "gh.poll.runs."+repo)
	if err != nil {
		return err
	}
	latest := map[int64]*gh.WorkflowRun{} // per workflow; GitHub lists newest first
	for _, run := range runs.WorkflowRuns {
		if _, ok := latest[run.GetWorkflowID()]; !ok {
			latest[run.GetWorkflowID()] = run
		}
	}
	for _, run := range latest {
		c := Change{Item: Item{Repo: repo, Kind: KindCI, Title: run.GetName(), URL: run.GetHTMLURL(), History: !seenBefore},
			Action: "completed", CI: &CIRun{WorkflowID: run.GetWorkflowID(), Workflow: run.GetName(), RunID: run.GetID(),
				RunNumber: run.GetRunNumber(), Branch: run.GetHeadBranch(), SHA: run.GetHeadSHA(), Conclusion: run.GetConclusion(),
				URL: run.GetHTMLURL()}}
		if err := p.record(ctx, c); err != nil {
			return err
		}
	}
	if seenBefore {
		return nil
	}
	return p.Store.Put(ctx, "gh.poll.runs."+repo, p.Now().UTC().Format(time.RFC3339Nano))
}

// cursor reads a stored time, recording now the first time: what happened
// before the bot first polled a repository is history.
func (p *Poller) cursor(ctx context.Context, key string) (time.Time, error) {
	if raw, ok, err := p.Store.Get(ctx, key); err != nil {
		return time.Time{}, err
	} else if ok {
		return time.Parse(time.RFC3339Nano, raw)
	}
	now := p.Now().UTC()
	return now, p.Store.Put(ctx, key, now.Format(time.RFC3339Nano))
}

func (p *Poller) pollIssues(ctx context.Context, repo string, start time.Time) error {
	since, err := p.cursor(ctx, "gh.poll.since."+repo)
	if err != nil {
		return err
	}
	owner, name, _ := strings.Cut(repo, "/")
	opts := &gh.IssueListByRepoOptions{State: "all", Sort: "updated", Direction: "asc", Since: since,
		ListOptions: gh.ListOptions{PerPage: 100}}
	newest := since
	for page := 0; page < 10; page++ {
		issues, resp, err := p.GitHub.Issues.ListByRepo(ctx, owner, name, opts)
		if err != nil {
			return err
		}
		for _, is := range issues {
			if err := p.record(ctx, snapshot(repo, is, start)); err != nil {
				return err
			}
			if u := is.GetUpdatedAt().Time; u.After(newest) {
				newest = u
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if newest.After(since) {
		// GitHub's since is inclusive: the newest item comes again next
		// time, which the relay's state comparison makes harmless.
		return p.Store.Put(ctx, "gh.poll.since."+repo, newest.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// record stores a change for the relay, as the webhook stores a delivery,
// before the cursor moves past it. The id is the change's own hash, so
// the same snapshot polled again is recorded once.
func (p *Poller) record(ctx context.Context, c Change) error {
	payload, err := json.Marshal(c)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	added, err := p.Store.SaveDelivery(ctx, store.Delivery{ID: "poll:" + hex.EncodeToString(sum[:16]), Event: PollEvent, Payload: payload}, p.Now())
	if added && p.Wake != nil {
		p.Wake()
	}
	return err
}

// snapshot turns a polled issue into a change: new since the bot began
// following the repo means opened; otherwise the relay compares states.
func snapshot(repo string, is *gh.Issue, start time.Time) Change {
	it := issueItem(repoFromURL(is.GetHTMLURL(), repo), is)
	action := "snapshot"
	switch {
	case !it.CreatedAt.Before(start):
		action = "opened"
	case !it.ClosedAt.IsZero() && !it.ClosedAt.Before(start):
		action = "closed"
	}
	c := Change{Item: it, Action: action}
	if is.IsPullRequest() {
		c.Pull = &PullFacts{Association: is.GetAuthorAssociation()} // the list tells no size or reviewers
	}
	return c
}

func (p *Poller) pollReleases(ctx context.Context, repo string, start time.Time) error {
	owner, name, _ := strings.Cut(repo, "/")
	releases, _, err := p.GitHub.Repositories.ListReleases(ctx, owner, name, &gh.ListOptions{PerPage: 10})
	if err != nil {
		return err
	}
	for _, rel := range releases {
		if rel.GetDraft() || rel.GetPublishedAt().Before(start) {
			continue
		}
		if err := p.record(ctx, Change{Item: releaseItem(repoFromURL(rel.GetHTMLURL(), repo), rel), Action: "published"}); err != nil {
			return err
		}
	}
	return nil
}

// repoFromURL reads owner/name, as GitHub spells it, from an item's page.
func repoFromURL(htmlURL, fallback string) string {
	if _, after, ok := strings.Cut(htmlURL, "github.com/"); ok {
		if parts := strings.SplitN(after, "/", 3); len(parts) == 3 {
			return parts[0] + "/" + parts[1]
		}
	}
	return fallback
}
