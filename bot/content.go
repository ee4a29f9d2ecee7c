package bot

import (
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// noticeContent turns a Reply into the m.notice the bot posts: plain and
// HTML bodies, no intentional mentions at all, and, when it answers a
// message, a reply relation inside the same thread.
func noticeContent(r Reply, inReplyTo, threadRoot id.EventID) *event.MessageEventContent {
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
