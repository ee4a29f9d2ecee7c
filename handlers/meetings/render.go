package meetings

import (
	"cmp"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/store"
)

// Permalink is a matrix.to link to an event of a room.
func Permalink(room, eventID string) string {
	link := "https://matrix.to/#/" + url.PathEscape(room) + "/" + url.PathEscape(eventID)
	if _, server, ok := strings.Cut(room, ":"); ok {
		link += "?via=" + url.QueryEscape(server)
	}
	return link
}

// when is a meeting's date and times: "Sat 5 Dec 2026, 15:00–15:42 UTC".
func when(m store.Meeting) string {
	start := m.StartedAt.UTC()
	s := start.Format("Mon 2 Jan 2006, 15:04")
	if m.EndedAt.IsZero() {
		return s + " UTC"
	}
	return s + "–" + m.EndedAt.UTC().Format("15:04") + " UTC"
}

// RenderMinutes is the minutes as the room gets them: the meeting, its
// chairs and people, each topic with its items, what was agreed, the
// action items per person, the links; every item linked to its line.
func RenderMinutes(min *Minutes, pages string) bot.Reply {
	m := new(bot.Msg).Text("📝 Minutes: ").Bold(min.Name).Text(" — " + when(min.Meeting))
	if min.Meeting.EndNote != "" {
		m.Line().Text(min.Meeting.EndNote)
	}
	m.Line().Text("Chairs: " + strings.Join(min.Chairs, ", "))
	m.Line().Text("People (lines said): ")
	for i, p := range min.People {
		if i > 0 {
			m.Text(", ")
		}
		m.Textf("%s (%d)", p.ID, p.Lines)
	}
	room := min.Meeting.RoomID
	for i, t := range min.Topics {
		m.Line().Line()
		switch {
		case t.Title == "":
			m.Bold("Before the first topic")
		default:
			m.Textf("%d. ", i+1).Link(t.Title, Permalink(room, t.EventID))
		}
		for _, it := range t.Items {
			m.Line().Text("   • ")
			renderItem(m, room, it)
		}
	}
	if len(min.Agreed) > 0 {
		m.Line().Line().Bold("Agreed")
		for _, it := range min.Agreed {
			m.Line().Text("• ").Link(it.Text, Permalink(room, it.EventID))
		}
	}
	if len(min.Actions) > 0 {
		m.Line().Line().Bold("Action items")
		for _, a := range min.Actions {
			m.Line().Text(cmp.Or(a.Who, "Unassigned"))
			for _, it := range a.Items {
				m.Line().Text("   • ").Link(it.Text, Permalink(room, it.EventID))
			}
		}
	}
	if len(min.Links) > 0 {
		m.Line().Line().Bold("Links")
		for _, it := range min.Links {
			m.Line().Text("• ").Link(cmp.Or(it.Text, it.URL), it.URL)
		}
	}
	if pages != "" {
		m.Line().Line().Text("The full log is attached; minutes and log online: ").Link(pages+Slug(min.Meeting)+"/", pages+Slug(min.Meeting)+"/")
	} else {
		m.Line().Line().Text("The full log is attached.")
	}
	return m.Reply()
}

func renderItem(m *bot.Msg, room string, it Item) {
	label := it.Kind
	switch it.Kind {
	case KindAgreed:
		label = "✅ agreed"
	case KindAction:
		if len(it.Who) > 0 {
			label = "action (" + strings.Join(it.Who, ", ") + ")"
		}
	}
	m.Link(label, Permalink(room, it.EventID)).Text(": ")
	if it.Kind == KindLink {
		m.Link(cmp.Or(it.Text, it.URL), it.URL)
		return
	}
	m.Text(it.Text)
}

// LogText is the meeting's full log as a text file: every line with its
// time (UTC) and sender, marked when said in a thread or edited.
func LogText(min *Minutes) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Log of %s, %s, in %s\n\n", min.Name, when(min.Meeting), min.Meeting.RoomID)
	for _, l := range min.Lines {
		fmt.Fprintf(&b, "[%s] <%s> %s", l.SaidAt.UTC().Format("15:04:05"), l.Sender, oneLine(l.Body))
		if l.Thread != "" {
			b.WriteString("  (in a thread)")
		}
		if l.Edited {
			b.WriteString("  (edited)")
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ") }

// LogFile is the log as the room's attachment.
func LogFile(min *Minutes) *bot.File {
	return &bot.File{Data: LogText(min), Name: fmt.Sprintf("meeting-%s.log.txt", Slug(min.Meeting)), MIME: "text/plain; charset=utf-8"}
}

// MinutesText is the minutes as plain text, for mail: MeetBot's layout.
func MinutesText(min *Minutes, pages string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Minutes of %s\n%s\n\n", min.Name, when(min.Meeting))
	if min.Meeting.EndNote != "" {
		fmt.Fprintf(&b, "%s\n\n", min.Meeting.EndNote)
	}
	fmt.Fprintf(&b, "Chairs: %s\n", strings.Join(min.Chairs, ", "))
	var people []string
	for _, p := range min.People {
		people = append(people, fmt.Sprintf("%s (%d)", p.ID, p.Lines))
	}
	fmt.Fprintf(&b, "People present (lines said): %s\n", strings.Join(people, ", "))
	for i, t := range min.Topics {
		fmt.Fprintf(&b, "\n%d. %s\n", i+1, cmp.Or(t.Title, "Before the first topic"))
		for _, it := range t.Items {
			text := it.Text
			if it.Kind == KindLink {
				text = strings.TrimSpace(it.URL + " " + it.Text)
			}
			if len(it.Who) > 0 {
				text += " (" + strings.Join(it.Who, ", ") + ")"
			}
			fmt.Fprintf(&b, "  * %s: %s\n", strings.ToUpper(it.Kind), text)
		}
	}
	if len(min.Actions) > 0 {
		b.WriteString("\nAction items, by person\n")
		for _, a := range min.Actions {
			fmt.Fprintf(&b, "  %s\n", cmp.Or(a.Who, "Unassigned"))
			for _, it := range a.Items {
				fmt.Fprintf(&b, "    * %s\n", it.Text)
			}
		}
	}
	if len(min.Links) > 0 {
		b.WriteString("\nLinks\n")
		for _, it := range min.Links {
			fmt.Fprintf(&b, "  * %s\n", strings.TrimSpace(it.URL+" "+it.Text))
		}
	}
	if pages != "" {
		fmt.Fprintf(&b, "\nMinutes and full log: %s%s/\n", pages, Slug(min.Meeting))
	}
	b.WriteString("\n-- \nibbot, the Image Builder community bot\n")
	return b.String()
}

// Slug names a meeting in addresses: its day and a short hash of its id.
func Slug(m store.Meeting) string {
	return m.StartedAt.UTC().Format("2006-01-02") + "-" + shortHash(m.ID)
}

// duration says how long, for the pages.
func duration(m store.Meeting) string {
	if m.EndedAt.IsZero() {
		return ""
	}
	return m.EndedAt.Sub(m.StartedAt).Round(time.Minute).String()
}
