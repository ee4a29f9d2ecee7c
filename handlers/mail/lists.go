package mail

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/suggest"
)

// Lists say which rooms get which lists' mail: the config's (every list in
// mail.list_id to every room in mail.rooms), and what rooms chose in chat:
// a list of their own (!ml subscribe), or a config list muted there (!ml
// mute). List-Ids are the targets; there is no filter.
type Lists = roomscope.Scope[NoFilter]

// NoFilter is the filter of a list subscription: all of its mail.
type NoFilter struct{}

// Source is the mailing list in the room scope.
func Source(cfg config.Mail) roomscope.Source[NoFilter] {
	src := roomscope.Source[NoFilter]{Kind: "mail"}
	if len(cfg.ListID) > 0 && len(cfg.Rooms) > 0 {
		src.Config = []roomscope.Rule[NoFilter]{{Rooms: cfg.Rooms, Targets: cfg.ListID}}
	}
	return src
}

// listOf is the List-Id, of a mail's, that some room follows (through the
// config or its own), lowercase; "" if none.
func listOf(lists *Lists, listIDs []string) string {
	for _, l := range listIDs {
		if lists.Known(l) {
			return strings.ToLower(l)
		}
	}
	return ""
}

// roomsFor lists the rooms a mail with these List-Ids goes to.
func roomsFor(lists *Lists, listIDs []string) []string {
	var out []string
	for _, l := range listIDs {
		for _, m := range lists.Matches(l) {
			if !slices.Contains(out, m.Room) {
				out = append(out, m.Room)
			}
		}
	}
	return out
}

// listsOf is what a room follows: the config's lists (unless muted there)
// if the config sends it them, and its own.
func listsOf(lists *Lists, room id.RoomID) []string {
	view := lists.InRoom(room)
	var out []string
	for _, r := range view.FromConfig {
		for _, l := range r.Targets {
			if !view.Muted(l) {
				out = append(out, strings.ToLower(l))
			}
		}
	}
	for _, c := range view.Own {
		if !slices.Contains(out, c.Target) {
			out = append(out, c.Target)
		}
	}
	return out
}

func hasList(ids []string, list string) bool {
	return slices.ContainsFunc(ids, func(l string) bool { return strings.EqualFold(l, list) })
}

// ListSubscriber changes which lists rooms receive, from chat.
type ListSubscriber struct {
	Lists *Lists
	// Allowed are the lists rooms may subscribe to (mail.allowed_lists,
	// by default mail.list_id).
	Allowed []string
	Now     func() time.Time
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
	if !hasList(s.Allowed, list) {
		return bot.TextReply("Nothing changed: this bot relays only the mailing lists its operator allows (%s), and %s is not one of them; "+
			"the operator can add it to mail.allowed_lists.", strings.Join(s.Allowed, ", "), list)
	}
	if err := s.Lists.Subscribe(ctx, roomscope.Choice[NoFilter]{Room: req.RoomID, Target: list, By: req.Sender, At: s.Now()}); err != nil {
		return bot.TextReply("Nothing changed: %v.", err)
	}
	return bot.TextReply("%s subscribed this room to the mailing list %s: its new threads come here from now on.", req.Sender, list)
}

// unsubscribe takes back a list the room subscribed to itself; what the
// config sends is muted only by !ml mute.
func (s *ListSubscriber) unsubscribe(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	view := s.Lists.InRoom(req.RoomID)
	if _, own := view.OwnOf(list); own {
		if err := s.Lists.Unsubscribe(ctx, req.RoomID, list); err != nil {
			return bot.TextReply("Nothing changed: %v.", err)
		}
		return bot.TextReply("%s unsubscribed this room from the mailing list %s.", req.Sender, list)
	}
	if view.ConfigSends(list) {
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
	view := s.Lists.InRoom(req.RoomID)
	switch {
	case view.Muted(list):
		return bot.TextReply("The mailing list %s is already muted in this room.", list)
	case !view.ConfigSends(list):
		return bot.TextReply("Nothing to mute: the operator's config sends this room nothing of %s (%sml unsubscribe takes back the room's own lists).",
			list, req.Prefix)
	}
	if err := s.Lists.Mute(ctx, roomscope.Choice[NoFilter]{Room: req.RoomID, Target: list, By: req.Sender, At: s.Now()}); err != nil {
		return bot.TextReply("Nothing changed: %v.", err)
	}
	return bot.TextReply("%s muted the mailing list %s in this room: it comes from the operator's config, which stays as it is for other rooms. %sml unmute %s lifts it.",
		req.Sender, list, req.Prefix, list)
}

// unmute lifts a mute.
func (s *ListSubscriber) unmute(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	if !s.Lists.InRoom(req.RoomID).Muted(list) {
		return bot.TextReply("The mailing list %s is not muted in this room.", list)
	}
	if err := s.Lists.Unmute(ctx, req.RoomID, list); err != nil {
		return bot.TextReply("Nothing changed: %v.", err)
	}
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
		if best := suggest.Closest(list, s.Lists.ConfigTargets()); best != "" {
			msg += fmt.Sprintf("; did you mean %s?", best)
		}
		return "", msg
	}
	return list, ""
}
