package bot

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"
)

// Request is one command as a handler sees it: plain values, no client.
type Request struct {
	Command  string    // canonical name, without prefix
	Args     []string  // words after the command
	Body     string    // the message as typed, line breaks and all (for commands that take text)
	Prefix   string    // the room's command prefix, for rendering usage
	Sender   id.UserID //
	RoomID   id.RoomID //
	EventID  id.EventID
	Received time.Time // when the bot took the command from the sync
	Direct   bool      // asked in a direct chat with the bot
	// ThreadRoot is the thread the command was said in; InReplyTo the
	// message it replies to (not a thread's fallback). Either may be "".
	ThreadRoot id.EventID
	InReplyTo  id.EventID
}

// Handler answers one command. It must not send anything itself.
type Handler func(ctx context.Context, req Request) (Reply, error)

// Reply is a message body in both forms Matrix shows: plain text and HTML.
// Build it with Msg so that outside text is always escaped. An Image, when
// set, is posted after the text (uploaded once per distinct content).
type Reply struct {
	Plain string
	HTML  string
	Image *Image
	// File, when set, is posted after the text as an attachment (a
	// meeting's log).
	File *File
	// React, when set, answers a command with this reaction on it
	// instead of a message (Plain and HTML are then unused).
	React string
}

// File is a document to post with a message.
type File struct {
	Data []byte
	Name string // e.g. "meeting-2026-12-05.log.txt"
	MIME string // e.g. "text/plain; charset=utf-8"
}

// Image is a picture to post with a reply.
type Image struct {
	Data []byte
	Name string // file name, e.g. "architecture.png"
	// Description says what the image shows, in words: the event's body,
	// which clients show as its caption and screen readers read.
	Description   string
	MIME          string
	Width, Height int
}

// Msg builds a Reply piece by piece. Every string passed to it is outside
// text and is escaped for HTML and defused so it cannot ping a room.
type Msg struct {
	plain, html strings.Builder
}

// Text appends ordinary text.
func (m *Msg) Text(s string) *Msg {
	s = defuse(s)
	m.plain.WriteString(s)
	m.html.WriteString(html.EscapeString(s))
	return m
}

// Textf appends formatted ordinary text; the arguments are escaped too.
func (m *Msg) Textf(format string, args ...any) *Msg { return m.Text(fmt.Sprintf(format, args...)) }

// Code appends text shown as inline code.
func (m *Msg) Code(s string) *Msg {
	s = defuse(s)
	m.plain.WriteString("`" + s + "`")
	m.html.WriteString("<code>" + html.EscapeString(s) + "</code>")
	return m
}

// Bold appends emphasised text.
func (m *Msg) Bold(s string) *Msg {
	s = defuse(s)
	m.plain.WriteString(s)
	m.html.WriteString("<b>" + html.EscapeString(s) + "</b>")
	return m
}

// Link appends a link; the plain form shows the URL after the text.
func (m *Msg) Link(text, href string) *Msg {
	text = defuse(text)
	if !SafeLink(href) {
		// Not a link a reader should follow (javascript:, data:, ...):
		// shown as text, never as an anchor.
		return m.Text(text)
	}
	if text == href || text == "" {
		m.plain.WriteString(href)
	} else {
		m.plain.WriteString(text + " (" + href + ")")
	}
	m.html.WriteString(`<a href="` + html.EscapeString(href) + `">` + html.EscapeString(text) + "</a>")
	return m
}

// SafeLink reports whether url may be rendered as a link: http, https or
// mailto, nothing else.
func SafeLink(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return u.Opaque != ""
	}
	return false
}

// Line ends the current line.
func (m *Msg) Line() *Msg {
	m.plain.WriteString("\n")
	m.html.WriteString("<br>")
	return m
}

// Reply returns what was built, without a trailing line break.
func (m *Msg) Reply() Reply {
	return Reply{
		Plain: strings.TrimSuffix(m.plain.String(), "\n"),
		HTML:  strings.TrimSuffix(m.html.String(), "<br>"),
	}
}

// TextReply is a one-line Reply of plain text.
func TextReply(format string, args ...any) Reply {
	return new(Msg).Textf(format, args...).Reply()
}

// defuse breaks "@room" with a word joiner, so that clients which still
// highlight on the body (not on m.mentions) do not ping the whole room.
func defuse(s string) string {
	if !strings.Contains(strings.ToLower(s), "@room") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+5 <= len(s) && strings.EqualFold(s[i:i+5], "@room") {
			b.WriteString(s[i:i+1] + "\u2060" + s[i+1:i+5])
			i += 5
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// UserError is an error whose message is safe and useful to show in the
// room; the wrapped error is logged for the operator.
type UserError struct {
	Msg string
	Err error
}

func (e *UserError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *UserError) Unwrap() error { return e.Err }

// Errorf returns a UserError showing msg to the room and wrapping err.
func Errorf(err error, format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...), Err: err}
}

// Cell is one table cell: text, optionally a link or code.
type Cell struct {
	Text string
	URL  string
	Code bool
}

// Table appends a table: HTML <table> for clients that render it, and
// space-aligned columns in the plain body.
func (m *Msg) Table(header []string, rows [][]Cell) *Msg {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], len([]rune(defuse(c.Text))))
			}
		}
	}
	m.html.WriteString("<table><thead><tr>")
	for i, h := range header {
		m.html.WriteString("<th>" + html.EscapeString(defuse(h)) + "</th>")
		m.plain.WriteString(pad(defuse(h), widths[i], i == len(header)-1))
	}
	m.html.WriteString("</tr></thead><tbody>")
	m.plain.WriteString("\n")
	for _, r := range rows {
		m.html.WriteString("<tr>")
		for i, c := range r {
			text := defuse(c.Text)
			cell := html.EscapeString(text)
			if c.Code {
				cell = "<code>" + cell + "</code>"
			}
			if c.URL != "" {
				cell = `<a href="` + html.EscapeString(c.URL) + `">` + cell + "</a>"
			}
			m.html.WriteString("<td>" + cell + "</td>")
			m.plain.WriteString(pad(text, widths[min(i, len(widths)-1)], i == len(r)-1))
		}
		m.html.WriteString("</tr>")
		m.plain.WriteString("\n")
	}
	m.html.WriteString("</tbody></table>")
	return m
}

func pad(s string, width int, last bool) string {
	if last {
		return s
	}
	return s + strings.Repeat(" ", width-len([]rune(s))+2)
}

// Message is an ordinary room message (not a command), as a Listener sees it.
type Message struct {
	RoomID  id.RoomID
	EventID id.EventID
	Sender  id.UserID
	Body    string
}

// Listener reacts to ordinary messages, e.g. issue links. Match runs on the
// sync loop and must be cheap; Answer may block (it runs like a command).
type Listener interface {
	Match(msg Message) bool
	Answer(ctx context.Context, msg Message) (*Reply, error)
}
