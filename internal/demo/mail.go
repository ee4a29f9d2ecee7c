package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

const demoList = "image-builder.lists.example.org"

func demoMailConfig(mb *testenv.IMAPServer, room id.RoomID) config.Mail {
	m := config.Defaults().Mail
	m.IMAP = config.IMAP{Address: mb.Address, TLS: "none", Username: mb.Username, Password: config.NewSecret(mb.Password),
		Mailbox: "INBOX", PollInterval: 200 * time.Millisecond, NoopInterval: time.Minute}
	m.ListID, m.Rooms = []string{demoList}, []string{room.String()}
	// The demo mailbox starts empty: whatever arrives before the watcher's
	// first look is relayed too.
	m.Backfill = 100
	return m
}

func demoMail(id, from, subject, inReplyTo, body string) []byte {
	refs := ""
	if inReplyTo != "" {
		refs = fmt.Sprintf("In-Reply-To: <%s>\r\nReferences: <%s>\r\n", inReplyTo, inReplyTo)
	}
	return []byte(fmt.Sprintf("Date: %s\r\nFrom: %s\r\nTo: image-builder@lists.example.org\r\nMessage-ID: <%s>\r\n"+
		"Subject: %s\r\n%sList-Id: Image Builder <%s>\r\n"+
		"List-Archive: <https://lists.example.org/archives/list/image-builder@lists.example.org/>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		time.Now().UTC().Format(time.RFC1123Z), from, id, subject, refs, demoList, strings.ReplaceAll(body, "\n", "\r\n")))
}

// showMail delivers a short list thread to the mailbox and prints the
// thread's announcement and the replies in its Matrix thread.
func showMail(ctx context.Context, out io.Writer, human *testenv.User, mb *testenv.IMAPServer) error {
	fmt.Fprintln(out, "\n(the mailing list delivers a thread: a question and two replies)")
	err := mb.Append(
		demoMail("demo-root@example.com", "Ana Silva <ana@example.com>", "[image-builder] Building RHEL 10 images for Azure",
			"", "Hi all,\n\nis there a way to build RHEL 10 images for Azure with the CLI, or only in the hosted service?\n\nThanks,\nAna"),
		demoMail("demo-reply-1@example.org", "Ondrej Novak <ondrej@example.org>", "Re: [image-builder] Building RHEL 10 images for Azure",
			"demo-root@example.com", "On Monday, Ana Silva wrote:\n> is there a way to build RHEL 10 images for Azure with the CLI\n\nYes: image-builder build vhd --distro rhel-10.0\n\n-- \nOndrej"),
		demoMail("demo-reply-2@example.com", `"Ana Silva via image-builder" <image-builder@lists.example.org>`, "[image-builder] Re: Building RHEL 10 images for Azure",
			"demo-reply-1@example.org", "That worked, thank you!\n\n_______________________________________________\nimage-builder mailing list\nhttps://lists.example.org/mailman/listinfo/image-builder"),
	)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	root, err := human.WaitFor(wctx, func(e *event.Event) bool { return strings.HasPrefix(testenv.Body(e), "✉ Building RHEL 10 images") })
	if err != nil {
		return fmt.Errorf("no mail announcement: %w", err)
	}
	fmt.Fprintf(out, "%s: %s\n", root.Sender.Localpart(), indentBody(root))
	for i := range 2 {
		seen := 0
		reply, err := human.WaitFor(wctx, func(e *event.Event) bool {
			rel := e.Content.AsMessage().RelatesTo
			if rel == nil || rel.Type != event.RelThread || rel.EventID != root.ID {
				return false
			}
			seen++
			return seen == i+1
		})
		if err != nil {
			return fmt.Errorf("no reply in the thread: %w", err)
		}
		fmt.Fprintf(out, "  (in its thread) %s: %s\n", reply.Sender.Localpart(), indentBody(reply))
	}
	fmt.Fprintln(out)
	return nil
}
