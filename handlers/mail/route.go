package mail

import (
	"slices"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/roomscope"
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
func listsOf(lists *Lists, room id.RoomID) []string { return lists.InRoom(room).Followed() }

// Followed is the lists a room's questions are answered from: those it
// follows, or in a direct chat the config's.
func Followed(lists *Lists, room id.RoomID, direct bool) []string {
	if direct {
		return lists.ConfigTargets()
	}
	return listsOf(lists, room)
}

func hasList(ids []string, list string) bool {
	return slices.ContainsFunc(ids, func(l string) bool { return strings.EqualFold(l, list) })
}
