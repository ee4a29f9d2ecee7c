package incidents

import (
	"slices"

	"github.com/osbuild/ibbot/internal/roomscope"
)

// Kind names the incidents' rows in the store (rooms' mutes under
// Kind+"-mute"). Never change it once deployed.
const Kind = "incidents"

// Target is what rooms follow here: the status page the config names.
// Rooms are given it by the config (incidents.rooms); a room admin may
// mute it.
const Target = "statuspage"

// Scope is the incidents' routing, made by roomscope.Add(ctx, registry,
// Source(rooms)). The components followed are the config's, for every
// room alike, so a rule carries no filter.
type Scope = roomscope.Scope[struct{}]

// Source declares the incidents with the rooms the config names.
func Source(rooms []string) roomscope.Source[struct{}] {
	return roomscope.Source[struct{}]{Kind: Kind, Config: []roomscope.Rule[struct{}]{{Rooms: rooms, Targets: []string{Target}}}}
}

// Rooms are where an incident is told now: the config's rooms that did
// not mute the page, each once.
func Rooms(s *Scope) func() []string {
	return func() []string { return s.RoomsFor(Target, nil) }
}

// Touches reports whether an incident concerns one of the components
// named (none named: all). An incident naming no component at all
// concerns the whole page, so every follower hears of it.
func (in Incident) Touches(names []string) bool {
	if len(names) == 0 || len(in.Components) == 0 {
		return true
	}
	for _, c := range in.Components {
		if slices.Contains(names, c.Name) {
			return true
		}
	}
	return false
}

// followed are the components named (none named: all of them, but not
// the groups that only hold others).
func followed(all []Component, names []string) []Component {
	var out []Component
	for _, c := range all {
		if (len(names) == 0 && !c.Group) || slices.Contains(names, c.Name) {
			out = append(out, c)
		}
	}
	return out
}
