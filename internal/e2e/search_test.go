package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestAnswersFromTheRoomsMemory: through Dendrite, !docs answers with the
// right section's address (the pages read from the fake GitHub's
// repository), a relayed mail is found by a word of its body, a relayed
// issue by a word of its body, and a room that follows neither the list
// nor the repository finds neither.
func TestAnswersFromTheRoomsMemory(t *testing.T) {
	d := needDovecot(t)
	s := newStack(t)
	room2, err := s.human.CreateRoom(context.Background(), "elsewhere", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	s.github.SetDocs("osbuild/osbuild.github.io", testenv.DocsFromFS(fixtures.FS, "docs/docs", "docs"), time.Now())
	port := freeTCPPort(t)
	cfg := githubConfig(s, port, room2)
	cfg.Matrix.Rooms = append(cfg.Matrix.Rooms, room2.String())
	cfg.GitHub.Subscriptions = cfg.GitHub.Subscriptions[:1] // only the first room follows the repository
	cfg.Mail = mailConfig(d, s.room.String())
	cfg.Search = config.Search{Refresh: time.Hour, Docs: []config.DocsSource{
		{Repo: "osbuild/osbuild.github.io", Path: "docs", URL: "https://osbuild.org/docs/"}}}
	startBot(t, cfg)

	ask := func(room id.RoomID, question string) string {
		t.Helper()
		cmd := s.human.MustSay(t, room, question)
		return testenv.Body(s.human.MustWait(t, wait, "the answer to "+question, testenv.ReplyTo(cmd)))
	}
	// The documentation is read at start; ask until its pages are in.
	deadline := time.Now().Add(wait)
	var answer string
	for time.Now().Before(deadline) {
		if answer = ask(s.room, "!docs how do I add a user to a blueprint"); !strings.HasPrefix(answer, "Nothing") {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.HasPrefix(answer, "Blueprint reference › Users (https://osbuild.org/docs/user-guide/blueprint-reference/#users)") {
		t.Fatalf("!docs answered:\n%s", answer)
	}

	if err := d.Append(listMail("zanzi@example.com", "Zanzibarite kernels", "", mailList)); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the mail", threadRootAbout("Zanzibarite kernels"))
	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)
	issue := delivery(t, "issues.opened.payload.json", func(o map[string]any) {
		numbered(303, "Builds hang")(o)
		o["body"] = "The quuxplatform worker never finishes."
	})
	postDelivery(t, hook, "issues", "d-303", issue, sign(issue))
	s.human.MustWait(t, wait, "issue 303", aboutItem("Codertocat/Hello-World#303"))

	if got := ask(s.room, "!search zanzibarite"); !strings.HasPrefix(got, "list · Zanzibarite kernels") {
		t.Errorf("a mail's body word found:\n%s", got)
	}
	if got := ask(s.room, "!search quuxplatform"); !strings.HasPrefix(got, "issue codertocat/hello-world · Builds hang") {
		t.Errorf("an issue's body word found:\n%s", got)
	}
	for _, q := range []string{"!search zanzibarite", "!search quuxplatform"} {
		if got := ask(room2, q); !strings.HasPrefix(got, "Nothing in") {
			t.Errorf("%s in a room following neither the list nor the repository:\n%s", q, got)
		}
	}
}
