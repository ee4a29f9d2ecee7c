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

// choiceKind is the kind of the rooms' list choices in the store.
const choiceKind = "mail"

// Choices is where rooms' list subscriptions and mutes are kept.
type Choices interface {
	RoomChoices(ctx context.Context, kind string) ([]store.RoomChoice, error)
	PutRoomChoice(ctx context.Context, r store.RoomChoice) error
	DeleteRoomChoice(ctx context.Context, kind, room, target string) error
}

// Routes decides which rooms get a list's mail: the config's (every
// list in mail.list_id to every room in mail.rooms), and what rooms chose
// in chat: a list of their own (!ml subscribe), or a config list muted
// there (!ml unsubscribe). Safe for concurrent use.
type Routes struct {
	lists []string
	rooms []string

	mu      sync.RWMutex
	choices []store.RoomChoice
	// same reports whether a room the config names (an id or an alias) is
	// a room id.
	same func(name string, room id.RoomID) bool
}

// NewRoutes starts from the config.
func NewRoutes(cfg config.Mail) *Routes {
	return &Routes{lists: cfg.ListID, rooms: cfg.Rooms, same: func(name string, room id.RoomID) bool { return id.RoomID(name) == room }}
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
	rows, err := st.RoomChoices(ctx, choiceKind)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.choices = rows
	return nil
}

func (r *Routes) choose(room id.RoomID, list string, c *store.RoomChoice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.choices = slices.DeleteFunc(r.choices, func(x store.RoomChoice) bool { return x.RoomID == room.String() && x.Target == list })
	if c != nil {
		r.choices = append(r.choices, *c)
	}
}

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
	c := store.RoomChoice{Kind: choiceKind, RoomID: req.RoomID.String(), Target: list, Spec: "{}", By: req.Sender.String(), At: s.Now()}
	if err := s.Store.PutRoomChoice(ctx, c); err != nil {
		return bot.TextReply("Nothing changed: storing the subscription failed (%v).", err)
	}
	s.Routes.choose(req.RoomID, list, &c)
	return bot.TextReply("%s subscribed this room to the mailing list %s: its new threads come here from now on.", req.Sender, list)
}

func (s *ListSubscriber) unsubscribe(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	fromConfig, own, mutes := s.Routes.inRoom(req.RoomID)
	hasOwn := slices.ContainsFunc(own, func(c store.RoomChoice) bool { return c.Target == list })
	byConfig := hasList(fromConfig, list) && !slices.ContainsFunc(mutes, func(c store.RoomChoice) bool { return c.Target == list })
	switch {
	case byConfig:
		c := store.RoomChoice{Kind: choiceKind, RoomID: req.RoomID.String(), Target: list, Spec: "{}", Muted: true, By: req.Sender.String(), At: s.Now()}
		if err := s.Store.PutRoomChoice(ctx, c); err != nil {
			return bot.TextReply("Nothing changed: storing the mute failed (%v).", err)
		}
		s.Routes.choose(req.RoomID, list, &c)
		return bot.TextReply("%s muted the mailing list %s in this room: it comes from the operator's config, which stays as it is for other rooms. %sml subscribe %s brings it back.",
			req.Sender, list, req.Prefix, list)
	case hasOwn:
		if err := s.Store.DeleteRoomChoice(ctx, choiceKind, req.RoomID.String(), list); err != nil {
			return bot.TextReply("Nothing changed: removing the subscription failed (%v).", err)
		}
		s.Routes.choose(req.RoomID, list, nil)
		return bot.TextReply("%s unsubscribed this room from the mailing list %s.", req.Sender, list)
	}
	return bot.TextReply("This room does not receive the mailing list %s.", list)
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
