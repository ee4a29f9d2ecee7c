package mail

import (
	"bytes"
	"crypto/sha1"
	"encoding/base32"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset" // registers every charset go-message knows
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"
)

// Kind tells a post from what a list manager sends.
type Kind string

const (
	Post   Kind = "post"
	Notice Kind = "notice" // list-manager notices (post denied, subscribe ...)
	Bounce Kind = "bounce"
	Digest Kind = "digest"
)

// Mail is one list mail, ready to show.
type Mail struct {
	MessageID   string   // without <>
	Parent      string   // best parent id (References' last, else In-Reply-To), or ""
	Ancestors   []string // References, oldest first, junk removed
	Subject     string   // decoded, list prefixes and Re: removed
	RawSubject  string   // decoded, as sent
	Author      string   // the real author's name (or address)
	AuthorAddr  string
	Date        time.Time
	ListIDs     []string // lower case, without <>
	ArchiveURL  string
	ListPost    string // the address the list takes posts at (List-Post: <mailto:…>); "" none
	Body        string // decoded, footer, trailing quotes and signature removed
	Attachments []Attachment
	Kind        Kind
}

// Attachment is a file sent with a mail.
type Attachment struct {
	Name string
	Type string
	Size int
}

// Limits bound what one mail may cost.
type Limits struct {
	MaxMailBytes int // larger mails are parsed from their first MaxMailBytes; 0: no cap
	MaxBodyChars int // the kept body
}

// DefaultLimits suit list traffic.
var DefaultLimits = Limits{MaxMailBytes: 10 << 20, MaxBodyChars: 20000}

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// Parse reads a raw mail. It fails only when there is no mail at all to
// read; damaged parts are skipped or read as well as possible.
func Parse(raw []byte, lim Limits) (*Mail, error) {
	if lim.MaxMailBytes > 0 && len(raw) > lim.MaxMailBytes { // 0: no cap, as in the watcher
		raw = raw[:lim.MaxMailBytes]
	}
	raw = stripMboxFrom(raw)
	ent, err := message.Read(bytes.NewReader(raw))
	if ent == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
		return nil, fmt.Errorf("not a mail: %v", err)
	}
	h := gomail.Header{Header: ent.Header}
	m := &Mail{Kind: Post}
	m.MessageID = cleanID(h.Get("Message-Id"))
	if m.MessageID == "" {
		// Deduplication needs an id: derive a stable one from the mail.
		sum := sha1.Sum(raw)
		m.MessageID = "ibbot-" + strings.ToLower(base32.StdEncoding.EncodeToString(sum[:])[:24]) + "@no-message-id"
	}
	m.RawSubject = decodeHeader(h.Get("Subject"))
	m.ListIDs = listIDs(h)
	m.Subject = topic(m.RawSubject, m.ListIDs)
	m.Ancestors = msgIDs(h.Get("References"))
	m.Parent = parentOf(m.Ancestors, msgIDs(h.Get("In-Reply-To")))
	m.Author, m.AuthorAddr = author(h)
	m.Date, _ = h.Date()
	m.ArchiveURL = archiveURL(h, m.MessageID)
	m.ListPost = postingAddress(h.Get("List-Post"))
	body, atts, digest := readBody(ent)
	m.Kind = classify(h, ent, m.AuthorAddr, digest)
	m.Attachments = atts
	m.Body = truncate(cleanBody(body), lim.MaxBodyChars)
	return m, nil
}

