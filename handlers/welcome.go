package handlers

import (
	"strings"

	"github.com/osbuild/ibbot/bot"
)

// Welcome writes the greeting for people who just joined: short, pointing
// at !contribute and !help. Names are display names in plain text: no pill,
// so nobody is pinged.
func Welcome(project string) func(names []string, prefix string) bot.Reply {
	return func(names []string, prefix string) bot.Reply {
		return new(bot.Msg).Textf("Welcome, %s! This is the %s community room. ", joinNames(names), project).
			Code(prefix + "contribute").Text(" shows how to get started, ").
			Code(prefix + "help").Text(" what else I can do.").Reply()
	}
}

// joinNames: "A", "A and B", "A, B and C".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return "everyone"
	case 1:
		return names[0]
	default:
		return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
}
