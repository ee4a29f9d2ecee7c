package skeleton

import (
	"slices"
	"strings"

	"github.com/osbuild/ibbot/internal/roomscope"
)

// Kind names the source's rows in the store (rooms' subscriptions under
// Kind, their mutes under Kind+"-mute"). Never change it once deployed.
const Kind = "skeleton"

// Filter is what a rule or a room's subscription takes of a target. It is
// kept as JSON in the store: add fields, never rename them. A source with
// no choices uses struct{}.
type Filter struct {
	Words []string `json:"words,omitempty"` // only items whose title has one of these; none: all
}

// takes reports whether the filter lets an item through.
func (f Filter) takes(it Item) bool {
	title := strings.ToLower(it.Title)
	return len(f.Words) == 0 || slices.ContainsFunc(f.Words, func(w string) bool { return strings.Contains(title, strings.ToLower(w)) })
}

// Scope is the source's routing, made by roomscope.Add(ctx, registry,
// Source(rules)).
type Scope = roomscope.Scope[Filter]

// Source declares the source with the operator's rules (from its config
// section).
func Source(rules []roomscope.Rule[Filter]) roomscope.Source[Filter] {
	return roomscope.Source[Filter]{Kind: Kind, Config: rules}
}

// roomsFor are the rooms an item goes to: every room whose rule or own
// subscription matches its target and whose filter takes it, once each.
func roomsFor(s *Scope, it Item) []string {
	return s.RoomsFor(it.Target, func(f Filter) bool { return f.takes(it) })
}
