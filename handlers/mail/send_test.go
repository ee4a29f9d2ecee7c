package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestSentMailComesBackFromTheList: a letter queued is sent through a
// real SMTP server (go-smtp's) that logs the bot in, and the list's copy,
// read back as the relay reads mail, says what was written: its own
// Message-ID, the subject, the body unwrapped again, the list's List-Id.
// A recipient the server refuses for good holds up no other mail.
func TestSentMailComesBackFromTheList(t *testing.T) {
	ctx := context.Background()
	var echoes [][]byte
	list, err := testenv.StartMailingList("image-builder@lists.example.org", "image-builder.lists.example.org", "ibbot@example.org", "s3nd-pass",
		func(raw []byte) error { echoes = append(echoes, raw); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)
	s := &Sender{Config: config.SMTP{Address: list.Addr, TLS: config.TLSNone, Username: "ibbot@example.org", Auth: config.AuthPassword,
		Password: config.NewSecret("s3nd-pass"), From: "ibbot <ibbot@example.org>"}, Store: st, KV: st, Log: zerolog.Nop(), Now: func() time.Time { return now }}
	long := strings.Repeat("Minutes are plain text that every mail client wraps to its own window. ", 4)
	id := MessageIDFor("meeting $abc", s.From())
	letters := []Letter{
		{To: []string{"nobody@lists.example.org"}, Subject: "refused", Body: "x", MessageID: MessageIDFor("refused", s.From())},
		{To: []string{"Image Builder <image-builder@lists.example.org>"}, Subject: "Minutes: Image Builder weekly (2026-12-05)",
			Body: long + "\n\n> a quote stays\nFrom the chair: thanks.", MessageID: id, Headers: map[string]string{"X-Ibbot-Meeting": "$abc"}},
	}
	for _, l := range letters {
		if err := s.Queue(ctx, l, []string{"!r:x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Queue(ctx, letters[1], nil); err != nil { // queued twice: one mail
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := list.Received(); len(got) != 1 || got[0].From != "ibbot@example.org" {
		t.Fatalf("the server took %+v", got)
	}
	if len(echoes) != 1 {
		t.Fatalf("%d echoes", len(echoes))
	}
	m, err := Parse(echoes[0], Limits{MaxBodyChars: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != id || m.Subject != "Minutes: Image Builder weekly (2026-12-05)" || m.ListIDs[0] != "image-builder.lists.example.org" {
		t.Errorf("the echo reads %+v", m)
	}
	if !strings.Contains(m.Body, strings.TrimSpace(long)) || !strings.Contains(m.Body, "From the chair: thanks.") {
		t.Errorf("the body came back as %q", m.Body)
	}
	if sent, ok, _ := st.SentMail(ctx, id); !ok || sent.SentAt.IsZero() || sent.Rooms[0] != "!r:x" {
		t.Errorf("the outbox keeps %+v", sent)
	}
	if todo, _ := st.MailToSend(ctx, 10); len(todo) != 0 {
		t.Errorf("still to send: %+v", todo)
	}
}

// TestMailWaitsForTheServer: with the server away the mail stays queued
// and the error names the server; once it is back the mail goes out.
func TestMailWaitsForTheServer(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s := &Sender{Config: config.SMTP{Address: addr, TLS: config.TLSNone, From: "ibbot@example.org"}, Store: st, Log: zerolog.Nop(), Now: time.Now}
	if err := s.Queue(ctx, Letter{To: []string{"l@lists.example.org"}, Subject: "s", Body: "b", MessageID: "x@example.org"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("with the server away: %v", err)
	}
	if todo, _ := st.MailToSend(ctx, 10); len(todo) != 1 {
		t.Fatalf("the mail was not kept: %+v", todo)
	}
	list, err := testenv.StartMailingList("l@lists.example.org", "l.lists.example.org", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	s.Config.Address = list.Addr
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := list.Received(); len(got) != 1 {
		t.Errorf("once the server is back it took %d mails", len(got))
	}
}

func TestFlowedWrapsAndStuffs(t *testing.T) {
	got := Flowed("From here on, a long line that must be broken somewhere near the middle\n> quoted  \n -- \n-- ", 30)
	want := " From here on, a long line \r\nthat must be broken somewhere \r\nnear the middle\r\n> quoted\r\n  --\r\n-- \r\n"
	if got != want {
		t.Errorf("Flowed:\n got %q\nwant %q", got, want)
	}
}

// TestTheListsEchoIsNotAnnouncedAgain: a mail ibbot sent (told first in
// the room, under the key Announcement gives) comes back from the list
// through IMAP: the room gets no new thread for it, another room the list
// goes to does, and a reply to it lands in the room's message's thread.
func TestTheListsEchoIsNotAnnouncedAgain(t *testing.T) {
	e := newMailEnv(t)
	e.relay.Config.Rooms = []string{"!room:x", "!other:x"}
	e.relay.Lists = newLists(t, e.relay.Config, e.store)
	ctx := context.Background()
	list, err := testenv.StartMailingList("image-builder@lists.example.org", testList, "", "", func(raw []byte) error { return e.imap.Append(raw) })
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	s := &Sender{Config: config.SMTP{Address: list.Addr, TLS: config.TLSNone, From: "ibbot <ibbot@example.org>"}, Store: e.store, Log: zerolog.Nop(), Now: time.Now}
	id := MessageIDFor("meeting $m", s.From())
	// The room was told (the meeting's minutes, under the key the relay
	// would use); the record of that is not what keeps the echo out.
	room, key := Announcement(e.relay.Lists, "!room:x", id)
	e.start(t)
	if err := s.Queue(ctx, Letter{To: []string{"image-builder@lists.example.org"}, Subject: "Minutes: weekly", Body: "Topics: …", MessageID: id}, []string{room}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	reply := fmt.Sprintf("From: Ana <ana@example.org>\r\nTo: image-builder@lists.example.org\r\nList-Id: <%s>\r\nSubject: Re: Minutes: weekly\r\n"+
		"Message-ID: <reply-1@example.org>\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\nDate: %s\r\n\r\nThanks for the minutes!\r\n",
		testList, id, id, time.Now().Format(time.RFC1123Z))
	if err := e.imap.Append([]byte(reply)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the reply relayed", func() bool { return len(e.rec.All()) >= 3 })
	var got []string
	for _, m := range e.rec.All() {
		got = append(got, m.Rel+" "+m.Room+" "+m.Key)
	}
	want := []string{"root !other:x mail:root:!other:x:" + id,
		"thread !room:x mail:reply:!room:x:reply-1@example.org", "thread !other:x mail:reply:!other:x:reply-1@example.org"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("posted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if all := e.rec.All(); all[1].Target != key {
		t.Errorf("the reply went into %q's thread, not the room's message %q", all[2].Target, key)
	}
}

// TestSTARTTLSIsNeverSkipped: with tls: starttls the mail goes only over
// a connection secured with a certificate that verifies (here against
// mail.smtp.ca_file); a server that offers no STARTTLS gets nothing, and
// the error says why.
func TestSTARTTLSIsNeverSkipped(t *testing.T) {
	ctx := context.Background()
	ca, err := testenv.NewTestCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secure, err := testenv.StartMailingListTLS("l@lists.example.org", "l.lists.example.org", "ibbot@example.org", "pw-over-tls", nil, ca)
	if err != nil {
		t.Fatal(err)
	}
	defer secure.Close()
	clear, err := testenv.StartMailingList("l@lists.example.org", "l.lists.example.org", "ibbot@example.org", "pw-over-tls", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer clear.Close()
	s := &Sender{Config: config.SMTP{Address: clear.Addr, TLS: config.TLSStartTLS, CAFile: ca.CAFile, Username: "ibbot@example.org",
		Auth: config.AuthPassword, Password: config.NewSecret("pw-over-tls"), From: "ibbot@example.org"}, Store: st, Log: zerolog.Nop(), Now: time.Now}
	if err := s.Queue(ctx, Letter{To: []string{"l@lists.example.org"}, Subject: "s", Body: "b", MessageID: "tls@example.org"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err == nil || !strings.Contains(err.Error(), "STARTTLS") || len(clear.Received()) != 0 {
		t.Fatalf("a server without STARTTLS: %v, %d mails taken", err, len(clear.Received()))
	}
	s.Config.Address = secure.Addr
	if err := s.Flush(ctx); err != nil || len(secure.Received()) != 1 {
		t.Fatalf("over STARTTLS: %v, %d mails taken", err, len(secure.Received()))
	}
}

// crashAfterAccept is the outbox of a bot that stops right after the SMTP
// server took a mail, before recording it.
type crashAfterAccept struct{ *store.DB }

func (c crashAfterAccept) MailSent(ctx context.Context, id string, at time.Time, failure error) error {
	if failure == nil {
		return errors.New("the bot stopped here")
	}
	return c.DB.MailSent(ctx, id, at, failure)
}

// TestACrashAfterTheServerTookAMailSendsItOnce: the SMTP server took a
// mail and the bot stopped before recording it. After the restart the
// mail is not sent again: the list's copy, come back through IMAP, proves
// it went; with no copy it is given up after a while, never sent twice.
func TestACrashAfterTheServerTookAMailSendsItOnce(t *testing.T) {
	for _, echo := range []bool{true, false} {
		t.Run(fmt.Sprintf("echo=%v", echo), func(t *testing.T) {
			e := newMailEnv(t)
			ctx := context.Background()
			deliver := func(raw []byte) error { return e.imap.Append(raw) }
			if !echo {
				deliver = nil
			}
			list, err := testenv.StartMailingList("image-builder@lists.example.org", testList, "", "", deliver)
			if err != nil {
				t.Fatal(err)
			}
			defer list.Close()
			e.start(t)
			now := time.Now()
			cfg := config.SMTP{Address: list.Addr, TLS: config.TLSNone, From: "ibbot <ibbot@example.org>"}
			crashing := &Sender{Config: cfg, Store: crashAfterAccept{e.store}, Echoes: e.store, Log: zerolog.Nop(), Now: func() time.Time { return now }}
			id := MessageIDFor("reply $x", crashing.From())
			if err := crashing.Queue(ctx, Letter{To: []string{"image-builder@lists.example.org"}, Subject: "Re: x", Body: "y", MessageID: id}, nil); err != nil {
				t.Fatal(err)
			}
			if err := crashing.Flush(ctx); err == nil {
				t.Fatal("the crash went unnoticed")
			}
			if echo {
				waitUntil(t, "the list's copy relayed", func() bool { _, ok, _ := e.store.MailRoot(ctx, id); return ok })
			}
			restarted := &Sender{Config: cfg, Store: e.store, Echoes: e.store, Log: zerolog.Nop(), Now: func() time.Time { return now }}
			for _, later := range []time.Duration{time.Minute, 20 * time.Minute} {
				now = now.Add(later)
				if err := restarted.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if n := len(list.Received()); n != 1 {
				t.Errorf("the server took the mail %d times", n)
			}
			if todo, _ := e.store.MailToSend(ctx, 5); len(todo) != 0 {
				t.Errorf("still waiting to be sent: %+v", todo)
			}
			sent, _, _ := e.store.SentMail(ctx, id)
			if echo == sent.SentAt.IsZero() {
				t.Errorf("with echo=%v the outbox says sent at %v", echo, sent.SentAt)
			}
		})
	}
}
