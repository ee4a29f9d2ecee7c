package mail

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/store"
)

// Store is what the relay keeps: the mails it handled.
type Store interface {
	MailRoot(ctx context.Context, messageID string) (string, bool, error)
	MailThread(ctx context.Context, rootID string) (store.MailRow, bool, error)
	AddMail(ctx context.Context, r store.MailRow) (int, error)
	MailThreads(ctx context.Context, query string, lists []string, limit int) ([]store.MailRow, error)
	// SentMail is a mail ibbot sent itself, by Message-ID.
	SentMail(ctx context.Context, messageID string) (store.OutgoingMail, bool, error)
}

// Poster sends the relay's messages, idempotent by key.
type Poster interface {
	Post(ctx context.Context, key, room string, r bot.Reply) error
	PostRoot(ctx context.Context, key, room string, r bot.Reply) error
	Edit(ctx context.Context, key, room, targetKey string, r bot.Reply) error
	PostInThread(ctx context.Context, key, room, rootKey string, r bot.Reply) error
}

// Relay posts list mail: a new thread as one notice, replies in its
// Matrix thread (or as a reply count on it). Every message is keyed by
// Message-ID, so a mail delivered twice, cross-posted, or replayed after a
// crash is posted once.
type Relay struct {
	Store   Store
	Poster  Poster
	Config  config.Mail
	Log     zerolog.Logger
	Metrics *Metrics // nil counts nothing
	// Lists decide which lists go to which rooms.
	Lists *Lists
	// Search, when set, keeps each thread's text for !search and
	// !ml search; Wrote (may be nil) is told after each write.
	Search SearchDocs
	Wrote  func()
}

// SearchDocs is where the relay gives the search its threads.
type SearchDocs interface {
	SearchDoc(ctx context.Context, id string) (store.SearchDoc, bool, error)
	PutSearchDocs(ctx context.Context, docs ...store.SearchDoc) error
}

// Handle parses and relays one raw mail. Mail that is not for the relay
// (another list, a list-manager notice, a bounce, a digest, spam) is
// logged and skipped; only a failure to store or post is an error.
func (r *Relay) Handle(ctx context.Context, raw []byte) error {
	parsing := time.Now()
	m, err := Parse(raw, Limits{MaxMailBytes: r.Config.MaxMailBytes, MaxBodyChars: 20000})
	r.Metrics.stage(stageParsed, parsing)
	if err != nil {
		r.Log.Warn().Err(err).Msg("Skipping a mail that cannot be read")
		r.Metrics.mail(outcomeUnreadable)
		return nil
	}
	log := r.Log.With().Str("message_id", m.MessageID).Logger()
	if outcome, why := r.skipReason(m, raw); outcome != "" {
		log.Info().Str("reason", why).Msg("Not relaying a mail")
		r.Metrics.mail(outcome)
		return nil
	}
	if _, seen, err := r.Store.MailRoot(ctx, m.MessageID); err != nil || seen {
		if seen {
			log.Debug().Msg("Mail already relayed (duplicate delivery or cross-post)")
			r.Metrics.mail(outcomeDuplicate)
		}
		return err
	}
	if m.ArchiveURL == "" && r.Config.ArchiveURL != "" {
		m.ArchiveURL = strings.NewReplacer("{msgid}", m.MessageID, "{hash}", MessageHash(m.MessageID)).Replace(r.Config.ArchiveURL)
	}
	own, isOwn, err := r.Store.SentMail(ctx, m.MessageID)
	if err != nil {
		return err
	}
	if isOwn {
		// The list's copy of a mail ibbot sent: the rooms that saw what it
		// says (a meeting's minutes) hold it already, under the same key,
		// so replies to it on the list go into that message's thread.
		log.Info().Strs("rooms_told", own.Rooms).Msg("The list echoed a mail ibbot sent; not announcing it where it was said")
	}
	return r.relay(ctx, m, own.Rooms)
}

// relay posts a new mail as a thread or into its thread, then records it.
// Post first, record after: a crash or a failed post in between leaves the
// mail unrecorded, so the retry posts it again under the same keys (which
// the outbox deduplicates) instead of taking it for a duplicate.
func (r *Relay) relay(ctx context.Context, m *Mail, told []string) error {
	root, err := r.threadRoot(ctx, m)
	if err != nil {
		return err
	}
	outcome, queueing := outcomeThread, time.Now()
	if len(told) > 0 {
		outcome = outcomeOwn
	}
	if root == m.MessageID {
		err = r.postRoot(ctx, m, told)
	} else {
		outcome = outcomeReply
		err = r.postReply(ctx, m, root, told)
	}
	if err != nil {
		return err
	}
	row := store.MailRow{MessageID: m.MessageID, RootID: root, Subject: m.Subject, Author: m.Author, ArchiveURL: m.ArchiveURL, SentAt: m.Date,
		ListID: listOf(r.Lists, m.ListIDs), ListPost: m.ListPost, Excerpt: m.Excerpt(r.Config.ExcerptChars)}
	if root == m.MessageID {
		row.Attachments = encodeAttachments(m.Attachments)
	}
	// The search before the record: a failure leaves the mail to be
	// handled again, and adding it to its thread twice changes nothing.
	if err := r.index(ctx, m, root, row.ListID); err != nil {
		return fmt.Errorf("adding the mail to the search: %w", err)
	}
	if _, err := r.Store.AddMail(ctx, row); err != nil {
		return err
	}
	r.Metrics.stage(stageQueued, queueing)
	r.Metrics.mail(outcome)
	return nil
}

