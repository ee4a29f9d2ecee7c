package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestAReplyToTheListFromItsThread: through Dendrite, a person links an
// address (the code comes by mail through a real SMTP server), answers a
// relayed mail in its thread, and the reply reaches the list; the list's
// copy comes back through Dovecot and is not put in the thread again,
// while the list's next answer is.
func TestAReplyToTheListFromItsThread(t *testing.T) {
	d := needDovecot(t)
	s := newStack(t)
	ctx := context.Background()
	list, err := testenv.StartMailingList("image-builder@lists.example.org", mailList, "", "", func(raw []byte) error { return d.Append(raw) })
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	cfg := s.config(s.hs.URL)
	cfg.Mail = mailConfig(d, s.room.String())
	cfg.Mail.SMTP = config.SMTP{Address: list.Addr, TLS: config.TLSNone, From: "ibbot <ibbot@example.org>"}
	cfg.Mail.ChatReplies.Allow = []string{s.human.UserID.String()}
	startBot(t, cfg)

	question := strings.Replace(string(listMail("question@example.com", "Building RHEL 10 for Azure", "", mailList)),
		"List-Id:", "List-Post: <mailto:image-builder@lists.example.org>\r\nList-Id:", 1)
	if err := d.Append([]byte(question)); err != nil {
		t.Fatal(err)
	}
	root := s.human.MustWait(t, wait, "the question", threadRootAbout("Building RHEL 10 for Azure"))

	answer := func(what, line, prefix string) {
		t.Helper()
		ev := s.human.MustSay(t, s.room, line)
		got := testenv.Body(s.human.MustWait(t, wait, what, testenv.ReplyTo(ev)))
		if !strings.HasPrefix(got, prefix) {
			t.Fatalf("%s: %q, want %q…", what, got, prefix)
		}
	}
	answer("!ml link", "!ml link Alice Doe <alice@example.org>", "I mailed a code to a***@example.org")
	var code string
	for deadline := time.Now().Add(wait); code == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, m := range list.Received() {
			if c := regexp.MustCompile(`Your ibbot code: (\d{6})`).FindStringSubmatch(string(m.Raw)); c != nil {
				code = c[1]
			}
		}
	}
	if code == "" {
		t.Fatal("no code came by mail")
	}
	answer("!ml verify", "!ml verify "+code, "✓ Linked alice@example.org")

	ev, err := s.human.SayInThread(ctx, s.room, root.ID, "!ml reply Yes: image-builder build vhd --distro rhel-10.0\nThen upload it.")
	if err != nil {
		t.Fatal(err)
	}
	sent := testenv.Body(s.human.MustWait(t, wait, "the reply's answer", testenv.ReplyTo(ev)))
	if !strings.HasPrefix(sent, "✉ Sent to image-builder@lists.example.org") {
		t.Fatalf("!ml reply: %q", sent)
	}
	var reply string
	for deadline := time.Now().Add(wait); reply == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, m := range list.Received() {
			if strings.Contains(string(m.Raw), "In-Reply-To: <question@example.com>") {
				reply = string(m.Raw)
			}
		}
	}
	for _, want := range []string{`From: "Alice Doe via Matrix" <ibbot@example.org>`, `Reply-To: "Alice Doe" <alice@example.org>, <image-builder@lists.example.org>`,
		"Subject: Re: Building RHEL 10 for Azure", "X-Ibbot-Matrix-Sender: " + s.human.UserID.String(), "> Body of Building RHEL 10 for Azure."} {
		if !strings.Contains(reply, want) {
			t.Errorf("the reply on the list lacks %q:\n%s", want, reply)
		}
	}
	// The list's next answer, after its copy of the reply, comes to the
	// thread: by then the copy was read, and not put there.
	next := listMail("next@example.com", "Re: Building RHEL 10 for Azure", "question@example.com", mailList)
	if err := d.Append(next); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the list's next answer in the thread", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return isNotice(e) && rel != nil && rel.EventID == root.ID && strings.HasPrefix(testenv.Body(e), "Ana Silva:")
	})
	if n := s.human.Count(func(e *event.Event) bool {
		return isNotice(e) && strings.Contains(testenv.Body(e), "Then upload it")
	}); n != 0 {
		t.Errorf("the list's copy of the reply was put in the room %d times", n)
	}
}
