package mail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/emersion/go-message/mail"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/store"
)

// ReplyStore is what replying from chat reads and keeps.
type ReplyStore interface {
	MailThread(ctx context.Context, messageID string) (store.MailRow, bool, error)
	KeysOfEvent(ctx context.Context, eventID string) ([]string, error)
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// Letters queues mail to send.
type Letters interface {
	From() string
	Queue(ctx context.Context, l Letter, rooms []string) error
}

// Replier answers list threads from chat: !ml reply in a relayed mail's
// thread sends a reply to the list as the person (their linked address in
// Reply-To, their Matrix id in the signature and a header), quoting the
// mail replied to. People link an address first (!ml link, a code mailed
// to it, !ml verify).
type Replier struct {
	Store   ReplyStore
	Letters Letters
	Lists   *Lists
	Config  config.ChatReplies
	Now     func() time.Time
}

// linkCodeLife is how long a code mailed by !ml link is good for.
const linkCodeLife = time.Hour

// link is an address a person linked, or asked to.
type link struct {
	Name     string    `json:"name"`
	Address  string    `json:"address"`
	CodeHash string    `json:"code_hash,omitempty"`
	Expires  time.Time `json:"expires,omitzero"`
}

func linkKey(user id.UserID) string    { return "mail.replies.link." + user.String() }
func pendingKey(user id.UserID) string { return "mail.replies.pending." + user.String() }
func sentKey(user id.UserID) string    { return "mail.replies.sent." + user.String() }

// Reply is !ml reply TEXT.
func (r *Replier) Reply(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if refusal := r.allowed(req); refusal != "" {
		return bot.TextReply("%s", refusal), nil
	}
	me, ok, err := r.linked(ctx, req.Sender)
	if err != nil || !ok {
		return bot.TextReply("Link your address first, so the list's members can answer you: %sml link you@example.org (a code comes by mail).", req.Prefix), err
	}
	text := replyText(req.Body)
	if text == "" {
		return bot.TextReply("usage, in the thread of a relayed mail: %sml reply TEXT (several lines are fine)", req.Prefix), nil
	}
	if n := utf8.RuneCountInString(text); n > r.Config.MaxChars {
		return bot.TextReply("Not sent: the reply is %d characters long, %d more than the %d a reply from chat may have.", n, n-r.Config.MaxChars, r.Config.MaxChars), nil
	}
	if wait, err := r.overLimit(ctx, req.Sender); err != nil || wait > 0 {
		return bot.TextReply("Not sent: you have sent %d mails from chat in the last hour; try again %s.", r.Config.PerHour, say.In(r.Now(), r.Now().Add(wait))), err
	}
	mail, room, found, err := r.repliedTo(ctx, req)
	if err != nil || !found {
		return bot.TextReply("Say %sml reply in the thread of a relayed mail (or as a reply to one of its messages): that is the mail it answers.", req.Prefix), err
	}
	to := mail.ListPost
	if to == "" {
		to = r.Config.To
	}
	if to == "" {
		return bot.TextReply("Not sent: the mail replied to does not say where its list takes posts (no List-Post), and mail.chat_replies.to is not set."), nil
	}
	letter := r.letter(req, me, mail, to, room, text)
	if err := r.Letters.Queue(ctx, letter, []string{room}); err != nil {
		return bot.Reply{}, fmt.Errorf("queueing the reply: %w", err)
	}
	if err := r.count(ctx, req.Sender); err != nil {
		return bot.Reply{}, err
	}
	return bot.TextReply("✉ Sent to %s as %q, from %s via this room; the list's answers come to this thread.", to, letter.Subject, me.Address), nil
}

// allowed says why sender may not mail the list from chat ("" if they may).
func (r *Replier) allowed(req bot.Request) string {
	if !r.Config.Allows(req.Sender.String()) {
		return "Mailing the list from chat is for the people the operator allows (mail.chat_replies.allow); ask them, or answer by mail."
	}
	return ""
}

func (r *Replier) linked(ctx context.Context, user id.UserID) (link, bool, error) {
	var l link
	raw, ok, err := r.Store.Get(ctx, linkKey(user))
	if err != nil || !ok {
		return l, false, err
	}
	return l, json.Unmarshal([]byte(raw), &l) == nil && l.Address != "", nil
}

// replyText is what follows "reply" in the command, line breaks kept.
func replyText(body string) string {
	i := strings.Index(body, "reply")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(body[i+len("reply"):])
}

// repliedTo is the relayed mail the command answers: the message it
// replies to, else its thread's root; and the room's name as the relay
// knows it.
func (r *Replier) repliedTo(ctx context.Context, req bot.Request) (store.MailRow, string, bool, error) {
	room := req.RoomID.String()
	if r.Lists != nil {
		room = r.Lists.NameOf(req.RoomID)
	}
	for _, ev := range []id.EventID{req.InReplyTo, req.ThreadRoot} {
		if ev == "" {
			continue
		}
		keys, err := r.Store.KeysOfEvent(ctx, ev.String())
		if err != nil {
			return store.MailRow{}, "", false, err
		}
		for _, k := range keys {
			msgID, ok := mailOfKey(k, room, req.RoomID.String())
			if !ok {
				continue
			}
			row, found, err := r.Store.MailThread(ctx, msgID)
			if err != nil || found {
				return row, room, found, err
			}
		}
	}
	return store.MailRow{}, "", false, nil
}

// mailOfKey reads the Message-ID from the key the relay posted a mail's
// message under in this room (by either of its names).
func mailOfKey(key string, names ...string) (string, bool) {
	for _, prefix := range []string{"mail:root:", "mail:reply:"} {
		for _, name := range names {
			if msgID, ok := strings.CutPrefix(key, prefix+name+":"); ok && msgID != "" {
				return msgID, true
			}
		}
	}
	return "", false
}

// letter writes the reply: to the list, from the bot in the person's
// name, their address in Reply-To with the list's, the mail replied to
// quoted, the person's Matrix id signed and in a header.
func (r *Replier) letter(req bot.Request, me link, m store.MailRow, to, room, text string) Letter {
	via := roomLabel(room)
	from := r.Letters.From()
	if a, err := gomail.ParseAddress(from); err == nil {
		from = (&gomail.Address{Name: nameOr(me.Name, req.Sender.Localpart()) + " via " + via, Address: a.Address}).String()
	}
	subject := m.Subject
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	refs := []string{m.MessageID}
	if m.RootID != "" && m.RootID != m.MessageID {
		refs = []string{m.RootID, m.MessageID}
	}
	var body strings.Builder
	if m.Excerpt != "" {
		fmt.Fprintf(&body, "On %s, %s wrote:\n", m.SentAt.UTC().Format("Mon, 2 Jan 2006 15:04 MST"), m.Author)
		for _, line := range strings.Split(m.Excerpt, "\n") {
			body.WriteString(strings.TrimRight("> "+line, " ") + "\n")
		}
		body.WriteString("\n")
	}
	body.WriteString(text + "\n\n-- \n")
	fmt.Fprintf(&body, "%s (%s on Matrix), written in %s and sent by ibbot\n", nameOr(me.Name, req.Sender.Localpart()), req.Sender, via)
	return Letter{From: from, To: []string{to}, ReplyTo: []string{(&gomail.Address{Name: me.Name, Address: me.Address}).String(), to},
		Subject: subject, Body: body.String(), InReplyTo: m.MessageID, References: refs,
		MessageID: MessageIDFor("reply "+req.EventID.String(), r.Letters.From()),
		Headers:   map[string]string{"X-Ibbot-Matrix-Sender": req.Sender.String()}}
}

// roomLabel names a room in a sender line: its alias's name, or "Matrix".
func roomLabel(room string) string {
	if strings.HasPrefix(room, "#") {
		name, _, _ := strings.Cut(room, ":")
		return name
	}
	return "Matrix"
}

func nameOr(s, fallback string) string {
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return strings.TrimSpace(s)
}

// overLimit is how long until sender may send again (0: now).
func (r *Replier) overLimit(ctx context.Context, sender id.UserID) (time.Duration, error) {
	times, err := r.recent(ctx, sender)
	if err != nil || r.Config.PerHour <= 0 || len(times) < r.Config.PerHour {
		return 0, err
	}
	return times[len(times)-r.Config.PerHour].Add(time.Hour).Sub(r.Now()), nil
}

func (r *Replier) recent(ctx context.Context, sender id.UserID) ([]time.Time, error) {
	var times []time.Time
	raw, ok, err := r.Store.Get(ctx, sentKey(sender))
	if err != nil || !ok {
		return nil, err
	}
	_ = json.Unmarshal([]byte(raw), &times)
	cut := r.Now().Add(-time.Hour)
	kept := times[:0]
	for _, t := range times {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	return kept, nil
}

func (r *Replier) count(ctx context.Context, sender id.UserID) error {
	times, err := r.recent(ctx, sender)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(append(times, r.Now()))
	return r.Store.Put(ctx, sentKey(sender), string(b))
}

// Link is !ml link [NAME] ADDRESS: a code is mailed to the address.
func (r *Replier) Link(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if refusal := r.allowed(req); refusal != "" {
		return bot.TextReply("%s", refusal), nil
	}
	addr, err := gomail.ParseAddress(strings.TrimSpace(strings.Join(req.Args[1:], " ")))
	if err != nil || strings.Count(addr.Address, "@") != 1 {
		return bot.TextReply("usage: %sml link you@example.org (or %sml link Your Name <you@example.org>)", req.Prefix, req.Prefix), nil
	}
	if wait, err := r.overLimit(ctx, req.Sender); err != nil || wait > 0 {
		return bot.TextReply("Not now: you have sent %d mails from chat in the last hour; try again %s.", r.Config.PerHour, say.In(r.Now(), r.Now().Add(wait))), err
	}
	code, err := newCode()
	if err != nil {
		return bot.Reply{}, err
	}
	pending := link{Name: addr.Name, Address: strings.ToLower(addr.Address), CodeHash: hashCode(req.Sender, code), Expires: r.Now().Add(linkCodeLife)}
	b, _ := json.Marshal(pending)
	if err := r.Store.Put(ctx, pendingKey(req.Sender), string(b)); err != nil {
		return bot.Reply{}, err
	}
	letter := Letter{To: []string{addr.String()}, Subject: "Your ibbot code: " + code, MessageID: MessageIDFor("link "+req.EventID.String(), r.Letters.From()),
		Body: fmt.Sprintf("Someone, hopefully you, asked ibbot to link this address to the Matrix account %s, so that replies they send to "+
			"the mailing list from chat carry it in Reply-To.\n\nTo link it, say in Matrix:\n\n    %sml verify %s\n\nThe code works for an hour. "+
			"If you did not ask for this, ignore this mail: nothing is linked.\n", req.Sender, req.Prefix, code)}
	if err := r.Letters.Queue(ctx, letter, nil); err != nil {
		return bot.Reply{}, err
	}
	if err := r.count(ctx, req.Sender); err != nil {
		return bot.Reply{}, err
	}
	return bot.TextReply("I mailed a code to %s; say %sml verify CODE within an hour (a direct chat with me is fine).", masked(pending.Address), req.Prefix), nil
}

// Verify is !ml verify CODE.
func (r *Replier) Verify(ctx context.Context, req bot.Request) (bot.Reply, error) {
	raw, ok, err := r.Store.Get(ctx, pendingKey(req.Sender))
	var p link
	if err != nil || !ok || json.Unmarshal([]byte(raw), &p) != nil || p.CodeHash == "" {
		return bot.TextReply("There is no code waiting for you; %sml link you@example.org mails one.", req.Prefix), err
	}
	if r.Now().After(p.Expires) {
		return bot.TextReply("That code has expired; %sml link mails a new one.", req.Prefix), nil
	}
	if len(req.Args) < 2 || subtle.ConstantTimeCompare([]byte(hashCode(req.Sender, req.Args[1])), []byte(p.CodeHash)) != 1 {
		return bot.TextReply("That is not the code I mailed to %s.", masked(p.Address)), nil
	}
	b, _ := json.Marshal(link{Name: p.Name, Address: p.Address})
	if err := r.Store.Put(ctx, linkKey(req.Sender), string(b)); err != nil {
		return bot.Reply{}, err
	}
	if err := r.Store.Put(ctx, pendingKey(req.Sender), "{}"); err != nil {
		return bot.Reply{}, err
	}
	return bot.TextReply("✓ Linked %s to %s: your replies from chat carry it in Reply-To.", p.Address, req.Sender), nil
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// hashCode keeps a code only as a hash, bound to its person.
func hashCode(user id.UserID, code string) string {
	sum := sha256.Sum256([]byte(user.String() + "\x00" + strings.TrimSpace(code)))
	return hex.EncodeToString(sum[:])
}

// masked shows an address without giving it away in a room: a***@example.org.
func masked(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "your address"
	}
	return local[:1] + "***@" + domain
}
