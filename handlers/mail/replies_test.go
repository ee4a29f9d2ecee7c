package mail

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// eventsOf stands in for the bot's record of which event each key became:
// here a key's event is "$" and the key.
type eventsOf struct{ *store.DB }

func (e eventsOf) KeysOfEvent(_ context.Context, eventID string) ([]string, error) {
	return []string{strings.TrimPrefix(eventID, "$")}, nil
}

// aliases are the room names the bot resolved: alias to room id.
type aliases map[string]id.RoomID

func (a aliases) Same(name string, room id.RoomID) bool {
	return name == room.String() || a[name] == room
}
func (a aliases) Room(name string) (id.RoomID, bool) {
	r, ok := a[name]
	return r, ok
}

// TestAReplyFromChatReachesTheList: an allowed person links an address
// (a code mailed to it, then verified), answers a relayed mail in its
// thread, and the list gets a reply in the usual shape; its echo is not
// put in the thread again; refusals say why.
func TestAReplyFromChatReachesTheList(t *testing.T) {
	e := newMailEnv(t)
	e.relay.Config.Rooms = []string{"#image-builder:example.org", "!other:x"}
	reg, err := roomscope.Open(context.Background(), e.store, aliases{"#image-builder:example.org": "!ib:example.org"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.relay.Lists, err = roomscope.Add(context.Background(), reg, Source(e.relay.Config)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list, err := testenv.StartMailingList("image-builder@lists.example.org", testList, "", "", func(raw []byte) error { return e.imap.Append(raw) })
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	now := time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	sender := &Sender{Config: config.SMTP{Address: list.Addr, TLS: config.TLSNone, From: "ibbot <ibbot@example.org>"}, Store: e.store, Echoes: e.store,
		Log: zerolog.Nop(), Now: clock}
	r := &Replier{Store: eventsOf{e.store}, Letters: sender, Lists: e.relay.Lists, Now: clock,
		Config: config.ChatReplies{Allow: []string{"@ana:example.org", "fedora.im"}, PerHour: 3, MaxChars: 200}}
	e.start(t)
	root := fmt.Sprintf("Date: %s\r\nFrom: Bo Berg <bo@example.com>\r\nTo: image-builder@lists.example.org\r\nMessage-ID: <q1@example.com>\r\n"+
		"Subject: [image-builder] Building RHEL 10 for Azure\r\nList-Id: <%s>\r\nList-Post: <mailto:image-builder@lists.example.org>\r\n\r\n"+
		"Is there a way to build RHEL 10 images for Azure?\r\n", now.Add(-time.Hour).Format(time.RFC1123Z), testList)
	if err := e.imap.Append([]byte(root)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the question relayed", func() bool { return len(e.rec.All()) == 2 })

	n := 0
	var transcript strings.Builder
	ask := func(who, line string, thread id.EventID) string {
		t.Helper()
		n++
		fmt.Fprintf(&transcript, "%s: %s\n", who, line)
		args := strings.Fields(strings.TrimPrefix(line, "!ml "))
		rep, err := replyCommand(ctx, r, bot.Request{Command: "ml", Args: args, Body: line, Prefix: "!", Sender: id.UserID(who),
			RoomID: "!ib:example.org", EventID: id.EventID(fmt.Sprintf("$cmd%d", n)), ThreadRoot: thread})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&transcript, "ibbot: %s\n\n", rep.Plain)
		return rep.Plain
	}
	thread := id.EventID("$mail:root:#image-builder:example.org:q1@example.com")
	for _, c := range [][3]string{
		{"@eve:matrix.org", "!ml reply hi", "Mailing the list from chat is for the people the operator allows"},
		{"@ana:example.org", "!ml reply hi", "Link your address first"},
		{"@ana:example.org", "!ml verify 12345", "There is no code waiting for you"},
		{"@ana:example.org", "!ml link nobody", "usage: !ml link you@example.org"},
	} {
		if got := ask(c[0], c[1], thread); !strings.HasPrefix(got, c[2]) {
			t.Errorf("%s: %q, want %q…", c[1], got, c[2])
		}
	}
	if got := ask("@ana:example.org", "!ml link Ana Silva <ana@example.org>", ""); !strings.Contains(got, "I mailed a code to a***@example.org") {
		t.Fatalf("!ml link: %q", got)
	}
	if err := sender.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`Subject: Your ibbot code: (\d{6})`).FindStringSubmatch(string(list.Received()[0].Raw))
	if code == nil || list.Received()[0].To[0] != "ana@example.org" {
		t.Fatalf("the code mail: %s", list.Received()[0].Raw)
	}
	if got := ask("@ana:example.org", "!ml verify 000000", ""); !strings.HasPrefix(got, "That is not the code") && code[1] != "000000" {
		t.Errorf("a wrong code: %q", got)
	}
	if got := ask("@ana:example.org", "!ml verify "+code[1], ""); !strings.HasPrefix(got, "✓ Linked ana@example.org") {
		t.Fatalf("the right code: %q", got)
	}
	if got := ask("@ana:example.org", "!ml reply "+strings.Repeat("x", 201), thread); !strings.HasPrefix(got, "Not sent: the reply is 201 characters long, 1 more") {
		t.Errorf("an over-long reply: %q", got)
	}
	if got := ask("@ana:example.org", "!ml reply not in a thread", ""); !strings.HasPrefix(got, "Say !ml reply in the thread of a relayed mail") {
		t.Errorf("a reply outside a thread: %q", got)
	}
	got := ask("@ana:example.org", "!ml reply Yes: image-builder build vhd --distro rhel-10.0\n\nThen upload it with the azure target.", thread)
	if !strings.HasPrefix(got, "✉ Sent to image-builder@lists.example.org as \"Re: Building RHEL 10 for Azure\"") {
		t.Fatalf("the reply: %q", got)
	}
	if err := sender.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mails := list.Received()
	if len(mails) != 2 {
		t.Fatalf("the server took %d mails", len(mails))
	}
	raw := string(mails[1].Raw)
	golden.Check(t, "chat-reply.eml", regexp.MustCompile(`(?m)^Message-Id: .*\r\n`).ReplaceAllString(raw, "Message-Id: <…>\r\n"))
	waitUntil(t, "the echo relayed", func() bool { return len(e.rec.All()) == 3 })
	if last := e.rec.All()[2]; last.Room != "!other:x" || last.Rel != "thread" {
		t.Errorf("the echo was posted as %+v; want it only in the room it was not said in", last)
	}
	if got := ask("@ana:example.org", "!ml reply once more", thread); !strings.HasPrefix(got, "✉ Sent") {
		t.Errorf("the third mail of the hour: %q", got)
	}
	if got := ask("@ana:example.org", "!ml reply and again", thread); !strings.HasPrefix(got, "Not sent: you have sent 3 mails from chat in the last hour; try again in 1 hour") {
		t.Errorf("over the hour's limit: %q", got)
	}
	golden.Check(t, "chat-replies.golden", strings.ReplaceAll(transcript.String(), code[1], "CODE"))
}
