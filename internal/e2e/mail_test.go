package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

const mailList = "image-builder.lists.example.org"

// needDovecot starts a real Dovecot; where it is missing a developer's run
// skips, but CI (CI=true) fails: .ci/run installs it.
func needDovecot(t testing.TB) *testenv.Dovecot {
	t.Helper()
	return startDovecot(t, testenv.StartDovecot)
}

// startDovecot starts a Dovecot made by start, stopped at cleanup.
func startDovecot(t testing.TB, start func() (*testenv.Dovecot, error)) *testenv.Dovecot {
	t.Helper()
	d, err := start()
	if errors.Is(err, testenv.ErrNoDovecot) {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Cleanup)
	return d
}

// listMail is a list post as Mailman 3 delivers it.
func listMail(id, subject, inReplyTo, list string) []byte {
	refs := ""
	if inReplyTo != "" {
		refs = fmt.Sprintf("In-Reply-To: <%s>\r\nReferences: <%s>\r\n", inReplyTo, inReplyTo)
	}
	return []byte(fmt.Sprintf("Date: %s\r\nFrom: Ana Silva <ana@example.com>\r\nTo: image-builder@lists.example.org\r\n"+
		"Message-ID: <%s>\r\nSubject: [image-builder] %s\r\n%sList-Id: <%s>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody of %s.\r\n",
		time.Now().UTC().Format(time.RFC1123Z), id, subject, refs, list, subject))
}

func mailConfig(d *testenv.Dovecot, room string) config.Mail {
	m := config.Defaults().Mail
	m.IMAP = config.IMAP{Address: d.Address, TLS: "none", Username: d.Username, Password: config.NewSecret(d.Password),
		Mailbox: "INBOX", PollInterval: time.Second, NoopInterval: 2 * time.Second}
	m.ListID, m.Rooms = []string{mailList}, []string{room}
	// The mailbox starts empty; a backfill covers mail the test appends
	// before the watcher's first look, so the test need not race it.
	m.Backfill = 1000
	return m
}

func threadRootAbout(subject string) func(*event.Event) bool {
	return func(e *event.Event) bool {
		return isNotice(e) && e.Content.AsMessage().RelatesTo == nil && strings.Contains(testenv.Body(e), "✉ "+subject+" — ")
	}
}

// TestMailRelayThroughDovecot: a mail appended to the mailbox appears in
// the room, its reply in its thread; a duplicate and a mail of another list
// do not; after Dovecot restarts, and after its UIDVALIDITY changes, new
// mail still arrives and nothing is posted twice.
func TestMailRelayThroughDovecot(t *testing.T) {
	d := needDovecot(t)
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Mail = mailConfig(d, s.room.String())
	cfg.Mail.MaxMailBytes = 64 << 10
	startBot(t, cfg)

	root := listMail("thread-1@example.com", "Koji builds of RHEL 10", "", mailList)
	if err := d.Append(root); err != nil {
		t.Fatal(err)
	}
	rootEvt := s.human.MustWait(t, wait, "the thread root", threadRootAbout("Koji builds of RHEL 10"))
	reply := listMail("thread-1-reply@example.com", "Re: Koji builds of RHEL 10", "thread-1@example.com", mailList)
	other := listMail("other-list@example.com", "Something else", "", "other.lists.example.org")
	if err := d.Append(reply, root, other); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the reply in the thread", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == rootEvt.ID && strings.HasPrefix(testenv.Body(e), "Ana Silva: Body of Re:")
	})

	// Only the first max_mail_bytes of a huge mail are downloaded (a
	// partial FETCH, which Dovecot must answer in a form go-imap matches).
	huge := listMail("huge@example.com", "A huge mail", "", mailList)
	huge = append(huge, bytes.Repeat([]byte("0123456789abcdef\r\n"), 128<<10)...) // 2.25 MB
	if err := d.Append(huge); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the huge mail", threadRootAbout("A huge mail"))

	if err := d.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := d.Append(listMail("after-restart@example.com", "After the restart", "", mailList)); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "mail after Dovecot restarted", threadRootAbout("After the restart"))

	if err := d.ResetUIDValidity(); err != nil {
		t.Fatal(err)
	}
	if err := d.Append(listMail("after-uidvalidity@example.com", "After the UIDVALIDITY change", "", mailList)); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "mail after the UIDVALIDITY change", threadRootAbout("After the UIDVALIDITY change"))
	s.settle(t)
	for subject, want := range map[string]int{"Koji builds of RHEL 10": 1, "Something else": 0, "After the restart": 1, "After the UIDVALIDITY change": 1} {
		if n := s.human.Count(threadRootAbout(subject)); n != want {
			t.Errorf("%q posted %d times, want %d", subject, n, want)
		}
	}
	if n := s.human.Count(func(e *event.Event) bool { return strings.HasPrefix(testenv.Body(e), "Ana Silva: Body of Re:") }); n != 1 {
		t.Errorf("the reply was posted %d times, want 1", n)
	}
}

