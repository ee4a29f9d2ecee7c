package mail

import (
	"fmt"

	"github.com/osbuild/ibbot/bot"
)

// RenderThread announces a new mail thread: subject, author, the excerpt,
// attachments and the archive link. With replies > 0 it is the reply-count
// version of the same message.
func RenderThread(m *Mail, excerpt string, replies int) bot.Reply {
	msg := new(bot.Msg).Text("✉ ").Bold(m.Subject).Textf(" — %s", m.Author)
	if replies > 0 {
		msg.Textf(" · %s", plural(replies, "reply", "replies"))
	}
	if excerpt != "" {
		msg.Line().Text(excerpt)
	}
	if len(m.Attachments) > 0 {
		msg.Line().Text("Attachments: ")
		for i, a := range m.Attachments {
			if i > 0 {
				msg.Text(", ")
			}
			msg.Textf("%s (%s)", a.Name, size(a.Size))
		}
	}
	if m.ArchiveURL != "" {
		msg.Line().Link("Read in the archive", m.ArchiveURL)
	}
	return msg.Reply()
}

// RenderReply is a reply in the thread: who, and the start of what they said.
func RenderReply(m *Mail, excerpt int) bot.Reply {
	msg := new(bot.Msg).Bold(m.Author).Text(": ").Text(m.Excerpt(excerpt))
	if m.ArchiveURL != "" {
		msg.Text(" ").Link("(archive)", m.ArchiveURL)
	}
	return msg.Reply()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d kB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
