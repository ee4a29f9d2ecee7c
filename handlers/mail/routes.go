package mail

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/suggest"
)

// The kinds of the rooms' list choices in the store: a room's own lists,
// and its mutes of the config's.
const (
	choiceKind = "mail"
	muteKind   = "mail-mute"
)

// Choices is where rooms' list subscriptions and mutes are kept.
type Choices interface {
	RoomChoices(ctx context.Context, kind string) ([]store.RoomChoice, error)
	PutRoomChoice(ctx context.Context, r store.RoomChoice) error
	DeleteRoomChoice(ctx context.Context, kind, room, target string) error
}

// Routes decides which rooms get a list's mail: the config's (every
// list in mail.list_id to every room in mail.rooms), and what rooms chose
// in chat: a list of their own (!ml subscribe), or a config list muted
// there (!ml mute). Safe for concurrent use.
type Routes struct {
	lists   []string
	rooms   []string
	allowed []string // what rooms may subscribe to (mail.allowed_lists)

	mu      sync.RWMutex
	choices []store.RoomChoice
	// same reports whether a room the config names (an id or an alias) is
	// a room id.
	same func(name string, room id.RoomID) bool
}

// NewRoutes starts from the config.
func NewRoutes(cfg config.Mail) *Routes {
	allowed := cfg.AllowedLists
	if len(allowed) == 0 {
		allowed = cfg.ListID
	}
	return &Routes{lists: cfg.ListID, rooms: cfg.Rooms, allowed: allowed, same: func(name string, room id.RoomID) bool { return id.RoomID(name) == room }}
}

// SetRoomNames tells the routes how to match a room the config names (an
// alias, say) with a room id.
func (r *Routes) SetRoomNames(same func(name string, room id.RoomID) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.same = same
}

// Load reads the rooms' choices from the store.
func (r *Routes) Load(ctx context.Context, st Choices) error {
	own, err := st.RoomChoices(ctx, choiceKind)
	if err != nil {
		return err
	}
	mutes, err := st.RoomChoices(ctx, muteKind)
	if err != nil {
		return err
	}
	for i := range mutes {
		mutes[i].Muted = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.choices = append(own, mutes...)
	return nil
}

// choose replaces a room's own subscription of list (muted false) or its
// mute of the config's (muted true); nil forgets it.
func (r *Routes) choose(room id.RoomID, list string, muted bool, c *store.RoomChoice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.choices = slices.DeleteFunc(r.choices, func(x store.RoomChoice) bool {
		return x.RoomID == room.String() && x.Target == list && x.Muted == muted
	})
	if c != nil {
		r.choices = append(r.choices, *c)
	}
}

// ListsOf is what a room follows: the config's lists (unless muted there)
// if the config sends it them, and its own.
func (r *Routes) ListsOf(room id.RoomID) []string {
	fromConfig, own, mutes := r.inRoom(room)
	var out []string
	for _, l := range fromConfig {
		if !slices.ContainsFunc(mutes, func(c store.RoomChoice) bool { return strings.EqualFold(c.Target, l) }) {
			out = append(out, strings.ToLower(l))
		}
	}
	for _, c := range own {
		if !slices.Contains(out, c.Target) {
			out = append(out, c.Target)
		}
	}
	return out
}

// ConfigLists are the lists the config sends its rooms (what a direct
// chat may ask about).
func (r *Routes) ConfigLists() []string { return slices.Clone(r.lists) }

func hasList(ids []string, list string) bool {
	return slices.ContainsFunc(ids, func(l string) bool { return strings.EqualFold(l, list) })
}

// Accepts reports whether mail with these List-Ids is relayed anywhere.
func (r *Routes) Accepts(listIDs []string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, l := range listIDs {
		if hasList(r.lists, l) || slices.ContainsFunc(r.choices, func(c store.RoomChoice) bool { return !c.Muted && strings.EqualFold(c.Target, l) }) {
			return true
		}
	}
	return false
}

// ListOf is the List-Id, of a mail's, that the relay follows (the config's
// or a room's), lowercase; "" if none.
func (r *Routes) ListOf(listIDs []string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, l := range listIDs {
		if hasList(r.lists, l) || slices.ContainsFunc(r.choices, func(c store.RoomChoice) bool { return !c.Muted && strings.EqualFold(c.Target, l) }) {
			return strings.ToLower(l)
		}
	}
	return ""
}

// RoomsFor lists the rooms a mail with these List-Ids goes to.
func (r *Routes) RoomsFor(listIDs []string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for _, room := range r.rooms {
		if slices.ContainsFunc(listIDs, func(l string) bool { return hasList(r.lists, l) && !r.mutedLocked(room, l) }) {
			out = append(out, room)
		}
	}
	for _, c := range r.choices {
		if c.Muted || !hasList(listIDs, c.Target) || slices.ContainsFunc(out, func(name string) bool { return r.same(name, id.RoomID(c.RoomID)) }) {
			continue
		}
		out = append(out, c.RoomID)
	}
	return out
}

func (r *Routes) mutedLocked(name, list string) bool {
	return slices.ContainsFunc(r.choices, func(c store.RoomChoice) bool {
		return c.Muted && strings.EqualFold(c.Target, list) && r.same(name, id.RoomID(c.RoomID))
	})
}

// inRoom is what one room receives: the config's lists (unless muted) and
// its own, and the mutes.
func (r *Routes) inRoom(room id.RoomID) (fromConfig []string, own, mutes []store.RoomChoice) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if slices.ContainsFunc(r.rooms, func(name string) bool { return r.same(name, room) }) {
		fromConfig = r.lists
	}
	for _, c := range r.choices {
		switch {
		case c.RoomID != room.String():
		case c.Muted:
			mutes = append(mutes, c)
		default:
			own = append(own, c)
		}
	}
	return fromConfig, own, mutes
}

