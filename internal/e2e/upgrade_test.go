package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// upgrade asks Dendrite to upgrade room to room version 10, as a room
// admin does from Element (/upgraderoom), and returns the replacement.
func upgrade(t *testing.T, u *testenv.User, room id.RoomID) id.RoomID {
	t.Helper()
	var resp struct {
		ReplacementRoom id.RoomID `json:"replacement_room"`
	}
	url := u.BuildClientURL("v3", "rooms", room, "upgrade")
	if _, err := u.MakeRequest(context.Background(), "POST", url, map[string]string{"new_version": "10"}, &resp); err != nil {
		t.Fatalf("upgrading %s: %v", room, err)
	}
	return resp.ReplacementRoom
}

func setJoinRule(t *testing.T, u *testenv.User, room id.RoomID, rule event.JoinRule) {
	t.Helper()
	if _, err := u.SendStateEvent(context.Background(), room, event.StateJoinRules, "", &event.JoinRulesEventContent{JoinRule: rule}); err != nil {
		t.Fatal(err)
	}
}

// TestRoomUpgradeIsFollowed: a room the config names by id (for commands)
// and by alias (for a GitHub subscription) is upgraded while the bot
// serves it. The bot joins the replacement; the config's and the room's
// own (chat-made) subscriptions are announced there; !ping and !gh
// subscriptions answer there; after a restart with the unchanged config it
// all still goes to the replacement.
func TestRoomUpgradeIsFollowed(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	setJoinRule(t, s.human, s.room, event.JoinRulePublic)
	alias := id.NewRoomAlias("image-builder", "localhost")
	if _, err := s.human.CreateAlias(ctx, alias, s.room); err != nil {
		t.Fatal(err)
	}
	cfg := s.config(s.hs.URL)
	hook := withWebhook(t, cfg)
	cfg.GitHub.AllowedRepos = []string{"codertocat/*", "osbuild/*"}
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{alias.String()}, Repos: []string{"Codertocat/Hello-World"},
		Events: []config.Event{config.EventIssues}}}
	first := startBot(t, cfg)

	ask := func(room id.RoomID, text string) string {
		t.Helper()
		cmd := s.human.MustSay(t, room, text)
		return testenv.Body(s.human.MustWait(t, wait, "the answer to "+text+" in "+room.String(), testenv.ReplyTo(cmd)))
	}
	if got := ask(s.room, "!gh subscribe osbuild/images issues"); !strings.Contains(got, "subscribed this room") {
		t.Fatalf("subscribing in chat: %q", got)
	}
	n := 5000
	announce := func(repo string) string {
		t.Helper()
		n++
		body := testenv.InRepo(delivery(t, "issues.opened.payload.json", numbered(n, fmt.Sprintf("item %d", n))), repo)
		postDelivery(t, hook, "issues", fmt.Sprintf("up-%d", n), body, sign(body))
		return fmt.Sprintf("%s#%d", repo, n)
	}
	inRoom := func(room id.RoomID, ref string) func(*event.Event) bool {
		return func(e *event.Event) bool { return e.RoomID == room && aboutItem(ref)(e) }
	}
	before := announce("Codertocat/Hello-World")
	s.human.MustWait(t, wait, before+" before the upgrade", inRoom(s.room, before))

	replacement := upgrade(t, s.human, s.room)
	s.human.MustWait(t, wait, "the bot in the replacement", isJoinOf(s.botUser.UserID, replacement))
	for _, repo := range []string{"Codertocat/Hello-World", "osbuild/images"} {
		ref := announce(repo)
		s.human.MustWait(t, wait, ref+" in the replacement", inRoom(replacement, ref))
	}
	if got := ask(replacement, "!ping"); !strings.Contains(got, "pong") {
		t.Errorf("!ping in the replacement: %q", got)
	}
	// The item announced in the old room changes: its message there cannot
	// be edited from here, so the change comes as a fresh message linking
	// back, and the item's later changes edit that one and thread under it.
	closed := delivery(t, "issues.opened.payload.json", func(o map[string]any) {
		numbered(5001, "item 5001")(o)
		o["state"], o["closed_at"] = "closed", time.Now().UTC().Format(time.RFC3339)
	})
	postDelivery(t, hook, "issues", "up-close-5001", closed, sign(closed))
	fresh := s.human.MustWait(t, wait, "the closed item carried over", func(e *event.Event) bool {
		return inRoom(replacement, before)(e) && e.Content.AsMessage().RelatesTo == nil &&
			strings.Contains(testenv.Body(e), "continues https://matrix.to/#/") && strings.Contains(testenv.Body(e), "before its upgrade")
	})
	s.human.MustWait(t, wait, "the close's line in the fresh message's thread", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return e.RoomID == replacement && rel != nil && rel.GetThreadParent() == fresh.ID
	})
	reopened := delivery(t, "issues.reopened.payload.json", numbered(5001, "item 5001"))
	postDelivery(t, hook, "issues", "up-reopen-5001", reopened, sign(reopened))
	s.human.MustWait(t, wait, "the reopening edits the fresh message", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return e.RoomID == replacement && rel != nil && rel.GetReplaceID() == fresh.ID
	})

	if got := ask(replacement, "!gh subscriptions"); !strings.Contains(got, "issues of osbuild/images") || !strings.Contains(got, "issues of Codertocat/Hello-World") {
		t.Errorf("!gh subscriptions in the replacement lacks the room's own or the config's subscription:\n%s", got)
	}

	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	startBot(t, cfg)
	for _, repo := range []string{"Codertocat/Hello-World", "osbuild/images"} {
		ref := announce(repo)
		s.human.MustWait(t, wait, ref+" in the replacement after a restart", inRoom(replacement, ref))
	}
	if got := ask(replacement, "!ping"); !strings.Contains(got, "pong") {
		t.Errorf("!ping in the replacement after a restart: %q", got)
	}
	s.settle(t)
	if n := s.human.Count(func(e *event.Event) bool {
		return e.RoomID == s.room && e.Sender == s.botUser.UserID && e.Type == event.EventMessage
	}); n != 2 {
		t.Errorf("the bot sent %d messages into the old room, want the 2 from before the upgrade (an answer, an announcement)", n)
	}
}

