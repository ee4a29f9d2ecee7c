package github

import (
	"strings"
	"unicode/utf8"

	"github.com/osbuild/ibbot/bot"
)

// RenderLink is the preview an issue link in chat gets.
func RenderLink(it Item) bot.Reply {
	state := it.State
	if s := stateText(it); s != "" {
		state = s
	}
	kind := "issue"
	if it.Kind == KindPull {
		kind = "pull request"
	}
	return new(bot.Msg).Bold(it.Ref()).Text(" ").Link(it.Title, it.URL).
		Textf(" · %s by %s · %s", kind, it.Author, state).Reply()
}

// excerpt keeps the first n characters of text on one line.
func excerpt(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return strings.TrimSpace(string(r[:n])) + "…"
}