// ListSubscriber changes which lists rooms receive, from chat.
type ListSubscriber struct {
	Routes *Routes
	Store  Choices
	Now    func() time.Time
}

// normalizeListID reads a List-Id as people paste it: the id, or the
// header's "Name <id>" form.
func normalizeListID(s string) string {
	if i, j := strings.LastIndex(s, "<"), strings.LastIndex(s, ">"); i >= 0 && j > i {
		s = s[i+1 : j]
	}
	return strings.ToLower(strings.Trim(s, "<> "))
}

// validListID: RFC 2919's list-id is a dot-atom with at least one dot.
func validListID(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_+=!#$%&'*/?^`{|}~", r)) {
			return false
		}
	}
	return true
}

func (s *ListSubscriber) subscribe(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	if !hasList(s.Routes.allowed, list) {
		return bot.TextReply("Nothing changed: this bot relays only the mailing lists its operator allows (%s), and %s is not one of them; "+
			"the operator can add it to mail.allowed_lists.", strings.Join(s.Routes.allowed, ", "), list)
	}
	c := store.RoomChoice{Kind: choiceKind, RoomID: req.RoomID.String(), Target: list, Spec: "{}", By: req.Sender.String(), At: s.Now()}
	if err := s.Store.PutRoomChoice(ctx, c); err != nil {
		return bot.TextReply("Nothing changed: storing the subscription failed (%v).", err)
	}
	s.Routes.choose(req.RoomID, list, false, &c)
	return bot.TextReply("%s subscribed this room to the mailing list %s: its new threads come here from now on.", req.Sender, list)
}

// unsubscribe takes back a list the room subscribed to itself; what the
// config sends is muted only by !ml mute.
func (s *ListSubscriber) unsubscribe(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	fromConfig, own, _ := s.Routes.inRoom(req.RoomID)
	switch {
	case slices.ContainsFunc(own, func(c store.RoomChoice) bool { return c.Target == list }):
		if err := s.Store.DeleteRoomChoice(ctx, choiceKind, req.RoomID.String(), list); err != nil {
			return bot.TextReply("Nothing changed: removing the subscription failed (%v).", err)
		}
		s.Routes.choose(req.RoomID, list, false, nil)
		return bot.TextReply("%s unsubscribed this room from the mailing list %s.", req.Sender, list)
	case hasList(fromConfig, list):
		return bot.TextReply("Nothing changed: the mailing list %s comes to this room from the operator's config. %sml mute %s mutes it here.",
			list, req.Prefix, list)
	}
	return bot.TextReply("This room does not receive the mailing list %s.", list)
}

// mute silences here a list the config sends the room.
func (s *ListSubscriber) mute(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	fromConfig, _, mutes := s.Routes.inRoom(req.RoomID)
	switch {
	case slices.ContainsFunc(mutes, func(c store.RoomChoice) bool { return c.Target == list }):
		return bot.TextReply("The mailing list %s is already muted in this room.", list)
	case !hasList(fromConfig, list):
		return bot.TextReply("Nothing to mute: the operator's config sends this room nothing of %s (%sml unsubscribe takes back the room's own lists).",
			list, req.Prefix)
	}
	c := store.RoomChoice{Kind: muteKind, RoomID: req.RoomID.String(), Target: list, Spec: "{}", Muted: true, By: req.Sender.String(), At: s.Now()}
	if err := s.Store.PutRoomChoice(ctx, c); err != nil {
		return bot.TextReply("Nothing changed: storing the mute failed (%v).", err)
	}
	s.Routes.choose(req.RoomID, list, true, &c)
	return bot.TextReply("%s muted the mailing list %s in this room: it comes from the operator's config, which stays as it is for other rooms. %sml unmute %s lifts it.",
		req.Sender, list, req.Prefix, list)
}

// unmute lifts a mute.
func (s *ListSubscriber) unmute(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	if _, _, mutes := s.Routes.inRoom(req.RoomID); !slices.ContainsFunc(mutes, func(c store.RoomChoice) bool { return c.Target == list }) {
		return bot.TextReply("The mailing list %s is not muted in this room.", list)
	}
	if err := s.Store.DeleteRoomChoice(ctx, muteKind, req.RoomID.String(), list); err != nil {
		return bot.TextReply("Nothing changed: removing the mute failed (%v).", err)
	}
	s.Routes.choose(req.RoomID, list, true, nil)
	return bot.TextReply("%s unmuted the mailing list %s: its threads come to this room again.", req.Sender, list)
}

// listArg reads the LIST-ID argument; a problem (with a suggestion) when
// it is missing or malformed.
func (s *ListSubscriber) listArg(req bot.Request) (string, string) {
	if len(req.Args) != 2 {
		return "", fmt.Sprintf("name one list: %sml %s LIST-ID (its List-Id header, e.g. image-builder.lists.example.org)", req.Prefix, req.Args[0])
	}
	list := normalizeListID(req.Args[1])
	if !validListID(list) {
		msg := fmt.Sprintf("%q is not a List-Id (like image-builder.lists.example.org)", req.Args[1])
		if best := suggest.Closest(list, s.Routes.lists); best != "" {
			msg += fmt.Sprintf("; did you mean %s?", best)
		}
		return "", msg
	}
	return list, ""
}
