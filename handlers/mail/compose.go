package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// Letter is a mail ibbot writes: plain text, sent as format=flowed so
// every mail client wraps it to its window.
type Letter struct {
	From       string // "Name <address>"
	To         []string
	ReplyTo    []string // where answers go, besides the sender
	Subject    string
	Body       string
	MessageID  string // without angle brackets; MessageIDFor makes one
	InReplyTo  string
	References []string
	Date       time.Time
	Headers    map[string]string // more, such as X-Ibbot-Matrix-Sender
}

// MessageIDFor is a Message-ID of ibbot's own, the same for the same
// seed (so a retry queues the same mail, which the outbox keeps once),
// at the sender's domain.
func MessageIDFor(seed, from string) string {
	domain := "ibbot.invalid"
	if addr, err := gomail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(addr.Address, "@"); ok {
			domain = d
		}
	}
	sum := sha256.Sum256([]byte(seed))
	return "ibbot." + hex.EncodeToString(sum[:12]) + "@" + domain
}

// Compose writes the letter as RFC 5322 mail.
func Compose(l Letter) ([]byte, error) {
	from, err := gomail.ParseAddress(l.From)
	if err != nil {
		return nil, fmt.Errorf("the sender %q: %w", l.From, err)
	}
	to, err := addresses(l.To)
	if err != nil {
		return nil, err
	}
	replyTo, err := addresses(l.ReplyTo)
	if err != nil {
		return nil, err
	}
	var h gomail.Header
	h.SetDate(l.Date)
	h.SetAddressList("From", []*gomail.Address{from})
	h.SetAddressList("To", to)
	if len(replyTo) > 0 {
		h.SetAddressList("Reply-To", replyTo)
	}
	h.SetSubject(l.Subject)
	h.SetMessageID(l.MessageID)
	if l.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{l.InReplyTo})
	}
	if len(l.References) > 0 {
		h.SetMsgIDList("References", l.References)
	}
	for k, v := range l.Headers {
		h.SetText(k, v)
	}
	h.Set("MIME-Version", "1.0")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8", "format": "flowed"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	var buf bytes.Buffer
	w, err := gomail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, Flowed(l.Body, 72)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func addresses(list []string) ([]*gomail.Address, error) {
	var out []*gomail.Address
	for _, t := range list {
		a, err := gomail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("the address %q: %w", t, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// Flowed writes text as format=flowed (RFC 3676): each long paragraph
// line broken at spaces into lines of at most width characters, every
// line but a paragraph's last ending in a space (a soft break the reader
// joins again); lines that begin with a space, ">" or "From " stuffed
// with a space; quoted lines ("> …") left as they are; CRLF line ends.
func Flowed(text string, width int) string {
	var out strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if line != "-- " { // the signature's separator keeps its space
			line = strings.TrimRight(line, " ")
		}
		if strings.HasPrefix(line, ">") || line == "-- " {
			out.WriteString(line + "\r\n")
			continue
		}
		for _, part := range wrap(line, width) {
			if strings.HasPrefix(part, " ") || strings.HasPrefix(part, "From ") {
				part = " " + part
			}
			out.WriteString(part + "\r\n")
		}
	}
	return out.String()
}

// wrap breaks a line at spaces into parts of at most width runes, each
// but the last keeping its trailing space; a word longer than width
// stays whole.
func wrap(line string, width int) []string {
	var parts []string
	for len([]rune(line)) > width {
		r := []rune(line)
		cut := strings.LastIndex(string(r[:width]), " ")
		if cut <= 0 {
			next := strings.Index(line, " ")
			if next < 0 {
				break
			}
			cut = next
		}
		parts = append(parts, line[:cut+1])
		line = line[cut+1:]
	}
	return append(parts, line)
}