func stripMboxFrom(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

func decodeHeader(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\u00a0", " ")), " ")
}

var idPattern = regexp.MustCompile(`<([^<>\s@]+@[^<>\s]+)>`)

// msgIDs returns the well-formed ids in a header; junk like <yes> or a
// truncated <abc@example is dropped.
func msgIDs(v string) []string {
	var out []string
	for _, m := range idPattern.FindAllStringSubmatch(v, -1) {
		out = append(out, m[1])
	}
	return out
}

func cleanID(v string) string {
	if ids := msgIDs(v); len(ids) > 0 {
		return ids[0]
	}
	v = strings.Trim(strings.TrimSpace(v), "<>")
	if v == "" || strings.ContainsAny(v, " <>") {
		return ""
	}
	return v
}

// parentOf prefers the last References id (the direct parent), then
// In-Reply-To.
func parentOf(refs, inReplyTo []string) string {
	if len(refs) > 0 {
		return refs[len(refs)-1]
	}
	if len(inReplyTo) > 0 {
		return inReplyTo[0]
	}
	return ""
}

func listIDs(h gomail.Header) []string {
	var out []string
	for _, v := range h.Values("List-Id") {
		if m := regexp.MustCompile(`<([^>]+)>`).FindStringSubmatch(v); m != nil {
			out = append(out, strings.ToLower(strings.TrimSpace(m[1])))
		} else if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

var replyPrefix = regexp.MustCompile(`(?i)^(re|fwd?|aw|sv|antw)(\[\d+\])?\s*:\s*`)

// topic strips list tags ([dm-devel], from the List-Id) and reply prefixes
// in any order (Mailman 2 writes "Re: [list]", Mailman 3 "[list] Re:").
// Other bracket tags ([PATCH v2]) stay.
func topic(subject string, lists []string) string {
	tags := map[string]bool{}
	for _, l := range lists {
		name, _, _ := strings.Cut(l, ".")
		tags["["+name+"]"] = true
	}
	s := strings.TrimSpace(subject)
	for {
		before := s
		s = strings.TrimSpace(replyPrefix.ReplaceAllString(s, ""))
		if strings.HasPrefix(s, "[") {
			if end := strings.IndexByte(s, ']'); end > 0 && tags[strings.ToLower(s[:end+1])] {
				s = strings.TrimSpace(s[end+1:])
			}
		}
		if s == before {
			return s
		}
	}
}

// author shows the real author when the list or a relay rewrote From
// (DMARC: "Name via list <list@…>"): X-Original-From, then Reply-To.
func author(h gomail.Header) (string, string) {
	from := parseAddress(h.Get("From"))
	munged := from != nil && (strings.Contains(strings.ToLower(from.Name), " via ") ||
		strings.Contains(strings.ToLower(from.Address), "bounces") || strings.HasSuffix(strings.ToLower(from.Name), " via"))
	if from == nil || munged {
		for _, k := range []string{"X-Original-From", "Reply-To"} {
			if a := parseAddress(h.Get(k)); a != nil {
				return displayName(a), a.Address
			}
		}
	}
	if from == nil {
		return "unknown sender", ""
	}
	return displayName(from), from.Address
}

func parseAddress(v string) *mail.Address {
	if v == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if a, err := p.Parse(v); err == nil {
		return a
	}
	if as, err := p.ParseList(v); err == nil && len(as) > 0 {
		return as[0]
	}
	// Pipermail obfuscation ("x at example.com") and other damage.
	v = decodeHeader(v)
	return &mail.Address{Name: strings.Trim(v, `" `), Address: ""}
}

func displayName(a *mail.Address) string {
	name := decodeHeader(a.Name)
	if i := strings.Index(strings.ToLower(name), " via "); i > 0 {
		name = name[:i]
	}
	if name == "" {
		return a.Address
	}
	return name
}

// archiveURL: Archived-At, else the Mailman 3 (HyperKitty) link built from
// postingAddress reads RFC 2369's List-Post: the first mailto address of
// "<mailto:list@example.org>"; "NO" (posting not allowed) is none.
func postingAddress(v string) string {
	for _, part := range strings.Split(v, ",") {
		part = strings.Trim(strings.TrimSpace(part), "<>")
		addr, ok := strings.CutPrefix(strings.ToLower(part), "mailto:")
		if !ok {
			continue
		}
		addr, _, _ = strings.Cut(addr, "?")
		if strings.Count(addr, "@") == 1 && !strings.ContainsAny(addr, " <>\"") {
			return addr
		}
	}
	return ""
}

// List-Archive and the Message-ID hash. Mailman 2 gives none.
// Only http(s) links are kept: the headers are the sender's to write.
func archiveURL(h gomail.Header, msgID string) string {
	base := strings.Trim(strings.TrimSpace(h.Get("List-Archive")), "<>")
	if b, err := url.Parse(base); err != nil || (b.Scheme != "http" && b.Scheme != "https") {
		base = ""
	}
	if at := strings.Trim(strings.TrimSpace(h.Get("Archived-At")), "<>"); at != "" {
		u, err := url.Parse(at)
		switch {
		case err != nil:
			return ""
		case u.IsAbs():
			if u.Scheme != "http" && u.Scheme != "https" {
				return "" // javascript:, data:, file: ...
			}
			return at
		case base != "":
			b, _ := url.Parse(base)
			return b.ResolveReference(&url.URL{Path: at}).String()
		}
		return "" // relative, with nothing to resolve it against
	}
	if strings.Contains(base, "/hyperkitty/") || strings.Contains(base, "/archives/list/") {
		return strings.TrimSuffix(base, "/") + "/message/" + MessageHash(msgID) + "/"
	}
	return ""
}

// MessageHash is HyperKitty's id for a message: base32(sha1(Message-ID)).
func MessageHash(msgID string) string {
	sum := sha1.Sum([]byte(msgID))
	return base32.StdEncoding.EncodeToString(sum[:])
}

var (
	managerAddr = regexp.MustCompile(`(?i)^(owner-|[^@]*[-+](owner|request|bounces?|admin|help|confirm)@)`)
	digestTitle = regexp.MustCompile(`(?i)digest,? vol`)
)

// classify tells posts from what list software sends: bounces, notices
// (post denied, subscriptions) and digests, which are not relayed.
func classify(h gomail.Header, ent *message.Entity, fromAddr string, hasDigest bool) Kind {
	ct, _, _ := ent.Header.ContentType()
	from := strings.ToLower(fromAddr)
	switch {
	case ct == "multipart/report" || strings.HasPrefix(from, "mailer-daemon@") || strings.HasPrefix(from, "postmaster@"):
		return Bounce
	case hasDigest || digestTitle.MatchString(h.Get("Subject")):
		return Digest
	case managerAddr.MatchString(from) || strings.Contains(strings.ToLower(h.Get("Message-Id")), "-mlmmj-"):
		return Notice
	}
	return Post
}

// readBody picks the text to show: the first text/plain part, else the
// first HTML part as text. Later text parts that are list footers are
// dropped; attachments are listed.
func readBody(ent *message.Entity) (text string, atts []Attachment, digest bool) {
	var plain, html string
	var havePlain, haveHTML bool
	ent.Walk(func(path []int, e *message.Entity, err error) error {
		ct, params, _ := e.Header.ContentType()
		if ct == "multipart/digest" {
			digest = true
		}
		if strings.HasPrefix(ct, "multipart/") || ct == "message/rfc822" && e.MultipartReader() != nil {
			return nil
		}
		disp, dparams, _ := e.Header.ContentDisposition()
		name := decodeHeader(dparams["filename"])
		if name == "" {
			name = decodeHeader(params["name"])
		}
		body, _ := io.ReadAll(io.LimitReader(e.Body, 5<<20))
		if message.IsUnknownCharset(err) {
			body = fallbackCharset(body)
		}
		switch {
		case disp != "attachment" && ct == "text/plain" && isFooterPart(string(body)):
		case disp != "attachment" && ct == "text/plain" && !havePlain && name == "":
			plain, havePlain = unflow(string(body), params), true
		case disp != "attachment" && ct == "text/html" && !haveHTML:
			html, haveHTML = string(body), true
		case disp != "attachment" && ct == "text/html":
		case ct == "application/pgp-signature":
		default:
			if name == "" {
				name = "(unnamed " + ct + ")"
			}
			atts = append(atts, Attachment{Name: name, Type: ct, Size: len(body)})
		}
		return nil
	})
	if havePlain && strings.TrimSpace(plain) != "" {
		return plain, atts, digest
	}
	if haveHTML {
		return htmlToText(html), atts, digest
	}
	return plain, atts, digest
}

// fallbackCharset reads a part whose charset is bogus ("y"): UTF-8 when
// the bytes are valid UTF-8, else windows-1252.
func fallbackCharset(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}

// unflow joins format=flowed soft line breaks (go-message leaves them).
func unflow(s string, params map[string]string) string {
	if !strings.EqualFold(params["format"], "flowed") {
		return s
	}
	delsp := strings.EqualFold(params["delsp"], "yes")
	var b strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(line, " ") {
			line = line[1:] // space-stuffing
		}
		if strings.HasSuffix(line, " ") && line != "-- " {
			if delsp {
				line = line[:len(line)-1]
			}
			b.WriteString(line)
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}
