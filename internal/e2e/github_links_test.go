package e2e

import (
	"fmt"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestIssueLinks: an issue link in anyone's message gets one preview
// within the cooldown; #N works where the room has a default repo; !issue
// and !gh subscriptions answer on demand.
func TestIssueLinks(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"Codertocat/*"}, Events: []config.Event{config.EventIssues}}}
	cfg.GitHub.Rooms = map[string]config.GitHubRoom{s.room.String(): {DefaultRepo: "Codertocat/Hello-World"}}
	cfg.GitHub.PollInterval = 0
	s.github.SetIssues("Codertocat/Hello-World",
		issueObject(t, delivery(t, "issues.opened.payload.json", numbered(7, "Crash on <empty> blueprint @room"))),
		issueObject(t, delivery(t, "issues.opened.payload.json", numbered(8, "Pasted as an address"))))
	startBot(t, cfg)

	pasted := s.human.MustSay(t, s.room, "this one: https://github.com/Codertocat/Hello-World/issues/8")
	if got := testenv.Body(s.human.MustWait(t, wait, "the preview of a pasted issue address", testenv.ReplyTo(pasted))); !strings.Contains(got, "Codertocat/Hello-World#8 Pasted as an address") {
		t.Errorf("preview of an issue address: %s", got)
	}

	msg := s.human.MustSay(t, s.room, "did anyone look at Codertocat/Hello-World#7 yet?")
	preview := s.human.MustWait(t, wait, "the link preview", testenv.ReplyTo(msg))
	body := preview.Content.AsMessage()
	if !strings.Contains(body.Body, "Codertocat/Hello-World#7 Crash on <empty> blueprint") || !strings.Contains(body.Body, "issue by Codertocat") {
		t.Errorf("preview: %s", body.Body)
	}
	if strings.Contains(body.FormattedBody, "<empty>") || strings.Contains(strings.ToLower(body.Body), "@room") {
		t.Errorf("preview not escaped or can ping: %q / %q", body.Body, body.FormattedBody)
	}

	again := s.human.MustSay(t, s.room, "yes, #7 is the one")
	bare := s.human.MustSay(t, s.room, "!issue #7")
	if got := testenv.Body(s.human.MustWait(t, wait, "!issue answer", testenv.ReplyTo(bare))); !strings.Contains(got, "Codertocat/Hello-World#7 Crash on") {
		t.Errorf("!issue #7 in a room whose default repo is Codertocat/Hello-World: %s", got)
	}
	subs := s.human.MustSay(t, s.room, "!gh subscriptions")
	got := testenv.Body(s.human.MustWait(t, wait, "!gh subscriptions answer", testenv.ReplyTo(subs)))
	if !strings.Contains(got, "issues of Codertocat/*") {
		t.Errorf("!gh subscriptions: %s", got)
	}
	s.settle(t)
	if n := s.human.Count(testenv.ReplyTo(again)); n != 0 {
		t.Errorf("the same item was previewed again within the cooldown")
	}
	unknown := s.human.MustSay(t, s.room, fmt.Sprintf("see someone/else#%d", 7))
	s.settle(t)
	if n := s.human.Count(func(e *event.Event) bool { return testenv.ReplyTo(unknown)(e) }); n != 0 {
		t.Errorf("a link to a repository the bot does not follow got a preview")
	}
}
