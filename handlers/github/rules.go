package github

import (
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
)

// Mode is how a room gets an item.
type Mode string

const (
	Show   Mode = "show"
	Digest Mode = "digest" // summed up with other bot PRs
)

// Rules decides which rooms get which activity: the config's
// subscriptions (the operator's base), and what rooms chose in chat —
// subscriptions of their own, and mutes of the config's — which change
// while the bot runs. Safe for concurrent use.
type Rules struct {
	base []config.Subscription

	mu     sync.RWMutex
	rooms  []RoomRule // rooms' own subscriptions and mutes, oldest first
	isRoom func(name string, room id.RoomID) bool
}

// RoomRule is a room's choice for one repository.
type RoomRule struct {
	Room  id.RoomID
	Repo  string              // owner/name, lowercase
	Sub   config.Subscription // the room's own subscription; unused for a mute
	Muted bool                // the room mutes the config's subscriptions of Repo
	By    id.UserID
	At    time.Time
}

// NewRules starts from the configured subscriptions.
func NewRules(subs []config.Subscription) *Rules {
	return &Rules{base: subs, isRoom: func(name string, room id.RoomID) bool { return id.RoomID(name) == room }}
}

// SetRoomNames tells the rules how to match a room named in the config (an
// alias, say) with a room id.
func (r *Rules) SetRoomNames(isRoom func(name string, room id.RoomID) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.isRoom = isRoom
}

// SameRoom reports whether the config's room name is room.
func (r *Rules) SameRoom(name string, room id.RoomID) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.isRoom(name, room)
}

// SetRoomRules replaces the rooms' choices (as loaded from the store).
func (r *Rules) SetRoomRules(rules []RoomRule) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rooms = slices.Clone(rules)
}

// Choose records a room's own subscription of a repository, replacing the
// one it had; nil forgets it. A mute of the same repository stays.
func (r *Rules) Choose(room id.RoomID, repo string, rule *RoomRule) {
	r.replace(room, repo, false, rule)
}

// Mute records a room's mute of what the config sends it of a
// repository; nil lifts it. The room's own subscription stays.
func (r *Rules) Mute(room id.RoomID, repo string, rule *RoomRule) { r.replace(room, repo, true, rule) }

func (r *Rules) replace(room id.RoomID, repo string, muted bool, rule *RoomRule) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rooms = slices.DeleteFunc(r.rooms, func(x RoomRule) bool { return x.Room == room && x.Repo == repo && x.Muted == muted })
	if rule != nil {
		r.rooms = append(r.rooms, *rule)
	}
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
func (r *Rules) Route(it Item, comment bool) map[string]Mode {
	return r.RouteEvent(it, eventOf(it, comment))
}

// RouteEvent is Route for an item's event named outright (reviews).
func (r *Rules) RouteEvent(it Item, ev config.Event) map[string]Mode {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := map[string]Mode{}
	add := func(room string, mode Mode) {
		if out[room] != Show { // show wins over digest
			out[room] = mode
		}
	}
	for _, s := range r.base {
		mode, ok := match(s, it, ev)
		if !ok {
			continue
		}
		for _, room := range s.Rooms {
			if !r.mutedLocked(room, it.Repo) {
				add(room, mode)
			}
		}
	}
	for _, rr := range r.rooms {
		if rr.Muted || !strings.EqualFold(rr.Repo, it.Repo) {
			continue
		}
		if mode, ok := match(rr.Sub, it, ev); ok {
			add(r.nameLocked(out, rr.Room), mode)
		}
	}
	return out
}

// nameLocked is how out already names room (a config alias), or its id.
func (r *Rules) nameLocked(out map[string]Mode, room id.RoomID) string {
	for name := range out {
		if r.isRoom(name, room) {
			return name
		}
	}
	return room.String()
}

// mutedLocked reports whether the room the config names muted repo.
func (r *Rules) mutedLocked(name, repo string) bool {
	for _, rr := range r.rooms {
		if rr.Muted && strings.EqualFold(rr.Repo, repo) && r.isRoom(name, rr.Room) {
			return true
		}
	}
	return false
}

// Repos lists the concrete repositories (no globs) the rules name, for
// the poller: the config's and the rooms' own.
func (r *Rules) Repos() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	add := func(repo string) {
		if !strings.ContainsAny(repo, "*?[") && !slices.Contains(out, strings.ToLower(repo)) {
			out = append(out, strings.ToLower(repo))
		}
	}
	for _, s := range r.base {
		for _, repo := range s.Repos {
			add(repo)
		}
	}
	for _, rr := range r.rooms {
		if !rr.Muted {
			add(rr.Repo)
		}
	}
	return out
}

// ReposWith lists the concrete repositories some rule follows for event
// ev (the poller reads workflow runs only of those with ci).
func (r *Rules) ReposWith(ev config.Event) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	add := func(s config.Subscription) {
		if !slices.Contains(s.Events, ev) {
			return
		}
		for _, repo := range s.Repos {
			if !strings.ContainsAny(repo, "*?[") && !slices.Contains(out, strings.ToLower(repo)) {
				out = append(out, strings.ToLower(repo))
			}
		}
	}
	for _, s := range r.base {
		add(s)
	}
	for _, rr := range r.rooms {
		if !rr.Muted {
			add(rr.Sub)
		}
	}
	return out
}

// Rooms lists every room any rule sends to (as the config names them, or
// by id).
func (r *Rules) Rooms() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for _, s := range r.base {
		for _, room := range s.Rooms {
			if !slices.Contains(out, room) {
				out = append(out, room)
			}
		}
	}
	for _, rr := range r.rooms {
		if !rr.Muted && !slices.ContainsFunc(out, func(name string) bool { return r.isRoom(name, rr.Room) }) {
			out = append(out, rr.Room.String())
		}
	}
	return out
}

// Subscriptions lists the config's rules.
func (r *Rules) Subscriptions() []config.Subscription { return r.base }

// InRoom is what one room receives: the config's rules naming it (with
// the repositories it muted), and its own.
func (r *Rules) InRoom(room id.RoomID) (fromConfig []config.Subscription, mutes, own []RoomRule) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.base {
		if slices.ContainsFunc(s.Rooms, func(name string) bool { return r.isRoom(name, room) }) {
			fromConfig = append(fromConfig, s)
		}
	}
	for _, rr := range r.rooms {
		switch {
		case rr.Room != room:
		case rr.Muted:
			mutes = append(mutes, rr)
		default:
			own = append(own, rr)
		}
	}
	return fromConfig, mutes, own
}

// Follows reports whether room receives activity of repo (for link
// previews): through the config (unmuted) or its own subscription.
func (r *Rules) Follows(room id.RoomID, repo string) bool {
	fromConfig, mutes, own := r.InRoom(room)
	for _, rr := range own {
		if strings.EqualFold(rr.Repo, repo) {
			return true
		}
	}
	for _, s := range fromConfig {
		if anyGlob(s.Repos, repo) && !slices.ContainsFunc(mutes, func(m RoomRule) bool { return strings.EqualFold(m.Repo, repo) }) {
			return true
		}
	}
	return false
}

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
