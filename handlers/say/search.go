package say

import (
	"strings"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/search"
)

// Asked is a search as a command asked it, for its answer.
type Asked struct {
	Text    string // the words asked
	Where   string // what was searched: "the documentation"
	Again   string // the command to ask again with, prefix included: "!docs"
	Labels  bool   // name each answer's kind (several kinds were searched)
	Closest func(word string) string
}

// maxContext bounds an answer's line of context, in characters.
const maxContext = 220

// SearchAnswer is a search's answer: each hit its title (and section)
// linked, with kind and date for mail and issues, and a line around the
// words found, those in bold. With no hit, it says so, names the words
// nothing has and the closest known ones, and how to ask again.
func SearchAnswer(res search.Result, a Asked) bot.Reply {
	if len(res.Hits) == 0 {
		return noHit(res, a)
	}
	m := new(bot.Msg)
	for i, h := range res.Hits {
		if i > 0 {
			m.Line()
		}
		hitLine(m, h, a.Labels)
		if len(h.Context) > 0 {
			m.Line().Text("    ")
			contextLine(m, h.Context)
		}
	}
	return m.Reply()
}

func hitLine(m *bot.Msg, h search.Hit, labels bool) {
	d := h.Doc
	if labels || d.Kind != search.Docs {
		m.Text(kindName(d) + " · ")
	}
	title := d.Title
	if d.Heading != "" {
		title += " › " + d.Heading
	}
	m.Link(title, d.URL)
	if !d.Date.IsZero() {
		m.Text(" · " + Day(d.Date))
	}
}

func kindName(d search.Doc) string {
	switch d.Kind {
	case search.Mail:
		return "list"
	case search.Issue:
		if strings.Contains(d.Extra, "pull request") {
			return "pull request " + d.Scope
		}
		return "issue " + d.Scope
	}
	return "docs"
}

// contextLine writes a hit's line, the words found in bold, cut to fit.
func contextLine(m *bot.Msg, segs []search.Segment) {
	left := maxContext
	for _, s := range segs {
		text := s.Text
		if len(text) > left {
			text = cut(text, left) + "…"
		}
		if s.Match {
			m.Bold(text)
		} else {
			m.Text(text)
		}
		left -= len(text)
		if left <= 0 {
			return
		}
	}
}

// cut shortens s to at most n bytes, at a word's end when it can.
func cut(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n-- // not inside a character
	}
	if i := strings.LastIndexByte(s[:n], ' '); i > n/2 {
		return s[:i]
	}
	return s[:n]
}

func noHit(res search.Result, a Asked) bot.Reply {
	m := new(bot.Msg).Textf("Nothing in %s matches %s.", a.Where, Quote(a.Text))
	var meant []string
	for _, w := range res.Unknown {
		if a.Closest != nil {
			if c := a.Closest(w); c != "" && !strings.EqualFold(c, w) {
				meant = append(meant, c)
				m.Text(" Did you mean ").Bold(c).Textf(" for %s?", Quote(w))
			}
		}
	}
	if words := strings.Fields(a.Text); len(meant) == 0 && len(words) > 1 {
		m.Text(" Try fewer words, like ").Code(a.Again + " " + longest(words)).Text(".")
	}
	return m.Reply()
}

// Quote puts s in typographic quotes.
func Quote(s string) string { return "“" + s + "”" }

// longest is the longest of words: in a question, usually the one that
// says what it is about.
func longest(words []string) string {
	best := ""
	for _, w := range words {
		w = strings.Trim(w, ".,;:!?\"'()")
		if len(w) > len(best) {
			best = w
		}
	}
	return best
}
