package github

import (
	"path"
	"slices"
	"strings"

	"github.com/osbuild/ibbot/config"
)

// Mode is how a room gets an item.
type Mode string

const (
	Show   Mode = "show"
	Digest Mode = "digest" // summed up with other bot PRs
)

// Rules decides which rooms get which activity.
type Rules struct{ subs []config.Subscription }

// NewRules compiles the configured subscriptions.
func NewRules(subs []config.Subscription) Rules { return Rules{subs: subs} }

// eventOf names the subscription event an item belongs to.
func eventOf(it Item, comment bool) config.Event {
	switch {
	case comment:
		return config.EventComments
	case it.Kind == KindPull:
		return config.EventPulls
	case it.Kind == KindRelease:
		return config.EventReleases
	default:
		return config.EventIssues
	}
}

// Route returns, per room, how the item is shown there; rooms that filter it
// out are absent.
func (r Rules) Route(it Item, comment bool) map[string]Mode {
	out := map[string]Mode{}
	ev := eventOf(it, comment)
	for _, s := range r.subs {
		mode, ok := match(s, it, ev)
		if !ok {
			continue
		}
		for _, room := range s.Rooms {
			if out[room] != Show { // show wins over digest
				out[room] = mode
			}
		}
	}
	return out
}

// Repos lists the concrete repositories (no globs) the rules name, for
// the poller.
func (r Rules) Repos() []string {
	var out []string
	for _, s := range r.subs {
		for _, repo := range s.Repos {
			if !strings.ContainsAny(repo, "*?[") && !slices.Contains(out, strings.ToLower(repo)) {
				out = append(out, strings.ToLower(repo))
			}
		}
	}
	return out
}

// Subscriptions lists the rules (for !gh subscriptions).
func (r Rules) Subscriptions() []config.Subscription { return r.subs }

// match applies one rule to an item. The rule's defaults were filled in
// when the config was loaded.
func match(s config.Subscription, it Item, ev config.Event) (Mode, bool) {
	if !slices.Contains(s.Events, ev) || !anyGlob(s.Repos, it.Repo) {
		return "", false
	}
	if it.Draft && s.Drafts != config.DraftsShow {
		return "", false
	}
	if len(s.Labels.Include) > 0 && !anyLabel(it.Labels, s.Labels.Include) {
		return "", false
	}
	if anyLabel(it.Labels, s.Labels.Exclude) || anyGlob(s.Authors.Exclude, it.Author) {
		return "", false
	}
	if len(s.Authors.Include) > 0 && !anyGlob(s.Authors.Include, it.Author) {
		return "", false
	}
	if it.AuthorIsBot {
		switch s.Bots {
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

func anyGlob(patterns []string, name string) bool {
	name = strings.ToLower(name)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), name); ok {
			return true
		}
	}
	return false
}

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