// TestUpgradeTheBotMayNotJoin: the replacement of an invite-only room
// refuses the bot; !status in another room names it and says to invite
// the bot; once invited (by anyone: it replaces a room the bot served),
// the bot joins and announcements go there.
func TestUpgradeTheBotMayNotJoin(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	admin, err := s.human.CreateRoom(ctx, "admin", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.config(s.hs.URL)
	cfg.Matrix.Rooms = append(cfg.Matrix.Rooms, admin.String())
	hook := withWebhook(t, cfg)
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"Codertocat/Hello-World"},
		Events: []config.Event{config.EventIssues}}}
	setJoinRule(t, s.human, s.room, event.JoinRuleInvite)
	startBot(t, cfg)

	replacement := upgrade(t, s.human, s.room)
	var got string
	for range 20 {
		cmd := s.human.MustSay(t, admin, "!status")
		got = testenv.Body(s.human.MustWait(t, wait, "!status", testenv.ReplyTo(cmd)))
		if strings.Contains(got, replacement.String()) {
			break
		}
	}
	if !strings.Contains(got, replacement.String()+" (the replacement of "+s.room.String()+") refuses the bot") || !strings.Contains(got, "invite the bot there") {
		t.Fatalf("!status does not name the replacement the bot may not join:\n%s", got)
	}
	body := delivery(t, "issues.opened.payload.json", numbered(6001, "while not yet invited"))
	postDelivery(t, hook, "issues", "inv-6001", body, sign(body))

	if _, err := s.human.InviteUser(ctx, replacement, &mautrix.ReqInviteUser{UserID: s.botUser.UserID}); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the bot joining once invited", isJoinOf(s.botUser.UserID, replacement))
	s.human.MustWait(t, wait, "the waiting announcement in the replacement", func(e *event.Event) bool {
		return e.RoomID == replacement && aboutItem("Codertocat/Hello-World#6001")(e)
	})
}
