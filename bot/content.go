package bot

import (
	"encoding/json"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// noticeContent turns a Reply into the m.notice the bot posts: plain and
// HTML bodies, no intentional mentions at all, and, when it answers a
// message, a reply relation inside the same thread.
func noticeContent(r Reply, inReplyTo, threadRoot id.EventID) *event.MessageEventContent {
	r = fit(r)
	c := &event.MessageEventContent{
		MsgType:  event.MsgNotice,
		Body:     r.Plain,
		Mentions: &event.Mentions{},
	}
	if r.HTML != "" {
		c.Format = event.FormatHTML
		c.FormattedBody = r.HTML
	}
	switch {
	case threadRoot != "":
		c.RelatesTo = &event.RelatesTo{
			Type:      event.RelThread,
			EventID:   threadRoot,
			InReplyTo: &event.InReplyTo{EventID: inReplyTo},
		}
	case inReplyTo != "":
		c.RelatesTo = &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: inReplyTo}}
	}
	return c
}

// maxContentBytes keeps a notice's content, as JSON, well under Matrix's
// 65,536-byte limit on a whole event (which also holds the sender, the
// room, hashes, signatures and the relation).
const maxContentBytes = 48 << 10

// cutNote ends a reply cut to fit.
const cutNote = "\n\n(Cut here: the whole answer is too long for one Matrix message.)"

// fit returns r if it fits in one event; else its plain text alone (a cut
// HTML body could leave a table or a list open), cut at a line boundary
// and saying so.
func fit(r Reply) Reply {
	if contentSize(r) <= maxContentBytes {
		return r
	}
	plain, budget := r.Plain, maxContentBytes-len(cutNote)
	for {
		plain = cutAtLine(plain, budget)
		out := Reply{Plain: plain + cutNote, Image: r.Image}
		if contentSize(out) <= maxContentBytes {
			return out
		}
		budget /= 2 // JSON escapes made it longer than its bytes
	}
}

func contentSize(r Reply) int {
	b, _ := json.Marshal(struct{ P, H string }{r.Plain, r.HTML})
	return len(b)
}

// cutAtLine cuts s to at most n bytes, at the last line break before n if
// there is one in its second half, else at a character boundary.
func cutAtLine(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = strings.ToValidUTF8(s[:n], "")
	if i := strings.LastIndexByte(s, '\n'); i > n/2 {
		return s[:i]
	}
	return s
}
