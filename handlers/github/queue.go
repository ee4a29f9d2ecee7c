package github

// The review queue: outside contributors' pull requests, and whether
// they got a first review in time ("eagerly reviewed", measured).

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// QueueStore keeps the review queue.
type QueueStore interface {
	TrackPR(ctx context.Context, p store.ReviewPR) error
	PRResponded(ctx context.Context, repo string, number int, at time.Time) error
	PRClosed(ctx context.Context, repo string, number int) error
	PRCI(ctx context.Context, headSHA, conclusion string) error
	ReviewPRs(ctx context.Context, since time.Time, openOnly bool) ([]store.ReviewPR, error)
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// Queue is the review queue. The relay hands it every change it applies
// (Observe): from those alone (webhooks and polling, no request of its
// own) it keeps outside pull requests, when each first got a review or a
// maintainer's comment, and its CI; it calls out a first contribution
// when it opens, posts the digest of those waiting at the configured
// time, and answers !reviews.
type Queue struct {
	Store  QueueStore
	Poster interface {
		Post(ctx context.Context, key, room string, r bot.Reply) error
	}
	Config config.Reviews
	// Subs, when set and github.reviews.repos is empty, make each room's
	// digest list the repositories whose pull requests the room follows.
	Subs *Subscriptions
	Log  zerolog.Logger
	Now  func() time.Time

	state health.State
}

// roomFollows reports whether room's digest covers repo.
func (q *Queue) roomFollows(room, repo string) bool {
	if len(q.Config.Repos) > 0 || q.Subs == nil {
		return true
	}
	_, ok := Route(q.Subs, Item{Repo: repo, Kind: KindPull, State: "open"}, false)[room]
	return ok
}

// outside are the author associations of people outside the team.
var outside = []string{"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "CONTRIBUTOR", "NONE"}

// maintainers are the associations whose comment is a maintainer's.
var maintainers = []string{"OWNER", "MEMBER", "COLLABORATOR"}

func firstTimer(assoc string) bool {
	return assoc == "FIRST_TIME_CONTRIBUTOR" || assoc == "FIRST_TIMER"
}

func (q *Queue) covers(repo string) bool {
	return len(q.Config.Repos) == 0 || anyGlob(q.Config.Repos, strings.ToLower(repo))
}

// Observe takes in one change the relay applied.
func (q *Queue) Observe(ctx context.Context, c Change) error {
	if c.CI != nil {
		return q.Store.PRCI(ctx, c.CI.SHA, c.CI.Conclusion)
	}
	it := c.Item
	if it.Kind != KindPull || !q.covers(it.Repo) {
		return nil
	}
	if c.Pull != nil && slices.Contains(outside, c.Pull.Association) {
		if err := q.track(ctx, c); err != nil {
			return err
		}
	}
	switch {
	case c.Review != nil && c.Review.State != "requested" && !strings.EqualFold(c.Review.Who, it.Author):
		return q.Store.PRResponded(ctx, it.Repo, it.Number, q.Now())
	case c.Comment != nil && slices.Contains(maintainers, c.Comment.Association) && !strings.EqualFold(c.Comment.Author, it.Author):
		return q.Store.PRResponded(ctx, it.Repo, it.Number, q.Now())
	case it.State == "closed" || it.State == "merged":
		return q.Store.PRClosed(ctx, it.Repo, it.Number)
	}
	return nil
}

func (q *Queue) track(ctx context.Context, c Change) error {
	it, f := c.Item, c.Pull
	p := store.ReviewPR{Repo: it.Repo, Number: it.Number, Title: it.Title, URL: it.URL, Author: it.Author, Association: f.Association,
		OpenedAt: it.CreatedAt, Additions: f.Additions, Deletions: f.Deletions, Reviewers: f.Reviewers, HeadSHA: f.HeadSHA,
		Draft: it.Draft, Open: it.State == "open"}
	if err := q.Store.TrackPR(ctx, p); err != nil {
		return err
	}
	if c.Action != "opened" || !firstTimer(f.Association) {
		return nil
	}
	for _, room := range q.Config.Rooms {
		key := fmt.Sprintf("reviews:first:%s:%s", it.Key(), room)
		if err := q.Poster.Post(ctx, key, room, RenderFirstContribution(p)); err != nil {
			return err
		}
	}
	return nil
}

// Waiting are the outside pull requests without a review or a
// maintainer's comment for longer than the wait, oldest first.
func (q *Queue) Waiting(ctx context.Context, now time.Time) ([]store.ReviewPR, error) {
	all, err := q.Store.ReviewPRs(ctx, now.AddDate(-1, 0, 0), true)
	if err != nil {
		return nil, err
	}
	var out []store.ReviewPR
	for _, p := range all {
		if !p.Draft && p.RespondedAt.IsZero() && now.Sub(p.OpenedAt) >= q.Config.Wait && q.covers(p.Repo) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Health says how the digest goes, for !status.
func (q *Queue) Health() health.Report { return q.state.Report("review digest", "no digest due yet") }

// Run posts the digest when it is due, checking every 10 seconds (a
// look costs nothing until it is due, then one read a day).
func (q *Queue) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Review digest", Interval: 10 * time.Second, Retry: backoff.Policy{Min: 30 * time.Second, Max: 10 * time.Minute},
		Health: &q.state, Now: q.Now, Log: q.Log,
		Round: func(ctx context.Context) (string, error) {
			return "posting the review digest at " + q.Config.DigestAt + " " + q.Config.Timezone, q.Tick(ctx)
		},
	}
	return loop.Run(ctx)
}

// Tick posts today's digest once it is due (on a digest day, from
// digest_at local time for 12 hours): once a day, across restarts, and
// nothing when no pull request waits.
func (q *Queue) Tick(ctx context.Context) error {
	now := q.Now()
	day, due := q.due(now)
	if !due {
		return nil
	}
	key := "reviews.digest." + day
	if _, done, err := q.Store.Get(ctx, key); err != nil || done {
		return err
	}
	waiting, err := q.Waiting(ctx, now)
	if err != nil {
		return err
	}
	for _, room := range q.Config.Rooms {
		var here []store.ReviewPR
		for _, p := range waiting {
			if q.roomFollows(room, p.Repo) {
				here = append(here, p)
			}
		}
		if len(here) == 0 {
			continue // nothing waits in what this room follows: no message
		}
		if err := q.Poster.Post(ctx, key+":"+room, room, RenderWaiting(here, now, q.Config.Wait)); err != nil {
			return err
		}
		q.Log.Info().Int("waiting", len(here)).Str("room", room).Str("day", day).Msg("Review digest posted")
	}
	return q.Store.Put(ctx, key, now.UTC().Format(time.RFC3339))
}

// due reports whether today's digest is due at now, and names the day.
// The time is read in the configured zone, so it follows daylight saving
// time.
func (q *Queue) due(now time.Time) (string, bool) {
	loc, err := time.LoadLocation(q.Config.Timezone)
	if err != nil {
		loc = time.UTC
	}
	hour, minute, ok := q.Config.Clock()
	if !ok {
		return "", false
	}
	local := now.In(loc)
	at := time.Date(local.Year(), local.Month(), local.Day(), hour, minute, 0, 0, loc)
	days := q.Config.Days()
	if len(days) == 0 {
		days = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	if !slices.Contains(days, local.Weekday()) || now.Before(at) || now.Sub(at) >= 12*time.Hour {
		return "", false
	}
	return local.Format("2006-01-02"), true
}

// Command is !reviews: the outside pull requests waiting now.
func (q *Queue) Command() bot.Command {
	return bot.Command{
		Name: "reviews", Summary: "outside contributors' pull requests waiting for a first review",
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			now := q.Now()
			waiting, err := q.Waiting(ctx, now)
			if err != nil {
				return bot.Reply{}, fmt.Errorf("reading the review queue: %w", err)
			}
			if len(waiting) == 0 {
				return bot.TextReply("✓ No outside pull request has waited more than %s for a first review.", waitWords(q.Config.Wait)), nil
			}
			return RenderWaiting(waiting, now, q.Config.Wait), nil
		},
	}
}

// Figure is a repository's review figure: the median time outside pull
// requests of the last 90 days took to a first review (or maintainer's
// comment), how many got one, and how many wait now.
type Figure struct {
	Repo    string
	Median  time.Duration // 0 with Reviewed 0
	Reviews int
	Waiting int
}

// Figures are the review figures per repository, by name.
func (q *Queue) Figures(ctx context.Context) ([]Figure, error) {
	now := q.Now()
	all, err := q.Store.ReviewPRs(ctx, now.AddDate(0, 0, -90), false)
	if err != nil {
		return nil, err
	}
	waiting, err := q.Waiting(ctx, now)
	if err != nil {
		return nil, err
	}
	took := map[string][]time.Duration{}
	figs := map[string]*Figure{}
	fig := func(repo string) *Figure {
		if figs[repo] == nil {
			figs[repo] = &Figure{Repo: repo}
		}
		return figs[repo]
	}
	for _, p := range all {
		if !q.covers(p.Repo) {
			continue
		}
		fig(p.Repo)
		if !p.RespondedAt.IsZero() {
			took[p.Repo] = append(took[p.Repo], p.RespondedAt.Sub(p.OpenedAt))
		}
	}
	for _, p := range waiting {
		fig(p.Repo).Waiting++
	}
	var out []Figure
	for repo, f := range figs {
		d := took[repo]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		f.Reviews = len(d)
		if n := len(d); n > 0 {
			f.Median = d[n/2]
			if n%2 == 0 {
				f.Median = (d[n/2-1] + d[n/2]) / 2
			}
		}
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Figure) int { return strings.Compare(a.Repo, b.Repo) })
	return out, nil
}

// RenderWaiting lists the waiting pull requests: the digest and !reviews.
func RenderWaiting(waiting []store.ReviewPR, now time.Time, wait time.Duration) bot.Reply {
	m := new(bot.Msg).Textf("👀 %s from outside the team %s waited more than %s for a first review:", say.Plural(len(waiting), "pull request"),
		map[bool]string{true: "has", false: "have"}[len(waiting) == 1], waitWords(wait))
	for _, p := range waiting {
		m.Line().Text("• ").Link(fmt.Sprintf("%s#%d", p.Repo, p.Number), p.URL).Text(" " + p.Title)
		m.Textf(" — by %s, open %s, +%d/−%d, CI %s, ", p.Author, strings.TrimSuffix(say.Ago(now, p.OpenedAt), " ago"), p.Additions, p.Deletions, ciWord(p.CI))
		if len(p.Reviewers) == 0 {
			m.Text("no reviewer requested")
		} else {
			m.Text("review requested from " + strings.Join(p.Reviewers, ", "))
		}
	}
	return m.Reply()
}

// waitWords says a wait as people do: "2 days", "36 hours".
func waitWords(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return say.Plural(int(d/(24*time.Hour)), "day")
	}
	if d%time.Hour == 0 {
		return say.Plural(int(d/time.Hour), "hour")
	}
	return say.Uptime(d)
}

func ciWord(conclusion string) string {
	switch conclusion {
	case "success":
		return "✓"
	case "":
		return "unknown"
	case "failure", "timed_out", "startup_failure":
		return "✗"
	}
	return conclusion
}

// RenderFirstContribution calls out a first-time contributor's pull
// request when it opens.
func RenderFirstContribution(p store.ReviewPR) bot.Reply {
	return new(bot.Msg).Textf("🎉 First contribution by %s to %s: ", p.Author, p.Repo).Link(p.Title, p.URL).
		Textf(" (+%d/−%d). Thank you! A review would welcome them.", p.Additions, p.Deletions).Reply()
}