// skipReason says why a mail is not for the relay: an outcome for the
// metrics and a reason for the log; empty when it is to be relayed.
func (r *Relay) skipReason(m *Mail, raw []byte) (outcome, why string) {
	if listOf(r.Lists, m.ListIDs) == "" {
		return outcomeOtherList, fmt.Sprintf("List-Id %v is not one of %v, nor one a room subscribed to", m.ListIDs, r.Config.ListID)
	}
	if m.Kind != Post {
		return outcomeNotAPost, "a " + string(m.Kind) + ", not a post"
	}
	if h := r.Config.SpamHeader; h != "" {
		if v := headerValue(raw, h); strings.HasPrefix(strings.ToLower(v), "yes") {
			return outcomeSpam, h + ": " + v
		}
	}
	return "", ""
}

// threadRoot finds the thread a mail belongs to through the nearest known
// ancestor (its parent, then References from the newest back). A mail whose
// ancestors were never seen starts a thread of its own: its root may have
// been sent before the bot subscribed, or may still be on its way; a root
// that arrives after its reply starts its own thread too (Matrix cannot
// move a posted reply).
func (r *Relay) threadRoot(ctx context.Context, m *Mail) (string, error) {
	candidates := append([]string{m.Parent}, reversed(m.Ancestors)...)
	for _, id := range candidates {
		if id == "" || id == m.MessageID {
			continue
		}
		root, ok, err := r.Store.MailRoot(ctx, id)
		if err != nil || ok {
			return root, err
		}
	}
	return m.MessageID, nil
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func rootKey(room, msgID string) string { return "mail:root:" + room + ":" + msgID }

// Announcement is where a mail ibbot sends is told in a room first (a
// meeting's minutes): the room under the name the relay knows it by, and
// the key the relay would post the mail under there. Posted so, the
// list's echo of the mail is not announced again in that room, and the
// list's replies to it go into that message's thread.
func Announcement(lists *Lists, room id.RoomID, messageID string) (name, key string) {
	name = room.String()
	if lists != nil {
		name = lists.NameOf(room)
	}
	return name, rootKey(name, messageID)
}

// postRoot announces a new thread in the list's rooms, but for those
// told of it already.
func (r *Relay) postRoot(ctx context.Context, m *Mail, told []string) error {
	reply := RenderThread(m, m.Excerpt(r.Config.ExcerptChars), 0)
	for _, room := range roomsFor(r.Lists, m.ListIDs) {
		if slices.Contains(told, room) {
			continue
		}
		if err := r.Poster.PostRoot(ctx, rootKey(room, m.MessageID), room, reply); err != nil {
			return err
		}
	}
	return nil
}

// postReply puts a reply in its thread in the list's rooms, but for those
// where it was said (a reply sent from chat).
func (r *Relay) postReply(ctx context.Context, m *Mail, root string, told []string) error {
	switch r.Config.Replies {
	case config.RepliesThread:
		for _, room := range roomsFor(r.Lists, m.ListIDs) {
			if slices.Contains(told, room) {
				continue
			}
			key := "mail:reply:" + room + ":" + m.MessageID
			if err := r.Poster.PostInThread(ctx, key, room, rootKey(room, root), RenderReply(m, r.Config.ExcerptChars)); err != nil {
				return err
			}
		}
	case config.RepliesCount:
		return r.editReplyCount(ctx, root, roomsFor(r.Lists, m.ListIDs))
	}
	return nil
}

// editReplyCount edits the root's announcement to count one more reply:
// this one, which is recorded only after posting, so the edit's key (with
// the new count) is the same when a failed post is retried.
func (r *Relay) editReplyCount(ctx context.Context, root string, rooms []string) error {
	thread, ok, err := r.Store.MailThread(ctx, root)
	if err != nil || !ok { // !ok cannot happen: threadRoot found the root stored
		return err
	}
	count := thread.Replies + 1
	rootMail := &Mail{MessageID: root, Subject: thread.Subject, Author: thread.Author, ArchiveURL: thread.ArchiveURL,
		Date: thread.SentAt, Attachments: decodeAttachments(thread.Attachments)}
	for _, room := range rooms {
		key := fmt.Sprintf("mail:count:%s:%s:%d", room, root, count)
		if err := r.Poster.Edit(ctx, key, room, rootKey(room, root), RenderThread(rootMail, thread.Excerpt, count)); err != nil {
			return err
		}
	}
	return nil
}

func encodeAttachments(as []Attachment) string {
	if len(as) == 0 {
		return ""
	}
	b, _ := json.Marshal(as)
	return string(b)
}

func decodeAttachments(s string) []Attachment {
	var as []Attachment
	if s != "" {
		json.Unmarshal([]byte(s), &as) // a row from an older version has none
	}
	return as
}

// headerValue reads one header of a raw mail's header block (which ends at
// the first empty line, CRLF or LF), never from its body.
func headerValue(raw []byte, name string) string {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw[:min(len(raw), 256<<10)])))
	h, _ := r.ReadMIMEHeader() // a malformed header block still yields what came before
	return strings.TrimSpace(h.Get(name))
}
