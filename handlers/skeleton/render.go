package skeleton

import "github.com/osbuild/ibbot/bot"

// Render is an item's announcement. bot.Msg escapes the outside's text and
// defuses mentions in it.
func Render(it Item) bot.Reply {
	return new(bot.Msg).Bold(it.Target).Text(": ").Link(it.Title, it.URL).Reply()
}
