package incidents

import "slices"

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
