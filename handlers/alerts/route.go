package alerts

import (
	"slices"
	"strings"
)

// Route sends a group's alerts to rooms when its labels match: every
// label of Match equal (a value may be a list a|b), none of Exclude.
type Route struct {
	Rooms   []string
	Match   map[string]string
	Exclude map[string]string
}

func (r Route) takes(labels map[string]string) bool {
	for k, v := range r.Match {
		if !oneOf(labels[k], v) {
			return false
		}
	}
	for k, v := range r.Exclude {
		if oneOf(labels[k], v) {
			return false
		}
	}
	return true
}

func oneOf(value, choices string) bool { return slices.Contains(strings.Split(choices, "|"), value) }

// roomsFor are the rooms a group goes to (by its common labels), each
// once, in the routes' order.
func roomsFor(routes []Route, g Group) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range routes {
		if !r.takes(g.CommonLabels) {
			continue
		}
		for _, room := range r.Rooms {
			if !seen[room] {
				seen[room] = true
				out = append(out, room)
			}
		}
	}
	return out
}
