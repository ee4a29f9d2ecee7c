package github

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/roomscope"
)

// linkPattern finds owner/repo#123 and bare #123; urlPattern the web
// address of an issue or pull request (also with a tab or comment anchor
// after it), which people paste as often.
var (
	linkPattern = regexp.MustCompile(`(?:^|[\s(\[,;:])((?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?)#(\d{1,7})\b`)
	urlPattern  = regexp.MustCompile(`https?://(?:www\.)?github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/(?:issues|pull)/(\d{1,7})\b`)
)

// maxLinks bounds the previews one message gets.
const maxLinks = 3

// Ref is a parsed issue reference.
type Ref struct {
	Repo   string
	Number int
}

// ParseRefs finds issue references in text, in the order they appear:
// owner/repo#123, bare #123 (which takes defaultRepo and is skipped
// without one), and https://github.com/owner/repo/issues/123 or
// /pull/123. A repository name GitHub would not accept (such as
// "osbuild/..") is no reference.
func ParseRefs(text, defaultRepo string) []Ref {
	type found struct {
		at        int
		repo, num string
	}
	var all []found
	for _, p := range []*regexp.Regexp{linkPattern, urlPattern} {
		for _, m := range p.FindAllStringSubmatchIndex(text, -1) {
			all = append(all, found{at: m[0], repo: text[m[2]:m[3]], num: text[m[4]:m[5]]})
		}
	}
	slices.SortStableFunc(all, func(a, b found) int { return a.at - b.at })
	var refs []Ref
	for _, f := range all {
		repo := f.repo
		if repo == "" {
			repo = defaultRepo
		}
		n, err := strconv.Atoi(f.num)
		if repo == "" || err != nil || n <= 0 || !config.ValidRepo(repo, false) {
			continue
		}
		ref := Ref{Repo: repo, Number: n}
		if !slices.ContainsFunc(refs, func(r Ref) bool { return strings.EqualFold(r.Repo, ref.Repo) && r.Number == ref.Number }) {
			refs = append(refs, ref)
		}
	}
	return refs
}

// Links answers issue links in anyone's message with one short preview
// per item, once per item and room within a cooldown. A room sees previews
// (and !issue answers) only for the repositories it follows, its default
// repository, and the operator's allow-list: the bot is no proxy for
// reading any repository on GitHub.
type Links struct {
	GitHub   *gh.Client
	Allowed  []string // repo globs any room may preview (github.link_repos)
	Cooldown time.Duration
	Now      func() time.Time
	// Subs are what rooms follow: what the config sends them (muted or
	// not), and their own subscriptions within Chat.
	Subs *Subscriptions
	Chat Scope
	// Settings say which repository a bare #123 means in a room.
	Settings *roomscope.Settings

	mu   sync.Mutex
	seen map[string]time.Time // room + item -> last preview
}

// DefaultRepo is the repository "#123" means in room, or "".
func (l *Links) DefaultRepo(room id.RoomID) string {
	repo, _ := l.Settings.Get(room, "default_repo")
	return repo
}

// MayRead reports whether room may look up issues of repo. A subscription
// made before the scope was narrowed stays stored but reaches nothing new.
func (l *Links) MayRead(room id.RoomID, repo string) bool {
	if strings.EqualFold(repo, l.DefaultRepo(room)) || anyGlob(l.Allowed, repo) {
		return true
	}
	view := l.Subs.InRoom(room)
	_, own := view.OwnOf(repo)
	return view.ConfigSends(repo) || (own && l.Chat.Allows(repo))
}

func (l *Links) refs(msg bot.Message) []Ref {
	var out []Ref
	for _, r := range ParseRefs(msg.Body, l.DefaultRepo(msg.RoomID)) {
		if l.MayRead(msg.RoomID, r.Repo) && len(out) < maxLinks {
			out = append(out, r)
		}
	}
	return out
}

// Match is true for a message with at least one followed issue link.
func (l *Links) Match(msg bot.Message) bool { return len(l.refs(msg)) > 0 }

// Answer previews the links not previewed in this room lately.
func (l *Links) Answer(ctx context.Context, msg bot.Message) (*bot.Reply, error) {
	fresh := l.fresh(msg.RoomID, l.refs(msg))
	if len(fresh) == 0 {
		return nil, nil
	}
	var lines []bot.Reply
	for _, r := range fresh {
		it, err := FetchItem(ctx, l.GitHub, r)
		if err != nil {
			continue // a link to nothing (or GitHub down) gets no preview
		}
		lines = append(lines, RenderLink(it))
	}
	if len(lines) == 0 {
		return nil, nil
	}
	joined := joinReplies(lines)
	return &joined, nil
}

// fresh keeps the refs not previewed in room within the cooldown, and
// remembers them. Entries older than the cooldown are forgotten, so the
// memory is bounded by what the rooms say within one cooldown.
func (l *Links) fresh(room id.RoomID, refs []Ref) []Ref {
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]time.Time{}
	}
	for key, last := range l.seen {
		if now.Sub(last) >= l.Cooldown {
			delete(l.seen, key)
		}
	}
	var out []Ref
	for _, r := range refs {
		key := fmt.Sprintf("%s|%s#%d", room, strings.ToLower(r.Repo), r.Number)
		if _, recent := l.seen[key]; recent {
			continue
		}
		l.seen[key] = now
		out = append(out, r)
	}
	return out
}

// remembered is how many previews the cooldown holds (for tests).
func (l *Links) remembered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

// FetchItem reads an issue or pull request (conditional, so repeats are free).
func FetchItem(ctx context.Context, c *gh.Client, r Ref) (Item, error) {
	owner, name, _ := strings.Cut(r.Repo, "/")
	is, _, err := c.Issues.Get(ctx, owner, name, r.Number)
	if err != nil {
		return Item{}, err
	}
	return issueItem(repoFromURL(is.GetHTMLURL(), r.Repo), is), nil
}

func describeRule(m *bot.Msg, repos []string, s Filter) {
	events := make([]string, len(s.Events))
	for i, e := range s.Events {
		events[i] = string(e)
	}
	m.Text(strings.Join(events, ", ") + " of " + strings.Join(repos, ", "))
	if len(s.Labels.Include) > 0 {
		m.Text("; only labels " + strings.Join(s.Labels.Include, ", "))
	}
	if len(s.Labels.Exclude) > 0 {
		m.Text("; not labels " + strings.Join(s.Labels.Exclude, ", "))
	}
	if len(s.Authors.Include) > 0 {
		m.Text("; only by " + strings.Join(s.Authors.Include, ", "))
	}
	if len(s.Authors.Exclude) > 0 {
		m.Text("; not by " + strings.Join(s.Authors.Exclude, ", "))
	}
	// Bot and draft settings filter pull requests (and their reviews and
	// comments); for CI, releases or discussions they mean nothing.
	if slices.ContainsFunc(s.Events, func(e config.Event) bool {
		return e == config.EventPulls || e == config.EventReviews || e == config.EventComments
	}) {
		m.Textf("; bot PRs: %s; drafts: %s", cmp.Or(s.Bots, config.BotsDigest), cmp.Or(s.Drafts, config.DraftsHide))
	}
}