var loadSubject = regexp.MustCompile(`✉ load (\d+) — `)

// TestMailKilledMidBatch kills the bot with SIGKILL while it relays 200
// mails, restarts it, and checks every mail is in the room exactly once.
func TestMailKilledMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("relays 200 mails")
	}
	d := needDovecot(t)
	s := newStack(t)
	// backfill: mail appended before the first watcher looks is relayed too.
	mailYAML := fmt.Sprintf("mail:\n  imap: {address: %q, tls: none, username: %q, password: %q, poll_interval: 1s, noop_interval: 2s}\n  list_id: [%q]\n  rooms: [%q]\n  backfill: 1000\n",
		d.Address, d.Username, d.Password, mailList, s.room)
	first := startProcess(t, s, "info", mailYAML)

	const total = 200
	var batch [][]byte
	for i := range total {
		batch = append(batch, listMail(fmt.Sprintf("load-%d@example.com", i), fmt.Sprintf("load %d", i), "", mailList))
	}
	if err := d.Append(batch...); err != nil {
		t.Fatal(err)
	}
	isLoad := func(e *event.Event) bool { return isNotice(e) && loadSubject.MatchString(testenv.Body(e)) }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := s.human.WaitCount(ctx, 40, isLoad); err != nil {
		t.Fatal(err)
	}
	first.cmd.Process.Kill() // SIGKILL, mid-batch
	<-first.exited
	startProcess(t, s, "info", mailYAML)
	if _, err := s.human.WaitCount(ctx, total, isLoad); err != nil {
		t.Fatal(err)
	}
	s.settle(t)
	seen := map[int]int{}
	for _, e := range s.human.Events() {
		if m := loadSubject.FindStringSubmatch(testenv.Body(e)); m != nil && isNotice(e) {
			n, _ := strconv.Atoi(m[1])
			seen[n]++
		}
	}
	for i := range total {
		if seen[i] != 1 {
			t.Errorf("mail %d is in the room %d times, want exactly 1", i, seen[i])
		}
	}
}

// TestStatusShowsMailHealth: a room admin's !status says the mailbox is
// watched, then, while Dovecot is down, that mail is failing and why, and
// then that it works again.
func TestStatusShowsMailHealth(t *testing.T) {
	d := needDovecot(t)
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Mail = mailConfig(d, s.room.String())
	startBot(t, cfg)

	statusUntil := func(what string, ok func(body string) bool) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			cmd := s.human.MustSay(t, s.room, "!status")
			body := testenv.Body(s.human.MustWait(t, wait, "the status", testenv.ReplyTo(cmd)))
			if ok(body) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("!status never showed %s; last:\n%s", what, body)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	watching := "✓ mail: watching INBOX on " + d.Address
	statusUntil("the mailbox watched", func(b string) bool { return strings.Contains(b, watching) })
	d.Stop()
	statusUntil("mail failing", func(b string) bool {
		return strings.Contains(b, "✗ mail: failing for ") && strings.Contains(b, "connection refused")
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	statusUntil("the mailbox watched again", func(b string) bool { return strings.Contains(b, watching) })
}
