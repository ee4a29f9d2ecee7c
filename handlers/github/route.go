package github

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/roomscope"
)

// Mode is how a room gets an item.
type Mode string

const (
	Show   Mode = "show"
	Digest Mode = "digest" // summed up with other bot PRs
)

// Filter is what a subscription lets through of a repository's activity:
// a rule of the config's, or a room's own (stored as this JSON).
type Filter struct {
	Events  []config.Event     `json:"events"`
	Labels  config.Filter      `json:"labels"`
	Authors config.Filter      `json:"authors"`
	Bots    config.BotPolicy   `json:"bots"`
	Drafts  config.DraftPolicy `json:"drafts"`
}

// FilterOf is a config subscription's filter.
func FilterOf(s config.Subscription) Filter {
	return Filter{Events: s.Events, Labels: s.Labels, Authors: s.Authors, Bots: s.Bots, Drafts: s.Drafts}
}

// Subscriptions say which rooms get which repositories' activity: the
// config's subscriptions, and what rooms chose in chat (roomscope).
type Subscriptions = roomscope.Scope[Filter]

// Source is GitHub in the room scope: repositories are its targets, the
// config's subscriptions its rules.
func Source(subs []config.Subscription) roomscope.Source[Filter] {
	src := roomscope.Source[Filter]{Kind: "github"}
	for _, s := range subs {
		src.Config = append(src.Config, roomscope.Rule[Filter]{Rooms: s.Rooms, Targets: s.Repos, Filter: FilterOf(s)})
	}
	return src
}

// Defaults are the config's per-room settings (github.rooms) as the room
// scope keeps them: default_repo, and threads "off" for no_threads.
func Defaults(rooms map[string]config.GitHubRoom) roomscope.Defaults {
	out := roomscope.Defaults{}
	for name, r := range rooms {
		kv := map[string]string{}
		if r.DefaultRepo != "" {
			kv["default_repo"] = r.DefaultRepo
		}
		if r.NoThreads {
			kv["threads"] = "off"
		}
		out[name] = kv
	}
	return out
}

// eventOf names the subscription event an item belongs to.
func eventOf(it Item, comment bool) config.Event {
	switch {
	case comment:
		return config.EventComments
	case it.Kind == KindPull:
		return config.EventPulls
	case it.Kind == KindRelease:
		return config.EventReleases
	case it.Kind == KindCI:
		return config.EventCI
	case it.Kind == KindDiscussion:
		return config.EventDiscussions
	default:
		return config.EventIssues
	}
}

// Route returns, per room, how the item is shown there; rooms that filter it
// out are absent. A room reached both through the config and its own
// subscription appears once.
func Route(subs *Subscriptions, it Item, comment bool) map[string]Mode {
	return RouteEvent(subs, it, eventOf(it, comment))
}

// RouteEvent is Route for an item's event named outright (reviews).
func RouteEvent(subs *Subscriptions, it Item, ev config.Event) map[string]Mode {
	out := map[string]Mode{}
	for _, m := range subs.Matches(it.Repo) {
		if mode, ok := match(m.Filter, it, ev); ok && out[m.Room] != Show { // show wins over digest
			out[m.Room] = mode
		}
	}
	return out
}

// hasEvent is a filter for Subscriptions.Targets.
func hasEvent(ev config.Event) func(Filter) bool {
	return func(f Filter) bool { return slices.Contains(f.Events, ev) }
}

// ReposWith lists the concrete repositories some subscription follows for
// event ev (the poller reads workflow runs only of those with ci).
func ReposWith(subs *Subscriptions, ev config.Event) []string { return subs.Targets(hasEvent(ev)) }

// match applies one filter to an item. The config's defaults were filled
// in when it was loaded.
func match(f Filter, it Item, ev config.Event) (Mode, bool) {
	if !slices.Contains(f.Events, ev) {
		return "", false
	}
	if it.Draft && f.Drafts != config.DraftsShow {
		return "", false
	}
	if len(f.Labels.Include) > 0 && !anyLabel(it.Labels, f.Labels.Include) {
		return "", false
	}
	if anyLabel(it.Labels, f.Labels.Exclude) || anyGlob(f.Authors.Exclude, it.Author) {
		return "", false
	}
	if len(f.Authors.Include) > 0 && !anyGlob(f.Authors.Include, it.Author) {
		return "", false
	}
	if it.AuthorIsBot {
		switch f.Bots {
		case config.BotsHide:
			return "", false
		case config.BotsShow:
			return Show, true
		default:
			if it.Kind == KindPull {
				return Digest, true
			}
		}
	}
	return Show, true
}

func anyGlob(patterns []string, name string) bool { return roomscope.AnyGlob(patterns, name) }

func anyLabel(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

// RepoLookup asks GitHub about a repository.
type RepoLookup func(ctx context.Context, repo string) (RepoFacts, error)

// RepoFacts are what a subscription needs to know of a repository.
type RepoFacts struct {
	Private bool
}

// LookupRepo is a RepoLookup on the GitHub API.
func LookupRepo(c *gh.Client) RepoLookup {
	return func(ctx context.Context, repo string) (RepoFacts, error) {
		owner, name, _ := strings.Cut(repo, "/")
		r, resp, err := c.Repositories.Get(ctx, owner, name)
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return RepoFacts{}, fmt.Errorf("%w: %s", ErrNoSuchRepo, repo)
		}
		if err != nil {
			return RepoFacts{}, bot.Errorf(err, "I could not ask GitHub about %s: %s; nothing changed", repo, ghclient.Explain(err))
		}
		return RepoFacts{Private: r.GetPrivate()}, nil
	}
}

// Scope bounds what chat may reach of GitHub, by the operator's word
// (github.allowed_repos): a room admin cannot pull into a room what the
// operator did not mean the bot to follow, private repositories least.
type Scope struct {
	Allowed []string // globs chat may subscribe to and preview
	Named   []string // repositories the config names outright; only these may be private
}

// Allows reports whether chat may reach repo.
func (s Scope) Allows(repo string) bool { return anyGlob(s.Allowed, repo) || s.named(repo) }

func (s Scope) named(repo string) bool {
	return slices.ContainsFunc(s.Named, func(n string) bool { return strings.EqualFold(n, repo) })
}

// refusal says why a room may not follow repo, or "" if it may.
func (s Scope) refusal(repo string, facts RepoFacts) string {
	switch {
	case !s.Allows(repo):
		return fmt.Sprintf("this bot follows only the repositories its operator allows (%s), and %s is not one of them; "+
			"the operator can add it to github.allowed_repos", strings.Join(s.Allowed, ", "), repo)
	case facts.Private && !s.named(repo):
		return fmt.Sprintf("%s is private: only the operator can have it followed, by naming it in the config", repo)
	}
	return ""
}

// FollowedRepos is the repositories (names or globs) a room's questions
// are answered from: those it follows, or in a direct chat the config's.
func FollowedRepos(subs *Subscriptions, room id.RoomID, direct bool) []string {
	if direct {
		return subs.ConfigTargets()
	}
	return subs.InRoom(room).Followed()
}
