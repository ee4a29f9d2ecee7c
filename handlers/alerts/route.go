package alerts

import (
	"slices"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/roomscope"
)

// Kind names the alerts' rows in the store (rooms' mutes under
// Kind+"-mute"). Never change it once deployed.
const Kind = "alerts"

// Target is the one thing rooms follow here: the notifications of the
// Alertmanager that posts to this bot. Rooms are given it by the config's
// routes only (alerts may name internal systems, so no room subscribes to
// them in chat); a room admin may mute them.
const Target = "alertmanager"

// Filter is a route's label matchers: every label of Match equal (a value
// may be a list a|b), none of Exclude. Kept as JSON: add fields, never
// rename them.
type Filter struct {
	Match   map[string]string `json:"match,omitempty"`
	Exclude map[string]string `json:"exclude,omitempty"`
}

func (f Filter) takes(labels map[string]string) bool {
	for k, v := range f.Match {
		if !oneOf(labels[k], v) {
			return false
		}
	}
	for k, v := range f.Exclude {
		if oneOf(labels[k], v) {
			return false
		}
	}
	return true
}

func oneOf(value, choices string) bool { return slices.Contains(strings.Split(choices, "|"), value) }

// Scope is the alerts' routing, made by roomscope.Add(ctx, registry,
// Source(routes)).
type Scope = roomscope.Scope[Filter]

// Route is one of the config's: these rooms get the groups its filter
// takes.
type Route struct {
	Rooms  []string
	Filter Filter
}

// Source declares the alerts with the config's routes.
func Source(routes []Route) roomscope.Source[Filter] {
	rules := make([]roomscope.Rule[Filter], 0, len(routes))
	for _, r := range routes {
		rules = append(rules, roomscope.Rule[Filter]{Rooms: r.Rooms, Targets: []string{Target}, Filter: r.Filter})
	}
	return roomscope.Source[Filter]{Kind: Kind, Config: rules}
}

// roomsFor are the rooms a group goes to (by its common labels), each
// once, in the routes' order; a room that muted the alerts gets none.
func roomsFor(s *Scope, g Group) []string {
	return s.RoomsFor(Target, func(f Filter) bool { return f.takes(g.CommonLabels) })
}

// receives reports whether a group posted to rooms went to room: the
// scope's name for it, as roomsFor gave it.
func receives(s *Scope, rooms []string, room id.RoomID) bool {
	return slices.Contains(rooms, s.NameOf(room))
}
