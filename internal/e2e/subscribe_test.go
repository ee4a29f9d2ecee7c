package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestRoomsManageTheirSubscriptions: a room admin subscribes the room to a
// repository in chat and a signed webhook for it is relayed at once; a
// non-admin's attempt is refused and changes nothing; the subscription
// survives a restart; unsubscribing stops it; a subscription from the
// config, muted in chat, stays muted after a restart.
func TestRoomsManageTheirSubscriptions(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	bob := s.hs.NewUser(t, "bob")
	if _, err := bob.JoinRoomByID(ctx, s.room); err != nil {
		t.Fatal(err)
	}
	port := freeTCPPort(t)
	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)
	cfg := s.config(s.hs.URL)
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.GitHub.Webhook = config.Webhook{Path: "/github/webhook", Secret: config.NewSecret(webhookSecret)}
	cfg.GitHub.AggregationWindow, cfg.GitHub.PollInterval = 0, 0
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"osbuild/*"}, Events: []config.Event{config.EventIssues}}}
	first := startBot(t, cfg)

	say := func(u *testenv.User, text string) string {
		t.Helper()
		cmd := u.MustSay(t, s.room, text)
		return testenv.Body(s.human.MustWait(t, wait, "the answer to "+text, testenv.ReplyTo(cmd)))
	}
	n := 2000
	sendIssue := func(repo string) int {
		t.Helper()
		n++
		body := testenv.InRepo(delivery(t, "issues.opened.payload.json", numbered(n, fmt.Sprintf("issue %d", n))), repo)
		postDelivery(t, hook, "issues", fmt.Sprintf("sub-%d", n), body, sign(body))
		return n
	}
	announced := func(repo string, num int) bool {
		s.settle(t)
		return s.human.Count(func(e *event.Event) bool {
			return isNotice(e) && strings.Contains(testenv.Body(e), fmt.Sprintf("%s#%d ", repo, num))
		}) > 0
	}

	if got := say(bob, "!gh subscribe Codertocat/Hello-World pulls issues"); !strings.Contains(got, "for room admins") {
		t.Errorf("a non-admin's subscribe: %q", got)
	}
	if num := sendIssue("Codertocat/Hello-World"); announced("Codertocat/Hello-World", num) {
		t.Error("a refused subscribe still subscribed the room")
	}
	for text, want := range map[string]string{
		"!gh subscribe Codertocat/Hello-World isues":      `did you mean "issues"?`,
		"!gh subscribe Codertocat/Hello-World bots:maybe": "bots:show, bots:digest or bots:hide",
		"!gh subscribe nobody/nothing-here":               "GitHub has no repository nobody/nothing-here",
		"!gh subscribe not-a-repo":                        "is not a repository",
		"!gh unsubscribe someone/else":                    "does not receive someone/else",
		"!gh subscirbe Codertocat/Hello-World":            "did you mean `!gh subscribe`?",
	} {
		if got := say(s.human, text); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want it to say %q", text, got, want)
		}
	}
	got := say(s.human, `!gh subscribe Codertocat/Hello-World issues -label:"wont fix"`)
	if !strings.Contains(got, s.human.UserID.String()+" subscribed this room to issues of codertocat/hello-world") || !strings.Contains(got, "not labels wont fix") {
		t.Errorf("subscribe answer: %q", got)
	}
	if num := sendIssue("Codertocat/Hello-World"); !announced("Codertocat/Hello-World", num) {
		t.Error("a webhook for the newly subscribed repository was not relayed")
	}
	if got := say(s.human, "!gh unsubscribe osbuild/images"); !strings.Contains(got, "muted osbuild/images") {
		t.Errorf("muting a config subscription: %q", got)
	}
	list := say(bob, "!gh subscriptions")
	for _, want := range []string{"issues of osbuild/*; bot PRs: digest; drafts: hide (from the config)", "muted here: osbuild/images, by " + s.human.UserID.String(),
		"issues of codertocat/hello-world", "(added by " + s.human.UserID.String()} {
		if !strings.Contains(list, want) {
			t.Errorf("!gh subscriptions lacks %q:\n%s", want, list)
		}
	}

	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	startBot(t, cfg)
	if num := sendIssue("Codertocat/Hello-World"); !announced("Codertocat/Hello-World", num) {
		t.Error("the room's subscription did not survive a restart")
	}
	if num := sendIssue("osbuild/images"); announced("osbuild/images", num) {
		t.Error("the muted config subscription came back after a restart")
	}
	if num := sendIssue("osbuild/osbuild"); !announced("osbuild/osbuild", num) {
		t.Error("muting one repository muted the rest of the config's osbuild/* too")
	}
	if got := say(s.human, "!gh unsubscribe Codertocat/Hello-World"); !strings.Contains(got, "unsubscribed this room from codertocat/hello-world") {
		t.Errorf("unsubscribe: %q", got)
	}
	if num := sendIssue("Codertocat/Hello-World"); announced("Codertocat/Hello-World", num) {
		t.Error("an unsubscribed repository was still relayed")
	}
}
